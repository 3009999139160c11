//! Turning a OneRoster result into a journal mark: a value on the site's scale, or a word,
//! and whether it is a debt. The rules are in docs/import-oneroster.md ("Results → marks").

use crate::config::{Grading, OneRosterImport};

use super::records::{Outcome, ScoreScale};

/// The site's scale and the import's conversion settings.
pub(super) struct Converter<'a> {
    pub grading: &'a Grading,
    pub settings: &'a OneRosterImport,
}

/// What a result becomes: `(value, is_debt)`; `Err` is the reason it is skipped.
pub(super) type Converted = Result<(Option<String>, bool), String>;

impl Converter<'_> {
    /// The mark for a share of the line item's range, `percent` in 0..=100.
    pub(super) fn mark_for_percent(&self, percent: f64) -> String {
        let g = self.grading;
        let t = &self.settings.thresholds;
        if t.is_empty() {
            let span = f64::from(g.max - g.min);
            let steps = (percent / 100.0 * span + 0.5 + 1e-9)
                .floor()
                .clamp(0.0, span);
            return (f64::from(g.min) + steps).to_string();
        }
        t.iter()
            .filter_map(|(mark, from)| Some((mark.parse::<u8>().ok()?, *from)))
            .filter(|(_, from)| percent + 1e-9 >= *from)
            .map(|(mark, _)| mark)
            .max()
            .unwrap_or(g.min)
            .to_string()
    }

    /// `text` as a mark of the scale or a word of `non_numeric` (in the list's spelling).
    pub(super) fn as_mark(&self, text: &str) -> Option<String> {
        let t = text.trim();
        let g = self.grading;
        if let Ok(v) = t.parse::<u8>()
            && v >= g.min
            && v <= g.max
            && v.to_string() == t
        {
            return Some(t.to_string());
        }
        g.non_numeric
            .iter()
            .find(|w| {
                w.trim().eq_ignore_ascii_case(t) || w.trim().to_lowercase() == t.to_lowercase()
            })
            .map(|w| w.trim().to_string())
    }

    /// The word an `exempt` result becomes.
    fn exempt(&self) -> Option<String> {
        match &self.settings.exempt {
            Some(w) => self.as_mark(w),
            None => self.as_mark("осв"),
        }
    }

    /// Converts one result of a line item whose range is `min..max`, with the score scales
    /// that apply to it (first match wins).
    pub(super) fn convert(
        &self,
        r: &Outcome,
        min: Option<f64>,
        max: Option<f64>,
        scales: &[&ScoreScale],
    ) -> Converted {
        if r.status == Some("exempt") {
            return match self.exempt() {
                Some(w) => Ok((Some(w), false)),
                None => Err(
                    "scoreStatus exempt: set [import.oneroster] exempt to a word of \
                             [grading] non_numeric"
                        .into(),
                ),
            };
        }
        if r.missing {
            // Work not handed in: a debt, whatever placeholder score the export carries.
            return Ok((None, true));
        }
        let debt = r.late || r.incomplete;
        let value = match (r.score, r.text) {
            (Some(score), _) => Some(self.mark_of_score(score, min, max)?),
            (None, Some(text)) => Some(self.mark_of_text(text, min, max, scales)?),
            (None, None) => None,
        };
        match (value, debt) {
            (Some(v), _) => Ok((Some(v), debt)),
            (None, true) => Ok((None, true)),
            (None, false) => Err(match r.status {
                Some("not submitted") => "not submitted, and not flagged missing".into(),
                _ => "no score and no textScore yet".into(),
            }),
        }
    }

    fn mark_of_score(
        &self,
        score: f64,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Result<String, String> {
        let Some(max) = max else {
            return Err("its line item has no resultValueMax to place the score in".into());
        };
        let min = min.unwrap_or(0.0);
        if max <= min {
            return Err(format!("its line item's range {min}..{max} is empty"));
        }
        let percent = ((score - min) / (max - min) * 100.0).clamp(0.0, 100.0);
        Ok(self.mark_for_percent(percent))
    }

    fn mark_of_text(
        &self,
        text: &str,
        min: Option<f64>,
        max: Option<f64>,
        scales: &[&ScoreScale],
    ) -> Result<String, String> {
        let t = text.trim();
        let table = &self.settings.text_scores;
        if let Some(v) = table.get(t).or_else(|| {
            table
                .iter()
                .find(|(k, _)| k.trim().to_lowercase() == t.to_lowercase())
                .map(|(_, v)| v)
        }) {
            return self
                .as_mark(v)
                .ok_or_else(|| format!("[import.oneroster.text_scores] {t:?} = {v:?} is no mark"));
        }
        if let Some(v) = self.as_mark(t) {
            return Ok(v);
        }
        for scale in scales {
            for (lhs, rhs) in &scale.values {
                let other = if lhs.trim().to_lowercase() == t.to_lowercase() {
                    rhs
                } else if rhs.trim().to_lowercase() == t.to_lowercase() {
                    lhs
                } else {
                    continue;
                };
                if let Some(v) = self.as_mark(other) {
                    return Ok(v);
                }
                if let Some(score) = number_or_middle(other) {
                    return self.mark_of_score(score, min, max);
                }
            }
        }
        Err(format!(
            "textScore '{t}' is not a mark of the scale, and neither \
             [import.oneroster.text_scores] nor a score scale converts it"
        ))
    }
}

/// `85` → 85; a range `80-89` → its middle, 84.5.
fn number_or_middle(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n).filter(|n| n.is_finite());
    }
    let (a, b) = s.split_once(['-', '–'])?;
    let (a, b) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
    Some((a + b) / 2.0).filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn outcome() -> Outcome<'static> {
        Outcome {
            line_item: "li",
            student: "s",
            status: Some("fully graded"),
            score: None,
            text: None,
            comment: None,
            late: false,
            missing: false,
            incomplete: false,
            scale: None,
            score_date: None,
        }
    }

    #[test]
    fn linear_and_thresholds() {
        let g = Grading::default();
        let linear = OneRosterImport::default();
        let c = Converter {
            grading: &g,
            settings: &linear,
        };
        let marks: Vec<String> = [0.0, 12.4, 12.5, 37.5, 50.0, 62.5, 87.4, 87.5, 100.0]
            .iter()
            .map(|p| c.mark_for_percent(*p))
            .collect();
        assert_eq!(marks, ["1", "1", "2", "3", "3", "4", "4", "5", "5"]);
        let settings = OneRosterImport {
            thresholds: BTreeMap::from([
                ("5".into(), 85.0),
                ("4".into(), 65.0),
                ("3".into(), 45.0),
                ("2".into(), 0.0),
            ]),
            ..Default::default()
        };
        let c = Converter {
            grading: &g,
            settings: &settings,
        };
        assert_eq!(c.mark_for_percent(84.99), "4");
        assert_eq!(c.mark_for_percent(85.0), "5");
        assert_eq!(c.mark_for_percent(10.0), "2");
        // 17/20 = 85 %.
        let r = Outcome {
            score: Some(17.0),
            ..outcome()
        };
        assert_eq!(
            c.convert(&r, Some(0.0), Some(20.0), &[]),
            Ok((Some("5".into()), false))
        );
        // Extra credit beyond the range counts as the top.
        let r = Outcome {
            score: Some(23.0),
            ..outcome()
        };
        assert_eq!(
            c.convert(&r, None, Some(20.0), &[]),
            Ok((Some("5".into()), false))
        );
    }

    #[test]
    fn flags_words_and_scales() {
        let g = Grading::default();
        let settings = OneRosterImport {
            text_scores: BTreeMap::from([("pass".into(), "зч".into())]),
            ..Default::default()
        };
        let c = Converter {
            grading: &g,
            settings: &settings,
        };
        let missing = Outcome {
            score: Some(0.0),
            missing: true,
            ..outcome()
        };
        assert_eq!(
            c.convert(&missing, Some(0.0), Some(10.0), &[]),
            Ok((None, true))
        );
        let late = Outcome {
            score: Some(10.0),
            late: true,
            ..outcome()
        };
        assert_eq!(
            c.convert(&late, Some(0.0), Some(10.0), &[]),
            Ok((Some("5".into()), true))
        );
        let exempt = Outcome {
            status: Some("exempt"),
            ..outcome()
        };
        assert_eq!(
            c.convert(&exempt, None, None, &[]),
            Ok((Some("осв".into()), false))
        );
        let pass = Outcome {
            text: Some("PASS"),
            ..outcome()
        };
        assert_eq!(
            c.convert(&pass, None, None, &[]),
            Ok((Some("зч".into()), false))
        );
        let four = Outcome {
            text: Some("4"),
            ..outcome()
        };
        assert_eq!(
            c.convert(&four, None, None, &[]),
            Ok((Some("4".into()), false))
        );
        let letters = ScoreScale {
            title: "Letters".into(),
            class: None,
            course: None,
            values: vec![("A".into(), "90-100".into()), ("F".into(), "0-59".into())],
        };
        let words = ScoreScale {
            title: "Words".into(),
            class: None,
            course: None,
            values: vec![("отлично".into(), "5".into())],
        };
        let a = Outcome {
            text: Some("a"),
            ..outcome()
        };
        assert_eq!(
            c.convert(&a, Some(0.0), Some(100.0), &[&words, &letters]),
            Ok((Some("5".into()), false))
        );
        let f = Outcome {
            text: Some("F"),
            ..outcome()
        };
        assert_eq!(
            c.convert(&f, Some(0.0), Some(100.0), &[&letters]),
            Ok((Some("2".into()), false))
        );
        let otl = Outcome {
            text: Some("Отлично"),
            ..outcome()
        };
        assert_eq!(
            c.convert(&otl, None, None, &[&words]),
            Ok((Some("5".into()), false))
        );
        let unknown = Outcome {
            text: Some("B+"),
            ..outcome()
        };
        assert!(c.convert(&unknown, None, None, &[&letters]).is_err());
        let nothing = outcome();
        assert!(c.convert(&nothing, None, Some(10.0), &[]).is_err());
        let no_max = Outcome {
            score: Some(3.0),
            ..outcome()
        };
        assert!(
            c.convert(&no_max, None, None, &[])
                .unwrap_err()
                .contains("resultValueMax")
        );
    }
}
