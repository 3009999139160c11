//! What the demo school teaches: subjects, weekly hours per grade (after the federal
//! curriculum for a five-day week), who teaches what, and the kinds of graded work.

use super::topics::quoted;

/// A school subject. The order is the order of the `subjects` table (id = position + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Subject {
    Russian,
    Reading,
    Literature,
    English,
    Maths,
    Algebra,
    Geometry,
    Probability,
    Informatics,
    World,
    History,
    Social,
    Geography,
    Biology,
    Physics,
    Chemistry,
    Orkse,
    Music,
    Art,
    Crafts,
    Pe,
    Obzr,
    Project,
}

use Subject::*;

pub(super) const SUBJECTS: [Subject; 23] = [
    Russian,
    Reading,
    Literature,
    English,
    Maths,
    Algebra,
    Geometry,
    Probability,
    Informatics,
    World,
    History,
    Social,
    Geography,
    Biology,
    Physics,
    Chemistry,
    Orkse,
    Music,
    Art,
    Crafts,
    Pe,
    Obzr,
    Project,
];

impl Subject {
    pub(super) fn id(self) -> i64 {
        self as i64 + 1
    }

    /// The subject of a `subjects` row id.
    pub(super) fn from_id(id: i64) -> Option<Subject> {
        SUBJECTS.get(usize::try_from(id - 1).ok()?).copied()
    }

    /// The name after «по» (dative): «олимпиада по математике».
    pub(super) fn dative(self) -> &'static str {
        match self {
            Russian => "русскому языку",
            Reading => "литературному чтению",
            Literature => "литературе",
            English => "английскому языку",
            Maths => "математике",
            Algebra => "алгебре",
            Geometry => "геометрии",
            Probability => "вероятности и статистике",
            Informatics => "информатике",
            World => "окружающему миру",
            History => "истории",
            Social => "обществознанию",
            Geography => "географии",
            Biology => "биологии",
            Physics => "физике",
            Chemistry => "химии",
            Orkse => "основам религиозных культур и светской этики",
            Music => "музыке",
            Art => "изобразительному искусству",
            Crafts => "труду (технологии)",
            Pe => "физической культуре",
            Obzr => "основам безопасности и защиты Родины",
            Project => "индивидуальному проекту",
        }
    }

    /// Full name and the short name used in timetables.
    pub(super) fn names(self) -> (&'static str, &'static str) {
        match self {
            Russian => ("Русский язык", "Рус. яз."),
            Reading => ("Литературное чтение", "Лит. чтение"),
            Literature => ("Литература", "Лит-ра"),
            English => ("Английский язык", "Англ. яз."),
            Maths => ("Математика", "Матем."),
            Algebra => ("Алгебра", "Алгебра"),
            Geometry => ("Геометрия", "Геом."),
            Probability => ("Вероятность и статистика", "Вер. и стат."),
            Informatics => ("Информатика", "Информ."),
            World => ("Окружающий мир", "Окр. мир"),
            History => ("История", "История"),
            Social => ("Обществознание", "Общество"),
            Geography => ("География", "Геогр."),
            Biology => ("Биология", "Биол."),
            Physics => ("Физика", "Физика"),
            Chemistry => ("Химия", "Химия"),
            Orkse => ("Основы религиозных культур и светской этики", "ОРКСЭ"),
            Music => ("Музыка", "Музыка"),
            Art => ("Изобразительное искусство", "ИЗО"),
            Crafts => ("Труд (технология)", "Труд"),
            Pe => ("Физическая культура", "Физ-ра"),
            Obzr => ("Основы безопасности и защиты Родины", "ОБЗР"),
            Project => ("Индивидуальный проект", "Инд. проект"),
        }
    }

    /// Subjects a class is split into two groups for, each with its own teacher.
    pub(super) fn in_groups(self) -> bool {
        matches!(self, English | Informatics)
    }

    /// Who teaches this subject in `grade`.
    pub(super) fn specialty(self, grade: u8) -> Specialty {
        match self {
            Russian | Reading | Maths | World | Art | Crafts | Orkse if grade <= 4 => {
                Specialty::Primary
            }
            Russian | Literature => Specialty::RussianLiterature,
            Maths | Algebra | Geometry | Probability => Specialty::Maths,
            English => Specialty::English,
            Informatics => Specialty::Informatics,
            History | Social | Project | Orkse | World | Reading => Specialty::History,
            Geography => Specialty::Geography,
            Biology => Specialty::Biology,
            Physics => Specialty::Physics,
            Chemistry => Specialty::Chemistry,
            Music => Specialty::Music,
            Art | Crafts => Specialty::ArtCrafts,
            Pe | Obzr => Specialty::Pe,
        }
    }

    /// How homework is usually set in this subject (see `topics::homework`).
    pub(super) fn homework_style(self) -> HomeworkStyle {
        match self {
            Russian => HomeworkStyle::Russian,
            Reading | Literature => HomeworkStyle::Literature,
            Maths | Algebra | Geometry | Probability => HomeworkStyle::Maths,
            English => HomeworkStyle::English,
            Physics | Chemistry => HomeworkStyle::Science,
            World | History | Social | Geography | Biology | Obzr | Orkse | Informatics => {
                HomeworkStyle::Textbook
            }
            Music | Art | Crafts => HomeworkStyle::Creative,
            Project => HomeworkStyle::Project,
            Pe => HomeworkStyle::None,
        }
    }

    /// Kinds of work a "control" lesson of this subject may be, most usual first.
    pub(super) fn control_work(self) -> &'static [WorkType] {
        use WorkType::*;
        match self {
            Russian => &[Dictation, Control, Independent],
            Maths | Algebra | Geometry => &[Control, Independent, Check],
            Probability => &[Independent, Control],
            Physics | Chemistry | Biology => &[Lab, Control, Independent],
            Informatics => &[Practical, Control],
            Geography => &[Practical, Check],
            English => &[Control, Check],
            Reading | Literature | History | Social | World => &[Check, Control],
            Music | Art | Crafts => &[Practical],
            Pe => &[Practical, Credit],
            Obzr | Orkse | Project => &[Credit, Check],
        }
    }

    /// Kinds of work an ordinary lesson's marks are for.
    pub(super) fn everyday_work(self) -> &'static [WorkType] {
        use WorkType::*;
        match self {
            Pe | Music | Art | Crafts => &[Classwork],
            _ => &[Classwork, Oral, Homework],
        }
    }
}

/// A teacher's specialty: the subjects one teacher takes for a class. A primary class
/// teacher teaches their own class almost everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Specialty {
    Primary,
    RussianLiterature,
    Maths,
    English,
    Informatics,
    History,
    Geography,
    Biology,
    Physics,
    Chemistry,
    Music,
    ArtCrafts,
    Pe,
}

impl Specialty {
    /// The neighbouring specialty whose teachers take this one's lessons when there are
    /// too few of them for a teacher of their own (a small school's chemistry is taught
    /// by the biology teacher, its informatics by the physics teacher).
    pub(super) fn partner(self) -> Option<Specialty> {
        match self {
            Specialty::Chemistry | Specialty::Geography => Some(Specialty::Biology),
            Specialty::Informatics => Some(Specialty::Physics),
            Specialty::Physics => Some(Specialty::Maths),
            Specialty::ArtCrafts => Some(Specialty::Music),
            _ => None,
        }
    }

    /// The share of women among teachers of this specialty (Russian schools are mostly
    /// staffed by women; PE and ОБЗР less so).
    pub(super) fn female_share(self) -> f64 {
        match self {
            Specialty::Pe => 0.45,
            Specialty::Physics | Specialty::Informatics => 0.6,
            Specialty::ArtCrafts => 0.7,
            _ => 0.88,
        }
    }
}

/// Weekly hours of each subject in a grade. A five-day week; the totals stay under the
/// legal maximum (21 in grade 1, 23 in 2–4, 29–34 in 5–11).
pub(super) fn weekly_plan(grade: u8) -> &'static [(Subject, u8)] {
    match grade {
        1 => &[
            (Russian, 5),
            (Reading, 4),
            (Maths, 4),
            (World, 2),
            (Music, 1),
            (Art, 1),
            (Crafts, 1),
            (Pe, 3),
        ],
        2 | 3 => &[
            (Russian, 5),
            (Reading, 4),
            (English, 2),
            (Maths, 4),
            (World, 2),
            (Music, 1),
            (Art, 1),
            (Crafts, 1),
            (Pe, 2),
        ],
        4 => &[
            (Russian, 5),
            (Reading, 3),
            (English, 2),
            (Maths, 4),
            (World, 2),
            (Orkse, 1),
            (Music, 1),
            (Art, 1),
            (Crafts, 1),
            (Pe, 2),
        ],
        5 => &[
            (Russian, 5),
            (Literature, 3),
            (English, 3),
            (Maths, 5),
            (History, 2),
            (Geography, 1),
            (Biology, 1),
            (Music, 1),
            (Art, 1),
            (Crafts, 2),
            (Pe, 2),
        ],
        6 => &[
            (Russian, 6),
            (Literature, 3),
            (English, 3),
            (Maths, 5),
            (History, 2),
            (Social, 1),
            (Geography, 1),
            (Biology, 1),
            (Music, 1),
            (Art, 1),
            (Crafts, 2),
            (Pe, 2),
        ],
        7 => &[
            (Russian, 4),
            (Literature, 2),
            (English, 3),
            (Algebra, 3),
            (Geometry, 2),
            (Probability, 1),
            (Informatics, 1),
            (History, 2),
            (Social, 1),
            (Geography, 2),
            (Biology, 1),
            (Physics, 2),
            (Music, 1),
            (Art, 1),
            (Crafts, 2),
            (Pe, 2),
        ],
        8 => &[
            (Russian, 3),
            (Literature, 2),
            (English, 3),
            (Algebra, 3),
            (Geometry, 2),
            (Probability, 1),
            (Informatics, 1),
            (History, 2),
            (Social, 1),
            (Geography, 2),
            (Biology, 2),
            (Physics, 2),
            (Chemistry, 2),
            (Music, 1),
            (Crafts, 1),
            (Obzr, 1),
            (Pe, 2),
        ],
        9 => &[
            (Russian, 3),
            (Literature, 3),
            (English, 3),
            (Algebra, 3),
            (Geometry, 2),
            (Probability, 1),
            (Informatics, 1),
            (History, 2),
            (Social, 1),
            (Geography, 2),
            (Biology, 2),
            (Physics, 3),
            (Chemistry, 2),
            (Crafts, 1),
            (Obzr, 1),
            (Pe, 2),
        ],
        10 => &[
            (Russian, 2),
            (Literature, 3),
            (English, 3),
            (Algebra, 4),
            (Geometry, 2),
            (Probability, 1),
            (Informatics, 1),
            (History, 2),
            (Social, 2),
            (Geography, 1),
            (Biology, 1),
            (Physics, 2),
            (Chemistry, 1),
            (Obzr, 1),
            (Pe, 2),
            (Project, 1),
        ],
        _ => &[
            (Russian, 2),
            (Literature, 3),
            (English, 3),
            (Algebra, 4),
            (Geometry, 2),
            (Probability, 1),
            (Informatics, 1),
            (History, 2),
            (Social, 2),
            (Geography, 1),
            (Biology, 1),
            (Physics, 2),
            (Chemistry, 1),
            (Obzr, 1),
            (Pe, 2),
        ],
    }
}

/// Most lessons a class of `grade` may have in one day.
pub(super) fn max_lessons_per_day(grade: u8) -> u8 {
    match grade {
        1..=4 => 5,
        5 | 6 => 6,
        _ => 7,
    }
}

/// How a homework line is usually worded in a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HomeworkStyle {
    Russian,
    Literature,
    Maths,
    English,
    Science,
    Textbook,
    Creative,
    Project,
    None,
}

impl HomeworkStyle {
    /// The minutes homework of this kind usually takes a pupil of grades 7–8.
    pub(super) fn minutes(self) -> f64 {
        match self {
            HomeworkStyle::Russian | HomeworkStyle::Maths => 25.0,
            HomeworkStyle::Literature | HomeworkStyle::Project => 25.0,
            HomeworkStyle::English | HomeworkStyle::Science => 20.0,
            HomeworkStyle::Textbook => 15.0,
            HomeworkStyle::Creative => 15.0,
            HomeworkStyle::None => 0.0,
        }
    }
}

/// A kind of graded work (`work_types`); id = position in [`WORK_TYPES`] + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WorkType {
    Classwork,
    Oral,
    Homework,
    Independent,
    Check,
    Practical,
    Lab,
    Dictation,
    Control,
    Credit,
}

pub(super) const WORK_TYPES: [(WorkType, &str, f64); 10] = [
    (WorkType::Classwork, "Работа на уроке", 1.0),
    (WorkType::Oral, "Устный ответ", 1.0),
    (WorkType::Homework, "Домашняя работа", 1.0),
    (WorkType::Independent, "Самостоятельная работа", 1.5),
    (WorkType::Check, "Проверочная работа", 1.5),
    (WorkType::Practical, "Практическая работа", 1.5),
    (WorkType::Lab, "Лабораторная работа", 1.5),
    (WorkType::Dictation, "Диктант", 2.0),
    (WorkType::Control, "Контрольная работа", 2.0),
    (WorkType::Credit, "Зачёт", 1.0),
];

impl WorkType {
    pub(super) fn id(self) -> i64 {
        self as i64 + 1
    }

    pub(super) fn weight(self) -> f64 {
        WORK_TYPES[self as usize].2
    }

    /// Written work the teacher takes home to check: its marks are entered days later.
    pub(super) fn written(self) -> bool {
        matches!(
            self,
            WorkType::Independent
                | WorkType::Check
                | WorkType::Lab
                | WorkType::Dictation
                | WorkType::Control
        )
    }

    /// How the topic of a lesson of this kind reads, around the topic stem.
    pub(super) fn topic(self, stem: &str) -> String {
        match self {
            WorkType::Dictation => format!("Контрольный диктант по теме {}", quoted(stem)),
            WorkType::Control => format!("Контрольная работа по теме {}", quoted(stem)),
            WorkType::Independent => format!("{stem}. Самостоятельная работа"),
            WorkType::Check => format!("{stem}. Проверочная работа"),
            WorkType::Practical => format!("{stem}. Практическая работа"),
            WorkType::Lab => format!("Лабораторная работа по теме {}", quoted(stem)),
            WorkType::Credit => format!("{stem}. Зачёт"),
            WorkType::Classwork | WorkType::Oral | WorkType::Homework => stem.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_hours_fit_the_day_limits() {
        for grade in 1..=11u8 {
            let total: u32 = weekly_plan(grade).iter().map(|&(_, h)| h as u32).sum();
            assert!(
                total <= 5 * max_lessons_per_day(grade) as u32,
                "grade {grade}"
            );
            assert!(total >= 20, "grade {grade}");
        }
    }

    #[test]
    fn work_type_ids_follow_the_table() {
        for (i, (w, _, _)) in WORK_TYPES.iter().enumerate() {
            assert_eq!(w.id(), i as i64 + 1);
        }
        for (i, s) in SUBJECTS.iter().enumerate() {
            assert_eq!(s.id(), i as i64 + 1);
        }
    }
}
