//! containerd's configuration, read as containerd reads it: `/etc/containerd/config.toml`,
//! the files it `imports` (globs, relative paths, recursion), merged by the rules of the
//! containerd that reads that config version, with every value traced to its file and line.
//!
//! Facts: `containerd.config.present`, `.config.version`, `.config.valid`,
//! `.config_files`, `.cri_enabled`, `.cgroup_driver`, `.sandbox_image`, `.default_runtime`,
//! `.runtime_type`, `.runtime_binary`, `.cni_bin_dir`, `.cni_conf_dir`.
//! A value the files do not set is containerd's built-in default, with provenance
//! "containerd default"; the installed containerd's version is not known from files, so the
//! default is the one of the containerd that the config version belongs to.

mod load;
mod migrate;
mod tree;

use super::{Fact, FactRequest, FactSet, Provenance};
use crate::host::Host;
use load::{LoadError, Loaded};
use migrate::{CRI_GRPC, CRI_IMAGES, CRI_RUNTIME};
use tree::{Leaf, Node, Scalar, Table};

/// containerd's default `--config`.
pub const CONFIG_PATH: &str = "/etc/containerd/config.toml";

const DEFAULT: &str = "containerd default";
const DEFAULT_RUNTIME: &str = "runc";
const DEFAULT_RUNTIME_TYPE: &str = "io.containerd.runc.v2";
const DEFAULT_BINARY: &str = "runc";
const DEFAULT_CNI_BIN_DIR: &str = "/opt/cni/bin";
const DEFAULT_CNI_CONF_DIR: &str = "/etc/cni/net.d";
/// The runtime of containerd 1.0–1.2 (removed in 2.0), configured by the CRI plugin's
/// `systemd_cgroup` rather than by runc options.
const LEGACY_RUNTIME_TYPE: &str = "io.containerd.runtime.v1.linux";

/// Every fact of this group (for the registry's test and for Unknown results).
pub const FACT_NAMES: &[&str] = &[
    "containerd.config.present",
    "containerd.config.version",
    "containerd.config.valid",
    "containerd.config_files",
    "containerd.cri_enabled",
    "containerd.cgroup_driver",
    "containerd.sandbox_image",
    "containerd.default_runtime",
    "containerd.runtime_type",
    "containerd.runtime_binary",
    "containerd.cni_bin_dir",
    "containerd.cni_conf_dir",
];

pub fn gather(host: &dyn Host, _request: &FactRequest) -> FactSet {
    let mut facts = FactSet::default();
    match load::load(host, CONFIG_PATH) {
        Ok(None) => defaults(&mut facts),
        Ok(Some(loaded)) => from_config(&loaded, &mut facts),
        Err(e) => unreadable(&e, &mut facts),
    }
    facts
}

/// The sandbox image containerd uses when none is configured, by config version. The
/// values are containerd's `DefaultSandboxImage` (pkg/cri/config in 1.x,
/// internal/cri/config in 2.x) of the releases that write that version by default.
fn default_sandbox_image(version: Option<i64>) -> (&'static str, &'static str) {
    match version {
        None => (
            "registry.k8s.io/pause:3.10",
            "no config file: containerd 2.0's built-in default (1.6: pause:3.6, 1.7: pause:3.8)",
        ),
        Some(v) if v <= 2 => (
            "registry.k8s.io/pause:3.8",
            "containerd 1.7's built-in default for a version 1/2 config (1.6: pause:3.6)",
        ),
        Some(3) => (
            "registry.k8s.io/pause:3.10",
            "containerd 2.0's built-in default for a version 3 config",
        ),
        // docs/cri/config.md at containerd 301026e (2.3 development, config version 4).
        Some(_) => (
            "registry.k8s.io/pause:3.10.2",
            "containerd 2.3's built-in default for a version 4 config",
        ),
    }
}

fn default_prov(note: impl Into<String>) -> Provenance {
    Provenance::file(DEFAULT).with_note(note)
}

fn defaults(facts: &mut FactSet) {
    let missing = format!("{CONFIG_PATH} does not exist: containerd runs on its built-in defaults");
    facts.insert(
        "containerd.config.present",
        Fact::known(false, Provenance::file(CONFIG_PATH).with_note("not found")),
    );
    facts.insert(
        "containerd.config.version",
        Fact::absent(Provenance::file(CONFIG_PATH).with_note("not found")),
    );
    facts.insert(
        "containerd.config.valid",
        Fact::known(true, default_prov(missing.clone())),
    );
    facts.insert(
        "containerd.config_files",
        Fact::known(Vec::<String>::new(), default_prov(missing.clone())),
    );
    facts.insert(
        "containerd.cri_enabled",
        Fact::known(true, default_prov("no plugin is disabled by default")),
    );
    facts.insert(
        "containerd.cgroup_driver",
        Fact::known(
            "cgroupfs",
            default_prov("no config file: runc's SystemdCgroup defaults to false"),
        ),
    );
    let (image, note) = default_sandbox_image(None);
    facts.insert(
        "containerd.sandbox_image",
        Fact::known(image, default_prov(note)),
    );
    for (name, value) in [
        ("containerd.default_runtime", DEFAULT_RUNTIME),
        ("containerd.runtime_type", DEFAULT_RUNTIME_TYPE),
        ("containerd.runtime_binary", DEFAULT_BINARY),
        ("containerd.cni_conf_dir", DEFAULT_CNI_CONF_DIR),
    ] {
        facts.insert(name, Fact::known(value, default_prov("no config file")));
    }
    facts.insert(
        "containerd.cni_bin_dir",
        Fact::known(
            vec![DEFAULT_CNI_BIN_DIR.to_string()],
            default_prov("no config file"),
        ),
    );
}

/// The file could not be read or containerd would refuse it: every setting is unknown.
fn unreadable(error: &LoadError, facts: &mut FactSet) {
    let reason = error.to_string();
    for name in FACT_NAMES {
        facts.insert(*name, Fact::unknown(reason.clone()));
    }
    facts.insert(
        "containerd.config.present",
        Fact::known(true, Provenance::file(CONFIG_PATH)),
    );
    if error.is_invalid_config() {
        let (path, line) = error.location();
        let provenance = Provenance {
            source: path,
            line,
            note: Some(error.message()),
        };
        facts.insert("containerd.config.valid", Fact::known(false, provenance));
    }
}

fn at(leaf: &Leaf) -> Provenance {
    Provenance::line(leaf.origin.file.to_string(), leaf.origin.line)
}

/// A non-empty string value.
fn text(leaf: Option<&Leaf>) -> Option<(&str, &Leaf)> {
    match leaf {
        Some(
            l @ Leaf {
                value: Scalar::Str(s),
                ..
            },
        ) if !s.is_empty() => Some((s.as_str(), l)),
        _ => None,
    }
}

/// How a TOML section is written, for notes: `[plugins."io.containerd.grpc.v1.cri".cni]`.
fn section(path: &[&str]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|p| {
            if p.contains('.') {
                format!("{p:?}")
            } else {
                p.to_string()
            }
        })
        .collect();
    format!("[{}]", parts.join("."))
}

fn from_config(loaded: &Loaded, facts: &mut FactSet) {
    let cfg = Config { loaded };
    facts.insert(
        "containerd.config.present",
        Fact::known(true, Provenance::file(CONFIG_PATH)),
    );
    facts.insert("containerd.config.version", cfg.version());
    facts.insert(
        "containerd.config.valid",
        Fact::known(
            true,
            Provenance::file(CONFIG_PATH).with_note(format!(
                "{} file(s) parsed; {}",
                loaded.files.len(),
                loaded.semantics.describe()
            )),
        ),
    );
    facts.insert(
        "containerd.config_files",
        Fact::known(
            loaded.files.clone(),
            Provenance::file(CONFIG_PATH)
                .with_note(format!("in merge order; {}", loaded.semantics.describe())),
        ),
    );
    facts.insert("containerd.cri_enabled", cfg.cri_enabled());
    facts.insert("containerd.sandbox_image", cfg.sandbox_image());
    let runtime = cfg.default_runtime();
    facts.insert("containerd.default_runtime", runtime.name.clone());
    facts.insert("containerd.runtime_type", runtime.runtime_type.clone());
    facts.insert("containerd.runtime_binary", runtime.binary.clone());
    facts.insert("containerd.cgroup_driver", runtime.cgroup_driver);
    facts.insert("containerd.cni_bin_dir", cfg.cni_bin_dir());
    facts.insert("containerd.cni_conf_dir", cfg.cni_conf_dir());
}

struct Config<'a> {
    loaded: &'a Loaded,
}

struct RuntimeFacts {
    name: Fact,
    runtime_type: Fact,
    binary: Fact,
    cgroup_driver: Fact,
}

impl Config<'_> {
    fn merged(&self) -> &Table {
        &self.loaded.merged
    }

    /// Where the CRI runtime settings live: `plugins.cri` (v1), the CRI plugin (v2), or
    /// the CRI runtime plugin (v3/v4, and anything containerd 2.x migrated).
    fn runtime_path(&self) -> [&'static str; 2] {
        match self.loaded.layout {
            1 => ["plugins", "cri"],
            2 => ["plugins", CRI_GRPC],
            _ => ["plugins", CRI_RUNTIME],
        }
    }

    fn runtime_leaf(&self, rest: &[&str]) -> Option<&Leaf> {
        let path: Vec<&str> = self
            .runtime_path()
            .into_iter()
            .chain(rest.iter().copied())
            .collect();
        tree::leaf(self.merged(), &path)
    }

    fn version(&self) -> Fact {
        match &self.loaded.root_version_origin {
            Some(origin) => Fact::known(
                self.loaded.root_version,
                Provenance::line(origin.file.to_string(), origin.line),
            ),
            None => Fact::known(
                1i64,
                Provenance::file(CONFIG_PATH)
                    .with_note("no `version` key: config version 1 (short plugin names)"),
            ),
        }
    }

    /// The CRI plugin, and in 2.x the CRI runtime and image plugins it needs.
    fn cri_enabled(&self) -> Fact {
        let names: &[&str] = match self.loaded.layout {
            1 => &["cri"],
            2 => &[CRI_GRPC],
            _ => &[CRI_GRPC, CRI_RUNTIME, CRI_IMAGES],
        };
        let disabled = &self.loaded.disabled;
        if let Some(d) = disabled.iter().find(|d| names.contains(&d.name.as_str())) {
            return Fact::known(
                false,
                Provenance::line(d.origin.file.to_string(), d.origin.line)
                    .with_note(format!("disabled_plugins lists {:?}", d.name)),
            );
        }
        match disabled.last() {
            Some(d) => Fact::known(
                true,
                Provenance::line(d.origin.file.to_string(), d.origin.line)
                    .with_note(format!("disabled_plugins does not list {:?}", names[0])),
            ),
            None => Fact::known(
                true,
                Provenance::file(CONFIG_PATH).with_note("no plugin is disabled"),
            ),
        }
    }

    fn sandbox_image(&self) -> Fact {
        let (path, key): (Vec<&str>, &str) = match self.loaded.layout {
            3 => (vec!["plugins", CRI_IMAGES, "pinned_images"], "sandbox"),
            _ => (self.runtime_path().to_vec(), "sandbox_image"),
        };
        let full: Vec<&str> = path.iter().copied().chain([key]).collect();
        if let Some((image, leaf)) = text(tree::leaf(self.merged(), &full)) {
            return Fact::known(image, at(leaf));
        }
        let (image, why) = default_sandbox_image(Some(self.loaded.root_version));
        Fact::known(
            image,
            default_prov(format!("{key} is not set in {}; {why}", section(&path))),
        )
    }

    fn default_runtime(&self) -> RuntimeFacts {
        let (name, name_fact) =
            match text(self.runtime_leaf(&["containerd", "default_runtime_name"])) {
                Some((name, leaf)) => (name.to_string(), Fact::known(name, at(leaf))),
                None => (
                    DEFAULT_RUNTIME.to_string(),
                    Fact::known(
                        DEFAULT_RUNTIME,
                        default_prov("default_runtime_name is not set"),
                    ),
                ),
            };
        let runtime_path: Vec<&str> = self
            .runtime_path()
            .into_iter()
            .chain(["containerd", "runtimes", name.as_str()])
            .collect();
        let runtime = match tree::get(self.merged(), &runtime_path) {
            Some(Node::Table(t)) => Some(t),
            _ => None,
        };
        if runtime.is_none() && name != DEFAULT_RUNTIME {
            let reason = format!(
                "default_runtime_name {name:?} ({}) has no {} section: containerd's CRI plugin refuses to start",
                name_fact.provenance,
                section(&runtime_path)
            );
            return RuntimeFacts {
                name: name_fact,
                runtime_type: Fact::unknown(reason.clone()),
                binary: Fact::unknown(reason.clone()),
                cgroup_driver: Fact::unknown(reason),
            };
        }
        let in_runtime = |key: &[&str]| runtime.and_then(|t| tree::leaf(t, key));
        let runtime_type = match text(in_runtime(&["runtime_type"])) {
            Some((t, leaf)) => Fact::known(t, at(leaf)),
            None => Fact::known(
                DEFAULT_RUNTIME_TYPE,
                default_prov(format!(
                    "runtime_type is not set in {}",
                    section(&runtime_path)
                )),
            ),
        };
        let options_path: Vec<&str> = runtime_path.iter().copied().chain(["options"]).collect();
        let binary = match text(in_runtime(&["options", "BinaryName"])) {
            Some((b, leaf)) => Fact::known(b, at(leaf)),
            None => Fact::known(
                DEFAULT_BINARY,
                default_prov(format!(
                    "BinaryName is not set in {}: the shim runs runc from PATH",
                    section(&options_path)
                )),
            ),
        };
        let cgroup_driver = if runtime_type.as_str() == Some(LEGACY_RUNTIME_TYPE) {
            let path: Vec<&str> = self.runtime_path().to_vec();
            driver(
                self.runtime_leaf(&["systemd_cgroup"]),
                "systemd_cgroup",
                &path,
            )
        } else {
            driver(
                in_runtime(&["options", "SystemdCgroup"]),
                "SystemdCgroup",
                &options_path,
            )
        };
        RuntimeFacts {
            name: name_fact,
            runtime_type,
            binary,
            cgroup_driver,
        }
    }

    fn cni_bin_dir(&self) -> Fact {
        let cni: Vec<&str> = self.runtime_path().into_iter().chain(["cni"]).collect();
        if self.loaded.layout >= 3 {
            if let Some(
                leaf @ Leaf {
                    value: Scalar::Array(items),
                    ..
                },
            ) = self.runtime_leaf(&["cni", "bin_dirs"])
            {
                let dirs: Vec<String> = items
                    .iter()
                    .filter_map(|i| match i {
                        Scalar::Str(s) if !s.is_empty() => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                if !dirs.is_empty() {
                    return Fact::known(dirs, at(leaf));
                }
            }
        }
        match text(self.runtime_leaf(&["cni", "bin_dir"])) {
            Some((dir, leaf)) => Fact::known(
                vec![dir.to_string()],
                if self.loaded.layout >= 3 {
                    at(leaf).with_note("bin_dir is deprecated in favour of bin_dirs")
                } else {
                    at(leaf)
                },
            ),
            None => Fact::known(
                vec![DEFAULT_CNI_BIN_DIR.to_string()],
                default_prov(format!("no CNI bin directory is set in {}", section(&cni))),
            ),
        }
    }

    fn cni_conf_dir(&self) -> Fact {
        let cni: Vec<&str> = self.runtime_path().into_iter().chain(["cni"]).collect();
        match text(self.runtime_leaf(&["cni", "conf_dir"])) {
            Some((dir, leaf)) => Fact::known(dir, at(leaf)),
            None => Fact::known(
                DEFAULT_CNI_CONF_DIR,
                default_prov(format!("conf_dir is not set in {}", section(&cni))),
            ),
        }
    }
}

/// `SystemdCgroup = true` means the systemd driver; unset or false, cgroupfs.
fn driver(leaf: Option<&Leaf>, key: &str, path: &[&str]) -> Fact {
    match leaf {
        Some(
            l @ Leaf {
                value: Scalar::Bool(b),
                ..
            },
        ) => Fact::known(
            if *b { "systemd" } else { "cgroupfs" },
            at(l).with_note(format!("{key} = {b} in {}", section(path))),
        ),
        Some(l) => Fact::unknown(format!(
            "{}:{}: {key} must be a boolean, not {}",
            l.origin.file,
            l.origin.line,
            l.value.type_name()
        )),
        None => Fact::known(
            "cgroupfs",
            default_prov(format!(
                "{key} is not set in {} (containerd's default is false)",
                section(path)
            )),
        ),
    }
}
