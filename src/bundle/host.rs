//! [`BundleHost`]: a host whose every answer is replayed from a bundle, in memory.

use std::collections::HashMap;
use std::time::Duration;

use super::manifest::{Op, Outcome, RecordedAccess};
use super::reader::{Bundle, BundleError};
use crate::host::{
    Access, AccessKind, AccessLog, DirEntry, ErrorReason, FileKind, Host, HostError,
};
use crate::probe::cri::CriTranscript;
use crate::probe::docker::DockerTranscript;
use crate::probe::{Failure, FailureKind, ProbeOutcome};

/// Why a question has no answer in the bundle: the run that collected it never asked it
/// (another selection of checks, other options).
const NOT_COLLECTED: &str =
    "not collected in this bundle (collect it with the same checks and options)";

/// One answer, decoded.
#[derive(Debug)]
enum Stored {
    Bytes(Vec<u8>),
    Error(HostError),
    Listing(Vec<DirEntry>),
    Found(Option<FileKind>),
    Target(String),
    Value(Option<String>),
    Cri(CriTranscript),
    Docker(DockerTranscript),
}

pub struct BundleHost {
    label: String,
    /// Collected on the machine itself (not from a `--root` tree).
    collected_live: bool,
    answers: HashMap<(Op, String), Stored>,
    log: AccessLog,
}

impl BundleHost {
    /// Indexes a checked bundle's answers. `label` names it in reports (`bundle FILE`).
    pub fn new(bundle: Bundle, label: String) -> Result<Self, BundleError> {
        let Bundle {
            manifest,
            mut entries,
        } = bundle;
        let mut answers = HashMap::new();
        for RecordedAccess { op, path, outcome } in manifest.accesses {
            let stored = match outcome {
                Outcome::Error(e) => Stored::Error(e.to_host_error(&path)),
                Outcome::Entry(name) => {
                    // An entry may answer two questions (it cannot in bundles `collect`
                    // writes, but nothing forbids it), so it is cloned, not taken.
                    let bytes = entries.get(&name).cloned().ok_or_else(|| {
                        BundleError(format!(
                            "the manifest answers {path:?} with entry {name:?}, which is not in the archive"
                        ))
                    })?;
                    match op {
                        Op::ProbeCri => Stored::Cri(transcript(&name, &bytes)?),
                        Op::ProbeDocker => Stored::Docker(transcript(&name, &bytes)?),
                        Op::Read => Stored::Bytes(bytes),
                        _ => return Err(mismatch(op, &path)),
                    }
                }
                Outcome::Listing(l) if op == Op::List => {
                    Stored::Listing(l.iter().map(DirEntry::from).collect())
                }
                Outcome::Found(k) if op == Op::Stat => Stored::Found(k.map(Into::into)),
                Outcome::Target(t) if op == Op::ReadLink => Stored::Target(t),
                Outcome::Value(v) if op == Op::Env => Stored::Value(v),
                _ => return Err(mismatch(op, &path)),
            };
            if answers.insert((op, path.clone()), stored).is_some() {
                return Err(BundleError(format!(
                    "the manifest answers {op:?} {path:?} twice"
                )));
            }
        }
        entries.clear();
        Ok(BundleHost {
            label,
            collected_live: manifest.source == "live",
            answers,
            log: AccessLog::default(),
        })
    }

    fn answer(&self, op: Op, path: &str) -> Option<&Stored> {
        self.answers.get(&(op, path.to_string()))
    }
}

fn mismatch(op: Op, path: &str) -> BundleError {
    BundleError(format!(
        "the manifest's answer to {op:?} {path:?} is of the wrong kind"
    ))
}

fn transcript<T: serde::de::DeserializeOwned>(name: &str, bytes: &[u8]) -> Result<T, BundleError> {
    serde_json::from_slice(bytes)
        .map_err(|e| BundleError(format!("probe transcript {name:?} is malformed: {e}")))
}

fn not_collected(path: &str) -> HostError {
    HostError::new(path, ErrorReason::Io(NOT_COLLECTED.into()))
}

impl Host for BundleHost {
    fn read(&self, path: &str) -> Result<Vec<u8>, HostError> {
        let result = match self.answer(Op::Read, path) {
            Some(Stored::Bytes(b)) => Ok(b.clone()),
            Some(Stored::Error(e)) => Err(e.clone()),
            _ => Err(not_collected(path)),
        };
        self.log.record(AccessKind::Read, path, result)
    }

    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        let result = match self.answer(Op::List, path) {
            Some(Stored::Listing(l)) => Ok(l.clone()),
            Some(Stored::Error(e)) => Err(e.clone()),
            _ => Err(not_collected(path)),
        };
        self.log.record(AccessKind::List, path, result)
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, HostError> {
        let result = match self.answer(Op::Stat, path) {
            Some(Stored::Found(k)) => Ok(*k),
            Some(Stored::Error(e)) => Err(e.clone()),
            _ => Err(not_collected(path)),
        };
        self.log.record(AccessKind::Stat, path, result)
    }

    fn read_link(&self, path: &str) -> Result<String, HostError> {
        let result = match self.answer(Op::ReadLink, path) {
            Some(Stored::Target(t)) => Ok(t.clone()),
            Some(Stored::Error(e)) => Err(e.clone()),
            _ => Err(not_collected(path)),
        };
        self.log.record(AccessKind::ReadLink, path, result)
    }

    fn env(&self, name: &str) -> Option<String> {
        match self.answer(Op::Env, name) {
            Some(Stored::Value(v)) => v.clone(),
            _ => None,
        }
    }

    fn is_live(&self) -> bool {
        false
    }

    fn proc_self_is_the_reader(&self) -> bool {
        self.collected_live
    }

    fn describe(&self) -> String {
        self.label.clone()
    }

    fn accesses(&self) -> Vec<Access> {
        self.log.snapshot()
    }

    fn probe_cri(&self, socket: &str, _timeout: Duration) -> CriTranscript {
        let t = match self.answer(Op::ProbeCri, socket) {
            Some(Stored::Cri(t)) => t.clone(),
            _ => {
                CriTranscript::unreachable(socket, Failure::new(FailureKind::Other, NOT_COLLECTED))
            }
        };
        let error = t.version.failure().map(|f| f.message.clone());
        self.log.push_message(AccessKind::Probe, socket, error);
        t
    }

    fn probe_docker(&self, socket: &str, _timeout: Duration) -> DockerTranscript {
        let t = match self.answer(Op::ProbeDocker, socket) {
            Some(Stored::Docker(t)) => t.clone(),
            _ => {
                let f = Failure::new(FailureKind::Other, NOT_COLLECTED);
                DockerTranscript {
                    socket: socket.to_string(),
                    version: ProbeOutcome::Failed(f.clone()),
                    info: ProbeOutcome::Failed(f),
                }
            }
        };
        let error = t.version.failure().map(|f| f.message.clone());
        self.log.push_message(AccessKind::Probe, socket, error);
        t
    }
}
