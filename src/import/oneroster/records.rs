//! The OneRoster rows this import uses, typed, and how each file's rows are read.
//!
//! Only the columns the journal needs are kept; the rest of a row (vendor columns, logins,
//! passwords, demographics) is never read. A row whose `status` is `tobedeleted` (or the
//! 1.0 `inactive`) is read for its `sourcedId` only.

use std::collections::HashMap;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::table::{Cell, Row, Table};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Org {
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
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
pub struct Course {
    pub title: String,
    pub code: Option<String>,
    pub grades: Vec<String>,
    pub school_year: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Class {
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
pub struct User {
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
pub struct Role {
    pub user: String,
    /// `primary` or `secondary`.
    pub role_type: Option<String>,
    /// Lower case: `student`, `teacher`, `parent`, …
    pub role: String,
    pub org: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Enrollment {
    pub class: String,
    pub user: String,
    /// Lower case: `student`, `teacher`, …
    pub role: String,
    pub primary: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Category {
    pub title: String,
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScoreScale {
    pub title: String,
    pub class: Option<String>,
    pub course: Option<String>,
    /// `{lhs:rhs}` pairs, in file order.
    pub values: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LineItem {
    pub title: String,
    pub description: Option<String>,
    pub assign: Option<String>,
    pub due: Option<String>,
    pub class: String,
    pub category: Option<String>,
    /// 1.1 `gradingPeriodSourcedId`, 1.2 `academicSessionSourcedId`.
    pub period: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScaleLink {
    /// The line item (lineItemScoreScales.csv) or result (resultScoreScales.csv).
    pub owner: String,
    pub scale: String,
}

/// A result: never kept between imports (it becomes a mark).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub line_item: String,
    pub student: String,
    /// `exempt`, `fully graded`, `not submitted`, `partially graded`, `submitted`.
    pub status: Option<&'static str>,
    pub score: Option<f64>,
    pub text: Option<String>,
    pub comment: Option<String>,
    pub late: bool,
    pub missing: bool,
    pub incomplete: bool,
    pub scale: Option<String>,
}

/// A row of a file: its sourcedId and line, and its record (`None`: `tobedeleted`).
pub struct Parsed<T> {
    pub id: String,
    pub line: u64,
    pub record: Option<T>,
}

/// A reference from a row of this import to a row of another file, checked once every
/// file is applied: `enrollments.csv line 4, column userSourcedId: 'u9' is …`.
pub struct Reference {
    pub file: String,
    pub line: u64,
    pub column: &'static str,
    pub value: String,
    /// The file the value must name a row of (`users`).
    pub target: &'static str,
}

/// Collects the references of the rows being read.
#[derive(Default)]
pub struct References(pub Vec<Reference>);

impl References {
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
        self.0.push(Reference {
            file: cell.file.to_string(),
            line: cell.line,
            column: cell.column,
            value: value.to_string(),
            target,
        });
    }
}

/// Reads every row of `t`: sourcedId and status, then `read` for the rows not deleted.
fn rows<T>(
    t: &Table,
    required: &[&str],
    refs: &mut References,
    read: impl Fn(&Table, &Row, &mut References) -> Result<T>,
) -> Result<Vec<Parsed<T>>> {
    t.require(&["sourcedId"])?;
    t.require(required)?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::with_capacity(t.rows.len());
    for row in &t.rows {
        let id_cell = t.cell(row, "sourcedId");
        id_cell.req()?;
        let id = id_cell.one_line()?.unwrap_or_default().to_string();
        if let Some(first) = seen.insert(id.clone(), row.line) {
            bail!(
                "{} line {}, column sourcedId: '{id}' is already on line {first}; each row \
                 needs its own sourcedId",
                t.file,
                row.line
            );
        }
        let status = t
            .cell(row, "status")
            .word(&["active", "tobedeleted", "inactive"])?;
        let record = match status {
            Some("tobedeleted" | "inactive") => None,
            _ => Some(read(t, row, refs)?),
        };
        out.push(Parsed {
            id,
            line: row.line,
            record,
        });
    }
    Ok(out)
}

fn lower(cell: Cell<'_>) -> Option<String> {
    cell.opt().map(str::to_ascii_lowercase)
}

fn owned(cell: Cell<'_>) -> Option<String> {
    cell.opt().map(str::to_string)
}

pub fn orgs(t: &Table, refs: &mut References) -> Result<Vec<Parsed<Org>>> {
    rows(t, &["name", "type"], refs, |t, r, _| {
        Ok(Org {
            name: t.cell(r, "name").req()?.to_string(),
            kind: t.cell(r, "type").req()?.to_string(),
        })
    })
}

pub fn sessions(t: &Table, refs: &mut References) -> Result<Vec<Parsed<Session>>> {
    rows(
        t,
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

pub fn courses(t: &Table, refs: &mut References) -> Result<Vec<Parsed<Course>>> {
    rows(t, &["title"], refs, |t, r, refs| {
        refs.add(t.cell(r, "schoolYearSourcedId"), "academicSessions");
        Ok(Course {
            title: t.cell(r, "title").req()?.to_string(),
            code: owned(t.cell(r, "courseCode")),
            grades: t.cell(r, "grades").list()?,
            school_year: owned(t.cell(r, "schoolYearSourcedId")),
        })
    })
}

pub fn classes(t: &Table, refs: &mut References) -> Result<Vec<Parsed<Class>>> {
    rows(t, &["title", "courseSourcedId"], refs, |t, r, refs| {
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
    })
}

pub fn users(t: &Table, refs: &mut References) -> Result<Vec<Parsed<User>>> {
    rows(t, &["givenName", "familyName"], refs, |t, r, refs| {
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
    })
}

pub fn roles(t: &Table, refs: &mut References) -> Result<Vec<Parsed<Role>>> {
    rows(t, &["userSourcedId", "role"], refs, |t, r, refs| {
        let user = t.cell(r, "userSourcedId");
        refs.add(user, "users");
        Ok(Role {
            user: user.req()?.to_string(),
            role_type: lower(t.cell(r, "roleType")),
            role: t.cell(r, "role").req()?.to_ascii_lowercase(),
            org: owned(t.cell(r, "orgSourcedId")),
        })
    })
}

pub fn enrollments(t: &Table, refs: &mut References) -> Result<Vec<Parsed<Enrollment>>> {
    rows(
        t,
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

pub fn categories(t: &Table, refs: &mut References) -> Result<Vec<Parsed<Category>>> {
    rows(t, &["title"], refs, |t, r, _| {
        Ok(Category {
            title: t.cell(r, "title").req()?.to_string(),
            weight: t.cell(r, "weight").number()?,
        })
    })
}

pub fn score_scales(t: &Table, refs: &mut References) -> Result<Vec<Parsed<ScoreScale>>> {
    rows(t, &["scoreScaleValue"], refs, |t, r, refs| {
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

pub fn line_items(t: &Table, refs: &mut References) -> Result<Vec<Parsed<LineItem>>> {
    rows(t, &["title", "classSourcedId"], refs, |t, r, refs| {
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
        Ok(LineItem {
            title: t.cell(r, "title").req()?.to_string(),
            description: t.cell(r, "description").text(),
            assign: t.cell(r, "assignDate").stamp()?,
            due: t.cell(r, "dueDate").stamp()?,
            class: class.req()?.to_string(),
            category: owned(t.cell(r, "categorySourcedId")),
            period: owned(period),
            min,
            max,
        })
    })
}

pub fn scale_links(
    t: &Table,
    owner_column: &'static str,
    owner_file: &'static str,
    refs: &mut References,
) -> Result<Vec<Parsed<ScaleLink>>> {
    rows(
        t,
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

pub const SCORE_STATUSES: [&str; 5] = [
    "exempt",
    "fully graded",
    "not submitted",
    "partially graded",
    "submitted",
];

pub fn results(t: &Table, refs: &mut References) -> Result<Vec<Parsed<Outcome>>> {
    rows(
        t,
        &["lineItemSourcedId", "studentSourcedId"],
        refs,
        |t, r, refs| {
            let line_item = t.cell(r, "lineItemSourcedId");
            let student = t.cell(r, "studentSourcedId");
            refs.add(line_item, "lineItems");
            refs.add(student, "users");
            refs.add(t.cell(r, "scoreScaleSourcedId"), "scoreScales");
            Ok(Outcome {
                line_item: line_item.req()?.to_string(),
                student: student.req()?.to_string(),
                status: t.cell(r, "scoreStatus").word(&SCORE_STATUSES)?,
                score: t.cell(r, "score").number()?,
                text: owned(t.cell(r, "textScore")),
                comment: t.cell(r, "comment").text(),
                late: t.cell(r, "late").flag()?.unwrap_or(false),
                missing: t.cell(r, "missing").flag()?.unwrap_or(false),
                incomplete: t.cell(r, "incomplete").flag()?.unwrap_or(false),
                scale: owned(t.cell(r, "scoreScaleSourcedId")),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_rows_need_only_their_id() {
        let t = Table::parse(
            "users.csv",
            b"sourcedId,status,givenName,familyName,role\nu1,tobedeleted,,,\nu2,Active,A,B,Student\n",
        )
        .unwrap();
        let mut refs = References::default();
        let users = users(&t, &mut refs).unwrap();
        assert!(users[0].record.is_none());
        assert_eq!(
            users[1].record.as_ref().unwrap().role.as_deref(),
            Some("student")
        );
    }

    #[test]
    fn duplicate_ids_and_bad_status_are_refused() {
        let mut refs = References::default();
        let t = Table::parse(
            "orgs.csv",
            b"sourcedId,name,type\no1,A,school\no1,B,school\n",
        )
        .unwrap();
        let e = orgs(&t, &mut refs).err().unwrap().to_string();
        assert!(
            e.contains("orgs.csv line 3, column sourcedId: 'o1' is already on line 2"),
            "{e}"
        );
        let t = Table::parse(
            "orgs.csv",
            b"sourcedId,status,name,type\no1,gone,A,school\n",
        )
        .unwrap();
        let e = orgs(&t, &mut refs).err().unwrap().to_string();
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
