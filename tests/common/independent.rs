//! The access protocol v2 written again from docs/access.md with the primitives only
//! (aes-gcm, pbkdf2, hmac, sha2, flate2, base64), never the production code: code → slot →
//! each child's `now` chunk → the earlier parts it lists → HTML. A test that reads sealed
//! diaries through this module checks the published files against the document, not
//! against the code that wrote them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine;
use hmac::Mac;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A code as typed, normalized ("Codes" in docs/access.md); `None` when it is no code.
pub fn normalize(typed: &str) -> Option<String> {
    let mut code = String::new();
    for c in typed.chars() {
        let c = c.to_ascii_uppercase();
        match c {
            ' ' | '-' => continue,
            'O' => code.push('0'),
            'I' | 'L' => code.push('1'),
            c if "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c) => code.push(c),
            _ => return None,
        }
    }
    (code.len() == 16).then_some(code)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256: extract (`prk = HMAC(salt, ikm)`), then expand
/// (`T(i) = HMAC(prk, T(i-1) ‖ info ‖ i)`, the output is `T(1) ‖ T(2) ‖ …` cut to `len`).
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    assert!(len <= 255 * 32);
    let prk = hmac_sha256(salt, &[ikm]);
    let mut okm = Vec::with_capacity(len + 32);
    let mut t: Vec<u8> = Vec::new();
    let mut i = 1u8;
    while okm.len() < len {
        t = hmac_sha256(&prk, &[&t, info, &[i]]).to_vec();
        okm.extend_from_slice(&t);
        i += 1;
    }
    okm.truncate(len);
    okm
}

/// AES-256-GCM of a published file (`nonce ‖ ciphertext ‖ tag`); `None` when the tag does
/// not verify.
pub fn open(key: &[u8], aad: &str, file: &[u8]) -> Option<Vec<u8>> {
    if file.len() < 28 {
        return None;
    }
    aes_gcm::Aes256Gcm::new_from_slice(key)
        .unwrap()
        .decrypt(
            aes_gcm::Nonce::from_slice(&file[..12]),
            Payload {
                msg: &file[12..],
                aad: aad.as_bytes(),
            },
        )
        .ok()
}

/// A child as a slot lists it: page id, data key, first name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub page: String,
    pub dek: Vec<u8>,
    pub name: String,
}

impl Child {
    pub fn of(entry: &serde_json::Value) -> Child {
        let page = entry["page"].as_str().expect("page").to_string();
        assert!(
            page.len() == 32
                && page
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "page id {page}"
        );
        let dek = B64.decode(entry["key"].as_str().expect("key")).unwrap();
        assert_eq!(dek.len(), 32, "a 32-byte data key");
        Child {
            page,
            dek,
            name: entry["name"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// The file name, key and AAD of the chunk `name` of this child's diary.
    pub fn chunk_key(&self, name: &str) -> ChunkKey {
        chunk_key(&self.dek, &self.page, name)
    }
}

/// Where a chunk is published and how it opens.
#[derive(Debug, Clone)]
pub struct ChunkKey {
    /// 32 lowercase hex digits: the file is `diary/c/<id>.bin`.
    pub id: String,
    pub key: Vec<u8>,
    /// The HKDF info, which is also the AAD.
    pub info: String,
}

impl ChunkKey {
    pub fn path(&self) -> String {
        format!("diary/c/{}.bin", self.id)
    }
}

pub fn chunk_key(dek: &[u8], page: &str, name: &str) -> ChunkKey {
    let info = format!("diary/chunk/v2/{page}/{name}");
    let okm = hkdf_sha256(dek, &[0u8; 32], info.as_bytes(), 48);
    ChunkKey {
        id: hex(&okm[..16]),
        key: okm[16..].to_vec(),
        info,
    }
}

/// (slot name, slot JSON) for a code; checks the slot's padding and that it says `"v":2`.
pub fn open_slot(public: &Path, typed: &str) -> (String, serde_json::Value) {
    let code = normalize(typed).unwrap_or_else(|| panic!("{typed:?} is not a code"));
    let params: serde_json::Value =
        serde_json::from_slice(&std::fs::read(public.join("diary/params.json")).unwrap()).unwrap();
    assert_eq!(params["v"], 1);
    assert_eq!(params["kdf"], "PBKDF2-HMAC-SHA256");
    let salt = B64.decode(params["salt"].as_str().unwrap()).unwrap();
    assert_eq!(salt.len(), 16);
    let iterations = params["iterations"].as_u64().unwrap();
    assert!(iterations >= 100_000);
    let mut bits = [0u8; 48];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(code.as_bytes(), &salt, iterations as u32, &mut bits);
    let slot = hex(&bits[..16]);
    let file = std::fs::read(public.join(format!("diary/k/{slot}.bin")))
        .unwrap_or_else(|_| panic!("no slot file for code …{}", &code[12..]));
    let plain = open(&bits[16..], &format!("diary/slot/v1/{slot}"), &file)
        .expect("the slot's GCM tag verifies");
    assert!(
        plain.len() == 512 || plain.len().is_multiple_of(1024),
        "slots are padded to 512 bytes, or a multiple of 1024: {}",
        plain.len()
    );
    let end = plain.iter().rposition(|b| *b != b' ').unwrap();
    assert_eq!(plain[end], b'}', "JSON, then spaces");
    let json: serde_json::Value = serde_json::from_slice(&plain[..=end]).unwrap();
    assert_eq!(json["v"], 2, "slots of protocol v2 say \"v\":2");
    (slot, json)
}

/// The children a slot lists.
pub fn children(slot: &serde_json::Value) -> Vec<Child> {
    slot["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(Child::of)
        .collect()
}

/// One opened chunk.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub name: String,
    /// `diary/c/<id>.bin`
    pub path: String,
    /// The fragment as the browser shows it: the child's own lines in their places.
    pub html: String,
    /// The fragment as sealed.
    pub raw: String,
    /// `L`: the length of the gzip of the fragment.
    pub gzip_len: usize,
    /// The size of the file (12 + |P| + 16).
    pub file_len: usize,
}

/// The plaintext `P` of a chunk file unpadded: checks the padding (a multiple of 1024, zero
/// bytes after `L`) and gunzips the fragment (strict UTF-8). Returns the fragment and `L`.
pub fn unpad(p: &[u8]) -> (String, usize) {
    assert_eq!(p.len() % 1024, 0, "P is padded to a multiple of 1024");
    let len = u32::from_be_bytes(p[..4].try_into().unwrap()) as usize;
    assert!(4 + len <= p.len(), "L fits in P");
    assert!(p[4 + len..].iter().all(|b| *b == 0), "zero bytes after L");
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&p[4..4 + len])
        .read_to_end(&mut raw)
        .expect("gzip");
    (String::from_utf8(raw).expect("UTF-8"), len)
}

/// Where a `div` that starts at `from` (right after its start tag) ends: the index of its
/// `</div>`, nested divs counted.
fn div_end(html: &str, from: usize) -> usize {
    let mut depth = 0;
    let mut i = from;
    loop {
        let open = html[i..].find("<div").map(|k| i + k);
        let close = i + html[i..].find("</div>").expect("a div ends");
        match open {
            Some(o) if o < close => {
                depth += 1;
                i = o + 4;
            }
            _ if depth == 0 => return close,
            _ => {
                depth -= 1;
                i = close + 6;
            }
        }
    }
}

/// A fragment as the browser shows it (docs/access.md, "Own lines"): each line of the
/// `div.own-lines` moved into the empty `<i data-o>` its `data-o` names (each place used
/// once), the list and the unused places removed.
pub fn place_own_lines(html: &str) -> String {
    let tags = start_tags(html);
    let boxes: Vec<&Tag> = tags.iter().filter(|t| t.is("div", "own-lines")).collect();
    assert!(boxes.len() <= 1, "one list of own lines at most");
    let mut lines = Vec::new();
    let mut out = html.to_string();
    if let Some(b) = boxes.first() {
        assert!(b.has("hidden"), "the own lines are hidden until placed");
        let end = div_end(html, b.end);
        let inner = &html[b.end..end];
        for t in start_tags(inner) {
            if let Some(name) = t.attr("data-o") {
                assert_eq!(t.name, "div");
                let close = div_end(inner, t.end);
                lines.push((name.to_string(), inner[t.end..close].to_string()));
            }
        }
        out = format!("{}{}", &html[..b.start], &html[end + "</div>".len()..]);
    }
    // The places, last first so that earlier positions hold.
    let places: Vec<Tag> = start_tags(&out)
        .into_iter()
        .filter(|t| t.name == "i" && t.attr("data-o").is_some())
        .collect();
    let mut used = std::collections::BTreeSet::new();
    for place in places.iter().rev() {
        let name = place.attr("data-o").unwrap();
        assert_eq!(&out[place.end..place.end + 4], "</i>", "a place is empty");
        let line = lines
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, h)| h.as_str());
        if line.is_some() {
            assert!(used.insert(name.to_string()), "place {name} used once");
        }
        out.replace_range(place.start..place.end + 4, line.unwrap_or(""));
    }
    for (name, _) in &lines {
        assert!(used.contains(name), "own line {name} has a place");
    }
    out
}

/// The chunk `name` of a child, if its file is published; panics when the file is there but
/// does not open.
pub fn try_open_chunk(public: &Path, child: &Child, name: &str) -> Option<Chunk> {
    let key = child.chunk_key(name);
    let path = key.path();
    let file = std::fs::read(public.join(&path)).ok()?;
    let p = open(&key.key, &key.info, &file)
        .unwrap_or_else(|| panic!("{path} ({name}) does not open under its key"));
    assert_eq!(file.len(), 12 + p.len() + 16);
    let (raw, gzip_len) = unpad(&p);
    Some(Chunk {
        name: name.to_string(),
        path,
        html: place_own_lines(&raw),
        raw,
        gzip_len,
        file_len: file.len(),
    })
}

pub fn open_chunk(public: &Path, child: &Child, name: &str) -> Chunk {
    try_open_chunk(public, child, name)
        .unwrap_or_else(|| panic!("no chunk {name} of page {}", child.page))
}

/// An earlier part as the `now` chunk lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub first: String,
    pub last: String,
    pub label: String,
}

/// A start tag of an HTML fragment: element, attributes, and where it is in the text. Tags
/// are read as HTML, not as fixed strings: values quoted or not, attributes in any order,
/// so a chunk and a minified printed page read the same way.
#[derive(Debug, Clone)]
pub struct Tag {
    pub name: String,
    pub attrs: Vec<(String, Option<String>)>,
    /// The offset of its `<` and just after its `>`.
    pub start: usize,
    pub end: usize,
}

impl Tag {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    pub fn has(&self, name: &str) -> bool {
        self.attrs.iter().any(|(n, _)| n == name)
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|t| t == class))
    }

    pub fn is(&self, element: &str, class: &str) -> bool {
        self.name == element && self.has_class(class)
    }
}

/// Every start tag of a fragment, in order.
pub fn start_tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' || !b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let name_start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                i += 1;
                break;
            }
            let n0 = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !b"=>/".contains(&b[i]) {
                i += 1;
            }
            let attr = html[n0..i].to_ascii_lowercase();
            let value = if b.get(i) == Some(&b'=') {
                i += 1;
                if b[i] == b'"' || b[i] == b'\'' {
                    let q = b[i];
                    let v0 = i + 1;
                    i = v0 + b[v0..].iter().position(|c| *c == q).expect("closing quote");
                    let v = &html[v0..i];
                    i += 1;
                    Some(v.to_string())
                } else {
                    let v0 = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    Some(html[v0..i].to_string())
                }
            } else {
                None
            };
            attrs.push((attr, value));
        }
        out.push(Tag {
            name,
            attrs,
            start,
            end: i.min(b.len()),
        });
    }
    out
}

/// The value of attribute `name` in the first start tag of `tag` (a tag, or a fragment
/// starting with one).
pub fn attr(tag: &str, name: &str) -> Option<String> {
    start_tags(tag).first()?.attr(name).map(str::to_string)
}

/// The first `element.class` of a fragment.
pub fn find(html: &str, element: &str, class: &str) -> Option<Tag> {
    start_tags(html).into_iter().find(|t| t.is(element, class))
}

/// How many `element.class` a fragment has.
pub fn count(html: &str, element: &str, class: &str) -> usize {
    start_tags(html)
        .iter()
        .filter(|t| t.is(element, class))
        .count()
}

/// The HTML of an element from its start tag to its end tag (the first `</element>` after
/// it: for elements that do not nest in themselves).
pub fn element(html: &str, tag: &Tag) -> String {
    let close = format!("</{}>", tag.name);
    let end = tag.end + html[tag.end..].find(&close).expect("end tag") + close.len();
    html[tag.start..end].to_string()
}

/// The earlier parts listed in a `now` chunk, in order (none when it has no list: the
/// first week of the year).
pub fn parts(now: &str) -> Vec<Part> {
    let Some(ol) = find(now, "ol", "dparts") else {
        assert!(!now.contains("dparts"), "the list of parts is an ol.dparts");
        return Vec::new();
    };
    assert!(ol.has("hidden"), "the list of parts is hidden");
    let list = element(now, &ol);
    start_tags(&list)
        .into_iter()
        .filter(|t| t.name == "li")
        .map(|li| {
            let label = &list[li.end..li.end + list[li.end..].find("</li>").unwrap()];
            Part {
                name: li.attr("data-part").expect("data-part").to_string(),
                first: li.attr("data-first").expect("data-first").to_string(),
                last: li.attr("data-last").expect("data-last").to_string(),
                label: label.trim().to_string(),
            }
        })
        .collect()
}

/// The `data-week` Mondays of the week sections of a fragment, in order, each with whether
/// it is `data-current` (else it must be `hidden`).
pub fn weeks(html: &str) -> Vec<(String, bool)> {
    start_tags(html)
        .into_iter()
        .filter(|t| t.is("section", "dweek"))
        .map(|t| {
            let current = t.has("data-current");
            assert!(current != t.has("hidden"), "{t:?}");
            (t.attr("data-week").expect("data-week").to_string(), current)
        })
        .collect()
}

/// Marks shown as marks (one `span.mark` each, debts too), in lessons or in tables.
pub fn marks(html: &str) -> usize {
    count(html, "span", "mark")
}

/// The day a `now` chunk was built for (`data-built` of its article).
pub fn built(now: &str) -> String {
    find(now, "article", "child")
        .and_then(|t| t.attr("data-built").map(str::to_string))
        .expect("article.child[data-built]")
}

/// A child's diary: the `now` chunk and every earlier part it lists, opened.
#[derive(Debug, Clone)]
pub struct Diary {
    pub now: Chunk,
    pub parts: Vec<(Part, Chunk)>,
}

impl Diary {
    pub fn part(&self, name: &str) -> &Chunk {
        &self
            .parts
            .iter()
            .find(|(p, _)| p.name == name)
            .unwrap_or_else(|| panic!("no part {name}"))
            .1
    }

    pub fn chunks(&self) -> impl Iterator<Item = &Chunk> {
        std::iter::once(&self.now).chain(self.parts.iter().map(|(_, c)| c))
    }
}

/// Opens a child's diary as the unlock page would, checking each fragment's shape.
pub fn try_open_diary(public: &Path, child: &Child) -> Option<Diary> {
    let now = try_open_chunk(public, child, "now")?;
    let tags = start_tags(&now.html);
    assert!(
        now.html.trim_start().starts_with('<') && tags[0].is("article", "child"),
        "the now chunk is one article.child: {}",
        now.html.chars().take(300).collect::<String>()
    );
    assert_eq!(tags.iter().filter(|t| t.name == "article").count(), 1);
    assert!(now.html.trim_end().ends_with("</article>"));
    let parts = parts(&now.html)
        .into_iter()
        .map(|part| {
            assert!(
                part.name.starts_with("term-") && part.name.len() == 15,
                "{part:?}"
            );
            let chunk = open_chunk(public, child, &part.name);
            let first = &start_tags(&chunk.html)[0];
            assert!(
                chunk.html.trim_start().starts_with('<')
                    && first.is("section", "dpart")
                    && first.attr("data-part") == Some(part.name.as_str()),
                "a part is one section.dpart of its name: {}",
                chunk.html.chars().take(300).collect::<String>()
            );
            (part, chunk)
        })
        .collect();
    Some(Diary { now, parts })
}

pub fn open_diary(public: &Path, child: &Child) -> Diary {
    try_open_diary(public, child).unwrap_or_else(|| panic!("no now chunk of page {}", child.page))
}

/// A child of the private store (`.diary/store.json`): who it is and its keys.
#[derive(Debug, Clone)]
pub struct StoredChild {
    /// The journal row (students.id) it was last found at.
    pub row: String,
    pub child: Child,
}

/// Every child the private store holds keys for.
pub fn stored_children(site: &Path) -> Vec<StoredChild> {
    let store: serde_json::Value =
        serde_json::from_slice(&std::fs::read(site.join(".diary/store.json")).unwrap()).unwrap();
    let people = store["people"].as_object().expect("people");
    store["pages"]
        .as_object()
        .expect("pages")
        .iter()
        .map(|(pid, keys)| StoredChild {
            row: people[pid]["row"].as_i64().expect("row").to_string(),
            child: Child::of(&serde_json::json!({
                "page": keys["page"], "key": keys["dek"], "name": people[pid]["label"],
            })),
        })
        .collect()
}

/// Every published diary, by the child's journal row, opened with the store's keys; checks
/// that every file under `diary/c/` belongs to one of them (no stray or unknown chunk).
pub fn published_diaries(site: &Path) -> BTreeMap<String, Diary> {
    let public = site.join("public");
    let diaries: BTreeMap<String, Diary> = stored_children(site)
        .into_iter()
        .filter_map(|s| Some((s.row, try_open_diary(&public, &s.child)?)))
        .collect();
    let known: std::collections::BTreeSet<String> = diaries
        .values()
        .flat_map(|d| d.chunks().map(|c| c.path.clone()))
        .collect();
    let published = chunk_files(&public);
    assert_eq!(
        published.len(),
        known.len(),
        "every published chunk belongs to a diary, and no two chunks share a file"
    );
    assert!(published.iter().all(|p| known.contains(p)));
    diaries
}

/// The paths (`diary/c/<id>.bin`) of every published chunk.
pub fn chunk_files(public: &Path) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(public.join("diary/c")) else {
        return Vec::new();
    };
    let mut out: Vec<String> = dir
        .map(|e| format!("diary/c/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    out.sort();
    out
}

/// (child's journal row, chunk name) of every published chunk file, by path.
pub fn chunk_owners(diaries: &BTreeMap<String, Diary>) -> BTreeMap<String, (String, String)> {
    diaries
        .iter()
        .flat_map(|(row, d)| {
            d.chunks()
                .map(|c| (c.path.clone(), (row.clone(), c.name.clone())))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Each `section.dweek` of a fragment (or of a whole minified page), whole (its nested
/// sections balanced), by its `data-week` Monday, in order.
pub fn week_sections(html: &str) -> Vec<(String, String)> {
    let tags = start_tags(html);
    let sections: Vec<usize> = tags
        .iter()
        .filter(|t| t.name == "section")
        .map(|t| t.start)
        .collect();
    tags.iter()
        .filter(|t| t.is("section", "dweek"))
        .map(|t| {
            let mut depth = 1usize;
            let mut i = t.end;
            loop {
                let close = i + html[i..].find("</section>").expect("balanced");
                let opens = sections.iter().filter(|s| **s >= i && **s < close).count();
                depth += opens;
                depth -= 1;
                i = close + "</section>".len();
                if depth == 0 {
                    break;
                }
            }
            (
                t.attr("data-week").expect("data-week").to_string(),
                html[t.start..i].to_string(),
            )
        })
        .collect()
}
