//! `diary events`: a class teacher adds an event to `content/events/` and lists a class's
//! month of events from every source (the journal and content/events).

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{NaiveDate, NaiveTime};

use crate::config::Site;
use crate::content::PostAudience;
use crate::event_files;

/// What `diary events add` is given.
pub(crate) struct NewEvent<'a> {
    pub class: Option<&'a str>,
    pub grade: Option<i64>,
    pub date: &'a str,
    pub time: Option<&'a str>,
    /// "17:00" (the end time) or "2026-12-14" (the last day).
    pub ends: Option<&'a str>,
    pub title: &'a str,
    pub place: Option<&'a str>,
    pub note: Option<&'a str>,
}

fn parse_date(text: &str, what: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow!("{what} {text:?} is not a date (YYYY-MM-DD, e.g. 2026-12-12)"))
}

/// The journal with the events of content/events merged in; refuses when an event file
/// has an error (the journal's own checks are `diary check`'s, not needed to list events).
fn events_of(site: &Site) -> Result<crate::journal::Journal> {
    let (events, mut findings) = event_files::load(&site.root, site.config.tz())?;
    let (mut journal, _) =
        crate::journal::load_journal(&site.journal_path(), site.config.journal_wait())?;
    findings.extend(event_files::merge(&mut journal, &events));
    if let Some(f) = findings.iter().find(|f| f.is_error()) {
        bail!("{f}\n(fix content/events first: `diary check` lists every finding)");
    }
    Ok(journal)
}

/// Writes the event's Markdown file (a new name; never over an existing file) and returns
/// its path relative to the site folder.
pub(crate) fn add(site: &Site, ev: &NewEvent) -> Result<String> {
    if ev.title.trim().is_empty() {
        bail!("--title is empty");
    }
    let first_day = parse_date(ev.date, "--date")?;
    let time = ev
        .time
        .map(|t| event_files::hh_mm(t).context("--time"))
        .transpose()?;
    let (mut last_day, mut end_time): (Option<NaiveDate>, Option<NaiveTime>) = (None, None);
    if let Some(ends) = ev.ends {
        if ends.contains('-') {
            let last = parse_date(ends, "--ends")?;
            if last < first_day {
                bail!("--ends {last} is before --date {first_day}");
            }
            last_day = Some(last);
        } else {
            let end = event_files::hh_mm(ends)
                .context("--ends (a time HH:MM or a last day YYYY-MM-DD)")?;
            match time {
                None => bail!("--ends {ends} is a time: give --time (when it starts) too"),
                Some(t) if end <= t => {
                    bail!("--ends {ends} is not after --time {}", t.format("%H:%M"))
                }
                Some(_) => end_time = Some(end),
            }
        }
    }
    let journal = events_of(site)?;
    let audience = match (ev.class, ev.grade) {
        (Some(c), _) => {
            let class = crate::access::codes::find_class(&journal, c)?;
            PostAudience::Class(class.name.clone())
        }
        (None, Some(g)) => {
            if !journal.classes.iter().any(|c| c.grade == g) {
                bail!("the journal has no class of grade {g}");
            }
            PostAudience::Grade(g)
        }
        (None, None) => PostAudience::School,
    };
    let text = event_files::render_md(
        ev.title,
        first_day,
        last_day,
        time,
        end_time,
        ev.place.filter(|p| !p.trim().is_empty()),
        &audience,
        ev.note.filter(|n| !n.trim().is_empty()),
    );
    let dir = site.root.join(event_files::DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", event_files::DIR))?;
    let name = event_files::file_name(first_day, &audience, ev.title);
    let stem = name.trim_end_matches(".md").to_string();
    for n in 1..1000 {
        let name = if n == 1 {
            name.clone()
        } else {
            format!("{stem}-{n}.md")
        };
        let path = dir.join(&name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                return Ok(format!("{}/{name}", event_files::DIR));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
        }
    }
    bail!("{} holds too many events named {stem}", event_files::DIR)
}

/// The month's events of a class (with the school's), as lines to print: date, time,
/// title, place.
pub(crate) fn list(site: &Site, class: &str, month: &str) -> Result<String> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d")
        .map_err(|_| anyhow!("--month {month:?} is not a month (YYYY-MM, e.g. 2026-12)"))?;
    let next = first + chrono::Months::new(1);
    let journal = events_of(site)?;
    let j = &journal;
    let class = crate::access::codes::find_class(j, class)?;
    let theme = crate::render::Theme::load(site)?;
    let strings = theme.strings(site.config.language)?;
    let mut events: Vec<_> = j
        .events
        .iter()
        .filter(|e| e.class_id.is_none() || e.class_id == Some(class.id))
        .filter(|e| {
            let start = e.starts_at.date();
            let end = e.ends_at.map_or(start, |t| t.date().max(start));
            start < next && end >= first
        })
        .collect();
    events.sort_by_key(|e| (e.starts_at, e.id));
    let mut out = format!(
        "{} · {} · {}\n",
        class.name,
        strings.month_year(first),
        j.school.short_name
    );
    if events.is_empty() {
        out.push_str(strings.get("events_none_in_month"));
        out.push('\n');
        return Ok(out);
    }
    for e in events {
        let start = e.starts_at;
        let mut date = strings.date_short_weekday(start.date());
        if let Some(end) = e.ends_at.filter(|end| end.date() > start.date()) {
            date = format!("{date} – {}", strings.date_short_weekday(end.date()));
        }
        let time = if start.time() == NaiveTime::MIN {
            String::new()
        } else {
            match e.ends_at {
                Some(end) if end.date() == start.date() && end > start => {
                    format!("{}–{}", start.format("%H:%M"), end.format("%H:%M"))
                }
                _ => start.format("%H:%M").to_string(),
            }
        };
        let place = e.place.as_deref().unwrap_or("");
        let line = format!("{date:<28} {time:<11} {}", e.title);
        let line = if place.is_empty() {
            line
        } else {
            format!("{line} — {place}")
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}
