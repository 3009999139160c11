//! Russian names for the demo school: lists, and the grammar that makes a surname or a
//! patronymic fit a person's gender (Иванов → Иванова, Сергей → Сергеевич / Сергеевна).
//!
//! Surnames are stored in their masculine form only; the feminine form is derived, so the
//! two can never disagree.

use rand::Rng;
use rand::seq::IndexedRandom;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gender {
    Male,
    Female,
}

impl Gender {
    pub(super) fn random(rng: &mut impl Rng) -> Gender {
        if rng.random_bool(0.5) {
            Gender::Male
        } else {
            Gender::Female
        }
    }
}

/// Masculine surnames. Most are common -ов/-ев/-ин names; the rest show the other
/// declension patterns (-ский, -ой, and the invariable -ко, -ук, -ых, -им).
#[rustfmt::skip]
pub(super) const SURNAMES: &[&str] = &[
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов",
    "Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв",
    "Гусев", "Киселёв", "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв",
    "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров",
    "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов",
    "Марков", "Миронов", "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов",
    "Тихонов", "Калинин", "Щербаков", "Галкин", "Сафин", "Ахметов", "Каримов", "Абдуллин",
    "Соколовский", "Высоцкий", "Покровский", "Толстой", "Луговой", "Ковальчук", "Шевченко",
    "Бондаренко", "Ткаченко", "Мельник", "Белых", "Черных", "Ким",
];

/// Boys' names of today's pupils.
#[rustfmt::skip]
pub(super) const BOYS: &[&str] = &[
    "Александр", "Артём", "Михаил", "Максим", "Иван", "Даниил", "Дмитрий", "Кирилл",
    "Андрей", "Егор", "Никита", "Илья", "Алексей", "Матвей", "Тимофей", "Роман", "Владимир",
    "Ярослав", "Фёдор", "Георгий", "Константин", "Лев", "Марк", "Арсений", "Степан",
    "Платон", "Захар", "Тимур", "Богдан", "Глеб", "Макар", "Савелий", "Мирон", "Елисей",
    "Семён", "Николай", "Павел", "Сергей", "Григорий", "Святослав", "Вадим", "Денис",
    "Евгений", "Леонид", "Всеволод", "Демид", "Артур", "Руслан",
];

/// Girls' names of today's pupils.
#[rustfmt::skip]
pub(super) const GIRLS: &[&str] = &[
    "София", "Анна", "Мария", "Алиса", "Виктория", "Полина", "Анастасия", "Елизавета",
    "Дарья", "Варвара", "Ксения", "Александра", "Вероника", "Арина", "Екатерина",
    "Василиса", "Милана", "Ульяна", "Ева", "Маргарита", "Валерия", "Кира", "Таисия",
    "Алёна", "Есения", "Мирослава", "Евгения", "Ольга", "Юлия", "Злата", "Алина", "Диана",
    "Кристина", "Елена", "Татьяна", "Ангелина", "Вера", "Яна", "Агата", "Стефания",
    "Надежда", "Олеся", "Софья", "Марьям", "Амелия", "Лилия",
];

/// Men's names of the parents' and teachers' generation; also the fathers' names that
/// pupils' patronymics are made from.
#[rustfmt::skip]
pub(super) const MEN: &[&str] = &[
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий",
    "Василий", "Виктор", "Виталий", "Владимир", "Владислав", "Вячеслав", "Геннадий", "Глеб",
    "Григорий", "Денис", "Дмитрий", "Евгений", "Егор", "Иван", "Игорь", "Илья", "Кирилл",
    "Константин", "Леонид", "Максим", "Михаил", "Никита", "Николай", "Олег", "Павел",
    "Пётр", "Роман", "Руслан", "Сергей", "Станислав", "Степан", "Тимур", "Фёдор", "Юрий",
    "Ярослав", "Эдуард", "Аркадий", "Лев", "Матвей", "Ринат",
];

/// Women's names of the parents' and teachers' generation.
#[rustfmt::skip]
pub(super) const WOMEN: &[&str] = &[
    "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Анна", "Юлия",
    "Екатерина", "Марина", "Мария", "Людмила", "Галина", "Оксана", "Надежда", "Валентина",
    "Анастасия", "Евгения", "Алёна", "Вера", "Любовь", "Лариса", "Жанна", "Инна",
    "Виктория", "Ксения", "Дарья", "Полина", "Нина", "Тамара", "Алла", "Маргарита", "Яна",
    "Кристина", "Александра", "Олеся", "Диана", "Вероника", "Элина", "Гульнара", "Регина",
    "Эльвира", "Софья", "Лилия",
];

/// Women's names of the grandparents' generation.
#[rustfmt::skip]
pub(super) const GRANDMOTHERS: &[&str] = &[
    "Галина", "Людмила", "Валентина", "Нина", "Тамара", "Татьяна", "Надежда", "Любовь",
    "Лариса", "Ольга", "Елена", "Наталья", "Ирина", "Светлана", "Вера", "Лидия", "Зинаида",
    "Раиса", "Антонина", "Алла",
];

/// Names of the grandfathers' generation: the source of adults' patronymics. Includes the
/// names whose patronymics are irregular (Илья, Никита, Кузьма, Лука, Яков, Пётр, Павел).
#[rustfmt::skip]
pub(super) const GRANDFATHERS: &[&str] = &[
    "Анатолий", "Виктор", "Владимир", "Николай", "Александр", "Сергей", "Юрий", "Валерий",
    "Михаил", "Геннадий", "Борис", "Евгений", "Василий", "Пётр", "Иван", "Алексей", "Игорь",
    "Леонид", "Вячеслав", "Григорий", "Фёдор", "Аркадий", "Павел", "Олег", "Станислав",
    "Константин", "Дмитрий", "Лев", "Яков", "Степан", "Георгий", "Илья", "Никита", "Кузьма",
    "Лука", "Эдуард", "Рашид",
];

/// The surname in the form that fits `gender`: Иванов/Иванова, Высоцкий/Высоцкая,
/// Толстой/Толстая; Ковальчук, Шевченко and Белых do not change.
pub(super) fn surname(masculine: &str, gender: Gender) -> String {
    if gender == Gender::Male {
        return masculine.to_string();
    }
    for (ending, feminine) in [("ский", "ская"), ("цкий", "цкая"), ("ой", "ая")]
    {
        if let Some(stem) = masculine.strip_suffix(ending) {
            return format!("{stem}{feminine}");
        }
    }
    if ["ов", "ев", "ёв", "ин", "ын"]
        .iter()
        .any(|e| masculine.ends_with(e))
    {
        return format!("{masculine}а");
    }
    masculine.to_string()
}

/// The patronymic a child of `father` bears: Сергеевич/Сергеевна, Ильич/Ильинична.
pub(super) fn patronymic(father: &str, gender: Gender) -> String {
    let female = gender == Gender::Female;
    // Names whose patronymic does not follow the rules below.
    let irregular: &[(&str, &str, &str)] = &[
        ("Илья", "Ильич", "Ильинична"),
        ("Никита", "Никитич", "Никитична"),
        ("Кузьма", "Кузьмич", "Кузьминична"),
        ("Лука", "Лукич", "Лукинична"),
        ("Фома", "Фомич", "Фоминична"),
        ("Павел", "Павлович", "Павловна"),
        ("Лев", "Львович", "Львовна"),
        ("Пётр", "Петрович", "Петровна"),
        ("Яков", "Яковлевич", "Яковлевна"),
        ("Михаил", "Михайлович", "Михайловна"),
        ("Юрий", "Юрьевич", "Юрьевна"),
        ("Дмитрий", "Дмитриевич", "Дмитриевна"),
        ("Георгий", "Георгиевич", "Георгиевна"),
    ];
    if let Some((_, m, f)) = irregular.iter().find(|(name, _, _)| *name == father) {
        return if female { f } else { m }.to_string();
    }
    let (stem, suffix) = if let Some(stem) = father.strip_suffix("ий") {
        // Анатолий → Анатольевич, Евгений → Евгеньевич
        (format!("{stem}ь"), "ев")
    } else if let Some(stem) = father.strip_suffix('й') {
        // Сергей → Сергеевич, Николай → Николаевич
        (stem.to_string(), "ев")
    } else if let Some(stem) = father.strip_suffix('ь') {
        // Игорь → Игоревич
        (stem.to_string(), "ев")
    } else {
        // Иван → Иванович
        (father.to_string(), "ов")
    };
    format!("{stem}{suffix}{}", if female { "на" } else { "ич" })
}

/// A random name from a list.
pub(super) fn pick(rng: &mut impl Rng, list: &'static [&'static str]) -> &'static str {
    list.choose(rng).copied().unwrap_or("Иван")
}

/// Latin spelling of a Russian word, for e-mail addresses (Иванова → ivanova): the table
/// of [`crate::text::latin`] with `х` → `kh` and `щ` → `shch`, other characters dropped.
pub(super) fn translit(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match (c, crate::text::latin(c)) {
            ('х', _) => out.push_str("kh"),
            ('щ', _) => out.push_str("shch"),
            (_, Some(latin)) => out.push_str(latin),
            (c, None) if c.is_ascii_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

/// A sort key that puts Ё next to Е, as a Russian class list is ordered.
pub(super) fn collation_key(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ё' => 'е',
            'Ё' => 'Е',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feminine_surnames() {
        let f = |s| surname(s, Gender::Female);
        assert_eq!(f("Иванов"), "Иванова");
        assert_eq!(f("Соловьёв"), "Соловьёва");
        assert_eq!(f("Ильин"), "Ильина");
        assert_eq!(f("Высоцкий"), "Высоцкая");
        assert_eq!(f("Соколовский"), "Соколовская");
        assert_eq!(f("Толстой"), "Толстая");
        assert_eq!(f("Ковальчук"), "Ковальчук");
        assert_eq!(f("Шевченко"), "Шевченко");
        assert_eq!(f("Белых"), "Белых");
        assert_eq!(f("Ким"), "Ким");
        assert_eq!(surname("Иванов", Gender::Male), "Иванов");
    }

    #[test]
    fn patronymics() {
        let m = |s| patronymic(s, Gender::Male);
        let f = |s| patronymic(s, Gender::Female);
        assert_eq!(
            (m("Сергей"), f("Сергей")),
            ("Сергеевич".into(), "Сергеевна".into())
        );
        assert_eq!((m("Илья"), f("Илья")), ("Ильич".into(), "Ильинична".into()));
        assert_eq!(
            (m("Никита"), f("Никита")),
            ("Никитич".into(), "Никитична".into())
        );
        assert_eq!(m("Иван"), "Иванович");
        assert_eq!(f("Иван"), "Ивановна");
        assert_eq!(m("Николай"), "Николаевич");
        assert_eq!(m("Анатолий"), "Анатольевич");
        assert_eq!(f("Евгений"), "Евгеньевна");
        assert_eq!(m("Игорь"), "Игоревич");
        assert_eq!(m("Михаил"), "Михайлович");
        assert_eq!(f("Пётр"), "Петровна");
        assert_eq!(m("Лев"), "Львович");
        assert_eq!(m("Фёдор"), "Фёдорович");
        // Every father's name in the lists yields a patronymic that looks like one.
        for name in MEN.iter().chain(GRANDFATHERS) {
            assert!(m(name).ends_with("ич"), "{name}");
            assert!(f(name).ends_with("на"), "{name}");
        }
    }

    #[test]
    fn transliteration() {
        assert_eq!(translit("Щербакова"), "shcherbakova");
        assert_eq!(translit("Юрьевна"), "yurevna");
        assert_eq!(translit("Фёдор"), "fedor");
    }
}
