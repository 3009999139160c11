//! `kind = "dir"`: a local folder that nginx (or any web server) serves.
//!
//! `path` is a symlink to one complete version of the site, `<path>.versions/<n>/`.
//! Publishing writes the next version beside the current one (hard-linking the files that
//! did not change, copying the rest), then makes a new symlink and renames it over `path`.
//! rename(2) replaces the link in one step, so every lookup through `path` sees either
//! the whole old site or the whole new one, never a mix, and a failed publish leaves the
//! served version alone. The previous version is kept (for a reader still inside it, and to
//! roll back by hand); older ones are removed.
//!
//! Why a symlink rather than swapping two real folders (`renameat2(RENAME_EXCHANGE)`): it
//! works on every Unix and file system, the previous version stays a plain folder to roll
//! back to, and a web server needs nothing special: nginx's `root /var/www/diary;`
//! follows the link on each request.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Diaries, Guard, Published, Snapshot, Target, hash_file};
use crate::config::{DirTarget, Site};

/// Versions kept: the served one and the one before it.
const KEEP: usize = 2;

impl Target for DirTarget {
    fn place(&self, site: &Site) -> String {
        site.root.join(&self.path).display().to_string()
    }

    fn publish(
        &self,
        site: &Site,
        _name: &str,
        snap: &Snapshot,
        guard: &Guard,
    ) -> Result<Published> {
        publish(site, self, snap, guard)
    }
}

fn publish(site: &Site, target: &DirTarget, snap: &Snapshot, guard: &Guard) -> Result<Published> {
    let link = site.root.join(&target.path);
    let link = absolute(&link)?;
    let name = link
        .file_name()
        .context("`path` must name a folder")?
        .to_string_lossy()
        .into_owned();
    let parent = link
        .parent()
        .context("`path` must name a folder")?
        .to_path_buf();
    fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let versions_name = format!("{name}.versions");
    let versions = parent.join(&versions_name);

    // What `path` is now.
    let mut empty_dir = false;
    let current: Option<PathBuf> = match fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            let to = fs::read_link(&link)?;
            let to = if to.is_relative() {
                parent.join(to)
            } else {
                to
            };
            to.is_dir().then_some(to)
        }
        Ok(m) if m.is_dir() => {
            if fs::read_dir(&link)?.next().is_some() {
                bail!(
                    "{} is a real folder with files in it; diary publishes a symlink there \
                     (to {}/<n>/) and switches it atomically. Move that folder away once \
                     (or empty it), then publish again",
                    link.display(),
                    versions.display()
                );
            }
            empty_dir = true;
            None
        }
        Ok(_) => bail!(
            "{} is a file; `path` must be a folder (diary makes it a symlink)",
            link.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", link.display())),
    };

    // The current version's files by relative path, with their hashes.
    let old: BTreeMap<String, String> = match &current {
        Some(dir) => list_hashed(dir)?,
        None => BTreeMap::new(),
    };
    guard.check(
        &Diaries::count(old.keys().map(String::as_str)).with_params(
            current
                .as_ref()
                .and_then(|dir| fs::read(dir.join("diary/params.json")).ok())
                .as_deref(),
        ),
    )?;
    let mut report = Published::default();
    for f in &snap.files {
        if old.get(&f.path) == Some(&f.sha256) {
            report.unchanged += 1;
        } else {
            report.uploaded += 1;
        }
    }
    report.deleted = old
        .keys()
        .filter(|p| snap.files.binary_search_by(|f| f.path.cmp(p)).is_err())
        .count();
    if current.is_some() && report.uploaded == 0 && report.deleted == 0 {
        return Ok(report);
    }

    // Write the next version beside the current one.
    fs::create_dir_all(&versions)
        .with_context(|| format!("cannot create {}", versions.display()))?;
    let number = version_numbers(&versions)?.last().map_or(1, |n| n + 1);
    let staging = versions.join(format!("{number}.tmp"));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    let written = (|| -> Result<()> {
        for f in &snap.files {
            let dest = staging.join(&f.path);
            if let Some(p) = dest.parent() {
                fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
            }
            let same = old.get(&f.path) == Some(&f.sha256);
            let linked = same
                && current
                    .as_ref()
                    .is_some_and(|dir| fs::hard_link(dir.join(&f.path), &dest).is_ok());
            if !linked {
                let bytes = snap.read(f)?;
                fs::write(&dest, bytes)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
            }
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    let version = versions.join(number.to_string());
    fs::rename(&staging, &version)
        .with_context(|| format!("cannot move {} into place", staging.display()))?;
    if let Err(e) = snap.check_unchanged() {
        let _ = fs::remove_dir_all(&version);
        return Err(e);
    }

    // Switch: a new symlink renamed over the old one.
    let new_link = parent.join(format!(".{name}.link-{}", std::process::id()));
    let _ = fs::remove_file(&new_link);
    symlink(
        &Path::new(&versions_name).join(number.to_string()),
        &new_link,
    )
    .with_context(|| format!("cannot create the symlink {}", new_link.display()))?;
    if empty_dir {
        fs::remove_dir(&link).with_context(|| format!("cannot replace {}", link.display()))?;
    }
    if let Err(e) = fs::rename(&new_link, &link) {
        let _ = fs::remove_file(&new_link);
        return Err(e).with_context(|| format!("cannot switch {}", link.display()));
    }

    // Keep the served version and the one before it.
    let numbers = version_numbers(&versions)?;
    for n in numbers.iter().take(numbers.len().saturating_sub(KEEP)) {
        let dir = versions.join(n.to_string());
        fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    Ok(report)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

#[cfg(unix)]
fn symlink(to: &Path, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(to, at)
}

#[cfg(not(unix))]
fn symlink(_to: &Path, _at: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "kind = \"dir\" needs symlinks (Linux, BSD or macOS)",
    ))
}

/// The numbered versions in `dir`, ascending (leftover `*.tmp` folders are removed).
fn version_numbers(dir: &Path) -> Result<Vec<u64>> {
    let mut numbers = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(n) = name.parse::<u64>() {
            numbers.push(n);
        } else if name.ends_with(".tmp") {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// Every file below `dir` by relative path, with its SHA-256.
fn list_hashed(dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("below dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, hash_file(&path)?.0);
            }
        }
    }
    Ok(out)
}
