//! `diary print class-report` on a class whose marks and absences are known: успеваемость,
//! качество, the average mark, pupils with no or one mark, lessons and days missed by
//! reason, in HTML and CSV; the school page's totals; refusals; and the summary sheet's
//! attendance by period and signature lines.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn print(site: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    diary().arg("-C").arg(site).arg("print").args(args).assert()
}

/// The text of an HTML page: tags dropped, whitespace squeezed.
fn text_of(path: PathBuf) -> String {
    let html = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no {}", path.display()));
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "Фамилия Имя" of class 5А's three pupils, in the sheets' order, and their full names.
struct Pupils {
    b: String,
    c: String,
    full: [String; 3],
}

/// A demo school of 33 pupils, whose class 5А (three pupils: A, B, C by surname) has in
/// the first term only these lessons, marks and absences:
///
/// | day        | 1st lesson (Математика) | 2nd lesson (Русский язык) |
/// | 2026-09-07 | L1: A 5, B 3; C unexcused | L2: A 4, B 5; C unexcused |
/// | 2026-09-08 | L3: A 4; C absent (no reason yet) | L4: A 4, B 5, C 4 |
/// | 2026-09-09 | L5: A 5; B unexcused | L6: A 4, C 5; B excused |
/// | 2026-09-10 | L7: A ill; B late | L8: C 4; A ill |
///
/// and the teachers' term marks: Математика B 3, C 2; Русский язык B 5, C 4 (A's are
/// forecasts). No other marks, absences or term marks for the class all year.
fn fixture() -> (tempfile::TempDir, PathBuf, Pupils) {
    let (tmp, site) = demo_site(33);
    let pupils = query(
        &site,
        "SELECT s.id, s.last_name || ' ' || s.first_name, \
         s.last_name || ' ' || s.first_name || coalesce(' ' || s.middle_name, '') FROM students s JOIN classes c \
         ON c.id = s.class_id WHERE c.name = '5А' \
         ORDER BY s.last_name, s.first_name, s.middle_name, s.id",
    );
    assert_eq!(pupils.len(), 3, "the demo's 5А should have three pupils");
    let (a, b, c) = (&pupils[0][0], &pupils[1][0], &pupils[2][0]);
    let class = &query(&site, "SELECT id FROM classes WHERE name = '5А'")[0][0];
    let math = &query(&site, "SELECT id FROM subjects WHERE name = 'Математика'")[0][0];
    let russian = &query(&site, "SELECT id FROM subjects WHERE name = 'Русский язык'")[0][0];
    let term = &query(&site, "SELECT id FROM periods WHERE name = '1 четверть'")[0][0];
    let of_class = format!("(SELECT id FROM students WHERE class_id = {class})");
    let term_lessons = format!(
        "(SELECT id FROM lessons WHERE class_id = {class} AND date BETWEEN '2026-09-01' AND '2026-10-25')"
    );
    sql(
        &site,
        &format!(
            "DELETE FROM marks WHERE student_id IN {of_class};
             DELETE FROM attendance WHERE student_id IN {of_class};
             DELETE FROM period_marks WHERE student_id IN {of_class};
             DELETE FROM marks WHERE lesson_id IN {term_lessons};
             DELETE FROM attendance WHERE lesson_id IN {term_lessons};
             DELETE FROM homework_links WHERE lesson_id IN {term_lessons};
             DELETE FROM lessons WHERE id IN {term_lessons};
             INSERT INTO lessons (id, class_id, subject_id, date, number) VALUES
               (900001, {class}, {math}, '2026-09-07', 1), (900002, {class}, {russian}, '2026-09-07', 2),
               (900003, {class}, {math}, '2026-09-08', 1), (900004, {class}, {russian}, '2026-09-08', 2),
               (900005, {class}, {math}, '2026-09-09', 1), (900006, {class}, {russian}, '2026-09-09', 2),
               (900007, {class}, {math}, '2026-09-10', 1), (900008, {class}, {russian}, '2026-09-10', 2);
             INSERT INTO marks (id, student_id, lesson_id, value) VALUES
               (900101, {a}, 900001, '5'), (900102, {a}, 900003, '4'), (900103, {a}, 900005, '5'),
               (900104, {a}, 900002, '4'), (900105, {a}, 900004, '4'), (900106, {a}, 900006, '4'),
               (900107, {b}, 900001, '3'), (900108, {b}, 900002, '5'), (900109, {b}, 900004, '5'),
               (900110, {c}, 900004, '4'), (900111, {c}, 900006, '5'), (900112, {c}, 900008, '4');
             INSERT INTO attendance (student_id, lesson_id, status) VALUES
               ({a}, 900007, 'ill'), ({a}, 900008, 'ill'),
               ({b}, 900005, 'unexcused'), ({b}, 900006, 'excused'), ({b}, 900007, 'late'),
               ({c}, 900001, 'unexcused'), ({c}, 900002, 'unexcused'), ({c}, 900003, 'absent');
             INSERT INTO period_marks (student_id, subject_id, period_id, value) VALUES
               ({b}, {math}, {term}, '3'), ({c}, {math}, {term}, '2'),
               ({b}, {russian}, {term}, '5'), ({c}, {russian}, {term}, '4');"
        ),
    );
    (
        tmp,
        site,
        Pupils {
            b: pupils[1][1].clone(),
            c: pupils[2][1].clone(),
            full: [0, 1, 2].map(|i| pupils[i][2].clone()),
        },
    )
}

#[test]
fn class_report_figures_in_html_and_csv() {
    let (_tmp, site, p) = fixture();
    print(&site, &["class-report", "--class", "5a", "--period", "1"]).success();
    let page = text_of(site.join("print/class-report-5a-2026-2027-1-chetvert.html"));
    // Математика: A 5 (forecast: 5, 4, 5 average 4,67), B 3, C 2 → 2 of 3 pass (66,7 %),
    // 1 of 3 has a 4 or 5 (33,3 %), average (5 + 3 + 2) / 3 = 3,33; C has no marks, B one.
    // Missed: L7 A ill, L5 B unexcused, L1 C unexcused, L3 C absent = 4; B late once.
    let math = format!(
        "Математика 3 66,7 33,3 3,33 1: {} 1: {} 4 1 0 2 1 1",
        p.c, p.b
    );
    assert!(page.contains(&math), "no «{math}» in {page}");
    // Русский язык: A 4 (4, 4, 4), B 5, C 4 → all pass and all 4s and 5s, average
    // 13 / 3 = 4,33. Missed: L8 A ill, L6 B excused, L2 C unexcused.
    assert!(page.contains("Русский язык 3 100,0 100,0 4,33 — — 3 1 1 1 0 0"));
    // The class: A (5, 4) and B (3, 5) pass, C (2) does not → 66,7 %; only A has 4s and
    // 5s only → 33,3 %; average of the six marks 23 / 6 = 3,83. 7 lessons missed: 2 ill,
    // 1 excused, 3 unexcused, 1 without a reason yet; 1 late.
    let total = format!(
        "Итого по классу 3 66,7 33,3 3,83 1: {} 1: {} 7 2 1 3 1 1",
        p.c, p.b
    );
    assert!(page.contains(&total), "no «{total}» in {page}");
    // By pupil (lessons: all, ill, excused, unexcused, no reason, late; days: all, ill,
    // excused, unexcused, no reason): A missed all of 09-10, for illness; B all of 09-09,
    // one lesson excused and one not (a tie goes to the excused); C all of 09-07, unexcused,
    // and one lesson of 09-08, which is not a whole day.
    for row in [
        format!("1 {} 2 2 0 0 0 0 1 1 0 0 0", p.full[0]),
        format!("2 {} 2 0 1 1 0 1 1 0 1 0 0", p.full[1]),
        format!("3 {} 3 0 0 2 1 0 1 0 0 1 0", p.full[2]),
        "Итого по классу 7 2 1 3 1 1 3 1 1 1 0".to_string(),
    ] {
        assert!(page.contains(&row), "no «{row}» in {page}");
    }

    print(
        &site,
        &[
            "class-report",
            "--class",
            "5А",
            "--period",
            "1 четверть",
            "--format",
            "csv",
        ],
    )
    .success();
    let bytes = std::fs::read(site.join("print/class-report-5a-2026-2027-1-chetvert.csv")).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "the CSV starts with a BOM"
    );
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let head = reader.headers().unwrap().clone();
    assert_eq!(&head[0], "Класс");
    assert_eq!(&head[4], "Успеваемость, %");
    assert_eq!(&head[6], "Качество, %");
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let expected: Vec<Vec<String>> = [
        vec![
            "5А",
            "Математика",
            "3",
            "2",
            "66,7",
            "1",
            "33,3",
            "3,33",
            "1",
            &p.c,
            "1",
            &p.b,
            "4",
            "1",
            "0",
            "2",
            "1",
            "1",
            "",
            "",
            "",
            "",
            "",
        ],
        vec![
            "5А",
            "Русский язык",
            "3",
            "3",
            "100,0",
            "3",
            "100,0",
            "4,33",
            "0",
            "",
            "0",
            "",
            "3",
            "1",
            "1",
            "1",
            "0",
            "0",
            "",
            "",
            "",
            "",
            "",
        ],
        vec![
            "5А",
            "Итого по классу",
            "3",
            "2",
            "66,7",
            "1",
            "33,3",
            "3,83",
            "1",
            &p.c,
            "1",
            &p.b,
            "7",
            "2",
            "1",
            "3",
            "1",
            "1",
            "3",
            "1",
            "1",
            "1",
            "0",
        ],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(rows, expected);
}

#[test]
fn school_page_totals_count_pupils_not_classes() {
    let (_tmp, site, _p) = fixture();
    let out = diary()
        .arg("-C")
        .arg(&site)
        .args([
            "print",
            "class-report",
            "--class",
            "all",
            "--period",
            "1",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    // The first grade has no marks: it is left out, and said so.
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped 1А"));
    let bytes =
        std::fs::read(site.join("print/class-report-all-2026-2027-1-chetvert.csv")).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let classes: Vec<&Vec<String>> = rows.iter().filter(|r| r[1] == "Итого по классу").collect();
    assert_eq!(classes.len(), 10, "2А…11А");
    assert!(
        classes
            .iter()
            .any(|r| r[0] == "5А" && r[2..8] == ["3", "2", "66,7", "1", "33,3", "3,83"])
    );
    let school = rows.last().unwrap();
    assert_eq!(school[0], "Итого по школе");
    let sum = |i: usize| -> usize { classes.iter().map(|r| r[i].parse::<usize>().unwrap()).sum() };
    let pupils = sum(2);
    let passing = sum(3);
    let quality = sum(5);
    assert_eq!(school[2], pupils.to_string());
    assert_eq!(school[3], passing.to_string());
    assert_eq!(school[5], quality.to_string());
    // The school's share is of all its pupils (not the average of the classes' shares).
    let tenths = |part: usize| (part * 2000 / pupils).div_ceil(2);
    let pct = |t: usize| format!("{},{}", t / 10, t % 10);
    assert_eq!(school[4], pct(tenths(passing)));
    assert_eq!(school[6], pct(tenths(quality)));
    for i in [8, 10, 12, 13, 14, 15, 16, 17, 18] {
        assert_eq!(school[i], sum(i).to_string(), "column {i}");
    }
    // The school page does not name pupils.
    assert_eq!(school[9], "");
    assert_eq!(school[11], "");

    print(&site, &["class-report", "--class", "all", "--period", "1"]).success();
    let page = text_of(site.join("print/school-report-2026-2027-1-chetvert.html"));
    let line = format!(
        "Итого по школе {pupils} {} {}",
        pct(tenths(passing)),
        pct(tenths(quality))
    );
    assert!(page.contains(&line), "no «{line}» in {page}");
    assert!(page.contains("5А 3 66,7 33,3 3,83 1 1 7 2 1 3 1 1 3"));
    assert!(page.contains("Директор") && page.contains("М.П."));
    assert!(
        site.join("print/class-report-5a-2026-2027-1-chetvert.html")
            .exists()
    );
    assert!(
        !site
            .join("print/class-report-1a-2026-2027-1-chetvert.html")
            .exists()
    );
}

#[test]
fn class_report_refusals_write_nothing() {
    let (_tmp, site, _p) = fixture();
    // The fixture leaves 5А without a mark in the second term.
    refused(
        &site,
        &["print", "class-report", "--class", "5a", "--period", "2"],
        &["class 5А has no marks in 2 четверть"],
    );
    refused(
        &site,
        &["print", "class-report", "--class", "1a", "--period", "1"],
        &["class 1А has no marks in 1 четверть"],
    );
    refused(
        &site,
        &["print", "class-report", "--class", "5a", "--period", "9"],
        &["no period \"9\" for class 5А; its periods are: 1 четверть, 2 четверть"],
    );
    refused(
        &site,
        &["print", "class-report", "--class", "12Я", "--period", "1"],
        &["no class named \"12Я\"; the journal has: 10А"],
    );
    refused(
        &site,
        &[
            "print",
            "class-report",
            "--class",
            "5a",
            "--period",
            "1",
            "--format",
            "csv",
            "--pdf",
        ],
        &["--pdf"],
    );
    assert!(!site.join("print").exists(), "a refused report wrote files");
}

#[test]
fn summary_sheet_shows_attendance_by_period_and_signature_lines() {
    let (_tmp, site, p) = fixture();
    let teacher = query(
        &site,
        "SELECT t.last_name || ' ' || t.first_name || coalesce(' ' || t.middle_name, '') \
         FROM classes c JOIN teachers t ON t.id = c.class_teacher_id WHERE c.name = '5А'",
    );
    print(&site, &["summary", "--class", "5a"]).success();
    let page = text_of(site.join("print/summary-5a-2026-2027.html"));
    let at = page
        .find("Пропущено уроков по периодам")
        .expect("the attendance table");
    let attendance = &page[at..];
    // Periods 1–4 and the year; in each: all lessons missed, for illness, excused, unexcused
    // (lateness is not a lesson missed). Only the first term has absences.
    for row in [
        format!("1 {} 2 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 2 0 0", p.full[0]),
        format!("2 {} 2 0 1 1 0 0 0 0 0 0 0 0 0 0 0 0 2 0 1 1", p.full[1]),
        format!("3 {} 3 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0 3 0 0 2", p.full[2]),
    ] {
        let name = row.split(' ').nth(1).unwrap();
        assert!(
            attendance.contains(&row),
            "no «{row}» in {}",
            &attendance[attendance.find(name).unwrap_or(0)..]
        );
    }
    assert!(attendance.contains("Директор /"));
    let signs = format!("Классный руководитель / {}", teacher[0][0]);
    assert!(attendance.contains(&signs), "no «{signs}» in {attendance}");
    assert!(attendance.contains("М.П."));
}
