//! Whole-journal checks: references, scales, calendars and memberships.

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::Finding;
use crate::config::Config;
use crate::grades;
use crate::journal::{
    Attendance, AttendanceStatus, Audience, Class, Id, Journal, Lesson, MAX_HOMEWORK_MINUTES,
    Numbered, PeriodKind, group_by,
};

/// Checks a loaded journal against itself and the site's settings.
pub(crate) fn check_journal(j: &Journal, config: &Config) -> Vec<Finding> {
    type Section<'a> = fn(&mut Checker<'a>);
    let sections: [Section; 15] = [
        Checker::calendar,
        Checker::people,
        Checker::groups,
        Checker::timetable,
        Checker::lessons,
        Checker::marks,
        Checker::attendance,
        Checker::period_marks,
        Checker::remarks,
        Checker::shifts,
        Checker::deliveries,
        Checker::homework_volume,
        Checker::homework_load,
        Checker::entry_dates,
        Checker::boards,
    ];
    // Each section reads the journal and reports on its own: side by side (the marks and
    // the attendance of a large school are millions of rows), findings in this order.
    let found: Vec<Vec<Finding>> = sections
        .par_iter()
        .map(|section| {
            let mut c = Checker {
                j,
                config,
                out: Vec::new(),
            };
            section(&mut c);
            c.out
        })
        .collect();
    found.concat()
}

struct Checker<'a> {
    j: &'a Journal,
    config: &'a Config,
    out: Vec<Finding>,
}

impl Checker<'_> {
    /// Whether a shift has bell times (a shift without them is one finding of
    /// [`Checker::shifts`], not one a lesson).
    fn has_bells(&self, shift: i64) -> bool {
        self.j.bells.is_empty() || self.j.bells.iter().any(|b| b.shift == shift)
    }
}

/// The absences from each lesson (late is not absent), by the lesson's place in
/// `lessons`. A lesson's marks come one after another, so its few absences are read once,
/// from the cache: a set of a million (pupil, lesson) pairs was read at random, from memory.
fn absences(j: &Journal) -> Numbered<'_, Attendance> {
    let lesson_of: Vec<u32> = j
        .attendance
        .iter()
        .map(|a| match j.lesson_position(a.lesson_id) {
            Some(i) if a.status != AttendanceStatus::Late => {
                u32::try_from(i).expect("fewer than 2^32 - 1 lessons")
            }
            _ => Numbered::<Attendance>::NONE,
        })
        .collect();
    Numbered::new(&j.attendance, &lesson_of, j.lessons.len())
}

/// Lessons without a group that share their class's day and number with an earlier one
/// (in the journal's order): lesson → the lesson before it. Class by class: a map of one
/// class's lessons stays in the cache, where one for the whole school (860000 lessons at
/// 20000 pupils) did not.
fn clashes(j: &Journal) -> FxHashMap<Id, Id> {
    let mut clashes = FxHashMap::default();
    let mut slots: FxHashMap<(NaiveDate, i64), Id> = FxHashMap::default();
    for (_, lessons) in group_by(&j.lessons, |l| l.class_id).iter() {
        slots.clear();
        for l in lessons.iter().filter(|l| l.group_id.is_none()) {
            if let Some(other) = slots.insert((l.date, l.number), l.id) {
                clashes.insert(l.id, other);
            }
        }
    }
    clashes
}

fn id(id: Id) -> String {
    format!("id {id}")
}

fn bell_row(b: &crate::journal::Bell) -> String {
    format!("shift {}, number {}", b.shift, b.number)
}

impl<'a> Checker<'a> {
    fn error(&mut self, table: &str, row: String, column: &str, message: String) {
        self.out
            .push(Finding::error(table, row, Some(column), message));
    }

    fn warning(&mut self, table: &str, row: String, column: &str, message: String) {
        self.out
            .push(Finding::warning(table, row, Some(column), message));
    }

    /// Reports a reference to a row that does not exist; true when it exists.
    fn exists(
        &mut self,
        found: bool,
        table: &str,
        row: &str,
        column: &str,
        target: &str,
        value: Id,
    ) -> bool {
        if !found {
            self.error(
                table,
                row.to_string(),
                column,
                format!("{value} refers to no row of {target}"),
            );
        }
        found
    }

    fn calendar(&mut self) {
        let j = self.j;
        if j.years.is_empty() {
            self.out.push(Finding::error(
                "academic_years",
                String::new(),
                None,
                "the table is empty: the journal needs the academic year",
            ));
        }
        for y in &j.years {
            if y.ends_on < y.starts_on {
                self.error(
                    "academic_years",
                    id(y.id),
                    "ends_on",
                    format!("{} is before starts_on {}", y.ends_on, y.starts_on),
                );
            }
        }
        for h in &j.holidays {
            let Some(year) = j.year(h.year_id) else {
                self.exists(
                    false,
                    "holidays",
                    &id(h.id),
                    "year_id",
                    "academic_years",
                    h.year_id,
                );
                continue;
            };
            if h.ends_on < h.starts_on {
                self.error(
                    "holidays",
                    id(h.id),
                    "ends_on",
                    format!("{} is before starts_on {}", h.ends_on, h.starts_on),
                );
            } else if h.ends_on < year.starts_on || h.starts_on > year.ends_on {
                self.warning(
                    "holidays",
                    id(h.id),
                    "starts_on",
                    format!(
                        "{}–{} lies outside the academic year {}",
                        h.starts_on, h.ends_on, year.name
                    ),
                );
            }
            if let Some(g) = h.grade.filter(|g| !(1..=11).contains(g)) {
                self.error(
                    "holidays",
                    id(h.id),
                    "grade",
                    format!("{g} is not a grade (1–11)"),
                );
            }
        }
        // Periods: inside their year; of one kind, never overlapping; the terms and the year
        // leave no school day uncovered (holidays and weekends may lie between), while an
        // exam session or the final mark has only its own days.
        let mut by_kind: FxHashMap<(Id, PeriodKind), Vec<usize>> = FxHashMap::default();
        for (i, p) in j.periods.iter().enumerate() {
            let Some(year) = j.year(p.year_id) else {
                self.exists(
                    false,
                    "periods",
                    &id(p.id),
                    "year_id",
                    "academic_years",
                    p.year_id,
                );
                continue;
            };
            if p.ends_on < p.starts_on {
                self.error(
                    "periods",
                    id(p.id),
                    "ends_on",
                    format!("{} is before starts_on {}", p.ends_on, p.starts_on),
                );
                continue;
            }
            if p.starts_on < year.starts_on || p.ends_on > year.ends_on {
                self.error(
                    "periods",
                    id(p.id),
                    "starts_on",
                    format!(
                        "{} {}–{} is not inside the academic year {} ({}–{})",
                        p.name, p.starts_on, p.ends_on, year.name, year.starts_on, year.ends_on
                    ),
                );
            }
            by_kind.entry((p.year_id, p.kind)).or_default().push(i);
        }
        let mut groups: Vec<_> = by_kind.into_iter().collect();
        groups.sort_by_key(|(k, _)| *k);
        for ((year_id, kind), mut idx) in groups {
            idx.sort_by_key(|&i| (j.periods[i].starts_on, j.periods[i].id));
            let year = j.year(year_id).expect("checked above").clone();
            let covers_year = kind.is_term() || kind == PeriodKind::Year;
            let first = &j.periods[idx[0]];
            if covers_year
                && let Some(day) = self.first_school_day(year.starts_on, first.starts_on.pred_opt())
            {
                self.warning(
                    "periods",
                    id(first.id),
                    "starts_on",
                    format!(
                        "school day {day} after the start of the year is in no {}",
                        first.kind.as_str()
                    ),
                );
            }
            for w in idx.windows(2) {
                let (a, b) = (&j.periods[w[0]], &j.periods[w[1]]);
                if b.starts_on <= a.ends_on {
                    self.error(
                        "periods",
                        id(b.id),
                        "starts_on",
                        format!(
                            "{} ({}–{}) overlaps {} ({}–{})",
                            b.name, b.starts_on, b.ends_on, a.name, a.starts_on, a.ends_on
                        ),
                    );
                } else if covers_year
                    && let Some(day) = self.first_school_day(
                        a.ends_on.succ_opt().unwrap_or(a.ends_on),
                        b.starts_on.pred_opt(),
                    )
                {
                    self.warning("periods", id(b.id), "starts_on", format!("gap between {} and {}: school day {day} is in no period and no holiday", a.name, b.name));
                }
            }
            let last = &j.periods[*idx.last().expect("non-empty")];
            if covers_year
                && let Some(day) = self.first_school_day(
                    last.ends_on.succ_opt().unwrap_or(last.ends_on),
                    Some(year.ends_on),
                )
            {
                self.warning(
                    "periods",
                    id(last.id),
                    "ends_on",
                    format!(
                        "school day {day} before the end of the year is in no {}",
                        last.kind.as_str()
                    ),
                );
            }
        }
    }

    /// The first school day (a weekday of the site's week that is no whole-school holiday)
    /// in `from..=to`.
    fn first_school_day(&self, from: NaiveDate, to: Option<NaiveDate>) -> Option<NaiveDate> {
        let to = to?;
        from.iter_days().take_while(|d| *d <= to).find(|d| {
            self.is_school_weekday(*d)
                && !self
                    .j
                    .holidays
                    .iter()
                    .any(|h| h.grade.is_none() && h.starts_on <= *d && *d <= h.ends_on)
        })
    }

    fn is_school_weekday(&self, d: NaiveDate) -> bool {
        d.weekday().number_from_monday() <= u32::from(self.config.school_days)
    }

    fn people(&mut self) {
        let j = self.j;
        let mut class_names: FxHashMap<(Id, &str), Id> = FxHashMap::default();
        for c in &j.classes {
            if j.year(c.year_id).is_none() {
                self.exists(
                    false,
                    "classes",
                    &id(c.id),
                    "year_id",
                    "academic_years",
                    c.year_id,
                );
            }
            if let Some(t) = c.class_teacher_id {
                self.exists(
                    j.teacher(t).is_some(),
                    "classes",
                    &id(c.id),
                    "class_teacher_id",
                    "teachers",
                    t,
                );
            }
            if !(1..=11).contains(&c.grade) {
                self.error(
                    "classes",
                    id(c.id),
                    "grade",
                    format!("{} is not a grade (1–11)", c.grade),
                );
            }
            if let Some(other) = class_names.insert((c.year_id, c.name.as_str()), c.id) {
                self.error(
                    "classes",
                    id(c.id),
                    "name",
                    format!(
                        "'{}' is also the name of class id {other} of the same year",
                        c.name
                    ),
                );
            }
        }
        let mut names: FxHashMap<(Id, String), Id> = FxHashMap::default();
        for s in &j.students {
            self.exists(
                j.class(s.class_id).is_some(),
                "students",
                &id(s.id),
                "class_id",
                "classes",
                s.class_id,
            );
            if let Some(other) = names.insert((s.class_id, s.full_name()), s.id) {
                self.warning(
                    "students",
                    id(s.id),
                    "last_name",
                    format!("same full name and class as student id {other}: a duplicate pupil?"),
                );
            }
        }
        for sg in &j.student_guardians {
            let row = format!(
                "student_id {}, guardian_id {}",
                sg.student_id, sg.guardian_id
            );
            self.exists(
                j.student(sg.student_id).is_some(),
                "student_guardians",
                &row,
                "student_id",
                "students",
                sg.student_id,
            );
            self.exists(
                j.guardian(sg.guardian_id).is_some(),
                "student_guardians",
                &row,
                "guardian_id",
                "guardians",
                sg.guardian_id,
            );
        }
    }

    fn groups(&mut self) {
        let j = self.j;
        for g in &j.groups {
            self.exists(
                j.class(g.class_id).is_some(),
                "groups",
                &id(g.id),
                "class_id",
                "classes",
                g.class_id,
            );
            self.exists(
                j.subject(g.subject_id).is_some(),
                "groups",
                &id(g.id),
                "subject_id",
                "subjects",
                g.subject_id,
            );
        }
        for gs in &j.group_students {
            let row = format!("group_id {}, student_id {}", gs.group_id, gs.student_id);
            let group = j.group(gs.group_id);
            let student = j.student(gs.student_id);
            self.exists(
                group.is_some(),
                "group_students",
                &row,
                "group_id",
                "groups",
                gs.group_id,
            );
            self.exists(
                student.is_some(),
                "group_students",
                &row,
                "student_id",
                "students",
                gs.student_id,
            );
            if let (Some(g), Some(s)) = (group, student)
                && g.class_id != s.class_id
            {
                self.error(
                    "group_students",
                    row,
                    "student_id",
                    format!(
                        "the pupil is in class id {}, but group '{}' belongs to class id {}",
                        s.class_id, g.name, g.class_id
                    ),
                );
            }
        }
        for (i, b) in j.bells.iter().enumerate() {
            if b.ends_at <= b.starts_at {
                self.error(
                    "bells",
                    bell_row(b),
                    "ends_at",
                    format!("{} is not after starts_at {}", b.ends_at, b.starts_at),
                );
            }
            if let Some(next) = j.bells.get(i + 1)
                && next.shift == b.shift
                && next.starts_at < b.ends_at
            {
                self.error(
                    "bells",
                    bell_row(next),
                    "starts_at",
                    format!(
                        "{} is before lesson {} ends ({})",
                        next.starts_at, b.number, b.ends_at
                    ),
                );
            }
        }
    }

    fn timetable(&mut self) {
        let j = self.j;
        for t in &j.timetable {
            let row = id(t.id);
            self.exists(
                j.class(t.class_id).is_some(),
                "timetable",
                &row,
                "class_id",
                "classes",
                t.class_id,
            );
            self.exists(
                j.subject(t.subject_id).is_some(),
                "timetable",
                &row,
                "subject_id",
                "subjects",
                t.subject_id,
            );
            if let Some(tid) = t.teacher_id {
                self.exists(
                    j.teacher(tid).is_some(),
                    "timetable",
                    &row,
                    "teacher_id",
                    "teachers",
                    tid,
                );
            }
            if let Some(gid) = t.group_id
                && self.exists(
                    j.group(gid).is_some(),
                    "timetable",
                    &row,
                    "group_id",
                    "groups",
                    gid,
                )
                && j.group(gid).is_some_and(|g| g.class_id != t.class_id)
            {
                self.error(
                    "timetable",
                    row.clone(),
                    "group_id",
                    format!(
                        "group {gid} belongs to another class than class id {}",
                        t.class_id
                    ),
                );
            }
            if !(1..=7).contains(&t.weekday) {
                self.error(
                    "timetable",
                    row.clone(),
                    "weekday",
                    format!("{} is not a weekday (1 = Monday … 7 = Sunday)", t.weekday),
                );
            } else if t.weekday > i64::from(self.config.school_days) {
                self.warning(
                    "timetable",
                    row.clone(),
                    "weekday",
                    format!(
                        "{} is not a school day of a {}-day week (site.toml school_days)",
                        t.weekday, self.config.school_days
                    ),
                );
            }
            if self.has_bells(j.shift_of(t.class_id))
                && j.bell(j.shift_of(t.class_id), t.number).is_none()
            {
                self.warning(
                    "timetable",
                    row,
                    "number",
                    format!("lesson number {} has no row in bells", t.number),
                );
            }
        }
    }

    fn lessons(&mut self) {
        let j = self.j;
        let clashes = clashes(j);
        for l in &j.lessons {
            let row = id(l.id);
            let class = j.class(l.class_id);
            self.exists(
                class.is_some(),
                "lessons",
                &row,
                "class_id",
                "classes",
                l.class_id,
            );
            self.exists(
                j.subject(l.subject_id).is_some(),
                "lessons",
                &row,
                "subject_id",
                "subjects",
                l.subject_id,
            );
            for (col, t) in [
                ("teacher_id", l.teacher_id),
                ("substitute_teacher_id", l.substitute_teacher_id),
            ] {
                if let Some(t) = t {
                    self.exists(j.teacher(t).is_some(), "lessons", &row, col, "teachers", t);
                }
            }
            if let Some(gid) = l.group_id {
                match j.group(gid) {
                    None => {
                        self.exists(false, "lessons", &row, "group_id", "groups", gid);
                    }
                    Some(g) if g.class_id != l.class_id => self.error("lessons", row.clone(), "group_id", format!("group '{}' (id {gid}) belongs to class id {}, not to the lesson's class id {}", g.name, g.class_id, l.class_id)),
                    Some(g) if g.subject_id != l.subject_id => self.warning("lessons", row.clone(), "group_id", format!("group '{}' (id {gid}) is a group of subject id {}, but the lesson is subject id {}", g.name, g.subject_id, l.subject_id)),
                    Some(_) => {}
                }
            } else if let Some(other) = clashes.get(&l.id) {
                self.warning(
                    "lessons",
                    row.clone(),
                    "number",
                    format!(
                        "lesson {} on {} clashes with lesson id {other} of the same class",
                        l.number, l.date
                    ),
                );
            }
            if let Some(class) = class {
                self.lesson_date(l, class);
            }
            if self.has_bells(j.shift_of(l.class_id))
                && j.bell(j.shift_of(l.class_id), l.number).is_none()
            {
                self.warning(
                    "lessons",
                    row.clone(),
                    "number",
                    format!("lesson number {} has no row in bells", l.number),
                );
            }
            if let Some(due) = l.homework_due.filter(|d| *d < l.date) {
                self.error(
                    "lessons",
                    row,
                    "homework_due",
                    format!("{due} is before the lesson's date {}", l.date),
                );
            }
        }
        for link in &j.homework_links {
            let row = format!("lesson_id {}", link.lesson_id);
            self.exists(
                j.lesson(link.lesson_id).is_some(),
                "homework_links",
                &row,
                "lesson_id",
                "lessons",
                link.lesson_id,
            );
            let url = link.url.trim().to_ascii_lowercase();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                self.error(
                    "homework_links",
                    row,
                    "url",
                    format!("'{}' is not an http:// or https:// address", link.url),
                );
            }
        }
    }

    fn lesson_date(&mut self, l: &Lesson, class: &Class) {
        let row = id(l.id);
        match self.j.year(class.year_id) {
            Some(y) if l.date < y.starts_on || l.date > y.ends_on => {
                self.error(
                    "lessons",
                    row,
                    "date",
                    format!(
                        "{} is outside the academic year {} ({}–{})",
                        l.date, y.name, y.starts_on, y.ends_on
                    ),
                );
            }
            Some(_) => {
                if let Some(h) = self
                    .j
                    .holidays
                    .iter()
                    .find(|h| h.covers(l.date, class.grade))
                {
                    self.warning(
                        "lessons",
                        row,
                        "date",
                        format!("{} falls on a holiday ({})", l.date, h.name),
                    );
                } else if !self.is_school_weekday(l.date) {
                    self.warning(
                        "lessons",
                        row,
                        "date",
                        format!(
                            "{} is a {} — not a school day of a {}-day week",
                            l.date,
                            l.date.weekday(),
                            self.config.school_days
                        ),
                    );
                }
            }
            None => {}
        }
    }

    /// Pupils who attend a lesson: its group, else its class.
    fn membership(&self) -> Membership {
        let mut m = Membership::default();
        for s in &self.j.students {
            m.class_of.insert(s.id, s.class_id);
        }
        for gs in &self.j.group_students {
            m.in_group.insert((gs.group_id, gs.student_id));
        }
        m
    }

    /// Checks a (pupil, lesson) row of marks or attendance; returns the lesson and the
    /// class when both exist.
    fn pupil_in_lesson(
        &mut self,
        m: &Membership,
        table: &str,
        row: &dyn Fn() -> String,
        student_id: Id,
        lesson_id: Id,
    ) -> Option<(&'a Lesson, &'a Class)> {
        let j = self.j;
        let pupil_class = m.class_of.get(&student_id).copied();
        if pupil_class.is_none() {
            self.exists(false, table, &row(), "student_id", "students", student_id);
        }
        let lesson = j.lesson(lesson_id);
        if lesson.is_none() {
            self.exists(false, table, &row(), "lesson_id", "lessons", lesson_id);
        }
        let (lesson, pupil_class) = (lesson?, pupil_class?);
        if pupil_class != lesson.class_id {
            self.error(table, row(), "student_id", format!("the pupil is in class id {pupil_class}, but lesson {lesson_id} is a lesson of class id {}", lesson.class_id));
        } else if let Some(g) = lesson.group_id
            && !m.in_group.contains(&(g, student_id))
        {
            self.error(
                table,
                row(),
                "student_id",
                format!("the pupil is not in group id {g} that lesson {lesson_id} is taught to"),
            );
        }
        if lesson.cancelled {
            self.warning(
                table,
                row(),
                "lesson_id",
                format!("lesson {lesson_id} on {} was cancelled", lesson.date),
            );
        }
        Some((lesson, j.class(lesson.class_id)?))
    }

    fn marks(&mut self) {
        let j = self.j;
        let m = self.membership();
        let absent = absences(j);
        for mark in &j.marks {
            // The row's name is made only for a finding (millions of marks, a few findings).
            let row = || id(mark.id);
            if let Some(wt) = mark.work_type_id
                && j.work_type(wt).is_none()
            {
                self.exists(false, "marks", &row(), "work_type_id", "work_types", wt);
            }
            match &mark.value {
                None if !mark.is_debt => self.error(
                    "marks",
                    row(),
                    "value",
                    "is empty; only a debt (is_debt = 1) may have no value yet".into(),
                ),
                Some(v) if grades::parse_value(v, &self.config.grading).is_none() => {
                    self.error("marks", row(), "value", self.scale_message(v));
                }
                _ => {}
            }
            if let Some(w) = mark.weight.filter(|w| !(*w > 0.0 && w.is_finite())) {
                self.error(
                    "marks",
                    row(),
                    "weight",
                    format!("{w} is not a positive number"),
                );
            }
            let Some((_, class)) =
                self.pupil_in_lesson(&m, "marks", &row, mark.student_id, mark.lesson_id)
            else {
                continue;
            };
            if class.grade == 1 {
                self.error(
                    "marks",
                    row(),
                    "value",
                    format!("class {} is grade 1, which has no marks", class.name),
                );
            }
            if mark.value.is_some()
                && !mark.is_debt
                && j.lesson_position(mark.lesson_id).is_some_and(|i| {
                    absent
                        .get(i)
                        .iter()
                        .any(|a| a.student_id == mark.student_id)
                })
            {
                self.warning(
                    "marks",
                    row(),
                    "student_id",
                    "the pupil is marked absent from this lesson".into(),
                );
            }
        }
        for wt in &j.work_types {
            if !(wt.weight > 0.0 && wt.weight.is_finite()) {
                self.error(
                    "work_types",
                    id(wt.id),
                    "weight",
                    format!("{} is not a positive number", wt.weight),
                );
            }
        }
    }

    fn scale_message(&self, value: &str) -> String {
        let g = &self.config.grading;
        format!(
            "'{value}' is not a mark of the scale {}..{} nor one of the words {} (site.toml [grading])",
            g.min,
            g.max,
            g.non_numeric.join(", ")
        )
    }

    fn attendance(&mut self) {
        let m = self.membership();
        for a in &self.j.attendance {
            let row = || format!("student_id {}, lesson_id {}", a.student_id, a.lesson_id);
            self.pupil_in_lesson(&m, "attendance", &row, a.student_id, a.lesson_id);
        }
    }

    fn period_marks(&mut self) {
        let j = self.j;
        for pm in &j.period_marks {
            let row = format!(
                "student_id {}, subject_id {}, period_id {}",
                pm.student_id, pm.subject_id, pm.period_id
            );
            let student = j.student(pm.student_id);
            self.exists(
                student.is_some(),
                "period_marks",
                &row,
                "student_id",
                "students",
                pm.student_id,
            );
            self.exists(
                j.subject(pm.subject_id).is_some(),
                "period_marks",
                &row,
                "subject_id",
                "subjects",
                pm.subject_id,
            );
            self.exists(
                j.period(pm.period_id).is_some(),
                "period_marks",
                &row,
                "period_id",
                "periods",
                pm.period_id,
            );
            if grades::parse_value(&pm.value, &self.config.grading).is_none() {
                self.error(
                    "period_marks",
                    row.clone(),
                    "value",
                    self.scale_message(&pm.value),
                );
            }
            if let Some(class) = student.and_then(|s| j.class(s.class_id))
                && class.grade == 1
            {
                self.error(
                    "period_marks",
                    row,
                    "value",
                    format!("class {} is grade 1, which has no marks", class.name),
                );
            }
        }
    }

    /// Teachers' remarks: their pupil, teacher and subject exist; the date is in a year.
    fn remarks(&mut self) {
        let j = self.j;
        for r in &j.remarks {
            let row = id(r.id);
            self.exists(
                j.student(r.student_id).is_some(),
                "remarks",
                &row,
                "student_id",
                "students",
                r.student_id,
            );
            if let Some(t) = r.teacher_id {
                self.exists(
                    j.teacher(t).is_some(),
                    "remarks",
                    &row,
                    "teacher_id",
                    "teachers",
                    t,
                );
            }
            if let Some(s) = r.subject_id {
                self.exists(
                    j.subject(s).is_some(),
                    "remarks",
                    &row,
                    "subject_id",
                    "subjects",
                    s,
                );
            }
            if j.year_for(r.date).is_none() {
                self.warning(
                    "remarks",
                    row,
                    "date",
                    format!("{} is in no academic year", r.date),
                );
            }
        }
    }

    /// How each family receives the diary is one of the known ways.
    fn deliveries(&mut self) {
        for g in &self.j.guardians {
            if let crate::journal::Delivery::Unknown(value) = &g.delivery {
                self.error(
                    "guardians",
                    id(g.id),
                    "delivery",
                    format!("'{value}' is not one of online, paper"),
                );
            }
        }
    }

    /// Every shift a class studies in has bell times (when the journal has bells at all).
    fn shifts(&mut self) {
        let j = self.j;
        if j.bells.is_empty() {
            return;
        }
        for c in &j.classes {
            if !j.bells.iter().any(|b| b.shift == c.shift) {
                self.error(
                    "classes",
                    id(c.id),
                    "shift",
                    format!(
                        "class {} studies in shift {}, but bells has no rows for shift {}",
                        c.name, c.shift, c.shift
                    ),
                );
            }
        }
    }

    /// Homework estimates are 0–600 minutes, and grade 1 gets no homework.
    fn homework_volume(&mut self) {
        let j = self.j;
        for l in &j.lessons {
            if let Some(m) = l.homework_minutes
                && !(0..=MAX_HOMEWORK_MINUTES).contains(&m)
            {
                self.error(
                    "lessons",
                    id(l.id),
                    "homework_minutes",
                    format!("{m} is not 0–{MAX_HOMEWORK_MINUTES} minutes"),
                );
            }
            let set = l.homework.as_deref().is_some_and(|h| !h.trim().is_empty());
            if set && !l.cancelled && j.class(l.class_id).is_some_and(|c| c.grade == 1) {
                self.warning(
                    "lessons",
                    id(l.id),
                    "homework",
                    "homework is set in grade 1, which gets none".to_string(),
                );
            }
        }
    }

    /// A day's homework (the minutes of the homework set that day) within the grade's
    /// limit of `[homework] daily_minutes`.
    fn homework_load(&mut self) {
        let j = self.j;
        let mut load: std::collections::BTreeMap<(Id, NaiveDate), i64> = Default::default();
        for l in j.lessons.iter().filter(|l| !l.cancelled) {
            if let Some(m) = l.homework_minutes.filter(|m| *m > 0) {
                *load.entry((l.class_id, l.date)).or_default() += m;
            }
        }
        for ((class_id, date), minutes) in load {
            let Some(class) = j.class(class_id) else {
                continue;
            };
            if let Some(limit) = self.config.homework.limit(class.grade)
                && minutes > i64::from(limit)
            {
                self.warning(
                    "lessons",
                    format!("class {}, {date}", class.name),
                    "homework_minutes",
                    format!(
                        "homework set that day takes {minutes} min, more than the {limit} \
                         min a day of grade {} ([homework] daily_minutes)",
                        class.grade
                    ),
                );
            }
        }
    }

    /// A mark cannot be entered before its lesson.
    fn entry_dates(&mut self) {
        let j = self.j;
        for m in &j.marks {
            if let (Some(at), Some(l)) = (m.entered_at, j.lesson(m.lesson_id))
                && at.date() < l.date
            {
                self.error(
                    "marks",
                    id(m.id),
                    "entered_at",
                    format!(
                        "{} is before the lesson's date {}",
                        at.format("%Y-%m-%d %H:%M"),
                        l.date
                    ),
                );
            }
        }
    }

    fn boards(&mut self) {
        let j = self.j;
        for a in &j.announcements {
            let row = id(a.id);
            match a.audience {
                Audience::Class(c) => {
                    self.exists(
                        j.class(c).is_some(),
                        "announcements",
                        &row,
                        "class_id",
                        "classes",
                        c,
                    );
                }
                Audience::Grade(g) if !(1..=11).contains(&g) => {
                    self.error(
                        "announcements",
                        row.clone(),
                        "grade",
                        format!("{g} is not a grade (1–11)"),
                    );
                }
                _ => {}
            }
            if let Some(e) = a.expires_at.filter(|e| *e < a.published_at) {
                self.warning(
                    "announcements",
                    row,
                    "expires_at",
                    format!("{e} is before published_at {}", a.published_at),
                );
            }
        }
        for e in &j.events {
            let row = id(e.id);
            if let Some(c) = e.class_id {
                self.exists(
                    j.class(c).is_some(),
                    "events",
                    &row,
                    "class_id",
                    "classes",
                    c,
                );
            }
            if let Some(end) = e.ends_at.filter(|end| *end < e.starts_at) {
                self.error(
                    "events",
                    row,
                    "ends_at",
                    format!("{end} is before starts_at {}", e.starts_at),
                );
            }
        }
    }
}

#[derive(Default)]
struct Membership {
    class_of: FxHashMap<Id, Id>,
    in_group: FxHashSet<(Id, Id)>,
}
