//! What journal schema v2 added, filled in for the demo school once the rest of it is
//! written: the second shift, homework minutes, when marks were entered, when period marks
//! were set, the exams and final marks, how families receive the diary, and teachers'
//! remarks. Each part reads what it needs back from the journal and draws from its own
//! random stream, so everything written before it (people, lessons, marks, attendance)
//! stays exactly what it was for a seed.
//!
//! The journal stands as at the end of the school year, like the rest of the demo (a build
//! shows it as of its own day): the quarter and year marks carry the day their teacher set
//! them, in the period's last week; the exam and final marks, whose results come after the
//! exam session, have no such day yet, so the diary shows them once their period is over.

use std::collections::HashSet;
use std::ops::RangeInclusive;

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::Rng;
use rand::seq::IndexedRandom;
use rusqlite::{Connection, params};

use super::board::stamp;
use super::curriculum::{HomeworkStyle, Subject, WORK_TYPES};
use super::{calendar, exams, remarks, rng_for, shifts};

/// Random streams of the parts (those of the rest of the school are in `mod.rs`).
const SHIFT_STREAM: u64 = 5;
const HOMEWORK_STREAM: u64 = 6;
const ENTRY_STREAM: u64 = 7;
const PERIOD_STREAM: u64 = 8;
const EXAM_STREAM: u64 = 9;
const FAMILY_STREAM: u64 = 10;
const REMARK_STREAM: u64 = 11;

/// A teacher's estimate of one lesson's homework, in minutes.
const HOMEWORK_MINUTES: RangeInclusive<i64> = 10..=40;
/// The chance a day whose homework adds up to more than the grade's limit stays so.
const OVERLOADED: f64 = 0.06;
/// The chance a lesson's marks are entered more than a week after it.
const LATE_ENTRY: f64 = 0.002;
/// The share of families who receive the diary on paper only.
const PAPER_FAMILIES: f64 = 0.025;
/// The chance a grandmother in a family online prefers paper sheets herself.
const PAPER_GRANDMOTHER: f64 = 0.3;

/// What the pass wrote, for the summary.
pub(super) struct Records {
    pub second_shift: usize,
    pub remarks: usize,
}

/// Fills the v2 fields of a demo journal whose v1 part is written.
pub(super) fn write(conn: &Connection, seed: u64) -> Result<Records> {
    let second_shift =
        shifts::write(conn, &mut rng_for(seed, SHIFT_STREAM)).context("the second shift")?;
    homework_minutes(conn, &mut rng_for(seed, HOMEWORK_STREAM)).context("homework minutes")?;
    entry_times(conn, &mut rng_for(seed, ENTRY_STREAM)).context("when marks were entered")?;
    set_dates(conn, &mut rng_for(seed, PERIOD_STREAM)).context("when period marks were set")?;
    exams::write(conn, &mut rng_for(seed, EXAM_STREAM)).context("exams and final marks")?;
    deliveries(conn, &mut rng_for(seed, FAMILY_STREAM)).context("how families get the diary")?;
    let remarks =
        remarks::write(conn, &mut rng_for(seed, REMARK_STREAM)).context("teachers' remarks")?;
    Ok(Records {
        second_shift: second_shift.len(),
        remarks,
    })
}

/// `YYYY-MM-DD`.
fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| format!("date {text:?}"))
}

/// A lesson with homework set, as its estimate needs it.
struct Set {
    id: i64,
    class: i64,
    grade: i64,
    date: String,
    subject: i64,
    /// Due later than the next lesson: work for more than one evening.
    long: bool,
}

/// Homework minutes on every lesson that sets homework, by subject and grade. A day's sum
/// is brought within the grade's limit (`[homework] daily_minutes` by default), except
/// on a few days, which `diary check` warns about.
fn homework_minutes(conn: &Connection, rng: &mut impl Rng) -> Result<()> {
    let limits = crate::config::Homework::default();
    let lessons: Vec<Set> = conn
        .prepare(
            "SELECT l.id, l.class_id, c.grade, l.date, l.subject_id, l.homework_due IS NOT NULL \
             FROM lessons l JOIN classes c ON c.id = l.class_id \
             WHERE l.homework IS NOT NULL AND l.cancelled = 0 AND c.grade > 1 \
             ORDER BY l.class_id, l.date, l.number, l.id",
        )?
        .query_map([], |r| {
            Ok(Set {
                id: r.get(0)?,
                class: r.get(1)?,
                grade: r.get(2)?,
                date: r.get(3)?,
                subject: r.get(4)?,
                long: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare("UPDATE lessons SET homework_minutes = ?2 WHERE id = ?1")?;
    for day in lessons.chunk_by(|a, b| a.class == b.class && a.date == b.date) {
        let mut minutes: Vec<i64> = day.iter().map(|l| estimate(l, rng)).collect();
        let limit = limits.limit(day[0].grade).map_or(i64::MAX, i64::from);
        if minutes.iter().sum::<i64>() > limit && !rng.random_bool(OVERLOADED) {
            trim(&mut minutes, limit);
        }
        for (lesson, m) in day.iter().zip(minutes) {
            update.execute(params![lesson.id, m])?;
        }
    }
    Ok(())
}

/// A teacher's estimate: the subject's usual time, more in older grades and for work
/// due later, in steps of 5 minutes.
fn estimate(lesson: &Set, rng: &mut impl Rng) -> i64 {
    let style =
        Subject::from_id(lesson.subject).map_or(HomeworkStyle::Textbook, |s| s.homework_style());
    let by_grade = match lesson.grade {
        ..=3 => 0.6,
        4 => 0.75,
        5 => 0.8,
        6 => 0.9,
        7 | 8 => 1.0,
        9 => 1.2,
        _ => 1.3,
    };
    let long = if lesson.long { 1.3 } else { 1.0 };
    let m = style.minutes() * by_grade * long * rng.random_range(0.7..1.4);
    ((m / 5.0).round() as i64 * 5).clamp(*HOMEWORK_MINUTES.start(), *HOMEWORK_MINUTES.end())
}

/// Takes 5 minutes at a time off the longest estimates until the day fits `limit`.
fn trim(minutes: &mut [i64], limit: i64) {
    while minutes.iter().sum::<i64>() > limit {
        let Some(longest) = minutes
            .iter_mut()
            .filter(|m| **m > *HOMEWORK_MINUTES.start())
            .max()
        else {
            break;
        };
        *longest -= 5;
    }
}

/// A lesson with marks, as the time they were entered needs it.
struct Marked {
    id: i64,
    date: NaiveDate,
    /// When the lesson ends, by its shift's bells (None: a number without a bell).
    ends: Option<NaiveTime>,
    shift: i64,
    /// Written work the teacher checks at home.
    written: bool,
}

/// `marks.entered_at`: the marks of a lesson on its day, after it and by the shift's
/// deadline (15:00 or 20:00); written work a few days later, within the week; made-up
/// debts when the work was made up; and now and then a lesson's marks over a week late.
fn entry_times(conn: &Connection, rng: &mut impl Rng) -> Result<()> {
    for lesson in marked_lessons(conn)? {
        let at = entered(&lesson, rng);
        conn.prepare_cached("UPDATE marks SET entered_at = ?2 WHERE lesson_id = ?1")?
            .execute(params![lesson.id, stamp(at)])?;
    }
    let debts: Vec<(i64, String)> = conn
        .prepare(
            "SELECT m.id, l.date FROM marks m JOIN lessons l ON l.id = m.lesson_id \
             WHERE m.is_debt = 1 AND m.value IS NOT NULL ORDER BY m.id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare("UPDATE marks SET entered_at = ?2 WHERE id = ?1")?;
    for (id, date) in debts {
        let day = parse_date(&date)? + Duration::days(rng.random_range(2..=6));
        update.execute(params![id, stamp(evening(day, rng))])?;
    }
    Ok(())
}

/// Every lesson that has marks, with its end time and whether its work was written.
fn marked_lessons(conn: &Connection) -> Result<Vec<Marked>> {
    let written: Vec<String> = WORK_TYPES
        .iter()
        .filter(|(w, _, _)| w.written())
        .map(|(w, _, _)| w.id().to_string())
        .collect();
    let sql = format!(
        "SELECT l.id, l.date, c.shift, b.ends_at, max(m.work_type_id IN ({})) \
         FROM lessons l JOIN classes c ON c.id = l.class_id JOIN marks m ON m.lesson_id = l.id \
         LEFT JOIN bells b ON b.shift = c.shift AND b.number = l.number \
         GROUP BY l.id ORDER BY l.id",
        written.join(", ")
    );
    let rows: Vec<(i64, String, i64, Option<String>, bool)> = conn
        .prepare(&sql)?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(id, date, shift, ends, written)| {
            let ends = ends
                .map(|e| NaiveTime::parse_from_str(&e, "%H:%M"))
                .transpose()
                .with_context(|| format!("the bell of lesson id {id}"))?;
            Ok(Marked {
                id,
                date: parse_date(&date)?,
                ends,
                shift,
                written,
            })
        })
        .collect()
}

/// When the teacher entered a lesson's marks.
fn entered(lesson: &Marked, rng: &mut impl Rng) -> NaiveDateTime {
    if rng.random_bool(LATE_ENTRY) {
        return evening(lesson.date + Duration::days(rng.random_range(8..=20)), rng);
    }
    if lesson.written {
        return evening(lesson.date + Duration::days(rng.random_range(1..=6)), rng);
    }
    let hour = if lesson.shift == 2 { 20 } else { 15 };
    let deadline = lesson.date.and_time(NaiveTime::MIN) + Duration::hours(hour);
    let end = lesson.ends.map_or(deadline, |t| lesson.date.and_time(t));
    let latest = (end + Duration::minutes(120))
        .min(deadline)
        .max(end + Duration::minutes(10));
    end + Duration::minutes(rng.random_range(0..=(latest - end).num_minutes()))
}

/// A time on the evening of `day`, when teachers check written work at home.
fn evening(day: NaiveDate, rng: &mut impl Rng) -> NaiveDateTime {
    let minute = rng.random_range(16 * 60..22 * 60);
    day.and_time(NaiveTime::MIN) + Duration::minutes(minute)
}

/// `period_marks.set_on` of the quarters and the year: a school day in the period's last
/// week, one for each class and subject (the year's on or after its last quarter's).
fn set_dates(conn: &Connection, rng: &mut impl Rng) -> Result<()> {
    let days: Vec<NaiveDate> = calendar::school_days(2).iter().map(|d| d.date).collect();
    let rows: Vec<(i64, i64, i64, i64, String)> = conn
        .prepare(
            "SELECT pm.student_id, s.class_id, pm.subject_id, pm.period_id, p.ends_on \
             FROM period_marks pm JOIN students s ON s.id = pm.student_id \
             JOIN periods p ON p.id = pm.period_id WHERE p.kind IN ('quarter', 'year') \
             ORDER BY s.class_id, pm.subject_id, p.ends_on, p.id, pm.student_id",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = conn.prepare(
        "UPDATE period_marks SET set_on = ?4 WHERE student_id = ?1 AND subject_id = ?2 \
         AND period_id = ?3",
    )?;
    // (class, subject, period) and the day chosen for it.
    let mut chosen: Option<((i64, i64, i64), NaiveDate)> = None;
    for (student, class, subject, period, ends) in rows {
        let key = (class, subject, period);
        let day = match chosen {
            Some((k, day)) if k == key => day,
            _ => {
                let ends = parse_date(&ends)?;
                let earliest = match chosen {
                    Some(((c, s, _), day)) if (c, s) == (class, subject) => day,
                    _ => NaiveDate::MIN,
                };
                let week: Vec<NaiveDate> = days
                    .iter()
                    .copied()
                    .filter(|d| earliest <= *d && *d <= ends && *d > ends - Duration::days(7))
                    .collect();
                *week.choose(rng).unwrap_or(&ends)
            }
        };
        chosen = Some((key, day));
        update.execute(params![student, subject, period, date_text(day)])?;
    }
    Ok(())
}

/// `guardians.delivery` and `consent_on`: a few families get paper sheets only (more
/// often those of a grandmother or a guardian alone), and now and then a grandmother of a
/// family online; everyone online consented around the start of the year.
fn deliveries(conn: &Connection, rng: &mut impl Rng) -> Result<()> {
    let families = families(conn)?;
    let count = ((families.len() as f64 * PAPER_FAMILIES).round() as usize)
        .max(1)
        .min(families.len());
    let parents = |f: &Vec<(i64, String)>| f.iter().any(|(_, r)| r == "мать" || r == "отец");
    let indices: Vec<usize> = (0..families.len()).collect();
    let paper_only: HashSet<usize> = indices
        .choose_multiple_weighted(
            rng,
            count,
            |&i| {
                if parents(&families[i]) { 1.0 } else { 4.0 }
            },
        )
        .context("weights of families")?
        .copied()
        .collect();
    let mut update =
        conn.prepare("UPDATE guardians SET delivery = ?2, consent_on = ?3 WHERE id = ?1")?;
    for (i, family) in families.iter().enumerate() {
        for (guardian, relation) in family {
            let paper = paper_only.contains(&i)
                || (relation == "бабушка"
                    && family.len() > 1
                    && rng.random_bool(PAPER_GRANDMOTHER));
            let consent = (!paper).then(|| date_text(consent_day(rng)));
            let delivery = if paper { "paper" } else { "online" };
            update.execute(params![guardian, delivery, consent])?;
        }
    }
    Ok(())
}

/// Each family once, in the order of its first child: its guardians and their relation.
fn families(conn: &Connection) -> Result<Vec<Vec<(i64, String)>>> {
    let rows: Vec<(i64, i64, String)> = conn
        .prepare(
            "SELECT student_id, guardian_id, coalesce(relation, '') FROM student_guardians \
             ORDER BY student_id, guardian_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut seen = HashSet::new();
    let mut families = Vec::new();
    for child in rows.chunk_by(|a, b| a.0 == b.0) {
        let ids: Vec<i64> = child.iter().map(|r| r.1).collect();
        if seen.insert(ids) {
            families.push(child.iter().map(|r| (r.1, r.2.clone())).collect());
        }
    }
    Ok(families)
}

/// When a guardian consented: mostly at the start of the year (the first parent
/// meetings), some weeks later.
fn consent_day(rng: &mut impl Rng) -> NaiveDate {
    let start = calendar::date(calendar::YEAR_START);
    let days = if rng.random_bool(0.85) {
        rng.random_range(-7..=14)
    } else {
        rng.random_range(15..=60)
    };
    start + Duration::days(days)
}
