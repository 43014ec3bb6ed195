//! Reports: whole outputs compared with golden files, JSON validated against the schema in
//! docs/, JUnit validated against Jenkins' junit-10.xsd.

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
    ] {
        let mut all = vec!["check", "-o", format];
        all.extend(args);
        let run = node_preflight(&all);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert_golden(&run.stdout, golden);
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
    ] {
        let mut all = vec!["check", "-o", format];
        all.extend(args);
        let run = node_preflight(&all);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert_golden(&run.stdout, golden);
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
