//! The machine the tests run on, checked live. What the tool reports is compared with what
//! the test finds out independently, so the test holds on any machine.

use crate::util::*;

fn exists(path: &str) -> bool {
    std::path::Path::new(path).exists()
}

/// Loaded according to /proc/modules.
fn loaded(module: &str) -> bool {
    std::fs::read_to_string("/proc/modules")
        .map(|m| {
            m.lines()
                .any(|l| l.split_whitespace().next() == Some(module))
        })
        .unwrap_or(false)
}

#[test]
fn built_in_or_loaded_modules_are_not_reported_missing() {
    let (run, report) = json_report(&["--only", "kernel.*"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert_valid_report_json(&run.stdout);
    // br_netfilter's sysctls exist exactly when its code runs (loaded or built in).
    let br_present = exists("/proc/sys/net/bridge") || loaded("br_netfilter");
    let expected = if br_present { "pass" } else { "fail" };
    assert_eq!(status_of(&report, "kernel.br-netfilter"), expected);
    // overlay is usable exactly when the kernel lists the filesystem.
    let overlay_present = std::fs::read_to_string("/proc/filesystems")
        .unwrap()
        .lines()
        .any(|l| l.split_whitespace().last() == Some("overlay"));
    let expected = if overlay_present { "pass" } else { "fail" };
    assert_eq!(status_of(&report, "kernel.overlay"), expected);
    if !exists("/proc/modules") {
        // A kernel without module support (this project's VM): nothing to persist.
        assert_eq!(status_of(&report, "kernel.overlay.persistent"), "skip");
        assert_eq!(status_of(&report, "kernel.br-netfilter.persistent"), "skip");
    }
}

#[test]
fn the_live_report_describes_this_machine() {
    let (run, report) = json_report::<&str>(&[]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert_valid_report_json(&run.stdout);
    assert_eq!(report["host"]["source"], "live");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(report["host"]["kernel"], release.trim());
    let ip_forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let expected = if ip_forward.trim() == "1" {
        "pass"
    } else {
        "fail"
    };
    assert_eq!(status_of(&report, "sysctl.ip-forward"), expected);
    let mode = report["host"]["cgroup_mode"].as_str().unwrap();
    let root_is_v2 = std::fs::read_to_string("/proc/mounts")
        .unwrap()
        .lines()
        .any(|l| {
            l.split_whitespace().nth(1) == Some("/sys/fs/cgroup")
                && l.split_whitespace().nth(2) == Some("cgroup2")
        });
    assert_eq!(mode == "v2", root_is_v2, "cgroup mode {mode}");
    let systemd = exists("/run/systemd/system");
    assert_eq!(report["host"]["init_systemd"], systemd);
    // The exit code agrees with the summary.
    assert_eq!(
        run.code,
        report["summary"]["exit_code"].as_i64().unwrap() as i32
    );
}

#[test]
fn the_live_junit_report_is_valid() {
    let run = node_preflight(&["check", "-o", "junit"]);
    assert_valid_junit(&run.stdout);
}

#[test]
fn facts_prints_every_fact_with_provenance() {
    let run = node_preflight(&["facts"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let facts: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let release = &facts["facts"]["kernel.release"];
    assert_eq!(release["status"], "known");
    assert_eq!(release["source"], "/proc/sys/kernel/osrelease");
    assert!(facts["facts"]["sysctl.persisted.net.ipv4.ip_forward"]["source"].is_string());
}
