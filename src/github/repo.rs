//! How the gate reaches one approvals repository: a [`Repo`], opened by [`Repos`].
//!
//! - Reads of the function's issues come as a [`Reads`] value: [`Repo::remembered`]
//!   answers from the repository's shared [`view`] what did not change since
//!   it was last read, [`Repo::fresh`] reads from GitHub. Which one a read may use is a
//!   choice the caller makes once, not an order of calls to remember: remembered reads
//!   keep a gate waiting, and every verdict or write is taken on fresh ones.
//! - Writes tell the view what they changed, and in the local render are only written
//!   down ([`Skipped`]): no issue is opened, commented, closed or reopened there.
//!
//! Does no I/O of its own beyond the client's; holds no secret.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::view::{self, RepoView, Views};
use super::writes::WriteBudgets;
use super::{
    CloseReason, Comment, Connector, Credentials, Edits, GitHub, GitHubError, Identity, Issue,
    IssueEvent, NewIssue, Result, Tagger, Target,
};
use crate::input::Permission;

/// What a read-only render would have written, in order.
pub type Skipped = Arc<Mutex<Vec<String>>>;

/// The repositories the function reaches: a connector for clients, the replica's shared
/// views (none in tests that count every request), and whether writes are sent.
#[derive(Clone)]
pub struct Repos {
    connector: Arc<dyn Connector>,
    writes: Arc<WriteBudgets>,
    views: Option<Arc<Views>>,
    skipped: Option<Skipped>,
    tagger: Tagger,
    changes: Arc<super::change::ChangeCache>,
}

impl Repos {
    /// Clients from `connector`, every read sent to GitHub. `tagger` says what a gate finds
    /// its issues by (the key and uid their descriptions name).
    pub fn new(connector: Arc<dyn Connector>, tagger: Tagger) -> Self {
        Repos {
            connector,
            writes: Arc::default(),
            views: None,
            skipped: None,
            tagger,
            changes: Arc::default(),
        }
    }

    /// The source repository `target` (a gate's change), with `credentials`, its reads
    /// remembered by this replica ([`super::change::ChangeCache`]).
    pub async fn source(
        &self,
        target: &Target,
        credentials: &Credentials,
    ) -> Result<super::change::Source> {
        let client = self.connector.connect(target, credentials).await?;
        Ok(super::change::Source::new(
            client,
            Arc::clone(&self.changes),
            &credentials.fingerprint(&target.api_url),
            &format!("{}/{}", target.owner, target.repo),
        ))
    }

    /// The same, with one shared view per repository (all of them holding at most
    /// `max_bytes`).
    pub fn with_views(mut self, max_bytes: usize) -> Self {
        self.views = Some(Arc::new(Views::new(max_bytes)));
        self
    }

    /// The same, writing nothing: every write is added to `skipped` instead.
    pub fn read_only(mut self, skipped: Skipped) -> Self {
        self.skipped = Some(skipped);
        self
    }

    /// The shared views, if there are any.
    pub fn views(&self) -> Option<&Arc<Views>> {
        self.views.as_ref()
    }

    /// Opens `target` with `credentials`.
    pub async fn open(&self, target: &Target, credentials: &Credentials) -> Result<Repo> {
        let client = self.connector.connect(target, credentials).await?;
        Ok(Repo {
            client,
            views: self.views.clone(),
            target: target.clone(),
            view: std::sync::OnceLock::new(),
            skipped: self.skipped.clone(),
            repository: format!("{}/{}", target.owner, target.repo),
            tagger: self.tagger,
            writes: Arc::clone(&self.writes),
            charge: None,
            prepaid: Mutex::default(),
            provoked: Default::default(),
        })
    }
}

/// One approvals repository, for one call.
pub struct Repo {
    writes: Arc<WriteBudgets>,
    /// Whose writes these are (the gates' namespace), and their rate an hour
    /// ([`writes`](super::writes)).
    charge: Option<(String, u32)>,
    /// The issue just opened, whose first comment (its binding) was paid with it.
    prepaid: Mutex<Option<u64>>,
    /// The writes now being sent are provoked by someone else's action (a reopen, a
    /// restoration and what is said with them): they leave the budget's reserve alone.
    provoked: std::sync::atomic::AtomicBool,
    client: Arc<dyn GitHub>,
    views: Option<Arc<Views>>,
    target: Target,
    /// The repository's view as the function's identity sees it, once a read named it.
    view: std::sync::OnceLock<Arc<RepoView>>,
    skipped: Option<Skipped>,
    repository: String,
    tagger: Tagger,
}

impl Repo {
    /// The same repository, its writes counted against the budget of `per_hour` of the
    /// gates of `namespace`.
    pub fn charging(mut self, namespace: &str, per_hour: u32) -> Repo {
        self.charge = Some((namespace.to_owned(), per_hour));
        self
    }

    /// Takes `writes` writes from the namespace's budget, if the writes are charged to one.
    fn spend_n(&self, writes: u32) -> Result<()> {
        match &self.charge {
            Some((namespace, per_hour)) => self.writes.take(
                &self.repository,
                namespace,
                (
                    writes,
                    *per_hour,
                    self.provoked.load(std::sync::atomic::Ordering::Relaxed),
                ),
                std::time::Instant::now(),
            ),
            None => Ok(()),
        }
    }

    fn spend(&self) -> Result<()> {
        self.spend_n(1)
    }

    /// Marks the writes sent from now on as provoked or not ([`writes`](super::writes)).
    pub fn provoked(&self, provoked: bool) {
        self.provoked
            .store(provoked, std::sync::atomic::Ordering::Relaxed);
    }

    /// Who the function is here (see [`super::People::identity`]).
    pub async fn identity(&self) -> Result<Identity> {
        self.client.identity().await
    }

    /// Who the function is, read afresh (see [`super::People::refresh_identity`]).
    pub async fn refresh_identity(&self) -> Result<Identity> {
        self.client.refresh_identity().await
    }

    /// Whether `login` is an active member of team `org/slug`.
    pub async fn is_team_member(&self, org: &str, slug: &str, login: &str) -> Result<bool> {
        self.client.is_team_member(org, slug, login).await
    }

    /// The account `login` names now (see [`super::People::user`]).
    pub async fn user(&self, login: &str) -> Result<Option<Identity>> {
        self.client.user(login).await
    }

    /// `login`'s permission on the repository.
    pub async fn permission(&self, login: &str) -> Result<Option<Permission>> {
        self.client.permission(login).await
    }

    /// Reads that may be answered from the repository's view, brought up to date first if
    /// it is older than `max_age` (`now` is the caller's clock, which the view's ages are
    /// measured by). Without a view, every read goes to GitHub.
    pub async fn remembered(
        &self,
        me: &Identity,
        now: DateTime<Utc>,
        max_age: Duration,
    ) -> Result<Reads<'_>> {
        if let Some(view) = self.view_of(me) {
            view.look(self.client.as_ref(), me, now, max_age, false)
                .await?;
        }
        Ok(Reads {
            repo: self,
            me: me.clone(),
            now,
            remember: self.views.is_some(),
        })
    }

    /// Reads that all go to GitHub; the view, if any, looks again first (whatever its age)
    /// and takes in what they read.
    pub async fn fresh(&self, me: &Identity, now: DateTime<Utc>) -> Result<Reads<'_>> {
        if let Some(view) = self.view_of(me) {
            view.look(self.client.as_ref(), me, now, Duration::ZERO, true)
                .await?;
        }
        Ok(Reads {
            repo: self,
            me: me.clone(),
            now,
            remember: false,
        })
    }

    /// Whether reads may come from a view: only then can a fresh read differ from a
    /// remembered one.
    pub fn has_view(&self) -> bool {
        self.views.is_some()
    }

    /// The repository's view as `me` sees it (the first identity a read names stays the
    /// view's for this call), if the function keeps views.
    fn view_of(&self, me: &Identity) -> Option<&Arc<RepoView>> {
        let views = self.views.as_ref()?;
        Some(self.view.get_or_init(|| views.view(&self.target, me)))
    }

    fn skip(&self, what: String) -> Option<()> {
        let skipped = self.skipped.as_ref()?;
        skipped.lock().unwrap_or_else(|e| e.into_inner()).push(what);
        Some(())
    }

    /// Opens an issue (never retried: a retried POST can open a duplicate). A request that
    /// failed may still have opened it: the view's next look goes to GitHub.
    pub async fn open_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let what = format!(
            "open an approval issue in {} titled {:?}",
            self.repository, issue.title
        );
        if self.skip(what.clone()).is_some() {
            return Err(GitHubError::ReadOnly(what));
        }
        // The issue and the comment that binds it, paid together: an issue opened and then
        // left unbound for want of a write would lose its binding to the first comment.
        self.spend_n(2)?;
        let opened = self.client.open_issue(issue).await;
        if let Ok(issue) = &opened {
            *self.prepaid.lock().unwrap_or_else(|e| e.into_inner()) = Some(issue.number);
        }
        if let Some(view) = self.view.get() {
            view.opened(opened.as_ref().ok()).await;
        }
        opened
    }

    /// Adds a comment (in the local render, only writes down its first line).
    pub async fn add_comment(&self, number: u64, body: &str) -> Result<()> {
        let first = body.lines().next().unwrap_or_default();
        if self
            .skip(format!(
                "comment on {}#{number}: {first:?}",
                self.repository
            ))
            .is_some()
        {
            return Ok(());
        }
        let prepaid = self
            .prepaid
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if prepaid != Some(number) {
            self.spend()?;
        }
        let done = self.client.add_comment(number, body).await;
        self.touched(number).await;
        done
    }

    /// Closes the issue with `reason`.
    pub async fn close_issue(&self, number: u64, reason: CloseReason) -> Result<()> {
        let what = format!(
            "close {}#{number} as {}",
            self.repository,
            reason.as_api_str()
        );
        if self.skip(what).is_some() {
            return Ok(());
        }
        self.spend()?;
        let done = self.client.close_issue(number, reason).await;
        self.touched(number).await;
        done
    }

    /// Reopens the issue.
    pub async fn reopen_issue(&self, number: u64) -> Result<()> {
        if self
            .skip(format!("reopen {}#{number}", self.repository))
            .is_some()
        {
            return Ok(());
        }
        self.spend()?;
        let done = self.client.reopen_issue(number).await;
        self.touched(number).await;
        done
    }

    /// Sets the issue's title and description back to what the function wrote.
    pub async fn restore_issue(&self, number: u64, title: &str, body: &str) -> Result<()> {
        if self
            .skip(format!("restore the text of {}#{number}", self.repository))
            .is_some()
        {
            return Ok(());
        }
        self.spend()?;
        let done = self.client.restore_issue(number, title, body).await;
        self.touched(number).await;
        done
    }

    /// Assigns `logins` to the issue, where GitHub can.
    pub async fn add_assignees(&self, number: u64, logins: &[String]) -> Result<()> {
        let what = format!(
            "assign {} to {}#{number}",
            logins.join(", "),
            self.repository
        );
        if self.skip(what).is_some() {
            return Ok(());
        }
        self.spend()?;
        let done = self.client.add_assignees(number, logins).await;
        self.touched(number).await;
        done
    }

    /// After a write to the issue: what was remembered of it is read again.
    async fn touched(&self, number: u64) {
        if let Some(view) = self.view.get() {
            view.touch(number).await;
        }
    }
}

/// The function's issues that carry some tags, and whether that is all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    /// The issues, oldest first.
    pub issues: Vec<Issue>,
    /// Whether every issue of the function was listed: false while a view's first full
    /// listing goes on.
    pub complete: bool,
}

/// Reads of the function's issues, remembered or fresh as the [`Repo`] gave them.
pub struct Reads<'a> {
    repo: &'a Repo,
    me: Identity,
    now: DateTime<Utc>,
    remember: bool,
}

impl Reads<'_> {
    /// Whether these reads may be answered from memory.
    pub fn remembered(&self) -> bool {
        self.remember
    }

    /// The function's own issues whose description gives one of `tags` (as the
    /// [`Repos`]' tagger reads it), oldest first: a gate's candidates, without listing every
    /// issue where a view indexes them. [`Tagged::complete`] is false while the view's
    /// first full listing goes on: issues on pages not listed yet are not among them.
    pub async fn tagged(&self, tags: &[String]) -> Result<Tagged> {
        let repo = self.repo;
        if let Some(view) = repo.view.get()
            && let Some((issues, complete)) = view
                .tagged(&self.me, tags, repo.tagger, !self.remember)
                .await
        {
            return Ok(Tagged { issues, complete });
        }
        let mut issues = repo.client.list_own_issues(&self.me.login).await?;
        issues.retain(|i| (repo.tagger)(i).iter().any(|t| tags.contains(t)));
        Ok(Tagged {
            issues,
            complete: true,
        })
    }

    /// The issue with this number; `None` when it does not exist or was deleted.
    pub async fn issue(&self, number: u64) -> Result<Option<Issue>> {
        view::read_issue(self.view(), self.repo.client.as_ref(), number, self.now).await
    }

    /// Every comment on the issue, oldest first.
    pub async fn comments(&self, number: u64) -> Result<Vec<Comment>> {
        view::read_comments(self.view(), self.repo.client.as_ref(), number, self.now).await
    }

    /// Every event of the issue, oldest first.
    pub async fn events(&self, number: u64) -> Result<Vec<IssueEvent>> {
        view::read_events(self.view(), self.repo.client.as_ref(), number, self.now).await
    }

    /// The edits GitHub records of the issue's comments, for fresh reads only (one
    /// GraphQL query per page of 100 comments): remembered reads never decide, so they
    /// spend nothing on it and know of no edit the REST timestamps do not show.
    pub async fn edits(&self, number: u64) -> Result<Edits> {
        if self.remember {
            return Ok(Edits::default());
        }
        self.repo.client.edits(number).await
    }

    /// The view, and whether it may answer (else it only takes in what is read).
    fn view(&self) -> Option<(&RepoView, bool)> {
        self.repo.view.get().map(|v| (v.as_ref(), self.remember))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::Secret;
    use crate::github::fake::{Call, FakeConnector, FakeGitHub};

    fn tag_all(_: &Issue) -> Vec<String> {
        vec!["all".into()]
    }

    #[tokio::test]
    async fn a_read_only_repo_reads_and_sends_no_write() {
        let fake = FakeGitHub::new("release-bot");
        let skipped = Skipped::default();
        let repos = Repos::new(Arc::new(FakeConnector::new(fake.clone())), tag_all)
            .read_only(skipped.clone());
        let target = Target {
            api_url: "https://api.github.com".into(),
            owner: "acme".into(),
            repo: "approvals".into(),
        };
        let repo = repos
            .open(&target, &Credentials::Token(Secret::new("t")))
            .await
            .unwrap();
        let me = repo.identity().await.unwrap();
        let reads = repo
            .remembered(&me, Utc::now(), Duration::from_secs(15))
            .await
            .unwrap();
        assert!(
            reads
                .tagged(&["all".into()])
                .await
                .unwrap()
                .issues
                .is_empty()
        );
        let new = NewIssue {
            title: "Promote x".into(),
            body: String::new(),
            labels: Vec::new(),
            assignees: Vec::new(),
        };
        let err = repo.open_issue(&new).await.unwrap_err();
        assert_eq!(err.reason(), "ReadOnly");
        assert!(err.to_string().contains("--github-writes"), "{err}");
        repo.add_comment(4, "Approved.\n<!-- marker -->")
            .await
            .unwrap();
        repo.close_issue(4, CloseReason::Completed).await.unwrap();
        repo.reopen_issue(4).await.unwrap();
        assert!(
            fake.calls().iter().all(|c| !c.is_write()),
            "{:?}",
            fake.calls()
        );
        assert!(
            fake.calls()
                .contains(&Call::ListIssues("release-bot".into()))
        );
        assert_eq!(
            *skipped.lock().unwrap(),
            vec![
                "open an approval issue in acme/approvals titled \"Promote x\"".to_owned(),
                "comment on acme/approvals#4: \"Approved.\"".to_owned(),
                "close acme/approvals#4 as completed".to_owned(),
                "reopen acme/approvals#4".to_owned(),
            ]
        );
    }
}
