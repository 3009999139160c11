//! The attention list end to end: `diary print attention` on a demo school whose journal
//! is set so that one pupil is failing, misses lessons without a valid reason, has an
//! absence still without a reason and owes a test; another pupil has nothing to flag. The
//! same warnings open that pupil's own diary, which names no other child.

mod common;

use std::path::Path;

use common::*;

const TODAY: &str = "2026-12-20";

/// A page's text: tags dropped, entities undone, spaces squeezed.
fn text(path: &Path) -> String {
    let html = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The id and full name of the pupils of class 5А, by id.
fn class_5a(site: &Path) -> Vec<(String, String)> {
    query(
        site,
        "SELECT s.id, s.last_name || ' ' || s.first_name || coalesce(' ' || s.middle_name, '')
         FROM students s JOIN classes c ON c.id = s.class_id WHERE c.name = '5А' ORDER BY s.id",
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

/// Sets the journal: pupil `a` gets the figures the tests assert, pupil `b` nothing to flag.
fn set_journal(site: &Path, a: &str, b: &str) {
    let class = "(SELECT id FROM classes WHERE name = '5А')";
    let term = "l.date BETWEEN '2026-11-05' AND '2026-12-27'";
    let maths = "(SELECT id FROM subjects WHERE name = 'Математика')";
    sql(
        site,
        &format!(
            "
        -- Pupil a, mathematics in the 2nd quarter: marks 2, 3, 2, 3, 2 (weight 1), average
        -- 12 / 5 = 2.4, forecast 2 (under 2.5): failing.
        DELETE FROM marks WHERE student_id = {a} AND lesson_id IN (SELECT l.id FROM lessons l
            WHERE l.subject_id = {maths} AND {term});
        DELETE FROM period_marks WHERE student_id = {a};
        DELETE FROM marks WHERE student_id = {a} AND is_debt = 1;
        CREATE TEMP TABLE picked AS SELECT l.id, row_number() OVER (ORDER BY l.date, l.number) AS n
            FROM lessons l WHERE l.class_id = {class} AND l.subject_id = {maths}
            AND l.cancelled = 0 AND l.date BETWEEN '2026-11-16' AND '{TODAY}' LIMIT 5;
        INSERT INTO marks (student_id, lesson_id, value)
            SELECT {a}, id, CASE n % 2 WHEN 1 THEN '2' ELSE '3' END FROM picked;
        -- A debt: the test of 12 November, no mark yet.
        INSERT INTO marks (student_id, lesson_id, work_type_id, is_debt)
            SELECT {a}, l.id, (SELECT id FROM work_types WHERE name = 'Контрольная работа'), 1
            FROM lessons l WHERE l.class_id = {class} AND l.subject_id = {maths}
            AND l.date = '2026-11-12' LIMIT 1;
        -- Six unexcused absences in the week of 23 November (over the 3 allowed), an absence
        -- without a reason on 10 December (10 days ago) and one on 18 December (2 days ago,
        -- still within the 3 days).
        DELETE FROM attendance WHERE student_id = {a};
        INSERT INTO attendance (student_id, lesson_id, status)
            SELECT {a}, l.id, 'unexcused' FROM lessons l WHERE l.class_id = {class}
            AND l.group_id IS NULL AND l.cancelled = 0
            AND l.date BETWEEN '2026-11-23' AND '2026-11-27' ORDER BY l.date, l.number LIMIT 6;
        INSERT INTO attendance (student_id, lesson_id, status)
            SELECT {a}, l.id, 'absent' FROM lessons l WHERE l.class_id = {class}
            AND l.group_id IS NULL AND l.cancelled = 0 AND l.date = '2026-12-10' LIMIT 1;
        INSERT INTO attendance (student_id, lesson_id, status)
            SELECT {a}, l.id, 'absent' FROM lessons l WHERE l.class_id = {class}
            AND l.group_id IS NULL AND l.cancelled = 0 AND l.date = '2026-12-18' LIMIT 1;
        UPDATE guardians SET contact = '+7 900 123-45-67' WHERE id =
            (SELECT min(guardian_id) FROM student_guardians WHERE student_id = {a});

        -- Pupil b: a 5 on every lesson of the quarter so far, no absences, no debts.
        DELETE FROM attendance WHERE student_id = {b};
        DELETE FROM period_marks WHERE student_id = {b};
        DELETE FROM marks WHERE student_id = {b} AND (is_debt = 1 OR lesson_id IN
            (SELECT l.id FROM lessons l WHERE {term}));
        INSERT INTO marks (student_id, lesson_id, value)
            SELECT {b}, l.id, '5' FROM lessons l WHERE l.class_id = {class} AND l.cancelled = 0
            AND {term} AND l.date <= '{TODAY}' AND (l.group_id IS NULL OR l.group_id IN
            (SELECT group_id FROM group_students WHERE student_id = {b}));
        "
        ),
    );
}

#[test]
fn attention_list_and_the_diary_warnings() {
    let (_tmp, site) = demo_site(40);
    let pupils = class_5a(&site);
    let (a, a_name) = pupils[0].clone();
    let (b, b_name) = pupils[1].clone();
    set_journal(&site, &a, &b);

    diary()
        .env("DIARY_TODAY", TODAY)
        .arg("-C")
        .arg(&site)
        .args(["print", "attention", "--class", "5А"])
        .assert()
        .success();
    let list = text(&site.join("print/attention-5a-2026-12-20.html"));
    let row = list
        .split(&a_name)
        .nth(1)
        .unwrap_or_else(|| panic!("{a_name} is not on the list: {list}"));
    for line in [
        "Математика: прогноз 2 — 5 отметок, средний балл 2,4",
        "6 пропусков без уважительной причины за 2 четверть",
        "Не указана причина пропуска: 10 декабря",
        "Математика: долг — контрольная работа от 12 ноября",
        "+7 900 123-45-67",
    ] {
        assert!(row.contains(line), "{line:?} missing for {a_name}: {row}");
    }
    // The pupil's warnings come before the guardians' contacts.
    let warnings = row.split("+7 900 123-45-67").next().unwrap();
    assert!(
        !warnings.contains("18 декабря"),
        "an absence of 2 days ago is still within the days for a reason: {warnings}"
    );
    assert!(
        !list.contains(&b_name),
        "{b_name} has nothing to flag: {list}"
    );

    // The same warnings open the pupil's own diary, which names no other child.
    diary()
        .env("DIARY_TODAY", TODAY)
        .arg("-C")
        .arg(&site)
        .args(["print", "diaries", "--class", "5А", "--student", &a])
        .assert()
        .success();
    let page = text(&site.join(format!("print/diaries-5a/{a}.html")));
    let top = page
        .split("Обратите внимание")
        .nth(1)
        .expect("the diary shows the warnings");
    let top = top.split("Неделя").next().unwrap();
    for line in [
        "Математика: прогноз 2 — 5 отметок, средний балл 2,4",
        "6 пропусков без уважительной причины за 2 четверть",
        "Не указана причина пропуска: 10 декабря",
        "Математика: долг — контрольная работа от 12 ноября",
    ] {
        assert!(
            top.contains(line),
            "{line:?} missing at the diary's top: {top}"
        );
    }
    assert!(!page.contains("+7 900 123-45-67"));
    for (_, other) in &pupils[1..] {
        assert!(
            !page.contains(other.as_str()),
            "{other} named in {a_name}'s diary"
        );
    }
    // Pupil b's diary has no warnings.
    diary()
        .env("DIARY_TODAY", TODAY)
        .arg("-C")
        .arg(&site)
        .args(["print", "diaries", "--class", "5А", "--student", &b])
        .assert()
        .success();
    assert!(!text(&site.join(format!("print/diaries-5a/{b}.html"))).contains("Обратите внимание"));

    // Three weeks before the quarter's end the marks are not judged yet; absences and
    // debts are.
    diary()
        .env("DIARY_TODAY", "2026-12-06")
        .arg("-C")
        .arg(&site)
        .args(["print", "attention", "--class", "5А"])
        .assert()
        .success();
    let early = text(&site.join("print/attention-5a-2026-12-06.html"));
    assert!(!early.contains("прогноз 2 — 5 отметок"), "{early}");
    assert!(!early.contains("не хватает отметок"), "{early}");
    assert!(early.contains("6 пропусков без уважительной причины за 2 четверть"));
    assert!(early.contains("Математика: долг — контрольная работа от 12 ноября"));
}

#[test]
fn every_class_and_bad_input() {
    let (_tmp, site) = demo_site(40);
    // An unknown class: the classes listed, nothing written.
    refused(
        &site,
        &["print", "attention", "--class", "5Я", "--today", TODAY],
        &["5Я", "5А", "11А"],
    );
    assert!(!site.join("print").exists());
    // A bad setting: its name and what is allowed.
    let toml = site.join("site.toml");
    let before = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{before}\n[attention]\nlast_weeks = 0\n")).unwrap();
    refused(
        &site,
        &["print", "attention", "--class", "5А", "--today", TODAY],
        &["last_weeks = 0", "1 to 8"],
    );
    assert!(!site.join("print").exists());
    std::fs::write(&toml, &before).unwrap();

    diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "attention", "--class", "all", "--today", TODAY])
        .assert()
        .success();
    let files: Vec<_> = std::fs::read_dir(site.join("print"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("attention-") && n.ends_with("-2026-12-20.html"))
        .collect();
    assert_eq!(files.len(), 11, "one file per class: {files:?}");
    // In this demo school nobody of 1А has anything to flag on that day: one line says so.
    let first = text(&site.join("print/attention-1a-2026-12-20.html"));
    assert!(
        first.contains("Обучающихся, требующих внимания, нет."),
        "{first}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(site.join("print/attention-1a-2026-12-20.html"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only");
    }
    assert!(
        !site.join("public").exists()
            || !tree(&site.join("public"))
                .keys()
                .any(|k| k.contains("attention"))
    );
}
