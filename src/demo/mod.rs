//! The demo school generator (placeholder, being written).
