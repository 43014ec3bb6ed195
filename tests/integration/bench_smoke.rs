//! `scripts/bench --smoke`: the benchmark script runs end to end at tiny sizes (seconds) and
//! reports every budget line. It asserts nothing about time: only that each figure is there.

use std::process::Command;

const BUDGETS: &[&str] = &[
    "live-check-vs-cat",
    "busy-vs-small",
    "bundles-per-second",
    "peak-rss-busy",
    "no-subprocess",
    "files-opened-once",
];

#[test]
fn the_bench_script_reports_every_budget_at_smoke_sizes() {
    let out = Command::new("bash")
        .arg("scripts/bench")
        .arg("--smoke")
        .args(["--bin", env!("CARGO_BIN_EXE_node-preflight")])
        .args(["--gen", env!("CARGO_BIN_EXE_gen-host")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/bench --smoke failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("cores,"), "no machine line:\n{stdout}");
    for name in BUDGETS {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("BUDGET {name} ")))
            .unwrap_or_else(|| panic!("no BUDGET {name} line:\n{stdout}\n{stderr}"));
        // Every line ends in a verdict: judged, not judged at smoke sizes, or why not.
        assert!(
            ["met", "NOT MET", "not available", "not measured"]
                .iter()
                .any(|v| line.contains(v)),
            "{line}"
        );
    }
    // The generated hosts were checked and timed.
    assert!(stderr.contains("generated busy node"), "{stderr}");
    assert!(stderr.contains("mount lines"), "{stderr}");
}
