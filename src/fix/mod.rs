//! `node-preflight fix`: a POSIX shell script of the remedies for the checks that failed.
//!
//! The checks run exactly as `check` runs them (same host, facts and evaluation); each failed
//! check whose rule has a structured remedy (`fix` in the catalog, see [`crate::rules`]) gets
//! commands aimed at the file and line its facts name; the others get a comment with the
//! message and the catalog's remediation. Checks that share a remedy (the live and the
//! persistent sysctl, say) share one block. The script:
//!
//! - writes only under `"$ROOT"` (empty: the live machine), so it can fix a copy of a root
//!   filesystem, and touches the running kernel and services (modprobe, sysctl --system,
//!   systemctl restart) only when ROOT is empty;
//! - is idempotent: each helper checks the state it is about to create first;
//! - quotes every value that comes from the host ([`shell::quote`]).
//!
//! From a support bundle (`fix --bundle`), the host is the bundle: the script is the one the
//! node itself would get, its paths the node's own. The bundle's copies of files have their
//! secrets replaced by a marker ([`crate::bundle::redact`]); a remedy never writes a line that
//! holds one back to the node (it edits around it, or refuses and says so).
//!
//! Nothing here writes anything: the script is text.

pub mod containerd;
pub mod crio;
pub mod docker;
pub mod edit;
pub mod kubelet;
pub mod module;
pub mod shell;
pub mod swap;
pub mod sysctl;

use crate::bundle::manifest::Redaction;
use crate::bundle::redact::MARKER;
use crate::facts::{Fact, FactSet, FactState};
use crate::host::Host;
use crate::report::Report;
use crate::rules::eval::{CheckResult, Status};
use crate::rules::{Catalog, Fix, Severity};
use edit::FileEdit;
use shell::comment;

/// What the remedy of a block does.
#[derive(Debug, Default)]
pub struct Remedy {
    /// What the commands do and why, as comments.
    pub notes: Vec<String>,
    /// Script lines (helper calls, live-only sections).
    pub commands: Vec<String>,
    /// Commands for the running system, run once at the end when ROOT is empty.
    pub live: Vec<String>,
}

/// A check run to make the script of.
pub struct Run<'a> {
    /// The host the run read: the machine, a root directory, or a bundle.
    pub host: &'a dyn Host,
    /// What the bundle's collector replaced in the host's files (none for a live host or a
    /// root directory).
    pub redactions: &'a [Redaction],
    pub catalog: &'a Catalog,
    /// The lowest severity fixed (`--fail-on`).
    pub fail_on: Severity,
    pub report: &'a Report,
    pub facts: &'a FactSet,
}

/// What a remedy reads: the host (through its one door) and the facts of the run.
pub struct Ctx<'a> {
    pub host: &'a dyn Host,
    pub facts: &'a FactSet,
    pub redactions: &'a [Redaction],
}

impl Ctx<'_> {
    pub fn fact(&self, name: &str) -> Result<&Fact, String> {
        let fact = self
            .facts
            .get(name)
            .ok_or_else(|| format!("{name} was not gathered"))?;
        match &fact.state {
            FactState::Unknown(reason) => Err(format!("{name} is not known: {reason}")),
            _ => Ok(fact),
        }
    }

    pub fn bool_fact(&self, name: &str) -> Option<bool> {
        self.facts.get(name).and_then(Fact::as_bool)
    }

    /// The file and line a fact names, for a remedy that edits that line.
    pub fn file_line(&self, fact: &Fact, name: &str) -> Result<(String, u32), String> {
        match fact.provenance.line {
            Some(line) if fact.provenance.source.starts_with('/') => {
                Ok((fact.provenance.source.clone(), line))
            }
            _ => Err(format!(
                "{name} comes from {}, not from a line of a file",
                fact.provenance
            )),
        }
    }

    pub fn read(&self, path: &str) -> Result<String, String> {
        self.host.read_text(path).map_err(|e| e.to_string())
    }

    /// The lines of `path` whose secrets the bundle's collector replaced. A redaction names
    /// the path the checks read, which may be a link to the file a remedy edits.
    fn redacted_lines(&self, path: &str) -> Vec<u32> {
        self.redactions
            .iter()
            .filter(|r| r.file == path || edit::resolve(self.host, &r.file) == path)
            .map(|r| r.line)
            .collect()
    }

    /// The helper calls of an edit, unless one is [`Ctx::redacted`].
    pub fn commands(&self, file: &FileEdit) -> Result<Vec<String>, String> {
        if let Some(why) = file.ops.iter().find_map(|op| self.redacted(&file.path, op)) {
            return Err(why);
        }
        Ok(file.commands())
    }

    /// Why an edit of `path` cannot be made from a bundle: it would carry a line whose secret
    /// the bundle holds only as the redaction marker (writing it would put the marker on the
    /// node; matching it would fail there).
    pub fn redacted(&self, path: &str, op: &edit::Op) -> Option<String> {
        let redacted = self.redacted_lines(path);
        if redacted.is_empty() {
            return None;
        }
        // A splice carries only the bytes it changes, and finds them on the node even when a
        // redaction before them on the line changed the bundle's columns.
        let whole_line = !matches!(op, edit::Op::Splice { .. });
        let on_redacted = whole_line && op.line().is_some_and(|l| redacted.contains(&l));
        if !on_redacted && !op.texts().iter().any(|t| t.contains(MARKER)) {
            return None;
        }
        Some(format!(
            "the bundle holds {path}{} only with its secrets redacted, and the change would carry \
             that line: make it on the node by hand, or run node-preflight fix there",
            op.line().map(|l| format!(":{l}")).unwrap_or_default()
        ))
    }

    /// Refuses a remedy that writes a whole file from its content when the bundle's copy of
    /// the file is redacted.
    pub fn whole_file(&self, path: &str) -> Result<(), String> {
        if self.redacted_lines(path).is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the bundle holds {path} only with its secrets redacted, and the remedy rewrites \
                 the whole file: make the change on the node by hand, or run node-preflight fix there"
            ))
        }
    }

    /// The cgroup driver this host calls for.
    pub fn recommended_driver(&self) -> Result<String, String> {
        match self.fact("cgroup.recommended_driver")?.as_str() {
            Some(d @ ("systemd" | "cgroupfs")) => Ok(d.to_string()),
            other => Err(format!(
                "the recommended cgroup driver is not known ({})",
                other.unwrap_or("unset")
            )),
        }
    }
}

/// Checks that share one remedy.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    Module(String),
    Sysctl(String),
    Containerd,
    Crio,
    Kubelet,
    Docker,
    Swap,
    /// No structured remedy: one comment block per check.
    Manual(String),
}

struct Group<'a> {
    key: Key,
    checks: Vec<&'a CheckResult>,
    fixes: Vec<Fix>,
}

/// Whether `fix` deals with a result: what `check` counts as failed at `--fail-on`, and
/// checks that could not be evaluated (a comment only).
fn wanted(result: &CheckResult, fail_on: Severity) -> bool {
    match result.status {
        Status::Fail | Status::Error => true,
        Status::Warn => fail_on == Severity::Warning,
        Status::Pass | Status::Skip => false,
    }
}

fn key_of(result: &CheckResult, fix: Option<&Fix>) -> Key {
    if result.status == Status::Error {
        return Key::Manual(result.id.clone());
    }
    match fix {
        Some(Fix::Module { name }) => Key::Module(name.clone()),
        Some(Fix::Sysctl { key, .. }) => Key::Sysctl(key.clone()),
        Some(Fix::Containerd(_)) => Key::Containerd,
        Some(Fix::Crio(_)) => Key::Crio,
        Some(Fix::Kubelet(_)) => Key::Kubelet,
        Some(Fix::Docker(_)) => Key::Docker,
        Some(Fix::Swap) => Key::Swap,
        None => Key::Manual(result.id.clone()),
    }
}

/// The script for a check run.
pub fn script(run: &Run) -> String {
    let ctx = Ctx {
        host: run.host,
        facts: run.facts,
        redactions: run.redactions,
    };
    let report = run.report;
    let mut groups: Vec<Group> = Vec::new();
    for result in report.checks.iter().filter(|r| wanted(r, run.fail_on)) {
        let fix = run.catalog.get(&result.id).and_then(|r| r.fix.clone());
        let key = key_of(result, fix.as_ref());
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => {
                g.checks.push(result);
                g.fixes.extend(fix);
            }
            None => groups.push(Group {
                key,
                checks: vec![result],
                fixes: fix.into_iter().collect(),
            }),
        }
    }

    let mut out = header(report);
    let mut body = Vec::new();
    let mut live: Vec<String> = Vec::new();
    for group in &groups {
        let ids: Vec<&str> = group.checks.iter().map(|c| c.id.as_str()).collect();
        body.push(String::new());
        body.push(format!("# === {}", ids.join(", ")));
        for check in &group.checks {
            body.extend(comment(&format!(
                "{} ({}): {}",
                check.id,
                check.status.as_str(),
                check.message
            )));
        }
        match remedy_of(&ctx, group) {
            Some(Ok(remedy)) => {
                for note in &remedy.notes {
                    body.extend(comment(note));
                }
                body.extend(remedy.commands.iter().cloned());
                for l in remedy.live {
                    if !live.contains(&l) {
                        live.push(l);
                    }
                }
            }
            Some(Err(reason)) => {
                body.extend(comment(&format!(
                    "Not changed automatically: {reason}. By hand:"
                )));
                body.extend(remediation(&group.checks));
            }
            None => {
                let why = if group.checks.iter().any(|c| c.status == Status::Error) {
                    "The check could not be evaluated; once it can, the remedy is:"
                } else {
                    "No safe automatic remedy. By hand:"
                };
                body.extend(comment(why));
                body.extend(remediation(&group.checks));
            }
        }
    }
    let has_commands = body.iter().any(|l| !l.is_empty() && !l.starts_with('#'));
    if groups.is_empty() {
        out.push_str("\n# Nothing failed: nothing to fix.\n");
        return out;
    }
    if has_commands || !live.is_empty() {
        out.push_str("ROOT=\"${ROOT:-}\"\n\n");
        out.push_str(shell::HELPERS);
        out.push('\n');
    }
    for line in body {
        out.push_str(&line);
        out.push('\n');
    }
    if !live.is_empty() {
        out.push_str("\n# === the running system (only when ROOT is empty)\n");
        for line in shell::live_only(&live) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

fn remedy_of(ctx: &Ctx, group: &Group) -> Option<Result<Remedy, String>> {
    let first = group.fixes.first()?;
    Some(match (&group.key, first) {
        (Key::Module(_), Fix::Module { name }) => module::remedy(ctx, name),
        (Key::Sysctl(_), Fix::Sysctl { key, value }) => sysctl::remedy(ctx, key, value),
        (Key::Containerd, _) => {
            let mut settings = Vec::new();
            for f in &group.fixes {
                if let Fix::Containerd(s) = f {
                    if !settings.contains(s) {
                        settings.push(*s);
                    }
                }
            }
            containerd::remedy(ctx, &settings)
        }
        (Key::Crio, _) => {
            let settings: Vec<_> = group
                .fixes
                .iter()
                .filter_map(|f| match f {
                    Fix::Crio(s) => Some(*s),
                    _ => None,
                })
                .collect();
            crio::remedy(ctx, &settings)
        }
        (Key::Kubelet, Fix::Kubelet(s)) => kubelet::remedy(ctx, *s),
        (Key::Docker, Fix::Docker(s)) => docker::remedy(ctx, *s),
        (Key::Swap, _) => Ok(swap::remedy()),
        _ => return None,
    })
}

/// The catalog's remediation of each check, as comments (once per distinct text).
fn remediation(checks: &[&CheckResult]) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut lines = Vec::new();
    for c in checks {
        if seen.contains(&c.remediation.as_str()) {
            continue;
        }
        seen.push(&c.remediation);
        lines.extend(
            comment(&c.remediation)
                .into_iter()
                .map(|l| l.replacen('#', "#  ", 1)),
        );
    }
    lines
}

fn header(report: &Report) -> String {
    let host = &report.host;
    let mut about = vec![host
        .hostname
        .clone()
        .unwrap_or_else(|| "unknown host".into())];
    about.extend(host.os.clone());
    about.extend(host.kernel.as_ref().map(|k| format!("kernel {k}")));
    let mut lines = vec!["#!/bin/sh".to_string()];
    lines.extend(comment(&format!(
        "node-preflight fix — the remedies for what failed on {} ({}), for Kubernetes {} ({}).",
        about.join(", "),
        host.source,
        report.target.kubernetes_version,
        report.target.role
    )));
    lines.extend(comment(&format!(
        "Generated {} by {} {}. Review every block before you run it, on that host, as root, \
         and generate it again if the host has changed since.",
        utc_now(),
        report.tool.name,
        report.tool.version
    )));
    lines.extend(comment(
        "It changes only files under \"$ROOT\" (empty: this machine); ROOT=DIR sh SCRIPT fixes a \
         copy of a root filesystem and leaves the running kernel and services alone. Running \
         it twice changes nothing the second time.",
    ));
    lines.push("set -eu".to_string());
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The current time as `2025-01-31T12:00:00Z`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::bundle::rfc3339(secs)
}

/// What the remedies' unit tests share: a host directory, the facts a remedy reads gathered
/// from it, and the [`Ctx`] over both.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::facts::{self, FactRequest, Options, RuntimeOptions, Target};
    use crate::host::FsHost;

    pub struct TestHost {
        pub dir: tempfile::TempDir,
        pub host: FsHost,
    }

    /// A host run by systemd on cgroup v2 (the systemd driver is the recommended one), plus
    /// `files`.
    pub fn host(files: &[(&str, &str)]) -> TestHost {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let base = [
            ("/proc/1/comm", "systemd\n"),
            (
                "/proc/mounts",
                "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n",
            ),
            ("/proc/sys/kernel/osrelease", "6.8.0-45-generic\n"),
        ];
        for (path, text) in base.iter().chain(files) {
            let p = dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&p, text).expect("write");
        }
        let host = FsHost::under(dir.path());
        TestHost { dir, host }
    }

    impl TestHost {
        pub fn link(self, path: &str, target: &str) -> Self {
            let p = self.dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
            std::os::unix::fs::symlink(target, p).expect("symlink");
            self
        }

        /// The facts the remedies of `fixes` read, for Kubernetes 1.34.
        pub fn facts(&self, fixes: &[Fix]) -> FactSet {
            let options = Options {
                target: Target {
                    kubernetes_version: crate::version::Version::new(1, 34),
                    kubernetes_version_source: "--kubernetes-version".into(),
                    role: crate::cli::Role::Worker,
                },
                runtime: RuntimeOptions::default(),
                kernel_prefetch: None,
            };
            let names = fixes.iter().flat_map(Fix::facts);
            facts::gather(&self.host, &FactRequest::new(names), &options)
        }
    }

    /// Runs `remedy` with the facts of `fixes` on `host` (and `redactions`, as from a bundle).
    pub fn run<T>(
        host: &TestHost,
        fixes: &[Fix],
        redactions: &[Redaction],
        remedy: impl FnOnce(&Ctx) -> T,
    ) -> T {
        let facts = host.facts(fixes);
        let ctx = Ctx {
            host: &host.host,
            facts: &facts,
            redactions,
        };
        remedy(&ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::edit::Op;
    use super::*;

    fn redaction(file: &str, line: u32) -> Redaction {
        Redaction {
            file: file.into(),
            key: "password".into(),
            line,
        }
    }

    #[test]
    fn an_edit_that_would_carry_a_redacted_line_is_refused() {
        let host = testing::host(&[]);
        let facts = FactSet::default();
        let redactions = [redaction("/etc/x.toml", 3)];
        let ctx = Ctx {
            host: &host.host,
            facts: &facts,
            redactions: &redactions,
        };
        let replace = |line: u32, old: &str| Op::Replace {
            line,
            old: old.into(),
            new: "k = 1".into(),
        };
        // The redacted line itself, or any text holding the marker: refused.
        assert!(ctx.redacted("/etc/x.toml", &replace(3, "k = 0")).is_some());
        assert!(ctx
            .redacted("/etc/x.toml", &replace(5, "k = 0 # auth = \"REDACTED\""))
            .is_some());
        // Another line of the file, another file: fine.
        assert!(ctx.redacted("/etc/x.toml", &replace(4, "k = 0")).is_none());
        assert!(ctx.redacted("/etc/y.toml", &replace(3, "k = 0")).is_none());
        // A splice on the redacted line carries only its own bytes: fine.
        let splice = Op::Splice {
            line: 3,
            column: 40,
            old: "\"a=b\"".into(),
            new: "\"a=c\"".into(),
        };
        assert!(ctx.redacted("/etc/x.toml", &splice).is_none());
        let mut file = FileEdit::new("/etc/x.toml");
        file.ops.push(replace(3, "k = 0"));
        let err = ctx.commands(&file).unwrap_err();
        assert!(
            err.contains("/etc/x.toml:3 only with its secrets redacted"),
            "{err}"
        );
        assert!(ctx.whole_file("/etc/x.toml").is_err());
        assert!(ctx.whole_file("/etc/y.toml").is_ok());
    }

    #[test]
    fn a_redaction_of_a_link_holds_for_the_file_it_leads_to() {
        let host = testing::host(&[("/etc/real.toml", "k = 0\n")]).link("/etc/x.toml", "real.toml");
        let facts = FactSet::default();
        let redactions = [redaction("/etc/x.toml", 1)];
        let ctx = Ctx {
            host: &host.host,
            facts: &facts,
            redactions: &redactions,
        };
        let op = Op::Replace {
            line: 1,
            old: "k = 0".into(),
            new: "k = 1".into(),
        };
        assert!(ctx.redacted("/etc/real.toml", &op).is_some());
    }
}
