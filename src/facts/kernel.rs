//! The running kernel: release, module support, loaded and built-in modules, build config.
//!
//! Facts: `kernel.release`, `kernel.modules_supported`, `module.<name>.loaded`,
//! `module.<name>.builtin`, `module.<name>.available`, `kconfig.<NAME>`, and the missing
//! option lists `kernel.config.missing_required.{common,cgroup_v1,cgroup_v2}` and
//! `kernel.config.missing_optional` (the derived `kernel.config.missing_required` picks the
//! list for the host's cgroup mode).

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use super::kconfig::{self, FoundConfig, LoadedConfig, Setting};
use super::Options;
use super::{Fact, FactRequest, FactSet, Provenance};
use crate::host::Host;

const PROC_MODULES: &str = "/proc/modules";
const OSRELEASE: &str = "/proc/sys/kernel/osrelease";

/// The kernel config symbol that builds a module in, and a path that exists once the
/// module's code runs (loaded or built in), for the modules rules ask about.
const MODULE_EVIDENCE: &[(&str, &str, Option<&str>)] = &[
    ("overlay", "OVERLAY_FS", None),
    (
        "br_netfilter",
        "BRIDGE_NETFILTER",
        Some("/proc/sys/net/bridge"),
    ),
    ("bridge", "BRIDGE", None),
    ("ip_tables", "IP_NF_IPTABLES", None),
    ("iptable_nat", "IP_NF_NAT", None),
    ("nf_conntrack", "NF_CONNTRACK", None),
    ("ip_vs", "IP_VS", None),
    ("veth", "VETH", None),
];

pub const CONFIG_LISTS: &[&str] = &[
    "kernel.config.missing_required.common",
    "kernel.config.missing_required.cgroup_v1",
    "kernel.config.missing_required.cgroup_v2",
    "kernel.config.missing_optional",
];

/// The kernel release and config of a host, read ahead: a live `check` of the built-in
/// catalog (which always asks about the kernel config) starts inflating `/proc/config.gz`,
/// the costliest read of a small host, on a thread of its own while the catalog is parsed
/// (`commands::kernel_prefetch`). Whoever gets there first reads the files — the thread, or
/// this group when the thread has not started yet — and the other takes what it found, so
/// each file is still opened once.
#[derive(Clone, Debug, Default)]
pub struct Prefetch(Arc<OnceLock<KernelFiles>>);

#[derive(Debug)]
struct KernelFiles {
    release: Result<String, String>,
    config: Result<FoundConfig, String>,
}

impl Prefetch {
    /// Starts reading `host`'s kernel release and config on a thread of its own.
    pub fn start(host: impl Host + Send + 'static) -> Prefetch {
        let prefetch = Prefetch::default();
        let ahead = prefetch.clone();
        // The thread gets the CPU this one leaves for it (placement.rs says why).
        let aside = super::placement::StepAside::new();
        // A thread that cannot be started leaves the reading to the kernel group.
        let _ = std::thread::Builder::new()
            .name("kernel-config".into())
            .spawn(move || {
                ahead.files(&host);
            });
        aside.step();
        prefetch
    }

    fn files(&self, host: &dyn Host) -> &KernelFiles {
        self.0.get_or_init(|| {
            let release = read_release(host);
            let config = match &release {
                Ok(release) => kconfig::find(host, release),
                Err(e) => Err(format!("cannot look for the kernel config: {e}")),
            };
            KernelFiles { release, config }
        })
    }
}

fn read_release(host: &dyn Host) -> Result<String, String> {
    match host.read_text(OSRELEASE) {
        Ok(text) => Ok(text.trim().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A dependent group in form only (it needs no other group): it takes the options, which may
/// carry the kernel files read ahead ([`Prefetch`]).
pub fn gather(host: &dyn Host, request: &FactRequest, _: &FactSet, options: &Options) -> FactSet {
    let mut facts = FactSet::default();
    let ahead = options.kernel_prefetch.as_ref().map(|p| p.files(host));
    let release = match ahead {
        Some(files) => files.release.clone(),
        None => read_release(host),
    };
    facts.insert(
        "kernel.release",
        match &release {
            Ok(r) => Fact::known(r.as_str(), Provenance::file(OSRELEASE)),
            Err(e) => Fact::unknown(e.clone()),
        },
    );

    let options: Vec<&str> = request.params("kconfig.").collect();
    // The options the kernel config is asked about: those facts, and the symbols that tell
    // whether a module is built in.
    let config_names: Vec<&str> = options
        .iter()
        .copied()
        .chain(MODULE_EVIDENCE.iter().map(|(_, symbol, _)| *symbol))
        .collect();
    let config = LazyConfig {
        host,
        release: release.as_deref().map_err(Clone::clone),
        ahead: ahead.map(|files| &files.config),
        wanted: &config_names,
        cell: OnceCell::new(),
    };

    let module_names = request.middle_params("module.");
    let modules = loaded_modules(host, &module_names);
    facts.insert(
        "kernel.modules_supported",
        match &modules {
            Loaded::Modules(_) => Fact::known(true, Provenance::file(PROC_MODULES)),
            Loaded::NoModuleSupport => Fact::known(
                false,
                Provenance::file(PROC_MODULES)
                    .with_note("absent: the kernel is built without module support"),
            ),
            Loaded::Unreadable(e) => Fact::unknown(e.clone()),
        },
    );

    // modules.builtin is read once for all the modules asked about.
    let builtin_list = match &release {
        Ok(release) if !module_names.is_empty() => {
            let path = format!("/lib/modules/{release}/modules.builtin");
            let text = host.read_text(&path);
            Some((path, text))
        }
        _ => None,
    };
    for name in module_names {
        let loaded = match &modules {
            Loaded::Modules(m) => Fact::known(m.contains(&name), Provenance::file(PROC_MODULES)),
            Loaded::NoModuleSupport => Fact::known(
                false,
                Provenance::file(PROC_MODULES).with_note("no module support, nothing is loaded"),
            ),
            Loaded::Unreadable(e) => Fact::unknown(e.clone()),
        };
        let builtin = builtin(host, &name, builtin_list.as_ref(), &modules, &config);
        let available = match (loaded.as_bool(), builtin.as_bool()) {
            (Some(true), _) => loaded.clone(),
            (_, Some(true)) => builtin.clone(),
            (Some(false), Some(false)) => Fact::known(
                false,
                Provenance::default().with_note(format!(
                    "not loaded ({}) and not built in ({})",
                    loaded.provenance, builtin.provenance
                )),
            ),
            _ => Fact::unknown(match (&loaded.state, &builtin.state) {
                (super::FactState::Unknown(r), _) | (_, super::FactState::Unknown(r)) => r.clone(),
                _ => "cannot tell".to_string(),
            }),
        };
        facts.insert(format!("module.{name}.loaded"), loaded);
        facts.insert(format!("module.{name}.builtin"), builtin);
        facts.insert(format!("module.{name}.available"), available);
    }

    let wants_lists = CONFIG_LISTS.iter().any(|n| request.contains(n))
        || request.contains("kernel.config.missing_required");
    if options.is_empty() && !wants_lists {
        return facts;
    }
    match config.get() {
        Ok(cfg) => {
            for name in options {
                let fact = match cfg.get(name) {
                    Some(setting) => Fact::known(setting.as_str(), Provenance::file(&cfg.path)),
                    None => Fact::absent(Provenance::file(&cfg.path).with_note("not set")),
                };
                facts.insert(format!("kconfig.{name}"), fact);
            }
            let lists = [
                kconfig::REQUIRED,
                kconfig::REQUIRED_CGROUP_V1,
                kconfig::REQUIRED_CGROUP_V2,
                kconfig::OPTIONAL,
            ];
            for (fact_name, list) in CONFIG_LISTS.iter().zip(lists) {
                facts.insert(
                    *fact_name,
                    Fact::known(cfg.missing(list), Provenance::file(&cfg.path)),
                );
            }
        }
        Err(reason) => {
            for name in options {
                facts.insert(format!("kconfig.{name}"), Fact::unknown(reason.clone()));
            }
            for fact_name in CONFIG_LISTS {
                facts.insert(*fact_name, Fact::unknown(reason.clone()));
            }
        }
    }
    facts
}

/// The kernel config, read on first use: decompressing /proc/config.gz is the costliest
/// read here, so it happens only when a fact needs it.
struct LazyConfig<'a> {
    host: &'a dyn Host,
    release: Result<&'a str, String>,
    /// The config found ahead, when it was ([`Prefetch`]).
    ahead: Option<&'a Result<FoundConfig, String>>,
    /// The options kept beside the requirement lists': `kconfig.<NAME>` facts, module symbols.
    wanted: &'a [&'a str],
    cell: OnceCell<Result<LoadedConfig, String>>,
}

impl LazyConfig<'_> {
    fn get(&self) -> &Result<LoadedConfig, String> {
        self.cell.get_or_init(|| match (self.ahead, &self.release) {
            (Some(found), _) => found
                .as_ref()
                .map(|found| kconfig::select(found, self.wanted))
                .map_err(Clone::clone),
            (None, Ok(release)) => kconfig::load(self.host, release, self.wanted),
            (None, Err(e)) => Err(format!("cannot look for the kernel config: {e}")),
        })
    }
}

enum Loaded {
    /// The modules asked about that are loaded.
    Modules(BTreeSet<String>),
    NoModuleSupport,
    Unreadable(String),
}

const MODULES_FORMAT: &str = "name size refcount deps state";

/// Which of the `asked` modules `/proc/modules` lists, or why it cannot be read.
fn loaded_modules(host: &dyn Host, asked: &BTreeSet<String>) -> Loaded {
    match host.read(PROC_MODULES) {
        Ok(bytes) => match loaded_among(&bytes, asked) {
            Some(loaded) => Loaded::Modules(loaded),
            None => Loaded::Unreadable(super::malformed_line(
                PROC_MODULES,
                &bytes,
                MODULES_FORMAT,
                well_formed,
            )),
        },
        Err(e) if e.is_not_found() => Loaded::NoModuleSupport,
        Err(e) => Loaded::Unreadable(e.to_string()),
    }
}

/// A `/proc/modules` line as the kernel writes it (kernel/module.c `m_show`) and as
/// procfs-core's parser requires it: a name, a size, a reference count, the users and a state.
fn well_formed(fields: &[&str]) -> bool {
    fields.len() >= 5 && fields[1].parse::<u32>().is_ok() && fields[2].parse::<i32>().is_ok()
}

/// The modules of `asked` the file lists; `None` when a line is not well formed (an empty
/// one included) or the file is not text, as procfs-core's `KernelModules` would refuse it
/// (fields split at ASCII whitespace: the kernel writes no other).
///
/// By hand rather than with `KernelModules`, which builds a map entry of three strings and a
/// list for every module to answer the handful a run asks about: 4,000 instructions a module
/// on the busy node's 4,000, and a cost per module that grew with their number (freeing that
/// many small allocations). This keeps the asked names only.
fn loaded_among(bytes: &[u8], asked: &BTreeSet<String>) -> Option<BTreeSet<String>> {
    let mut loaded = Some(BTreeSet::new());
    crate::host::for_each_line(bytes, 1, &mut |_, line| {
        let Some(found) = loaded.as_mut() else {
            return;
        };
        let mut fields = [""; 5];
        let mut count = 0;
        if let Ok(line) = std::str::from_utf8(line) {
            for (slot, field) in fields.iter_mut().zip(line.split_ascii_whitespace()) {
                *slot = field;
                count += 1;
            }
        }
        if !well_formed(&fields[..count]) {
            loaded = None;
        } else if asked.contains(fields[0]) {
            found.insert(fields[0].to_string());
        }
    });
    loaded
}

/// Whether a module is built into the kernel, from the cheapest evidence first:
/// `modules.builtin`, `/sys/module/NAME` without `initstate` (built-in modules have no
/// load state), a path only the module's code creates when it is not loaded, and last the
/// kernel config (`CONFIG_X=y`).
fn builtin(
    host: &dyn Host,
    name: &str,
    builtin_list: Option<&(String, Result<String, crate::host::HostError>)>,
    modules: &Loaded,
    config: &LazyConfig<'_>,
) -> Fact {
    let evidence = MODULE_EVIDENCE.iter().find(|(m, _, _)| *m == name);
    let mut consulted: Vec<String> = Vec::new();
    if let Some((path, read)) = builtin_list {
        match read {
            Ok(text) => {
                let wanted = format!("/{name}.ko");
                let underscored = format!("/{}.ko", name.replace('_', "-"));
                if let Some((i, _)) = text.lines().enumerate().find(|(_, l)| {
                    let l = l.trim();
                    l.ends_with(&wanted) || l.ends_with(&underscored) || l == &wanted[1..]
                }) {
                    return Fact::known(true, Provenance::line(path, i as u32 + 1));
                }
                consulted.push(format!("not in {path}"));
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => consulted.push(e.to_string()),
        }
    }
    let is_loaded = matches!(modules, Loaded::Modules(m) if m.contains(name));
    let sys_module = format!("/sys/module/{name}");
    if !is_loaded && host.exists(&sys_module).unwrap_or(false) {
        let initstate = format!("{sys_module}/initstate");
        if !host.exists(&initstate).unwrap_or(true) {
            return Fact::known(
                true,
                Provenance::file(sys_module).with_note("present without initstate"),
            );
        }
    }
    // A path the module creates proves it built in only when we know it is not loaded.
    let known_not_loaded = match modules {
        Loaded::Modules(m) => !m.contains(name),
        Loaded::NoModuleSupport => true,
        Loaded::Unreadable(_) => false,
    };
    if let Some((_, _, Some(marker))) = evidence {
        if known_not_loaded && host.exists(marker).unwrap_or(false) {
            return Fact::known(
                true,
                Provenance::file(*marker).with_note(format!("exists while {name} is not loaded")),
            );
        }
    }
    if let Some((_, symbol, _)) = evidence {
        match config.get() {
            Ok(cfg) => {
                let setting = cfg.get(symbol);
                let builtin = setting == Some(Setting::BuiltIn);
                let shown = setting.map_or("not set".to_string(), |s| format!("={}", s.as_str()));
                return Fact::known(
                    builtin,
                    Provenance::file(&cfg.path).with_note(format!("CONFIG_{symbol}{shown}")),
                );
            }
            Err(reason) => consulted.push(reason.clone()),
        }
    }
    let note = if consulted.is_empty() {
        "no evidence of it in modules.builtin, /sys/module or the kernel config".to_string()
    } else {
        consulted.join("; ")
    };
    Fact::known(false, Provenance::default().with_note(note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Role;
    use crate::facts::{RuntimeOptions, Target};
    use crate::host::FsHost;
    use crate::rules::Catalog;

    fn asked(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn only_the_modules_asked_about_are_kept() {
        let text = "overlay 151552 0 - Live 0x0000000000000000\r\n\
                    br_netfilter 32768 0 - Live 0x0\n\
                    bridge 311296 1 br_netfilter, Live 0x0 (E)";
        let loaded = loaded_among(text.as_bytes(), &asked(&["overlay", "bridge", "veth"]));
        assert_eq!(loaded, Some(asked(&["overlay", "bridge"])));
        assert_eq!(loaded_among(b"", &asked(&["overlay"])), Some(asked(&[])));
    }

    #[test]
    fn a_line_procfs_core_would_refuse_makes_the_file_unreadable() {
        let any = asked(&["overlay"]);
        for text in [
            &b"overlay 151552 0 - Live\n\nveth 1 0 - Live\n"[..],
            b"overlay 151552 0 -\n",
            b"overlay big 0 - Live\n",
            b"overlay 151552 -1x - Live\n",
            b"overlay 151552 0 - Live \xff\n",
        ] {
            assert_eq!(
                loaded_among(text, &any),
                None,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        assert_eq!(
            loaded_among(b"a 1 0 - Live\nb 2 0 - Live\n", &any),
            Some(asked(&[]))
        );
    }

    /// The saved fuzz inputs and the corpus captures are read as procfs-core reads them: the
    /// same files refused, the same modules found (fields split at ASCII whitespace only, so
    /// an input with other whitespace is left out of the comparison).
    #[test]
    fn files_are_accepted_and_read_as_procfs_core_does() {
        use procfs_core::{FromBufRead, KernelModules};
        let root = env!("CARGO_MANIFEST_DIR");
        let mut paths: Vec<std::path::PathBuf> =
            std::fs::read_dir(format!("{root}/fuzz/corpus/proc_modules"))
                .expect("the proc_modules fuzz corpus")
                .map(|e| e.expect("a corpus entry").path())
                .collect();
        let captures = format!("{root}/../shared/corpus/proc-modules");
        paths.extend(
            std::fs::read_dir(&captures)
                .unwrap_or_else(|e| panic!("{captures}: {e}"))
                .map(|e| e.expect("a corpus entry").path()),
        );
        let mut compared = 0;
        for path in paths {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let unicode_space = String::from_utf8_lossy(&bytes)
                .chars()
                .any(|c| c.is_whitespace() && !c.is_ascii_whitespace());
            if unicode_space {
                continue;
            }
            let theirs = KernelModules::from_buf_read(bytes.as_slice()).ok();
            let names: BTreeSet<String> = theirs
                .as_ref()
                .map(|m| m.0.keys().cloned().collect())
                .unwrap_or_default();
            let ours = loaded_among(&bytes, &names);
            assert_eq!(ours, theirs.map(|_| names), "{}", path.display());
            compared += 1;
        }
        assert!(compared > 100, "only {compared} files compared");
    }

    fn options(kernel_prefetch: Option<Prefetch>) -> Options {
        Options {
            target: Target {
                kubernetes_version: crate::version::Version::new(1, 35),
                kubernetes_version_source: "test".into(),
                role: Role::Worker,
            },
            runtime: RuntimeOptions::default(),
            kernel_prefetch,
        }
    }

    fn request() -> FactRequest {
        let catalog = Catalog::load(&[]).expect("the built-in catalog loads");
        FactRequest::new(Catalog::facts_of(&catalog.rules))
    }

    /// `commands::kernel_prefetch` reads the kernel config ahead for the built-in catalog,
    /// which is right only while that catalog asks about it.
    #[test]
    fn the_builtin_catalog_asks_about_the_kernel_config() {
        let request = request();
        for fact in [
            "kernel.config.missing_required",
            "kernel.config.missing_optional",
        ] {
            assert!(
                request.contains(fact),
                "the built-in catalog no longer asks {fact}"
            );
        }
    }

    fn gathered(root: &str, kernel_prefetch: Option<Prefetch>) -> String {
        let host = FsHost::under(crate::host::clean_path(&format!(
            "{}/testdata/hosts/{root}",
            env!("CARGO_MANIFEST_DIR")
        )));
        let facts = gather(
            &host,
            &request(),
            &FactSet::default(),
            &options(kernel_prefetch),
        );
        serde_json::to_string(&facts.iter().collect::<Vec<_>>()).expect("facts serialize")
    }

    /// Read ahead on a thread, or read by the group itself when the thread has not got there
    /// (an empty `Prefetch`), the kernel facts are what the group finds without one.
    #[test]
    fn facts_read_ahead_are_the_facts_read_in_place() {
        for root in [
            "healthy-v2-systemd",
            "builtin-no-modules",
            "broken-files",
            "cgroup-v1",
        ] {
            let plain = gathered(root, None);
            let dir = format!("{}/testdata/hosts/{root}", env!("CARGO_MANIFEST_DIR"));
            let ahead = Prefetch::start(FsHost::under(dir));
            assert_eq!(gathered(root, Some(ahead)), plain, "{root}, read ahead");
            assert_eq!(
                gathered(root, Some(Prefetch::default())),
                plain,
                "{root}, in place"
            );
        }
    }
}
