//! node-preflight: is this Linux machine ready to be a Kubernetes node, and if not, why not.
//!
//! The flow of data: [`host`] (the one door to the machine) → [`facts`] (gathered once, in
//! parallel, each with its provenance) → [`rules`] (checks as data, `checks/*.toml`) →
//! results → [`report`] (table, JSON, JUnit).

pub mod bundle;
pub mod cli;
pub mod commands;
pub mod facts;
pub mod fix;
#[doc(hidden)]
pub mod fuzzing;
pub mod host;
pub mod hostgen;
pub mod probe;
pub mod report;
pub mod rules;
pub mod version;

use cli::{Cli, Command};

/// Runs a parsed command line; `Ok` carries the exit code (0 or 1), `Err` means the
/// invocation could not run (exit code 2).
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        None => check(cli.check),
        Some(Command::Check(args)) => check(args),
        Some(Command::List(args)) => commands::list(args),
        Some(Command::Explain(args)) => commands::explain(args),
        Some(Command::Facts(args)) => commands::facts(args),
        Some(Command::Fix(args)) => commands::fix(args.validate()?),
        Some(Command::Collect(args)) => bundle::collect(args),
    }
}

fn check(args: cli::CheckArgs) -> anyhow::Result<u8> {
    // Started before the catalog is parsed, which it needs nothing of.
    let kernel_prefetch = commands::kernel_prefetch(&args);
    let mut config = args.validate()?;
    config.kernel_prefetch = kernel_prefetch;
    commands::check(config)
}
