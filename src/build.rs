//! `diary check` and `diary build`: load everything, validate, render, write.

use anyhow::{Result, bail};
use chrono::NaiveDate;

use crate::check::{self, Finding};
use crate::config::Site;
use crate::content::{self, Post, PostAudience};
use crate::journal::{self, Journal};
use crate::output::{CommitStats, Output};
use crate::render::{Renderer, Theme, root_of};
use crate::views::Inputs;

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
}

/// Builds the public site for the day `today` (in the school's timezone). Refuses to build
/// when the checks find errors; writes nothing unless everything rendered.
pub fn build(site: &Site, today: NaiveDate) -> Result<BuildReport> {
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
    let output = render_site(&loaded, today)?;
    let stats = output.commit(&site.output_path())?;
    Ok(BuildReport {
        stats,
        warnings: loaded.findings.len(),
    })
}

/// Renders every public page into memory.
pub fn render_site(loaded: &Loaded, today: NaiveDate) -> Result<Output> {
    let theme = Theme::load(&loaded.site)?;
    let renderer = Renderer::new(&theme, loaded.site.config.language)?;
    let inputs = Inputs {
        journal: &loaded.journal,
        config: &loaded.site.config,
        posts: &loaded.posts,
        strings: &renderer.strings,
        today,
    };
    let mut out = Output::new();
    let links = inputs.class_links();
    let index = inputs.index_page(&links);
    out.write_output("index.html", renderer.render("index.html", "", &index)?)?;
    for page in inputs.homework_pages(&links, inputs.board_monday()) {
        let path = page.class.url.clone();
        out.write_output(
            &path,
            renderer.render("homework.html", &root_of(&path), &page)?,
        )?;
    }
    for (path, bytes) in theme.static_files() {
        out.write_output(&format!("static/{path}"), bytes)?;
    }
    Ok(out)
}
