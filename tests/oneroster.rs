//! `diary import oneroster` end to end: two public OneRoster sample sets written by others
//! (tests/fixtures/oneroster-1.1-edfi-sample/ and oneroster-1.2-catalyst-fixture/, each with
//! its source and license), a gradebook set of our own (tests/fixtures/oneroster-gradebook/),
//! then `check`, `build` and the diaries; re-import, delta exports and bad input.
//!
//! The generator of a 2000-pupil export and the timing of its import is an ignored test:
//! `cargo test --release --test oneroster -- --ignored --nocapture`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::*;
use predicates::prelude::*;
use rusqlite::Connection;

const EDFI_1_1: &str = "oneroster-1.1-edfi-sample";
const CATALYST_1_2_ZIP: &str = "oneroster-1.2-catalyst-fixture/oneroster_test_data.zip";

fn gradebook(part: &str) -> PathBuf {
    fixture("oneroster-gradebook").join(part)
}

/// A new empty site (no journal yet) with cheap access-code settings.
fn new_site() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("school");
    diary()
        .args(["init", site.to_str().unwrap()])
        .assert()
        .success();
    cheap_codes(&site);
    (tmp, site)
}

/// Runs the import; returns its summary (stdout).
fn import(site: &Path, export: &Path) -> String {
    let out = diary()
        .arg("-C")
        .arg(site)
        .args(["import", "oneroster"])
        .arg(export)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "import failed: {stderr}\n{stdout}");
    stdout
}

/// Runs the import expecting it to fail; returns the error (stderr).
fn import_fails(site: &Path, export: &Path) -> String {
    let out = diary()
        .arg("-C")
        .arg(site)
        .args(["import", "oneroster"])
        .arg(export)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the import succeeded");
    String::from_utf8(out.stderr).unwrap()
}

fn journal(site: &Path) -> PathBuf {
    site.join("data/journal.sqlite")
}

/// Rows per table of the journal (every table, the import's own included).
fn row_counts(site: &Path) -> BTreeMap<String, i64> {
    let conn = Connection::open(journal(site)).unwrap();
    common::tables(&conn)
        .into_iter()
        .map(|t| {
            let n = conn
                .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap();
            (t, n)
        })
        .collect()
}

/// One value from the journal.
fn one<T: rusqlite::types::FromSql>(site: &Path, sql: &str) -> T {
    Connection::open(journal(site))
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of a query as strings (NULL as "∅"), one row joined by `|`.
fn rows(site: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(journal(site)).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok((0..n)
            .map(|i| match r.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Null => "∅".to_string(),
                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                rusqlite::types::ValueRef::Real(v) => v.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                rusqlite::types::ValueRef::Blob(_) => "blob".into(),
            })
            .collect::<Vec<_>>()
            .join("|"))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The journal id of an imported OneRoster row.
fn local(site: &Path, kind: &str, sourced_id: &str) -> Option<i64> {
    Connection::open(journal(site))
        .unwrap()
        .query_row(
            "SELECT local_id FROM external_ids WHERE source = 'oneroster' AND kind = ?1 AND \
             external_id = ?2",
            [kind, sourced_id],
            |r| r.get(0),
        )
        .ok()
}

/// A mark by the sourcedId of its result: "value|is_debt|comment|class name".
fn mark(site: &Path, result: &str) -> Option<String> {
    let id = local(site, "marks", result)?;
    rows(
        site,
        &format!(
            "SELECT m.value, m.is_debt, m.comment, c.name FROM marks m JOIN lessons l ON l.id = \
             m.lesson_id JOIN classes c ON c.id = l.class_id WHERE m.id = {id}"
        ),
    )
    .pop()
}

fn check_passes(site: &Path) {
    diary()
        .arg("-C")
        .arg(site)
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains("0 error(s)"));
}

/// Issues codes, builds (as of `today`), and returns the number of slot files published.
fn codes_and_build(site: &Path, today: &str) -> usize {
    diary()
        .arg("-C")
        .arg(site)
        .args(["codes", "issue"])
        .assert()
        .success();
    diary()
        .arg("-C")
        .arg(site)
        .args(["build", "--today", today])
        .assert()
        .success();
    tree(&site.join("public/diary/k"))
        .keys()
        .filter(|k| k.ends_with(".bin"))
        .count()
}

#[test]
fn edfi_1_1_sample_imports_checks_builds_and_opens_diaries() {
    let export = fixture(EDFI_1_1);
    let (_tmp, site) = new_site();
    let summary = import(&site, &export);
    for line in [
        "OneRoster 1.1 export: orgs.csv (bulk, 2), academicSessions.csv (bulk, 3)",
        "school: 1 new",
        "academic_years: 1 new",
        "periods: 3 new",
        "teachers: 2 new",
        "classes: 1 new",
        "students: 8 new",
        "subjects: 2 new",
        "groups: 2 new",
        "group_students: 10 new",
        "not read: demographics.csv",
    ] {
        assert!(summary.contains(line), "{line}\n{summary}");
    }
    assert_eq!(
        rows(&site, "SELECT name, short_name, is_demo FROM school"),
        ["Grand Bend High School|Grand Bend High School|0"]
    );
    assert_eq!(
        rows(
            &site,
            "SELECT kind, number, starts_on, ends_on FROM periods ORDER BY id"
        ),
        [
            "half|1|2020-08-17|2020-12-18",
            "half|2|2021-01-04|2021-05-28",
            "year|1|2020-08-17|2021-05-28"
        ]
    );
    // No homerooms: the pupils' grade (09) makes the journal class; each section is a group.
    assert_eq!(rows(&site, "SELECT grade, name FROM classes"), ["9|9"]);
    assert_eq!(
        rows(
            &site,
            "SELECT g.name, s.name, count(*) FROM groups g JOIN subjects s ON s.id = \
             g.subject_id JOIN group_students gs ON gs.group_id = g.id GROUP BY g.id ORDER BY 1"
        ),
        ["ALG-1|Algebra I|5", "ENG-1|English I|5"]
    );
    // The middle name of a pupil, and a `{Local:863}`-style id list left alone.
    assert_eq!(
        rows(
            &site,
            &format!(
                "SELECT last_name, first_name, middle_name FROM students WHERE id = {}",
                local(&site, "students", "604918").unwrap()
            )
        ),
        ["Nash|Peter|Ivan"]
    );
    check_passes(&site);
    // The sample's year is 2020/21: build as of a day in it. No guardians: every pupil
    // gets a code of their own.
    assert_eq!(codes_and_build(&site, "2021-03-01"), 8);

    let before = row_counts(&site);
    let again = import(&site, &export);
    assert!(
        again.contains("total: 0 new, 0 updated, 0 deleted"),
        "{again}"
    );
    assert_eq!(before, row_counts(&site));
}

#[test]
fn catalyst_1_2_zip_imports_and_reports_what_it_skips() {
    let export = fixture(CATALYST_1_2_ZIP);
    let (_tmp, site) = new_site();
    let summary = import(&site, &export);
    for line in [
        "OneRoster 1.2 export: orgs.csv (delta, 1)",
        "roles.csv (delta, 1)",
        "school: 1 new",
        // One semester with schoolYear 2023 and no schoolYear row: the year is made from it.
        "academic year 2023/2024 made from the schoolYear column",
        "periods: 2 new",
        // Neither the user, the class nor the course gives a grade: reported, not guessed.
        "skipped 1 user: a pupil without a grade",
        "(first: users.csv line 2: USER_0)",
        "skipped 1 class: no imported pupils are enrolled in it (first: classes.csv line 2: \
         CLASS_001)",
        "not read: demographics.csv, userProfiles.csv",
    ] {
        assert!(summary.contains(line), "{line}\n{summary}");
    }
    assert_eq!(
        rows(&site, "SELECT name FROM school"),
        ["Gotham High School"]
    );
    assert_eq!(
        rows(&site, "SELECT name, starts_on, ends_on FROM academic_years"),
        ["2023/2024|2023-09-04|2024-01-26"]
    );
    assert_eq!(one::<i64>(&site, "SELECT count(*) FROM students"), 0);
    check_passes(&site);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    // Nothing of the user's login or password is kept.
    let dump = rows(&site, "SELECT data FROM oneroster_records").join("\n");
    assert!(!dump.contains("Batman"), "{dump}");
    assert!(!dump.contains("brucewayne"), "{dump}");

    let before = row_counts(&site);
    let again = import(&site, &export);
    assert!(
        again.contains("total: 0 new, 0 updated, 0 deleted"),
        "{again}"
    );
    assert_eq!(before, row_counts(&site));
}

#[test]
fn gradebook_becomes_lessons_marks_and_debts() {
    let (_tmp, site) = new_site();
    let summary = import(&site, &gradebook("bulk"));
    for line in [
        "OneRoster 1.2 export:",
        "students: 8 new",
        "guardians: 2 new",
        "classes: 3 new",
        "groups: 4 new",
        "work_types: 3 new",
        "lessons: 8 new",
        "marks: 12 new",
        "skipped 1 result: first grade gets no marks (first: results.csv line 13: RES-12)",
        "skipped 1 user: a pupil whose grade '12' is not a journal grade (1–11) (first: \
         users.csv line 10: s12)",
        "skipped 1 user: role relative is not imported",
        "skipped 1 user: role aide is not imported",
        "skipped 1 line item: dated 2027-07-01, outside the school year",
        "skipped 1 result: textScore 'зачёт' is not a mark of the scale",
        "skipped 1 result: no score and no textScore yet (first: results.csv line 14: RES-13)",
    ] {
        assert!(summary.contains(line), "{line}\n{summary}");
    }
    // Homerooms are the classes, with their grade and class teacher.
    assert_eq!(
        rows(
            &site,
            "SELECT c.grade, c.letter, c.name, t.last_name FROM classes c JOIN teachers t ON \
             t.id = c.class_teacher_id ORDER BY c.name"
        ),
        ["1|А|1А|Фёдорова", "5|А|5А|Смирнова", "5|Б|5Б|Кузнецов"]
    );
    // Sections: a whole class's is taught to the class, a part's to a group of it; a
    // section across two classes is a group in each.
    assert_eq!(
        rows(
            &site,
            "SELECT c.name, g.name, count(gs.student_id) FROM groups g JOIN classes c ON c.id = \
             g.class_id JOIN group_students gs ON gs.group_id = g.id GROUP BY g.id ORDER BY 1, 2"
        ),
        [
            "5А|Английский язык, группа 1|2",
            "5А|Английский язык, группа 2|2",
            "5А|Информатика 5 (сборная)|1",
            "5Б|Информатика 5 (сборная)|2"
        ]
    );
    assert_eq!(
        rows(
            &site,
            "SELECT c.name, coalesce(g.name, '-'), s.name, t.last_name, l.date, l.number, l.room, \
             l.topic FROM lessons l JOIN classes c ON c.id = l.class_id JOIN subjects s ON s.id \
             = l.subject_id LEFT JOIN groups g ON g.id = l.group_id JOIN teachers t ON t.id = \
             l.teacher_id ORDER BY l.date, c.name, l.topic"
        ),
        [
            "5А|-|Математика|Смирнова|2026-10-15|2|21|Контрольная работа № 1",
            "1А|-|Математика|Фёдорова|2026-11-16|2|3|Счёт до 10",
            "5А|-|Математика|Смирнова|2026-11-18|2|21|Самостоятельная работа",
            // Due 2026-11-17T21:30Z: the 18th in Moscow.
            "5Б|-|Русский язык|Кузнецов|2026-11-18|1|14|Диктант",
            "5А|Английский язык, группа 2|Английский язык|Васильева|2026-11-19|3|32|Reading",
            "5А|Английский язык, группа 1|Английский язык|Васильева|2026-11-19|3|31|Vocabulary test",
            "5А|Информатика 5 (сборная)|Информатика|Кузнецов|2026-11-20|6|40|Практическая работа",
            "5Б|Информатика 5 (сборная)|Информатика|Кузнецов|2026-11-20|6|40|Практическая работа",
        ]
    );
    // Scores on the 1..5 scale, spread evenly over each line item's range.
    let expect = [
        ("RES-1", "5|0|∅|5А"),                                          // 18/20 = 90 %
        ("RES-2", "4|0|∅|5А"),                                          // 13/20 = 65 %
        ("RES-3", "∅|1|Не сдала работу|5А"),                            // missing: an open debt
        ("RES-4", "3|1|Сдал с опозданием|5А"), // late: a debt made up, 45 %
        ("RES-5", "5|0|∅|5А"),                 // textScore via the class's scale
        ("RES-6", "осв|0|Освобождён|5А"),      // exempt
        ("RES-7", "4|0|Good progress, but watch your \"spelling\"|5А"), // B → 80–89 → 84.5 %
        ("RES-8", "3|0|∅|5А"),                 // 55 %
        ("RES-9", "5|0|∅|5А"),
        ("RES-10", "3|0|∅|5Б"), // 3/5 = 60 %
        ("RES-11", "5|0|∅|5Б"), // textScore that is a mark
        ("RES-17", "4|0|∅|5Б"),
    ];
    for (result, want) in expect {
        assert_eq!(mark(&site, result).as_deref(), Some(want), "{result}");
    }
    for skipped in ["RES-12", "RES-13", "RES-14", "RES-15", "RES-16"] {
        assert_eq!(mark(&site, skipped), None, "{skipped}");
    }
    assert_eq!(
        rows(
            &site,
            "SELECT w.name, w.weight, count(*) FROM marks m JOIN work_types w ON w.id = \
             m.work_type_id GROUP BY w.id ORDER BY 1"
        ),
        ["Контрольная работа|2|6", "Работа на уроке|1|6"]
    );
    // Guardians by agentSourcedIds, both ways; one parent of two pupils in two classes.
    assert_eq!(
        rows(
            &site,
            "SELECT g.last_name, g.contact, s.first_name, sg.relation FROM student_guardians sg \
             JOIN guardians g ON g.id = sg.guardian_id JOIN students s ON s.id = sg.student_id \
             ORDER BY 1, 3"
        ),
        [
            "Иванова|s.ivanova@example.org|Анна|parent",
            "Иванова|s.ivanova@example.org|Дмитрий|parent",
            "Петрова|+7 900 000-00-02|Дарья|guardian",
            "Петрова|+7 900 000-00-02|Пётр|guardian",
        ]
    );
    check_passes(&site);
    // Two guardians' codes, and a code of their own for the 4 pupils without one.
    assert_eq!(codes_and_build(&site, "2026-11-23"), 6);
    assert_eq!(
        common::independent::published_diaries(&site).len(),
        8,
        "a sealed diary per pupil"
    );
}

#[test]
fn reimporting_the_same_export_changes_nothing() {
    let (_tmp, site) = new_site();
    import(&site, &gradebook("bulk"));
    let before = row_counts(&site);
    assert!(before["marks"] > 0 && before["external_ids"] > 0);
    let bytes = std::fs::read(journal(&site)).unwrap();
    let again = import(&site, &gradebook("bulk"));
    assert!(
        again.contains("total: 0 new, 0 updated, 0 deleted"),
        "{again}"
    );
    assert!(
        again.contains("marks: 0 new, 0 updated, 0 deleted, 12 unchanged"),
        "{again}"
    );
    assert_eq!(before, row_counts(&site));
    // Not a row of the journal's own tables changed either.
    let conn_before = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(conn_before.path(), bytes).unwrap();
    for table in [
        "students",
        "lessons",
        "marks",
        "groups",
        "group_students",
        "classes",
    ] {
        let sql = format!("SELECT * FROM {table} ORDER BY 1, 2");
        let old = {
            let c = Connection::open(conn_before.path()).unwrap();
            let mut s = c.prepare(&sql).unwrap();
            let n = s.column_count();
            s.query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>())
            })
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
        };
        let c = Connection::open(journal(&site)).unwrap();
        let mut s = c.prepare(&sql).unwrap();
        let n = s.column_count();
        let new: Vec<Vec<String>> = s
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>())
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(old, new, "{table}");
    }
}

#[test]
fn delta_export_applies_changes_and_tobedeleted_rows() {
    let (_tmp, site) = new_site();
    import(&site, &gradebook("bulk"));
    let b3 = local(&site, "students", "b3").unwrap();
    let summary = import(&site, &gradebook("delta"));
    for line in [
        "OneRoster 1.2 export: users.csv (delta, 2), roles.csv (delta, 2), enrollments.csv \
         (delta, 7), lineItems.csv (delta, 1), results.csv (delta, 3)",
        "students: 1 new, 1 updated, 1 deleted",
        "marks: 1 new, 4 updated, 4 deleted",
    ] {
        assert!(summary.contains(line), "{line}\n{summary}");
    }
    // b3 left: the pupil, their memberships and their marks are gone.
    assert_eq!(local(&site, "students", "b3"), None);
    for table in ["marks", "group_students", "student_guardians"] {
        assert_eq!(
            one::<i64>(
                &site,
                &format!("SELECT count(*) FROM {table} WHERE student_id = {b3}")
            ),
            0,
            "{table}"
        );
    }
    assert_eq!(mark(&site, "RES-17"), None);
    // a5 joined 5А and got a mark; RES-2 was regraded; RES-3 withdrawn.
    assert_eq!(
        rows(
            &site,
            &format!(
                "SELECT s.last_name, c.name FROM students s JOIN classes c ON c.id = s.class_id \
                 WHERE s.id = {}",
                local(&site, "students", "a5").unwrap()
            )
        ),
        ["Егорова|5А"]
    );
    assert_eq!(mark(&site, "RES-18").as_deref(), Some("4|0|∅|5А"));
    assert_eq!(
        mark(&site, "RES-2").as_deref(),
        Some("5|0|Переписал на отлично|5А")
    );
    assert_eq!(mark(&site, "RES-3"), None);
    // LI-M2 was withdrawn: its lesson and marks are gone.
    assert_eq!(local(&site, "lessons", "LI-M2|HR-5A"), None);
    assert_eq!(mark(&site, "RES-5"), None);
    assert_eq!(mark(&site, "RES-6"), None);
    // a1 moved from 5А to 5Б: her marks moved with her, to lessons of 5Б taught to a group
    // of 5Б made of her sections' pupils there.
    for result in ["RES-1", "RES-7", "RES-9"] {
        let m = mark(&site, result).unwrap();
        assert!(m.ends_with("|5Б"), "{result}: {m}");
    }
    // The untouched files are as they were: the 5А maths section is still the whole class.
    assert_eq!(
        rows(
            &site,
            "SELECT coalesce(g.name, '-') FROM lessons l JOIN classes c ON c.id = l.class_id LEFT \
             JOIN groups g ON g.id = l.group_id WHERE l.topic = 'Контрольная работа № 1' ORDER \
             BY c.name"
        ),
        ["-", "Математика 5А"]
    );
    check_passes(&site);
    diary().arg("-C").arg(&site).arg("build").assert().success();

    // The same delta again changes nothing.
    let before = row_counts(&site);
    let again = import(&site, &gradebook("delta"));
    assert!(
        again.contains("total: 0 new, 0 updated, 0 deleted"),
        "{again}"
    );
    assert_eq!(before, row_counts(&site));
}

/// Copies the gradebook's bulk export into `dir`, with `file` edited by `edit`.
fn broken(dir: &Path, file: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = dir.join(format!("broken-{n}-{}", file.replace('.', "-")));
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(gradebook("bulk")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&p).unwrap();
        let text = if name == file { edit(&text) } else { text };
        std::fs::write(out.join(name), text).unwrap();
    }
    out
}

#[test]
fn bad_input_names_file_line_column_and_changes_nothing() {
    let (tmp, site) = new_site();
    // Into a site without a journal: a failed import leaves none behind.
    let bad_score = broken(tmp.path(), "results.csv", |t| {
        t.replace(
            "RES-8,,,LI-E2,a3,fully graded,55,",
            "RES-8,,,LI-E2,a3,fully graded,5O,",
        )
    });
    let err = import_fails(&site, &bad_score);
    assert!(
        err.contains("results.csv line 9, column score: '5O' is not a number"),
        "{err}"
    );
    assert!(err.contains("the journal is unchanged"), "{err}");
    assert!(!journal(&site).exists());

    import(&site, &gradebook("bulk"));
    let before = std::fs::read(journal(&site)).unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            bad_score,
            "results.csv line 9, column score: '5O' is not a number",
        ),
        (
            broken(tmp.path(), "users.csv", |t| {
                t.replace("\"p1, p3\"", "\"p1, p3")
            }),
            "users.csv line 2, column agentSourcedIds: 'p1, p3,05,,,,,,S39,,…' runs over several \
             lines",
        ),
        (
            broken(tmp.path(), "enrollments.csv", |t| {
                t.replace(
                    "E-HR-5A-a2,active,,HR-5A,S39,a2,",
                    "E-HR-5A-a2,active,,HR-5A,S39,a9,",
                )
            }),
            "enrollments.csv line 3, column userSourcedId: 'a9' names no row of users.csv",
        ),
        (
            broken(tmp.path(), "lineItems.csv", |t| {
                t.replace(",2026-11-18,MATH-5A,", ",2026-11-31,MATH-5A,")
            }),
            "lineItems.csv line 3, column dueDate: '2026-11-31' is not a date",
        ),
        (
            broken(tmp.path(), "academicSessions.csv", |t| {
                t.replace(
                    "Q4,,,4 четверть,gradingPeriod,",
                    "Q4,deleted,,4 четверть,gradingPeriod,",
                )
            }),
            "academicSessions.csv line 8, column status: 'deleted' is not an allowed value",
        ),
        (
            broken(tmp.path(), "classes.csv", |t| {
                t.replace(
                    "MATH-1A,active,,Математика 1А,01,C-MATH,",
                    "MATH-1A,active,,Математика 1А,01,,",
                )
            }),
            "classes.csv line 10, column courseSourcedId: the value is empty, but this column is \
             required",
        ),
        (
            broken(tmp.path(), "results.csv", |t| {
                t.replace(
                    "RES-9,,,LI-I1,a1,fully graded,5,",
                    "RES-9,,,LI-I1,a1,graded,5,",
                )
            }),
            "results.csv line 10, column scoreStatus: 'graded' is not an allowed value",
        ),
        (
            broken(tmp.path(), "manifest.csv", |t| {
                t.replace("oneroster.version,1.2", "oneroster.version,2.0")
            }),
            "manifest.csv line 3, column value: '2.0' is not a OneRoster version",
        ),
        (
            broken(tmp.path(), "orgs.csv", |t| {
                t.replace(",district,", ",school,")
            }),
            "orgs.csv lists 2 schools",
        ),
    ];
    for (export, expected) in &cases {
        let err = import_fails(&site, export);
        assert!(err.contains(expected), "{expected}\n{err}");
        assert!(err.contains("the journal is unchanged"), "{err}");
        assert_eq!(
            std::fs::read(journal(&site)).unwrap(),
            before,
            "{expected}: the journal changed"
        );
    }
    // A manifest that names a file the export lacks.
    let missing = broken(tmp.path(), "none", |t| t.to_string());
    std::fs::remove_file(missing.join("users.csv")).unwrap();
    let err = import_fails(&site, &missing);
    assert!(
        err.contains("file.users is 'bulk' but the export has no users.csv"),
        "{err}"
    );
    assert_eq!(std::fs::read(journal(&site)).unwrap(), before);
}

#[test]
fn of_two_wrong_files_the_one_read_first_is_named() {
    // results.csv is checked as the export is opened, but a wrong value there is reported
    // only after the files read before it; a broken CSV row anywhere comes first.
    let (tmp, site) = new_site();
    let export = broken(tmp.path(), "users.csv", |t| {
        t.replace("a2,,,true,petrov.p,", "a1,,,true,petrov.p,")
    });
    let results = export.join("results.csv");
    let text = std::fs::read_to_string(&results).unwrap();
    let row = "RES-2,active,,LI-M1,a2,fully graded,13,";
    std::fs::write(
        &results,
        text.replace(row, "RES-2,active,,LI-M1,a2,fully graded,1З,"),
    )
    .unwrap();
    let err = import_fails(&site, &export);
    assert!(
        err.contains("users.csv line 3, column sourcedId: 'a1' is already on line 2"),
        "{err}"
    );
    std::fs::write(&results, text.replace(row, &format!("{row}x,"))).unwrap();
    let err = import_fails(&site, &export);
    assert!(
        err.contains("results.csv line 3: the row has 16 fields"),
        "{err}"
    );
    assert!(!journal(&site).exists());
}

#[test]
fn demo_journal_is_not_mixed_with_an_export() {
    let (_tmp, site) = demo_site(40);
    let before = std::fs::read(journal(&site)).unwrap();
    let err = import_fails(&site, &gradebook("bulk"));
    assert!(err.contains("demo school (school.is_demo = 1)"), "{err}");
    assert_eq!(std::fs::read(journal(&site)).unwrap(), before);
}

#[test]
fn score_conversion_follows_site_toml() {
    let (_tmp, site) = new_site();
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        format!(
            "{toml}\n[import.oneroster]\nexempt = \"зч\"\n\
             [import.oneroster.thresholds]\n\"5\" = 85\n\"4\" = 65\n\"3\" = 45\n\"2\" = 0\n\
             [import.oneroster.text_scores]\n\"зачёт\" = \"зч\"\n"
        ),
    )
    .unwrap();
    let summary = import(&site, &gradebook("bulk"));
    assert!(summary.contains("marks: 13 new"), "{summary}");
    assert_eq!(mark(&site, "RES-1").as_deref(), Some("5|0|∅|5А")); // 90 %
    assert_eq!(mark(&site, "RES-2").as_deref(), Some("4|0|∅|5А")); // 65 %: 4 from 65
    assert_eq!(
        mark(&site, "RES-4").as_deref(),
        Some("3|1|Сдал с опозданием|5А")
    ); // 45 %
    assert_eq!(mark(&site, "RES-6").as_deref(), Some("зч|0|Освобождён|5А"));
    assert_eq!(mark(&site, "RES-14").as_deref(), Some("зч|0|∅|5Б"));
    check_passes(&site);
}

// --- Schema v2: entry times, exams and final marks, and what OneRoster does not carry.

/// Copies the gradebook's bulk export into `dir/name`, with rows appended to the files
/// they name.
fn bulk_with(dir: &Path, name: &str, rows: &[(&str, &str)]) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(gradebook("bulk")).unwrap() {
        let p = entry.unwrap().path();
        let file = p.file_name().unwrap().to_str().unwrap().to_string();
        let mut text = std::fs::read_to_string(&p).unwrap();
        for (_, row) in rows.iter().filter(|(f, _)| *f == file) {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(out.join(&file), text).unwrap();
    }
    out
}

/// A delta export in `dir/name` of `files` (name, text), each `delta` in its manifest.
fn delta_of(dir: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let mut manifest =
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n".to_string();
    for (file, text) in files {
        manifest.push_str(&format!("file.{},delta\n", file.trim_end_matches(".csv")));
        std::fs::write(out.join(file), text).unwrap();
    }
    std::fs::write(out.join("manifest.csv"), manifest).unwrap();
    out
}

/// When a result's mark was entered, by the sourcedId of the result (∅: not known).
fn entered_at(site: &Path, result: &str) -> String {
    let id = local(site, "marks", result).unwrap_or_else(|| panic!("no mark of {result}"));
    rows(
        site,
        &format!("SELECT entered_at FROM marks WHERE id = {id}"),
    )
    .remove(0)
}

const RESULTS_HEADER: &str = "sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,score,\
     scoreDate,comment";

/// `scoreDate` is when the teacher recorded the score: it becomes `marks.entered_at` (a
/// date, or a local date and time); `dateLastModified` is not; a delta that changes it
/// updates the mark.
#[test]
fn score_date_becomes_entered_at_and_a_delta_updates_it() {
    let (tmp, site) = new_site();
    let export = bulk_with(
        tmp.path(),
        "bulk",
        // A date and time in UTC, on the lesson's day in Moscow.
        &[(
            "results.csv",
            "RES-19,,2026-12-01T10:00:00Z,LI-M1,a2,fully graded,,2026-10-15T20:30:00Z,,4,MATH-5A,,,,",
        )],
    );
    let summary = import(&site, &export);
    assert!(summary.contains("marks: 13 new"), "{summary}");
    assert_eq!(entered_at(&site, "RES-1"), "2026-10-16");
    assert_eq!(entered_at(&site, "RES-4"), "2026-10-20");
    assert_eq!(entered_at(&site, "RES-11"), "2026-11-18");
    assert_eq!(entered_at(&site, "RES-19"), "2026-10-15 23:30");
    check_passes(&site);

    let delta = delta_of(
        tmp.path(),
        "delta",
        &[(
            "results.csv",
            &format!(
                "{RESULTS_HEADER}\n\
                 RES-1,active,2026-11-25T08:00:00Z,LI-M1,a1,fully graded,18,2026-10-17T07:45:00Z,\n\
                 RES-2,active,2026-11-25T08:00:00Z,LI-M1,a2,fully graded,13,2026-10-01,\n"
            ),
        )],
    );
    let summary = import(&site, &delta);
    assert!(
        summary.contains("marks: 0 new, 2 updated, 0 deleted"),
        "{summary}"
    );
    // Only the entry time changed; dateLastModified is not taken for it.
    assert_eq!(mark(&site, "RES-1").as_deref(), Some("5|0|∅|5А"));
    assert_eq!(entered_at(&site, "RES-1"), "2026-10-17 10:45");
    // Recorded before the lesson's day (15 October): no entry time rather than a wrong one.
    assert_eq!(entered_at(&site, "RES-2"), "∅");
    assert!(
        summary.contains(
            "note: 1 result(s) have a scoreDate before the date of their line item's lesson \
             (first: results.csv line 3: RES-2): their marks are written without entered_at"
        ),
        "{summary}"
    );
    check_passes(&site);
    let again = import(&site, &delta);
    assert!(
        again.contains("marks: 0 new, 0 updated, 0 deleted, 2 unchanged"),
        "{again}"
    );

    // A scoreDate that is no date is an error naming file, line and column.
    let bad = delta_of(
        tmp.path(),
        "bad",
        &[(
            "results.csv",
            &format!("{RESULTS_HEADER}\nRES-1,active,,LI-M1,a1,fully graded,18,17.10.2026,\n"),
        )],
    );
    let err = import_fails(&site, &bad);
    assert!(
        err.contains("results.csv line 2, column scoreDate: '17.10.2026' is not a date"),
        "{err}"
    );
}

/// Categories, line items and results of an exam and a final mark, on the gradebook.
const EXAM_ROWS: &[(&str, &str)] = &[
    ("categories.csv", "CAT-EXAM,active,,Экзамен,1"),
    ("categories.csv", "CAT-FIN,active,,Итоговые отметки,1"),
    // An exam by its category, a second one of the same subject, an exam by its own
    // title, a final mark, and ordinary work whose title comes close.
    (
        "lineItems.csv",
        "LI-EX-M,active,,Письменная часть,,2027-05-20,2027-05-20,MATH-5A,CAT-EXAM,,0,20,S39",
    ),
    (
        "lineItems.csv",
        "LI-EX-M2,active,,Устная часть,,2027-05-21,2027-05-21,MATH-5A,CAT-EXAM,,0,5,S39",
    ),
    (
        "lineItems.csv",
        "LI-EX-R,active,,Переводной экзамен,,2027-05-24,2027-05-24,RUS-5B,CAT-TEST,,2,5,S39",
    ),
    (
        "lineItems.csv",
        "LI-FIN-M,active,,Математика,,2027-05-28,2027-05-28,MATH-5A,CAT-FIN,,2,5,S39",
    ),
    (
        "lineItems.csv",
        "LI-M9,active,,Итоговая контрольная работа,,2027-05-14,2027-05-14,MATH-5A,CAT-TEST,Q4,0,20,S39",
    ),
    (
        "results.csv",
        "RES-E1,,,LI-EX-M,a1,fully graded,19,2027-05-22,Отлично,,MATH-5A,,,,",
    ),
    (
        "results.csv",
        "RES-E2,,,LI-EX-M,a2,fully graded,9,2027-05-22,,,MATH-5A,,,,",
    ),
    (
        "results.csv",
        "RES-E3,,,LI-EX-M,a3,not submitted,,2027-05-22,,,MATH-5A,,,,true",
    ),
    (
        "results.csv",
        "RES-E5,,,LI-EX-M2,a1,fully graded,5,2027-05-23,,,MATH-5A,,,,",
    ),
    (
        "results.csv",
        "RES-E4,,,LI-EX-R,b2,fully graded,,2027-05-25,,4,RUS-5B,,,,",
    ),
    (
        "results.csv",
        "RES-F1,,,LI-FIN-M,a1,fully graded,5,2027-05-29,,,MATH-5A,,,,",
    ),
    (
        "results.csv",
        "RES-M9,,,LI-M9,a1,fully graded,16,2027-05-15,,,MATH-5A,,,,",
    ),
];

/// The exam and final period marks: "pupil|subject|kind|period|value|comment|set_on".
fn exam_marks(site: &Path) -> Vec<String> {
    rows(
        site,
        "SELECT s.last_name, j.name, p.kind, p.name, pm.value, pm.comment, pm.set_on FROM \
         period_marks pm JOIN students s ON s.id = pm.student_id JOIN subjects j ON j.id = \
         pm.subject_id JOIN periods p ON p.id = pm.period_id ORDER BY p.kind, s.last_name",
    )
}

/// A line item whose category's (or own) title names an exam or the final mark makes no
/// lesson: its results are period marks of an exam period (made from the exam days when
/// the export has no exam session) or of the year's final mark, set on their scoreDate.
#[test]
fn exam_and_final_line_items_become_period_marks() {
    let (tmp, site) = new_site();
    let summary = import(&site, &bulk_with(tmp.path(), "exams", EXAM_ROWS));
    for line in [
        "periods: 9 new",
        "lessons: 9 new",
        "marks: 13 new",
        "period_marks: 4 new",
        "skipped 1 result: an exam or final mark needs a score or textScore (a missing, late \
         or incomplete result without one makes no period mark) (first: results.csv line 21: \
         RES-E3)",
        "skipped 1 result: its pupil's mark for this subject and exam or final period is given \
         by result RES-E1 already (first: results.csv line 22: RES-E5)",
    ] {
        assert!(summary.contains(line), "{line}\n{summary}");
    }
    assert_eq!(
        rows(
            &site,
            "SELECT kind, number, name, starts_on, ends_on FROM periods WHERE kind IN ('exam', \
             'final') ORDER BY kind"
        ),
        [
            "exam|1|Экзамены|2027-05-20|2027-05-24",
            "final|1|Итоговая отметка|2026-09-01|2027-05-31"
        ]
    );
    assert_eq!(
        exam_marks(&site),
        [
            "Белова|Русский язык|exam|Экзамены|4|∅|2027-05-25",
            "Иванова|Математика|exam|Экзамены|5|Отлично|2027-05-22",
            "Петров|Математика|exam|Экзамены|3|∅|2027-05-22",
            "Иванова|Математика|final|Итоговая отметка|5|∅|2027-05-29",
        ]
    );
    for item in ["LI-EX-M|HR-5A", "LI-EX-R|HR-5B", "LI-FIN-M|HR-5A"] {
        assert_eq!(local(&site, "lessons", item), None, "{item}");
    }
    for result in ["RES-E1", "RES-E4", "RES-F1"] {
        assert_eq!(mark(&site, result), None, "{result}");
    }
    // "Итоговая контрольная работа" is ordinary work: a lesson and a mark.
    assert_eq!(mark(&site, "RES-M9").as_deref(), Some("4|0|∅|5А"));
    check_passes(&site);

    let again = import(&site, &bulk_with(tmp.path(), "exams-again", EXAM_ROWS));
    assert!(
        again.contains("period_marks: 0 new, 0 updated, 0 deleted, 4 unchanged"),
        "{again}"
    );
    assert!(
        again.contains("total: 0 new, 0 updated, 0 deleted"),
        "{again}"
    );
}

/// A delta that withdraws an exam result removes its period mark; one that regrades a
/// result on another day updates the value, comment and set date.
#[test]
fn a_delta_withdraws_and_regrades_exam_marks() {
    let (tmp, site) = new_site();
    import(&site, &bulk_with(tmp.path(), "exams", EXAM_ROWS));
    let delta = delta_of(
        tmp.path(),
        "exam-delta",
        &[(
            "results.csv",
            &format!(
                "{RESULTS_HEADER}\nRES-E1,tobedeleted,,,,,,,\n\
                 RES-E2,active,,LI-EX-M,a2,fully graded,14,2027-05-26,Пересдача\n"
            ),
        )],
    );
    let summary = import(&site, &delta);
    assert!(
        summary.contains("period_marks: 0 new, 1 updated, 1 deleted"),
        "{summary}"
    );
    assert_eq!(
        exam_marks(&site),
        [
            "Белова|Русский язык|exam|Экзамены|4|∅|2027-05-25",
            "Петров|Математика|exam|Экзамены|4|Пересдача|2027-05-26",
            "Иванова|Математика|final|Итоговая отметка|5|∅|2027-05-29",
        ]
    );
}

/// An exam session in academicSessions.csv (by its title) becomes the year's exam period,
/// not a fifth grading period; exam line items are marked in the session they fall in, and
/// one in no session is skipped. Replacing a made-up exam period moves the marks.
#[test]
fn exam_sessions_are_exam_periods() {
    let (tmp, site) = new_site();
    import(&site, &bulk_with(tmp.path(), "no-session", EXAM_ROWS));
    let mut with_session = EXAM_ROWS.to_vec();
    with_session.extend([
        (
            "academicSessions.csv",
            "EX27,active,,Экзаменационная сессия,gradingPeriod,2027-05-18,2027-05-31,Y2027,2027",
        ),
        (
            "lineItems.csv",
            "LI-EX-OLD,active,,Экзамен (досрочно),,2027-04-10,2027-04-10,MATH-5A,CAT-TEST,,0,20,S39",
        ),
    ]);
    let summary = import(&site, &bulk_with(tmp.path(), "session", &with_session));
    for line in [
        "periods: 1 new, 0 updated, 1 deleted",
        "period_marks: 3 new, 0 updated, 3 deleted, 1 unchanged",
        "skipped 1 line item: an exam dated 2027-04-10, in none of the exam sessions (EX27: \
         2027-05-18 – 2027-05-31) (first: lineItems.csv line 15: LI-EX-OLD)",
    ] {
        assert!(summary.contains(line), "{line}\n{summary}");
    }
    assert!(
        !summary.contains("skipped 5 academic sessions"),
        "{summary}"
    );
    assert_eq!(
        rows(
            &site,
            "SELECT kind, count(*) FROM periods GROUP BY kind ORDER BY kind"
        ),
        ["exam|1", "final|1", "half|2", "quarter|4", "year|1"]
    );
    assert_eq!(
        exam_marks(&site)[..3],
        [
            "Белова|Русский язык|exam|Экзаменационная сессия|4|∅|2027-05-25",
            "Иванова|Математика|exam|Экзаменационная сессия|5|Отлично|2027-05-22",
            "Петров|Математика|exam|Экзаменационная сессия|3|∅|2027-05-22",
        ]
    );
    check_passes(&site);
}

/// What OneRoster cannot carry is filled in the journal by other means, and later imports
/// keep it: the import writes only the columns it carries. Remarks imported from CSV go
/// with their pupil when the export removes the pupil.
#[test]
fn columns_oneroster_does_not_carry_are_kept() {
    let (tmp, site) = new_site();
    import(&site, &gradebook("bulk"));
    let (a1, b3) = (
        local(&site, "students", "a1").unwrap(),
        local(&site, "students", "b3").unwrap(),
    );
    let (class, guardian, lesson) = (
        local(&site, "classes", "HR-5B").unwrap(),
        local(&site, "guardians", "p1").unwrap(),
        local(&site, "lessons", "LI-R1|HR-5B").unwrap(),
    );
    common::sql(
        &site,
        &format!(
            "UPDATE classes SET shift = 2 WHERE id = {class};
             UPDATE guardians SET delivery = 'paper', consent_on = '2026-09-01' WHERE id = \
             {guardian};
             UPDATE lessons SET homework_minutes = 30 WHERE id = {lesson};"
        ),
    );
    let remarks = tmp.path().join("remarks");
    std::fs::create_dir_all(&remarks).unwrap();
    std::fs::write(
        remarks.join("remarks.csv"),
        format!(
            "id,student_id,date,kind,text\n1,{a1},2026-11-20,praise,Помогла однокласснику\n\
             2,{b3},2026-11-20,concern,Опаздывает\n"
        ),
    )
    .unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["import", "csv"])
        .arg(&remarks)
        .assert()
        .success();

    let again = import(&site, &gradebook("bulk"));
    assert!(
        again.contains("total: 0 new, 0 updated, 0 deleted"),
        "{again}"
    );
    let kept = |sql: &str| rows(&site, sql);
    assert_eq!(
        kept(&format!("SELECT shift FROM classes WHERE id = {class}")),
        ["2"]
    );
    assert_eq!(
        kept(&format!(
            "SELECT delivery, consent_on FROM guardians WHERE id = {guardian}"
        )),
        ["paper|2026-09-01"]
    );
    assert_eq!(
        kept(&format!(
            "SELECT homework_minutes FROM lessons WHERE id = {lesson}"
        )),
        ["30"]
    );
    // The delta removes b3: their remark goes with them; a1's stays.
    let summary = import(&site, &gradebook("delta"));
    assert!(
        summary.contains("remarks: 0 new, 0 updated, 1 deleted"),
        "{summary}"
    );
    assert_eq!(kept("SELECT student_id FROM remarks"), [a1.to_string()]);
}

// --- A 2000-pupil school: generate an export from the demo journal and time its import.

/// Writes a OneRoster 1.2 bulk export of the journal at `journal_path` into `out`: homerooms
/// for its classes, a section per class and subject (or per group), a line item per lesson
/// and work type with marks, a result per mark.
fn export_journal(journal_path: &Path, out: &Path) -> BTreeMap<&'static str, usize> {
    std::fs::create_dir_all(out).unwrap();
    let conn = Connection::open(journal_path).unwrap();
    let q = |sql: &str| -> Vec<Vec<rusqlite::types::Value>> {
        let mut s = conn.prepare(sql).unwrap();
        let n = s.column_count();
        s.query_map([], |r| (0..n).map(|i| r.get(i)).collect())
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    use rusqlite::types::Value as Sv;
    let s = |v: &Sv| match v {
        Sv::Null => String::new(),
        Sv::Integer(i) => i.to_string(),
        Sv::Real(f) => f.to_string(),
        Sv::Text(t) => t.clone(),
        Sv::Blob(_) => String::new(),
    };
    let mut counts = BTreeMap::new();
    let mut write = |name: &'static str, header: &[&str], rows: Vec<Vec<String>>| {
        let mut w = csv::Writer::from_path(out.join(format!("{name}.csv"))).unwrap();
        w.write_record(header).unwrap();
        counts.insert(name, rows.len());
        for r in rows {
            w.write_record(&r).unwrap();
        }
        w.flush().unwrap();
    };
    let files = [
        "academicSessions",
        "categories",
        "classes",
        "courses",
        "enrollments",
        "lineItems",
        "orgs",
        "results",
        "roles",
        "users",
    ];
    let mut manifest = vec![
        vec!["manifest.version".to_string(), "1.0".to_string()],
        vec!["oneroster.version".into(), "1.2".into()],
    ];
    for f in files {
        manifest.push(vec![format!("file.{f}"), "bulk".into()]);
    }
    write("manifest", &["propertyName", "value"], manifest);
    let school = &q("SELECT name FROM school")[0];
    write(
        "orgs",
        &["sourcedId", "status", "dateLastModified", "name", "type"],
        vec![vec![
            "S".into(),
            "active".into(),
            String::new(),
            s(&school[0]),
            "school".into(),
        ]],
    );
    let year = &q("SELECT name, starts_on, ends_on FROM academic_years")[0];
    let mut sessions = vec![vec![
        "Y".to_string(),
        s(&year[0]),
        "schoolYear".into(),
        s(&year[1]),
        s(&year[2]),
        String::new(),
        "2027".into(),
    ]];
    for p in q("SELECT id, kind, name, starts_on, ends_on FROM periods WHERE kind != 'year'") {
        let kind = match s(&p[1]).as_str() {
            "half" => "semester",
            "trimester" => "term",
            _ => "gradingPeriod",
        };
        sessions.push(vec![
            format!("P{}", s(&p[0])),
            s(&p[2]),
            kind.into(),
            s(&p[3]),
            s(&p[4]),
            "Y".into(),
            "2027".into(),
        ]);
    }
    write(
        "academicSessions",
        &[
            "sourcedId",
            "title",
            "type",
            "startDate",
            "endDate",
            "parentSourcedId",
            "schoolYear",
        ],
        sessions,
    );
    let mut courses: Vec<Vec<String>> = q("SELECT id, name, short_name FROM subjects")
        .iter()
        .map(|r| vec![format!("C{}", s(&r[0])), s(&r[1]), s(&r[2])])
        .collect();
    courses.push(vec!["HR".into(), "Классный час".into(), "Кл. час".into()]);
    write("courses", &["sourcedId", "title", "courseCode"], courses);

    // Sections: per class and subject for whole-class lessons, per group otherwise, with
    // the teacher who gives most of their lessons.
    let mut teacher_of: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut course_of: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let class_names: BTreeMap<String, (String, String)> = q("SELECT id, name, grade FROM classes")
        .iter()
        .map(|r| {
            let grade = match r[2] {
                Sv::Integer(g) => g,
                _ => 0,
            };
            (s(&r[0]), (s(&r[1]), format!("{grade:02}")))
        })
        .collect();
    let subject_names: BTreeMap<String, String> = q("SELECT id, name FROM subjects")
        .iter()
        .map(|r| (s(&r[0]), s(&r[1])))
        .collect();
    let group_names: BTreeMap<String, String> = q("SELECT id, name FROM groups")
        .iter()
        .map(|r| (s(&r[0]), s(&r[1])))
        .collect();
    let section_of = |class: &str, group: &str, subject: &str| {
        if group.is_empty() {
            format!("S{class}-{subject}")
        } else {
            format!("G{group}")
        }
    };
    for r in q(
        "SELECT class_id, coalesce(group_id, ''), subject_id, coalesce(teacher_id, '') FROM lessons",
    ) {
        let (c, g, sub, t) = (s(&r[0]), s(&r[1]), s(&r[2]), s(&r[3]));
        let key = section_of(&c, &g, &sub);
        *teacher_of
            .entry(key.clone())
            .or_default()
            .entry(t)
            .or_default() += 1;
        let title = if g.is_empty() {
            format!("{} {}", subject_names[&sub], class_names[&c].0)
        } else {
            format!("{} {}", group_names[&g], class_names[&c].0)
        };
        course_of.insert(key, (format!("C{sub}"), title, c));
    }
    let mut classes = Vec::new();
    for (id, (name, grade)) in &class_names {
        classes.push(vec![
            format!("HR{id}"),
            name.clone(),
            grade.clone(),
            "HR".into(),
            "homeroom".into(),
            "S".into(),
            "Y".into(),
        ]);
    }
    for (key, (course, title, class)) in &course_of {
        classes.push(vec![
            key.clone(),
            title.clone(),
            class_names[class].1.clone(),
            course.clone(),
            "scheduled".into(),
            "S".into(),
            "Y".into(),
        ]);
    }
    write(
        "classes",
        &[
            "sourcedId",
            "title",
            "grades",
            "courseSourcedId",
            "classType",
            "schoolSourcedId",
            "termSourcedIds",
        ],
        classes,
    );

    let mut guardians_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut children_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in q("SELECT student_id, guardian_id FROM student_guardians") {
        guardians_of
            .entry(s(&r[0]))
            .or_default()
            .push(format!("gu{}", s(&r[1])));
        children_of
            .entry(s(&r[1]))
            .or_default()
            .push(format!("st{}", s(&r[0])));
    }
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let students =
        q("SELECT id, class_id, last_name, first_name, coalesce(middle_name, '') FROM students");
    for r in &students {
        let id = s(&r[0]);
        users.push(vec![
            format!("st{id}"),
            "true".into(),
            s(&r[3]),
            s(&r[2]),
            s(&r[4]),
            String::new(),
            guardians_of
                .get(&id)
                .map(|g| g.join(","))
                .unwrap_or_default(),
            class_names[&s(&r[1])].1.clone(),
        ]);
        roles.push(vec![
            format!("R-st{id}"),
            format!("st{id}"),
            "primary".into(),
            "student".into(),
            "S".into(),
        ]);
    }
    for r in q("SELECT id, last_name, first_name, coalesce(middle_name, '') FROM teachers") {
        let id = s(&r[0]);
        users.push(vec![
            format!("te{id}"),
            "true".into(),
            s(&r[2]),
            s(&r[1]),
            s(&r[3]),
            String::new(),
            String::new(),
            String::new(),
        ]);
        roles.push(vec![
            format!("R-te{id}"),
            format!("te{id}"),
            "primary".into(),
            "teacher".into(),
            "S".into(),
        ]);
    }
    for r in q(
        "SELECT id, last_name, first_name, coalesce(middle_name, ''), coalesce(contact, '') FROM guardians",
    ) {
        let id = s(&r[0]);
        users.push(vec![
            format!("gu{id}"),
            "true".into(),
            s(&r[2]),
            s(&r[1]),
            s(&r[3]),
            s(&r[4]),
            children_of
                .get(&id)
                .map(|c| c.join(","))
                .unwrap_or_default(),
            String::new(),
        ]);
        roles.push(vec![
            format!("R-gu{id}"),
            format!("gu{id}"),
            "primary".into(),
            "parent".into(),
            "S".into(),
        ]);
    }
    write(
        "users",
        &[
            "sourcedId",
            "enabledUser",
            "givenName",
            "familyName",
            "middleName",
            "email",
            "agentSourcedIds",
            "grades",
        ],
        users,
    );
    write(
        "roles",
        &[
            "sourcedId",
            "userSourcedId",
            "roleType",
            "role",
            "orgSourcedId",
        ],
        roles,
    );

    let mut enrollments = Vec::new();
    let mut pupils_of_class: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &students {
        pupils_of_class.entry(s(&r[1])).or_default().push(s(&r[0]));
    }
    let mut pupils_of_group: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in q("SELECT group_id, student_id FROM group_students") {
        pupils_of_group.entry(s(&r[0])).or_default().push(s(&r[1]));
    }
    let mut enrol = |section: &str, user: &str, role: &str| {
        enrollments.push(vec![
            format!("E-{section}-{user}"),
            section.to_string(),
            "S".into(),
            user.to_string(),
            role.to_string(),
            (role == "teacher").to_string(),
        ]);
    };
    for r in q("SELECT id, coalesce(class_teacher_id, '') FROM classes") {
        let c = s(&r[0]);
        for p in pupils_of_class.get(&c).into_iter().flatten() {
            enrol(&format!("HR{c}"), &format!("st{p}"), "student");
        }
        if !s(&r[1]).is_empty() {
            enrol(&format!("HR{c}"), &format!("te{}", s(&r[1])), "teacher");
        }
    }
    for (key, (_, _, class)) in &course_of {
        let pupils = match key.strip_prefix('G') {
            Some(g) => pupils_of_group.get(g).cloned().unwrap_or_default(),
            None => pupils_of_class.get(class).cloned().unwrap_or_default(),
        };
        for p in pupils {
            enrol(key, &format!("st{p}"), "student");
        }
        if let Some((t, _)) = teacher_of[key]
            .iter()
            .filter(|(t, _)| !t.is_empty())
            .max_by_key(|(_, n)| **n)
        {
            enrol(key, &format!("te{t}"), "teacher");
        }
    }
    write(
        "enrollments",
        &[
            "sourcedId",
            "classSourcedId",
            "schoolSourcedId",
            "userSourcedId",
            "role",
            "primary",
        ],
        enrollments,
    );
    write(
        "categories",
        &["sourcedId", "title", "weight"],
        q("SELECT id, name, weight FROM work_types")
            .iter()
            .map(|r| vec![format!("CAT{}", s(&r[0])), s(&r[1]), s(&r[2])])
            .collect(),
    );
    let mut items = Vec::new();
    for r in q(
        "SELECT DISTINCT l.id, l.class_id, coalesce(l.group_id, ''), l.subject_id, l.date, \
                coalesce(l.topic, ''), m.work_type_id, w.name FROM marks m JOIN lessons l ON l.id \
                = m.lesson_id JOIN work_types w ON w.id = m.work_type_id ORDER BY l.id, m.work_type_id",
    ) {
        let section = section_of(&s(&r[1]), &s(&r[2]), &s(&r[3]));
        let topic = s(&r[5]);
        items.push(vec![
            format!("LI{}-{}", s(&r[0]), s(&r[6])),
            if topic.is_empty() {
                s(&r[7])
            } else {
                format!("{}: {topic}", s(&r[7]))
            },
            s(&r[4]),
            section,
            format!("CAT{}", s(&r[6])),
            "0".into(),
            "100".into(),
        ]);
    }
    write(
        "lineItems",
        &[
            "sourcedId",
            "title",
            "dueDate",
            "classSourcedId",
            "categorySourcedId",
            "resultValueMin",
            "resultValueMax",
        ],
        items,
    );
    let mut results = Vec::new();
    for r in q(
        "SELECT id, lesson_id, work_type_id, student_id, coalesce(value, ''), coalesce(comment, ''), is_debt FROM marks",
    ) {
        let value = s(&r[4]);
        let debt = s(&r[6]) == "1";
        let (status, score, text) = match value.as_str() {
            "5" => ("fully graded", "95", ""),
            "4" => ("fully graded", "80", ""),
            "3" => ("fully graded", "60", ""),
            "2" => ("fully graded", "35", ""),
            "1" => ("fully graded", "5", ""),
            "" => ("not submitted", "", ""),
            "осв" => ("exempt", "", ""),
            _ => ("fully graded", "", value.as_str()),
        };
        results.push(vec![
            format!("RES{}", s(&r[0])),
            format!("LI{}-{}", s(&r[1]), s(&r[2])),
            format!("st{}", s(&r[3])),
            status.into(),
            score.into(),
            text.into(),
            s(&r[5]),
            (debt && !value.is_empty()).to_string(),
            (debt && value.is_empty()).to_string(),
        ]);
    }
    write(
        "results",
        &[
            "sourcedId",
            "lineItemSourcedId",
            "studentSourcedId",
            "scoreStatus",
            "score",
            "textScore",
            "comment",
            "late",
            "missing",
        ],
        results,
    );
    counts
}

#[test]
#[ignore = "generates a 2000-pupil school and times its import (a few minutes in debug)"]
fn import_of_a_2000_pupil_school_with_a_year_of_results() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = tmp.path().join("demo");
    diary()
        .args([
            "init",
            demo.to_str().unwrap(),
            "--demo",
            "--students",
            "2000",
        ])
        .assert()
        .success();
    let export = std::env::var_os("ONEROSTER_EXPORT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("export"));
    let counts = export_journal(&journal(&demo), &export);
    let bytes: u64 = std::fs::read_dir(&export)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    eprintln!(
        "export {}: {counts:?}, {} MB",
        export.display(),
        bytes / 1_000_000
    );

    let (_site_tmp, site) = new_site();
    let started = Instant::now();
    let summary = import(&site, &export);
    let first = started.elapsed();
    eprintln!("{summary}");
    let started = Instant::now();
    let again = import(&site, &export);
    let second = started.elapsed();
    assert!(
        again.contains("total: 0 new, 0 updated, 0 deleted"),
        "{again}"
    );
    let started = Instant::now();
    check_passes(&site);
    let check = started.elapsed();
    let journal_mb = std::fs::metadata(journal(&site)).unwrap().len() / 1_000_000;
    let c = row_counts(&site);
    eprintln!(
        "import: {:.1} s; re-import (no change): {:.1} s; check: {:.1} s; journal {journal_mb} \
         MB; students {}, lessons {}, marks {}",
        first.as_secs_f64(),
        second.as_secs_f64(),
        check.as_secs_f64(),
        c["students"],
        c["lessons"],
        c["marks"]
    );
    assert_eq!(c["students"], 2000);
}
