//! `manifest.json`: what a bundle is, where it came from, and every answer the host gave.
//!
//! The files and probe transcripts are separate archive entries; the manifest says which
//! question each answers (`accesses`) and what each entry must hash to (`files`).

use serde::{Deserialize, Serialize};

use crate::host::{DirEntry, ErrorReason, FileKind, HostError};

/// The one format this version writes and reads. A reader refuses any other, rather than
/// guessing at a layout it does not know.
pub const FORMAT: &str = "node-preflight/bundle/v1";

/// The archive entry holding the manifest.
pub const MANIFEST_ENTRY: &str = "manifest.json";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub tool: ToolInfo,
    /// When the bundle was collected, RFC 3339 in UTC.
    pub created: String,
    pub hostname: Option<String>,
    pub kernel: Option<String>,
    /// The host collected: `live` or `root DIR`.
    pub source: String,
    /// The `collect` command line, as given.
    pub command_line: Vec<String>,
    /// The ids of the checks selected: the bundle holds what these needed.
    pub checks: Vec<String>,
    pub target: TargetRecord,
    pub runtime: RuntimeRecord,
    /// Every question the run asked of the host, once each, with its answer.
    pub accesses: Vec<RecordedAccess>,
    /// Every archive entry but the manifest, with its size and SHA-256.
    pub files: Vec<FileRecord>,
    /// What was replaced before it reached the bundle (never the values).
    pub redactions: Vec<Redaction>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetRecord {
    pub kubernetes_version: String,
    pub kubernetes_version_source: String,
    pub role: String,
}

/// The runtime options of the run: they decide which sockets were probed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeRecord {
    pub runtime: Option<String>,
    pub cri_socket: Option<String>,
    pub timeout_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    /// The archive entry: `root/etc/sysctl.d/k8s.conf`, `probes/cri-1.json`.
    pub entry: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    /// The host path of the file.
    pub file: String,
    /// Where in it: a dotted key path (`auths."registry.example.com".auth`), with the line.
    pub key: String,
    pub line: u32,
}

/// Which question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Read,
    List,
    Stat,
    ReadLink,
    ProbeCri,
    ProbeDocker,
    Env,
}

/// One question (`path`: a host path, a socket, a variable's name) and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedAccess {
    pub op: Op,
    pub path: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The access failed, and why.
    Error(RecordedError),
    /// A file read or a probe: the archive entry holding the bytes or the transcript.
    Entry(String),
    /// A directory listing.
    Listing(Vec<ListedEntry>),
    /// What a stat found (`null`: nothing there).
    Found(Option<Kind>),
    /// A symlink's target.
    Target(String),
    /// An environment variable's value (`null`: unset).
    Value(Option<String>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedEntry {
    pub name: String,
    pub kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    File,
    Dir,
    Socket,
    Other,
}

impl From<FileKind> for Kind {
    fn from(k: FileKind) -> Self {
        match k {
            FileKind::File => Kind::File,
            FileKind::Dir => Kind::Dir,
            FileKind::Socket => Kind::Socket,
            FileKind::Other => Kind::Other,
        }
    }
}

impl From<Kind> for FileKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::File => FileKind::File,
            Kind::Dir => FileKind::Dir,
            Kind::Socket => FileKind::Socket,
            Kind::Other => FileKind::Other,
        }
    }
}

impl From<&DirEntry> for ListedEntry {
    fn from(e: &DirEntry) -> Self {
        ListedEntry {
            name: e.name.clone(),
            kind: e.kind.into(),
        }
    }
}

impl From<&ListedEntry> for DirEntry {
    fn from(e: &ListedEntry) -> Self {
        DirEntry {
            name: e.name.clone(),
            kind: e.kind.into(),
        }
    }
}

/// A [`HostError`]'s reason as data, so that a replay fails the same way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedError {
    pub reason: Reason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    NotFound,
    PermissionDenied,
    NotAFile,
    NotADirectory,
    TooLarge,
    InvalidUtf8,
    BadLink,
    Io,
}

/// The kinds of "not a regular file" a host names (the reason holds a `&'static str`).
const NOT_A_FILE_KINDS: &[&str] = &["directory", "FIFO", "socket", "device", "special file"];

impl From<&ErrorReason> for RecordedError {
    fn from(r: &ErrorReason) -> Self {
        let (reason, detail, limit) = match r {
            ErrorReason::NotFound => (Reason::NotFound, None, None),
            ErrorReason::PermissionDenied => (Reason::PermissionDenied, None, None),
            ErrorReason::NotAFile(kind) => (Reason::NotAFile, Some(kind.to_string()), None),
            ErrorReason::NotADirectory => (Reason::NotADirectory, None, None),
            ErrorReason::TooLarge { limit } => (Reason::TooLarge, None, Some(*limit)),
            ErrorReason::InvalidUtf8 => (Reason::InvalidUtf8, None, None),
            ErrorReason::BadLink(why) => (Reason::BadLink, Some(why.clone()), None),
            ErrorReason::Io(msg) => (Reason::Io, Some(msg.clone()), None),
        };
        RecordedError {
            reason,
            detail,
            limit,
        }
    }
}

impl RecordedError {
    /// The error a replay of the access gives.
    pub fn to_host_error(&self, path: &str) -> HostError {
        let detail = self.detail.clone().unwrap_or_default();
        let reason = match self.reason {
            Reason::NotFound => ErrorReason::NotFound,
            Reason::PermissionDenied => ErrorReason::PermissionDenied,
            Reason::NotAFile => ErrorReason::NotAFile(
                NOT_A_FILE_KINDS
                    .iter()
                    .find(|k| **k == detail)
                    .copied()
                    .unwrap_or("special file"),
            ),
            Reason::NotADirectory => ErrorReason::NotADirectory,
            Reason::TooLarge => ErrorReason::TooLarge {
                limit: self.limit.unwrap_or(crate::host::MAX_FILE_SIZE),
            },
            Reason::InvalidUtf8 => ErrorReason::InvalidUtf8,
            Reason::BadLink => ErrorReason::BadLink(detail),
            Reason::Io => ErrorReason::Io(detail),
        };
        HostError::new(path, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_serialize_flat() {
        let a = RecordedAccess {
            op: Op::Read,
            path: "/etc/x".into(),
            outcome: Outcome::Error(RecordedError::from(&ErrorReason::PermissionDenied)),
        };
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            json,
            r#"{"op":"read","path":"/etc/x","error":{"reason":"permission_denied"}}"#
        );
        let back: RecordedAccess = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        let s = RecordedAccess {
            op: Op::Stat,
            path: "/nope".into(),
            outcome: Outcome::Found(None),
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"op":"stat","path":"/nope","found":null}"#);
        assert_eq!(serde_json::from_str::<RecordedAccess>(&json).unwrap(), s);
    }

    #[test]
    fn every_error_replays_as_itself() {
        for reason in [
            ErrorReason::NotFound,
            ErrorReason::PermissionDenied,
            ErrorReason::NotAFile("FIFO"),
            ErrorReason::NotADirectory,
            ErrorReason::TooLarge { limit: 5 },
            ErrorReason::InvalidUtf8,
            ErrorReason::BadLink("loop".into()),
            ErrorReason::Io("Input/output error".into()),
        ] {
            let replayed = RecordedError::from(&reason).to_host_error("/p");
            assert_eq!(replayed, HostError::new("/p", reason));
        }
    }
}
