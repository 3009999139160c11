//! OneRoster import: a folder or a `.zip` of OneRoster 1.1 or 1.2 CSV files (the rosters
//! and gradebooks that student information systems export) loaded into the journal in one
//! transaction.
//!
//! 1. [`source`] opens the export and reads `manifest.csv`; [`table`] and [`records`] read
//!    every file this import uses, checking each value (errors name file, line, column and
//!    value) before the journal is touched. Files are read row by row; results.csv, by far
//!    the largest, is not kept: its rows are read again, one at a time, when they become
//!    marks.
//! 2. [`state`] applies the files to what earlier imports left (`bulk` replaces a file's
//!    rows, `delta` adds, replaces and removes `tobedeleted` rows) and checks references.
//! 3. [`project`] works out the journal the whole picture makes ([`exams`] tells exam
//!    sessions and exam and final line items by their titles); [`marking`] turns results
//!    into marks, and those of exams and final marks into period marks, with [`score`]
//!    giving each its value; [`period_marks`] writes the latter.
//! 4. [`sync`] writes it, keyed by `external_ids`: unchanged rows stay as they are, so
//!    importing the same export again changes nothing.
//!
//! The mapping and its choices are documented for school admins in
//! docs/import-oneroster.md.

mod exams;
mod hash;
mod marking;
mod period_marks;
mod project;
mod records;
mod score;
mod source;
mod state;
mod sync;
mod table;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension};

use crate::config::Config;
use project::{Projection, lesson_key};
use records::{Parsed, References};
pub(crate) use source::Mode;
use state::State;
pub(crate) use sync::Counts;
use sync::{SOURCE, Sync};

/// The journal tables the import writes, in the order they are reported.
const WRITTEN: [&str; 15] = [
    "school",
    "academic_years",
    "periods",
    "teachers",
    "classes",
    "students",
    "guardians",
    "student_guardians",
    "subjects",
    "groups",
    "group_students",
    "work_types",
    "lessons",
    "marks",
    "period_marks",
];

/// What was skipped and why, and other things worth knowing, gathered while importing.
#[derive(Default)]
pub(crate) struct Log {
    /// (what, reason) → (count, where the first one is).
    skipped: BTreeMap<(String, String), (usize, String)>,
    notes: Vec<String>,
}

impl Log {
    pub(crate) fn skip(&mut self, what: &str, reason: impl Into<String>, place: String) {
        let entry = self
            .skipped
            .entry((what.to_string(), reason.into()))
            .or_insert((0, place));
        entry.0 += 1;
    }

    pub(crate) fn note(&mut self, note: String) {
        self.notes.push(note);
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// `1.1` or `1.2`.
    pub version: String,
    /// The files read: (file, mode, rows).
    pub files: Vec<(String, Mode, usize)>,
    /// Per journal table, in write order (then any table deleted from because of them).
    pub counts: Vec<(String, Counts)>,
    /// (what, reason, how many, the first one).
    pub skipped: Vec<(String, String, usize, String)>,
    pub notes: Vec<String>,
}

impl Summary {
    /// Counts over all tables.
    pub(crate) fn total(&self) -> Counts {
        let mut t = Counts::default();
        for (_, c) in &self.counts {
            t.new += c.new;
            t.updated += c.updated;
            t.deleted += c.deleted;
            t.unchanged += c.unchanged;
        }
        t
    }
}

fn plural(what: &str, n: usize) -> String {
    match (n, what.ends_with('s')) {
        (1, _) => what.to_string(),
        (_, true) => format!("{what}es"),
        _ => format!("{what}s"),
    }
}

impl fmt::Display for Summary {
    /// A line per file read, per journal table, the total, then what was skipped and why.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "OneRoster {} export: {}",
            self.version,
            if self.files.is_empty() {
                "no files to read".to_string()
            } else {
                self.files
                    .iter()
                    .map(|(file, mode, n)| format!("{file} ({}, {n})", mode.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )?;
        let line = |c: &Counts| {
            format!(
                "{} new, {} updated, {} deleted, {} unchanged",
                c.new, c.updated, c.deleted, c.unchanged
            )
        };
        for (table, c) in &self.counts {
            if *c != Counts::default() {
                writeln!(f, "{table}: {}", line(c))?;
            }
        }
        writeln!(f, "total: {}", line(&self.total()))?;
        for (what, reason, n, first) in &self.skipped {
            writeln!(
                f,
                "skipped {n} {}: {reason} (first: {first})",
                plural(what, *n)
            )?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

/// Everything read from the export, checked, before the journal is opened.
struct Read {
    orgs: Vec<Parsed<records::Org>>,
    sessions: Vec<Parsed<records::Session>>,
    courses: Vec<Parsed<records::Course>>,
    classes: Vec<Parsed<records::Class>>,
    users: Vec<Parsed<records::User>>,
    roles: Vec<Parsed<records::Role>>,
    enrollments: Vec<Parsed<records::Enrollment>>,
    categories: Vec<Parsed<records::Category>>,
    scales: Vec<Parsed<records::ScoreScale>>,
    line_items: Vec<Parsed<records::LineItem>>,
    line_item_scales: Vec<Parsed<records::ScaleLink>>,
    result_scales: Vec<Parsed<records::ScaleLink>>,
    refs: References,
}

/// Reads every file but results.csv into records; `results` is what checking results.csv
/// found (its rows become marks one at a time when the journal is written: [`marks`]).
/// Each file's bytes are freed once read.
fn read(
    export: &mut source::Export,
    results: Option<(References, Option<anyhow::Error>)>,
) -> Result<Read> {
    let mut refs = References::default();
    macro_rules! file {
        ($name:literal, $f:expr) => {{
            let rows = match export.file($name) {
                Some(f) => $f(f.parts(), &mut refs)?,
                None => Vec::new(),
            };
            export.drop_file($name);
            rows
        }};
    }
    let orgs = file!("orgs", |(f, b), r| records::orgs(f, b, r));
    let sessions = file!("academicSessions", |(f, b), r| records::sessions(f, b, r));
    let courses = file!("courses", |(f, b), r| records::courses(f, b, r));
    let classes = file!("classes", |(f, b), r| records::classes(f, b, r));
    let users = file!("users", |(f, b), r| records::users(f, b, r));
    let roles = file!("roles", |(f, b), r| records::roles(f, b, r));
    let enrollments = file!("enrollments", |(f, b), r| records::enrollments(f, b, r));
    let categories = file!("categories", |(f, b), r| records::categories(f, b, r));
    let scales = file!("scoreScales", |(f, b), r| records::score_scales(f, b, r));
    let line_items = file!("lineItems", |(f, b), r| records::line_items(f, b, r));
    let line_item_scales = file!("lineItemScoreScales", |f, r| records::scale_links(
        f,
        "lineItemSourcedId",
        "lineItems",
        r
    ));
    if let Some((later, error)) = results {
        if let Some(e) = error {
            return Err(e);
        }
        refs.extend(later);
    }
    let result_scales = file!("resultScoreScales", |f, r| records::scale_links(
        f,
        "resultSourcedId",
        "results",
        r
    ));
    Ok(Read {
        orgs,
        sessions,
        courses,
        classes,
        users,
        roles,
        enrollments,
        categories,
        scales,
        line_items,
        line_item_scales,
        result_scales,
        refs,
    })
}

/// Imports the export at `path` (a folder or a `.zip`) into the journal at `journal_path`,
/// creating the journal if absent. One transaction: on any error nothing is written.
pub(crate) fn import(journal_path: &Path, config: &Config, path: &Path) -> Result<Summary> {
    crate::import::run(journal_path, OneRosterImport::open(config, path)?)
}

/// A OneRoster export, opened and read (every file checked) before anything is written.
pub(crate) struct OneRosterImport<'c> {
    config: &'c Config,
    export: source::Export,
    read: Read,
}

impl crate::import::Importer for OneRosterImport<'_> {
    type Summary = Summary;

    fn write(self, conn: &mut Connection) -> Result<Summary> {
        run(conn, self.config, self.export, self.read)
    }
}

impl<'c> OneRosterImport<'c> {
    /// Opens the export at `path` (a folder or a `.zip`) and reads it.
    pub(crate) fn open(config: &'c Config, path: &Path) -> Result<OneRosterImport<'c>> {
        // results.csv, the largest file by far, is checked once through while the files
        // are opened; its first wrong value is reported in turn, after those of the files
        // before.
        let mut results = None;
        let mut export = source::open(path, |name, file| {
            if name != "results" {
                return table::Table::count(&file.name, &file.bytes);
            }
            let mut refs = References::default();
            let (rows, error) = records::check_results(file.parts(), &mut refs)?;
            results = Some((refs, error));
            Ok(rows)
        })?;
        let read = read(&mut export, results)?;
        Ok(OneRosterImport {
            config,
            export,
            read,
        })
    }
}

fn run(
    conn: &mut Connection,
    config: &Config,
    mut export: source::Export,
    read: Read,
) -> Result<Summary> {
    // A page cache of 32 MB (SQLite's default is 2 MB). The import reads and writes each
    // table in key order, so a larger cache buys little time and costs memory: a large
    // import changes more pages than it could hold anyway, and SQLite writes the surplus
    // out as it goes.
    conn.pragma_update(None, "cache_size", -32_768)?;
    let tx = conn.transaction()?;
    refuse_demo(&tx)?;
    let mut summary = Summary {
        version: export.version.clone(),
        ..Summary::default()
    };
    for name in source::USED {
        if let Some((file, rows)) = export.read.get(name) {
            summary.files.push((file.clone(), export.mode(name), *rows));
        }
    }

    // 1. The OneRoster picture: earlier imports, then this export's files on top.
    let (state, result_scales) = picture(&tx, &export, read)?;

    // 2. The journal it makes.
    let mut log = Log::default();
    let mut proj = project::project(&state, config, &mut log)?;

    // 3. Written, keyed by external_ids.
    let mut sync = Sync::new(&tx, &crate::import::csv::TABLES)?;
    let stale = write_journal(&tx, &mut sync, &mut proj)?;
    let mut written_marks = Vec::new();
    if let Some(file) = export.file("results") {
        written_marks = marking::marks(
            &mut sync,
            &state,
            &proj,
            config,
            &mut log,
            (
                file,
                export.mode("results"),
                export.read.get("results").map_or(0, |(_, n)| *n),
            ),
            result_scales,
        )?;
    }
    export.drop_file("results");
    // After a bulk results.csv, every mark the import owns is one it wrote (the others
    // went): none to move.
    if !(export.read.contains_key("results") && export.mode("results") == Mode::Bulk) {
        relocate(&tx, &mut sync, &state, &proj, &written_marks, &mut log)?;
    }
    for (table, ids) in stale.iter().rev() {
        sync.delete(table, ids)?;
    }
    let keyed: Vec<&str> = WRITTEN
        .into_iter()
        .filter(|t| !matches!(*t, "student_guardians" | "group_students" | "period_marks"))
        .collect();
    sync.purge(&keyed)?;
    let sync_counts = std::mem::take(&mut sync.counts);
    drop(sync);
    tx.commit().context("cannot commit the import")?;

    summary.counts = counts(&sync_counts);
    summary.skipped = log
        .skipped
        .into_iter()
        .map(|((what, reason), (n, first))| (what, reason, n, first))
        .collect();
    summary.notes = export.notes.into_iter().chain(log.notes).collect();
    Ok(summary)
}

/// Refuses a journal that holds the generated demo school.
fn refuse_demo(conn: &Connection) -> Result<()> {
    let demo: Option<i64> = conn
        .query_row("SELECT is_demo FROM school ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if demo == Some(1) {
        bail!(
            "the journal holds the generated demo school (school.is_demo = 1); a real school's \
             export would mix with it: move the journal file aside (or set `journal` in \
             site.toml to a new file) and import again"
        );
    }
    Ok(())
}

/// The OneRoster picture: what earlier imports left, with this export's files applied on
/// top and its references checked. Returns it with resultScoreScales.csv's rows, which the
/// marks need.
fn picture(
    conn: &Connection,
    export: &source::Export,
    read: Read,
) -> Result<(State, Vec<Parsed<records::ScaleLink>>)> {
    let replaced: Vec<&str> = source::USED
        .into_iter()
        .filter(|name| export.read.contains_key(name) && export.mode(name) == Mode::Bulk)
        .collect();
    let mut state = State::load(conn, &replaced)?;
    let Read {
        orgs,
        sessions,
        courses,
        classes,
        users,
        roles,
        enrollments,
        categories,
        scales,
        line_items,
        line_item_scales,
        result_scales,
        refs,
    } = read;
    macro_rules! apply {
        ($name:literal, $field:ident, $rows:expr) => {
            if let Some((file, _)) = export.read.get($name) {
                state::apply(
                    conn,
                    &mut state,
                    $name,
                    |s| &mut s.$field,
                    export.mode($name),
                    $rows,
                    file,
                )?;
            }
        };
    }
    apply!("orgs", orgs, orgs);
    apply!("academicSessions", sessions, sessions);
    apply!("courses", courses, courses);
    apply!("classes", classes, classes);
    apply!("users", users, users);
    apply!("roles", roles, roles);
    apply!("enrollments", enrollments, enrollments);
    apply!("categories", categories, categories);
    apply!("scoreScales", scales, scales);
    apply!("lineItems", line_items, line_items);
    apply!("lineItemScoreScales", line_item_scales, line_item_scales);
    state.check(&refs)?;
    Ok((state, result_scales))
}

/// Writes the journal's tables, lessons and links (not marks), keyed by external_ids.
/// Returns, per table, the ids of the rows the import owns that the export no longer makes,
/// to delete once the marks are written.
fn write_journal(
    conn: &Connection,
    sync: &mut Sync,
    proj: &mut Projection,
) -> Result<Vec<(&'static str, Vec<i64>)>> {
    if !sync.owns_any("school")?
        && let Some(id) = conn
            .query_row("SELECT id FROM school ORDER BY id LIMIT 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
        && let Some(key) = proj.tables[0].rows.keys().next()
    {
        // A journal whose school row was written by hand: that row is the school.
        sync.adopt("school", key, id)?;
    }
    let mut stale: Vec<(&'static str, Vec<i64>)> = Vec::new();
    for rows in std::mem::take(&mut proj.tables) {
        let done = sync.upsert(
            rows.table,
            rows.columns,
            rows.rows.iter().map(|(k, v)| (&**k, v)),
            true,
        )?;
        stale.push((
            rows.table,
            done.stale.into_iter().map(|(_, id)| id).collect(),
        ));
    }
    let lessons = std::mem::take(&mut proj.lessons);
    let done = sync.upsert(
        "lessons",
        project::LESSONS,
        lessons.iter().map(|l| (&*l.key, l)),
        true,
    )?;
    drop(lessons);
    stale.push((
        "lessons",
        done.stale.into_iter().map(|(_, id)| id).collect(),
    ));
    sync.links(
        "student_guardians",
        ("student_id", "students"),
        ("guardian_id", "guardians"),
        Some("relation"),
        &proj.student_guardians,
        true,
    )?;
    let members: Vec<(String, String, Option<String>)> = proj
        .group_students
        .iter()
        .map(|(g, s)| (g.clone(), s.clone(), None))
        .collect();
    sync.links(
        "group_students",
        ("group_id", "groups"),
        ("student_id", "students"),
        None,
        &members,
        false,
    )?;
    Ok(stale)
}

/// The counts of the tables written, in the order they are reported, then of any table
/// deleted from because of them.
fn counts(sync_counts: &BTreeMap<&'static str, Counts>) -> Vec<(String, Counts)> {
    let mut counts: Vec<(String, Counts)> = Vec::new();
    for t in WRITTEN {
        counts.push((
            t.to_string(),
            sync_counts.get(t).copied().unwrap_or_default(),
        ));
    }
    for (t, c) in sync_counts {
        if !WRITTEN.contains(t) {
            counts.push((t.to_string(), *c));
        }
    }
    counts
}

/// Marks of earlier imports follow their pupil: when the pupil now sits in another class
/// (or group) of the line item's class, the mark moves to that lesson; when the pupil is
/// no longer taught it, the mark goes. `written` (sorted) are the marks of this import.
fn relocate(
    conn: &Connection,
    sync: &mut Sync,
    state: &State,
    proj: &Projection,
    written: &[i64],
    log: &mut Log,
) -> Result<()> {
    let mut rows: Vec<(i64, i64, i64)> = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT m.id, m.student_id, m.lesson_id FROM marks m JOIN external_ids e ON \
             e.local_id = m.id AND e.source = ?1 AND e.kind = 'marks'",
        )?;
        let mut q = stmt.query([SOURCE])?;
        while let Some(r) = q.next()? {
            let mark: i64 = r.get(0)?;
            // Written by this import, on the right lesson.
            if written.binary_search(&mark).is_err() {
                rows.push((mark, r.get(1)?, r.get(2)?));
            }
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let lesson_keys = sync.keys("lessons")?;
    let student_keys = sync.keys("students")?;
    let mut moves = Vec::new();
    let mut gone = Vec::new();
    for (mark, student, lesson) in rows {
        // A pupil the export no longer has goes with their marks.
        let Some(pupil) = student_keys
            .get(&student)
            .filter(|p| proj.pupils.contains_key(&***p))
        else {
            continue;
        };
        // Marks of line items without lessons now (skipped, or exams) go with those
        // lessons.
        let Some((item, i)) = lesson_keys
            .get(&lesson)
            .and_then(|k| item_of(state, k))
            .and_then(|item| Some((item, proj.items.get(item)?)))
            .filter(|(_, i)| i.attests.is_none())
        else {
            continue;
        };
        let target = proj
            .part(i.section(), pupil)
            .and_then(|class| sync.id("lessons", &lesson_key(item, class)));
        match target {
            Some(t) if t == lesson => {}
            Some(t) => moves.push((mark, t)),
            None => gone.push(mark),
        }
    }
    if !moves.is_empty() {
        let mut update = conn.prepare("UPDATE marks SET lesson_id = ?2 WHERE id = ?1")?;
        for (mark, lesson) in &moves {
            update.execute([mark, lesson])?;
        }
        sync.count("marks").updated += moves.len();
    }
    if !gone.is_empty() {
        log.note(format!(
            "{} mark(s) of earlier imports deleted: their pupil is no longer taught their \
             line item's class",
            gone.len()
        ));
        sync.delete("marks", &gone)?;
    }
    Ok(())
}

/// The line item of a lesson key `item|class`.
fn item_of<'s>(state: &'s State, key: &str) -> Option<&'s str> {
    key.match_indices('|')
        .map(|(i, _)| &key[..i])
        .find_map(|item| {
            state
                .line_items
                .get_key_value(item)
                .map(|(k, _)| k.as_str())
        })
}
