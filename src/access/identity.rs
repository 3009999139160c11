//! Who a person is, independent of journal row ids: the identity a code is bound to.
//!
//! A pupil's or guardian's identity is a keyed fingerprint (HMAC-SHA256 under the private
//! store's key) of the id another system gives them (`external_ids`, e.g. a OneRoster
//! `sourcedId`) where there is one, else of their full name, normalized (spaces collapsed,
//! lower case, `ё` as `е`). Row ids are kept beside it only as a hint: a re-import that
//! numbers everyone anew leaves identities as they were, and a pupil moving up a grade or to
//! another class keeps theirs. The store never holds a fingerprint that could be checked
//! against a guessed name without its key.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::journal::{Id, Journal};
use crate::seal::keyed_hash;

/// Pupil or guardian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Student,
    Guardian,
}

impl Kind {
    /// The journal table of this kind of person.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Kind::Student => "students",
            Kind::Guardian => "guardians",
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Student => "pupil",
            Kind::Guardian => "guardian",
        }
    }
}

/// The people of the journal who can hold or be opened by a code, with their identities:
/// the pupils of the current academic year and every guardian.
pub(crate) struct Roster {
    by_row: HashMap<(Kind, Id), String>,
    by_identity: HashMap<(Kind, String), Vec<Id>>,
}

impl Roster {
    /// Computes the identities of `students` (the pupils of the year being built) and of
    /// every guardian, keyed with `key`.
    pub(crate) fn new(j: &Journal, students: &BTreeSet<Id>, key: &[u8; 32]) -> Roster {
        let mut roster = Roster {
            by_row: HashMap::new(),
            by_identity: HashMap::new(),
        };
        for s in j.students.iter().filter(|s| students.contains(&s.id)) {
            let name = [
                s.last_name.as_str(),
                &s.first_name,
                s.middle_name.as_deref().unwrap_or(""),
            ];
            roster.add(j, key, Kind::Student, s.id, &name);
        }
        for g in &j.guardians {
            let name = [
                g.last_name.as_str(),
                &g.first_name,
                g.middle_name.as_deref().unwrap_or(""),
            ];
            roster.add(j, key, Kind::Guardian, g.id, &name);
        }
        for rows in roster.by_identity.values_mut() {
            rows.sort_unstable();
        }
        roster
    }

    fn add(&mut self, j: &Journal, key: &[u8; 32], kind: Kind, row: Id, name: &[&str; 3]) {
        let identity = match j.external_id(kind.table(), row) {
            Some(e) => fingerprint(
                key,
                &["external", kind.table(), &e.source, &e.external_id],
                'x',
            ),
            None => fingerprint(key, &["name", kind.table(), &normalize_name(name)], 'n'),
        };
        self.by_identity
            .entry((kind, identity.clone()))
            .or_default()
            .push(row);
        self.by_row.insert((kind, row), identity);
    }

    /// The identity of a journal row, if the row is in the roster.
    pub(crate) fn identity(&self, kind: Kind, row: Id) -> Option<&str> {
        self.by_row.get(&(kind, row)).map(String::as_str)
    }

    /// The rows that carry an identity (more than one: namesakes without external ids).
    pub(crate) fn rows(&self, kind: Kind, identity: &str) -> &[Id] {
        self.by_identity
            .get(&(kind, identity.to_string()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether a row is in the roster.
    pub(crate) fn has(&self, kind: Kind, row: Id) -> bool {
        self.by_row.contains_key(&(kind, row))
    }
}

/// `prefix` + the first 32 hex digits of HMAC-SHA256(key, "diary/identity/v1" and the
/// parts, each preceded by its length).
fn fingerprint(key: &[u8; 32], parts: &[&str], prefix: char) -> String {
    let mut data = b"diary/identity/v1".to_vec();
    for p in parts {
        data.extend_from_slice(&(p.len() as u32).to_be_bytes());
        data.extend_from_slice(p.as_bytes());
    }
    let mut out = String::with_capacity(33);
    out.push(prefix);
    out.push_str(&keyed_hash(key, &data)[..32]);
    out
}

/// Last, first and middle name as one comparable string: words joined by one space, lower
/// case, `ё` read as `е` (journals spell it both ways).
pub(crate) fn normalize_name(parts: &[&str; 3]) -> String {
    parts
        .iter()
        .flat_map(|p| p.split_whitespace())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('ё', "е")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{ExternalId, Guardian, Student};

    fn student(id: Id, last: &str, first: &str) -> Student {
        Student {
            id,
            class_id: 1,
            last_name: last.into(),
            first_name: first.into(),
            middle_name: None,
        }
    }

    #[test]
    fn names_are_compared_loosely_and_ids_do_not_matter() {
        assert_eq!(
            normalize_name(&["  Сергеев ", "Артём", ""]),
            normalize_name(&["сергеев", "АРТЕМ", " "])
        );
        let key = [7u8; 32];
        let mut j = Journal {
            students: vec![student(1, "Сергеев", "Артём"), student(2, "Орлова", "Яна")],
            ..Journal::default()
        };
        let a = Roster::new(&j, &[1, 2].into(), &key);
        j.students = vec![
            student(100_001, "Сергеев", "Артем"),
            student(100_002, "Орлова", "Яна"),
        ];
        let b = Roster::new(&j, &[100_001, 100_002].into(), &key);
        assert_eq!(
            a.identity(Kind::Student, 1),
            b.identity(Kind::Student, 100_001)
        );
        assert_eq!(
            b.rows(Kind::Student, a.identity(Kind::Student, 2).unwrap()),
            [100_002]
        );
        // Another key gives other fingerprints: nothing to check a guessed name against.
        let c = Roster::new(&j, &[100_001].into(), &[8u8; 32]);
        assert_ne!(
            c.identity(Kind::Student, 100_001),
            b.identity(Kind::Student, 100_001)
        );
        // Only the pupils asked for are in the roster.
        assert!(!c.has(Kind::Student, 100_002));
    }

    #[test]
    fn an_external_id_wins_over_the_name_and_namesakes_share_an_identity() {
        let key = [1u8; 32];
        let guardians = ["Иванова", "Иванова", "Иванова"]
            .iter()
            .enumerate()
            .map(|(i, last)| Guardian {
                id: i as Id + 1,
                last_name: last.to_string(),
                first_name: "Мария".into(),
                middle_name: None,
                contact: None,
                delivery: Default::default(),
                consent_on: None,
            })
            .collect();
        let j = Journal {
            guardians,
            external_ids: vec![ExternalId {
                kind: "guardians".into(),
                local_id: 3,
                source: "oneroster".into(),
                external_id: "g-3".into(),
            }],
            ..Journal::default()
        };
        let r = Roster::new(&j, &BTreeSet::new(), &key);
        let one = r.identity(Kind::Guardian, 1).unwrap();
        assert!(one.starts_with('n'));
        assert_eq!(r.rows(Kind::Guardian, one), [1, 2]);
        let three = r.identity(Kind::Guardian, 3).unwrap();
        assert!(three.starts_with('x'));
        assert_eq!(r.rows(Kind::Guardian, three), [3]);
    }
}
