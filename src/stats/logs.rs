//! The host's access logs, read for `diary stats`: nginx/Apache "combined", Amazon S3
//! server access logs and CloudFront standard logs (tab-separated, with a `#Fields:`
//! header), plain or gzip-compressed (told by the magic bytes). Only what `diary stats`
//! needs is kept of a line: when a diary slot file (`diary/k/<32 hex>.bin`) was fetched
//! successfully (a GET answered 2xx or 304).

use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

/// The formats `diary stats` reads, as messages name them.
pub(crate) const KNOWN: &str =
    "nginx/Apache combined, S3 server access log, CloudFront standard log";

/// How many lines without a known shape may open a file before it is refused as not an
/// access log.
const DETECT_LINES: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Combined,
    S3,
    CloudFront,
}

impl Format {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Combined => "nginx/Apache combined",
            Format::S3 => "S3 server access log",
            Format::CloudFront => "CloudFront standard log",
        }
    }
}

/// A successful fetch of a slot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fetch {
    /// When, in the school's timezone.
    pub at: NaiveDateTime,
    /// The slot (the 32 hex digits of its file name) as a number.
    pub slot: u128,
}

/// What one log file holds.
#[derive(Debug)]
pub(crate) struct Log {
    pub format: Format,
    pub fetches: Vec<Fetch>,
    /// Lines with the shape of the format but no slot fetched successfully (other files,
    /// errors, HEAD requests).
    pub other: usize,
    /// Lines that do not fit the format (counted and skipped).
    pub malformed: usize,
}

/// What a line of a known shape says: the time, the method, the path and the status.
struct Line<'a> {
    at: NaiveDateTime,
    method: &'a str,
    path: &'a str,
    status: u16,
}

/// Reads one log file; times are turned into the school's timezone `tz`.
pub(crate) fn read(path: &Path, tz: Tz) -> Result<Log> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let gzip = reader
        .fill_buf()
        .with_context(|| format!("cannot read {}", path.display()))?
        .starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    };
    parse(reader, tz).map_err(|e| anyhow::anyhow!("{} {e:#}", path.display()))
}

/// Reads a log from its lines; a text of no known format is refused with the formats known.
pub(crate) fn parse(mut reader: impl BufRead, tz: Tz) -> Result<Log> {
    let mut format: Option<Format> = None;
    let mut fields: Option<CloudFrontFields> = None;
    let mut log = Log {
        format: Format::Combined,
        fetches: Vec::new(),
        other: 0,
        malformed: 0,
    };
    let mut buf = Vec::new();
    let mut number = 0usize;
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("could not be read after line {number}"))?;
        if read == 0 {
            break;
        }
        number += 1;
        let Ok(text) = std::str::from_utf8(&buf) else {
            log.malformed += 1;
            continue;
        };
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        if let Some(header) = text.strip_prefix('#') {
            // CloudFront's header lines (`#Version: 1.0`, `#Fields: …`); a `#` line
            // elsewhere is not a log line.
            if let Some(list) = header.strip_prefix("Fields:") {
                fields = Some(CloudFrontFields::new(list).ok_or_else(|| {
                    anyhow::anyhow!(
                        "has a #Fields header (line {number}) without date, time, \
                         cs-method, cs-uri-stem or sc-status"
                    )
                })?);
                format = Some(Format::CloudFront);
            } else if !header.starts_with("Version:") {
                log.malformed += 1;
            }
            continue;
        }
        let line = match format {
            Some(Format::Combined) => combined(text, tz),
            Some(Format::S3) => s3(text, tz),
            Some(Format::CloudFront) => fields.as_ref().and_then(|f| f.line(text, tz)),
            None => {
                let found = combined(text, tz)
                    .map(|l| (Format::Combined, l))
                    .or_else(|| s3(text, tz).map(|l| (Format::S3, l)));
                match found {
                    Some((f, l)) => {
                        format = Some(f);
                        Some(l)
                    }
                    None if log.malformed + 1 >= DETECT_LINES => break,
                    None => None,
                }
            }
        };
        match line {
            None => log.malformed += 1,
            Some(l) => match successful_slot(&l) {
                Some(slot) => log.fetches.push(Fetch { at: l.at, slot }),
                None => log.other += 1,
            },
        }
    }
    match format {
        Some(f) => log.format = f,
        None if log.malformed == 0 => bail!("is empty: no log line in it"),
        None => bail!("is not an access log diary knows: {KNOWN}"),
    }
    Ok(log)
}

/// The slot of a successful GET of `…diary/k/<32 hex>.bin` (the site may sit under a
/// sub-path; a query string is ignored).
fn successful_slot(line: &Line) -> Option<u128> {
    if line.method != "GET" || !(line.status == 304 || (200..300).contains(&line.status)) {
        return None;
    }
    slot_of(line.path)
}

pub(crate) fn slot_of(path: &str) -> Option<u128> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let name = path.strip_suffix(".bin")?;
    let (dir, hex) = name.split_at_checked(name.len().checked_sub(32)?)?;
    let dir = dir.strip_suffix("diary/k/")?;
    if !(dir.is_empty() || dir.ends_with('/')) {
        return None;
    }
    if !hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u128::from_str_radix(hex, 16).ok()
}

/// Splits a line into fields at spaces, keeping `[…]` and `"…"` (with `\"` inside) whole,
/// brackets and quotes removed.
fn fields(text: &str) -> Option<Vec<&str>> {
    let mut out = Vec::with_capacity(24);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => i += 1,
            b'[' => {
                let end = i + 1 + text[i + 1..].find(']')?;
                out.push(&text[i + 1..end]);
                i = end + 1;
            }
            b'"' => {
                let mut j = i + 1;
                loop {
                    match bytes.get(j)? {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                out.push(&text[i + 1..j]);
                i = j + 1;
            }
            _ => {
                let end = text[i..].find(' ').map_or(bytes.len(), |n| i + n);
                out.push(&text[i..end]);
                i = end;
            }
        }
    }
    Some(out)
}

/// `10/Oct/2026:13:55:36 +0300` in the school's timezone.
fn clf_time(text: &str, tz: Tz) -> Option<NaiveDateTime> {
    DateTime::parse_from_str(text, "%d/%b/%Y:%H:%M:%S %z")
        .ok()
        .map(|t| t.with_timezone(&tz).naive_local())
}

/// `"GET /diary/k/….bin HTTP/1.1"` → method and path.
fn request(text: &str) -> Option<(&str, &str)> {
    let mut parts = text.split(' ');
    let method = parts.next()?;
    let path = parts.next()?;
    Some((method, path))
}

/// `1.2.3.4 - user [time] "request" status bytes "referer" "agent"` (nginx and Apache;
/// the common format without referer and agent is read too).
fn combined(text: &str, tz: Tz) -> Option<Line<'_>> {
    if !text.split(' ').nth(3)?.starts_with('[') {
        return None;
    }
    let f = fields(text)?;
    if f.len() < 7 {
        return None;
    }
    let at = clf_time(f[3], tz)?;
    let (method, path) = request(f[4]).unwrap_or(("-", "-"));
    let status = f[5].parse().ok()?;
    if f[6] != "-" && f[6].parse::<u64>().is_err() {
        return None;
    }
    Some(Line {
        at,
        method,
        path,
        status,
    })
}

/// `owner bucket [time] ip requester request-id operation key "request" status error bytes
/// size total turnaround "referer" "agent" …` (Amazon S3 server access logs).
fn s3(text: &str, tz: Tz) -> Option<Line<'_>> {
    if !text.split(' ').nth(2)?.starts_with('[') {
        return None;
    }
    let f = fields(text)?;
    if f.len() < 10 {
        return None;
    }
    let at = clf_time(f[2], tz)?;
    let operation = f[6];
    let (kind, verb) = operation.rsplit_once('.')?.0.split_once('.')?;
    if kind != "REST" && kind != "WEBSITE" && kind != "BATCH" && kind != "S3" {
        return None;
    }
    let status = f[9].parse().ok()?;
    Some(Line {
        at,
        method: verb,
        path: f[7],
        status,
    })
}

/// The columns of a CloudFront standard log, from its `#Fields:` header.
struct CloudFrontFields {
    count: usize,
    date: usize,
    time: usize,
    method: usize,
    stem: usize,
    status: usize,
}

impl CloudFrontFields {
    fn new(list: &str) -> Option<CloudFrontFields> {
        let names: Vec<&str> = list.split_whitespace().collect();
        let at = |name: &str| names.iter().position(|n| *n == name);
        Some(CloudFrontFields {
            count: names.len(),
            date: at("date")?,
            time: at("time")?,
            method: at("cs-method")?,
            stem: at("cs-uri-stem")?,
            status: at("sc-status")?,
        })
    }

    /// A line: tab-separated, the time in UTC.
    fn line<'a>(&self, text: &'a str, tz: Tz) -> Option<Line<'a>> {
        let f: Vec<&str> = text.split('\t').collect();
        if f.len() != self.count {
            return None;
        }
        let date = NaiveDate::parse_from_str(f[self.date], "%Y-%m-%d").ok()?;
        let time = NaiveTime::parse_from_str(f[self.time], "%H:%M:%S").ok()?;
        let at = date
            .and_time(time)
            .and_utc()
            .with_timezone(&tz)
            .naive_local();
        Some(Line {
            at,
            method: f[self.method],
            path: f[self.stem],
            status: f[self.status].parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOSCOW: Tz = chrono_tz::Europe::Moscow;
    const SLOT: &str = "6985a51f85c2fe6d9d6208b75bde49cb";

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn read_text(text: &str) -> Result<Log> {
        parse(text.as_bytes(), MOSCOW)
    }

    #[test]
    fn slot_paths_match_on_their_tail() {
        let slot = u128::from_str_radix(SLOT, 16).unwrap();
        assert_eq!(slot_of(&format!("/diary/k/{SLOT}.bin")), Some(slot));
        assert_eq!(
            slot_of(&format!("/school/diary/k/{SLOT}.bin?x=1")),
            Some(slot)
        );
        assert_eq!(slot_of(&format!("diary/k/{SLOT}.bin")), Some(slot));
        assert_eq!(slot_of(&format!("/mydiary/k/{SLOT}.bin")), None);
        assert_eq!(slot_of(&format!("/diary/p/{SLOT}.bin")), None);
        assert_eq!(slot_of("/diary/k/6985a51f.bin"), None);
        assert_eq!(
            slot_of(&format!("/diary/k/{}.bin", SLOT.to_uppercase())),
            None
        );
    }

    #[test]
    fn nginx_combined_lines() {
        let log = read_text(&format!(
            "203.0.113.7 - - [23/Nov/2026:19:02:11 +0300] \"GET /diary/k/{SLOT}.bin HTTP/2.0\" 200 2076 \"https://school.example/diary/\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n\
             203.0.113.7 - - [23/Nov/2026:16:02:12 +0000] \"GET /diary/k/{SLOT}.bin HTTP/2.0\" 304 0 \"-\" \"Mozilla/5.0\"\n\
             203.0.113.8 - - [23/Nov/2026:19:03:00 +0300] \"GET /diary/k/{SLOT}.bin HTTP/2.0\" 404 153 \"-\" \"curl/8.0\"\n\
             203.0.113.8 - - [23/Nov/2026:19:03:01 +0300] \"HEAD /diary/k/{SLOT}.bin HTTP/2.0\" 200 0 \"-\" \"curl/8.0\"\n\
             203.0.113.9 - - [23/Nov/2026:19:04:00 +0300] \"GET /5a/ HTTP/1.1\" 200 5120 \"-\" \"Mozilla/5.0\"\n\
             garbage line\n"
        ))
        .unwrap();
        assert_eq!(log.format, Format::Combined);
        let slot = u128::from_str_radix(SLOT, 16).unwrap();
        // 16:02:12 UTC is 19:02:12 in Moscow.
        assert_eq!(
            log.fetches,
            vec![
                Fetch {
                    at: at("2026-11-23 19:02:11"),
                    slot
                },
                Fetch {
                    at: at("2026-11-23 19:02:12"),
                    slot
                }
            ]
        );
        assert_eq!((log.other, log.malformed), (3, 1));
    }

    #[test]
    fn s3_server_access_log_lines() {
        let log = read_text(&format!(
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be school-diary [23/Nov/2026:16:02:11 +0000] 192.0.2.3 - 3E57427F3EXAMPLE WEBSITE.GET.OBJECT diary/k/{SLOT}.bin \"GET /diary/k/{SLOT}.bin HTTP/1.1\" 200 - 2076 2076 70 10 \"-\" \"Mozilla/5.0\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader school-diary.s3.amazonaws.com TLSv1.2 - -\n\
             79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be school-diary [23/Nov/2026:16:05:00 +0000] 192.0.2.3 - 891CE47D2EXAMPLE REST.GET.OBJECT diary/k/{SLOT}.bin \"GET /diary/k/{SLOT}.bin HTTP/1.1\" 403 AccessDenied 243 - 12 - \"-\" \"Mozilla/5.0\" - hostid SigV4 - AuthHeader school-diary.s3.amazonaws.com TLSv1.2 - -\n\
             79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be school-diary [23/Nov/2026:16:06:00 +0000] 192.0.2.3 - A1206F460EXAMPLE REST.PUT.OBJECT diary/k/{SLOT}.bin \"PUT /diary/k/{SLOT}.bin HTTP/1.1\" 200 - - 2076 57 - \"-\" \"object_store\" - hostid SigV4 - AuthHeader school-diary.s3.amazonaws.com TLSv1.2 - -\n"
        ))
        .unwrap();
        assert_eq!(log.format, Format::S3);
        assert_eq!(log.fetches.len(), 1);
        assert_eq!(log.fetches[0].at, at("2026-11-23 19:02:11"));
        assert_eq!((log.other, log.malformed), (2, 0));
    }

    #[test]
    fn cloudfront_standard_log_lines() {
        let log = read_text(&format!(
            "#Version: 1.0\n\
             #Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query\n\
             2026-11-23\t16:02:11\tHEL50-C1\t2500\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/diary/k/{SLOT}.bin\t200\t-\tMozilla/5.0%20(X11)\t-\n\
             2026-11-23\t16:02:12\tHEL50-C1\t2500\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/diary/k/{SLOT}.bin\n\
             2026-11-23\t16:03:00\tHEL50-C1\t900\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/diary/\t200\t-\tMozilla/5.0\t-\n"
        ))
        .unwrap();
        assert_eq!(log.format, Format::CloudFront);
        assert_eq!(log.fetches.len(), 1);
        assert_eq!(log.fetches[0].at, at("2026-11-23 19:02:11"));
        assert_eq!((log.other, log.malformed), (1, 1));
    }

    #[test]
    fn gzip_is_told_by_its_magic_bytes() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log.1");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        writeln!(
            gz,
            "203.0.113.7 - - [23/Nov/2026:19:02:11 +0300] \"GET /diary/k/{SLOT}.bin HTTP/1.1\" 200 2076 \"-\" \"-\""
        )
        .unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let log = read(&path, MOSCOW).unwrap();
        assert_eq!((log.format, log.fetches.len()), (Format::Combined, 1));
    }

    #[test]
    fn what_is_no_access_log_is_refused() {
        let e = read_text("date,pupil,mark\n2026-11-23,1,5\n").unwrap_err();
        assert!(e.to_string().contains(KNOWN), "{e}");
        assert!(read_text("\n").is_err());
    }
}
