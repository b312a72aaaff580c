//! GitHub's REST API on the wire: the small serde structs we read answers into, their
//! conversion into domain types, the classification of failed answers into
//! [`GitHubError`], `Link` pagination and URL encoding.
//!
//! Pure: no I/O, no octocrab. Reading is lenient where GitHub varies (unknown
//! `state_reason` values, missing optional fields, a null `closed_by` or `user`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::{
    CloseReason, Comment, CommentChange, EventKind, GitHubError, Issue, IssueEvent, IssueState,
};
use crate::input::Permission;

/// The login GitHub shows for a deleted account.
const GHOST: &str = "ghost";

/// How much of GitHub's error message an error keeps.
const MESSAGE_LIMIT: usize = 200;

/// A user reference (`user`, `closed_by`).
#[derive(Debug, Deserialize)]
pub struct WireUser {
    /// The login.
    pub login: String,
    /// The numeric id (0 when a payload leaves it out).
    #[serde(default)]
    pub id: u64,
}

/// A label: an object on issues, a plain string in some payloads.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum WireLabel {
    Name(String),
    Object { name: Option<String> },
}

/// An issue (or pull request) as the issues endpoints return it.
#[derive(Debug, Deserialize)]
pub struct WireIssue {
    number: u64,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    state_reason: Option<String>,
    #[serde(default)]
    closed_by: Option<WireUser>,
    #[serde(default)]
    closed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    user: Option<WireUser>,
    #[serde(default)]
    labels: Vec<WireLabel>,
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

impl WireIssue {
    /// Whether this entry of an issue listing is a pull request.
    pub fn is_pull_request(&self) -> bool {
        self.pull_request.is_some()
    }

    /// The domain issue. `state_reason`, `closed_by` and `closed_at` are kept only for
    /// a closed issue (GitHub leaves `state_reason: reopened` and the last closer on
    /// reopened ones).
    pub fn into_issue(self) -> Issue {
        let closed = self.state.as_deref() == Some("closed");
        Issue {
            number: self.number,
            html_url: self.html_url.unwrap_or_default(),
            title: self.title.unwrap_or_default(),
            body: self.body.unwrap_or_default(),
            state: if closed {
                IssueState::Closed
            } else {
                IssueState::Open
            },
            state_reason: self
                .state_reason
                .filter(|_| closed)
                .map(|s| CloseReason::from_api_str(&s)),
            closed_by: self.closed_by.filter(|_| closed).map(|u| u.login),
            closed_at: self.closed_at.filter(|_| closed),
            created_at: self.created_at,
            updated_at: self.updated_at.unwrap_or(self.created_at),
            author_id: self.user.as_ref().map_or(0, |u| u.id),
            author: self
                .user
                .map(|u| u.login)
                .unwrap_or_else(|| GHOST.to_owned()),
            labels: self
                .labels
                .into_iter()
                .filter_map(|l| match l {
                    WireLabel::Name(name) => Some(name),
                    WireLabel::Object { name } => name,
                })
                .collect(),
        }
    }
}

/// An issue comment.
#[derive(Debug, Deserialize)]
pub struct WireComment {
    id: u64,
    #[serde(default)]
    user: Option<WireUser>,
    #[serde(default)]
    body: Option<String>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
}

/// A whole comment of the repository's comments (`GET /repos/{owner}/{repo}/issues/comments`).
#[derive(Debug, Deserialize)]
pub struct WireRepoComment {
    issue_url: String,
    #[serde(flatten)]
    comment: WireComment,
}

impl WireRepoComment {
    /// The issue's number and the comment, when `issue_url` ends in an issue number.
    pub fn into_comment(self) -> Option<(u64, Comment)> {
        let issue = self.issue_url.rsplit('/').next()?.parse().ok()?;
        Some((issue, self.comment.into_comment()))
    }
}

/// A comment in the repository's comment feed (`GET /repos/{owner}/{repo}/issues/comments`).
#[derive(Debug, Deserialize)]
pub struct WireCommentChange {
    id: u64,
    issue_url: String,
    created_at: DateTime<Utc>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
}

impl WireCommentChange {
    /// The change, when `issue_url` ends in an issue number.
    pub fn into_change(self) -> Option<CommentChange> {
        let issue = self.issue_url.rsplit('/').next()?.parse().ok()?;
        Some(CommentChange {
            id: self.id,
            issue,
            updated_at: self.updated_at.unwrap_or(self.created_at),
        })
    }
}

impl WireComment {
    /// The domain comment; a comment never edited has `updated_at == created_at`.
    pub fn into_comment(self) -> Comment {
        Comment {
            id: self.id,
            author_id: self.user.as_ref().map_or(0, |u| u.id),
            author: self
                .user
                .map(|u| u.login)
                .unwrap_or_else(|| GHOST.to_owned()),
            body: self.body.unwrap_or_default(),
            created_at: self.created_at,
            updated_at: self.updated_at.unwrap_or(self.created_at),
        }
    }
}

/// An issue event (`GET /repos/{owner}/{repo}/issues/{issue_number}/events`).
#[derive(Debug, Deserialize)]
pub struct WireEvent {
    id: u64,
    event: String,
    #[serde(default)]
    actor: Option<WireUser>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    state_reason: Option<String>,
    #[serde(default)]
    commit_id: Option<String>,
}

impl WireEvent {
    /// The domain event.
    pub fn into_event(self) -> IssueEvent {
        IssueEvent {
            id: self.id,
            kind: EventKind::from_api_str(&self.event),
            actor_id: self.actor.as_ref().map(|u| u.id),
            actor: self.actor.map(|u| u.login),
            created_at: self.created_at,
            state_reason: self.state_reason.map(|s| CloseReason::from_api_str(&s)),
            commit_id: self.commit_id.filter(|c| !c.is_empty()),
        }
    }
}

/// An event in the repository's issue events (`GET /repos/{owner}/{repo}/issues/events`,
/// GitHub's `issue-event`: no `state_reason`), with the issue it is on.
#[derive(Debug, Deserialize)]
pub struct WireRepoEvent {
    #[serde(default)]
    issue: Option<WireIssueNumber>,
    #[serde(flatten)]
    event: WireEvent,
}

/// The number of the issue an event is on.
#[derive(Debug, Deserialize)]
struct WireIssueNumber {
    number: u64,
}

impl WireRepoEvent {
    /// The issue's number and the event, when GitHub names the issue.
    pub fn into_event(self) -> Option<(u64, IssueEvent)> {
        Some((self.issue?.number, self.event.into_event()))
    }
}

/// `GET /orgs/{org}/teams/{team}/memberships/{login}`.
#[derive(Debug, Deserialize)]
pub struct WireMembership {
    /// `active` or `pending`.
    #[serde(default)]
    pub state: Option<String>,
}

/// `GET /repos/{owner}/{repo}/collaborators/{login}/permission`.
#[derive(Debug, Deserialize)]
pub struct WirePermission {
    #[serde(default)]
    permission: Option<String>,
    #[serde(default)]
    role_name: Option<String>,
}

impl WirePermission {
    /// The permission: `role_name` when it is a built-in role (it tells `maintain` and
    /// `triage` apart), else the legacy `permission`; `none` and custom roles GitHub
    /// reports no built-in base for give `None`.
    pub fn into_permission(self) -> Option<Permission> {
        self.role_name
            .as_deref()
            .and_then(parse_permission)
            .or_else(|| self.permission.as_deref().and_then(parse_permission))
    }
}

fn parse_permission(s: &str) -> Option<Permission> {
    match s.to_ascii_lowercase().as_str() {
        "read" | "pull" => Some(Permission::Read),
        "triage" => Some(Permission::Triage),
        "write" | "push" => Some(Permission::Write),
        "maintain" => Some(Permission::Maintain),
        "admin" => Some(Permission::Admin),
        _ => None,
    }
}

/// `GET /app` (as the App).
#[derive(Debug, Deserialize)]
pub struct WireApp {
    /// The App's slug; its bot user is `<slug>[bot]`.
    pub slug: String,
}

/// `GET /repos/{owner}/{repo}/installation` (as the App).
#[derive(Debug, Deserialize)]
pub struct WireInstallation {
    /// The installation id.
    pub id: u64,
}

/// `POST /app/installations/{id}/access_tokens`. Not `Debug`: it holds a token.
#[derive(Deserialize)]
pub struct WireAccessToken {
    /// The installation token.
    pub token: String,
    /// When it expires.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Reads a JSON answer into `T`; a body that does not fit is [`GitHubError::Malformed`].
pub fn parse<T: serde::de::DeserializeOwned>(what: &str, body: &str) -> Result<T, GitHubError> {
    serde_json::from_str(body)
        .map_err(|e| GitHubError::Malformed(format!("{what}: {}", shorten(&e.to_string()))))
}

/// The URL of the `rel="next"` page in a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim();
        let url = url.strip_prefix('<')?.strip_suffix('>')?;
        pieces
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| url.to_owned())
    })
}

/// Percent-encodes one path segment or query value (RFC 3986 unreserved kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Classifies a failed answer. `what` names the operation; `now` dates
/// `x-ratelimit-reset`. The message never holds more than GitHub's own `message`,
/// shortened.
pub fn classify(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: DateTime<Utc>,
) -> GitHubError {
    let message = format!("{what}: {}", error_message(status, body));
    match status.as_u16() {
        401 => GitHubError::BadCredentials(message),
        403 | 429 => match rate_limit(headers, now) {
            Some(retry_after) => GitHubError::RateLimited { retry_after },
            None if status == StatusCode::TOO_MANY_REQUESTS => {
                GitHubError::RateLimited { retry_after: None }
            }
            // Secondary rate limits sometimes come without headers; GitHub's message
            // names them.
            None if body.to_ascii_lowercase().contains("rate limit") => {
                GitHubError::RateLimited { retry_after: None }
            }
            None => GitHubError::Forbidden(message),
        },
        404 | 410 => GitHubError::NotFound(message),
        // A transferred issue or renamed repository answers with a redirect: what was
        // asked for is no longer here.
        301 | 302 | 307 | 308 => GitHubError::NotFound(format!("{what}: moved elsewhere")),
        500..=599 => GitHubError::Server {
            status: status.as_u16(),
            message,
        },
        other => GitHubError::Forbidden(format!("{message} (status {other})")),
    }
}

/// How long a rate-limited answer asks us to wait: `Retry-After` seconds, or the time
/// until `x-ratelimit-reset` when `x-ratelimit-remaining` is 0. `Some(None)` is a rate
/// limit without a known wait; `None` is no rate limit.
#[allow(clippy::option_option)]
pub(crate) fn rate_limit(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Option<Duration>> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(retry) = header("retry-after") {
        return Some(retry.parse::<u64>().ok().map(Duration::from_secs));
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let wait = header("x-ratelimit-reset")
            .and_then(|r| r.parse::<i64>().ok())
            .map(|reset| Duration::from_secs(reset.saturating_sub(now.timestamp()).max(1) as u64));
        return Some(wait);
    }
    None
}

fn error_message(status: StatusCode, body: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: Option<String>,
    }
    let text = serde_json::from_str::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| body.trim().to_owned());
    if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("unknown status")
            .to_ascii_lowercase()
    } else {
        shorten(&text)
    }
}

/// One line of at most `MESSAGE_LIMIT` characters.
pub fn shorten(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MESSAGE_LIMIT {
        line
    } else {
        let cut: String = line.chars().take(MESSAGE_LIMIT).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::header::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn unknown_state_reason_is_kept_not_an_error() {
        let issue: WireIssue = parse(
            "issue",
            r#"{"number": 3, "state": "closed", "state_reason": "archived_by_robot",
                "closed_by": null, "created_at": "2026-01-01T00:00:00Z", "user": null,
                "labels": ["a", {"name": "b"}, {"id": 1}], "extra": {"new": true}}"#,
        )
        .unwrap();
        let issue = issue.into_issue();
        assert_eq!(
            issue.state_reason,
            Some(CloseReason::Other("archived_by_robot".into()))
        );
        assert_eq!(issue.closed_by, None);
        assert_eq!(issue.author, "ghost");
        assert_eq!(issue.labels, vec!["a", "b"]);
        assert_eq!(issue.body, "");
    }

    #[test]
    fn reopened_issue_carries_no_close_reason() {
        let issue: WireIssue = parse(
            "issue",
            r#"{"number": 3, "state": "open", "state_reason": "reopened",
                "closed_by": {"login": "alice"}, "created_at": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let issue = issue.into_issue();
        assert_eq!(issue.state, IssueState::Open);
        assert_eq!(issue.state_reason, None);
        assert_eq!(issue.closed_by, None);
    }

    #[test]
    fn comment_never_edited_is_dated_by_its_creation() {
        let c: WireComment = parse(
            "comment",
            r#"{"id": 9, "user": {"login": "bob"}, "body": "/approve",
                "created_at": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let c = c.into_comment();
        assert_eq!(c.updated_at, c.created_at);
        assert_eq!(c.author, "bob");
    }

    #[test]
    fn role_name_tells_maintain_from_write() {
        let p: WirePermission =
            parse("p", r#"{"permission": "write", "role_name": "maintain"}"#).unwrap();
        assert_eq!(p.into_permission(), Some(Permission::Maintain));
        let p: WirePermission = parse("p", r#"{"permission": "none"}"#).unwrap();
        assert_eq!(p.into_permission(), None);
        let p: WirePermission = parse(
            "p",
            r#"{"permission": "read", "role_name": "custom-auditor"}"#,
        )
        .unwrap();
        assert_eq!(p.into_permission(), Some(Permission::Read));
    }

    #[test]
    fn next_link_is_found_among_others() {
        let link = r#"<https://x/r?page=1>; rel="prev", <https://x/r?page=3>; rel="next", <https://x/r?page=9>; rel="last""#;
        assert_eq!(next_link(link).as_deref(), Some("https://x/r?page=3"));
        assert_eq!(next_link(r#"<https://x/r?page=1>; rel="prev""#), None);
    }

    #[test]
    fn labels_and_logins_are_percent_encoded() {
        assert_eq!(encode("release gate/x"), "release%20gate%2Fx");
        assert_eq!(encode("app[bot]"), "app%5Bbot%5D");
    }

    #[test]
    fn forbidden_with_exhausted_quota_is_a_rate_limit_until_reset() {
        let reset = (now().timestamp() + 90).to_string();
        let err = classify(
            "list issues",
            StatusCode::FORBIDDEN,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ]),
            r#"{"message": "API rate limit exceeded"}"#,
            now(),
        );
        assert_eq!(
            err,
            GitHubError::RateLimited {
                retry_after: Some(Duration::from_secs(90))
            }
        );
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let err = classify(
            "x",
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "42")]),
            "",
            now(),
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(42)));
    }

    #[test]
    fn forbidden_without_rate_limit_is_a_permission_problem() {
        let err = classify(
            "open issue",
            StatusCode::FORBIDDEN,
            &headers(&[("x-ratelimit-remaining", "4999")]),
            r#"{"message": "Resource not accessible by integration"}"#,
            now(),
        );
        assert_eq!(
            err,
            GitHubError::Forbidden("open issue: Resource not accessible by integration".into())
        );
    }

    #[test]
    fn statuses_map_to_their_errors() {
        let h = HeaderMap::new();
        let reason =
            |s: u16| classify("x", StatusCode::from_u16(s).unwrap(), &h, "", now()).reason();
        assert_eq!(reason(401), "BadCredentials");
        assert_eq!(reason(404), "NotFound");
        assert_eq!(reason(410), "NotFound");
        assert_eq!(reason(500), "GitHubUnavailable");
        assert_eq!(reason(502), "GitHubUnavailable");
        assert_eq!(reason(429), "RateLimited");
        assert_eq!(reason(301), "NotFound");
        assert_eq!(reason(422), "Forbidden");
    }

    #[test]
    fn long_html_error_pages_are_shortened_to_one_line() {
        let body = format!("<html>\n<body>{}</body></html>", "x".repeat(500));
        let err = classify(
            "x",
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            &body,
            now(),
        );
        let text = err.to_string();
        assert!(!text.contains('\n'));
        assert!(text.chars().count() < 260, "{text}");
    }
}
