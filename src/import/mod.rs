//! Importers that write the journal.

pub(crate) mod csv;
pub(crate) mod oneroster;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::journal::open_for_writing;

/// An import format: its source is read and checked first (in the importer's constructor),
/// then [`Importer::write`] writes the journal inside one transaction, and the summary it
/// returns is shown to the user. A new format is a module implementing this trait and a
/// `diary import` subcommand.
pub(crate) trait Importer {
    type Summary: std::fmt::Display;
    /// Writes what was read into the journal (inside the transaction of [`run`]).
    fn write(self, conn: &mut Connection) -> Result<Self::Summary>;
}

/// Runs an importer against the journal at `journal_path` (created if absent), all or
/// nothing.
pub(crate) fn run<I: Importer>(journal_path: &Path, importer: I) -> Result<I::Summary> {
    write_journal(journal_path, |conn| importer.write(conn))
}

/// Writes the journal at `journal_path` with `fill`, all or nothing. An existing journal is
/// changed in `fill`'s transaction. A new one is built under a temporary name next to it and
/// renamed into place only once everything is written, so a failed import leaves no file
/// (and no folder it created) behind.
pub(crate) fn write_journal<T>(
    journal_path: &Path,
    fill: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    let fresh = match fs::metadata(journal_path) {
        Ok(meta) => meta.is_file() && meta.len() == 0,
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", journal_path.display()));
        }
    };
    if !fresh {
        // An existing journal: the transaction rolls back on error, leaving the file as it was.
        let mut conn = open_for_writing(journal_path)?;
        return fill(&mut conn);
    }
    // A new journal is built under a temporary name next to it and renamed into place only
    // once everything is written, so a failed import leaves no file behind.
    let file_name = journal_path
        .file_name()
        .with_context(|| format!("{} is not a file name", journal_path.display()))?;
    let parent = match journal_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let created = create_dirs(&parent)?;
    let temp = parent.join(format!(
        ".{}.import-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    remove_database(&temp);
    let result = (|| {
        let mut conn = open_for_writing(&temp)?;
        let summary = fill(&mut conn)?;
        conn.close()
            .map_err(|(_, e)| e)
            .with_context(|| format!("cannot close {}", temp.display()))?;
        fs::rename(&temp, journal_path).with_context(|| {
            format!(
                "cannot rename {} to {}",
                temp.display(),
                journal_path.display()
            )
        })?;
        Ok(summary)
    })();
    if result.is_err() {
        remove_database(&temp);
        for dir in created.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
    result
}

/// Creates `dir` and its missing ancestors; returns the folders created, outermost first.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    missing.reverse();
    fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    Ok(missing)
}

/// Removes a database file and the side files SQLite may have left next to it.
fn remove_database(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}
