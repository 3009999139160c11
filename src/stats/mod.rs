//! `diary stats`: how regularly families open the diary, read from the host's access logs
//! ([`logs`]). A diary is opened when its code's slot file `diary/k/<slot>.bin` is fetched;
//! the private store maps each slot back to its code's holder (a revoked code's slot too,
//! for old logs). Nothing is written and nothing reaches the host: the report, with
//! people's names, goes to the terminal only.
//!
//! A family is the holder of a guardian's code, or a pupil with no guardian in the
//! journal. Pupils' own codes (`codes issue --pupils`) are counted apart, as pupils.
//! Families whose guardians receive the diary on paper are listed as on paper.

pub(crate) mod logs;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use anyhow::{Result, bail};
use chrono::{Days, NaiveDate, NaiveDateTime};

use crate::access::binding::{Place, Places};
use crate::access::identity::Kind;
use crate::access::store::PersonId;
use crate::clock::Moment;
use crate::config::Site;
use crate::journal::{Delivery, Id, Journal};

/// What `diary stats` reads and for which day.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub logs: Vec<PathBuf>,
    /// Log lines before this day are ignored.
    pub since: Option<NaiveDate>,
    /// One class (a name or URL name), or every class of the year.
    pub class: Option<String>,
    pub today: Moment,
}

/// Where a family stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Opened the diary at least once in the logs read.
    Visited,
    /// Holds a code and never opened the diary in the logs read.
    Never,
    /// Holds no code yet (`diary codes issue` was not run for them).
    NoCode,
    /// Receives the diary on paper (`guardians.delivery = 'paper'`).
    Paper,
}

impl Status {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::Visited => "visited",
            Status::Never => "never",
            Status::NoCode => "no code",
            Status::Paper => "paper",
        }
    }
}

/// A family (or a pupil with a code of their own) of a class.
#[derive(Debug, Clone)]
pub(crate) struct Family {
    /// Who holds the family's code (a guardian, else the pupil), in the journal.
    pub key: (Kind, Id),
    pub holder: String,
    /// The holder's children in this class: journal id and full name.
    pub children: Vec<(Id, String)>,
    pub last_visit: Option<NaiveDateTime>,
    /// Days with a visit among the last 7 and the last 30 days.
    pub days_7: usize,
    pub days_30: usize,
    pub status: Status,
}

/// The families of a class and the pupils with codes of their own.
#[derive(Debug, Clone)]
pub(crate) struct ClassStats {
    pub name: String,
    pub families: Vec<Family>,
    pub pupils: Vec<Family>,
}

/// Counts of a class or the school.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub families: usize,
    pub paper: usize,
    pub opened_7: usize,
    pub opened_30: usize,
    pub never: usize,
    pub no_code: usize,
    pub pupils: usize,
    pub pupils_30: usize,
}

impl Totals {
    fn of(families: &[&Family], pupils: &[&Family]) -> Totals {
        let count = |s| families.iter().filter(|f| f.status == s).count();
        Totals {
            families: families.len(),
            paper: count(Status::Paper),
            opened_7: families.iter().filter(|f| f.days_7 > 0).count(),
            opened_30: families.iter().filter(|f| f.days_30 > 0).count(),
            never: count(Status::Never),
            no_code: count(Status::NoCode),
            pupils: pupils.len(),
            pupils_30: pupils.iter().filter(|f| f.days_30 > 0).count(),
        }
    }

    /// Families who can open the diary online (the base of the shares).
    pub(crate) fn online(&self) -> usize {
        self.families - self.paper
    }
}

/// What one log file gave.
#[derive(Debug, Clone)]
pub(crate) struct FileNote {
    pub path: PathBuf,
    pub format: logs::Format,
    /// Slot fetches of codes of this site (before `--since`).
    pub fetches: usize,
    pub malformed: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub today: NaiveDate,
    pub classes: Vec<ClassStats>,
    pub files: Vec<FileNote>,
    /// Fetches by codes whose holders are no longer in this year's journal.
    pub departed: usize,
    /// The whole school (`--class` not given): a total line is shown.
    pub school: bool,
}

impl Report {
    /// The totals of a class, or of the school (families of several classes counted once).
    pub(crate) fn totals(&self, class: Option<&ClassStats>) -> Totals {
        match class {
            Some(c) => Totals::of(
                &c.families.iter().collect::<Vec<_>>(),
                &c.pupils.iter().collect::<Vec<_>>(),
            ),
            None => {
                let mut seen = BTreeSet::new();
                let families: Vec<&Family> = self
                    .classes
                    .iter()
                    .flat_map(|c| &c.families)
                    .filter(|f| seen.insert(f.key))
                    .collect();
                let pupils: Vec<&Family> = self.classes.iter().flat_map(|c| &c.pupils).collect();
                Totals::of(&families, &pupils)
            }
        }
    }
}

/// Visits of one holder.
#[derive(Default)]
struct Visits {
    last: Option<NaiveDateTime>,
    days: BTreeSet<NaiveDate>,
}

/// Reads the logs and counts every family's visits.
pub(crate) fn report(site: &Site, j: &Journal, options: &Options) -> Result<Report> {
    if options.logs.is_empty() {
        bail!(
            "no access log given: pass the host's logs with --access-log FILE… \
             (docs/operations.md, \"Who opens the diary\")"
        );
    }
    let today = options.today.date;
    let until = options.today.at();
    let class_filter = match &options.class {
        Some(name) => Some(crate::access::codes::find_class(j, name)?.id),
        None => None,
    };
    let session = crate::access::open_existing(site, j, today)?;
    let store = &session.store;
    let places = Places::locate(store, &session.roster);
    let by_slot: HashMap<u128, PersonId> = store
        .codes
        .iter()
        .filter_map(|c| Some((u128::from_str_radix(&c.slot, 16).ok()?, c.holder)))
        .collect();

    let tz = site.config.tz();
    let mut visits: HashMap<PersonId, Visits> = HashMap::new();
    let mut files = Vec::new();
    let mut departed = 0;
    for path in &options.logs {
        let log = logs::read(path, tz)?;
        let ours: Vec<(PersonId, NaiveDateTime)> = log
            .fetches
            .iter()
            .filter_map(|f| Some((*by_slot.get(&f.slot)?, f.at)))
            .collect();
        if ours.is_empty() && !log.fetches.is_empty() {
            bail!(
                "{} is a log of another site: none of its {} diary slot fetch(es) is of a code \
                 in this site's private store {}; nothing was counted",
                path.display(),
                log.fetches.len(),
                site.store_path().display()
            );
        }
        for (pid, at) in &ours {
            if options.since.is_some_and(|s| at.date() < s) || *at > until {
                continue;
            }
            if !matches!(places.get(*pid), Place::At(_)) {
                departed += 1;
                continue;
            }
            let v = visits.entry(*pid).or_default();
            v.last = v.last.max(Some(*at));
            v.days.insert(at.date());
        }
        files.push(FileNote {
            path: path.clone(),
            format: log.format,
            fetches: ours.len(),
            malformed: log.malformed,
        });
    }

    let active: BTreeSet<PersonId> = store
        .codes
        .iter()
        .filter(|c| c.is_active())
        .map(|c| c.holder)
        .collect();
    let window = |days: u64| today.checked_sub_days(Days::new(days - 1)).unwrap_or(today);
    let (from_7, from_30) = (window(7), window(30));
    let family = |kind: Kind, row: Id, paper: bool| -> Family {
        let pid = places.at(kind, row);
        let v = pid.and_then(|p| visits.get(&p));
        let in_window = |from: NaiveDate| v.map_or(0, |v| v.days.range(from..=today).count());
        let status = if paper {
            Status::Paper
        } else if v.is_some() {
            Status::Visited
        } else if pid.is_some_and(|p| active.contains(&p)) {
            Status::Never
        } else {
            Status::NoCode
        };
        Family {
            key: (kind, row),
            holder: crate::access::binding::label(j, kind, row),
            children: Vec::new(),
            last_visit: v.and_then(|v| v.last),
            days_7: in_window(from_7),
            days_30: in_window(from_30),
            status,
        }
    };

    let classes: Vec<&crate::journal::Class> = match class_filter {
        Some(id) => j.class(id).into_iter().collect(),
        None => j
            .year_for(today)
            .map(|y| j.classes_of_year(y.id))
            .unwrap_or_default(),
    };
    let mut out = Vec::new();
    for class in classes {
        let mut students: Vec<&crate::journal::Student> = j
            .students
            .iter()
            .filter(|s| s.class_id == class.id)
            .collect();
        students.sort_by(|a, b| {
            (&a.last_name, &a.first_name, a.id).cmp(&(&b.last_name, &b.first_name, b.id))
        });
        let mut families: BTreeMap<(Kind, Id), Family> = BTreeMap::new();
        let mut pupils = Vec::new();
        for s in students {
            let child = (s.id, s.full_name());
            let guardians = j.guardians_of(s.id);
            if guardians.is_empty() {
                families
                    .entry((Kind::Student, s.id))
                    .or_insert_with(|| family(Kind::Student, s.id, false))
                    .children
                    .push(child);
                continue;
            }
            for g in guardians {
                let paper = j.guardian(g).is_some_and(|g| g.delivery == Delivery::Paper);
                families
                    .entry((Kind::Guardian, g))
                    .or_insert_with(|| family(Kind::Guardian, g, paper))
                    .children
                    .push(child.clone());
            }
            if places
                .at(Kind::Student, s.id)
                .is_some_and(|p| store.codes.iter().any(|c| c.holder == p))
            {
                let mut own = family(Kind::Student, s.id, false);
                own.holder = s.full_name();
                own.children.push(child);
                pupils.push(own);
            }
        }
        let mut families: Vec<Family> = families.into_values().collect();
        families.sort_by(|a, b| (&a.holder, &a.children).cmp(&(&b.holder, &b.children)));
        out.push(ClassStats {
            name: class.name.clone(),
            families,
            pupils,
        });
    }
    Ok(Report {
        today,
        classes: out,
        files,
        departed,
        school: class_filter.is_none(),
    })
}

/// A share in percent with a decimal comma ("45,5 %"), or "—" of nobody.
pub(crate) fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "—".into();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64).replace('.', ",")
}

/// `2026-11-23 19:02`, or "—".
pub(crate) fn when(at: Option<NaiveDateTime>) -> String {
    at.map_or_else(|| "—".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// The children of a family, "Name (id 12), Name (id 13)".
pub(crate) fn children(f: &Family) -> String {
    f.children
        .iter()
        .map(|(id, name)| format!("{name} (id {id})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary table: a line per class (and the school's total without `--class`), then,
/// with `families`, a line per family and pupil of each class.
pub(crate) fn table(report: &Report, families: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let line = |out: &mut String, name: &str, t: &Totals| {
        let _ = writeln!(
            out,
            "{:<8} {:>8} {:>8} {:>6} {:>14} {:>14} {:>6} {:>8} {:>14}",
            name,
            t.families,
            t.online(),
            t.paper,
            format!("{} ({})", t.opened_7, percent(t.opened_7, t.online())),
            format!("{} ({})", t.opened_30, percent(t.opened_30, t.online())),
            t.never,
            t.no_code,
            format!("{}/{}", t.pupils_30, t.pupils),
        );
    };
    let _ = writeln!(
        out,
        "{:<8} {:>8} {:>8} {:>6} {:>14} {:>14} {:>6} {:>8} {:>14}",
        "class",
        "families",
        "online",
        "paper",
        "opened 7d",
        "opened 30d",
        "never",
        "no code",
        "pupils 30d"
    );
    for c in &report.classes {
        line(&mut out, &c.name, &report.totals(Some(c)));
    }
    if report.school {
        line(&mut out, "school", &report.totals(None));
    }
    if families {
        for c in &report.classes {
            let _ = writeln!(
                out,
                "\n{}: families (7d, 30d: days with a visit in the last 7 and 30 days)",
                c.name
            );
            let _ = writeln!(
                out,
                "  {:<34} {:<40} {:<16} {:>3} {:>3}  status",
                "holder", "children", "last visit", "7d", "30d"
            );
            let rows = c
                .families
                .iter()
                .map(|f| (f, f.holder.clone()))
                .chain(c.pupils.iter().map(|f| (f, format!("pupil {}", f.holder))));
            for (f, holder) in rows {
                let names: Vec<&str> = f.children.iter().map(|c| c.1.as_str()).collect();
                let _ = writeln!(
                    out,
                    "  {:<34} {:<40} {:<16} {:>3} {:>3}  {}",
                    holder,
                    names.join(", "),
                    when(f.last_visit),
                    f.days_7,
                    f.days_30,
                    f.status.word()
                );
            }
        }
    }
    out
}

/// One CSV row per family (and per pupil with a code of their own).
pub(crate) fn csv(report: &Report) -> Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "class",
        "holder",
        "holder_kind",
        "children",
        "last_visit",
        "visits_7d",
        "visits_30d",
        "status",
    ])?;
    for c in &report.classes {
        let rows = c
            .families
            .iter()
            .map(|f| (f, "family"))
            .chain(c.pupils.iter().map(|f| (f, "pupil")));
        for (f, kind) in rows {
            let last = f
                .last_visit
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default();
            w.write_record([
                c.name.as_str(),
                &f.holder,
                kind,
                &children(f),
                &last,
                &f.days_7.to_string(),
                &f.days_30.to_string(),
                f.status.word(),
            ])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// The families that never opened the diary (or hold no code yet), with their children and
/// the command that prints their weekly sheets; then the families on paper.
pub(crate) fn never(report: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut paper = Vec::new();
    // A child another guardian opens the diary for needs no sheet; a child of two
    // guardians who never did gets one command line, not two.
    let read_for: BTreeSet<Id> = report
        .classes
        .iter()
        .flat_map(|c| &c.families)
        .filter(|f| f.status == Status::Visited)
        .flat_map(|f| f.children.iter().map(|(id, _)| *id))
        .collect();
    let mut listed = BTreeSet::new();
    for c in &report.classes {
        for f in &c.families {
            match f.status {
                Status::Never | Status::NoCode => {
                    let why = if f.status == Status::NoCode {
                        "has no code yet"
                    } else {
                        "never opened the diary"
                    };
                    let _ = writeln!(out, "{}  {}  {why}: {}", c.name, f.holder, children(f));
                    for (id, _) in &f.children {
                        if read_for.contains(id) {
                            let _ =
                                writeln!(out, "    (pupil {id}: another guardian opens the diary)");
                        } else if listed.insert(*id) {
                            let _ = writeln!(
                                out,
                                "    diary print weekly --class {} --student {id}",
                                c.name
                            );
                        }
                    }
                }
                Status::Paper => paper.push((c.name.as_str(), f)),
                Status::Visited => {}
            }
        }
    }
    if !paper.is_empty() {
        let _ = writeln!(
            out,
            "\non paper (guardians.delivery = 'paper'; sheets: diary print weekly --class all --paper):"
        );
        for (class, f) in paper {
            let _ = writeln!(out, "{class}  {}  on paper: {}", f.holder, children(f));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_have_a_decimal_comma() {
        assert_eq!(percent(1, 3), "33,3 %");
        assert_eq!(percent(2, 2), "100,0 %");
        assert_eq!(percent(0, 0), "—");
    }
}
