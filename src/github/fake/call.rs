//! What the in-memory GitHub was asked, call by call.

use crate::github::CloseReason;

/// One recorded call, in the trait's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `identity`.
    Identity,
    /// `list_own_issues(creator)`.
    ListIssues(String),
    /// `own_issues_changed_since(creator)`.
    ListChangedIssues(String),
    /// `comments_changed_since`.
    ListChangedComments,
    /// `comments_page(since, page)`.
    ListRepoComments(u32),
    /// `events_page(page)`.
    ListRepoEvents(u32),
    /// `get_issue(number)`.
    GetIssue(u64),
    /// `open_issue(title)`.
    OpenIssue(String),
    /// `list_comments(number)`.
    ListComments(u64),
    /// `list_events(number)`.
    ListEvents(u64),
    /// `edits(number)`.
    Edits(u64),
    /// `add_comment(number, body)`.
    AddComment(u64, String),
    /// `close_issue(number, reason)`.
    CloseIssue(u64, CloseReason),
    /// `reopen_issue(number)`.
    ReopenIssue(u64),
    /// `restore_issue(number, ..)`.
    RestoreIssue(u64),
    /// `add_assignees(number, logins)`.
    AddAssignees(u64, Vec<String>),
    /// `is_team_member(org/slug, login)`.
    TeamMember(String, String),
    /// `permission(login)`.
    Permission(String),
    /// `user(login)`.
    User(String),
    /// `compare(base, head)`.
    Compare(String, String),
    /// `commit(sha)`.
    Commit(String),
    /// `pull_requests(shas)`, of so many commits.
    PullRequests(usize),
}

impl Call {
    /// Whether the call changes GitHub.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Call::OpenIssue(_)
                | Call::AddComment(..)
                | Call::CloseIssue(..)
                | Call::ReopenIssue(_)
                | Call::RestoreIssue(_)
                | Call::AddAssignees(..)
        )
    }
}
