//! GitHub's rate limit, spent as little as possible across calls and gates.
//!
//! - Rate limits are waited out: once GitHub answers a set of credentials with a rate
//!   limit and a time to wait (`Retry-After`, the reset of an exhausted quota, or a
//!   minute for a secondary limit that names none, as GitHub asks), nothing is sent
//!   with those credentials before that time; every operation answers
//!   [`GitHubError::RateLimited`] with the time left, and each gate backs off through
//!   its TTL. Limits belong to the credentials, not to a gate, and Crossplane calls
//!   again on any change of the XR, so a per-call TTL alone would keep asking; a
//!   request sent during a secondary rate limit only prolongs it.
//! - A "no" about an approver is remembered for [`NEGATIVE_TTL`]: GitHub answers a
//!   non-member's team membership (and a non-collaborator's permission) with a 404,
//!   which carries no ETag, so without this every poll of a pending gate on which
//!   someone who may not approve wrote `/approve` would cost rate limit.
//!
//! Wraps any [`Connector`]. Keys by a hash of the credentials (never the secret
//! itself); does no I/O of its own and never sleeps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::credentials::fingerprint;
use super::{
    CloseReason, Comment, CommentChange, CommentPage, Connector, Credentials, Edits, EventPage,
    Feeds, GitHub, GitHubError, Identity, Issue, IssueEvent, IssuePage, IssueReads, NewIssue,
    People, Result, Target, Writes,
};
use crate::input::Permission;

/// The wait after a rate limit that names no time: GitHub asks for at least a minute
/// after a secondary rate limit without `Retry-After`.
pub const UNTIMED_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// How long a negative answer about an approver (not a team member, no permission)
/// is believed. Someone added to a team meanwhile counts at most this much later.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(600);

/// How long a positive answer (a team member, a permission) is believed: someone removed
/// from a team stops counting at most this much later. With both, the lookups a poll
/// sends do not grow with commenters × teams.
pub const POSITIVE_TTL: Duration = Duration::from_secs(300);

type Deadlines = Arc<Mutex<HashMap<String, Instant>>>;
type Answers = Arc<Mutex<HashMap<String, (Instant, Answer)>>>;

/// A remembered approver answer.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Member(bool),
    Permission(Option<Permission>),
    User(Option<u64>),
}

/// A [`Connector`] that waits out rate limits and remembers negative approver answers.
pub struct BudgetConnector {
    inner: Arc<dyn Connector>,
    until: Deadlines,
    answers: Answers,
}

impl BudgetConnector {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Connector>) -> Self {
        BudgetConnector {
            inner,
            until: Deadlines::default(),
            answers: Answers::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves only deadlines and answers behind: keep
    // using them.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a rate limit applies to: the credentials at an API root (for an App, per
/// account, as its installations are).
fn key(target: &Target, credentials: &Credentials) -> String {
    match credentials {
        Credentials::Token(token) => fingerprint(&target.api_url, &["token", token.expose()]),
        Credentials::App {
            app_id,
            private_key,
            installation_id,
        } => fingerprint(
            &target.api_url,
            &[
                "app",
                &app_id.to_string(),
                &format!("{installation_id:?}"),
                &target.owner.to_ascii_lowercase(),
                private_key.expose(),
            ],
        ),
    }
}

/// Checks and records the deadline of one set of credentials.
#[derive(Clone)]
struct Limit {
    key: String,
    until: Deadlines,
}

impl Limit {
    /// `RateLimited` with the time left, while the deadline lasts.
    fn check(&self) -> Result<()> {
        let mut until = lock(&self.until);
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

    /// Records the wait a rate limit asked for; one that names no wait asks for
    /// [`UNTIMED_RATE_LIMIT_WAIT`].
    fn note<T>(&self, result: Result<T>) -> Result<T> {
        let result = match result {
            Err(GitHubError::RateLimited { retry_after: None }) => Err(GitHubError::RateLimited {
                retry_after: Some(UNTIMED_RATE_LIMIT_WAIT),
            }),
            other => other,
        };
        if let Err(e) = &result
            && let Some(wait) = e.retry_after()
        {
            lock(&self.until).insert(self.key.clone(), Instant::now() + wait);
        }
        result
    }
}

#[async_trait]
impl Connector for BudgetConnector {
    async fn connect(&self, target: &Target, credentials: &Credentials) -> Result<Arc<dyn GitHub>> {
        let limit = Limit {
            key: key(target, credentials),
            until: self.until.clone(),
        };
        // Connecting an App asks GitHub for an installation token.
        limit.check()?;
        let inner = limit.note(self.inner.connect(target, credentials).await)?;
        Ok(Arc::new(HeldBack {
            inner,
            answers: Remembered {
                prefix: format!("{}/{}/{}", limit.key, target.owner, target.repo),
                seen: self.answers.clone(),
            },
            limit,
        }))
    }
}

/// Approver answers of one set of credentials on one repository, each believed for a
/// while ([`POSITIVE_TTL`], [`NEGATIVE_TTL`]).
struct Remembered {
    prefix: String,
    seen: Answers,
}

impl Remembered {
    fn key(&self, question: &[&str]) -> String {
        let mut key = self.prefix.clone();
        for part in question {
            key.push('\0');
            key.push_str(&part.to_ascii_lowercase());
        }
        key
    }

    /// The answer to this question, while it is believed.
    fn known(&self, question: &[&str]) -> Option<Answer> {
        let key = self.key(question);
        let mut seen = lock(&self.seen);
        match seen.get(&key) {
            Some((until, answer)) if *until > Instant::now() => Some(*answer),
            Some(_) => {
                seen.remove(&key);
                None
            }
            None => None,
        }
    }

    fn remember(&self, question: &[&str], answer: Answer, positive: bool) {
        let now = Instant::now();
        let ttl = if positive { POSITIVE_TTL } else { NEGATIVE_TTL };
        let mut seen = lock(&self.seen);
        // Forget what has expired, so the map stays as small as the live answers.
        seen.retain(|_, (until, _)| *until > now);
        seen.insert(self.key(question), (now + ttl, answer));
    }
}

/// A [`GitHub`] whose every operation waits out its credentials' rate limit.
struct HeldBack {
    inner: Arc<dyn GitHub>,
    limit: Limit,
    answers: Remembered,
}

#[async_trait]
impl IssueReads for HeldBack {
    async fn get_issue(&self, number: u64) -> Result<Option<Issue>> {
        self.limit.check()?;
        self.limit.note(self.inner.get_issue(number).await)
    }

    async fn list_comments(&self, number: u64) -> Result<Vec<Comment>> {
        self.limit.check()?;
        self.limit.note(self.inner.list_comments(number).await)
    }

    async fn list_events(&self, number: u64) -> Result<Vec<IssueEvent>> {
        self.limit.check()?;
        self.limit.note(self.inner.list_events(number).await)
    }

    async fn edits(&self, number: u64) -> Result<Edits> {
        self.limit.check()?;
        self.limit.note(self.inner.edits(number).await)
    }
}

#[async_trait]
impl Feeds for HeldBack {
    async fn list_own_issues(&self, creator: &str) -> Result<Vec<Issue>> {
        self.limit.check()?;
        self.limit.note(self.inner.list_own_issues(creator).await)
    }

    async fn list_own_issues_page(&self, creator: &str, page: u32) -> Result<IssuePage> {
        self.limit.check()?;
        self.limit
            .note(self.inner.list_own_issues_page(creator, page).await)
    }

    async fn own_issues_changed_since(
        &self,
        creator: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Issue>> {
        self.limit.check()?;
        self.limit
            .note(self.inner.own_issues_changed_since(creator, since).await)
    }

    async fn comments_changed_since(&self, since: DateTime<Utc>) -> Result<Vec<CommentChange>> {
        self.limit.check()?;
        self.limit
            .note(self.inner.comments_changed_since(since).await)
    }

    async fn comments_page(&self, since: DateTime<Utc>, page: u32) -> Result<CommentPage> {
        self.limit.check()?;
        self.limit.note(self.inner.comments_page(since, page).await)
    }

    async fn events_page(&self, page: u32) -> Result<EventPage> {
        self.limit.check()?;
        self.limit.note(self.inner.events_page(page).await)
    }
}

#[async_trait]
impl crate::github::change::Changes for HeldBack {
    async fn compare(
        &self,
        base: &str,
        head: &str,
        max_commits: usize,
    ) -> Result<Option<crate::github::change::Comparison>> {
        self.limit.check()?;
        self.limit
            .note(self.inner.compare(base, head, max_commits).await)
    }

    async fn commit(&self, sha: &str) -> Result<Option<crate::github::change::ChangeCommit>> {
        self.limit.check()?;
        self.limit.note(self.inner.commit(sha).await)
    }

    async fn pull_requests(
        &self,
        shas: &[String],
    ) -> Result<std::collections::BTreeMap<String, Vec<crate::github::change::PullRef>>> {
        self.limit.check()?;
        self.limit.note(self.inner.pull_requests(shas).await)
    }
}

#[async_trait]
impl Writes for HeldBack {
    async fn open_issue(&self, issue: &NewIssue) -> Result<Issue> {
        self.limit.check()?;
        self.limit.note(self.inner.open_issue(issue).await)
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

    async fn restore_issue(&self, number: u64, title: &str, body: &str) -> Result<()> {
        self.limit.check()?;
        self.limit
            .note(self.inner.restore_issue(number, title, body).await)
    }

    async fn add_assignees(&self, number: u64, logins: &[String]) -> Result<()> {
        self.limit.check()?;
        self.limit
            .note(self.inner.add_assignees(number, logins).await)
    }
}

#[async_trait]
impl People for HeldBack {
    async fn identity(&self) -> Result<Identity> {
        self.limit.check()?;
        self.limit.note(self.inner.identity().await)
    }

    async fn refresh_identity(&self) -> Result<Identity> {
        self.limit.check()?;
        self.limit.note(self.inner.refresh_identity().await)
    }

    async fn is_team_member(&self, org: &str, team_slug: &str, login: &str) -> Result<bool> {
        let question = ["team", org, team_slug, login];
        if let Some(Answer::Member(member)) = self.answers.known(&question) {
            return Ok(member);
        }
        self.limit.check()?;
        let member = self
            .limit
            .note(self.inner.is_team_member(org, team_slug, login).await)?;
        self.answers
            .remember(&question, Answer::Member(member), member);
        Ok(member)
    }

    async fn user(&self, login: &str) -> Result<Option<Identity>> {
        let question = ["user", login];
        if let Some(Answer::User(id)) = self.answers.known(&question) {
            return Ok(id.map(|id| Identity {
                login: login.to_owned(),
                id,
            }));
        }
        self.limit.check()?;
        let user = self.limit.note(self.inner.user(login).await)?;
        let id = user.as_ref().map(|u| u.id);
        self.answers
            .remember(&question, Answer::User(id), id.is_some());
        Ok(user)
    }

    async fn permission(&self, login: &str) -> Result<Option<Permission>> {
        let question = ["permission", login];
        if let Some(Answer::Permission(permission)) = self.answers.known(&question) {
            return Ok(permission);
        }
        self.limit.check()?;
        let permission = self.limit.note(self.inner.permission(login).await)?;
        self.answers.remember(
            &question,
            Answer::Permission(permission),
            permission.is_some(),
        );
        Ok(permission)
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
        let connector = BudgetConnector::new(Arc::new(FakeConnector::new(fake.clone())));
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
        let connector = BudgetConnector::new(Arc::new(FakeConnector::new(fake.clone())));
        let first = connector.connect(&target(), &token("a")).await.unwrap();
        fake.fail_with(Some(limited(45)));
        first.identity().await.unwrap_err();
        fake.fail_with(None);
        fake.clear_calls();

        let other = connector.connect(&target(), &token("b")).await.unwrap();

        assert_eq!(other.identity().await.unwrap().login, "release-bot");
        assert_eq!(fake.calls(), vec![Call::Identity]);
    }

    #[tokio::test]
    async fn a_wait_that_ended_holds_nothing_back() {
        let fake = FakeGitHub::default();
        let connector = BudgetConnector::new(Arc::new(FakeConnector::new(fake.clone())));
        let github = connector.connect(&target(), &token("a")).await.unwrap();
        fake.fail_with(Some(limited(0)));
        github.identity().await.unwrap_err();
        fake.fail_with(None);
        fake.clear_calls();

        assert!(github.identity().await.is_ok());
        assert_eq!(fake.calls(), vec![Call::Identity]);
    }

    #[tokio::test]
    async fn a_rate_limit_naming_no_wait_waits_a_minute() {
        let fake = FakeGitHub::default();
        let connector = BudgetConnector::new(Arc::new(FakeConnector::new(fake.clone())));
        let github = connector.connect(&target(), &token("a")).await.unwrap();
        fake.fail_with(Some(GitHubError::RateLimited { retry_after: None }));

        let err = github.identity().await.unwrap_err();
        fake.fail_with(None);
        fake.clear_calls();
        let again = github.identity().await.unwrap_err();

        assert_eq!(err, limited(60));
        let left = again.retry_after().unwrap().as_secs();
        assert!((59..=60).contains(&left), "{left}");
        assert_eq!(fake.calls(), vec![]);
    }

    #[tokio::test]
    async fn approver_answers_are_asked_once_while_believed() {
        let fake = FakeGitHub::default();
        fake.add_team_member("acme/release-managers", "dave");
        let connector = BudgetConnector::new(Arc::new(FakeConnector::new(fake.clone())));
        for _ in 0..3 {
            let github = connector.connect(&target(), &token("a")).await.unwrap();
            assert!(
                !github
                    .is_team_member("acme", "release-managers", "eve")
                    .await
                    .unwrap()
            );
            assert!(
                github
                    .is_team_member("acme", "release-managers", "dave")
                    .await
                    .unwrap()
            );
            assert_eq!(github.permission("eve").await.unwrap(), None);
        }

        let asked: Vec<Call> = fake.calls();
        let eve = |c: &&Call| match c {
            Call::TeamMember(_, login) | Call::Permission(login) => login == "eve",
            _ => false,
        };
        assert_eq!(asked.iter().filter(eve).count(), 2, "{asked:?}");
        assert_eq!(
            asked.len(),
            3,
            "dave's positive answer is asked once too: {asked:?}"
        );
        // Other credentials ask for themselves.
        let other = connector.connect(&target(), &token("b")).await.unwrap();
        assert!(
            !other
                .is_team_member("acme", "release-managers", "eve")
                .await
                .unwrap()
        );
        assert_eq!(fake.calls().len(), 4);
    }

    #[tokio::test]
    async fn other_faults_hold_nothing_back() {
        let fake = FakeGitHub::default();
        let connector = BudgetConnector::new(Arc::new(FakeConnector::new(fake.clone())));
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
