//! Output: every generated file goes through [`Output::write_output`]; [`Output::commit`]
//! brings a spare folder beside the target (`public.spare`, the output of the build before
//! the last) to exactly the new output and swaps the two, so a failed build leaves the
//! previous site served and intact, and nothing stale survives.
//!
//! Files whose bytes did not change are hard links to the previous output's files instead
//! of being written again, so their modification times (and a later upload's diff) stay
//! put, and the spare costs disk space only for the files that changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

/// The Cache-Control header a published file is served with. File names are not
/// content-hashed, so nothing may be cached as immutable: the theme's static files for a
/// day, everything else (pages, feeds, diary payloads, params.json) revalidated each time.
pub(crate) fn cache_control(path: &str) -> &'static str {
    if path.starts_with("static/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    }
}

/// The Content-Security-Policy of every page: this site only, no frames around it.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The HTTP headers every file should be served with (docs/operations.md gives them for
/// each kind of host).
pub(crate) const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Strict-Transport-Security", "max-age=31536000"),
];

/// `_headers`: the headers in the syntax of Netlify and Cloudflare Pages, which read this
/// file from the site's root (other hosts serve it as a plain, harmless file).
pub(crate) fn headers_file() -> String {
    let mut out = String::from("/*\n");
    for (name, value) in SECURITY_HEADERS {
        out.push_str(&format!("  {name}: {value}\n"));
    }
    out.push_str(&format!(
        "/diary/*\n  Cache-Control: {}\n",
        cache_control("diary/params.json")
    ));
    out.push_str(&format!(
        "/static/*\n  Cache-Control: {}\n",
        cache_control("static/style.css")
    ));
    out
}

/// The Content-Type of a site file, by extension.
pub(crate) fn content_type(path: &Path) -> String {
    let ty = mime_guess::from_path(path).first_or_octet_stream();
    let textual = ty.type_() == mime_guess::mime::TEXT || ty.subtype() == mime_guess::mime::XML;
    if textual {
        format!("{}; charset=utf-8", ty.essence_str())
    } else {
        ty.essence_str().to_string()
    }
}

/// Whether going from `before` files to `after` loses more than a tenth, and at least 5: the
/// rule of the build's and the publish's guards against taking families' diaries away.
pub(crate) fn loses_a_tenth(before: usize, after: usize) -> bool {
    before > after && before - after >= 5 && (before - after) * 10 > before
}

/// The files of one build, by path relative to the output folder.
#[derive(Debug, Default)]
pub(crate) struct Output {
    files: BTreeMap<String, Content>,
    /// The live output folder this output is for, when files of [`SPILL_SIZE`] bytes or
    /// more are not held in memory (see [`Output::spill_beside`]): a large file it already
    /// holds byte for byte is kept from it; a new one goes over the spare folder's own
    /// file at its path (`<live>.spare`), into the spill folder (`<live>.spill`), or into
    /// a spare made new for this output.
    live: Option<PathBuf>,
    /// The thread that creates new large files, once the first is staged.
    spiller: std::sync::Mutex<Option<Spiller>>,
    /// Whether the spare folder was made new for this output (no spare was there: the
    /// first two builds, or one after the spare was deleted): then every new large file is
    /// created in it at its own path, and the commit has none to move.
    fresh_spare: bool,
}

/// Creates the new large files [`Output::stage`] hands over (into the spill folder, or
/// a spare made new), one at a time, while the threads that staged them go on sealing.
/// It never writes over a file: both folders start empty, so a file already there
/// belongs to another build running at the same time, and stops this one. Two threads
/// creating files in one folder wait on each other in the kernel (ext4 locks the
/// folder, and the waiter spins): in a cold build that was a seventh of all the CPU
/// time, which one writer beside the sealing threads leaves to sealing.
#[derive(Debug)]
struct Spiller {
    send: std::sync::mpsc::SyncSender<(PathBuf, Vec<u8>)>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl Spiller {
    fn start() -> Result<Spiller> {
        let (send, receive) = std::sync::mpsc::sync_channel::<(PathBuf, Vec<u8>)>(64);
        let thread = std::thread::Builder::new()
            .name("spill".into())
            .spawn(move || {
                let mut made: BTreeSet<PathBuf> = BTreeSet::new();
                let mut result = Ok(());
                for (file, bytes) in receive {
                    if result.is_err() {
                        continue; // drained, so that no sender waits
                    }
                    result = (|| {
                        if let Some(folder) = file.parent()
                            && !made.contains(folder)
                        {
                            fs::create_dir_all(folder)
                                .with_context(|| format!("cannot create {}", folder.display()))?;
                            made.insert(folder.to_path_buf());
                        }
                        fs::OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .open(&file)
                            .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
                            .with_context(|| format!("cannot write {}", file.display()))
                    })();
                }
                result
            })
            .context("cannot start the thread that writes new large files")?;
        Ok(Spiller { send, thread })
    }

    /// Waits until every file sent is written; the first error, if any.
    fn finish(self) -> Result<()> {
        drop(self.send);
        self.thread
            .join()
            .map_err(|_| anyhow!("the thread that writes new large files failed"))?
    }
}

/// Files this large are written to disk at once rather than kept in memory:
/// sealed diary chunks, which are most of a build's bytes (100 MB late in the year at
/// 2000 pupils) and its peak memory otherwise.
const SPILL_SIZE: usize = 2048;

/// A file of the output: its bytes, or the previous output's file as it is.
#[derive(Debug)]
enum Content {
    Bytes(Vec<u8>),
    /// Kept from the previous output (hard-linked): `len` bytes, either never read (a
    /// sealed diary file between two batches) or found to be the bytes of this build.
    Previous {
        len: u64,
    },
    /// Written to the spill folder, under the same relative path: `len` bytes.
    Spilled {
        len: u64,
    },
    /// Written over the spare folder's own file at its path, in place, or created there
    /// when the spare was made new for this output: `len` bytes.
    InSpare {
        len: u64,
    },
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Previous { len } | Content::Spilled { len } | Content::InSpare { len } => *len,
        }
    }
}

/// A file made ready for the output by [`Output::stage`].
#[derive(Debug)]
pub(crate) struct Staged(Content);

/// What a commit did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommitStats {
    pub files: usize,
    pub bytes: u64,
    /// Files new or changed since the previous output.
    pub written: usize,
    /// Files of the previous output that are gone.
    pub removed: usize,
}

impl Output {
    pub(crate) fn new() -> Output {
        Output::default()
    }

    /// Writes large files to disk as they come instead of holding them in memory until
    /// the commit (see [`Output::stage`]): over the spare folder's own files, else into
    /// `<target>.spill` (emptied first), a sibling of the output folder that
    /// [`Output::commit`] moves them from and then removes. A large file that `target`
    /// already holds byte for byte (most boards on most builds) is not written at all: the
    /// commit keeps the live one, as it would after comparing.
    ///
    /// When there is no spare folder (the first two builds, or after it was deleted), one
    /// is made and every new large file is created in it instead: a first build's 96000
    /// files at 20000 pupils, each moved from the spill folder by the commit, took the
    /// kernel's lock for moves between folders 96000 times (0.4–0.7 s of the write phase).
    pub(crate) fn spill_beside(&mut self, target: &Path) -> Result<()> {
        let spill = sibling(target, "spill");
        if spill.exists() {
            fs::remove_dir_all(&spill)
                .with_context(|| format!("cannot remove leftover {}", spill.display()))?;
        }
        let spare = sibling(target, "spare");
        self.fresh_spare = fs::symlink_metadata(&spare).is_err();
        if self.fresh_spare {
            fs::create_dir_all(&spare)
                .with_context(|| format!("cannot create {}", spare.display()))?;
        }
        self.live = Some(target.to_path_buf());
        Ok(())
    }

    /// The folder beside the live one named by `suffix` (`spill`, `spare`), when spilling.
    fn beside(&self, suffix: &str) -> Option<PathBuf> {
        self.live.as_deref().map(|live| sibling(live, suffix))
    }

    /// Adds one file. The path is relative, with `/` separators and no `..`.
    pub(crate) fn write_output(&mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Result<()> {
        let bytes = bytes.into();
        check_path(path)?;
        let len = bytes.len() as u64;
        if bytes.len() >= SPILL_SIZE
            && let Some(live) = &self.live
        {
            let live = live.join(path);
            if fs::metadata(&live).is_ok_and(|m| m.len() == len)
                && fs::read(&live).is_ok_and(|old| old == bytes)
            {
                return self.add(path, Content::Previous { len });
            }
        }
        let Staged(content) = self.stage(path, bytes)?;
        self.add(path, content)
    }

    /// Makes a file ready to add with [`Output::add_staged`], from any thread. A large one
    /// is written now over the spare folder's own file at its path when there is one;
    /// otherwise it is handed to the thread that creates new files (see [`Spiller`]), in
    /// the spill folder, or at its own path when the spare was made new for this output.
    /// For files new by construction (sealed with a fresh nonce), which
    /// [`Output::write_output`] would compare with the live ones for nothing.
    ///
    /// Writing over a file in place is what makes a school day's thousands of `now`
    /// chunks quick: they change every day and keep their size, so the spare (the output
    /// of the build before the last) holds a file of its own at each of their paths, and
    /// creating a new file and renaming it over the old one costs many times more (on
    /// ext4, 2000 files of 7 KB: 0.85 s against 0.02 s). The spare is not served, so a
    /// half-written file there is never seen; the commit that follows an error puts it
    /// right, as it does every file of the spare.
    pub(crate) fn stage(&self, path: &str, bytes: Vec<u8>) -> Result<Staged> {
        check_path(path)?;
        let Some(spill) = self.beside("spill").filter(|_| bytes.len() >= SPILL_SIZE) else {
            return Ok(Staged(Content::Bytes(bytes)));
        };
        let len = bytes.len() as u64;
        let (file, content) = match self.beside("spare") {
            Some(spare) if self.fresh_spare => (spare.join(path), Content::InSpare { len }),
            Some(spare) if write_own_file(&spare.join(path), &bytes)? => {
                return Ok(Staged(Content::InSpare { len }));
            }
            _ => (spill.join(path), Content::Spilled { len }),
        };
        let send = {
            let mut spiller = self
                .spiller
                .lock()
                .map_err(|_| anyhow!("a thread failed while writing new large files"))?;
            if spiller.is_none() {
                *spiller = Some(Spiller::start()?);
            }
            spiller.as_ref().map(|s| s.send.clone())
        };
        if let Some(send) = send {
            send.send((file, bytes)).map_err(|unsent| {
                anyhow!("the thread that writes {} stopped", unsent.0.0.display())
            })?;
        }
        Ok(Staged(content))
    }

    /// Waits until every spilled file is on disk (done by [`Output::commit`] first).
    pub(crate) fn finish_spilling(&self) -> Result<()> {
        let spiller = self
            .spiller
            .lock()
            .map_err(|_| anyhow!("a thread failed while writing new large files"))?
            .take();
        spiller.map_or(Ok(()), Spiller::finish)
    }

    /// Adds a file made ready by [`Output::stage`].
    pub(crate) fn add_staged(&mut self, path: &str, staged: Staged) -> Result<()> {
        self.add(path, staged.0)
    }

    /// Whether the output holds a file at `path`.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// Keeps the file `path` of the previous output `previous` as it is, without reading
    /// it (a sealed diary file between two batches).
    pub(crate) fn keep_output(&mut self, previous: &Path, path: &str) -> Result<()> {
        let file = previous.join(path);
        let len = fs::metadata(&file)
            .with_context(|| format!("cannot read {}", file.display()))?
            .len();
        self.keep_previous(path, len)
    }

    /// Keeps the file `path` of the previous output as it is, its size `len` known.
    pub(crate) fn keep_previous(&mut self, path: &str, len: u64) -> Result<()> {
        self.add(path, Content::Previous { len })
    }

    fn add(&mut self, path: &str, content: Content) -> Result<()> {
        check_path(path)?;
        if self.files.insert(path.to_string(), content).is_some() {
            bail!("two pages want the same output path {path:?}");
        }
        Ok(())
    }

    /// Brings the spare folder `<target>.spare` to exactly this output, then swaps it with
    /// `target`; the folder that was live becomes the spare of the next build. On an error
    /// `target` is untouched (the spare may be half updated: the next commit puts it right,
    /// since it checks every file).
    ///
    /// The spare holds the output of the build before the last one, so a school day changes
    /// in it only what changed since then: unchanged files are hard links to the live ones
    /// (checked by inode, without reading), changed files are written beside their place
    /// and renamed over it (or were written in the spare as they were staged), files no
    /// longer in the output are removed. Nothing is copied or linked file by file for the
    /// whole site, which is what a fresh staging folder cost.
    pub(crate) fn commit(&self, target: &Path) -> Result<CommitStats> {
        if self.live.as_deref().is_some_and(|live| live != target) {
            bail!(
                "the output was made for {} and cannot go to {}",
                self.live.as_deref().unwrap_or(target).display(),
                target.display()
            );
        }
        self.finish_spilling()?;
        let spare = sibling(target, "spare");
        let aside = sibling(target, "old");
        // Left by an interrupted swap, or by the staging folders of earlier versions.
        if aside.exists() {
            if target.exists() {
                fs::remove_dir_all(&aside)
                    .with_context(|| format!("cannot remove leftover {}", aside.display()))?;
            } else {
                fs::rename(&aside, target).with_context(|| {
                    format!(
                        "cannot put {} back as {}",
                        aside.display(),
                        target.display()
                    )
                })?;
            }
        }
        let staging = sibling(target, "staging");
        if staging.exists() {
            fs::remove_dir_all(&staging)
                .with_context(|| format!("cannot remove leftover {}", staging.display()))?;
        }
        if spare.exists() && !spare.is_dir() {
            fs::remove_file(&spare)
                .with_context(|| format!("cannot remove {}", spare.display()))?;
        }
        let stats = self.update(target, &spare)?;
        if let Some(spill) = self.beside("spill") {
            fs::remove_dir_all(&spill)
                .or_else(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => Ok(()),
                    _ => Err(e),
                })
                .with_context(|| format!("cannot remove {}", spill.display()))?;
        }
        if target.exists() {
            fs::rename(target, &aside)
                .with_context(|| format!("cannot move {} aside", target.display()))?;
            if let Err(e) = fs::rename(&spare, target) {
                // Put the previous site back before reporting.
                let _ = fs::rename(&aside, target);
                return Err(e).with_context(|| {
                    format!("cannot move the new site into {}", target.display())
                });
            }
            fs::rename(&aside, &spare).with_context(|| {
                format!("cannot keep {} as {}", aside.display(), spare.display())
            })?;
        } else {
            fs::rename(&spare, target)
                .with_context(|| format!("cannot move the new site into {}", target.display()))?;
        }
        Ok(stats)
    }

    /// Makes `spare` hold exactly the files of this output, sharing every file whose bytes
    /// `target` already holds; the files are compared and written in parallel.
    fn update(&self, target: &Path, spare: &Path) -> Result<CommitStats> {
        fs::create_dir_all(spare).with_context(|| format!("cannot create {}", spare.display()))?;
        // What the spare holds that this output does not: removed first, so that a folder
        // of the spare where the output has a file is gone before the file is written.
        // The live folder is listed beside the spare: what it holds that this output does
        // not is what the swap removes.
        let (spare_listed, live_listed) = rayon::join(
            || list(spare),
            || target.is_dir().then(|| list(target)).transpose(),
        );
        let (held, folders_held) = spare_listed?;
        let live_files = live_listed?.map(|(files, _)| files);
        held.par_iter()
            .filter(|rel| !self.files.contains_key(rel.as_str()))
            .try_for_each(|rel| {
                let path = spare.join(rel);
                fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))
            })?;
        let wanted: BTreeSet<PathBuf> = self
            .files
            .keys()
            .flat_map(|rel| Path::new(rel).ancestors().skip(1).map(Path::to_path_buf))
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        // Deepest first, so a folder is emptied before its parent is looked at.
        for folder in folders_held.iter().rev() {
            if !wanted.contains(Path::new(folder)) {
                let path = spare.join(folder);
                fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        for folder in &wanted {
            let path = spare.join(folder);
            fs::create_dir_all(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
        }
        let spill = self.beside("spill");
        let written: Vec<bool> = self
            .files
            .par_iter()
            .map(|(rel, content)| -> Result<bool> {
                let dest = spare.join(rel);
                let live = target.join(rel);
                let spilled = spill.as_ref().map(|spill| spill.join(rel));
                let same = match content {
                    Content::InSpare { .. } => false,
                    Content::Previous { .. } => true,
                    Content::Bytes(bytes) => {
                        fs::metadata(&live).is_ok_and(|m| m.len() == bytes.len() as u64)
                            && fs::read(&live).is_ok_and(|old| old == *bytes)
                    }
                    Content::Spilled { len } => {
                        fs::metadata(&live).is_ok_and(|m| m.len() == *len)
                            && spilled
                                .as_ref()
                                .is_some_and(|file| fs::read(&live).ok() == fs::read(file).ok())
                    }
                };
                if same && share(&live, &dest)? {
                    return Ok(false);
                }
                let bytes = match content {
                    Content::Bytes(bytes) => bytes.as_slice(),
                    Content::InSpare { .. } => return Ok(true),
                    Content::Previous { .. } => &fs::read(&live)
                        .with_context(|| format!("cannot read {}", live.display()))?,
                    Content::Spilled { .. } => {
                        let file = spilled
                            .as_ref()
                            .context("a spilled file without its folder")?;
                        fs::rename(file, &dest)
                            .with_context(|| format!("cannot write {}", dest.display()))?;
                        return Ok(!same);
                    }
                };
                let temp = temp_beside(&dest);
                fs::write(&temp, bytes)
                    .with_context(|| format!("cannot write {}", temp.display()))?;
                fs::rename(&temp, &dest)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
                Ok(!same)
            })
            .collect::<Result<_>>()?;
        let mut stats = CommitStats {
            files: self.files.len(),
            bytes: self.files.values().map(Content::len).sum(),
            written: written.iter().filter(|w| **w).count(),
            ..CommitStats::default()
        };
        if let Some(live) = live_files {
            stats.removed = live
                .iter()
                .filter(|rel| !self.files.contains_key(rel.as_str()))
                .count();
        }
        Ok(stats)
    }
}

/// Writes `bytes` over the file at `path` in place (no new file, and no truncation when
/// the size stays) if it is a regular file of its own: no other hard link to it, so not
/// the live folder's file too. Whether it did.
fn write_own_file(path: &Path, bytes: &[u8]) -> Result<bool> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = fs::symlink_metadata(path) else {
            return Ok(false);
        };
        if !meta.is_file() || meta.nlink() != 1 {
            return Ok(false);
        }
        let cannot = || format!("cannot write {}", path.display());
        let mut file = fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(cannot)?;
        file.write_all(bytes).with_context(cannot)?;
        if meta.len() > bytes.len() as u64 {
            file.set_len(bytes.len() as u64).with_context(cannot)?;
        }
        Ok(true)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, bytes);
        Ok(false)
    }
}

/// Refuses an output path that is not relative, with `/` separators and no `..`.
fn check_path(path: &str) -> Result<()> {
    if path.is_empty()
        || path.contains('\\')
        || !Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        bail!("refusing to write {path:?}: output paths are relative, without `..`");
    }
    Ok(())
}

/// Makes `dest` the same file as `live` (a hard link), unless it already is; false when
/// the file system cannot link (then the caller writes a copy).
fn share(live: &Path, dest: &Path) -> Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (fs::metadata(live), fs::symlink_metadata(dest))
            && a.dev() == b.dev()
            && a.ino() == b.ino()
        {
            return Ok(true);
        }
    }
    let temp = temp_beside(dest);
    if fs::hard_link(live, &temp).is_err() {
        return Ok(false);
    }
    fs::rename(&temp, dest).with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(true)
}

/// A name beside `path` for writing it before it is renamed into place. The output's own
/// names never start with `.~`, so it cannot clash with a file of the site.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".~{name}"))
}

fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    target.with_file_name(format!("{name}.{suffix}"))
}

/// Relative paths (with `/`) of the files below `dir`, and of its folders (each after its
/// parent).
fn list(dir: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let mut files = Vec::new();
    let mut folders = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let entry = entry.with_context(|| format!("cannot read {}", d.display()))?;
            let path = entry.path();
            let Ok(rel) = path.strip_prefix(dir) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                folders.push(rel);
                stack.push(path);
            } else {
                files.push(rel);
            }
        }
    }
    Ok((files, folders))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_of_what_a_site_holds() {
        for (name, ty) in [
            ("index.html", "text/html; charset=utf-8"),
            ("static/style.css", "text/css; charset=utf-8"),
            ("static/diary.js", "text/javascript; charset=utf-8"),
            ("diary/params.json", "application/json"),
            ("static/icon.svg", "image/svg+xml"),
            ("static/icon.png", "image/png"),
            ("manifest.webmanifest", "application/manifest+json"),
            ("sw.js", "text/javascript; charset=utf-8"),
            ("feed.xml", "text/xml; charset=utf-8"),
            ("events.ics", "text/calendar; charset=utf-8"),
            ("robots.txt", "text/plain; charset=utf-8"),
            ("diary/p/abc.bin", "application/octet-stream"),
            ("_headers", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(name)), ty, "{name}");
        }
    }

    #[test]
    fn a_drop_counts_past_a_tenth_and_five() {
        assert!(!loses_a_tenth(100, 91));
        assert!(loses_a_tenth(100, 89));
        assert!(!loses_a_tenth(20, 16), "fewer than 5");
        assert!(loses_a_tenth(20, 15));
        assert!(!loses_a_tenth(10, 20));
        assert!(loses_a_tenth(771, 0));
    }

    #[test]
    fn refuses_escaping_paths() {
        let mut o = Output::new();
        assert!(o.write_output("../x", "a").is_err());
        assert!(o.write_output("/etc/x", "a").is_err());
        assert!(o.write_output("", "a").is_err());
        o.write_output("a/b.html", "a").unwrap();
        assert!(o.write_output("a/b.html", "b").is_err());
    }

    #[test]
    fn commit_swaps_and_rewrites_only_changes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        let mut first = Output::new();
        first.write_output("index.html", "one").unwrap();
        first.write_output("a/stale.html", "old").unwrap();
        let s = first.commit(&target).unwrap();
        assert_eq!((s.files, s.written, s.removed), (2, 2, 0));

        let mut second = Output::new();
        second.write_output("index.html", "one").unwrap();
        second.write_output("b/new.html", "new").unwrap();
        let s = second.commit(&target).unwrap();
        assert_eq!((s.files, s.written, s.removed), (2, 1, 1));
        assert!(!target.join("a/stale.html").exists());
        assert_eq!(
            fs::read_to_string(target.join("b/new.html")).unwrap(),
            "new"
        );
        assert!(!dir.path().join("public.staging").exists());
        assert!(!dir.path().join("public.old").exists());
    }

    /// Large files wait on disk, not in memory, and land where small ones do: a changed
    /// one is created in a spare made new or written over the spare's own file (or, when
    /// neither can be, spilled and moved in), an unchanged one is not even written and
    /// stays the same file, and the spill folder goes.
    #[cfg(unix)]
    #[test]
    fn large_files_are_spilled_to_disk_and_moved_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        let spill = dir.path().join("public.spill");
        let spare = dir.path().join("public.spare");
        let big = |c: char| c.to_string().repeat(SPILL_SIZE);
        // The first two builds have no spare (the first commit moves it in as the output):
        // a spare is made for each, and its new large files are created there, not spilled.
        let build = |chunk: &str, page: &str| {
            assert!(!spare.exists());
            let mut out = Output::new();
            out.spill_beside(&target).unwrap();
            out.write_output("diary/c/a.bin", chunk).unwrap();
            out.write_output("diary/c/b.bin", big('b')).unwrap();
            out.write_output("index.html", page).unwrap();
            out.finish_spilling().unwrap();
            assert!(matches!(
                out.files["diary/c/a.bin"],
                Content::InSpare { .. }
            ));
            assert!(matches!(out.files["index.html"], Content::Bytes(_)));
            assert_eq!(
                fs::read_to_string(spare.join("diary/c/a.bin")).unwrap(),
                chunk
            );
            assert!(!spill.join("diary/c/a.bin").exists());
            out
        };
        // A leftover of an interrupted build is emptied first.
        fs::create_dir_all(spill.join("diary/c")).unwrap();
        fs::write(spill.join("diary/c/stale.bin"), "x").unwrap();
        let first = build(&big('a'), "one");
        assert!(!spill.join("diary/c/stale.bin").exists());
        let s = first.commit(&target).unwrap();
        assert_eq!((s.files, s.written), (3, 3));
        assert_eq!(s.bytes, 2 * SPILL_SIZE as u64 + 3);
        assert!(!spill.exists());
        let kept = inode(&target.join("diary/c/b.bin"));

        let second = build(&big('A'), "one");
        assert!(matches!(
            second.files["diary/c/b.bin"],
            Content::Previous { .. }
        ));
        assert!(!spill.join("diary/c/b.bin").exists());
        let s = second.commit(&target).unwrap();
        assert_eq!((s.files, s.written, s.removed), (3, 1, 0));
        assert!(!spill.exists());
        assert_eq!(
            fs::read_to_string(target.join("diary/c/a.bin")).unwrap(),
            big('A')
        );
        assert_eq!(
            inode(&target.join("diary/c/b.bin")),
            kept,
            "unchanged: the same file"
        );
        assert_eq!(tree(&target).len(), 3);

        // The third build: the spare holds the first build's files. Its a.bin is its own
        // (a.bin changed in the second build), so the new a.bin is written over it in
        // place; its b.bin is the live b.bin too (a hard link), so a new b.bin must not
        // touch it and is spilled.
        let own = inode(&spare.join("diary/c/a.bin"));
        assert_ne!(own, inode(&target.join("diary/c/a.bin")));
        assert_eq!(inode(&spare.join("diary/c/b.bin")), kept);
        let mut third = Output::new();
        third.spill_beside(&target).unwrap();
        third.write_output("diary/c/a.bin", big('x')).unwrap();
        third
            .write_output("diary/c/b.bin", "y".repeat(SPILL_SIZE + 10))
            .unwrap();
        third.write_output("index.html", "one").unwrap();
        assert!(matches!(
            third.files["diary/c/a.bin"],
            Content::InSpare { .. }
        ));
        assert!(!spill.join("diary/c/a.bin").exists());
        assert!(matches!(
            third.files["diary/c/b.bin"],
            Content::Spilled { .. }
        ));
        assert_eq!(
            fs::read_to_string(target.join("diary/c/b.bin")).unwrap(),
            big('b'),
            "the live folder is untouched until the commit"
        );
        assert_eq!(
            fs::read_to_string(target.join("diary/c/a.bin")).unwrap(),
            big('A')
        );
        let s = third.commit(&target).unwrap();
        assert_eq!((s.files, s.written, s.removed), (3, 2, 0));
        assert_eq!(
            inode(&target.join("diary/c/a.bin")),
            own,
            "written in place"
        );
        assert_eq!(
            fs::read_to_string(target.join("diary/c/a.bin")).unwrap(),
            big('x')
        );
        assert_eq!(
            fs::read_to_string(target.join("diary/c/b.bin")).unwrap(),
            "y".repeat(SPILL_SIZE + 10)
        );
        assert_eq!(
            fs::read_to_string(spare.join("diary/c/b.bin")).unwrap(),
            big('b'),
            "the previous site's file as it was"
        );
        // An output is committed to the folder it was made for, and nowhere else.
        let mut fourth = Output::new();
        fourth.spill_beside(&target).unwrap();
        fourth.write_output("index.html", "two").unwrap();
        assert!(fourth.commit(&dir.path().join("elsewhere")).is_err());
    }

    /// Files staged from many threads at once, into folders none of them made before:
    /// each folder is made, each file lands whole at its own path; into a spare made new,
    /// and into the spill folder beside a spare.
    #[test]
    fn files_staged_side_by_side_each_land_whole() {
        for has_spare in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("public");
            if has_spare {
                fs::create_dir_all(dir.path().join("public.spare")).unwrap();
            }
            let mut out = Output::new();
            out.spill_beside(&target).unwrap();
            let paths: Vec<String> = (0..400)
                .map(|i| format!("diary/{}/{i:04}.bin", ["c", "k", "p"][i % 3]))
                .collect();
            let body = |path: &str| format!("{path}:").repeat(SPILL_SIZE / 8 + 1);
            let staged: Vec<(String, Staged)> = paths
                .par_iter()
                .map(|p| (p.clone(), out.stage(p, body(p).into_bytes()).unwrap()))
                .collect();
            for (path, staged) in staged {
                match staged.0 {
                    Content::Spilled { .. } => assert!(has_spare, "{path}"),
                    Content::InSpare { .. } => assert!(!has_spare, "{path}"),
                    _ => panic!("{path}: neither spilled nor in the spare"),
                }
                out.add_staged(&path, staged).unwrap();
            }
            let s = out.commit(&target).unwrap();
            assert_eq!((s.files, s.written), (400, 400));
            let site = tree(&target);
            assert_eq!(site.len(), 400);
            for p in &paths {
                assert_eq!(site[p], body(p), "{p}");
            }
        }
    }

    /// A build that made a new spare and failed before its commit leaves the spare half
    /// written; the next build brings it to its own output, and the live folder was never
    /// touched. A new large file never goes over a file already there (another build's).
    #[test]
    fn a_failed_build_leaves_a_spare_the_next_one_puts_right() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        let spare = dir.path().join("public.spare");
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("index.html"), "live").unwrap();
        let big = |c: char| c.to_string().repeat(SPILL_SIZE);
        let mut failed = Output::new();
        failed.spill_beside(&target).unwrap();
        failed.write_output("diary/c/a.bin", big('a')).unwrap();
        failed.write_output("diary/c/gone.bin", big('g')).unwrap();
        failed.finish_spilling().unwrap();
        drop(failed);
        assert_eq!(tree(&spare).len(), 2);
        assert_eq!(tree(&target).len(), 1, "the live folder is untouched");

        let mut next = Output::new();
        next.spill_beside(&target).unwrap();
        next.write_output("diary/c/a.bin", big('b')).unwrap();
        next.write_output("index.html", "new").unwrap();
        assert!(matches!(
            next.files["diary/c/a.bin"],
            Content::InSpare { .. }
        ));
        next.commit(&target).unwrap();
        let site = tree(&target);
        assert_eq!(site.len(), 2, "{site:?}");
        assert_eq!(site["diary/c/a.bin"], big('b'));
        assert_eq!(site["index.html"], "new");

        // A spare made new that already holds a file at a path (another build at work
        // there): the new file does not go over it, and the build fails.
        let other = dir.path().join("other");
        let mut first = Output::new();
        first.spill_beside(&other).unwrap();
        fs::create_dir_all(dir.path().join("other.spare/diary/c")).unwrap();
        fs::write(dir.path().join("other.spare/diary/c/a.bin"), "theirs").unwrap();
        first.write_output("diary/c/a.bin", big('a')).unwrap();
        let e = first.commit(&other).unwrap_err();
        assert!(
            format!("{e:#}").contains("other.spare/diary/c/a.bin"),
            "{e:#}"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("other.spare/diary/c/a.bin")).unwrap(),
            "theirs"
        );
    }

    /// A large file that cannot be written fails the commit, which names it, and the live
    /// folder stays as it was: spilled beside a spare, or created in a spare made new.
    #[test]
    fn a_large_file_that_cannot_be_written_fails_the_commit() {
        for (has_spare, obstacle) in [(true, "public.spill/diary"), (false, "public.spare/diary")] {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("public");
            fs::create_dir_all(&target).unwrap();
            fs::write(target.join("index.html"), "live").unwrap();
            if has_spare {
                fs::create_dir_all(dir.path().join("public.spare")).unwrap();
            }
            let mut out = Output::new();
            out.spill_beside(&target).unwrap();
            // A file where a folder is needed.
            fs::create_dir_all(dir.path().join(obstacle).parent().unwrap()).unwrap();
            fs::write(dir.path().join(obstacle), "in the way").unwrap();
            out.write_output("diary/c/a.bin", "a".repeat(SPILL_SIZE))
                .unwrap();
            let e = out.commit(&target).unwrap_err();
            assert!(format!("{e:#}").contains(obstacle), "{e:#}");
            assert_eq!(tree(&target).len(), 1);
            assert_eq!(
                fs::read_to_string(target.join("index.html")).unwrap(),
                "live"
            );
        }
    }

    /// Every file below `dir` with its bytes.
    fn tree(dir: &Path) -> BTreeMap<String, String> {
        let (files, _) = list(dir).unwrap();
        files
            .into_iter()
            .map(|rel| {
                let text = fs::read_to_string(dir.join(&rel)).unwrap();
                (rel, text)
            })
            .collect()
    }

    #[cfg(unix)]
    fn inode(path: &Path) -> u64 {
        std::os::unix::fs::MetadataExt::ino(&fs::metadata(path).unwrap())
    }

    #[test]
    fn the_spare_is_brought_to_the_new_output_whatever_it_held() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        let spare = dir.path().join("public.spare");
        let build = |files: &[(&str, &str)]| {
            let mut o = Output::new();
            for (path, text) in files {
                o.write_output(path, *text).unwrap();
            }
            o.commit(&target).unwrap()
        };
        build(&[("index.html", "1"), ("a/x.html", "x1"), ("d/y.html", "y")]);
        assert!(!spare.exists(), "a first build has nothing to keep");
        build(&[("index.html", "2"), ("a/x.html", "x1"), ("d/y.html", "y")]);
        // The spare is the first build, sharing the files that did not change.
        assert_eq!(
            tree(&spare).get("index.html").map(String::as_str),
            Some("1")
        );
        #[cfg(unix)]
        assert_eq!(
            inode(&spare.join("a/x.html")),
            inode(&target.join("a/x.html"))
        );

        // The third build updates the spare (two builds old) in place: a folder becomes a
        // file, a file becomes a folder, a folder goes, a file the spare held is gone.
        let third = [
            ("index.html", "3"),
            ("a/x.html", "x1"),
            ("d", "now a file"),
            ("b/z.html", "z"),
        ];
        let mut stray = fs::File::create(spare.join("stray.html")).unwrap();
        std::io::Write::write_all(&mut stray, b"left by hand").unwrap();
        fs::remove_file(spare.join("a/x.html")).unwrap();
        fs::write(spare.join("a/x.html"), "replaced by hand").unwrap();
        let s = build(&third);
        let expected: BTreeMap<String, String> = third
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        assert_eq!(tree(&target), expected);
        assert_eq!((s.files, s.written, s.removed), (4, 3, 1));
        // Unchanged files keep their inode (and so their time) across builds.
        #[cfg(unix)]
        assert_eq!(
            inode(&spare.join("a/x.html")),
            inode(&target.join("a/x.html"))
        );
        assert_eq!(
            tree(&spare).get("index.html").map(String::as_str),
            Some("2")
        );
        assert!(!dir.path().join("public.old").exists());

        // A spare broken at any point is put right by the next build.
        fs::remove_dir_all(spare.join("a")).unwrap();
        fs::write(spare.join(".~index.html"), "half written").unwrap();
        build(&third);
        build(&third);
        assert_eq!(tree(&target), expected);
    }

    #[test]
    fn an_interrupted_swap_is_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        let mut o = Output::new();
        o.write_output("index.html", "live").unwrap();
        o.commit(&target).unwrap();
        // Stopped between moving the live folder aside and moving the new one in.
        fs::rename(&target, dir.path().join("public.old")).unwrap();
        let mut next = Output::new();
        next.write_output("index.html", "live").unwrap();
        let s = next.commit(&target).unwrap();
        assert_eq!(
            s.written, 0,
            "the live folder was found and its files shared"
        );
        assert_eq!(tree(&target).len(), 1);
        assert!(!dir.path().join("public.old").exists());
    }
}
