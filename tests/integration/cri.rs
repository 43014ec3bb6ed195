//! The CRI and Docker API probes, end to end: the real binary against a REAL containerd
//! started for the test, and against sockets that misbehave on purpose (never answer, refuse,
//! answer garbage, answer too much, answer only CRI v1alpha2).
//!
//! Every run of the binary here is guarded by a generous wall-clock limit: a probe that hung
//! would fail the test instead of hanging it. Nothing else asserts on time.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{run_with_limit, Run};

const CONTAINERD: &str = "/usr/bin/containerd";
/// Far above any deadline a test passes with --timeout; reaching it means a probe hung.
const WALL_CLOCK_LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Running the binary with a wall-clock guard.

/// Runs `node-preflight ARGS`, killing it and failing the test if it outlives the limit.
pub(crate) fn run_guarded(args: &[&str]) -> Run {
    let mut argv = vec![env!("CARGO_BIN_EXE_node-preflight")];
    argv.extend_from_slice(args);
    run_with_limit(&argv, args, WALL_CLOCK_LIMIT)
}

fn json_run(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "-o", "json"];
    all.extend_from_slice(args);
    let run = run_guarded(&all);
    assert!(
        !run.stderr.contains("panicked"),
        "node-preflight panicked:\n{}",
        run.stderr
    );
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr: {}", run.stdout, run.stderr))
}

fn facts_run(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["facts"];
    all.extend_from_slice(args);
    let run = run_guarded(&all);
    assert_eq!(run.code, 0, "facts failed: {}", run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    value["facts"].clone()
}

/// `(status, message)` of one check.
fn check<'a>(report: &'a serde_json::Value, id: &str) -> (&'a str, &'a str) {
    let c = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"));
    (
        c["status"].as_str().unwrap(),
        c["message"].as_str().unwrap(),
    )
}

fn assert_status(report: &serde_json::Value, id: &str, status: &str, needles: &[&str]) {
    let (got, message) = check(report, id);
    assert_eq!(got, status, "{id}: {message}");
    for needle in needles {
        assert!(
            message.contains(needle),
            "{id}: message lacks {needle:?}: {message}"
        );
    }
}

/// A short temporary directory: unix socket paths are limited to 108 bytes.
pub(crate) fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("np")
        .tempdir_in("/tmp")
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// A real containerd.

/// A containerd with its config, root, state and sockets in a temporary directory, killed on
/// drop. No CNI config is given, so NetworkReady is false.
pub(crate) struct Containerd {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Containerd {
    /// Starts containerd listening at `socket` (default: inside its temporary directory).
    fn start(socket: Option<&Path>) -> Result<Containerd, String> {
        Containerd::start_with(socket, None, false)
    }

    /// Starts containerd with `SystemdCgroup = systemd_cgroup`, its config written to
    /// `config_at` (a host's /etc/containerd/config.toml) or inside its temporary directory.
    fn start_with(
        socket: Option<&Path>,
        config_at: Option<&Path>,
        systemd_cgroup: bool,
    ) -> Result<Containerd, String> {
        if !Path::new(CONTAINERD).is_file() {
            return Err(format!(
                "{CONTAINERD} is not installed (apt-get install containerd runc)"
            ));
        }
        let dir = short_tempdir();
        let d = dir.path();
        let socket = socket.map_or_else(|| d.join("containerd.sock"), Path::to_path_buf);
        let config = format!(
            r#"version = 2
root = "{d}/root"
state = "{d}/state"

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"

[plugins."io.containerd.grpc.v1.cri".cni]
  conf_dir = "{d}/cni/net.d"
  bin_dir = "{d}/cni/bin"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = {systemd_cgroup}
"#,
            d = d.display(),
            socket = socket.display()
        );
        let config_path = config_at.map_or_else(|| d.join("config.toml"), Path::to_path_buf);
        fs::create_dir_all(config_path.parent().unwrap()).unwrap();
        fs::write(&config_path, config).unwrap();
        let log = fs::File::create(d.join("containerd.log")).unwrap();
        let child = Command::new(CONTAINERD)
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {CONTAINERD}: {e}"))?;
        let mut ctd = Containerd {
            child,
            socket,
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if UnixStream::connect(&ctd.socket).is_ok() {
                return Ok(ctd);
            }
            if let Ok(Some(status)) = ctd.child.try_wait() {
                return Err(format!(
                    "containerd exited ({status}) before serving:\n{}",
                    ctd.log_tail()
                ));
            }
            if started.elapsed() > Duration::from_secs(15) {
                return Err(format!(
                    "containerd did not serve {} within 15s:\n{}",
                    ctd.socket.display(),
                    ctd.log_tail()
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self._dir.path().join("containerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    pub(crate) fn socket(&self) -> &str {
        self.socket.to_str().unwrap()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts containerd, or says loudly why not: a failure under CI, a skip elsewhere.
pub(crate) fn containerd_or_skip(socket: Option<&Path>) -> Option<Containerd> {
    started_or_skip(Containerd::start(socket))
}

fn started_or_skip(started: Result<Containerd, String>) -> Option<Containerd> {
    match started {
        Ok(c) => Some(c),
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("containerd could not be started under CI: {why}")
        }
        Err(why) => {
            eprintln!("\n*** SKIPPED (containerd not available): {why}\n");
            None
        }
    }
}

#[test]
fn a_real_containerd_answers_cri_v1() {
    let Some(ctd) = containerd_or_skip(None) else {
        return;
    };
    let socket_arg = format!("unix://{}", ctd.socket());
    let report = json_run(&[
        "--cri-socket",
        &socket_arg,
        "--only",
        "cri.*",
        "--kubernetes-version",
        "1.35",
    ]);
    assert_status(&report, "cri.endpoint.found", "pass", &[ctd.socket()]);
    assert_status(&report, "cri.endpoint.single", "pass", &[]);
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "pass",
        &[ctd.socket(), "containerd", "answered"],
    );
    assert_status(
        &report,
        "cri.api.v1",
        "pass",
        &[
            "cri.version.api = v1",
            &format!("CRI Version at {}", ctd.socket()),
        ],
    );
    assert_status(&report, "cri.status.runtime-ready", "pass", &[]);
    // No CNI config was given: the runtime says so, and it is a warning.
    assert_status(&report, "cri.status.network-ready", "warn", &["cni"]);
    // containerd 1.6 does not implement RuntimeConfig (2.0 does): a warning up to 1.35...
    assert_status(
        &report,
        "cri.runtime-config",
        "warn",
        &["cri.runtime_config.implemented = false", "RuntimeConfig"],
    );
    // ...and a failure from 1.36, saying why.
    let report = json_run(&[
        "--cri-socket",
        &socket_arg,
        "--only",
        "cri.runtime-config",
        "--kubernetes-version",
        "1.36",
    ]);
    assert_status(
        &report,
        "cri.runtime-config",
        "fail",
        &["1.35 was the last release"],
    );

    // The runtime's own name and version, as facts.
    let facts = facts_run(&["--cri-socket", &socket_arg]);
    assert_eq!(facts["cri.version.runtime_name"]["value"], "containerd");
    let version = facts["cri.version.runtime_version"]["value"]
        .as_str()
        .unwrap();
    assert!(
        version.starts_with("1.") || version.starts_with('v'),
        "{version}"
    );
    assert_eq!(facts["runtime.name"]["value"], "containerd");
    assert_eq!(facts["cri.reachable"]["value"], true);
    assert_eq!(facts["cri.runtime_config.implemented"]["value"], false);
    assert_eq!(
        facts["cri.runtime_config.cgroup_driver"]["status"],
        "absent"
    );
    assert_eq!(
        facts["cri.version.api"]["source"],
        format!("CRI Version at {}", ctd.socket())
    );
    assert_eq!(facts["cri.endpoint"]["source"], "--cri-socket");
}

#[test]
fn a_real_containerd_is_found_at_its_known_socket_under_root() {
    // containerd listens inside a root tree at the path the kubelet expects; /var/run is a
    // link to /run there, as on a real host, so the socket is one endpoint, not two.
    let root = short_tempdir();
    fs::create_dir_all(root.path().join("run/containerd")).unwrap();
    fs::create_dir_all(root.path().join("var")).unwrap();
    std::os::unix::fs::symlink("/run", root.path().join("var/run")).unwrap();
    let socket = root.path().join("run/containerd/containerd.sock");
    let Some(_ctd) = containerd_or_skip(Some(&socket)) else {
        return;
    };
    let root_arg = root.path().to_str().unwrap();
    let report = json_run(&["--root", root_arg, "--only", "cri.*"]);
    assert_status(
        &report,
        "cri.endpoint.found",
        "pass",
        &["/run/containerd/containerd.sock"],
    );
    assert_status(&report, "cri.endpoint.single", "pass", &["false"]);
    assert_status(
        &report,
        "cri.api.v1",
        "pass",
        &["CRI Version at /run/containerd/containerd.sock"],
    );
    let facts = facts_run(&["--root", root_arg]);
    assert_eq!(
        facts["cri.endpoints_found"]["value"],
        serde_json::json!(["/run/containerd/containerd.sock"])
    );
    assert_eq!(facts["cri.endpoint"]["note"], "the only one found");
    assert_eq!(facts["runtime.name"]["value"], "containerd");
}

// ---------------------------------------------------------------------------------------------
// Sockets that misbehave.

/// A socket in a temporary directory.
struct Sock {
    dir: tempfile::TempDir,
}

impl Sock {
    fn new() -> Sock {
        Sock {
            dir: short_tempdir(),
        }
    }
    fn path(&self) -> PathBuf {
        self.dir.path().join("runtime.sock")
    }
    fn arg(&self) -> String {
        self.path().to_str().unwrap().to_string()
    }
}

/// A server that accepts connections and never says a word (the connections are held open
/// until the test ends).
fn silent_server(path: &Path) {
    let listener = UnixListener::bind(path).unwrap();
    thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            match conn {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
}

#[test]
fn a_socket_that_never_answers_ends_at_the_deadline() {
    let sock = Sock::new();
    silent_server(&sock.path());
    let report = json_run(&[
        "--cri-socket",
        &sock.arg(),
        "--timeout",
        "300ms",
        "--only",
        "cri.*",
    ]);
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "no answer within 300ms"],
    );
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "300ms"],
    );
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "no answer within 300ms"],
    );
}

#[test]
fn a_missing_socket_is_named() {
    let sock = Sock::new();
    let report = json_run(&["--cri-socket", &sock.arg(), "--only", "cri.*"]);
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "no socket there"],
    );
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "no socket there"],
    );
}

#[test]
fn a_socket_nobody_listens_on_is_refused() {
    let sock = Sock::new();
    drop(UnixListener::bind(sock.path()).unwrap());
    assert!(sock.path().exists(), "the socket file stays after close");
    let report = json_run(&["--cri-socket", &sock.arg(), "--only", "cri.*"]);
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "connection refused"],
    );
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "connection refused"],
    );
}

#[test]
fn a_socket_answering_http1_garbage_is_not_grpc() {
    let sock = Sock::new();
    let listener = UnixListener::bind(sock.path()).unwrap();
    thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
            let mut sink = [0u8; 4096];
            let _ = conn.read(&mut sink);
        }
    });
    let report = json_run(&["--cri-socket", &sock.arg(), "--only", "cri.*"]);
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "not a gRPC server"],
    );
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &["not a gRPC server"],
    );
}

#[test]
fn only_unrelated_checks_touch_no_socket() {
    // A listener that would see any connection: after the run, nothing is waiting in its
    // queue (a connection made and closed still is), so no probe was made.
    let sock = Sock::new();
    let listener = UnixListener::bind(sock.path()).unwrap();
    listener.set_nonblocking(true).unwrap();
    let run = run_guarded(&[
        "check",
        "-o",
        "json",
        "--cri-socket",
        &sock.arg(),
        "--only",
        "kernel.*",
    ]);
    assert!(run.stdout.contains("\"checks\""), "{}", run.stderr);
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok(_) => panic!("check --only 'kernel.*' connected to the CRI socket"),
        Err(e) => panic!("accept: {e}"),
    }
    // The same listener does see a probe when a CRI check is asked for.
    let _ = run_guarded(&[
        "check",
        "--cri-socket",
        &sock.arg(),
        "--timeout",
        "200ms",
        "--only",
        "cri.endpoint.reachable",
    ]);
    assert!(listener.accept().is_ok(), "the CRI check did not probe");
}

// ---------------------------------------------------------------------------------------------
// A scripted HTTP/2 server: just enough of the protocol to give tonic exact gRPC answers
// (v1 unimplemented, a v1alpha2 answer, an answer too large to accept).

enum Answer {
    /// A trailers-only answer with this grpc-status.
    Status(u8),
    /// A message (protobuf bytes) and grpc-status 0.
    Message(Vec<u8>),
    /// A gRPC message header announcing this many bytes, and a few of them.
    Announce(u32),
}

pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// HPACK: a literal header without indexing, new name, no Huffman (RFC 7541 §6.2.2).
pub(crate) fn literal(name: &str, value: &str) -> Vec<u8> {
    let mut out = vec![0x00, name.len() as u8];
    out.extend_from_slice(name.as_bytes());
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
    out
}

pub(crate) fn response_headers(grpc_status: Option<u8>) -> Vec<u8> {
    let mut block = vec![0x88]; // :status 200 (static table index 8)
    block.extend(literal("content-type", "application/grpc"));
    if let Some(code) = grpc_status {
        block.extend(literal("grpc-status", &code.to_string()));
    }
    block
}

/// Serves each connection: reads the client's frames and answers its N-th request with
/// `answers[N]`.
fn scripted_h2_server(path: &Path, answers: Vec<Answer>) {
    let listener = UnixListener::bind(path).unwrap();
    thread::spawn(move || {
        let Some(Ok(mut conn)) = listener.incoming().next() else {
            return;
        };
        let mut preface = [0u8; 24];
        if conn.read_exact(&mut preface).is_err() {
            return;
        }
        let _ = conn.write_all(&frame(4, 0, 0, &[])); // SETTINGS
        let mut answers = answers.into_iter();
        loop {
            let mut header = [0u8; 9];
            if conn.read_exact(&mut header).is_err() {
                return;
            }
            let len = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
            let (kind, flags) = (header[3], header[4]);
            let stream =
                u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & !(1 << 31);
            let mut payload = vec![0u8; len];
            if conn.read_exact(&mut payload).is_err() {
                return;
            }
            match kind {
                4 if flags & 1 == 0 => {
                    let _ = conn.write_all(&frame(4, 1, 0, &[])); // SETTINGS ack
                }
                1 => {
                    // The probe asks its calls at once: a request beyond the script is
                    // answered Unimplemented rather than by hanging up, which would race the
                    // client's reading of the answers scripted before it.
                    let answer = answers.next().unwrap_or(Answer::Status(12));
                    let out = match answer {
                        Answer::Status(code) => {
                            frame(1, 0x4 | 0x1, stream, &response_headers(Some(code)))
                        }
                        Answer::Message(body) => {
                            let mut data = vec![0];
                            data.extend_from_slice(&(body.len() as u32).to_be_bytes());
                            data.extend_from_slice(&body);
                            let mut out = frame(1, 0x4, stream, &response_headers(None));
                            out.extend(frame(0, 0, stream, &data));
                            let trailers = literal("grpc-status", "0");
                            out.extend(frame(1, 0x4 | 0x1, stream, &trailers));
                            out
                        }
                        Answer::Announce(size) => {
                            let mut data = vec![0];
                            data.extend_from_slice(&size.to_be_bytes());
                            data.extend_from_slice(&[0u8; 64]);
                            let mut out = frame(1, 0x4, stream, &response_headers(None));
                            out.extend(frame(0, 0, stream, &data));
                            out
                        }
                    };
                    let _ = conn.write_all(&out);
                }
                _ => {}
            }
        }
    });
}

/// A protobuf string field.
fn pb_string(field: u8, value: &str) -> Vec<u8> {
    let mut out = vec![(field << 3) | 2, value.len() as u8];
    out.extend_from_slice(value.as_bytes());
    out
}

#[test]
fn a_runtime_answering_only_v1alpha2_fails_the_v1_check() {
    let sock = Sock::new();
    let mut version = pb_string(1, "0.1.0");
    version.extend(pb_string(2, "oldtainerd"));
    version.extend(pb_string(3, "1.4.0"));
    version.extend(pb_string(4, "v1alpha2"));
    // The three runtime.v1 requests (Version, Status, RuntimeConfig, sent at once):
    // Unimplemented (12); the fourth (v1alpha2 Version): an answer.
    scripted_h2_server(
        &sock.path(),
        vec![
            Answer::Status(12),
            Answer::Status(12),
            Answer::Status(12),
            Answer::Message(version),
        ],
    );
    let report = json_run(&["--cri-socket", &sock.arg(), "--only", "cri.*"]);
    assert_status(
        &report,
        "cri.api.v1",
        "fail",
        &[
            "cri.version.api = v1alpha2",
            "only runtime.v1alpha2 answers",
            "1.26",
        ],
    );
    // It did answer, so it is reachable; the v1 calls it could not answer are errors that say
    // why.
    assert_status(&report, "cri.endpoint.reachable", "pass", &[]);
    assert_status(
        &report,
        "cri.status.runtime-ready",
        "error",
        &["only the CRI v1alpha2 API"],
    );
}

#[test]
fn an_answer_larger_than_the_limit_is_refused() {
    let sock = Sock::new();
    scripted_h2_server(&sock.path(), vec![Answer::Announce(64 * 1024 * 1024)]);
    let report = json_run(&[
        "--cri-socket",
        &sock.arg(),
        "--only",
        "cri.endpoint.reachable",
    ]);
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &[&sock.arg(), "larger than the 4 MiB limit"],
    );
}

// ---------------------------------------------------------------------------------------------
// Docker Engine's API. There is no real dockerd here: this is a tiny fake HTTP/1.1 server on
// a unix socket that answers /version and /info with what Docker 24 answers.

fn fake_docker(path: &Path, info_body: String) {
    let listener = UnixListener::bind(path).unwrap();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let info_body = info_body.clone();
            thread::spawn(move || {
                // Keep-alive: several requests on one connection.
                let mut pending = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&pending[..end]).to_string();
                        pending.drain(..end + 4);
                        let body = if head.starts_with("GET /version ") {
                            r#"{"Version":"24.0.7","ApiVersion":"1.43","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64","KernelVersion":"6.1.0"}"#.to_string()
                        } else if head.starts_with("GET /info ") {
                            info_body.clone()
                        } else {
                            "{}".to_string()
                        };
                        let response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if conn.write_all(response.as_bytes()).is_err() {
                            return;
                        }
                    }
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    }
                }
            });
        }
    });
}

#[test]
fn docker_api_facts_from_a_fake_docker_socket() {
    let root = short_tempdir();
    fs::create_dir_all(root.path().join("var/run")).unwrap();
    fake_docker(
        &root.path().join("var/run/docker.sock"),
        r#"{"Name":"node1","ServerVersion":"24.0.7","CgroupDriver":"systemd","CgroupVersion":"2","OperatingSystem":"Debian GNU/Linux 12 (bookworm)","OSType":"linux"}"#.to_string(),
    );
    let root_arg = root.path().to_str().unwrap();
    let report = json_run(&["--root", root_arg, "--only", "cri.docker-api.*"]);
    assert_status(
        &report,
        "cri.docker-api.reachable",
        "pass",
        &["Docker API GET /version at /var/run/docker.sock"],
    );
    let facts = facts_run(&["--root", root_arg]);
    assert_eq!(facts["docker.api.version"]["value"], "24.0.7");
    assert_eq!(facts["docker.api.version"]["note"], "API version 1.43");
    assert_eq!(facts["docker.api.cgroup_driver"]["value"], "systemd");
    assert_eq!(facts["docker.api.cgroup_version"]["value"], "2");
}

#[test]
fn a_docker_info_too_large_is_refused_and_named() {
    let root = short_tempdir();
    fs::create_dir_all(root.path().join("var/run")).unwrap();
    let huge = format!(r#"{{"Name":"{}"}}"#, "x".repeat(5 * 1024 * 1024));
    fake_docker(&root.path().join("var/run/docker.sock"), huge);
    let facts = facts_run(&["--root", root.path().to_str().unwrap()]);
    assert_eq!(facts["docker.api.reachable"]["value"], true);
    assert_eq!(facts["docker.api.cgroup_driver"]["status"], "unknown");
    let reason = facts["docker.api.cgroup_driver"]["reason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("/var/run/docker.sock") && reason.contains("larger than the 4 MiB limit"),
        "{reason}"
    );
}

#[test]
fn no_docker_socket_means_no_docker_facts() {
    let root = short_tempdir();
    let report = json_run(&[
        "--root",
        root.path().to_str().unwrap(),
        "--only",
        "cri.docker-api.*",
    ]);
    assert_status(
        &report,
        "cri.docker-api.reachable",
        "skip",
        &["no Docker socket"],
    );
}

// ---------------------------------------------------------------------------------------------
// Endpoint detection.

#[test]
fn several_endpoints_are_a_finding_unless_one_is_chosen() {
    let root = short_tempdir();
    fs::create_dir_all(root.path().join("run/containerd")).unwrap();
    fs::create_dir_all(root.path().join("var/run/crio")).unwrap();
    silent_server(&root.path().join("run/containerd/containerd.sock"));
    silent_server(&root.path().join("var/run/crio/crio.sock"));
    let root_arg = root.path().to_str().unwrap();
    let report = json_run(&["--root", root_arg, "--only", "cri.*"]);
    assert_status(
        &report,
        "cri.endpoint.single",
        "fail",
        &[
            "found multiple CRI endpoints on the host",
            "/run/containerd/containerd.sock",
            "/var/run/crio/crio.sock",
        ],
    );
    assert_status(&report, "cri.endpoint.found", "pass", &[]);
    // Nothing chosen, nothing probed: the probe checks do not apply.
    assert_status(&report, "cri.api.v1", "skip", &["--cri-socket"]);

    // An explicit choice settles it, and that socket is probed.
    let report = json_run(&[
        "--root",
        root_arg,
        "--runtime",
        "crio",
        "--timeout",
        "200ms",
        "--only",
        "cri.*",
    ]);
    assert_status(&report, "cri.endpoint.single", "pass", &[]);
    assert_status(
        &report,
        "cri.endpoint.reachable",
        "fail",
        &["CRI Version at /var/run/crio/crio.sock", "200ms"],
    );
}

#[test]
fn no_endpoint_at_all_fails_the_first_check_and_skips_the_rest() {
    let root = short_tempdir();
    let report = json_run(&["--root", root.path().to_str().unwrap(), "--only", "cri.*"]);
    assert_status(
        &report,
        "cri.endpoint.found",
        "fail",
        &["/run/containerd/containerd.sock", "/var/run/crio/crio.sock"],
    );
    assert_status(&report, "cri.endpoint.reachable", "skip", &[]);
}

// ---------------------------------------------------------------------------------------------
// The central rule, against a real containerd: the kubelet's cgroup driver against the
// runtime's (containerd 1.6 does not answer RuntimeConfig, so its configuration decides).

/// A root tree where containerd listens at its known socket with its config at
/// /etc/containerd/config.toml, and a kubelet configured with `kubelet_driver`.
fn node_with_containerd(
    systemd_cgroup: bool,
    kubelet_driver: &str,
) -> Option<(tempfile::TempDir, Containerd)> {
    let root = short_tempdir();
    fs::create_dir_all(root.path().join("run/containerd")).unwrap();
    fs::create_dir_all(root.path().join("var/lib/kubelet")).unwrap();
    fs::write(
        root.path().join("var/lib/kubelet/config.yaml"),
        format!(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
             cgroupDriver: {kubelet_driver}\ncontainerRuntimeEndpoint: unix:///run/containerd/containerd.sock\n"
        ),
    )
    .unwrap();
    let socket = root.path().join("run/containerd/containerd.sock");
    let config = root.path().join("etc/containerd/config.toml");
    let ctd = started_or_skip(Containerd::start_with(
        Some(&socket),
        Some(&config),
        systemd_cgroup,
    ))?;
    Some((root, ctd))
}

#[test]
fn kubelet_and_a_real_containerd_agree_on_the_driver() {
    let Some((root, _ctd)) = node_with_containerd(true, "systemd") else {
        return;
    };
    let root_arg = root.path().to_str().unwrap();
    let report = json_run(&[
        "--root",
        root_arg,
        "--kubernetes-version",
        "1.35",
        "--only",
        "kubelet.cgroup-driver.runtime,containerd.cgroup-driver,cri.runtime-config,kubelet.runtime-endpoint",
    ]);
    // The endpoint came from the kubelet's config, and the socket is there.
    assert_status(
        &report,
        "kubelet.runtime-endpoint",
        "pass",
        &["/var/lib/kubelet/config.yaml:4"],
    );
    assert_status(&report, "cri.runtime-config", "warn", &[]);
    assert_status(
        &report,
        "kubelet.cgroup-driver.runtime",
        "pass",
        &[
            "kubelet.cgroup_driver = systemd (/var/lib/kubelet/config.yaml:3)",
            "runtime.cgroup_driver = systemd (/etc/containerd/config.toml:19",
        ],
    );
}

#[test]
fn a_kubelet_on_cgroupfs_and_a_real_containerd_on_systemd_disagree() {
    let Some((root, _ctd)) = node_with_containerd(true, "cgroupfs") else {
        return;
    };
    let root_arg = root.path().to_str().unwrap();
    let report = json_run(&["--root", root_arg, "--kubernetes-version", "1.36"]);
    assert_status(
        &report,
        "kubelet.cgroup-driver.runtime",
        "fail",
        &[
            "kubelet.cgroup_driver = cgroupfs (/var/lib/kubelet/config.yaml:3)",
            "runtime.cgroup_driver = systemd (/etc/containerd/config.toml:19",
            "expected the same as runtime.cgroup_driver",
        ],
    );
    // containerd 1.x is not supported from Kubernetes 1.36.
    assert_status(
        &report,
        "runtime.containerd-version",
        "fail",
        &["cri.version.runtime_version = 1."],
    );
}

#[test]
fn the_kubelets_endpoint_at_an_unusual_path_is_the_one_probed() {
    // No known socket exists; only the kubelet's containerRuntimeEndpoint says where the
    // runtime listens.
    let root = short_tempdir();
    fs::create_dir_all(root.path().join("srv/ctd")).unwrap();
    fs::create_dir_all(root.path().join("var/lib/kubelet")).unwrap();
    fs::write(
        root.path().join("var/lib/kubelet/config.yaml"),
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         cgroupDriver: cgroupfs\ncontainerRuntimeEndpoint: unix:///srv/ctd/c.sock\n",
    )
    .unwrap();
    let socket = root.path().join("srv/ctd/c.sock");
    let Some(_ctd) = started_or_skip(Containerd::start_with(Some(&socket), None, false)) else {
        return;
    };
    let root_arg = root.path().to_str().unwrap();
    let report = json_run(&[
        "--root",
        root_arg,
        "--only",
        "cri.*,kubelet.runtime-endpoint",
    ]);
    assert_status(&report, "cri.endpoint.found", "pass", &["/srv/ctd/c.sock"]);
    assert_status(
        &report,
        "cri.api.v1",
        "pass",
        &["CRI Version at /srv/ctd/c.sock"],
    );
    assert_status(
        &report,
        "kubelet.runtime-endpoint",
        "pass",
        &["/var/lib/kubelet/config.yaml:4"],
    );
    let facts = facts_run(&["--root", root_arg]);
    assert_eq!(facts["cri.endpoint"]["value"], "/srv/ctd/c.sock");
    assert_eq!(facts["runtime.in_use"]["value"], "containerd");
}
