//! The Docker Engine API probe: `GET /version` and `GET /info` over HTTP/1.1 on the unix
//! socket (`/var/run/docker.sock`), on one connection.

use std::path::Path;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};

use super::{connect, error_chain, runtime, Failure, FailureKind, ProbeOutcome, MAX_MESSAGE};

/// Everything one Docker probe learned, as recorded into a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerTranscript {
    pub socket: String,
    pub version: ProbeOutcome<DockerVersion>,
    pub info: ProbeOutcome<DockerInfo>,
}

/// The parts of `/version` kept. The aliases read Docker's own field names; the transcript
/// stores them in snake case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerVersion {
    #[serde(default, alias = "Version")]
    pub version: Option<String>,
    #[serde(default, alias = "ApiVersion")]
    pub api_version: Option<String>,
    #[serde(default, alias = "MinAPIVersion")]
    pub min_api_version: Option<String>,
    #[serde(default, alias = "Os")]
    pub os: Option<String>,
    #[serde(default, alias = "Arch")]
    pub arch: Option<String>,
    #[serde(default, alias = "KernelVersion")]
    pub kernel_version: Option<String>,
}

/// The parts of `/info` kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerInfo {
    #[serde(default, alias = "Name")]
    pub name: Option<String>,
    #[serde(default, alias = "ServerVersion")]
    pub server_version: Option<String>,
    #[serde(default, alias = "OperatingSystem")]
    pub operating_system: Option<String>,
    #[serde(default, alias = "OSType")]
    pub os_type: Option<String>,
    /// `systemd` or `cgroupfs`.
    #[serde(default, alias = "CgroupDriver")]
    pub cgroup_driver: Option<String>,
    /// `1` or `2`.
    #[serde(default, alias = "CgroupVersion")]
    pub cgroup_version: Option<String>,
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// Probes Docker's API listening at `path` (on this machine); `socket` is the path as the
/// checked host names it, for the transcript.
pub fn probe(path: &Path, socket: &str, deadline: Duration) -> DockerTranscript {
    match runtime() {
        Ok(rt) => rt.block_on(async {
            match connect(path, deadline).await {
                Ok(stream) => converse(stream, socket, deadline).await,
                Err(f) => failed(socket, f),
            }
        }),
        Err(f) => failed(socket, f),
    }
}

/// The transcript the probe makes when the other end of the connection answers its `i`-th
/// request with `answers[i]`, raw bytes, and closes after the last (for fuzzing): the same
/// conversation over an in-memory stream instead of a socket.
#[doc(hidden)]
pub fn replay(answers: &[&[u8]], socket: &str, deadline: Duration) -> DockerTranscript {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(f) => return failed(socket, f),
    };
    let answers: Vec<Vec<u8>> = answers.iter().map(|a| a.to_vec()).collect();
    rt.block_on(async {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            // An HTTP/1.1 client takes bytes that come before its request for a broken
            // server, so each answer waits for the end of a request's headers. Errors only
            // mean the probe hung up first.
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            for answer in answers {
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match read_unless_stalled(&mut server, &mut buf).await {
                        Some(n) if n > 0 => request.extend_from_slice(&buf[..n]),
                        // The probe hung up, or waits for more of the last answer: close.
                        _ => {
                            let _ = server.shutdown().await;
                            return;
                        }
                    }
                }
                request.clear();
                if server.write_all(&answer).await.is_err() {
                    return;
                }
            }
            let _ = server.shutdown().await;
            // Drain what the probe still sends, so that its writes never block.
            while let Ok(n) = server.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        });
        converse(client, socket, deadline).await
    })
}

/// Reads from the in-memory stream, or `None` once nothing else on the (single-threaded)
/// runtime can make progress: the probe is then waiting for more of an answer that was cut
/// short, and only its deadline would end the wait. A real server would hold the connection
/// open until that deadline (which the probe's own tests cover); the replay closes it at once,
/// so that such an input costs no more than any other.
async fn read_unless_stalled(
    stream: &mut tokio::io::DuplexStream,
    buf: &mut [u8],
) -> Option<usize> {
    use std::pin::Pin;
    use std::task::Poll;
    use tokio::io::{AsyncRead, ReadBuf};
    /// Turns of the scheduler with nothing arriving that count as a stall.
    const IDLE_TURNS: u32 = 64;
    let mut idle = 0;
    std::future::poll_fn(|cx| {
        let mut read = ReadBuf::new(buf);
        match Pin::new(&mut *stream).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) => Poll::Ready(Some(read.filled().len())),
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Pending if idle < IDLE_TURNS => {
                idle += 1;
                // Let every other task run before asking again.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Pending => Poll::Ready(None),
        }
    })
    .await
}

fn failed(socket: &str, f: Failure) -> DockerTranscript {
    DockerTranscript {
        socket: socket.to_string(),
        version: ProbeOutcome::Failed(f.clone()),
        info: ProbeOutcome::Failed(f),
    }
}

/// `GET /version`, then `GET /info` unless the first showed it is not Docker's API, over one
/// connection.
async fn converse<S>(stream: S, socket: &str, deadline: Duration) -> DockerTranscript
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut sender = match handshake(stream).await {
        Ok(s) => s,
        Err(f) => return failed(socket, f),
    };
    let version: Result<DockerVersion, Failure> = get(&mut sender, "/version", deadline).await;
    let version = version.and_then(|v| match (&v.version, &v.api_version) {
        (None, None) => Err(Failure::new(
            FailureKind::Protocol,
            "not Docker's Engine API: the answer to GET /version has no Version or ApiVersion",
        )),
        _ => Ok(v),
    });
    let info = match &version {
        Err(f) if f.kind != FailureKind::Other => Err(Failure::new(
            f.kind,
            format!("not asked, because GET /version failed: {}", f.message),
        )),
        _ => get(&mut sender, "/info", deadline).await,
    };
    DockerTranscript {
        socket: socket.to_string(),
        version: version.into(),
        info: info.into(),
    }
}

async fn handshake<S>(stream: S) -> Result<Sender, Failure>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Failure::new(FailureKind::Protocol, error_chain(&e)))?;
    // The connection is driven in the background; it ends with the runtime.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// One GET, bounded by the deadline, its JSON body read into `T`.
async fn get<T: serde::de::DeserializeOwned>(
    sender: &mut Sender,
    uri: &str,
    deadline: Duration,
) -> Result<T, Failure> {
    let exchange = async {
        sender.ready().await.map_err(|e| not_http(uri, &e))?;
        let request = hyper::Request::get(uri)
            // Docker ignores the host; HTTP/1.1 requires one.
            .header(hyper::header::HOST, "docker")
            .body(Empty::<Bytes>::new())
            .map_err(|e| Failure::new(FailureKind::Other, e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| not_http(uri, &e))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_MESSAGE)
            .collect()
            .await
            .map_err(|e| {
                let message = if e
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    format!(
                        "the answer to GET {uri} is larger than the {} MiB limit",
                        MAX_MESSAGE / (1024 * 1024)
                    )
                } else {
                    format!("cannot read the answer to GET {uri}: {e}")
                };
                Failure::new(FailureKind::Protocol, message)
            })?
            .to_bytes();
        if !status.is_success() {
            return Err(Failure::new(
                FailureKind::Protocol,
                format!(
                    "not Docker's Engine API: GET {uri} answered {status}: {}",
                    snippet(&body)
                ),
            ));
        }
        serde_json::from_slice(&body).map_err(|e| {
            Failure::new(
                FailureKind::Protocol,
                format!(
                    "not Docker's Engine API: the answer to GET {uri} is not the expected JSON ({e}): {}",
                    snippet(&body)
                ),
            )
        })
    };
    match tokio::time::timeout(deadline, exchange).await {
        Err(_) => Err(Failure::timeout(deadline)),
        Ok(result) => result,
    }
}

fn not_http(uri: &str, e: &hyper::Error) -> Failure {
    Failure::new(
        FailureKind::Protocol,
        format!("not an HTTP server (GET {uri}): {}", error_chain(e)),
    )
}

/// The start of a body, for a message: enough to recognise what answered.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{:?}", text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_field_names_are_read_and_stored_in_snake_case() {
        let info: DockerInfo = serde_json::from_str(
            r#"{"Name":"node1","CgroupDriver":"systemd","CgroupVersion":"2","Containers":3}"#,
        )
        .unwrap();
        assert_eq!(info.cgroup_driver.as_deref(), Some("systemd"));
        assert_eq!(info.cgroup_version.as_deref(), Some("2"));
        let stored = serde_json::to_string(&info).unwrap();
        assert!(stored.contains(r#""cgroup_driver":"systemd""#), "{stored}");
        let back: DockerInfo = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, info);
    }
}
