//! Rate limits honoured across calls and gates. Once GitHub answers a set of
//! credentials with a rate limit and a time to wait (`Retry-After`, or the reset of an
//! exhausted quota), nothing is sent with those credentials before that time: every
//! operation answers [`GitHubError::RateLimited`] with the time left, and each gate
//! backs off through its TTL. Limits belong to the credentials, not to a gate, and
//! Crossplane calls again on any change of the XR, so a per-call TTL alone would keep
//! asking; a request sent during a secondary rate limit only prolongs it.
//!
//! Wraps any [`Connector`]. Keeps one deadline per credentials, keyed by a hash (never
//! the secret itself); does no I/O of its own and never sleeps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::{
    CloseReason, Comment, Connector, Credentials, GitHub, GitHubError, Issue, NewIssue, Result,
    Target,
};
use crate::input::Permission;

type Deadlines = Arc<Mutex<HashMap<String, Instant>>>;

/// A [`Connector`] that stops sending while GitHub asked the credentials to wait.
pub struct BackoffConnector {
    inner: Arc<dyn Connector>,
    until: Deadlines,
}

impl BackoffConnector {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Connector>) -> Self {
        BackoffConnector {
            inner,
            until: Deadlines::default(),
        }
    }
}

/// What a rate limit applies to: the credentials at an API root (for an App, per
/// account, as its installations are).
fn key(target: &Target, credentials: &Credentials) -> String {
    let mut hash = Sha256::new();
    hash.update(target.api_url.trim_end_matches('/').as_bytes());
    match credentials {
        Credentials::Token(token) => {
            hash.update(b"\0token\0");
            hash.update(token.expose().as_bytes());
        }
        Credentials::App {
            app_id,
            private_key,
            installation_id,
        } => {
            hash.update(format!("\0app\0{app_id}\0{installation_id:?}\0").as_bytes());
            hash.update(target.owner.to_ascii_lowercase().as_bytes());
            hash.update(b"\0");
            hash.update(private_key.expose().as_bytes());
        }
    }
    hash.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks and records the deadline of one set of credentials.
#[derive(Clone)]
struct Limit {
    key: String,
    until: Deadlines,
}

impl Limit {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        // A panic while holding the lock leaves only deadlines behind: keep using them.
        self.until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `RateLimited` with the time left, while the deadline lasts.
    fn check(&self) -> Result<()> {
        let mut until = self.lock();
        let Some(deadline) = until.get(&self.key).copied() else {
            return Ok(());
        };
        let now = Instant::now();
        if deadline <= now {
            until.remove(&self.key);
            return Ok(());
        }
        let left = deadline - now;
        // Whole seconds, rounded up, so the TTL never comes back before the limit ends.
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        Err(GitHubError::RateLimited {
            retry_after: Some(Duration::from_secs(secs)),
        })
    }

    /// Records the wait a rate limit asked for.
    fn note<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result
            && let Some(wait) = e.retry_after()
        {
            self.lock().insert(self.key.clone(), Instant::now() + wait);
        }
        result
    }
}

#[async_trait]
impl Connector for BackoffConnector {
    async fn connect(&self, target: &Target, credentials: &Credentials) -> Result<Arc<dyn GitHub>> {
        let limit = Limit {
            key: key(target, credentials),
            until: self.until.clone(),
        };
        // Connecting an App asks GitHub for an installation token.
        limit.check()?;
        let inner = limit.note(self.inner.connect(target, credentials).await)?;
        Ok(Arc::new(HeldBack { inner, limit }))
    }
}

/// A [`GitHub`] whose every operation waits out its credentials' rate limit.
struct HeldBack {
    inner: Arc<dyn GitHub>,
    limit: Limit,
}

#[async_trait]
impl GitHub for HeldBack {
    async fn identity(&self) -> Result<String> {
        self.limit.check()?;
        self.limit.note(self.inner.identity().await)
    }

    async fn list_labelled_issues(&self, label: &str) -> Result<Vec<Issue>> {
        self.limit.check()?;
        self.limit
            .note(self.inner.list_labelled_issues(label).await)
    }

    async fn get_issue(&self, number: u64) -> Result<Option<Issue>> {
        self.limit.check()?;
        self.limit.note(self.inner.get_issue(number).await)
    }

    async fn open_issue(&self, issue: &NewIssue) -> Result<Issue> {
        self.limit.check()?;
        self.limit.note(self.inner.open_issue(issue).await)
    }

    async fn list_comments(&self, number: u64) -> Result<Vec<Comment>> {
        self.limit.check()?;
        self.limit.note(self.inner.list_comments(number).await)
    }

    async fn add_comment(&self, number: u64, body: &str) -> Result<()> {
        self.limit.check()?;
        self.limit.note(self.inner.add_comment(number, body).await)
    }

    async fn close_issue(&self, number: u64, reason: CloseReason) -> Result<()> {
        self.limit.check()?;
        self.limit
            .note(self.inner.close_issue(number, reason).await)
    }

    async fn reopen_issue(&self, number: u64) -> Result<()> {
        self.limit.check()?;
        self.limit.note(self.inner.reopen_issue(number).await)
    }

    async fn is_team_member(&self, org: &str, team_slug: &str, login: &str) -> Result<bool> {
        self.limit.check()?;
        self.limit
            .note(self.inner.is_team_member(org, team_slug, login).await)
    }

    async fn permission(&self, login: &str) -> Result<Option<Permission>> {
        self.limit.check()?;
        self.limit.note(self.inner.permission(login).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::Secret;
    use crate::github::fake::{Call, FakeConnector, FakeGitHub};

    fn target() -> Target {
        Target {
            api_url: "https://api.github.com".into(),
            owner: "acme".into(),
            repo: "approvals".into(),
        }
    }

    fn token(value: &str) -> Credentials {
        Credentials::Token(Secret::new(value))
    }

    fn limited(secs: u64) -> GitHubError {
        GitHubError::RateLimited {
            retry_after: Some(Duration::from_secs(secs)),
        }
    }

    #[tokio::test]
    async fn nothing_is_sent_with_rate_limited_credentials_until_github_said() {
        let fake = FakeGitHub::default();
        let connector = BackoffConnector::new(Arc::new(FakeConnector::new(fake.clone())));
        let first = connector.connect(&target(), &token("a")).await.unwrap();
        fake.fail_with(Some(limited(45)));
        assert_eq!(first.get_issue(1).await.unwrap_err(), limited(45));
        fake.fail_with(None);
        fake.clear_calls();

        // Another operation, and another gate connecting with the same credentials.
        let err = first.list_comments(1).await.unwrap_err();
        let connected = connector.connect(&target(), &token("a")).await.err();

        let left = err.retry_after().expect("the time left").as_secs();
        assert!((44..=45).contains(&left), "{left}");
        assert_eq!(connected.map(|e| e.reason()), Some("RateLimited"));
        assert_eq!(fake.calls(), vec![]);
    }

    #[tokio::test]
    async fn other_credentials_are_not_held_back() {
        let fake = FakeGitHub::default();
        let connector = BackoffConnector::new(Arc::new(FakeConnector::new(fake.clone())));
        let first = connector.connect(&target(), &token("a")).await.unwrap();
        fake.fail_with(Some(limited(45)));
        first.identity().await.unwrap_err();
        fake.fail_with(None);
        fake.clear_calls();

        let other = connector.connect(&target(), &token("b")).await.unwrap();

        assert_eq!(other.identity().await.unwrap(), "release-bot");
        assert_eq!(fake.calls(), vec![Call::Identity]);
    }

    #[tokio::test]
    async fn a_rate_limit_without_a_wait_or_a_wait_that_ended_holds_nothing_back() {
        let fake = FakeGitHub::default();
        let connector = BackoffConnector::new(Arc::new(FakeConnector::new(fake.clone())));
        let github = connector.connect(&target(), &token("a")).await.unwrap();
        for error in [GitHubError::RateLimited { retry_after: None }, limited(0)] {
            fake.fail_with(Some(error));
            github.identity().await.unwrap_err();
            fake.fail_with(None);
            fake.clear_calls();

            assert!(github.identity().await.is_ok());
            assert_eq!(fake.calls(), vec![Call::Identity]);
        }
    }

    #[tokio::test]
    async fn other_faults_hold_nothing_back() {
        let fake = FakeGitHub::default();
        let connector = BackoffConnector::new(Arc::new(FakeConnector::new(fake.clone())));
        let github = connector.connect(&target(), &token("a")).await.unwrap();
        fake.fail_with(Some(GitHubError::Server {
            status: 502,
            message: "bad gateway".into(),
        }));
        github.get_issue(1).await.unwrap_err();
        fake.fail_with(None);

        assert!(github.get_issue(1).await.is_ok());
    }
}
