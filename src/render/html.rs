//! HTML written by the code: markup as it is, text escaped as the templates escape it.
//! The pupil's diary ([`super::child`]) and its marks by period ([`super::periods`]) are
//! written with it.

use crate::text::escape_html;

/// HTML being written.
pub(super) struct Html(pub(super) String);

impl Html {
    pub(super) fn raw(&mut self, s: &str) {
        self.0.push_str(s);
    }

    pub(super) fn text(&mut self, s: &str) {
        if s.bytes().any(|b| b"&<>\"'".contains(&b) || b < 0x20) {
            self.0.push_str(&escape_html(s));
        } else {
            self.0.push_str(s);
        }
    }

    /// `before`, the text escaped, `after`, when there is a text: a template's `{% if x
    /// %}before{{ x }}after{% endif %}`, which prints nothing for an empty text either.
    pub(super) fn wrap(&mut self, before: &str, text: Option<&str>, after: &str) {
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            self.raw(before);
            self.text(text);
            self.raw(after);
        }
    }

    /// ` name="value"`, the value escaped.
    pub(super) fn attr(&mut self, name: &str, value: &str) {
        self.raw(" ");
        self.raw(name);
        self.raw("=\"");
        self.text(value);
        self.raw("\"");
    }
}
