//! Printouts. They hold children's data, so they go to the private `print/` folder (never
//! into the output) through [`write_private`], which writes the whole file or nothing.

mod attention;
mod class_report;
mod command;
mod data;
mod diaries;
mod family;
mod fit;
mod journal;
mod pdf;
mod report;
mod slips;
mod summary;

pub(crate) use command::{PrintCommand, run};
pub(crate) use slips::code_slips;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes a printout atomically into the print folder, readable by its owner only.
pub(crate) fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir.join(name);
    crate::files::write_private(&path, bytes)?;
    Ok(path)
}

/// Writes a folder of printouts into the print folder as a whole: the files go into a
/// temporary folder first, which then replaces the previous folder of that name (so no file
/// of a pupil who left stays behind, and a failed write leaves the previous folder as it
/// was). The folder is readable by its owner only, and so is every file in it.
pub(crate) fn write_private_folder(
    dir: &Path,
    name: &str,
    files: &[(String, String)],
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let old = dir.join(format!(".{name}.old"));
    for leftover in [&tmp, &old] {
        remove_any(leftover)?;
    }
    let write_all = || -> Result<()> {
        std::fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot restrict {}", dir.display()))?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot restrict {}", tmp.display()))?;
        }
        for (file, text) in files {
            let p = tmp.join(file);
            std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(())
    };
    if let Err(e) = write_all() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if path.exists() {
        std::fs::rename(&path, &old)
            .with_context(|| format!("cannot replace {}", path.display()))?;
    }
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::rename(&old, &path);
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    remove_any(&old)?;
    Ok(path)
}

/// Removes a file or a folder, if there is one.
fn remove_any(path: &Path) -> Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    removed.with_context(|| format!("cannot remove {}", path.display()))
}
