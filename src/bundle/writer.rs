//! Writing a bundle: the recorded answers of a run, redacted, as a gzip tar.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::manifest::{
    FileRecord, ListedEntry, Manifest, Op, Outcome, RecordedAccess, RecordedError, Redaction,
    MANIFEST_ENTRY,
};
use super::redact;
use crate::host::{Answer, Recorded};

/// The entries of a bundle, in memory before they are written.
pub struct Contents {
    pub accesses: Vec<RecordedAccess>,
    /// Archive entry name → bytes (already redacted).
    pub entries: Vec<(String, Vec<u8>)>,
    pub redactions: Vec<Redaction>,
}

/// Turns the answers of a run into entries: the first answer to each question is the one the
/// facts used, so later repeats are dropped.
pub fn contents(recorded: &[Recorded]) -> anyhow::Result<Contents> {
    let mut seen: BTreeSet<(Op, String)> = BTreeSet::new();
    let mut used: HashSet<String> = HashSet::new();
    let mut out = Contents {
        accesses: Vec::new(),
        entries: Vec::new(),
        redactions: Vec::new(),
    };
    let (mut cri, mut docker) = (0, 0);
    for r in recorded {
        let op = match &r.answer {
            Answer::Read(_) => Op::Read,
            Answer::List(_) => Op::List,
            Answer::Stat(_) => Op::Stat,
            Answer::ReadLink(_) => Op::ReadLink,
            Answer::Cri(_) => Op::ProbeCri,
            Answer::Docker(_) => Op::ProbeDocker,
            Answer::Env(_) => Op::Env,
        };
        if !seen.insert((op, r.path.clone())) {
            continue;
        }
        let error = |e: &crate::host::HostError| Outcome::Error(RecordedError::from(&e.reason));
        let outcome = match &r.answer {
            Answer::Read(Ok(bytes)) => {
                let (bytes, redactions) = redact::redact(&r.path, bytes);
                out.redactions.extend(redactions);
                let mut name = entry_name(&r.path);
                // Two paths can name one entry (`/a/../b` and `/b`); the second gets a
                // name of its own, and the manifest says which path it answers.
                if name == "root/" || used.contains(&name) {
                    name = format!("files/{}", out.entries.len());
                }
                used.insert(name.clone());
                out.entries.push((name.clone(), bytes));
                Outcome::Entry(name)
            }
            Answer::Read(Err(e))
            | Answer::List(Err(e))
            | Answer::Stat(Err(e))
            | Answer::ReadLink(Err(e)) => error(e),
            Answer::List(Ok(listing)) => {
                Outcome::Listing(listing.iter().map(ListedEntry::from).collect())
            }
            Answer::Stat(Ok(kind)) => Outcome::Found(kind.map(Into::into)),
            Answer::ReadLink(Ok(target)) => Outcome::Target(target.clone()),
            Answer::Env(value) => Outcome::Value(value.clone()),
            Answer::Cri(t) => {
                cri += 1;
                let name = format!("probes/cri-{cri}.json");
                out.entries
                    .push((name.clone(), serde_json::to_vec_pretty(t)?));
                Outcome::Entry(name)
            }
            Answer::Docker(t) => {
                docker += 1;
                let name = format!("probes/docker-{docker}.json");
                out.entries
                    .push((name.clone(), serde_json::to_vec_pretty(t)?));
                Outcome::Entry(name)
            }
        };
        out.accesses.push(RecordedAccess {
            op,
            path: r.path.clone(),
            outcome,
        });
    }
    Ok(out)
}

/// `root/etc/sysctl.d/k8s.conf` for `/etc/sysctl.d/k8s.conf`: the file under its own path,
/// with `.`, `..` and empty components resolved away so that no name can leave `root/`.
fn entry_name(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("root/{}", parts.join("/"))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file records of the entries, for the manifest.
pub fn file_records(entries: &[(String, Vec<u8>)]) -> Vec<FileRecord> {
    entries
        .iter()
        .map(|(name, bytes)| FileRecord {
            entry: name.clone(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        })
        .collect()
}

/// Writes the archive: the manifest first (a reader learns the format before anything else),
/// then every entry. Written to a temporary file beside `path` and renamed, so a failed
/// collect leaves no half-written bundle.
pub fn write(
    path: &Path,
    manifest: &Manifest,
    entries: &[(String, Vec<u8>)],
    mtime: u64,
) -> anyhow::Result<u64> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let tmp = dir.join(format!(".{file_name}.{}.partial", std::process::id()));
    let result = (|| -> anyhow::Result<u64> {
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::default()));
        let manifest_bytes = serde_json::to_vec_pretty(manifest)?;
        append(&mut tar, MANIFEST_ENTRY, &manifest_bytes, mtime)?;
        for (name, bytes) in entries {
            append(&mut tar, name, bytes, mtime)?;
        }
        let gz = tar.into_inner().context("cannot finish the archive")?;
        let mut file = gz.finish().context("cannot finish the compression")?;
        file.flush()?;
        file.sync_all()?;
        Ok(file.metadata()?.len())
    })();
    match result {
        Ok(size) => {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(size)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e.context(format!("cannot write the bundle {}", path.display())))
        }
    }
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
    mtime: u64,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    tar.append_data(&mut header, name, bytes)
        .with_context(|| format!("cannot add {name} to the archive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_stay_under_root() {
        assert_eq!(
            entry_name("/etc/sysctl.d/k8s.conf"),
            "root/etc/sysctl.d/k8s.conf"
        );
        assert_eq!(entry_name("/etc/../../x//./y"), "root/x/y");
    }
}
