//! Modules loaded at boot: `module.<name>.persisted`, true when a modules-load.d file lists
//! the module (file and line kept), merged with systemd's directory rules.

use super::confdirs::{self, content_lines};
use super::{Fact, FactRequest, FactSet, Provenance};
use crate::host::Host;

/// modules-load.d directories in precedence order (modules-load.d(5)).
pub const MODULES_LOAD_DIRS: &[&str] = &[
    "/etc/modules-load.d",
    "/run/modules-load.d",
    "/usr/local/lib/modules-load.d",
    "/usr/lib/modules-load.d",
    "/lib/modules-load.d",
];

/// Debian's list of modules to load at boot, read by its non-systemd init scripts; systemd
/// reads it through `/etc/modules-load.d/modules.conf -> ../modules`.
pub const ETC_MODULES: &str = "/etc/modules";

pub fn gather(host: &dyn Host, request: &FactRequest) -> FactSet {
    let mut facts = FactSet::default();
    let names: Vec<String> = request
        .middle_params("module.")
        .into_iter()
        .filter(|name| request.contains(&format!("module.{name}.persisted")))
        .collect();
    if names.is_empty() {
        return facts;
    }
    let merged = confdirs::merge_with_legacy(host, MODULES_LOAD_DIRS, ETC_MODULES);
    for name in names {
        facts.insert(
            format!("module.{name}.persisted"),
            persisted(&merged, &name),
        );
    }
    facts
}

fn persisted(merged: &confdirs::MergedDirs, module: &str) -> Fact {
    for file in &merged.files {
        let Ok(text) = &file.text else { continue };
        for (line, content) in content_lines(text) {
            // modprobe treats - and _ in module names alike.
            if content.replace('-', "_") == module.replace('-', "_") {
                return Fact::known(true, Provenance::line(&file.path, line));
            }
        }
    }
    if let Some(err) = merged.first_error() {
        return Fact::unknown(format!("cannot tell whether {module} loads at boot: {err}"));
    }
    Fact::known(
        false,
        Provenance::default().with_note(format!(
            "not listed in {} or {ETC_MODULES}",
            MODULES_LOAD_DIRS.join(", ")
        )),
    )
}
