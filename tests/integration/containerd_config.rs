//! containerd's configuration read as containerd reads it: the real configs of the corpus,
//! imports (globs, relative paths, recursion, cycles), 1.x replace vs 2.x deep merge, and
//! broken inputs. Each test asserts check statuses and that messages name file and line.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::util::{corpus, json_report, message, node_preflight, status_of, HostBuilder};

const CONFIG: &str = "/etc/containerd/config.toml";

/// A host where systemd is PID 1, so the recommended cgroup driver is `systemd`.
fn systemd_host() -> HostBuilder {
    HostBuilder::new()
        .file("/proc/1/comm", "systemd\n")
        .dir("/run/systemd/system")
}

/// The 1-based line of the first line of a corpus file containing `needle`.
fn corpus_line(rel: &str, needle: &str) -> usize {
    let text = fs::read_to_string(corpus(rel)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {rel}"))
        + 1
}

fn check(host: &HostBuilder, version: &str) -> Value {
    let root = host.root_arg();
    let (_, report) = json_report(&[
        "--root",
        root.as_str(),
        "--only",
        "containerd.*",
        "--kubernetes-version",
        version,
    ]);
    report
}

/// Every gathered fact, by name.
fn facts(host: &HostBuilder) -> Value {
    let run = node_preflight(&["facts", "--root", &host.root_arg()]);
    let value: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("facts is not JSON ({e}): {}\n{}", run.stdout, run.stderr));
    value["facts"].clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn docker_containerd_io_package_config_disables_cri() {
    let rel = "containerd/containerd.io-package-config.toml";
    let host = systemd_host().corpus_file(CONFIG, rel);
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.cri-enabled"), "fail");
    let line = corpus_line(rel, "disabled_plugins");
    let msg = message(&report, "containerd.cri-enabled");
    assert!(msg.contains(&format!("{CONFIG}:{line}")), "{msg}");
    assert!(
        msg.contains(r#"disabled_plugins lists \"cri\""#)
            || msg.contains("disabled_plugins lists \"cri\""),
        "{msg}"
    );
    // No version key: config version 1, short plugin names.
    let f = facts(&host);
    assert_eq!(f["containerd.config.version"]["value"], 1);
    assert_eq!(status_of(&report, "containerd.config.valid"), "pass");
}

#[test]
fn debian_default_config_uses_cgroupfs() {
    let rel = "containerd/debian-containerd-1.6.20-config-default.toml";
    let host = systemd_host().corpus_file(CONFIG, rel);
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.cri-enabled"), "pass");
    assert_eq!(status_of(&report, "containerd.cgroup-driver"), "fail");
    let line = corpus_line(rel, "SystemdCgroup = false");
    let msg = message(&report, "containerd.cgroup-driver");
    assert!(msg.contains("containerd.cgroup_driver = cgroupfs"), "{msg}");
    assert!(msg.contains(&format!("{CONFIG}:{line}")), "{msg}");
    // pause:3.6 against kubeadm 1.33's pause:3.10: a warning naming the line.
    assert_eq!(status_of(&report, "containerd.sandbox-image"), "warn");
    let line = corpus_line(rel, "sandbox_image");
    let msg = message(&report, "containerd.sandbox-image");
    assert!(msg.contains(&format!("{CONFIG}:{line}")), "{msg}");
    assert!(msg.contains("registry.k8s.io/pause:3.10"), "{msg}");
    let f = facts(&host);
    assert_eq!(f["containerd.config.version"]["value"], 2);
    assert_eq!(
        strings(&f["containerd.cni_bin_dir"]["value"]),
        vec!["/opt/cni/bin"]
    );
}

#[test]
fn kind_node_config_passes_for_its_kubernetes_version() {
    let rel = "containerd/kind-node-config-v2.toml";
    let host = systemd_host().corpus_file(CONFIG, rel);
    let report = check(&host, "1.32");
    for id in [
        "containerd.config.valid",
        "containerd.cri-enabled",
        "containerd.cgroup-driver",
        "containerd.sandbox-image",
    ] {
        assert_eq!(
            status_of(&report, id),
            "pass",
            "{id}: {}",
            message(&report, id)
        );
    }
    let msg = message(&report, "containerd.cgroup-driver");
    let line = corpus_line(rel, "SystemdCgroup = true");
    assert!(msg.contains(&format!("{CONFIG}:{line}")), "{msg}");
    // kubeadm 1.35 expects pause:3.10.1: the same file now warns.
    let report = check(&host, "1.35");
    assert_eq!(status_of(&report, "containerd.sandbox-image"), "warn");
    assert!(message(&report, "containerd.sandbox-image").contains("pause:3.10.1"));
}

#[test]
fn version_3_layout_is_read_from_the_cri_runtime_and_images_plugins() {
    let rel = "containerd/containerd-2.x-cri-plugins-default-v3.toml";
    let host = systemd_host().corpus_file(CONFIG, rel);
    let f = facts(&host);
    assert_eq!(f["containerd.config.version"]["value"], 3);
    assert_eq!(
        f["containerd.sandbox_image"]["value"],
        "registry.k8s.io/pause:3.10.2"
    );
    assert_eq!(
        f["containerd.sandbox_image"]["line"],
        corpus_line(rel, "sandbox = ") as u64
    );
    assert_eq!(
        f["containerd.runtime_type"]["value"],
        "io.containerd.runc.v2"
    );
    assert_eq!(
        f["containerd.cni_bin_dir"]["line"],
        corpus_line(rel, "bin_dirs =") as u64
    );
    // SystemdCgroup is not in the file: containerd's default, false.
    assert_eq!(f["containerd.cgroup_driver"]["value"], "cgroupfs");
    assert_eq!(
        f["containerd.cgroup_driver"]["source"],
        "containerd default"
    );
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.cgroup-driver"), "fail");
    assert!(message(&report, "containerd.cgroup-driver").contains("io.containerd.cri.v1.runtime"));
}

#[test]
fn version_4_config_follows_its_imports() {
    let rel = "containerd/containerd-2.3-config-v4-example.toml";
    let host = systemd_host()
        .corpus_file(CONFIG, rel)
        .file(
            "/etc/containerd/runtime_a.toml",
            "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
        )
        // A version 2 drop-in: containerd 2.x migrates it before merging.
        .file(
            "/etc/containerd/runtime_b.toml",
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.10\"\n  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n    runtime_type = \"io.containerd.runc.v2\"\n",
        )
        .file("/etc/containerd/debug.toml", "version = 4\n");
    let f = facts(&host);
    assert_eq!(
        strings(&f["containerd.config_files"]["value"]),
        vec![
            CONFIG,
            "/etc/containerd/runtime_a.toml",
            "/etc/containerd/runtime_b.toml",
            "/etc/containerd/debug.toml"
        ]
    );
    assert_eq!(f["containerd.cgroup_driver"]["value"], "systemd");
    assert_eq!(
        f["containerd.cgroup_driver"]["source"],
        "/etc/containerd/runtime_a.toml"
    );
    assert_eq!(f["containerd.cgroup_driver"]["line"], 3);
    assert_eq!(
        f["containerd.sandbox_image"]["source"],
        "/etc/containerd/runtime_b.toml"
    );
    assert_eq!(f["containerd.sandbox_image"]["line"], 3);
    let report = check(&host, "1.33");
    for id in [
        "containerd.config.valid",
        "containerd.cgroup-driver",
        "containerd.sandbox-image",
    ] {
        assert_eq!(
            status_of(&report, id),
            "pass",
            "{id}: {}",
            message(&report, id)
        );
    }
}

#[test]
fn a_missing_import_stops_containerd() {
    let rel = "containerd/containerd-2.3-config-v4-example.toml";
    // The example imports ./debug.toml, which this host lacks (the glob matches nothing,
    // which is fine).
    let host = systemd_host().corpus_file(CONFIG, rel);
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.config.valid"), "fail");
    let line = corpus_line(rel, "imports =");
    let msg = message(&report, "containerd.config.valid");
    assert!(msg.contains(&format!("{CONFIG}:{line}")), "{msg}");
    assert!(msg.contains("/etc/containerd/debug.toml"), "{msg}");
    assert_eq!(status_of(&report, "containerd.cri-enabled"), "error");
}

#[test]
fn minikube_config_uses_cgroupfs_and_an_old_pause() {
    let rel = "containerd/minikube-kicbase-config-v2.toml";
    let host = systemd_host().corpus_file(CONFIG, rel);
    let report = check(&host, "1.31");
    assert_eq!(status_of(&report, "containerd.cgroup-driver"), "fail");
    assert_eq!(status_of(&report, "containerd.sandbox-image"), "warn");
    let msg = message(&report, "containerd.sandbox-image");
    let line = corpus_line(rel, "sandbox_image");
    assert!(
        msg.contains(&format!("{CONFIG}:{line}")) && msg.contains("pause:3.6"),
        "{msg}"
    );
}

#[test]
fn globs_and_relative_imports_recurse_and_stop_at_cycles() {
    let host = systemd_host()
        .file(
            CONFIG,
            "version = 3\nimports = [\"conf.d/*.toml\"]\n[plugins.'io.containerd.cri.v1.runtime'.cni]\n  conf_dir = \"/root/net.d\"\n",
        )
        .file(
            "/etc/containerd/conf.d/10-a.toml",
            "version = 3\nimports = [\"../nested/deeper.toml\"]\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = \"registry.k8s.io/pause:3.9\"\n",
        )
        .file(
            "/etc/containerd/conf.d/20-b.toml",
            "version = 3\n\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = \"registry.k8s.io/pause:3.10\"\n",
        )
        .file("/etc/containerd/conf.d/notes.txt", "not a toml file")
        // deeper.toml imports the main file again: a cycle containerd stops.
        .file(
            "/etc/containerd/nested/deeper.toml",
            "version = 3\nimports = [\"/etc/containerd/config.toml\"]\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
        );
    let f = facts(&host);
    assert_eq!(
        strings(&f["containerd.config_files"]["value"]),
        vec![
            CONFIG,
            "/etc/containerd/conf.d/10-a.toml",
            "/etc/containerd/conf.d/20-b.toml",
            "/etc/containerd/nested/deeper.toml",
        ]
    );
    // 20-b is merged after 10-a: its value wins, with its line.
    assert_eq!(
        f["containerd.sandbox_image"]["value"],
        "registry.k8s.io/pause:3.10"
    );
    assert_eq!(
        f["containerd.sandbox_image"]["source"],
        "/etc/containerd/conf.d/20-b.toml"
    );
    assert_eq!(f["containerd.sandbox_image"]["line"], 4);
    // Deep merge keeps the main file's conf_dir next to deeper.toml's runc options.
    assert_eq!(f["containerd.cni_conf_dir"]["value"], "/root/net.d");
    assert_eq!(f["containerd.cgroup_driver"]["value"], "systemd");
    assert_eq!(
        f["containerd.cgroup_driver"]["source"],
        "/etc/containerd/nested/deeper.toml"
    );
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.config.valid"), "pass");
    assert_eq!(status_of(&report, "containerd.sandbox-image"), "pass");
}

/// The same two files, as version 2 (containerd 1.x) and version 3 (containerd 2.x).
fn merge_host(version: u32) -> HostBuilder {
    let cri = if version == 2 {
        "io.containerd.grpc.v1.cri"
    } else {
        "io.containerd.cri.v1.runtime"
    };
    systemd_host()
        .file(
            CONFIG,
            format!(
                "version = {version}\nimports = [\"/etc/containerd/conf.d/*.toml\"]\n[plugins.\"{cri}\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n"
            ),
        )
        .file(
            "/etc/containerd/conf.d/cni.toml",
            format!("version = {version}\n[plugins.\"{cri}\".cni]\n  conf_dir = \"/drop/net.d\"\n"),
        )
}

#[test]
fn containerd_1x_replaces_the_plugin_section_an_import_defines() {
    let f = facts(&merge_host(2));
    // conf.d/cni.toml's [plugins."io.containerd.grpc.v1.cri"] replaced the main file's:
    // SystemdCgroup = true is gone.
    assert_eq!(f["containerd.cni_conf_dir"]["value"], "/drop/net.d");
    assert_eq!(f["containerd.cgroup_driver"]["value"], "cgroupfs");
    assert_eq!(
        f["containerd.cgroup_driver"]["source"],
        "containerd default"
    );
    let report = check(&merge_host(2), "1.33");
    assert_eq!(status_of(&report, "containerd.cgroup-driver"), "fail");
}

#[test]
fn containerd_2x_merges_an_import_into_the_plugin_section() {
    let f = facts(&merge_host(3));
    assert_eq!(f["containerd.cni_conf_dir"]["value"], "/drop/net.d");
    assert_eq!(f["containerd.cgroup_driver"]["value"], "systemd");
    assert_eq!(f["containerd.cgroup_driver"]["source"], CONFIG);
    assert_eq!(f["containerd.cgroup_driver"]["line"], 4);
    let report = check(&merge_host(3), "1.33");
    assert_eq!(status_of(&report, "containerd.cgroup-driver"), "pass");
}

#[test]
fn a_missing_config_means_containerd_defaults_and_skipped_checks() {
    let host = systemd_host();
    let f = facts(&host);
    assert_eq!(f["containerd.config.present"]["value"], false);
    assert_eq!(f["containerd.cgroup_driver"]["value"], "cgroupfs");
    assert_eq!(
        f["containerd.cgroup_driver"]["source"],
        "containerd default"
    );
    assert_eq!(f["containerd.cri_enabled"]["value"], true);
    assert_eq!(f["containerd.default_runtime"]["value"], "runc");
    assert_eq!(
        strings(&f["containerd.cni_bin_dir"]["value"]),
        vec!["/opt/cni/bin"]
    );
    assert_eq!(f["containerd.cni_conf_dir"]["value"], "/etc/cni/net.d");
    let report = check(&host, "1.33");
    for id in [
        "containerd.config.valid",
        "containerd.cri-enabled",
        "containerd.cgroup-driver",
    ] {
        assert_eq!(status_of(&report, id), "skip", "{id}");
    }
}

#[test]
fn a_malformed_file_is_reported_with_file_line_and_column() {
    let host = systemd_host().file(
        CONFIG,
        "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"\n  sandbox_image = \"x\"\n",
    );
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.config.valid"), "fail");
    let msg = message(&report, "containerd.config.valid");
    assert!(msg.contains(&format!("{CONFIG}:3")), "{msg}");
    for id in [
        "containerd.cri-enabled",
        "containerd.cgroup-driver",
        "containerd.sandbox-image",
    ] {
        assert_eq!(status_of(&report, id), "error", "{id}");
        let msg = message(&report, id);
        assert!(msg.contains(&format!("{CONFIG}:3:")), "{id}: {msg}");
    }
}

#[test]
fn a_malformed_import_names_the_imported_file() {
    let host = systemd_host()
        .file(CONFIG, "version = 3\nimports = [\"conf.d/*.toml\"]\n")
        .file("/etc/containerd/conf.d/bad.toml", "version = 3\nx = = 1\n");
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.config.valid"), "fail");
    let msg = message(&report, "containerd.config.valid");
    assert!(msg.contains("/etc/containerd/conf.d/bad.toml:2"), "{msg}");
}

#[test]
fn a_directory_in_place_of_the_config_is_an_error_naming_the_path() {
    let host = systemd_host().dir(CONFIG);
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.config.valid"), "error");
    assert!(message(&report, "containerd.config.valid").contains(CONFIG));
    assert_eq!(status_of(&report, "containerd.cri-enabled"), "error");
}

#[test]
fn an_unreadable_config_is_an_error_naming_the_path() {
    let host = systemd_host().file(CONFIG, "version = 2\n");
    let on_disk = host.path().join(CONFIG.trim_start_matches('/'));
    fs::set_permissions(&on_disk, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&on_disk).is_ok() {
        // Root reads anything: the directory test above covers the error path.
        return;
    }
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.config.valid"), "error");
    let msg = message(&report, "containerd.config.valid");
    assert!(
        msg.contains(CONFIG) && msg.contains("permission denied"),
        "{msg}"
    );
}

#[test]
fn a_short_plugin_name_under_version_2_stops_containerd() {
    // The containerd.io file with `version = 2` added: containerd refuses "cri".
    let host = systemd_host().file(CONFIG, "version = 2\ndisabled_plugins = [\"cri\"]\n");
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.config.valid"), "fail");
    let msg = message(&report, "containerd.config.valid");
    assert!(
        msg.contains(&format!("{CONFIG}:2")) && msg.contains("io.containerd.grpc.v1.cri"),
        "{msg}"
    );
}

#[test]
fn a_drop_in_newer_than_the_main_file_stops_containerd_2x() {
    let host = systemd_host()
        .file(
            CONFIG,
            "version = 3\nimports = [\"/etc/containerd/conf.d/*.toml\"]\n",
        )
        .file("/etc/containerd/conf.d/new.toml", "version = 4\n");
    let report = check(&host, "1.33");
    assert_eq!(status_of(&report, "containerd.config.valid"), "fail");
    let msg = message(&report, "containerd.config.valid");
    assert!(msg.contains("/etc/containerd/conf.d/new.toml:1"), "{msg}");
}

#[test]
fn committed_fixture_hosts() {
    let good = crate::util::fixture("containerd-good");
    let (_, report) = json_report(&[
        "--root",
        good.as_str(),
        "--only",
        "containerd.*",
        "--kubernetes-version",
        "1.33",
    ]);
    for id in [
        "containerd.config.valid",
        "containerd.cri-enabled",
        "containerd.cgroup-driver",
        "containerd.sandbox-image",
    ] {
        assert_eq!(
            status_of(&report, id),
            "pass",
            "{id}: {}",
            message(&report, id)
        );
    }
    let bad = crate::util::fixture("containerd-cri-disabled");
    let (run, report) = json_report(&[
        "--root",
        bad.as_str(),
        "--only",
        "containerd.*",
        "--kubernetes-version",
        "1.33",
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(status_of(&report, "containerd.cri-enabled"), "fail");
    assert!(message(&report, "containerd.cri-enabled").contains(&format!("{CONFIG}:3")));
    assert_eq!(status_of(&report, "containerd.cgroup-driver"), "fail");
    assert_eq!(status_of(&report, "containerd.sandbox-image"), "warn");
}
