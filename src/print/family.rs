//! Sheets for families who do not use the online diary: one per pupil for a week (one A4
//! page) or a calendar month (at most two pages), with the lessons and their topics,
//! homework, marks, absences, the teachers' remarks, coming events, the class teacher's
//! contact and a line for the parent's signature. Grade 1 gets no marks.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Result, bail};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::data::{self, Absences, EventLine, Index, NewsLine, Teacher, text};
use super::fit::{self, CELL_V_MM, PAGE_MM, line_mm, lines, row_mm};
use crate::i18n::Strings;
use crate::journal::{Attendance, Class, Id, Lesson, Mark, Student};

/// A column of a sheet's table: its key (for the template) and width in mm.
#[derive(Serialize, Clone, Copy)]
pub(super) struct Column {
    pub key: &'static str,
    pub width: f32,
}

fn width(cols: &[Column], key: &str) -> f32 {
    cols.iter().find(|c| c.key == key).map_or(0.0, |c| c.width)
}

#[derive(Serialize)]
pub(super) struct SheetMark {
    pub value: String,
    pub work_type: Option<String>,
    pub debt: bool,
}

#[derive(Serialize)]
pub(super) struct Remark {
    pub date: String,
    pub subject: Option<String>,
    /// A comment on a mark: the mark.
    pub mark: Option<String>,
    /// A teacher's remark about the pupil: what it is about ("похвала").
    pub kind: Option<String>,
    /// A teacher's remark: the teacher, as surname and initials.
    pub by: Option<String>,
    pub text: String,
}

/// A teacher's period mark that became final within the sheet's span, with its comment.
#[derive(Serialize)]
pub(super) struct FinalMark {
    pub subject: String,
    pub period: String,
    pub value: String,
    pub comment: Option<String>,
}

#[derive(Serialize)]
pub(super) struct WeekLesson {
    pub number: i64,
    pub subject: String,
    pub group: Option<String>,
    pub topic: Option<String>,
    pub homework: Option<String>,
    pub cancelled: bool,
    pub marks: Vec<SheetMark>,
    pub attendance: Option<String>,
}

#[derive(Serialize)]
pub(super) struct WeekDay {
    pub weekday: String,
    pub date: String,
    pub holiday: Option<String>,
    pub lessons: Vec<WeekLesson>,
    /// Rows the day spans in the table (at least one).
    pub rows: usize,
}

#[derive(Serialize)]
pub(super) struct MonthTopic {
    pub day: u32,
    pub topic: Option<String>,
    pub homework: Option<String>,
    pub cancelled: bool,
}

#[derive(Serialize)]
pub(super) struct MonthMark {
    pub day: u32,
    pub value: String,
    pub work_type: Option<String>,
    pub debt: bool,
}

#[derive(Serialize)]
pub(super) struct MonthAbsence {
    /// "по болезни".
    pub status: String,
    /// "12, 13, 14".
    pub days: String,
}

#[derive(Serialize)]
pub(super) struct MonthSubject {
    pub subject: String,
    pub lessons: usize,
    pub lessons_text: String,
    pub topics: Vec<MonthTopic>,
    pub marks: Vec<MonthMark>,
    pub absences: Vec<MonthAbsence>,
}

/// One family's sheet: one pupil.
#[derive(Serialize)]
pub(super) struct FamilySheet {
    pub name: String,
    /// The sheet's font size in points, chosen so that it fits its pages.
    pub font: String,
    pub days: Vec<WeekDay>,
    pub subjects: Vec<MonthSubject>,
    pub absences: Absences,
    pub remarks: Vec<Remark>,
    pub final_marks: Vec<FinalMark>,
}

/// A class's sheets for one week or month: one HTML file.
#[derive(Serialize)]
pub(super) struct FamilyDoc {
    pub kind: &'static str,
    pub school: String,
    pub class: String,
    pub span: String,
    pub printed: String,
    pub no_marks: bool,
    pub columns: Vec<Column>,
    pub teacher: Teacher,
    pub events_title: String,
    pub events: Vec<EventLine>,
    /// The school's, the grade's and the class's announcements published in the span.
    pub news: Vec<NewsLine>,
    pub sheets: Vec<FamilySheet>,
}

/// Pupil-side lookups for one span: the pupil's marks and attendance by lesson.
struct Pupil<'a> {
    student: &'a Student,
    marks: HashMap<Id, Vec<&'a Mark>>,
    attendance: HashMap<Id, &'a Attendance>,
}

impl<'a> Pupil<'a> {
    fn new(ix: &Index<'a>, student: &'a Student, lessons: &[&Lesson], no_marks: bool) -> Pupil<'a> {
        let ids: std::collections::HashSet<Id> = lessons.iter().map(|l| l.id).collect();
        let mut marks: HashMap<Id, Vec<&Mark>> = HashMap::new();
        if !no_marks {
            for m in ix.marks_of(student.id) {
                if ids.contains(&m.lesson_id) {
                    marks.entry(m.lesson_id).or_default().push(m);
                }
            }
            for v in marks.values_mut() {
                v.sort_by_key(|m| m.id);
            }
        }
        let attendance = ix
            .attendance_of(student.id)
            .iter()
            .filter(|a| ids.contains(&a.lesson_id))
            .map(|a| (a.lesson_id, *a))
            .collect();
        Pupil {
            student,
            marks,
            attendance,
        }
    }

    /// The lessons of the span the pupil is taught (or was marked at).
    fn lessons<'l>(&self, ix: &Index, lessons: &'l [&'a Lesson]) -> Vec<&'l &'a Lesson> {
        lessons
            .iter()
            .filter(|l| {
                ix.attends(self.student.id, l)
                    || self.marks.contains_key(&l.id)
                    || self.attendance.contains_key(&l.id)
            })
            .collect()
    }

    /// The pupil's sheet of `span` without its days or subjects: the absences, the remarks
    /// and (from grade 2) the period marks that became final.
    fn sheet(
        &self,
        ix: &Index,
        lessons: &[&&Lesson],
        span: (NaiveDate, NaiveDate),
        today: NaiveDate,
        no_marks: bool,
    ) -> FamilySheet {
        FamilySheet {
            name: self.student.full_name(),
            font: String::new(),
            days: Vec::new(),
            subjects: Vec::new(),
            absences: self.absences(ix),
            remarks: self.remarks(ix, lessons, span),
            final_marks: if no_marks {
                Vec::new()
            } else {
                self.final_marks(ix, span, today)
            },
        }
    }

    /// The comments on the pupil's marks of `lessons` and the teachers' remarks about the
    /// pupil within `from..=to`, by date.
    fn remarks(
        &self,
        ix: &Index,
        lessons: &[&&Lesson],
        (from, to): (NaiveDate, NaiveDate),
    ) -> Vec<Remark> {
        let mut out: Vec<(NaiveDate, Remark)> = Vec::new();
        for l in lessons {
            for m in self.marks.get(&l.id).into_iter().flatten() {
                if let Some(text) = m
                    .comment
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                {
                    out.push((
                        l.date,
                        Remark {
                            date: ix.strings.date_short_weekday(l.date),
                            subject: Some(ix.subject_name(l.subject_id)),
                            mark: m.value.as_deref().map(str::to_string),
                            kind: None,
                            by: None,
                            text: text.to_string(),
                        },
                    ));
                }
            }
        }
        let s = ix.strings;
        for r in ix.remarks_of(self.student.id) {
            if r.date < from || r.date > to {
                continue;
            }
            out.push((
                r.date,
                Remark {
                    date: s.date_short_weekday(r.date),
                    subject: r.subject_id.map(|id| ix.subject_name(id)),
                    mark: None,
                    kind: Some(s.get(&format!("remark_{}", r.kind.as_str())).to_string()),
                    by: r
                        .teacher_id
                        .and_then(|t| ix.j.teacher(t))
                        .map(|t| t.short_name()),
                    text: r.text.trim().to_string(),
                },
            ));
        }
        out.sort_by_key(|(d, _)| *d);
        out.into_iter().map(|(_, r)| r).collect()
    }

    /// The pupil's period marks that became final within `from..=to` (and by `today`).
    fn final_marks(
        &self,
        ix: &Index,
        (from, to): (NaiveDate, NaiveDate),
        today: NaiveDate,
    ) -> Vec<FinalMark> {
        let mut out: Vec<(NaiveDate, i64, FinalMark)> = ix
            .period_marks_of(self.student.id)
            .iter()
            .filter_map(|pm| {
                let p = ix.j.period(pm.period_id)?;
                let day = pm.final_from(p);
                (day >= from && day <= to && day <= today).then(|| {
                    (
                        day,
                        p.kind.rank().into(),
                        FinalMark {
                            subject: ix.subject_name(pm.subject_id),
                            period: p.name.clone(),
                            value: pm.value.trim().to_string(),
                            comment: text(&pm.comment),
                        },
                    )
                })
            })
            .collect();
        out.sort_by(|a, b| (a.0, a.1, &a.2.subject).cmp(&(b.0, b.1, &b.2.subject)));
        out.into_iter().map(|(_, _, m)| m).collect()
    }

    fn absences(&self, ix: &Index) -> Absences {
        let mut rows: Vec<&Attendance> = self.attendance.values().copied().collect();
        rows.sort_by_key(|a| a.lesson_id);
        ix.absence_totals(rows)
    }
}

fn sheet_mark(ix: &Index, m: &Mark) -> SheetMark {
    SheetMark {
        value: m.value.as_deref().unwrap_or("•").to_string(),
        work_type: ix.work_type_name(m.work_type_id),
        debt: m.is_debt,
    }
}

/// The weekly sheets of a class for the week starting on `monday`.
pub(super) fn weekly(
    ix: &Index,
    class: &Class,
    monday: NaiveDate,
    today: NaiveDate,
) -> Result<FamilyDoc> {
    let s = ix.strings;
    let days = i64::from(ix.config.school_days);
    let last = monday + Duration::days(days - 1);
    let sunday = monday + Duration::days(6);
    let year = data::year_of(ix.j, class)?;
    if sunday < year.starts_on || monday > year.ends_on {
        bail!(
            "week {} ({}) is outside the academic year {} of class {} ({}); pick a week with --week",
            data::week_name(monday),
            s.range(monday, sunday),
            year.name,
            class.name,
            s.range(year.starts_on, year.ends_on)
        );
    }
    let lessons = ix.lessons(class.id, monday, last);
    if lessons.is_empty() {
        let holiday =
            ix.j.holidays
                .iter()
                .find(|h| h.covers(monday, class.grade) || h.covers(last, class.grade))
                .map(|h| format!(" ({})", h.name))
                .unwrap_or_default();
        bail!(
            "class {} has no lessons in week {} ({}){holiday}: nothing to print",
            class.name,
            data::week_name(monday),
            s.range(monday, sunday)
        );
    }
    let no_marks = class.grade <= 1;
    let homework = !no_marks || lessons.iter().any(|l| text(&l.homework).is_some());
    let columns = week_columns(no_marks, homework);
    let next = monday + Duration::days(7);
    let frame = Frame::new(
        ix,
        class,
        columns,
        no_marks,
        (next, next + Duration::days(6)),
        (monday, sunday),
    );
    let mut sheets = Vec::new();
    for student in ix.pupils(class.id) {
        let pupil = Pupil::new(ix, student, lessons, no_marks);
        let mine = pupil.lessons(ix, lessons);
        let days: Vec<WeekDay> = (0..days)
            .map(|i| {
                let date = monday + Duration::days(i);
                let todays: Vec<WeekLesson> = mine
                    .iter()
                    .filter(|l| l.date == date)
                    .map(|l| WeekLesson {
                        number: l.number,
                        subject: ix.subject_name(l.subject_id),
                        group: l
                            .group_id
                            .and_then(|g| ix.j.group(g))
                            .map(|g| g.name.clone()),
                        topic: text(&l.topic),
                        homework: if homework { text(&l.homework) } else { None },
                        cancelled: l.cancelled,
                        marks: pupil
                            .marks
                            .get(&l.id)
                            .map(|ms| ms.iter().map(|m| sheet_mark(ix, m)).collect())
                            .unwrap_or_default(),
                        attendance: pupil.attendance.get(&l.id).map(|a| ix.attendance_text(a)),
                    })
                    .collect();
                let holiday = if todays.is_empty() {
                    ix.j.holiday_on(date, class.grade).map(|h| h.name.clone())
                } else {
                    None
                };
                WeekDay {
                    weekday: short_weekday(s, date),
                    date: date.day().to_string(),
                    holiday,
                    rows: todays.len().max(1),
                    lessons: todays,
                }
            })
            .collect();
        let mut sheet = FamilySheet {
            days,
            ..pupil.sheet(ix, &mine, (monday, sunday), today, no_marks)
        };
        fit_weekly(&mut sheet, &frame);
        sheets.push(sheet);
    }
    Ok(frame.into_doc(
        "weekly",
        s.range(monday, sunday),
        "print_events_next_week",
        today,
        sheets,
    ))
}

/// The headings of a sheet's columns, with their widths.
pub(super) fn headings(s: &crate::i18n::Strings, cols: &[Column]) -> Vec<(String, f32)> {
    cols.iter()
        .map(|c| (s.get(&format!("print_col_{}", c.key)).to_string(), c.width))
        .collect()
}

/// "пн": the short weekday name of the school's language.
fn short_weekday(s: &crate::i18n::Strings, date: NaiveDate) -> String {
    let label = s.date_short_weekday(date);
    label.split(',').next().unwrap_or(&label).to_string()
}

fn week_columns(no_marks: bool, homework: bool) -> Vec<Column> {
    let c = |key, width| Column { key, width };
    match (no_marks, homework) {
        (false, _) => vec![
            c("day", 11.0),
            c("number", 5.0),
            c("subject", 27.0),
            c("topic", 59.0),
            c("homework", 50.0),
            c("marks", 38.0),
        ],
        (true, true) => vec![
            c("day", 11.0),
            c("number", 5.0),
            c("subject", 30.0),
            c("topic", 62.0),
            c("homework", 48.0),
            c("attendance", 34.0),
        ],
        (true, false) => vec![
            c("day", 11.0),
            c("number", 5.0),
            c("subject", 34.0),
            c("topic", 96.0),
            c("attendance", 44.0),
        ],
    }
}

/// The lines of text a lesson's marks-and-attendance cell holds.
fn marks_cell(l: &WeekLesson, s: &Strings) -> String {
    let mut parts: Vec<String> = l
        .marks
        .iter()
        .map(|m| {
            format!(
                "{} {}{}",
                m.value,
                m.work_type.as_deref().unwrap_or(""),
                if m.debt {
                    format!(" ({})", s.get("print_debt"))
                } else {
                    String::new()
                }
            )
        })
        .collect();
    if let Some(a) = &l.attendance {
        parts.push(a.clone());
    }
    parts.join("\n")
}

/// Height of a sheet's heading: school and title (small), the pupil (large).
fn heading_mm(pt: f32) -> f32 {
    line_mm(pt * 0.9, 2) + line_mm(pt * 1.4, 1) + 2.5
}

/// Height of what follows a family sheet's table: absences, remarks, events, the class
/// teacher and the signature line.
fn tail_mm(pt: f32, sheet: &FamilySheet, f: &Frame) -> f32 {
    let (s, no_marks, events, teacher) = (f.s, f.no_marks, &f.events, &f.teacher);
    let news = &f.news;
    let w = fit::WIDTH_MM;
    let gap = 2.0;
    let abs = format!(
        "{}: {} {} ({}); {}: {}",
        s.get("print_absences"),
        s.get("print_absent_total"),
        sheet.absences.absent_text,
        sheet.absences.reasons,
        s.get("print_late_total"),
        sheet.absences.late
    );
    let mut h = gap + line_mm(pt, lines(&abs, w, pt));
    if !sheet.final_marks.is_empty() {
        h += gap + line_mm(pt, 1);
        for m in &sheet.final_marks {
            let t = format!(
                "• {}, {}: {} «{}»",
                m.subject,
                m.period,
                m.value,
                m.comment.as_deref().unwrap_or("")
            );
            h += line_mm(pt, lines(&t, w, pt));
        }
    }
    if !no_marks || !sheet.remarks.is_empty() {
        h += gap + line_mm(pt, 1);
        for r in &sheet.remarks {
            let t = format!(
                "• {} {} {} {} «{}» — {}",
                r.date,
                r.kind.as_deref().unwrap_or(""),
                r.subject.as_deref().unwrap_or(""),
                r.mark.as_deref().unwrap_or(""),
                r.text,
                r.by.as_deref().unwrap_or("")
            );
            h += line_mm(pt, lines(&t, w, pt));
        }
    }
    if !news.is_empty() {
        h += gap + line_mm(pt, 1);
        for n in news {
            let t = format!(
                "{} — {} ({})",
                n.date,
                n.title,
                n.audience.as_deref().unwrap_or("")
            );
            h += line_mm(pt, lines(&t, w, pt));
        }
    }
    h += gap + line_mm(pt, 1);
    if events.is_empty() {
        h += line_mm(pt, 1);
    }
    for e in events {
        let t = format!(
            "{} {} — {} ({})",
            e.date,
            e.time.as_deref().unwrap_or(""),
            e.title,
            e.place.as_deref().unwrap_or("")
        );
        h += line_mm(pt, lines(&t, w, pt));
    }
    let t = format!(
        "{}: {}, {}",
        s.get("print_class_teacher"),
        teacher.name.as_deref().unwrap_or(""),
        teacher.contact.as_deref().unwrap_or("")
    );
    h += gap + line_mm(pt, lines(&t, w, pt));
    // The signature line, with room to sign above it.
    h + 8.0 + line_mm(pt, 2)
}

/// What a class's sheets share, for fitting them, and the document they go into.
struct Frame<'a> {
    s: &'a Strings,
    school: String,
    class: String,
    cols: Vec<Column>,
    /// The columns' headings with their widths.
    headings: Vec<(String, f32)>,
    no_marks: bool,
    events: Vec<EventLine>,
    news: Vec<NewsLine>,
    teacher: Teacher,
}

impl<'a> Frame<'a> {
    /// The frame of a class's sheets: events from `from` to `to`, the announcements
    /// published within `news_span`, the class teacher.
    fn new(
        ix: &'a Index,
        class: &Class,
        cols: Vec<Column>,
        no_marks: bool,
        (from, to): (NaiveDate, NaiveDate),
        news_span: (NaiveDate, NaiveDate),
    ) -> Frame<'a> {
        Frame {
            s: ix.strings,
            school: ix.j.school.name.clone(),
            class: class.name.clone(),
            headings: headings(ix.strings, &cols),
            cols,
            no_marks,
            events: ix.events(class.id, from, to),
            news: ix.news(class, news_span.0, news_span.1),
            teacher: ix.class_teacher(class),
        }
    }

    /// The document of the class's `sheets`: `kind` "weekly" or "monthly", for `span`,
    /// its events under the heading of the key `events_title`.
    fn into_doc(
        self,
        kind: &'static str,
        span: String,
        events_title: &str,
        today: NaiveDate,
        sheets: Vec<FamilySheet>,
    ) -> FamilyDoc {
        FamilyDoc {
            kind,
            school: self.school,
            class: self.class,
            span,
            printed: self.s.date(today),
            no_marks: self.no_marks,
            columns: self.cols,
            teacher: self.teacher,
            events_title: self.s.get(events_title).to_string(),
            events: self.events,
            news: self.news,
            sheets,
        }
    }

    fn tail_mm(&self, pt: f32, sheet: &FamilySheet) -> f32 {
        tail_mm(pt, sheet, self)
    }
}

fn weekly_mm(pt: f32, sheet: &FamilySheet, f: &Frame) -> f32 {
    let cols = &f.cols;
    let mut h = heading_mm(pt) + f.tail_mm(pt, sheet);
    h += fit::heading_row_mm(pt, &f.headings);
    for d in &sheet.days {
        let label = format!("{} {}", d.weekday, d.date);
        let label_mm =
            line_mm(pt, lines(&label, width(cols, "day") - fit::CELL_H_MM, pt)) + CELL_V_MM;
        let mut rows = 0.0;
        if d.lessons.is_empty() {
            rows = row_mm(pt, &[(d.holiday.as_deref().unwrap_or("x"), 150.0, 1.0)]);
        }
        for l in &d.lessons {
            let subject = format!("{} {}", l.subject, l.group.as_deref().unwrap_or(""));
            let topic = format!(
                "{}{}",
                l.topic.as_deref().unwrap_or(""),
                if l.cancelled {
                    f.s.get("print_cancelled")
                } else {
                    ""
                }
            );
            let marks = marks_cell(l, f.s);
            let r = row_mm(
                pt,
                &[
                    (&subject, width(cols, "subject"), 1.0),
                    (&topic, width(cols, "topic"), 1.0),
                    (
                        l.homework.as_deref().unwrap_or(""),
                        width(cols, "homework"),
                        1.0,
                    ),
                    (
                        &marks,
                        width(cols, "marks").max(width(cols, "attendance")),
                        1.0,
                    ),
                ],
            );
            rows += r;
        }
        // A day starts with a thicker rule.
        h += rows.max(label_mm) + 0.4;
    }
    h
}

/// Picks the sheet's font size; if even the smallest is too large, shortens the longest
/// texts until the sheet fits one page.
fn fit_weekly(sheet: &mut FamilySheet, f: &Frame) {
    fit_sheet(
        sheet,
        120,
        20,
        |sheet, pt| weekly_mm(pt, sheet, f) <= PAGE_MM,
        |sheet, limit| {
            for d in &mut sheet.days {
                for l in &mut d.lessons {
                    for t in [&mut l.topic, &mut l.homework].into_iter().flatten() {
                        *t = fit::shorten(t, limit);
                    }
                }
            }
        },
    );
}

/// The largest font size at which `fits` holds; when even the smallest does not, the
/// longest texts (the ones `shorten` cuts, and the remarks) are cut to `limit` characters,
/// then to two thirds of that, and so on down to `floor`, after which the smallest size is
/// taken whatever it gives.
fn fit_sheet(
    sheet: &mut FamilySheet,
    mut limit: usize,
    floor: usize,
    fits: impl Fn(&FamilySheet, f32) -> bool,
    shorten: impl Fn(&mut FamilySheet, usize),
) {
    loop {
        if let Some(pt) = fit::SIZES.into_iter().find(|&pt| fits(sheet, pt)) {
            sheet.font = format!("{pt}");
            return;
        }
        if limit < floor {
            sheet.font = format!("{}", fit::SIZES[fit::SIZES.len() - 1]);
            return;
        }
        shorten(sheet, limit);
        for r in &mut sheet.remarks {
            r.text = fit::shorten(&r.text, limit);
        }
        limit = limit * 2 / 3;
    }
}

/// The monthly sheets of a class for the month starting on `first`.
pub(super) fn monthly(
    ix: &Index,
    class: &Class,
    first: NaiveDate,
    today: NaiveDate,
) -> Result<FamilyDoc> {
    let s = ix.strings;
    let last = data::month_end(first);
    let lessons = ix.lessons(class.id, first, last);
    if lessons.is_empty() {
        let year = data::year_of(ix.j, class)?;
        bail!(
            "class {} has no lessons in {} (its academic year {} runs {}): nothing to print",
            class.name,
            s.month_year(first),
            year.name,
            s.range(year.starts_on, year.ends_on)
        );
    }
    let no_marks = class.grade <= 1;
    let c = |key, width| Column { key, width };
    let columns = if no_marks {
        vec![c("subject", 34.0), c("topics", 120.0), c("absences", 36.0)]
    } else {
        vec![
            c("subject", 30.0),
            c("topics", 100.0),
            c("month_marks", 34.0),
            c("absences", 26.0),
        ]
    };
    let next = last + Duration::days(1);
    let frame = Frame::new(
        ix,
        class,
        columns,
        no_marks,
        (next, data::month_end(next)),
        (first, last),
    );
    let mut sheets = Vec::new();
    for student in ix.pupils(class.id) {
        let pupil = Pupil::new(ix, student, lessons, no_marks);
        let mine = pupil.lessons(ix, lessons);
        let mut by_subject: BTreeMap<Id, Vec<&&Lesson>> = BTreeMap::new();
        for l in &mine {
            by_subject.entry(l.subject_id).or_default().push(l);
        }
        let subjects = by_subject
            .into_iter()
            .map(|(subject, ls)| {
                let taught = ls.iter().filter(|l| !l.cancelled).count();
                let mut absences: Vec<MonthAbsence> = Vec::new();
                let mut by_status: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
                for l in &ls {
                    if let Some(a) = pupil.attendance.get(&l.id) {
                        by_status
                            .entry(a.status.as_str())
                            .or_default()
                            .push(l.date.day());
                    }
                }
                for (status, mut days) in by_status {
                    days.dedup();
                    absences.push(MonthAbsence {
                        status: s.get(&format!("print_att_{status}")).to_string(),
                        days: days
                            .iter()
                            .map(u32::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                MonthSubject {
                    subject: ix.subject_name(subject),
                    lessons: taught,
                    lessons_text: s.plural(taught as i64, "lessons"),
                    topics: ls
                        .iter()
                        .map(|l| MonthTopic {
                            day: l.date.day(),
                            topic: text(&l.topic),
                            homework: text(&l.homework),
                            cancelled: l.cancelled,
                        })
                        .collect(),
                    marks: ls
                        .iter()
                        .flat_map(|l| {
                            pupil
                                .marks
                                .get(&l.id)
                                .into_iter()
                                .flatten()
                                .map(|m| MonthMark {
                                    day: l.date.day(),
                                    value: m.value.as_deref().unwrap_or("•").to_string(),
                                    work_type: ix.work_type_name(m.work_type_id),
                                    debt: m.is_debt,
                                })
                        })
                        .collect(),
                    absences,
                }
            })
            .collect();
        let mut sheet = FamilySheet {
            subjects,
            ..pupil.sheet(ix, &mine, (first, last), today, no_marks)
        };
        fit_monthly(&mut sheet, &frame);
        sheets.push(sheet);
    }
    Ok(frame.into_doc(
        "monthly",
        s.month_year(first),
        "print_events_next_month",
        today,
        sheets,
    ))
}

fn topics_text(sub: &MonthSubject, s: &Strings) -> String {
    sub.topics
        .iter()
        .map(|t| {
            format!(
                "{} {}{} {}",
                t.day,
                if t.cancelled {
                    format!("{} ", s.get("print_cancelled"))
                } else {
                    String::new()
                },
                t.topic.as_deref().unwrap_or("—"),
                t.homework
                    .as_deref()
                    .map(|h| format!("({}: {h})", s.get("print_hw_short")))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn monthly_rows(pt: f32, sheet: &FamilySheet, f: &Frame) -> Vec<f32> {
    let cols = &f.cols;
    sheet
        .subjects
        .iter()
        .map(|sub| {
            let subject = format!("{} {}", sub.subject, sub.lessons_text);
            let marks = sub
                .marks
                .iter()
                .map(|m| {
                    format!(
                        "{} {} {}{}",
                        m.value,
                        m.day,
                        m.work_type.as_deref().unwrap_or(""),
                        if m.debt {
                            format!(" ({})", f.s.get("print_debt"))
                        } else {
                            String::new()
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let absences = sub
                .absences
                .iter()
                .map(|a| format!("{}: {}", a.status, a.days))
                .collect::<Vec<_>>()
                .join("\n");
            row_mm(
                pt,
                &[
                    (&subject, width(cols, "subject"), 1.0),
                    (&topics_text(sub, f.s), width(cols, "topics"), 0.9),
                    (&marks, width(cols, "month_marks"), 0.9),
                    (&absences, width(cols, "absences"), 0.9),
                ],
            )
        })
        .collect()
}

/// A monthly sheet may take two pages: the table breaks between rows and its heading is
/// repeated, so each page loses the heading and at most the tallest row.
fn monthly_fits(pt: f32, sheet: &FamilySheet, f: &Frame) -> bool {
    let rows = monthly_rows(pt, sheet, f);
    let head = heading_mm(pt) + fit::heading_row_mm(pt, &f.headings);
    let tallest = rows.iter().copied().fold(0.0, f32::max);
    if tallest > PAGE_MM - head - 10.0 {
        return false;
    }
    let total = f.tail_mm(pt, sheet) + head + rows.iter().sum::<f32>();
    total <= 2.0 * PAGE_MM - head - tallest - 5.0
}

fn fit_monthly(sheet: &mut FamilySheet, f: &Frame) {
    fit_sheet(
        sheet,
        100,
        15,
        |sheet, pt| monthly_fits(pt, sheet, f),
        |sheet, limit| {
            for sub in &mut sheet.subjects {
                for t in &mut sub.topics {
                    for x in [&mut t.topic, &mut t.homework].into_iter().flatten() {
                        *x = fit::shorten(x, limit);
                    }
                }
            }
        },
    );
}
