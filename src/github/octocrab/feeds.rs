//! The repository's listings through the REST API: the function's issues (whole or a
//! page at a time), the feeds of changed issues and comments, and the repository's
//! comments and issue events a page at a time.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::super::rest::{self, WireCommentChange, WireIssue, WireRepoComment, WireRepoEvent};
use super::super::{CommentChange, CommentPage, EventPage, Feeds, Issue, IssuePage, Result};
use super::PER_PAGE;
use super::repo::{RestGitHub, timestamp};

#[async_trait]
impl Feeds for RestGitHub {
    async fn list_own_issues(&self, creator: &str) -> Result<Vec<Issue>> {
        let path = format!(
            "{}/issues?creator={}&state=all&per_page={PER_PAGE}&sort=created&direction=asc",
            self.repo_path(),
            rest::encode(creator)
        );
        let wire: Vec<WireIssue> = self.get_all("cannot list approval issues", path).await?;
        Ok(issues_by(wire, |i| i.created_at))
    }

    async fn list_own_issues_page(&self, creator: &str, page: u32) -> Result<IssuePage> {
        let what = "cannot list approval issues";
        let path = format!(
            "{}/issues?creator={}&state=all&per_page={PER_PAGE}&sort=created&direction=asc&page={page}",
            self.repo_path(),
            rest::encode(creator)
        );
        let (wire, more): (Vec<WireIssue>, _) = self.page(what, &path).await?;
        Ok(IssuePage {
            issues: wire
                .into_iter()
                .filter(|i| !i.is_pull_request())
                .map(WireIssue::into_issue)
                .collect(),
            more,
        })
    }

    async fn own_issues_changed_since(
        &self,
        creator: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Issue>> {
        let path = format!(
            "{}/issues?creator={}&state=all&sort=updated&direction=asc&since={}&per_page={PER_PAGE}",
            self.repo_path(),
            rest::encode(creator),
            rest::encode(&timestamp(since)),
        );
        let wire: Vec<WireIssue> = self
            .get_feed("cannot list changed approval issues", "issues", path)
            .await?;
        Ok(issues_by(wire, |i| i.updated_at))
    }

    async fn comments_changed_since(&self, since: DateTime<Utc>) -> Result<Vec<CommentChange>> {
        let path = format!(
            "{}/issues/comments?sort=updated&direction=asc&since={}&per_page={PER_PAGE}",
            self.repo_path(),
            rest::encode(&timestamp(since)),
        );
        let wire: Vec<WireCommentChange> = self
            .get_feed(
                "cannot list the repository's changed comments",
                "comments",
                path,
            )
            .await?;
        let mut seen = HashSet::new();
        let mut changes: Vec<CommentChange> = wire
            .into_iter()
            .filter_map(WireCommentChange::into_change)
            .filter(|c| seen.insert(c.id))
            .collect();
        changes.sort_by_key(|c| (c.updated_at, c.id));
        Ok(changes)
    }

    async fn comments_page(&self, since: DateTime<Utc>, page: u32) -> Result<CommentPage> {
        let what = "cannot list the repository's comments";
        let path = format!(
            "{}/issues/comments?sort=created&direction=asc&since={}&per_page={PER_PAGE}&page={page}",
            self.repo_path(),
            rest::encode(&timestamp(since)),
        );
        let (wire, more): (Vec<WireRepoComment>, _) = self.page(what, &path).await?;
        Ok(CommentPage {
            comments: wire
                .into_iter()
                .filter_map(WireRepoComment::into_comment)
                .collect(),
            more,
        })
    }

    async fn events_page(&self, page: u32) -> Result<EventPage> {
        let what = "cannot list the repository's issue events";
        let path = format!(
            "{}/issues/events?per_page={PER_PAGE}&page={page}",
            self.repo_path()
        );
        let (wire, more): (Vec<WireRepoEvent>, _) = self.page(what, &path).await?;
        Ok(EventPage {
            events: wire
                .into_iter()
                .filter_map(WireRepoEvent::into_event)
                .collect(),
            more,
        })
    }
}

/// The issues of a listing (no pull requests), each once (a listing that shifted between
/// pages can repeat one), sorted by `time` and then number.
fn issues_by(wire: Vec<WireIssue>, time: fn(&Issue) -> DateTime<Utc>) -> Vec<Issue> {
    let mut seen = HashSet::new();
    let mut issues: Vec<Issue> = wire
        .into_iter()
        .filter(|i| !i.is_pull_request())
        .map(WireIssue::into_issue)
        .filter(|i| seen.insert(i.number))
        .collect();
    issues.sort_by_key(|i| (time(i), i.number));
    issues
}

impl RestGitHub {
    /// One page of a listing, and whether another follows. A 304 replays the cached
    /// `Link`, which predates a page added since: a full page is followed by the next one
    /// whatever the link says.
    async fn page<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
    ) -> Result<(Vec<T>, bool)> {
        let reply = self.get(what, path).await?;
        let items: Vec<T> = rest::parse(what, &reply.body)?;
        let more =
            items.len() >= PER_PAGE || reply.link.as_deref().and_then(rest::next_link).is_some();
        Ok((items, more))
    }
}
