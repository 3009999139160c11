//! Period report cards: one page per pupil with each subject's marks of the period, the
//! weighted average, the period mark (the teacher's, else the forecast, marked as such, else
//! "not enough marks") and the lessons missed. For the year, the term marks stand in for
//! the everyday marks.

use std::collections::BTreeSet;

use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;

use super::data::{self, Absences, Index, Teacher, text};
use super::family::Column;
use super::fit::{self, PAGE_MM, line_mm, lines, row_mm};
use crate::grades::{self, Attestation};
use crate::i18n::Strings;
use crate::journal::{AttendanceStatus, Class, Mark, Period, PeriodKind};

#[derive(Serialize)]
pub(super) struct TermMark {
    pub value: String,
    /// A forecast, not the teacher's mark.
    pub forecast: bool,
}

#[derive(Serialize)]
pub(super) struct ReportRow {
    pub subject: String,
    /// The period's marks in date order (for the year: the terms' marks).
    pub marks: Vec<String>,
    pub terms: Vec<Option<TermMark>>,
    pub average: Option<String>,
    /// `final`, `forecast`, `not_enough` or `none` (grade 1).
    pub state: &'static str,
    pub mark: Option<String>,
    /// The teacher's comment on the final mark.
    pub comment: Option<String>,
    /// On the year's card: the exam and final marks, one per column of `ReportDoc::exams`.
    pub exams: Vec<Option<String>>,
    pub count: usize,
    /// The fewest marks this subject needs.
    pub needed: usize,
    pub debts: Option<String>,
    pub lessons: usize,
    pub absent: usize,
    pub late: usize,
}

#[derive(Serialize)]
pub(super) struct Card {
    pub name: String,
    pub font: String,
    pub rows: Vec<ReportRow>,
    pub absences: Absences,
    pub forecasts: bool,
}

#[derive(Serialize)]
pub(super) struct ReportDoc {
    pub school: String,
    pub class: String,
    pub period: String,
    pub dates: String,
    pub printed: String,
    pub no_marks: bool,
    pub is_year: bool,
    pub terms: Vec<String>,
    /// On the year's card: the exams and final marks the class has, by name.
    pub exams: Vec<String>,
    pub columns: Vec<Column>,
    pub teacher: Teacher,
    pub cards: Vec<Card>,
}

/// The report cards of a class for one period.
pub(super) fn report(
    ix: &Index,
    class: &Class,
    period: &Period,
    today: NaiveDate,
) -> Result<ReportDoc> {
    let s = ix.strings;
    let no_marks = class.grade <= 1;
    let is_year = period.kind == PeriodKind::Year;
    let terms: Vec<&Period> = if is_year {
        data::terms(ix, class)
    } else {
        Vec::new()
    };
    let exams: Vec<&Period> = if is_year && !no_marks {
        data::exams_of(ix, class, ix.pupils(class.id))
    } else {
        Vec::new()
    };
    let c = |key, width| Column { key, width };
    let columns = if no_marks {
        vec![c("subject", 90.0), c("lessons", 50.0), c("absent", 50.0)]
    } else if is_year {
        let term_w = 12.0;
        let exam_w = 16.0;
        let rest = fit::WIDTH_MM - term_w * terms.len() as f32 - exam_w * exams.len() as f32;
        let mut cols = vec![c("subject", rest - 22.0 - 38.0 - 24.0)];
        cols.extend(terms.iter().map(|_| c("term", term_w)));
        cols.extend([c("average", 22.0), c("period_mark", 38.0)]);
        cols.extend(exams.iter().map(|_| c("exam", exam_w)));
        cols.push(c("absent", 24.0));
        cols
    } else {
        vec![
            c("subject", 42.0),
            c("period_marks", 64.0),
            c("average", 20.0),
            c("period_mark", 40.0),
            c("absent", 24.0),
        ]
    };
    let lessons = ix.lessons(class.id, period.starts_on, period.ends_on);
    let teacher = ix.class_teacher(class);
    let grading = &ix.config.grading;
    let mut cards = Vec::new();
    for student in ix.pupils(class.id) {
        let mine: Vec<_> = lessons
            .iter()
            .filter(|l| ix.attends(student.id, l))
            .collect();
        let marks: Vec<(&Mark, NaiveDate, i64)> = ix
            .marks_of(student.id)
            .iter()
            .filter_map(|m| {
                let l = ix.j.lesson(m.lesson_id)?;
                (l.class_id == class.id && period.contains(l.date)).then_some((
                    *m,
                    l.date,
                    l.subject_id,
                ))
            })
            .collect();
        let attendance: Vec<_> = ix
            .attendance_of(student.id)
            .iter()
            .filter_map(|a| {
                let l = ix.j.lesson(a.lesson_id)?;
                (l.class_id == class.id && period.contains(l.date)).then_some((*a, l.subject_id))
            })
            .collect();
        let subjects: BTreeSet<i64> = mine
            .iter()
            .map(|l| l.subject_id)
            .chain(marks.iter().map(|(_, _, s)| *s))
            .chain(
                ix.period_marks_of(student.id)
                    .iter()
                    .filter(|pm| pm.period_id == period.id)
                    .map(|pm| pm.subject_id),
            )
            .collect();
        let mut rows = Vec::new();
        for subject in subjects {
            let mut own: Vec<&(&Mark, NaiveDate, i64)> =
                marks.iter().filter(|(_, _, s)| *s == subject).collect();
            own.sort_by_key(|(m, d, _)| (*d, m.id));
            let list: Vec<&Mark> = own.iter().map(|(m, _, _)| *m).collect();
            let summary = grades::summarize(
                class.grade,
                &list,
                &ix.weights,
                grading,
                ix.final_mark(student.id, subject, period, today),
                grading.min_marks_for(ix.hours.of(class.id, subject)),
            );
            let att = &summary.attestation;
            let teacher = ix.final_mark(student.id, subject, period, today);
            let state = match att {
                Attestation::NoMarks => "none",
                Attestation::NotEnough { .. } => "not_enough",
                Attestation::Forecast { .. } => "forecast",
                Attestation::Final { .. } => "final",
            };
            let term_marks = terms
                .iter()
                .map(|t| {
                    let in_term: Vec<&Mark> = marks
                        .iter()
                        .filter(|(_, d, s)| *s == subject && t.contains(*d))
                        .map(|(m, _, _)| *m)
                        .collect();
                    let a = grades::attest_needing(
                        class.grade,
                        &in_term,
                        &ix.weights,
                        grading,
                        ix.final_mark(student.id, subject, t, today),
                        grading.min_marks_for(ix.hours.of(class.id, subject)),
                    );
                    a.mark().map(|value| TermMark {
                        value,
                        forecast: matches!(a, Attestation::Forecast { .. }),
                    })
                })
                .collect();
            let absences = attendance.iter().filter(|(_, s)| *s == subject);
            rows.push(ReportRow {
                subject: ix.subject_name(subject),
                marks: if is_year {
                    Vec::new()
                } else {
                    list.iter()
                        .filter_map(|m| m.value.as_deref().map(str::to_string))
                        .collect()
                },
                terms: term_marks,
                average: att.average().map(grades::format_average),
                state,
                mark: att.mark(),
                comment: teacher
                    .and_then(|pm| text(&pm.comment))
                    .filter(|_| state == "final"),
                exams: exams
                    .iter()
                    .map(|e| {
                        ix.final_mark(student.id, subject, e, today)
                            .map(|pm| pm.value.trim().to_string())
                    })
                    .collect(),
                count: att.count(),
                needed: match att {
                    Attestation::NotEnough { needed, .. } => *needed,
                    _ => grading.min_marks,
                },
                debts: (summary.open_debts > 0)
                    .then(|| s.plural(summary.open_debts as i64, "debts")),
                lessons: mine
                    .iter()
                    .filter(|l| l.subject_id == subject && !l.cancelled)
                    .count(),
                absent: absences
                    .clone()
                    .filter(|(a, _)| a.status != AttendanceStatus::Late)
                    .count(),
                late: absences
                    .filter(|(a, _)| a.status == AttendanceStatus::Late)
                    .count(),
            });
        }
        let mut card = Card {
            name: student.full_name(),
            font: String::new(),
            forecasts: rows
                .iter()
                .any(|r| r.state == "forecast" || r.terms.iter().flatten().any(|t| t.forecast)),
            rows,
            absences: ix.absence_totals(attendance.iter().map(|(a, _)| *a)),
        };
        fit_card(&mut card, &columns, s, if is_year { 2 } else { 1 });
        cards.push(card);
    }
    Ok(ReportDoc {
        school: ix.j.school.name.clone(),
        class: class.name.clone(),
        period: period.name.clone(),
        dates: s.range(period.starts_on, period.ends_on),
        printed: s.date(today),
        no_marks,
        is_year,
        terms: terms.iter().map(|t| t.number.to_string()).collect(),
        exams: exams.iter().map(|e| e.name.clone()).collect(),
        columns,
        teacher,
        cards,
    })
}

fn card_mm(pt: f32, card: &Card, cols: &[Column], s: &Strings, heading_rows: usize) -> f32 {
    let w = |key: &str| cols.iter().find(|c| c.key == key).map_or(0.0, |c| c.width);
    let headings: Vec<(String, f32)> = cols
        .iter()
        .map(|c| match c.key {
            "term" | "exam" => ("4".to_string(), c.width),
            key => (s.get(&format!("print_col_{key}")).to_string(), c.width),
        })
        .collect();
    // The heading, the table's heading rows, the absences, the forecast note, the class
    // teacher and two signature lines.
    let mut h = line_mm(pt * 0.9, 2) + line_mm(pt * 1.4, 1) + 2.5;
    h += heading_rows as f32 * fit::heading_row_mm(pt, &headings);
    let abs = format!(
        "{}: {} {} ({}); {}: {}",
        s.get("print_absences"),
        s.get("print_absent_total"),
        card.absences.absent_text,
        card.absences.reasons,
        s.get("print_late_total"),
        card.absences.late
    );
    h += 2.0 + line_mm(pt, lines(&abs, fit::WIDTH_MM, pt));
    h += 2.0
        + line_mm(
            pt * 0.85,
            lines(s.get("print_forecast_note"), fit::WIDTH_MM, pt * 0.85),
        );
    h += 2.0 + line_mm(pt, 2);
    h += 2.0 * (8.0 + line_mm(pt, 2));
    for r in &card.rows {
        let marks = r.marks.join(" ");
        let mut mark = match r.state {
            "forecast" => format!(
                "{} ({})",
                r.mark.as_deref().unwrap_or(""),
                s.get("print_forecast")
            ),
            "not_enough" => format!(
                "{} ({} {} 10)",
                s.get("print_not_enough"),
                r.count,
                s.get("print_of")
            ),
            _ => r.mark.clone().unwrap_or_default(),
        };
        if let Some(c) = &r.comment {
            mark.push_str(&format!("\n«{c}»"));
        }
        if let Some(d) = &r.debts {
            mark.push_str(&format!("\n{}: {d}", s.get("print_debts")));
        }
        h += row_mm(
            pt,
            &[
                (&r.subject, w("subject"), 1.0),
                (&marks, w("period_marks"), 1.0),
                (&mark, w("period_mark").max(w("year_mark")), 1.0),
            ],
        );
    }
    h
}

fn fit_card(card: &mut Card, cols: &[Column], s: &Strings, heading_rows: usize) {
    let pt = fit::largest_fitting(PAGE_MM, |pt| card_mm(pt, card, cols, s, heading_rows))
        .unwrap_or(fit::SIZES[fit::SIZES.len() - 1]);
    card.font = format!("{pt}");
}
