//! Views: what each page shows, built from the journal, content/ and the settings. A view is
//! plain data (serde) handed to a template; no HTML is made here except sanitized Markdown.
//!
//! Public pages never name a child: boards show lessons, homework, teachers, announcements
//! and events.

mod attention;
mod boards;
mod child;
mod events;
mod homework;
mod timetable;

pub(crate) use attention::Warning;
pub(crate) use boards::AnnouncementView;
#[cfg(test)]
pub(crate) use child::{AttendanceTotals, MarkBrief};
pub(crate) use child::{
    ChildLesson, ChildPage, ChildPiece, ChildWeek, ClassParts, DiaryIndex, LineHtml, OwnLines,
    PartSpec, PeriodView, SubjectRow, TermMarks, WeekRun, first_lines,
};
pub(crate) use events::EventView;
pub(crate) use homework::{HomeworkIndex, LessonView};

pub(crate) use crate::text::slug;
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use crate::config::Config;
use crate::content::Post;
use crate::i18n::Strings;
use crate::journal::{Class, Event, Groups, Id, Journal, Period, TimetableEntry, group_by};

/// Everything a view may read.
pub(crate) struct Inputs<'a> {
    pub journal: &'a Journal,
    pub config: &'a Config,
    pub posts: &'a [Post],
    pub strings: &'a Strings,
    pub today: NaiveDate,
    /// Each class's rows: read through for every class, the events and the timetable of a
    /// school of 900 classes were 900 passes over the whole table.
    by_class: ByClass<'a>,
}

/// The journal's rows of each class.
struct ByClass<'a> {
    /// Events by class; the school's own under `None`.
    events: Groups<'a, Option<Id>, Event>,
    timetable: Groups<'a, Id, TimetableEntry>,
}

impl<'a> Inputs<'a> {
    pub(crate) fn new(
        journal: &'a Journal,
        config: &'a Config,
        posts: &'a [Post],
        strings: &'a Strings,
        today: NaiveDate,
    ) -> Inputs<'a> {
        Inputs {
            journal,
            config,
            posts,
            strings,
            today,
            by_class: ByClass {
                events: group_by(&journal.events, |e| e.class_id),
                timetable: group_by(&journal.timetable, |t| t.class_id),
            },
        }
    }

    /// The events of a class (`None`: the school's own), in the journal's order.
    pub(crate) fn class_events(&self, class: Option<Id>) -> &[&'a Event] {
        self.by_class.events.get(&class)
    }

    /// The timetable rows of a class, in the journal's order.
    pub(crate) fn class_timetable(&self, class: Id) -> &[&'a TimetableEntry] {
        self.by_class.timetable.get(&class)
    }
}

#[derive(Serialize, Clone)]
pub(crate) struct SchoolView {
    pub name: String,
    pub short_name: String,
    pub address: Option<String>,
    pub contact: Option<String>,
}

/// A class and the addresses of its pages, relative to the site root.
#[derive(Serialize, Clone)]
pub(crate) struct ClassRef {
    pub id: Id,
    pub grade: i64,
    pub name: String,
    pub slug: String,
    pub teacher: Option<String>,
    pub url: String,
    pub homework_url: String,
    pub timetable_url: String,
    pub events_url: String,
    pub ics_url: String,
    pub feed_url: String,
}

impl ClassRef {
    pub(crate) fn dir(&self) -> String {
        format!("classes/{}/", self.slug)
    }
}

#[derive(Serialize, Clone)]
pub(crate) struct GradeView {
    pub grade: i64,
    pub classes: Vec<ClassRef>,
}

/// The part every page shares: site title, school, language-independent links.
#[derive(Serialize, Clone)]
pub(crate) struct Common {
    pub site_title: String,
    pub school: SchoolView,
}

/// A school day of a week view: a class's on the homework board, a child's in a diary.
#[derive(Serialize, Clone)]
pub(crate) struct Day<L> {
    pub iso: String,
    pub label: String,
    pub today: bool,
    /// The holiday's name when the class is off that day (a day without lessons).
    pub holiday: Option<String>,
    pub lessons: Vec<L>,
    /// The minutes of the homework set that day, when teachers estimated them (the
    /// homework board's days only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homework_minutes: Option<i64>,
    /// Teachers' remarks about the child that day (a diary's days only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remarks: Vec<RemarkView>,
}

/// A teacher's remark about a child, as the diary shows it.
#[derive(Serialize, Clone)]
pub(crate) struct RemarkView {
    pub date: String,
    /// `behaviour`, `achievement`, `concern` or `praise` (the key of its label).
    pub kind: &'static str,
    pub subject: Option<String>,
    /// The teacher, as surname and initials.
    pub by: Option<String>,
    pub text: String,
}

impl Inputs<'_> {
    pub(crate) fn remark_view(&self, r: &crate::journal::Remark) -> RemarkView {
        let j = self.journal;
        RemarkView {
            date: self.strings.date_short_weekday(r.date),
            kind: r.kind.as_str(),
            subject: r
                .subject_id
                .and_then(|s| j.subject(s))
                .map(|s| s.name.clone()),
            by: r
                .teacher_id
                .and_then(|t| j.teacher(t))
                .map(|t| t.short_name()),
            text: r.text.clone(),
        }
    }
}

impl<'a> Inputs<'a> {
    /// The day `date` of a class of `grade` with its lessons.
    pub(crate) fn day<L>(&self, date: NaiveDate, grade: i64, lessons: Vec<L>) -> Day<L> {
        let holiday = if lessons.is_empty() {
            self.journal.holiday_on(date, grade).map(|h| h.name.clone())
        } else {
            None
        };
        Day {
            iso: date.to_string(),
            label: self.strings.date_weekday(date),
            today: date == self.today,
            holiday,
            lessons,
            homework_minutes: None,
            remarks: Vec::new(),
        }
    }

    pub(crate) fn site_title(&self) -> String {
        if self.config.title.trim().is_empty() {
            self.journal.school.name.clone()
        } else {
            self.config.title.clone()
        }
    }

    pub(crate) fn common(&self) -> Common {
        let s = &self.journal.school;
        Common {
            site_title: self.site_title(),
            school: SchoolView {
                name: s.name.clone(),
                short_name: s.short_name.clone(),
                address: s.address.clone(),
                contact: s.contact.clone(),
            },
        }
    }

    /// The classes of the academic year that holds today, by grade then letter.
    fn classes(&self) -> Vec<&'a Class> {
        match self.journal.year_for(self.today) {
            Some(y) => self.journal.classes_of_year(y.id),
            None => Vec::new(),
        }
    }

    /// Every class of the current year with stable, readable, unique URL names
    /// ("5Б" → `classes/5b/`).
    pub(crate) fn class_refs(&self) -> Vec<ClassRef> {
        let mut used: HashMap<String, usize> = HashMap::new();
        self.classes()
            .into_iter()
            .map(|c| {
                let mut slug = slug(&c.name);
                let n = used.entry(slug.clone()).or_insert(0);
                *n += 1;
                if *n > 1 {
                    slug = format!("{slug}-{}", c.id);
                }
                let dir = format!("classes/{slug}/");
                ClassRef {
                    id: c.id,
                    grade: c.grade,
                    name: c.name.clone(),
                    teacher: c
                        .class_teacher_id
                        .and_then(|t| self.journal.teacher(t))
                        .map(|t| t.full_name()),
                    url: format!("{dir}index.html"),
                    homework_url: format!("{dir}homework/index.html"),
                    timetable_url: format!("{dir}timetable/index.html"),
                    events_url: format!("{dir}events/index.html"),
                    ics_url: format!("{dir}events.ics"),
                    feed_url: format!("{dir}feed.xml"),
                    slug,
                }
            })
            .collect()
    }

    /// Classes grouped by grade, for class indexes.
    pub(crate) fn grades(&self, refs: &[ClassRef]) -> Vec<GradeView> {
        let mut grades: BTreeMap<i64, Vec<ClassRef>> = BTreeMap::new();
        for r in refs {
            grades.entry(r.grade).or_default().push(r.clone());
        }
        grades
            .into_iter()
            .map(|(grade, classes)| GradeView { grade, classes })
            .collect()
    }

    /// The Monday of the week boards show: this week, or the next one once this week's
    /// school days are over.
    pub(crate) fn board_monday(&self) -> NaiveDate {
        let monday = monday_of(self.today);
        if self.today.weekday().number_from_monday() > u32::from(self.config.school_days) {
            monday + Duration::days(7)
        } else {
            monday
        }
    }

    /// The current term (a quarter, trimester or half) of a class: the one holding the
    /// board's week, else the last one that started before it.
    pub(crate) fn current_term(&self, class: &Class) -> Option<&'a Period> {
        let day = self.board_monday().max(self.today);
        let terms: Vec<&Period> = self
            .journal
            .periods
            .iter()
            .filter(|p| p.year_id == class.year_id && p.kind.is_term())
            .collect();
        terms
            .iter()
            .copied()
            .find(|p| p.contains(day) || p.contains(self.today))
            .or_else(|| {
                terms
                    .iter()
                    .copied()
                    .filter(|p| p.starts_on <= day)
                    .max_by_key(|p| p.starts_on)
            })
    }

    /// Absolute address of a page (for feeds and the sitemap).
    pub(crate) fn absolute(&self, path: &str) -> String {
        let base = self.config.base_url.trim_end_matches('/');
        let path = path.strip_suffix("index.html").unwrap_or(path);
        format!("{base}/{path}")
    }

    /// The host name of the site, for iCalendar UIDs.
    pub(crate) fn host(&self) -> String {
        let rest = self
            .config
            .base_url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.config.base_url);
        rest.split(['/', ':'])
            .next()
            .unwrap_or("localhost")
            .to_string()
    }
}

impl Inputs<'_> {
    /// How a room reads: "каб. 214" for a number, a named room ("Спортзал") as it is.
    pub(crate) fn room_label(&self, room: Option<&str>) -> Option<String> {
        let room = room?.trim();
        if room.is_empty() {
            None
        } else if room.starts_with(|c: char| c.is_ascii_digit()) {
            Some(format!("{} {room}", self.strings.get("room")))
        } else {
            Some(room.to_string())
        }
    }
}

pub(crate) fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// Markdown to HTML, sanitized: scripts, event handlers, `javascript:` links and other
/// active content are dropped; links get `rel="noopener noreferrer"`. Images are dropped
/// too: a page must make no request to another host (docs/configuration.md).
pub(crate) fn markdown(md: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut out = String::new();
    html::push_html(
        &mut out,
        Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES),
    );
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto", "tel"].into())
        .rm_tags(["img"])
        .clean(&out)
        .to_string()
}

/// Whether a link from the journal may be shown: only web addresses.
pub(crate) fn is_web_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_sanitized() {
        let html = markdown(
            "Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> **b**",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            !html.contains("onerror") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("<strong>b</strong>"), "{html}");
    }
}
