//! The site offline and installable, and printing a week of the diary, in a real headless
//! Chromium against a built demo site served on 127.0.0.1 (the browser side is
//! tests/browser/offline.mjs): the manifest and the service worker on every page, boards
//! and a remembered diary opened with the network cut off, a new build replacing what the
//! browser cached, a revoked code's saved files cleared, "forget this device", and "Print
//! this week" as a one-page A4 PDF. Also, without a browser: the service worker does not
//! change when only the journal does. Needs Debian's `chromium`, Node.js with the packages
//! of tests/browser, and `pdftotext`/`pdfinfo`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn build(site: &Path) {
    diary().arg("-C").arg(site).arg("build").assert().success();
}

/// Every HTML page of `public/`, by path.
fn html_pages(public: &Path) -> BTreeMap<String, String> {
    tree(public)
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html") && !p.starts_with("diary/c/"))
        .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
        .collect()
}

#[test]
fn the_site_works_offline_installs_and_prints_a_week() {
    Tool::Chromium.require();
    Tool::BrowserPackages.require();
    Tool::Pdftotext.require();

    let (tmp, site) = demo_site(60);
    cheap_codes(&site);
    issue_codes(&site, None);
    build(&site);
    let public = site.join("public");

    // Every page links the manifest and the script that registers the worker; both exist.
    let pages = html_pages(&public);
    assert!(pages.len() > 20);
    for (path, html) in &pages {
        assert!(
            html.contains("manifest.webmanifest") && html.contains("static/site.js"),
            "{path} links the manifest and static/site.js"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(public.join("manifest.webmanifest")).unwrap())
            .expect("the manifest is JSON");
    assert_eq!(manifest["start_url"], "diary/index.html");
    let sw = std::fs::read_to_string(public.join("sw.js")).unwrap();
    assert!(sw.contains("const VERSION = '") && !sw.contains("{{"));

    // One-child codes of the oldest pupils (rows come by class), who have marks.
    let rows = active_codes(&site);
    let mut per_code: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *per_code.entry(&r.code).or_default() += 1;
    }
    let singles: Vec<&CodeRow> = rows
        .iter()
        .rev()
        .filter(|r| per_code[r.code.as_str()] == 1)
        .take(2)
        .collect();
    assert_eq!(singles.len(), 2);
    let class_dir = "classes/10a/";
    assert!(public.join(class_dir).join("index.html").exists());
    let homework = std::fs::read_dir(public.join(class_dir).join("homework"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n != "index.html")
        .expect("a week of homework");
    let new_title = "Каток во дворе школы открыт";
    let pdf: PathBuf = tmp.path().join("week.pdf");
    let config = serde_json::json!({
        "public": public,
        "remember": { "code": singles[0].code, "name": singles[0].first_name() },
        "other": { "code": singles[1].code, "name": singles[1].first_name() },
        "boards": [
            format!("{class_dir}index.html"),
            format!("{class_dir}homework/index.html"),
            format!("{class_dir}timetable/index.html"),
            format!("{class_dir}events/index.html"),
        ],
        "unvisited": format!("{class_dir}homework/{homework}"),
        "newTitle": new_title,
        "pdf": pdf,
    });
    let config_path = tmp.path().join("offline-browser.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();

    let remember_code = singles[0].code.clone();
    let slot_of = |code: &str| -> String {
        let store: serde_json::Value =
            serde_json::from_slice(&std::fs::read(site.join(".diary/store.json")).unwrap())
                .unwrap();
        let normalized = code.replace('-', "");
        store["codes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == normalized.as_str())
            .and_then(|c| c["slot"].as_str())
            .unwrap()
            .to_string()
    };
    let revoked_slot = slot_of(&remember_code);
    let old_sw = sw.clone();
    let mut steps: Vec<Step> = Vec::new();
    {
        let site = site.clone();
        let public = public.clone();
        steps.push((
            "STEP new-build",
            "done",
            Box::new(move || {
                // A theme change (the site's own style.css) and a new announcement.
                let css = std::fs::read_to_string(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/static/style.css"),
                )
                .unwrap();
                std::fs::create_dir_all(site.join("static")).unwrap();
                std::fs::write(
                    site.join("static/style.css"),
                    css + "\n.new-build { color: #123456; }\n",
                )
                .unwrap();
                std::fs::write(
                    site.join("content/2026-11-22-rink.md"),
                    format!(
                        "+++\ntitle = \"{new_title}\"\ndate = \"2026-11-22 10:00\"\n\
                         audience = \"school\"\n+++\nКаток открыт до 20:00.\n"
                    ),
                )
                .unwrap();
                build(&site);
                let sw = std::fs::read_to_string(public.join("sw.js")).unwrap();
                assert_ne!(sw, old_sw, "a new theme, a new service worker");
            }),
        ));
    }
    {
        let site = site.clone();
        let public = public.clone();
        let revoked_slot = revoked_slot.clone();
        steps.push((
            "STEP revoke",
            "done",
            Box::new(move || {
                diary()
                    .arg("-C")
                    .arg(&site)
                    .args(["codes", "revoke"])
                    .arg(&remember_code)
                    .assert()
                    .success();
                build(&site);
                assert!(
                    !public.join(format!("diary/k/{revoked_slot}.bin")).exists(),
                    "the revoked slot left the site"
                );
            }),
        ));
    }
    let report = run_browser_steps("offline.mjs", &config_path, steps);

    let scenarios = clean_scenarios(&report, 5);
    let names: Vec<&str> = scenarios
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["installable", "forget this device", "print this week"]
    );
    let main = &scenarios[0];
    let saved: Vec<&str> = main["saved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(saved.contains(&format!("/diary/k/{revoked_slot}.bin").as_str()));
    assert!(
        main["offlineNote"].as_str().unwrap().contains("2026"),
        "the offline note has the date: {}",
        main["offlineNote"]
    );

    // The printed week: one A4 page with the child's name and the week, no buttons.
    let print = &scenarios[2];
    assert_eq!(print["pdfPages"], 1);
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(info.contains("Pages:           1"), "{info}");
    let size = info
        .lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .expect("pdfinfo gives the page size");
    assert!(size.contains("(A4)"), "A4: {size}");
    let text = Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    let name = singles[1].first_name();
    assert!(text.contains(&name), "the child's name printed");
    let week_title = print["weekTitle"].as_str().unwrap();
    assert!(
        text.contains(week_title.split(':').next_back().unwrap().trim()),
        "the week printed: {week_title}"
    );
    for absent in ["Печать недели", "Забыть это устройство", "Закрыть дневник"]
    {
        assert!(!text.contains(absent), "{absent:?} is not printed");
    }
    println!(
        "offline: remembered diary opened with the network cut off in {} ms; printed week: {} page(s), {}",
        main["offlineOpenMs"],
        print["pdfPages"],
        pdf.display()
    );
}

/// The service worker and the manifest follow the theme and the site's settings, never the
/// journal: a build after new homework leaves both byte for byte as they were.
#[test]
fn the_service_worker_does_not_change_with_the_journal() {
    let (_tmp, site) = demo_site(30);
    issue_codes(&site, None);
    build(&site);
    let public = site.join("public");
    let sw = std::fs::read(public.join("sw.js")).unwrap();
    let manifest = std::fs::read(public.join("manifest.webmanifest")).unwrap();
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    let changed = conn
        .execute(
            "UPDATE lessons SET homework = 'Повторить § 7, ответить на вопросы 1–4' \
             WHERE id IN (SELECT id FROM lessons WHERE date >= '2026-11-23' \
             ORDER BY id LIMIT 20)",
            [],
        )
        .unwrap();
    assert!(changed > 0);
    drop(conn);
    let before = tree(&public);
    build(&site);
    let after = tree(&public);
    assert_ne!(before, after, "the new homework changed the site");
    assert_eq!(std::fs::read(public.join("sw.js")).unwrap(), sw);
    assert_eq!(
        std::fs::read(public.join("manifest.webmanifest")).unwrap(),
        manifest
    );
}
