//! Exam and final marks (docs/import-oneroster.md, "Exams and final marks"): rows of
//! `period_marks`, keyed by pupil, subject and period, with no id of their own. Which
//! result made which row is kept in `oneroster_records` (file `results`: the result's
//! pupil, course and period keys), so that a later export can change or remove it, and a
//! period mark the import did not make is never touched.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::Log;
use super::hash::Set;
use super::source::Mode;
use super::sync::Sync;

/// The `oneroster_records` file under which the results that made period marks are kept.
const FILE: &str = "results";

/// What a result's period mark is of, by OneRoster keys: its pupil (a user), its subject
/// (a course) and its period (a session, or a period the import made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Keys {
    pub student: String,
    pub course: String,
    pub period: String,
}

/// A period mark a result of this export makes.
pub(super) struct Wanted {
    pub result: Box<str>,
    /// Where the result is (`results.csv line 5: RES-4`).
    pub place: String,
    pub keys: Keys,
    pub value: String,
    pub comment: Option<String>,
    pub set_on: Option<String>,
}

/// A period mark's journal key: (student_id, subject_id, period_id).
type Key = (i64, i64, i64);

/// A period mark's values: (value, comment, set_on).
type Values = (String, Option<String>, Option<String>);

/// Every result of this export that wanted a period mark → the key it got (`None`: it lost
/// to another result of the same key).
type Present = HashMap<Box<str>, Option<Key>>;

/// The results that made period marks in earlier imports, with what they made.
pub(super) fn stored(conn: &Connection) -> Result<BTreeMap<String, Keys>> {
    conn.execute_batch(super::state::MIRROR_SQL)?;
    let mut stmt =
        conn.prepare("SELECT sourced_id, data FROM oneroster_records WHERE file = ?1")?;
    let mut rows = stmt.query([FILE])?;
    let mut out = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let keys = serde_json::from_str(row.get_ref(1)?.as_str()?)
            .with_context(|| format!("oneroster_records: cannot read the results row {id}"))?;
        out.insert(id, keys);
    }
    Ok(out)
}

/// The journal key of `keys`, if all three rows are written in this import (a row the
/// export no longer makes is deleted, with its period marks).
fn key_of(sync: &Sync, keys: &Keys) -> Option<Key> {
    Some((
        sync.id("students", &keys.student)?,
        sync.id("subjects", &keys.course)?,
        sync.id("periods", &keys.period)?,
    ))
}

/// Writes the period marks `wanted` and removes those of results gone: in `bulk`, every
/// result not wanted; otherwise the results in `gone` (and results of this export that now
/// make another period mark, or none).
pub(super) fn write(
    sync: &mut Sync,
    wanted: Vec<Wanted>,
    (mode, gone): (Mode, &Set<Box<str>>),
    stored: BTreeMap<String, Keys>,
    log: &mut Log,
) -> Result<()> {
    let (want, present) = by_key(sync, wanted, log)?;
    let owned: BTreeSet<Key> = stored.values().filter_map(|k| key_of(sync, k)).collect();
    let (forget, delete) = {
        let keep = |result: &str, key: Option<Key>| match present.get(result) {
            Some(claimed) => claimed.is_some() && *claimed == key,
            None => {
                mode != Mode::Bulk
                    && !gone.contains(result)
                    && key.is_some_and(|k| !want.contains_key(&k))
            }
        };
        let mut forget = Vec::new();
        let mut delete = BTreeSet::new();
        for (result, keys) in &stored {
            let key = key_of(sync, keys);
            if !keep(result, key) {
                forget.push(result.as_str());
                delete.extend(key.filter(|k| !want.contains_key(k)));
            }
        }
        (forget, delete)
    };
    let conn = sync.conn();
    let mut deleted = 0;
    for (student, subject, period) in delete {
        deleted += conn.execute(
            "DELETE FROM period_marks WHERE student_id = ?1 AND subject_id = ?2 AND \
             period_id = ?3",
            params![student, subject, period],
        )?;
    }
    let mut unmap =
        conn.prepare_cached("DELETE FROM oneroster_records WHERE file = ?1 AND sourced_id = ?2")?;
    for result in forget {
        unmap.execute(params![FILE, result])?;
    }
    sync.count("period_marks").deleted += deleted;
    for (key, w) in &want {
        let ours = put(sync, *key, w, owned.contains(key), log)?;
        if ours && stored.get(&*w.result) != Some(&w.keys) {
            sync.conn().execute(
                "INSERT OR REPLACE INTO oneroster_records (file, sourced_id, data) \
                 VALUES (?1, ?2, ?3)",
                params![FILE, &*w.result, serde_json::to_string(&w.keys)?],
            )?;
        }
    }
    Ok(())
}

/// The wanted period marks by journal key, the first result of each key winning (the
/// others are skipped), and the [`Present`] results.
fn by_key(
    sync: &Sync,
    wanted: Vec<Wanted>,
    log: &mut Log,
) -> Result<(BTreeMap<Key, Wanted>, Present)> {
    let mut want: BTreeMap<Key, Wanted> = BTreeMap::new();
    let mut present = HashMap::new();
    for w in wanted {
        let key = key_of(sync, &w.keys).with_context(|| {
            format!(
                "internal: the pupil, subject or period of result {} was not written",
                w.result
            )
        })?;
        if let Some(first) = want.get(&key) {
            log.skip(
                "result",
                format!(
                    "its pupil's mark for this subject and exam or final period is given by \
                     result {} already",
                    first.result
                ),
                w.place,
            );
            present.insert(w.result, None);
            continue;
        }
        present.insert(w.result.clone(), Some(key));
        want.insert(key, w);
    }
    Ok((want, present))
}

/// The values of the period mark at `key`, if there is one.
fn existing(sync: &Sync, (student, subject, period): Key) -> Result<Option<Values>> {
    Ok(sync
        .conn()
        .prepare_cached(
            "SELECT value, comment, set_on FROM period_marks WHERE student_id = ?1 AND \
             subject_id = ?2 AND period_id = ?3",
        )?
        .query_row(params![student, subject, period], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

/// Writes one period mark: added, updated where a value differs, or (a row the import
/// did not make) left as it is, and the result skipped. True if the row is the result's.
fn put(sync: &mut Sync, key: Key, w: &Wanted, owned: bool, log: &mut Log) -> Result<bool> {
    let (student, subject, period) = key;
    let values = (w.value.as_str(), w.comment.as_deref(), w.set_on.as_deref());
    let conn = sync.conn();
    match existing(sync, key)? {
        None => {
            conn.prepare_cached(
                "INSERT INTO period_marks (student_id, subject_id, period_id, value, comment, \
                 set_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                student, subject, period, values.0, values.1, values.2
            ])?;
            sync.count("period_marks").new += 1;
        }
        Some(_) if !owned => {
            log.skip(
                "result",
                "the journal has this pupil's mark for that subject and period already, not \
                 from this import (kept)",
                w.place.clone(),
            );
            return Ok(false);
        }
        Some(old) if (old.0.as_str(), old.1.as_deref(), old.2.as_deref()) == values => {
            sync.count("period_marks").unchanged += 1;
        }
        Some(_) => {
            conn.prepare_cached(
                "UPDATE period_marks SET value = ?4, comment = ?5, set_on = ?6 WHERE \
                 student_id = ?1 AND subject_id = ?2 AND period_id = ?3",
            )?
            .execute(params![
                student, subject, period, values.0, values.1, values.2
            ])?;
            sync.count("period_marks").updated += 1;
        }
    }
    Ok(true)
}
