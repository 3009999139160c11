//! CSV import (placeholder, being written).
