//! `diary print …`: weekly and monthly sheets for families, period report cards, the
//! class summary sheet, the class and school reports, the class journal for the archive,
//! the attention list and each pupil's diary as a standalone page, written as HTML (and
//! PDF with `--pdf`) into the private print folder.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use super::data::{self, Index};
use super::{
    attention, class_report, diaries, family, journal, pdf, report, summary, write_private,
    write_private_folder,
};
use crate::clock::Moment;
use crate::config::Site;
use crate::journal::Class;
use crate::render::{Renderer, Theme};
use crate::text::slug;

#[derive(clap::Subcommand)]
pub(crate) enum PrintCommand {
    /// One A4 sheet per pupil for a week: lessons and topics, homework, marks, absences,
    /// teachers' remarks, next week's events, the class teacher, the parent's signature.
    Weekly {
        #[command(flatten)]
        class: ClassArg,
        /// The week: an ISO week (2026-W48) or any day of it. Default: the week just
        /// ended (this week from its last school day on).
        #[arg(long, value_name = "WEEK")]
        week: Option<String>,
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        options: Options,
    },
    /// The same for a calendar month, on at most two pages per pupil.
    Monthly {
        #[command(flatten)]
        class: ClassArg,
        /// The month (2026-11). Default: the month just ended (this month from its last
        /// school day on).
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<String>,
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        options: Options,
    },
    /// A report card per pupil for a period: marks, weighted average, period mark, absences.
    Report {
        #[command(flatten)]
        class: ClassArg,
        /// The period: its name ("2 четверть"), a term's number (2) or `year`.
        #[arg(long)]
        period: String,
        /// The academic year (2026/2027, or 2026). Default: the class's latest.
        #[arg(long, value_name = "YEAR")]
        year: Option<String>,
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        options: Options,
    },
    /// The class report for a period: успеваемость, качество, the average mark, pupils
    /// with no marks or one mark, lessons and days missed by reason, by subject and for the
    /// class; with `--class all` also the school page (one line a class and the total).
    ClassReport {
        #[command(flatten)]
        class: ClassArg,
        /// The period: its name ("2 четверть"), a term's number (2) or `year`.
        #[arg(long)]
        period: String,
        /// The academic year (2026/2027, or 2026). Default: the class's latest.
        #[arg(long, value_name = "YEAR")]
        year: Option<String>,
        /// `html` (A4 landscape pages) or `csv` (one table for a spreadsheet).
        #[arg(long, value_enum, default_value = "html")]
        format: ReportFormat,
        #[command(flatten)]
        options: Options,
    },
    /// The class summary sheet of period and year marks (landscape), for the archive.
    Summary {
        #[command(flatten)]
        class: ClassArg,
        /// The academic year (2026/2027, or 2026). Default: the class's latest.
        #[arg(long, value_name = "YEAR")]
        year: Option<String>,
        #[command(flatten)]
        options: Options,
    },
    /// The class journal of a whole academic year for the archive (landscape): title page
    /// with the count of sheets, contents, each subject's lessons, marks grid and
    /// absences, and a final page of period marks and absences. The count of sheets is the
    /// count of pages Chromium prints (one-sided); without Chromium it is left blank.
    Journal {
        #[command(flatten)]
        class: ClassArg,
        /// The academic year (2026/2027, or 2026). Default: the class's latest.
        #[arg(long, value_name = "YEAR")]
        year: Option<String>,
        #[command(flatten)]
        options: Options,
    },
    /// The attention list of a class: pupils who are failing or short of marks near a
    /// term's end, miss lessons without a valid reason or without a reason, or owe work,
    /// with their guardians' contacts (one file per class).
    Attention {
        #[command(flatten)]
        class: ClassArg,
        #[command(flatten)]
        options: Options,
    },
    /// Each pupil's diary as a standalone HTML page (what the online diary shows, without
    /// a code), one file per pupil named by the pupil's id, in `diaries-<class>/`.
    Diaries {
        #[command(flatten)]
        class: ClassArg,
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        options: Options,
    },
}

impl PrintCommand {
    /// The pupils the command prints for (every pupil of the classes unless narrowed).
    fn who(&self) -> &Who {
        static EVERYONE: Who = Who {
            paper: false,
            student: None,
        };
        match self {
            PrintCommand::Weekly { who, .. }
            | PrintCommand::Monthly { who, .. }
            | PrintCommand::Report { who, .. }
            | PrintCommand::Diaries { who, .. } => who,
            PrintCommand::Summary { .. }
            | PrintCommand::ClassReport { .. }
            | PrintCommand::Journal { .. }
            | PrintCommand::Attention { .. } => &EVERYONE,
        }
    }
}

/// What `diary print class-report` writes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    Html,
    Csv,
}

#[derive(clap::Args)]
pub(crate) struct ClassArg {
    /// The class (5Б or 5b), or `all` for every class of the year.
    #[arg(long)]
    class: String,
}

/// Which pupils of the classes get a printout.
#[derive(clap::Args, Default)]
pub(crate) struct Who {
    /// Only pupils whose families receive the diary on paper: every guardian has
    /// `delivery = 'paper'` (no one holds a code for them).
    #[arg(long)]
    paper: bool,
    /// Only this pupil (the journal id, as `diary codes list` shows it).
    #[arg(long, value_name = "ID")]
    student: Option<crate::journal::Id>,
}

impl Who {
    /// What the options narrow the pupils to, in words, if anything.
    pub(super) fn narrowing(&self) -> Option<String> {
        match (self.student, self.paper) {
            (Some(id), true) => Some(format!("pupil id {id}, if the family is on paper")),
            (Some(id), false) => Some(format!("pupil id {id}")),
            (None, true) => Some("families that receive the diary on paper".into()),
            (None, false) => None,
        }
    }

    /// Why a class has nobody to print for.
    pub(super) fn nobody(&self, class: &str) -> String {
        match self.narrowing() {
            Some(n) => format!("class {class} has no pupils to print for ({n})"),
            None => format!("class {class} has no pupils: nothing to print"),
        }
    }

    pub(super) fn keeps(&self, j: &crate::journal::Journal, s: &crate::journal::Student) -> bool {
        let on_paper = || {
            let guardians = j.guardians_of(s.id);
            !guardians.is_empty()
                && guardians.iter().all(|g| {
                    j.guardian(*g)
                        .is_some_and(|g| g.delivery == crate::journal::Delivery::Paper)
                })
        };
        self.student.is_none_or(|id| id == s.id) && (!self.paper || on_paper())
    }
}

#[derive(clap::Args)]
pub(crate) struct Options {
    /// Also write a PDF next to each HTML file, through headless Chromium (`chromium` on
    /// PATH, `chromium = "…"` in site.toml, or DIARY_CHROMIUM=/path/to/chromium).
    #[arg(long)]
    pdf: bool,
    /// Print as of this day (YYYY-MM-DD) instead of today in the school's timezone.
    #[arg(long, env = "DIARY_TODAY", value_name = "DATE", value_parser = Moment::parse)]
    today: Option<Moment>,
}

/// One printout file, rendered.
struct Printout {
    name: String,
    html: String,
    sheets: usize,
}

/// Runs `diary print …` for the site in `root`.
pub(crate) fn run(root: &Path, cmd: PrintCommand) -> Result<ExitCode> {
    let started = Instant::now();
    let site = Site::load(root)?;
    check_private(&site)?;
    let who = cmd.who();
    let (class_arg, options, year_arg) = match &cmd {
        PrintCommand::Weekly { class, options, .. }
        | PrintCommand::Monthly { class, options, .. }
        | PrintCommand::Diaries { class, options, .. }
        | PrintCommand::Attention { class, options } => (class, options, None),
        PrintCommand::Report {
            class,
            options,
            year,
            ..
        }
        | PrintCommand::Summary {
            class,
            options,
            year,
        }
        | PrintCommand::ClassReport {
            class,
            options,
            year,
            ..
        }
        | PrintCommand::Journal {
            class,
            options,
            year,
        } => (class, options, year.as_deref()),
    };
    let today = Moment::or_now(options.today, site.config.tz()).date;
    let loaded = crate::check::load(&site)?;
    if loaded.errors() > 0 {
        let first = loaded.findings.iter().find(|f| f.is_error());
        bail!(
            "the checks found {} error(s); nothing was printed (run `diary check`). The first: {}",
            loaded.errors(),
            first.map(ToString::to_string).unwrap_or_default()
        );
    }
    let j = &loaded.journal;
    let theme = Theme::load(&site)?;
    let renderer = Renderer::new(&theme, site.config.language)?;
    let mut ix = Index::new(j, &site.config, &renderer.strings);
    ix.posts = &loaded.posts;
    ix.keep_pupils(|s| who.keeps(j, s));
    let days = site.config.school_days;
    let start = match &cmd {
        PrintCommand::Weekly { week: Some(w), .. } => data::parse_week(w)?,
        PrintCommand::Weekly { week: None, .. } => data::default_week(today, days),
        PrintCommand::Monthly { month: Some(m), .. } => data::parse_month(m)?,
        PrintCommand::Monthly { month: None, .. } => data::default_month(today, days),
        _ => today,
    };
    // A week or a month is printed for the classes of the academic year it falls in.
    let year = match (&cmd, year_arg) {
        (_, Some(y)) => Some(data::find_year(j, y)?),
        (PrintCommand::Weekly { .. } | PrintCommand::Monthly { .. }, None) => j
            .years
            .iter()
            .find(|y| y.starts_on <= start && start <= y.ends_on),
        _ => None,
    };
    if matches!(cmd, PrintCommand::Journal { .. }) && data::is_all(&class_arg.class) {
        bail!("diary print journal prints one class at a time: name it with --class (5А)");
    }
    let classes = data::classes(j, &class_arg.class, year, today)?;
    let all = data::is_all(&class_arg.class);
    if let (Some(name), Some(y)) = (year_arg, year)
        && let Some(c) = classes.iter().find(|c| c.year_id != y.id)
    {
        bail!("class {} is not in the academic year {name}", c.name);
    }
    if let PrintCommand::ClassReport { period, format, .. } = &cmd {
        return print_class_report(
            &site,
            &ix,
            &renderer,
            &classes,
            period,
            *format,
            all,
            today,
            options.pdf,
            started,
        );
    }
    if let PrintCommand::Journal { .. } = cmd {
        return print_journal(
            &site,
            &ix,
            &renderer,
            classes[0],
            today,
            options.pdf,
            started,
        );
    }
    if let PrintCommand::Diaries { .. } = cmd {
        return print_diaries(
            &loaded,
            &theme,
            &renderer,
            &classes,
            who,
            all,
            today,
            options.pdf,
            started,
        );
    }

    // Everything is rendered in memory first: a bad class, week or period writes nothing.
    let rendered: Vec<(&Class, Result<Printout>)> = if let PrintCommand::Attention { .. } = cmd {
        attention::documents(&loaded, &renderer, &classes, today)
            .into_iter()
            .map(|(class, doc)| {
                let html = attention::render(&renderer, &doc).map(|html| Printout {
                    name: attention::file_name(class, today),
                    html,
                    sheets: 1,
                });
                (class, html)
            })
            .collect()
    } else {
        classes
            .par_iter()
            .map(|class| (*class, printout(&ix, &renderer, &cmd, class, start, today)))
            .collect()
    };
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for (class, result) in rendered {
        match result {
            Ok(p) => files.push(p),
            Err(e) if all => skipped.push(format!("{}: {e:#}", class.name)),
            Err(e) => return Err(e),
        }
    }
    if files.is_empty() {
        nothing_to_print(&skipped)?;
    }
    let dir = site.print_path();
    let mut written: Vec<PathBuf> = Vec::new();
    for f in &files {
        written.push(write_private(&dir, &f.name, f.html.as_bytes())?);
    }
    let sheets: usize = files.iter().map(|f| f.sheets).sum();
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    let html_secs = started.elapsed().as_secs_f64();
    let what = if written.len() == 1 {
        written[0].display().to_string()
    } else {
        format!("{} files in {}", written.len(), dir.display())
    };
    eprintln!(
        "wrote {sheets} sheet(s) to {what} in {html_secs:.2} s (private: keep them out of the public site)"
    );
    if options.pdf {
        pdfs_of(&site, &what, &written)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `diary print journal`: one class's journal, its sheets counted through Chromium.
fn print_journal(
    site: &Site,
    ix: &Index,
    renderer: &Renderer,
    class: &Class,
    today: NaiveDate,
    want_pdf: bool,
    started: Instant,
) -> Result<ExitCode> {
    let chromium = pdf::find_chromium(&site.config.chromium, &site.root);
    let w = journal::write(
        ix,
        renderer,
        class,
        today,
        chromium,
        want_pdf,
        &site.print_path(),
    )?;
    let secs = started.elapsed().as_secs_f64();
    match (&w.pdf, w.sheets) {
        (Some(pdf), Some(n)) => eprintln!(
            "wrote the journal of class {}: {} and {} ({n} sheet(s), one-sided) in {secs:.1} s \
             (private: keep them out of the public site)",
            class.name,
            w.html.display(),
            pdf.display()
        ),
        (None, Some(n)) => eprintln!(
            "wrote the journal of class {} to {} ({n} sheet(s) when printed one-sided from \
             Chromium) in {secs:.1} s (private: keep it out of the public site)",
            class.name,
            w.html.display()
        ),
        _ => eprintln!(
            "wrote the journal of class {} to {} in {secs:.1} s with the count of sheets left \
             blank (write it in by hand after printing): {} (private: keep it out of the \
             public site)",
            class.name,
            w.html.display(),
            w.blank_because
                .as_deref()
                .unwrap_or("it could not be counted")
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Fails with the first reasons why no class had anything to print.
fn nothing_to_print(skipped: &[String]) -> Result<()> {
    let more = skipped.len().saturating_sub(3);
    bail!(
        "nothing to print:\n{}{}",
        skipped[..skipped.len().min(3)].join("\n"),
        if more > 0 {
            format!("\n… and {more} more class(es)")
        } else {
            String::new()
        }
    );
}

/// `diary print diaries`: one folder per class, one standalone page per pupil. Everything
/// is rendered before anything is written; each class's folder is replaced whole.
#[allow(clippy::too_many_arguments)]
fn print_diaries(
    loaded: &crate::check::Loaded,
    theme: &Theme,
    renderer: &Renderer,
    classes: &[&Class],
    who: &Who,
    all: bool,
    today: NaiveDate,
    pdf: bool,
    started: Instant,
) -> Result<ExitCode> {
    let site = &loaded.site;
    let mut folders = Vec::new();
    let mut skipped = Vec::new();
    for (class, result) in diaries::render(loaded, theme, renderer, classes, who, today) {
        match result {
            Ok(d) => folders.push(d),
            Err(e) if all => skipped.push(format!("{}: {e:#}", class.name)),
            Err(e) => return Err(e),
        }
    }
    if folders.is_empty() {
        nothing_to_print(&skipped)?;
    }
    let dir = site.print_path();
    let mut written: Vec<PathBuf> = Vec::new();
    let mut pages: Vec<PathBuf> = Vec::new();
    for f in &folders {
        let path = write_private_folder(&dir, &f.folder, &f.files)?;
        pages.extend(
            f.files
                .iter()
                .filter(|(name, _)| name != "index.html")
                .map(|(name, _)| path.join(name)),
        );
        written.push(path);
    }
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    let pupils: usize = folders.iter().map(|f| f.pupils).sum();
    let what = if written.len() == 1 {
        written[0].display().to_string()
    } else {
        format!("{} folders in {}", written.len(), dir.display())
    };
    eprintln!(
        "wrote {pupils} diar{} to {what} in {:.2} s (private: keep them out of the public site)",
        if pupils == 1 { "y" } else { "ies" },
        started.elapsed().as_secs_f64()
    );
    if pdf {
        pdfs_of(site, &what, &pages)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `diary print class-report`: a page per class (and with `all` the school page), or one
/// CSV table. Everything is computed before anything is written.
#[allow(clippy::too_many_arguments)]
fn print_class_report(
    site: &Site,
    ix: &Index,
    renderer: &Renderer,
    classes: &[&Class],
    period: &str,
    format: ReportFormat,
    all: bool,
    today: NaiveDate,
    pdf: bool,
    started: Instant,
) -> Result<ExitCode> {
    if pdf && format == ReportFormat::Csv {
        bail!("--pdf makes a PDF of the HTML pages: use it without --format csv");
    }
    let computed: Vec<(&Class, Result<class_report::ClassReport>)> = classes
        .par_iter()
        .map(|class| (*class, class_report::class_report(ix, class, period, today)))
        .collect();
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    for (class, result) in computed {
        match result.and_then(|r| class_report::require_marks(&r).map(|()| r)) {
            Ok(r) => reports.push(r),
            Err(e) if all => skipped.push(format!("{}: {e:#}", class.name)),
            Err(e) => return Err(e),
        }
    }
    if reports.is_empty() {
        nothing_to_print(&skipped)?;
    }
    let school = all.then(|| class_report::school(ix, &reports, today));
    let first = &reports[0];
    let tail = format!("{}-{}", slug(&first.year), slug(&first.period));
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    match format {
        ReportFormat::Csv => {
            let who = if all {
                "all".to_string()
            } else {
                slug(&first.class)
            };
            files.push((
                format!("class-report-{who}-{tail}.csv"),
                class_report::csv(ix, &reports, school.as_ref())?,
            ));
        }
        ReportFormat::Html => {
            if let Some(sc) = &school {
                files.push((
                    format!("school-report-{tail}.html"),
                    render(renderer, "print/school_report.html", sc)?.into_bytes(),
                ));
            }
            for r in &reports {
                files.push((
                    format!("class-report-{}-{tail}.html", slug(&r.class)),
                    render(renderer, "print/class_report.html", r)?.into_bytes(),
                ));
            }
        }
    }
    let dir = site.print_path();
    let mut written = Vec::new();
    for (name, bytes) in &files {
        written.push(write_private(&dir, name, bytes)?);
    }
    for s in &skipped {
        eprintln!("skipped {s}");
    }
    let what = if written.len() == 1 {
        written[0].display().to_string()
    } else {
        format!("{} files in {}", written.len(), dir.display())
    };
    eprintln!(
        "wrote the report of {} class(es) to {what} in {:.2} s (private: keep it out of the public site)",
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    if pdf {
        pdfs_of(site, &what, &written)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Printouts hold children's data: the print folder must not be inside the public site.
fn check_private(site: &Site) -> Result<()> {
    let print = normalize(&site.print_path());
    let output = normalize(&site.output_path());
    if print.starts_with(&output) || output.starts_with(&print) {
        bail!(
            "print_dir ({}) and output ({}) in site.toml overlap; printouts hold children's data \
             and must stay out of the public site: choose another print_dir",
            site.config.print_dir.display(),
            site.config.output.display()
        );
    }
    Ok(())
}

fn normalize(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

fn render<T: Serialize>(renderer: &Renderer, template: &str, doc: &T) -> Result<String> {
    renderer.render(template, "", doc)
}

/// Renders one class's printout; `start` is the first day of the week or month printed.
fn printout(
    ix: &Index,
    renderer: &Renderer,
    cmd: &PrintCommand,
    class: &Class,
    start: NaiveDate,
    today: NaiveDate,
) -> Result<Printout> {
    let class_slug = slug(&class.name);
    if ix.pupils(class.id).is_empty() {
        bail!("{}", cmd.who().nobody(&class.name));
    }
    match cmd {
        PrintCommand::Weekly { .. } => {
            let monday = start;
            let doc = family::weekly(ix, class, monday, today)?;
            Ok(Printout {
                name: format!("weekly-{class_slug}-{}.html", data::week_name(monday)),
                html: render(renderer, "print/weekly.html", &doc)?,
                sheets: doc.sheets.len(),
            })
        }
        PrintCommand::Monthly { .. } => {
            let first = start;
            let doc = family::monthly(ix, class, first, today)?;
            Ok(Printout {
                name: format!("monthly-{class_slug}-{}.html", first.format("%Y-%m")),
                html: render(renderer, "print/monthly.html", &doc)?,
                sheets: doc.sheets.len(),
            })
        }
        PrintCommand::Report { period, .. } => {
            let year = data::year_of(ix.j, class)?;
            let p = data::find_period(ix, class, period)?;
            let doc = report::report(ix, class, p, today)?;
            Ok(Printout {
                name: format!(
                    "report-{class_slug}-{}-{}.html",
                    slug(&year.name),
                    slug(&p.name)
                ),
                html: render(renderer, "print/report.html", &doc)?,
                sheets: doc.cards.len(),
            })
        }
        PrintCommand::Summary { .. } => {
            let year = data::year_of(ix.j, class)?;
            let doc = summary::summary(ix, class, today)?;
            Ok(Printout {
                name: format!("summary-{class_slug}-{}.html", slug(&year.name)),
                html: render(renderer, "print/summary.html", &doc)?,
                sheets: 2,
            })
        }
        PrintCommand::Diaries { .. } => unreachable!("diaries are printed by print_diaries"),
        PrintCommand::ClassReport { .. } => {
            unreachable!("class reports are printed by print_class_report")
        }
        PrintCommand::Journal { .. } => unreachable!("journals are printed by print_journal"),
        PrintCommand::Attention { .. } => unreachable!("attention lists are printed apart"),
    }
}

/// After the HTML (`what`) was written: a PDF beside each file, and what it took.
fn pdfs_of(site: &Site, what: &str, html: &[PathBuf]) -> Result<()> {
    let started = Instant::now();
    let chromium = pdf::find_chromium(&site.config.chromium, &site.root).map_err(|e| {
        e.context(format!(
            "the HTML was written ({what}), but no PDF could be made"
        ))
    })?;
    make_pdfs(&chromium, html)?;
    eprintln!(
        "wrote {} PDF(s) with {} in {:.1} s",
        html.len(),
        chromium.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints every HTML file to a PDF beside it, a few browsers at a time.
fn make_pdfs(chromium: &Path, html: &[PathBuf]) -> Result<()> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(html.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let errors = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(path) = html.get(i) else { break };
                    if let Err(e) = pdf::html_to_pdf(chromium, path, &path.with_extension("pdf")) {
                        errors.lock().expect("lock").push(format!("{e:#}"));
                    }
                }
            });
        }
    });
    let errors = errors.into_inner().expect("lock");
    if !errors.is_empty() {
        bail!(
            "{} of {} PDF(s) failed (the HTML files were written):\n{}",
            errors.len(),
            html.len(),
            errors.join("\n")
        );
    }
    Ok(())
}
