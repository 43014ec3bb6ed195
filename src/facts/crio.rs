//! CRI-O's configuration, merged as CRI-O merges it.
//!
//! CRI-O reads `/etc/crio/crio.conf`, then every regular file under `/etc/crio/crio.conf.d/`
//! in lexical order (`filepath.Walk` in `Config.UpdateFromPath`: all files, not only `*.conf`,
//! subdirectories included); a key set in a later file wins. Each fact keeps the file and line
//! of the value that won, or says which built-in default applies.
//!
//! Facts: `crio.config.present`, `crio.config.parses`, `crio.config.files`,
//! `crio.cgroup_manager`, `crio.conmon_cgroup`, `crio.conmon_cgroup_valid`, `crio.pause_image`,
//! `crio.default_runtime`, `crio.runtime_path`, `crio.cni_network_dir`, `crio.cni_plugin_dirs`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{Fact, FactRequest, FactSet, Provenance, Value};
use crate::host::{FileKind, Host, HostError};

pub const CRIO_CONF: &str = "/etc/crio/crio.conf";
pub const CRIO_CONF_D: &str = "/etc/crio/crio.conf.d";

/// Deep enough for any real drop-in layout; a loop of bind mounts cannot recurse forever.
const MAX_DEPTH: usize = 4;

/// CRI-O's built-in defaults (pkg/config/config_linux.go, internal/config/cgmgr). They
/// changed over releases; each note says which releases.
const DEFAULT_CGROUP_MANAGER: &str = "systemd";
/// `defaultMonitorCgroup`: with the systemd manager an unset conmon_cgroup means
/// "system.slice"; with cgroupfs it means conmon stays in CRI-O's own cgroup.
const DEFAULT_CONMON_CGROUP_SYSTEMD: &str = "system.slice";
const DEFAULT_PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.10";
const DEFAULT_RUNTIME: &str = "crun";
const DEFAULT_NETWORK_DIR: &str = "/etc/cni/net.d/";
const DEFAULT_PLUGIN_DIR: &str = "/opt/cni/bin/";

/// The part of a CRI-O config file the checks read. Unknown keys are ignored, as CRI-O's
/// decoder does; a key of the wrong type is a parse error, as it is for CRI-O.
#[derive(Debug, Default, Deserialize)]
struct ConfFile {
    #[serde(default)]
    crio: CrioTable,
}

#[derive(Debug, Default, Deserialize)]
struct CrioTable {
    #[serde(default)]
    runtime: RuntimeTable,
    #[serde(default)]
    image: ImageTable,
    #[serde(default)]
    network: NetworkTable,
}

#[derive(Debug, Default, Deserialize)]
struct RuntimeTable {
    cgroup_manager: Option<Spanned<String>>,
    conmon_cgroup: Option<Spanned<String>>,
    default_runtime: Option<Spanned<String>>,
    #[serde(default)]
    runtimes: BTreeMap<String, RuntimeHandler>,
}

#[derive(Debug, Default, Deserialize)]
struct RuntimeHandler {
    runtime_path: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct ImageTable {
    pause_image: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct NetworkTable {
    network_dir: Option<Spanned<String>>,
    plugin_dirs: Option<Spanned<Vec<String>>>,
}

/// A value and the file and line that set it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Setting<T> {
    value: T,
    path: String,
    line: u32,
}

impl<T> Setting<T> {
    fn provenance(&self) -> Provenance {
        Provenance::line(self.path.clone(), self.line)
    }
}

/// The effective configuration: each key's last setting across the files.
#[derive(Debug, Default)]
struct Merged {
    cgroup_manager: Option<Setting<String>>,
    conmon_cgroup: Option<Setting<String>>,
    default_runtime: Option<Setting<String>>,
    runtime_paths: BTreeMap<String, Setting<String>>,
    pause_image: Option<Setting<String>>,
    network_dir: Option<Setting<String>>,
    plugin_dirs: Option<Setting<Vec<String>>>,
}

/// Why the configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ConfError {
    /// A file or directory that could not be read.
    Read(HostError),
    /// A file that is not valid TOML (or has a key of the wrong type).
    Parse {
        path: String,
        line: Option<u32>,
        reason: String,
    },
}

impl std::fmt::Display for ConfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfError::Read(e) => write!(f, "{e}"),
            ConfError::Parse {
                path,
                line: Some(line),
                reason,
            } => write!(f, "{path}:{line}: not valid CRI-O TOML: {reason}"),
            ConfError::Parse {
                path,
                line: None,
                reason,
            } => write!(f, "{path}: not valid CRI-O TOML: {reason}"),
        }
    }
}

pub fn gather(host: &dyn Host, _request: &FactRequest) -> FactSet {
    let mut facts = FactSet::default();
    let files = match config_files(host) {
        Ok(files) => files,
        Err(e) => {
            let reason = e.to_string();
            for name in ALL_FACTS {
                facts.insert(*name, Fact::unknown(reason.clone()));
            }
            return facts;
        }
    };
    let searched = format!("{CRIO_CONF} and {CRIO_CONF_D}/");
    let present = !files.is_empty();
    facts.insert(
        "crio.config.present",
        Fact::known(
            present,
            match files.first() {
                Some(first) => Provenance::file(first.clone()),
                None => Provenance::file(searched.clone()).with_note("no CRI-O config file"),
            },
        ),
    );
    facts.insert(
        "crio.config.files",
        Fact::known(files.clone(), Provenance::file(searched.clone())),
    );
    if !present {
        for name in &ALL_FACTS[2..] {
            facts.insert(
                *name,
                Fact::absent(Provenance::file(searched.clone()).with_note("no CRI-O config file")),
            );
        }
        return facts;
    }
    match merge(host, &files) {
        Ok(merged) => {
            facts.insert(
                "crio.config.parses",
                Fact::known(
                    true,
                    Provenance::file(files.join(", ")).with_note("every file parses"),
                ),
            );
            effective_facts(&merged, &mut facts);
        }
        Err(e) => {
            let parses = match &e {
                ConfError::Parse { path, line, reason } => Fact::known(
                    false,
                    Provenance {
                        source: path.clone(),
                        line: *line,
                        note: Some(format!("not valid TOML: {reason}")),
                    },
                ),
                ConfError::Read(err) => Fact::unknown(err.to_string()),
            };
            facts.insert("crio.config.parses", parses);
            let reason = e.to_string();
            for name in &ALL_FACTS[3..] {
                facts.insert(*name, Fact::unknown(reason.clone()));
            }
        }
    }
    facts
}

/// Every fact this group provides, in the order `gather` fills them in.
const ALL_FACTS: &[&str] = &[
    "crio.config.present",
    "crio.config.files",
    "crio.config.parses",
    "crio.cgroup_manager",
    "crio.conmon_cgroup",
    "crio.conmon_cgroup_valid",
    "crio.pause_image",
    "crio.default_runtime",
    "crio.runtime_path",
    "crio.cni_network_dir",
    "crio.cni_plugin_dirs",
];

/// The files CRI-O reads, in the order it applies them.
fn config_files(host: &dyn Host) -> Result<Vec<String>, ConfError> {
    let mut files = Vec::new();
    match host.kind(CRIO_CONF).map_err(ConfError::Read)? {
        None => {}
        // A directory or socket where the file should be is an error for CRI-O too.
        Some(FileKind::Dir) => {
            return Err(ConfError::Read(HostError::new(
                CRIO_CONF,
                crate::host::ErrorReason::NotAFile("directory"),
            )))
        }
        Some(_) => files.push(CRIO_CONF.to_string()),
    }
    walk(host, CRIO_CONF_D, 0, &mut files)?;
    Ok(files)
}

/// `filepath.Walk` order: entries by name, descending into directories in place.
///
/// Like `filepath.Walk`, a link to a directory is not followed: it is listed as a file, which
/// CRI-O then fails to read ("is a directory"), and so does [`merge`]. Following it would also
/// let links to a parent multiply the walk: a few of them at each of the `MAX_DEPTH` levels
/// made one fuzz input take 0.1 s, and a hundred would make a tree no run could finish.
fn walk(host: &dyn Host, dir: &str, depth: usize, out: &mut Vec<String>) -> Result<(), ConfError> {
    let entries = match host.list_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.is_not_found() && depth == 0 => return Ok(()),
        Err(e) => return Err(ConfError::Read(e)),
    };
    for entry in entries {
        let path = format!("{dir}/{}", entry.name);
        match entry.kind {
            FileKind::Dir if host.read_link(&path).is_ok() => out.push(path),
            FileKind::Dir if depth < MAX_DEPTH => walk(host, &path, depth + 1, out)?,
            FileKind::Dir => {}
            _ => out.push(path),
        }
    }
    Ok(())
}

fn merge(host: &dyn Host, files: &[String]) -> Result<Merged, ConfError> {
    let mut merged = Merged::default();
    for path in files {
        let text = host.read_text(path).map_err(ConfError::Read)?;
        let file: ConfFile = toml::from_str(&text).map_err(|e| ConfError::Parse {
            path: path.clone(),
            line: e.span().map(|span| line_of(&text, span.start)),
            reason: e.message().trim().to_string(),
        })?;
        let set = |slot: &mut Option<Setting<String>>, value: Option<Spanned<String>>| {
            if let Some(v) = value {
                *slot = Some(setting(path, &text, v));
            }
        };
        let runtime = file.crio.runtime;
        set(&mut merged.cgroup_manager, runtime.cgroup_manager);
        set(&mut merged.conmon_cgroup, runtime.conmon_cgroup);
        set(&mut merged.default_runtime, runtime.default_runtime);
        set(&mut merged.pause_image, file.crio.image.pause_image);
        set(&mut merged.network_dir, file.crio.network.network_dir);
        for (name, handler) in runtime.runtimes {
            if let Some(v) = handler.runtime_path {
                merged.runtime_paths.insert(name, setting(path, &text, v));
            }
        }
        if let Some(v) = file.crio.network.plugin_dirs {
            merged.plugin_dirs = Some(setting(path, &text, v));
        }
    }
    Ok(merged)
}

fn setting<T>(path: &str, text: &str, spanned: Spanned<T>) -> Setting<T> {
    let line = line_of(text, spanned.span().start);
    Setting {
        value: spanned.into_inner(),
        path: path.to_string(),
        line,
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    let prefix = text.as_bytes().get(..end).unwrap_or_default();
    prefix.iter().filter(|&&b| b == b'\n').count() as u32 + 1
}

fn known_or_default(setting: &Option<Setting<String>>, default: &str, note: &str) -> Fact {
    match setting {
        Some(s) => Fact::known(s.value.as_str(), s.provenance()),
        None => Fact::known(default, Provenance::file("CRI-O default").with_note(note)),
    }
}

fn effective_facts(merged: &Merged, facts: &mut FactSet) {
    let manager = known_or_default(
        &merged.cgroup_manager,
        DEFAULT_CGROUP_MANAGER,
        "no file sets crio.runtime.cgroup_manager",
    );
    let manager_value = manager
        .as_str()
        .unwrap_or(DEFAULT_CGROUP_MANAGER)
        .to_string();
    let conmon = match &merged.conmon_cgroup {
        Some(s) => Fact::known(s.value.as_str(), s.provenance()),
        None => Fact::known(
            "",
            Provenance::file("CRI-O default").with_note(if manager_value == "systemd" {
                "unset: with the systemd manager CRI-O uses system.slice"
            } else {
                "unset: with cgroupfs conmon stays in CRI-O's own cgroup"
            }),
        ),
    };
    let conmon_value = conmon.as_str().unwrap_or_default().to_string();
    let valid = conmon_cgroup_valid(&manager_value, &conmon_value);
    let mut valid_prov = match &merged.conmon_cgroup {
        Some(s) => s.provenance(),
        None => Provenance::file("CRI-O default"),
    };
    valid_prov = valid_prov.with_note(match &valid {
        Ok(why) | Err(why) => why.clone(),
    });
    facts.insert(
        "crio.conmon_cgroup_valid",
        Fact::known(valid.is_ok(), valid_prov),
    );
    facts.insert("crio.cgroup_manager", manager);
    facts.insert("crio.conmon_cgroup", conmon);
    facts.insert(
        "crio.pause_image",
        known_or_default(
            &merged.pause_image,
            DEFAULT_PAUSE_IMAGE,
            "no file sets crio.image.pause_image (CRI-O 1.31+ default; older releases used pause:3.9 and before)",
        ),
    );
    let runtime = known_or_default(
        &merged.default_runtime,
        DEFAULT_RUNTIME,
        "no file sets crio.runtime.default_runtime (crun since CRI-O 1.31; runc before)",
    );
    let runtime_name = runtime.as_str().unwrap_or(DEFAULT_RUNTIME).to_string();
    facts.insert("crio.default_runtime", runtime);
    facts.insert(
        "crio.runtime_path",
        match merged.runtime_paths.get(&runtime_name) {
            Some(s) => Fact::known(s.value.as_str(), s.provenance()),
            None => Fact::known(
                runtime_name.as_str(),
                Provenance::file("CRI-O default").with_note(format!(
                    "no runtime_path in [crio.runtime.runtimes.{runtime_name}]: CRI-O looks up {runtime_name} on $PATH"
                )),
            ),
        },
    );
    facts.insert(
        "crio.cni_network_dir",
        known_or_default(
            &merged.network_dir,
            DEFAULT_NETWORK_DIR,
            "no file sets crio.network.network_dir",
        ),
    );
    facts.insert(
        "crio.cni_plugin_dirs",
        match &merged.plugin_dirs {
            Some(s) => Fact::known(Value::List(s.value.clone()), s.provenance()),
            None => Fact::known(
                vec![DEFAULT_PLUGIN_DIR.to_string()],
                Provenance::file("CRI-O default")
                    .with_note("no file sets crio.network.plugin_dirs"),
            ),
        },
    );
}

/// Whether conmon's cgroup suits the cgroup manager, with the reason either way.
///
/// CRI-O's own validation (pkg/config/config.go, `TranslateMonitorFieldsForHandler`):
/// - systemd: conmon_cgroup must be "pod" or a systemd slice (a name ending in ".slice");
///   unset means "system.slice".
/// - cgroupfs: it must be "pod" or empty; "system.slice" (the systemd default) is treated as
///   empty by current releases, but older ones refuse it, and the Kubernetes "Container
///   Runtimes" page says to set `conmon_cgroup = "pod"` with cgroupfs
///   (https://kubernetes.io/docs/setup/production-environment/container-runtimes/#cgroup-driver),
///   so only "pod" and empty pass here.
fn conmon_cgroup_valid(manager: &str, conmon: &str) -> Result<String, String> {
    match manager {
        "systemd" => {
            let effective = if conmon.is_empty() {
                DEFAULT_CONMON_CGROUP_SYSTEMD
            } else {
                conmon
            };
            if effective == "pod" || effective.ends_with(".slice") {
                Ok(format!(
                    "conmon_cgroup {effective:?} suits the systemd cgroup manager"
                ))
            } else {
                Err(format!(
                    "with the systemd cgroup manager conmon_cgroup must be \"pod\" or a systemd slice (*.slice), not {conmon:?}"
                ))
            }
        }
        "cgroupfs" => {
            if conmon == "pod" || conmon.is_empty() {
                Ok(format!(
                    "conmon_cgroup {conmon:?} suits the cgroupfs cgroup manager"
                ))
            } else {
                Err(format!(
                    "with the cgroupfs cgroup manager conmon_cgroup must be \"pod\", not {conmon:?}"
                ))
            }
        }
        other => Err(format!(
            "cgroup_manager {other:?} is neither \"systemd\" nor \"cgroupfs\""
        )),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn parse(text: &str) -> ConfFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn spans_give_lines() {
        let text = "# comment\n[crio.runtime]\n\ncgroup_manager = \"cgroupfs\"\n";
        let file = parse(text);
        let s = setting("/x", text, file.crio.runtime.cgroup_manager.unwrap());
        assert_eq!(s.value, "cgroupfs");
        assert_eq!(s.line, 4);
    }

    #[test]
    fn runtimes_and_network_parse() {
        let text = "[crio.runtime.runtimes.crun]\nruntime_path = \"/usr/libexec/crio/crun\"\n[crio.network]\nplugin_dirs = [\n  \"/a\",\n  \"/b\",\n]\n";
        let file = parse(text);
        let crun = &file.crio.runtime.runtimes["crun"];
        assert_eq!(
            crun.runtime_path.as_ref().unwrap().get_ref(),
            "/usr/libexec/crio/crun"
        );
        let dirs = setting("/x", text, file.crio.network.plugin_dirs.unwrap());
        assert_eq!(dirs.value, vec!["/a", "/b"]);
        assert_eq!(dirs.line, 4);
    }

    #[test]
    fn wrong_types_are_errors() {
        assert!(toml::from_str::<ConfFile>("[crio.runtime]\ncgroup_manager = 1\n").is_err());
    }

    #[test]
    fn conmon_rules() {
        assert!(conmon_cgroup_valid("systemd", "").is_ok());
        assert!(conmon_cgroup_valid("systemd", "system.slice").is_ok());
        assert!(conmon_cgroup_valid("systemd", "podruntime.slice").is_ok());
        assert!(conmon_cgroup_valid("systemd", "pod").is_ok());
        assert!(conmon_cgroup_valid("systemd", "/crio").is_err());
        assert!(conmon_cgroup_valid("cgroupfs", "pod").is_ok());
        assert!(conmon_cgroup_valid("cgroupfs", "").is_ok());
        assert!(conmon_cgroup_valid("cgroupfs", "system.slice").is_err());
        assert!(conmon_cgroup_valid("cgroupz", "pod").is_err());
    }

    #[test]
    fn line_of_offsets() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }

    pub(crate) fn host_with(files: &[(&str, &str)]) -> (tempfile::TempDir, crate::host::FsHost) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let host = crate::host::FsHost::under(dir.path());
        (dir, host)
    }

    #[test]
    fn a_link_to_a_directory_is_not_followed_but_read_as_the_file_it_is_listed_as() {
        let (dir, host) = host_with(&[
            ("/etc/crio/crio.conf.d/01-a.conf", "[crio.runtime]\n"),
            ("/etc/crio/crio.conf.d/sub/02-b.conf", "[crio.runtime]\n"),
        ]);
        let drop_ins = dir.path().join("etc/crio/crio.conf.d");
        // Links to the directory itself: followed, each level would list every one again
        // (5 + 5^2 + ... entries; forty links made 40^4 listings).
        for i in 0..5 {
            std::os::unix::fs::symlink(".", drop_ins.join(format!("loop-{i:02}"))).unwrap();
        }
        let files = config_files(&host).expect("the drop-ins are listed");
        assert_eq!(files.len(), 7, "{files:?}");
        assert_eq!(files[0], "/etc/crio/crio.conf.d/01-a.conf");
        assert_eq!(files[1], "/etc/crio/crio.conf.d/loop-00");
        assert_eq!(files[6], "/etc/crio/crio.conf.d/sub/02-b.conf");
        let facts = gather(&host, &FactRequest::default());
        let crate::facts::FactState::Unknown(reason) =
            &facts.get("crio.cgroup_manager").unwrap().state
        else {
            panic!("the cgroup manager is known through a link to a directory");
        };
        assert!(
            reason.contains("/etc/crio/crio.conf.d/loop-00") && reason.contains("directory"),
            "{reason}"
        );
    }

    #[test]
    fn later_files_win_and_defaults_fill_in() {
        let (_dir, host) = host_with(&[
            (
                CRIO_CONF,
                "[crio.runtime]\ncgroup_manager = \"systemd\"\nconmon_cgroup = \"system.slice\"\n",
            ),
            (
                "/etc/crio/crio.conf.d/02-cgroup.conf",
                "[crio.runtime]\nconmon_cgroup = \"pod\"\ncgroup_manager = \"cgroupfs\"\n",
            ),
            (
                "/etc/crio/crio.conf.d/01-image.conf",
                "[crio.image]\n\npause_image = \"registry.k8s.io/pause:3.9\"\n",
            ),
        ]);
        let facts = gather(&host, &FactRequest::default());
        let manager = facts.get("crio.cgroup_manager").unwrap();
        assert_eq!(manager.as_str(), Some("cgroupfs"));
        assert_eq!(
            manager.provenance.source,
            "/etc/crio/crio.conf.d/02-cgroup.conf"
        );
        assert_eq!(manager.provenance.line, Some(3));
        let conmon = facts.get("crio.conmon_cgroup").unwrap();
        assert_eq!(
            (conmon.as_str(), conmon.provenance.line),
            (Some("pod"), Some(2))
        );
        assert_eq!(
            facts.get("crio.conmon_cgroup_valid").unwrap().as_bool(),
            Some(true)
        );
        let pause = facts.get("crio.pause_image").unwrap();
        assert_eq!(pause.as_str(), Some("registry.k8s.io/pause:3.9"));
        assert_eq!(pause.provenance.line, Some(3));
        let runtime = facts.get("crio.default_runtime").unwrap();
        assert_eq!(runtime.as_str(), Some("crun"));
        assert_eq!(runtime.provenance.source, "CRI-O default");
        assert_eq!(
            facts.get("crio.runtime_path").unwrap().as_str(),
            Some("crun")
        );
        assert_eq!(
            facts.get("crio.config.files").unwrap().value(),
            Some(&Value::List(vec![
                CRIO_CONF.to_string(),
                "/etc/crio/crio.conf.d/01-image.conf".to_string(),
                "/etc/crio/crio.conf.d/02-cgroup.conf".to_string(),
            ]))
        );
    }

    #[test]
    fn no_config_means_absent() {
        let (_dir, host) = host_with(&[]);
        let facts = gather(&host, &FactRequest::default());
        assert_eq!(
            facts.get("crio.config.present").unwrap().as_bool(),
            Some(false)
        );
        assert_eq!(
            facts.get("crio.cgroup_manager").unwrap().state,
            crate::facts::FactState::Absent
        );
    }

    #[test]
    fn malformed_toml_names_file_and_line() {
        let (_dir, host) = host_with(&[(
            "/etc/crio/crio.conf.d/10-bad.conf",
            "[crio.runtime]\ncgroup_manager = \"systemd\"\nconmon_cgroup = pod\n",
        )]);
        let facts = gather(&host, &FactRequest::default());
        let parses = facts.get("crio.config.parses").unwrap();
        assert_eq!(parses.as_bool(), Some(false));
        assert_eq!(
            parses.provenance.source,
            "/etc/crio/crio.conf.d/10-bad.conf"
        );
        assert_eq!(parses.provenance.line, Some(3));
        match &facts.get("crio.cgroup_manager").unwrap().state {
            crate::facts::FactState::Unknown(reason) => {
                assert!(
                    reason.starts_with("/etc/crio/crio.conf.d/10-bad.conf:3: "),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn default_runtime_path_comes_from_its_table() {
        let (_dir, host) = host_with(&[(
            "/etc/crio/crio.conf.d/10-crio.conf",
            "[crio.runtime]\ndefault_runtime = \"runc\"\n[crio.runtime.runtimes.runc]\nruntime_path = \"/usr/libexec/crio/runc\"\n",
        )]);
        let facts = gather(&host, &FactRequest::default());
        let path = facts.get("crio.runtime_path").unwrap();
        assert_eq!(path.as_str(), Some("/usr/libexec/crio/runc"));
        assert_eq!(path.provenance.line, Some(4));
    }
}
