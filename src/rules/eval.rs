//! Rules evaluated over facts: one result per check.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::predicate::{evaluate, Observation, Verdict};
use super::{Rule, Severity};
use crate::facts::system::PROCESS_ROOT;
use crate::facts::{Fact, FactSet};
use crate::host::PERMISSION_DENIED;
use crate::version::Version;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }
}

/// A fact that a result rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub fact: String,
    pub value: String,
    pub source: String,
    pub line: Option<u32>,
    pub note: Option<String>,
}

impl From<Observation> for Evidence {
    fn from(o: Observation) -> Self {
        Evidence {
            fact: o.fact,
            value: o.value,
            source: o.provenance.source,
            line: o.provenance.line,
            note: o.provenance.note,
        }
    }
}

/// The result of one check. Field order is the JSON report's key order.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    /// Why the severity is what it is for the target version, when a version decided it.
    pub severity_reason: Option<String>,
    pub status: Status,
    /// Kept out of the exit code by `--ignore`.
    pub ignored: bool,
    pub message: String,
    pub observed: Option<String>,
    pub expected: Option<String>,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    pub docs: String,
    /// Seconds spent evaluating the rule.
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Evaluates rules in order. Sequentially: a rule is a few comparisons over facts already
/// gathered (microseconds), less than handing it to another thread costs.
pub fn evaluate_all(
    rules: &[&Rule],
    facts: &FactSet,
    version: Version,
    ignored: &(dyn Fn(&str) -> bool + Sync),
) -> Vec<CheckResult> {
    rules
        .iter()
        .map(|rule| {
            let mut result = evaluate_rule(rule, facts, version);
            result.ignored = ignored(&rule.id);
            result
        })
        .collect()
}

pub fn evaluate_rule(rule: &Rule, facts: &FactSet, version: Version) -> CheckResult {
    let started = Instant::now();
    let (severity, severity_reason) = rule.severity_for(version);
    let mut result = CheckResult {
        id: rule.id.clone(),
        title: rule.title.clone(),
        category: rule.category.clone(),
        severity,
        severity_reason: severity_reason.map(str::to_string),
        status: Status::Pass,
        ignored: false,
        message: String::new(),
        observed: None,
        expected: None,
        evidence: Vec::new(),
        remediation: rule.remediation.clone(),
        docs: rule.docs.clone(),
        duration: Duration::ZERO,
    };

    if let Some(when) = &rule.when {
        let applies = evaluate(when, facts);
        match applies.verdict {
            Verdict::Holds => {}
            Verdict::Fails => {
                // Name only the condition that does not hold.
                let deciding = when.deciding_failure(facts);
                let why = evaluate(deciding, facts);
                result.status = Status::Skip;
                result.message = format!(
                    "not applicable: {}; the check applies when {deciding}",
                    describe(&why.observations)
                );
                result.evidence = why.observations.into_iter().map(Evidence::from).collect();
                result.duration = started.elapsed();
                return result;
            }
            Verdict::Unknown(reason) => {
                (result.status, result.message) = match needs_root(&reason, facts) {
                    Some(message) => (Status::Skip, message),
                    None => (
                        Status::Error,
                        format!("cannot tell whether the check applies: {reason}"),
                    ),
                };
                result.evidence = applies
                    .observations
                    .into_iter()
                    .map(Evidence::from)
                    .collect();
                result.duration = started.elapsed();
                return result;
            }
        }
    }

    let outcome = evaluate(&rule.expect, facts);
    let expected = rule.expect.expectation();
    let observed = describe(&outcome.observations);
    result.status = match &outcome.verdict {
        Verdict::Holds => Status::Pass,
        Verdict::Fails if severity == Severity::Error => Status::Fail,
        Verdict::Fails => Status::Warn,
        Verdict::Unknown(_) => Status::Error,
    };
    result.message = match &outcome.verdict {
        Verdict::Holds => observed.clone(),
        Verdict::Fails => format!("{observed}; expected {expected}"),
        Verdict::Unknown(reason) => match needs_root(reason, facts) {
            Some(message) => {
                result.status = Status::Skip;
                message
            }
            None => format!("could not be evaluated: {reason}"),
        },
    };
    if let (Some(reason), Status::Warn | Status::Fail) = (&result.severity_reason, result.status) {
        result.message = format!(
            "{} ({severity} for Kubernetes {version}: {reason})",
            result.message
        );
    }
    result.observed = Some(
        outcome
            .observations
            .iter()
            .map(|o| format!("{} = {}", o.fact, o.value))
            .collect::<Vec<_>>()
            .join("; "),
    );
    result.expected = Some(expected);
    result.evidence = outcome
        .observations
        .into_iter()
        .map(Evidence::from)
        .collect();
    result.duration = started.elapsed();
    result
}

/// What a skipped check says when only root could have read what it needs.
pub const NEEDS_ROOT: &str = "needs root: run as root (sudo) to check this";

/// The message of a check that a refused read or connection stopped, when this process is
/// not root: the refusal says who runs the check, not what is wrong with the node, so the
/// check is skipped with the reason instead of reported as an error (and the `node.root`
/// check fails, so the exit code does not call a half-checked node ready). As root, a
/// refusal (an SELinux denial, a root-squashed mount) stays an error.
fn needs_root(reason: &str, facts: &FactSet) -> Option<String> {
    let unprivileged = facts.get(PROCESS_ROOT).and_then(Fact::as_bool) == Some(false);
    (unprivileged && reason.contains(PERMISSION_DENIED)).then(|| format!("{NEEDS_ROOT} ({reason})"))
}

/// `fact = value (source:line (note))`, joined.
fn describe(observations: &[Observation]) -> String {
    observations
        .iter()
        .map(|o| {
            let provenance = o.provenance.to_string();
            if provenance.is_empty() {
                format!("{} = {}", o.fact, o.value)
            } else {
                format!("{} = {} ({provenance})", o.fact, o.value)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Fact, Provenance};
    use crate::rules::Catalog;

    fn swap_rule() -> Rule {
        let toml = r#"
[[check]]
id = "x.swap"
title = "t"
category = "node"
severity = "error"
docs = "https://example.invalid"
rationale = "r"
remediation = "m"
expect = { fact = "swap.enabled", equals = false }
"#;
        let catalog = Catalog::from_sources([("a.toml".into(), toml.into())]).unwrap();
        catalog.rules[0].clone()
    }

    fn run(swap: Fact, root: Option<bool>) -> CheckResult {
        let mut facts = FactSet::default();
        facts.insert("swap.enabled", swap);
        if let Some(root) = root {
            facts.insert(
                PROCESS_ROOT,
                Fact::known(root, Provenance::file("/proc/self/status")),
            );
        }
        evaluate_rule(&swap_rule(), &facts, Version::new(1, 35))
    }

    #[test]
    fn a_refused_read_needs_root_only_when_not_root() {
        let denied = || Fact::unknown("/proc/swaps: permission denied");
        let unprivileged = run(denied(), Some(false));
        assert_eq!(unprivileged.status, Status::Skip);
        assert_eq!(
            unprivileged.message,
            "needs root: run as root (sudo) to check this (swap.enabled: /proc/swaps: permission denied)"
        );
        // As root, or where nobody knows who reads (a --root tree, a bundle), it is an error.
        for root in [Some(true), None] {
            let result = run(denied(), root);
            assert_eq!(result.status, Status::Error, "{root:?}");
            assert!(result.message.starts_with("could not be evaluated: "));
        }
        // Other reasons stay errors, unprivileged or not.
        let broken = run(
            Fact::unknown("/proc/swaps: not valid UTF-8 text"),
            Some(false),
        );
        assert_eq!(broken.status, Status::Error);
        // A verdict is a verdict, unprivileged or not.
        let on = run(
            Fact::known(true, Provenance::file("/proc/swaps")),
            Some(false),
        );
        assert_eq!(on.status, Status::Fail);
    }
}
