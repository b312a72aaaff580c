//! One repository through GitHub's REST API: conditional reads through the ETag cache,
//! paginated listings that stay on the API root, and the writes a gate makes.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use serde_json::json;

use super::super::etag::{Cached, EtagCache};
use super::super::graphql;
use super::super::rest::{self, WireApp, WireComment, WireIssue};
use super::super::{
    CloseReason, Comment, Edits, GitHubError, Identity, Issue, IssueEvent, IssueReads, NewIssue,
    People, Result, Target, Writes,
};
use super::wire::{Reply, Wire};
use super::{Caches, FEED_PAGES_PER_LOOK, IDENTITY_TTL, MAX_ASSIGNEES, MAX_PAGES, PER_PAGE, lock};
use crate::input::Permission;

/// How the client learns its own login.
pub(super) enum LoginSource {
    /// `GET /user` with the token.
    User,
    /// `GET /app` with the App's JWT: the bot is `<slug>[bot]`.
    App { app: Box<Wire>, identity: String },
}

/// A body and its pagination link, fresh or from the ETag cache.
pub(super) struct Page {
    pub(super) body: Arc<str>,
    pub(super) link: Option<String>,
}

/// One repository through GitHub's REST API.
pub(super) struct RestGitHub {
    pub(super) wire: Wire,
    /// GitHub's GraphQL API, when it is not under the REST root (GitHub Enterprise
    /// Server); else `wire` reaches it at `/graphql`.
    pub(super) graphql: Option<Wire>,
    /// Names the credentials in cache keys.
    pub(super) identity: String,
    pub(super) login_source: LoginSource,
    pub(super) target: Target,
    pub(super) caches: Arc<Caches>,
    pub(super) etags: Arc<EtagCache>,
}

impl RestGitHub {
    /// The error for a failed answer. A refused installation token (revoked, or the
    /// App's permissions changed) is dropped so that the next call gets a new one.
    pub(super) fn failed(&self, what: &str, reply: &Reply) -> GitHubError {
        if reply.status == StatusCode::UNAUTHORIZED {
            // Installation tokens are cached under the client's identity.
            lock(&self.caches.tokens).remove(&self.identity);
        }
        self.wire.fail(what, reply)
    }

    pub(super) fn repo_path(&self) -> String {
        format!(
            "/repos/{}/{}",
            rest::encode(&self.target.owner),
            rest::encode(&self.target.repo)
        )
    }

    /// A conditional GET: sends the last ETag and answers a 304 from the cache.
    pub(super) async fn get(&self, what: &str, path: &str) -> Result<Page> {
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
    pub(super) async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        first: String,
    ) -> Result<Vec<T>> {
        Ok(self.get_pages(what, first, None).await?.0)
    }

    /// Like [`Self::get_all`], for a feed whose `since` moves on: the pages of the feed's
    /// previous listing that this one did not ask for again leave the ETag cache. At most
    /// [`FEED_PAGES_PER_LOOK`] pages, oldest change first: the view moves its bound to the
    /// last change read, and the next look reads on from there.
    pub(super) async fn get_feed<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        feed: &str,
        first: String,
    ) -> Result<Vec<T>> {
        let (items, pages) = self
            .get_pages(what, first, Some(FEED_PAGES_PER_LOOK))
            .await?;
        let key = format!("{}\0{}\0{feed}", self.identity, self.repo_path());
        let old = lock(&self.caches.feeds).insert(key, pages.clone());
        for path in old.into_iter().flatten() {
            if !pages.contains(&path) {
                self.etags.remove(&self.identity, &path);
            }
        }
        Ok(items)
    }

    /// Every page of a listing, or the first `stop_after` of them, and the paths asked
    /// for.
    async fn get_pages<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        first: String,
        stop_after: Option<usize>,
    ) -> Result<(Vec<T>, Vec<String>)> {
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(first.clone());
        while let Some(path) = next.take() {
            if stop_after.is_some_and(|n| seen.len() >= n) || !seen.insert(path.clone()) {
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
        Ok((items, seen.into_iter().collect()))
    }

    /// A write (POST or PATCH), sent once.
    pub(super) async fn write(
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
pub(super) fn relative(url: &str) -> std::result::Result<String, ()> {
    let uri: http::Uri = url.parse().map_err(|_| ())?;
    uri.path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .ok_or(())
}

#[async_trait]
impl IssueReads for RestGitHub {
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

    async fn edits(&self, number: u64) -> Result<Edits> {
        let what = "cannot read the edits of approval issue comments";
        let mut edits = Edits::default();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let body = graphql::edits_request(
                &self.target.owner,
                &self.target.repo,
                number,
                after.as_deref(),
            );
            let answer = self.graphql_post(what, &body).await?;
            let page = graphql::parse_edits(what, &answer, Utc::now())?;
            edits.comments.extend(page.edits.comments);
            if after.is_none() {
                edits.deletions = page.edits.deletions;
                edits.text = page.edits.text;
                edits.more_deletions = page.edits.more_deletions;
            }
            match page.next {
                Some(cursor) => after = Some(cursor),
                None => return Ok(edits),
            }
        }
        Err(GitHubError::Malformed(format!(
            "{what}: more than {MAX_PAGES} pages"
        )))
    }
}

#[async_trait]
impl People for RestGitHub {
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

    async fn user(&self, login: &str) -> Result<Option<Identity>> {
        let what = "cannot read a GitHub user";
        match self
            .get(what, &format!("/users/{}", rest::encode(login)))
            .await
        {
            Ok(page) => {
                let user = rest::parse::<rest::WireUser>(what, &page.body)?;
                Ok(Some(Identity {
                    login: user.login,
                    id: user.id,
                }))
            }
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Writes for RestGitHub {
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

    async fn restore_issue(&self, number: u64, title: &str, body: &str) -> Result<()> {
        let path = format!("{}/issues/{number}", self.repo_path());
        self.write(
            "cannot restore approval issue",
            Method::PATCH,
            &path,
            json!({ "title": title, "body": body }),
        )
        .await
        .map(drop)
    }

    async fn add_assignees(&self, number: u64, logins: &[String]) -> Result<()> {
        let path = format!("{}/issues/{number}/assignees", self.repo_path());
        let assignees: Vec<&String> = logins.iter().take(MAX_ASSIGNEES).collect();
        self.write(
            "cannot assign approvers",
            Method::POST,
            &path,
            json!({ "assignees": assignees }),
        )
        .await
        .map(drop)
    }
}

/// A time as GitHub's `since` parameter takes it (ISO 8601, whole seconds, UTC).
pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
