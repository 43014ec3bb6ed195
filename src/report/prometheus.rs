//! The Prometheus report: the text exposition format (version 0.0.4), for node_exporter's
//! textfile collector (`--output-file /var/lib/node_exporter/textfile/node_preflight.prom`).
//!
//! The metrics are designed for alerting rules (docs/prometheus.md has examples):
//!
//! - `node_preflight_check_status{check,category,severity,ignored,status}` has one series per
//!   possible status of each check, 1 for the status the check has and 0 for the other four,
//!   the kube-state-metrics idiom (`kube_pod_status_phase`). A check whose status changes
//!   keeps its series (only values change), so `== 1` queries, recording rules and graphs
//!   keep working across the change, and the series of a status the check left reads 0 at
//!   once instead of going stale five minutes later.
//! - `node_preflight_check_blocking{check,category,severity}` is 1 for each check that keeps
//!   the node from being ready as the exit code sees it (fail or error, warn with `--fail-on
//!   warning`, never an ignored check): `node_preflight_check_blocking == 1` alerts once per
//!   culprit without repeating `--fail-on` and `--ignore` in PromQL.
//! - `node_preflight_ready` (the exit code would be 0), `node_preflight_checks{status}`,
//!   `node_preflight_ignored_checks_failing` (what `--ignore` hides) and `node_preflight_info`
//!   (tool version, target, host) summarise the run.
//!
//! A fleet (`check --bundle A B ...`) is one exposition: every series carries `node` (the
//! host name, else the bundle's file name) and `bundle` (the path given: nodes cloned from
//! one image, or two bundles of one node, share a host name), each family's series stay
//! together, and `node_preflight_bundle_readable` shows a bundle that could not be read.
//!
//! No timestamp: a report is a pure function of the results, and node_exporter already
//! exports the file's modification time (`node_textfile_mtime_seconds`). No durations either:
//! they change on every run and say nothing about the node.
//!
//! Label values come from the host (its hostname, OS name, kernel), the command line (paths)
//! and `--checks` files (categories). Control and bidirectional formatting characters are
//! shown as `\u{..}` (as in the table), so a value read with `cat`, `curl` or in an alert
//! cannot drive a terminal, and the format's own escapes (backslash, double quote, newline)
//! keep every value inside its quotes and every sample on its line.

use std::collections::HashSet;
use std::fmt::Write;

use super::fleet::NodeReport;
use super::text::printable;
use super::{counts_against, fails_at, Report};
use crate::rules::eval::Status;

/// Every status, in the order the series are written.
const STATUSES: [Status; 5] = [
    Status::Pass,
    Status::Warn,
    Status::Fail,
    Status::Skip,
    Status::Error,
];

/// The exposition of one node's report.
pub fn render(report: &Report) -> String {
    let mut families = Families::new();
    families.add_report(&[], report);
    families.render()
}

/// The exposition of several nodes: the same families, each node's series told apart by its
/// `node` and `bundle` labels.
pub fn render_fleet(nodes: &[NodeReport]) -> String {
    let mut families = Families::new();
    let mut seen = HashSet::new();
    for node in nodes {
        let bundle = printable(&node.bundle, false);
        // A bundle named twice is one node; written twice its series would be duplicates,
        // which a scrape rejects whole.
        if !seen.insert(bundle.clone()) {
            continue;
        }
        let labels = [("node", node.label()), ("bundle", bundle)];
        families
            .bundle_readable
            .sample(&labels, u64::from(node.report.is_ok()));
        if let Ok(report) = &node.report {
            families.add_report(&labels, report);
        }
    }
    families.render()
}

/// Label name and value pairs.
type Labels = [Label];
type Label = (&'static str, String);

/// A metric family: a gauge's name, its help, and its samples, written together.
struct Family {
    name: &'static str,
    help: &'static str,
    /// Rendered sample lines, each ending in a newline.
    samples: String,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Self {
        Family {
            name,
            help,
            samples: String::new(),
        }
    }

    /// Adds `name{labels} value`.
    fn sample<'a>(&mut self, labels: impl IntoIterator<Item = &'a Label>, value: u64) {
        self.samples.push_str(self.name);
        let mut pairs = labels.into_iter().peekable();
        if pairs.peek().is_some() {
            self.samples.push('{');
            for (i, (name, value)) in pairs.enumerate() {
                if i > 0 {
                    self.samples.push(',');
                }
                // Writing into a String cannot fail.
                let _ = write!(self.samples, "{name}=\"{}\"", label_value(value));
            }
            self.samples.push('}');
        }
        let _ = writeln!(self.samples, " {value}");
    }

    fn write_to(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, help_text(self.help));
        let _ = writeln!(out, "# TYPE {} gauge", self.name);
        out.push_str(&self.samples);
    }
}

/// Every family, in the order they are written.
struct Families {
    bundle_readable: Family,
    info: Family,
    ready: Family,
    checks: Family,
    ignored_checks_failing: Family,
    check_status: Family,
    check_blocking: Family,
}

impl Families {
    fn new() -> Self {
        Families {
            bundle_readable: Family::new(
                "node_preflight_bundle_readable",
                "1 when the bundle could be read and checked; 0 when it could not, and its node has no other series (check --bundle FILE says why).",
            ),
            info: Family::new(
                "node_preflight_info",
                "The run: node-preflight's version, the Kubernetes version and role checked for, --fail-on, and the host checked. Always 1.",
            ),
            ready: Family::new(
                "node_preflight_ready",
                "1 when the node is ready: no check at or above --fail-on failed or could not be evaluated, ignored checks aside (the exit code is 0).",
            ),
            checks: Family::new(
                "node_preflight_checks",
                "Checks with each status, ignored checks included.",
            ),
            ignored_checks_failing: Family::new(
                "node_preflight_ignored_checks_failing",
                "Checks kept out of readiness by --ignore that would otherwise make the node not ready.",
            ),
            check_status: Family::new(
                "node_preflight_check_status",
                "1 for the status each check has, 0 for the other statuses (a series per status, so queries keep working when a status changes).",
            ),
            check_blocking: Family::new(
                "node_preflight_check_blocking",
                "1 when the check keeps the node from being ready: it failed or could not be evaluated (or warned, with --fail-on warning) and is not ignored.",
            ),
        }
    }

    /// Adds one report's series, each with the node's labels first.
    fn add_report(&mut self, node: &Labels, report: &Report) {
        let host = &report.host;
        // An empty label value is, to Prometheus, no label: what could not be read.
        let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
        let info = [
            ("version", report.tool.version.to_string()),
            (
                "kubernetes_version",
                report.target.kubernetes_version.clone(),
            ),
            ("role", report.target.role.clone()),
            ("fail_on", report.target.fail_on.to_string()),
            ("hostname", or_empty(&host.hostname)),
            ("os", or_empty(&host.os)),
            ("kernel", or_empty(&host.kernel)),
            ("cgroup_mode", or_empty(&host.cgroup_mode)),
            ("source", host.source.clone()),
        ];
        self.info.sample(node.iter().chain(&info), 1);
        self.ready
            .sample(node, u64::from(report.summary.exit_code == 0));

        let s = &report.summary;
        for (status, count) in [
            (Status::Pass, s.pass),
            (Status::Warn, s.warn),
            (Status::Fail, s.fail),
            (Status::Skip, s.skip),
            (Status::Error, s.error),
        ] {
            let status = ("status", status.as_str().to_string());
            self.checks
                .sample(node.iter().chain([&status]), count as u64);
        }
        let fail_on = report.target.fail_on;
        let hidden = report
            .checks
            .iter()
            .filter(|c| c.ignored && fails_at(c.status, fail_on))
            .count();
        self.ignored_checks_failing.sample(node, hidden as u64);

        for c in &report.checks {
            let check = [
                ("check", c.id.clone()),
                ("category", c.category.clone()),
                ("severity", c.severity.to_string()),
            ];
            let ignored = ("ignored", c.ignored.to_string());
            for status in STATUSES {
                let label = ("status", status.as_str().to_string());
                let labels = node.iter().chain(&check).chain([&ignored, &label]);
                self.check_status
                    .sample(labels, u64::from(c.status == status));
            }
            self.check_blocking.sample(
                node.iter().chain(&check),
                u64::from(counts_against(c, fail_on)),
            );
        }
    }

    fn render(self) -> String {
        let mut out = String::new();
        for family in [
            &self.bundle_readable,
            &self.info,
            &self.ready,
            &self.checks,
            &self.ignored_checks_failing,
            &self.check_status,
            &self.check_blocking,
        ] {
            family.write_to(&mut out);
        }
        out
    }
}

/// A label value as the exposition format writes it between double quotes: control and
/// bidirectional characters made visible, then backslash, double quote and newline escaped.
fn label_value(value: &str) -> String {
    escape(&printable(value, false), true)
}

/// HELP text: backslash and newline escaped (a double quote needs none there).
fn help_text(help: &str) -> String {
    escape(help, false)
}

fn escape(text: &str, quote: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_stay_inside_their_quotes() {
        assert_eq!(escape("a\\b\"c\nd", true), "a\\\\b\\\"c\\nd");
        assert_eq!(escape("a\\b\"c\nd", false), "a\\\\b\"c\\nd");
        // A raw newline never reaches the output: it is shown, then its backslash escaped.
        assert_eq!(label_value("x\ny"), "x\\\\u{a}y");
        assert_eq!(label_value("\u{1b}[2J\u{202e}"), "\\\\u{1b}[2J\\\\u{202e}");
        assert_eq!(label_value("node-1"), "node-1");
    }

    #[test]
    fn a_sample_without_labels_has_no_braces() {
        let mut f = Family::new("m", "help");
        f.sample(&[], 1);
        f.sample(&[("node", "n\"1".into()), ("a", "b".into())], 0);
        let mut out = String::new();
        f.write_to(&mut out);
        assert_eq!(
            out,
            "# HELP m help\n# TYPE m gauge\nm 1\nm{node=\"n\\\"1\",a=\"b\"} 0\n"
        );
    }

    #[test]
    fn an_empty_family_is_not_written() {
        let mut out = String::new();
        Family::new("m", "help").write_to(&mut out);
        assert_eq!(out, "");
    }
}
