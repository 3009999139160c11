//! `diary`: a static-site generator that turns a school's electronic class journal into a
//! parent-facing website. See README.md for a tour and docs/ for the formats.
//!
//! Data flow: `config` (site.toml) + `journal` (SQLite, read-only) + `content` (Markdown)
//! → `views` (what each page shows) → `render` (Tera templates of a theme) → `seal_diaries`
//! (sealing each child's diary with `seal`, for the codes `access` binds to people) →
//! `output` (one write function, staged and swapped atomically into public/) → `publish`.

#![warn(unreachable_pub)]

pub(crate) mod access;
pub(crate) mod build;
pub(crate) mod check;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod content;
pub(crate) mod demo;
pub(crate) mod event_command;
pub(crate) mod event_files;
pub(crate) mod feeds;
pub(crate) mod files;
pub(crate) mod finding;
pub(crate) mod grades;
pub(crate) mod i18n;
pub(crate) mod import;
pub(crate) mod journal;
pub(crate) mod output;
pub(crate) mod print;
pub(crate) mod progress;
pub(crate) mod publish;
pub(crate) mod refresh;
pub(crate) mod render;
pub(crate) mod seal;
pub(crate) mod seal_diaries;
pub(crate) mod serve;
pub(crate) mod stamp;
pub(crate) mod stats;
pub(crate) mod text;
pub(crate) mod views;
pub(crate) mod webapp;

/// "What it takes" (the diary's panel of the current period, `grades::what_it_takes`) on
/// one case given as JSON, `{"rules": …, "marks": …}` as in
/// tests/fixtures/what_it_takes.json, answered as JSON (`null` for a words-only subject).
/// Public so that the browser tests can hold the diary's words against the Rust answer.
#[doc(hidden)]
pub fn what_it_takes_json(input: &str) -> anyhow::Result<String> {
    grades::what_it_takes_json(input)
}
