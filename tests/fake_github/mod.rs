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

pub mod openapi;

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
    /// `GET /repos/{o}/{r}/issues/{n}`.
    GetIssue,
    /// `PATCH /repos/{o}/{r}/issues/{n}`.
    UpdateIssue,
    /// `GET /repos/{o}/{r}/issues/{n}/comments`.
    ListComments,
    /// `POST /repos/{o}/{r}/issues/{n}/comments`.
    CreateComment,
    /// `GET /repos/{o}/{r}/issues/{n}/events`.
    ListEvents,
    /// `GET /orgs/{org}/teams/{team}/memberships/{login}`.
    TeamMembership,
    /// `GET /repos/{o}/{r}/collaborators/{login}/permission`.
    Permission,
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
struct FaultRule {
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

/// An issue (or pull request) in the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIssue {
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// `open` or `closed`.
    pub state: String,
    /// Raw `state_reason`.
    pub state_reason: Option<String>,
    /// Who closed it last.
    pub closed_by: Option<String>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who opened it.
    pub user: String,
    /// Deleted issues answer 410.
    pub deleted: bool,
    /// Whether it is a pull request.
    pub pull_request: bool,
}

/// A comment in the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    /// Id.
    pub id: u64,
    /// The issue number.
    pub issue: u64,
    /// Author login.
    pub user: String,
    /// Body.
    pub body: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last edited.
    pub updated_at: DateTime<Utc>,
}

/// An issue event in the fake: who closed or reopened an issue, as GitHub records it
/// (nobody can edit or delete one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeEvent {
    /// Id.
    pub id: u64,
    /// The issue number.
    pub issue: u64,
    /// Who did it.
    pub actor: String,
    /// `closed` or `reopened`.
    pub event: String,
    /// The close's `state_reason`.
    pub state_reason: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The GitHub App the fake knows.
#[derive(Debug, Clone)]
pub struct FakeApp {
    /// App id (the JWT's `iss`).
    pub id: u64,
    /// Slug; the bot is `<slug>[bot]`.
    pub slug: String,
    /// The installation on the fake's repository.
    pub installation_id: u64,
    /// Lifetime of the installation tokens it issues.
    pub token_ttl: chrono::TimeDelta,
    /// The App's public key (PKCS#1 `RSAPublicKey` DER) that JWTs must verify with.
    pub public_key: Vec<u8>,
}

#[derive(Debug)]
struct State {
    now: DateTime<Utc>,
    users: BTreeMap<String, String>,
    app: Option<FakeApp>,
    installation_tokens: HashMap<String, DateTime<Utc>>,
    issues: BTreeMap<u64, FakeIssue>,
    comments: BTreeMap<u64, FakeComment>,
    events: Vec<FakeEvent>,
    next_number: u64,
    next_comment: u64,
    teams: BTreeMap<(String, String), BTreeMap<String, String>>,
    permissions: BTreeMap<String, String>,
    faults: Vec<FaultRule>,
    seen: Vec<Seen>,
    /// Requests GitHub's published API description would not accept, with why.
    violations: Vec<String>,
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
        let mut s = self.state();
        let now = s.tick();
        let issue = s.issues.get_mut(&number).expect("issue exists");
        issue.body = body.to_owned();
        issue.updated_at = now;
    }

    /// Someone with write access deletes a comment: the REST API keeps no trace of it.
    pub fn delete_comment(&self, id: u64) {
        self.state().comments.remove(&id).expect("comment exists");
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

impl State {
    fn tick(&mut self) -> DateTime<Utc> {
        self.now += chrono::TimeDelta::seconds(1);
        self.now
    }

    fn create_issue(
        &mut self,
        login: &str,
        title: &str,
        body: &str,
        labels: Vec<String>,
        assignees: Vec<String>,
        pull_request: bool,
    ) -> u64 {
        let now = self.tick();
        let number = self.next_number;
        self.next_number += 1;
        self.issues.insert(
            number,
            FakeIssue {
                number,
                title: title.to_owned(),
                body: body.to_owned(),
                labels,
                assignees,
                state: "open".into(),
                state_reason: None,
                closed_by: None,
                closed_at: None,
                created_at: now,
                updated_at: now,
                user: login.to_owned(),
                deleted: false,
                pull_request,
            },
        );
        // Like GitHub, an issue opened with labels and assignees has those as events.
        let issue = &self.issues[&number];
        let (labels, assignees) = (issue.labels.len(), issue.assignees.len());
        for _ in 0..labels {
            self.record(number, login, "labeled", None);
        }
        for _ in 0..assignees {
            self.record(number, login, "assigned", None);
        }
        number
    }

    fn add_comment(&mut self, number: u64, login: &str, body: &str) -> u64 {
        let now = self.tick();
        let id = self.next_comment;
        self.next_comment += 1;
        self.comments.insert(
            id,
            FakeComment {
                id,
                issue: number,
                user: login.to_owned(),
                body: body.to_owned(),
                created_at: now,
                updated_at: now,
            },
        );
        if let Some(issue) = self.issues.get_mut(&number) {
            issue.updated_at = now;
        }
        id
    }

    fn close(&mut self, number: u64, login: &str, reason: &str) {
        let now = self.tick();
        let issue = self.issues.get_mut(&number).expect("issue exists");
        issue.state = "closed".into();
        issue.state_reason = Some(reason.to_owned());
        issue.closed_by = Some(login.to_owned());
        issue.closed_at = Some(now);
        issue.updated_at = now;
        self.record(number, login, "closed", Some(reason));
    }

    fn reopen(&mut self, number: u64, login: &str) {
        let now = self.tick();
        let issue = self.issues.get_mut(&number).expect("issue exists");
        issue.state = "open".into();
        issue.state_reason = Some("reopened".into());
        issue.closed_at = None;
        issue.updated_at = now;
        self.record(number, login, "reopened", None);
    }

    fn record(&mut self, number: u64, login: &str, event: &str, reason: Option<&str>) {
        let id = 5_000 + self.events.len() as u64;
        self.events.push(FakeEvent {
            id,
            issue: number,
            actor: login.to_owned(),
            event: event.to_owned(),
            state_reason: reason.map(str::to_owned),
            created_at: self.now,
        });
    }

    fn comment_count(&self, number: u64) -> usize {
        self.comments.values().filter(|c| c.issue == number).count()
    }

    fn take_fault(&mut self, route: Route) -> Option<Fault> {
        let index = self
            .faults
            .iter()
            .position(|f| f.route.is_none_or(|r| r == route) && f.remaining != Some(0))?;
        let rule = &mut self.faults[index];
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }
}

// ----- HTTP -----

struct Answer {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
    raw: Option<String>,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Self {
        Answer {
            status,
            headers: Vec::new(),
            body: Some(body),
            raw: None,
        }
    }

    fn message(status: StatusCode, message: &str) -> Self {
        Self::json(
            status,
            json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
        )
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_map(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Who a request acts as.
enum Caller {
    User(String),
    App,
    Nobody,
}

fn caller(state: &State, headers: &HeaderMap) -> Caller {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Caller::Nobody;
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
        .unwrap_or("");
    if let Some(login) = state.users.get(token) {
        return Caller::User(login.clone());
    }
    if let (Some(expires), Some(app)) = (state.installation_tokens.get(token), &state.app) {
        if *expires > Utc::now() {
            return Caller::User(format!("{}[bot]", app.slug));
        }
        return Caller::Nobody;
    }
    if let Some(app) = &state.app
        && jwt_issuer(token, &app.public_key)
            .is_some_and(|(iss, exp)| iss == app.id && exp > Utc::now().timestamp())
    {
        return Caller::App;
    }
    Caller::Nobody
}

/// The `iss` and `exp` of an RS256 JWT whose signature verifies with `public_key`.
fn jwt_issuer(token: &str, public_key: &[u8]) -> Option<(u64, i64)> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let alg: Value = serde_json::from_slice(&b64.decode(header).ok()?).ok()?;
    if alg["alg"] != "RS256" {
        return None;
    }
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    )
    .verify(
        format!("{header}.{payload}").as_bytes(),
        &b64.decode(signature).ok()?,
    )
    .ok()?;
    let payload = b64.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&payload).ok()?;
    let iss = match &claims["iss"] {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some((iss, claims["exp"].as_i64()?))
}

fn route_of(method: &Method, segments: &[String]) -> Route {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let repo = |o: &str, r: &str| o == OWNER && r == REPO;
    match (method.as_str(), s.as_slice()) {
        ("GET", ["user"]) => Route::User,
        ("GET", ["users", _]) => Route::UserByLogin,
        ("GET", ["app"]) => Route::App,
        ("POST", ["app", "installations", _, "access_tokens"]) => Route::AccessToken,
        ("GET", ["repos", o, r, "installation"]) if repo(o, r) => Route::RepoInstallation,
        ("GET", ["repos", o, r, "issues"]) if repo(o, r) => Route::ListIssues,
        ("POST", ["repos", o, r, "issues"]) if repo(o, r) => Route::CreateIssue,
        ("GET", ["repos", o, r, "issues", "comments"]) if repo(o, r) => Route::ListRepoComments,
        ("GET", ["repos", o, r, "issues", _]) if repo(o, r) => Route::GetIssue,
        ("PATCH", ["repos", o, r, "issues", _]) if repo(o, r) => Route::UpdateIssue,
        ("GET", ["repos", o, r, "issues", _, "comments"]) if repo(o, r) => Route::ListComments,
        ("POST", ["repos", o, r, "issues", _, "comments"]) if repo(o, r) => Route::CreateComment,
        ("GET", ["repos", o, r, "issues", _, "events"]) if repo(o, r) => Route::ListEvents,
        ("GET", ["orgs", _, "teams", _, "memberships", _]) => Route::TeamMembership,
        ("GET", ["repos", o, r, "collaborators", _, "permission"]) if repo(o, r) => {
            Route::Permission
        }
        _ => Route::Unknown,
    }
}

async fn handle(AxumState(shared): AxumState<Arc<Shared>>, request: Request) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    // GitHub Enterprise Server serves the API under /api/v3.
    let full_path = uri.path().to_owned();
    let (prefix, path) = match full_path.strip_prefix("/api/v3") {
        Some(rest) => ("/api/v3", rest.to_owned()),
        None => ("", full_path.clone()),
    };
    let segments: Vec<String> = path.trim_matches('/').split('/').map(decode).collect();
    let route = route_of(&method, &segments);
    let query = query_map(uri.query().unwrap_or(""));
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let fault = shared.state.lock().unwrap().take_fault(route);
    let fault = match fault {
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        other => other,
    };

    let mut state = shared.state.lock().unwrap();
    let mut answer = match &fault {
        Some(Fault::Status(code)) => Some(Answer::message(
            StatusCode::from_u16(*code).unwrap(),
            "injected fault",
        )),
        Some(Fault::RateLimit403 { reset_in }) => {
            let mut a = Answer::message(StatusCode::FORBIDDEN, "API rate limit exceeded for user");
            a.headers = vec![
                ("x-ratelimit-limit", "5000".into()),
                ("x-ratelimit-remaining", "0".into()),
                (
                    "x-ratelimit-reset",
                    (Utc::now().timestamp() + *reset_in as i64).to_string(),
                ),
            ];
            Some(a)
        }
        Some(Fault::SecondaryRateLimit) => Some(Answer::message(
            StatusCode::FORBIDDEN,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        )),
        Some(Fault::TooManyRequests { retry_after }) => {
            let mut a = Answer::message(
                StatusCode::TOO_MANY_REQUESTS,
                "You have exceeded a secondary rate limit",
            );
            a.headers = vec![("retry-after", retry_after.to_string())];
            Some(a)
        }
        Some(Fault::EchoAuthorization(code)) => {
            let sent = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            Some(Answer::message(
                StatusCode::from_u16(*code).unwrap(),
                &format!("upstream refused Authorization: {sent}"),
            ))
        }
        Some(Fault::MalformedJson) => Some(Answer {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: None,
            raw: Some("{\"number\": 1, \"title\": \"trunc".into()),
        }),
        _ => None,
    };
    if answer.is_none() {
        let link_base = format!("{}{}{}", shared.base, prefix, path);
        let mut a = serve(
            &mut state, route, &method, &segments, &query, &headers, &body, &link_base,
        );
        if let Some(Fault::AfterEffect(code)) = fault {
            a = Answer::message(
                StatusCode::from_u16(code).unwrap(),
                "injected fault after the work",
            );
        }
        answer = Some(a);
    }
    let answer = answer.unwrap();

    let text = answer
        .raw
        .clone()
        .or_else(|| answer.body.as_ref().map(|b| b.to_string()))
        .unwrap_or_default();
    let mut status = answer.status;
    let mut response_headers: Vec<(&'static str, String)> = answer.headers.clone();
    let mut send_body = text.clone();
    if method == Method::GET && status == StatusCode::OK && answer.raw.is_none() {
        // Like GitHub's, the ETag covers the body only, not the `Link` header.
        let digest = Sha256::digest(text.as_bytes());
        let etag = format!(
            "W/\"{}\"",
            digest[..10]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        if if_none_match.as_deref() == Some(etag.as_str()) {
            status = StatusCode::NOT_MODIFIED;
            send_body.clear();
        }
        response_headers.push(("etag", etag));
    }
    state.seen.push(Seen {
        method: method.to_string(),
        route,
        uri: uri.to_string(),
        status: status.as_u16(),
        conditional: if_none_match.is_some(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).ok(),
    });
    // Like GitHub, the fake only accepts what GitHub's API description allows: a request
    // it would refuse is remembered, and fails the test when the fake is dropped.
    let path_and_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let json_body: Option<Value> = serde_json::from_slice(&body).ok();
    if let Err(why) = openapi::github().check(method.as_str(), &path_and_query, json_body.as_ref())
    {
        state.violations.push(why);
    }
    drop(state);

    let mut builder = Response::builder().status(status);
    if !send_body.is_empty() {
        builder = builder.header(header::CONTENT_TYPE, "application/json; charset=utf-8");
    }
    for (k, v) in response_headers {
        builder = builder.header(k, HeaderValue::from_str(&v).unwrap());
    }
    builder.body(Body::from(send_body)).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn serve(
    state: &mut State,
    route: Route,
    method: &Method,
    segments: &[String],
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
    link_base: &str,
) -> Answer {
    if route == Route::Unknown {
        return Answer::message(
            StatusCode::NOT_FOUND,
            &format!(
                "Not Found (fake has no route for {method} /{})",
                segments.join("/")
            ),
        );
    }
    let caller = caller(state, headers);
    let needs_app = matches!(
        route,
        Route::App | Route::RepoInstallation | Route::AccessToken
    );
    let login = match (&caller, needs_app) {
        (Caller::App, true) => String::new(),
        (Caller::User(login), false) => login.clone(),
        (Caller::Nobody, _) => return Answer::message(StatusCode::UNAUTHORIZED, "Bad credentials"),
        (Caller::App, false) | (Caller::User(_), true) => {
            return Answer::message(
                StatusCode::UNAUTHORIZED,
                "A JSON web token could not be decoded",
            );
        }
    };
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let number = || segments.get(4).and_then(|n| n.parse::<u64>().ok());
    match route {
        Route::User => Answer::json(StatusCode::OK, user_json(&login)),
        Route::UserByLogin => Answer::json(StatusCode::OK, user_json(&segments[1])),
        Route::App => {
            let app = state.app.as_ref().unwrap();
            Answer::json(
                StatusCode::OK,
                json!({ "id": app.id, "slug": app.slug, "name": app.slug }),
            )
        }
        Route::RepoInstallation => {
            let app = state.app.as_ref().unwrap();
            Answer::json(
                StatusCode::OK,
                json!({ "id": app.installation_id, "app_id": app.id }),
            )
        }
        Route::AccessToken => {
            let app = state.app.clone().unwrap();
            if segments[2] != app.installation_id.to_string() {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            }
            let token = format!(
                "ghs_fakeinstallation{:04}",
                state.installation_tokens.len() + 1
            );
            let expires = Utc::now() + app.token_ttl;
            state.installation_tokens.insert(token.clone(), expires);
            Answer::json(
                StatusCode::CREATED,
                json!({ "token": token, "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) }),
            )
        }
        Route::ListIssues => list_issues(state, query, link_base),
        Route::CreateIssue => {
            let Some(title) = input["title"].as_str() else {
                return Answer::message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
            };
            let strings = |v: &Value| -> Vec<String> {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let number = state.create_issue(
                &login,
                title,
                input["body"].as_str().unwrap_or(""),
                strings(&input["labels"]),
                strings(&input["assignees"]),
                false,
            );
            let issue = state.issues[&number].clone();
            Answer::json(StatusCode::CREATED, issue_json(state, &issue, true))
        }
        Route::GetIssue => match number().and_then(|n| state.issues.get(&n)).cloned() {
            None => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
            Some(i) if i.deleted => Answer::message(StatusCode::GONE, "This issue was deleted"),
            Some(i) => Answer::json(StatusCode::OK, issue_json(state, &i, true)),
        },
        Route::UpdateIssue => {
            let Some(n) = number().filter(|n| state.issues.get(n).is_some_and(|i| !i.deleted))
            else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            match input["state"].as_str() {
                Some("closed") => {
                    let reason = input["state_reason"].as_str().unwrap_or("completed");
                    state.close(n, &login, reason);
                }
                Some("open") => state.reopen(n, &login),
                _ => {}
            }
            let issue = state.issues[&n].clone();
            Answer::json(StatusCode::OK, issue_json(state, &issue, true))
        }
        Route::ListComments => {
            let Some(n) = number().filter(|n| state.issues.contains_key(n)) else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            if state.issues[&n].deleted {
                return Answer::message(StatusCode::GONE, "This issue was deleted");
            }
            let items: Vec<Value> = state
                .comments
                .values()
                .filter(|c| c.issue == n)
                .map(comment_json)
                .collect();
            paginate(items, query, link_base)
        }
        Route::ListRepoComments => {
            // Like GitHub: `since` keeps what changed after it; sorted by `created` unless
            // asked otherwise; comments of deleted issues are gone.
            let since = match query.get("since").map(|s| DateTime::parse_from_rfc3339(s)) {
                None => None,
                Some(Ok(t)) => Some(t.with_timezone(&Utc)),
                Some(Err(_)) => {
                    return Answer::message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
                }
            };
            let mut comments: Vec<&FakeComment> = state
                .comments
                .values()
                .filter(|c| state.issues.get(&c.issue).is_some_and(|i| !i.deleted))
                .filter(|c| since.is_none_or(|s| c.updated_at > s))
                .collect();
            if query.get("sort").map(String::as_str) == Some("updated") {
                comments.sort_by_key(|c| (c.updated_at, c.id));
            } else {
                comments.sort_by_key(|c| (c.created_at, c.id));
            }
            if query.get("direction").map(String::as_str) == Some("desc") {
                comments.reverse();
            }
            let items = comments.into_iter().map(comment_json).collect();
            paginate(items, query, link_base)
        }
        Route::ListEvents => {
            let Some(n) = number().filter(|n| state.issues.contains_key(n)) else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            if state.issues[&n].deleted {
                return Answer::message(StatusCode::GONE, "This issue was deleted");
            }
            let items: Vec<Value> = state
                .events
                .iter()
                .filter(|e| e.issue == n)
                .map(event_json)
                .collect();
            paginate(items, query, link_base)
        }
        Route::CreateComment => {
            let Some(n) = number().filter(|n| state.issues.get(n).is_some_and(|i| !i.deleted))
            else {
                return Answer::message(StatusCode::NOT_FOUND, "Not Found");
            };
            let id = state.add_comment(n, &login, input["body"].as_str().unwrap_or(""));
            Answer::json(StatusCode::CREATED, comment_json(&state.comments[&id]))
        }
        Route::TeamMembership => {
            let key = (segments[1].clone(), segments[3].clone());
            match state.teams.get(&key).and_then(|m| m.get(&segments[5])) {
                Some(s) => Answer::json(
                    StatusCode::OK,
                    json!({ "state": s, "role": "member", "url": "" }),
                ),
                None => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
            }
        }
        Route::Permission => match state.permissions.get(&segments[4]) {
            Some(role) => {
                let legacy = match role.as_str() {
                    "admin" => "admin",
                    "maintain" | "write" => "write",
                    "triage" | "read" => "read",
                    "none" => "none",
                    _ => "read",
                };
                Answer::json(
                    StatusCode::OK,
                    json!({ "permission": legacy, "role_name": role, "user": { "login": segments[4] } }),
                )
            }
            None => Answer::message(StatusCode::NOT_FOUND, "Not Found"),
        },
        Route::Unknown => unreachable!(),
    }
}

fn list_issues(state: &State, query: &BTreeMap<String, String>, link_base: &str) -> Answer {
    let wanted: Vec<&str> = query
        .get("labels")
        .map(|l| l.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let which = query.get("state").map(String::as_str).unwrap_or("open");
    let creator = query.get("creator");
    let since = match query.get("since").map(|s| DateTime::parse_from_rfc3339(s)) {
        None => None,
        Some(Ok(t)) => Some(t.with_timezone(&Utc)),
        Some(Err(_)) => {
            return Answer::message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
        }
    };
    let mut issues: Vec<&FakeIssue> = state
        .issues
        .values()
        .filter(|i| !i.deleted)
        .filter(|i| creator.is_none_or(|c| i.user.eq_ignore_ascii_case(c)))
        .filter(|i| wanted.iter().all(|w| i.labels.iter().any(|l| l == w)))
        .filter(|i| which == "all" || i.state == which)
        .filter(|i| since.is_none_or(|s| i.updated_at > s))
        .collect();
    match query.get("sort").map(String::as_str) {
        Some("updated") => issues.sort_by_key(|i| (i.updated_at, i.number)),
        _ => issues.sort_by_key(|i| (i.created_at, i.number)),
    }
    if query.get("direction").map(String::as_str) != Some("asc") {
        issues.reverse();
    }
    let items = issues
        .into_iter()
        .map(|i| issue_json(state, i, false))
        .collect();
    paginate(items, query, link_base)
}

fn paginate(items: Vec<Value>, query: &BTreeMap<String, String>, link_base: &str) -> Answer {
    let per_page = query
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let pages = items.len().div_ceil(per_page).max(1);
    let chunk: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let url = |p: usize| {
        let mut q = query.clone();
        q.insert("page".into(), p.to_string());
        let qs: Vec<String> = q
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "%20").replace(',', "%2C")))
            .collect();
        format!("<{link_base}?{}>", qs.join("&"))
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    let mut answer = Answer::json(StatusCode::OK, Value::Array(chunk));
    if !links.is_empty() {
        answer.headers.push(("link", links.join(", ")));
    }
    answer
}

/// A user as GitHub shows it; its id stays the same for the same login.
fn user_json(login: &str) -> Value {
    json!({
        "login": login,
        "id": function_release_pipeline::github::fake::user_id(login),
        "type": if login.ends_with("[bot]") { "Bot" } else { "User" },
    })
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An issue as GitHub shows it; the single-issue endpoint adds `closed_by`, listings
/// do not carry it.
fn issue_json(state: &State, i: &FakeIssue, single: bool) -> Value {
    let mut v = json!({
        "id": 100_000 + i.number,
        "node_id": format!("I_fake{}", i.number),
        "url": format!("https://api.github.example/repos/{OWNER}/{REPO}/issues/{}", i.number),
        "html_url": format!("https://github.example/{OWNER}/{REPO}/issues/{}", i.number),
        "number": i.number,
        "title": i.title,
        "body": if i.body.is_empty() { Value::Null } else { Value::String(i.body.clone()) },
        "state": i.state,
        "state_reason": i.state_reason,
        "locked": false,
        "labels": i.labels.iter().enumerate().map(|(n, l)| json!({ "id": n, "name": l, "color": "ededed", "default": false })).collect::<Vec<_>>(),
        "assignees": i.assignees.iter().map(|a| user_json(a)).collect::<Vec<_>>(),
        "user": user_json(&i.user),
        "comments": state.comment_count(i.number),
        "created_at": time(i.created_at),
        "updated_at": time(i.updated_at),
        "closed_at": i.closed_at.map(time),
        "author_association": "MEMBER",
    });
    if single {
        v["closed_by"] = i.closed_by.as_deref().map(user_json).unwrap_or(Value::Null);
    }
    if i.pull_request {
        v["pull_request"] = json!({ "url": format!("https://api.github.example/repos/{OWNER}/{REPO}/pulls/{}", i.number) });
    }
    v
}

/// A close or reopen as the issue events endpoint lists it (GitHub's
/// `state-change-issue-event`).
fn event_json(e: &FakeEvent) -> Value {
    json!({
        "id": e.id,
        "node_id": format!("SE_fake{}", e.id),
        "url": format!("https://api.github.example/repos/{OWNER}/{REPO}/issues/events/{}", e.id),
        "actor": user_json(&e.actor),
        "event": e.event,
        "commit_id": Value::Null,
        "commit_url": Value::Null,
        "created_at": time(e.created_at),
        "performed_via_github_app": Value::Null,
        "state_reason": e.state_reason,
    })
}

fn comment_json(c: &FakeComment) -> Value {
    json!({
        "id": c.id,
        "node_id": format!("IC_fake{}", c.id),
        "user": user_json(&c.user),
        "body": c.body,
        "url": format!("https://api.github.example/repos/{OWNER}/{REPO}/issues/comments/{}", c.id),
        "html_url": format!("https://github.example/{OWNER}/{REPO}/issues/{}#issuecomment-{}", c.issue, c.id),
        "issue_url": format!("https://api.github.example/repos/{OWNER}/{REPO}/issues/{}", c.issue),
        "created_at": time(c.created_at),
        "updated_at": time(c.updated_at),
        "author_association": "MEMBER",
    })
}

// ----- keys -----

/// A GitHub App private key, in both PEM forms GitHub hands out or users convert to.
pub struct AppKeys {
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8).
    pub pkcs8: String,
    /// `-----BEGIN RSA PRIVATE KEY-----` (PKCS#1).
    pub pkcs1: String,
    /// The public key (PKCS#1 `RSAPublicKey` DER), for [`FakeApp::public_key`].
    pub public: Vec<u8>,
}

/// A 2048-bit RSA key generated once per test binary (aws-lc-rs through rcgen; no
/// network, no openssl).
pub fn app_keys() -> &'static AppKeys {
    static KEYS: std::sync::OnceLock<AppKeys> = std::sync::OnceLock::new();
    KEYS.get_or_init(generate_app_keys)
}

/// A new 2048-bit RSA key.
pub fn generate_app_keys() -> AppKeys {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa key");
    let pkcs8 = pair.serialize_der();
    let pkcs1 = pkcs1_of(&pkcs8);
    AppKeys {
        pkcs8: pair.serialize_pem(),
        pkcs1: pem("RSA PRIVATE KEY", &pkcs1),
        public: pair.public_key_raw().to_vec(),
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`: the OCTET STRING that
/// follows the version and the algorithm identifier.
fn pkcs1_of(pkcs8: &[u8]) -> Vec<u8> {
    // (tag, start of content, end of content) of the DER element at `at`.
    fn element(der: &[u8], at: usize) -> (u8, usize, usize) {
        let tag = der[at];
        let first = der[at + 1] as usize;
        if first < 0x80 {
            (tag, at + 2, at + 2 + first)
        } else {
            let n = first & 0x7f;
            let len = der[at + 2..at + 2 + n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | *b as usize);
            (tag, at + 2 + n, at + 2 + n + len)
        }
    }
    let (_, body, _) = element(pkcs8, 0);
    let (_, _, after_version) = element(pkcs8, body);
    let (_, _, after_algorithm) = element(pkcs8, after_version);
    let (tag, start, end) = element(pkcs8, after_algorithm);
    assert_eq!(tag, 0x04, "PKCS#8 private key is an OCTET STRING");
    pkcs8[start..end].to_vec()
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}
