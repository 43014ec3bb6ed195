//! Every fact name a rule may use. A rule that names anything else is refused when the
//! catalog loads, so a typo cannot turn into a check that silently never passes.
//!
//! `<key>` stands for a dotted parameter (a sysctl key), `<name>` for one without dots.

use std::collections::HashSet;
use std::sync::LazyLock;

pub struct FactSpec {
    pub name: &'static str,
    pub about: &'static str,
}

const fn spec(name: &'static str, about: &'static str) -> FactSpec {
    FactSpec { name, about }
}

pub const FACTS: &[FactSpec] = &[
    spec("runtime.in_use", "The runtime in use: the CRI endpoint's, else the only one configured"),
    spec("runtime.cgroup_driver", "The runtime's cgroup driver: its CRI RuntimeConfig answer, else its configuration"),
    spec("oci_runtime.binary", "The OCI runtime binary (runc, crun) the runtime is configured to start"),
    spec("oci_runtime.found", "Whether that binary exists (on the runtime's PATH when named without a path)"),
    spec("cni.bin_dirs", "The runtime's CNI plugin directories"),
    spec("cni.missing_plugins", "Standard CNI plugins (bridge, host-local, loopback, portmap) in none of them"),
    spec("cni.conf_dir", "The runtime's CNI network configuration directory"),
    spec("cni.configs", "The network configurations (*.conf, *.conflist, *.json) in it"),
    spec(
        "target.kubernetes_version",
        "The Kubernetes version checked against (--kubernetes-version)",
    ),
    spec(
        "target.role",
        "The node's role: control-plane or worker (--role)",
    ),
    spec("kernel.release", "The running kernel's release (uname -r)"),
    spec(
        "kernel.modules_supported",
        "Whether the kernel supports loadable modules",
    ),
    spec(
        "module.<name>.loaded",
        "Whether the module is loaded (/proc/modules)",
    ),
    spec(
        "module.<name>.builtin",
        "Whether the module is built into the kernel",
    ),
    spec("module.<name>.available", "Loaded or built in"),
    spec(
        "module.<name>.persisted",
        "Listed in modules-load.d, so loaded at boot",
    ),
    spec(
        "kconfig.<NAME>",
        "A kernel build option (y, m or a value) from the kernel config",
    ),
    spec(
        "kernel.config.missing_required",
        "Required kernel options missing for this cgroup mode",
    ),
    spec(
        "kernel.config.missing_required.common",
        "Required kernel options missing, whatever the cgroup mode",
    ),
    spec(
        "kernel.config.missing_required.cgroup_v1",
        "Kernel options required on cgroup v1 that are missing",
    ),
    spec(
        "kernel.config.missing_required.cgroup_v2",
        "Kernel options required on cgroup v2 that are missing",
    ),
    spec(
        "kernel.config.missing_optional",
        "Optional kernel options that are missing",
    ),
    spec(
        "sysctl.runtime.<key>",
        "A kernel parameter's live value (/proc/sys)",
    ),
    spec(
        "sysctl.persisted.<key>",
        "A kernel parameter's value after a reboot (sysctl.d)",
    ),
    spec("cgroup.mode", "v1, v2 or hybrid"),
    spec("cgroup.controllers", "The cgroup controllers available"),
    spec(
        "cgroup.missing_required_controllers",
        "Required cgroup controllers that are missing",
    ),
    spec(
        "cgroup.missing_optional_controllers",
        "Optional cgroup controllers that are missing",
    ),
    spec(
        "cgroup.recommended_driver",
        "The cgroup driver the Kubernetes docs recommend for this host",
    ),
    spec("crio.config.present", "Whether any CRI-O config file exists"),
    spec(
        "crio.config.files",
        "The CRI-O config files, in the order CRI-O applies them",
    ),
    spec("crio.config.parses", "Whether every CRI-O config file parses"),
    spec(
        "crio.cgroup_manager",
        "CRI-O's cgroup manager (crio.runtime.cgroup_manager): systemd or cgroupfs",
    ),
    spec(
        "crio.conmon_cgroup",
        "CRI-O's conmon_cgroup as configured (empty when unset)",
    ),
    spec(
        "crio.conmon_cgroup_valid",
        "Whether conmon_cgroup suits the cgroup manager, as CRI-O validates it",
    ),
    spec("crio.pause_image", "CRI-O's pause image (crio.image.pause_image)"),
    spec("crio.default_runtime", "CRI-O's default OCI runtime handler"),
    spec(
        "crio.runtime_path",
        "The binary of CRI-O's default runtime (its runtime_path, or its name on $PATH)",
    ),
    spec(
        "crio.cni_network_dir",
        "Where CRI-O looks for CNI configuration",
    ),
    spec("crio.cni_plugin_dirs", "Where CRI-O looks for CNI plugins"),
    spec(
        "docker.installed",
        "Whether Docker Engine / MCR is installed (dockerd, daemon.json or its socket)",
    ),
    spec(
        "docker.daemon_json.present",
        "Whether /etc/docker/daemon.json exists",
    ),
    spec(
        "docker.cgroup_driver",
        "Docker's cgroup driver (exec-opts native.cgroupdriver, or its default)",
    ),
    spec(
        "cri_dockerd.installed",
        "Whether cri-dockerd is installed (its socket or systemd units)",
    ),
    spec(
        "cri_dockerd.pod_infra_image",
        "cri-dockerd's pause image (--pod-infra-container-image, or its default)",
    ),
    spec(
        "kubelet.config.present",
        "Whether /var/lib/kubelet/config.yaml exists",
    ),
    spec(
        "kubelet.flags_files",
        "The kubelet flag files read (kubeadm-flags.env, /etc/default/kubelet, /etc/sysconfig/kubelet)",
    ),
    spec(
        "kubelet.cgroup_driver",
        "The kubelet's cgroup driver (cgroupDriver or --cgroup-driver, or its default)",
    ),
    spec(
        "kubelet.container_runtime_endpoint",
        "The kubelet's CRI endpoint as written (containerRuntimeEndpoint or the flag)",
    ),
    spec(
        "kubelet.container_runtime_endpoint_exists",
        "Whether the kubelet's CRI endpoint is a socket that exists",
    ),
    spec(
        "kubelet.fail_swap_on",
        "Whether the kubelet refuses to start with swap on (failSwapOn)",
    ),
    spec(
        "kubelet.swap_behavior",
        "The kubelet's memorySwap.swapBehavior (NoSwap or LimitedSwap)",
    ),
    spec(
        "kubelet.fail_cgroup_v1",
        "Whether the kubelet refuses cgroup v1 (failCgroupV1); absent when unset",
    ),
    spec("init.systemd", "Whether systemd is the init system (PID 1)"),
    spec("init.pid1", "The name of PID 1"),
    spec("swap.enabled", "Whether any swap is active"),
    spec("swap.devices", "The active swap devices and files"),
    spec("cpu.count", "The number of CPUs"),
    spec("memory.total_mb", "Total memory in MiB (MemTotal)"),
    spec("os.id", "The OS id (os-release ID)"),
    spec("os.version_id", "The OS version (os-release VERSION_ID)"),
    spec("os.pretty_name", "The OS name (os-release PRETTY_NAME)"),
    spec("host.hostname", "The host name"),
    spec(
        "host.hostname_valid",
        "Whether the host name is a valid node name (RFC 1123)",
    ),
    spec(
        "process.root",
        "Whether node-preflight runs as root (effective uid 0; live runs, and bundles collected live)",
    ),
    spec(
        "cri.endpoints_found",
        "The known CRI sockets present on the host (containerd, CRI-O, cri-dockerd)",
    ),
    spec(
        "cri.multiple_endpoints",
        "Whether more than one known CRI socket is present",
    ),
    spec(
        "cri.endpoint",
        "The CRI socket in use: --cri-socket, the kubelet's endpoint, --runtime's socket or the only one found",
    ),
    spec(
        "runtime.name",
        "The container runtime: containerd, crio, cri-dockerd or docker",
    ),
    spec(
        "cri.reachable",
        "Whether the CRI socket accepted a connection and answered",
    ),
    spec(
        "cri.version.api",
        "The CRI API the runtime answers: v1, or v1alpha2 when only that answers",
    ),
    spec(
        "cri.version.runtime_name",
        "The runtime's name as its CRI Version call says it",
    ),
    spec(
        "cri.version.runtime_version",
        "The runtime's version as its CRI Version call says it",
    ),
    spec(
        "cri.status.runtime_ready",
        "The RuntimeReady condition of the CRI Status call",
    ),
    spec(
        "cri.status.network_ready",
        "The NetworkReady condition of the CRI Status call (false until a CNI is configured)",
    ),
    spec(
        "cri.runtime_config.implemented",
        "Whether the runtime implements the CRI RuntimeConfig call",
    ),
    spec(
        "cri.runtime_config.cgroup_driver",
        "The cgroup driver the runtime reports through CRI RuntimeConfig: systemd or cgroupfs",
    ),
    spec(
        "docker.api.reachable",
        "Whether Docker Engine's API answered GET /version on its socket",
    ),
    spec("docker.api.version", "Docker Engine's version (GET /version)"),
    spec(
        "docker.api.cgroup_driver",
        "Docker Engine's cgroup driver (GET /info CgroupDriver)",
    ),
    spec(
        "docker.api.cgroup_version",
        "The cgroup version Docker Engine sees (GET /info CgroupVersion)",
    ),
    spec(
        "target.pause_image",
        "The pause image kubeadm of the target Kubernetes version expects",
    ),
    spec(
        "containerd.config.present",
        "Whether /etc/containerd/config.toml exists",
    ),
    spec(
        "containerd.config.version",
        "The config version of /etc/containerd/config.toml (1 when it has none)",
    ),
    spec(
        "containerd.config.valid",
        "Whether containerd's config files (with imports) parse and containerd accepts them",
    ),
    spec(
        "containerd.config_files",
        "containerd's config files read, in merge order (imports included)",
    ),
    spec(
        "containerd.cri_enabled",
        "Whether the CRI plugin is not in disabled_plugins",
    ),
    spec(
        "containerd.cgroup_driver",
        "The default runtime's cgroup driver (runc SystemdCgroup): systemd or cgroupfs",
    ),
    spec(
        "containerd.sandbox_image",
        "The sandbox (pause) image containerd's CRI plugin uses",
    ),
    spec(
        "containerd.default_runtime",
        "The CRI default runtime's name (default_runtime_name)",
    ),
    spec(
        "containerd.runtime_type",
        "The default runtime's shim (runtime_type)",
    ),
    spec(
        "containerd.runtime_binary",
        "The OCI runtime binary of the default runtime (BinaryName, default runc)",
    ),
    spec(
        "containerd.cni_bin_dir",
        "Where containerd looks for CNI plugins (bin_dir / bin_dirs)",
    ),
    spec(
        "containerd.cni_conf_dir",
        "Where containerd looks for CNI network configs (conf_dir)",
    ),
];

/// Whether `name` is a fact some gatherer provides.
pub fn is_known(name: &str) -> bool {
    // Every rule's every fact is looked up when the catalog loads: the exact names go in a
    // set and the patterns are split once, instead of scanning each pattern per lookup.
    static INDEX: LazyLock<(HashSet<&'static str>, Vec<Pattern>)> = LazyLock::new(|| {
        let mut exact = HashSet::new();
        let mut patterns = Vec::new();
        for spec in FACTS {
            match Pattern::parse(spec.name) {
                Some(pattern) => patterns.push(pattern),
                None => {
                    exact.insert(spec.name);
                }
            }
        }
        (exact, patterns)
    });
    let (exact, patterns) = &*INDEX;
    exact.contains(name) || patterns.iter().any(|p| p.matches(name))
}

/// A fact name with a placeholder: `module.<name>.loaded`.
struct Pattern {
    prefix: &'static str,
    suffix: &'static str,
    /// `<key>` takes dotted words (a sysctl key); any other placeholder one word.
    dotted: bool,
}

impl Pattern {
    /// `None` for a name without a placeholder (or a malformed one, which then matches
    /// only itself).
    fn parse(name: &'static str) -> Option<Pattern> {
        let open = name.find('<')?;
        let close = open + name[open..].find('>')?;
        Some(Pattern {
            prefix: &name[..open],
            suffix: &name[close + 1..],
            dotted: &name[open + 1..close] == "key",
        })
    }

    fn matches(&self, name: &str) -> bool {
        let Some(middle) = name
            .strip_prefix(self.prefix)
            .and_then(|rest| rest.strip_suffix(self.suffix))
        else {
            return false;
        };
        !middle.is_empty()
            && middle.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
            })
            && (self.dotted || !middle.contains('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(is_known("sysctl.runtime.net.ipv4.ip_forward"));
        assert!(is_known("module.br_netfilter.available"));
        assert!(!is_known("module.a.b.available"));
        assert!(!is_known("module.overlay.availble"));
        assert!(is_known("kconfig.OVERLAY_FS"));
        assert!(!is_known("sysctl.runtime."));
        assert!(is_known("cgroup.mode"));
        assert!(!is_known("cgroup.mood"));
    }
}
