//! The runtime in use, taken as a whole: which one it is, its cgroup driver (its own answer
//! to CRI `RuntimeConfig` where it gives one, else its configuration), the OCI runtime binary
//! it is configured to start, and the CNI plugins and network configuration it will use.
//!
//! Facts: `runtime.in_use`, `runtime.cgroup_driver`, `oci_runtime.binary`,
//! `oci_runtime.found`, `cni.bin_dirs`, `cni.missing_plugins`, `cni.conf_dir`, `cni.configs`.
//!
//! This group runs last (it needs both the configuration groups and the CRI probe).

use super::{Fact, FactRequest, FactSet, FactState, Options, Provenance, Value};
use crate::host::{FileKind, Host};

/// The plugins the Kubernetes docs' bridge-based setups use (the `containernetworking/plugins`
/// release installs them all in /opt/cni/bin).
pub const CNI_PLUGINS: &[&str] = &["bridge", "host-local", "loopback", "portmap"];
const DEFAULT_CNI_BIN_DIR: &str = "/opt/cni/bin";
const DEFAULT_CNI_CONF_DIR: &str = "/etc/cni/net.d";
/// Searched for a runtime binary named without a path when the host has no PATH of its own
/// (a `--root` tree): the usual PATH of a systemd service.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub const FACTS: &[&str] = &[
    "runtime.in_use",
    "runtime.cgroup_driver",
    "oci_runtime.binary",
    "oci_runtime.found",
    "cni.bin_dirs",
    "cni.missing_plugins",
    "cni.conf_dir",
    "cni.configs",
];

/// The facts of other groups this one reads, so that a rule naming only `runtime.*` still
/// has them gathered.
pub const INPUTS: &[&str] = &[
    "runtime.name",
    "cri.runtime_config.cgroup_driver",
    "cri.runtime_config.implemented",
    "containerd.config.present",
    "containerd.cgroup_driver",
    "containerd.runtime_binary",
    "containerd.cni_bin_dir",
    "containerd.cni_conf_dir",
    "crio.config.present",
    "crio.cgroup_manager",
    "crio.runtime_path",
    "crio.cni_plugin_dirs",
    "crio.cni_network_dir",
    "docker.installed",
    "docker.cgroup_driver",
    "docker.api.cgroup_driver",
];

pub fn gather(
    host: &dyn Host,
    request: &FactRequest,
    facts: &FactSet,
    _options: &Options,
) -> FactSet {
    let mut out = FactSet::default();
    if !FACTS.iter().any(|f| request.contains(f)) {
        return out;
    }
    let in_use = in_use(facts);
    let runtime = in_use.as_str().map(str::to_string);
    out.insert(
        "runtime.cgroup_driver",
        cgroup_driver(facts, runtime.as_deref()),
    );
    let (binary, found) = oci_runtime(host, facts, runtime.as_deref());
    out.insert("oci_runtime.binary", binary);
    out.insert("oci_runtime.found", found);
    let (bin_dirs, missing) = cni_plugins(host, facts, runtime.as_deref());
    out.insert("cni.bin_dirs", bin_dirs);
    out.insert("cni.missing_plugins", missing);
    let (conf_dir, configs) = cni_configs(host, facts, runtime.as_deref());
    out.insert("cni.conf_dir", conf_dir);
    out.insert("cni.configs", configs);
    out.insert("runtime.in_use", in_use);
    out
}

fn is_true(facts: &FactSet, name: &str) -> bool {
    facts.get(name).and_then(Fact::as_bool) == Some(true)
}

/// The runtime the CRI endpoint belongs to; without an endpoint, the one runtime whose
/// configuration is on the host.
fn in_use(facts: &FactSet) -> Fact {
    if let Some(name) = facts.get("runtime.name").filter(|f| f.value().is_some()) {
        return name.clone();
    }
    let configured: Vec<&str> = [
        ("containerd", "containerd.config.present"),
        ("crio", "crio.config.present"),
        ("docker", "docker.installed"),
    ]
    .iter()
    .filter(|(_, fact)| is_true(facts, fact))
    .map(|(name, _)| *name)
    .collect();
    match configured.as_slice() {
        [one] => Fact::known(
            *one,
            Provenance::default().with_note(format!(
                "no CRI endpoint answers; {one} is the only runtime configured on the host"
            )),
        ),
        [] => Fact::absent(
            Provenance::default()
                .with_note("no CRI endpoint, and no containerd, CRI-O or Docker configuration"),
        ),
        many => Fact::absent(Provenance::default().with_note(format!(
            "no CRI endpoint, and several runtimes are configured ({}): pass --runtime",
            many.join(", ")
        ))),
    }
}

/// The driver the runtime really uses: its `RuntimeConfig` answer, else its configuration.
fn cgroup_driver(facts: &FactSet, runtime: Option<&str>) -> Fact {
    if let Some(answer) = facts.get("cri.runtime_config.cgroup_driver") {
        if answer.value().is_some() {
            return answer.clone();
        }
    }
    let from_config = match runtime {
        Some("containerd") => "containerd.cgroup_driver",
        Some("crio") => "crio.cgroup_manager",
        Some("docker" | "cri-dockerd") => match facts.get("docker.api.cgroup_driver") {
            Some(api) if api.value().is_some() => return api.clone(),
            _ => "docker.cgroup_driver",
        },
        Some(other) => return Fact::unknown(format!("the cgroup driver of {other} is not known")),
        None => {
            return Fact::absent(Provenance::default().with_note("no container runtime in use"))
        }
    };
    facts
        .get(from_config)
        .cloned()
        .unwrap_or_else(|| Fact::unknown(format!("{from_config} was not gathered")))
}

/// The OCI runtime binary the runtime is configured to start, and whether it exists.
fn oci_runtime(host: &dyn Host, facts: &FactSet, runtime: Option<&str>) -> (Fact, Fact) {
    let configured = match runtime {
        Some("containerd") => facts.get("containerd.runtime_binary").cloned(),
        Some("crio") => facts.get("crio.runtime_path").cloned(),
        // dockerd's default runtime.
        Some("docker" | "cri-dockerd") => Some(Fact::known(
            "runc",
            Provenance::default().with_note("Docker Engine's default runtime"),
        )),
        _ => None,
    };
    let Some(binary) = configured else {
        let none = Fact::absent(Provenance::default().with_note("no container runtime in use"));
        return (none.clone(), none);
    };
    let name = match &binary.state {
        FactState::Known(v) => v.to_string(),
        FactState::Unknown(reason) => return (binary.clone(), Fact::unknown(reason.clone())),
        FactState::Absent => return (binary.clone(), Fact::absent(binary.provenance.clone())),
    };
    let candidates: Vec<String> = if name.starts_with('/') {
        vec![name.clone()]
    } else {
        let path = host.env("PATH").unwrap_or_else(|| DEFAULT_PATH.to_string());
        path.split(':')
            .filter(|d| d.starts_with('/'))
            .map(|d| format!("{}/{name}", d.trim_end_matches('/')))
            .collect()
    };
    for candidate in &candidates {
        match host.kind(candidate) {
            Ok(Some(FileKind::File)) => {
                return (
                    binary,
                    Fact::known(true, Provenance::file(candidate.as_str())),
                );
            }
            Ok(_) => {}
            Err(e) => return (binary, Fact::unknown(e.to_string())),
        }
    }
    let searched = if name.starts_with('/') {
        format!("{name} does not exist")
    } else {
        format!("{name} is in none of {}", candidates.join(", "))
    };
    (
        binary,
        Fact::known(false, Provenance::default().with_note(searched)),
    )
}

/// The runtime's CNI plugin directories, and the standard plugins none of them holds.
fn cni_plugins(host: &dyn Host, facts: &FactSet, runtime: Option<&str>) -> (Fact, Fact) {
    let configured = match runtime {
        Some("containerd") => facts.get("containerd.cni_bin_dir"),
        Some("crio") => facts.get("crio.cni_plugin_dirs"),
        _ => None,
    };
    let (dirs, provenance) = match configured.map(|f| (&f.state, &f.provenance)) {
        Some((FactState::Known(Value::List(dirs)), p)) if !dirs.is_empty() => {
            (dirs.clone(), p.clone())
        }
        Some((FactState::Unknown(reason), _)) => {
            return (Fact::unknown(reason.clone()), Fact::unknown(reason.clone()))
        }
        _ => (
            vec![DEFAULT_CNI_BIN_DIR.to_string()],
            Provenance::default().with_note("the CNI default"),
        ),
    };
    let mut missing = Vec::new();
    for plugin in CNI_PLUGINS {
        let mut found = false;
        for dir in &dirs {
            let path = format!("{}/{plugin}", dir.trim_end_matches('/'));
            match host.kind(&path) {
                Ok(Some(FileKind::File)) => {
                    found = true;
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    let reason = e.to_string();
                    return (Fact::known(dirs, provenance), Fact::unknown(reason));
                }
            }
        }
        if !found {
            missing.push(plugin.to_string());
        }
    }
    let looked = Provenance::default().with_note(format!("looked in {}", dirs.join(", ")));
    (Fact::known(dirs, provenance), Fact::known(missing, looked))
}

/// The runtime's CNI configuration directory and the network configurations in it.
fn cni_configs(host: &dyn Host, facts: &FactSet, runtime: Option<&str>) -> (Fact, Fact) {
    let configured = match runtime {
        Some("containerd") => facts.get("containerd.cni_conf_dir"),
        Some("crio") => facts.get("crio.cni_network_dir"),
        _ => None,
    };
    let (dir, provenance) = match configured.map(|f| (&f.state, &f.provenance)) {
        Some((FactState::Known(Value::Str(dir)), p)) => (dir.clone(), p.clone()),
        Some((FactState::Unknown(reason), _)) => {
            return (Fact::unknown(reason.clone()), Fact::unknown(reason.clone()))
        }
        _ => (
            DEFAULT_CNI_CONF_DIR.to_string(),
            Provenance::default().with_note("the CNI default"),
        ),
    };
    let dir = dir.trim_end_matches('/').to_string();
    // libcni loads *.conf, *.conflist and *.json.
    let configs = match host.list_dir(&dir) {
        Ok(entries) => Fact::known(
            entries
                .into_iter()
                .filter(|e| e.kind == FileKind::File)
                .filter(|e| {
                    [".conf", ".conflist", ".json"]
                        .iter()
                        .any(|s| e.name.ends_with(s))
                })
                .map(|e| e.name)
                .collect::<Vec<_>>(),
            Provenance::file(dir.as_str()),
        ),
        Err(e) if e.is_not_found() => Fact::known(
            Vec::<String>::new(),
            Provenance::file(dir.as_str()).with_note("does not exist"),
        ),
        Err(e) => Fact::unknown(e.to_string()),
    };
    (Fact::known(dir, provenance), configs)
}
