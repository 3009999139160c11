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
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

const ITERATIONS: u32 = 100_000;
const DAY: &str = "2026-11-25";

/// One row of `diary codes list --format csv`, active only.
#[derive(Debug, Clone)]
struct CodeRow {
    code: String,
    student_id: i64,
    student_name: String,
}

impl CodeRow {
    /// "Last First Middle" → "First" (what the slot calls the child).
    fn first_name(&self) -> String {
        self.student_name
            .split_whitespace()
            .nth(1)
            .unwrap_or(&self.student_name)
            .to_string()
    }
}

fn code_rows(site: &Path) -> Vec<CodeRow> {
    let out = diary()
        .arg("-C")
        .arg(site)
        .args(["codes", "list", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "codes list failed");
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (code, id, name, status) = (
        col("code"),
        col("student_id"),
        col("student_name"),
        col("status"),
    );
    reader
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[status] == "active")
        .map(|r| CodeRow {
            code: r[code].to_string(),
            student_id: r[id].parse().unwrap(),
            student_name: r[name].to_string(),
        })
        .collect()
}

fn set_iterations(site: &Path, iterations: u32) {
    let path = site.join("site.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\niterations = "),
        "site.toml has no `iterations =` line"
    );
    let text: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("iterations =") {
                format!("iterations = {iterations}")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
}

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

/// Runs tests/browser/news.mjs; when it is ready, runs `change` (journal and rebuild), then
/// lets it finish. Returns its JSON report.
fn run_browser(config: &Path, change: impl FnOnce()) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let mut child = Command::new("node")
        .env("CHROMIUM", chromium().unwrap())
        .arg(dir.join("news.mjs"))
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (install Node.js)");
    let mut stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let (tx, rx) = mpsc::channel::<String>();
    let err_thread = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let mut change = Some(change);
    loop {
        match rx.recv_timeout(Duration::from_secs(900)) {
            Ok(line) if line.trim() == "READY-FOR-CHANGE" => {
                (change.take().unwrap())();
                let mut stdin = child.stdin.take().unwrap();
                stdin.write_all(b"changed\n").unwrap();
                drop(stdin);
                break;
            }
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("the browser run did not get to the change in 15 minutes");
            }
        }
    }
    let status = child.wait().unwrap();
    let out = out_thread.join().unwrap();
    let err = err_thread.join().unwrap();
    let report: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|_| panic!("no report from the browser run:\n{out}\n{err}"));
    assert!(
        change.is_none(),
        "the browser run ended before the change:\n{report:#}\n{err}"
    );
    assert!(
        status.success() && report["ok"] == true,
        "the browser found problems:\n{report:#}\n{err}"
    );
    report
}

#[test]
fn the_diary_lists_what_is_new_since_the_last_visit() {
    Tool::Chromium.require();
    Tool::BrowserPackages.require();

    let (tmp, site) = demo_site(60);
    set_iterations(&site, ITERATIONS);
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue"])
        .assert()
        .success();
    build_at(&site, &format!("{DAY} 21:00"), false);
    let rows = code_rows(&site);
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

    let report = run_browser(&config_path, || {
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
    });

    let scenarios = report["scenarios"].as_array().unwrap();
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
    for s in scenarios {
        assert!(
            s["checks"].as_u64().unwrap() > 4,
            "{} checked things",
            s["name"]
        );
        assert_eq!(s["failures"], serde_json::json!([]), "{}", s["name"]);
        assert_eq!(s["consoleErrors"], serde_json::json!([]), "{}", s["name"]);
        assert_eq!(s["external"], serde_json::json!([]), "{}", s["name"]);
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
