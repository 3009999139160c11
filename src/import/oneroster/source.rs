//! An export as given on the command line: a folder or a `.zip` of OneRoster CSV files, and
//! its `manifest.csv` (the version, and per file `bulk`, `delta` or `absent`).

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::table::Table;

/// How the manifest says a file is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The whole data of its kind: what is not in the file is gone.
    Bulk,
    /// Changes only: rows are added or replaced, `tobedeleted` rows removed.
    Delta,
    /// Not in this export: what the journal has of that kind stays as it is.
    Absent,
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Bulk => "bulk",
            Mode::Delta => "delta",
            Mode::Absent => "absent",
        }
    }
}

/// The OneRoster files this import reads, in the order they are applied.
pub(super) const USED: [&str; 13] = [
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "roles",
    "enrollments",
    "categories",
    "scoreScales",
    "lineItems",
    "lineItemScoreScales",
    "results",
    "resultScoreScales",
];

/// OneRoster files this import knows and does not need.
const UNUSED: [&str; 8] = [
    "demographics",
    "resources",
    "classResources",
    "courseResources",
    "userResources",
    "userProfiles",
    "lineItemLearningObjectiveIds",
    "resultLearningObjectiveIds",
];

/// A file of the export this import reads: its name as the export spells it and its bytes.
pub(super) struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl File {
    /// The name and the bytes, as the readers of [`super::records`] take them.
    pub(super) fn parts(&self) -> (&str, &[u8]) {
        (&self.name, &self.bytes)
    }
}

/// An opened export: the CSV files it gives, checked to be well-formed CSV, and what its
/// manifest says about them.
pub(super) struct Export {
    /// `1.1` or `1.2` (1.0 is read as 1.1).
    pub version: String,
    /// Per used file (`users`), how it is given and, unless absent, the file.
    pub files: BTreeMap<&'static str, (Mode, Option<File>)>,
    /// Things worth saying in the summary (files ignored, a guessed version).
    pub notes: Vec<String>,
    /// Per file read (`users`): its name as the export spells it, and its rows.
    pub read: BTreeMap<&'static str, (String, usize)>,
}

impl Export {
    pub(super) fn mode(&self, name: &str) -> Mode {
        self.files.get(name).map_or(Mode::Absent, |(m, _)| *m)
    }

    pub(super) fn file(&self, name: &str) -> Option<&File> {
        self.files.get(name).and_then(|(_, f)| f.as_ref())
    }

    /// Frees the bytes of one file.
    pub(super) fn drop_file(&mut self, name: &str) {
        if let Some((_, file)) = self.files.get_mut(name) {
            *file = None;
        }
    }
}

/// Reads a folder or a `.zip` and its manifest, and the files this import uses, each
/// checked by `check` (that it is well-formed CSV: [`Table::count`]), which gives its rows.
pub(super) fn open(
    path: &Path,
    mut check: impl FnMut(&str, &File) -> Result<usize>,
) -> Result<Export> {
    let mut raw = if path.is_dir() {
        read_folder(path)?
    } else if path.is_file() {
        read_zip(path)?
    } else {
        bail!(
            "{} does not exist (give a folder or a .zip of OneRoster CSV files)",
            path.display()
        );
    };
    if !raw.contains_key("manifest.csv") {
        bail!(
            "{} has no manifest.csv; a OneRoster export lists its files there \
             (docs/import-oneroster.md)",
            path.display()
        );
    }
    let manifest = raw.load("manifest.csv")?;
    let manifest = Table::parse(&manifest.name, &manifest.bytes)?;
    manifest.require(&["propertyName", "value"])?;
    let mut version = None;
    let mut modes: BTreeMap<String, (Mode, u64)> = BTreeMap::new();
    for row in &manifest.rows {
        let property = manifest.cell(row, "propertyName");
        let value = manifest.cell(row, "value");
        let Some(name) = property.opt() else { continue };
        if name.eq_ignore_ascii_case("oneroster.version") {
            version = Some(match value.opt() {
                Some("1.0" | "1.1" | "1.1.1") => "1.1",
                Some(v) if v.starts_with("1.2") => "1.2",
                Some(v) => {
                    return Err(value.error(format!(
                        "'{v}' is not a OneRoster version this import reads (1.1 or 1.2)"
                    )));
                }
                None => return Err(value.error("the OneRoster version is empty")),
            });
        } else if let Some(file) = name.strip_prefix("file.") {
            let mode = match value.word(&["bulk", "delta", "absent"])? {
                Some("bulk") => Mode::Bulk,
                Some("delta") => Mode::Delta,
                _ => Mode::Absent,
            };
            modes.insert(file.to_ascii_lowercase(), (mode, row.line));
        }
    }
    let mut notes = Vec::new();
    let version = match version {
        Some(v) => v.to_string(),
        None => {
            let guess = if raw.contains_key("roles.csv") {
                "1.2"
            } else {
                "1.1"
            };
            notes.push(format!(
                "manifest.csv gives no oneroster.version; read as {guess}"
            ));
            guess.to_string()
        }
    };
    let mut files = BTreeMap::new();
    let mut read = BTreeMap::new();
    for name in USED {
        let key = name.to_ascii_lowercase();
        let file_key = format!("{key}.csv");
        let present = raw.get(&file_key);
        let mode = match (modes.get(&key), present) {
            (Some((Mode::Absent, _)), Some((written, _))) => {
                notes.push(format!(
                    "{written} is in the export but manifest.csv says file.{name} is absent: \
                     not read"
                ));
                Mode::Absent
            }
            (Some((Mode::Absent, _)), None) => Mode::Absent,
            (Some((mode, line)), None) => bail!(
                "manifest.csv line {line}, column value: file.{name} is '{}' but the export \
                 has no {name}.csv",
                mode.name()
            ),
            (Some((mode, _)), Some(_)) => *mode,
            (None, Some((written, _))) => {
                notes.push(format!(
                    "{written} is not listed in manifest.csv (file.{name}): not read"
                ));
                Mode::Absent
            }
            (None, None) => Mode::Absent,
        };
        let file = match (mode, present) {
            (Mode::Absent, _) | (_, None) => None,
            (_, Some(_)) => {
                let file = raw.load(&file_key)?;
                let rows = check(name, &file)?;
                read.insert(name, (file.name.clone(), rows));
                Some(file)
            }
        };
        files.insert(name, (mode, file));
    }
    let unused: Vec<&str> = UNUSED
        .iter()
        .filter(|n| raw.contains_key(&format!("{}.csv", n.to_ascii_lowercase())))
        .copied()
        .collect();
    if !unused.is_empty() {
        notes.push(format!(
            "not needed by the journal, not read: {}",
            unused
                .iter()
                .map(|n| format!("{n}.csv"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Export {
        version,
        files,
        notes,
        read,
    })
}

/// The `.csv` files of an export, by lower-case file name, read when asked for.
struct RawFiles {
    /// Lower-case file name → (name as written, where it is).
    files: BTreeMap<String, (String, Place)>,
    zip: Option<(PathBuf, zip::ZipArchive<fs::File>)>,
}

/// Where a file of an export is.
enum Place {
    File(PathBuf),
    /// An entry of the zip.
    Entry(String),
}

impl RawFiles {
    fn contains_key(&self, key: &str) -> bool {
        self.files.contains_key(key)
    }

    fn get(&self, key: &str) -> Option<(&String, &Place)> {
        self.files.get(key).map(|(w, p)| (w, p))
    }

    fn insert(&mut self, name: String, location: Place) -> Result<()> {
        let key = name.to_ascii_lowercase();
        if let Some((other, _)) = self.files.get(&key) {
            bail!("{other} and {name} are the same file; keep one");
        }
        self.files.insert(key, (name, location));
        Ok(())
    }

    /// The bytes of the file `key` (a key of the listing).
    fn load(&mut self, key: &str) -> Result<File> {
        let (name, location) = self.files.get(key).expect("listed");
        let bytes = match (location, &mut self.zip) {
            (Place::File(path), _) => {
                fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
            }
            (Place::Entry(_), None) => unreachable!("an entry of no zip"),
            (Place::Entry(entry_name), Some((path, zip))) => {
                let mut entry = zip
                    .by_name(entry_name)
                    .with_context(|| format!("cannot read {entry_name} in {}", path.display()))?;
                let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
                entry
                    .read_to_end(&mut bytes)
                    .with_context(|| format!("cannot read {entry_name} in {}", path.display()))?;
                bytes
            }
        };
        Ok(File {
            name: name.clone(),
            bytes,
        })
    }
}

fn read_folder(dir: &Path) -> Result<RawFiles> {
    let mut out = RawFiles {
        files: BTreeMap::new(),
        zip: None,
    };
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !path.is_file() || name.starts_with('.') || !name.to_ascii_lowercase().ends_with(".csv")
        {
            continue;
        }
        out.insert(name, Place::File(path))?;
    }
    Ok(out)
}

/// The `.csv` files of a zip that sit next to its `manifest.csv` (at the top, or in the one
/// folder the exporter put everything in).
fn read_zip(path: &Path) -> Result<RawFiles> {
    let file = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let zip = zip::ZipArchive::new(file).with_context(|| {
        format!(
            "{} is neither a folder nor a readable .zip file",
            path.display()
        )
    })?;
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let manifest_dir = names
        .iter()
        .filter(|n| {
            let base = n.rsplit('/').next().unwrap_or(n);
            base.eq_ignore_ascii_case("manifest.csv") && !n.starts_with("__MACOSX")
        })
        .map(|n| n[..n.len() - "manifest.csv".len()].to_string())
        .min_by_key(|d| d.matches('/').count());
    let Some(dir) = manifest_dir else {
        bail!(
            "{} has no manifest.csv; a OneRoster export lists its files there \
             (docs/import-oneroster.md)",
            path.display()
        );
    };
    let mut out = RawFiles {
        files: BTreeMap::new(),
        zip: Some((path.to_path_buf(), zip)),
    };
    for name in names {
        let Some(base) = name.strip_prefix(&dir) else {
            continue;
        };
        if base.contains('/')
            || base.starts_with('.')
            || !base.to_ascii_lowercase().ends_with(".csv")
        {
            continue;
        }
        out.insert(base.to_string(), Place::Entry(name.clone()))?;
    }
    Ok(out)
}
