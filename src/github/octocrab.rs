//! The real GitHub, through octocrab: the only file that imports octocrab.
//!
//! octocrab is the HTTP and authentication layer (base URI for GitHub Enterprise
//! Server, token or App JWT, connect/read/write timeouts); requests go through its
//! low-level `execute` so that this file sets `If-None-Match`, reads status codes and
//! rate-limit headers, and parses bodies into the wire structs of [`super::rest`].
//! octocrab's models never leave this file.
//!
//! What it keeps between calls (the connector lives as long as the server): clients per
//! credentials, an ETag cache, identities, App installation ids and installation tokens
//! (until five minutes before they expire). It never retries a request (a POST retried
//! after a 5xx can open a duplicate issue) and never sleeps on a rate limit. Secrets
//! are sent only in the `Authorization` header and scrubbed from every error message.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, StatusCode, header};
use octocrab::Octocrab;
use serde_json::json;

use super::credentials::fingerprint;
use super::etag::{Cached, EtagCache};
use super::rest::{self, WireAccessToken, WireApp, WireComment, WireInstallation, WireIssue};
use super::{
    CloseReason, Comment, Connector, Credentials, GitHub, GitHubError, Identity, Issue, IssueEvent,
    NewIssue, Result, Secret, Target,
};
use crate::input::Permission;

/// Time allowed to open a connection to GitHub.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for each read or write on the connection.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers kept for conditional requests (about three per pending gate).
const ETAG_CAPACITY: usize = 4096;
/// Bytes those answers may take; one over an eighth of it is not kept.
const ETAG_BYTES: usize = 16 << 20;
/// How long the function's identity is believed before it is read again: a renamed
/// account or App shows its new login (which listings ask for) within this time.
const IDENTITY_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// An installation token is replaced this long before it expires.
const TOKEN_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// GitHub assigns at most this many users to an issue.
const MAX_ASSIGNEES: usize = 10;
/// Items asked for per page of a listing (GitHub's maximum).
const PER_PAGE: usize = 100;
/// A listing longer than this many pages is refused rather than followed forever.
const MAX_PAGES: usize = 1000;

/// The timeouts of every GitHub request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the connection.
    pub connect: Duration,
    /// Each read or write; the whole exchange gets `connect + read`.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: CONNECT_TIMEOUT,
            read: READ_TIMEOUT,
        }
    }
}

impl Timeouts {
    /// The deadline of one whole request, body included.
    fn exchange(&self) -> Duration {
        self.connect + self.read
    }
}

/// What the connector keeps between calls.
#[derive(Default)]
struct Caches {
    /// octocrab clients by credentials identity (a token client, or an App's JWT client).
    clients: Mutex<HashMap<String, Octocrab>>,
    /// Logins by credentials identity.
    identities: Mutex<HashMap<String, (Identity, DateTime<Utc>)>>,
    /// App installation ids by App identity and repository.
    installations: Mutex<HashMap<String, u64>>,
    /// Installation tokens by App identity and installation.
    tokens: Mutex<HashMap<String, InstallationToken>>,
}

#[derive(Clone)]
struct InstallationToken {
    token: Secret,
    expires_at: Option<DateTime<Utc>>,
}

impl InstallationToken {
    fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at - now > TOKEN_MARGIN)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves only a cache behind: keep using it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Connects to GitHub's REST API (github.com or GitHub Enterprise Server).
pub struct OctocrabConnector {
    timeouts: Timeouts,
    caches: Arc<Caches>,
    etags: Arc<EtagCache>,
}

impl std::fmt::Debug for OctocrabConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OctocrabConnector")
            .field("timeouts", &self.timeouts)
            .field("etags", &self.etags.len())
            .finish()
    }
}

impl Default for OctocrabConnector {
    fn default() -> Self {
        Self::with_timeouts(Timeouts::default())
    }
}

impl OctocrabConnector {
    /// A connector whose requests use these timeouts.
    pub fn with_timeouts(timeouts: Timeouts) -> Self {
        OctocrabConnector {
            timeouts,
            caches: Arc::default(),
            etags: Arc::new(EtagCache::new(ETAG_CAPACITY, ETAG_BYTES)),
        }
    }

    /// The octocrab client for `identity`, built once.
    fn client(&self, identity: &str, build: impl FnOnce() -> Result<Octocrab>) -> Result<Octocrab> {
        if let Some(crab) = lock(&self.caches.clients).get(identity) {
            return Ok(crab.clone());
        }
        let crab = build()?;
        lock(&self.caches.clients).insert(identity.to_owned(), crab.clone());
        Ok(crab)
    }

    fn builder(
        &self,
        api_url: &str,
    ) -> Result<
        octocrab::OctocrabBuilder<
            octocrab::NoSvc,
            octocrab::DefaultOctocrabBuilderConfig,
            octocrab::NoAuth,
            octocrab::NotLayerReady,
        >,
    > {
        let invalid =
            || GitHubError::Transport(format!("apiUrl {api_url:?} is not an http(s) URL"));
        // octocrab panics on a base without scheme or host: refuse it first.
        let uri: http::Uri = api_url
            .trim_end_matches('/')
            .parse()
            .map_err(|_| invalid())?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
            return Err(invalid());
        }
        Octocrab::builder()
            .base_uri(uri)
            .map_err(|_| invalid())
            .map(|b| {
                b.set_connect_timeout(Some(self.timeouts.connect))
                    .set_read_timeout(Some(self.timeouts.read))
                    .set_write_timeout(Some(self.timeouts.read))
            })
    }

    async fn connect_app(
        &self,
        target: &Target,
        app_id: u64,
        private_key: &Secret,
        installation_id: Option<u64>,
    ) -> Result<Arc<dyn GitHub>> {
        let app_identity = fingerprint(
            &target.api_url,
            &["app", &app_id.to_string(), private_key.expose()],
        );
        let crab = self.client(&app_identity, || {
            let key = octocrab::EncodingKey::from_rsa_pem(private_key.expose().as_bytes())
                .map_err(|_| {
                    GitHubError::BadCredentials(
                        "private_key is not an RSA private key in PKCS#1 or PKCS#8 PEM".into(),
                    )
                })?;
            // The key is only used when signing: sign once now so a broken key is
            // reported as bad credentials rather than as a failed request.
            octocrab::auth::create_jwt(octocrab::models::AppId(app_id), &key).map_err(|_| {
                GitHubError::BadCredentials(
                    "private_key cannot sign a GitHub App token (expected an RSA key)".into(),
                )
            })?;
            self.builder(&target.api_url)?
                .app(octocrab::models::AppId(app_id), key)
                .build()
                .map_err(|e| GitHubError::Transport(chain_message(&e)))
        })?;
        let app = Wire {
            crab,
            timeouts: self.timeouts,
            secrets: vec![private_key.clone()],
        };
        let installation = match installation_id {
            Some(id) => id,
            None => self.installation_for(&app, &app_identity, target).await?,
        };
        let token = self
            .installation_token(&app, &app_identity, installation)
            .await?;
        let crab = app
            .crab
            .user_access_token(token.expose().to_owned())
            .map_err(|e| GitHubError::Transport(chain_message(&e)))?;
        Ok(Arc::new(RestGitHub {
            wire: Wire {
                crab,
                timeouts: self.timeouts,
                secrets: vec![token, private_key.clone()],
            },
            identity: format!("{app_identity}/{installation}"),
            login_source: LoginSource::App {
                app: Box::new(app),
                identity: app_identity,
            },
            target: target.clone(),
            caches: self.caches.clone(),
            etags: self.etags.clone(),
        }))
    }

    /// The App's installation on the target repository, looked up once.
    async fn installation_for(
        &self,
        app: &Wire,
        app_identity: &str,
        target: &Target,
    ) -> Result<u64> {
        let key = format!("{app_identity}/{}/{}", target.owner, target.repo);
        if let Some(id) = lock(&self.caches.installations).get(&key) {
            return Ok(*id);
        }
        let what = "cannot find the GitHub App's installation";
        let path = format!(
            "/repos/{}/{}/installation",
            rest::encode(&target.owner),
            rest::encode(&target.repo)
        );
        let reply = app.send(what, Method::GET, &path, None, None).await?;
        if !reply.status.is_success() {
            return Err(match app.fail(what, &reply) {
                GitHubError::NotFound(_) => GitHubError::NotFound(format!(
                    "{what}: the App is not installed on {}/{}",
                    target.owner, target.repo
                )),
                other => other,
            });
        }
        let installation: WireInstallation = rest::parse(what, &reply.body)?;
        lock(&self.caches.installations).insert(key, installation.id);
        Ok(installation.id)
    }

    /// A token for the installation, reused until five minutes before it expires.
    async fn installation_token(
        &self,
        app: &Wire,
        app_identity: &str,
        installation: u64,
    ) -> Result<Secret> {
        // The same key names the installation client's identity (see `failed`).
        let key = format!("{app_identity}/{installation}");
        if let Some(token) = lock(&self.caches.tokens)
            .get(&key)
            .filter(|t| t.fresh(Utc::now()))
        {
            return Ok(token.token.clone());
        }
        let what = "cannot get a GitHub App installation token";
        let path = format!("/app/installations/{installation}/access_tokens");
        let reply = app.send(what, Method::POST, &path, None, None).await?;
        if !reply.status.is_success() {
            return Err(app.fail(what, &reply));
        }
        let answer: WireAccessToken = rest::parse(what, &reply.body)?;
        let token = InstallationToken {
            token: Secret::new(answer.token),
            expires_at: answer.expires_at,
        };
        lock(&self.caches.tokens).insert(key, token.clone());
        Ok(token.token)
    }
}

#[async_trait]
impl Connector for OctocrabConnector {
    async fn connect(&self, target: &Target, credentials: &Credentials) -> Result<Arc<dyn GitHub>> {
        match credentials {
            Credentials::Token(token) => {
                let identity = fingerprint(&target.api_url, &["token", token.expose()]);
                let crab = self.client(&identity, || {
                    self.builder(&target.api_url)?
                        .personal_token(token.expose().to_owned())
                        .build()
                        .map_err(|e| GitHubError::Transport(chain_message(&e)))
                })?;
                Ok(Arc::new(RestGitHub {
                    wire: Wire {
                        crab,
                        timeouts: self.timeouts,
                        secrets: vec![token.clone()],
                    },
                    identity,
                    login_source: LoginSource::User,
                    target: target.clone(),
                    caches: self.caches.clone(),
                    etags: self.etags.clone(),
                }))
            }
            Credentials::App {
                app_id,
                private_key,
                installation_id,
            } => {
                self.connect_app(target, *app_id, private_key, *installation_id)
                    .await
            }
        }
    }
}

/// One answer from GitHub.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// Sends requests with one octocrab client, under the exchange deadline.
#[derive(Clone)]
struct Wire {
    crab: Octocrab,
    timeouts: Timeouts,
    /// What must never appear in an error message.
    secrets: Vec<Secret>,
}

impl Wire {
    /// One request, never retried. `path` is relative to the API root (octocrab adds the
    /// `Authorization` header only to requests for the API root).
    async fn send(
        &self,
        what: &str,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        if_none_match: Option<&str>,
    ) -> Result<Reply> {
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(etag) = if_none_match {
            builder = builder.header(header::IF_NONE_MATCH, etag);
        }
        let request = self.crab.build_request(builder, body).map_err(|e| {
            self.redact(GitHubError::Transport(format!(
                "{what}: {}",
                chain_message(&e)
            )))
        })?;
        let exchange = async {
            let response = self
                .crab
                .execute(request)
                .await
                .map_err(|e| transport_error(what, &e))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = self
                .crab
                .body_to_string(response)
                .await
                .map_err(|e| match e {
                    octocrab::Error::InvalidUtf8 { .. } => {
                        GitHubError::Malformed(format!("{what}: the answer is not UTF-8"))
                    }
                    other => transport_error(what, &other),
                })?;
            Ok(Reply {
                status,
                headers,
                body,
            })
        };
        let deadline = self.timeouts.exchange();
        let reply = match tokio::time::timeout(deadline, exchange).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => {
                crate::metrics::record_github_response(None);
                let err = self.redact(e);
                tracing::info!(reason = err.reason(), error = %err, "github request failed");
                return Err(err);
            }
            Err(_) => {
                crate::metrics::record_github_response(None);
                let err = GitHubError::Timeout(format!(
                    "{what}: no answer within {} ms",
                    deadline.as_millis()
                ));
                tracing::info!(reason = err.reason(), error = %err, "github request failed");
                return Err(err);
            }
        };
        crate::metrics::record_github_response(Some(reply.status.as_u16()));
        if let Some(remaining) = reply
            .header("x-ratelimit-remaining")
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            crate::metrics::set_rate_limit_remaining(remaining);
        }
        tracing::debug!(
            method = %method,
            path,
            status = reply.status.as_u16(),
            conditional = if_none_match.is_some(),
            "github request"
        );
        Ok(reply)
    }

    /// The error for a failed answer.
    fn fail(&self, what: &str, reply: &Reply) -> GitHubError {
        let err = self.redact(rest::classify(
            what,
            reply.status,
            &reply.headers,
            &reply.body,
            Utc::now(),
        ));
        tracing::info!(
            status = reply.status.as_u16(),
            reason = err.reason(),
            error = %err,
            "github answered with an error"
        );
        err
    }

    /// Removes every secret from the error's message.
    fn redact(&self, err: GitHubError) -> GitHubError {
        let scrub = |s: String| {
            let s = self
                .secrets
                .iter()
                .filter(|secret| !secret.expose().is_empty())
                .fold(s, |s, secret| s.replace(secret.expose(), "[redacted]"));
            // An App's JWT is not among the secrets (it is made per request).
            mask_bearer(&s)
        };
        match err {
            GitHubError::MissingCredentials(m) => GitHubError::MissingCredentials(scrub(m)),
            GitHubError::BadCredentials(m) => GitHubError::BadCredentials(scrub(m)),
            GitHubError::Forbidden(m) => GitHubError::Forbidden(scrub(m)),
            GitHubError::NotFound(m) => GitHubError::NotFound(scrub(m)),
            GitHubError::Timeout(m) => GitHubError::Timeout(scrub(m)),
            GitHubError::Server { status, message } => GitHubError::Server {
                status,
                message: scrub(message),
            },
            GitHubError::Malformed(m) => GitHubError::Malformed(scrub(m)),
            GitHubError::Transport(m) => GitHubError::Transport(scrub(m)),
            GitHubError::ReadOnly(m) => GitHubError::ReadOnly(scrub(m)),
            limited @ GitHubError::RateLimited { .. } => limited,
        }
    }
}

/// The text with whatever follows `Bearer ` or `token ` (an `Authorization` value a
/// server repeated) replaced by `[redacted]`.
fn mask_bearer(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let found = ["Bearer ", "bearer ", "token "]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
            .min();
        let Some((at, len)) = found else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at + len]);
        let after = &rest[at + len..];
        let end = after
            .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
            .unwrap_or(after.len());
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &after[end..];
    }
}

/// Every message in an error's source chain, joined, without octocrab's backtraces.
fn chain_message(err: &(dyn std::error::Error + 'static)) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut current = err.source();
    while let Some(e) = current {
        let text = e.to_string();
        if !messages.iter().any(|m| m.contains(&text)) {
            messages.push(text);
        }
        current = e.source();
    }
    if messages.is_empty() {
        messages.push(err.to_string());
    }
    rest::shorten(&messages.join(": "))
}

/// A failed exchange: a timeout when any cause timed out, else a transport error.
fn transport_error(what: &str, err: &octocrab::Error) -> GitHubError {
    let mut timed_out = false;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || e.to_string().to_ascii_lowercase().contains("timed out")
        {
            timed_out = true;
        }
        current = e.source();
    }
    let message = format!("{what}: {}", chain_message(err));
    if timed_out {
        GitHubError::Timeout(message)
    } else {
        GitHubError::Transport(message)
    }
}

/// How the client learns its own login.
enum LoginSource {
    /// `GET /user` with the token.
    User,
    /// `GET /app` with the App's JWT: the bot is `<slug>[bot]`.
    App { app: Box<Wire>, identity: String },
}

/// A body and its pagination link, fresh or from the ETag cache.
struct Page {
    body: Arc<str>,
    link: Option<String>,
}

/// One repository through GitHub's REST API.
struct RestGitHub {
    wire: Wire,
    /// Names the credentials in cache keys.
    identity: String,
    login_source: LoginSource,
    target: Target,
    caches: Arc<Caches>,
    etags: Arc<EtagCache>,
}

impl RestGitHub {
    /// The error for a failed answer. A refused installation token (revoked, or the
    /// App's permissions changed) is dropped so that the next call gets a new one.
    fn failed(&self, what: &str, reply: &Reply) -> GitHubError {
        if reply.status == StatusCode::UNAUTHORIZED {
            // Installation tokens are cached under the client's identity.
            lock(&self.caches.tokens).remove(&self.identity);
        }
        self.wire.fail(what, reply)
    }

    fn repo_path(&self) -> String {
        format!(
            "/repos/{}/{}",
            rest::encode(&self.target.owner),
            rest::encode(&self.target.repo)
        )
    }

    /// A conditional GET: sends the last ETag and answers a 304 from the cache.
    async fn get(&self, what: &str, path: &str) -> Result<Page> {
        let cached = self.etags.get(&self.identity, path);
        let reply = self
            .wire
            .send(
                what,
                Method::GET,
                path,
                None,
                cached.as_ref().map(|c| c.etag.as_str()),
            )
            .await?;
        if reply.status == StatusCode::NOT_MODIFIED {
            return match cached {
                Some(c) => Ok(Page {
                    body: c.body,
                    link: c.link,
                }),
                None => Err(GitHubError::Malformed(format!(
                    "{what}: 304 Not Modified for an unconditional request"
                ))),
            };
        }
        if !reply.status.is_success() {
            if matches!(reply.status.as_u16(), 404 | 410) {
                self.etags.remove(&self.identity, path);
            }
            return Err(self.failed(what, &reply));
        }
        let link = reply.header("link");
        let etag = reply.header("etag");
        let body: Arc<str> = reply.body.into();
        if let Some(etag) = etag {
            self.etags.put(
                &self.identity,
                path,
                Cached {
                    etag,
                    body: body.clone(),
                    link: link.clone(),
                },
            );
        }
        Ok(Page { body, link })
    }

    /// Every page of a listing (`first` asks for [`PER_PAGE`] items), following
    /// `Link: rel="next"` to the end. A full page without a next link is followed by
    /// the next page number anyway: a 304 for an unchanged first page replays the
    /// cached `Link`, which predates any page added since (an ETag covers the body).
    async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        first: String,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(first.clone());
        while let Some(path) = next.take() {
            if !seen.insert(path.clone()) {
                break;
            }
            if seen.len() > MAX_PAGES {
                return Err(GitHubError::Malformed(format!(
                    "{what}: more than {MAX_PAGES} pages"
                )));
            }
            let page = self.get(what, &path).await?;
            let batch: Vec<T> = rest::parse(what, &page.body)?;
            let full = batch.len() >= PER_PAGE;
            items.extend(batch);
            next = page
                .link
                .as_deref()
                .and_then(rest::next_link)
                .map(|url| relative(&url))
                .transpose()
                .map_err(|_| GitHubError::Malformed(format!("{what}: bad Link header")))?;
            if next.is_none() && full {
                next = Some(format!("{first}&page={}", seen.len() + 1));
            }
        }
        Ok(items)
    }

    /// A write (POST or PATCH), sent once.
    async fn write(
        &self,
        what: &str,
        method: Method,
        path: &str,
        body: serde_json::Value,
    ) -> Result<Reply> {
        let reply = self
            .wire
            .send(what, method, path, Some(&body), None)
            .await?;
        if reply.status.is_success() {
            Ok(reply)
        } else {
            Err(self.failed(what, &reply))
        }
    }
}

/// The path and query of a pagination URL: requests stay relative to the API root, so
/// credentials are never sent to a host a `Link` header names.
fn relative(url: &str) -> std::result::Result<String, ()> {
    let uri: http::Uri = url.parse().map_err(|_| ())?;
    uri.path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .ok_or(())
}

#[async_trait]
impl GitHub for RestGitHub {
    async fn identity(&self) -> Result<Identity> {
        let key = match &self.login_source {
            LoginSource::User => self.identity.clone(),
            LoginSource::App { identity, .. } => identity.clone(),
        };
        let now = Utc::now();
        if let Some((identity, read)) = lock(&self.caches.identities).get(&key)
            && now - *read < IDENTITY_TTL
        {
            return Ok(identity.clone());
        }
        let user = match &self.login_source {
            LoginSource::User => {
                let what = "cannot read the GitHub identity";
                let page = self.get(what, "/user").await?;
                rest::parse::<rest::WireUser>(what, &page.body)?
            }
            LoginSource::App { app, .. } => {
                let what = "cannot read the GitHub App";
                let reply = app.send(what, Method::GET, "/app", None, None).await?;
                if !reply.status.is_success() {
                    return Err(app.fail(what, &reply));
                }
                let bot = format!("{}[bot]", rest::parse::<WireApp>(what, &reply.body)?.slug);
                // The App's bot user, whose id its issues and comments carry.
                let what = "cannot read the GitHub App's bot user";
                let page = self
                    .get(what, &format!("/users/{}", rest::encode(&bot)))
                    .await?;
                rest::parse::<rest::WireUser>(what, &page.body)?
            }
        };
        let identity = Identity {
            login: user.login,
            id: user.id,
        };
        lock(&self.caches.identities).insert(key, (identity.clone(), now));
        Ok(identity)
    }

    async fn refresh_identity(&self) -> Result<Identity> {
        let key = match &self.login_source {
            LoginSource::User => self.identity.clone(),
            LoginSource::App { identity, .. } => identity.clone(),
        };
        lock(&self.caches.identities).remove(&key);
        self.identity().await
    }

    async fn list_own_issues(&self, creator: &str) -> Result<Vec<Issue>> {
        let path = format!(
            "{}/issues?creator={}&state=all&per_page={PER_PAGE}&sort=created&direction=asc",
            self.repo_path(),
            rest::encode(creator)
        );
        let wire: Vec<WireIssue> = self.get_all("cannot list approval issues", path).await?;
        let mut seen = HashSet::new();
        let mut issues: Vec<Issue> = wire
            .into_iter()
            .filter(|i| !i.is_pull_request())
            .map(WireIssue::into_issue)
            // A listing that shifted between pages can repeat an issue.
            .filter(|i| seen.insert(i.number))
            .collect();
        issues.sort_by_key(|i| (i.created_at, i.number));
        Ok(issues)
    }

    async fn get_issue(&self, number: u64) -> Result<Option<Issue>> {
        let path = format!("{}/issues/{number}", self.repo_path());
        match self.get("cannot read approval issue", &path).await {
            Ok(page) => {
                let wire: WireIssue = rest::parse("cannot read approval issue", &page.body)?;
                Ok(Some(wire.into_issue()))
            }
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn open_issue(&self, issue: &NewIssue) -> Result<Issue> {
        let what = "cannot open approval issue";
        let assignees: Vec<&String> = issue.assignees.iter().take(MAX_ASSIGNEES).collect();
        let body = json!({
            "title": issue.title,
            "body": issue.body,
            "labels": issue.labels,
            "assignees": assignees,
        });
        let path = format!("{}/issues", self.repo_path());
        let reply = self.write(what, Method::POST, &path, body).await?;
        let wire: WireIssue = rest::parse(what, &reply.body)?;
        Ok(wire.into_issue())
    }

    async fn list_comments(&self, number: u64) -> Result<Vec<Comment>> {
        let path = format!(
            "{}/issues/{number}/comments?per_page={PER_PAGE}",
            self.repo_path()
        );
        let wire: Vec<WireComment> = self.get_all("cannot list issue comments", path).await?;
        let mut seen = HashSet::new();
        let mut comments: Vec<Comment> = wire
            .into_iter()
            .map(WireComment::into_comment)
            .filter(|c| seen.insert(c.id))
            .collect();
        comments.sort_by_key(|c| (c.created_at, c.id));
        Ok(comments)
    }

    async fn list_events(&self, number: u64) -> Result<Vec<IssueEvent>> {
        let path = format!(
            "{}/issues/{number}/events?per_page={PER_PAGE}",
            self.repo_path()
        );
        let wire: Vec<rest::WireEvent> = self.get_all("cannot list issue events", path).await?;
        let mut seen = HashSet::new();
        let mut events: Vec<IssueEvent> = wire
            .into_iter()
            .map(rest::WireEvent::into_event)
            .filter(|e| seen.insert(e.id))
            .collect();
        events.sort_by_key(|e| (e.created_at, e.id));
        Ok(events)
    }

    async fn add_comment(&self, number: u64, body: &str) -> Result<()> {
        let path = format!("{}/issues/{number}/comments", self.repo_path());
        self.write(
            "cannot comment on approval issue",
            Method::POST,
            &path,
            json!({ "body": body }),
        )
        .await
        .map(drop)
    }

    async fn close_issue(&self, number: u64, reason: CloseReason) -> Result<()> {
        let path = format!("{}/issues/{number}", self.repo_path());
        let body = json!({ "state": "closed", "state_reason": reason.as_api_str() });
        self.write("cannot close approval issue", Method::PATCH, &path, body)
            .await
            .map(drop)
    }

    async fn reopen_issue(&self, number: u64) -> Result<()> {
        let path = format!("{}/issues/{number}", self.repo_path());
        self.write(
            "cannot reopen approval issue",
            Method::PATCH,
            &path,
            json!({ "state": "open" }),
        )
        .await
        .map(drop)
    }

    async fn is_team_member(&self, org: &str, team_slug: &str, login: &str) -> Result<bool> {
        let what = "cannot read team membership";
        let path = format!(
            "/orgs/{}/teams/{}/memberships/{}",
            rest::encode(org),
            rest::encode(team_slug),
            rest::encode(login)
        );
        match self.get(what, &path).await {
            Ok(page) => Ok(rest::parse::<rest::WireMembership>(what, &page.body)?
                .state
                .as_deref()
                == Some("active")),
            Err(GitHubError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn permission(&self, login: &str) -> Result<Option<Permission>> {
        let what = "cannot read repository permission";
        let path = format!(
            "{}/collaborators/{}/permission",
            self.repo_path(),
            rest::encode(login)
        );
        match self.get(what, &path).await {
            Ok(page) => {
                Ok(rest::parse::<rest::WirePermission>(what, &page.body)?.into_permission())
            }
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_authorization_values_are_masked() {
        assert_eq!(
            mask_bearer("refused Authorization: Bearer eyJ.a.b, try a token abc123"),
            "refused Authorization: Bearer [redacted], try a token [redacted]"
        );
        assert_eq!(mask_bearer("no secrets here"), "no secrets here");
        assert_eq!(mask_bearer("ends with token "), "ends with token ");
    }
}
