//! Writes the generated hosts the benchmarks measure (see `node_preflight::hostgen`).
//!
//! ```text
//! gen-host host OUT [--from DIR] [--busy] [--mounts N] [--modules N] [--sysctl-files N] [--containerd-kib N]
//! gen-host checks OUT_DIR N
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use node_preflight::hostgen::{self, Sizes};

const USAGE: &str = "usage: gen-host host OUT [--from DIR] [--busy] [--mounts N] [--modules N] \
                     [--sysctl-files N] [--containerd-kib N]\n       gen-host checks OUT_DIR N";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("gen-host: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("host") => host(&args[1..]),
        Some("checks") => {
            let [dir, count] = &args[1..] else {
                return Err(USAGE.into());
            };
            hostgen::write_checks(&PathBuf::from(dir), number(count)?)
                .map_err(|e| format!("{dir}: {e}"))
        }
        _ => Err(USAGE.into()),
    }
}

fn host(args: &[String]) -> Result<(), String> {
    let mut out = None;
    let mut from = PathBuf::from(hostgen::BASE_FIXTURE);
    let mut sizes = Sizes::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--from" => from = PathBuf::from(value()?),
            "--busy" => sizes = Sizes::BUSY,
            "--mounts" => sizes.mounts = number(value()?)?,
            "--modules" => sizes.modules = number(value()?)?,
            "--sysctl-files" => sizes.sysctl_files = number(value()?)?,
            "--containerd-kib" => sizes.containerd_kib = number(value()?)?,
            other if !other.starts_with('-') && out.is_none() => out = Some(PathBuf::from(other)),
            _ => return Err(USAGE.into()),
        }
    }
    let out = out.ok_or(USAGE)?;
    hostgen::write_host(&from, &out, &sizes).map_err(|e| format!("{}: {e}", out.display()))
}

fn number(text: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}
