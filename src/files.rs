//! File-system helpers shared by every step: owner-only folders and files for what must
//! stay private (the store of codes and keys, publish manifests, printouts), written
//! atomically so a crash leaves either the old file or the new one.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Creates `dir` (and its parents) if needed and makes it owner-only (0700).
pub(crate) fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .permissions()
            .mode();
        if mode & 0o777 != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot restrict {} to its owner", dir.display()))?;
        }
    }
    Ok(())
}

/// Writes `path` atomically, readable and writable by its owner only (0600), in an
/// owner-only folder. The bytes go to a new temporary file with a random name (created
/// exclusively, mode 0600 from the start: never a file left behind by someone else), which
/// is synced and then renamed over `path`.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    private_dir(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The permission bits of `path` when its group or others may read, write or enter it
/// (`None` when it is owner-only, missing, or on a system without Unix modes).
pub(crate) fn exposed_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The warning for a file or folder of the private store that others may read.
pub(crate) fn exposure_message(path: &Path, mode: u32) -> String {
    format!(
        "{} can be read by other users of this machine (mode {mode:o}); the private store \
         holds every access code: `chmod 700` the folder and `chmod 600` its files",
        path.display()
    )
}

/// Warnings for an owner-only folder (the private store) or a file in it that others may
/// read (for `diary check`).
pub(crate) fn exposure(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if !dir.exists() {
        return out;
    }
    let mut paths = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut files: Vec<std::path::PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        paths.extend(files);
    }
    for p in paths {
        if let Some(mode) = exposed_mode(&p) {
            out.push(exposure_message(&p, mode));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_whatever_was_there() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A world-readable file where the new one goes, and a leftover temporary file.
        let path = dir.join("store.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(dir.join("store.json.tmp"), "left").unwrap();
        std::fs::set_permissions(
            dir.join("store.json.tmp"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert_eq!(exposed_mode(&path), Some(0o644));
        write_private(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(exposed_mode(&path), None);
        assert_eq!(exposed_mode(&dir), None);
    }
}
