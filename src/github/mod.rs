//! GitHub, in this product's own terms: the approval issue, its comments and events, who
//! may approve, and the function's writes.
//!
//! - A client of one repository implements one trait per concern ([`IssueReads`],
//!   [`Feeds`], [`People`], [`Writes`]; together [`GitHub`]): the octocrab adapter
//!   ([`octocrab`], the one module that imports octocrab), the in-memory [`fake`], and the
//!   rate-limit [`budget`] that wraps either.
//! - The gate reaches a repository through a [`Repo`] ([`repo`]): reads either
//!   [remembered](Repo::remembered) from the repository's shared [`view`] or
//!   [fresh](Repo::fresh) from GitHub, as a value the caller chooses; writes that keep the
//!   view honest, and that the local render only writes down.
//!
//! Domain types here never carry octocrab models.

pub mod budget;
pub mod change;
pub mod credentials;
pub mod etag;
pub mod fake;
pub mod graphql;
pub mod octocrab;
pub mod pulls;
pub mod repo;
pub mod rest;
pub mod view;
pub mod writes;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use credentials::{Credentials, Secret};
pub use repo::{Reads, Repo, Repos, Skipped, Tagged};

use crate::input::Permission;

/// Whether an issue is open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueState {
    /// Open.
    Open,
    /// Closed.
    Closed,
}

/// Why an issue was closed (`state_reason`). Unknown values are kept, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Closed as completed.
    Completed,
    /// Closed as not planned.
    NotPlanned,
    /// Closed as a duplicate.
    Duplicate,
    /// A value GitHub added after this code was written.
    Other(String),
}

impl CloseReason {
    /// The REST API's `state_reason` string.
    pub fn as_api_str(&self) -> &str {
        match self {
            CloseReason::Completed => "completed",
            CloseReason::NotPlanned => "not_planned",
            CloseReason::Duplicate => "duplicate",
            CloseReason::Other(s) => s,
        }
    }

    /// Reads a `state_reason` string.
    pub fn from_api_str(s: &str) -> Self {
        match s {
            "completed" => CloseReason::Completed,
            "not_planned" => CloseReason::NotPlanned,
            "duplicate" => CloseReason::Duplicate,
            other => CloseReason::Other(other.to_owned()),
        }
    }
}

/// Who the function acts as on GitHub. It is recognised by `id`, which a rename of the
/// account or App does not change; `login` serves listings and messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The login (`<slug>[bot]` for an App).
    pub login: String,
    /// The numeric user id.
    pub id: u64,
}

/// A GitHub login, compared as GitHub compares them: without regard to ASCII case. It
/// keeps the spelling it was given, for messages.
#[derive(Debug, Clone)]
pub struct Login(String);

impl Login {
    /// The login `text`, as given.
    pub fn new(text: &str) -> Self {
        Login(text.to_owned())
    }

    /// As given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` names the same account.
    pub fn is(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }

    fn folded(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.bytes().map(|b| b.to_ascii_lowercase())
    }
}

impl PartialEq for Login {
    fn eq(&self, other: &Self) -> bool {
        self.is(&other.0)
    }
}

impl Eq for Login {}

impl PartialOrd for Login {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Login {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.folded().cmp(other.folded())
    }
}

impl std::hash::Hash for Login {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for b in self.folded() {
            state.write_u8(b);
        }
    }
}

impl std::fmt::Display for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Login {
    fn from(text: &str) -> Self {
        Login::new(text)
    }
}

/// A team, `org/slug`, compared without regard to ASCII case.
#[derive(Debug, Clone)]
pub struct Team {
    /// The organization.
    pub org: String,
    /// The team's slug.
    pub slug: String,
}

impl Team {
    /// Reads `org/slug` (validation guarantees the shape; anything else is `None`).
    pub fn parse(text: &str) -> Option<Self> {
        let (org, slug) = text.split_once('/')?;
        (!org.is_empty() && !slug.is_empty() && !slug.contains('/')).then(|| Team {
            org: org.to_owned(),
            slug: slug.to_owned(),
        })
    }

    fn folded(&self) -> (String, String) {
        (
            self.org.to_ascii_lowercase(),
            self.slug.to_ascii_lowercase(),
        )
    }
}

impl PartialEq for Team {
    fn eq(&self, other: &Self) -> bool {
        self.org.eq_ignore_ascii_case(&other.org) && self.slug.eq_ignore_ascii_case(&other.slug)
    }
}

impl Eq for Team {}

impl PartialOrd for Team {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Team {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.folded().cmp(&other.folded())
    }
}

impl std::fmt::Display for Team {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.org, self.slug)
    }
}

/// An issue, as the gate needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The issue number.
    pub number: u64,
    /// The issue's web URL.
    pub html_url: String,
    /// Title.
    pub title: String,
    /// Body (markdown), empty when none.
    pub body: String,
    /// Open or closed.
    pub state: IssueState,
    /// Why it was closed, when closed and GitHub says.
    pub state_reason: Option<CloseReason>,
    /// Who closed it, when closed and GitHub says.
    pub closed_by: Option<String>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed: GitHub moves it on comments, closes, reopens and edits of the
    /// issue itself, not always on edits of a comment.
    pub updated_at: DateTime<Utc>,
    /// Who opened it.
    pub author: String,
    /// Their numeric user id (0 when GitHub names nobody, as for a deleted account).
    pub author_id: u64,
    /// Label names.
    pub labels: Vec<String>,
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The comment id.
    pub id: u64,
    /// Who wrote it.
    pub author: String,
    /// Their numeric user id (0 when GitHub names nobody).
    pub author_id: u64,
    /// Its body as it is now.
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it was last edited (equal to `created_at` when never edited).
    pub updated_at: DateTime<Utc>,
}

/// What happened to an issue, as its events record it (`GET .../issues/{n}/events`).
/// The actor is whoever did it, whatever anyone edited afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueEvent {
    /// The event id.
    pub id: u64,
    /// What happened.
    pub kind: EventKind,
    /// Who did it (`None` when GitHub does not say, e.g. a deleted account).
    pub actor: Option<String>,
    /// Their numeric user id.
    pub actor_id: Option<u64>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Why it was closed, on a close that says.
    pub state_reason: Option<CloseReason>,
    /// The commit that closed it, when a commit or a merged pull request did.
    pub commit_id: Option<String>,
}

/// The events the gate reads; every other kind is kept as [`EventKind::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `closed`.
    Closed,
    /// `reopened`.
    Reopened,
    /// Any other event (labels, assignees, renames, ...).
    Other(String),
}

impl EventKind {
    /// Reads an `event` string.
    pub fn from_api_str(s: &str) -> Self {
        match s {
            "closed" => EventKind::Closed,
            "reopened" => EventKind::Reopened,
            other => EventKind::Other(other.to_owned()),
        }
    }
}

/// A comment that changed (written or edited), as the repository's comment feed lists
/// it: which issue it is on, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentChange {
    /// The comment id.
    pub id: u64,
    /// The issue it is on.
    pub issue: u64,
    /// When it was last written or edited.
    pub updated_at: DateTime<Utc>,
}

/// What an issue is looked up by (for a gate: the key and uid its description names).
pub type Tagger = fn(&Issue) -> Vec<String>;

/// An issue to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIssue {
    /// Title.
    pub title: String,
    /// Body (markdown).
    pub body: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Logins to assign (GitHub accepts at most 10).
    pub assignees: Vec<String>,
}

/// A GitHub failure, classified by what the gate should do about it. Messages never
/// contain a token or key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubError {
    /// No credentials were supplied.
    #[error("no GitHub credentials: {0}")]
    MissingCredentials(String),
    /// The credentials were refused (401) or are malformed.
    #[error("GitHub refused the credentials: {0}")]
    BadCredentials(String),
    /// The credentials lack a permission (403 without a rate limit).
    #[error("GitHub denied access: {0}")]
    Forbidden(String),
    /// A primary or secondary rate limit; retry after the given time when known.
    #[error("GitHub rate limit reached{}", retry_after.map(|d| format!(", retry in {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// How long to wait before trying again.
        retry_after: Option<Duration>,
    },
    /// The resource does not exist (404) or was deleted (410).
    #[error("GitHub resource not found: {0}")]
    NotFound(String),
    /// GitHub did not answer in time.
    #[error("GitHub did not answer in time: {0}")]
    Timeout(String),
    /// GitHub answered with a 5xx.
    #[error("GitHub server error {status}: {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// What GitHub said, shortened.
        message: String,
    },
    /// GitHub answered with something that could not be read.
    #[error("cannot read GitHub's answer: {0}")]
    Malformed(String),
    /// The connection failed or anything else went wrong.
    #[error("cannot reach GitHub: {0}")]
    Transport(String),
    /// The function's writes for one tenant on this repository spent their budget.
    #[error(
        "the function's writes for the gates of namespace {namespace:?} on this repository reached their budget ({per_hour} an hour, input github.writesPerNamespacePerHour); retry in {}s",
        retry_after.as_secs()
    )]
    WriteBudget {
        /// The gates' namespace.
        namespace: String,
        /// The budget an hour.
        per_hour: u32,
        /// When the next write may go.
        retry_after: Duration,
    },
    /// A read-only local render did not open an issue it would have opened.
    #[error(
        "the local render writes nothing to GitHub: it would {0} (pass --github-writes to do it)"
    )]
    ReadOnly(String),
}

impl GitHubError {
    /// The PascalCase reason used on the `ApprovalSynced=False` condition.
    pub fn reason(&self) -> &'static str {
        match self {
            GitHubError::MissingCredentials(_) => "MissingCredentials",
            GitHubError::BadCredentials(_) => "BadCredentials",
            GitHubError::Forbidden(_) => "Forbidden",
            GitHubError::RateLimited { .. } => "RateLimited",
            GitHubError::NotFound(_) => "NotFound",
            GitHubError::Timeout(_) => "Timeout",
            GitHubError::Server { .. } => "GitHubUnavailable",
            GitHubError::Malformed(_) => "MalformedResponse",
            GitHubError::Transport(_) => "GitHubUnreachable",
            GitHubError::ReadOnly(_) => "ReadOnly",
            GitHubError::WriteBudget { .. } => "WriteBudget",
        }
    }

    /// How long to wait before the next attempt, when GitHub said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GitHubError::RateLimited { retry_after } => *retry_after,
            GitHubError::WriteBudget { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// Result alias for GitHub calls.
pub type Result<T, E = GitHubError> = std::result::Result<T, E>;

/// Reads of one of the repository's issues, by number. Implementations paginate fully
/// and use conditional requests where they can; none may sleep on a rate limit: it
/// returns [`GitHubError::RateLimited`] and the gate retries through its TTL.
#[async_trait]
pub trait IssueReads: Send + Sync {
    /// The issue with this number; `None` when it does not exist or was deleted.
    async fn get_issue(&self, number: u64) -> Result<Option<Issue>>;

    /// Every comment on the issue, oldest first, every page.
    async fn list_comments(&self, number: u64) -> Result<Vec<Comment>>;

    /// Every event of the issue (closes and reopens with their actor), oldest first,
    /// every page.
    async fn list_events(&self, number: u64) -> Result<Vec<IssueEvent>>;

    /// The edits GitHub records of the issue's comments (GraphQL: the REST timestamps
    /// have one-second resolution, so an edit within the second a comment was posted
    /// leaves them equal), and the comments deleted from it.
    async fn edits(&self, number: u64) -> Result<Edits>;
}

/// The edits and deletions GitHub records of an issue's comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edits {
    /// Each comment GitHub records as edited, by id, with the time of its last edit.
    pub comments: BTreeMap<u64, DateTime<Utc>>,
    /// The comments deleted from the issue, as its timeline records them (the REST API
    /// keeps no trace of a deleted comment).
    pub deletions: Vec<Deletion>,
    /// The last edit of the issue's description, if anyone edited it since it was opened.
    pub text: Option<Edit>,
    /// More comments were deleted than `deletions` lists (the latest 100 are read).
    pub more_deletions: bool,
}

/// An edit, as GitHub records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (`None` when GitHub does not say).
    pub editor: Option<String>,
    /// Their numeric user id, when GitHub says.
    pub editor_id: Option<u64>,
}

/// A comment deleted from an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// When it was deleted.
    pub at: DateTime<Utc>,
    /// Who wrote the deleted comment (`None` when GitHub does not say).
    pub author: Option<String>,
    /// Their numeric user id, when GitHub says (GraphQL names a bot without `[bot]`).
    pub author_id: Option<u64>,
}

/// At most this many items of a feed (changed issues, changed comments) are read in one
/// look: a flood of changes is read over several looks, never all in one call.
pub const FEED_MAX_ITEMS: usize = 1000;

/// Items per page of a listing (GitHub's maximum).
pub const FEED_PAGE_ITEMS: usize = 100;

/// One page of the function's issues, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssuePage {
    /// The issues on the page (pull requests left out).
    pub issues: Vec<Issue>,
    /// Whether another page follows.
    pub more: bool,
}

/// The repository's listings, which only the shared view ([`view`]) follows: a gate
/// never lists.
#[async_trait]
pub trait Feeds: Send + Sync {
    /// Every issue, open or closed, that `creator` opened, oldest first (a consistent
    /// list, every page; never the search API). Not filtered by label: anyone with triage
    /// access can remove a label, while nobody can change who opened an issue.
    async fn list_own_issues(&self, creator: &str) -> Result<Vec<Issue>>;

    /// Page `page` (from 1) of that listing: a long history is listed a page at a time,
    /// so that the listing can go on across calls.
    async fn list_own_issues_page(&self, creator: &str, page: u32) -> Result<IssuePage>;

    /// The issues `creator` opened that changed at or after `since`, least recently
    /// changed first, every page (one conditional listing sorted by `updated`).
    async fn own_issues_changed_since(
        &self,
        creator: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Issue>>;

    /// Every comment in the repository, on any issue, written or edited at or after
    /// `since`, least recently changed first, every page.
    async fn comments_changed_since(&self, since: DateTime<Utc>) -> Result<Vec<CommentChange>>;

    /// Page `page` (from 1) of the repository's comments written or edited at or after
    /// `since`, oldest written first, whole: what a restarted replica seeds its view with
    /// instead of reading each gate's comments.
    async fn comments_page(&self, since: DateTime<Utc>, page: u32) -> Result<CommentPage>;

    /// Page `page` (from 1) of the repository's issue events, in GitHub's order (newest
    /// first as GitHub answers; its description promises no order, so the reader checks
    /// it), each with the number of its issue: what a restarted replica seeds its view's
    /// event reads with. The repository's listing does not say why an issue was closed.
    async fn events_page(&self, page: u32) -> Result<EventPage>;
}

/// One page of the repository's issue events, each with the issue it is on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventPage {
    /// The events, in GitHub's order, with their issues' numbers.
    pub events: Vec<(u64, IssueEvent)>,
    /// Whether another page follows.
    pub more: bool,
}

/// One page of the repository's comments, each with the issue it is on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommentPage {
    /// The comments, oldest written first, with their issues' numbers.
    pub comments: Vec<(u64, Comment)>,
    /// Whether another page follows.
    pub more: bool,
}

/// Who is who: the function's own identity, and whether someone may approve.
#[async_trait]
pub trait People: Send + Sync {
    /// The identity the function acts as (never counted as an approver). May be
    /// remembered for a while.
    async fn identity(&self) -> Result<Identity>;

    /// The identity read afresh from GitHub (and remembered from now on): before opening an
    /// issue, so that a renamed account's stale login never made a listing miss its issues.
    async fn refresh_identity(&self) -> Result<Identity>;

    /// Whether `login` is an active member of team `org/team_slug`.
    async fn is_team_member(&self, org: &str, team_slug: &str, login: &str) -> Result<bool>;

    /// `login`'s permission on the repository; `None` when they have none.
    async fn permission(&self, login: &str) -> Result<Option<Permission>>;

    /// The account `login` names now, with its numeric id (which a rename keeps); `None`
    /// when no account has that login.
    async fn user(&self, login: &str) -> Result<Option<Identity>>;
}

/// The function's writes to the repository.
#[async_trait]
pub trait Writes: Send + Sync {
    /// Opens an issue. Never retried by the implementation: a retried POST can open a
    /// duplicate. The caller detects duplicates by marker afterwards.
    async fn open_issue(&self, issue: &NewIssue) -> Result<Issue>;

    /// Adds a comment.
    async fn add_comment(&self, number: u64, body: &str) -> Result<()>;

    /// Closes the issue with the given reason.
    async fn close_issue(&self, number: u64, reason: CloseReason) -> Result<()>;

    /// Reopens a closed issue.
    async fn reopen_issue(&self, number: u64) -> Result<()>;

    /// Sets the issue's title and description.
    async fn restore_issue(&self, number: u64, title: &str, body: &str) -> Result<()>;

    /// Adds assignees to an issue (GitHub leaves out those it cannot assign).
    async fn add_assignees(&self, number: u64, logins: &[String]) -> Result<()>;
}

/// A client of one repository, each concern one trait: what the octocrab adapter, the
/// in-memory fake and the rate-limit [`budget`] implement. The gate never holds one: it
/// reaches the repository through a [`Repo`], which adds the shared view and the
/// local render's refusal to write.
pub trait GitHub: IssueReads + Feeds + People + Writes + change::Changes {}

impl<T: IssueReads + Feeds + People + Writes + change::Changes> GitHub for T {}

/// Where to reach GitHub, from the Input.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The REST API root.
    pub api_url: String,
    /// `owner`.
    pub owner: String,
    /// `name`.
    pub repo: String,
}

/// Makes [`GitHub`] clients for a repository from the request's credentials. It is
/// long-lived (one per server) so implementations can keep ETags and installation
/// tokens between calls.
#[async_trait]
pub trait Connector: Send + Sync {
    /// A client for `target` acting with `credentials`.
    async fn connect(&self, target: &Target, credentials: &Credentials) -> Result<Arc<dyn GitHub>>;
}

/// The connector the server uses: GitHub's REST API through octocrab, sparing the rate
/// limit ([`budget`]).
pub fn default_connector() -> Arc<dyn Connector> {
    Arc::new(budget::BudgetConnector::new(Arc::new(
        octocrab::OctocrabConnector::default(),
    )))
}
