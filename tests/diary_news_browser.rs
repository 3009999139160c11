//! "What is new since the last visit" on the diary unlock page, in a real headless Chromium
//! at phone width, against a built demo site served on 127.0.0.1: families open their
//! children's diaries on remembered devices (a first visit lists nothing), the journal gets
//! new marks, an absence, remarks, homework, an announcement and a changed period mark, the
//! site is rebuilt, and the same devices open the diaries again: the new items are listed and
//! marked in the week, "mark all as seen" clears them, each of two children keeps its own
//! state, a grade 1 pupil (no marks in any period) gets the rest. Also: a device not
//! remembered keeps nothing, a state of another format is ignored and replaced, refused or
//! full storage leaves the diary working with a note. No console errors, no request leaving
//! the site, no axe-core violations. The browser side is tests/browser/news.mjs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

const DAY: &str = "2026-11-25";

/// Builds as of a moment (`--now`: publishes the diaries at once, whatever the batch).
fn build_at(site: &Path, moment: &str, now: bool) {
    let mut cmd = diary();
    cmd.env("DIARY_TODAY", moment)
        .arg("-C")
        .arg(site)
        .arg("build");
    if now {
        cmd.arg("--now");
    }
    cmd.assert().success();
}

fn grade_of(site: &Path, student: i64) -> i64 {
    query(
        site,
        &format!(
            "SELECT c.grade FROM students s JOIN classes c ON c.id = s.class_id WHERE s.id = {student}"
        ),
    )[0][0]
        .parse()
        .unwrap()
}

/// The build day's whole-class lessons of a pupil's class, in order: (id, subject).
fn lessons_of_day(site: &Path, student: i64) -> Vec<(String, String)> {
    query(
        site,
        &format!(
            "SELECT l.id, sub.name FROM lessons l JOIN subjects sub ON sub.id = l.subject_id \
             WHERE l.class_id = (SELECT class_id FROM students WHERE id = {student}) \
             AND l.date = '{DAY}' AND l.group_id IS NULL AND l.cancelled = 0 \
             ORDER BY l.number, l.id"
        ),
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect()
}

fn remark(site: &Path, student: i64, text: &str) {
    sql(
        site,
        &format!(
            "INSERT INTO remarks (student_id, date, teacher_id, subject_id, kind, text) \
             VALUES ({student}, '{DAY}', NULL, NULL, 'praise', '{text}');"
        ),
    );
}

#[test]
fn the_diary_lists_what_is_new_since_the_last_visit() {
    Tool::Chromium.require();
    Tool::BrowserPackages.require();

    let (tmp, site) = demo_site(60);
    cheap_codes(&site);
    issue_codes(&site, None);
    build_at(&site, &format!("{DAY} 21:00"), false);
    let rows = active_codes(&site);
    let mut by_code: BTreeMap<&str, Vec<&CodeRow>> = BTreeMap::new();
    for r in &rows {
        by_code.entry(&r.code).or_default().push(r);
    }
    let single = |r: &&CodeRow| by_code[r.code.as_str()].len() == 1;

    // A pupil of an upper grade with at least three lessons on the day and a period mark of
    // a closed term; a family of two children of grades 2 and up; a grade 1 pupil.
    let one = rows
        .iter()
        .rev()
        .filter(single)
        .find(|r| {
            grade_of(&site, r.student_id) >= 5 && lessons_of_day(&site, r.student_id).len() >= 3
        })
        .expect("an upper-grade pupil with a code of their own and lessons on the day")
        .clone();
    let two: Vec<CodeRow> = by_code
        .values()
        .find(|v| {
            v.len() == 2
                && v.iter().all(|r| grade_of(&site, r.student_id) >= 2)
                && v[0].student_id != v[1].student_id
        })
        .expect("the demo school has a family of two children")
        .iter()
        .map(|r| (*r).clone())
        .collect();
    let grade1 = rows
        .iter()
        .filter(single)
        .find(|r| {
            grade_of(&site, r.student_id) == 1 && !lessons_of_day(&site, r.student_id).is_empty()
        })
        .expect("a grade 1 pupil with a code of their own")
        .clone();
    let used: BTreeSet<i64> = [one.student_id, grade1.student_id]
        .into_iter()
        .chain(two.iter().map(|r| r.student_id))
        .collect();
    assert_eq!(used.len(), 4, "four different pupils");

    // What the change brings `one`.
    let lessons = lessons_of_day(&site, one.student_id);
    let (mark_a, mark_b, absent) = (&lessons[0], &lessons[1], &lessons[2]);
    let period = query(
        &site,
        &format!(
            "SELECT sub.name, p.name, pm.value, pm.subject_id, pm.period_id FROM period_marks pm \
             JOIN subjects sub ON sub.id = pm.subject_id JOIN periods p ON p.id = pm.period_id \
             WHERE pm.student_id = {} AND p.kind IN ('quarter', 'trimester', 'half') \
             AND p.ends_on < '{DAY}' AND pm.set_on <= '{DAY}' ORDER BY p.starts_on, sub.name LIMIT 1",
            one.student_id
        ),
    )
    .pop()
    .expect("a period mark of a closed term");
    let new_period_mark = if period[2] == "5" { "4" } else { "5" };
    let homework = "Повторить § 12 и решить задачи 5–7";
    let remark_one = "Отлично выступил на школьной олимпиаде";
    let announcement = "Экскурсия в планетарий 4 декабря";
    let grade1_homework = "Прочитать рассказ на с. 34";
    let grade1_remark = "Аккуратно ведёт тетрадь";
    let two_remarks = ["Помогает одноклассникам", "Подготовил интересный доклад"];
    let grade1_lesson = lessons_of_day(&site, grade1.student_id)[0].0.clone();

    let config = serde_json::json!({
        "public": site.join("public"),
        "one": {
            "code": one.code,
            "name": one.first_name(),
            "expect": {
                "marks": [
                    { "subject": mark_a.1, "value": "5" },
                    { "subject": mark_b.1, "value": "3" },
                ],
                "absence": { "subject": absent.1 },
                "remark": remark_one,
                "homework": homework,
                "announcement": announcement,
                "period": { "subject": period[0], "period": period[1], "mark": new_period_mark },
            },
        },
        "two": {
            "code": two[0].code,
            "children": [
                { "name": two[0].first_name(), "remark": two_remarks[0] },
                { "name": two[1].first_name(), "remark": two_remarks[1] },
            ],
        },
        "grade1": {
            "code": grade1.code,
            "name": grade1.first_name(),
            "remark": grade1_remark,
            "homework": grade1_homework,
        },
    });
    let config_path = tmp.path().join("news-browser.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();

    let report = run_browser_steps(
        "news.mjs",
        &config_path,
        vec![(
            "READY-FOR-CHANGE",
            "changed",
            Box::new(|| {
                let s = one.student_id;
                sql(
                    &site,
                    &format!(
                        "INSERT INTO marks (student_id, lesson_id, work_type_id, value, is_debt) \
                 VALUES ({s}, {a}, 1, '5', 0), ({s}, {b}, 1, '3', 0); \
                 INSERT OR REPLACE INTO attendance (student_id, lesson_id, status) \
                 VALUES ({s}, {c}, 'ill'); \
                 UPDATE lessons SET homework = '{homework}' WHERE id = {b}; \
                 UPDATE period_marks SET value = '{new_period_mark}' \
                 WHERE student_id = {s} AND subject_id = {subject} AND period_id = {period_id}; \
                 UPDATE lessons SET homework = '{grade1_homework}' WHERE id = {grade1_lesson};",
                        a = mark_a.0,
                        b = mark_b.0,
                        c = absent.0,
                        subject = period[3],
                        period_id = period[4],
                    ),
                );
                remark(&site, s, remark_one);
                remark(&site, grade1.student_id, grade1_remark);
                remark(&site, two[0].student_id, two_remarks[0]);
                remark(&site, two[1].student_id, two_remarks[1]);
                std::fs::write(
            site.join(format!("content/{DAY}-planetarium.md")),
            format!(
                "+++\ntitle = \"{announcement}\"\ndate = \"{DAY} 09:00\"\naudience = \"school\"\n\
                 author = \"Администрация\"\n+++\nСбор у школы в 9:00.\n"
            ),
        )
        .unwrap();
                build_at(&site, &format!("{DAY} 21:30"), true);
            }),
        )],
    );

    let scenarios = clean_scenarios(&report, 4);
    let names: BTreeSet<&str> = scenarios
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for wanted in [
        "first visit",
        "two children: first visit of the first",
        "a period with no marks (grade 1): first visit",
        "a device not remembered",
        "a state of another format is ignored and replaced",
        "IndexedDB refused",
        "storage full",
        "new since the last visit",
        "mark all as seen",
        "a long list",
        "two children keep their own state",
        "a period with no marks (grade 1): new since",
    ] {
        assert!(names.contains(wanted), "scenario {wanted:?} ran");
    }
    let news = scenarios
        .iter()
        .find(|s| s["name"] == "new since the last visit")
        .unwrap();
    assert_eq!(
        news["axe"],
        serde_json::json!([]),
        "axe with the list shown"
    );
    let lines = news["got"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 7, "{lines:#?}");
    let first = scenarios
        .iter()
        .find(|s| s["name"] == "first visit")
        .unwrap();
    println!(
        "what is new: {} fingerprints kept for one child; {} lines listed after the change",
        first["fingerprints"],
        lines.len()
    );
}
