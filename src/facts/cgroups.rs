//! cgroups: the mode (v1, v2 or hybrid) and the controllers available.
//!
//! Facts: `cgroup.mode`, `cgroup.controllers`, `cgroup.missing_required_controllers`,
//! `cgroup.missing_optional_controllers`. The controller lists are Kubernetes'
//! system-validators' (`validators/types_unix.go`).

use std::io::BufReader;

use procfs_core::{CGroupControllers, FromBufRead};

use super::{Fact, FactRequest, FactSet, Provenance};
use crate::host::Host;

const PROC_MOUNTS: &str = "/proc/mounts";
const MOUNTINFO: &str = "/proc/self/mountinfo";
const PROC_CGROUPS: &str = "/proc/cgroups";
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const V2_CONTROLLERS: &str = "/sys/fs/cgroup/cgroup.controllers";

const REQUIRED_V1: &[&str] = &[
    "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids",
];
const OPTIONAL_V1: &[&str] = &["hugetlb", "blkio"];
const REQUIRED_V2: &[&str] = &["cpu", "cpuset", "devices", "freezer", "memory", "pids"];
const OPTIONAL_V2: &[&str] = &["hugetlb", "io"];
/// On cgroup v2 the kernel always provides these; they never appear in cgroup.controllers.
const IMPLICIT_V2: &[&str] = &["devices", "freezer"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    V1,
    V2,
    Hybrid,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::V1 => "v1",
            Mode::V2 => "v2",
            Mode::Hybrid => "hybrid",
        }
    }
}

/// One mount, with its mount point unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub mount_point: String,
    pub fs_type: String,
    /// 1-based line in the file it came from.
    pub line: u32,
}

pub fn gather(host: &dyn Host, _request: &FactRequest) -> FactSet {
    let mut facts = FactSet::default();
    let (mode, mode_fact) = match read_mounts(host) {
        Ok((path, mounts)) => match detect_mode(&mounts) {
            Some((mode, m)) => (
                Some(mode),
                Fact::known(
                    mode.as_str(),
                    Provenance::line(path, m.line)
                        .with_note(format!("{} on {}", m.fs_type, m.mount_point)),
                ),
            ),
            None => (
                None,
                Fact::unknown(format!("{path}: no cgroup filesystem is mounted")),
            ),
        },
        Err(reason) => (None, Fact::unknown(reason)),
    };
    facts.insert("cgroup.mode", mode_fact);

    let (controllers, missing_required, missing_optional) = match mode {
        Some(mode) => {
            let (required, optional) = match mode {
                Mode::V2 => (REQUIRED_V2, OPTIONAL_V2),
                Mode::V1 | Mode::Hybrid => (REQUIRED_V1, OPTIONAL_V1),
            };
            match controllers(host, mode) {
                Ok((names, source)) => {
                    let missing = |wanted: &[&str]| -> Vec<String> {
                        wanted
                            .iter()
                            .filter(|c| !names.iter().any(|n| n == *c))
                            .map(|c| c.to_string())
                            .collect()
                    };
                    let provenance = Provenance::file(source);
                    (
                        Fact::known(names.clone(), provenance.clone()),
                        Fact::known(missing(required), provenance.clone()),
                        Fact::known(missing(optional), provenance),
                    )
                }
                Err(reason) => (
                    Fact::unknown(reason.clone()),
                    Fact::unknown(reason.clone()),
                    Fact::unknown(reason),
                ),
            }
        }
        None => {
            let reason = "the cgroup mode is not known".to_string();
            (
                Fact::unknown(reason.clone()),
                Fact::unknown(reason.clone()),
                Fact::unknown(reason),
            )
        }
    };
    facts.insert("cgroup.controllers", controllers);
    facts.insert("cgroup.missing_required_controllers", missing_required);
    facts.insert("cgroup.missing_optional_controllers", missing_optional);
    facts
}

/// `/proc/mounts`, or the mountinfo format when only that was captured.
fn read_mounts(host: &dyn Host) -> Result<(&'static str, Vec<Mount>), String> {
    // A busy node has tens of thousands of container mounts and the mode needs only the
    // few under /sys/fs/cgroup: the file is streamed a line at a time, and only those lines
    // are unescaped and kept.
    for (path, format) in [
        (PROC_MOUNTS, Format::Mounts),
        (MOUNTINFO, Format::Mountinfo),
    ] {
        let mut mounts = Vec::new();
        let mut each = |number: u32, line: &[u8]| {
            mounts.extend(parse_kept(format, number, line));
        };
        match host.read_lines(path, &mut each) {
            Ok(()) => return Ok((path, mounts)),
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!("neither {PROC_MOUNTS} nor {MOUNTINFO} exists"))
}

/// A line's mount, when its raw (escaped) mount point may be /sys/fs/cgroup or under it:
/// none of the characters the kernel escapes occurs in that prefix, so the test is exact
/// once the kept field is unescaped and tested again. Nothing is allocated for the others.
fn parse_kept(format: Format, number: u32, line: &[u8]) -> Option<Mount> {
    // Most lines are container mounts: rule them out on the second field's first bytes
    // before splitting the line (mountinfo's fifth field cannot be found that cheaply).
    if format == Format::Mounts {
        let after_source = line.iter().position(u8::is_ascii_whitespace)?;
        let rest = &line[after_source..];
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        if !rest[start..].starts_with(CGROUP_ROOT.as_bytes()) {
            return None;
        }
    }
    let (mount_point, fs_type) = format.fields(line)?;
    mount_point
        .starts_with(CGROUP_ROOT.as_bytes())
        .then(|| mount(mount_point, fs_type, number))
}

/// The kubelet's own test (libcontainer's IsCgroup2UnifiedMode) is the filesystem type at
/// /sys/fs/cgroup: cgroup2 is v2; a tmpfs of v1 hierarchies is v1, or hybrid when a cgroup2
/// hierarchy is also mounted (systemd puts it at /sys/fs/cgroup/unified).
pub fn detect_mode(mounts: &[Mount]) -> Option<(Mode, &Mount)> {
    // The last mount at a path is the one in effect.
    let root = mounts.iter().rev().find(|m| m.mount_point == CGROUP_ROOT);
    if let Some(root) = root {
        if root.fs_type == "cgroup2" {
            return Some((Mode::V2, root));
        }
    }
    let under_root = |m: &&Mount| m.mount_point.starts_with("/sys/fs/cgroup/");
    let v2_inside = mounts
        .iter()
        .filter(under_root)
        .find(|m| m.fs_type == "cgroup2");
    let v1 = mounts
        .iter()
        .filter(under_root)
        .find(|m| m.fs_type == "cgroup");
    match (v1, v2_inside) {
        (Some(_), Some(v2)) => Some((Mode::Hybrid, v2)),
        (Some(v1), None) => Some((Mode::V1, root.unwrap_or(v1))),
        _ => None,
    }
}

/// Parses `/proc/mounts` (fstab format). Hand-written rather than procfs-core's: that parser
/// fails the whole file on one odd line and leaves `\040` (space) escaped, and unescaping
/// after it would turn an escaped backslash followed by `040` into a space.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    parse_all(text, Format::Mounts)
}

/// Parses mountinfo: `id parent maj:min root mount-point options [optional...] - type ...`.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    parse_all(text, Format::Mountinfo)
}

fn parse_all(text: &str, format: Format) -> Vec<Mount> {
    let mut mounts = Vec::new();
    crate::host::for_each_line(text.as_bytes(), 1, &mut |number, line| {
        if let Some((mount_point, fs_type)) = format.fields(line) {
            mounts.push(mount(mount_point, fs_type, number));
        }
    });
    mounts
}

fn mount(mount_point: &[u8], fs_type: &[u8], line: u32) -> Mount {
    Mount {
        mount_point: unescape(mount_point),
        fs_type: unescape(fs_type),
        line,
    }
}

/// The two formats a mount table comes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// `/proc/mounts` (fstab format).
    Mounts,
    /// `/proc/self/mountinfo`.
    Mountinfo,
}

impl Format {
    /// A line's raw (escaped) mount point and filesystem type.
    fn fields(self, line: &[u8]) -> Option<(&[u8], &[u8])> {
        match self {
            Format::Mounts => mounts_fields(line),
            Format::Mountinfo => mountinfo_fields(line),
        }
    }
}

/// The raw mount point and type of a `/proc/mounts` line: `source point type options ...`.
fn mounts_fields(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut fields = words(line);
    let _source = fields.next()?;
    Some((fields.next()?, fields.next()?))
}

/// The raw mount point and type of a mountinfo line: the fifth field, and the first after
/// the ` - ` separator (the optional fields between vary in number).
fn mountinfo_fields(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let separator = line.windows(3).position(|w| w == b" - ")?;
    let mount_point = words(&line[..separator]).nth(4)?;
    let fs_type = words(&line[separator + 3..]).next()?;
    Some((mount_point, fs_type))
}

fn words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty())
}

/// The kernel writes space, tab, newline and backslash in mount fields as `\ooo` octal.
/// A mount point can hold any bytes; those that are not UTF-8 are replaced.
fn unescape(field: &[u8]) -> String {
    if !field.contains(&b'\\') {
        return String::from_utf8_lossy(field).into_owned();
    }
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' && i + 3 < field.len() {
            let digits = &field[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(field[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn controllers(host: &dyn Host, mode: Mode) -> Result<(Vec<String>, &'static str), String> {
    if mode == Mode::V2 {
        let text = host.read_text(V2_CONTROLLERS).map_err(|e| e.to_string())?;
        let mut names: Vec<String> = IMPLICIT_V2.iter().map(|c| c.to_string()).collect();
        names.extend(text.split_whitespace().map(str::to_string));
        names.sort();
        names.dedup();
        return Ok((names, V2_CONTROLLERS));
    }
    let bytes = host.read(PROC_CGROUPS).map_err(|e| e.to_string())?;
    let parsed =
        CGroupControllers::from_buf_read(BufReader::new(bytes.as_slice())).map_err(|_| {
            super::malformed_line(
                PROC_CGROUPS,
                &bytes,
                "subsys_name hierarchy num_cgroups enabled",
                |fields| {
                    fields.first().is_some_and(|f| f.starts_with('#'))
                        || (fields.len() >= 4
                            && fields[1..4].iter().all(|f| f.parse::<u32>().is_ok()))
                },
            )
        })?;
    let mut names: Vec<String> = parsed
        .0
        .into_iter()
        .filter(|c| c.enabled)
        .map(|c| c.name)
        .collect();
    names.sort();
    Ok((names, PROC_CGROUPS))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the gatherer keeps of a `/proc/mounts` text.
    pub(super) fn kept(text: &str) -> Vec<Mount> {
        let mut mounts = Vec::new();
        crate::host::for_each_line(text.as_bytes(), 1, &mut |number, line| {
            mounts.extend(parse_kept(Format::Mounts, number, line));
        });
        mounts
    }

    #[test]
    fn escapes_are_undone_once() {
        assert_eq!(unescape(br"/var/lib/a\040b"), "/var/lib/a b");
        assert_eq!(unescape(br"tab\011x"), "tab\tx");
        // An escaped backslash followed by the text 040 stays a backslash and 040.
        assert_eq!(unescape(br"a\134040"), r"a\040");
        assert_eq!(unescape(br"trailing\04"), r"trailing\04");
        // Bytes that are not UTF-8 (escaped or not) are replaced, never a panic.
        assert_eq!(unescape(b"/mnt/\\377x\xff"), "/mnt/\u{fffd}x\u{fffd}");
    }

    #[test]
    fn mountinfo_optional_fields_vary_in_number() {
        let text = "36 35 98:0 / /sys/fs/cgroup rw,nosuid shared:1 master:2 - cgroup2 cgroup2 rw\n\
                    37 35 98:0 / /proc rw - proc proc rw\n\
                    38 35 98:0 / /broken rw no-separator\n";
        let mounts = parse_mountinfo(text);
        let got: Vec<(&str, &str, u32)> = mounts
            .iter()
            .map(|m| (m.mount_point.as_str(), m.fs_type.as_str(), m.line))
            .collect();
        assert_eq!(
            got,
            [("/sys/fs/cgroup", "cgroup2", 1), ("/proc", "proc", 2)]
        );
    }

    #[test]
    fn modes() {
        let v2 = parse_mounts("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n");
        assert_eq!(detect_mode(&v2).unwrap().0, Mode::V2);
        let hybrid = parse_mounts(
            "tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n",
        );
        let (mode, m) = detect_mode(&hybrid).unwrap();
        assert_eq!((mode, m.line), (Mode::Hybrid, 3));
        assert!(detect_mode(&parse_mounts("proc /proc proc rw 0 0\n")).is_none());
    }

    #[test]
    fn only_cgroup_mounts_are_kept_with_their_lines() {
        let text = "overlay /run/containerd/x/rootfs overlay rw 0 0\n\
                    cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n\
                    tmpfs /sys/fs/cgroup\\040x tmpfs rw 0 0\n\
                    overlay /var/lib/y overlay rw 0 0\n";
        let kept = kept(text);
        let points: Vec<(&str, u32)> = kept
            .iter()
            .map(|m| (m.mount_point.as_str(), m.line))
            .collect();
        assert_eq!(points, [("/sys/fs/cgroup", 2), ("/sys/fs/cgroup x", 3)]);
        let (mode, m) = detect_mode(&kept).unwrap();
        assert_eq!((mode, m.line), (Mode::V2, 2));
        assert_eq!(detect_mode(&kept), detect_mode(&parse_mounts(text)));
    }
}

#[cfg(test)]
mod corpus_tests {
    //! Real captures from public projects (../shared/corpus), read in place.
    use super::*;

    fn corpus(rel: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/corpus")
            .join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the tests need ../shared beside the project)",
                path.display()
            )
        })
    }

    #[test]
    fn mountinfo_escapes_in_kubelet_volume_paths_are_undone() {
        let mounts = parse_mountinfo(&corpus(
            "proc-mounts/node_exporter-proc-1-mountinfo-cgroupv1",
        ));
        assert!(mounts
            .iter()
            .any(|m| m.mount_point.contains("[vsanDatastore] bafb9e5a")));
        assert!(mounts
            .iter()
            .any(|m| m.mount_point.contains("[vsanDatastore]\tbafb9e5a")));
        assert_eq!(detect_mode(&mounts).map(|(m, _)| m), Some(Mode::V1));
    }

    #[test]
    fn real_captures_give_the_right_mode() {
        let cases = [
            ("proc-mounts/datadog-self-reader-cgroupv2.mounts", Mode::V2),
            ("proc-mounts/datadog-self-reader-cgroupv1.mounts", Mode::V1),
            ("proc-mounts/vm-hybrid-builtin-modules.mounts", Mode::Hybrid),
        ];
        for (file, mode) in cases {
            let text = corpus(file);
            let mounts = parse_mounts(&text);
            assert_eq!(detect_mode(&mounts).map(|(m, _)| m), Some(mode), "{file}");
            // What the gatherer keeps decides the same way, on the same line.
            let kept = super::tests::kept(&text);
            assert_eq!(detect_mode(&kept), detect_mode(&mounts), "{file}");
        }
        let mounts = parse_mountinfo(&corpus(
            "proc-mounts/jamescun-procfs-host-cgroupv2.mountinfo",
        ));
        let (mode, mount) = detect_mode(&mounts).unwrap();
        assert_eq!((mode, mount.line), (Mode::V2, 7));
    }
}
