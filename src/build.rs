//! `diary check` and `diary build`: load everything, validate, render, write.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::NaiveDate;
use rayon::prelude::*;

use crate::check::{self, Loaded};
use crate::clock::Moment;
use crate::config::Site;
use crate::feeds;
use crate::output::{CommitStats, Output};
use crate::progress::Progress;
use crate::render::{Renderer, Theme, minify_css};
use crate::seal_diaries::{DiaryOptions, Sealed, add_diaries, batch::Schedule};
use crate::stamp;
use crate::views::{ClassRef, HomeworkIndex, Inputs};

/// What a build did.
#[derive(Debug)]
pub(crate) struct BuildReport {
    pub stats: CommitStats,
    pub warnings: usize,
    /// Diaries published (pages) and codes that open them (slots).
    pub diaries: usize,
    pub slots: usize,
    /// Encrypted payloads written anew.
    pub resealed: usize,
    /// Between two diary batches: diaries stay as published until this moment.
    pub held_until: Option<chrono::NaiveDateTime>,
    /// Children given new keys (they left a code's set), and codes whose holder left.
    pub rekeyed: usize,
    pub dormant: usize,
    /// Public pages (boards, homework, timetables…) rendered, and kept as the last build
    /// wrote them (nothing that makes them changed).
    pub pages_rendered: usize,
    pub pages_kept: usize,
    /// Where the time went, phase by phase.
    pub timings: Timings,
    /// Nothing was done: the inputs and the output are those of the last build.
    pub up_to_date: bool,
}

/// Wall-clock time per build phase, for `diary build --timings` and the benchmarks.
#[derive(Debug)]
pub(crate) struct Timings {
    last: Instant,
    pub phases: Vec<(&'static str, Duration)>,
    /// The steps of a phase, shown in brackets after it.
    pub steps: Vec<(&'static str, Vec<(&'static str, Duration)>)>,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            last: Instant::now(),
            phases: Vec::new(),
            steps: Vec::new(),
        }
    }
}

impl Timings {
    /// Ends the phase `name` now.
    pub(crate) fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.phases.push((name, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Timings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .phases
            .iter()
            .map(|(name, d)| {
                let mut text = format!("{name} {:.3} s", d.as_secs_f64());
                if let Some((_, steps)) = self
                    .steps
                    .iter()
                    .find(|(phase, steps)| phase == name && !steps.is_empty())
                {
                    let steps: Vec<String> = steps
                        .iter()
                        .map(|(step, d)| format!("{step} {:.3} s", d.as_secs_f64()))
                        .collect();
                    text.push_str(&format!(" ({})", steps.join(", ")));
                }
                text
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// How a build runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// The moment to build for, in the school's timezone.
    pub moment: Moment,
    /// Show a progress bar on a terminal.
    pub verbose: bool,
    /// Build in full even when the inputs are those of the last build (see
    /// [`crate::stamp`]), and even when more than a tenth of the diaries would go.
    pub force: bool,
    /// Publish changed diaries now instead of at the next batch time.
    pub now: bool,
}

/// The public pages the last build rendered, each by the digest of what made it (its view
/// data, template, theme, settings and this program's version). A page whose digest is the
/// one before is kept from the output folder ([`Output::keep_output`], not read) instead of
/// rendered and minified again: on a school day most boards (earlier weeks' homework,
/// timetables, events) are as they were.
pub(crate) struct PageMemo {
    context: [u8; 32],
    /// Digests of the last build's pages, when the output folder is still as it left it.
    before: BTreeMap<String, String>,
    folder: PathBuf,
    now: Mutex<BTreeMap<String, String>>,
    kept: AtomicUsize,
}

/// A public page: rendered anew, or kept as the last build wrote it.
enum Page {
    New(Vec<u8>),
    Kept,
}

/// The public pages of a build: each one's digest (`PageMemo`), and how many were kept as
/// the last build wrote them.
pub(crate) struct Pages {
    pub digests: BTreeMap<String, String>,
    pub kept: usize,
}

impl PageMemo {
    fn new(loaded: &Loaded, context: [u8; 32], last: Option<stamp::Stamp>) -> PageMemo {
        PageMemo {
            context,
            before: last.map(|s| s.pages).unwrap_or_default(),
            folder: loaded.site.output_path(),
            now: Default::default(),
            kept: Default::default(),
        }
    }

    /// [`Renderer::page`], unless nothing that makes the page changed and the last build's
    /// file is there.
    fn page<T: serde::Serialize>(
        &self,
        renderer: &Renderer,
        name: &str,
        path: &str,
        tab: &str,
        view: &T,
    ) -> Result<Page> {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.context);
        for part in [name, path, tab] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        serde_json::to_writer(&mut h, view)?;
        let digest = hex::encode(h.finalize());
        let page = if self.before.get(path) == Some(&digest) && self.folder.join(path).is_file() {
            self.kept.fetch_add(1, Ordering::Relaxed);
            Page::Kept
        } else {
            Page::New(renderer.page(name, path, tab, view)?)
        };
        if let Ok(mut now) = self.now.lock() {
            now.insert(path.to_string(), digest);
        }
        Ok(page)
    }

    /// Adds a page to the output.
    fn put(&self, out: &mut Output, path: &str, page: Page) -> Result<()> {
        match page {
            Page::New(bytes) => out.write_output(path, bytes),
            Page::Kept => out.keep_output(&self.folder, path),
        }
    }

    fn finish(self) -> Pages {
        Pages {
            digests: self.now.into_inner().unwrap_or_default(),
            kept: self.kept.into_inner(),
        }
    }
}

/// Builds the public site as of `options.moment`. Refuses to build when the checks find
/// errors; writes nothing unless everything rendered.
pub(crate) fn build(site: &Site, options: &Options) -> Result<BuildReport> {
    let today = options.moment.date;
    let mut timings = Timings::default();
    let schedule = Schedule {
        times: site.config.access.publish_times(),
    };
    let batch = if options.now {
        format!("now {}", options.moment.at())
    } else {
        schedule.slot(options.moment.at())
    };
    // An input that cannot be read is reported by the full build below.
    let digest = stamp::inputs_digest(site, today, &batch).ok();
    timings.lap("inputs");
    if !options.force
        && !options.now
        && let Some(digest) = &digest
        && let Some(last) = stamp::fresh(site, digest)
    {
        timings.lap("up to date");
        return Ok(BuildReport {
            stats: CommitStats {
                files: last.files,
                bytes: last.bytes,
                written: 0,
                removed: 0,
            },
            warnings: last.warnings,
            diaries: last.diaries,
            slots: last.slots,
            resealed: 0,
            held_until: None,
            rekeyed: 0,
            dormant: 0,
            pages_rendered: 0,
            pages_kept: 0,
            timings,
            up_to_date: true,
        });
    }
    // The theme's templates are parsed, and the last build's pages looked up, while the
    // journal is read.
    let (loaded, (theme, last)) = rayon::join(
        || check::load_with(site, &mut |phase| timings.lap(phase)),
        || {
            let theme = Theme::load(site).and_then(|theme| {
                let renderer = Renderer::new(&theme, site.config.language)?;
                Ok((theme, renderer))
            });
            // `--force` renders every page anew.
            let last = if options.force {
                None
            } else {
                stamp::last(site)
            };
            (theme, last)
        },
    );
    let loaded = loaded?;
    let errors = loaded.errors();
    if errors > 0 {
        let shown: Vec<String> = loaded
            .findings
            .iter()
            .filter(|f| f.is_error())
            .take(20)
            .map(ToString::to_string)
            .collect();
        bail!(
            "the checks found {errors} error(s); nothing was built and {} is unchanged \
             (run `diary check` for the full list):\n{}",
            site.config.output.display(),
            shown.join("\n")
        );
    }
    let (theme, renderer) = theme?;
    let diary_options = DiaryOptions {
        moment: options.moment.at(),
        now: options.now,
        force: options.force,
    };
    let (output, sealed, pages) = render_site(
        &loaded,
        &theme,
        &renderer,
        today,
        options.verbose,
        diary_options,
        last,
        &mut timings,
    )?;
    let warnings = loaded.findings.len();
    // The journal and the theme are freed on a thread of their own while the output is
    // committed: on the way out, a few hundred thousand rows.
    // Not joined: the thread ends on its own (with the process, at the latest).
    let _ = std::thread::Builder::new()
        .name("free".into())
        .spawn(move || drop((loaded, renderer, theme)));
    let stats = output.commit(&site.output_path())?;
    let (pages_rendered, pages_kept) = (pages.digests.len() - pages.kept, pages.kept);
    // Only now do the published payloads match the manifest.
    if let Some(store) = &sealed.store {
        store.save_manifest(&sealed.manifest)?;
    }
    timings.lap("write");
    // The build may have written the store (new keys): the next build reads that one.
    let digest = if sealed.store_changed {
        stamp::inputs_digest(site, today, &batch).ok()
    } else {
        digest
    };
    match digest {
        Some(digest) => stamp::save(
            site,
            stamp::Stamp {
                inputs: digest,
                output: String::new(),
                files: stats.files,
                bytes: stats.bytes,
                warnings,
                diaries: sealed.pages,
                slots: sealed.slots,
                pages: pages.digests,
            },
        ),
        None => stamp::forget(site),
    }
    Ok(BuildReport {
        stats,
        warnings,
        diaries: sealed.pages,
        slots: sealed.slots,
        resealed: sealed.resealed,
        held_until: sealed.held_until,
        rekeyed: sealed.rekeyed,
        dormant: sealed.dormant,
        pages_rendered,
        pages_kept,
        timings,
        up_to_date: false,
    })
}

/// Renders every public page into memory.
/// `last`: the stamp of the last build, when the output folder is as that build left it
/// (its pages' digests). Returns the output, the diaries and the digests of the pages.
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_site(
    loaded: &Loaded,
    theme: &Theme,
    renderer: &Renderer,
    today: NaiveDate,
    verbose: bool,
    diary: DiaryOptions,
    last: Option<stamp::Stamp>,
    timings: &mut Timings,
) -> Result<(Output, Sealed, Pages)> {
    let context = theme.render_context(&loaded.site.config);
    let memo = PageMemo::new(loaded, context, last);
    let inputs = Inputs::new(
        &loaded.journal,
        &loaded.site.config,
        &loaded.posts,
        &renderer.strings,
        today,
    );
    let tz = loaded.site.config.tz();
    let mut out = Output::new();
    out.spill_beside(&loaded.site.output_path())?;
    let mut sitemap = Vec::new();
    let refs = inputs.class_refs();

    let mut page = |out: &mut Output, path: &str, page: Page| -> Result<()> {
        if path.ends_with(".html") {
            sitemap.push(inputs.absolute(path));
        }
        memo.put(out, path, page)
    };

    let index = inputs.index_page(&refs);
    page(
        &mut out,
        "index.html",
        memo.page(renderer, "index.html", "index.html", "", &index)?,
    )?;
    let school_feed = inputs.feed_entries(&index.announcements, "index.html");
    let title = inputs.site_title();
    out.write_output(
        "feed.xml",
        feeds::atom(
            &title,
            &inputs.absolute("feed.xml"),
            &inputs.absolute("index.html"),
            tz,
            &school_feed,
        ),
    )?;
    out.write_output("events.ics", inputs.icalendar(None))?;
    let classes = inputs.classes_page(&refs);
    let path = "classes/index.html";
    page(
        &mut out,
        path,
        memo.page(renderer, "classes.html", path, "", &classes)?,
    )?;

    let homework = HomeworkIndex::new(&loaded.journal);
    let progress = Progress::new("classes", refs.len() as u64, verbose);
    // Each class's pages, rendered beside the diaries: the diaries' steps that run on one
    // thread (binding the codes, looking at the files published before) leave the other
    // core to the boards. Both only read; the pages are added in class order after.
    let (per_class, sealed) = rayon::join(
        || -> Result<(Vec<ClassFiles>, Duration)> {
            let started = Instant::now();
            let pages = refs
                .par_iter()
                .map(|class| {
                    let files = class_pages(&inputs, renderer, &memo, &homework, class, &title);
                    progress.inc(1);
                    files
                })
                .collect::<Result<_>>()?;
            Ok((pages, started.elapsed()))
        },
        || {
            add_diaries(
                loaded, &inputs, renderer, &refs, &homework, &context, diary, &mut out,
            )
        },
    );
    let (per_class, boards) = per_class?;
    let sealed = sealed?;
    for (path, file, listed) in per_class.into_iter().flatten() {
        if listed {
            page(&mut out, &path, file)?;
        } else {
            memo.put(&mut out, &path, file)?;
        }
    }
    progress.finish();
    timings.lap("boards and diaries");
    let mut steps = vec![("boards", boards)];
    steps.extend(sealed.steps.iter().map(|(step, d)| (*step, *d)));
    timings.steps.push(("boards and diaries", steps));
    out.write_output("sitemap.xml", feeds::sitemap(&sitemap))?;
    out.write_output("robots.txt", feeds::robots(&loaded.site.config.base_url))?;
    out.write_output("_headers", crate::output::headers_file())?;
    for (path, bytes) in theme.static_files() {
        let bytes = if path.ends_with(".css") {
            minify_css(bytes)
        } else {
            bytes.to_vec()
        };
        out.write_output(&format!("static/{path}"), bytes)?;
    }
    let school = &loaded.journal.school;
    crate::webapp::write(
        &mut out,
        renderer,
        theme,
        &title,
        &school.short_name,
        renderer.strings.lang,
    )?;
    Ok((out, sealed, memo.finish()))
}

/// A class's public pages: (path, page, listed in the sitemap).
type ClassFiles = Vec<(String, Page, bool)>;

/// The pages of one class: its board and feed, homework weeks, timetable and events.
fn class_pages(
    inputs: &Inputs,
    renderer: &Renderer,
    memo: &PageMemo,
    homework: &HomeworkIndex,
    class: &ClassRef,
    title: &str,
) -> Result<ClassFiles> {
    let tz = inputs.config.tz();
    let mut files = Vec::new();
    let board = inputs.class_board(class);
    let html = memo.page(renderer, "class.html", &class.url, "board", &board)?;
    files.push((class.url.clone(), html, true));
    let entries = inputs.feed_entries(&board.announcements, &class.url);
    let feed = feeds::atom(
        &format!("{} · {title}", class.name),
        &inputs.absolute(&class.feed_url),
        &inputs.absolute(&class.url),
        tz,
        &entries,
    );
    files.push((class.feed_url.clone(), Page::New(feed.into()), false));
    for (path, hw) in inputs.homework_pages(class, homework) {
        let html = memo.page(renderer, "homework.html", &path, "homework", &hw)?;
        files.push((path, html, true));
    }
    let tt = inputs.timetable_page(class, homework);
    let html = memo.page(
        renderer,
        "timetable.html",
        &class.timetable_url,
        "timetable",
        &tt,
    )?;
    files.push((class.timetable_url.clone(), html, true));
    let ev = inputs.events_page(class);
    let html = memo.page(renderer, "events.html", &class.events_url, "events", &ev)?;
    files.push((class.events_url.clone(), html, true));
    files.push((
        class.ics_url.clone(),
        Page::New(inputs.icalendar(Some(class)).into()),
        false,
    ));
    Ok(files)
}

/// What a user should know about the diaries after a build, one line each.
pub(crate) fn diary_notes(report: &BuildReport) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(at) = report.held_until {
        out.push(format!(
            "diaries: as published at the last batch; changes go out together at {} \
             ([access] publish_at), or now with `diary build --now`",
            at.format("%Y-%m-%d %H:%M")
        ));
    }
    if report.rekeyed > 0 {
        out.push(format!(
            "diaries: {} child(ren) got new keys because a code no longer opens them (a guardian \
             unlinked or gone); their other holders' codes keep working",
            report.rekeyed
        ));
    }
    if report.dormant > 0 {
        out.push(format!(
            "codes: {} active code(s) open nothing because their holder is no longer in the \
             journal; `diary codes list` shows them (revoke them if they should stay closed)",
            report.dormant
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::codes::{self, Scope};

    fn at(site: &Site, moment: &str, now: bool) -> BuildReport {
        build(
            site,
            &Options {
                moment: Moment::parse(moment).unwrap(),
                verbose: false,
                force: false,
                now,
            },
        )
        .unwrap()
    }

    fn diary_files(site: &Site) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for dir in ["diary/c", "diary/k"] {
            for e in std::fs::read_dir(site.output_path().join(dir)).unwrap() {
                let e = e.unwrap();
                out.push((
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                ));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_build_is_skipped_when_nothing_changed_and_diaries_wait_for_the_batch() {
        let (_tmp, site) = crate::demo::test_site(25);
        let today = Moment::parse("2026-11-24").unwrap().date;
        let j = crate::check::load(&site).unwrap().journal;
        codes::issue(&site, &j, &Scope::default(), codes::PupilCodes::None, today).unwrap();

        let first = at(&site, "2026-11-24 15:10", false);
        assert!(!first.up_to_date);
        // Every pupil but the children of families on paper only.
        assert_eq!(first.diaries, crate::demo::pupils_online(&j).len());
        assert!(first.diaries < 25);
        assert!(first.slots > 0);
        assert_eq!(first.held_until, None, "the first build publishes");
        assert!(at(&site, "2026-11-24 15:20", false).up_to_date);

        // A mark between batches: boards rebuilt, diaries held until 20:00.
        let before = diary_files(&site);
        let conn = rusqlite::Connection::open(site.journal_path()).unwrap();
        conn.execute(
            "UPDATE marks SET value = '2' WHERE id = (SELECT min(id) FROM marks)",
            [],
        )
        .unwrap();
        drop(conn);
        let held = at(&site, "2026-11-24 16:00", false);
        assert!(!held.up_to_date);
        assert_eq!(
            held.held_until.map(|t| t.to_string()).as_deref(),
            Some("2026-11-24 20:00:00")
        );
        assert_eq!(diary_files(&site), before);
        assert_eq!(
            diary_notes(&held).len(),
            1,
            "one line says when diaries go out"
        );

        // `--now`: the first mark of the year is in September, so every chunk of the first
        // term's part and every `now` chunk (its marks by period) is sealed anew; the slots
        // and the second term's part stay byte for byte.
        let now = at(&site, "2026-11-24 16:05", true);
        assert_eq!(now.held_until, None);
        assert_eq!(now.resealed, 2 * now.diaries);
        let after = diary_files(&site);
        assert_eq!(after.len(), before.len());
        assert_eq!(after.len(), 3 * now.diaries + now.slots);
        let changed = after
            .iter()
            .zip(&before)
            .filter(|(a, b)| {
                assert_eq!(a.0, b.0, "the same files");
                a.1 != b.1
            })
            .count();
        assert_eq!(changed, 2 * now.diaries);
    }
}
