//! The private store (`.diary/` beside site.toml): the site's salt, the people codes are
//! bound to (by identity, see [`super::identity`]), every child's page id and data key,
//! every issued code with its derived key and the children it was sealed for, and the
//! manifest of what the last build published. It never goes into the output. Losing it
//! locks every family out until new codes are issued (docs/operations.md: back it up).
//!
//! Version 2 binds codes to people; a version-1 store (keys by journal row id) is read
//! and upgraded against the journal the first time it is opened ([`super::open`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::identity::Kind;
use crate::files::{exposed_mode, write_private};
use crate::journal::Id;
use crate::seal::{self, b64, unb64};

pub(crate) const STORE_FILE: &str = "store.json";
const MANIFEST_FILE: &str = "manifest.json";
/// The store format this diary writes.
pub(crate) const STORE_VERSION: u32 = 2;

/// A person's number in the store (never a journal id).
pub(crate) type PersonId = u32;

/// Someone a code is bound to: its holder, or a child it opens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Person {
    pub kind: Kind,
    /// The keyed fingerprint of [`super::identity`].
    pub identity: String,
    /// The journal row the person was found at last (a hint: identities decide).
    pub row: Id,
    /// Name (and class, for a pupil) as last seen, for messages and `codes list`.
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct CodeEntry {
    /// The normalized code (16 symbols), kept so slips can be printed again.
    pub code: String,
    pub slot: String,
    /// base64 of the 32-byte key the code derives; wraps the slot without a KDF run.
    pub kek: String,
    pub holder: PersonId,
    /// The children its slot was last sealed for.
    #[serde(default)]
    pub children: BTreeSet<PersonId>,
    /// Every child it was ever sealed for (all get new keys when the code is revoked).
    #[serde(default)]
    pub ever: BTreeSet<PersonId>,
    pub issued_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

impl CodeEntry {
    pub(crate) fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    pub(crate) fn kek(&self) -> Result<[u8; 32]> {
        key32(&self.kek).with_context(|| format!("bad key of slot {}", self.slot))
    }

    /// `…WXYZ`: how messages name a code without showing it.
    pub(crate) fn tail(&self) -> String {
        format!("…{}", &self.code[self.code.len().saturating_sub(4)..])
    }
}

/// A child's encrypted diary: where it is published and the key that seals it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct PageKeys {
    pub page: String,
    pub dek: String,
}

impl PageKeys {
    pub(crate) fn new() -> PageKeys {
        PageKeys {
            page: hex::encode(seal::random::<16>()),
            dek: b64(&seal::random::<32>()),
        }
    }

    pub(crate) fn dek(&self) -> Result<[u8; 32]> {
        key32(&self.dek).with_context(|| format!("bad key of page {}", self.page))
    }
}

impl Default for PageKeys {
    fn default() -> Self {
        PageKeys::new()
    }
}

fn key32(text: &str) -> Result<[u8; 32]> {
    let bytes = unb64(text)?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("a key must be 32 bytes"))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Store {
    pub v: u32,
    /// base64 of the site's 16-byte KDF salt.
    pub salt: String,
    /// The KDF iterations every code of this store was derived with.
    pub iterations: u32,
    /// base64 of the key of the manifest's keyed hashes and of identities.
    pub hash_key: String,
    pub people: BTreeMap<PersonId, Person>,
    /// Page keys by child.
    pub pages: BTreeMap<PersonId, PageKeys>,
    pub codes: Vec<CodeEntry>,
    /// A store of `diary demo`: demo codes at the lowest iteration count, for a demo
    /// journal only (a build with a real journal refuses it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    #[serde(skip)]
    dir: PathBuf,
}

/// A store as read from disk: current, or of version 1 (to be upgraded with the journal).
pub(crate) enum Stored {
    Current(Store),
    V1(StoreV1),
}

/// Version 1: page keys and holders by journal row id.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StoreV1 {
    pub salt: String,
    pub iterations: u32,
    pub hash_key: String,
    pub pages: BTreeMap<Id, PageKeys>,
    pub codes: Vec<CodeEntryV1>,
    #[serde(skip)]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CodeEntryV1 {
    pub code: String,
    pub slot: String,
    pub kek: String,
    pub holder: HolderV1,
    pub issued_at: String,
    #[serde(default)]
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub(crate) enum HolderV1 {
    Guardian(Id),
    Student(Id),
}

impl Stored {
    pub(crate) fn hash_key(&self) -> Result<[u8; 32]> {
        let text = match self {
            Stored::Current(s) => &s.hash_key,
            Stored::V1(s) => &s.hash_key,
        };
        key32(text).context("bad hash key in the private store")
    }
}

/// What the last build published of the diaries, kept beside the store: the keyed hash of
/// every diary file's plaintext (never a plain hash: marks are guessable), each group's
/// padded size and inputs, and the diary batch it belongs to. A manifest of protocol v1
/// reads too (its `page_size` is ignored; its page files are no longer published).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// The publication slot (`2026-11-23T15:00`) of the last diary batch.
    #[serde(default)]
    pub batch: String,
    /// The plaintext size every slot was padded to.
    #[serde(default)]
    pub slot_size: usize,
    /// Keyed hash of each diary file's content, by output path.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Each group of chunks (`now`, `term-…`) as it was published.
    #[serde(default)]
    pub groups: BTreeMap<String, GroupState>,
    /// How many children's diaries were published.
    #[serde(default)]
    pub diaries: usize,
}

/// One group of chunks as the last batch published it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct GroupState {
    /// The plaintext size every chunk of the group was padded to.
    pub size: usize,
    /// How many chunks it had.
    pub files: usize,
    /// Keyed digest of the journal rows the group's chunks show (earlier parts only).
    #[serde(default)]
    pub inputs: String,
}

impl Store {
    /// The store of a site, if one was made (`Ok(None)` when the folder has no store).
    /// A store that exists but cannot be read is an error: never silently a new one.
    pub(crate) fn load(dir: &Path) -> Result<Option<Stored>> {
        let path = dir.join(STORE_FILE);
        if !path.exists() {
            return Ok(None);
        }
        for p in [dir, path.as_path()] {
            if let Some(mode) = exposed_mode(p) {
                eprintln!("warning: {}", crate::files::exposure_message(p, mode));
            }
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the private store {}", path.display()))?;
        let damaged = || {
            format!(
                "the private store {} is damaged; restore it from a backup (docs/operations.md)",
                path.display()
            )
        };
        #[derive(Deserialize)]
        struct Version {
            v: u32,
        }
        let version: Version = serde_json::from_str(&text).with_context(damaged)?;
        let stored = match version.v {
            1 => {
                let mut s: StoreV1 = serde_json::from_str(&text).with_context(damaged)?;
                s.dir = dir.to_path_buf();
                Stored::V1(s)
            }
            STORE_VERSION => {
                let mut s: Store = serde_json::from_str(&text).with_context(damaged)?;
                s.dir = dir.to_path_buf();
                s.salt()?;
                Stored::Current(s)
            }
            v => bail!(
                "{} has version {v}; this diary reads versions 1 and {STORE_VERSION} (a newer \
                 diary wrote it: upgrade diary)",
                path.display()
            ),
        };
        stored.hash_key()?;
        Ok(Some(stored))
    }

    /// A new store with a fresh salt (not yet saved).
    pub(crate) fn create(dir: &Path, iterations: u32) -> Store {
        Store {
            v: STORE_VERSION,
            salt: b64(&seal::random::<16>()),
            iterations,
            hash_key: b64(&seal::random::<32>()),
            people: BTreeMap::new(),
            pages: BTreeMap::new(),
            codes: Vec::new(),
            demo: false,
            dir: dir.to_path_buf(),
        }
    }

    /// A store of version 1 in the current shape, before its people are bound (see
    /// [`super::binding::upgrade`]).
    pub(crate) fn from_v1_keys(v1: &StoreV1) -> Store {
        Store {
            v: STORE_VERSION,
            salt: v1.salt.clone(),
            iterations: v1.iterations,
            hash_key: v1.hash_key.clone(),
            people: BTreeMap::new(),
            pages: BTreeMap::new(),
            codes: Vec::new(),
            demo: false,
            dir: v1.dir.clone(),
        }
    }

    pub(crate) fn salt(&self) -> Result<Vec<u8>> {
        let s = unb64(&self.salt).context("bad salt in the private store")?;
        if s.len() != 16 {
            bail!("the private store's salt must be 16 bytes");
        }
        Ok(s)
    }

    pub(crate) fn hash_key(&self) -> Result<[u8; 32]> {
        key32(&self.hash_key).context("bad hash key in the private store")
    }

    /// Writes the store atomically, readable by its owner only.
    pub(crate) fn save(&self) -> Result<()> {
        write_private(
            &self.dir.join(STORE_FILE),
            &serde_json::to_vec_pretty(self)?,
        )
    }

    /// The manifest of the last build (empty when there is none or it is damaged: that
    /// only costs one full re-encryption).
    pub(crate) fn manifest(&self) -> Manifest {
        std::fs::read(self.dir.join(MANIFEST_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub(crate) fn save_manifest(&self, manifest: &Manifest) -> Result<()> {
        write_private(
            &self.dir.join(MANIFEST_FILE),
            &serde_json::to_vec_pretty(manifest)?,
        )
    }

    /// A new person number.
    pub(crate) fn add_person(&mut self, person: Person) -> PersonId {
        let id = self.people.keys().next_back().map_or(1, |k| k + 1);
        self.people.insert(id, person);
        id
    }

    /// The active code of a holder, if any.
    pub(crate) fn active_code(&self, holder: PersonId) -> Option<&CodeEntry> {
        self.codes
            .iter()
            .find(|c| c.holder == holder && c.is_active())
    }

    /// Finds an issued code by what a user typed.
    pub(crate) fn find_code(&self, typed: &str) -> Option<usize> {
        let code = seal::normalize_code(typed)?;
        self.codes.iter().position(|c| c.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::exposure;

    fn current(dir: &Path) -> Store {
        match Store::load(dir).unwrap().unwrap() {
            Stored::Current(s) => s,
            Stored::V1(_) => panic!("version 1"),
        }
    }

    #[test]
    fn round_trips_with_owner_only_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".diary");
        assert!(Store::load(&dir).unwrap().is_none());
        let mut s = Store::create(&dir, 100_000);
        let p = s.add_person(Person {
            kind: Kind::Student,
            identity: "nabc".into(),
            row: 7,
            label: "x".into(),
        });
        s.pages.insert(p, PageKeys::new());
        s.save().unwrap();
        let back = current(&dir);
        assert_eq!(back.salt, s.salt);
        assert_eq!(back.pages[&p].page, s.pages[&p].page);
        assert_eq!(back.people[&p], s.people[&p]);
        assert!(exposure(&dir).is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join(STORE_FILE), std::fs::Permissions::from_mode(0o644))
                .unwrap();
            let found = exposure(&dir);
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(found[0].contains("mode 644"), "{found:?}");
        }
    }

    #[test]
    fn a_damaged_store_is_an_error_not_a_new_store() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(STORE_FILE), "{ not json").unwrap();
        let err = Store::load(tmp.path()).err().unwrap();
        assert!(format!("{err:#}").contains("damaged"));
        std::fs::write(tmp.path().join(STORE_FILE), r#"{"v": 9}"#).unwrap();
        let err = Store::load(tmp.path()).err().unwrap();
        assert!(format!("{err:#}").contains("version 9"));
    }
}
