//! The diary unlock page (access protocol v2) in a real headless Chromium at phone width,
//! against a built demo site served on 127.0.0.1: typed and QR codes, wrong and malformed
//! codes, a remembered device (and its revocation), a device remembered by the v1 page, two
//! children under one code, every earlier week of the year loaded part by part, a grade 1
//! pupil, a diary still in the v1 layout, tampered chunks, a browser without WebCrypto; no
//! console errors, no request leaving the site, no axe-core violations. The browser side is
//! tests/browser/diary.mjs. Needs Debian's `chromium`; the npm packages that drive it are
//! installed on first use.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration as Days, NaiveDate};
use common::*;

/// What `cheap_codes` sets.
const ITERATIONS: u32 = 100_000;

fn build(site: &Path) {
    diary().arg("-C").arg(site).arg("build").assert().success();
}

/// The private store, as JSON.
fn store(site: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(site.join(".diary/store.json")).unwrap()).unwrap()
}

/// The codes the scenarios use, each opening different children.
struct Picked {
    one: CodeRow,
    remember: CodeRow,
    tampered: CodeRow,
    two: (String, Vec<String>),
    wrong: String,
}

fn pick_codes(rows: &[CodeRow]) -> Picked {
    let mut by_code: BTreeMap<&str, Vec<&CodeRow>> = BTreeMap::new();
    for r in rows {
        by_code.entry(&r.code).or_default().push(r);
    }
    let (two_code, two_rows) = by_code
        .iter()
        .find(|(_, v)| v.len() == 2)
        .expect("the demo school has a guardian with two children");
    let mut used: BTreeSet<i64> = two_rows.iter().map(|r| r.student_id).collect();
    // Rows come by class: the last ones are the oldest pupils, who have marks.
    let mut singles = Vec::new();
    for r in rows.iter().rev() {
        if by_code[r.code.as_str()].len() == 1 && used.insert(r.student_id) {
            singles.push(r.clone());
        }
        if singles.len() == 3 {
            break;
        }
    }
    assert_eq!(singles.len(), 3, "three one-child codes");
    let issued: BTreeSet<String> = rows.iter().map(|r| r.code.replace('-', "")).collect();
    let wrong = ["ZZZZ-ZZZZ-ZZZZ-ZZZZ", "YYYY-YYYY-YYYY-YYYY"]
        .into_iter()
        .find(|c| !issued.contains(&c.replace('-', "")))
        .unwrap()
        .to_string();
    Picked {
        one: singles[0].clone(),
        remember: singles[1].clone(),
        tampered: singles[2].clone(),
        two: (
            two_code.to_string(),
            two_rows.iter().map(|r| r.first_name()).collect(),
        ),
        wrong,
    }
}

/// A one-child code of a grade 1 pupil (the journal knows the grade).
fn grade1_code(site: &Path, rows: &[CodeRow]) -> CodeRow {
    let first_graders: BTreeSet<i64> = query(
        site,
        "SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id WHERE c.grade = 1",
    )
    .into_iter()
    .map(|r| r[0].parse().unwrap())
    .collect();
    rows.iter()
        .find(|r| {
            first_graders.contains(&r.student_id)
                && rows.iter().filter(|o| o.code == r.code).count() == 1
        })
        .expect("the demo school has a grade 1 pupil with a code of their own")
        .clone()
}

/// The school's terms (quarters, trimesters or halves), first day and last.
fn terms(site: &Path) -> Vec<(NaiveDate, NaiveDate)> {
    query(
        site,
        "SELECT starts_on, ends_on FROM periods \
         WHERE kind IN ('quarter', 'trimester', 'half') AND year_id = \
         (SELECT id FROM academic_years WHERE starts_on <= '2026-11-23' AND ends_on >= '2026-11-23') \
         ORDER BY starts_on",
    )
    .into_iter()
    .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap()))
    .collect()
}

/// Does the week starting on `monday` overlap the days `start..=end`?
fn overlaps(start: NaiveDate, end: NaiveDate, monday: NaiveDate) -> bool {
    start <= monday + Days::days(6) && end >= monday
}

/// The Mondays of every week that overlaps a term, from `this_week` back to the first.
fn term_weeks(terms: &[(NaiveDate, NaiveDate)], this_week: NaiveDate) -> Vec<NaiveDate> {
    let first = terms[0].0;
    let mut monday = first - Days::days(first.weekday().num_days_from_monday().into());
    let mut out = Vec::new();
    while monday <= this_week {
        if terms.iter().any(|(s, e)| overlaps(*s, *e, monday)) {
            out.push(monday);
        }
        monday += Days::days(7);
    }
    out.reverse();
    out
}

/// The term that holds `day`: its first and last day.
fn term_of(site: &Path, day: NaiveDate) -> (NaiveDate, NaiveDate) {
    *terms(site)
        .iter()
        .find(|(s, e)| *s <= day && day <= *e)
        .expect("a term holds the build day")
}

/// Turns every mark of one subject of `student_id` in the current term into "зч": a
/// words-only subject, which the "what it takes" panel leaves out. Returns its name.
fn make_words_only_subject(site: &Path, student_id: i64, day: NaiveDate) -> String {
    let (start, _) = term_of(site, day);
    let rows = query(
        site,
        &format!(
            "SELECT l.subject_id, s.name FROM marks m JOIN lessons l ON l.id = m.lesson_id \
             JOIN subjects s ON s.id = l.subject_id \
             WHERE m.student_id = {student_id} AND m.value IS NOT NULL \
             AND l.date BETWEEN '{start}' AND '{day}' \
             GROUP BY l.subject_id ORDER BY count(*) DESC, l.subject_id LIMIT 1"
        ),
    );
    let (subject_id, name) = (&rows[0][0], rows[0][1].clone());
    sql(
        site,
        &format!(
            "UPDATE marks SET value = 'зч', weight = NULL WHERE student_id = {student_id} \
             AND value IS NOT NULL AND lesson_id IN (SELECT id FROM lessons \
             WHERE subject_id = {subject_id} AND date BETWEEN '{start}' AND '{day}')"
        ),
    );
    name
}

/// Deletes every mark of `student_id` in the current term so far: a term with no marks,
/// where the panel says one quiet line.
fn clear_term_marks(site: &Path, student_id: i64, day: NaiveDate) {
    let (start, _) = term_of(site, day);
    sql(
        site,
        &format!(
            "DELETE FROM marks WHERE student_id = {student_id} AND lesson_id IN \
             (SELECT id FROM lessons WHERE date BETWEEN '{start}' AND '{day}')"
        ),
    );
    let left = query(
        site,
        &format!(
            "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
             WHERE m.student_id = {student_id} AND l.date BETWEEN '{start}' AND '{day}'"
        ),
    );
    assert_eq!(left[0][0], "0");
}

/// An average as the Russian diary writes it: two decimals, half up, a decimal comma.
fn ru_average(a: f64) -> String {
    let h = (a * 100.0 + 1e-6).round() as i64;
    format!("{},{:02}", h / 100, h % 100)
}

/// What the panel's line for one subject must say, by the Rust computation of the same
/// marks under the same rules: the phrases it must contain (Russian).
fn takes_phrases(answer: &serde_json::Value, rules: &serde_json::Value) -> Vec<String> {
    const COUNTS: [&str; 10] = [
        "одна",
        "две",
        "три",
        "четыре",
        "пять",
        "шесть",
        "семь",
        "восемь",
        "девять",
        "десять",
    ];
    let mut want = Vec::new();
    let heavy = rules["weights"].as_array().unwrap().len() > 1;
    match answer["average"].as_f64() {
        Some(a) => {
            want.push(format!(
                "средний {} — выходит {}",
                ru_average(a),
                answer["rounds_to"]
            ));
            if answer["next"].is_null() {
                want.push("это высшая отметка".into());
            }
        }
        None => want.push("отметок пока нет".into()),
    }
    if let Some(n) = answer["needed"].as_u64().filter(|&n| n > 0) {
        want.push(format!("ещё {n} отметк"));
    }
    let options = answer["options"].as_array().unwrap();
    if !options.is_empty() {
        want.push(format!("До {}: ", answer["next"]));
        for o in options {
            let n = o["count"].as_u64().unwrap() as usize;
            let mut way = format!("{} {}", COUNTS[n - 1], o["value"]);
            if heavy {
                way.push_str(&format!(
                    " с весом {}",
                    o["weight"].as_f64().unwrap().to_string().replace('.', ",")
                ));
            }
            want.push(way);
        }
    }
    if answer["beyond_cap"] == true {
        want.push(format!(
            "Чтобы вышла {}, нужно больше {} отмет",
            answer["next"], rules["cap"]
        ));
    }
    if let Some(low) = answer["one_low"].as_object() {
        let verb = if low["rounds_to"] == answer["rounds_to"] {
            "останется"
        } else {
            "выйдет"
        };
        want.push(format!(
            "Ещё одна {} — средний {}, {verb} {}.",
            low["value"],
            ru_average(low["average"].as_f64().unwrap()),
            low["rounds_to"]
        ));
    }
    want
}

/// Holds the "what it takes" panel the browser read against the Rust computation of the
/// same marks (the `now` chunk's rules and rows); the words-only subject has no line.
fn check_takes(scenario: &serde_json::Value, words_only: &str) {
    let rules: serde_json::Value = serde_json::from_str(
        scenario["rules"]
            .as_str()
            .expect("the current period's rules"),
    )
    .unwrap();
    let rows = scenario["rows"].as_array().unwrap();
    assert!(rows.len() > 3, "subjects of the current period: {rows:?}");
    let mut spoken = 0;
    let mut reaching = 0;
    for row in rows {
        let subject = row["subject"].as_str().unwrap();
        let mut case_rules = rules.clone();
        case_rules["min_marks"] = row["min"].clone();
        let input = serde_json::json!({
            "rules": case_rules,
            "marks": row["marks"],
        });
        let answer: serde_json::Value =
            serde_json::from_str(&diary::what_it_takes_json(&input.to_string()).unwrap()).unwrap();
        if answer.is_null() {
            assert!(
                row["text"].is_null(),
                "{subject}: words only, no line: {row}"
            );
            continue;
        }
        // Numbers stay with their words on a narrow screen: no-break spaces.
        let text = row["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{subject}: a line in the panel ({answer})"))
            .replace('\u{a0}', " ");
        for phrase in takes_phrases(&answer, &case_rules) {
            assert!(
                text.contains(&phrase),
                "{subject}: {text:?} should say {phrase:?} ({answer})"
            );
        }
        spoken += 1;
        if !answer["options"].as_array().unwrap().is_empty() {
            reaching += 1;
        }
    }
    assert!(spoken > 3, "the panel speaks of the subjects");
    assert!(reaching > 0, "some subject can reach the next mark");
    let words = rows
        .iter()
        .find(|r| r["subject"] == words_only)
        .unwrap_or_else(|| panic!("the words-only subject {words_only} has its row"));
    assert!(words["text"].is_null(), "no line for {words_only}");
    assert_eq!(scenario["axe"], serde_json::json!([]), "axe with the panel");
}

#[test]
fn diaries_unlock_in_a_real_browser() {
    Tool::Chromium.require();
    Tool::BrowserPackages.require();

    let (tmp, site) = demo_site(60);
    cheap_codes(&site);
    issue_codes(&site, None);
    let rows = active_codes(&site);
    let picked = pick_codes(&rows);
    let grade1 = grade1_code(&site, &rows);
    let words_only =
        make_words_only_subject(&site, picked.one.student_id, "2026-11-23".parse().unwrap());
    clear_term_marks(
        &site,
        picked.remember.student_id,
        "2026-11-23".parse().unwrap(),
    );
    build(&site);
    let public = site.join("public");
    let store_json = store(&site);

    // The slot of the code that is revoked halfway.
    let normalized = picked.remember.code.replace('-', "");
    let revoked_slot = store_json["codes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == normalized.as_str())
        .and_then(|c| c["slot"].as_str())
        .unwrap()
        .to_string();
    assert!(public.join(format!("diary/k/{revoked_slot}.bin")).exists());

    let screenshot: PathBuf = tmp.path().join("diary-360.png");
    let config = serde_json::json!({
        "public": public,
        "buildDay": "2026-11-23",
        // Made by the browser side from `public`: one with damaged chunks, one in the v1
        // layout for `one` (see tests/browser/diary.mjs).
        "tampered": tmp.path().join("tampered"),
        "v1": tmp.path().join("v1"),
        "grade1": { "code": grade1.code, "name": grade1.first_name() },
        "one": { "code": picked.one.code, "name": picked.one.first_name() },
        "remember": { "code": picked.remember.code, "name": picked.remember.first_name() },
        "tamperedCode": { "code": picked.tampered.code, "name": picked.tampered.first_name() },
        "two": { "code": picked.two.0, "names": picked.two.1 },
        "wordsOnly": words_only,
        // No marks in the current term: the panel says one quiet line.
        "noMarks": { "code": picked.remember.code, "name": picked.remember.first_name() },
        "wrong": picked.wrong,
        "screenshot": screenshot,
        "pause": true,
    });
    let config_path = tmp.path().join("diary-browser.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();

    let report = run_browser_steps(
        "diary.mjs",
        &config_path,
        vec![(
            "READY-FOR-REVOKE",
            "revoked",
            Box::new(|| {
                diary()
                    .arg("-C")
                    .arg(&site)
                    .args(["codes", "revoke"])
                    .arg(&picked.remember.code)
                    .assert()
                    .success();
                build(&site);
                assert!(
                    !public.join(format!("diary/k/{revoked_slot}.bin")).exists(),
                    "the revoked slot left the site"
                );
            }),
        )],
    );

    let scenarios = clean_scenarios(&report, 2);
    let names: BTreeSet<&str> = scenarios
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for wanted in [
        "locked page",
        "typed code",
        "wrong and malformed codes",
        "QR link",
        "remember this device",
        "two children",
        "tampered now chunk",
        "a device remembered by the v1 page",
        "earlier weeks",
        "grade 1",
        "what it takes",
        "a v1 diary",
        "tampered earlier part",
        "plain http elsewhere (no crypto.subtle)",
        "old browser (no crypto.subtle on localhost)",
        "old browser (no DecompressionStream)",
    ] {
        assert!(names.contains(wanted), "scenario {wanted:?} ran");
    }
    let typed = scenarios
        .iter()
        .find(|s| s["name"] == "typed code")
        .unwrap();
    assert!(
        typed["heading"]
            .as_str()
            .unwrap()
            .contains(&picked.one.first_name()),
        "the typed code opened {}",
        picked.one.student_name
    );
    assert_eq!(typed["axe"], serde_json::json!([]), "axe on the open diary");
    let switcher: Vec<&str> = scenarios
        .iter()
        .find(|s| s["name"] == "two children")
        .unwrap()["switcher"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(switcher.len(), 2);
    let remembered = scenarios
        .iter()
        .find(|s| s["name"] == "remember this device")
        .unwrap();
    for record in remembered["stored"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["store"] == "device")
    {
        assert_eq!(record["fields"]["kek"]["cryptoKey"], true);
        assert_eq!(record["fields"]["kek"]["extractable"], false);
    }

    // Every week of the year so far, going back from this week: Mondays one week apart,
    // except the weeks no term touches (the holidays between terms), down to the week of
    // the first school day.
    let earlier = scenarios
        .iter()
        .find(|s| s["name"] == "earlier weeks")
        .unwrap();
    let walk: Vec<NaiveDate> = earlier["walk"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().parse().unwrap())
        .collect();
    let terms = terms(&site);
    let expected = term_weeks(&terms, "2026-11-23".parse().unwrap());
    assert_eq!(
        walk, expected,
        "previous week from this week walks every week of the terms so far"
    );
    assert_eq!(walk.last().unwrap().to_string(), "2026-08-31");
    assert!(walk.windows(2).all(|w| w[0] > w[1]), "strictly decreasing");
    for w in walk.windows(2) {
        if w[0] - w[1] != Days::days(7) {
            // A gap: only the holiday weeks between two terms are skipped.
            let mut gap = w[1] + Days::days(7);
            while gap < w[0] {
                assert!(
                    !terms.iter().any(|(s, e)| overlaps(*s, *e, gap)),
                    "week {gap} is in a term but was skipped"
                );
                gap += Days::days(7);
            }
        }
    }
    let holidays = expected
        .windows(2)
        .filter(|w| w[0] - w[1] != Days::days(7))
        .count();
    assert_eq!(
        holidays, 1,
        "the autumn holidays lie between the 1st and 2nd terms"
    );
    // The child's own lines as the browser placed them, against the independent reader.
    let one = common::independent::stored_children(&site)
        .into_iter()
        .find(|s| s.row == picked.one.student_id.to_string())
        .expect("the child of `one` in the store");
    let diary = common::independent::open_diary(&public, &one.child);
    assert!(
        diary.now.raw.contains("class=\"own-lines\""),
        "the now chunk carries the child's own lines apart from the shared weeks"
    );
    let in_weeks = |class: &str| -> u64 {
        diary
            .chunks()
            .flat_map(|c| common::independent::week_sections(&c.html))
            .map(|(_, html)| common::independent::count(&html, "span", class) as u64)
            .sum()
    };
    let lines = &earlier["lines"];
    assert!(
        in_weeks("mark") > 0,
        "the child has marks in the weeks so far"
    );
    assert_eq!(
        lines["marks"],
        in_weeks("mark"),
        "marks in the weeks: {lines}"
    );
    assert_eq!(
        lines["attendance"],
        in_weeks("att"),
        "attendance lines: {lines}"
    );
    assert_eq!(lines["lists"], 0, "no list of own lines left: {lines}");
    assert_eq!(lines["places"], 0, "no empty place left: {lines}");
    let chunks = earlier["chunks"].as_array().unwrap();
    let parts = earlier["earlier"].as_array().unwrap();
    // 1st term, and the 2nd term before this week.
    assert_eq!(parts.len(), 2, "two earlier parts: {parts:?}");
    assert_eq!(chunks.len(), 3, "the now chunk and each earlier part, once");
    assert_eq!(earlier["jump"], "2026-08-31", "the list opens the 1st term");
    assert_eq!(
        earlier["axe"],
        serde_json::json!([]),
        "axe with parts loaded"
    );
    let grade1 = scenarios.iter().find(|s| s["name"] == "grade 1").unwrap();
    assert_eq!(grade1["counts"]["after"]["marks"], 0);
    assert_eq!(grade1["takes"], 0, "no \"what it takes\" panel in grade 1");
    check_takes(
        scenarios
            .iter()
            .find(|s| s["name"] == "what it takes")
            .unwrap(),
        &words_only,
    );

    let png = std::fs::read(&screenshot).expect("a screenshot was saved");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is a PNG"
    );

    let ms = |k: &str| report[k].as_u64().unwrap_or_else(|| panic!("{k} measured"));
    println!(
        "diary unlock at phone width, PBKDF2 {ITERATIONS} rounds: typed code {} ms (submit to \
         diary shown), QR link {} ms (page load to diary), remembered device {} ms (reload to \
         diary); screenshot {}",
        ms("unlockMs"),
        ms("qrUnlockMs"),
        ms("rememberedOpenMs"),
        screenshot.display()
    );
}
