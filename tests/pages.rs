//! The pages of a small hand-written school (CSV fixture), as snapshots, plus the escaping
//! of untrusted journal text.

mod common;

use common::*;

fn built_mini() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, site) = mini_site();
    diary().arg("-C").arg(&site).arg("check").assert().success();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    (tmp, site)
}

fn page(site: &std::path::Path, path: &str) -> String {
    std::fs::read_to_string(site.join("public").join(path)).unwrap()
}

/// Minified HTML with a line break between tags, so snapshot diffs read line by line.
fn lines(html: &str) -> String {
    html.replace("><", ">\n<")
}

#[test]
fn index_page() {
    let (_tmp, site) = built_mini();
    let html = page(&site, "index.html");
    insta::assert_snapshot!(lines(&html));
    // Pinned first; expired announcements left the board; class news stays off it.
    let pinned = html.find("Каникулы").unwrap();
    let newer = html.find("Ярмарка").unwrap();
    assert!(pinned < newer);
    assert!(!html.contains("Старое объявление"));
    assert!(!html.contains("Собрание 5Б"));
}

#[test]
fn homework_page() {
    let (_tmp, site) = built_mini();
    let html = page(&site, "classes/5b/homework/index.html");
    insta::assert_snapshot!(lines(&html));
    assert!(html.contains("Группа 1") && html.contains("Группа 2"));
    assert!(html.contains("замена"));
    assert!(html.contains("отменён"));
    assert!(html.contains("https://resh.edu.ru/subject/lesson/1234/"));
}

#[test]
fn class_board() {
    let (_tmp, site) = built_mini();
    let html = page(&site, "classes/5b/index.html");
    insta::assert_snapshot!(lines(&html));
    assert!(html.contains("Собрание 5Б"));
    assert!(html.contains("Родительское собрание"));
    // The school's news reaches every class board, marked as the whole school's.
    assert!(html.contains("<h3>Каникулы</h3>"));
    assert!(html.contains("20 ноября 2026</time> · для всей школы"));
}

#[test]
fn timetable_and_events_pages() {
    let (_tmp, site) = built_mini();
    let tt = page(&site, "classes/5b/timetable/index.html");
    assert!(tt.contains("урок отменён"), "{tt}");
    assert!(tt.contains("замена"), "{tt}");
    assert!(tt.contains("08:30–09:15"));
    let ev = page(&site, "classes/5b/events/index.html");
    assert!(ev.contains("ноябрь 2026 · 1 событие"), "{ev}");
    assert!(ev.contains("декабрь 2026 · 1 событие"), "{ev}");
    assert!(ev.contains("для всей школы"));
}

#[test]
fn untrusted_text_never_runs() {
    let (_tmp, site) = built_mini();
    for (path, bytes) in tree(&site.join("public")) {
        if path.ends_with(".js") {
            continue; // the site's own scripts, not journal text
        }
        let text = String::from_utf8_lossy(&bytes);
        // The only script tags: the theme's own files, loaded from static/.
        for tag in text.split("<script").skip(1) {
            let open = &tag[..tag.find('>').unwrap_or(tag.len())];
            assert!(
                (open.contains("static/site.js") || open.contains("static/diary.js"))
                    && tag[open.len()..].starts_with("></script>"),
                "{path}: <script{open}>"
            );
        }
        assert!(!text.contains("javascript:"), "{path}");
        assert!(!text.contains("onerror"), "{path}");
    }
    // The homework text with a script tag is shown as text.
    let html = page(&site, "classes/5b/homework/index.html");
    assert!(html.contains("&lt;script>alert"), "{html}");
}

#[test]
fn english_site() {
    let (_tmp, site) = mini_site();
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        toml.replace("language = \"ru\"", "language = \"en\""),
    )
    .unwrap();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let html = page(&site, "classes/5b/homework/index.html");
    assert!(html.contains("lang=en"), "{html}");
    assert!(html.contains("Monday, 23 November"), "{html}");
}

#[test]
fn site_templates_override_the_theme() {
    let (_tmp, site) = mini_site();
    std::fs::create_dir_all(site.join("templates")).unwrap();
    std::fs::write(
        site.join("templates/index.html"),
        "{% extends \"base.html\" %}{% block main %}<p>OWN {{ school.short_name }}</p>{% endblock main %}",
    )
    .unwrap();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    assert!(page(&site, "index.html").contains("<p>OWN Гимназия № 7</p>"));

    // A template error names the template and the line, and publishes nothing new.
    std::fs::write(site.join("templates/index.html"), "ok\n{% if %}").unwrap();
    let before = tree(&site.join("public"));
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("index.html"))
        .stderr(predicates::str::contains("2:"));
    assert_eq!(before, tree(&site.join("public")));
}
