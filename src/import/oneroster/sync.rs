//! Writing projected rows into the journal, keyed by `external_ids` (source `oneroster`):
//! a key seen before updates its row when a value differs, a new key adds a row, and a
//! key the export no longer makes deletes its row, with what depends on it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{CachedStatement, Connection, params, params_from_iter};

use super::hash::Map;
use super::project::V;

pub(super) const SOURCE: &str = "oneroster";

/// The most columns a written table has (lessons).
const MAX_COLUMNS: usize = 8;

/// How many writes [`Sync::upsert`] holds back at most.
const BATCH: usize = 4096;

/// What happened to one journal table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub new: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

/// The journal's tables that refer to others: (table, column, referenced table, the
/// referring table has an `id`).
struct ForeignKey {
    table: String,
    column: String,
    target: String,
}

pub(super) struct Sync<'c> {
    conn: &'c Connection,
    /// table → key → journal id, for the rows written in this import (not marks: see
    /// [`Sync::upsert`]).
    ids: Map<&'static str, Map<Rc<str>, i64>>,
    /// No ids (of a table without rows written).
    none: Map<Rc<str>, i64>,
    /// table → (key, id) of rows the import owned whose journal row was gone, written again
    /// under a new id in this import.
    replaced: HashMap<&'static str, Vec<(Rc<str>, i64)>>,
    next: HashMap<&'static str, i64>,
    /// The tables written by [`Sync::upsert`]: whether a key the import owned and no longer
    /// wants had lost its journal row already.
    seen: HashMap<&'static str, bool>,
    pub counts: BTreeMap<&'static str, Counts>,
    foreign_keys: Vec<ForeignKey>,
}

/// What [`Sync::upsert`] did besides counting.
pub(super) struct Upserted {
    /// The rows the import owns whose key was not given: (key, id), for the caller to
    /// delete, or keep.
    pub stale: Vec<(String, i64)>,
    /// The ids of the rows given (in no particular order).
    pub written: Vec<i64>,
}

/// A row to write into a table.
pub(super) trait Row {
    /// The values of the table's columns, in order, into `out` (as long as the columns);
    /// references to rows written before become their journal ids.
    fn values<'a>(&'a self, sync: &Sync<'_>, out: &mut [ValueRef<'a>]) -> Result<()>;
}

impl Row for [V] {
    fn values<'a>(&'a self, sync: &Sync<'_>, out: &mut [ValueRef<'a>]) -> Result<()> {
        for (slot, v) in out.iter_mut().zip(self) {
            *slot = match v {
                V::Null => ValueRef::Null,
                V::Int(i) => ValueRef::Integer(*i),
                V::Real(f) => ValueRef::Real(*f),
                V::Text(t) => ValueRef::Text(t.as_bytes()),
                V::Ref(table, key) => sync.reference(table, key)?,
            };
        }
        Ok(())
    }
}

impl Row for Vec<V> {
    fn values<'a>(&'a self, sync: &Sync<'_>, out: &mut [ValueRef<'a>]) -> Result<()> {
        self.as_slice().values(sync, out)
    }
}

impl<T: Row + ?Sized> Row for &T {
    fn values<'a>(&'a self, sync: &Sync<'_>, out: &mut [ValueRef<'a>]) -> Result<()> {
        (**self).values(sync, out)
    }
}

/// Two values are the same for the journal (`1` and `1.0` are).
fn same(a: ValueRef<'_>, b: ValueRef<'_>) -> bool {
    match (a, b) {
        (ValueRef::Integer(x), ValueRef::Real(y)) | (ValueRef::Real(y), ValueRef::Integer(x)) => {
            (x as f64) == y
        }
        _ => a == b,
    }
}

/// The statements that write a row of a table.
struct Writes<'c> {
    table: &'static str,
    insert: CachedStatement<'c>,
    update: CachedStatement<'c>,
    map: CachedStatement<'c>,
}

impl<'c> Writes<'c> {
    fn new(conn: &'c Connection, table: &'static str, columns: &[&str]) -> Result<Writes<'c>> {
        let col_list = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Writes {
            table,
            insert: conn.prepare_cached(&format!(
                "INSERT INTO \"{table}\" (id, {col_list}) VALUES ({})",
                (1..=columns.len() + 1)
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?,
            update: conn.prepare_cached(&format!(
                "UPDATE \"{table}\" SET {} WHERE id = ?{}",
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("\"{c}\" = ?{}", i + 1))
                    .collect::<Vec<_>>()
                    .join(", "),
                columns.len() + 1
            ))?,
            map: conn.prepare_cached(
                "INSERT OR REPLACE INTO external_ids (source, kind, external_id, local_id) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
        })
    }
}

/// A write [`Sync::upsert`] holds back while it reads the journal.
#[derive(Clone, Copy)]
enum Pending {
    /// The row with this id has other values.
    Update(i64),
    /// A new row (in place of a row that was gone, with this id).
    Insert(Option<i64>),
}

impl<'c> Sync<'c> {
    pub(super) fn new(conn: &'c Connection, tables: &[&str]) -> Result<Sync<'c>> {
        let mut foreign_keys = Vec::new();
        for t in tables {
            let mut stmt =
                conn.prepare("SELECT \"table\", \"from\" FROM pragma_foreign_key_list(?1)")?;
            let rows = stmt.query_map([t], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            for row in rows {
                let (target, column) = row?;
                foreign_keys.push(ForeignKey {
                    table: t.to_string(),
                    column,
                    target,
                });
            }
        }
        Ok(Sync {
            conn,
            ids: Map::default(),
            none: Map::default(),
            replaced: HashMap::new(),
            next: HashMap::new(),
            seen: HashMap::new(),
            counts: BTreeMap::new(),
            foreign_keys,
        })
    }

    /// The journal being written.
    pub(super) fn conn(&self) -> &'c Connection {
        self.conn
    }

    pub(super) fn count(&mut self, table: &'static str) -> &mut Counts {
        self.counts.entry(table).or_default()
    }

    /// The journal id of a row written in this import.
    pub(super) fn id(&self, table: &str, key: &str) -> Option<i64> {
        self.ids.get(table)?.get(key).copied()
    }

    /// Key → journal id of the rows of `table` written in this import.
    pub(super) fn ids(&self, table: &str) -> &Map<Rc<str>, i64> {
        self.ids.get(table).unwrap_or(&self.none)
    }

    /// True if the import owns a row of `table`.
    pub(super) fn owns_any(&self, table: &'static str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM external_ids WHERE source = ?1 AND kind = ?2)",
            )?
            .query_row([SOURCE, table], |r| r.get(0))?)
    }

    /// Journal id → key, for every row of `table` the import owned or wrote.
    pub(super) fn keys(&mut self, table: &'static str) -> Result<Map<i64, Rc<str>>> {
        let mut out: Map<i64, Rc<str>> = Map::default();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT local_id, external_id FROM external_ids WHERE source = ?1 AND kind = ?2",
            )?;
            let mut q = stmt.query([SOURCE, table])?;
            while let Some(r) = q.next()? {
                let key: String = r.get(1)?;
                out.insert(r.get(0)?, key.into());
            }
        }
        for (k, id) in self.replaced.get(table).into_iter().flatten() {
            out.insert(*id, k.clone());
        }
        for (k, id) in self.ids.get(table).into_iter().flatten() {
            out.insert(*id, k.clone());
        }
        Ok(out)
    }

    /// Records that `key` is the journal row `id` of `table` (adopting a row not made by
    /// an import, such as the school row of a journal set up by hand).
    pub(super) fn adopt(&mut self, table: &'static str, key: &str, id: i64) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO external_ids (source, kind, external_id, local_id) \
             VALUES (?1, ?2, ?3, ?4)",
            params![SOURCE, table, key, id],
        )?;
        Ok(())
    }

    /// The journal id of the row `key` of `table`, written in this import, as a value.
    pub(super) fn reference(&self, table: &str, key: &str) -> Result<ValueRef<'static>> {
        self.id(table, key)
            .map(ValueRef::Integer)
            .ok_or_else(|| anyhow!("internal: {table} row {key} was not written"))
    }

    fn next_id(&mut self, table: &'static str) -> Result<i64> {
        if !self.next.contains_key(table) {
            let max: i64 = self.conn.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) FROM \"{table}\""),
                [],
                |r| r.get(0),
            )?;
            self.next.insert(table, max + 1);
        }
        let n = self.next.get_mut(table).expect("set");
        *n += 1;
        Ok(*n - 1)
    }

    /// Writes `rows` (key → values of `columns`, in ascending key order) into `table`: a
    /// key the import owns updates its row where a value differs, a new key adds a row.
    /// With `remember`, the ids are kept for [`Sync::id`] (and references to the rows).
    pub(super) fn upsert<'r, R: Row>(
        &mut self,
        table: &'static str,
        columns: &[&str],
        rows: impl IntoIterator<Item = (&'r str, R)>,
        remember: bool,
    ) -> Result<Upserted> {
        assert!(columns.len() <= MAX_COLUMNS, "{table}: too many columns");
        let conn = self.conn;
        let select = |after: &str| {
            format!(
                "SELECT e.external_id, e.local_id, t.id IS NOT NULL, {} FROM external_ids e \
                 LEFT JOIN \"{table}\" t ON t.id = e.local_id WHERE e.source = ?1 AND e.kind = \
                 ?2{after} ORDER BY e.external_id",
                columns
                    .iter()
                    .map(|c| format!("t.\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut sql = Writes::new(conn, table, columns)?;
        let select_all = select("");
        let select_after = select(" AND e.external_id > ?3");
        let mut rows = rows.into_iter();
        let mut done = Upserted {
            stale: Vec::new(),
            written: Vec::with_capacity(rows.size_hint().0),
        };
        let mut counts = Counts::default();
        let mut ids: Map<Rc<str>, i64> = Map::default();
        let mut pending: Vec<(Rc<str>, Pending, Vec<Value>)> = Vec::new();
        // The rows the import owns are read in key order alongside `rows`. The journal is
        // not written while they are read: writes wait in `pending` until the reading stops
        // (every BATCH writes), and reading resumes after the last key given. What this
        // import adds sorts before that key, so it is never read.
        let mut resume: Option<String> = None;
        let mut exhausted = false;
        let mut previous: Option<&'r str> = None;
        // Whether a stale key's journal row is gone already.
        let mut dangling = false;
        while !exhausted {
            let mut stmt = conn.prepare_cached(if resume.is_some() {
                &select_after
            } else {
                &select_all
            })?;
            let mut owned = match &resume {
                Some(after) => stmt.query(params![SOURCE, table, after])?,
                None => stmt.query(params![SOURCE, table])?,
            };
            let mut current = owned.next()?;
            loop {
                let Some((key, row)) = rows.next() else {
                    // What is left of the owned rows is stale.
                    while let Some(o) = current {
                        if !o.get::<_, bool>(2)? {
                            dangling = true;
                        }
                        done.stale.push((o.get(0)?, o.get(1)?));
                        current = owned.next()?;
                    }
                    exhausted = true;
                    break;
                };
                if previous.is_some_and(|p| p >= key) {
                    bail!("internal: {table} rows are not in key order at {key}");
                }
                previous = Some(key);
                let mut values = [ValueRef::Null; MAX_COLUMNS];
                let values = &mut values[..columns.len()];
                row.values(self, values)?;
                // The owned row with this key, if any; owned rows before it are stale.
                let found = loop {
                    let Some(o) = current else { break None };
                    let k = o.get_ref(0)?.as_str()?;
                    match k.cmp(key) {
                        Ordering::Less => {
                            if !o.get::<_, bool>(2)? {
                                dangling = true;
                            }
                            done.stale.push((k.to_string(), o.get(1)?));
                            current = owned.next()?;
                        }
                        Ordering::Equal => break Some(o),
                        Ordering::Greater => break None,
                    }
                };
                let wait = match found {
                    Some(o) if o.get::<_, bool>(2)? => {
                        let id: i64 = o.get(1)?;
                        let mut same_values = true;
                        for (i, v) in values.iter().enumerate() {
                            if !same(o.get_ref(i + 3)?, *v) {
                                same_values = false;
                                break;
                            }
                        }
                        if same_values {
                            counts.unchanged += 1;
                            if remember {
                                ids.insert(key.into(), id);
                            }
                            done.written.push(id);
                            None
                        } else {
                            Some(Pending::Update(id))
                        }
                    }
                    // The journal row is gone: the key is added again.
                    Some(o) => Some(Pending::Insert(Some(o.get(1)?))),
                    None => Some(Pending::Insert(None)),
                };
                if found.is_some() {
                    current = owned.next()?;
                }
                let Some(change) = wait else { continue };
                if current.is_none() {
                    // Every owned row is read (and the reading is over): write at once.
                    for (key, change, values) in pending.drain(..) {
                        let values: Vec<ValueRef> = values.iter().map(ValueRef::from).collect();
                        let id = self.write(&mut sql, &key, change, &values, &mut counts)?;
                        done.written.push(id);
                        if remember {
                            ids.insert(key, id);
                        }
                    }
                    let id = self.write(&mut sql, key, change, values, &mut counts)?;
                    done.written.push(id);
                    if remember {
                        ids.insert(key.into(), id);
                    }
                    continue;
                }
                pending.push((
                    key.into(),
                    change,
                    values.iter().map(|v| Value::from(*v)).collect(),
                ));
                if pending.len() >= BATCH {
                    resume = Some(key.to_string());
                    break;
                }
            }
            drop(owned);
            drop(stmt);
            for (key, change, values) in pending.drain(..) {
                let values: Vec<ValueRef> = values.iter().map(ValueRef::from).collect();
                let id = self.write(&mut sql, &key, change, &values, &mut counts)?;
                done.written.push(id);
                if remember {
                    ids.insert(key, id);
                }
            }
        }
        let c = self.count(table);
        c.new += counts.new;
        c.updated += counts.updated;
        c.unchanged += counts.unchanged;
        if remember {
            self.ids.entry(table).or_default().extend(ids);
        }
        self.seen.insert(table, dangling);
        Ok(done)
    }

    /// Writes one row for [`Sync::upsert`]: its id.
    fn write(
        &mut self,
        sql: &mut Writes<'_>,
        key: &str,
        change: Pending,
        values: &[ValueRef<'_>],
        counts: &mut Counts,
    ) -> Result<i64> {
        let table = sql.table;
        fn param<'a>(v: &ValueRef<'a>) -> ToSqlOutput<'a> {
            ToSqlOutput::Borrowed(*v)
        }
        Ok(match change {
            Pending::Update(id) => {
                sql.update
                    .execute(params_from_iter(
                        values.iter().chain([&ValueRef::Integer(id)]).map(param),
                    ))
                    .with_context(|| format!("cannot update {table} row {key}"))?;
                counts.updated += 1;
                id
            }
            Pending::Insert(gone) => {
                if let Some(old) = gone {
                    self.replaced
                        .entry(table)
                        .or_default()
                        .push((key.into(), old));
                }
                let id = self.next_id(table)?;
                sql.insert
                    .execute(params_from_iter(
                        [&ValueRef::Integer(id)]
                            .into_iter()
                            .chain(values)
                            .map(param),
                    ))
                    .with_context(|| format!("cannot add {table} row {key}"))?;
                sql.map.execute(params![SOURCE, table, key, id])?;
                counts.new += 1;
                id
            }
        })
    }

    /// Makes the links of a table without a key (`group_students`, `student_guardians`)
    /// among rows the import owns exactly `wanted`: `(a key, b key, extra value)`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn links(
        &mut self,
        table: &'static str,
        (a_col, a_table): (&str, &'static str),
        (b_col, b_table): (&str, &'static str),
        extra: Option<&str>,
        wanted: &[(String, String, Option<String>)],
        both_owned: bool,
    ) -> Result<()> {
        let owned_a: HashSet<i64> = self
            .ids
            .get(a_table)
            .into_iter()
            .flatten()
            .map(|(_, v)| *v)
            .collect();
        let owned_b: HashSet<i64> = self
            .ids
            .get(b_table)
            .into_iter()
            .flatten()
            .map(|(_, v)| *v)
            .collect();
        let extra_sql = extra.map_or("NULL".to_string(), |e| format!("\"{e}\""));
        let mut existing: HashMap<(i64, i64), Value> = HashMap::new();
        {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT \"{a_col}\", \"{b_col}\", {extra_sql} FROM \"{table}\""
            ))?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let (a, b): (i64, i64) = (r.get(0)?, r.get(1)?);
                if owned_a.contains(&a) && (!both_owned || owned_b.contains(&b)) {
                    existing.insert((a, b), r.get(2)?);
                }
            }
        }
        let mut counts = Counts::default();
        let mut want: HashMap<(i64, i64), Value> = HashMap::new();
        for (a, b, x) in wanted {
            let (Some(a), Some(b)) = (self.id(a_table, a), self.id(b_table, b)) else {
                continue;
            };
            want.insert((a, b), x.clone().map_or(Value::Null, Value::Text));
        }
        let mut keys: Vec<&(i64, i64)> = want.keys().collect();
        keys.sort_unstable();
        for key in keys {
            let x = &want[key];
            match existing.get(key) {
                Some(old) if extra.is_none() || same(old.into(), x.into()) => counts.unchanged += 1,
                Some(_) => {
                    self.conn
                        .prepare_cached(&format!(
                            "UPDATE \"{table}\" SET {extra_sql} = ?3 WHERE \"{a_col}\" = ?1 AND \
                             \"{b_col}\" = ?2"
                        ))?
                        .execute(params![key.0, key.1, x])?;
                    counts.updated += 1;
                }
                None => {
                    match extra {
                        Some(e) => self
                            .conn
                            .prepare_cached(&format!(
                                "INSERT INTO \"{table}\" (\"{a_col}\", \"{b_col}\", \"{e}\") \
                                 VALUES (?1, ?2, ?3)"
                            ))?
                            .execute(params![key.0, key.1, x])?,
                        None => self
                            .conn
                            .prepare_cached(&format!(
                                "INSERT INTO \"{table}\" (\"{a_col}\", \"{b_col}\") VALUES (?1, ?2)"
                            ))?
                            .execute(params![key.0, key.1])?,
                    };
                    counts.new += 1;
                }
            }
        }
        for key in existing.keys().filter(|k| !want.contains_key(k)) {
            self.conn
                .prepare_cached(&format!(
                    "DELETE FROM \"{table}\" WHERE \"{a_col}\" = ?1 AND \"{b_col}\" = ?2"
                ))?
                .execute(params![key.0, key.1])?;
            counts.deleted += 1;
        }
        let c = self.count(table);
        c.new += counts.new;
        c.updated += counts.updated;
        c.deleted += counts.deleted;
        c.unchanged += counts.unchanged;
        Ok(())
    }

    /// Deletes rows of `table` by id, and first what refers to them: rows of tables that
    /// depend on them are deleted too, except that a teacher's lessons, classes and
    /// remarks keep going without the teacher, a mark keeps its value without its work
    /// type, and a remark its text without its subject.
    pub(super) fn delete(&mut self, table: &'static str, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let temp = format!("temp.\"oneroster_del_{table}\"");
        self.conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {temp} (id INTEGER PRIMARY KEY); DELETE FROM {temp};"
        ))?;
        {
            let mut ins = self
                .conn
                .prepare(&format!("INSERT OR IGNORE INTO {temp} (id) VALUES (?1)"))?;
            for id in ids {
                ins.execute([id])?;
            }
        }
        let children: Vec<(String, String)> = self
            .foreign_keys
            .iter()
            .filter(|fk| fk.target == table)
            .map(|fk| (fk.table.clone(), fk.column.clone()))
            .collect();
        for (child, column) in children {
            let child: &'static str = leak_table(&child);
            let optional = matches!(
                (child, column.as_str()),
                ("marks", "work_type_id") | ("remarks", "subject_id")
            );
            if table == "teachers" || optional {
                self.conn.execute(
                    &format!(
                        "UPDATE \"{child}\" SET \"{column}\" = NULL WHERE \"{column}\" IN \
                         (SELECT id FROM {temp})"
                    ),
                    [],
                )?;
                continue;
            }
            let has_id = self.has_id(child)?;
            if has_id {
                let child_ids: Vec<i64> = {
                    let mut stmt = self.conn.prepare(&format!(
                        "SELECT id FROM \"{child}\" WHERE \"{column}\" IN (SELECT id FROM {temp})"
                    ))?;
                    stmt.query_map([], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?
                };
                self.delete(child, &child_ids)?;
                // The recursion reused no temp table of this level: each table has its own.
            } else {
                let n = self.conn.execute(
                    &format!(
                        "DELETE FROM \"{child}\" WHERE \"{column}\" IN (SELECT id FROM {temp})"
                    ),
                    [],
                )?;
                self.count(child).deleted += n;
            }
        }
        let n = self.conn.execute(
            &format!("DELETE FROM \"{table}\" WHERE id IN (SELECT id FROM {temp})"),
            [],
        )?;
        self.count(table).deleted += n;
        Ok(())
    }

    fn has_id(&self, table: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM pragma_table_info(?1) WHERE name = 'id' AND pk = 1",
            [table],
            |r| r.get::<_, i64>(0),
        )? > 0)
    }

    /// Forgets external ids whose journal row is gone.
    pub(super) fn purge(&self, tables: &[&'static str]) -> Result<()> {
        for t in tables {
            // Every owned key of a table written in full names a row, unless rows were
            // deleted since, or some were gone already.
            if self.seen.get(t) == Some(&false) && self.counts.get(t).is_none_or(|c| c.deleted == 0)
            {
                continue;
            }
            self.conn.execute(
                &format!(
                    "DELETE FROM external_ids WHERE source = ?1 AND kind = ?2 AND local_id NOT IN \
                     (SELECT id FROM \"{t}\")"
                ),
                params![SOURCE, t],
            )?;
        }
        Ok(())
    }
}

/// The journal's table names as `'static` (the schema is fixed, so the set is small).
fn leak_table(name: &str) -> &'static str {
    crate::import::csv::TABLES
        .iter()
        .find(|t| **t == name)
        .copied()
        .unwrap_or("external_ids")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(name: &str) -> Vec<V> {
        vec![V::Text(name.into()), V::Text("s".into())]
    }

    /// More changes than one batch holds: reading the journal stops and resumes.
    #[test]
    fn upsert_in_batches_keeps_ids_and_counts() {
        let conn = Connection::open_in_memory().unwrap();
        crate::journal::create_schema(&conn).unwrap();
        let columns = ["name", "short_name"];
        let key = |i: usize| format!("k{i:05}");
        let first: BTreeMap<String, Vec<V>> = (0..10_000).map(|i| (key(i), subject("a"))).collect();
        let mut sync = Sync::new(&conn, &["subjects"]).unwrap();
        let done = sync
            .upsert(
                "subjects",
                &columns,
                first.iter().map(|(k, v)| (k.as_str(), v)),
                true,
            )
            .unwrap();
        assert_eq!(done.written.len(), 10_000);
        assert_eq!(sync.counts["subjects"].new, 10_000);
        let id_of = |k: &str| sync.id("subjects", k).unwrap();
        let (kept, changed, lost) = (id_of("k00001"), id_of("k00003"), id_of("k00009"));
        conn.execute("DELETE FROM subjects WHERE id = ?1", [lost])
            .unwrap();

        // Every third row changes, those ending in 5 go, 1800 rows come.
        let second: BTreeMap<String, Vec<V>> = (0..12_000)
            .filter(|i| i % 10 != 5)
            .map(|i| (key(i), subject(if i % 3 == 0 { "b" } else { "a" })))
            .collect();
        let mut sync = Sync::new(&conn, &["subjects"]).unwrap();
        let done = sync
            .upsert(
                "subjects",
                &columns,
                second.iter().map(|(k, v)| (k.as_str(), v)),
                true,
            )
            .unwrap();
        let c = sync.counts["subjects"];
        let changes = (0..10_000).filter(|i| i % 10 != 5 && i % 3 == 0).count();
        // The row deleted by hand (k00009, a changed one) is added again, with the 1800 new.
        assert_eq!(c.updated, changes - 1);
        assert_eq!(c.new, 1_801);
        assert_eq!(c.unchanged, 9_000 - changes);
        assert_eq!(done.stale.len(), 1_000);
        assert!(done.stale.iter().all(|(k, _)| k.ends_with('5')));
        assert_eq!(done.written.len(), second.len());
        assert_eq!(sync.id("subjects", "k00001"), Some(kept));
        assert_eq!(sync.id("subjects", "k00003"), Some(changed));
        assert_ne!(sync.id("subjects", "k00009"), Some(lost));
        assert_eq!(sync.keys("subjects").unwrap()[&lost].as_ref(), "k00009");
        let name: String = conn
            .query_row("SELECT name FROM subjects WHERE id = ?1", [changed], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(name, "b");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM subjects", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 10_000 - 1 + 1_801);
    }
}
