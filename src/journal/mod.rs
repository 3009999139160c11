//! The journal: the school's SQLite database, its schema, and a typed read model of it.
//!
//! A build opens the journal read-only ([`open_read_only`]) and loads every table once, one
//! query per table ([`Journal::load`]). Rows whose values do not fit their column (a date
//! like `2026-13-45`, a word where a number belongs) are not loaded; each becomes a
//! [`Finding`] naming table, row and column, which `diary check` reports.

mod by_pupil;
mod load;
mod markers;
mod model;
pub(crate) mod upgrade;

pub(crate) use by_pupil::ByPupil;
pub(crate) use load::{
    JournalBusy, load_journal, open_read_only, parse_date, parse_datetime, parse_time,
};
pub(crate) use markers::{markers, with_suffix};
pub(crate) use model::*;

use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::Connection;

/// The schema version this build of `diary` reads and writes (`PRAGMA user_version`).
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// The schema, as shipped in `data/schema.sql`.
pub(crate) const SCHEMA_SQL: &str = include_str!("../../data/schema.sql");

/// Opens a journal for writing, creating it with the current schema if the file does not
/// exist. An existing file must carry the current schema version.
pub(crate) fn open_for_writing(path: &Path) -> Result<Connection> {
    let existed = path.exists();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    let conn = Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if existed {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 0 && is_empty(&conn)? {
            create_schema(&conn)?;
        } else if version != SCHEMA_VERSION {
            bail!("{}", version_problem(path, version));
        }
    } else {
        create_schema(&conn)?;
    }
    Ok(conn)
}

/// Why a journal of schema `version` cannot be used, and what to do.
pub(crate) fn version_problem(path: &Path, version: i64) -> String {
    let what = if version == 0 {
        "the file was not made from data/schema.sql".to_string()
    } else if version > SCHEMA_VERSION {
        "it was written by a newer diary: upgrade diary".to_string()
    } else {
        format!(
            "run `diary upgrade` to convert it (it keeps a copy of the file as {})",
            upgrade::backup_path(path, version).display()
        )
    };
    format!(
        "journal {} has schema version {version} (PRAGMA user_version); this diary reads \
         version {SCHEMA_VERSION}: {what}",
        path.display()
    )
}

fn is_empty(conn: &Connection) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    Ok(n == 0)
}

/// Creates every table of the schema in an empty database.
pub(crate) fn create_schema(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA_SQL)
        .context("cannot create the journal schema")
}

/// Rows grouped by a key (marks by pupil, …), each group in the rows' order.
pub(crate) fn group_by<T, K: std::hash::Hash + Eq>(
    rows: &[T],
    key: impl Fn(&T) -> K,
) -> rustc_hash::FxHashMap<K, Vec<&T>> {
    let mut groups: rustc_hash::FxHashMap<K, Vec<&T>> = Default::default();
    for row in rows {
        groups.entry(key(row)).or_default().push(row);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_creates_and_is_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let conn = open_for_writing(&path).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        drop(conn);
        // Every table the loader needs is there, with every column it reads.
        let conn = open_read_only(&path).unwrap();
        let (journal, findings) = Journal::load(&conn).unwrap();
        // An empty journal lacks only its school row.
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].place, "school");
        assert!(journal.students.is_empty());
    }
}
