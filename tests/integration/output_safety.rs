//! Output safety (issue #6, item 5): a configuration value and a file name carrying terminal
//! escape sequences, newlines, characters XML cannot hold, markup and bidirectional
//! overrides cannot inject into any report. The table and Markdown show them escaped, the
//! JUnit report stays valid against the XSD with them sanitised, and the JSON carries the
//! exact value (it round-trips).

use crate::bundle::{good_entries, gzip, with_manifest, RawTar};
use crate::util::*;

/// A value an attacker would like to print: an OSC title change and a screen clear, a bell,
/// a newline that starts a fake row, a table separator, XML markup, NUL and other C0/C1
/// controls XML 1.0 cannot carry, and a right-to-left override that reorders what follows.
const NASTY: &str =
    "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\nFAKE ROW | x </testcase>\u{1}\u{0}\u{7f}\u{85}\u{202e}gnp.txe";

/// A file name with the same (no NUL or `/`: a name cannot hold them), sorting last so that
/// it decides the value after a reboot.
const NASTY_FILE: &str = "zz-evil\u{1b}[31m\nFAKE ROW\u{7}\u{202e}fnoc.conf";

/// NASTY in a TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => out.push_str(&format!("\\{c}")),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The healthy fixture with NASTY as containerd's sandbox image and a sysctl.d file named
/// NASTY_FILE that turns IP forwarding off after a reboot.
fn nasty_host() -> HostBuilder {
    let config = std::fs::read_to_string(
        project_root().join("testdata/hosts/healthy-v2-systemd/etc/containerd/config.toml"),
    )
    .unwrap()
    .replace("\"registry.k8s.io/pause:3.10.1\"", &toml_string(NASTY));
    assert!(
        config.contains("pwned"),
        "the fixture's sandbox_image moved"
    );
    HostBuilder::from_fixture("healthy-v2-systemd")
        .file("/etc/containerd/config.toml", config)
        .file(
            &format!("/etc/sysctl.d/{NASTY_FILE}"),
            "net.ipv4.ip_forward = 0\n",
        )
}

fn args<'a>(format: &'a str, root: &'a str) -> Vec<&'a str> {
    vec![
        "check",
        "-o",
        format,
        "--root",
        root,
        "--kubernetes-version",
        "1.35",
        "--only",
        "containerd.sandbox-image,sysctl.ip-forward.persistent,node.swap",
    ]
}

/// Text a terminal shows as it is: no control character but the line break, and no
/// bidirectional formatting character.
fn assert_inert(what: &str, text: &str) {
    for (i, c) in text.chars().enumerate() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(
            (c == '\n' || !c.is_control()) && !bidi,
            "{what}: raw {c:?} at char {i}:\n{text}"
        );
    }
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("FAKE ROW"),
            "{what}: a value started a line of its own:\n{text}"
        );
    }
}

#[test]
fn json_carries_the_exact_values() {
    let host = nasty_host();
    let root = host.root_arg();
    let run = node_preflight(&args("json", &root));
    assert_valid_report_json(&run.stdout);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // The value, byte for byte, in the evidence and inside the message.
    let image = check_of(&report, "containerd.sandbox-image");
    assert_eq!(image["evidence"][0]["value"], NASTY, "{image:#}");
    assert!(message(&report, "containerd.sandbox-image").contains(NASTY));
    let path = format!("/etc/sysctl.d/{NASTY_FILE}");
    assert_eq!(status_of(&report, "sysctl.ip-forward.persistent"), "fail");
    assert_eq!(
        check_of(&report, "sysctl.ip-forward.persistent")["evidence"][0]["source"],
        path
    );
    assert!(message(&report, "sysctl.ip-forward.persistent").contains(&path));
    // And it reads back as the same document.
    let again: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    assert_eq!(again, report);
}

#[test]
fn the_table_shows_the_values_escaped() {
    let host = nasty_host();
    let root = host.root_arg();
    let run = node_preflight(&args("table", &root));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_inert("table", &run.stdout);
    // Visible, escaped (comfy-table may wrap long cells, so look for short pieces).
    for piece in ["\\u{1b}]0;pwned\\u{7}", "\\u{1b}[2J\\u{a}FAKE", "\\u{202e}"] {
        assert!(
            run.stdout.contains(piece),
            "{piece:?} missing:\n{}",
            run.stdout
        );
    }
    // Every row of the table is a row of the table.
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .collect();
    for row in rows {
        assert!(
            row.starts_with(['│', '┌', '╞', '├', '┆']),
            "a line of the table is not a row: {row:?}"
        );
    }
}

#[test]
fn junit_stays_valid_with_the_values_sanitised() {
    let host = nasty_host();
    let root = host.root_arg();
    let run = node_preflight(&args("junit", &root));
    assert_valid_junit(&run.stdout);
    for c in run.stdout.chars() {
        assert!(
            !c.is_control() || matches!(c, '\n' | '\t' | '\r' | '\u{7f}'..='\u{9f}'),
            "raw {c:?} in the XML"
        );
        assert!(c != '\u{0}' && c != '\u{1b}', "raw {c:?} in the XML");
    }
    // The markup arrived as text, not as an element.
    assert!(
        run.stdout.contains("FAKE ROW | x &lt;/testcase&gt;"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("evil\\u{1b}]0;pwned\\u{7}"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("<testcase ").count(), 3);
}

#[test]
fn markdown_shows_the_values_escaped_in_their_cells() {
    let host = nasty_host();
    let root = host.root_arg();
    let run = node_preflight(&args("markdown", &root));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_inert("markdown", &run.stdout);
    assert!(
        run.stdout.contains("FAKE ROW \\| x &lt;/testcase&gt;"),
        "{}",
        run.stdout
    );
    // Each row of the checks table has its three cells: no pipe of a value splits one.
    for row in run.stdout.lines().filter(|l| l.starts_with("| ")) {
        let separators = row.replace("\\|", "").matches('|').count();
        assert_eq!(separators, 4, "a value split a row: {row:?}");
    }
}

#[test]
fn fleet_reports_of_bundles_stay_safe() {
    // The same values and a hostile host name, collected into bundles and read back as a
    // fleet: the node's name is in every row and suite.
    let host = nasty_host().file("/proc/sys/kernel/hostname", format!("{NASTY}\n"));
    let dir = tempfile::tempdir().unwrap();
    let mut bundles = Vec::new();
    for n in ["a", "b"] {
        let path = dir.path().join(format!("{n}.tar.gz"));
        let run = node_preflight(&[
            "collect",
            "-o",
            path.to_str().unwrap(),
            "--root",
            &host.root_arg(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        bundles.push(path.to_str().unwrap().to_string());
    }
    let fleet = |format: &str| {
        let mut all = vec!["check", "-o", format, "--bundle"];
        all.extend(bundles.iter().map(String::as_str));
        node_preflight(&all)
    };
    assert_inert("fleet table", &fleet("table").stdout);
    assert_inert("fleet markdown", &fleet("markdown").stdout);
    let junit = fleet("junit").stdout;
    assert_valid_junit(&junit);
    assert!(!junit.contains('\u{1b}'));
    let json: serde_json::Value = serde_json::from_str(&fleet("json").stdout).unwrap();
    assert!(json
        .to_string()
        .contains(&serde_json::to_string(NASTY).unwrap()[1..20]));
}

#[test]
fn an_error_message_from_a_hostile_bundle_cannot_reach_the_terminal() {
    // A manifest whose access names an operation that does not exist, spelt with escape
    // sequences: the parser's message quotes it, and standard error shows it escaped.
    let entries = with_manifest(&good_entries(), |m| {
        m["accesses"][0]["op"] = serde_json::Value::from("\u{1b}]0;pwned\u{7}\u{1b}[2J");
    });
    let gz = gzip(&RawTar::default().files(&entries).finish());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.tar.gz");
    std::fs::write(&path, gz).unwrap();
    let run = node_preflight(&["check", "--bundle", path.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("pwned"), "{}", run.stderr);
    assert_inert("stderr", &run.stderr);
}

/// NASTY_FILE as a check category: a check of a `--checks` directory.
fn nasty_checks_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evil.toml"),
        format!(
            r#"[[check]]
id = "evil.category"
title = "A check whose category is hostile"
category = {}
severity = "error"
docs = "https://example.com/"
rationale = "Its category reaches the reports."
remediation = "None."
expect = {{ fact = "swap.enabled", equals = false }}
"#,
            toml_string(&format!("cat\"e\\gory {NASTY}"))
        ),
    )
    .unwrap();
    dir
}

#[test]
fn prometheus_keeps_hostile_values_inside_their_labels() {
    use node_preflight::report::text::printable;
    let host = nasty_host()
        .file("/proc/sys/kernel/hostname", format!("{NASTY}\n"))
        .file("/proc/sys/kernel/osrelease", "6.8.0-\"quoted\"\\back\n");
    let checks = nasty_checks_dir();
    let root = host.root_arg();
    let mut args = args("prometheus", &root);
    let only = "containerd.sandbox-image,sysctl.ip-forward.persistent,node.swap,evil.*";
    args[8] = only;
    args.extend(["--checks", checks.path().to_str().unwrap()]);
    let run = node_preflight(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let samples = assert_valid_prometheus(&run.stdout);
    assert_inert("prometheus", &run.stdout);
    for line in run.stdout.lines() {
        assert!(
            line.starts_with("node_preflight_")
                || line.starts_with("# HELP node_preflight_")
                || line.starts_with("# TYPE node_preflight_"),
            "a value started a line of its own: {line:?}"
        );
    }
    // Each label holds the value the JSON report carries, its controls shown as in the table.
    args[2] = "json";
    let json: serde_json::Value = serde_json::from_str(&node_preflight(&args).stdout).unwrap();
    let info = samples_of(&samples, "node_preflight_info");
    let shown = |v: &serde_json::Value| printable(v.as_str().unwrap(), false);
    assert_eq!(info[0].label("hostname"), shown(&json["host"]["hostname"]));
    assert!(info[0]
        .label("hostname")
        .contains("FAKE ROW | x </testcase>"));
    assert_eq!(info[0].label("kernel"), "6.8.0-\"quoted\"\\back");
    let category = shown(&check_of(&json, "evil.category")["category"]);
    assert!(category.starts_with("cat\"e\\gory evil"), "{category}");
    assert_eq!(
        value_of(
            &samples,
            "node_preflight_check_status",
            &[("check", "evil.category"), ("status", "pass")]
        ),
        1.0
    );
    assert_eq!(
        value_of(
            &samples,
            "node_preflight_check_blocking",
            &[("check", "evil.category"), ("category", &category)]
        ),
        0.0
    );
    // Four checks, five status series each: no value made or swallowed a series.
    assert_eq!(
        samples_of(&samples, "node_preflight_check_status").len(),
        20
    );
}

#[test]
fn a_fleet_of_hostile_bundle_names_stays_safe_in_every_format() {
    use node_preflight::report::text::printable;
    // Bundles are often globbed from a directory of files customers sent: their names are
    // untrusted too. One readable, one not, each named with escapes and a line break.
    let host = nasty_host().file("/proc/sys/kernel/hostname", format!("{NASTY}\n"));
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join(format!("{NASTY_FILE}.tar.gz"));
    let run = node_preflight(&[
        "collect",
        "-o",
        good.to_str().unwrap(),
        "--root",
        &host.root_arg(),
        "--only",
        "sysctl.*,node.swap",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bad = dir.path().join(format!("{NASTY_FILE}\"\\.tar.gz"));
    std::fs::write(&bad, "not a bundle").unwrap();
    let (good, bad) = (good.to_str().unwrap(), bad.to_str().unwrap());
    let fleet =
        |format: &str| node_preflight(&["check", "-o", format, "--bundle", good, bad, good]).stdout;
    assert_inert("fleet table", &fleet("table"));
    assert_inert("fleet markdown", &fleet("markdown"));
    let prom = fleet("prometheus");
    assert_inert("fleet prometheus", &prom);
    let samples = assert_valid_prometheus(&prom);
    // The bundle named twice is one node; the unreadable one is there, by its shown name.
    let readable = samples_of(&samples, "node_preflight_bundle_readable");
    assert_eq!(readable.len(), 2, "{prom}");
    assert_eq!(readable[0].label("bundle"), printable(good, false));
    assert_eq!(readable[0].label("node"), printable(NASTY, false));
    assert_eq!(readable[0].value, 1.0);
    assert_eq!(readable[1].label("bundle"), printable(bad, false));
    assert_eq!(
        readable[1].label("node"),
        printable(&format!("{NASTY_FILE}\"\\.tar.gz"), false)
    );
    assert_eq!(readable[1].value, 0.0);
    assert!(samples
        .iter()
        .all(|s| s.label("bundle") == printable(good, false) || s.name.ends_with("_readable")));
}
