//! The fuzz corpora replayed as ordinary tests: every saved input of every fuzz target
//! (`fuzz/corpus/<target>/`, minimised by `cargo fuzz cmin`) and every input that once made a
//! target fail (`fuzz/regressions/<target>/`) goes through the same entry point the fuzzer
//! calls, on the stable toolchain, without the fuzz crate: once as the fuzzer runs it (the
//! input's fact groups, `Scope::Groups`) and once through the whole chain (every rule, `fix`
//! and every report format, `Scope::Chain`). An entry point panics on any failure (a panic in
//! the tool, a report that does not parse), so returning is the test.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use node_preflight::fuzzing::{self, Scope};

use crate::util::project_root;

/// Runs every file of the target's corpus (and of its regressions, when it has any) through
/// `entry`, and fails naming every input that panicked.
fn replay(target: &str, entry: fn(&[u8], Scope)) {
    let fuzz = project_root().join("fuzz");
    let corpus = inputs(&fuzz.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target} is empty: the fuzzer's saved inputs are missing"
    );
    let regressions = inputs(&fuzz.join("regressions").join(target));
    let mut failed = Vec::new();
    for (path, bytes) in corpus.iter().chain(&regressions) {
        for scope in [Scope::Groups, Scope::Chain] {
            if panic::catch_unwind(AssertUnwindSafe(|| entry(bytes, scope))).is_err() {
                failed.push(format!("{path} ({scope:?})"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs panicked (rerun one with `cargo +nightly fuzz run {target} FILE`): {failed:#?}",
        failed.len(),
        corpus.len() + regressions.len()
    );
}

/// The files of a directory, in name order, with their bytes; none when it does not exist.
fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.expect("a corpus directory lists").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = fs::read(&p).expect("a corpus file reads");
            (p.display().to_string(), bytes)
        })
        .collect();
    files.sort();
    files
}

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), fuzzing::$target);
            }
        )*
    };
}

replay_tests!(
    proc_mounts,
    mountinfo,
    proc_modules,
    proc_cgroups,
    kernel_config,
    kernel_config_gz,
    sysctl_d,
    modules_load_d,
    containerd_config,
    crio_config,
    kubelet_config,
    kubelet_flags,
    daemon_json,
    cri_responses,
    docker_api,
    docker_http,
    bundle_archive,
    bundle_tar,
);

/// Every fuzz target has a corpus here and a replay test above (a target added to
/// `fuzz/fuzz_targets/` without either fails this).
#[test]
fn every_fuzz_target_is_replayed() {
    let fuzz = project_root().join("fuzz");
    let source = fs::read_to_string(file!())
        .or_else(|_| fs::read_to_string(project_root().join(file!())))
        .expect("this test's source reads");
    for target in inputs(&fuzz.join("fuzz_targets")) {
        let name = Path::new(&target.0)
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a target's file name is UTF-8")
            .to_string();
        assert!(
            source.contains(&format!("    {name},\n")),
            "fuzz target {name} has no replay test in tests/integration/fuzz_corpus.rs"
        );
        assert!(
            fuzz.join("corpus").join(&name).is_dir(),
            "fuzz target {name} has no corpus in fuzz/corpus/{name}"
        );
    }
}
