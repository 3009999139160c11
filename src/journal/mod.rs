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

pub(crate) use by_pupil::{ByPupil, PupilGroups};
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

/// Rows grouped by a key (marks by pupil, …), each group in the rows' order: the groups
/// one after another in one vector, and where each starts and ends.
///
/// Counted first, then filled: a vector per group grown one row at a time touched about
/// twice the memory, and at 20000 pupils (5.7 million marks) memory touched for the first
/// time is what a build pays most for. The count keeps each row's group as a 4-byte
/// number, which the fill reads instead of the rows (a mark's row is 112 bytes).
pub(crate) struct Groups<'a, K, T> {
    ranges: rustc_hash::FxHashMap<K, std::ops::Range<usize>>,
    rows: Vec<&'a T>,
}

impl<'a, K: std::hash::Hash + Eq, T> Groups<'a, K, T> {
    /// The rows of the group `key` (none when there is no such group).
    pub(crate) fn get(&self, key: &K) -> &[&'a T] {
        self.ranges.get(key).map_or(&[], |r| &self.rows[r.clone()])
    }

    /// Each group's key and rows, in no order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &[&'a T])> {
        self.ranges.iter().map(|(k, r)| (k, &self.rows[r.clone()]))
    }

    /// Each group, to reorder its rows.
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut [&'a T])) {
        for r in self.ranges.values() {
            f(&mut self.rows[r.clone()]);
        }
    }
}

pub(crate) fn group_by<'a, T, K: std::hash::Hash + Eq>(
    rows: &'a [T],
    key: impl Fn(&T) -> K,
) -> Groups<'a, K, T> {
    // Each row's group, numbered as first met, in one read of the rows: the fill reads
    // these numbers, not the rows. At 20000 pupils the marks alone are 600 MB, read from
    // memory, not from the cache.
    let mut number: rustc_hash::FxHashMap<K, u32> = Default::default();
    let group_of: Vec<u32> = rows
        .iter()
        .map(|row| {
            let next = u32::try_from(number.len())
                .ok()
                .filter(|&n| n != Numbered::<T>::NONE)
                .expect("fewer than 2^32 - 1 groups");
            *number.entry(key(row)).or_insert(next)
        })
        .collect();
    let numbered = Numbered::new(rows, &group_of, number.len());
    Groups {
        ranges: number
            .into_iter()
            .map(|(k, g)| (k, numbered.range(g as usize)))
            .collect(),
        rows: numbered.rows,
    }
}

/// Rows grouped by a number given for each (a lesson's place in `lessons`, …): group `g`
/// holds the rows numbered `g`, in the rows' order. Counted, then filled (see [`Groups`]).
pub(crate) struct Numbered<'a, T> {
    /// Where each group starts in `rows`, and where the last one ends.
    starts: Vec<usize>,
    rows: Vec<&'a T>,
}

impl<'a, T> Numbered<'a, T> {
    /// The number a row that is in no group is given.
    pub(crate) const NONE: u32 = u32::MAX;

    /// Groups `rows` by `numbers` (one per row, below `groups`, or [`Numbered::NONE`]).
    pub(crate) fn new(rows: &'a [T], numbers: &[u32], groups: usize) -> Numbered<'a, T> {
        let mut starts = vec![0usize; groups + 1];
        for &g in numbers.iter().filter(|&&g| g != Self::NONE) {
            starts[g as usize + 1] += 1;
        }
        for g in 1..starts.len() {
            starts[g] += starts[g - 1];
        }
        // Filled in the rows' order (over a first row standing in for each); `end` moves
        // up as each group's rows come.
        let mut end = starts.clone();
        let mut grouped: Vec<&T> = rows
            .first()
            .map_or_else(Vec::new, |r| vec![r; starts[groups]]);
        for (row, &g) in rows.iter().zip(numbers) {
            if g != Self::NONE {
                let at = &mut end[g as usize];
                grouped[*at] = row;
                *at += 1;
            }
        }
        Numbered {
            starts,
            rows: grouped,
        }
    }

    fn range(&self, g: usize) -> std::ops::Range<usize> {
        self.starts[g]..self.starts[g + 1]
    }

    /// The rows numbered `g`.
    pub(crate) fn get(&self, g: usize) -> &[&'a T] {
        &self.rows[self.range(g)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_grouped_in_their_order() {
        let rows = [(1, 'a'), (2, 'b'), (1, 'c'), (3, 'd'), (1, 'e'), (2, 'f')];
        let groups = group_by(&rows, |r| r.0);
        for (key, text) in [(1, "ace"), (2, "bf"), (3, "d"), (4, "")] {
            let group = groups.get(&key);
            assert_eq!(group.iter().map(|r| r.1).collect::<String>(), text);
        }
        assert!(group_by(&[] as &[(i32, char)], |r| r.0).get(&1).is_empty());
    }

    #[test]
    fn rows_are_grouped_by_number_and_unnumbered_ones_left_out() {
        let rows = ['a', 'b', 'c', 'd', 'e'];
        let none = Numbered::<char>::NONE;
        let numbered = Numbered::new(&rows, &[2, none, 0, 2, none], 4);
        for (g, text) in [(0, "c"), (1, ""), (2, "ad"), (3, "")] {
            assert_eq!(numbered.get(g).iter().copied().collect::<String>(), text);
        }
        assert!(Numbered::new(&[] as &[char], &[], 2).get(1).is_empty());
    }

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
