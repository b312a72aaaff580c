//! A fake GitHub REST API on loopback: a real HTTP server (axum) that keeps state
//! (issues, labels, comments, close reasons, team membership, collaborator permissions,
//! a token user, a GitHub App and its installation tokens) and serves the endpoints the
//! function uses, with real pagination (`Link`, `per_page`) and ETags (304 on a
//! matching `If-None-Match`; like GitHub's, an ETag covers the body only). It checks
//! the `Authorization` header (tokens, installation tokens, and App JWTs verified with
//! the App's public key), counts requests by route and status, and injects faults per
//! route or globally (statuses, rate limits, malformed JSON, delays, an error after the
//! work is done).
//!
//! Tests act as people through its methods (comment, close, edit) without HTTP.
//! Use it from a test file with `#[path = "fake_github/mod.rs"] mod fake_github;`.

// Each test binary uses only part of the fake.
#![allow(dead_code)]

mod auth;
pub mod graphql;
pub mod history;
pub mod openapi;
mod routes;
mod state;

pub use auth::*;
use routes::*;
pub use state::*;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

/// The repository the fake serves.
pub const OWNER: &str = "acme";
/// The repository the fake serves.
pub const REPO: &str = "release-approvals";
/// The token the fake accepts by default.
pub const TOKEN: &str = "ghp_fakeTOKENfor_tests_0123456789";
/// The login of [`TOKEN`].
pub const LOGIN: &str = "release-bot";

/// What an endpoint is, for counting and fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Route {
    /// `GET /user`.
    User,
    /// `GET /users/{login}`.
    UserByLogin,
    /// `GET /app` (JWT).
    App,
    /// `GET /repos/{o}/{r}/installation` (JWT).
    RepoInstallation,
    /// `POST /app/installations/{id}/access_tokens` (JWT).
    AccessToken,
    /// `GET /repos/{o}/{r}/issues`.
    ListIssues,
    /// `POST /repos/{o}/{r}/issues`.
    CreateIssue,
    /// `GET /repos/{o}/{r}/issues/comments`: every comment of the repository.
    ListRepoComments,
    /// `GET /repos/{o}/{r}/issues/events`: every issue event of the repository.
    ListRepoEvents,
    /// `GET /repos/{o}/{r}/issues/{n}`.
    GetIssue,
    /// `PATCH /repos/{o}/{r}/issues/{n}`.
    UpdateIssue,
    /// `GET /repos/{o}/{r}/issues/{n}/comments`.
    ListComments,
    /// `POST /repos/{o}/{r}/issues/{n}/comments`.
    CreateComment,
    /// `POST /repos/{o}/{r}/issues/{n}/assignees`.
    AddAssignees,
    /// `GET /repos/{o}/{r}/issues/{n}/events`.
    ListEvents,
    /// `GET /repos/{o}/{r}/compare/{base}...{head}` (any repository with a history).
    Compare,
    /// `GET /repos/{o}/{r}/commits/{ref}` (any repository with a history).
    Commit,
    /// `GET /orgs/{org}/teams/{team}/memberships/{login}`.
    TeamMembership,
    /// `GET /repos/{o}/{r}/collaborators/{login}/permission`.
    Permission,
    /// `POST /graphql`.
    Graphql,
    /// Anything else (answered 404).
    Unknown,
}

/// A fault to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and a JSON message (500, 502, 401, 404, 410, ...).
    Status(u16),
    /// 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds on.
    RateLimit403 {
        /// Seconds until the quota resets.
        reset_in: u64,
    },
    /// 403 naming a secondary rate limit, without `Retry-After` or quota headers.
    SecondaryRateLimit,
    /// 429 with `Retry-After`.
    TooManyRequests {
        /// The `Retry-After` seconds.
        retry_after: u64,
    },
    /// 200 with a truncated JSON body.
    MalformedJson,
    /// GraphQL's rate limit, as GitHub answers it: `200` with an `errors` entry of type
    /// `RATE_LIMITED`.
    GraphqlRateLimited,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Do the work, then answer with this status (a write that happened but looks
    /// failed).
    AfterEffect(u16),
    /// Answer with this status and a message that repeats the `Authorization` header
    /// (what a careless proxy might do).
    EchoAuthorization(u16),
}

#[derive(Debug, Clone)]
pub(crate) struct FaultRule {
    route: Option<Route>,
    fault: Fault,
    remaining: Option<usize>,
}

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The HTTP method.
    pub method: String,
    /// The route.
    pub route: Route,
    /// The path and query.
    pub uri: String,
    /// The answer's status.
    pub status: u16,
    /// Whether it carried `If-None-Match`.
    pub conditional: bool,
    /// The `Authorization` header as sent.
    pub authorization: Option<String>,
    /// The JSON body, if the request had one.
    pub body: Option<Value>,
}

struct Shared {
    base: String,
    state: Mutex<State>,
}

/// The running fake. Dropping it stops the server.
pub struct FakeGitHub {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let violations = self.violations();
        if !std::thread::panicking() && !violations.is_empty() {
            panic!("requests GitHub's API description does not accept: {violations:#?}");
        }
    }
}

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

impl FakeGitHub {
    /// Starts the fake on 127.0.0.1 with [`TOKEN`] accepted as [`LOGIN`].
    pub async fn start() -> FakeGitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            base: format!("http://{addr}"),
            state: Mutex::new(State {
                now: start_time(),
                users: BTreeMap::from([(TOKEN.to_owned(), LOGIN.to_owned())]),
                app: None,
                installation_tokens: HashMap::new(),
                issues: BTreeMap::new(),
                comments: BTreeMap::new(),
                events: Vec::new(),
                next_number: 1,
                next_comment: 5000,
                teams: BTreeMap::new(),
                permissions: BTreeMap::new(),
                faults: Vec::new(),
                seen: Vec::new(),
                violations: Vec::new(),
                deletions: Vec::new(),
                accounts: BTreeMap::new(),
                gone: Default::default(),
                history: Default::default(),
            }),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        FakeGitHub {
            shared,
            stop: Some(stop),
        }
    }

    /// The API root to put in the Input's `apiUrl`.
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    // ----- configuration -----

    /// Accepts another token, acting as `login`.
    pub fn add_token(&self, token: &str, login: &str) {
        self.state()
            .users
            .insert(token.to_owned(), login.to_owned());
    }

    /// Knows a GitHub App installed on the repository.
    pub fn enable_app(&self, app: FakeApp) {
        self.state().app = Some(app);
    }

    /// Makes `login` a member of `org/team` (`active` or `pending`).
    pub fn add_team_member(&self, org: &str, team: &str, login: &str, state: &str) {
        self.state()
            .teams
            .entry((org.to_owned(), team.to_owned()))
            .or_default()
            .insert(login.to_owned(), state.to_owned());
    }

    /// Gives `login` a role on the repository (`admin`, `maintain`, `write`, `triage`,
    /// `read`, `none` or a custom role name).
    pub fn set_permission(&self, login: &str, role: &str) {
        self.state()
            .permissions
            .insert(login.to_owned(), role.to_owned());
    }

    /// Moves the fake's clock (issue and comment timestamps).
    pub fn advance(&self, by: chrono::TimeDelta) {
        self.state().now += by;
    }

    /// Sets the fake's clock, e.g. to the wall clock for a server that reads it.
    pub fn set_now(&self, at: DateTime<Utc>) {
        self.state().now = at;
    }

    /// The fake's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.state().now
    }

    // ----- faults -----

    /// Injects `fault` on `route` (every route when `None`) for the next `times`
    /// matching requests (for ever when `None`).
    pub fn inject(&self, route: Option<Route>, fault: Fault, times: Option<usize>) {
        self.state().faults.push(FaultRule {
            route,
            fault,
            remaining: times,
        });
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    // ----- source repositories -----

    /// Adds a commit to `repository`'s history (`owner/name`), written by `author` and
    /// committed by `committer` (GitHub logins; `None`: GitHub links no account, the
    /// author named `name`). Returns its sha.
    pub fn push_commit(
        &self,
        repository: &str,
        message: &str,
        author: Option<&str>,
        committer: Option<&str>,
    ) -> String {
        let mut s = self.state();
        let line = s.history.entry(repository.to_owned()).or_default();
        let sha = format!("{:040x}", 0xbeef_0000_u64 + line.len() as u64);
        line.push(history::FakeCommit {
            sha: sha.clone(),
            message: message.to_owned(),
            author_name: author.unwrap_or("Someone Offline").to_owned(),
            author: author.map(str::to_owned),
            committer: committer.map(str::to_owned),
            pulls: Vec::new(),
        });
        sha
    }

    /// Records that `repository`'s commit `sha` came from pull request `number`.
    pub fn merge_pull_request(&self, repository: &str, sha: &str, number: u64, title: &str) {
        let mut s = self.state();
        let commit = s
            .history
            .get_mut(repository)
            .and_then(|h| h.iter_mut().find(|c| c.sha == sha))
            .expect("a commit of the repository's history");
        commit.pulls.push((number, title.to_owned()));
    }

    // ----- people -----

    /// Opens an issue as `login`.
    pub fn open_issue_as(&self, login: &str, title: &str, body: &str, labels: &[&str]) -> u64 {
        let mut s = self.state();
        let labels = labels.iter().map(|l| l.to_string()).collect();
        s.create_issue(login, title, body, labels, Vec::new(), false)
    }

    /// Opens a pull request carrying `labels` (the issues listing returns those too).
    pub fn open_pull_request_as(&self, login: &str, title: &str, labels: &[&str]) -> u64 {
        let mut s = self.state();
        let labels = labels.iter().map(|l| l.to_string()).collect();
        s.create_issue(login, title, "", labels, Vec::new(), true)
    }

    /// Comments as `login`; returns the comment id.
    pub fn comment_as(&self, number: u64, login: &str, body: &str) -> u64 {
        self.state().add_comment(number, login, body)
    }

    /// Someone with write access edits an issue's body: GitHub keeps its author and
    /// moves its `updated_at`.
    pub fn edit_issue_body(&self, number: u64, body: &str) {
        self.state().retext(number, "mallory", None, Some(body));
    }

    /// `login` (with write access) edits an issue's title and body.
    pub fn edit_issue_as(&self, number: u64, login: &str, title: &str, body: &str) {
        self.state().retext(number, login, Some(title), Some(body));
    }

    /// Someone with write access deletes a comment: the REST API keeps no trace of it.
    pub fn delete_comment(&self, id: u64) {
        let mut s = self.state();
        let now = s.tick();
        let c = s.comments.remove(&id).expect("comment exists");
        s.deletions.push((c.issue, now, c.user));
    }

    /// Moves everything of issue `number` (its times, its comments' times, and the start
    /// and deadline its binding seals) `by` into the past, as if it had been opened then:
    /// how tests let time pass for a server that reads the wall clock.
    pub fn backdate(&self, number: u64, by: chrono::TimeDelta) {
        let mut s = self.state();
        let issue = s.issues.get_mut(&number).expect("issue exists");
        issue.created_at -= by;
        issue.updated_at -= by;
        for c in s.comments.values_mut().filter(|c| c.issue == number) {
            c.created_at -= by;
            c.updated_at -= by;
            for field in ["start=", "deadline="] {
                if let Some(at) = c.body.find(field) {
                    let from = at + field.len();
                    let end = c.body[from..].find(' ').map_or(c.body.len(), |e| from + e);
                    if let Ok(t) = DateTime::parse_from_rfc3339(&c.body[from..end]) {
                        let moved = (t.with_timezone(&Utc) - by)
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                        c.body.replace_range(from..end, &moved);
                    }
                }
            }
        }
    }

    /// `old` renames their account to `new`: GitHub keeps its id, shows the new login on
    /// everything the account did, and `old` names nobody any more.
    pub fn rename_user(&self, old: &str, new: &str) {
        let mut s = self.state();
        let id = s.id_of(old);
        s.accounts.insert(new.to_ascii_lowercase(), id);
        s.gone.insert(old.to_ascii_lowercase());
        for c in s
            .comments
            .values_mut()
            .filter(|c| c.user.eq_ignore_ascii_case(old))
        {
            c.user = new.to_owned();
        }
        for e in s
            .events
            .iter_mut()
            .filter(|e| e.actor.eq_ignore_ascii_case(old))
        {
            e.actor = new.to_owned();
        }
        for members in s.teams.values_mut() {
            if let Some(state) = members
                .remove(&old.to_ascii_lowercase())
                .or(members.remove(old))
            {
                members.insert(new.to_owned(), state);
            }
        }
    }

    /// The events of an issue, oldest first.
    pub fn events(&self, number: u64) -> Vec<FakeEvent> {
        self.state()
            .events
            .iter()
            .filter(|e| e.issue == number)
            .cloned()
            .collect()
    }

    /// Edits a comment, as its author or as anyone with write access: GitHub keeps the
    /// author and re-dates `updated_at`.
    pub fn edit_comment(&self, id: u64, body: &str) {
        let mut s = self.state();
        let now = s.tick();
        let c = s.comments.get_mut(&id).expect("comment exists");
        c.body = body.to_owned();
        c.updated_at = now;
        c.last_edited_at = Some(now);
        c.editor = Some("mallory".into());
    }

    /// `editor` edits a comment within the second it was posted (a script watching the
    /// comment feed can): the REST timestamps stay equal, GitHub records the edit.
    pub fn edit_comment_within_its_second(&self, id: u64, editor: &str, body: &str) {
        let mut s = self.state();
        let c = s.comments.get_mut(&id).expect("comment exists");
        c.body = body.to_owned();
        c.last_edited_at = Some(c.created_at);
        c.editor = Some(editor.to_owned());
    }

    /// Closes an issue as `login` with a raw `state_reason` (`completed`,
    /// `not_planned`, or anything).
    pub fn close_as(&self, number: u64, login: &str, reason: &str) {
        self.state().close(number, login, reason);
    }

    /// Reopens an issue as `login`: anyone with triage or write access can.
    pub fn reopen_as(&self, number: u64, login: &str) {
        self.state().reopen(number, login);
    }

    /// Deletes an issue: it answers 410 and leaves listings.
    pub fn delete_issue(&self, number: u64) {
        self.state()
            .issues
            .get_mut(&number)
            .expect("issue exists")
            .deleted = true;
    }

    /// Removes an issue and its comments: it answers 404 (as a transferred issue or
    /// one in a repository the token no longer sees) and leaves listings. Its number
    /// is not reused.
    pub fn remove_issue(&self, number: u64) {
        let mut s = self.state();
        s.issues.remove(&number).expect("issue exists");
        s.comments.retain(|_, c| c.issue != number);
    }

    // ----- inspection -----

    /// The issue with this number.
    pub fn issue(&self, number: u64) -> Option<FakeIssue> {
        self.state().issues.get(&number).cloned()
    }

    /// Every issue (pull requests included).
    pub fn issues(&self) -> Vec<FakeIssue> {
        self.state().issues.values().cloned().collect()
    }

    /// The comments of an issue, oldest first.
    pub fn comments(&self, number: u64) -> Vec<FakeComment> {
        self.state()
            .comments
            .values()
            .filter(|c| c.issue == number)
            .cloned()
            .collect()
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state().seen.clone()
    }

    /// Requests GitHub's published API description would not accept, with why.
    pub fn violations(&self) -> Vec<String> {
        self.state().violations.clone()
    }

    /// Takes the violations seen so far (a test that sends a bad request on purpose).
    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.state().violations)
    }

    /// Forgets the requests seen so far.
    pub fn clear_seen(&self) {
        self.state().seen.clear();
    }

    /// How many requests hit `route`.
    pub fn count(&self, route: Route) -> usize {
        self.state()
            .seen
            .iter()
            .filter(|r| r.route == route)
            .count()
    }

    /// How many requests were answered with `status`.
    pub fn count_status(&self, status: u16) -> usize {
        self.state()
            .seen
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    /// How many requests count against GitHub's rate limit (all but 304s).
    pub fn rate_limited_requests(&self) -> usize {
        self.state().seen.iter().filter(|r| r.status != 304).count()
    }

    /// The installation tokens issued so far.
    pub fn installation_tokens_issued(&self) -> usize {
        self.state().installation_tokens.len()
    }
}

// ----- HTTP -----

// ----- keys -----
