//! The build step that publishes sealed diaries (access protocol v2, docs/access.md):
//! `diary/params.json`, the unlock page, one slot file per live code, and each child's
//! diary as chunks: `now` (this week and next, marks by period, notices) and one per
//! earlier part of the year.
//!
//! - **Who**: every code is bound to its holder and children by identity first
//!   ([`crate::access::binding`]); a child who left a code's set has new keys by now.
//! - **When**: diaries go out in batches ([`batch`]); between two batches the diary files
//!   are those of the last batch, byte for byte. `--now` publishes at once, and so does any
//!   change of who opens what (a code issued or revoked, a child unlinked). At a batch each
//!   group (the slots, the `now` chunks, each earlier part) is sealed anew as a whole when
//!   anything in it changed, else kept: a school day re-seals the `now` chunks only.
//! - **How big**: every chunk of a kind is padded to one size, every slot to one size, so
//!   file sizes tell nothing about a child.
//! - **Guards**: a store that did not seal the published diaries, or a build that would
//!   drop more than a tenth of them, stops the build before anything is written.
//!
//! No KDF runs here: each code's key was derived when it was issued and kept in the private
//! store. The private manifest keeps a keyed hash of each chunk's data, so an unchanged
//! chunk is not rendered again (its plaintext is taken from the file published before),
//! and a keyed digest of the journal rows of each earlier part ([`inputs`]), so an
//! unchanged part is not even looked at.

pub(crate) mod batch;
mod inputs;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use chrono::NaiveDateTime;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::access::binding::Bound;
use crate::access::{self, Session, store::GroupState, store::Manifest, store::Store};
use crate::check::Loaded;
use crate::journal::{Id, Journal, Student};
use crate::output::{Output, Staged, loses_a_tenth};
use crate::render::Renderer;
use crate::seal::{self, SlotChild, SlotContent};
use crate::views::{
    ChildLesson, ChildPiece, ChildWeek, ClassParts, ClassRef, DiaryIndex, HomeworkIndex, Inputs,
    LineHtml, OwnLines, PartSpec, TermMarks, WeekRun,
};
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
    /// Where the time went: binding, slots, the `now` chunks, the earlier parts.
    pub steps: Vec<(&'static str, std::time::Duration)>,
    pub store: Option<Store>,
}

/// The smallest size every slot plaintext is padded to: room for 3 children with long
/// names (a slot is fetched at every opening, so it is kept small; a school with a larger
/// family has all its slots padded to the next 1024).
pub(crate) const SLOT_SIZE: usize = 512;

/// Adds the diary files to `out`. Unchanged payloads are taken from the output folder of
/// the last build.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_diaries(
    loaded: &Loaded,
    inputs: &Inputs,
    renderer: &Renderer,
    refs: &[ClassRef],
    hw: &HomeworkIndex,
    render_context: &[u8; 32],
    options: DiaryOptions,
    out: &mut Output,
) -> Result<Sealed> {
    let site = &loaded.site;
    let previous = &site.output_path();
    let j = &loaded.journal;
    let Some(mut session) = open_store(loaded, inputs.today)? else {
        return Ok(Sealed::default());
    };
    let mut clock = std::time::Instant::now();
    let mut step = |steps: &mut Vec<_>, name: &'static str| {
        let now = std::time::Instant::now();
        steps.push((name, now - clock));
        clock = now;
    };
    let mut steps = Vec::new();
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
    step(&mut steps, "bind");
    guard_drop(
        previous,
        &old,
        plan.children.len(),
        plan.slots.len(),
        options.force,
    )?;

    // A batch now, or the diaries as the last batch left them? Who opens what changed when
    // a slot was added, dropped or changed (a new page id, a child more or less), and at the
    // first build of protocol v2 (the version 1 pages go at once).
    let previous_files = PreviousFiles::look(previous, &old);
    let moving_from_v1 = old.files.keys().any(|p| p.starts_with(V1_PAGE_DIR));
    let slots_before: BTreeSet<&str> = old
        .files
        .keys()
        .filter(|p| p.starts_with(SLOT_DIR))
        .map(String::as_str)
        .collect();
    let access_changed = plan
        .slots
        .iter()
        .map(|s| s.path.as_str())
        .collect::<BTreeSet<_>>()
        != slots_before
        || plan
            .slots
            .iter()
            .any(|slot| old.files.get(&slot.path) != Some(&slot.hash))
        || moving_from_v1;
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
    let due = options.now
        || !previous_files.ok()
        || access_changed
        || schedule.due(&old.batch, options.moment);
    if !due {
        for path in old.files.keys() {
            previous_files.keep(out, path)?;
        }
        sealed.held_until = schedule.next(options.moment);
        sealed.manifest = old;
        sealed.store = Some(session.store);
        return Ok(sealed);
    }

    let batch = Batch {
        inputs,
        renderer,
        hw,
        hash_key: &hash_key,
        previous_files: &previous_files,
        old: &old,
        plan: &plan,
        ix: DiaryIndex::new(j, &site.config.grading),
        context: *render_context,
        lines: Default::default(),
    };
    let mut manifest = Manifest {
        batch: schedule.slot(options.moment),
        slot_size: 0,
        files: BTreeMap::new(),
        groups: BTreeMap::new(),
        diaries: plan.children.len(),
    };

    // The slots: sealed anew, all of them, when any changed.
    let slot_size = plan
        .slots
        .iter()
        .map(|slot| match slot.json.len() {
            n if n <= SLOT_SIZE => SLOT_SIZE,
            n => n.div_ceil(1024) * 1024,
        })
        .max()
        .unwrap_or(SLOT_SIZE)
        // Never smaller than before, except at the move from version 1, which seals every
        // slot anew anyway.
        .max(if moving_from_v1 { 0 } else { old.slot_size });
    manifest.slot_size = slot_size;
    let reseal_slots = !previous_files.ok() || access_changed || slot_size != old.slot_size;
    for slot in &plan.slots {
        if reseal_slots {
            let code = &store.codes[slot.code];
            let padded = seal::pad_slot(&slot.json, slot_size);
            out.write_output(
                &slot.path,
                seal::seal_slot(&code.kek()?, &code.slot, &padded),
            )?;
        } else {
            previous_files.keep(out, &slot.path)?;
        }
        manifest.files.insert(slot.path.clone(), slot.hash.clone());
    }
    if reseal_slots {
        sealed.resealed += plan.slots.len();
    }
    step(&mut steps, "slots");

    // The earlier parts each class's diaries have as of today.
    let classes: BTreeMap<Id, &ClassRef> =
        plan.children.values().map(|(_, c)| (c.id, *c)).collect();
    let earlier: BTreeMap<Id, Vec<PartSpec>> = classes
        .keys()
        .map(|id| (*id, inputs.diary_parts(*id)))
        .collect();

    // Each earlier part, rendered again only when the journal rows it shows changed: which
    // pupils have it, and the days it spans.
    let school_days = i64::from(site.config.school_days);
    let mut kinds: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut ranges: BTreeMap<String, inputs::Range> = BTreeMap::new();
    for (pid, (_, class)) in &plan.children {
        for spec in &earlier[&class.id] {
            kinds.entry(spec.name.clone()).or_default().push(*pid);
            let (first, last) = (
                spec.mondays[0],
                spec.mondays[spec.mondays.len() - 1] + chrono::Duration::days(school_days - 1),
            );
            let range = ranges.entry(spec.name.clone()).or_insert((first, last));
            *range = (range.0.min(first), range.1.max(last));
        }
    }

    // The `now` chunks, and beside them the digests of what each earlier part shows.
    let (now, digests) = rayon::join(
        || batch.now_payloads(&classes, &earlier),
        || inputs::digests(j, &batch.context, &ranges),
    );
    sealed.resealed += batch.seal_group(NOW, now?, String::new(), out, &mut manifest)?;
    step(&mut steps, "now");

    for (name, pids) in kinds {
        let digest = seal::keyed_hash(&hash_key, &digests[&name]);
        let paths: Vec<String> = pids
            .iter()
            .map(|pid| plan.chunk(*pid, &name).path)
            .collect();
        if batch.part_unchanged(&name, &paths, &digest) {
            for path in paths {
                previous_files.keep(out, &path)?;
                let hash = old.files[&path].clone();
                manifest.files.insert(path, hash);
            }
            manifest
                .groups
                .insert(name.clone(), old.groups[&name].clone());
            continue;
        }
        let payloads = batch.part_payloads(&name, &pids, &classes, &earlier)?;
        sealed.resealed += batch.seal_group(&name, payloads, digest, out, &mut manifest)?;
    }
    step(&mut steps, "earlier parts");
    sealed.steps = steps;
    sealed.manifest = manifest;
    sealed.store = Some(session.store);
    Ok(sealed)
}

/// Where slot files go, and where version 1 put its page files.
const SLOT_DIR: &str = "diary/k/";
const V1_PAGE_DIR: &str = "diary/p/";
/// The name of the chunk a diary opens on.
const NOW: &str = "now";

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

/// What this build would publish: each child a live code opens (with the pupil and class)
/// and each live code's slot.
struct Plan<'j> {
    children: BTreeMap<u32, (&'j Student, &'j ClassRef)>,
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
                v: seal::SLOT_VERSION,
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
        let keys = children
            .keys()
            .map(|pid| {
                let keys = &store.pages[pid];
                Ok((*pid, (keys.dek()?, keys.page.clone())))
            })
            .collect::<Result<_>>()?;
        Ok(Plan {
            children,
            keys,
            slots,
        })
    }

    /// Chunk `name` of a child's diary.
    fn chunk(&self, pid: u32, name: &str) -> seal::Chunk {
        let (dek, page) = &self.keys[&pid];
        seal::chunk(dek, page, name)
    }
}

/// What sealing the diaries of a batch needs.
struct Batch<'a> {
    inputs: &'a Inputs<'a>,
    renderer: &'a Renderer,
    hw: &'a HomeworkIndex<'a>,
    hash_key: &'a [u8; 32],
    /// The files of the previous output that its manifest lists.
    previous_files: &'a PreviousFiles<'a>,
    old: &'a Manifest,
    plan: &'a Plan<'a>,
    ix: DiaryIndex<'a>,
    /// The digest of what every chunk's HTML depends on besides its data: theme, language,
    /// settings, program version.
    context: [u8; 32],
    /// Pupils' own lines of a lesson as rendered, by [`ChildLesson::lines_key`].
    lines: std::sync::Mutex<HashMap<String, LineHtml>>,
}

impl Batch<'_> {
    /// Each child's `now` chunk: rendered when its data changed, else taken from the file
    /// published before (its keyed hash tells, without rendering).
    fn now_payloads(
        &self,
        classes: &BTreeMap<Id, &ClassRef>,
        earlier: &BTreeMap<Id, Vec<PartSpec>>,
    ) -> Result<Vec<Payload>> {
        let mondays = self.inputs.now_mondays();
        let parts: BTreeMap<Id, ClassParts> = classes
            .par_iter()
            .map(|(id, r)| {
                let parts =
                    self.renderer
                        .diary_class_parts(self.inputs, r, self.hw, &mondays, true)?;
                Ok((*id, parts))
            })
            .collect::<Result<_>>()?;
        let jobs: Vec<(&u32, &(&Student, &ClassRef))> = self.plan.children.iter().collect();
        let weeks = SharedWeeks::default();
        jobs.par_iter()
            .map(|(pid, (student, class))| {
                let part = &parts[&class.id];
                let mut page = self.inputs.child_page(
                    student,
                    class,
                    part,
                    self.hw,
                    &self.ix,
                    &earlier[&class.id],
                    TermMarks::Current,
                );
                let own = self.share_weeks(part, &mut page.weeks)?;
                // The marks by period are not in the page's template data: hashed beside it.
                let view = (&page, &page.periods);
                self.payload(**pid, NOW, part, &weeks, &view, &own, || {
                    self.renderer.diary_child(&page)
                })
                .with_context(|| format!("rendering the diary of pupil id {}", student.id))
            })
            .collect()
    }

    /// Each chunk of the earlier part `name` of the children `pids`.
    fn part_payloads(
        &self,
        name: &str,
        pids: &[u32],
        classes: &BTreeMap<Id, &ClassRef>,
        earlier: &BTreeMap<Id, Vec<PartSpec>>,
    ) -> Result<Vec<Payload>> {
        let spec_of = |class: Id| earlier[&class].iter().find(|p| p.name == name);
        let parts: BTreeMap<Id, ClassParts> = classes
            .par_iter()
            .filter_map(|(id, r)| Some((id, r, spec_of(*id)?)))
            .map(|(id, r, spec)| {
                let parts = self.renderer.diary_class_parts(
                    self.inputs,
                    r,
                    self.hw,
                    &spec.mondays,
                    false,
                )?;
                Ok((*id, parts))
            })
            .collect::<Result<_>>()?;
        let weeks = SharedWeeks::default();
        pids.par_iter()
            .map(|pid| {
                let (student, class) = self.plan.children[pid];
                let spec = spec_of(class.id).expect("the class has the part");
                let part = &parts[&class.id];
                let mut view = self
                    .inputs
                    .child_part(student, class, part, self.hw, &self.ix, spec);
                let own = self.share_weeks(part, &mut view.weeks)?;
                self.payload(*pid, name, part, &weeks, &view, &own, || {
                    self.renderer.render("diary_part.html", "../", &view)
                })
                .with_context(|| format!("rendering the diary of pupil id {}", student.id))
            })
            .collect()
    }

    /// A pupil's weeks as their class shares them (see [`ClassParts::share_weeks`]).
    fn share_weeks(&self, parts: &ClassParts, weeks: &mut [ChildWeek]) -> Result<OwnLines> {
        parts.share_weeks(weeks, |w| self.renderer.diary_week(w))
    }

    /// A lesson's own lines for a pupil as the theme renders them, rendered once for every
    /// pupil with the same.
    fn lines_html(&self, line: &ChildLesson) -> Result<LineHtml> {
        let key = line.lines_key()?;
        if let Some(html) = self.lines.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(html);
        }
        let html = self.renderer.diary_lines(line)?;
        if let Ok(mut lines) = self.lines.lock() {
            lines.insert(key, html.clone());
        }
        Ok(html)
    }

    /// One chunk: its keyed hash from its view data, and its gzipped HTML (`render`, then
    /// the pupil's own lines put in), taken from the published file when the hash is the
    /// one published.
    #[allow(clippy::too_many_arguments)]
    fn payload(
        &self,
        pid: u32,
        name: &str,
        parts: &ClassParts,
        weeks: &SharedWeeks,
        view: &impl serde::Serialize,
        own: &OwnLines,
        render: impl FnOnce() -> Result<String>,
    ) -> Result<Payload> {
        let chunk = self.plan.chunk(pid, name);
        // The same bytes as ever, hashed as they are serialized.
        let mut data = seal::KeyedHasher::new(self.hash_key);
        data.update(&self.context);
        data.update(&parts.digest);
        own.digest_into(|digest| data.update(digest));
        {
            use std::io::Write;
            let mut json = std::io::BufWriter::with_capacity(8192, &mut data);
            serde_json::to_writer(&mut json, view)?;
            serde_json::to_writer(&mut json, &own.lines)?;
            json.flush()?;
        }
        let hash = data.finish();
        if self.old.files.get(&chunk.path) == Some(&hash)
            && let Some(zipped) = std::fs::read(self.previous_files.folder.join(&chunk.path))
                .ok()
                .and_then(|file| seal::open_chunk(&chunk, &file))
        {
            return Ok(Payload {
                hash,
                zipped,
                chunk,
            });
        }
        let page = render()?;
        let lines = own
            .lines
            .iter()
            .map(|l| self.lines_html(l))
            .collect::<Result<Vec<_>>>()?;
        // The pupil's own text squeezed and deflated here; each run of shared weeks once.
        let zip: Vec<seal::Piece> = parts
            .pieces(&page, own, &lines)
            .into_iter()
            .map(|piece| match piece {
                ChildPiece::Own(text) => seal::Piece::Own(crate::render::squeeze_html(&text)),
                ChildPiece::Weeks(run) => seal::Piece::Shared(weeks.get(parts, &run)),
            })
            .collect();
        Ok(Payload {
            hash,
            zipped: seal::gzip_pieces(
                &zip,
                if name == NOW {
                    seal::Squeeze::Now
                } else {
                    seal::Squeeze::Part
                },
            ),
            chunk,
        })
    }

    /// Whether the earlier part `name`, whose chunks are at `paths`, can stay as published:
    /// the same journal rows, the same children, every file there.
    fn part_unchanged(&self, name: &str, paths: &[String], inputs: &str) -> bool {
        self.previous_files.ok()
            && self.old.groups.get(name).is_some_and(|g| {
                g.inputs == inputs
                    && g.files == paths.len()
                    && paths.iter().all(|p| self.old.files.contains_key(p))
            })
    }

    /// Publishes one group of chunks: all sealed anew with fresh nonces when anything in
    /// it changed (a chunk, the set of chunks, the padded size), else all kept as they
    /// were. Returns how many files were sealed.
    fn seal_group(
        &self,
        name: &str,
        payloads: Vec<Payload>,
        inputs: String,
        out: &mut Output,
        manifest: &mut Manifest,
    ) -> Result<usize> {
        let before = self.old.groups.get(name);
        let size = payloads
            .iter()
            .map(|p| seal::chunk_size_for(&p.zipped))
            .max()
            .unwrap_or(seal::CHUNK_PAD)
            .max(before.map_or(0, |g| g.size));
        let changed = !self.previous_files.ok()
            || before.is_none_or(|g| g.size != size || g.files != payloads.len())
            || payloads
                .iter()
                .any(|p| self.old.files.get(&p.chunk.path) != Some(&p.hash));
        let count = payloads.len();
        if changed {
            // Sealed a few hundred at a time and written to disk as they are sealed, side by
            // side: each payload's gzip is dropped as soon as it is sealed, and no sealed
            // file waits in memory.
            let mut rest = payloads;
            while !rest.is_empty() {
                let later = rest.split_off(rest.len().min(256));
                let staging: &Output = out;
                let files: Vec<(String, String, Staged)> = std::mem::replace(&mut rest, later)
                    .into_par_iter()
                    .map(|p| -> Result<_> {
                        let bytes = seal::seal_chunk(&p.chunk, &seal::pad_chunk(&p.zipped, size));
                        let staged = staging.stage(&p.chunk.path, bytes)?;
                        Ok((p.chunk.path, p.hash, staged))
                    })
                    .collect::<Result<_>>()?;
                for (path, hash, staged) in files {
                    out.add_staged(&path, staged)?;
                    manifest.files.insert(path, hash);
                }
            }
        } else {
            for p in payloads {
                self.previous_files.keep(out, &p.chunk.path)?;
                manifest.files.insert(p.chunk.path, p.hash);
            }
        }
        manifest.groups.insert(
            name.to_string(),
            GroupState {
                size,
                files: count,
                inputs,
            },
        );
        Ok(if changed { count } else { 0 })
    }
}

/// The runs of weeks a group's chunks share, each squeezed and deflated once, by
/// [`WeekRun::key`] (the class parts that hold the weeks outlive the group's sealing).
#[derive(Default)]
struct SharedWeeks(std::sync::Mutex<HashMap<String, Arc<OnceLock<Arc<seal::Deflated>>>>>);

impl SharedWeeks {
    fn get(&self, parts: &ClassParts, run: &WeekRun) -> Arc<seal::Deflated> {
        let slot = self
            .0
            .lock()
            .map(|mut m| m.entry(run.key()).or_default().clone())
            .unwrap_or_default();
        slot.get_or_init(|| {
            Arc::new(seal::Deflated::new(&crate::render::squeeze_html(
                &parts.placed_run(run),
            )))
        })
        .clone()
    }
}

/// One chunk of a child's diary ready to seal.
struct Payload {
    hash: String,
    zipped: Vec<u8>,
    chunk: seal::Chunk,
}

/// The diary files of the previous output that its manifest lists, each looked at once
/// (side by side) for its size.
struct PreviousFiles<'a> {
    folder: &'a Path,
    /// Each file's size; `None` when one is missing (or the manifest lists none), and then
    /// the batch keeps nothing from the previous output.
    lens: Option<FxHashMap<&'a str, u64>>,
}

impl<'a> PreviousFiles<'a> {
    fn look(folder: &'a Path, old: &'a Manifest) -> PreviousFiles<'a> {
        let lens = (!old.files.is_empty())
            .then(|| {
                old.files
                    .par_iter()
                    .map(|(path, _)| {
                        let meta = std::fs::metadata(folder.join(path)).ok()?;
                        meta.is_file().then_some((path.as_str(), meta.len()))
                    })
                    .collect::<Option<FxHashMap<_, _>>>()
            })
            .flatten();
        PreviousFiles { folder, lens }
    }

    /// Whether every file the manifest lists is there.
    fn ok(&self) -> bool {
        self.lens.is_some()
    }

    /// Keeps the file `path` of the previous output as it is, without looking at it again.
    /// Only files of the manifest are kept, and only when all are there; any other path is
    /// looked at, as [`Output::keep_output`] does.
    fn keep(&self, out: &mut Output, path: &str) -> Result<()> {
        match self.lens.as_ref().and_then(|lens| lens.get(path)) {
            Some(&len) => out.keep_previous(path, len),
            None => out.keep_output(self.folder, path),
        }
    }
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
    // The diaries of the last build: the manifest's count (chunk names do not tell whose
    // they are), or version 1's page files.
    let (had_pages, had_slots) = (
        manifest
            .diaries
            .max(count_bins(&previous.join("diary/p")))
            .max(listed(V1_PAGE_DIR)),
        count_bins(&previous.join("diary/k")).max(listed(SLOT_DIR)),
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
    use crate::views::ChildPage;

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
        let inputs = Inputs::new(j, &site.config, &loaded.posts, &renderer.strings, today);
        let refs = inputs.class_refs();
        let key = session.store.hash_key().unwrap();
        let plan = Plan::new(j, &refs, &session.store, &bound, &key).unwrap();
        // Every pupil but the children of families on paper only, who hold no code.
        let children = crate::demo::pupils_online(j).len();
        assert!(children < 20);
        assert_eq!(plan.children.len(), children);
        assert_eq!(plan.slots.len(), bound.codes.len());
        let now: BTreeSet<String> = plan
            .children
            .keys()
            .map(|pid| plan.chunk(*pid, NOW).path)
            .collect();
        assert_eq!(
            now.len(),
            children,
            "one now chunk per child, each its own name"
        );
        assert!(plan.slots.iter().all(|s| s.json.len() <= SLOT_SIZE));
        // A pupil of a class outside this year's classes has no page.
        let fewer: Vec<ClassRef> = refs.iter().skip(1).cloned().collect();
        let smaller = Plan::new(j, &fewer, &session.store, &bound, &key).unwrap();
        assert!(smaller.children.len() < children);
    }

    /// Two pages are the same; if not, where they part.
    fn same(shared: &str, alone: &str) {
        if let Some(at) = shared.bytes().zip(alone.bytes()).position(|(a, b)| a != b) {
            let from = at.saturating_sub(200);
            panic!(
                "the pages part at byte {at}:\nshared: {}\nalone:  {}",
                String::from_utf8_lossy(&shared.as_bytes()[from..(at + 200).min(shared.len())]),
                String::from_utf8_lossy(&alone.as_bytes()[from..(at + 200).min(alone.len())])
            );
        }
        assert_eq!(shared.len(), alone.len());
    }

    /// A demo school of `pupils`, loaded, with its theme's renderer.
    fn demo_school(
        pupils: usize,
    ) -> (
        tempfile::TempDir,
        crate::config::Site,
        crate::check::Loaded,
        Renderer,
    ) {
        let (tmp, site) = crate::demo::test_site(pupils);
        let loaded = crate::check::load(&site).unwrap();
        let theme = crate::render::Theme::load(&site).unwrap();
        let renderer = Renderer::new(&theme, site.config.language).unwrap();
        (tmp, site, loaded, renderer)
    }

    /// A pupil of the demo school on a day, with what building their diary takes.
    struct Pupil<'a> {
        inputs: &'a Inputs<'a>,
        hw: &'a HomeworkIndex<'a>,
        ix: &'a DiaryIndex<'a>,
        class: &'a ClassRef,
        /// The class's `now` weeks, rendered once.
        parts: &'a ClassParts,
        earlier: &'a [PartSpec],
        student: &'a Student,
    }

    impl Pupil<'_> {
        fn now_page(&self) -> ChildPage {
            self.inputs.child_page(
                self.student,
                self.class,
                self.parts,
                self.hw,
                self.ix,
                self.earlier,
                TermMarks::Current,
            )
        }
    }

    /// Calls `f` with every pupil of the school, class by class, as of `today`.
    fn each_pupil(
        site: &crate::config::Site,
        loaded: &crate::check::Loaded,
        renderer: &Renderer,
        today: &str,
        mut f: impl FnMut(&Pupil),
    ) {
        let j = &loaded.journal;
        let today: chrono::NaiveDate = today.parse().unwrap();
        let inputs = Inputs::new(j, &site.config, &loaded.posts, &renderer.strings, today);
        let hw = HomeworkIndex::new(j);
        let ix = DiaryIndex::new(j, &site.config.grading);
        for class in inputs.class_refs() {
            let mondays = inputs.now_mondays();
            let parts = renderer
                .diary_class_parts(&inputs, &class, &hw, &mondays, true)
                .unwrap();
            let earlier = inputs.diary_parts(class.id);
            for student in j.students.iter().filter(|s| s.class_id == class.id) {
                f(&Pupil {
                    inputs: &inputs,
                    hw: &hw,
                    ix: &ix,
                    class: &class,
                    parts: &parts,
                    earlier: &earlier,
                    student,
                });
            }
        }
    }

    /// The built-in theme's pupil's diary is written by the code: byte for byte what its
    /// template renders, whatever the page holds (warnings, debts, remarks, weeks of the
    /// pupil's own or shared, announcements listed or in full, events, grade 1); a theme
    /// with its own template gets it through Tera.
    #[test]
    fn the_code_writes_a_pupils_diary_as_the_template_does() {
        let (_tmp, site, loaded, renderer) = demo_school(120);
        assert!(renderer.writes_child_in_code());
        let mut seen = std::collections::BTreeMap::<&str, usize>::new();
        for today in ["2026-09-01", "2026-11-24", "2027-03-03", "2027-05-24"] {
            each_pupil(&site, &loaded, &renderer, today, |pupil| {
                let mut page = pupil.now_page();
                for (what, there) in [
                    ("warnings", !page.attention.is_empty()),
                    ("debts", !page.debts.is_empty()),
                    ("remarks", !page.remarks.is_empty()),
                    ("announcements", !page.announcements.is_empty()),
                    ("events", !page.events.is_empty()),
                    ("earlier parts", !page.parts.is_empty()),
                    ("grade 1", page.no_marks),
                ] {
                    *seen.entry(what).or_default() += usize::from(there);
                }
                let both_ways = |page: &ChildPage| {
                    same(
                        &renderer.diary_child(page).unwrap(),
                        &renderer.diary_child_by_template(page).unwrap(),
                    );
                };
                // Weeks as the page has them before sharing: each through dweek.html.
                both_ways(&page);
                page.full_news = true;
                both_ways(&page);
                page.full_news = false;
                let own = pupil
                    .parts
                    .share_weeks(&mut page.weeks, |w| renderer.diary_week(w))
                    .unwrap();
                let kept = page.weeks.iter().filter(|w| w.shared.is_none()).count();
                *seen.entry("weeks of their own").or_default() += kept;
                *seen.entry("weeks shared with the class").or_default() += usize::from(!own.alone);
                both_ways(&page);
            });
        }
        for (what, n) in &seen {
            assert!(*n > 0, "no page with {what}: {seen:?}");
        }
        assert_eq!(seen.len(), 9, "{seen:?}");

        // A theme's own diary_child.html is rendered by Tera.
        let mut theme = crate::render::Theme::load(&site).unwrap();
        theme.set_template(
            "diary_child.html",
            "<p class=\"mine\">{{ child.name }}</p>{{ periods_html | safe }}",
        );
        let mine = Renderer::new(&theme, site.config.language).unwrap();
        assert!(!mine.writes_child_in_code());
        let mut page = None;
        each_pupil(&site, &loaded, &mine, "2026-11-24", |pupil| {
            page.get_or_insert_with(|| pupil.now_page());
        });
        let page = page.expect("a pupil");
        let html = mine.diary_child(&page).unwrap();
        assert!(html.starts_with("<p class=\"mine\">"), "{html}");
        assert!(html.contains("class=\"periods\""));
    }

    /// A diary lists the marks one by one of its current term only: the other terms and the
    /// year carry none, and their marks by period read the same as with every mark listed.
    /// On paper every term lists them.
    #[test]
    fn only_the_current_term_lists_its_marks_in_a_sealed_diary() {
        let (_tmp, site, loaded, renderer) = demo_school(30);
        let j = &loaded.journal;
        let inputs = Inputs::new(
            j,
            &site.config,
            &loaded.posts,
            &renderer.strings,
            "2027-05-24".parse().unwrap(),
        );
        let hw = HomeworkIndex::new(j);
        let ix = DiaryIndex::new(j, &site.config.grading);
        let marks = |p: &crate::views::PeriodView| -> usize {
            p.subjects.iter().map(|s| s.marks.len()).sum()
        };
        let mut pupils = 0;
        for class in inputs.class_refs().iter().filter(|c| c.grade > 1) {
            let mondays = inputs.now_mondays();
            let parts = renderer
                .diary_class_parts(&inputs, class, &hw, &mondays, true)
                .unwrap();
            for student in j.students.iter().filter(|s| s.class_id == class.id) {
                let page =
                    inputs.child_page(student, class, &parts, &hw, &ix, &[], TermMarks::Current);
                let mut every =
                    inputs.child_page(student, class, &parts, &hw, &ix, &[], TermMarks::Every);
                assert_eq!(page.periods.len(), every.periods.len());
                let terms = page.periods.iter().filter(|p| !p.is_year).count();
                assert!(terms >= 4, "four quarters by May: {terms}");
                for (p, e) in page.periods.iter().zip(&every.periods) {
                    assert!(!e.brief);
                    if p.current {
                        assert_eq!(marks(p), marks(e));
                        assert!(marks(p) > 0, "{}: the current term's marks", p.name);
                    } else {
                        assert_eq!(marks(p), 0, "{}: no marks one by one", p.name);
                        if !e.is_year {
                            assert!(marks(e) > 0, "{}: on paper, every term's", e.name);
                        }
                    }
                }
                // Shown as the diary shows them, the two read the same.
                for (p, e) in page.periods.iter().zip(every.periods.iter_mut()) {
                    e.brief = p.brief;
                }
                assert_eq!(
                    renderer.diary_child(&page).unwrap(),
                    renderer.diary_child(&every).unwrap()
                );
                pupils += 1;
            }
        }
        assert!(pupils > 10, "{pupils}");
    }

    /// The same HTML as a page rendered pupil by pupil, with each week rendered once per
    /// class and group.
    #[test]
    fn shared_weeks_give_each_pupil_the_page_rendered_for_them_alone() {
        let (_tmp, site, loaded, renderer) = demo_school(60);
        let shared = |parts: &ClassParts, weeks: &mut Vec<ChildWeek>| {
            parts
                .share_weeks(weeks, |w| renderer.diary_week(w))
                .unwrap()
        };
        let lines = |own: &OwnLines| -> Vec<LineHtml> {
            own.lines
                .iter()
                .map(|l| renderer.diary_lines(l).unwrap())
                .collect()
        };
        let (mut weeks, mut renders, mut own_lines, mut kept) = (0, 0, 0, 0);
        for today in ["2026-11-24", "2027-03-03"] {
            let mut rendered = std::collections::HashSet::new();
            // Each class's first earlier part, its weeks rendered once.
            let mut part_parts: HashMap<Id, (PartSpec, ClassParts)> = HashMap::new();
            each_pupil(&site, &loaded, &renderer, today, |pupil| {
                let (inputs, class, parts) = (pupil.inputs, pupil.class, pupil.parts);
                let alone = parts.expand(&renderer.diary_child(&pupil.now_page()).unwrap());
                let mut page = pupil.now_page();
                let own = shared(parts, &mut page.weeks);
                let html = renderer.diary_child(&page).unwrap();
                same(&parts.expand_own(&html, &own, &lines(&own)), &alone);

                let (spec, part_parts) = part_parts.entry(class.id).or_insert_with(|| {
                    let spec = pupil.earlier[0].clone();
                    let parts = renderer
                        .diary_class_parts(inputs, class, pupil.hw, &spec.mondays, false)
                        .unwrap();
                    (spec, parts)
                });
                let part = || {
                    inputs.child_part(pupil.student, class, part_parts, pupil.hw, pupil.ix, spec)
                };
                weeks += part().weeks.len();
                let alone =
                    part_parts.expand(&renderer.render("diary_part.html", "../", &part()).unwrap());
                let mut part = part();
                let own = shared(part_parts, &mut part.weeks);
                kept += part.weeks.iter().filter(|w| w.shared.is_none()).count();
                own_lines += own.lines.len();
                for w in &own.weeks {
                    rendered.insert(std::sync::Arc::as_ptr(w) as usize);
                }
                let html = renderer.render("diary_part.html", "../", &part).unwrap();
                same(&part_parts.expand_own(&html, &own, &lines(&own)), &alone);
            });
            renders += rendered.len();
        }
        assert!(
            own_lines > 100,
            "marks and absences are the pupils' own: {own_lines}"
        );
        assert!(kept > 0, "a week with a remark is the pupil's own: {kept}");
        assert!(
            renders * 2 < weeks,
            "{renders} weeks rendered for {weeks} weeks of pupils"
        );
    }
}
