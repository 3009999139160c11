//! Reading the journal: open read-only, verify the schema, load each table in one query.

use std::borrow::Cow;
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::SCHEMA_VERSION;
use super::model::*;
use crate::finding::Finding;

/// Every table the read model loads, with the columns it reads, in SELECT order. The first
/// `key` columns identify a row in messages.
struct TableSpec {
    name: &'static str,
    columns: &'static [&'static str],
    key: usize,
    order: &'static str,
}

const SCHOOL: TableSpec = TableSpec {
    name: "school",
    columns: &["id", "name", "short_name", "is_demo", "address", "contact"],
    key: 1,
    order: "id",
};
const YEARS: TableSpec = TableSpec {
    name: "academic_years",
    columns: &["id", "name", "starts_on", "ends_on"],
    key: 1,
    order: "id",
};
const PERIODS: TableSpec = TableSpec {
    name: "periods",
    columns: &[
        "id",
        "year_id",
        "kind",
        "number",
        "name",
        "starts_on",
        "ends_on",
    ],
    key: 1,
    order: "id",
};
const HOLIDAYS: TableSpec = TableSpec {
    name: "holidays",
    columns: &["id", "year_id", "name", "starts_on", "ends_on", "grade"],
    key: 1,
    order: "id",
};
const TEACHERS: TableSpec = TableSpec {
    name: "teachers",
    columns: &["id", "last_name", "first_name", "middle_name", "contact"],
    key: 1,
    order: "id",
};
const CLASSES: TableSpec = TableSpec {
    name: "classes",
    columns: &[
        "id",
        "year_id",
        "grade",
        "letter",
        "name",
        "class_teacher_id",
        "shift",
    ],
    key: 1,
    order: "id",
};
const STUDENTS: TableSpec = TableSpec {
    name: "students",
    columns: &["id", "class_id", "last_name", "first_name", "middle_name"],
    key: 1,
    order: "id",
};
const GUARDIANS: TableSpec = TableSpec {
    name: "guardians",
    columns: &[
        "id",
        "last_name",
        "first_name",
        "middle_name",
        "contact",
        "delivery",
        "consent_on",
    ],
    key: 1,
    order: "id",
};
const STUDENT_GUARDIANS: TableSpec = TableSpec {
    name: "student_guardians",
    columns: &["student_id", "guardian_id", "relation"],
    key: 2,
    order: "student_id, guardian_id",
};
const SUBJECTS: TableSpec = TableSpec {
    name: "subjects",
    columns: &["id", "name", "short_name"],
    key: 1,
    order: "id",
};
const GROUPS: TableSpec = TableSpec {
    name: "groups",
    columns: &["id", "class_id", "subject_id", "name"],
    key: 1,
    order: "id",
};
const GROUP_STUDENTS: TableSpec = TableSpec {
    name: "group_students",
    columns: &["group_id", "student_id"],
    key: 2,
    order: "group_id, student_id",
};
const BELLS: TableSpec = TableSpec {
    name: "bells",
    columns: &["shift", "number", "starts_at", "ends_at"],
    key: 2,
    order: "shift, number",
};
const TIMETABLE: TableSpec = TableSpec {
    name: "timetable",
    columns: &[
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
    key: 1,
    order: "id",
};
const LESSONS: TableSpec = TableSpec {
    name: "lessons",
    columns: &[
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
        "homework_minutes",
    ],
    key: 1,
    order: "id",
};
const HOMEWORK_LINKS: TableSpec = TableSpec {
    name: "homework_links",
    columns: &["lesson_id", "url", "title"],
    key: 1,
    order: "lesson_id, rowid",
};
const WORK_TYPES: TableSpec = TableSpec {
    name: "work_types",
    columns: &["id", "name", "weight"],
    key: 1,
    order: "id",
};
const MARKS: TableSpec = TableSpec {
    name: "marks",
    columns: &[
        "id",
        "student_id",
        "lesson_id",
        "work_type_id",
        "value",
        "weight",
        "comment",
        "is_debt",
        "entered_at",
    ],
    key: 1,
    order: "id",
};
const ATTENDANCE: TableSpec = TableSpec {
    name: "attendance",
    columns: &["student_id", "lesson_id", "status", "note"],
    key: 2,
    order: "student_id, lesson_id",
};
const PERIOD_MARKS: TableSpec = TableSpec {
    name: "period_marks",
    columns: &[
        "student_id",
        "subject_id",
        "period_id",
        "value",
        "comment",
        "set_on",
    ],
    key: 3,
    order: "student_id, subject_id, period_id",
};
const REMARKS: TableSpec = TableSpec {
    name: "remarks",
    columns: &[
        "id",
        "student_id",
        "date",
        "teacher_id",
        "subject_id",
        "kind",
        "text",
    ],
    key: 1,
    order: "student_id, date, id",
};
const ANNOUNCEMENTS: TableSpec = TableSpec {
    name: "announcements",
    columns: &[
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
    key: 1,
    order: "id",
};
const EVENTS: TableSpec = TableSpec {
    name: "events",
    columns: &[
        "id",
        "class_id",
        "title",
        "starts_at",
        "ends_at",
        "place",
        "description",
    ],
    key: 1,
    order: "id",
};

const ALL: [&TableSpec; 23] = [
    &SCHOOL,
    &YEARS,
    &PERIODS,
    &HOLIDAYS,
    &TEACHERS,
    &CLASSES,
    &STUDENTS,
    &GUARDIANS,
    &STUDENT_GUARDIANS,
    &SUBJECTS,
    &GROUPS,
    &GROUP_STUDENTS,
    &BELLS,
    &TIMETABLE,
    &LESSONS,
    &HOMEWORK_LINKS,
    &WORK_TYPES,
    &MARKS,
    &ATTENDANCE,
    &PERIOD_MARKS,
    &REMARKS,
    &ANNOUNCEMENTS,
    &EVENTS,
];

/// Another program holds the journal's write lock longer than the build may wait. `diary
/// refresh` counts it as a run to retry, not a failure.
#[derive(Debug)]
pub(crate) struct JournalBusy {
    pub path: std::path::PathBuf,
    pub waited: std::time::Duration,
}

impl std::fmt::Display for JournalBusy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "journal {} is busy: another program (the school's system, an import) has been \
             writing it for {} s; nothing was built — run again later (journal_wait in \
             site.toml sets how long to wait)",
            self.path.display(),
            self.waited.as_secs()
        )
    }
}

impl std::error::Error for JournalBusy {}

/// Whether an error (anywhere in its chain) is SQLite saying the database is locked.
pub(crate) fn is_busy(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    })
}

/// Opens the journal for a build and loads it from one consistent snapshot (a write landing
/// meanwhile is either wholly in or wholly out), waiting up to `wait` for a writer to
/// finish. A writer holding on longer is a [`JournalBusy`] error.
///
/// The marks (the largest table: about half the time of loading) are read on a second
/// connection beside the other tables, the first joining in from the other end of their
/// ids once it is done ([`MarkRanges`]), when both connections are seen to read the same
/// snapshot: the journal's change markers ([`super::markers`]) are the same before the
/// first connection opened and after both began reading, so no write landed in between.
/// Otherwise (a write in between, a second connection that would have to wait for a
/// writer, markers that cannot be read) everything is read on the first connection.
pub(crate) fn load_journal(
    path: &Path,
    wait: std::time::Duration,
) -> Result<(Journal, Vec<Finding>)> {
    load_journal_beside(path, wait).map(|(j, f, _)| (j, f))
}

/// [`load_journal`], saying whether the marks were read on a second connection.
fn load_journal_beside(
    path: &Path,
    wait: std::time::Duration,
) -> Result<(Journal, Vec<Finding>, bool)> {
    let busy = |e: anyhow::Error| {
        if is_busy(&e) {
            anyhow::Error::new(JournalBusy {
                path: path.to_path_buf(),
                waited: wait,
            })
        } else {
            e
        }
    };
    let before = super::markers(path).ok().flatten();
    let conn = open_read_only_waiting(path, wait).map_err(busy)?;
    let map = maps(path);
    let read = || -> Result<(Journal, Vec<Finding>, bool)> {
        begin_snapshot(&conn, map)?;
        let beside = before.as_ref().and_then(|before| {
            let second = begin_beside(path, map)?;
            let after = super::markers(path).ok().flatten()?;
            (&after == before).then_some(second)
        });
        let two = beside.is_some();
        let (journal, findings) = match beside {
            Some(second) => {
                let ranges = MarkRanges::new(&conn)?;
                let ranges = &ranges;
                std::thread::scope(|scope| {
                    let marks = scope.spawn(move || -> Result<_> {
                        let marks = ranges.read_up(&second)?;
                        second.execute_batch("COMMIT")?;
                        Ok(marks)
                    });
                    let rest = read_rest(&conn).and_then(|rest| {
                        let results = read_results(&conn)?;
                        Ok((rest, results, ranges.read_down(&conn)?))
                    });
                    let marks = marks
                        .join()
                        .map_err(|_| anyhow::anyhow!("reading the journal's marks failed"))?;
                    let (rest, results, above) = rest?;
                    let (mut marks, mut found) = marks?;
                    for (more, f) in above.into_iter().rev() {
                        marks.extend(more);
                        found.extend(f);
                    }
                    Ok::<_, anyhow::Error>(assemble(rest, (marks, found), results))
                })?
            }
            None => Journal::load(&conn)?,
        };
        conn.execute_batch("COMMIT")?;
        Ok((journal, findings, two))
    };
    read().map_err(busy)
}

/// How much of the journal file SQLite may map into memory when a build reads it whole
/// (`PRAGMA mmap_size`; SQLite caps it at its own maximum, 2 GiB). Mapped, its pages are
/// read where the kernel keeps them instead of copied, one system call a page, into
/// SQLite's cache: at 20000 pupils a school day's build takes 3 % less time and reading
/// the journal a third less system time (BENCHMARKS.md). A reader holds its snapshot, so no
/// writer shrinks the file under the mapping.
const MAP_JOURNAL: i64 = 1 << 32;

/// Whether a journal at `path` is read through a memory mapping: on a local disk only. On a
/// network share (or a FUSE mount) a read that fails would stop the process with a signal
/// instead of an error SQLite can report.
fn maps(path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: statfs writes into the zeroed struct it is given and reads the
        // NUL-terminated path, which outlives the call.
        let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statfs(c_path.as_ptr(), &mut fs) } != 0 {
            return false;
        }
        // `f_type`'s width differs by architecture.
        #[allow(clippy::unnecessary_cast)]
        local_file_system(fs.f_type as i64)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        false
    }
}

/// Whether a file system type (`statfs`'s `f_type`) keeps its files on this machine: not
/// NFS, SMB/CIFS, FUSE (sshfs and the like), Ceph, AFS or 9P.
fn local_file_system(f_type: i64) -> bool {
    const REMOTE: [i64; 8] = [
        0x6969,      // NFS
        0x517b,      // SMB
        0xfe53_4d42, // SMB2
        0xff53_4d42, // CIFS
        0x6573_5546, // FUSE
        0x00c3_6400, // Ceph
        0x5346_414f, // AFS
        0x0102_1997, // 9P
    ];
    !REMOTE.contains(&f_type)
}

/// Begins a read transaction on `conn` and reads from it, which fixes its snapshot; with
/// `map`, the journal is mapped into memory first ([`MAP_JOURNAL`]).
fn begin_snapshot(conn: &Connection, map: bool) -> Result<()> {
    if map {
        conn.pragma_update(None, "mmap_size", MAP_JOURNAL)?;
    }
    conn.execute_batch("BEGIN")?;
    conn.query_row("SELECT count(*) FROM school", [], |r| r.get::<_, i64>(0))?;
    Ok(())
}

/// A second read-only connection to `path` with its snapshot begun, if it can begin one at
/// once (a writer about to commit in rollback-journal mode would make it wait for a lock
/// the first connection holds); mapped into memory with `map`, as the first one.
fn begin_beside(path: &Path, map: bool) -> Option<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    conn.busy_timeout(std::time::Duration::ZERO).ok()?;
    begin_snapshot(&conn, map).ok()?;
    Some(conn)
}

/// Opens a journal read-only and checks its schema version and tables. The build never
/// writes the journal: SQLite itself refuses any write through this connection.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    open_read_only_waiting(path, std::time::Duration::from_secs(5))
}

/// [`open_read_only`], waiting up to `wait` for a writer to let go of the journal.
fn open_read_only_waiting(path: &Path, wait: std::time::Duration) -> Result<Connection> {
    if !path.is_file() {
        bail!(
            "journal {} not found (set `journal` in site.toml, run `diary demo` for the demo \
             school, or `diary import csv DIR` to load your own)",
            path.display()
        );
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open journal {}", path.display()))?;
    conn.busy_timeout(wait)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .with_context(|| format!("journal {} is not an SQLite database", path.display()))?;
    if version != SCHEMA_VERSION {
        bail!("{}", super::version_problem(path, version));
    }
    verify_tables(&conn).with_context(|| format!("journal {}", path.display()))?;
    Ok(conn)
}

fn verify_tables(conn: &Connection) -> Result<()> {
    for spec in ALL {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
        let present: Vec<String> = stmt
            .query_map([spec.name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if present.is_empty() {
            bail!(
                "table `{}` is missing (schema v{SCHEMA_VERSION} needs it; see docs/journal.md)",
                spec.name
            );
        }
        for column in spec.columns {
            if !present.iter().any(|p| p == column) {
                bail!(
                    "table `{}` has no column `{column}` (see docs/journal.md)",
                    spec.name
                );
            }
        }
    }
    Ok(())
}

/// A value that does not fit its column.
struct Bad {
    column: &'static str,
    message: String,
}

/// One row being read, with typed accessors that name the column on failure.
struct Cells<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    columns: &'static [&'static str],
    /// The column after the one read last: rows are read in the spec's order, so the next
    /// column asked for is nearly always this one (half a million marks are read by name).
    next: std::cell::Cell<usize>,
}

fn show(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!("a blob of {} bytes", b.len()),
    }
}

impl Cells<'_, '_> {
    /// The position of a column in the row (the columns of the table's spec).
    fn index(&self, column: &'static str) -> usize {
        let next = self.next.get();
        let at = if self.columns.get(next) == Some(&column) {
            next
        } else {
            self.columns
                .iter()
                .position(|c| *c == column)
                .unwrap_or_else(|| panic!("`{column}` is not a column of this table's spec"))
        };
        self.next.set(at + 1);
        at
    }

    fn raw(&self, column: &'static str) -> ValueRef<'_> {
        self.row
            .get_ref(self.index(column))
            .unwrap_or(ValueRef::Null)
    }

    fn bad(&self, column: &'static str, what: &str) -> Bad {
        Bad {
            column,
            message: format!("{} {what}", show(self.raw(column))),
        }
    }

    fn opt_int(&self, column: &'static str) -> Result<Option<i64>, Bad> {
        match self.raw(column) {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n)),
            ValueRef::Real(f) if f.fract() == 0.0 => Ok(Some(f as i64)),
            ValueRef::Text(t) => match std::str::from_utf8(t).ok().map(str::trim) {
                Some("") => Ok(None),
                Some(s) => s
                    .parse()
                    .map(Some)
                    .map_err(|_| self.bad(column, "is not a whole number")),
                None => Err(self.bad(column, "is not a whole number")),
            },
            _ => Err(self.bad(column, "is not a whole number")),
        }
    }

    fn int(&self, column: &'static str) -> Result<i64, Bad> {
        self.opt_int(column)?
            .ok_or_else(|| self.bad(column, "is empty"))
    }

    fn opt_real(&self, column: &'static str) -> Result<Option<f64>, Bad> {
        match self.raw(column) {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n as f64)),
            ValueRef::Real(f) => Ok(Some(f)),
            ValueRef::Text(t) => match std::str::from_utf8(t).ok().map(str::trim) {
                Some("") => Ok(None),
                Some(s) => s
                    .replace(',', ".")
                    .parse()
                    .map(Some)
                    .map_err(|_| self.bad(column, "is not a number")),
                None => Err(self.bad(column, "is not a number")),
            },
            ValueRef::Blob(_) => Err(self.bad(column, "is not a number")),
        }
    }

    /// The text of a cell, borrowed from the row when it is stored as text; `None` when
    /// empty or white space.
    fn opt_str(&self, column: &'static str) -> Result<Option<Cow<'_, str>>, Bad> {
        match self.raw(column) {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(Cow::Owned(n.to_string()))),
            ValueRef::Real(f) => Ok(Some(Cow::Owned(f.to_string()))),
            ValueRef::Text(t) => match std::str::from_utf8(t) {
                Ok(s) if s.trim().is_empty() => Ok(None),
                Ok(s) => Ok(Some(Cow::Borrowed(s))),
                Err(_) => Err(self.bad(column, "is not valid UTF-8 text")),
            },
            ValueRef::Blob(_) => Err(self.bad(column, "is not text")),
        }
    }

    fn opt_text(&self, column: &'static str) -> Result<Option<String>, Bad> {
        Ok(self.opt_str(column)?.map(Cow::into_owned))
    }

    /// [`Cells::opt_str`] of a column that must not be empty.
    fn str(&self, column: &'static str) -> Result<Cow<'_, str>, Bad> {
        self.opt_str(column)?
            .ok_or_else(|| self.bad(column, "is empty"))
    }

    fn text(&self, column: &'static str) -> Result<String, Bad> {
        self.opt_text(column)?
            .ok_or_else(|| self.bad(column, "is empty"))
    }

    fn flag(&self, column: &'static str) -> Result<bool, Bad> {
        match self.opt_int(column) {
            Ok(None) | Ok(Some(0)) => Ok(false),
            Ok(Some(1)) => Ok(true),
            _ => Err(self.bad(column, "is not 0 or 1")),
        }
    }

    fn opt_date(&self, column: &'static str) -> Result<Option<NaiveDate>, Bad> {
        match self.opt_str(column)? {
            None => Ok(None),
            Some(s) => parse_date(s.trim())
                .map(Some)
                .ok_or_else(|| self.bad(column, "is not a valid date (YYYY-MM-DD)")),
        }
    }

    fn date(&self, column: &'static str) -> Result<NaiveDate, Bad> {
        self.opt_date(column)?
            .ok_or_else(|| self.bad(column, "is empty"))
    }

    fn opt_datetime(&self, column: &'static str) -> Result<Option<NaiveDateTime>, Bad> {
        match self.opt_str(column)? {
            None => Ok(None),
            Some(s) => parse_datetime(s.trim())
                .map(Some)
                .ok_or_else(|| self.bad(column, "is not a valid date and time (YYYY-MM-DD HH:MM)")),
        }
    }

    fn datetime(&self, column: &'static str) -> Result<NaiveDateTime, Bad> {
        self.opt_datetime(column)?
            .ok_or_else(|| self.bad(column, "is empty"))
    }

    fn time(&self, column: &'static str) -> Result<String, Bad> {
        let s = self.text(column)?;
        parse_time(s.trim())
            .map(|t| t.format("%H:%M").to_string())
            .ok_or_else(|| self.bad(column, "is not a valid time (HH:MM)"))
    }
}

/// Parses a strict ISO date `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 10 {
        return None;
    }
    // The form every journal writes, read without chrono's general parser (a journal holds
    // hundreds of thousands of dates); anything else goes through it.
    let b = s.as_bytes();
    if b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..]))
    {
        return NaiveDate::from_ymd_opt(y as i32, m, d);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The number an all-digit ASCII string writes.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// Parses `YYYY-MM-DD HH:MM[:SS]` (a `T` may separate date and time) or a bare date
/// (midnight).
pub(crate) fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    if let Some(d) = parse_date(s) {
        return d.and_hms_opt(0, 0, 0);
    }
    let (date, time) = s.split_at_checked(10)?;
    let time = time.strip_prefix(' ').or_else(|| time.strip_prefix('T'))?;
    Some(parse_date(date)?.and_time(parse_time(time)?))
}

/// Parses `HH:MM` or `HH:MM:SS`.
pub(crate) fn parse_time(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    if b.len() == 5
        && b[2] == b':'
        && let (Some(h), Some(m)) = (digits(&b[..2]), digits(&b[3..]))
    {
        return NaiveTime::from_hms_opt(h, m, 0);
    }
    if b.len() == 8
        && b[2] == b':'
        && b[5] == b':'
        && let (Some(h), Some(m), Some(sec)) = (digits(&b[..2]), digits(&b[3..5]), digits(&b[6..]))
    {
        return NaiveTime::from_hms_opt(h, m, sec);
    }
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .ok()
}

fn load_table<T>(
    conn: &Connection,
    spec: &TableSpec,
    findings: &mut Vec<Finding>,
    read: impl Fn(&Cells) -> Result<T, Bad>,
) -> Result<Vec<T>> {
    // Sized once: a growing vector of half a million marks would hold its old and new
    // buffers at once, the build's peak memory.
    let mut out = Vec::with_capacity(row_count(conn, spec)?);
    load_rows(conn, spec, None, &mut out, findings, read)?;
    Ok(out)
}

/// The number of rows of a table.
fn row_count(conn: &Connection, spec: &TableSpec) -> Result<usize> {
    let count: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM \"{}\"", spec.name),
            [],
            |r| r.get(0),
        )
        .with_context(|| format!("cannot read table `{}`", spec.name))?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// Reads the rows of a table (those whose `id` is in `ids`, when given) into `out`, in the
/// spec's order; a row that cannot be read is a finding.
fn load_rows<T>(
    conn: &Connection,
    spec: &TableSpec,
    ids: Option<(i64, i64)>,
    out: &mut Vec<T>,
    findings: &mut Vec<Finding>,
    read: impl Fn(&Cells) -> Result<T, Bad>,
) -> Result<()> {
    let sql = format!(
        "SELECT {} FROM \"{}\"{} ORDER BY {}",
        spec.columns.join(", "),
        spec.name,
        if ids.is_some() {
            " WHERE id BETWEEN ?1 AND ?2"
        } else {
            ""
        },
        spec.order
    );
    let mut stmt = conn
        .prepare(&sql)
        .with_context(|| format!("cannot read table `{}`", spec.name))?;
    let mut rows = match ids {
        Some((first, last)) => stmt.query([first, last])?,
        None => stmt.query([])?,
    };
    while let Some(row) = rows
        .next()
        .with_context(|| format!("cannot read table `{}`", spec.name))?
    {
        let cells = Cells {
            row,
            columns: spec.columns,
            next: Default::default(),
        };
        match read(&cells) {
            Ok(v) => out.push(v),
            Err(bad) => {
                let key = (0..spec.key)
                    .map(|i| {
                        format!(
                            "{} {}",
                            spec.columns[i],
                            show(cells.raw(spec.columns[i])).trim_matches('\'')
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                findings.push(Finding::error(
                    spec.name,
                    key,
                    Some(bad.column),
                    bad.message,
                ));
            }
        }
    }
    Ok(())
}

/// The `external_ids` rows of pupils and guardians, sorted (none when the table is absent:
/// it is optional, written only by importers that track their sources).
fn load_external_ids(conn: &Connection) -> Result<Vec<ExternalId>> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'external_ids')",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(
            "SELECT kind, local_id, source, external_id FROM external_ids \
             WHERE kind IN ('students', 'guardians') ORDER BY kind, local_id, source",
        )
        .context("table `external_ids`")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(ExternalId {
                kind: r.get(0)?,
                local_id: r.get(1)?,
                source: r.get(2)?,
                external_id: r.get(3)?,
            })
        })
        .context("table `external_ids`")?;
    rows.collect::<rusqlite::Result<_>>()
        .context("table `external_ids`: a value does not fit its column")
}

impl Journal {
    /// Loads every table. Rows with values that do not fit their columns are left out and
    /// reported as findings; a missing table or an unreadable database is an error.
    pub(crate) fn load(conn: &Connection) -> Result<(Journal, Vec<Finding>)> {
        let rest = read_rest(conn)?;
        let marks = read_marks(conn)?;
        Ok(assemble(rest, marks, read_results(conn)?))
    }
}

/// Every table but the results, with the findings of the tables read before the results
/// and of those read after them.
type Rest = (Journal, Vec<Finding>, Vec<Finding>);

/// The marks, with their findings.
type Marks = (Vec<Mark>, Vec<Finding>);

/// The other results tables, with their findings.
struct Results {
    attendance: Vec<Attendance>,
    period_marks: Vec<PeriodMark>,
    remarks: Vec<Remark>,
    findings: Vec<Finding>,
}

fn read_rest(conn: &Connection) -> Result<Rest> {
    let mut f = Vec::new();
    let mut j = Journal {
        school: load_school(conn, &mut f)?,
        ..Journal::default()
    };
    load_calendar(conn, &mut j, &mut f)?;
    load_people(conn, &mut j, &mut f)?;
    load_lessons(conn, &mut j, &mut f)?;
    let mut after = Vec::new();
    load_news(conn, &mut j, &mut after)?;
    j.external_ids = load_external_ids(conn)?;
    Ok((j, f, after))
}

/// The journal with its findings in table order, whichever connection read what.
fn assemble(
    (mut j, mut f, after): Rest,
    (marks, marks_found): Marks,
    results: Results,
) -> (Journal, Vec<Finding>) {
    j.marks = marks;
    f.extend(marks_found);
    j.attendance = results.attendance;
    j.period_marks = results.period_marks;
    j.remarks = results.remarks;
    f.extend(results.findings);
    f.extend(after);
    (j, f)
}

/// The school: the first row of `school` (an empty table is an error finding).
fn load_school(conn: &Connection, f: &mut Vec<Finding>) -> Result<School> {
    let schools = load_table(conn, &SCHOOL, f, |c| {
        Ok(School {
            id: c.int("id")?,
            name: c.text("name")?,
            short_name: c.opt_text("short_name")?.unwrap_or_default(),
            is_demo: c.flag("is_demo")?,
            address: c.opt_text("address")?,
            contact: c.opt_text("contact")?,
        })
    })?;
    if schools.len() > 1 {
        f.push(Finding::warning(
            "school",
            format!("id {}", schools[1].id),
            None,
            "the journal holds more than one school; only the first is used",
        ));
    }
    let school = match schools.into_iter().next() {
        Some(s) => s,
        None => {
            f.push(Finding::error(
                "school",
                String::new(),
                None,
                "the table is empty: the journal needs one row naming the school",
            ));
            School::default()
        }
    };
    Ok(school)
}

/// The school year: years, periods, holidays.
fn load_calendar(conn: &Connection, j: &mut Journal, f: &mut Vec<Finding>) -> Result<()> {
    j.years = load_table(conn, &YEARS, f, |c| {
        Ok(AcademicYear {
            id: c.int("id")?,
            name: c.text("name")?,
            starts_on: c.date("starts_on")?,
            ends_on: c.date("ends_on")?,
        })
    })?;
    j.periods = load_table(conn, &PERIODS, f, |c| {
        Ok(Period {
            id: c.int("id")?,
            year_id: c.int("year_id")?,
            kind: PeriodKind::parse(&c.str("kind")?).ok_or_else(|| {
                c.bad(
                    "kind",
                    "is not one of quarter, trimester, half, year, exam, final",
                )
            })?,
            number: c.int("number")?,
            name: c.text("name")?,
            starts_on: c.date("starts_on")?,
            ends_on: c.date("ends_on")?,
        })
    })?;
    j.holidays = load_table(conn, &HOLIDAYS, f, |c| {
        Ok(Holiday {
            id: c.int("id")?,
            year_id: c.int("year_id")?,
            name: c.text("name")?,
            starts_on: c.date("starts_on")?,
            ends_on: c.date("ends_on")?,
            grade: c.opt_int("grade")?,
        })
    })?;
    Ok(())
}

/// People and groups: teachers, classes, pupils, guardians, subjects, subgroups.
fn load_people(conn: &Connection, j: &mut Journal, f: &mut Vec<Finding>) -> Result<()> {
    j.teachers = load_table(conn, &TEACHERS, f, |c| {
        Ok(Teacher {
            id: c.int("id")?,
            last_name: c.text("last_name")?,
            first_name: c.text("first_name")?,
            middle_name: c.opt_text("middle_name")?,
            contact: c.opt_text("contact")?,
        })
    })?;
    j.classes = load_table(conn, &CLASSES, f, |c| {
        Ok(Class {
            id: c.int("id")?,
            year_id: c.int("year_id")?,
            grade: c.int("grade")?,
            letter: c.opt_text("letter")?.unwrap_or_default(),
            name: c.text("name")?,
            class_teacher_id: c.opt_int("class_teacher_id")?,
            shift: match c.opt_int("shift")? {
                None => 1,
                Some(s @ (1 | 2)) => s,
                Some(_) => return Err(c.bad("shift", "is not 1 or 2")),
            },
        })
    })?;
    j.students = load_table(conn, &STUDENTS, f, |c| {
        Ok(Student {
            id: c.int("id")?,
            class_id: c.int("class_id")?,
            last_name: c.text("last_name")?,
            first_name: c.text("first_name")?,
            middle_name: c.opt_text("middle_name")?,
        })
    })?;
    j.guardians = load_table(conn, &GUARDIANS, f, |c| {
        Ok(Guardian {
            id: c.int("id")?,
            last_name: c.text("last_name")?,
            first_name: c.text("first_name")?,
            middle_name: c.opt_text("middle_name")?,
            contact: c.opt_text("contact")?,
            delivery: Delivery::parse(&c.opt_text("delivery")?.unwrap_or_default()),
            consent_on: c.opt_date("consent_on")?,
        })
    })?;
    j.student_guardians = load_table(conn, &STUDENT_GUARDIANS, f, |c| {
        Ok(StudentGuardian {
            student_id: c.int("student_id")?,
            guardian_id: c.int("guardian_id")?,
            relation: c.opt_text("relation")?,
        })
    })?;
    j.subjects = load_table(conn, &SUBJECTS, f, |c| {
        let name = c.text("name")?;
        Ok(Subject {
            id: c.int("id")?,
            short_name: c.opt_text("short_name")?.unwrap_or_else(|| name.clone()),
            name,
        })
    })?;
    j.groups = load_table(conn, &GROUPS, f, |c| {
        Ok(Group {
            id: c.int("id")?,
            class_id: c.int("class_id")?,
            subject_id: c.int("subject_id")?,
            name: c.text("name")?,
        })
    })?;
    j.group_students = load_table(conn, &GROUP_STUDENTS, f, |c| {
        Ok(GroupStudent {
            group_id: c.int("group_id")?,
            student_id: c.int("student_id")?,
        })
    })?;
    Ok(())
}

/// The timetable and the lessons: bells, weekly plan, lessons, homework links, work types.
fn load_lessons(conn: &Connection, j: &mut Journal, f: &mut Vec<Finding>) -> Result<()> {
    j.bells = load_table(conn, &BELLS, f, |c| {
        Ok(Bell {
            shift: c.opt_int("shift")?.unwrap_or(1),
            number: c.int("number")?,
            starts_at: c.time("starts_at")?,
            ends_at: c.time("ends_at")?,
        })
    })?;
    j.timetable = load_table(conn, &TIMETABLE, f, |c| {
        Ok(TimetableEntry {
            id: c.int("id")?,
            class_id: c.int("class_id")?,
            group_id: c.opt_int("group_id")?,
            subject_id: c.int("subject_id")?,
            teacher_id: c.opt_int("teacher_id")?,
            weekday: c.int("weekday")?,
            number: c.int("number")?,
            room: c.opt_str("room")?.map(ShortText::from),
            starts_on: c.opt_date("starts_on")?,
            ends_on: c.opt_date("ends_on")?,
        })
    })?;
    j.lessons = load_table(conn, &LESSONS, f, |c| {
        Ok(Lesson {
            id: c.int("id")?,
            class_id: c.int("class_id")?,
            group_id: c.opt_int("group_id")?,
            subject_id: c.int("subject_id")?,
            teacher_id: c.opt_int("teacher_id")?,
            substitute_teacher_id: c.opt_int("substitute_teacher_id")?,
            date: c.date("date")?,
            number: c.int("number")?,
            room: c.opt_str("room")?.map(ShortText::from),
            topic: c.opt_text("topic")?,
            homework: c.opt_text("homework")?,
            homework_due: c.opt_date("homework_due")?,
            cancelled: c.flag("cancelled")?,
            homework_minutes: c.opt_int("homework_minutes")?,
        })
    })?;
    j.homework_links = load_table(conn, &HOMEWORK_LINKS, f, |c| {
        Ok(HomeworkLink {
            lesson_id: c.int("lesson_id")?,
            url: c.text("url")?,
            title: c.opt_text("title")?,
        })
    })?;
    j.work_types = load_table(conn, &WORK_TYPES, f, |c| {
        Ok(WorkType {
            id: c.int("id")?,
            name: c.text("name")?,
            weight: c.opt_real("weight")?.unwrap_or(1.0),
        })
    })?;
    Ok(())
}

/// The marks.
fn read_marks(conn: &Connection) -> Result<Marks> {
    let mut f = Vec::new();
    let marks = load_table(conn, &MARKS, &mut f, read_mark)?;
    Ok((marks, f))
}

fn read_mark(c: &Cells) -> Result<Mark, Bad> {
    Ok(Mark {
        id: c.int("id")?,
        student_id: c.int("student_id")?,
        lesson_id: c.int("lesson_id")?,
        work_type_id: c.opt_int("work_type_id")?,
        value: c.opt_str("value")?.map(|v| ShortText::from(v.trim())),
        weight: c.opt_real("weight")?,
        comment: c.opt_str("comment")?.map(Box::from),
        is_debt: c.flag("is_debt")?,
        entered_at: c.opt_datetime("entered_at")?,
    })
}

/// The marks cut into ranges of ids, for two connections in one snapshot to read side by
/// side: one from the lowest range up, the other (once it has read every other table) from
/// the highest down, until they meet. The marks are the largest table: read by one
/// connection while the other reads everything else, they were the last to be read alone.
struct MarkRanges {
    ranges: Vec<(i64, i64)>,
    /// The next range from below, and the one after the next from above.
    cursor: std::sync::Mutex<(usize, usize)>,
    /// How many marks there are, once the side from below has counted them: the side from
    /// above sizes each range's vector from it ([`MarkRanges::expected`]).
    count: std::sync::OnceLock<usize>,
}

/// How many ranges the marks are cut into.
const MARK_RANGES: i64 = 32;

impl MarkRanges {
    fn new(conn: &Connection) -> Result<MarkRanges> {
        let (first, last): (Option<i64>, Option<i64>) = conn
            // Two subqueries: each is one step down the table's tree, where one query
            // with both would read every row.
            .query_row(
                "SELECT (SELECT min(id) FROM marks), (SELECT max(id) FROM marks)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .context("cannot read table `marks`")?;
        let ranges = match (first, last) {
            (Some(first), Some(last)) => id_ranges(first, last, MARK_RANGES),
            _ => Vec::new(),
        };
        let n = ranges.len();
        Ok(MarkRanges {
            ranges,
            cursor: std::sync::Mutex::new((0, n)),
            count: std::sync::OnceLock::new(),
        })
    }

    fn take(&self, from_below: bool) -> Option<(i64, i64)> {
        let mut cursor = self.cursor.lock().ok()?;
        let (below, above) = &mut *cursor;
        if below >= above {
            return None;
        }
        let at = if from_below {
            *below += 1;
            *below - 1
        } else {
            *above -= 1;
            *above
        };
        Some(self.ranges[at])
    }

    /// The ranges from below, as many as `conn` reads before the other side meets it,
    /// into one vector sized for every mark.
    fn read_up(&self, conn: &Connection) -> Result<Marks> {
        let count = row_count(conn, &MARKS)?;
        // Set once; a second call (none in a load) would count the same table.
        let _ = self.count.set(count);
        let mut marks = Vec::with_capacity(count);
        let mut f = Vec::new();
        while let Some(ids) = self.take(true) {
            load_rows(conn, &MARKS, Some(ids), &mut marks, &mut f, read_mark)?;
        }
        Ok((marks, f))
    }

    /// The ranges from above that `conn` reads before meeting the other side, highest
    /// first.
    fn read_down(&self, conn: &Connection) -> Result<Vec<Marks>> {
        let mut out = Vec::new();
        while let Some(ids) = self.take(false) {
            let (mut marks, mut f) = (Vec::with_capacity(self.expected(ids)), Vec::new());
            load_rows(conn, &MARKS, Some(ids), &mut marks, &mut f, read_mark)?;
            out.push((marks, f));
        }
        Ok(out)
    }

    /// How many marks the range of ids `lo..=hi` is expected to hold, with an eighth to
    /// spare, when the ids are spread evenly over the table's: 0 until the side from below
    /// has counted the marks. A range read into a vector of that size is written once; one
    /// growing from empty copied its marks at each step, into memory touched for the first
    /// time (`diary check` at 20000 pupils: 338000 → 320000 page faults, system time 0.91 →
    /// 0.83 s). Room left unused is never touched.
    fn expected(&self, (lo, hi): (i64, i64)) -> usize {
        let (Some(&count), Some(first), Some(last)) =
            (self.count.get(), self.ranges.first(), self.ranges.last())
        else {
            return 0;
        };
        // In 128 bits, as in `id_ranges` (a span of 64-bit ids may not fit in 64); a share
        // beyond every mark is every mark.
        let span = i128::from(last.1) - i128::from(first.0) + 1;
        let width = i128::from(hi) - i128::from(lo) + 1;
        let share = i128::try_from(count)
            .unwrap_or(i128::MAX)
            .saturating_mul(width)
            / span.max(1);
        usize::try_from(share + share / 8 + 64)
            .unwrap_or(count)
            .min(count)
    }
}

/// `first..=last` cut into about `n` ranges of ids, in order, each next to the one before.
fn id_ranges(first: i64, last: i64, n: i64) -> Vec<(i64, i64)> {
    // In 128 bits: the span of two 64-bit ids may not fit in 64.
    let (first, last) = (i128::from(first), i128::from(last));
    let step = ((last - first + 1) / i128::from(n.max(1))).max(1);
    let mut ranges = Vec::new();
    let mut at = first;
    while at <= last {
        let end = if last - at + 1 < 2 * step {
            last
        } else {
            at + step - 1
        };
        // Both within `first..=last`, so within 64 bits.
        ranges.push((at as i64, end as i64));
        at = end + 1;
    }
    ranges
}

/// The other results: attendance, period marks, remarks.
fn read_results(conn: &Connection) -> Result<Results> {
    let f = &mut Vec::new();
    let attendance = load_table(conn, &ATTENDANCE, f, |c| {
        Ok(Attendance {
            student_id: c.int("student_id")?,
            lesson_id: c.int("lesson_id")?,
            status: AttendanceStatus::parse(&c.str("status")?).ok_or_else(|| {
                c.bad(
                    "status",
                    "is not one of absent, ill, excused, unexcused, late",
                )
            })?,
            note: c.opt_text("note")?,
        })
    })?;
    let period_marks = load_table(conn, &PERIOD_MARKS, f, |c| {
        Ok(PeriodMark {
            student_id: c.int("student_id")?,
            subject_id: c.int("subject_id")?,
            period_id: c.int("period_id")?,
            value: ShortText::from(c.str("value")?.trim()),
            comment: c.opt_text("comment")?,
            set_on: c.opt_date("set_on")?,
        })
    })?;
    let remarks = load_table(conn, &REMARKS, f, |c| {
        Ok(Remark {
            id: c.int("id")?,
            student_id: c.int("student_id")?,
            date: c.date("date")?,
            teacher_id: c.opt_int("teacher_id")?,
            subject_id: c.opt_int("subject_id")?,
            kind: RemarkKind::parse(c.text("kind")?.trim()).ok_or_else(|| {
                c.bad(
                    "kind",
                    "is not one of behaviour, achievement, concern, praise",
                )
            })?,
            text: c.text("text")?,
        })
    })?;
    Ok(Results {
        attendance,
        period_marks,
        remarks,
        findings: std::mem::take(f),
    })
}

/// News: announcements and events.
fn load_news(conn: &Connection, j: &mut Journal, f: &mut Vec<Finding>) -> Result<()> {
    j.announcements = load_table(conn, &ANNOUNCEMENTS, f, |c| {
        let audience =
            match c.text("audience")?.as_str() {
                "school" => Audience::School,
                "grade" => Audience::Grade(c.opt_int("grade")?.ok_or_else(|| {
                    c.bad("grade", "is empty, but audience 'grade' needs a grade")
                })?),
                "class" => Audience::Class(c.opt_int("class_id")?.ok_or_else(|| {
                    c.bad(
                        "class_id",
                        "is empty, but audience 'class' needs a class_id",
                    )
                })?),
                _ => return Err(c.bad("audience", "is not one of school, grade, class")),
            };
        Ok(Announcement {
            id: c.int("id")?,
            audience,
            title: c.text("title")?,
            body_md: c.opt_text("body_md")?.unwrap_or_default(),
            published_at: c.datetime("published_at")?,
            expires_at: c.opt_datetime("expires_at")?,
            pinned: c.flag("pinned")?,
            author: c.opt_text("author")?,
        })
    })?;
    j.events = load_table(conn, &EVENTS, f, |c| {
        Ok(Event {
            id: c.int("id")?,
            class_id: c.opt_int("class_id")?,
            title: c.text("title")?,
            starts_at: c.datetime("starts_at")?,
            ends_at: c.opt_datetime("ends_at")?,
            place: c.opt_text("place")?,
            description: c.opt_text("description")?,
            uid: None,
        })
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A journal with bad rows in the marks (read on the second connection) and around
    /// them (on the first), in `mode` (`wal` or `delete`).
    fn broken_journal(mode: &str) -> (tempfile::TempDir, crate::config::Site) {
        let (tmp, site) = crate::demo::test_site(20);
        let conn = Connection::open(site.journal_path()).unwrap();
        conn.pragma_update(None, "journal_mode", mode).unwrap();
        // What the schema's own checks would refuse: as a journal written by other tools
        // may hold it.
        conn.pragma_update(None, "ignore_check_constraints", true)
            .unwrap();
        conn.execute_batch(
            "UPDATE marks SET entered_at = 'soon' WHERE id = (SELECT min(id) FROM marks);
             UPDATE marks SET entered_at = 'later' WHERE id = (SELECT max(id) FROM marks);
             UPDATE attendance SET status = 'away'
                WHERE rowid = (SELECT min(rowid) FROM attendance);
             UPDATE lessons SET date = '2026-13-01' WHERE id = (SELECT max(id) FROM lessons);
             UPDATE announcements SET audience = 'town'
                WHERE id = (SELECT min(id) FROM announcements);",
        )
        .unwrap();
        (tmp, site)
    }

    #[test]
    fn marks_read_beside_the_rest_give_the_journal_read_in_one_go() {
        for mode in ["wal", "delete"] {
            let (_tmp, site) = broken_journal(mode);
            let path = site.journal_path();
            // Both connections begin on the same snapshot.
            let before = super::super::markers(&path).unwrap();
            assert!(
                before.is_some(),
                "{mode}: the markers stand for the journal"
            );
            let (beside, beside_found, two) =
                load_journal_beside(&path, std::time::Duration::from_secs(1)).unwrap();
            assert!(two, "{mode}: the marks were read on a second connection");
            let conn = open_read_only(&path).unwrap();
            let (alone, alone_found) = Journal::load(&conn).unwrap();
            assert_eq!(format!("{beside:?}"), format!("{alone:?}"), "{mode}");
            let text = |f: &[Finding]| f.iter().map(ToString::to_string).collect::<Vec<_>>();
            assert_eq!(text(&beside_found), text(&alone_found), "{mode}");
            // In table order: the lessons' finding, the marks' (first id first), the
            // attendance's, then the announcements'.
            let tables: Vec<String> = beside_found
                .iter()
                .map(|f| f.to_string().split_whitespace().next().unwrap().to_string())
                .collect();
            assert_eq!(tables.len(), 5, "{mode}: {tables:?}");
            let marks: Vec<String> = text(&beside_found)
                .into_iter()
                .filter(|f| f.starts_with("error: marks "))
                .collect();
            assert!(
                marks.len() == 2 && marks[0].contains("soon") && marks[1].contains("later"),
                "{mode}: {marks:?}"
            );
            assert!(!beside.marks.is_empty() && !beside.lessons.is_empty());
        }
    }

    /// The broken journal's marks read in one go, and its marks cut into ranges.
    fn marks_and_ranges() -> (tempfile::TempDir, Connection, Marks, MarkRanges) {
        let (tmp, site) = broken_journal("wal");
        let conn = open_read_only(&site.journal_path()).unwrap();
        let all = read_marks(&conn).unwrap();
        let ranges = MarkRanges::new(&conn).unwrap();
        (tmp, conn, all, ranges)
    }

    #[test]
    fn a_journal_read_whole_is_mapped_into_memory() {
        let (_tmp, site) = broken_journal("wal");
        let conn = open_read_only(&site.journal_path()).unwrap();
        assert_eq!(mapped(&conn), 0, "SQLite's default: read through its cache");
        assert!(
            maps(&site.journal_path()),
            "a temporary folder is on a local disk"
        );
        begin_snapshot(&conn, true).unwrap();
        assert!(mapped(&conn) >= 1 << 30, "{}", mapped(&conn));
        let beside = begin_beside(&site.journal_path(), true).expect("a second snapshot");
        assert_eq!(mapped(&beside), mapped(&conn));
        // Read whole through the mapping, as through the cache.
        let (through_map, _) = read_marks(&beside).unwrap();
        let plain = open_read_only(&site.journal_path()).unwrap();
        let (through_cache, _) = read_marks(&plain).unwrap();
        assert!(!through_map.is_empty());
        assert_eq!(format!("{through_map:?}"), format!("{through_cache:?}"));
    }

    #[test]
    fn a_journal_on_a_network_share_is_read_without_a_mapping() {
        assert!(!local_file_system(0x6969), "NFS");
        assert!(!local_file_system(0xff53_4d42), "CIFS");
        assert!(local_file_system(0xef53), "ext4");
        assert!(local_file_system(0x0102_1994), "tmpfs");
        assert!(!maps(Path::new("/no/such/folder/journal.sqlite")));
        let (_tmp, site) = broken_journal("wal");
        let conn = open_read_only(&site.journal_path()).unwrap();
        begin_snapshot(&conn, false).unwrap();
        assert_eq!(mapped(&conn), 0);
    }

    /// How much of its file a connection maps into memory (`PRAGMA mmap_size`).
    fn mapped(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "mmap_size", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn marks_read_from_both_ends_meet_and_keep_their_order() {
        let (_tmp, conn, (all, all_found), ranges) = marks_and_ranges();
        assert_eq!(ranges.ranges.len() as i64, MARK_RANGES);
        // Three ranges read from above first (the first connection got there early), the
        // rest from below, put together as the load does.
        let mut above = Vec::new();
        for _ in 0..3 {
            let ids = ranges.take(false).unwrap();
            let (mut marks, mut f) = (Vec::new(), Vec::new());
            load_rows(&conn, &MARKS, Some(ids), &mut marks, &mut f, read_mark).unwrap();
            assert!(!marks.is_empty());
            above.push((marks, f));
        }
        let (mut marks, mut found) = ranges.read_up(&conn).unwrap();
        assert!(ranges.read_down(&conn).unwrap().is_empty(), "they met");
        for (more, f) in above.into_iter().rev() {
            marks.extend(more);
            found.extend(f);
        }
        assert_eq!(format!("{marks:?}"), format!("{all:?}"));
        let text = |f: &[Finding]| f.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(text(&found), text(&all_found));
        assert_eq!(found.len(), 2, "the first and the last mark are broken");
    }

    #[test]
    fn marks_read_from_above_are_read_into_vectors_sized_once() {
        let (_tmp, conn, (all, _), ranges) = marks_and_ranges();
        assert_eq!(ranges.expected(ranges.ranges[0]), 0, "nothing counted yet");
        ranges.count.set(all.len()).unwrap();
        // Every range read from above (as when the side from below is slow to start).
        let down = ranges.read_down(&conn).unwrap();
        assert_eq!(down.len(), ranges.ranges.len());
        for ((marks, _), ids) in down.iter().zip(ranges.ranges.iter().rev()) {
            // A vector that had to grow would have more room than it was given.
            assert_eq!(marks.capacity(), ranges.expected(*ids), "{ids:?}");
            assert!(marks.len() <= marks.capacity());
        }
        let read: Vec<&Mark> = down.iter().rev().flat_map(|(m, _)| m).collect();
        assert_eq!(
            format!("{read:?}"),
            format!("{:?}", all.iter().collect::<Vec<_>>())
        );
    }

    #[test]
    fn a_range_of_marks_is_expected_to_hold_its_share_and_no_more_than_all() {
        let counted = |(first, last): (i64, i64), count: usize| {
            let ranges = id_ranges(first, last, MARK_RANGES);
            let n = ranges.len();
            let r = MarkRanges {
                ranges,
                cursor: std::sync::Mutex::new((0, n)),
                count: std::sync::OnceLock::new(),
            };
            r.count.set(count).unwrap();
            r
        };
        // Dense ids: 1000 a range, with an eighth and a little more to spare.
        assert_eq!(
            counted((1, 32_000), 32_000).expected((1, 1000)),
            1000 + 125 + 64
        );
        // Few marks over a wide span: never more than all of them.
        assert_eq!(counted((1, 32_000), 10).expected((1, 1000)), 10);
        // The widest span there is does not overflow.
        let wide = counted((i64::MIN, i64::MAX), usize::MAX);
        assert!(wide.expected(wide.ranges[0]) > 0);
    }

    #[test]
    fn id_ranges_cover_every_id_once() {
        for (first, last, n) in [
            (1, 1, 32),
            (1, 10, 32),
            (1, 500_000, 32),
            (-5, 7, 3),
            (i64::MIN, i64::MAX, 32),
            (i64::MAX - 3, i64::MAX, 32),
        ] {
            let ranges = id_ranges(first, last, n);
            assert_eq!(ranges[0].0, first);
            assert_eq!(ranges[ranges.len() - 1].1, last);
            assert!(ranges.len() as i64 <= n, "{ranges:?}");
            for w in ranges.windows(2) {
                assert!(w[0].0 <= w[0].1 && w[0].1 + 1 == w[1].0, "{ranges:?}");
                assert!(w[1].0 <= w[1].1);
            }
        }
    }

    #[test]
    fn a_journal_without_markers_is_read_on_one_connection() {
        let (_tmp, site) = broken_journal("delete");
        let path = site.journal_path();
        let (whole, found, two) =
            load_journal_beside(&path, std::time::Duration::from_secs(1)).unwrap();
        assert!(two);
        // A rollback journal left beside it (not hot for SQLite: no header) means no
        // markers; the load still reads everything, the same way.
        std::fs::write(super::super::with_suffix(&path, "-journal"), [0u8; 512]).unwrap();
        assert!(super::super::markers(&path).unwrap().is_none());
        let (again, found_again, two) =
            load_journal_beside(&path, std::time::Duration::from_secs(1)).unwrap();
        assert!(!two, "no markers: one connection");
        assert_eq!(format!("{whole:?}"), format!("{again:?}"));
        assert_eq!(found.len(), found_again.len());
    }

    #[test]
    fn a_write_under_way_is_not_seen_by_either_connection() {
        let (_tmp, site) = crate::demo::test_site(20);
        let path = site.journal_path();
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "wal").unwrap();
        let (before, _) = load_journal(&path, std::time::Duration::from_secs(1)).unwrap();
        writer
            .execute_batch(
                "BEGIN; DELETE FROM marks; DELETE FROM lessons WHERE id IN \
                 (SELECT id FROM lessons LIMIT 10);",
            )
            .unwrap();
        let (during, _) = load_journal(&path, std::time::Duration::from_secs(1)).unwrap();
        assert_eq!(during.marks.len(), before.marks.len());
        assert_eq!(during.lessons.len(), before.lessons.len());
        writer.execute_batch("COMMIT").unwrap();
        let (after, _) = load_journal(&path, std::time::Duration::from_secs(1)).unwrap();
        assert!(after.marks.is_empty());
        assert_eq!(after.lessons.len(), before.lessons.len() - 10);
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-11-23").is_some());
        assert!(parse_date("2026-13-45").is_none());
        assert!(parse_date("2026-2-3").is_none());
        assert!(parse_date("23.11.2026").is_none());
        assert!(parse_date("2026-02-29").is_none());
        assert_eq!(
            parse_date("2028-02-29"),
            NaiveDate::from_ymd_opt(2028, 2, 29)
        );
        assert!(parse_date("2026-1a-05").is_none());
        assert_eq!(parse_time("08:05"), NaiveTime::from_hms_opt(8, 5, 0));
        assert_eq!(parse_time("18:30:15"), NaiveTime::from_hms_opt(18, 30, 15));
        assert!(parse_time("24:00").is_none());
        assert!(parse_time("18:60:00").is_none());
    }

    #[test]
    fn datetimes_accept_common_forms() {
        for s in [
            "2026-11-23 18:30",
            "2026-11-23T18:30",
            "2026-11-23 18:30:00",
            "2026-11-23",
        ] {
            assert!(parse_datetime(s).is_some(), "{s}");
        }
        for s in [
            "2026-11-23 25:00",
            "2026-11-23x18:30",
            "18:30",
            "2026-11-2318:30",
        ] {
            assert!(parse_datetime(s).is_none(), "{s}");
        }
    }
}
