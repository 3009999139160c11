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
    // The v2 records too: remarks, bells of the second shift, the new columns.
    assert!(!da["remarks"].is_empty());
    for table in [
        "remarks",
        "bells",
        "classes",
        "guardians",
        "periods",
        "period_marks",
    ] {
        assert_eq!(da[table], db[table], "{table}");
    }
    assert_ne!(da["remarks"], dc["remarks"]);
}

/// The rows and columns journal schema v1 has, as text (the v2 pass must keep them).
fn v1_digest(conn: &Connection) -> Vec<Vec<String>> {
    [
        "SELECT id, student_id, lesson_id, work_type_id, value, weight, comment, is_debt \
         FROM marks ORDER BY id",
        "SELECT id, class_id, group_id, subject_id, teacher_id, substitute_teacher_id, date, \
         number, room, topic, homework, homework_due, cancelled FROM lessons ORDER BY id",
        "SELECT * FROM attendance ORDER BY student_id, lesson_id",
        "SELECT * FROM students ORDER BY id",
        "SELECT id, last_name, first_name, middle_name, contact FROM guardians ORDER BY id",
        "SELECT * FROM student_guardians ORDER BY student_id, guardian_id",
        "SELECT student_id, subject_id, period_id, value, comment FROM period_marks \
         WHERE period_id <= 5 ORDER BY student_id, subject_id, period_id",
        "SELECT id, grade, letter, name, class_teacher_id FROM classes ORDER BY id",
        "SELECT * FROM timetable ORDER BY id",
        "SELECT * FROM homework_links ORDER BY rowid",
    ]
    .iter()
    .map(|sql| {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..columns)
                .map(|i| format!("{:?}", r.get::<_, Value>(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    })
    .collect()
}

#[test]
fn the_v2_records_keep_the_school_year_as_it_was() {
    let conn = Connection::open_in_memory().unwrap();
    create_schema(&conn).unwrap();
    let opts = DemoOptions {
        students: 45,
        seed: 11,
    };
    write_year(&conn, &opts).unwrap();
    let before = v1_digest(&conn);
    let written = records::write(&conn, opts.seed).unwrap();
    assert!(written.remarks > 0);
    assert_eq!(v1_digest(&conn), before);
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
    remarks(&conn);
    second_shift(&conn, &summary);
    homework_minutes(&conn);
    entry_times(&conn);
    period_mark_dates(&conn);
    exams(&conn);
    deliveries(&conn);
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
    assert_eq!(count(conn, "SELECT count(*) FROM periods"), 7);
    assert_eq!(
        count(conn, "SELECT count(*) FROM remarks"),
        summary.remarks as i64
    );
    assert_eq!(
        count(conn, "SELECT count(*) FROM classes WHERE shift = 2"),
        summary.second_shift as i64
    );
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

/// Period marks: none in grade 1; each of a term or the year is the rounded weighted
/// average of its marks.
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
         AND x.date BETWEEN p.starts_on AND p.ends_on WHERE p.kind IN ('quarter', 'year') \
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

/// The read model loads it all, and `diary check` finds nothing wrong but the few days
/// of too much homework the demo keeps on purpose.
fn the_read_model_and_check_agree(conn: &Connection) {
    let (journal, findings) = Journal::load(conn).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(journal.students.len(), 60);
    assert!(journal.school.is_demo);
    let findings = crate::check::check_journal(&journal, &crate::config::Config::default());
    let (load, other): (Vec<_>, Vec<_>) = findings.iter().partition(|f| {
        !f.is_error()
            && f.column.as_deref() == Some("homework_minutes")
            && f.message.contains("[homework] daily_minutes")
    });
    assert!(other.is_empty(), "{:#?}", &other[..other.len().min(10)]);
    assert!(
        !load.is_empty(),
        "a day over the homework limit to warn about"
    );
}

/// Remarks: every kind, a few a month in each class, about a pupil who was there, by the
/// teacher of the lesson's subject or (about no subject) the class teacher.
fn remarks(conn: &Connection) {
    for kind in ["behaviour", "achievement", "concern", "praise"] {
        some(
            conn,
            kind,
            &format!("SELECT count(*) FROM remarks WHERE kind = '{kind}'"),
        );
    }
    zero(
        conn,
        "a behaviour remark by someone else than the class teacher, or about a subject",
        "SELECT count(*) FROM remarks r JOIN students s ON s.id = r.student_id \
         JOIN classes c ON c.id = s.class_id \
         WHERE r.kind = 'behaviour' AND (r.subject_id IS NOT NULL OR r.teacher_id != c.class_teacher_id)",
    );
    zero(
        conn,
        "a subject remark by a teacher who gave the class no lesson of it that day",
        "SELECT count(*) FROM remarks r JOIN students s ON s.id = r.student_id \
         WHERE r.subject_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lessons l \
         WHERE l.class_id = s.class_id AND l.date = r.date AND l.subject_id = r.subject_id \
         AND coalesce(l.substitute_teacher_id, l.teacher_id) = r.teacher_id AND l.cancelled = 0)",
    );
    zero(
        conn,
        "a remark on a day the pupil was away all day",
        "SELECT count(*) FROM remarks r WHERE NOT EXISTS (SELECT 1 FROM lessons l \
         JOIN students s ON s.class_id = l.class_id AND s.id = r.student_id \
         WHERE l.date = r.date AND l.cancelled = 0 AND NOT EXISTS (SELECT 1 FROM attendance a \
         WHERE a.lesson_id = l.id AND a.student_id = r.student_id AND a.status != 'late'))",
    );
    zero(
        conn,
        "more than five remarks in a class in a month",
        "SELECT count(*) FROM (SELECT 1 FROM remarks r JOIN students s ON s.id = r.student_id \
         GROUP BY s.class_id, substr(r.date, 1, 7) HAVING count(*) > 5)",
    );
    zero(
        conn,
        "a remark text with a placeholder left",
        "SELECT count(*) FROM remarks WHERE text LIKE '%{%' OR text LIKE '%по ' OR text = ''",
    );
    zero(
        conn,
        "a class without remarks",
        "SELECT count(*) FROM classes WHERE id NOT IN (SELECT s.class_id FROM remarks r \
         JOIN students s ON s.id = r.student_id)",
    );
    zero(
        conn,
        "a remark about tests in grade 1, which has none",
        "SELECT count(*) FROM remarks r JOIN students s ON s.id = r.student_id \
         JOIN classes c ON c.id = s.class_id WHERE c.grade = 1 \
         AND (r.text LIKE '%контрольн%' OR r.text LIKE '%домашн%' OR r.text LIKE '%олимпиад%')",
    );
    some(
        conn,
        "a girl's remark in a girl's words",
        "SELECT count(*) FROM remarks r JOIN students s ON s.id = r.student_id \
         WHERE s.middle_name LIKE '%на' AND r.text LIKE 'Активно работала%'",
    );
}

/// The second shift: some primary classes with bells of their own for every lesson
/// number they have; no teacher in both shifts at once; no class event in lesson time.
fn second_shift(conn: &Connection, summary: &DemoSummary) {
    assert!(summary.second_shift > 0, "a class in the second shift");
    zero(
        conn,
        "a second-shift class outside grades 2–4",
        "SELECT count(*) FROM classes WHERE shift = 2 AND grade NOT BETWEEN 2 AND 4",
    );
    zero(
        conn,
        "a lesson number without a bell of its class's shift",
        "SELECT count(*) FROM lessons l JOIN classes c ON c.id = l.class_id \
         WHERE NOT EXISTS (SELECT 1 FROM bells b WHERE b.shift = c.shift AND b.number = l.number)",
    );
    some(
        conn,
        "second-shift lessons after 14:00",
        "SELECT count(*) FROM lessons l JOIN classes c ON c.id = l.class_id \
         JOIN bells b ON b.shift = 2 AND b.number = l.number \
         WHERE c.shift = 2 AND b.starts_at >= '14:00' AND b.ends_at <= '19:00'",
    );
    zero(
        conn,
        "a teacher in both shifts at once",
        "WITH t AS (SELECT coalesce(l.substitute_teacher_id, l.teacher_id) AS who, l.date, \
         c.shift, b.starts_at, b.ends_at FROM lessons l JOIN classes c ON c.id = l.class_id \
         JOIN bells b ON b.shift = c.shift AND b.number = l.number) \
         SELECT count(*) FROM t a JOIN t b ON a.who = b.who AND a.date = b.date \
         AND a.shift = 1 AND b.shift = 2 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at",
    );
    zero(
        conn,
        "a second-shift class's event during its lessons",
        "SELECT count(*) FROM events e JOIN classes c ON c.id = e.class_id AND c.shift = 2 \
         JOIN lessons l ON l.class_id = c.id AND l.date = substr(e.starts_at, 1, 10) \
         JOIN bells b ON b.shift = 2 AND b.number = l.number \
         WHERE substr(e.starts_at, 12, 5) < b.ends_at \
         AND coalesce(substr(e.ends_at, 12, 5), substr(e.starts_at, 12, 5)) > b.starts_at",
    );
    zero(
        conn,
        "a second-shift class's announcement of a meeting at the old time",
        "SELECT count(*) FROM announcements a JOIN classes c ON c.id = a.class_id \
         WHERE c.shift = 2 AND a.body_md LIKE '% в 18:00**%'",
    );
    some(
        conn,
        "the bells announcement names the second shift",
        "SELECT count(*) FROM announcements WHERE title = 'Расписание звонков' \
         AND body_md LIKE '%Вторая смена%14:15%'",
    );
}

/// The sanitary limit of a day's homework, by grade, in SQL.
const DAILY_LIMIT: &str = "CASE WHEN c.grade <= 3 THEN 90 WHEN c.grade <= 5 THEN 120 \
                           WHEN c.grade <= 8 THEN 150 ELSE 210 END";

/// Homework minutes: on every lesson with homework (none in grade 1), 10–40 a lesson;
/// most days within the grade's limit, a few over it.
fn homework_minutes(conn: &Connection) {
    zero(
        conn,
        "homework without minutes, or minutes without homework",
        "SELECT count(*) FROM lessons WHERE (homework IS NULL) != (homework_minutes IS NULL)",
    );
    zero(
        conn,
        "an estimate outside 10–40 minutes",
        "SELECT count(*) FROM lessons WHERE homework_minutes NOT BETWEEN 10 AND 40",
    );
    zero(
        conn,
        "homework minutes in grade 1",
        "SELECT count(*) FROM lessons l JOIN classes c ON c.id = l.class_id \
         WHERE c.grade = 1 AND l.homework_minutes IS NOT NULL",
    );
    let days = |having: &str| {
        count(
            conn,
            &format!(
                "SELECT count(*) FROM (SELECT 1 FROM lessons l JOIN classes c ON c.id = l.class_id \
                 WHERE l.homework_minutes IS NOT NULL AND l.cancelled = 0 \
                 GROUP BY l.class_id, l.date {having})"
            ),
        )
    };
    let over = days(&format!(
        "HAVING sum(l.homework_minutes) > max({DAILY_LIMIT})"
    ));
    let all = days("");
    assert!(
        over > 0 && over * 50 < all,
        "{over} of {all} days over the limit"
    );
}

/// When marks were entered: never before the lesson; most on its day; written work within
/// the week; a few over a week late.
fn entry_times(conn: &Connection) {
    zero(
        conn,
        "a mark without its entry time",
        "SELECT count(*) FROM marks WHERE entered_at IS NULL",
    );
    zero(
        conn,
        "a mark entered before its lesson",
        "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
         WHERE substr(m.entered_at, 1, 10) < l.date",
    );
    zero(
        conn,
        "a mark entered before its lesson ended",
        "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
         JOIN classes c ON c.id = l.class_id JOIN bells b ON b.shift = c.shift AND b.number = l.number \
         WHERE m.entered_at < l.date || ' ' || b.ends_at",
    );
    let late = count(
        conn,
        "SELECT count(DISTINCT m.lesson_id) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
         WHERE julianday(substr(m.entered_at, 1, 10)) - julianday(l.date) > 7",
    );
    let lessons = count(conn, "SELECT count(DISTINCT lesson_id) FROM marks");
    assert!(late > 0 && late * 100 < lessons, "{late} of {lessons} late");
    let same_day: f64 = conn
        .query_row(
            "SELECT avg(substr(m.entered_at, 1, 10) = l.date) FROM marks m \
             JOIN lessons l ON l.id = m.lesson_id",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(same_day > 0.6, "{same_day} on the lesson's day");
    zero(
        conn,
        "an everyday mark of shift 1 entered after 15:00 on its day",
        "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
         JOIN classes c ON c.id = l.class_id \
         WHERE c.shift = 1 AND substr(m.entered_at, 1, 10) = l.date AND l.number <= 6 \
         AND substr(m.entered_at, 12) > '15:00'",
    );
    some(
        conn,
        "written work entered days later",
        "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
         WHERE m.work_type_id = 9 AND julianday(substr(m.entered_at, 1, 10)) - julianday(l.date) \
         BETWEEN 1 AND 7",
    );
}

/// When period marks were set: quarters and the year in their last week, on a school day;
/// the exam and final marks not yet (their results come after the session).
fn period_mark_dates(conn: &Connection) {
    zero(
        conn,
        "a quarter or year mark set outside its period's last week",
        "SELECT count(*) FROM period_marks pm JOIN periods p ON p.id = pm.period_id \
         WHERE p.kind IN ('quarter', 'year') AND (pm.set_on IS NULL \
         OR pm.set_on NOT BETWEEN date(p.ends_on, '-6 days') AND p.ends_on \
         OR strftime('%w', pm.set_on) IN ('0', '6'))",
    );
    zero(
        conn,
        "a year mark set before the class's fourth-quarter mark",
        "SELECT count(*) FROM period_marks y JOIN period_marks q ON q.student_id = y.student_id \
         AND q.subject_id = y.subject_id AND q.period_id = 4 WHERE y.period_id = 5 \
         AND y.set_on < q.set_on",
    );
    zero(
        conn,
        "an exam or final mark with a set date",
        "SELECT count(*) FROM period_marks pm JOIN periods p ON p.id = pm.period_id \
         WHERE p.kind IN ('exam', 'final') AND pm.set_on IS NOT NULL",
    );
}

/// Exams: an exam session and a final mark in the year; exam marks in Russian and
/// mathematics for every leaver of grades 9 and 11, and only for them; the final mark of
/// grade 9 the mean of the year and exam marks, rounded half up.
fn exams(conn: &Connection) {
    for kind in ["exam", "final"] {
        assert_eq!(
            count(
                conn,
                &format!("SELECT count(*) FROM periods WHERE kind = '{kind}'")
            ),
            1,
            "{kind}"
        );
    }
    let marks_in = |kind: &str, grades: &str| {
        count(
            conn,
            &format!(
                "SELECT count(*) FROM period_marks pm JOIN periods p ON p.id = pm.period_id \
                 JOIN students s ON s.id = pm.student_id JOIN classes c ON c.id = s.class_id \
                 WHERE p.kind = '{kind}' AND c.grade {grades}"
            ),
        )
    };
    for kind in ["exam", "final"] {
        assert!(marks_in(kind, "IN (9, 11)") > 0, "{kind} marks of leavers");
        assert_eq!(
            marks_in(kind, "NOT IN (9, 11)"),
            0,
            "{kind} marks of others"
        );
    }
    zero(
        conn,
        "a leaver with a year mark in Russian or algebra and no exam mark in it",
        "SELECT count(*) FROM period_marks y JOIN students s ON s.id = y.student_id \
         JOIN classes c ON c.id = s.class_id WHERE c.grade IN (9, 11) AND y.period_id = 5 \
         AND y.subject_id IN (1, 6) AND NOT EXISTS (SELECT 1 FROM period_marks e \
         WHERE e.student_id = y.student_id AND e.subject_id = y.subject_id AND e.period_id = 6)",
    );
    zero(
        conn,
        "a final mark of grade 9 that is not the mean of the year and exam marks",
        "SELECT count(*) FROM period_marks f JOIN students s ON s.id = f.student_id \
         JOIN classes c ON c.id = s.class_id AND c.grade = 9 \
         JOIN period_marks y ON y.student_id = f.student_id AND y.subject_id = f.subject_id \
         AND y.period_id = 5 LEFT JOIN period_marks e ON e.student_id = f.student_id \
         AND e.subject_id = f.subject_id AND e.period_id = 6 WHERE f.period_id = 7 \
         AND CAST(f.value AS INTEGER) != CASE WHEN e.value IS NULL THEN CAST(y.value AS INTEGER) \
         ELSE (CAST(y.value AS INTEGER) + CAST(e.value AS INTEGER) + 1) / 2 END",
    );
}

/// How families receive the diary: a few on paper only (the child has no one online),
/// the rest online with consent given around the start of the year.
fn deliveries(conn: &Connection) {
    some(
        conn,
        "a child whose guardians are all on paper",
        "SELECT count(*) FROM students s WHERE NOT EXISTS (SELECT 1 FROM student_guardians sg \
         JOIN guardians g ON g.id = sg.guardian_id WHERE sg.student_id = s.id \
         AND g.delivery = 'online')",
    );
    let paper = count(
        conn,
        "SELECT count(*) FROM guardians WHERE delivery = 'paper'",
    );
    let all = count(conn, "SELECT count(*) FROM guardians");
    assert!(paper * 10 < all, "{paper} of {all} guardians on paper");
    zero(
        conn,
        "a delivery other than online or paper",
        "SELECT count(*) FROM guardians WHERE delivery NOT IN ('online', 'paper')",
    );
    zero(
        conn,
        "online without consent, or consent on paper",
        "SELECT count(*) FROM guardians WHERE (delivery = 'online') != (consent_on IS NOT NULL)",
    );
    zero(
        conn,
        "consent far from the start of the year",
        "SELECT count(*) FROM guardians WHERE consent_on NOT BETWEEN '2026-08-20' AND '2026-11-01'",
    );
    let september: f64 = conn
        .query_row(
            "SELECT avg(consent_on < '2026-09-16') FROM guardians WHERE consent_on IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(september > 0.7, "{september} by mid-September");
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
