//! Helpers shared by the integration tests: run the real binary on sites in temp folders.
#![allow(dead_code)]

pub mod independent;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `diary` binary, with a fixed day so builds are reproducible.
pub fn diary() -> Command {
    let mut cmd = Command::cargo_bin("diary").unwrap();
    cmd.env("DIARY_TODAY", "2026-11-23");
    cmd
}

/// A new demo site with `students` pupils in a temp folder.
pub fn demo_site(students: usize) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("school");
    diary()
        .args(["init", site.to_str().unwrap(), "--demo", "--students"])
        .arg(students.to_string())
        .assert()
        .success();
    (tmp, site)
}

/// A new site without a journal (`diary init`) in a temp folder.
pub fn empty_site() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("school");
    diary()
        .args(["init", site.to_str().unwrap()])
        .assert()
        .success();
    (tmp, site)
}

/// The tables of an SQLite database, by name.
pub fn tables(conn: &rusqlite::Connection) -> Vec<String> {
    conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A site whose journal is imported from the CSV fixture `tests/fixtures/mini-csv`.
pub fn mini_site() -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = empty_site();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["import", "csv"])
        .arg(fixture("mini-csv"))
        .assert()
        .success();
    (tmp, site)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Every file below `dir` with its bytes, by relative path.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Runs SQL against a site's journal (as an outside tool would, foreign keys off).
pub fn sql(site: &Path, statements: &str) {
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
    conn.execute_batch(statements).unwrap();
}

/// Full names ("Last First") of every pupil and guardian in a site's journal.
pub fn personal_names(site: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    let mut names = Vec::new();
    for table in ["students", "guardians"] {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT last_name || ' ' || first_name FROM {table}"
            ))
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        names.extend(rows.map(Result::unwrap));
    }
    names
}

/// Runs a query against a site's journal; every value as text (NULL as "").
pub fn query(site: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(site.join("data/journal.sqlite")).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| {
            Ok((0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => String::new(),
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    rusqlite::types::ValueRef::Real(v) => v.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(_) => String::new(),
                })
                .collect())
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Runs `diary -C site ARGS…`, which must fail with exit code 1 and say each of `needles`
/// on standard error; returns what it said.
pub fn refused(site: &Path, args: &[&str], needles: &[&str]) -> String {
    let out = diary().arg("-C").arg(site).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?} should say {needle:?}: {stderr}"
        );
    }
    stderr
}

/// The tools some tests need besides Rust. `.ci/test`, the README's test command, installs
/// them all on Debian; run directly, `cargo test` fails each test that lacks one with one
/// line saying which and how to get it, never passes it silently.
pub enum Tool {
    /// Debian's Chromium: browser tests and PDF printouts.
    Chromium,
    /// Node.js with npm and the packages of tests/browser (playwright-core, axe-core,
    /// lighthouse).
    BrowserPackages,
    /// `pdftotext` from poppler-utils: reading printed PDFs.
    Pdftotext,
    Rsync,
    Git,
    /// A local S3-compatible server: `python3 -m moto.server`.
    Moto,
}

impl Tool {
    fn install(&self) -> &'static str {
        match self {
            Tool::Chromium => "apt-get install chromium",
            Tool::BrowserPackages => "apt-get install nodejs npm && npm ci --prefix tests/browser",
            Tool::Pdftotext => "apt-get install poppler-utils",
            Tool::Rsync => "apt-get install rsync",
            Tool::Git => "apt-get install git",
            Tool::Moto => "python3 -m pip install 'moto[server]'",
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Tool::Chromium => "chromium",
            Tool::BrowserPackages => "node, npm and the npm packages of tests/browser",
            Tool::Pdftotext => "pdftotext",
            Tool::Rsync => "rsync",
            Tool::Git => "git",
            Tool::Moto => "moto (python3 -m moto.server)",
        }
    }

    fn present(&self) -> bool {
        let runs = |program: &str, args: &[&str]| {
            std::process::Command::new(program)
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        match self {
            Tool::Chromium => chromium().is_some(),
            Tool::BrowserPackages => {
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
                if !runs("node", &["--version"]) {
                    return false;
                }
                let installed = || {
                    ["playwright-core", "axe-core", "lighthouse"]
                        .iter()
                        .all(|p| dir.join("node_modules").join(p).is_dir())
                };
                // Installed once, by whichever test gets here first.
                static ONCE: std::sync::Once = std::sync::Once::new();
                ONCE.call_once(|| {
                    if !installed() {
                        let dir = dir.display().to_string();
                        runs("npm", &["ci", "--no-audit", "--no-fund", "--prefix", &dir]);
                    }
                });
                installed()
            }
            Tool::Pdftotext => runs("pdftotext", &["-v"]),
            Tool::Rsync => runs("rsync", &["--version"]),
            Tool::Git => runs("git", &["--version"]),
            Tool::Moto => runs("python3", &["-c", "import moto.server"]),
        }
    }

    /// Fails the test, in one line, when the tool is missing.
    pub fn require(&self) {
        if !self.present() {
            panic!(
                "missing tool: {} (install: `{}`; `.ci/test` installs everything the tests need)",
                self.name(),
                self.install()
            );
        }
    }
}

/// The Chromium the tests drive: `CHROMIUM` or `DIARY_CHROMIUM` if set, else Debian's.
pub fn chromium() -> Option<PathBuf> {
    ["CHROMIUM", "DIARY_CHROMIUM"]
        .iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|p| p.is_file())
}

/// Copies a folder and everything in it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Lowers a site's key-derivation cost to the minimum site.toml allows (100000), so codes
/// are issued and opened in milliseconds.
pub fn cheap_codes(site: &Path) {
    let path = site.join("site.toml");
    let toml = std::fs::read_to_string(&path).unwrap();
    assert!(
        toml.contains("iterations = 600000"),
        "the default in site.toml"
    );
    std::fs::write(
        &path,
        toml.replace("iterations = 600000", "iterations = 100000"),
    )
    .unwrap();
}

/// `diary codes issue`, for everyone or one class, which must succeed.
pub fn issue_codes(site: &Path, class: Option<&str>) {
    let mut cmd = diary();
    cmd.arg("-C").arg(site).args(["codes", "issue"]);
    if let Some(class) = class {
        cmd.args(["--class", class]);
    }
    cmd.assert().success();
}

/// Every row of `diary codes list --format csv`, by column name.
pub fn code_list(site: &Path) -> Vec<BTreeMap<String, String>> {
    let out = diary()
        .arg("-C")
        .arg(site)
        .args(["codes", "list", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "codes list failed");
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// One active code of `diary codes list`, with the pupil it opens.
#[derive(Debug, Clone)]
pub struct CodeRow {
    pub code: String,
    pub student_id: i64,
    /// "Last First Middle".
    pub student_name: String,
}

impl CodeRow {
    /// "Last First Middle" → "First" (what the slot calls the child).
    pub fn first_name(&self) -> String {
        self.student_name
            .split_whitespace()
            .nth(1)
            .unwrap_or(&self.student_name)
            .to_string()
    }
}

/// The active codes of `diary codes list`, a row per code and pupil it opens.
pub fn active_codes(site: &Path) -> Vec<CodeRow> {
    code_list(site)
        .into_iter()
        .filter(|r| r["status"] == "active")
        .map(|r| CodeRow {
            code: r["code"].clone(),
            student_id: r["student_id"].parse().unwrap(),
            student_name: r["student_name"].clone(),
        })
        .collect()
}

/// A step of a browser script: the line it prints when it waits, the answer, and what to
/// do to the site meanwhile.
pub type Step<'a> = (&'a str, &'a str, Box<dyn FnMut() + 'a>);

/// Runs the browser script `tests/browser/<script>` on `config`. Each step is a line the
/// script prints on stderr when it waits, the line to answer on its stdin, and what to do
/// to the site meanwhile (a revocation, new marks and a rebuild). Every step must come, in
/// order. Returns the script's JSON report, which must say `"ok": true`.
pub fn run_browser_steps(script: &str, config: &Path, mut steps: Vec<Step>) -> serde_json::Value {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let mut child = std::process::Command::new("node")
        .env("CHROMIUM", chromium().unwrap())
        .arg(dir.join(script))
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (install Node.js)");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let (tx, rx) = mpsc::channel::<String>();
    let err_thread = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let mut done = 0;
    while done < steps.len() {
        match rx.recv_timeout(Duration::from_secs(900)) {
            Ok(line) if line.trim() == steps[done].0 => {
                let (_, reply, action) = &mut steps[done];
                action();
                stdin.write_all(format!("{reply}\n").as_bytes()).unwrap();
                stdin.flush().unwrap();
                done += 1;
            }
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("{script} made no progress in 15 minutes");
            }
        }
    }
    drop(stdin);
    let status = child.wait().unwrap();
    let out = out_thread.join().unwrap();
    let err = err_thread.join().unwrap();
    let report: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|_| panic!("no report from {script}:\n{out}\n{err}"));
    assert!(
        status.success() && report["ok"] == true,
        "the browser found problems:\n{report:#}\n{err}"
    );
    assert_eq!(
        done,
        steps.len(),
        "{script} ended before its step {:?}:\n{report:#}\n{err}",
        steps.get(done).map(|s| s.0)
    );
    report
}

/// A browser report's scenarios, each of which must have checked more than `min_checks`
/// things and found no failure, console error or request leaving the site.
pub fn clean_scenarios(report: &serde_json::Value, min_checks: u64) -> &[serde_json::Value] {
    let scenarios = report["scenarios"].as_array().expect("a list of scenarios");
    for s in scenarios {
        assert!(
            s["checks"].as_u64().unwrap() > min_checks,
            "{} checked things",
            s["name"]
        );
        assert_eq!(s["failures"], serde_json::json!([]), "{}", s["name"]);
        assert_eq!(s["consoleErrors"], serde_json::json!([]), "{}", s["name"]);
        assert_eq!(s["external"], serde_json::json!([]), "{}", s["name"]);
    }
    scenarios
}
