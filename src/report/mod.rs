//! Reports: pure functions of the results.

pub mod catalog;
pub mod fleet;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod prometheus;
pub mod table;
pub mod text;

use serde::Serialize;

use crate::facts::FactSet;
use crate::rules::eval::{CheckResult, Status};
use crate::rules::{Severity, CATEGORY_ORDER};

pub const SCHEMA: &str = "node-preflight/report/v1";

/// What a run found, with what it was about.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub host: HostInfo,
    pub target: TargetInfo,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The host facts every report carries (JUnit puts them in `properties`).
#[derive(Clone, Debug, Serialize)]
pub struct HostInfo {
    /// `live`, or `root DIR`.
    pub source: String,
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub cgroup_mode: Option<String>,
    pub init_systemd: Option<bool>,
}

impl HostInfo {
    pub fn from_facts(source: String, facts: &FactSet) -> Self {
        HostInfo {
            source,
            hostname: facts.text("host.hostname"),
            os: facts.text("os.pretty_name"),
            kernel: facts.text("kernel.release"),
            cgroup_mode: facts.text("cgroup.mode"),
            init_systemd: facts.get("init.systemd").and_then(|f| f.as_bool()),
        }
    }

    /// Name/value pairs, in a fixed order.
    pub fn properties(&self) -> Vec<(&'static str, String)> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
        vec![
            ("host.source", self.source.clone()),
            ("host.hostname", opt(&self.hostname)),
            ("host.os", opt(&self.os)),
            ("host.kernel", opt(&self.kernel)),
            ("host.cgroup_mode", opt(&self.cgroup_mode)),
            (
                "host.init_systemd",
                self.init_systemd
                    .map_or("unknown".into(), |b| b.to_string()),
            ),
        ]
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TargetInfo {
    pub kubernetes_version: String,
    pub kubernetes_version_source: String,
    pub role: String,
    pub fail_on: Severity,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
    pub error: usize,
    pub ignored: usize,
    /// The process's exit code: 1 when a check at or above `--fail-on` failed.
    pub exit_code: i32,
}

impl Summary {
    pub fn of(checks: &[CheckResult], fail_on: Severity) -> Self {
        let mut s = Summary {
            total: checks.len(),
            ..Summary::default()
        };
        for c in checks {
            match c.status {
                Status::Pass => s.pass += 1,
                Status::Warn => s.warn += 1,
                Status::Fail => s.fail += 1,
                Status::Skip => s.skip += 1,
                Status::Error => s.error += 1,
            }
            if c.ignored {
                s.ignored += 1;
            }
        }
        if checks.iter().any(|c| counts_against(c, fail_on)) {
            s.exit_code = 1;
        }
        s
    }
}

/// Whether a result makes the run fail: a failure or an error (a check that could not be
/// evaluated is not a pass), a warning with `--fail-on warning`; never an ignored check.
pub fn counts_against(check: &CheckResult, fail_on: Severity) -> bool {
    !check.ignored && fails_at(check.status, fail_on)
}

/// Whether a status fails the run at `fail_on`, were its check not ignored.
pub fn fails_at(status: Status, fail_on: Severity) -> bool {
    match status {
        Status::Fail | Status::Error => true,
        Status::Warn => fail_on == Severity::Warning,
        Status::Pass | Status::Skip => false,
    }
}

/// Orders results by category (the catalog's category order), keeping catalog order inside.
pub fn sort_by_category(checks: &mut [CheckResult]) {
    checks.sort_by_key(|c| category_rank(&c.category));
}

pub fn category_rank(category: &str) -> (usize, String) {
    let rank = CATEGORY_ORDER
        .iter()
        .position(|c| *c == category)
        .unwrap_or(CATEGORY_ORDER.len());
    (rank, category.to_string())
}

/// Groups results by category, in report order.
pub fn by_category(checks: &[CheckResult]) -> Vec<(&str, Vec<&CheckResult>)> {
    let mut groups: Vec<(&str, Vec<&CheckResult>)> = Vec::new();
    for check in checks {
        match groups.iter_mut().find(|(c, _)| *c == check.category) {
            Some((_, list)) => list.push(check),
            None => groups.push((&check.category, vec![check])),
        }
    }
    groups.sort_by_key(|(c, _)| category_rank(c));
    groups
}
