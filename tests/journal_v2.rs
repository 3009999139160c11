//! `diary upgrade`: a version-1 demo journal (tests/fixtures/journal-v1) converted to the
//! current schema with every row kept and a byte-identical copy beside it; what it cannot
//! convert is refused with the journal untouched; build and check on a version-1 journal
//! name the command.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::{diary, query, refused};

/// A site whose journal is the version-1 fixture.
fn v1_site() -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = common::empty_site();
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(common::fixture("journal-v1/journal.sqlite.gz")).unwrap(),
    )
    .read_to_end(&mut bytes)
    .unwrap();
    std::fs::write(site.join("data/journal.sqlite"), bytes).unwrap();
    (tmp, site)
}

fn journal(site: &Path) -> PathBuf {
    site.join("data/journal.sqlite")
}

/// Every row of the version-1 columns of every table, in a fixed order.
fn v1_rows(path: &Path, upgraded: bool) -> Vec<(String, Vec<Vec<String>>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = common::tables(&conn)
        .into_iter()
        .filter(|t| t != "remarks")
        .collect();
    drop(conn);
    // The columns of version 1: those of the fixture (which is version 1).
    let v1 = v1_columns();
    tables
        .into_iter()
        .map(|t| {
            let cols = &v1.iter().find(|(name, _)| *name == t).unwrap().1;
            let list = cols.join(", ");
            let filter = if upgraded && t == "bells" {
                " WHERE shift = 1"
            } else {
                ""
            };
            let rows = query_at(
                path,
                &format!("SELECT {list} FROM \"{t}\"{filter} ORDER BY {list}"),
            );
            (t, rows)
        })
        .collect()
}

fn v1_columns() -> Vec<(String, Vec<String>)> {
    let (_tmp, site) = v1_site();
    let conn = rusqlite::Connection::open(journal(&site)).unwrap();
    common::tables(&conn)
        .into_iter()
        .map(|t| {
            let cols: Vec<String> = conn
                .prepare("SELECT name FROM pragma_table_info(?1)")
                .unwrap()
                .query_map([&t], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (t, cols)
        })
        .collect()
}

fn query_at(path: &Path, sql: &str) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path();
    std::fs::create_dir_all(site.join("data")).unwrap();
    std::os::unix::fs::symlink(path, site.join("data/journal.sqlite")).unwrap();
    query(site, sql)
}

#[test]
fn a_version_1_journal_is_upgraded_with_every_row_kept() {
    let (_tmp, site) = v1_site();
    let before = std::fs::read(journal(&site)).unwrap();
    let rows_before = v1_rows(&journal(&site), false);
    assert!(
        rows_before
            .iter()
            .any(|(t, rows)| t == "marks" && rows.len() > 1000)
    );

    // Build and check say what to run.
    refused(
        &site,
        &["build"],
        &["schema version 1", "diary upgrade", "journal.v1.sqlite"],
    );
    refused(&site, &["check"], &["diary upgrade"]);

    let out = diary()
        .arg("-C")
        .arg(&site)
        .arg("upgrade")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("upgraded from schema version 1 to 2"),
        "{stdout}"
    );

    // The copy is the journal as it was, byte for byte.
    let backup = site.join("data/journal.v1.sqlite");
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        before,
        "byte-identical backup"
    );

    // Every row of every table is still there, unchanged; new columns take their defaults.
    assert_eq!(v1_rows(&journal(&site), true), rows_before);
    assert_eq!(
        query(&site, "PRAGMA user_version"),
        vec![vec!["2".to_string()]]
    );
    assert_eq!(
        query(
            &site,
            "SELECT DISTINCT shift FROM classes UNION SELECT DISTINCT shift FROM bells"
        ),
        vec![vec!["1".to_string()]]
    );
    assert_eq!(
        query(&site, "SELECT DISTINCT delivery FROM guardians"),
        vec![vec!["online".to_string()]]
    );
    assert_eq!(
        query(&site, "SELECT count(*) FROM remarks"),
        vec![vec!["0".to_string()]]
    );
    // The new period kinds are accepted.
    common::sql(
        &site,
        "INSERT INTO periods (year_id, kind, number, name, starts_on, ends_on) \
         SELECT id, 'exam', 1, 'Экзамен', ends_on, ends_on FROM academic_years LIMIT 1",
    );

    // The upgraded journal builds and checks; a second upgrade has nothing to do.
    diary().arg("-C").arg(&site).arg("check").assert().success();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let again = diary()
        .arg("-C")
        .arg(&site)
        .arg("upgrade")
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to do"));
}

#[test]
fn what_cannot_be_converted_is_refused_and_the_journal_left_untouched() {
    // A column a school added to a table the upgrade rebuilds would be lost.
    let (_tmp, site) = v1_site();
    common::sql(&site, "ALTER TABLE bells ADD COLUMN note TEXT");
    let before = std::fs::read(journal(&site)).unwrap();
    refused(
        &site,
        &["upgrade"],
        &[
            "cannot upgrade journal",
            "it is unchanged",
            "`bells` has a column `note`",
        ],
    );
    assert_eq!(std::fs::read(journal(&site)).unwrap(), before);
    assert!(
        !site.join("data/journal.v1.sqlite").exists(),
        "no copy left behind"
    );

    // A table missing: not a whole version-1 journal.
    let (_tmp2, site) = v1_site();
    common::sql(&site, "DROP TABLE homework_links");
    let before = std::fs::read(journal(&site)).unwrap();
    refused(&site, &["upgrade"], &["table `homework_links` is missing"]);
    assert_eq!(std::fs::read(journal(&site)).unwrap(), before);

    // A copy of an earlier upgrade is never overwritten.
    let (_tmp3, site) = v1_site();
    std::fs::write(site.join("data/journal.v1.sqlite"), b"an earlier copy").unwrap();
    let before = std::fs::read(journal(&site)).unwrap();
    refused(&site, &["upgrade"], &["journal.v1.sqlite exists already"]);
    assert_eq!(std::fs::read(journal(&site)).unwrap(), before);
    assert_eq!(
        std::fs::read(site.join("data/journal.v1.sqlite")).unwrap(),
        b"an earlier copy"
    );

    // Data the new schema refuses (a row the rebuilt table cannot take) rolls back all.
    let (_tmp4, site) = v1_site();
    common::sql(
        &site,
        "PRAGMA ignore_check_constraints = 1; UPDATE periods SET kind = 'week' WHERE id = 1",
    );
    let before = std::fs::read(journal(&site)).unwrap();
    refused(
        &site,
        &["upgrade"],
        &["cannot upgrade journal", "it is unchanged"],
    );
    assert_eq!(std::fs::read(journal(&site)).unwrap(), before);
    assert!(!site.join("data/journal.v1.sqlite").exists());
}

#[test]
fn imports_into_a_version_1_journal_name_the_upgrade() {
    let (_tmp, site) = v1_site();
    refused(
        &site,
        &[
            "import",
            "csv",
            common::fixture("mini-csv").to_str().unwrap(),
        ],
        &["schema version 1", "diary upgrade"],
    );
}

/// Each value schema v2 does not allow is a finding of `diary check` that names the table,
/// the row and the column; the build refuses and publishes nothing.
#[test]
fn bad_values_of_the_new_columns_are_findings() {
    let (_tmp, site) = common::demo_site(24);
    common::sql(
        &site,
        "INSERT INTO remarks (id, student_id, date, kind, text) \
             VALUES (100007, 1, '2026-11-20', 'rudeness', 'Грубил');
         UPDATE lessons SET homework_minutes = -5 WHERE id = 100;
         UPDATE lessons SET homework_minutes = 601 WHERE id = 101;
         DELETE FROM bells WHERE shift = 2;
         UPDATE classes SET shift = CASE id WHEN 1 THEN 2 ELSE 1 END;
         UPDATE marks SET entered_at = '2020-01-01 10:00' WHERE id = 1;
         UPDATE guardians SET delivery = 'pigeon' WHERE id = 1;",
    );
    let out = diary().arg("-C").arg(&site).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    for needle in [
        "remarks id 100007, column kind: 'rudeness' is not one of behaviour, achievement, concern, praise",
        "lessons id 100, column homework_minutes: -5 is not 0–600 minutes",
        "lessons id 101, column homework_minutes: 601 is not 0–600 minutes",
        "column shift: class 1А studies in shift 2, but bells has no rows for shift 2",
        "marks id 1, column entered_at: 2020-01-01 10:00 is before the lesson's date",
        "guardians id 1, column delivery: 'pigeon' is not one of online, paper",
    ] {
        assert!(
            said.contains(needle),
            "check should say {needle:?}:\n{said}"
        );
    }
    // One finding for the shift, not one a lesson; the guardian's links still count.
    assert!(!said.contains("no row in bells"), "{said}");
    assert!(!said.contains("refers to no row of guardians"), "{said}");
    refused(&site, &["build"], &["error"]);
    assert!(!site.join("public").exists(), "the build published nothing");
}

/// A second-shift class with its own bells is fine and its pages show its own times;
/// homework in grade 1 is a warning.
#[test]
fn second_shift_bells_and_grade_1_homework() {
    let (_tmp, site) = common::demo_site(24);
    common::sql(
        &site,
        "DELETE FROM bells WHERE shift = 2;
         INSERT INTO bells (shift, number, starts_at, ends_at) \
             SELECT 2, number, time(starts_at, '+5 hours'), time(ends_at, '+5 hours') FROM bells;
         UPDATE classes SET shift = 2 WHERE grade = 6;
         UPDATE lessons SET homework = 'Прочитать сказку' \
             WHERE id = (SELECT min(l.id) FROM lessons l JOIN classes c ON c.id = l.class_id \
                         WHERE c.grade = 1 AND l.cancelled = 0);",
    );
    let out = diary().arg("-C").arg(&site).arg("check").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("column homework: homework is set in grade 1, which gets none"),
        "{said}"
    );
    // The second shift's bell times on its classes' homework board and timetable; the
    // first shift keeps its own.
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let page = |class: &str, page: &str| -> String {
        std::fs::read_to_string(site.join(format!("public/classes/{class}/{page}/index.html")))
            .unwrap()
    };
    for p in ["homework", "timetable"] {
        let sixth = page("6a", p);
        assert!(
            sixth.contains("13:30–14:15"),
            "6А {p}: the second shift's first lesson"
        );
        assert!(
            !sixth.contains("08:30–09:15"),
            "6А {p}: no first-shift times"
        );
        let fifth = page("5a", p);
        assert!(
            fifth.contains("08:30–09:15"),
            "5А {p}: the first shift's times"
        );
        assert!(!fifth.contains("13:30–14:15"), "5А {p}");
    }
    // And in a pupil's diary.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "diaries", "--class", "6А"])
        .assert()
        .success();
    let id = &query(
        &site,
        "SELECT min(s.id) FROM students s JOIN classes c ON c.id = s.class_id WHERE c.name = '6А'",
    )[0][0];
    let own = std::fs::read_to_string(site.join(format!("print/diaries-6a/{id}.html"))).unwrap();
    assert!(own.contains("13:30–14:15"), "the second shift's times");
    // The first shift's times at most in the demo's school-wide announcement of the bells.
    assert!(
        own.matches("08:30–09:15").count() <= 1,
        "no lesson at the first shift's time"
    );
}

/// `codes issue` skips guardians who receive the diary on paper, and says how many; it
/// counts those given a code without a consent date on record.
#[test]
fn paper_families_get_no_code() {
    let (_tmp, site) = common::demo_site(24);
    common::cheap_codes(&site);
    common::sql(
        &site,
        "UPDATE guardians SET delivery = 'paper' WHERE id IN (1, 2);
         UPDATE guardians SET consent_on = NULL WHERE id = \
             (SELECT min(id) FROM guardians WHERE delivery = 'online');",
    );
    let out = diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    // The demo's own families on paper, and these two.
    let paper = &query(
        &site,
        "SELECT count(*) FROM guardians WHERE delivery = 'paper'",
    )[0][0];
    assert!(
        paper.parse::<usize>().unwrap() > 2,
        "the demo has families on paper"
    );
    assert!(
        said.contains(&format!("{paper} guardian(s) receive the diary on paper")),
        "{said}"
    );
    assert!(
        said.contains("1 guardian(s) with a code have no consent on record (guardians.consent_on)"),
        "the one online guardian without a consent date: {said}"
    );
    let list = diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "list", "--format", "csv"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    let names = query(
        &site,
        "SELECT last_name || ' ' || first_name FROM guardians WHERE id IN (1, 2)",
    );
    for n in names {
        assert!(
            !list.contains(&n[0]),
            "{} is on paper but got a code:\n{list}",
            n[0]
        );
    }
    assert!(list.lines().count() > 10, "the other families got codes");
}

/// Teachers' remarks show in the child's diary on their day and in the term's list, a
/// period mark's comment next to the final mark; never on a public page.
#[test]
fn remarks_and_period_mark_comments_are_in_the_diary_only() {
    let (_tmp, site) = common::demo_site(40);
    let pupil = query(
        &site,
        "SELECT s.id, c.name, c.id FROM students s JOIN classes c ON c.id = s.class_id \
         WHERE c.grade = 5 ORDER BY s.id LIMIT 1",
    )
    .remove(0);
    let (id, class) = (&pupil[0], &pupil[1]);
    let teacher = &query(&site, "SELECT min(id) FROM teachers")[0][0];
    common::sql(
        &site,
        &format!(
            "INSERT INTO remarks (student_id, date, teacher_id, kind, text) VALUES
                 ({id}, '2026-11-19', {teacher}, 'praise', 'Помог однокласснику с задачей'),
                 ({id}, '2026-11-20', NULL, 'concern', 'Забывает сменную обувь'),
                 ({id}, '2026-11-30', NULL, 'behaviour', 'Запись из будущего');
             UPDATE period_marks SET comment = 'Старается, но торопится', set_on = '2026-10-23'
                 WHERE rowid = (SELECT pm.rowid FROM period_marks pm JOIN periods p
                                ON p.id = pm.period_id
                                WHERE pm.student_id = {id} AND p.kind = 'quarter'
                                  AND p.number = 1 LIMIT 1);"
        ),
    );
    assert_eq!(
        query(
            &site,
            &format!(
                "SELECT count(*) FROM period_marks WHERE comment IS NOT NULL AND student_id = {id}"
            )
        ),
        vec![vec!["1".to_string()]],
        "the demo pupil has a first-quarter mark to comment on"
    );
    diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "diaries", "--class", class])
        .assert()
        .success();
    let folder = std::fs::read_dir(site.join("print"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("diaries-")
        })
        .unwrap();
    let html = std::fs::read_to_string(folder.join(format!("{id}.html"))).unwrap();
    // On their days, in the week view.
    let day = html
        .split("<time datetime=2026-11-19>")
        .nth(1)
        .and_then(|rest| rest.split("<section class=day>").next())
        .expect("the diary has 19 November");
    assert!(day.contains("Помог однокласснику с задачей"), "{day}");
    assert!(day.contains("похвала"), "{day}");
    // Listed for the term, newest first, with the teacher; none from after today.
    let list = html
        .split("id=remarks-h")
        .nth(1)
        .expect("a list of remarks");
    let (newer, older) = (
        list.find("Забывает сменную обувь").unwrap(),
        list.find("Помог однокласснику").unwrap(),
    );
    assert!(newer < older, "newest first");
    assert!(!html.contains("Запись из будущего"));
    // The period mark's comment next to the teacher's mark.
    assert!(
        html.contains("«Старается, но торопится»"),
        "period mark comment"
    );

    // Never on a public page: the boards are built, the diaries sealed.
    common::cheap_codes(&site);
    common::issue_codes(&site, None);
    diary()
        .arg("-C")
        .arg(&site)
        .args(["build", "--now"])
        .assert()
        .success();
    for (path, bytes) in common::tree(&site.join("public")) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("однокласснику") && !text.contains("торопится"),
            "{path} shows a remark in clear"
        );
    }
}

/// A journal that another program is writing: the build waits `journal_wait`, then says
/// the journal is busy (not "not an SQLite database") and publishes nothing; `refresh`
/// counts it as a skipped run, not a failure.
#[test]
fn a_busy_journal_is_waited_for_then_skipped() {
    let (_tmp, site) = common::demo_site(24);
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        format!("journal_wait = \"1s\"\n{toml}"),
    )
    .unwrap();
    let writer = rusqlite::Connection::open(journal(&site)).unwrap();
    writer.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let out = diary().arg("-C").arg(&site).arg("build").output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("is busy: another program"), "{said}");
    assert!(!said.contains("not an SQLite database"), "{said}");
    assert!(!site.join("public").exists());

    let out = diary()
        .arg("-C")
        .arg(&site)
        .arg("refresh")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a skipped run is not a failure: {said}"
    );
    assert!(said.contains("refresh skipped this run"), "{said}");

    // Once the writer is done, the next run builds.
    writer.execute_batch("COMMIT").unwrap();
    diary().arg("-C").arg(&site).arg("build").assert().success();
}

/// `--paper` prints only for children whose families are all on paper; `--student` for one
/// pupil.
#[test]
fn print_for_paper_families_or_one_pupil() {
    let (_tmp, site) = common::demo_site(40);
    let pupils = query(
        &site,
        "SELECT s.id, s.last_name || ' ' || s.first_name FROM students s \
         JOIN classes c ON c.id = s.class_id WHERE c.name = '5А' ORDER BY s.id",
    );
    assert!(pupils.len() >= 3);
    let (paper_id, paper_name) = (&pupils[0][0], &pupils[0][1]);
    common::sql(
        &site,
        &format!(
            "UPDATE guardians SET delivery = 'paper' WHERE id IN \
             (SELECT guardian_id FROM student_guardians WHERE student_id = {paper_id})"
        ),
    );
    let print = |args: &[&str]| -> String {
        let out = diary()
            .arg("-C")
            .arg(&site)
            .args(["print", "weekly", "--class", "5А", "--week", "2026-W47"])
            .args(args)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {said}");
        std::fs::read_to_string(site.join("print/weekly-5a-2026-W47.html")).unwrap()
    };
    let html = print(&["--paper"]);
    assert!(
        html.contains(paper_name.as_str()),
        "the paper family's child is printed"
    );
    for other in &pupils[1..] {
        assert!(!html.contains(other[1].as_str()), "{} is online", other[1]);
    }
    let (one_id, one_name) = (&pupils[1][0], &pupils[1][1]);
    let html = print(&["--student", one_id]);
    assert!(html.contains(one_name.as_str()));
    assert!(!html.contains(paper_name.as_str()));
}

/// Homework minutes: each lesson's estimate and the day's sum on the class's homework
/// board, and a `check` warning when a day passes the grade's limit.
#[test]
fn homework_load_on_the_board_and_its_limit() {
    let (_tmp, site) = common::demo_site(40);
    let lessons = query(
        &site,
        "SELECT l.id FROM lessons l JOIN classes c ON c.id = l.class_id \
         WHERE c.name = '5А' AND l.date = '2026-11-23' AND l.cancelled = 0 \
           AND l.homework IS NOT NULL AND l.homework != '' ORDER BY l.number LIMIT 2",
    );
    assert_eq!(lessons.len(), 2, "the demo sets homework on Monday");
    common::sql(
        &site,
        &format!(
            "UPDATE lessons SET homework_minutes = NULL WHERE date = '2026-11-23' \
                 AND class_id = (SELECT id FROM classes WHERE name = '5А');
             UPDATE lessons SET homework_minutes = 70 WHERE id = {};
             UPDATE lessons SET homework_minutes = 60 WHERE id = {};",
            lessons[0][0], lessons[1][0]
        ),
    );
    let out = diary().arg("-C").arg(&site).arg("check").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "a warning, not an error: {said}");
    assert!(
        said.contains(
            "lessons class 5А, 2026-11-23, column homework_minutes: homework set that day takes \
             130 min, more than the 120 min a day of grade 5"
        ),
        "{said}"
    );
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let page = std::fs::read_to_string(site.join("public/classes/5a/homework/index.html")).unwrap();
    assert!(
        page.contains("(~70 мин)") && page.contains("(~60 мин)"),
        "each lesson's estimate"
    );
    assert!(
        page.contains("Домашнее задание на вечер: ~130 мин"),
        "the day's sum"
    );

    // A school with other limits sets them in site.toml.
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        format!("{toml}\n[homework]\ndaily_minutes = {{ \"5\" = 150 }}\n"),
    )
    .unwrap();
    let out = diary().arg("-C").arg(&site).arg("check").output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("homework set that day takes"));
}

/// `[grading] min_marks_by_hours`: a subject taught more lessons a week needs more marks,
/// in the diary's "not enough marks".
#[test]
fn more_lessons_a_week_need_more_marks() {
    let (_tmp, site) = common::demo_site(40);
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    let toml = toml.replacen(
        "[grading]",
        "[grading]\nmin_marks_by_hours = { \"1\" = 3, \"4\" = 6 }",
        1,
    );
    assert!(
        toml.contains("min_marks_by_hours"),
        "site.toml has a [grading] table"
    );
    std::fs::write(site.join("site.toml"), toml).unwrap();
    let hours = |subject: &str| -> i64 {
        query(
            &site,
            &format!(
                "SELECT count(DISTINCT t.weekday || '-' || t.number) FROM timetable t \
                 JOIN classes c ON c.id = t.class_id JOIN subjects s ON s.id = t.subject_id \
                 WHERE c.name = '5А' AND s.name = '{subject}'"
            ),
        )[0][0]
            .parse()
            .unwrap()
    };
    assert!(
        hours("Математика") >= 4 && hours("Музыка") < 4,
        "the demo's weekly plan"
    );
    let id = &query(
        &site,
        "SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id \
         WHERE c.name = '5А' ORDER BY s.id LIMIT 1",
    )[0][0];
    diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "diaries", "--class", "5А"])
        .assert()
        .success();
    let html = std::fs::read_to_string(site.join(format!("print/diaries-5a/{id}.html"))).unwrap();
    // The third quarter has no marks yet: each subject shows what it needs.
    let third = html.split("3 четверть").nth(1).unwrap();
    let row = |subject: &str| -> &str {
        third
            .split(&format!("<th scope=row>{subject}</th>"))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_else(|| panic!("{subject} in the third quarter"))
    };
    assert!(row("Математика").contains("(0/6)"), "{}", row("Математика"));
    assert!(row("Музыка").contains("(0/3)"), "{}", row("Музыка"));
}

/// The family sheets carry the teachers' remarks of their span and the period marks that
/// became final in it with their comments; the report card shows a final mark's comment;
/// the year's report card and the summary sheet carry the exam and final marks once set.
#[test]
fn remarks_comments_and_exams_on_the_printouts() {
    let (_tmp, site) = common::demo_site(40);
    let pupil = query(
        &site,
        "SELECT s.id, c.year_id, s.last_name FROM students s JOIN classes c ON c.id = s.class_id \
         WHERE c.name = '5А' ORDER BY s.last_name, s.first_name, s.id LIMIT 1",
    )
    .remove(0);
    let (id, year) = (&pupil[0], &pupil[1]);
    let subject = &query(
        &site,
        &format!(
            "SELECT min(pm.subject_id) FROM period_marks pm JOIN periods p ON p.id = pm.period_id \
             WHERE pm.student_id = {id} AND p.kind = 'quarter' AND p.number = 1"
        ),
    )[0][0];
    let teacher = &query(&site, "SELECT min(id) FROM teachers")[0][0];
    common::sql(
        &site,
        &format!(
            "INSERT INTO remarks (student_id, date, teacher_id, subject_id, kind, text) VALUES
                 ({id}, '2026-11-18', {teacher}, {subject}, 'achievement', 'Лучший доклад в классе'),
                 ({id}, '2026-11-10', NULL, NULL, 'behaviour', 'Запись другой недели');
             DELETE FROM period_marks WHERE period_id IN
                 (SELECT id FROM periods WHERE kind IN ('exam', 'final'));
             DELETE FROM periods WHERE kind IN ('exam', 'final');
             UPDATE period_marks SET comment = 'Заметный рост к концу четверти', set_on = '2026-11-17'
                 WHERE student_id = {id} AND subject_id = {subject} AND period_id =
                     (SELECT id FROM periods WHERE year_id = {year} AND kind = 'quarter' AND number = 1);
             INSERT INTO periods (id, year_id, kind, number, name, starts_on, ends_on) VALUES
                 (901, {year}, 'exam', 1, 'Экзамен', '2026-11-20', '2026-11-20'),
                 (902, {year}, 'final', 1, 'Итоговая', '2026-11-20', '2026-11-20');
             INSERT INTO period_marks (student_id, subject_id, period_id, value, set_on) VALUES
                 ({id}, {subject}, 901, '5', '2026-11-20'),
                 ({id}, {subject}, 902, '4', '2026-12-20');"
        ),
    );
    // Prints into an empty folder and reads the one file printed.
    let print = |args: &[&str]| -> String {
        let _ = std::fs::remove_dir_all(site.join("print"));
        let out = diary()
            .arg("-C")
            .arg(&site)
            .arg("print")
            .args(args)
            .args(["--class", "5А", "--student", id])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {said}");
        let files: Vec<_> = std::fs::read_dir(site.join("print"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        std::fs::read_to_string(&files[0]).unwrap()
    };

    let weekly = print(&["weekly", "--week", "2026-W47"]);
    assert!(
        weekly.contains("Лучший доклад в классе"),
        "the week's remark"
    );
    assert!(
        weekly.contains("<i>достижение</i>"),
        "with what it is about"
    );
    assert!(
        !weekly.contains("Запись другой недели"),
        "only the week's remarks"
    );
    let finals = weekly
        .split("Отметки за период, выставленные учителем")
        .nth(1)
        .expect("the period marks set this week");
    assert!(
        finals.contains("«Заметный рост к концу четверти»"),
        "{finals}"
    );
    assert!(finals.contains("1 четверть"), "{finals}");
    assert!(finals.contains("Экзамен: <b>5</b>"), "{finals}");
    assert!(!finals.contains("Итоговая"), "set for a later day");

    let monthly = print(&["monthly", "--month", "2026-11"]);
    assert!(monthly.contains("Лучший доклад в классе"));
    assert!(monthly.contains("Запись другой недели"));

    let card = print(&["report", "--period", "1"]);
    assert!(
        card.contains("«Заметный рост к концу четверти»"),
        "the final mark's comment on the report card"
    );
    let year_card = print(&["report", "--period", "year"]);
    assert!(year_card.contains(">Экзамен</th>"), "an exam column");
    assert!(year_card.contains(">Итоговая</th>"), "a final-mark column");
    assert!(
        year_card.contains(r#"<td class="n"><span class="mark">5</span></td>"#),
        "the exam mark"
    );
    assert!(
        !year_card.contains(r#"<td class="n"><span class="mark">4</span></td>"#),
        "the final mark is not set until its day"
    );

    // The pupil's own diary, printed alone: the exam's mark once set, the final not yet.
    let _ = std::fs::remove_dir_all(site.join("print"));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "diaries", "--class", "5А", "--student", id])
        .assert()
        .success();
    let folder = std::fs::read_dir(site.join("print"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, [format!("{id}.html"), "index.html".to_string()]);
    let own = std::fs::read_to_string(folder.join(format!("{id}.html"))).unwrap();
    let exam = own
        .split("<summary>Экзамен <span class=muted>20 ноября 2026</span></summary>")
        .nth(1)
        .expect("the exam in the diary")
        .split("</details>")
        .next()
        .unwrap();
    assert!(exam.contains("<td><strong>5</strong></td>"), "{exam}");
    assert!(
        !exam.contains("Пропуски"),
        "no attendance for an exam: {exam}"
    );
    assert!(!own.contains("<summary>Итоговая"), "no final marks yet");

    // The summary sheet: an exam and a final-mark column under each subject.
    let _ = std::fs::remove_dir_all(site.join("print"));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "summary", "--class", "5А"])
        .assert()
        .success();
    let summary = std::fs::read_dir(site.join("print"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .next()
        .unwrap();
    assert!(summary.contains("Э — Экзамен"), "the legend names the exam");
    assert!(summary.contains("И — Итоговая"), "and the final mark");
    let name = &query(
        &site,
        &format!("SELECT name FROM subjects WHERE id = {subject}"),
    )[0][0];
    // The marks table (the second page is attendance).
    let marks = summary.split("</table>").next().unwrap();
    let heads: Vec<&str> = marks
        .split("title=\"")
        .skip(1)
        .map(|t| t.split('"').next().unwrap())
        .collect();
    let k = heads
        .iter()
        .position(|h| h == name)
        .expect("the subject's column");
    let per_subject = marks
        .split("<th scope=\"col\"")
        .filter(|t| !t.contains("rowspan"))
        .count()
        / heads.len();
    let row = marks
        .split("<tr><td>")
        .find(|r| r.contains(pupil[2].as_str()))
        .expect("the pupil's row");
    let cells: Vec<&str> = row
        .split("<td")
        .skip(2)
        .map(|c| c.split('>').nth(1).unwrap().trim_end_matches("</td"))
        .collect();
    assert_eq!(
        per_subject, 7,
        "4 quarters, the year, the exam, the final mark"
    );
    assert_eq!(cells[k * per_subject + 5], "5", "the exam mark: {row}");
    assert_eq!(
        cells[k * per_subject + 6],
        "",
        "the final mark, not yet set: {row}"
    );
}

/// The demo's exam session and final marks: in the diary of a pupil of grade 9 once the
/// session is over (the results have no set date), never before it, never in grade 5.
#[test]
fn exam_and_final_marks_in_the_leavers_diaries_only() {
    let (_tmp, site) = common::demo_site(40);
    let diary_of = |class: &str, today: &str| -> String {
        let id = &query(
            &site,
            &format!(
                "SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id \
                 WHERE c.name = '{class}' ORDER BY s.id LIMIT 1"
            ),
        )[0][0];
        let _ = std::fs::remove_dir_all(site.join("print"));
        diary()
            .env("DIARY_TODAY", today)
            .arg("-C")
            .arg(&site)
            .args(["print", "diaries", "--class", class])
            .assert()
            .success();
        let folder = std::fs::read_dir(site.join("print"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .unwrap();
        std::fs::read_to_string(folder.join(format!("{id}.html"))).unwrap()
    };
    let after = diary_of("9А", "2027-05-28");
    for needle in [
        "ГИА (ОГЭ, ЕГЭ)",
        "ОГЭ по русскому языку",
        "ОГЭ по математике",
        "Итоговая отметка",
    ] {
        assert!(after.contains(needle), "{needle}");
    }
    let before = diary_of("9А", "2026-11-23");
    assert!(!before.contains("ГИА") && !before.contains("Итоговая отметка"));
    let fifth = diary_of("5А", "2027-05-28");
    assert!(fifth.contains("Год"), "the year is there");
    assert!(!fifth.contains("ГИА") && !fifth.contains("Итоговая отметка"));
}

/// `check` warns, by class and subject, about marks entered after they were due (the
/// lesson's day by the shift's hour, written works within a week, as `[entry]` says),
/// about period marks set before their period's last week, and about pupils short of
/// marks in a term that is over.
#[test]
fn late_marks_early_period_marks_and_too_few_marks_are_warnings() {
    let (_tmp, site) = common::demo_site(40);
    let class = &query(&site, "SELECT id FROM classes WHERE name = '5А'")[0][0];
    let pupil = &query(
        &site,
        &format!("SELECT min(id) FROM students WHERE class_id = {class}"),
    )[0][0];
    let subject = &query(&site, "SELECT id FROM subjects WHERE name = 'Математика'")[0][0];
    // A mark of an oral answer and one of a test in mathematics, both at lessons that end
    // before 15:00, of another pupil than the one whose marks are taken away below.
    let mark_of = |work_type: &str| -> (String, String) {
        let row = query(
            &site,
            &format!(
                "SELECT m.id, l.date FROM marks m JOIN lessons l ON l.id = m.lesson_id \
                 JOIN work_types w ON w.id = m.work_type_id \
                 WHERE l.class_id = {class} AND l.subject_id = {subject} \
                   AND w.name = '{work_type}' AND l.number <= 5 \
                   AND l.date < '2026-11-01' AND m.value IS NOT NULL AND m.student_id != {pupil} \
                 ORDER BY m.id LIMIT 1"
            ),
        )
        .remove(0);
        (row[0].clone(), row[1].clone())
    };
    let (oral, oral_day) = mark_of("Устный ответ");
    let (test, test_day) = mark_of("Контрольная работа");
    common::sql(
        &site,
        &format!(
            "UPDATE marks SET entered_at = NULL;
             UPDATE period_marks SET set_on = NULL;
             UPDATE marks SET entered_at = '{oral_day} 16:30' WHERE id = {oral};
             UPDATE marks SET entered_at = date('{test_day}', '+6 days') || ' 21:00' WHERE id = {test};
             UPDATE period_marks SET set_on = '2026-10-05' WHERE student_id = {pupil}
                 AND subject_id = {subject} AND period_id = (SELECT id FROM periods
                     WHERE kind = 'quarter' AND number = 1);
             DELETE FROM marks WHERE student_id = {pupil} AND lesson_id IN (SELECT id FROM lessons
                 WHERE subject_id = {subject} AND date BETWEEN '2026-09-01' AND '2026-10-25');"
        ),
    );
    let check = |site: &Path| -> String {
        let out = diary()
            .arg("-C")
            .arg(site)
            .args(["check", "--all"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "warnings, not errors: {said}");
        said
    };
    let said = check(&site);
    let late: Vec<&str> = said.lines().filter(|l| l.contains("entered_at")).collect();
    assert_eq!(late.len(), 1, "one late mark, the oral answer: {late:?}");
    assert!(
        late[0].contains(&format!(
            "warning: marks class 5А, Математика, column entered_at: 1 mark(s) entered after \
             they were due; the latest, mark id {oral} for the lesson of {oral_day}, was due by \
             {oral_day} 15:00 and entered {oral_day} 16:30 ([entry] in site.toml)"
        )),
        "{late:?}"
    );
    assert!(
        said.contains(
            "warning: period_marks class 5А, Математика, column set_on: 1 mark(s) for 1 четверть \
             set before the period's last week (the first on 2026-10-05)"
        ),
        "{said}"
    );
    let short = said
        .lines()
        .find(|l| l.starts_with("warning: marks class 5А, Математика:") && l.contains("1 четверть"))
        .unwrap_or_else(|| panic!("a pupil short of marks:\n{said}"));
    assert!(
        short.contains(&format!("id {pupil} (0)")),
        "the pupil with no marks, and how many they have: {short}"
    );
    assert!(
        !said
            .lines()
            .any(|l| l.starts_with("warning: marks class 5А, Математика:")
                && l.contains("3 четверть")),
        "a term not over yet is not judged: {said}"
    );

    // A school that gives its teachers until 17:00, and three days for tests, says so.
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        format!(
            "{toml}\n[entry]\nuntil_by_shift = {{ \"1\" = \"17:00\" }}\n\
             days_by_work_type = {{ \"контрольная работа\" = 3 }}\n"
        ),
    )
    .unwrap();
    let said = check(&site);
    let late: Vec<&str> = said.lines().filter(|l| l.contains("entered_at")).collect();
    assert_eq!(late.len(), 1, "now the test is late instead: {late:?}");
    assert!(late[0].contains(&format!("mark id {test} ")), "{late:?}");
    assert!(late[0].contains(" 17:00 and entered "), "{late:?}");

    std::fs::write(
        site.join("site.toml"),
        format!("{toml}\n[entry]\nuntil_by_shift = {{ \"3\" = \"17:00\" }}\n"),
    )
    .unwrap();
    refused(
        &site,
        &["check"],
        &["[entry] until_by_shift key \"3\" is not a shift"],
    );
}
