//! Sealed diaries end to end: codes, build, an independent decryption of the published
//! files, no leak of names or codes, revocation, reuse of unchanged payloads, bad input.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::*;
use predicates::prelude::*;

/// A demo site with cheap KDF settings and codes issued for everyone, built.
fn site_with_codes(students: usize) -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = demo_site(students);
    cheap_codes(&site);
    issue_codes(&site, None);
    diary().arg("-C").arg(&site).arg("build").assert().success();
    (tmp, site)
}

/// `codes list --format csv` as rows of (code, student_id, student_name, status).
fn codes(site: &Path) -> Vec<BTreeMap<String, String>> {
    let out = diary()
        .arg("-C")
        .arg(site)
        .args(["codes", "list", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = r.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "code",
            "student_id",
            "student_name",
            "class",
            "holder",
            "holder_kind",
            "issued_at",
            "status"
        ]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The protocol, written again from docs/access.md with the primitives only (not the
/// production functions): code → slot → children → page → HTML.
mod independent {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use base64::Engine;

    pub fn normalize(code: &str) -> String {
        code.chars()
            .filter(|c| *c != '-' && *c != ' ')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect()
    }

    fn decrypt(key: &[u8], aad: &str, file: &[u8]) -> Vec<u8> {
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).unwrap();
        cipher
            .decrypt(
                aes_gcm::Nonce::from_slice(&file[..12]),
                Payload {
                    msg: &file[12..],
                    aad: aad.as_bytes(),
                },
            )
            .expect("GCM tag verifies")
    }

    /// (slot name, slot JSON) for a code.
    pub fn open_slot(public: &std::path::Path, code: &str) -> (String, serde_json::Value) {
        let params: serde_json::Value =
            serde_json::from_slice(&std::fs::read(public.join("diary/params.json")).unwrap())
                .unwrap();
        assert_eq!(params["v"], 1);
        assert_eq!(params["kdf"], "PBKDF2-HMAC-SHA256");
        let salt = base64::engine::general_purpose::STANDARD
            .decode(params["salt"].as_str().unwrap())
            .unwrap();
        assert_eq!(salt.len(), 16);
        let iterations = params["iterations"].as_u64().unwrap() as u32;
        let mut bits = [0u8; 48];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            normalize(code).as_bytes(),
            &salt,
            iterations,
            &mut bits,
        );
        let slot: String = bits[..16].iter().map(|b| format!("{b:02x}")).collect();
        let file = std::fs::read(public.join(format!("diary/k/{slot}.bin"))).expect("slot file");
        let json = decrypt(&bits[16..], &format!("diary/slot/v1/{slot}"), &file);
        (slot, serde_json::from_slice(&json).unwrap())
    }

    /// The HTML of a child's page, and the page file's size.
    pub fn open_page(public: &std::path::Path, child: &serde_json::Value) -> (String, usize) {
        let page = child["page"].as_str().unwrap();
        assert_eq!(page.len(), 32);
        let key = base64::engine::general_purpose::STANDARD
            .decode(child["key"].as_str().unwrap())
            .unwrap();
        let file = std::fs::read(public.join(format!("diary/p/{page}.bin"))).unwrap();
        let p = decrypt(&key, &format!("diary/page/v1/{page}"), &file);
        assert_eq!(p.len() % 4096, 0, "padded to 4096");
        let len = u32::from_be_bytes(p[..4].try_into().unwrap()) as usize;
        assert!(p[4 + len..].iter().all(|b| *b == 0), "zero padding");
        let mut html = String::new();
        flate2::read::GzDecoder::new(&p[4..4 + len])
            .read_to_string(&mut html)
            .unwrap();
        (html, file.len())
    }

    use std::io::Read;
}

#[test]
fn published_files_follow_the_protocol() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    let rows = codes(&site);
    assert!(!rows.is_empty());
    let row = &rows[0];
    // Typed sloppily: lowercase, spaces, O for 0 and so on all normalize.
    let typed = row["code"].to_lowercase().replace('-', " ");
    let (_, slot) = independent::open_slot(&public, &typed);
    assert_eq!(slot["v"], 1);
    let children = slot["children"].as_array().unwrap();
    let child = children
        .iter()
        .find(|c| row["student_name"].contains(c["name"].as_str().unwrap()))
        .expect("the code opens the listed pupil");
    let (html, size) = independent::open_page(&public, child);
    assert!(
        html.contains(&row["student_name"]),
        "the diary names its child"
    );
    assert!(html.contains("class=\"dweek\""), "{html}");
    assert_eq!((size - 28) % 4096, 0);
}

#[test]
fn nothing_personal_is_published_in_clear() {
    let (_tmp, site) = site_with_codes(60);
    let names = personal_names(&site);
    let mut secrets: Vec<String> = Vec::new();
    for row in codes(&site) {
        secrets.push(row["code"].clone());
        secrets.push(row["code"].replace('-', ""));
    }
    assert!(secrets.len() > 60);
    // Also "First Last" order.
    let mut needles = names.clone();
    needles.extend(names.iter().map(|n| {
        let mut parts = n.split(' ');
        let (last, first) = (parts.next().unwrap(), parts.next().unwrap_or(""));
        format!("{first} {last}")
    }));
    needles.extend(secrets);
    for (path, bytes) in tree(&site.join("public")) {
        assert!(!path.contains("Ё") && path.is_ascii(), "file name {path}");
        let text = String::from_utf8_lossy(&bytes);
        for needle in &needles {
            assert!(!text.contains(needle.as_str()), "{path} contains {needle}");
        }
    }
    // The print folder is private and stays out of the output.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "print", "--class", "5a"])
        .assert()
        .success();
    assert!(site.join("print/codes-5a.html").is_file());
    assert!(!site.join("public/print").exists());
}

#[test]
fn a_rebuild_rewrites_nothing_and_a_mark_waits_for_the_batch_that_changes_every_file() {
    let (_tmp, site) = site_with_codes(40);
    build_at(&site, "2026-11-24 15:30");
    let before = tree(&site.join("public"));
    build_at(&site, "2026-11-24 15:40");
    assert_eq!(
        before,
        tree(&site.join("public")),
        "a rebuild rewrites nothing"
    );

    // One new mark for one pupil, between two batches: no diary file changes.
    sql(
        &site,
        "INSERT INTO marks (student_id, lesson_id, work_type_id, value, is_debt) \
         SELECT s.id, l.id, 1, '5', 0 FROM lessons l JOIN students s ON s.class_id = l.class_id \
         JOIN classes c ON c.id = l.class_id \
         WHERE c.grade = 5 AND l.group_id IS NULL AND l.date = '2026-11-24' AND l.cancelled = 0 \
         ORDER BY s.id LIMIT 1;",
    );
    let out = build_at(&site, "2026-11-24 16:00");
    assert!(out.contains("2026-11-24 20:00"), "{out}");
    let held = diary_files(&site);
    assert_eq!(
        held,
        diary_files_of(&before),
        "diaries held until the batch"
    );
    // The mark shows on no public board either: only the diary files are sealed.

    // At the batch, every page and every slot is sealed anew: all change, sizes stay.
    build_at(&site, "2026-11-24 20:05");
    let batch = diary_files(&site);
    assert_eq!(batch.len(), held.len());
    for (path, bytes) in &batch {
        let old = &held[path];
        assert!(old != bytes, "{path} is sealed anew");
        assert_eq!(old.len(), bytes.len(), "{path} keeps its size");
    }

    // A batch with nothing changed changes nothing.
    build_at(&site, "2026-11-24 21:30");
    assert_eq!(diary_files(&site), batch);

    // `--now` publishes at once.
    sql(
        &site,
        "UPDATE marks SET value = '4' WHERE id = (SELECT max(id) FROM marks);",
    );
    diary()
        .env("DIARY_TODAY", "2026-11-24 21:40")
        .arg("-C")
        .arg(&site)
        .args(["build", "--now"])
        .assert()
        .success();
    let now = diary_files(&site);
    assert!(now.iter().all(|(path, bytes)| batch[path] != *bytes));
}

/// Builds as of a moment; returns what the build printed.
fn build_at(site: &Path, moment: &str) -> String {
    let out = diary()
        .env("DIARY_TODAY", moment)
        .arg("-C")
        .arg(site)
        .arg("build")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

/// The page and slot files of a site.
fn diary_files(site: &Path) -> BTreeMap<String, Vec<u8>> {
    diary_files_of(&tree(&site.join("public")))
}

fn diary_files_of(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .filter(|(p, _)| p.starts_with("diary/p/") || p.starts_with("diary/k/"))
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect()
}

/// Whether a page key opens any page file of the site.
fn key_opens_a_page(public: &Path, key_b64: &str) -> bool {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(key_b64)
        .unwrap();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    std::fs::read_dir(public.join("diary/p"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .any(|path| {
            let page = path.file_stem().unwrap().to_string_lossy().into_owned();
            let file = std::fs::read(&path).unwrap();
            cipher
                .decrypt(
                    aes_gcm::Nonce::from_slice(&file[..12]),
                    Payload {
                        msg: &file[12..],
                        aad: format!("diary/page/v1/{page}").as_bytes(),
                    },
                )
                .is_ok()
        })
}

/// The full names of the children a code opens, read from their pages.
fn opened_names(public: &Path, code: &str, names: &[String]) -> BTreeSet<String> {
    let (_, slot) = independent::open_slot(public, code);
    slot["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|child| {
            let (html, _) = independent::open_page(public, child);
            // The longest name the page shows (a name may be the start of a longer one).
            names
                .iter()
                .filter(|n| html.contains(n.as_str()))
                .max_by_key(|n| n.len())
                .cloned()
                .unwrap_or_else(|| {
                    panic!("a page names no pupil: {}", &html[..200.min(html.len())])
                })
        })
        .collect()
}

/// The code of a holder that opens a pupil, from `codes list`.
fn code_of(site: &Path, holder: &str, student_id: &str) -> String {
    codes(site)
        .into_iter()
        .find(|r| r["holder"] == holder && r["student_id"] == student_id && r["status"] == "active")
        .unwrap_or_else(|| panic!("no code of {holder} for pupil {student_id}"))["code"]
        .clone()
}

fn guardian_name(site: &Path, id: &str) -> String {
    query(
        site,
        &format!(
            "SELECT last_name || ' ' || first_name || coalesce(' ' || middle_name, '') \
             FROM guardians WHERE id = {id}"
        ),
    )[0][0]
        .clone()
}

fn pupil_names(site: &Path) -> Vec<String> {
    query(
        site,
        "SELECT last_name || ' ' || first_name || coalesce(' ' || middle_name, '') FROM students",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

#[test]
fn unlink_then_revoke_leaves_the_old_key_nothing_to_open() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    // A guardian of one child who has another guardian too.
    let pick = query(
        &site,
        "SELECT sg.guardian_id, sg.student_id FROM student_guardians sg \
         WHERE (SELECT count(*) FROM student_guardians x WHERE x.student_id = sg.student_id) >= 2 \
         AND (SELECT count(*) FROM student_guardians y WHERE y.guardian_id = sg.guardian_id) = 1 \
         ORDER BY sg.student_id LIMIT 1",
    );
    let (guardian, pupil) = (pick[0][0].clone(), pick[0][1].clone());
    let code = code_of(&site, &guardian_name(&site, &guardian), &pupil);
    let (_, slot) = independent::open_slot(&public, &code);
    let seen = slot["children"][0].clone();
    assert!(key_opens_a_page(&public, seen["key"].as_str().unwrap()));

    // Custody changes: the link goes first, then the code.
    sql(
        &site,
        &format!(
            "DELETE FROM student_guardians WHERE guardian_id = {guardian} AND student_id = {pupil}"
        ),
    );
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", &code])
        .assert()
        .success()
        .stderr(predicate::str::contains("gives 1 diary new keys"));
    build_at(&site, "2026-11-23 16:00");
    let page = seen["page"].as_str().unwrap();
    assert!(!public.join(format!("diary/p/{page}.bin")).exists());
    assert!(
        !key_opens_a_page(&public, seen["key"].as_str().unwrap()),
        "the key he saw opens no current page"
    );
    // The other guardian still opens the child.
    let other = query(
        &site,
        &format!("SELECT guardian_id FROM student_guardians WHERE student_id = {pupil} LIMIT 1"),
    )[0][0]
        .clone();
    let other_code = code_of(&site, &guardian_name(&site, &other), &pupil);
    let name = query(
        &site,
        &format!("SELECT last_name || ' ' || first_name || coalesce(' ' || middle_name, '') FROM students WHERE id = {pupil}"),
    )[0][0]
        .clone();
    assert!(opened_names(&public, &other_code, &pupil_names(&site)).contains(&name));
}

#[test]
fn unlinking_a_child_gives_it_new_keys() {
    let (_tmp, site) = site_with_codes(60);
    let public = site.join("public");
    // A guardian with two children or more; one of them is unlinked.
    let pick = query(
        &site,
        "SELECT guardian_id, min(student_id) FROM student_guardians GROUP BY guardian_id \
         HAVING count(*) >= 2 ORDER BY guardian_id LIMIT 1",
    );
    let (guardian, pupil) = (pick[0][0].clone(), pick[0][1].clone());
    let holder = guardian_name(&site, &guardian);
    let code = code_of(&site, &holder, &pupil);
    let names = pupil_names(&site);
    let (_, slot) = independent::open_slot(&public, &code);
    let before = opened_names(&public, &code, &names);
    assert!(before.len() >= 2);
    let name = query(
        &site,
        &format!("SELECT last_name || ' ' || first_name || coalesce(' ' || middle_name, '') FROM students WHERE id = {pupil}"),
    )[0][0]
        .clone();
    let seen = slot["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| name.contains(c["name"].as_str().unwrap()))
        .unwrap()
        .clone();

    sql(
        &site,
        &format!(
            "DELETE FROM student_guardians WHERE guardian_id = {guardian} AND student_id = {pupil}"
        ),
    );
    let out = build_at(&site, "2026-11-23 16:00");
    assert!(out.contains("got new keys"), "{out}");
    assert!(!key_opens_a_page(&public, seen["key"].as_str().unwrap()));
    let after = opened_names(&public, &code, &names);
    let mut expected = before.clone();
    expected.remove(&name);
    assert_eq!(after, expected, "the code still opens the other children");
}

#[test]
fn a_journal_with_new_ids_for_the_same_people_keeps_every_code() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    let names = pupil_names(&site);
    let list = codes(&site);
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &list {
        expected
            .entry(r["code"].clone())
            .or_default()
            .insert(r["student_name"].clone());
    }
    let pages_before: BTreeSet<String> = tree(&public)
        .into_keys()
        .filter(|p| p.starts_with("diary/p/"))
        .collect();

    // Everyone numbered anew, links kept.
    sql(
        &site,
        "UPDATE students SET id = id + 100000; UPDATE guardians SET id = id + 100000; \
         UPDATE student_guardians SET student_id = student_id + 100000, guardian_id = guardian_id + 100000; \
         UPDATE group_students SET student_id = student_id + 100000; \
         UPDATE marks SET student_id = student_id + 100000; \
         UPDATE attendance SET student_id = student_id + 100000; \
         UPDATE period_marks SET student_id = student_id + 100000; \
         UPDATE remarks SET student_id = student_id + 100000;",
    );
    let out = build_at(&site, "2026-11-23 16:00");
    assert!(!out.contains("new keys"), "{out}");
    for (code, children) in &expected {
        assert_eq!(
            &opened_names(&public, code, &names),
            children,
            "code {code}"
        );
    }
    let pages_after: BTreeSet<String> = tree(&public)
        .into_keys()
        .filter(|p| p.starts_with("diary/p/"))
        .collect();
    assert_eq!(pages_before, pages_after, "no child got new keys");
}

#[test]
fn two_guardians_swapped_under_the_same_ids_are_refused() {
    let (_tmp, site) = site_with_codes(40);
    let before = tree(&site.join("public"));
    // Two guardians of one child each, of two different children.
    let one_child = query(
        &site,
        "SELECT guardian_id, min(student_id) FROM student_guardians GROUP BY guardian_id \
         HAVING count(*) = 1 ORDER BY guardian_id",
    );
    let first = one_child[0].clone();
    let second = one_child
        .iter()
        .find(|r| r[1] != first[1])
        .expect("two families")
        .clone();
    let pick = [first, second];
    let (a, b) = (pick[0][0].clone(), pick[1][0].clone());
    let code_a = code_of(&site, &guardian_name(&site, &a), &pick[0][1]);
    let code_b = code_of(&site, &guardian_name(&site, &b), &pick[1][1]);
    sql(
        &site,
        &format!(
            "UPDATE guardians SET id = -1 WHERE id = {a}; \
             UPDATE guardians SET id = {a} WHERE id = {b}; \
             UPDATE guardians SET id = {b} WHERE id = -1;"
        ),
    );
    let stderr = refused(&site, &["build"], &["no longer match the people"]);
    for code in [&code_a, &code_b] {
        let tail = &code[code.len() - 4..];
        assert!(stderr.contains(&format!("…{tail}")), "{stderr}");
        assert!(
            stderr.contains(&format!("diary codes confirm {tail}")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("diary codes revoke {tail}")),
            "{stderr}"
        );
        assert!(
            !stderr.contains(code.as_str()),
            "the whole code is never shown"
        );
    }
    assert_eq!(before, tree(&site.join("public")), "public/ untouched");

    // After a confirmation of each, the build goes on, with the journal as it is now.
    for code in [&code_a, &code_b] {
        diary()
            .arg("-C")
            .arg(&site)
            .args(["codes", "confirm", &code[code.len() - 4..]])
            .assert()
            .success()
            .stderr(predicate::str::contains("confirmed"));
    }
    build_at(&site, "2026-11-23 16:00");
}

#[test]
fn a_store_of_another_site_is_refused_and_public_stays() {
    let (tmp, site) = site_with_codes(20);
    let before = tree(&site.join("public"));
    // Another site's well-formed store, as a wrong backup would bring it back.
    let other = tmp.path().join("other");
    diary()
        .args([
            "init",
            other.to_str().unwrap(),
            "--demo",
            "--students",
            "20",
        ])
        .assert()
        .success();
    cheap_codes(&other);
    issue_codes(&other, None);
    std::fs::remove_dir_all(site.join(".diary")).unwrap();
    copy_dir(&other.join(".diary"), &site.join(".diary"));
    for args in [&["build"][..], &["codes", "issue"]] {
        refused(&site, args, &["not the one that sealed", "backup"]);
    }
    assert_eq!(before, tree(&site.join("public")));
}

#[test]
fn losing_a_tenth_of_the_diaries_needs_force() {
    let (_tmp, site) = site_with_codes(60);
    let before = tree(&site.join("public"));
    // A bad import loses the guardians of the upper grades.
    sql(
        &site,
        "DELETE FROM student_guardians WHERE student_id IN \
           (SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id WHERE c.grade >= 8);",
    );
    refused(&site, &["build"], &["more than a tenth", "--force"]);
    assert_eq!(before, tree(&site.join("public")));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["build", "--force"])
        .assert()
        .success();
}

#[cfg(unix)]
#[test]
fn the_store_stays_private_whatever_was_left_in_its_folder() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, site) = demo_site(20);
    let store = site.join(".diary");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o755)).unwrap();
    for leftover in ["store.json.tmp", ".tmp-store"] {
        std::fs::write(store.join(leftover), "{}").unwrap();
        std::fs::set_permissions(store.join(leftover), std::fs::Permissions::from_mode(0o644))
            .unwrap();
    }
    issue_codes(&site, None);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store.join("store.json")), 0o600);
    assert_eq!(mode(&store), 0o700);

    // A store made readable by others afterwards is reported by `check` and the build.
    std::fs::set_permissions(
        store.join("store.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .arg("check")
        .assert()
        .stdout(predicate::str::contains("can be read by other users"));
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .assert()
        .success()
        .stderr(predicate::str::contains("can be read by other users"));
}

#[test]
fn every_page_has_one_size_and_every_slot_another() {
    let (_tmp, site) = site_with_codes(60);
    let files = diary_files(&site);
    let sizes = |prefix: &str| -> BTreeSet<usize> {
        files
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(_, b)| b.len())
            .collect()
    };
    let (pages, slots) = (sizes("diary/p/"), sizes("diary/k/"));
    assert_eq!(pages.len(), 1, "page sizes {pages:?}");
    assert_eq!(slots.len(), 1, "slot sizes {slots:?}");
    let page = *pages.first().unwrap();
    assert_eq!((page - 28) % 4096, 0);
    assert!(*slots.first().unwrap() >= 2048 + 28);
    // The school has first-graders, families of one and of two children: all the same.
    let children: BTreeSet<usize> = codes(&site)
        .iter()
        .fold(BTreeMap::<String, usize>::new(), |mut m, r| {
            *m.entry(r["code"].clone()).or_default() += 1;
            m
        })
        .into_values()
        .collect();
    assert!(
        children.contains(&1) && children.contains(&2),
        "{children:?}"
    );
}

#[test]
fn a_store_of_version_1_keeps_every_code_and_page() {
    let (_tmp, site) = site_with_codes(30);
    let public = site.join("public");
    let names = pupil_names(&site);
    let list = codes(&site);
    let pages_before: BTreeSet<String> = tree(&public)
        .into_keys()
        .filter(|p| p.starts_with("diary/p/"))
        .collect();
    // The same store as version 1 wrote it: pages and holders by journal id.
    let path = site.join(".diary/store.json");
    let v2: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let people = v2["people"].as_object().unwrap();
    let row = |pid: &str| people[pid]["row"].as_i64().unwrap().to_string();
    let pages: serde_json::Map<String, serde_json::Value> = v2["pages"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(pid, keys)| (row(pid), keys.clone()))
        .collect();
    let codes_v1: Vec<serde_json::Value> = v2["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let holder = c["holder"].to_string();
            serde_json::json!({
                "code": c["code"], "slot": c["slot"], "kek": c["kek"],
                "holder": {"kind": people[&holder]["kind"], "id": row(&holder).parse::<i64>().unwrap()},
                "issued_at": c["issued_at"],
            })
        })
        .collect();
    let v1 = serde_json::json!({
        "v": 1, "salt": v2["salt"], "iterations": v2["iterations"], "hash_key": v2["hash_key"],
        "pages": pages, "codes": codes_v1,
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&v1).unwrap()).unwrap();
    build_at(&site, "2026-11-23 16:00");
    let upgraded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(upgraded["v"], 2);
    let pages_after: BTreeSet<String> = tree(&public)
        .into_keys()
        .filter(|p| p.starts_with("diary/p/"))
        .collect();
    assert_eq!(pages_before, pages_after);
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &list {
        expected
            .entry(r["code"].clone())
            .or_default()
            .insert(r["student_name"].clone());
    }
    for (code, children) in expected.iter().take(5) {
        assert_eq!(&opened_names(&public, code, &names), children);
    }
}

#[test]
fn revocation_drops_the_slot_and_rekeys_the_children() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    let rows = codes(&site);
    let code = rows[0]["code"].clone();
    let (slot, content) = independent::open_slot(&public, &code);
    let old_page = content["children"][0]["page"].as_str().unwrap().to_string();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", &code.to_lowercase()])
        .assert()
        .success();
    diary().arg("-C").arg(&site).arg("build").assert().success();
    assert!(!public.join(format!("diary/k/{slot}.bin")).exists());
    assert!(!public.join(format!("diary/p/{old_page}.bin")).exists());
    // Other holders of the same child still open it, under the new page id.
    let others: Vec<_> = codes(&site)
        .into_iter()
        .filter(|r| r["student_id"] == rows[0]["student_id"] && r["status"] == "active")
        .collect();
    for other in others {
        let (_, c) = independent::open_slot(&public, &other["code"]);
        let pages: Vec<&str> = c["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ch| ch["page"].as_str().unwrap())
            .collect();
        assert!(!pages.contains(&old_page.as_str()));
    }
    assert!(
        codes(&site)
            .iter()
            .any(|r| r["code"] == code && r["status"].starts_with("revoked"))
    );
    // Revoking again, or a code of another site, is refused.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", &code])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already revoked"));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", "0000-0000-0000-0000"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not issued by this site"));
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "revoke", "ABCD-EFGH-UUUU-1234"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not a code"));
}

#[test]
fn a_lost_or_damaged_store_stops_the_build() {
    let (_tmp, site) = site_with_codes(20);
    let before = tree(&site.join("public"));
    std::fs::rename(site.join(".diary"), site.join("store-backup")).unwrap();
    for args in [&["build"][..], &["codes", "issue"]] {
        refused(&site, args, &["is missing", "backup"]);
    }
    assert_eq!(before, tree(&site.join("public")));
    assert!(!site.join(".diary").exists(), "no new store was made");

    std::fs::create_dir(site.join(".diary")).unwrap();
    std::fs::write(site.join(".diary/store.json"), "{ damaged").unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .arg("build")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("damaged"));
    assert_eq!(before, tree(&site.join("public")));
}

#[test]
fn grade_one_diaries_show_no_marks() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    let row = codes(&site)
        .into_iter()
        .find(|r| {
            let mut chars = r["class"].chars();
            chars.next() == Some('1') && chars.next().is_some_and(|c| !c.is_ascii_digit())
        })
        .expect("a first-grader");
    let (_, slot) = independent::open_slot(&public, &row["code"]);
    let child = slot["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| row["student_name"].contains(c["name"].as_str().unwrap()))
        .unwrap()
        .clone();
    let (html, _) = independent::open_page(&public, &child);
    assert!(!html.contains("class=\"mark"), "grade 1 shows marks");
    assert!(!html.contains("marks-table"));
}

#[test]
fn the_build_writes_the_headers_a_host_should_send() {
    let (_tmp, site) = site_with_codes(20);
    let headers = std::fs::read_to_string(site.join("public/_headers")).unwrap();
    for needle in [
        "/*\n",
        "frame-ancestors 'none'",
        "X-Content-Type-Options: nosniff",
        "X-Frame-Options: DENY",
        "Referrer-Policy: no-referrer",
        "Strict-Transport-Security: max-age=",
        "/diary/*\n  Cache-Control: no-cache",
    ] {
        assert!(headers.contains(needle), "{needle:?} in {headers}");
    }
    // docs/operations.md gives the same headers for nginx.
    let ops = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"),
    )
    .unwrap();
    for line in headers
        .lines()
        .filter(|l| l.starts_with("  ") && !l.contains("Cache-Control"))
    {
        let (name, value) = line.trim().split_once(": ").unwrap();
        assert!(
            ops.contains(&format!("add_header {name} \"{value}\" always;")),
            "docs/operations.md gives nginx the header {name}: {value}"
        );
    }
}

#[test]
fn the_demo_gives_demo_codes_that_open_diaries_and_never_a_real_journal() {
    let (_tmp, site) = common::empty_site();
    let run_demo = || {
        let out = diary()
            .arg("-C")
            .arg(&site)
            .args(["demo", "--no-serve", "--students", "40"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let first = run_demo();
    let links: Vec<&str> = first.lines().filter(|l| l.contains("#c=")).collect();
    assert_eq!(links.len(), 2, "{first}");
    assert!(
        links[0].contains("children "),
        "a family with two children: {first}"
    );
    assert!(first.contains("/diary/"), "{first}");
    let params: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join("public/diary/params.json")).unwrap())
            .unwrap();
    assert_eq!(
        params["iterations"], 100_000,
        "demo codes are quick to open"
    );
    let public = site.join("public");
    for link in &links {
        let code = link.rsplit("#c=").next().unwrap();
        let (_, slot) = independent::open_slot(&public, code);
        let n = slot["children"].as_array().unwrap().len();
        assert!(n >= 1);
        for child in slot["children"].as_array().unwrap() {
            let (html, _) = independent::open_page(&public, child);
            assert!(html.contains(child["name"].as_str().unwrap()));
        }
    }
    // Again: the same people, the same codes.
    let again = run_demo();
    let links_again: Vec<&str> = again.lines().filter(|l| l.contains("#c=")).collect();
    assert_eq!(links, links_again);

    // A real journal replaces the demo one: the demo codes are refused, not used.
    std::fs::remove_file(site.join("data/journal.sqlite")).unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["import", "csv"])
        .arg(fixture("mini-csv"))
        .assert()
        .success();
    refused(&site, &["build"], &["demo codes", "not a demo journal"]);
    refused(&site, &["codes", "issue"], &["demo codes"]);
    std::fs::remove_dir_all(site.join(".diary")).unwrap();
    std::fs::remove_dir_all(site.join("public/diary")).unwrap();
    issue_codes(&site, None);
}

/// `codes issue --pupils --from-grade 5`: each pupil from grade 5 on gets a code of their
/// own that opens their diary and nobody else's, besides their parents' codes; pupils of
/// families on paper get none; the slip says whose code it is.
#[test]
fn pupils_get_codes_of_their_own_from_a_grade_on() {
    let (_tmp, site) = site_with_codes(40);
    let public = site.join("public");
    // One family of 5А on paper.
    let paper_pupil = query(
        &site,
        "SELECT s.id FROM students s JOIN classes c ON c.id = s.class_id \
         WHERE c.name = '5А' AND EXISTS (SELECT 1 FROM student_guardians sg \
             WHERE sg.student_id = s.id) ORDER BY s.id DESC LIMIT 1",
    )[0][0]
        .clone();
    sql(
        &site,
        &format!(
            "UPDATE guardians SET delivery = 'paper' WHERE id IN \
                 (SELECT guardian_id FROM student_guardians WHERE student_id = {paper_pupil})"
        ),
    );
    let before = codes(&site).len();
    let out = diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue", "--pupils", "--from-grade", "5"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("pupil(s) of families who receive the diary on paper: no code of their own"),
        "{said}"
    );
    build_at(&site, "2026-11-23 16:00");

    let rows = codes(&site);
    assert!(rows.len() > before, "new rows for the pupils' codes");
    let own: Vec<&BTreeMap<String, String>> = rows
        .iter()
        .filter(|r| r["holder_kind"] == "pupil" && r["status"] == "active")
        .collect();
    let grade_of = |id: &str| -> i64 {
        query(
            &site,
            &format!(
                "SELECT c.grade FROM students s JOIN classes c ON c.id = s.class_id \
                 WHERE s.id = {id}"
            ),
        )[0][0]
            .parse()
            .unwrap()
    };
    let has_guardians = |id: &str| -> bool {
        query(
            &site,
            &format!("SELECT count(*) FROM student_guardians WHERE student_id = {id}"),
        )[0][0]
            != "0"
    };
    // Every pupil from grade 5 on (not on paper) has one; below it only pupils without
    // guardians, whose code has always been their own.
    let from_five = query(
        &site,
        &format!(
            "SELECT count(*) FROM students s JOIN classes c ON c.id = s.class_id \
             WHERE c.grade >= 5 AND s.id != {paper_pupil}"
        ),
    )[0][0]
        .parse::<usize>()
        .unwrap();
    let with_guardians_own: Vec<_> = own
        .iter()
        .filter(|r| has_guardians(&r["student_id"]))
        .collect();
    assert_eq!(with_guardians_own.len(), from_five, "one code per pupil");
    for r in &with_guardians_own {
        assert!(grade_of(&r["student_id"]) >= 5, "{r:?}");
        assert_ne!(r["student_id"], paper_pupil, "a family on paper");
    }

    // A pupil's code opens their own diary only; their parent's code still opens it.
    let pupil = &with_guardians_own[0];
    let names = pupil_names(&site);
    assert_eq!(
        opened_names(&public, &pupil["code"], &names),
        BTreeSet::from([pupil["student_name"].clone()])
    );
    let parent = rows
        .iter()
        .find(|r| {
            r["holder_kind"] == "guardian"
                && r["student_id"] == pupil["student_id"]
                && r["status"] == "active"
        })
        .expect("the parent's code");
    assert!(opened_names(&public, &parent["code"], &names).contains(&pupil["student_name"]));

    // Running it again issues nothing new.
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue", "--pupils", "--from-grade", "5"])
        .assert()
        .success()
        .stderr(predicate::str::contains("issued 0 new code(s)"));

    // The slips of 5А: the pupil's own says so.
    let class = query(
        &site,
        &format!(
            "SELECT c.name FROM students s JOIN classes c ON c.id = s.class_id \
             WHERE s.id = {}",
            pupil["student_id"]
        ),
    )[0][0]
        .clone();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "print", "--class", &class])
        .assert()
        .success();
    let slips = std::fs::read_dir(site.join("print"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("codes-"))
        .unwrap();
    let html = std::fs::read_to_string(slips).unwrap();
    let slip = html
        .split("<section class=\"slip\">")
        .find(|s| s.contains(&pupil["code"]))
        .expect("the pupil's slip");
    assert!(slip.contains("Код ученика"), "{slip}");
    assert!(
        slip.contains("Это личный код самого ученика: он открывает только его дневник. У родителей — свой код."),
        "{slip}"
    );
    let parents = html
        .split("<section class=\"slip\">")
        .find(|s| s.contains(&parent["code"]))
        .expect("the parent's slip");
    assert!(parents.contains("Код родителя (законного представителя)"));
    assert!(!parents.contains("личный код самого ученика"));

    // --from-grade needs --pupils, and a grade 1–11 (usage errors).
    for (args, needle) in [
        (&["--from-grade", "5"][..], "--pupils"),
        (
            &["--pupils", "--from-grade", "12"][..],
            "12 is not in 1..=11",
        ),
    ] {
        diary()
            .arg("-C")
            .arg(&site)
            .args(["codes", "issue"])
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle));
    }
}

/// A school-wide announcement (a parent meeting) reaches every family: it is inside a
/// child's sealed diary page, read back with the independent decryption.
#[test]
fn a_school_announcement_is_in_the_sealed_diary() {
    let (_tmp, site) = site_with_codes(24);
    std::fs::write(
        site.join("content/2026-11-23-parent-meeting.md"),
        "+++\ntitle = \"Общешкольное родительское собрание 27 ноября\"\n\
         date = \"2026-11-23 09:00\"\naudience = \"school\"\nauthor = \"Администрация\"\n+++\n\
         Собрание в актовом зале в 18:00.\n",
    )
    .unwrap();
    // At once, not at the next diary batch.
    diary()
        .env("DIARY_TODAY", "2026-11-23 16:00")
        .arg("-C")
        .arg(&site)
        .args(["build", "--now"])
        .assert()
        .success();
    let public = site.join("public");
    let code = &codes(&site)
        .into_iter()
        .find(|r| r["status"] == "active" && !r["student_id"].is_empty())
        .expect("an active code")["code"];
    let (_, slot) = independent::open_slot(&public, code);
    let child = &slot["children"][0];
    let (html, _) = independent::open_page(&public, child);
    assert!(
        html.contains("Общешкольное родительское собрание 27 ноября"),
        "the school's announcement in the child's diary"
    );
}
