//! Teachers' remarks in the demo journal: a few a month in every class, about pupils who
//! were at school that day — praise and concerns from the teacher of a lesson about its
//! subject, achievements (olympiads, contests), and behaviour noted by the class teacher.
//! Pupils who do well get more praise and achievements, those who struggle more concerns,
//! and some pupils are simply noticed more often than others.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use rand::Rng;
use rand::seq::IndexedRandom;
use rusqlite::{Connection, params};

use super::curriculum::HomeworkStyle;
use super::curriculum::Subject::{self, *};
use super::normal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Behaviour,
    Achievement,
    Concern,
    Praise,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Behaviour => "behaviour",
            Kind::Achievement => "achievement",
            Kind::Concern => "concern",
            Kind::Praise => "praise",
        }
    }

    /// How strongly the pupil's average mark draws a remark of this kind (per mark point
    /// above 4).
    fn pull(self) -> f64 {
        match self {
            Kind::Achievement => 2.0,
            Kind::Praise => 1.0,
            Kind::Behaviour => -0.8,
            Kind::Concern => -1.5,
        }
    }
}

/// How often each kind is written.
const KINDS: [(Kind, f64); 4] = [
    (Kind::Praise, 0.32),
    (Kind::Concern, 0.28),
    (Kind::Behaviour, 0.22),
    (Kind::Achievement, 0.18),
];

/// Remarks a class gets in a month.
const PER_MONTH: std::ops::RangeInclusive<usize> = 2..=5;

/// Which lessons a remark can be about.
#[derive(Clone, Copy)]
enum Fit {
    /// Written by the class teacher, about no subject.
    Class,
    /// Any subject.
    Any,
    /// A subject with notebooks and homework, from grade 2.
    Desk,
    /// One of these subjects.
    Only(&'static [Subject]),
    /// One of these subjects, from grade 2 (where tests are marked).
    Marked(&'static [Subject]),
}

/// The remarks teachers write. `{а}` is «а» for a girl, `{ся}` «ся» or «ась», and
/// `{subject}` the lesson's subject after «по».
#[rustfmt::skip]
const TEXTS: &[(Kind, Fit, &str)] = &[
    (Kind::Behaviour, Fit::Class, "Опоздал{а} на первый урок без уважительной причины"),
    (Kind::Behaviour, Fit::Class, "Опоздал{а} на урок без причины"),
    (Kind::Behaviour, Fit::Class, "Был{а} на уроках без сменной обуви"),
    (Kind::Behaviour, Fit::Class, "Нарушал{а} дисциплину на перемене: бегал{а} по коридору"),
    (Kind::Behaviour, Fit::Class, "Пользовал{ся} телефоном на уроке, телефон возвращён после уроков"),
    (Kind::Behaviour, Fit::Class, "Был{а} в школе без школьной формы"),
    (Kind::Behaviour, Fit::Class, "Не дежурил{а} по классу в свой день"),
    (Kind::Behaviour, Fit::Class, "Грубил{а} однокласснику на перемене, проведена беседа"),
    (Kind::Behaviour, Fit::Class, "Покинул{а} школу до конца уроков, не предупредив классного руководителя"),
    (Kind::Behaviour, Fit::Class, "Забыл{а} дома учебники и тетради"),
    (Kind::Behaviour, Fit::Class, "Опоздал{а} на классный час"),
    (Kind::Concern, Fit::Desk, "Не выполнил{а} домашнее задание третий раз подряд"),
    (Kind::Concern, Fit::Desk, "Не выполнил{а} домашнее задание"),
    (Kind::Concern, Fit::Any, "Не готов{а} к уроку: нет учебника и тетради"),
    (Kind::Concern, Fit::Desk, "Не сдал{а} тетрадь на проверку"),
    (Kind::Concern, Fit::Desk, "Отвлекал{ся} на уроке, не записал{а} новую тему"),
    (Kind::Concern, Fit::Any, "Разговаривал{а} на уроке, мешал{а} одноклассникам"),
    (Kind::Concern, Fit::Desk, "Неаккуратно ведёт тетрадь, много исправлений"),
    (Kind::Concern, Fit::Desk, "Пропущено несколько уроков: нужно разобрать пропущенные темы"),
    (Kind::Concern, Fit::Marked(&[Russian, Maths, Algebra, Geometry]), "Не выполнил{а} работу над ошибками после контрольной"),
    (Kind::Concern, Fit::Only(&[Reading, Literature]), "Не выучил{а} стихотворение наизусть"),
    (Kind::Concern, Fit::Only(&[Pe]), "Нет спортивной формы на уроке"),
    (Kind::Achievement, Fit::Desk, "Победитель школьного этапа олимпиады по {subject}"),
    (Kind::Achievement, Fit::Desk, "Призёр школьного этапа всероссийской олимпиады школьников по {subject}"),
    (Kind::Achievement, Fit::Desk, "Участник муниципального этапа олимпиады по {subject}"),
    (Kind::Achievement, Fit::Desk, "Победитель дистанционной олимпиады по {subject}"),
    (Kind::Achievement, Fit::Desk, "Выступил{а} с докладом на школьной научно-практической конференции"),
    (Kind::Achievement, Fit::Marked(&[Russian, Maths, Algebra, Geometry]), "Лучшая работа в классе: контрольная без единой ошибки"),
    (Kind::Achievement, Fit::Only(&[Reading, Literature]), "Занял{а} первое место в школьном конкурсе чтецов"),
    (Kind::Achievement, Fit::Only(&[Art]), "Стал{а} призёром городского конкурса рисунков"),
    (Kind::Achievement, Fit::Only(&[Pe]), "Занял{а} второе место в городских соревнованиях по лёгкой атлетике"),
    (Kind::Achievement, Fit::Only(&[Music]), "Выступил{а} с сольным номером на школьном концерте"),
    (Kind::Praise, Fit::Any, "Активно работал{а} на уроке"),
    (Kind::Praise, Fit::Any, "Отличная работа на уроке, молодец!"),
    (Kind::Praise, Fit::Desk, "Подготовил{а} интересное сообщение по теме урока"),
    (Kind::Praise, Fit::Desk, "Аккуратно и полностью выполнил{а} домашнее задание"),
    (Kind::Praise, Fit::Desk, "Хорошо подготовил{ся} к контрольной работе"),
    (Kind::Praise, Fit::Desk, "Заметны успехи в учёбе, так держать!"),
    (Kind::Praise, Fit::Desk, "Помогал{а} однокласснику разобраться в новой теме"),
    (Kind::Praise, Fit::Marked(&[Maths, Algebra, Geometry, Physics, Informatics]), "Сам{а} решил{а} трудную задачу и объяснил{а} решение классу"),
    (Kind::Praise, Fit::Class, "Благодарность за активное участие в субботнике"),
    (Kind::Praise, Fit::Class, "Благодарность за помощь в подготовке классного праздника"),
    (Kind::Praise, Fit::Class, "Ответственно дежурил{а} по классу, молодец!"),
];

/// Whether a remark of `fit` can be about a lesson of `subject` in `grade`.
fn fits(fit: Fit, subject: Option<Subject>, grade: i64) -> bool {
    let desk = |s: Subject| {
        !matches!(
            s.homework_style(),
            HomeworkStyle::None | HomeworkStyle::Creative
        )
    };
    match fit {
        Fit::Class | Fit::Any => true,
        Fit::Desk => grade >= 2 && subject.is_some_and(desk),
        Fit::Only(list) => subject.is_some_and(|s| list.contains(&s)),
        Fit::Marked(list) => grade >= 2 && subject.is_some_and(|s| list.contains(&s)),
    }
}

/// The text for a pupil: a girl's forms for a girl, the lesson's subject.
fn fill(text: &str, girl: bool, subject: Option<Subject>) -> String {
    let (a, sya) = if girl { ("а", "ась") } else { ("", "ся") };
    text.replace("{а}", a)
        .replace("{ся}", sya)
        .replace("{subject}", subject.map_or("", Subject::dative))
}

/// What every class's remarks need of the whole school.
struct School {
    /// Each pupil's average numeric mark.
    averages: HashMap<i64, f64>,
    /// Pupils of each group.
    groups: HashMap<i64, HashSet<i64>>,
    /// (pupil, lesson) of each absence (coming late is being there).
    away: HashSet<(i64, i64)>,
}

/// A class, with its pupils: id, whether a girl, how often they are noticed.
struct Class {
    grade: i64,
    teacher: Option<i64>,
    pupils: Vec<(i64, bool, f64)>,
}

/// A lesson that took place, as a remark needs it.
struct Lesson {
    id: i64,
    date: String,
    subject: Option<Subject>,
    subject_id: i64,
    teacher: Option<i64>,
    group: Option<i64>,
}

/// Writes every class's remarks; returns how many.
pub(super) fn write(conn: &Connection, rng: &mut impl Rng) -> Result<usize> {
    let school = School::load(conn)?;
    let classes: Vec<(i64, i64, Option<i64>)> = conn
        .prepare("SELECT id, grade, class_teacher_id FROM classes ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut written = 0;
    for (id, grade, teacher) in classes {
        let class = Class {
            grade,
            teacher,
            pupils: pupils(conn, id, rng)?,
        };
        let lessons = lessons(conn, id)?;
        for month in lessons.chunk_by(|a, b| a.date[..7] == b.date[..7]) {
            for _ in 0..rng.random_range(PER_MONTH) {
                written += school.remark(conn, &class, month, written, rng)?;
            }
        }
    }
    Ok(written)
}

/// A class's pupils in id order: whether a girl (by the patronymic), and how noticeable.
fn pupils(conn: &Connection, class: i64, rng: &mut impl Rng) -> Result<Vec<(i64, bool, f64)>> {
    let rows: Vec<(i64, Option<String>)> = conn
        .prepare("SELECT id, middle_name FROM students WHERE class_id = ?1 ORDER BY id")?
        .query_map([class], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .map(|(id, middle)| {
            let girl = middle.is_some_and(|m| m.ends_with("на"));
            (id, girl, normal(rng, 0.0, 0.7).exp())
        })
        .collect())
}

/// The lessons of a class that took place, by date.
fn lessons(conn: &Connection, class: i64) -> Result<Vec<Lesson>> {
    Ok(conn
        .prepare(
            "SELECT id, date, subject_id, coalesce(substitute_teacher_id, teacher_id), group_id \
             FROM lessons WHERE class_id = ?1 AND cancelled = 0 ORDER BY date, number, id",
        )?
        .query_map([class], |r| {
            let subject_id: i64 = r.get(2)?;
            Ok(Lesson {
                id: r.get(0)?,
                date: r.get(1)?,
                subject: Subject::from_id(subject_id),
                subject_id,
                teacher: r.get(3)?,
                group: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

impl School {
    fn load(conn: &Connection) -> Result<School> {
        let averages = conn
            .prepare(
                "SELECT student_id, avg(CAST(value AS REAL)) FROM marks \
                 WHERE value IN ('1', '2', '3', '4', '5') GROUP BY student_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut groups: HashMap<i64, HashSet<i64>> = HashMap::new();
        let mut stmt = conn.prepare("SELECT group_id, student_id FROM group_students")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            groups.entry(r.get(0)?).or_default().insert(r.get(1)?);
        }
        let away = conn
            .prepare("SELECT student_id, lesson_id FROM attendance WHERE status != 'late'")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(School {
            averages,
            groups,
            away,
        })
    }

    /// Writes one remark of a month in a class, as row `written + 1`; returns how many
    /// it wrote (none when no lesson or pupil fits the text drawn).
    fn remark(
        &self,
        conn: &Connection,
        class: &Class,
        month: &[Lesson],
        written: usize,
        rng: &mut impl Rng,
    ) -> Result<usize> {
        let kind = KINDS
            .choose_weighted(rng, |k| k.1)
            .map_or(Kind::Praise, |k| k.0);
        let texts: Vec<&(Kind, Fit, &str)> = TEXTS
            .iter()
            .filter(|t| {
                t.0 == kind && (!matches!(t.1, Fit::Desk | Fit::Marked(_)) || class.grade >= 2)
            })
            .collect();
        let Some(&&(_, fit, text)) = texts.choose(rng) else {
            return Ok(0);
        };
        let fitting: Vec<&Lesson> = month
            .iter()
            .filter(|l| fits(fit, l.subject, class.grade))
            .collect();
        let Some(lesson) = fitting.choose(rng) else {
            return Ok(0);
        };
        let Some(&(pupil, girl, _)) = self.pupil_for(class, lesson, kind, rng) else {
            return Ok(0);
        };
        let (teacher, subject) = match fit {
            Fit::Class => (class.teacher, None),
            _ => (lesson.teacher, Some(lesson.subject_id)),
        };
        conn.prepare_cached(
            "INSERT INTO remarks (id, student_id, date, teacher_id, subject_id, kind, text) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            written as i64 + 1,
            pupil,
            lesson.date,
            teacher,
            subject,
            kind.as_str(),
            fill(text, girl, lesson.subject)
        ])?;
        Ok(1)
    }

    /// A pupil taught the lesson and there, drawn by how noticeable they are and how
    /// their marks suit the kind of remark.
    fn pupil_for<'c>(
        &self,
        class: &'c Class,
        lesson: &Lesson,
        kind: Kind,
        rng: &mut impl Rng,
    ) -> Option<&'c (i64, bool, f64)> {
        let group = lesson.group.and_then(|g| self.groups.get(&g));
        let there: Vec<&(i64, bool, f64)> = class
            .pupils
            .iter()
            .filter(|(id, _, _)| group.is_none_or(|g| g.contains(id)))
            .filter(|(id, _, _)| !self.away.contains(&(*id, lesson.id)))
            .collect();
        there
            .choose_weighted(rng, |(id, _, noticed)| {
                let average = self.averages.get(id).copied().unwrap_or(4.0);
                noticed * (kind.pull() * (average - 4.0)).exp()
            })
            .ok()
            .copied()
    }
}
