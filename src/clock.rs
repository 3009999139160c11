//! The moment a command runs for: a day and, when it matters, a time of day, in the
//! school's timezone. `--today 2026-11-23` (or `DIARY_TODAY`) builds as of the end of that
//! day; `--today "2026-11-23 16:00"` as of that minute; without it, now.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

/// A day, and the time of day when one was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Moment {
    pub date: NaiveDate,
    /// `None`: as of the end of the day.
    pub time: Option<NaiveTime>,
}

impl Moment {
    /// Now in the timezone `tz`.
    pub(crate) fn now(tz: Tz) -> Moment {
        let now = chrono::Utc::now().with_timezone(&tz).naive_local();
        Moment {
            date: now.date(),
            time: Some(now.time()),
        }
    }

    /// `given`, else now in `tz`.
    pub(crate) fn or_now(given: Option<Moment>, tz: Tz) -> Moment {
        given.unwrap_or_else(|| Moment::now(tz))
    }

    /// The date and time (23:59:59 when only a day was given).
    pub(crate) fn at(self) -> NaiveDateTime {
        self.date.and_time(
            self.time
                .unwrap_or_else(|| NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time")),
        )
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DDTHH:MM`.
    pub(crate) fn parse(text: &str) -> Result<Moment, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not a day (YYYY-MM-DD) or a moment (YYYY-MM-DD HH:MM)");
        let (day, time) = match text.split_once([' ', 'T']) {
            Some((d, t)) => (
                d,
                Some(NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad())?),
            ),
            None => (text, None),
        };
        let date = crate::journal::parse_date(day).ok_or_else(bad)?;
        Ok(Moment { date, time })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_moments() {
        let d = Moment::parse("2026-11-23").unwrap();
        assert_eq!(d.time, None);
        assert_eq!(d.at().to_string(), "2026-11-23 23:59:59");
        let m = Moment::parse("2026-11-23 16:05").unwrap();
        assert_eq!(m.at().to_string(), "2026-11-23 16:05:00");
        assert_eq!(Moment::parse("2026-11-23T16:05").unwrap(), m);
        for bad in [
            "2026-13-01",
            "2026-11-23 25:00",
            "tomorrow",
            "2026-11-23 16",
        ] {
            assert!(Moment::parse(bad).is_err(), "{bad}");
        }
    }
}
