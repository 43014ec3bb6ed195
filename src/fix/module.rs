//! `{ kind = "module", name = … }`: list the module in modules-load.d unless a file there
//! already does (`module.<name>.persisted`), and load it now (live only).

use super::shell::{live_only, quote, rooted};
use super::{Ctx, Remedy};

/// The file the Kubernetes documentation uses for the container-runtime modules.
pub const MODULES_FILE: &str = "/etc/modules-load.d/k8s.conf";

pub fn remedy(ctx: &Ctx, name: &str) -> Result<Remedy, String> {
    let persisted = ctx.fact(&format!("module.{name}.persisted"))?;
    let mut remedy = Remedy::default();
    match persisted.as_bool() {
        Some(true) => remedy.notes.push(format!(
            "{name} is already loaded at boot ({}).",
            persisted.provenance
        )),
        _ => {
            if ctx.host.read_link(MODULES_FILE).is_ok() {
                return Err(format!(
                    "{MODULES_FILE} is a symbolic link (masked?): list {name} in another modules-load.d file by hand"
                ));
            }
            remedy
                .notes
                .push(format!("Load {name} at boot: list it in {MODULES_FILE}."));
            remedy.commands.push(format!(
                "np_append {} {} {}",
                rooted(MODULES_FILE),
                quote(name),
                quote(name)
            ));
        }
    }
    if ctx.bool_fact(&format!("module.{name}.builtin")) == Some(true) {
        remedy
            .notes
            .push(format!("{name} is built into the kernel: nothing to load."));
    } else {
        remedy.notes.push(format!("Load {name} now (live only)."));
        remedy
            .commands
            .extend(live_only(&[format!("modprobe {}", quote(name))]));
    }
    Ok(remedy)
}
