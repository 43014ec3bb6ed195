//! The Markdown report, for tickets and pull-request comments: a summary, a table of the
//! findings, their remedies, and every check folded away.

use super::text::printable;
use super::{Report, Summary};
use crate::rules::eval::{CheckResult, Status};

pub fn render(report: &Report) -> String {
    let mut out = format!("# node-preflight: {}\n\n", heading(report));
    out.push_str(&context_line(report));
    out.push_str("\n\n");
    out.push_str(&summary_sentence(&report.summary));
    out.push_str("\n\n");
    findings(&mut out, report, "##");
    out.push_str(&all_checks(report));
    out
}

/// `node-1 — NOT READY`
pub fn heading(report: &Report) -> String {
    format!(
        "{} — {}",
        cell(report.host.hostname.as_deref().unwrap_or("unknown host")),
        verdict(&report.summary)
    )
}

pub fn verdict(summary: &Summary) -> &'static str {
    if summary.exit_code == 0 {
        "ready"
    } else {
        "NOT READY"
    }
}

fn context_line(report: &Report) -> String {
    let h = &report.host;
    let mut parts = vec![format!(
        "Kubernetes {} ({})",
        report.target.kubernetes_version, report.target.role
    )];
    if let Some(os) = &h.os {
        parts.push(cell(os));
    }
    if let Some(kernel) = &h.kernel {
        parts.push(format!("kernel {}", cell(kernel)));
    }
    if let Some(mode) = &h.cgroup_mode {
        parts.push(format!("cgroup {mode}"));
    }
    parts.push(format!("node-preflight {}", report.tool.version));
    parts.join(" · ")
}

pub fn summary_sentence(s: &Summary) -> String {
    let mut text = format!(
        "**{} pass, {} warn, {} fail, {} skip, {} error**",
        s.pass, s.warn, s.fail, s.skip, s.error
    );
    if s.ignored > 0 {
        text.push_str(&format!(" ({} ignored)", s.ignored));
    }
    text
}

fn is_finding(c: &CheckResult) -> bool {
    matches!(c.status, Status::Fail | Status::Warn | Status::Error)
}

/// The findings table and their remedies, under headings of the given level.
pub fn findings(out: &mut String, report: &Report, level: &str) {
    let found: Vec<&CheckResult> = report.checks.iter().filter(|c| is_finding(c)).collect();
    if found.is_empty() {
        out.push_str("No findings.\n\n");
        return;
    }
    out.push_str(&format!(
        "{level} Findings\n\n| Status | Check | Details |\n|---|---|---|\n"
    ));
    for c in &found {
        out.push_str(&format!(
            "| {} | `{}` {} | {} |\n",
            status_label(c),
            c.id,
            cell(&c.title),
            cell(&c.message)
        ));
    }
    out.push_str(&format!("\n{level} How to fix\n\n"));
    for c in found {
        out.push_str(&format!("**`{}`** — {}\n\n", c.id, cell(&c.title)));
        if c.status == Status::Error {
            out.push_str("The check could not be evaluated; fix what stops it from reading the host (see Details).\n\n");
        } else {
            out.push_str(&format!("```text\n{}\n```\n\n", fence_safe(&c.remediation)));
        }
        out.push_str(&format!("Docs: <{}>\n\n", c.docs));
    }
}

fn all_checks(report: &Report) -> String {
    let mut out = format!(
        "<details><summary>All {} checks</summary>\n\n| Status | Check | Details |\n|---|---|---|\n",
        report.checks.len()
    );
    for c in &report.checks {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            status_label(c),
            c.id,
            cell(&c.message)
        ));
    }
    out.push_str("\n</details>\n");
    out
}

pub fn status_label(c: &CheckResult) -> String {
    let label = match c.status {
        Status::Pass => "✅ pass",
        Status::Warn => "⚠️ warn",
        Status::Fail => "❌ fail",
        Status::Skip => "➖ skip",
        Status::Error => "❗ error",
    };
    if c.ignored {
        format!("{label} (ignored)")
    } else {
        label.to_string()
    }
}

/// Text safe inside a Markdown table cell: no control characters, no line breaks, no
/// unescaped pipes, and no HTML.
pub fn cell(text: &str) -> String {
    printable(&text.replace('\\', "\\\\"), false)
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A remedy inside a fenced block cannot close the fence.
fn fence_safe(text: &str) -> String {
    printable(text, true).replace("```", "` ` `")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc <script>"), "a\\|b\\u{a}c &lt;script&gt;");
        assert_eq!(fence_safe("x\n```\nrm -rf /"), "x\n` ` `\nrm -rf /");
    }
}
