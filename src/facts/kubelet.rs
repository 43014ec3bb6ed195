//! The kubelet's configuration as the kubelet reads it: the KubeletConfiguration file, then
//! the command-line flags that kubeadm's systemd drop-in passes from its environment files.
//! Flags override the file, as they do in the kubelet.
//!
//! kubeadm's drop-in (10-kubeadm.conf) runs
//! `kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS`,
//! with `KUBELET_KUBEADM_ARGS` from /var/lib/kubelet/kubeadm-flags.env (written by kubeadm)
//! and `KUBELET_EXTRA_ARGS` from /etc/default/kubelet (deb) or /etc/sysconfig/kubelet (rpm);
//! a later flag wins.
//!
//! Facts: `kubelet.config.present`, `kubelet.flags_files`, `kubelet.cgroup_driver`,
//! `kubelet.container_runtime_endpoint`, `kubelet.container_runtime_endpoint_exists`,
//! `kubelet.fail_swap_on`, `kubelet.swap_behavior`, `kubelet.fail_cgroup_v1`.

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::docker::logical_lines;
use super::{Fact, FactRequest, FactSet, FactState, Provenance};
use crate::host::{FileKind, Host};

pub const CONFIG: &str = "/var/lib/kubelet/config.yaml";
pub const KUBEADM_FLAGS: &str = "/var/lib/kubelet/kubeadm-flags.env";
/// Environment files and the variable each holds flags in, in the order the flags apply.
const FLAG_FILES: &[(&str, &str)] = &[
    (KUBEADM_FLAGS, "KUBELET_KUBEADM_ARGS"),
    ("/etc/default/kubelet", "KUBELET_EXTRA_ARGS"),
    ("/etc/sysconfig/kubelet", "KUBELET_EXTRA_ARGS"),
];
/// Signs that kubeadm manages this kubelet (or will, at init/join).
const KUBEADM_SIGNS: &[&str] = &[
    KUBEADM_FLAGS,
    "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
    "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
    "/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
    "/usr/bin/kubeadm",
    "/usr/local/bin/kubeadm",
];

/// The kubelet's own default endpoint (KubeletConfiguration v1beta1, 1.27+).
const DEFAULT_ENDPOINT: &str = "unix:///run/containerd/containerd.sock";

/// The fields of a KubeletConfiguration the checks read; other fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KubeletDoc {
    kind: Option<String>,
    cgroup_driver: Option<Spanned<String>>,
    container_runtime_endpoint: Option<Spanned<String>>,
    fail_swap_on: Option<Spanned<bool>>,
    #[serde(rename = "failCgroupV1")]
    fail_cgroup_v1: Option<Spanned<bool>>,
    memory_swap: Option<MemorySwap>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemorySwap {
    swap_behavior: Option<Spanned<String>>,
}

/// A value and where it was set.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Setting<T> {
    value: T,
    path: String,
    line: u32,
    /// Set by a command-line flag (rather than the config file).
    flag: Option<&'static str>,
}

impl<T> Setting<T> {
    fn provenance(&self) -> Provenance {
        let p = Provenance::line(self.path.clone(), self.line);
        match self.flag {
            Some(flag) => p.with_note(format!("{flag} flag, which overrides the config file")),
            None => p,
        }
    }
}

fn from_config<T>(path: &str, spanned: Spanned<T>) -> Setting<T> {
    Setting {
        line: spanned.referenced.line() as u32,
        value: spanned.value,
        path: path.to_string(),
        flag: None,
    }
}

/// What the config file says, as settings.
#[derive(Debug, Default)]
struct ConfigValues {
    cgroup_driver: Option<Setting<String>>,
    endpoint: Option<Setting<String>>,
    fail_swap_on: Option<Setting<bool>>,
    fail_cgroup_v1: Option<Setting<bool>>,
    swap_behavior: Option<Setting<String>>,
}

/// Reads the KubeletConfiguration document of a (possibly multi-document) YAML file.
fn parse_config(path: &str, text: &str) -> Result<ConfigValues, String> {
    let docs: Vec<KubeletDoc> = serde_saphyr::from_multiple(text).map_err(|e| {
        let reason = first_line(&e.to_string());
        match e.location() {
            Some(loc) => format!(
                "{path}:{}:{}: invalid KubeletConfiguration YAML: {reason}",
                loc.line(),
                loc.column()
            ),
            None => format!("{path}: invalid KubeletConfiguration YAML: {reason}"),
        }
    })?;
    let Some(doc) = docs
        .into_iter()
        .find(|d| d.kind.as_deref() == Some("KubeletConfiguration"))
    else {
        return Err(format!("{path}: no document of kind KubeletConfiguration"));
    };
    Ok(ConfigValues {
        cgroup_driver: doc.cgroup_driver.map(|s| from_config(path, s)),
        endpoint: doc.container_runtime_endpoint.map(|s| from_config(path, s)),
        fail_swap_on: doc.fail_swap_on.map(|s| from_config(path, s)),
        fail_cgroup_v1: doc.fail_cgroup_v1.map(|s| from_config(path, s)),
        swap_behavior: doc
            .memory_swap
            .and_then(|m| m.swap_behavior)
            .map(|s| from_config(path, s)),
    })
}

/// serde-saphyr's messages can carry a source snippet on later lines, and start with the
/// position, which the caller already gives: keep the reason only.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.split_once(": ") {
        Some((position, reason))
            if position.starts_with("line ") && position.contains(" column ") =>
        {
            reason.trim().to_string()
        }
        _ => line.to_string(),
    }
}

/// The flags the checks read, each the last occurrence across the files.
#[derive(Debug, Default)]
struct Flags {
    cgroup_driver: Option<Setting<String>>,
    endpoint: Option<Setting<String>>,
    fail_swap_on: Option<Result<Setting<bool>, String>>,
    fail_cgroup_v1: Option<Result<Setting<bool>, String>>,
}

/// One file's flags: the words of its variable, with the line the variable is set on.
fn env_var_words(text: &str, var: &str) -> Option<(u32, Vec<String>)> {
    let mut found = None;
    for (line, content) in logical_lines(text) {
        let content = content.strip_prefix("export ").unwrap_or(&content);
        let Some((key, value)) = content.split_once('=') else {
            continue;
        };
        if key.trim() == var {
            // The quotes belong to the environment file; the unquoted value is then split at
            // whitespace, as systemd splits an unbraced $VAR in ExecStart.
            let value = unquote(value.trim());
            found = Some((line, value.split_whitespace().map(str::to_string).collect()));
        }
    }
    found
}

/// An environment-file value without its enclosing quotes.
fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

fn apply_flags(path: &str, line: u32, words: &[String], flags: &mut Flags) {
    let mut iter = words.iter().peekable();
    while let Some(word) = iter.next() {
        let Some(body) = word.strip_prefix("--") else {
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        fn setting<T>(value: T, flag: &'static str, path: &str, line: u32) -> Setting<T> {
            Setting {
                value,
                path: path.to_string(),
                line,
                flag: Some(flag),
            }
        }
        // A string flag takes the next word when it has no `=value`.
        let mut string_value = |inline: Option<String>| {
            inline.or_else(|| iter.next_if(|w| !w.starts_with("--")).cloned())
        };
        match name {
            "cgroup-driver" => {
                if let Some(v) = string_value(inline) {
                    flags.cgroup_driver = Some(setting(v, "--cgroup-driver", path, line));
                }
            }
            "container-runtime-endpoint" => {
                if let Some(v) = string_value(inline) {
                    flags.endpoint = Some(setting(v, "--container-runtime-endpoint", path, line));
                }
            }
            "fail-swap-on" | "fail-cgroupv1" => {
                let flag = if name == "fail-swap-on" {
                    "--fail-swap-on"
                } else {
                    "--fail-cgroupv1"
                };
                // A bool flag is `--flag` (true) or `--flag=value`, never `--flag value`.
                let parsed = match inline.as_deref() {
                    None => Ok(true),
                    Some(v) => parse_go_bool(v).ok_or_else(|| {
                        format!("{path}:{line}: {flag}={v} is not a boolean (the kubelet will not start)")
                    }),
                };
                let parsed = parsed.map(|b| setting(b, flag, path, line));
                if name == "fail-swap-on" {
                    flags.fail_swap_on = Some(parsed);
                } else {
                    flags.fail_cgroup_v1 = Some(parsed);
                }
            }
            _ => {}
        }
    }
}

/// Go's strconv.ParseBool.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

pub fn gather(host: &dyn Host, _request: &FactRequest) -> FactSet {
    let mut facts = FactSet::default();

    // The flag files.
    let mut flags = Flags::default();
    let mut flag_files = Vec::new();
    let mut flag_error: Option<String> = None;
    for (path, var) in FLAG_FILES {
        match host.read_text_opt(path) {
            Ok(Some(text)) => {
                flag_files.push(path.to_string());
                if let Some((line, words)) = env_var_words(&text, var) {
                    apply_flags(path, line, &words, &mut flags);
                }
            }
            Ok(None) => {}
            Err(e) => {
                flag_error.get_or_insert(e.to_string());
            }
        }
    }
    facts.insert(
        "kubelet.flags_files",
        match &flag_error {
            Some(e) => Fact::unknown(e.clone()),
            None => Fact::known(
                flag_files,
                Provenance::file(
                    FLAG_FILES
                        .iter()
                        .map(|(p, _)| *p)
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ),
        },
    );

    // The config file.
    let config: Result<Option<ConfigValues>, String> = match host.read_text_opt(CONFIG) {
        Ok(Some(text)) => parse_config(CONFIG, &text).map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    facts.insert(
        "kubelet.config.present",
        match (&config, host.kind(CONFIG)) {
            (Ok(None), _) => Fact::known(false, Provenance::file(CONFIG)),
            (Ok(Some(_)), _) => Fact::known(true, Provenance::file(CONFIG)),
            // Present but unreadable or malformed: it is there all the same.
            (Err(_), Ok(Some(_))) => Fact::known(true, Provenance::file(CONFIG)),
            (Err(e), _) => Fact::unknown(e.clone()),
        },
    );
    // A fact every value of which needs the config (and the flag files) to be readable.
    let blocked = match (&config, &flag_error) {
        (Err(e), _) | (_, Some(e)) => Some(e.clone()),
        _ => None,
    };
    if let Some(reason) = blocked {
        for name in [
            "kubelet.cgroup_driver",
            "kubelet.container_runtime_endpoint",
            "kubelet.container_runtime_endpoint_exists",
            "kubelet.fail_swap_on",
            "kubelet.swap_behavior",
            "kubelet.fail_cgroup_v1",
        ] {
            facts.insert(name, Fact::unknown(reason.clone()));
        }
        return facts;
    }
    let config = config.ok().flatten();
    let has_config = config.is_some();
    let config = config.unwrap_or_default();

    facts.insert(
        "kubelet.cgroup_driver",
        cgroup_driver(host, flags.cgroup_driver, config.cgroup_driver, has_config),
    );
    let endpoint = match flags.endpoint.or(config.endpoint) {
        Some(s) => Fact::known(s.value.as_str(), s.provenance()),
        None if has_config => Fact::known(
            DEFAULT_ENDPOINT,
            Provenance::file("kubelet default").with_note(format!(
                "{CONFIG} sets no containerRuntimeEndpoint and no flag sets it (the kubelet's default since 1.27)"
            )),
        ),
        None => Fact::absent(Provenance::default().with_note(format!(
            "no {CONFIG} and no --container-runtime-endpoint flag: the kubelet is not configured yet"
        ))),
    };
    facts.insert(
        "kubelet.container_runtime_endpoint_exists",
        endpoint_exists(host, &endpoint),
    );
    facts.insert("kubelet.container_runtime_endpoint", endpoint);
    facts.insert(
        "kubelet.fail_swap_on",
        bool_setting(flags.fail_swap_on, config.fail_swap_on, || {
            Fact::known(
                true,
                Provenance::file("kubelet default")
                    .with_note("neither failSwapOn nor --fail-swap-on is set"),
            )
        }),
    );
    facts.insert(
        "kubelet.fail_cgroup_v1",
        bool_setting(flags.fail_cgroup_v1, config.fail_cgroup_v1, || {
            // The default depends on the kubelet's version: false up to 1.34, true from 1.35
            // (KEP-5573). The checks decide with the target version.
            Fact::absent(Provenance::file("kubelet default").with_note(
                "neither failCgroupV1 nor --fail-cgroupv1 is set: the default is true from Kubernetes 1.35, false before",
            ))
        }),
    );
    facts.insert(
        "kubelet.swap_behavior",
        match config.swap_behavior {
            Some(s) if !s.value.is_empty() => Fact::known(s.value.as_str(), s.provenance()),
            _ => Fact::known(
                "NoSwap",
                Provenance::file("kubelet default").with_note("memorySwap.swapBehavior is not set"),
            ),
        },
    );
    facts
}

fn bool_setting(
    flag: Option<Result<Setting<bool>, String>>,
    config: Option<Setting<bool>>,
    default: impl FnOnce() -> Fact,
) -> Fact {
    match (flag, config) {
        (Some(Err(reason)), _) => Fact::unknown(reason),
        (Some(Ok(s)), _) | (None, Some(s)) => Fact::known(s.value, s.provenance()),
        (None, None) => default(),
    }
}

fn cgroup_driver(
    host: &dyn Host,
    flag: Option<Setting<String>>,
    config: Option<Setting<String>>,
    has_config: bool,
) -> Fact {
    if let Some(s) = flag.or(config) {
        return Fact::known(s.value.as_str(), s.provenance());
    }
    if has_config {
        // A config file without cgroupDriver was not written by kubeadm (kubeadm always sets
        // it), and the kubelet's own default applies.
        return Fact::known(
            "cgroupfs",
            Provenance::file("kubelet default").with_note(format!(
                "{CONFIG} sets no cgroupDriver and no flag sets it: the kubelet's built-in default"
            )),
        );
    }
    let kubeadm = KUBEADM_SIGNS
        .iter()
        .find(|path| matches!(host.kind(path), Ok(Some(_))));
    match kubeadm {
        Some(sign) => Fact::known(
            "systemd",
            Provenance::file("kubeadm default").with_note(format!(
                "no {CONFIG} yet; kubeadm is present ({sign}), and kubeadm 1.22+ writes cgroupDriver: systemd unless told otherwise"
            )),
        ),
        None => Fact::known(
            "cgroupfs",
            Provenance::file("kubelet default").with_note(format!(
                "no {CONFIG}, no cgroup-driver flag and no kubeadm: the kubelet's built-in default"
            )),
        ),
    }
}

/// Whether the endpoint's socket exists on the host. `unix://` is stripped; a bare path is
/// also a unix socket to the kubelet.
fn endpoint_exists(host: &dyn Host, endpoint: &Fact) -> Fact {
    let value = match &endpoint.state {
        FactState::Known(v) => v.to_string(),
        FactState::Absent => return Fact::absent(endpoint.provenance.clone()),
        FactState::Unknown(reason) => return Fact::unknown(reason.clone()),
    };
    let path = match value.strip_prefix("unix://") {
        Some(path) => path.to_string(),
        None if value.starts_with('/') => value.clone(),
        None => {
            return Fact::unknown(format!(
                "{value} is not a unix socket endpoint; only unix:// endpoints are checked"
            ))
        }
    };
    // Name where the endpoint was configured, which is what a fix changes.
    let from = format!("endpoint {value} from {}", endpoint.provenance);
    match host.kind(&path) {
        Ok(Some(FileKind::Socket)) => Fact::known(true, Provenance::file(path).with_note(from)),
        Ok(Some(kind)) => Fact::known(
            false,
            Provenance::file(path).with_note(format!(
                "exists but is a {}, not a socket; {from}",
                kind_name(kind)
            )),
        ),
        Ok(None) => Fact::known(
            false,
            Provenance::file(path).with_note(format!("does not exist; {from}")),
        ),
        Err(e) => Fact::unknown(e.to_string()),
    }
}

fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::File => "regular file",
        FileKind::Dir => "directory",
        FileKind::Socket => "socket",
        FileKind::Other => "special file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::crio::tests::host_with;
    use crate::facts::docker::split_command;

    const KUBEADM_YAML: &str = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  criSocket: unix:///var/run/crio/crio.sock\n---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\ncontainerRuntimeEndpoint: unix:///var/run/crio/crio.sock\nfailSwapOn: false\nmemorySwap:\n  swapBehavior: LimitedSwap\n";

    #[test]
    fn picks_the_kubelet_document_with_lines() {
        let c = parse_config("/c.yaml", KUBEADM_YAML).unwrap();
        let driver = c.cgroup_driver.unwrap();
        assert_eq!((driver.value.as_str(), driver.line), ("systemd", 8));
        assert_eq!(c.endpoint.unwrap().line, 9);
        let swap = c.fail_swap_on.unwrap();
        assert_eq!((swap.value, swap.line), (false, 10));
        assert_eq!(c.swap_behavior.unwrap().value, "LimitedSwap");
        assert!(c.fail_cgroup_v1.is_none());
    }

    #[test]
    fn malformed_yaml_names_path_and_line() {
        let err = parse_config(
            "/c.yaml",
            "kind: KubeletConfiguration\ncgroupDriver: [systemd\n",
        )
        .unwrap_err();
        assert!(err.starts_with("/c.yaml:"), "{err}");
        assert!(err.contains("invalid KubeletConfiguration YAML"), "{err}");
        assert!(!err.contains("column"), "{err}");
        let err =
            parse_config("/c.yaml", "kind: KubeletConfiguration\nfailSwapOn: maybe\n").unwrap_err();
        assert!(err.starts_with("/c.yaml:2:"), "{err}");
        let err = parse_config("/c.yaml", "kind: InitConfiguration\n").unwrap_err();
        assert!(
            err.contains("no document of kind KubeletConfiguration"),
            "{err}"
        );
    }

    #[test]
    fn flags_parse_like_pflag() {
        let mut flags = Flags::default();
        let words = split_command(
            "--container-runtime-endpoint=unix:///run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10 --fail-swap-on=false --cgroup-driver cgroupfs --fail-cgroupv1",
        );
        apply_flags("/f.env", 1, &words, &mut flags);
        assert_eq!(
            flags.endpoint.unwrap().value,
            "unix:///run/containerd/containerd.sock"
        );
        assert!(!flags.fail_swap_on.unwrap().unwrap().value);
        assert_eq!(flags.cgroup_driver.unwrap().value, "cgroupfs");
        assert!(flags.fail_cgroup_v1.unwrap().unwrap().value);
        let mut flags = Flags::default();
        apply_flags(
            "/f.env",
            3,
            &split_command("--fail-swap-on=nope"),
            &mut flags,
        );
        assert!(flags
            .fail_swap_on
            .unwrap()
            .unwrap_err()
            .starts_with("/f.env:3:"));
    }

    #[test]
    fn env_files_unquote() {
        let text = "# kubeadm\nKUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///var/run/crio/crio.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n";
        let (line, words) = env_var_words(text, "KUBELET_KUBEADM_ARGS").unwrap();
        assert_eq!(line, 2);
        assert_eq!(words.len(), 2);
        assert_eq!(env_var_words(text, "KUBELET_EXTRA_ARGS"), None);
    }

    #[test]
    fn flags_override_the_config_file() {
        let (_dir, host) = host_with(&[
            (CONFIG, KUBEADM_YAML),
            (
                "/etc/default/kubelet",
                "KUBELET_EXTRA_ARGS=--cgroup-driver=cgroupfs --fail-swap-on\n",
            ),
        ]);
        let facts = gather(&host, &FactRequest::default());
        let driver = facts.get("kubelet.cgroup_driver").unwrap();
        assert_eq!(driver.as_str(), Some("cgroupfs"));
        assert_eq!(driver.provenance.source, "/etc/default/kubelet");
        assert_eq!(driver.provenance.line, Some(1));
        assert_eq!(
            facts.get("kubelet.fail_swap_on").unwrap().as_bool(),
            Some(true)
        );
        let endpoint = facts.get("kubelet.container_runtime_endpoint").unwrap();
        assert_eq!(endpoint.as_str(), Some("unix:///var/run/crio/crio.sock"));
        assert_eq!(endpoint.provenance.line, Some(9));
        let exists = facts
            .get("kubelet.container_runtime_endpoint_exists")
            .unwrap();
        assert_eq!(exists.as_bool(), Some(false));
        assert_eq!(exists.provenance.source, "/var/run/crio/crio.sock");
        assert_eq!(
            facts.get("kubelet.fail_cgroup_v1").unwrap().state,
            FactState::Absent
        );
    }

    #[test]
    fn defaults_depend_on_kubeadm() {
        let (_dir, host) = host_with(&[]);
        let facts = gather(&host, &FactRequest::default());
        let driver = facts.get("kubelet.cgroup_driver").unwrap();
        assert_eq!(driver.as_str(), Some("cgroupfs"));
        assert_eq!(driver.provenance.source, "kubelet default");
        assert_eq!(
            facts
                .get("kubelet.container_runtime_endpoint")
                .unwrap()
                .state,
            FactState::Absent
        );
        assert_eq!(
            facts.get("kubelet.config.present").unwrap().as_bool(),
            Some(false)
        );

        let (_dir, host) = host_with(&[("/usr/bin/kubeadm", "")]);
        let facts = gather(&host, &FactRequest::default());
        let driver = facts.get("kubelet.cgroup_driver").unwrap();
        assert_eq!(driver.as_str(), Some("systemd"));
        assert!(driver
            .provenance
            .note
            .as_ref()
            .unwrap()
            .contains("/usr/bin/kubeadm"));

        let (_dir, host) = host_with(&[
            ("/usr/bin/kubeadm", ""),
            (CONFIG, "kind: KubeletConfiguration\n"),
        ]);
        let facts = gather(&host, &FactRequest::default());
        assert_eq!(
            facts.get("kubelet.cgroup_driver").unwrap().as_str(),
            Some("cgroupfs")
        );
        assert_eq!(
            facts
                .get("kubelet.container_runtime_endpoint")
                .unwrap()
                .as_str(),
            Some(DEFAULT_ENDPOINT)
        );
        assert_eq!(
            facts.get("kubelet.swap_behavior").unwrap().as_str(),
            Some("NoSwap")
        );
    }

    #[test]
    fn malformed_config_makes_facts_unknown() {
        let (_dir, host) = host_with(&[(CONFIG, "kind: KubeletConfiguration\ncgroupDriver: [\n")]);
        let facts = gather(&host, &FactRequest::default());
        assert_eq!(
            facts.get("kubelet.config.present").unwrap().as_bool(),
            Some(true)
        );
        match &facts.get("kubelet.cgroup_driver").unwrap().state {
            FactState::Unknown(r) => assert!(r.starts_with(CONFIG), "{r}"),
            other => panic!("{other:?}"),
        }
    }
}
