//! One OneRoster CSV file, read tolerantly: a UTF-8 BOM, CRLF line ends, columns in any
//! order and in any case, vendor columns (`metadata.*`, `ext_*`, anything unknown) and
//! trailing empty fields are all fine. Every value is read through a [`Cell`], whose errors
//! name the file, the line, the column and the value.

use std::cell::RefCell;
use std::collections::HashMap;

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::journal::parse_date;

/// A CSV file's header (and, when read with [`Table::parse`], its rows).
pub(super) struct Table {
    /// The file's name as the export spells it (`users.csv`).
    pub file: String,
    /// Lower-case column name → position in a row.
    columns: HashMap<String, usize>,
    /// The positions of the columns asked for so far, by the name as asked.
    asked: RefCell<Vec<(&'static str, Option<usize>)>>,
    /// The rows ([`Table::parse`]; empty while a [`Scan`] reads them one at a time).
    pub rows: Vec<Row>,
}

#[derive(Clone)]
pub(super) struct Row {
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    /// The fields (one allocation for the row).
    fields: ::csv::StringRecord,
}

/// A file being read row by row: only the current row is held.
pub(super) struct Scan<'b> {
    table: Table,
    reader: ::csv::Reader<&'b [u8]>,
    bytes: &'b [u8],
    width: usize,
    lines: LineCounter,
    row: Row,
}

impl Table {
    /// Parses `bytes` as a comma-separated file with a header row.
    pub(super) fn parse(file: &str, bytes: &[u8]) -> Result<Table> {
        let mut scan = Table::scan(file, bytes)?;
        let mut rows = Vec::new();
        while let Some((_, row)) = scan.next()? {
            rows.push(row.clone());
        }
        let mut table = scan.table;
        table.rows = rows;
        Ok(table)
    }

    /// Checks every row of `bytes` as [`Table::parse`] does, keeping none: the number of
    /// rows.
    pub(super) fn count(file: &str, bytes: &[u8]) -> Result<usize> {
        let mut scan = Table::scan(file, bytes)?;
        let mut n = 0;
        while scan.next()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// Reads the header of `bytes`; the rows follow from [`Scan::next`].
    pub(super) fn scan<'b>(file: &str, bytes: &'b [u8]) -> Result<Scan<'b>> {
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            bail!("{file}: the file is UTF-16 text; OneRoster files are UTF-8");
        }
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if let Err(e) = std::str::from_utf8(bytes) {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            bail!("{file} line {line}: the text is not UTF-8; OneRoster files are UTF-8");
        }
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes);
        let header = reader
            .headers()
            .map_err(|e| csv_error(file, bytes, &e))?
            .clone();
        if header.iter().all(|h| h.trim().is_empty()) {
            bail!("{file}: the file is empty; it needs a header row naming the columns");
        }
        let mut columns = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            if columns.insert(name.to_ascii_lowercase(), i).is_some() {
                bail!("{file}: column `{name}` appears twice in the header");
            }
        }
        Ok(Scan {
            table: Table {
                file: file.to_string(),
                columns,
                asked: RefCell::new(Vec::new()),
                rows: Vec::new(),
            },
            reader,
            bytes,
            width: header.len(),
            lines: LineCounter::default(),
            row: Row {
                line: 0,
                fields: ::csv::StringRecord::new(),
            },
        })
    }

    pub(super) fn has(&self, column: &str) -> bool {
        self.columns.contains_key(&column.to_ascii_lowercase())
    }

    /// Fails unless every column of `names` is in the header.
    pub(super) fn require(&self, names: &[&str]) -> Result<()> {
        for name in names {
            if !self.has(name) {
                bail!("{}: missing column `{name}` (required)", self.file);
            }
        }
        Ok(())
    }

    /// The position of `column` in a row (looked up once per name asked).
    fn position(&self, column: &'static str) -> Option<usize> {
        let mut asked = self.asked.borrow_mut();
        if let Some((_, i)) = asked
            .iter()
            .find(|(c, _)| c.as_ptr() == column.as_ptr() && c.len() == column.len())
        {
            return *i;
        }
        let i = self.columns.get(&column.to_ascii_lowercase()).copied();
        asked.push((column, i));
        i
    }

    /// The cell of `row` in `column` (which may be absent from the file: then it is empty).
    pub(super) fn cell<'a>(&'a self, row: &'a Row, column: &'static str) -> Cell<'a> {
        let raw = self.position(column).and_then(|i| row.fields.get(i));
        Cell {
            file: &self.file,
            line: row.line,
            column,
            raw,
        }
    }
}

impl Scan<'_> {
    pub(super) fn table(&self) -> &Table {
        &self.table
    }

    /// The next row that is not blank, with its table.
    #[allow(clippy::should_implement_trait)]
    pub(super) fn next(&mut self) -> Result<Option<(&Table, &Row)>> {
        let file = &self.table.file;
        loop {
            let more = self
                .reader
                .read_record(&mut self.row.fields)
                .map_err(|e| csv_error(file, self.bytes, &e))?;
            if !more {
                return Ok(None);
            }
            let record = &self.row.fields;
            let line = record
                .position()
                .map_or(0, |p| self.lines.line_at(self.bytes, p.byte()));
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            // Trailing empty fields beyond the header are tolerated (some exporters end
            // every row with a comma); a value there means a missing quote.
            let width = self.width;
            if record.len() < width || record.iter().skip(width).any(|f| !f.trim().is_empty()) {
                bail!(
                    "{file} line {line}: the row has {} fields but the header has {width} (is a \
                     value holding a `,` missing its quotes?)",
                    record.len()
                );
            }
            self.row.line = line;
            return Ok(Some((&self.table, &self.row)));
        }
    }
}

fn csv_error(file: &str, bytes: &[u8], err: &::csv::Error) -> anyhow::Error {
    match err.position() {
        Some(pos) => anyhow!("{file} line {}: {err}", line_at(bytes, pos.byte())),
        None => anyhow!("{file}: {err}"),
    }
}

/// The line (1-based) of the record the CSV reader reports at byte `offset`: the reader
/// reports where it began looking, before any line ends it skipped, so those are skipped
/// here too. (Its own line count is off for CRLF files.)
fn line_at(bytes: &[u8], offset: u64) -> u64 {
    LineCounter::default().line_at(bytes, offset)
}

/// Counts lines from one record to the next (offsets only grow), in linear time.
#[derive(Default)]
struct LineCounter {
    at: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: u64) -> u64 {
        let mut at = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
            at += 1;
        }
        if at < self.at {
            *self = LineCounter::default();
        }
        self.newlines += bytes[self.at..at].iter().filter(|&&b| b == b'\n').count() as u64;
        self.at = at;
        self.newlines + 1
    }
}

/// One value of one row, with what a message needs to point at it.
#[derive(Clone, Copy)]
pub(super) struct Cell<'a> {
    pub file: &'a str,
    pub line: u64,
    pub column: &'static str,
    raw: Option<&'a str>,
}

impl<'a> Cell<'a> {
    /// An error about this cell: `users.csv line 5, column grades: …`.
    pub(super) fn error(&self, message: impl std::fmt::Display) -> anyhow::Error {
        anyhow!(
            "{} line {}, column {}: {message}",
            self.file,
            self.line,
            self.column
        )
    }

    /// The value without surrounding spaces; `None` when empty.
    pub(super) fn opt(&self) -> Option<&'a str> {
        self.raw.map(str::trim).filter(|s| !s.is_empty())
    }

    /// The value as written, spaces kept (free text); `None` when empty.
    pub(super) fn text(&self) -> Option<&'a str> {
        self.raw.filter(|s| !s.trim().is_empty())
    }

    pub(super) fn req(&self) -> Result<&'a str> {
        self.opt()
            .ok_or_else(|| self.error("the value is empty, but this column is required"))
    }

    /// A comma-separated list (quoted in the file): `"a, b,c"` → `[a, b, c]`.
    pub(super) fn list(&self) -> Result<Vec<String>> {
        Ok(self
            .one_line()?
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// An id or a code: like [`Cell::opt`], but a value over several lines is an error (the
    /// usual sign of a quote without its closing quote, which swallows the lines after it).
    pub(super) fn one_line(&self) -> Result<Option<&'a str>> {
        match self.opt() {
            Some(s) if s.contains(['\n', '\r']) => Err(self.error(format!(
                "'{}…' runs over several lines: a `\"` without its closing quote?",
                s.lines().next().unwrap_or_default()
            ))),
            v => Ok(v),
        }
    }

    /// `true`/`false` in any case (and `1`/`0`, `yes`/`no`); empty is `None`.
    pub(super) fn flag(&self) -> Result<Option<bool>> {
        let Some(s) = self.opt() else {
            return Ok(None);
        };
        let any = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(s));
        if any(&["true", "1", "yes", "y", "t"]) {
            Ok(Some(true))
        } else if any(&["false", "0", "no", "n", "f"]) {
            Ok(Some(false))
        } else {
            Err(self.error(format!("'{s}' is not a boolean (write true or false)")))
        }
    }

    pub(super) fn number(&self) -> Result<Option<f64>> {
        match self.opt() {
            None => Ok(None),
            Some(s) => s
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or_else(|| self.error(format!("'{s}' is not a number"))),
        }
    }

    /// A date or a date and time, kept as written once checked (see [`Stamp`]).
    pub(super) fn stamp(&self) -> Result<Option<&'a str>> {
        match self.opt() {
            None => Ok(None),
            Some(s) => match Stamp::parse(s) {
                Some(_) => Ok(Some(s)),
                None => Err(self.error(format!(
                    "'{s}' is not a date (YYYY-MM-DD) or a date and time \
                     (YYYY-MM-DDTHH:MM:SS, with Z or an offset)"
                ))),
            },
        }
    }

    /// A word of `allowed` (compared ignoring case), returned as listed there.
    pub(super) fn word(&self, allowed: &[&'static str]) -> Result<Option<&'static str>> {
        match self.opt() {
            None => Ok(None),
            Some(s) => allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(s))
                .map(|a| Some(*a))
                .ok_or_else(|| {
                    self.error(format!(
                        "'{s}' is not an allowed value (allowed: {})",
                        allowed.join(", ")
                    ))
                }),
        }
    }
}

/// A OneRoster date or datetime: `2026-09-01`, `2026-09-01T08:00:00`,
/// `2023-10-02T00:00:00.000Z`, `2026-09-01T08:00:00+03:00`.
pub(super) enum Stamp {
    /// A date, or a time without an offset: the school's local time.
    Local(NaiveDateTime),
    /// An instant (`Z` or an offset).
    Instant(DateTime<chrono::FixedOffset>),
}

impl Stamp {
    pub(super) fn parse(s: &str) -> Option<Stamp> {
        let s = s.trim();
        if let Some(d) = parse_date(s) {
            return Some(Stamp::Local(d.and_hms_opt(0, 0, 0)?));
        }
        let t = s.replacen(' ', "T", 1);
        let t = t.strip_suffix('z').map_or(t.clone(), |p| format!("{p}Z"));
        if let Ok(dt) = DateTime::parse_from_rfc3339(&t) {
            return Some(Stamp::Instant(dt));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(&t, format) {
                return Some(Stamp::Local(dt));
            }
        }
        // Without seconds but with an offset: `2026-09-01T08:00Z`.
        if t.len() > 16 {
            let (head, zone) = t.split_at(16);
            if let Ok(dt) = DateTime::parse_from_rfc3339(&format!("{head}:00{zone}")) {
                return Some(Stamp::Instant(dt));
            }
        }
        None
    }

    /// The day in the school's timezone.
    pub(super) fn day(&self, tz: chrono_tz::Tz) -> NaiveDate {
        match self {
            Stamp::Local(dt) => dt.date(),
            Stamp::Instant(dt) => dt.with_timezone(&tz).date_naive(),
        }
    }
}

/// The day of a stamp already checked by [`Cell::stamp`].
pub(super) fn day_of(stamp: &str, tz: chrono_tz::Tz) -> Option<NaiveDate> {
    Stamp::parse(stamp).map(|s| s.day(tz))
}

/// A stamp already checked by [`Cell::stamp`] as a journal datetime in the school's
/// timezone: a date stays a date (`2026-10-16`: the time is not known), a date and time
/// becomes `YYYY-MM-DD HH:MM` (`2026-10-16T06:30:00Z` is `2026-10-16 09:30` in Moscow).
pub(super) fn local_stamp(stamp: &str, tz: chrono_tz::Tz) -> Option<String> {
    if let Some(d) = parse_date(stamp.trim()) {
        return Some(d.to_string());
    }
    let local = match Stamp::parse(stamp)? {
        Stamp::Local(dt) => dt,
        Stamp::Instant(dt) => dt.with_timezone(&tz).naive_local(),
    };
    Some(local.format("%Y-%m-%d %H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_parsing() {
        let text = "\u{feff}sourcedId,Status,metadata.x,givenName\r\n\
                    u1,,vendor,\"Anna, Maria\"\r\n\
                    \r\n\
                    u2,active,,Bob,\r\n";
        let t = Table::parse("users.csv", text.as_bytes()).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].line, 4);
        assert_eq!(t.cell(&t.rows[0], "givenName").opt(), Some("Anna, Maria"));
        assert_eq!(t.cell(&t.rows[0], "status").opt(), None);
        assert_eq!(t.cell(&t.rows[0], "familyName").opt(), None);
        assert!(t.require(&["sourcedId", "GIVENNAME"]).is_ok());
        let err = t.require(&["familyName"]).unwrap_err().to_string();
        assert_eq!(err, "users.csv: missing column `familyName` (required)");
    }

    #[test]
    fn ragged_rows_are_refused() {
        let t = Table::parse("x.csv", b"a,b\n1,2,3\n");
        let err = format!("{:#}", t.err().unwrap());
        assert!(err.contains("x.csv line 2: the row has 3 fields"), "{err}");
    }

    #[test]
    fn cells_convert_and_explain() {
        let t = Table::parse(
            "results.csv",
            b"score,late,ids,due\n12.5,TRUE,\"a, b\",2023-10-02T21:30:00.000Z\nx,maybe,,2023-13-01\n",
        )
        .unwrap();
        let (r1, r2) = (&t.rows[0], &t.rows[1]);
        assert_eq!(t.cell(r1, "score").number().unwrap(), Some(12.5));
        assert_eq!(t.cell(r1, "late").flag().unwrap(), Some(true));
        assert_eq!(t.cell(r1, "ids").list().unwrap(), ["a", "b"]);
        let due = t.cell(r1, "due").stamp().unwrap().unwrap();
        assert_eq!(
            day_of(due, chrono_tz::Europe::Moscow).unwrap().to_string(),
            "2023-10-03"
        );
        let e = t.cell(r2, "score").number().unwrap_err().to_string();
        assert_eq!(e, "results.csv line 3, column score: 'x' is not a number");
        assert!(t.cell(r2, "late").flag().is_err());
        assert!(t.cell(r2, "due").stamp().is_err());
    }

    #[test]
    fn stamps_as_journal_datetimes() {
        let tz = chrono_tz::Europe::Moscow;
        for (stamp, want) in [
            ("2026-10-16", "2026-10-16"),
            ("2026-10-16T06:30:00Z", "2026-10-16 09:30"),
            ("2026-10-16T22:15:00.000Z", "2026-10-17 01:15"),
            ("2026-10-16T09:30:59+03:00", "2026-10-16 09:30"),
            ("2026-10-16 14:05", "2026-10-16 14:05"),
        ] {
            assert_eq!(local_stamp(stamp, tz).as_deref(), Some(want), "{stamp}");
        }
        assert_eq!(local_stamp("16.10.2026", tz), None);
    }

    #[test]
    fn stamps() {
        for ok in [
            "2026-09-01",
            "2026-09-01T08:00:00",
            "2026-09-01 08:00",
            "2026-09-01T08:00:00.000Z",
            "2026-09-01T08:00:00+03:00",
            "2026-09-01T08:00Z",
        ] {
            assert!(Stamp::parse(ok).is_some(), "{ok}");
        }
        for bad in ["01.09.2026", "2026-9-1", "2026-02-30", "tomorrow"] {
            assert!(Stamp::parse(bad).is_none(), "{bad}");
        }
    }
}
