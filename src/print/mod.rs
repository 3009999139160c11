//! Printouts. They hold children's data, so they go to the private `print/` folder (never
//! into the output) through [`write_private`], which writes the whole file or nothing.

mod command;
mod data;
mod family;
mod fit;
mod pdf;
mod report;
mod slips;
mod summary;

pub use command::{PrintCommand, run};
pub use pdf::{CHROMIUM_ENV, find_chromium, html_to_pdf};
pub use slips::code_slips;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes a printout atomically into the print folder, readable by its owner only.
pub fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
    }
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
