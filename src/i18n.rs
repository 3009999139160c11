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
    /// Word forms by count: ru `[one, few, many]` ("отметка", "отметки", "отметок"),
    /// en `[one, other]`.
    #[serde(default)]
    plurals: BTreeMap<String, Vec<String>>,
}

/// The strings of one language: names for dates and the theme's UI texts.
#[derive(Debug, Clone)]
pub(crate) struct Strings {
    pub lang: &'static str,
    pub language: Language,
    months: Vec<String>,
    months_nominative: Vec<String>,
    weekdays: Vec<String>,
    weekdays_short: Vec<String>,
    /// UI texts by key, given to templates as `t`.
    pub map: BTreeMap<String, String>,
    pub plurals: BTreeMap<String, Vec<String>>,
}

impl Strings {
    pub(crate) fn parse(language: Language, text: &str) -> Result<Strings> {
        let f: File = toml::from_str(text)?;
        if f.months.len() != 12 || f.months_nominative.len() != 12 {
            bail!("months and months_nominative need 12 names each");
        }
        if f.weekdays.len() != 7 || f.weekdays_short.len() != 7 {
            bail!("weekdays and weekdays_short need 7 names each");
        }
        let forms = match language {
            Language::Ru => 3,
            Language::En => 2,
        };
        for (key, words) in &f.plurals {
            if words.len() != forms {
                bail!("[plurals] {key} needs {forms} forms, has {}", words.len());
            }
        }
        Ok(Strings {
            lang: language.code(),
            language,
            months: f.months,
            months_nominative: f.months_nominative,
            weekdays: f.weekdays,
            weekdays_short: f.weekdays_short,
            map: f.strings,
            plurals: f.plurals,
        })
    }

    pub(crate) fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map(String::as_str).unwrap_or(key)
    }

    /// "5 отметок": the count with the word form its number takes.
    pub(crate) fn plural(&self, n: i64, key: &str) -> String {
        match self.plurals.get(key) {
            Some(forms) => format!("{n} {}", forms[plural_form(self.language, n)]),
            None => format!("{n} {key}"),
        }
    }

    /// "понедельник".
    pub(crate) fn weekday_name(&self, d: NaiveDate) -> String {
        self.weekdays[d.weekday().num_days_from_monday() as usize].clone()
    }

    fn month(&self, d: NaiveDate) -> &str {
        &self.months[d.month0() as usize]
    }

    /// "23 ноября" / "23 November".
    pub(crate) fn day_month(&self, d: NaiveDate) -> String {
        let mut s = String::with_capacity(3 + self.month(d).len());
        self.push_day_month(&mut s, d);
        s
    }

    /// [`Strings::day_month`] onto `s`, without formatting machinery: a diary names the
    /// date of every mark of the year.
    fn push_day_month(&self, s: &mut String, d: NaiveDate) {
        let day = d.day();
        if day >= 10 {
            s.push(char::from(b'0' + (day / 10) as u8));
        }
        s.push(char::from(b'0' + (day % 10) as u8));
        s.push(' ');
        s.push_str(self.month(d));
    }

    /// "23 ноября 2026".
    pub(crate) fn date(&self, d: NaiveDate) -> String {
        format!("{} {}", self.day_month(d), d.year())
    }

    /// "пн, 23 ноября" / "Mon, 23 November".
    pub(crate) fn date_short_weekday(&self, d: NaiveDate) -> String {
        let weekday = &self.weekdays_short[d.weekday().num_days_from_monday() as usize];
        let mut s = String::with_capacity(weekday.len() + 5 + self.month(d).len());
        s.push_str(weekday);
        s.push_str(", ");
        self.push_day_month(&mut s, d);
        s
    }

    /// "понедельник, 23 ноября".
    pub(crate) fn date_weekday(&self, d: NaiveDate) -> String {
        format!(
            "{}, {}",
            self.weekdays[d.weekday().num_days_from_monday() as usize],
            self.day_month(d)
        )
    }

    /// "ноябрь 2026".
    pub(crate) fn month_year(&self, d: NaiveDate) -> String {
        format!(
            "{} {}",
            self.months_nominative[d.month0() as usize],
            d.year()
        )
    }

    /// A span of days: "23–29 ноября 2026", "30 ноября – 6 декабря 2026",
    /// "28 декабря 2026 – 3 января 2027".
    pub(crate) fn range(&self, a: NaiveDate, b: NaiveDate) -> String {
        if a == b {
            self.date(a)
        } else if a.year() != b.year() {
            format!("{} – {}", self.date(a), self.date(b))
        } else if a.month() != b.month() {
            format!("{} – {} {}", self.day_month(a), self.day_month(b), b.year())
        } else {
            format!("{}–{} {} {}", a.day(), b.day(), self.month(b), b.year())
        }
    }
}

/// Which word form a count takes: Russian one (1, 21, 101), few (2–4, 22–24) or many
/// (0, 5–20, 25–30, 11–14); English one or other.
/// A decimal number written with a point ("4.25") as the language writes it: "4,25" in
/// Russian, "4.25" in English.
pub(crate) fn decimal(language: Language, text: String) -> String {
    match language {
        Language::Ru => text.replace('.', ","),
        Language::En => text,
    }
}

pub(crate) fn plural_form(language: Language, n: i64) -> usize {
    let n = n.unsigned_abs();
    match language {
        Language::En => usize::from(n != 1),
        Language::Ru => {
            let (last, last_two) = (n % 10, n % 100);
            if last == 1 && last_two != 11 {
                0
            } else if (2..=4).contains(&last) && !(12..=14).contains(&last_two) {
                1
            } else {
                2
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ru() -> Strings {
        Strings::parse(Language::Ru, include_str!("../themes/default/i18n/ru.toml")).unwrap()
    }

    #[test]
    fn russian_dates() {
        let s = ru();
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(s.date_short_weekday(d), "пн, 23 ноября");
        let first = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
        assert_eq!(s.date_short_weekday(first), "вт, 1 сентября");
        assert_eq!(s.day_month(first), "1 сентября");
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
    fn russian_plurals() {
        let s = ru();
        let cases = [
            (1, "1 отметка"),
            (2, "2 отметки"),
            (4, "4 отметки"),
            (5, "5 отметок"),
            (11, "11 отметок"),
            (12, "12 отметок"),
            (14, "14 отметок"),
            (21, "21 отметка"),
            (22, "22 отметки"),
            (25, "25 отметок"),
            (101, "101 отметка"),
            (111, "111 отметок"),
            (0, "0 отметок"),
        ];
        for (n, want) in cases {
            assert_eq!(s.plural(n, "marks"), want);
        }
    }

    #[test]
    fn english_strings_parse() {
        let s =
            Strings::parse(Language::En, include_str!("../themes/default/i18n/en.toml")).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(s.date_short_weekday(d), "Mon, 23 November");
        // Both languages define the same keys.
        assert_eq!(
            s.map.keys().collect::<Vec<_>>(),
            ru().map.keys().collect::<Vec<_>>()
        );
    }
}
