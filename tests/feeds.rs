//! The machine-readable outputs parse with independent parsers: iCalendar, Atom, sitemap.

mod common;

use common::*;

fn built_mini() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, site) = mini_site();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    (tmp, site)
}

fn read(site: &std::path::Path, path: &str) -> String {
    std::fs::read_to_string(site.join("public").join(path)).unwrap()
}

/// SUMMARY of every VEVENT of a calendar.
fn summaries(ics: &str) -> Vec<String> {
    let unfolded = icalendar::parser::unfold(ics);
    let cal = icalendar::parser::read_calendar(&unfolded).expect("valid iCalendar");
    cal.components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .map(|c| {
            c.properties
                .iter()
                .find(|p| p.name == "SUMMARY")
                .map(|p| p.val.to_string())
                .expect("every event has a SUMMARY")
        })
        .collect()
}

#[test]
fn calendars_parse_and_hold_the_right_events() {
    let (_tmp, site) = built_mini();
    let school = summaries(&read(&site, "events.ics"));
    assert_eq!(school, vec!["Новогодний концерт"]);
    let class = summaries(&read(&site, "classes/5b/events.ics"));
    assert_eq!(class, vec!["Родительское собрание", "Новогодний концерт"]);
    let ics = read(&site, "classes/5b/events.ics");
    // 18:00 in Moscow is 15:00 UTC.
    assert!(ics.contains("DTSTART:20261127T150000Z"), "{ics}");
}

#[test]
fn atom_feeds_parse() {
    let (_tmp, site) = built_mini();
    for (path, titles) in [
        ("feed.xml", vec!["Каникулы", "Ярмарка", "Добро пожаловать"]),
        // A class feed mirrors its board: the school's news too, pinned first, then newest.
        (
            "classes/5b/feed.xml",
            vec!["Каникулы", "Ярмарка", "Собрание 5Б", "Добро пожаловать"],
        ),
        (
            "classes/1a/feed.xml",
            vec!["Каникулы", "Ярмарка", "Добро пожаловать"],
        ),
    ] {
        let text = read(&site, path);
        let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "feed");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2005/Atom")
        );
        for required in ["id", "title", "updated"] {
            assert!(
                root.children().any(|c| c.has_tag_name(required)),
                "{path} lacks {required}"
            );
        }
        let got: Vec<&str> = root
            .children()
            .filter(|c| c.has_tag_name("entry"))
            .map(|e| {
                e.children()
                    .find(|c| c.has_tag_name("title"))
                    .unwrap()
                    .text()
                    .unwrap()
            })
            .collect();
        assert_eq!(got, titles, "{path}");
    }
}

#[test]
fn sitemap_and_robots_list_public_boards_only() {
    let (_tmp, site) = built_mini();
    let text = read(&site, "sitemap.xml");
    let doc = roxmltree::Document::parse(&text).unwrap();
    let locs: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("loc"))
        .map(|n| n.text().unwrap())
        .collect();
    assert!(locs.contains(&"http://localhost:8080/"));
    assert!(locs.contains(&"http://localhost:8080/classes/5b/homework/"));
    for loc in &locs {
        let path = loc.strip_prefix("http://localhost:8080/").unwrap();
        let file = if path.is_empty() || path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.to_string()
        };
        assert!(
            site.join("public").join(&file).is_file(),
            "{loc} is not a page"
        );
        assert!(!loc.contains("/diary/"));
    }
    let robots = read(&site, "robots.txt");
    assert!(robots.contains("Sitemap: http://localhost:8080/sitemap.xml"));
    assert!(robots.contains("Disallow: /diary/"));
}
