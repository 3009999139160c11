//! Results → marks (docs/import-oneroster.md, "Results → marks"), and, for exam and final
//! line items, → period marks ("Exams and final marks"). results.csv is read a second time
//! (it was checked before the journal was opened), one row at a time, into compact marks.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use anyhow::{Context, Result, bail};
use rusqlite::types::ValueRef;

use super::Log;
use super::hash::{Map, Set, Strings};
use super::period_marks::{self, Keys, Wanted};
use super::project::{self, MARKS, Projection};
use super::records::{self, Outcome, Parsed};
use super::score::Converter;
use super::source::{File, Mode};
use super::state::State;
use super::sync::{Row, Sync};
use super::table::{day_of, local_stamp};
use crate::config::Config;

/// A mark made from a result, until it is written.
struct Mark {
    /// The result's sourcedId: `text[key.0..key.1]`.
    key: (u32, u32),
    /// The comment: `text[comment.0..comment.1]` (`comment.0` [`NONE`]: none).
    comment: (u32, u32),
    /// When it was entered: `text[entered.0..entered.1]` (`entered.0` [`NONE`]: unknown).
    entered: (u32, u32),
    /// The value: `words[value]` ([`NONE`]: none).
    value: u32,
    debt: bool,
    /// Whether `work_type` is given.
    typed: bool,
    student: i64,
    lesson: i64,
    work_type: i64,
}

const NONE: u32 = u32::MAX;

/// A mark with the texts and values marks take, as written.
struct MarkRow<'m> {
    mark: &'m Mark,
    text: &'m str,
    words: &'m Strings,
}

impl Row for MarkRow<'_> {
    fn values<'a>(&'a self, _: &Sync<'_>, out: &mut [ValueRef<'a>]) -> Result<()> {
        let m = self.mark;
        let text = |(start, end): (u32, u32)| match start {
            NONE => ValueRef::Null,
            _ => ValueRef::Text(&self.text.as_bytes()[start as usize..end as usize]),
        };
        out.copy_from_slice(&[
            ValueRef::Integer(m.student),
            ValueRef::Integer(m.lesson),
            match m.typed {
                true => ValueRef::Integer(m.work_type),
                false => ValueRef::Null,
            },
            match m.value {
                NONE => ValueRef::Null,
                i => ValueRef::Text(self.words.get(i).as_bytes()),
            },
            text(m.comment),
            ValueRef::Integer(i64::from(m.debt)),
            text(m.entered),
        ]);
        Ok(())
    }
}

/// What results.csv makes, gathered row by row.
#[derive(Default)]
struct Collected {
    marks: Vec<Mark>,
    period_marks: Vec<Wanted>,
    /// The marks' keys, comments and entry times.
    text: String,
    /// The values marks take (`5`, `зч`, …), each kept once.
    words: Strings,
    /// Not `bulk`: results that make no mark (any more).
    no_mark: Set<Box<str>>,
    /// Not `bulk`: results that made a period mark before and make none now.
    no_period_mark: Set<Box<str>>,
    /// Marks whose scoreDate is before their lesson: how many, and the first.
    early: (usize, String),
    /// The key of the lesson of the result being read (kept to be reused).
    lesson: String,
}

impl Collected {
    /// Keeps `s` in `text`: where it is.
    fn add(&mut self, s: &str) -> Result<(u32, u32)> {
        let start = u32::try_from(self.text.len()).context("results.csv is too large")?;
        self.text.push_str(s);
        let end = u32::try_from(self.text.len())
            .ok()
            .filter(|e| *e != NONE)
            .context("results.csv is too large")?;
        Ok((start, end))
    }

    fn key(&self, m: &Mark) -> &str {
        &self.text[m.key.0 as usize..m.key.1 as usize]
    }
}

/// What turning one result into a mark needs besides the result.
struct Marking<'a, 's> {
    proj: &'a Projection<'s>,
    conv: Converter<'a>,
    scales: Scales<'s>,
    tz: chrono_tz::Tz,
    mode: Mode,
    file: &'a str,
    /// Results that made period marks in earlier imports.
    had_period_marks: &'a BTreeMap<String, Keys>,
    /// Journal ids of the pupils, lessons and work types written (keys → ids).
    students: &'a Map<Rc<str>, i64>,
    lessons: &'a Map<Rc<str>, i64>,
    work_types: &'a Map<Rc<str>, i64>,
}

/// Results → marks and period marks. `bulk`: the marks (and exam and final marks) of results
/// not in the file go; `delta`: results `tobedeleted`, and results that no longer make a
/// mark, take their mark with them. Returns the ids of the marks written, sorted.
pub(super) fn marks(
    sync: &mut Sync,
    state: &State,
    proj: &Projection,
    config: &Config,
    log: &mut Log,
    (file, mode, rows): (&File, Mode, usize),
    result_scales: Vec<Parsed<records::ScaleLink>>,
) -> Result<Vec<i64>> {
    let had_period_marks = period_marks::stored(sync.conn())?;
    let mut out = Collected {
        marks: Vec::with_capacity(rows),
        ..Collected::default()
    };
    {
        let m = Marking {
            proj,
            conv: Converter {
                grading: &config.grading,
                settings: &config.imports.oneroster,
            },
            scales: Scales::new(state, result_scales),
            tz: config.tz(),
            mode,
            file: &file.name,
            had_period_marks: &had_period_marks,
            students: sync.ids("students"),
            lessons: sync.ids("lessons"),
            work_types: sync.ids("work_types"),
        };
        records::results(file.parts(), |result, line, o| {
            m.result(&mut out, log, result, line, o)
        })?;
    }
    if out.early.0 > 0 {
        log.note(format!(
            "{} result(s) have a scoreDate before the date of their line item's lesson (first: \
             {}): their marks are written without entered_at",
            out.early.0, out.early.1
        ));
    }
    let written = write_marks(sync, mode, &mut out)?;
    period_marks::write(
        sync,
        std::mem::take(&mut out.period_marks),
        (mode, &out.no_period_mark),
        had_period_marks,
        log,
    )?;
    Ok(written)
}

/// Writes the marks collected and deletes those of results gone; the ids written, sorted.
fn write_marks(sync: &mut Sync, mode: Mode, out: &mut Collected) -> Result<Vec<i64>> {
    let mut desired = std::mem::take(&mut out.marks);
    desired.sort_unstable_by(|a, b| out.key(a).cmp(out.key(b)));
    let done = sync.upsert(
        "marks",
        MARKS,
        desired.iter().map(|mark| {
            (
                out.key(mark),
                MarkRow {
                    mark,
                    text: &out.text,
                    words: &out.words,
                },
            )
        }),
        false,
    )?;
    drop_marks(sync, mode, &out.no_mark, done.stale)?;
    let mut written = done.written;
    written.sort_unstable();
    Ok(written)
}

impl Marking<'_, '_> {
    /// One row of results.csv (`o` `None`: `tobedeleted`).
    fn result(
        &self,
        out: &mut Collected,
        log: &mut Log,
        result: &str,
        line: u64,
        o: Option<Outcome<'_>>,
    ) -> Result<()> {
        let place = || format!("{} line {line}: {result}", self.file);
        let Some(o) = o else {
            self.gone(out, result);
            return Ok(());
        };
        let (item, class_key) = match self.placed(&o) {
            Ok(found) => found,
            Err(reason) => {
                log.skip("result", reason, place());
                self.gone(out, result);
                return Ok(());
            }
        };
        let matching = self.scales.of(result, &o, item);
        let (value, debt) = match self.conv.convert(&o, item.min(), item.max(), &matching) {
            Ok(converted) => converted,
            Err(reason) => {
                log.skip("result", reason, place());
                self.gone(out, result);
                return Ok(());
            }
        };
        if let Some(period) = &item.attests {
            let at = (item.course, &**period);
            return self.period_mark(out, log, (result, place()), &o, at, value);
        }
        if self.mode != Mode::Bulk && self.had_period_marks.contains_key(result) {
            out.no_period_mark.insert(result.into());
        }
        self.mark(out, result, &o, (item, class_key), (value, debt), place)
    }

    /// Marks the result as making no mark any more (not in `bulk`, where every result
    /// not written goes anyway).
    fn gone(&self, out: &mut Collected, result: &str) {
        if self.mode != Mode::Bulk {
            out.no_mark.insert(result.into());
            if self.had_period_marks.contains_key(result) {
                out.no_period_mark.insert(result.into());
            }
        }
    }

    /// The line item of a result and the key of the class its pupil is taught it in; or
    /// why the result makes no mark.
    fn placed<'p>(&'p self, o: &Outcome<'_>) -> Result<(&'p project::Item<'p>, &'p str), String> {
        let proj = self.proj;
        let Some(item) = proj.items.get(o.line_item) else {
            let why = proj
                .item_skips
                .get(o.line_item)
                .cloned()
                .unwrap_or_else(|| "not imported".into());
            return Err(format!("its line item is skipped: {why}"));
        };
        let Some(&grade) = proj.pupils.get(o.student) else {
            return Err("its student is not an imported pupil".into());
        };
        let Some(class_key) = proj.part(item.section(), o.student) else {
            return Err("its student is not enrolled in the line item's class".into());
        };
        if grade == 1 {
            return Err("first grade gets no marks".into());
        }
        Ok((item, class_key))
    }

    /// A mark on the line item's lesson for the pupil's class.
    fn mark(
        &self,
        out: &mut Collected,
        result: &str,
        o: &Outcome<'_>,
        (item, class_key): (&project::Item<'_>, &str),
        (value, debt): (Option<String>, bool),
        place: impl Fn() -> String,
    ) -> Result<()> {
        let id = |ids: &Map<Rc<str>, i64>, table: &str, key: &str| {
            ids.get(key)
                .copied()
                .with_context(|| format!("internal: {table} row {key} was not written"))
        };
        let student = id(self.students, "students", o.student)?;
        project::lesson_key_into(&mut out.lesson, o.line_item, class_key);
        let lesson = id(self.lessons, "lessons", &out.lesson)?;
        let work_type = match item.category() {
            Some(c) => Some(id(self.work_types, "work_types", c)?),
            None => None,
        };
        let value = match value {
            None => NONE,
            Some(v) => match out.words.add(&v) {
                (NONE, _) => bail!("too many mark values"),
                (i, _) => i,
            },
        };
        let entered = match o.score_date.and_then(|d| local_stamp(d, self.tz)) {
            Some(at) if day_of(&at, self.tz).is_some_and(|d| d >= item.day) => out.add(&at)?,
            Some(_) => {
                if out.early.0 == 0 {
                    out.early.1 = place();
                }
                out.early.0 += 1;
                (NONE, 0)
            }
            None => (NONE, 0),
        };
        let mark = Mark {
            key: out.add(result)?,
            comment: match o.comment {
                Some(c) => out.add(c)?,
                None => (NONE, 0),
            },
            entered,
            value,
            debt,
            typed: work_type.is_some(),
            student,
            lesson,
            work_type: work_type.unwrap_or_default(),
        };
        out.marks.push(mark);
        Ok(())
    }

    /// An exam or final mark: a period mark of the pupil for the line item's course in
    /// `period`, set on the scoreDate. It needs a value: a debt without one makes none.
    fn period_mark(
        &self,
        out: &mut Collected,
        log: &mut Log,
        (result, place): (&str, String),
        o: &Outcome<'_>,
        (course, period): (&str, &str),
        value: Option<String>,
    ) -> Result<()> {
        if self.mode != Mode::Bulk {
            out.no_mark.insert(result.into());
        }
        let Some(value) = value else {
            log.skip(
                "result",
                "an exam or final mark needs a score or textScore (a missing, late or \
                 incomplete result without one makes no period mark)",
                place,
            );
            if self.mode != Mode::Bulk && self.had_period_marks.contains_key(result) {
                out.no_period_mark.insert(result.into());
            }
            return Ok(());
        };
        out.period_marks.push(Wanted {
            result: result.into(),
            place,
            keys: Keys {
                student: o.student.to_string(),
                course: course.to_string(),
                period: period.to_string(),
            },
            value,
            comment: o.comment.map(str::to_string),
            set_on: o
                .score_date
                .and_then(|d| day_of(d, self.tz))
                .map(|d| d.to_string()),
        });
        Ok(())
    }
}

/// The score scales results are marked by.
struct Scales<'s> {
    state: &'s State,
    /// Result → the scale resultScoreScales.csv gives it.
    of_result: Map<String, String>,
    /// Line item → the scales lineItemScoreScales.csv gives it.
    of_item: HashMap<&'s str, Vec<&'s str>>,
}

impl<'s> Scales<'s> {
    fn new(state: &'s State, result_scales: Vec<Parsed<records::ScaleLink>>) -> Scales<'s> {
        let mut of_result: Map<String, String> = Map::default();
        for link in result_scales {
            if let Some(l) = link.record {
                of_result.insert(l.owner, l.scale);
            }
        }
        let mut of_item: HashMap<&str, Vec<&str>> = HashMap::new();
        for link in state.line_item_scales.values() {
            of_item.entry(&link.owner).or_default().push(&link.scale);
        }
        Scales {
            state,
            of_result,
            of_item,
        }
    }

    /// The score scales that apply to a result, most specific first.
    fn of(
        &self,
        result: &str,
        o: &Outcome<'_>,
        item: &project::Item<'_>,
    ) -> Vec<&'s records::ScoreScale> {
        let state = self.state;
        let mut scales: Vec<&records::ScoreScale> = Vec::new();
        let named = o.scale.or(self.of_result.get(result).map(String::as_str));
        for id in named
            .into_iter()
            .chain(self.of_item.get(o.line_item).into_iter().flatten().copied())
        {
            if let Some(s) = state.scales.get(id) {
                scales.push(s);
            }
        }
        scales.extend(
            state
                .scales
                .values()
                .filter(|s| s.class.as_deref() == Some(item.section())),
        );
        scales.extend(
            state
                .scales
                .values()
                .filter(|s| s.class.is_none() && s.course.as_deref() == Some(item.course)),
        );
        scales
    }
}

/// Deletes the marks of results no longer in the export (`bulk`) or dropped from it.
fn drop_marks(
    sync: &mut Sync,
    mode: Mode,
    dropped: &Set<Box<str>>,
    stale: Vec<(String, i64)>,
) -> Result<()> {
    let gone: Vec<i64> = stale
        .into_iter()
        .filter(|(key, _)| mode == Mode::Bulk || dropped.contains(key.as_str()))
        .map(|(_, id)| id)
        .collect();
    sync.delete("marks", &gone)
}
