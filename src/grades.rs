//! Grades (placeholder, being written).
