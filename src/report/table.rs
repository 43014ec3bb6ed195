//! The table for a person: one row per check grouped by category, the remedies of what
//! failed, and a summary line. Colour only when asked (a terminal without NO_COLOR).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

use super::text::printable;
use super::{by_category, Report, Summary};
use crate::rules::eval::Status;

/// Width used when the output is not a terminal, so that files and tests see stable text.
const DEFAULT_WIDTH: u16 = 120;

pub fn render(report: &Report, color: bool) -> String {
    let mut table = new_table(color);
    table.set_header(["CATEGORY", "STATUS", "CHECK", "DETAILS"]);
    for (category, checks) in by_category(&report.checks) {
        for (i, check) in checks.iter().enumerate() {
            let category = if i == 0 { category } else { "" };
            let mut status = status_label(check.status).to_string();
            if check.ignored {
                status.push_str(" (ignored)");
            }
            let mut status_cell = Cell::new(status);
            if color {
                status_cell = status_cell.fg(status_color(check.status));
            }
            table.add_row([
                Cell::new(category),
                status_cell,
                Cell::new(format!("{}\n{}", check.id, printable(&check.title, false))),
                Cell::new(printable(&check.message, false)),
            ]);
        }
    }
    let mut out = format!(
        "node-preflight {} — {} — Kubernetes {} ({})\n",
        report.tool.version,
        printable(&host_line(report), false),
        report.target.kubernetes_version,
        report.target.role
    );
    out.push_str(&table.to_string());
    out.push('\n');

    let to_fix: Vec<_> = report
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn | Status::Error))
        .collect();
    if !to_fix.is_empty() {
        out.push_str("\nHow to fix:\n");
        for check in to_fix {
            out.push_str(&format!(
                "\n[{}] {} — {}\n",
                status_label(check.status),
                check.id,
                printable(&check.title, false)
            ));
            if check.status == Status::Error {
                out.push_str(&indent("The check could not be evaluated; fix what stops it from reading the host (see DETAILS), then run again."));
            } else {
                out.push_str(&indent(&printable(&check.remediation, true)));
            }
            out.push_str(&format!("  Docs: {}\n", check.docs));
        }
    }
    out.push('\n');
    out.push_str(&summary_line(&report.summary));
    out.push('\n');
    out
}

fn host_line(report: &Report) -> String {
    let h = &report.host;
    let mut parts = vec![h.hostname.clone().unwrap_or_else(|| "unknown host".into())];
    if let Some(os) = &h.os {
        parts.push(os.clone());
    }
    if let Some(kernel) = &h.kernel {
        parts.push(format!("kernel {kernel}"));
    }
    if h.source != "live" {
        parts.push(h.source.clone());
    }
    parts.join(", ")
}

/// `Summary: 10 pass, 1 warn, 2 fail, 3 skip, 0 error (1 ignored) — NOT READY`
pub fn summary_line(s: &Summary) -> String {
    let mut line = format!(
        "Summary: {} pass, {} warn, {} fail, {} skip, {} error",
        s.pass, s.warn, s.fail, s.skip, s.error
    );
    if s.ignored > 0 {
        line.push_str(&format!(" ({} ignored)", s.ignored));
    }
    line.push_str(if s.exit_code == 0 {
        " — ready"
    } else {
        " — NOT READY"
    });
    line
}

pub(super) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Skip => "SKIP",
        Status::Error => "ERROR",
    }
}

fn status_color(status: Status) -> Color {
    match status {
        Status::Pass => Color::Green,
        Status::Warn => Color::Yellow,
        Status::Fail | Status::Error => Color::Red,
        Status::Skip => Color::DarkGrey,
    }
}

pub(super) fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !color {
        table.force_no_tty().set_width(DEFAULT_WIDTH);
    }
    table
}
