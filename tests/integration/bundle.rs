//! Support bundles end to end: `collect` on fixture hosts and a real containerd, `check
//! --bundle` giving the same verdicts offline, redaction proven on the archive's bytes, fleets,
//! and hostile archives refused with a clear error.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use node_preflight::bundle::reader::{self, Limits};
use sha2::{Digest, Sha256};

use crate::cri::{containerd_or_skip, run_guarded, short_tempdir};
use crate::util::{
    assert_valid_junit, assert_valid_report_json, fixture, json_report, node_preflight,
    project_root, HostBuilder,
};

/// Runs `collect -o OUT ARGS`, asserting it worked (and said nothing: stderr is no terminal).
fn collect(out: &Path, args: &[&str]) {
    let mut all = vec!["collect", "-o", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let run = node_preflight(&all);
    assert_eq!(run.code, 0, "collect failed: {}", run.stderr);
    assert_eq!(
        run.stderr, "",
        "collect is quiet when stderr is not a terminal"
    );
    assert!(out.is_file());
}

/// A report with what legitimately differs between two runs taken out: durations and
/// `host.source`.
fn comparable(mut report: serde_json::Value) -> serde_json::Value {
    report["host"]["source"] = serde_json::Value::Null;
    for c in report["checks"].as_array_mut().unwrap() {
        c["duration"] = serde_json::Value::Null;
    }
    report
}

fn statuses(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The entries of a .tar.gz, read with the tar crate (trusted: written by the test's collect).
pub(crate) fn entries_of(path: &Path) -> Vec<(String, Vec<u8>)> {
    let file = fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (name, bytes)
        })
        .collect()
}

fn manifest_of(path: &Path) -> serde_json::Value {
    let entries = entries_of(path);
    let (_, bytes) = entries.iter().find(|(n, _)| n == "manifest.json").unwrap();
    serde_json::from_slice(bytes).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The same verdicts offline.

#[test]
fn every_fixture_host_gives_the_same_report_from_its_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let hosts: Vec<String> = fs::read_dir(project_root().join("testdata/hosts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(hosts.len() >= 10, "{hosts:?}");
    for name in hosts {
        let root = fixture(&name);
        let bundle = dir.path().join(format!("{name}.tar.gz"));
        collect(&bundle, &["--root", &root]);
        let (live_run, live) = json_report(&["--root", &root]);
        let (bundle_run, offline) = json_report(&["--bundle", bundle.to_str().unwrap()]);
        assert_eq!(live_run.code, bundle_run.code, "{name}: exit codes differ");
        assert_eq!(live["host"]["source"], format!("root {root}"));
        assert_eq!(
            offline["host"]["source"],
            format!("bundle {}", bundle.display())
        );
        assert_eq!(
            statuses(&live),
            statuses(&offline),
            "{name}: statuses or messages differ"
        );
        assert_eq!(
            comparable(live),
            comparable(offline),
            "{name}: reports differ"
        );
    }
}

#[test]
fn the_manifest_describes_the_run_and_hashes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("node.tar.gz");
    let root = fixture("sysctl-shadowed");
    collect(
        &bundle,
        &[
            "--root",
            &root,
            "--only",
            "sysctl.*",
            "--kubernetes-version",
            "1.33",
            "--role",
            "control-plane",
        ],
    );
    let m = manifest_of(&bundle);
    assert_eq!(m["format"], "node-preflight/bundle/v1");
    assert_eq!(m["tool"]["name"], "node-preflight");
    assert_eq!(m["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["source"], format!("root {root}"));
    assert_eq!(m["target"]["kubernetes_version"], "1.33");
    assert_eq!(m["target"]["role"], "control-plane");
    assert_eq!(m["command_line"][1], "collect");
    let created = m["created"].as_str().unwrap();
    assert_eq!(created.len(), 20, "{created}");
    assert!(
        created.ends_with('Z') && created.as_bytes()[10] == b'T',
        "{created}"
    );
    let checks: Vec<&str> = m["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(!checks.is_empty() && checks.iter().all(|c| c.starts_with("sysctl.")));
    // Every entry but the manifest is listed with its real size and hash, and vice versa.
    let entries = entries_of(&bundle);
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), entries.len() - 1);
    for (name, bytes) in entries.iter().filter(|(n, _)| n != "manifest.json") {
        let f = files.iter().find(|f| f["entry"] == name.as_str()).unwrap();
        assert_eq!(f["size"], bytes.len());
        let hex: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"], hex);
    }
    // The files under their own paths; the sysctl drop-in that wins is there.
    assert!(entries
        .iter()
        .any(|(n, _)| n.starts_with("root/etc/sysctl.d/")));
    // Failed reads are recorded as such.
    let accesses = m["accesses"].as_array().unwrap();
    assert!(accesses
        .iter()
        .any(|a| a["op"] == "read" && a["error"]["reason"] == "not_found"));
    assert!(accesses.iter().any(|a| a["op"] == "list"));

    // Checking the bundle takes the target and the selection from the manifest.
    let (_, report) = json_report(&["--bundle", bundle.to_str().unwrap()]);
    assert_eq!(report["target"]["role"], "control-plane");
    assert_eq!(report["target"]["kubernetes_version"], "1.33");
    assert_eq!(report["checks"].as_array().unwrap().len(), checks.len());
    assert_valid_report_json(&serde_json::to_string(&report).unwrap());
    // A check the bundle holds no evidence for is an error that says so, never a guess.
    let (_, report) = json_report(&[
        "--bundle",
        bundle.to_str().unwrap(),
        "--only",
        "cri.endpoint.found",
    ]);
    let c = crate::util::check_of(&report, "cri.endpoint.found");
    assert_eq!(c["status"], "error", "{c}");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("not collected in this bundle"),
        "{c}"
    );
}

// ---------------------------------------------------------------------------------------------
// Redaction.

const SECRETS: &[&str] = &[
    "hunter2-SECRET-pw",
    "YWxpY2U6aHVudGVyMg-SECRET",
    "bob-SECRET-user",
    "idtoken-SECRET-xyz",
];

#[test]
fn registry_credentials_never_reach_any_byte_of_the_bundle() {
    let host = HostBuilder::from_fixture("containerd-good")
        .file(
            "/etc/containerd/config.toml",
            format!(
                "imports = [\"/etc/containerd/conf.d/*.toml\"]\n{}\n\
                 [plugins.'io.containerd.cri.v1.images'.registry.configs.'gcr.io'.auth]\n  \
                 username = \"alice\"\n  password = \"{}\"\n  auth = \"{}\"\n",
                fs::read_to_string(
                    project_root()
                        .join(fixture("containerd-good"))
                        .join("etc/containerd/config.toml")
                )
                .unwrap(),
                SECRETS[0],
                SECRETS[1]
            ),
        )
        .file(
            "/etc/containerd/conf.d/registry.toml",
            format!(
                "version = 3\n[plugins.'io.containerd.cri.v1.images'.registry.configs.'r.example'.auth]\n\
                 username = \"{}\"\nidentitytoken = \"{}\"\n",
                SECRETS[2], SECRETS[3]
            ),
        );
    let root = host.root_arg();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("node.tar.gz");
    collect(&bundle, &["--root", &root]);

    let compressed = fs::read(&bundle).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut raw)
        .unwrap();
    for secret in SECRETS {
        for (what, bytes) in [("the raw tar", &raw), ("the .tar.gz", &compressed)] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is in {what}"
            );
        }
    }
    // Both files are in the bundle, redacted, and still parse as TOML.
    let entries = entries_of(&bundle);
    for file in [
        "root/etc/containerd/config.toml",
        "root/etc/containerd/conf.d/registry.toml",
    ] {
        let (_, bytes) = entries
            .iter()
            .find(|(n, _)| n == file)
            .unwrap_or_else(|| panic!("{file} is not in the bundle"));
        let text = std::str::from_utf8(bytes).unwrap();
        assert!(text.contains("\"REDACTED\""), "{text}");
        toml::from_str::<toml::Table>(text).unwrap();
    }
    // The manifest lists each redaction by file and key path, never the value.
    let m = manifest_of(&bundle);
    let redactions: Vec<(String, String)> = m["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(redactions.contains(&(
        "/etc/containerd/config.toml".into(),
        "plugins.\"io.containerd.cri.v1.images\".registry.configs.\"gcr.io\".auth.password".into()
    )));
    assert!(redactions.contains(&(
        "/etc/containerd/conf.d/registry.toml".into(),
        "plugins.\"io.containerd.cri.v1.images\".registry.configs.\"r.example\".auth.identitytoken"
            .into()
    )));
    assert_eq!(redactions.len(), 5, "{redactions:?}");
    // And the verdicts are those of the host itself.
    let (_, live) = json_report(&["--root", &root]);
    let (_, offline) = json_report(&["--bundle", bundle.to_str().unwrap()]);
    assert_eq!(statuses(&live), statuses(&offline));
}

// ---------------------------------------------------------------------------------------------
// A real containerd, probed at collect time and replayed after it is gone.

#[test]
fn cri_probes_replay_after_the_runtime_is_gone() {
    let Some(ctd) = containerd_or_skip(None) else {
        return;
    };
    let socket = format!("unix://{}", ctd.socket());
    let dir = short_tempdir();
    let bundle = dir.path().join("cri.tar.gz");
    let args = ["--cri-socket", socket.as_str(), "--only", "cri.*"];
    let live = run_guarded(&[&["check", "-o", "json"][..], &args[..]].concat());
    let mut collect_args = vec!["collect", "-o", bundle.to_str().unwrap()];
    collect_args.extend_from_slice(&args);
    let run = run_guarded(&collect_args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    drop(ctd);
    let offline = run_guarded(&["check", "-o", "json", "--bundle", bundle.to_str().unwrap()]);
    let live: serde_json::Value = serde_json::from_str(&live.stdout).unwrap();
    let offline: serde_json::Value = serde_json::from_str(&offline.stdout).unwrap();
    assert_eq!(
        crate::util::status_of(&live, "cri.api.v1"),
        "pass",
        "the live run saw containerd"
    );
    assert_eq!(statuses(&live), statuses(&offline));
    // The transcript is in the bundle as data.
    let entries = entries_of(&bundle);
    let (_, t) = entries
        .iter()
        .find(|(n, _)| n == "probes/cri-1.json")
        .unwrap();
    let t: serde_json::Value = serde_json::from_slice(t).unwrap();
    assert_eq!(
        t["version"]["answered"]["runtime_name"], "containerd",
        "{t}"
    );
    // The socket really is gone: a live check now fails where the bundle passed.
    let now = run_guarded(&[&["check", "-o", "json"][..], &args[..]].concat());
    let now: serde_json::Value = serde_json::from_str(&now.stdout).unwrap();
    assert_ne!(crate::util::status_of(&now, "cri.api.v1"), "pass");
}

// ---------------------------------------------------------------------------------------------
// Fleets.

#[test]
fn several_bundles_are_a_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let mut bundles: Vec<String> = Vec::new();
    for name in ["healthy-v2-systemd", "swap-on", "crio-good"] {
        let b = dir.path().join(format!("{name}.tar.gz"));
        collect(
            &b,
            &[
                "--root",
                &fixture(name),
                "--skip",
                crate::util::SOCKET_CHECKS,
            ],
        );
        bundles.push(b.display().to_string());
    }
    let garbage = dir.path().join("garbage.tar.gz");
    fs::write(&garbage, "not a bundle").unwrap();

    let mut args = vec![
        "check".to_string(),
        "-o".into(),
        "json".into(),
        "--bundle".into(),
    ];
    args.extend(bundles.iter().cloned());
    let run = node_preflight(&args);
    let fleet: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(fleet["schema"], "node-preflight/fleet/v1");
    assert_eq!(fleet["summary"]["nodes"], 3);
    let nodes = fleet["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["bundle"], bundles[0].as_str());
    // Each node's report is the one its host gives.
    for (i, name) in ["healthy-v2-systemd", "swap-on", "crio-good"]
        .iter()
        .enumerate()
    {
        let (_, direct) = json_report(&[
            "--root",
            &fixture(name),
            "--skip",
            crate::util::SOCKET_CHECKS,
        ]);
        assert_eq!(statuses(&nodes[i]["report"]), statuses(&direct), "{name}");
        assert_valid_report_json(&serde_json::to_string(&nodes[i]["report"]).unwrap());
    }
    let swap = &nodes[1]["report"];
    assert_ne!(crate::util::status_of(swap, "node.swap"), "pass");
    assert_eq!(run.code, 1, "a node is not ready");

    // An unreadable bundle is a node with an error, and the fleet's exit code is 1.
    let mut args = vec![
        "check".to_string(),
        "-o".into(),
        "junit".into(),
        "--bundle".into(),
    ];
    args.extend(bundles.iter().cloned());
    args.push(garbage.display().to_string());
    let run = node_preflight(&args);
    assert_eq!(run.code, 1);
    assert_valid_junit(&run.stdout);
    assert!(run.stdout.contains("not a gzip file"), "{}", run.stdout);
    let mut args = vec!["check".to_string(), "--bundle".into()];
    args.extend(bundles.iter().cloned());
    args.push(garbage.display().to_string());
    let table = node_preflight(&args);
    assert!(
        table.stdout.contains("UNREADABLE: not a gzip file"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("Fleet: 4 nodes"), "{}", table.stdout);
}

#[test]
fn bundle_conflicts_with_root_and_the_probe_options() {
    for extra in [
        &["--root", "/"][..],
        &["--cri-socket", "/x.sock"],
        &["--role", "worker"],
    ] {
        let mut args = vec!["check", "--bundle", "x.tar.gz"];
        args.extend_from_slice(extra);
        let run = node_preflight(&args);
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile bundles.

/// A tar stream written header by header, so that names tar::Builder refuses (`..`,
/// absolute paths) and entry types it would follow can be planted.
#[derive(Default)]
pub(crate) struct RawTar(Vec<u8>);

impl RawTar {
    fn raw(mut self, name: &[u8], kind: tar::EntryType, link: &[u8], data: &[u8]) -> Self {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        h.set_entry_type(kind);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub(crate) fn file(self, name: &str, data: &[u8]) -> Self {
        self.raw(name.as_bytes(), tar::EntryType::Regular, b"", data)
    }

    pub(crate) fn files(mut self, entries: &[(String, Vec<u8>)]) -> Self {
        for (n, d) in entries {
            self = self.file(n, d);
        }
        self
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.0.extend([0u8; 1024]);
        self.0
    }
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A real bundle's entries, to build damaged copies from.
pub(crate) fn good_entries() -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("good.tar.gz");
    collect(&b, &["--root", &fixture("containerd-good")]);
    entries_of(&b)
}

pub(crate) fn with_manifest(
    entries: &[(String, Vec<u8>)],
    edit: impl Fn(&mut serde_json::Value),
) -> Vec<(String, Vec<u8>)> {
    entries
        .iter()
        .map(|(n, d)| {
            if n == "manifest.json" {
                let mut m: serde_json::Value = serde_json::from_slice(d).unwrap();
                edit(&mut m);
                (n.clone(), serde_json::to_vec(&m).unwrap())
            } else {
                (n.clone(), d.clone())
            }
        })
        .collect()
}

/// The bundle is refused by the library with `needle` in the message, and by the binary with
/// exit code 2, the same message, and no panic.
fn assert_refused(gz: &[u8], needle: &str) {
    let err = reader::read(gz, Limits::default())
        .err()
        .unwrap_or_else(|| panic!("accepted, expected {needle:?}"));
    assert!(err.to_string().contains(needle), "{err} lacks {needle:?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.tar.gz");
    fs::write(&path, gz).unwrap();
    let run = node_preflight(&["check", "--bundle", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stderr.contains(needle),
        "{} lacks {needle:?}",
        run.stderr
    );
    assert!(run.stderr.contains("hostile.tar.gz"), "{}", run.stderr);
}

#[test]
fn entries_that_leave_the_bundle_are_refused_and_never_written() {
    let escape = format!("np-bundle-escape-{}", std::process::id());
    let abs = format!("/tmp/np-bundle-abs-{}", std::process::id());
    let good = good_entries();
    let dotdot = RawTar::default()
        .files(&good)
        .file(&format!("root/../../{escape}"), b"x")
        .finish();
    assert_refused(&gzip(&dotdot), "leaves its directory");
    let absolute = RawTar::default().files(&good).file(&abs, b"x").finish();
    assert_refused(&gzip(&absolute), "absolute path");
    let symlink = RawTar::default()
        .files(&good)
        .raw(
            b"root/etc/passwd",
            tar::EntryType::Symlink,
            b"/etc/passwd",
            b"",
        )
        .finish();
    assert_refused(&gzip(&symlink), "is a symbolic link to \"/etc/passwd\"");
    let hardlink = RawTar::default()
        .files(&good)
        .raw(b"root/x", tar::EntryType::Link, b"../../etc/shadow", b"")
        .finish();
    assert_refused(&gzip(&hardlink), "is a hard link to \"../../etc/shadow\"");
    // Nothing was written, anywhere the names point.
    assert!(!project_root().join("..").join("..").join(&escape).exists());
    assert!(!Path::new(&abs).exists());
}

#[test]
fn special_files_and_duplicates_are_refused() {
    let good = good_entries();
    for (kind, what) in [
        (tar::EntryType::Char, "a device file"),
        (tar::EntryType::Block, "a device file"),
        (tar::EntryType::Fifo, "a FIFO"),
    ] {
        let t = RawTar::default()
            .files(&good)
            .raw(b"root/dev/x", kind, b"", b"")
            .finish();
        assert_refused(&gzip(&t), what);
    }
    let dup = RawTar::default()
        .files(&good)
        .file(&good[1].0, &good[1].1)
        .finish();
    assert_refused(&gzip(&dup), "appears twice");
}

#[test]
fn sizes_and_counts_are_bounded_while_streaming() {
    let good = good_entries();
    // One file over the per-file bound (the header is honest here; the next test lies).
    let big = vec![0u8; 17 * 1024 * 1024];
    let t = RawTar::default()
        .files(&good)
        .file("root/big", &big)
        .finish();
    assert_refused(
        &gzip(&t),
        "larger than 16777216 bytes, the bound on one file",
    );

    // The whole stream over the bound, and too many entries, with small limits.
    let t = gzip(
        &RawTar::default()
            .files(&good)
            .file("root/a", &[7u8; 40_000])
            .file("root/b", &[7u8; 40_000])
            .finish(),
    );
    let limits = Limits {
        total: 64 * 1024,
        ..Limits::default()
    };
    let err = reader::read(&t[..], limits).unwrap_err().to_string();
    assert!(
        err.contains("decompresses to more than 65536 bytes"),
        "{err}"
    );
    let limits = Limits {
        entries: 2,
        ..Limits::default()
    };
    let err = reader::read(&t[..], limits).unwrap_err().to_string();
    assert!(err.contains("more than 2 entries"), "{err}");
}

#[test]
fn a_header_that_lies_about_its_size_does_not_get_past_the_bound() {
    // The header says 10 bytes; the stream holds far more after it. Bytes are counted as
    // they come: the extra data is read as (bad) headers and refused, never trusted.
    let mut t = RawTar::default().file("root/a", b"0123456789").0;
    t.extend(vec![b'A'; 70_000]);
    let limits = Limits {
        total: 64 * 1024,
        ..Limits::default()
    };
    let err = reader::read(&gzip(&t)[..], limits).unwrap_err().to_string();
    assert!(
        err.contains("corrupt") || err.contains("more than 65536"),
        "{err}"
    );
}

#[test]
fn damaged_or_foreign_input_is_refused() {
    let good = good_entries();
    let whole = gzip(&RawTar::default().files(&good).finish());
    assert!(reader::read(&whole[..], Limits::default()).is_ok());
    assert_refused(&whole[..whole.len() / 2], "truncated");
    assert_refused(b"PK\x03\x04 a zip file", "not a gzip file");
    assert_refused(b"", "not a gzip file");
    let no_manifest: Vec<_> = good
        .iter()
        .filter(|(n, _)| n != "manifest.json")
        .cloned()
        .collect();
    assert_refused(
        &gzip(&RawTar::default().files(&no_manifest).finish()),
        "no manifest.json",
    );
    let broken = with_manifest(&good, |_| {});
    let broken: Vec<_> = broken
        .into_iter()
        .map(|(n, d)| {
            if n == "manifest.json" {
                (n, d[..d.len() / 2].to_vec())
            } else {
                (n, d)
            }
        })
        .collect();
    assert_refused(
        &gzip(&RawTar::default().files(&broken).finish()),
        "not valid JSON",
    );
    let future = with_manifest(&good, |m| m["format"] = "node-preflight/bundle/v9".into());
    assert_refused(
        &gzip(&RawTar::default().files(&future).finish()),
        "unknown bundle format \"node-preflight/bundle/v9\"",
    );
    let malformed = with_manifest(&good, |m| m["accesses"] = "everything".into());
    assert_refused(
        &gzip(&RawTar::default().files(&malformed).finish()),
        "malformed",
    );
    let tampered: Vec<_> = good
        .iter()
        .map(|(n, d)| {
            if n.starts_with("root/") {
                (n.clone(), [d.as_slice(), b"\nextra"].concat())
            } else {
                (n.clone(), d.clone())
            }
        })
        .collect();
    assert_refused(
        &gzip(&RawTar::default().files(&tampered).finish()),
        "bytes, manifest.json says",
    );
    let same_size: Vec<_> = good
        .iter()
        .map(|(n, d)| {
            if n.starts_with("root/") {
                let mut d = d.clone();
                d[0] ^= 0x20;
                (n.clone(), d)
            } else {
                (n.clone(), d.clone())
            }
        })
        .collect();
    assert_refused(
        &gzip(&RawTar::default().files(&same_size).finish()),
        "does not match its SHA-256",
    );
    let unlisted = RawTar::default()
        .files(&good)
        .file("root/extra", b"x")
        .finish();
    assert_refused(&gzip(&unlisted), "is not listed in manifest.json");
}

// ---------------------------------------------------------------------------------------------
// Audit of issue #4: progress, every runtime's credentials, the fleet's formats, manifests that
// lie.

#[test]
fn collect_shows_progress_on_a_terminal_only() {
    // `script` (util-linux) gives the command a pseudo-terminal.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("tty.tar.gz");
    let command = format!(
        "{} collect -o {} --root {} --only 'sysctl.*'",
        env!("CARGO_BIN_EXE_node-preflight"),
        bundle.display(),
        fixture("sysctl-shadowed")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(project_root())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script(1) runs: install Debian's bsdutils");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("Collecting what 6 checks read from root testdata/hosts/sysctl-shadowed"),
        "{said}"
    );
    assert!(
        said.contains(&format!("Wrote {}: ", bundle.display())) && said.contains(" redactions, "),
        "{said}"
    );
    assert!(bundle.is_file());
    // Without a terminal: nothing (`collect` asserts it).
    collect(
        &dir.path().join("quiet.tar.gz"),
        &["--root", &fixture("sysctl-shadowed")],
    );
}

#[test]
fn credentials_of_every_runtime_never_reach_the_bundle() {
    // Where Docker, CRI-O, containerd and the kubelet's units keep credentials: the files the
    // checks read are redacted; the credential stores they do not read stay out entirely.
    let secrets = [
        "docker-proxy-pw-S1",
        "cri-docker-env-S2",
        "kubelet-env-token-S3",
        "crio-commented-S4",
        "crio-authjson-S5",
        "docker-config-auth-S6",
        "containerd-hosts-token-S7",
    ];
    let host = HostBuilder::from_fixture("docker-bad")
        .file(
            "/etc/docker/daemon.json",
            format!(
                "{{\n  \"proxies\": {{ \"https-proxy\": \"http://ops:{}@proxy.example:3128\" }},\n  \"exec-opts\": [\"native.cgroupdriver=cgroupfs\"]\n}}\n",
                secrets[0]
            ),
        )
        .corpus_file("/usr/lib/systemd/system/cri-docker.service", "docker/cri-docker.service")
        .file(
            "/etc/systemd/system/cri-docker.service.d/proxy.conf",
            format!("[Service]\nEnvironment=\"HTTPS_PROXY=https://svc:{}@proxy:8443\"\n", secrets[1]),
        )
        .file(
            "/etc/systemd/system/kubelet.service.d/20-proxy.conf",
            format!("[Service]\nEnvironment=\"HTTPS_PROXY=http://{}@proxy:3128\"\n", secrets[2]),
        )
        .file(
            "/etc/crio/crio.conf.d/10-registry.conf",
            format!("[crio.image]\nglobal_auth_file = \"/etc/containers/auth.json\"\n# password = \"{}\"\n", secrets[3]),
        )
        .file(
            "/etc/containers/auth.json",
            format!("{{\"auths\": {{\"r.example\": {{\"auth\": \"{}\"}}}}}}\n", secrets[4]),
        )
        .file(
            "/root/.docker/config.json",
            format!("{{\"auths\": {{\"https://index.docker.io/v1/\": {{\"auth\": \"{}\"}}}}}}\n", secrets[5]),
        )
        .file(
            "/etc/containerd/certs.d/r.example/hosts.toml",
            format!("[host.\"https://r.example\".header]\n  Authorization = \"Bearer {}\"\n", secrets[6]),
        );
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("node.tar.gz");
    collect(&bundle, &["--root", &host.root_arg()]);
    let compressed = fs::read(&bundle).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut raw)
        .unwrap();
    for secret in secrets {
        for (what, bytes) in [("the raw tar", &raw), ("the .tar.gz", &compressed)] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} is in {what}"
            );
        }
    }
    let m = manifest_of(&bundle);
    let redacted: Vec<String> = m["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{} {}",
                r["file"].as_str().unwrap(),
                r["line"],
                r["key"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "/etc/docker/daemon.json:2 credentials in a URL (user:password@)",
        "/etc/systemd/system/cri-docker.service.d/proxy.conf:2 credentials in a URL (user:password@)",
        "/etc/crio/crio.conf.d/10-registry.conf:3 password (found outside the file's structure)",
    ] {
        assert!(redacted.iter().any(|r| r == expected), "{expected} not in {redacted:?}");
    }
    // The credential stores no check reads are not in the bundle at all (nor, on this host
    // without a kubelet, the kubelet's drop-in).
    let names: Vec<String> = entries_of(&bundle).into_iter().map(|(n, _)| n).collect();
    for store in [
        "root/etc/containers/auth.json",
        "root/root/.docker/config.json",
        "root/etc/containerd/certs.d/r.example/hosts.toml",
    ] {
        assert!(
            !names.iter().any(|n| n == store),
            "{store} is in the bundle"
        );
    }
    // The verdicts are still those of the host.
    let (_, live) = json_report(&["--root", &host.root_arg()]);
    let (_, offline) = json_report(&["--bundle", bundle.to_str().unwrap()]);
    assert_eq!(statuses(&live), statuses(&offline));
}

#[test]
fn a_fleet_in_every_format_has_each_node_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["check".into(), "--bundle".into()];
    for name in ["healthy-v2-systemd", "sysctl-shadowed", "docker-bad"] {
        let b = dir.path().join(format!("{name}.tar.gz"));
        collect(
            &b,
            &[
                "--root",
                &fixture(name),
                "--skip",
                crate::util::SOCKET_CHECKS,
            ],
        );
        args.push(b.display().to_string());
    }
    let garbage = dir.path().join("garbage.tar.gz");
    fs::write(&garbage, "not a bundle").unwrap();
    args.push(garbage.display().to_string());
    let with = |format: &str| {
        let mut a = args.clone();
        a.extend(["-o".to_string(), format.to_string()]);
        let run = node_preflight(&a);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        run.stdout
    };
    let json: serde_json::Value = serde_json::from_str(&with("json")).unwrap();
    let s = &json["summary"];
    assert_eq!(
        (
            &s["nodes"],
            &s["ready"],
            &s["not_ready"],
            &s["unreadable"],
            &s["exit_code"]
        ),
        (&4.into(), &1.into(), &2.into(), &1.into(), &1.into()),
        "{s}"
    );
    let failing: Vec<&str> = s["failing_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        failing.contains(&"sysctl.ip-forward.persistent")
            && failing.contains(&"docker.cgroup-driver"),
        "{failing:?}"
    );
    let nodes = json["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    assert!(nodes[3]["error"]
        .as_str()
        .unwrap()
        .contains("not a gzip file"));
    assert!(nodes[..3]
        .iter()
        .all(|n| n["report"]["schema"] == "node-preflight/report/v1"));

    let junit = with("junit");
    assert_valid_junit(&junit);
    // One testsuite per node (and one for the unreadable bundle).
    assert_eq!(junit.matches("<testsuite ").count(), 4, "{junit}");

    let markdown = with("markdown");
    assert!(
        markdown.starts_with("# node-preflight: 4 nodes — 1 ready, 2 not ready, 1 unreadable\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| `docker.cgroup-driver` | 1 |"),
        "{markdown}"
    );

    let table = with("table");
    assert!(
        table.contains("docker.cgroup-driver")
            && table.contains("Fleet: 4 nodes, 1 ready, 2 not ready, 1 unreadable"),
        "{table}"
    );
}

#[test]
fn manifests_that_lie_about_their_answers_are_refused_clearly() {
    let good = good_entries();
    let refused = |entries: Vec<(String, Vec<u8>)>, needle: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lying.tar.gz");
        fs::write(&path, gzip(&RawTar::default().files(&entries).finish())).unwrap();
        for command in ["check", "fix"] {
            let run = node_preflight(&[command, "--bundle", path.to_str().unwrap()]);
            assert_eq!(run.code, 2, "{command} {needle}: {}", run.stderr);
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
            assert!(
                run.stderr.contains(needle),
                "{command}: {} lacks {needle:?}",
                run.stderr
            );
            assert!(run.stderr.contains("lying.tar.gz"), "{}", run.stderr);
        }
    };
    let first_read = |m: &serde_json::Value| {
        m["accesses"]
            .as_array()
            .unwrap()
            .iter()
            .position(|a| a["op"] == "read" && a.get("entry").is_some())
            .unwrap()
    };
    refused(
        with_manifest(&good, |m| {
            let i = first_read(m);
            m["accesses"][i]["entry"] = "root/not/there".into();
        }),
        "which is not in the archive",
    );
    refused(
        with_manifest(&good, |m| {
            let i = first_read(m);
            m["accesses"][i]["op"] = "list".into();
        }),
        "is of the wrong kind",
    );
    refused(
        with_manifest(&good, |m| {
            let a = m["accesses"][0].clone();
            m["accesses"].as_array_mut().unwrap().push(a);
        }),
        "twice",
    );
    refused(
        with_manifest(&good, |m| m["target"]["role"] = "emperor".into()),
        "the manifest's role \"emperor\" is not a known role",
    );
    refused(
        with_manifest(&good, |m| {
            m["target"]["kubernetes_version"] = "one.two".into()
        }),
        "the manifest's Kubernetes version",
    );
    refused(
        with_manifest(&good, |m| m["runtime"]["runtime"] = "rkt".into()),
        "the manifest's runtime \"rkt\" is not known",
    );
    refused(
        with_manifest(&good, |m| m["checks"] = serde_json::json!(["site.unknown"])),
        "checks this catalog does not have: site.unknown",
    );
    // A probe transcript that is not one, with a size and hash that match.
    let garbage = b"{\"socket\": 7}".to_vec();
    let mut entries = with_manifest(&good, |m| {
        m["accesses"].as_array_mut().unwrap().push(
            serde_json::json!({"op": "probe_cri", "path": "/x.sock", "entry": "probes/cri-9.json"}),
        );
        let hex: String = Sha256::digest(&garbage)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        m["files"].as_array_mut().unwrap().push(
            serde_json::json!({"entry": "probes/cri-9.json", "size": garbage.len(), "sha256": hex}),
        );
    });
    entries.push(("probes/cri-9.json".into(), garbage.clone()));
    refused(
        entries,
        "probe transcript \"probes/cri-9.json\" is malformed",
    );
}

#[test]
fn a_fleet_in_prometheus_is_one_exposition_with_every_node_labelled() {
    use crate::util::{assert_golden, assert_valid_prometheus, samples_of, value_of};
    let dir = tempfile::tempdir().unwrap();
    let mut bundles: Vec<String> = Vec::new();
    for name in ["healthy-v2-systemd", "sysctl-shadowed"] {
        let b = dir.path().join(format!("{name}.tar.gz"));
        collect(
            &b,
            &[
                "--root",
                &fixture(name),
                "--only",
                "sysctl.*,node.swap",
                "--kubernetes-version",
                "1.31",
            ],
        );
        bundles.push(b.display().to_string());
    }
    let garbage = dir.path().join("garbage.tar.gz");
    fs::write(&garbage, "not a bundle").unwrap();
    let mut args = vec!["check", "-o", "prometheus", "--bundle"];
    args.extend(bundles.iter().map(String::as_str));
    args.push(garbage.to_str().unwrap());
    let run = node_preflight(&args);
    assert_eq!(run.code, 1, "a node is not ready: {}", run.stderr);
    let samples = assert_valid_prometheus(&run.stdout);
    // The temporary directory's name is the one thing that changes between runs.
    let tmp = dir.path().to_str().unwrap();
    assert_golden(&run.stdout.replace(tmp, "/tmp/fleet"), "fleet.prom");

    // Every series names its node and bundle; both fixture hosts call themselves node-1, so
    // only the bundle tells their series apart.
    for s in &samples {
        assert!(
            s.labels.contains_key("node") && s.labels.contains_key("bundle"),
            "{s:?}"
        );
    }
    fn of(bundle: &str) -> [(&'static str, &str); 1] {
        [("bundle", bundle)]
    }
    assert_eq!(
        value_of(&samples, "node_preflight_ready", &of(&bundles[0])),
        1.0
    );
    assert_eq!(
        value_of(&samples, "node_preflight_ready", &of(&bundles[1])),
        0.0
    );
    assert_eq!(
        value_of(
            &samples,
            "node_preflight_check_blocking",
            &[
                ("bundle", &bundles[1]),
                ("check", "sysctl.ip-forward.persistent")
            ]
        ),
        1.0
    );
    // The unreadable bundle is visible, and has no other series (its readiness is unknown,
    // not 0).
    let garbage = garbage.to_str().unwrap();
    assert_eq!(
        value_of(&samples, "node_preflight_bundle_readable", &of(garbage)),
        0.0
    );
    assert_eq!(
        samples_of(&samples, "node_preflight_bundle_readable")
            .iter()
            .map(|s| (s.label("node"), s.value))
            .collect::<Vec<_>>(),
        [("node-1", 1.0), ("node-1", 1.0), ("garbage.tar.gz", 0.0)]
    );
    assert!(samples
        .iter()
        .filter(|s| s.label("bundle") == garbage)
        .all(|s| s.name == "node_preflight_bundle_readable"));

    // The same fleet with --ignore and --fail-on warning: the second node is ready once its
    // failure is ignored, unless its warning counts.
    let mut ignoring = args.clone();
    ignoring.extend(["--ignore", "sysctl.ip-forward.persistent"]);
    let with_ignore = assert_valid_prometheus(&node_preflight(&ignoring).stdout);
    assert_eq!(
        value_of(&with_ignore, "node_preflight_ready", &of(&bundles[1])),
        1.0
    );
    assert_eq!(
        value_of(
            &with_ignore,
            "node_preflight_ignored_checks_failing",
            &of(&bundles[1])
        ),
        1.0
    );
    ignoring.extend(["--fail-on", "warning"]);
    let strict = assert_valid_prometheus(&node_preflight(&ignoring).stdout);
    assert_eq!(
        value_of(&strict, "node_preflight_ready", &of(&bundles[1])),
        0.0
    );
    assert_eq!(
        value_of(&strict, "node_preflight_ready", &of(&bundles[0])),
        1.0
    );
}

#[test]
fn a_fleet_in_prometheus_goes_to_its_output_file_whole() {
    use crate::util::assert_valid_prometheus;
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["check".into(), "-o".into(), "prometheus".into()];
    args.push("--bundle".into());
    for name in ["healthy-v2-systemd", "swap-on"] {
        let b = dir.path().join(format!("{name}.tar.gz"));
        collect(&b, &["--root", &fixture(name), "--only", "node.*"]);
        args.push(b.display().to_string());
    }
    let textfiles = dir.path().join("textfile");
    fs::create_dir(&textfiles).unwrap();
    let out = textfiles.join("fleet.prom");
    args.extend(["--output-file".into(), out.display().to_string()]);
    let run = node_preflight(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr.trim(),
        "2 nodes: 2 ready, 0 not ready, 0 unreadable"
    );
    let samples = assert_valid_prometheus(&fs::read_to_string(&out).unwrap());
    assert_eq!(
        samples
            .iter()
            .filter(|s| s.name == "node_preflight_bundle_readable" && s.value == 1.0)
            .count(),
        2
    );
    let left: Vec<_> = fs::read_dir(&textfiles).unwrap().collect();
    assert_eq!(left.len(), 1, "the temporary file was renamed: {left:?}");
}
