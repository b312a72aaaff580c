//! An in-memory [`GitHub`] for tests and benchmarks: it keeps issues, comments, team
//! membership and permissions, records every call, and can be told to fail. Not used by
//! the server binary.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    CloseReason, Comment, Deletion, Edit, Edits, EventKind, GitHubError, Identity, Issue,
    IssueEvent, IssueReads, IssueState, NewIssue, People, Result,
};
use crate::input::Permission;

mod call;
mod change;
pub use change::fake_sha;
mod connector;
mod feeds;
mod writes;

pub use call::Call;
pub use connector::FakeConnector;

/// The numeric id the fakes give `login` (stable, different for different logins): what
/// GitHub keeps when an account is renamed. GitHub's web committer has its own.
pub fn user_id(login: &str) -> u64 {
    if login == "web-flow" {
        return 19_864_447;
    }
    login
        .to_ascii_lowercase()
        .bytes()
        .fold(1_000_003u64, |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        })
        % 1_000_000_000
}

#[derive(Debug, Default)]
struct State {
    identity: String,
    identity_id: u64,
    /// The login `identity()` answers with: the old one after a rename, until
    /// `refresh_identity()` (as the adapter remembers it).
    identity_seen: String,
    now: Option<DateTime<Utc>>,
    issues: BTreeMap<u64, Issue>,
    comments: BTreeMap<u64, Vec<Comment>>,
    next_comment_id: u64,
    events: BTreeMap<u64, Vec<IssueEvent>>,
    next_event_id: u64,
    teams: BTreeMap<String, BTreeSet<String>>,
    permissions: BTreeMap<String, Permission>,
    calls: Vec<Call>,
    fail_with: Option<GitHubError>,
    /// Issues per page of the paged listing (GitHub's 100 unless told).
    listing_page: usize,
    /// How long each page of the paged listing takes.
    page_delay: std::time::Duration,
    opened: Vec<NewIssue>,
    last_issue_number: u64,
    /// Accounts renamed: the new login (lower-case) and the account's id.
    accounts: BTreeMap<String, u64>,
    /// Logins no account has any more (lower-case).
    gone: BTreeSet<String>,
    /// The comments someone edited, with the time of the last edit, as GitHub records it.
    edited: BTreeMap<u64, DateTime<Utc>>,
    /// The comments deleted from each issue, as its timeline records them.
    deletions: BTreeMap<u64, Vec<Deletion>>,
    /// The last edit of each issue's body, as GitHub records it.
    text_edits: BTreeMap<u64, Edit>,
    /// The source repository's history, oldest first (one line of commits).
    history: Vec<crate::github::change::ChangeCommit>,
    /// What reads of the history fail with, if they do.
    change_fault: Option<GitHubError>,
    /// The pull requests each commit came from.
    pulls: BTreeMap<String, Vec<crate::github::change::PullRef>>,
}

impl State {
    /// The id of the account `login` names.
    fn id_of(&self, login: &str) -> u64 {
        self.accounts
            .get(&login.to_ascii_lowercase())
            .copied()
            .unwrap_or_else(|| user_id(login))
    }
}

/// The in-memory GitHub. Clones share state.
#[derive(Debug, Clone)]
pub struct FakeGitHub {
    state: Arc<Mutex<State>>,
}

impl Default for FakeGitHub {
    fn default() -> Self {
        Self::new("release-bot")
    }
}

impl FakeGitHub {
    /// A fake whose own identity is `identity`.
    pub fn new(identity: &str) -> Self {
        FakeGitHub {
            state: Arc::new(Mutex::new(State {
                identity: identity.to_owned(),
                identity_id: user_id(identity),
                identity_seen: identity.to_owned(),
                next_comment_id: 1,
                next_event_id: 1,
                listing_page: 100,
                ..State::default()
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `old` renames their account to `new`: GitHub keeps its id, shows the new login on
    /// everything the account wrote, and `old` names nobody any more.
    pub fn rename_user(&self, old: &str, new: &str) {
        let mut s = self.lock();
        let id = s.id_of(old);
        s.accounts.insert(new.to_ascii_lowercase(), id);
        s.gone.remove(&new.to_ascii_lowercase());
        s.gone.insert(old.to_ascii_lowercase());
        for c in s.comments.values_mut().flatten() {
            if c.author_id == id {
                c.author = new.to_owned();
            }
        }
        for e in s.events.values_mut().flatten() {
            if e.actor_id == Some(id) {
                e.actor = Some(new.to_owned());
            }
        }
    }

    /// The function's account is renamed, as an admin can rename an App or a user: GitHub
    /// shows the new login on everything it wrote, and keeps its id. `identity()` keeps
    /// answering with the old login until `refresh_identity()`, as a remembered identity
    /// would.
    pub fn rename_identity(&self, login: &str) {
        let mut s = self.lock();
        let old = std::mem::replace(&mut s.identity, login.to_owned());
        for issue in s.issues.values_mut() {
            if issue.author == old {
                issue.author = login.to_owned();
            }
        }
        for comments in s.comments.values_mut() {
            for c in comments.iter_mut().filter(|c| c.author == old) {
                c.author = login.to_owned();
            }
        }
    }

    /// Pages of `size` issues for the paged listing, each taking `delay`: a long history
    /// on a slow GitHub.
    pub fn set_listing_pages(&self, size: usize, delay: std::time::Duration) {
        let mut s = self.lock();
        s.listing_page = size;
        s.page_delay = delay;
    }

    /// Sets the time stamped on what the fake creates (default: the real clock).
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.lock().now = Some(now);
    }

    fn now(state: &State) -> DateTime<Utc> {
        state.now.unwrap_or_else(Utc::now)
    }

    /// Makes every following call fail with `error`, or succeed again with `None`.
    pub fn fail_with(&self, error: Option<GitHubError>) {
        self.lock().fail_with = error;
    }

    /// Adds `login` to team `org/slug`.
    pub fn add_team_member(&self, team: &str, login: &str) {
        self.lock()
            .teams
            .entry(team.to_owned())
            .or_default()
            .insert(login.to_owned());
    }

    /// Gives `login` a repository permission.
    pub fn set_permission(&self, login: &str, permission: Permission) {
        self.lock().permissions.insert(login.to_owned(), permission);
    }

    /// Every call made so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Every issue the function opened, as requested (labels and assignees included).
    pub fn opened(&self) -> Vec<NewIssue> {
        self.lock().opened.clone()
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Forgets the issues recorded by [`FakeGitHub::opened`].
    pub fn clear_opened(&self) {
        self.lock().opened.clear();
    }

    /// Every issue, by number.
    pub fn issues(&self) -> Vec<Issue> {
        self.lock().issues.values().cloned().collect()
    }

    /// One issue.
    pub fn issue(&self, number: u64) -> Option<Issue> {
        self.lock().issues.get(&number).cloned()
    }

    /// The comments on an issue.
    pub fn comments(&self, number: u64) -> Vec<Comment> {
        self.lock()
            .comments
            .get(&number)
            .cloned()
            .unwrap_or_default()
    }

    /// A person (not the function) comments on an issue, at the fake's now.
    pub fn user_comments(&self, number: u64, login: &str, body: &str) {
        let mut s = self.lock();
        let at = Self::now(&s);
        Self::push_comment(&mut s, number, login, body, at);
    }

    /// A person edits a comment, re-dating it.
    pub fn user_edits_comment(&self, id: u64, body: &str) {
        self.edit_comment(id, body, true);
    }

    /// A person edits a comment within the second it was posted: the REST timestamps
    /// stay equal, GitHub still records the edit.
    pub fn user_edits_comment_within_its_second(&self, id: u64, body: &str) {
        self.edit_comment(id, body, false);
    }

    fn edit_comment(&self, id: u64, body: &str, redate: bool) {
        let mut s = self.lock();
        let now = Self::now(&s);
        let mut edited_at = None;
        for comments in s.comments.values_mut() {
            if let Some(c) = comments.iter_mut().find(|c| c.id == id) {
                c.body = body.to_owned();
                if redate {
                    c.updated_at = now;
                }
                edited_at = Some(c.updated_at);
            }
        }
        if let Some(at) = edited_at {
            s.edited.insert(id, at);
        }
    }

    /// A person closes an issue with a reason (GitHub records who, in its events).
    pub fn user_closes(&self, number: u64, login: &str, reason: CloseReason) {
        let mut s = self.lock();
        Self::close(&mut s, number, login, reason);
    }

    /// A person reopens an issue: anyone with triage or write access can.
    pub fn user_reopens(&self, number: u64, login: &str) {
        let mut s = self.lock();
        Self::reopen(&mut s, number, login);
    }

    /// Someone with write access edits an issue's body: GitHub keeps the author and
    /// moves the issue's `updated_at`.
    pub fn user_edits_body(&self, number: u64, body: &str) {
        let mut s = self.lock();
        let title = s.issues.get(&number).map(|i| i.title.clone());
        if let Some(title) = title {
            Self::retitle(&mut s, number, "mallory", &title, body);
        }
    }

    /// Someone with write access edits an issue's title and body: GitHub records a
    /// `renamed` event when the title changes, and none for the body.
    pub fn user_edits_issue(&self, number: u64, login: &str, title: &str, body: &str) {
        let mut s = self.lock();
        Self::retitle(&mut s, number, login, title, body);
    }

    /// Someone with write access deletes a comment; GitHub's REST API keeps no trace.
    pub fn user_deletes_comment(&self, id: u64) {
        let mut s = self.lock();
        let at = Self::now(&s);
        let mut deleted = Vec::new();
        for (number, comments) in s.comments.iter_mut() {
            if let Some(c) = comments.iter().find(|c| c.id == id) {
                deleted.push((*number, c.author.clone()));
            }
            comments.retain(|c| c.id != id);
        }
        for (number, author) in deleted {
            let author_id = Some(s.id_of(&author));
            s.deletions.entry(number).or_default().push(Deletion {
                at,
                author: Some(author),
                author_id,
            });
        }
    }

    /// The events of an issue.
    pub fn events(&self, number: u64) -> Vec<IssueEvent> {
        self.lock().events.get(&number).cloned().unwrap_or_default()
    }

    fn push_event(
        s: &mut State,
        number: u64,
        kind: EventKind,
        login: &str,
        reason: Option<CloseReason>,
    ) {
        let id = s.next_event_id;
        s.next_event_id += 1;
        let at = Self::now(s);
        let actor_id = s.id_of(login);
        s.events.entry(number).or_default().push(IssueEvent {
            id,
            kind,
            actor_id: Some(actor_id),
            actor: Some(login.to_owned()),
            created_at: at,
            state_reason: reason,
            commit_id: None,
        });
    }

    fn close(s: &mut State, number: u64, login: &str, reason: CloseReason) -> bool {
        let at = Self::now(s);
        let Some(issue) = s.issues.get_mut(&number) else {
            return false;
        };
        issue.state = IssueState::Closed;
        issue.state_reason = Some(reason.clone());
        issue.closed_by = Some(login.to_owned());
        issue.closed_at = Some(at);
        issue.updated_at = at;
        Self::push_event(s, number, EventKind::Closed, login, Some(reason));
        true
    }

    fn retitle(s: &mut State, number: u64, login: &str, title: &str, body: &str) -> bool {
        let at = Self::now(s);
        let Some(issue) = s.issues.get_mut(&number) else {
            return false;
        };
        let renamed = issue.title != title;
        let edited = issue.body != body;
        issue.title = title.to_owned();
        issue.body = body.to_owned();
        issue.updated_at = at;
        if edited {
            let editor_id = Some(s.id_of(login));
            s.text_edits.insert(
                number,
                Edit {
                    at,
                    editor: Some(login.to_owned()),
                    editor_id,
                },
            );
        }
        if renamed {
            Self::push_event(s, number, EventKind::Other("renamed".into()), login, None);
        }
        true
    }

    fn reopen(s: &mut State, number: u64, login: &str) -> bool {
        let at = Self::now(s);
        let Some(issue) = s.issues.get_mut(&number) else {
            return false;
        };
        // Like GitHub: a reopened issue says `reopened` and keeps its last closer.
        issue.state = IssueState::Open;
        issue.state_reason = Some(CloseReason::Other("reopened".into()));
        issue.closed_at = None;
        issue.updated_at = at;
        Self::push_event(s, number, EventKind::Reopened, login, None);
        true
    }

    /// A person opens an issue directly (for duplicate and marker tests).
    pub fn user_opens(&self, login: &str, new: &NewIssue) -> Issue {
        let mut s = self.lock();
        Self::insert_issue(&mut s, login, new)
    }

    /// Deletes an issue, as an admin can.
    pub fn delete_issue(&self, number: u64) {
        let mut s = self.lock();
        s.issues.remove(&number);
        s.comments.remove(&number);
        s.events.remove(&number);
    }

    fn insert_issue(s: &mut State, author: &str, new: &NewIssue) -> Issue {
        // GitHub never reuses a number, not even after a deletion.
        s.last_issue_number += 1;
        let number = s.last_issue_number;
        let issue = Issue {
            number,
            html_url: format!("https://github.com/acme/release-approvals/issues/{number}"),
            title: new.title.clone(),
            body: new.body.clone(),
            state: IssueState::Open,
            state_reason: None,
            closed_by: None,
            closed_at: None,
            created_at: Self::now(s),
            updated_at: Self::now(s),
            author_id: s.id_of(author),
            author: author.to_owned(),
            labels: new.labels.clone(),
        };
        s.issues.insert(number, issue.clone());
        issue
    }

    fn push_comment(s: &mut State, number: u64, login: &str, body: &str, at: DateTime<Utc>) {
        let id = s.next_comment_id;
        s.next_comment_id += 1;
        // A new comment moves the issue's `updated_at`; an edit of one does not here.
        if let Some(issue) = s.issues.get_mut(&number) {
            issue.updated_at = at;
        }
        let author_id = s.id_of(login);
        s.comments.entry(number).or_default().push(Comment {
            id,
            author_id,
            author: login.to_owned(),
            body: body.to_owned(),
            created_at: at,
            updated_at: at,
        });
    }

    /// Records the call and returns the injected failure, if any.
    fn enter(&self, call: Call) -> Result<MutexGuard<'_, State>> {
        let mut s = self.lock();
        s.calls.push(call);
        match s.fail_with.clone() {
            Some(e) => Err(e),
            None => Ok(s),
        }
    }
}

#[async_trait]
impl IssueReads for FakeGitHub {
    async fn get_issue(&self, number: u64) -> Result<Option<Issue>> {
        Ok(self
            .enter(Call::GetIssue(number))?
            .issues
            .get(&number)
            .cloned())
    }

    async fn list_comments(&self, number: u64) -> Result<Vec<Comment>> {
        let s = self.enter(Call::ListComments(number))?;
        if !s.issues.contains_key(&number) {
            return Err(GitHubError::NotFound(format!("issue #{number}")));
        }
        Ok(s.comments.get(&number).cloned().unwrap_or_default())
    }

    async fn list_events(&self, number: u64) -> Result<Vec<IssueEvent>> {
        let s = self.enter(Call::ListEvents(number))?;
        if !s.issues.contains_key(&number) {
            return Err(GitHubError::NotFound(format!("issue #{number}")));
        }
        Ok(s.events.get(&number).cloned().unwrap_or_default())
    }

    async fn edits(&self, number: u64) -> Result<Edits> {
        let s = self.enter(Call::Edits(number))?;
        let comments = s.comments.get(&number).into_iter().flatten();
        Ok(Edits {
            comments: comments
                .filter_map(|c| s.edited.get(&c.id).map(|at| (c.id, *at)))
                .collect(),
            deletions: s.deletions.get(&number).cloned().unwrap_or_default(),
            text: s.text_edits.get(&number).cloned(),
            more_deletions: false,
        })
    }
}

#[async_trait]
impl People for FakeGitHub {
    async fn identity(&self) -> Result<Identity> {
        let s = self.enter(Call::Identity)?;
        Ok(Identity {
            login: s.identity_seen.clone(),
            id: s.identity_id,
        })
    }

    async fn refresh_identity(&self) -> Result<Identity> {
        let mut s = self.enter(Call::Identity)?;
        s.identity_seen = s.identity.clone();
        Ok(Identity {
            login: s.identity.clone(),
            id: s.identity_id,
        })
    }

    async fn is_team_member(&self, org: &str, team_slug: &str, login: &str) -> Result<bool> {
        let team = format!("{org}/{team_slug}");
        let s = self.enter(Call::TeamMember(team.clone(), login.to_owned()))?;
        Ok(s.teams.get(&team).is_some_and(|m| m.contains(login)))
    }

    async fn permission(&self, login: &str) -> Result<Option<Permission>> {
        let s = self.enter(Call::Permission(login.to_owned()))?;
        Ok(s.permissions.get(login).copied())
    }

    async fn user(&self, login: &str) -> Result<Option<Identity>> {
        let s = self.enter(Call::User(login.to_owned()))?;
        Ok(
            (!s.gone.contains(&login.to_ascii_lowercase())).then(|| Identity {
                login: login.to_owned(),
                id: s.id_of(login),
            }),
        )
    }
}
