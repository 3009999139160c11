//! OneRoster import: a folder or a `.zip` of OneRoster 1.1 or 1.2 CSV files (the rosters
//! and gradebooks that student information systems export) loaded into the journal in one
//! transaction.
//!
//! 1. [`source`] opens the export and reads `manifest.csv`; [`table`] and [`records`] read
//!    every file this import uses, checking each value (errors name file, line, column and
//!    value) before the journal is touched.
//! 2. [`state`] applies the files to what earlier imports left (`bulk` replaces a file's
//!    rows, `delta` adds, replaces and removes `tobedeleted` rows) and checks references.
//! 3. [`project`] works out the journal the whole picture makes; [`score`] turns results
//!    into marks.
//! 4. [`sync`] writes it, keyed by `external_ids`: unchanged rows stay as they are, so
//!    importing the same export again changes nothing.
//!
//! The mapping and its choices are documented for school admins in
//! docs/import-oneroster.md.

mod project;
mod records;
mod score;
mod source;
mod state;
mod sync;
mod table;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension};

use crate::config::Config;
use crate::journal::open_for_writing;
use project::{MARKS, Projection, V, lesson_key};
use records::{Outcome, Parsed, References};
use score::Converter;
pub use source::Mode;
use state::State;
pub use sync::Counts;
use sync::{SOURCE, Sync};

/// The journal tables the import writes, in the order they are reported.
const WRITTEN: [&str; 14] = [
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
];

/// What was skipped and why, and other things worth knowing, gathered while importing.
#[derive(Default)]
pub struct Log {
    /// (what, reason) → (count, where the first one is).
    skipped: BTreeMap<(String, String), (usize, String)>,
    notes: Vec<String>,
}

impl Log {
    pub fn skip(&mut self, what: &str, reason: impl Into<String>, place: String) {
        let entry = self
            .skipped
            .entry((what.to_string(), reason.into()))
            .or_insert((0, place));
        entry.0 += 1;
    }

    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Summary {
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
    pub fn total(&self) -> Counts {
        let mut t = Counts::default();
        for (_, c) in &self.counts {
            t.new += c.new;
            t.updated += c.updated;
            t.deleted += c.deleted;
            t.unchanged += c.unchanged;
        }
        t
    }

    /// The counts of one table (zero if untouched).
    pub fn of(&self, table: &str) -> Counts {
        self.counts
            .iter()
            .find(|(t, _)| t == table)
            .map(|(_, c)| *c)
            .unwrap_or_default()
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
    results: Vec<Parsed<Outcome>>,
    result_scales: Vec<Parsed<records::ScaleLink>>,
    refs: References,
}

fn read(export: &source::Export) -> Result<Read> {
    let mut refs = References::default();
    macro_rules! file {
        ($name:literal, $f:expr) => {
            match export.table($name) {
                Some(t) => $f(t, &mut refs)?,
                None => Vec::new(),
            }
        };
    }
    Ok(Read {
        orgs: file!("orgs", records::orgs),
        sessions: file!("academicSessions", records::sessions),
        courses: file!("courses", records::courses),
        classes: file!("classes", records::classes),
        users: file!("users", records::users),
        roles: file!("roles", records::roles),
        enrollments: file!("enrollments", records::enrollments),
        categories: file!("categories", records::categories),
        scales: file!("scoreScales", records::score_scales),
        line_items: file!("lineItems", records::line_items),
        line_item_scales: file!("lineItemScoreScales", |t, r| records::scale_links(
            t,
            "lineItemSourcedId",
            "lineItems",
            r
        )),
        results: file!("results", records::results),
        result_scales: file!("resultScoreScales", |t, r| records::scale_links(
            t,
            "resultSourcedId",
            "results",
            r
        )),
        refs,
    })
}

/// Imports the export at `path` (a folder or a `.zip`) into the journal at `journal_path`,
/// creating the journal if absent. One transaction: on any error nothing is written.
pub fn import(journal_path: &Path, config: &Config, path: &Path) -> Result<Summary> {
    let mut export = source::open(path)?;
    let read = read(&export)?;
    export.drop_tables();
    let fresh = match fs::metadata(journal_path) {
        Ok(meta) => meta.is_file() && meta.len() == 0,
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", journal_path.display()));
        }
    };
    if !fresh {
        let mut conn = open_for_writing(journal_path)?;
        return run(&mut conn, config, &export, read);
    }
    // A new journal is built under a temporary name and renamed into place when complete.
    let file_name = journal_path
        .file_name()
        .with_context(|| format!("{} is not a file name", journal_path.display()))?;
    let parent = match journal_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let existed = parent.exists();
    fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create folder {}", parent.display()))?;
    let temp = parent.join(format!(
        ".{}.oneroster-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    remove_database(&temp);
    let result = (|| {
        let mut conn = open_for_writing(&temp)?;
        let summary = run(&mut conn, config, &export, read)?;
        conn.close()
            .map_err(|(_, e)| e)
            .with_context(|| format!("cannot close {}", temp.display()))?;
        fs::rename(&temp, journal_path).with_context(|| {
            format!(
                "cannot rename {} to {}",
                temp.display(),
                journal_path.display()
            )
        })?;
        Ok(summary)
    })();
    if result.is_err() {
        remove_database(&temp);
        if !existed {
            let _ = fs::remove_dir(&parent);
        }
    }
    result
}

fn remove_database(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}

fn run(
    conn: &mut Connection,
    config: &Config,
    export: &source::Export,
    read: Read,
) -> Result<Summary> {
    // A large export changes many pages: keep them in memory until the commit instead of
    // spilling them (each spill syncs the rollback journal to disk).
    conn.pragma_update(None, "cache_size", -512_000)?;
    let tx = conn.transaction()?;
    let demo: Option<i64> = tx
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
    let mut state = State::load(&tx)?;
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
        results,
        result_scales,
        refs,
    } = read;
    macro_rules! apply {
        ($name:literal, $field:ident, $rows:expr) => {
            if let Some((file, _)) = export.read.get($name) {
                state::apply(
                    &tx,
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

    // 2. The journal it makes.
    let mut log = Log::default();
    let proj = project::project(&state, config, &mut log)?;

    // 3. Written, keyed by external_ids.
    let mut sync = Sync::new(&tx, &crate::import::csv::TABLES)?;
    if sync.owned("school")?.is_empty()
        && let Some(id) = tx
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
    for rows in &proj.tables {
        let gone = sync.upsert(rows.table, rows.columns, &rows.rows)?;
        stale.push((rows.table, gone.into_iter().map(|(_, id)| id).collect()));
    }
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
    let mut written_marks = HashSet::new();
    if let Some((file, _)) = export.read.get("results") {
        let scale_files = export
            .read
            .get("resultScoreScales")
            .map(|(f, _)| f.clone())
            .unwrap_or_default();
        written_marks = marks(
            &mut sync,
            &state,
            &proj,
            config,
            &mut log,
            (file, export.mode("results"), results),
            (&scale_files, result_scales),
        )?;
    }
    relocate(&tx, &mut sync, &state, &proj, &written_marks, &mut log)?;
    for (table, ids) in stale.iter().rev() {
        sync.delete(table, ids)?;
    }
    let keyed: Vec<&str> = WRITTEN
        .into_iter()
        .filter(|t| !matches!(*t, "student_guardians" | "group_students"))
        .collect();
    sync.purge(&keyed)?;
    let sync_counts = std::mem::take(&mut sync.counts);
    drop(sync);
    tx.commit().context("cannot commit the import")?;

    let mut counts: Vec<(String, Counts)> = Vec::new();
    for t in WRITTEN {
        counts.push((
            t.to_string(),
            sync_counts.get(t).copied().unwrap_or_default(),
        ));
    }
    for (t, c) in &sync_counts {
        if !WRITTEN.contains(t) {
            counts.push((t.to_string(), *c));
        }
    }
    summary.counts = counts;
    summary.skipped = log
        .skipped
        .into_iter()
        .map(|((what, reason), (n, first))| (what, reason, n, first))
        .collect();
    summary.notes = export.notes.iter().cloned().chain(log.notes).collect();
    Ok(summary)
}

/// Results → marks. `bulk`: the marks of results not in the file go; `delta`: results
/// `tobedeleted`, and results that no longer make a mark, take their mark with them.
fn marks(
    sync: &mut Sync,
    state: &State,
    proj: &Projection,
    config: &Config,
    log: &mut Log,
    (file, mode, results): (&str, Mode, Vec<Parsed<Outcome>>),
    (scale_file, result_scales): (&str, Vec<Parsed<records::ScaleLink>>),
) -> Result<HashSet<i64>> {
    let conv = Converter {
        grading: &config.grading,
        settings: &config.imports.oneroster,
    };
    let mut scale_of_result: HashMap<String, String> = HashMap::new();
    for link in result_scales {
        if let Some(l) = link.record {
            scale_of_result.insert(l.owner, l.scale);
        }
    }
    let _ = scale_file;
    let mut item_scales: HashMap<&str, Vec<&str>> = HashMap::new();
    for link in state.line_item_scales.values() {
        item_scales
            .entry(&link.owner)
            .or_default()
            .push(&link.scale);
    }
    let mut desired: BTreeMap<String, Vec<V>> = BTreeMap::new();
    let mut drop: HashSet<String> = HashSet::new();
    for r in results {
        let place = || format!("{file} line {}: {}", r.line, r.id);
        let Some(o) = r.record else {
            drop.insert(r.id);
            continue;
        };
        let mut skip = |reason: String| {
            log.skip("result", reason, place());
            drop.insert(r.id.clone());
        };
        let Some(item) = proj.items.get(&o.line_item) else {
            let why = proj
                .item_skips
                .get(&o.line_item)
                .cloned()
                .unwrap_or_else(|| "not imported".into());
            skip(format!("its line item is skipped: {why}"));
            continue;
        };
        let Some(&grade) = proj.pupils.get(&o.student) else {
            skip("its student is not an imported pupil".into());
            continue;
        };
        let Some(class_key) = proj.parts.get(&(item.section.clone(), o.student.clone())) else {
            skip("its student is not enrolled in the line item's class".into());
            continue;
        };
        if grade == 1 {
            skip("first grade gets no marks".into());
            continue;
        }
        // The score scales that apply, most specific first.
        let mut scales: Vec<&records::ScoreScale> = Vec::new();
        let named = o
            .scale
            .as_deref()
            .or(scale_of_result.get(&r.id).map(String::as_str));
        for id in named.into_iter().chain(
            item_scales
                .get(o.line_item.as_str())
                .into_iter()
                .flatten()
                .copied(),
        ) {
            if let Some(s) = state.scales.get(id) {
                scales.push(s);
            }
        }
        scales.extend(
            state
                .scales
                .values()
                .filter(|s| s.class.as_deref() == Some(item.section.as_str())),
        );
        scales.extend(
            state
                .scales
                .values()
                .filter(|s| s.class.is_none() && s.course.as_deref() == Some(item.course.as_str())),
        );
        match conv.convert(&o, item.min, item.max, &scales) {
            Ok((value, debt)) => {
                // Pupils, lessons and work types are written already: their ids are known.
                let id = |table: &str, key: &str| {
                    sync.id(table, key)
                        .map(V::Int)
                        .with_context(|| format!("internal: {table} row {key} was not written"))
                };
                desired.insert(
                    r.id.clone(),
                    vec![
                        id("students", &o.student)?,
                        id("lessons", &lesson_key(&o.line_item, class_key))?,
                        match &item.category {
                            Some(c) => id("work_types", c)?,
                            None => V::Null,
                        },
                        value.map_or(V::Null, V::Text),
                        o.comment.map_or(V::Null, V::Text),
                        V::Int(i64::from(debt)),
                    ],
                );
            }
            Err(reason) => skip(reason),
        }
    }
    let stale = sync.upsert("marks", MARKS, &desired)?;
    let gone: Vec<i64> = stale
        .into_iter()
        .filter(|(key, _)| mode == Mode::Bulk || drop.contains(key))
        .map(|(_, id)| id)
        .collect();
    sync.delete("marks", &gone)?;
    Ok(desired.keys().filter_map(|k| sync.id("marks", k)).collect())
}

/// Marks of earlier imports follow their pupil: when the pupil now sits in another class
/// (or group) of the line item's class, the mark moves to that lesson; when the pupil is
/// no longer taught it, the mark goes.
fn relocate(
    conn: &Connection,
    sync: &mut Sync,
    state: &State,
    proj: &Projection,
    written: &HashSet<i64>,
    log: &mut Log,
) -> Result<()> {
    let lesson_keys = sync.keys("lessons")?;
    let student_keys = sync.keys("students")?;
    let mut stmt = conn.prepare(
        "SELECT m.id, m.student_id, m.lesson_id FROM marks m JOIN external_ids e ON \
         e.local_id = m.id AND e.source = ?1 AND e.kind = 'marks'",
    )?;
    let rows: Vec<(i64, i64, i64)> = stmt
        .query_map([SOURCE], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    let mut moves = Vec::new();
    let mut gone = Vec::new();
    for (mark, student, lesson) in rows {
        if written.contains(&mark) {
            continue; // written by this import, on the right lesson
        }
        // A pupil the export no longer has goes with their marks.
        let Some(pupil) = student_keys
            .get(&student)
            .filter(|p| proj.pupils.contains_key(*p))
        else {
            continue;
        };
        // Marks of line items without lessons now go with those lessons.
        let Some((item, i)) = lesson_keys
            .get(&lesson)
            .and_then(|k| item_of(state, k))
            .and_then(|item| Some((item, proj.items.get(item)?)))
        else {
            continue;
        };
        let target = proj
            .parts
            .get(&(i.section.clone(), pupil.clone()))
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
