//! From the OneRoster picture to the journal's rows: what school, years, periods, people,
//! classes, groups, subjects, work types and lessons the export makes. The mapping is
//! explained for school admins in docs/import-oneroster.md; each rule here names its
//! section there.
//!
//! Rows are keyed by their external id (the OneRoster `sourcedId`, or a key made from
//! them) and refer to each other by key; [`super::sync`] turns keys into journal ids.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use anyhow::{Result, bail};
use chrono::NaiveDate;
use rusqlite::types::ValueRef;

use super::Log;
use super::exams::{Attested, Titles};
use super::hash::Map;
use super::records::*;
use super::state::State;
use super::sync::{Row, Sync};
use super::table::day_of;
use crate::config::{Config, Language};
use crate::journal::parse_date;

/// A value of a projected row: plain, or a reference to another projected row by key.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum V {
    Null,
    Int(i64),
    Real(f64),
    Text(Rc<str>),
    /// `(table, key)`: the journal id of that row.
    Ref(&'static str, Rc<str>),
}

impl V {
    fn text(s: impl AsRef<str>) -> V {
        V::Text(s.as_ref().into())
    }

    fn opt_text(s: Option<&str>) -> V {
        s.map_or(V::Null, V::text)
    }

    fn opt_ref(table: &'static str, key: Option<&String>) -> V {
        key.map_or(V::Null, |k| V::Ref(table, k.as_str().into()))
    }
}

/// The rows of one journal table, by key.
pub(super) struct Rows {
    pub table: &'static str,
    /// The columns the import owns (besides `id`), in the order of each row's values.
    pub columns: &'static [&'static str],
    pub rows: BTreeMap<String, Vec<V>>,
}

impl Rows {
    fn new(table: &'static str, columns: &'static [&'static str]) -> Rows {
        Rows {
            table,
            columns,
            rows: BTreeMap::new(),
        }
    }
}

pub(super) const SCHOOL: &[&str] = &["name", "short_name", "is_demo"];
pub(super) const YEARS: &[&str] = &["name", "starts_on", "ends_on"];
pub(super) const PERIODS: &[&str] = &["year_id", "kind", "number", "name", "starts_on", "ends_on"];
pub(super) const PEOPLE: &[&str] = &["last_name", "first_name", "middle_name"];
pub(super) const GUARDIANS: &[&str] = &["last_name", "first_name", "middle_name", "contact"];
pub(super) const CLASSES: &[&str] = &["year_id", "grade", "letter", "name", "class_teacher_id"];
pub(super) const STUDENTS: &[&str] = &["class_id", "last_name", "first_name", "middle_name"];
pub(super) const SUBJECTS: &[&str] = &["name", "short_name"];
pub(super) const GROUPS: &[&str] = &["class_id", "subject_id", "name"];
pub(super) const WORK_TYPES: &[&str] = &["name", "weight"];
pub(super) const LESSONS: &[&str] = &[
    "class_id",
    "group_id",
    "subject_id",
    "teacher_id",
    "date",
    "number",
    "room",
    "topic",
];
pub(super) const MARKS: &[&str] = &[
    "student_id",
    "lesson_id",
    "work_type_id",
    "value",
    "comment",
    "is_debt",
    "entered_at",
];

/// A line item that became lessons, or exam or final marks: what its results need.
pub(super) struct Item<'s> {
    line_item: &'s LineItem,
    /// The course of its class.
    pub course: &'s str,
    /// Whether its category became a work type.
    typed: bool,
    /// The day of its lessons: its dueDate, else its assignDate, in the school's timezone.
    pub day: NaiveDate,
    /// An exam or final line item (by its category's or its own title): no lessons.
    attested: Option<Attested>,
    /// The key of the exam or final period its results are period marks of; `None` for
    /// an ordinary line item, whose results are marks on its lessons.
    pub attests: Option<Rc<str>>,
}

impl<'s> Item<'s> {
    /// Its class (a section).
    pub(super) fn section(&self) -> &'s str {
        &self.line_item.class
    }

    /// Its category, if it became a work type.
    pub(super) fn category(&self) -> Option<&'s str> {
        self.line_item.category.as_deref().filter(|_| self.typed)
    }

    pub(super) fn min(&self) -> Option<f64> {
        self.line_item.min
    }

    pub(super) fn max(&self) -> Option<f64> {
        self.line_item.max
    }
}

/// A lesson: a line item taught to one class (or a group of it).
pub(super) struct Lesson<'s> {
    /// [`lesson_key`].
    pub key: Box<str>,
    class: Rc<str>,
    group: Option<Rc<str>>,
    subject: &'s str,
    teacher: Option<&'s str>,
    date: Rc<str>,
    number: i64,
    room: Option<&'s str>,
    topic: &'s str,
}

impl Row for Lesson<'_> {
    fn values<'a>(&'a self, sync: &Sync<'_>, out: &mut [ValueRef<'a>]) -> Result<()> {
        let text = |t: &'a str| ValueRef::Text(t.as_bytes());
        let values = [
            sync.reference("classes", &self.class)?,
            match &self.group {
                Some(g) => sync.reference("groups", g)?,
                None => ValueRef::Null,
            },
            sync.reference("subjects", self.subject)?,
            match self.teacher {
                Some(t) => sync.reference("teachers", t)?,
                None => ValueRef::Null,
            },
            text(&self.date),
            ValueRef::Integer(self.number),
            self.room.map_or(ValueRef::Null, text),
            text(self.topic),
        ];
        out.copy_from_slice(&values);
        Ok(())
    }
}

/// The journal as the export makes it.
pub(super) struct Projection<'s> {
    /// In write order: school, academic_years, periods, teachers, classes, students,
    /// guardians, subjects, groups, work_types.
    pub tables: Vec<Rows>,
    /// The lessons (written after the tables), in key order.
    pub lessons: Vec<Lesson<'s>>,
    /// (student key, guardian key, relation).
    pub student_guardians: Vec<(String, String, Option<String>)>,
    /// (group key, student key).
    pub group_students: Vec<(String, String)>,
    /// Pupil (user sourcedId) → grade.
    pub pupils: HashMap<String, i64>,
    /// Section → pupil → the key of the pupil's class (the part of the section they are
    /// taught in).
    pub parts: HashMap<String, HashMap<String, String>>,
    /// Line items that have lessons.
    pub items: Map<&'s str, Item<'s>>,
    /// Line items without lessons → why.
    pub item_skips: HashMap<&'s str, String>,
}

impl Projection<'_> {
    /// The key of the class `pupil` is taught `section` in.
    pub(super) fn part(&self, section: &str, pupil: &str) -> Option<&str> {
        self.parts.get(section)?.get(pupil).map(String::as_str)
    }
}

/// A part of a section: the key of a class among its pupils, and the key of their group
/// unless the section is the whole class's.
type Part = (Rc<str>, Option<Rc<str>>);

/// The key of a line item's lesson for one class.
pub(super) fn lesson_key(item: &str, class_key: &str) -> String {
    let mut key = String::new();
    lesson_key_into(&mut key, item, class_key);
    key
}

/// [`lesson_key`] into `key` (cleared first), reusing its memory.
pub(super) fn lesson_key_into(key: &mut String, item: &str, class_key: &str) {
    key.clear();
    key.push_str(item);
    key.push('|');
    key.push_str(class_key);
}

/// A journal grade from OneRoster grade codes (`09` → 9): `Ok(None)` for none given, an
/// error when the codes give no single grade in 1–11.
fn grade_of(codes: &[String]) -> Result<Option<i64>, String> {
    if codes.is_empty() {
        return Ok(None);
    }
    let mut grades = BTreeSet::new();
    for code in codes {
        match code.trim().parse::<i64>() {
            Ok(g) if (1..=11).contains(&g) => {
                grades.insert(g);
            }
            _ => {
                return Err(format!(
                    "grade '{}' is not a journal grade (1–11)",
                    codes.join(",")
                ));
            }
        }
    }
    if grades.len() > 1 {
        return Err(format!(
            "grades '{}' name more than one grade; a journal class has one",
            codes.join(",")
        ));
    }
    Ok(grades.into_iter().next())
}

#[derive(Clone)]
struct Year {
    name: String,
    start: NaiveDate,
    end: NaiveDate,
}

struct Section<'a> {
    id: &'a str,
    class: &'a Class,
    course: &'a str,
    year: String,
}

/// A journal class made from the export.
struct JClass {
    key: String,
    grade: i64,
    name: String,
    code: Option<String>,
    teacher: Option<String>,
}

/// The journal the export makes: the steps in order, each a [`Projector`] method.
pub(super) fn project<'s>(
    state: &'s State,
    config: &Config,
    log: &mut Log,
) -> Result<Projection<'s>> {
    let (school_id, school_rows) = school(state)?;
    let mut p = Projector::new(state, config, log, school_id);
    let year_rows = p.academic_years();
    let mut period_rows = p.periods();
    let school_sections = p.school_sections();
    p.roles();
    p.current_sections(school_sections)?;
    let teacher_rows = p.teachers();
    let homeroom_of = p.homerooms(&teacher_rows);
    let student_rows = p.pupils(&homeroom_of);
    let class_rows = p.classes();
    let (guardian_rows, student_guardians) = p.guardians();
    let (mut subject_rows, group_rows) = p.subjects_and_groups();
    let work_rows = p.work_types();
    let lessons = p.lessons(&teacher_rows, &work_rows);
    p.attested_periods(&mut period_rows);
    // Subjects only of the lessons, groups and period marks made (not of homerooms' own
    // courses).
    let used: BTreeSet<&str> = lessons
        .iter()
        .map(|l| l.subject)
        .chain(
            p.items
                .values()
                .filter(|i| i.attests.is_some())
                .map(|i| i.course),
        )
        .chain(group_rows.rows.values().flat_map(|row| {
            row.iter().filter_map(|v| match v {
                V::Ref("subjects", k) => Some(&**k),
                _ => None,
            })
        }))
        .collect();
    subject_rows.rows.retain(|k, _| used.contains(k.as_str()));

    let Projector {
        pupils,
        parts,
        group_students,
        items,
        item_skips,
        ..
    } = p;
    Ok(Projection {
        tables: vec![
            school_rows,
            year_rows,
            period_rows,
            teacher_rows,
            class_rows,
            student_rows,
            guardian_rows,
            subject_rows,
            group_rows,
            work_rows,
        ],
        lessons,
        student_guardians,
        group_students,
        pupils,
        parts,
        items,
        item_skips,
    })
}

/// A date of the export.
fn date(s: &str) -> NaiveDate {
    parse_date(s).expect("dates are checked when read")
}

/// The school (docs: "School"): its sourcedId and its row.
fn school(state: &State) -> Result<(&str, Rows)> {
    let schools: Vec<(&String, &Org)> = state
        .orgs
        .iter()
        .filter(|(_, o)| o.kind.eq_ignore_ascii_case("school"))
        .collect();
    let (school_id, school) = match schools.len() {
        1 => schools[0],
        0 if state.orgs.len() == 1 => state.orgs.iter().next().expect("one org"),
        0 => bail!(
            "no school: orgs.csv (in this export or an earlier import) must list the school, an \
             org of type school"
        ),
        n => bail!(
            "orgs.csv lists {n} schools ({}); a journal holds one school: export one school at \
             a time",
            schools
                .iter()
                .map(|(id, o)| format!("{} ({id})", o.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut school_rows = Rows::new("school", SCHOOL);
    school_rows.rows.insert(
        school_id.clone(),
        vec![V::text(&school.name), V::text(&school.name), V::Int(0)],
    );
    Ok((school_id.as_str(), school_rows))
}

/// A user's family and given names, or which is missing.
fn named(u: &User) -> Result<(String, String), &'static str> {
    match (u.family.as_deref(), u.given.as_deref()) {
        (Some(f), Some(g)) => Ok((f.to_string(), g.to_string())),
        (None, _) => Err("familyName is empty"),
        (_, None) => Err("givenName is empty"),
    }
}

/// The journal kind of a year's `n` sessions of OneRoster type `kind`, if they make one.
fn journal_kind(kind: &str, n: usize) -> Option<&'static str> {
    match (kind, n) {
        ("semester", 1 | 2) | (_, 2) => Some("half"),
        (_, 3) => Some("trimester"),
        (_, 4) => Some("quarter"),
        _ => None,
    }
}

/// Why a year's sessions of one type (sorted by start) make no periods, if they don't.
/// `taken`: the journal kinds made already → the type they were made from.
fn period_problem(
    y: &Year,
    kind: &str,
    list: &[(&String, &Session)],
    taken: &HashMap<&str, &str>,
) -> Option<String> {
    let n = list.len();
    match journal_kind(kind, n) {
        None => Some(format!(
            "{n} {kind} session(s) in {}: the journal attests by 4 quarters, 3 trimesters or 2 \
             halves",
            y.name
        )),
        Some(k) => match taken.get(k) {
            Some(other) => Some(format!(
                "the {}s of {} come from its {other} sessions already",
                k, y.name
            )),
            None => span_problem(y, list),
        },
    }
}

/// Why sessions of one kind (sorted by start) cannot be periods of year `y`, if they
/// cannot: one sticks out of the year, or two overlap.
fn span_problem(y: &Year, list: &[(&String, &Session)]) -> Option<String> {
    let outside = list
        .iter()
        .find(|(_, s)| date(&s.start) < y.start || date(&s.end) > y.end);
    let overlap = list.windows(2).find(|w| w[1].1.start <= w[0].1.end);
    match (outside, overlap) {
        (Some((_, s)), _) => Some(format!(
            "{} ({} – {}) is not inside the school year {} ({} – {})",
            s.title, s.start, s.end, y.name, y.start, y.end
        )),
        (_, Some(w)) => Some(format!("{} and {} overlap", w[0].1.title, w[1].1.title)),
        _ => None,
    }
}

/// The values of a period row.
fn period_row(
    year: &str,
    kind: &str,
    number: i64,
    name: &str,
    start: impl ToString,
    end: impl ToString,
) -> Vec<V> {
    vec![
        V::Ref("academic_years", year.into()),
        V::text(kind),
        V::Int(number),
        V::text(name),
        V::text(start.to_string()),
        V::text(end.to_string()),
    ]
}

/// The grouping key of exam sessions in [`SessionsByYear`] (no OneRoster session type).
const EXAM_SESSIONS: &str = "exam";

/// Sessions by (year key, session type).
type SessionsByYear<'s> = BTreeMap<(String, &'s str), Vec<(&'s String, &'s Session)>>;

/// Pupils per journal class.
fn class_sizes<'a>(pupil_class: &'a BTreeMap<&str, String>) -> HashMap<&'a str, usize> {
    let mut class_size: HashMap<&str, usize> = HashMap::new();
    for c in pupil_class.values() {
        *class_size.entry(c.as_str()).or_default() += 1;
    }
    class_size
}

/// The letter of a class named `name` (`5А`, `5-А` → `А`); the whole name (trimmed) when
/// it does not start with digits or has nothing after them.
fn letter(name: &str) -> &str {
    let digits = name.trim_start_matches(|ch: char| ch.is_ascii_digit());
    let letter = digits.trim_start_matches([' ', '-', '.', '_']).trim();
    if letter.is_empty() || digits.len() == name.len() {
        name.trim()
    } else {
        letter
    }
}

/// The export as the projection goes: what each step works out for the steps after it.
struct Projector<'s, 'l> {
    state: &'s State,
    tz: chrono_tz::Tz,
    language: Language,
    /// Which titles denote exams and final marks.
    titles: Titles,
    log: &'l mut Log,
    school_id: &'s str,
    /// The `schoolYear` column → the schoolYear session that has it.
    year_by_column: HashMap<&'s str, &'s String>,
    /// Enrollments by section and by user.
    by_section: HashMap<&'s str, Vec<(&'s String, &'s Enrollment)>>,
    by_user: HashMap<&'s str, Vec<(&'s String, &'s Enrollment)>>,
    /// roles.csv rows by user.
    roles_of: HashMap<&'s str, Vec<(&'s String, &'s Role)>>,
    /// User → role.
    roles: HashMap<&'s str, Option<String>>,
    /// Academic years by key.
    years: BTreeMap<String, Year>,
    /// Year key → its exam sessions that are periods: (key, start, end), by start.
    exam_sessions: BTreeMap<String, Vec<(String, NaiveDate, NaiveDate)>>,
    /// The sections of the school that have a school year, of any year.
    school_section_ids: BTreeSet<&'s str>,
    /// The key of the year the journal's classes are made for.
    current: String,
    /// The sections of the school in that year.
    sections: BTreeMap<&'s str, Section<'s>>,
    /// Sections skipped → why.
    section_skips: HashMap<&'s str, String>,
    /// Journal classes by key.
    jclasses: BTreeMap<String, JClass>,
    /// Pupil → the key of their class.
    pupil_class: BTreeMap<&'s str, String>,
    /// Pupil → grade.
    pupils: HashMap<String, i64>,
    /// (group key, student key).
    group_students: Vec<(String, String)>,
    /// Section → pupil → the key of the pupil's class.
    parts: HashMap<String, HashMap<String, String>>,
    /// Section → its parts.
    section_parts: BTreeMap<&'s str, Vec<Part>>,
    /// Line items that have lessons.
    items: Map<&'s str, Item<'s>>,
    /// Line items without lessons → why.
    item_skips: HashMap<&'s str, String>,
}

impl<'s, 'l> Projector<'s, 'l> {
    fn new(
        state: &'s State,
        config: &Config,
        log: &'l mut Log,
        school_id: &'s str,
    ) -> Projector<'s, 'l> {
        let year_by_column: HashMap<&str, &String> = state
            .sessions
            .iter()
            .filter(|(_, s)| s.kind == "schoolYear")
            .filter_map(|(id, s)| Some((s.school_year.as_deref()?, id)))
            .collect();
        let mut by_section: HashMap<&str, Vec<(&String, &Enrollment)>> = HashMap::new();
        let mut by_user: HashMap<&str, Vec<(&String, &Enrollment)>> = HashMap::new();
        for (id, e) in &state.enrollments {
            by_section.entry(&e.class).or_default().push((id, e));
            by_user.entry(&e.user).or_default().push((id, e));
        }
        let mut roles_of: HashMap<&str, Vec<(&String, &Role)>> = HashMap::new();
        for (id, r) in &state.roles {
            roles_of.entry(&r.user).or_default().push((id, r));
        }
        Projector {
            state,
            tz: config.tz(),
            language: config.language,
            titles: Titles::new(&config.imports.oneroster),
            log,
            school_id,
            year_by_column,
            by_section,
            by_user,
            roles_of,
            roles: HashMap::new(),
            years: BTreeMap::new(),
            exam_sessions: BTreeMap::new(),
            school_section_ids: BTreeSet::new(),
            current: String::new(),
            sections: BTreeMap::new(),
            section_skips: HashMap::new(),
            jclasses: BTreeMap::new(),
            pupil_class: BTreeMap::new(),
            pupils: HashMap::new(),
            group_students: Vec::new(),
            parts: HashMap::new(),
            section_parts: BTreeMap::new(),
            items: Map::default(),
            item_skips: HashMap::new(),
        }
    }

    /// The key of the school year of session `id`: up its parents to a schoolYear session,
    /// else by its `schoolYear` column (`schoolYear:<column>` when no session is that
    /// year).
    fn year_of(&self, id: &str) -> Option<String> {
        let mut cur = id;
        for _ in 0..16 {
            let s = self.state.sessions.get(cur)?;
            if s.kind == "schoolYear" {
                return Some(cur.to_string());
            }
            match s.parent.as_deref() {
                Some(p) if self.state.sessions.contains_key(p) => cur = p,
                _ => break,
            }
        }
        let s = self.state.sessions.get(id)?;
        let column = s.school_year.as_deref()?;
        Some(match self.year_by_column.get(column) {
            Some(y) => (*y).clone(),
            None => format!("schoolYear:{column}"),
        })
    }

    /// The year the journal's classes are made for.
    fn current_year(&self) -> &Year {
        &self.years[&self.current]
    }

    /// Academic years (docs: "Years and periods").
    fn academic_years(&mut self) -> Rows {
        let state = self.state;
        for (id, s) in &state.sessions {
            if s.kind == "schoolYear" {
                self.years.insert(
                    id.clone(),
                    Year {
                        name: s.title.clone(),
                        start: date(&s.start),
                        end: date(&s.end),
                    },
                );
            }
        }
        // Years made from the `schoolYear` column of sessions whose year has no row of its
        // own.
        for (id, s) in &state.sessions {
            if let Some(key) = self.year_of(id).filter(|k| k.starts_with("schoolYear:")) {
                let (start, end) = (date(&s.start), date(&s.end));
                let y = self.years.entry(key).or_insert(Year {
                    name: String::new(),
                    start,
                    end,
                });
                y.start = y.start.min(start);
                y.end = y.end.max(end);
            }
        }
        for (key, y) in self.years.iter_mut() {
            if key.starts_with("schoolYear:") {
                y.name = if y.start.format("%Y").to_string() == y.end.format("%Y").to_string() {
                    y.start.format("%Y").to_string()
                } else {
                    format!("{}/{}", y.start.format("%Y"), y.end.format("%Y"))
                };
                self.log.note(format!(
                    "academic year {} made from the schoolYear column of its sessions \
                     (academicSessions.csv has no schoolYear row for it): {} – {}",
                    y.name, y.start, y.end
                ));
            }
        }
        let mut year_rows = Rows::new("academic_years", YEARS);
        for (key, y) in &self.years {
            year_rows.rows.insert(
                key.clone(),
                vec![
                    V::text(&y.name),
                    V::text(y.start.to_string()),
                    V::text(y.end.to_string()),
                ],
            );
        }
        year_rows
    }

    /// Periods (docs: "Years and periods"): the year, its terms and its exam sessions.
    fn periods(&mut self) -> Rows {
        let mut by_year = self.sessions_by_year();
        let mut period_rows = Rows::new("periods", PERIODS);
        let years: Vec<(String, Year)> = self
            .years
            .iter()
            .map(|(k, y)| (k.clone(), y.clone()))
            .collect();
        for (key, y) in &years {
            period_rows.rows.insert(
                format!("year:{key}"),
                period_row(key, "year", 1, &y.name, y.start, y.end),
            );
            self.term_periods(key, y, &mut by_year, &mut period_rows);
            if let Some(list) = by_year.get_mut(&(key.clone(), EXAM_SESSIONS)) {
                self.exam_periods(key, y, list, &mut period_rows);
            }
        }
        period_rows
    }

    /// The sessions that may be periods, by year and type; exam sessions (by their title)
    /// under [`EXAM_SESSIONS`] whatever their type. Sessions of `ext:` types and sessions of
    /// no year are skipped.
    fn sessions_by_year(&mut self) -> SessionsByYear<'s> {
        let state = self.state;
        let mut by_year: SessionsByYear<'s> = BTreeMap::new();
        for (id, s) in &state.sessions {
            if s.kind == "schoolYear" {
                continue;
            }
            match self.year_of(id) {
                Some(_) if s.kind.starts_with("ext:") => {
                    self.log.skip(
                        "academic session",
                        format!("type {} is not a journal period", s.kind),
                        state.place("academicSessions", id),
                    );
                }
                Some(y) => {
                    let kind = match self.titles.is_exam(&s.title) {
                        true => EXAM_SESSIONS,
                        false => s.kind.as_str(),
                    };
                    by_year.entry((y, kind)).or_default().push((id, s));
                }
                None => self.log.skip(
                    "academic session",
                    "no school year: neither parentSourcedId nor the schoolYear column leads to \
                     one",
                    state.place("academicSessions", id),
                ),
            }
        }
        by_year
    }

    /// The quarters, trimesters or halves of year `key` from its semester, term and
    /// gradingPeriod sessions.
    fn term_periods(
        &mut self,
        key: &str,
        y: &Year,
        by_year: &mut SessionsByYear<'s>,
        period_rows: &mut Rows,
    ) {
        let state = self.state;
        let mut taken: HashMap<&str, &str> = HashMap::new();
        for kind in ["semester", "term", "gradingPeriod"] {
            let Some(list) = by_year.get_mut(&(key.to_string(), kind)) else {
                continue;
            };
            list.sort_by(|a, b| (&a.1.start, a.0).cmp(&(&b.1.start, b.0)));
            if let Some(reason) = period_problem(y, kind, list, &taken) {
                for (id, _) in list.iter() {
                    self.log.skip(
                        "academic session",
                        reason.clone(),
                        state.place("academicSessions", id),
                    );
                }
                continue;
            }
            let k = journal_kind(kind, list.len()).expect("checked");
            taken.insert(k, kind);
            for (i, (id, s)) in list.iter().enumerate() {
                period_rows.rows.insert(
                    (*id).clone(),
                    period_row(key, k, i as i64 + 1, &s.title, &s.start, &s.end),
                );
            }
        }
    }

    /// The exam periods of year `key` from its exam sessions (sorted here by start).
    fn exam_periods(
        &mut self,
        key: &str,
        y: &Year,
        list: &mut [(&'s String, &'s Session)],
        period_rows: &mut Rows,
    ) {
        let state = self.state;
        list.sort_by(|a, b| (&a.1.start, a.0).cmp(&(&b.1.start, b.0)));
        if let Some(reason) = span_problem(y, list) {
            for (id, _) in list.iter() {
                self.log.skip(
                    "academic session",
                    format!("an exam session, but {reason}"),
                    state.place("academicSessions", id),
                );
            }
            return;
        }
        let sessions = self.exam_sessions.entry(key.to_string()).or_default();
        for (i, (id, s)) in list.iter().enumerate() {
            period_rows.rows.insert(
                (*id).clone(),
                period_row(key, "exam", i as i64 + 1, &s.title, &s.start, &s.end),
            );
            sessions.push(((*id).clone(), date(&s.start), date(&s.end)));
        }
    }

    /// Sections and the year the journal's classes are made for (docs: "Classes"): the
    /// school's sections that have a school year, of any year.
    fn school_sections(&mut self) -> BTreeMap<&'s str, Section<'s>> {
        let state = self.state;
        let mut school_sections: BTreeMap<&str, Section> = BTreeMap::new();
        for (id, c) in &state.classes {
            if let Some(other) = c.school.as_deref().filter(|s| *s != self.school_id) {
                self.section_skips
                    .insert(id, format!("of another school ({other})"));
                continue;
            }
            let year = c
                .terms
                .iter()
                .find_map(|t| self.year_of(t))
                .or_else(|| {
                    state
                        .courses
                        .get(&c.course)
                        .and_then(|co| co.school_year.as_deref())
                        .and_then(|y| self.year_of(y))
                })
                .filter(|y| self.years.contains_key(y));
            let Some(year) = year else {
                let reason = "no school year: its termSourcedIds (and its course's \
                              schoolYearSourcedId) lead to none"
                    .to_string();
                self.log
                    .skip("class", reason.clone(), state.place("classes", id));
                self.section_skips.insert(id, reason);
                continue;
            };
            school_sections.insert(
                id,
                Section {
                    id,
                    class: c,
                    course: &c.course,
                    year,
                },
            );
        }
        self.school_section_ids = school_sections.keys().copied().collect();
        school_sections
    }

    /// Roles (docs: "People").
    fn roles(&mut self) {
        let state = self.state;
        let roles = state
            .users
            .iter()
            .map(|(id, u)| (id.as_str(), self.role_of(id, u)))
            .collect();
        self.roles = roles;
    }

    fn role_of(&self, uid: &str, u: &User) -> Option<String> {
        if let Some(list) = self.roles_of.get(uid) {
            let rank = |r: &Role| {
                (
                    r.org.as_deref() != Some(self.school_id),
                    r.role_type.as_deref() != Some("primary"),
                )
            };
            return list
                .iter()
                .min_by(|a, b| (rank(a.1), a.0).cmp(&(rank(b.1), b.0)))
                .map(|(_, r)| r.role.clone());
        }
        if let Some(r) = &u.role {
            return Some(r.clone());
        }
        let enrolled: BTreeSet<&str> = self
            .by_user
            .get(uid)
            .into_iter()
            .flatten()
            .map(|(_, e)| e.role.as_str())
            .filter(|r| *r == "student" || *r == "teacher")
            .collect();
        (enrolled.len() == 1).then(|| enrolled.into_iter().next().unwrap().to_string())
    }

    fn is_student(&self, uid: &str) -> bool {
        self.roles
            .get(uid)
            .is_some_and(|r| r.as_deref() == Some("student"))
    }

    fn in_school(&self, uid: &str, u: &User) -> bool {
        u.orgs.is_empty()
            || u.orgs.iter().any(|o| o == self.school_id)
            || self.roles_of.get(uid).is_some_and(|rs| {
                rs.iter()
                    .any(|(_, r)| r.org.as_deref() == Some(self.school_id))
            })
            || self.by_user.get(uid).is_some_and(|es| {
                es.iter()
                    .any(|(_, e)| self.school_section_ids.contains(e.class.as_str()))
            })
    }

    /// The year: the latest that has sections with pupils; else the latest year. Keeps the
    /// sections of that year.
    fn current_sections(&mut self, school_sections: BTreeMap<&'s str, Section<'s>>) -> Result<()> {
        let state = self.state;
        let start_of = |y: &String| self.years.get(y).map(|y| y.start);
        let current = school_sections
            .values()
            .filter(|s| {
                self.by_section.get(s.id).is_some_and(|es| {
                    es.iter()
                        .any(|(_, e)| e.role == "student" && self.is_student(&e.user))
                })
            })
            .map(|s| s.year.clone())
            .max_by_key(|y| (start_of(y), y.clone()))
            .or_else(|| {
                self.years
                    .iter()
                    .max_by_key(|(k, y)| (y.start, (*k).clone()))
                    .map(|(k, _)| k.clone())
            });
        let Some(current) = current else {
            bail!(
                "no school year: academicSessions.csv (in this export or an earlier import) \
                 must give one, as a schoolYear session or in the schoolYear column of its terms"
            );
        };
        let current_year = &self.years[&current];
        let sections: BTreeMap<&str, Section> = school_sections
            .into_iter()
            .filter(|(id, s)| {
                if s.year == current {
                    return true;
                }
                let reason = format!(
                    "of school year {}, not {} (the latest in the export): a journal keeps one \
                     year's classes",
                    self.years[&s.year].name, current_year.name
                );
                self.log
                    .skip("class", reason.clone(), state.place("classes", id));
                self.section_skips.insert(id, reason);
                false
            })
            .collect();
        self.current = current;
        self.sections = sections;
        Ok(())
    }

    fn students_of(&self, section: &str) -> Vec<&'s str> {
        let mut v: Vec<&str> = self
            .by_section
            .get(section)
            .into_iter()
            .flatten()
            .filter(|(_, e)| e.role == "student" && self.is_student(&e.user))
            .map(|(_, e)| e.user.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    fn teacher_of(&self, section: &str) -> Option<&'s str> {
        let mut list: Vec<(&String, &Enrollment)> = self
            .by_section
            .get(section)
            .into_iter()
            .flatten()
            .copied()
            .filter(|(_, e)| e.role == "teacher")
            .collect();
        list.sort_by(|a, b| (!a.1.primary, a.0).cmp(&(!b.1.primary, b.0)));
        list.first().map(|(_, e)| e.user.as_str())
    }

    /// [`Self::teacher_of`], if imported as a teacher.
    fn imported_teacher_of(&self, section: &str, teachers: &Rows) -> Option<&'s str> {
        self.teacher_of(section)
            .filter(|t| teachers.rows.contains_key(*t))
    }

    fn section_grade(&self, s: &Section) -> Result<Option<i64>, String> {
        match grade_of(&s.class.grades)? {
            Some(g) => Ok(Some(g)),
            None => match self.state.courses.get(s.course) {
                Some(c) => grade_of(&c.grades),
                None => Ok(None),
            },
        }
    }

    /// Teachers.
    fn teachers(&mut self) -> Rows {
        let state = self.state;
        let teaching: BTreeSet<&str> = self
            .sections
            .keys()
            .filter_map(|s| self.teacher_of(s))
            .collect();
        let mut teacher_rows = Rows::new("teachers", PEOPLE);
        for (uid, u) in &state.users {
            if self.roles[uid.as_str()].as_deref() != Some("teacher") {
                continue;
            }
            if !(self.in_school(uid, u) || teaching.contains(uid.as_str())) {
                self.log.skip(
                    "user",
                    "a teacher of another school",
                    state.place("users", uid),
                );
                continue;
            }
            match named(u) {
                Ok((last, first)) => {
                    teacher_rows.rows.insert(
                        uid.clone(),
                        vec![
                            V::text(last),
                            V::text(first),
                            V::opt_text(u.middle.as_deref()),
                        ],
                    );
                }
                Err(why) => self.log.skip("user", why, state.place("users", uid)),
            }
        }
        teacher_rows
    }

    /// Journal classes: homerooms, then a class per grade for pupils without one. Makes the
    /// homerooms' classes; returns pupil → their homerooms.
    fn homerooms(&mut self, teachers: &Rows) -> BTreeMap<&'s str, Vec<&'s str>> {
        let state = self.state;
        let mut homeroom_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in self.sections.values() {
            if s.class.class_type.as_deref() != Some("homeroom") {
                continue;
            }
            let members = self.students_of(s.id);
            if members.is_empty() {
                self.log.skip(
                    "class",
                    "a homeroom without pupils",
                    state.place("classes", s.id),
                );
                self.section_skips
                    .insert(s.id, "a homeroom without pupils".into());
                continue;
            }
            match self.homeroom_grade(s, &members) {
                Ok(grade) => {
                    for m in &members {
                        homeroom_of.entry(m).or_default().push(s.id);
                    }
                    let teacher = self.imported_teacher_of(s.id, teachers);
                    self.jclasses.insert(
                        s.id.to_string(),
                        JClass {
                            key: s.id.to_string(),
                            grade,
                            name: s.class.title.clone(),
                            code: s.class.code.clone(),
                            teacher: teacher.map(str::to_string),
                        },
                    );
                }
                Err(reason) => {
                    self.log
                        .skip("class", reason.clone(), state.place("classes", s.id));
                    self.section_skips.insert(s.id, reason);
                }
            }
        }
        homeroom_of
    }

    fn homeroom_grade(&self, s: &Section, members: &[&str]) -> Result<i64, String> {
        match self.section_grade(s)? {
            Some(g) => Ok(g),
            None => {
                let grades: BTreeSet<Option<i64>> = members
                    .iter()
                    .map(|m| grade_of(&self.state.users[*m].grades).ok().flatten())
                    .collect();
                match (grades.len(), grades.iter().next()) {
                    (1, Some(Some(g))) => Ok(*g),
                    _ => Err(
                        "no grade: neither its grades, its course's grades nor its pupils' \
                              grades give one grade in 1–11"
                            .to_string(),
                    ),
                }
            }
        }
    }

    /// Pupils.
    fn pupils(&mut self, homeroom_of: &BTreeMap<&'s str, Vec<&'s str>>) -> Rows {
        let state = self.state;
        let mut student_rows = Rows::new("students", STUDENTS);
        for (uid, u) in &state.users {
            if self.roles[uid.as_str()].as_deref() != Some("student") {
                continue;
            }
            if !self.in_school(uid, u) {
                self.log.skip(
                    "user",
                    "a pupil of another school",
                    state.place("users", uid),
                );
                continue;
            }
            let (last, first) = match named(u) {
                Ok(n) => n,
                Err(why) => {
                    self.log.skip("user", why, state.place("users", uid));
                    continue;
                }
            };
            let Some(class_key) = self.class_of_pupil(uid, u, homeroom_of) else {
                continue;
            };
            let grade = self.jclasses[&class_key].grade;
            self.pupils.insert(uid.clone(), grade);
            student_rows.rows.insert(
                uid.clone(),
                vec![
                    V::Ref("classes", class_key.as_str().into()),
                    V::text(last),
                    V::text(first),
                    V::opt_text(u.middle.as_deref()),
                ],
            );
            self.pupil_class.insert(uid, class_key);
        }
        student_rows
    }

    /// The key of a pupil's class: their homeroom's, else their grade's (made when first
    /// needed); none, with the reason logged, for a pupil without a grade.
    fn class_of_pupil(
        &mut self,
        uid: &str,
        u: &User,
        homeroom_of: &BTreeMap<&'s str, Vec<&'s str>>,
    ) -> Option<String> {
        let state = self.state;
        let place = || state.place("users", uid);
        if let Some(hrs) = homeroom_of.get(uid) {
            if hrs.len() > 1 {
                self.log.note(format!(
                    "pupil {uid} is in {} homerooms ({}); placed in {}",
                    hrs.len(),
                    hrs.join(", "),
                    hrs[0]
                ));
            }
            return Some(hrs[0].to_string());
        }
        let grade = match grade_of(&u.grades) {
            Ok(Some(g)) => Some(g),
            Ok(None) => {
                let from_sections: BTreeSet<i64> = self
                    .by_user
                    .get(uid)
                    .into_iter()
                    .flatten()
                    .filter(|(_, e)| e.role == "student")
                    .filter_map(|(_, e)| self.sections.get(e.class.as_str()))
                    .filter_map(|s| self.section_grade(s).ok().flatten())
                    .collect();
                (from_sections.len() == 1).then(|| *from_sections.iter().next().unwrap())
            }
            Err(reason) => {
                self.log
                    .skip("user", format!("a pupil whose {reason}"), place());
                return None;
            }
        };
        let Some(grade) = grade else {
            self.log.skip(
                "user",
                "a pupil without a grade: neither users.csv grades, a homeroom nor the grades \
                 of their classes give one in 1–11",
                place(),
            );
            return None;
        };
        let key = format!("{}:grade:{grade}", self.current);
        self.jclasses.entry(key.clone()).or_insert(JClass {
            key: key.clone(),
            grade,
            name: grade.to_string(),
            code: None,
            teacher: None,
        });
        Some(key)
    }

    /// The rows of the classes that have pupils. Class names are unique within the year.
    fn classes(&self) -> Rows {
        let mut class_rows = Rows::new("classes", CLASSES);
        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for c in self.jclasses.values() {
            *names.entry(c.name.to_lowercase()).or_default() += 1;
        }
        let class_size = class_sizes(&self.pupil_class);
        for c in self.jclasses.values() {
            if !class_size.contains_key(c.key.as_str()) {
                continue;
            }
            let name = if names[&c.name.to_lowercase()] > 1 {
                format!("{} ({})", c.name, c.code.as_deref().unwrap_or(&c.key))
            } else {
                c.name.clone()
            };
            class_rows.rows.insert(
                c.key.clone(),
                vec![
                    V::Ref("academic_years", self.current.as_str().into()),
                    V::Int(c.grade),
                    V::text(letter(&c.name)),
                    V::text(name),
                    V::opt_ref("teachers", c.teacher.as_ref()),
                ],
            );
        }
        class_rows
    }

    /// Guardians: their rows, and (student key, guardian key, relation) of each link.
    fn guardians(&mut self) -> (Rows, Vec<(String, String, Option<String>)>) {
        let state = self.state;
        let mut guardian_rows = Rows::new("guardians", GUARDIANS);
        let mut links: BTreeMap<(String, String), Option<String>> = BTreeMap::new();
        let agent_of = self.agents();
        for (uid, u) in &state.users {
            let role = self.roles[uid.as_str()].as_deref();
            let is_guardian = matches!(role, Some("parent" | "guardian"))
                || (role.is_none() && agent_of.contains_key(uid.as_str()));
            if !is_guardian {
                match role {
                    Some("student" | "teacher") => {}
                    Some(r) => self.log.skip(
                        "user",
                        format!("role {r} is not imported (pupils, teachers and guardians are)"),
                        state.place("users", uid),
                    ),
                    None => self.log.skip(
                        "user",
                        "no role (roles.csv, a role column, an enrollment or an agentSourcedIds \
                         link would give one)",
                        state.place("users", uid),
                    ),
                }
                continue;
            }
            let children: Vec<&str> = agent_of
                .get(uid.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|c| self.pupils.contains_key(*c))
                .collect();
            if children.is_empty() {
                self.log.skip(
                    "user",
                    "a guardian of no imported pupil (agentSourcedIds)",
                    state.place("users", uid),
                );
                continue;
            }
            let (last, first) = match named(u) {
                Ok(n) => n,
                Err(why) => {
                    self.log.skip("user", why, state.place("users", uid));
                    continue;
                }
            };
            let contact = u
                .email
                .as_deref()
                .or(u.phone.as_deref())
                .or(u.sms.as_deref());
            guardian_rows.rows.insert(
                uid.clone(),
                vec![
                    V::text(last),
                    V::text(first),
                    V::opt_text(u.middle.as_deref()),
                    V::opt_text(contact),
                ],
            );
            for c in children {
                links.insert((c.to_string(), uid.clone()), role.map(str::to_string));
            }
        }
        let links = links
            .into_iter()
            .map(|((s, g), relation)| (s, g, relation))
            .collect();
        (guardian_rows, links)
    }

    /// User → the imported pupils linked to them by agentSourcedIds (theirs or the
    /// pupils').
    fn agents(&self) -> BTreeMap<&'s str, BTreeSet<&'s str>> {
        let state = self.state;
        let mut agent_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (uid, u) in &state.users {
            for a in &u.agents {
                if self.pupil_class.contains_key(uid.as_str()) {
                    agent_of.entry(a.as_str()).or_default().insert(uid);
                } else if self.pupil_class.contains_key(a.as_str()) {
                    agent_of.entry(uid.as_str()).or_default().insert(a);
                }
            }
        }
        agent_of
    }

    /// Subjects, groups and who is taught what (docs: "Classes and groups"): the subjects'
    /// and groups' rows.
    fn subjects_and_groups(&mut self) -> (Rows, Rows) {
        let state = self.state;
        let mut subject_rows = Rows::new("subjects", SUBJECTS);
        let mut group_rows = Rows::new("groups", GROUPS);
        let mut group_names: BTreeMap<(String, String), Vec<(String, &str)>> = BTreeMap::new();
        let class_size = class_sizes(&self.pupil_class);
        for s in self.sections.values() {
            if self.section_skips.contains_key(s.id) {
                continue;
            }
            let mut by_class: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for p in self.students_of(s.id) {
                if let Some(c) = self.pupil_class.get(p) {
                    by_class.entry(c.as_str()).or_default().push(p);
                }
            }
            if by_class.is_empty() {
                let reason = "no imported pupils are enrolled in it".to_string();
                self.log
                    .skip("class", reason.clone(), state.place("classes", s.id));
                self.section_skips.insert(s.id, reason);
                continue;
            }
            let Some(course) = state.courses.get(s.course) else {
                continue;
            };
            subject_rows.rows.insert(
                s.course.to_string(),
                vec![
                    V::text(&course.title),
                    V::text(course.code.as_deref().unwrap_or(&course.title)),
                ],
            );
            for (class_key, members) in by_class {
                let group = if members.len() == class_size[class_key] {
                    None
                } else {
                    let key = format!("{}@{class_key}", s.id);
                    group_names
                        .entry((class_key.to_string(), s.class.title.to_lowercase()))
                        .or_default()
                        .push((key.clone(), s.id));
                    group_rows.rows.insert(
                        key.clone(),
                        vec![
                            V::Ref("classes", class_key.into()),
                            V::Ref("subjects", s.course.into()),
                            V::text(&s.class.title),
                        ],
                    );
                    for m in &members {
                        self.group_students.push((key.clone(), m.to_string()));
                    }
                    Some(key)
                };
                for m in &members {
                    self.parts
                        .entry(s.id.to_string())
                        .or_default()
                        .insert(m.to_string(), class_key.to_string());
                }
                self.section_parts
                    .entry(s.id)
                    .or_default()
                    .push((class_key.into(), group.map(Rc::from)));
            }
        }
        // Two groups of one class named alike are told apart by their class code or id.
        for keys in group_names.values().filter(|k| k.len() > 1) {
            for (key, section) in keys {
                let section = &self.sections[section];
                let row = group_rows.rows.get_mut(key).expect("group");
                row[2] = V::text(format!(
                    "{} ({})",
                    section.class.title,
                    section.class.code.as_deref().unwrap_or(section.id)
                ));
            }
        }
        (subject_rows, group_rows)
    }

    /// Work types: of every category but those of exams and final marks, whose line items
    /// give period marks, which have no work type.
    fn work_types(&mut self) -> Rows {
        let mut work_rows = Rows::new("work_types", WORK_TYPES);
        for (id, c) in &self.state.categories {
            if let Some(kind) = self.titles.of(&c.title) {
                self.log.skip(
                    "category",
                    format!(
                        "its line items give {} marks (period marks), which have no work type",
                        kind.kind()
                    ),
                    self.state.place("categories", id),
                );
                continue;
            }
            let weight = match c.weight {
                Some(w) if w > 0.0 => w,
                Some(w) => {
                    self.log.note(format!(
                        "category {} ({id}) has weight {w}, not a positive number: its work \
                         type weighs 1",
                        c.title
                    ));
                    1.0
                }
                None => 1.0,
            };
            work_rows
                .rows
                .insert(id.clone(), vec![V::text(&c.title), V::Real(weight)]);
        }
        work_rows
    }

    /// Lessons: one per line item and class (docs: "Line items → lessons"), but none of an
    /// exam or final line item. In key order; fills `items` and `item_skips`.
    fn lessons(&mut self, teachers: &Rows, work_types: &Rows) -> Vec<Lesson<'s>> {
        let state = self.state;
        let mut lessons: Vec<Lesson<'s>> = Vec::new();
        let mut items = Map::default();
        let mut outside_period = 0;
        let mut section_teacher: HashMap<&str, Option<&'s str>> = HashMap::new();
        let mut dates: HashMap<NaiveDate, Rc<str>> = HashMap::new();
        for (id, li) in &state.line_items {
            let (s, class_parts, day) = match self.where_taught(li) {
                Ok(found) => found,
                Err(reason) => {
                    self.log
                        .skip("line item", reason.clone(), state.place("lineItems", id));
                    self.item_skips.insert(id.as_str(), reason);
                    continue;
                }
            };
            if let Some(p) = li.period.as_deref().and_then(|p| state.sessions.get(p))
                && (day < date(&p.start) || day > date(&p.end))
            {
                outside_period += 1;
            }
            let attested = self.attested(li);
            if attested.is_none() {
                let teacher = *section_teacher
                    .entry(s.id)
                    .or_insert_with(|| self.imported_teacher_of(s.id, teachers));
                let date = dates
                    .entry(day)
                    .or_insert_with(|| day.to_string().into())
                    .clone();
                lessons.extend(lessons_of(id, li, s, class_parts, teacher, date));
            }
            let typed = li
                .category
                .as_deref()
                .is_some_and(|c| work_types.rows.contains_key(c));
            items.insert(
                id.as_str(),
                Item {
                    line_item: li,
                    course: s.course,
                    typed,
                    day,
                    attested,
                    attests: None,
                },
            );
        }
        self.items = items;
        if outside_period > 0 {
            self.log.note(format!(
                "{outside_period} line item(s) are dated outside their grading period; their \
                 marks count in the period of their date"
            ));
        }
        sorted_lessons(lessons)
    }

    /// Whether a line item's results are exam or final marks: by its category's title,
    /// else by its own (docs: "Exams and final marks").
    fn attested(&self, li: &LineItem) -> Option<Attested> {
        let category = li
            .category
            .as_deref()
            .and_then(|c| self.state.categories.get(c));
        category
            .and_then(|c| self.titles.of(&c.title))
            .or_else(|| self.titles.of(&li.title))
    }

    /// The periods the results of exam and final line items are period marks of (docs:
    /// "Exams and final marks"): an exam session of the year, else an exam period made
    /// from the exam line items' days; the year's final mark. Adds the periods made to
    /// `period_rows`; skips exam line items outside every exam session.
    fn attested_periods(&mut self, period_rows: &mut Rows) {
        let state = self.state;
        let current = self.current.clone();
        let year = self.current_year().clone();
        let sessions = self.exam_sessions.remove(&current).unwrap_or_default();
        let mut made: BTreeMap<Attested, (NaiveDate, NaiveDate)> = BTreeMap::new();
        let mut skipped = Vec::new();
        for (id, item) in self.items.iter_mut() {
            let Some(kind) = item.attested else { continue };
            let key = match kind {
                Attested::Exam if !sessions.is_empty() => match exam_session_of(&sessions, item) {
                    Ok(key) => key,
                    Err(reason) => {
                        skipped.push((*id, reason));
                        continue;
                    }
                },
                Attested::Exam => {
                    let span = made.entry(kind).or_insert((item.day, item.day));
                    *span = (span.0.min(item.day), span.1.max(item.day));
                    format!("{}:{current}", kind.kind())
                }
                Attested::Final => {
                    made.insert(kind, (year.start, year.end));
                    format!("{}:{current}", kind.kind())
                }
            };
            item.attests = Some(key.into());
        }
        for (id, reason) in skipped {
            self.items.remove(id);
            self.log
                .skip("line item", reason.clone(), state.place("lineItems", id));
            self.item_skips.insert(id, reason);
        }
        for (kind, (start, end)) in made {
            let name = kind.period_name(self.language);
            period_rows.rows.insert(
                format!("{}:{current}", kind.kind()),
                period_row(&current, kind.kind(), 1, name, start, end),
            );
        }
    }

    /// Where and when a line item is taught: its section, the parts of it, and the day of
    /// its lessons; or why it makes no lessons.
    fn where_taught(&self, li: &LineItem) -> Result<(&Section<'s>, &[Part], NaiveDate), String> {
        let Some(s) = self.sections.get(&*li.class) else {
            let why = self
                .section_skips
                .get(&*li.class)
                .cloned()
                .unwrap_or_else(|| "not imported".into());
            return Err(format!("its class {} is skipped: {why}", li.class));
        };
        let Some(class_parts) = self.section_parts.get(s.id).map(Vec::as_slice) else {
            let why = self
                .section_skips
                .get(s.id)
                .cloned()
                .unwrap_or_else(|| "no imported pupils".into());
            return Err(format!("its class {} is skipped: {why}", s.id));
        };
        let Some(day) = li
            .due
            .as_deref()
            .or(li.assign.as_deref())
            .and_then(|d| day_of(d, self.tz))
        else {
            return Err("no dueDate nor assignDate to date its lesson".into());
        };
        let year = self.current_year();
        if day < year.start || day > year.end {
            return Err(format!(
                "dated {day}, outside the school year {} ({} – {})",
                year.name, year.start, year.end
            ));
        }
        Ok((s, class_parts, day))
    }
}

/// The lessons of a line item: one per part of its section (a class, or a group of it).
fn lessons_of<'s>(
    id: &str,
    li: &'s LineItem,
    s: &Section<'s>,
    parts: &[Part],
    teacher: Option<&'s str>,
    date: Rc<str>,
) -> impl Iterator<Item = Lesson<'s>> {
    let number = s
        .class
        .periods
        .iter()
        .find_map(|p| p.parse::<i64>().ok().filter(|n| (0..=20).contains(n)))
        .unwrap_or(1);
    let (subject, room) = (s.course, s.class.location.as_deref());
    parts.iter().map(move |(class_key, group)| Lesson {
        key: lesson_key(id, class_key).into(),
        class: class_key.clone(),
        group: group.clone(),
        subject,
        teacher,
        date: date.clone(),
        number,
        room,
        topic: &li.title,
    })
}

/// Lessons in key order; of two lessons with one key (an item id holding `|`), the later
/// stays.
fn sorted_lessons(mut lessons: Vec<Lesson<'_>>) -> Vec<Lesson<'_>> {
    lessons.sort_by(|a, b| a.key.cmp(&b.key));
    lessons.dedup_by(|later, earlier| {
        let same = later.key == earlier.key;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    lessons
}

/// The exam session (of `sessions`: key, start, end) an exam line item's results belong
/// to: the one its academicSessionSourcedId names, else the one its day falls in.
fn exam_session_of(
    sessions: &[(String, NaiveDate, NaiveDate)],
    item: &Item<'_>,
) -> Result<String, String> {
    let named = item.line_item.period.as_deref();
    sessions
        .iter()
        .find(|(key, _, _)| Some(key.as_str()) == named)
        .or_else(|| {
            sessions
                .iter()
                .find(|(_, start, end)| (*start..=*end).contains(&item.day))
        })
        .map(|(key, _, _)| key.clone())
        .ok_or_else(|| {
            format!(
                "an exam dated {}, in none of the exam sessions ({})",
                item.day,
                sessions
                    .iter()
                    .map(|(key, start, end)| format!("{key}: {start} – {end}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades() {
        let g = |v: &[&str]| grade_of(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(g(&[]), Ok(None));
        assert_eq!(g(&["09"]), Ok(Some(9)));
        assert_eq!(g(&["5", "05"]), Ok(Some(5)));
        assert!(g(&["12"]).is_err());
        assert!(g(&["KG"]).is_err());
        assert!(g(&["05", "06"]).is_err());
    }
}
