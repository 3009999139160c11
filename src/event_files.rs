//! `content/events/`: events the class teacher publishes without the journal, as Markdown
//! files with TOML front matter or as iCalendar (`.ics`) files exported from a calendar.
//!
//! ```text
//! +++
//! title = "Экскурсия в музей"
//! date = 2026-12-12            # or starts_on = … and ends_on = … for several days
//! time = "15:00"               # optional; ends_at = "17:00" optional
//! place = "Краеведческий музей"
//! class = "5А"                 # or grade = 5; neither: the whole school
//! note = "Взять сменную обувь" # optional
//! +++
//! Markdown text: the description.
//! ```
//!
//! An `.ics` file's audience is its file name: `5А.ics`, `5А-….ics` or `5a-….ics` (the
//! class's Latin name) for a class, `grade-5.ics` or `grade-5-….ics` for a grade,
//! `school.ics` or `school-….ics` for the whole school. Times with a TZID or in UTC are
//! converted to the school's timezone.
//!
//! Loaded events join the journal's in memory ([`merge`]): an event already in the journal
//! (same audience, start and title) is shown once.

use crate::content::Failed;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::content::PostAudience;
use crate::finding::Finding;
use crate::journal::{Event, Journal};

/// The folder of event files, relative to the site folder.
pub(crate) const DIR: &str = "content/events";

/// One event from a file of `content/events/`.
#[derive(Debug, Clone)]
pub(crate) struct FileEvent {
    /// Path relative to the site folder, for messages.
    pub file: PathBuf,
    /// The line the event starts on (1 for a Markdown file, its BEGIN:VEVENT in an .ics).
    pub line: usize,
    /// A stable identifier for calendar feeds.
    pub uid: String,
    pub audience: PostAudience,
    /// The line naming the audience (`class = …`), when a Markdown file names one.
    pub audience_line: Option<usize>,
    pub title: String,
    /// Local school time; midnight for an event without a time.
    pub starts_at: NaiveDateTime,
    pub ends_at: Option<NaiveDateTime>,
    pub place: Option<String>,
    pub description: Option<String>,
}

/// Reads every `*.md` and `*.ics` file of `<site>/content/events`, sorted by name. A file
/// that cannot be read is an error; what is wrong inside a file is a finding naming it and
/// the line.
pub(crate) fn load(site_root: &Path, tz: Tz) -> Result<(Vec<FileEvent>, Vec<Finding>)> {
    let dir = site_root.join(DIR);
    let mut events = Vec::new();
    let mut findings = Vec::new();
    if !dir.is_dir() {
        return Ok((events, findings));
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {DIR}"))? {
        let path = entry?.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if path.is_file() && (ext.eq_ignore_ascii_case("md") || ext.eq_ignore_ascii_case("ics")) {
            files.push(path);
        }
    }
    files.sort();
    for path in files {
        let rel = path.strip_prefix(site_root).unwrap_or(&path).to_path_buf();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {} (is it UTF-8?)", rel.display()))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let is_md = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"));
        let found = if is_md {
            parse_md(&rel, text).map(|e| vec![e])
        } else {
            parse_ics(&rel, text, tz)
        };
        match found {
            Ok(mut found) => events.append(&mut found),
            Err((line, e)) => findings.push(Finding::error(
                rel.display().to_string(),
                line.map(|l| format!("line {l}")).unwrap_or_default(),
                None,
                format!("{e:#}"),
            )),
        }
    }
    Ok((events, findings))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: Option<String>,
    date: Option<toml::Value>,
    starts_on: Option<toml::Value>,
    ends_on: Option<toml::Value>,
    time: Option<String>,
    ends_at: Option<String>,
    place: Option<String>,
    audience: Option<String>,
    class: Option<String>,
    grade: Option<i64>,
    note: Option<String>,
}

/// The line (1-based, in the file) of `key = …` in front matter that starts on line 2.
fn key_line(front: &str, key: &str) -> Option<usize> {
    front
        .lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 2)
}

fn parse_md(file: &Path, text: &str) -> Result<FileEvent, Failed> {
    let (front, body) = crate::content::split_front_matter(text)?;
    let body = body.trim();
    let fm: FrontMatter = crate::content::parse_front_matter(&front)?;
    let at = |key: &str, e: anyhow::Error| (key_line(&front, key), e);

    let title = fm.title.as_deref().map(str::trim).unwrap_or("");
    if title.is_empty() {
        return Err((
            key_line(&front, "title").or(Some(2)),
            anyhow!("the event has no title (title = \"…\")"),
        ));
    }
    let (first_day, last_day) = match (&fm.date, &fm.starts_on, &fm.ends_on) {
        (Some(d), None, None) => {
            let d = toml_date(d).map_err(|e| at("date", e.context("date")))?;
            (d, d)
        }
        (None, Some(s), Some(e)) => {
            let s = toml_date(s).map_err(|e| at("starts_on", e.context("starts_on")))?;
            let e = toml_date(e).map_err(|e| at("ends_on", e.context("ends_on")))?;
            (s, e)
        }
        (None, Some(_), None) => {
            return Err(at(
                "starts_on",
                anyhow!("starts_on needs ends_on (the last day)"),
            ));
        }
        (None, None, Some(_)) => {
            return Err(at(
                "ends_on",
                anyhow!("ends_on needs starts_on (the first day)"),
            ));
        }
        (None, None, None) => {
            return Err((
                Some(2),
                anyhow!("the event has no date (date = 2026-12-12, or starts_on and ends_on)"),
            ));
        }
        (Some(_), _, _) => {
            return Err(at(
                "date",
                anyhow!("give either date or starts_on and ends_on, not both"),
            ));
        }
    };
    if last_day < first_day {
        return Err(at(
            "ends_on",
            anyhow!("ends_on = {last_day} is before starts_on = {first_day}"),
        ));
    }
    let time = fm
        .time
        .as_deref()
        .map(|t| hh_mm(t).map_err(|e| at("time", e)))
        .transpose()?;
    let end_time = fm
        .ends_at
        .as_deref()
        .map(|t| hh_mm(t).map_err(|e| at("ends_at", e)))
        .transpose()?;
    let starts_at = first_day.and_time(time.unwrap_or(NaiveTime::MIN));
    let ends_at = match (end_time, time) {
        (Some(_), None) => {
            return Err(at(
                "ends_at",
                anyhow!("ends_at needs time (when it starts)"),
            ));
        }
        (Some(end), Some(_)) => {
            let end = last_day.and_time(end);
            if end <= starts_at {
                return Err(at(
                    "ends_at",
                    anyhow!(
                        "ends_at = {} is not after the start {}",
                        end.format("%H:%M"),
                        starts_at.format("%Y-%m-%d %H:%M")
                    ),
                ));
            }
            Some(end)
        }
        (None, _) if last_day > first_day => {
            Some(last_day.and_hms_opt(23, 59, 0).unwrap_or(starts_at))
        }
        (None, _) => None,
    };
    let class = fm.class.as_deref().map(str::trim);
    let audience = match (class, fm.grade) {
        (Some(_), Some(_)) => return Err(at("grade", anyhow!("give class or grade, not both"))),
        (Some(""), None) => return Err(at("class", anyhow!("class is empty"))),
        (Some(c), None) => PostAudience::Class(c.to_string()),
        (None, Some(g)) if (1..=11).contains(&g) => PostAudience::Grade(g),
        (None, Some(g)) => return Err(at("grade", anyhow!("grade = {g} is not a grade (1–11)"))),
        (None, None) => PostAudience::School,
    };
    let fits = matches!(
        (fm.audience.as_deref(), &audience),
        (None, _)
            | (Some("class"), PostAudience::Class(_))
            | (Some("grade"), PostAudience::Grade(_))
            | (Some("school"), PostAudience::School)
    );
    if !fits {
        return Err(at(
            "audience",
            anyhow!(
                "audience = {:?} does not fit: write class = \"5А\", grade = 5, or neither for the whole school",
                fm.audience.as_deref().unwrap_or("")
            ),
        ));
    }
    let audience_line = match audience {
        PostAudience::Class(_) => key_line(&front, "class"),
        PostAudience::Grade(_) => key_line(&front, "grade"),
        PostAudience::School => None,
    };
    let mut description = String::new();
    if let Some(note) = fm.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        description.push_str(note);
    }
    if !body.is_empty() {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(body);
    }
    let stem = file
        .file_stem()
        .map(|s| crate::text::slug(&s.to_string_lossy()))
        .unwrap_or_default();
    Ok(FileEvent {
        file: file.to_path_buf(),
        line: 1,
        uid: format!("content-events-{stem}"),
        audience,
        audience_line,
        title: title.to_string(),
        starts_at,
        ends_at,
        place: fm
            .place
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty()),
        description: (!description.is_empty()).then_some(description),
    })
}

/// A TOML date (`2026-12-12`) or a string holding one.
fn toml_date(v: &toml::Value) -> Result<NaiveDate> {
    let text = match v {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        other => bail!("{other} is not a date (YYYY-MM-DD)"),
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow!("{text:?} is not a date (YYYY-MM-DD)"))
}

/// "15:00" (or "9:30").
pub(crate) fn hh_mm(text: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| anyhow!("{text:?} is not a time (HH:MM, e.g. \"15:00\")"))
}

/// The audience an .ics file's name gives; `Err` names a class that looks meant but is not
/// written right (checked against the journal later: here only the shape).
fn ics_audience(file: &Path) -> Result<PostAudience, anyhow::Error> {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().trim().to_string())
        .unwrap_or_default();
    let head = stem
        .split(['-', '_', ' ', '.'])
        .next()
        .unwrap_or("")
        .to_string();
    let lower = stem.to_lowercase();
    if let Some(rest) = lower.strip_prefix("grade-") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return match digits.parse::<i64>() {
            Ok(g) if (1..=11).contains(&g) => Ok(PostAudience::Grade(g)),
            _ => Err(anyhow!(
                "the file name {stem:?} starts with grade- but names no grade 1–11 (e.g. grade-5.ics)"
            )),
        };
    }
    if head.eq_ignore_ascii_case("school") {
        return Ok(PostAudience::School);
    }
    if head.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return Ok(PostAudience::Class(head));
    }
    Err(anyhow!(
        "the file name {stem:?} does not say whose events these are: name it after the class \
         (5А.ics, 5А-кружки.ics, 5a-trips.ics), the grade (grade-5.ics) or the whole school \
         (school.ics)"
    ))
}

/// The line of the `n`-th (0-based) `BEGIN:VEVENT` in the raw text.
fn vevent_line(text: &str, n: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().eq_ignore_ascii_case("BEGIN:VEVENT"))
        .nth(n)
        .map(|(i, _)| i + 1)
}

fn parse_ics(file: &Path, text: &str, tz: Tz) -> Result<Vec<FileEvent>, Failed> {
    let audience = ics_audience(file).map_err(|e| (None, e))?;
    if !text.trim_start().starts_with("BEGIN:VCALENDAR") {
        return Err((
            Some(1),
            anyhow!("not an iCalendar file: it must start with BEGIN:VCALENDAR"),
        ));
    }
    let unfolded = icalendar::parser::unfold(text);
    let calendar = icalendar::parser::read_calendar(&unfolded).map_err(|e| {
        let line = e
            .split("line ")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok());
        let first = e.lines().next().unwrap_or("").trim_start_matches("error: ");
        (line, anyhow!("not a valid iCalendar file: {first}"))
    })?;
    let stem = file
        .file_stem()
        .map(|s| crate::text::slug(&s.to_string_lossy()))
        .unwrap_or_default();
    let mut events = Vec::new();
    let vevents = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str().eq_ignore_ascii_case("VEVENT"));
    for (n, c) in vevents.enumerate() {
        let line = vevent_line(text, n).unwrap_or(1);
        let fail = |e: anyhow::Error| (Some(line), e);
        let prop_text = |name: &str| {
            c.find_prop(name)
                .map(|p| p.val.clone().unescape_text().as_str().trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let title = prop_text("SUMMARY")
            .ok_or_else(|| fail(anyhow!("the event at line {line} has no SUMMARY (title)")))?;
        let start = c
            .find_prop("DTSTART")
            .ok_or_else(|| fail(anyhow!("the event {title:?} has no DTSTART")))?;
        let (starts_at, all_day) =
            ics_time(start, tz).map_err(|e| fail(e.context(format!("DTSTART of {title:?}"))))?;
        let ends_at = match c.find_prop("DTEND") {
            None => None,
            Some(p) => {
                let (end, end_all_day) =
                    ics_time(p, tz).map_err(|e| fail(e.context(format!("DTEND of {title:?}"))))?;
                if end < starts_at || (end == starts_at && !all_day) {
                    return Err(fail(anyhow!(
                        "the event {title:?} ends ({}) before it starts ({})",
                        end.format("%Y-%m-%d %H:%M"),
                        starts_at.format("%Y-%m-%d %H:%M")
                    )));
                }
                if all_day && end_all_day {
                    // DTEND of an all-day event is the day after the last.
                    let last = end.date() - Duration::days(1);
                    (last > starts_at.date())
                        .then(|| last.and_hms_opt(23, 59, 0))
                        .flatten()
                } else {
                    Some(end)
                }
            }
        };
        let uid = prop_text("UID").unwrap_or_else(|| format!("{stem}-{}", n + 1));
        events.push(FileEvent {
            file: file.to_path_buf(),
            line,
            uid: format!("content-events-{}", crate::text::slug(&uid)),
            audience: audience.clone(),
            audience_line: None,
            title,
            starts_at,
            ends_at,
            place: prop_text("LOCATION"),
            description: prop_text("DESCRIPTION"),
        });
    }
    Ok(events)
}

/// A DTSTART/DTEND in school time, and whether it is a date without a time.
fn ics_time(p: &icalendar::parser::Property, tz: Tz) -> Result<(NaiveDateTime, bool)> {
    let val = p.val.as_str().trim();
    let param = |key: &str| {
        p.params
            .iter()
            .find(|q| q.key.as_str().eq_ignore_ascii_case(key))
            .and_then(|q| {
                q.val
                    .as_ref()
                    .map(|v| v.as_str().trim_matches('"').to_string())
            })
    };
    if val.len() == 8 || param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE")) {
        let d = NaiveDate::parse_from_str(val, "%Y%m%d")
            .map_err(|_| anyhow!("{val:?} is not a date (YYYYMMDD)"))?;
        return Ok((d.and_time(NaiveTime::MIN), true));
    }
    let (body, utc) = match val.strip_suffix('Z') {
        Some(b) => (b, true),
        None => (val, false),
    };
    let local = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S")
        .map_err(|_| anyhow!("{val:?} is not a date-time (YYYYMMDDTHHMMSS)"))?;
    let school = if utc {
        chrono::Utc
            .from_utc_datetime(&local)
            .with_timezone(&tz)
            .naive_local()
    } else if let Some(zone) = param("TZID") {
        let zone: Tz = zone.parse().map_err(|_| {
            anyhow!(
                "TZID={zone:?} is not a timezone this diary knows (IANA names, e.g. Europe/Moscow)"
            )
        })?;
        zone.from_local_datetime(&local)
            .earliest()
            .ok_or_else(|| anyhow!("{val:?} does not exist in {zone} (a clock change)"))?
            .with_timezone(&tz)
            .naive_local()
    } else {
        local
    };
    Ok((school, false))
}

/// Adds the loaded events to the journal's (in memory): a class's event to that class, a
/// grade's to each class of the grade this year. An event the journal already has (same
/// audience, start, and title but for case and spaces) is left out. Returns a finding for
/// each event naming a class the journal does not know.
pub(crate) fn merge(journal: &mut Journal, events: &[FileEvent]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut next_id = journal.events.iter().map(|e| e.id).max().unwrap_or(0) + 1;
    let current_year = journal.classes.iter().map(|c| c.year_id).max();
    let key = |class_id: Option<i64>, at: NaiveDateTime, title: &str| {
        (class_id, at, title.trim().to_lowercase())
    };
    let mut seen: std::collections::HashSet<_> = journal
        .events
        .iter()
        .map(|e| key(e.class_id, e.starts_at, &e.title))
        .collect();
    for ev in events {
        let targets: Vec<(Option<i64>, String)> = match &ev.audience {
            PostAudience::School => vec![(None, String::new())],
            PostAudience::Grade(g) => journal
                .classes
                .iter()
                .filter(|c| c.grade == *g && Some(c.year_id) == current_year)
                .map(|c| (Some(c.id), format!("-{}", crate::text::slug(&c.name))))
                .collect(),
            PostAudience::Class(name) => {
                let wanted = name.trim();
                let found = journal
                    .classes
                    .iter()
                    .filter(|c| {
                        c.name.to_lowercase() == wanted.to_lowercase()
                            || crate::text::slug(&c.name) == wanted.to_lowercase()
                    })
                    .max_by_key(|c| c.year_id);
                match found {
                    Some(c) => vec![(Some(c.id), String::new())],
                    None => {
                        let mut names: Vec<&str> =
                            journal.classes.iter().map(|c| c.name.as_str()).collect();
                        names.sort();
                        names.dedup();
                        let line = ev.audience_line.unwrap_or(ev.line);
                        findings.push(Finding::error(
                            ev.file.display().to_string(),
                            if ev.file.extension().is_some_and(|e| e == "ics") {
                                String::new()
                            } else {
                                format!("line {line}")
                            },
                            Some("class"),
                            format!(
                                "no class named {wanted:?} in the journal; it has: {}",
                                names.join(", ")
                            ),
                        ));
                        continue;
                    }
                }
            }
        };
        for (class_id, suffix) in targets {
            if !seen.insert(key(class_id, ev.starts_at, &ev.title)) {
                continue;
            }
            journal.events.push(Event {
                id: next_id,
                class_id,
                title: ev.title.clone(),
                starts_at: ev.starts_at,
                ends_at: ev.ends_at,
                place: ev.place.clone(),
                description: ev.description.clone(),
                uid: Some(format!("{}{suffix}", ev.uid)),
            });
            next_id += 1;
        }
    }
    findings
}

/// A file name for a new event: `2026-12-12-5a-ekskursiya-v-muzey.md`.
pub(crate) fn file_name(date: NaiveDate, audience: &PostAudience, title: &str) -> String {
    let who = match audience {
        PostAudience::School => "school".to_string(),
        PostAudience::Grade(g) => format!("grade-{g}"),
        PostAudience::Class(c) => crate::text::slug(c),
    };
    let mut title = crate::text::slug(title);
    if title == "class" {
        title = "event".into();
    }
    let title: String = title.chars().take(48).collect();
    format!("{date}-{who}-{}.md", title.trim_end_matches('-'))
}

/// A TOML string literal.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The Markdown file `diary events add` writes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_md(
    title: &str,
    first_day: NaiveDate,
    last_day: Option<NaiveDate>,
    time: Option<NaiveTime>,
    ends_at: Option<NaiveTime>,
    place: Option<&str>,
    audience: &PostAudience,
    note: Option<&str>,
) -> String {
    let mut s = String::from("+++\n");
    s.push_str(&format!("title = {}\n", toml_str(title.trim())));
    match last_day {
        Some(last) if last != first_day => {
            s.push_str(&format!("starts_on = {first_day}\nends_on = {last}\n"))
        }
        _ => s.push_str(&format!("date = {first_day}\n")),
    }
    if let Some(t) = time {
        s.push_str(&format!("time = \"{}\"\n", t.format("%H:%M")));
    }
    if let Some(t) = ends_at {
        s.push_str(&format!("ends_at = \"{}\"\n", t.format("%H:%M")));
    }
    if let Some(p) = place {
        s.push_str(&format!("place = {}\n", toml_str(p.trim())));
    }
    match audience {
        PostAudience::School => {}
        PostAudience::Grade(g) => s.push_str(&format!("grade = {g}\n")),
        PostAudience::Class(c) => s.push_str(&format!("class = {}\n", toml_str(c))),
    }
    if let Some(n) = note {
        s.push_str(&format!("note = {}\n", toml_str(n.trim())));
    }
    s.push_str("+++\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(text: &str) -> Result<FileEvent, Failed> {
        parse_md(Path::new("content/events/x.md"), text)
    }

    #[test]
    fn a_markdown_event_with_a_range_and_a_time() {
        let e = md("+++\ntitle = \"Поход\"\nstarts_on = 2026-12-12\nends_on = 2026-12-13\ntime = \"9:00\"\nclass = \"5А\"\nnote = \"Рюкзак\"\n+++\nПодробности.\n").unwrap();
        assert_eq!(e.starts_at.to_string(), "2026-12-12 09:00:00");
        assert_eq!(e.ends_at.unwrap().to_string(), "2026-12-13 23:59:00");
        assert_eq!(e.audience, PostAudience::Class("5А".into()));
        assert_eq!(e.audience_line, Some(6));
        assert_eq!(e.description.as_deref(), Some("Рюкзак\n\nПодробности."));
    }

    #[test]
    fn markdown_findings_name_the_line() {
        let cases = [
            (
                "+++\ntitle = \"a\"\ndate = \"2026-13-45\"\n+++\n",
                3,
                "2026-13-45",
            ),
            ("+++\ndate = 2026-12-12\n+++\n", 2, "no title"),
            (
                "+++\ntitle = \"a\"\nstarts_on = 2026-12-12\nends_on = 2026-12-10\n+++\n",
                4,
                "before",
            ),
            (
                "+++\ntitle = \"a\"\ndate = 2026-12-12\ntime = \"15:00\"\nends_at = \"14:00\"\n+++\n",
                5,
                "not after",
            ),
            (
                "+++\ntitle = \"a\"\ndate = 2026-12-12\ncolour = 1\n+++\n",
                4,
                "colour",
            ),
        ];
        for (text, line, needle) in cases {
            let (l, e) = md(text).unwrap_err();
            assert_eq!(l, Some(line), "{e:#}");
            assert!(format!("{e:#}").contains(needle), "{e:#}");
        }
    }

    #[test]
    fn ics_file_names_give_the_audience() {
        let a = |n: &str| ics_audience(Path::new(n));
        assert_eq!(a("5А.ics").unwrap(), PostAudience::Class("5А".into()));
        assert_eq!(a("5a-trips.ics").unwrap(), PostAudience::Class("5a".into()));
        assert_eq!(a("grade-7-olymp.ics").unwrap(), PostAudience::Grade(7));
        assert_eq!(a("school.ics").unwrap(), PostAudience::School);
        assert!(a("grade-12.ics").is_err());
        assert!(a("calendar.ics").is_err());
    }

    #[test]
    fn ics_times_convert_to_the_school_zone() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSUMMARY:Утренник\r\nDTSTART:20261212T120000Z\r\nDTEND;TZID=Asia/Yekaterinburg:20261212T190000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Каникулы\r\nDTSTART;VALUE=DATE:20261228\r\nDTEND;VALUE=DATE:20261231\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let ev = parse_ics(
            Path::new("content/events/school.ics"),
            text,
            chrono_tz::Europe::Moscow,
        )
        .unwrap();
        // 12:00 UTC is 15:00 in Moscow; 19:00 in Yekaterinburg (UTC+5) is 17:00 in Moscow.
        assert_eq!(ev[0].starts_at.to_string(), "2026-12-12 15:00:00");
        assert_eq!(ev[0].ends_at.unwrap().to_string(), "2026-12-12 17:00:00");
        // DTEND of a date is exclusive: 28–30 December.
        assert_eq!(ev[1].starts_at.to_string(), "2026-12-28 00:00:00");
        assert_eq!(ev[1].ends_at.unwrap().to_string(), "2026-12-30 23:59:00");
        assert_eq!(ev[1].line, 9);
    }
}
