//! PDFs of printouts through headless Chromium: the browser lays the HTML out with its CSS
//! paged media (`@page`, page breaks) and prints it to a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The environment variable that names the Chromium binary.
pub(super) const CHROMIUM_ENV: &str = "DIARY_CHROMIUM";

/// How long one file may take before the browser is stopped.
const TIMEOUT: Duration = Duration::from_secs(180);

/// Names tried on PATH, in order.
const NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// How to get a browser, for error messages.
pub(super) const HOW_TO_GET: &str = "install Chromium (Debian/Ubuntu: `apt-get install chromium`) \
     or set `chromium = \"/path/to/chromium\"` in site.toml or DIARY_CHROMIUM=/path/to/chromium";

/// The Chromium to print with: `DIARY_CHROMIUM`, else `chromium` in site.toml (`configured`,
/// relative paths taken from the site folder `root`), else the first of `chromium`,
/// `chromium-browser`, `google-chrome`, `google-chrome-stable` on PATH.
pub(super) fn find_chromium(configured: &str, root: &Path) -> Result<PathBuf> {
    let given = std::env::var_os(CHROMIUM_ENV)
        .filter(|p| !p.is_empty())
        .map(|p| (PathBuf::from(p), CHROMIUM_ENV.to_string()))
        .or_else(|| {
            (!configured.is_empty()).then(|| {
                let p = Path::new(configured);
                let p = if p.components().count() > 1 && p.is_relative() {
                    root.join(p)
                } else {
                    p.to_path_buf()
                };
                (p, "chromium in site.toml".to_string())
            })
        });
    if let Some((path, source)) = given {
        if is_executable(&path) {
            return Ok(path);
        }
        if let Some(found) = on_path(&path.to_string_lossy()) {
            return Ok(found);
        }
        bail!(
            "{source} = {} is not an executable file; {HOW_TO_GET}",
            path.display()
        );
    }
    NAMES.iter().find_map(|n| on_path(n)).with_context(|| {
        format!("--pdf needs headless Chromium and none was found on PATH; {HOW_TO_GET}")
    })
}

fn on_path(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return None;
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// A `file://` URL of an absolute path, with every byte outside the unreserved set and `/`
/// percent-encoded.
pub(super) fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// Prints the HTML file `html` to the PDF `pdf` (written whole or not at all, readable by
/// its owner only).
pub(super) fn html_to_pdf(chromium: &Path, html: &Path, pdf: &Path) -> Result<()> {
    let html = html
        .canonicalize()
        .with_context(|| format!("cannot find {}", html.display()))?;
    let dir = pdf.parent().unwrap_or(Path::new("."));
    let name = pdf
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    // A profile of its own, so a running browser or a parallel print is never disturbed.
    let profile = std::env::temp_dir().join(format!(
        "diary-chromium-{}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::create_dir_all(&profile)
        .with_context(|| format!("cannot create {}", profile.display()))?;
    let result = run_chromium(chromium, &html, &tmp, &profile);
    let _ = std::fs::remove_dir_all(&profile);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, pdf).with_context(|| format!("cannot write {}", pdf.display()))?;
    Ok(())
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn run_chromium(chromium: &Path, html: &Path, out: &Path, profile: &Path) -> Result<()> {
    let log = profile.join("chromium.log");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(file_url(html))
        .env("HOME", profile)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .with_context(|| format!("cannot run {}; {HOW_TO_GET}", chromium.display()))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{} did not finish printing {} within {} s",
                chromium.display(),
                html.display(),
                TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    let written = out.metadata().map(|m| m.len()).unwrap_or(0);
    if !status.success() || written == 0 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "{} could not print {} ({status}): {}",
            chromium.display(),
            html.display(),
            tail.join(" / ")
        );
    }
    Ok(())
}

/// The number of pages of a PDF Chromium printed: the `/Count` of its page tree's root,
/// the largest of the page-tree nodes (`/Type /Pages`). Chromium writes these dictionaries
/// uncompressed; a PDF without one is an error, never a guess.
pub(super) fn page_count(pdf: &Path) -> Result<usize> {
    let bytes = std::fs::read(pdf).with_context(|| format!("cannot read {}", pdf.display()))?;
    count_pages(&bytes).with_context(|| {
        format!(
            "cannot count the pages of {}: it has no page tree in the form Chromium writes",
            pdf.display()
        )
    })
}

fn count_pages(bytes: &[u8]) -> Option<usize> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let rfind = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).rposition(|w| w == needle);
    let mut best: Option<usize> = None;
    let mut at = 0;
    while let Some(i) = find(&bytes[at..], b"/Type /Pages") {
        let i = at + i;
        at = i + 1;
        // The dictionary around it: from the last `<<` before to the first `>>` after.
        let start = rfind(&bytes[..i], b"<<").unwrap_or(0);
        let end = find(&bytes[i..], b">>").map_or(bytes.len(), |e| i + e);
        let dict = &bytes[start..end];
        let Some(c) = find(dict, b"/Count") else {
            continue;
        };
        let digits: String = dict[c + 6..]
            .iter()
            .skip_while(|b| b.is_ascii_whitespace())
            .take_while(|b| b.is_ascii_digit())
            .map(|b| char::from(*b))
            .collect();
        if let Ok(n) = digits.parse::<usize>() {
            best = Some(best.map_or(n, |b: usize| b.max(n)));
        }
    }
    best.filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_are_encoded() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/школа/x.html")),
            "file:///tmp/a%20b/%D1%88%D0%BA%D0%BE%D0%BB%D0%B0/x.html"
        );
    }

    #[test]
    fn pages_are_counted_from_the_page_tree_root() {
        // A root with 12 pages over two nodes of 8 and 4; a page's /Type /Page does not count.
        let pdf = b"%PDF-1.4\n1 0 obj\n<</Type /Pages\n/Count 12\n/Kids [2 0 R 3 0 R]>>\nendobj\n\
            2 0 obj\n<</Type /Pages /Parent 1 0 R /Count 8 /Kids []>>\nendobj\n\
            3 0 obj\n<</Count 4 /Type /Pages /Parent 1 0 R>>\nendobj\n\
            4 0 obj\n<</Type /Page /Parent 2 0 R>>\nendobj\n";
        assert_eq!(count_pages(pdf), Some(12));
        assert_eq!(
            count_pages(b"%PDF-1.4\n4 0 obj\n<</Type /Page>>\nendobj\n"),
            None
        );
        assert_eq!(count_pages(b"<</Type /Pages /Count 0>>"), None);
    }
}
