//! One thing `diary check` found: where it is and what is wrong. At the bottom of the
//! crate: loading the journal and content finds problems too.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// A finding names the place (a file or table, a row, a column) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub severity: Severity,
    /// A journal table (`lessons`) or a file (`content/news.md`, `site.toml`).
    pub place: String,
    /// The row: `id 17`, `student_id 3, lesson_id 9`, `line 12`; empty for the whole place.
    pub row: String,
    pub column: Option<String>,
    pub message: String,
}

impl Finding {
    pub(crate) fn error(
        place: impl Into<String>,
        row: impl Into<String>,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            severity: Severity::Error,
            place: place.into(),
            row: row.into(),
            column: column.map(str::to_string),
            message: message.into(),
        }
    }

    pub(crate) fn warning(
        place: impl Into<String>,
        row: impl Into<String>,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(place, row, column, message)
        }
    }

    pub(crate) fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    /// `error: lessons id 17, column date: '2026-13-45' is not a valid date (YYYY-MM-DD)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}", self.place)?;
        if !self.row.is_empty() {
            write!(f, " {}", self.row)?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}
