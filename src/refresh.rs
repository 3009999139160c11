//! `diary refresh`: check, build and publish in one step, once (for cron or a systemd
//! timer) or every few minutes (`--every 10m`).
//!
//! A lock in the private store (`.diary/refresh.lock`, an OS file lock, so a crashed run
//! leaves nothing stale behind) keeps two runs from overlapping. A run whose check or build
//! fails publishes nothing. SIGINT and SIGTERM stop a loop between runs: the run under way
//! finishes first (a second signal stops at once).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::clock::Moment;
use anyhow::{Context, Result};

use crate::build;
use crate::config::Site;
use crate::files::private_dir;
use crate::publish::{self, Published};

/// The lock file's name in the private store.
pub(crate) const LOCK_FILE: &str = "refresh.lock";

/// How `diary refresh` runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Run again this long after each run started; `None`: run once.
    pub every: Option<Duration>,
    /// Build as of this day or moment instead of now in the school's timezone.
    pub today: Option<Moment>,
    /// Publish changed diaries at the first run, whatever the batch times.
    pub now: bool,
}

/// The lock held while a run builds and publishes; released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: File,
}

fn open_lock(site: &Site) -> Result<(File, PathBuf)> {
    let store = site.store_path();
    private_dir(&store)?;
    let path = store.join(LOCK_FILE);
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&path)
        .with_context(|| format!("cannot open the lock {}", path.display()))?;
    Ok((file, path))
}

/// Takes the refresh lock, or `None` when another process holds it.
pub(crate) fn try_lock(site: &Site) -> Result<Option<RunLock>> {
    let (file, path) = open_lock(site)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(RunLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Takes the refresh lock, waiting for a run that holds it (for `diary publish`).
pub(crate) fn lock_waiting(site: &Site) -> Result<RunLock> {
    if let Some(lock) = try_lock(site)? {
        return Ok(lock);
    }
    eprintln!("a refresh is running; waiting for it to finish…");
    let (file, path) = open_lock(site)?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(RunLock { _file: file })
}

/// Parses `--every`: a period such as `90s`, `10m`, `1h30m` (humantime's units).
pub(crate) fn parse_every(text: &str) -> std::result::Result<Duration, String> {
    let period = humantime::parse_duration(text.trim())
        .map_err(|_| format!("{text:?} is not a period such as 30s, 10m or 1h"))?;
    if period < Duration::from_secs(1) {
        return Err(format!("{text:?}: the period must be at least 1s"));
    }
    Ok(period)
}

/// What one run did.
enum Outcome {
    /// Built and published everywhere: the log line.
    Done(String),
    /// Another run holds the lock.
    Busy(PathBuf),
    /// The journal was being written for longer than `journal_wait`: the log line. Not a
    /// failure: the next run tries again.
    Skipped(String),
    /// Failed: the log line (and nothing was published when the build failed).
    Failed(String),
}

/// Runs `diary refresh` for the site folder `root`: once, or in a loop until SIGINT or
/// SIGTERM.
pub(crate) fn run(root: &Path, options: &Options) -> Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while a run finishes stops at once.
        signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&stop))
            .context("cannot install the signal handlers")?;
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the signal handlers")?;
    }
    let Some(every) = options.every else {
        return Ok(match run_once(root, options.today, options.now) {
            Outcome::Done(line) | Outcome::Skipped(line) => {
                eprintln!("{line}");
                ExitCode::SUCCESS
            }
            Outcome::Busy(lock) => {
                eprintln!(
                    "{} another refresh is running (it holds {}); this one did nothing",
                    stamp(),
                    lock.display()
                );
                ExitCode::SUCCESS
            }
            Outcome::Failed(line) => {
                eprintln!("{line}");
                ExitCode::FAILURE
            }
        });
    };
    eprintln!(
        "{} refreshing {} every {}; stop with Ctrl-C or SIGTERM",
        stamp(),
        root.display(),
        humanize(every)
    );
    let mut now = options.now;
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        // `--now` applies to the first run only; later runs follow the batch times.
        let outcome = run_once(root, options.today, now);
        now = false;
        match outcome {
            Outcome::Done(line) | Outcome::Failed(line) | Outcome::Skipped(line) => {
                eprintln!("{line}")
            }
            Outcome::Busy(lock) => eprintln!(
                "{} another refresh is running (it holds {}); skipped this run",
                stamp(),
                lock.display()
            ),
        }
        let next = started + every;
        while !stop.load(Ordering::SeqCst) && Instant::now() < next {
            std::thread::sleep(
                next.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(100)),
            );
        }
    }
    eprintln!("{} refresh stopped", stamp());
    Ok(ExitCode::SUCCESS)
}

fn run_once(root: &Path, today: Option<Moment>, now: bool) -> Outcome {
    let started = Instant::now();
    let fail = |what: &str, e: anyhow::Error| {
        Outcome::Failed(format!(
            "{} refresh FAILED after {:.2} s: {what}: {e:#}",
            stamp(),
            started.elapsed().as_secs_f64()
        ))
    };
    let site = match Site::load(root) {
        Ok(site) => site,
        Err(e) => return fail("nothing was built or published", e),
    };
    let _lock = match try_lock(&site) {
        Ok(Some(lock)) => lock,
        Ok(None) => return Outcome::Busy(site.store_path().join(LOCK_FILE)),
        Err(e) => return fail("nothing was built or published", e),
    };
    let moment = Moment::or_now(today, site.config.tz());
    let today = moment.date;
    let options = build::Options {
        moment,
        verbose: false,
        force: false,
        now,
    };
    let report = match build::build(&site, &options) {
        Ok(report) => report,
        Err(e) if e.chain().any(|c| c.is::<crate::journal::JournalBusy>()) => {
            return Outcome::Skipped(format!(
                "{} refresh skipped this run, to try again at the next: {e:#}",
                stamp()
            ));
        }
        Err(e) => return fail("nothing was published", e),
    };
    let s = report.stats;
    let mut line = format!(
        "{} refresh as of {today}: {} page(s) and file(s) new or changed, {} removed, {} \
         diary payload(s) sealed anew",
        stamp(),
        s.written,
        s.removed,
        report.resealed
    );
    if let Some(at) = report.held_until {
        line.push_str(&format!(
            " (diaries held until the batch at {})",
            at.format("%H:%M")
        ));
    }
    for note in build::diary_notes(&report)
        .into_iter()
        .skip(usize::from(report.held_until.is_some()))
    {
        line.push_str("; ");
        line.push_str(&note);
    }
    if site.config.publish.is_empty() {
        line.push_str(&format!(
            "; built only (site.toml declares no [publish] target); {:.2} s",
            started.elapsed().as_secs_f64()
        ));
        return Outcome::Done(line);
    }
    let reports = match publish::publish(&site, None, false) {
        Ok(r) => r,
        Err(e) => return fail(&line, e),
    };
    let mut total = Published::default();
    let mut failed = Vec::new();
    let mut parts = Vec::new();
    for r in &reports {
        match &r.result {
            Ok(p) => {
                total.uploaded += p.uploaded;
                total.deleted += p.deleted;
                total.unchanged += p.unchanged;
                parts.push(format!("{} {}/{}", r.name, p.uploaded, p.deleted));
            }
            Err(e) => failed.push(format!("{}: {e:#}", r.name)),
        }
    }
    line.push_str(&format!(
        "; {} file(s) uploaded, {} deleted, {} unchanged",
        total.uploaded, total.deleted, total.unchanged
    ));
    if !parts.is_empty() {
        line.push_str(&format!(" (uploaded/deleted: {})", parts.join(", ")));
    }
    line.push_str(&format!("; {:.2} s", started.elapsed().as_secs_f64()));
    if failed.is_empty() {
        Outcome::Done(line)
    } else {
        Outcome::Failed(format!(
            "{line}\n{} refresh FAILED to publish to {} target(s):\n{}",
            stamp(),
            failed.len(),
            failed.join("\n")
        ))
    }
}

/// The local time, at the start of each log line.
fn stamp() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn humanize(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_every("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_every("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_every("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in ["", "10", "m", "10x", "0s", "-5m"] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
        assert_eq!(humanize(Duration::from_secs(600)), "10m");
        assert_eq!(humanize(Duration::from_secs(5400)), "1h 30m");
    }

    #[test]
    fn the_lock_is_exclusive_and_never_stale() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.toml"), "").unwrap();
        let site = Site::load(dir.path()).unwrap();
        let first = try_lock(&site).unwrap().expect("free");
        assert!(try_lock(&site).unwrap().is_none(), "held");
        drop(first);
        assert!(try_lock(&site).unwrap().is_some(), "released");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(site.store_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
