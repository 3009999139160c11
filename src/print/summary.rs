//! The class summary sheet for the archive: pupils by subjects × periods (the terms and the
//! year), the marks the teachers set, on landscape A4 with signature lines.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use chrono::NaiveDate;
use serde::Serialize;

use super::data::{self, Index, Teacher};
use crate::journal::{Class, Id, Period, PeriodKind};

#[derive(Serialize)]
pub struct SubjectHead {
    pub name: String,
    pub short_name: String,
}

#[derive(Serialize)]
pub struct PupilRow {
    pub number: usize,
    pub name: String,
    /// Subject by subject, period by period: the teacher's mark, or empty.
    pub marks: Vec<String>,
}

#[derive(Serialize)]
pub struct SummaryDoc {
    pub school: String,
    pub class: String,
    pub year: String,
    pub printed: String,
    pub font: String,
    /// Width of a mark's column in mm.
    pub cell: String,
    /// Column headings of one subject: "1", "2", "3", "4", "Г".
    pub periods: Vec<String>,
    pub period_names: String,
    pub subjects: Vec<SubjectHead>,
    pub rows: Vec<PupilRow>,
    pub teacher: Teacher,
}

/// Width of the landscape page's printable area, mm.
const LANDSCAPE_MM: f32 = 277.0;
/// Widths of the number and name columns, mm.
const NUMBER_MM: f32 = 6.0;
const NAME_MM: f32 = 46.0;

/// The summary sheet of a class's year.
pub fn summary(ix: &Index, class: &Class, today: NaiveDate) -> Result<SummaryDoc> {
    let s = ix.strings;
    if class.grade <= 1 {
        bail!(
            "class {} is a first grade: no marks are given there, so it has no summary sheet",
            class.name
        );
    }
    let year = data::year_of(ix.j, class)?;
    let mut periods: Vec<&Period> = data::terms(ix, class);
    periods.extend(data::year_period(ix.j, class));
    if periods.is_empty() {
        bail!("the academic year {} has no periods", year.name);
    }
    let pupils = ix.pupils(class.id);
    let period_ids: Vec<Id> = periods.iter().map(|p| p.id).collect();
    let mut subjects: BTreeSet<Id> = ix
        .lessons(class.id, year.starts_on, year.ends_on)
        .iter()
        .map(|l| l.subject_id)
        .chain(pupils.iter().flat_map(|p| {
            ix.period_marks_of(p.id)
                .iter()
                .filter(|pm| period_ids.contains(&pm.period_id))
                .map(|pm| pm.subject_id)
        }))
        .collect();
    subjects.retain(|id| ix.j.subject(*id).is_some());
    let rows = pupils
        .iter()
        .enumerate()
        .map(|(i, p)| PupilRow {
            number: i + 1,
            name: p.full_name(),
            marks: subjects
                .iter()
                .flat_map(|&subject| {
                    periods.iter().map(move |period| {
                        ix.period_mark(p.id, subject, period.id)
                            .map(|pm| pm.value.trim().to_string())
                            .unwrap_or_default()
                    })
                })
                .collect(),
        })
        .collect();
    let columns = (subjects.len() * periods.len()).max(1);
    let cell = (LANDSCAPE_MM - NUMBER_MM - NAME_MM) / columns as f32;
    // Two characters of a mark fit a column; 6 to 10 points.
    let font =
        ((cell - 0.8) / (super::fit::text_em("55") * super::fit::MM_PER_PT)).clamp(6.0, 10.0);
    let period_label = |p: &Period| {
        if p.kind == PeriodKind::Year {
            s.get("print_year_short").to_string()
        } else {
            p.number.to_string()
        }
    };
    Ok(SummaryDoc {
        school: ix.j.school.name.clone(),
        class: class.name.clone(),
        year: year.name.clone(),
        printed: s.date(today),
        font: format!("{:.1}", (font * 2.0).floor() / 2.0),
        cell: format!("{cell:.2}"),
        periods: periods.iter().map(|p| period_label(p)).collect(),
        period_names: periods
            .iter()
            .map(|p| format!("{} — {}", period_label(p), p.name))
            .collect::<Vec<_>>()
            .join(", "),
        subjects: subjects
            .iter()
            .filter_map(|&id| ix.j.subject(id))
            .map(|s| SubjectHead {
                name: s.name.clone(),
                short_name: s.short_name.clone(),
            })
            .collect(),
        rows,
        teacher: ix.class_teacher(class),
    })
}
