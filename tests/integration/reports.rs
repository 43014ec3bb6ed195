//! Reports: whole outputs compared with golden files, JSON validated against the schema in
//! docs/, JUnit validated against Jenkins' junit-10.xsd, Prometheus expositions read by
//! promtool and a strict reader of the text format.

use crate::util::*;

/// Every committed fixture host.
fn fixture_hosts() -> Vec<String> {
    let mut hosts: Vec<String> = std::fs::read_dir(project_root().join("testdata/hosts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    hosts.sort();
    assert!(hosts.len() >= 8, "fixture hosts are missing: {hosts:?}");
    hosts
}

#[test]
fn every_fixture_json_report_matches_the_schema() {
    for host in fixture_hosts() {
        for role in ["worker", "control-plane"] {
            let root = fixture(&host);
            let run = node_preflight(&["check", "-o", "json", "--root", &root, "--role", role]);
            assert!(run.code == 0 || run.code == 1, "{host}: {}", run.stderr);
            assert_valid_report_json(&run.stdout);
        }
    }
}

#[test]
fn every_fixture_junit_report_is_valid_against_the_jenkins_xsd() {
    for host in fixture_hosts() {
        for fail_on in ["error", "warning"] {
            let root = fixture(&host);
            let run = node_preflight(&[
                "check",
                "-o",
                "junit",
                "--root",
                &root,
                "--fail-on",
                fail_on,
            ]);
            assert!(run.code == 0 || run.code == 1, "{host}: {}", run.stderr);
            assert_valid_junit(&run.stdout);
        }
    }
}

#[test]
fn golden_reports_of_a_healthy_host() {
    let root = fixture("healthy-v2-systemd");
    let args = [
        "--root",
        &root,
        "--kubernetes-version",
        "1.35",
        "--role",
        "control-plane",
        "--skip",
        SOCKET_CHECKS,
    ];
    for (format, golden) in [
        ("json", "healthy-v2-systemd.json"),
        ("junit", "healthy-v2-systemd.xml"),
        ("table", "healthy-v2-systemd.txt"),
        ("prometheus", "healthy-v2-systemd.prom"),
    ] {
        let mut all = vec!["check", "-o", format];
        all.extend(args);
        let run = node_preflight(&all);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert_golden(&run.stdout, golden);
        if format == "prometheus" {
            assert_valid_prometheus(&run.stdout);
        }
    }
}

#[test]
fn golden_reports_of_a_broken_host() {
    let root = fixture("broken-files");
    let args = [
        "--root",
        &root,
        "--kubernetes-version",
        "1.35",
        "--ignore",
        "node.hostname",
    ];
    for (format, golden) in [
        ("json", "broken-files.json"),
        ("junit", "broken-files.xml"),
        ("table", "broken-files.txt"),
        ("prometheus", "broken-files.prom"),
    ] {
        let mut all = vec!["check", "-o", format];
        all.extend(args);
        let run = node_preflight(&all);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert_golden(&run.stdout, golden);
        if format == "prometheus" {
            assert_valid_prometheus(&run.stdout);
        }
    }
}

#[test]
fn golden_table_of_a_host_with_warnings_and_failures() {
    let root = fixture("sysctl-shadowed");
    let run = node_preflight(&["--root", &root, "--kubernetes-version", "1.31"]);
    assert_eq!(run.code, 1);
    assert_golden(&run.stdout, "sysctl-shadowed.txt");
}

#[test]
fn junit_maps_statuses_to_elements() {
    let root = fixture("sysctl-shadowed");
    let run = node_preflight(&[
        "check",
        "-o",
        "junit",
        "--skip",
        SOCKET_CHECKS,
        "--root",
        &root,
        "--kubernetes-version",
        "1.31",
    ]);
    let xml = run.stdout;
    // The failing check is a <failure>, the warning passes with its text in system-out.
    assert!(xml.contains(r#"<testcase name="IPv4 forwarding stays on after a reboot" classname="node-preflight.sysctl.ip-forward.persistent""#));
    assert!(xml.contains(r#"<failure type="fail" message="sysctl.persisted.net.ipv4.ip_forward = 0 (/etc/sysctl.d/60-k8s.conf:2); expected 1">"#), "{xml}");
    assert!(
        xml.contains(
            "<system-out>WARNING: sysctl.persisted.net.bridge.bridge-nf-call-ip6tables = 0"
        ),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="sysctl" tests="6" failures="1" errors="0" skipped="0""#),
        "{xml}"
    );
    assert!(xml.contains(r#"<property name="host.hostname" value="node-1"/>"#));

    // With --fail-on warning the warning is a failure too.
    let run = node_preflight(&[
        "check",
        "-o",
        "junit",
        "--skip",
        SOCKET_CHECKS,
        "--root",
        &root,
        "--kubernetes-version",
        "1.31",
        "--fail-on",
        "warning",
    ]);
    assert!(
        run.stdout
            .contains(r#"<testsuite name="sysctl" tests="6" failures="2""#),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(r#"<failure type="warning""#));

    // An ignored failure is reported as skipped, so the build does not fail on it.
    let run = node_preflight(&[
        "check",
        "-o",
        "junit",
        "--skip",
        SOCKET_CHECKS,
        "--root",
        &root,
        "--kubernetes-version",
        "1.31",
        "--ignore",
        "sysctl.ip-forward.persistent",
    ]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains(r#"<skipped type="ignored" message="ignored by --ignore (fail): sysctl.persisted.net.ipv4.ip_forward = 0"#), "{}", run.stdout);
    assert_valid_junit(&run.stdout);
}

#[test]
fn output_file_gets_the_report_and_stderr_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.xml");
    let root = fixture("swap-on");
    let run = node_preflight(&[
        "check",
        "-o",
        "junit",
        "--skip",
        SOCKET_CHECKS,
        "--root",
        &root,
        "--output-file",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr.trim(),
        "Summary: 18 pass, 1 warn, 0 fail, 23 skip, 0 error — ready"
    );
    assert_valid_junit(&std::fs::read_to_string(&out).unwrap());

    let run = node_preflight(&[
        "--root",
        &root,
        "--output-file",
        "/nonexistent/dir/report.txt",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot write the report to /nonexistent/dir/report.txt"),
        "{}",
        run.stderr
    );
}

#[test]
fn only_and_skip_select_checks_by_glob() {
    let root = fixture("healthy-v2-systemd");
    let (_, report) = json_report(&[
        "--root",
        &root,
        "--only",
        "sysctl.*,node.swap",
        "--skip",
        "*.persistent",
    ]);
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "sysctl.ip-forward",
            "sysctl.bridge-nf-call-iptables",
            "sysctl.bridge-nf-call-ip6tables",
            "node.swap"
        ]
    );
}

#[test]
fn control_characters_in_host_files_cannot_reach_the_terminal_or_break_xml() {
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .file("/proc/sys/kernel/hostname", "evil\u{1b}[2J\u{7}name\n");
    let table = node_preflight(&["--root", &host.root_arg(), "--only", "node.hostname"]);
    assert!(
        !table.stdout.contains('\u{1b}'),
        "an escape sequence reached the table"
    );
    assert!(
        table.stdout.contains("evil\\u{1b}[2J\\u{7}name"),
        "{}",
        table.stdout
    );
    let junit = node_preflight(&[
        "check",
        "-o",
        "junit",
        "--root",
        &host.root_arg(),
        "--only",
        "node.hostname",
    ]);
    assert_valid_junit(&junit.stdout);
    let (_, report) = json_report(&["--root", &host.root_arg(), "--only", "node.hostname"]);
    assert_eq!(report["host"]["hostname"], "evil\u{1b}[2J\u{7}name");
}

#[test]
fn golden_markdown_report() {
    let root = fixture("sysctl-shadowed");
    let run = node_preflight(&[
        "check",
        "-o",
        "markdown",
        "--root",
        &root,
        "--kubernetes-version",
        "1.31",
        "--only",
        "sysctl.*,node.*",
    ]);
    assert_eq!(run.code, 1);
    assert_golden(&run.stdout, "sysctl-shadowed.md");
}

#[test]
fn golden_prometheus_report_with_fail_on_warning_and_an_ignored_failure() {
    let root = fixture("sysctl-shadowed");
    let run = node_preflight(&[
        "check",
        "-o",
        "prometheus",
        "--root",
        &root,
        "--kubernetes-version",
        "1.31",
        "--only",
        "sysctl.*,node.*",
        "--fail-on",
        "warning",
        "--ignore",
        "sysctl.ip-forward.persistent",
    ]);
    assert_eq!(run.code, 1, "the warning fails the run: {}", run.stderr);
    assert_golden(&run.stdout, "sysctl-shadowed.prom");
    assert_valid_prometheus(&run.stdout);
}

/// The statuses and the verdict of a JSON report, as the Prometheus exposition of the same
/// run must tell them.
fn assert_prometheus_agrees_with_json(samples: &[Sample], json: &serde_json::Value, what: &str) {
    let summary = &json["summary"];
    let ready = if summary["exit_code"] == 0 { 1.0 } else { 0.0 };
    assert_eq!(
        value_of(samples, "node_preflight_ready", &[]),
        ready,
        "{what}"
    );
    for status in ["pass", "warn", "fail", "skip", "error"] {
        assert_eq!(
            value_of(samples, "node_preflight_checks", &[("status", status)]),
            summary[status].as_f64().unwrap(),
            "{what}: {status}"
        );
    }
    let fail_on = json["target"]["fail_on"].as_str().unwrap();
    let info = samples_of(samples, "node_preflight_info");
    assert_eq!(info.len(), 1, "{what}");
    assert_eq!(info[0].value, 1.0);
    assert_eq!(info[0].label("fail_on"), fail_on);
    assert_eq!(
        info[0].label("kubernetes_version"),
        json["target"]["kubernetes_version"]
    );
    assert_eq!(info[0].label("role"), json["target"]["role"]);
    assert_eq!(info[0].label("source"), json["host"]["source"]);
    assert_eq!(info[0].label("version"), json["tool"]["version"]);
    let checks = json["checks"].as_array().unwrap();
    // Five series per check, whatever its status, and one blocking series.
    assert_eq!(
        samples_of(samples, "node_preflight_check_status").len(),
        5 * checks.len(),
        "{what}"
    );
    assert_eq!(
        samples_of(samples, "node_preflight_check_blocking").len(),
        checks.len(),
        "{what}"
    );
    let mut hidden = 0.0;
    for c in checks {
        let id = c["id"].as_str().unwrap();
        let status = c["status"].as_str().unwrap();
        let ignored = c["ignored"].as_bool().unwrap();
        let fails = match status {
            "fail" | "error" => true,
            "warn" => fail_on == "warning",
            _ => false,
        };
        let current: Vec<&Sample> = samples_of(samples, "node_preflight_check_status")
            .into_iter()
            .filter(|s| s.label("check") == id && s.value == 1.0)
            .collect();
        assert_eq!(current.len(), 1, "{what}: {id}");
        assert_eq!(current[0].label("status"), status, "{what}: {id}");
        assert_eq!(current[0].label("category"), c["category"], "{what}: {id}");
        assert_eq!(current[0].label("severity"), c["severity"], "{what}: {id}");
        assert_eq!(
            current[0].label("ignored"),
            ignored.to_string(),
            "{what}: {id}"
        );
        let blocking = value_of(samples, "node_preflight_check_blocking", &[("check", id)]);
        assert_eq!(
            blocking,
            if fails && !ignored { 1.0 } else { 0.0 },
            "{what}: {id}"
        );
        if fails && ignored {
            hidden += 1.0;
        }
    }
    assert_eq!(
        value_of(samples, "node_preflight_ignored_checks_failing", &[]),
        hidden,
        "{what}"
    );
}

#[test]
fn every_fixture_prometheus_report_is_valid_and_agrees_with_json() {
    for host in fixture_hosts() {
        let root = fixture(&host);
        for extra in [
            &[][..],
            &["--fail-on", "warning"][..],
            &[
                "--role",
                "control-plane",
                "--ignore",
                "node.swap,sysctl.ip-forward",
            ][..],
        ] {
            let mut args = vec!["--root", root.as_str()];
            args.extend_from_slice(extra);
            let (prom, samples) = prometheus_report(&args);
            let (json_run, json) = json_report(&args);
            assert_eq!(prom.code, json_run.code, "{host} {extra:?}");
            assert_prometheus_agrees_with_json(&samples, &json, &format!("{host} {extra:?}"));
        }
    }
}

#[test]
fn ignored_checks_and_fail_on_warning_are_visible_in_prometheus() {
    let root = fixture("sysctl-shadowed");
    let base = [
        "--root",
        root.as_str(),
        "--kubernetes-version",
        "1.31",
        "--only",
        "sysctl.*,node.*",
    ];
    let warned = ("check", "sysctl.bridge-nf-call-ip6tables.persistent");
    let failed = ("check", "sysctl.ip-forward.persistent");
    let blocking = "node_preflight_check_blocking";

    // By default the failure blocks and the warning does not.
    let (run, s) = prometheus_report(&base);
    assert_eq!(run.code, 1);
    assert_eq!(value_of(&s, "node_preflight_ready", &[]), 0.0);
    assert_eq!(value_of(&s, blocking, &[failed]), 1.0);
    assert_eq!(value_of(&s, blocking, &[warned]), 0.0);
    assert_eq!(
        value_of(&s, "node_preflight_info", &[]),
        1.0,
        "one info series"
    );
    assert_eq!(
        samples_of(&s, "node_preflight_info")[0].label("fail_on"),
        "error"
    );

    // Ignoring the failure makes the node ready, and says that something is ignored.
    let mut args = base.to_vec();
    args.extend(["--ignore", "sysctl.ip-forward.persistent"]);
    let (run, s) = prometheus_report(&args);
    assert_eq!(run.code, 0);
    assert_eq!(value_of(&s, "node_preflight_ready", &[]), 1.0);
    assert_eq!(value_of(&s, blocking, &[failed]), 0.0);
    assert_eq!(
        value_of(
            &s,
            "node_preflight_check_status",
            &[failed, ("ignored", "true"), ("status", "fail")]
        ),
        1.0
    );
    assert_eq!(
        value_of(&s, "node_preflight_ignored_checks_failing", &[]),
        1.0
    );
    assert_eq!(
        value_of(&s, "node_preflight_checks", &[("status", "fail")]),
        1.0,
        "an ignored failure is still counted as a failure"
    );

    // With --fail-on warning the warning blocks too.
    let mut args = base.to_vec();
    args.extend([
        "--fail-on",
        "warning",
        "--ignore",
        "sysctl.ip-forward.persistent",
    ]);
    let (run, s) = prometheus_report(&args);
    assert_eq!(run.code, 1);
    assert_eq!(value_of(&s, "node_preflight_ready", &[]), 0.0);
    assert_eq!(value_of(&s, blocking, &[warned]), 1.0);
    assert_eq!(
        samples_of(&s, "node_preflight_info")[0].label("fail_on"),
        "warning"
    );
}

/// Every file in a directory.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_prometheus_output_file_is_replaced_whole_keeping_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("node_preflight.prom");
    let root = fixture("swap-on");
    let args = |out: &std::path::Path| {
        node_preflight(&[
            "check",
            "-o",
            "prometheus",
            "--skip",
            SOCKET_CHECKS,
            "--root",
            &root,
            "--output-file",
            out.to_str().unwrap(),
        ])
    };
    let run = args(&out);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr.trim(),
        "Summary: 18 pass, 1 warn, 0 fail, 23 skip, 0 error — ready"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert_valid_prometheus(&written);
    // The temporary file was renamed: nothing else is left in the directory.
    assert_eq!(files_in(dir.path()), ["node_preflight.prom"]);

    // Replacing the file keeps the mode an admin gave it (say, readable by node_exporter's
    // group only).
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::write(&out, "stale\n").unwrap();
    let run = args(&out);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    assert_eq!(files_in(dir.path()), ["node_preflight.prom"]);

    // A symbolic link is written through, not replaced by a file.
    let target = dir.path().join("real.prom");
    let link = dir.path().join("link.prom");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = args(&link);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), written);

    // A directory that does not exist is a clear error, and nothing is left behind.
    let run = args(&dir.path().join("missing/node_preflight.prom"));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot write the report to ")
            && run.stderr.contains("missing/node_preflight.prom"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_textfile_collector_reading_at_any_moment_sees_a_whole_exposition() {
    // The collector reads the file whenever Prometheus scrapes: while runs rewrite it, every
    // read must be one whole exposition, never an empty or half-written file.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("node_preflight.prom");
    let root = fixture("healthy-v2-systemd");
    let run = |out: &std::path::Path| {
        node_preflight(&[
            "check",
            "-o",
            "prometheus",
            "--root",
            &root,
            "--output-file",
            out.to_str().unwrap(),
        ])
    };
    run(&out);
    let whole = std::fs::read_to_string(&out).unwrap();
    assert!(
        whole.len() > 10_000,
        "a file long enough to be caught half-written"
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    let reads = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let seen = std::fs::read_to_string(&out).unwrap();
                assert!(
                    seen == whole,
                    "a reader saw {} bytes of the {}-byte exposition",
                    seen.len(),
                    whole.len()
                );
                reads += 1;
            }
            reads
        });
        for _ in 0..10 {
            run(&out);
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        reader.join().unwrap()
    });
    assert!(reads > 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), whole);
    assert_eq!(files_in(dir.path()), ["node_preflight.prom"]);
}
