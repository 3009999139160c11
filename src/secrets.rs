//! The private store (`.diary/` beside site.toml): the site's salt, every child's page id
//! and data key, every issued code with its derived key, and the manifest of sealed
//! payloads. It never goes into the output. Losing it locks every family out until new
//! codes are issued (docs/operations.md says how to back it up).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::journal::Id;
use crate::seal::{self, b64, unb64};

const STORE_FILE: &str = "store.json";
const MANIFEST_FILE: &str = "manifest.json";

/// Who holds a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Holder {
    Guardian(Id),
    Student(Id),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeEntry {
    /// The normalized code (16 symbols), kept so slips can be printed again.
    pub code: String,
    pub slot: String,
    /// base64 of the 32-byte key the code derives; wraps the slot without a KDF run.
    pub kek: String,
    pub holder: Holder,
    pub issued_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

impl CodeEntry {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    pub fn kek(&self) -> Result<[u8; 32]> {
        key32(&self.kek).with_context(|| format!("bad key of slot {}", self.slot))
    }
}

/// A child's encrypted diary: where it is published and the key that seals it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageKeys {
    pub page: String,
    pub dek: String,
}

impl PageKeys {
    pub fn new() -> PageKeys {
        PageKeys {
            page: seal::hex(&seal::random::<16>()),
            dek: b64(&seal::random::<32>()),
        }
    }

    pub fn dek(&self) -> Result<[u8; 32]> {
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Store {
    pub v: u32,
    /// base64 of the site's 16-byte KDF salt.
    pub salt: String,
    /// The KDF iterations every code of this store was derived with.
    pub iterations: u32,
    /// base64 of the key of the manifest's keyed hashes.
    pub hash_key: String,
    /// Page keys by student id.
    pub pages: BTreeMap<Id, PageKeys>,
    pub codes: Vec<CodeEntry>,
    #[serde(skip)]
    dir: PathBuf,
}

/// Keyed hashes of the sealed payloads' plaintexts, by output path.
pub type Manifest = BTreeMap<String, String>;

impl Store {
    /// The store of a site, if one was made (`Ok(None)` when the folder has no store).
    /// A store that exists but cannot be read is an error: never silently a new one.
    pub fn load(dir: &Path) -> Result<Option<Store>> {
        let path = dir.join(STORE_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the private store {}", path.display()))?;
        let mut store: Store = serde_json::from_str(&text).with_context(|| {
            format!(
                "the private store {} is damaged; restore it from a backup (docs/operations.md)",
                path.display()
            )
        })?;
        if store.v != 1 {
            bail!(
                "{} has version {}; this diary reads version 1",
                path.display(),
                store.v
            );
        }
        store.dir = dir.to_path_buf();
        store.salt()?;
        store.hash_key()?;
        Ok(Some(store))
    }

    /// A new store with a fresh salt (not yet saved).
    pub fn create(dir: &Path, iterations: u32) -> Store {
        Store {
            v: 1,
            salt: b64(&seal::random::<16>()),
            iterations,
            hash_key: b64(&seal::random::<32>()),
            pages: BTreeMap::new(),
            codes: Vec::new(),
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn salt(&self) -> Result<Vec<u8>> {
        let s = unb64(&self.salt).context("bad salt in the private store")?;
        if s.len() != 16 {
            bail!("the private store's salt must be 16 bytes");
        }
        Ok(s)
    }

    pub fn hash_key(&self) -> Result<[u8; 32]> {
        key32(&self.hash_key).context("bad hash key in the private store")
    }

    /// Writes the store atomically, readable by its owner only.
    pub fn save(&self) -> Result<()> {
        write_private(&self.dir, STORE_FILE, &serde_json::to_vec_pretty(self)?)
    }

    pub fn manifest(&self) -> Result<Manifest> {
        let path = self.dir.join(MANIFEST_FILE);
        if !path.exists() {
            return Ok(Manifest::new());
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        // A damaged manifest only costs re-encryption: start afresh.
        Ok(serde_json::from_str(&text).unwrap_or_default())
    }

    pub fn save_manifest(&self, manifest: &Manifest) -> Result<()> {
        write_private(
            &self.dir,
            MANIFEST_FILE,
            &serde_json::to_vec_pretty(manifest)?,
        )
    }

    /// The active code of a holder, if any.
    pub fn active_code(&self, holder: Holder) -> Option<&CodeEntry> {
        self.codes
            .iter()
            .find(|c| c.holder == holder && c.is_active())
    }

    /// Finds an issued code by what a user typed.
    pub fn find_code(&self, typed: &str) -> Option<usize> {
        let code = seal::normalize_code(typed)?;
        self.codes.iter().position(|c| c.code == code)
    }
}

/// Creates the store folder (owner-only) and writes `name` in it atomically (0600).
fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    create_private_dir(dir)?;
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the private store {}", dir.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_owner_only_permissions() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".diary");
        assert!(Store::load(&dir).unwrap().is_none());
        let mut s = Store::create(&dir, 100_000);
        s.pages.insert(7, PageKeys::new());
        s.save().unwrap();
        let back = Store::load(&dir).unwrap().unwrap();
        assert_eq!(back.salt, s.salt);
        assert_eq!(back.pages[&7].page, s.pages[&7].page);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
            let mode = std::fs::metadata(dir.join(STORE_FILE))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn a_damaged_store_is_an_error_not_a_new_store() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(STORE_FILE), "{ not json").unwrap();
        let err = Store::load(tmp.path()).unwrap_err();
        assert!(format!("{err:#}").contains("damaged"));
    }
}
