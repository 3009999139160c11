//! What the school's rules ask of the teachers' marks, checked against the journal as
//! warnings for the deputy head: marks entered on time (`[entry]`), period marks set in
//! their period's last week, and enough marks in each closed term for each pupil
//! (`[grading] min_marks`, by the subject's weekly hours). Each finding sums up one class
//! and subject, so a busy journal gives a short list, not one line per mark.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::finding::Finding;
use crate::grades::{self, Attestation, Weights};
use crate::journal::{Class, Id, Journal, Lesson, Mark, Period, PupilGroups, group_by};

/// All the findings of this module.
pub(crate) fn check_diligence(j: &Journal, config: &Config) -> Vec<Finding> {
    let class_of: FxHashMap<Id, Id> = j.students.iter().map(|s| (s.id, s.class_id)).collect();
    // Each reads a whole table of the year's results: side by side.
    let (mut out, (early, few)) = rayon::join(
        || late_entries(j, config),
        || {
            rayon::join(
                || early_period_marks(j, &class_of),
                || too_few_marks(j, config, &class_of),
            )
        },
    );
    out.extend(early);
    out.extend(few);
    out
}

/// "class 5А, Алгебра": the row of a finding about one class and subject.
fn class_subject(j: &Journal, class: Id, subject: Id) -> String {
    format!(
        "class {}, {}",
        j.class(class).map_or("?", |c| c.name.as_str()),
        j.subject(subject).map_or("?", |s| s.name.as_str())
    )
}

/// Marks entered after they were due (`[entry]`), summed up by class and subject.
fn late_entries(j: &Journal, config: &Config) -> Vec<Finding> {
    struct Late {
        count: usize,
        /// The latest of them: how late, the mark, its lesson's date, when it was due and
        /// when it was entered.
        worst: (Duration, Id, NaiveDate, NaiveDateTime, NaiveDateTime),
    }
    let mut late: BTreeMap<(Id, Id), Late> = BTreeMap::new();
    // Looked up once, not per mark: days by work type, each shift's hour, bell ends.
    let days: FxHashMap<Option<Id>, u32> = std::iter::once((None, config.entry.days_for(None)))
        .chain(
            j.work_types
                .iter()
                .map(|w| (Some(w.id), config.entry.days_for(Some(&w.name)))),
        )
        .collect();
    let until: FxHashMap<i64, Option<NaiveTime>> = [1, 2]
        .into_iter()
        .map(|shift| (shift, config.entry.until(shift)))
        .collect();
    let ends: FxHashMap<(i64, i64), NaiveTime> = j
        .bells
        .iter()
        .filter_map(|b| {
            let t = NaiveTime::parse_from_str(b.ends_at.trim(), "%H:%M").ok()?;
            Some(((b.shift, b.number), t))
        })
        .collect();
    for m in &j.marks {
        let (Some(at), Some(l)) = (m.entered_at, j.lesson(m.lesson_id)) else {
            continue;
        };
        let shift = j.shift_of(l.class_id);
        let allowed = days
            .get(&m.work_type_id)
            .copied()
            .unwrap_or(config.entry.days);
        let due = crate::config::Entry::due_by(
            l.date,
            allowed,
            until.get(&shift).copied().flatten(),
            ends.get(&(shift, l.number)).copied(),
        );
        if at > due {
            let this = (at - due, m.id, l.date, due, at);
            let e = late.entry((l.class_id, l.subject_id)).or_insert(Late {
                count: 0,
                worst: this,
            });
            e.count += 1;
            if this.0 > e.worst.0 {
                e.worst = this;
            }
        }
    }
    late.into_iter()
        .map(|((class, subject), l)| {
            let (_, mark, lesson, due, at) = l.worst;
            Finding::warning(
                "marks",
                class_subject(j, class, subject),
                Some("entered_at"),
                format!(
                    "{} mark(s) entered after they were due; the latest, mark id {mark} for \
                     the lesson of {lesson}, was due by {} and entered {} ([entry] in site.toml)",
                    l.count,
                    due.format("%Y-%m-%d %H:%M"),
                    at.format("%Y-%m-%d %H:%M"),
                ),
            )
        })
        .collect()
}

/// Teachers' period marks set before their period's last week, by class and subject.
/// `class_of`: each pupil's class.
fn early_period_marks(j: &Journal, class_of: &FxHashMap<Id, Id>) -> Vec<Finding> {
    let mut early: BTreeMap<(Id, Id, Id), (usize, NaiveDate)> = BTreeMap::new();
    for pm in &j.period_marks {
        let (Some(day), Some(p), Some(&class)) = (
            pm.set_on,
            j.period(pm.period_id),
            class_of.get(&pm.student_id),
        ) else {
            continue;
        };
        if p.kind.is_term() && day < last_week(p) {
            let e = early
                .entry((class, pm.subject_id, p.id))
                .or_insert((0, day));
            e.0 += 1;
            e.1 = e.1.min(day);
        }
    }
    early
        .into_iter()
        .map(|((class, subject, period), (n, first))| {
            let p = j.period(period).map_or("?", |p| p.name.as_str());
            Finding::warning(
                "period_marks",
                class_subject(j, class, subject),
                Some("set_on"),
                format!(
                    "{n} mark(s) for {p} set before the period's last week (the first on \
                     {first}): marks of its last days would not count"
                ),
            )
        })
        .collect()
}

/// The first day of a period's last week.
fn last_week(p: &Period) -> NaiveDate {
    (p.ends_on - Duration::days(6)).max(p.starts_on)
}

/// Pupils with fewer marks than their subject needs in a term that is over (its pupils
/// have marks in its lessons after it: a journal may plan lessons ahead, but not mark
/// them), by class, subject and term.
fn too_few_marks(j: &Journal, config: &Config, class_of: &FxHashMap<Id, Id>) -> Vec<Finding> {
    let weights = Weights::new(&j.work_types, &config.grading);
    let hours = j.weekly_hours();
    let grading = &config.grading;
    let lessons = group_by(&j.lessons, |l| l.class_id);
    let pupils_of = group_by(&j.students, |s| s.class_id);
    // The marks of each class's pupils, in the journal's order, and the groups. Read pupil
    // by pupil, a large school's marks of the year lie far apart in memory; a class's marks
    // in the journal's order are read from low addresses to high.
    let (marks_of_class, groups) = rayon::join(
        || group_by(&j.marks, |m| class_of.get(&m.student_id).copied()),
        || PupilGroups::new(j),
    );
    // Class by class, side by side; the findings in class order.
    let per_class: Vec<Vec<Finding>> = j
        .classes
        .par_iter()
        .filter(|c| c.grade > 1)
        .map(|class| {
            let mut out = Vec::new();
            let all_lessons = lessons.get(&class.id);
            let marks = marks_of_class.get(&Some(class.id));
            // The class's lessons by id (cancelled ones too, as they may hold marks): a
            // map of the class, not the school's.
            let lesson_of: FxHashMap<Id, &Lesson> =
                all_lessons.iter().map(|l| (l.id, *l)).collect();
            let mut lessons = all_lessons.iter().filter(|l| !l.cancelled).peekable();
            if lessons.peek().is_none() {
                return out;
            }
            // The class's last marked day: a term before it is over. (Marks of the class's
            // pupils in its lessons: on a journal the check accepts, every mark of a
            // lesson is one of its class's pupils'.)
            let Some(last) = marks
                .iter()
                .filter_map(|m| lesson_of.get(&m.lesson_id))
                .map(|l| l.date)
                .max()
            else {
                return out;
            };
            let terms: Vec<&Period> = j
                .periods
                .iter()
                .filter(|p| p.year_id == class.year_id && p.kind.is_term() && p.ends_on < last)
                .collect();
            let term_of = |d: NaiveDate| terms.iter().position(|p| p.contains(d));
            // What the class is taught: (term, subject, group) of its lessons. Whether a
            // pupil is taught a lesson depends on its group alone.
            let taught: BTreeSet<(usize, Id, Option<Id>)> = lessons
                .filter_map(|l| Some((term_of(l.date)?, l.subject_id, l.group_id)))
                .collect();
            // (term, subject) → pupil → their marks there (the class's marks read a second
            // time, now from the cache); a pupil taught a subject in a term has an entry
            // even without marks.
            let mut cells: BTreeMap<(usize, Id), BTreeMap<Id, Vec<&Mark>>> = BTreeMap::new();
            for m in marks {
                if let Some(l) = lesson_of.get(&m.lesson_id)
                    && let Some(t) = term_of(l.date)
                {
                    cells
                        .entry((t, l.subject_id))
                        .or_default()
                        .entry(m.student_id)
                        .or_default()
                        .push(m);
                }
            }
            for s in pupils_of.get(&class.id) {
                for &(t, subject, group) in &taught {
                    if groups.attends_group(s.id, group) {
                        cells
                            .entry((t, subject))
                            .or_default()
                            .entry(s.id)
                            .or_default();
                    }
                }
            }
            for ((t, subject), pupils) in cells {
                let needed = grading.min_marks_for(hours.of(class.id, subject));
                let attested: Vec<(Id, Attestation)> = pupils
                    .iter()
                    .map(|(id, marks)| {
                        let a = grades::attest_needing(
                            class.grade,
                            marks,
                            &weights,
                            grading,
                            None,
                            needed,
                        );
                        (*id, a)
                    })
                    .collect();
                // A subject marked in words only (or not at all) is not attested by numbers.
                if !attested.iter().any(|(_, a)| a.average().is_some()) {
                    continue;
                }
                // A pupil marked only in words there (exempt: "осв") is attested in words.
                let in_words = |id: &Id| {
                    pupils
                        .get(id)
                        .is_some_and(|ms| !ms.is_empty() && ms.iter().all(|m| !has_number(m)))
                };
                let short: Vec<(Id, usize)> = attested
                    .into_iter()
                    .filter(|(id, _)| !in_words(id))
                    .filter_map(|(id, a)| match a {
                        Attestation::NotEnough { count, .. } => Some((id, count)),
                        _ => None,
                    })
                    .collect();
                if !short.is_empty() {
                    out.push(short_finding(j, class, subject, terms[t], needed, &short));
                }
            }
            out
        })
        .collect();
    per_class.into_iter().flatten().collect()
}

/// Whether a mark's value is a number (a debt without a value is not).
fn has_number(m: &Mark) -> bool {
    m.value
        .as_deref()
        .is_some_and(|v| v.trim().parse::<u8>().is_ok())
}

fn short_finding(
    j: &Journal,
    class: &Class,
    subject: Id,
    term: &Period,
    needed: usize,
    short: &[(Id, usize)],
) -> Finding {
    const LISTED: usize = 10;
    let list: Vec<String> = short
        .iter()
        .take(LISTED)
        .map(|(id, n)| format!("id {id} ({n})"))
        .collect();
    let more = match short.len().saturating_sub(LISTED) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    Finding::warning(
        "marks",
        class_subject(j, class.id, subject),
        None,
        format!(
            "{} pupil(s) have fewer than the {needed} marks needed in {}: pupil {}{more} \
             ([grading] min_marks, min_marks_by_hours)",
            short.len(),
            term.name,
            list.join(", "),
        ),
    )
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    fn one(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// A subject taught in groups: a pupil of the group without marks in a term that is
    /// over is short of marks; a pupil taught in neither group, without marks either, is
    /// not (the subject is not theirs).
    #[test]
    fn only_pupils_taught_a_group_subject_are_short_of_its_marks() {
        let (_tmp, site) = crate::demo::test_site(40);
        let conn = Connection::open(site.journal_path()).unwrap();
        let (group, subject, class): (i64, i64, i64) = conn
            .query_row(
                "SELECT g.id, g.subject_id, g.class_id FROM groups g \
                 JOIN classes c ON c.id = g.class_id WHERE c.grade > 1 \
                 AND EXISTS (SELECT 1 FROM lessons l WHERE l.group_id = g.id \
                     AND l.date < '2026-10-25') \
                 ORDER BY g.id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let member = one(
            &conn,
            &format!("SELECT min(student_id) FROM group_students WHERE group_id = {group}"),
        );
        let outsider = one(
            &conn,
            &format!(
                "SELECT max(student_id) FROM group_students gs JOIN groups g \
                 ON g.id = gs.group_id WHERE g.subject_id = {subject} AND g.class_id = {class} \
                 AND gs.student_id != {member}"
            ),
        );
        conn.execute_batch(&format!(
            "DELETE FROM group_students WHERE student_id = {outsider} AND group_id IN \
                 (SELECT id FROM groups WHERE subject_id = {subject});
             DELETE FROM marks WHERE student_id IN ({member}, {outsider}) AND lesson_id IN \
                 (SELECT id FROM lessons WHERE subject_id = {subject} \
                  AND date BETWEEN '2026-09-01' AND '2026-10-25');"
        ))
        .unwrap();
        drop(conn);
        let loaded = crate::check::load(&site).unwrap();
        let short: Vec<String> = loaded
            .findings
            .iter()
            .map(ToString::to_string)
            .filter(|f| f.contains("marks needed in 1 четверть"))
            .collect();
        assert!(
            short
                .iter()
                .any(|f| f.contains(&format!("id {member} (0)"))),
            "{short:#?}"
        );
        assert!(
            !short
                .iter()
                .any(|f| f.contains(&format!("id {outsider} ("))),
            "{short:#?}"
        );
    }
}
