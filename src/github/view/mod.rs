//! One look per repository. A replica keeps one view of each approvals repository it
//! serves ([`state::ViewState`]), shared by every gate on it:
//!
//! - The issues the function opened, from one full listing every [`FULL_LISTING_EVERY`]
//!   (which also drops deleted and transferred issues), and between listings two
//!   conditional requests at most once per look: the function's issues changed since the
//!   last look (sorted by `updated`), and the repository's comments written or edited
//!   since then. GitHub moves an issue's `updated_at` on comments, closes, reopens and
//!   edits of the issue, not always on edits of a comment; the comment feed sees those.
//!   While nothing changes both answer 304, whatever the number of gates.
//! - Each issue carries a stamp that moves whenever the view sees it or a comment on it
//!   change, or the function writes to it. A gate's reads of its issue (the issue, its
//!   comments, its events) are remembered with the stamp they were made at, and answered
//!   from memory while the stamp stands: a gate whose issue did not change sends nothing.
//! - The view never takes a verdict: a gate that would decide, or write, on what it said
//!   [`GitHub::forget`]s, looks again and reads its issues from GitHub.
//!
//! A restarted replica begins with an empty view: its first look lists, and every gate's
//! first reads go to GitHub. Every replica keeps its own view. A look that fails leaves the
//! view as it was, and the gate fails its sync as for any GitHub fault. All views of a
//! replica share one byte budget.

pub mod state;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::credentials::fingerprint;
use super::{
    CloseReason, Comment, CommentChange, Connector, Credentials, GitHub, Identity, Issue,
    IssueEvent, NewIssue, Result, Target,
};
use crate::input::Permission;
use state::ViewState;

/// How often a view lists every issue the function opened, rather than only the changed
/// ones: it notices issues deleted or transferred meanwhile.
pub const FULL_LISTING_EVERY: Duration = Duration::from_secs(6 * 3600);

/// The byte budget of all of a replica's views together, by default.
pub const DEFAULT_MAX_BYTES: usize = 256 << 20;

/// At most this many repositories are viewed at once; the least recently used view goes.
pub const MAX_VIEWS: usize = 64;

/// One repository's view and when it was last brought up to date.
struct RepoView {
    state: tokio::sync::Mutex<Option<Looked>>,
}

struct Looked {
    view: ViewState,
    listed_at: DateTime<Utc>,
    looked_at: DateTime<Utc>,
}

/// A [`Connector`] whose clients share one view per repository and credentials.
pub struct ViewConnector {
    inner: Arc<dyn Connector>,
    views: Mutex<HashMap<String, (Arc<RepoView>, u64)>>,
    tick: AtomicUsize,
    total: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl ViewConnector {
    /// Wraps `inner`; all views together hold at most `max_bytes`.
    pub fn new(inner: Arc<dyn Connector>, max_bytes: usize) -> Self {
        ViewConnector {
            inner,
            views: Mutex::default(),
            tick: AtomicUsize::new(0),
            total: Arc::default(),
            max_bytes,
        }
    }

    /// The bytes all views hold now.
    pub fn bytes(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn view(&self, key: String) -> Arc<RepoView> {
        let tick = self.tick.fetch_add(1, Ordering::Relaxed) as u64;
        let mut views = self.views.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((view, used)) = views.get_mut(&key) {
            *used = tick;
            return view.clone();
        }
        if views.len() >= MAX_VIEWS
            && let Some(oldest) = views
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            views.remove(&oldest);
        }
        let view = Arc::new(RepoView {
            state: tokio::sync::Mutex::new(None),
        });
        views.insert(key, (view.clone(), tick));
        view
    }
}

/// What a view belongs to: the repository, at an API root, seen with one set of
/// credentials (never the secret itself).
fn key(target: &Target, credentials: &Credentials) -> String {
    let owner = target.owner.to_ascii_lowercase();
    let repo = target.repo.to_ascii_lowercase();
    match credentials {
        Credentials::Token(token) => {
            fingerprint(&target.api_url, &["view", &owner, &repo, token.expose()])
        }
        Credentials::App {
            app_id,
            private_key,
            ..
        } => fingerprint(
            &target.api_url,
            &[
                "view-app",
                &owner,
                &repo,
                &app_id.to_string(),
                private_key.expose(),
            ],
        ),
    }
}

#[async_trait]
impl Connector for ViewConnector {
    async fn connect(&self, target: &Target, credentials: &Credentials) -> Result<Arc<dyn GitHub>> {
        let inner = self.inner.connect(target, credentials).await?;
        Ok(Arc::new(Viewed {
            inner,
            view: self.view(key(target, credentials)),
            total: self.total.clone(),
            max_bytes: self.max_bytes,
            looked: AtomicBool::new(false),
            fresh: AtomicBool::new(false),
        }))
    }
}

/// One call's client: reads through the repository's view once it looked.
struct Viewed {
    inner: Arc<dyn GitHub>,
    view: Arc<RepoView>,
    total: Arc<AtomicUsize>,
    max_bytes: usize,
    /// This client brought the view up to date: it may answer from it.
    looked: AtomicBool,
    /// Reads go to GitHub ([`GitHub::forget`]).
    fresh: AtomicBool,
}

impl Viewed {
    /// Whether reads of an issue may be answered from memory.
    fn may_remember(&self) -> bool {
        self.looked.load(Ordering::Relaxed) && !self.fresh.load(Ordering::Relaxed)
    }

    /// Runs `f` on the view of `me`'s issues, if there is one.
    async fn with_view<T>(&self, f: impl FnOnce(&mut ViewState) -> T) -> Option<T> {
        let mut state = self.view.state.lock().await;
        state.as_mut().map(|looked| f(&mut looked.view))
    }

    /// After a write to the issue: what was remembered of it is read again.
    async fn touched(&self, number: u64) {
        self.with_view(|view| view.touch(number)).await;
    }

    /// The full listing, or the two feeds, as due.
    async fn refresh(
        &self,
        state: &mut Option<Looked>,
        me: &Identity,
        now: DateTime<Utc>,
        max_age: Duration,
    ) -> Result<()> {
        // A clock that went back counts as time passed.
        let within = |since: DateTime<Utc>, age: Duration| {
            (now - since).to_std().is_ok_and(|elapsed| elapsed < age)
        };
        if let Some(looked) = state.as_ref()
            && looked.view.me.id == me.id
            && within(looked.looked_at, max_age)
            && within(looked.listed_at, FULL_LISTING_EVERY)
        {
            return Ok(());
        }
        let known = state.take().filter(|l| l.view.me.id == me.id);
        let full = known
            .as_ref()
            .is_none_or(|l| !within(l.listed_at, FULL_LISTING_EVERY));
        let mut looked = known.unwrap_or_else(|| Looked {
            view: ViewState::new(me.clone(), self.total.clone(), self.max_bytes),
            listed_at: now,
            looked_at: now,
        });
        // The login may have been renamed; the view follows the account by id.
        looked.view.me = me.clone();
        let comments_since = looked
            .view
            .comments_since
            .unwrap_or(now - state::FIRST_LOOKBACK);
        let result: Result<(Vec<Issue>, Vec<CommentChange>)> = async {
            let issues = match (full, looked.view.issues_since) {
                (false, Some(since)) => {
                    self.inner
                        .own_issues_changed_since(&me.login, since)
                        .await?
                }
                _ => self.inner.list_own_issues(&me.login).await?,
            };
            let comments = self.inner.comments_changed_since(comments_since).await?;
            Ok((issues, comments))
        }
        .await;
        let (issues, comments) = match result {
            Ok(read) => read,
            Err(e) => {
                // A failed look leaves a view that already was as it was.
                if looked.view.issues_since.is_some() {
                    *state = Some(looked);
                }
                return Err(e);
            }
        };
        let full = full || looked.view.issues_since.is_none();
        if full {
            looked.view.replace_all(issues, now);
            looked.listed_at = now;
        } else {
            looked.view.take_changed_issues(issues, now);
        }
        looked.view.comments_since.get_or_insert(comments_since);
        looked.view.take_changed_comments(comments, now);
        looked.looked_at = now;
        *state = Some(looked);
        Ok(())
    }
}

#[async_trait]
impl GitHub for Viewed {
    async fn identity(&self) -> Result<Identity> {
        self.inner.identity().await
    }

    async fn refresh_identity(&self) -> Result<Identity> {
        self.inner.refresh_identity().await
    }

    async fn look(&self, me: &Identity, now: DateTime<Utc>, max_age: Duration) -> Result<()> {
        let mut state = self.view.state.lock().await;
        let max_age = match self.fresh.load(Ordering::Relaxed) {
            true => Duration::ZERO,
            false => max_age,
        };
        self.refresh(&mut state, me, now, max_age).await?;
        self.looked.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn forget(&self) -> bool {
        self.fresh.store(true, Ordering::Relaxed);
        self.looked.load(Ordering::Relaxed)
    }

    async fn list_own_issues(&self, creator: &str) -> Result<Vec<Issue>> {
        if self.looked.load(Ordering::Relaxed)
            && let Some(Some(issues)) = self
                .with_view(|view| {
                    view.me
                        .login
                        .eq_ignore_ascii_case(creator)
                        .then(|| view.issues())
                })
                .await
        {
            return Ok(issues);
        }
        self.inner.list_own_issues(creator).await
    }

    async fn own_issues_changed_since(
        &self,
        creator: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Issue>> {
        self.inner.own_issues_changed_since(creator, since).await
    }

    async fn comments_changed_since(&self, since: DateTime<Utc>) -> Result<Vec<CommentChange>> {
        self.inner.comments_changed_since(since).await
    }

    async fn get_issue(&self, number: u64) -> Result<Option<Issue>> {
        if self.may_remember()
            && let Some(Some(issue)) = self.with_view(|view| view.remembered_issue(number)).await
        {
            return Ok(Some(issue));
        }
        let read = self.inner.get_issue(number).await?;
        match &read {
            Some(issue) => {
                let issue = issue.clone();
                self.with_view(|view| view.read_issue(issue)).await;
            }
            None => {
                self.with_view(|view| view.remove(number)).await;
            }
        }
        Ok(read)
    }

    async fn open_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let opened = self.inner.open_issue(issue).await?;
        let copy = opened.clone();
        self.with_view(|view| view.upsert(copy)).await;
        Ok(opened)
    }

    async fn list_comments(&self, number: u64) -> Result<Vec<Comment>> {
        if self.may_remember()
            && let Some(Some(comments)) = self
                .with_view(|view| view.remembered_comments(number))
                .await
        {
            return Ok(comments.as_ref().clone());
        }
        let stamp = self.with_view(|view| view.stamp_of(number)).await.flatten();
        let comments = self.inner.list_comments(number).await?;
        if let Some(stamp) = stamp {
            let copy = comments.clone();
            self.with_view(|view| view.read_comments(number, stamp, copy))
                .await;
        }
        Ok(comments)
    }

    async fn list_events(&self, number: u64) -> Result<Vec<IssueEvent>> {
        if self.may_remember()
            && let Some(Some(events)) = self.with_view(|view| view.remembered_events(number)).await
        {
            return Ok(events.as_ref().clone());
        }
        let stamp = self.with_view(|view| view.stamp_of(number)).await.flatten();
        let events = self.inner.list_events(number).await?;
        if let Some(stamp) = stamp {
            let copy = events.clone();
            self.with_view(|view| view.read_events(number, stamp, copy))
                .await;
        }
        Ok(events)
    }

    async fn add_comment(&self, number: u64, body: &str) -> Result<()> {
        let result = self.inner.add_comment(number, body).await;
        self.touched(number).await;
        result
    }

    async fn close_issue(&self, number: u64, reason: CloseReason) -> Result<()> {
        let result = self.inner.close_issue(number, reason).await;
        self.touched(number).await;
        result
    }

    async fn reopen_issue(&self, number: u64) -> Result<()> {
        let result = self.inner.reopen_issue(number).await;
        self.touched(number).await;
        result
    }

    async fn is_team_member(&self, org: &str, team_slug: &str, login: &str) -> Result<bool> {
        self.inner.is_team_member(org, team_slug, login).await
    }

    async fn permission(&self, login: &str) -> Result<Option<Permission>> {
        self.inner.permission(login).await
    }
}
