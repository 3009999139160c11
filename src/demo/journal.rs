//! A class's year in the journal: every lesson of its timetable on every school day, with
//! topic and homework, who was away, the marks, and the period marks that follow.
//!
//! Classes are written one at a time and nothing of a class is kept after it, so a
//! school of 20 000 pupils needs no more memory than one of 300.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use anyhow::Result;
use rand::Rng;
use rand::seq::IndexedRandom;
use rusqlite::{CachedStatement, Connection, params};

use super::calendar::SchoolDay;
use super::curriculum::{HomeworkStyle, Subject, WorkType};
use super::normal;
use super::people::Pupil;
use super::timetable::{ClassSchedule, Group, Teacher};
use super::topics;

const CANCELLED: f64 = 0.005;
const SUBSTITUTED: f64 = 0.02;
const WITH_LINKS: f64 = 0.05;
const WITH_COMMENT: f64 = 0.03;
/// A control lesson every this many lessons of a subject.
const CONTROL_EVERY: usize = 8;
/// Chances, per pupil and school day, that an absence starts.
const ILL_PER_DAY: f64 = 0.011;
const EXCUSED_PER_DAY: f64 = 0.0025;
const UNEXCUSED_PER_DAY: f64 = 0.001;
const UNKNOWN_PER_DAY: f64 = 0.001;
/// Chances, per pupil and lesson, of coming late or skipping just that lesson.
const LATE: f64 = 0.01;
/// The marks a term needs (site.toml's `[grading] min_marks`), which teachers make sure of.
const MIN_MARKS: u32 = 3;
const SKIPPED: f64 = 0.001;

/// Why a pupil is away for a whole day; every lesson of the day gets the same row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Away {
    Ill,
    Excused,
    Unexcused,
    /// Reason not (yet) known.
    Unknown,
}

impl Away {
    fn status(self) -> &'static str {
        match self {
            Away::Ill => "ill",
            Away::Excused => "excused",
            Away::Unexcused => "unexcused",
            Away::Unknown => "absent",
        }
    }

    fn notes(self) -> &'static [Option<&'static str>] {
        match self {
            Away::Ill => &[
                Some("справка"),
                Some("справка"),
                Some("справка от врача"),
                Some("по болезни, справка"),
            ],
            Away::Excused => &[
                Some("олимпиада"),
                Some("соревнования"),
                Some("заявление родителей"),
                Some("конкурс чтецов"),
            ],
            Away::Unexcused => &[None, Some("без уважительной причины")],
            Away::Unknown => &[None],
        }
    }
}

/// A pupil's day: at school (`None`), or away, why, and the note on it.
type DayOff = Option<(Away, Option<&'static str>)>;

/// Mark values by number (index 0 is never used: the demo gives no 1s either).
const MARKS: [&str; 6] = ["0", "1", "2", "3", "4", "5"];

/// Ids and row counts that run on from class to class.
#[derive(Default)]
pub(super) struct Counters {
    pub lessons: i64,
    pub marks: i64,
    pub attendance: usize,
}

/// What every class shares: teachers, who can stand in for whom, and the substitutions
/// made so far (a teacher stands in for one lesson at a time).
pub(super) struct School<'a> {
    pub teachers: &'a [Teacher],
    pub groups: &'a [Group],
    pub by_subject: BTreeMap<Subject, Vec<usize>>,
    /// (day, lesson number, teacher) of every stand-in so far.
    pub standing_in: HashSet<(i32, u8, usize)>,
    pub counters: Counters,
}

/// One class to write.
pub(super) struct Class<'a> {
    pub id: i64,
    pub grade: u8,
    pub schedule: &'a ClassSchedule,
    /// The class's pupils, alphabetically; pupil `p` has id `first_pupil_id + p`.
    pub pupils: &'a [Pupil],
    pub first_pupil_id: i64,
    pub days: &'a [SchoolDay],
}

/// The insert statements, prepared once per class.
struct Statements<'c> {
    lesson: CachedStatement<'c>,
    link: CachedStatement<'c>,
    mark: CachedStatement<'c>,
    attendance: CachedStatement<'c>,
    period_mark: CachedStatement<'c>,
}

impl<'c> Statements<'c> {
    fn new(conn: &'c Connection) -> Result<Statements<'c>> {
        Ok(Statements {
            lesson: conn.prepare_cached(
                "INSERT INTO lessons (id, class_id, group_id, subject_id, teacher_id, \
                 substitute_teacher_id, date, number, room, topic, homework, homework_due, \
                 cancelled) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?,
            link: conn.prepare_cached(
                "INSERT INTO homework_links (lesson_id, url, title) VALUES (?1, ?2, ?3)",
            )?,
            mark: conn.prepare_cached(
                "INSERT INTO marks (id, student_id, lesson_id, work_type_id, value, weight, \
                 comment, is_debt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            attendance: conn.prepare_cached(
                "INSERT INTO attendance (student_id, lesson_id, status, note) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
            period_mark: conn.prepare_cached(
                "INSERT INTO period_marks (student_id, subject_id, period_id, value) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
        })
    }
}

/// A line of the timetable as one teacher gives it: the whole class or one group.
struct Stream<'a> {
    line: usize,
    subject: Subject,
    teacher: usize,
    group_id: Option<i64>,
    /// Positions of its pupils in the class list.
    members: Range<usize>,
    room: &'a str,
    /// The day (index into the class's school days) of each of its lessons of the year.
    dates: Vec<usize>,
    stems: &'static [&'static str],
    /// Paragraphs in the class's textbook of the subject.
    paragraphs: u32,
    /// Which lesson in eight is a control lesson, so classes do not all test at once.
    phase: usize,
    /// Lessons given so far.
    done: usize,
    last_control: bool,
    /// Chance that a present pupil gets a mark at an ordinary lesson: higher where
    /// there are fewer lessons, so a one-hour subject still gets its marks.
    mark_chance: f64,
}

/// A lesson that took place, as its pupils' rows need it.
struct Held {
    id: i64,
    /// The kind of work when everyone is marked (a control lesson).
    control: Option<WorkType>,
    /// The weight all its marks carry, when not their work type's.
    weight: Option<f64>,
}

/// A pupil's mark at a lesson; `value` None is a debt not yet made up.
struct Mark {
    work: WorkType,
    value: Option<&'static str>,
    debt: bool,
}

/// Weighted sum of a pupil's numeric marks in one subject and period.
#[derive(Clone, Copy, Default)]
struct Tally {
    sum: f64,
    weight: f64,
    count: u32,
}

impl School<'_> {
    /// Writes the year of one class.
    pub(super) fn write_class(
        &mut self,
        conn: &Connection,
        class: &Class,
        rng: &mut impl Rng,
    ) -> Result<()> {
        let mut sql = Statements::new(conn)?;
        let (mut streams, week) = streams_of(class, self.teachers, self.groups, rng);
        let n_days = class.days.len();
        let n_lines = class.schedule.lines.len();
        let away = away_days(class.pupils.len(), n_days, rng);
        // How a pupil does in a subject: their ability, a little better or worse here.
        let knack: Vec<f64> = (0..class.pupils.len() * n_lines)
            .map(|_| normal(rng, 0.0, 0.3))
            .collect();
        let mut tallies = vec![[Tally::default(); 5]; class.pupils.len() * n_lines];
        // For each stream and each of its lessons: the lessons it has left in that quarter,
        // this one included, so a teacher can make up a pupil's missing marks in time.
        let left_in_quarter: Vec<Vec<usize>> = streams
            .iter()
            .map(|st| {
                let quarter = |k: usize| class.days[st.dates[k]].quarter;
                let mut left = vec![0; st.dates.len()];
                for k in (0..st.dates.len()).rev() {
                    left[k] = 1 + match left.get(k + 1) {
                        Some(next) if quarter(k + 1) == quarter(k) => *next,
                        _ => 0,
                    };
                }
                left
            })
            .collect();

        for (d, day) in class.days.iter().enumerate() {
            for &(number, s) in &week[day.weekday] {
                let stream = &mut streams[s];
                let Some(lesson) = self.write_lesson(&mut sql, class, stream, day, number, rng)?
                else {
                    continue;
                };
                let left = left_in_quarter[s][stream.done - 1];
                for p in stream.members.clone() {
                    let student_id = class.first_pupil_id + p as i64;
                    let present = self.write_attendance(
                        &mut sql,
                        student_id,
                        lesson.id,
                        away[p * n_days + d],
                        rng,
                    )?;
                    if class.grade == 1 {
                        continue;
                    }
                    let pupil = &class.pupils[p];
                    let exempt = pupil.pe_exempt && stream.subject == Subject::Pe;
                    let at = p * n_lines + stream.line;
                    let mean = pupil.ability + knack[at];
                    // A pupil short of the term's marks is asked at the last lessons.
                    let short = MIN_MARKS.saturating_sub(tallies[at][day.quarter].count);
                    let chance = if short > 0 && left <= short as usize + 1 {
                        0.95
                    } else {
                        stream.mark_chance
                    };
                    let Some(mark) = mark_for(stream, &lesson, present, exempt, mean, chance, rng)
                    else {
                        continue;
                    };
                    self.counters.marks += 1;
                    let comment = match mark.value {
                        Some(v) => rng
                            .random_bool(WITH_COMMENT)
                            .then(|| topics::comment(v, rng)),
                        None => rng.random_bool(0.2).then(|| topics::comment("", rng)),
                    };
                    sql.mark.execute(params![
                        self.counters.marks,
                        student_id,
                        lesson.id,
                        mark.work.id(),
                        mark.value,
                        lesson.weight,
                        comment,
                        mark.debt,
                    ])?;
                    if let Some(v) = mark.value.and_then(|v| v.parse::<u8>().ok()) {
                        let w = lesson.weight.unwrap_or(mark.work.weight());
                        for period in [day.quarter, 4] {
                            let t = &mut tallies[at][period];
                            t.sum += w * v as f64;
                            t.weight += w;
                            t.count += 1;
                        }
                    }
                }
            }
        }
        write_period_marks(&mut sql, class, &tallies)
    }

    /// Writes one lesson with its topic, homework and links; None when it was cancelled.
    fn write_lesson(
        &mut self,
        sql: &mut Statements,
        class: &Class,
        stream: &mut Stream,
        day: &SchoolDay,
        number: u8,
        rng: &mut impl Rng,
    ) -> Result<Option<Held>> {
        let k = stream.done;
        stream.done += 1;
        let total = stream.dates.len();
        self.counters.lessons += 1;
        let id = self.counters.lessons;
        let cancelled = rng.random_bool(CANCELLED);

        // The topic: the stem the class has reached, or a control lesson on it.
        let stem_index = k * stream.stems.len() / total;
        let stem = stream.stems[stem_index];
        let control =
            (class.grade >= 2 && k >= 2 && (k + stream.phase).is_multiple_of(CONTROL_EVERY))
                .then(|| pick_control(stream.subject, rng));
        let style = stream.subject.homework_style();
        let topic = if let Some(work) = control {
            work.topic(stem)
        } else if stream.last_control && style == HomeworkStyle::Russian {
            "Работа над ошибками".to_string()
        } else if stream.last_control && style == HomeworkStyle::Maths {
            "Анализ контрольной работы".to_string()
        } else {
            // The first lesson on a stem has the stem; the next ones go on from it.
            let block_start = (stem_index * total).div_ceil(stream.stems.len());
            match topics::follow_up(style, k - block_start) {
                Some(next) => format!("{stem}. {next}"),
                None => stem.to_string(),
            }
        };
        stream.last_control = control.is_some();

        let progress = k as f64 / total as f64;
        let homework = (!cancelled)
            .then(|| {
                let (subject, grade) = (stream.subject, class.grade);
                topics::homework(subject, grade, stem, progress, stream.paragraphs, rng)
            })
            .flatten();
        // Work for more than one lesson is due two lessons on; the rest at the next.
        let due = homework
            .as_ref()
            .filter(|h| h.long)
            .and_then(|_| stream.dates.get(k + 2))
            .map(|&d| class.days[d].text.as_str());
        let substitute = if !cancelled && rng.random_bool(SUBSTITUTED) {
            self.stand_in(stream.subject, stream.teacher, day, number, rng)
        } else {
            None
        };

        sql.lesson.execute(params![
            id,
            class.id,
            stream.group_id,
            stream.subject.id(),
            stream.teacher as i64 + 1,
            substitute.map(|t| t as i64 + 1),
            day.text,
            number,
            stream.room,
            topic,
            homework.as_ref().map(|h| h.text.as_str()),
            due,
            cancelled,
        ])?;
        if homework.is_some() && rng.random_bool(WITH_LINKS) {
            let lesson = rng.random_range(1000..7999);
            sql.link.execute(params![
                id,
                format!("https://resh.edu.ru/subject/lesson/{lesson}/"),
                format!("РЭШ: {stem}"),
            ])?;
            if rng.random_bool(0.3) {
                sql.link.execute(params![
                    id,
                    format!("https://resh.edu.ru/subject/lesson/{lesson}/train/"),
                    "Тренировочные задания",
                ])?;
            }
        }
        if cancelled {
            return Ok(None);
        }
        // A few tests count double, whatever their kind's weight.
        let weight = control
            .filter(|w| matches!(w, WorkType::Independent | WorkType::Check))
            .and_then(|_| rng.random_bool(0.1).then_some(2.0));
        Ok(Some(Held {
            id,
            control,
            weight,
        }))
    }

    /// Writes a pupil's attendance at a lesson, if there is any to note; returns whether
    /// the pupil was there (coming late counts as there).
    fn write_attendance(
        &mut self,
        sql: &mut Statements,
        student_id: i64,
        lesson_id: i64,
        day: DayOff,
        rng: &mut impl Rng,
    ) -> Result<bool> {
        let (status, note, present) = match day {
            Some((away, note)) => (away.status(), note.map(str::to_string), false),
            None => {
                let r: f64 = rng.random();
                if r < LATE {
                    let minutes = rng.random_range(5..=20);
                    let note = rng
                        .random_bool(0.3)
                        .then(|| format!("опоздание на {minutes} мин"));
                    ("late", note, true)
                } else if r < LATE + SKIPPED {
                    ("unexcused", None, false)
                } else {
                    return Ok(true);
                }
            }
        };
        sql.attendance
            .execute(params![student_id, lesson_id, status, note])?;
        self.counters.attendance += 1;
        Ok(present)
    }

    /// A colleague teaching the same subject who has no lesson then, if there is one.
    fn stand_in(
        &mut self,
        subject: Subject,
        teacher: usize,
        day: &SchoolDay,
        number: u8,
        rng: &mut impl Rng,
    ) -> Option<usize> {
        let date = chrono::Datelike::num_days_from_ce(&day.date);
        let free: Vec<usize> = self
            .by_subject
            .get(&subject)?
            .iter()
            .copied()
            .filter(|&t| {
                t != teacher
                    && self.teachers[t].is_free(day.weekday, number)
                    && !self.standing_in.contains(&(date, number, t))
            })
            .collect();
        let chosen = *free.choose(rng)?;
        self.standing_in.insert((date, number, chosen));
        Some(chosen)
    }
}

/// The class's timetable as streams, and its week: per weekday, (lesson number, stream).
fn streams_of<'a>(
    class: &Class,
    teachers: &'a [Teacher],
    groups: &[Group],
    rng: &mut impl Rng,
) -> (Vec<Stream<'a>>, Vec<Vec<(u8, usize)>>) {
    let size = class.pupils.len();
    let mut streams = Vec::new();
    let mut of_line: Vec<Range<usize>> = Vec::new();
    for (l, line) in class.schedule.lines.iter().enumerate() {
        let start = streams.len();
        for s in &line.streams {
            streams.push(Stream {
                line: l,
                subject: line.subject,
                teacher: s.teacher,
                group_id: s.group.map(|g| g as i64 + 1),
                members: s.group.map_or(0..size, |g| groups[g].members(size)),
                room: &teachers[s.teacher].room,
                dates: Vec::new(),
                stems: topics::stems(line.subject, class.grade),
                paragraphs: rng.random_range(24..=45),
                phase: rng.random_range(0..CONTROL_EVERY),
                done: 0,
                last_control: false,
                mark_chance: (0.55 / line.hours as f64).clamp(0.2, 0.55),
            });
        }
        of_line.push(start..streams.len());
    }
    let mut week: Vec<Vec<(u8, usize)>> = vec![Vec::new(); 5];
    for slot in &class.schedule.slots {
        for s in of_line[slot.line].clone() {
            week[slot.weekday].push((slot.number, s));
        }
    }
    // Every stream's lesson dates up front, for homework due later than the next lesson.
    for (d, day) in class.days.iter().enumerate() {
        for &(_, s) in &week[day.weekday] {
            streams[s].dates.push(d);
        }
    }
    (streams, week)
}

/// What a pupil gets at a lesson. At a control lesson everyone there is marked and
/// everyone away owes the work (a debt, made up later by about a third); at other
/// lessons some of those there are asked, each with `chance`.
fn mark_for(
    stream: &Stream,
    lesson: &Held,
    present: bool,
    exempt_from_pe: bool,
    mean: f64,
    chance: f64,
    rng: &mut impl Rng,
) -> Option<Mark> {
    let numeric = |rng: &mut _, mean| Some(MARKS[sample(mean, rng)]);
    let (work, value, debt) = match lesson.control {
        Some(work) if present => {
            let value = match work {
                _ if exempt_from_pe => Some("осв"),
                WorkType::Credit if rng.random_bool(0.97) => Some("зч"),
                WorkType::Credit => Some("нз"),
                _ => numeric(&mut *rng, mean - 0.15),
            };
            (work, value, false)
        }
        Some(work) if rng.random_bool(1.0 / 3.0) => (work, numeric(&mut *rng, mean - 0.15), true),
        Some(work) => (work, None, true),
        None if present && !exempt_from_pe && rng.random_bool(chance) => {
            let everyday = stream.subject.everyday_work();
            let work = *everyday.choose(rng).unwrap_or(&WorkType::Classwork);
            (work, numeric(&mut *rng, mean), false)
        }
        None => return None,
    };
    Some(Mark { work, value, debt })
}

/// Period marks: the rounded (half up) weighted average, given from three marks on.
fn write_period_marks(sql: &mut Statements, class: &Class, tallies: &[[Tally; 5]]) -> Result<()> {
    let lines = &class.schedule.lines;
    for p in 0..class.pupils.len() {
        for (l, line) in lines.iter().enumerate() {
            for (period, t) in tallies[p * lines.len() + l].iter().enumerate() {
                if t.count >= 3 {
                    let value = (t.sum / t.weight + 0.5).floor() as usize;
                    sql.period_mark.execute(params![
                        class.first_pupil_id + p as i64,
                        line.subject.id(),
                        period as i64 + 1,
                        MARKS[value.min(5)],
                    ])?;
                }
            }
        }
    }
    Ok(())
}

/// The kind of a control lesson: the subject's usual one most of the time.
fn pick_control(subject: Subject, rng: &mut impl Rng) -> WorkType {
    let kinds = subject.control_work();
    if rng.random_bool(0.6) {
        kinds[0]
    } else {
        *kinds.choose(rng).unwrap_or(&kinds[0])
    }
}

/// A mark around `mean` on the 2..5 scale (no one gets a 1 in the demo).
fn sample(mean: f64, rng: &mut impl Rng) -> usize {
    (mean + normal(rng, 0.0, 0.75)).round().clamp(2.0, 5.0) as usize
}

/// For each pupil and school day (`pupil * days + day`): at school, or away and why.
/// Illnesses last 1–7 school days; some children fall ill more often than others.
fn away_days(pupils: usize, days: usize, rng: &mut impl Rng) -> Vec<DayOff> {
    let mut away = vec![None; pupils * days];
    for p in 0..pupils {
        let proneness = 0.4 + 1.4 * rng.random::<f64>();
        let ill = ILL_PER_DAY * proneness;
        let mut d = 0;
        while d < days {
            let r: f64 = rng.random();
            let (kind, length) = if r < ill {
                (Away::Ill, rng.random_range(1..=7))
            } else if r < ill + EXCUSED_PER_DAY {
                (Away::Excused, rng.random_range(1..=2))
            } else if r < ill + EXCUSED_PER_DAY + UNEXCUSED_PER_DAY {
                (Away::Unexcused, 1)
            } else if r < ill + EXCUSED_PER_DAY + UNEXCUSED_PER_DAY + UNKNOWN_PER_DAY {
                (Away::Unknown, 1)
            } else {
                d += 1;
                continue;
            };
            let note = *kind.notes().choose(rng).unwrap_or(&None);
            for day in d..(d + length).min(days) {
                away[p * days + day] = Some((kind, note));
            }
            d += length;
        }
    }
    away
}
