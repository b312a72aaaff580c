//! The change under review: what a promotion brings into its target environment, as read
//! from the source repository (the commits between the revision the target holds and the
//! gate's), who wrote it, and what the approval issue says of it. With the pipeline's
//! `excludeChangeAuthors`, the authors and committers of those commits (by GitHub account
//! id) cannot approve; a change that cannot be read whole then holds the gate.
//!
//! Pure: builds on what was read.

use std::collections::BTreeMap;

use crate::github::change::{ChangeCommit, Comparison, PullRef};
use crate::xr::change::Change;
use crate::xr::change::ChangeStatus;

/// GitHub's own committer of commits made in its web interface (merges, edits), on
/// GitHub.com: it names no person, so it excludes nobody. Known by login and id together
/// (on GitHub Enterprise Server the account of that id is someone else, and its own
/// web committer, another id, excludes only itself).
pub const WEB_FLOW: (&str, u64) = ("web-flow", 19_864_447);

/// The most commits the approval issue lists; the rest are counted.
pub const LISTED: usize = 250;

/// The change as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeView {
    /// The source repository, `owner/name`.
    pub repository: String,
    /// The revision the target holds, when it holds one from a gate that named it.
    pub base: Option<String>,
    /// The gate's revision.
    pub head: String,
    /// The commits the promotion brings (or, when it goes back, takes out), oldest first,
    /// as many as were read.
    pub commits: Vec<ChangeCommit>,
    /// How many there are in all.
    pub total: u64,
    /// The head is behind the base: a rollback, whose commits are taken out.
    pub taken_out: bool,
    /// Commits the target holds that the head has not (a head that diverged from the
    /// base): the promotion takes them out too.
    pub dropped: u64,
    /// The pull requests the listed commits came from, by sha (as far as GitHub said).
    pub pulls: BTreeMap<String, Vec<PullRef>>,
}

/// What was read of a gate's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeRead {
    /// Read.
    Read(ChangeView),
    /// GitHub could not say (the revision unknown, the compare failed or timed out): why.
    Unreadable(String),
}

impl ChangeView {
    /// The change of `change` from `base` as GitHub compared them (`base...head`; for a
    /// head behind its base, `back` is `head...base`, the commits taken out).
    pub fn compared(
        change: &Change,
        base: &str,
        comparison: Comparison,
        back: Option<Comparison>,
    ) -> ChangeView {
        let dropped = comparison.behind_by;
        let (commits, total, taken_out, dropped) = match back {
            Some(back) => (back.commits, back.ahead_by, true, 0),
            None => (comparison.commits, comparison.ahead_by, false, dropped),
        };
        ChangeView {
            repository: change.repository.clone(),
            base: Some(base.to_owned()),
            head: change.revision.clone(),
            commits,
            total,
            taken_out,
            dropped,
            pulls: BTreeMap::new(),
        }
    }

    /// The change of a target that holds no revision: the head's own commit.
    pub fn single(change: &Change, commit: ChangeCommit) -> ChangeView {
        ChangeView {
            repository: change.repository.clone(),
            base: None,
            head: change.revision.clone(),
            commits: vec![commit],
            total: 1,
            taken_out: false,
            dropped: 0,
            pulls: BTreeMap::new(),
        }
    }

    /// Whether every commit was read.
    pub fn whole(&self) -> bool {
        self.commits.len() as u64 >= self.total
    }

    /// The GitHub accounts of the commits' authors and committers, by id (GitHub's web
    /// committer left out): who cannot approve when authors are excluded.
    pub fn people(&self) -> BTreeMap<u64, String> {
        self.commits
            .iter()
            .flat_map(|c| c.author.iter().chain(c.committer.iter()))
            .filter(|a| !(a.id == WEB_FLOW.1 && a.login.eq_ignore_ascii_case(WEB_FLOW.0)))
            .map(|a| (a.id, a.login.clone()))
            .collect()
    }

    /// The authors' logins, sorted, for the status.
    pub fn authors(&self) -> Vec<String> {
        let mut logins: Vec<String> = self.people().into_values().collect();
        logins.sort_by_key(|l| l.to_ascii_lowercase());
        logins.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        logins
    }

    /// The commits without a GitHub account for their author.
    pub fn unlinked(&self) -> usize {
        self.commits.iter().filter(|c| c.author.is_none()).count()
    }
}

impl ChangeRead {
    /// What the status says of it: of `named` (the gate's change) from `base` (what the
    /// target holds).
    pub fn status(&self, named: &Change, base: Option<&str>) -> ChangeStatus {
        match self {
            ChangeRead::Read(view) => ChangeStatus {
                repository: view.repository.clone(),
                base: view.base.clone(),
                head: view.head.clone(),
                commits: Some(view.total),
                authors: view.authors(),
                unreadable: None,
            },
            ChangeRead::Unreadable(why) => ChangeStatus {
                repository: named.repository.clone(),
                base: base.map(str::to_owned),
                head: named.revision.clone(),
                commits: None,
                authors: Vec::new(),
                unreadable: Some(why.clone()),
            },
        }
    }

    /// The change, when it was read whole; else why it cannot be relied on.
    pub fn whole(&self) -> Result<&ChangeView, String> {
        match self {
            ChangeRead::Read(view) if view.whole() => Ok(view),
            ChangeRead::Read(view) => Err(format!(
                "the change has {} commits, more than the {} the function reads",
                view.total,
                view.commits.len()
            )),
            ChangeRead::Unreadable(why) => Err(why.clone()),
        }
    }
}

/// The first 12 characters of a sha.
pub fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
