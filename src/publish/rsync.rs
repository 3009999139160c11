//! `kind = "rsync"`: a folder on another host (or a local one), through the system `rsync`
//! over ssh: `rsync -rlt --checksum --delete-after --delay-updates`.
//!
//! `--checksum` sends a file only when its bytes differ (a build gives unchanged files new
//! times, so comparing times would resend everything); `--delay-updates` puts every changed
//! file in place at the end of the transfer, in one quick pass, and `--delete-after`
//! removes what the site no longer has only after that, so the window in which a reader
//! can meet a mix of two builds is as short as rsync can make it.

use std::process::Command;

use anyhow::{Context, Result};

use super::{
    Diaries, Guard, Published, Snapshot, Target, own_process_group, program_error, run_command,
};
use crate::config::{RsyncTarget, Site};

impl Target for RsyncTarget {
    fn place(&self, _site: &Site) -> String {
        self.dest.clone()
    }

    fn publish(
        &self,
        site: &Site,
        _name: &str,
        snap: &Snapshot,
        guard: &Guard,
    ) -> Result<Published> {
        publish(site, self, snap, guard)
    }
}

fn publish(site: &Site, target: &RsyncTarget, snap: &Snapshot, guard: &Guard) -> Result<Published> {
    let dest = target.dest.as_str();
    let remote = is_remote(dest);
    let dest = if remote {
        dest.to_string()
    } else {
        // A local folder, relative to the site folder; rsync makes the last level.
        let mut d = site.root.join(dest).display().to_string();
        if !d.ends_with('/') {
            d.push('/');
        }
        d
    };
    let ssh = target.ssh.as_deref().unwrap_or("ssh -o BatchMode=yes");
    guard.check(&served(&dest, remote.then_some(ssh))?)?;
    let mut cmd = Command::new("rsync");
    cmd.args([
        "-rlt",
        "--checksum",
        "--delete-after",
        "--delay-updates",
        "--itemize-changes",
    ]);
    if remote {
        // Never wait for a password in cron: keys only.
        cmd.arg("-e").arg(ssh);
    }
    let mut source = snap.root.display().to_string();
    if !source.ends_with('/') {
        source.push('/');
    }
    cmd.arg(&source).arg(&dest);
    let output = run_command(&mut cmd, "rsync")?;
    snap.check_unchanged()?;
    let (uploaded, deleted) = count_changes(&String::from_utf8_lossy(&output.stdout));
    Ok(Published {
        uploaded,
        deleted,
        unchanged: snap.files.len().saturating_sub(uploaded),
    })
}

/// What the destination serves of the diaries: the files under `diary/` (listed by rsync
/// itself, so this works over ssh too) and its `params.json`. A destination without a
/// `diary/` folder serves none.
fn served(dest: &str, ssh: Option<&str>) -> Result<Diaries> {
    let base = if dest.ends_with(':') || dest.ends_with('/') {
        dest.to_string()
    } else {
        format!("{dest}/")
    };
    let rsync = |args: &[&str]| {
        let mut cmd = Command::new("rsync");
        if let Some(ssh) = ssh {
            cmd.arg("-e").arg(ssh);
        }
        cmd.args(args);
        own_process_group(&mut cmd);
        cmd.output().map_err(|e| program_error(e, "rsync"))
    };
    let listing = rsync(&["-r", "--list-only", &format!("{base}diary/")])?;
    if !listing.status.success() {
        let stderr = String::from_utf8_lossy(&listing.stderr);
        if stderr.contains("No such file or directory") {
            return Ok(Diaries::default());
        }
        anyhow::bail!(
            "cannot list {base}diary/ with rsync ({}): {}",
            listing.status,
            stderr.trim()
        );
    }
    let paths: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().last())
        .map(|p| format!("diary/{p}"))
        .collect();
    let mut diaries = Diaries::count(paths.iter().map(String::as_str));
    if paths.iter().any(|p| p == "diary/params.json") {
        let tmp = tempfile::tempdir().context("cannot make a temporary folder")?;
        let local = tmp.path().join("params.json");
        let got = rsync(&[
            &format!("{base}diary/params.json"),
            &local.display().to_string(),
        ])?;
        if got.status.success() {
            diaries = diaries.with_params(std::fs::read(&local).ok().as_deref());
        }
    }
    Ok(diaries)
}

/// `host:path` or `user@host:path` or `rsync://…` (a colon before any slash).
fn is_remote(dest: &str) -> bool {
    if dest.starts_with("rsync://") {
        return true;
    }
    match (dest.find(':'), dest.find('/')) {
        (Some(colon), Some(slash)) => colon < slash,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Files sent and files deleted, from rsync's `--itemize-changes` lines: `<f…` / `>f…`
/// for a file transferred, `*deleting path` for a deletion (folders end in `/`).
fn count_changes(itemized: &str) -> (usize, usize) {
    let mut sent = 0;
    let mut deleted = 0;
    for line in itemized.lines() {
        if let Some(path) = line.strip_prefix("*deleting ") {
            if !path.trim_end().ends_with('/') {
                deleted += 1;
            }
        } else {
            let mut chars = line.chars();
            if matches!(chars.next(), Some('<' | '>')) && chars.next() == Some('f') {
                sent += 1;
            }
        }
    }
    (sent, deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_or_local() {
        assert!(is_remote("diary@web:/var/www/diary/"));
        assert!(is_remote("web:diary"));
        assert!(is_remote("rsync://web/diary"));
        assert!(!is_remote("/var/www/diary"));
        assert!(!is_remote("../www"));
        assert!(!is_remote("./a:b"));
    }

    #[test]
    fn counts_itemized_changes() {
        let out = "cd+++++++++ classes/\n>f+++++++++ classes/index.html\n\
                   >fcs.t...... index.html\n.f..t...... robots.txt\n\
                   *deleting   old/page.html\n*deleting   old/\n<f+++++++++ feed.xml\n";
        assert_eq!(count_changes(out), (3, 1));
    }
}
