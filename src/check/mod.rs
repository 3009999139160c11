//! `diary check`: validation of site.toml, content/ and the journal.
//!
//! Site settings are checked when they load ([`crate::config`]); malformed journal values
//! are found while the journal loads ([`crate::journal::Journal::load`]); this module checks
//! what only the whole journal can tell: references, scales, calendars and memberships.
//! Every finding names table, row and column. Errors stop a build; warnings do not.

mod diligence;
mod journal;

use anyhow::Result;

use crate::config::Site;
use crate::content::{self, Post, PostAudience};
pub(crate) use crate::finding::Finding;
use crate::journal::Journal;
pub(crate) use diligence::check_diligence;
pub(crate) use journal::check_journal;

/// A site with its journal and content loaded and checked.
pub(crate) struct Loaded {
    pub site: Site,
    pub journal: Journal,
    pub posts: Vec<Post>,
    /// Everything the checks found, errors first, then in the order found.
    pub findings: Vec<Finding>,
}

impl Loaded {
    pub(crate) fn errors(&self) -> usize {
        summary(&self.findings).0
    }
}

/// Loads and checks a site: settings (an error stops here), content/, and the journal
/// (opened read-only).
pub(crate) fn load(site: &Site) -> Result<Loaded> {
    load_with(site, &mut |_| {})
}

/// [`load`], calling `lap` as each phase ends ("load", "check"), for `diary build --timings`.
pub(crate) fn load_with(site: &Site, lap: &mut dyn FnMut(&'static str)) -> Result<Loaded> {
    let (posts, mut findings) = content::load(&site.root)?;
    let (events, event_findings) = crate::event_files::load(&site.root, site.config.tz())?;
    let (mut journal, journal_findings) =
        crate::journal::load_journal(&site.journal_path(), site.config.journal_wait())?;
    findings.extend(event_findings);
    findings.extend(crate::event_files::merge(&mut journal, &events));
    lap("load");
    findings.extend(journal_findings);
    // The two checks of the whole journal, side by side.
    let (rows, diligence) = rayon::join(
        || check_journal(&journal, &site.config),
        || check_diligence(&journal, &site.config),
    );
    findings.extend(rows);
    findings.extend(diligence);
    findings.extend(check_posts(&posts, &journal));
    for message in crate::files::exposure(&site.store_path()) {
        findings.push(Finding::warning(
            site.config.access.store.display().to_string(),
            String::new(),
            None,
            message,
        ));
    }
    for name in crate::grades::unmatched_weight_names(&journal.work_types, &site.config.grading) {
        findings.push(Finding::warning(
            crate::config::SITE_FILE,
            String::new(),
            Some("[grading.weights]"),
            format!("{name:?} matches no work type of the journal (work_types.name)"),
        ));
    }
    findings.sort_by_key(|f| f.severity);
    lap("check");
    Ok(Loaded {
        site: site.clone(),
        journal,
        posts,
        findings,
    })
}

/// Announcements in content/ that name a class must name one the journal knows.
fn check_posts(posts: &[Post], journal: &Journal) -> Vec<Finding> {
    posts
        .iter()
        .filter_map(|p| match &p.audience {
            PostAudience::Class(name) if !journal.classes.iter().any(|c| &c.name == name) => {
                Some(Finding::error(
                    p.file.display().to_string(),
                    String::new(),
                    Some("class"),
                    format!("no class named {name:?} in the journal"),
                ))
            }
            _ => None,
        })
        .collect()
}

/// Counts of a list of findings, for the closing line of `diary check`.
pub(crate) fn summary(findings: &[Finding]) -> (usize, usize) {
    let errors = findings.iter().filter(|f| f.is_error()).count();
    (errors, findings.len() - errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_school_is_clean_and_a_broken_one_is_named_row_by_row() {
        let (_tmp, site) = crate::demo::test_site(20);
        let loaded = load(&site).unwrap();
        assert_eq!(loaded.errors(), 0, "{:?}", loaded.findings.first());

        let conn = rusqlite::Connection::open(site.journal_path()).unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF;
             UPDATE marks SET value = '7' WHERE id = (SELECT min(id) FROM marks);
             UPDATE lessons SET class_id = 999 WHERE id = (SELECT min(id) FROM lessons);",
        )
        .unwrap();
        drop(conn);
        let loaded = load(&site).unwrap();
        assert!(loaded.errors() >= 2);
        let text: Vec<String> = loaded.findings.iter().map(|f| f.to_string()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("marks") && t.contains("value") && t.contains('7')),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("lessons") && t.contains("class_id") && t.contains("999")),
            "{text:?}"
        );
        // Errors come first.
        assert!(loaded.findings[0].is_error());
        assert_eq!(summary(&loaded.findings).0, loaded.errors());
    }

    /// The findings of a site's check, as `diary check` prints them.
    fn findings(site: &Site) -> std::collections::BTreeSet<String> {
        let loaded = load(site).unwrap();
        loaded.findings.iter().map(ToString::to_string).collect()
    }

    fn ids(conn: &rusqlite::Connection, sql: &str) -> (i64, i64, i64) {
        conn.query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
    }

    /// A mark for a lesson the pupil missed is named; one for a lesson they were late to,
    /// or another pupil's mark for the lesson missed, is not.
    #[test]
    fn a_mark_for_a_missed_lesson_is_named() {
        let (_tmp, site) = crate::demo::test_site(20);
        let before = findings(&site);
        let conn = rusqlite::Connection::open(site.journal_path()).unwrap();
        let unmarked = "FROM marks m WHERE m.value IS NOT NULL AND m.is_debt = 0 AND NOT EXISTS \
             (SELECT 1 FROM attendance a WHERE a.lesson_id = m.lesson_id)";
        // Two marks of one lesson nobody missed, and one of another such lesson.
        let lesson: i64 = conn
            .query_row(
                &format!(
                    "SELECT m.lesson_id {unmarked} GROUP BY m.lesson_id \
                     HAVING count(DISTINCT m.student_id) > 1 ORDER BY m.lesson_id LIMIT 1"
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        let (_, pupil, _) = ids(
            &conn,
            &format!("SELECT 0, min(m.student_id), 0 {unmarked} AND m.lesson_id = {lesson}"),
        );
        // Every mark of the pupil's there (most often one).
        let missed: Vec<i64> = conn
            .prepare(&format!(
                "SELECT m.id {unmarked} AND m.lesson_id = {lesson} AND m.student_id = {pupil} \
                 ORDER BY m.id"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let (classmate, _, _) = ids(
            &conn,
            &format!(
                "SELECT m.id, m.student_id, 0 {unmarked} AND m.lesson_id = {lesson} \
                 AND m.student_id != {pupil} LIMIT 1"
            ),
        );
        let (late, late_pupil, late_lesson) = ids(
            &conn,
            &format!(
                "SELECT m.id, m.student_id, m.lesson_id {unmarked} AND m.lesson_id != {lesson} \
                 ORDER BY m.id LIMIT 1"
            ),
        );
        conn.execute_batch(&format!(
            "INSERT INTO attendance (student_id, lesson_id, status) VALUES
                 ({pupil}, {lesson}, 'ill'), ({late_pupil}, {late_lesson}, 'late');"
        ))
        .unwrap();
        drop(conn);
        let new: Vec<String> = findings(&site).difference(&before).cloned().collect();
        let mut expected: Vec<String> = missed
            .iter()
            .map(|id| {
                format!(
                    "warning: marks id {id}, column student_id: the pupil is marked absent \
                     from this lesson"
                )
            })
            .collect();
        assert!(!expected.is_empty());
        expected.sort();
        assert_eq!(
            new, expected,
            "classmate's mark {classmate}, late mark {late}"
        );
    }

    /// Lessons of a class without a group at one day and number: each after the first is
    /// named with the one before it; a lesson of another class at that hour is not.
    #[test]
    fn lessons_of_a_class_at_one_hour_are_named() {
        let (_tmp, site) = crate::demo::test_site(20);
        let before = findings(&site);
        let conn = rusqlite::Connection::open(site.journal_path()).unwrap();
        let (first, class, next) = ids(
            &conn,
            "SELECT min(id), class_id, (SELECT max(id) + 1 FROM lessons) FROM lessons \
             WHERE class_id = (SELECT min(class_id) FROM lessons)",
        );
        let other: i64 = conn
            .query_row(
                &format!("SELECT min(id) FROM classes WHERE id != {class}"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        // Lesson 12 of the first lesson's day: three of the class, one of another class.
        let (date, number): (String, i64) = conn
            .query_row(
                &format!("SELECT date, 12 FROM lessons WHERE id = {first}"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let add = |id: i64, class: i64| {
            format!(
                "INSERT INTO lessons (id, class_id, subject_id, teacher_id, date, number) \
                 SELECT {id}, {class}, subject_id, teacher_id, date, {number} FROM lessons \
                 WHERE id = {first};"
            )
        };
        conn.execute_batch(&format!(
            "{}{}{}{}",
            add(next, class),
            add(next + 1, other),
            add(next + 2, class),
            add(next + 3, class),
        ))
        .unwrap();
        drop(conn);
        let new: Vec<String> = findings(&site)
            .difference(&before)
            .filter(|f| f.contains("clashes"))
            .cloned()
            .collect();
        let clash = |id: i64, earlier: i64| {
            format!(
                "warning: lessons id {id}, column number: lesson {number} on {date} clashes \
                 with lesson id {earlier} of the same class"
            )
        };
        assert_eq!(new, [clash(next + 2, next), clash(next + 3, next + 2)]);
    }

    #[test]
    fn terms_cover_the_year_and_an_exam_session_only_its_days() {
        let (_tmp, site) = crate::demo::test_site(20);
        let conn = rusqlite::Connection::open(site.journal_path()).unwrap();
        conn.execute_batch(
            "DELETE FROM period_marks WHERE period_id = 2;
             DELETE FROM periods WHERE id = 2;
             INSERT INTO periods (id, year_id, kind, number, name, starts_on, ends_on)
                 VALUES (100, 1, 'exam', 2, 'Пробный экзамен', '2027-02-01', '2027-02-05');",
        )
        .unwrap();
        drop(conn);
        let loaded = load(&site).unwrap();
        let text: Vec<String> = loaded.findings.iter().map(|f| f.to_string()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("gap between 1 четверть and 3 четверть")),
            "{text:?}"
        );
        assert!(!text.iter().any(|t| t.contains("in no exam")), "{text:?}");
        assert_eq!(loaded.errors(), 0, "{text:?}");
    }
}
