//! The build step that publishes sealed diaries: `diary/params.json`, the unlock page,
//! one page file per child and one slot file per live code (DESIGN.md §4, docs/access.md).
//!
//! No KDF runs here: each code's key was derived when it was issued and kept in the private
//! store. A payload whose plaintext did not change keeps its previous bytes (same nonce), so
//! a re-publish moves only what changed; the private manifest tells which, by keyed hash.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::build::Loaded;
use crate::codes::children_of;
use crate::output::Output;
use crate::render::Renderer;
use crate::seal::{self, SlotChild, SlotContent};
use crate::secrets::{Manifest, Store};
use crate::views::{ClassParts, ClassRef, DiaryIndex, HomeworkIndex, Inputs, LessonView};

/// What the diary step produced.
#[derive(Debug, Default)]
pub struct Sealed {
    pub pages: usize,
    pub slots: usize,
    /// Payloads encrypted anew (changed plaintext, or no previous copy).
    pub resealed: usize,
    /// The manifest to save once the output is committed.
    pub manifest: Manifest,
    pub store: Option<Store>,
}

/// Adds the diary files to `out`. Unchanged payloads are taken from the output folder of
/// the last build.
pub fn add_diaries(
    loaded: &Loaded,
    inputs: &Inputs,
    renderer: &Renderer,
    refs: &[ClassRef],
    hw: &HomeworkIndex,
    theme_fingerprint: &[u8; 32],
    out: &mut Output,
) -> Result<Sealed> {
    let site = &loaded.site;
    let previous = &site.output_path();
    let Some(store) = Store::load(&site.store_path())? else {
        if previous.join("diary/params.json").exists() {
            bail!(
                "the private store {} is missing, but the published site has diaries; restore \
                 the store from a backup (docs/operations.md). Nothing was built: a build \
                 without it would lock every family out",
                site.store_path().display()
            );
        }
        return Ok(Sealed::default());
    };
    if store.iterations != site.config.access.iterations {
        bail!(
            "site.toml [access] iterations = {} but the codes in {} were made with {}; set it \
             back to {} (changing it needs every code issued again)",
            site.config.access.iterations,
            site.store_path().display(),
            store.iterations,
            store.iterations
        );
    }
    let hash_key = store.hash_key()?;
    let old_manifest = store.manifest()?;
    let j = &loaded.journal;

    out.write_output(
        "diary/params.json",
        seal::params_json(&store.salt()?, store.iterations),
    )?;
    let unlock = renderer.page("diary.html", "diary/index.html", "", &inputs.common())?;
    out.write_output("diary/index.html", unlock)?;

    // Which class each pupil of the current year is in.
    let class_of: BTreeMap<i64, &ClassRef> = {
        let by_id: BTreeMap<i64, &ClassRef> = refs.iter().map(|r| (r.id, r)).collect();
        j.students
            .iter()
            .filter_map(|s| Some((s.id, *by_id.get(&s.class_id)?)))
            .collect()
    };
    // What the pupils of a class share, lessons rendered once per class.
    let parts: BTreeMap<i64, ClassParts> = refs
        .par_iter()
        .map(|r| Ok((r.id, class_parts(inputs, renderer, r, hw)?)))
        .collect::<Result<_>>()?;
    let ix = DiaryIndex::new(j, &site.config.grading);

    // Pages: one per pupil with keys in the store, rendered and sealed in parallel.
    let reuse = |path: &str, hash: &str| -> Option<Vec<u8>> {
        (old_manifest.get(path).map(String::as_str) == Some(hash))
            .then(|| std::fs::read(previous.join(path)).ok())
            .flatten()
    };
    let jobs: Vec<(
        &crate::journal::Student,
        &ClassRef,
        &crate::secrets::PageKeys,
    )> = j
        .students
        .iter()
        .filter_map(|s| Some((s, *class_of.get(&s.id)?, store.pages.get(&s.id)?)))
        .collect();
    // A page's HTML follows from its view data, the theme and the language: when their
    // keyed hash is unchanged the previous file is reused without rendering at all.
    let mut context = theme_fingerprint.to_vec();
    context.extend_from_slice(site.config.language.code().as_bytes());
    let pages: Vec<(String, String, Vec<u8>, bool)> = jobs
        .par_iter()
        .map(|(student, class, keys)| {
            let page = inputs.child_page(student, class, &parts[&class.id], hw, &ix);
            let part = &parts[&class.id];
            let mut data = context.clone();
            data.extend_from_slice(&part.digest);
            serde_json::to_writer(&mut data, &page)?;
            let hash = seal::keyed_hash(&hash_key, &data);
            let path = format!("diary/p/{}.bin", keys.page);
            if let Some(bytes) = reuse(&path, &hash) {
                return Ok((path, hash, bytes, false));
            }
            let html = renderer
                .render("diary_child.html", "../", &page)
                .with_context(|| format!("rendering the diary of pupil id {}", student.id))?;
            let html = part.expand(&html);
            let dek = keys.dek()?;
            let bytes = seal::seal_page(&dek, &keys.page, &seal::page_plaintext(&html));
            Ok((path, hash, bytes, true))
        })
        .collect::<Result<_>>()?;

    let mut sealed = Sealed::default();
    for (path, hash, bytes, fresh) in pages {
        sealed.pages += 1;
        sealed.resealed += usize::from(fresh);
        out.write_output(&path, bytes)?;
        sealed.manifest.insert(path, hash);
    }

    // Slots: one per live code whose holder has children this year.
    for code in store.codes.iter().filter(|c| c.is_active()) {
        let children: Vec<SlotChild> = children_of(j, code.holder)
            .into_iter()
            .filter(|id| class_of.contains_key(id))
            .filter_map(|id| {
                let keys = store.pages.get(&id)?;
                Some(SlotChild {
                    page: keys.page.clone(),
                    key: keys.dek.clone(),
                    name: j.student(id)?.first_name.clone(),
                })
            })
            .collect();
        if children.is_empty() {
            continue;
        }
        let json = SlotContent { v: 1, children }.to_json();
        let hash = seal::keyed_hash(&hash_key, &json);
        let path = format!("diary/k/{}.bin", code.slot);
        let bytes = match reuse(&path, &hash) {
            Some(b) => b,
            None => {
                sealed.resealed += 1;
                seal::seal_slot(&code.kek()?, &code.slot, &json)
            }
        };
        out.write_output(&path, bytes)?;
        sealed.manifest.insert(path, hash);
        sealed.slots += 1;
    }
    sealed.store = Some(store);
    Ok(sealed)
}

/// The class-wide parts of the diaries of `class`, each lesson rendered once by the theme's
/// `partials/diary_lesson.html`.
pub fn class_parts(
    inputs: &Inputs,
    renderer: &Renderer,
    class: &ClassRef,
    hw: &HomeworkIndex,
) -> Result<ClassParts> {
    #[derive(serde::Serialize)]
    struct Lesson<'a> {
        l: &'a LessonView,
    }
    inputs.class_parts(class, hw, |l| {
        renderer
            .render("partials/diary_lesson.html", "../", &Lesson { l })
            .with_context(|| format!("rendering the diary lessons of class {}", class.name))
    })
}
