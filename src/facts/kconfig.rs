//! The kernel build configuration, and the options containers need.
//!
//! The config is looked for where Kubernetes' system-validators looks (`/proc/config.gz`
//! first, then the files distributions install), and the required and optional lists are
//! system-validators' own (`validators/types_unix.go`), with their aliases.

use std::collections::HashMap;
use std::io::{BufReader, Read};

use flate2::read::GzDecoder;
use procfs_core::{ConfigSetting, FromBufRead, KernelConfig};

use crate::host::{Host, HostError, MAX_FILE_SIZE};

/// A kernel config option that containers need, with the older names it went by.
pub struct Requirement {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub why: &'static str,
}

const fn req(name: &'static str, why: &'static str) -> Requirement {
    Requirement {
        name,
        aliases: &[],
        why,
    }
}

/// Required whatever the cgroup version.
pub const REQUIRED: &[Requirement] = &[
    req("NAMESPACES", "namespaces"),
    req("NET_NS", "network namespaces"),
    req("PID_NS", "PID namespaces"),
    req("IPC_NS", "IPC namespaces"),
    req("UTS_NS", "UTS namespaces"),
    req("CPUSETS", "cpuset controller"),
    req("MEMCG", "memory controller"),
    req("INET", "TCP/IP networking"),
    req("EXT4_FS", "ext4 filesystem"),
    req("PROC_FS", "/proc filesystem"),
    Requirement {
        name: "NETFILTER_XT_TARGET_REDIRECT",
        aliases: &["IP_NF_TARGET_REDIRECT"],
        why: "iptables REDIRECT target (kube-proxy)",
    },
    req(
        "NETFILTER_XT_MATCH_COMMENT",
        "iptables comment match (kube-proxy)",
    ),
    req("FAIR_GROUP_SCHED", "CPU shares"),
];

/// Required on cgroup v1 (and hybrid) hosts.
pub const REQUIRED_CGROUP_V1: &[Requirement] = &[
    req("CGROUPS", "cgroups"),
    req("CGROUP_CPUACCT", "cpuacct controller"),
    req("CGROUP_DEVICE", "devices controller"),
    req("CGROUP_FREEZER", "freezer controller"),
    req("CGROUP_PIDS", "pids controller"),
    req("CGROUP_SCHED", "cpu controller"),
];

/// Required on cgroup v2 hosts.
pub const REQUIRED_CGROUP_V2: &[Requirement] = &[
    req("CGROUPS", "cgroups"),
    req("CGROUP_BPF", "eBPF device controller"),
    req("CGROUP_PIDS", "pids controller"),
    req("CGROUP_SCHED", "cpu controller"),
];

/// Wanted but not required: a warning when missing.
pub const OPTIONAL: &[Requirement] = &[
    Requirement {
        name: "OVERLAY_FS",
        aliases: &["OVERLAYFS_FS"],
        why: "overlayfs snapshotter",
    },
    req("CFS_BANDWIDTH", "CPU quota"),
    req("SECCOMP", "seccomp"),
    req("SECCOMP_FILTER", "seccomp mode 2 (filters)"),
];

/// Where the kernel config may be, for a release (system-validators' list).
pub fn candidate_paths(release: &str) -> Vec<String> {
    vec![
        "/proc/config.gz".to_string(),
        format!("/boot/config-{release}"),
        format!("/usr/src/linux-{release}/.config"),
        "/usr/src/linux/.config".to_string(),
        format!("/usr/lib/modules/{release}/config"),
        format!("/usr/lib/ostree-boot/config-{release}"),
        format!("/usr/lib/kernel/config-{release}"),
        format!("/usr/src/linux-headers-{release}/.config"),
        format!("/lib/modules/{release}/build/.config"),
    ]
}

/// A parsed kernel config and the file it came from.
#[derive(Debug)]
pub struct LoadedConfig {
    pub path: String,
    options: HashMap<String, ConfigSetting>,
}

/// How an option is set: `y`, `m`, `n` or another value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    BuiltIn,
    Module,
    Other(String),
}

impl Setting {
    pub fn as_str(&self) -> &str {
        match self {
            Setting::BuiltIn => "y",
            Setting::Module => "m",
            Setting::Other(v) => v,
        }
    }

    fn enabled(&self) -> bool {
        matches!(self, Setting::BuiltIn | Setting::Module)
    }
}

impl LoadedConfig {
    /// The setting of `NAME` (without the `CONFIG_` prefix).
    pub fn get(&self, name: &str) -> Option<Setting> {
        self.options
            .get(&format!("CONFIG_{name}"))
            .map(|s| match s {
                ConfigSetting::Yes => Setting::BuiltIn,
                ConfigSetting::Module => Setting::Module,
                ConfigSetting::Value(v) => Setting::Other(v.clone()),
            })
    }

    /// The requirements that are neither `=y` nor `=m` under any of their names, as
    /// `CONFIG_NAME` strings.
    pub fn missing(&self, requirements: &[Requirement]) -> Vec<String> {
        requirements
            .iter()
            .filter(|r| {
                !std::iter::once(r.name)
                    .chain(r.aliases.iter().copied())
                    .any(|n| self.get(n).is_some_and(|s| s.enabled()))
            })
            .map(|r| format!("CONFIG_{}", r.name))
            .collect()
    }
}

/// Finds and parses the kernel config. `Err` says why none could be used, naming every path
/// tried and every error met on the way.
pub fn load(host: &dyn Host, release: &str) -> Result<LoadedConfig, String> {
    let mut problems: Vec<String> = Vec::new();
    let paths = candidate_paths(release);
    for path in &paths {
        let bytes = match host.read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        match parse(path, &bytes) {
            Ok(options) => {
                return Ok(LoadedConfig {
                    path: path.clone(),
                    options,
                })
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let mut reason = format!("no kernel config found (looked in {})", paths.join(", "));
    if !problems.is_empty() {
        reason = format!("{reason}; {}", problems.join("; "));
    }
    Err(reason)
}

fn parse(path: &str, bytes: &[u8]) -> Result<HashMap<String, ConfigSetting>, HostError> {
    let invalid = |why: String| HostError::new(path, crate::host::ErrorReason::Io(why));
    let text: Vec<u8> = if path.ends_with(".gz") {
        let mut out = Vec::new();
        GzDecoder::new(bytes)
            .take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut out)
            .map_err(|e| invalid(format!("not a valid gzip file: {e}")))?;
        if out.len() as u64 > MAX_FILE_SIZE {
            return Err(invalid(format!(
                "decompresses to more than {MAX_FILE_SIZE} bytes"
            )));
        }
        out
    } else {
        bytes.to_vec()
    };
    let config = KernelConfig::from_buf_read(BufReader::new(text.as_slice()))
        .map_err(|e| invalid(format!("cannot parse kernel config: {e}")))?;
    Ok(config.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> LoadedConfig {
        LoadedConfig {
            path: "test".into(),
            options: parse("test", text.as_bytes()).unwrap(),
        }
    }

    #[test]
    fn aliases_and_modules_count_as_present() {
        let c = config(
            "CONFIG_IP_NF_TARGET_REDIRECT=m\nCONFIG_NAMESPACES=y\n# CONFIG_NET_NS is not set\n",
        );
        let missing = c.missing(&REQUIRED[..2]);
        assert_eq!(missing, vec!["CONFIG_NET_NS"]);
        assert!(c.missing(&REQUIRED[10..11]).is_empty());
    }

    #[test]
    fn garbage_gzip_is_an_error_not_a_panic() {
        let err = parse("/proc/config.gz", b"not gzip").unwrap_err();
        assert!(err.to_string().contains("not a valid gzip file"), "{err}");
    }
}
