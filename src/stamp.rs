//! The up-to-date check of `diary build`: when everything a build reads is byte for byte what
//! the last build read, and the output folder is still as that build left it, there is
//! nothing to do. A refresh every ten minutes on a quiet evening then costs a few hashes.
//!
//! What a build reads: the program itself, site.toml, the journal (and its WAL), content/,
//! the theme as loaded (built-in files and the site's overrides), the private store's codes
//! and keys, and the day it builds for. The stamp is kept beside the output folder
//! (`public.stamp` for `public/`), never inside it; it holds digests only, no data.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Site;
use crate::render::Theme;

/// What the last build read and wrote, as digests, with the counts it reported.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub inputs: String,
    pub output: String,
    pub files: usize,
    pub bytes: u64,
    pub warnings: usize,
    pub diaries: usize,
    pub slots: usize,
}

/// Where the stamp of `site` lives: beside the output folder.
pub(crate) fn path(site: &Site) -> PathBuf {
    let out = site.output_path();
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "public".into());
    name.push(".stamp");
    out.with_file_name(name)
}

/// The stamp of the last build, if its inputs are `inputs` and the output folder is still
/// what it wrote.
pub(crate) fn fresh(site: &Site, inputs: &str) -> Option<Stamp> {
    let text = fs::read_to_string(path(site)).ok()?;
    let stamp: Stamp = serde_json::from_str(&text).ok()?;
    (stamp.inputs == inputs && output_digest(&site.output_path()).ok()? == stamp.output)
        .then_some(stamp)
}

/// Records a finished build. A stamp that cannot be written only costs the next build its
/// shortcut, so that is not an error.
pub(crate) fn save(site: &Site, mut stamp: Stamp) {
    match output_digest(&site.output_path()) {
        Ok(output) => {
            stamp.output = output;
            if let Ok(json) = serde_json::to_vec(&stamp) {
                let _ = fs::write(path(site), json);
            }
        }
        Err(_) => forget(site),
    }
}

/// Drops the stamp, so the next build runs in full.
pub(crate) fn forget(site: &Site) {
    let _ = fs::remove_file(path(site));
}

/// The digest of everything a build of `site` for `today` reads, and the diary batch it
/// belongs to (so the first build after a publication time is never skipped).
pub(crate) fn inputs_digest(site: &Site, today: NaiveDate, batch: &str) -> Result<String> {
    let mut h = Sha256::new();
    let mut part = |name: &str, bytes: &[u8]| {
        h.update((name.len() as u64).to_be_bytes());
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    part("version", env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(exe) = std::env::current_exe()
        && let Ok(meta) = fs::metadata(&exe)
    {
        part(
            "program",
            format!("{} {:?}", meta.len(), meta.modified().ok()).as_bytes(),
        );
    }
    part("today", today.to_string().as_bytes());
    part("batch", batch.as_bytes());
    part(
        "site.toml",
        &fs::read(site.root.join(crate::config::SITE_FILE)).unwrap_or_default(),
    );
    part("theme", &Theme::load(site)?.fingerprint());
    part(
        "store",
        &fs::read(site.store_path().join("store.json")).unwrap_or_default(),
    );
    let journal = site.journal_path();
    for suffix in ["", "-wal"] {
        let mut p = journal.clone().into_os_string();
        p.push(suffix);
        hash_file(&mut h, Path::new(&p))?;
    }
    let mut files = Vec::new();
    walk(&site.root.join("content"), &mut files)?;
    files.sort();
    for f in &files {
        h.update(f.to_string_lossy().as_bytes());
        hash_file(&mut h, f)?;
    }
    Ok(hex::encode(h.finalize()))
}

/// The digest of the output folder's listing: every file's path, size, time and inode.
/// Cheap (no file is read) and changed by anything that writes, replaces or removes a file.
pub(crate) fn output_digest(dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    for f in &files {
        let meta =
            fs::symlink_metadata(f).with_context(|| format!("cannot read {}", f.display()))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0u64;
        h.update(
            f.strip_prefix(dir)
                .unwrap_or(f)
                .to_string_lossy()
                .as_bytes(),
        );
        h.update([0]);
        h.update(meta.len().to_be_bytes());
        h.update(modified.to_be_bytes());
        h.update(inode.to_be_bytes());
    }
    if files.is_empty() && !dir.is_dir() {
        anyhow::bail!("{} does not exist", dir.display());
    }
    Ok(hex::encode(h.finalize()))
}

fn hash_file(h: &mut Sha256, path: &Path) -> Result<()> {
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            h.update(b"absent");
            return Ok(());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            return Ok(());
        }
        h.update(&buf[..n]);
    }
}

/// Every file under `dir` (none if it does not exist).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_digest_sees_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("public");
        fs::create_dir_all(dir.join("a")).unwrap();
        fs::write(dir.join("a/x.html"), "x").unwrap();
        let first = output_digest(&dir).unwrap();
        assert_eq!(output_digest(&dir).unwrap(), first);
        fs::write(dir.join("a/y.html"), "y").unwrap();
        let second = output_digest(&dir).unwrap();
        assert_ne!(second, first);
        fs::remove_file(dir.join("a/y.html")).unwrap();
        fs::write(dir.join("a/x.html"), "changed").unwrap();
        assert_ne!(output_digest(&dir).unwrap(), second);
        assert!(output_digest(&tmp.path().join("missing")).is_err());
    }
}
