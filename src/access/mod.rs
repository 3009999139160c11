//! Who may open which diary: the private store of codes and keys ([`store`]), the people
//! codes are bound to ([`identity`], [`binding`]) and the `diary codes` commands
//! ([`codes`]). The sealing itself is [`crate::seal`]; publishing sealed diaries is
//! the `diary` build step. The protocol and its guarantees: docs/access.md.

pub(crate) mod binding;
pub(crate) mod codes;
pub(crate) mod identity;
pub(crate) mod store;

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Result, bail};
use chrono::NaiveDate;

use crate::config::Site;
use crate::journal::{Id, Journal};
use binding::{Bound, Conflicts};
use identity::Roster;
use store::{Store, Stored};

/// The private store opened against the journal as of a day: upgraded to the current
/// format, with the identities of the people of that day's academic year.
pub(crate) struct Session {
    pub store: Store,
    pub roster: Roster,
    /// The store was upgraded from an older format and must be saved.
    pub upgraded: bool,
}

/// The pupils of the academic year that holds `today` (those whose diaries are built).
pub(crate) fn pupils_of_year(j: &Journal, today: NaiveDate) -> BTreeSet<Id> {
    let Some(year) = j.year_for(today) else {
        return BTreeSet::new();
    };
    let classes: BTreeSet<Id> = j
        .classes_of_year(year.id)
        .into_iter()
        .map(|c| c.id)
        .collect();
    j.students
        .iter()
        .filter(|s| classes.contains(&s.class_id))
        .map(|s| s.id)
        .collect()
}

impl Session {
    /// Opens the store in `dir`, if there is one.
    pub(crate) fn open(dir: &Path, j: &Journal, today: NaiveDate) -> Result<Option<Session>> {
        let Some(stored) = Store::load(dir)? else {
            return Ok(None);
        };
        let roster = Roster::new(j, &pupils_of_year(j, today), &stored.hash_key()?);
        let (store, upgraded) = match stored {
            Stored::Current(s) => (s, false),
            Stored::V1(v1) => (binding::upgrade(&v1, j, &roster), true),
        };
        Ok(Some(Session {
            store,
            roster,
            upgraded,
        }))
    }

    /// A session on a new, empty store (not saved until asked).
    pub(crate) fn create(
        dir: &Path,
        iterations: u32,
        j: &Journal,
        today: NaiveDate,
    ) -> Result<Session> {
        let store = Store::create(dir, iterations);
        Session::around(store, j, today)
    }

    /// A session on a new store of demo codes, at the lowest iteration count.
    pub(crate) fn create_demo(dir: &Path, j: &Journal, today: NaiveDate) -> Result<Session> {
        let mut store = Store::create(dir, crate::config::MIN_KDF_ITERATIONS);
        store.demo = true;
        Session::around(store, j, today)
    }

    fn around(store: Store, j: &Journal, today: NaiveDate) -> Result<Session> {
        let roster = Roster::new(j, &pupils_of_year(j, today), &store.hash_key()?);
        Ok(Session {
            store,
            roster,
            upgraded: false,
        })
    }

    /// Binds every active code to the journal (see [`binding`]).
    pub(crate) fn bind(&mut self, j: &Journal) -> Result<Bound, Conflicts> {
        let mut bound = binding::bind(&mut self.store, j, &self.roster)?;
        bound.changed |= self.upgraded;
        Ok(bound)
    }

    pub(crate) fn save(&mut self) -> Result<()> {
        self.store.save()?;
        self.upgraded = false;
        Ok(())
    }
}

/// Opens a site's store for a command that needs one: an error naming `diary codes issue`
/// when no code was issued yet.
pub(crate) fn open_existing(site: &Site, j: &Journal, today: NaiveDate) -> Result<Session> {
    match Session::open(&site.store_path(), j, today)? {
        Some(s) => Ok(s),
        None => bail!(
            "no private store at {}: no codes were issued yet (`diary codes issue`)",
            site.store_path().display()
        ),
    }
}

/// Refuses a store of demo codes with a journal that is not a demo journal: demo codes
/// (at the lowest iteration count, printed on the terminal) never open a real school's
/// diaries.
pub(crate) fn check_demo(site: &Site, store: &Store, j: &Journal) -> Result<()> {
    if store.demo && !j.school.is_demo {
        bail!(
            "the private store {} holds the demo codes of `diary demo`, but the journal is not \
             a demo journal (school.is_demo = 0): demo codes never open a real school's \
             diaries. Delete {} and {} (the demo's codes and diaries), then `diary codes \
             issue` gives real codes",
            site.store_path().display(),
            site.store_path().display(),
            site.output_path().join("diary").display()
        );
    }
    Ok(())
}

/// Refuses a store that is not the one that sealed the diaries in the output folder: a
/// restored backup of another site, or a store made anew. Building with it would give every
/// family's code nothing to open.
pub(crate) fn check_published_salt(site: &Site, store: &Store) -> Result<()> {
    let public = site.output_path();
    let path = public.join("diary/params.json");
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(());
    };
    match crate::seal::params_salt(&bytes) {
        Some(salt) if salt == store.salt => Ok(()),
        _ => bail!(
            "the private store {} is not the one that sealed the published diaries: {} names \
             another salt, so no family's code would open anything after this build. Restore \
             this site's own store from its backup (docs/operations.md, \"Restoring the private \
             store\"). To start over on purpose, with new codes for every family, delete {} \
             first (and publish with `diary publish --force`). Nothing was changed",
            site.store_path().display(),
            path.display(),
            public.join("diary").display()
        ),
    }
}
