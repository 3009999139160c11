//! The class report for a period (успеваемость, качество, the average mark, pupils without
//! marks or with one mark, lessons and days missed by reason), subject by subject and for
//! the class; the school page, one line a class; and both as CSV for a spreadsheet.
//!
//! A pupil's mark for a subject is the teacher's period mark once it is final, else the
//! forecast from the weighted average. Успеваемость is the share of the pupils taught the
//! subject whose mark is not failing (2 or lower, or "н/а"; a pupil without a mark is not
//! counted as passing); качество the share whose mark is 4 or 5 (the scale's two highest).
//! For the class, a pupil passes when every subject passes, and is "quality" when every
//! subject is. A day counts as missed when the pupil missed every lesson of it; it goes to
//! the reason most of that day's lessons were missed for.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use chrono::NaiveDate;
use serde::Serialize;

use super::data::{self, Index, Teacher};
use crate::config::Language;
use crate::grades::{self, MarkValue};
use crate::journal::{AttendanceStatus, Class, Id, Period};

/// Lessons (and days) missed by reason.
#[derive(Serialize, Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Missed {
    /// Lessons missed, every reason.
    pub lessons: usize,
    pub ill: usize,
    pub excused: usize,
    pub unexcused: usize,
    /// Not explained yet.
    pub absent: usize,
    pub late: usize,
    /// Whole days missed.
    pub days: usize,
    pub days_ill: usize,
    pub days_excused: usize,
    pub days_unexcused: usize,
    pub days_absent: usize,
}

impl Missed {
    fn add(&mut self, o: &Missed) {
        self.lessons += o.lessons;
        self.ill += o.ill;
        self.excused += o.excused;
        self.unexcused += o.unexcused;
        self.absent += o.absent;
        self.late += o.late;
        self.days += o.days;
        self.days_ill += o.days_ill;
        self.days_excused += o.days_excused;
        self.days_unexcused += o.days_unexcused;
        self.days_absent += o.days_absent;
    }

    fn count(&mut self, status: AttendanceStatus) {
        match status {
            AttendanceStatus::Late => self.late += 1,
            s => {
                self.lessons += 1;
                match s {
                    AttendanceStatus::Ill => self.ill += 1,
                    AttendanceStatus::Excused => self.excused += 1,
                    AttendanceStatus::Unexcused => self.unexcused += 1,
                    _ => self.absent += 1,
                }
            }
        }
    }
}

/// The counts behind one line's figures (they add up from subjects to classes to the school).
#[derive(Clone, Default, Debug)]
struct Tally {
    pupils: usize,
    passing: usize,
    quality: usize,
    mark_sum: u64,
    mark_count: usize,
    no_marks: Vec<String>,
    one_mark: Vec<String>,
}

/// One line's figures as a sheet shows them.
#[derive(Serialize, Clone, Debug)]
pub(super) struct Figures {
    pub pupils: usize,
    pub passing: usize,
    pub quality: usize,
    /// Успеваемость, percent ("85,7"), or "—" without pupils.
    pub success_pct: String,
    /// Качество, percent.
    pub quality_pct: String,
    /// The average of the period marks ("4,25"), or "—".
    pub average: String,
    pub no_marks: Vec<String>,
    pub one_mark: Vec<String>,
}

#[derive(Serialize)]
pub(super) struct SubjectLine {
    pub subject: String,
    pub figures: Figures,
    pub missed: Missed,
}

#[derive(Serialize)]
pub(super) struct PupilLine {
    pub number: usize,
    pub name: String,
    pub missed: Missed,
}

#[derive(Serialize)]
pub(super) struct ClassReport {
    pub school: String,
    pub class: String,
    pub year: String,
    pub period: String,
    pub dates: String,
    pub printed: String,
    pub teacher: Teacher,
    /// Whether any pupil has a mark (or a teacher's period mark) in the period.
    pub has_marks: bool,
    pub subjects: Vec<SubjectLine>,
    pub total: Figures,
    pub missed: Missed,
    pub pupils: Vec<PupilLine>,
    #[serde(skip)]
    tally: Tally,
}

#[derive(Serialize)]
pub(super) struct ClassLine {
    pub class: String,
    pub figures: Figures,
    pub missed: Missed,
}

#[derive(Serialize)]
pub(super) struct SchoolReport {
    pub school: String,
    pub year: String,
    pub period: String,
    pub dates: String,
    pub printed: String,
    pub classes: Vec<ClassLine>,
    pub total: ClassLine,
}

/// Whether a word mark ("н/а", "незачёт") fails.
fn failing_word(word: &str) -> bool {
    let w: String = word
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    matches!(
        w.as_str(),
        "на" | "нз" | "незачет" | "незачёт" | "неуд" | "na"
    )
}

pub(super) use crate::i18n::decimal;

fn percent(part: usize, whole: usize, language: Language) -> String {
    if whole == 0 {
        return "—".into();
    }
    // Tenths, rounded half up in integers (no float surprises at .x5).
    let tenths = (part * 2000 / whole).div_ceil(2);
    decimal(language, format!("{}.{}", tenths / 10, tenths % 10))
}

fn figures(t: &Tally, language: Language) -> Figures {
    Figures {
        pupils: t.pupils,
        passing: t.passing,
        quality: t.quality,
        success_pct: percent(t.passing, t.pupils, language),
        quality_pct: percent(t.quality, t.pupils, language),
        average: if t.mark_count == 0 {
            "—".into()
        } else {
            decimal(
                language,
                grades::format_average(t.mark_sum as f64 / t.mark_count as f64),
            )
        },
        no_marks: t.no_marks.clone(),
        one_mark: t.one_mark.clone(),
    }
}

/// "Иванов Пётр": how the report names a pupil.
fn short(s: &crate::journal::Student) -> String {
    format!("{} {}", s.last_name, s.first_name)
}

/// The class report of `class` for the period `period_text` names.
pub(super) fn class_report(
    ix: &Index,
    class: &Class,
    period_text: &str,
    today: NaiveDate,
) -> Result<ClassReport> {
    let period = data::find_period(ix, class, period_text)?;
    class_report_for(ix, class, period, today)
}

fn class_report_for(
    ix: &Index,
    class: &Class,
    period: &Period,
    today: NaiveDate,
) -> Result<ClassReport> {
    let s = ix.strings;
    let lang = s.language;
    let year = data::year_of(ix.j, class)?;
    let grading = &ix.config.grading;
    let lessons: Vec<_> = ix
        .lessons(class.id, period.starts_on, period.ends_on)
        .iter()
        .filter(|l| !l.cancelled)
        .copied()
        .collect();
    let pupils = ix.pupils(class.id);
    let mut subject_ids: BTreeSet<Id> = lessons.iter().map(|l| l.subject_id).collect();
    for p in pupils {
        subject_ids.extend(
            ix.period_marks_of(p.id)
                .iter()
                .filter(|pm| pm.period_id == period.id)
                .map(|pm| pm.subject_id),
        );
    }
    subject_ids.retain(|id| ix.j.subject(*id).is_some());
    let mut subjects: Vec<Id> = subject_ids.into_iter().collect();
    subjects.sort_by_key(|id| (ix.subject_name(*id), *id));
    let at = |id: Id| subjects.iter().position(|s| *s == id);

    let mut by_subject: Vec<Tally> = vec![Tally::default(); subjects.len()];
    let mut missed_by_subject: Vec<Missed> = vec![Missed::default(); subjects.len()];
    let mut total = Tally::default();
    let mut class_missed = Missed::default();
    let mut pupil_lines = Vec::new();
    let mut has_marks = false;
    for (i, pupil) in pupils.iter().enumerate() {
        let mine: Vec<_> = lessons
            .iter()
            .filter(|l| ix.attends(pupil.id, l))
            .copied()
            .collect();
        // Marks of the period by subject.
        let mut marks: BTreeMap<Id, Vec<&crate::journal::Mark>> = BTreeMap::new();
        for m in ix.marks_of(pupil.id) {
            if let Some(l) = ix.j.lesson(m.lesson_id)
                && l.class_id == class.id
                && period.contains(l.date)
            {
                marks.entry(l.subject_id).or_default().push(*m);
            }
        }
        let mut passes_all = true;
        let mut quality_all = true;
        let mut taught_any = false;
        let mut zero_somewhere = false;
        let mut one_somewhere = false;
        for (k, &subject) in subjects.iter().enumerate() {
            let teacher = ix.final_mark(pupil.id, subject, period, today);
            let own = marks.get(&subject).map(Vec::as_slice).unwrap_or(&[]);
            let taught = mine.iter().any(|l| l.subject_id == subject)
                || !own.is_empty()
                || ix.period_mark(pupil.id, subject, period.id).is_some();
            if !taught {
                continue;
            }
            taught_any = true;
            let att = grades::attest_needing(
                class.grade,
                own,
                &ix.weights,
                grading,
                teacher,
                grading.min_marks_for(ix.hours.of(class.id, subject)),
            );
            if att.count() > 0 || teacher.is_some() {
                has_marks = true;
            }
            let t = &mut by_subject[k];
            t.pupils += 1;
            let (pass, quality) = match att.mark().and_then(|m| grades::parse_value(&m, grading)) {
                Some(MarkValue::Numeric(v)) => {
                    t.mark_sum += u64::from(v);
                    t.mark_count += 1;
                    total.mark_sum += u64::from(v);
                    total.mark_count += 1;
                    (v > 2, v >= grading.max.saturating_sub(1).max(grading.min))
                }
                Some(MarkValue::Word(w)) => (!failing_word(&w), false),
                None => (false, false),
            };
            t.passing += usize::from(pass);
            t.quality += usize::from(quality);
            passes_all &= pass;
            quality_all &= quality;
            match att.count() {
                0 => {
                    t.no_marks.push(short(pupil));
                    zero_somewhere = true;
                }
                1 => {
                    t.one_mark.push(short(pupil));
                    one_somewhere = true;
                }
                _ => {}
            }
        }
        if taught_any {
            total.pupils += 1;
            total.passing += usize::from(passes_all);
            total.quality += usize::from(quality_all);
        }
        if zero_somewhere {
            total.no_marks.push(short(pupil));
        }
        if one_somewhere {
            total.one_mark.push(short(pupil));
        }

        // Attendance: lessons by reason, by subject, and whole days.
        let mut missed = Missed::default();
        let mut by_day: BTreeMap<NaiveDate, Vec<AttendanceStatus>> = BTreeMap::new();
        for a in ix.attendance_of(pupil.id) {
            let Some(l) = ix.j.lesson(a.lesson_id) else {
                continue;
            };
            if l.class_id != class.id || !period.contains(l.date) || l.cancelled {
                continue;
            }
            missed.count(a.status);
            if let Some(k) = at(l.subject_id) {
                missed_by_subject[k].count(a.status);
            }
            if a.status != AttendanceStatus::Late {
                by_day.entry(l.date).or_default().push(a.status);
            }
        }
        for (day, statuses) in &by_day {
            let held = mine.iter().filter(|l| l.date == *day).count();
            if held == 0 || statuses.len() < held {
                continue;
            }
            missed.days += 1;
            let order = [
                AttendanceStatus::Ill,
                AttendanceStatus::Excused,
                AttendanceStatus::Unexcused,
                AttendanceStatus::Absent,
            ];
            let n = |s: AttendanceStatus| statuses.iter().filter(|x| **x == s).count();
            let most = order
                .iter()
                .copied()
                .max_by_key(|s| (n(*s), std::cmp::Reverse(order.iter().position(|o| o == s))))
                .unwrap_or(AttendanceStatus::Absent);
            match most {
                AttendanceStatus::Ill => missed.days_ill += 1,
                AttendanceStatus::Excused => missed.days_excused += 1,
                AttendanceStatus::Unexcused => missed.days_unexcused += 1,
                _ => missed.days_absent += 1,
            }
        }
        class_missed.add(&missed);
        pupil_lines.push(PupilLine {
            number: i + 1,
            name: pupil.full_name(),
            missed,
        });
    }
    Ok(ClassReport {
        school: ix.j.school.name.clone(),
        class: class.name.clone(),
        year: year.name.clone(),
        period: period.name.clone(),
        dates: s.range(period.starts_on, period.ends_on),
        printed: s.date(today),
        teacher: ix.class_teacher(class),
        has_marks,
        subjects: subjects
            .iter()
            .enumerate()
            .map(|(k, id)| SubjectLine {
                subject: ix.subject_name(*id),
                figures: figures(&by_subject[k], lang),
                missed: missed_by_subject[k],
            })
            .collect(),
        total: figures(&total, lang),
        missed: class_missed,
        pupils: pupil_lines,
        tally: total,
    })
}

/// Refuses a class report without a single mark in its period.
pub(super) fn require_marks(r: &ClassReport) -> Result<()> {
    if !r.has_marks {
        bail!(
            "class {} has no marks in {} ({}): nothing to report on (a first grade gets no \
             marks; else the teachers have not entered any yet)",
            r.class,
            r.period,
            r.dates
        );
    }
    Ok(())
}

/// The school page: one line a class and the school's total (from the pupils themselves,
/// not an average of the classes' percentages).
pub(super) fn school(ix: &Index, reports: &[ClassReport], today: NaiveDate) -> SchoolReport {
    let lang = ix.strings.language;
    let mut total = Tally::default();
    let mut missed = Missed::default();
    for r in reports {
        total.pupils += r.tally.pupils;
        total.passing += r.tally.passing;
        total.quality += r.tally.quality;
        total.mark_sum += r.tally.mark_sum;
        total.mark_count += r.tally.mark_count;
        missed.add(&r.missed);
    }
    let mut no_marks = 0;
    let mut one_mark = 0;
    for r in reports {
        no_marks += r.tally.no_marks.len();
        one_mark += r.tally.one_mark.len();
    }
    let mut fig = figures(&total, lang);
    // The school page counts pupils; it does not name them.
    fig.no_marks = vec![String::new(); no_marks];
    fig.one_mark = vec![String::new(); one_mark];
    let first = reports.first();
    SchoolReport {
        school: ix.j.school.name.clone(),
        year: first.map(|r| r.year.clone()).unwrap_or_default(),
        period: first.map(|r| r.period.clone()).unwrap_or_default(),
        dates: first.map(|r| r.dates.clone()).unwrap_or_default(),
        printed: ix.strings.date(today),
        classes: reports
            .iter()
            .map(|r| ClassLine {
                class: r.class.clone(),
                figures: r.total.clone(),
                missed: r.missed,
            })
            .collect(),
        total: ClassLine {
            class: ix.strings.get("report_school_total").to_string(),
            figures: fig,
            missed,
        },
    }
}

/// The reports as CSV: a header row, one row per class × subject, each class's total, and
/// with the school page the school's total. UTF-8 with a BOM, so that Excel reads the
/// Cyrillic right; `;` between fields in Russian (whose numbers have a decimal comma, and
/// whose Excel splits on `;`), `,` in English.
pub(super) fn csv(
    ix: &Index,
    reports: &[ClassReport],
    school: Option<&SchoolReport>,
) -> Result<Vec<u8>> {
    let s = ix.strings;
    let delimiter = match s.language {
        Language::Ru => b';',
        Language::En => b',',
    };
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(&mut out);
        let head: Vec<&str> = [
            "report_col_class",
            "print_col_subject",
            "report_col_pupils",
            "report_col_passing",
            "report_col_success",
            "report_col_quality_count",
            "report_col_quality",
            "print_col_average",
            "report_col_no_marks",
            "report_col_no_marks_names",
            "report_col_one_mark",
            "report_col_one_mark_names",
            "report_col_missed",
            "report_col_ill",
            "report_col_excused",
            "report_col_unexcused",
            "report_col_absent",
            "report_col_late",
            "report_col_days",
            "report_col_days_ill",
            "report_col_days_excused",
            "report_col_days_unexcused",
            "report_col_days_absent",
        ]
        .iter()
        .map(|k| s.get(k))
        .collect();
        w.write_record(&head)?;
        let row = |class: &str, subject: &str, f: &Figures, m: &Missed, days: bool, names: bool| {
            let mut r = vec![
                class.to_string(),
                subject.to_string(),
                f.pupils.to_string(),
                f.passing.to_string(),
                f.success_pct.clone(),
                f.quality.to_string(),
                f.quality_pct.clone(),
                f.average.clone(),
                f.no_marks.len().to_string(),
                if names {
                    f.no_marks.join(", ")
                } else {
                    String::new()
                },
                f.one_mark.len().to_string(),
                if names {
                    f.one_mark.join(", ")
                } else {
                    String::new()
                },
                m.lessons.to_string(),
                m.ill.to_string(),
                m.excused.to_string(),
                m.unexcused.to_string(),
                m.absent.to_string(),
                m.late.to_string(),
            ];
            for d in [
                m.days,
                m.days_ill,
                m.days_excused,
                m.days_unexcused,
                m.days_absent,
            ] {
                r.push(if days { d.to_string() } else { String::new() });
            }
            r
        };
        for r in reports {
            for line in &r.subjects {
                w.write_record(row(
                    &r.class,
                    &line.subject,
                    &line.figures,
                    &line.missed,
                    false,
                    true,
                ))?;
            }
            w.write_record(row(
                &r.class,
                s.get("report_class_total"),
                &r.total,
                &r.missed,
                true,
                true,
            ))?;
        }
        if let Some(sc) = school {
            w.write_record(row(
                &sc.total.class,
                "",
                &sc.total.figures,
                &sc.total.missed,
                true,
                false,
            ))?;
        }
        w.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_round_half_up_with_the_language_s_comma() {
        assert_eq!(percent(2, 3, Language::Ru), "66,7");
        assert_eq!(percent(1, 3, Language::En), "33.3");
        assert_eq!(percent(1, 8, Language::Ru), "12,5");
        assert_eq!(percent(1, 16, Language::Ru), "6,3");
        assert_eq!(percent(3, 3, Language::Ru), "100,0");
        assert_eq!(percent(0, 0, Language::Ru), "—");
    }

    #[test]
    fn failing_words() {
        assert!(failing_word("н/а") && failing_word("Н/А") && failing_word("нз"));
        assert!(failing_word("незачёт"));
        assert!(!failing_word("зч") && !failing_word("осв"));
    }

    #[test]
    fn lessons_by_reason_and_lateness() {
        let mut m = Missed::default();
        for s in [
            AttendanceStatus::Ill,
            AttendanceStatus::Absent,
            AttendanceStatus::Late,
        ] {
            m.count(s);
        }
        assert_eq!((m.lessons, m.ill, m.absent, m.late), (2, 1, 1, 1));
    }
}
