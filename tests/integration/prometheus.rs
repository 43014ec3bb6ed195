//! docs/prometheus.md kept true: its alerting rules are valid (`promtool check rules`) and fire
//! as it says on the expositions of a ready and a broken fixture host (`promtool test rules`),
//! and its excerpt is what the binary prints.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::*;

fn docs() -> String {
    fs::read_to_string(project_root().join("docs/prometheus.md")).expect("docs/prometheus.md")
}

/// The first fenced block of `lang` after `heading`.
fn block_after(text: &str, heading: &str, lang: &str) -> String {
    let from = text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in the docs"));
    let open = format!("```{lang}\n");
    let start = text[from..]
        .find(&open)
        .map(|i| from + i + open.len())
        .unwrap_or_else(|| panic!("no ```{lang} block after {heading:?}"));
    let end = text[start..].find("```").expect("a closed block") + start;
    text[start..end].to_string()
}

fn run_promtool(args: &[&str], dir: &Path) {
    let out = Command::new(promtool())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The samples of the metrics the rules read, from a golden exposition, as promtool input
/// series of `instance`: the same value every 10 minutes for eight days.
fn input_series(golden: &str, instance: &str) -> String {
    let text = fs::read_to_string(project_root().join("testdata/expected").join(golden))
        .expect("golden exposition");
    let mut out = String::new();
    for sample in parse_exposition(&text) {
        if !matches!(
            sample.name.as_str(),
            "node_preflight_ready"
                | "node_preflight_check_blocking"
                | "node_preflight_ignored_checks_failing"
        ) {
            continue;
        }
        let mut labels = vec![format!("instance=\"{instance}\"")];
        labels.extend(sample.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")));
        out.push_str(&format!(
            "      - series: '{}{{{}}}'\n        values: '{}x1200'\n",
            sample.name,
            labels.join(","),
            sample.value
        ));
    }
    out
}

#[test]
fn the_documented_alerting_rules_fire_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("rules.yml"),
        block_after(&docs(), "## Alerting rules", "yaml"),
    )
    .unwrap();
    run_promtool(&["check", "rules", "rules.yml"], dir.path());

    // A ready node, and one not ready (a warning with --fail-on warning) with an ignored
    // failure. The ready node's file is rewritten every 10 minutes, the other's never again.
    let textfile = "/var/lib/node_exporter/textfile/node_preflight.prom";
    let mut series = input_series("healthy-v2-systemd.prom", "ready");
    series.push_str(&input_series("sysctl-shadowed.prom", "broken"));
    series.push_str(&format!(
        "      - series: 'node_textfile_mtime_seconds{{instance=\"ready\",file=\"{textfile}\"}}'\n        values: '0+600x1200'\n\
         \x20     - series: 'node_textfile_mtime_seconds{{instance=\"broken\",file=\"{textfile}\"}}'\n        values: '0x1200'\n"
    ));
    let blocking = "sysctl.bridge-nf-call-ip6tables.persistent";
    let tests = format!(
        r#"rule_files: [rules.yml]
evaluation_interval: 10m
tests:
  - interval: 10m
    input_series:
{series}
    alert_rule_test:
      - eval_time: 1h
        alertname: NodePreflightNotReady
        exp_alerts:
          - exp_labels: {{severity: warning, instance: broken}}
            exp_annotations:
              summary: broken is not ready to be a Kubernetes node
              description: "node-preflight finds checks that block it: see NodePreflightCheckBlocking, or run node-preflight on the node."
      - eval_time: 1h
        alertname: NodePreflightCheckBlocking
        exp_alerts:
          - exp_labels: {{severity: warning, instance: broken, check: {blocking}, category: sysctl}}
            exp_annotations:
              summary: "broken: check {blocking} (sysctl, warning) blocks the node"
              description: node-preflight explain {blocking} says why it matters and how to fix it.
      - eval_time: 1h
        alertname: NodePreflightStale
        exp_alerts: []
      - eval_time: 4h
        alertname: NodePreflightStale
        exp_alerts:
          - exp_labels: {{severity: warning, instance: broken, file: {textfile}}}
            exp_annotations:
              summary: "broken: node-preflight has not written its metrics for 3 hours"
      - eval_time: 6d
        alertname: NodePreflightIgnoredFailures
        exp_alerts: []
      - eval_time: 8d
        alertname: NodePreflightIgnoredFailures
        exp_alerts:
          - exp_labels: {{severity: info, instance: broken}}
            exp_annotations:
              summary: "broken: checks that fail have been ignored (--ignore) for a week: 1"
"#
    );
    fs::write(dir.path().join("tests.yml"), tests).unwrap();
    run_promtool(&["test", "rules", "tests.yml"], dir.path());
}

/// Every line of an excerpt (`…` marks lines left out) is a line of the real output.
fn assert_excerpt_of(excerpt: &str, output: &str, what: &str) {
    let lines: Vec<&str> = output.lines().collect();
    let mut shown = 0;
    for line in excerpt.lines().filter(|l| *l != "…") {
        assert!(
            lines.contains(&line),
            "{what}: the excerpt's line is not in the output: {line}\n{output}"
        );
        shown += 1;
    }
    assert!(shown >= 5, "{what}: no excerpt found");
}

#[test]
fn the_documented_excerpts_are_real_output() {
    let run = node_preflight(&[
        "check",
        "-o",
        "prometheus",
        "--root",
        &fixture("sysctl-shadowed"),
        "--kubernetes-version",
        "1.31",
        "--only",
        "sysctl.ip-forward*",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_valid_prometheus(&run.stdout);
    assert_excerpt_of(
        &block_after(&docs(), "Excerpt (", ""),
        &run.stdout,
        "docs/prometheus.md",
    );
    let readme = fs::read_to_string(project_root().join("README.md")).expect("README.md");
    let command = "$ node-preflight check -o prometheus --root testdata/hosts/sysctl-shadowed \
                   --kubernetes-version 1.31 --only 'sysctl.ip-forward*'\n";
    let start = readme.find(command).expect("the README's example") + command.len();
    let end = readme[start..].find("```").expect("a closed block") + start;
    assert_excerpt_of(&readme[start..end], &run.stdout, "README.md");
    assert_excerpt_of(
        &block_after(&docs(), "## A fleet of bundles", ""),
        &fs::read_to_string(project_root().join("testdata/expected/fleet.prom")).unwrap(),
        "docs/prometheus.md, fleet",
    );
}
