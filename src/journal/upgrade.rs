//! `diary upgrade`: a journal of an earlier schema version converted to the current one, in
//! one transaction, after a byte-for-byte copy of the file is written next to it. What it
//! cannot convert without losing something, it refuses before touching anything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, TransactionBehavior};

use super::SCHEMA_VERSION;

/// What an upgrade did.
#[derive(Debug)]
pub(crate) struct Upgraded {
    pub from: i64,
    pub to: i64,
    /// The copy of the journal as it was.
    pub backup: PathBuf,
    /// Rows carried over, all tables together.
    pub rows: i64,
}

/// The tables and columns of schema version 1, the version this upgrade starts from. A
/// table rebuilt by the upgrade (periods, bells) must have exactly these columns: a column
/// a school added to it would be lost, so the upgrade refuses it.
const V1: &[(&str, &[&str])] = &[
    (
        "school",
        &["id", "name", "short_name", "is_demo", "address", "contact"],
    ),
    ("academic_years", &["id", "name", "starts_on", "ends_on"]),
    (
        "periods",
        &[
            "id",
            "year_id",
            "kind",
            "number",
            "name",
            "starts_on",
            "ends_on",
        ],
    ),
    (
        "holidays",
        &["id", "year_id", "name", "starts_on", "ends_on", "grade"],
    ),
    (
        "teachers",
        &["id", "last_name", "first_name", "middle_name", "contact"],
    ),
    (
        "classes",
        &[
            "id",
            "year_id",
            "grade",
            "letter",
            "name",
            "class_teacher_id",
        ],
    ),
    (
        "students",
        &["id", "class_id", "last_name", "first_name", "middle_name"],
    ),
    (
        "guardians",
        &["id", "last_name", "first_name", "middle_name", "contact"],
    ),
    (
        "student_guardians",
        &["student_id", "guardian_id", "relation"],
    ),
    ("subjects", &["id", "name", "short_name"]),
    ("groups", &["id", "class_id", "subject_id", "name"]),
    ("group_students", &["group_id", "student_id"]),
    ("bells", &["number", "starts_at", "ends_at"]),
    (
        "timetable",
        &[
            "id",
            "class_id",
            "group_id",
            "subject_id",
            "teacher_id",
            "weekday",
            "number",
            "room",
            "starts_on",
            "ends_on",
        ],
    ),
    (
        "lessons",
        &[
            "id",
            "class_id",
            "group_id",
            "subject_id",
            "teacher_id",
            "substitute_teacher_id",
            "date",
            "number",
            "room",
            "topic",
            "homework",
            "homework_due",
            "cancelled",
        ],
    ),
    ("homework_links", &["lesson_id", "url", "title"]),
    ("work_types", &["id", "name", "weight"]),
    (
        "marks",
        &[
            "id",
            "student_id",
            "lesson_id",
            "work_type_id",
            "value",
            "weight",
            "comment",
            "is_debt",
        ],
    ),
    ("attendance", &["student_id", "lesson_id", "status", "note"]),
    (
        "period_marks",
        &["student_id", "subject_id", "period_id", "value", "comment"],
    ),
    (
        "announcements",
        &[
            "id",
            "audience",
            "grade",
            "class_id",
            "title",
            "body_md",
            "published_at",
            "expires_at",
            "pinned",
            "author",
        ],
    ),
    (
        "events",
        &[
            "id",
            "class_id",
            "title",
            "starts_at",
            "ends_at",
            "place",
            "description",
        ],
    ),
];

/// The tables the upgrade rebuilds (SQLite cannot change a CHECK or a primary key in place).
const REBUILT: [&str; 2] = ["periods", "bells"];

/// Version 1 → 2 (docs/journal.md, "Schema versions"). New columns are added at the end of
/// their tables, as in data/schema.sql, so an upgraded journal and a new one have the same
/// columns in the same order.
const V1_TO_V2: &str = "
ALTER TABLE classes ADD COLUMN shift INTEGER NOT NULL DEFAULT 1 CHECK (shift IN (1, 2));
ALTER TABLE guardians ADD COLUMN delivery TEXT NOT NULL DEFAULT 'online';
ALTER TABLE guardians ADD COLUMN consent_on TEXT;
ALTER TABLE lessons ADD COLUMN homework_minutes INTEGER;
ALTER TABLE marks ADD COLUMN entered_at TEXT;
ALTER TABLE period_marks ADD COLUMN set_on TEXT;

CREATE TABLE periods_v2 (
    id          INTEGER PRIMARY KEY,
    year_id     INTEGER NOT NULL REFERENCES academic_years(id),
    kind        TEXT NOT NULL CHECK (kind IN ('quarter', 'trimester', 'half', 'year', 'exam', 'final')),
    number      INTEGER NOT NULL,
    name        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL
);
INSERT INTO periods_v2 (id, year_id, kind, number, name, starts_on, ends_on)
    SELECT id, year_id, kind, number, name, starts_on, ends_on FROM periods ORDER BY id;
DROP TABLE periods;
ALTER TABLE periods_v2 RENAME TO periods;

CREATE TABLE bells_v2 (
    shift       INTEGER NOT NULL DEFAULT 1 CHECK (shift IN (1, 2)),
    number      INTEGER NOT NULL,
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    PRIMARY KEY (shift, number)
);
INSERT INTO bells_v2 (shift, number, starts_at, ends_at)
    SELECT 1, number, starts_at, ends_at FROM bells ORDER BY number;
DROP TABLE bells;
ALTER TABLE bells_v2 RENAME TO bells;

CREATE TABLE remarks (
    id          INTEGER PRIMARY KEY,
    student_id  INTEGER NOT NULL REFERENCES students(id),
    date        TEXT NOT NULL,
    teacher_id  INTEGER REFERENCES teachers(id),
    subject_id  INTEGER REFERENCES subjects(id),
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX remarks_student ON remarks (student_id, date);

PRAGMA user_version = 2;
";

/// Where the copy of a version-`from` journal goes: `journal.v1.sqlite` beside
/// `journal.sqlite`.
pub(crate) fn backup_path(journal: &Path, from: i64) -> PathBuf {
    let stem = journal
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "journal".into());
    let ext = journal
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    journal.with_file_name(format!("{stem}.v{from}{ext}"))
}

/// Upgrades the journal at `path` to [`SCHEMA_VERSION`]; `Ok(None)` when it already is.
pub(crate) fn upgrade(path: &Path) -> Result<Option<Upgraded>> {
    if !path.is_file() {
        bail!("journal {} not found", path.display());
    }
    let mut conn =
        Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Rebuilding a table drops it: with foreign keys on, SQLite would refuse, or delete the
    // rows that refer to it. References are compared before and after instead.
    conn.pragma_update(None, "foreign_keys", false)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .with_context(|| format!("journal {} is not an SQLite database", path.display()))?;
    match version {
        v if v == SCHEMA_VERSION => return Ok(None),
        v if v > SCHEMA_VERSION => bail!(
            "journal {} has schema version {v}, newer than this diary's {SCHEMA_VERSION}: \
             upgrade diary instead",
            path.display()
        ),
        0 => bail!(
            "journal {} has no schema version (PRAGMA user_version 0): it was not made from \
             data/schema.sql, so there is nothing to upgrade",
            path.display()
        ),
        1 => {}
        v => bail!("journal {}: schema version {v} is unknown", path.display()),
    }
    let fail = |e: anyhow::Error| {
        e.context(format!(
            "cannot upgrade journal {} (it is unchanged)",
            path.display()
        ))
    };
    preflight(&conn).map_err(fail)?;
    let backup = backup_path(path, version);
    if backup.exists() {
        return Err(fail(anyhow::anyhow!(
            "{} exists already: move it away (it may be the copy of an earlier upgrade) and \
             run `diary upgrade` again",
            backup.display()
        )));
    }
    // A journal in WAL mode keeps recent writes in its -wal file: fold them into the main
    // file first, so that the copy is the whole journal.
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if mode.eq_ignore_ascii_case("wal") {
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    }
    // The write lock first: from here no one else writes the file, so the copy and the
    // upgrade see the same journal.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .with_context(|| {
            format!(
                "journal {} is busy (another program is writing it)",
                path.display()
            )
        })?;
    let result = (|| -> Result<i64> {
        copy_synced(path, &backup)?;
        let before = count_rows(&tx)?;
        tx.execute_batch(V1_TO_V2)
            .context("converting to version 2")?;
        let after = count_rows(&tx)?;
        if before != after {
            bail!("row counts changed while converting ({before} rows before, {after} after)");
        }
        let problems: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if problems > 0 {
            bail!("{problems} row(s) refer to rows that do not exist after converting");
        }
        Ok(after)
    })();
    match result {
        Ok(rows) => {
            tx.commit().context("cannot write the upgraded journal")?;
            Ok(Some(Upgraded {
                from: version,
                to: SCHEMA_VERSION,
                backup,
                rows,
            }))
        }
        Err(e) => {
            drop(tx); // rolls back
            let _ = std::fs::remove_file(&backup);
            Err(fail(e))
        }
    }
}

/// What must hold before anything is written: the file is sound and has every table and
/// column of version 1, and the rebuilt tables no others.
fn preflight(conn: &Connection) -> Result<()> {
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        bail!("SQLite finds the file damaged ({integrity}); restore it from a backup first");
    }
    for (table, columns) in V1 {
        let present = table_columns(conn, table)?;
        if present.is_empty() {
            bail!("table `{table}` is missing: this is not a complete version-1 journal");
        }
        if let Some(c) = columns.iter().find(|c| !present.iter().any(|p| p == *c)) {
            bail!("table `{table}` has no column `{c}`: this is not a complete version-1 journal");
        }
        if REBUILT.contains(table)
            && let Some(extra) = present.iter().find(|p| !columns.contains(&p.as_str()))
        {
            bail!(
                "table `{table}` has a column `{extra}` that schema version 1 does not have; \
                 the upgrade rebuilds `{table}` and would lose it (drop or rename it first)"
            );
        }
    }
    Ok(())
}

fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

fn count_rows(conn: &Connection) -> Result<i64> {
    let mut total = 0;
    for (table, _) in V1 {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })?;
        total += n;
    }
    Ok(total)
}

/// Copies `from` to `to` (a new file) and syncs it to disk.
fn copy_synced(from: &Path, to: &Path) -> Result<()> {
    let mut src =
        std::fs::File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .with_context(|| format!("cannot write {}", to.display()))?;
    std::io::copy(&mut src, &mut dst).with_context(|| format!("cannot write {}", to.display()))?;
    dst.sync_all()
        .with_context(|| format!("cannot write {}", to.display()))?;
    // The copy keeps the journal's permissions (it holds the same personal data).
    let perms = std::fs::metadata(from)?.permissions();
    std::fs::set_permissions(to, perms)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backup_sits_beside_the_journal() {
        assert_eq!(
            backup_path(Path::new("data/journal.sqlite"), 1),
            Path::new("data/journal.v1.sqlite")
        );
        assert_eq!(backup_path(Path::new("j"), 1), Path::new("j.v1"));
    }

    /// The version-1 tables as the upgrade knows them, made into a journal, convert to the
    /// same columns as a new journal of the current schema.
    #[test]
    fn an_upgraded_journal_has_the_new_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        let conn = Connection::open(&path).unwrap();
        for (table, columns) in V1 {
            let cols: Vec<String> = columns
                .iter()
                .map(|c| match *c {
                    "id" => "id INTEGER PRIMARY KEY".to_string(),
                    c => format!("\"{c}\""),
                })
                .collect();
            conn.execute_batch(&format!("CREATE TABLE \"{table}\" ({})", cols.join(", ")))
                .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO academic_years VALUES (1, '2026/2027', '2026-09-01', '2027-05-31');
             INSERT INTO bells VALUES (1, '08:30', '09:15');
             INSERT INTO periods VALUES (1, 1, 'quarter', 1, 'I', '2026-09-01', '2026-10-25');
             PRAGMA user_version = 1;",
        )
        .unwrap();
        drop(conn);
        let done = upgrade(&path).unwrap().unwrap();
        assert_eq!((done.from, done.to, done.rows), (1, 2, 3));
        let fresh = Connection::open_in_memory().unwrap();
        super::super::create_schema(&fresh).unwrap();
        let upgraded = Connection::open(&path).unwrap();
        for table in [
            "periods",
            "bells",
            "remarks",
            "classes",
            "guardians",
            "lessons",
            "marks",
            "period_marks",
        ] {
            assert_eq!(
                table_columns(&upgraded, table).unwrap(),
                table_columns(&fresh, table).unwrap(),
                "{table}"
            );
        }
        assert!(
            upgrade(&path).unwrap().is_none(),
            "a second run has nothing to do"
        );
    }
}
