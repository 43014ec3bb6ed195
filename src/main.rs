use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = node_preflight::cli::Cli::parse();
    match node_preflight::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // Errors can quote untrusted input (a bundle's manifest): nothing in them may
            // reach the terminal as a control sequence.
            let message = node_preflight::report::text::printable(&format!("{err:#}"), true);
            eprintln!("node-preflight: {message}");
            ExitCode::from(2)
        }
    }
}
