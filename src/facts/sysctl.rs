//! Kernel parameters: the live value of each key a rule names, and the value it will have
//! after a reboot.
//!
//! Facts: `sysctl.runtime.<key>` (from `/proc/sys`) and `sysctl.persisted.<key>` (from the
//! sysctl.d files, merged as systemd-sysctl and `sysctl --system` do, with the file and line
//! that decide the value).

use std::borrow::Cow;
use std::collections::BTreeSet;

use globset::Glob;

use super::confdirs::{self, content_lines};
use super::{Fact, FactRequest, FactSet, Provenance};
use crate::host::Host;

pub const RUNTIME_PREFIX: &str = "sysctl.runtime.";
pub const PERSISTED_PREFIX: &str = "sysctl.persisted.";

/// sysctl.d directories in precedence order (sysctl.d(5)).
pub const SYSCTL_DIRS: &[&str] = &[
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// Read last by `sysctl --system`; systemd reads it through the usual
/// `/etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf` link instead.
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";

/// What the kernel uses when no file sets a key, for the keys rules care about.
/// bridge-nf-call-* default to 1 when br_netfilter loads (net/bridge/br_netfilter_hooks.c).
const KERNEL_DEFAULTS: &[(&str, &str)] = &[
    ("net.ipv4.ip_forward", "0"),
    ("net.ipv6.conf.all.forwarding", "0"),
    ("net.bridge.bridge-nf-call-iptables", "1"),
    ("net.bridge.bridge-nf-call-ip6tables", "1"),
];

pub fn gather(host: &dyn Host, request: &FactRequest) -> FactSet {
    let mut facts = FactSet::default();
    for key in request.params(RUNTIME_PREFIX) {
        facts.insert(format!("{RUNTIME_PREFIX}{key}"), runtime_value(host, key));
    }
    let persisted: BTreeSet<&str> = request.params(PERSISTED_PREFIX).collect();
    if !persisted.is_empty() {
        let files = confdirs::merge_with_legacy(host, SYSCTL_DIRS, SYSCTL_CONF);
        // Every file is parsed once, whatever the number of keys asked about.
        let lines = assignment_lines(&files);
        for key in persisted {
            facts.insert(
                format!("{PERSISTED_PREFIX}{key}"),
                persisted_value(&files, &lines, key),
            );
        }
    }
    facts
}

fn runtime_value(host: &dyn Host, key: &str) -> Fact {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    match host.read_text(&path) {
        Ok(text) => Fact::known(normalise(&text), Provenance::file(path)),
        Err(e) if e.is_not_found() => Fact::absent(
            Provenance::file(path).with_note("the kernel does not have this parameter now"),
        ),
        Err(e) => Fact::unknown(e.to_string()),
    }
}

/// One `key = value` line of the files, in the order they apply.
struct AssignmentLine<'a> {
    path: &'a str,
    line: u32,
    /// The key as sysctl reads it (dotted), which may be a glob.
    key: KeyPattern<'a>,
    /// The value as written.
    value: &'a str,
}

fn assignment_lines(files: &confdirs::MergedDirs) -> Vec<AssignmentLine<'_>> {
    let mut lines = Vec::new();
    for file in &files.files {
        let Ok(text) = &file.text else { continue };
        for (line, content) in content_lines(text) {
            if let Some((key, value)) = parse_assignment(content) {
                lines.push(AssignmentLine {
                    path: &file.path,
                    line,
                    key: KeyPattern::new(key),
                    value,
                });
            }
        }
    }
    lines
}

/// One assignment of a key in a file.
struct Assignment<'a> {
    path: &'a str,
    line: u32,
    value: String,
}

fn persisted_value(files: &confdirs::MergedDirs, lines: &[AssignmentLine<'_>], key: &str) -> Fact {
    if let Some(err) = files.first_error() {
        return Fact::unknown(format!(
            "cannot tell the value after a reboot: {err} (any file could set {key})"
        ));
    }
    let assignments: Vec<Assignment<'_>> = lines
        .iter()
        .filter(|l| l.key.matches(key))
        .map(|l| Assignment {
            path: l.path,
            line: l.line,
            value: normalise(l.value),
        })
        .collect();
    let Some(last) = assignments.last() else {
        let searched = format!(
            "no file in {} or {SYSCTL_CONF} sets it",
            SYSCTL_DIRS.join(", ")
        );
        return match KERNEL_DEFAULTS.iter().find(|(k, _)| *k == key) {
            Some((_, default)) => Fact::known(
                *default,
                Provenance::file("kernel default").with_note(searched),
            ),
            None => Fact::absent(Provenance::default().with_note(searched)),
        };
    };
    let mut provenance = Provenance::line(last.path, last.line);
    // Name the assignment that was overridden when it said something else: the classic trap
    // is a later file resetting what the Kubernetes file set.
    if let Some(earlier) = assignments[..assignments.len() - 1]
        .iter()
        .rev()
        .find(|a| a.value != last.value)
    {
        provenance = provenance.with_note(format!(
            "overrides {} set at {}:{}",
            earlier.value, earlier.path, earlier.line
        ));
    }
    Fact::known(last.value.clone(), provenance)
}

/// `key = value`; a leading `-` (ignore errors) is dropped and `/` separators become dots.
/// The value is returned as written (see [`normalise`]).
fn parse_assignment(line: &str) -> Option<(Cow<'_, str>, &str)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim().trim_start_matches('-').trim();
    if key.is_empty() {
        return None;
    }
    Some((normalise_key(key), value))
}

/// sysctl.d(5): a key whose first separator is `/` uses `/` throughout, and dots in it are
/// part of names (`net/ipv4/conf/eth0.100/rp_filter`): swap the two.
fn normalise_key(key: &str) -> Cow<'_, str> {
    let first_sep = key.find(['.', '/']);
    match first_sep.map(|i| &key[i..i + 1]) {
        Some("/") => Cow::Owned(
            key.chars()
                .map(|c| match c {
                    '/' => '.',
                    '.' => '/',
                    c => c,
                })
                .collect(),
        ),
        _ => Cow::Borrowed(key),
    }
}

/// An assignment's key. Since systemd 247 a key may be a glob (`net.ipv4.conf.*.rp_filter`),
/// compiled once per line rather than once per key asked.
enum KeyPattern<'a> {
    Exact(Cow<'a, str>),
    Glob(globset::GlobMatcher),
    /// A glob that does not compile matches nothing, as systemd-sysctl skips it.
    Invalid,
}

impl<'a> KeyPattern<'a> {
    fn new(key: Cow<'a, str>) -> Self {
        if !key.contains(['*', '?', '[']) {
            return KeyPattern::Exact(key);
        }
        match Glob::new(&key) {
            Ok(glob) => KeyPattern::Glob(glob.compile_matcher()),
            Err(_) => KeyPattern::Invalid,
        }
    }

    fn matches(&self, key: &str) -> bool {
        match self {
            KeyPattern::Exact(exact) => exact == key,
            KeyPattern::Glob(glob) => glob.is_match(key),
            KeyPattern::Invalid => false,
        }
    }
}

/// Values compare as the kernel prints them: fields separated by one space.
fn normalise(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_keys_become_dotted() {
        assert_eq!(normalise_key("net/ipv4/ip_forward"), "net.ipv4.ip_forward");
        assert_eq!(
            normalise_key("net/ipv4/conf/eth0.100/rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter"
        );
        assert_eq!(normalise_key("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
    }

    #[test]
    fn assignments_parse_like_sysctl() {
        let parse = |line| parse_assignment(line).map(|(k, v)| (k.into_owned(), normalise(v)));
        assert_eq!(
            parse("-net.ipv4.ip_forward=1"),
            Some(("net.ipv4.ip_forward".into(), "1".into()))
        );
        assert_eq!(
            parse("net.ipv4.ping_group_range = 0   2147483647"),
            Some(("net.ipv4.ping_group_range".into(), "0 2147483647".into()))
        );
        assert_eq!(parse("-net.core.default_qdisc"), None);
    }

    #[test]
    fn globs_match_keys() {
        let key = |k: &'static str| KeyPattern::new(Cow::Borrowed(k));
        assert!(key("net.ipv4.conf.*.rp_filter").matches("net.ipv4.conf.all.rp_filter"));
        assert!(!key("net.ipv4.conf.*.rp_filter").matches("net.ipv4.ip_forward"));
        assert!(key("net.ipv4.ip_forward").matches("net.ipv4.ip_forward"));
        assert!(!key("net.ipv4.ip_forward").matches("net.ipv4.ip_forwardx"));
        assert!(!key("net.ipv4.[").matches("net.ipv4.["));
    }
}
