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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::testing::{host, run};
    use crate::rules::Fix;

    fn fix() -> Fix {
        Fix::Module {
            name: "br_netfilter".into(),
        }
    }

    #[test]
    fn a_module_not_listed_is_appended_and_loaded_live() {
        let h = host(&[("/etc/modules-load.d/other.conf", "overlay\n")]);
        let r = run(&h, &[fix()], &[], |ctx| remedy(ctx, "br_netfilter")).unwrap();
        assert_eq!(
            r.commands[0],
            "np_append \"$ROOT\"/etc/modules-load.d/k8s.conf br_netfilter br_netfilter"
        );
        assert!(r.commands[1..]
            .join("\n")
            .contains("  modprobe br_netfilter\n"));
    }

    #[test]
    fn a_listed_module_is_only_loaded_and_a_builtin_one_not_even_that() {
        let h = host(&[("/etc/modules-load.d/k8s.conf", "br_netfilter\n")]);
        let r = run(&h, &[fix()], &[], |ctx| remedy(ctx, "br_netfilter")).unwrap();
        assert!(
            r.notes[0].contains("already loaded at boot"),
            "{:?}",
            r.notes
        );
        assert!(!r.commands.iter().any(|c| c.starts_with("np_append")));
        let h = host(&[(
            "/lib/modules/6.8.0-45-generic/modules.builtin",
            "kernel/net/bridge/br_netfilter.ko\n",
        )]);
        let r = run(&h, &[fix()], &[], |ctx| remedy(ctx, "br_netfilter")).unwrap();
        assert!(!r.commands.join("\n").contains("modprobe"), "{r:?}");
    }

    #[test]
    fn a_masked_modules_file_is_left_to_the_person() {
        let h = host(&[]).link(MODULES_FILE, "/dev/null");
        let err = run(&h, &[fix()], &[], |ctx| remedy(ctx, "br_netfilter")).unwrap_err();
        assert!(err.contains("is a symbolic link"), "{err}");
    }
}
