//! `diary check`: validation of site.toml, content/ and the journal.

mod finding;

pub use finding::{Finding, Severity};
