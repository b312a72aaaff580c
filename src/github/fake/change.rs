//! The fake's source repository: one line of commits, compared as GitHub's compare API
//! does (`base...head`: the commits after base up to head; a head behind its base is
//! `behind`, with no commits), and read one at a time.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{Call, FakeGitHub};
use crate::github::change::{Account, ChangeCommit, Changes, Comparison, PullRef};
use crate::github::{GitHubError, Result};

/// The sha of the `n`-th commit of the fake's history (from 0): `0c0ffee` and `n`, then `a`s.
pub fn fake_sha(n: usize) -> String {
    format!(
        "{:012x}{}",
        0x0c0f_fee0_0000_u64 + n as u64 * 0x1001,
        "a".repeat(28)
    )
}

impl FakeGitHub {
    /// Adds a commit to the source repository's history, written by `author` and
    /// committed by `committer` (GitHub logins, `None` for an author GitHub links to no
    /// account). Returns its sha.
    pub fn push_commit(
        &self,
        title: &str,
        author: Option<&str>,
        committer: Option<&str>,
    ) -> String {
        let mut s = self.lock();
        let sha = fake_sha(s.history.len());
        let account = |login: Option<&str>| {
            login.map(|l| Account {
                login: l.to_owned(),
                id: s.id_of(l),
            })
        };
        let commit = ChangeCommit {
            html_url: format!("https://github.example/source/commit/{sha}"),
            title: title.lines().next().unwrap_or_default().to_owned(),
            author_name: author.unwrap_or("Someone Offline").to_owned(),
            author: account(author),
            committer: account(committer),
            sha: sha.clone(),
        };
        s.history.push(commit);
        sha
    }

    /// Records that commit `sha` came from pull request `number`, titled `title`.
    pub fn merge_pull_request(&self, sha: &str, number: u64, title: &str) {
        self.lock()
            .pulls
            .entry(sha.to_owned())
            .or_default()
            .push(PullRef {
                number,
                url: format!("https://github.example/source/pull/{number}"),
                title: title.to_owned(),
            });
    }

    /// Makes reads of the source repository fail with `error` (or succeed again).
    pub fn fail_changes(&self, error: Option<GitHubError>) {
        self.lock().change_fault = error;
    }

    fn enter_changes(&self, call: Call) -> Result<std::sync::MutexGuard<'_, super::State>> {
        let s = self.enter(call)?;
        match s.change_fault.clone() {
            Some(e) => Err(e),
            None => Ok(s),
        }
    }
}

#[async_trait]
impl Changes for FakeGitHub {
    async fn compare(
        &self,
        base: &str,
        head: &str,
        max_commits: usize,
    ) -> Result<Option<Comparison>> {
        let s = self.enter_changes(Call::Compare(base.to_owned(), head.to_owned()))?;
        let at = |sha: &str| s.history.iter().position(|c| c.sha == sha);
        let (Some(from), Some(to)) = (at(base), at(head)) else {
            return Ok(None);
        };
        let (status, ahead, behind) = match to.cmp(&from) {
            std::cmp::Ordering::Equal => ("identical", 0, 0),
            std::cmp::Ordering::Greater => ("ahead", to - from, 0),
            std::cmp::Ordering::Less => ("behind", 0, from - to),
        };
        Ok(Some(Comparison {
            status: status.to_owned(),
            ahead_by: ahead as u64,
            behind_by: behind as u64,
            commits: s.history[from + 1..=to.max(from)]
                .iter()
                .take(max_commits)
                .cloned()
                .collect(),
        }))
    }

    async fn commit(&self, sha: &str) -> Result<Option<ChangeCommit>> {
        let s = self.enter_changes(Call::Commit(sha.to_owned()))?;
        Ok(s.history.iter().find(|c| c.sha == sha).cloned())
    }

    async fn pull_requests(&self, shas: &[String]) -> Result<BTreeMap<String, Vec<PullRef>>> {
        let s = self.enter_changes(Call::PullRequests(shas.len()))?;
        Ok(shas
            .iter()
            .filter_map(|sha| s.pulls.get(sha).map(|p| (sha.clone(), p.clone())))
            .collect())
    }
}
