//! The one GraphQL query the function sends, and how its answer reads. GitHub's REST API
//! dates comments to the second, so an edit within the second a comment was posted
//! leaves `updated_at == created_at`; GraphQL says whether GitHub recorded an edit
//! (`lastEditedAt`), whatever the second.
//!
//! Pure: the query text, its variables, and the answer's parsing. The octocrab adapter
//! sends it; the tests check it against GitHub's published schema.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Deletion, Edit, Edits, GitHubError, Result};

/// The comments of one issue, a page of 100 at a time: which GitHub records as edited;
/// the last 100 comment deletions of its timeline; and the rate limit the query spent.
pub const EDITS_QUERY: &str = "\
query IssueCommentEdits($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      lastEditedAt
      editor { login ... on User { databaseId } ... on Bot { databaseId } }
      comments(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { fullDatabaseId lastEditedAt editor { login } }
      }
      timelineItems(itemTypes: [COMMENT_DELETED_EVENT], last: 100) {
        pageInfo { hasPreviousPage }
        nodes {
          ... on CommentDeletedEvent {
            createdAt
            deletedCommentAuthor { login ... on User { databaseId } ... on Bot { databaseId } }
          }
        }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}";

/// The request body for one page of [`EDITS_QUERY`].
pub fn edits_request(owner: &str, name: &str, number: u64, after: Option<&str>) -> Value {
    json!({
        "query": EDITS_QUERY,
        "variables": {"owner": owner, "name": name, "number": number, "after": after},
    })
}

/// One page of the answer: the edits on it, and the cursor of the next page.
#[derive(Debug, PartialEq, Eq)]
pub struct EditsPage {
    /// The comments on this page that GitHub records as edited.
    pub edits: Edits,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    data: Option<Data>,
    #[serde(default)]
    errors: Vec<Problem>,
}

#[derive(Deserialize)]
struct Problem {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Data {
    repository: Option<Repository>,
    #[serde(rename = "rateLimit")]
    rate_limit: Option<RateLimit>,
}

#[derive(Deserialize)]
struct Repository {
    issue: Option<IssueNode>,
}

#[derive(Deserialize)]
struct IssueNode {
    #[serde(rename = "lastEditedAt")]
    last_edited_at: Option<DateTime<Utc>>,
    editor: Option<Actor>,
    comments: Connection,
    #[serde(rename = "timelineItems")]
    timeline_items: Timeline,
}

#[derive(Deserialize)]
struct Timeline {
    #[serde(rename = "pageInfo")]
    page_info: TimelinePageInfo,
    nodes: Vec<Option<DeletionNode>>,
}

#[derive(Deserialize)]
struct TimelinePageInfo {
    #[serde(rename = "hasPreviousPage")]
    has_previous_page: bool,
}

#[derive(Deserialize)]
struct DeletionNode {
    #[serde(rename = "createdAt")]
    created_at: DateTime<Utc>,
    #[serde(rename = "deletedCommentAuthor")]
    deleted_comment_author: Option<Actor>,
}

/// A user or a bot (GraphQL names a bot without its `[bot]` suffix: its id tells).
#[derive(Deserialize)]
struct Actor {
    login: String,
    #[serde(rename = "databaseId")]
    database_id: Option<u64>,
}

#[derive(Deserialize)]
struct Connection {
    #[serde(rename = "pageInfo")]
    page_info: PageInfo,
    nodes: Vec<Option<CommentNode>>,
}

#[derive(Deserialize)]
struct PageInfo {
    #[serde(rename = "hasNextPage")]
    has_next_page: bool,
    #[serde(rename = "endCursor")]
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
struct CommentNode {
    #[serde(rename = "fullDatabaseId")]
    full_database_id: Option<String>,
    #[serde(rename = "lastEditedAt")]
    last_edited_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct RateLimit {
    remaining: i64,
    #[serde(rename = "resetAt")]
    reset_at: DateTime<Utc>,
}

/// Reads one page of the answer (a `200 OK`; GitHub answers GraphQL errors, rate
/// limits included, with a `200` and an `errors` list). `now` dates the rate limit's
/// reset. A page GitHub could not answer whole is an error, never a page without edits.
pub fn parse_edits(what: &str, body: &str, now: DateTime<Utc>) -> Result<EditsPage> {
    let answer: Answer =
        serde_json::from_str(body).map_err(|e| GitHubError::Malformed(format!("{what}: {e}")))?;
    if let Some(problem) = answer.errors.first() {
        let message = format!("{what}: {}", shorten(&problem.message));
        return Err(match problem.kind.as_deref() {
            Some("RATE_LIMITED" | "RATE_LIMIT") => GitHubError::RateLimited {
                retry_after: answer
                    .data
                    .as_ref()
                    .and_then(|d| d.rate_limit.as_ref())
                    .map(|r| until(r.reset_at, now)),
            },
            Some("NOT_FOUND") => GitHubError::NotFound(message),
            Some("FORBIDDEN" | "INSUFFICIENT_SCOPES") => GitHubError::Forbidden(message),
            _ => GitHubError::Malformed(message),
        });
    }
    let data = answer
        .data
        .ok_or_else(|| GitHubError::Malformed(format!("{what}: an answer without data")))?;
    if let Some(limit) = &data.rate_limit
        && limit.remaining <= 0
    {
        crate::metrics::set_rate_limit_remaining(0);
    }
    let issue = data
        .repository
        .and_then(|r| r.issue)
        .ok_or_else(|| GitHubError::NotFound(format!("{what}: no such issue")))?;
    let mut edits = Edits::default();
    for node in issue.comments.nodes {
        let node = node.ok_or_else(|| {
            GitHubError::Malformed(format!("{what}: a comment GitHub could not read"))
        })?;
        let Some(at) = node.last_edited_at else {
            continue;
        };
        let id = node
            .full_database_id
            .as_deref()
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or_else(|| {
                GitHubError::Malformed(format!("{what}: an edited comment without its id"))
            })?;
        edits.comments.insert(id, at);
    }
    edits.text = issue.last_edited_at.map(|at| Edit {
        at,
        editor_id: issue.editor.as_ref().and_then(|e| e.database_id),
        editor: issue.editor.map(|e| e.login),
    });
    edits.more_deletions = issue.timeline_items.page_info.has_previous_page;
    for node in issue.timeline_items.nodes {
        let node = node.ok_or_else(|| {
            GitHubError::Malformed(format!("{what}: a timeline item GitHub could not read"))
        })?;
        let author = node.deleted_comment_author;
        edits.deletions.push(Deletion {
            at: node.created_at,
            author_id: author.as_ref().and_then(|a| a.database_id),
            author: author.map(|a| a.login),
        });
    }
    let page = issue.comments.page_info;
    let next = match (page.has_next_page, page.end_cursor) {
        (true, Some(cursor)) => Some(cursor),
        (true, None) => {
            return Err(GitHubError::Malformed(format!(
                "{what}: a next page without its cursor"
            )));
        }
        (false, _) => None,
    };
    Ok(EditsPage { edits, next })
}

fn until(reset: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    Duration::from_secs((reset - now).num_seconds().max(1) as u64)
}

fn shorten(message: &str) -> String {
    message.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn edited_comments_are_read_by_their_full_id_and_unedited_ones_skipped() {
        let body = r#"{"data":{"repository":{"issue":{"comments":{
            "pageInfo":{"hasNextPage":true,"endCursor":"Y3Vyc29yOjEwMA=="},
            "nodes":[
              {"fullDatabaseId":"3000000001","lastEditedAt":"2026-01-01T00:00:01Z","editor":{"login":"mallory"}},
              {"fullDatabaseId":"3000000002","lastEditedAt":null,"editor":null}
            ]},
            "timelineItems":{"pageInfo":{"hasPreviousPage":false},"nodes":[
              {"createdAt":"2026-01-01T00:00:05Z","deletedCommentAuthor":{"login":"alice","databaseId":7}},
              {"createdAt":"2026-01-01T00:00:06Z","deletedCommentAuthor":null}
            ]}}},
            "rateLimit":{"cost":1,"remaining":4999,"resetAt":"2026-01-01T01:00:00Z"}}}"#;
        let page = parse_edits("edits", body, at("2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(
            page.edits.comments.into_iter().collect::<Vec<_>>(),
            vec![(3_000_000_001, at("2026-01-01T00:00:01Z"))]
        );
        assert_eq!(page.next.as_deref(), Some("Y3Vyc29yOjEwMA=="));
        assert_eq!(
            page.edits.deletions,
            vec![
                Deletion {
                    at: at("2026-01-01T00:00:05Z"),
                    author: Some("alice".into()),
                    author_id: Some(7),
                },
                Deletion {
                    at: at("2026-01-01T00:00:06Z"),
                    author: None,
                    author_id: None,
                }
            ]
        );
    }

    #[test]
    fn more_deletions_than_one_page_are_said() {
        let body = r#"{"data":{"repository":{"issue":{
            "comments":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[]},
            "timelineItems":{"pageInfo":{"hasPreviousPage":true},"nodes":[]}}}}}"#;
        let page = parse_edits("edits", body, at("2026-01-01T00:00:00Z")).unwrap();
        assert!(page.edits.more_deletions);
    }

    #[test]
    fn a_rate_limit_answered_with_200_is_a_rate_limit_with_its_reset() {
        let body = r#"{"data":{"rateLimit":{"cost":1,"remaining":0,"resetAt":"2026-01-01T00:10:00Z"}},
            "errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#;
        let err = parse_edits("edits", body, at("2026-01-01T00:00:00Z")).unwrap_err();
        assert_eq!(
            err,
            GitHubError::RateLimited {
                retry_after: Some(Duration::from_secs(600))
            }
        );
    }

    #[test]
    fn an_unreadable_comment_or_a_missing_issue_is_an_error_not_an_unedited_page() {
        let null_node = r#"{"data":{"repository":{"issue":{"comments":{
            "pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[null]},
            "timelineItems":{"pageInfo":{"hasPreviousPage":false},"nodes":[]}}}}}"#;
        let now = at("2026-01-01T00:00:00Z");
        assert!(matches!(
            parse_edits("edits", null_node, now),
            Err(GitHubError::Malformed(_))
        ));
        let no_issue = r#"{"data":{"repository":{"issue":null}},
            "errors":[{"type":"NOT_FOUND","message":"Could not resolve to an Issue"}]}"#;
        assert!(matches!(
            parse_edits("edits", no_issue, now),
            Err(GitHubError::NotFound(_))
        ));
        let other = r#"{"errors":[{"message":"Something went wrong"}]}"#;
        assert!(matches!(
            parse_edits("edits", other, now),
            Err(GitHubError::Malformed(_))
        ));
    }
}
