//! The JUnit report: `testsuites` > one `testsuite` per category > one `testcase` per check.
//!
//! Written with quick-xml rather than a JUnit crate: the document must validate against
//! Jenkins' junit-10.xsd, which wants `properties` and a `skipped` count on each suite but no
//! `skipped` on `testsuites` — junit-report writes neither, quick-junit writes the latter.
//!
//! fail ⇒ `<failure>`, error ⇒ `<error>`, skip ⇒ `<skipped>`, warn ⇒ passes with the warning
//! in `system-out` (a `<failure>` with `--fail-on warning`); an ignored failure is reported
//! as `<skipped>` so that it is visible but does not fail the build.

use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::text::xml_safe;
use super::{by_category, Report};
use crate::rules::eval::{CheckResult, Status};
use crate::rules::Severity;

pub fn render(report: &Report) -> String {
    match write(report) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        // Writing into a Vec cannot fail.
        Err(e) => format!("<!-- cannot render the JUnit report: {e} -->\n"),
    }
}

fn write(report: &Report) -> io::Result<Vec<u8>> {
    let suites: Vec<Suite> = by_category(&report.checks)
        .into_iter()
        .map(|(category, checks)| Suite {
            name: category.to_string(),
            classname_prefix: "node-preflight".to_string(),
            report,
            checks,
        })
        .collect();
    write_document(&suites, &[])
}

/// The JUnit report of several nodes (bundles): one testsuite per node, classnames
/// `node-preflight.<node>.<check id>`; a bundle that could not be read is a suite with one
/// `<error>` test case.
pub fn render_fleet(nodes: &[(String, &Report)], unreadable: &[(String, String)]) -> String {
    let suites: Vec<Suite> = nodes
        .iter()
        .map(|(node, report)| Suite {
            name: node.clone(),
            classname_prefix: format!("node-preflight.{}", node.replace('.', "_")),
            report,
            checks: report.checks.iter().collect(),
        })
        .collect();
    match write_document(&suites, unreadable) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("<!-- cannot render the JUnit report: {e} -->\n"),
    }
}

/// One `testsuite`: some checks of one report.
struct Suite<'a> {
    name: String,
    classname_prefix: String,
    report: &'a Report,
    checks: Vec<&'a CheckResult>,
}

fn write_document(suites: &[Suite], unreadable: &[(String, String)]) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let (mut tests, mut failures, mut errors, mut total_time) = (0, 0, 0, 0.0);
    for suite in suites {
        let (f, e) = counts(suite.checks.iter().copied(), suite.report.target.fail_on);
        tests += suite.checks.len();
        failures += f;
        errors += e;
        total_time += suite
            .checks
            .iter()
            .map(|c| c.duration.as_secs_f64())
            .sum::<f64>();
    }
    tests += unreadable.len();
    errors += unreadable.len();
    w.create_element("testsuites")
        .with_attributes([
            ("name", "node-preflight"),
            ("tests", tests.to_string().as_str()),
            ("failures", failures.to_string().as_str()),
            ("errors", errors.to_string().as_str()),
            ("time", time(total_time).as_str()),
        ])
        .write_inner_content(|w| {
            for suite in suites {
                write_suite(w, suite)?;
            }
            for (node, why) in unreadable {
                write_unreadable(w, node, why)?;
            }
            Ok(())
        })?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

fn write_unreadable(w: &mut Writer<Vec<u8>>, node: &str, why: &str) -> io::Result<()> {
    let why = xml_safe(why);
    w.create_element("testsuite")
        .with_attributes([
            ("name", xml_safe(node).as_str()),
            ("tests", "1"),
            ("failures", "0"),
            ("errors", "1"),
            ("skipped", "0"),
        ])
        .write_inner_content(|w| {
            w.create_element("testcase")
                .with_attributes([
                    ("name", "bundle is readable"),
                    (
                        "classname",
                        format!("node-preflight.{}.bundle", xml_safe(node).replace('.', "_"))
                            .as_str(),
                    ),
                ])
                .write_inner_content(|w| {
                    w.create_element("error")
                        .with_attributes([("type", "bundle"), ("message", why.as_str())])
                        .write_text_content(BytesText::new(&why))?;
                    Ok(())
                })?;
            Ok(())
        })?;
    Ok(())
}

fn write_suite(w: &mut Writer<Vec<u8>>, suite: &Suite) -> io::Result<()> {
    let report = suite.report;
    let checks = &suite.checks;
    let fail_on = report.target.fail_on;
    let (failures, errors) = counts(checks.iter().copied(), fail_on);
    let skipped = checks.iter().filter(|c| is_skipped(c, fail_on)).count();
    let suite_time: f64 = checks.iter().map(|c| c.duration.as_secs_f64()).sum();
    let hostname = xml_safe(report.host.hostname.as_deref().unwrap_or("unknown"));
    w.create_element("testsuite")
        .with_attributes([
            ("name", xml_safe(&suite.name).as_str()),
            ("tests", checks.len().to_string().as_str()),
            ("failures", failures.to_string().as_str()),
            ("errors", errors.to_string().as_str()),
            ("skipped", skipped.to_string().as_str()),
            ("time", time(suite_time).as_str()),
            ("hostname", hostname.as_str()),
        ])
        .write_inner_content(|w| {
            w.create_element("properties").write_inner_content(|w| {
                let mut properties = report.host.properties();
                properties.push((
                    "target.kubernetes_version",
                    report.target.kubernetes_version.clone(),
                ));
                properties.push(("target.role", report.target.role.clone()));
                properties.push(("tool.version", report.tool.version.to_string()));
                for (name, value) in properties {
                    w.create_element("property")
                        .with_attributes([("name", name), ("value", xml_safe(&value).as_str())])
                        .write_empty()?;
                }
                Ok(())
            })?;
            for check in checks {
                write_case(w, check, fail_on, &suite.classname_prefix)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_case(
    w: &mut Writer<Vec<u8>>,
    check: &CheckResult,
    fail_on: Severity,
    classname_prefix: &str,
) -> io::Result<()> {
    let classname = xml_safe(&format!("{classname_prefix}.{}", check.id));
    let name = xml_safe(&check.title);
    let message = xml_safe(&check.message);
    let details = xml_safe(&details(check));
    w.create_element("testcase")
        .with_attributes([
            ("name", name.as_str()),
            ("classname", classname.as_str()),
            ("time", time(check.duration.as_secs_f64()).as_str()),
        ])
        .write_inner_content(|w| {
            let ignored = check.ignored && would_fail(check, fail_on);
            let element = match (check.status, ignored) {
                (Status::Pass, _) => None,
                (Status::Skip, _) => Some(("skipped", "skip", message.clone())),
                (_, true) => Some((
                    "skipped",
                    "ignored",
                    format!("ignored by --ignore ({}): {message}", check.status.as_str()),
                )),
                (Status::Fail, _) => Some(("failure", "fail", message.clone())),
                (Status::Error, _) => Some(("error", "error", message.clone())),
                (Status::Warn, _) if fail_on == Severity::Warning => {
                    Some(("failure", "warning", message.clone()))
                }
                (Status::Warn, _) => None,
            };
            if let Some((tag, kind, message)) = element {
                w.create_element(tag)
                    .with_attributes([("type", kind), ("message", message.as_str())])
                    .write_text_content(BytesText::new(&details))?;
            }
            let out = match check.status {
                Status::Warn => format!("WARNING: {message}"),
                _ => message.clone(),
            };
            w.create_element("system-out")
                .write_text_content(BytesText::new(&out))?;
            Ok(())
        })?;
    Ok(())
}

/// The body of a failure: what was seen, what was expected, where, and the remedy.
fn details(check: &CheckResult) -> String {
    let mut out = check.message.clone();
    for e in &check.evidence {
        out.push_str(&format!("\n  {} = {}", e.fact, e.value));
        if !e.source.is_empty() {
            out.push_str(&format!(" ({}", e.source));
            if let Some(line) = e.line {
                out.push_str(&format!(":{line}"));
            }
            out.push(')');
        }
    }
    if matches!(check.status, Status::Fail | Status::Warn) {
        out.push_str(&format!(
            "\nRemedy: {}\nDocs: {}",
            check.remediation, check.docs
        ));
    }
    out
}

fn counts<'a>(checks: impl Iterator<Item = &'a CheckResult>, fail_on: Severity) -> (usize, usize) {
    let mut failures = 0;
    let mut errors = 0;
    for c in checks {
        if c.ignored || !would_fail(c, fail_on) {
            continue;
        }
        match c.status {
            Status::Error => errors += 1,
            _ => failures += 1,
        }
    }
    (failures, errors)
}

fn is_skipped(check: &CheckResult, fail_on: Severity) -> bool {
    check.status == Status::Skip || (check.ignored && would_fail(check, fail_on))
}

/// Whether the check would fail the build if it were not ignored.
fn would_fail(check: &CheckResult, fail_on: Severity) -> bool {
    match check.status {
        Status::Fail | Status::Error => true,
        Status::Warn => fail_on == Severity::Warning,
        Status::Pass | Status::Skip => false,
    }
}

fn time(seconds: f64) -> String {
    format!("{seconds:.6}")
}
