//! The node as kubeadm's preflight sees it: init system, swap, CPUs, memory, OS, hostname.
//!
//! Facts: `init.systemd`, `init.pid1`, `swap.enabled`, `swap.devices`, `cpu.count`,
//! `memory.total_mb`, `os.id`, `os.version_id`, `os.pretty_name`, `host.hostname`,
//! `host.hostname_valid`, `process.root`.
//!
//! /proc/cpuinfo and /proc/meminfo are read by hand: procfs-core's `CpuInfo` asserts (panics)
//! on an empty file and its `Meminfo` refuses a file that lacks any of twenty fields, and a
//! bundle or a `--root` tree is untrusted input. Only one line of each is needed.

use super::{Fact, FactRequest, FactSet, Provenance};
use crate::host::Host;

const SYSTEMD_RUNTIME: &str = "/run/systemd/system";
const PID1_COMM: &str = "/proc/1/comm";
const PROC_SWAPS: &str = "/proc/swaps";
const CPUINFO: &str = "/proc/cpuinfo";
const MEMINFO: &str = "/proc/meminfo";
const OS_RELEASE: &[&str] = &["/etc/os-release", "/usr/lib/os-release"];
const HOSTNAME: &[&str] = &["/proc/sys/kernel/hostname", "/etc/hostname"];
/// The checking process's own status: procfs answers `self` with whoever reads it.
const SELF_STATUS: &str = "/proc/self/status";

pub fn gather(host: &dyn Host, _request: &FactRequest) -> FactSet {
    let mut facts = FactSet::default();
    init(host, &mut facts);
    swap(host, &mut facts);
    facts.insert("cpu.count", cpu_count(host));
    facts.insert("memory.total_mb", memory_mb(host));
    os_release(host, &mut facts);
    hostname(host, &mut facts);
    // Always gathered, whatever the request: every rule's result depends on it when a read is
    // refused (see rules::eval).
    facts.insert(PROCESS_ROOT, process_root(host));
    facts
}

/// Whether this process runs as root: the fact behind kubeadm's IsPrivilegedUser check, and
/// what tells a read refused to an unprivileged user from a broken node.
pub const PROCESS_ROOT: &str = "process.root";

/// The effective uid of this process, from /proc/self/status: on the live host, or from a
/// bundle collected live (the collector's, as recorded, so that the bundle gives the results
/// the live run gave). A `--root` tree's /proc (a copy, or another machine's) says nothing
/// about who reads it: there the fact is absent, and the checks that need it do not apply.
fn process_root(host: &dyn Host) -> Fact {
    if !host.proc_self_is_the_reader() {
        return Fact::absent(
            Provenance::default()
                .with_note("not a live run: a --root tree or a bundle is only read"),
        );
    }
    let text = match host.read_text(SELF_STATUS) {
        Ok(text) => text,
        // A bundle from before this fact was gathered: it does not say.
        Err(_) if !host.is_live() => {
            return Fact::absent(
                Provenance::file(SELF_STATUS).with_note("not recorded in this bundle"),
            )
        }
        Err(e) => return Fact::unknown(e.to_string()),
    };
    for (i, line) in text.lines().enumerate() {
        let Some(ids) = line.strip_prefix("Uid:") else {
            continue;
        };
        // Real, effective, saved and filesystem uid: access checks use the effective one.
        return match ids.split_whitespace().nth(1).map(str::parse::<u32>) {
            Some(Ok(euid)) => Fact::known(
                euid == 0,
                Provenance::line(SELF_STATUS, i as u32 + 1)
                    .with_note(format!("effective uid {euid}")),
            ),
            _ => Fact::unknown(format!(
                "{SELF_STATUS}:{}: cannot read the effective uid",
                i + 1
            )),
        };
    }
    Fact::unknown(format!("{SELF_STATUS}: no Uid line"))
}

/// systemd's own test (sd_booted): /run/systemd/system exists only when systemd is PID 1.
fn init(host: &dyn Host, facts: &mut FactSet) {
    let comm = host.read_text(PID1_COMM).map(|c| c.trim().to_string());
    facts.insert(
        "init.pid1",
        match &comm {
            Ok(c) => Fact::known(c.as_str(), Provenance::file(PID1_COMM)),
            Err(e) if e.is_not_found() => Fact::absent(Provenance::file(PID1_COMM)),
            Err(e) => Fact::unknown(e.to_string()),
        },
    );
    let fact = match host.kind(SYSTEMD_RUNTIME) {
        Ok(Some(crate::host::FileKind::Dir)) => {
            Fact::known(true, Provenance::file(SYSTEMD_RUNTIME).with_note("exists"))
        }
        Ok(_) => {
            let note = match &comm {
                Ok(c) => format!("absent; PID 1 is {c}"),
                Err(_) => "absent".to_string(),
            };
            Fact::known(false, Provenance::file(SYSTEMD_RUNTIME).with_note(note))
        }
        Err(e) => Fact::unknown(e.to_string()),
    };
    facts.insert("init.systemd", fact);
}

fn swap(host: &dyn Host, facts: &mut FactSet) {
    let (enabled, devices) = match host.read_text(PROC_SWAPS) {
        Ok(text) => {
            // The first line is the header: Filename Type Size Used Priority.
            let devices: Vec<String> = text
                .lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_string)
                .collect();
            let provenance = Provenance::file(PROC_SWAPS);
            (
                Fact::known(!devices.is_empty(), provenance.clone()),
                Fact::known(devices, provenance),
            )
        }
        // A kernel without swap support has no /proc/swaps.
        Err(e) if e.is_not_found() => {
            let provenance = Provenance::file(PROC_SWAPS).with_note("absent: no swap support");
            (
                Fact::known(false, provenance.clone()),
                Fact::known(Vec::new(), provenance),
            )
        }
        Err(e) => (Fact::unknown(e.to_string()), Fact::unknown(e.to_string())),
    };
    facts.insert("swap.enabled", enabled);
    facts.insert("swap.devices", devices);
}

fn cpu_count(host: &dyn Host) -> Fact {
    match host.read_text(CPUINFO) {
        Ok(text) => {
            let count = text
                .lines()
                .filter(|l| l.split(':').next().is_some_and(|k| k.trim() == "processor"))
                .count();
            if count == 0 {
                Fact::unknown(format!("{CPUINFO}: no processor entries"))
            } else {
                Fact::known(count as i64, Provenance::file(CPUINFO))
            }
        }
        Err(e) => Fact::unknown(e.to_string()),
    }
}

fn memory_mb(host: &dyn Host) -> Fact {
    let text = match host.read_text(MEMINFO) {
        Ok(text) => text,
        Err(e) => return Fact::unknown(e.to_string()),
    };
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.strip_prefix("MemTotal:") else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let value = fields.next().and_then(|v| v.parse::<i64>().ok());
        return match (value, fields.next()) {
            // kubeadm: MemTotal in kB, divided by 1024 (mebibytes, called MB).
            (Some(kb), Some("kB")) => {
                Fact::known(kb / 1024, Provenance::line(MEMINFO, i as u32 + 1))
            }
            _ => Fact::unknown(format!("{MEMINFO}:{}: cannot read MemTotal", i + 1)),
        };
    }
    Fact::unknown(format!("{MEMINFO}: no MemTotal line"))
}

fn os_release(host: &dyn Host, facts: &mut FactSet) {
    let mut found = None;
    let mut error = None;
    for path in OS_RELEASE {
        match host.read_text(path) {
            Ok(text) => {
                found = Some((*path, text));
                break;
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                error.get_or_insert(e.to_string());
            }
        }
    }
    for (key, fact) in [
        ("ID", "os.id"),
        ("VERSION_ID", "os.version_id"),
        ("PRETTY_NAME", "os.pretty_name"),
    ] {
        let value = match &found {
            Some((path, text)) => match os_release_value(text, key) {
                Some((line, value)) => Fact::known(value, Provenance::line(*path, line)),
                None => Fact::absent(Provenance::file(*path)),
            },
            None => match &error {
                Some(e) => Fact::unknown(e.clone()),
                None => Fact::unknown(format!("neither {} exists", OS_RELEASE.join(" nor "))),
            },
        };
        facts.insert(fact, value);
    }
}

/// `KEY=value` with optional shell quoting (os-release(5)).
fn os_release_value(text: &str, key: &str) -> Option<(u32, String)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let value = line.trim().strip_prefix(key)?.strip_prefix('=')?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        Some((i as u32 + 1, value.to_string()))
    })
}

fn hostname(host: &dyn Host, facts: &mut FactSet) {
    let mut last_error = None;
    for path in HOSTNAME {
        match host.read_text(path) {
            Ok(text) if !text.trim().is_empty() => {
                let name = text.trim().to_string();
                let valid = is_dns1123_subdomain(&name);
                let provenance = Provenance::file(*path);
                facts.insert(
                    "host.hostname",
                    Fact::known(name.as_str(), provenance.clone()),
                );
                let verdict = if valid {
                    format!("{name:?} is a lowercase RFC 1123 name")
                } else {
                    format!("{name:?} is not a lowercase RFC 1123 name")
                };
                facts.insert(
                    "host.hostname_valid",
                    Fact::known(valid, provenance.with_note(verdict)),
                );
                return;
            }
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    let reason =
        last_error.unwrap_or_else(|| format!("neither {} holds a name", HOSTNAME.join(" nor ")));
    facts.insert("host.hostname", Fact::unknown(reason.clone()));
    facts.insert("host.hostname_valid", Fact::unknown(reason));
}

/// A node name must be a lowercase RFC 1123 subdomain, as kubeadm's preflight checks.
pub fn is_dns1123_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes() {
        let text = "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID='12'\n";
        assert_eq!(os_release_value(text, "ID"), Some((2, "debian".into())));
        assert_eq!(os_release_value(text, "VERSION_ID"), Some((3, "12".into())));
        assert_eq!(
            os_release_value(text, "NAME"),
            Some((1, "Debian GNU/Linux".into()))
        );
    }

    #[test]
    fn node_names() {
        assert!(is_dns1123_subdomain("node-1.example.com"));
        assert!(!is_dns1123_subdomain("Node_1"));
        assert!(!is_dns1123_subdomain("-a"));
    }
}
