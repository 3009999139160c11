//! `diary check` and `diary build`: load everything, validate, render, write.

use anyhow::{Result, bail};
use chrono::NaiveDate;

use crate::check::{self, Finding};
use crate::config::Site;
use crate::content::{self, Post, PostAudience};
use crate::diary::{Sealed, add_diaries};
use crate::feeds;
use crate::journal::{self, Journal};
use crate::output::{CommitStats, Output};
use crate::progress::Progress;
use crate::render::{Renderer, Theme, minify_css};
use crate::views::{HomeworkIndex, Inputs};

/// A site with its journal and content loaded and checked.
pub struct Loaded {
    pub site: Site,
    pub journal: Journal,
    pub posts: Vec<Post>,
    /// Everything the checks found, errors first, then in the order found.
    pub findings: Vec<Finding>,
}

impl Loaded {
    pub fn errors(&self) -> usize {
        check::summary(&self.findings).0
    }
}

/// Loads and checks a site: settings (an error stops here), content/, and the journal
/// (opened read-only).
pub fn load(site: &Site) -> Result<Loaded> {
    let (posts, mut findings) = content::load(&site.root)?;
    let conn = journal::open_read_only(&site.journal_path())?;
    let (journal, journal_findings) = Journal::load(&conn)?;
    drop(conn);
    findings.extend(journal_findings);
    findings.extend(check::check_journal(&journal, &site.config));
    findings.extend(check_posts(&posts, &journal));
    for name in crate::grades::unmatched_weight_names(&journal.work_types, &site.config.grading) {
        findings.push(Finding::warning(
            crate::config::SITE_FILE,
            String::new(),
            Some("[grading.weights]"),
            format!("{name:?} matches no work type of the journal (work_types.name)"),
        ));
    }
    findings.sort_by_key(|f| f.severity);
    Ok(Loaded {
        site: site.clone(),
        journal,
        posts,
        findings,
    })
}

/// Announcements in content/ that name a class must name one the journal knows.
fn check_posts(posts: &[Post], journal: &Journal) -> Vec<Finding> {
    posts
        .iter()
        .filter_map(|p| match &p.audience {
            PostAudience::Class(name) if !journal.classes.iter().any(|c| &c.name == name) => {
                Some(Finding::error(
                    p.file.display().to_string(),
                    String::new(),
                    Some("class"),
                    format!("no class named {name:?} in the journal"),
                ))
            }
            _ => None,
        })
        .collect()
}

/// What a build did.
#[derive(Debug)]
pub struct BuildReport {
    pub stats: CommitStats,
    pub warnings: usize,
    /// Diaries published (pages) and codes that open them (slots).
    pub diaries: usize,
    pub slots: usize,
    /// Encrypted payloads written anew.
    pub resealed: usize,
}

/// Builds the public site for the day `today` (in the school's timezone). Refuses to build
/// when the checks find errors; writes nothing unless everything rendered.
pub fn build(site: &Site, today: NaiveDate, verbose: bool) -> Result<BuildReport> {
    let loaded = load(site)?;
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
    let (output, sealed) = render_site(&loaded, today, verbose)?;
    let stats = output.commit(&site.output_path())?;
    // Only now do the published payloads match the manifest.
    if let Some(store) = &sealed.store {
        store.save_manifest(&sealed.manifest)?;
    }
    Ok(BuildReport {
        stats,
        warnings: loaded.findings.len(),
        diaries: sealed.pages,
        slots: sealed.slots,
        resealed: sealed.resealed,
    })
}

/// Renders every public page into memory.
pub fn render_site(loaded: &Loaded, today: NaiveDate, verbose: bool) -> Result<(Output, Sealed)> {
    let theme = Theme::load(&loaded.site)?;
    let renderer = Renderer::new(&theme, loaded.site.config.language)?;
    let inputs = Inputs {
        journal: &loaded.journal,
        config: &loaded.site.config,
        posts: &loaded.posts,
        strings: &renderer.strings,
        today,
    };
    let tz = loaded.site.config.tz();
    let mut out = Output::new();
    let mut sitemap = Vec::new();
    let refs = inputs.class_refs();

    let mut page = |out: &mut Output, path: &str, bytes: Vec<u8>| -> Result<()> {
        if path.ends_with(".html") {
            sitemap.push(inputs.absolute(path));
        }
        out.write_output(path, bytes)
    };

    let index = inputs.index_page(&refs);
    page(
        &mut out,
        "index.html",
        renderer.page("index.html", "index.html", "", &index)?,
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
        renderer.page("classes.html", path, "", &classes)?,
    )?;

    let homework = HomeworkIndex::new(&loaded.journal);
    let progress = Progress::new("classes", refs.len() as u64, verbose);
    for class in &refs {
        let board = inputs.class_board(class);
        page(
            &mut out,
            &class.url,
            renderer.page("class.html", &class.url, "board", &board)?,
        )?;
        let entries = inputs.feed_entries(&board.announcements, &class.url);
        out.write_output(
            &class.feed_url,
            feeds::atom(
                &format!("{} · {title}", class.name),
                &inputs.absolute(&class.feed_url),
                &inputs.absolute(&class.url),
                tz,
                &entries,
            ),
        )?;
        for (path, hw) in inputs.homework_pages(class, &homework) {
            page(
                &mut out,
                &path,
                renderer.page("homework.html", &path, "homework", &hw)?,
            )?;
        }
        let tt = inputs.timetable_page(class);
        page(
            &mut out,
            &class.timetable_url,
            renderer.page("timetable.html", &class.timetable_url, "timetable", &tt)?,
        )?;
        let ev = inputs.events_page(class);
        page(
            &mut out,
            &class.events_url,
            renderer.page("events.html", &class.events_url, "events", &ev)?,
        )?;
        out.write_output(&class.ics_url, inputs.icalendar(Some(class)))?;
        progress.inc(1);
    }
    progress.finish();

    let sealed = add_diaries(
        loaded,
        &inputs,
        &renderer,
        &refs,
        &homework,
        &theme.fingerprint(),
        &mut out,
    )?;
    out.write_output("sitemap.xml", feeds::sitemap(&sitemap))?;
    out.write_output("robots.txt", feeds::robots(&loaded.site.config.base_url))?;
    for (path, bytes) in theme.static_files() {
        let bytes = if path.ends_with(".css") {
            minify_css(bytes)
        } else {
            bytes.to_vec()
        };
        out.write_output(&format!("static/{path}"), bytes)?;
    }
    Ok((out, sealed))
}
