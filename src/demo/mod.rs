//! The demo school: a made-up Russian school («СОШ № 39») with a whole year of journal —
//! timetables, lessons, homework, marks, attendance, announcements and events — so a new
//! site has something real-looking to show, and benchmarks have something big to chew.
//!
//! Everything random comes from one seed, so the same seed and pupil count always give
//! the same database. Each part of the school draws from its own ChaCha stream (people,
//! timetable, board, one per class), so a change in one part does not reshuffle the rest.
//!
//! The parts: `calendar` (year, holidays, bells of both shifts, the exam session),
//! `curriculum` (subjects and hours), `names`, `people` (classes, pupils, families),
//! `timetable` (staff and the weekly plan), `topics` (lesson topics, homework, comments),
//! `journal` (a class's year of lessons, attendance and marks, written class by class) and
//! `board` (announcements and events). Then `records` fills in what journal schema v2
//! added, reading the school back and drawing from streams of its own: `shifts` (a second
//! shift), homework minutes, when marks were entered and period marks set, `exams` (state
//! exams and final marks), how families receive the diary, and `remarks`. The data tables
//! live apart from the logic: names, curriculum, topics, board, remarks.

mod board;
mod calendar;
mod curriculum;
mod exams;
mod journal;
mod names;
mod people;
mod records;
mod remarks;
mod shifts;
mod timetable;
mod topics;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashSet};

use anyhow::{Context, Result, bail};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, params};

use curriculum::{SUBJECTS, WORK_TYPES};
use names::Gender;
use people::{ClassPlan, People};
use timetable::Plan;

/// What to generate.
#[derive(Debug, Clone)]
pub(crate) struct DemoOptions {
    /// Pupils in the whole school.
    pub students: usize,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            students: 300,
            seed: 2026,
        }
    }
}

/// Row counts of what was generated.
#[derive(Debug, Clone)]
pub(crate) struct DemoSummary {
    pub classes: usize,
    pub students: usize,
    pub teachers: usize,
    pub lessons: usize,
    pub marks: usize,
    pub attendance: usize,
    /// Classes that study in the second shift.
    pub second_shift: usize,
    pub remarks: usize,
}

/// Random streams of the parts of the school (classes use `CLASS_STREAMS + index`; the
/// v2 records theirs, in `records`).
const PEOPLE_STREAM: u64 = 1;
const TIMETABLE_STREAM: u64 = 2;
const BOARD_STREAM: u64 = 3;
const STAFF_STREAM: u64 = 4;
const CLASS_STREAMS: u64 = 1000;

fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// A normally distributed number (Box–Muller), for abilities and marks.
pub(crate) fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    mean + sd * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Fills a freshly created, empty journal (schema already applied with
/// [`crate::journal::create_schema`] / [`crate::journal::open_for_writing`]) inside ONE
/// transaction.
pub(crate) fn generate(conn: &mut Connection, opts: &DemoOptions) -> Result<DemoSummary> {
    if opts.students == 0 {
        bail!("the demo school needs at least one pupil");
    }
    let tx = conn.transaction()?;
    let rows: i64 = tx
        .query_row(
            "SELECT (SELECT count(*) FROM school) + (SELECT count(*) FROM classes)",
            [],
            |r| r.get(0),
        )
        .context("the journal has no schema (create it before generating the demo)")?;
    if rows > 0 {
        bail!("the journal is not empty; the demo school is written only into an empty one");
    }
    let mut summary = write_year(&tx, opts)?;
    let records = records::write(&tx, opts.seed).context("the demo school's v2 records")?;
    tx.commit()?;
    summary.second_shift = records.second_shift;
    summary.remarks = records.remarks;
    Ok(summary)
}

/// The school and its year as journal schema v1 has it: people, timetable, lessons,
/// marks, attendance, period marks, announcements and events.
fn write_year(tx: &Connection, opts: &DemoOptions) -> Result<DemoSummary> {
    let classes = people::plan_classes(opts.students);
    let people = people::populate(&classes, &mut rng_for(opts.seed, PEOPLE_STREAM));
    let plan = timetable::plan(&classes, &mut rng_for(opts.seed, TIMETABLE_STREAM));

    let staff = teacher_names(&plan, opts.seed);
    write_school(tx)?;
    write_staff(tx, &staff)?;
    write_classes(tx, &classes, &plan, &people)?;

    let mut school = journal::School {
        teachers: &plan.teachers,
        groups: &plan.groups,
        by_subject: plan.teachers_by_subject(),
        standing_in: HashSet::new(),
        counters: journal::Counters::default(),
    };
    let days_of_grade: Vec<Vec<calendar::SchoolDay>> =
        (1..=11).map(calendar::school_days).collect();
    for (c, class) in classes.iter().enumerate() {
        let pupils = people.class_start[c]..people.class_start[c + 1];
        let input = journal::Class {
            id: c as i64 + 1,
            grade: class.grade,
            schedule: &plan.classes[c],
            pupils: &people.pupils[pupils.clone()],
            first_pupil_id: pupils.start as i64 + 1,
            days: &days_of_grade[class.grade as usize - 1],
        };
        let mut rng = rng_for(opts.seed, CLASS_STREAMS + c as u64);
        school.write_class(tx, &input, &mut rng)?;
    }
    let counters = school.counters;

    let board_classes: Vec<board::BoardClass> = classes
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let t = plan.classes[c].class_teacher;
            board::BoardClass {
                id: c as i64 + 1,
                grade: class.grade,
                name: class.name.clone(),
                teacher: staff[t].0.short(),
                room: plan.teachers[t].room.clone(),
            }
        })
        .collect();
    board::write(tx, &board_classes, &mut rng_for(opts.seed, BOARD_STREAM))?;
    Ok(DemoSummary {
        classes: classes.len(),
        students: people.pupils.len(),
        teachers: plan.teachers.len(),
        lessons: counters.lessons as usize,
        marks: counters.marks as usize,
        attendance: counters.attendance,
        second_shift: 0,
        remarks: 0,
    })
}

/// The school, its year, periods, holidays, bells, subjects and kinds of work.
fn write_school(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT INTO school (id, name, short_name, is_demo, address, contact) VALUES (1, ?1, ?2, 1, ?3, ?4)",
        params![
            "МБОУ «Средняя общеобразовательная школа № 39»",
            "СОШ № 39",
            "620039, г. Новоград, ул. Школьная, д. 39",
            "Приёмная: +7 (900) 000-39-39, office@school39.example",
        ],
    )?;
    conn.execute(
        "INSERT INTO academic_years (id, name, starts_on, ends_on) VALUES (1, ?1, ?2, ?3)",
        params![
            calendar::YEAR_NAME,
            calendar::YEAR_START,
            calendar::YEAR_END
        ],
    )?;
    let mut period = conn.prepare_cached(
        "INSERT INTO periods (id, year_id, kind, number, name, starts_on, ends_on) VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, (name, from, to)) in calendar::QUARTERS.iter().enumerate() {
        let n = i as i64 + 1;
        period.execute(params![n, "quarter", n, name, from, to])?;
    }
    period.execute(params![
        5,
        "year",
        1,
        "Год",
        calendar::YEAR_START,
        calendar::YEAR_END
    ])?;
    let mut holiday = conn.prepare_cached(
        "INSERT INTO holidays (id, year_id, name, starts_on, ends_on, grade) VALUES (?1, 1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, (name, from, to, grade)) in calendar::HOLIDAYS.iter().enumerate() {
        holiday.execute(params![i as i64 + 1, name, from, to, grade])?;
    }
    let mut bell =
        conn.prepare_cached("INSERT INTO bells (number, starts_at, ends_at) VALUES (?1, ?2, ?3)")?;
    for (i, (from, to)) in calendar::BELLS.iter().enumerate() {
        bell.execute(params![i as i64 + 1, from, to])?;
    }
    let mut subject =
        conn.prepare_cached("INSERT INTO subjects (id, name, short_name) VALUES (?1, ?2, ?3)")?;
    for s in SUBJECTS {
        let (name, short) = s.names();
        subject.execute(params![s.id(), name, short])?;
    }
    let mut work =
        conn.prepare_cached("INSERT INTO work_types (id, name, weight) VALUES (?1, ?2, ?3)")?;
    for (w, name, weight) in WORK_TYPES {
        work.execute(params![w.id(), name, weight])?;
    }
    Ok(())
}

/// Teachers' names and contacts.
fn teacher_names(plan: &Plan, seed: u64) -> Vec<(people::Person, String)> {
    let mut rng = rng_for(seed, STAFF_STREAM);
    let mut taken = BTreeSet::new();
    let mut emails = BTreeSet::new();
    plan.teachers
        .iter()
        .map(|t| {
            let gender = if rng.random_bool(t.specialty.female_share()) {
                Gender::Female
            } else {
                Gender::Male
            };
            let person = people::teacher(gender, &mut taken, &mut rng);
            let contact = people::teacher_contact(&person, &t.room, &mut emails, &mut rng);
            (person, contact)
        })
        .collect()
}

fn write_staff(conn: &Connection, staff: &[(people::Person, String)]) -> Result<()> {
    let mut teacher = conn.prepare_cached(
        "INSERT INTO teachers (id, last_name, first_name, middle_name, contact) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, (p, contact)) in staff.iter().enumerate() {
        teacher.execute(params![i as i64 + 1, p.last, p.first, p.middle, contact])?;
    }
    Ok(())
}

/// Classes, pupils, guardians, groups and the weekly timetable.
fn write_classes(
    conn: &Connection,
    classes: &[ClassPlan],
    plan: &Plan,
    people: &People,
) -> Result<()> {
    let mut class = conn.prepare_cached(
        "INSERT INTO classes (id, year_id, grade, letter, name, class_teacher_id) VALUES (?1, 1, ?2, ?3, ?4, ?5)",
    )?;
    for (c, cp) in classes.iter().enumerate() {
        let teacher = plan.classes[c].class_teacher as i64 + 1;
        class.execute(params![c as i64 + 1, cp.grade, cp.letter, cp.name, teacher])?;
    }
    let mut student = conn.prepare_cached(
        "INSERT INTO students (id, class_id, last_name, first_name, middle_name) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, p) in people.pupils.iter().enumerate() {
        let n = &p.person;
        student.execute(params![
            i as i64 + 1,
            p.class as i64 + 1,
            n.last,
            n.first,
            n.middle
        ])?;
    }
    let mut guardian = conn.prepare_cached(
        "INSERT INTO guardians (id, last_name, first_name, middle_name, contact) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, g) in people.guardians.iter().enumerate() {
        let n = &g.person;
        guardian.execute(params![i as i64 + 1, n.last, n.first, n.middle, g.contact])?;
    }
    let mut link = conn.prepare_cached(
        "INSERT INTO student_guardians (student_id, guardian_id, relation) VALUES (?1, ?2, ?3)",
    )?;
    for (i, p) in people.pupils.iter().enumerate() {
        for &(g, relation) in &people.families[p.family].guardians {
            link.execute(params![i as i64 + 1, g as i64 + 1, relation])?;
        }
    }
    let mut group = conn.prepare_cached(
        "INSERT INTO groups (id, class_id, subject_id, name) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut member =
        conn.prepare_cached("INSERT INTO group_students (group_id, student_id) VALUES (?1, ?2)")?;
    for (i, g) in plan.groups.iter().enumerate() {
        let id = i as i64 + 1;
        group.execute(params![
            id,
            g.class as i64 + 1,
            g.subject.id(),
            format!("Группа {}", g.number)
        ])?;
        let start = people.class_start[g.class];
        let size = people.class_start[g.class + 1] - start;
        for p in g.members(size) {
            member.execute(params![id, (start + p) as i64 + 1])?;
        }
    }
    let mut line = conn.prepare_cached(
        "INSERT INTO timetable (id, class_id, group_id, subject_id, teacher_id, weekday, number, room) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut id = 0i64;
    for (c, schedule) in plan.classes.iter().enumerate() {
        for slot in &schedule.slots {
            let l = &schedule.lines[slot.line];
            for s in &l.streams {
                id += 1;
                line.execute(params![
                    id,
                    c as i64 + 1,
                    s.group.map(|g| g as i64 + 1),
                    l.subject.id(),
                    s.teacher as i64 + 1,
                    slot.weekday as i64 + 1,
                    slot.number,
                    plan.teachers[s.teacher].room,
                ])?;
            }
        }
    }
    Ok(())
}

/// A site in a temporary folder with a demo journal of `students` pupils, codes cheap to
/// derive (100000 iterations), for unit tests of the steps that need a whole site.
#[cfg(test)]
pub(crate) fn test_site(students: usize) -> (tempfile::TempDir, crate::config::Site) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        tmp.path().join(crate::config::SITE_FILE),
        crate::config::TEMPLATE.replace("iterations = 600000", "iterations = 100000"),
    )
    .expect("site.toml");
    let site = crate::config::Site::load(tmp.path()).expect("the template loads");
    let mut conn = crate::journal::open_for_writing(&site.journal_path()).expect("a journal");
    generate(&mut conn, &DemoOptions { students, seed: 7 }).expect("the demo school");
    (tmp, site)
}

/// The pupils of a journal with a guardian online: in the demo, everyone but the children
/// of its few families on paper only, who get no code and so no diary.
#[cfg(test)]
pub(crate) fn pupils_online(j: &crate::journal::Journal) -> BTreeSet<crate::journal::Id> {
    j.student_guardians
        .iter()
        .filter(|sg| {
            j.guardian(sg.guardian_id)
                .is_some_and(|g| g.delivery != crate::journal::Delivery::Paper)
        })
        .map(|sg| sg.student_id)
        .collect()
}
