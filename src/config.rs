//! `site.toml`: the site's settings. Strict: an unknown or mistyped key is an error that
//! names its line. Every field has a default, so an empty file is a valid site.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The name of the settings file in a site folder.
pub(crate) const SITE_FILE: &str = "site.toml";

/// Lowest PBKDF2 iteration count a site may set (docs/access.md).
pub(crate) const MIN_KDF_ITERATIONS: u32 = 100_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Config {
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
    /// How long a build waits for a journal that another program is writing (`30s`,
    /// `2m`) before it gives up with "the journal is busy".
    pub journal_wait: String,
    /// Where `diary build` writes the public site, relative to the site folder.
    pub output: PathBuf,
    /// Where printouts go (private, never published), relative to the site folder.
    pub print_dir: PathBuf,
    /// The Chromium that `--pdf` prints with (a path, or a name looked up on PATH); empty
    /// means `DIARY_CHROMIUM`, else the first of chromium, chromium-browser, google-chrome.
    pub chromium: String,
    /// Theme name: a folder under `themes/`, or the built-in `default`.
    pub theme: String,
    /// School days per week: 5 (Monday–Friday) or 6 (Monday–Saturday).
    pub school_days: u8,
    pub grading: Grading,
    pub homework: Homework,
    pub entry: Entry,
    pub attention: Attention,
    pub access: Access,
    /// `[import.oneroster]`: how `diary import oneroster` turns scores into marks.
    #[serde(rename = "import")]
    pub imports: Imports,
    /// Where `diary publish` and `diary refresh` put the built site, by target name.
    pub publish: BTreeMap<String, PublishTarget>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: String::new(),
            language: Language::Ru,
            timezone: "Europe/Moscow".into(),
            base_url: "http://localhost:8080".into(),
            journal: "data/journal.sqlite".into(),
            journal_wait: "30s".into(),
            output: "public".into(),
            print_dir: "print".into(),
            chromium: String::new(),
            theme: "default".into(),
            school_days: 5,
            grading: Grading::default(),
            homework: Homework::default(),
            entry: Entry::default(),
            attention: Attention::default(),
            access: Access::default(),
            imports: Imports::default(),
            publish: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Language {
    Ru,
    En,
}

impl Language {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Language::Ru => "ru",
            Language::En => "en",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Grading {
    /// Lowest numeric mark of the scale.
    pub min: u8,
    /// Highest numeric mark of the scale.
    pub max: u8,
    /// Words allowed as marks that never enter an average (pass, exempt, not assessed).
    pub non_numeric: Vec<String>,
    /// Fewest numeric marks in a period needed to attest it.
    pub min_marks: usize,
    /// The fewest marks by the subject's lessons a week (from the timetable), `{ "1" = 3,
    /// "3" = 5 }`: a subject of N hours needs the value of the largest key not above N;
    /// below every key (or with no timetable), `min_marks`.
    pub min_marks_by_hours: BTreeMap<String, usize>,
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
            min_marks_by_hours: BTreeMap::new(),
            thresholds: BTreeMap::new(),
            weights: BTreeMap::new(),
        }
    }
}

impl Grading {
    /// The fewest marks a subject taught `hours` lessons a week needs
    /// ([`Grading::min_marks_by_hours`]; `min_marks` without a match).
    pub(crate) fn min_marks_for(&self, hours: u32) -> usize {
        self.min_marks_by_hours
            .iter()
            .filter_map(|(h, n)| Some((h.parse::<u32>().ok()?, *n)))
            .filter(|(h, _)| *h <= hours)
            .max_by_key(|(h, _)| *h)
            .map_or(self.min_marks, |(_, n)| n)
    }
}

/// `[entry]`: how soon after its lesson a mark must be in the journal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Entry {
    /// Days after the lesson a mark may be entered: 0 means on the lesson's day.
    pub days: u32,
    /// The same by work-type name (any case), for works that take time to mark: written
    /// works within a week by default.
    pub days_by_work_type: BTreeMap<String, u32>,
    /// The time of day by shift ("1", "2") by which the last allowed day's marks are in:
    /// 15:00 for the first shift and 20:00 for the second by default; a shift not listed
    /// has the whole day.
    pub until_by_shift: BTreeMap<String, String>,
}

impl Default for Entry {
    fn default() -> Self {
        let written = [
            "Контрольная работа",
            "Самостоятельная работа",
            "Проверочная работа",
            "Практическая работа",
            "Лабораторная работа",
            "Диктант",
            "Сочинение",
            "Изложение",
            "Тест",
            "Зачёт",
        ];
        Entry {
            days: 0,
            days_by_work_type: written.iter().map(|w| (w.to_string(), 7)).collect(),
            until_by_shift: BTreeMap::from([
                ("1".to_string(), "15:00".to_string()),
                ("2".to_string(), "20:00".to_string()),
            ]),
        }
    }
}

impl Entry {
    /// The days a mark of this work type may be entered after its lesson.
    pub(crate) fn days_for(&self, work_type: Option<&str>) -> u32 {
        work_type
            .and_then(|w| {
                let w = w.trim().to_lowercase();
                self.days_by_work_type
                    .iter()
                    .find(|(name, _)| name.trim().to_lowercase() == w)
                    .map(|(_, d)| *d)
            })
            .unwrap_or(self.days)
    }

    /// The shift's hour (`until_by_shift`), if it has one.
    pub(crate) fn until(&self, shift: i64) -> Option<chrono::NaiveTime> {
        self.until_by_shift
            .get(&shift.to_string())
            .and_then(|t| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok())
    }

    /// When a mark is due for a lesson on `date` that ends at `ends`, given the days its
    /// work type has (`days_for`) and its class's shift's hour (`until`): on the last
    /// allowed day by that hour, or, for a lesson that ends after it, by the end of that day.
    pub(crate) fn due_by(
        date: chrono::NaiveDate,
        days: u32,
        until: Option<chrono::NaiveTime>,
        ends: Option<chrono::NaiveTime>,
    ) -> chrono::NaiveDateTime {
        let day = date + chrono::Duration::days(i64::from(days));
        let end_of_day = chrono::NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default();
        let time = until
            .filter(|t| ends.is_none_or(|e| e < *t))
            .unwrap_or(end_of_day);
        day.and_time(time)
    }
}

/// `[attention]`: when a pupil goes on the attention list (`diary print attention`) and
/// their diary shows a warning at the top.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Attention {
    /// A failing forecast or too few marks in a term is shown from this many weeks before
    /// the term's last day.
    pub last_weeks: u32,
    /// More unexcused absences than this in the current term are shown (0: any).
    pub unexcused_over: usize,
    /// An absence with no reason is shown once more than this many days have passed since
    /// the lesson.
    pub reason_within_days: u32,
    /// A forecast (or the teacher's period mark) of this mark or lower is failing.
    pub failing_at_most: u8,
}

impl Default for Attention {
    fn default() -> Self {
        Attention {
            last_weeks: 2,
            unexcused_over: 3,
            reason_within_days: 3,
            failing_at_most: 2,
        }
    }
}

/// `[homework]`: how much homework a day may take.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Homework {
    /// The most minutes of homework (the sum of `lessons.homework_minutes` set on one day)
    /// by grade, `"5" = 120`. A grade missing from the table has no limit. The defaults
    /// are the sanitary rules' limits: grades 2–3 1.5 h, 4–5 2 h, 6–8 2.5 h, 9–11 3.5 h.
    pub daily_minutes: BTreeMap<String, u32>,
}

impl Default for Homework {
    fn default() -> Self {
        let limit = |grade: u32| match grade {
            2..=3 => 90,
            4..=5 => 120,
            6..=8 => 150,
            _ => 210,
        };
        Homework {
            daily_minutes: (2..=11).map(|g| (g.to_string(), limit(g))).collect(),
        }
    }
}

impl Homework {
    /// The daily limit of a grade, if it has one.
    pub(crate) fn limit(&self, grade: i64) -> Option<u32> {
        self.daily_minutes.get(&grade.to_string()).copied()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Access {
    /// PBKDF2 iterations for access codes (never below 100000).
    pub iterations: u32,
    /// The private store, relative to the site folder.
    pub store: PathBuf,
    /// When changed diaries go out ("HH:MM" in the school's timezone): between these
    /// times every diary file stays as it was, so which files change tells nobody which
    /// child got a mark. Empty: at every build.
    pub publish_at: Vec<String>,
}

impl Default for Access {
    fn default() -> Self {
        Access {
            iterations: 600_000,
            store: ".diary".into(),
            publish_at: vec!["15:00".into(), "20:00".into()],
        }
    }
}

impl Access {
    /// The publication times of `publish_at`, sorted.
    pub(crate) fn publish_times(&self) -> Vec<chrono::NaiveTime> {
        let mut times: Vec<chrono::NaiveTime> = self
            .publish_at
            .iter()
            .filter_map(|t| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok())
            .collect();
        times.sort();
        times.dedup();
        times
    }
}

/// `[import.*]`: settings of the importers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Imports {
    pub oneroster: OneRosterImport,
}

/// `[import.oneroster]`: how results become marks (docs/import-oneroster.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct OneRosterImport {
    /// The percentage of a line item's range (`resultValueMin..resultValueMax`) from which
    /// each mark is given, e.g. `{ "5" = 85, "4" = 65, "3" = 45, "2" = 0 }`; below every
    /// threshold, `[grading] min`. Empty: the range is spread evenly over the scale
    /// (`min + round(percent / 100 × (max − min))`).
    pub thresholds: BTreeMap<String, f64>,
    /// Marks for `textScore` values, e.g. `{ "A" = "5", "pass" = "зч" }`: a mark of the
    /// scale or a word of `[grading] non_numeric`.
    pub text_scores: BTreeMap<String, String>,
    /// What an `exempt` result becomes: a word of `[grading] non_numeric`. Unset: `осв`
    /// when that word is in the list, else exempt results are skipped.
    pub exempt: Option<String>,
    /// Phrases whose presence in a category's or line item's title makes its results exam
    /// marks, and a session's title an exam session. Unset: [`DEFAULT_EXAM_TITLES`].
    pub exam_titles: Option<Vec<String>>,
    /// Phrases that make a line item's results final (итоговые) marks. Unset:
    /// [`DEFAULT_FINAL_TITLES`].
    pub final_titles: Option<Vec<String>>,
}

/// `exam_titles` when unset: each word of a phrase matches the start of a word of the
/// title, in any case (`экзамен` matches "Экзамены", "экзаменационная").
pub(crate) const DEFAULT_EXAM_TITLES: [&str; 2] = ["экзамен", "exam"];

/// `final_titles` when unset ("Итоговая отметка", "итоговые оценки", "Final grades").
pub(crate) const DEFAULT_FINAL_TITLES: [&str; 4] =
    ["итогов отметк", "итогов оценк", "final grade", "final mark"];

impl OneRosterImport {
    /// Every phrase of `exam_titles` and `final_titles` has a word to match.
    fn validate_titles(&self) -> Result<()> {
        for (key, phrases) in [
            ("exam_titles", &self.exam_titles),
            ("final_titles", &self.final_titles),
        ] {
            if let Some(empty) = phrases
                .iter()
                .flatten()
                .find(|p| !p.chars().any(char::is_alphanumeric))
            {
                bail!(
                    "[import.oneroster] {key}: {empty:?} has no word to match (write words such \
                     as \"экзамен\", or an empty list to match nothing)"
                );
            }
        }
        Ok(())
    }

    fn validate(&self, g: &Grading) -> Result<()> {
        let is_word = |w: &str| {
            g.non_numeric
                .iter()
                .any(|n| n.trim().to_lowercase() == w.trim().to_lowercase())
        };
        let is_mark = |m: &str| {
            m.parse::<u8>()
                .is_ok_and(|v| v >= g.min && v <= g.max && v.to_string() == m)
        };
        for (mark, percent) in &self.thresholds {
            if !is_mark(mark) {
                bail!(
                    "[import.oneroster.thresholds] key {mark:?} is not a mark of the scale {}..{}",
                    g.min,
                    g.max
                );
            }
            if !(0.0..=100.0).contains(percent) {
                bail!(
                    "[import.oneroster.thresholds] {mark} = {percent} must be a percentage \
                     between 0 and 100"
                );
            }
        }
        for (text, mark) in &self.text_scores {
            if !(is_mark(mark) || is_word(mark)) {
                bail!(
                    "[import.oneroster.text_scores] {text:?} = {mark:?} is neither a mark of the \
                     scale {}..{} nor a word of [grading] non_numeric",
                    g.min,
                    g.max
                );
            }
        }
        self.validate_titles()?;
        if let Some(word) = &self.exempt
            && !is_word(word)
        {
            bail!(
                "[import.oneroster] exempt = {word:?} is not a word of [grading] non_numeric ({})",
                g.non_numeric.join(", ")
            );
        }
        Ok(())
    }
}

/// `[publish.NAME]`: one place `diary publish` and `diary refresh` put the built site,
/// by `kind`. Each kind takes its own keys (strictly); credentials are refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum PublishTarget {
    /// A local folder served by nginx or similar, switched atomically.
    Dir(DirTarget),
    /// A folder on another host, through the system `rsync` over ssh.
    Rsync(RsyncTarget),
    /// An S3-compatible bucket (AWS S3, MinIO, Yandex Object Storage…).
    S3(S3Target),
    /// A branch of a git repository (GitHub/GitLab Pages).
    Git(GitTarget),
}

/// `kind = "dir"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirTarget {
    /// The folder a web server serves; diary makes it a symlink it switches atomically.
    /// Relative to the site folder.
    pub path: PathBuf,
}

/// `kind = "rsync"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RsyncTarget {
    /// The destination, `user@host:/var/www/diary/` (or a local folder).
    pub dest: String,
    /// The remote shell command, e.g. `ssh -p 2222 -i /home/diary/.ssh/id_ed25519`.
    pub ssh: Option<String>,
}

/// `kind = "s3"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S3Target {
    pub bucket: String,
    /// The storage's address, for storage other than AWS
    /// (`https://storage.yandexcloud.net`, `http://127.0.0.1:9000` for MinIO).
    pub endpoint: Option<String>,
    /// The region (default: AWS_DEFAULT_REGION / AWS_REGION, else `us-east-1`).
    pub region: Option<String>,
    /// A key prefix, e.g. `school39` (several schools in one bucket).
    pub prefix: Option<String>,
}

/// `kind = "git"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GitTarget {
    /// The repository to push to (a URL, or a path relative to the site folder).
    pub repo: String,
    /// The branch (default `gh-pages`).
    pub branch: Option<String>,
    /// A custom domain for GitHub Pages, written to the branch as `CNAME`.
    pub cname: Option<String>,
}

/// Keys that would hold a secret: refused in `[publish.*]` with where they go instead.
const CREDENTIAL_KEYS: &[&str] = &[
    "access_key_id",
    "secret_access_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "session_token",
    "aws_session_token",
    "access_key",
    "secret_key",
    "secret",
    "token",
    "password",
];

/// Refuses a credential in a `[publish.*]` table, naming its line.
fn refuse_credentials(text: &str) -> Result<()> {
    let mut table: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            table = t
                .trim_start_matches('[')
                .trim_end_matches(']')
                .strip_prefix("publish.")
                .map(|n| n.trim_matches('"').to_string());
            continue;
        }
        let Some(name) = &table else { continue };
        let key = t.split('=').next().unwrap_or("").trim().trim_matches('"');
        if t.contains('=') && CREDENTIAL_KEYS.contains(&key) {
            bail!(
                "line {}: in [publish.{name}]: `{key}`: credentials never go in site.toml (it is \
                 not secret and is often committed or shared): remove this key and give them to \
                 `diary` in its environment instead, e.g. AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY for kind = \"s3\", an ssh key for rsync and git \
                 (docs/operations.md)",
                i + 1
            );
        }
    }
    Ok(())
}

impl PublishTarget {
    /// `dir`, `rsync`, `s3` or `git`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            PublishTarget::Dir(_) => "dir",
            PublishTarget::Rsync(_) => "rsync",
            PublishTarget::S3(_) => "s3",
            PublishTarget::Git(_) => "git",
        }
    }

    fn validate(&self, name: &str) -> Result<()> {
        let at = format!("[publish.{name}] (kind = \"{}\")", self.kind());
        let nonempty = |key: &str, value: Option<&str>| -> Result<()> {
            match value {
                Some(v) if v.trim().is_empty() => bail!("{at} `{key}` is empty"),
                _ => Ok(()),
            }
        };
        match self {
            PublishTarget::Dir(t) => {
                if t.path.as_os_str().is_empty() {
                    bail!("{at} `path` is empty");
                }
            }
            PublishTarget::Rsync(t) => {
                nonempty("dest", Some(&t.dest))?;
                nonempty("ssh", t.ssh.as_deref())?;
            }
            PublishTarget::S3(t) => {
                nonempty("bucket", Some(&t.bucket))?;
                nonempty("region", t.region.as_deref())?;
                if let Some(endpoint) = &t.endpoint
                    && !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
                {
                    bail!("{at} endpoint = {endpoint:?} must start with https:// (or http://)");
                }
                let prefix = t.prefix();
                if prefix.split('/').any(|s| s == "." || s == "..")
                    || prefix.contains("//")
                    || prefix.contains('\\')
                {
                    bail!(
                        "{at} prefix = {prefix:?} must be a plain key prefix such as \"school39\""
                    );
                }
            }
            PublishTarget::Git(t) => {
                nonempty("repo", Some(&t.repo))?;
                nonempty("branch", t.branch.as_deref())?;
                nonempty("cname", t.cname.as_deref())?;
                if let Some(branch) = &t.branch
                    && (branch.starts_with('-') || branch.contains(char::is_whitespace))
                {
                    bail!("{at} branch = {branch:?} is not a branch name");
                }
            }
        }
        Ok(())
    }
}

impl S3Target {
    /// The key prefix without leading or trailing slashes (`""`: the whole bucket).
    pub(crate) fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or("").trim_matches('/')
    }
}

impl GitTarget {
    /// The branch, `gh-pages` unless set.
    pub(crate) fn branch(&self) -> &str {
        self.branch.as_deref().unwrap_or("gh-pages")
    }
}

/// A loaded site: its folder and its settings.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub root: PathBuf,
    pub config: Config,
}

impl Site {
    /// Reads and validates `<root>/site.toml`.
    pub(crate) fn load(root: &Path) -> Result<Site> {
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

    pub(crate) fn journal_path(&self) -> PathBuf {
        self.root.join(&self.config.journal)
    }

    pub(crate) fn output_path(&self) -> PathBuf {
        self.root.join(&self.config.output)
    }

    pub(crate) fn print_path(&self) -> PathBuf {
        self.root.join(&self.config.print_dir)
    }

    pub(crate) fn store_path(&self) -> PathBuf {
        self.root.join(&self.config.access.store)
    }
}

impl Config {
    /// Parses and validates the text of a site.toml.
    pub(crate) fn parse(text: &str) -> Result<Config> {
        refuse_credentials(text)?;
        let config: Config = toml::from_str(text).map_err(|e| {
            // A publish target's errors point at its header: name the table, and for an
            // unknown key, the key's own line.
            let start = e.span().map(|span| span.start);
            let table = start.and_then(|at| publish_table_at(text, line_end(text, at)));
            let at = match (&table, unknown_field(e.message())) {
                (Some(name), Some(field)) => key_in_table(text, name, field).or(start),
                _ => start,
            };
            let err = toml_error(text, e.message(), at);
            match table {
                Some(name) => err.context(format!("in [publish.{name}]")),
                None => err,
            }
        })?;
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
        for grade in self.homework.daily_minutes.keys() {
            if !grade.parse::<u8>().is_ok_and(|g| (1..=11).contains(&g)) {
                bail!("[homework.daily_minutes] key {grade:?} is not a grade 1–11");
            }
        }
        if humantime::parse_duration(self.journal_wait.trim()).is_err() {
            bail!(
                "journal_wait = {:?} is not a duration (for example \"30s\" or \"2m\")",
                self.journal_wait
            );
        }
        for (shift, t) in &self.entry.until_by_shift {
            if shift != "1" && shift != "2" {
                bail!("[entry] until_by_shift key {shift:?} is not a shift (\"1\" or \"2\")");
            }
            if chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").is_err() {
                bail!(
                    "[entry] until_by_shift: {shift:?} = {t:?} is not a time of day such as \"15:00\""
                );
            }
        }
        if self
            .entry
            .days_by_work_type
            .keys()
            .any(|w| w.trim().is_empty())
        {
            bail!("[entry] days_by_work_type has an empty work-type name");
        }
        let g = &self.grading;
        if g.min >= g.max {
            bail!("[grading] min = {} must be below max = {}", g.min, g.max);
        }
        if g.min_marks == 0 {
            bail!("[grading] min_marks must be at least 1");
        }
        for (hours, n) in &g.min_marks_by_hours {
            if !hours.parse::<u32>().is_ok_and(|h| h >= 1) {
                bail!(
                    "[grading] min_marks_by_hours key {hours:?} is not a number of lessons a week (1, 2, …)"
                );
            }
            if *n == 0 {
                bail!("[grading] min_marks_by_hours: {hours:?} = 0 must be at least 1");
            }
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
        let a = &self.attention;
        if !(1..=8).contains(&a.last_weeks) {
            bail!(
                "[attention] last_weeks = {} must be from 1 to 8 (weeks before a term's end)",
                a.last_weeks
            );
        }
        if a.reason_within_days > 30 {
            bail!(
                "[attention] reason_within_days = {} must be at most 30 (days after the lesson)",
                a.reason_within_days
            );
        }
        if a.failing_at_most < g.min || a.failing_at_most >= g.max {
            bail!(
                "[attention] failing_at_most = {} must be a mark of the scale below its top ({}..{})",
                a.failing_at_most,
                g.min,
                g.max - 1
            );
        }
        self.imports.oneroster.validate(g)?;
        if self.access.iterations < MIN_KDF_ITERATIONS {
            bail!(
                "[access] iterations = {} is below the minimum of {MIN_KDF_ITERATIONS}",
                self.access.iterations
            );
        }
        for t in &self.access.publish_at {
            if chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").is_err() {
                bail!("[access] publish_at: {t:?} is not a time of day such as \"15:00\"");
            }
        }
        for (name, target) in &self.publish {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bail!(
                    "[publish.{name}]: a target name is made of Latin letters, digits, `-` and `_`"
                );
            }
            target.validate(name)?;
        }
        Ok(())
    }

    /// [`Config::journal_wait`] (checked when the settings are read).
    pub(crate) fn journal_wait(&self) -> std::time::Duration {
        humantime::parse_duration(self.journal_wait.trim())
            .unwrap_or(std::time::Duration::from_secs(30))
    }

    pub(crate) fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Europe::Moscow)
    }
}

/// Turns a TOML error into one message that names the line and the key.
fn toml_error(text: &str, message: &str, at: Option<usize>) -> anyhow::Error {
    let message = message.trim_end();
    match at {
        Some(start) => {
            let line = text[..start.min(text.len())].matches('\n').count() + 1;
            let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
            anyhow::anyhow!("line {line}: {message}\n  | {snippet}")
        }
        None => anyhow::anyhow!("{message}"),
    }
}

/// The offset of the end of the line holding `at`.
fn line_end(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

/// The key an "unknown field" error names.
fn unknown_field(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

/// The offset of the line `key = …` inside the table `[publish.NAME]`.
fn key_in_table(text: &str, name: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') {
            inside = publish_table_at(t, t.len()).as_deref() == Some(name);
        } else if inside && t.split('=').next().map(str::trim) == Some(key) {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// The `[publish.NAME]` table that the byte offset `at` of a site.toml lies in, if any
/// (so an error in a publish target names the target).
fn publish_table_at(text: &str, at: usize) -> Option<String> {
    let before = &text[..at.min(text.len())];
    let header = before
        .lines()
        .map(str::trim)
        .rfind(|l| l.starts_with('[') && !l.starts_with("[["))?;
    let inner = header.trim_start_matches('[').split(']').next()?.trim();
    let name = inner.strip_prefix("publish.")?;
    let name = name.split('.').next()?.trim().trim_matches('"');
    Some(name.to_string())
}

/// The commented site.toml that `diary init` writes.
pub(crate) const TEMPLATE: &str = include_str!("../site.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_settings() {
        let a = Config::default().attention;
        assert_eq!(
            (
                a.last_weeks,
                a.unexcused_over,
                a.reason_within_days,
                a.failing_at_most
            ),
            (2, 3, 3, 2)
        );
        let c = Config::parse("[attention]\nlast_weeks = 3\nunexcused_over = 0\n").unwrap();
        assert_eq!((c.attention.last_weeks, c.attention.unexcused_over), (3, 0));
        let err = |text: &str| format!("{:#}", Config::parse(text).unwrap_err());
        assert!(err("[attention]\nlast_week = 2\n").contains("last_week"));
        assert!(err("[attention]\nlast_weeks = 0\n").contains("last_weeks = 0"));
        assert!(err("[attention]\nreason_within_days = 31\n").contains("at most 30"));
        assert!(err("[attention]\nfailing_at_most = 5\n").contains("1..4"));
        assert!(
            Config::parse("[grading]\nmin = 1\nmax = 10\n[attention]\nfailing_at_most = 4\n")
                .is_ok()
        );
    }

    #[test]
    fn min_marks_by_weekly_hours() {
        let c = Config::parse(
            "[grading]\nmin_marks = 2\nmin_marks_by_hours = { \"1\" = 3, \"3\" = 5 }\n",
        )
        .unwrap();
        let g = &c.grading;
        assert_eq!(
            [0, 1, 2, 3, 6].map(|h| g.min_marks_for(h)),
            [2, 3, 3, 5, 5],
            "below every key: min_marks; else the largest key not above"
        );
        assert!(Config::parse("[grading]\nmin_marks_by_hours = { \"x\" = 3 }\n").is_err());
        assert_eq!(Config::default().grading.min_marks_for(4), 3);
    }

    #[test]
    fn marks_are_due_by_the_shift_hour_and_written_works_within_a_week() {
        let e = Config::default().entry;
        let due = |e: &Entry, day, shift, ends, work_type| {
            Entry::due_by(day, e.days_for(work_type), e.until(shift), ends)
        };
        let d = |s: &str| crate::journal::parse_date(s).unwrap();
        let t = |s: &str| chrono::NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        let at = |day: &str, time: &str| d(day).and_time(t(time));
        let day = d("2026-11-23");
        assert_eq!(
            due(&e, day, 1, Some(t("12:20")), None),
            at("2026-11-23", "15:00")
        );
        assert_eq!(
            due(&e, day, 2, Some(t("16:00")), None),
            at("2026-11-23", "20:00")
        );
        assert_eq!(
            due(&e, day, 1, Some(t("15:05")), Some("Устный ответ")),
            d("2026-11-23").and_hms_opt(23, 59, 59).unwrap(),
            "a lesson ending after the hour: by the end of its day"
        );
        assert_eq!(
            due(&e, day, 1, None, Some("контрольная РАБОТА")),
            at("2026-11-30", "15:00"),
            "written works: a week, any case"
        );
        let c = Config::parse("[entry]\ndays = 1\nuntil_by_shift = {}\ndays_by_work_type = {}\n")
            .unwrap();
        assert_eq!(
            due(&c.entry, day, 1, None, Some("Диктант")),
            d("2026-11-24").and_hms_opt(23, 59, 59).unwrap(),
            "a school's own rule replaces the defaults"
        );
        assert!(Config::parse("[entry]\nuntil_by_shift = { \"1\" = \"3pm\" }\n").is_err());
        assert!(Config::parse("[entry]\nuntil_by_shift = { \"0\" = \"15:00\" }\n").is_err());
    }

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
    fn publish_targets_parse() {
        let c = Config::parse(
            "[publish.web]\nkind = \"dir\"\npath = \"/var/www/diary\"\n\
             [publish.cloud]\nkind = \"s3\"\nbucket = \"school39-diary\"\n\
             endpoint = \"https://storage.yandexcloud.net\"\nregion = \"ru-central1\"\n\
             prefix = \"/school39/\"\n\
             [publish.pages]\nkind = \"git\"\nrepo = \"../diary-pages\"\n\
             [publish.host]\nkind = \"rsync\"\ndest = \"diary@web:/var/www/diary/\"\n",
        )
        .unwrap();
        assert_eq!(c.publish.len(), 4);
        assert_eq!(c.publish["web"].kind(), "dir");
        assert!(matches!(&c.publish["cloud"], PublishTarget::S3(t) if t.prefix() == "school39"));
        assert!(matches!(&c.publish["pages"], PublishTarget::Git(t) if t.branch() == "gh-pages"));
        assert!(matches!(
            &c.publish["host"],
            PublishTarget::Rsync(t) if t.dest == "diary@web:/var/www/diary/"
        ));
        assert!(Config::parse("").unwrap().publish.is_empty());
    }

    #[test]
    fn publish_errors_name_the_target() {
        let cases = [
            // An unknown key: the line and the target.
            (
                "title = \"x\"\n[publish.cloud]\nkind = \"s3\"\nbuckt = \"b\"\n",
                &["[publish.cloud]", "line 4", "buckt"][..],
            ),
            (
                "[publish.web]\nkind = \"ftp\"\npath = \"/x\"\n",
                &["[publish.web]", "line 2", "ftp"],
            ),
            (
                "[publish.web]\nkind = \"dir\"\n",
                &["[publish.web]", "missing field `path`"],
            ),
            (
                "[publish.web]\nkind = \"dir\"\npath = \"/x\"\nbucket = \"b\"\n",
                &[
                    "[publish.web]",
                    "line 4",
                    "unknown field `bucket`",
                    "`path`",
                ],
            ),
            (
                "[publish.cloud]\nkind = \"s3\"\nbucket = \"b\"\nendpoint = \"storage.local\"\n",
                &["[publish.cloud]", "https://"],
            ),
            (
                "[publish.cloud]\nkind = \"s3\"\nbucket = \"b\"\nprefix = \"a/../b\"\n",
                &["[publish.cloud]", "prefix"],
            ),
            (
                "[publish.\"my site\"]\nkind = \"dir\"\npath = \"/x\"\n",
                &["my site"],
            ),
            (
                "[publish.pages]\nkind = \"git\"\n",
                &["[publish.pages]", "`repo`"],
            ),
        ];
        for (text, expected) in cases {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            for e in expected {
                assert!(err.contains(e), "{text}: {err} lacks {e}");
            }
        }
    }

    #[test]
    fn credentials_in_site_toml_are_refused() {
        for key in [
            "access_key_id",
            "secret_access_key",
            "aws_secret_access_key",
            "password",
        ] {
            let text =
                format!("[publish.cloud]\nkind = \"s3\"\nbucket = \"b\"\n{key} = \"AKIA123\"\n");
            let err = format!("{:#}", Config::parse(&text).unwrap_err());
            assert!(
                err.contains("[publish.cloud]")
                    && err.contains("line 4")
                    && err.contains("credentials never go in site.toml")
                    && err.contains("AWS_SECRET_ACCESS_KEY"),
                "{key}: {err}"
            );
        }
    }

    #[test]
    fn thresholds_parse() {
        let c = Config::parse("[grading.thresholds]\n\"5\" = 4.6\n\"4\" = 3.6\n").unwrap();
        assert_eq!(c.grading.thresholds["5"], 4.6);
    }

    #[test]
    fn oneroster_import_settings() {
        let c = Config::parse("").unwrap();
        assert!(c.imports.oneroster.thresholds.is_empty());
        assert_eq!(c.imports.oneroster.exempt, None);
        let c = Config::parse(
            "[import.oneroster]\nexempt = \"осв\"\n\
             [import.oneroster.thresholds]\n\"5\" = 85\n\"4\" = 65\n\"2\" = 0\n\
             [import.oneroster.text_scores]\nA = \"5\"\npass = \"ЗЧ\"\n",
        )
        .unwrap();
        assert_eq!(c.imports.oneroster.thresholds["4"], 65.0);
        assert_eq!(c.imports.oneroster.text_scores["A"], "5");
        assert_eq!(c.imports.oneroster.exam_titles, None);
        let c = Config::parse("[import.oneroster]\nexam_titles = []\nfinal_titles = [\"годов\"]\n")
            .unwrap();
        assert_eq!(c.imports.oneroster.exam_titles, Some(vec![]));
        assert_eq!(
            c.imports.oneroster.final_titles,
            Some(vec!["годов".to_string()])
        );
        for (bad, expected) in [
            (
                "[import.oneroster.thresholds]\n\"6\" = 90",
                "not a mark of the scale",
            ),
            (
                "[import.oneroster.thresholds]\n\"5\" = 120",
                "between 0 and 100",
            ),
            (
                "[import.oneroster.text_scores]\nA = \"A+\"",
                "neither a mark",
            ),
            ("[import.oneroster]\nexempt = \"free\"", "non_numeric"),
            (
                "[import.oneroster]\nexam_titles = [\"экзамен\", \" - \"]",
                "exam_titles: \" - \" has no word",
            ),
            ("[import.oneroster]\nscale = 5", "line 2"),
        ] {
            let err = format!("{:#}", Config::parse(bad).unwrap_err());
            assert!(err.contains(expected), "{bad}: {err}");
        }
    }
}
