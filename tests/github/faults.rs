//! GitHub faults through the octocrab adapter, against the fake GitHub HTTP server:
//! every fault of the matrix on every operation maps to the right `GitHubError` within
//! the request deadline, a create is never retried, a rate limit is reported and never
//! slept on. (That no token or key reaches a log line is `github_secrets.rs`, a process
//! of its own: it captures tracing output, which other tests' threads would disturb.)

use crate::client;
use crate::fake_github;

use std::time::{Duration, Instant};

use client::{LABEL, connect, new_issue, quick, target};
use fake_github::{FakeGitHub, Fault, LOGIN, Route, TOKEN};
use function_release_pipeline::github::{
    CloseReason, Connector, Credentials, GitHub, GitHubError, Secret,
};

/// Each trait operation, with what it answered reduced to `Ok(())` or its error.
const OPERATIONS: [&str; 11] = [
    "identity",
    "list_own_issues",
    "get_issue",
    "open_issue",
    "list_comments",
    "add_comment",
    "close_issue",
    "reopen_issue",
    "add_assignees",
    "is_team_member",
    "permission",
];

async fn run(github: &dyn GitHub, operation: &str) -> Result<String, GitHubError> {
    Ok(match operation {
        "identity" => github.identity().await?.login,
        "list_own_issues" => format!("{}", github.list_own_issues(LOGIN).await?.len()),
        "get_issue" => format!("{:?}", github.get_issue(1).await?.map(|i| i.number)),
        "open_issue" => github.open_issue(&new_issue()).await?.number.to_string(),
        "list_comments" => format!("{}", github.list_comments(1).await?.len()),
        "add_comment" => format!("{:?}", github.add_comment(1, "hello").await?),
        "close_issue" => format!("{:?}", github.close_issue(1, CloseReason::Completed).await?),
        "reopen_issue" => format!("{:?}", github.reopen_issue(1).await?),
        "add_assignees" => format!("{:?}", github.add_assignees(1, &["alice".into()]).await?),
        "is_team_member" => github
            .is_team_member("acme", "release-managers", "alice")
            .await?
            .to_string(),
        "permission" => format!("{:?}", github.permission("alice").await?),
        other => panic!("unknown operation {other}"),
    })
}

/// What `operation` answers under `fault`: the error reason, or the value.
fn expected(fault: &Fault, operation: &str) -> &'static str {
    let reads_body = !matches!(
        operation,
        "add_comment" | "close_issue" | "reopen_issue" | "add_assignees"
    );
    match fault {
        Fault::Status(500 | 502) => "GitHubUnavailable",
        Fault::Status(401) => "BadCredentials",
        Fault::Status(403) => "Forbidden",
        Fault::RateLimit403 { .. } | Fault::TooManyRequests { .. } => "RateLimited",
        Fault::Status(404 | 410) => match operation {
            "get_issue" => "Ok(None)",
            "is_team_member" => "Ok(false)",
            "permission" => "Ok(None)",
            _ => "NotFound",
        },
        Fault::MalformedJson if reads_body => "MalformedResponse",
        Fault::MalformedJson => "Ok(())",
        Fault::Delay(_) => "Timeout",
        other => panic!("no expectation for {other:?}"),
    }
}

#[tokio::test]
async fn every_fault_on_every_operation_maps_to_its_reason_within_the_deadline() {
    let faults = [
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(401),
        Fault::Status(403),
        Fault::RateLimit403 { reset_in: 600 },
        Fault::TooManyRequests { retry_after: 30 },
        Fault::Status(404),
        Fault::Status(410),
        Fault::MalformedJson,
        Fault::Delay(Duration::from_secs(3)),
    ];
    let mut mismatches = Vec::new();
    for fault in &faults {
        let fake = FakeGitHub::start().await;
        fake.open_issue_as("release-bot", "gate", "", &[LABEL]);
        fake.add_team_member("acme", "release-managers", "alice", "active");
        fake.set_permission("alice", "write");
        let github = connect(&fake).await;
        fake.inject(None, fault.clone(), None);
        for operation in OPERATIONS {
            let started = Instant::now();
            let answer = run(github.as_ref(), operation).await;
            let elapsed = started.elapsed();
            let got = match &answer {
                Ok(value) => format!("Ok({value})"),
                Err(e) => e.reason().to_owned(),
            };
            if got != expected(fault, operation) {
                mismatches.push(format!(
                    "{fault:?} {operation}: expected {}, got {answer:?}",
                    expected(fault, operation)
                ));
            }
            // Far inside Crossplane's budget, and never a sleep on a rate limit.
            if elapsed > Duration::from_secs(2) {
                mismatches.push(format!("{fault:?} {operation}: took {elapsed:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[tokio::test]
async fn a_slow_answer_inside_the_timeout_is_read() {
    let fake = FakeGitHub::start().await;
    let number = fake.open_issue_as("release-bot", "gate", "", &[LABEL]);
    let github = connect(&fake).await;
    fake.inject(
        Some(Route::GetIssue),
        Fault::Delay(Duration::from_millis(50)),
        None,
    );

    let issue = github.get_issue(number).await.unwrap();

    assert_eq!(issue.map(|i| i.number), Some(number));
}

#[tokio::test]
async fn rate_limit_reports_the_time_until_the_quota_resets() {
    let fake = FakeGitHub::start().await;
    let github = connect(&fake).await;
    fake.inject(
        Some(Route::GetIssue),
        Fault::RateLimit403 { reset_in: 120 },
        Some(1),
    );

    let err = github.get_issue(1).await.unwrap_err();

    let wait = err.retry_after().expect("a wait").as_secs();
    assert!((100..=121).contains(&wait), "{wait}");
}

#[tokio::test]
async fn too_many_requests_reports_retry_after() {
    let fake = FakeGitHub::start().await;
    let github = connect(&fake).await;
    fake.inject(
        Some(Route::ListIssues),
        Fault::TooManyRequests { retry_after: 45 },
        Some(1),
    );

    let err = github.list_own_issues(LOGIN).await.unwrap_err();

    assert_eq!(
        err,
        GitHubError::RateLimited {
            retry_after: Some(Duration::from_secs(45))
        }
    );
    // The next call, after the limit, works again.
    assert!(github.list_own_issues(LOGIN).await.is_ok());
}

#[tokio::test]
async fn issue_creation_answered_with_an_error_is_posted_exactly_once() {
    for status in [502, 500] {
        let fake = FakeGitHub::start().await;
        let github = connect(&fake).await;
        fake.inject(
            Some(Route::CreateIssue),
            Fault::AfterEffect(status),
            Some(1),
        );

        let err = github.open_issue(&new_issue()).await.unwrap_err();

        assert_eq!(err.reason(), "GitHubUnavailable");
        assert_eq!(fake.count(Route::CreateIssue), 1);
        assert_eq!(fake.issues().len(), 1);
        // The issue that was made anyway is found by its marker on the next poll.
        let listed = github.list_own_issues(LOGIN).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].body.contains("gate-key: k1"));
    }
}

#[tokio::test]
async fn wrong_token_is_bad_credentials_and_not_repeated_in_the_error() {
    let fake = FakeGitHub::start().await;
    let wrong = "ghp_WRONGwrongWRONG0000000000";
    let github = quick()
        .connect(&target(fake.url()), &Credentials::Token(Secret::new(wrong)))
        .await
        .unwrap();

    let err = github.identity().await.unwrap_err();

    assert_eq!(err.reason(), "BadCredentials");
    assert!(!err.to_string().contains(wrong));
}

#[tokio::test]
async fn unreachable_github_is_reported_as_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let github = quick()
        .connect(&target(url), &Credentials::Token(Secret::new(TOKEN)))
        .await
        .unwrap();

    let err = github.get_issue(1).await.unwrap_err();

    assert_eq!(err.reason(), "GitHubUnreachable", "{err}");
}

#[tokio::test]
async fn invalid_api_url_is_an_error_not_a_panic() {
    for url in [
        "not a url at all",
        "api.github.com",
        "ftp://example.com",
        "/api/v3",
    ] {
        let err = quick()
            .connect(&target(url.into()), &Credentials::Token(Secret::new(TOKEN)))
            .await
            .err()
            .unwrap();
        assert_eq!(err.reason(), "GitHubUnreachable", "{url}");
        assert!(err.to_string().contains("apiUrl"), "{err}");
    }
}
