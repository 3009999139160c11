//! End to end: `diary init --demo`, `check`, `build`, and every kind of bad input.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use predicates::prelude::*;

#[test]
fn demo_site_checks_and_builds() {
    let (_tmp, site) = demo_site(120);
    diary()
        .arg("-C")
        .arg(&site)
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains("0 error(s)"));
    diary().arg("-C").arg(&site).arg("build").assert().success();

    let public = tree(&site.join("public"));
    let index = String::from_utf8(public["index.html"].clone()).unwrap();
    assert!(index.contains("СОШ") || index.contains("школа"), "{index}");
    let homework: Vec<&String> = public
        .keys()
        .filter(|k| k.starts_with("classes/") && k.ends_with("homework/index.html"))
        .collect();
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    let classes: usize = conn
        .query_row("SELECT count(*) FROM classes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(homework.len(), classes, "one homework page per class");
    // Every class board is linked from the front page.
    for page in &homework {
        let board = page.replace("homework/index.html", "index.html");
        assert!(
            index.contains(board.as_str()),
            "index does not link {board}"
        );
    }
    // The week of 2026-11-23 shows its lessons and topics.
    let page = String::from_utf8(public[homework[homework.len() - 1]].clone()).unwrap();
    assert!(page.contains("понедельник, 23 ноября"), "{page}");
    assert!(page.contains("class=lesson"), "{page}");
}

#[test]
fn build_is_deterministic_and_rebuild_rewrites_nothing() {
    let (_tmp, site) = demo_site(60);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let first = tree(&site.join("public"));
    // Same inputs, same output: nothing to do.
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .assert()
        .success()
        .stderr(predicate::str::contains("public is up to date"));
    assert_eq!(first, tree(&site.join("public")));
    // In full, it rewrites nothing.
    diary()
        .args(["-C", site.to_str().unwrap(), "build", "--force"])
        .assert()
        .success()
        .stderr(predicate::str::contains("(0 new or changed, 0 removed)"));
    assert_eq!(first, tree(&site.join("public")));
    // A file removed from the output brings the full build back, and it puts it back.
    std::fs::remove_file(site.join("public/classes/index.html")).unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .assert()
        .success()
        .stderr(predicate::str::contains("(1 new or changed, 0 removed)"));
    assert_eq!(first, tree(&site.join("public")));
    // So does another build day.
    diary()
        .args([
            "-C",
            site.to_str().unwrap(),
            "build",
            "--today",
            "2026-11-24",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("built "));

    // The same seed makes the same school; the same school builds the same bytes.
    let (_tmp2, other) = demo_site(60);
    diary()
        .arg("-C")
        .arg(&other)
        .arg("build")
        .assert()
        .success();
    assert_eq!(first, tree(&other.join("public")));
}

/// A build takes the pages whose data did not change from the output folder instead of
/// rendering them again; what it publishes is byte for byte what a full build writes.
#[test]
fn unchanged_pages_are_kept_and_equal_a_full_build() {
    let (_tmp, site) = demo_site(60);
    let build = |site: &Path, extra: &[&str]| -> String {
        let out = diary()
            .args(["-C", site.to_str().unwrap(), "build", "--timings"])
            .args(["--today", "2026-11-23"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let counts = |stderr: &str| -> (usize, usize) {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("pages: "))
            .unwrap_or_else(|| panic!("no page counts in {stderr}"));
        let n: Vec<usize> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse().ok())
            .collect();
        (n[0], n[1])
    };
    let (rendered, kept) = counts(&build(&site, &[]));
    assert_eq!(kept, 0, "nothing to keep on a first build");
    let all = rendered;

    // One lesson of one class gets a new topic.
    let lesson = &query(
        &site,
        "SELECT id FROM lessons WHERE date = '2026-11-23' AND topic IS NOT NULL ORDER BY id LIMIT 1",
    )[0][0];
    sql(
        &site,
        &format!("UPDATE lessons SET topic = 'Тема, изменённая сегодня' WHERE id = {lesson}"),
    );
    let (rendered, kept) = counts(&build(&site, &[]));
    assert_eq!(rendered + kept, all);
    assert!(
        rendered > 0 && kept > rendered,
        "{rendered} rendered, {kept} kept"
    );
    let public = tree(&site.join("public"));
    assert!(
        public
            .values()
            .any(|b| String::from_utf8_lossy(b).contains("Тема, изменённая сегодня"))
    );

    // The same inputs built in full elsewhere: the same public pages (the sealed diaries
    // differ by their random nonces only).
    let other = tempfile::tempdir().unwrap();
    copy_dir(&site, other.path());
    std::fs::remove_dir_all(other.path().join("public")).unwrap();
    let (rendered, kept) = counts(&build(other.path(), &["--force"]));
    assert_eq!((rendered, kept), (all, 0));
    let full = tree(&other.path().join("public"));
    let pages = |t: &BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
        t.iter()
            .filter(|(p, _)| !p.starts_with("diary/"))
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect()
    };
    assert_eq!(pages(&public), pages(&full));

    // `--force` renders every page anew.
    let (rendered, kept) = counts(&build(&site, &["--force"]));
    assert_eq!((rendered, kept), (all, 0));
}

#[test]
fn public_pages_name_no_child_or_guardian() {
    let (_tmp, site) = demo_site(120);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let names = personal_names(&site);
    assert!(names.len() > 120);
    for (path, bytes) in tree(&site.join("public")) {
        let text = String::from_utf8_lossy(&bytes);
        for name in &names {
            assert!(!text.contains(name.as_str()), "{path} names {name}");
        }
    }
}

#[test]
fn demo_refuses_to_replace_a_real_journal() {
    let (_tmp, site) = demo_site(30);
    sql(&site, "UPDATE school SET is_demo = 0;");
    let before = std::fs::read(site.join("data/journal.sqlite")).unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["demo", "--no-build", "--students", "30"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("is not a demo journal"));
    assert_eq!(
        before,
        std::fs::read(site.join("data/journal.sqlite")).unwrap()
    );
    diary()
        .arg("-C")
        .arg(&site)
        .args(["demo", "--no-build", "--students", "30", "--force"])
        .assert()
        .success();
}

#[test]
fn init_refuses_an_existing_site() {
    let (_tmp, site) = demo_site(20);
    diary()
        .args(["init", site.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("already exists"));
}

/// Breaks a built demo site with `sql` and checks that `check` and `build` fail with a
/// message containing every one of `expected`, leaving journal and public/ untouched.
fn assert_refused(sql_text: &str, expected: &[&str]) {
    let (_tmp, site) = demo_site(40);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    sql(&site, sql_text);
    let journal_before = std::fs::read(site.join("data/journal.sqlite")).unwrap();
    let public_before = tree(&site.join("public"));
    for command in ["check", "build"] {
        let out = diary().arg("-C").arg(&site).arg(command).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command} after {sql_text}");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for e in expected {
            assert!(
                text.contains(e),
                "{command} after {sql_text}: {e:?} not in:\n{text}"
            );
        }
        assert!(!text.contains("panicked"), "{text}");
    }
    assert_eq!(
        journal_before,
        std::fs::read(site.join("data/journal.sqlite")).unwrap()
    );
    assert_eq!(public_before, tree(&site.join("public")));
}

#[test]
fn missing_table_is_refused() {
    assert_refused("DROP TABLE attendance;", &["table `attendance` is missing"]);
}

#[test]
fn unknown_schema_version_is_refused() {
    assert_refused(
        "PRAGMA user_version = 7;",
        &["schema version 7", "reads version 2", "upgrade diary"],
    );
}

#[test]
fn mark_outside_the_scale_is_refused() {
    assert_refused(
        "UPDATE marks SET value = '7' WHERE id = (SELECT min(id) FROM marks WHERE value = '5');",
        &[
            "marks id",
            "column value",
            "'7' is not a mark of the scale 1..5",
        ],
    );
}

#[test]
fn lesson_of_a_missing_class_is_refused() {
    assert_refused(
        "UPDATE lessons SET class_id = 9999 WHERE id = (SELECT min(id) FROM lessons);",
        &[
            "lessons id",
            "column class_id",
            "9999 refers to no row of classes",
        ],
    );
}

#[test]
fn impossible_date_is_refused() {
    assert_refused(
        "UPDATE lessons SET date = '2026-13-45' WHERE id = (SELECT min(id) FROM lessons);",
        &[
            "lessons id",
            "column date",
            "'2026-13-45' is not a valid date",
        ],
    );
}

#[test]
fn marks_in_grade_one_are_refused() {
    assert_refused(
        "INSERT INTO marks (student_id, lesson_id, value) \
         SELECT s.id, l.id, '5' FROM lessons l JOIN classes c ON c.id = l.class_id \
         JOIN students s ON s.class_id = c.id WHERE c.grade = 1 AND l.group_id IS NULL LIMIT 1;",
        &["marks id", "grade 1, which has no marks"],
    );
}

#[test]
fn site_toml_typo_is_refused() {
    let (_tmp, site) = demo_site(20);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let public_before = tree(&site.join("public"));
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        toml.replace("timezone = ", "timzone = "),
    )
    .unwrap();
    for command in ["check", "build"] {
        diary()
            .arg("-C")
            .arg(&site)
            .arg(command)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("site.toml"))
            .stderr(predicate::str::contains("unknown field `timzone`"))
            .stderr(predicate::str::contains("line "));
    }
    assert_eq!(public_before, tree(&site.join("public")));
}

#[test]
fn csv_with_a_missing_column_is_refused() {
    let (_tmp, site) = demo_site(20);
    let journal_before = std::fs::read(site.join("data/journal.sqlite")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("classes.csv"),
        "id,year_id,grade,name\n900,1,5,5Я\n",
    )
    .unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["import", "csv"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("classes.csv"))
        .stderr(predicate::str::contains("letter"));
    assert_eq!(
        journal_before,
        std::fs::read(site.join("data/journal.sqlite")).unwrap()
    );
}

#[test]
fn missing_journal_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("s");
    diary()
        .args(["init", site.to_str().unwrap()])
        .assert()
        .success();
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not found"))
        .stderr(predicate::str::contains("diary demo"));
}

#[test]
fn no_site_toml_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    diary()
        .arg("-C")
        .arg(tmp.path())
        .arg("check")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("site.toml"))
        .stderr(predicate::str::contains("diary init"));
}

#[test]
fn up_to_date_check_sees_every_journal_write() {
    let (_tmp, site) = demo_site(30);
    let build = || diary().arg("-C").arg(&site).arg("build").assert().success();
    let up_to_date = || {
        build().stderr(predicate::str::contains("public is up to date"));
    };
    let shows = |topic: &str| {
        tree(&site.join("public"))
            .values()
            .any(|bytes| String::from_utf8_lossy(bytes).contains(topic))
    };
    let lesson = &query(
        &site,
        "SELECT id FROM lessons WHERE date = '2026-11-23' AND topic IS NOT NULL ORDER BY id LIMIT 1",
    )[0][0];
    build();
    // Reading the journal is not a change.
    assert!(!query(&site, "SELECT count(*) FROM lessons").is_empty());
    up_to_date();

    // Rollback-journal mode: a commit, then another of the same size.
    for topic in ["Проверочная тема А", "Проверочная тема Б"] {
        sql(
            &site,
            &format!("UPDATE lessons SET topic = '{topic}' WHERE id = {lesson}"),
        );
        build().stderr(predicate::str::contains("built "));
        assert!(shows(topic), "{topic} not on a board");
        up_to_date();
    }

    // WAL mode, a writer keeping the journal open (so the WAL stays, not checkpointed):
    // each commit of the same size is seen; a read-only build in between changes nothing.
    sql(&site, "PRAGMA journal_mode = WAL");
    up_to_date_or_rebuilt(&site);
    let writer = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    for topic in [
        "Проверочная тема В",
        "Проверочная тема Г",
        "Проверочная тема Д",
    ] {
        writer
            .execute(
                &format!("UPDATE lessons SET topic = ?1 WHERE id = {lesson}"),
                [topic],
            )
            .unwrap();
        build().stderr(predicate::str::contains("built "));
        assert!(shows(topic), "{topic} not on a board");
        up_to_date();
    }
    // A checkpoint that empties the WAL rebuilds (and rewrites nothing).
    writer
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    build().stderr(predicate::str::contains("(0 new or changed, 0 removed)"));
    up_to_date();
}

/// One build after the journal changed mode: whichever it does, the next is up to date.
fn up_to_date_or_rebuilt(site: &std::path::Path) {
    diary().arg("-C").arg(site).arg("build").assert().success();
    diary()
        .arg("-C")
        .arg(site)
        .arg("build")
        .assert()
        .success()
        .stderr(predicate::str::contains("public is up to date"));
}
