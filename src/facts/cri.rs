//! The container runtime as the kubelet reaches it: which CRI socket is in use, and what the
//! runtime answers on it (CRI `Version`, `Status`, `RuntimeConfig`); Docker Engine's API when
//! Docker is the runtime or its socket is there.
//!
//! Facts: `cri.endpoints_found`, `cri.multiple_endpoints`, `cri.endpoint`, `runtime.name`,
//! `cri.reachable`, `cri.version.api`, `cri.version.runtime_name`,
//! `cri.version.runtime_version`, `cri.status.runtime_ready`, `cri.status.network_ready`,
//! `cri.runtime_config.implemented`, `cri.runtime_config.cgroup_driver`,
//! `docker.api.reachable`, `docker.api.version`, `docker.api.cgroup_driver`,
//! `docker.api.cgroup_version`.
//!
//! The endpoint is chosen as kubeadm and the kubelet do: `--cri-socket`, else the kubelet's
//! configured `containerRuntimeEndpoint`, else the socket of `--runtime`, else the one known
//! socket found on the host. Several found and no explicit choice is kubeadm's "found
//! multiple CRI endpoints on the host", and nothing is probed.
//!
//! Sockets are touched only when a requested fact needs them: `check --only 'kernel.*'`
//! neither looks for sockets nor connects to one.

use super::{Fact, FactRequest, FactSet, FactState, Options, Provenance};
use crate::cli::Runtime;
use crate::host::{FileKind, Host};
use crate::probe::cri::CriTranscript;
use crate::probe::docker::DockerTranscript;
use crate::probe::{Failure, FailureKind, ProbeOutcome};

/// The sockets kubeadm looks for, by runtime, the usual path first. /var/run is normally a
/// link to /run, so each runtime's two spellings are one place.
const KNOWN_SOCKETS: &[(Runtime, &[&str])] = &[
    (
        Runtime::Containerd,
        &[
            "/run/containerd/containerd.sock",
            "/var/run/containerd/containerd.sock",
        ],
    ),
    (
        Runtime::Crio,
        &["/var/run/crio/crio.sock", "/run/crio/crio.sock"],
    ),
    (
        Runtime::CriDockerd,
        &["/run/cri-dockerd.sock", "/var/run/cri-dockerd.sock"],
    ),
];

const DOCKER_SOCKETS: &[&str] = &["/var/run/docker.sock", "/run/docker.sock"];

/// The kubelet's endpoint, as another group reads it from the kubelet's configuration.
const KUBELET_ENDPOINT: &str = "kubelet.container_runtime_endpoint";

/// Facts read from the CRI probe's answers.
const PROBED: &[&str] = &[
    "cri.reachable",
    "cri.version.api",
    "cri.version.runtime_name",
    "cri.version.runtime_version",
    "cri.status.runtime_ready",
    "cri.status.network_ready",
    "cri.runtime_config.implemented",
    "cri.runtime_config.cgroup_driver",
];

const DOCKER_FACTS: &[&str] = &[
    "docker.api.reachable",
    "docker.api.version",
    "docker.api.cgroup_driver",
    "docker.api.cgroup_version",
];

const ENDPOINT_FACTS: &[&str] = &[
    "cri.endpoints_found",
    "cri.multiple_endpoints",
    "cri.endpoint",
    "runtime.name",
];

pub fn gather(
    host: &dyn Host,
    request: &FactRequest,
    phase1: &FactSet,
    options: &Options,
) -> FactSet {
    let mut facts = FactSet::default();
    let wants = |names: &[&str]| names.iter().any(|n| request.contains(n));
    let wants_probe = wants(PROBED);
    let wants_docker = wants(DOCKER_FACTS);
    if !(wants_probe || wants_docker || wants(ENDPOINT_FACTS)) {
        return facts;
    }

    let found = detect(host);
    let endpoint = choose(&found, phase1, options);
    facts.insert("cri.endpoints_found", found.fact());
    facts.insert(
        "cri.multiple_endpoints",
        Fact::known(
            found.sockets.len() > 1,
            Provenance::file("known CRI sockets").with_note(found.describe()),
        ),
    );
    facts.insert("cri.endpoint", endpoint.fact());

    let transcript = match (&endpoint, wants_probe || needs_name_from_probe(&endpoint)) {
        (Endpoint::Chosen { socket, .. }, true) => {
            Some(host.probe_cri(socket, options.runtime.timeout))
        }
        _ => None,
    };
    facts.insert("runtime.name", runtime_name(&endpoint, transcript.as_ref()));
    match (&endpoint, &transcript) {
        (_, Some(t)) => probed_facts(t, &mut facts),
        (Endpoint::Chosen { .. }, None) => {}
        (_, None) => {
            let reason = endpoint.why_none();
            for name in PROBED {
                facts.insert(*name, Fact::unknown(reason.clone()));
            }
        }
    }

    if wants_docker {
        docker_facts(host, options, &endpoint, &mut facts);
    }
    facts
}

/// The known sockets present on the host.
struct Found {
    /// `(runtime, path)`, one per runtime, in kubeadm's order.
    sockets: Vec<(Runtime, String)>,
    /// Paths that could not be looked at, and why.
    errors: Vec<String>,
}

impl Found {
    fn fact(&self) -> Fact {
        let paths: Vec<String> = self.sockets.iter().map(|(_, p)| p.clone()).collect();
        if paths.is_empty() && !self.errors.is_empty() {
            return Fact::unknown(self.errors.join("; "));
        }
        Fact::known(
            paths,
            Provenance::file("known CRI sockets").with_note(self.describe()),
        )
    }

    fn describe(&self) -> String {
        let looked: Vec<&str> = KNOWN_SOCKETS.iter().map(|(_, paths)| paths[0]).collect();
        match self.sockets.len() {
            0 => format!("none of {} is a socket", looked.join(", ")),
            1 => format!("found {}", self.sockets[0].1),
            _ => format!(
                "found multiple CRI endpoints on the host: {}",
                self.sockets
                    .iter()
                    .map(|(_, p)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Looks for each runtime's socket, as kubeadm does (a path that exists and is a socket).
fn detect(host: &dyn Host) -> Found {
    let mut found = Found {
        sockets: Vec::new(),
        errors: Vec::new(),
    };
    for (runtime, paths) in KNOWN_SOCKETS {
        for path in *paths {
            match host.kind(path) {
                Ok(Some(FileKind::Socket)) => {
                    found.sockets.push((*runtime, path.to_string()));
                    break;
                }
                Ok(_) => {}
                Err(e) => found.errors.push(e.to_string()),
            }
        }
    }
    found
}

/// The endpoint in use, and why.
enum Endpoint {
    Chosen {
        socket: String,
        provenance: Provenance,
    },
    /// Nothing to probe: no socket found, several and no choice, or the choice cannot be
    /// used (a TCP endpoint); the text says which.
    None { provenance: Provenance, why: String },
}

impl Endpoint {
    fn fact(&self) -> Fact {
        match self {
            Endpoint::Chosen { socket, provenance } => {
                Fact::known(socket.as_str(), provenance.clone())
            }
            Endpoint::None { provenance, .. } => Fact::absent(provenance.clone()),
        }
    }

    fn why_none(&self) -> String {
        match self {
            Endpoint::Chosen { socket, .. } => format!("{socket} was not probed"),
            Endpoint::None { why, .. } => why.clone(),
        }
    }
}

fn choose(found: &Found, phase1: &FactSet, options: &Options) -> Endpoint {
    if let Some(socket) = &options.runtime.cri_socket {
        return Endpoint::Chosen {
            socket: socket.clone(),
            provenance: Provenance::file("--cri-socket"),
        };
    }
    let mut skipped = None;
    if let Some(fact) = phase1.get(KUBELET_ENDPOINT) {
        if let FactState::Known(value) = &fact.state {
            let raw = value.to_string();
            let path = raw.strip_prefix("unix://").unwrap_or(&raw);
            let mut provenance = fact.provenance.clone();
            let origin = provenance.to_string();
            if path.starts_with('/') {
                provenance.note = Some(match provenance.note.take() {
                    Some(n) => format!("{n}; the kubelet's containerRuntimeEndpoint"),
                    None => "the kubelet's containerRuntimeEndpoint".to_string(),
                });
                return Endpoint::Chosen {
                    socket: path.to_string(),
                    provenance,
                };
            }
            skipped = Some(format!(
                "the kubelet's containerRuntimeEndpoint {raw} ({origin}) is not a unix socket"
            ));
        }
    }
    if let Some(runtime) = options.runtime.runtime {
        // The kubelet reaches Docker Engine through cri-dockerd.
        let cri_runtime = match runtime {
            Runtime::Docker => Runtime::CriDockerd,
            other => other,
        };
        let present = found.sockets.iter().find(|(r, _)| *r == cri_runtime);
        let socket = match present {
            Some((_, path)) => path.clone(),
            None => KNOWN_SOCKETS
                .iter()
                .find(|(r, _)| *r == cri_runtime)
                .map(|(_, paths)| paths[0].to_string())
                .unwrap_or_default(),
        };
        return Endpoint::Chosen {
            socket,
            provenance: Provenance::file("--runtime")
                .with_note(format!("the known socket of {}", runtime.as_str())),
        };
    }
    let with_skipped = |text: String| match &skipped {
        Some(s) => format!("{text}; {s}"),
        None => text,
    };
    match found.sockets.as_slice() {
        [(_, path)] => Endpoint::Chosen {
            socket: path.clone(),
            provenance: Provenance::file("known CRI sockets")
                .with_note(with_skipped("the only one found".to_string())),
        },
        [] => {
            let why = with_skipped(format!(
                "no CRI endpoint: {}, and neither --cri-socket nor the kubelet names one",
                found.describe()
            ));
            Endpoint::None {
                provenance: Provenance::file("known CRI sockets").with_note(why.clone()),
                why,
            }
        }
        _ => {
            let why = with_skipped(format!(
                "{}; pass --cri-socket to choose one",
                found.describe()
            ));
            Endpoint::None {
                provenance: Provenance::file("known CRI sockets").with_note(why.clone()),
                why,
            }
        }
    }
}

/// Whether `runtime.name` can only come from the probe (a socket at an unusual path).
fn needs_name_from_probe(endpoint: &Endpoint) -> bool {
    matches!(endpoint, Endpoint::Chosen { socket, .. } if name_from_path(socket).is_none())
}

fn name_from_path(socket: &str) -> Option<&'static str> {
    let file = socket.rsplit('/').next().unwrap_or(socket);
    if socket.contains("cri-dockerd") {
        Some("cri-dockerd")
    } else if socket.contains("containerd") {
        Some("containerd")
    } else if socket.contains("crio") || file.contains("cri-o") {
        Some("crio")
    } else if file == "docker.sock" || file == "dockershim.sock" {
        Some("docker")
    } else {
        None
    }
}

fn runtime_name(endpoint: &Endpoint, transcript: Option<&CriTranscript>) -> Fact {
    // `--runtime` names the runtime whatever the socket.
    if let Endpoint::Chosen { provenance, .. } = endpoint {
        if provenance.source == "--runtime" {
            let name = provenance
                .note
                .as_deref()
                .and_then(|n| n.strip_prefix("the known socket of "))
                .unwrap_or_default()
                .to_string();
            return Fact::known(name, Provenance::file("--runtime"));
        }
    }
    let Endpoint::Chosen { socket, .. } = endpoint else {
        return Fact::unknown(endpoint.why_none());
    };
    if let Some(name) = name_from_path(socket) {
        return Fact::known(
            name,
            Provenance::file(socket.as_str()).with_note("the runtime whose socket this is"),
        );
    }
    let Some(transcript) = transcript else {
        return Fact::unknown(format!("{socket} was not probed"));
    };
    match &transcript.version {
        ProbeOutcome::Answered(v) => {
            let raw = v.runtime_name.as_str();
            let name = if raw.contains("containerd") {
                "containerd"
            } else if raw == "cri-o" || raw == "crio" {
                "crio"
            } else if raw == "docker" {
                // cri-dockerd answers with the name of the engine behind it.
                "cri-dockerd"
            } else {
                raw
            };
            Fact::known(
                name,
                version_provenance(socket).with_note(format!("runtime_name {raw}")),
            )
        }
        ProbeOutcome::Failed(f) => Fact::unknown(call_failed("Version", socket, f)),
    }
}

fn version_provenance(socket: &str) -> Provenance {
    Provenance::file(format!("CRI Version at {socket}"))
}

/// `CRI Status at /run/containerd/containerd.sock: no answer within 2s`.
fn call_failed(call: &str, socket: &str, failure: &Failure) -> String {
    format!("CRI {call} at {socket}: {}", failure.message)
}

fn probed_facts(t: &CriTranscript, facts: &mut FactSet) {
    let socket = t.socket.as_str();
    let at = |call: &str| Provenance::file(format!("CRI {call} at {socket}"));

    match &t.version {
        ProbeOutcome::Answered(v) => {
            facts.insert(
                "cri.reachable",
                Fact::known(
                    true,
                    at("Version")
                        .with_note(format!("{} {} answered", v.runtime_name, v.runtime_version)),
                ),
            );
            let mut api = at("Version");
            if v.api() == "v1alpha2" {
                api = api.with_note(
                    "runtime.v1.RuntimeService is not implemented; only runtime.v1alpha2 answers",
                );
            } else if !v.runtime_api_version.is_empty() {
                api = api.with_note(format!("runtime_api_version {}", v.runtime_api_version));
            }
            facts.insert("cri.version.api", Fact::known(v.api(), api));
            facts.insert(
                "cri.version.runtime_name",
                Fact::known(v.runtime_name.as_str(), at("Version")),
            );
            facts.insert(
                "cri.version.runtime_version",
                Fact::known(v.runtime_version.as_str(), at("Version")),
            );
        }
        ProbeOutcome::Failed(f) => {
            let reason = call_failed("Version", socket, f);
            // A server that refuses `Version` still answered: it is reachable, only not CRI v1.
            // A socket that refused this process says nothing either way.
            let reachable = match f.kind {
                FailureKind::Denied => Fact::unknown(reason.clone()),
                kind => Fact::known(
                    kind == FailureKind::Unimplemented,
                    at("Version").with_note(f.message.as_str()),
                ),
            };
            facts.insert("cri.reachable", reachable);
            facts.insert("cri.version.api", Fact::unknown(reason.clone()));
            facts.insert("cri.version.runtime_name", Fact::unknown(reason.clone()));
            facts.insert("cri.version.runtime_version", Fact::unknown(reason));
        }
    }

    for (fact, kind) in [
        ("cri.status.runtime_ready", "RuntimeReady"),
        ("cri.status.network_ready", "NetworkReady"),
    ] {
        let value = match &t.status {
            ProbeOutcome::Answered(status) => match status.condition(kind) {
                Some(c) => {
                    let mut prov = at("Status");
                    let note = [c.reason.as_str(), c.message.as_str()]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(": ");
                    if !note.is_empty() {
                        prov = prov.with_note(note);
                    }
                    Fact::known(c.status, prov)
                }
                None => Fact::absent(at("Status").with_note(format!("no {kind} condition"))),
            },
            ProbeOutcome::Failed(f) => Fact::unknown(call_failed("Status", socket, f)),
        };
        facts.insert(fact, value);
    }

    let (implemented, driver) = match &t.runtime_config {
        ProbeOutcome::Answered(rc) => (
            Fact::known(true, at("RuntimeConfig")),
            match &rc.cgroup_driver {
                Some(d) => Fact::known(d.as_str(), at("RuntimeConfig")),
                None => Fact::absent(at("RuntimeConfig").with_note("the answer has no Linux section")),
            },
        ),
        ProbeOutcome::Failed(f) if f.kind == FailureKind::Unimplemented => (
            Fact::known(false, at("RuntimeConfig").with_note(f.message.as_str())),
            Fact::absent(
                at("RuntimeConfig")
                    .with_note("the runtime does not implement RuntimeConfig (containerd < 2.0, CRI-O < 1.28, cri-dockerd < 0.4)"),
            ),
        ),
        ProbeOutcome::Failed(f) => {
            let reason = call_failed("RuntimeConfig", socket, f);
            (Fact::unknown(reason.clone()), Fact::unknown(reason))
        }
    };
    facts.insert("cri.runtime_config.implemented", implemented);
    facts.insert("cri.runtime_config.cgroup_driver", driver);
}

/// Docker Engine's API, when Docker is the runtime (`--runtime docker`, or the endpoint is
/// cri-dockerd's) or its socket is on the host.
fn docker_facts(host: &dyn Host, options: &Options, endpoint: &Endpoint, facts: &mut FactSet) {
    let mut lookup_error = None;
    let mut present = None;
    for path in DOCKER_SOCKETS {
        match host.kind(path) {
            Ok(Some(FileKind::Socket)) => {
                present = Some(path.to_string());
                break;
            }
            Ok(_) => {}
            Err(e) => lookup_error = Some(e.to_string()),
        }
    }
    let docker_is_runtime = options.runtime.runtime == Some(Runtime::Docker)
        || matches!(endpoint, Endpoint::Chosen { socket, .. } if name_from_path(socket) == Some("cri-dockerd"));
    let socket = match (present, docker_is_runtime) {
        (Some(path), _) => path,
        (None, true) => DOCKER_SOCKETS[0].to_string(),
        (None, false) => {
            let fact = match lookup_error {
                Some(e) => Fact::unknown(e),
                None => Fact::absent(
                    Provenance::file(DOCKER_SOCKETS[0])
                        .with_note("no Docker socket, and Docker is not the runtime"),
                ),
            };
            for name in DOCKER_FACTS {
                facts.insert(*name, fact.clone());
            }
            return;
        }
    };
    let t = host.probe_docker(&socket, options.runtime.timeout);
    docker_transcript_facts(&t, facts);
}

fn docker_transcript_facts(t: &DockerTranscript, facts: &mut FactSet) {
    let socket = t.socket.as_str();
    let at = |call: &str| Provenance::file(format!("Docker API GET {call} at {socket}"));
    let failed =
        |call: &str, f: &Failure| format!("Docker API GET {call} at {socket}: {}", f.message);
    match &t.version {
        ProbeOutcome::Answered(v) => {
            facts.insert("docker.api.reachable", Fact::known(true, at("/version")));
            let version = v.version.clone().unwrap_or_default();
            let mut prov = at("/version");
            if let Some(api) = &v.api_version {
                prov = prov.with_note(format!("API version {api}"));
            }
            facts.insert("docker.api.version", Fact::known(version, prov));
        }
        ProbeOutcome::Failed(f) => {
            let reachable = match f.kind {
                // A socket that refused this process says nothing of whether Docker answers.
                FailureKind::Denied => Fact::unknown(failed("/version", f)),
                _ => Fact::known(false, at("/version").with_note(f.message.as_str())),
            };
            facts.insert("docker.api.reachable", reachable);
            facts.insert("docker.api.version", Fact::unknown(failed("/version", f)));
        }
    }
    let optional = |value: &Option<String>, what: &str| match value {
        Some(v) if !v.is_empty() => Fact::known(v.as_str(), at("/info")),
        _ => Fact::absent(at("/info").with_note(format!("the answer has no {what}"))),
    };
    match &t.info {
        ProbeOutcome::Answered(info) => {
            facts.insert(
                "docker.api.cgroup_driver",
                optional(&info.cgroup_driver, "CgroupDriver"),
            );
            facts.insert(
                "docker.api.cgroup_version",
                optional(&info.cgroup_version, "CgroupVersion"),
            );
        }
        ProbeOutcome::Failed(f) => {
            facts.insert(
                "docker.api.cgroup_driver",
                Fact::unknown(failed("/info", f)),
            );
            facts.insert(
                "docker.api.cgroup_version",
                Fact::unknown(failed("/info", f)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{RuntimeOptions, Target};
    use crate::host::FsHost;

    fn options(runtime: Option<Runtime>, cri_socket: Option<&str>) -> Options {
        Options {
            target: Target {
                kubernetes_version: crate::version::Version::new(1, 35),
                kubernetes_version_source: "test".into(),
                role: crate::cli::Role::Worker,
            },
            runtime: RuntimeOptions {
                runtime,
                cri_socket: cri_socket.map(str::to_string),
                ..RuntimeOptions::default()
            },
            kernel_prefetch: None,
        }
    }

    fn found(sockets: &[(Runtime, &str)]) -> Found {
        Found {
            sockets: sockets.iter().map(|(r, p)| (*r, p.to_string())).collect(),
            errors: Vec::new(),
        }
    }

    fn kubelet(endpoint: &str) -> FactSet {
        let mut facts = FactSet::default();
        facts.insert(
            KUBELET_ENDPOINT,
            Fact::known(
                endpoint,
                Provenance::line("/var/lib/kubelet/config.yaml", 12),
            ),
        );
        facts
    }

    fn chosen(e: &Endpoint) -> (&str, String) {
        match e {
            Endpoint::Chosen { socket, provenance } => (socket.as_str(), provenance.to_string()),
            Endpoint::None { why, .. } => panic!("nothing chosen: {why}"),
        }
    }

    #[test]
    fn the_flag_beats_the_kubelet_which_beats_the_runtime_which_beats_detection() {
        let two = found(&[
            (Runtime::Containerd, "/run/containerd/containerd.sock"),
            (Runtime::Crio, "/var/run/crio/crio.sock"),
        ]);
        let kubelet = kubelet("unix:///run/k3s/containerd/containerd.sock");

        let e = choose(
            &two,
            &kubelet,
            &options(Some(Runtime::Crio), Some("/x.sock")),
        );
        assert_eq!(chosen(&e), ("/x.sock", "--cri-socket".to_string()));

        let e = choose(&two, &kubelet, &options(Some(Runtime::Crio), None));
        let (socket, why) = chosen(&e);
        assert_eq!(socket, "/run/k3s/containerd/containerd.sock");
        assert_eq!(
            why,
            "/var/lib/kubelet/config.yaml:12, the kubelet's containerRuntimeEndpoint"
        );

        let e = choose(
            &two,
            &FactSet::default(),
            &options(Some(Runtime::Crio), None),
        );
        assert_eq!(chosen(&e).0, "/var/run/crio/crio.sock");

        let one = found(&[(Runtime::Containerd, "/var/run/containerd/containerd.sock")]);
        let e = choose(&one, &FactSet::default(), &options(None, None));
        assert_eq!(chosen(&e).0, "/var/run/containerd/containerd.sock");
    }

    #[test]
    fn several_sockets_and_no_choice_choose_nothing_and_name_them_all() {
        let two = found(&[
            (Runtime::Containerd, "/run/containerd/containerd.sock"),
            (Runtime::CriDockerd, "/run/cri-dockerd.sock"),
        ]);
        let Endpoint::None { why, .. } = choose(&two, &FactSet::default(), &options(None, None))
        else {
            panic!("a socket was chosen among several");
        };
        assert!(why.starts_with("found multiple CRI endpoints on the host: /run/containerd/containerd.sock, /run/cri-dockerd.sock"), "{why}");
    }

    #[test]
    fn docker_as_the_runtime_means_cri_dockerd_and_a_tcp_kubelet_endpoint_is_set_aside() {
        let none = found(&[]);
        let e = choose(
            &none,
            &FactSet::default(),
            &options(Some(Runtime::Docker), None),
        );
        assert_eq!(chosen(&e).0, "/run/cri-dockerd.sock");

        let e = choose(&none, &kubelet("tcp://10.0.0.1:3735"), &options(None, None));
        let Endpoint::None { why, .. } = e else {
            panic!("a TCP endpoint was probed as a unix socket");
        };
        assert!(why.contains("tcp://10.0.0.1:3735"), "{why}");
        assert!(why.contains("not a unix socket"), "{why}");
    }

    #[test]
    fn runtime_names_from_socket_paths() {
        assert_eq!(
            name_from_path("/run/containerd/containerd.sock"),
            Some("containerd")
        );
        assert_eq!(name_from_path("/var/run/crio/crio.sock"), Some("crio"));
        assert_eq!(name_from_path("/run/cri-dockerd.sock"), Some("cri-dockerd"));
        assert_eq!(name_from_path("/tmp/runtime.sock"), None);
    }

    #[test]
    fn facts_nobody_asked_for_touch_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let host = FsHost::under(dir.path());
        let request = FactRequest::new(["kernel.release", "module.overlay.loaded"]);
        let facts = gather(&host, &request, &FactSet::default(), &options(None, None));
        assert!(facts.is_empty());
        assert!(host.accesses().is_empty(), "{:?}", host.accesses());
    }

    #[test]
    fn endpoint_facts_alone_do_not_probe() {
        let dir = tempfile::tempdir().unwrap();
        let host = FsHost::under(dir.path());
        let request = FactRequest::new(["cri.endpoint"]);
        let facts = gather(
            &host,
            &request,
            &FactSet::default(),
            &options(None, Some("/run/containerd/containerd.sock")),
        );
        assert_eq!(
            facts.text("cri.endpoint").as_deref(),
            Some("/run/containerd/containerd.sock")
        );
        assert!(
            !host
                .accesses()
                .iter()
                .any(|a| a.kind == crate::host::AccessKind::Probe),
            "{:?}",
            host.accesses()
        );
    }
}
