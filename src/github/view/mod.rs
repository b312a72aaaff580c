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
//! - Remembered reads never take a verdict: a gate that would decide, or write, on them
//!   [`GitHub::forget`]s, looks again and reads its issues from GitHub. A request to open an issue
//!   that failed (GitHub may have opened it) makes the next look go to GitHub whatever its
//!   age, so that the issue is found rather than opened twice.
//!
//! A restarted replica begins with an empty view: its first look lists, and every gate's
//! first reads go to GitHub. Every replica keeps its own view. A look that fails leaves the
//! view as it was, and the gate fails its sync as for any GitHub fault. All views of a
//! replica share one byte budget.

pub mod state;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::credentials::fingerprint;
use super::{
    CloseReason, Comment, CommentChange, Connector, Credentials, GitHub, Identity, Issue,
    IssueEvent, NewIssue, Result, Tagger, Target,
};
use crate::input::Permission;
use state::ViewState;

/// How often a view lists every issue the function opened, rather than only the changed
/// ones: it notices issues deleted or transferred meanwhile.
pub const FULL_LISTING_EVERY: Duration = Duration::from_secs(6 * 3600);

/// The byte budget of all of a replica's views together, by default.
pub const DEFAULT_MAX_BYTES: usize = 256 << 20;

/// At most this many issues a full listing no longer shows are read by number before they
/// leave the view (deleted or transferred issues are rare; a listing that skipped one
/// while pages shifted is caught this way).
const MAX_CHECKED_GONE: usize = 20;

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
    /// An issue may have been opened without the view knowing (the request failed after
    /// GitHub may have done it): the next look goes to GitHub whatever its age.
    stale: bool,
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
            now: Mutex::new(DateTime::<Utc>::MIN_UTC),
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
    /// Reads of an issue go to GitHub, and the next look does too ([`GitHub::forget`]).
    fresh: AtomicBool,
    /// The caller's clock at its look.
    now: Mutex<DateTime<Utc>>,
}

impl Viewed {
    /// Whether reads of an issue may be answered from memory.
    fn may_remember(&self) -> bool {
        self.looked.load(Ordering::Relaxed) && !self.fresh.load(Ordering::Relaxed)
    }

    /// The caller's clock at its look.
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
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

    /// The full listing, or the two feeds, as due. The view is changed only once both
    /// answered: a look that fails, or whose call is cancelled, leaves it as it was.
    async fn refresh(
        &self,
        state: &mut Option<Looked>,
        me: &Identity,
        now: DateTime<Utc>,
        max_age: Duration,
        force: bool,
    ) -> Result<()> {
        // A clock that went back (a call that waited for the view behind a later one)
        // counts as no time passed.
        let within = |since: DateTime<Utc>, age: Duration| match (now - since).to_std() {
            Ok(elapsed) => elapsed < age,
            // Calls that waited behind a later one are a little behind; a clock set back
            // further than that looks again.
            Err(_) => since - now <= state::OVERLAP,
        };
        if state.as_ref().is_some_and(|l| l.view.me.id != me.id) {
            *state = None;
        }
        if let Some(looked) = state.as_ref()
            && !force
            && !looked.stale
            && within(looked.looked_at, max_age)
            && within(looked.listed_at, FULL_LISTING_EVERY)
        {
            return Ok(());
        }
        let known = state.as_ref();
        // A new view, one due for its full listing, and one whose login was renamed (its
        // listings by the old login found nothing) list every issue.
        let issues_since = known
            .filter(|l| within(l.listed_at, FULL_LISTING_EVERY) && l.view.me.login == me.login)
            .and_then(|l| l.view.issues_since);
        let comments_since = known
            .and_then(|l| l.view.comments_since)
            .unwrap_or(now - state::FIRST_LOOKBACK);
        let issues = match issues_since {
            Some(since) => {
                self.inner
                    .own_issues_changed_since(&me.login, since)
                    .await?
            }
            None => {
                let mut listed = self.inner.list_own_issues(&me.login).await?;
                // A listing read while issues were deleted can skip one at a page boundary:
                // what the view held and the listing lacks is read by number (up to a few).
                let missing = state
                    .as_ref()
                    .map(|l| l.view.missing_from(&listed))
                    .unwrap_or_default();
                for number in missing.into_iter().take(MAX_CHECKED_GONE) {
                    if let Some(issue) = self.inner.get_issue(number).await? {
                        listed.push(issue);
                    }
                }
                listed
            }
        };
        let comments = self.inner.comments_changed_since(comments_since).await?;
        let looked = state.get_or_insert_with(|| Looked {
            view: ViewState::new(me.clone(), self.total.clone(), self.max_bytes),
            listed_at: now,
            looked_at: now,
            stale: false,
        });
        looked.view.me = me.clone();
        if issues_since.is_none() {
            looked.view.replace_all(issues, now);
            looked.listed_at = now;
        } else {
            looked.view.take_changed_issues(issues, now);
        }
        looked.view.comments_since.get_or_insert(comments_since);
        looked.view.take_changed_comments(comments, now);
        looked.looked_at = looked.looked_at.max(now);
        looked.stale = false;
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
        let force = self.fresh.load(Ordering::Relaxed);
        self.refresh(&mut state, me, now, max_age, force).await?;
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
        self.looked.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn forget(&self) -> bool {
        self.fresh.store(true, Ordering::Relaxed);
        self.looked.load(Ordering::Relaxed)
    }

    async fn list_own_issues(&self, creator: &str) -> Result<Vec<Issue>> {
        // A view that dropped issues for memory is not listed from before a verdict.
        let fresh = self.fresh.load(Ordering::Relaxed);
        if self.looked.load(Ordering::Relaxed)
            && let Some(Some(issues)) = self
                .with_view(|view| {
                    (view.me.login.eq_ignore_ascii_case(creator) && !(fresh && view.incomplete))
                        .then(|| view.issues())
                })
                .await
        {
            return Ok(issues);
        }
        self.inner.list_own_issues(creator).await
    }

    async fn own_issues_tagged(
        &self,
        creator: &str,
        tags: &[String],
        tagger: Tagger,
    ) -> Result<Vec<Issue>> {
        let fresh = self.fresh.load(Ordering::Relaxed);
        if self.looked.load(Ordering::Relaxed)
            && let Some(Some(issues)) = self
                .with_view(|view| {
                    (view.me.login.eq_ignore_ascii_case(creator) && !(fresh && view.incomplete))
                        .then(|| view.tagged(tags, tagger))
                })
                .await
        {
            return Ok(issues);
        }
        let mut issues = self.inner.list_own_issues(creator).await?;
        issues.retain(|i| tagger(i).iter().any(|t| tags.contains(t)));
        Ok(issues)
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
            && let Some(Some(issue)) = self
                .with_view(|view| view.remembered_issue(number, self.now()))
                .await
        {
            return Ok(Some(issue));
        }
        let read = self.inner.get_issue(number).await?;
        match &read {
            Some(issue) => {
                let issue = issue.clone();
                let now = self.now();
                self.with_view(|view| view.read_issue(issue, now)).await;
            }
            None => {
                self.with_view(|view| view.remove(number)).await;
            }
        }
        Ok(read)
    }

    async fn open_issue(&self, issue: &NewIssue) -> Result<Issue> {
        match self.inner.open_issue(issue).await {
            Ok(opened) => {
                let copy = opened.clone();
                self.with_view(|view| view.upsert(copy)).await;
                Ok(opened)
            }
            Err(e) => {
                if let Some(looked) = self.view.state.lock().await.as_mut() {
                    looked.stale = true;
                }
                Err(e)
            }
        }
    }

    async fn list_comments(&self, number: u64) -> Result<Vec<Comment>> {
        if self.may_remember()
            && let Some(Some(comments)) = self
                .with_view(|view| view.remembered_comments(number, self.now()))
                .await
        {
            return Ok(comments.as_ref().clone());
        }
        let stamp = self.with_view(|view| view.stamp_of(number)).await.flatten();
        let comments = self.inner.list_comments(number).await?;
        if let Some(stamp) = stamp {
            let copy = comments.clone();
            let now = self.now();
            self.with_view(|view| view.read_comments(number, stamp, now, copy))
                .await;
        }
        Ok(comments)
    }

    async fn list_events(&self, number: u64) -> Result<Vec<IssueEvent>> {
        if self.may_remember()
            && let Some(Some(events)) = self
                .with_view(|view| view.remembered_events(number, self.now()))
                .await
        {
            return Ok(events.as_ref().clone());
        }
        let stamp = self.with_view(|view| view.stamp_of(number)).await.flatten();
        let events = self.inner.list_events(number).await?;
        if let Some(stamp) = stamp {
            let copy = events.clone();
            let now = self.now();
            self.with_view(|view| view.read_events(number, stamp, now, copy))
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
