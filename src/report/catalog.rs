//! The catalog for people: `list` (a table or Markdown — docs/checks.md is this Markdown)
//! and `explain ID`.

use super::table::{indent, new_table};
use crate::rules::{Catalog, Rule};

fn sorted(catalog: &Catalog) -> Vec<&Rule> {
    let mut rules: Vec<&Rule> = catalog.rules.iter().collect();
    rules.sort_by_key(|r| super::category_rank(&r.category));
    rules
}

/// `list`: the catalog.
pub fn render_table(catalog: &Catalog) -> String {
    let mut table = new_table(false);
    table.set_header(["ID", "SEVERITY", "CATEGORY", "TITLE"]);
    for rule in sorted(catalog) {
        let mut severity = rule.severity.to_string();
        for step in &rule.severity_from {
            severity.push_str(&format!("\n{} from {}", step.severity, step.kubernetes));
        }
        table.add_row([
            rule.id.as_str(),
            severity.as_str(),
            rule.category.as_str(),
            rule.title.as_str(),
        ]);
    }
    format!("{table}\n")
}

/// `explain ID`: everything the catalog says of one check.
pub fn render_explain(rule: &Rule) -> String {
    let mut out = format!("{} — {}\n\n", rule.id, rule.title);
    out.push_str(&format!("Category:  {}\n", rule.category));
    out.push_str(&format!("Severity:  {}\n", rule.severity));
    for step in &rule.severity_from {
        out.push_str(&format!(
            "           {} from Kubernetes {}: {}\n",
            step.severity, step.kubernetes, step.reason
        ));
    }
    if let Some(when) = &rule.when {
        out.push_str(&format!("Applies:   when {when}\n"));
    }
    out.push_str(&format!("Expects:   {}\n", rule.expect));
    out.push_str(&format!("Docs:      {}\n", rule.docs));
    out.push_str(&format!("Defined:   {}\n", rule.source));
    out.push_str("\nWhy:\n");
    out.push_str(&indent(&rule.rationale));
    out.push_str("\nHow to fix:\n");
    out.push_str(&indent(&rule.remediation));
    out
}

/// `list -o markdown`: the whole catalog as a document (docs/checks.md).
pub fn render_markdown(catalog: &Catalog) -> String {
    let rules = sorted(catalog);
    let mut out = String::from(
        "# Checks\n\n\
         <!-- Generated from checks/*.toml by `node-preflight list -o markdown`; a test keeps it in sync. Do not edit. -->\n\n\
         Every check has a stable id (use it with `--only`, `--skip`, `--ignore` and `explain`).\n\
         Severity `error` fails the run; `warning` fails it only with `--fail-on warning`.\n\n",
    );
    out.push_str("| id | severity | title |\n|---|---|---|\n");
    for rule in &rules {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            rule.id,
            anchor(&rule.id),
            severity_text(rule),
            rule.title
        ));
    }
    let mut category = "";
    for rule in &rules {
        if rule.category != category {
            category = &rule.category;
            out.push_str(&format!("\n## {category}\n"));
        }
        out.push_str(&format!("\n### {}\n\n{}\n\n", rule.id, rule.title));
        out.push_str(&format!("- Severity: {}\n", severity_text(rule)));
        for step in &rule.severity_from {
            out.push_str(&format!(
                "  - {} from Kubernetes {}: {}\n",
                step.severity, step.kubernetes, step.reason
            ));
        }
        if let Some(when) = &rule.when {
            out.push_str(&format!("- Applies when: `{when}`\n"));
        }
        out.push_str(&format!("- Expects: `{}`\n", rule.expect));
        out.push_str(&format!("- Docs: <{}>\n", rule.docs));
        out.push_str(&format!("- Defined in: `{}`\n", rule.source));
        out.push_str(&format!("\n{}\n\n", one_paragraph(&rule.rationale)));
        out.push_str(&format!("Fix:\n\n```\n{}\n```\n", rule.remediation));
    }
    out
}

fn severity_text(rule: &Rule) -> String {
    let mut text = rule.severity.to_string();
    for step in &rule.severity_from {
        text.push_str(&format!(", {} from {}", step.severity, step.kubernetes));
    }
    text
}

/// GitHub's heading anchors: lowercase, dots dropped.
fn anchor(id: &str) -> String {
    id.chars().filter(|c| *c != '.').collect()
}

fn one_paragraph(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
