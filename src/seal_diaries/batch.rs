//! Diary batches: changed diaries go out together at the times of `[access] publish_at`
//! (15:00 and 20:00 by default, the deadlines for entering marks), not at every build.
//! Between two batches every diary file stays byte for byte as it was, and at a batch where
//! anything changed every diary file is sealed anew, so someone comparing snapshots of the
//! host learns when batches happen, never which child got a mark or an absence.

use chrono::{NaiveDateTime, NaiveTime};

/// When diaries go out.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    /// Sorted times of day; empty: at every build.
    pub times: Vec<NaiveTime>,
}

impl Schedule {
    /// The batch a moment belongs to: the latest publication time at or before it, as
    /// `YYYY-MM-DDTHH:MM` (comparable as text). Empty when there are no times.
    pub(crate) fn slot(&self, moment: NaiveDateTime) -> String {
        let Some(first) = self.times.first() else {
            return String::new();
        };
        let day = moment.date();
        let at = match self
            .times
            .iter()
            .rev()
            .find(|t| day.and_time(**t) <= moment)
        {
            Some(t) => day.and_time(*t),
            None => {
                let last = self.times.last().unwrap_or(first);
                day.pred_opt().unwrap_or(day).and_time(*last)
            }
        };
        at.format("%Y-%m-%dT%H:%M").to_string()
    }

    /// The next publication time after a moment (`None` when there are no times).
    pub(crate) fn next(&self, moment: NaiveDateTime) -> Option<NaiveDateTime> {
        let first = self.times.first()?;
        let day = moment.date();
        Some(
            match self.times.iter().find(|t| day.and_time(**t) > moment) {
                Some(t) => day.and_time(*t),
                None => day.succ_opt().unwrap_or(day).and_time(*first),
            },
        )
    }

    /// Whether a build at `moment` publishes a batch, given the slot of the last batch.
    pub(crate) fn due(&self, last_batch: &str, moment: NaiveDateTime) -> bool {
        self.times.is_empty() || last_batch < self.slot(moment).as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn schedule() -> Schedule {
        Schedule {
            times: vec![
                NaiveTime::from_hms_opt(15, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            ],
        }
    }

    #[test]
    fn slots_follow_the_publication_times() {
        let s = schedule();
        assert_eq!(s.slot(at("2026-11-23 09:10")), "2026-11-22T20:00");
        assert_eq!(s.slot(at("2026-11-23 15:00")), "2026-11-23T15:00");
        assert_eq!(s.slot(at("2026-11-23 19:59")), "2026-11-23T15:00");
        assert_eq!(s.slot(at("2026-11-23 23:59")), "2026-11-23T20:00");
        assert_eq!(s.next(at("2026-11-23 16:00")), Some(at("2026-11-23 20:00")));
        assert_eq!(s.next(at("2026-11-23 20:00")), Some(at("2026-11-24 15:00")));
    }

    #[test]
    fn a_batch_is_due_once_per_slot() {
        let s = schedule();
        assert!(s.due("", at("2026-11-23 10:00")));
        assert!(!s.due("2026-11-23T15:00", at("2026-11-23 16:00")));
        assert!(s.due("2026-11-23T15:00", at("2026-11-23 20:01")));
        let always = Schedule { times: Vec::new() };
        assert!(always.due("2026-11-23T15:00", at("2026-11-23 16:00")));
    }
}
