//! Machine-readable outputs: iCalendar (RFC 5545) event feeds, Atom (RFC 4287) announcement
//! feeds, the sitemap and robots.txt. All are deterministic: no "now" in them, only dates
//! from the journal.

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::text::escape_html;

/// One calendar event, with local times of the school.
pub(crate) struct CalendarEvent<'a> {
    pub uid: String,
    pub title: &'a str,
    pub starts_at: NaiveDateTime,
    pub ends_at: Option<NaiveDateTime>,
    pub place: Option<&'a str>,
    pub description: Option<&'a str>,
    pub url: Option<String>,
}

/// Local school time to an iCalendar UTC stamp (`20261127T150000Z`). A local time that a
/// clock change skips is read as the next valid one.
fn utc_stamp(local: NaiveDateTime, tz: Tz) -> String {
    let utc = tz
        .from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.naive_utc())
        .unwrap_or(local);
    utc.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets (never inside a UTF-8 character).
fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// An iCalendar feed of events; `name` is the calendar's display name.
pub(crate) fn icalendar(name: &str, host: &str, tz: Tz, events: &[CalendarEvent]) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//diary//school diary//RU",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push_line(&mut out, line);
    }
    push_line(&mut out, &format!("X-WR-CALNAME:{}", ics_text(name)));
    push_line(&mut out, &format!("X-WR-TIMEZONE:{tz}"));
    for e in events {
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(&mut out, &format!("UID:{}@{host}", e.uid));
        // DTSTAMP must be present; the event's own start keeps the feed deterministic.
        push_line(&mut out, &format!("DTSTAMP:{}", utc_stamp(e.starts_at, tz)));
        push_line(&mut out, &format!("DTSTART:{}", utc_stamp(e.starts_at, tz)));
        let end = e
            .ends_at
            .filter(|end| *end > e.starts_at)
            .unwrap_or(e.starts_at + chrono::Duration::hours(1));
        push_line(&mut out, &format!("DTEND:{}", utc_stamp(end, tz)));
        push_line(&mut out, &format!("SUMMARY:{}", ics_text(e.title)));
        if let Some(p) = e.place {
            push_line(&mut out, &format!("LOCATION:{}", ics_text(p)));
        }
        if let Some(d) = e.description {
            push_line(&mut out, &format!("DESCRIPTION:{}", ics_text(d)));
        }
        if let Some(u) = &e.url {
            push_line(&mut out, &format!("URL:{u}"));
        }
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

/// One entry of an Atom feed.
pub(crate) struct FeedEntry {
    pub id: String,
    pub title: String,
    pub updated: NaiveDateTime,
    pub html: String,
    pub author: Option<String>,
}

/// An Atom feed. `self_url` is the feed's own address, `page_url` the board it mirrors.
pub(crate) fn atom(
    title: &str,
    self_url: &str,
    page_url: &str,
    tz: Tz,
    entries: &[FeedEntry],
) -> String {
    let rfc3339 = |t: NaiveDateTime| {
        tz.from_local_datetime(&t)
            .earliest()
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S")))
    };
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .map(rfc3339)
        .unwrap_or_else(|| "2000-01-01T00:00:00Z".into());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape_html(title)));
    out.push_str(&format!("<id>{}</id>\n", escape_html(self_url)));
    out.push_str(&format!(
        "<link rel=\"self\" href=\"{}\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        escape_html(self_url),
        escape_html(page_url)
    ));
    out.push_str(&format!("<updated>{updated}</updated>\n"));
    out.push_str(&format!(
        "<author><name>{}</name></author>\n",
        escape_html(title)
    ));
    for e in entries {
        out.push_str("<entry>\n");
        out.push_str(&format!("<id>{}</id>\n", escape_html(&e.id)));
        out.push_str(&format!("<title>{}</title>\n", escape_html(&e.title)));
        out.push_str(&format!("<updated>{}</updated>\n", rfc3339(e.updated)));
        out.push_str(&format!(
            "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            escape_html(page_url)
        ));
        if let Some(a) = &e.author {
            out.push_str(&format!(
                "<author><name>{}</name></author>\n",
                escape_html(a)
            ));
        }
        out.push_str(&format!(
            "<content type=\"html\">{}</content>\n",
            escape_html(&e.html)
        ));
        out.push_str("</entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// A sitemap of public board pages (absolute URLs).
pub(crate) fn sitemap(urls: &[String]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for u in urls {
        out.push_str(&format!("<url><loc>{}</loc></url>\n", escape_html(u)));
    }
    out.push_str("</urlset>\n");
    out
}

/// robots.txt: boards may be indexed; the diary area may not.
pub(crate) fn robots(base_url: &str) -> String {
    format!(
        "User-agent: *\nDisallow: /diary/\nSitemap: {}/sitemap.xml\n",
        base_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn dt(s: &str) -> NaiveDateTime {
        crate::journal::parse_datetime(s).unwrap()
    }

    #[test]
    fn ics_escapes_folds_and_converts_to_utc() {
        let long =
            "Очень длинное описание события, которое не помещается в одну строку календаря; правда";
        let ev = CalendarEvent {
            uid: "event-1".into(),
            title: "Собрание, 5Б",
            starts_at: dt("2026-11-27 18:00"),
            ends_at: None,
            place: Some("Каб. 21"),
            description: Some(long),
            url: None,
        };
        let ics = icalendar("5Б", "example.org", chrono_tz::Europe::Moscow, &[ev]);
        assert!(ics.contains("DTSTART:20261127T150000Z\r\n"), "{ics}");
        assert!(ics.contains("DTEND:20261127T160000Z\r\n"));
        assert!(ics.contains("SUMMARY:Собрание\\, 5Б\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        let _ = NaiveDate::from_ymd_opt(2026, 1, 1);
    }

    #[test]
    fn atom_is_escaped() {
        let feed = atom(
            "Школа <1>",
            "https://s/feed.xml",
            "https://s/",
            chrono_tz::Europe::Moscow,
            &[FeedEntry {
                id: "https://s/#a1".into(),
                title: "A & B".into(),
                updated: dt("2026-11-20 09:00"),
                html: "<p>x</p>".into(),
                author: None,
            }],
        );
        assert!(feed.contains("<title>Школа &lt;1&gt;</title>"));
        assert!(feed.contains("<updated>2026-11-20T09:00:00+03:00</updated>"));
        assert!(
            feed.contains("&lt;p&gt;x&lt;&#x2F;p&gt;") || feed.contains("&lt;p&gt;x&lt;/p&gt;")
        );
    }
}
