//! `content/`: announcements written as Markdown files with TOML front matter.
//!
//! ```text
//! +++
//! title = "Родительское собрание"
//! date = 2026-11-20            # or "2026-11-20 18:00"
//! audience = "class"           # school (default) | grade | class
//! class = "5Б"                 # with audience = "class"
//! grade = 5                    # with audience = "grade"
//! expires = 2026-11-28         # optional: leaves the board after this
//! pinned = true                # optional
//! author = "Классный руководитель"
//! +++
//! Markdown text.
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::finding::Finding;
use crate::journal::parse_datetime;

/// Whom an announcement from content/ is for. Classes are named as in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PostAudience {
    School,
    Grade(i64),
    Class(String),
}

/// One announcement file.
#[derive(Debug, Clone)]
pub(crate) struct Post {
    /// Path relative to the site folder, for messages.
    pub file: PathBuf,
    pub title: String,
    pub date: NaiveDateTime,
    pub audience: PostAudience,
    pub expires: Option<NaiveDateTime>,
    pub pinned: bool,
    pub author: Option<String>,
    pub body_md: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    date: DateLike,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    grade: Option<i64>,
    #[serde(default)]
    expires: Option<DateLike>,
    #[serde(default)]
    pinned: bool,
    #[serde(default)]
    author: Option<String>,
}

/// A TOML date (`2026-11-20`) or a string (`"2026-11-20 18:00"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum DateLike {
    Toml(toml::value::Datetime),
    Text(String),
}

impl DateLike {
    fn parse(&self, key: &str) -> Result<NaiveDateTime> {
        let text = match self {
            DateLike::Toml(d) => d.to_string(),
            DateLike::Text(s) => s.clone(),
        };
        // TOML datetimes may carry seconds, fractions or an offset; keep date and minutes.
        let trimmed: String = text.chars().take(16).collect();
        parse_datetime(trimmed.trim()).ok_or_else(|| {
            anyhow!("{key} = {text:?} is not a date (YYYY-MM-DD or \"YYYY-MM-DD HH:MM\")")
        })
    }
}

/// Reads every `*.md` file under `<site>/content`, sorted by path. A file that cannot be
/// read is an error; a file with bad front matter is a finding naming it.
pub(crate) fn load(site_root: &Path) -> Result<(Vec<Post>, Vec<Finding>)> {
    let dir = site_root.join("content");
    let mut posts = Vec::new();
    let mut findings = Vec::new();
    if !dir.is_dir() {
        return Ok((posts, findings));
    }
    let mut files = Vec::new();
    collect_md(&dir, &mut files)?;
    files.sort();
    for path in files {
        let rel = path.strip_prefix(site_root).unwrap_or(&path).to_path_buf();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {} (is it UTF-8?)", rel.display()))?;
        match parse(&rel, &text) {
            Ok(post) => posts.push(post),
            Err((line, e)) => findings.push(Finding::error(
                rel.display().to_string(),
                line.map(|l| format!("line {l}")).unwrap_or_default(),
                None,
                format!("{e:#}"),
            )),
        }
    }
    Ok((posts, findings))
}

fn collect_md(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            // content/events holds events, not announcements (crate::event_files).
            if path.file_name().is_some_and(|n| n == "events") && path.parent() == Some(dir) {
                continue;
            }
            collect_md(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// A failure in a content file: what is wrong, with its line when known.
pub(crate) type Failed = (Option<usize>, anyhow::Error);

/// Splits a content file into its TOML front matter (between `+++` lines) and its body.
pub(crate) fn split_front_matter(text: &str) -> Result<(String, &str), Failed> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("").trim_end();
    if first == "---" {
        return Err((
            Some(1),
            anyhow!("front matter must be TOML between +++ lines, not YAML between ---"),
        ));
    }
    if first != "+++" {
        return Err((
            Some(1),
            anyhow!("the file must start with +++ and TOML front matter (title, date, …)"),
        ));
    }
    let mut front = String::new();
    let mut consumed = first.len() + 1;
    for line in lines {
        consumed += line.len();
        if line.trim_end() == "+++" {
            let body = text.get(consumed.min(text.len())..).unwrap_or("");
            return Ok((front, body));
        }
        front.push_str(line);
    }
    Err((None, anyhow!("the front matter has no closing +++ line")))
}

/// Reads front matter as TOML; an error names its line in the file (the front matter
/// starts on line 2).
pub(crate) fn parse_front_matter<T: serde::de::DeserializeOwned>(front: &str) -> Result<T, Failed> {
    toml::from_str(front).map_err(|e| {
        let line = e
            .span()
            .map(|s| front[..s.start.min(front.len())].matches('\n').count() + 2);
        (line, anyhow!("{}", e.message().trim_end()))
    })
}

/// Parses one file; an error carries the line it is on when known.
fn parse(file: &Path, text: &str) -> Result<Post, Failed> {
    let (front, body) = split_front_matter(text)?;
    let fm: FrontMatter = parse_front_matter(&front)?;
    to_post(file, fm, body.to_string()).map_err(|e| (None, e))
}

fn to_post(file: &Path, fm: FrontMatter, body_md: String) -> Result<Post> {
    let audience = match fm.audience.as_deref().unwrap_or("school") {
        "school" => PostAudience::School,
        "grade" => match fm.grade {
            Some(g) if (1..=11).contains(&g) => PostAudience::Grade(g),
            Some(g) => bail!("grade = {g} is not a grade (1–11)"),
            None => bail!("audience = \"grade\" needs grade = N"),
        },
        "class" => PostAudience::Class(
            fm.class
                .clone()
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| anyhow!("audience = \"class\" needs class = \"5Б\""))?,
        ),
        other => bail!("audience = {other:?} is not one of school, grade, class"),
    };
    if fm.title.trim().is_empty() {
        bail!("title is empty");
    }
    Ok(Post {
        file: file.to_path_buf(),
        title: fm.title,
        date: fm.date.parse("date")?,
        audience,
        expires: fm
            .expires
            .as_ref()
            .map(|e| e.parse("expires"))
            .transpose()?,
        pinned: fm.pinned,
        author: fm.author,
        body_md,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Post, (Option<usize>, anyhow::Error)> {
        parse(Path::new("content/x.md"), text)
    }

    #[test]
    fn parses_front_matter_and_body() {
        let post = p("+++\ntitle = \"Собрание\"\ndate = 2026-11-20\naudience = \"class\"\nclass = \"5Б\"\npinned = true\n+++\nТекст **важный**\n").unwrap();
        assert_eq!(post.title, "Собрание");
        assert_eq!(post.audience, PostAudience::Class("5Б".into()));
        assert!(post.pinned);
        assert_eq!(post.body_md, "Текст **важный**\n");
        assert_eq!(post.date.to_string(), "2026-11-20 00:00:00");
    }

    #[test]
    fn accepts_datetime_strings_and_toml_datetimes() {
        let a = p("+++\ntitle = \"a\"\ndate = \"2026-11-20 18:30\"\n+++\n").unwrap();
        assert_eq!(a.date.to_string(), "2026-11-20 18:30:00");
        let b = p("+++\ntitle = \"a\"\ndate = 2026-11-20T18:30:00\nexpires = 2026-12-01\n+++\n")
            .unwrap();
        assert_eq!(b.date.to_string(), "2026-11-20 18:30:00");
        assert!(b.expires.is_some());
    }

    #[test]
    fn errors_name_the_line() {
        let (line, e) = p("+++\ntitle = \"a\"\ndate = 2026-11-20\ncolour = 1\n+++\n").unwrap_err();
        assert_eq!(line, Some(4), "{e:#}");
        let (_, e) = p("+++\ntitle = \"a\"\ndate = \"2026-13-45\"\n+++\n").unwrap_err();
        assert!(format!("{e}").contains("2026-13-45"));
        let (_, e) = p("---\ntitle: a\n---\n").unwrap_err();
        assert!(format!("{e}").contains("TOML"));
        let (_, e) =
            p("+++\ntitle = \"a\"\ndate = 2026-11-20\naudience = \"class\"\n+++\n").unwrap_err();
        assert!(format!("{e}").contains("class ="));
    }
}
