//! The people of the demo school: classes and their sizes, pupils and their families
//! (guardians, siblings in other classes, one pair of twins), and teachers' names.

use std::collections::BTreeSet;

use rand::Rng;
use rand::seq::{IndexedMutRandom, IndexedRandom};

use super::names::{self, Gender, pick, surname};
use super::normal;

/// Letters of parallel classes, in the order schools use them (no Ё, Й, О, У …).
const LETTERS: [&str; 17] = [
    "А", "Б", "В", "Г", "Д", "Е", "Ж", "З", "И", "К", "Л", "М", "Н", "П", "Р", "С", "Т",
];

/// Relative size of each grade 1..=11 (×10): primary grades are fuller, and many pupils
/// leave after grade 9.
const GRADE_WEIGHTS: [usize; 11] = [12, 12, 12, 12, 10, 10, 10, 10, 10, 6, 6];

/// Pupils a class is planned for.
const CLASS_SIZE: usize = 22;

/// The chance that a newly seated pupil has a brother or sister in an older class. Both
/// children count, so about 2 × 4.2 % ≈ 8 % of pupils have a sibling at school.
const SIBLING_CHANCE: f64 = 0.042;

/// The chance that a class has one pupil exempt from PE.
const EXEMPT_CHANCE: f64 = 0.4;

#[derive(Debug, Clone)]
pub(super) struct ClassPlan {
    pub grade: u8,
    pub letter: String,
    pub name: String,
    pub size: usize,
}

/// Splits `students` pupils over grades and classes. The total is exact; a grade without
/// pupils has no class.
pub(super) fn plan_classes(students: usize) -> Vec<ClassPlan> {
    // Largest-remainder apportionment over the grades, in integers so it is exact.
    let total: usize = GRADE_WEIGHTS.iter().sum();
    let mut per_grade: Vec<usize> = GRADE_WEIGHTS.iter().map(|w| students * w / total).collect();
    let mut by_remainder: Vec<usize> = (0..11).collect();
    by_remainder.sort_by_key(|&g| std::cmp::Reverse(students * GRADE_WEIGHTS[g] % total));
    let short = students - per_grade.iter().sum::<usize>();
    for &g in by_remainder.iter().take(short) {
        per_grade[g] += 1;
    }

    let mut classes = Vec::new();
    for (g, &pupils) in per_grade.iter().enumerate() {
        if pupils == 0 {
            continue;
        }
        let count = ((pupils + CLASS_SIZE / 2) / CLASS_SIZE).max(1);
        for i in 0..count {
            let letter = match i / LETTERS.len() {
                0 => LETTERS[i].to_string(),
                round => format!("{}{}", LETTERS[i % LETTERS.len()], round + 1),
            };
            let grade = g as u8 + 1;
            classes.push(ClassPlan {
                grade,
                name: format!("{grade}{letter}"),
                letter,
                size: pupils / count + usize::from(i < pupils % count),
            });
        }
    }
    classes
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Person {
    pub last: String,
    pub first: String,
    pub middle: String,
}

impl Person {
    /// "Иванова М. П.": how teachers sign announcements.
    pub(super) fn short(&self) -> String {
        let initial = |s: &str| {
            s.chars()
                .next()
                .map(|c| format!(" {c}."))
                .unwrap_or_default()
        };
        format!(
            "{}{}{}",
            self.last,
            initial(&self.first),
            initial(&self.middle)
        )
    }

    fn sort_key(&self) -> (String, String, String) {
        (
            names::collation_key(&self.last),
            names::collation_key(&self.first),
            names::collation_key(&self.middle),
        )
    }
}

#[derive(Debug, Clone)]
pub(super) struct Pupil {
    pub class: usize,
    pub person: Person,
    pub family: usize,
    /// The mark this pupil earns on average (2.6 … 4.9).
    pub ability: f64,
    /// Exempt from PE for medical reasons: 'осв' instead of marks there.
    pub pe_exempt: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Guardian {
    pub person: Person,
    pub contact: String,
}

/// A family: the surname and father's name its children share, and its guardians
/// (index into `People::guardians`, relation).
#[derive(Debug, Clone)]
pub(super) struct Family {
    surname: &'static str,
    father: &'static str,
    pub guardians: Vec<(usize, &'static str)>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct People {
    /// Pupils class by class, alphabetically within a class; pupil i gets id i + 1.
    pub pupils: Vec<Pupil>,
    /// `pupils[class_start[c]..class_start[c + 1]]` are the pupils of class c.
    pub class_start: Vec<usize>,
    pub families: Vec<Family>,
    pub guardians: Vec<Guardian>,
}

/// Seats every pupil of every class, with their families.
pub(super) fn populate(classes: &[ClassPlan], rng: &mut impl Rng) -> People {
    let mut people = People::default();
    // One family sends twins to the same class.
    let twin_class = {
        let candidates: Vec<usize> = (0..classes.len())
            .filter(|&c| classes[c].size >= 2)
            .collect();
        candidates.choose(rng).copied()
    };
    // Families whose second child still waits for its seat in an older class.
    let mut waiting: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
    let mut free: Vec<usize> = classes.iter().map(|c| c.size).collect();
    if let Some(t) = twin_class {
        free[t] -= 2;
    }

    for (c, class) in classes.iter().enumerate() {
        let mut seated: Vec<Pupil> = Vec::with_capacity(class.size);
        let mut taken = BTreeSet::new();
        for family in std::mem::take(&mut waiting[c]) {
            seated.push(child(&mut people, family, c, &mut taken, rng));
        }
        if twin_class == Some(c) {
            let family = new_family(&mut people, rng);
            let first = child(&mut people, family, c, &mut taken, rng);
            let mut second = child(&mut people, family, c, &mut taken, rng);
            second.ability = (first.ability + normal(rng, 0.0, 0.2)).clamp(2.6, 4.9);
            seated.extend([first, second]);
        }
        while seated.len() < class.size {
            let family = new_family(&mut people, rng);
            seated.push(child(&mut people, family, c, &mut taken, rng));
            if rng.random_bool(SIBLING_CHANCE) {
                let older: Vec<usize> = (c + 1..classes.len())
                    .filter(|&o| classes[o].grade != class.grade && free[o] > 0)
                    .collect();
                if let Some(&o) = older.choose(rng) {
                    free[o] -= 1;
                    waiting[o].push(family);
                }
            }
        }
        seated.sort_by_cached_key(|p| p.person.sort_key());
        // Now and then a pupil is excused from PE for the year on a doctor's note.
        if rng.random_bool(EXEMPT_CHANCE)
            && let Some(p) = seated.choose_mut(rng)
        {
            p.pe_exempt = true;
        }
        people.class_start.push(people.pupils.len());
        people.pupils.extend(seated);
    }
    people.class_start.push(people.pupils.len());
    people
}

/// A new child of `family` in class `class`, with a full name no one in the class has yet.
fn child(
    people: &mut People,
    family: usize,
    class: usize,
    taken: &mut BTreeSet<Person>,
    rng: &mut impl Rng,
) -> Pupil {
    let f = &people.families[family];
    let person = loop {
        let gender = Gender::random(rng);
        let first = match gender {
            Gender::Male => pick(rng, names::BOYS),
            Gender::Female => pick(rng, names::GIRLS),
        };
        let person = Person {
            last: surname(f.surname, gender),
            first: first.to_string(),
            middle: names::patronymic(f.father, gender),
        };
        if taken.insert(person.clone()) {
            break person;
        }
    };
    Pupil {
        class,
        person,
        family,
        ability: normal(rng, 3.9, 0.55).clamp(2.6, 4.9),
        pe_exempt: false,
    }
}

/// A new family and its guardians: usually both parents or the mother; sometimes a
/// grandmother or a legal guardian.
fn new_family(people: &mut People, rng: &mut impl Rng) -> usize {
    let family_name = pick(rng, names::SURNAMES);
    let father = pick(rng, names::MEN);
    let mut members: Vec<(Person, &'static str)> = Vec::new();
    let roll: f64 = rng.random();
    let with_mother = roll < 0.95 && !(0.85..0.89).contains(&roll);
    if with_mother {
        // One mother in ten kept her own surname.
        let own = rng.random_bool(0.9);
        let first = pick(rng, names::WOMEN);
        members.push((adult(rng, family_name, Gender::Female, own, first), "мать"));
    }
    if roll < 0.55 || (0.85..0.89).contains(&roll) {
        members.push((adult(rng, family_name, Gender::Male, true, father), "отец"));
    }
    if (0.89..0.98).contains(&roll) {
        let own = rng.random_bool(0.5);
        let first = pick(rng, names::GRANDMOTHERS);
        members.push((
            adult(rng, family_name, Gender::Female, own, first),
            "бабушка",
        ));
    }
    if roll >= 0.98 {
        let gender = Gender::random(rng);
        let first = match gender {
            Gender::Male => pick(rng, names::MEN),
            Gender::Female => pick(rng, names::WOMEN),
        };
        members.push((adult(rng, family_name, gender, false, first), "опекун"));
    }
    let mut guardians = Vec::new();
    for (person, relation) in members {
        guardians.push((people.guardians.len(), relation));
        let contact = masked_phone(rng);
        people.guardians.push(Guardian { person, contact });
    }
    people.families.push(Family {
        surname: family_name,
        father,
        guardians,
    });
    people.families.len() - 1
}

/// A grown-up of a family: the family's surname (`own_name`) or another one, and a
/// patronymic from a name of the grandparents' generation.
fn adult(
    rng: &mut impl Rng,
    family_name: &str,
    gender: Gender,
    own_name: bool,
    first: &str,
) -> Person {
    let last = if own_name {
        surname(family_name, gender)
    } else {
        surname(pick(rng, names::SURNAMES), gender)
    };
    Person {
        last,
        first: first.to_string(),
        middle: names::patronymic(pick(rng, names::GRANDFATHERS), gender),
    }
}

/// An invented mobile number, masked the way a public page shows it.
fn masked_phone(rng: &mut impl Rng) -> String {
    format!(
        "+7 9{:02} ***-**-{:02}",
        rng.random_range(0..100),
        rng.random_range(0..100)
    )
}

/// A teacher's name, different from every name in `taken`.
pub(super) fn teacher(gender: Gender, taken: &mut BTreeSet<Person>, rng: &mut impl Rng) -> Person {
    loop {
        let first = match gender {
            Gender::Male => pick(rng, names::MEN),
            Gender::Female => pick(rng, names::WOMEN),
        };
        let person = Person {
            last: surname(pick(rng, names::SURNAMES), gender),
            first: first.to_string(),
            middle: names::patronymic(pick(rng, names::GRANDFATHERS), gender),
        };
        if taken.insert(person.clone()) {
            return person;
        }
    }
}

/// How to reach a teacher: their room, or a school e-mail made from their name.
pub(super) fn teacher_contact(
    person: &Person,
    room: &str,
    emails: &mut BTreeSet<String>,
    rng: &mut impl Rng,
) -> String {
    if rng.random_bool(0.5) {
        let initials: String = [&person.first, &person.middle]
            .iter()
            .filter_map(|s| names::translit(s).chars().next())
            .collect();
        let base = format!("{}.{initials}", names::translit(&person.last));
        let mut address = base.clone();
        let mut n = 2;
        while !emails.insert(address.clone()) {
            address = format!("{base}{n}");
            n += 1;
        }
        format!("{address}@school39.example")
    } else if room.starts_with(|c: char| c.is_ascii_digit()) {
        format!("кабинет {room}")
    } else {
        room.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn class_plan_is_exact_and_sized() {
        for n in (1..=40).chain([59, 60, 300, 2000, 20000]) {
            let classes = plan_classes(n);
            assert_eq!(classes.iter().map(|c| c.size).sum::<usize>(), n, "{n}");
            assert!(classes.iter().all(|c| c.size > 0));
        }
        assert_eq!(plan_classes(5).len(), 5);
        assert_eq!(plan_classes(300).len(), 15);
        let big = plan_classes(2000).len();
        assert!((80..=100).contains(&big), "{big} classes for 2000");
        let names: BTreeSet<String> = plan_classes(20000).into_iter().map(|c| c.name).collect();
        assert!(names.contains("1А") && names.contains("1А2"));
    }

    #[test]
    fn names_are_unique_within_a_class_and_siblings_exist() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let classes = plan_classes(2000);
        let people = populate(&classes, &mut rng);
        assert_eq!(people.pupils.len(), 2000);
        for c in 0..classes.len() {
            let class = &people.pupils[people.class_start[c]..people.class_start[c + 1]];
            let set: BTreeSet<&Person> = class.iter().map(|p| &p.person).collect();
            assert_eq!(set.len(), class.len());
        }
        let mut per_family = vec![0; people.families.len()];
        for p in &people.pupils {
            per_family[p.family] += 1;
        }
        let with_sibling = people
            .pupils
            .iter()
            .filter(|p| per_family[p.family] > 1)
            .count();
        let share = with_sibling as f64 / 2000.0;
        assert!((0.05..0.12).contains(&share), "{share}");
    }
}
