use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = node_preflight::cli::Cli::parse();
    match node_preflight::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("node-preflight: {err:#}");
            ExitCode::from(2)
        }
    }
}
