//! What the journal knows of the OneRoster side: every row of the roster and gradebook
//! files (not results) as last imported, kept in the journal's own table
//! `oneroster_records` so that a delta export can be applied on top of earlier imports and
//! the journal worked out again from the whole picture.
//!
//! Only the fields of [`super::records`] are kept: no logins, passwords or demographics.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::*;
use super::source::Mode;

/// The table that keeps the rows (an extra table: `diary` itself never reads it).
pub const MIRROR_SQL: &str = "CREATE TABLE IF NOT EXISTS oneroster_records (
    file       TEXT NOT NULL,
    sourced_id TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (file, sourced_id)
) WITHOUT ROWID";

#[derive(Default)]
pub struct State {
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
    /// (file, sourcedId) → (file name, line) of the rows read in this import.
    places: HashMap<(&'static str, String), (std::rc::Rc<str>, u64)>,
}

impl State {
    /// Loads what earlier imports left (nothing in a new journal).
    pub fn load(conn: &Connection) -> Result<State> {
        conn.execute_batch(MIRROR_SQL)?;
        let mut state = State::default();
        let mut stmt = conn.prepare("SELECT file, sourced_id, data FROM oneroster_records")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let file: String = row.get(0)?;
            let id: String = row.get(1)?;
            let data: String = row.get(2)?;
            let bad = || format!("oneroster_records: cannot read the {file} row {id}");
            match file.as_str() {
                "orgs" => put(&mut state.orgs, id.clone(), &data).with_context(bad)?,
                "academicSessions" => {
                    put(&mut state.sessions, id.clone(), &data).with_context(bad)?
                }
                "courses" => put(&mut state.courses, id.clone(), &data).with_context(bad)?,
                "classes" => put(&mut state.classes, id.clone(), &data).with_context(bad)?,
                "users" => put(&mut state.users, id.clone(), &data).with_context(bad)?,
                "roles" => put(&mut state.roles, id.clone(), &data).with_context(bad)?,
                "enrollments" => {
                    put(&mut state.enrollments, id.clone(), &data).with_context(bad)?
                }
                "categories" => put(&mut state.categories, id.clone(), &data).with_context(bad)?,
                "scoreScales" => put(&mut state.scales, id.clone(), &data).with_context(bad)?,
                "lineItems" => put(&mut state.line_items, id.clone(), &data).with_context(bad)?,
                "lineItemScoreScales" => {
                    put(&mut state.line_item_scales, id.clone(), &data).with_context(bad)?
                }
                _ => {}
            }
        }
        Ok(state)
    }

    /// Where a row was read in this import (`users.csv line 5`), or that it comes from an
    /// earlier import.
    pub fn place(&self, file: &'static str, id: &str) -> String {
        match self.places.get(&(file, id.to_string())) {
            Some((name, line)) => format!("{name} line {line}: {id}"),
            None => format!("{id}, from an earlier import"),
        }
    }

    /// True if `id` names a row of `file` (as the export stands after this import).
    pub fn has(&self, file: &str, id: &str) -> bool {
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
    pub fn check(&self, refs: &References) -> Result<()> {
        for r in &refs.0 {
            if !self.has(r.target, &r.value) {
                bail!(
                    "{} line {}, column {}: '{}' names no row of {}.csv (in this export or an \
                     earlier import)",
                    r.file,
                    r.line,
                    r.column,
                    r.value,
                    r.target
                );
            }
        }
        Ok(())
    }
}

fn put<T: DeserializeOwned>(map: &mut BTreeMap<String, T>, id: String, data: &str) -> Result<()> {
    map.insert(id, serde_json::from_str(data)?);
    Ok(())
}

/// Applies one file to the state and to `oneroster_records`: `bulk` replaces every row of
/// the file, `delta` adds and replaces rows and removes the `tobedeleted` ones.
/// Rows that did not change are not written again.
pub fn apply<T: Serialize + PartialEq>(
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
    if mode == Mode::Bulk {
        // What the file does not hold is gone.
        let listed: HashSet<&str> = rows
            .iter()
            .filter(|r| r.record.is_some())
            .map(|r| r.id.as_str())
            .collect();
        let gone: Vec<String> = pick(state_places)
            .keys()
            .filter(|k| !listed.contains(k.as_str()))
            .cloned()
            .collect();
        for id in gone {
            delete.execute(params![file, id])?;
            pick(state_places).remove(&id);
        }
    }
    let file_name: std::rc::Rc<str> = file_name.into();
    for row in rows {
        state_places
            .places
            .insert((file, row.id.clone()), (file_name.clone(), row.line));
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
