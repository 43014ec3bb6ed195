//! Fuzzing entry points: one function per parser and merger, each driving the real code path
//! on arbitrary bytes.
//!
//! The fuzz targets in `fuzz/fuzz_targets/` (cargo-fuzz, libFuzzer) call these, and so do the
//! tests that replay the saved corpora (`tests/integration/fuzz_corpus.rs`), so CI runs every
//! saved input on the stable toolchain. Each function puts the bytes where the tool would find
//! them on a node (`/proc/mounts`, `/etc/containerd/config.toml`, a CRI socket's answers, a
//! bundle's archive), on an in-memory host that is otherwise a plain healthy node, and then
//! takes them as far as its [`Scope`] says:
//! - [`Scope::Groups`] (the fuzz targets): the fact groups that read the input — the parsers
//!   and mergers — and their facts as `facts -o json` prints them. The coverage the fuzzer
//!   steers by is then the parsers' own, and an input costs a fraction of a millisecond;
//! - [`Scope::Chain`] (the replay, besides the above): every fact group, every rule of the
//!   built-in catalog, the `fix` script, and every report format for the checks the input
//!   changed.
//!
//! A bundle is read by the bundle reader and replayed by `BundleHost` instead. A function
//! returns normally for any input; it panics only when the tool would panic, or when an
//! output is broken (a fact that does not serialize, a JSON report that does not parse, a
//! JUnit report that is not well-formed XML), so that the fuzzer finds both.
//!
//! ## Several files in one input
//!
//! Mergers read several files. Their targets take the first file's content as the input up to
//! a line that starts with [`FILE_MARK`] (`#@@ `); the rest of that line names another file
//! (an absolute path on the node), and the lines after it are that file's content, up to the
//! next mark. `#@@ PATH -> TARGET` makes PATH a symlink instead (`-> /dev/null` masks a
//! sysctl.d or modules-load.d file). An input with no mark is simply the first file.
//!
//! ```text
//! net.ipv4.ip_forward = 1
//! #@@ /etc/sysctl.d/99-zz.conf
//! net.ipv4.ip_forward = 0
//! #@@ /etc/sysctl.d/50-vendor.conf -> /dev/null
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use clap::Parser;

use crate::bundle::{self, BundleHost};
use crate::cli::{CheckConfig, Cli, Command};
use crate::commands;
use crate::host::{
    clean_path, resolve_in_root, Access, AccessKind, AccessLog, DirEntry, ErrorReason, FileKind,
    Host, HostError, Prefix, MAX_FILE_SIZE,
};
use crate::probe::cri::{self, CriTranscript, Reply};
use crate::probe::docker::{self, DockerTranscript};
use crate::probe::{Failure, FailureKind, ProbeOutcome};
use crate::report::{self, Report};

/// Starts a line that names the next file of a multi-file input (see the module's docs).
pub const FILE_MARK: &[u8] = b"#@@ ";

/// Separates the parts of a binary input (the CRI target's replies).
pub const PART_MARK: &[u8] = b"\n#@@\n";

/// At most this many files are taken from one input, so that an input's cost stays bounded
/// by its length and not by how many tiny files it can describe.
const MAX_INPUT_FILES: usize = 64;

/// The probes' deadline. The in-memory answers never wait; the Docker replay's stream ends
/// with the input, so this bounds only a bug.
const DEADLINE: Duration = Duration::from_secs(2);

/// How far an input is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The fact groups that read the input — its parsers and mergers — and their facts as
    /// `facts -o json` prints them; a bundle is read and validated, and its host built. What the
    /// fuzz targets run: a fraction of a millisecond an input, and coverage that is the
    /// parsers' own, so that a campaign can exhaust it.
    Groups,
    /// Everything a run then does: every fact group, every rule of the catalog, the `fix`
    /// script and every report format (the machine-readable ones parsed back). What the
    /// corpus replay runs too, so every saved input also crosses the whole chain.
    Chain,
}

// ---- The targets -------------------------------------------------------------------------

/// `/proc/mounts` (with `\040`-style escapes), as the cgroup gatherer reads it.
pub fn proc_mounts(data: &[u8], scope: Scope) {
    check_node(
        Base::Containerd,
        &files(data, "/proc/mounts"),
        &["cgroups"],
        scope,
    );
}

/// `/proc/self/mountinfo`, read when `/proc/mounts` is not there.
pub fn mountinfo(data: &[u8], scope: Scope) {
    let mut files = files(data, "/proc/self/mountinfo");
    files.push(("/proc/mounts".to_string(), Entry::Absent));
    check_node(Base::Containerd, &files, &["cgroups"], scope);
}

/// `/proc/modules`.
pub fn proc_modules(data: &[u8], scope: Scope) {
    check_node(
        Base::Containerd,
        &files(data, "/proc/modules"),
        &["kernel"],
        scope,
    );
}

/// `/proc/cgroups`, on a cgroup v1 host (where the controllers come from it).
pub fn proc_cgroups(data: &[u8], scope: Scope) {
    let mut files = vec![(
        "/proc/mounts".to_string(),
        Entry::File(V1_MOUNTS.as_bytes().to_vec()),
    )];
    files.extend(self::files(data, "/proc/cgroups"));
    check_node(Base::Containerd, &files, &["cgroups"], scope);
}

/// A plain-text kernel config at `/boot/config-$(uname -r)` (`/proc/config.gz` absent).
pub fn kernel_config(data: &[u8], scope: Scope) {
    check_node(
        Base::Containerd,
        &files(data, "/boot/config-6.8.0-fuzz"),
        &["kernel"],
        scope,
    );
}

/// `/proc/config.gz`: the bytes as the gzip file (the corpus holds gzip files).
pub fn kernel_config_gz(data: &[u8], scope: Scope) {
    let files = [("/proc/config.gz".to_string(), Entry::File(data.to_vec()))];
    check_node(Base::Containerd, &files, &["kernel"], scope);
}

/// sysctl.d merging: the first file is `/etc/sysctl.d/99-fuzz.conf`; more files, shadowing
/// and masking links come from marks.
pub fn sysctl_d(data: &[u8], scope: Scope) {
    check_node(
        Base::Containerd,
        &files(data, "/etc/sysctl.d/99-fuzz.conf"),
        &["sysctl"],
        scope,
    );
}

/// modules-load.d merging: the first file is `/etc/modules-load.d/fuzz.conf`.
pub fn modules_load_d(data: &[u8], scope: Scope) {
    check_node(
        Base::Containerd,
        &files(data, "/etc/modules-load.d/fuzz.conf"),
        &["modules-load.d"],
        scope,
    );
}

/// containerd's config: the first file is `/etc/containerd/config.toml`; the files it imports
/// come from marks.
pub fn containerd_config(data: &[u8], scope: Scope) {
    check_node(
        Base::Containerd,
        &files(data, "/etc/containerd/config.toml"),
        &["containerd"],
        scope,
    );
}

/// CRI-O's config: the first file is `/etc/crio/crio.conf`; drop-ins in
/// `/etc/crio/crio.conf.d/` come from marks.
pub fn crio_config(data: &[u8], scope: Scope) {
    check_node(
        Base::Crio,
        &files(data, "/etc/crio/crio.conf"),
        &["crio"],
        scope,
    );
}

/// The kubelet's `KubeletConfiguration` YAML at `/var/lib/kubelet/config.yaml`.
pub fn kubelet_config(data: &[u8], scope: Scope) {
    check_node(
        Base::Containerd,
        &files(data, "/var/lib/kubelet/config.yaml"),
        &["kubelet"],
        scope,
    );
}

/// The kubelet's flags files: the first is `/var/lib/kubelet/kubeadm-flags.env`; marks add
/// `/etc/default/kubelet`, the kubeadm drop-in, and so on.
pub fn kubelet_flags(data: &[u8], scope: Scope) {
    check_node(
        Base::Containerd,
        &files(data, "/var/lib/kubelet/kubeadm-flags.env"),
        &["kubelet"],
        scope,
    );
}

/// Docker's `/etc/docker/daemon.json`, on a Docker + cri-dockerd node.
pub fn daemon_json(data: &[u8], scope: Scope) {
    check_node(
        Base::Docker,
        &files(data, "/etc/docker/daemon.json"),
        &["docker"],
        scope,
    );
}

/// The CRI runtime's answers, protobuf bytes. The first byte says how each call ended (bit
/// `i` set: call `i` failed with a gRPC status instead, its part being the code byte and the
/// message); the rest is split at [`PART_MARK`] into the replies to v1 `Version`, v1alpha2
/// `Version`, `Status` and `RuntimeConfig`.
pub fn cri_responses(data: &[u8], scope: Scope) {
    let (flags, rest) = data.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    let mut parts = split(rest, PART_MARK).into_iter();
    let mut reply = |i: u8| {
        let part = parts.next().unwrap_or_default();
        if flags & (1 << i) == 0 {
            Reply::Message(part)
        } else {
            let (code, message) = part.split_first().map_or((0, &[][..]), |(c, m)| (*c, m));
            Reply::Status(tonic::Status::new(
                tonic::Code::from(i32::from(code)),
                String::from_utf8_lossy(message),
            ))
        }
    };
    let (v1, v1alpha2, status, runtime_config) = (reply(0), reply(1), reply(2), reply(3));
    let transcript = cri::replay(
        "/run/containerd/containerd.sock",
        v1,
        v1alpha2,
        status,
        runtime_config,
    );
    let mut host = MemHost::node(Base::Containerd);
    host.cri = Some(transcript);
    check(&host, Base::Containerd, &["cri"], scope);
}

/// Docker Engine's API: the bytes as the bodies of `200 OK` answers to `GET /version` and
/// (after a line `#@@ /info`) `GET /info`, read by the real probe over an in-memory
/// connection.
pub fn docker_api(data: &[u8], scope: Scope) {
    let mut version = data;
    let mut info: &[u8] = b"{}";
    for (path, entry) in parse_files(data, "/version") {
        match (path.as_str(), entry) {
            ("/version", FileSpec::File(body)) => version = body,
            ("/info", FileSpec::File(body)) => info = body,
            _ => {}
        }
    }
    let answers = [ok_answer(version), ok_answer(info)];
    docker_replay(&[&answers[0], &answers[1]], scope);
}

/// A `200 OK` answer with a JSON body, as HTTP/1.1 sends it.
fn ok_answer(body: &[u8]) -> Vec<u8> {
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    answer
}

/// Docker Engine's API: the bytes as what the other end of the socket sends (raw HTTP/1.1),
/// split at [`PART_MARK`] into its answers to the probe's first and second requests, read by
/// the real probe over an in-memory connection that closes after the last answer.
pub fn docker_http(data: &[u8], scope: Scope) {
    docker_replay(&split(data, PART_MARK), scope);
}

fn docker_replay(answers: &[&[u8]], scope: Scope) {
    let transcript = docker::replay(answers, "/var/run/docker.sock", DEADLINE);
    let mut host = MemHost::node(Base::Docker);
    host.docker = Some(transcript);
    check(&host, Base::Docker, &["docker"], scope);
}

/// A bundle: the bytes as the `.tar.gz` given to `check --bundle`, read by the bundle reader,
/// replayed by [`BundleHost`] and checked with the checks its manifest names.
pub fn bundle_archive(data: &[u8], scope: Scope) {
    check_bundle(data, scope);
}

/// A bundle's tar stream, gzipped here before it is read as [`bundle_archive`] reads it: the
/// fuzzer mutates the manifest and the tar headers directly rather than through gzip.
pub fn bundle_tar(data: &[u8], scope: Scope) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(data);
    if let Ok(archive) = gz.finish() {
        check_bundle(&archive, scope);
    }
}

// ---- The chain ---------------------------------------------------------------------------

/// A `fix` run's configuration with the whole built-in catalog (which `check` shares), parsed
/// once: the catalog is the same for every input.
fn config() -> &'static CheckConfig {
    static CONFIG: OnceLock<CheckConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let cli = Cli::try_parse_from(["node-preflight", "fix", "--role", "control-plane"])
            .unwrap_or_else(|e| panic!("the fuzzing command line is wrong: {e}"));
        match cli.command {
            Some(Command::Fix(args)) => args
                .validate()
                .unwrap_or_else(|e| panic!("the built-in catalog does not load: {e}")),
            _ => unreachable!("the command line names `fix`"),
        }
    })
}

fn check_node(base: Base, files: &[(String, Entry)], groups: &[&str], scope: Scope) {
    let mut host = MemHost::node(base);
    for (path, entry) in files {
        host.put(path, entry.clone());
    }
    check(&host, base, groups, scope);
}

/// The input's fact groups on `host` ([`Scope::Groups`]), or every check of the catalog on
/// it and every output made from the results ([`Scope::Chain`]).
fn check(host: &MemHost, base: Base, groups: &[&str], scope: Scope) {
    let config = config();
    if scope == Scope::Groups {
        let facts = crate::facts::gather_groups(host, groups, request(), &options());
        assert_facts_serialize(&facts);
        return;
    }
    let (mut report, facts) = evaluate(host);
    assert_facts_serialize(&facts);
    let _ = crate::fix::script(&crate::fix::Run {
        host,
        redactions: &[],
        catalog: &config.catalog,
        fail_on: config.fail_on,
        report: &report,
        facts: &facts,
    });
    // Rendering all fifty-odd checks costs several times what gathering does, and the checks
    // the input left as they are on the base node render exactly as they do there: render
    // only the ones it changed (all of them still count in the summary).
    let unchanged = base_results(base);
    report
        .checks
        .retain(|c| unchanged.get(&c.id) != Some(&signature(c)));
    render(&report);
}

/// The facts as `facts -o json` prints them: each must serialize.
fn assert_facts_serialize(facts: &crate::facts::FactSet) {
    let facts_json: serde_json::Map<String, serde_json::Value> = facts
        .iter()
        .filter_map(|(name, fact)| Some((name.clone(), serde_json::to_value(fact).ok()?)))
        .collect();
    assert_eq!(facts_json.len(), facts.len(), "a fact does not serialize");
}

/// The facts the whole built-in catalog asks for, worked out once.
fn request() -> &'static crate::facts::FactRequest {
    static REQUEST: OnceLock<crate::facts::FactRequest> = OnceLock::new();
    REQUEST.get_or_init(|| {
        let rules = config().selected_rules();
        crate::facts::FactRequest::new(crate::rules::Catalog::facts_of(rules.iter().copied()))
    })
}

/// The run's options, with the probes' deadline of the in-memory answers.
fn options() -> crate::facts::Options {
    let mut options = config().options();
    options.runtime.timeout = DEADLINE;
    options
}

fn evaluate(host: &dyn Host) -> (Report, crate::facts::FactSet) {
    let config = config();
    let rules = config.selected_rules();
    commands::evaluate_with_facts(host, &rules, &options(), &config.ignore, config.fail_on)
}

/// What a check found, without its timing.
fn signature(c: &crate::rules::eval::CheckResult) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        c.status, c.message, c.observed, c.expected, c.evidence
    )
}

/// Each check's result on the base node, by id, worked out once.
fn base_results(base: Base) -> &'static HashMap<String, String> {
    static RESULTS: [OnceLock<HashMap<String, String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    RESULTS[base as usize].get_or_init(|| {
        let (report, _) = evaluate(&MemHost::node(base));
        report
            .checks
            .iter()
            .map(|c| (c.id.clone(), signature(c)))
            .collect()
    })
}

/// Renders every format, checking that the machine-readable ones parse.
fn render(report: &Report) {
    let json = report::json::render(report);
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
        panic!("the JSON report does not parse ({e}):\n{json}");
    }
    let junit = report::junit::render(report);
    assert_well_formed(&junit);
    let _ = report::table::render(report, true);
    let _ = report::markdown::render(report);
}

fn assert_well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("the JUnit report is not well-formed XML ({e}):\n{xml}"),
        }
    }
    assert_eq!(depth, 0, "the JUnit report leaves elements open:\n{xml}");
}

fn check_bundle(data: &[u8], scope: Scope) {
    // Smaller bounds than a real run's keep each input fast; the code path is the same.
    let limits = bundle::reader::Limits {
        total: 8 * 1024 * 1024,
        file: 1024 * 1024,
        entries: 1000,
    };
    let Ok(read) = bundle::reader::read(data, limits) else {
        return;
    };
    let config = config();
    let Ok(options) = bundle::options_of(&read.manifest, config) else {
        return;
    };
    let Ok(rules) = bundle::rules_of(&read.manifest, config) else {
        return;
    };
    let redactions = read.manifest.redactions.clone();
    let Ok(host) = BundleHost::new(read, "bundle fuzz.tar.gz".to_string()) else {
        return;
    };
    if scope == Scope::Groups {
        // The reader, the manifest and the replaying host are this target's parsers; what the
        // files it holds say is the other targets' (and the chain's, in the replay).
        return;
    }
    let (report, facts) =
        commands::evaluate_with_facts(&host, &rules, &options, &config.ignore, config.fail_on);
    render(&report);
    let _ = crate::fix::script(&crate::fix::Run {
        host: &host,
        redactions: &redactions,
        catalog: &config.catalog,
        fail_on: config.fail_on,
        report: &report,
        facts: &facts,
    });
}

// ---- Inputs as files ---------------------------------------------------------------------

/// What an input puts at a path.
#[derive(Clone, Debug)]
enum Entry {
    File(Vec<u8>),
    Link(String),
    /// Removes whatever the base node has there.
    Absent,
}

enum FileSpec<'a> {
    File(&'a [u8]),
    Link(String),
}

/// The files of a multi-file input (see the module's docs), the first at `first`.
fn files(data: &[u8], first: &str) -> Vec<(String, Entry)> {
    parse_files(data, first)
        .into_iter()
        .map(|(path, spec)| {
            let entry = match spec {
                FileSpec::File(bytes) => Entry::File(bytes.to_vec()),
                FileSpec::Link(target) => Entry::Link(target),
            };
            (path, entry)
        })
        .collect()
}

fn parse_files<'a>(data: &'a [u8], first: &str) -> Vec<(String, FileSpec<'a>)> {
    let mut starts: Vec<usize> = (0..data.len())
        .filter(|&i| (i == 0 || data[i - 1] == b'\n') && data[i..].starts_with(FILE_MARK))
        .take(MAX_INPUT_FILES)
        .collect();
    let mut out = Vec::new();
    let head_end = starts.first().copied().unwrap_or(data.len());
    out.push((first.to_string(), FileSpec::File(&data[..head_end])));
    starts.push(data.len());
    for pair in starts.windows(2) {
        let chunk = &data[pair[0] + FILE_MARK.len()..pair[1]];
        let (header, content) = match chunk.iter().position(|&b| b == b'\n') {
            Some(nl) => (&chunk[..nl], &chunk[nl + 1..]),
            None => (chunk, &[][..]),
        };
        let header = String::from_utf8_lossy(header);
        let spec = match header.split_once(" -> ") {
            Some((path, target)) => (path.trim().to_string(), FileSpec::Link(target.to_string())),
            None => (header.trim().to_string(), FileSpec::File(content)),
        };
        out.push(spec);
    }
    out
}

/// `data` split at each `mark`.
fn split<'a>(data: &'a [u8], mark: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(mark.len()).position(|w| w == mark) {
        parts.push(&rest[..i]);
        rest = &rest[i + mark.len()..];
    }
    parts.push(rest);
    parts
}

// ---- The in-memory node ------------------------------------------------------------------

/// Which container runtime the base node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    Containerd,
    Crio,
    Docker,
}

/// A healthy cgroup v2, systemd node: what every target's files are put on, so that the facts
/// the input does not decide are known and the rules reading the input's facts are evaluated
/// rather than skipped.
const NODE: &[(&str, &str)] = &[
    ("/proc/sys/kernel/osrelease", "6.8.0-fuzz\n"),
    ("/proc/sys/kernel/hostname", "fuzz-node\n"),
    ("/etc/hostname", "fuzz-node\n"),
    (
        "/etc/os-release",
        "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\nVERSION_ID=\"24.04\"\n",
    ),
    ("/proc/1/comm", "systemd\n"),
    ("/run/systemd/system/.keep", ""),
    (
        "/proc/mounts",
        "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n\
         cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n",
    ),
    (
        "/sys/fs/cgroup/cgroup.controllers",
        "cpuset cpu io memory hugetlb pids rdma misc\n",
    ),
    (
        "/proc/modules",
        "br_netfilter 32768 0 - Live 0x0000000000000000\n\
         bridge 311296 1 br_netfilter, Live 0x0000000000000000\n\
         overlay 151552 0 - Live 0x0000000000000000\n",
    ),
    ("/proc/sys/net/ipv4/ip_forward", "1\n"),
    ("/proc/sys/net/bridge/bridge-nf-call-iptables", "1\n"),
    ("/proc/sys/net/bridge/bridge-nf-call-ip6tables", "1\n"),
    (
        "/etc/sysctl.d/k8s.conf",
        "net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n\
         net.ipv4.ip_forward = 1\n",
    ),
    ("/etc/modules-load.d/k8s.conf", "overlay\nbr_netfilter\n"),
    (
        "/boot/config-6.8.0-fuzz",
        "CONFIG_NAMESPACES=y\nCONFIG_NET_NS=y\nCONFIG_PID_NS=y\nCONFIG_IPC_NS=y\n\
         CONFIG_UTS_NS=y\nCONFIG_CPUSETS=y\nCONFIG_MEMCG=y\nCONFIG_INET=y\nCONFIG_EXT4_FS=y\n\
         CONFIG_PROC_FS=y\nCONFIG_NETFILTER_XT_TARGET_REDIRECT=y\n\
         CONFIG_NETFILTER_XT_MATCH_COMMENT=y\nCONFIG_FAIR_GROUP_SCHED=y\nCONFIG_CGROUPS=y\n\
         CONFIG_CGROUP_BPF=y\nCONFIG_CGROUP_PIDS=y\nCONFIG_CGROUP_SCHED=y\n\
         CONFIG_CGROUP_CPUACCT=y\nCONFIG_CGROUP_DEVICE=y\nCONFIG_CGROUP_FREEZER=y\n\
         CONFIG_CFS_BANDWIDTH=y\nCONFIG_SECCOMP=y\nCONFIG_SECCOMP_FILTER=y\nCONFIG_MODULES=y\n\
         CONFIG_OVERLAY_FS=m\nCONFIG_BRIDGE_NETFILTER=m\n",
    ),
    ("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n"),
    (
        "/proc/meminfo",
        "MemTotal:        8142948 kB\nMemAvailable:    7000000 kB\n",
    ),
    (
        "/proc/cpuinfo",
        "processor\t: 0\n\nprocessor\t: 1\n\nprocessor\t: 2\n\nprocessor\t: 3\n",
    ),
    ("/usr/bin/runc", ""),
    ("/usr/bin/crun", ""),
    ("/usr/bin/kubelet", ""),
    ("/usr/bin/kubeadm", ""),
    ("/opt/cni/bin/bridge", ""),
    ("/opt/cni/bin/host-local", ""),
    ("/opt/cni/bin/loopback", ""),
    (
        "/etc/cni/net.d/10-bridge.conflist",
        "{\"cniVersion\": \"1.0.0\", \"name\": \"bridge\", \"plugins\": [{\"type\": \"bridge\"}]}\n",
    ),
];

const CONTAINERD_NODE: &[(&str, &str)] = &[
    (
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         cgroupDriver: systemd\nfailSwapOn: true\ncontainerRuntimeEndpoint: unix:///run/containerd/containerd.sock\n",
    ),
    (
    "/etc/containerd/config.toml",
    "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.10.1\"\n\
     [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n",
    ),
];

const CRIO_NODE: &[(&str, &str)] = &[
    (
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         cgroupDriver: systemd\nfailSwapOn: true\ncontainerRuntimeEndpoint: unix:///var/run/crio/crio.sock\n",
    ),
    (
    "/etc/crio/crio.conf.d/10-crio.conf",
    "[crio.runtime]\ncgroup_manager = \"systemd\"\n[crio.image]\npause_image = \"registry.k8s.io/pause:3.10.1\"\n",
    ),
];

const DOCKER_NODE: &[(&str, &str)] = &[
    (
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         cgroupDriver: systemd\nfailSwapOn: true\ncontainerRuntimeEndpoint: unix:///run/cri-dockerd.sock\n",
    ),
    ("/usr/bin/dockerd", ""),
    (
        "/etc/docker/daemon.json",
        "{\"exec-opts\": [\"native.cgroupdriver=systemd\"]}\n",
    ),
    (
        "/lib/systemd/system/cri-docker.service",
        "[Service]\nExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd:// \
         --pod-infra-container-image=registry.k8s.io/pause:3.10.1\n",
    ),
];

/// A cgroup v1 node's mounts, for the `/proc/cgroups` target.
const V1_MOUNTS: &str = "tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0\n\
    cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n\
    cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n\
    cgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0\n";

#[derive(Clone, Debug)]
enum Node {
    File(Vec<u8>),
    Dir,
    Link(String),
    Socket,
    /// A device (`/dev/null`).
    Device,
}

/// A host held in memory: a map from absolute path to what is there, with the filesystem
/// host's semantics (symlinks followed inside it, directories listed in name order, the same
/// errors), and canned probe answers.
struct MemHost {
    nodes: BTreeMap<String, Node>,
    cri: Option<CriTranscript>,
    docker: Option<DockerTranscript>,
    log: AccessLog,
}

impl MemHost {
    fn node(base: Base) -> Self {
        // The base node's tree is built once and copied for each input.
        static TREES: [OnceLock<BTreeMap<String, Node>>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let (socket, name) = match base {
            Base::Containerd => ("/run/containerd/containerd.sock", "containerd"),
            Base::Crio => ("/var/run/crio/crio.sock", "cri-o"),
            Base::Docker => ("/run/cri-dockerd.sock", "docker"),
        };
        let nodes = TREES[base as usize].get_or_init(|| {
            let mut host = MemHost {
                nodes: BTreeMap::from([
                    ("/".to_string(), Node::Dir),
                    ("/dev".to_string(), Node::Dir),
                    ("/dev/null".to_string(), Node::Device),
                ]),
                cri: None,
                docker: None,
                log: AccessLog::default(),
            };
            let runtime_files = match base {
                Base::Containerd => CONTAINERD_NODE,
                Base::Crio => CRIO_NODE,
                Base::Docker => DOCKER_NODE,
            };
            for (path, text) in NODE.iter().chain(runtime_files) {
                host.put(path, Entry::File(text.as_bytes().to_vec()));
            }
            host.insert(socket, Node::Socket);
            if base == Base::Docker {
                host.insert("/var/run/docker.sock", Node::Socket);
            }
            host.nodes
        });
        MemHost {
            nodes: nodes.clone(),
            cri: Some(healthy_cri(socket, name)),
            docker: None,
            log: AccessLog::default(),
        }
    }

    /// Puts what an input names at a path (made absolute and clean, its parents directories).
    fn put(&mut self, path: &str, entry: Entry) {
        let path = clean_path(&format!("/{path}"));
        match entry {
            Entry::File(bytes) => self.insert(&path, Node::File(bytes)),
            Entry::Link(target) => self.insert(&path, Node::Link(target)),
            Entry::Absent => {
                self.nodes.remove(&path);
            }
        }
    }

    fn insert(&mut self, path: &str, node: Node) {
        if path == "/" {
            return;
        }
        let mut parent = path;
        while let Some((p, _)) = parent.rsplit_once('/') {
            let p = if p.is_empty() { "/" } else { p };
            // A file where a directory is needed becomes one, as it would on a real disk
            // written in this order.
            if !matches!(self.nodes.get(p), Some(Node::Dir | Node::Link(_))) {
                self.nodes.insert(p.to_string(), Node::Dir);
            }
            if p == "/" {
                break;
            }
            parent = p;
        }
        self.nodes.insert(path.to_string(), node);
    }

    /// The path a host path names, its symlinks followed (inside this host).
    fn resolve(&self, path: &str) -> Result<String, HostError> {
        let resolved = resolve_in_root(path, |prefix, more| {
            match self.nodes.get(&join(prefix)) {
                Some(Node::Link(target)) => Ok(Prefix::Link(target.clone())),
                Some(Node::File(_) | Node::Socket | Node::Device) if more => {
                    // ENOTDIR, which the filesystem host reports as not found.
                    Err(HostError::new(path, ErrorReason::NotFound))
                }
                Some(_) => Ok(Prefix::Other),
                None => Ok(Prefix::Missing),
            }
        })?;
        Ok(join(&resolved))
    }

    fn lookup(&self, path: &str) -> Result<Option<&Node>, HostError> {
        let resolved = self.resolve(path)?;
        Ok(self.nodes.get(&resolved))
    }

    fn read_file(&self, path: &str) -> Result<Vec<u8>, HostError> {
        match self.lookup(path)? {
            Some(Node::File(bytes)) if bytes.len() as u64 > MAX_FILE_SIZE => Err(HostError::new(
                path,
                ErrorReason::TooLarge {
                    limit: MAX_FILE_SIZE,
                },
            )),
            Some(Node::File(bytes)) => Ok(bytes.clone()),
            Some(Node::Dir) => Err(HostError::new(path, ErrorReason::NotAFile("directory"))),
            Some(Node::Socket) => Err(HostError::new(path, ErrorReason::NotAFile("socket"))),
            Some(Node::Device) => Err(HostError::new(path, ErrorReason::NotAFile("device"))),
            // `lookup` follows links; one left is not there.
            Some(Node::Link(_)) | None => Err(HostError::new(path, ErrorReason::NotFound)),
        }
    }

    fn list(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        let resolved = self.resolve(path)?;
        match self.nodes.get(&resolved) {
            Some(Node::Dir) => {}
            Some(_) => return Err(HostError::new(path, ErrorReason::NotADirectory)),
            None => return Err(HostError::new(path, ErrorReason::NotFound)),
        }
        let prefix = if resolved == "/" {
            "/".to_string()
        } else {
            format!("{resolved}/")
        };
        let names: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| &p[prefix.len()..])
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .map(str::to_string)
            .collect();
        Ok(names
            .into_iter()
            .map(|name| {
                let child = format!("{}/{name}", path.trim_end_matches('/'));
                let kind = match self.stat(&child) {
                    Ok(Some(kind)) => kind,
                    Ok(None) | Err(_) => FileKind::Other,
                };
                DirEntry { name, kind }
            })
            .collect())
    }

    fn stat(&self, path: &str) -> Result<Option<FileKind>, HostError> {
        match self.lookup(path) {
            Ok(node) => Ok(node.map(|n| match n {
                Node::File(_) => FileKind::File,
                Node::Dir => FileKind::Dir,
                Node::Socket => FileKind::Socket,
                Node::Device | Node::Link(_) => FileKind::Other,
            })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn link(&self, path: &str) -> Result<String, HostError> {
        // Resolve the parent, not the link itself.
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        let parent = if parent.is_empty() { "/" } else { parent };
        let resolved = self.resolve(parent)?;
        let at = clean_path(&format!("{resolved}/{name}"));
        match self.nodes.get(&at) {
            Some(Node::Link(target)) => Ok(target.clone()),
            Some(_) => Err(HostError::new(
                path,
                ErrorReason::Io("Invalid argument".into()),
            )),
            None => Err(HostError::new(path, ErrorReason::NotFound)),
        }
    }

    /// Why nothing answers at a socket path that has no canned answer.
    fn no_answer(&self, socket: &str) -> Failure {
        match self.stat(socket) {
            Ok(Some(FileKind::Socket)) => Failure::new(
                FailureKind::Refused,
                "connection refused: nothing listens on the socket (is the runtime running?)",
            ),
            Ok(Some(_)) => Failure::new(FailureKind::Refused, "connection refused: not a socket"),
            _ => Failure::new(
                FailureKind::Missing,
                "no socket there (is the runtime installed and running?)",
            ),
        }
    }
}

impl Host for MemHost {
    fn read(&self, path: &str) -> Result<Vec<u8>, HostError> {
        self.log
            .record(AccessKind::Read, path, self.read_file(path))
    }

    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        self.log.record(AccessKind::List, path, self.list(path))
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, HostError> {
        self.log.record(AccessKind::Stat, path, self.stat(path))
    }

    fn read_link(&self, path: &str) -> Result<String, HostError> {
        self.log.record(AccessKind::ReadLink, path, self.link(path))
    }

    fn env(&self, _name: &str) -> Option<String> {
        None
    }

    fn is_live(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        "fuzz input".to_string()
    }

    fn accesses(&self) -> Vec<Access> {
        self.log.snapshot()
    }

    fn probe_cri(&self, socket: &str, _timeout: Duration) -> CriTranscript {
        let transcript = match (&self.cri, self.stat(socket)) {
            (Some(t), Ok(Some(FileKind::Socket))) => CriTranscript {
                socket: socket.to_string(),
                ..t.clone()
            },
            _ => CriTranscript::unreachable(socket, self.no_answer(socket)),
        };
        let error = transcript.version.failure().map(|f| f.message.clone());
        self.log.push_message(AccessKind::Probe, socket, error);
        transcript
    }

    fn probe_docker(&self, socket: &str, _timeout: Duration) -> DockerTranscript {
        let transcript = match (&self.docker, self.stat(socket)) {
            (Some(t), Ok(Some(FileKind::Socket))) => DockerTranscript {
                socket: socket.to_string(),
                ..t.clone()
            },
            _ => {
                let failure = self.no_answer(socket);
                DockerTranscript {
                    socket: socket.to_string(),
                    version: ProbeOutcome::Failed(failure.clone()),
                    info: ProbeOutcome::Failed(failure),
                }
            }
        };
        let error = transcript.version.failure().map(|f| f.message.clone());
        self.log.push_message(AccessKind::Probe, socket, error);
        transcript
    }
}

fn join(components: &[String]) -> String {
    format!("/{}", components.join("/"))
}

/// A runtime that answers every call: the base node's CRI probe.
fn healthy_cri(socket: &str, name: &str) -> CriTranscript {
    use crate::probe::cri::{Condition, RuntimeConfigAnswer, StatusAnswer, VersionAnswer};
    let condition = |kind: &str| Condition {
        kind: kind.to_string(),
        status: true,
        reason: String::new(),
        message: String::new(),
    };
    CriTranscript {
        socket: socket.to_string(),
        version: ProbeOutcome::Answered(VersionAnswer {
            service: "runtime.v1.RuntimeService".to_string(),
            runtime_api_version: "v1".to_string(),
            runtime_name: name.to_string(),
            runtime_version: "2.0.0".to_string(),
        }),
        status: ProbeOutcome::Answered(StatusAnswer {
            conditions: vec![condition("RuntimeReady"), condition("NetworkReady")],
        }),
        runtime_config: ProbeOutcome::Answered(RuntimeConfigAnswer {
            cgroup_driver: Some("systemd".to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_names_several_files_and_links() {
        let input = b"a = 1\n#@@ /etc/x.conf\nb = 2\n#@@ /etc/y.conf -> /dev/null\n";
        let parsed = files(input, "/first");
        let summary: Vec<String> = parsed
            .iter()
            .map(|(p, e)| match e {
                Entry::File(b) => format!("{p}={}", String::from_utf8_lossy(b)),
                Entry::Link(t) => format!("{p}->{t}"),
                Entry::Absent => format!("{p} absent"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "/first=a = 1\n",
                "/etc/x.conf=b = 2\n",
                "/etc/y.conf->/dev/null"
            ]
        );
    }

    #[test]
    fn the_memory_host_follows_links_inside_itself() {
        let mut host = MemHost::node(Base::Containerd);
        host.put("/etc/sysctl.conf", Entry::File(b"x=1\n".to_vec()));
        host.put(
            "/etc/sysctl.d/99-sysctl.conf",
            Entry::Link("../sysctl.conf".into()),
        );
        host.put("/loop", Entry::Link("/loop".into()));
        assert_eq!(
            host.read_text("/etc/sysctl.d/99-sysctl.conf").unwrap(),
            "x=1\n"
        );
        assert_eq!(
            host.read_link("/etc/sysctl.d/99-sysctl.conf").unwrap(),
            "../sysctl.conf"
        );
        assert!(matches!(
            host.read("/loop").unwrap_err().reason,
            ErrorReason::BadLink(_)
        ));
        let names: Vec<String> = host
            .list_dir("/etc/sysctl.d")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["99-sysctl.conf", "k8s.conf"]);
        assert!(host.read("/etc/sysctl.conf/x").unwrap_err().is_not_found());
        assert_eq!(
            host.kind("/run/containerd/containerd.sock").unwrap(),
            Some(FileKind::Socket)
        );
    }

    #[test]
    fn the_docker_replay_reads_both_answers_over_one_connection() {
        let version = ok_answer(br#"{"Version":"27.3.1","ApiVersion":"1.47"}"#);
        let info = ok_answer(br#"{"CgroupDriver":"cgroupfs","CgroupVersion":"1"}"#);
        let t = docker::replay(&[&version, &info], "/var/run/docker.sock", DEADLINE);
        assert_eq!(
            t.version.answer().unwrap().api_version.as_deref(),
            Some("1.47")
        );
        assert_eq!(
            t.info.answer().unwrap().cgroup_driver.as_deref(),
            Some("cgroupfs")
        );
        // An answer shorter than it says: the replay hangs up instead of letting the probe
        // wait out its deadline (a minute here: reaching it would fail with a timeout).
        let short = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}";
        let t = docker::replay(&[short, &info], "/s", Duration::from_secs(60));
        let failure = t.version.failure().unwrap();
        assert_eq!(failure.kind, FailureKind::Protocol, "{failure:?}");
        // Cut short: the second answer never comes, and the probe says so at once.
        let t = docker::replay(&[&version, &info[..20]], "/s", DEADLINE);
        assert!(t.info.failure().is_some(), "{t:?}");
    }

    #[test]
    fn the_cri_replay_decodes_and_reads_as_the_probe_does() {
        // VersionResponse { runtime_name: "containerd" (2), runtime_api_version: "v1" (4) }.
        let version = b"\x12\x0acontainerd\x22\x02v1";
        // RuntimeConfigResponse { linux { cgroup_driver: CGROUPFS } }.
        let config = b"\x0a\x02\x08\x01";
        let t = cri::replay(
            "/s",
            Reply::Message(version),
            Reply::Message(b""),
            Reply::Message(b""),
            Reply::Message(config),
        );
        let v = t.version.answer().unwrap();
        assert_eq!((v.runtime_name.as_str(), v.api()), ("containerd", "v1"));
        assert_eq!(t.status.answer().unwrap().conditions, []);
        assert_eq!(
            t.runtime_config.answer().unwrap().cgroup_driver.as_deref(),
            Some("cgroupfs")
        );
        // v1 unimplemented, v1alpha2 answers: the later calls are not made.
        let t = cri::replay(
            "/s",
            Reply::Status(tonic::Status::unimplemented("unknown service")),
            Reply::Message(version),
            Reply::Message(b""),
            Reply::Message(config),
        );
        assert_eq!(t.version.answer().unwrap().api(), "v1alpha2");
        assert_eq!(t.status.failure().unwrap().kind, FailureKind::Unimplemented);
        // Bytes that are not the message: the call fails, nothing panics.
        let t = cri::replay(
            "/s",
            Reply::Message(b"\xff\xff\xff"),
            Reply::Message(b""),
            Reply::Message(b""),
            Reply::Message(b""),
        );
        assert!(t.version.failure().is_some());
    }

    #[test]
    fn the_base_nodes_pass_their_checks() {
        for base in [Base::Containerd, Base::Crio, Base::Docker] {
            base_node_passes(base);
        }
    }

    fn base_node_passes(base: Base) {
        let host = MemHost::node(base);
        let config = config();
        let options = config.options();
        let rules = config.selected_rules();
        let report = commands::evaluate(&host, &rules, &options, &config.ignore, config.fail_on);
        let failed: Vec<String> = report
            .checks
            .iter()
            .filter(|c| {
                matches!(
                    c.status,
                    crate::rules::eval::Status::Fail | crate::rules::eval::Status::Error
                )
            })
            .map(|c| format!("{}: {}", c.id, c.message))
            .collect();
        assert!(failed.is_empty(), "{base:?}: {failed:#?}");
    }
}
