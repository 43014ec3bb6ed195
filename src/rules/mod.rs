//! Rules are data: `checks/*.toml`, embedded in the binary, extended with `--checks DIR`.
//!
//! ```toml
//! [[check]]
//! id = "sysctl.ip-forward"
//! title = "IPv4 forwarding is on"
//! category = "sysctl"
//! severity = "error"                 # or "warning"
//! docs = "https://kubernetes.io/..."
//! rationale = "Why it matters."
//! remediation = "Exactly what to do."
//! when = { fact = "target.role", equals = "control-plane" }    # optional
//! expect = { fact = "sysctl.runtime.net.ipv4.ip_forward", equals = "1" }
//!
//! [[check.severity_from]]            # optional: severity by Kubernetes version
//! kubernetes = "1.30"
//! severity = "warning"
//! reason = "Why the version changes it."
//! ```
//!
//! A rule may carry a structured remedy, `fix`, that `node-preflight fix` turns into shell
//! commands when the check fails (without one, the script carries the check's `remediation`
//! as a comment). The kinds:
//!
//! ```toml
//! fix = { kind = "module", name = "overlay" }            # modules-load.d + modprobe
//! fix = { kind = "sysctl", key = "net.ipv4.ip_forward", value = "1" }  # sysctl.d drop-in
//! fix = { kind = "containerd", setting = "cri-enabled" }  # or cgroup-driver, sandbox-image
//! fix = { kind = "crio", setting = "cgroup-manager" }     # or conmon-cgroup, pause-image
//! fix = { kind = "kubelet", setting = "cgroup-driver" }
//! fix = { kind = "swap" }                                 # swapoff + /etc/fstab
//! ```
//!
//! An unknown kind, a missing or extra field, or a setting the kind does not have is refused
//! like any other catalog error.

mod dedent;
pub mod eval;
pub mod predicate;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::facts::registry;
use crate::version::Version;
use dedent::dedent;
use predicate::{Predicate, RawPredicate};

/// The catalog files built into the binary: (file name, its content converted to JSON by
/// build.rs from `checks/`).
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_checks.rs"));

/// How a catalog file is written: TOML as people write it, or the JSON build.rs made of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    Toml,
    /// Built in: its texts already dedented by build.rs, and its facts known to the registry
    /// (`every_builtin_fact_is_known`), so a run does neither again (0.4 M of a live check's
    /// 7.3 M instructions, before any fact could be gathered).
    Json,
}

/// Categories in the order reports show them; others follow alphabetically.
pub const CATEGORY_ORDER: &[&str] = &[
    "kernel", "sysctl", "cgroups", "node", "runtime", "kubelet", "cni",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A severity that applies from a Kubernetes version on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeverityStep {
    pub kubernetes: Version,
    pub severity: Severity,
    pub reason: String,
}

/// One check of the catalog.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    pub severity_from: Vec<SeverityStep>,
    pub docs: String,
    pub rationale: String,
    pub remediation: String,
    pub when: Option<Predicate>,
    pub expect: Predicate,
    /// The structured remedy `node-preflight fix` applies, if there is a safe one.
    pub fix: Option<Fix>,
    /// The file the rule came from (`checks/kernel.toml` or a `--checks` path).
    pub source: String,
}

impl Rule {
    /// The severity for a target version, with the reason when a version step decided it.
    pub fn severity_for(&self, version: Version) -> (Severity, Option<&str>) {
        self.severity_from
            .iter()
            .filter(|s| s.kubernetes <= version)
            .max_by_key(|s| s.kubernetes)
            .map_or((self.severity, None), |s| {
                (s.severity, Some(s.reason.as_str()))
            })
    }

    /// Every fact the rule reads, its remedy's included (so that `fix` targets the file and
    /// line that the same run saw).
    pub fn facts(&self) -> impl Iterator<Item = String> + '_ {
        self.when
            .iter()
            .flat_map(Predicate::facts)
            .chain(self.expect.facts())
            .map(str::to_string)
            .chain(self.fix.iter().flat_map(Fix::facts))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    check: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    title: String,
    category: String,
    severity: Severity,
    #[serde(default)]
    severity_from: Vec<RawSeverityStep>,
    docs: String,
    rationale: String,
    remediation: String,
    when: Option<RawPredicate>,
    expect: RawPredicate,
    fix: Option<RawFix>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFix {
    kind: String,
    name: Option<String>,
    key: Option<String>,
    value: Option<String>,
    setting: Option<String>,
}

/// A structured remedy: what `node-preflight fix` may change for a failed check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fix {
    /// List the module in modules-load.d, and load it (live only).
    Module {
        name: String,
    },
    /// Make a sysctl key persist with a value, and apply the files (live only).
    Sysctl {
        key: String,
        value: String,
    },
    Containerd(ContainerdSetting),
    Crio(CrioSetting),
    Kubelet(KubeletSetting),
    Docker(DockerSetting),
    /// Turn swap off (live only) and comment out the swap lines of /etc/fstab.
    Swap,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerdSetting {
    CriEnabled,
    CgroupDriver,
    SandboxImage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrioSetting {
    CgroupManager,
    ConmonCgroup,
    PauseImage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeletSetting {
    CgroupDriver,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DockerSetting {
    CgroupDriver,
}

pub const FIX_KINDS: &[&str] = &[
    "module",
    "sysctl",
    "containerd",
    "crio",
    "kubelet",
    "docker",
    "swap",
];

impl Fix {
    /// The facts the remedy reads to find the file and line to change.
    pub fn facts(&self) -> Vec<String> {
        let names: Vec<String> = match self {
            Fix::Module { name } => vec![
                format!("module.{name}.persisted"),
                format!("module.{name}.builtin"),
            ],
            Fix::Sysctl { key, .. } => vec![format!("sysctl.persisted.{key}")],
            Fix::Containerd(s) => {
                let mut v = vec!["containerd.config.version", "containerd.config_files"];
                v.extend(match s {
                    ContainerdSetting::CriEnabled => vec!["containerd.cri_enabled"],
                    ContainerdSetting::CgroupDriver => vec![
                        "containerd.cgroup_driver",
                        "containerd.default_runtime",
                        "cgroup.recommended_driver",
                    ],
                    ContainerdSetting::SandboxImage => {
                        vec!["containerd.sandbox_image", "target.pause_image"]
                    }
                });
                v.into_iter().map(str::to_string).collect()
            }
            Fix::Crio(_) => [
                "crio.config.files",
                "crio.cgroup_manager",
                "crio.conmon_cgroup",
                "crio.pause_image",
                "cgroup.recommended_driver",
                "target.pause_image",
            ]
            .map(str::to_string)
            .to_vec(),
            Fix::Kubelet(KubeletSetting::CgroupDriver) => {
                vec![
                    "kubelet.cgroup_driver".into(),
                    "cgroup.recommended_driver".into(),
                ]
            }
            Fix::Docker(DockerSetting::CgroupDriver) => [
                "docker.cgroup_driver",
                "cri_dockerd.installed",
                "cgroup.recommended_driver",
            ]
            .map(str::to_string)
            .to_vec(),
            Fix::Swap => vec![],
        };
        names
    }
}

impl RawFix {
    fn build(self) -> Result<Fix, String> {
        let RawFix {
            kind,
            name,
            key,
            value,
            setting,
        } = self;
        let given = [
            ("name", name.is_some()),
            ("key", key.is_some()),
            ("value", value.is_some()),
            ("setting", setting.is_some()),
        ];
        let allowed: &[&str] = match kind.as_str() {
            "module" => &["name"],
            "sysctl" => &["key", "value"],
            "containerd" | "crio" | "kubelet" | "docker" => &["setting"],
            "swap" => &[],
            other => {
                return Err(format!(
                    "unknown kind {other:?} (one of {})",
                    FIX_KINDS.join(", ")
                ))
            }
        };
        for (field, present) in given {
            if present && !allowed.contains(&field) {
                return Err(format!("kind {kind:?} takes no `{field}`"));
            }
            if !present && allowed.contains(&field) {
                return Err(format!("kind {kind:?} needs `{field}`"));
            }
        }
        let setting = setting.unwrap_or_default();
        let bad_setting = |known: &[&str]| {
            format!(
                "kind {kind:?} has no setting {setting:?} (one of {})",
                known.join(", ")
            )
        };
        Ok(match kind.as_str() {
            "module" => {
                let name = name.unwrap_or_default();
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    return Err(format!("{name:?} is not a module name"));
                }
                Fix::Module { name }
            }
            "sysctl" => {
                let key = key.unwrap_or_default();
                let value = value.unwrap_or_default();
                if key.is_empty()
                    || !key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
                {
                    return Err(format!("{key:?} is not a sysctl key"));
                }
                if value.trim().is_empty() || value.contains(['\n', '\r']) {
                    return Err(format!("{value:?} is not a one-line sysctl value"));
                }
                Fix::Sysctl { key, value }
            }
            "containerd" => Fix::Containerd(match setting.as_str() {
                "cri-enabled" => ContainerdSetting::CriEnabled,
                "cgroup-driver" => ContainerdSetting::CgroupDriver,
                "sandbox-image" => ContainerdSetting::SandboxImage,
                _ => {
                    return Err(bad_setting(&[
                        "cri-enabled",
                        "cgroup-driver",
                        "sandbox-image",
                    ]))
                }
            }),
            "crio" => Fix::Crio(match setting.as_str() {
                "cgroup-manager" => CrioSetting::CgroupManager,
                "conmon-cgroup" => CrioSetting::ConmonCgroup,
                "pause-image" => CrioSetting::PauseImage,
                _ => {
                    return Err(bad_setting(&[
                        "cgroup-manager",
                        "conmon-cgroup",
                        "pause-image",
                    ]))
                }
            }),
            "kubelet" => Fix::Kubelet(match setting.as_str() {
                "cgroup-driver" => KubeletSetting::CgroupDriver,
                _ => return Err(bad_setting(&["cgroup-driver"])),
            }),
            "docker" => Fix::Docker(match setting.as_str() {
                "cgroup-driver" => DockerSetting::CgroupDriver,
                _ => return Err(bad_setting(&["cgroup-driver"])),
            }),
            _ => Fix::Swap,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeverityStep {
    kubernetes: String,
    severity: Severity,
    reason: String,
}

/// A catalog that is wrong: the run stops before anything is checked (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct CatalogError(pub Vec<String>);

/// The loaded, validated rules.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub rules: Vec<Rule>,
}

impl Catalog {
    /// The built-in catalog plus every `*.toml` in `extra` (read by the CLI, in name order).
    pub fn load(extra: &[(PathBuf, String)]) -> Result<Catalog, CatalogError> {
        let builtin = BUILTIN
            .iter()
            .map(|(name, json)| (format!("checks/{name}"), *json, Syntax::Json));
        let extra = extra
            .iter()
            .map(|(path, text)| (path.display().to_string(), text.as_str(), Syntax::Toml));
        Self::parse(builtin.chain(extra))
    }

    /// Parses and validates catalog files given as (name, TOML text).
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalog, CatalogError> {
        let sources: Vec<(String, String)> = sources.into_iter().collect();
        Self::parse(
            sources
                .iter()
                .map(|(name, text)| (name.clone(), text.as_str(), Syntax::Toml)),
        )
    }

    fn parse<'a>(
        sources: impl IntoIterator<Item = (String, &'a str, Syntax)>,
    ) -> Result<Catalog, CatalogError> {
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        for (source, text, syntax) in sources {
            let parsed = match syntax {
                Syntax::Toml => toml::from_str::<RawFile>(text).map_err(|e| e.to_string()),
                Syntax::Json => serde_json::from_str::<RawFile>(text).map_err(|e| e.to_string()),
            };
            match parsed {
                Ok(file) => {
                    for raw in file.check {
                        let id = raw.id.clone();
                        match build_rule(raw, &source, syntax) {
                            Ok(rule) => rules.push(rule),
                            Err(e) => errors.push(format!("{source}: check {id}: {e}")),
                        }
                    }
                }
                Err(e) => errors.push(format!("{source}: {}", e.trim_end())),
            }
        }
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for rule in &rules {
            if let Some(first) = seen.insert(&rule.id, &rule.source) {
                errors.push(format!(
                    "{}: check {}: the id is already used in {first}",
                    rule.source, rule.id
                ));
            }
        }
        if errors.is_empty() {
            Ok(Catalog { rules })
        } else {
            Err(CatalogError(errors))
        }
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The newest Kubernetes version any rule knows of: the default target.
    pub fn newest_kubernetes(&self) -> Version {
        let mut newest = Version::new(1, 30);
        for rule in &self.rules {
            for step in &rule.severity_from {
                newest = newest.max(step.kubernetes);
            }
            for fact_version in rule.versions_named() {
                newest = newest.max(fact_version);
            }
        }
        newest
    }

    /// Every fact the given rules read.
    pub fn facts_of<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> BTreeSet<String> {
        rules
            .into_iter()
            .flat_map(|r| r.facts().collect::<Vec<_>>())
            .collect()
    }
}

impl Rule {
    /// Kubernetes versions a rule compares `target.kubernetes_version` with.
    fn versions_named(&self) -> Vec<Version> {
        fn walk(p: &Predicate, out: &mut Vec<Version>) {
            match p {
                Predicate::Fact { fact, test } if fact == "target.kubernetes_version" => {
                    use predicate::{Comparison, Literal};
                    let lits: Vec<&Literal> = match test {
                        Comparison::Equals(l) | Comparison::AtLeast(l) | Comparison::Below(l) => {
                            vec![l]
                        }
                        Comparison::OneOf(ls) => ls.iter().collect(),
                        _ => vec![],
                    };
                    out.extend(
                        lits.into_iter()
                            .filter_map(|l| l.to_string().parse::<Version>().ok()),
                    );
                }
                Predicate::Fact { .. } => {}
                Predicate::All(ps) | Predicate::Any(ps) => ps.iter().for_each(|p| walk(p, out)),
                Predicate::Not(p) => walk(p, out),
            }
        }
        let mut out = Vec::new();
        if let Some(w) = &self.when {
            walk(w, &mut out);
        }
        walk(&self.expect, &mut out);
        out
    }
}

fn build_rule(raw: RawRule, source: &str, syntax: Syntax) -> Result<Rule, String> {
    if !valid_id(&raw.id) {
        return Err("an id is lowercase dotted words, like `sysctl.ip-forward`".into());
    }
    for (field, value) in [
        ("title", &raw.title),
        ("category", &raw.category),
        ("docs", &raw.docs),
        ("rationale", &raw.rationale),
        ("remediation", &raw.remediation),
    ] {
        if value.trim().is_empty() {
            return Err(format!("`{field}` is empty"));
        }
    }
    let when = raw
        .when
        .map(RawPredicate::build)
        .transpose()
        .map_err(|e| format!("when: {e}"))?;
    let expect = raw.expect.build().map_err(|e| format!("expect: {e}"))?;
    let fix = raw
        .fix
        .map(RawFix::build)
        .transpose()
        .map_err(|e| format!("fix: {e}"))?;
    let severity_from = raw
        .severity_from
        .into_iter()
        .map(|s| {
            Ok(SeverityStep {
                kubernetes: s.kubernetes.parse()?,
                severity: s.severity,
                reason: s.reason,
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| format!("severity_from: {e}"))?;
    let rule = Rule {
        id: raw.id,
        title: raw.title,
        category: raw.category,
        severity: raw.severity,
        severity_from,
        docs: raw.docs,
        rationale: match syntax {
            Syntax::Toml => dedent(&raw.rationale),
            Syntax::Json => raw.rationale,
        },
        remediation: match syntax {
            Syntax::Toml => dedent(&raw.remediation),
            Syntax::Json => raw.remediation,
        },
        when,
        expect,
        fix,
        source: source.to_string(),
    };
    if syntax == Syntax::Json {
        return Ok(rule);
    }
    let unknown: Vec<String> = rule.facts().filter(|f| !registry::is_known(f)).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unknown fact {} (`node-preflight facts` lists them)",
            unknown.join(", ")
        ));
    }
    Ok(rule)
}

fn valid_id(id: &str) -> bool {
    let mut parts = id.split('.');
    parts.clone().count() >= 2
        && parts.all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !p.starts_with('-')
        })
}

/// Reads every `*.toml` file of a `--checks` directory, in name order.
pub fn read_checks_dir(dir: &Path) -> Result<Vec<(PathBuf, String)>, CatalogError> {
    let fail = |e: std::io::Error| CatalogError(vec![format!("--checks {}: {e}", dir.display())]);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(fail)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            std::fs::read_to_string(&p)
                .map(|text| (p.clone(), text))
                .map_err(|e| CatalogError(vec![format!("{}: {e}", p.display())]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_loads() {
        let catalog = Catalog::load(&[]).expect("built-in catalog is valid");
        assert!(catalog.rules.len() > 10);
    }

    #[test]
    fn remedies_are_dedented_keeping_relative_indentation() {
        let text = "\n    first\n      indented  \n\n    last\n   \n";
        assert_eq!(dedent(text), "first\n  indented\n\nlast");
        assert_eq!(dedent("one line"), "one line");
        assert_eq!(dedent(""), "");
    }

    #[test]
    fn ids_are_unique() {
        let catalog = Catalog::load(&[]).unwrap();
        let mut ids: Vec<&str> = catalog.rules.iter().map(|r| r.id.as_str()).collect();
        let total = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), total, "two built-in checks share an id");
    }

    #[test]
    fn a_duplicate_id_is_refused_naming_both_files() {
        let rule = r#"
[[check]]
id = "x.dup"
title = "t"
category = "node"
severity = "error"
docs = "https://example.invalid"
rationale = "r"
remediation = "m"
expect = { fact = "swap.enabled", equals = false }
"#;
        let err = Catalog::from_sources([
            ("a.toml".into(), rule.into()),
            ("b.toml".into(), rule.into()),
        ])
        .unwrap_err();
        assert_eq!(
            err.0,
            vec!["b.toml: check x.dup: the id is already used in a.toml"]
        );
    }

    #[test]
    fn an_unknown_fact_is_refused() {
        let rule = r#"
[[check]]
id = "x.typo"
title = "t"
category = "node"
severity = "error"
docs = "https://example.invalid"
rationale = "r"
remediation = "m"
expect = { fact = "swap.enabeld", equals = false }
"#;
        let err = Catalog::from_sources([("a.toml".into(), rule.into())]).unwrap_err();
        assert!(err.0[0].contains("unknown fact swap.enabeld"), "{err}");
    }

    #[test]
    fn every_builtin_fact_is_known() {
        // What keeps the built-in catalog valid: a run does not look again (`Syntax::Json`).
        let catalog = Catalog::load(&[]).unwrap();
        for rule in &catalog.rules {
            for fact in rule.facts() {
                assert!(
                    registry::is_known(&fact),
                    "{}: unknown fact {fact}",
                    rule.id
                );
            }
        }
    }

    fn with_fix(fix: &str) -> Result<Catalog, CatalogError> {
        let rule = format!(
            r#"
[[check]]
id = "x.fix"
title = "t"
category = "node"
severity = "error"
docs = "https://example.invalid"
rationale = "r"
remediation = "m"
expect = {{ fact = "swap.enabled", equals = false }}
fix = {fix}
"#
        );
        Catalog::from_sources([("a.toml".into(), rule)])
    }

    #[test]
    fn fixes_are_validated() {
        let ok =
            with_fix(r#"{ kind = "sysctl", key = "net.ipv4.ip_forward", value = "1" }"#).unwrap();
        assert_eq!(
            ok.rules[0].fix,
            Some(Fix::Sysctl {
                key: "net.ipv4.ip_forward".into(),
                value: "1".into()
            })
        );
        // The remedy's facts are the rule's facts too (gathered, and checked against the registry).
        assert!(ok.rules[0]
            .facts()
            .any(|f| f == "sysctl.persisted.net.ipv4.ip_forward"));
        for (fix, error) in [
            (r#"{ kind = "reboot" }"#, "unknown kind \"reboot\""),
            (r#"{ kind = "module" }"#, "needs `name`"),
            (r#"{ kind = "swap", name = "x" }"#, "takes no `name`"),
            (
                r#"{ kind = "containerd", setting = "snapshotter" }"#,
                "no setting \"snapshotter\"",
            ),
            (r#"{ kind = "module", name = "a;b" }"#, "not a module name"),
            (r#"{ kind = "swap", extra = 1 }"#, "unknown field `extra`"),
        ] {
            let err = with_fix(fix).unwrap_err().to_string();
            assert!(err.contains(error), "{fix}: {err}");
        }
    }

    #[test]
    fn severity_follows_the_version() {
        let catalog = Catalog::load(&[]).unwrap();
        let rule = catalog.get("sysctl.bridge-nf-call-iptables").unwrap();
        assert_eq!(rule.severity_for(Version::new(1, 29)).0, Severity::Error);
        let (sev, why) = rule.severity_for(Version::new(1, 30));
        assert_eq!(sev, Severity::Warning);
        assert!(why.is_some());
    }
}
