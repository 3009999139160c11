//! `diary`: a static-site generator that turns a school's electronic class journal into a
//! parent-facing website. See README.md for a tour and docs/ for the formats.
//!
//! Data flow: `config` (site.toml) + `journal` (SQLite, read-only) + `content` (Markdown)
//! → `views` (what each page shows) → `render` (Tera templates of a theme) → `seal_diaries`
//! (sealing each child's diary with `seal`, for the codes `access` binds to people) →
//! `output` (one write function, staged and swapped atomically into public/) → `publish`.

pub mod access;
pub mod build;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod content;
pub mod demo;
pub mod feeds;
pub mod files;
pub mod finding;
pub mod grades;
pub mod i18n;
pub mod import;
pub mod journal;
pub mod output;
pub mod print;
pub mod progress;
pub mod publish;
pub mod refresh;
pub mod render;
pub mod seal;
pub mod seal_diaries;
pub mod serve;
pub mod stamp;
pub mod text;
pub mod views;
