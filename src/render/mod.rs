//! Rendering: a theme's Tera templates, static files and UI strings.
//!
//! The default theme is embedded in the binary, so a new site renders with no theme folder.
//! A site overrides it file by file: `themes/<theme>/…` (a whole theme), then the site's own
//! `templates/` and `static/` folders.

mod child;
mod html;
mod periods;
mod theme;

pub(crate) use crate::i18n::Strings;
pub(crate) use theme::Theme;

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use crate::views::{
    ChildLesson, ChildPage, ChildWeek, ClassParts, ClassRef, HomeworkIndex, Inputs, LessonView,
    LineHtml, first_lines,
};

/// A ready-to-use renderer: compiled templates plus the language's strings.
pub(crate) struct Renderer {
    tera: tera::Tera,
    pub strings: Strings,
    /// `t`, the UI strings, as a template value: made once, and lent to each render (see
    /// [`Renderer::render_tab`]) instead of converted anew for every page and diary chunk.
    strings_value: tera::Value,
    lent: std::sync::Mutex<Vec<tera::Value>>,
    /// The theme's pupil's diary is the built-in one: written by [`child`], not Tera.
    child_in_code: bool,
}

impl Renderer {
    /// The class-wide parts of the diary weeks starting on `mondays` of `class`, each lesson
    /// rendered once by the theme's `partials/diary_lesson.html` and shared by the class's
    /// pupils; with `board`, the announcements and events too.
    pub(crate) fn diary_class_parts(
        &self,
        inputs: &Inputs,
        class: &ClassRef,
        hw: &HomeworkIndex,
        mondays: &[chrono::NaiveDate],
        board: bool,
    ) -> Result<ClassParts> {
        #[derive(serde::Serialize)]
        struct Lesson<'a> {
            l: &'a LessonView,
        }
        inputs.class_parts(class, hw, mondays, board, |l| {
            self.render("partials/diary_lesson.html", "../", &Lesson { l })
                .with_context(|| format!("rendering the diary lessons of class {}", class.name))
        })
    }

    /// A diary week as a class's pupils who attend the same lessons share it, by the
    /// theme's `partials/dweek.html` (see [`ClassParts::share_weeks`]).
    pub(crate) fn diary_week(&self, w: &ChildWeek) -> Result<String> {
        #[derive(serde::Serialize)]
        struct Week<'a> {
            w: &'a ChildWeek,
        }
        self.render("partials/dweek.html", "../", &Week { w })
    }

    /// A pupil's own lines of a lesson (attendance, marks), by the theme's
    /// `partials/diary_lines.html`: the same for every pupil with the same
    /// [`ChildLesson::lines_key`].
    pub(crate) fn diary_lines(&self, line: &ChildLesson) -> Result<LineHtml> {
        #[derive(serde::Serialize)]
        struct Lines<T> {
            lines: [T; 1],
        }
        let lines = [line.as_first()];
        Ok(first_lines(&self.render(
            "partials/diary_lines.html",
            "../",
            &Lines { lines },
        )?))
    }

    /// A pupil's diary (`now`) by the theme's `diary_child.html`, with the marks by period
    /// as `periods_html` (see [`periods`]): written by [`child`] when the template and its
    /// partials are the built-in ones, else rendered by Tera.
    pub(crate) fn diary_child(&self, page: &ChildPage) -> Result<String> {
        let periods_html = periods::periods_html(&self.strings, page.no_marks, &page.periods);
        if self.child_in_code {
            return child::child_html(&self.strings, page, &periods_html, |w| self.diary_week(w));
        }
        self.diary_child_template(page, periods_html)
    }

    /// [`Renderer::diary_child`] by the theme's template, through Tera.
    fn diary_child_template(&self, page: &ChildPage, periods_html: String) -> Result<String> {
        #[derive(serde::Serialize)]
        struct Page<'a> {
            #[serde(flatten)]
            page: &'a ChildPage,
            periods_html: String,
        }
        self.render("diary_child.html", "../", &Page { page, periods_html })
            .map_err(|e| {
                // A site's own diary_child.html from before the tables moved into the code.
                if format!("{e:#}").contains("`periods`") {
                    e.context(
                        "diary_child.html: the marks by period are no longer template data; \
                         put `{{ periods_html | safe }}` where the template loops over \
                         `periods` (docs/configuration.md, \"Themes and overrides\")",
                    )
                } else {
                    e
                }
            })
    }

    /// Whether [`Renderer::diary_child`] is written by the code (the built-in template).
    #[cfg(test)]
    pub(crate) fn writes_child_in_code(&self) -> bool {
        self.child_in_code
    }

    /// [`Renderer::diary_child`] through the theme's template even where the code writes it.
    #[cfg(test)]
    pub(crate) fn diary_child_by_template(&self, page: &ChildPage) -> Result<String> {
        let periods_html = periods::periods_html(&self.strings, page.no_marks, &page.periods);
        self.diary_child_template(page, periods_html)
    }

    pub(crate) fn new(theme: &Theme, language: crate::config::Language) -> Result<Renderer> {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![".html", ".xml", ".ics"]);
        tera.set_escape_fn(escape_html);
        tera.add_raw_templates(theme.templates())
            .map_err(|e| anyhow!("{}", tera_message(&e)))?;
        let strings = theme.strings(language)?;
        let plurals = strings.clone();
        tera.register_function(
            "plural",
            move |args: &std::collections::HashMap<String, tera::Value>| {
                let n = args
                    .get("n")
                    .and_then(tera::Value::as_i64)
                    .ok_or_else(|| tera::Error::msg("plural() needs a whole number n="))?;
                let key = args
                    .get("key")
                    .and_then(tera::Value::as_str)
                    .ok_or_else(|| tera::Error::msg("plural() needs key=\"…\""))?;
                Ok(tera::Value::String(plurals.plural(n, key)))
            },
        );
        let strings_value = tera::to_value(&strings.map)
            .map_err(|e| anyhow!("the UI strings as a template value: {e}"))?;
        Ok(Renderer {
            tera,
            strings,
            strings_value,
            lent: std::sync::Mutex::new(Vec::new()),
            child_in_code: theme.is_builtin(&child::TEMPLATES),
        })
    }

    /// Renders template `name` with `page` (its fields become template variables) and the
    /// common variables: `t` (UI strings), `lang`, `root` (relative path to the site root).
    pub(crate) fn render<T: Serialize>(&self, name: &str, root: &str, page: &T) -> Result<String> {
        self.render_tab(name, root, "", page)
    }

    /// Renders the HTML page at `path` (relative to the site root) and minifies it. `tab`
    /// names the page's tab in a class's navigation (`board`, `homework`, …).
    pub(crate) fn page<T: Serialize>(
        &self,
        name: &str,
        path: &str,
        tab: &str,
        page: &T,
    ) -> Result<Vec<u8>> {
        let html = self
            .render_tab(name, &root_of(path), tab, page)
            .map_err(|e| e.context(format!("rendering {path}")))?;
        Ok(minify_html(&html))
    }

    fn render_tab<T: Serialize>(
        &self,
        name: &str,
        root: &str,
        tab: &str,
        page: &T,
    ) -> Result<String> {
        let mut ctx = tera::Context::from_serialize(page)
            .map_err(|e| anyhow!("template {name}: {}", tera_message(&e)))?;
        // `t` is moved in and out of the context: a copy per thread at most, never one per
        // render (a few hundred strings, a fifth of a diary chunk's rendering otherwise).
        let strings = self.lent.lock().ok().and_then(|mut lent| lent.pop());
        let strings = strings.unwrap_or_else(|| self.strings_value.clone());
        let mut common = serde_json::Map::new();
        common.insert("t".to_string(), strings);
        ctx.extend(
            tera::Context::from_value(serde_json::Value::Object(common))
                .map_err(|e| anyhow!("template {name}: {}", tera_message(&e)))?,
        );
        ctx.insert("lang", &self.strings.lang);
        ctx.insert("root", root);
        ctx.insert("tab", tab);
        let html = self
            .tera
            .render(name, &ctx)
            .map_err(|e| anyhow!("{}", tera_message(&e)));
        if let (Some(strings), Ok(mut lent)) = (ctx.remove("t"), self.lent.lock()) {
            lent.push(strings);
        }
        html
    }
}

/// Minifies an HTML page (inline JavaScript is left as it is).
pub(crate) fn minify_html(html: &str) -> Vec<u8> {
    let mut cfg = minify_html::Cfg::new();
    cfg.minify_css = true;
    cfg.minify_js = false;
    cfg.keep_closing_tags = true;
    cfg.keep_html_and_head_opening_tags = true;
    minify_html::minify(html.as_bytes(), &cfg)
}

/// Drops a template's indentation and blank lines: a run of white space that holds a line
/// break and stands between two tags becomes one line break (which shows as the one space
/// it stood for). One pass, much cheaper than [`minify_html`] and, once gzipped, within a
/// few per cent of it: what sealed diaries use.
pub(crate) fn squeeze_html(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'>' {
            let run = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            let end = i + 1 + run;
            if run > 0
                && bytes.get(end) == Some(&b'<')
                && bytes[i + 1..end].contains(&b'\n')
                && (run > 1 || bytes[i + 1] != b'\n')
            {
                out.push_str(&html[start..=i]);
                out.push('\n');
                start = end;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out.push_str(&html[start..]);
    out
}

/// Minifies a stylesheet, through the same CSS minifier the HTML pages use.
pub(crate) fn minify_css(css: &[u8]) -> Vec<u8> {
    let mut cfg = minify_html::Cfg::new();
    cfg.minify_css = true;
    let mut doc = b"<style>".to_vec();
    doc.extend_from_slice(css);
    doc.extend_from_slice(b"</style>");
    let out = minify_html::minify(&doc, &cfg);
    let inner = out
        .strip_prefix(b"<style>")
        .and_then(|o| o.strip_suffix(b"</style>"));
    match inner {
        Some(inner) if !inner.is_empty() => inner.to_vec(),
        _ => css.to_vec(),
    }
}

pub(crate) use crate::text::escape_html;

/// Tera errors nest the useful part (template name, line, what failed) in their sources;
/// join them into one line.
fn tera_message(e: &tera::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ").replace('\n', " ")
}

/// The relative path from a page at `path` (e.g. `classes/5b/homework/index.html`) back to
/// the site root (`../../../`).
pub(crate) fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeezing_drops_indentation_between_tags_only() {
        assert_eq!(
            squeeze_html("<ol>\n  <li>a  b</li>\n\n  <li>c</li> <b>d</b>\n</ol>\n"),
            "<ol>\n<li>a  b</li>\n<li>c</li> <b>d</b>\n</ol>\n"
        );
        assert_eq!(
            squeeze_html("<p>x\n   y</p>"),
            "<p>x\n   y</p>",
            "text is kept"
        );
    }

    #[test]
    fn roots() {
        assert_eq!(root_of("index.html"), "");
        assert_eq!(root_of("classes/5b/homework/index.html"), "../../../");
    }

    #[test]
    fn minifies() {
        let html = minify_html("<p>  a   b  </p>\n\n<p>c</p>");
        assert!(html.len() < 20, "{}", String::from_utf8_lossy(&html));
        let css = minify_css(b"a {  color : red ; }\n/* c */ b { margin: 0px }");
        assert_eq!(String::from_utf8_lossy(&css), "a{color:red}b{margin:0}");
    }

    #[test]
    fn template_errors_name_template_and_line() {
        let mut t = Theme::builtin();
        t.set_template("index.html", "line one\n{{ broken");
        let err = Renderer::new(&t, crate::config::Language::Ru)
            .err()
            .unwrap();
        let text = format!("{err:#}");
        assert!(text.contains("index.html"), "{text}");
        assert!(text.contains("2:"), "{text}");
    }
}
