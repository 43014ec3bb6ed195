//! Docker Engine (or Mirantis Container Runtime) and cri-dockerd, the CRI shim that lets the
//! kubelet use Docker since the dockershim left the kubelet in Kubernetes 1.24.
//!
//! Facts: `docker.installed`, `docker.daemon_json.present`, `docker.cgroup_driver`,
//! `cri_dockerd.installed`, `cri_dockerd.pod_infra_image`.
//!
//! This group runs after the first phase: when daemon.json does not choose a cgroup driver,
//! dockerd's default depends on the cgroup mode and the init system (`cgroup.mode`,
//! `init.systemd`).

use super::confdirs;
use super::{Fact, FactRequest, FactSet, FactState, Options, Provenance};
use crate::host::{FileKind, Host, HostError};

const DOCKERD_BINARIES: &[&str] = &["/usr/bin/dockerd", "/usr/local/bin/dockerd"];
pub const DAEMON_JSON: &str = "/etc/docker/daemon.json";
const DOCKER_SOCKETS: &[&str] = &["/run/docker.sock", "/var/run/docker.sock"];
const CRI_DOCKERD_SOCKETS: &[&str] = &["/run/cri-dockerd.sock", "/var/run/cri-dockerd.sock"];

/// systemd's system unit directories, in precedence order (systemd.unit(5)).
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];
const CRI_DOCKER_SERVICE: &str = "cri-docker.service";
const CRI_DOCKER_SOCKET: &str = "cri-docker.socket";

/// cri-dockerd's built-in `--pod-infra-container-image` (cmd/cri/options/options.go).
const CRI_DOCKERD_DEFAULT_PAUSE: &str = "registry.k8s.io/pause:3.10";

const CGROUP_DRIVER_OPT: &str = "native.cgroupdriver";

pub fn gather(
    host: &dyn Host,
    _request: &FactRequest,
    phase1: &FactSet,
    _options: &Options,
) -> FactSet {
    let mut facts = FactSet::default();
    let installed = first_present(
        host,
        &installed_paths(),
        "no dockerd in /usr/bin or /usr/local/bin, no /etc/docker/daemon.json, no docker.sock",
    );
    let daemon_json = host.read_text_opt(DAEMON_JSON);
    facts.insert(
        "docker.daemon_json.present",
        match &daemon_json {
            Ok(text) => Fact::known(text.is_some(), Provenance::file(DAEMON_JSON)),
            Err(e) => Fact::unknown(e.to_string()),
        },
    );
    let is_installed = installed.as_bool() == Some(true);
    facts.insert("docker.installed", installed);
    facts.insert(
        "docker.cgroup_driver",
        if is_installed {
            cgroup_driver(&daemon_json, phase1)
        } else {
            Fact::absent(Provenance::default().with_note("Docker is not installed"))
        },
    );

    let cri_dockerd = first_present(
        host,
        &cri_dockerd_paths(),
        "no /run/cri-dockerd.sock and no cri-docker.socket or cri-docker.service unit in the systemd unit directories",
    );
    let cri_installed = cri_dockerd.as_bool() == Some(true);
    facts.insert("cri_dockerd.installed", cri_dockerd);
    facts.insert(
        "cri_dockerd.pod_infra_image",
        if cri_installed {
            pod_infra_image(host)
        } else {
            Fact::absent(Provenance::default().with_note("cri-dockerd is not installed"))
        },
    );
    facts
}

fn installed_paths() -> Vec<String> {
    DOCKERD_BINARIES
        .iter()
        .chain([DAEMON_JSON].iter())
        .chain(DOCKER_SOCKETS)
        .map(|s| s.to_string())
        .collect()
}

fn cri_dockerd_paths() -> Vec<String> {
    let mut paths: Vec<String> = CRI_DOCKERD_SOCKETS.iter().map(|s| s.to_string()).collect();
    for dir in UNIT_DIRS {
        for unit in [CRI_DOCKER_SOCKET, CRI_DOCKER_SERVICE] {
            paths.push(format!("{dir}/{unit}"));
        }
    }
    paths
}

/// True with the first path that exists; false when none does; unknown when none is known to
/// exist and one could not be looked at.
fn first_present(host: &dyn Host, paths: &[String], none: &str) -> Fact {
    let mut error: Option<HostError> = None;
    for path in paths {
        match host.kind(path) {
            Ok(Some(_)) => return Fact::known(true, Provenance::file(path.clone())),
            Ok(None) => {}
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    match error {
        Some(e) => Fact::unknown(e.to_string()),
        None => Fact::known(false, Provenance::default().with_note(none)),
    }
}

fn cgroup_driver(daemon_json: &Result<Option<String>, HostError>, phase1: &FactSet) -> Fact {
    let text = match daemon_json {
        Ok(Some(text)) => text,
        Ok(None) => return default_driver(phase1, &format!("{DAEMON_JSON} does not exist")),
        Err(e) => return Fact::unknown(e.to_string()),
    };
    match exec_opt(text, CGROUP_DRIVER_OPT) {
        Ok(Some((value, line))) => Fact::known(value, Provenance::line(DAEMON_JSON, line)),
        Ok(None) => default_driver(
            phase1,
            &format!("{DAEMON_JSON} sets no {CGROUP_DRIVER_OPT} in exec-opts"),
        ),
        Err(reason) => Fact::unknown(format!("{DAEMON_JSON}:{reason}")),
    }
}

/// The value of `name=value` in daemon.json's `exec-opts`, with the line it is on. Like
/// dockerd's `GetExecOpt`: the first option whose key matches (case-insensitively) wins, and
/// an empty value counts as unset. Errors are `line:column: reason`.
fn exec_opt(text: &str, name: &str) -> Result<Option<(String, u32)>, String> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{}:{}: not valid JSON: {e}", e.line(), e.column()))?;
    let Some(object) = json.as_object() else {
        return Err("1:1: not a JSON object".to_string());
    };
    let Some(opts) = object.get("exec-opts") else {
        return Ok(None);
    };
    let Some(opts) = opts.as_array() else {
        return Err(format!(
            "{}: exec-opts is not a list of strings",
            line_of_needle(text, "\"exec-opts\"").unwrap_or(1)
        ));
    };
    for opt in opts {
        let Some(opt) = opt.as_str() else {
            return Err(format!(
                "{}: exec-opts holds something other than a string",
                line_of_needle(text, "\"exec-opts\"").unwrap_or(1)
            ));
        };
        let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
        if key.trim().eq_ignore_ascii_case(name) {
            let value = value.trim();
            if value.is_empty() {
                return Ok(None);
            }
            // serde_json keeps no positions: find the option's string literal in the text.
            let literal = serde_json::to_string(opt).unwrap_or_default();
            let line = line_of_needle(text, &literal)
                .or_else(|| line_of_needle(text, "\"exec-opts\""))
                .unwrap_or(1);
            return Ok(Some((value.to_string(), line)));
        }
    }
    Ok(None)
}

fn line_of_needle(text: &str, needle: &str) -> Option<u32> {
    text.find(needle)
        .map(|offset| super::crio::line_of(text, offset))
}

/// dockerd's default (daemon/daemon_unix.go, `UsingSystemd`): systemd when the host is on
/// cgroup v2 and booted with systemd (Docker 20.10 and later), otherwise cgroupfs.
fn default_driver(phase1: &FactSet, why_unset: &str) -> Fact {
    let mode = phase1.get("cgroup.mode");
    let systemd = phase1.get("init.systemd");
    let unknown = |fact: Option<&Fact>, name: &str| match fact.map(|f| &f.state) {
        Some(FactState::Unknown(reason)) => format!("{name}: {reason}"),
        _ => format!("{name} is not known"),
    };
    let (Some(mode_value), Some(systemd_value)) =
        (mode.and_then(Fact::as_str), systemd.and_then(Fact::as_bool))
    else {
        let reason = if mode.and_then(Fact::as_str).is_none() {
            unknown(mode, "cgroup.mode")
        } else {
            unknown(systemd, "init.systemd")
        };
        return Fact::unknown(format!(
            "{why_unset}, and dockerd's default depends on the cgroup mode and init system: {reason}"
        ));
    };
    let (driver, because) = if mode_value == "v2" && systemd_value {
        ("systemd", "the host uses cgroup v2 and systemd")
    } else if mode_value == "v2" {
        (
            "cgroupfs",
            "the host uses cgroup v2 but systemd is not the init system",
        )
    } else {
        ("cgroupfs", "the host does not use cgroup v2")
    };
    Fact::known(
        driver,
        Provenance::file("dockerd default")
            .with_note(format!("{why_unset}; {because} (Docker 20.10+)")),
    )
}

/// One ExecStart= assignment of the effective cri-docker.service.
#[derive(Debug, PartialEq, Eq)]
struct ExecStart {
    path: String,
    line: u32,
    command: String,
}

fn pod_infra_image(host: &dyn Host) -> Fact {
    let exec = match effective_exec_start(host) {
        Ok(exec) => exec,
        Err(e) => return Fact::unknown(e.to_string()),
    };
    let Some(exec) = exec else {
        return Fact::known(
            CRI_DOCKERD_DEFAULT_PAUSE,
            Provenance::file("cri-dockerd default").with_note(format!(
                "no {CRI_DOCKER_SERVICE} ExecStart found; cri-dockerd's built-in default (releases before 0.3.15 used pause:3.9)"
            )),
        );
    };
    let args = split_command(&exec.command);
    match flag_value(&args, "--pod-infra-container-image") {
        Some(image) => Fact::known(image, Provenance::line(exec.path, exec.line)),
        None => {
            let mut note = format!(
                "ExecStart at {}:{} has no --pod-infra-container-image: cri-dockerd's built-in default (releases before 0.3.15 used pause:3.9)",
                exec.path, exec.line
            );
            if exec.command.contains('$') {
                note.push_str("; environment variables in the command line were not expanded");
            }
            Fact::known(
                CRI_DOCKERD_DEFAULT_PAUSE,
                Provenance::file("cri-dockerd default").with_note(note),
            )
        }
    }
}

/// The ExecStart that systemd would run: the unit file from the first directory that has
/// it, then its drop-ins (`cri-docker.service.d/*.conf`) in name order. An empty
/// `ExecStart=` clears what came before.
fn effective_exec_start(host: &dyn Host) -> Result<Option<ExecStart>, HostError> {
    let mut unit = None;
    for dir in UNIT_DIRS {
        let path = format!("{dir}/{CRI_DOCKER_SERVICE}");
        match host.kind(&path)? {
            None => continue,
            // A link to /dev/null masks the unit: it will not run at all.
            Some(FileKind::Other) if host.read_link(&path).as_deref() == Ok("/dev/null") => {
                return Ok(None)
            }
            Some(_) => {
                unit = Some(path);
                break;
            }
        }
    }
    let mut current: Option<ExecStart> = None;
    if let Some(path) = &unit {
        let text = host.read_text(path)?;
        apply_exec_starts(path, &text, &mut current);
    }
    let dropin_dirs: Vec<String> = UNIT_DIRS
        .iter()
        .map(|d| format!("{d}/{CRI_DOCKER_SERVICE}.d"))
        .collect();
    let dirs: Vec<&str> = dropin_dirs.iter().map(String::as_str).collect();
    let merged = confdirs::merge(host, &dirs);
    if let Some(e) = merged.first_error() {
        return Err(e.clone());
    }
    for file in &merged.files {
        if let Ok(text) = &file.text {
            apply_exec_starts(&file.path, text, &mut current);
        }
    }
    Ok(current)
}

/// Applies the `ExecStart=` lines of the `[Service]` section of one unit file.
fn apply_exec_starts(path: &str, text: &str, current: &mut Option<ExecStart>) {
    let mut in_service = false;
    for (line, content) in logical_lines(text) {
        if content.starts_with('[') {
            in_service = content == "[Service]";
            continue;
        }
        if !in_service {
            continue;
        }
        let Some((key, value)) = content.split_once('=') else {
            continue;
        };
        if key.trim() != "ExecStart" {
            continue;
        }
        let value = value.trim();
        *current = if value.is_empty() {
            None
        } else {
            Some(ExecStart {
                path: path.to_string(),
                line,
                // Prefixes that change how systemd runs the command, not the command.
                command: value
                    .trim_start_matches(['-', '@', ':', '+', '!'])
                    .to_string(),
            })
        };
    }
}

/// Lines with `\` continuations joined, comments and blank lines dropped, each with the line
/// number it starts on.
pub(crate) fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if pending.is_none() && (line.is_empty() || line.starts_with('#') || line.starts_with(';'))
        {
            continue;
        }
        let (start, mut acc) = pending.take().unwrap_or((i as u32 + 1, String::new()));
        if let Some(body) = line.strip_suffix('\\') {
            acc.push_str(body);
            acc.push(' ');
            pending = Some((start, acc));
        } else {
            acc.push_str(line);
            out.push((start, acc));
        }
    }
    if let Some(last) = pending {
        out.push(last);
    }
    out
}

/// Splits a command line into words, honouring single and double quotes as systemd does.
pub(crate) fn split_command(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The value of a string flag: `--flag=value` or `--flag value`; the last one wins, as with
/// Go's flag parsing.
pub(crate) fn flag_value(args: &[String], flag: &str) -> Option<String> {
    let mut found = None;
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        if let Some(value) = arg.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            found = Some(value.to_string());
        } else if arg == flag {
            if let Some(next) = iter.peek() {
                found = Some(next.to_string());
                iter.next();
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::crio::tests::host_with;

    fn phase1(mode: &str, systemd: bool) -> FactSet {
        let mut f = FactSet::default();
        f.insert("cgroup.mode", Fact::known(mode, Provenance::default()));
        f.insert("init.systemd", Fact::known(systemd, Provenance::default()));
        f
    }

    #[test]
    fn exec_opts_first_match_with_line() {
        let text = "{\n  \"exec-opts\": [\n    \"native.cgroupdriver=systemd\",\n    \"Native.CgroupDriver=cgroupfs\"\n  ]\n}\n";
        assert_eq!(
            exec_opt(text, CGROUP_DRIVER_OPT).unwrap(),
            Some(("systemd".to_string(), 3))
        );
        assert_eq!(
            exec_opt("{\"exec-opts\": []}", CGROUP_DRIVER_OPT).unwrap(),
            None
        );
        assert_eq!(
            exec_opt(
                "{\"exec-opts\": [\"native.cgroupdriver=\"]}",
                CGROUP_DRIVER_OPT
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn malformed_daemon_json_names_line_and_column() {
        let err = exec_opt("{\n  \"exec-opts\": [\"a\",]\n}\n", CGROUP_DRIVER_OPT).unwrap_err();
        assert!(err.starts_with("2:"), "{err}");
        assert!(err.contains("not valid JSON"), "{err}");
        let err = exec_opt(
            "{\n\"exec-opts\": \"native.cgroupdriver=systemd\"\n}",
            CGROUP_DRIVER_OPT,
        )
        .unwrap_err();
        assert!(err.starts_with("2: exec-opts is not a list"), "{err}");
        assert!(exec_opt("[]", CGROUP_DRIVER_OPT).is_err());
    }

    #[test]
    fn default_driver_follows_dockerd() {
        assert_eq!(
            default_driver(&phase1("v2", true), "unset").as_str(),
            Some("systemd")
        );
        assert_eq!(
            default_driver(&phase1("v2", false), "unset").as_str(),
            Some("cgroupfs")
        );
        assert_eq!(
            default_driver(&phase1("hybrid", true), "unset").as_str(),
            Some("cgroupfs")
        );
        assert!(matches!(
            default_driver(&FactSet::default(), "unset").state,
            FactState::Unknown(_)
        ));
    }

    #[test]
    fn commands_split_and_flags_read() {
        let args = split_command(
            "/usr/bin/cri-dockerd --container-runtime-endpoint fd:// --pod-infra-container-image=\"registry.k8s.io/pause:3.9\"",
        );
        assert_eq!(args.len(), 4);
        assert_eq!(
            flag_value(&args, "--pod-infra-container-image").as_deref(),
            Some("registry.k8s.io/pause:3.9")
        );
        assert_eq!(
            flag_value(&args, "--container-runtime-endpoint").as_deref(),
            Some("fd://")
        );
        assert_eq!(flag_value(&args, "--network-plugin"), None);
    }

    #[test]
    fn drop_ins_reset_and_replace_exec_start() {
        let (_dir, host) = host_with(&[
            (
                "/lib/systemd/system/cri-docker.service",
                "[Service]\nExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd://\n",
            ),
            (
                "/etc/systemd/system/cri-docker.service.d/10-pause.conf",
                "[Service]\nExecStart=\nExecStart=/usr/bin/cri-dockerd \\\n  --container-runtime-endpoint fd:// \\\n  --pod-infra-container-image registry.k8s.io/pause:3.10\n",
            ),
        ]);
        let fact = pod_infra_image(&host);
        assert_eq!(fact.as_str(), Some("registry.k8s.io/pause:3.10"));
        assert_eq!(
            fact.provenance.source,
            "/etc/systemd/system/cri-docker.service.d/10-pause.conf"
        );
        assert_eq!(fact.provenance.line, Some(3));
    }

    #[test]
    fn unit_without_flag_uses_the_default() {
        let (_dir, host) = host_with(&[(
            "/usr/lib/systemd/system/cri-docker.service",
            "[Unit]\nExecStart=/not/this\n[Service]\nExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd://\n",
        )]);
        let fact = pod_infra_image(&host);
        assert_eq!(fact.as_str(), Some(CRI_DOCKERD_DEFAULT_PAUSE));
        assert_eq!(fact.provenance.source, "cri-dockerd default");
        assert!(fact
            .provenance
            .note
            .unwrap()
            .contains("/usr/lib/systemd/system/cri-docker.service:4"));
    }
}
