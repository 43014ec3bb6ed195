//! `{ kind = "crio", setting = … }`: CRI-O reads crio.conf, then crio.conf.d in lexical order,
//! and the last file that sets a key wins (src/facts/crio.rs). The remedy writes the failing
//! settings into one drop-in of node-preflight's that sorts after the usual ones: the cgroup
//! manager always with a `conmon_cgroup` that CRI-O accepts with it ("system.slice" with
//! systemd, "pod" with cgroupfs), and/or the pause image. Then CRI-O restarts (live only).

use super::shell::{quote, rooted};
use super::{Ctx, Remedy};
use crate::facts::crio::CRIO_CONF_D;
use crate::rules::CrioSetting;

pub const DROP_IN: &str = "/etc/crio/crio.conf.d/99-node-preflight.conf";

/// The keys of the drop-in: (section, key).
const OWNED: &[(&str, &str)] = &[
    ("runtime", "cgroup_manager"),
    ("runtime", "conmon_cgroup"),
    ("image", "pause_image"),
];

pub fn remedy(ctx: &Ctx, settings: &[CrioSetting]) -> Result<Remedy, String> {
    let mut values = existing(ctx)?;
    let mut remedy = Remedy::default();
    let runtime = settings
        .iter()
        .any(|s| matches!(s, CrioSetting::CgroupManager | CrioSetting::ConmonCgroup));
    if runtime {
        let recommended = ctx.recommended_driver()?;
        let current = ctx.fact("crio.cgroup_manager")?;
        check_order(&current.provenance.source)?;
        check_order(&ctx.fact("crio.conmon_cgroup")?.provenance.source)?;
        let manager = if settings.contains(&CrioSetting::CgroupManager) {
            recommended
        } else {
            current
                .as_str()
                .ok_or("crio.cgroup_manager is not known")?
                .to_string()
        };
        let conmon = if manager == "cgroupfs" {
            "pod"
        } else {
            "system.slice"
        };
        remedy.notes.push(format!(
            "cgroup_manager = {manager:?} with conmon_cgroup = {conmon:?} (a pair CRI-O accepts) in {DROP_IN}."
        ));
        values[0] = Some(manager);
        values[1] = Some(conmon.to_string());
    }
    if settings.contains(&CrioSetting::PauseImage) {
        check_order(&ctx.fact("crio.pause_image")?.provenance.source)?;
        let image = ctx
            .facts
            .text("target.pause_image")
            .ok_or("the target Kubernetes version's pause image is not known")?;
        remedy
            .notes
            .push(format!("pause_image = {image:?} in {DROP_IN}."));
        values[2] = Some(image);
    }
    let mut lines = vec![
        "# Written by node-preflight fix; it sorts after the other drop-ins, so it wins."
            .to_string(),
    ];
    for section in ["runtime", "image"] {
        let keys: Vec<String> = OWNED
            .iter()
            .zip(&values)
            .filter(|((s, _), v)| *s == section && v.is_some())
            .map(|((_, k), v)| {
                format!(
                    "{k} = {}",
                    toml::Value::String(v.clone().unwrap_or_default())
                )
            })
            .collect();
        if !keys.is_empty() {
            lines.push(format!("[crio.{section}]"));
            lines.extend(keys);
        }
    }
    let words: Vec<String> = lines.iter().map(|l| quote(l)).collect();
    remedy.commands.push(format!(
        "printf '%s\\n' {} | np_write {}",
        words.join(" "),
        rooted(DROP_IN)
    ));
    remedy.live.push("systemctl restart crio".to_string());
    Ok(remedy)
}

/// A value decided by a drop-in that sorts after node-preflight's would still win.
fn check_order(source: &str) -> Result<(), String> {
    if source.starts_with(&format!("{CRIO_CONF_D}/")) && source > DROP_IN {
        return Err(format!(
            "{source} sorts after {DROP_IN} and would still win: change it there by hand"
        ));
    }
    Ok(())
}

/// The values the drop-in already holds (a second run keeps what the first wrote); a file of
/// that name with anything else in it is not node-preflight's to rewrite.
fn existing(ctx: &Ctx) -> Result<Vec<Option<String>>, String> {
    let mut values = vec![None; OWNED.len()];
    let text = match ctx.host.read_text(DROP_IN) {
        Ok(text) => {
            ctx.whole_file(DROP_IN)?;
            text
        }
        Err(e) if e.is_not_found() => return Ok(values),
        Err(e) => return Err(e.to_string()),
    };
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{DROP_IN}: {}", e.message()))?;
    let foreign = || format!("{DROP_IN} holds more than node-preflight writes: edit it by hand");
    for (top, node) in &table {
        let crio = node
            .as_table()
            .filter(|_| top == "crio")
            .ok_or_else(foreign)?;
        for (section, keys) in crio {
            let keys = keys.as_table().ok_or_else(foreign)?;
            for (key, value) in keys {
                let i = OWNED
                    .iter()
                    .position(|(s, k)| s == section && k == key)
                    .ok_or_else(foreign)?;
                values[i] = Some(value.as_str().ok_or_else(foreign)?.to_string());
            }
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::testing::{host, run};
    use crate::rules::Fix;

    const CRIO_CONF: &str = "/etc/crio/crio.conf";

    fn remedy_on(files: &[(&str, &str)], settings: &[CrioSetting]) -> Result<Remedy, String> {
        let h = host(files);
        let fixes: Vec<Fix> = settings.iter().map(|s| Fix::Crio(*s)).collect();
        run(&h, &fixes, &[], |ctx| remedy(ctx, settings))
    }

    #[test]
    fn the_drop_in_holds_a_consistent_pair_and_the_pause_image() {
        let r = remedy_on(
            &[(
                CRIO_CONF,
                "[crio.runtime]\ncgroup_manager = \"cgroupfs\"\nconmon_cgroup = \"pod\"\n",
            )],
            &[CrioSetting::CgroupManager, CrioSetting::PauseImage],
        )
        .unwrap();
        assert_eq!(
            r.commands,
            ["printf '%s\\n' '# Written by node-preflight fix; it sorts after the other drop-ins, so it wins.' '[crio.runtime]' 'cgroup_manager = \"systemd\"' 'conmon_cgroup = \"system.slice\"' '[crio.image]' 'pause_image = \"registry.k8s.io/pause:3.10.1\"' | np_write \"$ROOT\"/etc/crio/crio.conf.d/99-node-preflight.conf"]
        );
        assert_eq!(r.live, ["systemctl restart crio"]);
    }

    #[test]
    fn a_drop_in_that_sorts_later_or_a_foreign_file_of_that_name_is_left_to_the_person() {
        let err = remedy_on(
            &[(
                "/etc/crio/crio.conf.d/zz-site.conf",
                "[crio.runtime]\ncgroup_manager = \"cgroupfs\"\n",
            )],
            &[CrioSetting::CgroupManager],
        )
        .unwrap_err();
        assert!(err.contains("zz-site.conf sorts after"), "{err}");
        let err = remedy_on(
            &[(DROP_IN, "[crio.runtime]\nlog_level = \"debug\"\n")],
            &[CrioSetting::PauseImage],
        )
        .unwrap_err();
        assert!(
            err.contains("holds more than node-preflight writes"),
            "{err}"
        );
    }
}
