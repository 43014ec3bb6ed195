//! A host read from a filesystem: the live machine (root `/`) or a tree under `--root DIR`.

use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

use crate::probe::cri::CriTranscript;
use crate::probe::docker::DockerTranscript;
use crate::probe::{self, Failure, FailureKind};

use super::{
    Access, AccessKind, AccessLog, Answer, DirEntry, ErrorReason, FileKind, Host, HostError,
    Prefix, Recorded, Recording, MAX_FILE_SIZE,
};

/// The buffer [`Host::read_lines`] streams a file through: large enough that a big file
/// takes few reads, small enough that it never shows in the peak memory.
const STREAM_BUFFER: usize = 64 * 1024;

/// A host whose files live under a root directory.
#[derive(Debug)]
pub struct FsHost {
    root: PathBuf,
    live: bool,
    /// The root directory, opened once (`--root` only): every lookup under it is then one
    /// `openat2(RESOLVE_IN_ROOT)`, the kernel resolving symlinks inside the root as a chroot
    /// would, instead of an `lstat` per path component. `None` when it could not be opened;
    /// lookups then take the component-by-component path, which reports why.
    root_fd: Option<OwnedFd>,
    /// Cleared when the kernel refuses `openat2` (older than 5.6, or a seccomp filter that
    /// does not know it): from then on lookups resolve component by component.
    openat2: AtomicBool,
    log: AccessLog,
    /// The answers themselves, kept only while collecting a bundle.
    recording: Option<Recording>,
}

impl FsHost {
    /// The machine this process runs on.
    pub fn live() -> Self {
        FsHost {
            root: PathBuf::from("/"),
            live: true,
            root_fd: None,
            openat2: AtomicBool::new(false),
            log: AccessLog::default(),
            recording: None,
        }
    }

    /// A copied or mounted root filesystem. Symlinks inside it resolve inside it, as they
    /// would for a process chrooted there, so `/etc/os-release -> /usr/lib/os-release` reads
    /// the tree's file and never the checking machine's.
    pub fn under(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let root_fd = nix::fcntl::open(
            &root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok();
        FsHost {
            openat2: AtomicBool::new(root_fd.is_some()),
            root_fd,
            root,
            live: false,
            log: AccessLog::default(),
            recording: None,
        }
    }

    /// Keeps every answer as well as the access log, for `collect`.
    pub fn recording(mut self) -> Self {
        self.recording = Some(Recording::default());
        self
    }

    /// The answers kept so far (empty unless [`FsHost::recording`]).
    pub fn recorded(&self) -> Vec<Recorded> {
        self.recording
            .as_ref()
            .map(Recording::snapshot)
            .unwrap_or_default()
    }

    fn keep(&self, path: &str, answer: impl FnOnce() -> Answer) {
        if let Some(recording) = &self.recording {
            recording.push(path, answer());
        }
    }

    /// Maps a host path to a path on this machine, resolving symlinks inside the root when
    /// the root is not `/`.
    fn resolve(&self, path: &str) -> Result<PathBuf, HostError> {
        if self.live && path.starts_with('/') {
            return Ok(PathBuf::from(path));
        }
        let resolved = super::resolve_in_root(path, |prefix, _| {
            let on_disk = self.on_disk(prefix);
            // Missing (or unreadable) from here on: the caller's open reports why.
            let Ok(meta) = fs::symlink_metadata(&on_disk) else {
                return Ok(Prefix::Missing);
            };
            if !meta.file_type().is_symlink() {
                return Ok(Prefix::Other);
            }
            let target = fs::read_link(&on_disk).map_err(|e| io_error(path, &e))?;
            Ok(Prefix::Link(target.to_string_lossy().into_owned()))
        })?;
        Ok(self.on_disk(&resolved))
    }

    /// Opens a host path with `flags` (always close-on-exec): directly on the live machine,
    /// with one `openat2(RESOLVE_IN_ROOT)` under a root, or after resolving it component by
    /// component where the kernel has no `openat2`.
    fn open(&self, path: &str, flags: OFlag) -> Result<OwnedFd, HostError> {
        let flags = flags | OFlag::O_CLOEXEC;
        let Some(relative) = path.strip_prefix('/') else {
            return Err(HostError::new(
                path,
                ErrorReason::Io("not an absolute path".into()),
            ));
        };
        if self.live {
            return nix::fcntl::open(path, flags, Mode::empty()).map_err(|e| errno(path, e));
        }
        if let Some(root_fd) = self
            .root_fd
            .as_ref()
            .filter(|_| self.openat2.load(Ordering::Relaxed))
        {
            let relative = if relative.is_empty() { "." } else { relative };
            let how = OpenHow::new()
                .flags(flags)
                .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
            // EAGAIN: a rename raced the lookup; the kernel asks for a retry.
            let mut result = nix::fcntl::openat2(root_fd, relative, how);
            if matches!(result, Err(Errno::EAGAIN)) {
                result = nix::fcntl::openat2(root_fd, relative, how);
            }
            match result {
                Ok(fd) => return Ok(fd),
                Err(Errno::ENOSYS | Errno::EPERM | Errno::EAGAIN) => {
                    self.openat2.store(false, Ordering::Relaxed);
                }
                Err(e) => return Err(errno(path, e)),
            }
        }
        let on_disk = self.resolve(path)?;
        nix::fcntl::open(&on_disk, flags, Mode::empty()).map_err(|e| errno(path, e))
    }

    fn on_disk(&self, components: &[String]) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(components);
        p
    }

    /// Opens a regular file to read, refusing anything else and a file that says it is
    /// larger than [`MAX_FILE_SIZE`] before a byte is read; with the size it says. Files of
    /// /proc and /sys say 0: the callers bound what they read of those.
    fn open_regular(&self, path: &str) -> Result<(File, u64), HostError> {
        // O_NONBLOCK so that a FIFO planted where a file should be cannot block the open;
        // the file type is checked on the opened descriptor, so nothing can swap it after.
        let file = File::from(self.open(path, OFlag::O_RDONLY | OFlag::O_NONBLOCK)?);
        let meta = file.metadata().map_err(|e| io_error(path, &e))?;
        if !meta.is_file() {
            return Err(HostError::new(
                path,
                ErrorReason::NotAFile(kind_name(&meta)),
            ));
        }
        if meta.len() > MAX_FILE_SIZE {
            return Err(too_large(path));
        }
        Ok((file, meta.len()))
    }

    fn read_file(&self, path: &str) -> Result<Vec<u8>, HostError> {
        let (file, said) = self.open_regular(path)?;
        let mut bytes = Vec::with_capacity(said as usize);
        file.take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(path, &e))?;
        if bytes.len() as u64 > MAX_FILE_SIZE {
            return Err(too_large(path));
        }
        Ok(bytes)
    }

    /// Streams a file through a small buffer, a line at a time. While collecting, the
    /// bytes are kept too (the bundle needs the file whole).
    fn scan_lines(
        &self,
        path: &str,
        each: &mut dyn FnMut(u32, &[u8]),
        mut keep: Option<&mut Vec<u8>>,
    ) -> Result<(), HostError> {
        let (file, _) = self.open_regular(path)?;
        let mut reader = io::BufReader::with_capacity(STREAM_BUFFER, file.take(MAX_FILE_SIZE + 1));
        let mut line = Vec::new();
        let mut number = 1u32;
        let mut total = 0u64;
        loop {
            line.clear();
            let n = io::BufRead::read_until(&mut reader, b'\n', &mut line)
                .map_err(|e| io_error(path, &e))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > MAX_FILE_SIZE {
                return Err(too_large(path));
            }
            if let Some(kept) = keep.as_deref_mut() {
                kept.extend_from_slice(&line);
            }
            each(number, line.strip_suffix(b"\n").unwrap_or(&line));
            number = number.saturating_add(1);
        }
        Ok(())
    }

    fn list(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        let fd = self.open(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
        let mut dir = Dir::from_fd(fd).map_err(|e| errno(path, e))?;
        let mut listing = Vec::new();
        for entry in dir.iter() {
            let entry = entry.map_err(|e| errno(path, e))?;
            let name = entry.file_name().to_string_lossy();
            if name == "." || name == ".." {
                continue;
            }
            // The directory entry's own type answers for everything but symlinks (and the
            // filesystems that do not fill it in): those are followed the way the host itself
            // would, inside the root.
            let kind = match entry.file_type() {
                Some(Type::File) => FileKind::File,
                Some(Type::Directory) => FileKind::Dir,
                Some(Type::Socket) => FileKind::Socket,
                Some(Type::Symlink) | None => {
                    let child = format!("{}/{}", path.trim_end_matches('/'), name);
                    match self.stat(&child) {
                        Ok(Some(kind)) => kind,
                        // A dangling link or an unreadable entry is listed as "other": callers
                        // that want files skip it, and a read of it reports the real reason.
                        Ok(None) | Err(_) => FileKind::Other,
                    }
                }
                Some(_) => FileKind::Other,
            };
            listing.push(DirEntry {
                name: name.into_owned(),
                kind,
            });
        }
        listing.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listing)
    }

    fn stat(&self, path: &str) -> Result<Option<FileKind>, HostError> {
        let found = if self.live {
            fs::metadata(path).map_err(|e| io_error(path, &e))
        } else {
            // O_PATH opens anything (a socket, a directory without read permission) and
            // follows symlinks inside the root; the type comes from the descriptor.
            self.open(path, OFlag::O_PATH)
                .and_then(|fd| File::from(fd).metadata().map_err(|e| io_error(path, &e)))
        };
        match found {
            Ok(meta) => Ok(Some(file_kind(&meta))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Host for FsHost {
    fn read(&self, path: &str) -> Result<Vec<u8>, HostError> {
        let result = self.read_file(path);
        self.keep(path, || Answer::Read(result.clone()));
        self.log.record(AccessKind::Read, path, result)
    }

    fn read_lines(&self, path: &str, each: &mut dyn FnMut(u32, &[u8])) -> Result<(), HostError> {
        let result = if self.recording.is_some() {
            let mut bytes = Vec::new();
            let result = self.scan_lines(path, each, Some(&mut bytes));
            self.keep(path, || Answer::Read(result.clone().map(|()| bytes)));
            result
        } else {
            self.scan_lines(path, each, None)
        };
        self.log.record(AccessKind::Read, path, result)
    }

    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        let result = self.list(path);
        self.keep(path, || Answer::List(result.clone()));
        self.log.record(AccessKind::List, path, result)
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, HostError> {
        let result = self.stat(path);
        self.keep(path, || Answer::Stat(result.clone()));
        self.log.record(AccessKind::Stat, path, result)
    }

    fn read_link(&self, path: &str) -> Result<String, HostError> {
        let result = (|| {
            if self.live {
                return fs::read_link(path)
                    .map(|t| t.to_string_lossy().into_owned())
                    .map_err(|e| io_error(path, &e));
            }
            // Resolve the parent, not the link itself.
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
            let parent = if parent.is_empty() { "/" } else { parent };
            let parent_fd = self.open(parent, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
            nix::fcntl::readlinkat(&parent_fd, name)
                .map(|t| t.to_string_lossy().into_owned())
                .map_err(|e| errno(path, e))
        })();
        self.keep(path, || Answer::ReadLink(result.clone()));
        self.log.record(AccessKind::ReadLink, path, result)
    }

    fn env(&self, name: &str) -> Option<String> {
        let value = if self.live {
            std::env::var(name).ok()
        } else {
            None
        };
        self.keep(name, || Answer::Env(value.clone()));
        value
    }

    fn is_live(&self) -> bool {
        self.live
    }

    fn describe(&self) -> String {
        if self.live {
            "live".to_string()
        } else {
            format!("root {}", self.root.display())
        }
    }

    fn accesses(&self) -> Vec<Access> {
        self.log.snapshot()
    }

    fn probe_cri(&self, socket: &str, timeout: Duration) -> CriTranscript {
        let transcript = match self.resolve(socket) {
            Ok(on_disk) => probe::cri::probe(&on_disk, socket, timeout),
            Err(e) => CriTranscript::unreachable(socket, unresolvable(&e)),
        };
        let error = transcript.version.failure().map(|f| f.message.clone());
        self.log.push_message(AccessKind::Probe, socket, error);
        self.keep(socket, || Answer::Cri(transcript.clone()));
        transcript
    }

    fn probe_docker(&self, socket: &str, timeout: Duration) -> DockerTranscript {
        let transcript = match self.resolve(socket) {
            Ok(on_disk) => probe::docker::probe(&on_disk, socket, timeout),
            Err(e) => {
                let failure = unresolvable(&e);
                DockerTranscript {
                    socket: socket.to_string(),
                    version: probe::ProbeOutcome::Failed(failure.clone()),
                    info: probe::ProbeOutcome::Failed(failure),
                }
            }
        };
        let error = transcript.version.failure().map(|f| f.message.clone());
        self.log.push_message(AccessKind::Probe, socket, error);
        self.keep(socket, || Answer::Docker(transcript.clone()));
        transcript
    }
}

/// A socket path that cannot even be resolved under the root (a symlink loop).
fn unresolvable(e: &HostError) -> Failure {
    let kind = match e.reason {
        ErrorReason::NotFound => FailureKind::Missing,
        ErrorReason::PermissionDenied => FailureKind::Denied,
        _ => FailureKind::Other,
    };
    Failure::new(kind, e.reason.to_string())
}

fn file_kind(meta: &Metadata) -> FileKind {
    let ft = meta.file_type();
    if ft.is_file() {
        FileKind::File
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_socket() {
        FileKind::Socket
    } else {
        FileKind::Other
    }
}

fn kind_name(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        "directory"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

fn too_large(path: &str) -> HostError {
    HostError::new(
        path,
        ErrorReason::TooLarge {
            limit: MAX_FILE_SIZE,
        },
    )
}

fn errno(path: &str, err: Errno) -> HostError {
    io_error(path, &io::Error::from(err))
}

fn io_error(path: &str, err: &io::Error) -> HostError {
    let reason = match err.kind() {
        io::ErrorKind::NotFound => ErrorReason::NotFound,
        io::ErrorKind::PermissionDenied => ErrorReason::PermissionDenied,
        _ => match err.raw_os_error() {
            Some(nix::libc::ENOTDIR) => ErrorReason::NotFound,
            Some(nix::libc::EISDIR) => ErrorReason::NotAFile("directory"),
            Some(nix::libc::ELOOP) => ErrorReason::BadLink("loop".into()),
            _ => ErrorReason::Io(strip_os_error(err)),
        },
    };
    HostError::new(path, reason)
}

/// `Is a directory (os error 21)` reads better without the errno.
fn strip_os_error(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Both ways of resolving a path under a root: the kernel's (`openat2`) and the
    /// component-by-component one used where the kernel has no `openat2`.
    fn both_resolvers(root: &std::path::Path) -> [FsHost; 2] {
        let kernel = FsHost::under(root);
        assert!(
            kernel.openat2.load(Ordering::Relaxed),
            "the root opens, so openat2 is tried"
        );
        let by_components = FsHost::under(root);
        by_components.openat2.store(false, Ordering::Relaxed);
        [kernel, by_components]
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("usr/lib")).unwrap();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("usr/lib/os-release"), "ID=fixture\n").unwrap();
        symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
        symlink("../../../../../etc/passwd", root.join("etc/escape")).unwrap();
        symlink("/usr/lib", root.join("lib")).unwrap();
        for host in both_resolvers(root) {
            assert_eq!(host.read_text("/etc/os-release").unwrap(), "ID=fixture\n");
            // `..` stops at the root, so the link lands on the tree's own /etc/passwd (absent).
            assert!(host.read("/etc/escape").unwrap_err().is_not_found());
            assert_eq!(host.kind("/lib").unwrap(), Some(FileKind::Dir));
            assert_eq!(host.kind("/etc/escape").unwrap(), None);
            assert_eq!(
                host.read_link("/etc/os-release").unwrap(),
                "/usr/lib/os-release"
            );
            let listing = host.list_dir("/etc").unwrap();
            let kinds: Vec<(&str, FileKind)> =
                listing.iter().map(|e| (e.name.as_str(), e.kind)).collect();
            assert_eq!(
                kinds,
                [("escape", FileKind::Other), ("os-release", FileKind::File)]
            );
            let through_link = host.list_dir("/lib").unwrap();
            assert_eq!(through_link.len(), 1);
            assert_eq!(through_link[0].name, "os-release");
        }
    }

    #[test]
    fn symlink_loops_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        symlink("/b", dir.path().join("a")).unwrap();
        symlink("/a", dir.path().join("b")).unwrap();
        for host in both_resolvers(dir.path()) {
            let err = host.read("/a").unwrap_err();
            assert_eq!(err.reason, ErrorReason::BadLink("loop".into()));
        }
    }

    #[test]
    fn lines_stream_with_their_numbers_and_the_same_bound() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), "one\ntwo\n\nlast without newline").unwrap();
        let host = FsHost::under(dir.path()).recording();
        let mut lines = Vec::new();
        host.read_lines("/f", &mut |n, line| {
            lines.push((n, String::from_utf8_lossy(line).into_owned()))
        })
        .unwrap();
        let expected = [(1, "one"), (2, "two"), (3, ""), (4, "last without newline")];
        let expected: Vec<(u32, String)> =
            expected.iter().map(|(n, l)| (*n, l.to_string())).collect();
        assert_eq!(lines, expected);
        // Collecting keeps the file whole, as a read would.
        let recorded = host.recorded();
        assert!(matches!(
            &recorded[0].answer,
            Answer::Read(Ok(bytes)) if bytes.as_slice() == b"one\ntwo\n\nlast without newline"
        ));
        assert_eq!(host.accesses()[0].kind, AccessKind::Read);

        // Over the bound: an error naming it, however the file is read.
        let big = File::create(dir.path().join("big")).unwrap();
        big.set_len(MAX_FILE_SIZE + 1).unwrap();
        let err = host.read_lines("/big", &mut |_, _| {}).unwrap_err();
        assert_eq!(
            err.reason,
            ErrorReason::TooLarge {
                limit: MAX_FILE_SIZE
            }
        );
        fs::create_dir(dir.path().join("d")).unwrap();
        let err = host.read_lines("/d", &mut |_, _| {}).unwrap_err();
        assert_eq!(err.reason, ErrorReason::NotAFile("directory"));
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        let host = FsHost::under(dir.path());
        let err = host.read("/d").unwrap_err();
        assert_eq!(err.reason, ErrorReason::NotAFile("directory"));
        assert_eq!(err.to_string(), "/d: is a directory, not a regular file");
    }

    #[test]
    fn every_access_is_recorded() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("f"), "x").unwrap();
        let host = FsHost::under(dir.path());
        host.read("/f").unwrap();
        let _ = host.read("/missing");
        let log = host.accesses();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].path, "/f");
        assert_eq!(log[0].error, None);
        assert_eq!(log[1].error.as_deref(), Some("not found"));
    }
}
