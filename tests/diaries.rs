//! Sealed diaries end to end (access protocol v2, docs/access.md): codes, build, an
//! independent decryption of the published slots and chunks, no leak of names or codes,
//! sizes per kind, batches group by group, revocation, bad input.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::independent::{self, Child, Diary};
use common::*;
use predicates::prelude::*;

/// A demo site with cheap KDF settings and codes issued for everyone, built (as of
/// 2026-11-23, a Monday of term 2).
fn site_with_codes(students: usize) -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = demo_site(students);
    cheap_codes(&site);
    issue_codes(&site, None);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    (tmp, site)
}

/// `codes list --format csv` by column, checking its columns.
fn codes(site: &Path) -> Vec<BTreeMap<String, String>> {
    let rows = code_list(site);
    for row in &rows {
        assert_eq!(
            row.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            BTreeSet::from([
                "code",
                "student_id",
                "student_name",
                "class",
                "holder",
                "holder_kind",
                "issued_at",
                "status"
            ])
        );
    }
    rows
}

/// The slot entry of the pupil a `codes list` row names, among the children its code opens.
fn child_of_row(public: &Path, row: &BTreeMap<String, String>) -> Child {
    let (_, slot) = independent::open_slot(public, &row["code"]);
    independent::children(&slot)
        .into_iter()
        .find(|c| row["student_name"].contains(c.name.as_str()))
        .expect("the code opens the listed pupil")
}

/// The test vector of "Diary chunks" in docs/access.md, through the HKDF of the
/// independent reader.
#[test]
fn chunk_names_and_keys_match_the_documented_vector() {
    let key = independent::chunk_key(&[1u8; 32], "000102030405060708090a0b0c0d0e0f", "now");
    assert_eq!(key.id, "9ccb2f2b8ba5399b8538d49143fe39ed");
    assert_eq!(
        key.key
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        "466afa4aa63462f36e773fe28e77f972895f7ae1efa8f9d5ef1d39b2e4c93b26"
    );
    assert_eq!(
        key.info,
        "diary/chunk/v2/000102030405060708090a0b0c0d0e0f/now"
    );
    // Another name or another page gives an unrelated file.
    let other = independent::chunk_key(
        &[1u8; 32],
        "000102030405060708090a0b0c0d0e0f",
        "term-2026-09-01",
    );
    assert_ne!(other.id, key.id);
    assert_ne!(other.key, key.key);
    // The normalization of "Codes".
    for typed in [
        "gz6t te11 3nsf 3m5j",
        "GZ6T-TEll-3NSF-3M5J",
        "GZ6TTE113NSF3M5J",
    ] {
        assert_eq!(
            independent::normalize(typed).as_deref(),
            Some("GZ6TTE113NSF3M5J")
        );
    }
    for typed in [
        "GZ6T_TE11_3NSF_3M5J",
        "GZ6T-TE11-3NSF-3M5",
        "GZ6T-TE11-3NSF-3M5JU",
    ] {
        assert_eq!(independent::normalize(typed), None, "{typed}");
    }
}

/// Marks of a pupil in lessons dated `from`..=`to`, from the journal (debts without a
/// value too: a lesson shows them as •).
fn marks_between(site: &Path, student: &str, from: &str, to: &str) -> usize {
    query(
        site,
        &format!(
            "SELECT count(*) FROM marks m JOIN lessons l ON l.id = m.lesson_id \
             WHERE m.student_id = {student} AND l.date BETWEEN '{from}' AND '{to}'"
        ),
    )[0][0]
        .parse()
        .unwrap()
}

#[test]
fn published_files_follow_the_protocol() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    assert!(
        !public.join("diary/p").exists(),
        "no page file of protocol v1"
    );
    let rows = codes(&site);
    // A pupil of grade 5 (marks, and a guardian's code).
    let row = rows
        .iter()
        .find(|r| r["class"].starts_with('5') && r["holder_kind"] == "guardian")
        .expect("a pupil of grade 5");
    // Typed sloppily: lowercase, spaces, O for 0 and so on all normalize.
    let typed = row["code"].to_lowercase().replace('-', " ");
    let (_, slot) = independent::open_slot(&public, &typed);
    let child = independent::children(&slot)
        .into_iter()
        .find(|c| row["student_name"].contains(c.name.as_str()))
        .expect("the code opens the listed pupil");
    let diary = independent::open_diary(&public, &child);

    // now: the child, built for the day, this week current and next week hidden.
    let now = &diary.now.html;
    assert!(
        now.contains(&row["student_name"]),
        "the diary names its child"
    );
    assert_eq!(independent::built(now), "2026-11-23");
    assert_eq!(
        independent::weeks(now),
        [
            ("2026-11-23".to_string(), true),
            ("2026-11-30".to_string(), false)
        ]
    );
    // The earlier parts, oldest first: term 1 whole, term 2 up to last week.
    let listed: Vec<independent::Part> = diary.parts.iter().map(|(p, _)| p.clone()).collect();
    let part = |name: &str, first: &str, last: &str, label: &str| independent::Part {
        name: name.into(),
        first: first.into(),
        last: last.into(),
        label: label.into(),
    };
    assert_eq!(
        listed,
        [
            part("term-2026-09-01", "2026-08-31", "2026-10-19", "1 четверть"),
            part("term-2026-11-05", "2026-11-02", "2026-11-16", "2 четверть"),
        ]
    );

    // Term 1 holds September's and October's weeks, oldest first, every one hidden, with
    // every mark of the pupil dated in them.
    let term1 = &diary.part("term-2026-09-01").html;
    assert_eq!(independent::weeks(term1), hidden_weeks("2026-08-31", 8));
    let student = &row["student_id"];
    let in_term1 = marks_between(&site, student, "2026-08-31", "2026-10-25");
    assert!(in_term1 >= 10, "the demo gives marks in term 1: {in_term1}");
    assert_eq!(independent::marks(term1), in_term1, "every mark of term 1");
    assert!(!term1.contains("data-current"));
    let term2 = &diary.part("term-2026-11-05").html;
    assert_eq!(independent::weeks(term2), hidden_weeks("2026-11-02", 3));
    assert_eq!(
        independent::marks(term2),
        marks_between(&site, student, "2026-11-02", "2026-11-22")
    );
    // The weeks of now are in no earlier part.
    for (_, chunk) in &diary.parts {
        assert!(
            independent::weeks(&chunk.html)
                .iter()
                .all(|(w, _)| w.as_str() < "2026-11-23")
        );
    }

    // Sizes: 12 + |P| + 16 with |P| a multiple of 1024 (checked when opened).
    for chunk in diary.chunks() {
        assert_eq!((chunk.file_len - 28) % 1024, 0, "{}", chunk.name);
    }

    // The AAD binds a file to its name: under another child's or another name's id, a
    // chunk does not open.
    let now_file = std::fs::read(public.join(&diary.now.path)).unwrap();
    let term1_key = child.chunk_key("term-2026-09-01");
    assert!(independent::open(&term1_key.key, &term1_key.info, &now_file).is_none());
    let now_key = child.chunk_key("now");
    assert!(independent::open(&now_key.key, &now_key.info, &now_file).is_some());
    assert!(
        independent::open(&now_key.key, &term1_key.info, &now_file).is_none(),
        "the right key with another name's AAD"
    );
    let other = rows
        .iter()
        .filter(|r| r["student_id"] != *student)
        .map(|r| child_of_row(&public, r))
        .find(|c| c.page != child.page)
        .expect("another pupil");
    let other_now = other.chunk_key("now");
    assert!(independent::open(&other_now.key, &other_now.info, &now_file).is_none());
    let term1_file = std::fs::read(public.join(&diary.part("term-2026-09-01").path)).unwrap();
    let other_term1 = other.chunk_key("term-2026-09-01");
    assert!(independent::open(&other_term1.key, &other_term1.info, &term1_file).is_none());
}

/// `n` hidden weeks from the Monday `first` on, as `independent::weeks` reads them.
fn hidden_weeks(first: &str, n: usize) -> Vec<(String, bool)> {
    let first = chrono::NaiveDate::parse_from_str(first, "%Y-%m-%d").unwrap();
    (0..n)
        .map(|i| {
            let day = first + chrono::Days::new(7 * i as u64);
            (day.format("%Y-%m-%d").to_string(), false)
        })
        .collect()
}

#[test]
fn nothing_personal_is_published_in_clear() {
    let (_tmp, site) = site_with_codes(60);
    let names = personal_names(&site);
    let mut secrets: Vec<String> = Vec::new();
    for row in codes(&site) {
        secrets.push(row["code"].clone());
        secrets.push(row["code"].replace('-', ""));
    }
    assert!(secrets.len() > 60);
    // Also "First Last" order.
    let mut needles = names.clone();
    needles.extend(names.iter().map(|n| {
        let mut parts = n.split(' ');
        let (last, first) = (parts.next().unwrap(), parts.next().unwrap_or(""));
        format!("{first} {last}")
    }));
    needles.extend(secrets);
    // Chunk names, and every page id and data key, appear nowhere either.
    let diaries = independent::published_diaries(&site);
    assert!(diaries.len() > 40, "{} diaries", diaries.len());
    needles.extend(["term-2026-09-01".to_string(), "term-2026-11-05".to_string()]);
    for stored in independent::stored_children(&site) {
        needles.push(stored.child.page.clone());
    }
    for (path, bytes) in tree(&site.join("public")) {
        assert!(!path.contains("Ё") && path.is_ascii(), "file name {path}");
        let text = String::from_utf8_lossy(&bytes);
        for needle in &needles {
            assert!(!text.contains(needle.as_str()), "{path} contains {needle}");
            assert!(
                !path.contains(needle.as_str()),
                "{path} is named after {needle}"
            );
        }
    }
    // The print folder is private and stays out of the output.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "print", "--class", "5a"])
        .assert()
        .success();
    assert!(site.join("print/codes-5a.html").is_file());
    assert!(!site.join("public/print").exists());
}

/// The files of a site outside `diary/` that differ between two trees (or are in one only).
fn changed_outside_diary(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
) -> BTreeSet<String> {
    a.keys()
        .chain(b.keys())
        .filter(|p| !p.starts_with("diary/") && a.get(*p) != b.get(*p))
        .cloned()
        .collect()
}

/// How each diary file changed between two batches, by kind: "slot", "now" or the name of
/// an earlier part, each with (changed, unchanged) counts. Every file keeps its path and
/// its size; `owners` maps each chunk to (child, name).
fn changes_by_kind(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    owners: &BTreeMap<String, (String, String)>,
) -> BTreeMap<String, (usize, usize)> {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same slot and chunk files"
    );
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (path, old) in before {
        let new = &after[path];
        assert_eq!(old.len(), new.len(), "{path} keeps its size");
        let kind = if path.starts_with("diary/k/") {
            "slot".to_string()
        } else {
            owners
                .get(path)
                .unwrap_or_else(|| panic!("{path} belongs to no diary"))
                .1
                .clone()
        };
        let entry = out.entry(kind).or_default();
        if old != new {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    out
}

/// A school day (Tuesday 2026-11-24; `site_with_codes` built as of the end of Monday):
/// marks, an absence, the topics and homework of the build day's lessons of one class. Diaries wait for the next batch; then exactly the `now` chunks are sealed
/// again (every one of them, so none tells whose diary changed), while slots and the
/// chunks of earlier parts stay byte for byte.
#[test]
fn a_school_day_changes_every_now_chunk_at_the_next_batch_and_nothing_else_of_the_diaries() {
    let (_tmp, site) = site_with_codes(40);
    build_at(&site, "2026-11-24 15:30");
    let before = tree(&site.join("public"));
    build_at(&site, "2026-11-24 15:40");
    assert_eq!(
        before,
        tree(&site.join("public")),
        "a rebuild rewrites nothing"
    );
    let diaries = independent::published_diaries(&site);
    let owners = independent::chunk_owners(&diaries);

    // The day of 5А (or the first class of grade 5): its lessons of today get a topic and
    // homework, its first pupil a 5 in each, its second pupil is ill all day.
    let class = query(
        &site,
        "SELECT id, name FROM classes WHERE grade = 5 ORDER BY name LIMIT 1",
    )[0]
    .clone();
    let pupils = query(
        &site,
        &format!(
            "SELECT id FROM students WHERE class_id = {} ORDER BY id LIMIT 2",
            class[0]
        ),
    );
    let (marked, ill) = (pupils[0][0].clone(), pupils[1][0].clone());
    let lessons: usize = query(
        &site,
        &format!(
            "SELECT count(*) FROM lessons WHERE class_id = {} AND date = '2026-11-24' \
             AND group_id IS NULL AND cancelled = 0",
            class[0]
        ),
    )[0][0]
        .parse()
        .unwrap();
    assert!(lessons >= 3, "{lessons} lessons on Tuesday");
    let marks_before = marks_between(&site, &marked, "2026-11-24", "2026-11-24");
    sql(
        &site,
        &format!(
            "UPDATE lessons SET topic = 'Повторение: десятичные дроби', \
                 homework = 'Упражнения 301–305' \
             WHERE class_id = {c} AND date = '2026-11-24' AND group_id IS NULL AND cancelled = 0; \
             INSERT INTO marks (student_id, lesson_id, work_type_id, value, is_debt) \
             SELECT {marked}, id, 1, '5', 0 FROM lessons WHERE class_id = {c} \
               AND date = '2026-11-24' AND group_id IS NULL AND cancelled = 0; \
             INSERT OR REPLACE INTO attendance (student_id, lesson_id, status) \
             SELECT {ill}, id, 'ill' FROM lessons WHERE class_id = {c} \
               AND date = '2026-11-24' AND group_id IS NULL AND cancelled = 0;",
            c = class[0]
        ),
    );

    // Before the batch: the boards show the day at once, no diary file changes.
    let out = build_at(&site, "2026-11-24 16:00");
    assert!(out.contains("2026-11-24 20:00"), "{out}");
    let held = tree(&site.join("public"));
    assert_eq!(
        diary_files_of(&held),
        diary_files_of(&before),
        "diaries held until the batch"
    );
    let boards = changed_outside_diary(&before, &held);
    assert!(
        boards.iter().any(|p| held[p]
            .windows("Упражнения 301–305".len())
            .any(|w| w == "Упражнения 301–305".as_bytes())),
        "a board shows the day's homework: {boards:?}"
    );
    assert!(
        boards.iter().all(|p| p.ends_with(".html")
            || p.ends_with(".xml")
            || p.ends_with(".ics")
            || p.ends_with(".json")),
        "{boards:?}"
    );

    // At the batch: every now chunk changes (fresh nonces), nothing else under diary/.
    build_at(&site, "2026-11-24 20:05");
    let batch = tree(&site.join("public"));
    assert_eq!(
        changed_outside_diary(&held, &batch),
        BTreeSet::new(),
        "the boards changed at 16:00 already"
    );
    let diary_before = diary_files_of(&before);
    let diary_batch = diary_files_of(&batch);
    let kinds = changes_by_kind(&diary_before, &diary_batch, &owners);
    let n = diaries.len();
    assert_eq!(kinds["now"], (n, 0), "every now chunk is sealed again");
    assert_eq!(kinds["slot"].0, 0, "no slot changes");
    assert!(kinds["slot"].1 > 0);
    for part in ["term-2026-09-01", "term-2026-11-05"] {
        assert_eq!(kinds[part], (0, n), "{part} stays byte for byte");
    }
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    for path in batch.keys().filter(|p| p.starts_with("diary/")) {
        if !path.starts_with("diary/k/") && !path.starts_with("diary/c/") {
            assert_eq!(batch[path], before[path], "{path}");
        }
    }
    // The pupil's now chunk shows the new marks and the other's the absence.
    let after = independent::published_diaries(&site);
    let now = &after[&marked].now.html;
    assert_eq!(
        independent::marks(&day_of(now, "2026-11-24")),
        marks_before + lessons,
        "the day's marks in the now chunk"
    );
    assert!(now.contains("Повторение: десятичные дроби"));
    assert!(
        independent::count(
            &day_of(&after[&ill].now.html, "2026-11-24"),
            "span",
            "att-ill"
        ) >= lessons
    );

    // A batch with nothing changed changes nothing.
    build_at(&site, "2026-11-24 21:30");
    assert_eq!(diary_files(&site), diary_batch);

    // `--now` publishes at once, group by group as a batch does.
    sql(
        &site,
        "UPDATE marks SET value = '4' WHERE id = (SELECT max(id) FROM marks);",
    );
    diary()
        .env("DIARY_TODAY", "2026-11-24 21:40")
        .arg("-C")
        .arg(&site)
        .args(["build", "--now"])
        .assert()
        .success();
    let kinds = changes_by_kind(&diary_batch, &diary_files(&site), &owners);
    assert_eq!(kinds["now"], (n, 0));
    assert_eq!(kinds["slot"].0, 0);
    assert_eq!(kinds["term-2026-09-01"], (0, n));
}

/// The HTML of one day's section (`section.day` holding `<time datetime=date>`).
fn day_of(html: &str, date: &str) -> String {
    let tags = independent::start_tags(html);
    let time = tags
        .iter()
        .position(|t| t.name == "time" && t.attr("datetime") == Some(date))
        .unwrap_or_else(|| panic!("no day {date}"));
    let day = tags[..time]
        .iter()
        .rev()
        .find(|t| t.is("section", "day"))
        .expect("a day section");
    independent::element(html, day)
}

/// A mark entered late for a closed term (a lesson of October) changes, at the next batch,
/// every chunk of that term and no chunk of another earlier part.
#[test]
fn a_late_mark_in_a_closed_term_changes_that_terms_chunks_only() {
    let (_tmp, site) = site_with_codes(40);
    build_at(&site, "2026-11-24 15:30");
    let before = diary_files(&site);
    let diaries = independent::published_diaries(&site);
    let owners = independent::chunk_owners(&diaries);
    let n = diaries.len();
    let lesson = query(
        &site,
        "SELECT s.id, l.id FROM lessons l JOIN students s ON s.class_id = l.class_id \
         JOIN classes c ON c.id = l.class_id \
         WHERE c.grade = 6 AND l.group_id IS NULL AND l.date = '2026-10-05' AND l.cancelled = 0 \
         ORDER BY s.id, l.number LIMIT 1",
    )[0]
    .clone();
    let pupil = lesson[0].clone();
    let marks_before = independent::marks(&diaries[&pupil].part("term-2026-09-01").html);
    sql(
        &site,
        &format!(
            "INSERT INTO marks (student_id, lesson_id, work_type_id, value, is_debt) \
             VALUES ({pupil}, {}, 1, '2', 0);",
            lesson[1]
        ),
    );
    build_at(&site, "2026-11-24 16:00");
    assert_eq!(diary_files(&site), before, "held until the batch");
    build_at(&site, "2026-11-24 20:05");
    let kinds = changes_by_kind(&before, &diary_files(&site), &owners);
    assert_eq!(
        kinds["term-2026-09-01"],
        (n, 0),
        "all of term 1, sealed again"
    );
    assert_eq!(kinds["term-2026-11-05"], (0, n), "term 2 untouched");
    assert_eq!(kinds["slot"].0, 0);
    // The now chunk shows term 1's average, which a new 2 changes: the now group is
    // sealed again too.
    assert_eq!(kinds["now"], (n, 0));
    let after = independent::published_diaries(&site);
    assert_eq!(
        independent::marks(&after[&pupil].part("term-2026-09-01").html),
        marks_before + 1
    );
}

/// A build in a later term lists every earlier part, and each opens.
#[test]
fn a_build_in_a_later_term_adds_its_parts() {
    let (_tmp, site) = site_with_codes(24);
    let public = site.join("public");
    let november = independent::published_diaries(&site);
    let rows = codes(&site);
    let child = child_of_row(&public, &rows[0]);
    let names =
        |d: &Diary| -> Vec<String> { d.parts.iter().map(|(p, _)| p.name.clone()).collect() };
    let first = independent::open_diary(&public, &child);
    assert_eq!(names(&first), ["term-2026-09-01", "term-2026-11-05"]);

    build_at(&site, "2027-05-24 16:00");
    let may = independent::published_diaries(&site);
    assert_eq!(may.len(), november.len(), "the same diaries");
    let diary = independent::open_diary(&public, &child);
    let parts: Vec<(String, String, String)> = diary
        .parts
        .iter()
        .map(|(p, _)| (p.name.clone(), p.first.clone(), p.last.clone()))
        .collect();
    let part = |n: &str, f: &str, l: &str| (n.to_string(), f.to_string(), l.to_string());
    assert_eq!(
        parts,
        [
            part("term-2026-09-01", "2026-08-31", "2026-10-19"),
            part("term-2026-11-05", "2026-11-02", "2026-12-21"),
            part("term-2027-01-11", "2027-01-11", "2027-03-15"),
            part("term-2027-03-29", "2027-03-29", "2027-05-17"),
        ]
    );
    assert_eq!(independent::built(&diary.now.html), "2027-05-24");
    assert_eq!(
        independent::weeks(&diary.now.html).first(),
        Some(&("2027-05-24".to_string(), true))
    );
    for (part, chunk) in &diary.parts {
        let weeks = independent::weeks(&chunk.html);
        assert_eq!(
            weeks.first().map(|w| w.0.as_str()),
            Some(part.first.as_str())
        );
        assert_eq!(weeks.last().map(|w| w.0.as_str()), Some(part.last.as_str()));
    }
    // Every diary lists the four parts, each opened (published_diaries opens them all).
    for d in may.values() {
        assert_eq!(names(d).len(), 4);
    }
    // Term 2 is whole now; term 1 is the same part as in November.
    assert_eq!(
        diary.part("term-2026-09-01").html,
        first.part("term-2026-09-01").html
    );
}

/// Builds as of a moment; returns what the build printed.
fn build_at(site: &Path, moment: &str) -> String {
    let out = diary()
        .env("DIARY_TODAY", moment)
        .arg("-C")
        .arg(site)
        .arg("build")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

/// The slot and chunk files of a site.
fn diary_files(site: &Path) -> BTreeMap<String, Vec<u8>> {
    diary_files_of(&tree(&site.join("public")))
}

fn diary_files_of(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .filter(|(p, _)| p.starts_with("diary/c/") || p.starts_with("diary/k/"))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect()
}

/// Whether a child's page key (as a slot once gave it) opens any chunk file of the site,
/// under any of `names`.
fn key_opens_a_chunk(public: &Path, child: &Child, names: &[String]) -> bool {
    let keys: Vec<independent::ChunkKey> = names.iter().map(|n| child.chunk_key(n)).collect();
    independent::chunk_files(public).iter().any(|path| {
        let file = std::fs::read(public.join(path)).unwrap();
        keys.iter()
            .any(|k| independent::open(&k.key, &k.info, &file).is_some())
    })
}

/// The names of a diary's chunks.
fn chunk_names(diary: &Diary) -> Vec<String> {
    diary.chunks().map(|c| c.name.clone()).collect()
}

/// The full names of the children a code opens, read from their now chunks.
fn opened_names(public: &Path, code: &str, names: &[String]) -> BTreeSet<String> {
    let (_, slot) = independent::open_slot(public, code);
    independent::children(&slot)
        .iter()
        .map(|child| {
            let html = independent::open_chunk(public, child, "now").html;
            // The longest name the page shows (a name may be the start of a longer one).
            names
                .iter()
                .filter(|n| html.contains(n.as_str()))
                .max_by_key(|n| n.len())
                .cloned()
                .unwrap_or_else(|| {
                    panic!(
                        "a diary names no pupil: {}",
                        html.chars().take(200).collect::<String>()
                    )
                })
        })
        .collect()
}

/// The code of a holder that opens a pupil, from `codes list`.
fn code_of(site: &Path, holder: &str, student_id: &str) -> String {
    codes(site)
        .into_iter()
        .find(|r| r["holder"] == holder && r["student_id"] == student_id && r["status"] == "active")
        .unwrap_or_else(|| panic!("no code of {holder} for pupil {student_id}"))["code"]
        .clone()
}

fn guardian_name(site: &Path, id: &str) -> String {
    query(
        site,
        &format!(
            "SELECT last_name || ' ' || first_name || coalesce(' ' || middle_name, '') \
             FROM guardians WHERE id = {id}"
        ),
    )[0][0]
        .clone()
}

fn pupil_names(site: &Path) -> Vec<String> {
    query(
        site,
        "SELECT last_name || ' ' || first_name || coalesce(' ' || middle_name, '') FROM students",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

#[test]
fn unlink_then_revoke_leaves_the_old_key_nothing_to_open() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    // A guardian of one child who has another guardian too.
    let pick = query(
        &site,
        "SELECT sg.guardian_id, sg.student_id FROM student_guardians sg \
         WHERE (SELECT count(*) FROM student_guardians x WHERE x.student_id = sg.student_id) >= 2 \
         AND (SELECT count(*) FROM student_guardians y WHERE y.guardian_id = sg.guardian_id) = 1 \
         ORDER BY sg.student_id LIMIT 1",
    );
    let (guardian, pupil) = (pick[0][0].clone(), pick[0][1].clone());
    let code = code_of(&site, &guardian_name(&site, &guardian), &pupil);
    let (_, slot) = independent::open_slot(&public, &code);
    let seen = independent::children(&slot)[0].clone();
    let old = independent::open_diary(&public, &seen);
    let names = chunk_names(&old);
    assert_eq!(names.len(), 3, "now and two earlier parts: {names:?}");
    assert!(key_opens_a_chunk(&public, &seen, &names));

    // Custody changes: the link goes first, then the code.
    sql(
        &site,
        &format!(
            "DELETE FROM student_guardians WHERE guardian_id = {guardian} AND student_id = {pupil}"
        ),
    );
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", &code])
        .assert()
        .success()
        .stderr(predicate::str::contains("gives 1 diary new keys"));
    build_at(&site, "2026-11-23 16:00");
    for chunk in old.chunks() {
        assert!(!public.join(&chunk.path).exists(), "{} is gone", chunk.name);
    }
    assert!(
        !key_opens_a_chunk(&public, &seen, &names),
        "the key he saw opens no current chunk"
    );
    // The other guardian still opens the child.
    let other = query(
        &site,
        &format!("SELECT guardian_id FROM student_guardians WHERE student_id = {pupil} LIMIT 1"),
    )[0][0]
        .clone();
    let other_code = code_of(&site, &guardian_name(&site, &other), &pupil);
    let name = query(
        &site,
        &format!("SELECT last_name || ' ' || first_name || coalesce(' ' || middle_name, '') FROM students WHERE id = {pupil}"),
    )[0][0]
        .clone();
    assert!(opened_names(&public, &other_code, &pupil_names(&site)).contains(&name));
}

#[test]
fn unlinking_a_child_gives_it_new_keys() {
    let (_tmp, site) = site_with_codes(60);
    let public = site.join("public");
    // A guardian with two children or more; one of them is unlinked.
    let pick = query(
        &site,
        "SELECT guardian_id, min(student_id) FROM student_guardians GROUP BY guardian_id \
         HAVING count(*) >= 2 ORDER BY guardian_id LIMIT 1",
    );
    let (guardian, pupil) = (pick[0][0].clone(), pick[0][1].clone());
    let holder = guardian_name(&site, &guardian);
    let code = code_of(&site, &holder, &pupil);
    let names = pupil_names(&site);
    let (_, slot) = independent::open_slot(&public, &code);
    let before = opened_names(&public, &code, &names);
    assert!(before.len() >= 2);
    let name = query(
        &site,
        &format!("SELECT last_name || ' ' || first_name || coalesce(' ' || middle_name, '') FROM students WHERE id = {pupil}"),
    )[0][0]
        .clone();
    let seen = independent::children(&slot)
        .into_iter()
        .find(|c| name.contains(c.name.as_str()))
        .unwrap();
    let chunks = chunk_names(&independent::open_diary(&public, &seen));

    sql(
        &site,
        &format!(
            "DELETE FROM student_guardians WHERE guardian_id = {guardian} AND student_id = {pupil}"
        ),
    );
    let out = build_at(&site, "2026-11-23 16:00");
    assert!(out.contains("got new keys"), "{out}");
    assert!(!key_opens_a_chunk(&public, &seen, &chunks));
    let after = opened_names(&public, &code, &names);
    let mut expected = before.clone();
    expected.remove(&name);
    assert_eq!(after, expected, "the code still opens the other children");
}

#[test]
fn a_journal_with_new_ids_for_the_same_people_keeps_every_code() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    let names = pupil_names(&site);
    let list = codes(&site);
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &list {
        expected
            .entry(r["code"].clone())
            .or_default()
            .insert(r["student_name"].clone());
    }
    let chunks_before = independent::chunk_files(&public);
    assert!(!chunks_before.is_empty());

    // Everyone numbered anew, links kept.
    sql(
        &site,
        "UPDATE students SET id = id + 100000; UPDATE guardians SET id = id + 100000; \
         UPDATE student_guardians SET student_id = student_id + 100000, guardian_id = guardian_id + 100000; \
         UPDATE group_students SET student_id = student_id + 100000; \
         UPDATE marks SET student_id = student_id + 100000; \
         UPDATE attendance SET student_id = student_id + 100000; \
         UPDATE period_marks SET student_id = student_id + 100000; \
         UPDATE remarks SET student_id = student_id + 100000;",
    );
    let out = build_at(&site, "2026-11-23 16:00");
    assert!(!out.contains("new keys"), "{out}");
    for (code, children) in &expected {
        assert_eq!(
            &opened_names(&public, code, &names),
            children,
            "code {code}"
        );
    }
    assert_eq!(
        chunks_before,
        independent::chunk_files(&public),
        "no child got new keys"
    );
}

#[test]
fn two_guardians_swapped_under_the_same_ids_are_refused() {
    let (_tmp, site) = site_with_codes(40);
    let before = tree(&site.join("public"));
    // Two guardians of one child each, of two different children.
    let one_child = query(
        &site,
        "SELECT guardian_id, min(student_id) FROM student_guardians GROUP BY guardian_id \
         HAVING count(*) = 1 ORDER BY guardian_id",
    );
    let first = one_child[0].clone();
    let second = one_child
        .iter()
        .find(|r| r[1] != first[1])
        .expect("two families")
        .clone();
    let pick = [first, second];
    let (a, b) = (pick[0][0].clone(), pick[1][0].clone());
    let code_a = code_of(&site, &guardian_name(&site, &a), &pick[0][1]);
    let code_b = code_of(&site, &guardian_name(&site, &b), &pick[1][1]);
    sql(
        &site,
        &format!(
            "UPDATE guardians SET id = -1 WHERE id = {a}; \
             UPDATE guardians SET id = {a} WHERE id = {b}; \
             UPDATE guardians SET id = {b} WHERE id = -1;"
        ),
    );
    let stderr = refused(&site, &["build"], &["no longer match the people"]);
    for code in [&code_a, &code_b] {
        let tail = &code[code.len() - 4..];
        assert!(stderr.contains(&format!("…{tail}")), "{stderr}");
        assert!(
            stderr.contains(&format!("diary codes confirm {tail}")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("diary codes revoke {tail}")),
            "{stderr}"
        );
        assert!(
            !stderr.contains(code.as_str()),
            "the whole code is never shown"
        );
    }
    assert_eq!(before, tree(&site.join("public")), "public/ untouched");

    // After a confirmation of each, the build goes on, with the journal as it is now.
    for code in [&code_a, &code_b] {
        diary()
            .arg("-C")
            .arg(&site)
            .args(["codes", "confirm", &code[code.len() - 4..]])
            .assert()
            .success()
            .stderr(predicate::str::contains("confirmed"));
    }
    build_at(&site, "2026-11-23 16:00");
}

#[test]
fn a_store_of_another_site_is_refused_and_public_stays() {
    let (tmp, site) = site_with_codes(20);
    let before = tree(&site.join("public"));
    // Another site's well-formed store, as a wrong backup would bring it back.
    let other = tmp.path().join("other");
    diary()
        .args([
            "init",
            other.to_str().unwrap(),
            "--demo",
            "--students",
            "20",
        ])
        .assert()
        .success();
    cheap_codes(&other);
    issue_codes(&other, None);
    std::fs::remove_dir_all(site.join(".diary")).unwrap();
    copy_dir(&other.join(".diary"), &site.join(".diary"));
    for args in [&["build"][..], &["codes", "issue"]] {
        refused(&site, args, &["not the one that sealed", "backup"]);
    }
    assert_eq!(before, tree(&site.join("public")));
}

#[test]
fn losing_a_tenth_of_the_diaries_needs_force() {
    let (_tmp, site) = site_with_codes(60);
    let before = tree(&site.join("public"));
    // A bad import loses the guardians of the upper grades.
    sql(
        &site,
        "DELETE FROM student_guardians WHERE student_id IN \
           (SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id WHERE c.grade >= 8);",
    );
    refused(&site, &["build"], &["more than a tenth", "--force"]);
    assert_eq!(before, tree(&site.join("public")));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["build", "--force"])
        .assert()
        .success();
}

#[cfg(unix)]
#[test]
fn the_store_stays_private_whatever_was_left_in_its_folder() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, site) = demo_site(20);
    let store = site.join(".diary");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o755)).unwrap();
    for leftover in ["store.json.tmp", ".tmp-store"] {
        std::fs::write(store.join(leftover), "{}").unwrap();
        std::fs::set_permissions(store.join(leftover), std::fs::Permissions::from_mode(0o644))
            .unwrap();
    }
    issue_codes(&site, None);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store.join("store.json")), 0o600);
    assert_eq!(mode(&store), 0o700);

    // A store made readable by others afterwards is reported by `check` and the build.
    std::fs::set_permissions(
        store.join("store.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .arg("check")
        .assert()
        .stdout(predicate::str::contains("can be read by other users"));
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .assert()
        .success()
        .stderr(predicate::str::contains("can be read by other users"));
}

/// Every chunk of one name (a kind) has one size across the school, the largest of the
/// kind rounded up to 1024; every slot has one size too.
#[test]
fn every_chunk_kind_has_one_size_and_every_slot_another() {
    let (_tmp, site) = site_with_codes(60);
    let diaries = independent::published_diaries(&site);
    let mut kinds: BTreeMap<String, Vec<&independent::Chunk>> = BTreeMap::new();
    for d in diaries.values() {
        for chunk in d.chunks() {
            kinds.entry(chunk.name.clone()).or_default().push(chunk);
        }
    }
    assert_eq!(
        kinds.keys().collect::<Vec<_>>(),
        ["now", "term-2026-09-01", "term-2026-11-05"]
    );
    for (name, chunks) in &kinds {
        assert_eq!(chunks.len(), diaries.len(), "one {name} chunk per diary");
        let sizes: BTreeSet<usize> = chunks.iter().map(|c| c.file_len).collect();
        assert_eq!(sizes.len(), 1, "{name} sizes {sizes:?}");
        let largest = chunks.iter().map(|c| 4 + c.gzip_len).max().unwrap();
        assert_eq!(
            *sizes.first().unwrap(),
            12 + largest.div_ceil(1024) * 1024 + 16,
            "{name}: the largest of the kind rounded up to 1024"
        );
        let lens: BTreeSet<usize> = chunks.iter().map(|c| c.gzip_len).collect();
        assert!(lens.len() > 1, "{name}: the diaries differ inside");
    }
    let slots: BTreeSet<usize> = diary_files(&site)
        .iter()
        .filter(|(p, _)| p.starts_with("diary/k/"))
        .map(|(_, b)| b.len())
        .collect();
    assert_eq!(slots.len(), 1, "slot sizes {slots:?}");
    // docs/access.md: 512 bytes while every slot's JSON fits (families here have one or two
    // children).
    assert_eq!(*slots.first().unwrap(), 12 + 512 + 16);
    // The school has first-graders, families of one and of two children: all the same.
    let children: BTreeSet<usize> = codes(&site)
        .iter()
        .fold(BTreeMap::<String, usize>::new(), |mut m, r| {
            *m.entry(r["code"].clone()).or_default() += 1;
            m
        })
        .into_values()
        .collect();
    assert!(
        children.contains(&1) && children.contains(&2),
        "{children:?}"
    );
}

#[test]
fn a_store_of_version_1_keeps_every_code_and_page() {
    let (_tmp, site) = site_with_codes(30);
    let public = site.join("public");
    let names = pupil_names(&site);
    let list = codes(&site);
    let chunks_before = independent::chunk_files(&public);
    assert!(!chunks_before.is_empty());
    // The same store as version 1 wrote it: pages and holders by journal id.
    let path = site.join(".diary/store.json");
    let v2: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let people = v2["people"].as_object().unwrap();
    let row = |pid: &str| people[pid]["row"].as_i64().unwrap().to_string();
    let pages: serde_json::Map<String, serde_json::Value> = v2["pages"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(pid, keys)| (row(pid), keys.clone()))
        .collect();
    let codes_v1: Vec<serde_json::Value> = v2["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let holder = c["holder"].to_string();
            serde_json::json!({
                "code": c["code"], "slot": c["slot"], "kek": c["kek"],
                "holder": {"kind": people[&holder]["kind"], "id": row(&holder).parse::<i64>().unwrap()},
                "issued_at": c["issued_at"],
            })
        })
        .collect();
    let v1 = serde_json::json!({
        "v": 1, "salt": v2["salt"], "iterations": v2["iterations"], "hash_key": v2["hash_key"],
        "pages": pages, "codes": codes_v1,
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&v1).unwrap()).unwrap();
    build_at(&site, "2026-11-23 16:00");
    let upgraded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(upgraded["v"], 2);
    assert_eq!(
        chunks_before,
        independent::chunk_files(&public),
        "every child keeps its page key"
    );
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &list {
        expected
            .entry(r["code"].clone())
            .or_default()
            .insert(r["student_name"].clone());
    }
    for (code, children) in expected.iter().take(5) {
        assert_eq!(&opened_names(&public, code, &names), children);
    }
}

#[test]
fn revocation_drops_the_slot_and_rekeys_the_children() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    let rows = codes(&site);
    let code = rows[0]["code"].clone();
    let (slot, content) = independent::open_slot(&public, &code);
    let old_child = independent::children(&content)[0].clone();
    let old_page = old_child.page.clone();
    let old = independent::open_diary(&public, &old_child);
    let old_names = chunk_names(&old);
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", &code.to_lowercase()])
        .assert()
        .success();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    assert!(!public.join(format!("diary/k/{slot}.bin")).exists());
    for chunk in old.chunks() {
        assert!(!public.join(&chunk.path).exists(), "{} is gone", chunk.name);
    }
    assert!(!key_opens_a_chunk(&public, &old_child, &old_names));
    // Other holders of the same child still open it, under the new page id.
    let others: Vec<_> = codes(&site)
        .into_iter()
        .filter(|r| r["student_id"] == rows[0]["student_id"] && r["status"] == "active")
        .collect();
    for other in others {
        let (_, c) = independent::open_slot(&public, &other["code"]);
        let pages: Vec<&str> = c["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ch| ch["page"].as_str().unwrap())
            .collect();
        assert!(!pages.contains(&old_page.as_str()));
    }
    assert!(
        codes(&site)
            .iter()
            .any(|r| r["code"] == code && r["status"].starts_with("revoked"))
    );
    // Revoking again, or a code of another site, is refused.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", &code])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already revoked"));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", "0000-0000-0000-0000"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not issued by this site"));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", "ABCD-EFGH-UUUU-1234"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a code"));
}

#[test]
fn a_lost_or_damaged_store_stops_the_build() {
    let (_tmp, site) = site_with_codes(20);
    let before = tree(&site.join("public"));
    std::fs::rename(site.join(".diary"), site.join("store-backup")).unwrap();
    for args in [&["build"][..], &["codes", "issue"]] {
        refused(&site, args, &["is missing", "backup"]);
    }
    assert_eq!(before, tree(&site.join("public")));
    assert!(!site.join(".diary").exists(), "no new store was made");

    std::fs::create_dir(site.join(".diary")).unwrap();
    std::fs::write(site.join(".diary/store.json"), "{ damaged").unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("damaged"));
    assert_eq!(before, tree(&site.join("public")));
}

#[test]
fn grade_one_diaries_show_no_marks() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    let row = codes(&site)
        .into_iter()
        .find(|r| {
            let mut chars = r["class"].chars();
            chars.next() == Some('1') && chars.next().is_some_and(|c| !c.is_ascii_digit())
        })
        .expect("a first-grader");
    let (_, slot) = independent::open_slot(&public, &row["code"]);
    let child = slot["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| row["student_name"].contains(c["name"].as_str().unwrap()))
        .map(Child::of)
        .unwrap();
    let diary = independent::open_diary(&public, &child);
    assert_eq!(diary.parts.len(), 2, "now and two earlier parts");
    let term1 = &diary.part("term-2026-09-01").html;
    assert_eq!(
        independent::weeks(term1).len(),
        8,
        "term 1's weeks, with lessons"
    );
    assert!(
        independent::count(term1, "li", "lesson") > 50,
        "term 1's lessons"
    );
    for chunk in diary.chunks() {
        assert_eq!(
            independent::marks(&chunk.html),
            0,
            "grade 1 shows marks in {}",
            chunk.name
        );
        assert!(!chunk.html.contains("marks-table"), "{}", chunk.name);
        assert!(
            !chunk.html.contains("data-takes"),
            "no \"what it takes\" data in grade 1: {}",
            chunk.name
        );
    }
    // The same reading finds marks in a fifth-grader's diary.
    let fifth = codes(&site)
        .into_iter()
        .find(|r| r["class"].starts_with('5'))
        .expect("a fifth-grader");
    let fifth = independent::open_diary(&public, &child_of_row(&public, &fifth));
    assert!(independent::marks(&fifth.part("term-2026-09-01").html) > 0);
    assert!(fifth.now.html.contains("marks-table"));
    // "What it takes": the rules once, on the current term, and the subjects' marks on
    // their rows, in the `now` chunk only.
    assert_eq!(fifth.now.html.matches("data-takes-rules=").count(), 1);
    assert!(fifth.now.html.matches("data-takes=").count() > 3);
    for chunk in fifth.chunks().filter(|c| c.name != "now") {
        assert!(!chunk.html.contains("data-takes"), "{}", chunk.name);
    }
}

#[test]
fn the_build_writes_the_headers_a_host_should_send() {
    let (_tmp, site) = site_with_codes(20);
    let headers = std::fs::read_to_string(site.join("public/_headers")).unwrap();
    for needle in [
        "/*\n",
        "frame-ancestors 'none'",
        "X-Content-Type-Options: nosniff",
        "X-Frame-Options: DENY",
        "Referrer-Policy: no-referrer",
        "Strict-Transport-Security: max-age=",
        "/diary/*\n  Cache-Control: no-cache",
    ] {
        assert!(headers.contains(needle), "{needle:?} in {headers}");
    }
    // docs/operations.md gives the same headers for nginx.
    let ops = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"),
    )
    .unwrap();
    for line in headers
        .lines()
        .filter(|l| l.starts_with("  ") && !l.contains("Cache-Control"))
    {
        let (name, value) = line.trim().split_once(": ").unwrap();
        assert!(
            ops.contains(&format!("add_header {name} \"{value}\" always;")),
            "docs/operations.md gives nginx the header {name}: {value}"
        );
    }
}

#[test]
fn the_demo_gives_demo_codes_that_open_diaries_and_never_a_real_journal() {
    let (_tmp, site) = common::empty_site();
    let run_demo = || {
        let out = diary()
            .arg("-C")
            .arg(&site)
            .args(["demo", "--no-serve", "--students", "40"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let first = run_demo();
    let links: Vec<&str> = first.lines().filter(|l| l.contains("#c=")).collect();
    assert_eq!(links.len(), 2, "{first}");
    assert!(
        links[0].contains("children "),
        "a family with two children: {first}"
    );
    assert!(first.contains("/diary/"), "{first}");
    let params: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("public/diary/params.json")).unwrap())
            .unwrap();
    assert_eq!(
        params["iterations"], 100_000,
        "demo codes are quick to open"
    );
    let public = site.join("public");
    for link in &links {
        let code = link.rsplit("#c=").next().unwrap();
        let (_, slot) = independent::open_slot(&public, code);
        let n = slot["children"].as_array().unwrap().len();
        assert!(n >= 1);
        for child in independent::children(&slot) {
            let diary = independent::open_diary(&public, &child);
            assert!(diary.now.html.contains(child.name.as_str()));
            assert!(!diary.parts.is_empty(), "the demo's earlier parts");
        }
    }
    // Again: the same people, the same codes.
    let again = run_demo();
    let links_again: Vec<&str> = again.lines().filter(|l| l.contains("#c=")).collect();
    assert_eq!(links, links_again);

    // A real journal replaces the demo one: the demo codes are refused, not used.
    std::fs::remove_file(site.join("data/journal.sqlite")).unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["import", "csv"])
        .arg(fixture("mini-csv"))
        .assert()
        .success();
    refused(&site, &["build"], &["demo codes", "not a demo journal"]);
    refused(&site, &["codes", "issue"], &["demo codes"]);
    std::fs::remove_dir_all(site.join(".diary")).unwrap();
    std::fs::remove_dir_all(site.join("public/diary")).unwrap();
    issue_codes(&site, None);
}

/// `codes issue --pupils --from-grade 5`: each pupil from grade 5 on gets a code of their
/// own that opens their diary and nobody else's, besides their parents' codes; pupils of
/// families on paper get none; the slip says whose code it is.
#[test]
fn pupils_get_codes_of_their_own_from_a_grade_on() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    // One family of 5А on paper.
    let paper_pupil = query(
        &site,
        "SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id \
         WHERE c.name = '5А' AND EXISTS (SELECT 1 FROM student_guardians sg \
             WHERE sg.student_id = s.id) ORDER BY s.id DESC LIMIT 1",
    )[0][0]
        .clone();
    sql(
        &site,
        &format!(
            "UPDATE guardians SET delivery = 'paper' WHERE id IN \
                 (SELECT guardian_id FROM student_guardians WHERE student_id = {paper_pupil})"
        ),
    );
    let before = codes(&site).len();
    let out = diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue", "--pupils", "--from-grade", "5"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("pupil(s) of families who receive the diary on paper: no code of their own"),
        "{said}"
    );
    build_at(&site, "2026-11-23 16:00");

    let rows = codes(&site);
    assert!(rows.len() > before, "new rows for the pupils' codes");
    let own: Vec<&BTreeMap<String, String>> = rows
        .iter()
        .filter(|r| r["holder_kind"] == "pupil" && r["status"] == "active")
        .collect();
    let grade_of = |id: &str| -> i64 {
        query(
            &site,
            &format!(
                "SELECT c.grade FROM students s JOIN classes c ON c.id = s.class_id \
                 WHERE s.id = {id}"
            ),
        )[0][0]
            .parse()
            .unwrap()
    };
    let has_guardians = |id: &str| -> bool {
        query(
            &site,
            &format!("SELECT count(*) FROM student_guardians WHERE student_id = {id}"),
        )[0][0]
            != "0"
    };
    // Every pupil from grade 5 on (not on paper) has one; below it only pupils without
    // guardians, whose code has always been their own.
    let from_five = query(
        &site,
        &format!(
            "SELECT count(*) FROM students s JOIN classes c ON c.id = s.class_id \
             WHERE c.grade >= 5 AND s.id != {paper_pupil}"
        ),
    )[0][0]
        .parse::<usize>()
        .unwrap();
    let with_guardians_own: Vec<_> = own
        .iter()
        .filter(|r| has_guardians(&r["student_id"]))
        .collect();
    assert_eq!(with_guardians_own.len(), from_five, "one code per pupil");
    for r in &with_guardians_own {
        assert!(grade_of(&r["student_id"]) >= 5, "{r:?}");
        assert_ne!(r["student_id"], paper_pupil, "a family on paper");
    }

    // A pupil's code opens their own diary only; their parent's code still opens it.
    let pupil = &with_guardians_own[0];
    let names = pupil_names(&site);
    assert_eq!(
        opened_names(&public, &pupil["code"], &names),
        BTreeSet::from([pupil["student_name"].clone()])
    );
    let parent = rows
        .iter()
        .find(|r| {
            r["holder_kind"] == "guardian"
                && r["student_id"] == pupil["student_id"]
                && r["status"] == "active"
        })
        .expect("the parent's code");
    assert!(opened_names(&public, &parent["code"], &names).contains(&pupil["student_name"]));

    // Running it again issues nothing new.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue", "--pupils", "--from-grade", "5"])
        .assert()
        .success()
        .stderr(predicate::str::contains("issued 0 new code(s)"));

    // The slips of 5А: the pupil's own says so.
    let class = query(
        &site,
        &format!(
            "SELECT c.name FROM students s JOIN classes c ON c.id = s.class_id \
             WHERE s.id = {}",
            pupil["student_id"]
        ),
    )[0][0]
        .clone();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "print", "--class", &class])
        .assert()
        .success();
    let slips = std::fs::read_dir(site.join("print"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("codes-"))
        .unwrap();
    let html = std::fs::read_to_string(slips).unwrap();
    let slip = html
        .split("<section class=\"slip\">")
        .find(|s| s.contains(&pupil["code"]))
        .expect("the pupil's slip");
    assert!(slip.contains("Код ученика"), "{slip}");
    assert!(
        slip.contains("Это личный код самого ученика: он открывает только его дневник. У родителей — свой код."),
        "{slip}"
    );
    let parents = html
        .split("<section class=\"slip\">")
        .find(|s| s.contains(&parent["code"]))
        .expect("the parent's slip");
    assert!(parents.contains("Код родителя (законного представителя)"));
    assert!(!parents.contains("личный код самого ученика"));

    // --from-grade needs --pupils, and a grade 1–11 (usage errors).
    for (args, needle) in [
        (&["--from-grade", "5"][..], "--pupils"),
        (
            &["--pupils", "--from-grade", "12"][..],
            "12 is not in 1..=11",
        ),
    ] {
        diary()
            .arg("-C")
            .arg(&site)
            .args(["codes", "issue"])
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
}

/// A school-wide announcement (a parent meeting) reaches every family: it is inside a
/// child's sealed diary (its `now` chunk), read back with the independent decryption.
#[test]
fn a_school_announcement_is_in_the_sealed_diary() {
    let (_tmp, site) = site_with_codes(24);
    std::fs::write(
        site.join("content/2026-11-23-parent-meeting.md"),
        "+++\ntitle = \"Общешкольное родительское собрание 27 ноября\"\n\
         date = \"2026-11-23 09:00\"\naudience = \"school\"\nauthor = \"Администрация\"\n+++\n\
         Собрание в актовом зале в 18:00.\n",
    )
    .unwrap();
    // At once, not at the next diary batch.
    diary()
        .env("DIARY_TODAY", "2026-11-23 16:00")
        .arg("-C")
        .arg(&site)
        .args(["build", "--now"])
        .assert()
        .success();
    let public = site.join("public");
    let code = &codes(&site)
        .into_iter()
        .find(|r| r["status"] == "active" && !r["student_id"].is_empty())
        .expect("an active code")["code"];
    let (_, slot) = independent::open_slot(&public, code);
    let child = &independent::children(&slot)[0];
    let diary = independent::open_diary(&public, child);
    assert!(
        diary
            .now
            .html
            .contains("Общешкольное родительское собрание 27 ноября"),
        "the school's announcement in the child's now chunk"
    );
    for (part, chunk) in &diary.parts {
        assert!(
            !chunk.html.contains("родительское собрание 27 ноября"),
            "{}",
            part.name
        );
    }
}

/// The first build after version 1 publishes at once, whatever the batch: the page files of
/// version 1 go, every slot is sealed again (saying `"v":2`), and slots may get smaller
/// than version 1's 2048 bytes. A version 1 site is made here from a v2 one by giving its
/// manifest what version 1 left: a page file and the old slot size.
#[test]
fn the_first_build_after_version_1_moves_everything_at_once() {
    let (_tmp, site) = site_with_codes(20);
    build_at(&site, "2026-11-24 16:00");
    let before = diary_files(&site);
    let manifest_path = site.join(".diary/manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let v1_page = "diary/p/00112233445566778899aabbccddeeff.bin";
    manifest["files"][v1_page] = serde_json::json!("0".repeat(64));
    manifest["slot_size"] = serde_json::json!(2048);
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    std::fs::create_dir_all(site.join("public/diary/p")).unwrap();
    std::fs::write(site.join("public").join(v1_page), [0u8; 4124]).unwrap();

    // Ten minutes later, in the same batch: a v2 site would publish nothing new.
    let stderr = build_at(&site, "2026-11-24 16:10");
    assert!(
        !stderr.contains("as published at the last batch"),
        "{stderr}"
    );
    assert!(!site.join("public").join(v1_page).exists(), "v1 pages go");
    let after = diary_files(&site);
    let slots: Vec<&String> = after.keys().filter(|p| p.starts_with("diary/k/")).collect();
    assert!(!slots.is_empty());
    for slot in slots {
        assert_ne!(before[slot], after[slot], "{slot} sealed again");
        assert_eq!(
            after[slot].len(),
            12 + 512 + 16,
            "{slot}: back to 512 bytes"
        );
    }
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(saved["slot_size"], 512);
    assert!(saved["files"].get(v1_page).is_none());
}

/// A site's own `diary_child.html` from before the marks by period moved into the code:
/// the build stops with a message that says what to write instead, and publishes nothing.
#[test]
fn an_old_diary_template_is_told_where_the_marks_went() {
    let (_tmp, site) = site_with_codes(24);
    let build = || {
        diary()
            .env("DIARY_TODAY", "2026-11-23 16:00")
            .arg("-C")
            .arg(&site)
            .args(["build", "--now"])
            .output()
            .unwrap()
    };
    assert!(build().status.success());
    let before = tree(&site.join("public"));
    std::fs::create_dir_all(site.join("templates")).unwrap();
    std::fs::write(
        site.join("templates/diary_child.html"),
        "<article>{% for p in periods %}<h3>{{ p.name }}</h3>{% endfor %}</article>",
    )
    .unwrap();
    let out = build();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("diary_child.html"), "{stderr}");
    assert!(stderr.contains("{{ periods_html | safe }}"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(before, tree(&site.join("public")));
}
