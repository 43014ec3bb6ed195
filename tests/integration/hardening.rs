//! The read-only promise: `check` opens nothing for writing, creates nothing, runs no other
//! program and connects only to runtime sockets — seen from outside with strace.

use std::process::Command;

use crate::util::*;

/// The system calls of a run, from `strace -f`.
struct Trace {
    lines: Vec<String>,
}

fn trace(args: &[&str]) -> Trace {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=%file,%process,%network", "-o"])
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_node-preflight"))
        .args(args)
        .current_dir(project_root())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("strace runs: install Debian's strace");
    assert!(status.code().is_some(), "the traced run was killed");
    let text = std::fs::read_to_string(&out).unwrap();
    Trace {
        lines: text.lines().map(str::to_string).collect(),
    }
}

impl Trace {
    fn calls(&self, name: &str) -> Vec<&str> {
        let pattern = format!("{name}(");
        self.lines
            .iter()
            .map(String::as_str)
            .filter(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|call| call.starts_with(&pattern))
            })
            .collect()
    }

    fn assert_read_only(&self) {
        for call in ["openat", "open"] {
            for line in self.calls(call) {
                assert!(
                    !(line.contains("O_WRONLY")
                        || line.contains("O_RDWR")
                        || line.contains("O_CREAT")),
                    "opened for writing: {line}"
                );
            }
        }
        for call in [
            "creat",
            "unlink",
            "unlinkat",
            "rename",
            "renameat",
            "renameat2",
            "mkdir",
            "mkdirat",
            "truncate",
            "symlink",
            "symlinkat",
            "link",
            "linkat",
            "chmod",
            "fchmodat",
            "chown",
            "fchownat",
        ] {
            let calls = self.calls(call);
            assert!(calls.is_empty(), "{call}: {calls:?}");
        }
        let execs = self.calls("execve");
        assert_eq!(execs.len(), 1, "only its own execve: {execs:?}");
        assert!(execs[0].contains("node-preflight"), "{}", execs[0]);
        for call in ["fork", "vfork"] {
            assert!(self.calls(call).is_empty(), "{call}");
        }
    }

    /// The unix socket paths connected to.
    fn connects(&self) -> Vec<String> {
        self.calls("connect")
            .iter()
            .map(|l| {
                let start = l.find("sun_path=\"").map(|i| i + "sun_path=\"".len());
                match start {
                    Some(s) => l[s..].split('"').next().unwrap_or("").to_string(),
                    None => format!("non-unix: {l}"),
                }
            })
            .collect()
    }
}

#[test]
fn a_live_check_only_reads() {
    let t = trace(&["check", "-o", "json"]);
    t.assert_read_only();
    let known = [
        "/run/containerd/containerd.sock",
        "/var/run/containerd/containerd.sock",
        "/var/run/crio/crio.sock",
        "/run/crio/crio.sock",
        "/run/cri-dockerd.sock",
        "/var/run/cri-dockerd.sock",
        "/var/run/docker.sock",
        "/run/docker.sock",
    ];
    for path in t.connects() {
        assert!(known.contains(&path.as_str()), "connected to {path}");
    }
}

#[test]
fn a_root_check_only_reads_and_connects_only_under_the_root() {
    // The fixture's kubelet names /run/containerd/containerd.sock: the probe tries it under
    // the root (and finds nothing there), never on this machine.
    let root = fixture("healthy-v2-systemd");
    let t = trace(&["check", "-o", "junit", "--root", &root]);
    t.assert_read_only();
    assert_eq!(
        t.connects(),
        [format!("{root}/run/containerd/containerd.sock")]
    );
    // A host with no runtime at all: no connection.
    let t = trace(&["check", "--root", &fixture("swap-on")]);
    t.assert_read_only();
    assert!(t.connects().is_empty(), "{:?}", t.connects());
}

#[test]
fn a_check_with_a_cri_socket_connects_only_to_it() {
    let dir = tempfile::Builder::new()
        .prefix("np")
        .tempdir_in("/tmp")
        .unwrap();
    let socket = dir.path().join("rt.sock");
    // A listener that accepts and closes: the probe fails fast, which is all this test needs.
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            drop(conn);
        }
    });
    let socket = socket.to_str().unwrap().to_string();
    let t = trace(&[
        "check",
        "--cri-socket",
        &socket,
        "--only",
        "cri.*",
        "--timeout",
        "500ms",
    ]);
    t.assert_read_only();
    let connects = t.connects();
    assert!(!connects.is_empty(), "the probe connected");
    for path in connects {
        assert_eq!(path, socket);
    }
}
