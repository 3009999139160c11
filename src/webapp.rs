//! The site as an installable web app: `manifest.webmanifest` (name, icons, where the app
//! opens) and the service worker `sw.js` at the site's root, which keeps the unlock page,
//! the theme's files and the boards a family read readable without a network
//! (docs/access.md, "On this device"; docs/operations.md, "Offline and installable").
//!
//! The worker's version, which names its caches, is a digest of the theme's static files,
//! the manifest and the worker itself: it changes with the theme or the site's settings,
//! never with the journal, so which files change tells an outsider nothing about diaries.

use anyhow::{Context, Result};
use serde::Serialize;
use sha2::Digest;

use crate::output::Output;
use crate::render::{Renderer, Theme};

/// What the site holds that the worker keeps from its first visit on (paths relative to
/// the site's root).
const PRECACHE_PAGES: &[&str] = &[
    "index.html",
    "diary/index.html",
    "diary/params.json",
    "manifest.webmanifest",
];

/// The theme's static files as the site serves them.
pub(crate) fn static_paths(theme: &Theme) -> Vec<String> {
    theme
        .static_files()
        .map(|(path, _)| format!("static/{path}"))
        .collect()
}

#[derive(Serialize)]
struct Icon {
    src: String,
    sizes: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    purpose: &'static str,
}

#[derive(Serialize)]
struct Manifest<'a> {
    id: &'a str,
    name: &'a str,
    short_name: &'a str,
    lang: &'a str,
    /// The diary when the site has one: what a family installs the site for. A remembered
    /// device opens straight into the child's week; the boards are one tap away in the
    /// page's header. The front page otherwise.
    start_url: &'a str,
    scope: &'a str,
    display: &'a str,
    background_color: &'a str,
    theme_color: &'a str,
    icons: Vec<Icon>,
}

/// The theme colour of the manifest and the pages (the icon's blue).
pub(crate) const THEME_COLOR: &str = "#0a58ca";

/// `manifest.webmanifest`: the site's name and short name, its icons (the theme's
/// `icon.svg` and its PNG sizes, when the theme has them), opening on the diary when
/// `diary` (the site publishes diaries), else on the front page.
pub(crate) fn manifest(
    theme: &Theme,
    name: &str,
    short_name: &str,
    lang: &str,
    diary: bool,
) -> Vec<u8> {
    let short = if short_name.trim().is_empty() {
        name
    } else {
        short_name
    };
    let mut icons = Vec::new();
    for (path, _) in theme.static_files() {
        let sizes = match path {
            "icon.svg" => "any",
            "icon-192.png" => "192x192",
            "icon-512.png" => "512x512",
            _ => continue,
        };
        icons.push(Icon {
            src: format!("static/{path}"),
            sizes,
            kind: if path.ends_with(".svg") {
                "image/svg+xml"
            } else {
                "image/png"
            },
            purpose: "any",
        });
    }
    let m = Manifest {
        id: "./",
        name,
        short_name: short,
        lang,
        start_url: if diary {
            "diary/index.html"
        } else {
            "index.html"
        },
        scope: "./",
        display: "standalone",
        background_color: "#ffffff",
        theme_color: THEME_COLOR,
        icons,
    };
    let mut out = serde_json::to_vec_pretty(&m).expect("a manifest serializes");
    out.push(b'\n');
    out
}

#[derive(Serialize)]
struct Worker<'a> {
    version: &'a str,
    precache: String,
}

/// `sw.js` from the theme's `templates/sw.js`, with its version and the files it keeps from
/// the first visit (those of `PRECACHE_PAGES` the site has, by `has`).
pub(crate) fn service_worker(
    renderer: &Renderer,
    theme: &Theme,
    manifest: &[u8],
    has: impl Fn(&str) -> bool,
) -> Result<Vec<u8>> {
    let mut precache: Vec<String> = PRECACHE_PAGES
        .iter()
        .filter(|p| has(p))
        .map(|p| p.to_string())
        .collect();
    precache.extend(static_paths(theme));
    let mut h = sha2::Sha256::new();
    for (path, bytes) in theme.static_files() {
        h.update((path.len() as u64).to_be_bytes());
        h.update(path.as_bytes());
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    }
    h.update((manifest.len() as u64).to_be_bytes());
    h.update(manifest);
    for path in &precache {
        h.update((path.len() as u64).to_be_bytes());
        h.update(path.as_bytes());
    }
    for (name, text) in theme.templates() {
        if name == "sw.js" {
            h.update(text.as_bytes());
        }
    }
    let version = hex::encode(&h.finalize()[..6]);
    let page = Worker {
        version: &version,
        precache: serde_json::to_string(&precache).expect("paths serialize"),
    };
    let js = renderer
        .render("sw.js", "", &page)
        .context("rendering the service worker (templates/sw.js)")?;
    Ok(js.into_bytes())
}

/// Writes the manifest and the service worker into the output.
pub(crate) fn write(
    out: &mut Output,
    renderer: &Renderer,
    theme: &Theme,
    name: &str,
    short_name: &str,
    lang: &str,
) -> Result<()> {
    let diary = out.contains("diary/index.html");
    let manifest = manifest(theme, name, short_name, lang, diary);
    let worker = service_worker(renderer, theme, &manifest, |p| {
        out.contains(p) || p == "manifest.webmanifest"
    })?;
    out.write_output("manifest.webmanifest", manifest)?;
    out.write_output("sw.js", worker)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Language;

    fn parts(theme: &Theme) -> (Vec<u8>, String) {
        let renderer = Renderer::new(theme, Language::Ru).unwrap();
        let manifest = manifest(theme, "Школа № 1 города N", "Школа № 1", "ru", true);
        let sw = service_worker(&renderer, theme, &manifest, |_| true).unwrap();
        (manifest, String::from_utf8(sw).unwrap())
    }

    fn version(sw: &str) -> String {
        let at = sw
            .find("const VERSION = '")
            .expect("the worker names its version")
            + 17;
        sw[at..at + 12].to_string()
    }

    #[test]
    fn the_manifest_names_the_site_and_its_icons() {
        let (bytes, _) = parts(&Theme::builtin());
        let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(m["name"], "Школа № 1 города N");
        assert_eq!(m["short_name"], "Школа № 1");
        assert_eq!(m["start_url"], "diary/index.html");
        assert_eq!(m["display"], "standalone");
        let sizes: Vec<&str> = m["icons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["sizes"].as_str().unwrap())
            .collect();
        assert_eq!(sizes, ["192x192", "512x512", "any"]);
        let without = manifest(&Theme::builtin(), "Школа", "", "ru", false);
        let m: serde_json::Value = serde_json::from_slice(&without).unwrap();
        assert_eq!(m["start_url"], "index.html", "no diaries: the front page");
        assert_eq!(m["short_name"], "Школа", "no short name: the name");
    }

    #[test]
    fn the_worker_lists_what_it_keeps_and_its_version_follows_the_theme_only() {
        let theme = Theme::builtin();
        let (_, sw) = parts(&theme);
        for path in [
            "\"diary/index.html\"",
            "\"diary/params.json\"",
            "\"static/diary.js\"",
            "\"static/icon-192.png\"",
        ] {
            assert!(sw.contains(path), "{path} precached");
        }
        assert!(!sw.contains("{{"), "the template is fully rendered");
        let v = version(&sw);
        assert!(v.chars().all(|c| c.is_ascii_hexdigit()) && v.len() == 12);
        // Same theme, same version: nothing of the journal goes in.
        assert_eq!(version(&parts(&Theme::builtin()).1), v);
        let mut changed = Theme::builtin();
        changed.set_static("style.css", b"body{color:red}");
        assert_ne!(version(&parts(&changed).1), v, "a new theme, a new version");
    }
}
