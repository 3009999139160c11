//! The OneRoster rows this import uses, typed, and how each file's rows are read.
//!
//! Only the columns the journal needs are kept; the rest of a row (vendor columns, logins,
//! passwords, demographics) is never read. A row whose `status` is `tobedeleted` (or the
//! 1.0 `inactive`) is read for its `sourcedId` only.

use std::rc::Rc;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::hash::Strings;
use super::table::{Cell, Row, Table};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Org {
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Session {
    pub title: String,
    /// `schoolYear`, `term`, `semester`, `gradingPeriod` or an `ext:` word.
    pub kind: String,
    pub start: String,
    pub end: String,
    pub parent: Option<String>,
    /// The `schoolYear` column: the year the session belongs to (`2021` for 2020–21).
    pub school_year: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Course {
    pub title: String,
    pub code: Option<String>,
    pub grades: Vec<String>,
    pub school_year: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Class {
    pub title: String,
    pub code: Option<String>,
    /// `homeroom` or `scheduled` (lower case).
    pub class_type: Option<String>,
    pub grades: Vec<String>,
    pub course: String,
    pub school: Option<String>,
    pub terms: Vec<String>,
    pub periods: Vec<String>,
    pub location: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct User {
    /// The 1.1 `role` column (lower case); 1.2 gives roles in roles.csv.
    pub role: Option<String>,
    pub orgs: Vec<String>,
    pub given: Option<String>,
    pub family: Option<String>,
    pub middle: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub sms: Option<String>,
    pub agents: Vec<String>,
    pub grades: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Role {
    pub user: String,
    /// `primary` or `secondary`.
    pub role_type: Option<String>,
    /// Lower case: `student`, `teacher`, `parent`, …
    pub role: String,
    pub org: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Enrollment {
    pub class: String,
    pub user: String,
    /// Lower case: `student`, `teacher`, …
    pub role: String,
    pub primary: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Category {
    pub title: String,
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct ScoreScale {
    pub title: String,
    pub class: Option<String>,
    pub course: Option<String>,
    /// `{lhs:rhs}` pairs, in file order.
    pub values: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct LineItem {
    pub title: Box<str>,
    pub description: Option<Box<str>>,
    pub assign: Option<Box<str>>,
    pub due: Option<Box<str>>,
    pub class: Box<str>,
    pub category: Option<Box<str>>,
    /// 1.1 `gradingPeriodSourcedId`, 1.2 `academicSessionSourcedId`.
    pub period: Option<Box<str>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct ScaleLink {
    /// The line item (lineItemScoreScales.csv) or result (resultScoreScales.csv).
    pub owner: String,
    pub scale: String,
}

/// A result, as read from its row: never kept between imports (it becomes a mark).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Outcome<'a> {
    pub line_item: &'a str,
    pub student: &'a str,
    /// `exempt`, `fully graded`, `not submitted`, `partially graded`, `submitted`.
    pub status: Option<&'static str>,
    pub score: Option<f64>,
    pub text: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub late: bool,
    pub missing: bool,
    pub incomplete: bool,
    pub scale: Option<&'a str>,
    /// `scoreDate`: when the score was recorded (a date, or a date and time).
    pub score_date: Option<&'a str>,
}

/// A row of a file: its sourcedId and line, and its record (`None`: `tobedeleted`).
pub(super) struct Parsed<T> {
    pub id: String,
    pub line: u64,
    pub record: Option<T>,
}

/// A reference from a row of this import to a row of another file, checked once every
/// file is applied: `enrollments.csv line 4, column userSourcedId: 'u9' is …`.
pub(super) struct Reference {
    pub file: Rc<str>,
    pub line: u64,
    pub column: &'static str,
    /// The value's number among those referring to `target`.
    value: u32,
    /// The file the value must name a row of (`users`).
    pub target: &'static str,
}

/// Collects the references of the rows being read. Whether a reference holds depends only
/// on its value and target, so only the first reference to each is kept: the first that
/// fails is the same as among all of them.
#[derive(Default)]
pub(super) struct References {
    list: Vec<Reference>,
    /// Per target, the values referred to so far, and the last one.
    values: Vec<(&'static str, Strings, u32)>,
    file: Option<Rc<str>>,
    /// Collects nothing (for a file read a second time).
    ignore: bool,
}

impl References {
    /// References that are not collected.
    fn ignored() -> References {
        References {
            ignore: true,
            ..References::default()
        }
    }

    /// Adds `later`, references made after these.
    pub(super) fn extend(&mut self, later: References) {
        for (r, value) in later.iter() {
            self.push_at(&r.file, r.line, r.column, value, r.target);
        }
    }

    /// The references kept, in the order they were made, with their values.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&Reference, &str)> {
        self.list.iter().map(|r| {
            let (_, values, _) = self
                .values
                .iter()
                .find(|(t, _, _)| *t == r.target)
                .expect("a target of a reference");
            (r, values.get(r.value))
        })
    }

    fn add(&mut self, cell: Cell<'_>, target: &'static str) {
        if let Some(v) = cell.opt() {
            self.push(cell, v, target);
        }
    }

    fn add_list(&mut self, cell: Cell<'_>, target: &'static str) -> Result<Vec<String>> {
        let list = cell.list()?;
        for v in &list {
            self.push(cell, v, target);
        }
        Ok(list)
    }

    fn push(&mut self, cell: Cell<'_>, value: &str, target: &'static str) {
        self.push_at(cell.file, cell.line, cell.column, value, target);
    }

    fn push_at(
        &mut self,
        file: &str,
        line: u64,
        column: &'static str,
        value: &str,
        target: &'static str,
    ) {
        if self.ignore {
            return;
        }
        let i = match self.values.iter().position(|(t, _, _)| *t == target) {
            Some(i) => i,
            None => {
                self.values.push((target, Strings::default(), 0));
                self.values.len() - 1
            }
        };
        let (_, values, last) = &mut self.values[i];
        // Rows often refer to what the row before did (results of one line item).
        if values.len() > 0 && values.get(*last) == value {
            return;
        }
        let (value, new) = values.add(value);
        *last = value;
        if !new {
            return;
        }
        let file = match &self.file {
            Some(f) if **f == *file => f.clone(),
            _ => {
                let f: Rc<str> = file.into();
                self.file = Some(f.clone());
                f
            }
        };
        self.list.push(Reference {
            file,
            line,
            column,
            value,
            target,
        });
    }
}

/// The most rows `bytes` can hold: one a line.
fn most_rows(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count() + 1
}

/// Reads every row of a file: its sourcedId and status, then `each` with whether the row is
/// deleted (`tobedeleted`). With `unique`, a sourcedId seen on an earlier row is an error.
/// An error in the CSV itself ends the reading; so does one in a value, unless `defer`:
/// then the rest is read as [`Table::count`] does and the error comes back with the rows.
fn scan(
    file: &str,
    bytes: &[u8],
    required: &[&str],
    refs: &mut References,
    (unique, defer): (bool, bool),
    mut each: impl FnMut(&Table, &Row, &str, bool, &mut References) -> Result<()>,
) -> Result<(usize, Option<anyhow::Error>)> {
    let mut scan = Table::scan(file, bytes)?;
    let mut failed = None;
    let fail = |e: anyhow::Error, failed: &mut Option<anyhow::Error>| {
        if !defer {
            return Err(e);
        }
        *failed = Some(e);
        Ok(())
    };
    if let Err(e) = scan
        .table()
        .require(&["sourcedId"])
        .and_then(|()| scan.table().require(required))
    {
        fail(e, &mut failed)?;
    }
    // The sourcedIds seen, and the line of each.
    let capacity = if unique { most_rows(bytes) } else { 0 };
    let mut seen = Strings::with_capacity(capacity);
    let mut lines: Vec<u64> = Vec::with_capacity(capacity);
    let mut rows = 0;
    while let Some((t, row)) = scan.next()? {
        rows += 1;
        if failed.is_some() {
            continue;
        }
        let mut read = || -> Result<()> {
            let id_cell = t.cell(row, "sourcedId");
            id_cell.req()?;
            let id = id_cell.one_line()?.unwrap_or_default();
            if unique {
                match seen.add(id) {
                    (_, true) => lines.push(row.line),
                    (n, false) => bail!(
                        "{} line {}, column sourcedId: '{id}' is already on line {}; each row \
                         needs its own sourcedId",
                        t.file,
                        row.line,
                        lines[n as usize]
                    ),
                }
            }
            let status = t
                .cell(row, "status")
                .word(&["active", "tobedeleted", "inactive"])?;
            let deleted = matches!(status, Some("tobedeleted" | "inactive"));
            each(t, row, id, deleted, refs)
        };
        if let Err(e) = read() {
            fail(e, &mut failed)?;
        }
    }
    Ok((rows, failed))
}

/// Reads every row of a file: sourcedId and status, then `read` for the rows not deleted.
fn rows<T>(
    file: &str,
    bytes: &[u8],
    required: &[&str],
    refs: &mut References,
    read: impl Fn(&Table, &Row, &mut References) -> Result<T>,
) -> Result<Vec<Parsed<T>>> {
    let mut out = Vec::with_capacity(most_rows(bytes));
    scan(
        file,
        bytes,
        required,
        refs,
        (true, false),
        |t, row, id, deleted, refs| {
            let record = if deleted {
                None
            } else {
                Some(read(t, row, refs)?)
            };
            out.push(Parsed {
                id: id.to_string(),
                line: row.line,
                record,
            });
            Ok(())
        },
    )?;
    Ok(out)
}

fn lower(cell: Cell<'_>) -> Option<String> {
    cell.opt().map(str::to_ascii_lowercase)
}

fn owned(cell: Cell<'_>) -> Option<String> {
    cell.opt().map(str::to_string)
}

pub(super) fn orgs(file: &str, bytes: &[u8], refs: &mut References) -> Result<Vec<Parsed<Org>>> {
    rows(file, bytes, &["name", "type"], refs, |t, r, _| {
        Ok(Org {
            name: t.cell(r, "name").req()?.to_string(),
            kind: t.cell(r, "type").req()?.to_string(),
        })
    })
}

pub(super) fn sessions(
    file: &str,
    bytes: &[u8],
    refs: &mut References,
) -> Result<Vec<Parsed<Session>>> {
    rows(
        file,
        bytes,
        &["title", "type", "startDate", "endDate"],
        refs,
        |t, r, refs| {
            let kind_cell = t.cell(r, "type");
            let kind = kind_cell.req()?;
            let kind = ["schoolYear", "term", "semester", "gradingPeriod"]
                .iter()
                .find(|k| k.eq_ignore_ascii_case(kind))
                .map(|k| k.to_string())
                .or_else(|| kind.starts_with("ext:").then(|| kind.to_string()))
                .ok_or_else(|| {
                    kind_cell.error(format!(
                        "'{kind}' is not a session type (schoolYear, term, semester, \
                         gradingPeriod or ext:…)"
                    ))
                })?;
            let start = date(t.cell(r, "startDate"))?;
            let end_cell = t.cell(r, "endDate");
            let end = date(end_cell)?;
            if end < start {
                return Err(end_cell.error(format!("'{end}' is before startDate '{start}'")));
            }
            refs.add(t.cell(r, "parentSourcedId"), "academicSessions");
            Ok(Session {
                title: t.cell(r, "title").req()?.to_string(),
                kind,
                start,
                end,
                parent: owned(t.cell(r, "parentSourcedId")),
                school_year: owned(t.cell(r, "schoolYear")),
            })
        },
    )
}

/// A required date column, as `YYYY-MM-DD` (a datetime keeps its date part).
fn date(cell: Cell<'_>) -> Result<String> {
    let s = cell.req()?;
    let day = s.get(..10).and_then(crate::journal::parse_date);
    match (cell.stamp()?, day) {
        (Some(_), Some(d)) => Ok(d.to_string()),
        _ => Err(cell.error(format!("'{s}' is not a date (YYYY-MM-DD)"))),
    }
}

pub(super) fn courses(
    file: &str,
    bytes: &[u8],
    refs: &mut References,
) -> Result<Vec<Parsed<Course>>> {
    rows(file, bytes, &["title"], refs, |t, r, refs| {
        refs.add(t.cell(r, "schoolYearSourcedId"), "academicSessions");
        Ok(Course {
            title: t.cell(r, "title").req()?.to_string(),
            code: owned(t.cell(r, "courseCode")),
            grades: t.cell(r, "grades").list()?,
            school_year: owned(t.cell(r, "schoolYearSourcedId")),
        })
    })
}

pub(super) fn classes(
    file: &str,
    bytes: &[u8],
    refs: &mut References,
) -> Result<Vec<Parsed<Class>>> {
    rows(
        file,
        bytes,
        &["title", "courseSourcedId"],
        refs,
        |t, r, refs| {
            let course = t.cell(r, "courseSourcedId");
            refs.add(course, "courses");
            refs.add(t.cell(r, "schoolSourcedId"), "orgs");
            Ok(Class {
                title: t.cell(r, "title").req()?.to_string(),
                code: owned(t.cell(r, "classCode")),
                class_type: lower(t.cell(r, "classType")),
                grades: t.cell(r, "grades").list()?,
                course: course.req()?.to_string(),
                school: owned(t.cell(r, "schoolSourcedId")),
                terms: refs.add_list(t.cell(r, "termSourcedIds"), "academicSessions")?,
                periods: t.cell(r, "periods").list()?,
                location: owned(t.cell(r, "location")),
            })
        },
    )
}

pub(super) fn users(file: &str, bytes: &[u8], refs: &mut References) -> Result<Vec<Parsed<User>>> {
    rows(
        file,
        bytes,
        &["givenName", "familyName"],
        refs,
        |t, r, refs| {
            let mut orgs = t.cell(r, "orgSourcedIds").list()?;
            if let Some(primary) = t.cell(r, "primaryOrgSourcedId").opt()
                && !orgs.iter().any(|o| o == primary)
            {
                orgs.push(primary.to_string());
            }
            Ok(User {
                role: lower(t.cell(r, "role")),
                orgs,
                given: owned(t.cell(r, "givenName")),
                family: owned(t.cell(r, "familyName")),
                middle: owned(t.cell(r, "middleName")),
                email: owned(t.cell(r, "email")),
                phone: owned(t.cell(r, "phone")),
                sms: owned(t.cell(r, "sms")),
                agents: refs.add_list(t.cell(r, "agentSourcedIds"), "users")?,
                grades: t.cell(r, "grades").list()?,
            })
        },
    )
}

pub(super) fn roles(file: &str, bytes: &[u8], refs: &mut References) -> Result<Vec<Parsed<Role>>> {
    rows(
        file,
        bytes,
        &["userSourcedId", "role"],
        refs,
        |t, r, refs| {
            let user = t.cell(r, "userSourcedId");
            refs.add(user, "users");
            Ok(Role {
                user: user.req()?.to_string(),
                role_type: lower(t.cell(r, "roleType")),
                role: t.cell(r, "role").req()?.to_ascii_lowercase(),
                org: owned(t.cell(r, "orgSourcedId")),
            })
        },
    )
}

pub(super) fn enrollments(
    file: &str,
    bytes: &[u8],
    refs: &mut References,
) -> Result<Vec<Parsed<Enrollment>>> {
    rows(
        file,
        bytes,
        &["classSourcedId", "userSourcedId", "role"],
        refs,
        |t, r, refs| {
            let class = t.cell(r, "classSourcedId");
            let user = t.cell(r, "userSourcedId");
            refs.add(class, "classes");
            refs.add(user, "users");
            Ok(Enrollment {
                class: class.req()?.to_string(),
                user: user.req()?.to_string(),
                role: t.cell(r, "role").req()?.to_ascii_lowercase(),
                primary: t.cell(r, "primary").flag()?.unwrap_or(false),
            })
        },
    )
}

pub(super) fn categories(
    file: &str,
    bytes: &[u8],
    refs: &mut References,
) -> Result<Vec<Parsed<Category>>> {
    rows(file, bytes, &["title"], refs, |t, r, _| {
        Ok(Category {
            title: t.cell(r, "title").req()?.to_string(),
            weight: t.cell(r, "weight").number()?,
        })
    })
}

pub(super) fn score_scales(
    file: &str,
    bytes: &[u8],
    refs: &mut References,
) -> Result<Vec<Parsed<ScoreScale>>> {
    rows(file, bytes, &["scoreScaleValue"], refs, |t, r, refs| {
        refs.add(t.cell(r, "classSourcedId"), "classes");
        refs.add(t.cell(r, "courseSourcedId"), "courses");
        let cell = t.cell(r, "scoreScaleValue");
        Ok(ScoreScale {
            title: owned(t.cell(r, "title")).unwrap_or_default(),
            class: owned(t.cell(r, "classSourcedId")),
            course: owned(t.cell(r, "courseSourcedId")),
            values: scale_values(cell)?,
        })
    })
}

/// `{A:90-100},{B:80-89}` (or without braces, `A:90-100,B:80-89`) → pairs.
fn scale_values(cell: Cell<'_>) -> Result<Vec<(String, String)>> {
    let Some(s) = cell.opt() else {
        return Ok(Vec::new());
    };
    let entries: Vec<&str> = if s.contains('{') {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                return Err(cell.error(format!("'{s}' has a `{{` without its `}}`")));
            };
            out.push(&rest[open + 1..open + close]);
            rest = &rest[open + close + 1..];
        }
        out
    } else {
        s.split(',').collect()
    };
    entries
        .into_iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| match e.split_once(':') {
            Some((l, r)) if !l.trim().is_empty() && !r.trim().is_empty() => {
                Ok((l.trim().to_string(), r.trim().to_string()))
            }
            _ => Err(cell.error(format!(
                "'{s}' is not a list of {{value:value}} pairs (such as {{A:90-100}},{{B:80-89}})"
            ))),
        })
        .collect()
}

pub(super) fn line_items(
    file: &str,
    bytes: &[u8],
    refs: &mut References,
) -> Result<Vec<Parsed<LineItem>>> {
    rows(
        file,
        bytes,
        &["title", "classSourcedId"],
        refs,
        |t, r, refs| {
            let class = t.cell(r, "classSourcedId");
            refs.add(class, "classes");
            refs.add(t.cell(r, "categorySourcedId"), "categories");
            let period = if t.has("academicSessionSourcedId") {
                t.cell(r, "academicSessionSourcedId")
            } else {
                t.cell(r, "gradingPeriodSourcedId")
            };
            refs.add(period, "academicSessions");
            let min = t.cell(r, "resultValueMin").number()?;
            let max_cell = t.cell(r, "resultValueMax");
            let max = max_cell.number()?;
            if let (Some(lo), Some(hi)) = (min, max)
                && hi <= lo
            {
                return Err(max_cell.error(format!(
                    "{hi} is not above resultValueMin {lo}; no score could be placed between them"
                )));
            }
            let boxed = |s: Option<&str>| s.map(Box::from);
            Ok(LineItem {
                title: t.cell(r, "title").req()?.into(),
                description: boxed(t.cell(r, "description").text()),
                assign: t.cell(r, "assignDate").stamp()?.map(Box::from),
                due: t.cell(r, "dueDate").stamp()?.map(Box::from),
                class: class.req()?.into(),
                category: boxed(t.cell(r, "categorySourcedId").opt()),
                period: boxed(period.opt()),
                min,
                max,
            })
        },
    )
}

pub(super) fn scale_links(
    (file, bytes): (&str, &[u8]),
    owner_column: &'static str,
    owner_file: &'static str,
    refs: &mut References,
) -> Result<Vec<Parsed<ScaleLink>>> {
    rows(
        file,
        bytes,
        &[owner_column, "scoreScaleSourcedId"],
        refs,
        |t, r, refs| {
            let owner = t.cell(r, owner_column);
            let scale = t.cell(r, "scoreScaleSourcedId");
            if owner_file != "results" {
                refs.add(owner, owner_file);
            }
            refs.add(scale, "scoreScales");
            Ok(ScaleLink {
                owner: owner.req()?.to_string(),
                scale: scale.req()?.to_string(),
            })
        },
    )
}

pub(super) const SCORE_STATUSES: [&str; 5] = [
    "exempt",
    "fully graded",
    "not submitted",
    "partially graded",
    "submitted",
];

/// The columns results.csv needs.
const RESULT_COLUMNS: [&str; 2] = ["lineItemSourcedId", "studentSourcedId"];

/// Checks results.csv, every value as [`results`] reads them and the CSV as
/// [`Table::count`] does, in one reading: the rows, and the first error in a value (for the
/// caller to report after those of the files read before it). An error in the CSV itself
/// is returned at once.
pub(super) fn check_results(
    (file, bytes): (&str, &[u8]),
    refs: &mut References,
) -> Result<(usize, Option<anyhow::Error>)> {
    scan(
        file,
        bytes,
        &RESULT_COLUMNS,
        refs,
        (true, true),
        |t, r, _, deleted, refs| {
            if !deleted {
                outcome(t, r, refs)?;
            }
            Ok(())
        },
    )
}

/// Reads results.csv row by row, as checked by [`check_results`]: `each` gets the
/// sourcedId, the line and the result (`None`: `tobedeleted`).
pub(super) fn results(
    (file, bytes): (&str, &[u8]),
    mut each: impl FnMut(&str, u64, Option<Outcome<'_>>) -> Result<()>,
) -> Result<()> {
    scan(
        file,
        bytes,
        &RESULT_COLUMNS,
        &mut References::ignored(),
        (false, false),
        |t, r, id, deleted, refs| {
            let outcome = if deleted {
                None
            } else {
                Some(outcome(t, r, refs)?)
            };
            each(id, r.line, outcome)
        },
    )?;
    Ok(())
}

fn outcome<'a>(t: &'a Table, r: &'a Row, refs: &mut References) -> Result<Outcome<'a>> {
    let line_item = t.cell(r, "lineItemSourcedId");
    let student = t.cell(r, "studentSourcedId");
    let scale = t.cell(r, "scoreScaleSourcedId");
    refs.add(line_item, "lineItems");
    refs.add(student, "users");
    refs.add(scale, "scoreScales");
    Ok(Outcome {
        line_item: line_item.req()?,
        student: student.req()?,
        status: t.cell(r, "scoreStatus").word(&SCORE_STATUSES)?,
        score: t.cell(r, "score").number()?,
        text: t.cell(r, "textScore").opt(),
        comment: t.cell(r, "comment").text(),
        late: t.cell(r, "late").flag()?.unwrap_or(false),
        missing: t.cell(r, "missing").flag()?.unwrap_or(false),
        incomplete: t.cell(r, "incomplete").flag()?.unwrap_or(false),
        scale: scale.opt(),
        score_date: t.cell(r, "scoreDate").stamp()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_rows_need_only_their_id() {
        let mut refs = References::default();
        let users = users(
            "users.csv",
            b"sourcedId,status,givenName,familyName,role\nu1,tobedeleted,,,\nu2,Active,A,B,Student\n",
            &mut refs,
        )
        .unwrap();
        assert!(users[0].record.is_none());
        assert_eq!(
            users[1].record.as_ref().unwrap().role.as_deref(),
            Some("student")
        );
    }

    #[test]
    fn duplicate_ids_and_bad_status_are_refused() {
        let mut refs = References::default();
        let e = orgs(
            "orgs.csv",
            b"sourcedId,name,type\no1,A,school\no1,B,school\n",
            &mut refs,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("orgs.csv line 3, column sourcedId: 'o1' is already on line 2"),
            "{e}"
        );
        let e = orgs(
            "orgs.csv",
            b"sourcedId,status,name,type\no1,gone,A,school\n",
            &mut refs,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("orgs.csv line 2, column status: 'gone'"), "{e}");
    }

    #[test]
    fn scale_values_parse() {
        let t = Table::parse(
            "scoreScales.csv",
            b"sourcedId,scoreScaleValue\ns1,\"{A:90-100},{B:80-89}\"\ns2,\"5:5, 4:4\"\ns3,{A}\n",
        )
        .unwrap();
        let cell = |i: usize| t.cell(&t.rows[i], "scoreScaleValue");
        assert_eq!(
            scale_values(cell(0)).unwrap(),
            [("A".into(), "90-100".into()), ("B".into(), "80-89".into())]
        );
        assert_eq!(scale_values(cell(1)).unwrap().len(), 2);
        assert!(scale_values(cell(2)).is_err());
    }
}
