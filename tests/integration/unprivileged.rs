//! Running unprivileged (issue #6, item 4): live runs as `nobody` (setpriv, util-linux).
//! What only root may read or connect to skips its check with "needs root", the others
//! still run, `node.root` fails, and the exit code and the summary say the node was not
//! fully checked.
//!
//! The root-only thing is a real one: a runtime socket owned by root with mode 0600, as
//! containerd's is, given with --cri-socket (a live run cannot plant files under /run).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::thread;

use crate::faults::{assert_check, guarded, is_root, As};
use crate::util::*;

/// A root-only socket (0600, in a directory anyone may enter) whose server accepts and
/// closes each connection: root gets an answer, however poor; anyone else is refused.
fn root_only_socket() -> (tempfile::TempDir, PathBuf) {
    let dir = crate::cri::short_tempdir();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let socket = dir.path().join("containerd.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    fs::set_permissions(&socket, fs::Permissions::from_mode(0o600)).unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            drop(conn);
        }
    });
    (dir, socket)
}

fn json(run: &Run) -> serde_json::Value {
    assert_valid_report_json(&run.stdout);
    serde_json::from_str(&run.stdout).unwrap()
}

/// Only meaningful as root (which CI is): `nobody` is who the test becomes.
fn root_or_skip() -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the unprivileged tests need to start as root (setpriv drops to nobody)");
    }
    eprintln!("\n*** SKIPPED: not root, so cannot become nobody\n");
    false
}

#[test]
fn unprivileged_live_run_skips_what_needs_root_and_fails_node_root() {
    if !root_or_skip() {
        return;
    }
    let (_dir, socket) = root_only_socket();
    let socket = socket.to_str().unwrap();
    let run = guarded(
        &As::Nobody,
        &[
            "check",
            "-o",
            "json",
            "--cri-socket",
            socket,
            "--timeout",
            "1s",
        ],
    );
    let report = json(&run);
    assert_check(
        &report,
        "node.root",
        "fail",
        &[
            "process.root = false (/proc/self/status:",
            "effective uid 65534",
        ],
    );
    // The socket refused nobody: that says who runs the check, not that the runtime is down.
    assert_check(
        &report,
        "cri.endpoint.reachable",
        "skip",
        &[
            "needs root: run as root (sudo) to check this",
            &format!("CRI Version at {socket}: permission denied"),
        ],
    );
    // The checks that wait for an answer say the same.
    assert_check(
        &report,
        "cri.status.runtime-ready",
        "skip",
        &["needs root: run as root (sudo) to check this"],
    );
    // Nothing refused is reported as a broken node: no error or failure says "permission
    // denied" (a refused read while unprivileged is always a "needs root" skip).
    for check in report["checks"].as_array().unwrap() {
        let m = check["message"].as_str().unwrap();
        if m.contains("permission denied") {
            assert_eq!(check["status"], "skip", "{}: {m}", check["id"]);
            assert!(m.starts_with("needs root: "), "{}: {m}", check["id"]);
        }
    }
    // The others still ran, with verdicts of their own.
    for id in [
        "kernel.overlay",
        "sysctl.ip-forward",
        "cgroups.v2",
        "node.hostname",
    ] {
        let status = status_of(&report, id);
        assert!(
            ["pass", "fail", "warn"].contains(&status.as_str()),
            "{id} did not run: {status}: {}",
            message(&report, id)
        );
    }
    // The exit code is the summary's, and says not ready.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(report["summary"]["exit_code"], 1);
}

#[test]
fn the_same_checks_run_as_root_are_not_skipped() {
    if !root_or_skip() {
        return;
    }
    let (_dir, socket) = root_only_socket();
    let socket = socket.to_str().unwrap();
    let run = guarded(
        &As::Me,
        &[
            "check",
            "-o",
            "json",
            "--cri-socket",
            socket,
            "--timeout",
            "1s",
        ],
    );
    let report = json(&run);
    assert_check(
        &report,
        "node.root",
        "pass",
        &["process.root = true (/proc/self/status:", "effective uid 0"],
    );
    // Root may connect; the server hangs up, which is a real finding.
    assert_check(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&format!("CRI Version at {socket}")],
    );
}

#[test]
fn a_half_checked_node_is_not_ready_unless_node_root_is_ignored() {
    if !root_or_skip() {
        return;
    }
    // Everything selected either passes or needs root: without node.root, an unprivileged
    // run would have called this node ready without asking its runtime anything.
    let (_dir, socket) = root_only_socket();
    let socket = socket.to_str().unwrap();
    let args = [
        "check",
        "-o",
        "json",
        "--cri-socket",
        socket,
        "--only",
        "node.root,cri.*",
    ];
    let run = guarded(&As::Nobody, &args);
    let report = json(&run);
    assert_eq!(run.code, 1);
    assert_eq!(report["summary"]["fail"], 1, "node.root alone fails");
    assert_eq!(report["summary"]["error"], 0);

    let mut ignoring = args.to_vec();
    ignoring.extend(["--ignore", "node.root"]);
    let run = guarded(&As::Nobody, &ignoring);
    let report = json(&run);
    assert_eq!(run.code, 0, "the user accepted a partial check");
    assert_eq!(check_of(&report, "node.root")["ignored"], true);
    assert_eq!(status_of(&report, "node.root"), "fail");

    // The table says so too.
    let run = guarded(
        &As::Nobody,
        &["check", "--cri-socket", socket, "--only", "node.root,cri.*"],
    );
    assert!(
        run.stdout
            .contains("needs root: run as root (sudo) to check this"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("NOT READY"), "{}", run.stdout);
}

#[test]
fn a_root_tree_does_not_say_who_runs_the_check() {
    // The tree's /proc is another machine's (or a copy): node.root does not apply, and a
    // refused read there stays an error naming the file (see faults.rs).
    let root = fixture("healthy-v2-systemd");
    let (_, report) = json_report(&["--root", &root, "--only", "node.root"]);
    assert_check(
        &report,
        "node.root",
        "skip",
        &["not applicable: process.root = absent (not a live run"],
    );
}

#[test]
fn a_bundle_collected_unprivileged_gives_the_results_the_live_run_gave() {
    if !root_or_skip() {
        return;
    }
    // The bundle holds what the collecting process read of itself, so it is checked, here
    // as root, as that process saw the node: not root, and refused by the runtime's socket.
    let (_dir, socket) = root_only_socket();
    let socket = socket.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    fs::set_permissions(out.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let bundle = out.path().join("node.tar.gz");
    let bundle = bundle.to_str().unwrap();
    let options = ["--cri-socket", socket, "--timeout", "1s"];
    let mut collect = vec!["collect", "-o", bundle];
    collect.extend(options);
    let run = guarded(&As::Nobody, &collect);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut live = vec!["check", "-o", "json"];
    live.extend(options);
    let live = json(&guarded(&As::Nobody, &live));
    let offline = json(&guarded(
        &As::Me,
        &["check", "-o", "json", "--bundle", bundle],
    ));

    let statuses = |report: &serde_json::Value| -> Vec<(String, String)> {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].to_string(), c["status"].to_string()))
            .collect()
    };
    assert_eq!(statuses(&offline), statuses(&live));
    assert_check(&offline, "node.root", "fail", &["effective uid 65534"]);
    assert_check(
        &offline,
        "cri.endpoint.reachable",
        "skip",
        &["needs root: run as root (sudo) to check this"],
    );
}

#[test]
fn a_bundle_that_does_not_record_who_collected_it_does_not_guess() {
    // A bundle collected live by a node-preflight from before `process.root` was gathered:
    // no /proc/self/status in it. node.root does not apply; nothing is an error.
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.tar.gz");
    let run = node_preflight(&["collect", "-o", fresh.to_str().unwrap(), "--only", "node.*"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let entries: Vec<(String, Vec<u8>)> = crate::bundle::entries_of(&fresh)
        .into_iter()
        .filter(|(name, _)| name != "root/proc/self/status")
        .collect();
    let entries = crate::bundle::with_manifest(&entries, |m| {
        for list in ["accesses", "files"] {
            m[list]
                .as_array_mut()
                .unwrap()
                .retain(|a| !a.to_string().contains("/proc/self/status"));
        }
    });
    let old = dir.path().join("old.tar.gz");
    let tar = crate::bundle::RawTar::default().files(&entries).finish();
    fs::write(&old, crate::bundle::gzip(&tar)).unwrap();
    let (run, report) = json_report(&["--bundle", old.to_str().unwrap(), "--only", "node.root"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_check(
        &report,
        "node.root",
        "skip",
        &["process.root = absent (/proc/self/status, not recorded in this bundle)"],
    );
}
