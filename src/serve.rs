//! `diary serve`: a local preview. Builds, serves the output folder on 127.0.0.1, rebuilds
//! when the journal, content, templates, static files or site.toml change, and reloads open
//! pages (a small script polls the build number; it is added to pages only while serving).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::Moment;
use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};

use crate::build;
use crate::config::{SITE_FILE, Site};
use crate::output::content_type;

/// The reload script, served at `/__diary/live.js`.
const LIVE_JS: &str = "(function(){var v=null;function poll(){fetch('/__diary/version',{cache:'no-store'}).then(function(r){return r.text()}).then(function(t){if(v!==null&&t!==v){location.reload()}v=t}).catch(function(){}).finally(function(){setTimeout(poll,1000)})}poll()})();";

/// Serves the site until the process is stopped. `today` fixes the day of every build.
/// `links` (a text and a path below the site) are printed with the address once serving.
pub(crate) fn serve(
    root: &Path,
    port: u16,
    today: Option<Moment>,
    links: &[(String, String)],
) -> Result<()> {
    let site = Site::load(root)?;
    let version = Arc::new(AtomicU64::new(0));
    rebuild(root, today, &version);
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = server
        .server_addr()
        .to_ip()
        .context("the server has no IP address")?;
    eprintln!(
        "serving {} at http://{addr}/ (Ctrl+C to stop)",
        site.output_path().display()
    );
    for (text, path) in links {
        eprintln!("  {text}: http://{addr}/{path}");
    }

    // Watch what a build reads; rebuild after changes settle.
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(e) = event
            && !matches!(e.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(());
        }
    })
    .context("cannot watch the site folder")?;
    for path in watched(&site) {
        if path.exists() {
            let mode = if path.is_dir() {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            watcher
                .watch(&path, mode)
                .with_context(|| format!("cannot watch {}", path.display()))?;
        }
    }
    {
        let root = root.to_path_buf();
        let version = Arc::clone(&version);
        std::thread::spawn(move || {
            while rx.recv().is_ok() {
                // Let a burst of writes (an import, an editor's save) finish.
                while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
                rebuild(&root, today, &version);
            }
        });
    }

    let output = site.output_path();
    for request in server.incoming_requests() {
        let response = respond(&output, request.url(), &version);
        let _ = request.respond(response);
    }
    Ok(())
}

/// What the preview watches: settings, journal folder, content and theme folders.
fn watched(site: &Site) -> Vec<PathBuf> {
    let mut paths = vec![site.root.join(SITE_FILE)];
    if let Some(dir) = site.journal_path().parent() {
        paths.push(dir.to_path_buf());
    }
    for dir in ["content", "templates", "static", "i18n", "themes"] {
        paths.push(site.root.join(dir));
    }
    paths
}

fn rebuild(root: &Path, today: Option<Moment>, version: &AtomicU64) {
    let started = std::time::Instant::now();
    let result = Site::load(root).and_then(|site| {
        let options = build::Options {
            moment: Moment::or_now(today, site.config.tz()),
            verbose: true,
            force: false,
            now: false,
        };
        build::build(&site, &options)
    });
    match result {
        Ok(report) => {
            version.fetch_add(1, Ordering::SeqCst);
            eprintln!(
                "rebuilt: {} files ({} changed) in {:.2} s",
                report.stats.files,
                report.stats.written,
                started.elapsed().as_secs_f64()
            );
        }
        Err(e) => eprintln!("error: {e:#}\n(still serving the previous build)"),
    }
}

type Response = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

fn respond(output: &Path, url: &str, version: &AtomicU64) -> Response {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    if path == "/__diary/version" {
        return with_type(
            version.load(Ordering::SeqCst).to_string().into_bytes(),
            "text/plain",
        );
    }
    if path == "/__diary/live.js" {
        return with_type(
            LIVE_JS.as_bytes().to_vec(),
            "text/javascript; charset=utf-8",
        );
    }
    let Some(file) = resolve(output, path) else {
        return tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404);
    };
    match std::fs::read(&file) {
        Ok(mut bytes) => {
            let ty = content_type(&file);
            if ty.starts_with("text/html") {
                bytes = inject_reload(bytes);
            }
            with_type(bytes, &ty)
        }
        Err(_) => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
    }
}

/// Maps a URL path to a file below `output`, refusing anything that leaves it.
fn resolve(output: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?
        .into_owned();
    let mut file = output.to_path_buf();
    for part in decoded.split('/').filter(|p| !p.is_empty()) {
        if part == ".." || part.contains('\\') {
            return None;
        }
        file.push(part);
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

fn inject_reload(html: Vec<u8>) -> Vec<u8> {
    let tag = b"<script src=/__diary/live.js></script>";
    match html.windows(7).rposition(|w| w == b"</body>") {
        Some(at) => [&html[..at], tag, &html[at..]].concat(),
        None => [&html[..], tag].concat(),
    }
}

fn with_type(bytes: Vec<u8>, ty: &str) -> Response {
    let header = tiny_http::Header::from_bytes("Content-Type", ty).expect("valid header");
    let no_cache =
        tiny_http::Header::from_bytes("Cache-Control", "no-store").expect("valid header");
    tiny_http::Response::from_data(bytes)
        .with_header(header)
        .with_header(no_cache)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/index.html"), "x").unwrap();
        assert!(resolve(dir.path(), "/a/").is_some());
        assert!(resolve(dir.path(), "/a/index.html").is_some());
        assert!(resolve(dir.path(), "/../etc/passwd").is_none());
        assert!(resolve(dir.path(), "/%2e%2e/etc/passwd").is_none());
        assert!(resolve(dir.path(), "/nope").is_none());
    }

    #[test]
    fn reload_script_goes_before_body_end() {
        let html = inject_reload(b"<p>x</p></body></html>".to_vec());
        assert_eq!(
            String::from_utf8(html).unwrap(),
            "<p>x</p><script src=/__diary/live.js></script></body></html>"
        );
    }
}
