//! Events the class teacher publishes in content/events (Markdown and .ics files) beside the
//! journal's, and the school's news on class boards, in diaries and on weekly sheets.

mod common;

use std::path::Path;

use common::{demo_site, diary, fixture, query, sql};

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|_| panic!("no {}", path.display()))
}

fn run(site: &Path, args: &[&str]) -> (i32, String, String) {
    let out = diary().arg("-C").arg(site).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const MUSEUM: &str = "+++
title = \"Экскурсия в музей\"
date = 2026-12-02
time = \"15:00\"
ends_at = \"17:00\"
place = \"Краеведческий музей\"
class = \"5А\"
note = \"Взять сменную обувь\"
+++
Сбор у школы в 14:40.
";

/// A 40-pupil demo school with a Markdown event and an .ics file for 5А, a content event
/// that repeats a journal event, and a school-wide announcement in the journal.
fn site_with_events() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let (tmp, site) = demo_site(40);
    let dir = site.join("content/events");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("muzey.md"), MUSEUM).unwrap();
    std::fs::copy(fixture("events/5А-кружки.ics"), dir.join("5А-кружки.ics")).unwrap();
    let class = query(
        &site,
        "SELECT id FROM classes WHERE name = '5А' ORDER BY year_id DESC LIMIT 1",
    )[0][0]
        .clone();
    sql(
        &site,
        &format!(
            "INSERT INTO events (class_id, title, starts_at, place)
                 VALUES ({class}, 'Конкурс чтецов', '2026-12-04 14:00', 'Библиотека');
             INSERT INTO announcements (audience, title, body_md, published_at)
                 VALUES ('school', 'Общешкольное собрание родителей', 'В актовом зале.',
                         '2026-11-23 08:00');"
        ),
    );
    // The same event again, with other case and spaces: shown once.
    std::fs::write(
        dir.join("chtecy.md"),
        "+++\ntitle = \"  конкурс ЧТЕЦОВ \"\ndate = 2026-12-04\ntime = \"14:00\"\nclass = \"5a\"\n+++\n",
    )
    .unwrap();
    let student = query(
        &site,
        &format!("SELECT min(id) FROM students WHERE class_id = {class}"),
    )[0][0]
        .clone();
    (tmp, site, student)
}

#[test]
fn content_events_show_on_the_board_feed_diary_and_sheet_and_a_duplicate_once() {
    let (_tmp, site, student) = site_with_events();
    let (code, _, err) = run(&site, &["build"]);
    assert_eq!(code, 0, "{err}");

    let board = read(site.join("public/classes/5a/index.html"));
    for title in ["Экскурсия в музей", "Шахматный турнир", "День здоровья"]
    {
        assert!(board.contains(title), "{title} on the board");
    }
    // School news on the class board, marked as the whole school's.
    assert!(board.contains("Общешкольное собрание родителей"));
    assert!(board.contains("для всей школы"));

    let page = read(site.join("public/classes/5a/events/index.html"));
    assert_eq!(
        page.matches("Конкурс чтецов").count(),
        1,
        "the duplicate once"
    );
    assert!(!page.contains("конкурс ЧТЕЦОВ"));
    // 19:00–20:30 in Yekaterinburg (UTC+5) is 17:00–18:30 in Moscow; 06:00 UTC is 09:00.
    assert!(page.contains("17:00–18:30"), "TZID converted");
    assert!(page.contains("15:00–17:00"));
    assert!(page.contains("Олимпиада по математике"));

    let ics = read(site.join("public/classes/5a/events.ics"));
    let unfolded = ics.replace("\r\n ", "");
    assert_eq!(unfolded.matches("SUMMARY:Конкурс чтецов").count(), 1);
    assert!(unfolded.contains("SUMMARY:Экскурсия в музей"));
    // 15:00 Moscow (UTC+3) is 12:00 UTC.
    assert!(unfolded.contains("DTSTART:20261202T120000Z"), "{unfolded}");
    // 17:00 Moscow is 14:00 UTC.
    assert!(unfolded.contains("DTSTART:20261203T140000Z"));
    assert!(unfolded.contains("LOCATION:Актовый зал\\, 2 этаж"));
    // The folded description reads as one line.
    assert!(unfolded.contains("времени\\, регистрация"), "{unfolded}");
    assert!(unfolded.contains("UID:content-events-4k2m9v7q1c-google-com@"));
    // Another class does not get 5А's events.
    let other = read(site.join("public/classes/2a/events.ics"));
    assert!(!other.contains("Экскурсия в музей"));

    // The diary page a family opens.
    let (code, _, err) = run(
        &site,
        &["print", "diaries", "--class", "5А", "--student", &student],
    );
    assert_eq!(code, 0, "{err}");
    let diary_page = read(site.join(format!("print/diaries-5a/{student}.html")));
    assert!(diary_page.contains("Экскурсия в музей"));
    assert!(diary_page.contains("Шахматный турнир"));
    assert!(diary_page.contains("Общешкольное собрание родителей"));

    // The weekly sheet of 23–29 November: next week's events, this week's news.
    let print_for_student = |kind: &str, span: &[&str]| {
        let mut args = vec!["print", kind, "--class", "5А", "--student", &student];
        args.extend_from_slice(span);
        let (code, _, err) = run(&site, &args);
        assert_eq!(code, 0, "{kind}: {err}");
    };
    print_for_student("weekly", &["--week", "2026-W48"]);
    let sheet = read(site.join("print/weekly-5a-2026-W48.html"));
    assert!(sheet.contains("Экскурсия в музей"));
    assert!(sheet.contains("Шахматный турнир"));
    assert!(sheet.contains("Объявления"));
    assert!(sheet.contains("Общешкольное собрание родителей (для всей школы)"));

    // The monthly sheet of November: the month's news too.
    print_for_student("monthly", &["--month", "2026-11"]);
    let month = read(site.join("print/monthly-5a-2026-11.html"));
    assert!(month.contains("Объявления"), "a news block");
    assert!(month.contains("Общешкольное собрание родителей (для всей школы)"));
}

#[test]
fn events_add_writes_a_file_and_list_prints_the_month_from_every_source() {
    let (_tmp, site, _) = site_with_events();
    let add = [
        "events",
        "add",
        "--class",
        "5А",
        "--date",
        "2026-12-12",
        "--time",
        "15:00",
        "--ends",
        "16:30",
        "--title",
        "Новогодний утренник",
        "--place",
        "Актовый зал",
    ];
    let (code, out, err) = run(&site, &add);
    assert_eq!(code, 0, "{err}");
    let name = "content/events/2026-12-12-5a-novogodniy-utrennik.md";
    assert!(out.contains(name), "{out}");
    let text = read(site.join(name));
    assert!(
        text.contains("class = \"5А\"") && text.contains("ends_at = \"16:30\""),
        "{text}"
    );
    // Never over an existing file: the second goes beside it.
    let (code, out, _) = run(&site, &add);
    assert_eq!(code, 0);
    assert!(
        out.contains("2026-12-12-5a-novogodniy-utrennik-2.md"),
        "{out}"
    );
    std::fs::remove_file(site.join("content/events/2026-12-12-5a-novogodniy-utrennik-2.md"))
        .unwrap();

    let (code, out, err) = run(
        &site,
        &["events", "list", "--class", "5a", "--month", "2026-12"],
    );
    assert_eq!(code, 0, "{err}");
    let line = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in {out}"))
            .to_string()
    };
    assert!(out.starts_with("5А · декабрь 2026"), "{out}");
    let museum = line("Экскурсия в музей");
    assert!(
        museum.starts_with("ср, 2 декабря") && museum.contains("15:00–17:00"),
        "{museum}"
    );
    assert!(museum.ends_with("— Краеведческий музей"), "{museum}");
    assert!(line("Новогодний утренник").contains("15:00–16:30"));
    assert!(line("Шахматный турнир").contains("17:00–18:30"));
    assert!(line("Олимпиада по математике").contains("09:00"));
    assert!(line("День здоровья").starts_with("сб, 5 декабря"));
    assert_eq!(out.matches("онкурс чтецов").count(), 1, "{out}");
    // In date order.
    let at = |t: &str| out.find(t).unwrap();
    assert!(at("Экскурсия") < at("Шахматный") && at("Шахматный") < at("Новогодний"));

    // Refusals change nothing.
    let (code, _, err) = run(
        &site,
        &[
            "events",
            "add",
            "--class",
            "5Я",
            "--date",
            "2026-12-12",
            "--title",
            "x",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no class named \"5Я\""), "{err}");
    let (code, _, err) = run(
        &site,
        &[
            "events",
            "add",
            "--date",
            "2026-12-12",
            "--time",
            "15:00",
            "--ends",
            "14:00",
            "--title",
            "x",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("is not after"), "{err}");
}

#[test]
fn check_names_the_file_and_line_of_each_bad_event() {
    let (_tmp, site, _) = site_with_events();
    let dir = site.join("content/events");
    let files = [
        (
            "bad-date.md",
            "+++\ntitle = \"a\"\ndate = \"2026-12-32\"\n+++\n",
        ),
        ("no-title.md", "+++\ndate = 2026-12-01\n+++\n"),
        (
            "backwards.md",
            "+++\ntitle = \"a\"\nstarts_on = 2026-12-10\nends_on = 2026-12-08\n+++\n",
        ),
        (
            "unknown.md",
            "+++\ntitle = \"a\"\ndate = 2026-12-01\nclass = \"5Я\"\n+++\n",
        ),
        (
            "5А-broken.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:a\r\nDTSTART:2026-12-01\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        ),
        ("calendar.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let (code, out, err) = run(&site, &["check"]);
    let all = format!("{out}{err}");
    assert_eq!(code, 1, "{all}");
    let finding = |file: &str| {
        all.lines()
            .find(|l| l.contains(&format!("content/events/{file}")))
            .unwrap_or_else(|| panic!("no finding for {file}: {all}"))
            .to_string()
    };
    let f = finding("bad-date.md");
    assert!(f.contains("line 3") && f.contains("2026-12-32"), "{f}");
    let f = finding("no-title.md");
    assert!(f.contains("line 2") && f.contains("no title"), "{f}");
    let f = finding("backwards.md");
    assert!(f.contains("line 4") && f.contains("before"), "{f}");
    let f = finding("unknown.md");
    assert!(
        f.contains("line 4") && f.contains("no class named \"5Я\""),
        "{f}"
    );
    let f = finding("5А-broken.ics");
    assert!(f.contains("line 3") && f.contains("DTSTART"), "{f}");
    let f = finding("calendar.ics");
    assert!(f.contains("school.ics"), "{f}");

    // Listing refuses too, naming the first bad file.
    let (code, out, err) = run(
        &site,
        &["events", "list", "--class", "5А", "--month", "2026-12"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("content/events/"), "{err}");
    assert!(out.is_empty(), "{out}");

    // The build stops and writes nothing.
    let (code, _, err) = run(&site, &["build"]);
    assert_eq!(code, 1, "{err}");
    assert!(!site.join("public/classes").exists());
}
