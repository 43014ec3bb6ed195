//! containerd 2.x migrates every file it loads to the newest config version before merging
//! it (`LoadConfigWithPlugins` in cmd/containerd/server/config/config.go: a file whose
//! version is below the running one is migrated one version at a time, and each plugin's
//! `ConfigMigration` runs on the way). The steps that move what the facts read:
//!
//! - v1 → v2 (`v1MigratePluginName`): short plugin names become URIs (`cri` →
//!   `io.containerd.grpc.v1.cri`), in `plugins`, `disabled_plugins` and `required_plugins`;
//! - v2 → v3: the CRI plugin's settings move out of `io.containerd.grpc.v1.cri` into
//!   `io.containerd.cri.v1.runtime` (plugins/cri/runtime/plugin.go `configMigration`) and
//!   `io.containerd.cri.v1.images` (plugins/cri/images/plugin.go `configMigration`);
//! - v3 → v4 (`serviceMigrate`) moves only the server's own sockets into
//!   `io.containerd.server.v1.*` plugins, which no fact here reads: not reproduced.

use super::tree::{Node, Scalar, Table};

pub const CRI_GRPC: &str = "io.containerd.grpc.v1.cri";
pub const CRI_RUNTIME: &str = "io.containerd.cri.v1.runtime";
pub const CRI_IMAGES: &str = "io.containerd.cri.v1.images";

/// `v1MigratePluginName`: the plugins that had configuration before v1 was deprecated.
const CORE_PLUGINS: &[(&str, &str)] = &[
    ("cri", CRI_GRPC),
    ("cgroups", "io.containerd.monitor.v1.cgroups"),
    ("linux", "io.containerd.runtime.v1.linux"),
    ("scheduler", "io.containerd.gc.v1.scheduler"),
    ("bolt", "io.containerd.metadata.v1.bolt"),
    ("task", "io.containerd.runtime.v2.task"),
    ("opt", "io.containerd.internal.v1.opt"),
    ("restart", "io.containerd.internal.v1.restart"),
    ("tracing", "io.containerd.internal.v1.tracing"),
    ("otlp", "io.containerd.tracing.processor.v1.otlp"),
    ("aufs", "io.containerd.snapshotter.v1.aufs"),
    ("btrfs", "io.containerd.snapshotter.v1.btrfs"),
    ("devmapper", "io.containerd.snapshotter.v1.devmapper"),
    ("native", "io.containerd.snapshotter.v1.native"),
    ("overlayfs", "io.containerd.snapshotter.v1.overlayfs"),
    ("zfs", "io.containerd.snapshotter.v1.zfs"),
];

/// A v1 (short) plugin name as containerd names it from v2 on.
pub fn v1_plugin_name(name: &str) -> String {
    if name.contains('.') {
        return name.to_string();
    }
    if let Some((_, full)) = CORE_PLUGINS.iter().find(|(short, _)| *short == name) {
        return full.to_string();
    }
    if name.ends_with("-service") {
        return format!("io.containerd.service.v1.{name}");
    }
    if name == "windows" || name == "windows-lcow" {
        return format!("io.containerd.snapshotter.v1.{name}");
    }
    format!("io.containerd.grpc.v1.{name}")
}

/// Migrates one decoded file of `version` (0 = no version key) to the v3 layout.
pub fn to_v3(table: &mut Table, version: i64) {
    if version < 2 {
        v1_to_v2(table);
    }
    if version < 3 {
        if let Some(Node::Table(plugins)) = table.get_mut("plugins") {
            cri_images_v2_to_v3(plugins);
            cri_runtime_v2_to_v3(plugins);
        }
    }
}

fn v1_to_v2(table: &mut Table) {
    if let Some(Node::Table(plugins)) = table.get_mut("plugins") {
        let old = std::mem::take(plugins);
        for (name, node) in old {
            plugins.insert(v1_plugin_name(&name), node);
        }
    }
    for key in ["disabled_plugins", "required_plugins"] {
        if let Some(Node::Leaf(leaf)) = table.get_mut(key) {
            if let Scalar::Array(items) = &mut leaf.value {
                for item in items.iter_mut() {
                    if let Scalar::Str(name) = item {
                        *name = v1_plugin_name(name);
                    }
                }
            }
        }
    }
}

/// The table under `key`, made (or made a table, as mergo would) when it is not one.
fn table_mut<'a>(table: &'a mut Table, key: &str) -> &'a mut Table {
    let node = table
        .entry(key.to_string())
        .or_insert_with(|| Node::Table(Table::new()));
    if let Node::Leaf(_) = node {
        *node = Node::Table(Table::new());
    }
    match node {
        Node::Table(t) => t,
        Node::Leaf(_) => unreachable!("replaced by a table just above"),
    }
}

/// plugins/cri/images/plugin.go `migrateConfig`. Note its early returns, kept as they are:
/// nothing moves (not even `sandbox_image`) unless the old section has
/// `containerd.runtimes`.
fn cri_images_v2_to_v3(plugins: &mut Table) {
    let Some(Node::Table(src)) = plugins.get(CRI_GRPC).cloned() else {
        return;
    };
    let Some(Node::Table(containerd)) = src.get("containerd") else {
        return;
    };
    if !containerd.contains_key("runtimes") {
        return;
    }
    let dst = table_mut(plugins, CRI_IMAGES);
    if let Some(image) = src.get("sandbox_image") {
        table_mut(dst, "pinned_images").insert("sandbox".to_string(), image.clone());
    }
    for key in [
        "snapshotter",
        "disable_snapshot_annotations",
        "discard_unpacked_layers",
    ] {
        if let Some(v) = containerd.get(key) {
            dst.insert(key.to_string(), v.clone());
        }
    }
    for key in [
        "registry",
        "image_decryption",
        "max_concurrent_downloads",
        "image_pull_progress_timeout",
        "image_pull_with_sync_fs",
        "stats_collect_period",
    ] {
        if let Some(v) = src.get(key) {
            dst.insert(key.to_string(), v.clone());
        }
    }
}

/// Keys of the old CRI section that the runtime plugin does not take over.
const NOT_RUNTIME: &[&str] = &[
    "cni",
    "containerd",
    "sandbox_image",
    "registry",
    "image_decryption",
    "max_concurrent_downloads",
    "image_pull_progress_timeout",
    "image_pull_with_sync_fs",
    "stats_collect_period",
    "disable_tcp_service",
    "stream_server_address",
    "stream_server_port",
    "stream_idle_timeout",
    "enable_tls_streaming",
    "x509_key_pair_streaming",
];

/// plugins/cri/runtime/plugin.go `migrateConfig`: what the new section already has wins.
fn cri_runtime_v2_to_v3(plugins: &mut Table) {
    let Some(Node::Table(src)) = plugins.get(CRI_GRPC).cloned() else {
        return;
    };
    let dst = table_mut(plugins, CRI_RUNTIME);
    for (k, v) in &src {
        if !NOT_RUNTIME.contains(&k.as_str()) && !dst.contains_key(k) {
            dst.insert(k.clone(), v.clone());
        }
    }
    if let Some(Node::Table(cni)) = src.get("cni") {
        let new_cni = table_mut(dst, "cni");
        for (k, v) in cni {
            if k == "bin_dir" {
                // containerd checks `bin_dirs` with a `.([]string)` type assertion, which a
                // decoded TOML array (`[]any`) never passes: bin_dir always wins.
                if let Node::Leaf(leaf) = v {
                    let mut dirs = leaf.clone();
                    dirs.value = Scalar::Array(vec![leaf.value.clone()]);
                    new_cni.insert("bin_dirs".to_string(), Node::Leaf(dirs));
                }
            } else if !new_cni.contains_key(k) {
                new_cni.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(Node::Table(containerd)) = src.get("containerd") {
        let new_containerd = table_mut(dst, "containerd");
        for (k, v) in containerd {
            let moved_to_images = [
                "snapshotter",
                "disable_snapshot_annotations",
                "discard_unpacked_layers",
            ];
            if !moved_to_images.contains(&k.as_str()) && !new_containerd.contains_key(k) {
                new_containerd.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::{leaf, parse};
    use super::*;

    #[test]
    fn v1_names_map_to_uris() {
        assert_eq!(v1_plugin_name("cri"), "io.containerd.grpc.v1.cri");
        assert_eq!(
            v1_plugin_name("diff-service"),
            "io.containerd.service.v1.diff-service"
        );
        assert_eq!(v1_plugin_name("foo"), "io.containerd.grpc.v1.foo");
        assert_eq!(
            v1_plugin_name("io.containerd.grpc.v1.cri"),
            "io.containerd.grpc.v1.cri"
        );
    }

    #[test]
    fn v1_file_migrates_to_v3_layout() {
        let text = r#"
disabled_plugins = ["cri", "zfs"]
[plugins.cri]
  sandbox_image = "pause:v1"
  [plugins.cri.containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
    [plugins.cri.containerd.runtimes.runc.options]
      SystemdCgroup = true
  [plugins.cri.cni]
    bin_dir = "/v1/bin"
"#;
        let mut t = parse("v1.toml", text).unwrap();
        to_v3(&mut t, 0);
        let disabled = leaf(&t, &["disabled_plugins"]).unwrap();
        assert_eq!(
            disabled.value,
            Scalar::Array(vec![
                Scalar::Str(CRI_GRPC.into()),
                Scalar::Str("io.containerd.snapshotter.v1.zfs".into())
            ])
        );
        let sandbox = leaf(&t, &["plugins", CRI_IMAGES, "pinned_images", "sandbox"]).unwrap();
        assert_eq!(sandbox.value, Scalar::Str("pause:v1".into()));
        assert_eq!(sandbox.origin.line, 4, "keeps the line it was written on");
        let systemd = leaf(
            &t,
            &[
                "plugins",
                CRI_RUNTIME,
                "containerd",
                "runtimes",
                "runc",
                "options",
                "SystemdCgroup",
            ],
        )
        .unwrap();
        assert_eq!(systemd.value, Scalar::Bool(true));
        assert!(leaf(&t, &["plugins", CRI_RUNTIME, "containerd", "snapshotter"]).is_none());
        assert_eq!(
            leaf(&t, &["plugins", CRI_IMAGES, "snapshotter"])
                .unwrap()
                .value,
            Scalar::Str("overlayfs".into())
        );
        assert_eq!(
            leaf(&t, &["plugins", CRI_RUNTIME, "cni", "bin_dirs"])
                .unwrap()
                .value,
            Scalar::Array(vec![Scalar::Str("/v1/bin".into())])
        );
    }

    #[test]
    fn sandbox_image_stays_behind_without_runtimes() {
        // containerd's images migration returns early without containerd.runtimes.
        let mut t = parse(
            "v2.toml",
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = \"p:1\"\n",
        )
        .unwrap();
        to_v3(&mut t, 2);
        assert!(leaf(&t, &["plugins", CRI_IMAGES, "pinned_images", "sandbox"]).is_none());
    }

    #[test]
    fn v3_file_is_left_alone() {
        let text = "version = 3\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = \"x\"\n";
        let mut t = parse("v3.toml", text).unwrap();
        let before = t.clone();
        to_v3(&mut t, 3);
        assert_eq!(t, before);
    }
}
