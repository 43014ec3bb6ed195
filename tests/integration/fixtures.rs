//! Fixture hosts (testdata/hosts/) and hosts built from the real-world corpus: the verdict of
//! each check, and the file and line each message names.

use crate::util::*;

#[test]
fn a_healthy_cgroup_v2_systemd_host_passes_everything() {
    let root = fixture("healthy-v2-systemd");
    let (run, report) = json_report(&[
        "--root",
        &root,
        "--role",
        "control-plane",
        "--kubernetes-version",
        "1.35",
        "--skip",
        SOCKET_CHECKS,
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for status in ["fail", "warn", "error"] {
        assert_eq!(report["summary"][status], 0, "{status}: {}", run.stdout);
    }
    // The central rule: the kubelet's driver (its config) equals the runtime's (containerd's
    // config, as no socket answers here), each named with its file and line.
    assert_eq!(
        message(&report, "kubelet.cgroup-driver.runtime"),
        "kubelet.cgroup_driver = systemd (/var/lib/kubelet/config.yaml:3); runtime.cgroup_driver = systemd \
         (/etc/containerd/config.toml:13, SystemdCgroup = true in \
         [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options])"
    );
    assert_eq!(status_of(&report, "runtime.oci-runtime"), "pass");
    assert_eq!(status_of(&report, "cni.plugins"), "pass");
    assert_eq!(status_of(&report, "cni.config"), "pass");
    assert_eq!(
        message(&report, "sysctl.ip-forward.persistent"),
        "sysctl.persisted.net.ipv4.ip_forward = 1 (/etc/sysctl.d/k8s.conf:3)"
    );
    assert_eq!(
        message(&report, "kernel.br-netfilter.persistent"),
        "module.br_netfilter.persisted = true (/etc/modules-load.d/k8s.conf:2)"
    );
    assert_eq!(
        message(&report, "cgroups.driver.recommended"),
        "cgroup.recommended_driver = systemd (systemd is the init system)"
    );
}

#[test]
fn built_in_modules_without_module_support_are_not_missing() {
    let root = fixture("builtin-no-modules");
    let (_, report) = json_report(&["--root", &root]);
    assert_eq!(status_of(&report, "kernel.overlay"), "pass");
    assert_eq!(status_of(&report, "kernel.br-netfilter"), "pass");
    // Built in, so there is nothing to load at boot.
    assert_eq!(status_of(&report, "kernel.overlay.persistent"), "skip");
    assert_eq!(status_of(&report, "kernel.br-netfilter.persistent"), "skip");
    assert!(
        message(&report, "kernel.br-netfilter")
            .contains("/proc/sys/net/bridge, exists while br_netfilter is not loaded"),
        "{}",
        message(&report, "kernel.br-netfilter")
    );
    // The kernel config is read from /proc/config.gz (gzip).
    assert_eq!(status_of(&report, "kernel.config.required"), "pass");
    assert_eq!(
        check_of(&report, "kernel.config.required")["evidence"][0]["source"],
        "/proc/config.gz"
    );
    assert!(message(&report, "cgroups.driver.recommended")
        .starts_with("cgroup.recommended_driver = cgroupfs"));
}

#[test]
fn the_dev_vm_capture_hybrid_and_builtin_is_read_right() {
    // The real /proc/mounts and /proc/cgroups of a VM whose kernel builds overlay and
    // br_netfilter in and has no /proc/modules.
    let host = HostBuilder::from_fixture("builtin-no-modules")
        .corpus_file(
            "/proc/mounts",
            "proc-mounts/vm-hybrid-builtin-modules.mounts",
        )
        .corpus_file(
            "/proc/cgroups",
            "proc-mounts/vm-hybrid-builtin-modules.proc-cgroups",
        );
    let (_, report) = json_report(&["--root", &host.root_arg(), "--kubernetes-version", "1.31"]);
    assert_eq!(status_of(&report, "kernel.overlay"), "pass");
    assert_eq!(status_of(&report, "kernel.br-netfilter"), "pass");
    assert_eq!(status_of(&report, "cgroups.controllers"), "pass");
    assert_eq!(status_of(&report, "cgroups.v2"), "warn");
    assert!(message(&report, "cgroups.v2").starts_with("cgroup.mode = hybrid (/proc/mounts:"));
}

#[test]
fn a_later_file_resetting_a_sysctl_fails_naming_both_files() {
    let root = fixture("sysctl-reset-after-reboot");
    let (run, report) = json_report(&["--root", &root]);
    assert_eq!(run.code, 1);
    assert_eq!(
        status_of(&report, "sysctl.ip-forward"),
        "pass",
        "live value is 1"
    );
    assert_eq!(status_of(&report, "sysctl.ip-forward.persistent"), "fail");
    assert_eq!(
        message(&report, "sysctl.ip-forward.persistent"),
        "sysctl.persisted.net.ipv4.ip_forward = 0 (/etc/sysctl.d/99-sysctl.conf:5, overrides 1 set at \
         /etc/sysctl.d/99-kubernetes-cri.conf:2); expected 1"
    );
}

#[test]
fn a_same_named_etc_file_shadows_the_vendor_file_and_dev_null_masks() {
    let root = fixture("sysctl-shadowed");
    let (_, report) = json_report(&["--root", &root, "--kubernetes-version", "1.29"]);
    // /etc/sysctl.d/60-k8s.conf replaces /usr/lib/sysctl.d/60-k8s.conf entirely.
    assert_eq!(
        message(&report, "sysctl.ip-forward.persistent"),
        "sysctl.persisted.net.ipv4.ip_forward = 0 (/etc/sysctl.d/60-k8s.conf:2); expected 1"
    );
    // The vendor's 60-k8s.conf no longer sets bridge-nf-call-iptables: the kernel default.
    assert_eq!(
        status_of(&report, "sysctl.bridge-nf-call-iptables.persistent"),
        "pass"
    );
    assert!(
        message(&report, "sysctl.bridge-nf-call-iptables.persistent").contains("kernel default")
    );
    // 70-bridge6.conf is masked by a link to /dev/null, so 10-vendor.conf (slash syntax) wins.
    assert_eq!(
        status_of(&report, "sysctl.bridge-nf-call-ip6tables.persistent"),
        "fail"
    );
    assert!(message(&report, "sysctl.bridge-nf-call-ip6tables.persistent")
        .starts_with("sysctl.persisted.net.bridge.bridge-nf-call-ip6tables = 0 (/usr/lib/sysctl.d/10-vendor.conf:1)"));
}

#[test]
fn bridge_sysctl_severity_follows_the_kubernetes_version() {
    let root = fixture("sysctl-shadowed");
    let (_, old) = json_report(&["--root", &root, "--kubernetes-version", "1.29"]);
    let (_, new) = json_report(&["--root", &root, "--kubernetes-version", "1.30"]);
    let id = "sysctl.bridge-nf-call-ip6tables.persistent";
    assert_eq!(status_of(&old, id), "fail");
    assert_eq!(status_of(&new, id), "warn");
    assert_eq!(
        check_of(&new, id)["severity_reason"],
        "kubeadm 1.30 dropped this preflight error because some network plugins do not need it"
    );
    assert!(message(&new, id).ends_with(
        "(warning for Kubernetes 1.30: kubeadm 1.30 dropped this preflight error because some network plugins do not need it)"
    ));
}

#[test]
fn cgroup_v1_is_fine_before_1_31_a_warning_from_1_31_and_an_error_from_1_35() {
    let root = fixture("cgroup-v1");
    let statuses: Vec<String> = ["1.30", "1.31", "1.34", "1.35"]
        .iter()
        .map(|v| {
            status_of(
                &json_report(&["--root", &root, "--kubernetes-version", v]).1,
                "cgroups.v2",
            )
        })
        .collect();
    assert_eq!(statuses, ["skip", "warn", "warn", "fail"]);
    let (_, report) = json_report(&["--root", &root]);
    assert_eq!(
        report["target"]["kubernetes_version_source"],
        "default: the newest version the catalog knows"
    );
    assert_eq!(status_of(&report, "cgroups.controllers"), "pass");
}

#[test]
fn swap_on_is_a_warning_that_fails_only_with_fail_on_warning() {
    let root = fixture("swap-on");
    let (run, report) = json_report(&["--root", &root, "--skip", SOCKET_CHECKS]);
    assert_eq!(status_of(&report, "node.swap"), "warn");
    assert_eq!(run.code, 0);
    let (run, _) = json_report(&[
        "--root",
        &root,
        "--skip",
        SOCKET_CHECKS,
        "--fail-on",
        "warning",
    ]);
    assert_eq!(run.code, 1);
    let (run, report) = json_report(&[
        "--root",
        &root,
        "--skip",
        SOCKET_CHECKS,
        "--fail-on",
        "warning",
        "--ignore",
        "node.swap",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(check_of(&report, "node.swap")["ignored"], true);
    assert_eq!(report["summary"]["ignored"], 1);
}

#[test]
fn a_small_machine_cannot_be_a_control_plane_but_can_be_a_worker() {
    let root = fixture("control-plane-small");
    let (run, report) = json_report(&["--root", &root, "--role", "control-plane"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        message(&report, "node.cpus"),
        "cpu.count = 1 (/proc/cpuinfo); expected at least 2"
    );
    assert_eq!(
        message(&report, "node.memory"),
        "memory.total_mb = 991 (/proc/meminfo:1); expected at least 1700"
    );
    let (run, report) = json_report(&["--root", &root, "--skip", SOCKET_CHECKS]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(status_of(&report, "node.cpus"), "skip");
    assert!(
        message(&report, "node.cpus").starts_with("not applicable: target.role = worker (--role)")
    );
}

#[test]
fn malformed_and_unreadable_files_are_errors_naming_path_and_reason() {
    let root = fixture("broken-files");
    let (run, report) = json_report(&["--root", &root, "--role", "control-plane"]);
    assert_eq!(run.code, 1);
    let expect_error = |id: &str, needle: &str| {
        assert_eq!(status_of(&report, id), "error", "{id}");
        let m = message(&report, id);
        assert!(m.contains(needle), "{id}: {m:?} lacks {needle:?}");
    };
    expect_error(
        "kernel.overlay",
        "/proc/modules:1: not a \"name size refcount deps state\" line: \"overlay 151552 zero - Live\"",
    );
    // Unknown whether loaded, so /proc/sys/net/bridge proves nothing: an error, not a pass.
    expect_error("kernel.br-netfilter", "/proc/modules:1");
    expect_error(
        "kernel.config.required",
        "/proc/config.gz: not a valid gzip file",
    );
    expect_error(
        "sysctl.ip-forward",
        "/proc/sys/net/ipv4/ip_forward: is a directory, not a regular file",
    );
    expect_error(
        "sysctl.ip-forward.persistent",
        "/etc/sysctl.d/k8s.conf: not valid UTF-8 text",
    );
    expect_error(
        "cgroups.controllers",
        "/proc/cgroups:2: not a \"subsys_name hierarchy num_cgroups enabled\" line",
    );
    expect_error("node.memory", "/proc/meminfo: no MemTotal line");
    assert_eq!(
        message(&report, "node.hostname"),
        "host.hostname_valid = false (/proc/sys/kernel/hostname, \"Node_1\" is not a lowercase RFC 1123 name); expected true"
    );
    // The other checks still ran.
    assert_eq!(status_of(&report, "node.swap"), "pass");
    assert_eq!(status_of(&report, "node.cpus"), "pass");
}

#[test]
fn kubernetes_docs_files_from_the_corpus_persist_the_settings() {
    // The current docs' k8s.conf sets only ip_forward; the 2020 docs' file sets all three,
    // and systemd's own 50-default.conf (with a `-key` line) sits in /usr/lib/sysctl.d.
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .remove("/etc/sysctl.d/k8s.conf")
        .remove("/etc/modules-load.d/k8s.conf")
        .corpus_file(
            "/etc/sysctl.d/k8s.conf",
            "sysctl.d/k8s-docs-current-k8s.conf",
        )
        .corpus_file(
            "/usr/lib/sysctl.d/50-default.conf",
            "sysctl.d/systemd-50-default.conf",
        )
        .corpus_file(
            "/etc/modules-load.d/containerd.conf",
            "modules-load.d/k8s-docs-2020-containerd.conf",
        );
    let (_, report) = json_report(&["--root", &host.root_arg()]);
    assert_eq!(
        message(&report, "sysctl.ip-forward.persistent"),
        "sysctl.persisted.net.ipv4.ip_forward = 1 (/etc/sysctl.d/k8s.conf:1)"
    );
    assert!(
        message(&report, "sysctl.bridge-nf-call-iptables.persistent").contains("kernel default")
    );
    assert_eq!(
        message(&report, "kernel.overlay.persistent"),
        "module.overlay.persisted = true (/etc/modules-load.d/containerd.conf:1)"
    );

    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .remove("/etc/sysctl.d/k8s.conf")
        .corpus_file(
            "/etc/sysctl.d/99-kubernetes-cri.conf",
            "sysctl.d/k8s-docs-2020-99-kubernetes-cri.conf",
        );
    let (_, report) = json_report(&["--root", &host.root_arg()]);
    assert_eq!(
        message(&report, "sysctl.bridge-nf-call-ip6tables.persistent"),
        "sysctl.persisted.net.bridge.bridge-nf-call-ip6tables = 1 (/etc/sysctl.d/99-kubernetes-cri.conf:3)"
    );
}

#[test]
fn real_proc_captures_from_the_corpus() {
    // cgroup v2 host mountinfo only (no /proc/mounts): read through /proc/self/mountinfo.
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .remove("/proc/mounts")
        .corpus_file(
            "/proc/self/mountinfo",
            "proc-mounts/jamescun-procfs-host-cgroupv2.mountinfo",
        );
    let (_, report) = json_report(&["--root", &host.root_arg()]);
    assert_eq!(status_of(&report, "cgroups.v2"), "pass");
    assert!(message(&report, "cgroups.v2").starts_with("cgroup.mode = v2 (/proc/self/mountinfo:7"));

    // A cgroup v1 host: the node_exporter capture of /proc/cgroups.
    let host = HostBuilder::from_fixture("cgroup-v1")
        .corpus_file(
            "/proc/mounts",
            "proc-mounts/datadog-self-reader-cgroupv1.mounts",
        )
        .corpus_file("/proc/cgroups", "proc-mounts/node_exporter-proc-cgroups");
    let (_, report) = json_report(&["--root", &host.root_arg()]);
    assert_eq!(status_of(&report, "cgroups.v2"), "fail");
    assert_eq!(status_of(&report, "cgroups.controllers"), "pass");

    // Real /proc/modules lines without overlay or br_netfilter: not loaded, and nothing says
    // built in, so both fail with the evidence named.
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .corpus_file("/proc/modules", "proc-modules/jamescun-procfs-proc-modules")
        .remove("/proc/sys/net/bridge");
    let (_, report) = json_report(&["--root", &host.root_arg(), "--only", "kernel.*"]);
    assert_eq!(status_of(&report, "kernel.overlay"), "fail");
    assert_eq!(
        message(&report, "kernel.overlay"),
        "module.overlay.available = false (not loaded (/proc/modules) and not built in \
         (/boot/config-6.8.0-45-generic, CONFIG_OVERLAY_FS=m)); expected true"
    );
}

#[test]
fn a_missing_runc_missing_cni_plugins_and_no_network_config_are_named() {
    let host = HostBuilder::from_fixture("healthy-v2-systemd")
        .remove("/usr/bin/runc")
        .remove("/opt/cni/bin/portmap")
        .remove("/opt/cni/bin/loopback")
        .remove("/etc/cni/net.d/10-bridge.conflist");
    let (_, report) = json_report(&["--root", &host.root_arg(), "--only", "runtime.*,cni.*"]);
    assert_eq!(status_of(&report, "runtime.oci-runtime"), "fail");
    assert!(
        message(&report, "runtime.oci-runtime")
            .contains("runc is in none of /usr/local/sbin/runc, "),
        "{}",
        message(&report, "runtime.oci-runtime")
    );
    assert_eq!(status_of(&report, "cni.plugins"), "warn");
    assert_eq!(
        message(&report, "cni.plugins"),
        "cni.missing_plugins = loopback, portmap (looked in /opt/cni/bin); expected (none)"
    );
    assert_eq!(status_of(&report, "cni.config"), "warn");
    assert_eq!(
        message(&report, "cni.config"),
        "cni.configs = (none) (/etc/cni/net.d); expected other than (none)"
    );
}

#[test]
fn a_kubelet_and_runtime_driver_mismatch_names_both_files() {
    let host = HostBuilder::from_fixture("healthy-v2-systemd").file(
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\n",
    );
    let (run, report) = json_report(&[
        "--root",
        &host.root_arg(),
        "--only",
        "kubelet.cgroup-driver.*",
    ]);
    assert_eq!(run.code, 1);
    assert!(message(&report, "kubelet.cgroup-driver.runtime").starts_with(
        "kubelet.cgroup_driver = cgroupfs (/var/lib/kubelet/config.yaml:3); runtime.cgroup_driver = systemd \
         (/etc/containerd/config.toml:13"
    ));
    assert_eq!(
        message(&report, "kubelet.cgroup-driver.recommended"),
        "kubelet.cgroup_driver = cgroupfs (/var/lib/kubelet/config.yaml:3); cgroup.recommended_driver = systemd \
         (systemd is the init system); expected the same as cgroup.recommended_driver"
    );
}
