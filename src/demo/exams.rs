//! The state exams and final marks of the demo's leaving classes: ОГЭ in grade 9 and ЕГЭ
//! in grade 11 (Russian and mathematics for everyone, electives by the pupil's choice),
//! and the final (итоговая) mark of every subject with a year mark — in grade 9 the mean
//! of the year and exam marks, rounded half up, in grade 11 the year mark.
//!
//! Periods belong to the school's year, not to a grade, so the exam session and the final
//! mark are two periods of the year (`exam` and `final`) in which only pupils of grades 9
//! and 11 have marks. The results come after the session: their marks have no set date,
//! so the diary shows them once their period is over.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use rand::Rng;
use rand::seq::IndexedRandom;
use rusqlite::{Connection, params};

use super::calendar::{EXAM_SESSION, FINAL_MARKS, YEAR_END, YEAR_START};
use super::curriculum::Subject::{self, *};
use super::normal;

/// Exams everyone sits; the mathematics exam's mark goes to algebra.
const MANDATORY: [Subject; 2] = [Russian, Algebra];
/// Exams by choice and how popular each is.
const ELECTIVES: [(Subject, f64); 9] = [
    (Social, 5.0),
    (Informatics, 3.0),
    (Biology, 2.5),
    (Geography, 2.5),
    (English, 2.0),
    (Chemistry, 1.5),
    (Physics, 1.5),
    (History, 1.5),
    (Literature, 1.0),
];

/// The grades that sit the state exams.
const LEAVING: [i64; 2] = [9, 11];

/// Writes the exam and final periods and their marks, when the school has leavers.
pub(super) fn write(conn: &Connection, rng: &mut impl Rng) -> Result<()> {
    let pupils: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT s.id, c.grade FROM students s JOIN classes c ON c.id = s.class_id \
             WHERE c.grade IN (?1, ?2) ORDER BY s.id",
        )?
        .query_map(params![LEAVING[0], LEAVING[1]], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    if pupils.is_empty() {
        return Ok(());
    }
    let year: i64 = conn
        .query_row(
            "SELECT id FROM periods WHERE kind = 'year' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .context("the year period")?;
    let (exam, last) = write_periods(conn)?;
    let mut insert = conn.prepare(
        "INSERT INTO period_marks (student_id, subject_id, period_id, value, comment) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (student, grade) in pupils {
        let year_marks = year_marks(conn, student, year)?;
        let exams = exam_marks(grade, &year_marks, rng);
        for (subject, mark, comment) in &exams {
            insert.execute(params![
                student,
                subject.id(),
                exam,
                mark.to_string(),
                comment
            ])?;
        }
        for (&subject, &mark) in &year_marks {
            let sat = exams.iter().find(|e| e.0 == subject).map(|e| e.1);
            let final_mark = match sat {
                Some(exam) if grade == 9 => (mark + exam).div_ceil(2),
                _ => mark,
            };
            let none: Option<&str> = None;
            insert.execute(params![
                student,
                subject.id(),
                last,
                final_mark.to_string(),
                none
            ])?;
        }
    }
    Ok(())
}

/// The exam session and the final mark as periods of the year; returns their ids.
fn write_periods(conn: &Connection) -> Result<(i64, i64)> {
    let next: i64 = conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM periods", [], |r| {
        r.get(0)
    })?;
    let mut period = conn.prepare(
        "INSERT INTO periods (id, year_id, kind, number, name, starts_on, ends_on) \
         VALUES (?1, 1, ?2, 1, ?3, ?4, ?5)",
    )?;
    let (name, from, to) = EXAM_SESSION;
    period.execute(params![next, "exam", name, from, to])?;
    period.execute(params![
        next + 1,
        "final",
        FINAL_MARKS,
        YEAR_START,
        YEAR_END
    ])?;
    Ok((next, next + 1))
}

/// A pupil's numeric year marks by subject.
fn year_marks(conn: &Connection, student: i64, year: i64) -> Result<BTreeMap<Subject, u8>> {
    let rows: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT subject_id, value FROM period_marks WHERE student_id = ?1 AND period_id = ?2",
        )?
        .query_map([student, year], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, v)| Some((Subject::from_id(s)?, v.parse().ok()?)))
        .collect())
}

/// The exams a pupil sat (mandatory, then the electives they chose among the subjects
/// they have a year mark in), each with its mark, near the year mark, and a comment.
fn exam_marks(
    grade: i64,
    year_marks: &BTreeMap<Subject, u8>,
    rng: &mut impl Rng,
) -> Vec<(Subject, u8, String)> {
    let count = if grade == 9 {
        2
    } else {
        rng.random_range(1..=3)
    };
    let offered: Vec<(Subject, f64)> = ELECTIVES
        .iter()
        .copied()
        .filter(|(s, _)| year_marks.contains_key(s))
        .collect();
    let electives: Vec<Subject> = offered
        .choose_multiple_weighted(rng, count, |e| e.1)
        .map(|chosen| chosen.map(|e| e.0).collect())
        .unwrap_or_default();
    MANDATORY
        .iter()
        .chain(&electives)
        .filter_map(|&subject| {
            let year = *year_marks.get(&subject)?;
            let mark = (f64::from(year) + normal(rng, -0.2, 0.6))
                .round()
                .clamp(2.0, 5.0) as u8;
            Some((subject, mark, comment(grade, subject, mark, rng)))
        })
        .collect()
}

/// «ОГЭ по русскому языку», «ЕГЭ по математике, тестовый балл 72».
fn comment(grade: i64, subject: Subject, mark: u8, rng: &mut impl Rng) -> String {
    let what = if subject == Algebra {
        "математике"
    } else {
        subject.dative()
    };
    if grade == 9 {
        return format!("ОГЭ по {what}");
    }
    let score = match mark {
        5 => rng.random_range(81..=100),
        4 => rng.random_range(61..=80),
        3 => rng.random_range(36..=60),
        _ => rng.random_range(15..=35),
    };
    format!("ЕГЭ по {what}, тестовый балл {score}")
}
