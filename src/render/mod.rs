//! Rendering: a theme's Tera templates, static files and UI strings.
//!
//! The default theme is embedded in the binary, so a new site renders with no theme folder.
//! A site overrides it file by file: `themes/<theme>/…` (a whole theme), then the site's own
//! `templates/` and `static/` folders.

mod i18n;
mod theme;

pub use i18n::Strings;
pub use theme::Theme;

use anyhow::{Result, anyhow};
use serde::Serialize;

/// A ready-to-use renderer: compiled templates plus the language's strings.
pub struct Renderer {
    tera: tera::Tera,
    pub strings: Strings,
}

impl Renderer {
    pub fn new(theme: &Theme, language: crate::config::Language) -> Result<Renderer> {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![".html", ".xml", ".ics"]);
        tera.set_escape_fn(escape_html);
        tera.add_raw_templates(theme.templates())
            .map_err(|e| anyhow!("{}", tera_message(&e)))?;
        let strings = theme.strings(language)?;
        Ok(Renderer { tera, strings })
    }

    /// Renders template `name` with `page` (its fields become template variables) and the
    /// common variables: `t` (UI strings), `lang`, `root` (relative path to the site root).
    pub fn render<T: Serialize>(&self, name: &str, root: &str, page: &T) -> Result<String> {
        let mut ctx = tera::Context::from_serialize(page)
            .map_err(|e| anyhow!("template {name}: {}", tera_message(&e)))?;
        ctx.insert("t", &self.strings.map);
        ctx.insert("lang", &self.strings.lang);
        ctx.insert("root", root);
        self.tera
            .render(name, &ctx)
            .map_err(|e| anyhow!("{}", tera_message(&e)))
    }
}

/// Escapes text for HTML and XML: `& < > " '` (Tera's default also escapes `/`, which
/// makes every path in the output unreadable).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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
pub fn root_of(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots() {
        assert_eq!(root_of("index.html"), "");
        assert_eq!(root_of("classes/5b/homework/index.html"), "../../../");
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
