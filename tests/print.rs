//! Printouts end to end: weekly and monthly family sheets through Chromium to PDF (one
//! page per pupil, at most two a month, Cyrillic text, no marks in grade 1), report cards,
//! the summary sheet, code slips on the shared layout, bad input, and privacy (nothing
//! under public/). PDFs need Debian's `chromium` and `pdftotext` (poppler-utils); .ci/run
//! installs both.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Full names ("Фамилия Имя Отчество") of a class's pupils, by the journal's class name.
fn pupils(site: &Path, class: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT s.last_name || ' ' || s.first_name || coalesce(' ' || s.middle_name, '')
             FROM students s JOIN classes c ON c.id = s.class_id WHERE c.name = ?1",
        )
        .unwrap();
    let rows = stmt.query_map([class], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Every class name of the demo journal.
fn class_names(site: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM classes ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// The text of each page of a PDF (`pdftotext -layout`, split on form feeds).
fn pdf_pages(pdf: &Path) -> Vec<String> {
    assert!(pdf.is_file(), "no PDF at {}", pdf.display());
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pages: Vec<String> = text.split('\u{c}').map(String::from).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Which of `names` a page's text holds.
fn names_on<'n>(page: &str, names: &'n [String]) -> Vec<&'n String> {
    // pdftotext may put two spaces where one was; compare with runs of spaces squeezed.
    let squeezed = page.split_whitespace().collect::<Vec<_>>().join(" ");
    names
        .iter()
        .filter(|n| squeezed.contains(n.as_str()))
        .collect()
}

fn needs_chromium() {
    Tool::Chromium.require();
    Tool::Pdftotext.require();
}

fn print(site: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    diary().arg("-C").arg(site).arg("print").args(args).assert()
}

fn slug(class: &str) -> String {
    class
        .to_lowercase()
        .replace('а', "a")
        .replace('б', "b")
        .replace('в', "v")
}

fn html(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no {}", path.display()))
}

#[test]
fn weekly_sheets_fit_one_page_per_pupil_in_every_class() {
    needs_chromium();
    let (_tmp, site) = demo_site(160);
    // DIARY_TODAY is Monday 2026-11-23: the week just ended is 2026-W47.
    print(&site, &["weekly", "--class", "all", "--pdf"]).success();
    let mut checked = 0;
    for class in class_names(&site) {
        let names = pupils(&site, &class);
        let pdf = site.join(format!("print/weekly-{}-2026-W47.pdf", slug(&class)));
        let pages = pdf_pages(&pdf);
        assert_eq!(
            pages.len(),
            names.len(),
            "{class}: one page per pupil ({} pupils, {} pages)",
            names.len(),
            pages.len()
        );
        let mut seen = Vec::new();
        for (i, page) in pages.iter().enumerate() {
            let on = names_on(page, &names);
            assert_eq!(on.len(), 1, "{class} page {}: names {on:?}\n{page}", i + 1);
            seen.push(on[0].clone());
            // Cyrillic text made it into the PDF, and the whole sheet (down to the last
            // line, the signature) is on its page.
            assert!(
                page.contains("Подпись родителя"),
                "{class} page {}\n{page}",
                i + 1
            );
            assert!(page.contains("Классный руководитель"), "{page}");
            assert!(page.contains("16–22 ноября 2026"), "{page}");
        }
        seen.sort();
        let mut want = names.clone();
        want.sort();
        assert_eq!(seen, want, "{class}: every pupil has exactly one page");
        checked += 1;
    }
    assert!(checked >= 11, "{checked} classes");
}

#[test]
fn grade_one_sheets_show_no_marks() {
    let (_tmp, site) = demo_site(60);
    print(&site, &["weekly", "--class", "1a"]).success();
    print(&site, &["weekly", "--class", "2a"]).success();
    let first = html(site.join("print/weekly-1a-2026-W47.html"));
    let second = html(site.join("print/weekly-2a-2026-W47.html"));
    // Second grade shows marks with their work types; first grade none of that.
    assert!(second.contains("Отметки, посещаемость"));
    assert!(second.contains("class=\"mark\""));
    assert!(!first.contains("Отметки"), "grade 1 has a marks column");
    assert!(!first.contains("class=\"mark\""));
    assert!(!first.contains("Замечания"));
    assert!(first.contains("Посещаемость") && first.contains("Тема урока"));
    for work_type in ["Работа на уроке", "Контрольная работа", "Диктант"]
    {
        assert!(!first.contains(work_type), "grade 1 shows {work_type}");
    }
}

#[test]
fn monthly_sheets_take_at_most_two_pages_per_pupil() {
    needs_chromium();
    let (_tmp, site) = demo_site(160);
    print(
        &site,
        &["monthly", "--class", "9a", "--month", "2026-11", "--pdf"],
    )
    .success();
    let names = pupils(&site, "9А");
    let pages = pdf_pages(&site.join("print/monthly-9a-2026-11.pdf"));
    assert!(pages.len() <= 2 * names.len(), "{} pages", pages.len());
    // Each page names its pupil (the heading repeats on a second page).
    let mut per_pupil = std::collections::BTreeMap::new();
    for (i, page) in pages.iter().enumerate() {
        let on = names_on(page, &names);
        assert_eq!(on.len(), 1, "page {}: names {on:?}\n{page}", i + 1);
        *per_pupil.entry(on[0].clone()).or_insert(0) += 1;
        assert!(page.contains("ноябрь 2026"), "{page}");
    }
    assert_eq!(per_pupil.len(), names.len());
    assert!(per_pupil.values().all(|&n| n <= 2), "{per_pupil:?}");
    // The last page of each pupil ends with the signature line.
    let signed = pages
        .iter()
        .filter(|p| p.contains("Подпись родителя"))
        .count();
    assert_eq!(signed, names.len());
}

#[test]
fn weekly_sheet_html_snapshot() {
    let (_tmp, site) = demo_site(40);
    print(&site, &["weekly", "--class", "5a", "--week", "2026-W48"])
        .success()
        .stderr(predicates::str::contains("weekly-5a-2026-W48.html"));
    let text = html(site.join("print/weekly-5a-2026-W48.html"));
    assert!(text.contains("@page { size: A4; margin: 10mm; }"));
    assert!(text.contains("break-after: page"));
    // The first sheet, as a family gets it.
    let start = text.find("<section class=\"sheet\"").unwrap();
    let end = start + text[start..].find("</section>").unwrap() + "</section>".len();
    insta::assert_snapshot!("weekly_sheet", &text[start..end]);
    // The same command writes the same bytes.
    print(&site, &["weekly", "--class", "5a", "--week", "2026-W48"]).success();
    assert_eq!(html(site.join("print/weekly-5a-2026-W48.html")), text);
}

#[test]
fn twins_get_a_sheet_each() {
    let (_tmp, site) = demo_site(40);
    let before = pupils(&site, "5А").len();
    // A twin of the first pupil of 5А: same surname, same guardians.
    sql(
        &site,
        "INSERT INTO students (id, class_id, last_name, first_name, middle_name)
           SELECT 99001, class_id, last_name, 'Близнец', middle_name FROM students
           WHERE class_id = (SELECT id FROM classes WHERE name = '5А') ORDER BY id LIMIT 1;
         INSERT INTO student_guardians (student_id, guardian_id, relation)
           SELECT 99001, guardian_id, relation FROM student_guardians
           WHERE student_id = (SELECT min(id) FROM students
                               WHERE class_id = (SELECT id FROM classes WHERE name = '5А'));",
    );
    print(&site, &["weekly", "--class", "5a"])
        .success()
        .stderr(predicates::str::contains(format!(
            "wrote {} sheet(s)",
            before + 1
        )));
    let text = html(site.join("print/weekly-5a-2026-W47.html"));
    assert_eq!(text.matches("<section class=\"sheet\"").count(), before + 1);
    assert!(text.contains(" Близнец "));
}

#[test]
fn report_cards_and_summary_sheet() {
    let (_tmp, site) = demo_site(60);
    print(
        &site,
        &["report", "--class", "5a", "--period", "2 четверть"],
    )
    .success();
    let path = site.join("print/report-5a-2026-2027-2-chetvert.html");
    let by_name = html(path.clone());
    std::fs::remove_file(&path).unwrap();
    print(&site, &["report", "--class", "5a", "--period", "2"]).success();
    assert_eq!(html(path), by_name, "a period by name or by number");
    assert_eq!(
        by_name.matches("<section class=\"sheet\"").count(),
        pupils(&site, "5А").len()
    );
    for text in [
        "Табель успеваемости",
        "2 четверть",
        "Средний балл",
        "Отметка за период",
        "Пропущено уроков",
    ] {
        assert!(by_name.contains(text), "report lacks {text}");
    }
    print(&site, &["report", "--class", "5a", "--period", "year"]).success();
    let year = html(site.join("print/report-5a-2026-2027-god.html"));
    assert!(year.contains("Годовая отметка") && year.contains("Отметки за периоды"));
    // Grade 1: no marks on the card either.
    print(&site, &["report", "--class", "1a", "--period", "1"]).success();
    let first = html(site.join("print/report-1a-2026-2027-1-chetvert.html"));
    assert!(first.contains("отметки не ставятся") && !first.contains("Средний балл"));

    print(&site, &["summary", "--class", "5a"]).success();
    let summary = html(site.join("print/summary-5a-2026-2027.html"));
    assert!(summary.contains("@page { size: A4 landscape; margin: 10mm; }"));
    assert!(summary.contains("Сводная ведомость"));
    assert!(summary.contains("Директор") && summary.contains("М.П."));
    for name in pupils(&site, "5А") {
        assert!(summary.contains(&name), "summary lacks {name}");
    }
    print(&site, &["summary", "--class", "1a"])
        .failure()
        .stderr(predicates::str::contains("no marks"));
}

#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let (_tmp, site) = demo_site(40);
    let cases: [(&[&str], &str); 7] = [
        (
            &["weekly", "--class", "12Я"],
            "no class named \"12Я\"; the journal has: 10А",
        ),
        (
            &["weekly", "--class", "5a", "--week", "2026-W30"],
            "outside the academic year",
        ),
        (
            &["weekly", "--class", "5a", "--week", "48"],
            "is not a week",
        ),
        (
            &["monthly", "--class", "5a", "--month", "2026-07"],
            "no lessons in июль 2026",
        ),
        (
            &["monthly", "--class", "5a", "--month", "July"],
            "is not a month",
        ),
        (
            &["report", "--class", "5a", "--period", "7"],
            "1 четверть, 2 четверть",
        ),
        (
            &["summary", "--class", "5a", "--year", "2030"],
            "no academic year \"2030\"",
        ),
    ];
    for (args, message) in cases {
        print(&site, args)
            .failure()
            .code(1)
            .stderr(predicates::str::contains(message));
    }
    assert!(
        !site.join("print").exists(),
        "a refused printout wrote files"
    );
}

#[test]
fn printouts_stay_out_of_public() {
    let (_tmp, site) = demo_site(40);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let public_before = tree(&site.join("public"));
    print(&site, &["weekly", "--class", "all"]).success();
    print(&site, &["monthly", "--class", "5a", "--month", "2026-11"]).success();
    print(&site, &["report", "--class", "all", "--period", "1"]).success();
    print(&site, &["summary", "--class", "all"]).success();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let public = tree(&site.join("public"));
    assert_eq!(
        public.keys().collect::<Vec<_>>(),
        public_before.keys().collect::<Vec<_>>(),
        "printing changed public/"
    );
    let names = pupils(&site, "5А");
    for (path, bytes) in &public {
        assert!(
            !path.contains("weekly") && !path.contains("report"),
            "{path}"
        );
        let text = String::from_utf8_lossy(bytes);
        for name in &names {
            assert!(!text.contains(name.as_str()), "public/{path} names {name}");
        }
    }
    // Printouts are private files in a private folder.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = site.join("print");
        assert_eq!(dir.metadata().unwrap().permissions().mode() & 0o777, 0o700);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let meta = entry.unwrap().metadata().unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    }
    // A print folder inside the public site is refused.
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        toml.replace("print_dir = \"print\"", "print_dir = \"public/print\""),
    )
    .unwrap();
    print(&site, &["weekly", "--class", "5a"])
        .failure()
        .stderr(predicates::str::contains(
            "must stay out of the public site",
        ));
    assert!(!site.join("public/print").exists());
}

#[test]
fn pdf_without_chromium_says_how_to_get_it_and_keeps_the_html() {
    let (_tmp, site) = demo_site(40);
    diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "weekly", "--class", "5a", "--pdf"])
        .env("DIARY_CHROMIUM", site.join("no-such-chromium"))
        .assert()
        .failure()
        .code(1)
        .stderr(predicates::str::contains("apt-get install chromium"))
        .stderr(predicates::str::contains("DIARY_CHROMIUM"));
    assert!(site.join("print/weekly-5a-2026-W47.html").is_file());
    assert!(!site.join("print/weekly-5a-2026-W47.pdf").exists());
}

#[test]
fn pdf_uses_the_chromium_named_in_site_toml() {
    let (_tmp, site) = demo_site(40);
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        toml.replace("chromium = \"\"", "chromium = \"bin/no-such-chromium\""),
    )
    .unwrap();
    let err = diary()
        .arg("-C")
        .arg(&site)
        .args(["print", "weekly", "--class", "5a", "--pdf"])
        .env_remove("DIARY_CHROMIUM")
        .assert()
        .failure()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("chromium in site.toml"), "{err}");
    assert!(err.contains("bin/no-such-chromium"), "{err}");
    assert!(site.join("print/weekly-5a-2026-W47.html").is_file());
}

#[test]
fn english_sheets_and_dates() {
    let (_tmp, site) = demo_site(40);
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        toml.replace("language = \"ru\"", "language = \"en\""),
    )
    .unwrap();
    print(&site, &["weekly", "--class", "5a"]).success();
    let text = html(site.join("print/weekly-5a-2026-W47.html"));
    assert!(text.contains("<html lang=\"en\">"));
    assert!(text.contains("Weekly progress and attendance: 16–22 November 2026"));
    assert!(text.contains("Parent&#39;s (guardian&#39;s) signature"));
    assert!(!text.contains("Подпись"));
}

#[test]
fn code_slips_share_the_print_layout() {
    let (_tmp, site) = demo_site(40);
    cheap_codes(&site);
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue", "--class", "5a"])
        .assert()
        .success();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "print", "--class", "5a"])
        .assert()
        .success();
    let slips = html(site.join("print/codes-5a.html"));
    let weekly_head = {
        print(&site, &["weekly", "--class", "5a"]).success();
        let w = html(site.join("print/weekly-5a-2026-W47.html"));
        w[w.find("<style>").unwrap()..w.find("@media screen").unwrap()].to_string()
    };
    assert!(
        slips.contains(&weekly_head),
        "slips lack the shared print stylesheet"
    );
    assert!(slips.contains("class=\"slip\"") && slips.contains("<svg"));
}

/// `(id, full name)` of every pupil of the school.
fn all_pupils(site: &Path) -> Vec<(i64, String)> {
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT id, last_name || ' ' || first_name || coalesce(' ' || middle_name, '')
             FROM students ORDER BY id",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Ids of a class's pupils, by the journal's class name.
fn pupil_ids(site: &Path, class: &str) -> Vec<i64> {
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id
             WHERE c.name = ?1 ORDER BY s.id",
        )
        .unwrap();
    let rows = stmt.query_map([class], |r| r.get::<_, i64>(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// The file names in a folder, sorted.
fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|_| panic!("no folder {}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn diaries_one_standalone_page_per_pupil() {
    let (_tmp, site) = demo_site(60);
    print(&site, &["diaries", "--class", "all"])
        .success()
        .stderr(predicates::str::contains("wrote 60 diaries"));
    let everyone = all_pupils(&site);
    for class in class_names(&site) {
        let dir = site.join(format!("print/diaries-{}", slug(&class)));
        let ids = pupil_ids(&site, &class);
        let mut want: Vec<String> = ids.iter().map(|id| format!("{id}.html")).collect();
        want.push("index.html".into());
        want.sort();
        // One file per pupil, named by the id only, and the class's list.
        assert_eq!(file_names(&dir), want, "{class}");
    }

    // One pupil's page: a whole document that stands alone, with that pupil's diary and
    // no other pupil's name.
    let ids = pupil_ids(&site, "5А");
    let (id, name) = everyone.iter().find(|(i, _)| *i == ids[0]).unwrap();
    let text = html(site.join(format!("print/diaries-5a/{id}.html")));
    assert!(text.starts_with("<!doctype html>"), "{}", &text[..100]);
    assert!(text.contains(name.as_str()), "the page lacks its pupil");
    assert!(text.contains("5А"));
    assert!(text.contains("данные на 23 ноября 2026"));
    for (other, other_name) in &everyone {
        if other != id && other_name != name {
            assert!(
                !text.contains(other_name.as_str()),
                "{id}.html names pupil {other}"
            );
        }
    }
    // Marks, topics and marks by period, as the online diary shows them.
    assert!(text.contains("<span class=mark"), "no marks");
    assert!(text.contains("Тема:") && text.contains("Отметки по периодам"));
    // The theme's style.css and diary.css inlined; nothing loaded from anywhere.
    assert!(text.contains(".marks-table") && text.contains("--accent"));
    assert!(text.contains("default-src 'none'"));
    for active in ["<script", "<link", "<img", "src="] {
        assert!(!text.contains(active), "the page has {active}");
    }
    // The weeks of the term up to this one are shown (later ones by CSS left out), every
    // period's marks are open.
    assert!(text.split('<').any(|tag| tag.starts_with("section")
        && tag.contains("data-current")
        && tag.contains("data-week=2026-11-23")));
    assert!(text.contains(".dweek[hidden]{display:block}"));
    assert!(!text.contains("<details class=period>"));

    // The class's list names its pupils and links their files.
    let index = html(site.join("print/diaries-5a/index.html"));
    assert!(
        index.contains(&format!("href={id}.html"))
            || index.contains(&format!("href=\"{id}.html\""))
    );
    assert!(index.contains(name.as_str()));

    // Private: the folders and files are the owner's only; public/ holds none of it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = site.join("print/diaries-5a");
        assert_eq!(dir.metadata().unwrap().permissions().mode() & 0o777, 0o700);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let meta = entry.unwrap().metadata().unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    }
    assert!(!site.join("public").exists());

    // The same command writes the same bytes; a class's folder is replaced whole, so a
    // file left from a pupil who has left goes.
    std::fs::write(site.join("print/diaries-5a/999999.html"), "old").unwrap();
    print(&site, &["diaries", "--class", "5А"])
        .success()
        .stderr(predicates::str::contains("diaries-5a"));
    assert_eq!(html(site.join(format!("print/diaries-5a/{id}.html"))), text);
    assert!(!site.join("print/diaries-5a/999999.html").exists());
    assert!(
        file_names(&site.join("print"))
            .iter()
            .all(|n| !n.starts_with('.')),
        "temporary folders left behind"
    );
}

#[test]
fn grade_one_diaries_have_no_marks() {
    let (_tmp, site) = demo_site(60);
    print(&site, &["diaries", "--class", "1a"]).success();
    print(&site, &["diaries", "--class", "2a"]).success();
    let first = pupil_ids(&site, "1А");
    let second = pupil_ids(&site, "2А");
    assert!(!first.is_empty() && !second.is_empty());
    for id in first {
        let text = html(site.join(format!("print/diaries-1a/{id}.html")));
        assert!(text.contains("В первом классе отметки не ставятся."));
        assert!(
            !text.contains("<span class=mark"),
            "grade 1 diary {id} has marks"
        );
        assert!(!text.contains("Отметки по периодам"));
        assert!(text.contains("Тема:"));
    }
    let text = html(site.join(format!("print/diaries-2a/{}.html", second[0])));
    assert!(text.contains("<span class=mark"));
}

#[test]
fn diaries_of_a_bad_class_are_refused_and_write_nothing() {
    let (_tmp, site) = demo_site(40);
    print(&site, &["diaries", "--class", "12Я"])
        .failure()
        .code(1)
        .stderr(predicates::str::contains(
            "no class named \"12Я\"; the journal has: 10А",
        ));
    assert!(
        !site.join("print").exists(),
        "a refused printout wrote files"
    );
    // A print folder inside the public site is refused too.
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        toml.replace("print_dir = \"print\"", "print_dir = \"public/diaries\""),
    )
    .unwrap();
    print(&site, &["diaries", "--class", "all"])
        .failure()
        .code(1)
        .stderr(predicates::str::contains(
            "must stay out of the public site",
        ));
    assert!(!site.join("public").exists());
}

/// The text of an HTML document or fragment: tags dropped, the five escapes decoded, and no
/// whitespace at all (minifying moves it).
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn a_printed_diary_holds_what_the_sealed_diary_shows() {
    let (_tmp, site) = demo_site(40);
    cheap_codes(&site);
    let in_site = |args: &[&str]| diary().arg("-C").arg(&site).args(args).output().unwrap();
    assert!(
        in_site(&["codes", "issue", "--class", "5a"])
            .status
            .success()
    );
    assert!(in_site(&["build"]).status.success());
    print(&site, &["diaries", "--class", "5a"]).success();
    let list = in_site(&["codes", "list", "--class", "5a", "--format", "csv"]);
    let mut rows = csv::Reader::from_reader(list.stdout.as_slice());
    let row = rows.records().next().unwrap().unwrap();
    let (code, id) = (&row[0], &row[1]);
    // The sealed diary of the pupil, read with the independent reader: its now chunk and
    // the earlier parts it lists.
    let public = site.join("public");
    let (_, slot) = common::independent::open_slot(&public, code);
    let name = &row[2];
    let child = common::independent::children(&slot)
        .into_iter()
        .find(|c| name.contains(c.name.as_str()))
        .expect("the code opens the pupil");
    let sealed = common::independent::open_diary(&public, &child);
    let printed = html(site.join(format!("print/diaries-5a/{id}.html")));
    let body = &printed[printed.find("<article").unwrap()..printed.find("</article>").unwrap()];
    // The printed diary shows the current term's weeks up to next week: each is the week
    // the sealed diary shows (in now, or in the current term's part).
    let sealed_weeks: std::collections::BTreeMap<String, String> = sealed
        .chunks()
        .flat_map(|c| common::independent::week_sections(&c.html))
        .collect();
    let printed_weeks = common::independent::week_sections(body);
    let mondays: Vec<&str> = printed_weeks.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(
        mondays,
        [
            "2026-11-02",
            "2026-11-09",
            "2026-11-16",
            "2026-11-23",
            "2026-11-30"
        ],
        "term 2 up to next week"
    );
    for (week, section) in &printed_weeks {
        assert_eq!(
            text_of(section),
            text_of(&sealed_weeks[week]),
            "week {week} of pupil {id}: printed and sealed differ"
        );
    }
    // The marks of the current term (the period the now chunk shows open) are on paper as
    // online (paper opens every period).
    let now = &sealed.now.html;
    let open = common::independent::start_tags(now)
        .into_iter()
        .find(|t| t.is("details", "period") && t.has("open"))
        .expect("the current period");
    let current = text_of(&common::independent::element(now, &open));
    assert!(current.len() > 40, "{current}");
    assert!(
        text_of(body).contains(&current),
        "the printed diary of pupil {id} shows the term's marks: {current}"
    );
}
