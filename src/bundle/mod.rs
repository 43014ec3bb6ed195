//! Support bundles: `collect` writes what a run read into one `.tar.gz`; `check --bundle`
//! checks it elsewhere, offline, from memory.
//!
//! - [`manifest`]: the manifest's format (what was asked of the host and what it answered).
//! - [`redact`]: credentials replaced before they reach the archive.
//! - [`writer`]: the archive written from a recording host.
//! - [`reader`]: the archive read as untrusted input, bounded and checked.
//! - [`host`]: [`BundleHost`], the replaying [`crate::host::Host`].

pub mod host;
pub mod manifest;
pub mod reader;
pub mod redact;
pub mod writer;

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::ValueEnum;
use rayon::prelude::*;

pub use host::BundleHost;

use crate::cli::{self, CheckConfig, CollectArgs, Ignore, Role, Runtime};
use crate::commands;
use crate::facts::{self, RuntimeOptions, Target};
use crate::host::FsHost;
use crate::report::fleet::{self, NodeReport};
use crate::report::Report;
use crate::rules::{Rule, Severity};
use manifest::{Manifest, Op, Redaction, RuntimeRecord, TargetRecord, ToolInfo, FORMAT};

/// `collect`: runs the selected checks' fact gathering on the host, recording every answer,
/// and writes the bundle.
pub fn collect(args: CollectArgs) -> anyhow::Result<u8> {
    let root = cli::validate_root(&args.host)?;
    let catalog = cli::load_catalog(&args.catalog)?;
    let target = cli::validate_target(&args.target, &catalog)?;
    let selected = args.selection.select(&catalog)?;
    let runtime = args.runtime.validate()?;
    let options = facts::Options {
        target,
        runtime,
        kernel_prefetch: None,
    };
    let rules: Vec<&Rule> = selected.iter().map(|&i| &catalog.rules[i]).collect();
    let progress = std::io::stderr().is_terminal();

    let host = match &root {
        Some(dir) => FsHost::under(dir),
        None => FsHost::live(),
    }
    .recording();
    if progress {
        eprintln!(
            "Collecting what {} checks read from {}…",
            rules.len(),
            crate::host::Host::describe(&host)
        );
    }
    let (report, facts) =
        commands::evaluate_with_facts(&host, &rules, &options, &Ignore::None, Severity::Error);
    // `fix --bundle` makes the node's script from the bundle: the remedies look at a little
    // more than the checks (whether a file they would write is a symbolic link, a drop-in of
    // their own that does not exist yet). Making the script here, on the recording host, puts
    // those answers in the bundle too. Warnings included: `fix --fail-on warning` fixes them.
    let _ = crate::fix::script(&crate::fix::Run {
        host: &host,
        redactions: &[],
        catalog: &catalog,
        fail_on: Severity::Warning,
        report: &report,
        facts: &facts,
    });
    let contents = writer::contents(&host.recorded())?;
    let (created, mtime) = now_utc();
    let manifest = Manifest {
        format: FORMAT.to_string(),
        tool: ToolInfo {
            name: report.tool.name.to_string(),
            version: report.tool.version.to_string(),
        },
        created,
        hostname: report.host.hostname.clone(),
        kernel: report.host.kernel.clone(),
        source: report.host.source.clone(),
        command_line: std::env::args().collect(),
        checks: rules.iter().map(|r| r.id.clone()).collect(),
        target: TargetRecord {
            kubernetes_version: options.target.kubernetes_version.to_string(),
            kubernetes_version_source: options.target.kubernetes_version_source.clone(),
            role: options.target.role.as_str().to_string(),
        },
        runtime: RuntimeRecord {
            runtime: options.runtime.runtime.map(|r| r.as_str().to_string()),
            cri_socket: options.runtime.cri_socket.clone(),
            timeout_ms: u64::try_from(options.runtime.timeout.as_millis()).unwrap_or(u64::MAX),
        },
        files: writer::file_records(&contents.entries),
        redactions: contents.redactions,
        accesses: contents.accesses,
    };
    let size = writer::write(&args.output, &manifest, &contents.entries, mtime)?;
    if progress {
        let probes = manifest
            .accesses
            .iter()
            .filter(|a| matches!(a.op, Op::ProbeCri | Op::ProbeDocker))
            .count();
        eprintln!(
            "Wrote {}: {} files, {} probes, {} redactions, {size} bytes ({} checks would {}).",
            args.output.display(),
            contents.entries.len() - probes,
            probes,
            manifest.redactions.len(),
            report.summary.total,
            if report.summary.exit_code == 0 {
                "pass"
            } else {
                "report findings"
            }
        );
    }
    Ok(0)
}

/// `check --bundle FILE...`: one bundle renders as a normal report; several are checked in
/// parallel and render as a fleet.
pub fn check(config: CheckConfig) -> anyhow::Result<u8> {
    let nodes: Vec<NodeReport> = config
        .bundles
        .par_iter()
        .map(|path| NodeReport {
            bundle: path.display().to_string(),
            report: check_one(path, &config),
        })
        .collect();
    if let [node] = nodes.as_slice() {
        let report = node
            .report
            .as_ref()
            .map_err(|e| anyhow::anyhow!("bundle {}: {e}", node.bundle))?;
        let rendered = commands::render(report, &config);
        commands::emit(&rendered, report, &config)?;
        return Ok(report.summary.exit_code as u8);
    }
    let rendered = fleet::render(&nodes, config.format);
    let summary = fleet::summarize(&nodes);
    match &config.output_file {
        Some(path) => {
            commands::write_output_file(path, &rendered, config.format)?;
            eprintln!(
                "{} nodes: {} ready, {} not ready, {} unreadable",
                summary.nodes, summary.ready, summary.not_ready, summary.unreadable
            );
        }
        None => commands::write_stdout(&rendered)?,
    }
    Ok(summary.exit_code as u8)
}

/// A bundle opened to be evaluated: the replaying host, and the run it was collected for.
struct Opened<'c> {
    host: BundleHost,
    rules: Vec<&'c Rule>,
    options: facts::Options,
    redactions: Vec<Redaction>,
}

/// Reads and checks a bundle, and the checks and options to evaluate it with: those it was
/// collected for, unless the command line chose others.
fn open<'c>(path: &Path, config: &'c CheckConfig) -> Result<Opened<'c>, String> {
    let bundle = reader::open(path, reader::Limits::default()).map_err(|e| e.to_string())?;
    let options = options_of(&bundle.manifest, config)?;
    let rules: Vec<&Rule> = if config.selection_given {
        config.selected_rules()
    } else {
        rules_of(&bundle.manifest, config)?
    };
    let redactions = bundle.manifest.redactions.clone();
    let host =
        BundleHost::new(bundle, format!("bundle {}", path.display())).map_err(|e| e.to_string())?;
    Ok(Opened {
        host,
        rules,
        options,
        redactions,
    })
}

/// The report of one bundle, or why it cannot be read.
fn check_one(path: &Path, config: &CheckConfig) -> Result<Report, String> {
    let b = open(path, config)?;
    Ok(commands::evaluate(
        &b.host,
        &b.rules,
        &b.options,
        &config.ignore,
        config.fail_on,
    ))
}

/// `fix --bundle FILE`: the script of remedies for the node the bundle came from, from the
/// run `check --bundle FILE` makes. One bundle: a script is run on one node.
pub fn fix(config: CheckConfig) -> anyhow::Result<u8> {
    let [path] = config.bundles.as_slice() else {
        return Err(cli::UsageError(format!(
            "fix --bundle takes one bundle, not {}: the script is for the node the bundle came from (run fix once per bundle)",
            config.bundles.len()
        ))
        .into());
    };
    let b = open(path, &config).map_err(|e| anyhow::anyhow!("bundle {}: {e}", path.display()))?;
    let (report, facts) = commands::evaluate_with_facts(
        &b.host,
        &b.rules,
        &b.options,
        &config.ignore,
        config.fail_on,
    );
    let script = crate::fix::script(&crate::fix::Run {
        host: &b.host,
        redactions: &b.redactions,
        catalog: &config.catalog,
        fail_on: config.fail_on,
        report: &report,
        facts: &facts,
    });
    commands::write_stdout(&script)?;
    Ok(0)
}

/// The checks the bundle was collected for, in catalog order.
pub(crate) fn rules_of<'a>(
    manifest: &Manifest,
    config: &'a CheckConfig,
) -> Result<Vec<&'a Rule>, String> {
    let unknown: Vec<&str> = manifest
        .checks
        .iter()
        .filter(|id| config.catalog.get(id).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "it was collected for checks this catalog does not have: {} (give the same --checks DIR)",
            unknown.join(", ")
        ));
    }
    Ok(config
        .catalog
        .rules
        .iter()
        .filter(|r| manifest.checks.contains(&r.id))
        .collect())
}

/// The run's options as collected: the target (unless --kubernetes-version overrides it) and
/// the runtime options that decided which sockets were probed.
pub(crate) fn options_of(
    manifest: &Manifest,
    config: &CheckConfig,
) -> Result<facts::Options, String> {
    let t = &manifest.target;
    let role = Role::from_str(&t.role, false)
        .map_err(|_| format!("the manifest's role {:?} is not a known role", t.role))?;
    let target = if config.kubernetes_version_given {
        Target {
            role,
            ..config.target.clone()
        }
    } else {
        Target {
            kubernetes_version: t
                .kubernetes_version
                .parse()
                .map_err(|e| format!("the manifest's Kubernetes version: {e}"))?,
            kubernetes_version_source: t.kubernetes_version_source.clone(),
            role,
        }
    };
    let r = &manifest.runtime;
    let runtime = match r.runtime.as_deref() {
        None => None,
        Some("containerd") => Some(Runtime::Containerd),
        Some("crio") => Some(Runtime::Crio),
        Some("cri-dockerd") => Some(Runtime::CriDockerd),
        Some("docker") => Some(Runtime::Docker),
        Some(other) => return Err(format!("the manifest's runtime {other:?} is not known")),
    };
    Ok(facts::Options {
        target,
        runtime: RuntimeOptions {
            runtime,
            cri_socket: r.cri_socket.clone(),
            timeout: Duration::from_millis(r.timeout_ms),
        },
        kernel_prefetch: None,
    })
}

/// Now, as RFC 3339 in UTC (`2025-01-31T12:00:00Z`), and as seconds since the epoch.
fn now_utc() -> (String, u64) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (rfc3339(secs), secs)
}

/// Seconds since the epoch as RFC 3339 UTC (days to a civil date: Howard Hinnant's
/// algorithm, exact for the proleptic Gregorian calendar).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
    }
}
