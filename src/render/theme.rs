//! Themes: the embedded default plus a site's overrides, file by file.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::config::{Language, Site};
use crate::i18n::Strings;

macro_rules! builtin {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!("../../themes/default/", $path)).as_slice())),*]
    };
}

/// The default theme, compiled into the binary. Every file of `themes/default/` must be
/// listed (a test checks).
const BUILTIN: &[(&str, &[u8])] = builtin![
    "templates/base.html",
    "templates/index.html",
    "templates/classes.html",
    "templates/class.html",
    "templates/homework.html",
    "templates/timetable.html",
    "templates/events.html",
    "templates/diary.html",
    "templates/diary_child.html",
    "templates/diary_part.html",
    "templates/print/base.html",
    "templates/print/slips.html",
    "templates/print/weekly.html",
    "templates/print/monthly.html",
    "templates/print/family_tail.html",
    "templates/print/report.html",
    "templates/print/summary.html",
    "templates/print/class_report.html",
    "templates/print/school_report.html",
    "templates/print/journal.html",
    "templates/print/attention.html",
    "templates/partials/announcement.html",
    "templates/partials/event.html",
    "templates/partials/week.html",
    "templates/partials/grades.html",
    "templates/partials/diary_lesson.html",
    "templates/partials/remark.html",
    "templates/partials/dweek.html",
    "templates/partials/diary_attendance.html",
    "templates/partials/diary_marks.html",
    "templates/partials/diary_lines.html",
    "templates/sw.js",
    "static/style.css",
    "static/icon.svg",
    "static/icon-192.png",
    "static/icon-512.png",
    "static/site.js",
    "static/takes.js",
    "static/diary.js",
    "static/diary.css",
    "i18n/ru.toml",
    "i18n/en.toml",
];

/// The files of a theme by relative path (`templates/…`, `static/…`, `i18n/…`).
#[derive(Debug, Clone)]
pub(crate) struct Theme {
    files: BTreeMap<String, Vec<u8>>,
}

impl Theme {
    pub(crate) fn builtin() -> Theme {
        Theme {
            files: BUILTIN
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect(),
        }
    }

    /// The site's theme: built-in defaults, overridden by `themes/<name>/`, then by the
    /// site's own `templates/`, `static/` and `i18n/` folders.
    pub(crate) fn load(site: &Site) -> Result<Theme> {
        let mut theme = Theme::builtin();
        let name = &site.config.theme;
        let theme_dir = site.root.join("themes").join(name);
        if theme_dir.is_dir() {
            theme.overlay(&theme_dir)?;
        } else if name != "default" {
            bail!(
                "theme {name:?} (site.toml) not found: expected a folder {}",
                theme_dir.display()
            );
        }
        theme.overlay(&site.root)?;
        Ok(theme)
    }

    fn overlay(&mut self, dir: &Path) -> Result<()> {
        for sub in ["templates", "static", "i18n"] {
            let base = dir.join(sub);
            if base.is_dir() {
                self.add_dir(dir, &base)?;
            }
        }
        Ok(())
    }

    fn add_dir(&mut self, root: &Path, dir: &Path) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                self.add_dir(root, &path)?;
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("below root")
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                self.files.insert(rel, bytes);
            }
        }
        Ok(())
    }

    /// Replaces one template (for tests).
    #[cfg(test)]
    pub(crate) fn set_template(&mut self, name: &str, text: &str) {
        self.files
            .insert(format!("templates/{name}"), text.as_bytes().to_vec());
    }

    /// Replaces one static file (for tests).
    #[cfg(test)]
    pub(crate) fn set_static(&mut self, name: &str, bytes: &[u8]) {
        self.files.insert(format!("static/{name}"), bytes.to_vec());
    }

    /// A digest of every file of the theme: what a rendered page depends on besides its
    /// data.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for (path, bytes) in &self.files {
            h.update((path.len() as u64).to_be_bytes());
            h.update(path.as_bytes());
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
        h.finalize().into()
    }

    /// What a page's HTML follows from besides its own data: this theme, the site's
    /// settings (language included) and the version of this program, as one digest. Both
    /// the public pages kept from the last build and the diary chunks' keyed hashes start
    /// from it.
    pub(crate) fn render_context(&self, config: &crate::config::Config) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.fingerprint());
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(config.language.code().as_bytes());
        h.update(format!("{config:?}").as_bytes());
        h.finalize().into()
    }

    /// Whether every file of `paths` is the built-in one (not overridden by the site).
    pub(crate) fn is_builtin(&self, paths: &[&str]) -> bool {
        paths.iter().all(|path| {
            let builtin = BUILTIN.iter().find(|(p, _)| p == path).map(|(_, b)| *b);
            builtin.is_some() && self.files.get(*path).map(Vec::as_slice) == builtin
        })
    }

    /// Templates as `(name, text)`, name relative to `templates/`.
    pub(crate) fn templates(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("templates/")?;
                Some((name.to_string(), String::from_utf8_lossy(v).into_owned()))
            })
            .collect()
    }

    /// Static files as `(path below static/, bytes)`.
    pub(crate) fn static_files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("static/")?, v.as_slice())))
    }

    /// The UI strings of a language.
    pub(crate) fn strings(&self, language: Language) -> Result<Strings> {
        let key = format!("i18n/{}.toml", language.code());
        let text = self
            .files
            .get(&key)
            .with_context(|| format!("the theme has no {key}"))?;
        Strings::parse(language, &String::from_utf8_lossy(text))
            .with_context(|| format!("in theme file {key}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_theme_file_is_built_in() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default");
        let mut on_disk = Theme {
            files: BTreeMap::new(),
        };
        on_disk.overlay(&root).unwrap();
        let builtin = Theme::builtin();
        let listed: Vec<&String> = builtin.files.keys().collect();
        assert_eq!(on_disk.files.keys().collect::<Vec<_>>(), listed);
    }
}
