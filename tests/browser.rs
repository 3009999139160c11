//! Pages in a real headless Chromium at phone width (360 px): no console errors, no request
//! leaving the site, no axe-core accessibility violations, no sideways scrolling, and under
//! 30 KB over the wire. Needs Debian's `chromium` (.ci/run installs it); the npm packages
//! that drive it are installed on first use.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Runs tests/browser/check-pages.mjs on `pages` of a built site and returns its report.
pub fn check_pages(public: &Path, pages: &[&str]) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    Tool::Chromium.require();
    Tool::BrowserPackages.require();
    let out = Command::new("node")
        .env("CHROMIUM", chromium().unwrap())
        .arg(dir.join("check-pages.mjs"))
        .arg(public)
        .args(pages)
        .output()
        .expect("node runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no report from the browser run:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "browser found problems:\n{report:#}");
    report
}

#[test]
fn boards_are_clean_at_phone_width() {
    let (_tmp, site) = demo_site(60);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let pages = [
        "index.html",
        "classes/index.html",
        "classes/5a/index.html",
        "classes/5a/homework/index.html",
        "classes/5a/timetable/index.html",
        "classes/5a/events/index.html",
    ];
    let report = check_pages(&site.join("public"), &pages);
    for page in report.as_array().unwrap() {
        let bytes = page["gzipBytes"].as_u64().unwrap();
        assert!(
            bytes < 30 * 1024,
            "{} weighs {bytes} bytes gzipped",
            page["page"]
        );
    }
}

#[test]
fn hand_made_school_is_clean_too() {
    let (_tmp, site) = mini_site();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    check_pages(
        &site.join("public"),
        &[
            "index.html",
            "classes/5b/index.html",
            "classes/5b/homework/index.html",
            "classes/5b/timetable/index.html",
        ],
    );
}
