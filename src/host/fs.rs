//! A host read from a filesystem: the live machine (root `/`) or a tree under `--root DIR`.

use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::Duration;

use crate::probe::cri::CriTranscript;
use crate::probe::docker::DockerTranscript;
use crate::probe::{self, Failure, FailureKind};

use super::{
    Access, AccessKind, AccessLog, Answer, DirEntry, ErrorReason, FileKind, Host, HostError,
    Recorded, Recording, MAX_FILE_SIZE,
};

/// How many symlinks one lookup may follow before it is called a loop (Linux's own limit).
const MAX_LINK_HOPS: usize = 40;

/// A host whose files live under a root directory.
#[derive(Debug)]
pub struct FsHost {
    root: PathBuf,
    live: bool,
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
            log: AccessLog::default(),
            recording: None,
        }
    }

    /// A copied or mounted root filesystem. Symlinks inside it resolve inside it, as they
    /// would for a process chrooted there, so `/etc/os-release -> /usr/lib/os-release` reads
    /// the tree's file and never the checking machine's.
    pub fn under(root: impl Into<PathBuf>) -> Self {
        FsHost {
            root: root.into(),
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
        if !path.starts_with('/') {
            return Err(HostError::new(
                path,
                ErrorReason::Io("not an absolute path".into()),
            ));
        }
        if self.live {
            return Ok(PathBuf::from(path));
        }
        let mut resolved: Vec<String> = Vec::new();
        let mut pending: Vec<String> = components(path).rev().map(str::to_string).collect();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            resolved.push(component);
            let on_disk = self.on_disk(&resolved);
            let Ok(meta) = fs::symlink_metadata(&on_disk) else {
                // Missing (or unreadable) from here on: the caller's open reports why.
                resolved.extend(pending.drain(..).rev());
                break;
            };
            if !meta.file_type().is_symlink() {
                continue;
            }
            hops += 1;
            if hops > MAX_LINK_HOPS {
                return Err(HostError::new(path, ErrorReason::BadLink("loop".into())));
            }
            let target = fs::read_link(&on_disk).map_err(|e| io_error(path, &e))?;
            let target = target.to_string_lossy().into_owned();
            resolved.pop();
            if target.starts_with('/') {
                resolved.clear();
            }
            pending.extend(components(&target).rev().map(str::to_string));
        }
        Ok(self.on_disk(&resolved))
    }

    fn on_disk(&self, components: &[String]) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(components);
        p
    }

    fn read_file(&self, path: &str) -> Result<Vec<u8>, HostError> {
        let on_disk = self.resolve(path)?;
        // O_NONBLOCK so that a FIFO planted where a file should be cannot block the open;
        // the file type is checked on the opened descriptor, so nothing can swap it after.
        let file = File::options()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(&on_disk)
            .map_err(|e| io_error(path, &e))?;
        let meta = file.metadata().map_err(|e| io_error(path, &e))?;
        if !meta.is_file() {
            return Err(HostError::new(
                path,
                ErrorReason::NotAFile(kind_name(&meta)),
            ));
        }
        // A regular file says its size: refuse a large one before reading a byte. Files of
        // /proc and /sys say 0 and are bounded by `take` below instead.
        if meta.len() > MAX_FILE_SIZE {
            return Err(HostError::new(
                path,
                ErrorReason::TooLarge {
                    limit: MAX_FILE_SIZE,
                },
            ));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(path, &e))?;
        if bytes.len() as u64 > MAX_FILE_SIZE {
            return Err(HostError::new(
                path,
                ErrorReason::TooLarge {
                    limit: MAX_FILE_SIZE,
                },
            ));
        }
        Ok(bytes)
    }

    fn list(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        let on_disk = self.resolve(path)?;
        let entries = fs::read_dir(&on_disk).map_err(|e| io_error(path, &e))?;
        let mut listing = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(path, &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = format!("{}/{}", path.trim_end_matches('/'), name);
            // Follow symlinks the way the host itself would (inside the root).
            let kind = match self.stat(&child) {
                Ok(Some(kind)) => kind,
                // A dangling link or an unreadable entry is listed as "other": callers that
                // want files skip it, and a read of it reports the real reason.
                Ok(None) | Err(_) => FileKind::Other,
            };
            listing.push(DirEntry { name, kind });
        }
        listing.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listing)
    }

    fn stat(&self, path: &str) -> Result<Option<FileKind>, HostError> {
        let on_disk = self.resolve(path)?;
        match fs::metadata(&on_disk) {
            Ok(meta) => Ok(Some(file_kind(&meta))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOTDIR) => Ok(None),
            Err(e) => Err(io_error(path, &e)),
        }
    }
}

impl Host for FsHost {
    fn read(&self, path: &str) -> Result<Vec<u8>, HostError> {
        let result = self.read_file(path);
        self.keep(path, || Answer::Read(result.clone()));
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
            // Resolve the parent, not the link itself.
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
            let parent = if parent.is_empty() { "/" } else { parent };
            let on_disk = self.resolve(parent)?.join(name);
            fs::read_link(&on_disk)
                .map(|t| t.to_string_lossy().into_owned())
                .map_err(|e| io_error(path, &e))
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

fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
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

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("usr/lib")).unwrap();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("usr/lib/os-release"), "ID=fixture\n").unwrap();
        symlink("/usr/lib/os-release", root.join("etc/os-release")).unwrap();
        symlink("../../../../../etc/passwd", root.join("etc/escape")).unwrap();
        let host = FsHost::under(root);
        assert_eq!(host.read_text("/etc/os-release").unwrap(), "ID=fixture\n");
        // `..` stops at the root, so the link lands on the tree's own /etc/passwd (absent).
        assert!(host.read("/etc/escape").unwrap_err().is_not_found());
    }

    #[test]
    fn symlink_loops_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        symlink("/b", dir.path().join("a")).unwrap();
        symlink("/a", dir.path().join("b")).unwrap();
        let host = FsHost::under(dir.path());
        let err = host.read("/a").unwrap_err();
        assert_eq!(err.reason, ErrorReason::BadLink("loop".into()));
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
