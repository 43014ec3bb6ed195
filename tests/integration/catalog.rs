//! The catalog: docs in sync, `list`, `explain`, and checks added with `--checks DIR`.

use crate::util::*;

#[test]
fn docs_checks_md_is_generated_from_the_catalog() {
    let run = node_preflight(&["list", "-o", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let committed = std::fs::read_to_string(project_root().join("docs/checks.md")).unwrap();
    assert!(
        committed == run.stdout,
        "docs/checks.md is out of date: run `cargo run -- list -o markdown > docs/checks.md`"
    );
}

#[test]
fn list_shows_every_check_once() {
    let run = node_preflight(&["list", "-o", "json"]);
    assert_eq!(run.code, 0);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    let mut ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"sysctl.ip-forward"));
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids in `list`");
}

#[test]
fn explain_prints_rationale_and_remedy() {
    let run = node_preflight(&["explain", "sysctl.ip-forward.persistent"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Why:"), "{}", run.stdout);
    assert!(run
        .stdout
        .contains("echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/k8s.conf"));
    assert!(run.stdout.contains("Defined:   checks/sysctl.toml"));
}

#[test]
fn explain_of_an_unknown_id_is_a_usage_error() {
    let run = node_preflight(&["explain", "no.such-check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no check has the id no.such-check"),
        "{}",
        run.stderr
    );
}

const CUSTOM_CHECK: &str = r#"
[[check]]
id = "site.hostname-prefix"
title = "Node names start with node-"
category = "site"
severity = "error"
docs = "https://wiki.example.com/naming"
rationale = "Our fleet tooling finds nodes by name."
remediation = "hostnamectl set-hostname node-NN"
expect = { fact = "host.hostname", contains = "node-" }
"#;

#[test]
fn a_check_added_with_checks_dir_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.toml"), CUSTOM_CHECK).unwrap();
    let checks = dir.path().display().to_string();
    let healthy = fixture("healthy-v2-systemd");
    let (run, report) = json_report(&["--root", &healthy, "--checks", &checks, "--only", "site.*"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status_of(&report, "site.hostname-prefix"), "pass");
    assert_eq!(report["summary"]["total"], 1);

    // The same check on a host with another name fails, naming where the name came from.
    let other = HostBuilder::from_fixture("healthy-v2-systemd")
        .file("/proc/sys/kernel/hostname", "web-3\n");
    let (run, report) = json_report(&[
        "--root",
        &other.root_arg(),
        "--checks",
        &checks,
        "--only",
        "site.*",
    ]);
    assert_eq!(run.code, 1);
    let check = &report["checks"][0];
    assert_eq!(check["status"], "fail");
    assert_eq!(
        check["message"],
        "host.hostname = web-3 (/proc/sys/kernel/hostname); expected to contain node-"
    );
}

#[test]
fn a_wrong_checks_file_stops_the_run_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let checks = dir.path().display().to_string();

    // A fact that does not exist.
    std::fs::write(
        dir.path().join("bad.toml"),
        CUSTOM_CHECK.replace("host.hostname", "host.hostnme"),
    )
    .unwrap();
    let run = node_preflight(&["check", "--checks", &checks]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("check site.hostname-prefix: unknown fact host.hostnme"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing is checked: {}", run.stdout);

    // An id the built-in catalog already uses.
    std::fs::write(
        dir.path().join("bad.toml"),
        CUSTOM_CHECK.replace("site.hostname-prefix", "node.swap"),
    )
    .unwrap();
    let run = node_preflight(&["check", "--checks", &checks]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("check node.swap: the id is already used in checks/node.toml"),
        "{}",
        run.stderr
    );

    // Not TOML at all: the file and position are named.
    std::fs::write(dir.path().join("bad.toml"), "[[check]\nid = ").unwrap();
    let run = node_preflight(&["list", "--checks", &checks]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("line 1"), "{}", run.stderr);

    // A missing directory.
    let run = node_preflight(&["check", "--checks", "/nonexistent/checks"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--checks /nonexistent/checks"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_invocations_exit_2_without_checking() {
    for args in [
        vec!["--kubernetes-version", "one.two"],
        vec!["--ignore", "no.such-check"],
        vec!["--only", "nothing.matches.*"],
        vec!["--root", "/nonexistent/root"],
        vec!["-o", "yaml"],
        vec!["--timeout", "soon"],
    ] {
        let run = node_preflight(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?} printed a report");
        assert!(!run.stderr.is_empty(), "{args:?} gave no reason");
    }
}
