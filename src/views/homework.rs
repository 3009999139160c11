//! Homework boards: this week and next, day by day, lesson by lesson, and an archive of the
//! past weeks of the current term.
//!
//! A lesson's `homework` is what was set at it; it is due at `homework_due`, else at the
//! next lesson of the same subject and group. Boards show both: under each lesson what to
//! prepare for it ("к уроку") and what was set at it.

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::{ClassRef, Common, Inputs, is_web_url};
use crate::journal::{Groups, HomeworkLink, Id, Journal, Lesson, group_by};

#[derive(Serialize, Clone)]
pub(crate) struct LinkView {
    pub url: String,
    pub title: String,
}

/// Homework due at a lesson, set at an earlier one.
#[derive(Serialize, Clone)]
pub(crate) struct DueView {
    pub text: String,
    pub links: Vec<LinkView>,
    /// When it was set: "пн, 16 ноября".
    pub set_on: String,
}

#[derive(Serialize, Clone)]
pub(crate) struct LessonView {
    pub number: i64,
    pub time: Option<String>,
    pub subject: String,
    pub group: Option<String>,
    pub teacher: Option<String>,
    pub substitute: Option<String>,
    pub room: Option<String>,
    pub topic: Option<String>,
    /// Homework set at this lesson.
    pub homework: Option<String>,
    /// The teacher's estimate of its time, in minutes.
    pub homework_minutes: Option<i64>,
    pub links: Vec<LinkView>,
    /// Homework to prepare for this lesson.
    pub due: Vec<DueView>,
    pub cancelled: bool,
}

pub(crate) type DayView = super::Day<LessonView>;

#[derive(Serialize, Clone)]
pub(crate) struct WeekView {
    pub monday: String,
    pub label: String,
    /// The archive page of this week, relative to the class's homework folder.
    pub file: String,
    pub days: Vec<DayView>,
}

#[derive(Serialize)]
pub(crate) struct HomeworkPage {
    #[serde(flatten)]
    pub common: Common,
    pub class: ClassRef,
    /// This week and next on the main page; one past week on an archive page.
    pub weeks: Vec<WeekView>,
    /// Past weeks of the current term, newest first (main page only).
    pub archive: Vec<WeekView>,
    pub is_archive: bool,
    pub term: Option<String>,
}

/// Lessons and homework indexed once per build.
pub(crate) struct HomeworkIndex<'a> {
    /// Lessons of each class, by date, number, then group.
    by_class: Groups<'a, Id, Lesson>,
    links: Groups<'a, Id, HomeworkLink>,
    /// (lesson id, a lesson whose homework is due at it), by lesson id: a vector, not a map
    /// of vectors, as most lessons of a large school set homework.
    due: Vec<(Id, &'a Lesson)>,
}

impl<'a> HomeworkIndex<'a> {
    pub(crate) fn new(j: &'a Journal) -> HomeworkIndex<'a> {
        let group_name = |l: &Lesson| l.group_id.and_then(|g| j.group(g)).map(|g| g.name.as_str());
        let (mut by_class, mut series) = rayon::join(
            || group_by(&j.lessons, |l| l.class_id),
            || group_by(&j.lessons, |l| (l.class_id, l.subject_id, l.group_id)),
        );
        by_class.for_each_mut(|lessons| {
            lessons.sort_by_key(|l| (l.date, l.number, group_name(l), l.id));
        });
        let mut due: Vec<(Id, &Lesson)> = Vec::new();
        series.for_each_mut(|lessons| {
            lessons.sort_by_key(|l| (l.date, l.number, l.id));
            for (i, l) in lessons.iter().enumerate() {
                if l.homework.as_deref().is_none_or(|h| h.trim().is_empty()) {
                    continue;
                }
                let later = lessons[i + 1..].iter().filter(|n| !n.cancelled);
                let target = match l.homework_due {
                    Some(d) => later.clone().find(|n| n.date == d),
                    None => later.clone().find(|n| n.date > l.date),
                };
                if let Some(t) = target {
                    due.push((t.id, l));
                }
            }
        });
        // Each lesson's set homework in the order it was set.
        due.sort_unstable_by_key(|(target, l)| (*target, l.date, l.number, l.id));
        HomeworkIndex {
            by_class,
            links: group_by(&j.homework_links, |k| k.lesson_id),
            due,
        }
    }

    /// The lessons whose homework is due at `lesson`.
    fn due_at(&self, lesson: Id) -> impl Iterator<Item = &'a Lesson> + '_ {
        let start = self.due.partition_point(|(t, _)| *t < lesson);
        self.due[start..]
            .iter()
            .take_while(move |(t, _)| *t == lesson)
            .map(|(_, l)| *l)
    }

    /// Lessons of a class within `from..=to`.
    pub(super) fn lessons(&self, class: Id, from: NaiveDate, to: NaiveDate) -> &[&'a Lesson] {
        let all = self.by_class.get(&class);
        let start = all.partition_point(|l| l.date < from);
        let end = all.partition_point(|l| l.date <= to);
        &all[start..end]
    }

    fn links_of(&self, lesson: Id) -> Vec<LinkView> {
        self.links
            .get(&lesson)
            .iter()
            .filter(|k| is_web_url(&k.url))
            .map(|k| LinkView {
                url: k.url.trim().to_string(),
                title: k.title.clone().unwrap_or_else(|| k.url.trim().to_string()),
            })
            .collect()
    }
}

impl Inputs<'_> {
    /// The homework pages of a class: `(path, page)` for the main page and each archived
    /// week of the current term.
    pub(crate) fn homework_pages(
        &self,
        class: &ClassRef,
        index: &HomeworkIndex,
    ) -> Vec<(String, HomeworkPage)> {
        let this_week = self.board_monday();
        let weeks = vec![
            self.week_view(class, this_week, index),
            self.week_view(class, this_week + Duration::days(7), index),
        ];
        let term = self
            .journal
            .class(class.id)
            .and_then(|c| self.current_term(c));
        let mut archive = Vec::new();
        if let Some(t) = term {
            let mut monday = super::monday_of(t.starts_on);
            while monday < this_week {
                archive.push(self.week_view(class, monday, index));
                monday += Duration::days(7);
            }
        }
        archive.reverse();
        let dir = format!("{}homework/", class.dir());
        let mut pages: Vec<(String, HomeworkPage)> = archive
            .iter()
            .map(|w| {
                (
                    format!("{dir}{}", w.file),
                    HomeworkPage {
                        common: self.common(),
                        class: class.clone(),
                        weeks: vec![w.clone()],
                        archive: Vec::new(),
                        is_archive: true,
                        term: term.map(|t| t.name.clone()),
                    },
                )
            })
            .collect();
        pages.push((
            class.homework_url.clone(),
            HomeworkPage {
                common: self.common(),
                class: class.clone(),
                weeks,
                archive,
                is_archive: false,
                term: term.map(|t| t.name.clone()),
            },
        ));
        pages
    }

    fn week_view(&self, class: &ClassRef, monday: NaiveDate, index: &HomeworkIndex) -> WeekView {
        let days = i64::from(self.config.school_days);
        let last = monday + Duration::days(days - 1);
        let lessons = index.lessons(class.id, monday, last);
        let days = (0..days)
            .map(|i| {
                let date = monday + Duration::days(i);
                let todays: Vec<LessonView> = lessons
                    .iter()
                    .filter(|l| l.date == date)
                    .map(|l| self.lesson_view(l, index))
                    .collect();
                let mut day = self.day(date, class.grade, todays);
                let minutes = lessons
                    .iter()
                    .filter(|l| l.date == date && !l.cancelled)
                    .filter_map(|l| l.homework_minutes);
                day.homework_minutes = minutes.clone().next().map(|_| minutes.sum());
                day
            })
            .collect();
        WeekView {
            monday: monday.to_string(),
            label: self.strings.range(monday, last),
            file: format!("{monday}.html"),
            days,
        }
    }

    pub(super) fn lesson_view(&self, l: &Lesson, index: &HomeworkIndex) -> LessonView {
        let j = self.journal;
        let homework = l.homework.clone().filter(|h| !h.trim().is_empty());
        LessonView {
            number: l.number,
            time: j
                .bell(j.shift_of(l.class_id), l.number)
                .map(|b| format!("{}–{}", b.starts_at, b.ends_at)),
            subject: j
                .subject(l.subject_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            group: l.group_id.and_then(|g| j.group(g)).map(|g| g.name.clone()),
            teacher: l
                .teacher_id
                .and_then(|t| j.teacher(t))
                .map(|t| t.short_name()),
            substitute: l
                .substitute_teacher_id
                .and_then(|t| j.teacher(t))
                .map(|t| t.short_name()),
            room: self.room_label(l.room.as_deref()),
            topic: l.topic.clone(),
            links: if homework.is_some() {
                index.links_of(l.id)
            } else {
                Vec::new()
            },
            homework_minutes: homework.as_ref().and(l.homework_minutes),
            homework,
            due: index
                .due_at(l.id)
                .map(|s| DueView {
                    text: s.homework.clone().unwrap_or_default(),
                    links: index.links_of(s.id),
                    set_on: self.strings.date_short_weekday(s.date),
                })
                .collect(),
            cancelled: l.cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (target, setter) for every lesson that sets homework, found the long way: among the
    /// later lessons of the same class, subject and group, the first not cancelled on the
    /// due day (or, without one, on a later day).
    fn due_the_long_way(j: &Journal) -> Vec<(Id, Id)> {
        let mut pairs = Vec::new();
        for l in &j.lessons {
            if l.homework.as_deref().is_none_or(|h| h.trim().is_empty()) {
                continue;
            }
            let mut later: Vec<&Lesson> = j
                .lessons
                .iter()
                .filter(|n| {
                    (n.class_id, n.subject_id, n.group_id) == (l.class_id, l.subject_id, l.group_id)
                        && (n.date, n.number, n.id) > (l.date, l.number, l.id)
                        && !n.cancelled
                })
                .collect();
            later.sort_by_key(|n| (n.date, n.number, n.id));
            let target = match l.homework_due {
                Some(d) => later.into_iter().find(|n| n.date == d),
                None => later.into_iter().find(|n| n.date > l.date),
            };
            if let Some(t) = target {
                pairs.push((t.id, l));
            }
        }
        pairs.sort_by_key(|(t, l)| (*t, l.date, l.number, l.id));
        pairs.into_iter().map(|(t, l)| (t, l.id)).collect()
    }

    #[test]
    fn homework_is_due_at_the_lesson_it_was_set_for() {
        let (_tmp, site) = crate::demo::test_site(20);
        let j = crate::check::load(&site).unwrap().journal;
        let index = HomeworkIndex::new(&j);
        let expected = due_the_long_way(&j);
        assert!(
            expected.len() > 100,
            "{} lessons set homework",
            expected.len()
        );
        let found: Vec<(Id, Id)> = j
            .lessons
            .iter()
            .flat_map(|l| index.due_at(l.id).map(move |s| (l.id, s.id)))
            .collect();
        assert_eq!(found, expected);
        // Each class's lessons in order of date and number.
        let class = j.lessons[0].class_id;
        let from = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        let lessons = index.lessons(class, from, from + Duration::days(13));
        assert!(lessons.len() > 20, "{} lessons", lessons.len());
        assert!(
            lessons
                .windows(2)
                .all(|w| (w[0].date, w[0].number) <= (w[1].date, w[1].number))
        );
    }
}
