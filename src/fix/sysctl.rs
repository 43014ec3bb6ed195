//! `{ kind = "sysctl", key, value }`: the value after a reboot comes from the last assignment
//! systemd-sysctl (and `sysctl --system`) applies (src/facts/sysctl.rs). The remedy writes the
//! key into a drop-in whose name sorts after every usual sysctl.d file, in /etc/sysctl.d (which
//! shadows the same name anywhere else) — unless the assignment that decides is applied after
//! that drop-in (`/etc/sysctl.conf`, which `sysctl --system` reads after the directories when
//! no `99-sysctl.conf` link brings it in, or a file whose name sorts after the drop-in's): then
//! that line is the one to change. The running kernel gets the files with `sysctl --system`.

use super::edit::{self, FileEdit, Op};
use super::shell::{quote, rooted};
use super::{Ctx, Remedy};
use crate::facts::sysctl::{SYSCTL_CONF, SYSCTL_DIRS};
use crate::facts::FactState;

pub const DROP_IN_NAME: &str = "zz-node-preflight.conf";
pub const DROP_IN: &str = "/etc/sysctl.d/zz-node-preflight.conf";

pub fn remedy(ctx: &Ctx, key: &str, value: &str) -> Result<Remedy, String> {
    let persisted = ctx.fact(&format!("sysctl.persisted.{key}"))?;
    let mut remedy = Remedy::default();
    remedy.live.push("sysctl --system".to_string());
    if let FactState::Known(v) = &persisted.state {
        if v.to_string() == value {
            remedy.notes.push(format!(
                "{key} = {value} after a reboot already ({}); apply the files now (live only).",
                persisted.provenance
            ));
            return Ok(remedy);
        }
    }
    let prov = &persisted.provenance;
    if let (Some(line), true) = (prov.line, applies_after_drop_in(&prov.source)) {
        let path = edit::resolve(ctx.host, &prov.source);
        let text = ctx.read(&path)?;
        let old = edit::line_of(&text, line)
            .ok_or_else(|| format!("{}:{line} is not in the file any more", prov.source))?;
        let (left, _) = old
            .split_once('=')
            .ok_or_else(|| format!("{}:{line} is not a `key = value` line", prov.source))?;
        let new = format!("{} = {value}", left.trim_end());
        let mut file = FileEdit::new(&path);
        file.ops.push(Op::Replace {
            line,
            old: old.to_string(),
            new,
        });
        file.apply(&text)?;
        remedy.notes.push(format!(
            "{}:{line} is applied after {DROP_IN}: set {key} = {value} on that line.",
            prov.source
        ));
        remedy.commands.extend(ctx.commands(&file)?);
    } else {
        remedy.notes.push(format!(
            "Set {key} = {value} in {DROP_IN}, which sorts after the other sysctl.d files and wins at boot."
        ));
        remedy.commands.push(format!(
            "np_sysctl_set {} {} {}",
            rooted(DROP_IN),
            quote(key),
            quote(value)
        ));
    }
    Ok(remedy)
}

/// Whether an assignment in `source` is applied after the drop-in, so that the drop-in
/// cannot win over it.
fn applies_after_drop_in(source: &str) -> bool {
    if source == SYSCTL_CONF {
        return true;
    }
    SYSCTL_DIRS.iter().any(|dir| {
        source
            .strip_prefix(dir)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| name > DROP_IN_NAME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fix::testing::{host, run};
    use crate::rules::Fix;

    fn fix() -> Fix {
        Fix::Sysctl {
            key: "net.ipv4.ip_forward".into(),
            value: "1".into(),
        }
    }

    fn remedy_on(files: &[(&str, &str)]) -> Result<Remedy, String> {
        let h = host(files);
        run(&h, &[fix()], &[], |ctx| {
            remedy(ctx, "net.ipv4.ip_forward", "1")
        })
    }

    #[test]
    fn an_unset_or_reset_key_goes_into_the_drop_in_that_sorts_last() {
        for files in [
            &[][..],
            &[("/etc/sysctl.d/60-k8s.conf", "net.ipv4.ip_forward = 0\n")][..],
        ] {
            let r = remedy_on(files).unwrap();
            assert_eq!(
                r.commands,
                ["np_sysctl_set \"$ROOT\"/etc/sysctl.d/zz-node-preflight.conf net.ipv4.ip_forward 1"]
            );
            assert_eq!(r.live, ["sysctl --system"]);
        }
    }

    #[test]
    fn a_deciding_line_applied_after_the_drop_in_is_changed_itself() {
        let r = remedy_on(&[("/etc/sysctl.conf", "# x\nnet.ipv4.ip_forward=0\n")]).unwrap();
        assert_eq!(
            r.commands,
            ["np_replace \"$ROOT\"/etc/sysctl.conf 2 net.ipv4.ip_forward=0 'net.ipv4.ip_forward = 1'"]
        );
    }

    #[test]
    fn a_key_that_persists_already_is_only_applied() {
        let r = remedy_on(&[("/etc/sysctl.d/k8s.conf", "net.ipv4.ip_forward = 1\n")]).unwrap();
        assert!(r.commands.is_empty(), "{r:?}");
        assert_eq!(r.live, ["sysctl --system"]);
    }

    #[test]
    fn the_drop_in_loses_only_to_sysctl_conf_and_later_names() {
        assert!(applies_after_drop_in("/etc/sysctl.conf"));
        assert!(applies_after_drop_in("/usr/lib/sysctl.d/zzz-late.conf"));
        assert!(!applies_after_drop_in("/etc/sysctl.d/99-sysctl.conf"));
        assert!(!applies_after_drop_in("/usr/lib/sysctl.d/50-default.conf"));
        assert!(!applies_after_drop_in("kernel default"));
    }
}
