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
mod placement;
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
    /// The live or `--root` host's kernel files, when a thread reads them ahead.
    pub kernel_prefetch: Option<kernel::Prefetch>,
}

/// A group that reads the host on its own.
type Gatherer = fn(&dyn Host, &FactRequest) -> FactSet;

/// A group that needs the facts of other groups (the CRI probe needs the kubelet's endpoint).
type DependentGatherer = fn(&dyn Host, &FactRequest, &FactSet, &Options) -> FactSet;

/// One fact group, and how it runs.
struct Group {
    name: &'static str,
    run: Run,
}

enum Run {
    Alone(Gatherer),
    /// After the named groups (which run alone), with their facts.
    After(&'static [&'static str], DependentGatherer),
}

/// Every group. The threads take them in this order, each taking the first whose groups it
/// needs have finished, so:
/// - the kernel config comes first: inflating `/proc/config.gz` is the costliest read of a
///   live run (a check of the whole built-in catalog reads it ahead while the catalog loads,
///   [`kernel::Prefetch`], and the group only picks its options);
/// - the CRI probe comes as soon as the kubelet's (small) group has given its endpoint: it
///   mostly waits for the runtime, and waits beside the other groups' work rather than after
///   it. It is the longest path of a live run on two cores with a real containerd (0.8 of the
///   1.4 ms the groups take), so it starts on the helper thread while this one takes the
///   kernel group;
/// - then the groups that can cost the most on a busy node, longest first so the others fill
///   in beside them: containerd's TOML with its imports, the sysctl.d files, the mount
///   table; the small ones last.
const GROUPS: &[Group] = &[
    // Dependent in form only (it needs no group): it takes the options, for the kernel
    // files read ahead.
    Group {
        name: "kernel",
        run: Run::After(&[], kernel::gather),
    },
    Group {
        name: "kubelet",
        run: Run::Alone(kubelet::gather),
    },
    Group {
        name: "cri",
        run: Run::After(&["kubelet"], cri::gather),
    },
    Group {
        name: "containerd",
        run: Run::Alone(containerd::gather),
    },
    Group {
        name: "sysctl",
        run: Run::Alone(sysctl::gather),
    },
    Group {
        name: "cgroups",
        run: Run::Alone(cgroups::gather),
    },
    Group {
        name: "modules-load.d",
        run: Run::Alone(modules_load::gather),
    },
    Group {
        name: "system",
        run: Run::Alone(system::gather),
    },
    Group {
        name: "crio",
        run: Run::Alone(crio::gather),
    },
    // Docker's default cgroup driver depends on the cgroup mode and the init system.
    Group {
        name: "docker",
        run: Run::After(&["cgroups", "system"], docker::gather),
    },
];

/// Groups that need every other group's facts (the runtime in use comes from the CRI probe
/// or, without one, from the configurations).
const LATE_GROUPS: &[DependentGatherer] = &[runtime::gather];

/// Gathers every fact group in parallel (each dependent group once the groups it needs are
/// done), then the late groups, then the derived facts.
pub fn gather(host: &dyn Host, request: &FactRequest, options: &Options) -> FactSet {
    let target = &options.target;
    let mut facts = run_groups(GROUPS, host, request, options);
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

/// Only the named groups (each dependent one after the groups it needs, which are run
/// first), on this thread, without the late groups or the derived facts: one group's
/// parsers and mergers and nothing else, which is what a fuzz target explores.
///
/// # Panics
/// When a name is not a group's: the names are the caller's constants.
pub fn gather_groups(
    host: &dyn Host,
    names: &[&str],
    request: &FactRequest,
    options: &Options,
) -> FactSet {
    let group = |name: &str| {
        GROUPS
            .iter()
            .find(|g| g.name == name)
            .unwrap_or_else(|| panic!("no fact group is named {name:?}"))
    };
    let mut facts = FactSet::default();
    for name in names {
        match group(name).run {
            Run::Alone(gather) => facts.extend(gather(host, request)),
            Run::After(needs, gather) => {
                let mut before = FactSet::default();
                for need in needs {
                    if let Run::Alone(first) = group(need).run {
                        before.extend(first(host, request));
                    }
                }
                facts.extend(gather(host, request, &before, options));
            }
        }
    }
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
/// each thread taking the first group not yet started whose needs are met, and merges what
/// they found: the groups that run alone first, in order, then the dependent ones.
///
/// Plain scoped threads rather than rayon's global pool: a run has a handful of groups and
/// the pool's start-up cost more than they do on a small host. Many hosts at once (bundles)
/// are parallel at the level of hosts instead.
fn run_groups(
    groups: &[Group],
    host: &dyn Host,
    request: &FactRequest,
    options: &Options,
) -> FactSet {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Condvar, Mutex, OnceLock};

    let index = |name: &str| groups.iter().position(|g| g.name == name);
    let done: Vec<OnceLock<FactSet>> = groups.iter().map(|_| OnceLock::new()).collect();
    let taken = Mutex::new(vec![false; groups.len()]);
    let finished = Condvar::new();
    let ready = |g: &Group| match g.run {
        Run::Alone(_) => true,
        Run::After(needs, _) => needs
            .iter()
            .all(|n| index(n).is_some_and(|i| done[i].get().is_some())),
    };
    // Set when a gatherer panicked: what waits for it must stop waiting (the panic then
    // surfaces when the threads are joined) rather than hang the run.
    let abandoned = AtomicBool::new(false);
    let work = || loop {
        let next = {
            let mut taken = taken.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if abandoned.load(Ordering::Relaxed) {
                    break None;
                }
                if let Some(i) = (0..groups.len()).find(|&i| !taken[i] && ready(&groups[i])) {
                    taken[i] = true;
                    break Some(i);
                }
                if taken.iter().all(|t| *t) {
                    break None;
                }
                // Only dependent groups are left, and what they need is still running.
                taken = finished.wait(taken).unwrap_or_else(|p| p.into_inner());
            }
        };
        let Some(i) = next else { return };
        let on_panic = OnPanic(|| {
            abandoned.store(true, Ordering::Relaxed);
            drop(taken.lock().unwrap_or_else(|p| p.into_inner()));
            finished.notify_all();
        });
        let found = match groups[i].run {
            Run::Alone(gather) => gather(host, request),
            Run::After(needs, gather) => {
                let mut before = FactSet::default();
                for need in needs {
                    if let Some(facts) = index(need).and_then(|n| done[n].get()) {
                        before.extend(facts.clone());
                    }
                }
                gather(host, request, &before, options)
            }
        };
        std::mem::forget(on_panic);
        // Set once: this thread took the group, and no other can.
        let _ = done[i].set(found);
        // Taken under the lock, so a thread between its search and its wait cannot miss it.
        drop(taken.lock().unwrap_or_else(|p| p.into_inner()));
        finished.notify_all();
    };
    // Inside a rayon worker (many bundles checked at once) every core already has a host of
    // its own: spawning threads per host would only leave the worker waiting on the join.
    let threads = if rayon::current_thread_index().is_some() {
        1
    } else {
        placement::usable_cpus().min(groups.len())
    };
    std::thread::scope(|scope| {
        let mut helpers = Vec::new();
        if threads > 1 {
            // Each helper gets the CPU this thread leaves for it (placement.rs says why); the
            // CPUs are given back when `aside` is dropped, at the end of this block.
            let aside = placement::StepAside::new();
            for _ in 1..threads {
                helpers.push(scope.spawn(work));
                aside.step();
            }
        }
        work();
        for helper in helpers {
            if let Err(panic) = helper.join() {
                // A gatherer that panicked is a bug; let it surface as the panic it was.
                std::panic::resume_unwind(panic);
            }
        }
    });
    let mut facts = FactSet::default();
    let (alone, after): (Vec<_>, Vec<_>) = groups
        .iter()
        .zip(done)
        .partition(|(g, _)| matches!(g.run, Run::Alone(_)));
    for (_, found) in alone.into_iter().chain(after) {
        facts.extend(found.into_inner().unwrap_or_default());
    }
    facts
}

/// Runs its closure when dropped, which (being forgotten on the way out otherwise) happens
/// only while a panic unwinds.
struct OnPanic<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnPanic<F> {
    fn drop(&mut self) {
        (self.0)();
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FsHost;

    #[test]
    fn dependent_groups_need_only_groups_that_run_alone() {
        for group in GROUPS {
            if let Run::After(needs, _) = group.run {
                for need in needs {
                    let found = GROUPS.iter().find(|g| g.name == *need);
                    assert!(
                        matches!(
                            found,
                            Some(Group {
                                run: Run::Alone(_),
                                ..
                            })
                        ),
                        "{} needs {need}, which is not a group that runs alone",
                        group.name
                    );
                }
            }
        }
        let mut names: Vec<&str> = GROUPS.iter().map(|g| g.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), GROUPS.len(), "group names are unique");
    }

    fn first(_: &dyn Host, _: &FactRequest) -> FactSet {
        let mut facts = FactSet::default();
        facts.insert("a", Fact::known(1i64, Provenance::file("first")));
        facts
    }

    fn second(_: &dyn Host, _: &FactRequest, before: &FactSet, _: &Options) -> FactSet {
        let mut facts = FactSet::default();
        let seen = match before.get("a").and_then(Fact::value) {
            Some(Value::Int(i)) => *i,
            _ => -1,
        };
        facts.insert("b", Fact::known(seen + 1, Provenance::file("second")));
        facts
    }

    fn broken(_: &dyn Host, _: &FactRequest) -> FactSet {
        panic!("a gatherer's bug");
    }

    fn options() -> Options {
        Options {
            target: Target {
                kubernetes_version: crate::version::Version::new(1, 35),
                kubernetes_version_source: "test".into(),
                role: crate::cli::Role::Worker,
            },
            runtime: RuntimeOptions::default(),
            kernel_prefetch: None,
        }
    }

    #[test]
    fn a_dependent_group_runs_after_what_it_needs_and_sees_its_facts() {
        // Listed first, so a thread reaches it before `first` has run.
        let groups = [
            Group {
                name: "second",
                run: Run::After(&["first"], second),
            },
            Group {
                name: "first",
                run: Run::Alone(first),
            },
        ];
        let host = FsHost::under("/nonexistent");
        let request = FactRequest::new(["a", "b"]);
        for _ in 0..50 {
            let facts = run_groups(&groups, &host, &request, &options());
            assert_eq!(facts.get("b").and_then(Fact::value), Some(&Value::Int(2)));
        }
    }

    #[test]
    fn a_panicking_group_surfaces_as_a_panic_not_a_hang() {
        let groups = [
            Group {
                name: "second",
                run: Run::After(&["broken"], second),
            },
            Group {
                name: "broken",
                run: Run::Alone(broken),
            },
        ];
        let host = FsHost::under("/nonexistent");
        let request = FactRequest::new(["b"]);
        let outcome = std::panic::catch_unwind(|| run_groups(&groups, &host, &request, &options()));
        assert!(outcome.is_err());
    }
}
