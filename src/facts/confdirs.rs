//! systemd's configuration-directory rules, shared by sysctl.d and modules-load.d.
//!
//! Directories are searched in precedence order. A file in an earlier directory shadows a
//! file of the same name in a later one (so `/etc/sysctl.d/50-default.conf` replaces the
//! vendor's `/usr/lib/sysctl.d/50-default.conf`), a file linked to `/dev/null` masks its
//! namesakes, and the surviving files apply in the lexical order of their names, whatever
//! directory they are in. See sysctl.d(5) and modules-load.d(5).

use std::collections::BTreeMap;

use crate::host::{ErrorReason, FileKind, Host, HostError};

/// One configuration file that takes part, with its text or why it could not be read.
#[derive(Debug)]
pub struct ConfFile {
    pub path: String,
    pub text: Result<String, HostError>,
}

/// The outcome of merging a set of directories.
#[derive(Debug, Default)]
pub struct MergedDirs {
    /// Files in the order they apply.
    pub files: Vec<ConfFile>,
    /// Directories that exist but could not be listed (a missing directory is normal).
    pub errors: Vec<HostError>,
    /// Files that are masked by a link to /dev/null, with the masking link.
    pub masked: Vec<String>,
}

impl MergedDirs {
    /// The first read error among the files and directories, for facts that cannot be
    /// decided without them.
    pub fn first_error(&self) -> Option<&HostError> {
        self.errors
            .first()
            .or_else(|| self.files.iter().find_map(|f| f.text.as_ref().err()))
    }
}

/// Lists `dirs` (precedence order) and reads the `*.conf` files that apply.
pub fn merge(host: &dyn Host, dirs: &[&str]) -> MergedDirs {
    let mut merged = MergedDirs::default();
    // name -> Some(path) for the winning file, None when masked.
    let mut winners: BTreeMap<String, Option<String>> = BTreeMap::new();
    for dir in dirs {
        let entries = match host.list_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.is_not_found() => continue,
            Err(e) => {
                merged.errors.push(e);
                continue;
            }
        };
        for entry in entries {
            if !entry.name.ends_with(".conf") || winners.contains_key(&entry.name) {
                continue;
            }
            let path = format!("{dir}/{}", entry.name);
            match entry.kind {
                FileKind::File => {
                    winners.insert(entry.name, Some(path));
                }
                FileKind::Other if is_masked(host, &path) => {
                    merged.masked.push(path);
                    winners.insert(entry.name, None);
                }
                // A directory or socket named *.conf takes no part; anything else unreadable
                // is kept so that reading it reports the reason.
                FileKind::Dir | FileKind::Socket => {}
                FileKind::Other => {
                    winners.insert(entry.name, Some(path));
                }
            }
        }
    }
    merged.files = winners
        .into_values()
        .flatten()
        .map(|path| ConfFile {
            text: host.read_text(&path).map_err(vanished),
            path,
        })
        .collect();
    merged
}

/// Like [`merge`], then the distribution's single legacy file (`/etc/sysctl.conf`,
/// `/etc/modules`) applied last, as the non-systemd tools do — unless a link in the
/// directories already brings it in (Debian's `99-sysctl.conf -> ../sysctl.conf`), so it is
/// not applied twice.
pub fn merge_with_legacy(host: &dyn Host, dirs: &[&str], legacy: &str) -> MergedDirs {
    let mut merged = merge(host, dirs);
    let legacy_name = legacy.rsplit('/').next().unwrap_or(legacy);
    let linked = merged.files.iter().any(|f| {
        host.read_link(&f.path)
            .is_ok_and(|target| target == legacy || target.trim_start_matches("../") == legacy_name)
    });
    if !linked {
        match host.read_text(legacy) {
            Err(e) if e.is_not_found() => {}
            text => merged.files.push(ConfFile {
                path: legacy.to_string(),
                text,
            }),
        }
    }
    merged
}

/// A file listed a moment ago and missing now: the directory changed during the run (a
/// package upgrade, a config manager). What the file said is unknown, which "not found"
/// alone would not make clear.
fn vanished(e: HostError) -> HostError {
    if !e.is_not_found() {
        return e;
    }
    let why = "listed, then gone before it could be read (the directory changed during the run)";
    HostError::new(e.path, ErrorReason::Io(why.into()))
}

fn is_masked(host: &dyn Host, path: &str) -> bool {
    matches!(host.read_link(path).as_deref(), Ok("/dev/null"))
}

/// The lines of a configuration file that carry content: 1-based line number and the
/// trimmed text, without blank lines and `#`/`;` comments.
pub fn content_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            None
        } else {
            Some((i as u32 + 1, line))
        }
    })
}
