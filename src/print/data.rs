//! What the printouts read: the journal indexed once per run, the classes and pupils to
//! print, and the dates, weeks, months and periods a command names.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Result, bail};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Serialize;

use crate::access::codes::find_class;
use crate::config::Config;
use crate::grades::Weights;
use crate::i18n::Strings;
use crate::journal::{
    AcademicYear, Attendance, AttendanceStatus, ByPupil, Class, Id, Journal, Lesson, Mark, Period,
    PeriodKind, PeriodMark, Remark, Student, WeeklyHours,
};

/// The journal with the indexes every printout needs, built once per command.
pub(super) struct Index<'a> {
    pub j: &'a Journal,
    pub config: &'a Config,
    pub strings: &'a Strings,
    pub weights: Weights,
    /// Lessons a week by class and subject.
    pub hours: WeeklyHours,
    /// Lessons of each class, by date, number, group name, id.
    lessons: HashMap<Id, Vec<&'a Lesson>>,
    by_pupil: ByPupil<'a>,
    pupils: HashMap<Id, Vec<&'a Student>>,
    /// The announcements of content/ (the journal's are in `j`).
    pub posts: &'a [crate::content::Post],
}

impl<'a> Index<'a> {
    pub(super) fn new(j: &'a Journal, config: &'a Config, strings: &'a Strings) -> Index<'a> {
        let group_name = |l: &Lesson| l.group_id.and_then(|g| j.group(g)).map(|g| g.name.as_str());
        let mut lessons: HashMap<Id, Vec<&Lesson>> = HashMap::new();
        for l in &j.lessons {
            lessons.entry(l.class_id).or_default().push(l);
        }
        for v in lessons.values_mut() {
            v.sort_by_key(|l| (l.date, l.number, group_name(l), l.id));
        }
        let mut pupils: HashMap<Id, Vec<&Student>> = HashMap::new();
        for s in &j.students {
            pupils.entry(s.class_id).or_default().push(s);
        }
        for v in pupils.values_mut() {
            v.sort_by(|a, b| {
                (&a.last_name, &a.first_name, &a.middle_name, a.id).cmp(&(
                    &b.last_name,
                    &b.first_name,
                    &b.middle_name,
                    b.id,
                ))
            });
        }
        Index {
            j,
            config,
            strings,
            weights: Weights::new(&j.work_types, &config.grading),
            lessons,
            by_pupil: ByPupil::new(j),
            hours: j.weekly_hours(),
            pupils,
            posts: &[],
        }
    }

    /// The pupils of a class, by surname, name, patronymic, id: one sheet each (twins too).
    /// Keeps only the pupils `keep` says (`--paper`, `--student`).
    pub(super) fn keep_pupils(&mut self, keep: impl Fn(&Student) -> bool) {
        for list in self.pupils.values_mut() {
            list.retain(|s| keep(s));
        }
    }

    pub(super) fn pupils(&self, class: Id) -> &[&'a Student] {
        self.pupils.get(&class).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Lessons of a class within `from..=to`.
    pub(super) fn lessons(&self, class: Id, from: NaiveDate, to: NaiveDate) -> &[&'a Lesson] {
        let all = self.lessons.get(&class).map(Vec::as_slice).unwrap_or(&[]);
        let start = all.partition_point(|l| l.date < from);
        let end = all.partition_point(|l| l.date <= to);
        &all[start..end]
    }

    /// Whether a pupil is taught a lesson: a whole-class lesson, or one of the pupil's group.
    pub(super) fn attends(&self, student: Id, lesson: &Lesson) -> bool {
        self.by_pupil.attends(student, lesson)
    }

    pub(super) fn marks_of(&self, student: Id) -> &[&'a Mark] {
        self.by_pupil.marks_of(student)
    }

    pub(super) fn attendance_of(&self, student: Id) -> &[&'a Attendance] {
        self.by_pupil.attendance_of(student)
    }

    /// The teacher's mark of a pupil for a subject and period, if set.
    pub(super) fn period_mark(
        &self,
        student: Id,
        subject: Id,
        period: Id,
    ) -> Option<&'a PeriodMark> {
        self.by_pupil.period_mark(student, subject, period)
    }

    /// The teacher's mark of a pupil for a subject and period once it is final on `today`
    /// (before that, printouts show the forecast, as the diary does).
    pub(super) fn final_mark(
        &self,
        student: Id,
        subject: Id,
        period: &Period,
        today: NaiveDate,
    ) -> Option<&'a PeriodMark> {
        self.period_mark(student, subject, period.id)
            .filter(|pm| pm.is_final(period, today))
    }

    /// Teachers' remarks about a pupil, by date.
    pub(super) fn remarks_of(&self, student: Id) -> &[&'a Remark] {
        self.by_pupil.remarks_of(student)
    }

    pub(super) fn period_marks_of(&self, student: Id) -> &[&'a PeriodMark] {
        self.by_pupil.period_marks_of(student)
    }

    pub(super) fn subject_name(&self, id: Id) -> String {
        self.j
            .subject(id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    pub(super) fn work_type_name(&self, id: Option<Id>) -> Option<String> {
        id.and_then(|w| self.j.work_type(w)).map(|w| w.name.clone())
    }

    /// The words a sheet shows for an attendance row: "по болезни (справка)".
    pub(super) fn attendance_text(&self, a: &Attendance) -> String {
        let key = format!("print_att_{}", a.status.as_str());
        let text = self.strings.get(&key).to_string();
        match a.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            // "опоздание на 15 мин" says it all.
            Some(note) if note.to_lowercase().starts_with(&text.to_lowercase()) => note.to_string(),
            Some(note) => format!("{text} ({note})"),
            None => text,
        }
    }

    /// "Осипова Екатерина Викторовна" and the contact line of a class's teacher.
    pub(super) fn class_teacher(&self, class: &Class) -> Teacher {
        let t = class.class_teacher_id.and_then(|id| self.j.teacher(id));
        Teacher {
            name: t.map(|t| t.full_name()),
            contact: t
                .and_then(|t| t.contact.clone())
                .filter(|c| !c.trim().is_empty()),
        }
    }

    /// The school's events and the class's, starting within `from..=to`, by start.
    pub(super) fn events(&self, class: Id, from: NaiveDate, to: NaiveDate) -> Vec<EventLine> {
        let mut events: Vec<_> = self
            .j
            .events
            .iter()
            .filter(|e| e.class_id.is_none() || e.class_id == Some(class))
            .filter(|e| {
                let d = e.starts_at.date();
                from <= d && d <= to
            })
            .collect();
        events.sort_by_key(|e| (e.starts_at, e.id));
        events
            .into_iter()
            .map(|e| {
                let start = e.starts_at;
                let time = (start.time() != chrono::NaiveTime::MIN).then(|| match e.ends_at {
                    Some(end) if end.date() == start.date() && end > start => {
                        format!("{}–{}", start.format("%H:%M"), end.format("%H:%M"))
                    }
                    _ => start.format("%H:%M").to_string(),
                });
                EventLine {
                    date: self.strings.date_short_weekday(start.date()),
                    time,
                    title: e.title.clone(),
                    place: e.place.clone().filter(|p| !p.trim().is_empty()),
                }
            })
            .collect()
    }

    /// The announcements for a class (the school's, its grade's, its own; from the journal
    /// and content/) published within `from..=to`, oldest first.
    pub(super) fn news(&self, class: &Class, from: NaiveDate, to: NaiveDate) -> Vec<NewsLine> {
        use crate::content::PostAudience;
        use crate::journal::Audience;
        let school = self.strings.get("audience_school");
        let grade = format!("{} {}", class.grade, self.strings.get("grade_plural"));
        let mut items: Vec<(chrono::NaiveDateTime, String, Option<String>)> = Vec::new();
        for a in &self.j.announcements {
            let audience = match a.audience {
                Audience::School => Some(school.to_string()),
                Audience::Grade(g) if g == class.grade => Some(grade.clone()),
                Audience::Class(c) if c == class.id => None,
                _ => continue,
            };
            items.push((a.published_at, a.title.clone(), audience));
        }
        for p in self.posts {
            let audience = match &p.audience {
                PostAudience::School => Some(school.to_string()),
                PostAudience::Grade(g) if *g == class.grade => Some(grade.clone()),
                PostAudience::Class(n) if *n == class.name => None,
                _ => continue,
            };
            items.push((p.date, p.title.clone(), audience));
        }
        items.retain(|(at, ..)| from <= at.date() && at.date() <= to);
        items.sort();
        items
            .into_iter()
            .map(|(at, title, audience)| NewsLine {
                date: self.strings.date_short_weekday(at.date()),
                title,
                audience,
            })
            .collect()
    }

    /// Absences (not lateness) and lateness counted from attendance rows, in words.
    pub(super) fn absence_totals<'r>(
        &self,
        rows: impl IntoIterator<Item = &'r Attendance>,
    ) -> Absences {
        let mut by_status: Vec<(AttendanceStatus, usize)> = Vec::new();
        for a in rows {
            match by_status.iter_mut().find(|(s, _)| *s == a.status) {
                Some((_, n)) => *n += 1,
                None => by_status.push((a.status, 1)),
            }
        }
        by_status.sort();
        let absent: usize = by_status
            .iter()
            .filter(|(s, _)| *s != AttendanceStatus::Late)
            .map(|(_, n)| n)
            .sum();
        let late = by_status
            .iter()
            .find(|(s, _)| *s == AttendanceStatus::Late)
            .map_or(0, |(_, n)| *n);
        let reasons = by_status
            .iter()
            .filter(|(s, _)| *s != AttendanceStatus::Late)
            .map(|(s, n)| {
                format!(
                    "{} — {n}",
                    self.strings.get(&format!("print_att_{}", s.as_str()))
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        Absences {
            absent,
            absent_text: self.strings.plural(absent as i64, "lessons"),
            reasons,
            late,
        }
    }
}

#[derive(Serialize, Clone)]
pub(super) struct Teacher {
    pub name: Option<String>,
    pub contact: Option<String>,
}

/// An announcement on a sheet: when, what, and for whom when not for the class alone.
#[derive(Serialize, Clone)]
pub(super) struct NewsLine {
    pub date: String,
    pub title: String,
    pub audience: Option<String>,
}

#[derive(Serialize, Clone)]
pub(super) struct EventLine {
    pub date: String,
    pub time: Option<String>,
    pub title: String,
    pub place: Option<String>,
}

#[derive(Serialize, Clone, Default)]
pub(super) struct Absences {
    /// Lessons missed (every status but lateness).
    pub absent: usize,
    /// "5 уроков".
    pub absent_text: String,
    /// "по болезни — 3, без уважительной причины — 2".
    pub reasons: String,
    pub late: usize,
}

/// The classes a command prints: one named class, or with `all` every class of the
/// academic year `year` (else the one holding `today`). A named class is taken from
/// `year` when it has one there, else from its latest year.
pub(super) fn classes<'j>(
    j: &'j Journal,
    name: &str,
    year: Option<&AcademicYear>,
    today: NaiveDate,
) -> Result<Vec<&'j Class>> {
    if is_all(name) {
        let Some(y) = year.or_else(|| j.year_for(today)) else {
            bail!("the journal has no academic year");
        };
        let classes = j.classes_of_year(y.id);
        if classes.is_empty() {
            bail!("the academic year {} has no classes", y.name);
        }
        return Ok(classes);
    }
    let class = find_class(j, name)?;
    let Some(y) = year else {
        return Ok(vec![class]);
    };
    Ok(vec![
        j.classes
            .iter()
            .find(|c| c.year_id == y.id && c.name == class.name)
            .unwrap_or(class),
    ])
}

pub(super) fn is_all(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case("all")
}

/// An academic year by its name ("2026/2027") or the calendar year it starts in ("2026").
pub(super) fn find_year<'j>(j: &'j Journal, text: &str) -> Result<&'j AcademicYear> {
    let t = text.trim();
    j.years
        .iter()
        .find(|y| y.name == t || y.starts_on.year().to_string() == t)
        .ok_or_else(|| {
            let names: Vec<&str> = j.years.iter().map(|y| y.name.as_str()).collect();
            anyhow::anyhow!(
                "no academic year {t:?}; the journal has: {}",
                names.join(", ")
            )
        })
}

/// The academic year of a class.
pub(super) fn year_of<'j>(j: &'j Journal, class: &Class) -> Result<&'j AcademicYear> {
    j.year(class.year_id)
        .ok_or_else(|| anyhow::anyhow!("class {} has no academic year", class.name))
}

/// A week: "2026-W48" (ISO week) or any day of it ("2026-11-23").
pub(super) fn parse_week(text: &str) -> Result<NaiveDate> {
    let t = text.trim();
    if let Some(day) = crate::journal::parse_date(t) {
        return Ok(crate::views::monday_of(day));
    }
    let parsed = t
        .split_once(['W', 'w'])
        .and_then(|(y, w)| {
            Some((
                y.trim_end_matches('-').parse::<i32>().ok()?,
                w.parse().ok()?,
            ))
        })
        .and_then(|(y, w)| NaiveDate::from_isoywd_opt(y, w, Weekday::Mon));
    parsed.ok_or_else(|| {
        anyhow::anyhow!(
            "{t:?} is not a week: write it as 2026-W48 (ISO week) or as a day of it, 2026-11-23"
        )
    })
}

/// The ISO name of the week starting on `monday`: "2026-W48".
pub(super) fn week_name(monday: NaiveDate) -> String {
    let w = monday.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// A month: "2026-11".
pub(super) fn parse_month(text: &str) -> Result<NaiveDate> {
    let t = text.trim();
    t.split_once('-')
        .and_then(|(y, m)| NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1))
        .filter(|_| t.len() == 7)
        .ok_or_else(|| anyhow::anyhow!("{t:?} is not a month: write it as 2026-11"))
}

/// The last day of the month starting on `first`.
pub(super) fn month_end(first: NaiveDate) -> NaiveDate {
    first + chrono::Months::new(1) - Duration::days(1)
}

/// The week a weekly printout is about when none is named: this week once its school days
/// are over (from its last school day on), else the week before.
pub(super) fn default_week(today: NaiveDate, school_days: u8) -> NaiveDate {
    let monday = crate::views::monday_of(today);
    if today.weekday().number_from_monday() >= u32::from(school_days) {
        monday
    } else {
        monday - Duration::days(7)
    }
}

/// The month a monthly printout is about when none is named: this month from its last
/// school day on, else the month before.
pub(super) fn default_month(today: NaiveDate, school_days: u8) -> NaiveDate {
    let first = today.with_day(1).expect("day 1");
    let mut last = month_end(first);
    while last.weekday().number_from_monday() > u32::from(school_days) {
        last -= Duration::days(1);
    }
    if today >= last {
        first
    } else {
        first - chrono::Months::new(1)
    }
}

/// The kinds of term (quarter, trimester, half) a class is attested in: the kinds of its
/// pupils' period marks, else every kind the year has.
pub(super) fn term_kinds(ix: &Index, class: &Class) -> BTreeSet<PeriodKind> {
    let year_terms = |p: &&Period| p.year_id == class.year_id && p.kind.is_term();
    let mut kinds: BTreeSet<PeriodKind> = ix
        .pupils(class.id)
        .iter()
        .flat_map(|s| ix.period_marks_of(s.id))
        .filter_map(|pm| ix.j.period(pm.period_id))
        .filter(year_terms)
        .map(|p| p.kind)
        .collect();
    if kinds.is_empty() {
        kinds =
            ix.j.periods
                .iter()
                .filter(year_terms)
                .map(|p| p.kind)
                .collect();
    }
    kinds
}

/// The terms of a class's year in the kinds it is attested in, by start.
pub(super) fn terms<'j>(ix: &Index<'j>, class: &Class) -> Vec<&'j Period> {
    let kinds = term_kinds(ix, class);
    let mut out: Vec<&Period> =
        ix.j.periods
            .iter()
            .filter(|p| p.year_id == class.year_id && kinds.contains(&p.kind))
            .collect();
    out.sort_by_key(|p| (p.starts_on, p.kind, p.id));
    out
}

/// The year period of a class's year, if the journal has one.
pub(super) fn year_period<'j>(j: &'j Journal, class: &Class) -> Option<&'j Period> {
    j.periods
        .iter()
        .find(|p| p.year_id == class.year_id && p.kind == PeriodKind::Year)
}

/// The exam and final-mark periods of a class's year in which any of `pupils` has a
/// teacher's mark, in list order (exams, then the final marks).
pub(super) fn exams_of<'j>(ix: &Index<'j>, class: &Class, pupils: &[&Student]) -> Vec<&'j Period> {
    let mut out: Vec<&Period> =
        ix.j.periods
            .iter()
            .filter(|p| p.year_id == class.year_id && p.kind.rank() >= PeriodKind::Exam.rank())
            .filter(|p| {
                pupils.iter().any(|s| {
                    ix.period_marks_of(s.id)
                        .iter()
                        .any(|pm| pm.period_id == p.id)
                })
            })
            .collect();
    out.sort_by_key(|p| (p.kind.rank(), p.starts_on, p.id));
    out
}

/// A period of a class's year by name ("2 четверть", any case), number ("2", among the
/// terms the class is attested in) or `year`.
pub(super) fn find_period<'j>(ix: &Index<'j>, class: &Class, text: &str) -> Result<&'j Period> {
    let t = text.trim();
    let lower = t.to_lowercase();
    let of_year: Vec<&Period> =
        ix.j.periods
            .iter()
            .filter(|p| p.year_id == class.year_id)
            .collect();
    if let Some(p) = of_year.iter().find(|p| p.name.to_lowercase() == lower) {
        return Ok(p);
    }
    if ["year", "год"].contains(&lower.as_str())
        && let Some(p) = year_period(ix.j, class)
    {
        return Ok(p);
    }
    if let Ok(n) = t.parse::<i64>() {
        let found: Vec<&Period> = terms(ix, class)
            .into_iter()
            .filter(|p| p.number == n)
            .collect();
        if found.len() == 1 {
            return Ok(found[0]);
        }
    }
    let mut names: Vec<&Period> = of_year;
    names.sort_by_key(|p| (p.kind.rank(), p.starts_on, p.id));
    let names: Vec<&str> = names.iter().map(|p| p.name.as_str()).collect();
    bail!(
        "no period {t:?} for class {}; its periods are: {} (or a term's number, or `year`)",
        class.name,
        names.join(", ")
    )
}

/// A journal text trimmed, if anything is left.
pub(super) fn text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::journal::parse_date(s).unwrap()
    }

    #[test]
    fn weeks_and_months() {
        assert_eq!(parse_week("2026-W48").unwrap(), d("2026-11-23"));
        assert_eq!(parse_week("2026W48").unwrap(), d("2026-11-23"));
        assert_eq!(parse_week("2026-11-26").unwrap(), d("2026-11-23"));
        assert!(parse_week("2026-W60").is_err());
        assert!(parse_week("week 48").is_err());
        assert_eq!(week_name(d("2026-11-23")), "2026-W48");
        assert_eq!(week_name(d("2027-01-04")), "2027-W01");
        assert_eq!(parse_month("2026-11").unwrap(), d("2026-11-01"));
        assert!(parse_month("2026-13").is_err());
        assert!(parse_month("2026-1").is_err());
        assert_eq!(month_end(d("2027-02-01")), d("2027-02-28"));
    }

    #[test]
    fn default_spans() {
        // Monday: the week before; Friday (5 school days) and the weekend: this week.
        assert_eq!(default_week(d("2026-11-23"), 5), d("2026-11-16"));
        assert_eq!(default_week(d("2026-11-26"), 5), d("2026-11-16"));
        assert_eq!(default_week(d("2026-11-27"), 5), d("2026-11-23"));
        assert_eq!(default_week(d("2026-11-29"), 5), d("2026-11-23"));
        assert_eq!(default_week(d("2026-11-27"), 6), d("2026-11-16"));
        // November 2026 ends on a Monday; October 2026's last school day is Friday the 30th.
        assert_eq!(default_month(d("2026-11-23"), 5), d("2026-10-01"));
        assert_eq!(default_month(d("2026-11-30"), 5), d("2026-11-01"));
        assert_eq!(default_month(d("2026-10-30"), 5), d("2026-10-01"));
        assert_eq!(default_month(d("2026-10-29"), 5), d("2026-09-01"));
    }
}
