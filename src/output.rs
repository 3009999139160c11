//! Output: every generated file goes through [`Output::write_output`]; [`Output::commit`]
//! writes them into a staging folder beside the target and swaps it in, so a failed build
//! leaves the previous site served and intact, and nothing stale survives.
//!
//! Files whose bytes did not change are hard-linked from the previous output instead of
//! being written again, so their modification times (and a later upload's diff) stay put.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
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
}

/// A file of the output: its bytes, or the previous output's file as it is.
#[derive(Debug)]
enum Content {
    Bytes(Vec<u8>),
    /// Kept from the previous output (hard-linked, never read): `len` bytes.
    Previous {
        len: u64,
    },
}

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

    /// Adds one file. The path is relative, with `/` separators and no `..`.
    pub(crate) fn write_output(&mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Result<()> {
        self.add(path, Content::Bytes(bytes.into()))
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
        self.add(path, Content::Previous { len })
    }

    fn add(&mut self, path: &str, content: Content) -> Result<()> {
        let p = Path::new(path);
        if path.is_empty()
            || path.contains('\\')
            || !p.components().all(|c| matches!(c, Component::Normal(_)))
        {
            bail!("refusing to write {path:?}: output paths are relative, without `..`");
        }
        if self.files.insert(path.to_string(), content).is_some() {
            bail!("two pages want the same output path {path:?}");
        }
        Ok(())
    }

    /// Writes the files into `<target>.staging`, then swaps that folder in place of
    /// `target`. On any error the staging folder is removed and `target` is untouched.
    pub(crate) fn commit(&self, target: &Path) -> Result<CommitStats> {
        let staging = sibling(target, "staging");
        let old = sibling(target, "old");
        for leftover in [&staging, &old] {
            if leftover.exists() {
                fs::remove_dir_all(leftover)
                    .with_context(|| format!("cannot remove leftover {}", leftover.display()))?;
            }
        }
        let result = self.stage(target, &staging);
        let stats = match result {
            Ok(stats) => stats,
            Err(e) => {
                let _ = fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        if target.exists() {
            fs::rename(target, &old)
                .with_context(|| format!("cannot move {} aside", target.display()))?;
        }
        if let Err(e) = fs::rename(&staging, target) {
            // Put the previous site back before reporting.
            let _ = fs::rename(&old, target);
            return Err(e)
                .with_context(|| format!("cannot move the new site into {}", target.display()));
        }
        if old.exists() {
            fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
        }
        Ok(stats)
    }

    /// Writes every file into `staging`, hard-linking the files `target` already holds
    /// byte for byte; the files are compared and written in parallel.
    fn stage(&self, target: &Path, staging: &Path) -> Result<CommitStats> {
        fs::create_dir_all(staging)
            .with_context(|| format!("cannot create {}", staging.display()))?;
        let folders: std::collections::BTreeSet<PathBuf> = self
            .files
            .keys()
            .filter_map(|rel| staging.join(rel).parent().map(Path::to_path_buf))
            .collect();
        for folder in &folders {
            fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        let written: Vec<bool> = self
            .files
            .par_iter()
            .map(|(rel, content)| -> Result<bool> {
                let dest = staging.join(rel);
                let previous = target.join(rel);
                let bytes = match content {
                    Content::Bytes(bytes) => bytes,
                    Content::Previous { .. } => {
                        if fs::hard_link(&previous, &dest).is_err() {
                            fs::copy(&previous, &dest).with_context(|| {
                                format!("cannot copy {} into the new site", previous.display())
                            })?;
                        }
                        return Ok(false);
                    }
                };
                let unchanged = fs::metadata(&previous)
                    .is_ok_and(|m| m.len() == bytes.len() as u64)
                    && fs::read(&previous).is_ok_and(|old| old == *bytes);
                if unchanged && fs::hard_link(&previous, &dest).is_ok() {
                    return Ok(false);
                }
                fs::write(&dest, bytes)
                    .with_context(|| format!("cannot write {}", dest.display()))?;
                Ok(true)
            })
            .collect::<Result<_>>()?;
        let mut stats = CommitStats {
            files: self.files.len(),
            bytes: self
                .files
                .values()
                .map(|c| match c {
                    Content::Bytes(b) => b.len() as u64,
                    Content::Previous { len } => *len,
                })
                .sum(),
            written: written.iter().filter(|w| **w).count(),
            ..CommitStats::default()
        };
        if target.is_dir() {
            stats.removed = count_files(target)?
                .into_iter()
                .filter(|rel| !self.files.contains_key(rel))
                .count();
        }
        Ok(stats)
    }
}

fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    target.with_file_name(format!("{name}.{suffix}"))
}

/// Relative paths (with `/`) of the files below `dir`.
fn count_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(out)
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
}
