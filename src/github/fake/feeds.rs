//! The fake's listings: the function's issues (whole, or a page at a time, slowly when
//! told), the feeds of changed issues and comments, and the repository's comments and
//! issue events a page at a time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Call, FakeGitHub};
use crate::github::{CommentChange, CommentPage, EventPage, Feeds, Issue, IssuePage, Result};

#[async_trait]
impl Feeds for FakeGitHub {
    async fn list_own_issues(&self, creator: &str) -> Result<Vec<Issue>> {
        let s = self.enter(Call::ListIssues(creator.to_owned()))?;
        // Like GitHub's list endpoint, a listing does not say who closed an issue.
        Ok(s.issues
            .values()
            .filter(|i| i.author.eq_ignore_ascii_case(creator))
            .map(|i| Issue {
                closed_by: None,
                ..i.clone()
            })
            .collect())
    }

    async fn list_own_issues_page(&self, creator: &str, page: u32) -> Result<IssuePage> {
        let (size, delay) = {
            let s = self.enter(Call::ListIssues(creator.to_owned()))?;
            (s.listing_page.max(1), s.page_delay)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let s = self.lock();
        let mut own: Vec<&Issue> = s
            .issues
            .values()
            .filter(|i| i.author.eq_ignore_ascii_case(creator))
            .collect();
        own.sort_by_key(|i| (i.created_at, i.number));
        let skip = (page.max(1) as usize - 1) * size;
        Ok(IssuePage {
            issues: own
                .iter()
                .skip(skip)
                .take(size)
                .map(|i| Issue {
                    closed_by: None,
                    ..(*i).clone()
                })
                .collect(),
            more: own.len() > skip + size,
        })
    }

    async fn own_issues_changed_since(
        &self,
        creator: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Issue>> {
        let s = self.enter(Call::ListChangedIssues(creator.to_owned()))?;
        let mut issues: Vec<Issue> = s
            .issues
            .values()
            .filter(|i| i.author.eq_ignore_ascii_case(creator) && i.updated_at >= since)
            .map(|i| Issue {
                closed_by: None,
                ..i.clone()
            })
            .collect();
        issues.sort_by_key(|i| (i.updated_at, i.number));
        Ok(issues)
    }

    async fn comments_changed_since(&self, since: DateTime<Utc>) -> Result<Vec<CommentChange>> {
        let s = self.enter(Call::ListChangedComments)?;
        let mut changes: Vec<CommentChange> = s
            .comments
            .iter()
            .flat_map(|(number, comments)| {
                comments.iter().map(move |c| CommentChange {
                    id: c.id,
                    issue: *number,
                    updated_at: c.updated_at,
                })
            })
            .filter(|c| c.updated_at >= since)
            .collect();
        changes.sort_by_key(|c| (c.updated_at, c.id));
        Ok(changes)
    }

    async fn comments_page(&self, since: DateTime<Utc>, page: u32) -> Result<CommentPage> {
        let size = self
            .enter(Call::ListRepoComments(page))?
            .listing_page
            .max(1);
        let s = self.lock();
        let mut all: Vec<(u64, &crate::github::Comment)> = s
            .comments
            .iter()
            .flat_map(|(number, comments)| comments.iter().map(move |c| (*number, c)))
            .filter(|(_, c)| c.updated_at >= since)
            .collect();
        all.sort_by_key(|(_, c)| (c.created_at, c.id));
        let skip = (page.max(1) as usize - 1) * size;
        Ok(CommentPage {
            comments: all
                .iter()
                .skip(skip)
                .take(size)
                .map(|(n, c)| (*n, (*c).clone()))
                .collect(),
            more: all.len() > skip + size,
        })
    }

    async fn events_page(&self, page: u32) -> Result<EventPage> {
        let size = self.enter(Call::ListRepoEvents(page))?.listing_page.max(1);
        let s = self.lock();
        // Newest first, as GitHub answers; without the close's reason, as GitHub's
        // repository-wide listing gives it.
        let mut all: Vec<(u64, &crate::github::IssueEvent)> = s
            .events
            .iter()
            .flat_map(|(number, events)| events.iter().map(move |e| (*number, e)))
            .collect();
        all.sort_by_key(|(_, e)| std::cmp::Reverse((e.created_at, e.id)));
        let skip = (page.max(1) as usize - 1) * size;
        Ok(EventPage {
            events: all
                .iter()
                .skip(skip)
                .take(size)
                .map(|(n, e)| {
                    let event = crate::github::IssueEvent {
                        state_reason: None,
                        ..(*e).clone()
                    };
                    (*n, event)
                })
                .collect(),
            more: all.len() > skip + size,
        })
    }
}
