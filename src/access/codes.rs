//! `diary codes …`: issue, list, revoke, confirm and print access codes.
//!
//! A code belongs to a holder: a guardian listed in the journal (one code opens all of that
//! guardian's children), else the pupil. The KDF runs here, once per code, and its result is
//! kept in the private store so builds never run it. Codes are bound to people, not rows
//! (see [`super::binding`]).

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use chrono::NaiveDate;
use rayon::prelude::*;

use super::Session;
use super::binding::{Place, Places};
use super::identity::Kind;
use super::store::{CodeEntry, PageKeys};
use crate::config::Site;
use crate::journal::{Class, Delivery, Id, Journal, Student};
use crate::seal;

/// Which pupils a command is about.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scope {
    /// A class name ("5Б") or its URL name ("5b").
    pub class: Option<String>,
    pub student: Option<Id>,
}

impl Scope {
    /// The pupils in scope, by class then name.
    pub(crate) fn students<'j>(&self, j: &'j Journal) -> Result<Vec<&'j Student>> {
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

    fn is_everyone(&self) -> bool {
        self.class.is_none() && self.student.is_none()
    }
}

fn class_key(j: &Journal, class_id: Id) -> (i64, String) {
    j.class(class_id)
        .map(|c| (c.grade, c.letter.clone()))
        .unwrap_or_default()
}

/// Finds a class by its name or URL name; the error lists the classes there are.
pub(crate) fn find_class<'j>(j: &'j Journal, name: &str) -> Result<&'j Class> {
    let wanted = name.trim();
    j.classes
        .iter()
        .filter(|c| c.name == wanted || crate::text::slug(&c.name) == wanted.to_lowercase())
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
pub(crate) fn holders_of(j: &Journal, student: Id) -> Vec<(Kind, Id)> {
    let guardians = j.guardians_of(student);
    if guardians.is_empty() {
        vec![(Kind::Student, student)]
    } else {
        guardians.into_iter().map(|g| (Kind::Guardian, g)).collect()
    }
}

/// What `codes issue` did.
#[derive(Debug, Default)]
pub(crate) struct Issued {
    pub new_codes: usize,
    pub already: usize,
    pub pupils: usize,
    /// Guardians skipped because their family receives the diary on paper.
    pub paper: usize,
    /// Pupils given no code of their own because their family receives the diary on paper.
    pub paper_pupils: usize,
    /// Guardians with a code (new or not) and no consent date in the journal.
    pub no_consent: usize,
}

/// Which pupils `codes issue --pupils` gives a code of their own.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PupilCodes {
    /// Only pupils with no guardian in the journal (their code is their family's).
    #[default]
    None,
    /// Every pupil in scope from this grade on, besides their guardians.
    FromGrade(i64),
}

/// Issues a code to every holder in scope that has none: each guardian who receives the
/// diary online, and pupils as `pupils` says. Creates the store if there is none
/// (refusing when the published site shows a store existed: see [`open_for_issue`]).
/// Refuses, like a build, when codes no longer match the journal.
pub(crate) fn issue(
    site: &Site,
    j: &Journal,
    scope: &Scope,
    pupils: PupilCodes,
    today: NaiveDate,
) -> Result<Issued> {
    issue_with(site, j, scope, pupils, today, false)
}

/// Issues demo codes (for `diary demo`): a new store is a demo store, at the lowest
/// iteration count. Refused for a journal that is not a demo journal, and into a store of
/// real codes.
pub(crate) fn issue_demo(site: &Site, j: &Journal, today: NaiveDate) -> Result<Issued> {
    if !j.school.is_demo {
        bail!("demo codes are only for a demo journal (school.is_demo = 1)");
    }
    issue_with(site, j, &Scope::default(), PupilCodes::None, today, true)
}

/// A family that receives the diary on paper: guardians in the journal, none of them online.
fn family_on_paper(j: &Journal, student: Id) -> bool {
    let guardians = j.guardians_of(student);
    !guardians.is_empty()
        && guardians.iter().all(|g| {
            j.guardian(*g)
                .is_some_and(|g| g.delivery == Delivery::Paper)
        })
}

fn issue_with(
    site: &Site,
    j: &Journal,
    scope: &Scope,
    pupils: PupilCodes,
    today: NaiveDate,
    demo: bool,
) -> Result<Issued> {
    let students = scope.students(j)?;
    if students.is_empty() {
        bail!("no pupils in scope");
    }
    let mut session = open_for_issue(site, j, today, demo)?;
    if demo && !session.store.demo {
        bail!(
            "the private store {} holds real codes: no demo codes are added to it",
            site.store_path().display()
        );
    }
    super::check_demo(site, &session.store, j)?;
    super::check_published_salt(site, &session.store)?;
    session.bind(j)?;
    let year = super::pupils_of_year(j, today);
    let mut holders = BTreeSet::new();
    let mut paper = BTreeSet::new();
    let mut paper_pupils = 0;
    let mut pupils_in_year = 0;
    for s in students.iter().filter(|s| year.contains(&s.id)) {
        pupils_in_year += 1;
        if let PupilCodes::FromGrade(from) = pupils
            && j.class(s.class_id).is_some_and(|c| c.grade >= from)
        {
            if family_on_paper(j, s.id) {
                paper_pupils += 1;
            } else {
                holders.insert((Kind::Student, s.id));
            }
        }
        for (kind, row) in holders_of(j, s.id) {
            let on_paper = kind == Kind::Guardian
                && j.guardian(row)
                    .is_some_and(|g| g.delivery == Delivery::Paper);
            if on_paper {
                paper.insert(row);
            } else {
                holders.insert((kind, row));
            }
        }
    }
    if pupils_in_year == 0 {
        bail!("no pupils of the current academic year in scope");
    }
    let no_consent = holders
        .iter()
        .filter(|(kind, row)| {
            *kind == Kind::Guardian && j.guardian(*row).is_some_and(|g| g.consent_on.is_none())
        })
        .count();
    let store = &mut session.store;
    let mut places = Places::locate(store, &session.roster);
    let mut have = 0;
    let mut need = Vec::new();
    for (kind, row) in holders {
        let pid = places.person_at(store, &session.roster, j, kind, row);
        if store.active_code(pid).is_some() {
            have += 1;
        } else {
            need.push(pid);
        }
    }
    let salt = store.salt()?;
    let iterations = store.iterations;
    // The slow part: one KDF run per new code, spread over the cores.
    let fresh: Vec<CodeEntry> = need
        .par_iter()
        .map(|holder| {
            let code = seal::new_code();
            let d = seal::derive(&code, &salt, iterations);
            CodeEntry {
                code,
                slot: d.slot,
                kek: seal::b64(&d.kek),
                holder: *holder,
                children: BTreeSet::new(),
                ever: BTreeSet::new(),
                issued_at: today.to_string(),
                revoked_at: None,
            }
        })
        .collect();
    let new_codes = fresh.len();
    store.codes.extend(fresh);
    let pages_before = store.pages.len();
    session.bind(j)?;
    let issued = Issued {
        new_codes,
        already: have,
        pupils: session.store.pages.len() - pages_before,
        paper: paper.len(),
        paper_pupils,
        no_consent,
    };
    session.save()?;
    Ok(issued)
}

/// The store `codes issue` writes into. A missing store is created, unless the published
/// site has diaries: then the store was lost, and a new salt would lock every family out.
fn open_for_issue(site: &Site, j: &Journal, today: NaiveDate, demo: bool) -> Result<Session> {
    let dir = site.store_path();
    if let Some(session) = Session::open(&dir, j, today)? {
        return Ok(session);
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
    if demo {
        Session::create_demo(&dir, j, today)
    } else {
        Session::create(&dir, site.config.access.iterations, j, today)
    }
}

/// Finds a code by what the user typed: the whole code, or its last four symbols when no
/// other code ends with them (as build messages name codes).
fn find_code(session: &Session, typed: &str) -> Result<usize> {
    let cleaned: String = typed
        .trim()
        .trim_start_matches('…')
        .trim_start_matches("...")
        .to_string();
    if let Some(i) = session.store.find_code(&cleaned) {
        return Ok(i);
    }
    if seal::normalize_code(&cleaned).is_some() {
        bail!("this code was not issued by this site");
    }
    let tail = seal::normalize_tail(&cleaned).ok_or_else(|| {
        anyhow::anyhow!(
            "{typed:?} is not a code (16 symbols: 0-9 and A-Z without I, L, O, U) nor the last \
             4 symbols of one"
        )
    })?;
    let found: Vec<usize> = session
        .store
        .codes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.code.ends_with(&tail))
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => bail!("no code of this site ends with {tail}"),
        _ => bail!(
            "{} codes end with {tail}; give the whole code (see `diary codes list`)",
            found.len()
        ),
    }
}

/// A code to show the user of `diary demo`: the code, its holder and the first names of
/// the children it opens.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub code: String,
    pub holder: String,
    pub children: Vec<String>,
}

/// Two codes of the store to try the diary with: one of a family with two children or
/// more, one of a family with one.
pub(crate) fn samples(site: &Site, j: &Journal, today: NaiveDate) -> Result<Vec<Sample>> {
    let Some(session) = Session::open(&site.store_path(), j, today)? else {
        return Ok(Vec::new());
    };
    let store = &session.store;
    let places = Places::locate(store, &session.roster);
    let sample = |c: &CodeEntry| -> Option<Sample> {
        let children: Vec<String> = c
            .children
            .iter()
            .filter_map(|pid| match places.get(*pid) {
                Place::At(row) => j.student(row).map(|s| s.first_name.clone()),
                _ => None,
            })
            .collect();
        let holder = match places.get(c.holder) {
            Place::At(row) => super::binding::label(j, store.people[&c.holder].kind, row),
            _ => return None,
        };
        Some(Sample {
            code: seal::format_code(&c.code),
            holder,
            children,
        })
    };
    let active: Vec<Sample> = store
        .codes
        .iter()
        .filter(|c| c.is_active())
        .filter_map(sample)
        .collect();
    let mut out = Vec::new();
    if let Some(two) = active.iter().find(|s| s.children.len() >= 2) {
        out.push(two.clone());
    }
    if let Some(one) = active.iter().find(|s| s.children.len() == 1) {
        out.push(one.clone());
    }
    Ok(out)
}

/// What `codes revoke` did.
#[derive(Debug)]
pub(crate) struct Revoked {
    pub holder: String,
    pub rekeyed: usize,
}

/// Revokes a code: its slot leaves the site at the next build, and every child it was ever
/// sealed for gets a new page id and data key, so a copy of the old keys opens nothing new.
/// Needs no agreement of the journal: a holder already unlinked is revoked all the same.
pub(crate) fn revoke(site: &Site, j: &Journal, typed: &str, today: NaiveDate) -> Result<Revoked> {
    let mut session = super::open_existing(site, j, today)?;
    let i = find_code(&session, typed)?;
    let store = &mut session.store;
    if !store.codes[i].is_active() {
        bail!(
            "this code was already revoked on {}",
            store.codes[i].revoked_at.as_deref().unwrap_or("?")
        );
    }
    store.codes[i].revoked_at = Some(today.to_string());
    let children: BTreeSet<_> = store.codes[i]
        .ever
        .union(&store.codes[i].children)
        .copied()
        .collect();
    for child in &children {
        store.pages.insert(*child, PageKeys::new());
    }
    let holder = store.people[&store.codes[i].holder].label.clone();
    session.save()?;
    Ok(Revoked {
        holder,
        rekeyed: children.len(),
    })
}

/// `codes confirm`: accepts the journal as it is now for one code (a holder or child
/// renamed, or rows numbered anew); see [`super::binding::confirm`]. Returns the changes.
pub(crate) fn confirm(
    site: &Site,
    j: &Journal,
    typed: &str,
    today: NaiveDate,
) -> Result<Vec<String>> {
    let mut session = super::open_existing(site, j, today)?;
    let i = find_code(&session, typed)?;
    if !session.store.codes[i].is_active() {
        bail!("this code was revoked; there is nothing to confirm");
    }
    let changes = super::binding::confirm(&mut session.store, j, &session.roster, i)?;
    // The code must bind now; other codes may still need their own confirmation.
    let mut probe = session.store.clone();
    if let Err(conflicts) = super::binding::bind(&mut probe, j, &session.roster)
        && let Some(c) = conflicts
            .0
            .iter()
            .find(|c| c.tail == session.store.codes[i].tail())
    {
        bail!(
            "code {} still does not match the journal: {:?}",
            c.tail,
            c.problems
        );
    }
    session.save()?;
    Ok(changes)
}

/// One row of `codes list`: a code and one pupil it opens.
#[derive(Debug, Clone)]
pub(crate) struct ListRow {
    pub code: String,
    /// The pupil's journal id (none when the pupil is no longer in the journal).
    pub student_id: Option<Id>,
    pub student_name: String,
    pub class: String,
    pub holder: String,
    /// "guardian", or "pupil" for a pupil's own code.
    pub holder_kind: &'static str,
    pub issued_at: String,
    pub status: String,
}

/// Every code (active and revoked) that opens a pupil in scope: active codes with the
/// children they open now, revoked ones with every child they opened. Without a scope,
/// codes that open nobody now are listed too, with an empty pupil.
pub(crate) fn list(
    site: &Site,
    j: &Journal,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<ListRow>> {
    let Some(session) = Session::open(&site.store_path(), j, today)? else {
        return Ok(Vec::new());
    };
    let store = &session.store;
    let places = Places::locate(store, &session.roster);
    let in_scope: BTreeSet<Id> = scope.students(j)?.iter().map(|s| s.id).collect();
    let mut rows = Vec::new();
    for c in &store.codes {
        let status = match &c.revoked_at {
            None => "active".to_string(),
            Some(d) => format!("revoked {d}"),
        };
        let children = if c.is_active() { &c.children } else { &c.ever };
        let holder = match places.get(c.holder) {
            Place::At(row) => super::binding::label(j, store.people[&c.holder].kind, row),
            _ => store.people[&c.holder].label.clone(),
        };
        let holder_kind = store.people[&c.holder].kind.noun();
        let mut listed = 0;
        for pid in children {
            let row = match places.get(*pid) {
                Place::At(row) => Some(row),
                _ => None,
            };
            let student = row.and_then(|r| j.student(r));
            if !scope.is_everyone() && !student.is_some_and(|s| in_scope.contains(&s.id)) {
                continue;
            }
            listed += 1;
            rows.push(ListRow {
                code: seal::format_code(&c.code),
                student_id: student.map(|s| s.id),
                student_name: match student {
                    Some(s) => s.full_name(),
                    None => store.people[pid].label.clone(),
                },
                class: student
                    .and_then(|s| j.class(s.class_id))
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                holder: holder.clone(),
                holder_kind,
                issued_at: c.issued_at.clone(),
                status: status.clone(),
            });
        }
        if listed == 0 && scope.is_everyone() {
            rows.push(ListRow {
                code: seal::format_code(&c.code),
                student_id: None,
                student_name: String::new(),
                class: String::new(),
                holder,
                holder_kind,
                issued_at: c.issued_at.clone(),
                status,
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
            delivery: Default::default(),
            consent_on: None,
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

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn issue_list_revoke_and_confirm_on_a_demo_school() {
        let (_tmp, site) = crate::demo::test_site(20);
        let j = crate::check::load(&site).unwrap().journal;
        let issued = issue(&site, &j, &Scope::default(), PupilCodes::None, day()).unwrap();
        assert!(issued.new_codes > 0);
        // The demo has a few families on paper only: their children get no code.
        let online = crate::demo::pupils_online(&j);
        assert!((1..20).contains(&online.len()), "{online:?}");
        assert_eq!(
            issued.pupils,
            online.len(),
            "every pupil with a guardian online gets page keys"
        );
        // Again: everyone has a code already.
        let again = issue(&site, &j, &Scope::default(), PupilCodes::None, day()).unwrap();
        assert_eq!((again.new_codes, again.already), (0, issued.new_codes));

        let rows = list(&site, &j, &Scope::default(), day()).unwrap();
        assert!(
            rows.iter()
                .all(|r| r.status == "active" && r.student_id.is_some())
        );
        let pupils: BTreeSet<Id> = rows.iter().filter_map(|r| r.student_id).collect();
        assert_eq!(pupils, online, "every such pupil is opened by some code");

        // A code is found by its last four symbols when no other code ends with them.
        let session = super::super::open_existing(&site, &j, day()).unwrap();
        let code = session.store.codes[0].code.clone();
        let unique_tail = session
            .store
            .codes
            .iter()
            .filter(|c| c.code.ends_with(&code[12..]))
            .count()
            == 1;
        if unique_tail {
            assert_eq!(find_code(&session, &code[12..]).unwrap(), 0);
        }
        assert!(find_code(&session, "0000-0000-0000-0000").is_err());
        assert!(find_code(&session, "not a code").is_err());

        // Nothing changed: nothing to confirm.
        assert!(confirm(&site, &j, &code, day()).unwrap().is_empty());

        // Revoking re-keys every child the code was sealed for.
        let before = session.store.codes[0].ever.clone();
        let pages: Vec<String> = before
            .iter()
            .map(|p| session.store.pages[p].page.clone())
            .collect();
        let revoked = revoke(&site, &j, &code, day()).unwrap();
        assert_eq!(revoked.rekeyed, before.len());
        let after = super::super::open_existing(&site, &j, day()).unwrap();
        for (pid, old) in before.iter().zip(&pages) {
            assert_ne!(&after.store.pages[pid].page, old);
        }
        assert!(revoke(&site, &j, &code, day()).is_err(), "already revoked");
        let rows = list(&site, &j, &Scope::default(), day()).unwrap();
        assert!(rows.iter().any(|r| r.status.starts_with("revoked")));
    }

    #[test]
    fn a_guardian_holds_one_code_for_all_children() {
        let j = journal();
        assert_eq!(holders_of(&j, 1), vec![(Kind::Guardian, 5)]);
        assert_eq!(holders_of(&j, 2), vec![(Kind::Student, 2)]);
        assert_eq!(j.children_by_guardian()[&5], vec![1, 3]);
    }
}
