//! UI strings and date formatting in the site's language.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use crate::config::Language;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    months: Vec<String>,
    months_nominative: Vec<String>,
    weekdays: Vec<String>,
    weekdays_short: Vec<String>,
    strings: BTreeMap<String, String>,
}

/// The strings of one language: names for dates and the theme's UI texts.
#[derive(Debug, Clone)]
pub struct Strings {
    pub lang: &'static str,
    pub language: Language,
    months: Vec<String>,
    months_nominative: Vec<String>,
    weekdays: Vec<String>,
    weekdays_short: Vec<String>,
    /// UI texts by key, given to templates as `t`.
    pub map: BTreeMap<String, String>,
}

impl Strings {
    pub fn parse(language: Language, text: &str) -> Result<Strings> {
        let f: File = toml::from_str(text)?;
        if f.months.len() != 12 || f.months_nominative.len() != 12 {
            bail!("months and months_nominative need 12 names each");
        }
        if f.weekdays.len() != 7 || f.weekdays_short.len() != 7 {
            bail!("weekdays and weekdays_short need 7 names each");
        }
        Ok(Strings {
            lang: language.code(),
            language,
            months: f.months,
            months_nominative: f.months_nominative,
            weekdays: f.weekdays,
            weekdays_short: f.weekdays_short,
            map: f.strings,
        })
    }

    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map(String::as_str).unwrap_or(key)
    }

    fn month(&self, d: NaiveDate) -> &str {
        &self.months[d.month0() as usize]
    }

    /// "23 ноября" / "23 November".
    pub fn day_month(&self, d: NaiveDate) -> String {
        format!("{} {}", d.day(), self.month(d))
    }

    /// "23 ноября 2026".
    pub fn date(&self, d: NaiveDate) -> String {
        format!("{} {}", self.day_month(d), d.year())
    }

    /// "пн, 23 ноября" / "Mon, 23 November".
    pub fn date_short_weekday(&self, d: NaiveDate) -> String {
        format!(
            "{}, {}",
            self.weekdays_short[d.weekday().num_days_from_monday() as usize],
            self.day_month(d)
        )
    }

    /// "понедельник, 23 ноября".
    pub fn date_weekday(&self, d: NaiveDate) -> String {
        format!(
            "{}, {}",
            self.weekdays[d.weekday().num_days_from_monday() as usize],
            self.day_month(d)
        )
    }

    /// "ноябрь 2026".
    pub fn month_year(&self, d: NaiveDate) -> String {
        format!(
            "{} {}",
            self.months_nominative[d.month0() as usize],
            d.year()
        )
    }

    /// A span of days: "23–29 ноября 2026", "30 ноября – 6 декабря 2026",
    /// "28 декабря 2026 – 3 января 2027".
    pub fn range(&self, a: NaiveDate, b: NaiveDate) -> String {
        if a.year() != b.year() {
            format!("{} – {}", self.date(a), self.date(b))
        } else if a.month() != b.month() {
            format!("{} – {} {}", self.day_month(a), self.day_month(b), b.year())
        } else {
            format!("{}–{} {} {}", a.day(), b.day(), self.month(b), b.year())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ru() -> Strings {
        Strings::parse(
            Language::Ru,
            include_str!("../../themes/default/i18n/ru.toml"),
        )
        .unwrap()
    }

    #[test]
    fn russian_dates() {
        let s = ru();
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(s.date_short_weekday(d), "пн, 23 ноября");
        assert_eq!(s.date_weekday(d), "понедельник, 23 ноября");
        assert_eq!(s.month_year(d), "ноябрь 2026");
        let e = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(s.range(d, e), "23–29 ноября 2026");
        let f = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert_eq!(
            s.range(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), f),
            "30 ноября – 6 декабря 2026"
        );
    }

    #[test]
    fn english_strings_parse() {
        let s = Strings::parse(
            Language::En,
            include_str!("../../themes/default/i18n/en.toml"),
        )
        .unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(s.date_short_weekday(d), "Mon, 23 November");
        // Both languages define the same keys.
        assert_eq!(
            s.map.keys().collect::<Vec<_>>(),
            ru().map.keys().collect::<Vec<_>>()
        );
    }
}
