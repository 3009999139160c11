//! What the journal knows of the OneRoster side: every row of the roster and gradebook
//! files (not results) as last imported, kept in the journal's own table
//! `oneroster_records` so that a delta export can be applied on top of earlier imports and
//! the journal worked out again from the whole picture.
//!
//! Only the fields of [`super::records`] are kept: no logins, passwords or demographics.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::*;
use super::source::Mode;

/// The table that keeps the rows (an extra table: `diary` itself never reads it).
pub(super) const MIRROR_SQL: &str = "CREATE TABLE IF NOT EXISTS oneroster_records (
    file       TEXT NOT NULL,
    sourced_id TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (file, sourced_id)
) WITHOUT ROWID";

/// The file name, and the sourcedId and line of each row read, sorted.
type Places = (String, Vec<(Box<str>, u64)>);

#[derive(Default)]
pub(super) struct State {
    pub orgs: BTreeMap<String, Org>,
    pub sessions: BTreeMap<String, Session>,
    pub courses: BTreeMap<String, Course>,
    pub classes: BTreeMap<String, Class>,
    pub users: BTreeMap<String, User>,
    pub roles: BTreeMap<String, Role>,
    pub enrollments: BTreeMap<String, Enrollment>,
    pub categories: BTreeMap<String, Category>,
    pub scales: BTreeMap<String, ScoreScale>,
    pub line_items: BTreeMap<String, LineItem>,
    pub line_item_scales: BTreeMap<String, ScaleLink>,
    /// File → where its rows read in this import are.
    places: HashMap<&'static str, Places>,
}

impl State {
    /// Loads what earlier imports left (nothing in a new journal), but for the files in
    /// `replaced`: those this import gives in full (`bulk`), whose rows [`apply`] compares
    /// as stored.
    pub(super) fn load(conn: &Connection, replaced: &[&str]) -> Result<State> {
        conn.execute_batch(MIRROR_SQL)?;
        let mut state = State::default();
        let mut stmt = conn.prepare(
            "SELECT sourced_id, data FROM oneroster_records WHERE file = ?1 ORDER BY sourced_id",
        )?;
        // In the order of the table's key, as it was read in one go before.
        let mut files = FILES;
        files.sort_unstable();
        for file in files {
            if replaced.contains(&file) {
                continue;
            }
            let stmt = &mut stmt;
            match file {
                "orgs" => state.orgs = stored(stmt, file)?,
                "academicSessions" => state.sessions = stored(stmt, file)?,
                "courses" => state.courses = stored(stmt, file)?,
                "classes" => state.classes = stored(stmt, file)?,
                "users" => state.users = stored(stmt, file)?,
                "roles" => state.roles = stored(stmt, file)?,
                "enrollments" => state.enrollments = stored(stmt, file)?,
                "categories" => state.categories = stored(stmt, file)?,
                "scoreScales" => state.scales = stored(stmt, file)?,
                "lineItems" => state.line_items = stored(stmt, file)?,
                "lineItemScoreScales" => state.line_item_scales = stored(stmt, file)?,
                _ => unreachable!("a file of FILES"),
            }
        }
        Ok(state)
    }

    /// Where a row was read in this import (`users.csv line 5`), or that it comes from an
    /// earlier import.
    pub(super) fn place(&self, file: &'static str, id: &str) -> String {
        let line = self.places.get(file).and_then(|(name, lines)| {
            let i = lines.binary_search_by(|(k, _)| (**k).cmp(id)).ok()?;
            Some((name, lines[i].1))
        });
        match line {
            Some((name, line)) => format!("{name} line {line}: {id}"),
            None => format!("{id}, from an earlier import"),
        }
    }

    /// True if `id` names a row of `file` (as the export stands after this import).
    pub(super) fn has(&self, file: &str, id: &str) -> bool {
        match file {
            "orgs" => self.orgs.contains_key(id),
            "academicSessions" => self.sessions.contains_key(id),
            "courses" => self.courses.contains_key(id),
            "classes" => self.classes.contains_key(id),
            "users" => self.users.contains_key(id),
            "categories" => self.categories.contains_key(id),
            "scoreScales" => self.scales.contains_key(id),
            "lineItems" => self.line_items.contains_key(id),
            _ => true,
        }
    }

    /// Fails on the first reference of this import to a row that does not exist.
    pub(super) fn check(&self, refs: &References) -> Result<()> {
        for (r, value) in refs.iter() {
            if !self.has(r.target, value) {
                bail!(
                    "{} line {}, column {}: '{}' names no row of {}.csv (in this export or an \
                     earlier import)",
                    r.file,
                    r.line,
                    r.column,
                    value,
                    r.target
                );
            }
        }
        Ok(())
    }
}

/// The files whose rows the state keeps (results are not kept).
const FILES: [&str; 11] = [
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "roles",
    "enrollments",
    "categories",
    "scoreScales",
    "lineItems",
    "lineItemScoreScales",
];

/// The stored rows of `file` (`stmt` selects them by file).
fn stored<T: DeserializeOwned>(
    stmt: &mut rusqlite::Statement<'_>,
    file: &str,
) -> Result<BTreeMap<String, T>> {
    let mut out = Vec::new();
    let mut rows = stmt.query([file])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let data = row.get_ref(1)?.as_str()?;
        let record = serde_json::from_str(data)
            .with_context(|| format!("oneroster_records: cannot read the {file} row {id}"))?;
        out.push((id, record));
    }
    // Built at once from the rows in order, the map's nodes are full.
    Ok(out.into_iter().collect())
}

/// Applies one file to the state and to `oneroster_records`: `bulk` replaces every row of
/// the file, `delta` adds and replaces rows and removes the `tobedeleted` ones.
/// Rows that did not change are not written again.
pub(super) fn apply<T: Serialize + PartialEq>(
    conn: &Connection,
    state_places: &mut State,
    file: &'static str,
    pick: impl Fn(&mut State) -> &mut BTreeMap<String, T>,
    mode: Mode,
    rows: Vec<Parsed<T>>,
    file_name: &str,
) -> Result<()> {
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO oneroster_records (file, sourced_id, data) VALUES (?1, ?2, ?3)",
    )?;
    let mut delete =
        conn.prepare_cached("DELETE FROM oneroster_records WHERE file = ?1 AND sourced_id = ?2")?;
    let mut lines: Vec<(Box<str>, u64)> = rows
        .iter()
        .map(|r| (r.id.as_str().into(), r.line))
        .collect();
    lines.sort_unstable();
    state_places
        .places
        .insert(file, (file_name.to_string(), lines));
    if mode == Mode::Bulk {
        // The file is the whole picture: its rows replace the stored ones ([`State::load`]
        // left those unread), compared as stored.
        let fresh: BTreeMap<String, T> = rows
            .into_iter()
            .filter_map(|row| Some((row.id, row.record?)))
            .collect();
        let (gone, changed) = compare_stored(conn, file, &fresh)?;
        for id in gone {
            delete.execute(params![file, id])?;
        }
        let mut json = Vec::new();
        for id in changed {
            json.clear();
            serde_json::to_writer(&mut json, &fresh[id.as_str()])?;
            insert.execute(params![file, id, std::str::from_utf8(&json)?])?;
        }
        *pick(state_places) = fresh;
        return Ok(());
    }
    for row in rows {
        match row.record {
            Some(record) => {
                if pick(state_places).get(&row.id) != Some(&record) {
                    insert.execute(params![file, row.id, serde_json::to_string(&record)?])?;
                    pick(state_places).insert(row.id, record);
                }
            }
            None => {
                if pick(state_places).remove(&row.id).is_some() {
                    delete.execute(params![file, row.id])?;
                }
            }
        }
    }
    Ok(())
}

/// The stored rows of `file` that `rows` no longer has, and the rows of `rows` that are not
/// stored as they are now (new or changed). Both are read in key order side by side.
fn compare_stored<T: Serialize>(
    conn: &Connection,
    file: &str,
    rows: &BTreeMap<String, T>,
) -> Result<(Vec<String>, Vec<String>)> {
    let mut gone = Vec::new();
    let mut changed = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT sourced_id, data FROM oneroster_records WHERE file = ?1 ORDER BY sourced_id",
    )?;
    let mut stored = stmt.query([file])?;
    let mut fresh = rows.iter().peekable();
    let mut json = Vec::new();
    let mut previous = None::<String>;
    while let Some(row) = stored.next()? {
        let id = row.get_ref(0)?.as_str()?;
        match &mut previous {
            Some(p) if p.as_str() >= id => {
                bail!("internal: oneroster_records of {file} are not in key order at {id}")
            }
            Some(p) => {
                p.clear();
                p.push_str(id);
            }
            None => previous = Some(id.to_string()),
        }
        // Rows before this one in key order are not stored.
        while let Some((k, _)) = fresh.next_if(|(k, _)| k.as_str() < id) {
            changed.push(k.clone());
        }
        match fresh.next_if(|(k, _)| k.as_str() == id) {
            Some((k, record)) => {
                json.clear();
                serde_json::to_writer(&mut json, record)?;
                if row.get_ref(1)?.as_bytes()? != json.as_slice() {
                    changed.push(k.clone());
                }
            }
            None => gone.push(id.to_string()),
        }
    }
    changed.extend(fresh.map(|(k, _)| k.clone()));
    Ok((gone, changed))
}
