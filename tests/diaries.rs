//! Sealed diaries end to end: codes, build, an independent decryption of the published
//! files, no leak of names or codes, revocation, reuse of unchanged payloads, bad input.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use predicates::prelude::*;

/// A demo site with cheap KDF settings and codes issued for everyone, built.
fn site_with_codes(students: usize) -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = demo_site(students);
    let toml = std::fs::read_to_string(site.join("site.toml")).unwrap();
    std::fs::write(
        site.join("site.toml"),
        toml.replace("iterations = 600000", "iterations = 100000"),
    )
    .unwrap();
    diary()
        .arg("-C")
        .arg(&site)
        .args(["codes", "issue"])
        .assert()
        .success();
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
fn unchanged_payloads_keep_their_bytes_and_a_change_touches_one_child() {
    let (_tmp, site) = site_with_codes(40);
    let before = tree(&site.join("public"));
    diary().arg("-C").arg(&site).arg("build").assert().success();
    assert_eq!(
        before,
        tree(&site.join("public")),
        "a rebuild rewrites nothing"
    );

    // One new mark for one pupil: exactly that pupil's page file changes.
    sql(
        &site,
        "INSERT INTO marks (student_id, lesson_id, work_type_id, value, is_debt) \
         SELECT s.id, l.id, 1, '5', 0 FROM lessons l JOIN students s ON s.class_id = l.class_id \
         JOIN classes c ON c.id = l.class_id \
         WHERE c.grade = 5 AND l.group_id IS NULL AND l.date = '2026-11-23' AND l.cancelled = 0 \
         ORDER BY s.id LIMIT 1;",
    );
    diary().arg("-C").arg(&site).arg("build").assert().success();
    let after = tree(&site.join("public"));
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].starts_with("diary/p/"));
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
    for args in [vec!["build"], vec!["codes", "issue"]] {
        diary()
            .arg("-C")
            .arg(&site)
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is missing"))
            .stderr(predicate::str::contains("backup"));
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
