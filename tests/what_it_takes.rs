//! "What it takes" in the browser and in Rust give the same answers: the diary's
//! themes/default/static/takes.js, run by Node (tests/browser/takes.mjs), on every case of
//! tests/fixtures/what_it_takes.json (the Rust side runs them in src/grades.rs's unit
//! tests) and on generated cases answered by `diary::what_it_takes_json`.

mod common;

use std::path::Path;
use std::process::Command;

use common::Tool;

/// Runs tests/browser/takes.mjs (with `more`, a file of more cases); its JSON report.
fn run_takes(more: Option<&Path>) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/takes.mjs");
    let out = Command::new("node")
        .arg(script)
        .args(more)
        .output()
        .expect("node runs (install Node.js)");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no report from takes.mjs:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success() && report["failures"] == serde_json::json!([]),
        "the browser's computation disagrees:\n{report:#}"
    );
    report
}

#[test]
fn the_browser_answers_every_fixture_case() {
    Tool::BrowserPackages.require();
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("what_it_takes.json")).unwrap(),
    )
    .unwrap();
    let cases = fixture["cases"].as_array().unwrap().len();
    assert!(cases >= 10, "the fixture has its cases");
    let report = run_takes(None);
    assert_eq!(report["cases"], cases, "every case ran");
}

/// A small deterministic generator (a 64-bit LCG), so that a failure repeats.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn the_browser_agrees_with_rust_on_generated_cases() {
    Tool::BrowserPackages.require();
    let mut rng = Lcg(17);
    let weights_choices: [&[f64]; 4] = [&[1.0], &[1.0, 2.0], &[0.5, 1.0, 1.5, 2.0], &[1.0, 3.0]];
    let mut cases = Vec::new();
    for i in 0..400 {
        let (min, max) = if rng.below(4) == 0 { (1, 10) } else { (1, 5) };
        let mut thresholds = serde_json::Map::new();
        if rng.below(2) == 0 {
            for m in (min + 1)..=max {
                // A threshold between m − 1 and m, in hundredths.
                let t = f64::from(m - 1) + (rng.below(100) + 1) as f64 / 100.0;
                thresholds.insert(m.to_string(), t.into());
            }
        }
        let weights = weights_choices[rng.below(4) as usize];
        let marks: Vec<serde_json::Value> = (0..rng.below(14))
            .map(|_| match rng.below(10) {
                0 => serde_json::json!("зч"),
                1 => serde_json::json!([min + rng.below(u64::from(max - min + 1)) as u8, 0]),
                _ => serde_json::json!([
                    min + rng.below(u64::from(max - min + 1)) as u8,
                    weights[rng.below(weights.len() as u64) as usize]
                ]),
            })
            .collect();
        let input = serde_json::json!({
            "rules": {
                "min": min, "max": max, "thresholds": thresholds,
                "min_marks": rng.below(5), "weights": weights, "cap": 1 + rng.below(8),
            },
            "marks": marks,
        });
        let expected: serde_json::Value =
            serde_json::from_str(&diary::what_it_takes_json(&input.to_string()).unwrap()).unwrap();
        cases.push(serde_json::json!({
            "name": format!("generated {i}"),
            "rules": input["rules"],
            "marks": input["marks"],
            "expected": expected,
        }));
    }
    // The generator reaches every kind of answer.
    let has = |f: &dyn Fn(&serde_json::Value) -> bool| cases.iter().any(|c| f(&c["expected"]));
    assert!(has(&|e| e.is_null()), "a words-only case");
    assert!(has(&|e| e["beyond_cap"] == true), "a case beyond the cap");
    assert!(
        has(&|e| e["next"].is_null() && e["count"] != 0),
        "a case at the top"
    );
    assert!(
        has(&|e| e["options"].as_array().is_some_and(|o| o.len() > 1)),
        "a case with several ways"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("generated.json");
    std::fs::write(
        &path,
        serde_json::to_vec(&serde_json::json!({ "cases": cases })).unwrap(),
    )
    .unwrap();
    let fixture_cases = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(common::fixture("what_it_takes.json")).unwrap(),
    )
    .unwrap()["cases"]
        .as_array()
        .unwrap()
        .len();
    let report = run_takes(Some(&path));
    assert_eq!(
        report["cases"],
        fixture_cases + cases.len(),
        "every case ran"
    );
}
