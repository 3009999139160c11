//! What an earlier part of the diaries shows depends only on the journal rows dated inside
//! it and on the tables every diary reads. A digest of exactly those, per part, tells a
//! build whether the part's chunks can stay as published without building a single pupil's
//! view of it: a school day changes no earlier part, a late mark changes one.
//!
//! The digest covers, for a part's dates: lessons (and their homework links) held or due
//! in it, and the marks, attendance and remarks of those lessons and days; and for every
//! part: pupils, classes, groups and their members, subjects, teachers, work types, bells,
//! holidays and periods, plus what the caller adds (theme, language, settings).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::journal::{Id, Journal};

/// A part's dates, first to last day inclusive.
pub(super) type Range = (NaiveDate, NaiveDate);

/// A `fmt::Write` into a hash, so that `Debug` output is hashed without being kept.
struct Feed<'h>(&'h mut Sha256);

impl std::fmt::Write for Feed<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

fn feed_debug(h: &mut Sha256, value: &impl std::fmt::Debug) {
    // Writing into a hash cannot fail.
    let _ = write!(Feed(h), "{value:?}\u{1e}");
}

/// The digest of the tables every diary reads, whatever its dates, plus `context`.
fn shared(j: &Journal, context: &[u8]) -> Sha256 {
    let mut h = Sha256::new();
    h.update((context.len() as u64).to_be_bytes());
    h.update(context);
    feed_debug(&mut h, &j.school);
    feed_debug(&mut h, &j.years);
    feed_debug(&mut h, &j.periods);
    feed_debug(&mut h, &j.holidays);
    feed_debug(&mut h, &j.teachers);
    feed_debug(&mut h, &j.classes);
    feed_debug(&mut h, &j.students);
    feed_debug(&mut h, &j.subjects);
    feed_debug(&mut h, &j.groups);
    feed_debug(&mut h, &j.group_students);
    feed_debug(&mut h, &j.bells);
    feed_debug(&mut h, &j.work_types);
    h
}

/// For each part (by name, with its dates), a digest of what its chunks show. `context`
/// holds what else a chunk depends on (theme, language, settings, who has a diary).
pub(super) fn digests(
    j: &Journal,
    context: &[u8],
    parts: &BTreeMap<String, Range>,
) -> BTreeMap<String, [u8; 32]> {
    let base = shared(j, context);
    let names: Vec<&String> = parts.keys().collect();
    let ranges: Vec<Range> = parts.values().copied().collect();
    let mut hashes: Vec<Sha256> = names
        .iter()
        .map(|name| {
            let mut h = base.clone();
            h.update(name.as_bytes());
            let (first, last) = parts[*name];
            feed_debug(&mut h, &(first, last));
            h
        })
        .collect();
    // The parts a day is in (a handful of ranges: a scan is cheapest).
    let inside = |d: NaiveDate| {
        ranges
            .iter()
            .enumerate()
            .filter(move |(_, (a, b))| *a <= d && d <= *b)
            .map(|(i, _)| i)
    };
    // Lessons held in a part, or whose homework is due in it, and which parts each is in:
    // `parts_of[i]` is where in `at` the parts of the journal's lesson `i` are listed.
    let mut at: Vec<u32> = Vec::new();
    let mut parts_of: Vec<std::ops::Range<u32>> = Vec::with_capacity(j.lessons.len());
    let mut parts: Vec<u32> = Vec::new();
    for l in &j.lessons {
        parts.clear();
        parts.extend(
            inside(l.date)
                .chain(l.homework_due.into_iter().flat_map(inside))
                .map(|i| i as u32),
        );
        parts.sort_unstable();
        parts.dedup();
        for &i in &parts {
            feed_lesson(&mut hashes[i as usize], l);
        }
        let start = at.len() as u32;
        at.extend_from_slice(&parts);
        parts_of.push(start..at.len() as u32);
    }
    let parts_of_lesson = |lesson: Id| {
        j.lesson_position(lesson).map_or(&[][..], |i| {
            &at[parts_of[i].start as usize..parts_of[i].end as usize]
        })
    };
    for link in &j.homework_links {
        for &i in parts_of_lesson(link.lesson_id) {
            feed_debug(&mut hashes[i as usize], link);
        }
    }
    for m in &j.marks {
        for &i in parts_of_lesson(m.lesson_id) {
            let h = &mut hashes[i as usize];
            h.update(m.id.to_be_bytes());
            h.update(m.student_id.to_be_bytes());
            h.update(m.lesson_id.to_be_bytes());
            h.update(m.work_type_id.unwrap_or(-1).to_be_bytes());
            h.update(m.weight.unwrap_or(f64::NAN).to_bits().to_be_bytes());
            feed_text(h, m.value.as_deref());
            feed_text(h, m.comment.as_deref());
            h.update([u8::from(m.is_debt)]);
        }
    }
    for a in &j.attendance {
        for &i in parts_of_lesson(a.lesson_id) {
            let h = &mut hashes[i as usize];
            h.update(a.student_id.to_be_bytes());
            h.update(a.lesson_id.to_be_bytes());
            h.update(a.status.as_str().as_bytes());
            feed_text(h, a.note.as_deref());
        }
    }
    for r in &j.remarks {
        for i in inside(r.date) {
            feed_debug(&mut hashes[i], r);
        }
    }
    names
        .into_iter()
        .zip(hashes)
        .map(|(name, h)| (name.clone(), h.finalize().into()))
        .collect()
}

fn feed_text(h: &mut Sha256, text: Option<&str>) {
    match text {
        Some(t) => {
            h.update((t.len() as u64).to_be_bytes());
            h.update(t.as_bytes());
        }
        None => h.update(u64::MAX.to_be_bytes()),
    }
}

fn feed_lesson(h: &mut Sha256, l: &crate::journal::Lesson) {
    h.update(l.id.to_be_bytes());
    h.update(l.class_id.to_be_bytes());
    h.update(l.group_id.unwrap_or(-1).to_be_bytes());
    h.update(l.subject_id.to_be_bytes());
    h.update(l.teacher_id.unwrap_or(-1).to_be_bytes());
    h.update(l.substitute_teacher_id.unwrap_or(-1).to_be_bytes());
    h.update(l.date.to_string().as_bytes());
    h.update(l.number.to_be_bytes());
    feed_text(h, l.room.as_deref());
    feed_text(h, l.topic.as_deref());
    feed_text(h, l.homework.as_deref());
    feed_text(h, l.homework_due.map(|d| d.to_string()).as_deref());
    h.update([u8::from(l.cancelled)]);
    h.update(l.homework_minutes.unwrap_or(-1).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_changes_the_digest_of_its_part_only() {
        let (_tmp, site) = crate::demo::test_site(20);
        let mut j = crate::check::load(&site).unwrap().journal;
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let parts = BTreeMap::from([
            ("a".to_string(), (day("2026-09-01"), day("2026-10-25"))),
            ("b".to_string(), (day("2026-11-02"), day("2026-11-22"))),
        ]);
        let before = digests(&j, b"ctx", &parts);
        assert_eq!(before, digests(&j, b"ctx", &parts), "deterministic");
        assert_ne!(before["a"], digests(&j, b"other", &parts)["a"]);
        // A mark of a lesson in September: part a changes, part b does not.
        let september: std::collections::HashSet<Id> = j
            .lessons
            .iter()
            .filter(|l| l.date.to_string().starts_with("2026-09"))
            .map(|l| l.id)
            .collect();
        let m = j
            .marks
            .iter_mut()
            .find(|m| september.contains(&m.lesson_id))
            .unwrap();
        m.value = Some(
            if m.value.as_deref() == Some("5") {
                "4"
            } else {
                "5"
            }
            .into(),
        );
        let after = digests(&j, b"ctx", &parts);
        assert_ne!(after["a"], before["a"]);
        assert_eq!(after["b"], before["b"]);
        // A renamed subject shows in every part.
        j.subjects[0].name.push('!');
        let renamed = digests(&j, b"ctx", &parts);
        assert_ne!(renamed["a"], after["a"]);
        assert_ne!(renamed["b"], after["b"]);
    }
}
