//! The second shift: a few primary classes (grades 2–4) study in the afternoon, with bell
//! times of their own, as in Russian schools short of rooms.
//!
//! The timetable was made for one grid of lesson numbers, so a class moves to the second
//! shift only when none of its teachers (or the colleagues standing in for them) then has
//! a first-shift lesson at the same time of day. The class's weekday events move out of
//! its lesson hours: class hours and outings to the morning, parent meetings to after the
//! last lesson; the bells announcement lists both shifts.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime};
use rand::Rng;
use rand::seq::SliceRandom;
use rusqlite::{Connection, params};

use super::board::{BELLS_TITLE, STAMP, bell_list, stamp};
use super::calendar::{BELLS, SECOND_SHIFT_BELLS};

/// Grades whose classes may study in the second shift.
const GRADES: std::ops::RangeInclusive<u8> = 2..=4;
/// The share of those classes that move (at least one, when one can).
const SHARE: f64 = 0.35;

/// Minutes since midnight of an `HH:MM` bell time (the bell tables are constants).
fn minutes(hhmm: &str) -> i64 {
    let (h, m) = hhmm.split_once(':').expect("an HH:MM bell time");
    h.parse::<i64>().expect("hours") * 60 + m.parse::<i64>().expect("minutes")
}

/// When lesson `number` of `shift` takes place, in minutes since midnight.
fn lesson_time(shift: u8, number: i64) -> Option<(i64, i64)> {
    let bells: &[(&str, &str)] = if shift == 2 {
        &SECOND_SHIFT_BELLS
    } else {
        &BELLS
    };
    let (from, to) = bells.get(usize::try_from(number - 1).ok()?)?;
    Some((minutes(from), minutes(to)))
}

/// One of a teacher's lessons on a day: its class and number.
struct Taught {
    class: i64,
    number: i64,
}

/// Moves a few classes to the second shift; returns their ids.
pub(super) fn write(conn: &Connection, rng: &mut impl Rng) -> Result<Vec<i64>> {
    let mut candidates: Vec<i64> = conn
        .prepare("SELECT id FROM classes WHERE grade BETWEEN ?1 AND ?2 ORDER BY id")?
        .query_map(params![GRADES.start(), GRADES.end()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    candidates.shuffle(rng);
    let wanted = ((candidates.len() as f64 * SHARE).round() as usize).max(1);
    let busy = teachers_busy(conn)?;
    let mut moved: Vec<i64> = Vec::new();
    for class in candidates {
        if moved.len() < wanted && fits_second_shift(&busy, class, &moved) {
            moved.push(class);
        }
    }
    if moved.is_empty() {
        return Ok(moved);
    }
    let mut bell = conn
        .prepare("INSERT INTO bells (shift, number, starts_at, ends_at) VALUES (2, ?1, ?2, ?3)")?;
    for (i, (from, to)) in SECOND_SHIFT_BELLS.iter().enumerate() {
        bell.execute(params![i as i64 + 1, from, to])?;
    }
    for &class in &moved {
        conn.execute("UPDATE classes SET shift = 2 WHERE id = ?1", [class])?;
        move_events(conn, class).with_context(|| format!("events of class id {class}"))?;
    }
    announce_bells(conn, &moved)?;
    Ok(moved)
}

/// Every lesson by (teacher there, date): the class and lesson number.
fn teachers_busy(conn: &Connection) -> Result<HashMap<(i64, String), Vec<Taught>>> {
    let mut stmt = conn.prepare(
        "SELECT coalesce(substitute_teacher_id, teacher_id), date, class_id, number FROM lessons \
         WHERE teacher_id IS NOT NULL ORDER BY id",
    )?;
    let mut busy: HashMap<(i64, String), Vec<Taught>> = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        busy.entry((r.get(0)?, r.get(1)?))
            .or_default()
            .push(Taught {
                class: r.get(2)?,
                number: r.get(3)?,
            });
    }
    Ok(busy)
}

/// Whether `class` can study in the second shift: each of its lesson numbers has a bell
/// there, and no teacher of it then has a first-shift lesson at the same time.
fn fits_second_shift(
    busy: &HashMap<(i64, String), Vec<Taught>>,
    class: i64,
    moved: &[i64],
) -> bool {
    let shift_of = |c: i64| {
        if c == class || moved.contains(&c) {
            2
        } else {
            1
        }
    };
    busy.values()
        .filter(|day| day.iter().any(|t| t.class == class))
        .all(|day| {
            day.iter().filter(|t| t.class == class).all(|ours| {
                let Some((from, to)) = lesson_time(2, ours.number) else {
                    return false;
                };
                day.iter().filter(|t| shift_of(t.class) == 1).all(|other| {
                    lesson_time(1, other.number).is_none_or(|(f, t)| t <= from || to <= f)
                })
            })
        })
}

/// Moves the class's weekday events out of its afternoon lessons: daytime ones to the
/// morning (ending a quarter of an hour before the first lesson), evening ones (parent
/// meetings, from 17:00) to 19:00, after the last lesson; the class's announcements of a
/// moved meeting give its new time.
fn move_events(conn: &Connection, class: i64) -> Result<()> {
    let first = minutes(SECOND_SHIFT_BELLS[0].0);
    let evening = NaiveTime::from_hms_opt(19, 0, 0).expect("a valid time");
    let mut stmt = conn.prepare("SELECT id, starts_at, ends_at FROM events WHERE class_id = ?1")?;
    let events: Vec<(i64, String, Option<String>)> = stmt
        .query_map([class], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, starts, ends) in events {
        let starts = NaiveDateTime::parse_from_str(&starts, STAMP)?;
        let ends = ends
            .map(|e| NaiveDateTime::parse_from_str(&e, STAMP))
            .transpose()?;
        let length = ends.map_or(Duration::hours(1), |e| e - starts);
        let at = starts
            .time()
            .signed_duration_since(NaiveTime::MIN)
            .num_minutes();
        if starts.weekday().num_days_from_monday() >= 5 || at + length.num_minutes() <= first {
            continue;
        }
        let new = if at < 17 * 60 {
            let end = (first - 15) / 15 * 15;
            let start = (end - length.num_minutes()) / 15 * 15;
            starts.date().and_time(NaiveTime::MIN) + Duration::minutes(start)
        } else {
            starts.date().and_time(evening)
        };
        conn.execute(
            "UPDATE events SET starts_at = ?2, ends_at = ?3 WHERE id = ?1",
            params![id, stamp(new), ends.map(|_| stamp(new + length))],
        )?;
        conn.execute(
            "UPDATE announcements SET body_md = replace(body_md, ?2, ?3) WHERE class_id = ?1",
            params![
                class,
                format!(" в {}**", starts.format("%H:%M")),
                format!(" в {}**", new.format("%H:%M"))
            ],
        )?;
    }
    Ok(())
}

/// The pinned bells announcement, with the second shift and its classes.
fn announce_bells(conn: &Connection, moved: &[i64]) -> Result<()> {
    let mut names = Vec::new();
    for class in moved {
        names.push(
            conn.query_row("SELECT name FROM classes WHERE id = ?1", [class], |r| {
                r.get::<_, String>(0)
            })?,
        );
    }
    names.sort();
    let body = format!(
        "**Первая смена:** уроки начинаются в **{}**, перемены — 10–20 минут.\n\n{}\n\
         **Вторая смена** ({}): уроки начинаются в **{}**.\n\n{}",
        BELLS[0].0,
        bell_list(&BELLS),
        names.join(", "),
        SECOND_SHIFT_BELLS[0].0,
        bell_list(&SECOND_SHIFT_BELLS)
    );
    conn.execute(
        "UPDATE announcements SET body_md = ?2 WHERE audience = 'school' AND title = ?1",
        params![BELLS_TITLE, body],
    )?;
    Ok(())
}
