//! CRI-O, Docker Engine / cri-dockerd and kubelet configuration, read from fixture hosts and
//! from the real-world corpus files in place.

use std::os::unix::net::UnixListener;

use serde_json::Value;

use crate::util::{fixture, json_report, message, node_preflight, status_of, HostBuilder};

/// A systemd host on cgroup v2 with swap off: the recommended driver is systemd.
fn systemd_v2_host() -> HostBuilder {
    HostBuilder::new()
        .file("/proc/mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n")
        .file("/proc/1/comm", "systemd\n")
        .file("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
        .dir("/run/systemd/system")
}

fn run(root: &str, only: &str) -> Value {
    json_report(&["--root", root, "--only", only]).1
}

/// `node-preflight facts` on a host: one fact's JSON.
fn fact(root: &str, name: &str) -> Value {
    let run = node_preflight(&["facts", "--root", root]);
    let all: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("facts is not JSON ({e}): {}{}", run.stdout, run.stderr));
    all["facts"][name].clone()
}

// ---------------------------------------------------------------- CRI-O

#[test]
fn crio_minikube_config_is_systemd_with_system_slice() {
    let host = systemd_v2_host().corpus_file("/etc/crio/crio.conf", "crio/minikube-iso-crio.conf");
    let report = run(&host.root_arg(), "crio.*");
    assert_eq!(status_of(&report, "crio.config.parses"), "pass");
    assert_eq!(status_of(&report, "crio.cgroup-manager"), "pass");
    assert_eq!(status_of(&report, "crio.conmon-cgroup"), "pass");
    let msg = message(&report, "crio.cgroup-manager");
    assert!(
        msg.contains("crio.cgroup_manager = systemd (/etc/crio/crio.conf:"),
        "{msg}"
    );
    let conmon = fact(&host.root_arg(), "crio.conmon_cgroup");
    assert_eq!(conmon["value"], "system.slice");
    assert_eq!(conmon["source"], "/etc/crio/crio.conf");
    // The line of `conmon_cgroup = "system.slice"` in the minikube file.
    let text = std::fs::read_to_string(crate::util::corpus("crio/minikube-iso-crio.conf")).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("conmon_cgroup ="))
        .unwrap()
        + 1;
    assert_eq!(conmon["line"], line as u64);
    let pause = fact(&host.root_arg(), "crio.pause_image");
    assert_eq!(pause["value"], "registry.k8s.io/pause:3.2");
    assert_eq!(
        fact(&host.root_arg(), "crio.default_runtime")["value"],
        "runc"
    );
    assert_eq!(
        fact(&host.root_arg(), "crio.runtime_path")["value"],
        "/usr/bin/runc"
    );
    assert_eq!(
        fact(&host.root_arg(), "crio.cni_plugin_dirs")["value"][0],
        "/opt/cni/bin/"
    );
}

#[test]
fn crio_docs_drop_in_overrides_to_cgroupfs_and_pod() {
    let host = systemd_v2_host()
        .corpus_file("/etc/crio/crio.conf", "crio/minikube-iso-crio.conf")
        .corpus_file(
            "/etc/crio/crio.conf.d/02-cgroup-manager.conf",
            "crio/k8s-docs-02-cgroup-manager.conf",
        );
    let report = run(&host.root_arg(), "crio.*");
    // cgroupfs on a systemd host: the wrong driver, but conmon_cgroup = "pod" is right for it.
    assert_eq!(status_of(&report, "crio.cgroup-manager"), "fail");
    let msg = message(&report, "crio.cgroup-manager");
    assert!(
        msg.contains(
            "crio.cgroup_manager = cgroupfs (/etc/crio/crio.conf.d/02-cgroup-manager.conf:3)"
        ),
        "{msg}"
    );
    assert_eq!(status_of(&report, "crio.conmon-cgroup"), "pass");
    let msg = message(&report, "crio.conmon-cgroup");
    assert!(
        msg.contains("/etc/crio/crio.conf.d/02-cgroup-manager.conf:2"),
        "{msg}"
    );
}

#[test]
fn crio_commented_out_drop_in_changes_nothing() {
    let host = systemd_v2_host()
        .corpus_file("/etc/crio/crio.conf", "crio/minikube-iso-crio.conf")
        .corpus_file(
            "/etc/crio/crio.conf.d/02-crio.conf",
            "crio/minikube-02-crio.conf",
        );
    let report = run(&host.root_arg(), "crio.*");
    assert_eq!(status_of(&report, "crio.cgroup-manager"), "pass");
    let msg = message(&report, "crio.cgroup-manager");
    assert!(msg.contains("(/etc/crio/crio.conf:"), "{msg}");
    assert_eq!(
        fact(&host.root_arg(), "crio.pause_image")["source"],
        "/etc/crio/crio.conf"
    );
}

#[test]
fn crio_packaged_drop_in_uses_default_systemd_and_crun() {
    let host = systemd_v2_host().corpus_file(
        "/etc/crio/crio.conf.d/10-crio.conf",
        "crio/cri-o-packaging-10-crio.conf",
    );
    let report = run(&host.root_arg(), "crio.*");
    assert_eq!(status_of(&report, "crio.cgroup-manager"), "pass");
    let msg = message(&report, "crio.cgroup-manager");
    assert!(
        msg.contains("crio.cgroup_manager = systemd (CRI-O default"),
        "{msg}"
    );
    assert_eq!(status_of(&report, "crio.conmon-cgroup"), "pass");
    let root = host.root_arg();
    let runtime = fact(&root, "crio.default_runtime");
    assert_eq!(runtime["value"], "crun");
    assert_eq!(runtime["source"], "/etc/crio/crio.conf.d/10-crio.conf");
    assert_eq!(runtime["line"], 5);
    assert_eq!(
        fact(&root, "crio.runtime_path")["value"],
        "/usr/libexec/crio/crun"
    );
}

#[test]
fn crio_fixture_hosts() {
    let good = run(&fixture("crio-good"), "crio.*");
    for id in [
        "crio.config.parses",
        "crio.cgroup-manager",
        "crio.conmon-cgroup",
    ] {
        assert_eq!(status_of(&good, id), "pass", "{id}");
    }
    let pause = fact(&fixture("crio-good"), "crio.pause_image");
    assert_eq!(pause["value"], "registry.k8s.io/pause:3.10.1");
    assert_eq!(pause["source"], "/etc/crio/crio.conf.d/10-pause.conf");

    let bad = run(&fixture("crio-bad"), "crio.*");
    assert_eq!(status_of(&bad, "crio.cgroup-manager"), "fail");
    assert!(
        message(&bad, "crio.cgroup-manager").contains("/etc/crio/crio.conf.d/50-cgroupfs.conf:3")
    );
    // cgroupfs with the conmon_cgroup that crio.conf set for systemd.
    assert_eq!(status_of(&bad, "crio.conmon-cgroup"), "fail");
    let msg = message(&bad, "crio.conmon-cgroup");
    assert!(msg.contains("/etc/crio/crio.conf:3"), "{msg}");
    assert!(
        msg.contains("must be \\\"pod\\\"") || msg.contains("must be \"pod\""),
        "{msg}"
    );
}

#[test]
fn crio_malformed_toml_is_named_never_a_panic() {
    let host = systemd_v2_host()
        .corpus_file("/etc/crio/crio.conf", "crio/minikube-iso-crio.conf")
        .file(
            "/etc/crio/crio.conf.d/20-broken.conf",
            "[crio.runtime]\ncgroup_manager = \"systemd\"\nconmon_cgroup = system.slice\n",
        );
    let (run_, report) = json_report(&["--root", &host.root_arg(), "--only", "crio.*"]);
    assert_eq!(run_.code, 1);
    assert_eq!(status_of(&report, "crio.config.parses"), "fail");
    let msg = message(&report, "crio.config.parses");
    assert!(
        msg.contains("/etc/crio/crio.conf.d/20-broken.conf:3"),
        "{msg}"
    );
    for id in ["crio.cgroup-manager", "crio.conmon-cgroup"] {
        assert_eq!(status_of(&report, id), "error", "{id}");
        let msg = message(&report, id);
        assert!(
            msg.contains("/etc/crio/crio.conf.d/20-broken.conf:3: not valid CRI-O TOML"),
            "{msg}"
        );
    }
}

#[test]
fn crio_directory_where_the_config_should_be() {
    let host = systemd_v2_host().dir("/etc/crio/crio.conf");
    let report = run(&host.root_arg(), "crio.*");
    let status = status_of(&report, "crio.cgroup-manager");
    assert_eq!(status, "error");
    let msg = message(&report, "crio.cgroup-manager");
    assert!(msg.contains("/etc/crio/crio.conf: is a directory"), "{msg}");
}

#[test]
fn crio_checks_skip_without_crio() {
    let host = systemd_v2_host();
    let report = run(&host.root_arg(), "crio.*");
    for id in [
        "crio.config.parses",
        "crio.cgroup-manager",
        "crio.conmon-cgroup",
        "crio.pause-image",
    ] {
        assert_eq!(status_of(&report, id), "skip", "{id}");
    }
}

// ---------------------------------------------------------------- Docker / cri-dockerd

fn docker_host() -> HostBuilder {
    systemd_v2_host().file("/usr/bin/dockerd", "")
}

#[test]
fn docker_without_cri_dockerd_fails_and_explains_the_dockershim() {
    let host =
        docker_host().corpus_file("/etc/docker/daemon.json", "docker/minikube-iso-daemon.json");
    let report = run(&host.root_arg(), "docker.*");
    assert_eq!(status_of(&report, "docker.cri-dockerd"), "fail");
    assert_eq!(status_of(&report, "docker.pause-image"), "skip");
    let explain = node_preflight(&["explain", "docker.cri-dockerd"]);
    assert!(explain.stdout.contains("1.24"), "{}", explain.stdout);
    assert!(explain.stdout.contains("cri-dockerd"), "{}", explain.stdout);
    assert!(explain.stdout.contains("Mirantis"), "{}", explain.stdout);
    // minikube's daemon.json: native.cgroupdriver=systemd on its line 3.
    assert_eq!(status_of(&report, "docker.cgroup-driver"), "pass");
    let msg = message(&report, "docker.cgroup-driver");
    assert!(
        msg.contains("docker.cgroup_driver = systemd (/etc/docker/daemon.json:3)"),
        "{msg}"
    );
}

#[test]
fn docker_with_the_cri_docker_units_passes() {
    let host = docker_host()
        .corpus_file("/etc/docker/daemon.json", "docker/minikube-iso-daemon.json")
        .corpus_file(
            "/usr/lib/systemd/system/cri-docker.service",
            "docker/cri-docker.service",
        )
        .corpus_file(
            "/usr/lib/systemd/system/cri-docker.socket",
            "docker/cri-docker.socket",
        );
    let report = run(&host.root_arg(), "docker.*");
    assert_eq!(status_of(&report, "docker.cri-dockerd"), "pass");
    assert!(message(&report, "docker.cri-dockerd")
        .contains("/usr/lib/systemd/system/cri-docker.socket"));
    // The packaged unit passes no --pod-infra-container-image: cri-dockerd's default.
    let image = fact(&host.root_arg(), "cri_dockerd.pod_infra_image");
    assert_eq!(image["value"], "registry.k8s.io/pause:3.10");
    assert_eq!(image["source"], "cri-dockerd default");
    assert!(image["note"].as_str().unwrap().contains(
        "/usr/lib/systemd/system/cri-docker.service:10 has no --pod-infra-container-image"
    ));
}

#[test]
fn docker_full_example_with_empty_exec_opts_uses_the_default_driver() {
    let host = docker_host().corpus_file(
        "/etc/docker/daemon.json",
        "docker/docker-cli-docs-daemon.json-linux-full-example.json",
    );
    let report = run(&host.root_arg(), "docker.cgroup-driver");
    // cgroup v2 with systemd: dockerd defaults to systemd.
    assert_eq!(status_of(&report, "docker.cgroup-driver"), "pass");
    let msg = message(&report, "docker.cgroup-driver");
    assert!(msg.contains("dockerd default"), "{msg}");
    assert!(msg.contains("sets no native.cgroupdriver"), "{msg}");

    // The same file on a cgroup v1 host: cgroupfs, which a systemd host should not use.
    let v1 = docker_host()
        .file(
            "/proc/mounts",
            "tmpfs /sys/fs/cgroup tmpfs ro 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n",
        )
        .corpus_file(
            "/etc/docker/daemon.json",
            "docker/docker-cli-docs-daemon.json-linux-full-example.json",
        );
    let report = run(&v1.root_arg(), "docker.cgroup-driver");
    assert_eq!(status_of(&report, "docker.cgroup-driver"), "fail");
    assert!(message(&report, "docker.cgroup-driver")
        .contains("docker.cgroup_driver = cgroupfs (dockerd default"));
}

#[test]
fn docker_fixture_hosts() {
    let good = run(&fixture("docker-good"), "docker.*");
    assert_eq!(status_of(&good, "docker.cri-dockerd"), "pass");
    assert_eq!(status_of(&good, "docker.cgroup-driver"), "pass");
    let image = fact(&fixture("docker-good"), "cri_dockerd.pod_infra_image");
    assert_eq!(image["value"], "registry.k8s.io/pause:3.10.1");
    assert_eq!(image["source"], "/lib/systemd/system/cri-docker.service");
    assert_eq!(image["line"], 6);

    let bad = run(&fixture("docker-bad"), "docker.*");
    assert_eq!(status_of(&bad, "docker.cri-dockerd"), "fail");
    assert_eq!(status_of(&bad, "docker.cgroup-driver"), "fail");
    let msg = message(&bad, "docker.cgroup-driver");
    assert!(
        msg.contains("docker.cgroup_driver = cgroupfs (/etc/docker/daemon.json:4)"),
        "{msg}"
    );
}

#[test]
fn docker_malformed_daemon_json_is_an_error_with_line_and_column() {
    let host = docker_host().file(
        "/etc/docker/daemon.json",
        "{\n  \"exec-opts\": [\"native.cgroupdriver=systemd\",]\n}\n",
    );
    let report = run(&host.root_arg(), "docker.*");
    assert_eq!(status_of(&report, "docker.cgroup-driver"), "error");
    let msg = message(&report, "docker.cgroup-driver");
    assert!(msg.contains("/etc/docker/daemon.json:2:"), "{msg}");
    assert!(msg.contains("not valid JSON"), "{msg}");
}

#[test]
fn docker_daemon_json_that_is_a_directory() {
    let host = docker_host().dir("/etc/docker/daemon.json");
    let report = run(&host.root_arg(), "docker.*");
    assert_eq!(status_of(&report, "docker.cgroup-driver"), "error");
    let msg = message(&report, "docker.cgroup-driver");
    assert!(
        msg.contains("/etc/docker/daemon.json: is a directory"),
        "{msg}"
    );
}

#[test]
fn docker_checks_skip_without_docker() {
    let report = run(&systemd_v2_host().root_arg(), "docker.*");
    for id in [
        "docker.cri-dockerd",
        "docker.cgroup-driver",
        "docker.pause-image",
    ] {
        assert_eq!(status_of(&report, id), "skip", "{id}");
    }
}

// ---------------------------------------------------------------- kubelet

#[test]
fn kubelet_minikube_kubeadm_yaml_with_swap_on() {
    let host = systemd_v2_host()
        .file(
            "/proc/swaps",
            "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1048572 0 -2\n",
        )
        .corpus_file(
            "/var/lib/kubelet/config.yaml",
            "kubelet/minikube-kubeadm-v1.35-crio.yaml",
        );
    let root = host.root_arg();
    let report = run(&root, "kubelet.*");
    // failSwapOn: false in the KubeletConfiguration document: the kubelet starts with swap.
    assert_eq!(status_of(&report, "kubelet.swap"), "pass");
    let msg = message(&report, "kubelet.swap");
    assert!(
        msg.contains("kubelet.fail_swap_on = false (/var/lib/kubelet/config.yaml:"),
        "{msg}"
    );
    let endpoint = fact(&root, "kubelet.container_runtime_endpoint");
    assert_eq!(endpoint["value"], "unix:///var/run/crio/crio.sock");
    let driver = fact(&root, "kubelet.cgroup_driver");
    assert_eq!(driver["value"], "systemd");
    let text = std::fs::read_to_string(crate::util::corpus(
        "kubelet/minikube-kubeadm-v1.35-crio.yaml",
    ))
    .unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("cgroupDriver:"))
        .unwrap()
        + 1;
    assert_eq!(driver["line"], line as u64);
    // No CRI-O socket on this host.
    assert_eq!(status_of(&report, "kubelet.runtime-endpoint"), "fail");
    assert!(message(&report, "kubelet.runtime-endpoint")
        .contains("/var/run/crio/crio.sock, does not exist"));
}

#[test]
fn kubelet_endpoint_socket_that_exists_passes() {
    let host = systemd_v2_host()
        .corpus_file(
            "/var/lib/kubelet/config.yaml",
            "kubelet/minikube-kubeadm-v1.35-containerd.yaml",
        )
        .dir("/run/containerd");
    let socket = host.path().join("run/containerd/containerd.sock");
    let _listener = UnixListener::bind(&socket).expect("bind a unix socket");
    let report = run(&host.root_arg(), "kubelet.*");
    assert_eq!(status_of(&report, "kubelet.runtime-endpoint"), "pass");
    let msg = message(&report, "kubelet.runtime-endpoint");
    assert!(msg.contains("/run/containerd/containerd.sock"), "{msg}");
    assert!(msg.contains("/var/lib/kubelet/config.yaml:"), "{msg}");
}

#[test]
fn kubelet_flags_from_the_kind_drop_in_layout_override_the_config() {
    // kind's 10-kubeadm.conf reads kubeadm-flags.env and /etc/default/kubelet.
    let host = systemd_v2_host()
        .corpus_file(
            "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "kubelet/kind-10-kubeadm.conf",
        )
        .corpus_file("/var/lib/kubelet/config.yaml", "kubelet/minikube-kubeadm-v1.35-containerd.yaml")
        .file(
            "/var/lib/kubelet/kubeadm-flags.env",
            "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/cri-dockerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n",
        )
        .file("/etc/default/kubelet", "# extra\nKUBELET_EXTRA_ARGS=--cgroup-driver=cgroupfs\n");
    let root = host.root_arg();
    let endpoint = fact(&root, "kubelet.container_runtime_endpoint");
    assert_eq!(endpoint["value"], "unix:///run/cri-dockerd.sock");
    assert_eq!(endpoint["source"], "/var/lib/kubelet/kubeadm-flags.env");
    assert_eq!(endpoint["line"], 1);
    let driver = fact(&root, "kubelet.cgroup_driver");
    assert_eq!(driver["value"], "cgroupfs");
    assert_eq!(driver["source"], "/etc/default/kubelet");
    assert_eq!(driver["line"], 2);
    let files = fact(&root, "kubelet.flags_files");
    assert_eq!(files["value"][0], "/var/lib/kubelet/kubeadm-flags.env");
    assert_eq!(files["value"][1], "/etc/default/kubelet");
}

#[test]
fn kubelet_default_driver_depends_on_kubeadm() {
    // Before `kubeadm join`: kubeadm's drop-in is installed, no config yet.
    let host = systemd_v2_host().corpus_file(
        "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "kubelet/kind-10-kubeadm.conf",
    );
    let driver = fact(&host.root_arg(), "kubelet.cgroup_driver");
    assert_eq!(driver["value"], "systemd");
    assert_eq!(driver["source"], "kubeadm default");
    // A bare kubelet: its own default.
    let driver = fact(&systemd_v2_host().root_arg(), "kubelet.cgroup_driver");
    assert_eq!(driver["value"], "cgroupfs");
    assert_eq!(driver["source"], "kubelet default");
}

#[test]
fn kubelet_cgroup_v1_depends_on_version_and_config() {
    let v1 = || {
        HostBuilder::new()
            .file(
                "/proc/mounts",
                "tmpfs /sys/fs/cgroup tmpfs ro 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n",
            )
            .file("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
            .dir("/run/systemd/system")
    };
    let host = v1().file(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\n",
    );
    let root = host.root_arg();
    let at = |version: &str| {
        json_report(&[
            "--root",
            &root,
            "--only",
            "kubelet.cgroup-v1",
            "--kubernetes-version",
            version,
        ])
        .1
    };
    assert_eq!(status_of(&at("1.35"), "kubelet.cgroup-v1"), "fail");
    assert_eq!(status_of(&at("1.34"), "kubelet.cgroup-v1"), "pass");

    let host = v1().file(
        "/var/lib/kubelet/config.yaml",
        "kind: KubeletConfiguration\nfailCgroupV1: false\n",
    );
    let report = json_report(&[
        "--root",
        &host.root_arg(),
        "--only",
        "kubelet.cgroup-v1",
        "--kubernetes-version",
        "1.35",
    ])
    .1;
    assert_eq!(status_of(&report, "kubelet.cgroup-v1"), "pass");
    assert!(message(&report, "kubelet.cgroup-v1").contains("/var/lib/kubelet/config.yaml:2"));

    let host = v1().file(
        "/var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"--fail-cgroupv1\"\n",
    );
    let report = json_report(&[
        "--root",
        &host.root_arg(),
        "--only",
        "kubelet.cgroup-v1",
        "--kubernetes-version",
        "1.33",
    ])
    .1;
    assert_eq!(status_of(&report, "kubelet.cgroup-v1"), "fail");
    assert!(message(&report, "kubelet.cgroup-v1").contains("/var/lib/kubelet/kubeadm-flags.env:1"));

    // On cgroup v2 the check does not apply.
    let report = run(&systemd_v2_host().root_arg(), "kubelet.cgroup-v1");
    assert_eq!(status_of(&report, "kubelet.cgroup-v1"), "skip");
}

#[test]
fn kubelet_fixture_hosts() {
    // The committed good host, plus the containerd socket a repository cannot hold.
    let good = HostBuilder::from_fixture("kubelet-good").dir("/run/containerd");
    let _listener = UnixListener::bind(good.path().join("run/containerd/containerd.sock"))
        .expect("bind a unix socket");
    let report = run(&good.root_arg(), "kubelet.*");
    assert_eq!(status_of(&report, "kubelet.runtime-endpoint"), "pass");
    assert_eq!(status_of(&report, "kubelet.swap"), "skip");
    assert_eq!(status_of(&report, "kubelet.cgroup-v1"), "skip");

    let bad = run(&fixture("kubelet-bad"), "kubelet.*");
    assert_eq!(status_of(&bad, "kubelet.swap"), "fail");
    assert!(message(&bad, "kubelet.swap").contains("kubelet default"));
    assert_eq!(status_of(&bad, "kubelet.cgroup-v1"), "fail");
    assert_eq!(status_of(&bad, "kubelet.runtime-endpoint"), "fail");
    let msg = message(&bad, "kubelet.runtime-endpoint");
    assert!(
        msg.contains("/var/lib/kubelet/kubeadm-flags.env:1"),
        "{msg}"
    );
}

#[test]
fn kubelet_malformed_yaml_is_an_error_with_path_and_line() {
    let host = systemd_v2_host()
        .file("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1 0 -2\n")
        .file(
            "/var/lib/kubelet/config.yaml",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: [systemd\n",
        );
    let report = run(&host.root_arg(), "kubelet.*");
    assert_eq!(status_of(&report, "kubelet.swap"), "error");
    let msg = message(&report, "kubelet.swap");
    assert!(msg.contains("/var/lib/kubelet/config.yaml:"), "{msg}");
    assert!(msg.contains("invalid KubeletConfiguration YAML"), "{msg}");
}

#[test]
fn kubelet_config_that_is_a_directory() {
    let host = systemd_v2_host()
        .file(
            "/proc/swaps",
            "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1 0 -2\n",
        )
        .dir("/var/lib/kubelet/config.yaml");
    let report = run(&host.root_arg(), "kubelet.*");
    assert_eq!(status_of(&report, "kubelet.swap"), "error");
    let msg = message(&report, "kubelet.swap");
    assert!(
        msg.contains("/var/lib/kubelet/config.yaml: is a directory"),
        "{msg}"
    );
}
