#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into SEEDS/<target>/ (default /tmp/np-seeds).

Seeds come from the fixture hosts (testdata/hosts/*) and the real-world corpus
(../shared/corpus, read in place), put into each target's input format (see
src/fuzzing.rs): multi-file inputs join files with `#@@ PATH` lines, the CRI target's
replies are protobuf bytes, the Docker targets' are HTTP/JSON.

Usage: fuzz/scripts/seeds.py [SEEDS] [BUNDLES_DIR]   (run from the repository root)
BUNDLES_DIR holds .tar.gz bundles written by `node-preflight collect` from the fixtures.
typeseeds.py imports its helpers (multi, host_files, answer) to write its seeds the same way.
"""
import glob, gzip, json, os, sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.abspath(os.path.join(REPO, "..", "shared", "corpus"))
if not os.path.isdir(CORPUS):
    CORPUS = "/work/shared/corpus"
HOSTS = os.path.join(REPO, "testdata", "hosts")
MARK = b"#@@ "
# The fixture hosts' files that the sysctl_d and modules_load_d targets read, as globs.
SYSCTL = ["etc/sysctl.d/*", "run/sysctl.d/*", "usr/local/lib/sysctl.d/*", "usr/lib/sysctl.d/*",
          "lib/sysctl.d/*", "etc/sysctl.conf"]
MODLOAD = ["etc/modules-load.d/*", "run/modules-load.d/*", "usr/lib/modules-load.d/*",
           "lib/modules-load.d/*", "etc/modules"]
# Between the answers of a multi-answer input (cri_responses, docker_http).
PART = b"\n#@@\n"


def put(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def host_files(host, patterns):
    """(path on the node, bytes or link target) of a fixture host's files matching patterns."""
    root = os.path.join(HOSTS, host)
    out = []
    for pat in patterns:
        for p in sorted(glob.glob(os.path.join(root, pat.lstrip("/")))):
            node_path = "/" + os.path.relpath(p, root)
            if os.path.islink(p):
                out.append((node_path, ("link", os.readlink(p))))
            elif os.path.isfile(p):
                out.append((node_path, ("file", read(p))))
    return out


def multi(first, files):
    """A multi-file input: `first` (bytes) then each (path, entry) after a mark."""
    data = first
    for path, (kind, value) in files:
        if data and not data.endswith(b"\n"):
            data += b"\n"
        if kind == "link":
            data += MARK + f"{path} -> {value}\n".encode()
        else:
            data += MARK + path.encode() + b"\n" + value
    return data


def fixtures(rel):
    return sorted(glob.glob(os.path.join(HOSTS, "*", rel)))


def corpus(pattern):
    return sorted(glob.glob(os.path.join(CORPUS, pattern)))


def name_of(path):
    rel = os.path.relpath(path, HOSTS if path.startswith(HOSTS) else CORPUS)
    return rel.replace("/", "__")


# CRI replies, protobuf.
def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, value):
    if isinstance(value, bool) or isinstance(value, int):
        return varint(num << 3) + varint(int(value))
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def version(name, ver, api):
    return field(1, "0.1.0") + field(2, name) + field(3, ver) + field(4, api)


def condition(kind, status, reason="", message=""):
    return field(1, kind) + field(2, status) + field(3, reason) + field(4, message)


def status(*conds):
    return field(1, b"".join(field(1, c) for c in conds))


def runtime_config(driver):
    return field(1, field(1, driver)) if driver is not None else b""


def cri(flags, *parts):
    return bytes([flags]) + PART.join(parts)


# Docker API bodies and raw HTTP.
VERSION = {"Platform": {"Name": "Docker Engine - Community"}, "Version": "27.3.1", "ApiVersion": "1.47",
           "MinAPIVersion": "1.24", "GitCommit": "41ca978", "GoVersion": "go1.22.7", "Os": "linux",
           "Arch": "amd64", "KernelVersion": "6.8.0-45-generic", "BuildTime": "2024-09-20T11:41:09.000000000+00:00"}
INFO = {"ID": "abc", "Containers": 3, "Name": "node1", "ServerVersion": "27.3.1", "Driver": "overlay2",
        "CgroupDriver": "systemd", "CgroupVersion": "2", "OperatingSystem": "Ubuntu 24.04.1 LTS", "OSType": "linux",
        "SecurityOptions": ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"]}
INFO_V1 = dict(INFO, CgroupDriver="cgroupfs", CgroupVersion="1")


def answer(body):
    """An answer with body and its length, as dockerd sends it."""
    return (b"HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


def chunked(body, trailers=b""):
    """An answer with body as one chunk, then the last chunk and trailers (header lines)."""
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"%x\r\n" % len(body) + body + b"\r\n0\r\n" + trailers + b"\r\n")


# Chunk trailers past hyper's 16 KiB limit on their bytes (decode.rs TRAILER_LIMIT): session
# 13's run of docker_http found that edge after 125 million executions, session 14's the same
# limit reached in other states of hyper's trailer parser after 15 and 37 million. Hyper checks
# the limit after each byte it keeps, so there is one seed for each kind of byte that can be
# the 16,384th (the first trailer byte is the first kept): a byte of a trailer line, its CR,
# its LF, the CR of the blank line that ends the trailers, the first byte of a second trailer,
# and the blank line's LF (a line's CR is kept by the same code as its text, so those two reach
# one edge between them). Longer than the merge keeps (campaign.py MERGE_LEN), so they reach a
# run only through --seeds.
TRAILER_LIMIT = 16 * 1024


def trailer_of(length):
    """One trailer line of `length` bytes before its CRLF."""
    return b"X-Trailer: " + b"a" * (length - len(b"X-Trailer: ")) + b"\r\n"


def file_seeds():
    """(target, name, bytes) of the file targets: fixtures, the corpus, imports, links."""
    # /proc/mounts and mountinfo, with escapes.
    for p in fixtures("proc/mounts") + corpus("proc-mounts/*.mounts"):
        yield ("proc_mounts", name_of(p), read(p))
    yield ("proc_mounts", "escapes", b"cgroup2 /sys/fs/cgroup/a\\040b\\011c\\134d\\012 cgroup2 rw 0 0\n"
        b"tmpfs /sys/fs/cgroup tmpfs ro 0 0\ncgroup /sys/fs/cgroup/cpu\\054cpuacct cgroup rw,cpu,cpuacct 0 0\n"
        b"cgroup /sys/fs/cgroup/x\\04 cgroup rw,memory 0 0\n")
    for p in corpus("proc-mounts/*mountinfo*"):
        yield ("mountinfo", name_of(p), read(p))
    yield ("mountinfo", "escapes", b"35 24 0:30 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
        b"36 35 0:31 / /sys/fs/cgroup/a\\040b rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
        b"37 35 0:32 / /sys/fs/cgroup/cpu\\054cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n")

    # /proc/modules, /proc/cgroups.
    for p in fixtures("proc/modules") + corpus("proc-modules/*"):
        yield ("proc_modules", name_of(p), read(p))
    for p in fixtures("proc/cgroups") + corpus("proc-mounts/*cgroups*"):
        yield ("proc_cgroups", name_of(p), read(p))

    # Kernel config, plain and gzip.
    for p in fixtures("boot/config-*"):
        yield ("kernel_config", name_of(p), read(p))
        yield ("kernel_config_gz", name_of(p) + ".gz", gzip.compress(read(p), mtime=0))
    for p in fixtures("proc/config.gz"):
        yield ("kernel_config_gz", name_of(p), read(p))
        try:
            plain = gzip.decompress(read(p))
        except OSError:
            continue
        yield ("kernel_config", name_of(p)[:-3], plain)
    # A release of its own and the config at a distribution's path.
    yield ("kernel_config", "osrelease-and-lib-modules",
        multi(b"", [("/proc/sys/kernel/osrelease", ("file", b"5.15.0-1\n")),
                    ("/usr/lib/modules/5.15.0-1/config", ("file", b"CONFIG_NAMESPACES=y\nCONFIG_MEMCG=m\n# CONFIG_SECCOMP is not set\n"))]))

    # sysctl.d and modules-load.d: every fixture host's files together, links kept; single
    # corpus files.
    for target, patterns, folder in (("sysctl_d", SYSCTL, "sysctl.d"),
                                     ("modules_load_d", MODLOAD, "modules-load.d")):
        for host in sorted(os.listdir(HOSTS)):
            files = host_files(host, patterns)
            if files:
                yield (target, host, multi(b"", files))
        for p in corpus(f"{folder}/*"):
            yield (target, name_of(p), read(p))
    yield ("modules_load_d", "masked-and-etc-modules",
        multi(b"overlay\n# comment\n; other\nbr_netfilter\n",
              [("/usr/lib/modules-load.d/k8s.conf", ("file", b"br_netfilter\n")),
               ("/etc/modules-load.d/k8s.conf", ("link", "/dev/null")),
               ("/etc/modules", ("file", b"overlay\n"))]))

    # containerd: single files, and imports (globs, relative paths, cycles).
    for p in fixtures("etc/containerd/config.toml") + corpus("containerd/*.toml"):
        yield ("containerd_config", name_of(p), read(p))
    yield ("containerd_config", "imports-v3",
        multi(b"version = 3\nimports = [\"conf.d/*.toml\"]\n[plugins.'io.containerd.cri.v1.runtime'.cni]\n  conf_dir = \"/root/net.d\"\n",
              [("/etc/containerd/conf.d/10-a.toml", ("file", b"version = 3\nimports = [\"../nested/deeper.toml\"]\n[plugins.'io.containerd.cri.v1.images'.pinned_images]\n  sandbox = \"registry.k8s.io/pause:3.9\"\n")),
               ("/etc/containerd/nested/deeper.toml", ("file", b"version = 3\nimports = [\"/etc/containerd/config.toml\"]\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\n  SystemdCgroup = true\n"))]))
    yield ("containerd_config", "imports-v2",
        multi(b"version = 2\nimports = [\"/etc/containerd/conf.d/*.toml\"]\ndisabled_plugins = [\"cri\"]\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = false\n",
              [("/etc/containerd/conf.d/20-b.toml", ("file", b"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.6\"\n")),
               ("/etc/containerd/conf.d/30-link.toml", ("link", "20-b.toml"))]))

    # CRI-O: crio.conf and drop-ins.
    for host in sorted(os.listdir(HOSTS)):
        files = host_files(host, ["etc/crio/crio.conf.d/*"])
        conf = os.path.join(HOSTS, host, "etc/crio/crio.conf")
        if os.path.isfile(conf) or files:
            yield ("crio_config", host, multi(read(conf) if os.path.isfile(conf) else b"", files))
    for p in corpus("crio/*"):
        base = os.path.basename(p)
        if base.endswith("crio.conf") and not base[0].isdigit() and "-0" not in base and "-1" not in base:
            yield ("crio_config", name_of(p), read(p))
        else:
            yield ("crio_config", name_of(p), multi(b"", [("/etc/crio/crio.conf.d/" + base, ("file", read(p)))]))

    # kubelet: config YAML, flags files.
    for p in fixtures("var/lib/kubelet/config.yaml") + corpus("kubelet/*.yaml"):
        yield ("kubelet_config", name_of(p), read(p))
    for p in fixtures("var/lib/kubelet/kubeadm-flags.env"):
        yield ("kubelet_flags", name_of(p), read(p))
    for p in corpus("kubelet/*.conf"):
        yield ("kubelet_flags", name_of(p), multi(b"KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n",
            [("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", ("file", read(p)))]))
    yield ("kubelet_flags", "default-and-sysconfig",
        multi(b"KUBELET_KUBEADM_ARGS=\"--cgroup-driver=cgroupfs --pod-infra-container-image=registry.k8s.io/pause:3.9\"\n",
              [("/etc/default/kubelet", ("file", b"KUBELET_EXTRA_ARGS='--cgroup-driver systemd --fail-swap-on=false'\n")),
               ("/etc/sysconfig/kubelet", ("file", b"KUBELET_EXTRA_ARGS=--container-runtime-endpoint=/var/run/crio/crio.sock\n"))]))

    # Docker's daemon.json.
    for p in fixtures("etc/docker/daemon.json") + corpus("docker/*.json"):
        yield ("daemon_json", name_of(p), read(p))
    for p in corpus("docker/cri-docker.*"):
        yield ("daemon_json", name_of(p), multi(b"{\"exec-opts\": [\"native.cgroupdriver=cgroupfs\"]}\n",
            [("/lib/systemd/system/" + os.path.basename(p), ("file", read(p)))]))


def cri_seeds():
    """CRI replies, protobuf."""
    yield ("cri_responses", "containerd-healthy", cri(0, version("containerd", "v2.0.0", "v1"), b"",
        status(condition("RuntimeReady", True), condition("NetworkReady", True)), runtime_config(0)))
    yield ("cri_responses", "crio-network-not-ready", cri(0, version("cri-o", "1.31.0", "v1"), b"",
        status(condition("RuntimeReady", True), condition("NetworkReady", False, "NetworkPluginNotReady", "no CNI configuration file")),
        runtime_config(1)))
    yield ("cri_responses", "v1alpha2-only", cri(1, b"\x0cunknown service runtime.v1.RuntimeService",
        version("containerd", "1.5.0", "0.1.0"), b"", b""))
    yield ("cri_responses", "runtime-config-unimplemented", cri(8, version("containerd", "1.7.2", "v1"), b"",
        status(condition("RuntimeReady", True)), b"\x0cunknown method RuntimeConfig"))
    yield ("cri_responses", "not-grpc", cri(1, b"\x02grpc-status header missing, mapped from HTTP status code 404", b"", b"", b""))
    yield ("cri_responses", "unknown-driver", cri(0, version("x", "1", "v1"), b"", status(), runtime_config(7)))


def docker_seeds():
    """Docker API bodies and raw HTTP answers."""
    for name, v, i in [("systemd-v2", VERSION, INFO), ("cgroupfs-v1", VERSION, INFO_V1)]:
        vb, ib = json.dumps(v).encode(), json.dumps(i).encode()
        yield ("docker_api", name, vb + b"\n#@@ /info\n" + ib)
        # The answers to the first and second requests, split at the part mark.
        yield ("docker_http", name, PART.join(answer(body) for body in (vb, ib)))
        yield ("docker_http", name + "-chunked", PART.join(chunked(body) for body in (vb, ib)))
    for name, trailers in [
        ("trailers-over-16k", trailer_of(TRAILER_LIMIT + 16)),
        ("trailers-limit-at-cr", trailer_of(TRAILER_LIMIT - 1)),
        ("trailers-limit-at-lf", trailer_of(TRAILER_LIMIT - 2)),
        ("trailers-limit-at-end-cr", trailer_of(TRAILER_LIMIT - 3)),
        ("trailers-limit-at-second", trailer_of(TRAILER_LIMIT - 3) + b"X-Two: b\r\n"),
        ("trailers-limit-at-end-lf", trailer_of(TRAILER_LIMIT - 4)),
    ]:
        yield ("docker_http", name, chunked(json.dumps(VERSION).encode(), trailers))
    yield ("docker_api", "no-version", b"{\"message\":\"page not found\"}")
    yield ("docker_http", "close-after-version", b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n" + json.dumps(VERSION).encode())
    yield ("docker_http", "404", b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\n404 page not found\n")
    yield ("docker_http", "not-http", b"SSH-2.0-OpenSSH_9.6\r\n")
    yield ("docker_http", "http2-preface-answer", b"\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x7f\xff\xff\xff\x00\x04\x00\x10\x00\x00")


def bundle_seeds(folder):
    """Bundles: `collect` output from the fixtures, and their tar streams."""
    for p in sorted(glob.glob(os.path.join(folder, "*.tar.gz"))):
        yield ("bundle_archive", os.path.basename(p), read(p))
        yield ("bundle_tar", os.path.basename(p)[:-3], gzip.decompress(read(p)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/np-seeds"
    bundles = sys.argv[2] if len(sys.argv) > 2 else None
    seeds = [*file_seeds(), *cri_seeds(), *docker_seeds()]
    if bundles:
        seeds += bundle_seeds(bundles)
    for target, name, data in seeds:
        put(out, target, name, data)
    for t in sorted(os.listdir(out)):
        print(t, len(os.listdir(os.path.join(out, t))))


if __name__ == "__main__":
    main()
