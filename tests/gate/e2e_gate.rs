//! XPromotionGate end to end: the real server binary over gRPC, reconciled as Crossplane
//! does (requirement loop, credentials, status written back or lost), against the fake
//! GitHub HTTP server acting for the people who answer the approval issue.

use crate::common;
use crate::e2e;
use crate::fake_github;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::wire::Severity;
use e2e::{Crossplane, approvers, example_pipeline};
use fake_github::{LOGIN, Route};
use serde_json::{Value, json};

const LABEL: &str = "release-gate";

/// The example gate with a quorum of two among alice, bob and carol.
async fn gate_with_quorum_of_two() -> Crossplane {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(
        &["alice", "bob", "carol"],
        2,
    ))));
    cp
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("a timestamp, got {v}"))
        .parse()
        .unwrap()
}

fn job_env(job: &Value) -> Vec<(String, String)> {
    job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn gate_lives_from_request_to_promotion_job_through_the_real_server() {
    let mut cp = gate_with_quorum_of_two().await;

    // Opened: one issue, with the marker, the labels and the approvers assigned.
    let opened = cp.reconcile().await;
    assert!(opened.fatal().is_empty(), "{:?}", opened.rsp.results);
    let status = opened.status();
    assert_eq!(status["gate_status"], "pending");
    let key = status["gate_key"].as_str().expect("a gate key").to_owned();
    assert_eq!(status["issue"]["number"], 1.0);
    let issues = cp.fake.issues();
    assert_eq!(issues.len(), 1);
    let issue = &issues[0];
    assert_eq!(issue.user, LOGIN);
    assert_eq!(issue.labels, vec![LABEL.to_owned()]);
    assert_eq!(issue.assignees, vec!["alice", "bob", "carol"]);
    assert!(
        issue.body.contains(&format!(
            "key={key} xr=platform-system/my-service-dev-to-staging"
        )),
        "{}",
        issue.body
    );
    assert!(issue.title.contains("ghcr.io/org/my-service:main-abc123"));
    let deadline = time(&status["timeout_at"]);
    assert_eq!(
        deadline - time(&status["created_timestamp"]),
        chrono::Duration::hours(24)
    );
    assert!(
        issue.body.contains(&format!(
            "**Deadline:** {}",
            status["timeout_at"].as_str().unwrap()
        )),
        "the issue states the deadline the gate keeps: {}\n{}",
        status["timeout_at"],
        issue.body
    );
    let approved = opened.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("Unknown", "Pending")
    );
    assert_eq!(opened.condition("ApprovalSynced").unwrap().status, "True");
    let normal = opened.results(Severity::Normal);
    assert_eq!(normal.len(), 1, "{normal:?}");
    assert!(
        normal[0].1.starts_with("approval requested in issue #1"),
        "{normal:?}"
    );
    assert!(opened.composed("promotion-job").is_none());
    assert!(opened.ttl().as_secs() <= 30 && opened.ttl().as_secs() > 0);

    // A lost status write does not open a second issue: the marker finds the first.
    let again = cp.reconcile_lost_write().await;
    assert_eq!(again.status()["issue"]["number"], 1.0);
    assert_eq!(cp.fake.count(Route::CreateIssue), 1);

    // Someone who may not approve closes it: reopened, with a comment saying why.
    cp.fake.close_as(1, "mallory", "completed");
    let undone = cp.reconcile().await;
    assert_eq!(undone.status()["gate_status"], "pending");
    let issue = cp.fake.issue(1).unwrap();
    assert_eq!(issue.state, "open");
    let comments = cp.fake.comments(1);
    assert_eq!(
        comments.len(),
        2,
        "the binding, then why the close did not count"
    );
    assert!(
        comments[0].body.contains("release-gate:bind key="),
        "{}",
        comments[0].body
    );
    assert_eq!(comments[1].user, LOGIN);
    assert!(
        comments[1].body.contains("mallory is not an approver"),
        "{}",
        comments[1].body
    );

    // One approval of two: still pending, the approval counted.
    cp.fake.comment_as(1, "alice", "Looks good.\n/approve");
    let one = cp.reconcile().await;
    assert_eq!(one.status()["gate_status"], "pending");
    assert_eq!(one.status()["approvals"][0]["login"], "alice");
    assert_eq!(one.status()["approvals"].as_array().unwrap().len(), 1);
    assert!(
        one.status().get("approver").is_none(),
        "no approver before the quorum"
    );
    let approved = one.condition("Approved").unwrap();
    assert!(
        approved.message.contains("1 counted: alice"),
        "{approved:?}"
    );
    assert!(
        one.results(Severity::Normal).is_empty(),
        "no event without a transition"
    );

    // The second approver: approved, summarized, closed as completed, Job rendered.
    cp.fake.comment_as(1, "bob", "/APPROVE");
    let done = cp.reconcile().await;
    assert!(done.fatal().is_empty(), "{:?}", done.rsp.results);
    let status = done.status();
    assert_eq!(status["gate_status"], "approved");
    assert_eq!(status["approver"], "alice,bob");
    let approvals: Vec<(&str, &str)> = status["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["login"].as_str().unwrap(), a["via"].as_str().unwrap()))
        .collect();
    assert_eq!(approvals, vec![("alice", "comment"), ("bob", "comment")]);
    assert_eq!(status["approval_timestamp"], status["approvals"][1]["at"]);
    assert_eq!(
        time(&status["timeout_at"]),
        deadline,
        "the deadline is kept"
    );
    let approved = done.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("True", "Approved")
    );
    assert_eq!(done.results(Severity::Normal).len(), 1);
    let issue = cp.fake.issue(1).unwrap();
    assert_eq!(issue.state, "closed");
    assert_eq!(issue.state_reason.as_deref(), Some("completed"));
    assert_eq!(issue.closed_by.as_deref(), Some(LOGIN));
    let comments = cp.fake.comments(1);
    let summaries: Vec<_> = comments
        .iter()
        .filter(|c| c.user == LOGIN && c.body.contains("verdict=approved"))
        .collect();
    assert_eq!(summaries.len(), 1, "{comments:#?}");
    assert!(summaries[0].body.starts_with("**Approved** by alice"));
    let job = done.job().expect("the promotion Job");
    // The example runs it in the platform's promotion namespace, carried there by a
    // provider-kubernetes Object in the gate's namespace.
    let carrier = done.composed("promotion-job").unwrap();
    assert_eq!(carrier["kind"], "Object");
    assert_eq!(carrier["metadata"]["namespace"], "platform-system");
    assert_eq!(job["metadata"]["namespace"], "release-promotions");
    let refused = crate::pod_security::restricted_violations(&job["spec"]["template"]["spec"]);
    assert!(
        refused.is_empty(),
        "Pod Security restricted refuses: {refused:?}"
    );
    assert_eq!(
        job["metadata"]["name"],
        format!("my-service-promote-{}", &key[..12])
    );
    assert_eq!(
        job["metadata"]["annotations"]["release.zerotouch.dev/gate-key"],
        key.as_str()
    );
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/promoter:v1"
    );
    let env = job_env(&job);
    for (name, value) in [
        ("TENANT", "my-service"),
        ("ARTIFACT_ID", "ghcr.io/org/my-service:main-abc123"),
        ("SOURCE_ENVIRONMENT", "dev"),
        ("TARGET_ENVIRONMENT", "staging"),
        ("APPROVED_BY", "alice,bob"),
        ("GITOPS_REPO", "acme/gitops"),
    ] {
        assert!(
            env.contains(&(name.to_owned(), value.to_owned())),
            "{name}={value} in {env:?}"
        );
    }
    assert!(
        env.iter()
            .any(|(n, v)| n == "ISSUE_URL" && v.ends_with("/issues/1"))
    );
    // The Job runs: the gate reports it and follows it at the poll interval.
    assert_eq!(done.status()["promotion"]["state"], "running");
    assert_eq!(done.status()["promotion"]["job"], job["metadata"]["name"]);
    assert_eq!(done.ttl().as_secs(), 30);

    // The status write is lost: the verdict is read back from the summary comment,
    // and nothing is written to GitHub again.
    let comments_before = cp.fake.comments(1).len();
    let recorded = cp.xr["status"].clone();
    let mut lost = cp.xr.clone();
    lost["status"] = json!({});
    cp.xr = lost;
    let reread = cp.reconcile().await;
    assert_eq!(reread.status()["gate_status"], "approved");
    assert_eq!(reread.status()["approvals"], recorded["approvals"]);
    // Crossplane observes the Job: the function records on the issue, once, that this
    // request's Job started, so that no lost status ever starts it again.
    let comments = cp.fake.comments(1);
    assert_eq!(comments.len(), comments_before + 1);
    assert!(
        comments
            .last()
            .unwrap()
            .body
            .contains("release-gate:started"),
        "{:?}",
        comments.last()
    );
    assert_eq!(cp.fake.count(Route::CreateIssue), 1);
    assert_eq!(
        cp.fake.count(Route::UpdateIssue),
        2,
        "one reopen, one close"
    );

    // Decided and recorded: no GitHub request at all, the Job still desired.
    cp.fake.clear_seen();
    for _ in 0..3 {
        let settled = cp.reconcile().await;
        assert_eq!(settled.status()["gate_status"], "approved");
        assert!(settled.composed("promotion-job").is_some());
        assert_eq!(
            settled.condition("ApprovalSynced").unwrap().reason,
            "Decided"
        );
    }
    assert_eq!(
        cp.fake.seen(),
        vec![],
        "a decided gate makes no GitHub request"
    );
}

#[tokio::test]
async fn rejection_by_an_approver_closes_the_issue_as_not_planned_and_renders_no_job() {
    let mut cp = gate_with_quorum_of_two().await;
    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    cp.fake.comment_as(1, "carol", "Not this build.\n/reject");

    let rejected = cp.reconcile().await;

    assert!(rejected.fatal().is_empty(), "{:?}", rejected.rsp.results);
    assert_eq!(rejected.status()["gate_status"], "rejected");
    let approved = rejected.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("False", "Rejected")
    );
    assert!(
        approved.message.contains("rejected by carol"),
        "{approved:?}"
    );
    assert!(rejected.composed("promotion-job").is_none());
    let issue = cp.fake.issue(1).unwrap();
    assert_eq!(issue.state, "closed");
    assert_eq!(issue.state_reason.as_deref(), Some("not_planned"));
    let summary = cp.fake.comments(1).pop().unwrap();
    assert_eq!(summary.user, LOGIN);
    assert!(
        summary.body.starts_with("**Rejected** by carol"),
        "{}",
        summary.body
    );

    // A later approval does not undo the veto, and costs no GitHub request.
    cp.fake.comment_as(1, "bob", "/approve");
    cp.fake.clear_seen();
    let later = cp.reconcile().await;
    assert_eq!(later.status()["gate_status"], "rejected");
    assert_eq!(cp.fake.seen(), vec![]);
}

#[tokio::test]
async fn gate_past_its_deadline_times_out_and_closes_the_issue() {
    let mut cp = gate_with_quorum_of_two().await;
    cp.xr["spec"]["timeout_hours"] = json!(1);
    let opened = cp.reconcile().await;
    assert_eq!(opened.status()["gate_status"], "pending");
    cp.fake.comment_as(1, "alice", "/approve");
    // The server reads the wall clock: the gate was started two hours ago, as its
    // binding and its recorded status say.
    cp.fake.backdate(1, chrono::Duration::hours(2));
    let back = |field: &str| {
        let at = time(&cp.xr["status"][field]) - chrono::Duration::hours(2);
        json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let (start, deadline) = (back("created_timestamp"), back("timeout_at"));
    cp.xr["status"]["created_timestamp"] = start;
    cp.xr["status"]["timeout_at"] = deadline;

    let timed_out = cp.reconcile().await;

    assert!(timed_out.fatal().is_empty(), "{:?}", timed_out.rsp.results);
    let status = timed_out.status();
    assert_eq!(status["gate_status"], "timeout");
    assert_eq!(
        time(&status["timeout_at"]) - time(&status["created_timestamp"]),
        chrono::Duration::hours(1)
    );
    let approved = timed_out.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("False", "TimedOut")
    );
    assert!(
        timed_out.composed("promotion-job").is_none(),
        "never a silent approval"
    );
    assert_eq!(timed_out.results(Severity::Normal).len(), 1);
    let issue = cp.fake.issue(1).unwrap();
    assert_eq!(issue.state, "closed");
    assert_eq!(issue.state_reason.as_deref(), Some("not_planned"));
    let summary = cp.fake.comments(1).pop().unwrap();
    assert_eq!(summary.user, LOGIN);
    assert!(
        summary.body.starts_with("**Timed out:**"),
        "{}",
        summary.body
    );

    cp.fake.clear_seen();
    let settled = cp.reconcile().await;
    assert_eq!(settled.status()["gate_status"], "timeout");
    assert_eq!(cp.fake.seen(), vec![]);
}

#[tokio::test]
async fn unchanged_pending_gate_polls_cost_only_not_modified_answers() {
    let mut cp = gate_with_quorum_of_two().await;
    cp.reconcile().await;
    // The first polls after opening learn the ETags of what they read, and the first
    // look that sees the new issue moves the feeds' bounds on once.
    cp.reconcile().await;
    cp.reconcile().await;
    cp.fake.clear_seen();

    let mut per_poll = Vec::new();
    for _ in 0..3 {
        let before = cp.fake.seen().len();
        let poll = cp.reconcile().await;
        assert_eq!(poll.status()["gate_status"], "pending");
        assert_eq!(poll.condition("ApprovalSynced").unwrap().status, "True");
        per_poll.push(cp.fake.seen().len() - before);
    }

    let seen = cp.fake.seen();
    assert!(
        seen.iter().all(|r| r.status == 304 && r.conditional),
        "{seen:#?}"
    );
    assert_eq!(cp.fake.rate_limited_requests(), 0);
    assert!(
        per_poll.iter().all(|n| *n == per_poll[0] && *n > 0),
        "{per_poll:?}"
    );
    // Only the repository's look: the gate sends nothing of its own while its issue does
    // not change.
    let routes: Vec<Route> = seen.iter().take(per_poll[0]).map(|r| r.route).collect();
    assert_eq!(routes, vec![Route::ListIssues, Route::ListRepoComments]);

    // A change is seen on the next poll, at the cost of the answers that changed.
    cp.fake.comment_as(1, "alice", "/approve");
    cp.fake.clear_seen();
    let poll = cp.reconcile().await;
    assert!(
        poll.condition("Approved")
            .unwrap()
            .message
            .contains("1 counted: alice")
    );
    assert!(cp.fake.rate_limited_requests() >= 1);
    // The look saw the issue change, so the gate read its issue and comments again.
    let routes: Vec<Route> = cp.fake.seen().iter().map(|r| r.route).collect();
    assert!(
        routes.contains(&Route::GetIssue) && routes.contains(&Route::ListComments),
        "{routes:?}"
    );
    // And once it has, it sends nothing of its own again.
    cp.reconcile().await;
    cp.fake.clear_seen();
    cp.reconcile().await;
    let routes: Vec<Route> = cp.fake.seen().iter().map(|r| r.route).collect();
    assert_eq!(routes, vec![Route::ListIssues, Route::ListRepoComments]);
}

#[tokio::test]
async fn answers_from_non_approvers_cost_no_rate_limit_on_later_polls() {
    // The example Input: alice, bob and the team acme/release-managers approve.
    let mut cp = Crossplane::start().await;
    cp.fake
        .add_team_member("acme", "release-managers", "dave", "active");
    cp.reconcile().await;
    cp.fake.comment_as(1, "eve", "/approve");
    cp.fake.close_as(1, "mallory", "completed");
    let first = cp.reconcile().await;
    assert_eq!(first.status()["gate_status"], "pending");
    assert_eq!(
        cp.fake.issue(1).unwrap().state,
        "open",
        "mallory's close undone"
    );
    cp.reconcile().await;
    cp.fake.clear_seen();

    for _ in 0..3 {
        let poll = cp.reconcile().await;
        assert_eq!(poll.status()["gate_status"], "pending");
    }

    let seen = cp.fake.seen();
    assert!(!seen.is_empty());
    assert_eq!(cp.fake.rate_limited_requests(), 0, "{seen:#?}");
    assert_eq!(cp.fake.count(Route::TeamMembership), 0);

    // A member of the team approves: looked up, counted.
    cp.fake.comment_as(1, "dave", "/approve");
    let approved = cp.reconcile().await;
    assert_eq!(approved.status()["gate_status"], "approved");
    assert_eq!(approved.status()["approver"], "dave");
}

#[tokio::test]
async fn new_artifact_opens_a_new_issue_and_closes_the_old_one_as_superseded() {
    let mut cp = gate_with_quorum_of_two().await;
    let opened = cp.reconcile().await;
    let old_key = opened.status()["gate_key"].clone();
    cp.fake.comment_as(1, "alice", "/approve");
    cp.xr["spec"]["artifact_id"] = json!("ghcr.io/org/my-service:main-def456");

    let renewed = cp.reconcile().await;

    assert!(renewed.fatal().is_empty(), "{:?}", renewed.rsp.results);
    let status = renewed.status();
    assert_ne!(status["gate_key"], old_key);
    assert_eq!(status["gate_status"], "pending");
    assert_eq!(status["issue"]["number"], 2.0);
    assert_eq!(
        status["approvals"],
        json!([]),
        "the approval was for the old artifact"
    );
    let old = cp.fake.issue(1).unwrap();
    assert_eq!(old.state, "closed");
    assert_eq!(old.state_reason.as_deref(), Some("not_planned"));
    let last = cp.fake.comments(1).pop().unwrap();
    assert!(last.body.starts_with("Superseded by #2"), "{}", last.body);
    let new = cp.fake.issue(2).unwrap();
    assert!(new.title.contains("main-def456"));
    assert_eq!(new.state, "open");

    // The old issue is never reopened or opened again.
    cp.reconcile_lost_write().await;
    cp.reconcile().await;
    assert_eq!(cp.fake.issues().len(), 2);
    assert_eq!(cp.fake.issue(1).unwrap().state, "closed");
}

#[tokio::test]
async fn github_app_credentials_open_and_read_the_issue_as_the_app() {
    let mut cp = gate_with_quorum_of_two().await;
    let keys = fake_github::app_keys();
    cp.fake.enable_app(fake_github::FakeApp {
        id: 4242,
        slug: "release-gates".into(),
        installation_id: 77,
        token_ttl: chrono::TimeDelta::hours(1),
        public_key: keys.public.clone(),
    });
    cp.credentials = Some(std::collections::BTreeMap::from([
        ("app_id".to_owned(), b"4242".to_vec()),
        ("private_key".to_owned(), keys.pkcs8.as_bytes().to_vec()),
    ]));

    let opened = cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    cp.fake.comment_as(1, "bob", "/approve");
    let approved = cp.reconcile().await;

    assert!(opened.fatal().is_empty(), "{:?}", opened.rsp.results);
    assert_eq!(cp.fake.issue(1).unwrap().user, "release-gates[bot]");
    assert_eq!(approved.status()["gate_status"], "approved");
    let issue = cp.fake.issue(1).unwrap();
    assert_eq!(issue.closed_by.as_deref(), Some("release-gates[bot]"));
    assert_eq!(
        cp.fake.installation_tokens_issued(),
        1,
        "the token is reused"
    );
    assert_eq!(cp.fake.count(Route::RepoInstallation), 1);
}

#[tokio::test]
async fn closes_by_approvers_count_as_approvals_until_the_quorum() {
    let mut cp = gate_with_quorum_of_two().await;
    cp.reconcile().await;

    cp.fake.close_as(1, "alice", "completed");
    let one = cp.reconcile().await;

    assert_eq!(one.status()["gate_status"], "pending");
    assert_eq!(one.status()["approvals"][0]["via"], "close");
    let issue = cp.fake.issue(1).unwrap();
    assert_eq!(issue.state, "open", "reopened for the second approval");
    let counted = cp.fake.comments(1).pop().unwrap();
    assert!(
        counted
            .body
            .starts_with("Counted the close by alice as an approval (1 of 2)"),
        "{}",
        counted.body
    );
    // Read again (a lost write): the close is counted once, not commented twice.
    cp.reconcile_lost_write().await;
    assert_eq!(
        cp.fake.comments(1).len(),
        2,
        "the binding and the counted close"
    );

    cp.fake.close_as(1, "bob", "completed");
    let done = cp.reconcile().await;

    let status = done.status();
    assert_eq!(status["gate_status"], "approved");
    assert_eq!(status["approver"], "alice,bob");
    let issue = cp.fake.issue(1).unwrap();
    assert_eq!(
        (issue.state.as_str(), issue.state_reason.as_deref()),
        ("closed", Some("completed"))
    );
    let summary = cp.fake.comments(1).pop().unwrap();
    assert!(
        summary.body.contains("verdict=approved"),
        "{}",
        summary.body
    );
    assert!(done.composed("promotion-job").is_some());
}

#[tokio::test]
async fn crossplane_before_v2_answering_in_extra_resources_gets_the_same_gate() {
    let mut cp = gate_with_quorum_of_two().await;
    cp.legacy_requirements = true;
    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");

    let one = cp.reconcile().await;

    // The pipeline's quorum of two applies: the ConfigMap was read from extra_resources.
    assert_eq!(one.status()["gate_status"], "pending");
    assert!(
        one.condition("Approved")
            .unwrap()
            .message
            .contains("waiting for 2")
    );
    cp.fake.comment_as(1, "bob", "/approve");
    assert_eq!(cp.reconcile().await.status()["gate_status"], "approved");
}

#[tokio::test]
async fn the_server_never_uses_its_own_environment_s_github_token() {
    // A Composition step without credentials must not borrow the server's token: it
    // could point `apiUrl` anywhere.
    let mut cp = Crossplane::start_logging(&[], &[("GITHUB_TOKEN", fake_github::TOKEN)]).await;
    cp.credentials = None;
    let reply = cp.reconcile().await;
    let synced = reply.condition("ApprovalSynced").unwrap();
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("False", "MissingCredentials"),
        "{}",
        synced.message
    );
    assert!(cp.fake.seen().is_empty(), "{:?}", cp.fake.seen());
    assert!(cp.fake.issues().is_empty());
}

#[tokio::test]
async fn a_failed_team_lookup_holds_approval_and_the_veto_counts_once_it_is_read() {
    let mut cp = Crossplane::start().await;
    let mut who = approvers(&["alice"], 1);
    who.teams = vec!["acme/release-managers".into()];
    cp.pipeline = Some(example_pipeline(Some(who)));
    cp.fake
        .add_team_member("acme", "release-managers", "carol", "active");
    cp.reconcile().await;
    // carol vetoes, but GitHub refuses the team lookup; alice approves.
    cp.fake.comment_as(1, "carol", "/reject");
    cp.fake.comment_as(1, "alice", "/approve");
    cp.fake.inject(
        Some(Route::TeamMembership),
        fake_github::Fault::Status(403),
        None,
    );

    let held = cp.reconcile().await;

    assert_eq!(held.status()["gate_status"], "pending");
    assert!(held.composed("promotion-job").is_none());
    assert_eq!(held.condition("ApprovalSynced").unwrap().status, "True");
    let approved = held.condition("Approved").unwrap();
    assert!(
        approved
            .message
            .contains("could not say whether carol may answer"),
        "{}",
        approved.message
    );

    // The lookup answers again: carol's veto counts.
    cp.fake.clear_faults();
    let rejected = cp.reconcile().await;
    assert_eq!(rejected.status()["gate_status"], "rejected");
}

#[tokio::test]
async fn thousands_of_labelled_issues_by_others_cost_a_new_gate_a_handful_of_requests() {
    let mut cp = Crossplane::start().await;
    for n in 0..3000 {
        cp.fake
            .open_issue_as("someone", &format!("not ours {n}"), "", &[LABEL]);
    }
    cp.fake.clear_seen();

    let opened = cp.reconcile().await;

    assert_eq!(opened.status()["issue"]["number"], 3001.0);
    let seen = cp.fake.seen();
    // Who the function is; the repository's first look: one page of its own issues
    // (none) and the comments changed lately; the requester's account, to seal in the
    // binding (once: remembered for the second look); before opening, a second look at
    // what changed since (issues, then comments: a 304) and who it is again (a 304);
    // open, bind. Nothing grows with the others' issues.
    assert_eq!(seen.len(), 9, "{seen:#?}");
    assert_eq!(cp.fake.rate_limited_requests(), 7, "{seen:#?}");
    assert_eq!(cp.fake.count(Route::ListIssues), 2);
    assert_eq!(cp.fake.count(Route::ListRepoComments), 2);
}

#[tokio::test]
async fn a_freeze_window_holds_an_approved_gate_until_an_allowed_approver_overrides_it() {
    let mut cp = gate_with_quorum_of_two().await;
    // Staging is frozen for the next hour (the server reads the wall clock); carol may
    // override.
    let now = Utc::now();
    let mut pipeline = cp.pipeline.take().unwrap();
    pipeline["spec"]["freezes"] = json!([{
        "name": "maintenance", "environments": ["staging"], "reason": "database maintenance",
        "from": (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "until": (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }]);
    pipeline["spec"]["freezeOverride"] = json!({"users": ["carol"]});
    cp.pipeline = Some(pipeline);

    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    cp.fake.comment_as(1, "bob", "/approve");
    // Approved by two, but frozen: pending, no Job.
    let frozen = cp.reconcile().await;
    assert_eq!(frozen.status()["gate_status"], "pending");
    assert!(frozen.composed("promotion-job").is_none());
    let approved = frozen.condition("Approved").unwrap();
    assert_eq!(approved.reason, "Frozen", "{}", approved.message);
    assert!(
        approved.message.contains("maintenance"),
        "{}",
        approved.message
    );
    assert!(frozen.ttl() <= Duration::from_secs(30));

    // bob approves but may not override; carol may.
    cp.fake
        .comment_as(1, "bob", "/override-freeze it is urgent");
    let still = cp.reconcile().await;
    assert_eq!(still.status()["gate_status"], "pending");
    cp.fake
        .comment_as(1, "carol", "/override-freeze hotfix for a security issue");
    let through = cp.reconcile().await;
    assert_eq!(through.status()["gate_status"], "approved");
    assert!(through.composed("promotion-job").is_some());
    let warnings = through.results(Severity::Warning);
    assert!(
        warnings
            .iter()
            .any(|(reason, message)| reason == "FreezeOverridden"
                && message.contains("carol")
                && message.contains("hotfix for a security issue")),
        "{warnings:?}"
    );
    let entries = through.status()["approvals"].as_array().unwrap().clone();
    assert!(
        entries
            .iter()
            .any(|a| a["login"] == "carol" && a["via"] == "override-freeze"),
        "{entries:?}"
    );
}
