//! `fix`: the script is made on a copy of a fixture host, run with `sh` and ROOT=COPY, and
//! `check` then passes the file-based checks that failed; a second run changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::{corpus, json_report, node_preflight, project_root, status_of, HostBuilder};

/// Every file and link under a root, with its content or target.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let key = path.strip_prefix(root).unwrap().display().to_string();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                out.insert(key, target.display().to_string().into_bytes());
            } else if meta.is_dir() {
                dirs.push(path);
            } else {
                out.insert(key, fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// `fix --root HOST ARGS`, the script.
fn fix_script(host: &HostBuilder, args: &[&str]) -> String {
    let mut all = vec!["fix", "--root", host.path().to_str().unwrap()];
    all.extend(args);
    let run = node_preflight(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("#!/bin/sh\n"), "{}", run.stdout);
    run.stdout
}

/// Where the script comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// `fix --root HOST`.
    Root,
    /// `collect --root HOST` into a bundle, then `fix --bundle` (the node's own script, made
    /// elsewhere).
    Bundle,
}

/// `collect` from the host, then `fix --bundle`: `--fail-on` goes to `fix`, the rest (the
/// selection and target) to `collect`, which records them for `fix`.
fn bundle_script(host: &HostBuilder, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("node.tar.gz");
    let (mut collect_args, mut fix_args) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < args.len() {
        let to = if args[i] == "--fail-on" {
            &mut fix_args
        } else {
            &mut collect_args
        };
        to.extend_from_slice(&args[i..(i + 2).min(args.len())]);
        i += 2;
    }
    let mut collect = vec![
        "collect",
        "-o",
        bundle.to_str().unwrap(),
        "--root",
        host.path().to_str().unwrap(),
    ];
    collect.extend(collect_args);
    let run = node_preflight(&collect);
    assert_eq!(run.code, 0, "collect: {}", run.stderr);
    let mut fix = vec!["fix", "--bundle", bundle.to_str().unwrap()];
    fix.extend(fix_args);
    let run = node_preflight(&fix);
    assert_eq!(run.code, 0, "fix --bundle: {}", run.stderr);
    assert!(run.stdout.starts_with("#!/bin/sh\n"), "{}", run.stdout);
    run.stdout
}

fn script_from(source: Source, host: &HostBuilder, args: &[&str]) -> String {
    match source {
        Source::Root => fix_script(host, args),
        Source::Bundle => bundle_script(host, args),
    }
}

/// A script without its header comments (which name the host's source and the time).
fn body(script: &str) -> &str {
    let (_, body) = script
        .split_once("\nset -eu\n")
        .unwrap_or_else(|| panic!("no `set -eu` line:\n{script}"));
    body
}

/// The lines of a script that are not comments.
fn commands(script: &str) -> Vec<&str> {
    script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .collect()
}

/// Runs a script with ROOT set to the host; returns its standard output.
fn apply(host: &HostBuilder, script: &str) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    fs::write(file.path(), script).unwrap();
    let out = Command::new("sh")
        .arg(file.path())
        .env("ROOT", host.path())
        .current_dir(host.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the script failed: {}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn statuses(host: &HostBuilder, args: &[&str], ids: &[&str]) -> Vec<String> {
    let mut all = vec!["--root", host.path().to_str().unwrap()];
    all.extend(args);
    let (_, report) = json_report(&all);
    ids.iter().map(|id| status_of(&report, id)).collect()
}

/// Makes and applies the script; asserts that `fixed` went from not passing to passing, that
/// `unchanged` kept their status, and that a second run changes no file.
fn scenario(host: &HostBuilder, args: &[&str], fixed: &[&str], unchanged: &[&str]) -> String {
    scenario_from(Source::Root, host, args, fixed, unchanged)
}

/// [`scenario`] with the script made from `source`.
fn scenario_from(
    source: Source,
    host: &HostBuilder,
    args: &[&str],
    fixed: &[&str],
    unchanged: &[&str],
) -> String {
    let before = statuses(host, args, fixed);
    assert!(
        before.iter().all(|s| s != "pass"),
        "the scenario should start failing: {fixed:?} {before:?}"
    );
    let live_before = statuses(host, args, unchanged);
    let script = script_from(source, host, args);
    let said = apply(host, &script);
    assert!(said.contains("node-preflight fix: changed "), "{said}");
    let after = statuses(host, args, fixed);
    assert!(
        after.iter().all(|s| s == "pass"),
        "{fixed:?} after the fix: {after:?}\n{script}"
    );
    assert_eq!(
        statuses(host, args, unchanged),
        live_before,
        "{unchanged:?}"
    );

    let tree = snapshot(host.path());
    let again = apply(host, &script);
    assert_eq!(again, "", "a second run said something");
    assert_eq!(snapshot(host.path()), tree, "a second run changed files");
    // A script made after the fix has nothing left to do for those checks.
    let rest = script_from(source, host, args);
    for id in fixed {
        assert!(
            !rest.contains(&format!("# === {id}")),
            "{id} again:\n{rest}"
        );
    }
    script
}

#[test]
fn a_sysctl_reset_by_sysctl_conf_is_overridden_by_a_later_drop_in() {
    let host = HostBuilder::from_fixture("sysctl-reset-after-reboot");
    let script = scenario(
        &host,
        &[],
        &["sysctl.ip-forward.persistent"],
        &["sysctl.ip-forward", "cri.endpoint.found"],
    );
    assert!(
        script.contains("# === sysctl.ip-forward.persistent\n"),
        "{script}"
    );
    assert!(script.contains(
        "np_sysctl_set \"$ROOT\"/etc/sysctl.d/zz-node-preflight.conf net.ipv4.ip_forward 1"
    ));
    assert_eq!(
        fs::read_to_string(host.path().join("etc/sysctl.d/zz-node-preflight.conf")).unwrap(),
        "net.ipv4.ip_forward = 1\n"
    );
    // The live part is guarded: sysctl --system only without ROOT.
    assert!(script.contains("if [ -z \"$ROOT\" ]; then\n  sysctl --system\n"));
    // The link to ../sysctl.conf is left alone.
    assert_eq!(
        fs::read_link(host.path().join("etc/sysctl.d/99-sysctl.conf")).unwrap(),
        Path::new("../sysctl.conf")
    );
}

#[test]
fn an_unlinked_sysctl_conf_has_its_line_changed() {
    // Without the 99-sysctl.conf link, `sysctl --system` applies /etc/sysctl.conf last: a
    // drop-in cannot win over it.
    let host = HostBuilder::from_fixture("sysctl-reset-after-reboot")
        .remove("/etc/sysctl.d/99-sysctl.conf");
    let script = scenario(
        &host,
        &[],
        &["sysctl.ip-forward.persistent"],
        &["sysctl.ip-forward"],
    );
    assert!(
        script.contains("np_replace \"$ROOT\"/etc/sysctl.conf 5 net.ipv4.ip_forward=0 'net.ipv4.ip_forward = 1'"),
        "{script}"
    );
    assert!(!host
        .path()
        .join("etc/sysctl.d/zz-node-preflight.conf")
        .exists());
}

#[test]
fn shadowed_sysctls_are_fixed_once_each_with_warnings_at_fail_on_warning() {
    let host = HostBuilder::from_fixture("sysctl-shadowed");
    let script = scenario(
        &host,
        &["--fail-on", "warning"],
        &[
            "sysctl.ip-forward.persistent",
            "sysctl.bridge-nf-call-ip6tables.persistent",
        ],
        &["sysctl.ip-forward"],
    );
    assert_eq!(script.matches("\nnp_sysctl_set ").count(), 2, "{script}");
    // Without --fail-on warning the warning is left alone.
    let host = HostBuilder::from_fixture("sysctl-shadowed");
    let script = fix_script(&host, &[]);
    assert!(!script.contains("bridge-nf-call-ip6tables 1"), "{script}");
}

#[test]
fn containerd_cri_cgroup_driver_and_sandbox_image_are_fixed_in_one_pass() {
    let host = HostBuilder::from_fixture("containerd-cri-disabled");
    let script = scenario(
        &host,
        &["--fail-on", "warning"],
        &[
            "kernel.overlay.persistent",
            "kernel.br-netfilter.persistent",
            "sysctl.ip-forward.persistent",
            "containerd.cri-enabled",
            "containerd.cgroup-driver",
            "containerd.sandbox-image",
        ],
        &[
            "kernel.overlay",
            "kernel.br-netfilter",
            "sysctl.ip-forward",
            "containerd.config.valid",
            "cri.endpoint.found",
        ],
    );
    assert!(script.contains(
        "np_replace \"$ROOT\"/etc/containerd/config.toml 3 'disabled_plugins = [\"cri\"]' 'disabled_plugins = []'"
    ), "{script}");
    assert!(script
        .contains("'[plugins.cri.containerd.runtimes.runc.options]' '  SystemdCgroup = true'"));
    assert!(script.contains("  modprobe overlay\n"));
    assert!(script.contains("  systemctl restart containerd\n"));
    // A check with no automatic remedy is a comment with the catalog's remediation.
    assert!(script.contains("# === runtime.oci-runtime\n"));
    assert!(script.contains("#     apt-get install runc"), "{script}");
    assert_eq!(
        fs::read_to_string(host.path().join("etc/modules-load.d/k8s.conf")).unwrap(),
        "overlay\nbr_netfilter\n"
    );
}

#[test]
fn a_missing_key_goes_under_its_existing_section_header() {
    let host = HostBuilder::from_fixture("healthy-v2-systemd").file(
        "/etc/containerd/config.toml",
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.10.1\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  BinaryName = \"runc\"\n",
    );
    let script = scenario(
        &host,
        &["--fail-on", "warning", "--only", "containerd.*"],
        &["containerd.cgroup-driver", "containerd.sandbox-image"],
        &["containerd.config.valid", "containerd.cri-enabled"],
    );
    assert!(script.contains("np_insert_after "), "{script}");
    assert_eq!(
        fs::read_to_string(host.path().join("etc/containerd/config.toml")).unwrap(),
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.10.2\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n  BinaryName = \"runc\"\n"
    );
}

#[test]
fn crio_gets_a_consistent_drop_in() {
    let host = HostBuilder::from_fixture("crio-bad");
    scenario(
        &host,
        &["--fail-on", "warning"],
        &[
            "crio.cgroup-manager",
            "crio.conmon-cgroup",
            "crio.pause-image",
        ],
        &["crio.config.parses", "kernel.overlay"],
    );
    let drop_in = fs::read_to_string(
        host.path()
            .join("etc/crio/crio.conf.d/99-node-preflight.conf"),
    )
    .unwrap();
    assert!(
        drop_in.contains(
            "[crio.runtime]\ncgroup_manager = \"systemd\"\nconmon_cgroup = \"system.slice\"\n"
        ),
        "{drop_in}"
    );
    assert!(
        drop_in.contains("[crio.image]\npause_image = \"registry.k8s.io/pause:3.10.2\"\n"),
        "{drop_in}"
    );
}

#[test]
fn the_kubelet_driver_line_is_changed_and_swap_leaves_fstab() {
    let host = HostBuilder::from_fixture("kubelet-bad")
        .file(
            "/var/lib/kubelet/config.yaml",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\n",
        )
        .file(
            "/etc/fstab",
            "UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n# /old none swap sw 0 0\n",
        );
    let script = scenario(
        &host,
        &["--kubernetes-version", "1.34"],
        &["kubelet.cgroup-driver.recommended"],
        &["kubelet.swap", "node.swap", "cri.endpoint.reachable"],
    );
    assert!(script.contains("  swapoff -a\n"), "{script}");
    assert_eq!(
        fs::read_to_string(host.path().join("etc/fstab")).unwrap(),
        "UUID=1 / ext4 defaults 0 1\n# /swap.img none swap sw 0 0\n# /old none swap sw 0 0\n"
    );
    assert!(
        fs::read_to_string(host.path().join("var/lib/kubelet/config.yaml"))
            .unwrap()
            .ends_with("\ncgroupDriver: systemd\n")
    );
}

#[test]
fn a_kubelet_config_without_cgroup_driver_gets_the_key() {
    let host = HostBuilder::from_fixture("kubelet-bad").file(
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration",
    );
    scenario(
        &host,
        &["--only", "kubelet.cgroup-driver.*"],
        &["kubelet.cgroup-driver.recommended"],
        &[],
    );
    assert_eq!(
        fs::read_to_string(host.path().join("var/lib/kubelet/config.yaml")).unwrap(),
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n"
    );
}

#[test]
fn a_healthy_host_gets_a_script_without_commands() {
    let host = HostBuilder::from_fixture("healthy-v2-systemd");
    let script = fix_script(&host, &[]);
    let commands: Vec<&str> = script
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#') && *l != "set -eu")
        .collect();
    assert_eq!(commands, Vec::<&str>::new(), "{script}");
    // What fails there needs the live machine (the runtime's socket): comments only.
    assert!(script.contains("# === cri.endpoint.reachable"), "{script}");
    let tree = snapshot(host.path());
    apply(&host, &script);
    assert_eq!(snapshot(host.path()), tree);
}

#[test]
fn hostile_names_and_values_from_the_host_stay_data() {
    // The script runs in the host's directory: an injected `touch pwned` would leave a file.
    let c = "pwned";
    let name = format!("/etc/sysctl.d/zzz-$(touch {c})'x.conf");
    let value_line = format!("net.ipv4.ip_forward = 0 `touch {c}` $(touch {c}) ' \"");
    let image = format!("registry.k8s.io/pause:3.1$(touch {c})'\\\"");
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .file(
            "/proc/sys/kernel/hostname",
            format!("evil\ntouch {c}\n$(touch {c})"),
        )
        .file(&name, format!("{value_line}\n"))
        .file(
            "/etc/containerd/config.toml",
            format!("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"{}\"\n  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n    SystemdCgroup = true\n", image.replace('\\', "\\\\").replace('"', "\\\"")),
        );
    // From a bundle of the host, the same script, values just as quoted.
    assert_eq!(
        body(&bundle_script(&host, &["--fail-on", "warning"])),
        body(&fix_script(&host, &["--fail-on", "warning"]))
    );
    let script = scenario(
        &host,
        &["--fail-on", "warning"],
        &["sysctl.ip-forward.persistent", "containerd.sandbox-image"],
        &["containerd.config.valid"],
    );
    assert!(
        !host.path().join(c).exists(),
        "a value from the host ran a command:\n{script}"
    );
    assert_eq!(
        fs::read_to_string(host.path().join(name.trim_start_matches('/'))).unwrap(),
        "net.ipv4.ip_forward = 1\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Docker's daemon.json.

#[test]
fn docker_gets_the_systemd_cgroup_driver_in_daemon_json() {
    let host = HostBuilder::from_fixture("docker-bad");
    let script = scenario(
        &host,
        &["--only", "docker.*"],
        &["docker.cgroup-driver"],
        &["docker.cri-dockerd"],
    );
    assert!(script.contains(
        "np_splice \"$ROOT\"/etc/docker/daemon.json 4 5 '\"native.cgroupdriver=cgroupfs\"' '\"native.cgroupdriver=systemd\"'"
    ), "{script}");
    // Without cri-dockerd only docker restarts.
    assert!(script.contains("  systemctl restart docker\n"), "{script}");
    assert!(!script.contains("restart cri-docker"), "{script}");
    assert_eq!(
        fs::read_to_string(host.path().join("etc/docker/daemon.json")).unwrap(),
        "{\n  \"log-driver\": \"json-file\",\n  \"exec-opts\": [\n    \"native.cgroupdriver=systemd\"\n  ]\n}\n"
    );
}

#[test]
fn docker_with_cri_dockerd_restarts_both_and_a_daemon_json_without_exec_opts_gets_it() {
    let host = HostBuilder::from_fixture("docker-bad")
        .file(
            "/etc/docker/daemon.json",
            "{\n  \"log-driver\": \"json-file\",\n  \"exec-opts\": [\"native.cgroupdriver=cgroupfs\"]\n}\n",
        )
        .corpus_file("/usr/lib/systemd/system/cri-docker.service", "docker/cri-docker.service");
    let script = scenario(
        &host,
        &["--only", "docker.cgroup-driver"],
        &["docker.cgroup-driver"],
        &[],
    );
    assert!(script.contains("  systemctl restart docker\n"), "{script}");
    assert!(
        script.contains("  systemctl restart cri-docker\n"),
        "{script}"
    );

    // No exec-opts at all, on cgroup v1 (where dockerd's default is cgroupfs), with the
    // systemd driver recommended: the member is added on a line of its own.
    let host = HostBuilder::from_fixture("docker-bad")
        .file(
            "/etc/docker/daemon.json",
            "{\n    \"log-driver\": \"json-file\"\n}\n",
        )
        .file(
            "/proc/mounts",
            "tmpfs /sys/fs/cgroup tmpfs ro 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\ncgroup /sys/fs/cgroup/systemd cgroup rw,name=systemd 0 0\n",
        );
    scenario(
        &host,
        &["--only", "docker.cgroup-driver"],
        &["docker.cgroup-driver"],
        &[],
    );
    assert_eq!(
        fs::read_to_string(host.path().join("etc/docker/daemon.json")).unwrap(),
        "{\n    \"exec-opts\": [\"native.cgroupdriver=systemd\"],\n    \"log-driver\": \"json-file\"\n}\n"
    );
}

#[test]
fn dockers_full_daemon_json_example_keeps_its_other_74_keys() {
    let original = corpus("docker/docker-cli-docs-daemon.json-linux-full-example.json");
    let host = HostBuilder::from_fixture("docker-bad").corpus_file(
        "/etc/docker/daemon.json",
        "docker/docker-cli-docs-daemon.json-linux-full-example.json",
    );
    // The example's exec-opts is empty: dockerd's default on this host (cgroup v2 with
    // systemd) is systemd already. On cgroup v1 it is cgroupfs, and the check fails.
    let host = host.file(
        "/proc/mounts",
        "tmpfs /sys/fs/cgroup tmpfs ro 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\ncgroup /sys/fs/cgroup/systemd cgroup rw,name=systemd 0 0\n",
    );
    let script = scenario(
        &host,
        &["--only", "docker.cgroup-driver"],
        &["docker.cgroup-driver"],
        &[],
    );
    assert!(script.contains("np_splice \"$ROOT\"/etc/docker/daemon.json 51 3 '\"exec-opts\": [' '\"exec-opts\": [\"native.cgroupdriver=systemd\"'"), "{script}");
    let before_text = fs::read_to_string(&original).unwrap();
    let after_text = fs::read_to_string(host.path().join("etc/docker/daemon.json")).unwrap();
    let before: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&before_text).unwrap();
    let after: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&after_text).unwrap();
    assert_eq!(
        after["exec-opts"],
        serde_json::json!(["native.cgroupdriver=systemd"])
    );
    let others: Vec<&String> = before.keys().filter(|k| *k != "exec-opts").collect();
    assert_eq!(others.len(), 74);
    for key in others {
        assert_eq!(after.get(key), before.get(key), "{key}");
    }
    assert_eq!(after.len(), before.len());
    // Byte for byte, only that line changed.
    let changed: Vec<(&str, &str)> = before_text
        .lines()
        .zip(after_text.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        vec![(
            "  \"exec-opts\": [],",
            "  \"exec-opts\": [\"native.cgroupdriver=systemd\"],"
        )]
    );
    assert_eq!(before_text.lines().count(), after_text.lines().count());
}

// ---------------------------------------------------------------------------------------------
// From a bundle.

#[test]
fn a_bundles_script_fixes_the_node_it_came_from() {
    for (fixture, args, fixed, unchanged) in [
        (
            "containerd-cri-disabled",
            &["--fail-on", "warning"][..],
            &[
                "kernel.overlay.persistent",
                "kernel.br-netfilter.persistent",
                "sysctl.ip-forward.persistent",
                "containerd.cri-enabled",
                "containerd.cgroup-driver",
                "containerd.sandbox-image",
            ][..],
            &["containerd.config.valid", "kernel.overlay"][..],
        ),
        (
            "crio-bad",
            &["--fail-on", "warning"],
            &[
                "crio.cgroup-manager",
                "crio.conmon-cgroup",
                "crio.pause-image",
            ],
            &["crio.config.parses"],
        ),
        (
            "sysctl-reset-after-reboot",
            &[],
            &["sysctl.ip-forward.persistent"],
            &["sysctl.ip-forward"],
        ),
        (
            "docker-bad",
            &["--only", "docker.*"],
            &["docker.cgroup-driver"],
            &["docker.cri-dockerd"],
        ),
        (
            "kubelet-bad",
            &["--kubernetes-version", "1.34"],
            &["kubelet.cgroup-driver.recommended"],
            &["node.swap"],
        ),
    ] {
        let mut host = HostBuilder::from_fixture(fixture);
        if fixture == "kubelet-bad" {
            host = host.file(
                "/var/lib/kubelet/config.yaml",
                "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\n",
            );
        }
        let script = scenario_from(Source::Bundle, &host, args, fixed, unchanged);
        // The node's own paths, under the same $ROOT.
        assert!(script.contains("\"$ROOT\"/etc/"), "{fixture}:\n{script}");
        assert!(
            script.lines().nth(1).unwrap().contains("(bundle "),
            "{fixture}:\n{script}"
        );
    }
}

#[test]
fn every_fixture_host_gets_the_same_script_from_its_bundle() {
    let mut names: Vec<String> = fs::read_dir(project_root().join("testdata/hosts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let host = HostBuilder::from_fixture(&name);
        let args = ["--fail-on", "warning"];
        let from_root = fix_script(&host, &args);
        let from_bundle = bundle_script(&host, &args);
        assert_eq!(body(&from_root), body(&from_bundle), "{name}");
    }
}

/// A containerd config with registry credentials: one in a table of its own, one in a comment
/// on the sandbox image's line.
fn host_with_credentials() -> HostBuilder {
    HostBuilder::from_fixture("containerd-good").file(
        "/etc/containerd/config.toml",
        "version = 2\n\
         [plugins.\"io.containerd.grpc.v1.cri\"]\n\
         \x20 sandbox_image = \"registry.k8s.io/pause:3.8\" # was: auth = \"c2VjcmV0LWluLWEtY29tbWVudA==\"\n\
         [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n\
         \x20 SystemdCgroup = false\n\
         [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"r.example\".auth]\n\
         \x20 password = \"hunter2-in-a-table\"\n",
    )
}

#[test]
fn a_bundles_redacted_lines_are_never_written_back() {
    let host = host_with_credentials();
    let args = ["--fail-on", "warning", "--only", "containerd.*"];
    let script = bundle_script(&host, &args);
    // The sandbox image's line holds a redacted value in the bundle: that change is left to
    // the person, and said why.
    assert!(
        script.contains("# Use the sandbox image registry.k8s.io/pause:3.10.2. (/etc/containerd/config.toml:3) Not changed automatically: the bundle holds /etc/containerd/config.toml:3 only with its secrets redacted"),
        "{script}"
    );
    assert!(
        commands(&script).iter().all(|l| !l.contains("REDACTED")),
        "{script}"
    );
    // The cgroup driver's line is fixed; the node's credentials are untouched.
    let said = apply(&host, &script);
    assert!(said.contains("changed"), "{said}");
    let config = fs::read_to_string(host.path().join("etc/containerd/config.toml")).unwrap();
    assert!(config.contains("SystemdCgroup = true"), "{config}");
    assert!(
        config.contains("password = \"hunter2-in-a-table\""),
        "{config}"
    );
    assert!(config.contains("c2VjcmV0LWluLWEtY29tbWVudA=="), "{config}");
    assert!(!config.contains("REDACTED"), "{config}");
    let [driver, image] = &statuses(
        &host,
        &args[2..],
        &["containerd.cgroup-driver", "containerd.sandbox-image"],
    )[..] else {
        unreachable!()
    };
    assert_eq!((driver.as_str(), image.as_str()), ("pass", "warn"));
    // From the directory itself (nothing redacted) the line is changed.
    let script = fix_script(&host, &args);
    assert!(
        script.contains("np_replace \"$ROOT\"/etc/containerd/config.toml 3 "),
        "{script}"
    );
}

#[test]
fn a_one_line_daemon_json_with_a_proxy_password_is_spliced_from_its_bundle() {
    let secret = "pr0xy-s3cret";
    let host = HostBuilder::from_fixture("docker-bad").file(
        "/etc/docker/daemon.json",
        format!("{{\"proxies\":{{\"https-proxy\":\"http://ops:{secret}@proxy.example:3128\"}},\"exec-opts\":[\"native.cgroupdriver=cgroupfs\"]}}"),
    );
    let script = scenario_from(
        Source::Bundle,
        &host,
        &["--only", "docker.cgroup-driver"],
        &["docker.cgroup-driver"],
        &[],
    );
    // The bundle's line is shorter than the node's (the password became REDACTED): the
    // splice finds its text on the node's line.
    assert!(
        script.contains("np_splice \"$ROOT\"/etc/docker/daemon.json 1 "),
        "{script}"
    );
    assert!(!script.contains(secret), "{script}");
    assert_eq!(
        fs::read_to_string(host.path().join("etc/docker/daemon.json")).unwrap(),
        format!("{{\"proxies\":{{\"https-proxy\":\"http://ops:{secret}@proxy.example:3128\"}},\"exec-opts\":[\"native.cgroupdriver=systemd\"]}}\n")
    );
}

#[test]
fn fix_takes_one_bundle_and_refuses_bad_ones_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let two = node_preflight(&["fix", "--bundle", "a.tar.gz", "b.tar.gz"]);
    assert_eq!(two.code, 2, "{}", two.stderr);
    assert!(
        two.stderr.contains("fix --bundle takes one bundle, not 2"),
        "{}",
        two.stderr
    );
    let both = node_preflight(&["fix", "--bundle", "a.tar.gz", "--root", "/"]);
    assert_eq!(both.code, 2);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
    let garbage = dir.path().join("garbage.tar.gz");
    fs::write(&garbage, "not a bundle").unwrap();
    let run = node_preflight(&["fix", "--bundle", garbage.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("garbage.tar.gz: not a gzip file"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let run = node_preflight(&["fix", "--bundle", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read it: Is a directory"),
        "{}",
        run.stderr
    );
}
