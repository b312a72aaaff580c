//! The requests the function sends are ones GitHub's published REST API description
//! accepts. The fake GitHub checks every request it receives against the vendored
//! description (`tests/openapi/github-subset.json`) and fails the test that sent one it
//! would refuse; these tests show the checker refuses broken requests, and that the fake
//! applies it.

use crate::fake_github;

use fake_github::{FakeGitHub, TOKEN, openapi};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ISSUES: &str = "/repos/acme/release-approvals/issues";

#[test]
fn the_description_is_the_vendored_one() {
    assert!(
        openapi::github().source.contains("@octokit/openapi@"),
        "{}",
        openapi::github().source
    );
}

#[test]
fn requests_the_function_sends_are_accepted() {
    let d = openapi::github();
    let ok = [
        ("GET", "/user".to_owned(), None),
        (
            "GET",
            "/repos/acme/release-approvals/issues/events?per_page=100&page=3".to_owned(),
            None,
        ),
        (
            "GET",
            format!(
                "/repos/acme/my-service/compare/{}...{}?per_page=100&page=2",
                "a".repeat(40),
                "b".repeat(40)
            ),
            None,
        ),
        (
            "GET",
            format!("/repos/acme/my-service/commits/{}", "a".repeat(40)),
            None,
        ),
        (
            "GET",
            format!(
                "{ISSUES}?creator=release-bot%5Bbot%5D&state=all&per_page=100&sort=created&direction=asc&page=2"
            ),
            None,
        ),
        (
            "POST",
            ISSUES.to_owned(),
            Some(
                json!({"title": "t", "body": "b", "labels": ["release-gate"], "assignees": ["alice"]}),
            ),
        ),
        (
            "PATCH",
            format!("{ISSUES}/4"),
            Some(json!({"state": "closed", "state_reason": "not_planned"})),
        ),
        (
            "PATCH",
            format!("{ISSUES}/4"),
            Some(json!({"state": "open"})),
        ),
        ("GET", format!("{ISSUES}/4/events?per_page=100"), None),
        (
            "POST",
            format!("{ISSUES}/4/comments"),
            Some(json!({"body": "x"})),
        ),
        ("GET", "/users/release-gates%5Bbot%5D".to_owned(), None),
        (
            "GET",
            "/orgs/acme/teams/release-managers/memberships/carol".to_owned(),
            None,
        ),
    ];
    for (method, uri, body) in ok {
        assert_eq!(
            d.check(method, &uri, body.as_ref()),
            Ok(()),
            "{method} {uri}"
        );
    }
}

#[test]
fn broken_requests_are_refused_naming_what_is_wrong() {
    let d = openapi::github();
    let refused = [
        ("GET", format!("{ISSUES}?state=both"), None, "not one of"),
        (
            "GET",
            format!("{ISSUES}?per_page=many"),
            None,
            "not an integer",
        ),
        (
            "GET",
            format!("{ISSUES}?label=x"),
            None,
            "unknown query parameter \"label\"",
        ),
        ("GET", format!("{ISSUES}?sort=newest"), None, "not one of"),
        (
            "POST",
            ISSUES.to_owned(),
            Some(json!({"body": "no title"})),
            "\"title\" is missing",
        ),
        (
            "PATCH",
            format!("{ISSUES}/4"),
            Some(json!({"state": "closed", "state_reason": "rejected"})),
            "not one of",
        ),
        (
            "POST",
            format!("{ISSUES}/4/comments"),
            Some(json!({"body": 4})),
            "is not of type",
        ),
        ("DELETE", format!("{ISSUES}/4"), None, "no operation"),
        ("GET", "/search/issues?q=x".to_owned(), None, "no operation"),
        (
            "GET",
            format!("{ISSUES}/4"),
            Some(json!({"x": 1})),
            "takes no body",
        ),
    ];
    for (method, uri, body, why) in refused {
        let err = d
            .check(method, &uri, body.as_ref())
            .expect_err(&format!("{method} {uri} is refused"));
        assert!(err.contains(why), "{method} {uri}: {err}");
    }
}

#[tokio::test]
async fn the_fake_github_remembers_a_request_github_would_refuse() {
    let fake = FakeGitHub::start().await;
    let address = fake.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "GET {ISSUES}?state=both HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();

    let violations = fake.take_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("\"both\""), "{violations:?}");
}
