//! Grades: how everyday marks become a period's average and its mark.
//!
//! # The rules
//!
//! In Russia each school sets its own rules for current monitoring and for attesting a
//! period (a quarter, trimester, half or the year) in a local act, usually called
//! "Положение о текущем контроле успеваемости и промежуточной аттестации" (Federal Law
//! No. 273-FZ "On Education in the Russian Federation", article 28 part 3 item 10, and
//! article 58 on interim attestation and academic debts). The common rules, and the
//! settings through which a school adjusts them (`[grading]` in `site.toml`), are:
//!
//! - **Scale.** Marks are whole numbers from `grading.min` to `grading.max` (1..5 by
//!   default; a 10-point scale works the same way). See [`parse_value`].
//! - **Words.** Some marks are words, listed in `grading.non_numeric`: "зч" (passed),
//!   "нз" (not passed), "н/а" (not attested), "осв" (exempt). They are shown in the diary
//!   but never enter an average or the count of marks.
//! - **Grade 1 gets no marks.** Teaching in the first grade is "безотметочное": only
//!   attendance and lesson topics are kept (the Ministry's letter "Контроль и оценка
//!   результатов обучения в начальной школе", 1998, No. 1561/14-15). [`attest`] gives
//!   [`Attestation::NoMarks`] for grade 1 (and anything below) whatever it is passed.
//! - **Weights.** The average is weighted ("средневзвешенный балл"): a test, a lab or a
//!   written work counts more than an oral answer. A mark's weight is, first found:
//!   the mark's own `weight`; the `[grading.weights]` entry named like its work type;
//!   the journal's `work_types.weight`; 1. See [`Weights`]. A weight that is not a
//!   positive number (0, negative) makes the mark not count. Weights only shape the
//!   average: the count of marks (for `min_marks`) counts each mark once.
//! - **Debts** ("точка", `is_debt`): work still owed. A debt with no value yet does not
//!   count; once it has a value it counts like any other mark.
//! - **Enough marks.** A period is attested only from at least `grading.min_marks`
//!   numeric marks (3 by default); with fewer, [`Attestation::NotEnough`].
//! - **Rounding.** The forecast mark follows mathematical rounding: mark `m` is given
//!   from an average of `m - 0.5` (4.5 gives 5, 4.49 gives 4). A school may set stricter
//!   thresholds in `[grading.thresholds]`, e.g. 5 from 4.6, 4 from 3.6, 3 from 2.6. The
//!   forecast is the highest mark whose threshold the average reaches, never below
//!   `grading.min`. See [`forecast`].
//! - **The teacher decides.** A mark the teacher has set for the period (`period_marks`)
//!   always wins over the forecast: [`Attestation::Final`].
//!
//! # Precision
//!
//! Averages are shown with two decimals ([`format_average`]), and the forecast is decided
//! on exactly that shown value: the average is rounded half up to hundredths, and so is
//! each threshold, and the two are compared as whole numbers of hundredths. So a page
//! never shows "4.60" next to a forecast of 4 under a 4.6 threshold, and float noise
//! (4.4999999999 from weights like 1.5) cannot flip a mark. Thresholds finer than
//! hundredths are therefore rounded to hundredths.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::config::Grading;
use crate::journal::{Id, Mark, PeriodMark, WorkType};

/// How a mark's text reads on the configured scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub(crate) enum MarkValue {
    /// A mark of the numeric scale: it enters averages.
    Numeric(u8),
    /// A configured word such as "зч", spelled as in `grading.non_numeric`: shown only.
    Word(String),
}

/// Reads a mark's text on the configured scale; `None` if it is not valid there.
///
/// Surrounding whitespace is ignored. A numeric mark is plain decimal digits without a
/// leading zero ("5", "10"), within `grading.min..=grading.max`; so "7" on a 1..5 scale,
/// "0", "05", "4.5", "+5", "5-" are all invalid. A word matches `grading.non_numeric`
/// case-insensitively ("ЗЧ" reads as "зч"), because teachers type both; it is returned
/// in the configured spelling. A number of the scale reads as a number even if the same
/// text is also listed as a word.
pub(crate) fn parse_value(text: &str, grading: &Grading) -> Option<MarkValue> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let canonical_digits =
        text.bytes().all(|b| b.is_ascii_digit()) && (text.len() == 1 || !text.starts_with('0'));
    if canonical_digits
        && let Ok(value) = text.parse::<u8>()
        && (grading.min..=grading.max).contains(&value)
    {
        return Some(MarkValue::Numeric(value));
    }
    let lower = text.to_lowercase();
    grading
        .non_numeric
        .iter()
        .find(|word| word.trim().to_lowercase() == lower)
        .map(|word| MarkValue::Word(word.trim().to_string()))
}

/// Effective weights of work types: the journal's `work_types.weight`, overridden by
/// `[grading.weights]` of `site.toml` by work-type name.
///
/// Names match after trimming, exactly if possible, else ignoring case. Build it once per
/// site build and share it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Weights {
    by_work_type: FxHashMap<Id, f64>,
}

impl Weights {
    pub(crate) fn new(work_types: &[WorkType], grading: &Grading) -> Self {
        let by_work_type = work_types
            .iter()
            .map(|wt| {
                let weight = configured_weight(&wt.name, grading).unwrap_or(wt.weight);
                (wt.id, weight)
            })
            .collect();
        Weights { by_work_type }
    }

    /// The weight of a work type; 1 for no work type or one not in the journal.
    pub(crate) fn of_work_type(&self, work_type_id: Option<Id>) -> f64 {
        work_type_id
            .and_then(|id| self.by_work_type.get(&id).copied())
            .unwrap_or(1.0)
    }

    /// The weights the school's work types carry that count, and 1, ascending, each once:
    /// what "what it takes" tries.
    pub(crate) fn used(&self) -> Vec<f64> {
        let mut used: Vec<f64> = self
            .by_work_type
            .values()
            .copied()
            .filter(|&w| counts(w))
            .chain([1.0])
            .collect();
        used.sort_by(f64::total_cmp);
        used.dedup();
        used
    }

    /// The weight a mark counts with: its own `weight` if set, else its work type's.
    pub(crate) fn of(&self, mark: &Mark) -> f64 {
        mark.weight
            .unwrap_or_else(|| self.of_work_type(mark.work_type_id))
    }
}

/// The `[grading.weights]` entry for a work-type name: exact (trimmed) match first, then
/// ignoring case.
fn configured_weight(name: &str, grading: &Grading) -> Option<f64> {
    let name = name.trim();
    grading
        .weights
        .iter()
        .find(|(key, _)| key.trim() == name)
        .or_else(|| {
            let lower = name.to_lowercase();
            grading
                .weights
                .iter()
                .find(|(key, _)| key.trim().to_lowercase() == lower)
        })
        .map(|(_, weight)| *weight)
}

/// Names in `[grading.weights]` that match no work type of the journal (likely typos),
/// for `diary check`.
pub(crate) fn unmatched_weight_names<'g>(
    work_types: &[WorkType],
    grading: &'g Grading,
) -> Vec<&'g str> {
    grading
        .weights
        .keys()
        .filter(|key| {
            let lower = key.trim().to_lowercase();
            !work_types
                .iter()
                .any(|wt| wt.name.trim().to_lowercase() == lower)
        })
        .map(String::as_str)
        .collect()
}

/// The value and weight with which a mark enters the average, or `None` if it does not
/// count: no value (an open debt, a blank), a word, a text not valid on the scale, or a
/// weight that is not a positive number.
pub(crate) fn contribution(mark: &Mark, weights: &Weights, grading: &Grading) -> Option<(u8, f64)> {
    let Some(MarkValue::Numeric(value)) = parse_value(mark.value.as_deref()?, grading) else {
        return None;
    };
    let weight = weights.of(mark);
    counts(weight).then_some((value, weight))
}

/// Whether a weight lets a mark count: a positive, finite number.
fn counts(weight: f64) -> bool {
    weight > 0.0 && weight.is_finite()
}

/// The weighted average of `(value, weight)` pairs; `None` if no pair has a positive
/// weight. Pairs whose weight is not a positive number are left out.
pub(crate) fn weighted_average(marks: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
    let (sum, total) = marks
        .into_iter()
        .filter(|&(_, weight)| counts(weight))
        .fold((0.0, 0.0), |(sum, total), (value, weight)| {
            (sum + value * weight, total + weight)
        });
    (total > 0.0).then(|| sum / total)
}

/// Tiny upward nudge, in hundredths, so that an average that is mathematically on a
/// half-hundredth but a hair below it in floating point still rounds up.
const NUDGE: f64 = 1e-6;

/// A number rounded half up to whole hundredths (4.665 → 467). NaN gives 0.
fn hundredths(x: f64) -> i64 {
    // `as` saturates for huge values and maps NaN to 0.
    (x * 100.0 + NUDGE).round() as i64
}

/// The average from which `mark` is given: `[grading.thresholds]`, else `mark - 0.5`.
pub(crate) fn threshold(mark: u8, grading: &Grading) -> f64 {
    grading
        .thresholds
        .iter()
        .find(|(key, _)| key.trim().parse::<u8>() == Ok(mark))
        .map_or(f64::from(mark) - 0.5, |(_, t)| *t)
}

/// The forecast mark for an average: the highest mark of the scale whose threshold the
/// average reaches, compared in hundredths (see the module's "Precision"); never below
/// `grading.min`, never above `grading.max`.
pub(crate) fn forecast(average: f64, grading: &Grading) -> u8 {
    let average = hundredths(average);
    (grading.min..=grading.max)
        .rev()
        .find(|&mark| hundredths(threshold(mark, grading)) <= average)
        .unwrap_or(grading.min)
}

/// An average with two decimals, rounded half up: 4.6666 → "4.67". The decimal point is
/// a dot; a template may show a comma.
pub(crate) fn format_average(average: f64) -> String {
    let h = hundredths(average);
    let sign = if h < 0 { "-" } else { "" };
    let h = h.unsigned_abs();
    format!("{sign}{}.{:02}", h / 100, h % 100)
}

/// What a pupil's page shows as the result of one subject in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Attestation {
    /// Grade 1: no marks at all (only attendance and topics).
    NoMarks,
    /// Fewer numeric marks than `min_marks`: the period cannot be attested yet.
    NotEnough {
        count: usize,
        needed: usize,
        /// The average so far, if there is at least one numeric mark.
        average: Option<f64>,
    },
    /// The mark the average gives, until the teacher sets one.
    Forecast {
        average: f64,
        mark: u8,
        count: usize,
    },
    /// The teacher's period mark, as written (a number or a word such as "н/а").
    Final {
        value: String,
        /// The average of the marks, if any, for information.
        average: Option<f64>,
        count: usize,
    },
}

impl Attestation {
    /// The weighted average of the counted marks, if there is one to show.
    pub(crate) fn average(&self) -> Option<f64> {
        match self {
            Attestation::NoMarks => None,
            Attestation::NotEnough { average, .. } | Attestation::Final { average, .. } => *average,
            Attestation::Forecast { average, .. } => Some(*average),
        }
    }

    /// The period's mark to show: the teacher's, else the forecast.
    pub(crate) fn mark(&self) -> Option<String> {
        match self {
            Attestation::Final { value, .. } => Some(value.clone()),
            Attestation::Forecast { mark, .. } => Some(mark.to_string()),
            Attestation::NoMarks | Attestation::NotEnough { .. } => None,
        }
    }

    /// The number of marks that entered the average.
    pub(crate) fn count(&self) -> usize {
        match self {
            Attestation::NoMarks => 0,
            Attestation::NotEnough { count, .. }
            | Attestation::Forecast { count, .. }
            | Attestation::Final { count, .. } => *count,
        }
    }
}

/// Attests one pupil's subject in one period, needing `grading.min_marks` marks.
///
/// `grade` is the class's grade; `marks` are the pupil's marks of the subject's lessons
/// within the period (`&[Mark]` or `&[&Mark]`); `teacher_mark` is the pupil's
/// `period_marks` row for the subject and period, if any (a blank one is ignored).
#[cfg(test)]
pub(crate) fn attest<M: Borrow<Mark>>(
    grade: i64,
    marks: &[M],
    weights: &Weights,
    grading: &Grading,
    teacher_mark: Option<&PeriodMark>,
) -> Attestation {
    attest_needing(
        grade,
        marks,
        weights,
        grading,
        teacher_mark,
        grading.min_marks,
    )
}

/// Attests as [`attest`] does (there: `grading.min_marks`), with the fewest marks this
/// subject needs (`Grading::min_marks_for` its weekly hours).
pub(crate) fn attest_needing<M: Borrow<Mark>>(
    grade: i64,
    marks: &[M],
    weights: &Weights,
    grading: &Grading,
    teacher_mark: Option<&PeriodMark>,
    min_marks: usize,
) -> Attestation {
    if grade <= 1 {
        return Attestation::NoMarks;
    }
    let counted: Vec<(u8, f64)> = marks
        .iter()
        .filter_map(|mark| contribution(mark.borrow(), weights, grading))
        .collect();
    let count = counted.len();
    let average = weighted_average(counted.iter().map(|&(v, w)| (f64::from(v), w)));
    if let Some(teacher) = teacher_mark.filter(|t| !t.value.trim().is_empty()) {
        return Attestation::Final {
            value: teacher.value.trim().to_string(),
            average,
            count,
        };
    }
    match average {
        Some(average) if count >= min_marks => Attestation::Forecast {
            average,
            mark: forecast(average, grading),
            count,
        },
        _ => Attestation::NotEnough {
            count,
            needed: min_marks,
            average,
        },
    }
}

/// A pupil's subject in one period, beside the marks themselves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Summary {
    pub attestation: Attestation,
    /// Debts still owed: debt marks without a value yet (0 in grade 1).
    pub open_debts: usize,
}

/// [`attest_needing`], plus the count of open debts.
pub(crate) fn summarize<M: Borrow<Mark>>(
    grade: i64,
    marks: &[M],
    weights: &Weights,
    grading: &Grading,
    teacher_mark: Option<&PeriodMark>,
    min_marks: usize,
) -> Summary {
    let attestation = attest_needing(grade, marks, weights, grading, teacher_mark, min_marks);
    let open_debts = if attestation == Attestation::NoMarks {
        0
    } else {
        marks
            .iter()
            .map(Borrow::borrow)
            .filter(|m: &&Mark| m.is_debt && m.value.as_deref().is_none_or(|v| v.trim().is_empty()))
            .count()
    };
    Summary {
        attestation,
        open_debts,
    }
}

// ---- What it takes -------------------------------------------------------------------
//
// For one subject of the current period: where the average stands, the fewest marks of
// one kind that would lift the mark one step, and what one more low mark would do. The
// diary computes this in the browser (themes/default/static/takes.js) from the rules and
// marks the `now` chunk carries; this is the same computation, and both answer every case
// of tests/fixtures/what_it_takes.json alike.

/// The most marks of one kind tried when looking for the next mark up: beyond that the
/// diary says it would take more than this many.
pub(crate) const TAKES_CAP: u32 = 5;

/// The most ways to reach the next mark listed for one subject.
pub(crate) const TAKES_OPTIONS: usize = 4;

/// The mark "one more low mark" adds: a 2, or the scale's lowest when 2 is not on it.
const LOW_MARK: u8 = 2;

/// The rules "what it takes" goes by, as the browser gets them (JSON in the `now` chunk)
/// and as the shared fixture writes them.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct TakesRules {
    /// The scale, `[grading] min` to `max`.
    pub min: u8,
    pub max: u8,
    /// The school's own thresholds by mark ("5" = 4.6); a mark not listed is given from
    /// `mark - 0.5`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub thresholds: BTreeMap<String, f64>,
    /// The fewest numeric marks that attest the period.
    pub min_marks: usize,
    /// The weights the school's marks carry, ascending, 1 among them.
    pub weights: Vec<f64>,
    /// The most marks of one kind tried ([`TAKES_CAP`]).
    pub cap: u32,
}

impl TakesRules {
    /// The rules of `grading`, with the weights the school uses (`weights`).
    pub(crate) fn new(grading: &Grading, weights: &Weights) -> TakesRules {
        let thresholds = (grading.min..=grading.max)
            .filter(|&m| {
                grading
                    .thresholds
                    .keys()
                    .any(|key| key.trim().parse::<u8>() == Ok(m))
            })
            .map(|m| (m.to_string(), threshold(m, grading)))
            .collect();
        TakesRules {
            min: grading.min,
            max: grading.max,
            thresholds,
            min_marks: grading.min_marks,
            weights: weights.used(),
            cap: TAKES_CAP,
        }
    }

    /// The average from which `mark` is given, in hundredths (as [`threshold`]).
    fn threshold(&self, mark: u8) -> i64 {
        hundredths(
            self.thresholds
                .get(&mark.to_string())
                .copied()
                .unwrap_or(f64::from(mark) - 0.5),
        )
    }

    /// The mark an average rounds to (as [`forecast`]).
    fn forecast(&self, average: f64) -> u8 {
        let average = hundredths(average);
        (self.min..=self.max)
            .rev()
            .find(|&mark| self.threshold(mark) <= average)
            .unwrap_or(self.min)
    }
}

/// One mark as "what it takes" reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TakenMark {
    /// A mark of the scale and the weight it counts with.
    Numeric(u8, f64),
    /// A word such as "зч": it never counts, but it tells a words-only subject.
    Word,
}

/// The fewest marks of one kind that reach the next mark up: `count` marks `value`, each
/// with `weight`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct TakesOption {
    pub count: u32,
    pub value: u8,
    pub weight: f64,
}

/// What one more low mark (weight 1) would make of the average.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct LowEffect {
    pub value: u8,
    pub average: f64,
    pub rounds_to: u8,
}

/// "What it takes" for one subject.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct Takes {
    /// Numeric marks counted.
    pub count: usize,
    /// Their weighted average; `None` without marks.
    pub average: Option<f64>,
    /// The mark the average rounds to.
    pub rounds_to: Option<u8>,
    /// Marks still needed before the period can be attested (0 when enough).
    pub needed: usize,
    /// The next mark up; `None` at the top of the scale or without marks.
    pub next: Option<u8>,
    /// The ways to reach `next`, highest value first, then lightest weight: for each value
    /// and weight the fewest marks, leaving out any way that needs as many marks or more,
    /// each as high and as heavy (at most [`TAKES_OPTIONS`]).
    pub options: Vec<TakesOption>,
    /// `next` exists but no way reaches it within `cap` marks.
    pub beyond_cap: bool,
    /// One more low mark.
    pub one_low: Option<LowEffect>,
}

/// "What it takes" for one subject's marks of the period under `rules`; `None` when the
/// subject has marks and all of them are words (nothing to average).
///
/// Averages are decided in hundredths, as [`forecast`] does. Only sets of equal marks are
/// tried (n marks of one value and one weight, n up to `rules.cap`), from the next mark up
/// to the top of the scale, with each weight the school uses.
pub(crate) fn what_it_takes(rules: &TakesRules, marks: &[TakenMark]) -> Option<Takes> {
    let numeric: Vec<(u8, f64)> = marks
        .iter()
        .filter_map(|m| match *m {
            TakenMark::Numeric(v, w) if counts(w) => Some((v, w)),
            _ => None,
        })
        .collect();
    if numeric.is_empty() && marks.contains(&TakenMark::Word) {
        return None;
    }
    let count = numeric.len();
    let needed = rules.min_marks.saturating_sub(count);
    let (sum, total) = numeric.iter().fold((0.0, 0.0), |(sum, total), &(v, w)| {
        (sum + f64::from(v) * w, total + w)
    });
    if count == 0 {
        return Some(Takes {
            count,
            average: None,
            rounds_to: None,
            needed,
            next: None,
            options: Vec::new(),
            beyond_cap: false,
            one_low: None,
        });
    }
    let average = sum / total;
    let rounds_to = rules.forecast(average);
    let next = (rounds_to < rules.max).then_some(rounds_to + 1);
    let mut found = Vec::new();
    if let Some(next) = next {
        for value in next..=rules.max {
            for &weight in rules.weights.iter().filter(|&&w| counts(w)) {
                let (mut s, mut t) = (sum, total);
                for k in 1..=rules.cap {
                    s += f64::from(value) * weight;
                    t += weight;
                    if rules.forecast(s / t) >= next {
                        found.push(TakesOption {
                            count: k,
                            value,
                            weight,
                        });
                        break;
                    }
                }
            }
        }
    }
    let mut options: Vec<TakesOption> = found
        .iter()
        .filter(|a| {
            !found.iter().any(|b| {
                b != *a && b.count <= a.count && b.value <= a.value && b.weight <= a.weight
            })
        })
        .cloned()
        .collect();
    options.sort_by(|a, b| {
        b.value
            .cmp(&a.value)
            .then(a.weight.total_cmp(&b.weight))
            .then(a.count.cmp(&b.count))
    });
    options.truncate(TAKES_OPTIONS);
    let low = if (rules.min..=rules.max).contains(&LOW_MARK) {
        LOW_MARK
    } else {
        rules.min
    };
    let low_average = (sum + f64::from(low)) / (total + 1.0);
    Some(Takes {
        count,
        average: Some(average),
        rounds_to: Some(rounds_to),
        needed,
        next,
        beyond_cap: next.is_some() && options.is_empty(),
        options,
        one_low: Some(LowEffect {
            value: low,
            average: low_average,
            rounds_to: rules.forecast(low_average),
        }),
    })
}

/// A subject's marks as the `now` chunk carries them for "what it takes": space-separated,
/// `5` (weight 1), `4*2` (weight 2), `~` (a word); open debts, blanks, texts off the scale
/// and marks that do not count are left out.
pub(crate) fn takes_marks<M: Borrow<Mark>>(
    marks: &[M],
    weights: &Weights,
    grading: &Grading,
) -> String {
    let mut out = String::new();
    for mark in marks.iter().map(Borrow::borrow) {
        let token = match contribution(mark, weights, grading) {
            Some((value, 1.0)) => value.to_string(),
            Some((value, weight)) => format!("{value}*{weight}"),
            None => match mark.value.as_deref().map(|v| parse_value(v, grading)) {
                Some(Some(MarkValue::Word(_))) => "~".to_string(),
                _ => continue,
            },
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&token);
    }
    out
}

/// Reads [`takes_marks`]' format; `None` for a token it does not know.
pub(crate) fn parse_takes_marks(text: &str) -> Option<Vec<TakenMark>> {
    text.split_whitespace()
        .map(|token| {
            if token == "~" {
                return Some(TakenMark::Word);
            }
            let (value, weight) = token.split_once('*').unwrap_or((token, "1"));
            Some(TakenMark::Numeric(
                value.parse().ok()?,
                weight.parse().ok()?,
            ))
        })
        .collect()
}

/// One case of tests/fixtures/what_it_takes.json: the rules and the marks, a list
/// (`[5, 2]` a 5 with weight 2, `"зч"` a word) or a `now` chunk's text ("5 4*2 ~").
#[derive(Debug, serde::Deserialize)]
pub(crate) struct TakesCase {
    pub rules: TakesRules,
    pub marks: serde_json::Value,
}

impl TakesCase {
    /// The case's marks; an error names a mark written neither way.
    pub(crate) fn marks(&self) -> anyhow::Result<Vec<TakenMark>> {
        if let serde_json::Value::String(text) = &self.marks {
            return parse_takes_marks(text)
                .ok_or_else(|| anyhow::anyhow!("marks {text:?}: write them as \"5 4*2 ~\""));
        }
        let serde_json::Value::Array(marks) = &self.marks else {
            anyhow::bail!("marks: write a list or a text such as \"5 4*2 ~\"");
        };
        marks
            .iter()
            .map(|m| match m {
                serde_json::Value::String(_) => Ok(TakenMark::Word),
                serde_json::Value::Array(pair) => match pair.as_slice() {
                    [value, weight] => Ok(TakenMark::Numeric(
                        value
                            .as_u64()
                            .and_then(|v| u8::try_from(v).ok())
                            .ok_or_else(|| anyhow::anyhow!("mark {m}: the value is not a mark"))?,
                        weight.as_f64().ok_or_else(|| {
                            anyhow::anyhow!("mark {m}: the weight is not a number")
                        })?,
                    )),
                    _ => anyhow::bail!("mark {m}: write [value, weight]"),
                },
                _ => anyhow::bail!("mark {m}: write [value, weight] or a word"),
            })
            .collect()
    }
}

/// "What it takes" on a case given as JSON (`{"rules": …, "marks": …}`, the input of
/// tests/fixtures/what_it_takes.json, or the marks as a `now` chunk carries them), answered
/// as JSON (`null` for a words-only subject).
pub(crate) fn what_it_takes_json(input: &str) -> anyhow::Result<String> {
    use anyhow::Context;
    let case: TakesCase =
        serde_json::from_str(input).context("reading a \"what it takes\" case")?;
    let answer = what_it_takes(&case.rules, &case.marks()?);
    Ok(serde_json::to_string(&answer)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn grading() -> Grading {
        Grading::default()
    }

    fn strict() -> Grading {
        Grading {
            thresholds: BTreeMap::from([
                ("5".to_string(), 4.6),
                ("4".to_string(), 3.6),
                ("3".to_string(), 2.6),
            ]),
            ..Grading::default()
        }
    }

    fn ten_point() -> Grading {
        Grading {
            min: 1,
            max: 10,
            ..Grading::default()
        }
    }

    fn mark(value: &str) -> Mark {
        Mark {
            id: 0,
            student_id: 1,
            lesson_id: 1,
            work_type_id: None,
            value: Some(value.into()),
            weight: None,
            comment: None,
            is_debt: false,
            entered_at: None,
        }
    }

    fn typed(value: &str, work_type_id: Id) -> Mark {
        Mark {
            work_type_id: Some(work_type_id),
            ..mark(value)
        }
    }

    fn marks(values: &[&str]) -> Vec<Mark> {
        values.iter().map(|v| mark(v)).collect()
    }

    fn period_mark(value: &str) -> PeriodMark {
        PeriodMark {
            student_id: 1,
            subject_id: 1,
            period_id: 1,
            value: value.into(),
            comment: None,
            set_on: None,
        }
    }

    fn work_types() -> Vec<WorkType> {
        vec![
            WorkType {
                id: 1,
                name: "Ответ на уроке".into(),
                weight: 1.0,
            },
            WorkType {
                id: 2,
                name: "Контрольная работа".into(),
                weight: 2.0,
            },
            WorkType {
                id: 3,
                name: "Лабораторная работа".into(),
                weight: 1.5,
            },
        ]
    }

    fn average_of(ms: &[Mark], weights: &Weights, grading: &Grading) -> Option<f64> {
        weighted_average(
            ms.iter()
                .filter_map(|m| contribution(m, weights, grading))
                .map(|(v, w)| (f64::from(v), w)),
        )
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    // --- parse_value ---

    #[test]
    fn parse_accepts_the_scale_and_trims() {
        let g = grading();
        for v in 1..=5u8 {
            assert_eq!(parse_value(&v.to_string(), &g), Some(MarkValue::Numeric(v)));
        }
        assert_eq!(parse_value("  4\t", &g), Some(MarkValue::Numeric(4)));
    }

    #[test]
    fn parse_rejects_what_is_not_on_the_scale() {
        let g = grading();
        for bad in [
            "7", "0", "4.5", "4,5", "abc", "", "  ", "05", "+5", "-1", "5-", "256",
        ] {
            assert_eq!(parse_value(bad, &g), None, "{bad:?} was accepted");
        }
    }

    #[test]
    fn parse_accepts_configured_words_ignoring_case() {
        let g = grading();
        for word in ["зч", "нз", "н/а", "осв"] {
            assert_eq!(parse_value(word, &g), Some(MarkValue::Word(word.into())));
        }
        assert_eq!(parse_value(" ЗЧ ", &g), Some(MarkValue::Word("зч".into())));
        assert_eq!(parse_value("Н/А", &g), Some(MarkValue::Word("н/а".into())));
        assert_eq!(parse_value("зачёт", &g), None);
        let none = Grading {
            non_numeric: vec![],
            ..grading()
        };
        assert_eq!(parse_value("зч", &none), None);
    }

    #[test]
    fn parse_on_a_ten_point_scale() {
        let g = ten_point();
        assert_eq!(parse_value("10", &g), Some(MarkValue::Numeric(10)));
        assert_eq!(parse_value("7", &g), Some(MarkValue::Numeric(7)));
        assert_eq!(parse_value("11", &g), None);
        assert_eq!(parse_value("0", &g), None);
    }

    // --- rounding ---

    #[test]
    fn default_rounding_is_mathematical() {
        let g = grading();
        assert_eq!(forecast(4.5, &g), 5);
        assert_eq!(forecast(4.49, &g), 4);
        assert_eq!(forecast(2.5, &g), 3);
        assert_eq!(forecast(2.49, &g), 2);
        assert_eq!(forecast(5.0, &g), 5);
        assert_eq!(forecast(1.0, &g), 1);
        assert_eq!(forecast(14.0 / 3.0, &g), 5);
        assert_eq!(threshold(5, &g), 4.5);
    }

    #[test]
    fn custom_thresholds() {
        let g = strict();
        assert_eq!(forecast(4.55, &g), 4);
        assert_eq!(forecast(4.6, &g), 5);
        assert_eq!(forecast(3.59, &g), 3);
        assert_eq!(forecast(3.6, &g), 4);
        assert_eq!(forecast(2.6, &g), 3);
        assert_eq!(forecast(2.5, &g), 2);
        // Marks without a threshold keep m - 0.5: 2 from 1.5.
        assert_eq!(forecast(1.5, &g), 2);
        assert_eq!(forecast(1.49, &g), 1);
        // 5, 5, 4, 5, 4 → 4.6 exactly.
        let avg = average_of(&marks(&["5", "5", "4", "5", "4"]), &Weights::default(), &g);
        assert_eq!(forecast(avg.unwrap(), &g), 5);
    }

    #[test]
    fn the_forecast_agrees_with_the_shown_average() {
        let g = strict();
        // 4.596 shows as "4.60", so it gives 5 under a 4.6 threshold.
        assert_eq!(format_average(4.596), "4.60");
        assert_eq!(forecast(4.596, &g), 5);
        assert_eq!(format_average(4.594), "4.59");
        assert_eq!(forecast(4.594, &g), 4);
    }

    #[test]
    fn float_noise_does_not_flip_a_mark() {
        let g = grading();
        assert_eq!(forecast(4.499_999_999_9, &g), 5);
        // Averages that are 4.5 exactly on paper, computed through fractional weights.
        let avg = weighted_average([(5.0, 0.1), (4.0, 0.1)]).unwrap();
        assert_eq!(forecast(avg, &g), 5);
        let avg = weighted_average([(5.0, 1.5), (4.0, 1.5)]).unwrap();
        assert_eq!(forecast(avg, &g), 5);
        let avg = weighted_average([(5.0, 0.7), (4.0, 0.7), (5.0, 0.3), (4.0, 0.3)]).unwrap();
        assert_eq!(forecast(avg, &g), 5);
    }

    #[test]
    fn a_ten_point_scale_works() {
        let g = ten_point();
        assert_eq!(forecast(9.5, &g), 10);
        assert_eq!(forecast(9.49, &g), 9);
        assert_eq!(forecast(0.2, &g), 1);
        let ms = marks(&["10", "9", "7"]);
        let a = attest(5, &ms, &Weights::default(), &g, None);
        assert_eq!(a.mark().as_deref(), Some("9"));
        assert_eq!(format_average(a.average().unwrap()), "8.67");
    }

    // --- averages and weights ---

    #[test]
    fn plain_average() {
        let g = grading();
        let avg = average_of(&marks(&["5", "4", "5"]), &Weights::default(), &g).unwrap();
        assert!(close(avg, 14.0 / 3.0));
        assert_eq!(format_average(avg), "4.67");
        assert_eq!(weighted_average([]), None);
        assert_eq!(weighted_average([(5.0, 0.0)]), None);
    }

    #[test]
    fn a_control_work_of_weight_two_counts_twice() {
        let g = grading();
        let w = Weights::new(&work_types(), &g);
        let weighted = average_of(&[typed("2", 2), mark("5")], &w, &g).unwrap();
        let doubled = average_of(&marks(&["2", "2", "5"]), &w, &g).unwrap();
        assert!(close(weighted, doubled));
        assert!(close(weighted, 3.0));
        assert_eq!(w.of(&typed("5", 3)), 1.5);
        assert_eq!(w.of(&mark("5")), 1.0);
        // A work type the journal does not have weighs 1.
        assert_eq!(w.of(&typed("5", 99)), 1.0);
    }

    #[test]
    fn a_marks_own_weight_overrides_its_work_type() {
        let g = grading();
        let w = Weights::new(&work_types(), &g);
        let own = Mark {
            weight: Some(3.0),
            ..typed("5", 2)
        };
        assert_eq!(w.of(&own), 3.0);
        let avg = average_of(&[own, mark("1")], &w, &g).unwrap();
        assert!(close(avg, 4.0));
    }

    #[test]
    fn site_weights_override_the_journal_by_name() {
        let g = Grading {
            weights: BTreeMap::from([
                ("Контрольная работа".to_string(), 3.0),
                ("лабораторная РАБОТА".to_string(), 2.5),
                ("Зачёт".to_string(), 2.0),
            ]),
            ..grading()
        };
        let w = Weights::new(&work_types(), &g);
        assert_eq!(w.of(&typed("5", 1)), 1.0);
        assert_eq!(w.of(&typed("5", 2)), 3.0);
        assert_eq!(w.of(&typed("5", 3)), 2.5);
        // The mark's own weight still wins.
        let own = Mark {
            weight: Some(0.5),
            ..typed("5", 2)
        };
        assert_eq!(w.of(&own), 0.5);
        assert_eq!(unmatched_weight_names(&work_types(), &g), vec!["Зачёт"]);
    }

    #[test]
    fn words_blanks_and_empty_debts_do_not_count() {
        let g = grading();
        let w = Weights::default();
        let empty_debt = Mark {
            value: None,
            is_debt: true,
            ..mark("")
        };
        let blank = mark("  ");
        let ms = [
            mark("5"),
            mark("зч"),
            mark("н/а"),
            mark("осв"),
            mark("НЗ"),
            mark("7"),
            empty_debt,
            blank,
        ];
        assert_eq!(average_of(&ms, &w, &g), Some(5.0));
        let a = attest(5, &ms, &w, &g, None);
        assert_eq!(
            a,
            Attestation::NotEnough {
                count: 1,
                needed: 3,
                average: Some(5.0)
            }
        );
    }

    #[test]
    fn a_debt_with_a_value_counts() {
        let g = grading();
        let debt = Mark {
            is_debt: true,
            ..mark("3")
        };
        let ms = [debt, mark("5"), mark("4")];
        let a = attest(5, &ms, &Weights::default(), &g, None);
        assert_eq!(
            a,
            Attestation::Forecast {
                average: 4.0,
                mark: 4,
                count: 3
            }
        );
    }

    #[test]
    fn a_weight_that_is_not_positive_does_not_count() {
        let g = grading();
        let zero = Mark {
            weight: Some(0.0),
            ..mark("2")
        };
        let negative = Mark {
            weight: Some(-1.0),
            ..mark("2")
        };
        let ms = [zero, negative, mark("5"), mark("5"), mark("4")];
        let a = attest(5, &ms, &Weights::default(), &g, None);
        assert_eq!(a.count(), 3);
        assert!(close(a.average().unwrap(), 14.0 / 3.0));
    }

    // --- attest ---

    #[test]
    fn min_marks() {
        let g = grading();
        let w = Weights::default();
        let two = marks(&["5", "4"]);
        assert_eq!(
            attest(5, &two, &w, &g, None),
            Attestation::NotEnough {
                count: 2,
                needed: 3,
                average: Some(4.5)
            }
        );
        let three = marks(&["5", "4", "5"]);
        match attest(5, &three, &w, &g, None) {
            Attestation::Forecast {
                average,
                mark,
                count,
            } => {
                assert!(close(average, 14.0 / 3.0));
                assert_eq!((mark, count), (5, 3));
            }
            other => panic!("{other:?}"),
        }
        let five = Grading {
            min_marks: 5,
            ..grading()
        };
        assert!(matches!(
            attest(5, &three, &w, &five, None),
            Attestation::NotEnough {
                count: 3,
                needed: 5,
                ..
            }
        ));
        let one = Grading {
            min_marks: 1,
            ..grading()
        };
        assert!(matches!(
            attest(5, &two[..1], &w, &one, None),
            Attestation::Forecast {
                mark: 5,
                count: 1,
                ..
            }
        ));
        let none: [&Mark; 0] = [];
        assert_eq!(
            attest(5, &none, &w, &g, None),
            Attestation::NotEnough {
                count: 0,
                needed: 3,
                average: None
            }
        );
    }

    #[test]
    fn grade_one_gets_no_marks() {
        let g = grading();
        let ms = marks(&["5", "5", "5", "4"]);
        let w = Weights::default();
        assert_eq!(attest(1, &ms, &w, &g, None), Attestation::NoMarks);
        let teacher = period_mark("5");
        assert_eq!(attest(1, &ms, &w, &g, Some(&teacher)), Attestation::NoMarks);
        assert_eq!(Attestation::NoMarks.mark(), None);
        assert_eq!(Attestation::NoMarks.average(), None);
        assert!(matches!(
            attest(2, &ms, &w, &g, None),
            Attestation::Forecast { mark: 5, .. }
        ));
    }

    #[test]
    fn the_teachers_mark_wins() {
        let g = grading();
        let w = Weights::default();
        let ms = marks(&["5", "5", "5"]);
        let teacher = period_mark(" 4 ");
        let a = attest(7, &ms, &w, &g, Some(&teacher));
        assert_eq!(
            a,
            Attestation::Final {
                value: "4".into(),
                average: Some(5.0),
                count: 3
            }
        );
        assert_eq!(a.mark().as_deref(), Some("4"));
        // Also with too few marks, or none, and as a word.
        let na = period_mark("н/а");
        let none: Vec<&Mark> = vec![];
        assert_eq!(
            attest(7, &none, &w, &g, Some(&na)),
            Attestation::Final {
                value: "н/а".into(),
                average: None,
                count: 0
            }
        );
        // A blank teacher's mark is no mark.
        let blank = period_mark("  ");
        assert!(matches!(
            attest(7, &ms, &w, &g, Some(&blank)),
            Attestation::Forecast { mark: 5, .. }
        ));
    }

    #[test]
    fn attest_takes_marks_or_references() {
        let g = grading();
        let w = Weights::default();
        let owned = marks(&["5", "4", "4"]);
        let refs: Vec<&Mark> = owned.iter().collect();
        assert_eq!(
            attest(3, &owned, &w, &g, None),
            attest(3, &refs, &w, &g, None)
        );
    }

    #[test]
    fn summarize_counts_open_debts() {
        let g = grading();
        let w = Weights::default();
        let open = Mark {
            value: None,
            is_debt: true,
            ..mark("")
        };
        let closed = Mark {
            is_debt: true,
            ..mark("4")
        };
        let ms = [open.clone(), open, closed, mark("5"), mark("5")];
        let s = summarize(6, &ms, &w, &g, None, g.min_marks);
        assert_eq!(s.open_debts, 2);
        assert!(matches!(
            s.attestation,
            Attestation::Forecast {
                mark: 5,
                count: 3,
                ..
            }
        ));
        assert_eq!(summarize(1, &ms, &w, &g, None, g.min_marks).open_debts, 0);
    }

    #[test]
    fn format_average_rounds_half_up() {
        assert_eq!(format_average(14.0 / 3.0), "4.67");
        assert_eq!(format_average(4.5), "4.50");
        assert_eq!(format_average(4.665), "4.67");
        assert_eq!(format_average(4.0), "4.00");
        assert_eq!(format_average(10.0), "10.00");
        assert_eq!(format_average(0.004), "0.00");
    }

    #[test]
    fn attestation_serializes_with_a_kind() {
        let a = Attestation::Forecast {
            average: 4.5,
            mark: 5,
            count: 3,
        };
        let json = to_toml(&a);
        assert!(json.contains("kind") && json.contains("forecast"), "{json}");
    }

    /// Serializes through toml (a serde format the crate already has).
    fn to_toml<T: Serialize>(value: &T) -> String {
        toml::to_string(value).unwrap()
    }

    // --- what it takes ---

    /// Whether two answers agree, averages to 1e-9.
    fn same_takes(got: &Option<Takes>, want: &Option<Takes>) -> bool {
        let close_opt = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        };
        match (got, want) {
            (None, None) => true,
            (Some(g), Some(w)) => {
                close_opt(g.average, w.average)
                    && close_opt(
                        g.one_low.as_ref().map(|l| l.average),
                        w.one_low.as_ref().map(|l| l.average),
                    )
                    && g.one_low.as_ref().map(|l| (l.value, l.rounds_to))
                        == w.one_low.as_ref().map(|l| (l.value, l.rounds_to))
                    && (g.count, g.rounds_to, g.needed, g.next, g.beyond_cap)
                        == (w.count, w.rounds_to, w.needed, w.next, w.beyond_cap)
                    && g.options == w.options
            }
            _ => false,
        }
    }

    #[test]
    fn what_it_takes_answers_every_case_of_the_shared_fixture() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/what_it_takes.json")).unwrap();
        let cases = fixture["cases"].as_array().unwrap();
        assert!(cases.len() >= 10, "the fixture has its cases");
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let input = serde_json::json!({ "rules": case["rules"], "marks": case["marks"] });
            let got: Option<Takes> =
                serde_json::from_str(&what_it_takes_json(&input.to_string()).unwrap()).unwrap();
            let want: Option<Takes> = serde_json::from_value(case["expected"].clone()).unwrap();
            assert!(
                same_takes(&got, &want),
                "{name}: got {got:?}, want {want:?}"
            );
        }
    }

    #[test]
    fn what_it_takes_rounds_as_the_forecast_does() {
        for g in [grading(), strict(), ten_point()] {
            let rules = TakesRules::new(&g, &Weights::default());
            assert_eq!(rules.weights, vec![1.0]);
            assert_eq!(rules.cap, TAKES_CAP);
            for h in 0..=1100 {
                let average = f64::from(h) / 100.0;
                assert_eq!(rules.forecast(average), forecast(average, &g), "{average}");
            }
        }
        // Only the school's own thresholds travel, under the mark's plain name.
        let g = Grading {
            thresholds: BTreeMap::from([(" 5 ".to_string(), 4.6)]),
            ..Grading::default()
        };
        let rules = TakesRules::new(&g, &Weights::default());
        assert_eq!(rules.thresholds, BTreeMap::from([("5".to_string(), 4.6)]));
    }

    #[test]
    fn weights_in_use_are_the_work_types_and_one() {
        let g = Grading {
            weights: BTreeMap::from([("Контрольная работа".to_string(), 2.0)]),
            ..Grading::default()
        };
        let mut types = work_types();
        types.push(WorkType {
            id: 9,
            name: "Не считается".into(),
            weight: 0.0,
        });
        let w = Weights::new(&types, &g);
        let used = w.used();
        assert!(
            used.windows(2).all(|p| p[0] < p[1]),
            "ascending, once: {used:?}"
        );
        assert!(used.contains(&1.0) && used.contains(&2.0), "{used:?}");
        assert!(
            !used.contains(&0.0),
            "a weight that does not count: {used:?}"
        );
        assert_eq!(Weights::default().used(), vec![1.0]);
    }

    #[test]
    fn takes_marks_carry_what_counts_and_words() {
        let g = grading();
        let w = Weights::default();
        let heavy = Mark {
            weight: Some(2.0),
            ..mark("4")
        };
        let half = Mark {
            weight: Some(1.5),
            ..mark("3")
        };
        let zero = Mark {
            weight: Some(0.0),
            ..mark("5")
        };
        let open_debt = Mark {
            value: None,
            is_debt: true,
            ..mark("")
        };
        let ms = [
            mark("5"),
            heavy,
            half,
            zero,
            open_debt,
            mark("зч"),
            mark("7"),
            mark(" 2 "),
        ];
        let text = takes_marks(&ms, &w, &g);
        assert_eq!(text, "5 4*2 3*1.5 ~ 2");
        assert_eq!(
            parse_takes_marks(&text).unwrap(),
            vec![
                TakenMark::Numeric(5, 1.0),
                TakenMark::Numeric(4, 2.0),
                TakenMark::Numeric(3, 1.5),
                TakenMark::Word,
                TakenMark::Numeric(2, 1.0),
            ]
        );
        assert_eq!(parse_takes_marks("5 x*2"), None);
        assert_eq!(parse_takes_marks(""), Some(vec![]));
    }

    #[test]
    fn what_it_takes_json_says_what_is_wrong() {
        let rules = r#"{"min":1,"max":5,"min_marks":3,"weights":[1],"cap":5}"#;
        let bad = format!(r#"{{"rules":{rules},"marks":[[5]]}}"#);
        let err = what_it_takes_json(&bad).unwrap_err().to_string();
        assert!(err.contains("[value, weight]"), "{err}");
        let chunk = format!(r#"{{"rules":{rules},"marks":"5 4*2 ~"}}"#);
        let listed = format!(r#"{{"rules":{rules},"marks":[[5,1],[4,2],"зч"]}}"#);
        assert_eq!(
            what_it_takes_json(&chunk).unwrap(),
            what_it_takes_json(&listed).unwrap()
        );
        let bad = format!(r#"{{"rules":{rules},"marks":"5 x"}}"#);
        assert!(what_it_takes_json(&bad).is_err());
        let err = what_it_takes_json("{").unwrap_err();
        assert!(format!("{err:#}").contains("what it takes"), "{err:#}");
    }

    // --- properties ---

    /// Marks 1..=5 with weights in 0.1..10.
    fn weighted_marks() -> impl Strategy<Value = Vec<(u8, f64)>> {
        prop::collection::vec((1u8..=5, 0.1f64..10.0), 1..30)
    }

    fn as_f64(ms: &[(u8, f64)]) -> Vec<(f64, f64)> {
        ms.iter().map(|&(v, w)| (f64::from(v), w)).collect()
    }

    /// Any valid grading: a scale within 0..=12 and thresholds within it.
    fn any_grading() -> impl Strategy<Value = Grading> {
        (0u8..=10, 1u8..=12)
            .prop_filter("min below max", |(min, span)| min + span <= 12)
            .prop_flat_map(|(min, span)| {
                let max = min + span;
                let thresholds = prop::collection::btree_map(
                    (min..=max).prop_map(|m| m.to_string()),
                    f64::from(min)..=f64::from(max),
                    0..=usize::from(span) + 1,
                );
                (Just(min), Just(max), thresholds)
            })
            .prop_map(|(min, max, thresholds)| Grading {
                min,
                max,
                thresholds,
                ..Grading::default()
            })
    }

    proptest! {
        #[test]
        fn average_lies_between_the_extremes(ms in weighted_marks()) {
            let avg = weighted_average(as_f64(&ms)).unwrap();
            let lo = f64::from(ms.iter().map(|m| m.0).min().unwrap());
            let hi = f64::from(ms.iter().map(|m| m.0).max().unwrap());
            prop_assert!(lo - 1e-9 <= avg && avg <= hi + 1e-9, "{avg} not in {lo}..{hi}");
        }

        #[test]
        fn average_of_identical_values_is_the_value(
            v in 1u8..=5,
            ws in prop::collection::vec(0.1f64..10.0, 1..30),
        ) {
            let avg = weighted_average(ws.iter().map(|&w| (f64::from(v), w))).unwrap();
            prop_assert!(close(avg, f64::from(v)));
            prop_assert_eq!(forecast(avg, &grading()), v);
            prop_assert_eq!(forecast(avg, &strict()), v);
        }

        #[test]
        fn scaling_weights_leaves_the_average(ms in weighted_marks(), k in 0.01f64..100.0) {
            let avg = weighted_average(as_f64(&ms)).unwrap();
            let scaled = weighted_average(ms.iter().map(|&(v, w)| (f64::from(v), w * k)))
                .unwrap();
            prop_assert!(close(avg, scaled), "{avg} vs {scaled}");
        }

        #[test]
        fn order_does_not_change_the_average(
            (ms, shuffled) in weighted_marks()
                .prop_flat_map(|ms| (Just(ms.clone()), Just(ms).prop_shuffle())),
        ) {
            let a = weighted_average(as_f64(&ms)).unwrap();
            let b = weighted_average(as_f64(&shuffled)).unwrap();
            prop_assert!(close(a, b), "{a} vs {b}");
        }

        #[test]
        fn forecast_is_monotonic(g in any_grading(), a in -1.0f64..14.0, b in -1.0f64..14.0) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(forecast(lo, &g) <= forecast(hi, &g));
        }

        #[test]
        fn forecast_stays_on_the_scale(g in any_grading(), a in prop::num::f64::ANY) {
            let m = forecast(a, &g);
            prop_assert!(g.min <= m && m <= g.max, "{m} outside {}..{}", g.min, g.max);
        }

        #[test]
        fn whole_averages_forecast_themselves(v in 1u8..=10) {
            prop_assert_eq!(forecast(f64::from(v), &ten_point()), v);
        }

        #[test]
        fn a_mark_equal_to_the_forecast_keeps_it(
            ms in weighted_marks(),
            w in 0.1f64..10.0,
            use_strict in any::<bool>(),
        ) {
            let g = if use_strict { strict() } else { grading() };
            let before = forecast(weighted_average(as_f64(&ms)).unwrap(), &g);
            let mut more = as_f64(&ms);
            more.push((f64::from(before), w));
            let after = forecast(weighted_average(more).unwrap(), &g);
            prop_assert_eq!(before, after);
        }

        #[test]
        fn parse_reads_every_mark_of_the_scale(g in any_grading(), v in any::<u8>()) {
            let parsed = parse_value(&format!(" {v} "), &g);
            if (g.min..=g.max).contains(&v) {
                prop_assert_eq!(parsed, Some(MarkValue::Numeric(v)));
            } else {
                prop_assert_eq!(parsed, None);
            }
        }

        #[test]
        fn format_average_is_within_half_a_hundredth(a in 0.0f64..100.0) {
            let shown: f64 = format_average(a).parse().unwrap();
            prop_assert!((shown - a).abs() <= 0.005 + 1e-9, "{a} shown as {shown}");
        }

        #[test]
        fn words_and_open_debts_never_change_the_attestation(
            values in prop::collection::vec(1u8..=5, 0..10),
            extra in prop::collection::vec(
                prop::sample::select(vec!["зч", "нз", "н/а", "осв", "", "debt"]),
                0..6,
            ),
        ) {
            let g = grading();
            let w = Weights::default();
            let base: Vec<Mark> = values.iter().map(|v| mark(&v.to_string())).collect();
            let mut with_extra = base.clone();
            with_extra.extend(extra.iter().map(|&e| match e {
                "debt" => Mark { value: None, is_debt: true, ..mark("") },
                word => mark(word),
            }));
            prop_assert_eq!(attest(4, &base, &w, &g, None), attest(4, &with_extra, &w, &g, None));
        }

        #[test]
        fn a_forecast_is_the_forecast_of_its_average(values in prop::collection::vec(1u8..=5, 0..10)) {
            let g = strict();
            let ms: Vec<Mark> = values.iter().map(|v| mark(&v.to_string())).collect();
            match attest(9, &ms, &Weights::default(), &g, None) {
                Attestation::Forecast { average, mark, count } => {
                    prop_assert!(count >= g.min_marks);
                    prop_assert_eq!(count, values.len());
                    prop_assert_eq!(mark, forecast(average, &g));
                }
                Attestation::NotEnough { count, needed, .. } => {
                    prop_assert!(count < needed);
                    prop_assert_eq!(count, values.len());
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
