//! The answers a host gave, kept when a bundle is being collected.
//!
//! The [`super::AccessLog`] says what was asked and whether it worked; a [`Recording`] also
//! keeps what came back (the bytes, the listing, the probe's transcript), so that a bundle
//! holds exactly what the run saw, not a second read of a machine that may have changed.
//! It is off for `check`, which keeps nothing but the log.

use std::sync::Mutex;

use super::{DirEntry, FileKind, HostError};
use crate::probe::cri::CriTranscript;
use crate::probe::docker::DockerTranscript;

/// One answer of a host, as the run received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Read(Result<Vec<u8>, HostError>),
    List(Result<Vec<DirEntry>, HostError>),
    Stat(Result<Option<FileKind>, HostError>),
    ReadLink(Result<String, HostError>),
    Cri(CriTranscript),
    Docker(DockerTranscript),
    /// A variable of the environment (`path` is its name).
    Env(Option<String>),
}

/// One question (`path` is the host path, the socket, or the variable's name) and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub path: String,
    pub answer: Answer,
}

/// Every answer, in the order given.
#[derive(Debug, Default)]
pub struct Recording(Mutex<Vec<Recorded>>);

impl Recording {
    pub fn push(&self, path: &str, answer: Answer) {
        // A poisoned lock only means another thread panicked mid-push; the record is usable.
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.push(Recorded {
            path: path.to_string(),
            answer,
        });
    }

    pub fn snapshot(&self) -> Vec<Recorded> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
