//! Faults, each with a test (issue #6): a file that cannot be read, vanishes, is a directory,
//! a symlink loop, a FIFO, 100 MiB, not UTF-8; a runtime socket that refuses, never answers,
//! answers garbage, closes mid-answer, sends 64 MiB, or answers a byte at a time.
//!
//! Each run is the real binary on a host tree built from the healthy fixture with one fault
//! planted, checking the whole catalog with `--timeout 500ms`, under a wall-clock guard (a
//! run that hung would fail the test, not hang it). Each asserts the same three things: the
//! run finishes with a report, the check the fault stops names the path and the reason, and
//! the checks the fault does not touch still give their verdicts.
//!
//! A file fault makes its checks `error` (they cannot be evaluated). A socket fault is the
//! finding itself: the kubelet would meet the same socket, so the reachability check fails
//! naming the socket and what it did, and the checks that need an answer are skipped.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use crate::cri::{frame, response_headers};
use crate::util::*;

/// Far above any deadline given here; reaching it means something ignored its deadline.
const WALL_CLOCK_LIMIT: Duration = Duration::from_secs(30);
const TIMEOUT: &str = "500ms";

// ---------------------------------------------------------------------------------------------
// Running the binary.

/// How to start the binary: directly, as `nobody`, or measured by time(1).
pub(crate) enum As {
    Me,
    Nobody,
    /// Under `/usr/bin/time -f %M -o FILE`: the peak resident memory in KiB lands in FILE.
    Measured(PathBuf),
}

/// Runs `node-preflight ARGS` (as `who`), killing it and failing the test if it outlives the
/// wall-clock limit.
pub(crate) fn guarded(who: &As, args: &[&str]) -> Run {
    let bin = OsString::from(env!("CARGO_BIN_EXE_node-preflight"));
    // Kept until the run is over.
    let copy = matches!(who, As::Nobody).then(nobodys_copy);
    let mut argv: Vec<OsString> = match who {
        As::Me => vec![bin],
        As::Nobody => [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ]
        .map(OsString::from)
        .into_iter()
        .chain(copy.iter().map(|(_, path)| path.clone().into_os_string()))
        .collect(),
        As::Measured(out) => vec![
            "/usr/bin/time".into(),
            "-f".into(),
            "%M".into(),
            "-o".into(),
            out.into(),
            bin,
        ],
    };
    argv.extend(args.iter().map(OsString::from));
    let run = run_with_limit(&argv, args, WALL_CLOCK_LIMIT);
    assert!(
        !run.stderr.contains("panicked"),
        "node-preflight panicked:\n{}",
        run.stderr
    );
    run
}

/// The binary, copied where `nobody` may run it (the build directory can be under a home
/// that only its owner may enter), in a directory removed when the run is over.
fn nobodys_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("node-preflight");
    fs::copy(env!("CARGO_BIN_EXE_node-preflight"), &path).expect("copy the binary");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    (dir, path)
}

/// `check -o json` of the whole catalog on a tree, as `who`, with a short probe deadline.
fn check_tree(who: &As, root: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "check",
        "-o",
        "json",
        "--root",
        root,
        "--role",
        "control-plane",
        "--kubernetes-version",
        "1.35",
        "--timeout",
        TIMEOUT,
    ];
    args.extend_from_slice(extra);
    let run = guarded(who, &args);
    assert_eq!(run.code, 1, "a fault is planted: {}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr: {}", run.stdout, run.stderr));
    assert_valid_report_json(&run.stdout);
    report
}

pub(crate) fn assert_check(report: &serde_json::Value, id: &str, status: &str, needles: &[&str]) {
    let got = status_of(report, id);
    let message = message(report, id);
    assert_eq!(got, status, "{id}: {message}");
    for needle in needles {
        assert!(
            message.contains(needle),
            "{id}: the message lacks {needle:?}: {message}"
        );
    }
}

/// Checks that none of the faults here touches, with their verdicts on the healthy fixture:
/// each area's gatherer ran to the end despite the fault in another.
const UNTOUCHED: &[(&str, &str)] = &[
    ("kernel.overlay", "pass"),
    ("kernel.config.required", "pass"),
    ("sysctl.ip-forward", "pass"),
    ("cgroups.v2", "pass"),
    ("node.swap", "pass"),
    ("node.cpus", "pass"),
    ("node.hostname", "pass"),
    ("cni.config", "pass"),
];

fn assert_the_rest_ran(report: &serde_json::Value, except: &[&str]) {
    for (id, status) in UNTOUCHED.iter().filter(|(id, _)| !except.contains(id)) {
        assert_eq!(
            status_of(report, id),
            *status,
            "{id} did not run as on a healthy host: {}",
            message(report, id)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// File faults.

pub(crate) fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

#[test]
fn a_file_that_cannot_be_read_is_an_error_naming_it() {
    // As root every file is readable, so the binary runs as `nobody` (setpriv, util-linux)
    // on a tree with a file nobody may read. A --root tree is not this machine, so this is
    // an error, not a "needs root" skip (see unprivileged.rs for live runs).
    let host = HostBuilder::from_fixture("healthy-v2-systemd");
    let secret = host.path().join("etc/sysctl.d/k8s.conf");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(host.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let who = if is_root() { As::Nobody } else { As::Me };
    let report = check_tree(&who, &host.root_arg(), &[]);
    for id in [
        "sysctl.ip-forward.persistent",
        "sysctl.bridge-nf-call-iptables.persistent",
        "sysctl.bridge-nf-call-ip6tables.persistent",
    ] {
        assert_check(
            &report,
            id,
            "error",
            &["/etc/sysctl.d/k8s.conf: permission denied"],
        );
    }
    assert_the_rest_ran(&report, &[]);
}

#[test]
fn a_directory_where_a_file_is_expected_is_an_error_naming_it() {
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .remove("/proc/meminfo")
        .dir("/proc/meminfo");
    let report = check_tree(&As::Me, &host.root_arg(), &[]);
    assert_check(
        &report,
        "node.memory",
        "error",
        &["/proc/meminfo: is a directory, not a regular file"],
    );
    assert_the_rest_ran(&report, &[]);
}

#[test]
fn a_symlink_loop_is_an_error_naming_it() {
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .symlink("/etc/sysctl.d/50-a.conf", "/etc/sysctl.d/50-b.conf")
        .symlink("/etc/sysctl.d/50-b.conf", "50-a.conf");
    let report = check_tree(&As::Me, &host.root_arg(), &[]);
    assert_check(
        &report,
        "sysctl.ip-forward.persistent",
        "error",
        &["/etc/sysctl.d/50-a.conf: symlink loop"],
    );
    assert_the_rest_ran(&report, &[]);
}

#[test]
fn a_fifo_where_a_config_should_be_does_not_block() {
    // Nothing ever writes to the FIFO: an open or a read that waited for a writer would
    // hang the run until the guard kills it.
    let host =
        HostBuilder::from_fixture("healthy-v2-systemd").remove("/etc/modules-load.d/k8s.conf");
    mkfifo(&host.path().join("etc/modules-load.d/k8s.conf"));
    let report = check_tree(&As::Me, &host.root_arg(), &[]);
    for id in [
        "kernel.overlay.persistent",
        "kernel.br-netfilter.persistent",
    ] {
        assert_check(
            &report,
            id,
            "error",
            &["/etc/modules-load.d/k8s.conf: is a FIFO, not a regular file"],
        );
    }
    assert_the_rest_ran(&report, &[]);
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs (coreutils)");
    assert!(status.success());
}

/// The peak resident memory, in MiB, that time(1) wrote.
fn peak_mib(time_output: &Path) -> u64 {
    let text = fs::read_to_string(time_output).expect("time(1) wrote its figures");
    // A run that exits non-zero gets a "Command exited with non-zero status" line first.
    let kib: u64 = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("not a figure from time(1): {text:?}"));
    kib / 1024
}

fn time_available() -> bool {
    let there = Path::new("/usr/bin/time").is_file();
    if !there && std::env::var("CI").as_deref() == Ok("true") {
        panic!("/usr/bin/time is missing under CI (apt-get install time)");
    }
    there
}

#[test]
fn a_100_mib_file_is_refused_without_being_read() {
    // Sparse: 100 MiB long, no disk used. Its size alone refuses it (the 16 MiB bound), so
    // the run's memory stays far below the file's size.
    let host = HostBuilder::from_fixture("healthy-v2-systemd");
    let big = host.path().join("etc/containerd/config.toml");
    fs::File::create(&big)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let measured = dir.path().join("time");
    let who = if time_available() {
        As::Measured(measured.clone())
    } else {
        eprintln!("\n*** /usr/bin/time is missing: memory not measured\n");
        As::Me
    };
    let report = check_tree(&who, &host.root_arg(), &[]);
    for id in [
        "containerd.config.valid",
        "containerd.cri-enabled",
        "containerd.cgroup-driver",
    ] {
        assert_check(
            &report,
            id,
            "error",
            &["/etc/containerd/config.toml: larger than the 16777216-byte read limit"],
        );
    }
    assert_the_rest_ran(&report, &["cni.config"]);
    if let As::Measured(out) = who {
        let peak = peak_mib(&out);
        assert!(peak < 64, "a 100 MiB file took the run to {peak} MiB");
    }
}

#[test]
fn invalid_utf8_is_an_error_naming_the_file() {
    let host = HostBuilder::from_fixture("healthy-v2-systemd").file(
        "/var/lib/kubelet/config.yaml",
        b"apiVersion: kubelet.config.k8s.io/v1beta1\ncgroupDriver: \xff\xfesystemd\n",
    );
    let report = check_tree(&As::Me, &host.root_arg(), &[]);
    assert_check(
        &report,
        "kubelet.cgroup-driver.runtime",
        "error",
        &["/var/lib/kubelet/config.yaml: not valid UTF-8 text"],
    );
    assert_the_rest_ran(&report, &[]);
}

/// A [`Host`] that deletes one file from its tree the moment the run asks to read it, after
/// the directory listing that named it: the "vanishes between listing and reading" race,
/// made certain. This is a Host wrapper driven through the library (a genuine race with the
/// binary could not be made to lose every time); the read itself is the real FsHost's,
/// meeting a file that is really gone.
mod vanishing {
    use std::path::PathBuf;
    use std::time::Duration;

    use node_preflight::host::{Access, DirEntry, FileKind, FsHost, Host, HostError};
    use node_preflight::probe::cri::CriTranscript;
    use node_preflight::probe::docker::DockerTranscript;

    pub struct Vanishing {
        pub inner: FsHost,
        /// The host path that vanishes, and where it is on disk.
        pub path: &'static str,
        pub on_disk: PathBuf,
    }

    impl Host for Vanishing {
        fn read(&self, path: &str) -> Result<Vec<u8>, HostError> {
            if path == self.path {
                let _ = std::fs::remove_file(&self.on_disk);
            }
            self.inner.read(path)
        }
        fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
            self.inner.list_dir(path)
        }
        fn kind(&self, path: &str) -> Result<Option<FileKind>, HostError> {
            self.inner.kind(path)
        }
        fn read_link(&self, path: &str) -> Result<String, HostError> {
            self.inner.read_link(path)
        }
        fn env(&self, name: &str) -> Option<String> {
            self.inner.env(name)
        }
        fn is_live(&self) -> bool {
            self.inner.is_live()
        }
        fn describe(&self) -> String {
            self.inner.describe()
        }
        fn accesses(&self) -> Vec<Access> {
            self.inner.accesses()
        }
        fn probe_cri(&self, socket: &str, timeout: Duration) -> CriTranscript {
            self.inner.probe_cri(socket, timeout)
        }
        fn probe_docker(&self, socket: &str, timeout: Duration) -> DockerTranscript {
            self.inner.probe_docker(socket, timeout)
        }
    }
}

#[test]
fn a_file_that_vanishes_between_listing_and_reading_is_an_error_naming_it() {
    use clap::Parser;
    use node_preflight::host::{AccessKind, FsHost, Host};

    let tree = HostBuilder::from_fixture("healthy-v2-systemd");
    let host = vanishing::Vanishing {
        inner: FsHost::under(tree.path()),
        path: "/etc/sysctl.d/k8s.conf",
        on_disk: tree.path().join("etc/sysctl.d/k8s.conf"),
    };
    let cli = node_preflight::cli::Cli::try_parse_from([
        "node-preflight",
        "--root",
        &tree.root_arg(),
        "--role",
        "control-plane",
        "--kubernetes-version",
        "1.35",
        "--timeout",
        TIMEOUT,
    ])
    .unwrap();
    let config = cli.check.validate().unwrap();
    let report = node_preflight::commands::build_report(&host, &config);
    let json = node_preflight::report::json::render(&report);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();

    // The listing named it, then the read found nothing.
    let log = host.accesses();
    let listed = log
        .iter()
        .position(|a| a.kind == AccessKind::List && a.path == "/etc/sysctl.d");
    let read = log
        .iter()
        .position(|a| a.kind == AccessKind::Read && a.path == "/etc/sysctl.d/k8s.conf");
    assert!(listed < read && listed.is_some(), "{log:?}");
    assert_eq!(log[read.unwrap()].error.as_deref(), Some("not found"));

    assert_check(
        &report,
        "sysctl.ip-forward.persistent",
        "error",
        &["/etc/sysctl.d/k8s.conf: listed, then gone before it could be read"],
    );
    assert_eq!(report["summary"]["exit_code"], 1);
    assert_the_rest_ran(&report, &[]);
}

// ---------------------------------------------------------------------------------------------
// Socket faults, for both probes: CRI (gRPC over HTTP/2) at the socket the fixture's kubelet
// names, and Docker's Engine API (HTTP/1.1) at /var/run/docker.sock.

#[derive(Clone, Copy, Debug)]
enum Protocol {
    Cri,
    Docker,
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// A socket file that nothing listens on.
    Refuses,
    /// Accepts and never says a word.
    Silent,
    /// Answers bytes that are no protocol at all.
    Garbage,
    /// Starts a proper answer, then closes the connection in the middle of it.
    ClosesMidAnswer,
    /// Sends a 64 MiB answer.
    Huge,
    /// Answers properly, a byte every 100 ms: only a deadline on the whole call ends it.
    Trickle,
}

const HUGE: usize = 64 * 1024 * 1024;

impl Protocol {
    /// The socket's path on the host, and the check that reports on it.
    fn socket(self) -> &'static str {
        match self {
            Protocol::Cri => "/run/containerd/containerd.sock",
            Protocol::Docker => "/var/run/docker.sock",
        }
    }

    /// The check that reports on the socket, and its verdict when the socket misbehaves
    /// (Docker's API is a warning where Docker is not the runtime, as here).
    fn check(self) -> (&'static str, &'static str) {
        match self {
            Protocol::Cri => ("cri.endpoint.reachable", "fail"),
            Protocol::Docker => ("cri.docker-api.reachable", "warn"),
        }
    }

    /// Where the message says the observation came from.
    fn source(self) -> &'static str {
        match self {
            Protocol::Cri => "CRI Version at /run/containerd/containerd.sock",
            Protocol::Docker => "Docker API GET /version at /var/run/docker.sock",
        }
    }
}

/// A tree from the healthy fixture with a misbehaving server at the protocol's socket
/// (under /tmp: a unix socket's path is limited to 108 bytes).
fn tree_with(protocol: Protocol, fault: Fault) -> tempfile::TempDir {
    let root = crate::cri::short_tempdir();
    copy_tree(
        &project_root().join(fixture("healthy-v2-systemd")),
        root.path(),
    );
    let socket = root.path().join(protocol.socket().trim_start_matches('/'));
    fs::create_dir_all(socket.parent().unwrap()).unwrap();
    serve(&socket, protocol, fault);
    root
}

fn serve(path: &Path, protocol: Protocol, fault: Fault) {
    let listener = UnixListener::bind(path).unwrap();
    if let Fault::Refuses = fault {
        drop(listener);
        assert!(path.exists(), "the socket file stays after close");
        return;
    }
    thread::spawn(move || {
        // Connections are held until the test process ends, unless the fault closes them.
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            match fault {
                Fault::Silent => held.push(conn),
                Fault::Garbage => {
                    let mut conn = conn;
                    let _ = conn.write_all(&garbage(4096));
                    held.push(conn);
                }
                _ => {
                    thread::spawn(move || match protocol {
                        Protocol::Cri => h2_fault(conn, fault),
                        Protocol::Docker => http_fault(conn, fault),
                    });
                }
            }
        }
    });
}

/// Bytes that are no protocol: a fixed pseudo-random sequence.
fn garbage(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x2545_f491;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// Docker's side: reads the request's head, then misbehaves.
fn http_fault(mut conn: UnixStream, fault: Fault) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let answer_head = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    match fault {
        Fault::ClosesMidAnswer => {
            let _ = conn.write_all(answer_head(1000).as_bytes());
            let _ = conn.write_all(br#"{"Version":"24.0.7","ApiVers"#);
            // Dropped: closed in the middle of the body.
        }
        Fault::Huge => {
            if conn.write_all(answer_head(HUGE).as_bytes()).is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..HUGE / chunk.len() {
                // The client stops reading at its limit and closes: the write fails.
                if conn.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
        Fault::Trickle => {
            let body = br#"{"Version":"24.0.7","ApiVersion":"1.43"}"#;
            let mut answer = answer_head(body.len()).into_bytes();
            answer.extend_from_slice(body);
            trickle(&mut conn, &answer);
        }
        _ => unreachable!("{fault:?} is served without reading a request"),
    }
}

/// Writes a byte every 100 ms until done or the client goes away.
fn trickle(conn: &mut UnixStream, bytes: &[u8]) {
    for b in bytes {
        if conn.write_all(&[*b]).is_err() {
            return;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// The CRI side: just enough HTTP/2 to take a gRPC request (SETTINGS and their acks, flow
/// control), then misbehave in the answer.
fn h2_fault(mut conn: UnixStream, fault: Fault) {
    let mut preface = [0u8; 24];
    if conn.read_exact(&mut preface).is_err() {
        return;
    }
    if conn.write_all(&frame(4, 0, 0, &[])).is_err() {
        return;
    }
    // Flow control (RFC 9113 §6.9): the huge answer is sent only as fast as the client's
    // windows allow, as a real server would, so the client sees a well-formed 64 MiB message.
    let mut conn_window: i64 = 65_535;
    let mut initial_window: i64 = 65_535;
    // (stream, stream window, bytes still to send, bytes sent)
    let mut flood: Option<(u32, i64, usize, usize)> = None;
    loop {
        let mut header = [0u8; 9];
        if conn.read_exact(&mut header).is_err() {
            return;
        }
        let len = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let (kind, flags) = (header[3], header[4]);
        let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & !(1 << 31);
        let mut payload = vec![0u8; len];
        if conn.read_exact(&mut payload).is_err() {
            return;
        }
        match kind {
            // SETTINGS: note INITIAL_WINDOW_SIZE (id 4), ack.
            4 if flags & 1 == 0 => {
                for setting in payload.chunks_exact(6) {
                    if u16::from_be_bytes([setting[0], setting[1]]) == 4 {
                        let value = i64::from(u32::from_be_bytes([
                            setting[2], setting[3], setting[4], setting[5],
                        ]));
                        if let Some(f) = &mut flood {
                            f.1 += value - initial_window;
                        }
                        initial_window = value;
                    }
                }
                if conn.write_all(&frame(4, 1, 0, &[])).is_err() {
                    return;
                }
            }
            // WINDOW_UPDATE
            8 if payload.len() == 4 => {
                let increment = i64::from(
                    u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]])
                        & !(1 << 31),
                );
                match &mut flood {
                    _ if stream == 0 => conn_window += increment,
                    Some(f) if f.0 == stream => f.1 += increment,
                    _ => {}
                }
            }
            // RST_STREAM or GOAWAY: the client gave up on the answer.
            3 | 7 => return,
            // HEADERS: a request.
            1 => {
                let head = frame(1, 0x4, stream, &response_headers(None));
                match fault {
                    Fault::ClosesMidAnswer => {
                        // A message announced as 100 bytes, 10 of them sent, then the end.
                        let mut data = vec![0, 0, 0, 0, 100];
                        data.extend_from_slice(&[0x0a; 10]);
                        let _ = conn.write_all(&head);
                        let _ = conn.write_all(&frame(0, 0, stream, &data));
                        return;
                    }
                    Fault::Trickle => {
                        trickle(&mut conn, &head);
                        return;
                    }
                    Fault::Huge => {
                        if conn.write_all(&head).is_err() {
                            return;
                        }
                        flood = Some((stream, initial_window, HUGE + 5, 0));
                    }
                    _ => unreachable!("{fault:?} is served without HTTP/2"),
                }
            }
            _ => {}
        }
        if let Some((stream, window, remaining, sent)) = &mut flood {
            while *remaining > 0 && conn_window > 0 && *window > 0 {
                let n = (*remaining)
                    .min(16_384)
                    .min(conn_window as usize)
                    .min(*window as usize);
                let mut data = vec![0u8; n];
                if *sent == 0 {
                    // The gRPC message header: uncompressed, 64 MiB long.
                    data[1..5].copy_from_slice(&(HUGE as u32).to_be_bytes());
                }
                if conn.write_all(&frame(0, 0, *stream, &data)).is_err() {
                    return;
                }
                *remaining -= n;
                *sent += n;
                *window -= n as i64;
                conn_window -= n as i64;
            }
        }
    }
}

/// Runs the whole catalog against a tree with one socket fault and checks the verdict.
fn socket_fault(protocol: Protocol, fault: Fault, reason: &str) -> serde_json::Value {
    let root = tree_with(protocol, fault);
    let root_arg = root.path().to_str().unwrap();
    let report = check_tree(&As::Me, root_arg, &[]);
    let (id, status) = protocol.check();
    assert_check(&report, id, status, &[protocol.source(), reason]);
    if let Protocol::Cri = protocol {
        // No answer, so nothing to judge: the checks that need one say why they do not apply.
        for id in ["cri.api.v1", "cri.status.runtime-ready"] {
            assert_check(&report, id, "skip", &["cri.reachable = false"]);
        }
    }
    assert_the_rest_ran(&report, &[]);
    report
}

#[test]
fn a_socket_that_refuses_fails_its_check_naming_it() {
    for protocol in [Protocol::Cri, Protocol::Docker] {
        socket_fault(protocol, Fault::Refuses, "connection refused");
    }
}

#[test]
fn a_socket_that_never_answers_ends_at_the_timeout() {
    for protocol in [Protocol::Cri, Protocol::Docker] {
        socket_fault(protocol, Fault::Silent, "no answer within 500ms");
    }
}

#[test]
fn a_socket_answering_garbage_fails_its_check_naming_it() {
    // The HTTP/2 error itself ("frame with invalid size") or, when the channel noticed the
    // dead connection first, "the connection ended: the other end does not speak HTTP/2".
    socket_fault(Protocol::Cri, Fault::Garbage, "not a gRPC server: ");
    socket_fault(Protocol::Docker, Fault::Garbage, "not an HTTP server");
}

#[test]
fn a_socket_that_closes_mid_answer_fails_its_check_naming_it() {
    socket_fault(Protocol::Cri, Fault::ClosesMidAnswer, "not a gRPC server");
    socket_fault(
        Protocol::Docker,
        Fault::ClosesMidAnswer,
        "cannot read the answer to GET /version",
    );
}

#[test]
fn a_64_mib_answer_is_refused_at_the_limit() {
    for protocol in [Protocol::Cri, Protocol::Docker] {
        let root = tree_with(protocol, Fault::Huge);
        let root_arg = root.path().to_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let who = if time_available() {
            As::Measured(dir.path().join("time"))
        } else {
            As::Me
        };
        let report = check_tree(&who, root_arg, &[]);
        let (id, status) = protocol.check();
        assert_check(
            &report,
            id,
            status,
            &[protocol.source(), "larger than the 4 MiB limit"],
        );
        assert_the_rest_ran(&report, &[]);
        if let As::Measured(out) = who {
            let peak = peak_mib(&out);
            assert!(peak < 48, "a 64 MiB answer took the run to {peak} MiB");
        }
    }
}

#[test]
fn a_socket_answering_a_byte_at_a_time_ends_at_the_timeout() {
    // Every read gets a byte within 100 ms, so only a deadline on the whole call (not an
    // idle timeout per read) ends it.
    for protocol in [Protocol::Cri, Protocol::Docker] {
        socket_fault(protocol, Fault::Trickle, "no answer within 500ms");
    }
}

#[test]
fn configurations_built_to_exhaust_their_parser_are_refused() {
    // A YAML "billion laughs" (aliases of aliases: 9^9 nodes once expanded) as the kubelet's
    // config, and a TOML nested 100,000 arrays deep as containerd's: each parser's own bound
    // (serde-saphyr's node budget, toml's recursion limit) refuses it, and the run goes on.
    let mut yaml = String::from(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        let refs = vec![format!("*{prev}"); 9].join(",");
        yaml.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    yaml.push_str("cgroupDriver: systemd\n");
    let toml = format!(
        "version = 2\nx = {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .file("/var/lib/kubelet/config.yaml", yaml)
        .file("/etc/containerd/config.toml", toml);
    let report = check_tree(&As::Me, &host.root_arg(), &[]);
    assert_check(
        &report,
        "kubelet.cgroup-driver.runtime",
        "error",
        &["/var/lib/kubelet/config.yaml:", "budget breached"],
    );
    assert_check(
        &report,
        "containerd.cgroup-driver",
        "error",
        &["/etc/containerd/config.toml:2:", "max recursion depth met"],
    );
    assert_the_rest_ran(&report, &["cni.config"]);
}
