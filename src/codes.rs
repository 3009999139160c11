//! `diary codes …`: issue, list, revoke and print access codes.
//!
//! A code belongs to a holder: a guardian listed in the journal (one code opens all of that
//! guardian's children), else the pupil. The KDF runs here, once per code, and its result is
//! kept in the private store so builds never run it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use rayon::prelude::*;

use crate::config::Site;
use crate::journal::{Class, Id, Journal, Student};
use crate::seal;
use crate::secrets::{CodeEntry, Holder, PageKeys, Store};

/// Which pupils a command is about.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    /// A class name ("5Б") or its URL name ("5b").
    pub class: Option<String>,
    pub student: Option<Id>,
}

impl Scope {
    /// The pupils in scope, by class then name.
    pub fn students<'j>(&self, j: &'j Journal) -> Result<Vec<&'j Student>> {
        let class_id = match &self.class {
            None => None,
            Some(name) => Some(find_class(j, name)?.id),
        };
        if let Some(id) = self.student
            && j.student(id).is_none()
        {
            bail!("no pupil with id {id} in the journal");
        }
        let mut out: Vec<&Student> = j
            .students
            .iter()
            .filter(|s| class_id.is_none_or(|c| s.class_id == c))
            .filter(|s| self.student.is_none_or(|id| s.id == id))
            .collect();
        out.sort_by_key(|s| {
            (
                class_key(j, s.class_id),
                s.last_name.clone(),
                s.first_name.clone(),
                s.id,
            )
        });
        Ok(out)
    }
}

fn class_key(j: &Journal, class_id: Id) -> (i64, String) {
    j.class(class_id)
        .map(|c| (c.grade, c.letter.clone()))
        .unwrap_or_default()
}

/// Finds a class by its name or URL name; the error lists the classes there are.
pub fn find_class<'j>(j: &'j Journal, name: &str) -> Result<&'j Class> {
    let wanted = name.trim();
    j.classes
        .iter()
        .filter(|c| c.name == wanted || crate::views::slug(&c.name) == wanted.to_lowercase())
        .max_by_key(|c| c.year_id)
        .ok_or_else(|| {
            let mut names: Vec<&str> = j.classes.iter().map(|c| c.name.as_str()).collect();
            names.sort();
            names.dedup();
            anyhow::anyhow!(
                "no class named {wanted:?}; the journal has: {}",
                names.join(", ")
            )
        })
}

/// The holders of a pupil: the guardians, else the pupil.
pub fn holders_of(j: &Journal, student: Id) -> Vec<Holder> {
    let guardians: Vec<Holder> = j
        .student_guardians
        .iter()
        .filter(|sg| sg.student_id == student && j.guardian(sg.guardian_id).is_some())
        .map(|sg| Holder::Guardian(sg.guardian_id))
        .collect();
    if guardians.is_empty() {
        vec![Holder::Student(student)]
    } else {
        guardians
    }
}

/// The pupils a holder's code opens, by id.
pub fn children_of(j: &Journal, holder: Holder) -> Vec<Id> {
    match holder {
        Holder::Student(id) => j.student(id).map(|s| vec![s.id]).unwrap_or_default(),
        Holder::Guardian(g) => {
            let set: BTreeSet<Id> = j
                .student_guardians
                .iter()
                .filter(|sg| sg.guardian_id == g && j.student(sg.student_id).is_some())
                .map(|sg| sg.student_id)
                .collect();
            set.into_iter().collect()
        }
    }
}

/// The holder's name as printed on slips and lists.
pub fn holder_name(j: &Journal, holder: Holder) -> String {
    match holder {
        Holder::Guardian(g) => j
            .guardian(g)
            .map(|g| {
                crate::journal::full_name(&g.last_name, &g.first_name, g.middle_name.as_deref())
            })
            .unwrap_or_else(|| format!("guardian {g}")),
        Holder::Student(s) => j
            .student(s)
            .map(|s| s.full_name())
            .unwrap_or_else(|| format!("pupil {s}")),
    }
}

/// What `codes issue` did.
#[derive(Debug, Default)]
pub struct Issued {
    pub new_codes: usize,
    pub already: usize,
    pub pupils: usize,
}

/// Issues a code to every holder in scope that has none. Creates the store if there is none
/// (refusing when the published site shows a store existed: see [`open_store_for_issue`]).
pub fn issue(site: &Site, j: &Journal, scope: &Scope, today: &str) -> Result<Issued> {
    let students = scope.students(j)?;
    if students.is_empty() {
        bail!("no pupils in scope");
    }
    let mut store = open_store_for_issue(site)?;
    let mut holders = BTreeSet::new();
    for s in &students {
        holders.extend(holders_of(j, s.id));
    }
    let (have, need): (Vec<Holder>, Vec<Holder>) = holders
        .into_iter()
        .partition(|h| store.active_code(*h).is_some());
    let salt = store.salt()?;
    let iterations = store.iterations;
    // The slow part: one KDF run per new code, spread over the cores.
    let fresh: Vec<CodeEntry> = need
        .par_iter()
        .map(|h| {
            let code = seal::new_code();
            let d = seal::derive(&code, &salt, iterations);
            CodeEntry {
                code,
                slot: d.slot,
                kek: seal::b64(&d.kek),
                holder: *h,
                issued_at: today.to_string(),
                revoked_at: None,
            }
        })
        .collect();
    let mut pupils = 0;
    for h in need.iter().chain(&have) {
        for child in children_of(j, *h) {
            if let std::collections::btree_map::Entry::Vacant(e) = store.pages.entry(child) {
                e.insert(PageKeys::new());
                pupils += 1;
            }
        }
    }
    let issued = Issued {
        new_codes: fresh.len(),
        already: have.len(),
        pupils,
    };
    store.codes.extend(fresh);
    store.save()?;
    Ok(issued)
}

/// The store `codes issue` writes into. A missing store is created, unless the published
/// site has diaries: then the store was lost, and a new salt would lock every family out.
fn open_store_for_issue(site: &Site) -> Result<Store> {
    let dir = site.store_path();
    if let Some(store) = Store::load(&dir)? {
        return Ok(store);
    }
    if site.output_path().join("diary/params.json").exists() {
        bail!(
            "the private store {} is missing, but {} has published diaries: restore the store \
             from a backup (docs/operations.md). Making a new one would lock every family out; \
             if that is really wanted, delete {}/diary first",
            dir.display(),
            site.output_path().display(),
            site.output_path().display()
        );
    }
    Ok(Store::create(&dir, site.config.access.iterations))
}

/// Revokes a code: its slot leaves the site at the next build, and every child it opened
/// gets a new page id and data key, so a copy of the old key opens nothing new.
pub fn revoke(site: &Site, j: &Journal, typed: &str, today: &str) -> Result<usize> {
    if seal::normalize_code(typed).is_none() {
        bail!("{typed:?} is not a code (16 symbols: 0-9 and A-Z without I, L, O, U)");
    }
    let mut store = Store::load(&site.store_path())?.ok_or_else(|| {
        anyhow::anyhow!(
            "no private store at {}: no codes were issued",
            site.store_path().display()
        )
    })?;
    let Some(i) = store.find_code(typed) else {
        bail!("this code was not issued by this site");
    };
    if !store.codes[i].is_active() {
        bail!(
            "this code was already revoked on {}",
            store.codes[i].revoked_at.as_deref().unwrap_or("?")
        );
    }
    store.codes[i].revoked_at = Some(today.to_string());
    let children = children_of(j, store.codes[i].holder);
    for child in &children {
        store.pages.insert(*child, PageKeys::new());
    }
    store.save()?;
    Ok(children.len())
}

/// One row of `codes list`: a code and one pupil it opens.
#[derive(Debug, Clone)]
pub struct ListRow {
    pub code: String,
    pub student_id: Id,
    pub student_name: String,
    pub class: String,
    pub holder: String,
    pub issued_at: String,
    pub status: String,
}

/// Every code (active and revoked) that opens a pupil in scope.
pub fn list(site: &Site, j: &Journal, scope: &Scope) -> Result<Vec<ListRow>> {
    let Some(store) = Store::load(&site.store_path())? else {
        return Ok(Vec::new());
    };
    let students = scope.students(j)?;
    let in_scope: BTreeMap<Id, &Student> = students.iter().map(|s| (s.id, *s)).collect();
    let mut rows = Vec::new();
    for s in &students {
        for c in &store.codes {
            if !children_of(j, c.holder).contains(&s.id) {
                continue;
            }
            let student = in_scope[&s.id];
            rows.push(ListRow {
                code: seal::format_code(&c.code),
                student_id: student.id,
                student_name: student.full_name(),
                class: j
                    .class(student.class_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                holder: holder_name(j, c.holder),
                issued_at: c.issued_at.clone(),
                status: match &c.revoked_at {
                    None => "active".into(),
                    Some(d) => format!("revoked {d}"),
                },
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Guardian, StudentGuardian};

    fn journal() -> Journal {
        let mut j = Journal::default();
        for (id, class) in [(1, 10), (2, 10), (3, 11)] {
            j.students.push(Student {
                id,
                class_id: class,
                last_name: "Л".into(),
                first_name: format!("И{id}"),
                middle_name: None,
            });
        }
        j.guardians.push(Guardian {
            id: 5,
            last_name: "Г".into(),
            first_name: "М".into(),
            middle_name: None,
            contact: None,
        });
        for s in [1, 3] {
            j.student_guardians.push(StudentGuardian {
                student_id: s,
                guardian_id: 5,
                relation: None,
            });
        }
        j
    }

    #[test]
    fn a_guardian_holds_one_code_for_all_children() {
        let j = journal();
        assert_eq!(holders_of(&j, 1), vec![Holder::Guardian(5)]);
        assert_eq!(holders_of(&j, 2), vec![Holder::Student(2)]);
        assert_eq!(children_of(&j, Holder::Guardian(5)), vec![1, 3]);
        assert_eq!(children_of(&j, Holder::Student(2)), vec![2]);
    }
}
