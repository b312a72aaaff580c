//! The change under review, as GitHub's REST API gives it: the commits between two
//! revisions of a source repository (the compare API, one conditional request per page
//! of 100), or one commit. Read with the source repository's own client.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Deserialize;

use super::Result;

/// The most commits one comparison reads (GitHub's compare API pages its commits).
pub const MAX_CHANGE_COMMITS: usize = 1_000;

/// A GitHub account a commit is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its login.
    pub login: String,
    /// Its numeric id (which a rename keeps).
    pub id: u64,
}

/// One commit of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeCommit {
    /// The full sha.
    pub sha: String,
    /// The first line of its message.
    pub title: String,
    /// Its page on GitHub.
    pub html_url: String,
    /// The author's name as git records it.
    pub author_name: String,
    /// The GitHub account of its author, when GitHub links one.
    pub author: Option<Account>,
    /// The GitHub account of its committer, when GitHub links one.
    pub committer: Option<Account>,
}

/// A pull request a commit came from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRef {
    /// Its number.
    pub number: u64,
    /// Its page on GitHub.
    pub url: String,
    /// Its title.
    pub title: String,
}

/// `base...head` as GitHub compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// `ahead`, `behind`, `identical` or `diverged`.
    pub status: String,
    /// Commits in head and not in base.
    pub ahead_by: u64,
    /// Commits in base and not in head.
    pub behind_by: u64,
    /// The commits in head and not in base, oldest first, as many as were read (at most
    /// the limit asked for).
    pub commits: Vec<ChangeCommit>,
}

/// Reads of a source repository's history.
#[async_trait]
pub trait Changes: Send + Sync {
    /// `base...head`, its commits read a page at a time up to `max_commits`; `None` when
    /// either revision is unknown to GitHub (404).
    async fn compare(
        &self,
        base: &str,
        head: &str,
        max_commits: usize,
    ) -> Result<Option<Comparison>>;

    /// One commit; `None` when GitHub does not know the repository (a sha it has no
    /// commit of is an error, 422).
    async fn commit(&self, sha: &str) -> Result<Option<ChangeCommit>>;

    /// The pull requests each of `shas` came from, as far as GitHub links them (GraphQL,
    /// one query per 100 commits); commits without any are left out.
    async fn pull_requests(&self, shas: &[String]) -> Result<BTreeMap<String, Vec<PullRef>>>;
}
