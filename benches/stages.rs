//! The stages of a check run, each on its own, on generated hosts (`cargo bench`): every fact
//! group, the whole gathering, rule evaluation and each report format. Whole runs of the
//! release binary, with the `cat` floor and the budgets, are `scripts/bench`.
//!
//! Hosts: the healthy fixture as it is (`small`) and grown into the busy node of the budget
//! (`busy`: 20,000 mount lines, 4,000 modules, 400 sysctl.d files, ~1 MiB containerd config).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::Parser;
use divan::Bencher;
use node_preflight::cli::{CheckConfig, Cli, Command};
use node_preflight::commands::build_report;
use node_preflight::facts::{self, FactRequest, FactSet};
use node_preflight::host::{FsHost, Host};
use node_preflight::hostgen::{self, Sizes};
use node_preflight::report::{self, Report};
use node_preflight::rules::eval::evaluate_all;
use node_preflight::rules::Catalog;

fn main() {
    divan::main();
}

const HOSTS: &[&str] = &["small", "busy"];

/// The generated hosts, written once per bench process into a temporary directory.
fn host_root(name: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join(hostgen::BASE_FIXTURE);
        hostgen::write_host(&base, &dir.path().join("small"), &Sizes::default())
            .expect("small host");
        hostgen::write_host(&base, &dir.path().join("busy"), &Sizes::BUSY).expect("busy host");
        dir
    });
    dir.path().join(name)
}

fn config(root: &Path) -> CheckConfig {
    let cli = Cli::parse_from([
        "node-preflight",
        "check",
        "--root",
        root.to_str().expect("UTF-8 temporary path"),
    ]);
    match cli.command {
        Some(Command::Check(args)) => args.validate().expect("valid check arguments"),
        _ => unreachable!("check was asked for"),
    }
}

fn request(config: &CheckConfig) -> FactRequest {
    FactRequest::new(Catalog::facts_of(config.selected_rules().iter().copied()))
}

type Group = fn(&dyn Host, &FactRequest) -> FactSet;

fn group(bencher: Bencher, host: &str, gather: Group) {
    let root = host_root(host);
    let request = request(&config(&root));
    bencher.bench(|| {
        let host = FsHost::under(&root);
        gather(&host, &request)
    });
}

mod groups {
    use super::*;

    #[divan::bench(args = HOSTS)]
    fn kernel(b: Bencher, host: &str) {
        let root = host_root(host);
        let config = config(&root);
        let (request, options) = (request(&config), config.options());
        b.bench(|| {
            let host = FsHost::under(&root);
            facts::kernel::gather(&host, &request, &FactSet::default(), &options)
        });
    }

    #[divan::bench(args = HOSTS)]
    fn sysctl(b: Bencher, host: &str) {
        group(b, host, facts::sysctl::gather);
    }

    #[divan::bench(args = HOSTS)]
    fn modules_load(b: Bencher, host: &str) {
        group(b, host, facts::modules_load::gather);
    }

    #[divan::bench(args = HOSTS)]
    fn cgroups(b: Bencher, host: &str) {
        group(b, host, facts::cgroups::gather);
    }

    #[divan::bench(args = HOSTS)]
    fn system(b: Bencher, host: &str) {
        group(b, host, facts::system::gather);
    }

    #[divan::bench(args = HOSTS)]
    fn containerd(b: Bencher, host: &str) {
        group(b, host, facts::containerd::gather);
    }

    #[divan::bench(args = HOSTS)]
    fn crio(b: Bencher, host: &str) {
        group(b, host, facts::crio::gather);
    }

    #[divan::bench(args = HOSTS)]
    fn kubelet(b: Bencher, host: &str) {
        group(b, host, facts::kubelet::gather);
    }

    /// Every group (in parallel), the dependent and late groups and the derived facts.
    #[divan::bench(args = HOSTS)]
    fn all(b: Bencher, host: &str) {
        let root = host_root(host);
        let config = config(&root);
        let request = request(&config);
        let options = config.options();
        b.bench(|| {
            let host = FsHost::under(&root);
            facts::gather(&host, &request, &options)
        });
    }
}

#[divan::bench(args = HOSTS)]
fn rules(b: Bencher, host: &str) {
    let root = host_root(host);
    let config = config(&root);
    let request = request(&config);
    let facts = facts::gather(&FsHost::under(&root), &request, &config.options());
    let rules = config.selected_rules();
    let version = config.target.kubernetes_version;
    b.bench(|| evaluate_all(&rules, &facts, version, &|_| false));
}

fn built_report() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        let root = host_root("small");
        build_report(&FsHost::under(&root), &config(&root))
    })
}

mod reports {
    use super::*;

    #[divan::bench]
    fn table() -> String {
        report::table::render(divan::black_box(built_report()), false)
    }

    #[divan::bench]
    fn json() -> String {
        report::json::render(divan::black_box(built_report()))
    }

    #[divan::bench]
    fn junit() -> String {
        report::junit::render(divan::black_box(built_report()))
    }

    #[divan::bench]
    fn markdown() -> String {
        report::markdown::render(divan::black_box(built_report()))
    }

    #[divan::bench]
    fn prometheus() -> String {
        report::prometheus::render(divan::black_box(built_report()))
    }
}
