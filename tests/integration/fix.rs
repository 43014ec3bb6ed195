//! `fix`: the script is made on a copy of a fixture host, run with `sh` and ROOT=COPY, and
//! `check` then passes the file-based checks that failed; a second run changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::{json_report, node_preflight, status_of, HostBuilder};

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
    let before = statuses(host, args, fixed);
    assert!(
        before.iter().all(|s| s != "pass"),
        "the scenario should start failing: {fixed:?} {before:?}"
    );
    let live_before = statuses(host, args, unchanged);
    let script = fix_script(host, args);
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
    let rest = fix_script(host, args);
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
        .file(&name, format!("{value_line}\n"))
        .file(
            "/etc/containerd/config.toml",
            format!("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"{}\"\n  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n    SystemdCgroup = true\n", image.replace('\\', "\\\\").replace('"', "\\\"")),
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
