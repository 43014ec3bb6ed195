//! Facts: what a run learns about a host, each with where it came from.
//!
//! Facts are gathered once per run. Each group reads its part of the host independently of
//! the others, so the groups run in parallel; facts that combine groups (the recommended
//! cgroup driver needs both the init system and the cgroup mode) are derived afterwards.
//! A fact that could not be read is [`FactState::Unknown`] with the reason, never a default.

pub mod cgroups;
pub mod confdirs;
pub mod containerd;
pub mod cri;
pub mod crio;
pub mod derived;
pub mod docker;
pub mod kconfig;
pub mod kernel;
pub mod kubelet;
pub mod kubernetes_versions;
pub mod modules_load;
pub mod registry;
pub mod runtime;
pub mod sysctl;
pub mod system;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::host::Host;

/// A fact's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
            Value::List(items) if items.is_empty() => f.write_str("(none)"),
            Value::List(items) => f.write_str(&items.join(", ")),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::List(v)
    }
}

/// Where a fact came from: a file (and line), or a description of how it was decided.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// How the source decided it, where that is not obvious ("overrides 1 set at …").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Provenance {
    pub fn file(path: impl Into<String>) -> Self {
        Provenance {
            source: path.into(),
            ..Provenance::default()
        }
    }

    pub fn line(path: impl Into<String>, line: u32) -> Self {
        Provenance {
            source: path.into(),
            line: Some(line),
            note: None,
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(note) = &self.note {
            if self.source.is_empty() {
                f.write_str(note)?;
            } else {
                write!(f, ", {note}")?;
            }
        }
        Ok(())
    }
}

/// What is known of a fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FactState {
    Known(Value),
    /// Looked for, and not there (a sysctl no file sets, a kernel option not in the config).
    Absent,
    /// Could not be read or worked out; the string says why.
    Unknown(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub state: FactState,
    pub provenance: Provenance,
}

impl Fact {
    pub fn known(value: impl Into<Value>, provenance: Provenance) -> Self {
        Fact {
            state: FactState::Known(value.into()),
            provenance,
        }
    }

    pub fn absent(provenance: Provenance) -> Self {
        Fact {
            state: FactState::Absent,
            provenance,
        }
    }

    pub fn unknown(reason: impl Into<String>) -> Self {
        Fact {
            state: FactState::Unknown(reason.into()),
            provenance: Provenance::default(),
        }
    }

    pub fn value(&self) -> Option<&Value> {
        match &self.state {
            FactState::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value() {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.value() {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }
}

/// The facts of one run, by name, in name order.
#[derive(Clone, Debug, Default)]
pub struct FactSet(BTreeMap<String, Fact>);

impl FactSet {
    pub fn insert(&mut self, name: impl Into<String>, fact: Fact) {
        self.0.insert(name.into(), fact);
    }

    pub fn get(&self, name: &str) -> Option<&Fact> {
        self.0.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Fact)> {
        self.0.iter()
    }

    pub fn extend(&mut self, other: FactSet) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A fact's value as text, or `None` when it is not known.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).and_then(Fact::value).map(Value::to_string)
    }
}

/// The facts that the selected rules name: gatherers of parameterised facts (`sysctl.*`,
/// `module.*`, `kconfig.*`) read only what is asked for.
#[derive(Clone, Debug, Default)]
pub struct FactRequest {
    names: BTreeSet<String>,
}

impl FactRequest {
    /// The facts named, plus the facts of other groups that the groups computing them read.
    pub fn new<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut names: BTreeSet<String> = names.into_iter().map(Into::into).collect();
        if runtime::FACTS.iter().any(|f| names.contains(*f)) {
            names.extend(runtime::INPUTS.iter().map(|f| f.to_string()));
        }
        FactRequest { names }
    }

    /// The parameters requested under a prefix: for `sysctl.runtime.` and the request
    /// `sysctl.runtime.net.ipv4.ip_forward`, yields `net.ipv4.ip_forward`.
    pub fn params<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.names
            .iter()
            .filter_map(move |n| n.strip_prefix(prefix))
    }

    /// Middle parameters of `prefix<param>.<suffix>` names (`module.overlay.loaded` → `overlay`).
    pub fn middle_params(&self, prefix: &str) -> BTreeSet<String> {
        self.params(prefix)
            .filter_map(|rest| rest.split_once('.').map(|(p, _)| p.to_string()))
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// What the run is for: the target Kubernetes version and the node's role. These are facts
/// too (`target.*`), so that `when` predicates use the same language as `expect`.
#[derive(Clone, Debug)]
pub struct Target {
    pub kubernetes_version: crate::version::Version,
    pub kubernetes_version_source: String,
    pub role: crate::cli::Role,
}

/// Which container runtime to look at, and how long a socket may take to answer.
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// `--runtime`: `None` means detect it.
    pub runtime: Option<crate::cli::Runtime>,
    /// `--cri-socket`, without any `unix://` prefix.
    pub cri_socket: Option<String>,
    /// `--timeout`: the deadline of each socket probe.
    pub timeout: std::time::Duration,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            runtime: None,
            cri_socket: None,
            timeout: std::time::Duration::from_secs(2),
        }
    }
}

/// Everything a gatherer may need besides the host.
#[derive(Clone, Debug)]
pub struct Options {
    pub target: Target,
    pub runtime: RuntimeOptions,
}

/// A group that reads the host on its own: all of them run in parallel.
type Gatherer = fn(&dyn Host, &FactRequest) -> FactSet;

/// A group that needs facts of the first phase (the CRI probe needs the kubelet's endpoint).
type DependentGatherer = fn(&dyn Host, &FactRequest, &FactSet, &Options) -> FactSet;

///
/// The threads take them in this order, so the groups that can cost the most on a busy node
/// come first (longest first: the others fill in beside them): containerd's TOML with its
/// imports, then the sysctl.d files, the mount table and the module list.
const GROUPS: &[Gatherer] = &[
    containerd::gather,
    sysctl::gather,
    cgroups::gather,
    kernel::gather,
    modules_load::gather,
    system::gather,
    crio::gather,
    kubelet::gather,
];

/// The CRI probe needs the kubelet's endpoint; Docker's default cgroup driver depends on the
/// cgroup mode and the init system.
const DEPENDENT_GROUPS: &[DependentGatherer] = &[cri::gather, docker::gather];

/// Groups that need the dependent groups' facts too (the runtime in use comes from the CRI
/// probe or, without one, from the configurations).
const LATE_GROUPS: &[DependentGatherer] = &[runtime::gather];

/// Gathers every fact group in parallel, then the groups that depend on them, then the
/// derived facts.
pub fn gather(host: &dyn Host, request: &FactRequest, options: &Options) -> FactSet {
    let target = &options.target;
    let mut facts = in_parallel(GROUPS, |gather| gather(host, request));
    let dependent = in_parallel(DEPENDENT_GROUPS, |gather| {
        gather(host, request, &facts, options)
    });
    facts.extend(dependent);
    for gather in LATE_GROUPS {
        let late = gather(host, request, &facts, options);
        facts.extend(late);
    }
    facts.insert(
        "target.kubernetes_version",
        Fact::known(
            target.kubernetes_version.to_string(),
            Provenance::file(target.kubernetes_version_source.clone()),
        ),
    );
    facts.insert(
        "target.role",
        Fact::known(target.role.as_str(), Provenance::file("--role")),
    );
    derived::derive(&mut facts, request);
    facts
}

/// Names the first line of a /proc file that a parser refused: `/proc/modules:2: not a
/// "name size …" line: "garbage"`.
pub(crate) fn malformed_line(
    path: &str,
    bytes: &[u8],
    format: &str,
    well_formed: impl Fn(&[&str]) -> bool,
) -> String {
    let text = String::from_utf8_lossy(bytes);
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !fields.is_empty() && !well_formed(&fields) {
            return format!("{path}:{}: not a \"{format}\" line: {line:?}", i + 1);
        }
    }
    format!("{path}: cannot parse it as \"{format}\" lines")
}

/// Runs the groups on as many scoped threads as there are cores (this thread one of them),
/// each taking the next group not yet started, and merges what they found.
///
/// Plain scoped threads rather than rayon's global pool: a run has a handful of groups and
/// the pool's start-up cost more than they do on a small host. Many hosts at once (bundles)
/// are parallel at the level of hosts instead.
fn in_parallel<G: Sync>(groups: &[G], run: impl Fn(&G) -> FactSet + Sync) -> FactSet {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let work = || {
        let mut facts = FactSet::default();
        while let Some(group) = groups.get(next.fetch_add(1, Ordering::Relaxed)) {
            facts.extend(run(group));
        }
        facts
    };
    // Asked once per process: std reads the process's cgroup CPU limit to answer.
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from));
    // Inside a rayon worker (many bundles checked at once) every core already has a host of
    // its own: spawning threads per host would only leave the worker waiting on the join.
    let threads = if rayon::current_thread_index().is_some() {
        1
    } else {
        cores.min(groups.len())
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut facts = work();
        for helper in helpers {
            match helper.join() {
                Ok(found) => facts.extend(found),
                // A gatherer that panicked is a bug; let it surface as the panic it was.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        facts
    })
}

impl Serialize for Fact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Fact", 4)?;
        match &self.state {
            FactState::Known(v) => {
                s.serialize_field("status", "known")?;
                s.serialize_field("value", v)?;
            }
            FactState::Absent => {
                s.serialize_field("status", "absent")?;
                s.serialize_field("value", &None::<Value>)?;
            }
            FactState::Unknown(reason) => {
                s.serialize_field("status", "unknown")?;
                s.serialize_field("reason", reason)?;
            }
        }
        if !self.provenance.source.is_empty() {
            s.serialize_field("source", &self.provenance.source)?;
        }
        if let Some(line) = self.provenance.line {
            s.serialize_field("line", &line)?;
        }
        if let Some(note) = &self.provenance.note {
            s.serialize_field("note", note)?;
        }
        s.end()
    }
}
