//! Binding codes to people: at every build (and before `codes issue`), each code's holder
//! and the children it was sealed for are found in the journal by identity, not by row id.
//!
//! - A child who leaves a code's set (unlinked, the holder gone, a custody change) gets a
//!   new page id and key, so what the code's holder saw before opens nothing new; the
//!   remaining holders' slots are sealed again with the new keys.
//! - A journal numbered anew (same people, same links, other ids) changes nothing.
//! - What cannot be told apart is refused, with the codes it concerns: a person whose row
//!   now holds another name (a name changed, or ids were reassigned), namesakes whose rows
//!   moved, or ids that moved while the links changed too (two people swapped). The build
//!   stops and names `diary codes confirm` and `diary codes revoke` for each code.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use super::identity::{Kind, Roster};
use super::store::{CodeEntry, PageKeys, Person, PersonId, Store, StoreV1};
use crate::journal::{Id, Journal};

/// Where a person of the store is in the journal now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Found (by identity) at this row.
    At(Id),
    /// Not in the journal (left the school, or not a pupil of this year).
    Gone,
    /// Not found, and the row they had holds someone else: renamed, or ids reassigned.
    Taken(Id),
    /// Namesakes: more than one row fits and none is the row they had.
    Ambiguous,
}

/// Every person of the store located in the journal.
pub(crate) struct Places {
    places: BTreeMap<PersonId, Place>,
    /// (kind, row) → the person found there.
    at_row: HashMap<(Kind, Id), PersonId>,
}

impl Places {
    pub(crate) fn locate(store: &Store, roster: &Roster) -> Places {
        // People grouped by identity: namesakes are told apart by the row they had.
        let mut groups: BTreeMap<(Kind, &str), Vec<PersonId>> = BTreeMap::new();
        for (id, p) in &store.people {
            groups.entry((p.kind, &p.identity)).or_default().push(*id);
        }
        let mut places = BTreeMap::new();
        for ((kind, identity), persons) in groups {
            let rows = roster.rows(kind, identity);
            let mut free: Vec<Id> = rows.to_vec();
            let mut left = Vec::new();
            for pid in persons {
                let had = store.people[&pid].row;
                if let Some(i) = free.iter().position(|r| *r == had) {
                    free.remove(i);
                    places.insert(pid, Place::At(had));
                } else {
                    left.push(pid);
                }
            }
            match (left.as_slice(), free.as_slice()) {
                ([], _) => {}
                ([one], [row]) => {
                    places.insert(*one, Place::At(*row));
                }
                (_, []) => {
                    for pid in left {
                        let had = store.people[&pid].row;
                        let place = if roster.has(kind, had) {
                            Place::Taken(had)
                        } else {
                            Place::Gone
                        };
                        places.insert(pid, place);
                    }
                }
                _ => {
                    for pid in left {
                        places.insert(pid, Place::Ambiguous);
                    }
                }
            }
        }
        let at_row = places
            .iter()
            .filter_map(|(pid, place)| match place {
                Place::At(row) => Some(((store.people[pid].kind, *row), *pid)),
                _ => None,
            })
            .collect();
        Places { places, at_row }
    }

    pub(crate) fn get(&self, pid: PersonId) -> Place {
        self.places.get(&pid).copied().unwrap_or(Place::Gone)
    }

    /// The person found at a row, if any.
    pub(crate) fn at(&self, kind: Kind, row: Id) -> Option<PersonId> {
        self.at_row.get(&(kind, row)).copied()
    }

    /// The person at a row; a new one (added to the store) when nobody is there yet.
    pub(crate) fn person_at(
        &mut self,
        store: &mut Store,
        roster: &Roster,
        j: &Journal,
        kind: Kind,
        row: Id,
    ) -> PersonId {
        if let Some(pid) = self.at(kind, row) {
            return pid;
        }
        let pid = store.add_person(Person {
            kind,
            identity: roster.identity(kind, row).unwrap_or_default().to_string(),
            row,
            label: label(j, kind, row),
        });
        self.places.insert(pid, Place::At(row));
        self.at_row.insert((kind, row), pid);
        pid
    }
}

/// How a person is named in messages: a guardian by full name, a pupil with the class.
pub(crate) fn label(j: &Journal, kind: Kind, row: Id) -> String {
    match kind {
        Kind::Guardian => j
            .guardian(row)
            .map(|g| {
                crate::journal::full_name(&g.last_name, &g.first_name, g.middle_name.as_deref())
            })
            .unwrap_or_else(|| format!("guardian id {row}")),
        Kind::Student => j
            .student(row)
            .map(|s| {
                let class = j.class(s.class_id).map(|c| c.name.as_str()).unwrap_or("?");
                format!("{} ({class})", s.full_name())
            })
            .unwrap_or_else(|| format!("pupil id {row}")),
    }
}

/// The rows of the children a holder at `row` opens now: a guardian's pupils of this year,
/// or the pupil themself. `families` is [`Journal::children_by_guardian`], made once per
/// binding: reading every family link again for each code took 0.7 s at 20000 pupils.
fn children_rows(families: &HashMap<Id, Vec<Id>>, roster: &Roster, kind: Kind, row: Id) -> Vec<Id> {
    match kind {
        Kind::Student => vec![row],
        Kind::Guardian => families
            .get(&row)
            .into_iter()
            .flatten()
            .copied()
            .filter(|s| roster.has(Kind::Student, *s))
            .collect(),
    }
}

/// One active code and the children it opens now, for sealing its slot.
#[derive(Debug, Clone)]
pub(crate) struct BoundCode {
    /// Index in `store.codes`.
    pub code: usize,
    /// Children (person, journal row), by row.
    pub children: Vec<(PersonId, Id)>,
}

/// What binding found and did.
#[derive(Debug, Default)]
pub(crate) struct Bound {
    /// Active codes with at least one child.
    pub codes: Vec<BoundCode>,
    /// Children given a new page id and key now (they left some code's set).
    pub rekeyed: BTreeSet<PersonId>,
    /// Active codes whose holder is no longer in the journal: they open nothing.
    pub dormant: Vec<usize>,
    /// The store changed and must be saved.
    pub changed: bool,
}

/// Why a code cannot be bound.
#[derive(Debug, Clone)]
pub(crate) enum Problem {
    /// The holder's or a child's row holds another name now.
    Taken { who: String, row: Id, now: String },
    /// Several rows fit a person's identity.
    Ambiguous { who: String },
    /// Rows moved while the code's children changed: (before, after).
    Reassigned {
        before: Vec<String>,
        after: Vec<String>,
    },
}

/// A code that cannot be bound, with what is wrong.
#[derive(Debug, Clone)]
pub(crate) struct Conflict {
    pub tail: String,
    pub holder: String,
    pub classes: String,
    pub problems: Vec<Problem>,
}

/// Every code that cannot be bound: the build stops with this message.
#[derive(Debug)]
pub(crate) struct Conflicts(pub Vec<Conflict>);

impl std::error::Error for Conflicts {}

impl fmt::Display for Conflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} access code(s) no longer match the people in the journal, so it cannot be \
             told whose diaries they open; nothing was published:",
            self.0.len()
        )?;
        for c in &self.0 {
            let tail = c.tail.trim_start_matches('…');
            write!(f, "  code …{tail} of {}", c.holder)?;
            if !c.classes.is_empty() {
                write!(f, ", {}", c.classes)?;
            }
            writeln!(f, ":")?;
            for p in &c.problems {
                match p {
                    Problem::Taken { who, row, now } => writeln!(
                        f,
                        "    {who} is not in the journal any more, and their row (id {row}) now \
                         holds {now}"
                    )?,
                    Problem::Ambiguous { who } => writeln!(
                        f,
                        "    {who}: several people in the journal have this name and none is at \
                         the row it had; give them ids in external_ids, or revoke the code"
                    )?,
                    Problem::Reassigned { before, after } => writeln!(
                        f,
                        "    the journal's ids changed and the code's children with them: it \
                         opened {}, it would now open {}",
                        list(before),
                        list(after)
                    )?,
                }
            }
            writeln!(
                f,
                "    the same person after a change of name or ids: `diary codes confirm {tail}`; \
                 otherwise `diary codes revoke {tail}` (and `diary codes issue` for a new code)"
            )?;
        }
        write!(
            f,
            "If the journal itself is wrong (a bad import), correct it and build again."
        )
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "nobody".into()
    } else {
        names.join(", ")
    }
}

/// Binds every active code of the store to the journal as it is now; see the module doc.
/// On conflicts nothing in the store changes.
pub(crate) fn bind(store: &mut Store, j: &Journal, roster: &Roster) -> Result<Bound, Conflicts> {
    let before = store.clone();
    let mut places = Places::locate(store, roster);
    let families = j.children_by_guardian();

    // 1. Every active code's new set of children, or what is wrong with it.
    let mut conflicts = Vec::new();
    let mut plans: Vec<(usize, Vec<Id>)> = Vec::new();
    let mut dormant = Vec::new();
    for (ci, code) in store.codes.iter().enumerate() {
        if !code.is_active() {
            continue;
        }
        let holder = &store.people[&code.holder];
        let mut problems = Vec::new();
        let check = |pid: PersonId, problems: &mut Vec<Problem>| {
            let p = &store.people[&pid];
            match places.get(pid) {
                Place::Taken(row) => problems.push(Problem::Taken {
                    who: format!("{} {}", p.kind.noun(), p.label),
                    row,
                    now: label(j, p.kind, row),
                }),
                Place::Ambiguous => problems.push(Problem::Ambiguous {
                    who: format!("{} {}", p.kind.noun(), p.label),
                }),
                Place::At(_) | Place::Gone => {}
            }
        };
        check(code.holder, &mut problems);
        for pid in &code.children {
            check(*pid, &mut problems);
        }
        let rows = match places.get(code.holder) {
            Place::At(row) => children_rows(&families, roster, holder.kind, row),
            _ => Vec::new(),
        };
        if problems.is_empty() {
            let moved = |pid: &PersonId| matches!(places.get(*pid), Place::At(r) if r != store.people[pid].row);
            let drift = moved(&code.holder) || code.children.iter().any(moved);
            let now: BTreeSet<Option<PersonId>> =
                rows.iter().map(|r| places.at(Kind::Student, *r)).collect();
            let was: BTreeSet<Option<PersonId>> = code.children.iter().map(|c| Some(*c)).collect();
            if drift && now != was {
                problems.push(Problem::Reassigned {
                    before: code
                        .children
                        .iter()
                        .map(|c| store.people[c].label.clone())
                        .collect(),
                    after: rows.iter().map(|r| label(j, Kind::Student, *r)).collect(),
                });
            }
        }
        if problems.is_empty() {
            if places.get(code.holder) == Place::Gone {
                dormant.push(ci);
            }
            plans.push((ci, rows));
        } else {
            conflicts.push(conflict(store, j, &places, code, problems));
        }
    }
    if !conflicts.is_empty() {
        return Err(Conflicts(conflicts));
    }

    // 2. Rows and names as found now.
    for (pid, place) in places.places.clone() {
        if let Place::At(row) = place {
            let kind = store.people[&pid].kind;
            let label = label(j, kind, row);
            let p = store.people.get_mut(&pid).expect("a person of the store");
            p.row = row;
            p.label = label;
        }
    }

    // 3. New sets; whoever left a set gets new keys.
    let mut rekeyed = BTreeSet::new();
    let mut codes = Vec::new();
    for (ci, rows) in plans {
        let mut children = Vec::new();
        for row in rows {
            let pid = places.person_at(store, roster, j, Kind::Student, row);
            children.push((pid, row));
        }
        let now: BTreeSet<PersonId> = children.iter().map(|(p, _)| *p).collect();
        let code = &mut store.codes[ci];
        rekeyed.extend(code.children.difference(&now).copied());
        code.ever.extend(now.iter().copied());
        code.children = now;
        if !children.is_empty() {
            codes.push(BoundCode { code: ci, children });
        }
    }
    for pid in &rekeyed {
        store.pages.insert(*pid, PageKeys::new());
    }
    for c in &codes {
        for (pid, _) in &c.children {
            store.pages.entry(*pid).or_default();
        }
    }
    let changed = *store != before;
    Ok(Bound {
        codes,
        rekeyed,
        dormant,
        changed,
    })
}

fn conflict(
    store: &Store,
    j: &Journal,
    places: &Places,
    code: &CodeEntry,
    problems: Vec<Problem>,
) -> Conflict {
    let mut classes: BTreeSet<String> = BTreeSet::new();
    for pid in &code.children {
        let row = match places.get(*pid) {
            Place::At(r) | Place::Taken(r) => r,
            _ => store.people[pid].row,
        };
        if let Some(c) = j.student(row).and_then(|s| j.class(s.class_id)) {
            classes.insert(c.name.clone());
        }
    }
    Conflict {
        tail: code.tail(),
        holder: store.people[&code.holder].label.clone(),
        classes: classes.into_iter().collect::<Vec<_>>().join(", "),
        problems,
    }
}

/// `diary codes confirm`: accepts the journal as it is now for one code: its holder and
/// children are the people at the rows they had (after a change of name) or at the rows
/// their identities are found at now (after new ids). Returns what changed, for the user.
pub(crate) fn confirm(
    store: &mut Store,
    j: &Journal,
    roster: &Roster,
    code: usize,
) -> anyhow::Result<Vec<String>> {
    let places = Places::locate(store, roster);
    let entry = store.codes[code].clone();
    let mut changes = Vec::new();
    for pid in std::iter::once(entry.holder).chain(entry.children.iter().copied()) {
        let p = store.people[&pid].clone();
        match places.get(pid) {
            Place::Taken(row) => {
                let now = label(j, p.kind, row);
                let identity = roster
                    .identity(p.kind, row)
                    .expect("a taken row is in the roster");
                let person = store.people.get_mut(&pid).expect("a person of the store");
                person.identity = identity.to_string();
                person.label = now.clone();
                changes.push(format!("{} {} is now {now}", p.kind.noun(), p.label));
            }
            Place::At(row) if row != p.row => {
                store.people.get_mut(&pid).expect("a person").row = row;
                changes.push(format!(
                    "{} {}: journal id {} is now {row}",
                    p.kind.noun(),
                    p.label,
                    p.row
                ));
            }
            Place::Ambiguous => anyhow::bail!(
                "{} {} cannot be confirmed: several people in the journal have this name and \
                 none is at the row it had; give them ids in external_ids, or revoke the code",
                p.kind.noun(),
                p.label
            ),
            Place::At(_) | Place::Gone => {}
        }
    }
    Ok(changes)
}

/// Upgrades a version-1 store (keys by journal row id) to people, taking the journal as it
/// is now for who each row is. Each code is taken as sealed for the children its holder has
/// in the journal now.
pub(crate) fn upgrade(v1: &StoreV1, j: &Journal, roster: &Roster) -> Store {
    use super::store::HolderV1;
    let mut store = Store::from_v1_keys(v1);
    let families = j.children_by_guardian();
    let mut by_row: HashMap<(Kind, Id), PersonId> = HashMap::new();
    let mut person = |store: &mut Store, kind: Kind, row: Id| -> PersonId {
        *by_row.entry((kind, row)).or_insert_with(|| {
            store.add_person(Person {
                kind,
                identity: roster.identity(kind, row).unwrap_or_default().to_string(),
                row,
                label: label(j, kind, row),
            })
        })
    };
    for (row, keys) in &v1.pages {
        let pid = person(&mut store, Kind::Student, *row);
        store.pages.insert(pid, keys.clone());
    }
    for c in &v1.codes {
        let (kind, row) = match c.holder {
            HolderV1::Guardian(g) => (Kind::Guardian, g),
            HolderV1::Student(s) => (Kind::Student, s),
        };
        let holder = person(&mut store, kind, row);
        let children: BTreeSet<PersonId> = children_rows(&families, roster, kind, row)
            .into_iter()
            .filter(|s| v1.pages.contains_key(s))
            .map(|s| person(&mut store, Kind::Student, s))
            .collect();
        store.codes.push(CodeEntry {
            code: c.code.clone(),
            slot: c.slot.clone(),
            kek: c.kek.clone(),
            holder,
            ever: children.clone(),
            children,
            issued_at: c.issued_at.clone(),
            revoked_at: c.revoked_at.clone(),
        });
    }
    store
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Class, Guardian, Student, StudentGuardian};

    const KEY: [u8; 32] = [3; 32];

    /// Two families: guardian 5 (Анна) with pupils 1 and 3, guardian 6 (Борис) with pupil 2;
    /// `shift` is added to every id.
    fn journal(shift: Id) -> Journal {
        let mut j = Journal::default();
        j.classes.push(Class {
            id: 10,
            year_id: 1,
            grade: 5,
            letter: "А".into(),
            name: "5А".into(),
            class_teacher_id: None,
            shift: 1,
        });
        for (id, first) in [(1, "Иван"), (2, "Олег"), (3, "Дарья")] {
            j.students.push(Student {
                id: id + shift,
                class_id: 10,
                last_name: "Петров".into(),
                first_name: first.into(),
                middle_name: None,
            });
        }
        for (id, first) in [(5, "Анна"), (6, "Борис")] {
            j.guardians.push(Guardian {
                id: id + shift,
                last_name: "Петров".into(),
                first_name: first.into(),
                middle_name: None,
                contact: None,
                delivery: Default::default(),
                consent_on: None,
            });
        }
        for (s, g) in [(1, 5), (3, 5), (2, 6)] {
            j.student_guardians.push(StudentGuardian {
                student_id: s + shift,
                guardian_id: g + shift,
                relation: None,
            });
        }
        j
    }

    fn roster(j: &Journal) -> Roster {
        let students = j.students.iter().map(|s| s.id).collect();
        Roster::new(j, &students, &KEY)
    }

    /// A store with one code per guardian, bound to `j`.
    fn store_for(j: &Journal) -> Store {
        let mut store = Store::create(std::path::Path::new("/nonexistent"), 100_000);
        let r = roster(j);
        let mut places = Places::locate(&store, &r);
        for g in &j.guardians {
            let holder = places.person_at(&mut store, &r, j, Kind::Guardian, g.id);
            store.codes.push(CodeEntry {
                code: format!("{:0>16}", g.id),
                slot: String::new(),
                kek: String::new(),
                holder,
                children: BTreeSet::new(),
                ever: BTreeSet::new(),
                issued_at: "2026-09-01".into(),
                revoked_at: None,
            });
        }
        bind(&mut store, j, &r).unwrap();
        store
    }

    fn opened(store: &Store, bound: &Bound, j: &Journal, holder_first: &str) -> Vec<String> {
        let c = bound
            .codes
            .iter()
            .find(|c| {
                store.people[&store.codes[c.code].holder]
                    .label
                    .contains(holder_first)
            })
            .expect("the holder's code");
        c.children
            .iter()
            .map(|(_, row)| j.student(*row).unwrap().first_name.clone())
            .collect()
    }

    fn page(store: &Store, j: &Journal, first: &str) -> String {
        let (pid, _) = store
            .people
            .iter()
            .find(|(_, p)| p.kind == Kind::Student && p.label.contains(first))
            .unwrap();
        let _ = j;
        store.pages[pid].page.clone()
    }

    #[test]
    fn new_ids_for_the_same_people_change_nothing() {
        let j = journal(0);
        let mut store = store_for(&j);
        let pages: Vec<String> = ["Иван", "Олег", "Дарья"]
            .iter()
            .map(|n| page(&store, &j, n))
            .collect();
        let moved = journal(100_000);
        let bound = bind(&mut store, &moved, &roster(&moved)).unwrap();
        assert!(bound.rekeyed.is_empty());
        assert_eq!(opened(&store, &bound, &moved, "Анна"), ["Иван", "Дарья"]);
        assert_eq!(opened(&store, &bound, &moved, "Борис"), ["Олег"]);
        let after: Vec<String> = ["Иван", "Олег", "Дарья"]
            .iter()
            .map(|n| page(&store, &moved, n))
            .collect();
        assert_eq!(pages, after);
        // The rows are remembered: binding again changes nothing.
        assert!(!bind(&mut store, &moved, &roster(&moved)).unwrap().changed);
    }

    #[test]
    fn an_unlinked_child_gets_new_keys_and_stays_with_the_other_holder() {
        let mut j = journal(0);
        j.student_guardians.push(StudentGuardian {
            student_id: 1,
            guardian_id: 6,
            relation: None,
        });
        let mut store = store_for(&j);
        let before = page(&store, &j, "Иван");
        j.student_guardians
            .retain(|sg| !(sg.student_id == 1 && sg.guardian_id == 5));
        let bound = bind(&mut store, &j, &roster(&j)).unwrap();
        assert_eq!(bound.rekeyed.len(), 1);
        assert_ne!(page(&store, &j, "Иван"), before);
        assert_eq!(opened(&store, &bound, &j, "Анна"), ["Дарья"]);
        assert_eq!(opened(&store, &bound, &j, "Борис"), ["Иван", "Олег"]);
    }

    #[test]
    fn a_holder_who_left_opens_nothing_and_their_children_get_new_keys() {
        let mut j = journal(0);
        let mut store = store_for(&j);
        let before = page(&store, &j, "Олег");
        j.guardians.retain(|g| g.id != 6);
        j.student_guardians.retain(|sg| sg.guardian_id != 6);
        let bound = bind(&mut store, &j, &roster(&j)).unwrap();
        assert_eq!(bound.dormant.len(), 1);
        assert_ne!(page(&store, &j, "Олег"), before);
    }

    #[test]
    fn swapped_people_under_the_same_ids_are_refused() {
        let mut j = journal(0);
        let mut store = store_for(&j);
        let snapshot = serde_json::to_string(&store).unwrap();
        let (a, b) = (
            j.guardians[0].first_name.clone(),
            j.guardians[1].first_name.clone(),
        );
        j.guardians[0].first_name = b;
        j.guardians[1].first_name = a;
        let err = bind(&mut store, &j, &roster(&j)).unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
        let text = err.to_string();
        assert!(text.contains("codes confirm"), "{text}");
        assert!(text.contains("codes revoke"), "{text}");
        assert!(text.contains("5А"), "{text}");
        assert_eq!(serde_json::to_string(&store).unwrap(), snapshot);
    }

    #[test]
    fn a_renamed_holder_is_refused_until_confirmed() {
        let mut j = journal(0);
        let mut store = store_for(&j);
        j.guardians[0].last_name = "Сидорова".into();
        let r = roster(&j);
        let err = bind(&mut store, &j, &r).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert!(err.to_string().contains("Сидорова Анна"), "{err}");
        let ci = store
            .codes
            .iter()
            .position(|c| store.people[&c.holder].label.contains("Анна"))
            .unwrap();
        let changes = confirm(&mut store, &j, &r, ci).unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        let bound = bind(&mut store, &j, &r).unwrap();
        assert!(bound.rekeyed.is_empty());
        assert_eq!(opened(&store, &bound, &j, "Анна"), ["Иван", "Дарья"]);
    }

    #[test]
    fn namesakes_are_told_apart_by_their_rows() {
        // Both Петров Иван: pupils 1 and 4, with guardians 5 and 6.
        let namesake = |shift: Id| {
            let mut j = journal(shift);
            j.students.push(Student {
                id: 4 + shift,
                class_id: 10,
                last_name: "Петров".into(),
                first_name: "Иван".into(),
                middle_name: None,
            });
            j.student_guardians.push(StudentGuardian {
                student_id: 4 + shift,
                guardian_id: 6 + shift,
                relation: None,
            });
            j
        };
        let j = namesake(0);
        let mut store = store_for(&j);
        let bound = bind(&mut store, &j, &roster(&j)).unwrap();
        let rows = |who: &str| -> Vec<Id> {
            bound
                .codes
                .iter()
                .find(|c| {
                    store.people[&store.codes[c.code].holder]
                        .label
                        .contains(who)
                })
                .unwrap()
                .children
                .iter()
                .map(|(_, r)| *r)
                .collect()
        };
        assert_eq!(rows("Анна"), [1, 3]);
        assert_eq!(rows("Борис"), [2, 4]);
        // Renumbered, the two Ivans cannot be told apart: refused, not guessed.
        let moved = namesake(100);
        let err = bind(&mut store, &moved, &roster(&moved)).unwrap_err();
        assert!(err.to_string().contains("several people"), "{err}");
    }
}
