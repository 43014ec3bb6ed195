//! The CRI probe: `Version`, `Status` and `RuntimeConfig` of `runtime.v1.RuntimeService`, as
//! the kubelet calls them, over the runtime's unix socket.
//!
//! The messages are written by hand with prost's derive (no protoc, no generated client):
//! only the fields read here are declared, with the field numbers of
//! k8s.io/cri-api `pkg/apis/runtime/v1/api.proto`; protobuf skips the others.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tonic::client::Grpc;
use tonic::transport::{Channel, Endpoint};
use tonic::Code;
use tonic_prost::ProstCodec;

use super::{connect, error_chain, runtime, Failure, FailureKind, ProbeOutcome, MAX_MESSAGE};

/// The v1 service, required by the kubelet since Kubernetes 1.26.
const V1: &str = "runtime.v1.RuntimeService";
/// The pre-1.0 service, asked only to tell "v1alpha2 only" from "not a CRI runtime".
const V1ALPHA2: &str = "runtime.v1alpha2.RuntimeService";

/// Everything one CRI probe learned, as recorded into a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriTranscript {
    /// The socket's path on the host checked.
    pub socket: String,
    pub version: ProbeOutcome<VersionAnswer>,
    pub status: ProbeOutcome<StatusAnswer>,
    pub runtime_config: ProbeOutcome<RuntimeConfigAnswer>,
}

impl CriTranscript {
    /// A transcript where no call could be made, each failing for the same reason.
    pub fn unreachable(socket: &str, failure: Failure) -> Self {
        CriTranscript {
            socket: socket.to_string(),
            version: ProbeOutcome::Failed(failure.clone()),
            status: ProbeOutcome::Failed(failure.clone()),
            runtime_config: ProbeOutcome::Failed(failure),
        }
    }
}

/// The answer to `Version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionAnswer {
    /// The gRPC service that answered: `runtime.v1.RuntimeService`, or
    /// `runtime.v1alpha2.RuntimeService` when only the old API answers.
    pub service: String,
    /// The API version the runtime says it speaks (`v1`, `0.1.0` on old runtimes).
    pub runtime_api_version: String,
    pub runtime_name: String,
    pub runtime_version: String,
}

impl VersionAnswer {
    /// `v1` or `v1alpha2`: the CRI API the runtime answered on.
    pub fn api(&self) -> &str {
        if self.service == V1ALPHA2 {
            "v1alpha2"
        } else {
            "v1"
        }
    }
}

/// The answer to `Status`: the runtime's conditions (RuntimeReady, NetworkReady, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusAnswer {
    pub conditions: Vec<Condition>,
}

impl StatusAnswer {
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: bool,
    pub reason: String,
    pub message: String,
}

/// The answer to `RuntimeConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeConfigAnswer {
    /// `systemd` or `cgroupfs`; `None` when the answer has no Linux section.
    pub cgroup_driver: Option<String>,
}

/// The wire messages, as in api.proto.
mod wire {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct VersionRequest {
        #[prost(string, tag = "1")]
        pub version: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct VersionResponse {
        #[prost(string, tag = "1")]
        pub version: String,
        #[prost(string, tag = "2")]
        pub runtime_name: String,
        #[prost(string, tag = "3")]
        pub runtime_version: String,
        #[prost(string, tag = "4")]
        pub runtime_api_version: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StatusRequest {
        #[prost(bool, tag = "1")]
        pub verbose: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StatusResponse {
        #[prost(message, optional, tag = "1")]
        pub status: Option<RuntimeStatus>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RuntimeStatus {
        #[prost(message, repeated, tag = "1")]
        pub conditions: Vec<RuntimeCondition>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RuntimeCondition {
        #[prost(string, tag = "1")]
        pub r#type: String,
        #[prost(bool, tag = "2")]
        pub status: bool,
        #[prost(string, tag = "3")]
        pub reason: String,
        #[prost(string, tag = "4")]
        pub message: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RuntimeConfigRequest {}

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RuntimeConfigResponse {
        #[prost(message, optional, tag = "1")]
        pub linux: Option<LinuxRuntimeConfiguration>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LinuxRuntimeConfiguration {
        #[prost(enumeration = "CgroupDriver", tag = "1")]
        pub cgroup_driver: i32,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum CgroupDriver {
        Systemd = 0,
        Cgroupfs = 1,
    }
}

/// Probes the CRI runtime listening at `path` (on this machine); `socket` is the path as the
/// checked host names it, for the transcript.
pub fn probe(path: &Path, socket: &str, deadline: Duration) -> CriTranscript {
    match runtime() {
        Ok(rt) => rt.block_on(probe_async(path, socket, deadline)),
        Err(failure) => CriTranscript::unreachable(socket, failure),
    }
}

async fn probe_async(path: &Path, socket: &str, deadline: Duration) -> CriTranscript {
    let channel = match open_channel(path, deadline).await {
        Ok(c) => c,
        Err(failure) => return CriTranscript::unreachable(socket, failure),
    };
    let mut grpc = Grpc::new(channel).max_decoding_message_size(MAX_MESSAGE);

    // All three at once, as three streams of the one HTTP/2 connection: one round trip to
    // the runtime instead of two, and a runtime that does not answer costs the deadline
    // once. What Status and RuntimeConfig answered is used only when Version's answer says
    // the v1 API is there to answer them.
    let (mut for_status, mut for_config) = (grpc.clone(), grpc.clone());
    let (version, status, runtime_config) = futures_util::future::join3(
        version(&mut grpc, deadline),
        status(&mut for_status, deadline),
        runtime_config(&mut for_config, deadline),
    )
    .await;
    let (status, runtime_config) = match why_not_use_more(&version) {
        Some(failure) => (Err(failure.clone()), Err(failure)),
        None => (status, runtime_config),
    };
    CriTranscript {
        socket: socket.to_string(),
        version: version.into(),
        status: status.into(),
        runtime_config: runtime_config.into(),
    }
}

/// Why the answers to the calls beside `Version` are not used, given how `Version` went
/// (`None`: use them).
fn why_not_use_more(version: &Result<VersionAnswer, Failure>) -> Option<Failure> {
    match version {
        Ok(answer) if answer.api() == "v1alpha2" => Some(Failure::new(
            FailureKind::Unimplemented,
            "not used: the runtime answers only the CRI v1alpha2 API",
        )),
        // The server answered, only not this call: the others may still have worked.
        Err(f) if f.kind == FailureKind::Unimplemented => None,
        // A dead or foreign server: whatever the others got says nothing more.
        Err(f) => Some(Failure::new(
            f.kind,
            format!("not used, because Version failed: {}", f.message),
        )),
        Ok(_) => None,
    }
}

/// Connects (within the deadline, classifying refusals) and hands the connected stream to
/// tonic, which speaks HTTP/2 over it. The URI is a placeholder: the connector ignores it.
async fn open_channel(path: &Path, deadline: Duration) -> Result<Channel, Failure> {
    let stream = connect(path, deadline).await?;
    let slot = Arc::new(Mutex::new(Some(stream)));
    // tonic reconnects when the connection breaks; the probe does not (one connection, one
    // deadline), so a second call means the first connection ended: say why it can have.
    let connector = tower::service_fn(move |_: http::Uri| {
        let stream = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        async move {
            stream.map(TokioIo::new).ok_or_else(|| {
                std::io::Error::other(
                    "the connection ended: the other end does not speak HTTP/2, or closed it",
                )
            })
        }
    });
    let endpoint = Endpoint::from_static("http://cri.socket");
    match tokio::time::timeout(deadline, endpoint.connect_with_connector(connector)).await {
        Err(_) => Err(Failure::timeout(deadline)),
        Ok(Ok(channel)) => Ok(channel),
        Ok(Err(e)) => Err(Failure::new(
            FailureKind::Protocol,
            format!("not a gRPC server: {}", error_chain(&e)),
        )),
    }
}

async fn version(grpc: &mut Grpc<Channel>, deadline: Duration) -> Result<VersionAnswer, Failure> {
    let request = wire::VersionRequest {
        version: "v1".to_string(),
    };
    match call(grpc, V1, "Version", request.clone(), deadline).await {
        Ok(r) => Ok(version_answer(V1, r)),
        Err(v1) if v1.kind == FailureKind::Unimplemented => {
            match call(grpc, V1ALPHA2, "Version", request, deadline).await {
                Ok(r) => Ok(version_answer(V1ALPHA2, r)),
                // Neither answers: report the v1 refusal, which is what matters.
                Err(_) => Err(v1),
            }
        }
        Err(other) => Err(other),
    }
}

async fn status(grpc: &mut Grpc<Channel>, deadline: Duration) -> Result<StatusAnswer, Failure> {
    let request = wire::StatusRequest { verbose: false };
    let response: wire::StatusResponse = call(grpc, V1, "Status", request, deadline).await?;
    Ok(status_answer(response))
}

fn version_answer(service: &str, r: wire::VersionResponse) -> VersionAnswer {
    VersionAnswer {
        service: service.to_string(),
        runtime_api_version: r.runtime_api_version,
        runtime_name: r.runtime_name,
        runtime_version: r.runtime_version,
    }
}

fn status_answer(response: wire::StatusResponse) -> StatusAnswer {
    let conditions = response
        .status
        .map(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .map(|c| Condition {
            kind: c.r#type,
            status: c.status,
            reason: c.reason,
            message: c.message,
        })
        .collect();
    StatusAnswer { conditions }
}

async fn runtime_config(
    grpc: &mut Grpc<Channel>,
    deadline: Duration,
) -> Result<RuntimeConfigAnswer, Failure> {
    let response: wire::RuntimeConfigResponse = call(
        grpc,
        V1,
        "RuntimeConfig",
        wire::RuntimeConfigRequest {},
        deadline,
    )
    .await?;
    Ok(runtime_config_answer(response))
}

fn runtime_config_answer(response: wire::RuntimeConfigResponse) -> RuntimeConfigAnswer {
    let cgroup_driver =
        response
            .linux
            .map(|l| match wire::CgroupDriver::try_from(l.cgroup_driver) {
                Ok(wire::CgroupDriver::Systemd) => "systemd".to_string(),
                Ok(wire::CgroupDriver::Cgroupfs) => "cgroupfs".to_string(),
                Err(_) => format!("unknown ({})", l.cgroup_driver),
            });
    RuntimeConfigAnswer { cgroup_driver }
}

/// How one call ended on the wire, for [`replay`]: the response message's protobuf bytes, or
/// the gRPC status the call failed with.
#[doc(hidden)]
pub enum Reply<'a> {
    Message(&'a [u8]),
    Status(tonic::Status),
}

/// The transcript the probe makes of the given replies, without a socket (for fuzzing): the
/// same calls in the same order, each reply decoded into the probe's messages (undecodable
/// bytes end the call as tonic's codec ends it, with an `Internal` status) and read as the
/// probe reads it. The v1alpha2 `Version` reply is used only when v1 is unimplemented.
#[doc(hidden)]
pub fn replay(
    socket: &str,
    v1_version: Reply<'_>,
    v1alpha2_version: Reply<'_>,
    status: Reply<'_>,
    runtime_config: Reply<'_>,
) -> CriTranscript {
    fn decode<M: prost::Message + Default>(method: &str, reply: Reply<'_>) -> Result<M, Failure> {
        let status = match reply {
            Reply::Message(bytes) if bytes.len() > MAX_MESSAGE => {
                tonic::Status::out_of_range(format!(
                    "Error, decoded message length too large: found {} bytes, the limit is: {MAX_MESSAGE} bytes",
                    bytes.len()
                ))
            }
            Reply::Message(bytes) => match M::decode(bytes) {
                Ok(message) => return Ok(message),
                Err(e) => tonic::Status::internal(e.to_string()),
            },
            Reply::Status(status) => status,
        };
        Err(status_failure(method, &status))
    }
    let version = match decode("Version", v1_version) {
        Ok(r) => Ok(version_answer(V1, r)),
        Err(v1) if v1.kind == FailureKind::Unimplemented => {
            match decode("Version", v1alpha2_version) {
                Ok(r) => Ok(version_answer(V1ALPHA2, r)),
                Err(_) => Err(v1),
            }
        }
        Err(other) => Err(other),
    };
    let (status, runtime_config) = match why_not_use_more(&version) {
        Some(failure) => (Err(failure.clone()), Err(failure)),
        None => (
            decode("Status", status).map(status_answer),
            decode("RuntimeConfig", runtime_config).map(runtime_config_answer),
        ),
    };
    CriTranscript {
        socket: socket.to_string(),
        version: version.into(),
        status: status.into(),
        runtime_config: runtime_config.into(),
    }
}

/// One unary call, bounded by the deadline.
async fn call<Req, Resp>(
    grpc: &mut Grpc<Channel>,
    service: &str,
    method: &str,
    request: Req,
    deadline: Duration,
) -> Result<Resp, Failure>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let path = http::uri::PathAndQuery::try_from(format!("/{service}/{method}"))
        .map_err(|e| Failure::new(FailureKind::Other, format!("bad method path: {e}")))?;
    let exchange = async {
        grpc.ready().await.map_err(|e| {
            Failure::new(
                FailureKind::Protocol,
                format!("not a gRPC server: {}", error_chain(&e)),
            )
        })?;
        grpc.unary(
            tonic::Request::new(request),
            path,
            ProstCodec::<Req, Resp>::default(),
        )
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| status_failure(method, &status))
    };
    match tokio::time::timeout(deadline, exchange).await {
        Err(_) => Err(Failure::timeout(deadline)),
        Ok(result) => result,
    }
}

/// What a gRPC status means for the probe.
fn status_failure(method: &str, status: &tonic::Status) -> Failure {
    use std::error::Error;
    let message = status.message();
    match status.code() {
        Code::Unimplemented => Failure::new(
            FailureKind::Unimplemented,
            format!("{method} is not implemented by the runtime ({message})"),
        ),
        Code::OutOfRange if message.contains("too large") => Failure::new(
            FailureKind::Protocol,
            format!(
                "the answer to {method} is larger than the {} MiB limit",
                MAX_MESSAGE / (1024 * 1024)
            ),
        ),
        // Errors of the transport (HTTP/2 framing, a connection closed mid-answer) and
        // answers without a gRPC status: the other end is not a gRPC server.
        _ if status.source().is_some() || is_not_grpc(message) => {
            let detail = match status.source().map(error_chain) {
                Some(chain) if chain.contains(message) => chain,
                Some(chain) if message.is_empty() => chain,
                Some(chain) => format!("{message}: {chain}"),
                None => message.to_string(),
            };
            Failure::new(
                FailureKind::Protocol,
                format!("not a gRPC server: {detail}"),
            )
        }
        code => Failure::new(
            FailureKind::Other,
            format!("{method} failed: {code:?}: {message}"),
        ),
    }
}

fn is_not_grpc(message: &str) -> bool {
    [
        "grpc-status header missing",
        "invalid content-type",
        "HTTP status code",
    ]
    .iter()
    .any(|m| message.contains(m))
}
