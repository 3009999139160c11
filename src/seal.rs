//! Access protocol v2 (docs/access.md): access codes, key derivation, slot and chunk
//! encryption. The browser (themes/default/static/diary.js) speaks the same protocol; both
//! must agree byte for byte.
//!
//! - code: 16 Crockford base32 symbols (80 random bits), shown `XXXX-XXXX-XXXX-XXXX`;
//! - `bits = PBKDF2-HMAC-SHA256(code, salt, iterations, 48)`: `slot = hex(bits[..16])`,
//!   `kek = bits[16..]`;
//! - slot file `diary/k/<slot>.bin` = `nonce ‖ AES-256-GCM(kek, JSON, aad "diary/slot/v1/<slot>")`;
//! - chunk `name` of a child's diary (page id `page`, data key `dek`):
//!   `okm = HKDF-SHA256(dek, salt 0³², info "diary/chunk/v2/<page>/<name>", 48)`, file
//!   `diary/c/<hex okm[..16]>.bin` = `nonce ‖ AES-256-GCM(okm[16..], P, aad = info)` with
//!   `P = u32be(L) ‖ gzip(html)[L] ‖ zeros`, `|P|` a multiple of 1024;
//! - version 1 page file `diary/p/<page>.bin` = `nonce ‖ AES-256-GCM(dek, P, aad
//!   "diary/page/v1/<page>")`, `|P|` a multiple of 4096 (read by the browser during the move).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Result, anyhow, bail};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Crockford base32 without I, L, O, U.
pub(crate) const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a code.
pub(crate) const CODE_LEN: usize = 16;
/// Chunk plaintexts are padded to a multiple of this.
pub(crate) const CHUNK_PAD: usize = 1024;
/// The protocol version a slot's JSON names (its children's diaries are chunks).
pub(crate) const SLOT_VERSION: u32 = 2;
pub(crate) const NONCE_LEN: usize = 12;

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| anyhow!("not base64: {e}"))
}

/// Random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system's random source");
    out
}

/// A new random code, normalized (16 symbols, no dashes).
pub(crate) fn new_code() -> String {
    let bytes: [u8; 10] = random();
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    (0..CODE_LEN)
        .rev()
        .map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize] as char)
        .collect()
}

/// `XXXX-XXXX-XXXX-XXXX`.
pub(crate) fn format_code(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Normalizes typed input: uppercase; spaces and dashes dropped; O→0, I→1, L→1. `None`
/// for anything else or the wrong length.
pub(crate) fn normalize_code(input: &str) -> Option<String> {
    normalize_symbols(input).filter(|c| c.len() == CODE_LEN)
}

/// Normalizes the last four symbols of a code as messages show them (`…WXYZ`).
pub(crate) fn normalize_tail(input: &str) -> Option<String> {
    normalize_symbols(input).filter(|c| c.len() == 4)
}

fn normalize_symbols(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if ALPHABET.contains(&(c as u8)) && c.is_ascii() => c,
            _ => return None,
        };
        out.push(c);
    }
    Some(out)
}

/// What a code derives: the slot's name and the key that wraps it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Derived {
    pub slot: String,
    pub kek: [u8; 32],
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Derived")
            .field("slot", &self.slot)
            .finish_non_exhaustive()
    }
}

/// Runs the KDF for a normalized code. Slow by design (`iterations` rounds).
pub(crate) fn derive(code: &str, salt: &[u8], iterations: u32) -> Derived {
    let mut bits = [0u8; 48];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(code.as_bytes(), salt, iterations, &mut bits);
    let mut kek = [0u8; 32];
    kek.copy_from_slice(&bits[16..]);
    Derived {
        slot: hex::encode(&bits[..16]),
        kek,
    }
}

fn seal(key: &[u8; 32], nonce: &[u8; NONCE_LEN], aad: &str, plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let ct = cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .expect("AES-GCM encryption of an in-memory buffer");
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ct);
    out
}

fn open(key: &[u8; 32], aad: &str, file: &[u8]) -> Result<Vec<u8>> {
    if file.len() < NONCE_LEN + 16 {
        bail!("too short to be sealed");
    }
    let (nonce, ct) = file.split_at(NONCE_LEN);
    Aes256Gcm::new(key.into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| anyhow!("authentication failed (wrong key or tampered file)"))
}

pub(crate) fn slot_aad(slot: &str) -> String {
    format!("diary/slot/v1/{slot}")
}

/// One chunk of a child's diary: where it is published and the key that seals it.
pub(crate) struct Chunk {
    /// `diary/c/<id>.bin`.
    pub path: String,
    pub key: [u8; 32],
    /// The HKDF info, which is also the AAD: `diary/chunk/v2/<page>/<name>`.
    pub aad: String,
}

impl std::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunk")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The file name and key of chunk `name` of the diary with page id `page` and data key
/// `dek`: `HKDF-SHA256(dek, 32 zero bytes, "diary/chunk/v2/<page>/<name>")`, 48 bytes.
pub(crate) fn chunk(dek: &[u8; 32], page: &str, name: &str) -> Chunk {
    let aad = format!("diary/chunk/v2/{page}/{name}");
    let mut okm = [0u8; 48];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(&[0u8; 32]), dek)
        .expand(aad.as_bytes(), &mut okm)
        .expect("48 bytes is a valid HKDF-SHA256 length");
    let mut key = [0u8; 32];
    key.copy_from_slice(&okm[16..]);
    Chunk {
        path: format!("diary/c/{}.bin", hex::encode(&okm[..16])),
        key,
        aad,
    }
}

/// The smallest chunk plaintext size that holds `zipped`: `4 + |zipped|` rounded up to a
/// multiple of [`CHUNK_PAD`].
pub(crate) fn chunk_size_for(zipped: &[u8]) -> usize {
    (4 + zipped.len()).div_ceil(CHUNK_PAD) * CHUNK_PAD
}

/// `P = u32be(L) ‖ zipped ‖ zeros`, `size` bytes long (at least `4 + L`).
pub(crate) fn pad_chunk(zipped: &[u8], size: usize) -> Vec<u8> {
    let len = u32::try_from(zipped.len()).expect("a chunk under 4 GiB");
    let mut p = Vec::with_capacity(size.max(zipped.len() + 4));
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(zipped);
    p.resize(size.max(4 + zipped.len()), 0);
    p
}

pub(crate) fn seal_chunk(chunk: &Chunk, plaintext: &[u8]) -> Vec<u8> {
    seal(&chunk.key, &random(), &chunk.aad, plaintext)
}

/// The gzip bytes inside a published chunk file (`None` when it does not open).
pub(crate) fn open_chunk(chunk: &Chunk, file: &[u8]) -> Option<Vec<u8>> {
    let p = open(&chunk.key, &chunk.aad, file).ok()?;
    unpad(&p).ok().map(<[u8]>::to_vec)
}

/// One child a slot opens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SlotChild {
    pub page: String,
    pub key: String,
    pub name: String,
}

/// The plaintext of a slot file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct SlotContent {
    pub v: u32,
    pub children: Vec<SlotChild>,
}

impl SlotContent {
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("serializable")
    }
}

/// The JSON of a slot followed by spaces up to `size` bytes, so that every slot file of a
/// site has one size (JSON readers skip trailing white space). A JSON longer than `size`
/// is returned as it is: the caller sizes slots by the longest.
pub(crate) fn pad_slot(json: &[u8], size: usize) -> Vec<u8> {
    let mut out = json.to_vec();
    if out.len() < size {
        out.resize(size, b' ');
    }
    out
}

pub(crate) fn seal_slot(kek: &[u8; 32], slot: &str, json: &[u8]) -> Vec<u8> {
    seal(kek, &random(), &slot_aad(slot), json)
}

#[cfg(test)]
pub(crate) fn open_slot(kek: &[u8; 32], slot: &str, file: &[u8]) -> Result<SlotContent> {
    let json = open(kek, &slot_aad(slot), file)?;
    Ok(serde_json::from_slice(&json)?)
}

/// How hard a chunk's HTML is compressed (see [`NOW_LEVEL`] and [`PART_LEVEL`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Squeeze {
    Now,
    Part,
}

impl Squeeze {
    fn level(self) -> i32 {
        match self {
            Squeeze::Now => NOW_LEVEL,
            Squeeze::Part => PART_LEVEL,
        }
    }
}

/// The level of the `now` chunk, which every opening of a diary downloads and every
/// school day's batch seals for every pupil: libdeflate's 6, 1 % larger than zlib's 6 for a
/// fifth less time, which keeps opening today's diary under 8 KB (BENCHMARKS.md,
/// "libdeflate, two scans that grew with the square of the school, 20000 pupils again").
const NOW_LEVEL: i32 = 6;

/// The level of an earlier part of the year, opened now and then but sealed again for
/// every pupil whenever a mark of its weeks comes late, against 40 KB allowed: libdeflate's
/// 4, 7 % larger than level 6 for 30 % less time (the same size as zlib's 4 for a quarter
/// less time).
const PART_LEVEL: i32 = 4;

/// gzip (RFC 1952) of a diary's HTML, as it goes into a chunk: libdeflate, one compressor
/// per thread and level, kept for the next chunk.
pub(crate) fn gzip(html: impl AsRef<[u8]>, squeeze: Squeeze) -> Vec<u8> {
    let html = html.as_ref();
    with_compressor(squeeze, |c, room| {
        room.resize(c.gzip_compress_bound(html.len()), 0);
        let len = c
            .gzip_compress(html, room)
            .expect("the bound libdeflate gives is enough");
        room[..len].to_vec()
    })
}

/// Runs `f` with this thread's libdeflate compressor at the level of `squeeze` (made on
/// first use) and the room it compresses into.
fn with_compressor<R>(
    squeeze: Squeeze,
    f: impl FnOnce(&mut libdeflater::Compressor, &mut Vec<u8>) -> R,
) -> R {
    use libdeflater::{CompressionLvl, Compressor};
    use std::cell::RefCell;
    /// A compressor, made on first use, and the room it compresses into.
    type Deflater = RefCell<(Option<Compressor>, Vec<u8>)>;
    thread_local! {
        static NOW: Deflater = const { RefCell::new((None, Vec::new())) };
        static PART: Deflater = const { RefCell::new((None, Vec::new())) };
    }
    let cell = match squeeze {
        Squeeze::Now => &NOW,
        Squeeze::Part => &PART,
    };
    let level = squeeze.level();
    cell.with_borrow_mut(|(compressor, room)| {
        let c = compressor.get_or_insert_with(|| {
            Compressor::new(CompressionLvl::new(level).expect("a libdeflate level, 0-12"))
        });
        f(c, room)
    })
}

/// A piece of HTML that many chunks hold, deflated once for all of them: raw deflate
/// blocks that end on a byte boundary (a sync flush), so that they go into each chunk's
/// gzip stream as they are ([`gzip_pieces`]).
pub(crate) struct Deflated {
    blocks: Vec<u8>,
    /// The CRC-32 of its text, and its length.
    crc: crc32fast::Hasher,
    len: usize,
    /// The end of its text, as much as a dictionary takes ([`NOW_DICTIONARY`]).
    tail: Vec<u8>,
}

impl Deflated {
    /// `text` deflated once. It is deflated harder than a chunk's own text: once per class
    /// instead of once per pupil. Only the end of the text is kept.
    pub(crate) fn new(text: &str) -> Deflated {
        let text = text.as_bytes();
        let mut crc = crc32fast::Hasher::new();
        crc.update(text);
        Deflated {
            blocks: deflate(text, SHARED_LEVEL, None, false),
            crc,
            len: text.len(),
            tail: text[text.len().saturating_sub(NOW_DICTIONARY)..].to_vec(),
        }
    }
}

/// A part of a chunk's HTML: the pupil's own text, or a piece shared with other chunks.
pub(crate) enum Piece {
    Own(String),
    Shared(std::sync::Arc<Deflated>),
}

/// The level of a piece many chunks share: zlib's 9, once per class and week.
const SHARED_LEVEL: u32 = 9;

/// Raw deflate of `text` (zlib, through flate2): the stream's end when `last`, else ending
/// with a sync flush (an empty stored block), so that what follows starts on a byte
/// boundary. `dictionary`: the text right before it, which it may refer back to.
fn deflate(text: &[u8], level: u32, dictionary: Option<&[u8]>, last: bool) -> Vec<u8> {
    use flate2::{Compress, Compression};
    use std::cell::RefCell;
    thread_local! {
        /// This thread's compressors by level, kept: making one zeroes its tables, a
        /// quarter of the time of a chunk's own text.
        static ZLIB: RefCell<Vec<(u32, Compress)>> = const { RefCell::new(Vec::new()) };
    }
    ZLIB.with_borrow_mut(|kept| {
        let at = match kept.iter().position(|(l, _)| *l == level) {
            Some(at) => at,
            None => {
                kept.push((level, Compress::new(Compression::new(level), false)));
                kept.len() - 1
            }
        };
        let z = &mut kept[at].1;
        z.reset();
        deflate_with(z, text, dictionary, last)
    })
}

/// [`deflate`] on a compressor just reset.
fn deflate_with(
    z: &mut flate2::Compress,
    text: &[u8],
    dictionary: Option<&[u8]>,
    last: bool,
) -> Vec<u8> {
    use flate2::{FlushCompress, Status};
    if let Some(dictionary) = dictionary.filter(|d| !d.is_empty()) {
        z.set_dictionary(dictionary)
            .expect("a dictionary before any input");
    }
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let read = |z: &flate2::Compress| usize::try_from(z.total_in()).expect("a chunk under 4 GiB");
    let mut out = Vec::with_capacity(text.len() / 3 + 64);
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(1024));
        }
        let status = z
            .compress_vec(&text[read(z)..], &mut out, flush)
            .expect("deflate of a buffer in memory");
        let flushed = read(z) == text.len() && out.len() < out.capacity();
        if matches!(status, Status::StreamEnd) || (!last && flushed) {
            return out;
        }
    }
}

/// How much of the text before a `now` chunk's last own text its deflate may refer back
/// to (a preset dictionary): the weeks before it name the same subjects and teachers.
const NOW_DICTIONARY: usize = 8 * 1024;

/// The gzip (RFC 1952) of the concatenation of `pieces`, as [`gzip`] compresses a chunk:
/// each run of own text is deflated here and each shared piece goes in as deflated once.
/// The last own text ends the stream: for a `now` chunk, deflated with the last
/// [`NOW_DICTIONARY`] bytes before it as a preset dictionary (what the pupil's own text
/// loses by not being compressed with the shared weeks, it mostly finds there); for an
/// earlier part, by libdeflate. The result unzips to the concatenation.
pub(crate) fn gzip_pieces(pieces: &[Piece], squeeze: Squeeze) -> Vec<u8> {
    if !pieces.iter().any(|p| matches!(p, Piece::Shared(_))) {
        let text: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Own(t) => t.as_str(),
                Piece::Shared(_) => "",
            })
            .collect();
        return gzip(text, squeeze);
    }
    let level = squeeze.level().unsigned_abs();
    // The gzip header: no name, no time, unknown OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    // CRC-32 and length of the text so far.
    let mut crc = crc32fast::Hasher::new();
    let mut size: usize = 0;
    let mut own = String::new();
    // The last text before `own`, as much as a dictionary takes.
    let mut before: &[u8] = &[];
    for piece in pieces {
        match piece {
            Piece::Own(text) => own.push_str(text),
            Piece::Shared(shared) => {
                if !own.is_empty() {
                    crc.update(own.as_bytes());
                    size += own.len();
                    out.extend_from_slice(&deflate(own.as_bytes(), level, None, false));
                    own.clear();
                }
                crc.combine(&shared.crc);
                size += shared.len;
                out.extend_from_slice(&shared.blocks);
                before = &shared.tail;
            }
        }
    }
    crc.update(own.as_bytes());
    size += own.len();
    match squeeze {
        Squeeze::Now => {
            out.extend_from_slice(&deflate(own.as_bytes(), level, Some(before), true));
        }
        Squeeze::Part => with_compressor(squeeze, |c, room| {
            room.resize(c.deflate_compress_bound(own.len()), 0);
            let len = c
                .deflate_compress(own.as_bytes(), room)
                .expect("the bound libdeflate gives is enough");
            out.extend_from_slice(&room[..len]);
        }),
    }
    // CRC-32, then ISIZE: the length modulo 2^32.
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&((size & 0xffff_ffff) as u32).to_le_bytes());
    out
}

/// The gzip bytes inside a padded plaintext `P = u32be(L) ‖ gzip ‖ zeros`.
pub(crate) fn unpad(p: &[u8]) -> Result<&[u8]> {
    let len = u32::from_be_bytes(
        p.get(..4)
            .ok_or_else(|| anyhow!("empty chunk"))?
            .try_into()?,
    ) as usize;
    p.get(4..4 + len).ok_or_else(|| anyhow!("bad length"))
}

/// [`keyed_hash`] of data written piece by piece (`io::Write`: a view serialized straight
/// into it, with no copy of its JSON in between).
pub(crate) struct KeyedHasher(hmac::Hmac<sha2::Sha256>);

impl KeyedHasher {
    pub(crate) fn new(key: &[u8; 32]) -> KeyedHasher {
        use hmac::Mac;
        KeyedHasher(<hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key size"))
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        hmac::Mac::update(&mut self.0, data);
    }

    /// The hash, as [`keyed_hash`] gives it for all the data at once.
    pub(crate) fn finish(self) -> String {
        hex::encode(hmac::Mac::finalize(self.0).into_bytes())
    }
}

impl std::io::Write for KeyedHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A keyed hash of a plaintext, to tell whether it changed without keeping it (marks are
/// guessable, so a plain hash would leak them).
pub(crate) fn keyed_hash(key: &[u8; 32], data: &[u8]) -> String {
    let mut h = KeyedHasher::new(key);
    h.update(data);
    h.finish()
}

/// The salt a published `params.json` names (`None` when it cannot be read as one).
pub(crate) fn params_salt(params_json: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(params_json).ok()?;
    Some(v.get("salt")?.as_str()?.to_string())
}

/// `params.json`: what the browser needs to run the KDF.
pub(crate) fn params_json(salt: &[u8], iterations: u32) -> String {
    format!(
        "{{\"v\":1,\"kdf\":\"PBKDF2-HMAC-SHA256\",\"iterations\":{iterations},\"salt\":\"{}\"}}",
        b64(salt)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_16_symbols_of_the_alphabet() {
        for _ in 0..100 {
            let c = new_code();
            assert_eq!(c.len(), 16);
            assert!(c.bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(
                normalize_code(&format_code(&c)).as_deref(),
                Some(c.as_str())
            );
        }
        assert_ne!(new_code(), new_code());
    }

    #[test]
    fn normalization_is_tolerant_but_strict() {
        assert_eq!(
            normalize_code("abcd-efgh-jkmn-pqrs").as_deref(),
            Some("ABCDEFGHJKMNPQRS")
        );
        assert_eq!(
            normalize_code(" oOiI LL01 2345 6789 ").as_deref(),
            Some("0011110123456789")
        );
        assert_eq!(
            normalize_code("ABCD-EFGH-JKMN-PQRU"),
            None,
            "U is not a symbol"
        );
        assert_eq!(normalize_code("ABCD-EFGH-JKMN-PQR"), None, "too short");
        assert_eq!(normalize_code("ABCD-EFGH-JKMN-PQRST"), None, "too long");
        assert_eq!(normalize_code("ABCD_EFGH_JKMN_PQRS"), None);
        assert_eq!(normalize_code("АБВГ-EFGH-JKMN-PQRS"), None, "Cyrillic");
        assert_eq!(normalize_tail("m5jo").as_deref(), Some("M5J0"));
        assert_eq!(normalize_tail("M5J"), None);
    }

    fn gunzip(gz: &[u8]) -> String {
        use std::io::Read;
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_string(&mut text)
            .expect("one gzip member");
        text
    }

    #[test]
    fn pieces_unzip_to_their_text_wherever_the_shared_ones_stand() {
        let week_text = "<section class=\"dweek\">урок</section>\n".repeat(40);
        let week = std::sync::Arc::new(Deflated::new(&week_text));
        let other = std::sync::Arc::new(Deflated::new(""));
        let own = "<p>свои строки</p>".repeat(30);
        let o = |t: &str| Piece::Own(t.to_string());
        let w = || Piece::Shared(week.clone());
        let cases: Vec<Vec<Piece>> = vec![
            vec![o("<article>"), w(), o("</article>")],
            vec![w(), o(&own)],
            vec![o(&own), w()],
            vec![w(), Piece::Shared(other.clone()), w()],
            vec![o(&own), w(), o(""), o("<hr>"), w(), o(&own)],
            vec![o(&own)],
            vec![],
        ];
        for (i, pieces) in cases.iter().enumerate() {
            let text: String = pieces
                .iter()
                .map(|p| match p {
                    Piece::Own(t) => t.clone(),
                    Piece::Shared(d) if std::sync::Arc::ptr_eq(d, &week) => week_text.clone(),
                    Piece::Shared(_) => String::new(),
                })
                .collect();
            for squeeze in [Squeeze::Now, Squeeze::Part] {
                let gz = gzip_pieces(pieces, squeeze);
                assert_eq!(gunzip(&gz), text, "case {i}");
                // One member: the browser's DecompressionStream reads no more than one.
                assert_eq!(&gz[..3], &[0x1f, 0x8b, 8]);
            }
        }
        // Each cut costs a few block headers, and the shared piece goes in compressed.
        let whole = format!("{own}{week_text}{own}");
        let spliced = gzip_pieces(&[o(&own), w(), o(&own)], Squeeze::Now);
        let alone = gzip(&whole, Squeeze::Now);
        assert!(
            spliced.len() < alone.len() + 3 * 32,
            "{} vs {}",
            spliced.len(),
            alone.len()
        );
    }

    #[test]
    fn padding_gives_one_size() {
        let a = gzip("<p>a</p>", Squeeze::Now);
        let b = gzip("<p>длинный дневник</p>".repeat(500), Squeeze::Part);
        let size = chunk_size_for(&a).max(chunk_size_for(&b));
        let (pa, pb) = (pad_chunk(&a, size), pad_chunk(&b, size));
        assert_eq!(pa.len(), pb.len());
        assert_eq!(pa.len() % CHUNK_PAD, 0);
        assert_eq!(unpad(&pa).unwrap(), a.as_slice());
        assert_eq!(unpad(&pb).unwrap(), b.as_slice());
        assert!(pa[4 + a.len()..].iter().all(|b| *b == 0));
        let slot = pad_slot(br#"{"v":2,"children":[]}"#, 2048);
        assert_eq!(slot.len(), 2048);
        let back: SlotContent = serde_json::from_slice(&slot).unwrap();
        assert!(back.children.is_empty());
        assert_eq!(
            params_salt(params_json(&[1; 16], 100_000).as_bytes()).as_deref(),
            Some(b64(&[1; 16]).as_str())
        );
    }

    #[test]
    fn chunk_names_and_keys_match_the_spec() {
        // The test vector of docs/access.md ("Diary chunks").
        let c = chunk(&[1u8; 32], "000102030405060708090a0b0c0d0e0f", "now");
        assert_eq!(c.path, "diary/c/9ccb2f2b8ba5399b8538d49143fe39ed.bin");
        assert_eq!(
            hex::encode(c.key),
            "466afa4aa63462f36e773fe28e77f972895f7ae1efa8f9d5ef1d39b2e4c93b26"
        );
        assert_eq!(c.aad, "diary/chunk/v2/000102030405060708090a0b0c0d0e0f/now");
        let other = chunk(
            &[1u8; 32],
            "000102030405060708090a0b0c0d0e0f",
            "term-2026-09-01",
        );
        assert_ne!(other.path, c.path);
        assert_ne!(other.key, c.key);
    }

    #[test]
    fn derivation_matches_the_spec() {
        // PBKDF2-HMAC-SHA256 is standard: RFC 7914 §11 vector "passwd"/"salt", 1 round.
        let mut out = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"passwd", b"salt", 1, &mut out);
        assert_eq!(hex::encode(&out[..8]), "55ac046e56e3089f");
        let d = derive("0123456789ABCDEF", &[7u8; 16], 1000);
        assert_eq!(d.slot.len(), 32);
        assert_eq!(d, derive("0123456789ABCDEF", &[7u8; 16], 1000));
        assert_ne!(d.slot, derive("0123456789ABCDEG", &[7u8; 16], 1000).slot);
    }

    #[test]
    fn slots_and_pages_round_trip_and_detect_tampering() {
        let kek = [1u8; 32];
        let content = SlotContent {
            v: 1,
            children: vec![SlotChild {
                page: "ab".repeat(16),
                key: b64(&[2u8; 32]),
                name: "Вера".into(),
            }],
        };
        let file = seal_slot(&kek, "s1", &content.to_json());
        assert_eq!(open_slot(&kek, "s1", &file).unwrap(), content);
        assert!(
            open_slot(&kek, "s2", &file).is_err(),
            "aad binds the slot name"
        );
        let mut bad = file.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(open_slot(&kek, "s1", &bad).is_err());

        let c = chunk(&[3u8; 32], "p1", "now");
        let zipped = gzip("<p>дневник</p>", Squeeze::Now);
        let file = seal_chunk(&c, &pad_chunk(&zipped, 2048));
        assert_eq!(file.len(), NONCE_LEN + 2048 + 16);
        assert_eq!(open_chunk(&c, &file).unwrap(), zipped);
        assert!(open_chunk(&chunk(&[3u8; 32], "p2", "now"), &file).is_none());
        assert!(open_chunk(&chunk(&[3u8; 32], "p1", "term-2026-09-01"), &file).is_none());
    }

    #[test]
    fn keyed_hash_depends_on_key() {
        assert_ne!(keyed_hash(&[0; 32], b"x"), keyed_hash(&[1; 32], b"x"));
        assert_eq!(keyed_hash(&[0; 32], b"x"), keyed_hash(&[0; 32], b"x"));
        let mut h = KeyedHasher::new(&[7; 32]);
        h.update(b"piece ");
        std::io::Write::write_all(&mut h, b"by piece").unwrap();
        assert_eq!(h.finish(), keyed_hash(&[7; 32], b"piece by piece"));
    }
}
