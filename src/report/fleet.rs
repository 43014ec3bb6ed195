//! Reports of several nodes at once (`check --bundle A B C`): one section per node, plus a
//! fleet summary. A bundle that could not be read is a node with an error, not a crash.

use serde::Serialize;

use super::markdown;
use super::text::printable;
use super::{Report, Tool};
use crate::rules::eval::Status;

pub const SCHEMA: &str = "node-preflight/fleet/v1";

/// One node of a fleet: the bundle it came from and its report, or why there is none.
#[derive(Clone, Debug)]
pub struct NodeReport {
    pub bundle: String,
    pub report: Result<Report, String>,
}

impl NodeReport {
    /// The node's name in reports: its hostname, else the bundle's file name (untrusted too:
    /// bundles are often globbed from a directory of files that customers sent), with
    /// control characters shown.
    pub fn label(&self) -> String {
        let file = printable(
            self.bundle.rsplit('/').next().unwrap_or(&self.bundle),
            false,
        );
        match &self.report {
            Ok(r) => match &r.host.hostname {
                Some(h) => printable(h, false),
                None => file,
            },
            Err(_) => file,
        }
    }
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct FleetSummary {
    pub nodes: usize,
    pub ready: usize,
    pub not_ready: usize,
    /// Bundles that could not be read.
    pub unreadable: usize,
    /// 1 when any node is not ready or any bundle could not be read.
    pub exit_code: i32,
    /// For each check that failed somewhere (fail, error, or warn counted by --fail-on),
    /// on how many nodes; most widespread first.
    pub failing_checks: Vec<FailingCheck>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct FailingCheck {
    pub id: String,
    pub nodes: usize,
}

pub fn summarize(nodes: &[NodeReport]) -> FleetSummary {
    let mut s = FleetSummary {
        nodes: nodes.len(),
        ..FleetSummary::default()
    };
    let mut counts: Vec<(String, usize)> = Vec::new();
    for node in nodes {
        match &node.report {
            Err(_) => s.unreadable += 1,
            Ok(r) if r.summary.exit_code == 0 => s.ready += 1,
            Ok(_) => s.not_ready += 1,
        }
        if let Ok(r) = &node.report {
            for c in r
                .checks
                .iter()
                .filter(|c| super::counts_against(c, r.target.fail_on))
            {
                match counts.iter_mut().find(|(id, _)| *id == c.id) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((c.id.clone(), 1)),
                }
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    s.failing_checks = counts
        .into_iter()
        .map(|(id, nodes)| FailingCheck { id, nodes })
        .collect();
    s.exit_code = i32::from(s.not_ready > 0 || s.unreadable > 0);
    s
}

#[derive(Serialize)]
struct NodeJson<'a> {
    bundle: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a Report>,
}

/// The report of several nodes in a format.
pub fn render(nodes: &[NodeReport], format: crate::cli::Format) -> String {
    use crate::cli::Format;
    match format {
        Format::Table => render_table(nodes),
        Format::Json => render_json(nodes),
        Format::Junit => render_junit(nodes),
        Format::Markdown => render_markdown(nodes),
        Format::Prometheus => super::prometheus::render_fleet(nodes),
    }
}

pub fn render_json(nodes: &[NodeReport]) -> String {
    use rayon::prelude::*;

    let head = FleetHead {
        schema: SCHEMA,
        tool: Tool::default(),
        summary: summarize(nodes),
    };
    // A fleet of a thousand nodes is tens of MB of JSON: each node's part is rendered on a
    // core of its own and the parts joined, byte for byte what one pass would have written
    // (each part indented to its place in the array; JSON strings hold no raw newline).
    let parts: Vec<String> = nodes
        .par_iter()
        .map(|n| {
            let node = NodeJson {
                bundle: &n.bundle,
                error: n.report.as_ref().err().map(String::as_str),
                report: n.report.as_ref().ok(),
            };
            let mut part = String::new();
            for (i, line) in pretty(&node).lines().enumerate() {
                if i > 0 {
                    part.push('\n');
                }
                part.push_str("    ");
                part.push_str(line);
            }
            part
        })
        .collect();
    // `{ … "summary": {…}\n}`: the object is reopened to append the nodes.
    let head = pretty(&head);
    let mut out = head.strip_suffix("\n}").unwrap_or(&head).to_string();
    if parts.is_empty() {
        out.push_str(",\n  \"nodes\": []\n}\n");
    } else {
        out.push_str(",\n  \"nodes\": [\n");
        out.push_str(&parts.join(",\n"));
        out.push_str("\n  ]\n}\n");
    }
    out
}

/// The fleet document's fields before `nodes`.
#[derive(Serialize)]
struct FleetHead {
    schema: &'static str,
    tool: Tool,
    summary: FleetSummary,
}

/// Pretty JSON of one of the fleet's parts. They are plain data, so serialising cannot fail;
/// an error would be a bug, shown in place rather than as a panic.
fn pretty<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// A matrix: one row per node, one column per check that failed on some node.
pub fn render_table(nodes: &[NodeReport]) -> String {
    use comfy_table::presets::UTF8_FULL_CONDENSED;
    use comfy_table::Table;
    let summary = summarize(nodes);
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).force_no_tty();
    let mut header = vec!["NODE".to_string(), "VERDICT".to_string()];
    header.extend(summary.failing_checks.iter().map(|f| f.id.clone()));
    table.set_header(header);
    for node in nodes {
        let mut row = vec![node.label()];
        match &node.report {
            Err(e) => {
                row.push(format!("UNREADABLE: {}", printable(e, false)));
                row.extend(summary.failing_checks.iter().map(|_| String::new()));
            }
            Ok(r) => {
                row.push(markdown::verdict(&r.summary).to_string());
                for f in &summary.failing_checks {
                    let cell =
                        r.checks
                            .iter()
                            .find(|c| c.id == f.id)
                            .map_or("-", |c| match c.status {
                                Status::Pass => "pass",
                                Status::Warn => "WARN",
                                Status::Fail => "FAIL",
                                Status::Skip => "skip",
                                Status::Error => "ERROR",
                            });
                    row.push(cell.to_string());
                }
            }
        }
        table.add_row(row);
    }
    let mut out = format!("{table}\n");
    out.push_str(&format!(
        "\nFleet: {} nodes, {} ready, {} not ready, {} unreadable — {}\n",
        summary.nodes,
        summary.ready,
        summary.not_ready,
        summary.unreadable,
        if summary.exit_code == 0 {
            "all ready"
        } else {
            "NOT ALL READY"
        }
    ));
    out
}

pub fn render_junit(nodes: &[NodeReport]) -> String {
    let readable: Vec<(String, &Report)> = nodes
        .iter()
        .filter_map(|n| n.report.as_ref().ok().map(|r| (n.label(), r)))
        .collect();
    super::junit::render_fleet(&readable, &unreadable(nodes))
}

fn unreadable(nodes: &[NodeReport]) -> Vec<(String, String)> {
    nodes
        .iter()
        .filter_map(|n| n.report.as_ref().err().map(|e| (n.label(), e.clone())))
        .collect()
}

pub fn render_markdown(nodes: &[NodeReport]) -> String {
    let summary = summarize(nodes);
    let mut out = format!(
        "# node-preflight: {} nodes — {} ready, {} not ready, {} unreadable\n\n",
        summary.nodes, summary.ready, summary.not_ready, summary.unreadable
    );
    out.push_str("| Node | Verdict | Summary |\n|---|---|---|\n");
    for node in nodes {
        match &node.report {
            Ok(r) => out.push_str(&format!(
                "| {} | {} | {} |\n",
                markdown::cell(&node.label()),
                markdown::verdict(&r.summary),
                markdown::summary_sentence(&r.summary)
            )),
            Err(e) => out.push_str(&format!(
                "| {} | unreadable | {} |\n",
                markdown::cell(&node.label()),
                markdown::cell(e)
            )),
        }
    }
    if !summary.failing_checks.is_empty() {
        out.push_str("\n| Failing check | Nodes |\n|---|---|\n");
        for f in &summary.failing_checks {
            out.push_str(&format!("| `{}` | {} |\n", f.id, f.nodes));
        }
    }
    for node in nodes {
        if let Ok(r) = &node.report {
            out.push_str(&format!("\n## {}\n\n", markdown::heading(r)));
            markdown::findings(&mut out, r, "###");
        }
    }
    out
}
