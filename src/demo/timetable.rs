//! Staffing and the weekly timetable of the demo school.
//!
//! Each class gets the weekly plan of its grade. Primary classes (1–4) are taught almost
//! everything by their class teacher; every other subject goes to a pool of subject
//! teachers sized from the school's total load. Then the classes are timetabled one by
//! one: a small max-flow problem places each class's lessons into its week so that no
//! teacher is in two places at once and a subject is spread over the days. When the
//! teachers already booked leave no room, the school hires one more (a part-timer).

use std::collections::{BTreeMap, VecDeque};

use rand::Rng;
use rand::seq::SliceRandom;

use super::curriculum::{Specialty, Subject, max_lessons_per_day, weekly_plan};
use super::people::ClassPlan;

/// Lessons a week the staff is planned for: a full Russian teaching load is 18, most
/// teachers carry more.
const TARGET_LOAD: usize = 25;

/// A specialty with fewer lessons a week than this has no teacher of its own.
const SMALL_LOAD: usize = 12;

/// Numbered lessons in a day the week grid allows (the bell schedule).
const LESSONS_PER_DAY: usize = 8;

#[derive(Debug, Clone)]
pub(super) struct Teacher {
    pub specialty: Specialty,
    pub room: String,
    /// Bit `weekday * 8 + number - 1` is set when the teacher has a lesson then.
    busy: u64,
}

impl Teacher {
    pub(super) fn is_free(&self, weekday: usize, number: u8) -> bool {
        self.busy & slot_bit(weekday, number) == 0
    }

    #[cfg(test)]
    pub(super) fn lessons_per_week(&self) -> u32 {
        self.busy.count_ones()
    }
}

fn slot_bit(weekday: usize, number: u8) -> u64 {
    1 << (weekday * LESSONS_PER_DAY + number as usize - 1)
}

/// Who teaches one line of a class's plan: the whole class (`group` None) or a group.
#[derive(Debug, Clone)]
pub(super) struct Stream {
    pub teacher: usize,
    /// Index into [`Plan::groups`].
    pub group: Option<usize>,
}

/// A subject of a class's plan, its weekly hours, and its one or two streams (two when
/// the class is split into groups that meet at the same time).
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub subject: Subject,
    pub hours: u8,
    pub streams: Vec<Stream>,
}

/// One cell of a class's week: weekday 0..5 (Monday first), lesson number 1..=8.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub weekday: usize,
    pub number: u8,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub(super) struct Group {
    pub class: usize,
    pub subject: Subject,
    /// 1 or 2: the first or second half of the class list.
    pub number: u8,
}

impl Group {
    /// The pupils of this group, as positions in the alphabetical class list: the first
    /// half (the larger one when the class is odd) and the second.
    pub(super) fn members(&self, class_size: usize) -> std::ops::Range<usize> {
        let half = class_size.div_ceil(2);
        if self.number == 1 {
            0..half
        } else {
            half..class_size
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct ClassSchedule {
    pub lines: Vec<Line>,
    /// The week, by weekday and lesson number.
    pub slots: Vec<Slot>,
    pub class_teacher: usize,
}

#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub teachers: Vec<Teacher>,
    pub groups: Vec<Group>,
    pub classes: Vec<ClassSchedule>,
}

impl Plan {
    /// Teachers of each subject, in id order: who may stand in for a colleague.
    pub(super) fn teachers_by_subject(&self) -> BTreeMap<Subject, Vec<usize>> {
        let mut map: BTreeMap<Subject, Vec<usize>> = BTreeMap::new();
        for class in &self.classes {
            for line in &class.lines {
                for stream in &line.streams {
                    map.entry(line.subject).or_default().push(stream.teacher);
                }
            }
        }
        for list in map.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        map
    }
}

/// Room names, handed out in order: numbered rooms floor by floor, gyms for PE.
#[derive(Default)]
struct Rooms {
    numbered: usize,
    gyms: usize,
}

impl Rooms {
    fn next(&mut self, specialty: Specialty) -> String {
        if specialty == Specialty::Pe {
            self.gyms += 1;
            match self.gyms {
                1 => "Спортзал".to_string(),
                2 => "Малый спортзал".to_string(),
                n => format!("Спортзал {n}"),
            }
        } else {
            let i = self.numbered;
            self.numbered += 1;
            format!("{}{:02}", 1 + i / 25, i % 25 + 1)
        }
    }
}

fn hire(teachers: &mut Vec<Teacher>, rooms: &mut Rooms, specialty: Specialty) -> usize {
    teachers.push(Teacher {
        specialty,
        room: rooms.next(specialty),
        busy: 0,
    });
    teachers.len() - 1
}

/// Staffs and timetables every class.
pub(super) fn plan(classes: &[ClassPlan], rng: &mut impl Rng) -> Plan {
    let mut rooms = Rooms::default();
    let mut teachers = Vec::new();

    // Primary classes first, so their teachers get the ground-floor rooms.
    let primary: Vec<Option<usize>> = classes
        .iter()
        .map(|c| (c.grade <= 4).then(|| hire(&mut teachers, &mut rooms, Specialty::Primary)))
        .collect();

    // What each class needs of each specialty: hours, and 1 or 2 teachers (groups).
    let needs: Vec<BTreeMap<Specialty, (usize, usize)>> = classes
        .iter()
        .map(|class| {
            let mut need: BTreeMap<Specialty, (usize, usize)> = BTreeMap::new();
            for &(subject, hours) in weekly_plan(class.grade) {
                let specialty = subject.specialty(class.grade);
                if specialty != Specialty::Primary {
                    let e = need.entry(specialty).or_default();
                    e.0 += hours as usize;
                    e.1 = e.1.max(streams_for(subject, class));
                }
            }
            need
        })
        .collect();

    // Size each pool from its total load.
    let mut totals: BTreeMap<Specialty, (usize, usize)> = BTreeMap::new();
    for need in &needs {
        for (&specialty, &(hours, count)) in need {
            let e = totals.entry(specialty).or_default();
            e.0 += hours * count;
            e.1 = e.1.max(count);
        }
    }
    // A specialty with little work joins a neighbouring one's pool.
    let pool_of = |mut s: Specialty| {
        while totals[&s].0 < SMALL_LOAD
            && let Some(p) = s.partner().filter(|p| totals.contains_key(p))
        {
            s = p;
        }
        s
    };
    let mut pool_totals: BTreeMap<Specialty, (usize, usize)> = BTreeMap::new();
    for (&specialty, &(hours, least)) in &totals {
        let e = pool_totals.entry(pool_of(specialty)).or_default();
        e.0 += hours;
        e.1 = e.1.max(least);
    }
    let mut pools: BTreeMap<Specialty, Vec<usize>> = BTreeMap::new();
    for (&specialty, &(hours, least)) in &pool_totals {
        let count = hours.div_ceil(TARGET_LOAD).max(least);
        let pool = (0..count)
            .map(|_| hire(&mut teachers, &mut rooms, specialty))
            .collect();
        pools.insert(specialty, pool);
    }

    // Hand each class's share to the least loaded teachers of the pool.
    let mut load = vec![0usize; teachers.len()];
    let mut lines_of: Vec<Vec<Line>> = Vec::with_capacity(classes.len());
    let mut groups = Vec::new();
    for (c, class) in classes.iter().enumerate() {
        let mut staff: BTreeMap<Specialty, Vec<usize>> = BTreeMap::new();
        for (&specialty, &(hours, count)) in &needs[c] {
            let mut pool = pools[&pool_of(specialty)].clone();
            pool.sort_by_key(|&t| (load[t], t));
            pool.truncate(count);
            for &t in &pool {
                load[t] += hours;
            }
            staff.insert(specialty, pool);
        }
        let mut lines = Vec::new();
        for &(subject, hours) in weekly_plan(class.grade) {
            let specialty = subject.specialty(class.grade);
            let streams = if specialty == Specialty::Primary {
                vec![Stream {
                    teacher: primary[c].expect("a primary class has a class teacher"),
                    group: None,
                }]
            } else if streams_for(subject, class) == 2 {
                (0..2u8)
                    .map(|i| {
                        groups.push(Group {
                            class: c,
                            subject,
                            number: i + 1,
                        });
                        Stream {
                            teacher: staff[&specialty][i as usize],
                            group: Some(groups.len() - 1),
                        }
                    })
                    .collect()
            } else {
                vec![Stream {
                    teacher: staff[&specialty][0],
                    group: None,
                }]
            };
            lines.push(Line {
                subject,
                hours,
                streams,
            });
        }
        lines_of.push(lines);
    }

    // Timetable class by class; each booking narrows the next class's choices.
    let mut schedules = Vec::with_capacity(classes.len());
    for (class, mut lines) in classes.iter().zip(lines_of) {
        let slots = schedule_class(class.grade, &mut lines, &mut teachers, &mut rooms, rng);
        schedules.push(ClassSchedule {
            lines,
            slots,
            class_teacher: 0,
        });
    }

    // Class teachers: the primary teacher; in 5–11 the teacher with most lessons in the
    // class who leads no other class yet.
    let mut leads = vec![false; teachers.len()];
    for (c, schedule) in schedules.iter_mut().enumerate() {
        schedule.class_teacher = match primary[c] {
            Some(t) => t,
            None => {
                let mut hours: BTreeMap<usize, u32> = BTreeMap::new();
                for line in &schedule.lines {
                    for s in &line.streams {
                        *hours.entry(s.teacher).or_default() += line.hours as u32;
                    }
                }
                let mut ranked: Vec<(usize, u32)> = hours.into_iter().collect();
                ranked.sort_by_key(|&(t, h)| (std::cmp::Reverse(h), t));
                ranked
                    .iter()
                    .find(|(t, _)| !leads[*t])
                    .or(ranked.first())
                    .map_or(0, |&(t, _)| t)
            }
        };
        leads[schedule.class_teacher] = true;
    }

    Plan {
        teachers,
        groups,
        classes: schedules,
    }
}

/// 2 when the class is split into groups for `subject`.
fn streams_for(subject: Subject, class: &ClassPlan) -> usize {
    if subject.in_groups() && class.size >= 2 {
        2
    } else {
        1
    }
}

/// Places one class's weekly lessons and books its teachers.
fn schedule_class(
    grade: u8,
    lines: &mut [Line],
    teachers: &mut Vec<Teacher>,
    rooms: &mut Rooms,
    rng: &mut impl Rng,
) -> Vec<Slot> {
    let total: usize = lines.iter().map(|l| l.hours as usize).sum();
    let max = max_lessons_per_day(grade);
    // Days as even as they can be; which ones are a lesson longer is random, and tried
    // a few ways before giving up compact days.
    let day_lengths = |rng: &mut _| {
        let mut days = [(total / 5) as u8; 5];
        let mut order: Vec<usize> = (0..5).collect();
        order.shuffle(rng);
        for &d in order.iter().take(total % 5) {
            days[d] += 1;
        }
        days
    };
    let at_most_once = |h: u8| h.div_ceil(5);
    let slots = loop {
        // Best: compact days, a subject at most once a day (twice if it has over 5 hours).
        // Then: one more per day. Then: days may stretch to the grade's maximum, which
        // can leave a gap ("окно") or a later start.
        let mut attempts = Vec::new();
        for _ in 0..3 {
            let days = day_lengths(&mut *rng);
            attempts.extend([(days, 0), (days, 1)]);
        }
        attempts.push(([max; 5], 1));
        let mut unplaced = Vec::new();
        let mut done = None;
        for (limits, extra) in attempts {
            let (slots, missing) =
                assign(lines, teachers, limits, |h| at_most_once(h) + extra, rng);
            if missing.iter().all(|&m| m == 0) {
                done = Some(slots);
                break;
            }
            unplaced = missing;
        }
        if let Some(slots) = done {
            break slots;
        }
        // The booked teachers leave no room: hire one more for the line that is hardest
        // to place (the one whose busiest teacher has the fewest free hours).
        let free_hours = |t: usize| {
            (0..5)
                .flat_map(|d| (1..=max).map(move |n| (d, n)))
                .filter(|&(d, n)| teachers[t].is_free(d, n))
                .count()
        };
        let worst = (0..lines.len())
            .flat_map(|l| (0..lines[l].streams.len()).map(move |s| (l, s)))
            .filter(|&(l, s)| teachers[lines[l].streams[s].teacher].busy != 0)
            .min_by_key(|&(l, s)| (unplaced[l] == 0, free_hours(lines[l].streams[s].teacher)));
        match worst {
            Some((l, s)) => {
                let specialty = teachers[lines[l].streams[s].teacher].specialty;
                lines[l].streams[s].teacher = hire(teachers, rooms, specialty);
            }
            // Every teacher of the class is free all week; only the spreading rule can
            // stand in the way, so drop it.
            None => break assign(lines, teachers, [max; 5], |h| h, rng).0,
        }
    };
    let mut slots = slots;
    close_gaps(&mut slots, lines, teachers);
    for slot in &slots {
        for stream in &lines[slot.line].streams {
            teachers[stream.teacher].busy |= slot_bit(slot.weekday, slot.number);
        }
    }
    slots.sort_by_key(|s| (s.weekday, s.number));
    slots
}

/// Moves lessons from the end of a day into its gaps (a free first lesson included),
/// where their teachers are free then.
fn close_gaps(slots: &mut [Slot], lines: &[Line], teachers: &[Teacher]) {
    for d in 0..5 {
        loop {
            let mut used: Vec<u8> = slots
                .iter()
                .filter(|s| s.weekday == d)
                .map(|s| s.number)
                .collect();
            used.sort_unstable();
            let Some(gap) = (1..).zip(&used).find(|(n, u)| n != *u).map(|(n, _)| n) else {
                break;
            };
            let movable = slots
                .iter_mut()
                .filter(|s| s.weekday == d && s.number > gap)
                .filter(|s| {
                    lines[s.line]
                        .streams
                        .iter()
                        .all(|t| teachers[t.teacher].is_free(d, gap))
                })
                .max_by_key(|s| s.number);
            match movable {
                Some(slot) => slot.number = gap,
                None => break,
            }
        }
    }
}

/// One max-flow attempt: source → line (its hours) → line on a weekday (`per_day` of its
/// hours) → free cell of that day (lesson numbers up to `limits[day]`) → sink. Returns
/// the cells found and, per line, the hours left over.
fn assign(
    lines: &[Line],
    teachers: &[Teacher],
    limits: [u8; 5],
    per_day: impl Fn(u8) -> u8,
    rng: &mut impl Rng,
) -> (Vec<Slot>, Vec<u8>) {
    const SOURCE: usize = 0;
    const SINK: usize = 1;
    let line_node = |l: usize| 2 + l;
    let day_node = |l: usize, d: usize| 2 + lines.len() + l * 5 + d;
    let cell_node = |d: usize, n: u8| 2 + lines.len() * 6 + d * LESSONS_PER_DAY + n as usize - 1;
    let total: usize = lines.iter().map(|l| l.hours as usize).sum();
    let stretched = limits.iter().map(|&l| l as usize).sum::<usize>() > total;
    let mut flow = Flow::new(2 + lines.len() * 6 + 5 * LESSONS_PER_DAY);
    // Shuffled edge order: which of many equally good timetables the search finds.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.shuffle(rng);
    let mut placements = Vec::new();
    for &l in &order {
        let line = &lines[l];
        flow.edge(SOURCE, line_node(l), line.hours as u32);
        let mut weekdays: Vec<usize> = (0..5).collect();
        weekdays.shuffle(rng);
        for d in weekdays {
            flow.edge(line_node(l), day_node(l, d), per_day(line.hours) as u32);
            // With room to spare (stretched days), early lessons first, to keep days
            // compact; otherwise any order.
            let mut numbers: Vec<u8> = (1..=limits[d]).collect();
            if !stretched {
                numbers.shuffle(rng);
            }
            for n in numbers {
                if line
                    .streams
                    .iter()
                    .all(|s| teachers[s.teacher].is_free(d, n))
                {
                    let e = flow.edge(day_node(l, d), cell_node(d, n), 1);
                    placements.push((
                        e,
                        Slot {
                            weekday: d,
                            number: n,
                            line: l,
                        },
                    ));
                }
            }
        }
    }
    for (d, &limit) in limits.iter().enumerate() {
        for n in 1..=limit {
            flow.edge(cell_node(d, n), SINK, 1);
        }
    }
    flow.run(SOURCE, SINK);
    let slots: Vec<Slot> = placements
        .into_iter()
        .filter(|&(e, _)| flow.cap[e] == 0)
        .map(|(_, s)| s)
        .collect();
    let mut missing: Vec<u8> = lines.iter().map(|l| l.hours).collect();
    for s in &slots {
        missing[s.line] -= 1;
    }
    (slots, missing)
}

/// A tiny max-flow network (Edmonds–Karp): a few hundred nodes, unit augmentations.
struct Flow {
    adjacent: Vec<Vec<usize>>,
    to: Vec<usize>,
    cap: Vec<u32>,
}

impl Flow {
    fn new(nodes: usize) -> Flow {
        Flow {
            adjacent: vec![Vec::new(); nodes],
            to: Vec::new(),
            cap: Vec::new(),
        }
    }

    /// Adds an edge and its reverse (at index `e ^ 1`); returns the edge's index.
    fn edge(&mut self, from: usize, to: usize, cap: u32) -> usize {
        let e = self.to.len();
        self.to.extend([to, from]);
        self.cap.extend([cap, 0]);
        self.adjacent[from].push(e);
        self.adjacent[to].push(e + 1);
        e
    }

    fn run(&mut self, source: usize, sink: usize) -> u32 {
        let nodes = self.adjacent.len();
        let mut total = 0;
        let mut via = vec![usize::MAX; nodes];
        let mut queue = VecDeque::new();
        loop {
            via.fill(usize::MAX);
            queue.clear();
            queue.push_back(source);
            via[source] = usize::MAX - 1;
            while let Some(u) = queue.pop_front() {
                if u == sink {
                    break;
                }
                for &e in &self.adjacent[u] {
                    let v = self.to[e];
                    if self.cap[e] > 0 && via[v] == usize::MAX {
                        via[v] = e;
                        queue.push_back(v);
                    }
                }
            }
            if via[sink] == usize::MAX {
                return total;
            }
            let mut v = sink;
            while v != source {
                let e = via[v];
                self.cap[e] -= 1;
                self.cap[e ^ 1] += 1;
                v = self.to[e ^ 1];
            }
            total += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::people::plan_classes;
    use rand::SeedableRng;

    fn check(students: usize, seed: u64) -> Plan {
        let classes = plan_classes(students);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let plan = plan(&classes, &mut rng);
        for (class, schedule) in classes.iter().zip(&plan.classes) {
            let hours: usize = schedule.lines.iter().map(|l| l.hours as usize).sum();
            assert_eq!(schedule.slots.len(), hours, "{}", class.name);
            let mut cells: Vec<(usize, u8)> = schedule
                .slots
                .iter()
                .map(|s| (s.weekday, s.number))
                .collect();
            cells.dedup();
            assert_eq!(
                cells.len(),
                hours,
                "{}: two lessons in one cell",
                class.name
            );
            let max = max_lessons_per_day(class.grade);
            assert!(schedule.slots.iter().all(|s| s.number <= max));
            for line in &schedule.lines {
                if line.streams.len() == 2 {
                    assert_ne!(line.streams[0].teacher, line.streams[1].teacher);
                }
            }
        }
        // No teacher in two places at once: the booked bits add up to the lessons.
        let mut per_teacher = vec![0u32; plan.teachers.len()];
        for schedule in &plan.classes {
            for slot in &schedule.slots {
                for s in &schedule.lines[slot.line].streams {
                    per_teacher[s.teacher] += 1;
                }
            }
        }
        for (t, teacher) in plan.teachers.iter().enumerate() {
            assert_eq!(teacher.lessons_per_week(), per_teacher[t]);
        }
        plan
    }

    #[test]
    fn timetables_fit_for_several_sizes() {
        for (students, seed) in [(1, 1), (7, 2), (60, 3), (300, 4), (2000, 5)] {
            check(students, seed);
        }
    }

    #[test]
    fn loads_are_realistic() {
        let plan = check(2000, 2026);
        let subject_teachers: Vec<u32> = plan
            .teachers
            .iter()
            .filter(|t| t.specialty != Specialty::Primary)
            .map(|t| t.lessons_per_week())
            .collect();
        let busy = subject_teachers
            .iter()
            .filter(|&&h| (18..=28).contains(&h))
            .count();
        assert!(
            busy * 10 >= subject_teachers.len() * 8,
            "{subject_teachers:?}"
        );
    }

    #[test]
    fn a_fully_booked_teacher_makes_the_school_hire() {
        let mut rooms = Rooms::default();
        let mut teachers = Vec::new();
        let busy = hire(&mut teachers, &mut rooms, Specialty::Maths);
        teachers[busy].busy = u64::MAX;
        let free = hire(&mut teachers, &mut rooms, Specialty::RussianLiterature);
        let mut lines = vec![
            Line {
                subject: Subject::Algebra,
                hours: 3,
                streams: vec![Stream {
                    teacher: busy,
                    group: None,
                }],
            },
            Line {
                subject: Subject::Russian,
                hours: 3,
                streams: vec![Stream {
                    teacher: free,
                    group: None,
                }],
            },
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let slots = schedule_class(9, &mut lines, &mut teachers, &mut rooms, &mut rng);
        assert_eq!(slots.len(), 6);
        assert_eq!(teachers.len(), 3);
        assert_eq!(lines[0].streams[0].teacher, 2);
        assert_eq!(teachers[2].specialty, Specialty::Maths);
        assert_eq!(teachers[2].lessons_per_week(), 3);
    }
}
