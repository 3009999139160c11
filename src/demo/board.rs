//! The demo school's notice board: announcements (to the school, a grade, a class) and
//! the calendar of events (each class's monthly plan, and the school's own days).

use anyhow::Result;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rusqlite::{Connection, params};

use super::calendar::{self, BELLS, YEAR_END, YEAR_START};

/// What the board needs to know of a class.
pub(super) struct BoardClass {
    pub id: i64,
    pub grade: u8,
    pub name: String,
    /// The class teacher, "Иванова М. П.".
    pub teacher: String,
    pub room: String,
}

/// Announcements to the whole school: published, expires, pinned, title, body.
#[rustfmt::skip]
const SCHOOL_NEWS: &[SchoolNews] = &[
    ("2026-08-28 10:00", Some("2026-09-02 00:00"), false,
     "Торжественная линейка 1 сентября",
     "Дорогие ребята и уважаемые родители!\n\nТоржественная линейка, посвящённая Дню знаний, \
      состоится **1 сентября в 9:00** на школьном дворе.\n\n\
      - 1–4 классы: сбор у главного входа в 8:40;\n\
      - 5–11 классы: сбор у спортивной площадки в 8:45.\n\n\
      После линейки — классные часы в кабинетах."),
    ("2026-09-02 09:00", None, true,
     "Электронный дневник: как пользоваться сайтом",
     "На этом сайте публикуются расписание, домашние задания, оценки и объявления школы.\n\n\
      - **оценки и посещаемость** открываются по коду доступа, который выдаёт классный \
      руководитель;\n\
      - домашнее задание появляется в день урока;\n\
      - заметили ошибку — напишите на [office@school39.example](mailto:office@school39.example)."),
    ("2026-09-07 08:00", Some("2026-09-30 00:00"), false,
     "Горячее питание",
     "Меню на неделю — на странице [школьного питания](https://school39.example/food/).\n\n\
      - завтрак для 1–4 классов бесплатный;\n\
      - обед для 5–11 классов — по заявлению родителей."),
    ("2026-09-21 10:00", Some("2026-10-10 00:00"), false,
     "Вакцинация против гриппа",
     "С **5 по 9 октября** в медицинском кабинете проводится вакцинация против гриппа.\n\n\
      Нужно письменное согласие родителей: бланк — у классного руководителя."),
    ("2026-10-01 09:00", Some("2026-10-06 00:00"), false,
     "День учителя и День самоуправления",
     "**5 октября** — День учителя. В этот день уроки в 5–8 классах ведут старшеклассники, \
      а в 12:30 в актовом зале — праздничный концерт."),
    ("2026-10-19 12:00", Some("2026-11-05 00:00"), false,
     "Осенние каникулы",
     "Осенние каникулы — с **26 октября по 4 ноября**. Занятия начинаются **5 ноября** \
      по обычному расписанию."),
    ("2026-11-16 15:00", None, false,
     "Итоги школьного этапа олимпиад",
     "Поздравляем победителей и призёров школьного этапа всероссийской олимпиады \
      школьников!\n\n- математика — 14 победителей и призёров;\n- русский язык — 11;\n\
      - биология — 9.\n\nРасписание муниципального этапа — на сайте \
      [олимпиады](https://vserosolimp.edu.ru/)."),
    ("2026-11-23 10:00", Some("2026-11-28 00:00"), false,
     "Родительский всеобуч: безопасность в интернете",
     "**27 ноября в 18:30** в актовом зале — встреча для родителей о безопасности детей \
      в интернете. Выступают школьный психолог и учитель информатики."),
    ("2026-12-18 12:00", Some("2027-01-11 00:00"), true,
     "Зимние каникулы и новогодние праздники",
     "Зимние каникулы — с **28 декабря по 10 января**.\n\n\
      - 24 декабря — новогодние утренники для 1–4 классов;\n\
      - 25 декабря — новогодний концерт для 5–11 классов.\n\nС наступающим Новым годом!"),
    ("2027-02-01 09:00", Some("2027-02-27 00:00"), false,
     "Медицинский осмотр",
     "В феврале проходит плановый медицинский осмотр. График по классам — \
      у классных руководителей. Форма одежды — спортивная."),
    ("2027-03-15 12:00", Some("2027-03-29 00:00"), false,
     "Весенние каникулы",
     "Весенние каникулы — с **22 по 28 марта**. Четвёртая четверть начинается 29 марта."),
    ("2027-03-25 10:00", Some("2027-07-01 00:00"), true,
     "Запись в первый класс на 2027/2028 учебный год",
     "Приём заявлений начинается **1 апреля**:\n\n\
      - через портал [Госуслуги](https://www.gosuslugi.ru/);\n\
      - лично в приёмной школы по будням с 9:00 до 16:00.\n\n\
      С собой — паспорт родителя и свидетельство о рождении ребёнка."),
    ("2027-04-26 12:00", Some("2027-05-11 00:00"), false,
     "Праздничные дни в мае",
     "**3 и 10 мая** — выходные дни. Занятия — 4 и 11 мая по расписанию понедельника."),
    ("2027-05-18 10:00", Some("2027-05-26 00:00"), false,
     "Последний звонок",
     "Праздник последнего звонка — **25 мая в 11:00** в актовом зале. \
      Приглашаем родителей выпускников!"),
];

/// Announcements to one grade (only when the school has that grade).
#[rustfmt::skip]
const GRADE_NEWS: &[(u8, &str, Option<&str>, &str, &str)] = &[
    (5, "2026-09-10 12:00", Some("2026-10-01 00:00"),
     "Пятиклассникам: новые предметы и кабинеты",
     "В пятом классе у ребят появляются учителя-предметники и новые кабинеты. \
      Школьный психолог проводит занятия по адаптации по **средам**."),
    (8, "2026-10-12 12:00", None,
     "Профориентация: экскурсия в технопарк",
     "Восьмые классы приглашены в технопарк **23 октября**. Сбор у школы в 9:00, \
      с собой — сменная обувь."),
    (9, "2026-11-10 12:00", Some("2027-03-02 00:00"),
     "Выбор экзаменов ОГЭ",
     "Заявления на ОГЭ принимаются до **1 марта**. Обязательны русский язык и математика \
      и ещё два предмета по выбору. Демоверсии — на сайте [ФИПИ](https://fipi.ru/)."),
    (11, "2026-11-20 12:00", Some("2026-12-03 00:00"),
     "Итоговое сочинение",
     "Итоговое сочинение — **2 декабря в 10:00**. С собой — паспорт и чёрная гелевая ручка."),
    (11, "2026-12-10 12:00", Some("2027-02-02 00:00"),
     "Заявления на ЕГЭ",
     "Заявления на ЕГЭ принимаются до **1 февраля** в приёмной школы."),
    (9, "2027-01-20 12:00", Some("2027-02-11 00:00"),
     "Итоговое собеседование по русскому языку",
     "Итоговое собеседование — **10 февраля**; это допуск к ОГЭ. \
      Расписание по классам — у классных руководителей."),
    (1, "2027-02-05 12:00", Some("2027-02-22 00:00"),
     "Дополнительные каникулы первоклассников",
     "У первоклассников дополнительные каникулы с **15 по 21 февраля**. \
      Занятия начинаются 22 февраля."),
    (4, "2027-03-01 12:00", None,
     "Всероссийские проверочные работы",
     "В апреле четвёртые классы пишут ВПР:\n\n- русский язык;\n- математика;\n\
      - окружающий мир.\n\nРаботы проходят на 2–3 уроках в своём кабинете."),
    (10, "2027-04-20 12:00", None,
     "Учебные сборы",
     "Учебные сборы для юношей десятых классов пройдут в мае. Подробности — у \
      преподавателя ОБЗР."),
];

/// How many classes get an announcement of their own.
const CLASS_NEWS: usize = 10;

/// When a class outing can take place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum When {
    AfterLessons,
    Saturday,
    Either,
}

/// Class events of any month: title, place ("{room}": the class's room), when,
/// description.
#[rustfmt::skip]
const CLASS_EVENTS: &[(&str, &str, When, &str)] = &[
    ("Экскурсия в краеведческий музей", "Краеведческий музей", When::Either, "Сбор у школы за 20 минут до начала."),
    ("Поход в театр юного зрителя", "Театр юного зрителя", When::Either, "Билеты — у классного руководителя."),
    ("Посещение планетария", "Планетарий", When::Either, "Сбор у школы за полчаса до начала."),
    ("Кинопросмотр и обсуждение", "Кабинет {room}", When::AfterLessons, "Смотрим и обсуждаем фильм всем классом."),
    ("Поход выходного дня", "Загородный парк", When::Saturday, "Удобная обувь, вода, перекус."),
    ("Экскурсия в библиотеку", "Городская библиотека", When::Either, "Знакомство с читальным залом."),
    ("Игра «Что? Где? Когда?»", "Кабинет {room}", When::AfterLessons, "Команды по 6 человек."),
];

/// Themes of the monthly class hour, September to May.
const CLASS_HOURS: [&str; 9] = [
    "Правила безопасного поведения",
    "Мы — команда",
    "День народного единства",
    "Наши зимние традиции",
    "Дружба и взаимопомощь",
    "Защитники Отечества",
    "Профессии наших родителей",
    "Космос и мы",
    "Память о Победе",
];

/// The school's own days: start, end, title, place, description.
#[rustfmt::skip]
const SCHOOL_EVENTS: &[(&str, Option<&str>, &str, &str, &str)] = &[
    ("2026-09-01 09:00", Some("2026-09-01 10:00"), "Торжественная линейка, посвящённая Дню знаний", "Школьный двор", "Для всех классов; родители приглашаются."),
    ("2026-09-25 10:00", Some("2026-09-25 13:00"), "Школьный кросс", "Стадион", "Забеги по параллелям."),
    ("2026-10-05 12:30", Some("2026-10-05 13:30"), "Концерт ко Дню учителя", "Актовый зал", "Готовят старшеклассники."),
    ("2026-10-23 17:00", Some("2026-10-23 20:00"), "Осенний бал", "Актовый зал", "Для 8–11 классов."),
    ("2026-11-27 17:00", Some("2026-11-27 18:30"), "Концерт ко Дню матери", "Актовый зал", "Приглашаем мам и бабушек."),
    ("2026-12-24 10:00", Some("2026-12-24 12:00"), "Новогодние утренники", "Актовый зал", "Для 1–4 классов по графику."),
    ("2026-12-25 17:00", Some("2026-12-25 20:00"), "Новогодний концерт", "Актовый зал", "Для 5–11 классов."),
    ("2027-01-27 12:30", None, "Урок памяти: снятие блокады Ленинграда", "Библиотека", "Выставка книг и документов."),
    ("2027-02-12 14:30", Some("2027-02-12 16:00"), "Смотр строя и песни", "Спортзал", "Для 5–8 классов."),
    ("2027-03-05 17:00", Some("2027-03-05 18:30"), "Концерт к 8 Марта", "Актовый зал", ""),
    ("2027-03-12 13:00", Some("2027-03-12 15:00"), "Масленица на школьном дворе", "Школьный двор", "Игры, блины, чучело."),
    ("2027-03-18 14:30", Some("2027-03-18 17:00"), "Научно-практическая конференция школьников", "Актовый зал", "Защита проектов 9–11 классов."),
    ("2027-04-10 10:00", Some("2027-04-10 13:00"), "День открытых дверей", "Главный вход", "Для будущих первоклассников и их родителей."),
    ("2027-04-12 09:25", None, "Гагаринский урок", "Кабинеты классов", "Ко Дню космонавтики."),
    ("2027-04-24 10:00", Some("2027-04-24 12:00"), "Общешкольный субботник", "Школьный двор", "Перчатки и мешки выдаются."),
    ("2027-05-07 11:00", Some("2027-05-07 12:30"), "Концерт ко Дню Победы", "Актовый зал", "Приглашаем ветеранов и родителей."),
    ("2027-05-14 10:00", Some("2027-05-14 13:00"), "Спортивный праздник «Весёлые старты»", "Стадион", "Для 1–4 классов."),
    ("2027-05-25 11:00", Some("2027-05-25 12:30"), "Последний звонок", "Актовый зал", "Праздник выпускников 9 и 11 классов."),
    ("2027-06-26 18:00", Some("2027-06-26 23:00"), "Выпускной вечер", "Актовый зал", "Для выпускников 11 классов и их родителей."),
];

/// One row of `announcements`.
struct Notice {
    audience: &'static str,
    grade: Option<u8>,
    class_id: Option<i64>,
    title: String,
    body: String,
    published: String,
    expires: Option<String>,
    pinned: bool,
    author: String,
}

impl Notice {
    fn new(
        audience: &'static str,
        title: impl Into<String>,
        body: impl Into<String>,
        published: impl Into<String>,
        author: impl Into<String>,
    ) -> Notice {
        Notice {
            audience,
            grade: None,
            class_id: None,
            title: title.into(),
            body: body.into(),
            published: published.into(),
            expires: None,
            pinned: false,
            author: author.into(),
        }
    }
}

const ADMINISTRATION: &str = "Администрация";

/// An announcement to the school: published, expires, pinned, title, body.
type SchoolNews = (
    &'static str,
    Option<&'static str>,
    bool,
    &'static str,
    &'static str,
);

/// Writes announcements and events; returns how many of each.
pub(super) fn write(
    conn: &Connection,
    classes: &[BoardClass],
    rng: &mut impl Rng,
) -> Result<(usize, usize)> {
    // Each class's events first: its announcements name the dates of its meetings.
    let plans: Vec<Vec<ClassEvent>> = classes.iter().map(|c| class_month_plans(c, rng)).collect();

    let mut notices = vec![Notice {
        pinned: true,
        ..Notice::new(
            "school",
            BELLS_TITLE,
            bells_markdown(),
            "2026-08-31 12:00",
            ADMINISTRATION,
        )
    }];
    for &(published, expires, pinned, title, body) in SCHOOL_NEWS {
        notices.push(Notice {
            expires: expires.map(str::to_string),
            pinned,
            ..Notice::new("school", title, body, published, ADMINISTRATION)
        });
    }
    for &(grade, published, expires, title, body) in GRADE_NEWS {
        if classes.iter().any(|c| c.grade == grade) {
            let author = "Заместитель директора по учебной работе";
            notices.push(Notice {
                grade: Some(grade),
                expires: expires.map(str::to_string),
                ..Notice::new("grade", title, body, published, author)
            });
        }
    }
    // A handful of classes, spread over the school, with news from their class teacher.
    let count = CLASS_NEWS.min(classes.len());
    for i in 0..count {
        let c = i * classes.len() / count;
        notices.push(class_news(i, &classes[c], &plans[c], rng));
    }

    let mut announce = conn.prepare_cached(
        "INSERT INTO announcements (id, audience, grade, class_id, title, body_md, published_at, \
         expires_at, pinned, author) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (i, n) in notices.iter().enumerate() {
        announce.execute(params![
            i as i64 + 1,
            n.audience,
            n.grade,
            n.class_id,
            n.title,
            n.body,
            n.published,
            n.expires,
            n.pinned,
            n.author
        ])?;
    }

    let mut event = conn.prepare_cached(
        "INSERT INTO events (id, class_id, title, starts_at, ends_at, place, description) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut events = 0i64;
    for &(starts, ends, title, place, description) in SCHOOL_EVENTS {
        events += 1;
        let description = (!description.is_empty()).then_some(description);
        event.execute(params![
            events,
            None::<i64>,
            title,
            starts,
            ends,
            place,
            description
        ])?;
    }
    for (class, plan) in classes.iter().zip(plans) {
        for e in plan {
            events += 1;
            event.execute(params![
                events,
                class.id,
                e.title,
                stamp(e.starts),
                e.ends.map(stamp),
                e.place,
                e.description
            ])?;
        }
    }
    Ok((notices.len(), events as usize))
}

/// The title of the school's pinned announcement of the bell schedule.
pub(super) const BELLS_TITLE: &str = "Расписание звонков";

fn bells_markdown() -> String {
    format!(
        "Уроки начинаются в **8:30**, перемены — 10–20 минут.\n\n{}",
        bell_list(&BELLS)
    )
}

/// A bell schedule as a numbered Markdown list, one lesson a line.
pub(super) fn bell_list(bells: &[(&str, &str)]) -> String {
    bells
        .iter()
        .enumerate()
        .map(|(i, (from, to))| format!("{}. {from}–{to}\n", i + 1))
        .collect()
}

/// The `i`-th class announcement, from the class teacher.
fn class_news(i: usize, class: &BoardClass, plan: &[ClassEvent], rng: &mut impl Rng) -> Notice {
    let name = &class.name;
    let room = &class.room;
    let hour = rng.random_range(9..=16);
    let notice = |title: String, body: String, published: String, expires: Option<&str>| Notice {
        class_id: Some(class.id),
        expires: expires.map(str::to_string),
        ..Notice::new(
            "class",
            title,
            body,
            published,
            format!("Классный руководитель {}", class.teacher),
        )
    };
    // A parent meeting of the class's calendar: announced a week ahead, gone the day after.
    let meeting = |month: u32, title: String, agenda: &str| {
        let at = plan
            .iter()
            .find(|e| e.title == MEETING && e.starts.month() == month)
            .map(|e| e.starts)
            .unwrap_or_default();
        let published = at - Duration::days(7) + Duration::hours(hour - 18);
        let gone = at.date().and_time(NaiveTime::MIN) + Duration::days(1);
        notice(
            title,
            format!(
                "Уважаемые родители!\n\nСобрание состоится **{}**, кабинет {room}.\n\n{agenda}",
                spoken(at)
            ),
            stamp(published),
            Some(&stamp(gone)),
        )
    };
    match i % 5 {
        0 => meeting(
            9,
            format!("Родительское собрание {name}"),
            "1. Итоги адаптации и планы на год;\n2. Питание и форма;\n\
             3. Выборы родительского комитета.",
        ),
        1 => notice(
            format!("Фотосъёмка класса {name}"),
            "Фотограф придёт **в четверг, 15 октября**, на второй перемене. Форма — парадная."
                .to_string(),
            format!("2026-10-08 {hour:02}:00"),
            Some("2026-10-16 00:00"),
        ),
        2 => notice(
            format!("Итоги первого полугодия {name}"),
            format!(
                "Спасибо ребятам за полугодие! Отдельно отмечаю **отличников** и всех, кто \
                 участвовал в олимпиадах. Оценки за вторую четверть — в разделе «Успеваемость». \
                 Вопросы — в кабинете {room} после уроков."
            ),
            format!("2026-12-28 {hour:02}:00"),
            None,
        ),
        3 => notice(
            format!("Экскурсия {name}"),
            "Класс едет на экскурсию в **краеведческий музей**. Сбор у школы в 9:30; \
             нужны сменная обувь и согласие родителей."
                .to_string(),
            format!("2027-02-08 {hour:02}:00"),
            Some("2027-02-20 00:00"),
        ),
        _ => meeting(
            5,
            format!("Родительское собрание {name}: итоги года"),
            "- итоги года;\n- летний отдых и [летние программы](https://school39.example/summer/);\n\
             - подготовка к следующему учебному году.",
        ),
    }
}

/// "3 сентября в 18:00".
fn spoken(t: NaiveDateTime) -> String {
    const MONTHS: [&str; 12] = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    format!(
        "{} {} в {}",
        t.day(),
        MONTHS[t.month0() as usize],
        t.format("%H:%M")
    )
}

const MEETING: &str = "Родительское собрание";

struct ClassEvent {
    title: String,
    starts: NaiveDateTime,
    ends: Option<NaiveDateTime>,
    place: String,
    description: Option<&'static str>,
}

/// The format of the journal's datetimes, `YYYY-MM-DD HH:MM`.
pub(super) const STAMP: &str = "%Y-%m-%d %H:%M";

pub(super) fn stamp(t: NaiveDateTime) -> String {
    t.format(STAMP).to_string()
}

/// A class teacher's plan for the year: each month a class hour, a parent meeting once
/// a quarter, and one or two outings or class events.
fn class_month_plans(class: &BoardClass, rng: &mut impl Rng) -> Vec<ClassEvent> {
    let start = calendar::date(YEAR_START);
    let end = calendar::date(YEAR_END);
    let mut plan = Vec::new();
    for (m, theme) in CLASS_HOURS.iter().enumerate() {
        let (year, month) = if m < 4 {
            (2026, 9 + m as u32)
        } else {
            (2027, m as u32 - 3)
        };
        let days: Vec<NaiveDate> = (1..=31)
            .filter_map(|d| NaiveDate::from_ymd_opt(year, month, d))
            .filter(|d| start <= *d && *d <= end)
            .collect();
        let school_days: Vec<NaiveDate> = days
            .iter()
            .copied()
            .filter(|d| {
                d.weekday().num_days_from_monday() < 5 && !calendar::is_holiday(*d, class.grade)
            })
            .collect();
        let saturdays: Vec<NaiveDate> = days
            .iter()
            .copied()
            .filter(|d| d.weekday().num_days_from_monday() == 5)
            .collect();
        let at = |day: Option<&NaiveDate>, h: u32, min: u32| {
            day.map(|d| d.and_time(NaiveTime::from_hms_opt(h, min, 0).unwrap_or_default()))
        };
        let room = format!("Кабинет {}", class.room);
        let month_start = plan.len();

        if let Some(starts) = at(school_days.choose(rng), 14, 20) {
            plan.push(ClassEvent {
                title: format!("Классный час: {theme}"),
                starts,
                ends: Some(starts + Duration::minutes(45)),
                place: room.clone(),
                description: None,
            });
        }
        // Parent meetings in September, December, March and May.
        if [0, 3, 6, 8].contains(&m)
            && let Some(starts) = at(school_days.choose(rng), 18, 0)
        {
            plan.push(ClassEvent {
                title: MEETING.to_string(),
                starts,
                ends: Some(starts + Duration::minutes(60)),
                place: room.clone(),
                description: Some("Явка обязательна."),
            });
        }
        // Seasonal events, then a random outing or two.
        let seasonal: Option<(&str, &'static str)> = match m {
            1 | 7 => Some(("Субботник", "Уборка школьной территории.")),
            2 => Some((
                "Чаепитие ко Дню матери",
                "Ребята готовят поздравления для мам.",
            )),
            3 => Some(("Новогодний огонёк", "Конкурсы и праздничное чаепитие.")),
            5 => Some((
                "Встреча с выпускниками",
                "Выпускники рассказывают об учёбе и работе.",
            )),
            _ => None,
        };
        if let Some((title, description)) = seasonal
            && let Some(starts) = at(school_days.choose(rng), 15, 0)
        {
            plan.push(ClassEvent {
                title: title.to_string(),
                starts,
                ends: Some(starts + Duration::minutes(90)),
                place: if title == "Субботник" {
                    "Школьный двор".to_string()
                } else {
                    room.clone()
                },
                description: Some(description),
            });
        }
        let mut outings: Vec<_> = CLASS_EVENTS.iter().collect();
        outings.shuffle(rng);
        let more = rng.random_range(1..=2).min(4 - (plan.len() - month_start));
        for &&(title, place, when, description) in outings.iter().take(more) {
            let on_saturday = match when {
                When::AfterLessons => false,
                When::Saturday => true,
                When::Either => rng.random_bool(0.4),
            };
            let starts = if on_saturday {
                at(saturdays.choose(rng), 11, 0)
            } else {
                at(school_days.choose(rng), 15, 30)
            };
            let Some(starts) = starts else { continue };
            plan.push(ClassEvent {
                title: title.to_string(),
                starts,
                ends: rng
                    .random_bool(0.8)
                    .then(|| starts + Duration::minutes(120)),
                place: place.replace("Кабинет {room}", &room),
                description: Some(description),
            });
        }
    }
    plan.sort_by_key(|e| e.starts);
    plan
}
