//! `diary stats`: families' visits read from the host's access logs (nginx/Apache combined,
//! S3 server access logs, CloudFront standard logs, gzip or not), against a demo site whose
//! codes are issued. The fixtures in tests/fixtures/access-logs hold real line shapes with
//! placeholders (`{SLOT_A}` …) that each test replaces with slots of its own store.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use common::{diary, query, refused};

/// A code of the store: who holds it, for which class.
#[derive(Debug, Clone)]
struct Code {
    code: String,
    holder: String,
    slot: String,
}

/// The site with codes issued, the class the test looks at, and four of its guardians' codes:
/// A, B, C, and D whose first code was revoked (and who got a new one).
struct Fixture {
    _tmp: tempfile::TempDir,
    site: PathBuf,
    class: String,
    a: Code,
    b: Code,
    c: Code,
    d: Code,
    d_old_slot: String,
    logs: PathBuf,
}

fn slots(site: &Path) -> BTreeMap<String, String> {
    let store: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join(".diary/store.json")).unwrap()).unwrap();
    store["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_string(),
                c["slot"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `codes list --format csv` rows of guardians' active codes: (code, class, holder).
fn guardian_codes(site: &Path) -> Vec<(String, String, String)> {
    common::code_list(site)
        .into_iter()
        .filter(|r| r["holder_kind"] == "guardian" && r["status"] == "active")
        .map(|r| {
            (
                r["code"].replace('-', ""),
                r["class"].clone(),
                r["holder"].clone(),
            )
        })
        .collect()
}

fn fixture() -> Fixture {
    let (tmp, site) = common::demo_site(24);
    common::cheap_codes(&site);
    common::issue_codes(&site, None);
    let rows = guardian_codes(&site);
    // The first class with four guardians holding codes.
    let mut by_class: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (code, class, holder) in &rows {
        let list = by_class.entry(class.clone()).or_default();
        if !list.iter().any(|(_, h)| h == holder) {
            list.push((code.clone(), holder.clone()));
        }
    }
    let (class, holders) = by_class
        .into_iter()
        .find(|(_, h)| h.len() >= 4)
        .expect("a class with four guardians");
    let issued = slots(&site);
    let code = |i: usize| Code {
        code: holders[i].0.clone(),
        holder: holders[i].1.clone(),
        slot: issued[&holders[i].0].clone(),
    };
    let (a, b, c, d) = (code(0), code(1), code(2), code(3));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", &d.code])
        .assert()
        .success();
    common::issue_codes(&site, None);
    let new_slots = slots(&site);
    let d_new = rows_for(&site, &d.holder);
    assert_ne!(d_new, d.code, "D has a new code");
    let d_old_slot = d.slot.clone();
    let d = Code {
        slot: new_slots[&d_new].clone(),
        code: d_new,
        ..d
    };

    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let fill = |text: &str| {
        text.replace("{SLOT_A}", &a.slot)
            .replace("{SLOT_B}", &b.slot)
            .replace("{SLOT_C}", &c.slot)
            .replace("{SLOT_OLD}", &d_old_slot)
    };
    let from = common::fixture("access-logs");
    for name in ["nginx-combined.log", "s3-server-access.log"] {
        let text = std::fs::read_to_string(from.join(name)).unwrap();
        std::fs::write(logs.join(name), fill(&text)).unwrap();
    }
    // The CloudFront log is gzip-compressed, as CloudFront delivers it; written back without
    // the .gz suffix, it is still told by its magic bytes.
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(from.join("cloudfront-standard.log.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(fill(&text).as_bytes()).unwrap();
    std::fs::write(
        logs.join("E2EXAMPLE.2026-11-22-09.a1b2c3d4"),
        gz.finish().unwrap(),
    )
    .unwrap();
    Fixture {
        _tmp: tmp,
        site,
        class,
        a,
        b,
        c,
        d,
        d_old_slot,
        logs,
    }
}

/// The active code of a guardian, by name.
fn rows_for(site: &Path, holder: &str) -> String {
    guardian_codes(site)
        .into_iter()
        .find(|(_, _, h)| h == holder)
        .map(|(code, _, _)| code)
        .expect("an active code")
}

impl Fixture {
    fn logs(&self) -> Vec<String> {
        [
            "nginx-combined.log",
            "s3-server-access.log",
            "E2EXAMPLE.2026-11-22-09.a1b2c3d4",
        ]
        .iter()
        .map(|n| self.logs.join(n).display().to_string())
        .collect()
    }

    /// Runs `diary stats --access-log <the three logs> ARGS…`: (stdout, stderr).
    fn stats(&self, args: &[&str]) -> (String, String) {
        let out = diary()
            .arg("-C")
            .arg(&self.site)
            .arg("stats")
            .arg("--access-log")
            .args(self.logs())
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    }

    /// The CSV rows of the class's families, by holder: (last_visit, visits_7d, visits_30d,
    /// status).
    fn csv(&self, args: &[&str]) -> BTreeMap<String, [String; 4]> {
        let mut all = vec!["--format", "csv"];
        all.extend(args);
        let (out, _) = self.stats(&all);
        let mut r = csv::Reader::from_reader(out.as_bytes());
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            [
                "class",
                "holder",
                "holder_kind",
                "children",
                "last_visit",
                "visits_7d",
                "visits_30d",
                "status"
            ]
        );
        r.records()
            .map(Result::unwrap)
            .filter(|r| r[0] == self.class && &r[2] == "family")
            .map(|r| {
                (
                    r[1].to_string(),
                    [
                        r[4].to_string(),
                        r[5].to_string(),
                        r[6].to_string(),
                        r[7].to_string(),
                    ],
                )
            })
            .collect()
    }

    /// Families of the class in the journal: each guardian of its pupils, and each pupil
    /// without a guardian; and how many of those guardians are on paper.
    fn families(&self) -> (usize, usize) {
        let class = format!("(SELECT id FROM classes WHERE name = '{}')", self.class);
        let guardians = &query(
            &self.site,
            &format!(
                "SELECT count(DISTINCT g.id), count(DISTINCT CASE WHEN g.delivery = 'paper' \
                 THEN g.id END) FROM guardians g JOIN student_guardians sg ON sg.guardian_id = g.id \
                 JOIN students s ON s.id = sg.student_id WHERE s.class_id IN {class}"
            ),
        )[0];
        let alone = &query(
            &self.site,
            &format!(
                "SELECT count(*) FROM students s WHERE s.class_id IN {class} AND NOT EXISTS \
                 (SELECT 1 FROM student_guardians sg WHERE sg.student_id = s.id)"
            ),
        )[0][0];
        (
            guardians[0].parse::<usize>().unwrap() + alone.parse::<usize>().unwrap(),
            guardians[1].parse().unwrap(),
        )
    }
}

fn row(last: &str, d7: u32, d30: u32, status: &str) -> [String; 4] {
    [
        last.to_string(),
        d7.to_string(),
        d30.to_string(),
        status.to_string(),
    ]
}

/// Every log line maps to its code's holder; days are counted in the school's timezone
/// (Europe/Moscow, UTC+3); the windows are the 7 and 30 days up to 2026-11-23.
#[test]
fn visits_per_family_from_three_formats() {
    let f = fixture();
    let before = common::tree(&f.site);
    let rows = f.csv(&[]);
    // A: 2026-11-20 08:00 (S3, 05:00 UTC), 2026-11-20 21:00 (CloudFront, 18:00 UTC),
    // 2026-11-23 19:02 (nginx): two days, both within 7 days.
    assert_eq!(rows[&f.a.holder], row("2026-11-23 19:02", 2, 2, "visited"));
    // B: 2026-11-10 10:15 (07:15 UTC, a 304 counts) and 2026-10-01, 53 days back: one day
    // in 30 days, none in 7.
    assert_eq!(rows[&f.b.holder], row("2026-11-10 10:15", 0, 1, "visited"));
    // C: only a 404, a HEAD and a line with a broken time: never.
    assert_eq!(rows[&f.c.holder], row("", 0, 0, "never"));
    // D: the slot of the revoked code, fetched 2026-11-22 09:00 UTC, still counts for D.
    assert_eq!(rows[&f.d.holder], row("2026-11-22 12:00", 1, 1, "visited"));
    assert_ne!(f.d_old_slot, f.d.slot);

    // The class line: families, online, paper, 2 in 7 days, 3 in 30 days, the rest never.
    let (families, paper) = f.families();
    let online = families - paper;
    let never = rows.values().filter(|r| r[3] == "never").count();
    assert_eq!(never, online - 3, "every other online family holds a code");
    assert_eq!(rows.len(), families);
    let (table, stderr) = f.stats(&[]);
    let pct = |n: usize| format!("{:.1}", n as f64 * 100.0 / online as f64).replace('.', ",");
    let line: Vec<&str> = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(f.class.as_str()))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        line[..10],
        [
            f.class.as_str(),
            &families.to_string(),
            &online.to_string(),
            &paper.to_string(),
            "2",
            &format!("({}", pct(2)),
            "%)",
            "3",
            &format!("({}", pct(3)),
            "%)",
        ],
        "{table}"
    );
    assert_eq!(line[10], never.to_string(), "{table}");
    assert!(table.lines().any(|l| l.starts_with("school ")), "{table}");
    // Lines that fit no format are counted and skipped: the cut line and the one with
    // 25:61 in nginx-combined.log; the truncated last line of the CloudFront log.
    let nginx = f.logs.join("nginx-combined.log");
    assert!(
        stderr.contains(&format!(
            "skipped 2 malformed line(s) in {}",
            nginx.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped 1 malformed line(s) in ")
            && stderr.contains("(CloudFront standard log): 2 diary opening(s)")
            && stderr.contains("(S3 server access log): 1 diary opening(s)")
            && stderr.contains("(nginx/Apache combined): 3 diary opening(s)"),
        "{stderr}"
    );
    assert_eq!(common::tree(&f.site), before, "nothing is written");
}

/// `--since` drops older lines; `--today` counts as of that day (later lines ignored);
/// `--class` lists one class's families one by one.
#[test]
fn since_today_and_class() {
    let f = fixture();
    let rows = f.csv(&["--since", "2026-11-15"]);
    assert_eq!(rows[&f.a.holder], row("2026-11-23 19:02", 2, 2, "visited"));
    assert_eq!(rows[&f.b.holder], row("", 0, 0, "never"));

    // As of 2026-11-21: A's visits of 2026-11-20 only, D's of 2026-11-22 not yet.
    let rows = f.csv(&["--today", "2026-11-21"]);
    assert_eq!(rows[&f.a.holder], row("2026-11-20 21:00", 1, 1, "visited"));
    assert_eq!(rows[&f.d.holder], row("", 0, 0, "never"));

    let (table, _) = f.stats(&["--class", &f.class]);
    assert!(!table.lines().any(|l| l.starts_with("school ")), "{table}");
    let a = table
        .lines()
        .find(|l| l.trim_start().starts_with(&f.a.holder))
        .unwrap_or_else(|| panic!("A listed: {table}"));
    assert!(
        a.contains("2026-11-23 19:02") && a.ends_with("visited"),
        "{a}"
    );
}

/// `--never`: the families who never opened the diary, with their children's ids and the
/// command that prints their weekly sheets; families on paper apart.
#[test]
fn never_lists_families_to_print_for() {
    let f = fixture();
    let (out, _) = f.stats(&["--never"]);
    let c = out
        .lines()
        .position(|l| {
            l.starts_with(&format!(
                "{}  {}  never opened the diary",
                f.class, f.c.holder
            ))
        })
        .unwrap_or_else(|| panic!("C listed: {out}"));
    let ids = query(
        &f.site,
        &format!(
            "SELECT sg.student_id FROM student_guardians sg JOIN guardians g ON g.id = sg.guardian_id \
             WHERE g.last_name || ' ' || g.first_name || coalesce(' ' || g.middle_name, '') = '{}' \
             ORDER BY sg.student_id",
            f.c.holder
        ),
    );
    // Each child gets a print command, once, unless another guardian reads the diary.
    for id in &ids {
        let command = format!("--student {}", id[0]);
        let read = format!("(pupil {}: another guardian opens the diary)", id[0]);
        assert!(
            out.lines()
                .skip(c)
                .any(|l| l.trim().starts_with("diary print weekly --class ")
                    && l.trim().ends_with(&command)
                    || l.trim() == read),
            "{command}: {out}"
        );
    }
    let commands: Vec<&str> = out
        .lines()
        .filter(|l| l.trim().starts_with("diary print weekly"))
        .collect();
    let unique: std::collections::BTreeSet<&&str> = commands.iter().collect();
    assert_eq!(unique.len(), commands.len(), "one command per child: {out}");
    assert!(
        !out.contains(&f.a.holder) && !out.contains(&f.d.holder),
        "{out}"
    );
    let paper = query(
        &f.site,
        "SELECT last_name || ' ' || first_name FROM guardians WHERE delivery = 'paper'",
    );
    assert!(!paper.is_empty(), "the demo has families on paper");
    let (_, on_paper) = out.split_once("\non paper").expect("a paper section");
    for p in paper {
        assert!(on_paper.contains(&p[0]), "{} on paper: {out}", p[0]);
        assert!(
            !out.lines()
                .any(|l| l.contains(&p[0]) && l.contains("never opened")),
            "{out}"
        );
    }
}

/// What is not a log of this site is refused, naming the file: another format, a log of
/// another site (no slot of this store), an unknown class.
#[test]
fn refusals() {
    let f = fixture();
    let from = common::fixture("access-logs");
    let csv = from.join("marks-export.csv");
    refused(
        &f.site,
        &["stats", "--access-log", csv.to_str().unwrap()],
        &[&format!(
            "{} is not an access log diary knows: nginx/Apache combined, S3 server access \
             log, CloudFront standard log",
            csv.display()
        )],
    );
    let foreign = from.join("foreign.log");
    refused(
        &f.site,
        &["stats", "--access-log", foreign.to_str().unwrap()],
        &[&format!(
            "{} is a log of another site: none of its 2 diary slot fetch(es)",
            foreign.display()
        )],
    );
    let nginx = f.logs.join("nginx-combined.log");
    refused(
        &f.site,
        &[
            "stats",
            "--access-log",
            nginx.to_str().unwrap(),
            "--class",
            "9Я",
        ],
        &["no class named \"9Я\"; the journal has: "],
    );
}

/// A pupil's own code (`codes issue --pupils`) counts for the pupil, apart from the
/// families: the guardians of that pupil stay `never`.
#[test]
fn pupils_own_codes_are_counted_apart() {
    let (tmp, site) = common::demo_site(24);
    common::cheap_codes(&site);
    common::issue_codes(&site, None);
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue", "--pupils"])
        .assert()
        .success();
    let out = diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "list", "--format", "csv"])
        .output()
        .unwrap();
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let with_guardians: Vec<String> =
        query(&site, "SELECT DISTINCT student_id FROM student_guardians")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
    // (code, student name, class) of the first own code of a pupil who has guardians.
    let (code, pupil, class) = r
        .records()
        .map(Result::unwrap)
        .find(|r| {
            &r[5] == "pupil" && &r[7] == "active" && with_guardians.contains(&r[1].to_string())
        })
        .map(|r| (r[0].replace('-', ""), r[2].to_string(), r[3].to_string()))
        .expect("a pupil's own code");
    let slot = slots(&site)[&code].clone();
    let log = tmp.path().join("access.log");
    std::fs::write(
        &log,
        format!(
            "203.0.113.9 - - [22/Nov/2026:15:30:00 +0300] \"GET /diary/k/{slot}.bin HTTP/2.0\" 200 540 \"-\" \"Mozilla/5.0\"\n"
        ),
    )
    .unwrap();
    let out = diary()
        .arg("-C")
        .arg(&site)
        .args([
            "stats",
            "--format",
            "csv",
            "--class",
            &class,
            "--access-log",
        ])
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let own: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[2] == "pupil").collect();
    let visited: Vec<&csv::StringRecord> =
        own.iter().copied().filter(|r| &r[7] == "visited").collect();
    assert_eq!(visited.len(), 1, "{rows:?}");
    assert_eq!(&visited[0][1], pupil.as_str());
    assert_eq!(
        (&visited[0][4], &visited[0][5], &visited[0][6]),
        ("2026-11-22 15:30", "1", "1")
    );
    // No family of the class opened the diary: the pupil's visit is not theirs.
    assert!(
        rows.iter()
            .filter(|r| &r[2] == "family")
            .all(|r| &r[7] != "visited"),
        "{rows:?}"
    );
    // The class line: pupils who opened it in 30 days, of those with a code of their own.
    let out = diary()
        .arg("-C")
        .arg(&site)
        .args(["stats", "--class", &class, "--access-log"])
        .arg(&log)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let line = table.lines().nth(1).unwrap();
    assert!(
        line.starts_with(&class) && line.ends_with(&format!(" 1/{}", own.len())),
        "{table}"
    );
}
