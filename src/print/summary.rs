//! The class summary sheet for the archive: pupils by subjects × periods (the terms and the
//! year), the marks the teachers set, and the lessons each pupil missed per period (of
//! them for illness, for a valid reason, without one), on landscape A4 with the lines the
//! director and the class teacher sign and the seal's place.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use chrono::NaiveDate;
use serde::Serialize;

use super::data::{self, Index, Teacher};
use super::fit::{MM_PER_PT, line_mm, lines, text_em};
use crate::journal::{AttendanceStatus, Class, Id, Period, PeriodKind};

#[derive(Serialize)]
pub(super) struct SubjectHead {
    pub name: String,
    pub short_name: String,
}

#[derive(Serialize)]
pub(super) struct PupilRow {
    pub number: usize,
    pub name: String,
    /// Subject by subject, period by period: the teacher's mark, or empty.
    pub marks: Vec<String>,
}

/// A pupil's lessons missed in one period.
#[derive(Serialize, Default, Clone, Copy)]
pub(super) struct MissedCell {
    pub all: usize,
    pub ill: usize,
    pub excused: usize,
    pub unexcused: usize,
}

#[derive(Serialize)]
pub(super) struct AttendanceRow {
    pub number: usize,
    pub name: String,
    /// Period by period (the terms, then the year).
    pub periods: Vec<MissedCell>,
}

#[derive(Serialize)]
pub(super) struct SummaryDoc {
    pub school: String,
    pub class: String,
    pub year: String,
    pub printed: String,
    pub font: String,
    /// Width of the names' column in mm.
    pub name_width: String,
    /// Width of a mark's column in mm.
    pub cell: String,
    /// Column headings of one subject: "1", "2", "3", "4", "Г".
    pub periods: Vec<String>,
    pub period_names: String,
    pub subjects: Vec<SubjectHead>,
    pub rows: Vec<PupilRow>,
    pub teacher: Teacher,
    /// Headings of the attendance table: the terms and the year.
    pub attendance_periods: Vec<String>,
    pub attendance: Vec<AttendanceRow>,
}

/// Width of the landscape page's printable area, mm.
const LANDSCAPE_MM: f32 = 277.0;
/// Height of the landscape page's printable area, less a safety margin, mm.
const LANDSCAPE_HEIGHT_MM: f32 = 190.0 - 5.0;
/// Width of the number column, mm.
const NUMBER_MM: f32 = 6.0;
/// Vertical and horizontal padding plus border of a cell, mm (`.summary td`).
const CELL_MM: f32 = 0.8;

/// The summary sheet of a class's year.
pub(super) fn summary(ix: &Index, class: &Class, today: NaiveDate) -> Result<SummaryDoc> {
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
    let attendance_periods = periods.clone();
    let pupils = ix.pupils(class.id);
    periods.extend(data::exams_of(ix, class, pupils));
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
    let rows: Vec<PupilRow> = pupils
        .iter()
        .enumerate()
        .map(|(i, p)| PupilRow {
            number: i + 1,
            name: p.full_name(),
            marks: subjects
                .iter()
                .flat_map(|&subject| {
                    periods.iter().map(move |period| {
                        ix.final_mark(p.id, subject, period, today)
                            .map(|pm| pm.value.trim().to_string())
                            .unwrap_or_default()
                    })
                })
                .collect(),
        })
        .collect();
    let heads: Vec<SubjectHead> = subjects
        .iter()
        .filter_map(|&id| ix.j.subject(id))
        .map(|s| SubjectHead {
            name: s.name.clone(),
            short_name: s.short_name.clone(),
        })
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let (font, name_mm, cell) = layout(&names, &heads, periods.len());
    let period_label = |p: &Period| match p.kind {
        PeriodKind::Year => s.get("print_year_short").to_string(),
        PeriodKind::Exam => s.get("print_exam_short").to_string(),
        PeriodKind::Final => s.get("print_final_short").to_string(),
        _ => p.number.to_string(),
    };
    let attendance = pupils
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut cells = vec![MissedCell::default(); attendance_periods.len()];
            for a in ix.attendance_of(p.id) {
                let Some(l) = ix.j.lesson(a.lesson_id) else {
                    continue;
                };
                if l.class_id != class.id || l.cancelled || a.status == AttendanceStatus::Late {
                    continue;
                }
                for (k, period) in attendance_periods.iter().enumerate() {
                    if period.contains(l.date) {
                        let c = &mut cells[k];
                        c.all += 1;
                        match a.status {
                            AttendanceStatus::Ill => c.ill += 1,
                            AttendanceStatus::Excused => c.excused += 1,
                            AttendanceStatus::Unexcused => c.unexcused += 1,
                            _ => {}
                        }
                    }
                }
            }
            AttendanceRow {
                number: i + 1,
                name: p.full_name(),
                periods: cells,
            }
        })
        .collect();
    Ok(SummaryDoc {
        school: ix.j.school.name.clone(),
        class: class.name.clone(),
        year: year.name.clone(),
        printed: s.date(today),
        font: format!("{font}"),
        name_width: format!("{name_mm:.1}"),
        cell: format!("{cell:.2}"),
        periods: periods.iter().map(|p| period_label(p)).collect(),
        period_names: periods
            .iter()
            .map(|p| format!("{} — {}", period_label(p), p.name))
            .collect::<Vec<_>>()
            .join(", "),
        subjects: heads,
        rows,
        teacher: ix.class_teacher(class),
        attendance_periods: attendance_periods.iter().map(|p| period_label(p)).collect(),
        attendance,
    })
}

/// The sheet's font size, the width of the names' column and of a mark's column (mm): the
/// largest size at which the longest name fits on one line, two characters fit a mark's
/// column and the whole sheet fits one page; else the smallest, and the table continues
/// on another page under its repeated heading.
fn layout(names: &[&str], subjects: &[SubjectHead], periods: usize) -> (f32, f32, f32) {
    let columns = (subjects.len() * periods).max(1) as f32;
    let longest = names.iter().map(|n| text_em(n)).fold(0.0, f32::max);
    let sizes = [10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0, 5.5];
    let measure = |pt: f32| {
        let name_mm = (longest * pt * MM_PER_PT + CELL_MM + 0.5).max(25.0);
        let cell = (LANDSCAPE_MM - NUMBER_MM - name_mm) / columns;
        let fits_marks = cell >= text_em("55") * pt * MM_PER_PT + CELL_MM;
        let subject_lines = subjects
            .iter()
            .map(|s| {
                lines(
                    &s.short_name,
                    cell * periods as f32 / 1.1 - CELL_MM,
                    pt * 0.85,
                )
            })
            .max()
            .unwrap_or(1);
        let height = line_mm(pt * 0.9, 1)
            + line_mm(pt * 1.4, 1)
            + 2.5
            + line_mm(pt * 0.85, subject_lines)
            + line_mm(pt, 1)
            + 2.0 * CELL_MM
            + names.len() as f32 * (line_mm(pt, 1) + CELL_MM)
            + 2.0
            + line_mm(pt * 0.85, 2)
            + 2.0 * (8.0 + line_mm(pt, 1));
        (name_mm, cell, fits_marks && height <= LANDSCAPE_HEIGHT_MM)
    };
    let pt = sizes
        .into_iter()
        .find(|&pt| measure(pt).2)
        .unwrap_or(sizes[sizes.len() - 1]);
    let (name_mm, cell, _) = measure(pt);
    (pt, name_mm, cell)
}
