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

/// What a replica remembers of source repositories, by credentials and repository: a
/// comparison of two shas and a commit never change (a sha names one history), and the
/// pull requests a commit came from rarely do. Each is kept [`CACHE_FOR`]; the cache
/// holds at most [`CACHE_COMMITS`] commits in all, and starts afresh past that. So a
/// pending gate reads its change once an hour, not on every call.
#[derive(Default)]
pub struct ChangeCache {
    state: std::sync::Mutex<CacheState>,
}

/// How long a read of a source repository is remembered.
pub const CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(3600);

/// How long GitHub not knowing a revision is remembered: it may be pushed any moment.
pub const UNKNOWN_FOR: std::time::Duration = std::time::Duration::from_secs(120);

/// When an answer read now is taken as read, so that it is remembered for `keep` only.
fn dated(keep: std::time::Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_sub(CACHE_FOR.saturating_sub(keep))
        .unwrap_or(now)
}

/// The most commits the cache holds (about 300 bytes each).
pub const CACHE_COMMITS: usize = 50_000;

#[derive(Default)]
struct CacheState {
    comparisons: std::collections::HashMap<String, (std::time::Instant, Option<Comparison>)>,
    commits: std::collections::HashMap<String, (std::time::Instant, Option<ChangeCommit>)>,
    pulls: std::collections::HashMap<String, (std::time::Instant, Vec<PullRef>)>,
    held: usize,
}

impl CacheState {
    fn hold(&mut self, commits: usize) {
        self.held += commits;
        if self.held > CACHE_COMMITS {
            *self = CacheState::default();
            self.held = commits;
        }
    }
}

fn fresh<T: Clone>(entry: Option<&(std::time::Instant, T)>) -> Option<T> {
    entry
        .filter(|(at, _)| at.elapsed() < CACHE_FOR)
        .map(|(_, v)| v.clone())
}

/// A source repository, read through a client and the replica's [`ChangeCache`].
pub struct Source {
    client: std::sync::Arc<dyn super::GitHub>,
    cache: std::sync::Arc<ChangeCache>,
    /// The credentials' fingerprint and the repository: what one read is remembered under
    /// (an answer read with one credentials is never served to others).
    key: String,
}

impl Source {
    /// `repository` (at `api_url`) through `client` (connected with the credentials whose
    /// fingerprint is `credentials`).
    pub fn new(
        client: std::sync::Arc<dyn super::GitHub>,
        cache: std::sync::Arc<ChangeCache>,
        credentials: &str,
        repository: &str,
    ) -> Source {
        Source {
            client,
            cache,
            key: format!("{credentials}|{}", repository.to_ascii_lowercase()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.cache.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`Changes::compare`], remembered.
    pub async fn compare(
        &self,
        base: &str,
        head: &str,
        max_commits: usize,
    ) -> Result<Option<Comparison>> {
        let key = format!("{}|{base}...{head}|{max_commits}", self.key);
        if let Some(found) = fresh(self.state().comparisons.get(&key)) {
            return Ok(found);
        }
        let read = self.client.compare(base, head, max_commits).await?;
        let mut state = self.state();
        state.hold(read.as_ref().map_or(1, |c| c.commits.len().max(1)));
        let at = dated(if read.is_some() {
            CACHE_FOR
        } else {
            UNKNOWN_FOR
        });
        state.comparisons.insert(key, (at, read.clone()));
        Ok(read)
    }

    /// [`Changes::commit`], remembered.
    pub async fn commit(&self, sha: &str) -> Result<Option<ChangeCommit>> {
        let key = format!("{}|{sha}", self.key);
        if let Some(found) = fresh(self.state().commits.get(&key)) {
            return Ok(found);
        }
        let read = self.client.commit(sha).await?;
        let mut state = self.state();
        state.hold(1);
        let at = dated(if read.is_some() {
            CACHE_FOR
        } else {
            UNKNOWN_FOR
        });
        state.commits.insert(key, (at, read.clone()));
        Ok(read)
    }

    /// [`Changes::pull_requests`], remembered per commit: only commits not remembered are
    /// asked about.
    pub async fn pull_requests(&self, shas: &[String]) -> Result<BTreeMap<String, Vec<PullRef>>> {
        let key = |sha: &str| format!("{}|{sha}", self.key);
        let mut out = BTreeMap::new();
        let mut ask = Vec::new();
        {
            let state = self.state();
            for sha in shas {
                match fresh(state.pulls.get(&key(sha))) {
                    Some(pulls) if pulls.is_empty() => {}
                    Some(pulls) => {
                        out.insert(sha.clone(), pulls);
                    }
                    None => ask.push(sha.clone()),
                }
            }
        }
        if ask.is_empty() {
            return Ok(out);
        }
        let read = self.client.pull_requests(&ask).await?;
        let mut state = self.state();
        state.hold(ask.len());
        let now = std::time::Instant::now();
        for sha in ask {
            let pulls = read.get(&sha).cloned().unwrap_or_default();
            state.pulls.insert(key(&sha), (now, pulls.clone()));
            if !pulls.is_empty() {
                out.insert(sha, pulls);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::github::fake::{Call, FakeGitHub};

    #[tokio::test]
    async fn a_change_is_read_once_per_credentials_and_remembered() {
        let fake = FakeGitHub::new("release-bot");
        let base = fake.push_commit("base", Some("dan"), None);
        let head = fake.push_commit("change", Some("carol"), None);
        fake.merge_pull_request(&head, 7, "Change");
        let cache = Arc::new(ChangeCache::default());
        let source = |credentials: &str| {
            Source::new(
                Arc::new(fake.clone()),
                cache.clone(),
                credentials,
                "Acme/App",
            )
        };
        for _ in 0..3 {
            let read = source("one").compare(&base, &head, 1_000).await.unwrap();
            assert_eq!(read.unwrap().ahead_by, 1);
            let pulls = source("one")
                .pull_requests(std::slice::from_ref(&head))
                .await
                .unwrap();
            assert_eq!(pulls[&head][0].number, 7);
            source("one").commit(&head).await.unwrap();
        }
        let asked = |calls: &[Call]| {
            calls
                .iter()
                .filter(|c| {
                    matches!(
                        c,
                        Call::Compare(..) | Call::PullRequests(_) | Call::Commit(_)
                    )
                })
                .count()
        };
        assert_eq!(asked(&fake.calls()), 3, "one of each: {:?}", fake.calls());
        // Other credentials read for themselves: what one may read is not served to another.
        source("two").compare(&base, &head, 1_000).await.unwrap();
        assert_eq!(asked(&fake.calls()), 4);
        // A failure is not remembered.
        fake.fail_changes(Some(crate::github::GitHubError::Malformed("down".into())));
        assert!(source("three").compare(&base, &head, 1_000).await.is_err());
        fake.fail_changes(None);
        assert!(source("three").compare(&base, &head, 1_000).await.is_ok());
    }
}
