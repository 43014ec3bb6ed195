//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Checks that need a live socket: a fixture tree in the repository cannot hold one (git
/// stores no sockets), so fixture runs that expect a clean result leave these out. They are
/// tested against a real containerd in cri.rs.
pub const SOCKET_CHECKS: &str = "cri.*,kubelet.runtime-endpoint";

/// The project's root (tests run the binary from here so paths in outputs are relative).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `argv` (node-preflight, or a wrapper that starts it) from the project root, killing it
/// and failing the test if it outlives `limit`: a run that hung fails its test instead of
/// hanging the suite. `args` are node-preflight's own arguments, for the message.
pub fn run_with_limit<S: AsRef<OsStr>>(argv: &[S], args: &[&str], limit: Duration) -> Run {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(project_root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", argv[0].as_ref()));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "node-preflight {} did not finish within {limit:?}: something ignored its deadline",
                args.join(" ")
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Runs the real `node-preflight` binary from the project root, without colour.
pub fn node_preflight<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_node-preflight"))
        .args(args)
        .current_dir(project_root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the node-preflight binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A fixture host committed under testdata/hosts/, as a path relative to the project root.
pub fn fixture(name: &str) -> String {
    let rel = format!("testdata/hosts/{name}");
    assert!(
        project_root().join(&rel).is_dir(),
        "fixture host {rel} is missing"
    );
    rel
}

/// A file of the shared real-world corpus (`../shared/corpus/`), read in place.
pub fn corpus(rel: &str) -> PathBuf {
    let path = project_root().join("../shared/corpus").join(rel);
    assert!(
        path.is_file(),
        "corpus file {} is missing: the tests need ../shared beside the project",
        path.display()
    );
    path
}

/// A host root filesystem built in a temporary directory.
pub struct HostBuilder {
    dir: tempfile::TempDir,
}

impl HostBuilder {
    pub fn new() -> Self {
        HostBuilder {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Starts from a copy of a committed fixture host.
    pub fn from_fixture(name: &str) -> Self {
        let b = HostBuilder::new();
        copy_tree(&project_root().join(fixture(name)), b.path());
        b
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn on_disk(&self, host_path: &str) -> PathBuf {
        self.path().join(host_path.trim_start_matches('/'))
    }

    pub fn file(self, host_path: &str, content: impl AsRef<[u8]>) -> Self {
        let p = self.on_disk(host_path);
        fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        fs::write(&p, content).expect("write fixture file");
        self
    }

    /// Copies a corpus file to a path of the host.
    pub fn corpus_file(self, host_path: &str, corpus_rel: &str) -> Self {
        let content = fs::read(corpus(corpus_rel)).expect("read corpus file");
        self.file(host_path, content)
    }

    pub fn dir(self, host_path: &str) -> Self {
        fs::create_dir_all(self.on_disk(host_path)).expect("mkdir");
        self
    }

    pub fn symlink(self, host_path: &str, target: &str) -> Self {
        let p = self.on_disk(host_path);
        fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        let _ = fs::remove_file(&p);
        symlink(target, &p).expect("symlink");
        self
    }

    pub fn remove(self, host_path: &str) -> Self {
        let p = self.on_disk(host_path);
        if p.is_dir() {
            fs::remove_dir_all(&p).expect("rm -r");
        } else {
            fs::remove_file(&p).expect("rm");
        }
        self
    }

    pub fn root_arg(&self) -> String {
        self.path().display().to_string()
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("dir entry");
        let ft = entry.file_type().expect("file type");
        let dest = to.join(entry.file_name());
        if ft.is_symlink() {
            symlink(fs::read_link(entry.path()).expect("readlink"), &dest).expect("symlink");
        } else if ft.is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// Replaces what legitimately changes from run to run (timings) with fixed text.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&scrub_line(line));
    }
    out
}

fn scrub_line(line: &str) -> String {
    let mut line = line.to_string();
    // JSON: "duration": 1.23e-5,
    if let Some(i) = line.find("\"duration\": ") {
        let start = i + "\"duration\": ".len();
        let end = line[start..]
            .find([',', '\n'])
            .map_or(line.len(), |e| start + e);
        line.replace_range(start..end, "0.0");
    }
    // JUnit: time="0.000012"
    while let Some(i) = line.find("time=\"") {
        let start = i + "time=\"".len();
        let Some(len) = line[start..].find('"') else {
            break;
        };
        if &line[start..start + len] == "0" {
            break;
        }
        line.replace_range(start..start + len, "0");
    }
    line
}

/// Compares output with a golden file under testdata/expected/. `UPDATE_GOLDEN=1 cargo test`
/// rewrites the files instead (review the diff before committing).
pub fn assert_golden(actual: &str, golden: &str) {
    let path = project_root().join("testdata/expected").join(golden);
    let actual = scrub(actual);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        fs::write(&path, &actual).expect("write golden");
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "golden file {} is missing: run UPDATE_GOLDEN=1 cargo test and review it",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "output differs from {}\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

/// Validates a JUnit document against Jenkins' junit-10.xsd with xmllint.
pub fn assert_valid_junit(xml: &str) {
    let xsd = project_root().join("../shared/schemas/junit-10.xsd");
    assert!(
        xsd.is_file(),
        "{} is missing: the tests need ../shared",
        xsd.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.xml");
    fs::write(&file, xml).expect("write report");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint runs: install Debian's libxml2-utils");
    assert!(
        out.status.success(),
        "JUnit report is not valid against junit-10.xsd:\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Validates a JSON report against docs/report.schema.json.
pub fn assert_valid_report_json(json: &str) {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(project_root().join("docs/report.schema.json")).expect("schema file"),
    )
    .expect("schema is JSON");
    let instance: serde_json::Value = serde_json::from_str(json).expect("report is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match the schema:\n{}",
        errors.join("\n")
    );
}

/// One check of a JSON report.
pub fn check_of<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .expect("checks array")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in the report"))
}

/// The message of one check of a JSON report.
pub fn message(report: &serde_json::Value, id: &str) -> String {
    check_of(report, id)["message"]
        .as_str()
        .expect("message string")
        .to_string()
}

/// The status of one check in a JSON report.
pub fn status_of(report: &serde_json::Value, id: &str) -> String {
    check_of(report, id)["status"]
        .as_str()
        .expect("status string")
        .to_string()
}

/// Runs `check -o json` and parses the report.
pub fn json_report<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Run, serde_json::Value) {
    let mut all: Vec<std::ffi::OsString> = vec!["check".into(), "-o".into(), "json".into()];
    all.extend(args.iter().map(|a| a.as_ref().to_os_string()));
    let run = node_preflight(&all);
    let value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr: {}", run.stdout, run.stderr));
    (run, value)
}

/// One sample of a Prometheus exposition, its label values unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> &str {
        self.labels
            .get(name)
            .unwrap_or_else(|| panic!("{} has no label {name}: {self:?}", self.name))
    }
}

/// Debian's promtool (package `prometheus`), failing with what to install when it is missing.
pub fn promtool() -> &'static Path {
    let promtool = Path::new("/usr/bin/promtool");
    assert!(
        promtool.is_file(),
        "{} is missing: install Debian's prometheus package \
         (apt-get install --no-install-recommends prometheus; scripts/test does)",
        promtool.display()
    );
    promtool
}

/// Validates a Prometheus text exposition twice over: with `promtool check metrics` (Debian's
/// `prometheus` package: Prometheus' own parser and linter), and with the checks promtool
/// 2.42 does not make — each family's HELP and TYPE once and before its samples, families not
/// interleaved, no series twice, nothing but comments and samples, a final newline. Returns
/// the samples.
pub fn assert_valid_prometheus(text: &str) -> Vec<Sample> {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("promtool's stdin");
        stdin.write_all(text.as_bytes()).expect("write to promtool");
    }
    let out = child.wait_with_output().expect("promtool finishes");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics refuses the exposition ({}):\n{}{}\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_exposition(text)
}

/// A strict reading of the text format, version 0.0.4, as this project writes it (gauges,
/// HELP then TYPE then the samples of each family).
pub fn parse_exposition(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'), "no final newline:\n{text}");
    let mut samples: Vec<Sample> = Vec::new();
    let mut families: Vec<String> = Vec::new();
    let mut helped: Option<String> = None;
    let mut series = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let at = format!("line {}: {line:?}", i + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or_else(|| panic!("{at}"));
            assert!(valid_metric_name(name), "{at}: metric name");
            assert!(!families.iter().any(|f| f == name), "{at}: a second HELP");
            assert!(!help.is_empty(), "{at}: empty help");
            helped = Some(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest
                .strip_suffix(" gauge")
                .unwrap_or_else(|| panic!("{at}: not a gauge"));
            assert_eq!(helped.as_deref(), Some(name), "{at}: TYPE without its HELP");
            assert!(!families.iter().any(|f| f == name), "{at}: a second TYPE");
            families.push(name.to_string());
            continue;
        }
        assert!(!line.starts_with('#'), "{at}: a comment");
        let sample = parse_sample(line).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(
            families.last(),
            Some(&sample.name),
            "{at}: a sample outside its family (interleaved, or without HELP and TYPE)"
        );
        assert!(
            series.insert(format!("{}{:?}", sample.name, sample.labels)),
            "{at}: the same series twice"
        );
        samples.push(sample);
    }
    samples
}

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return Err(format!("metric name {name:?}"));
    }
    let mut labels = std::collections::BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let (label, after) = rest.split_once("=\"").ok_or("a label without =\"")?;
            if !valid_label_name(label) {
                return Err(format!("label name {label:?}"));
            }
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().ok_or("an unterminated label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().ok_or("a final backslash")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("the escape \\{c}")),
                    },
                    (_, c) => value.push(c),
                }
            };
            if labels.insert(label.to_string(), value).is_some() {
                return Err(format!("label {label} twice"));
            }
            rest = &after[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value: f64 = value.parse().map_err(|e| format!("value {value:?}: {e}"))?;
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// The samples of one metric.
pub fn samples_of<'a>(samples: &'a [Sample], name: &str) -> Vec<&'a Sample> {
    samples.iter().filter(|s| s.name == name).collect()
}

/// The value of the one sample of `name` whose labels include `labels`.
pub fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name}{labels:?}: {found:?}");
    found[0].value
}

/// Runs `check -o prometheus ARGS`.
pub fn prometheus_report<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Run, Vec<Sample>) {
    let mut all: Vec<std::ffi::OsString> = vec!["check".into(), "-o".into(), "prometheus".into()];
    all.extend(args.iter().map(|a| a.as_ref().to_os_string()));
    let run = node_preflight(&all);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let samples = assert_valid_prometheus(&run.stdout);
    (run, samples)
}
