//! The diary unlock page on a slow phone: a demo site built with the site's default PBKDF2
//! iterations (600000, what a school gets), opened in Debian's headless Chromium at phone
//! width with DevTools CPU throttling 4×. Prints how long a typed code takes from tapping
//! "open" to the week on screen, and how long a remembered device takes from reloading to
//! the week on screen, with where the time goes (the page's own step marks). Times are
//! printed, not asserted: they are measured (see BENCHMARKS.md). Asserted: the diary opens
//! each time, every step is marked, no key derivation on a remembered device, and the
//! progress indicator moves while the key is derived (the sliding bar; with reduced motion
//! the seconds counter), axe-core clean meanwhile. The browser side is
//! tests/browser/slow-phone.mjs. DevTools throttling slows the page, not the browser's
//! WebCrypto worker: PBKDF2 runs at this machine's speed (its time is printed unthrottled
//! too).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// DevTools' "4× slowdown": what it offers for a mid-range phone.
const RATE: u32 = 4;
const RUNS: u32 = 5;

/// A code that opens one child, and that child's first name.
fn one_child_code(site: &Path) -> (String, String) {
    let rows = active_codes(site);
    let row = rows
        .iter()
        .find(|r| rows.iter().filter(|o| o.code == r.code).count() == 1)
        .expect("a code that opens one child");
    (row.code.clone(), row.first_name())
}

#[test]
fn diary_opens_quickly_on_a_slow_phone() {
    Tool::Chromium.require();
    Tool::BrowserPackages.require();

    let (tmp, site) = demo_site(60);
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    assert!(
        toml.lines().any(|l| l.trim() == "iterations = 600000"),
        "the demo site keeps the default 600000 PBKDF2 iterations"
    );
    // Codes for one class only: each code costs a derivation at 600000 iterations.
    issue_codes(&site, Some("8А"));
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let public = site.join("public");
    let params: serde_json::Value =
        serde_json::from_slice(&std::fs::read(public.join("diary/params.json")).unwrap()).unwrap();
    assert_eq!(params["iterations"], 600_000);
    let (code, name) = one_child_code(&site);

    let config = serde_json::json!({
        "public": public, "code": code, "name": name, "rate": RATE, "runs": RUNS,
    });
    let config_path = tmp.path().join("slow-phone.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/slow-phone.mjs");
    let out = Command::new("node")
        .env("CHROMIUM", chromium().unwrap())
        .arg(&script)
        .arg(&config_path)
        .output()
        .expect("node runs (install Node.js)");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no report from the browser run:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success() && report["ok"] == true,
        "the slow-phone run found problems:\n{report:#}"
    );
    assert_eq!(report["failures"], serde_json::json!([]));

    let times = |k: &str| -> Vec<u64> {
        report[k]
            .as_array()
            .unwrap_or_else(|| panic!("{k} measured"))
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    let (typed, remembered) = (times("typed"), times("remembered"));
    assert_eq!(typed.len(), RUNS as usize, "every typed run measured");
    assert_eq!(remembered.len(), RUNS as usize, "every reload measured");
    let motion = &report["progress"]["motion"];
    assert!(motion["distinctPositions"].as_u64().unwrap() >= 2);
    let counter = report["progress"]["reducedMotion"]["counter"]
        .as_array()
        .unwrap();
    assert!(
        counter.len() >= 2,
        "the seconds counter changed: {counter:?}"
    );
    assert_eq!(
        report["progress"]["axe"]["violations"],
        serde_json::json!([])
    );

    println!(
        "diary on a slow phone (CPU throttled {RATE}×, PBKDF2 600000 rounds, 360 px): typed code, \
         tap on \"open\" → week on screen: {typed:?} ms (median {}); remembered device, reload → \
         week on screen: {remembered:?} ms (median {}); unthrottled typed code {} ms",
        report["typedMedianMs"], report["rememberedMedianMs"], report["unthrottledTypedMs"]
    );
    println!(
        "progress bar during the derivation ({} ms): {} positions in {} samples; reduced motion: {}",
        motion["derivationMs"],
        motion["distinctPositions"],
        motion["samples"],
        counter
            .iter()
            .map(|c| c.as_str().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" → ")
    );
    for (run, steps) in report["steps"].as_object().unwrap() {
        println!("  {run}: {steps} (ms per step)");
    }
    println!("  CPU check (a fixed loop, ms): {}", report["spinMs"]);
}
