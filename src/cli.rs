//! The command line: raw options (clap) turned into one validated configuration.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::facts::Target;
use crate::rules::{self, Catalog, Rule, Severity};
use crate::version::Version;

#[derive(Parser, Debug)]
#[command(
    name = "node-preflight",
    version,
    about = "Tells whether a Linux machine is ready to be a Kubernetes node, and exactly why not.",
    long_about = "Tells whether a Linux machine is ready to be a Kubernetes node, and exactly why not.\n\n\
        With no subcommand it checks this machine and prints a table. Exit codes: 0 nothing at or \
        above --fail-on failed; 1 something did; 2 the invocation or a checks file was wrong.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check the machine (the default)
    Check(CheckArgs),
    /// Print the catalog of checks
    List(ListArgs),
    /// Print one check's rationale, documentation and remedy
    Explain(ExplainArgs),
    /// Print every gathered fact with its provenance, as JSON
    Facts(FactsArgs),
    /// Print a shell script of the remedies for what failed (changes nothing itself)
    Fix(FixArgs),
    /// Write a support bundle: exactly what the selected checks read, redacted, as .tar.gz
    Collect(CollectArgs),
}

#[derive(Args, Debug, Clone)]
pub struct HostArgs {
    /// Check a copied or mounted root filesystem instead of this machine
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct CatalogArgs {
    /// Add the checks of every *.toml file in DIR to the built-in catalog
    #[arg(long, value_name = "DIR")]
    pub checks: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// The Kubernetes version to check for (default: the newest the catalog knows)
    #[arg(long, value_name = "X.Y")]
    pub kubernetes_version: Option<String>,

    /// The node's role: control-plane nodes need more CPUs and memory
    #[arg(long, value_enum, default_value_t = Role::Worker)]
    pub role: Role,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub host: HostArgs,

    #[command(flatten)]
    pub catalog: CatalogArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    /// Report format
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// Write the report to FILE instead of standard output (a summary goes to standard error)
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Check support bundles written by `collect` instead of this machine (several: in parallel, as a fleet)
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["root", "role", "runtime", "cri_socket", "timeout"])]
    pub bundle: Vec<PathBuf>,

    /// Report these checks but keep them out of the exit code (`all` for every check)
    #[arg(long, value_name = "ID,...|all", value_delimiter = ',')]
    pub ignore: Vec<String>,

    #[command(flatten)]
    pub fail_on: FailOnArgs,

    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

#[derive(Args, Debug, Clone)]
pub struct FailOnArgs {
    /// The lowest severity that makes the exit code 1 (for `fix`: the lowest severity fixed)
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

/// `fix`: the checks `check` would run with the same options, and a script for the failures.
#[derive(Args, Debug, Clone)]
pub struct FixArgs {
    #[command(flatten)]
    pub host: HostArgs,

    /// Make the script for the node a support bundle came from, from the bundle (one bundle)
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["root", "role", "runtime", "cri_socket", "timeout"])]
    pub bundle: Vec<PathBuf>,

    #[command(flatten)]
    pub catalog: CatalogArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub selection: SelectionArgs,

    #[command(flatten)]
    pub fail_on: FailOnArgs,

    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

#[derive(Args, Debug, Clone)]
pub struct SelectionArgs {
    /// Run only the checks whose ids match these globs (comma-separated)
    #[arg(long, value_name = "GLOB,...", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Leave out the checks whose ids match these globs (comma-separated)
    #[arg(long, value_name = "GLOB,...", value_delimiter = ',')]
    pub skip: Vec<String>,
}

impl SelectionArgs {
    /// Whether --only or --skip was given.
    pub fn is_given(&self) -> bool {
        self.only
            .iter()
            .chain(&self.skip)
            .any(|p| !p.trim().is_empty())
    }

    /// Indexes into `catalog.rules` of the selected checks, in catalog order.
    pub fn select(&self, catalog: &Catalog) -> Result<Vec<usize>, UsageError> {
        let only = globs("--only", &self.only)?;
        let skip = globs("--skip", &self.skip)?;
        let selected: Vec<usize> = catalog
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| only.as_ref().is_none_or(|g| g.is_match(&r.id)))
            .filter(|(_, r)| !skip.as_ref().is_some_and(|g| g.is_match(&r.id)))
            .map(|(i, _)| i)
            .collect();
        if selected.is_empty() {
            return Err(UsageError(
                "no check is selected: --only/--skip leave nothing to run (`node-preflight list` shows the ids)".into(),
            ));
        }
        Ok(selected)
    }
}

#[derive(Args, Debug, Clone)]
pub struct CollectArgs {
    /// The bundle to write (a .tar.gz)
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    #[command(flatten)]
    pub host: HostArgs,

    #[command(flatten)]
    pub catalog: CatalogArgs,

    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub selection: SelectionArgs,

    #[command(flatten)]
    pub runtime: RuntimeArgs,
}

#[derive(Args, Debug, Clone)]
pub struct RuntimeArgs {
    /// The container runtime to check (default: detect it from the sockets present)
    #[arg(long, value_enum, default_value_t = RuntimeArg::Auto)]
    pub runtime: RuntimeArg,

    /// The CRI socket to probe, with or without unix:// (default: the kubelet's endpoint, else the known sockets)
    #[arg(long, value_name = "PATH")]
    pub cri_socket: Option<String>,

    /// The deadline of each socket probe: 2s, 500ms, 1m
    #[arg(long, value_name = "DUR", default_value = "2s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeArg {
    Auto,
    Containerd,
    Crio,
    CriDockerd,
    Docker,
}

/// A runtime named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Containerd,
    Crio,
    CriDockerd,
    /// Docker Engine (or Mirantis Container Runtime), reached by the kubelet through cri-dockerd.
    Docker,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Containerd => "containerd",
            Runtime::Crio => "crio",
            Runtime::CriDockerd => "cri-dockerd",
            Runtime::Docker => "docker",
        }
    }
}

impl RuntimeArgs {
    pub fn validate(&self) -> Result<crate::facts::RuntimeOptions, UsageError> {
        let runtime = match self.runtime {
            RuntimeArg::Auto => None,
            RuntimeArg::Containerd => Some(Runtime::Containerd),
            RuntimeArg::Crio => Some(Runtime::Crio),
            RuntimeArg::CriDockerd => Some(Runtime::CriDockerd),
            RuntimeArg::Docker => Some(Runtime::Docker),
        };
        let cri_socket = match &self.cri_socket {
            None => None,
            Some(raw) => {
                let path = raw.strip_prefix("unix://").unwrap_or(raw);
                if !path.starts_with('/') {
                    return Err(UsageError(format!(
                        "--cri-socket {raw}: give an absolute path to a unix socket (unix:///run/containerd/containerd.sock)"
                    )));
                }
                Some(path.to_string())
            }
        };
        if self.timeout.is_zero() {
            return Err(UsageError("--timeout must be more than zero".into()));
        }
        Ok(crate::facts::RuntimeOptions {
            runtime,
            cri_socket,
            timeout: self.timeout,
        })
    }
}

/// `2s`, `500ms`, `1.5s`, `1m`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 2s or 500ms"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" | "" => number,
        "m" => number * 60.0,
        _ => return Err(format!("{text:?}: the unit is ms, s or m")),
    };
    std::time::Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The check's id, as `list` shows it
    pub id: String,

    #[command(flatten)]
    pub catalog: CatalogArgs,
}

#[derive(Args, Debug)]
pub struct FactsArgs {
    #[command(flatten)]
    pub host: HostArgs,

    #[command(flatten)]
    pub runtime: RuntimeArgs,

    #[command(flatten)]
    pub catalog: CatalogArgs,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Junit,
    Markdown,
    // The text exposition format, for node_exporter's textfile collector.
    Prometheus,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
    Markdown,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    ControlPlane,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ControlPlane => "control-plane",
            Role::Worker => "worker",
        }
    }
}

/// An invocation that cannot run: exit code 2, nothing checked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Which checks `--ignore` keeps out of the exit code.
#[derive(Clone, Debug)]
pub enum Ignore {
    None,
    All,
    Ids(Vec<String>),
}

impl Ignore {
    pub fn contains(&self, id: &str) -> bool {
        match self {
            Ignore::None => false,
            Ignore::All => true,
            Ignore::Ids(ids) => ids.iter().any(|i| i == id),
        }
    }
}

/// A `check` invocation, validated: everything the run needs, nothing left to parse.
pub struct CheckConfig {
    pub root: Option<PathBuf>,
    pub catalog: Catalog,
    /// Indexes into `catalog.rules` of the checks to run, in catalog order.
    pub selected: Vec<usize>,
    pub target: Target,
    pub format: Format,
    pub output_file: Option<PathBuf>,
    pub ignore: Ignore,
    pub fail_on: Severity,
    pub color: bool,
    pub runtime: crate::facts::RuntimeOptions,
    /// `--bundle`: bundles to check instead of a host.
    pub bundles: Vec<PathBuf>,
    /// Whether --only/--skip chose the checks (with a bundle, the manifest's choice is the
    /// default).
    pub selection_given: bool,
    /// Whether --kubernetes-version was given (with a bundle, the manifest's is the default).
    pub kubernetes_version_given: bool,
    /// The host's kernel files, when a thread started reading them before the catalog was
    /// parsed (`commands::kernel_prefetch`).
    pub kernel_prefetch: Option<crate::facts::kernel::Prefetch>,
}

impl CheckConfig {
    pub fn options(&self) -> crate::facts::Options {
        crate::facts::Options {
            target: self.target.clone(),
            runtime: self.runtime.clone(),
            kernel_prefetch: self.kernel_prefetch.clone(),
        }
    }

    pub fn selected_rules(&self) -> Vec<&Rule> {
        self.selected
            .iter()
            .map(|&i| &self.catalog.rules[i])
            .collect()
    }
}

impl CheckArgs {
    pub fn validate(self) -> Result<CheckConfig, UsageError> {
        let color = self.output == Format::Table
            && self.output_file.is_none()
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let mut config = CheckConfig::new(
            &self.host,
            &self.catalog,
            &self.target,
            &self.selection,
            &self.fail_on,
            &self.runtime,
        )?;
        config.ignore = validate_ignore(&self.ignore, &config.catalog)?;
        config.format = self.output;
        config.output_file = self.output_file;
        config.color = color;
        config.bundles = self.bundle;
        Ok(config)
    }
}

impl FixArgs {
    /// The configuration of the `check` run that `fix` makes (a table, nothing ignored).
    pub fn validate(self) -> Result<CheckConfig, UsageError> {
        if self.bundle.len() > 1 {
            return Err(UsageError(format!(
                "fix --bundle takes one bundle, not {}: the script is for the node the bundle came from (run fix once per bundle)",
                self.bundle.len()
            )));
        }
        let mut config = CheckConfig::new(
            &self.host,
            &self.catalog,
            &self.target,
            &self.selection,
            &self.fail_on,
            &self.runtime,
        )?;
        config.bundles = self.bundle;
        Ok(config)
    }
}

impl CheckConfig {
    /// The options `check` and `fix` share, validated; the report options take their
    /// defaults (table, standard output, no colour, nothing ignored).
    pub fn new(
        host: &HostArgs,
        catalog: &CatalogArgs,
        target: &TargetArgs,
        selection: &SelectionArgs,
        fail_on: &FailOnArgs,
        runtime: &RuntimeArgs,
    ) -> Result<CheckConfig, UsageError> {
        let root = validate_root(host)?;
        let catalog = load_catalog(catalog)?;
        let target_args_version_given = target.kubernetes_version.is_some();
        let target = validate_target(target, &catalog)?;
        let selected = selection.select(&catalog)?;
        let runtime = runtime.validate()?;
        Ok(CheckConfig {
            root,
            catalog,
            selected,
            target,
            format: Format::Table,
            output_file: None,
            ignore: Ignore::None,
            fail_on: match fail_on.fail_on {
                FailOn::Error => Severity::Error,
                FailOn::Warning => Severity::Warning,
            },
            color: false,
            runtime,
            bundles: Vec::new(),
            selection_given: selection.is_given(),
            kubernetes_version_given: target_args_version_given,
            kernel_prefetch: None,
        })
    }
}

pub fn validate_root(args: &HostArgs) -> Result<Option<PathBuf>, UsageError> {
    match &args.root {
        Some(dir) if !dir.is_dir() => Err(UsageError(format!(
            "--root {}: not a directory",
            dir.display()
        ))),
        other => Ok(other.clone()),
    }
}

pub fn load_catalog(args: &CatalogArgs) -> Result<Catalog, UsageError> {
    let extra = match &args.checks {
        Some(dir) => rules::read_checks_dir(dir).map_err(|e| UsageError(e.to_string()))?,
        None => Vec::new(),
    };
    Catalog::load(&extra).map_err(|e| UsageError(format!("invalid checks:\n{e}")))
}

pub fn validate_target(args: &TargetArgs, catalog: &Catalog) -> Result<Target, UsageError> {
    let (kubernetes_version, source) = match &args.kubernetes_version {
        Some(v) => (
            v.parse::<Version>()
                .map_err(|e| UsageError(format!("--kubernetes-version: {e}")))?,
            "--kubernetes-version".to_string(),
        ),
        None => (
            catalog.newest_kubernetes(),
            "default: the newest version the catalog knows".to_string(),
        ),
    };
    Ok(Target {
        kubernetes_version,
        kubernetes_version_source: source,
        role: args.role,
    })
}

fn globs(flag: &str, patterns: &[String]) -> Result<Option<GlobSet>, UsageError> {
    let patterns: Vec<&String> = patterns.iter().filter(|p| !p.trim().is_empty()).collect();
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p.trim()).map_err(|e| UsageError(format!("{flag} {p}: {e}")))?;
        builder.add(glob);
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| UsageError(format!("{flag}: {e}")))
}

fn validate_ignore(ids: &[String], catalog: &Catalog) -> Result<Ignore, UsageError> {
    let ids: Vec<String> = ids
        .iter()
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .collect();
    if ids.is_empty() {
        return Ok(Ignore::None);
    }
    if ids.iter().any(|i| i.eq_ignore_ascii_case("all")) {
        return Ok(Ignore::All);
    }
    let unknown: Vec<&str> = ids
        .iter()
        .filter(|i| catalog.get(i).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(UsageError(format!(
            "--ignore: no check has the id {} (`node-preflight list` shows the ids)",
            unknown.join(", ")
        )));
    }
    Ok(Ignore::Ids(ids))
}
