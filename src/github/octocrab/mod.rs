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
//!
//! Its parts: `app` authenticates as a GitHub App (installations and their tokens),
//! `wire` sends one request and turns failures into errors with secrets masked, and
//! `repo` is one repository through the REST API.

mod app;
mod change;
mod feeds;
mod repo;
mod wire;

use repo::{LoginSource, RestGitHub};
use wire::{Wire, chain_message};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use octocrab::Octocrab;

use super::credentials::fingerprint;
use super::etag::EtagCache;
use super::{Connector, Credentials, GitHub, GitHubError, Identity, Result, Secret, Target};

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
const PER_PAGE: usize = super::FEED_PAGE_ITEMS;
/// A listing longer than this many pages is refused rather than followed forever.
const MAX_PAGES: usize = 1000;
/// At most this many pages of a feed are read in one call ([`super::FEED_MAX_ITEMS`]).
const FEED_PAGES_PER_LOOK: usize = super::FEED_MAX_ITEMS / PER_PAGE;

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
    pub(super) fn exchange(&self) -> Duration {
        self.connect + self.read
    }
}

/// What the connector keeps between calls.
#[derive(Default)]
pub(super) struct Caches {
    /// octocrab clients by credentials identity (a token client, or an App's JWT client).
    pub(super) clients: Mutex<HashMap<String, Octocrab>>,
    /// Logins by credentials identity.
    pub(super) identities: Mutex<HashMap<String, (Identity, DateTime<Utc>)>>,
    /// App installation ids by App identity and repository.
    pub(super) installations: Mutex<HashMap<String, u64>>,
    /// Installation tokens by App identity and installation.
    pub(super) tokens: Mutex<HashMap<String, InstallationToken>>,
    /// The pages last read of each feed (a listing with `since`), by credentials identity
    /// and feed: when `since` moves on, the pages of the old one are never asked again
    /// and leave the ETag cache.
    pub(super) feeds: Mutex<HashMap<String, Vec<String>>>,
}

#[derive(Clone)]
pub(super) struct InstallationToken {
    pub(super) token: Secret,
    pub(super) expires_at: Option<DateTime<Utc>>,
}

impl InstallationToken {
    pub(super) fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at - now > TOKEN_MARGIN)
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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
    pub(super) fn client(
        &self,
        identity: &str,
        build: impl FnOnce() -> Result<Octocrab>,
    ) -> Result<Octocrab> {
        if let Some(crab) = lock(&self.caches.clients).get(identity) {
            return Ok(crab.clone());
        }
        let crab = build()?;
        lock(&self.caches.clients).insert(identity.to_owned(), crab.clone());
        Ok(crab)
    }

    /// A client for GitHub's GraphQL API with `token`, when it is not under `api_url`:
    /// GitHub Enterprise Server serves REST under `/api/v3` and GraphQL at `/api/graphql`
    /// (GitHub.com serves both under one root).
    fn graphql_wire(
        &self,
        api_url: &str,
        cache_as: Option<&str>,
        token: &Secret,
        secrets: Vec<Secret>,
    ) -> Result<Option<Wire>> {
        let Some(root) = api_url.trim_end_matches('/').strip_suffix("/api/v3") else {
            return Ok(None);
        };
        let root = format!("{root}/api");
        let build = || {
            self.builder(&root)?
                .personal_token(token.expose().to_owned())
                .build()
                .map_err(|e| GitHubError::Transport(chain_message(&e)))
        };
        let crab = match cache_as {
            Some(identity) => self.client(&format!("{identity}/graphql"), build)?,
            None => build()?,
        };
        Ok(Some(Wire {
            crab,
            timeouts: self.timeouts,
            secrets,
        }))
    }

    pub(super) fn builder(
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
                let graphql = self.graphql_wire(
                    &target.api_url,
                    Some(&identity),
                    token,
                    vec![token.clone()],
                )?;
                Ok(Arc::new(RestGitHub {
                    wire: Wire {
                        crab,
                        timeouts: self.timeouts,
                        secrets: vec![token.clone()],
                    },
                    graphql,
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
