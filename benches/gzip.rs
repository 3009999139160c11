//! zlib (flate2 on zlib-rs) against libdeflate, level by level, on real diary pages: the
//! size and CPU time that chose the compressor and levels of the diary chunks
//! (`seal::gzip`).
//!
//!     cargo build --release
//!     cargo bench --bench gzip -- --site SITE [--today 2026-11-23] [--diary target/release/diary]
//!
//! Prints every pupil's diary page of SITE as standalone HTML (`diary print diaries --class
//! all`, what the sealed chunks hold together) into the site's print folder, compresses each
//! page with both at levels 1, 3, 4, 5, 6, 7 and 9, removes the pages, and prints a Markdown
//! table: total and median size, the ratio to zlib's level 6, and CPU time per page (one
//! thread).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let mut site = None;
    let mut today = "2026-11-23".to_string();
    let mut diary = PathBuf::from("target/release/diary");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--site" => site = args.next().map(PathBuf::from),
            "--today" => today = args.next().expect("--today DAY"),
            "--diary" => diary = args.next().map(PathBuf::from).expect("--diary BIN"),
            _ => {} // what `cargo bench` passes itself (--bench)
        }
    }
    let Some(site) = site else {
        eprintln!("usage: cargo bench --bench gzip -- --site SITE [--today DAY] [--diary BIN]");
        std::process::exit(2);
    };
    let pages = print_pages(&site, &today, &diary);
    let raw: usize = pages.iter().map(Vec::len).sum();
    println!(
        "{} diary pages as of {today}, {:.1} MB of HTML\n",
        pages.len(),
        raw as f64 / 1e6
    );
    println!("| compressor | level | total | median page | vs zlib 6 | CPU per page |");
    println!("|---|---|---|---|---|---|");
    let zlib = |page: &[u8], level: u32| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        gz.write_all(page).unwrap();
        gz.finish().unwrap().len()
    };
    let base = measure(&pages, |p| zlib(p, 6)).0;
    for level in [1, 3, 4, 5, 6, 7, 9] {
        let row = measure(&pages, |p| zlib(p, level));
        print_row("zlib", level, row, base);
        let mut c =
            libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level as i32).unwrap());
        let mut out = Vec::new();
        let row = measure(&pages, |p| {
            out.resize(c.gzip_compress_bound(p.len()), 0);
            c.gzip_compress(p, &mut out).unwrap()
        });
        print_row("libdeflate", level, row, base);
    }
}

/// (total bytes, median bytes, CPU seconds per page) of compressing every page.
fn measure(pages: &[Vec<u8>], mut compress: impl FnMut(&[u8]) -> usize) -> (usize, usize, f64) {
    let started = Instant::now();
    let mut sizes: Vec<usize> = pages.iter().map(|p| compress(p)).collect();
    let per = started.elapsed().as_secs_f64() / pages.len() as f64;
    sizes.sort_unstable();
    (sizes.iter().sum(), sizes[sizes.len() / 2], per)
}

fn print_row(name: &str, level: u32, (total, median, per): (usize, usize, f64), base: usize) {
    println!(
        "| {name} | {level} | {:.2} MB | {:.1} KB | {:.0} % | {:.2} ms |",
        total as f64 / 1e6,
        median as f64 / 1e3,
        total as f64 / base as f64 * 100.0,
        per * 1e3
    );
}

/// Every pupil's standalone diary page, printed into the site's print folder and removed
/// from it once read.
fn print_pages(site: &Path, today: &str, diary: &Path) -> Vec<Vec<u8>> {
    let folder = site.join("print");
    let before: Vec<PathBuf> = list(&folder);
    let done = std::process::Command::new(diary)
        .args(["-C".as_ref(), site.as_os_str()])
        .args(["print", "diaries", "--class", "all"])
        .env("DIARY_TODAY", today)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", diary.display()));
    assert!(
        done.status.success(),
        "diary print diaries failed:\n{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let mut pages = Vec::new();
    for printed in list(&folder).into_iter().filter(|f| !before.contains(f)) {
        for page in list(&printed) {
            if page.extension().is_some_and(|e| e == "html")
                && page.file_name().is_some_and(|n| n != "index.html")
            {
                pages.push(std::fs::read(&page).unwrap());
            }
        }
        std::fs::remove_dir_all(&printed).unwrap();
    }
    assert!(!pages.is_empty(), "no diary pages were printed");
    pages
}

fn list(folder: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}
