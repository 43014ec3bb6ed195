//! Live probes of container runtimes over their unix sockets: the CRI gRPC API (`Version`,
//! `Status`, `RuntimeConfig`) and Docker Engine's HTTP API (`/version`, `/info`).
//!
//! Only [`crate::host`] calls these: a probe is a read of the machine like any other, and the
//! host records it. The answers are plain data (serde both ways) so that a bundle can carry
//! them as transcripts and a later run can replay them without the socket.
//!
//! Every probe is bounded: a deadline covers the connection and then each call separately,
//! and answers are limited to [`MAX_MESSAGE`] bytes. A socket that is missing, refuses,
//! never answers or speaks something else gives a [`Failure`] that says which, never a
//! panic and never a hang.

pub mod cri;
pub mod docker;

use std::fmt;
use std::io;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::UnixStream;

/// The largest answer a probe accepts (gRPC's own default limit, and far more than a
/// `Version`, `Status` or `/info` answer needs).
pub const MAX_MESSAGE: usize = 4 * 1024 * 1024;

/// What one call of a probe gave: the answer, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeOutcome<T> {
    Answered(T),
    Failed(Failure),
}

impl<T> ProbeOutcome<T> {
    pub fn answer(&self) -> Option<&T> {
        match self {
            ProbeOutcome::Answered(a) => Some(a),
            ProbeOutcome::Failed(_) => None,
        }
    }

    pub fn failure(&self) -> Option<&Failure> {
        match self {
            ProbeOutcome::Answered(_) => None,
            ProbeOutcome::Failed(f) => Some(f),
        }
    }
}

impl<T> From<Result<T, Failure>> for ProbeOutcome<T> {
    fn from(r: Result<T, Failure>) -> Self {
        match r {
            Ok(a) => ProbeOutcome::Answered(a),
            Err(f) => ProbeOutcome::Failed(f),
        }
    }
}

/// Why a call has no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Nothing at the socket's path.
    Missing,
    /// A socket file with nothing listening on it.
    Refused,
    /// Connected, and no answer came before the deadline.
    Timeout,
    /// The server answered that it does not implement the call (gRPC `Unimplemented`).
    Unimplemented,
    /// The other end does not speak the protocol (not gRPC, not HTTP, not Docker's API), or
    /// sent an answer too large or malformed to read.
    Protocol,
    /// The socket refused this process (normally root's only): it says nothing of whether
    /// the runtime works.
    Denied,
    /// Anything else (an error status from the runtime).
    Other,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Missing => "missing",
            FailureKind::Refused => "refused",
            FailureKind::Timeout => "timeout",
            FailureKind::Unimplemented => "unimplemented",
            FailureKind::Protocol => "protocol",
            FailureKind::Denied => "denied",
            FailureKind::Other => "other",
        }
    }
}

/// A call that has no answer: what kind of failure, and a message for a person (which does
/// not repeat the socket's path: whoever shows it names the socket).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
        }
    }

    fn timeout(deadline: Duration) -> Self {
        Failure::new(
            FailureKind::Timeout,
            format!("no answer within {}", human_duration(deadline)),
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `2s`, `300ms`, `1.5s`: as `--timeout` takes it.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// A single-threaded runtime, started only when a probe actually runs (most runs of most
/// commands never touch a socket).
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| {
            Failure::new(
                FailureKind::Other,
                format!("cannot start the probe's I/O runtime: {e}"),
            )
        })
}

/// Connects to a unix socket within the deadline.
async fn connect(path: &Path, deadline: Duration) -> Result<UnixStream, Failure> {
    match tokio::time::timeout(deadline, UnixStream::connect(path)).await {
        Err(_) => Err(Failure::new(
            FailureKind::Timeout,
            format!("no connection within {}", human_duration(deadline)),
        )),
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(connect_failure(&e)),
    }
}

fn connect_failure(e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::NotFound => Failure::new(
            FailureKind::Missing,
            "no socket there (is the runtime installed and running?)",
        ),
        io::ErrorKind::ConnectionRefused => Failure::new(
            FailureKind::Refused,
            "connection refused: nothing listens on the socket (is the runtime running?)",
        ),
        io::ErrorKind::PermissionDenied => Failure::new(
            FailureKind::Denied,
            format!(
                "{} (the runtime's socket is normally for root only)",
                crate::host::PERMISSION_DENIED
            ),
        ),
        _ => match e.raw_os_error() {
            Some(nix::libc::ENOTDIR) => Failure::new(FailureKind::Missing, "no socket there"),
            Some(nix::libc::ENOTSOCK) => {
                Failure::new(FailureKind::Refused, "connection refused: not a socket")
            }
            _ => Failure::new(
                FailureKind::Other,
                format!("cannot connect: {}", os_text(e)),
            ),
        },
    }
}

/// `Connection refused (os error 111)` reads better without the errno.
fn os_text(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// An error and its causes, `a: b: c`, without repeating a cause its parent already says.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_flag() {
        assert_eq!(human_duration(Duration::from_millis(300)), "300ms");
        assert_eq!(human_duration(Duration::from_secs(2)), "2s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn outcomes_serialize_as_tagged_data() {
        let ok: ProbeOutcome<u32> = ProbeOutcome::Answered(7);
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#"{"answered":7}"#);
        let failed: ProbeOutcome<u32> =
            ProbeOutcome::Failed(Failure::new(FailureKind::Timeout, "no answer within 2s"));
        let json = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            json,
            r#"{"failed":{"kind":"timeout","message":"no answer within 2s"}}"#
        );
        let back: ProbeOutcome<u32> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, failed);
    }
}
