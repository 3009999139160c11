//! The timetable of a class: bells, the weekly plan, and how the board's week differs from
//! the plan (substitutions, cancelled, moved or extra lessons, other rooms).

use std::collections::BTreeMap;

use chrono::{Datelike, Duration};
use serde::Serialize;

use super::{ClassRef, Common, HomeworkIndex, Inputs};
use crate::journal::{Id, Lesson, TimetableEntry};

#[derive(Serialize)]
pub(crate) struct BellView {
    pub number: i64,
    pub time: String,
}

#[derive(Serialize)]
pub(crate) struct SlotView {
    pub number: i64,
    pub time: Option<String>,
    pub subject: String,
    pub group: Option<String>,
    pub teacher: Option<String>,
    pub room: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct PlanDay {
    pub weekday: String,
    pub slots: Vec<SlotView>,
}

/// One difference between the plan and the week's lessons. `kind` is one of `substitute`,
/// `cancelled`, `replaced`, `added`, `removed`, `room`; the template words it.
#[derive(Serialize)]
pub(crate) struct ChangeView {
    pub kind: &'static str,
    pub number: i64,
    pub subject: String,
    pub group: Option<String>,
    /// The planned subject (replaced), the substitute teacher, or the new room.
    pub detail: Option<String>,
    /// The planned room (room changes).
    pub was: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct ChangeDay {
    pub label: String,
    pub iso: String,
    pub changes: Vec<ChangeView>,
}

#[derive(Serialize)]
pub(crate) struct TimetablePage {
    #[serde(flatten)]
    pub common: Common,
    pub class: ClassRef,
    pub bells: Vec<BellView>,
    pub plan: Vec<PlanDay>,
    pub week_label: String,
    pub changes: Vec<ChangeDay>,
}

impl Inputs<'_> {
    pub(crate) fn timetable_page(&self, class: &ClassRef, hw: &HomeworkIndex) -> TimetablePage {
        let j = self.journal;
        let monday = self.board_monday();
        let days = i64::from(self.config.school_days);
        let last = monday + Duration::days(days - 1);
        // The plan in force during the board's week.
        let mut plan: Vec<&TimetableEntry> = self
            .class_timetable(class.id)
            .iter()
            .copied()
            .filter(|t| {
                t.starts_on.is_none_or(|s| s <= last) && t.ends_on.is_none_or(|e| e >= monday)
            })
            .collect();
        plan.sort_by_key(|t| (t.weekday, t.number, self.group_name(t.group_id), t.id));
        let plan_days = (1..=days)
            .map(|wd| PlanDay {
                weekday: self.strings.weekday_name(monday + Duration::days(wd - 1)),
                slots: plan
                    .iter()
                    .filter(|t| t.weekday == wd)
                    .map(|t| SlotView {
                        number: t.number,
                        time: self.bell_time(class.id, t.number),
                        subject: self.subject_name(t.subject_id),
                        group: self.group_name(t.group_id).map(str::to_string),
                        teacher: t
                            .teacher_id
                            .and_then(|x| j.teacher(x))
                            .map(|x| x.short_name()),
                        room: self.room_label(t.room.as_deref()),
                    })
                    .collect(),
            })
            .collect();

        let mut week: BTreeMap<chrono::NaiveDate, Vec<&Lesson>> = BTreeMap::new();
        for l in hw.lessons(class.id, monday, last) {
            week.entry(l.date).or_default().push(l);
        }
        let mut changes = Vec::new();
        for (date, mut lessons) in week {
            lessons.sort_by_key(|l| (l.number, self.group_name(l.group_id), l.id));
            let wd = i64::from(date.weekday().number_from_monday());
            let planned: Vec<&&TimetableEntry> = plan.iter().filter(|t| t.weekday == wd).collect();
            let mut day = Vec::new();
            for l in &lessons {
                let slot = planned
                    .iter()
                    .find(|t| t.number == l.number && t.group_id == l.group_id);
                let change = |kind, detail: Option<String>, was: Option<String>| ChangeView {
                    kind,
                    number: l.number,
                    subject: self.subject_name(l.subject_id),
                    group: self.group_name(l.group_id).map(str::to_string),
                    detail,
                    was,
                };
                if l.cancelled {
                    day.push(change("cancelled", None, None));
                    continue;
                }
                match slot {
                    // Without a plan there is nothing to compare with.
                    None if plan.is_empty() => {}
                    None => day.push(change("added", None, None)),
                    Some(t) if t.subject_id != l.subject_id => day.push(change(
                        "replaced",
                        Some(self.subject_name(t.subject_id)),
                        None,
                    )),
                    Some(t) => {
                        if let (Some(now), Some(was)) = (&l.room, &t.room)
                            && now != was
                        {
                            day.push(change("room", Some(now.to_string()), Some(was.to_string())));
                        }
                    }
                }
                if let Some(s) = l.substitute_teacher_id.and_then(|s| j.teacher(s)) {
                    day.push(change("substitute", Some(s.short_name()), None));
                }
            }
            for t in &planned {
                if !lessons
                    .iter()
                    .any(|l| l.number == t.number && l.group_id == t.group_id)
                {
                    day.push(ChangeView {
                        kind: "removed",
                        number: t.number,
                        subject: self.subject_name(t.subject_id),
                        group: self.group_name(t.group_id).map(str::to_string),
                        detail: None,
                        was: None,
                    });
                }
            }
            if !day.is_empty() {
                day.sort_by_key(|c| c.number);
                changes.push(ChangeDay {
                    label: self.strings.date_weekday(date),
                    iso: date.to_string(),
                    changes: day,
                });
            }
        }
        TimetablePage {
            common: self.common(),
            class: class.clone(),
            bells: j
                .bells
                .iter()
                .filter(|b| b.shift == j.shift_of(class.id))
                .map(|b| BellView {
                    number: b.number,
                    time: format!("{}–{}", b.starts_at, b.ends_at),
                })
                .collect(),
            plan: plan_days,
            week_label: self.strings.range(monday, last),
            changes,
        }
    }

    fn subject_name(&self, id: Id) -> String {
        self.journal
            .subject(id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    fn group_name(&self, id: Option<Id>) -> Option<&str> {
        id.and_then(|g| self.journal.group(g))
            .map(|g| g.name.as_str())
    }

    fn bell_time(&self, class: Id, number: i64) -> Option<String> {
        self.journal
            .bell(self.journal.shift_of(class), number)
            .map(|b| format!("{}–{}", b.starts_at, b.ends_at))
    }
}
