//! GitHub for the local `render`: reads go through, writes are not sent but written down,
//! so a newcomer who renders an example with a real token never touches a repository by
//! surprise. Opening an issue fails with [`GitHubError::ReadOnly`] (the gate then shows
//! `ApprovalSynced=False`, reason `ReadOnly`); comments, closes and reopens are reported
//! as done, so the render shows the verdict the function would reach.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    CloseReason, Comment, CommentChange, Connector, Credentials, GitHub, GitHubError, Identity,
    Issue, IssueEvent, NewIssue, Result, Tagger, Target,
};
use crate::input::Permission;

/// What a read-only render would have written, in order.
pub type Skipped = Arc<Mutex<Vec<String>>>;

/// A [`Connector`] whose clients never write.
pub struct ReadOnlyConnector {
    inner: Arc<dyn Connector>,
    skipped: Skipped,
}

impl ReadOnlyConnector {
    /// Wraps `inner`; every write its clients would send is added to `skipped`.
    pub fn new(inner: Arc<dyn Connector>, skipped: Skipped) -> Self {
        ReadOnlyConnector { inner, skipped }
    }
}

#[async_trait]
impl Connector for ReadOnlyConnector {
    async fn connect(&self, target: &Target, credentials: &Credentials) -> Result<Arc<dyn GitHub>> {
        Ok(Arc::new(ReadOnly {
            inner: self.inner.connect(target, credentials).await?,
            repository: format!("{}/{}", target.owner, target.repo),
            skipped: self.skipped.clone(),
        }))
    }
}

struct ReadOnly {
    inner: Arc<dyn GitHub>,
    repository: String,
    skipped: Skipped,
}

impl ReadOnly {
    fn skip(&self, what: String) {
        self.skipped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }
}

#[async_trait]
impl GitHub for ReadOnly {
    async fn identity(&self) -> Result<Identity> {
        self.inner.identity().await
    }

    async fn refresh_identity(&self) -> Result<Identity> {
        self.inner.refresh_identity().await
    }

    async fn list_own_issues(&self, creator: &str) -> Result<Vec<Issue>> {
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

    async fn look(&self, me: &Identity, now: DateTime<Utc>, max_age: Duration) -> Result<()> {
        self.inner.look(me, now, max_age).await
    }

    fn forget(&self) -> bool {
        self.inner.forget()
    }

    async fn own_issues_tagged(
        &self,
        creator: &str,
        tags: &[String],
        tagger: Tagger,
    ) -> Result<Vec<Issue>> {
        self.inner.own_issues_tagged(creator, tags, tagger).await
    }

    async fn get_issue(&self, number: u64) -> Result<Option<Issue>> {
        self.inner.get_issue(number).await
    }

    async fn open_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let what = format!(
            "open an approval issue in {} titled {:?}",
            self.repository, issue.title
        );
        self.skip(what.clone());
        Err(GitHubError::ReadOnly(what))
    }

    async fn list_comments(&self, number: u64) -> Result<Vec<Comment>> {
        self.inner.list_comments(number).await
    }

    async fn list_events(&self, number: u64) -> Result<Vec<IssueEvent>> {
        self.inner.list_events(number).await
    }

    async fn add_comment(&self, number: u64, body: &str) -> Result<()> {
        let first = body.lines().next().unwrap_or_default();
        self.skip(format!(
            "comment on {}#{number}: {first:?}",
            self.repository
        ));
        Ok(())
    }

    async fn close_issue(&self, number: u64, reason: CloseReason) -> Result<()> {
        self.skip(format!(
            "close {}#{number} as {}",
            self.repository,
            reason.as_api_str()
        ));
        Ok(())
    }

    async fn reopen_issue(&self, number: u64) -> Result<()> {
        self.skip(format!("reopen {}#{number}", self.repository));
        Ok(())
    }

    async fn is_team_member(&self, org: &str, team_slug: &str, login: &str) -> Result<bool> {
        self.inner.is_team_member(org, team_slug, login).await
    }

    async fn permission(&self, login: &str) -> Result<Option<Permission>> {
        self.inner.permission(login).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::fake::{Call, FakeConnector, FakeGitHub};

    #[tokio::test]
    async fn reads_go_through_and_no_write_is_sent() {
        let fake = FakeGitHub::new("release-bot");
        let skipped = Skipped::default();
        let connector =
            ReadOnlyConnector::new(Arc::new(FakeConnector::new(fake.clone())), skipped.clone());
        let target = Target {
            api_url: "https://api.github.com".into(),
            owner: "acme".into(),
            repo: "approvals".into(),
        };
        let gh = connector
            .connect(
                &target,
                &Credentials::Token(crate::github::Secret::new("t")),
            )
            .await
            .unwrap();
        assert!(gh.list_own_issues("release-bot").await.unwrap().is_empty());
        let new = NewIssue {
            title: "Promote x".into(),
            body: String::new(),
            labels: Vec::new(),
            assignees: Vec::new(),
        };
        let err = gh.open_issue(&new).await.unwrap_err();
        assert_eq!(err.reason(), "ReadOnly");
        assert!(err.to_string().contains("--github-writes"), "{err}");
        gh.add_comment(4, "Approved.\n<!-- marker -->")
            .await
            .unwrap();
        gh.close_issue(4, CloseReason::Completed).await.unwrap();
        gh.reopen_issue(4).await.unwrap();
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
