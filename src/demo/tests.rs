//! Whole-school tests of the demo generator: a small school, checked table by table with
//! SQL, then loaded and checked by the read model and `diary check`.

use std::collections::BTreeMap;
use std::time::Instant;

use rusqlite::types::Value;

use super::*;
use crate::journal::{Journal, create_schema};

fn school(students: usize, seed: u64) -> (Connection, DemoSummary) {
    let mut conn = Connection::open_in_memory().unwrap();
    create_schema(&conn).unwrap();
    let summary = generate(&mut conn, &DemoOptions { students, seed }).unwrap();
    (conn, summary)
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every row of every table, in a fixed order, as text.
fn digest(conn: &Connection) -> BTreeMap<String, Vec<String>> {
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let names: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
        .into_iter()
        .map(|t| {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY rowid"))
                .unwrap();
            let columns = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let cells: Vec<String> = (0..columns)
                        .map(|i| format!("{:?}", r.get::<_, Value>(i).unwrap()))
                        .collect();
                    Ok(cells.join("|"))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (t, rows)
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_database() {
    let (a, _) = school(45, 11);
    let (b, _) = school(45, 11);
    let (c, _) = school(45, 12);
    let (da, db, dc) = (digest(&a), digest(&b), digest(&c));
    assert!(da["marks"].len() > 1000);
    assert_eq!(da, db);
    assert_ne!(da["students"], dc["students"]);
    assert_ne!(da["marks"], dc["marks"]);
}

#[test]
fn tiny_schools_work() {
    for students in 1..=12 {
        let (conn, summary) = school(students, 3);
        assert_eq!(summary.students, students);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM students"),
            students as i64
        );
        assert!(summary.lessons > 0);
        let (_, findings) = Journal::load(&conn).unwrap();
        assert!(findings.is_empty(), "{students} pupils: {findings:?}");
    }
}

#[test]
fn a_filled_journal_is_refused() {
    let (mut conn, _) = school(5, 1);
    assert!(
        generate(
            &mut conn,
            &DemoOptions {
                students: 5,
                seed: 1
            }
        )
        .is_err()
    );
    let mut empty = Connection::open_in_memory().unwrap();
    create_schema(&empty).unwrap();
    assert!(
        generate(
            &mut empty,
            &DemoOptions {
                students: 0,
                seed: 1
            }
        )
        .is_err()
    );
}

#[test]
fn a_small_school_is_consistent() {
    let (conn, summary) = school(60, DemoOptions::default().seed);
    the_summary_tells_the_truth(&conn, &summary);
    people(&conn);
    calendar(&conn);
    no_clashes(&conn);
    groups(&conn);
    marks(&conn);
    lessons(&conn);
    attendance(&conn);
    period_marks(&conn);
    board(&conn, &summary);
    the_read_model_and_check_agree(&conn);
}

fn zero(conn: &Connection, what: &str, sql: &str) {
    assert_eq!(count(conn, sql), 0, "{what}");
}

fn some(conn: &Connection, what: &str, sql: &str) {
    assert!(count(conn, sql) > 0, "{what}");
}

/// The summary tells the truth.
fn the_summary_tells_the_truth(conn: &Connection, summary: &DemoSummary) {
    assert_eq!(summary.students, 60);
    assert_eq!(count(conn, "SELECT count(*) FROM students"), 60);
    assert_eq!(
        count(conn, "SELECT count(*) FROM classes"),
        summary.classes as i64
    );
    assert_eq!(
        count(conn, "SELECT count(*) FROM teachers"),
        summary.teachers as i64
    );
    assert_eq!(
        count(conn, "SELECT count(*) FROM lessons"),
        summary.lessons as i64
    );
    assert_eq!(
        count(conn, "SELECT count(*) FROM marks"),
        summary.marks as i64
    );
    assert_eq!(
        count(conn, "SELECT count(*) FROM attendance"),
        summary.attendance as i64
    );
    assert_eq!(
        count(conn, "SELECT count(*) FROM school WHERE is_demo = 1"),
        1
    );
    assert_eq!(count(conn, "SELECT count(*) FROM periods"), 5);
    zero(conn, "external ids", "SELECT count(*) FROM external_ids");
}

/// People.
fn people(conn: &Connection) {
    zero(
        conn,
        "two pupils of a class with one name",
        "SELECT count(*) FROM (SELECT 1 FROM students GROUP BY class_id, last_name, first_name, \
         middle_name HAVING count(*) > 1)",
    );
    zero(
        conn,
        "a class without a class teacher",
        "SELECT count(*) FROM classes WHERE class_teacher_id IS NULL",
    );
    zero(
        conn,
        "a pupil without a guardian",
        "SELECT count(*) FROM students WHERE id NOT IN (SELECT student_id FROM student_guardians)",
    );
    some(
        conn,
        "twins: two pupils of one class sharing a guardian",
        "SELECT count(*) FROM student_guardians a JOIN student_guardians b \
         ON a.guardian_id = b.guardian_id AND a.student_id < b.student_id \
         JOIN students sa ON sa.id = a.student_id JOIN students sb ON sb.id = b.student_id \
         WHERE sa.class_id = sb.class_id",
    );
}

/// Calendar: school days only, numbers from the bell schedule.
fn calendar(conn: &Connection) {
    zero(
        conn,
        "a lesson on a weekend",
        "SELECT count(*) FROM lessons WHERE strftime('%w', date) IN ('0', '6')",
    );
    zero(
        conn,
        "a lesson on a holiday",
        "SELECT count(*) FROM lessons l JOIN classes c ON c.id = l.class_id JOIN holidays h \
         ON l.date BETWEEN h.starts_on AND h.ends_on AND (h.grade IS NULL OR h.grade = c.grade)",
    );
    zero(
        conn,
        "a lesson outside every quarter",
        "SELECT count(*) FROM lessons l WHERE NOT EXISTS (SELECT 1 FROM periods p \
         WHERE p.kind = 'quarter' AND l.date BETWEEN p.starts_on AND p.ends_on)",
    );
    zero(
        conn,
        "a lesson number without a bell",
        "SELECT count(*) FROM lessons WHERE number NOT IN (SELECT number FROM bells)",
    );
    some(
        conn,
        "first graders have their February week off",
        "SELECT count(*) FROM lessons l JOIN classes c ON c.id = l.class_id \
         WHERE c.grade = 2 AND l.date BETWEEN '2027-02-15' AND '2027-02-19'",
    );
}

/// No clashes: one subject per class and cell, two lessons only as a group pair; no
/// teacher (or the colleague standing in) in two places at once.
fn no_clashes(conn: &Connection) {
    zero(
        conn,
        "a class with two subjects at once",
        "SELECT count(*) FROM (SELECT 1 FROM lessons GROUP BY class_id, date, number \
         HAVING count(DISTINCT subject_id) > 1 OR (count(*) > 1 AND count(group_id) < count(*)) \
         OR count(*) > 2)",
    );
    zero(
        conn,
        "a teacher in two places at once",
        "SELECT count(*) FROM (SELECT 1 FROM lessons \
         GROUP BY coalesce(substitute_teacher_id, teacher_id), date, number HAVING count(*) > 1)",
    );
    zero(
        conn,
        "a stand-in who does not teach the subject",
        "SELECT count(*) FROM lessons l WHERE substitute_teacher_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM timetable t WHERE t.teacher_id = l.substitute_teacher_id \
         AND t.subject_id = l.subject_id)",
    );
    zero(
        conn,
        "group pairs with one teacher",
        "SELECT count(*) FROM (SELECT 1 FROM timetable WHERE group_id IS NOT NULL \
         GROUP BY class_id, weekday, number HAVING count(DISTINCT teacher_id) != 2)",
    );
    zero(
        conn,
        "a lesson with a day-limit over 7",
        "SELECT count(*) FROM timetable WHERE number > 7",
    );
    zero(
        conn,
        "grade 1 with more than 5 lessons a day",
        "SELECT count(*) FROM (SELECT 1 FROM timetable t JOIN classes c ON c.id = t.class_id \
         WHERE c.grade = 1 GROUP BY t.class_id, t.weekday HAVING count(*) > 5)",
    );
}

/// Groups: English and informatics in halves of the class.
fn groups(conn: &Connection) {
    some(conn, "groups", "SELECT count(*) FROM groups");
    zero(
        conn,
        "a group lesson without its group",
        "SELECT count(*) FROM lessons WHERE subject_id IN (4, 9) AND group_id IS NULL \
         AND class_id IN (SELECT class_id FROM groups)",
    );
    zero(
        conn,
        "a pupil in both groups of a subject",
        "SELECT count(*) FROM (SELECT 1 FROM group_students gs JOIN groups g ON g.id = gs.group_id \
         GROUP BY gs.student_id, g.subject_id HAVING count(*) > 1)",
    );
}

/// Marks: right pupils, right lessons, right values.
fn marks(conn: &Connection) {
    zero(
        conn,
        "marks in grade 1",
        "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
         JOIN classes c ON c.id = l.class_id WHERE c.grade = 1",
    );
    zero(
        conn,
        "a mark for a pupil of another class",
        "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
         JOIN students s ON s.id = m.student_id WHERE s.class_id != l.class_id",
    );
    zero(
        conn,
        "a mark for a pupil outside the lesson's group",
        "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
         WHERE l.group_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM group_students gs \
         WHERE gs.group_id = l.group_id AND gs.student_id = m.student_id)",
    );
    zero(
        conn,
        "a mark on a cancelled lesson",
        "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id WHERE l.cancelled = 1",
    );
    zero(
        conn,
        "attendance on a cancelled lesson",
        "SELECT count(*) FROM attendance a JOIN lessons l ON l.id = a.lesson_id WHERE l.cancelled = 1",
    );
    zero(
        conn,
        "a mark (not a debt) for a pupil who was away",
        "SELECT count(*) FROM marks m JOIN attendance a ON a.student_id = m.student_id \
         AND a.lesson_id = m.lesson_id WHERE a.status != 'late' AND m.is_debt = 0",
    );
    zero(
        conn,
        "a debt for a pupil who was there",
        "SELECT count(*) FROM marks m WHERE m.is_debt = 1 AND NOT EXISTS (SELECT 1 FROM attendance a \
         WHERE a.student_id = m.student_id AND a.lesson_id = m.lesson_id AND a.status != 'late')",
    );
    zero(
        conn,
        "a mark value off the scale",
        "SELECT count(*) FROM marks WHERE (value IS NULL AND is_debt = 0) OR (value IS NOT NULL \
         AND value NOT IN ('1', '2', '3', '4', '5', 'зч', 'нз', 'н/а', 'осв'))",
    );
    some(
        conn,
        "debts not yet made up",
        "SELECT count(*) FROM marks WHERE is_debt = 1 AND value IS NULL",
    );
    some(
        conn,
        "debts made up",
        "SELECT count(*) FROM marks WHERE is_debt = 1 AND value IS NOT NULL",
    );
    some(
        conn,
        "marks with a comment",
        "SELECT count(*) FROM marks WHERE comment IS NOT NULL",
    );
    some(
        conn,
        "marks with their own weight",
        "SELECT count(*) FROM marks WHERE weight IS NOT NULL",
    );
    some(
        conn,
        "pass marks",
        "SELECT count(*) FROM marks WHERE value = 'зч'",
    );
    some(
        conn,
        "exempt from PE",
        "SELECT count(*) FROM marks WHERE value = 'осв'",
    );
    let share: f64 = conn
        .query_row(
            "SELECT avg(value = '5') FROM marks WHERE value IN ('2', '3', '4', '5')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!((0.15..0.5).contains(&share), "share of fives {share}");
}

/// Lessons: substitutions, cancellations, homework and links.
fn lessons(conn: &Connection) {
    some(
        conn,
        "substitutions",
        "SELECT count(*) FROM lessons WHERE substitute_teacher_id IS NOT NULL",
    );
    some(
        conn,
        "cancelled lessons",
        "SELECT count(*) FROM lessons WHERE cancelled = 1",
    );
    some(
        conn,
        "homework links",
        "SELECT count(*) FROM homework_links",
    );
    some(
        conn,
        "homework due later",
        "SELECT count(*) FROM lessons WHERE homework_due > date",
    );
    zero(
        conn,
        "homework in grade 1",
        "SELECT count(*) FROM lessons l JOIN classes c ON c.id = l.class_id \
         WHERE c.grade = 1 AND l.homework IS NOT NULL",
    );
    let with_homework: f64 = conn
        .query_row(
            "SELECT avg(homework IS NOT NULL) FROM lessons l JOIN classes c ON c.id = l.class_id \
             WHERE c.grade >= 5 AND l.subject_id IN (1, 5, 6)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(with_homework > 0.8, "{with_homework}");
}

/// Attendance of every kind, grade 1 included.
fn attendance(conn: &Connection) {
    for status in ["ill", "excused", "unexcused", "absent", "late"] {
        some(
            conn,
            status,
            &format!("SELECT count(*) FROM attendance WHERE status = '{status}'"),
        );
    }
    some(
        conn,
        "attendance in grade 1",
        "SELECT count(*) FROM attendance a JOIN lessons l ON l.id = a.lesson_id \
         JOIN classes c ON c.id = l.class_id WHERE c.grade = 1",
    );
}

/// Period marks: none in grade 1; each is the rounded weighted average of its marks.
fn period_marks(conn: &Connection) {
    zero(
        conn,
        "period marks in grade 1",
        "SELECT count(*) FROM period_marks pm JOIN students s ON s.id = pm.student_id \
         JOIN classes c ON c.id = s.class_id WHERE c.grade = 1",
    );
    some(
        conn,
        "period marks",
        "SELECT count(*) FROM period_marks WHERE period_id = 5",
    );
    zero(
        conn,
        "a period mark that is not the rounded average",
        "SELECT count(*) FROM (SELECT 1 FROM period_marks pm JOIN periods p ON p.id = pm.period_id \
         JOIN (SELECT m.student_id, l.subject_id, l.date, \
               CAST(m.value AS REAL) AS v, coalesce(m.weight, w.weight) AS w \
               FROM marks m JOIN lessons l ON l.id = m.lesson_id \
               JOIN work_types w ON w.id = m.work_type_id \
               WHERE m.value IN ('1', '2', '3', '4', '5')) x \
         ON x.student_id = pm.student_id AND x.subject_id = pm.subject_id \
         AND x.date BETWEEN p.starts_on AND p.ends_on \
         GROUP BY pm.student_id, pm.subject_id, pm.period_id \
         HAVING CAST(pm.value AS INTEGER) != CAST(sum(x.v * x.w) / sum(x.w) + 0.5 AS INTEGER) \
         OR count(*) < 3)",
    );
}

/// The board.
fn board(conn: &Connection, summary: &DemoSummary) {
    for audience in ["school", "grade", "class"] {
        some(
            conn,
            audience,
            &format!("SELECT count(*) FROM announcements WHERE audience = '{audience}'"),
        );
    }
    let announcements = count(conn, "SELECT count(*) FROM announcements");
    assert!(
        (20..=40).contains(&announcements),
        "{announcements} announcements"
    );
    some(
        conn,
        "pinned announcements",
        "SELECT count(*) FROM announcements WHERE pinned = 1",
    );
    some(
        conn,
        "school events",
        "SELECT count(*) FROM events WHERE class_id IS NULL",
    );
    zero(
        conn,
        "a class with fewer than 2 or more than 4 events in a month",
        "SELECT count(*) FROM (SELECT count(*) AS n FROM events WHERE class_id IS NOT NULL \
         GROUP BY class_id, substr(starts_at, 1, 7) HAVING n < 2 OR n > 4)",
    );
    assert_eq!(
        count(conn, "SELECT count(DISTINCT class_id) FROM events"),
        summary.classes as i64
    );
    zero(
        conn,
        "an event that ends before it starts",
        "SELECT count(*) FROM events WHERE ends_at <= starts_at",
    );
}

/// The read model loads it all, and `diary check` finds nothing wrong.
fn the_read_model_and_check_agree(conn: &Connection) {
    let (journal, findings) = Journal::load(conn).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(journal.students.len(), 60);
    assert!(journal.school.is_demo);
    let findings = crate::check::check_journal(&journal, &crate::config::Config::default());
    assert!(
        findings.is_empty(),
        "{:#?}",
        &findings[..findings.len().min(10)]
    );
}

/// Timings and row counts for the report: `cargo test --release --lib demo::tests::timing
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing() {
    for students in [300, 2000] {
        let started = Instant::now();
        let (conn, summary) = school(students, 2026);
        let elapsed = started.elapsed();
        let rows = |t: &str| count(&conn, &format!("SELECT count(*) FROM {t}"));
        println!(
            "{students} pupils: {elapsed:.2?}; {summary:?}; period_marks {}, homework_links {}, \
             events {}, announcements {}, guardians {}",
            rows("period_marks"),
            rows("homework_links"),
            rows("events"),
            rows("announcements"),
            rows("guardians"),
        );
    }
}
