//! `kind = "git"`: commit the built site to a branch (GitHub Pages, GitLab Pages…) with the
//! system `git`, and push it.
//!
//! The private store holds a bare repository per target (`.diary/git-NAME/`) whose work
//! tree is the output folder itself, so nothing is copied: `git add` reads `public/`, a
//! `.nojekyll` file (and `CNAME` if set) is added to the index only, and `git commit-tree`
//! makes a commit on top of the branch's tip, fetched shallowly. When the tree equals the
//! tip's tree nothing is committed or pushed. The push is a fast-forward: if someone else
//! pushed to the branch in the meantime it is refused, and the next publish builds on theirs.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::{Diaries, Guard, Published, Snapshot, Target, run_command};
use crate::config::{GitTarget, Site};
use crate::files::private_dir;

impl Target for GitTarget {
    fn place(&self, _site: &Site) -> String {
        format!("{} {}", self.repo, self.branch())
    }

    fn publish(
        &self,
        site: &Site,
        name: &str,
        snap: &Snapshot,
        guard: &Guard,
    ) -> Result<Published> {
        publish(site, name, self, snap, guard)
    }
}

fn publish(
    site: &Site,
    name: &str,
    target: &GitTarget,
    snap: &Snapshot,
    guard: &Guard,
) -> Result<Published> {
    let repo = target.repo.as_str();
    let url = repo_url(&site.root, repo)?;
    let branch = target.branch();
    let store = site.store_path();
    private_dir(&store)?;
    let git_dir = store.join(format!("git-{name}"));
    let git_dir = if git_dir.is_absolute() {
        git_dir
    } else {
        std::env::current_dir()?.join(git_dir)
    };
    let work_tree = if snap.root.is_absolute() {
        snap.root.clone()
    } else {
        std::env::current_dir()?.join(&snap.root)
    };
    let git = Git {
        git_dir: &git_dir,
        work_tree: &work_tree,
    };
    if !git_dir.join("HEAD").exists() {
        run_command(
            Command::new("git")
                .args(["init", "--quiet", "--bare"])
                .arg(&git_dir),
            "git",
        )?;
    }
    git.run(&["config", "remote.origin.url", &url])?;

    // The branch's tip on the remote, fetched when this clone lacks it.
    let heads = git
        .run(&[
            "ls-remote",
            "--heads",
            "origin",
            &format!("refs/heads/{branch}"),
        ])
        .with_context(|| format!("cannot reach the repository {url}"))?;
    let parent = heads
        .split_whitespace()
        .next()
        .map(str::to_string)
        .filter(|s| !s.is_empty());
    if let Some(tip) = &parent
        && git
            .run(&["cat-file", "-e", &format!("{tip}^{{commit}}")])
            .is_err()
    {
        git.run(&[
            "fetch",
            "--quiet",
            "--depth=1",
            "origin",
            &format!("+refs/heads/{branch}:refs/remotes/origin/{branch}"),
        ])?;
    }

    // What the branch serves of the diaries, before anything changes.
    if let Some(tip) = &parent {
        let listing = git.run(&["ls-tree", "-r", "--name-only", tip, "--", "diary/"])?;
        let params = git
            .run(&["cat-file", "blob", &format!("{tip}:diary/params.json")])
            .ok();
        guard.check(
            &Diaries::count(listing.lines()).with_params(params.as_deref().map(str::as_bytes)),
        )?;
    }

    // The index: the output folder, plus .nojekyll (and CNAME).
    let index = git_dir.join("diary-index");
    let _ = std::fs::remove_file(&index);
    git.run_in_tree(&index, &["add", "--all", "--force", "."])?;
    let mut extra = vec![(".nojekyll".to_string(), String::new())];
    if let Some(cname) = &target.cname {
        extra.push(("CNAME".to_string(), format!("{}\n", cname.trim())));
    }
    for (path, content) in extra {
        let blob = git.hash_object(&content)?;
        git.run_in_tree(
            &index,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("100644,{blob},{path}"),
            ],
        )?;
    }
    let tree = git.run_in_tree(&index, &["write-tree"])?.trim().to_string();
    let total = git
        .run_in_tree(&index, &["ls-files"])?
        .lines()
        .filter(|l| !l.is_empty())
        .count();

    let (uploaded, deleted) = match &parent {
        Some(tip) => {
            let old_tree = git.run(&["rev-parse", &format!("{tip}^{{tree}}")])?;
            let old_tree = old_tree.trim();
            if old_tree == tree {
                return Ok(Published {
                    uploaded: 0,
                    deleted: 0,
                    unchanged: total,
                });
            }
            let diff = git.run(&[
                "diff-tree",
                "-r",
                "--no-renames",
                "--name-status",
                old_tree,
                &tree,
            ])?;
            let mut uploaded = 0;
            let mut deleted = 0;
            for line in diff.lines() {
                match line.chars().next() {
                    Some('D') => deleted += 1,
                    Some('A' | 'M' | 'T') => uploaded += 1,
                    _ => {}
                }
            }
            (uploaded, deleted)
        }
        None => (total, 0),
    };

    snap.check_unchanged()?;
    let message =
        format!("Publish the diary site: {uploaded} file(s) new or changed, {deleted} removed");
    let mut args = vec!["commit-tree", tree.as_str(), "-m", message.as_str()];
    if let Some(tip) = &parent {
        args.extend(["-p", tip.as_str()]);
    }
    let commit = git.commit(&args)?.trim().to_string();
    git.run(&[
        "push",
        "--quiet",
        "origin",
        &format!("{commit}:refs/heads/{branch}"),
    ])
    .with_context(|| format!("cannot push to {branch} of {url}"))?;
    git.run(&[
        "update-ref",
        &format!("refs/remotes/origin/{branch}"),
        &commit,
    ])?;
    Ok(Published {
        uploaded,
        deleted,
        unchanged: total.saturating_sub(uploaded),
    })
}

/// A URL (`https://…`, `ssh://…`, `git@host:path`) as is; anything else is a path
/// relative to the site folder.
fn repo_url(root: &Path, repo: &str) -> Result<String> {
    let scp_like = match (repo.find(':'), repo.find('/')) {
        (Some(colon), Some(slash)) => colon < slash && colon > 1,
        (Some(colon), None) => colon > 1,
        _ => false,
    };
    if repo.contains("://") || scp_like {
        return Ok(repo.to_string());
    }
    let path = root.join(repo);
    let path = if path.is_absolute() {
        path
    } else {
        std::env::current_dir()?.join(path)
    };
    if !path.exists() {
        bail!(
            "the repository {} does not exist (make it with `git init --bare {}`, or give a URL)",
            path.display(),
            path.display()
        );
    }
    Ok(path.display().to_string())
}

struct Git<'a> {
    git_dir: &'a Path,
    work_tree: &'a Path,
}

impl Git<'_> {
    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(self.git_dir)
            .args(["-c", "core.autocrlf=false", "-c", "core.safecrlf=false"])
            // Never wait for a password in cron: keys or a credential helper only.
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_SSH_COMMAND", ssh_command())
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE");
        cmd
    }

    fn run(&self, args: &[&str]) -> Result<String> {
        let out = run_command(self.command().args(args), "git")?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs with the output folder as the work tree and `index` as the index.
    fn run_in_tree(&self, index: &Path, args: &[&str]) -> Result<String> {
        let mut cmd = self.command();
        cmd.arg("--work-tree")
            .arg(self.work_tree)
            .env("GIT_INDEX_FILE", index)
            .current_dir(self.work_tree)
            .args(args);
        let out = run_command(&mut cmd, "git")?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn hash_object(&self, content: &str) -> Result<String> {
        use std::io::Write;
        let mut cmd = self.command();
        cmd.args(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        super::own_process_group(&mut cmd);
        let mut child = cmd.spawn().context("cannot run `git`")?;
        child
            .stdin
            .take()
            .context("no stdin")?
            .write_all(content.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "`git hash-object` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `git commit-tree`, as the configured user, else as "diary".
    fn commit(&self, args: &[&str]) -> Result<String> {
        let mut cmd = self.command();
        let has_identity = self.run(&["config", "user.email"]).is_ok()
            || std::env::var_os("GIT_COMMITTER_EMAIL").is_some();
        if !has_identity {
            cmd.args(["-c", "user.name=diary", "-c", "user.email=diary@localhost"]);
        }
        let out = run_command(cmd.args(args), "git")?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// ssh for git: the user's GIT_SSH_COMMAND, else ssh that never prompts.
fn ssh_command() -> String {
    std::env::var("GIT_SSH_COMMAND").unwrap_or_else(|_| "ssh -o BatchMode=yes".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        let root = Path::new("/srv/school");
        for url in [
            "https://github.com/school39/diary.git",
            "git@github.com:school39/diary.git",
            "ssh://git@gitlab.com/school39/diary.git",
        ] {
            assert_eq!(repo_url(root, url).unwrap(), url);
        }
        let err = repo_url(root, "../diary-pages").unwrap_err().to_string();
        assert!(err.contains("/srv/school/../diary-pages"), "{err}");
    }
}
