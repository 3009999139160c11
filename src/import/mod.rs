//! Importers that write the journal.

pub mod csv;
pub mod oneroster;
