//! The up-to-date check of `diary build`: when everything a build reads is byte for byte what
//! the last build read, and the output folder is still as that build left it, there is
//! nothing to do. A refresh every ten minutes on a quiet evening then costs a few hashes.
//!
//! What a build reads: the program itself, site.toml, the journal (and its WAL), content/,
//! the theme as loaded (built-in files and the site's overrides), the private store's codes
//! and keys, and the day it builds for. The stamp is kept beside the output folder
//! (`public.stamp` for `public/`), never inside it; it holds digests only, no data.
//!
//! The journal is not read whole (some 700 MB at 20000 pupils): SQLite's own change markers
//! stand for its content, a few hundred bytes in all ([`crate::journal::markers`] says which);
//! when they are not what SQLite writes (a hot rollback journal, a header that does not
//! parse), the main file, the rollback journal and the WAL are hashed whole, as safe as it
//! is slow. `diary build --force` always builds.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Site;
use crate::journal::{markers, with_suffix};
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
    /// Each public page's path and the digest of what made it (`build::PageMemo`).
    #[serde(default)]
    pub pages: std::collections::BTreeMap<String, String>,
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

/// The stamp of the last build whatever its inputs, if the output folder is still what it
/// wrote.
pub(crate) fn last(site: &Site) -> Option<Stamp> {
    let text = fs::read_to_string(path(site)).ok()?;
    let stamp: Stamp = serde_json::from_str(&text).ok()?;
    (output_digest(&site.output_path()).ok()? == stamp.output).then_some(stamp)
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
    hash_journal(&mut h, &site.journal_path())?;
    let mut files = Vec::new();
    walk(&site.root.join("content"), &mut files)?;
    files.sort();
    for f in &files {
        h.update(f.to_string_lossy().as_bytes());
        hash_file(&mut h, f)?;
    }
    Ok(hex::encode(h.finalize()))
}

/// Folders of the output whose files a build never reads back: sealed diary files, kept by
/// hard link or replaced whole by a rename. A folder's own times move whenever a file in it
/// is added, removed or replaced, so they stand for its listing and its files are not
/// looked at one by one (most of a large school's files are here).
const SEALED: &[&str] = &["diary/c", "diary/k"];

/// The digest of the output folder's listing: every folder's path, time and inode, and
/// every file's path, size, time and inode outside the [`SEALED`] folders. Cheap (no file
/// is read) and changed by anything that writes, replaces or removes a file.
pub(crate) fn output_digest(dir: &Path) -> Result<String> {
    if !dir.is_dir() {
        anyhow::bail!("{} does not exist", dir.display());
    }
    let mut seen: Vec<(String, fs::Metadata)> = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let folder = dir.join(&rel);
        let meta = fs::symlink_metadata(&folder)
            .with_context(|| format!("cannot read {}", folder.display()))?;
        seen.push((format!("{rel}/"), meta));
        if SEALED.contains(&rel.as_str()) {
            continue;
        }
        let entries =
            fs::read_dir(&folder).with_context(|| format!("cannot list {}", folder.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", folder.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(child);
            } else {
                let meta = entry
                    .metadata()
                    .with_context(|| format!("cannot read {}", entry.path().display()))?;
                seen.push((child, meta));
            }
        }
    }
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (rel, meta) in &seen {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0u64;
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(meta.len().to_be_bytes());
        h.update(modified.to_be_bytes());
        h.update(inode.to_be_bytes());
    }
    Ok(hex::encode(h.finalize()))
}

/// Hashes what identifies the committed content of the SQLite journal at `journal`: its
/// change markers, or the files whole when something is unexpected.
fn hash_journal(h: &mut Sha256, journal: &Path) -> Result<()> {
    match markers(journal)? {
        Some(marks) => {
            h.update(b"markers");
            h.update((marks.len() as u64).to_be_bytes());
            h.update(&marks);
        }
        None => {
            h.update(b"whole");
            for suffix in ["", "-journal", "-wal"] {
                hash_file(h, &with_suffix(journal, suffix))?;
            }
        }
    }
    Ok(())
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
    use rusqlite::{Connection, OpenFlags};

    /// The journal's part of the inputs digest.
    fn digest(journal: &Path) -> String {
        let mut h = Sha256::new();
        hash_journal(&mut h, journal).unwrap();
        hex::encode(h.finalize())
    }

    /// The file change counter of the database header.
    fn counter(journal: &Path) -> u32 {
        let bytes = fs::read(journal).unwrap();
        u32::from_be_bytes(bytes[24..28].try_into().unwrap())
    }

    fn wal_len(journal: &Path) -> u64 {
        fs::metadata(with_suffix(journal, "-wal")).map_or(0, |m| m.len())
    }

    /// A journal with one table of one row, in `mode` (`delete` or `wal`), its connection open.
    fn journal(dir: &Path, mode: &str) -> (PathBuf, Connection) {
        let path = dir.join("journal.sqlite");
        let db = Connection::open(&path).unwrap();
        db.pragma_update(None, "journal_mode", mode).unwrap();
        // No automatic checkpoint: the tests say when.
        db.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        db.execute_batch(
            "CREATE TABLE marks (id INTEGER PRIMARY KEY, mark INTEGER, note TEXT);
             INSERT INTO marks VALUES (1, 4, 'aaaa');",
        )
        .unwrap();
        (path, db)
    }

    /// Reads as a build does: read-only, a query, closed.
    fn read_only(journal: &Path) {
        let db = Connection::open_with_flags(journal, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let n: i64 = db
            .query_row("SELECT count(*) FROM marks", [], |r| r.get(0))
            .unwrap();
        assert!(n >= 1);
    }

    #[test]
    fn rollback_mode_commits_change_the_digest_and_reads_do_not() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, db) = journal(tmp.path(), "delete");
        // The markers stand for the file: it is not hashed whole.
        assert!(markers(&path).unwrap().is_some());
        let before = digest(&path);
        let count = counter(&path);
        let size = fs::metadata(&path).unwrap().len();
        // Reading changes nothing.
        let _: i64 = db
            .query_row("SELECT mark FROM marks", [], |r| r.get(0))
            .unwrap();
        read_only(&path);
        assert_eq!(digest(&path), before);
        // One commit, same size, same page: the counter moves by one.
        db.execute("UPDATE marks SET note = 'bbbb'", []).unwrap();
        assert_eq!(counter(&path), count + 1);
        assert_eq!(fs::metadata(&path).unwrap().len(), size);
        let written = digest(&path);
        assert_ne!(written, before);
        // Setting a value to what it was still commits, and counts.
        // Setting a value to what it already is: SQLite writes no page and commits nothing,
        // so there is nothing to see (and nothing to build).
        let bytes = fs::read(&path).unwrap();
        db.execute("UPDATE marks SET note = 'bbbb'", []).unwrap();
        assert_eq!(fs::read(&path).unwrap(), bytes);
        assert_eq!(counter(&path), count + 1);
        assert_eq!(digest(&path), written);
        // VACUUM rewrites the file.
        db.execute_batch("VACUUM").unwrap();
        assert_eq!(counter(&path), count + 2);
        assert_ne!(digest(&path), written);
    }

    #[test]
    fn wal_commits_checkpoints_and_restarts_change_the_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, db) = journal(tmp.path(), "wal");
        let main = fs::read(&path).unwrap();
        let mut seen = std::collections::HashSet::new();
        assert!(seen.insert(digest(&path)));
        // Reading, on the writer's connection or read-only as a build does, changes nothing.
        let _: i64 = db
            .query_row("SELECT mark FROM marks", [], |r| r.get(0))
            .unwrap();
        assert!(!seen.insert(digest(&path)));
        read_only(&path);
        assert!(!seen.insert(digest(&path)));
        // Commits of the same size to the same page: each appends one frame of
        // 24 + 4096 bytes to the WAL and leaves the main file as it was.
        for note in ["bbbb", "cccc", "dddd", "eeee"] {
            let wal = wal_len(&path);
            db.execute("UPDATE marks SET note = ?1", [note]).unwrap();
            assert_eq!(wal_len(&path), wal + 4120);
            assert_eq!(fs::read(&path).unwrap(), main);
            assert!(seen.insert(digest(&path)), "commit {note} not seen");
        }
        // Setting a value to what it already is writes no frame: nothing changed.
        let wal = wal_len(&path);
        db.execute("UPDATE marks SET note = 'eeee'", []).unwrap();
        assert_eq!(wal_len(&path), wal);
        assert!(!seen.insert(digest(&path)));
        // A commit that grows the database, then a checkpoint: the main file's header
        // takes the new page count.
        db.execute("INSERT INTO marks VALUES (2, 5, ?1)", [&"x".repeat(20_000)])
            .unwrap();
        assert!(seen.insert(digest(&path)));
        let pages = |p: &Path| u32::from_be_bytes(fs::read(p).unwrap()[28..32].try_into().unwrap());
        let small = pages(&path);
        db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .unwrap();
        assert!(pages(&path) > small);
        assert!(seen.insert(digest(&path)), "checkpoint not seen");
        // The next writer starts the WAL over from its first frame: the file keeps its
        // size, so the frames of the older generation follow the new ones.
        let wal = wal_len(&path);
        // Its time set back, only its valid frames tell one commit from the next.
        let wal_path = with_suffix(&path, "-wal");
        let wal_time = fs::metadata(&wal_path).unwrap().modified().unwrap();
        for note in ["ffff", "gggg", "hhhh"] {
            db.execute("UPDATE marks SET note = ?1 WHERE id = 1", [note])
                .unwrap();
            assert_eq!(wal_len(&path), wal, "the WAL grew");
            fs::File::options()
                .write(true)
                .open(&wal_path)
                .unwrap()
                .set_modified(wal_time)
                .unwrap();
            assert!(
                seen.insert(digest(&path)),
                "commit {note} after a restart not seen"
            );
        }
        read_only(&path);
        assert!(!seen.insert(digest(&path)));
        // A checkpoint that empties the WAL; VACUUM.
        db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        assert_eq!(wal_len(&path), 0);
        assert!(seen.insert(digest(&path)), "truncating checkpoint not seen");
        db.execute_batch("VACUUM").unwrap();
        assert!(seen.insert(digest(&path)), "VACUUM not seen");
        // The markers stood for the files all along.
        assert!(markers(&path).unwrap().is_some());
    }

    #[test]
    fn a_write_beside_an_open_read_transaction_changes_the_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, writer) = journal(tmp.path(), "wal");
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .query_row("SELECT mark FROM marks", [], |r| r.get(0))
            .unwrap();
        let before = digest(&path);
        writer.execute("UPDATE marks SET mark = 5", []).unwrap();
        let after = digest(&path);
        assert_ne!(after, before);
        // The reader still sees its snapshot; ending it changes nothing on disk.
        let mark: i64 = reader
            .query_row("SELECT mark FROM marks", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mark, 4);
        reader.execute_batch("COMMIT").unwrap();
        assert_eq!(digest(&path), after);
    }

    #[test]
    fn a_journal_put_back_from_a_backup_changes_the_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let (path, db) = journal(tmp.path(), "delete");
        drop(db);
        let backup = tmp.path().join("backup.sqlite");
        fs::copy(&path, &backup).unwrap();
        let db = Connection::open(&path).unwrap();
        db.execute("UPDATE marks SET note = 'bbbb'", []).unwrap();
        drop(db);
        let written = digest(&path);
        let modified = fs::metadata(&path).unwrap().modified().unwrap();
        // `cp backup journal.sqlite`: the same file, rewritten with the same size; even with
        // its time set back to what it was, its counter and status-change time differ.
        fs::copy(&backup, &path).unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            fs::metadata(&backup).unwrap().len()
        );
        let restored = digest(&path);
        assert_ne!(restored, written);
        // A copy moved into place: another inode.
        let copy = tmp.path().join("copy.sqlite");
        fs::copy(&path, &copy).unwrap();
        fs::rename(&copy, &path).unwrap();
        assert_ne!(digest(&path), restored);
    }

    #[test]
    fn unexpected_files_are_hashed_whole() {
        let tmp = tempfile::tempdir().unwrap();
        // Not an SQLite file: its bytes count, even under the same size and time.
        let path = tmp.path().join("journal.sqlite");
        fs::write(&path, vec![b'a'; 4096]).unwrap();
        assert!(markers(&path).unwrap().is_none());
        let modified = fs::metadata(&path).unwrap().modified().unwrap();
        let first = digest(&path);
        let mut bytes = vec![b'a'; 4096];
        bytes[4000] = b'b';
        fs::write(&path, bytes).unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        assert_ne!(digest(&path), first);

        // A rollback journal that is not empty (a write under way, or a crash) and a WAL
        // whose header does not parse are hashed with the main file.
        let hot_dir = tmp.path().join("hot");
        fs::create_dir(&hot_dir).unwrap();
        let (path, db) = journal(&hot_dir, "delete");
        drop(db);
        let clean = digest(&path);
        let rollback = with_suffix(&path, "-journal");
        fs::write(&rollback, [1u8; 512]).unwrap();
        let hot = digest(&path);
        assert_ne!(hot, clean);
        fs::write(&rollback, [2u8; 512]).unwrap();
        assert_ne!(digest(&path), hot);
        fs::remove_file(&rollback).unwrap();
        assert_eq!(digest(&path), clean);
        let wal = with_suffix(&path, "-wal");
        fs::write(&wal, [0u8; 64]).unwrap();
        assert!(markers(&path).unwrap().is_none());
        let broken = digest(&path);
        fs::write(&wal, [1u8; 64]).unwrap();
        assert_ne!(digest(&path), broken);
    }

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

    #[test]
    fn output_digest_sees_sealed_files_come_and_go_by_their_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("public");
        let chunks = dir.join("diary/c");
        fs::create_dir_all(&chunks).unwrap();
        fs::write(chunks.join("a.bin"), "sealed").unwrap();
        let first = output_digest(&dir).unwrap();
        // Each change is made at a later time than the last digest's folder time.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(chunks.join("b.bin"), "sealed").unwrap();
        let added = output_digest(&dir).unwrap();
        assert_ne!(added, first, "a file added to a sealed folder");
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(chunks.join(".new"), "resealed").unwrap();
        fs::rename(chunks.join(".new"), chunks.join("a.bin")).unwrap();
        let replaced = output_digest(&dir).unwrap();
        assert_ne!(replaced, added, "a file replaced by a rename");
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::remove_file(chunks.join("b.bin")).unwrap();
        assert_ne!(output_digest(&dir).unwrap(), replaced, "a file removed");
    }
}
