//! The typed read model: one struct per journal table, rows sorted by their key.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

pub(crate) type Id = i64;

#[derive(Debug, Clone, Default)]
pub(crate) struct School {
    pub id: Id,
    pub name: String,
    pub short_name: String,
    pub is_demo: bool,
    pub address: Option<String>,
    pub contact: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AcademicYear {
    pub id: Id,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum PeriodKind {
    Quarter,
    Trimester,
    Half,
    Year,
    /// An exam session: its period mark is the exam mark (seed clause: marks for the
    /// quarter, half, year, exam and the final mark).
    Exam,
    /// The final (итоговая) mark of a subject.
    Final,
}

impl PeriodKind {
    pub(crate) fn parse(s: &str) -> Option<PeriodKind> {
        Some(match s {
            "quarter" => PeriodKind::Quarter,
            "trimester" => PeriodKind::Trimester,
            "half" => PeriodKind::Half,
            "year" => PeriodKind::Year,
            "exam" => PeriodKind::Exam,
            "final" => PeriodKind::Final,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Quarter => "quarter",
            PeriodKind::Trimester => "trimester",
            PeriodKind::Half => "half",
            PeriodKind::Year => "year",
            PeriodKind::Exam => "exam",
            PeriodKind::Final => "final",
        }
    }

    /// The order of kinds in a list of a year's periods: the terms, the year, the exam,
    /// the final mark.
    pub(crate) fn rank(self) -> u8 {
        match self {
            PeriodKind::Quarter | PeriodKind::Trimester | PeriodKind::Half => 0,
            PeriodKind::Year => 1,
            PeriodKind::Exam => 2,
            PeriodKind::Final => 3,
        }
    }

    /// A term the year is marked by: a quarter, trimester or half (not the year, an exam
    /// or the final mark).
    pub(crate) fn is_term(self) -> bool {
        matches!(
            self,
            PeriodKind::Quarter | PeriodKind::Trimester | PeriodKind::Half
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Period {
    pub id: Id,
    pub year_id: Id,
    pub kind: PeriodKind,
    pub number: i64,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

impl Period {
    pub(crate) fn contains(&self, date: NaiveDate) -> bool {
        self.starts_on <= date && date <= self.ends_on
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Holiday {
    pub id: Id,
    pub year_id: Id,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// `Some(g)`: only grade `g` is off.
    pub grade: Option<i64>,
}

impl Holiday {
    /// Whether pupils of `grade` are off on `date`.
    pub(crate) fn covers(&self, date: NaiveDate, grade: i64) -> bool {
        self.starts_on <= date && date <= self.ends_on && self.grade.is_none_or(|g| g == grade)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Teacher {
    pub id: Id,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub contact: Option<String>,
}

impl Teacher {
    /// "Иванова Мария Петровна".
    pub(crate) fn full_name(&self) -> String {
        full_name(
            &self.last_name,
            &self.first_name,
            self.middle_name.as_deref(),
        )
    }

    /// "Иванова М. П." — how a teacher is named on boards.
    pub(crate) fn short_name(&self) -> String {
        let mut s = self.last_name.clone();
        for part in [Some(self.first_name.as_str()), self.middle_name.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(c) = part.chars().next() {
                s.push(' ');
                s.push(c);
                s.push('.');
            }
        }
        s
    }
}

pub(crate) fn full_name(last: &str, first: &str, middle: Option<&str>) -> String {
    let mut s = format!("{last} {first}");
    if let Some(m) = middle.filter(|m| !m.is_empty()) {
        s.push(' ');
        s.push_str(m);
    }
    s
}

#[derive(Debug, Clone)]
pub(crate) struct Class {
    pub id: Id,
    pub year_id: Id,
    pub grade: i64,
    pub letter: String,
    pub name: String,
    pub class_teacher_id: Option<Id>,
    /// The shift the class studies in: 1 or 2.
    pub shift: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Student {
    pub id: Id,
    pub class_id: Id,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
}

impl Student {
    pub(crate) fn full_name(&self) -> String {
        full_name(
            &self.last_name,
            &self.first_name,
            self.middle_name.as_deref(),
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Guardian {
    pub id: Id,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    /// Loaded with the row; no page or printout shows it yet.
    #[allow(dead_code)]
    pub contact: Option<String>,
    pub delivery: Delivery,
    /// When the guardian consented to receive information through the diary.
    #[allow(dead_code)]
    pub consent_on: Option<NaiveDate>,
}

/// How a family receives the diary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Delivery {
    /// With an access code, on the site.
    #[default]
    Online,
    /// On paper only: printed sheets, no code.
    Paper,
    /// A value that is neither (an error of `diary check`; the row is kept so that its
    /// links still count).
    Unknown(String),
}

impl Delivery {
    pub(crate) fn parse(s: &str) -> Delivery {
        match s.trim() {
            "" | "online" => Delivery::Online,
            "paper" => Delivery::Paper,
            other => Delivery::Unknown(other.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StudentGuardian {
    pub student_id: Id,
    pub guardian_id: Id,
    /// Loaded with the row; no page or printout shows it yet.
    #[allow(dead_code)]
    pub relation: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub id: Id,
    pub name: String,
    pub short_name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: Id,
    pub class_id: Id,
    pub subject_id: Id,
    pub name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupStudent {
    pub group_id: Id,
    pub student_id: Id,
}

#[derive(Debug, Clone)]
pub(crate) struct Bell {
    /// The shift these bell times are for: 1 or 2.
    pub shift: i64,
    pub number: i64,
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Clone)]
pub(crate) struct TimetableEntry {
    pub id: Id,
    pub class_id: Id,
    pub group_id: Option<Id>,
    pub subject_id: Id,
    pub teacher_id: Option<Id>,
    pub weekday: i64,
    pub number: i64,
    pub room: Option<ShortText>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub(crate) struct Lesson {
    pub id: Id,
    pub class_id: Id,
    pub group_id: Option<Id>,
    pub subject_id: Id,
    pub teacher_id: Option<Id>,
    pub substitute_teacher_id: Option<Id>,
    pub date: NaiveDate,
    pub number: i64,
    pub room: Option<ShortText>,
    pub topic: Option<String>,
    pub homework: Option<String>,
    pub homework_due: Option<NaiveDate>,
    pub cancelled: bool,
    /// The teacher's estimate of the homework's time, in minutes.
    pub homework_minutes: Option<i64>,
}

/// The most minutes of homework a lesson may estimate (`lessons.homework_minutes` is
/// 0–600).
pub(crate) const MAX_HOMEWORK_MINUTES: i64 = 600;

#[derive(Debug, Clone)]
pub(crate) struct HomeworkLink {
    pub lesson_id: Id,
    pub url: String,
    pub title: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct WorkType {
    pub id: Id,
    pub name: String,
    pub weight: f64,
}

/// Short text of a journal row (a mark's value, a room): held inside the row up to 24
/// bytes, where a `String` would take an allocation of its own for each of millions of
/// marks.
pub(crate) type ShortText = compact_str::CompactString;

#[derive(Debug, Clone)]
pub(crate) struct Mark {
    pub id: Id,
    pub student_id: Id,
    pub lesson_id: Id,
    pub work_type_id: Option<Id>,
    pub value: Option<ShortText>,
    pub weight: Option<f64>,
    /// Rare, and one per mark of millions: a `Box<str>` is 8 bytes less than a `String`.
    pub comment: Option<Box<str>>,
    pub is_debt: bool,
    /// When the teacher entered the mark.
    pub entered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum AttendanceStatus {
    /// Absent, reason not (yet) known.
    Absent,
    Ill,
    Excused,
    Unexcused,
    Late,
}

impl AttendanceStatus {
    pub(crate) const ALL: [AttendanceStatus; 5] = [
        AttendanceStatus::Absent,
        AttendanceStatus::Ill,
        AttendanceStatus::Excused,
        AttendanceStatus::Unexcused,
        AttendanceStatus::Late,
    ];

    pub(crate) fn parse(s: &str) -> Option<AttendanceStatus> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AttendanceStatus::Absent => "absent",
            AttendanceStatus::Ill => "ill",
            AttendanceStatus::Excused => "excused",
            AttendanceStatus::Unexcused => "unexcused",
            AttendanceStatus::Late => "late",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Attendance {
    pub student_id: Id,
    pub lesson_id: Id,
    pub status: AttendanceStatus,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct PeriodMark {
    pub student_id: Id,
    pub subject_id: Id,
    pub period_id: Id,
    pub value: ShortText,
    /// The teacher's comment, shown with the mark once it is final.
    pub comment: Option<String>,
    /// The date the teacher set the mark.
    pub set_on: Option<NaiveDate>,
}

impl PeriodMark {
    /// The first day the teacher's mark is final: its set date, or (set without a date)
    /// the day after its period ends. Before that, pages show the forecast.
    pub(crate) fn final_from(&self, period: &Period) -> NaiveDate {
        self.set_on
            .unwrap_or_else(|| period.ends_on.succ_opt().unwrap_or(period.ends_on))
    }

    /// Whether the teacher's mark is final on `today`.
    pub(crate) fn is_final(&self, period: &Period, today: NaiveDate) -> bool {
        self.final_from(period) <= today
    }
}

/// What a teacher's remark about a pupil is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RemarkKind {
    Behaviour,
    Achievement,
    Concern,
    Praise,
}

impl RemarkKind {
    pub(crate) const ALL: [RemarkKind; 4] = [
        RemarkKind::Behaviour,
        RemarkKind::Achievement,
        RemarkKind::Concern,
        RemarkKind::Praise,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RemarkKind::Behaviour => "behaviour",
            RemarkKind::Achievement => "achievement",
            RemarkKind::Concern => "concern",
            RemarkKind::Praise => "praise",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<RemarkKind> {
        RemarkKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A teacher's remark about a pupil (private: diaries and family sheets only).
#[derive(Debug, Clone)]
pub(crate) struct Remark {
    pub id: Id,
    pub student_id: Id,
    pub date: NaiveDate,
    pub teacher_id: Option<Id>,
    pub subject_id: Option<Id>,
    pub kind: RemarkKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    School,
    Grade(i64),
    Class(Id),
}

#[derive(Debug, Clone)]
pub(crate) struct Announcement {
    pub id: Id,
    pub audience: Audience,
    pub title: String,
    pub body_md: String,
    pub published_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub pinned: bool,
    pub author: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub id: Id,
    pub class_id: Option<Id>,
    pub title: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: Option<NaiveDateTime>,
    pub place: Option<String>,
    pub description: Option<String>,
    /// The calendar UID of an event from content/events (None: a journal row).
    pub uid: Option<String>,
}

/// The whole journal in memory, each table sorted by its key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Journal {
    pub school: School,
    pub years: Vec<AcademicYear>,
    pub periods: Vec<Period>,
    pub holidays: Vec<Holiday>,
    pub teachers: Vec<Teacher>,
    pub classes: Vec<Class>,
    pub students: Vec<Student>,
    pub guardians: Vec<Guardian>,
    pub student_guardians: Vec<StudentGuardian>,
    pub subjects: Vec<Subject>,
    pub groups: Vec<Group>,
    pub group_students: Vec<GroupStudent>,
    pub bells: Vec<Bell>,
    pub timetable: Vec<TimetableEntry>,
    pub lessons: Vec<Lesson>,
    pub homework_links: Vec<HomeworkLink>,
    pub work_types: Vec<WorkType>,
    pub marks: Vec<Mark>,
    pub attendance: Vec<Attendance>,
    pub period_marks: Vec<PeriodMark>,
    pub remarks: Vec<Remark>,
    pub announcements: Vec<Announcement>,
    pub events: Vec<Event>,
    /// The ids other systems give pupils and guardians (`external_ids` rows of kind
    /// `students` or `guardians`), sorted by (kind, local_id, source).
    pub external_ids: Vec<ExternalId>,
}

/// One `external_ids` row: the id another system (an importer's source) gives a journal row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ExternalId {
    pub kind: String,
    pub local_id: Id,
    pub source: String,
    pub external_id: String,
}

/// Lessons a week by (class, subject), from [`Journal::weekly_hours`].
#[derive(Debug, Default)]
pub(crate) struct WeeklyHours(HashMap<(Id, Id), u32>);

impl WeeklyHours {
    /// The lessons a week of a subject in a class (0 when the timetable has none).
    pub(crate) fn of(&self, class: Id, subject: Id) -> u32 {
        self.0.get(&(class, subject)).copied().unwrap_or(0)
    }
}

/// Finds a row by id in a table sorted by id. Ids are most often dense (1, 2, 3…): the
/// row where a dense table would hold it is tried first, without a search through memory
/// (the marks of a large school look up their lesson some millions of times).
fn by_id<T>(rows: &[T], id: Id, key: impl Fn(&T) -> Id) -> Option<&T> {
    position_by_id(rows, id, key).map(|i| &rows[i])
}

/// Where [`by_id`] finds a row.
fn position_by_id<T>(rows: &[T], id: Id, key: impl Fn(&T) -> Id) -> Option<usize> {
    let first = key(rows.first()?);
    if let Some(i) = usize::try_from(id.wrapping_sub(first))
        .ok()
        .filter(|i| rows.get(*i).is_some_and(|row| key(row) == id))
    {
        return Some(i);
    }
    rows.binary_search_by_key(&id, key).ok()
}

impl Journal {
    pub(crate) fn year(&self, id: Id) -> Option<&AcademicYear> {
        by_id(&self.years, id, |r| r.id)
    }
    pub(crate) fn period(&self, id: Id) -> Option<&Period> {
        by_id(&self.periods, id, |r| r.id)
    }
    pub(crate) fn teacher(&self, id: Id) -> Option<&Teacher> {
        by_id(&self.teachers, id, |r| r.id)
    }
    pub(crate) fn class(&self, id: Id) -> Option<&Class> {
        by_id(&self.classes, id, |r| r.id)
    }
    pub(crate) fn student(&self, id: Id) -> Option<&Student> {
        by_id(&self.students, id, |r| r.id)
    }
    pub(crate) fn guardian(&self, id: Id) -> Option<&Guardian> {
        by_id(&self.guardians, id, |r| r.id)
    }

    /// The guardians listed for a pupil (that exist), by id.
    pub(crate) fn guardians_of(&self, student: Id) -> Vec<Id> {
        self.linked(
            |sg| (sg.student_id == student).then_some(sg.guardian_id),
            |g| self.guardian(g).is_some(),
        )
    }

    /// The pupils each guardian is listed for (that exist), sorted by id: every link read
    /// once, for a caller that asks for many guardians.
    pub(crate) fn children_by_guardian(&self) -> HashMap<Id, Vec<Id>> {
        let mut map: HashMap<Id, Vec<Id>> = HashMap::new();
        for link in &self.student_guardians {
            if self.student(link.student_id).is_some() {
                map.entry(link.guardian_id)
                    .or_default()
                    .push(link.student_id);
            }
        }
        for pupils in map.values_mut() {
            pupils.sort_unstable();
            pupils.dedup();
        }
        map
    }

    /// The other ends of the `student_guardians` links `pick` takes, that exist, sorted.
    fn linked(
        &self,
        pick: impl Fn(&StudentGuardian) -> Option<Id>,
        exists: impl Fn(Id) -> bool,
    ) -> Vec<Id> {
        let mut out: Vec<Id> = self
            .student_guardians
            .iter()
            .filter_map(pick)
            .filter(|id| exists(*id))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The id another system gives a pupil (`kind` = `students`) or guardian
    /// (`guardians`): the first by source name when several systems name the row.
    pub(crate) fn external_id(&self, kind: &str, local_id: Id) -> Option<&ExternalId> {
        let i = self
            .external_ids
            .partition_point(|e| (e.kind.as_str(), e.local_id) < (kind, local_id));
        self.external_ids
            .get(i)
            .filter(|e| e.kind == kind && e.local_id == local_id)
    }
    pub(crate) fn subject(&self, id: Id) -> Option<&Subject> {
        by_id(&self.subjects, id, |r| r.id)
    }
    pub(crate) fn group(&self, id: Id) -> Option<&Group> {
        by_id(&self.groups, id, |r| r.id)
    }
    /// Lessons a week of each subject in each class's timetable, by (class, subject): a
    /// pair of groups at one time counts once. Built once per command.
    pub(crate) fn weekly_hours(&self) -> WeeklyHours {
        let slots: std::collections::HashSet<(Id, Id, i64, i64)> = self
            .timetable
            .iter()
            .map(|t| (t.class_id, t.subject_id, t.weekday, t.number))
            .collect();
        let mut hours = HashMap::new();
        for (class, subject, _, _) in slots {
            *hours.entry((class, subject)).or_insert(0) += 1;
        }
        WeeklyHours(hours)
    }
    /// The holiday a grade has off on `date`, if any.
    pub(crate) fn holiday_on(&self, date: NaiveDate, grade: i64) -> Option<&Holiday> {
        self.holidays.iter().find(|h| h.covers(date, grade))
    }
    pub(crate) fn lesson(&self, id: Id) -> Option<&Lesson> {
        by_id(&self.lessons, id, |r| r.id)
    }
    /// Where a lesson is in `lessons`.
    pub(crate) fn lesson_position(&self, id: Id) -> Option<usize> {
        position_by_id(&self.lessons, id, |r| r.id)
    }
    pub(crate) fn work_type(&self, id: Id) -> Option<&WorkType> {
        by_id(&self.work_types, id, |r| r.id)
    }
    /// The bell times of lesson `number` in a shift.
    pub(crate) fn bell(&self, shift: i64, number: i64) -> Option<&Bell> {
        self.bells
            .binary_search_by_key(&(shift, number), |b| (b.shift, b.number))
            .ok()
            .map(|i| &self.bells[i])
    }
    /// The shift of a class (1 for a class that is not in the journal).
    pub(crate) fn shift_of(&self, class_id: Id) -> i64 {
        self.class(class_id).map_or(1, |c| c.shift)
    }

    /// The academic year that contains `date`, else the latest one that starts before it,
    /// else the first.
    pub(crate) fn year_for(&self, date: NaiveDate) -> Option<&AcademicYear> {
        self.years
            .iter()
            .find(|y| y.starts_on <= date && date <= y.ends_on)
            .or_else(|| self.years.iter().rev().find(|y| y.starts_on <= date))
            .or_else(|| self.years.first())
    }

    /// Classes of an academic year, by grade then letter.
    pub(crate) fn classes_of_year(&self, year_id: Id) -> Vec<&Class> {
        let mut classes: Vec<&Class> = self
            .classes
            .iter()
            .filter(|c| c.year_id == year_id)
            .collect();
        classes.sort_by(|a, b| (a.grade, &a.letter, a.id).cmp(&(b.grade, &b.letter, b.id)));
        classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A school of 20000 pupils holds nearly six million marks at once: every byte of a
    /// mark's row is 6 MB of the build's memory, and a value in an allocation of its own
    /// was another 16 bytes and an allocation per mark.
    #[test]
    fn a_mark_keeps_its_value_inside_its_row() {
        assert!(
            std::mem::size_of::<Mark>() <= 112,
            "{}",
            std::mem::size_of::<Mark>()
        );
        for value in ["5", "н/а", "зач", "осв.", "4-", "отл.", "не атт."] {
            let v = ShortText::from(value);
            assert!(!v.is_heap_allocated(), "{value}");
            assert_eq!(v, value);
        }
        // Longer text still fits, in an allocation.
        let long = "зачтено с замечаниями по оформлению";
        assert_eq!(ShortText::from(long), long);
    }

    #[test]
    fn rows_are_found_by_id_dense_or_not() {
        for ids in [
            vec![1, 2, 3, 4, 5],
            vec![3, 4, 9, 10, 40],
            vec![-5, 0, 2, 7],
            vec![i64::MIN, 0, i64::MAX],
            vec![],
        ] {
            for probe in [
                i64::MIN,
                -5,
                -1,
                0,
                1,
                2,
                3,
                4,
                5,
                7,
                9,
                10,
                11,
                40,
                i64::MAX,
            ] {
                let found = by_id(&ids, probe, |r| *r);
                assert_eq!(
                    found.copied(),
                    ids.contains(&probe).then_some(probe),
                    "{ids:?} {probe}"
                );
            }
        }
    }
}
