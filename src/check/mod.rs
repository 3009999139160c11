//! `diary check`: validation of site.toml, content/ and the journal.
//!
//! Site settings are checked when they load ([`crate::config`]); malformed journal values
//! are found while the journal loads ([`crate::journal::Journal::load`]); this module checks
//! what only the whole journal can tell: references, scales, calendars and memberships.
//! Every finding names table, row and column. Errors stop a build; warnings do not.

mod finding;
mod journal;

pub use finding::{Finding, Severity};
pub use journal::check_journal;

/// Counts of a list of findings, for the closing line of `diary check`.
pub fn summary(findings: &[Finding]) -> (usize, usize) {
    let errors = findings.iter().filter(|f| f.is_error()).count();
    (errors, findings.len() - errors)
}
