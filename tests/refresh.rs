//! `diary refresh`: check, build and publish in one step; the lock against overlapping
//! runs; a broken journal publishes nothing; the `--every` loop stops cleanly on SIGTERM.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use predicates::prelude::*;

/// A demo site (not built) that publishes to the folder `www` beside it.
fn site_publishing_to_dir() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, site) = demo_site(30);
    let path = site.join("site.toml");
    let mut toml = std::fs::read_to_string(&path).unwrap();
    toml.push_str("\n[publish.web]\nkind = \"dir\"\npath = \"../www\"\n");
    std::fs::write(&path, toml).unwrap();
    let www = tmp.path().join("www");
    (tmp, site, www)
}

/// Makes the journal fail the checks (a mark outside the scale).
const BREAK: &str =
    "UPDATE marks SET value = '7' WHERE id = (SELECT min(id) FROM marks WHERE value = '5');";

#[test]
fn one_shot_builds_and_publishes() {
    let (tmp, site, www) = site_publishing_to_dir();
    // As an admin in the parent folder would run it: a relative site path.
    diary()
        .current_dir(tmp.path())
        .args(["-C", "school", "refresh"])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("refresh as of 2026-11-23")
                .and(predicate::str::contains("0 deleted, 0 unchanged")),
        );
    let public = tree(&site.join("public"));
    assert!(public.contains_key("index.html"));
    assert_eq!(tree(&www), public);
    // Nothing changed: nothing rebuilt, nothing sent.
    diary()
        .arg("-C")
        .arg(&site)
        .arg("refresh")
        .assert()
        .success()
        .stderr(
            predicate::str::contains("0 page(s) and file(s) new or changed")
                .and(predicate::str::contains("0 file(s) uploaded, 0 deleted")),
        );
    // --today works as in `diary build`.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["refresh", "--today", "2026-12-01"])
        .assert()
        .success()
        .stderr(predicate::str::contains("refresh as of 2026-12-01"));
    assert_eq!(tree(&www), tree(&site.join("public")));
    let store = std::fs::metadata(site.join(".diary")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(store.permissions().mode() & 0o777, 0o700);
    }
    let _ = store;
}

#[test]
fn a_second_run_while_one_holds_the_lock_does_nothing() {
    let (_tmp, site, www) = site_publishing_to_dir();
    diary()
        .arg("-C")
        .arg(&site)
        .arg("refresh")
        .assert()
        .success();
    let public = tree(&site.join("public"));
    let served = tree(&www);

    // The test holds the lock, as a running refresh would.
    let lock = File::options()
        .read(true)
        .write(true)
        .open(site.join(".diary/refresh.lock"))
        .unwrap();
    lock.lock().unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["refresh", "--today", "2026-12-01"])
        .assert()
        .success()
        .stderr(predicate::str::contains("another refresh is running"));
    assert_eq!(tree(&site.join("public")), public, "nothing was built");
    assert_eq!(tree(&www), served, "nothing was published");

    // `diary publish` waits for the running refresh instead.
    let mut publish = Command::new(assert_cmd::cargo::cargo_bin("diary"))
        .arg("-C")
        .arg(&site)
        .arg("publish")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(publish.try_wait().unwrap().is_none(), "publish waits");
    drop(lock);
    let out = publish.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("waiting for it to finish"), "{stderr}");
    assert!(stderr.contains("0 uploaded, 0 deleted"), "{stderr}");

    // Released: the next run builds and publishes.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["refresh", "--today", "2026-12-01"])
        .assert()
        .success()
        .stderr(predicate::str::contains("refresh as of 2026-12-01"));
    assert_ne!(tree(&www), served);
}

#[test]
fn a_broken_journal_publishes_nothing() {
    let (_tmp, site, www) = site_publishing_to_dir();
    diary()
        .arg("-C")
        .arg(&site)
        .arg("refresh")
        .assert()
        .success();
    let public = tree(&site.join("public"));
    let served = tree(&www);
    sql(&site, BREAK);
    diary()
        .arg("-C")
        .arg(&site)
        .args(["refresh", "--today", "2026-12-01"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("refresh FAILED")
                .and(predicate::str::contains("nothing was published"))
                .and(predicate::str::contains("is not a mark of the scale")),
        );
    assert_eq!(tree(&site.join("public")), public);
    assert_eq!(tree(&www), served);
}

/// A running `diary refresh --every …` whose standard error goes to a file.
struct Looping {
    child: Child,
    log: PathBuf,
}

impl Looping {
    fn start(site: &Path, every: &str) -> Looping {
        let log = site.with_file_name("refresh.log");
        let child = Command::new(assert_cmd::cargo::cargo_bin("diary"))
            .arg("-C")
            .arg(site)
            .args(["refresh", "--every", every])
            .env("DIARY_TODAY", "2026-11-23")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Looping { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log holds `count` lines containing `text`.
    fn wait_for(&mut self, text: &str, count: usize) {
        let started = Instant::now();
        while self.log().matches(text).count() < count {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("refresh exited early ({status}):\n{}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no {count} × {text:?} in:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM with the `kill` command and waits for the exit.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "refresh did not stop:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Looping {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_loop_reports_failures_until_fixed_and_stops_on_sigterm() {
    let (_tmp, site, www) = site_publishing_to_dir();
    let journal = site.join("data/journal.sqlite");
    let good = std::fs::read(&journal).unwrap();
    let mut refresh = Looping::start(&site, "1s");
    refresh.wait_for("refresh as of", 1);
    assert!(www.join("index.html").exists());
    let served = tree(&www);

    // Broken: every run reports it, nothing is published.
    sql(&site, BREAK);
    refresh.wait_for("refresh FAILED", 2);
    assert_eq!(tree(&www), served);
    // Fixed: the next run succeeds again.
    std::fs::write(&journal, &good).unwrap();
    let before = refresh.log().matches("refresh as of").count();
    refresh.wait_for("refresh as of", before + 1);

    let status = refresh.terminate();
    assert_eq!(status.code(), Some(0), "{}", refresh.log());
    let log = refresh.log();
    assert!(log.trim_end().ends_with("refresh stopped"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn sigterm_during_a_run_lets_it_finish_then_exits() {
    let (_tmp, site, www) = site_publishing_to_dir();
    let mut refresh = Looping::start(&site, "1h");
    // The first run starts right after this line: the signal arrives during it.
    refresh.wait_for("every 1h", 1);
    let status = refresh.terminate();
    assert_eq!(status.code(), Some(0), "{}", refresh.log());
    let log = refresh.log();
    assert_eq!(
        log.matches("refresh as of").count(),
        1,
        "the run finished: {log}"
    );
    assert!(log.trim_end().ends_with("refresh stopped"), "{log}");
    assert_eq!(tree(&www), tree(&site.join("public")));
}
