//! `{ kind = "containerd", setting = … }`: every failing containerd setting is changed in one
//! pass over the files (so that line numbers stay right), then containerd restarts (live only).
//!
//! - `cri-enabled`: the CRI plugins leave the `disabled_plugins` line the fact names.
//! - `cgroup-driver`: `SystemdCgroup` (or the legacy `systemd_cgroup`) at the line the fact
//!   names, set to the recommended driver; when no file sets it, the key goes into the default
//!   runtime's options section of /etc/containerd/config.toml for its config version.
//! - `sandbox-image`: the same for `sandbox_image` (versions 1/2) or `pinned_images.sandbox`
//!   (version 3 and later), set to the image of the target Kubernetes version.
//!
//! Section names by config version follow src/facts/containerd: `plugins.cri` (no version
//! key), `plugins."io.containerd.grpc.v1.cri"` (2), `plugins."io.containerd.cri.v1.runtime"`
//! and `plugins."io.containerd.cri.v1.images"` (3 and 4).

use std::collections::BTreeMap;

use super::edit::{self, FileEdit, Op};
use super::{Ctx, Remedy};
use crate::facts::containerd::CONFIG_PATH;
use crate::rules::ContainerdSetting;

/// Every name under which `disabled_plugins` can turn the CRI plugin off.
const CRI_PLUGINS: &[&str] = &[
    "cri",
    "io.containerd.grpc.v1.cri",
    "io.containerd.cri.v1.runtime",
    "io.containerd.cri.v1.images",
];

pub fn remedy(ctx: &Ctx, settings: &[ContainerdSetting]) -> Result<Remedy, String> {
    let mut remedy = Remedy::default();
    let mut files: BTreeMap<String, FileEdit> = BTreeMap::new();
    for setting in settings {
        let (path, op, note) = match setting {
            ContainerdSetting::CriEnabled => cri_enabled(ctx)?,
            ContainerdSetting::CgroupDriver => cgroup_driver(ctx)?,
            ContainerdSetting::SandboxImage => sandbox_image(ctx)?,
        };
        // From a bundle, a line with a redacted secret is left to the person; the other
        // settings are still changed.
        if let Some(why) = ctx.redacted(&path, &op) {
            remedy
                .notes
                .push(format!("{note} Not changed automatically: {why}."));
            continue;
        }
        remedy.notes.push(note);
        files
            .entry(path.clone())
            .or_insert_with(|| FileEdit::new(&path))
            .ops
            .push(op);
    }
    for file in files.values() {
        let text = ctx.read(&file.path)?;
        let after = file.apply(&text)?;
        if let Err(e) = toml::from_str::<toml::Table>(&after) {
            return Err(format!(
                "{} would not parse after the change ({}): edit it by hand",
                file.path,
                e.message()
            ));
        }
        remedy.commands.extend(ctx.commands(file)?);
    }
    if files.is_empty() {
        return Err(remedy.notes.join(" "));
    }
    remedy.live.push("systemctl restart containerd".to_string());
    Ok(remedy)
}

type Change = (String, Op, String);

fn cri_enabled(ctx: &Ctx) -> Result<Change, String> {
    let fact = ctx.fact("containerd.cri_enabled")?;
    let (source, line) = ctx.file_line(fact, "containerd.cri_enabled")?;
    let path = edit::resolve(ctx.host, &source);
    let text = ctx.read(&path)?;
    let old = edit::line_of(&text, line).ok_or_else(|| format!("{source}:{line}: no such line"))?;
    let parsed: toml::Table = toml::from_str(old.trim()).map_err(|_| {
        format!("{source}:{line}: disabled_plugins spans several lines: edit it by hand")
    })?;
    let Some(toml::Value::Array(items)) = parsed.get("disabled_plugins") else {
        return Err(format!("{source}:{line} is not a disabled_plugins line"));
    };
    let kept: Vec<String> = items
        .iter()
        .filter(|v| !v.as_str().is_some_and(|s| CRI_PLUGINS.contains(&s)))
        .map(ToString::to_string)
        .collect();
    let new = format!(
        "{}disabled_plugins = [{}]",
        edit::indent(old),
        kept.join(", ")
    );
    Ok((
        path,
        Op::Replace {
            line,
            old: old.to_string(),
            new,
        },
        format!("Enable the CRI plugin: take it out of disabled_plugins at {source}:{line}."),
    ))
}

fn cgroup_driver(ctx: &Ctx) -> Result<Change, String> {
    let want = ctx.recommended_driver()?;
    let systemd = want == "systemd";
    let fact = ctx.fact("containerd.cgroup_driver")?;
    let note = format!("Make runc use the {want} cgroup driver (SystemdCgroup = {systemd}).");
    if fact.provenance.line.is_some() {
        let (source, line) = ctx.file_line(fact, "containerd.cgroup_driver")?;
        let path = edit::resolve(ctx.host, &source);
        let op = set_key_line(
            ctx,
            &path,
            line,
            &["SystemdCgroup", "systemd_cgroup"],
            &systemd.to_string(),
        )?;
        return Ok((path, op, format!("{note} ({source}:{line})")));
    }
    if fact
        .provenance
        .note
        .as_deref()
        .is_some_and(|n| n.contains("systemd_cgroup"))
    {
        return Err("the default runtime is the legacy io.containerd.runtime.v1.linux: set systemd_cgroup by hand".into());
    }
    let runtime = ctx
        .facts
        .text("containerd.default_runtime")
        .unwrap_or_else(|| "runc".to_string());
    let mut section = runtime_section(ctx)?;
    section.extend([
        "containerd".into(),
        "runtimes".into(),
        runtime,
        "options".into(),
    ]);
    let op = add_key(ctx, &section, "SystemdCgroup", &systemd.to_string())?;
    Ok((
        CONFIG_PATH.to_string(),
        op,
        format!("{note} ({CONFIG_PATH})"),
    ))
}

fn sandbox_image(ctx: &Ctx) -> Result<Change, String> {
    let want = ctx
        .facts
        .text("target.pause_image")
        .ok_or("the target Kubernetes version's pause image is not known")?;
    let value = toml::Value::String(want.clone()).to_string();
    let fact = ctx.fact("containerd.sandbox_image")?;
    let note = format!("Use the sandbox image {want}.");
    if fact.provenance.line.is_some() {
        let (source, line) = ctx.file_line(fact, "containerd.sandbox_image")?;
        let path = edit::resolve(ctx.host, &source);
        let op = set_key_line(ctx, &path, line, &["sandbox_image", "sandbox"], &value)?;
        return Ok((path, op, format!("{note} ({source}:{line})")));
    }
    let (section, key) = match version(ctx)? {
        v if v >= 3 => (
            vec![
                "plugins".to_string(),
                "io.containerd.cri.v1.images".to_string(),
                "pinned_images".to_string(),
            ],
            "sandbox",
        ),
        _ => (runtime_section(ctx)?, "sandbox_image"),
    };
    let op = add_key(ctx, &section, key, &value)?;
    Ok((
        CONFIG_PATH.to_string(),
        op,
        format!("{note} ({CONFIG_PATH})"),
    ))
}

fn version(ctx: &Ctx) -> Result<i64, String> {
    match ctx.fact("containerd.config.version")?.value() {
        Some(crate::facts::Value::Int(v)) => Ok(*v),
        _ => Err("containerd's config version is not known".into()),
    }
}

/// The CRI plugin's section (where the runtimes and, before version 3, the sandbox image are).
fn runtime_section(ctx: &Ctx) -> Result<Vec<String>, String> {
    let plugin = match version(ctx)? {
        v if v >= 3 => "io.containerd.cri.v1.runtime",
        2 => "io.containerd.grpc.v1.cri",
        _ => "cri",
    };
    Ok(vec!["plugins".into(), plugin.into()])
}

/// `key = value` at a line that sets one of `keys`, keeping its indentation.
fn set_key_line(
    ctx: &Ctx,
    path: &str,
    line: u32,
    keys: &[&str],
    value: &str,
) -> Result<Op, String> {
    let text = ctx.read(path)?;
    let old = edit::line_of(&text, line).ok_or_else(|| format!("{path}:{line}: no such line"))?;
    let key = old
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| keys.contains(k))
        .ok_or_else(|| format!("{path}:{line} is not a `{} = …` line", keys[0]))?;
    Ok(Op::Replace {
        line,
        old: old.to_string(),
        new: format!("{}{key} = {value}", edit::indent(old)),
    })
}

/// `key = value` in a section of the main config file: after the section's header when the
/// file has one, else in a new section at the end.
fn add_key(ctx: &Ctx, section: &[String], key: &str, value: &str) -> Result<Op, String> {
    let header = format!(
        "[{}]",
        section
            .iter()
            .map(|p| toml_key(p))
            .collect::<Vec<_>>()
            .join(".")
    );
    let text = ctx.read(CONFIG_PATH)?;
    let wanted = normalise_header(&header);
    for (i, line) in text.lines().enumerate() {
        if normalise_header(line) == wanted {
            return Ok(Op::InsertAfter {
                line: i as u32 + 1,
                anchor: line.to_string(),
                text: format!("{}  {key} = {value}", edit::indent(line)),
            });
        }
    }
    Ok(Op::Append {
        lines: vec![header, format!("  {key} = {value}")],
    })
}

/// A TOML key: bare when it can be, else quoted.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}

/// A table header without blanks or comment, with `'` quotes as `"`: two spellings of one
/// header compare equal.
fn normalise_header(line: &str) -> String {
    let line = line.split(" #").next().unwrap_or(line);
    line.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == '\'' { '"' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fix::testing::{host, run};
    use crate::rules::Fix;

    fn remedy_on(config: &str, settings: &[ContainerdSetting]) -> Result<Remedy, String> {
        let h = host(&[(CONFIG_PATH, config)]);
        let fixes: Vec<Fix> = settings.iter().map(|s| Fix::Containerd(*s)).collect();
        run(&h, &fixes, &[], |ctx| remedy(ctx, settings))
    }

    #[test]
    fn the_cri_plugin_leaves_disabled_plugins_at_its_line() {
        let r = remedy_on(
            "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.btrfs\"]\n",
            &[ContainerdSetting::CriEnabled],
        )
        .unwrap();
        assert_eq!(
            r.commands,
            ["np_replace \"$ROOT\"/etc/containerd/config.toml 2 'disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.btrfs\"]' 'disabled_plugins = [\"io.containerd.snapshotter.v1.btrfs\"]'"]
        );
        assert_eq!(r.live, ["systemctl restart containerd"]);
        let err = remedy_on(
            "version = 2\ndisabled_plugins = [\n  \"io.containerd.grpc.v1.cri\",\n]\n",
            &[ContainerdSetting::CriEnabled],
        )
        .unwrap_err();
        assert!(err.contains("spans several lines"), "{err}");
    }

    #[test]
    fn the_cgroup_driver_and_sandbox_image_go_where_the_config_version_puts_them() {
        // Version 3: SystemdCgroup under the runtime plugin, the image under pinned_images.
        let r = remedy_on(
            "version = 3\n",
            &[
                ContainerdSetting::CgroupDriver,
                ContainerdSetting::SandboxImage,
            ],
        )
        .unwrap();
        let script = r.commands.join("\n");
        assert!(script.contains("'[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.runc.options]' '  SystemdCgroup = true'"), "{script}");
        assert!(script.contains("'[plugins.\"io.containerd.cri.v1.images\".pinned_images]' '  sandbox = \"registry.k8s.io/pause:3.10.1\"'"), "{script}");
        // A line that sets the key is changed where it is.
        let r = remedy_on(
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n    SystemdCgroup = false\n",
            &[ContainerdSetting::CgroupDriver],
        )
        .unwrap();
        assert_eq!(
            r.commands,
            ["np_replace \"$ROOT\"/etc/containerd/config.toml 3 '    SystemdCgroup = false' '    SystemdCgroup = true'"]
        );
    }

    #[test]
    fn headers_compare_whatever_their_spelling() {
        assert_eq!(
            normalise_header("  [ plugins.'io.containerd.grpc.v1.cri' ]  # x"),
            normalise_header("[plugins.\"io.containerd.grpc.v1.cri\"]")
        );
        assert_eq!(
            toml_key("io.containerd.grpc.v1.cri"),
            "\"io.containerd.grpc.v1.cri\""
        );
        assert_eq!(toml_key("runc"), "runc");
    }
}
