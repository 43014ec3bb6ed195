//! The kernel build configuration, and the options containers need.
//!
//! The config is looked for where Kubernetes' system-validators looks (`/proc/config.gz`
//! first, then the files distributions install), and the required and optional lists are
//! system-validators' own (`validators/types_unix.go`), with their aliases.

use std::collections::HashMap;
use std::io::Read;

use flate2::read::GzDecoder;

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

/// The options of a kernel config that a run asked about, and the file it came from.
#[derive(Debug)]
pub struct LoadedConfig {
    pub path: String,
    /// By name without the `CONFIG_` prefix; an option the file does not set is absent.
    options: HashMap<String, Setting>,
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
    /// The setting of `NAME` (without the `CONFIG_` prefix). Only the names given to
    /// [`load`] (and those of the requirement lists) were kept.
    pub fn get(&self, name: &str) -> Option<Setting> {
        self.options.get(name).cloned()
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

/// Every option name a requirement list names, aliases included.
fn listed_names() -> impl Iterator<Item = &'static str> {
    [REQUIRED, REQUIRED_CGROUP_V1, REQUIRED_CGROUP_V2, OPTIONAL]
        .into_iter()
        .flatten()
        .flat_map(|r| std::iter::once(r.name).chain(r.aliases.iter().copied()))
}

/// Finds and parses the kernel config, keeping the options named in `wanted` (without the
/// `CONFIG_` prefix) and those of the requirement lists. `Err` says why none could be used,
/// naming every path tried and every error met on the way.
pub fn load(host: &dyn Host, release: &str, wanted: &[&str]) -> Result<LoadedConfig, String> {
    find(host, release).map(|found| select(&found, wanted))
}

/// A kernel config file found and read: decompressed, and known to be text.
#[derive(Debug)]
pub struct FoundConfig {
    pub path: String,
    text: String,
}

/// The first candidate path that holds a usable kernel config (read, inflated when gzipped,
/// valid text), or why there is none. This is the costly half of [`load`], which needs no
/// list of options and so can start before the catalog is loaded.
pub fn find(host: &dyn Host, release: &str) -> Result<FoundConfig, String> {
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
        match text_of(path, bytes) {
            Ok(text) => {
                return Ok(FoundConfig {
                    path: path.clone(),
                    text,
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

/// The options of a found config named in `wanted` and in the requirement lists.
pub fn select(found: &FoundConfig, wanted: &[&str]) -> LoadedConfig {
    let mut names: Vec<&str> = wanted.to_vec();
    for name in listed_names() {
        names.push(name);
    }
    names.sort_unstable();
    names.dedup();
    LoadedConfig {
        options: parse(&found.text, &names),
        path: found.path.clone(),
    }
}

/// A config file's bytes as text: inflated when the path ends in `.gz`, bounded, UTF-8.
fn text_of(path: &str, bytes: Vec<u8>) -> Result<String, HostError> {
    let invalid = |why: String| HostError::new(path, crate::host::ErrorReason::Io(why));
    let bytes = if path.ends_with(".gz") {
        // gzip's trailer says the decompressed size (modulo 4 GiB): allocate once.
        let said = bytes
            .len()
            .checked_sub(4)
            .and_then(|at| bytes.get(at..))
            .and_then(|tail| <[u8; 4]>::try_from(tail).ok())
            .map_or(0, u32::from_le_bytes);
        let mut out = Vec::with_capacity((u64::from(said).min(MAX_FILE_SIZE) + 1) as usize);
        GzDecoder::new(bytes.as_slice())
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
        bytes
    };
    String::from_utf8(bytes).map_err(|e| {
        invalid(format!(
            "cannot parse kernel config: not UTF-8 text ({})",
            e.utf8_error()
        ))
    })
}

/// Parses `CONFIG_NAME=value` lines (`# CONFIG_X is not set` and other comments skipped),
/// keeping the names in `wanted` (sorted).
///
/// By hand rather than procfs-core's `KernelConfig`, which allocates a line and a map entry
/// for each of the ~3,000 options of a distribution kernel to answer the ~40 a run asks:
/// that was half of a whole live check's instructions. The format is the same `name=value`
/// split at the first `=`, `y` and `m` recognised, any other value kept as written.
fn parse(text: &str, wanted: &[&str]) -> HashMap<String, Setting> {
    let mut options = HashMap::new();
    // One pass over the lines, and a line looked at only as far as it must be: most
    // are comments, and most options are not asked about. A name whose length no wanted name
    // has is passed over before the (sorted) list is searched.
    let mut lengths = [false; 128];
    for name in wanted {
        if let Some(seen) = lengths.get_mut(name.len()) {
            *seen = true;
        }
    }
    // Bytes, compared as bytes (the order of `str`): `text` is known to be UTF-8, and the
    // lines are split at `\n` and the names at `=`, both ASCII.
    crate::host::for_each_line(text.as_bytes(), 1, &mut |_, line| {
        let Some(assignment) = line.strip_prefix(b"CONFIG_") else {
            return;
        };
        let Some(eq) = memchr::memchr(b'=', assignment) else {
            return;
        };
        if !lengths.get(eq).copied().unwrap_or(true) {
            return;
        }
        let (name, value) = (&assignment[..eq], &assignment[eq + 1..]);
        let Ok(at) = wanted.binary_search_by(|w| w.as_bytes().cmp(name)) else {
            return;
        };
        let setting = match value.strip_suffix(b"\r").unwrap_or(value) {
            b"y" => Setting::BuiltIn,
            b"m" => Setting::Module,
            other => Setting::Other(String::from_utf8_lossy(other).into_owned()),
        };
        options.insert(wanted[at].to_string(), setting);
    });
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> LoadedConfig {
        let mut names: Vec<&str> = listed_names().chain(["LOCALVERSION", "HZ"]).collect();
        names.sort_unstable();
        LoadedConfig {
            path: "test".into(),
            options: parse(text, &names),
        }
    }

    #[test]
    fn values_are_kept_as_written_and_unasked_options_dropped() {
        let c = config(
            "#\n# Automatically generated file\nCONFIG_LOCALVERSION=\"-fc\"\nCONFIG_HZ=250\n\
             CONFIG_SECCOMP=y\nCONFIG_SOMETHING_ELSE=y\nCONFIG_OVERLAY_FS=m\n",
        );
        assert_eq!(
            c.get("LOCALVERSION"),
            Some(Setting::Other("\"-fc\"".into()))
        );
        assert_eq!(c.get("HZ"), Some(Setting::Other("250".into())));
        assert_eq!(c.get("SECCOMP"), Some(Setting::BuiltIn));
        assert_eq!(c.get("OVERLAY_FS"), Some(Setting::Module));
        assert_eq!(c.get("SOMETHING_ELSE"), None);
        assert_eq!(c.get("NET_NS"), None);
    }

    #[test]
    fn crlf_lines_a_last_line_without_newline_and_lines_without_a_value() {
        let c = config("CONFIG_SECCOMP=y\r\nCONFIG_HZ\nCONFIG_=y\n\nCONFIG_OVERLAY_FS=m");
        assert_eq!(c.get("SECCOMP"), Some(Setting::BuiltIn));
        assert_eq!(c.get("HZ"), None);
        assert_eq!(c.get("OVERLAY_FS"), Some(Setting::Module));
    }

    #[test]
    fn a_config_that_is_not_text_is_an_error() {
        let err = text_of("/boot/config-x", b"CONFIG_A=y\n\xff\xfe\n".to_vec()).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
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
        let err = text_of("/proc/config.gz", b"not gzip".to_vec()).unwrap_err();
        assert!(err.to_string().contains("not a valid gzip file"), "{err}");
    }
}
