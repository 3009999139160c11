//! The command line. Each command is a thin call into the library; every error reaches the
//! user as one message and exit code 1.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::access::codes;
use crate::build;
use crate::check;
use crate::clock::Moment;
use crate::config::{self, Site};
use crate::demo::{self, DemoOptions};
use crate::import;
use crate::journal;
use crate::serve;

#[derive(Parser)]
#[command(
    name = "diary",
    version,
    about = "A school's parent-facing diary site, built from the class journal"
)]
struct Cli {
    /// The site folder (the one holding site.toml).
    #[arg(
        short = 'C',
        long = "site",
        global = true,
        default_value = ".",
        value_name = "DIR"
    )]
    site: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new site folder: site.toml, content/, data/ (and a demo journal with --demo).
    Init {
        /// The folder to create.
        dir: PathBuf,
        /// Fill data/journal.sqlite with a generated demo school.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        size: DemoSize,
        /// Write into a folder that already holds a site.toml.
        #[arg(long)]
        force: bool,
    },
    /// Generate the demo school's journal for this site, build it and serve it.
    Demo {
        #[command(flatten)]
        size: DemoSize,
        /// Replace a journal that is not a demo journal.
        #[arg(long)]
        force: bool,
        /// Only generate the journal.
        #[arg(long)]
        no_build: bool,
        /// Build, but do not serve.
        #[arg(long)]
        no_serve: bool,
        /// Port of the preview server.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[command(flatten)]
        day: Day,
    },
    /// Build, serve the site on 127.0.0.1 and rebuild on every change (a local preview).
    Serve {
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[command(flatten)]
        day: Day,
    },
    /// Validate site.toml, content/ and the journal. Exit 1 on errors.
    Check {
        /// Print every finding (by default the first 100).
        #[arg(long)]
        all: bool,
    },
    /// Check, then build the public site into the output folder.
    Build {
        #[command(flatten)]
        day: Day,
        /// Also print the time each phase took (load, check, boards, diaries, write).
        #[arg(long)]
        timings: bool,
        /// Build in full even when the journal, content, theme, settings, codes and day are
        /// those of the last build (which otherwise finishes at once: "up to date"), and
        /// even when more than a tenth of the published diaries would disappear.
        #[arg(long)]
        force: bool,
        /// Publish changed diaries now, not at the next time of [access] publish_at (after
        /// a revocation, say).
        #[arg(long)]
        now: bool,
    },
    /// Check, build and publish in one step: once (for cron or a systemd timer), or in a
    /// loop with --every. A failed check or build publishes nothing.
    Refresh {
        /// Run again this often (e.g. 10m, 90s, 1h) until SIGINT or SIGTERM.
        #[arg(long, value_name = "PERIOD", value_parser = crate::refresh::parse_every)]
        every: Option<std::time::Duration>,
        #[command(flatten)]
        day: Day,
        /// Publish changed diaries at the first run, not at the next time of [access]
        /// publish_at.
        #[arg(long)]
        now: bool,
    },
    /// Publish the built site to the targets of site.toml ([publish.NAME]): all of them,
    /// or TARGET. Sends only what changed.
    Publish {
        /// Only this target (a NAME of [publish.NAME]).
        target: Option<String>,
        /// Publish even when the target serves diaries sealed by another private store, or
        /// when this would delete many of the target's diaries (a build without the store).
        #[arg(long)]
        force: bool,
    },
    /// Load data into the journal.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Convert the journal to this diary's schema version, in one transaction, after
    /// copying it to journal.vN.sqlite beside it. Refuses, changing nothing, what it
    /// cannot convert.
    Upgrade,
    /// Access codes that open the children's diaries.
    #[command(subcommand)]
    Codes(CodesCommand),
    /// How regularly families open the diary, from the host's access logs: per class,
    /// families who opened it in the last 7 and 30 days, last visits, who never did.
    /// Shows people's names: private terminal output; nothing is written.
    Stats {
        /// The host's access logs (nginx/Apache combined, S3 server access logs, CloudFront
        /// standard logs; gzip-compressed or not).
        #[arg(long = "access-log", value_name = "FILE", num_args = 1.., required = true)]
        access_log: Vec<PathBuf>,
        /// Ignore log lines before this day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", value_parser = parse_day)]
        since: Option<NaiveDate>,
        /// Only this class (e.g. 5Б or 5b): also lists its families one by one.
        #[arg(long)]
        class: Option<String>,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Only the families who never opened the diary, with their children's ids and the
        /// command that prints their weekly sheets.
        #[arg(long, conflicts_with = "format")]
        never: bool,
        #[command(flatten)]
        day: Day,
    },
    /// Printouts for families and the archive, into the private print folder: weekly and
    /// monthly sheets, period report cards, the class summary sheet.
    #[command(subcommand)]
    Print(crate::print::PrintCommand),
    /// Events the class teacher publishes in content/events (beside the journal's).
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Write a new event file into content/events (never over an existing one) and say
    /// where. Without --class or --grade the event is the whole school's.
    Add {
        /// The class (e.g. 5А or 5a).
        #[arg(long, conflicts_with = "grade")]
        class: Option<String>,
        /// Every class of a grade (e.g. 5).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=11))]
        grade: Option<i64>,
        /// The day (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// When it starts (HH:MM); none: an all-day event.
        #[arg(long)]
        time: Option<String>,
        /// When it ends: a time (HH:MM) the same day, or the last day (YYYY-MM-DD).
        #[arg(long)]
        ends: Option<String>,
        #[arg(long)]
        title: String,
        #[arg(long)]
        place: Option<String>,
        /// A line for families (what to bring, whom to ask).
        #[arg(long)]
        note: Option<String>,
    },
    /// Print a class's events of a month (with the school's), from the journal and
    /// content/events: date, time, title, place.
    List {
        /// The class (e.g. 5А or 5a).
        #[arg(long)]
        class: String,
        /// The month (YYYY-MM).
        #[arg(long)]
        month: String,
    },
}

#[derive(Subcommand)]
enum CodesCommand {
    /// Issue a code to every holder in scope who has none: each guardian listed in the
    /// journal (one code for all their children), else the pupil. Guardians who receive
    /// the diary on paper get none.
    Issue {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Give each pupil a code of their own as well (their slip says it is the pupil's).
        #[arg(long)]
        pupils: bool,
        /// With --pupils: only pupils from this grade on (e.g. 5).
        #[arg(long, value_name = "GRADE", requires = "pupils", value_parser = clap::value_parser!(i64).range(1..=11))]
        from_grade: Option<i64>,
    },
    /// List issued codes (they are shown: keep the output private).
    List {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Revoke a code: at the next build it stops working and every child it ever opened
    /// gets new keys.
    Revoke {
        /// The code, as printed (dashes and case do not matter), or its last 4 symbols as
        /// build messages show them.
        code: String,
    },
    /// Confirm that a code's holder and children are still the same people after the
    /// journal changed under them (a surname changed, the journal was imported with new
    /// ids), when a build stopped and named this code.
    Confirm {
        /// The code, or its last 4 symbols as the build message shows them.
        code: String,
    },
    /// Write printable slips (code, address, QR code) for a class into the private print folder.
    Print {
        /// The class (e.g. 5Б or 5b).
        #[arg(long)]
        class: String,
    },
}

#[derive(clap::Args)]
struct ScopeArgs {
    /// Only this class (e.g. 5Б or 5b).
    #[arg(long)]
    class: Option<String>,
    /// Only this pupil (journal id).
    #[arg(long)]
    student: Option<i64>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ListFormat {
    Table,
    Csv,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Load a folder of CSV files, one per journal table (docs/import-csv.md).
    Csv {
        /// The folder holding the CSV files.
        dir: PathBuf,
    },
    /// Load a OneRoster 1.1/1.2 CSV export, a folder or a .zip (docs/import-oneroster.md).
    Oneroster {
        /// The folder or .zip holding manifest.csv and the OneRoster CSV files.
        path: PathBuf,
    },
}

#[derive(clap::Args)]
struct DemoSize {
    /// Number of pupils in the demo school.
    #[arg(long, default_value_t = 300)]
    students: usize,
    /// Random seed: the same seed makes the same school.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

#[derive(clap::Args)]
struct Day {
    /// Build as of this day (YYYY-MM-DD, the end of it) or moment (YYYY-MM-DD HH:MM)
    /// instead of now in the school's timezone.
    #[arg(long, env = "DIARY_TODAY", value_name = "DATE", value_parser = Moment::parse)]
    today: Option<Moment>,
}

impl Day {
    fn resolve(&self, site: &Site) -> Moment {
        Moment::or_now(self.today, site.config.tz())
    }
}

/// Runs the command line and turns any error into one message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Init {
            dir,
            demo,
            size,
            force,
        } => init(&dir, demo.then_some(&size), force),
        Command::Demo {
            size,
            force,
            no_build,
            no_serve,
            port,
            day,
        } => {
            let site = Site::load(&cli.site)?;
            refuse_non_demo(&site.journal_path(), force)?;
            make_demo_journal(&site.journal_path(), &size)?;
            let links = demo_codes(&site, day.resolve(&site).date)?;
            if no_build {
                return Ok(ExitCode::SUCCESS);
            }
            if no_serve {
                let code = build_site(&site, &day, false, false, false)?;
                for (text, path) in &links {
                    eprintln!(
                        "  {text}: {}/{path}",
                        site.config.base_url.trim_end_matches('/')
                    );
                }
                return Ok(code);
            }
            serve::serve(&cli.site, port, day.today, &links)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { port, day } => {
            serve::serve(&cli.site, port, day.today, &[])?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { all } => check_site(&cli.site, all),
        Command::Build {
            day,
            timings,
            force,
            now,
        } => build_site(&Site::load(&cli.site)?, &day, timings, force, now),
        Command::Refresh { every, day, now } => crate::refresh::run(
            &cli.site,
            &crate::refresh::Options {
                every,
                today: day.today,
                now,
            },
        ),
        Command::Publish { target, force } => publish_site(&cli.site, target.as_deref(), force),
        Command::Upgrade => upgrade_journal(&Site::load(&cli.site)?),
        Command::Codes(cmd) => codes_command(&cli.site, cmd),
        Command::Print(cmd) => crate::print::run(&cli.site, cmd),
        Command::Stats {
            access_log,
            since,
            class,
            format,
            never,
            day,
        } => {
            let site = Site::load(&cli.site)?;
            let j = load_journal(&site)?;
            let options = crate::stats::Options {
                logs: access_log,
                since,
                class,
                today: day.resolve(&site),
            };
            stats(&site, &j, &options, format, never)
        }
        Command::Events(cmd) => events_command(&cli.site, cmd),
        Command::Import(ImportCommand::Csv { dir }) => run_import(&cli.site, &dir, |site| {
            Ok(import::csv::import_dir(&site.journal_path(), &dir)?.to_string())
        }),
        Command::Import(ImportCommand::Oneroster { path }) => {
            run_import(&cli.site, &path, |site| {
                Ok(
                    import::oneroster::import(&site.journal_path(), &site.config, &path)?
                        .to_string(),
                )
            })
        }
    }
}

/// `YYYY-MM-DD`.
fn parse_day(text: &str) -> Result<NaiveDate, String> {
    journal::parse_date(text.trim()).ok_or_else(|| format!("{text:?} is not a day (YYYY-MM-DD)"))
}

/// `diary stats`: the report on standard output, what was read on standard error.
fn stats(
    site: &Site,
    j: &journal::Journal,
    options: &crate::stats::Options,
    format: ListFormat,
    never: bool,
) -> Result<ExitCode> {
    let report = crate::stats::report(site, j, options)?;
    for f in &report.files {
        eprintln!(
            "read {} ({}): {} diary opening(s)",
            f.path.display(),
            f.format.name(),
            f.fetches
        );
        if f.malformed > 0 {
            eprintln!(
                "skipped {} malformed line(s) in {}",
                f.malformed,
                f.path.display()
            );
        }
    }
    if report.departed > 0 {
        eprintln!(
            "{} opening(s) by holders no longer in this year's journal were not counted",
            report.departed
        );
    }
    if never {
        print!("{}", crate::stats::never(&report));
    } else {
        match format {
            ListFormat::Csv => print!("{}", crate::stats::csv(&report)?),
            ListFormat::Table => {
                print!("{}", crate::stats::table(&report, options.class.is_some()))
            }
        }
    }
    eprintln!(
        "as of {}{} (private: this shows people's names)",
        report.today,
        options
            .since
            .map(|d| format!(", log lines since {d}"))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// `diary upgrade`: the site's journal converted to the current schema version.
fn upgrade_journal(site: &Site) -> Result<ExitCode> {
    let path = site.journal_path();
    match journal::upgrade::upgrade(&path)? {
        None => println!(
            "journal {} has schema version {} already: nothing to do",
            path.display(),
            journal::SCHEMA_VERSION
        ),
        Some(done) => println!(
            "journal {} upgraded from schema version {} to {} ({} rows kept); the file as it \
             was is in {}: keep it until a build of the upgraded journal looks right",
            path.display(),
            done.from,
            done.to,
            done.rows,
            done.backup.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn events_command(root: &Path, cmd: EventsCommand) -> Result<ExitCode> {
    let site = Site::load(root)?;
    match cmd {
        EventsCommand::Add {
            class,
            grade,
            date,
            time,
            ends,
            title,
            place,
            note,
        } => {
            let path = crate::event_command::add(
                &site,
                &crate::event_command::NewEvent {
                    class: class.as_deref(),
                    grade,
                    date: &date,
                    time: time.as_deref(),
                    ends: ends.as_deref(),
                    title: &title,
                    place: place.as_deref(),
                    note: note.as_deref(),
                },
            )?;
            println!("wrote {path}; it shows after the next `diary build`");
        }
        EventsCommand::List { class, month } => {
            print!("{}", crate::event_command::list(&site, &class, &month)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one import into the site's journal (all or nothing) and prints its summary.
fn run_import(
    root: &Path,
    source: &Path,
    import: impl FnOnce(&Site) -> Result<String>,
) -> Result<ExitCode> {
    let site = Site::load(root)?;
    let started = Instant::now();
    let summary = import(&site).with_context(|| {
        format!(
            "import from {} failed; the journal is unchanged",
            source.display()
        )
    })?;
    print!("{summary}");
    eprintln!(
        "imported into {} in {:.1} s; run `diary check` next",
        site.journal_path().display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

const WELCOME: &str = "+++
title = \"Добро пожаловать\"
date = 2026-09-01
audience = \"school\"
author = \"Администрация\"
+++
Здесь публикуются объявления школы, домашние задания классов и дневники учеников.
Файлы объявлений лежат в папке `content/` (формат: docs/configuration.md).
";

fn init(dir: &Path, demo: Option<&DemoSize>, force: bool) -> Result<ExitCode> {
    let site_file = dir.join(config::SITE_FILE);
    if site_file.exists() && !force {
        bail!(
            "{} already exists; use --force to write into that folder anyway",
            site_file.display()
        );
    }
    for sub in ["content", "data"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("cannot create {}", dir.join(sub).display()))?;
    }
    std::fs::write(&site_file, config::TEMPLATE)
        .with_context(|| format!("cannot write {}", site_file.display()))?;
    let welcome = dir.join("content/welcome.md");
    if !welcome.exists() {
        std::fs::write(&welcome, WELCOME)
            .with_context(|| format!("cannot write {}", welcome.display()))?;
    }
    let gitignore = dir.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(
            &gitignore,
            "/data/*.sqlite\n/public/\n/public.*\n/print/\n/.diary/\n",
        )
        .with_context(|| format!("cannot write {}", gitignore.display()))?;
    }
    let site = Site::load(dir)?;
    if let Some(size) = demo {
        make_demo_journal(&site.journal_path(), size)?;
    }
    eprintln!(
        "made site {}; next: `diary -C {} check` and `diary -C {} build`",
        dir.display(),
        dir.display(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Gives every family of the demo journal a demo code (at the lowest iteration count, in a
/// store marked as a demo store), and returns the links to show: the unlock page and two
/// codes to try, one of a family with two children. A store of real codes gets none.
fn demo_codes(site: &Site, today: NaiveDate) -> Result<Vec<(String, String)>> {
    let j = load_journal(site)?;
    let started = Instant::now();
    let issued = match codes::issue_demo(site, &j, today) {
        Ok(issued) => issued,
        Err(e) => {
            eprintln!("no demo codes: {e:#}");
            return Ok(Vec::new());
        }
    };
    if issued.new_codes > 0 {
        eprintln!(
            "issued {} demo code(s) in {:.1} s (at the lowest iteration count: demo only; \
             `diary codes list` shows them all)",
            issued.new_codes,
            started.elapsed().as_secs_f64()
        );
    }
    let mut links = vec![(
        "a child's diary opens here".to_string(),
        "diary/".to_string(),
    )];
    for s in codes::samples(site, &j, today)? {
        let whose = if s.children.len() > 1 {
            format!(
                "demo code of {} (children {})",
                s.holder,
                s.children.join(", ")
            )
        } else {
            format!(
                "demo code of {} (child {})",
                s.holder,
                s.children.join(", ")
            )
        };
        links.push((
            format!("{whose}, {}", s.code),
            format!("diary/#c={}", s.code),
        ));
    }
    Ok(links)
}

/// A journal that is not a demo journal holds a real school's data: never replace it
/// without --force.
fn refuse_non_demo(path: &Path, force: bool) -> Result<()> {
    if force || !path.exists() {
        return Ok(());
    }
    let is_demo = journal::open_read_only(path).ok().and_then(|c| {
        c.query_row("SELECT is_demo FROM school ORDER BY id LIMIT 1", [], |r| {
            r.get::<_, i64>(0)
        })
        .ok()
    }) == Some(1);
    if !is_demo {
        bail!(
            "{} is not a demo journal (school.is_demo is not 1); it may hold a real school's \
             data, so it was left alone. Use --force to replace it",
            path.display()
        );
    }
    Ok(())
}

/// Generates the demo school into a temporary file beside `path`, then moves it in place.
fn make_demo_journal(path: &Path, size: &DemoSize) -> Result<()> {
    let started = Instant::now();
    let tmp = path.with_extension("sqlite.tmp");
    if tmp.exists() {
        std::fs::remove_file(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
    }
    let result = (|| {
        let mut conn = journal::open_for_writing(&tmp)?;
        let summary = demo::generate(
            &mut conn,
            &DemoOptions {
                students: size.students,
                seed: size.seed,
            },
        )?;
        conn.close().map_err(|(_, e)| e)?;
        Ok::<_, anyhow::Error>(summary)
    })();
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.context("cannot generate the demo school"));
        }
    };
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move the new journal to {}", path.display()))?;
    eprintln!(
        "demo journal {}: {} pupils in {} classes ({} in the second shift), {} teachers, {} lessons, {} marks, {} attendance rows, {} remarks ({:.1} s)",
        path.display(),
        summary.students,
        summary.classes,
        summary.second_shift,
        summary.teachers,
        summary.lessons,
        summary.marks,
        summary.attendance,
        summary.remarks,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn check_site(root: &Path, all: bool) -> Result<ExitCode> {
    let site = Site::load(root)?;
    let loaded = check::load(&site)?;
    let limit = if all { usize::MAX } else { 100 };
    for f in loaded.findings.iter().take(limit) {
        println!("{f}");
    }
    if loaded.findings.len() > limit {
        println!(
            "… and {} more (diary check --all lists them all)",
            loaded.findings.len() - limit
        );
    }
    let (errors, warnings) = check::summary(&loaded.findings);
    let j = &loaded.journal;
    println!(
        "checked {}: {} classes, {} pupils, {} lessons, {} marks, {} announcement files — {errors} error(s), {warnings} warning(s)",
        site.journal_path().display(),
        j.classes.len(),
        j.students.len(),
        j.lessons.len(),
        j.marks.len(),
        loaded.posts.len(),
    );
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn build_site(site: &Site, day: &Day, timings: bool, force: bool, now: bool) -> Result<ExitCode> {
    let started = Instant::now();
    let moment = day.resolve(site);
    let today = moment.date;
    let report = build::build(
        site,
        &build::Options {
            moment,
            verbose: true,
            force,
            now,
        },
    )?;
    let s = report.stats;
    if report.up_to_date {
        eprintln!(
            "{} is up to date as of {today}: the journal, content, theme, settings and codes \
             are those of the last build ({} files, {} diaries; `diary build --force` builds \
             anyway), {:.2} s",
            site.output_path().display(),
            s.files,
            report.diaries,
            started.elapsed().as_secs_f64()
        );
    } else {
        eprintln!(
            "built {} as of {today}: {} files, {} KB ({} new or changed, {} removed), {} diaries, {} codes ({} payloads sealed anew), {} warning(s), {:.2} s",
            site.output_path().display(),
            s.files,
            s.bytes.div_ceil(1024),
            s.written,
            s.removed,
            report.diaries,
            report.slots,
            report.resealed,
            report.warnings,
            started.elapsed().as_secs_f64()
        );
        for line in build::diary_notes(&report) {
            eprintln!("{line}");
        }
    }
    if timings {
        eprintln!("phases: {}", report.timings);
        if !report.up_to_date {
            eprintln!(
                "pages: {} rendered, {} kept as the last build wrote them",
                report.pages_rendered, report.pages_kept
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `diary publish [TARGET]`: waits for a running refresh, then publishes; exit 1 if any
/// target failed.
fn publish_site(root: &Path, only: Option<&str>, force: bool) -> Result<ExitCode> {
    let site = Site::load(root)?;
    crate::publish::targets(&site, only)?;
    let _lock = crate::refresh::lock_waiting(&site)?;
    let mut failed = 0;
    for report in crate::publish::publish(&site, only, force)? {
        failed += usize::from(report.result.is_err());
        eprintln!("published {report}");
    }
    if failed > 0 {
        bail!("{failed} target(s) failed; the others were published");
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the site's journal read-only (for commands that only need its people).
fn load_journal(site: &Site) -> Result<journal::Journal> {
    let conn = journal::open_read_only(&site.journal_path())?;
    let (j, findings) = journal::Journal::load(&conn)?;
    if let Some(f) = findings.iter().find(|f| f.is_error()) {
        bail!("the journal has errors (run `diary check`); the first: {f}");
    }
    Ok(j)
}

fn codes_command(root: &Path, cmd: CodesCommand) -> Result<ExitCode> {
    let site = Site::load(root)?;
    let j = load_journal(&site)?;
    let today = Moment::now(site.config.tz()).date;
    match cmd {
        CodesCommand::Issue {
            scope,
            pupils,
            from_grade,
        } => {
            let started = Instant::now();
            let scope = codes::Scope {
                class: scope.class,
                student: scope.student,
            };
            let pupils = if pupils {
                codes::PupilCodes::FromGrade(from_grade.unwrap_or(1))
            } else {
                codes::PupilCodes::None
            };
            let issued = codes::issue(&site, &j, &scope, pupils, today)?;
            if issued.paper > 0 {
                eprintln!(
                    "{} guardian(s) receive the diary on paper (guardians.delivery = 'paper'): \
                     no code for them; print their sheets with `diary print weekly --class all --paper`",
                    issued.paper
                );
            }
            if issued.paper_pupils > 0 {
                eprintln!(
                    "{} pupil(s) of families who receive the diary on paper: no code of their own",
                    issued.paper_pupils
                );
            }
            if issued.no_consent > 0 {
                eprintln!(
                    "{} guardian(s) with a code have no consent on record (guardians.consent_on): \
                     the school needs their consent to inform them online; record its date in \
                     the journal",
                    issued.no_consent
                );
            }
            eprintln!(
                "issued {} new code(s) in {:.1} s ({} holder(s) already had one; {} new diary key(s)); \
                 print slips with `diary codes print --class C`, then run `diary build`",
                issued.new_codes,
                started.elapsed().as_secs_f64(),
                issued.already,
                issued.pupils
            );
        }
        CodesCommand::List { scope, format } => {
            let scope = codes::Scope {
                class: scope.class,
                student: scope.student,
            };
            let rows = codes::list(&site, &j, &scope, today)?;
            match format {
                ListFormat::Csv => {
                    let mut w = csv::Writer::from_writer(std::io::stdout());
                    w.write_record([
                        "code",
                        "student_id",
                        "student_name",
                        "class",
                        "holder",
                        "holder_kind",
                        "issued_at",
                        "status",
                    ])?;
                    for r in &rows {
                        w.write_record([
                            r.code.as_str(),
                            &r.student_id.map(|id| id.to_string()).unwrap_or_default(),
                            &r.student_name,
                            &r.class,
                            &r.holder,
                            r.holder_kind,
                            &r.issued_at,
                            &r.status,
                        ])?;
                    }
                    w.flush()?;
                }
                ListFormat::Table => {
                    for r in &rows {
                        let holder = match r.holder_kind {
                            "pupil" => format!("pupil {}", r.holder),
                            _ => r.holder.clone(),
                        };
                        println!(
                            "{}  {:<6} {:<32} {:<32} {}  {}",
                            r.code, r.class, r.student_name, holder, r.issued_at, r.status
                        );
                    }
                    eprintln!("{} row(s)", rows.len());
                }
            }
        }
        CodesCommand::Revoke { code } => {
            let revoked = codes::revoke(&site, &j, &code, today)?;
            eprintln!(
                "revoked the code of {}; the next build or refresh removes it from the site at \
                 once (no need to wait for a diary batch) and gives {} diar{} new keys",
                revoked.holder,
                revoked.rekeyed,
                if revoked.rekeyed == 1 { "y" } else { "ies" }
            );
        }
        CodesCommand::Confirm { code } => {
            let changes = codes::confirm(&site, &j, &code, today)?;
            if changes.is_empty() {
                eprintln!("nothing to confirm: the code matches the journal");
            }
            for c in &changes {
                eprintln!("confirmed: {c}");
            }
        }
        CodesCommand::Print { class } => {
            let (name, html, count) = crate::print::code_slips(&site, &j, &class)?;
            let path = crate::print::write_private(&site.print_path(), &name, html.as_bytes())?;
            eprintln!(
                "wrote {count} slip(s) to {} (private: do not publish)",
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
