//! The one door to the machine.
//!
//! Every read that a fact gatherer makes goes through a [`Host`]: a file under a root, a
//! directory listing, a symlink target. That is what lets every check run on a fixture tree
//! and what will let a bundle hold exactly what a run read. No other module touches
//! `std::fs` or the process environment.

mod fs;
mod record;

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crate::probe::cri::CriTranscript;
use crate::probe::docker::DockerTranscript;

pub use fs::FsHost;
pub use record::{Answer, Recorded, Recording};

/// The largest file a host will read. Configuration files and /proc captures are far smaller;
/// the bound keeps a hostile or mistaken path (a log, a disk image) from eating memory.
pub const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// How a refused read reads in messages. Rules look for it: a read refused to a process that
/// is not root says who runs the check, not what is wrong with the node.
pub const PERMISSION_DENIED: &str = "permission denied";

/// What kind of filesystem object a path names (after following symlinks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Socket,
    Other,
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: FileKind,
}

/// Why a read failed. Always carries the path it was about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct HostError {
    pub path: String,
    pub reason: ErrorReason,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorReason {
    NotFound,
    PermissionDenied,
    /// The path names something that is not a regular file (a directory, a FIFO, a device).
    NotAFile(&'static str),
    NotADirectory,
    TooLarge {
        limit: u64,
    },
    InvalidUtf8,
    /// A symlink chain that loops or leaves the root it was read under.
    BadLink(String),
    Io(String),
}

impl fmt::Display for ErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorReason::NotFound => f.write_str("not found"),
            ErrorReason::PermissionDenied => f.write_str(PERMISSION_DENIED),
            ErrorReason::NotAFile(kind) => write!(f, "is a {kind}, not a regular file"),
            ErrorReason::NotADirectory => f.write_str("not a directory"),
            ErrorReason::TooLarge { limit } => write!(f, "larger than the {limit}-byte read limit"),
            ErrorReason::InvalidUtf8 => f.write_str("not valid UTF-8 text"),
            ErrorReason::BadLink(why) => write!(f, "symlink {why}"),
            ErrorReason::Io(msg) => f.write_str(msg),
        }
    }
}

impl HostError {
    pub fn new(path: impl Into<String>, reason: ErrorReason) -> Self {
        HostError {
            path: path.into(),
            reason,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.reason == ErrorReason::NotFound
    }
}

/// Cleans an absolute path lexically, as Go's `filepath.Clean` does:
/// `/etc/sysctl.d/../sysctl.conf` → `/etc/sysctl.conf` (`..` stops at the root).
pub fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// How many symlinks one lookup may follow before it is called a loop (Linux's own limit).
pub const MAX_LINK_HOPS: usize = 40;

/// What is at a path prefix, to [`resolve_in_root`].
pub enum Prefix {
    /// Nothing, or nothing that can be looked at: the rest of the path is kept as written,
    /// and the read that follows reports why.
    Missing,
    /// A symlink, and its target as written.
    Link(String),
    /// Anything else (a directory, or a file at the end of the path).
    Other,
}

/// Resolves an absolute host path component by component, as a process chrooted at the
/// host's root would: `..` stops at the root, and an absolute link target starts again from
/// it. `at` says what each prefix is (its components, and whether more follow it). Returns
/// the resolved components.
pub fn resolve_in_root(
    path: &str,
    mut at: impl FnMut(&[String], bool) -> Result<Prefix, HostError>,
) -> Result<Vec<String>, HostError> {
    if !path.starts_with('/') {
        return Err(HostError::new(
            path,
            ErrorReason::Io("not an absolute path".into()),
        ));
    }
    let components = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(str::to_string)
            .collect()
    };
    let mut resolved: Vec<String> = Vec::new();
    let mut pending = components(path);
    let mut hops = 0;
    while let Some(component) = pending.pop() {
        match component.as_str() {
            "." => continue,
            ".." => {
                resolved.pop();
                continue;
            }
            _ => {}
        }
        resolved.push(component);
        match at(&resolved, !pending.is_empty())? {
            Prefix::Other => {}
            Prefix::Missing => {
                resolved.extend(pending.drain(..).rev());
                break;
            }
            Prefix::Link(target) => {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    return Err(HostError::new(path, ErrorReason::BadLink("loop".into())));
                }
                resolved.pop();
                if target.starts_with('/') {
                    resolved.clear();
                }
                pending.extend(components(&target));
            }
        }
    }
    Ok(resolved)
}

/// Calls `each` for every line of `bytes` (numbered from `first`), without the `\n`; a
/// final line without a newline counts, an empty tail does not. Returns the next number.
pub fn for_each_line(bytes: &[u8], first: u32, each: &mut dyn FnMut(u32, &[u8])) -> u32 {
    let mut number = first;
    let mut rest = bytes;
    while !rest.is_empty() {
        let (line, tail) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        each(number, line);
        number = number.saturating_add(1);
        rest = tail;
    }
    number
}

/// What kind of access was made, for the record a bundle is built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessKind {
    Read,
    List,
    Stat,
    ReadLink,
    /// A conversation with a unix socket (a CRI or Docker API probe).
    Probe,
}

/// One access a run made, and whether it succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub kind: AccessKind,
    pub path: String,
    /// `None` when it succeeded, otherwise why not.
    pub error: Option<String>,
}

/// The record of every access made through a host, in order.
#[derive(Debug, Default)]
pub struct AccessLog(Mutex<Vec<Access>>);

impl AccessLog {
    pub fn push(&self, kind: AccessKind, path: &str, error: Option<&HostError>) {
        let access = Access {
            kind,
            path: path.to_string(),
            error: error.map(|e| e.reason.to_string()),
        };
        // A poisoned lock only means another thread panicked mid-push; the log is still usable.
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        log.push(access);
    }

    /// Records an access whose failure is not a [`HostError`] (a probe's failed call).
    pub fn push_message(&self, kind: AccessKind, path: &str, error: Option<String>) {
        let access = Access {
            kind,
            path: path.to_string(),
            error,
        };
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        log.push(access);
    }

    /// Records an access and passes its result through.
    pub fn record<T>(
        &self,
        kind: AccessKind,
        path: &str,
        result: Result<T, HostError>,
    ) -> Result<T, HostError> {
        self.push(kind, path, result.as_ref().err());
        result
    }

    pub fn snapshot(&self) -> Vec<Access> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Everything a fact gatherer may ask of a machine.
///
/// Paths are absolute paths *on the host being checked* (`/proc/modules`), whatever root
/// the host is actually read from.
pub trait Host: Sync {
    /// Reads a whole regular file, at most [`MAX_FILE_SIZE`] bytes.
    fn read(&self, path: &str) -> Result<Vec<u8>, HostError>;

    /// Lists a directory, sorted by name.
    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError>;

    /// What the path names, following symlinks; `Ok(None)` when nothing is there.
    fn kind(&self, path: &str) -> Result<Option<FileKind>, HostError>;

    /// The target of a symlink, as written in the link.
    fn read_link(&self, path: &str) -> Result<String, HostError>;

    /// A variable of the checking process's environment; `None` on a host that is not the
    /// machine this process runs on (a `--root` tree has no environment of its own).
    fn env(&self, name: &str) -> Option<String>;

    /// Whether this host is the machine the process runs on.
    fn is_live(&self) -> bool;

    /// Whether `/proc/self` on this host is the process that looks at it: live, or a bundle
    /// collected live (whose recording holds what the collecting process read there). Not a
    /// `--root` tree, whose /proc is a copy or another machine's.
    fn proc_self_is_the_reader(&self) -> bool {
        self.is_live()
    }

    /// A short description for reports: `live` or `root /mnt/node`.
    fn describe(&self) -> String;

    /// Every access made so far.
    fn accesses(&self) -> Vec<Access>;

    /// Asks the CRI runtime listening on the unix socket at `socket` (a path on the host)
    /// for its `Version`, `Status` and `RuntimeConfig`, each within `timeout`.
    fn probe_cri(&self, socket: &str, timeout: Duration) -> CriTranscript;

    /// Asks Docker Engine listening on the unix socket at `socket` for `/version` and
    /// `/info`, each within `timeout`.
    fn probe_docker(&self, socket: &str, timeout: Duration) -> DockerTranscript;

    /// Reads a file a line at a time, for files that can be large and are mostly skipped
    /// (a busy node's `/proc/mounts` holds tens of thousands of container mounts): `each`
    /// gets the 1-based line number and the line's bytes without the newline. A host that
    /// reads from disk streams it in small buffers instead of holding the file whole; the
    /// same [`MAX_FILE_SIZE`] bound applies, and the access is recorded as a read.
    fn read_lines(&self, path: &str, each: &mut dyn FnMut(u32, &[u8])) -> Result<(), HostError> {
        let bytes = self.read(path)?;
        for_each_line(&bytes, 1, each);
        Ok(())
    }

    /// Reads a file as UTF-8 text.
    fn read_text(&self, path: &str) -> Result<String, HostError> {
        let bytes = self.read(path)?;
        String::from_utf8(bytes).map_err(|_| HostError::new(path, ErrorReason::InvalidUtf8))
    }

    /// Reads a file as text, or `Ok(None)` when it does not exist.
    fn read_text_opt(&self, path: &str) -> Result<Option<String>, HostError> {
        match self.read_text(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether anything exists at the path. An error (permission denied) counts as "cannot
    /// tell" and is returned as such.
    fn exists(&self, path: &str) -> Result<bool, HostError> {
        self.kind(path).map(|k| k.is_some())
    }
}
