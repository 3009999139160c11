//! CSV import: a folder of `<table>.csv` files loaded into the journal in one transaction.
//!
//! One file per journal table, named exactly as the table (`students.csv`). Files are read
//! as UTF-8 (a BOM is fine), with `,` or `;` as the delimiter (detected from the header
//! row), and a header row naming the table's columns in any order. Every value is checked
//! against its column before anything is written: whole numbers (`homework_minutes` within
//! 0–600), decimals (`1.5` or `1,5`), strict ISO dates, datetimes, bell times, yes/no flags
//! and the allowed words of the enumerated columns. Rows are upserted by primary key; links of a lesson (a table
//! without a key) are replaced per lesson. The whole folder is one transaction: on the
//! first bad row nothing is written and the journal is left byte for byte as it was.
//!
//! The format is described for school admins in docs/import-csv.md.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::types::Value;
use rusqlite::{Connection, ffi, params_from_iter};

use crate::journal::{MAX_HOMEWORK_MINUTES, parse_date, parse_datetime, parse_time};

/// The tables a folder may hold, in the order they are imported (parents before the rows
/// that refer to them). `external_ids` is left to importers that track their sources.
pub(crate) const TABLES: [&str; 23] = [
    "school",
    "academic_years",
    "periods",
    "holidays",
    "teachers",
    "classes",
    "students",
    "guardians",
    "student_guardians",
    "subjects",
    "groups",
    "group_students",
    "bells",
    "timetable",
    "lessons",
    "homework_links",
    "work_types",
    "marks",
    "attendance",
    "period_marks",
    "remarks",
    "announcements",
    "events",
];

/// Integer columns holding a yes/no flag.
const FLAGS: [&str; 4] = ["is_demo", "cancelled", "pinned", "is_debt"];

/// Text columns limited to a few words: `(table, column, allowed)`.
const ENUMS: [(&str, &str, &[&str]); 5] = [
    (
        "periods",
        "kind",
        &["quarter", "trimester", "half", "year", "exam", "final"],
    ),
    ("guardians", "delivery", &["online", "paper"]),
    (
        "attendance",
        "status",
        &["absent", "ill", "excused", "unexcused", "late"],
    ),
    (
        "remarks",
        "kind",
        &["behaviour", "achievement", "concern", "praise"],
    ),
    ("announcements", "audience", &["school", "grade", "class"]),
];

/// Whole-number columns limited to a range: `(table, column, lowest, highest)`.
const RANGES: [(&str, &str, i64, i64); 1] =
    [("lessons", "homework_minutes", 0, MAX_HOMEWORK_MINUTES)];

/// What an import wrote: rows per table, in import order, and the files read.
#[derive(Debug, Default)]
pub(crate) struct ImportSummary {
    /// `(table, rows)` for every file imported, in import order.
    pub rows: Vec<(String, usize)>,
    /// The names of the files imported (`students.csv`), in import order.
    pub files: Vec<String>,
}

impl fmt::Display for ImportSummary {
    /// One line per table, each ending in a newline: `students: 312 rows`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (table, n) in &self.rows {
            writeln!(f, "{table}: {n} {}", if *n == 1 { "row" } else { "rows" })?;
        }
        Ok(())
    }
}

/// Loads every `<table>.csv` found in `dir` into the journal at `journal_path`, creating the
/// journal (with the schema) if absent. One transaction: on any bad row nothing is written.
///
/// Errors name the file, line, column and value (`students.csv line 14, column class_id:
/// '7x' is not a whole number`); callers add what was being imported.
pub(crate) fn import_dir(journal_path: &Path, dir: &Path) -> Result<ImportSummary> {
    super::run(journal_path, CsvImport::open(dir)?)
}

/// A folder of CSV files, one per journal table, checked by name before anything is written.
pub(crate) struct CsvImport {
    files: Vec<(&'static str, PathBuf)>,
}

impl CsvImport {
    pub(crate) fn open(dir: &Path) -> Result<CsvImport> {
        Ok(CsvImport {
            files: table_files(dir)?,
        })
    }
}

impl super::Importer for CsvImport {
    type Summary = ImportSummary;

    fn write(self, conn: &mut Connection) -> Result<ImportSummary> {
        import_files(conn, &self.files)
    }
}

/// The table files of `dir`, in import order. A `.csv` file not named after a table is an
/// error; other files, and lock files of spreadsheet programs (`.~lock…`, `~$…`), are
/// ignored.
fn table_files(dir: &Path) -> Result<Vec<(&'static str, PathBuf)>> {
    let entries =
        fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
    let mut found: HashMap<&'static str, PathBuf> = HashMap::new();
    let mut unknown = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read folder {}", dir.display()))?
            .path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if !is_csv || !path.is_file() || name.starts_with('.') || name.starts_with("~$") {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match TABLES.iter().find(|t| t.eq_ignore_ascii_case(&stem)) {
            Some(table) => {
                if let Some(other) = found.insert(table, path.clone()) {
                    bail!(
                        "{} and {} are both files of table {table}; keep one",
                        file_label(&other),
                        name
                    );
                }
            }
            None => unknown.push(name),
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        bail!(
            "{} {} not named after a journal table (accepted file names: {})",
            unknown.join(", "),
            if unknown.len() == 1 { "is" } else { "are" },
            TABLES.map(|t| format!("{t}.csv")).join(", ")
        );
    }
    if found.is_empty() {
        bail!(
            "{} holds no table files (expected files named after journal tables, such as \
             school.csv or students.csv; see docs/import-csv.md)",
            dir.display()
        );
    }
    Ok(TABLES
        .iter()
        .filter_map(|t| found.remove(t).map(|p| (*t, p)))
        .collect())
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Imports the files in one transaction, committed only if every row went in.
fn import_files(conn: &mut Connection, files: &[(&'static str, PathBuf)]) -> Result<ImportSummary> {
    let tx = conn.transaction()?;
    let mut summary = ImportSummary::default();
    for (table, path) in files {
        let file = file_label(path);
        let spec = TableSpec::read(&tx, table)?;
        let text = read_text(path, &file)?;
        let parsed = parse_file(&file, &text, &spec)?;
        let n = write_rows(&tx, &file, &spec, &parsed)?;
        summary.rows.push((table.to_string(), n));
        summary.files.push(file);
    }
    tx.commit().context("cannot commit the import")?;
    Ok(summary)
}

/// Reads a file as UTF-8 text without its BOM.
fn read_text(path: &Path, file: &str) -> Result<String> {
    let mut bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        bail!(
            "{file}: the file is UTF-16 text; save it as UTF-8 (in Excel: \"CSV UTF-8 (Comma \
             delimited)\")"
        );
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        anyhow!(
            "{file} line {line}: the text is not UTF-8 (perhaps Windows-1251); save the file \
             as UTF-8 (in Excel: \"CSV UTF-8 (Comma delimited)\")"
        )
    })
}

/// The delimiter of a file: `;` or `,`, whichever appears outside quotes in the header
/// line (the more frequent if both do); `,` if neither does.
fn detect_delimiter(text: &str) -> u8 {
    let mut in_quotes = false;
    let (mut commas, mut semicolons) = (0, 0);
    for c in text.trim_start_matches(['\r', '\n']).chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\n' | '\r' if !in_quotes => break,
            ',' if !in_quotes => commas += 1,
            ';' if !in_quotes => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// How a column's values are checked and stored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Integer,
    /// A whole number from the first to the second, both included.
    Range(i64, i64),
    Real,
    Flag,
    Date,
    DateTime,
    Time,
    Enum(&'static [&'static str]),
    Text,
}

#[derive(Debug)]
struct Column {
    name: String,
    kind: Kind,
    /// A value is required: NOT NULL without a default, or part of the primary key.
    required: bool,
    /// Part of the primary key.
    key: bool,
    /// The value an empty field takes (the column's default), if any.
    default: Option<Value>,
}

#[derive(Debug)]
struct ForeignKey {
    from: String,
    table: String,
    to: String,
}

/// A journal table as the schema in the file declares it.
#[derive(Debug)]
struct TableSpec {
    name: &'static str,
    columns: Vec<Column>,
    foreign_keys: Vec<ForeignKey>,
    /// For a table without a primary key: the column whose values in a file replace all
    /// rows of the journal with those values (homework_links: `lesson_id`).
    replace_by: Option<String>,
}

impl TableSpec {
    fn read(conn: &Connection, name: &'static str) -> Result<TableSpec> {
        let mut stmt = conn.prepare(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) \
             ORDER BY cid",
        )?;
        let raw: Vec<(String, String, bool, Option<String>, i64)> = stmt
            .query_map([name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        if raw.is_empty() {
            bail!("the journal has no table `{name}` (see docs/journal.md)");
        }
        let mut columns = Vec::with_capacity(raw.len());
        for (column, declared, not_null, default_sql, pk) in raw {
            let default = match default_sql {
                Some(sql) => Some(
                    conn.query_row(&format!("SELECT {sql}"), [], |r| r.get::<_, Value>(0))
                        .with_context(|| format!("default of {name}.{column}"))?,
                ),
                None => None,
            };
            let kind = column_kind(name, &column, &declared);
            columns.push(Column {
                required: (not_null || pk > 0) && default.is_none(),
                key: pk > 0,
                kind,
                default,
                name: column,
            });
        }
        let mut stmt =
            conn.prepare("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1)")?;
        let foreign_keys: Vec<ForeignKey> = stmt
            .query_map([name], |r| {
                Ok(ForeignKey {
                    table: r.get(0)?,
                    from: r.get(1)?,
                    to: r
                        .get::<_, Option<String>>(2)?
                        .unwrap_or_else(|| "rowid".into()),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let replace_by = if columns.iter().any(|c| c.key) {
            None
        } else {
            columns
                .iter()
                .find(|c| c.required && foreign_keys.iter().any(|fk| fk.from == c.name))
                .map(|c| c.name.clone())
        };
        Ok(TableSpec {
            name,
            columns,
            foreign_keys,
            replace_by,
        })
    }

    fn column_names(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn column_kind(table: &str, column: &str, declared: &str) -> Kind {
    let declared = declared.to_ascii_uppercase();
    if declared.contains("INT") {
        if FLAGS.contains(&column) {
            Kind::Flag
        } else if let Some((_, _, lo, hi)) = RANGES
            .iter()
            .find(|(t, c, _, _)| *t == table && *c == column)
        {
            Kind::Range(*lo, *hi)
        } else {
            Kind::Integer
        }
    } else if declared.contains("REAL") || declared.contains("FLOA") || declared.contains("DOUB") {
        Kind::Real
    } else if let Some((_, _, allowed)) = ENUMS.iter().find(|(t, c, _)| *t == table && *c == column)
    {
        Kind::Enum(allowed)
    } else if column.ends_with("_on") || column == "date" || column == "homework_due" {
        Kind::Date
    } else if column.ends_with("_at") {
        if table == "bells" {
            Kind::Time
        } else {
            Kind::DateTime
        }
    } else {
        Kind::Text
    }
}

/// Checks one field against its column and turns it into the value to store. The error is
/// the part of the message after the column: `'7x' is not a whole number`.
fn convert(column: &Column, raw: &str) -> Result<Value, String> {
    let t = raw.trim();
    if t.is_empty() {
        if column.required {
            return Err("the value is empty, but this column is required".into());
        }
        return Ok(column.default.clone().unwrap_or(Value::Null));
    }
    let whole = || {
        t.parse::<i64>()
            .map_err(|_| format!("'{t}' is not a whole number"))
    };
    match column.kind {
        Kind::Integer => whole().map(Value::Integer),
        Kind::Range(lo, hi) => match whole()? {
            n if (lo..=hi).contains(&n) => Ok(Value::Integer(n)),
            _ => Err(format!("'{t}' is not between {lo} and {hi}")),
        },
        Kind::Real => t
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::Real)
            .ok_or_else(|| format!("'{t}' is not a number (write 1.5 or 1,5)")),
        Kind::Flag => match t.to_lowercase().as_str() {
            "1" | "true" | "yes" | "да" => Ok(Value::Integer(1)),
            "0" | "false" | "no" | "нет" => Ok(Value::Integer(0)),
            _ => Err(format!(
                "'{t}' is not a yes/no value (write 1 or 0; true/false, yes/no and да/нет \
                 are accepted too)"
            )),
        },
        Kind::Date => match parse_date(t) {
            Some(_) => Ok(Value::Text(t.to_string())),
            None => Err(format!("'{t}' is not a valid date (YYYY-MM-DD)")),
        },
        Kind::DateTime => match parse_datetime(t) {
            Some(_) => Ok(Value::Text(t.to_string())),
            None => Err(format!(
                "'{t}' is not a valid date and time (YYYY-MM-DD HH:MM)"
            )),
        },
        Kind::Time => match parse_time(t) {
            Some(time) => Ok(Value::Text(time.format("%H:%M").to_string())),
            None => Err(format!("'{t}' is not a valid time (HH:MM)")),
        },
        Kind::Enum(allowed) => {
            let word = t.to_lowercase();
            if allowed.contains(&word.as_str()) {
                Ok(Value::Text(word))
            } else {
                Err(format!(
                    "'{t}' is not an allowed value (allowed: {})",
                    allowed.join(", ")
                ))
            }
        }
        Kind::Text => Ok(Value::Text(raw.to_string())),
    }
}

/// A file's rows, checked: the spec columns present (header order) and each row's values
/// in that order, with its line number.
struct Parsed {
    columns: Vec<usize>,
    rows: Vec<(u64, Vec<Value>)>,
}

fn parse_file(file: &str, text: &str, spec: &TableSpec) -> Result<Parsed> {
    if text.trim().is_empty() {
        bail!(
            "{file}: the file is empty; it needs a header row naming the columns ({})",
            spec.column_names()
        );
    }
    let delimiter = detect_delimiter(text);
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| csv_error(file, &e))?.clone();

    // Header field i → index into spec.columns (None: an unnamed, empty column).
    let mut slots: Vec<Option<usize>> = Vec::with_capacity(header.len());
    for name in header.iter() {
        let wanted = name.trim();
        if wanted.is_empty() {
            slots.push(None);
            continue;
        }
        let Some(index) = spec
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(wanted))
        else {
            bail!(
                "{file}: unknown column `{wanted}` (the columns of {} are: {})",
                spec.name,
                spec.column_names()
            );
        };
        if slots.contains(&Some(index)) {
            bail!(
                "{file}: column `{}` appears twice in the header",
                spec.columns[index].name
            );
        }
        slots.push(Some(index));
    }
    for (index, column) in spec.columns.iter().enumerate() {
        if column.required && !slots.contains(&Some(index)) {
            bail!("{file}: missing column `{}` (required)", column.name);
        }
    }
    let columns: Vec<usize> = slots.iter().flatten().copied().collect();
    let key_positions: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, i)| spec.columns[**i].key)
        .map(|(pos, _)| pos)
        .collect();

    let mut rows = Vec::new();
    let mut seen: HashMap<Vec<String>, u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, &e))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue; // a blank row, as spreadsheets write them
        }
        let extra_filled = record
            .iter()
            .skip(slots.len())
            .any(|f| !f.trim().is_empty());
        if record.len() < slots.len() || extra_filled {
            bail!(
                "{file} line {line}: the row has {} fields but the header has {} (is a value \
                 holding a `{}` missing its quotes?)",
                record.len(),
                slots.len(),
                delimiter as char
            );
        }
        let mut values = Vec::with_capacity(columns.len());
        for (field, slot) in record.iter().zip(&slots) {
            match slot {
                Some(index) => {
                    let column = &spec.columns[*index];
                    let value = convert(column, field).map_err(|message| {
                        anyhow!("{file} line {line}, column {}: {message}", column.name)
                    })?;
                    values.push(value);
                }
                None if !field.trim().is_empty() => bail!(
                    "{file} line {line}: a value '{}' stands in a column without a name in the \
                     header",
                    field.trim()
                ),
                None => {}
            }
        }
        if !key_positions.is_empty() {
            let key: Vec<String> = key_positions.iter().map(|&p| show(&values[p])).collect();
            if let Some(first) = seen.insert(key, line) {
                let described = key_positions
                    .iter()
                    .map(|&p| format!("{} {}", spec.columns[columns[p]].name, show(&values[p])))
                    .collect::<Vec<_>>()
                    .join(", ");
                bail!(
                    "{file} line {line}: {described} is already on line {first}; each row needs \
                     its own key"
                );
            }
        }
        rows.push((line, values));
    }
    Ok(Parsed { columns, rows })
}

fn csv_error(file: &str, err: &::csv::Error) -> anyhow::Error {
    match err.position() {
        Some(pos) => anyhow!("{file} line {}: {err}", pos.line()),
        None => anyhow!("{file}: {err}"),
    }
}

/// A value as messages show it: `7`, `'7a'`, `NULL`.
fn show(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Integer(n) => n.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => format!("'{t}'"),
        Value::Blob(b) => format!("a blob of {} bytes", b.len()),
    }
}

/// Writes a file's rows: upserts by primary key; for a table without one, first removes the
/// journal's rows for each `replace_by` value present in the file.
fn write_rows(conn: &Connection, file: &str, spec: &TableSpec, parsed: &Parsed) -> Result<usize> {
    let columns: Vec<&Column> = parsed.columns.iter().map(|&i| &spec.columns[i]).collect();
    let has_key = spec.columns.iter().any(|c| c.key);
    if let Some(by) = &spec.replace_by
        && let Some(pos) = columns.iter().position(|c| &c.name == by)
    {
        let mut delete = conn.prepare(&format!(
            "DELETE FROM \"{}\" WHERE \"{by}\" = ?1",
            spec.name
        ))?;
        let mut done = HashSet::new();
        for (_, values) in &parsed.rows {
            if done.insert(show(&values[pos])) {
                delete.execute([&values[pos]])?;
            }
        }
    }
    let sql = format!(
        "{} INTO \"{}\" ({}) VALUES ({})",
        if has_key {
            "INSERT OR REPLACE"
        } else {
            "INSERT"
        },
        spec.name,
        columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join(", "),
        (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut insert = conn.prepare(&sql)?;
    for (line, values) in &parsed.rows {
        insert
            .execute(params_from_iter(values.iter()))
            .map_err(|e| explain(conn, file, *line, spec, &columns, values, e))?;
    }
    Ok(parsed.rows.len())
}

/// Turns an SQLite error on a row into a message naming file, line and column.
fn explain(
    conn: &Connection,
    file: &str,
    line: u64,
    spec: &TableSpec,
    columns: &[&Column],
    values: &[Value],
    err: rusqlite::Error,
) -> anyhow::Error {
    if let rusqlite::Error::SqliteFailure(code, message) = &err {
        if code.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY {
            for fk in &spec.foreign_keys {
                let Some(pos) = columns.iter().position(|c| c.name == fk.from) else {
                    continue;
                };
                let value = &values[pos];
                if *value == Value::Null {
                    continue;
                }
                let exists = conn
                    .query_row(
                        &format!(
                            "SELECT EXISTS (SELECT 1 FROM \"{}\" WHERE \"{}\" = ?1)",
                            fk.table, fk.to
                        ),
                        [value],
                        |r| r.get::<_, bool>(0),
                    )
                    .unwrap_or(true);
                if !exists {
                    return anyhow!(
                        "{file} line {line}: {} = {} refers to no row of {}",
                        fk.from,
                        show(value),
                        fk.table
                    );
                }
            }
            return anyhow!("{file} line {line}: the row refers to a row that does not exist");
        }
        if code.extended_code == ffi::SQLITE_CONSTRAINT_CHECK {
            let rule = message
                .as_deref()
                .and_then(|m| m.strip_prefix("CHECK constraint failed: "))
                .unwrap_or("a CHECK constraint of the schema");
            let words: HashSet<&str> = rule
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .collect();
            let named: Vec<usize> = (0..columns.len())
                .filter(|&i| words.contains(columns[i].name.as_str()))
                .collect();
            if let [i] = named[..] {
                return anyhow!(
                    "{file} line {line}, column {}: {} breaks the rule `{rule}`",
                    columns[i].name,
                    show(&values[i])
                );
            }
            return anyhow!("{file} line {line}: the row breaks the rule `{rule}`");
        }
    }
    anyhow!("{file} line {line}: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Journal, open_read_only};

    const BOM: &str = "\u{feff}";

    /// Writes `files` into a new folder under `root` and returns it.
    fn folder(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = root.join(name);
        fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            fs::write(dir.join(file), text).unwrap();
        }
        dir
    }

    fn crlf(text: &str) -> String {
        text.replace('\n', "\r\n")
    }

    /// A small school: BOM, `;` delimiter, CRLF, shuffled columns, quoted fields.
    fn school_files() -> Vec<(&'static str, String)> {
        vec![
            (
                "school.csv",
                format!(
                    "{BOM}{}",
                    crlf(
                        "short_name;id;name;is_demo\n\
                         Школа № 39;1;\"ГБОУ «Школа № 39»; г. Москва\";нет\n"
                    )
                ),
            ),
            (
                "academic_years.csv",
                crlf("name;ends_on;id;starts_on\n2025/2026;2026-05-31;1;2025-09-01\n"),
            ),
            (
                "periods.csv",
                crlf(
                    "id;year_id;kind;number;name;starts_on;ends_on\n\
                     1;1;quarter;1;1 четверть;2025-09-01;2025-10-26\n\
                     2;1;Quarter;2;2 четверть;2025-11-05;2025-12-28\n",
                ),
            ),
            (
                "teachers.csv",
                crlf(
                    "id;last_name;first_name;middle_name\n\
                     1;Смирнова;Ольга;Петровна\n\
                     2;Кузнецов;Игорь;\n",
                ),
            ),
            (
                "classes.csv",
                crlf(
                    "name;letter;grade;year_id;id;class_teacher_id\n\
                     5А;А;5;1;1;1\n\
                     5Б;Б;5;1;2;\n",
                ),
            ),
            (
                "students.csv",
                crlf(
                    "class_id;id;first_name;last_name;middle_name\n\
                     1;1;Анна;Иванова;Сергеевна\n\
                     1;2;Пётр;Петров;\n\
                     2;3;Мария;Сидорова;Олеговна\n",
                ),
            ),
            (
                "subjects.csv",
                crlf("id;name;short_name\n1;Математика;Мат.\n2;Русский язык;Рус.\n"),
            ),
            (
                "lessons.csv",
                crlf(
                    "id;class_id;subject_id;teacher_id;date;number;topic;homework;cancelled\n\
                     1;1;1;1;2025-09-01;1;Натуральные числа;\"№ 12; № 15\nи \"\"повторить\"\"\";0\n\
                     2;1;2;2;2025-09-02;2;Фонетика;;\n",
                ),
            ),
            (
                "marks.csv",
                crlf(
                    "id;student_id;lesson_id;value;weight;is_debt\n\
                     1;1;1;5;1,5;нет\n\
                     2;2;1;4;;\n\
                     3;1;2;;;да\n",
                ),
            ),
        ]
    }

    fn write_school(root: &Path) -> PathBuf {
        let files = school_files();
        let refs: Vec<(&str, &str)> = files.iter().map(|(f, t)| (*f, t.as_str())).collect();
        folder(root, "school", &refs)
    }

    fn count(path: &Path, table: &str) -> i64 {
        let conn = Connection::open(path).unwrap();
        conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })
        .unwrap()
    }

    #[test]
    fn good_import_loads() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_school(tmp.path());
        let journal = tmp.path().join("data").join("journal.sqlite");
        let summary = import_dir(&journal, &dir).unwrap();
        assert_eq!(summary.files.len(), 9);
        assert_eq!(summary.rows[0], ("school".to_string(), 1));
        assert_eq!(
            summary.rows.iter().map(|(_, n)| n).sum::<usize>(),
            1 + 1 + 2 + 2 + 2 + 3 + 2 + 2 + 3
        );
        let shown = summary.to_string();
        assert!(
            shown.starts_with("school: 1 row\nacademic_years: 1 row\n"),
            "{shown}"
        );
        assert!(shown.contains("\nstudents: 3 rows\n"), "{shown}");
        assert!(shown.ends_with("marks: 3 rows\n"), "{shown}");

        let conn = open_read_only(&journal).unwrap();
        let (j, findings) = Journal::load(&conn).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(j.school.name, "ГБОУ «Школа № 39»; г. Москва");
        assert!(!j.school.is_demo);
        assert_eq!(j.years.len(), 1);
        assert_eq!(j.periods.len(), 2);
        assert_eq!(j.periods[1].kind.as_str(), "quarter");
        assert_eq!(j.teachers[1].middle_name, None);
        assert_eq!(j.classes[0].class_teacher_id, Some(1));
        assert_eq!(j.classes[1].class_teacher_id, None);
        assert_eq!(j.students.len(), 3);
        assert_eq!(j.students[1].last_name, "Петров");
        assert_eq!(j.subjects[0].short_name, "Мат.");
        let lesson = &j.lessons[0];
        assert_eq!(lesson.date.to_string(), "2025-09-01");
        assert_eq!(
            lesson.homework.as_deref(),
            Some("№ 12; № 15\r\nи \"повторить\"")
        );
        assert!(!j.lessons[1].cancelled);
        assert_eq!(j.marks.len(), 3);
        assert_eq!(j.marks[0].weight, Some(1.5));
        assert_eq!(j.marks[1].weight, None);
        assert!(j.marks[2].is_debt);
        assert_eq!(j.marks[2].value, None);
    }

    #[test]
    fn reimport_is_idempotent() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_school(tmp.path());
        fs::write(
            dir.join("homework_links.csv"),
            "lesson_id,url,title\n1,https://resh.edu.ru/1,РЭШ\n1,https://example.org/2,\n",
        )
        .unwrap();
        fs::write(
            dir.join("bells.csv"),
            "number,starts_at,ends_at\n1,8:30,09:15:00\n",
        )
        .unwrap();
        let journal = tmp.path().join("journal.sqlite");
        let first = import_dir(&journal, &dir).unwrap();
        let counts: Vec<i64> = TABLES.iter().map(|t| count(&journal, t)).collect();
        let second = import_dir(&journal, &dir).unwrap();
        assert_eq!(first.rows, second.rows);
        let again: Vec<i64> = TABLES.iter().map(|t| count(&journal, t)).collect();
        assert_eq!(counts, again);
        assert_eq!(count(&journal, "homework_links"), 2);

        let conn = open_read_only(&journal).unwrap();
        let (j, findings) = Journal::load(&conn).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(j.bells[0].starts_at, "08:30");
        assert_eq!(j.bells[0].ends_at, "09:15");
    }

    #[test]
    fn upsert_replaces_rows_by_key() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_school(tmp.path());
        let journal = tmp.path().join("journal.sqlite");
        import_dir(&journal, &dir).unwrap();
        let update = folder(
            tmp.path(),
            "update",
            &[(
                "students.csv",
                "id,class_id,last_name,first_name\n2,2,Петров,Пётр\n4,1,Орлова,Вера\n",
            )],
        );
        let summary = import_dir(&journal, &update).unwrap();
        assert_eq!(summary.to_string(), "students: 2 rows\n");
        let conn = open_read_only(&journal).unwrap();
        let (j, _) = Journal::load(&conn).unwrap();
        assert_eq!(j.students.len(), 4);
        assert_eq!(j.student(2).unwrap().class_id, 2);
        assert_eq!(j.marks.len(), 3, "marks of a replaced pupil stay");
    }

    /// A bad input: what it is, its files, and parts the error message must hold.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);

    /// Each bad folder fails with a message holding every `expected` part and leaves the
    /// journal byte for byte as it was.
    #[test]
    fn bad_inputs_change_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_school(tmp.path());
        let journal = tmp.path().join("journal.sqlite");
        import_dir(&journal, &dir).unwrap();
        let before = fs::read(&journal).unwrap();
        let good_students = "id,class_id,last_name,first_name\n5,1,Орлова,Вера\n";
        let cases: Vec<Case> = vec![
            (
                "missing required column",
                vec![("classes.csv", "id,year_id,grade,name\n3,1,6,6В\n")],
                vec!["classes.csv: missing column `letter` (required)"],
            ),
            (
                "impossible date",
                vec![(
                    "lessons.csv",
                    "id,class_id,subject_id,date,number\n\
                     3,1,1,2025-09-03,1\n\
                     4,1,1,2026-13-45,2\n",
                )],
                vec!["lessons.csv line 3, column date: '2026-13-45' is not a valid date"],
            ),
            (
                "non-integer id",
                vec![(
                    "students.csv",
                    "id;class_id;last_name;first_name\n5;1;Орлова;Вера\n7x;1;Белов;Иван\n",
                )],
                vec!["students.csv line 3, column id: '7x' is not a whole number"],
            ),
            (
                "bad enum",
                vec![(
                    "periods.csv",
                    "id,year_id,kind,number,name,starts_on,ends_on\n\
                     3,1,semester,3,3 четверть,2026-01-12,2026-03-22\n",
                )],
                vec![
                    "periods.csv line 2, column kind: 'semester'",
                    "quarter, trimester, half, year",
                ],
            ),
            (
                "reference to a missing class",
                vec![(
                    "students.csv",
                    "id,class_id,last_name,first_name\n5,1,Орлова,Вера\n6,99,Белов,Иван\n",
                )],
                vec!["students.csv line 3: class_id = 99 refers to no row of classes"],
            ),
            (
                "unknown file",
                vec![("students.csv", good_students), ("pupils.csv", "id\n1\n")],
                vec![
                    "pupils.csv",
                    "not named after a journal table",
                    "students.csv",
                ],
            ),
            (
                "unknown column",
                vec![(
                    "students.csv",
                    "id,class_id,last_name,first_name,patronymic\n5,1,Орлова,Вера,Ивановна\n",
                )],
                vec!["students.csv: unknown column `patronymic`", "middle_name"],
            ),
            (
                "check constraint",
                vec![(
                    "classes.csv",
                    "id,year_id,grade,letter,name\n3,1,12,В,12В\n",
                )],
                vec![
                    "classes.csv line 2, column grade: 12 breaks the rule `grade BETWEEN 1 AND 11`",
                ],
            ),
            (
                "bad flag",
                vec![(
                    "lessons.csv",
                    "id,class_id,subject_id,date,number,cancelled\n3,1,1,2025-09-03,1,maybe\n",
                )],
                vec!["lessons.csv line 2, column cancelled: 'maybe' is not a yes/no value"],
            ),
            (
                "empty required value",
                vec![(
                    "students.csv",
                    "id,class_id,last_name,first_name\n5,1,,Вера\n",
                )],
                vec!["students.csv line 2, column last_name: the value is empty"],
            ),
            (
                "duplicate key",
                vec![(
                    "students.csv",
                    "id,class_id,last_name,first_name\n5,1,Орлова,Вера\n5,1,Белов,Иван\n",
                )],
                vec!["students.csv line 3: id 5 is already on line 2"],
            ),
            (
                "ragged row",
                vec![(
                    "students.csv",
                    "id,class_id,last_name,first_name\n5,1,Орлова\n",
                )],
                vec!["students.csv line 2: the row has 3 fields but the header has 4"],
            ),
            (
                // students.csv is fine and goes in first; the whole import must roll back.
                "error in a later file",
                vec![
                    ("students.csv", good_students),
                    (
                        "marks.csv",
                        "id,student_id,lesson_id,value\n10,5,1,5\n11,5,77,4\n",
                    ),
                ],
                vec!["marks.csv line 3: lesson_id = 77 refers to no row of lessons"],
            ),
            (
                "no table files",
                vec![("notes.txt", "hello")],
                vec!["holds no table files"],
            ),
        ];
        refused_unchanged(tmp.path(), &journal, &before, &cases);
        assert_eq!(count(&journal, "students"), 3);
        assert_eq!(count(&journal, "marks"), 3);
    }

    /// Imports each case's folder into `journal`, expecting a failure whose message holds
    /// every expected part and a journal still byte for byte `before`.
    fn refused_unchanged(root: &Path, journal: &Path, before: &[u8], cases: &[Case]) {
        for (i, (what, files, expected)) in cases.iter().enumerate() {
            let dir = folder(root, &format!("bad-{}-{i}", what.replace(' ', "-")), files);
            let err = import_dir(journal, &dir).expect_err(what);
            let text = format!("{err:#}");
            for part in expected {
                assert!(text.contains(part), "{what}: {text}");
            }
            assert_eq!(
                fs::read(journal).unwrap(),
                before,
                "{what}: journal changed"
            );
        }
    }

    /// The schema-v2 files of a small school on top of [`school_files`]: every new column
    /// and remarks.csv, values written as spreadsheets do (upper case words, empty fields).
    fn v2_files() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "periods.csv",
                "id,year_id,kind,number,name,starts_on,ends_on\n\
                 3,1,Exam,1,Экзамены,2026-05-18,2026-05-29\n\
                 4,1,final,1,Итоговая отметка,2025-09-01,2026-05-31\n",
            ),
            (
                "classes.csv",
                "id,year_id,grade,letter,name,shift\n1,1,5,А,5А,1\n2,1,5,Б,5Б,2\n",
            ),
            (
                "guardians.csv",
                "id,last_name,first_name,delivery,consent_on\n\
                 1,Иванова,Ольга,Paper,2025-08-30\n\
                 2,Петров,Илья,,\n",
            ),
            (
                "bells.csv",
                "shift,number,starts_at,ends_at\n1,1,8:30,9:15\n2,1,13:30,14:15\n,2,09:25,10:10\n",
            ),
            (
                "lessons.csv",
                "id,class_id,subject_id,date,number,homework,homework_minutes\n\
                 1,1,1,2025-09-01,1,№ 12,25\n\
                 2,1,2,2025-09-02,2,,\n\
                 3,2,1,2025-09-02,1,Читать,0\n",
            ),
            (
                "marks.csv",
                "id,student_id,lesson_id,value,entered_at\n\
                 1,1,1,5,2025-09-01 14:05\n\
                 2,2,1,4,2025-09-03T08:10:30\n\
                 3,1,2,3,\n",
            ),
            (
                "period_marks.csv",
                "student_id;subject_id;period_id;value;set_on\n1;1;3;5;2026-05-25\n2;1;4;4;\n",
            ),
            (
                "remarks.csv",
                "id,student_id,date,teacher_id,subject_id,kind,text\n\
                 1,1,2025-09-01,1,1,Praise,Решила задачу у доски\n\
                 2,3,2025-09-02,,,concern,\"Забывает тетрадь; просим проверить\"\n",
            ),
        ]
    }

    fn query(path: &Path, sql: &str) -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..n)
                .map(|i| show(&r.get::<_, Value>(i).unwrap()))
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    #[test]
    fn schema_v2_columns_and_remarks_import() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_school(tmp.path());
        for (file, text) in v2_files() {
            fs::write(dir.join(file), text).unwrap();
        }
        let journal = tmp.path().join("journal.sqlite");
        let summary = import_dir(&journal, &dir).unwrap().to_string();
        assert!(summary.contains("\nremarks: 2 rows\n"), "{summary}");
        let rows = |sql: &str| query(&journal, sql);
        assert_eq!(
            rows("SELECT id, kind, number FROM periods WHERE id > 2 ORDER BY id"),
            ["3|'exam'|1", "4|'final'|1"]
        );
        assert_eq!(rows("SELECT id, shift FROM classes"), ["1|1", "2|2"]);
        assert_eq!(
            rows("SELECT id, delivery, consent_on FROM guardians ORDER BY id"),
            ["1|'paper'|'2025-08-30'", "2|'online'|NULL"]
        );
        assert_eq!(
            rows("SELECT shift, number, starts_at FROM bells ORDER BY shift, number"),
            ["1|1|'08:30'", "1|2|'09:25'", "2|1|'13:30'"]
        );
        assert_eq!(
            rows("SELECT id, homework_minutes FROM lessons ORDER BY id"),
            ["1|25", "2|NULL", "3|0"]
        );
        assert_eq!(
            rows("SELECT id, entered_at FROM marks ORDER BY id"),
            ["1|'2025-09-01 14:05'", "2|'2025-09-03T08:10:30'", "3|NULL"]
        );
        assert_eq!(
            rows("SELECT student_id, period_id, set_on FROM period_marks ORDER BY 1"),
            ["1|3|'2026-05-25'", "2|4|NULL"]
        );
        assert_eq!(
            rows("SELECT * FROM remarks ORDER BY id"),
            [
                "1|1|'2025-09-01'|1|1|'praise'|'Решила задачу у доски'",
                "2|3|'2025-09-02'|NULL|NULL|'concern'|'Забывает тетрадь; просим проверить'"
            ]
        );
        let conn = open_read_only(&journal).unwrap();
        let (j, findings) = Journal::load(&conn).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(j.remarks.len(), 2);
    }

    /// Files written before schema v2 (no new column, no remarks.csv) import as before:
    /// the new columns are empty or take their defaults.
    #[test]
    fn files_without_v2_columns_take_the_defaults() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_school(tmp.path());
        fs::write(
            dir.join("guardians.csv"),
            "id,last_name,first_name\n1,Иванова,Ольга\n",
        )
        .unwrap();
        fs::write(
            dir.join("bells.csv"),
            "number,starts_at,ends_at\n1,8:30,9:15\n",
        )
        .unwrap();
        fs::write(
            dir.join("period_marks.csv"),
            "student_id,subject_id,period_id,value\n1,1,1,5\n",
        )
        .unwrap();
        let journal = tmp.path().join("journal.sqlite");
        import_dir(&journal, &dir).unwrap();
        let rows = |sql: &str| query(&journal, sql);
        assert_eq!(rows("SELECT DISTINCT shift FROM classes"), ["1"]);
        assert_eq!(rows("SELECT shift, number FROM bells"), ["1|1"]);
        assert_eq!(
            rows("SELECT delivery, consent_on FROM guardians"),
            ["'online'|NULL"]
        );
        assert_eq!(
            rows("SELECT count(*) FROM lessons WHERE homework_minutes IS NULL"),
            ["2"]
        );
        assert_eq!(
            rows("SELECT count(*) FROM marks WHERE entered_at IS NULL"),
            ["3"]
        );
        assert_eq!(rows("SELECT set_on FROM period_marks"), ["NULL"]);
        assert_eq!(count(&journal, "remarks"), 0);
    }

    /// Bad values of the schema-v2 columns and of remarks.csv: (what, file, its text, the
    /// message).
    const V2_BAD: &[(&str, &str, &str, &str)] = &[
        (
            "remark kind",
            "remarks.csv",
            "id,student_id,date,kind,text\n1,1,2025-09-01,rudeness,Грубил\n",
            "remarks.csv line 2, column kind: 'rudeness' is not an allowed value (allowed: \
             behaviour, achievement, concern, praise)",
        ),
        (
            "remark date",
            "remarks.csv",
            "id,student_id,date,kind,text\n1,1,2025-02-30,praise,Молодец\n",
            "remarks.csv line 2, column date: '2025-02-30' is not a valid date",
        ),
        (
            "remark of a missing pupil",
            "remarks.csv",
            "id,student_id,date,kind,text\n1,99,2025-09-01,praise,Молодец\n",
            "remarks.csv line 2: student_id = 99 refers to no row of students",
        ),
        (
            "minutes not a whole number",
            "lessons.csv",
            "id,class_id,subject_id,date,number,homework_minutes\n3,1,1,2025-09-03,1,20 мин\n",
            "lessons.csv line 2, column homework_minutes: '20 мин' is not a whole number",
        ),
        (
            "minutes above 600",
            "lessons.csv",
            "id,class_id,subject_id,date,number,homework_minutes\n3,1,1,2025-09-03,1,601\n",
            "lessons.csv line 2, column homework_minutes: '601' is not between 0 and 600",
        ),
        (
            "negative minutes",
            "lessons.csv",
            "id,class_id,subject_id,date,number,homework_minutes\n3,1,1,2025-09-03,1,-5\n",
            "lessons.csv line 2, column homework_minutes: '-5' is not between 0 and 600",
        ),
        (
            "delivery",
            "guardians.csv",
            "id,last_name,first_name,delivery\n1,Иванова,Ольга,online\n2,Петров,Илья,email\n",
            "guardians.csv line 3, column delivery: 'email' is not an allowed value (allowed: \
             online, paper)",
        ),
        (
            "consent date",
            "guardians.csv",
            "id,last_name,first_name,consent_on\n1,Иванова,Ольга,01.09.2025\n",
            "guardians.csv line 2, column consent_on: '01.09.2025' is not a valid date",
        ),
        (
            "entry time",
            "marks.csv",
            "id,student_id,lesson_id,value,entered_at\n4,1,1,5,2025-09-01 25:00\n",
            "marks.csv line 2, column entered_at: '2025-09-01 25:00' is not a valid date and time",
        ),
        (
            "set date",
            "period_marks.csv",
            "student_id,subject_id,period_id,value,set_on\n1,1,1,5,2025-10-32\n",
            "period_marks.csv line 2, column set_on: '2025-10-32' is not a valid date",
        ),
        (
            "period kind",
            "periods.csv",
            "id,year_id,kind,number,name,starts_on,ends_on\n3,1,exams,1,Э,2026-05-18,2026-05-29\n",
            "periods.csv line 2, column kind: 'exams' is not an allowed value (allowed: quarter, \
             trimester, half, year, exam, final)",
        ),
        (
            "class shift",
            "classes.csv",
            "id,year_id,grade,letter,name,shift\n3,1,6,В,6В,3\n",
            "classes.csv line 2, column shift: 3 breaks the rule `shift IN (1, 2)`",
        ),
        (
            "bell shift",
            "bells.csv",
            "shift,number,starts_at,ends_at\n0,1,8:30,9:15\n",
            "bells.csv line 2, column shift: 0 breaks the rule `shift IN (1, 2)`",
        ),
        (
            "bell twice in a shift",
            "bells.csv",
            "shift,number,starts_at,ends_at\n2,1,8:30,9:15\n2,1,13:30,14:15\n",
            "bells.csv line 3: shift 2, number 1 is already on line 2",
        ),
    ];

    /// Each bad value of a schema-v2 column or of remarks.csv is refused with its file,
    /// line and column, and changes nothing.
    #[test]
    fn bad_v2_values_name_file_line_and_column() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_school(tmp.path());
        let journal = tmp.path().join("journal.sqlite");
        import_dir(&journal, &dir).unwrap();
        let before = fs::read(&journal).unwrap();
        let cases: Vec<Case> = V2_BAD
            .iter()
            .map(|(what, file, text, message)| (*what, vec![(*file, *text)], vec![*message]))
            .collect();
        refused_unchanged(tmp.path(), &journal, &before, &cases);
    }

    #[test]
    fn non_utf8_is_refused_with_its_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("in");
        fs::create_dir_all(&dir).unwrap();
        // "Иванова" in Windows-1251 on line 3.
        let mut bytes = b"id,class_id,last_name,first_name\n1,1,A,B\n2,1,".to_vec();
        bytes.extend_from_slice(&[0xC8, 0xE2, 0xE0, 0xED, 0xEE, 0xE2, 0xE0]);
        bytes.extend_from_slice(b",C\n");
        fs::write(dir.join("students.csv"), bytes).unwrap();
        let journal = tmp.path().join("journal.sqlite");
        let err = format!("{:#}", import_dir(&journal, &dir).unwrap_err());
        assert!(err.contains("students.csv line 3"), "{err}");
        assert!(err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn failed_first_import_leaves_no_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = folder(
            tmp.path(),
            "in",
            &[(
                "students.csv",
                "id,class_id,last_name,first_name\n1,1,A,B\n",
            )],
        );
        let journal = tmp.path().join("data").join("journal.sqlite");
        let err = format!("{:#}", import_dir(&journal, &dir).unwrap_err());
        assert!(
            err.contains("class_id = 1 refers to no row of classes"),
            "{err}"
        );
        assert!(!journal.exists());
        assert!(
            !tmp.path().join("data").exists(),
            "the folder made for it is removed"
        );
    }

    #[test]
    fn delimiters_are_detected_outside_quotes() {
        assert_eq!(detect_delimiter("id;name\n1;a,b"), b';');
        assert_eq!(detect_delimiter("id,name\n1;2"), b',');
        assert_eq!(detect_delimiter("\"a,b\";c\n"), b';');
        assert_eq!(detect_delimiter("id\n1"), b',');
        assert_eq!(detect_delimiter("\r\nid;name\r\n"), b';');
    }

    #[test]
    fn flags_and_numbers_convert() {
        let flag = Column {
            name: "pinned".into(),
            kind: Kind::Flag,
            required: false,
            key: false,
            default: Some(Value::Integer(0)),
        };
        for (raw, want) in [
            ("Да", 1),
            ("yes", 1),
            ("TRUE", 1),
            ("1", 1),
            ("нет", 0),
            ("No", 0),
        ] {
            assert_eq!(convert(&flag, raw), Ok(Value::Integer(want)), "{raw}");
        }
        assert_eq!(convert(&flag, " "), Ok(Value::Integer(0)));
        let real = Column {
            name: "weight".into(),
            kind: Kind::Real,
            required: false,
            key: false,
            default: None,
        };
        assert_eq!(convert(&real, "1,5"), Ok(Value::Real(1.5)));
        assert_eq!(convert(&real, " 2 "), Ok(Value::Real(2.0)));
        assert_eq!(convert(&real, ""), Ok(Value::Null));
        assert!(convert(&real, "NaN").is_err());
        let at = Column {
            name: "published_at".into(),
            kind: Kind::DateTime,
            required: true,
            key: false,
            default: None,
        };
        assert!(convert(&at, "2026-09-01T08:00").is_ok());
        assert!(convert(&at, "01.09.2026 08:00").is_err());
    }
}
