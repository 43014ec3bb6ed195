//! The read-only promise: `check` opens nothing for writing, creates nothing, runs no other
//! program and connects only to runtime sockets — seen from outside with strace.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// The system calls of a run, from `strace -f`.
struct Trace {
    lines: Vec<String>,
}

/// Runs `node-preflight ARGS` under `strace -f`, in an empty working directory that must
/// still be empty afterwards (nothing created where a careless relative path would land).
fn trace(args: &[&str]) -> Trace {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace");
    let cwd = tempfile::tempdir().unwrap();
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=%file,%process,%network", "-o"])
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_node-preflight"))
        .args(args)
        .current_dir(cwd.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("strace runs: install Debian's strace");
    assert!(status.code().is_some(), "the traced run was killed");
    let left: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "the run created {left:?} in its working directory"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    Trace {
        lines: text.lines().map(str::to_string).collect(),
    }
}

/// Every path under a tree with its type, size, mode and modification time: equal before
/// and after a run means the run changed nothing there.
fn snapshot(root: &Path) -> Vec<(PathBuf, String)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let m = std::fs::symlink_metadata(&path).unwrap();
            if m.is_dir() {
                pending.push(path.clone());
            }
            let state = format!(
                "{:?} {} {:o} {}.{}",
                m.file_type(),
                m.len(),
                m.mode(),
                m.mtime(),
                m.mtime_nsec()
            );
            out.push((path, state));
        }
    }
    out.sort();
    out
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
        for call in ["openat", "open", "openat2"] {
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
            "mknod",
            "mknodat",
            // Binding a unix socket creates a file; binding any other is listening.
            "bind",
            "listen",
            "execveat",
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
        // Threads, yes (clone with CLONE_THREAD); another process, no.
        for call in ["clone", "clone3"] {
            for line in self.calls(call) {
                assert!(line.contains("CLONE_THREAD"), "a new process: {line}");
            }
        }
        // The only sockets are unix sockets (the runtime probes): no network at all.
        for line in self.calls("socket") {
            assert!(
                line.contains("AF_UNIX"),
                "a socket that is not a unix one: {line}"
            );
        }
    }

    /// No path opened twice, by any thread (the kernel config read ahead included): every
    /// attempt counts, failed ones too; `O_PATH` opens only look, they read nothing.
    fn assert_each_file_opened_once(&self) {
        let mut seen = std::collections::BTreeMap::<String, usize>::new();
        for call in ["openat", "open", "openat2"] {
            for line in self.calls(call) {
                // The dynamic loader looks for libraries along the search path `cargo test`
                // sets, before the program starts.
                if line.contains("O_PATH") || line.contains(".so") {
                    continue;
                }
                // `openat(DIRFD, "PATH", ...`: the directory and the path name the file.
                let Some(args) = line.split_once('(').map(|(_, rest)| rest) else {
                    continue;
                };
                let mut parts = args.splitn(3, ", ");
                let key = format!(
                    "{} {}",
                    parts.next().unwrap_or(""),
                    parts.next().unwrap_or("")
                );
                *seen.entry(key).or_default() += 1;
            }
        }
        let twice: Vec<_> = seen.into_iter().filter(|(_, n)| *n > 1).collect();
        assert!(twice.is_empty(), "opened more than once: {twice:?}");
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
    t.assert_each_file_opened_once();
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
    let root = project_root().join(fixture("healthy-v2-systemd"));
    let root = root.to_str().unwrap();
    let before = snapshot(Path::new(root));
    let t = trace(&["check", "-o", "junit", "--root", root]);
    t.assert_read_only();
    t.assert_each_file_opened_once();
    assert_eq!(
        t.connects(),
        [format!("{root}/run/containerd/containerd.sock")]
    );
    assert_eq!(snapshot(Path::new(root)), before, "the tree changed");
    // A host with no runtime at all: no connection.
    let swap_on = project_root().join(fixture("swap-on"));
    let t = trace(&["check", "--root", swap_on.to_str().unwrap()]);
    t.assert_read_only();
    assert!(t.connects().is_empty(), "{:?}", t.connects());
}

#[test]
fn a_bundle_check_only_reads_the_bundle_and_connects_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("node.tar.gz");
    let root = project_root().join(fixture("healthy-v2-systemd"));
    let run = node_preflight(&[
        "collect",
        "-o",
        bundle.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = snapshot(dir.path());
    let t = trace(&["check", "-o", "json", "--bundle", bundle.to_str().unwrap()]);
    t.assert_read_only();
    assert!(t.connects().is_empty(), "{:?}", t.connects());
    assert_eq!(
        snapshot(dir.path()),
        before,
        "the bundle's directory changed"
    );
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

#[test]
fn the_trace_sees_writes_when_there_are_some() {
    // Guards the guard: if strace's output changed shape, the assertions above would pass on
    // nothing. A check run shows its reads; `collect`, which writes its bundle, is caught.
    let root = project_root().join(fixture("swap-on"));
    let root = root.to_str().unwrap();
    let t = trace(&["check", "--root", root]);
    // Under --root the file is opened relative to the root with openat2(RESOLVE_IN_ROOT).
    let opens: Vec<&str> = t
        .calls("openat")
        .into_iter()
        .chain(t.calls("openat2"))
        .collect();
    assert!(
        opens.iter().any(|l| l.contains("proc/swaps")),
        "the trace shows no read of /proc/swaps"
    );
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b.tar.gz");
    let t = trace(&["collect", "-o", bundle.to_str().unwrap(), "--root", root]);
    let caught = std::panic::catch_unwind(|| t.assert_read_only());
    assert!(caught.is_err(), "collect wrote its bundle unseen");
}
