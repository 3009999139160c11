//! The demo school's year: quarters, holidays, the bell schedules of both shifts, the exam
//! session, and the school days that follow from them (Monday to Friday, not on a holiday).

use chrono::{Datelike, NaiveDate};

pub(super) const YEAR_NAME: &str = "2026/2027";
pub(super) const YEAR_START: &str = "2026-09-01";
pub(super) const YEAR_END: &str = "2027-05-26";

/// Quarters and their dates. Every weekday between two quarters is a holiday below.
pub(super) const QUARTERS: [(&str, &str, &str); 4] = [
    ("1 четверть", "2026-09-01", "2026-10-25"),
    ("2 четверть", "2026-11-05", "2026-12-27"),
    ("3 четверть", "2027-01-11", "2027-03-21"),
    ("4 четверть", "2027-03-29", "2027-05-26"),
];

/// Holidays: name, first and last day, and the one grade it is limited to.
pub(super) const HOLIDAYS: &[(&str, &str, &str, Option<u8>)] = &[
    ("Осенние каникулы", "2026-10-26", "2026-11-04", None),
    ("Зимние каникулы", "2026-12-28", "2027-01-10", None),
    (
        "Дополнительные каникулы для первоклассников",
        "2027-02-15",
        "2027-02-21",
        Some(1),
    ),
    ("День защитника Отечества", "2027-02-23", "2027-02-23", None),
    (
        "Международный женский день",
        "2027-03-08",
        "2027-03-08",
        None,
    ),
    ("Весенние каникулы", "2027-03-22", "2027-03-28", None),
    // 1 and 9 May 2027 fall on a weekend; the days off move to the Mondays after.
    ("Праздник Весны и Труда", "2027-05-03", "2027-05-03", None),
    ("День Победы", "2027-05-10", "2027-05-10", None),
];

/// The bell schedule: lesson n starts and ends at BELLS[n - 1].
pub(super) const BELLS: [(&str, &str); 8] = [
    ("08:30", "09:15"),
    ("09:25", "10:10"),
    ("10:30", "11:15"),
    ("11:35", "12:20"),
    ("12:30", "13:15"),
    ("13:25", "14:10"),
    ("14:20", "15:05"),
    ("15:15", "16:00"),
];

/// The second shift's bell schedule, for the primary classes that study in the afternoon
/// (five lessons at most): lesson n starts and ends at SECOND_SHIFT_BELLS[n - 1]. It starts
/// after the first shift's sixth lesson and ends before 19:00.
pub(super) const SECOND_SHIFT_BELLS: [(&str, &str); 5] = [
    ("14:15", "15:00"),
    ("15:10", "15:55"),
    ("16:15", "17:00"),
    ("17:10", "17:55"),
    ("18:05", "18:50"),
];

/// The state exams (ГИА: ОГЭ in grade 9, ЕГЭ in grade 11): the session's name and days
/// within the school year, and the name of the final (итоговая) mark's period.
pub(super) const EXAM_SESSION: (&str, &str, &str) = ("ГИА (ОГЭ, ЕГЭ)", "2027-05-20", YEAR_END);
pub(super) const FINAL_MARKS: &str = "Итоговая отметка";

/// Parses one of the dates above; they are constants, so a typo is a bug.
pub(super) fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a valid date in the demo calendar")
}

/// One day pupils of a grade come to school.
#[derive(Debug, Clone)]
pub(super) struct SchoolDay {
    pub date: NaiveDate,
    /// `YYYY-MM-DD`, made once for the many rows that carry it.
    pub text: String,
    /// 0 = Monday … 4 = Friday.
    pub weekday: usize,
    /// 0..4: the quarter the day is in.
    pub quarter: usize,
}

/// Is `date` a day off for pupils of `grade`?
pub(super) fn is_holiday(day: NaiveDate, grade: u8) -> bool {
    HOLIDAYS.iter().any(|&(_, from, to, only)| {
        only.is_none_or(|g| g == grade) && date(from) <= day && day <= date(to)
    })
}

/// The quarter (0..4) `date` falls in, if any.
pub(super) fn quarter_of(day: NaiveDate) -> Option<usize> {
    QUARTERS
        .iter()
        .position(|&(_, from, to)| date(from) <= day && day <= date(to))
}

/// Every school day of the year for `grade`, in order.
pub(super) fn school_days(grade: u8) -> Vec<SchoolDay> {
    let mut days = Vec::new();
    let mut d = date(YEAR_START);
    let end = date(YEAR_END);
    while d <= end {
        let weekday = d.weekday().num_days_from_monday() as usize;
        if weekday < 5
            && !is_holiday(d, grade)
            && let Some(quarter) = quarter_of(d)
        {
            days.push(SchoolDay {
                date: d,
                text: d.format("%Y-%m-%d").to_string(),
                weekday,
                quarter,
            });
        }
        d = d.succ_opt().expect("dates within the year");
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_weekday_between_quarters_is_a_holiday() {
        let mut d = date(YEAR_START);
        while d <= date(YEAR_END) {
            if d.weekday().num_days_from_monday() < 5 && quarter_of(d).is_none() {
                assert!(is_holiday(d, 5), "{d} is in no quarter and no holiday");
            }
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn first_graders_have_an_extra_week() {
        let others = school_days(5).len();
        let first = school_days(1).len();
        assert_eq!(others - first, 5);
        assert!(others > 160 && others < 175, "{others} school days");
    }
}
