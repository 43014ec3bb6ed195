//! Loads `/etc/containerd/config.toml` and what it imports, as containerd's `LoadConfig` does:
//! files are taken from a queue (the main file first, then each file's `imports` in order),
//! a path already loaded is skipped (cycle protection), and each file is merged into the
//! result as it is read.
//!
//! Which containerd's rules apply is told by the main file's `version`: 3 and 4 exist only
//! in containerd 2.x, so those files get 2.x loading (relative imports and globs resolved
//! against the importing file's directory, every file migrated to the newest layout, deep
//! merge of plugin sections); versions 1 and 2 are what containerd 1.x reads and get its
//! rules (globs used as written, no migration, plugin sections replaced whole). Sources:
//! services/server/config/config.go (1.7) and cmd/containerd/server/config/config.go (2.x).

use std::collections::VecDeque;
use std::fmt;

use globset::GlobBuilder;

use super::migrate;
use super::tree::{self, Leaf, MergeStyle, Node, Origin, Scalar, Table};
use crate::host::{ErrorReason, FileKind, Host, HostError};

/// The newest config version containerd knows (2.3's `version.ConfigVersion`).
pub const NEWEST_VERSION: i64 = 4;

/// Imports deeper than this are refused: containerd has no bound, but its cycle check only
/// stops exact repeats of a path, and a runaway chain of generated files is a finding.
const MAX_DEPTH: usize = 16;
/// At most this many files are read.
const MAX_FILES: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Semantics {
    /// containerd 1.x (config version 1 or 2).
    Containerd1,
    /// containerd 2.x (config version 3 or 4).
    Containerd2,
}

impl Semantics {
    pub fn describe(self) -> &'static str {
        match self {
            Semantics::Containerd1 => {
                "read as containerd 1.x does (config version 1/2: imported plugin sections replace whole sections)"
            }
            Semantics::Containerd2 => {
                "read as containerd 2.x does (config version 3/4: imported files merge deeply)"
            }
        }
    }
}

/// One `disabled_plugins` entry and where it was written.
#[derive(Clone, Debug)]
pub struct Disabled {
    pub name: String,
    pub origin: Origin,
}

/// The merged configuration.
#[derive(Debug)]
pub struct Loaded {
    /// The files read, in merge order (the main file first).
    pub files: Vec<String>,
    /// The main file's `version` as written (0 when it has none) and where.
    pub root_version: i64,
    pub root_version_origin: Option<Origin>,
    pub semantics: Semantics,
    /// The layout of `merged`: 1 (short plugin names), 2, or 3 (migrated, 2.x).
    pub layout: i64,
    pub merged: Table,
    /// Every `disabled_plugins` entry of every file (after migration), in merge order.
    pub disabled: Vec<Disabled>,
}

/// Why the configuration could not be worked out. Each names the file (and line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The file could not be read (permission denied, not a file, …).
    Read(HostError),
    /// A TOML syntax error.
    Syntax {
        path: String,
        line: u32,
        column: u32,
        message: String,
    },
    /// The file parses but containerd refuses it.
    Invalid {
        path: String,
        line: Option<u32>,
        message: String,
    },
}

impl LoadError {
    fn invalid(origin: &Origin, message: impl Into<String>) -> Self {
        LoadError::Invalid {
            path: origin.file.to_string(),
            line: Some(origin.line),
            message: message.into(),
        }
    }

    /// The file and line it is about.
    pub fn location(&self) -> (String, Option<u32>) {
        match self {
            LoadError::Read(e) => (e.path.clone(), None),
            LoadError::Syntax { path, line, .. } => (path.clone(), Some(*line)),
            LoadError::Invalid { path, line, .. } => (path.clone(), *line),
        }
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> String {
        match self {
            LoadError::Read(e) => e.reason.to_string(),
            LoadError::Syntax {
                column, message, ..
            } => format!("column {column}: {message}"),
            LoadError::Invalid { message, .. } => message.clone(),
        }
    }

    /// Whether containerd itself would refuse the configuration (rather than this tool
    /// being unable to read it).
    pub fn is_invalid_config(&self) -> bool {
        !matches!(self, LoadError::Read(_))
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Read(e) => write!(f, "{e}"),
            LoadError::Syntax {
                path,
                line,
                column,
                message,
            } => write!(f, "{path}:{line}:{column}: {message}"),
            LoadError::Invalid {
                path,
                line: Some(line),
                message,
            } => write!(f, "{path}:{line}: {message}"),
            LoadError::Invalid {
                path,
                line: None,
                message,
            } => write!(f, "{path}: {message}"),
        }
    }
}

/// Reads the configuration rooted at `root`; `Ok(None)` when the file does not exist
/// (containerd then runs on its built-in defaults).
pub fn load(host: &dyn Host, root: &str) -> Result<Option<Loaded>, LoadError> {
    let text = match host.read_text(root) {
        Ok(text) => text,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(LoadError::Read(e)),
    };
    let root_table = parse(root, &text)?;
    let (root_version, root_version_origin) = version_of(root, &root_table)?;
    let semantics = if root_version >= 3 {
        Semantics::Containerd2
    } else {
        Semantics::Containerd1
    };
    if root_version > NEWEST_VERSION {
        let origin = root_version_origin.clone().unwrap_or(Origin {
            file: root.into(),
            line: 1,
        });
        return Err(LoadError::invalid(
            &origin,
            format!("containerd knows config versions up to {NEWEST_VERSION}, not {root_version}: it refuses to start"),
        ));
    }
    let style = match semantics {
        Semantics::Containerd1 => MergeStyle::ReplacePlugins,
        Semantics::Containerd2 => MergeStyle::DeepPlugins,
    };

    let mut loaded = Loaded {
        files: Vec::new(),
        root_version,
        root_version_origin,
        semantics,
        layout: 0,
        merged: Table::new(),
        disabled: Vec::new(),
    };
    let mut first = Some(root_table);
    let mut pending: VecDeque<Pending> = VecDeque::from([Pending {
        path: root.to_string(),
        depth: 0,
        imported_at: None,
    }]);
    while let Some(next) = pending.pop_front() {
        if loaded.files.contains(&next.path) {
            continue;
        }
        if loaded.files.len() >= MAX_FILES {
            return Err(import_error(
                &next,
                format!("more than {MAX_FILES} config files are imported; stopped reading"),
            ));
        }
        let mut table = match first.take() {
            Some(table) => table,
            None => read_import(host, &next)?,
        };
        let (version, version_origin) = version_of(&next.path, &table)?;
        if semantics == Semantics::Containerd2 {
            if version > root_version {
                let origin = version_origin.unwrap_or(Origin {
                    file: next.path.as_str().into(),
                    line: 1,
                });
                return Err(LoadError::invalid(
                    &origin,
                    format!("drop-in config version {version} higher than root config version {root_version}: containerd refuses to start"),
                ));
            }
            migrate::to_v3(&mut table, version);
        }
        check_plugin_names(&next.path, &table, version, semantics)?;
        collect_disabled(&next.path, &table, &mut loaded.disabled);
        let imports = imports_of(&next.path, &table)?;
        tree::merge_config(&mut loaded.merged, table, style);
        loaded.files.push(next.path.clone());
        for (import, origin) in imports {
            if next.depth + 1 > MAX_DEPTH {
                return Err(LoadError::invalid(
                    &origin,
                    format!("imports nest deeper than {MAX_DEPTH} files; stopped reading"),
                ));
            }
            for path in resolve_import(host, &next.path, &import, &origin, semantics)? {
                pending.push_back(Pending {
                    path,
                    depth: next.depth + 1,
                    imported_at: Some(origin.clone()),
                });
            }
        }
    }
    loaded.layout = match semantics {
        Semantics::Containerd2 => 3,
        Semantics::Containerd1 => match tree::leaf(&loaded.merged, &["version"]) {
            Some(Leaf {
                value: Scalar::Int(v),
                ..
            }) if *v >= 2 => 2,
            _ => 1,
        },
    };
    Ok(Some(loaded))
}

struct Pending {
    path: String,
    depth: usize,
    imported_at: Option<Origin>,
}

fn import_error(pending: &Pending, message: String) -> LoadError {
    match &pending.imported_at {
        Some(origin) => LoadError::invalid(origin, message),
        None => LoadError::Invalid {
            path: pending.path.clone(),
            line: None,
            message,
        },
    }
}

fn parse(path: &str, text: &str) -> Result<Table, LoadError> {
    tree::parse(path, text).map_err(|e| LoadError::Syntax {
        path: path.to_string(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

/// An imported file that does not exist stops containerd (`os.Open` fails in
/// `loadConfigFile`); only a glob may match nothing.
fn read_import(host: &dyn Host, pending: &Pending) -> Result<Table, LoadError> {
    match host.read_text(&pending.path) {
        Ok(text) => parse(&pending.path, &text),
        Err(e) if e.is_not_found() => Err(import_error(
            pending,
            format!(
                "imports {}, which does not exist: containerd refuses to start",
                pending.path
            ),
        )),
        Err(e) => Err(LoadError::Read(e)),
    }
}

/// `version` as written: 0 when absent (containerd treats it as 1).
fn version_of(path: &str, table: &Table) -> Result<(i64, Option<Origin>), LoadError> {
    match table.get("version") {
        None => Ok((0, None)),
        Some(Node::Leaf(Leaf {
            value: Scalar::Int(v),
            origin,
        })) => Ok((*v, Some(origin.clone()))),
        Some(Node::Leaf(leaf)) => Err(LoadError::invalid(
            &leaf.origin,
            format!(
                "`version` must be an integer, not {}: containerd cannot decode the file",
                leaf.value.type_name()
            ),
        )),
        Some(Node::Table(_)) => Err(LoadError::Invalid {
            path: path.to_string(),
            line: None,
            message: "`version` must be an integer, not a table".to_string(),
        }),
    }
}

/// A list of strings at the top level (`imports`, `disabled_plugins`).
fn string_list(path: &str, table: &Table, key: &str) -> Result<Vec<(String, Origin)>, LoadError> {
    match table.get(key) {
        None => Ok(Vec::new()),
        Some(Node::Leaf(Leaf {
            value: Scalar::Array(items),
            origin,
        })) => items
            .iter()
            .map(|item| match item {
                Scalar::Str(s) => Ok((s.clone(), origin.clone())),
                other => Err(LoadError::invalid(
                    origin,
                    format!(
                        "`{key}` must list strings, not {}: containerd cannot decode the file",
                        other.type_name()
                    ),
                )),
            })
            .collect(),
        Some(Node::Leaf(leaf)) => Err(LoadError::invalid(
            &leaf.origin,
            format!(
                "`{key}` must be an array of strings, not {}: containerd cannot decode the file",
                leaf.value.type_name()
            ),
        )),
        Some(Node::Table(_)) => Err(LoadError::Invalid {
            path: path.to_string(),
            line: None,
            message: format!("`{key}` must be an array of strings, not a table"),
        }),
    }
}

fn imports_of(path: &str, table: &Table) -> Result<Vec<(String, Origin)>, LoadError> {
    string_list(path, table, "imports")
}

fn collect_disabled(path: &str, table: &Table, out: &mut Vec<Disabled>) {
    if let Ok(list) = string_list(path, table, "disabled_plugins") {
        out.extend(
            list.into_iter()
                .map(|(name, origin)| Disabled { name, origin }),
        );
    }
}

/// From version 2 on, containerd refuses a `disabled_plugins`/`required_plugins` entry that
/// is not a URI (`ValidateVersion`, and 1.7's `ValidateV2`): `disabled_plugins = ["cri"]`
/// under `version = 2` stops containerd.
fn check_plugin_names(
    path: &str,
    table: &Table,
    version: i64,
    semantics: Semantics,
) -> Result<(), LoadError> {
    let migrated = semantics == Semantics::Containerd2;
    for key in ["disabled_plugins", "required_plugins"] {
        for (name, origin) in string_list(path, table, key)? {
            if (version >= 2 || migrated) && !name.contains('.') {
                return Err(LoadError::invalid(
                    &origin,
                    format!(
                        "invalid {key} entry {name:?}: config version {} needs a plugin URI such as io.containerd.grpc.v1.{name}; containerd refuses to start",
                        version.max(2)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `resolveImports` of the containerd whose rules apply.
fn resolve_import(
    host: &dyn Host,
    parent: &str,
    import: &str,
    origin: &Origin,
    semantics: Semantics,
) -> Result<Vec<String>, LoadError> {
    let relative_to_parent = |p: &str| {
        if p.starts_with('/') {
            crate::host::clean_path(p)
        } else {
            crate::host::clean_path(&format!("{}/{p}", parent_dir(parent)))
        }
    };
    let path = match semantics {
        // 2.x: clean, make relative paths relative to the importing file, then glob.
        Semantics::Containerd2 => relative_to_parent(import),
        // 1.x: a glob is used as written (a relative one is relative to containerd's
        // working directory, `/` under systemd); only a plain path is made relative.
        Semantics::Containerd1 if import.contains('*') => {
            crate::host::clean_path(&format!("/{import}"))
        }
        Semantics::Containerd1 => relative_to_parent(import),
    };
    if path.contains('*') {
        glob(host, &path).map_err(|e| match e {
            GlobError::Host(e) => LoadError::Read(e),
            GlobError::Pattern(msg) => {
                LoadError::invalid(origin, format!("bad import pattern {import:?}: {msg}"))
            }
        })
    } else {
        Ok(vec![path])
    }
}

fn parent_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

enum GlobError {
    Host(HostError),
    Pattern(String),
}

/// Go's `filepath.Glob` through the host: each component with a pattern is matched against
/// the directory's listing (sorted by name, as Go reads it). A directory containerd could
/// list but this run cannot is reported, not skipped: the files in it would change the
/// configuration.
fn glob(host: &dyn Host, pattern: &str) -> Result<Vec<String>, GlobError> {
    let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut current = vec![String::new()];
    for (i, component) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        let mut next = Vec::new();
        let is_pattern = component.contains(['*', '?', '[']);
        let matcher = if is_pattern {
            Some(
                GlobBuilder::new(component)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| GlobError::Pattern(e.kind().to_string()))?
                    .compile_matcher(),
            )
        } else {
            None
        };
        for base in &current {
            let dir = if base.is_empty() { "/" } else { base.as_str() };
            match &matcher {
                Some(matcher) => {
                    let entries = match host.list_dir(dir) {
                        Ok(entries) => entries,
                        Err(e) if e.is_not_found() || e.reason == ErrorReason::NotADirectory => {
                            continue
                        }
                        Err(e) => return Err(GlobError::Host(e)),
                    };
                    for entry in entries {
                        if matcher.is_match(&entry.name) && (last || entry.kind == FileKind::Dir) {
                            next.push(format!("{base}/{}", entry.name));
                        }
                    }
                }
                None => {
                    let candidate = format!("{base}/{component}");
                    match host.kind(&candidate) {
                        Ok(Some(FileKind::Dir)) => next.push(candidate),
                        Ok(Some(_)) if last => next.push(candidate),
                        Ok(_) => {}
                        Err(e) => return Err(GlobError::Host(e)),
                    }
                }
            }
        }
        current = next;
    }
    Ok(current.into_iter().filter(|p| !p.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_clean_like_go() {
        assert_eq!(
            crate::host::clean_path("/etc/containerd/./conf.d/../x.toml"),
            "/etc/containerd/x.toml"
        );
        assert_eq!(crate::host::clean_path("//a//b/"), "/a/b");
        assert_eq!(crate::host::clean_path("/../a"), "/a");
        assert_eq!(parent_dir("/etc/containerd/config.toml"), "/etc/containerd");
        assert_eq!(parent_dir("/config.toml"), "/");
    }
}
