//! Generated hosts for the benchmarks: a fixture host grown into a **busy node** — tens of
//! thousands of container overlay mounts, thousands of loaded modules, hundreds of sysctl.d
//! files, a containerd config of about a megabyte spread over imports — and extra checks for
//! measuring how the rule stage grows.
//!
//! Used by `cargo bench` (benches/stages.rs) and by `scripts/bench` through the `gen-host`
//! binary, so both measure the same inputs. Nothing generated is committed.
//!
//! This is tooling that *writes* fixture trees; it is not a way of reading a machine, so it
//! uses `std::fs` directly (the rule that only `crate::host` touches the filesystem is about
//! gathering facts).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

/// How big each generated input is. Zero leaves the base host's file as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Container overlay lines added to /proc/mounts.
    pub mounts: usize,
    /// Modules added to /proc/modules.
    pub modules: usize,
    /// Files added to /etc/sysctl.d.
    pub sysctl_files: usize,
    /// Approximate size, in KiB, of the containerd configuration imported from
    /// /etc/containerd/conf.d/*.toml.
    pub containerd_kib: usize,
}

impl Sizes {
    /// The busy node of the budget: 20,000 mount lines, 4,000 modules, 400 sysctl.d files,
    /// a ~1 MiB containerd config with imports.
    pub const BUSY: Sizes = Sizes {
        mounts: 20_000,
        modules: 4_000,
        sysctl_files: 400,
        containerd_kib: 1024,
    };
}

/// The fixture host the generated hosts start from: a healthy cgroup v2 / systemd /
/// containerd node, so that a generated node gives the same results as the small one and
/// only the sizes differ.
pub const BASE_FIXTURE: &str = "testdata/hosts/healthy-v2-systemd";

/// How many files the containerd configuration is split into.
const CONTAINERD_IMPORTS: usize = 16;

/// Copies `base` to `out` and grows it to `sizes`. `out` must not exist yet or be empty.
pub fn write_host(base: &Path, out: &Path, sizes: &Sizes) -> io::Result<()> {
    copy_tree(base, out)?;
    if sizes.mounts > 0 {
        grow_mounts(out, sizes.mounts)?;
    }
    if sizes.modules > 0 {
        grow_modules(out, sizes.modules)?;
    }
    if sizes.sysctl_files > 0 {
        add_sysctl_files(out, sizes.sysctl_files)?;
    }
    if sizes.containerd_kib > 0 {
        add_containerd_imports(out, sizes.containerd_kib)?;
    }
    Ok(())
}

/// Writes `count` extra checks into `dir/generated.toml` (for `--checks DIR`): each reads a
/// fact the base host has, so every one is evaluated and reported.
pub fn write_checks(dir: &Path, count: usize) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    const FACTS: &[(&str, &str)] = &[
        ("sysctl.runtime.net.ipv4.ip_forward", "equals = 1"),
        ("cgroup.mode", "equals = \"v2\""),
        ("module.overlay.available", "equals = true"),
        ("host.hostname", "contains = \"node\""),
        ("kernel.release", "at_least = \"5.4\""),
    ];
    let mut text = String::new();
    for i in 0..count {
        let (fact, test) = FACTS[i % FACTS.len()];
        let _ = write!(
            text,
            "[[check]]\nid = \"bench.generated-{i}\"\ntitle = \"Generated check {i}\"\n\
             category = \"bench\"\nseverity = \"{sev}\"\ndocs = \"https://example.com/bench\"\n\
             rationale = \"Measures the rule stage.\"\nremediation = \"Nothing to do.\"\n\
             expect = {{ fact = \"{fact}\", {test} }}\n\n",
            sev = if i % 2 == 0 { "error" } else { "warning" },
        );
    }
    fs::write(dir.join("generated.toml"), text)
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Container overlays as containerd mounts them, half before and half after the base
/// host's lines (the cgroup line is somewhere in the middle of a real node's file).
fn grow_mounts(out: &Path, count: usize) -> io::Result<()> {
    let path = out.join("proc/mounts");
    let base = fs::read_to_string(&path).unwrap_or_default();
    let mut text = String::with_capacity(count * 330 + base.len());
    let overlay = |text: &mut String, i: usize| {
        let _ = writeln!(
            text,
            "overlay /run/containerd/io.containerd.runtime.v2.task/k8s.io/{i:064x}/rootfs overlay \
             rw,relatime,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/{a}/fs:\
             /var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/{b}/fs,\
             upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/{c}/fs,\
             workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/{c}/work 0 0",
            a = i * 3,
            b = i * 3 + 1,
            c = i * 3 + 2,
        );
    };
    for i in 0..count / 2 {
        overlay(&mut text, i);
    }
    text.push_str(&base);
    for i in count / 2..count {
        overlay(&mut text, i);
    }
    fs::write(path, text)
}

fn grow_modules(out: &Path, count: usize) -> io::Result<()> {
    let path = out.join("proc/modules");
    let mut text = fs::read_to_string(&path).unwrap_or_default();
    for i in 0..count {
        // Every fifth module depends on the one before, as real stacks do.
        let deps = if i % 5 == 0 || i == 0 {
            "-".to_string()
        } else {
            format!("gen_mod_{},", i - 1)
        };
        let _ = writeln!(
            text,
            "gen_mod_{i} {size} {refs} {deps} Live 0x0000000000000000",
            size = 16384 + (i % 64) * 4096,
            refs = i % 3,
        );
    }
    fs::write(path, text)
}

/// Files named `10-gen-NNNN.conf`: they sort before the base host's `k8s.conf`, so the
/// Kubernetes settings still win, as on the small host.
fn add_sysctl_files(out: &Path, count: usize) -> io::Result<()> {
    let dir = out.join("etc/sysctl.d");
    fs::create_dir_all(&dir)?;
    for i in 0..count {
        let mut text = format!("# generated sysctl file {i}\n");
        for j in 0..8 {
            let _ = writeln!(text, "net.core.gen_{i}_{j} = {}", i * 8 + j);
        }
        let _ = writeln!(text, "kernel.gen_{i}.pid_max = 4194304");
        // Some set the Kubernetes key too; k8s.conf, read last, decides.
        if i % 50 == 0 {
            text.push_str("net.ipv4.ip_forward = 0\n");
        }
        fs::write(dir.join(format!("10-gen-{i:04}.conf")), text)?;
    }
    Ok(())
}

/// Registry mirror tables in `conf.d/*.toml`, imported by the base config.
fn add_containerd_imports(out: &Path, kib: usize) -> io::Result<()> {
    let etc = out.join("etc/containerd");
    let conf_d = etc.join("conf.d");
    fs::create_dir_all(&conf_d)?;
    let main = etc.join("config.toml");
    let base = fs::read_to_string(&main).unwrap_or_else(|_| "version = 2\n".to_string());
    // `imports` is a top-level key: it goes before the first table.
    let (head, tables) = match base.find("\n[") {
        Some(i) => base.split_at(i + 1),
        None => (base.as_str(), ""),
    };
    fs::write(
        &main,
        format!("{head}imports = [\"/etc/containerd/conf.d/*.toml\"]\n\n{tables}"),
    )?;
    let per_file = kib * 1024 / CONTAINERD_IMPORTS;
    let mut n = 0usize;
    for f in 0..CONTAINERD_IMPORTS {
        // containerd 1.x replaces a plugin's whole section with an imported one: each import
        // repeats the base tables so the settings that matter stay as on the small host.
        let mut text = format!("version = 2\n\n{tables}\n");
        while text.len() < per_file {
            let _ = write!(
                text,
                "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"registry-{n}.example.com\"]\n\
                 \x20 endpoint = [\"https://mirror-{n}.example.com\", \"https://registry-{n}.example.com\"]\n\n\
                 [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"registry-{n}.example.com\".tls]\n\
                 \x20 insecure_skip_verify = false\n\x20 ca_file = \"/etc/containerd/certs/{n}.pem\"\n\n"
            );
            n += 1;
        }
        fs::write(conf_d.join(format!("{f:02}-mirrors.toml")), text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_host_has_the_sizes_asked_for() {
        let out = tempfile::tempdir().unwrap();
        let host = out.path().join("h");
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join(BASE_FIXTURE);
        let sizes = Sizes {
            mounts: 100,
            modules: 40,
            sysctl_files: 5,
            containerd_kib: 16,
        };
        write_host(&base, &host, &sizes).unwrap();
        let base_mounts = fs::read_to_string(base.join("proc/mounts")).unwrap();
        let mounts = fs::read_to_string(host.join("proc/mounts")).unwrap();
        assert_eq!(mounts.lines().count(), base_mounts.lines().count() + 100);
        assert!(mounts.contains("cgroup2 /sys/fs/cgroup cgroup2"));
        let modules = fs::read_to_string(host.join("proc/modules")).unwrap();
        assert!(modules.lines().count() >= 40);
        assert_eq!(fs::read_dir(host.join("etc/sysctl.d")).unwrap().count(), 6);
        let config = fs::read_to_string(host.join("etc/containerd/config.toml")).unwrap();
        assert!(config.starts_with("version = 2\n"));
        assert!(config.contains("imports = [\"/etc/containerd/conf.d/*.toml\"]"));
        let imported: u64 = fs::read_dir(host.join("etc/containerd/conf.d"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(imported >= 16 * 1024, "{imported}");
    }
}
