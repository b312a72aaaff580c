//! The octocrab adapter through the `GitHub` and `Connector` traits, against the fake
//! GitHub HTTP server: every method, pagination past 100 items, conditional requests,
//! GitHub Enterprise Server paths, and GitHub App authentication.

use crate::fake_github;

use std::sync::Arc;

use fake_github::{FakeApp, FakeGitHub, Fault, LOGIN, OWNER, REPO, Route, TOKEN, app_keys};
use function_release_pipeline::github::octocrab::OctocrabConnector;
use function_release_pipeline::github::{
    CloseReason, Connector, Credentials, GitHub, IssueState, NewIssue, Secret, Target,
};
use function_release_pipeline::input::Permission;

const LABEL: &str = "release-gate";

fn target(api_url: String) -> Target {
    Target {
        api_url,
        owner: OWNER.into(),
        repo: REPO.into(),
    }
}

async fn connect(fake: &FakeGitHub) -> Arc<dyn GitHub> {
    OctocrabConnector::default()
        .connect(&target(fake.url()), &Credentials::Token(Secret::new(TOKEN)))
        .await
        .expect("connect")
}

fn new_issue(title: &str) -> NewIssue {
    NewIssue {
        title: title.into(),
        body: "promote <!-- gate-key: abc -->".into(),
        labels: vec![LABEL.into(), "team-a".into()],
        assignees: (1..=12).map(|n| format!("approver{n}")).collect(),
    }
}

#[tokio::test]
async fn identity_is_the_token_owner_and_is_looked_up_once() {
    let fake = FakeGitHub::start().await;
    let connector = OctocrabConnector::default();
    let credentials = Credentials::Token(Secret::new(TOKEN));
    for _ in 0..2 {
        let github = connector
            .connect(&target(fake.url()), &credentials)
            .await
            .unwrap();
        let identity = github.identity().await.unwrap();
        assert_eq!(identity.login, LOGIN);
        assert_eq!(
            identity.id,
            function_release_pipeline::github::fake::user_id(LOGIN)
        );
    }
    assert_eq!(fake.count(Route::User), 1);
    let sent = fake.seen()[0].authorization.clone();
    assert_eq!(sent.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
}

#[tokio::test]
async fn opened_issue_carries_title_body_labels_and_at_most_ten_assignees() {
    let fake = FakeGitHub::start().await;
    let github = connect(&fake).await;
    let issue = github
        .open_issue(&new_issue("Promote api to prod"))
        .await
        .unwrap();

    assert_eq!(issue.title, "Promote api to prod");
    assert_eq!(issue.author, LOGIN);
    assert_eq!(issue.state, IssueState::Open);
    assert_eq!(issue.labels, vec![LABEL, "team-a"]);
    assert!(
        issue
            .html_url
            .ends_with(&format!("/issues/{}", issue.number))
    );
    let stored = fake.issue(issue.number).unwrap();
    assert_eq!(stored.body, "promote <!-- gate-key: abc -->");
    assert_eq!(stored.assignees.len(), 10);
    assert_eq!(stored.assignees[9], "approver10");
    assert_eq!(fake.count(Route::CreateIssue), 1);
}

#[tokio::test]
async fn listing_reads_every_page_oldest_first_open_and_closed_without_pull_requests() {
    let fake = FakeGitHub::start().await;
    for n in 0..230 {
        fake.open_issue_as("someone", &format!("gate {n}"), "", &[LABEL]);
        if n % 50 == 0 {
            fake.open_issue_as("someone-else", "unrelated", "", &[LABEL]);
        }
    }
    fake.open_pull_request_as("someone", "a pull request", &[LABEL]);
    // Issue 3 is "gate 1" (issue 2 is the first unrelated one).
    fake.close_as(3, "alice", "completed");
    let github = connect(&fake).await;

    let issues = github.list_own_issues("someone").await.unwrap();

    assert_eq!(issues.len(), 230);
    assert!(issues.iter().all(|i| i.author == "someone"));
    assert!(
        issues
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at)
    );
    assert!(issues.windows(2).all(|w| w[0].number < w[1].number));
    assert_eq!(issues[0].title, "gate 0");
    assert_eq!(issues[229].title, "gate 229");
    assert!(issues.iter().any(|i| i.state == IssueState::Closed));
    assert!(issues.iter().all(|i| i.title != "a pull request"));
    // 231 entries by "someone" (the pull request included) at 100 a page.
    assert_eq!(fake.count(Route::ListIssues), 3);
    let first = &fake.seen()[0].uri;
    assert!(first.contains("state=all"), "{first}");
    assert!(first.contains("creator=someone"), "{first}");
    assert!(
        !first.contains("labels="),
        "a removed label hides nothing: {first}"
    );
    assert!(first.contains("per_page=100"), "{first}");
    assert!(first.contains("direction=asc"), "{first}");
    assert!(!fake.seen().iter().any(|r| r.uri.contains("/search/")));
}

#[tokio::test]
async fn issue_is_read_with_its_close_reason_and_closer() {
    let fake = FakeGitHub::start().await;
    let completed = fake.open_issue_as("bot", "a", "", &[LABEL]);
    let not_planned = fake.open_issue_as("bot", "b", "", &[LABEL]);
    let novel = fake.open_issue_as("bot", "c", "", &[LABEL]);
    fake.close_as(completed, "alice", "completed");
    fake.close_as(not_planned, "bob", "not_planned");
    fake.close_as(novel, "carol", "resolved_by_magic");
    let github = connect(&fake).await;

    let issue = github.get_issue(completed).await.unwrap().unwrap();
    assert_eq!(issue.state, IssueState::Closed);
    assert_eq!(issue.state_reason, Some(CloseReason::Completed));
    assert_eq!(issue.closed_by.as_deref(), Some("alice"));
    assert_eq!(issue.closed_at, fake.issue(completed).unwrap().closed_at);

    let issue = github.get_issue(not_planned).await.unwrap().unwrap();
    assert_eq!(issue.state_reason, Some(CloseReason::NotPlanned));
    assert_eq!(issue.closed_by.as_deref(), Some("bob"));

    let issue = github.get_issue(novel).await.unwrap().unwrap();
    assert_eq!(
        issue.state_reason,
        Some(CloseReason::Other("resolved_by_magic".into()))
    );
}

#[tokio::test]
async fn deleted_or_missing_issue_reads_as_none() {
    let fake = FakeGitHub::start().await;
    let number = fake.open_issue_as("bot", "a", "", &[LABEL]);
    let github = connect(&fake).await;
    assert!(github.get_issue(number).await.unwrap().is_some());

    fake.delete_issue(number);
    assert_eq!(github.get_issue(number).await.unwrap(), None);
    assert_eq!(github.get_issue(999).await.unwrap(), None);
    assert_eq!(fake.count_status(410), 1);
    assert_eq!(fake.count_status(404), 1);
    assert!(github.list_own_issues("bot").await.unwrap().is_empty());
    let err = github.list_comments(number).await.unwrap_err();
    assert_eq!(err.reason(), "NotFound");
}

#[tokio::test]
async fn comments_are_read_across_pages_with_their_edit_dates() {
    let fake = FakeGitHub::start().await;
    let number = fake.open_issue_as("bot", "a", "", &[LABEL]);
    let ids: Vec<u64> = (0..150)
        .map(|n| fake.comment_as(number, &format!("user{}", n % 7), &format!("comment {n}")))
        .collect();
    fake.edit_comment(ids[3], "/approve");
    let github = connect(&fake).await;

    let comments = github.list_comments(number).await.unwrap();

    assert_eq!(comments.len(), 150);
    assert_eq!(comments.iter().map(|c| c.id).collect::<Vec<_>>(), ids);
    assert_eq!(comments[3].body, "/approve");
    assert!(comments[3].updated_at > comments[3].created_at);
    assert_eq!(comments[4].updated_at, comments[4].created_at);
    assert_eq!(comments[0].author, "user0");
    assert_eq!(fake.count(Route::ListComments), 2);
}

#[tokio::test]
async fn comment_close_and_reopen_act_as_the_token_owner() {
    let fake = FakeGitHub::start().await;
    let number = fake.open_issue_as("bot", "a", "", &[LABEL]);
    let github = connect(&fake).await;

    github.add_comment(number, "summary").await.unwrap();
    let comments = fake.comments(number);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].user, LOGIN);
    assert_eq!(comments[0].body, "summary");

    github
        .close_issue(number, CloseReason::NotPlanned)
        .await
        .unwrap();
    let issue = fake.issue(number).unwrap();
    assert_eq!(issue.state, "closed");
    assert_eq!(issue.state_reason.as_deref(), Some("not_planned"));
    assert_eq!(issue.closed_by.as_deref(), Some(LOGIN));

    github.reopen_issue(number).await.unwrap();
    assert_eq!(fake.issue(number).unwrap().state, "open");
    let read = github.get_issue(number).await.unwrap().unwrap();
    assert_eq!(read.state, IssueState::Open);
    assert_eq!(read.state_reason, None);

    github
        .close_issue(number, CloseReason::Duplicate)
        .await
        .unwrap();
    assert_eq!(
        fake.issue(number).unwrap().state_reason.as_deref(),
        Some("duplicate")
    );
}

#[tokio::test]
async fn assigning_adds_those_github_can_assign_and_keeps_the_others() {
    let fake = FakeGitHub::start().await;
    fake.set_permission("erin", "write");
    fake.set_permission("alice", "maintain");
    let number = fake.open_issue_as("bot", "a", "", &[LABEL]);
    let github = connect(&fake).await;
    github
        .add_assignees(number, &["erin".into()])
        .await
        .unwrap();
    // Like GitHub: someone without access to the repository is left out, no error.
    github
        .add_assignees(number, &["alice".into(), "mallory".into()])
        .await
        .unwrap();
    assert_eq!(fake.issue(number).unwrap().assignees, ["erin", "alice"]);
}

#[tokio::test]
async fn only_active_team_members_are_members() {
    let fake = FakeGitHub::start().await;
    fake.add_team_member("acme", "release-managers", "alice", "active");
    fake.add_team_member("acme", "release-managers", "bob", "pending");
    let github = connect(&fake).await;

    assert!(
        github
            .is_team_member("acme", "release-managers", "alice")
            .await
            .unwrap()
    );
    assert!(
        !github
            .is_team_member("acme", "release-managers", "bob")
            .await
            .unwrap()
    );
    assert!(
        !github
            .is_team_member("acme", "release-managers", "mallory")
            .await
            .unwrap()
    );
    assert!(
        !github
            .is_team_member("acme", "other", "alice")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn repository_permission_tells_roles_apart() {
    let fake = FakeGitHub::start().await;
    fake.set_permission("maintainer", "maintain");
    fake.set_permission("triager", "triage");
    fake.set_permission("admin", "admin");
    fake.set_permission("outsider", "none");
    fake.set_permission("auditor", "security-auditor");
    fake.set_permission("dependabot[bot]", "write");
    let github = connect(&fake).await;

    let p = |login: &'static str| {
        let github = github.clone();
        async move { github.permission(login).await.unwrap() }
    };
    assert_eq!(p("maintainer").await, Some(Permission::Maintain));
    assert_eq!(p("triager").await, Some(Permission::Triage));
    assert_eq!(p("admin").await, Some(Permission::Admin));
    assert_eq!(p("outsider").await, None);
    assert_eq!(p("auditor").await, Some(Permission::Read));
    assert_eq!(p("dependabot[bot]").await, Some(Permission::Write));
    assert_eq!(p("nobody").await, None);
}

#[tokio::test]
async fn a_second_identical_poll_costs_only_not_modified_answers() {
    let fake = FakeGitHub::start().await;
    for n in 0..120 {
        fake.open_issue_as("bot", &format!("gate {n}"), "", &[LABEL]);
    }
    let number = 7;
    fake.comment_as(number, "alice", "looks good");
    fake.add_team_member("acme", "release-managers", "alice", "active");
    let connector = OctocrabConnector::default();
    let credentials = Credentials::Token(Secret::new(TOKEN));
    let poll = || async {
        // A new client per poll, as each RunFunction call connects again.
        let github = connector
            .connect(&target(fake.url()), &credentials)
            .await
            .unwrap();
        (
            github.list_own_issues("bot").await.unwrap(),
            github.get_issue(number).await.unwrap(),
            github.list_comments(number).await.unwrap(),
            github
                .is_team_member("acme", "release-managers", "alice")
                .await
                .unwrap(),
        )
    };
    let first = poll().await;
    assert_eq!(fake.count_status(304), 0);
    fake.clear_seen();

    let second = poll().await;

    assert_eq!(first, second);
    let seen = fake.seen();
    assert_eq!(seen.len(), 5, "{seen:#?}");
    assert!(seen.iter().all(|r| r.status == 304 && r.conditional));
    assert_eq!(fake.rate_limited_requests(), 0);

    // A change shows up on the next poll and costs only the changed answers.
    fake.comment_as(number, "alice", "/approve");
    fake.clear_seen();
    let third = poll().await;
    assert_eq!(third.2.last().unwrap().body, "/approve");
    assert_eq!(fake.count(Route::ListComments), 1);
    assert_eq!(fake.count_status(200), 3, "{:#?}", fake.seen());
}

#[tokio::test]
async fn a_listing_that_grows_past_a_full_page_is_read_to_the_end() {
    let fake = FakeGitHub::start().await;
    for n in 0..100 {
        fake.open_issue_as("bot", &format!("gate {n}"), "", &[LABEL]);
    }
    let github = connect(&fake).await;
    assert_eq!(github.list_own_issues("bot").await.unwrap().len(), 100);

    // A duplicate opened by a concurrent call lands alone on page 2, while page 1 is
    // unchanged and answered 304 with its old (next-less) Link.
    fake.open_issue_as("bot", "gate duplicate", "", &[LABEL]);
    let issues = github.list_own_issues("bot").await.unwrap();

    assert_eq!(issues.len(), 101);
    assert_eq!(issues[100].title, "gate duplicate");
}

#[tokio::test]
async fn enterprise_server_api_root_with_a_path_is_followed_across_pages() {
    let fake = FakeGitHub::start().await;
    for n in 0..105 {
        fake.open_issue_as("bot", &format!("gate {n}"), "", &[LABEL]);
    }
    let github = OctocrabConnector::default()
        .connect(
            &target(format!("{}/api/v3/", fake.url())),
            &Credentials::Token(Secret::new(TOKEN)),
        )
        .await
        .unwrap();

    assert_eq!(github.list_own_issues("bot").await.unwrap().len(), 105);
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().all(|r| r.uri.starts_with("/api/v3/repos/")),
        "{seen:#?}"
    );
    assert!(seen.iter().all(|r| r.authorization.is_some()));
}

/// An issue with three comments: one left alone, one edited within the second it was
/// posted, one deleted.
fn edited_and_deleted(fake: &FakeGitHub) -> (u64, u64) {
    let number = fake.open_issue_as(LOGIN, "gate", "", &[LABEL]);
    fake.comment_as(number, "alice", "/approve");
    let edited = fake.comment_as(number, "bob", "later");
    fake.edit_comment_within_its_second(edited, "mallory", "/approve");
    let deleted = fake.comment_as(number, "carol", "/reject");
    fake.delete_comment(deleted);
    (number, edited)
}

#[tokio::test]
async fn edits_within_the_second_and_deletions_are_read_through_graphql_on_each_root() {
    for (root, graphql_path) in [("", "/graphql"), ("/api/v3/", "/api/graphql")] {
        let fake = FakeGitHub::start().await;
        let (number, edited) = edited_and_deleted(&fake);
        let github = OctocrabConnector::default()
            .connect(
                &target(format!("{}{root}", fake.url())),
                &Credentials::Token(Secret::new(TOKEN)),
            )
            .await
            .unwrap();

        let edits = github.edits(number).await.unwrap();

        assert_eq!(
            edits.comments.keys().copied().collect::<Vec<_>>(),
            vec![edited],
            "{root}"
        );
        assert_eq!(edits.deletions.len(), 1, "{root}");
        assert_eq!(edits.deletions[0].author.as_deref(), Some("carol"));
        let seen = fake.seen();
        let graphql: Vec<_> = seen.iter().filter(|r| r.route == Route::Graphql).collect();
        assert_eq!(graphql.len(), 1, "{root}: {seen:#?}");
        assert_eq!(graphql[0].uri, graphql_path, "{root}");
        assert!(graphql[0].authorization.is_some(), "{root}");
        assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    }
}

#[tokio::test]
async fn a_github_app_reads_edits_with_its_installation_token() {
    let fake = FakeGitHub::start().await;
    fake.enable_app(app(chrono::TimeDelta::hours(1)));
    let (number, edited) = edited_and_deleted(&fake);
    let github = OctocrabConnector::default()
        .connect(
            &target(format!("{}/api/v3", fake.url())),
            &app_credentials(&app_keys().pkcs8, Some(77)),
        )
        .await
        .unwrap();

    // The App's own comment, deleted by someone: GraphQL names its bot without `[bot]`,
    // and gives its id.
    let me = github.identity().await.unwrap();
    github.add_comment(number, "a record").await.unwrap();
    let own = fake.comments(number).last().unwrap().id;
    fake.delete_comment(own);

    let edits = github.edits(number).await.unwrap();

    assert!(edits.comments.contains_key(&edited));
    let deleted = edits.deletions.last().unwrap();
    assert_eq!(deleted.author.as_deref(), Some("release-gates"));
    assert_eq!(deleted.author_id, Some(me.id));
    let graphql = fake
        .seen()
        .into_iter()
        .find(|r| r.route == Route::Graphql)
        .unwrap();
    assert_eq!(graphql.uri, "/api/graphql");
    assert_eq!(
        graphql.authorization.as_deref(),
        Some("Bearer ghs_fakeinstallation0001")
    );
}

#[tokio::test]
async fn a_graphql_rate_limit_answered_with_200_is_a_rate_limit() {
    let fake = FakeGitHub::start().await;
    let (number, _) = edited_and_deleted(&fake);
    fake.inject(Some(Route::Graphql), Fault::GraphqlRateLimited, Some(1));
    let github = connect(&fake).await;

    let err = github.edits(number).await.unwrap_err();

    assert_eq!(err.reason(), "RateLimited", "{err}");
}

fn app(token_ttl: chrono::TimeDelta) -> FakeApp {
    FakeApp {
        id: 4242,
        slug: "release-gates".into(),
        installation_id: 77,
        token_ttl,
        public_key: app_keys().public.clone(),
    }
}

fn app_credentials(key: &str, installation_id: Option<u64>) -> Credentials {
    Credentials::App {
        app_id: 4242,
        private_key: Secret::new(key),
        installation_id,
    }
}

#[tokio::test]
async fn github_app_finds_its_installation_and_reuses_its_token() {
    let fake = FakeGitHub::start().await;
    fake.enable_app(app(chrono::TimeDelta::hours(1)));
    let connector = OctocrabConnector::default();
    let credentials = app_credentials(&app_keys().pkcs8, None);

    for n in 0..2 {
        let github = connector
            .connect(&target(fake.url()), &credentials)
            .await
            .unwrap();
        let identity = github.identity().await.unwrap();
        assert_eq!(identity.login, "release-gates[bot]");
        assert_eq!(
            identity.id,
            function_release_pipeline::github::fake::user_id("release-gates[bot]"),
            "the App's bot user, read by login"
        );
        let issue = github
            .open_issue(&new_issue(&format!("gate {n}")))
            .await
            .unwrap();
        assert_eq!(issue.author, "release-gates[bot]");
    }

    assert_eq!(fake.count(Route::RepoInstallation), 1);
    assert_eq!(fake.count(Route::AccessToken), 1);
    assert_eq!(fake.count(Route::App), 1);
    assert_eq!(fake.count(Route::CreateIssue), 2);
    let create = fake
        .seen()
        .into_iter()
        .find(|r| r.route == Route::CreateIssue)
        .unwrap();
    assert_eq!(
        create.authorization.as_deref(),
        Some("Bearer ghs_fakeinstallation0001")
    );
}

#[tokio::test]
async fn github_app_with_pkcs1_key_and_installation_id_skips_the_lookup() {
    let fake = FakeGitHub::start().await;
    fake.enable_app(app(chrono::TimeDelta::hours(1)));
    let github = OctocrabConnector::default()
        .connect(
            &target(fake.url()),
            &app_credentials(&app_keys().pkcs1, Some(77)),
        )
        .await
        .unwrap();

    assert!(github.list_own_issues("bot").await.unwrap().is_empty());
    assert_eq!(fake.count(Route::RepoInstallation), 0);
    assert_eq!(fake.count(Route::AccessToken), 1);
}

#[tokio::test]
async fn a_refused_installation_token_is_replaced_on_the_next_connect() {
    let fake = FakeGitHub::start().await;
    fake.enable_app(app(chrono::TimeDelta::hours(1)));
    let connector = OctocrabConnector::default();
    let credentials = app_credentials(&app_keys().pkcs8, Some(77));
    let github = connector
        .connect(&target(fake.url()), &credentials)
        .await
        .unwrap();
    fake.inject(Some(Route::ListIssues), Fault::Status(401), Some(1));

    let err = github.list_own_issues("bot").await.unwrap_err();
    assert_eq!(err.reason(), "BadCredentials");
    let github = connector
        .connect(&target(fake.url()), &credentials)
        .await
        .unwrap();

    assert!(github.list_own_issues("bot").await.is_ok());
    assert_eq!(fake.installation_tokens_issued(), 2);
}

#[tokio::test]
async fn installation_token_close_to_expiry_is_replaced() {
    let fake = FakeGitHub::start().await;
    fake.enable_app(app(chrono::TimeDelta::minutes(4)));
    let connector = OctocrabConnector::default();
    let credentials = app_credentials(&app_keys().pkcs8, Some(77));

    for _ in 0..2 {
        connector
            .connect(&target(fake.url()), &credentials)
            .await
            .unwrap();
    }

    assert_eq!(fake.installation_tokens_issued(), 2);
}

#[tokio::test]
async fn a_key_that_is_not_an_rsa_key_is_bad_credentials_without_a_request() {
    let fake = FakeGitHub::start().await;
    fake.enable_app(app(chrono::TimeDelta::hours(1)));
    let garbage = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";

    let err = OctocrabConnector::default()
        .connect(&target(fake.url()), &app_credentials(garbage, None))
        .await
        .err()
        .unwrap();

    assert_eq!(err.reason(), "BadCredentials");
    assert!(!err.to_string().contains("bm90IGEga2V5"));
    assert!(fake.seen().is_empty());
}

#[tokio::test]
async fn an_app_key_github_does_not_hold_is_bad_credentials() {
    let fake = FakeGitHub::start().await;
    fake.enable_app(app(chrono::TimeDelta::hours(1)));
    let other = fake_github::generate_app_keys();

    let err = OctocrabConnector::default()
        .connect(&target(fake.url()), &app_credentials(&other.pkcs8, None))
        .await
        .err()
        .unwrap();

    assert_eq!(err.reason(), "BadCredentials");
    assert_eq!(fake.count_status(401), 1);
}

#[tokio::test]
async fn an_app_github_does_not_know_is_bad_credentials() {
    let fake = FakeGitHub::start().await;
    fake.enable_app(FakeApp {
        id: 1,
        ..app(chrono::TimeDelta::hours(1))
    });

    let err = OctocrabConnector::default()
        .connect(
            &target(fake.url()),
            &app_credentials(&app_keys().pkcs8, None),
        )
        .await
        .err()
        .unwrap();

    assert_eq!(err.reason(), "BadCredentials");
}
