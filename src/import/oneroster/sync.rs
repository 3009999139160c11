//! Writing projected rows into the journal, keyed by `external_ids` (source `oneroster`):
//! a key seen before updates its row when a value differs, a new key adds a row, and a
//! key the export no longer makes deletes its row, with what depends on it.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, Result, anyhow};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

use super::project::V;

pub const SOURCE: &str = "oneroster";

/// What happened to one journal table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
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

pub struct Sync<'c> {
    conn: &'c Connection,
    /// table → key → journal id, for the rows written in this import.
    ids: HashMap<&'static str, HashMap<String, i64>>,
    /// table → key → journal id, for every row the import owns (before deletions).
    owned: HashMap<&'static str, HashMap<String, i64>>,
    next: HashMap<&'static str, i64>,
    pub counts: BTreeMap<&'static str, Counts>,
    foreign_keys: Vec<ForeignKey>,
}

/// Two values are the same for the journal (`1` and `1.0` are).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Real(y)) | (Value::Real(y), Value::Integer(x)) => {
            (*x as f64) == *y
        }
        _ => a == b,
    }
}

impl<'c> Sync<'c> {
    pub fn new(conn: &'c Connection, tables: &[&str]) -> Result<Sync<'c>> {
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
            ids: HashMap::new(),
            owned: HashMap::new(),
            next: HashMap::new(),
            counts: BTreeMap::new(),
            foreign_keys,
        })
    }

    pub fn count(&mut self, table: &'static str) -> &mut Counts {
        self.counts.entry(table).or_default()
    }

    /// The journal id of a row written in this import.
    pub fn id(&self, table: &str, key: &str) -> Option<i64> {
        self.ids.get(table)?.get(key).copied()
    }

    /// Every key → id the import owned in `table` when it started.
    pub fn owned(&mut self, table: &'static str) -> Result<&HashMap<String, i64>> {
        if !self.owned.contains_key(table) {
            let mut stmt = self.conn.prepare(
                "SELECT external_id, local_id FROM external_ids WHERE source = ?1 AND kind = ?2",
            )?;
            let map = stmt
                .query_map([SOURCE, table], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<HashMap<String, i64>>>()?;
            self.owned.insert(table, map);
        }
        Ok(&self.owned[table])
    }

    /// Journal id → key, for every row of `table` the import owned or wrote.
    pub fn keys(&mut self, table: &'static str) -> Result<HashMap<i64, String>> {
        let mut out: HashMap<i64, String> = self
            .owned(table)?
            .iter()
            .map(|(k, id)| (*id, k.clone()))
            .collect();
        for (k, id) in self.ids.get(table).into_iter().flatten() {
            out.insert(*id, k.clone());
        }
        Ok(out)
    }

    /// Records that `key` is the journal row `id` of `table` (adopting a row not made by
    /// an import, such as the school row of a journal set up by hand).
    pub fn adopt(&mut self, table: &'static str, key: &str, id: i64) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO external_ids (source, kind, external_id, local_id) \
             VALUES (?1, ?2, ?3, ?4)",
            params![SOURCE, table, key, id],
        )?;
        self.owned(table)?;
        self.owned
            .get_mut(table)
            .expect("loaded")
            .insert(key.to_string(), id);
        Ok(())
    }

    fn resolve(&self, v: &V) -> Result<Value> {
        Ok(match v {
            V::Null => Value::Null,
            V::Int(i) => Value::Integer(*i),
            V::Real(f) => Value::Real(*f),
            V::Text(t) => Value::Text(t.clone()),
            V::Ref(table, key) => Value::Integer(
                self.id(table, key)
                    .ok_or_else(|| anyhow!("internal: {table} row {key} was not written"))?,
            ),
        })
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

    /// Writes `rows` (key → values of `columns`) into `table`. Returns the ids of the rows
    /// the import owns whose key is not in `rows` (for the caller to delete, or keep).
    pub fn upsert<'r>(
        &mut self,
        table: &'static str,
        columns: &[&str],
        rows: impl IntoIterator<Item = (&'r String, &'r Vec<V>)>,
    ) -> Result<Vec<(String, i64)>> {
        self.owned(table)?;
        let owned = self.owned.remove(table).expect("loaded");
        // The current values of the rows the import owns.
        let select = format!(
            "SELECT e.external_id, t.id, {} FROM external_ids e JOIN \"{table}\" t ON t.id = \
             e.local_id WHERE e.source = ?1 AND e.kind = ?2",
            columns
                .iter()
                .map(|c| format!("t.\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut current: HashMap<String, (i64, Vec<Value>)> = HashMap::with_capacity(owned.len());
        {
            let mut stmt = self.conn.prepare(&select)?;
            let mut q = stmt.query([SOURCE, table])?;
            while let Some(r) = q.next()? {
                let values = (0..columns.len())
                    .map(|i| r.get::<_, Value>(i + 2))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                current.insert(r.get(0)?, (r.get(1)?, values));
            }
        }
        let col_list = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let insert_sql = format!(
            "INSERT INTO \"{table}\" (id, {col_list}) VALUES ({})",
            (1..=columns.len() + 1)
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let update_sql = format!(
            "UPDATE \"{table}\" SET {} WHERE id = ?{}",
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("\"{c}\" = ?{}", i + 1))
                .collect::<Vec<_>>()
                .join(", "),
            columns.len() + 1
        );
        let mut seen = HashSet::new();
        let mut ids = HashMap::new();
        let mut counts = Counts::default();
        for (key, values) in rows {
            let values = values
                .iter()
                .map(|v| self.resolve(v))
                .collect::<Result<Vec<_>>>()?;
            seen.insert(key.clone());
            let id = match current.get(key) {
                Some((id, old)) if old.iter().zip(&values).all(|(a, b)| same(a, b)) => {
                    counts.unchanged += 1;
                    *id
                }
                Some((id, _)) => {
                    let mut stmt = self.conn.prepare_cached(&update_sql)?;
                    stmt.execute(params_from_iter(
                        values.iter().chain([&Value::Integer(*id)]),
                    ))
                    .with_context(|| format!("cannot update {table} row {key}"))?;
                    counts.updated += 1;
                    *id
                }
                None => {
                    let id = self.next_id(table)?;
                    let mut stmt = self.conn.prepare_cached(&insert_sql)?;
                    stmt.execute(params_from_iter(
                        [Value::Integer(id)].iter().chain(values.iter()),
                    ))
                    .with_context(|| format!("cannot add {table} row {key}"))?;
                    let mut map = self.conn.prepare_cached(
                        "INSERT OR REPLACE INTO external_ids (source, kind, external_id, \
                         local_id) VALUES (?1, ?2, ?3, ?4)",
                    )?;
                    map.execute(params![SOURCE, table, key, id])?;
                    counts.new += 1;
                    id
                }
            };
            ids.insert(key.clone(), id);
        }
        let c = self.count(table);
        c.new += counts.new;
        c.updated += counts.updated;
        c.unchanged += counts.unchanged;
        let stale = owned
            .iter()
            .filter(|(k, _)| !seen.contains(*k))
            .map(|(k, id)| (k.clone(), *id))
            .collect();
        self.owned.insert(table, owned);
        self.ids.entry(table).or_default().extend(ids);
        Ok(stale)
    }

    /// Makes the links of a table without a key (`group_students`, `student_guardians`)
    /// among rows the import owns exactly `wanted`: `(a key, b key, extra value)`.
    #[allow(clippy::too_many_arguments)]
    pub fn links(
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
                Some(old) if extra.is_none() || same(old, x) => counts.unchanged += 1,
                Some(_) => {
                    self.conn.execute(
                        &format!(
                            "UPDATE \"{table}\" SET {extra_sql} = ?3 WHERE \"{a_col}\" = ?1 AND \
                             \"{b_col}\" = ?2"
                        ),
                        params![key.0, key.1, x],
                    )?;
                    counts.updated += 1;
                }
                None => {
                    match extra {
                        Some(e) => self.conn.execute(
                            &format!(
                                "INSERT INTO \"{table}\" (\"{a_col}\", \"{b_col}\", \"{e}\") \
                                 VALUES (?1, ?2, ?3)"
                            ),
                            params![key.0, key.1, x],
                        )?,
                        None => self.conn.execute(
                            &format!(
                                "INSERT INTO \"{table}\" (\"{a_col}\", \"{b_col}\") VALUES (?1, ?2)"
                            ),
                            params![key.0, key.1],
                        )?,
                    };
                    counts.new += 1;
                }
            }
        }
        for key in existing.keys().filter(|k| !want.contains_key(k)) {
            self.conn.execute(
                &format!("DELETE FROM \"{table}\" WHERE \"{a_col}\" = ?1 AND \"{b_col}\" = ?2"),
                params![key.0, key.1],
            )?;
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
    /// depend on them are deleted too, except that a teacher's lessons and classes keep
    /// going without the teacher, and a mark keeps its value without its work type.
    pub fn delete(&mut self, table: &'static str, ids: &[i64]) -> Result<()> {
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
            if table == "teachers" || (child == "marks" && column == "work_type_id") {
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
    pub fn purge(&self, tables: &[&str]) -> Result<()> {
        for t in tables {
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
