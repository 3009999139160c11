//! The class journal on paper for the archive: one class's whole academic year — a title
//! page with the certification of its sheets, a table of contents, a section per subject
//! (lessons with topics and homework, the marks grid by month with the period marks where
//! the periods end, absences with their letters) and a final page of period marks and
//! absences. The count of sheets on the title page is the count of pages Chromium prints,
//! one-sided: the journal is printed, counted and printed again until the two agree.
//! Lessons are those given (not cancelled) up to the day the journal is printed.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::data::{self, Index, Teacher};
use super::summary::{self, SummaryDoc};
use super::{pdf, write_private};
use crate::journal::{Attendance, AttendanceStatus, Class, Id, Lesson, Mark, Period, PeriodKind};
use crate::render::Renderer;
use crate::text::slug;

/// At most this many lessons in one part of a marks grid, with at most four period-mark
/// columns after them (a term, the year, an exam, the final mark): 28 columns of 8 mm fit
/// landscape A4 beside the names.
pub(super) const MAX_COLUMNS: usize = 24;

/// How many times the journal is printed again when its count of sheets changed the layout.
const MAX_PASSES: usize = 3;

#[derive(Serialize)]
pub(super) struct JournalDoc {
    pub school: String,
    pub class: String,
    pub year: String,
    pub teacher: Teacher,
    pub printed: String,
    /// Pages of the printed journal (one-sided), once counted; `None` prints a blank.
    pub sheets: Option<usize>,
    /// "листов" for `sheets`.
    pub sheets_word: String,
    pub legend: Vec<Legend>,
    /// "1 ч — 1 четверть, Г — год".
    pub period_names: String,
    pub subjects: Vec<SubjectSection>,
    /// The class summary sheet's marks (none in a first grade).
    pub summary: Option<SummaryDoc>,
    pub absences: Vec<AbsenceRow>,
}

#[derive(Serialize)]
pub(super) struct Legend {
    pub letter: String,
    pub text: String,
}

#[derive(Serialize)]
pub(super) struct SubjectSection {
    pub number: usize,
    pub name: String,
    /// The subject's teachers (not substitutes), "Иванова Анна Петровна, …".
    pub teachers: String,
    /// "102 урока".
    pub lesson_count: String,
    pub lessons: Vec<LessonRow>,
    pub grids: Vec<GridPart>,
    pub absences: Vec<PupilAbsences>,
}

#[derive(Serialize)]
pub(super) struct LessonRow {
    pub n: usize,
    /// "02.09".
    pub date: String,
    pub number: i64,
    pub topic: String,
    pub homework: String,
    /// "замена: Петров П. П.", the group's name.
    pub note: String,
}

#[derive(Serialize)]
pub(super) struct GridPart {
    /// "сентябрь 2026".
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<GridRow>,
}

#[derive(Serialize, Clone)]
pub(super) struct Column {
    /// "02.09" for a lesson, "1 ч" / "Г" for a period mark.
    pub label: String,
    pub period: bool,
}

#[derive(Serialize)]
pub(super) struct GridRow {
    pub number: usize,
    pub name: String,
    pub cells: Vec<Cell>,
}

#[derive(Serialize, Default, Clone)]
pub(super) struct Cell {
    pub text: String,
    /// The pupil is not taught this lesson (another group's).
    pub none: bool,
}

#[derive(Serialize)]
pub(super) struct PupilAbsences {
    pub number: usize,
    pub name: String,
    /// "02.09 б, 14.10 н".
    pub days: String,
    pub total: usize,
}

#[derive(Serialize)]
pub(super) struct AbsenceRow {
    pub number: usize,
    pub name: String,
    /// Missed lessons (every status but lateness).
    pub absent: usize,
    pub ill: usize,
    pub excused: usize,
    /// Without a valid reason, or no reason given.
    pub unexcused: usize,
    pub late: usize,
}

/// The letter a journal writes for an attendance status: "н", "б", "у", "о".
pub(super) fn letter(ix: &Index, status: AttendanceStatus) -> String {
    ix.strings
        .get(&format!("journal_letter_{}", status.as_str()))
        .to_string()
}

/// "1 ч" for "1 четверть", "Г" for the year, "Э" for an exam, "И" for the final mark.
fn period_label(ix: &Index, p: &Period) -> String {
    match p.kind {
        PeriodKind::Year => ix.strings.get("print_year_short").to_string(),
        PeriodKind::Exam => ix.strings.get("print_exam_short").to_string(),
        PeriodKind::Final => ix.strings.get("print_final_short").to_string(),
        _ => match p
            .name
            .split_whitespace()
            .nth(1)
            .and_then(|w| w.chars().next())
        {
            Some(c) => format!("{} {}", p.number, c.to_lowercase()),
            None => p.number.to_string(),
        },
    }
}

/// The journal of a class's year, with `sheets` on its title page.
pub(super) fn journal(
    ix: &Index,
    class: &Class,
    today: NaiveDate,
    sheets: Option<usize>,
) -> Result<JournalDoc> {
    let s = ix.strings;
    let j = ix.j;
    let year = data::year_of(j, class)?;
    let lessons: Vec<&Lesson> = ix
        .lessons(class.id, year.starts_on, year.ends_on)
        .iter()
        .copied()
        .filter(|l| !l.cancelled && l.date <= today)
        .collect();
    if lessons.is_empty() {
        bail!(
            "class {} has no lessons given in the academic year {} ({} – {}) up to {today}: \
             there is no journal to print",
            class.name,
            year.name,
            year.starts_on,
            year.ends_on
        );
    }
    let pupils = ix.pupils(class.id);
    if pupils.is_empty() {
        bail!(
            "class {} has no pupils: there is no journal to print",
            class.name
        );
    }
    let mut periods: Vec<&Period> = data::terms(ix, class);
    periods.extend(data::year_period(j, class));
    periods.extend(data::exams_of(ix, class, pupils));
    let marks_given = class.grade > 1;

    // Marks and attendance of the class's pupils, by pupil and lesson.
    let mut marks: HashMap<(Id, Id), Vec<&Mark>> = HashMap::new();
    let mut attendance: HashMap<(Id, Id), &Attendance> = HashMap::new();
    for p in pupils {
        for m in ix.marks_of(p.id) {
            marks.entry((p.id, m.lesson_id)).or_default().push(m);
        }
        for a in ix.attendance_of(p.id) {
            attendance.insert((p.id, a.lesson_id), a);
        }
    }

    let subject_ids: BTreeSet<Id> = lessons.iter().map(|l| l.subject_id).collect();
    let mut subjects: Vec<(&crate::journal::Subject, Vec<&Lesson>)> = subject_ids
        .iter()
        .filter_map(|id| j.subject(*id))
        .map(|subj| {
            let of: Vec<&Lesson> = lessons
                .iter()
                .copied()
                .filter(|l| l.subject_id == subj.id)
                .collect();
            (subj, of)
        })
        .collect();
    subjects.sort_by(|a, b| (&a.0.name, a.0.id).cmp(&(&b.0.name, b.0.id)));

    let day = |d: NaiveDate| d.format("%d.%m").to_string();
    let grid_name = |p: &crate::journal::Student| format!("{} {}", p.last_name, p.first_name);
    let teacher_name = |id: Option<Id>| id.and_then(|t| j.teacher(t)).map(|t| t.short_name());

    let sections = subjects
        .iter()
        .enumerate()
        .map(|(i, (subj, of))| {
            let mut teachers: Vec<String> = Vec::new();
            for l in of {
                if let Some(t) = l
                    .teacher_id
                    .and_then(|t| j.teacher(t))
                    .map(|t| t.full_name())
                    && !teachers.contains(&t)
                {
                    teachers.push(t);
                }
            }
            let rows = of
                .iter()
                .enumerate()
                .map(|(n, l)| {
                    let mut note = Vec::new();
                    if let Some(t) = teacher_name(l.substitute_teacher_id) {
                        note.push(format!("{} {t}", s.get("journal_substitute")));
                    }
                    if let Some(g) = l.group_id.and_then(|g| j.group(g)) {
                        note.push(g.name.clone());
                    }
                    LessonRow {
                        n: n + 1,
                        date: day(l.date),
                        number: l.number,
                        topic: data::text(&l.topic).unwrap_or_default(),
                        homework: data::text(&l.homework).unwrap_or_default(),
                        note: note.join("; "),
                    }
                })
                .collect();
            let grids = if marks_given {
                grid(
                    ix,
                    of,
                    &periods,
                    subj.id,
                    today,
                    &marks,
                    &attendance,
                    &grid_name,
                )
            } else {
                attendance_grid(ix, of, &attendance, &grid_name)
            };
            let absences = pupils
                .iter()
                .filter_map(|p| {
                    let days: Vec<String> = of
                        .iter()
                        .filter_map(|l| {
                            let a = attendance.get(&(p.id, l.id))?;
                            Some(format!("{} {}", day(l.date), letter(ix, a.status)))
                        })
                        .collect();
                    (!days.is_empty()).then_some((p, days))
                })
                .enumerate()
                .map(|(n, (p, days))| PupilAbsences {
                    number: n + 1,
                    name: p.full_name(),
                    total: days.len(),
                    days: days.join(", "),
                })
                .collect();
            SubjectSection {
                number: i + 1,
                name: subj.name.clone(),
                teachers: teachers.join(", "),
                lesson_count: s.plural(of.len() as i64, "lessons"),
                lessons: rows,
                grids,
                absences,
            }
        })
        .collect();

    let lesson_ids: BTreeSet<Id> = lessons.iter().map(|l| l.id).collect();
    let absences = pupils
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let mut row = AbsenceRow {
                number: n + 1,
                name: p.full_name(),
                absent: 0,
                ill: 0,
                excused: 0,
                unexcused: 0,
                late: 0,
            };
            for a in ix
                .attendance_of(p.id)
                .iter()
                .filter(|a| lesson_ids.contains(&a.lesson_id))
            {
                match a.status {
                    AttendanceStatus::Late => row.late += 1,
                    AttendanceStatus::Ill => row.ill += 1,
                    AttendanceStatus::Excused => row.excused += 1,
                    AttendanceStatus::Absent | AttendanceStatus::Unexcused => row.unexcused += 1,
                }
                if a.status != AttendanceStatus::Late {
                    row.absent += 1;
                }
            }
            row
        })
        .collect();

    let sheets_word = match sheets {
        Some(n) => {
            let form = crate::i18n::plural_form(s.language, n as i64);
            s.get(
                [
                    "journal_sheets_one",
                    "journal_sheets_few",
                    "journal_sheets_many",
                ][form],
            )
            .to_string()
        }
        None => s.get("journal_sheets_many").to_string(),
    };
    Ok(JournalDoc {
        school: j.school.name.clone(),
        class: class.name.clone(),
        year: year.name.clone(),
        teacher: ix.class_teacher(class),
        printed: s.date(today),
        sheets,
        sheets_word,
        legend: AttendanceStatus::ALL
            .iter()
            .map(|st| Legend {
                letter: letter(ix, *st),
                text: s.get(&format!("print_att_{}", st.as_str())).to_string(),
            })
            .collect(),
        period_names: periods
            .iter()
            .map(|p| format!("{} — {}", period_label(ix, p), p.name))
            .collect::<Vec<_>>()
            .join(", "),
        subjects: sections,
        // The summary sheet needs the year's terms or the year itself.
        summary: if marks_given
            && periods
                .iter()
                .any(|p| p.kind.is_term() || p.kind == PeriodKind::Year)
        {
            Some(summary::summary(ix, class, today)?)
        } else {
            None
        },
        absences,
    })
}

/// A pupil's cell for a lesson: the marks, then the attendance letter.
fn lesson_cell(
    ix: &Index,
    pupil: Id,
    l: &Lesson,
    marks: &HashMap<(Id, Id), Vec<&Mark>>,
    attendance: &HashMap<(Id, Id), &Attendance>,
) -> Cell {
    if !ix.attends(pupil, l) {
        return Cell {
            text: String::new(),
            none: true,
        };
    }
    let mut parts: Vec<String> = marks
        .get(&(pupil, l.id))
        .into_iter()
        .flatten()
        .filter_map(|m| m.value.as_deref().map(str::trim).filter(|v| !v.is_empty()))
        .map(String::from)
        .collect();
    if let Some(a) = attendance.get(&(pupil, l.id)) {
        parts.push(letter(ix, a.status));
    }
    Cell {
        text: parts.join(" "),
        none: false,
    }
}

/// The marks grid of a subject: lesson columns month by month (at most [`MAX_COLUMNS`] a
/// part), each period's marks right after its last lesson, the later periods at the end.
#[allow(clippy::too_many_arguments)]
fn grid(
    ix: &Index,
    lessons: &[&Lesson],
    periods: &[&Period],
    subject: Id,
    today: NaiveDate,
    marks: &HashMap<(Id, Id), Vec<&Mark>>,
    attendance: &HashMap<(Id, Id), &Attendance>,
    name: &dyn Fn(&crate::journal::Student) -> String,
) -> Vec<GridPart> {
    let pupils = ix.pupils(lessons[0].class_id);
    // The columns in order: a lesson, or a period whose marks go there.
    enum Col<'a> {
        Lesson(&'a Lesson),
        Period(&'a Period),
    }
    let mut terms: Vec<&Period> = periods
        .iter()
        .copied()
        .filter(|p| p.kind.is_term())
        .collect();
    terms.sort_by_key(|p| (p.ends_on, p.id));
    let later: Vec<&Period> = periods
        .iter()
        .copied()
        .filter(|p| !p.kind.is_term())
        .collect();
    let mut cols: Vec<(NaiveDate, Col)> = Vec::new();
    let mut next_term = 0;
    for l in lessons {
        while next_term < terms.len() && terms[next_term].ends_on < l.date {
            let last = cols.last().map_or(l.date, |c| c.0);
            cols.push((last, Col::Period(terms[next_term])));
            next_term += 1;
        }
        cols.push((l.date, Col::Lesson(l)));
    }
    let last = cols.last().map_or(today, |c| c.0);
    for p in terms[next_term..].iter().chain(later.iter()) {
        cols.push((last, Col::Period(p)));
    }
    // Parts: a new one with each month, and after MAX_COLUMNS columns.
    let mut parts: Vec<(NaiveDate, Vec<&Col>)> = Vec::new();
    for (date, col) in &cols {
        let month = date.with_day(1).unwrap_or(*date);
        let new_month =
            matches!(col, Col::Lesson(_)) && parts.last().is_none_or(|(m, _)| *m != month);
        let full = matches!(col, Col::Lesson(_))
            && parts.last().is_some_and(|(_, c)| {
                c.iter().filter(|c| matches!(c, Col::Lesson(_))).count() >= MAX_COLUMNS
            });
        if new_month || full {
            parts.push((month, Vec::new()));
        }
        if let Some((_, c)) = parts.last_mut() {
            c.push(col);
        }
    }
    let months: Vec<NaiveDate> = parts.iter().map(|(m, _)| *m).collect();
    parts
        .iter()
        .enumerate()
        .map(|(i, (month, cols))| {
            let of_month = months.iter().filter(|m| *m == month).count();
            let nth = months[..=i].iter().filter(|m| *m == month).count();
            let mut title = ix.strings.month_year(*month);
            if of_month > 1 {
                title = format!("{title} ({nth})");
            }
            GridPart {
                title,
                columns: cols
                    .iter()
                    .map(|c| match c {
                        Col::Lesson(l) => Column {
                            label: l.date.format("%d.%m").to_string(),
                            period: false,
                        },
                        Col::Period(p) => Column {
                            label: period_label(ix, p),
                            period: true,
                        },
                    })
                    .collect(),
                rows: pupils
                    .iter()
                    .enumerate()
                    .map(|(n, p)| GridRow {
                        number: n + 1,
                        name: name(p),
                        cells: cols
                            .iter()
                            .map(|c| match c {
                                Col::Lesson(l) => lesson_cell(ix, p.id, l, marks, attendance),
                                Col::Period(period) => Cell {
                                    text: ix
                                        .final_mark(p.id, subject, period, today)
                                        .map(|pm| pm.value.trim().to_string())
                                        .unwrap_or_default(),
                                    none: false,
                                },
                            })
                            .collect(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// A first grade's grid: attendance only (no marks are given there).
fn attendance_grid(
    ix: &Index,
    lessons: &[&Lesson],
    attendance: &HashMap<(Id, Id), &Attendance>,
    name: &dyn Fn(&crate::journal::Student) -> String,
) -> Vec<GridPart> {
    grid(
        ix,
        lessons,
        &[],
        lessons[0].subject_id,
        NaiveDate::MIN,
        &HashMap::new(),
        attendance,
        name,
    )
}

/// What `diary print journal` wrote.
pub(super) struct Written {
    pub html: PathBuf,
    pub pdf: Option<PathBuf>,
    /// The count of sheets on the title page, if it could be counted.
    pub sheets: Option<usize>,
    /// Why the count was left blank.
    pub blank_because: Option<String>,
}

/// Renders, counts and writes a class's journal into the print folder `dir`: with
/// Chromium the journal is printed to PDF, its pages counted, and printed again with that
/// count until the count it shows is the count it has; without Chromium (and no `--pdf`)
/// the HTML is written with the count left blank. Nothing is written on error.
pub(super) fn write(
    ix: &Index,
    renderer: &Renderer,
    class: &Class,
    today: NaiveDate,
    chromium: Result<PathBuf>,
    want_pdf: bool,
    dir: &Path,
) -> Result<Written> {
    let year = data::year_of(ix.j, class)?;
    let name = format!("journal-{}-{}", slug(&class.name), slug(&year.name));
    let render = |sheets: Option<usize>| -> Result<String> {
        let doc = journal(ix, class, today, sheets)?;
        renderer.render("print/journal.html", "", &doc)
    };
    let first = render(None)?;
    let chromium = match chromium {
        Ok(c) => c,
        Err(e) if want_pdf => return Err(e.context("no PDF could be made; nothing was written")),
        Err(e) => {
            let html = write_private(dir, &format!("{name}.html"), first.as_bytes())?;
            return Ok(Written {
                html,
                pdf: None,
                sheets: None,
                blank_because: Some(format!("{e:#}")),
            });
        }
    };
    crate::files::private_dir(dir)?;
    let work = tempfile::Builder::new()
        .prefix(".journal-")
        .tempdir_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let print = |html: &str, pass: usize| -> Result<(PathBuf, usize)> {
        let h = work.path().join(format!("{name}-{pass}.html"));
        let p = h.with_extension("pdf");
        crate::files::write_private(&h, html.as_bytes())?;
        pdf::html_to_pdf(&chromium, &h, &p)?;
        let pages = pdf::page_count(&p)?;
        Ok((p, pages))
    };
    let (_, mut pages) = print(&first, 0)?;
    for pass in 1..=MAX_PASSES {
        let html = render(Some(pages))?;
        let (printed, counted) = print(&html, pass)?;
        if counted == pages {
            let html_path = write_private(dir, &format!("{name}.html"), html.as_bytes())?;
            let pdf_path = if want_pdf {
                let to = dir.join(format!("{name}.pdf"));
                std::fs::rename(&printed, &to)
                    .with_context(|| format!("cannot write {}", to.display()))?;
                Some(to)
            } else {
                None
            };
            return Ok(Written {
                html: html_path,
                pdf: pdf_path,
                sheets: Some(pages),
                blank_because: None,
            });
        }
        pages = counted;
    }
    bail!(
        "the journal of class {} did not settle on a count of sheets after {} printings \
         (the last had {pages} pages); nothing was written",
        class.name,
        MAX_PASSES + 1
    )
}
