//! Facts that combine groups, computed after every group has run.

use super::{Fact, FactRequest, FactSet, FactState, Provenance};

pub fn derive(facts: &mut FactSet, _request: &FactRequest) {
    let required = missing_required_config(facts);
    facts.insert("kernel.config.missing_required", required);
    let driver = recommended_driver(facts);
    facts.insert("cgroup.recommended_driver", driver);
    let pause = pause_image(facts);
    facts.insert("target.pause_image", pause);
}

/// The pause image kubeadm of the target Kubernetes version expects.
fn pause_image(facts: &FactSet) -> Fact {
    let Some(fact) = facts.get("target.kubernetes_version") else {
        return Fact::unknown("the target Kubernetes version is not known");
    };
    let Some(text) = fact.as_str() else {
        return Fact::unknown("the target Kubernetes version is not known");
    };
    let version = match text.parse::<crate::version::Version>() {
        Ok(v) => v,
        Err(e) => return Fact::unknown(e),
    };
    match super::kubernetes_versions::pause_image(version) {
        Ok(image) => Fact::known(
            image,
            Provenance::file(fact.provenance.source.clone()).with_note(format!(
                "kubeadm {version}'s PauseVersion (kubeadm config images list)"
            )),
        ),
        Err(reason) => Fact::unknown(reason),
    }
}

/// The required kernel options missing for this host's cgroup mode (hybrid hosts run
/// containers in the v1 hierarchies).
fn missing_required_config(facts: &FactSet) -> Fact {
    let common = facts.get("kernel.config.missing_required.common");
    let Some(common) = common else {
        return Fact::unknown("the kernel config was not read");
    };
    let list = |fact: &Fact| match &fact.state {
        FactState::Known(super::Value::List(items)) => Ok(items.clone()),
        FactState::Unknown(reason) => Err(reason.clone()),
        _ => Err("the kernel config was not read".to_string()),
    };
    let mode = facts.get("cgroup.mode");
    let per_mode = match mode.and_then(Fact::as_str) {
        Some("v2") => "kernel.config.missing_required.cgroup_v2",
        Some(_) => "kernel.config.missing_required.cgroup_v1",
        None => {
            return Fact::unknown(match mode.map(|m| &m.state) {
                Some(FactState::Unknown(reason)) => {
                    format!("the cgroup mode is not known: {reason}")
                }
                _ => "the cgroup mode is not known".to_string(),
            })
        }
    };
    let Some(per_mode_fact) = facts.get(per_mode) else {
        return Fact::unknown("the kernel config was not read");
    };
    match (list(common), list(per_mode_fact)) {
        (Ok(mut a), Ok(b)) => {
            for item in b {
                if !a.contains(&item) {
                    a.push(item);
                }
            }
            Fact::known(a, common.provenance.clone())
        }
        (Err(e), _) | (_, Err(e)) => Fact::unknown(e),
    }
}

/// The Kubernetes docs: with systemd as init, or with cgroup v2, use the `systemd` driver
/// (two cgroup managers on one system give an unstable view of resources); otherwise the
/// kubelet's plain default, `cgroupfs`.
fn recommended_driver(facts: &FactSet) -> Fact {
    let systemd = facts.get("init.systemd");
    let mode = facts.get("cgroup.mode");
    if let Some(true) = systemd.and_then(Fact::as_bool) {
        return Fact::known(
            "systemd",
            Provenance::default().with_note("systemd is the init system"),
        );
    }
    if mode.and_then(Fact::as_str) == Some("v2") {
        return Fact::known(
            "systemd",
            Provenance::default().with_note("the host uses cgroup v2"),
        );
    }
    match (systemd.and_then(Fact::as_bool), mode.and_then(Fact::as_str)) {
        (Some(false), Some(mode)) => Fact::known(
            "cgroupfs",
            Provenance::default().with_note(format!(
                "systemd is not the init system and cgroups are {mode}"
            )),
        ),
        _ => Fact::unknown("cannot tell: the init system or the cgroup mode is not known"),
    }
}
