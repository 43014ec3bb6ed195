//! `{ kind = "kubelet", setting = "cgroup-driver" }`: `cgroupDriver` in
//! /var/lib/kubelet/config.yaml becomes the recommended driver — at the line the fact names, or
//! appended when the file does not set it. A driver set by a flag, or a kubelet without a
//! config file yet, is left to the person (kubeadm writes the file). The kubelet restarts (live
//! only). When the kubelet already uses the recommended driver, the runtime is the side to
//! change, and its own check's block does it.

use super::edit::{self, FileEdit, Op};
use super::{Ctx, Remedy};
use crate::rules::KubeletSetting;

pub const CONFIG: &str = "/var/lib/kubelet/config.yaml";

pub fn remedy(ctx: &Ctx, setting: KubeletSetting) -> Result<Remedy, String> {
    let KubeletSetting::CgroupDriver = setting;
    let want = ctx.recommended_driver()?;
    let fact = ctx.fact("kubelet.cgroup_driver")?;
    let mut remedy = Remedy::default();
    if fact.as_str() == Some(want.as_str()) {
        remedy.notes.push(format!(
            "The kubelet already uses {want} ({}): the runtime's block makes the runtime agree.",
            fact.provenance
        ));
        return Ok(remedy);
    }
    let prov = &fact.provenance;
    let path = edit::resolve(ctx.host, CONFIG);
    let mut file = FileEdit::new(&path);
    if prov.source == CONFIG && prov.line.is_some() {
        let line = prov.line.unwrap_or_default();
        let text = ctx.read(&path)?;
        let old =
            edit::line_of(&text, line).ok_or_else(|| format!("{CONFIG}:{line}: no such line"))?;
        if old.split_once(':').map(|(k, _)| k.trim()) != Some("cgroupDriver") {
            return Err(format!("{CONFIG}:{line} is not a `cgroupDriver:` line"));
        }
        file.ops.push(Op::Replace {
            line,
            old: old.to_string(),
            new: format!("{}cgroupDriver: {want}", edit::indent(old)),
        });
    } else if prov.source == "kubelet default" && ctx.host.read_text(CONFIG).is_ok() {
        file.ops.push(Op::Append {
            lines: vec![format!("cgroupDriver: {want}")],
        });
    } else {
        return Err(format!(
            "the kubelet's cgroup driver comes from {prov}: change it there by hand"
        ));
    }
    let after = file.apply(&ctx.read(&path)?)?;
    let parsed: Result<serde_json::Value, _> = serde_saphyr::from_str(&after);
    match parsed {
        Ok(doc) if doc.get("cgroupDriver").and_then(|v| v.as_str()) == Some(want.as_str()) => {}
        _ => {
            return Err(format!(
                "{CONFIG} would not read cgroupDriver: {want} after the change: edit it by hand"
            ))
        }
    }
    remedy.notes.push(format!(
        "Set the kubelet's cgroupDriver to {want} in {CONFIG} (was {} at {prov}).",
        fact.as_str().unwrap_or("unknown")
    ));
    remedy.commands.extend(ctx.commands(&file)?);
    remedy.live.push("systemctl restart kubelet".to_string());
    Ok(remedy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::testing::{host, run};
    use crate::rules::Fix;

    fn remedy_on(files: &[(&str, &str)]) -> Result<Remedy, String> {
        let h = host(files);
        let fix = Fix::Kubelet(KubeletSetting::CgroupDriver);
        run(&h, &[fix], &[], |ctx| {
            remedy(ctx, KubeletSetting::CgroupDriver)
        })
    }

    const HEAD: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

    #[test]
    fn the_cgroup_driver_line_is_changed_or_the_key_added() {
        let r = remedy_on(&[(CONFIG, &format!("{HEAD}cgroupDriver: cgroupfs\n"))]).unwrap();
        assert_eq!(
            r.commands,
            ["np_replace \"$ROOT\"/var/lib/kubelet/config.yaml 3 'cgroupDriver: cgroupfs' 'cgroupDriver: systemd'"]
        );
        assert_eq!(r.live, ["systemctl restart kubelet"]);
        // Without the key the kubelet's built-in default (cgroupfs) applies: the key is added.
        let r = remedy_on(&[(CONFIG, HEAD)]).unwrap();
        assert_eq!(
            r.commands,
            ["np_append \"$ROOT\"/var/lib/kubelet/config.yaml 'cgroupDriver: systemd' 'cgroupDriver: systemd'"]
        );
        // A kubelet that agrees already: the runtime's block is the one to change.
        let r = remedy_on(&[(CONFIG, &format!("{HEAD}cgroupDriver: systemd\n"))]).unwrap();
        assert!(r.commands.is_empty() && r.live.is_empty(), "{r:?}");
        assert!(r.notes[0].contains("already uses systemd"), "{:?}", r.notes);
    }

    #[test]
    fn a_driver_from_a_flag_is_left_to_the_person() {
        let err = remedy_on(&[
            (CONFIG, HEAD),
            (
                "/var/lib/kubelet/kubeadm-flags.env",
                "KUBELET_KUBEADM_ARGS=\"--cgroup-driver=cgroupfs\"\n",
            ),
        ])
        .unwrap_err();
        assert!(err.contains("change it there by hand"), "{err}");
    }
}
