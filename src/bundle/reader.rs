//! Reading a bundle: untrusted input, read in memory and checked before anything is used.
//!
//! Nothing is ever extracted or written. Every entry must be a regular file with a relative
//! name that stays inside the archive (no `..`, no absolute path), appear once, and be listed
//! in the manifest with the size and SHA-256 it has. Sizes are counted as the bytes stream
//! in, never taken from a header: the whole decompressed stream and each file are bounded.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use super::manifest::{Manifest, MANIFEST_ENTRY};
use super::writer::sha256_hex;

/// The bounds a bundle must keep.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The whole decompressed tar stream (headers included).
    pub total: u64,
    /// One file.
    pub file: u64,
    /// Entries in the archive.
    pub entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            total: 256 * 1024 * 1024,
            file: crate::host::MAX_FILE_SIZE,
            entries: 100_000,
        }
    }
}

/// Why a bundle cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BundleError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, BundleError> {
    Err(BundleError(msg.into()))
}

/// A bundle's manifest and entries, checked.
#[derive(Debug)]
pub struct Bundle {
    pub manifest: Manifest,
    pub entries: HashMap<String, Vec<u8>>,
}

/// Reads and checks the bundle at `path`.
pub fn open(path: &Path, limits: Limits) -> Result<Bundle, BundleError> {
    let file =
        std::fs::File::open(path).map_err(|e| BundleError(format!("cannot open it: {e}")))?;
    read(file, limits)
}

/// A reader that fails once more than `limit` bytes have come through it.
struct Bounded<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(TooBig(self.limit)));
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct TooBig(u64);

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "it decompresses to more than {} bytes, the bound on a bundle",
            self.0
        )
    }
}

impl std::error::Error for TooBig {}

/// What an I/O error while reading the archive means to a person.
fn stream_error(e: &io::Error) -> BundleError {
    if let Some(big) = e.get_ref().and_then(|i| i.downcast_ref::<TooBig>()) {
        return BundleError(big.to_string());
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            BundleError("the archive is truncated (it ends in the middle of an entry)".into())
        }
        _ => BundleError(format!("the archive is corrupt or truncated: {e}")),
    }
}

pub fn read(mut input: impl Read, limits: Limits) -> Result<Bundle, BundleError> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match input.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return err(format!("cannot read it: {e}")),
        }
    }
    if got < 2 || magic != [0x1f, 0x8b] {
        return err("not a gzip file (a bundle is the .tar.gz that `collect` writes)");
    }
    let gz = GzDecoder::new(io::Cursor::new(magic).chain(input));
    let mut stream = Bounded {
        inner: gz,
        read: 0,
        limit: limits.total,
    };
    let mut entries: HashMap<String, Vec<u8>> = HashMap::new();
    {
        let mut archive = tar::Archive::new(&mut stream);
        let iter = archive.entries().map_err(|e| stream_error(&e))?;
        for (count, entry) in iter.enumerate() {
            if count >= limits.entries {
                return err(format!(
                    "it has more than {} entries, the bound on a bundle",
                    limits.entries
                ));
            }
            let entry = entry.map_err(|e| stream_error(&e))?;
            let name = checked_name(&entry)?;
            let kind = entry.header().entry_type();
            match kind {
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                // A directory entry carries nothing; the writer adds none but tar tools do.
                tar::EntryType::Directory => continue,
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    let what = if kind == tar::EntryType::Symlink {
                        "a symbolic link"
                    } else {
                        "a hard link"
                    };
                    return err(format!(
                        "entry {name:?} is {what} to {target:?}: a bundle holds only regular files"
                    ));
                }
                other => {
                    return err(format!(
                        "entry {name:?} is {}: a bundle holds only regular files",
                        describe_type(other)
                    ))
                }
            }
            let mut bytes = Vec::new();
            let read = entry
                .take(limits.file + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| stream_error(&e));
            read?;
            if bytes.len() as u64 > limits.file {
                return err(format!(
                    "entry {name:?} is larger than {} bytes, the bound on one file",
                    limits.file
                ));
            }
            if entries.insert(name.clone(), bytes).is_some() {
                return err(format!("entry {name:?} appears twice"));
            }
        }
    }
    // Read the gzip stream to its end, so that its checksum is verified and a stream cut
    // after the tar's end is noticed.
    io::copy(&mut stream, &mut io::sink()).map_err(|e| stream_error(&e))?;

    let manifest = parse_manifest(entries.get(MANIFEST_ENTRY))?;
    verify(&manifest, &entries)?;
    Ok(Bundle { manifest, entries })
}

/// An entry's name, refused unless it is a plain relative path inside the archive.
fn checked_name<R: Read>(entry: &tar::Entry<R>) -> Result<String, BundleError> {
    let raw = entry.path_bytes();
    let Ok(name) = std::str::from_utf8(&raw) else {
        return err(format!(
            "entry {:?} has a name that is not UTF-8",
            String::from_utf8_lossy(&raw)
        ));
    };
    let trimmed = name.strip_prefix("./").unwrap_or(name);
    if trimmed.starts_with('/') {
        return err(format!(
            "entry {name:?} has an absolute path: a bundle's entries are relative to it"
        ));
    }
    if trimmed.contains('\0') || trimmed.contains('\\') {
        return err(format!(
            "entry {name:?} has a forbidden character in its name"
        ));
    }
    let trimmed = trimmed.trim_end_matches('/');
    if trimmed.is_empty() {
        return err(format!("entry {name:?} has an empty name"));
    }
    if trimmed
        .split('/')
        .any(|c| c == ".." || c == "." || c.is_empty())
    {
        return err(format!(
            "entry {name:?} leaves its directory (`..`) or is not a plain path"
        ));
    }
    Ok(trimmed.to_string())
}

fn describe_type(t: tar::EntryType) -> &'static str {
    match t {
        tar::EntryType::Char | tar::EntryType::Block => "a device file",
        tar::EntryType::Fifo => "a FIFO",
        _ => "not a regular file",
    }
}

fn parse_manifest(bytes: Option<&Vec<u8>>) -> Result<Manifest, BundleError> {
    let Some(bytes) = bytes else {
        return err(format!(
            "it has no {MANIFEST_ENTRY}: not a bundle written by `node-preflight collect`"
        ));
    };
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| BundleError(format!("{MANIFEST_ENTRY} is not valid JSON: {e}")))?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(super::manifest::FORMAT) => {}
        Some(other) => {
            return err(format!(
            "{MANIFEST_ENTRY}: unknown bundle format {other:?} (this node-preflight reads {:?})",
            super::manifest::FORMAT
        ))
        }
        None => return err(format!("{MANIFEST_ENTRY} has no \"format\"")),
    }
    serde_json::from_value(value)
        .map_err(|e| BundleError(format!("{MANIFEST_ENTRY} is malformed: {e}")))
}

/// Every entry is listed with its size and hash, and every listed entry is there.
fn verify(manifest: &Manifest, entries: &HashMap<String, Vec<u8>>) -> Result<(), BundleError> {
    let mut listed = std::collections::HashSet::new();
    for f in &manifest.files {
        if !listed.insert(f.entry.as_str()) {
            return err(format!("{MANIFEST_ENTRY} lists {:?} twice", f.entry));
        }
        let Some(bytes) = entries.get(&f.entry) else {
            return err(format!(
                "{:?} is listed in {MANIFEST_ENTRY} but missing from the archive",
                f.entry
            ));
        };
        if bytes.len() as u64 != f.size {
            return err(format!(
                "{:?} has {} bytes, {MANIFEST_ENTRY} says {}",
                f.entry,
                bytes.len(),
                f.size
            ));
        }
        if sha256_hex(bytes) != f.sha256.to_ascii_lowercase() {
            return err(format!(
                "{:?} does not match its SHA-256 in {MANIFEST_ENTRY}: the bundle was altered or damaged",
                f.entry
            ));
        }
    }
    if let Some(extra) = entries
        .keys()
        .find(|k| *k != MANIFEST_ENTRY && !listed.contains(k.as_str()))
    {
        return err(format!("entry {extra:?} is not listed in {MANIFEST_ENTRY}"));
    }
    Ok(())
}
