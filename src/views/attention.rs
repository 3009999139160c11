//! Who needs attention: the warnings the class teacher passes on to a pupil's family, and
//! the child's own diary shows at its top. A warning is one of:
//!
//! - a failing forecast (or teacher's period mark) in a subject: the mark is
//!   `[attention] failing_at_most` or lower, or too few marks to attest the term
//!   ([`grades::attest_needing`]); shown only in the last `last_weeks` weeks of the term;
//! - more than `unexcused_over` absences without a valid reason in the current term;
//! - absences whose reason is still not given more than `reason_within_days` days after
//!   the lesson;
//! - debts: work owed (`is_debt`) that has no mark yet.
//!
//! Only the pupil's own figures: a warning never compares with or names another child.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::{DiaryIndex, HomeworkIndex, Inputs};
use crate::config::{Attention, Grading, Language};
use crate::grades::{self, Attestation, MarkValue};
use crate::i18n::Strings;
use crate::journal::{AttendanceStatus, Class, Id, Period, Student};

/// One thing to tell a family about.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Concern {
    /// A failing mark in a term: the forecast, or the teacher's mark once final.
    Failing {
        subject: String,
        mark: String,
        teacher: bool,
        count: usize,
        average: Option<f64>,
    },
    /// Too few marks to attest the term: `count` of `needed`.
    NotEnough {
        subject: String,
        count: usize,
        needed: usize,
    },
    /// Absences without a valid reason in the current term.
    Unexcused { count: usize, period: String },
    /// Days of absences whose reason is still not given.
    NoReason { dates: Vec<NaiveDate> },
    /// Work owed: a debt without a mark.
    Debt {
        subject: String,
        date: NaiveDate,
        work_type: Option<String>,
    },
}

/// A warning as pages show it.
#[derive(Serialize, Clone, Debug)]
pub(crate) struct Warning {
    /// `failing`, `not_enough`, `unexcused`, `no_reason` or `debt`.
    pub kind: &'static str,
    /// The warning in plain words.
    pub text: String,
}

/// Whether a term's marks are judged on `today`: within its last `weeks` weeks.
pub(crate) fn in_last_weeks(term: &Period, today: NaiveDate, weeks: u32) -> bool {
    term.ends_on - Duration::days(7 * i64::from(weeks)) < today && today <= term.ends_on
}

/// Whether an absence on `date` without a reason is overdue on `today`: more than `days`
/// days have passed since the lesson.
pub(crate) fn reason_overdue(date: NaiveDate, today: NaiveDate, days: u32) -> bool {
    today - date > Duration::days(i64::from(days))
}

/// The concern a subject's attestation raises, if any: a failing mark or too few marks.
pub(crate) fn subject_concern(
    subject: &str,
    att: &Attestation,
    grading: &Grading,
    rules: &Attention,
) -> Option<Concern> {
    let failing = |value: u8| value <= rules.failing_at_most;
    match att {
        Attestation::NoMarks => None,
        Attestation::NotEnough { count, needed, .. } => Some(Concern::NotEnough {
            subject: subject.to_string(),
            count: *count,
            needed: *needed,
        }),
        Attestation::Forecast {
            average,
            mark,
            count,
        } => failing(*mark).then(|| Concern::Failing {
            subject: subject.to_string(),
            mark: mark.to_string(),
            teacher: false,
            count: *count,
            average: Some(*average),
        }),
        Attestation::Final {
            value,
            average,
            count,
        } => {
            matches!(grades::parse_value(value, grading), Some(MarkValue::Numeric(v)) if failing(v))
                .then(|| Concern::Failing {
                    subject: subject.to_string(),
                    mark: value.clone(),
                    teacher: true,
                    count: *count,
                    average: *average,
                })
        }
    }
}

/// An average as the language writes it, without trailing zeros: "2,4", "2,67", "3".
fn average_text(average: f64, language: Language) -> String {
    let s = grades::format_average(average);
    crate::i18n::decimal(
        language,
        s.trim_end_matches('0').trim_end_matches('.').to_string(),
    )
}

/// "6 пропусков": a count with the form of the word in `key` ("one|few|many").
fn counted(strings: &Strings, language: Language, n: usize, key: &str) -> String {
    let forms: Vec<&str> = strings.get(key).split('|').collect();
    let form = crate::i18n::plural_form(language, n as i64);
    let word = forms
        .get(form)
        .or(forms.last())
        .copied()
        .unwrap_or_default();
    format!("{n} {word}")
}

/// Lower-cases the first letter: "Контрольная работа" → "контрольная работа".
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Concern {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Concern::Failing { .. } => "failing",
            Concern::NotEnough { .. } => "not_enough",
            Concern::Unexcused { .. } => "unexcused",
            Concern::NoReason { .. } => "no_reason",
            Concern::Debt { .. } => "debt",
        }
    }

    /// The concern in plain words, in the site's language.
    pub(crate) fn text(&self, strings: &Strings, language: Language) -> String {
        let fill = |key: &str, pairs: &[(&str, String)]| {
            pairs
                .iter()
                .fold(strings.get(key).to_string(), |s, (k, v)| {
                    s.replace(&format!("{{{k}}}"), v)
                })
        };
        match self {
            Concern::Failing {
                subject,
                mark,
                teacher,
                count,
                average,
            } => {
                let mut figures = strings.plural(*count as i64, "marks");
                if let Some(a) = average {
                    figures = fill(
                        "attention_marks_average",
                        &[("marks", figures), ("average", average_text(*a, language))],
                    );
                }
                let key = if *teacher {
                    "attention_failing_final"
                } else {
                    "attention_failing"
                };
                fill(
                    key,
                    &[
                        ("subject", subject.clone()),
                        ("mark", mark.clone()),
                        ("figures", figures),
                    ],
                )
            }
            Concern::NotEnough {
                subject,
                count,
                needed,
            } => fill(
                "attention_not_enough",
                &[
                    ("subject", subject.clone()),
                    ("count", count.to_string()),
                    ("needed", needed.to_string()),
                ],
            ),
            Concern::Unexcused { count, period } => fill(
                "attention_unexcused",
                &[
                    (
                        "absences",
                        counted(strings, language, *count, "attention_absences"),
                    ),
                    ("period", period.clone()),
                ],
            ),
            Concern::NoReason { dates } => fill(
                "attention_no_reason",
                &[(
                    "dates",
                    dates
                        .iter()
                        .map(|d| strings.day_month(*d))
                        .collect::<Vec<_>>()
                        .join(", "),
                )],
            ),
            Concern::Debt {
                subject,
                date,
                work_type,
            } => match work_type {
                Some(w) => fill(
                    "attention_debt",
                    &[
                        ("subject", subject.clone()),
                        ("work", lower_first(w)),
                        ("date", strings.day_month(*date)),
                    ],
                ),
                None => fill(
                    "attention_debt_lesson",
                    &[
                        ("subject", subject.clone()),
                        ("date", strings.day_month(*date)),
                    ],
                ),
            },
        }
    }
}

impl Inputs<'_> {
    /// What needs attention about a pupil of `class` today, in order: subjects (by name),
    /// absences, debts (by date).
    pub(crate) fn concerns(
        &self,
        student: &Student,
        class: &Class,
        hw: &HomeworkIndex,
        ix: &DiaryIndex,
    ) -> Vec<Concern> {
        let j = self.journal;
        let rules = &self.config.attention;
        let grading = &self.config.grading;
        let today = self.today;
        if class.grade <= 1 {
            // Grade 1 gets no marks; only absences are shown.
            return self.absence_concerns(student, class, ix);
        }
        let lesson_date = |id: Id| j.lesson(id).map(|l| l.date).filter(|d| *d <= today);
        let mut out = Vec::new();
        let terms = j
            .periods
            .iter()
            .filter(|p| p.year_id == class.year_id && p.kind.is_term())
            .filter(|p| in_last_weeks(p, today, rules.last_weeks));
        for term in terms {
            // The pupil's subjects: those of the class's lessons of the term so far that
            // the pupil attends.
            let mut subjects: BTreeMap<String, Id> = BTreeMap::new();
            let subject_ids: BTreeSet<Id> = hw
                .lessons(class.id, term.starts_on, today.min(term.ends_on))
                .iter()
                .filter(|l| ix.pupils.attends(student.id, l))
                .map(|l| l.subject_id)
                .collect();
            for id in subject_ids {
                if let Some(s) = j.subject(id) {
                    subjects.insert(s.name.clone(), id);
                }
            }
            // The pupil's marks of the term so far, by subject (in the journal's order).
            let mut marks_by_subject: HashMap<Id, Vec<&crate::journal::Mark>> = HashMap::new();
            for m in ix.pupils.marks_of(student.id).iter().copied() {
                if let Some(l) = j.lesson(m.lesson_id)
                    && l.date <= today
                    && term.contains(l.date)
                {
                    marks_by_subject.entry(l.subject_id).or_default().push(m);
                }
            }
            for (name, subject_id) in subjects {
                let marks = marks_by_subject.remove(&subject_id).unwrap_or_default();
                let teacher = ix
                    .pupils
                    .period_mark(student.id, subject_id, term.id)
                    .filter(|pm| pm.is_final(term, today));
                let att = grades::attest_needing(
                    class.grade,
                    &marks,
                    &ix.weights,
                    grading,
                    teacher,
                    grading.min_marks_for(ix.hours.of(class.id, subject_id)),
                );
                out.extend(subject_concern(&name, &att, grading, rules));
            }
        }
        out.extend(self.absence_concerns(student, class, ix));
        let mut debts: Vec<(NaiveDate, Id, Concern)> = ix
            .pupils
            .marks_of(student.id)
            .iter()
            .filter(|m| m.is_debt && m.value.as_deref().is_none_or(|v| v.trim().is_empty()))
            .filter_map(|m| {
                let date = lesson_date(m.lesson_id)?;
                let l = j.lesson(m.lesson_id)?;
                Some((
                    date,
                    m.id,
                    Concern::Debt {
                        subject: j
                            .subject(l.subject_id)
                            .map(|s| s.name.clone())
                            .unwrap_or_default(),
                        date,
                        work_type: m
                            .work_type_id
                            .and_then(|w| j.work_type(w))
                            .map(|w| w.name.clone()),
                    },
                ))
            })
            .collect();
        debts.sort_by_key(|(d, id, _)| (*d, *id));
        out.extend(debts.into_iter().map(|(_, _, c)| c));
        out
    }

    /// Unexcused absences of the current term over the limit, and absences still without
    /// a reason.
    fn absence_concerns(&self, student: &Student, class: &Class, ix: &DiaryIndex) -> Vec<Concern> {
        let j = self.journal;
        let rules = &self.config.attention;
        let today = self.today;
        let mut out = Vec::new();
        let dated: Vec<(NaiveDate, AttendanceStatus)> = ix
            .pupils
            .attendance_of(student.id)
            .iter()
            .filter_map(|a| {
                let l = j.lesson(a.lesson_id)?;
                (l.date <= today).then_some((l.date, a.status))
            })
            .collect();
        if let Some(term) = self.current_term(class) {
            let count = dated
                .iter()
                .filter(|(d, s)| *s == AttendanceStatus::Unexcused && term.contains(*d))
                .count();
            if count > rules.unexcused_over {
                out.push(Concern::Unexcused {
                    count,
                    period: term.name.clone(),
                });
            }
        }
        let dates: BTreeSet<NaiveDate> = dated
            .iter()
            .filter(|(d, s)| {
                *s == AttendanceStatus::Absent
                    && reason_overdue(*d, today, rules.reason_within_days)
            })
            .map(|(d, _)| *d)
            .collect();
        if !dates.is_empty() {
            out.push(Concern::NoReason {
                dates: dates.into_iter().collect(),
            });
        }
        out
    }

    /// [`Inputs::concerns`] as the pages show them.
    pub(crate) fn warnings(
        &self,
        student: &Student,
        class: &Class,
        hw: &HomeworkIndex,
        ix: &DiaryIndex,
    ) -> Vec<Warning> {
        self.concerns(student, class, hw, ix)
            .iter()
            .map(|c| Warning {
                kind: c.kind(),
                text: c.text(self.strings, self.config.language),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::PeriodKind;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn term() -> Period {
        Period {
            id: 2,
            year_id: 1,
            kind: PeriodKind::Quarter,
            number: 2,
            name: "2 четверть".into(),
            starts_on: d("2026-11-05"),
            ends_on: d("2026-12-27"),
        }
    }

    fn strings(language: Language) -> Strings {
        let (file, text) = match language {
            Language::Ru => ("ru", include_str!("../../themes/default/i18n/ru.toml")),
            Language::En => ("en", include_str!("../../themes/default/i18n/en.toml")),
        };
        Strings::parse(language, text).unwrap_or_else(|e| panic!("{file}: {e}"))
    }

    #[test]
    fn marks_are_judged_in_the_last_weeks_of_a_term() {
        let t = term();
        // Two weeks before 27 December: from 14 December (27 − 14 = 13 is outside).
        assert!(!in_last_weeks(&t, d("2026-12-13"), 2));
        assert!(in_last_weeks(&t, d("2026-12-14"), 2));
        assert!(in_last_weeks(&t, d("2026-12-27"), 2));
        assert!(!in_last_weeks(&t, d("2026-12-28"), 2));
        assert!(!in_last_weeks(&t, d("2026-12-20"), 1));
    }

    #[test]
    fn a_reason_is_overdue_after_the_days_given() {
        // An absence on 10 December: the reason may come until 13 December.
        assert!(!reason_overdue(d("2026-12-10"), d("2026-12-13"), 3));
        assert!(reason_overdue(d("2026-12-10"), d("2026-12-14"), 3));
        assert!(reason_overdue(d("2026-12-10"), d("2026-12-11"), 0));
    }

    #[test]
    fn failing_and_too_few_marks() {
        let g = Grading::default();
        let rules = Attention::default();
        // Marks 2, 3, 2, 3, 2 (weight 1): average 12 / 5 = 2.4, forecast 2 → failing.
        let forecast = Attestation::Forecast {
            average: 2.4,
            mark: 2,
            count: 5,
        };
        let c = subject_concern("Алгебра", &forecast, &g, &rules).unwrap();
        assert_eq!(
            c.text(&strings(Language::Ru), Language::Ru),
            "Алгебра: прогноз 2 — 5 отметок, средний балл 2,4"
        );
        assert_eq!(
            c.text(&strings(Language::En), Language::En),
            "Алгебра: forecast 2 — 5 marks, average 2.4"
        );
        // A forecast of 3 is not failing; with failing_at_most = 3 it is.
        let three = Attestation::Forecast {
            average: 2.5,
            mark: 3,
            count: 4,
        };
        assert_eq!(subject_concern("Алгебра", &three, &g, &rules), None);
        let strict = Attention {
            failing_at_most: 3,
            ..Attention::default()
        };
        assert!(subject_concern("Алгебра", &three, &g, &strict).is_some());
        // The teacher's final 2 is failing; a word (н/а) is not a number.
        let final_two = Attestation::Final {
            value: "2".into(),
            average: Some(2.0),
            count: 3,
        };
        let c = subject_concern("Химия", &final_two, &g, &rules).unwrap();
        assert_eq!(
            c.text(&strings(Language::Ru), Language::Ru),
            "Химия: отметка за период 2 — 3 отметки, средний балл 2"
        );
        let word = Attestation::Final {
            value: "н/а".into(),
            average: None,
            count: 0,
        };
        assert_eq!(subject_concern("Химия", &word, &g, &rules), None);
        // One mark of three needed.
        let few = Attestation::NotEnough {
            count: 1,
            needed: 3,
            average: Some(5.0),
        };
        let c = subject_concern("История", &few, &g, &rules).unwrap();
        assert_eq!(
            c.text(&strings(Language::Ru), Language::Ru),
            "История: не хватает отметок для аттестации — 1 из 3"
        );
        assert_eq!(
            subject_concern("ИЗО", &Attestation::NoMarks, &g, &rules),
            None
        );
    }

    #[test]
    fn absences_and_debts_in_plain_words() {
        let ru = strings(Language::Ru);
        let text = |c: Concern| c.text(&ru, Language::Ru);
        assert_eq!(
            text(Concern::Unexcused {
                count: 6,
                period: "2 четверть".into()
            }),
            "6 пропусков без уважительной причины за 2 четверть"
        );
        assert_eq!(
            text(Concern::Unexcused {
                count: 4,
                period: "2 четверть".into()
            }),
            "4 пропуска без уважительной причины за 2 четверть"
        );
        assert_eq!(
            text(Concern::NoReason {
                dates: vec![d("2026-12-08"), d("2026-12-10")]
            }),
            "Не указана причина пропуска: 8 декабря, 10 декабря"
        );
        assert_eq!(
            text(Concern::Debt {
                subject: "Физика".into(),
                date: d("2026-11-12"),
                work_type: Some("Контрольная работа".into())
            }),
            "Физика: долг — контрольная работа от 12 ноября"
        );
        assert_eq!(
            text(Concern::Debt {
                subject: "Физика".into(),
                date: d("2026-11-12"),
                work_type: None
            }),
            "Физика: долг за урок 12 ноября"
        );
    }
}
