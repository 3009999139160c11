//! The build step that publishes sealed diaries: `diary/params.json`, the unlock page,
//! one page file per child and one slot file per live code (docs/access.md).
//!
//! - **Who**: every code is bound to its holder and children by identity first
//!   ([`crate::access::binding`]); a child who left a code's set has new keys by now.
//! - **When**: diaries go out in batches ([`batch`]); between two batches the diary files
//!   are those of the last batch, byte for byte. `--now` publishes at once, and so does any
//!   change of who opens what (a code issued or revoked, a child unlinked).
//! - **How big**: every page is padded to one size, every slot to one size, so file sizes
//!   tell nothing about a child.
//! - **Guards**: a store that did not seal the published diaries, or a build that would
//!   drop more than a tenth of them, stops the build before anything is written.
//!
//! No KDF runs here: each code's key was derived when it was issued and kept in the private
//! store. The private manifest keeps a keyed hash of each payload's data, so an unchanged
//! diary is not rendered again (its plaintext is taken from the file published before).

pub(crate) mod batch;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::NaiveDateTime;
use rayon::prelude::*;

use crate::access::binding::Bound;
use crate::access::{self, Session, store::Manifest, store::Store};
use crate::check::Loaded;
use crate::journal::{Id, Journal, Student};
use crate::output::{Output, loses_a_tenth};
use crate::render::Renderer;
use crate::seal::{self, SlotChild, SlotContent};
use crate::views::{ClassParts, ClassRef, DiaryIndex, HomeworkIndex, Inputs};
use batch::Schedule;

/// How the diary step runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DiaryOptions {
    /// The moment of the build, in the school's timezone (which batch it belongs to).
    pub moment: NaiveDateTime,
    /// Publish changed diaries now, whatever the schedule.
    pub now: bool,
    /// Build even when more than a tenth of the diaries would disappear.
    pub force: bool,
}

/// What the diary step produced.
#[derive(Debug, Default)]
pub(crate) struct Sealed {
    pub pages: usize,
    pub slots: usize,
    /// Files encrypted anew (changed plaintext, or every file at a batch with changes).
    pub resealed: usize,
    /// Between two batches: the diaries stay as published until this moment.
    pub held_until: Option<NaiveDateTime>,
    /// Children given new keys by this build (they left a code's set).
    pub rekeyed: usize,
    /// Active codes whose holder is no longer in the journal.
    pub dormant: usize,
    /// The build wrote the private store (new keys, people found at new rows).
    pub store_changed: bool,
    /// The manifest to save once the output is committed.
    pub manifest: Manifest,
    pub store: Option<Store>,
}

/// The smallest size every slot plaintext is padded to: room for 8 children.
pub(crate) const SLOT_SIZE: usize = 2048;

/// Adds the diary files to `out`. Unchanged payloads are taken from the output folder of
/// the last build.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_diaries(
    loaded: &Loaded,
    inputs: &Inputs,
    renderer: &Renderer,
    refs: &[ClassRef],
    hw: &HomeworkIndex,
    theme_fingerprint: &[u8; 32],
    options: DiaryOptions,
    out: &mut Output,
) -> Result<Sealed> {
    let site = &loaded.site;
    let previous = &site.output_path();
    let j = &loaded.journal;
    let Some(mut session) = open_store(loaded, inputs.today)? else {
        return Ok(Sealed::default());
    };
    let bound = session.bind(j)?;
    if bound.changed {
        // New keys are kept before anything is published with them.
        session.save()?;
    }
    let store = &session.store;
    let hash_key = store.hash_key()?;
    let old = store.manifest();

    out.write_output(
        "diary/params.json",
        seal::params_json(&store.salt()?, store.iterations),
    )?;
    let unlock = renderer.page("diary.html", "diary/index.html", "", &inputs.common())?;
    out.write_output("diary/index.html", unlock)?;

    let plan = Plan::new(j, refs, store, &bound, &hash_key)?;
    guard_drop(
        previous,
        &old,
        plan.children.len(),
        plan.slots.len(),
        options.force,
    )?;

    // A batch now, or the diaries as the last batch left them?
    let previous_ok = !old.files.is_empty() && old.files.keys().all(|p| previous.join(p).is_file());
    let paths_before: BTreeSet<&str> = old.files.keys().map(String::as_str).collect();
    let access_changed = plan.paths() != paths_before
        || plan
            .slots
            .iter()
            .any(|slot| old.files.get(&slot.path) != Some(&slot.hash));
    let schedule = Schedule {
        times: site.config.access.publish_times(),
    };
    let mut sealed = Sealed {
        pages: plan.children.len(),
        slots: plan.slots.len(),
        rekeyed: bound.rekeyed.len(),
        dormant: bound.dormant.len(),
        store_changed: bound.changed,
        ..Sealed::default()
    };
    let due =
        options.now || !previous_ok || access_changed || schedule.due(&old.batch, options.moment);
    if !due {
        carry_forward(previous, &old, out)?;
        sealed.held_until = schedule.next(options.moment);
        sealed.manifest = old;
        sealed.store = Some(session.store);
        return Ok(sealed);
    }

    let batch = Batch {
        inputs,
        renderer,
        hw,
        theme_fingerprint,
        hash_key: &hash_key,
        previous,
        old: &old,
    };
    let payloads = batch.payloads(loaded, refs, &plan)?;

    // One size for every page, one for every slot.
    let page_size = payloads
        .iter()
        .map(|p| seal::page_size_for(&p.zipped))
        .max()
        .unwrap_or(seal::PAD)
        .max(old.page_size);
    let slot_size = plan
        .slots
        .iter()
        .map(|slot| slot.json.len().div_ceil(1024) * 1024)
        .max()
        .unwrap_or(0)
        .max(SLOT_SIZE)
        .max(old.slot_size);
    let any_change = !previous_ok
        || access_changed
        || payloads.iter().any(|p| p.changed)
        || page_size != old.page_size
        || slot_size != old.slot_size;
    let mut manifest = Manifest {
        batch: schedule.slot(options.moment),
        page_size,
        slot_size,
        files: BTreeMap::new(),
    };
    if any_change {
        // Every page and every slot sealed anew, with fresh nonces: all files change.
        let pages: Vec<Vec<u8>> = payloads
            .par_iter()
            .map(|p| seal::seal_page(&p.dek, &p.page, &seal::pad_page(&p.zipped, page_size)))
            .collect();
        for (p, bytes) in payloads.iter().zip(pages) {
            out.write_output(&p.path, bytes)?;
            manifest.files.insert(p.path.clone(), p.hash.clone());
        }
        for slot in &plan.slots {
            let code = &store.codes[slot.code];
            let padded = seal::pad_slot(&slot.json, slot_size);
            out.write_output(
                &slot.path,
                seal::seal_slot(&code.kek()?, &code.slot, &padded),
            )?;
            manifest.files.insert(slot.path.clone(), slot.hash.clone());
        }
        sealed.resealed = payloads.len() + plan.slots.len();
    } else {
        carry_forward(previous, &old, out)?;
        manifest.files = old.files;
    }
    sealed.manifest = manifest;
    sealed.store = Some(session.store);
    Ok(sealed)
}

/// The private store of the site, opened against the journal and checked: `None` when no
/// code was ever issued. A store that is missing while the output has diaries, a demo store
/// with a real journal, another iteration count, or a store that did not seal the published
/// diaries is an error.
fn open_store(loaded: &Loaded, today: chrono::NaiveDate) -> Result<Option<Session>> {
    let site = &loaded.site;
    let j = &loaded.journal;
    let Some(session) = Session::open(&site.store_path(), j, today)? else {
        if site.output_path().join("diary/params.json").exists() {
            bail!(
                "the private store {} is missing, but the published site has diaries; restore \
                 the store from a backup (docs/operations.md). Nothing was built: a build \
                 without it would lock every family out",
                site.store_path().display()
            );
        }
        return Ok(None);
    };
    access::check_demo(site, &session.store, j)?;
    if session.store.iterations != site.config.access.iterations && !session.store.demo {
        bail!(
            "site.toml [access] iterations = {} but the codes in {} were made with {}; set it \
             back to {} (changing it needs every code issued again)",
            site.config.access.iterations,
            site.store_path().display(),
            session.store.iterations,
            session.store.iterations
        );
    }
    access::check_published_salt(site, &session.store)?;
    Ok(Some(session))
}

/// Publishes every diary file exactly as the last build did.
fn carry_forward(previous: &Path, old: &Manifest, out: &mut Output) -> Result<()> {
    for path in old.files.keys() {
        let file = previous.join(path);
        let bytes =
            std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        out.write_output(path, bytes)?;
    }
    Ok(())
}

/// What this build would publish: each child a live code opens (with the pupil and class)
/// and each live code's slot.
struct Plan<'j> {
    children: BTreeMap<u32, (&'j Student, &'j ClassRef)>,
    page_paths: BTreeMap<u32, String>,
    /// Each child's data key and page id.
    keys: BTreeMap<u32, ([u8; 32], String)>,
    slots: Vec<PlannedSlot>,
}

/// One slot to seal: its path, its plaintext JSON and its keyed hash, and its code.
struct PlannedSlot {
    path: String,
    json: Vec<u8>,
    hash: String,
    code: usize,
}

impl<'j> Plan<'j> {
    fn new(
        j: &'j Journal,
        refs: &'j [ClassRef],
        store: &Store,
        bound: &Bound,
        hash_key: &[u8; 32],
    ) -> Result<Plan<'j>> {
        // Which class each pupil of the current year is in.
        let by_id: BTreeMap<Id, &ClassRef> = refs.iter().map(|r| (r.id, r)).collect();
        let class_of: BTreeMap<Id, &ClassRef> = j
            .students
            .iter()
            .filter_map(|s| Some((s.id, *by_id.get(&s.class_id)?)))
            .collect();
        let mut children = BTreeMap::new();
        let mut slots = Vec::new();
        for c in &bound.codes {
            let mut content = SlotContent {
                v: 1,
                children: Vec::new(),
            };
            for (pid, row) in &c.children {
                let (Some(class), Some(student)) = (class_of.get(row), j.student(*row)) else {
                    continue;
                };
                children.insert(*pid, (student, *class));
                let keys = &store.pages[pid];
                content.children.push(SlotChild {
                    page: keys.page.clone(),
                    key: keys.dek.clone(),
                    name: student.first_name.clone(),
                });
            }
            if !content.children.is_empty() {
                let json = content.to_json();
                slots.push(PlannedSlot {
                    path: format!("diary/k/{}.bin", store.codes[c.code].slot),
                    hash: seal::keyed_hash(hash_key, &json),
                    json,
                    code: c.code,
                });
            }
        }
        let page_paths = children
            .keys()
            .map(|pid| (*pid, format!("diary/p/{}.bin", store.pages[pid].page)))
            .collect();
        let keys = children
            .keys()
            .map(|pid| {
                let keys = &store.pages[pid];
                Ok((*pid, (keys.dek()?, keys.page.clone())))
            })
            .collect::<Result<_>>()?;
        Ok(Plan {
            children,
            page_paths,
            keys,
            slots,
        })
    }

    /// Every diary file's path.
    fn paths(&self) -> BTreeSet<&str> {
        self.page_paths
            .values()
            .map(String::as_str)
            .chain(self.slots.iter().map(|s| s.path.as_str()))
            .collect()
    }
}

/// What rendering the diaries of a batch needs.
struct Batch<'a> {
    inputs: &'a Inputs<'a>,
    renderer: &'a Renderer,
    hw: &'a HomeworkIndex<'a>,
    theme_fingerprint: &'a [u8; 32],
    hash_key: &'a [u8; 32],
    previous: &'a Path,
    old: &'a Manifest,
}

impl Batch<'_> {
    /// Each child's diary, gzipped: rendered when its data changed, else taken from the
    /// file published before (its keyed hash tells, without rendering).
    fn payloads(&self, loaded: &Loaded, refs: &[ClassRef], plan: &Plan) -> Result<Vec<Payload>> {
        // What the pupils of a class share, lessons rendered once per class.
        let parts: BTreeMap<Id, ClassParts> = refs
            .par_iter()
            .map(|r| {
                Ok((
                    r.id,
                    self.renderer.diary_class_parts(self.inputs, r, self.hw)?,
                ))
            })
            .collect::<Result<_>>()?;
        let ix = DiaryIndex::new(&loaded.journal, &loaded.site.config.grading);
        // A page's HTML follows from its view data, the theme and the language.
        let mut context = self.theme_fingerprint.to_vec();
        context.extend_from_slice(loaded.site.config.language.code().as_bytes());
        let jobs: Vec<(&u32, &(&Student, &ClassRef))> = plan.children.iter().collect();
        jobs.par_iter()
            .map(|(pid, (student, class))| {
                let part = &parts[&class.id];
                let page = self.inputs.child_page(student, class, part, self.hw, &ix);
                let mut data = context.clone();
                data.extend_from_slice(&part.digest);
                serde_json::to_writer(&mut data, &page)?;
                let hash = seal::keyed_hash(self.hash_key, &data);
                let path = plan.page_paths[*pid].clone();
                let (dek, page_id) = plan.keys[*pid].clone();
                if self.old.files.get(&path) == Some(&hash)
                    && let Some(zipped) = published_payload(self.previous, &path, &dek, &page_id)
                {
                    return Ok(Payload {
                        path,
                        hash,
                        zipped,
                        changed: false,
                        dek,
                        page: page_id,
                    });
                }
                let html = self
                    .renderer
                    .render("diary_child.html", "../", &page)
                    .with_context(|| format!("rendering the diary of pupil id {}", student.id))?;
                Ok(Payload {
                    path,
                    hash,
                    zipped: seal::gzip(&part.expand(&html)),
                    changed: true,
                    dek,
                    page: page_id,
                })
            })
            .collect()
    }
}

/// One child's diary ready to seal.
struct Payload {
    path: String,
    hash: String,
    zipped: Vec<u8>,
    changed: bool,
    dek: [u8; 32],
    page: String,
}

/// The gzip of a page published before, opened with its key (`None` if it cannot be).
fn published_payload(previous: &Path, path: &str, dek: &[u8; 32], page: &str) -> Option<Vec<u8>> {
    let file = std::fs::read(previous.join(path)).ok()?;
    let p = seal::open_page_plaintext(dek, page, &file).ok()?;
    seal::unpad_page(&p).ok().map(<[u8]>::to_vec)
}

/// The number of `.bin` files in a folder of the previous output.
fn count_bins(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
                .count()
        })
        .unwrap_or(0)
}

/// Refuses a build that would take more than a tenth of the published diaries or codes
/// off the site, unless forced: a wrong journal or an old store, far more often than a
/// tenth of the school leaving at once. What was published is read from the output folder,
/// and from the manifest when the folder is gone (a new checkout with the store).
fn guard_drop(
    previous: &Path,
    manifest: &Manifest,
    pages: usize,
    slots: usize,
    force: bool,
) -> Result<()> {
    let listed = |prefix: &str| {
        manifest
            .files
            .keys()
            .filter(|p| p.starts_with(prefix))
            .count()
    };
    let (had_pages, had_slots) = (
        count_bins(&previous.join("diary/p")).max(listed("diary/p/")),
        count_bins(&previous.join("diary/k")).max(listed("diary/k/")),
    );
    if force || !(loses_a_tenth(had_pages, pages) || loses_a_tenth(had_slots, slots)) {
        return Ok(());
    }
    bail!(
        "this build would publish {pages} diaries and {slots} codes, down from {had_pages} and \
         {had_slots} at the last build ({}): more than a tenth of the families would lose \
         their diary. If that many pupils or guardians really left (a new school year), build \
         with `--force`. If not, the journal or the private store is not the right one: \
         restore it from its backup (docs/operations.md). Nothing was changed",
        previous.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losing_a_tenth_of_the_published_diaries_is_refused_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        let previous = tmp.path().join("public");
        std::fs::create_dir_all(previous.join("diary/p")).unwrap();
        for i in 0..20 {
            std::fs::write(previous.join(format!("diary/p/{i}.bin")), "x").unwrap();
        }
        let none = Manifest::default();
        let err = guard_drop(&previous, &none, 10, 0, false).unwrap_err();
        assert!(err.to_string().contains("more than a tenth"), "{err}");
        assert!(err.to_string().contains("down from 20"), "{err}");
        guard_drop(&previous, &none, 10, 0, true).unwrap();
        guard_drop(&previous, &none, 19, 0, false).unwrap();

        // Without the output folder (a new checkout), the manifest says what was published.
        let gone = tmp.path().join("elsewhere");
        let mut manifest = Manifest::default();
        for i in 0..30 {
            manifest
                .files
                .insert(format!("diary/k/{i}.bin"), String::new());
        }
        assert!(guard_drop(&gone, &manifest, 0, 20, false).is_err());
        guard_drop(&gone, &manifest, 0, 28, false).unwrap();
    }

    #[test]
    fn the_plan_has_a_slot_per_live_code_and_a_page_per_child_it_opens() {
        let (_tmp, site) = crate::demo::test_site(20);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let loaded = crate::check::load(&site).unwrap();
        let j = &loaded.journal;
        crate::access::codes::issue(&site, j, &Default::default(), Default::default(), today)
            .unwrap();
        let mut session = Session::open(&site.store_path(), j, today)
            .unwrap()
            .unwrap();
        let bound = session.bind(j).unwrap();
        let theme = crate::render::Theme::load(&site).unwrap();
        let renderer = Renderer::new(&theme, site.config.language).unwrap();
        let inputs = Inputs {
            journal: j,
            config: &site.config,
            posts: &loaded.posts,
            strings: &renderer.strings,
            today,
        };
        let refs = inputs.class_refs();
        let key = session.store.hash_key().unwrap();
        let plan = Plan::new(j, &refs, &session.store, &bound, &key).unwrap();
        // Every pupil but the children of families on paper only, who hold no code.
        let children = crate::demo::pupils_online(j).len();
        assert!(children < 20);
        assert_eq!(plan.children.len(), children);
        assert_eq!(plan.slots.len(), bound.codes.len());
        assert_eq!(plan.paths().len(), children + plan.slots.len());
        assert!(plan.slots.iter().all(|s| s.json.len() <= SLOT_SIZE));
        // A pupil of a class outside this year's classes has no page.
        let fewer: Vec<ClassRef> = refs.iter().skip(1).cloned().collect();
        let smaller = Plan::new(j, &fewer, &session.store, &bound, &key).unwrap();
        assert!(smaller.children.len() < children);
    }
}
