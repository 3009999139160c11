//! `diary publish` against real parts: a local S3-compatible server (moto, started here on
//! a free port of 127.0.0.1), a folder swapped under a running reader, a bare git
//! repository, and the system rsync to a local folder.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use predicates::prelude::*;

/// A built demo site whose site.toml ends with `publish` (a `[publish.NAME]` table).
fn built_site(students: usize, publish: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = demo_site(students);
    add_to_site_toml(&site, publish);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    (tmp, site)
}

fn add_to_site_toml(site: &Path, text: &str) {
    let path = site.join("site.toml");
    let mut toml = std::fs::read_to_string(&path).unwrap();
    toml.push('\n');
    toml.push_str(text);
    std::fs::write(&path, toml).unwrap();
}

/// Runs `diary publish [target]` and returns its standard error; panics on failure. The
/// site is named by a relative path, as an admin in its parent folder would.
fn publish(site: &Path, target: &str) -> String {
    let out = diary()
        .current_dir(site.parent().unwrap())
        .arg("-C")
        .arg(site.file_name().unwrap())
        .args(["publish", target])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "publish {target} failed:\n{stderr}");
    stderr
}

/// `(uploaded, deleted, unchanged)` from a publish report line.
fn counts(stderr: &str) -> (usize, usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("published "))
        .unwrap_or_else(|| panic!("no report in:\n{stderr}"));
    let number = |word: &str| -> usize {
        let before = line
            .split(&format!(" {word}"))
            .next()
            .unwrap_or_else(|| panic!("{word} not in {line}"));
        before
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("no count before {word} in {line}"))
    };
    (number("uploaded"), number("deleted"), number("unchanged"))
}

/// What changed from one tree to the next: (new or changed, removed).
fn diff(old: &BTreeMap<String, Vec<u8>>, new: &BTreeMap<String, Vec<u8>>) -> (usize, usize) {
    let changed = new.iter().filter(|(k, v)| old.get(*k) != Some(v)).count();
    let removed = old.keys().filter(|k| !new.contains_key(*k)).count();
    (changed, removed)
}

// ---------------------------------------------------------------------------------------
// dir

#[test]
fn dir_switches_atomically_under_a_running_reader() {
    let (tmp, site) = built_site(30, "[publish.web]\nkind = \"dir\"\npath = \"../www\"\n");
    let www = tmp.path().join("www");
    let public = site.join("public");
    let original = std::fs::read_to_string(public.join("index.html")).unwrap();

    let (up, del, same) = counts(&publish(&site, "web"));
    let files = tree(&public).len();
    assert_eq!((up, del, same), (files, 0, 0));
    assert!(
        std::fs::symlink_metadata(&www)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(tree(&www), tree(&public));
    // The same build again: nothing to send, no new version.
    assert_eq!(counts(&publish(&site, "web")), (0, 0, files));
    let versions = tmp.path().join("www.versions");
    assert_eq!(std::fs::read_dir(&versions).unwrap().count(), 1);

    // Stamps two files of each version alike; a reader checks that it never meets two
    // different stamps in one view of the site.
    let stamp = |n: usize| {
        std::fs::write(
            public.join("index.html"),
            format!("{original}<!-- v{n} -->"),
        )
        .unwrap();
        std::fs::write(public.join("marker.txt"), format!("v{n}")).unwrap();
    };
    stamp(0);
    publish(&site, "web");
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = Arc::clone(&stop);
        let www = www.clone();
        let parent = tmp.path().to_path_buf();
        let original = original.clone();
        std::thread::spawn(move || {
            let mut seen = BTreeSet::new();
            let mut reads = 0usize;
            while !stop.load(Ordering::SeqCst) {
                // One view: resolve the link once, read both files from that version.
                let Ok(version) = std::fs::read_link(&www) else {
                    panic!("{} is not a symlink at some moment", www.display());
                };
                let dir = parent.join(version);
                let (Ok(index), Ok(marker)) = (
                    std::fs::read_to_string(dir.join("index.html")),
                    std::fs::read_to_string(dir.join("marker.txt")),
                ) else {
                    continue; // a version pruned after two more publishes: look again
                };
                let from_index = index
                    .rsplit("<!-- ")
                    .next()
                    .and_then(|s| s.strip_suffix(" -->"))
                    .unwrap_or_else(|| panic!("index.html incomplete: {}", index.len()));
                assert_eq!(
                    from_index,
                    marker,
                    "a mix of two versions in {}",
                    dir.display()
                );
                // Through the link itself, every file is whole.
                let through = std::fs::read_to_string(www.join("index.html")).unwrap();
                assert!(through.starts_with(&original) && through.ends_with(" -->"));
                seen.insert(marker);
                reads += 1;
            }
            (seen, reads)
        })
    };
    let rounds = 25;
    for n in 1..=rounds {
        stamp(n);
        if n == 10 {
            std::fs::remove_file(public.join("robots.txt")).unwrap();
        }
        let (up, del, _) = counts(&publish(&site, "web"));
        assert_eq!((up, del), (2, usize::from(n == 10)), "round {n}");
    }
    stop.store(true, Ordering::SeqCst);
    let (seen, reads) = reader.join().expect("the reader saw a mix");
    assert!(
        seen.len() >= 3 && reads > rounds,
        "the reader ran across the swaps: {} versions in {reads} reads",
        seen.len()
    );
    assert_eq!(tree(&www), tree(&public));
    // The served version and the one before it are kept.
    assert_eq!(std::fs::read_dir(&versions).unwrap().count(), 2);
}

#[test]
fn dir_refuses_to_replace_a_real_folder() {
    let (tmp, site) = built_site(20, "[publish.web]\nkind = \"dir\"\npath = \"../www\"\n");
    let www = tmp.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "someone's site").unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["publish", "web"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("[publish.web]").and(predicate::str::contains("real folder")),
        );
    assert_eq!(
        std::fs::read_to_string(www.join("index.html")).unwrap(),
        "someone's site"
    );
}

#[test]
fn publish_names_unknown_targets_and_needs_a_build() {
    let (_tmp, site) = demo_site(20);
    diary()
        .arg("-C")
        .arg(&site)
        .arg("publish")
        .assert()
        .failure()
        .stderr(predicate::str::contains("declares no publish target"));
    add_to_site_toml(&site, "[publish.web]\nkind = \"dir\"\npath = \"../www\"\n");
    diary()
        .arg("-C")
        .arg(&site)
        .args(["publish", "cloud"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("no publish target \"cloud\"")
                .and(predicate::str::contains("web")),
        );
    diary()
        .arg("-C")
        .arg(&site)
        .arg("publish")
        .assert()
        .failure()
        .stderr(predicate::str::contains("run `diary build`"));
    // A mistyped key names the target and the line.
    add_to_site_toml(&site, "[publish.cloud]\nkind = \"s3\"\nbuckett = \"x\"\n");
    diary()
        .arg("-C")
        .arg(&site)
        .arg("publish")
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("[publish.cloud]").and(predicate::str::contains("buckett")),
        );
}

// ---------------------------------------------------------------------------------------
// git

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn git_commits_to_a_branch_and_skips_an_unchanged_site() {
    Tool::Git.require();

    let (tmp, site) = built_site(
        30,
        "[publish.pages]\nkind = \"git\"\nrepo = \"../pages.git\"\nbranch = \"pages\"\ncname = \"diary.school39.ru\"\n",
    );
    let remote = tmp.path().join("pages.git");
    let status = Command::new("git")
        .args(["init", "--quiet", "--bare"])
        .arg(&remote)
        .status()
        .unwrap();
    assert!(status.success());
    let public = tree(&site.join("public"));

    let (up, del, same) = counts(&publish(&site, "pages"));
    assert_eq!(
        (up, del, same),
        (public.len() + 2, 0, 0),
        ".nojekyll and CNAME too"
    );
    let files: BTreeSet<String> = git(&remote, &["ls-tree", "-r", "--name-only", "pages"])
        .lines()
        .map(String::from)
        .collect();
    let mut expected: BTreeSet<String> = public.keys().cloned().collect();
    expected.insert(".nojekyll".into());
    expected.insert("CNAME".into());
    assert_eq!(files, expected);
    assert_eq!(
        git(&remote, &["show", "pages:index.html"]).as_bytes(),
        public["index.html"].as_slice()
    );
    assert_eq!(
        git(&remote, &["show", "pages:CNAME"]),
        "diary.school39.ru\n"
    );
    assert_eq!(git(&remote, &["rev-list", "--count", "pages"]).trim(), "1");

    // The same site again: no new commit.
    assert_eq!(counts(&publish(&site, "pages")), (0, 0, public.len() + 2));
    assert_eq!(git(&remote, &["rev-list", "--count", "pages"]).trim(), "1");

    // A new build (a week later) commits exactly what changed.
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .env("DIARY_TODAY", "2026-12-01")
        .assert()
        .success();
    std::fs::remove_file(site.join("public/robots.txt")).unwrap();
    let next = tree(&site.join("public"));
    let (changed, removed) = diff(&public, &next);
    assert!(changed > 0 && removed > 0);
    assert_eq!(
        counts(&publish(&site, "pages")),
        (changed, removed, next.len() + 2 - changed)
    );
    assert_eq!(git(&remote, &["rev-list", "--count", "pages"]).trim(), "2");
    assert_eq!(
        git(&remote, &["show", "pages:index.html"]).as_bytes(),
        next["index.html"].as_slice()
    );
    assert!(git(&remote, &["ls-tree", "--name-only", "pages", "robots.txt"]).is_empty());
}

// ---------------------------------------------------------------------------------------
// rsync

#[test]
fn rsync_mirrors_a_folder_and_sends_only_changes() {
    Tool::Rsync.require();

    let (tmp, site) = built_site(
        30,
        "[publish.mirror]\nkind = \"rsync\"\ndest = \"../mirror/\"\n",
    );
    let mirror = tmp.path().join("mirror");
    let public = tree(&site.join("public"));
    assert_eq!(counts(&publish(&site, "mirror")), (public.len(), 0, 0));
    assert_eq!(tree(&mirror), public);
    assert_eq!(counts(&publish(&site, "mirror")), (0, 0, public.len()));

    std::fs::write(site.join("public/index.html"), "changed").unwrap();
    std::fs::remove_file(site.join("public/robots.txt")).unwrap();
    assert_eq!(counts(&publish(&site, "mirror")), (1, 1, public.len() - 2));
    assert_eq!(tree(&mirror), tree(&site.join("public")));

    // Without rsync on PATH: a clear message, exit 1.
    let empty = tmp.path().join("no-programs");
    std::fs::create_dir_all(&empty).unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["publish", "mirror"])
        .env("PATH", &empty)
        .assert()
        .failure()
        .stderr(predicate::str::contains("`rsync` program is not installed"));
}

// ---------------------------------------------------------------------------------------
// s3

/// A moto S3 server on a free port of 127.0.0.1, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Tool::Moto.require();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed for the S3 tests");
        let mut moto = Moto { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "the moto S3 server exited ({status}): install it with \
                     `pip install 'moto[server]'` (.ci/run does)"
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A plain, unsigned HTTP request; returns the status code.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> u16 {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        let mut response = String::new();
        let _ = s.read_to_string(&mut response);
        response
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client for the test's own look at the bucket (HEAD and GET requests).
fn store(moto: &Moto, bucket: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_endpoint(moto.endpoint())
        .with_allow_http(true)
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .build()
        .unwrap()
}

/// Every object of the bucket: key → (bytes, Content-Type, Cache-Control).
fn bucket(moto: &Moto, name: &str) -> BTreeMap<String, (Vec<u8>, String, String)> {
    use futures::TryStreamExt;
    use object_store::{Attribute, ObjectStore, ObjectStoreExt};
    let store = store(moto, name);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let objects: Vec<_> = store.list(None).try_collect().await.unwrap();
        let mut out = BTreeMap::new();
        for meta in objects {
            let got = store.get(&meta.location).await.unwrap();
            let attr = |a: &Attribute| {
                got.attributes
                    .get(a)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            };
            let content_type = attr(&Attribute::ContentType);
            let cache_control = attr(&Attribute::CacheControl);
            let bytes = got.bytes().await.unwrap().to_vec();
            out.insert(
                meta.location.to_string(),
                (bytes, content_type, cache_control),
            );
        }
        out
    })
}

fn publish_s3(site: &Path, moto: &Moto) -> String {
    let out = diary()
        .arg("-C")
        .arg(site)
        .args(["publish", "cloud"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "publish to {} failed:\n{stderr}",
        moto.endpoint()
    );
    stderr
}

fn expected_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "webmanifest" => "application/manifest+json",
        "xml" => "text/xml; charset=utf-8",
        "ics" => "text/calendar; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[test]
fn s3_uploads_changes_only_with_the_right_headers() {
    let moto = Moto::start();
    assert_eq!(
        moto.request("PUT", "/district", b""),
        200,
        "create the bucket"
    );
    // Another school's object under another prefix of the same bucket.
    assert_eq!(
        moto.request("PUT", "/district/school40/index.html", b"40"),
        200
    );

    let (_tmp, site) = demo_site(30);
    cheap_codes(&site);
    add_to_site_toml(
        &site,
        &format!(
            "[publish.cloud]\nkind = \"s3\"\nbucket = \"district\"\nendpoint = \"{}\"\n\
             region = \"us-east-1\"\nprefix = \"school39\"\n",
            moto.endpoint()
        ),
    );
    issue_codes(&site, None);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let public = tree(&site.join("public"));
    assert!(
        public.keys().any(|k| k.starts_with("diary/c/")),
        "diary chunks published"
    );

    // First publish: everything, with Content-Type and Cache-Control.
    let started = Instant::now();
    let first = publish_s3(&site, &moto);
    eprintln!(
        "first publish of {} files: {:.2} s",
        public.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(counts(&first), (public.len(), 0, 0));
    let objects = bucket(&moto, "district");
    assert_eq!(
        objects["school40/index.html"].0, b"40",
        "another prefix is left alone"
    );
    let ours: BTreeMap<&str, &(Vec<u8>, String, String)> = objects
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("school39/")?, v)))
        .collect();
    assert_eq!(ours.len(), public.len());
    for (path, bytes) in &public {
        let (stored, content_type, cache_control) = ours[path.as_str()];
        assert_eq!(stored, bytes, "{path}");
        assert_eq!(content_type, expected_type(path), "{path}");
        let cache = if path.starts_with("static/") {
            "public, max-age=86400"
        } else {
            "no-cache"
        };
        assert_eq!(cache_control, cache, "{path}");
    }
    assert_eq!(ours["diary/params.json"].2, "no-cache");

    // The same build again: nothing is sent.
    let started = Instant::now();
    assert_eq!(counts(&publish_s3(&site, &moto)), (0, 0, public.len()));
    eprintln!("second publish: {:.2} s", started.elapsed().as_secs_f64());

    // Without the manifest, the bucket's listing (ETag = MD5) tells the same.
    std::fs::remove_file(site.join(".diary/publish-cloud.json")).unwrap();
    assert_eq!(counts(&publish_s3(&site, &moto)), (0, 0, public.len()));
    assert!(site.join(".diary/publish-cloud.json").exists());

    // A new build: only what changed is sent; what is gone (and a stray object) deleted.
    assert_eq!(
        moto.request("PUT", "/district/school39/stray.html", b"x"),
        200
    );
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .env("DIARY_TODAY", "2026-12-01")
        .assert()
        .success();
    std::fs::remove_file(site.join("public/robots.txt")).unwrap();
    let next = tree(&site.join("public"));
    let (changed, removed) = diff(&public, &next);
    assert!(
        changed > 0 && changed < next.len(),
        "{changed} of {}",
        next.len()
    );
    assert_eq!(
        counts(&publish_s3(&site, &moto)),
        (changed, removed + 1, next.len() - changed)
    );
    let objects = bucket(&moto, "district");
    let ours: BTreeMap<&str, &Vec<u8>> = objects
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("school39/")?, &v.0)))
        .collect();
    assert_eq!(ours.len(), next.len());
    for (path, bytes) in &next {
        assert_eq!(ours[path.as_str()], bytes, "{path}");
    }
    assert!(objects.contains_key("school40/index.html"));
}

#[test]
fn s3_needs_credentials_from_the_environment() {
    let (_tmp, site) = built_site(
        20,
        "[publish.cloud]\nkind = \"s3\"\nbucket = \"b\"\nendpoint = \"http://127.0.0.1:9\"\n",
    );
    diary()
        .arg("-C")
        .arg(&site)
        .args(["publish", "cloud"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_METADATA_ENDPOINT")
        .assert()
        .failure()
        .stderr(predicate::str::contains("AWS_ACCESS_KEY_ID"));
    // Keys in site.toml are refused before anything runs.
    add_to_site_toml(&site, "secret_access_key = \"abc\"\n");
    diary()
        .arg("-C")
        .arg(&site)
        .args(["publish", "cloud"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "credentials never go in site.toml",
        ));
}

// ---------------------------------------------------------------------------------------
// the guard: a build without the right private store never takes the diaries off a target
//
// The failure it guards against: a site is published with its diaries; then a fresh
// checkout (a CI job, a new server) without the private store `.diary/` builds the site
// again, with no diaries at all, and publishing that build would delete every family's
// diary from the target. A build with another store (another salt) or an old backup of
// it would lock families out the same way.

/// A demo site with fewer KDF iterations (for speed), whose site.toml ends with `publish`;
/// no code issued yet, nothing built.
fn fast_site(students: usize, publish: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = demo_site(students);
    cheap_codes(&site);
    add_to_site_toml(&site, publish);
    (tmp, site)
}

/// [`fast_site`] with access codes issued to every family and its diaries built.
fn site_with_diaries(students: usize, publish: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = fast_site(students, publish);
    issue_codes(&site, None);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let (chunks, slots) = diary_counts(&tree(&site.join("public")));
    // A diary for every child with a guardian online (the demo has a few families on
    // paper only, whose children hold no code), each a now chunk and the earlier parts.
    let online: usize = query(
        &site,
        "SELECT count(DISTINCT sg.student_id) FROM student_guardians sg \
         JOIN guardians g ON g.id = sg.guardian_id WHERE g.delivery = 'online'",
    )[0][0]
        .parse()
        .unwrap();
    let diaries = independent::published_diaries(&site);
    let opened: usize = diaries.values().map(|d| d.chunks().count()).sum();
    assert!(
        online < students && diaries.len() >= online && slots > 0,
        "{} diaries, {slots} slots",
        diaries.len()
    );
    assert_eq!(chunks, opened, "every chunk file is a chunk of a diary");
    (tmp, site)
}

/// `diary codes issue [--class CLASS]`.
/// A diary chunk (`diary/c/*.bin`) or code slot (`diary/k/*.bin`) file.
fn is_diary_file(path: &str) -> bool {
    (path.starts_with("diary/c/") || path.starts_with("diary/k/")) && path.ends_with(".bin")
}

/// The numbers of diary pages and code slots among the paths of a tree.
fn diary_counts<V>(files: &BTreeMap<String, V>) -> (usize, usize) {
    let count = |dir: &str| {
        files
            .keys()
            .filter(|p| is_diary_file(p) && p.starts_with(dir))
            .count()
    };
    (count("diary/c/"), count("diary/k/"))
}

/// Moves what a fresh checkout lacks (the private store `.diary/`, the built site
/// `public/` and its `public.stamp`) into `away`, a new folder.
fn move_away(site: &Path, away: &Path) {
    std::fs::create_dir(away).unwrap();
    for name in [".diary", "public", "public.stamp"] {
        if site.join(name).exists() {
            std::fs::rename(site.join(name), away.join(name)).unwrap();
        }
    }
}

/// What a fresh checkout builds: [`move_away`], then build. Returns the new build, which
/// has no diaries.
fn build_without_the_store(site: &Path, away: &Path) -> BTreeMap<String, Vec<u8>> {
    move_away(site, away);
    diary().arg("-C").arg(site).arg("build").assert().success();
    let public = tree(&site.join("public"));
    assert!(public.contains_key("index.html"));
    assert!(
        !public.keys().any(|p| p.starts_with("diary/")),
        "a build without the store has no diaries"
    );
    public
}

/// `diary publish [TARGET] [--force]` on a site, with the S3 test credentials in the
/// environment (other targets ignore them).
fn publish_command(site: &Path, target: Option<&str>, force: bool) -> assert_cmd::Command {
    let mut cmd = diary();
    cmd.arg("-C")
        .arg(site)
        .arg("publish")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT");
    if let Some(target) = target {
        cmd.arg(target);
    }
    if force {
        cmd.arg("--force");
    }
    cmd
}

/// Runs a publish that must succeed; returns its standard error.
fn published(mut cmd: assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "publish failed:\n{stderr}");
    stderr
}

/// Runs a publish that the guard must refuse on every one of `targets`: exit 1, and each
/// target's report says it failed, for each of `reasons`, with nothing sent. Returns the
/// standard error.
fn refused(mut cmd: assert_cmd::Command, targets: &[&str], reasons: &[String]) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "not refused:\n{stderr}");
    for target in targets {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("published {target} (")))
            .unwrap_or_else(|| panic!("no report for {target}:\n{stderr}"));
        assert!(
            line.contains(" FAILED ")
                && line.contains(&format!("[publish.{target}]"))
                && line.contains("Nothing was sent"),
            "{line}"
        );
        for reason in reasons {
            assert!(line.contains(reason.as_str()), "{reason:?} not in {line}");
        }
    }
    stderr
}

/// What the refusal of a build without diaries says: what the target serves, the way out.
fn no_diaries(served: (usize, usize)) -> Vec<String> {
    vec![
        "this build has no diaries".into(),
        format!(
            "the target serves {} diary files and {} codes",
            served.0, served.1
        ),
        "diary publish --force".into(),
    ]
}

fn init_bare(remote: &Path) {
    let status = Command::new("git")
        .args(["init", "--quiet", "--bare"])
        .arg(remote)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The files of a branch of a bare repository: path → blob id.
fn branch_files(remote: &Path, branch: &str) -> BTreeMap<String, String> {
    git(remote, &["ls-tree", "-r", branch])
        .lines()
        .map(|l| {
            let (meta, path) = l.split_once('\t').unwrap();
            (
                path.to_string(),
                meta.rsplit(' ').next().unwrap().to_string(),
            )
        })
        .collect()
}

/// The blob ids of the files of a folder (as a commit of it would hold them): path → id.
fn blob_ids(remote: &Path, dir: &Path) -> BTreeMap<String, String> {
    let paths: Vec<String> = tree(dir).into_keys().collect();
    let files: Vec<String> = paths
        .iter()
        .map(|p| dir.join(p).display().to_string())
        .collect();
    let mut args = vec!["hash-object", "--"];
    args.extend(files.iter().map(String::as_str));
    let ids = git(remote, &args);
    assert_eq!(ids.lines().count(), paths.len());
    paths
        .into_iter()
        .zip(ids.lines().map(String::from))
        .collect()
}

#[test]
fn dir_refuses_a_build_without_the_store_until_forced() {
    let (tmp, site) = site_with_diaries(30, "[publish.web]\nkind = \"dir\"\npath = \"../www\"\n");
    let www = tmp.path().join("www");
    let versions = tmp.path().join("www.versions");
    let built = tree(&site.join("public"));
    assert_eq!(counts(&publish(&site, "web")), (built.len(), 0, 0));
    let served = tree(&www);
    assert_eq!(served, built);
    let diaries = diary_counts(&served);

    // A fresh checkout builds without the store: refused, the served site untouched.
    let bare = build_without_the_store(&site, &tmp.path().join("checkout"));
    refused(
        publish_command(&site, Some("web"), false),
        &["web"],
        &no_diaries(diaries),
    );
    assert_eq!(tree(&www), served, "every file still served, byte for byte");
    assert_eq!(
        std::fs::read_dir(&versions).unwrap().count(),
        1,
        "no new version written"
    );

    // The store restored from its backup (the refused publish made a `.diary/` for its
    // lock file only): the same diaries are built, sealed anew, and published.
    let store = site.join(".diary");
    let made: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(made, ["refresh.lock"]);
    std::fs::remove_dir_all(&store).unwrap();
    std::fs::rename(tmp.path().join("checkout/.diary"), &store).unwrap();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let restored = tree(&site.join("public"));
    assert!(restored.keys().eq(built.keys()), "the same pages and slots");
    let (_, deleted, _) = counts(&published(publish_command(&site, Some("web"), false)));
    assert_eq!(deleted, 0);
    assert_eq!(tree(&www), restored);

    // Without the store again, --force takes the diaries off the site on purpose.
    let bare_again = build_without_the_store(&site, &tmp.path().join("checkout-2"));
    assert_eq!(bare_again, bare, "builds are deterministic");
    refused(
        publish_command(&site, Some("web"), false),
        &["web"],
        &no_diaries(diaries),
    );
    assert_eq!(tree(&www), restored);
    let (changed, removed) = diff(&restored, &bare);
    assert!(removed >= diaries.0 + diaries.1);
    assert_eq!(
        counts(&published(publish_command(&site, Some("web"), true))),
        (changed, removed, bare.len() - changed)
    );
    assert_eq!(tree(&www), bare);
}

#[test]
fn s3_refuses_a_build_without_the_store_until_forced() {
    let moto = Moto::start();
    assert_eq!(moto.request("PUT", "/district", b""), 200);
    // Another school's diary under another prefix of the same bucket.
    assert_eq!(
        moto.request("PUT", "/district/school40/diary/c/40.bin", b"40"),
        200
    );
    let (tmp, site) = site_with_diaries(
        30,
        &format!(
            "[publish.cloud]\nkind = \"s3\"\nbucket = \"district\"\nendpoint = \"{}\"\n\
             region = \"us-east-1\"\nprefix = \"school39\"\n",
            moto.endpoint()
        ),
    );
    let built = tree(&site.join("public"));
    assert_eq!(
        counts(&published(publish_command(&site, Some("cloud"), false))),
        (built.len(), 0, 0)
    );
    let before = bucket(&moto, "district");
    let ours = |objects: &BTreeMap<String, (Vec<u8>, String, String)>| {
        objects
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("school39/")?.to_string(), v.0.clone())))
            .collect::<BTreeMap<String, Vec<u8>>>()
    };
    assert_eq!(ours(&before), built);
    let diaries = diary_counts(&built);

    // A fresh checkout builds without the store (and without the bucket's manifest):
    // refused, every object left as it was, bytes and headers.
    let bare = build_without_the_store(&site, &tmp.path().join("checkout"));
    refused(
        publish_command(&site, Some("cloud"), false),
        &["cloud"],
        &no_diaries(diaries),
    );
    assert_eq!(bucket(&moto, "district"), before);

    // --force deletes the diaries and brings the rest in line; the other school's objects
    // are left alone.
    let (changed, removed) = diff(&built, &bare);
    assert!(removed >= diaries.0 + diaries.1);
    assert_eq!(
        counts(&published(publish_command(&site, Some("cloud"), true))),
        (changed, removed, bare.len() - changed)
    );
    let after = bucket(&moto, "district");
    assert_eq!(ours(&after), bare);
    assert_eq!(after["school40/diary/c/40.bin"].0, b"40");
}

#[test]
fn rsync_refuses_a_build_without_the_store_until_forced() {
    Tool::Rsync.require();

    let (tmp, site) = site_with_diaries(
        20,
        "[publish.mirror]\nkind = \"rsync\"\ndest = \"../mirror/\"\n",
    );
    let mirror = tmp.path().join("mirror");
    let built = tree(&site.join("public"));
    assert_eq!(counts(&publish(&site, "mirror")), (built.len(), 0, 0));
    assert_eq!(tree(&mirror), built);
    let diaries = diary_counts(&built);

    let bare = build_without_the_store(&site, &tmp.path().join("checkout"));
    refused(
        publish_command(&site, Some("mirror"), false),
        &["mirror"],
        &no_diaries(diaries),
    );
    assert_eq!(
        tree(&mirror),
        built,
        "every file still there, byte for byte"
    );

    let (changed, removed) = diff(&built, &bare);
    assert!(removed >= diaries.0 + diaries.1);
    assert_eq!(
        counts(&published(publish_command(&site, Some("mirror"), true))),
        (changed, removed, bare.len() - changed)
    );
    assert_eq!(tree(&mirror), bare);
}

#[test]
fn git_refuses_a_build_without_the_store_until_forced() {
    Tool::Git.require();

    let (tmp, site) = site_with_diaries(
        20,
        "[publish.pages]\nkind = \"git\"\nrepo = \"../pages.git\"\nbranch = \"pages\"\n",
    );
    let remote = tmp.path().join("pages.git");
    init_bare(&remote);
    let public = site.join("public");
    let built = tree(&public);
    assert_eq!(counts(&publish(&site, "pages")), (built.len() + 1, 0, 0));
    let tip = git(&remote, &["rev-parse", "pages"]);
    let mut held = branch_files(&remote, "pages");
    let nojekyll = held.remove(".nojekyll").expect(".nojekyll");
    assert_eq!(
        held,
        blob_ids(&remote, &public),
        "every file, byte for byte"
    );
    let diaries = diary_counts(&built);

    // The fresh checkout has no clone of the branch either (.diary/git-pages): it fetches.
    let bare = build_without_the_store(&site, &tmp.path().join("checkout"));
    refused(
        publish_command(&site, Some("pages"), false),
        &["pages"],
        &no_diaries(diaries),
    );
    assert_eq!(git(&remote, &["rev-parse", "pages"]), tip, "nothing pushed");

    let (changed, removed) = diff(&built, &bare);
    assert!(removed >= diaries.0 + diaries.1);
    assert_eq!(
        counts(&published(publish_command(&site, Some("pages"), true))),
        (changed, removed, bare.len() + 1 - changed)
    );
    assert_eq!(git(&remote, &["rev-list", "--count", "pages"]).trim(), "2");
    let mut now = branch_files(&remote, "pages");
    assert_eq!(now.remove(".nojekyll"), Some(nojekyll));
    assert_eq!(now, blob_ids(&remote, &public));
}

/// One target of each kind, beside the site folder: `web` (dir `www/`), `mirror` (rsync
/// to `mirror/`), `pages` (git, the bare repository `pages.git`) and `cloud` (s3, prefix
/// `school39` of the bucket `district`). [`make_remotes`] makes the repository and bucket.
fn every_kind_of_target(moto: &Moto) -> String {
    format!(
        "[publish.web]\nkind = \"dir\"\npath = \"../www\"\n\n\
         [publish.mirror]\nkind = \"rsync\"\ndest = \"../mirror/\"\n\n\
         [publish.pages]\nkind = \"git\"\nrepo = \"../pages.git\"\nbranch = \"pages\"\n\n\
         [publish.cloud]\nkind = \"s3\"\nbucket = \"district\"\nendpoint = \"{}\"\n\
         region = \"us-east-1\"\nprefix = \"school39\"\n",
        moto.endpoint()
    )
}

fn make_remotes(tmp: &Path, moto: &Moto) {
    init_bare(&tmp.join("pages.git"));
    assert_eq!(moto.request("PUT", "/district", b""), 200);
}

/// What each target of [`every_kind_of_target`] serves, byte for byte.
#[derive(Debug, PartialEq)]
struct Served {
    dir: BTreeMap<String, Vec<u8>>,
    rsync: BTreeMap<String, Vec<u8>>,
    /// Path → blob id, without `.nojekyll`.
    git: BTreeMap<String, String>,
    /// Key below the prefix → bytes.
    s3: BTreeMap<String, Vec<u8>>,
}

impl Served {
    fn now(tmp: &Path, moto: &Moto) -> Served {
        let mut git = branch_files(&tmp.join("pages.git"), "pages");
        assert!(git.remove(".nojekyll").is_some());
        Served {
            dir: tree(&tmp.join("www")),
            rsync: tree(&tmp.join("mirror")),
            git,
            s3: bucket(moto, "district")
                .into_iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("school39/")?.to_string(), v.0)))
                .collect(),
        }
    }

    /// What every target serves once it has published `public`.
    fn expected(tmp: &Path, public: &Path) -> Served {
        let files = tree(public);
        Served {
            dir: files.clone(),
            rsync: files.clone(),
            git: blob_ids(&tmp.join("pages.git"), public),
            s3: files,
        }
    }
}

#[test]
fn publish_refuses_diaries_of_another_store_until_forced() {
    Tool::Rsync.require();
    Tool::Git.require();

    let moto = Moto::start();
    let (tmp, site) = site_with_diaries(30, &every_kind_of_target(&moto));
    make_remotes(tmp.path(), &moto);
    published(publish_command(&site, None, false));
    let before = Served::now(tmp.path(), &moto);
    assert_eq!(before, Served::expected(tmp.path(), &site.join("public")));

    // The same journal with a new store: codes issued again make a new salt and new keys,
    // as many diaries and codes as before.
    move_away(&site, &tmp.path().join("site-a"));
    issue_codes(&site, None);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let other = tree(&site.join("public"));
    assert_eq!(diary_counts(&other), diary_counts(&before.dir));
    assert_ne!(other["diary/params.json"], before.dir["diary/params.json"]);

    refused(
        publish_command(&site, None, false),
        &["web", "mirror", "pages", "cloud"],
        &[
            "another private store".into(),
            "diary publish --force".into(),
        ],
    );
    assert_eq!(Served::now(tmp.path(), &moto), before);

    published(publish_command(&site, None, true));
    assert_eq!(
        Served::now(tmp.path(), &moto),
        Served::expected(tmp.path(), &site.join("public"))
    );
}

#[test]
fn publish_refuses_a_build_from_an_old_backup_of_the_store_until_forced() {
    Tool::Rsync.require();

    let (tmp, site) = fast_site(
        30,
        "[publish.web]\nkind = \"dir\"\npath = \"../www\"\n\n\
         [publish.mirror]\nkind = \"rsync\"\ndest = \"../mirror/\"\n",
    );
    // Codes for every class but grades 1 and 2; the store is backed up; then their codes.
    let classes = query(
        &site,
        "SELECT name FROM classes WHERE grade > 2 ORDER BY grade",
    );
    for class in &classes {
        issue_codes(&site, Some(&class[0]));
    }
    let backup = tmp.path().join("backup");
    std::fs::create_dir(&backup).unwrap();
    copy_dir(&site.join(".diary"), &backup.join(".diary"));
    issue_codes(&site, None);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    published(publish_command(&site, None, false));
    let built = tree(&site.join("public"));
    assert_eq!(tree(&tmp.path().join("www")), built);
    assert_eq!(tree(&tmp.path().join("mirror")), built);

    // A new server restores the old backup and builds: the same salt, fewer diaries.
    move_away(&site, &tmp.path().join("old-server"));
    std::fs::rename(backup.join(".diary"), site.join(".diary")).unwrap();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let old = tree(&site.join("public"));
    assert_eq!(old["diary/params.json"], built["diary/params.json"]);
    let (before, after) = (diary_counts(&built), diary_counts(&old));
    assert!(
        before.0 - after.0 >= 5 && (before.0 - after.0) * 10 > before.0,
        "{before:?} → {after:?}: a big drop of pages"
    );
    refused(
        publish_command(&site, None, false),
        &["web", "mirror"],
        &[
            format!(
                "the target serves {} diary files and {} codes, this build has {} and {}",
                before.0, before.1, after.0, after.1
            ),
            "more than a tenth".into(),
            "--force".into(),
        ],
    );
    assert_eq!(tree(&tmp.path().join("www")), built);
    assert_eq!(tree(&tmp.path().join("mirror")), built);

    published(publish_command(&site, None, true));
    assert_eq!(tree(&tmp.path().join("www")), old);
    assert_eq!(tree(&tmp.path().join("mirror")), old);
}
