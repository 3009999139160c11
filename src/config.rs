//! `site.toml`: the site's settings. Strict: an unknown or mistyped key is an error that
//! names its line. Every field has a default, so an empty file is a valid site.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The name of the settings file in a site folder.
pub const SITE_FILE: &str = "site.toml";

/// Lowest PBKDF2 iteration count a site may set (DESIGN.md §4).
pub const MIN_KDF_ITERATIONS: u32 = 100_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Site title; empty means the school's name from the journal.
    pub title: String,
    /// UI language: `ru` or `en`.
    pub language: Language,
    /// IANA timezone of the school, e.g. `Europe/Moscow`.
    pub timezone: String,
    /// Public address of the site, e.g. `https://diary.school39.ru`.
    pub base_url: String,
    /// The journal database, relative to the site folder.
    pub journal: PathBuf,
    /// Where `diary build` writes the public site, relative to the site folder.
    pub output: PathBuf,
    /// Where printouts go (private, never published), relative to the site folder.
    pub print_dir: PathBuf,
    /// Theme name: a folder under `themes/`, or the built-in `default`.
    pub theme: String,
    /// School days per week: 5 (Monday–Friday) or 6 (Monday–Saturday).
    pub school_days: u8,
    pub grading: Grading,
    pub access: Access,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: String::new(),
            language: Language::Ru,
            timezone: "Europe/Moscow".into(),
            base_url: "http://localhost:8080".into(),
            journal: "data/journal.sqlite".into(),
            output: "public".into(),
            print_dir: "print".into(),
            theme: "default".into(),
            school_days: 5,
            grading: Grading::default(),
            access: Access::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ru,
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Ru => "ru",
            Language::En => "en",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Grading {
    /// Lowest numeric mark of the scale.
    pub min: u8,
    /// Highest numeric mark of the scale.
    pub max: u8,
    /// Words allowed as marks that never enter an average (pass, exempt, not assessed).
    pub non_numeric: Vec<String>,
    /// Fewest numeric marks in a period needed to attest it.
    pub min_marks: usize,
    /// The average from which each mark is given, e.g. `{ "5" = 4.6, "4" = 3.6 }`.
    /// A mark not listed here is given from `mark - 0.5` (mathematical rounding).
    pub thresholds: BTreeMap<String, f64>,
    /// Weights by work-type name; they override the journal's `work_types.weight`.
    pub weights: BTreeMap<String, f64>,
}

impl Default for Grading {
    fn default() -> Self {
        Grading {
            min: 1,
            max: 5,
            non_numeric: ["зч", "нз", "н/а", "осв"].map(String::from).to_vec(),
            min_marks: 3,
            thresholds: BTreeMap::new(),
            weights: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Access {
    /// PBKDF2 iterations for access codes (never below 100000).
    pub iterations: u32,
    /// The private store, relative to the site folder.
    pub store: PathBuf,
}

impl Default for Access {
    fn default() -> Self {
        Access {
            iterations: 600_000,
            store: ".diary".into(),
        }
    }
}

/// A loaded site: its folder and its settings.
#[derive(Debug, Clone)]
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
}

impl Site {
    /// Reads and validates `<root>/site.toml`.
    pub fn load(root: &Path) -> Result<Site> {
        let path = root.join(SITE_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {} (is {} a diary site? `diary init DIR` makes one)",
                path.display(),
                root.display()
            )
        })?;
        let config = Config::parse(&text).with_context(|| format!("in {}", path.display()))?;
        Ok(Site {
            root: root.to_path_buf(),
            config,
        })
    }

    pub fn journal_path(&self) -> PathBuf {
        self.root.join(&self.config.journal)
    }

    pub fn output_path(&self) -> PathBuf {
        self.root.join(&self.config.output)
    }

    pub fn print_path(&self) -> PathBuf {
        self.root.join(&self.config.print_dir)
    }

    pub fn store_path(&self) -> PathBuf {
        self.root.join(&self.config.access.store)
    }
}

impl Config {
    /// Parses and validates the text of a site.toml.
    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            bail!(
                "timezone = {:?} is not an IANA timezone name (for example \"Europe/Moscow\")",
                self.timezone
            );
        }
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            bail!(
                "base_url = {:?} must start with https:// (or http:// for a local preview)",
                self.base_url
            );
        }
        if !(5..=6).contains(&self.school_days) {
            bail!("school_days = {} must be 5 or 6", self.school_days);
        }
        let g = &self.grading;
        if g.min >= g.max {
            bail!("[grading] min = {} must be below max = {}", g.min, g.max);
        }
        if g.min_marks == 0 {
            bail!("[grading] min_marks must be at least 1");
        }
        for (mark, threshold) in &g.thresholds {
            let value: u8 = mark.parse().map_err(|_| {
                anyhow::anyhow!("[grading.thresholds] key {mark:?} is not a mark of the scale")
            })?;
            if value < g.min || value > g.max {
                bail!(
                    "[grading.thresholds] mark {value} is outside the scale {}..{}",
                    g.min,
                    g.max
                );
            }
            if !(f64::from(g.min)..=f64::from(g.max)).contains(threshold) {
                bail!(
                    "[grading.thresholds] {value} = {threshold} must lie between {} and {}",
                    g.min,
                    g.max
                );
            }
        }
        for (name, weight) in &g.weights {
            if !(*weight > 0.0 && weight.is_finite()) {
                bail!("[grading.weights] {name:?} = {weight} must be a positive number");
            }
        }
        if self.access.iterations < MIN_KDF_ITERATIONS {
            bail!(
                "[access] iterations = {} is below the minimum of {MIN_KDF_ITERATIONS}",
                self.access.iterations
            );
        }
        Ok(())
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Europe::Moscow)
    }
}

/// Turns a TOML error into one message that names the line and the key.
fn toml_error(text: &str, err: &toml::de::Error) -> anyhow::Error {
    let message = err.message().trim_end();
    match err.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
            anyhow::anyhow!("line {line}: {message}\n  | {snippet}")
        }
        None => anyhow::anyhow!("{message}"),
    }
}

/// The commented site.toml that `diary init` writes.
pub const TEMPLATE: &str = include_str!("../site.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.language, Language::Ru);
        assert_eq!(c.grading.max, 5);
        assert_eq!(c.access.iterations, 600_000);
    }

    #[test]
    fn shipped_template_parses() {
        Config::parse(TEMPLATE).unwrap();
    }

    #[test]
    fn unknown_key_names_its_line() {
        let err = Config::parse("language = \"ru\"\ntimezon = \"Europe/Moscow\"\n").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("timezon"), "{text}");
    }

    #[test]
    fn unknown_key_in_table_names_its_line() {
        let err = Config::parse("[grading]\nmin = 1\nmax_mark = 5\n").unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("line 3") && text.contains("max_mark"),
            "{text}"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            "timezone = \"Mars/Olympus\"",
            "language = \"de\"",
            "base_url = \"school.ru\"",
            "[grading]\nmin = 5\nmax = 5",
            "[grading.thresholds]\n\"9\" = 4.5",
            "[access]\niterations = 1000",
        ] {
            assert!(Config::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn thresholds_parse() {
        let c = Config::parse("[grading.thresholds]\n\"5\" = 4.6\n\"4\" = 3.6\n").unwrap();
        assert_eq!(c.grading.thresholds["5"], 4.6);
    }
}
