//! The subcommands.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::cli::{
    self, CheckConfig, ExplainArgs, FactsArgs, Format, ListArgs, ListFormat, UsageError,
};
use crate::facts::{self, FactRequest};
use crate::host::{FsHost, Host};
use crate::report::{self, HostInfo, Report, Summary, TargetInfo, Tool};
use crate::rules::eval::evaluate_all;
use crate::rules::Catalog;

fn open_host(root: &Option<std::path::PathBuf>) -> FsHost {
    match root {
        Some(dir) => FsHost::under(dir),
        None => FsHost::live(),
    }
}

/// Starts reading the host's kernel release and config ahead ([`facts::kernel::Prefetch`])
/// when the run will need them: a check of this machine or a `--root` tree with the built-in
/// catalog and every check selected, which always asks about the kernel config
/// (`the_builtin_catalog_asks_about_the_kernel_config` keeps that true). Any other run reads
/// them, if at all, when a rule asks.
pub fn kernel_prefetch(args: &cli::CheckArgs) -> Option<facts::kernel::Prefetch> {
    let builtin_checks_only = args.catalog.checks.is_none() && !args.selection.is_given();
    let root_usable = args.host.root.as_ref().is_none_or(|dir| dir.is_dir());
    (builtin_checks_only && root_usable && args.bundle.is_empty())
        .then(|| facts::kernel::Prefetch::start(open_host(&args.host.root)))
}

/// Gathers the facts the selected checks need, evaluates them and writes the report.
pub fn check(config: CheckConfig) -> anyhow::Result<u8> {
    if !config.bundles.is_empty() {
        return crate::bundle::check(config);
    }
    let host = open_host(&config.root);
    let report = build_report(&host, &config);
    let rendered = render(&report, &config);
    emit(&rendered, &report, &config)?;
    Ok(report.summary.exit_code as u8)
}

/// A report in the format asked for.
pub fn render(report: &Report, config: &CheckConfig) -> String {
    match config.format {
        Format::Table => report::table::render(report, config.color),
        Format::Json => report::json::render(report),
        Format::Junit => report::junit::render(report),
        Format::Markdown => report::markdown::render(report),
        Format::Prometheus => report::prometheus::render(report),
    }
}

/// Writes a rendered report to --output-file (with a summary on stderr) or stdout.
pub fn emit(rendered: &str, report: &Report, config: &CheckConfig) -> anyhow::Result<()> {
    match &config.output_file {
        Some(path) => {
            write_output_file(path, rendered, config.format)?;
            eprintln!("{}", report::table::summary_line(&report.summary));
        }
        None => write_stdout(rendered)?,
    }
    Ok(())
}

/// Writes a rendered report to --output-file. A Prometheus exposition replaces the file
/// atomically: node_exporter's textfile collector reads the file whenever it is scraped and
/// must never see half of it. The other formats are read once the run is over, and keep
/// being written in place, through whatever the path is (a FIFO, `/dev/stdout`, a link).
pub fn write_output_file(path: &Path, text: &str, format: Format) -> anyhow::Result<()> {
    let written = if format == Format::Prometheus && replaceable(path) {
        replace(path, text)
    } else {
        std::fs::write(path, text).map_err(anyhow::Error::from)
    };
    written.with_context(|| format!("cannot write the report to {}", path.display()))
}

/// Whether renaming a file over `path` replaces what is there: it holds a regular file or
/// nothing yet. A rename would replace a symbolic link or a device rather than write to it.
fn replaceable(path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => meta.file_type().is_file(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Writes `text` to a new file beside `path` and renames it over `path`, keeping the
/// permissions of the file it replaces. Readers see the old file or the new one, whole.
fn replace(path: &Path, text: &str) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .context("the path does not end in a file name")?;
    // Hidden and not ending in `.prom`: the textfile collector reads only `*.prom` files.
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    // create_new: never through a link planted at the temporary name, never over a file
    // this run did not create.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .with_context(|| format!("cannot create {}", temp.display()))?;
    if let Err(e) = fill_and_rename(file, &temp, path, text) {
        let _ = std::fs::remove_file(&temp);
        return Err(e.into());
    }
    Ok(())
}

fn fill_and_rename(
    mut file: std::fs::File,
    temp: &Path,
    path: &Path,
    text: &str,
) -> std::io::Result<()> {
    if let Ok(old) = std::fs::metadata(path) {
        file.set_permissions(old.permissions())?;
    }
    file.write_all(text.as_bytes())?;
    // On the disk before the rename is, or a crash could leave an empty file behind.
    file.sync_all()?;
    std::fs::rename(temp, path)
}

/// The report of a check run on a host.
pub fn build_report(host: &dyn Host, config: &CheckConfig) -> Report {
    run_checks(host, config).0
}

/// A check run on a host: the report, and the facts it was made from (which `fix` reads to
/// find the file and line to change).
pub fn run_checks(host: &dyn Host, config: &CheckConfig) -> (Report, facts::FactSet) {
    evaluate_with_facts(
        host,
        &config.selected_rules(),
        &config.options(),
        &config.ignore,
        config.fail_on,
    )
}

/// Gathers the facts `rules` need from `host` and evaluates them: the report of one run.
pub fn evaluate(
    host: &dyn Host,
    rules: &[&crate::rules::Rule],
    options: &facts::Options,
    ignore: &cli::Ignore,
    fail_on: crate::rules::Severity,
) -> Report {
    evaluate_with_facts(host, rules, options, ignore, fail_on).0
}

/// [`evaluate`], keeping the facts too.
pub fn evaluate_with_facts(
    host: &dyn Host,
    rules: &[&crate::rules::Rule],
    options: &facts::Options,
    ignore: &cli::Ignore,
    fail_on: crate::rules::Severity,
) -> (Report, facts::FactSet) {
    let request = FactRequest::new(Catalog::facts_of(rules.iter().copied()));
    let facts = facts::gather(host, &request, options);
    let version = options.target.kubernetes_version;
    let mut checks = evaluate_all(rules, &facts, version, &|id| ignore.contains(id));
    report::sort_by_category(&mut checks);
    let summary = Summary::of(&checks, fail_on);
    let report = Report {
        schema: report::SCHEMA,
        tool: Tool::default(),
        host: HostInfo::from_facts(host.describe(), &facts),
        target: TargetInfo {
            kubernetes_version: version.to_string(),
            kubernetes_version_source: options.target.kubernetes_version_source.clone(),
            role: options.target.role.as_str().to_string(),
            fail_on,
        },
        summary,
        checks,
    };
    (report, facts)
}

/// Runs the checks as `check` does and prints a shell script of the remedies for what
/// failed. Changes nothing on the host.
pub fn fix(config: CheckConfig) -> anyhow::Result<u8> {
    if !config.bundles.is_empty() {
        return crate::bundle::fix(config);
    }
    let host = open_host(&config.root);
    let (report, facts) = run_checks(&host, &config);
    let script = crate::fix::script(&crate::fix::Run {
        host: &host,
        redactions: &[],
        catalog: &config.catalog,
        fail_on: config.fail_on,
        report: &report,
        facts: &facts,
    });
    write_stdout(&script)?;
    Ok(0)
}

pub fn list(args: ListArgs) -> anyhow::Result<u8> {
    let catalog = cli::load_catalog(&args.catalog)?;
    let out = match args.output {
        ListFormat::Table => report::catalog::render_table(&catalog),
        ListFormat::Markdown => report::catalog::render_markdown(&catalog),
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = catalog
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "title": r.title, "category": r.category,
                        "severity": r.severity, "docs": r.docs,
                    })
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&rows)?)
        }
    };
    write_stdout(&out)?;
    Ok(0)
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<u8> {
    let catalog = cli::load_catalog(&args.catalog)?;
    let rule = catalog.get(&args.id).ok_or_else(|| {
        UsageError(format!(
            "no check has the id {} (`node-preflight list` shows the ids)",
            args.id
        ))
    })?;
    write_stdout(&report::catalog::render_explain(rule))?;
    Ok(0)
}

/// Every fact the catalog can use, gathered, as JSON.
pub fn facts(args: FactsArgs) -> anyhow::Result<u8> {
    let root = cli::validate_root(&args.host)?;
    let catalog = cli::load_catalog(&args.catalog)?;
    let options = facts::Options {
        target: cli::validate_target(&args.target, &catalog)?,
        runtime: args.runtime.validate()?,
        kernel_prefetch: None,
    };
    let host = open_host(&root);
    let request = FactRequest::new(Catalog::facts_of(&catalog.rules));
    let facts = facts::gather(&host, &request, &options);
    let map: serde_json::Map<String, serde_json::Value> = facts
        .iter()
        .map(|(name, fact)| Ok((name.clone(), serde_json::to_value(fact)?)))
        .collect::<Result<_, serde_json::Error>>()?;
    let out = serde_json::json!({ "host": host.describe(), "facts": map });
    write_stdout(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    Ok(0)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}
