//! The journal's change markers: a few hundred bytes that SQLite itself changes with every
//! committed transaction, read without opening the database. They stand for the journal's
//! content in the up-to-date check of `diary build` (some 700 MB at 20000 pupils are not
//! read whole), and tell the loader that two connections began reading the same snapshot.
//!
//! - **The main file**: its first 100 bytes (the database header) and its size, modification
//!   and status-change times (nanoseconds), inode and device. In the header, the *file change
//!   counter* (offset 24, 4 bytes big-endian) is incremented by every committed transaction
//!   in rollback-journal mode; the *database size in pages* (offset 28) and the
//!   *version-valid-for number* (offset 92, the change counter the size is valid for) follow
//!   it; the schema cookie (offset 40) changes with the schema. A checkpoint writes pages
//!   into the main file, which moves its times (and its header when the file grows). A file
//!   put in place of the journal (a backup restored with `cp` or `mv`) has another inode, or
//!   new times, and its own counter.
//! - **The WAL** (`-wal`): in WAL mode a commit appends frames to the WAL and leaves the main
//!   file alone until a checkpoint. Read: its size, modification time and inode (not its
//!   status-change time, which SQLite running as root moves on every open), its 32-byte header
//!   (magic, format version, page size, checkpoint sequence number, salt-1, salt-2, the
//!   header's checksums), and the 24-byte header of its last valid frame (page number,
//!   database size after a commit, salt-1, salt-2, the running checksums), with the number
//!   of valid frames. Within one WAL generation a commit only appends frames (SQLite rewrites
//!   a frame only inside the transaction that wrote it), so every commit adds a frame and
//!   moves the running checksum; a writer that starts the WAL over after a checkpoint writes
//!   a new header (checkpoint sequence + 1, salt-1 + 1, a random salt-2). The file is not
//!   shrunk then, so frames of the old generation can follow the new ones: a frame is
//!   valid while its salts are the header's, and the frames are scanned (24 bytes each)
//!   only when the last one in the file is not. An empty or absent WAL holds no frame:
//!   both mean the content is the main file's (a read-only open may leave an empty WAL
//!   behind).
//! - **Anything unexpected** (a main file without the SQLite header, a WAL whose header
//!   does not parse, a rollback journal `-journal` that is not empty, so possibly hot):
//!   there are no markers ([`markers`] gives `None`), and the caller does without them.
//!
//! Reading does not change these bytes: a reader writes nothing but the WAL index (`-shm`),
//! which is not read here. An `UPDATE` that sets a value to what it already is writes no
//! page, so SQLite commits nothing and the markers stay. One gap:
//! in `PRAGMA locking_mode=EXCLUSIVE` SQLite may skip the change counter after the first
//! transaction, and then only the file's times tell a write;
//! `diary import` does not use that mode.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};

/// The change markers of the SQLite database at `journal` (its main file and its WAL), or
/// `None` when something is unexpected (see the module doc). An absent file has markers
/// too: it is read as absent.
pub(crate) fn markers(journal: &Path) -> Result<Option<Vec<u8>>> {
    let rollback = with_suffix(journal, "-journal");
    let hot = match fs::metadata(&rollback) {
        Ok(meta) => meta.len() > 0,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", rollback.display())),
    };
    if hot {
        return Ok(None);
    }
    let (Some(main), Some(wal)) = (
        main_marks(journal)?,
        wal_marks(&with_suffix(journal, "-wal"))?,
    ) else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(16 + main.len() + wal.len());
    out.extend_from_slice(&(main.len() as u64).to_be_bytes());
    out.extend_from_slice(&main);
    out.extend_from_slice(&(wal.len() as u64).to_be_bytes());
    out.extend_from_slice(&wal);
    Ok(Some(out))
}

/// The file at `path` open for reading, with its metadata; `None` if there is none.
fn open(path: &Path) -> Result<Option<(fs::File, fs::Metadata)>> {
    let cannot = || format!("cannot read {}", path.display());
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(cannot),
    };
    let meta = file.metadata().with_context(cannot)?;
    Ok(Some((file, meta)))
}

/// The main file's markers, `None` if it is not an SQLite database.
fn main_marks(path: &Path) -> Result<Option<Vec<u8>>> {
    let cannot = || format!("cannot read {}", path.display());
    let Some((mut file, meta)) = open(path)? else {
        return Ok(Some(b"absent".to_vec()));
    };
    let mut header = [0u8; 100];
    if meta.len() < header.len() as u64 {
        return Ok(None);
    }
    file.read_exact(&mut header).with_context(cannot)?;
    if &header[..16] != b"SQLite format 3\0" {
        return Ok(None);
    }
    let mut out = b"sqlite".to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(&file_marks(&meta, true));
    Ok(Some(out))
}

/// The WAL's markers, `None` if its header does not parse.
fn wal_marks(path: &Path) -> Result<Option<Vec<u8>>> {
    let cannot = || format!("cannot read {}", path.display());
    let Some((mut file, meta)) = open(path)?.filter(|(_, meta)| meta.len() > 0) else {
        return Ok(Some(b"no wal".to_vec()));
    };
    let len = meta.len();
    let mut header = [0u8; 32];
    if len < header.len() as u64 {
        return Ok(None);
    }
    file.read_exact(&mut header).with_context(cannot)?;
    let word = |b: &[u8], at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let page_size = word(&header, 8);
    if !matches!(word(&header, 0), 0x377f_0682 | 0x377f_0683)
        || word(&header, 4) != 3_007_000
        || !(512..=65536).contains(&page_size)
        || !page_size.is_power_of_two()
    {
        return Ok(None);
    }
    let salts = &header[16..24];
    let frame = 24 + u64::from(page_size);
    let frames = (len - 32) / frame;
    let mut frame_header = |index: u64| -> Result<[u8; 24]> {
        let mut bytes = [0u8; 24];
        file.seek(SeekFrom::Start(32 + index * frame))
            .and_then(|_| file.read_exact(&mut bytes))
            .with_context(cannot)?;
        Ok(bytes)
    };
    // The valid frames and the last of them: the whole file when its last frame is of
    // this generation, else the frames up to the first of an older one.
    let mut valid = 0;
    let mut last = None;
    if frames > 0 {
        let tail = frame_header(frames - 1)?;
        if &tail[8..16] == salts {
            valid = frames;
            last = Some(tail);
        } else {
            while valid < frames {
                let next = frame_header(valid)?;
                if &next[8..16] != salts {
                    break;
                }
                valid += 1;
                last = Some(next);
            }
        }
    }
    let mut out = b"wal".to_vec();
    out.extend_from_slice(&header);
    // Not its status-change time: SQLite running as root gives the WAL its owner again
    // whenever a connection opens it, a read-only one too.
    out.extend_from_slice(&file_marks(&meta, false));
    out.extend_from_slice(&valid.to_be_bytes());
    if let Some(last) = last {
        out.extend_from_slice(&last);
    }
    Ok(Some(out))
}

/// A file's size, modification time (nanoseconds), inode and device, and its status-change
/// time when `changed`.
fn file_marks(meta: &fs::Metadata, changed: bool) -> Vec<u8> {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    #[cfg(not(unix))]
    let _ = changed;
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&meta.len().to_be_bytes());
    out.extend_from_slice(&modified.to_be_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if changed {
            out.extend_from_slice(&meta.ctime().to_be_bytes());
            out.extend_from_slice(&meta.ctime_nsec().to_be_bytes());
        }
        out.extend_from_slice(&meta.ino().to_be_bytes());
        out.extend_from_slice(&meta.dev().to_be_bytes());
    }
    out
}

/// `path` with `suffix` appended to its file name (`journal.sqlite-wal`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_os_string();
    p.push(suffix);
    PathBuf::from(p)
}
