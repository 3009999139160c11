//! `diary publish`: put the built site (the output folder) where families read it, for each
//! `[publish.NAME]` target of site.toml: a local folder switched atomically (`dir`), another
//! host through rsync, an S3-compatible bucket, or a git branch for GitHub/GitLab Pages.
//!
//! Every target sends only what changed and reports what it did: files uploaded, deleted
//! and unchanged, so publishing the same build twice sends nothing the second time. A
//! target publishes the output folder as one snapshot: if a build swaps the folder while a
//! target publishes it, the target stops with an error instead of publishing a mix.

pub(crate) mod dir;
pub(crate) mod git;
pub(crate) mod rsync;
#[cfg(feature = "s3")]
pub(crate) mod s3;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::config::{PublishTarget, Site};

/// One file of the built site.
#[derive(Debug, Clone)]
pub(crate) struct SiteFile {
    /// Relative path with `/` separators, e.g. `classes/5b/index.html`.
    pub path: String,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    pub size: u64,
}

/// The built site as it was when publishing began.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub root: PathBuf,
    /// Sorted by path.
    pub files: Vec<SiteFile>,
    identity: (u64, u64),
}

impl Snapshot {
    /// Reads and hashes every file of the output folder. Refuses a folder that does not
    /// hold a built site.
    pub(crate) fn scan(output: &Path) -> Result<Snapshot> {
        if !output.join("index.html").is_file() {
            bail!(
                "{} holds no built site (no index.html): run `diary build` (or `diary refresh`) first",
                output.display()
            );
        }
        let identity = identity(output)?;
        let mut files = Vec::new();
        let mut stack = vec![output.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
                let entry = entry?;
                let path = entry.path();
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() {
                    let rel = path
                        .strip_prefix(output)
                        .expect("below the output folder")
                        .to_string_lossy()
                        .replace('\\', "/");
                    let (sha256, size) = hash_file(&path)?;
                    files.push(SiteFile {
                        path: rel,
                        sha256,
                        size,
                    });
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let snapshot = Snapshot {
            root: output.to_path_buf(),
            files,
            identity,
        };
        snapshot.check_unchanged()?;
        Ok(snapshot)
    }

    /// The bytes of a file, checked against the hash taken by [`Snapshot::scan`].
    pub(crate) fn read(&self, file: &SiteFile) -> Result<Vec<u8>> {
        let path = self.root.join(&file.path);
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if sha256_hex(&bytes) != file.sha256 {
            bail!(
                "{} changed while it was being published (did a build run?); nothing more was \
                 sent: publish again",
                path.display()
            );
        }
        Ok(bytes)
    }

    /// Fails when a build has swapped the output folder since the scan: what a target holds
    /// would then mix two builds.
    pub(crate) fn check_unchanged(&self) -> Result<()> {
        if identity(&self.root).ok() != Some(self.identity) {
            bail!(
                "{} was replaced by a new build while it was being published; publish again",
                self.root.display()
            );
        }
        Ok(())
    }
}

/// The device and inode of a folder: a build's swap gives the output folder a new inode.
fn identity(dir: &Path) -> Result<(u64, u64)> {
    let meta = fs::metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let created = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        Ok((0, created))
    }
}

/// What publishing to one target did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Published {
    /// Files sent because they were new or changed.
    pub uploaded: usize,
    /// Files removed from the target because the site no longer has them.
    pub deleted: usize,
    /// Files the target already held with the same bytes.
    pub unchanged: usize,
}

/// The outcome for one target.
#[derive(Debug)]
pub(crate) struct TargetReport {
    pub name: String,
    pub kind: &'static str,
    /// Where it went, for messages (`/var/www/diary`, `s3://bucket/prefix`…).
    pub place: String,
    pub result: Result<Published>,
    pub elapsed: Duration,
}

impl std::fmt::Display for TargetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.result {
            Ok(p) => write!(
                f,
                "{} ({} {}): {} uploaded, {} deleted, {} unchanged, {:.2} s",
                self.name,
                self.kind,
                self.place,
                p.uploaded,
                p.deleted,
                p.unchanged,
                self.elapsed.as_secs_f64()
            ),
            Err(e) => write!(
                f,
                "{} ({} {}) FAILED after {:.2} s: {e:#}",
                self.name,
                self.kind,
                self.place,
                self.elapsed.as_secs_f64()
            ),
        }
    }
}

/// The targets to publish to: `only` or every target of site.toml.
pub(crate) fn targets<'a>(
    site: &'a Site,
    only: Option<&str>,
) -> Result<Vec<(&'a str, &'a PublishTarget)>> {
    let all = &site.config.publish;
    if all.is_empty() {
        bail!(
            "site.toml declares no publish target: add a [publish.NAME] table \
             (docs/operations.md; a commented example ends the site.toml that `diary init` writes)"
        );
    }
    match only {
        None => Ok(all.iter().map(|(k, v)| (k.as_str(), v)).collect()),
        Some(name) => match all.get_key_value(name) {
            Some((k, v)) => Ok(vec![(k.as_str(), v)]),
            None => bail!(
                "no publish target {name:?} in site.toml; it declares: {}",
                all.keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// Publishes the built site to `only` or to every target. Each target is tried even if
/// another fails; the reports say which failed. `force` publishes over the guards of
/// [`Guard`].
pub(crate) fn publish(site: &Site, only: Option<&str>, force: bool) -> Result<Vec<TargetReport>> {
    let targets = targets(site, only)?;
    let snapshot = Snapshot::scan(&site.output_path())?;
    let guard = Guard::new(&snapshot, force);
    Ok(targets
        .into_iter()
        .map(|(name, target)| publish_one(site, name, target, &snapshot, &guard))
        .collect())
}

/// A kind of place the site is published to: one implementation per kind, each in its
/// own module, reached through [`target`].
pub(crate) trait Target {
    /// Where it goes, for messages (`/var/www/diary`, `s3://bucket/prefix at …`).
    fn place(&self, site: &Site) -> String;
    /// Sends the snapshot, only what changed, after `guard` approved what the target
    /// serves; `name` is the target's name in site.toml.
    fn publish(
        &self,
        site: &Site,
        name: &str,
        snapshot: &Snapshot,
        guard: &Guard,
    ) -> Result<Published>;
}

/// The implementation of a target of site.toml.
pub(crate) fn target(target: &PublishTarget) -> &dyn Target {
    match target {
        PublishTarget::Dir(t) => t,
        PublishTarget::Rsync(t) => t,
        PublishTarget::S3(t) => t,
        PublishTarget::Git(t) => t,
    }
}

/// Publishes a snapshot to one target.
pub(crate) fn publish_one(
    site: &Site,
    name: &str,
    config: &PublishTarget,
    snapshot: &Snapshot,
    guard: &Guard,
) -> TargetReport {
    let started = Instant::now();
    let t = target(config);
    let result = t
        .publish(site, name, snapshot, guard)
        .with_context(|| format!("publishing to [publish.{name}]"));
    TargetReport {
        name: name.to_string(),
        kind: config.kind(),
        place: t.place(site),
        result,
        elapsed: started.elapsed(),
    }
}

/// Without the `s3` feature, an S3 target says how to get it.
#[cfg(not(feature = "s3"))]
impl Target for crate::config::S3Target {
    fn place(&self, _site: &Site) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix())
    }

    fn publish(&self, _: &Site, _: &str, _: &Snapshot, _: &Guard) -> Result<Published> {
        bail!(
            "this diary was built without S3 support: build it with the default features \
             (`cargo install --path .`), or publish to a dir, rsync or git target"
        )
    }
}

/// The diaries a target serves, or a build holds: diary files (chunks, or version 1's
/// pages) and slot files, and the salt of `diary/params.json`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Diaries {
    pub pages: usize,
    pub slots: usize,
    pub salt: Option<String>,
}

impl Diaries {
    /// Counts the diary and slot files among site paths (`diary/c/….bin` or version 1's
    /// `diary/p/….bin`, and `diary/k/….bin`).
    pub(crate) fn count<'a>(paths: impl IntoIterator<Item = &'a str>) -> Diaries {
        let mut d = Diaries::default();
        for p in paths {
            if p.ends_with(".bin") {
                if p.starts_with("diary/c/") || p.starts_with("diary/p/") {
                    d.pages += 1;
                } else if p.starts_with("diary/k/") {
                    d.slots += 1;
                }
            }
        }
        d
    }

    /// With the salt read from the bytes of a `params.json`.
    pub(crate) fn with_params(mut self, params: Option<&[u8]>) -> Diaries {
        self.salt = params.and_then(crate::seal::params_salt);
        self
    }

    fn is_empty(&self) -> bool {
        self.pages == 0 && self.slots == 0
    }
}

/// What keeps a publish from locking families out: it refuses to replace a target's
/// diaries with none (a build made without the private store, in a fresh checkout or a CI
/// job), with diaries of another store (another salt), or with a tenth fewer or more. Each
/// target checks what it serves before it changes anything; `--force` publishes anyway.
#[derive(Debug)]
pub(crate) struct Guard {
    built: Diaries,
    force: bool,
}

impl Guard {
    pub(crate) fn new(snap: &Snapshot, force: bool) -> Guard {
        let built = Diaries::count(snap.files.iter().map(|f| f.path.as_str())).with_params(
            fs::read(snap.root.join("diary/params.json"))
                .ok()
                .as_deref(),
        );
        Guard { built, force }
    }

    /// Refuses (with what to do) when publishing would take `served` off the target.
    pub(crate) fn check(&self, served: &Diaries) -> Result<()> {
        if self.force || served.is_empty() {
            return Ok(());
        }
        let built = &self.built;
        if built.is_empty() {
            bail!(
                "this build has no diaries, but the target serves {} diary files and {} codes: \
                 publishing would delete every family's diary. The build was made without the \
                 private store (a fresh checkout, a CI job, a new server?): build where the \
                 store is, or restore it from its backup (docs/operations.md), and publish \
                 again. To take the diaries off the site on purpose: `diary publish --force`. \
                 Nothing was sent",
                served.pages,
                served.slots
            );
        }
        if served.salt.is_some() && built.salt.is_some() && served.salt != built.salt {
            bail!(
                "the target serves diaries sealed by another private store (its \
                 diary/params.json names another salt): publishing this build would lock every \
                 family out. Build with this site's own store (restore it from its backup, \
                 docs/operations.md); to replace the diaries on purpose, with new codes for \
                 everyone: `diary publish --force`. Nothing was sent"
            );
        }
        if crate::output::loses_a_tenth(served.pages, built.pages)
            || crate::output::loses_a_tenth(served.slots, built.slots)
        {
            bail!(
                "the target serves {} diary files and {} codes, this build has {} and {}: more than \
                 a tenth of the families would lose their diary. If that is right (a new school \
                 year), publish with `--force`; if not, build again with the right journal and \
                 private store. Nothing was sent",
                served.pages,
                served.slots,
                built.pages,
                built.slots
            );
        }
        Ok(())
    }
}

/// The order files are sent in, so that a reader during an upload meets as few broken
/// links as possible: assets and payloads first, then pages, the front page last.
#[cfg(any(feature = "s3", test))]
pub(crate) fn upload_phase(path: &str) -> u8 {
    if path == "index.html" {
        2
    } else if path.ends_with(".html") {
        1
    } else {
        0
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut file =
        fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Runs a command, failing with its standard error when it exits non-zero. `what` names
/// the program for messages (and for a missing program: how to install it).
fn run_command(cmd: &mut std::process::Command, what: &str) -> Result<std::process::Output> {
    own_process_group(cmd);
    let output = cmd.output().map_err(|e| program_error(e, what))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = stderr.trim();
        bail!(
            "`{what}` failed ({}){}{}",
            output.status,
            if stderr.is_empty() { "" } else { ": " },
            stderr
        );
    }
    Ok(output)
}

/// The error of a program that could not be started: for a missing one, how to install it.
fn program_error(e: std::io::Error, what: &str) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "the `{what}` program is not installed (or not on PATH); install it, e.g. \
             `apt-get install {what}`"
        )
    } else {
        anyhow::anyhow!("cannot run `{what}`: {e}")
    }
}

/// Puts a child in its own process group, so that Ctrl-C in a terminal stops `diary
/// refresh` between runs (see `refresh`) instead of killing an upload half-way.
fn own_process_group(cmd: &mut std::process::Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    #[cfg(not(unix))]
    let _ = cmd;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_order() {
        use crate::output::cache_control;
        assert_eq!(cache_control("static/style.css"), "public, max-age=86400");
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("diary/params.json"), "no-cache");
        assert_eq!(cache_control("diary/p/abc.bin"), "no-cache");
        assert_eq!(cache_control("classes/5b/feed.xml"), "no-cache");
        assert!(upload_phase("diary/p/x.bin") < upload_phase("classes/5b/index.html"));
        assert!(upload_phase("classes/5b/index.html") < upload_phase("index.html"));
    }

    #[test]
    fn snapshot_hashes_and_notices_a_swap() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        fs::create_dir_all(out.join("a")).unwrap();
        fs::write(out.join("index.html"), "x").unwrap();
        fs::write(out.join("a/b.txt"), "").unwrap();
        let snap = Snapshot::scan(&out).unwrap();
        let paths: Vec<&str> = snap.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a/b.txt", "index.html"]);
        assert_eq!(
            snap.files[0].sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(snap.read(&snap.files[1]).unwrap(), b"x");
        fs::write(out.join("index.html"), "y").unwrap();
        assert!(snap.read(&snap.files[1]).is_err());
        snap.check_unchanged().unwrap();
        fs::rename(&out, dir.path().join("old")).unwrap();
        fs::create_dir_all(&out).unwrap();
        assert!(snap.check_unchanged().is_err());
    }

    #[test]
    fn the_guard_keeps_diaries_on_the_target() {
        let served = Diaries {
            pages: 40,
            slots: 60,
            salt: Some("A".into()),
        };
        let guard = |pages, slots, salt: &str, force| Guard {
            built: Diaries {
                pages,
                slots,
                salt: (!salt.is_empty()).then(|| salt.to_string()),
            },
            force,
        };
        let err = guard(0, 0, "", false).check(&served).unwrap_err();
        assert!(err.to_string().contains("no diaries"), "{err}");
        let err = guard(40, 60, "B", false).check(&served).unwrap_err();
        assert!(err.to_string().contains("another"), "{err}");
        let err = guard(30, 60, "A", false).check(&served).unwrap_err();
        assert!(err.to_string().contains("a tenth"), "{err}");
        guard(40, 59, "A", false).check(&served).unwrap();
        guard(0, 0, "", true).check(&served).unwrap();
        guard(0, 0, "", false).check(&Diaries::default()).unwrap();
        assert_eq!(
            Diaries::count([
                "diary/p/a.bin",
                "diary/k/b.bin",
                "diary/k/c.bin",
                "diary/index.html"
            ]),
            Diaries {
                pages: 1,
                slots: 2,
                salt: None
            }
        );
    }

    #[test]
    fn scan_refuses_an_unbuilt_site() {
        let dir = tempfile::tempdir().unwrap();
        let err = Snapshot::scan(&dir.path().join("public")).unwrap_err();
        assert!(err.to_string().contains("diary build"), "{err}");
    }
}
