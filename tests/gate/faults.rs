//! GitHub faults end to end: the real server binary over gRPC, reconciling a pending
//! gate while the fake GitHub times out, fails, rate-limits, refuses credentials,
//! answers garbage or loses the issue. A fault never approves, never loses the recorded
//! status, never opens a duplicate issue and is never Fatal; `ApprovalSynced` turns
//! False with the fault's reason, one Warning marks the transition, RunFunction answers
//! within the gate's GitHub budget, and the next reconcile after the fault recovers.
//! No token reaches the server's log, a result or a condition.

use crate::common;
use crate::e2e;
use crate::fake_github;

use std::time::Duration;

use common::wire::Severity;
use e2e::{Crossplane, GITHUB_BUDGET, Reply, approvers, example_pipeline};
use fake_github::{Fault, LOGIN, Route, TOKEN};
use serde_json::{Value, json};

/// A pending gate with a quorum of two whose issue #1 is open and recorded; alice and
/// bob have approved on it since the last reconcile, so a poll that reads GitHub
/// approves.
async fn approved_since_last_poll() -> Crossplane {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(
        &["alice", "bob", "carol"],
        2,
    ))));
    let opened = cp.reconcile().await;
    assert_eq!(opened.status()["gate_status"], "pending");
    assert_eq!(cp.fake.issues().len(), 1);
    cp.fake.comment_as(1, "alice", "/approve");
    cp.fake.comment_as(1, "bob", "/approve");
    cp
}

fn without_conditions(status: &Value) -> Value {
    let mut status = status.clone();
    status.as_object_mut().unwrap().remove("conditions");
    status
}

/// What every fault must leave: the recorded status re-emitted, nothing approved,
/// `ApprovalSynced=False` with `reason`, no Fatal, no new issue, an answer within the
/// budget, and no token in any message.
fn assert_kept(cp: &Crossplane, recorded: &Value, reply: &Reply, reason: &str) {
    assert!(reply.fatal().is_empty(), "{:?}", reply.rsp.results);
    assert_eq!(
        reply.status(),
        *recorded,
        "the recorded status is re-emitted"
    );
    assert_eq!(reply.status()["gate_status"], "pending");
    assert!(
        reply.composed("promotion-job").is_none(),
        "nothing approved"
    );
    assert!(reply.composed("gate-config").is_some());
    let approved = reply.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("Unknown", "Pending")
    );
    let synced = reply.condition("ApprovalSynced").unwrap();
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("False", reason),
        "{synced:?}"
    );
    assert_eq!(cp.fake.issues().len(), 1, "no duplicate issue");
    assert!(
        reply.elapsed < GITHUB_BUDGET,
        "RunFunction took {:?}",
        reply.elapsed
    );
    assert!(!format!("{:?}", reply.rsp).contains(TOKEN));
}

/// Injects `fault` (on `route`, or every route) for `times` requests (for ever when
/// `None`), reconciles, checks what must hold, clears the fault and checks that the
/// next reconcile approves (or, after a rate limit, still waits without a request).
/// Returns the faulty reply.
async fn fault_is_survived(
    fault: Fault,
    route: Option<Route>,
    times: Option<usize>,
    reason: &str,
) -> Reply {
    let mut cp = approved_since_last_poll().await;
    let recorded = without_conditions(&cp.xr["status"]);
    cp.fake.inject(route, fault.clone(), times);

    let faulty = cp.reconcile().await;

    assert_kept(&cp, &recorded, &faulty, reason);
    let warnings = faulty.results(Severity::Warning);
    assert_eq!(warnings.len(), 1, "{fault:?}: {warnings:?}");
    assert_eq!(warnings[0].0, reason);
    assert!(
        warnings[0]
            .1
            .starts_with("cannot sync the approval issue: "),
        "{warnings:?}"
    );
    assert!(faulty.results(Severity::Normal).is_empty());

    if times.is_none() {
        // Still failing: the same condition, no second Warning.
        let again = cp.reconcile().await;
        assert_kept(&cp, &recorded, &again, reason);
        assert_eq!(again.results(Severity::Warning), vec![], "{fault:?}");
    } else if let Fault::Delay(delay) = fault {
        // The fake answers (or drops) the delayed request after the server gave up on
        // it; let that pass so the next reconcile's counts are its own.
        tokio::time::sleep(delay.saturating_sub(faulty.elapsed) + Duration::from_millis(200)).await;
    }

    cp.fake.clear_faults();
    if reason == "RateLimited" {
        // GitHub asked to wait: nothing is sent before then, fault or not.
        cp.fake.clear_seen();
        let held = cp.reconcile().await;
        assert_kept(&cp, &recorded, &held, reason);
        assert_eq!(cp.fake.seen(), vec![], "nothing sent before the limit ends");
        return faulty;
    }
    let recovered = cp.reconcile().await;
    assert_eq!(recovered.status()["gate_status"], "approved", "{fault:?}");
    let synced = recovered.condition("ApprovalSynced").unwrap();
    assert_eq!(synced.status, "True");
    assert_eq!(cp.fake.count(Route::CreateIssue), 1);
    assert!(recovered.composed("promotion-job").is_some());
    faulty
}

#[tokio::test]
async fn request_timeout_on_the_first_read_is_a_timeout_within_the_budget() {
    // Longer than the adapter's 10 s read timeout; only the first read (the listing) is delayed.
    let faulty = fault_is_survived(
        Fault::Delay(Duration::from_secs(12)),
        Some(Route::ListIssues),
        Some(1),
        "Timeout",
    )
    .await;
    assert_eq!(
        faulty.ttl(),
        Duration::from_secs(30),
        "retried at the poll interval"
    );
}

#[tokio::test]
async fn internal_server_error_is_github_unavailable() {
    let faulty = fault_is_survived(Fault::Status(500), None, None, "GitHubUnavailable").await;
    assert_eq!(faulty.ttl(), Duration::from_secs(30));
}

#[tokio::test]
async fn bad_gateway_is_github_unavailable() {
    fault_is_survived(Fault::Status(502), None, None, "GitHubUnavailable").await;
}

#[tokio::test]
async fn rate_limit_backs_off_until_the_quota_resets() {
    let faulty = fault_is_survived(
        Fault::RateLimit403 { reset_in: 600 },
        None,
        None,
        "RateLimited",
    )
    .await;
    let ttl = faulty.ttl().as_secs();
    assert!((590..=601).contains(&ttl), "TTL {ttl} s");
}

#[tokio::test]
async fn secondary_rate_limit_backs_off_for_retry_after() {
    let faulty = fault_is_survived(
        Fault::TooManyRequests { retry_after: 45 },
        None,
        None,
        "RateLimited",
    )
    .await;
    assert_eq!(faulty.ttl(), Duration::from_secs(45));
}

#[tokio::test]
async fn secondary_rate_limit_naming_no_wait_backs_off_a_minute() {
    let faulty = fault_is_survived(Fault::SecondaryRateLimit, None, Some(1), "RateLimited").await;
    assert_eq!(faulty.ttl(), Duration::from_secs(60));
}

#[tokio::test]
async fn refused_credentials_are_bad_credentials() {
    fault_is_survived(Fault::Status(401), None, None, "BadCredentials").await;
}

#[tokio::test]
async fn malformed_json_is_a_malformed_response() {
    fault_is_survived(Fault::MalformedJson, None, None, "MalformedResponse").await;
}

#[tokio::test]
async fn missing_credentials_keep_the_status_and_say_so() {
    let mut cp = approved_since_last_poll().await;
    let recorded = without_conditions(&cp.xr["status"]);
    cp.credentials = None;
    cp.fake.clear_seen();

    let faulty = cp.reconcile().await;

    assert_kept(&cp, &recorded, &faulty, "MissingCredentials");
    assert_eq!(cp.fake.seen(), vec![], "nothing sent without credentials");
    let synced = faulty.condition("ApprovalSynced").unwrap();
    assert!(synced.message.contains("github"), "{synced:?}");
}

#[tokio::test]
async fn slow_answers_inside_the_timeouts_are_read() {
    let mut cp = approved_since_last_poll().await;
    cp.fake
        .inject(None, Fault::Delay(Duration::from_millis(300)), None);

    let slow = cp.reconcile().await;

    assert!(slow.fatal().is_empty(), "{:?}", slow.rsp.results);
    assert_eq!(slow.status()["gate_status"], "approved");
    assert_eq!(slow.condition("ApprovalSynced").unwrap().status, "True");
    assert!(slow.elapsed < GITHUB_BUDGET, "{:?}", slow.elapsed);
    assert_eq!(cp.fake.count(Route::CreateIssue), 1);
}

/// The issue disappears (`lose` answers 404 or 410 for it): a new issue is opened under
/// the same key and the gate's start and deadline are kept.
async fn lost_issue_is_replaced_keeping_the_deadline(lose: fn(&fake_github::FakeGitHub)) {
    let mut cp = approved_since_last_poll().await;
    let recorded = cp.xr["status"].clone();
    lose(&cp.fake);

    let replaced = cp.reconcile().await;

    assert!(replaced.fatal().is_empty(), "{:?}", replaced.rsp.results);
    let status = replaced.status();
    assert_eq!(
        status["gate_status"], "pending",
        "approvals on a lost issue are gone"
    );
    assert_eq!(status["issue"]["number"], 2.0);
    assert_eq!(status["gate_key"], recorded["gate_key"]);
    assert_eq!(status["created_timestamp"], recorded["created_timestamp"]);
    assert_eq!(status["timeout_at"], recorded["timeout_at"]);
    assert_eq!(replaced.condition("ApprovalSynced").unwrap().status, "True");
    let new = cp.fake.issue(2).expect("issue #2");
    assert_eq!((new.user.as_str(), new.state.as_str()), (LOGIN, "open"));
    let key = recorded["gate_key"].as_str().unwrap();
    assert!(new.body.contains(&format!("key={key}")));
    assert!(
        new.body.contains(recorded["timeout_at"].as_str().unwrap()),
        "the body states the kept deadline"
    );

    // The write of the new number is lost: the marker finds #2, no third issue.
    cp.xr["status"] = recorded;
    let again = cp.reconcile_lost_write().await;
    assert_eq!(again.status()["issue"]["number"], 2.0);
    assert_eq!(cp.fake.count(Route::CreateIssue), 2);
}

#[tokio::test]
async fn deleted_issue_answering_gone_is_replaced_keeping_the_deadline() {
    lost_issue_is_replaced_keeping_the_deadline(|fake| fake.delete_issue(1)).await;
}

#[tokio::test]
async fn removed_issue_answering_not_found_is_replaced_keeping_the_deadline() {
    lost_issue_is_replaced_keeping_the_deadline(|fake| fake.remove_issue(1)).await;
}

/// Runs a gate through echoed `Authorization` headers with the server started with
/// `args` and `envs`, with the fake's token or (`app`) as a GitHub App; checks that no
/// credential it sent, nor the App's key, is in a response or the log; returns the log.
async fn exchange_with_echoing_proxy(args: &[&str], envs: &[(&str, &str)], app: bool) -> String {
    let mut cp = Crossplane::start_logging(args, envs).await;
    let mut secrets = vec![TOKEN.to_owned()];
    if app {
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
        secrets.extend(
            keys.pkcs8
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned),
        );
    }
    let mut replies = vec![cp.reconcile().await];
    cp.fake.comment_as(1, "alice", "/approve");
    // A careless proxy repeats the Authorization header in its error bodies.
    for status in [500, 401, 403, 502] {
        cp.fake
            .inject(None, Fault::EchoAuthorization(status), Some(1));
        replies.push(cp.reconcile().await);
    }
    replies.push(cp.reconcile().await);
    drop(cp.server);
    let log = cp.log.take().expect("a captured log");
    log.wait_closed().await;

    let seen = cp.fake.seen();
    assert_eq!(
        seen.iter().filter(|r| r.status >= 400).count(),
        4,
        "each echo was answered"
    );
    // Every credential sent: the token, installation tokens, App JWTs.
    for authorization in seen.iter().filter_map(|r| r.authorization.as_deref()) {
        let credential = authorization
            .split_once(' ')
            .map_or(authorization, |(_, c)| c);
        if !secrets.iter().any(|s| s == credential) {
            secrets.push(credential.to_owned());
        }
    }
    if app {
        assert!(
            secrets.iter().any(|s| s.starts_with("ghs_")),
            "installation tokens sent"
        );
        assert!(
            secrets.iter().any(|s| s.starts_with("eyJ")),
            "App JWTs sent"
        );
    }
    let messages: Vec<String> = replies.iter().flat_map(Reply::messages).collect();
    assert!(
        messages.iter().any(|m| m.contains("[redacted]")),
        "the echo reached a message and was scrubbed: {messages:#?}"
    );
    for reply in &replies {
        assert!(reply.fatal().is_empty(), "{:?}", reply.rsp.results);
        let all = format!("{:?}", reply.rsp);
        for secret in &secrets {
            assert!(!all.contains(secret.as_str()), "{secret} in {all}");
        }
    }
    // Once the proxy behaves, alice's approval is read.
    assert_eq!(
        replies.last().unwrap().status()["gate_status"],
        json!("approved")
    );
    let text = log.text();
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a credential ({secret}) is in the log:\n{text}"
        );
    }
    assert!(
        !text.contains(&TOKEN[4..]),
        "part of the token is in the log:\n{text}"
    );
    text
}

#[tokio::test]
async fn token_never_reaches_the_debug_log_nor_a_result() {
    let text = exchange_with_echoing_proxy(&["--debug"], &[], false).await;
    assert!(
        text.contains("github request") && text.contains("cannot sync the approval issue"),
        "the debug log was captured:\n{text}"
    );
}

#[tokio::test]
async fn token_never_reaches_a_trace_log_of_every_crate() {
    let text = exchange_with_echoing_proxy(&[], &[("RUST_LOG", "trace")], false).await;
    assert!(
        text.contains("cannot sync the approval issue") && text.contains("\"target\":\"octocrab\""),
        "the trace log of the HTTP stack was captured:\n{text}"
    );
}

#[tokio::test]
async fn app_key_and_tokens_never_reach_a_trace_log_nor_a_result() {
    let text = exchange_with_echoing_proxy(&[], &[("RUST_LOG", "trace")], true).await;
    assert!(
        text.contains("cannot sync the approval issue"),
        "the log was captured:\n{text}"
    );
}

#[tokio::test]
async fn rate_limit_holds_back_every_gate_using_the_same_credentials() {
    let mut cp = Crossplane::start().await;
    cp.reconcile().await;
    let first_gate = std::mem::replace(&mut cp.xr, e2e::example_gate());
    cp.xr["metadata"]["name"] = json!("my-service-staging-to-production");
    cp.xr["spec"]["source_environment"] = json!("staging");
    cp.xr["spec"]["target_environment"] = json!("production");
    // Progression is enforced: the artifact is in staging, as the pipeline's status says.
    let artifact = cp.xr["spec"]["artifact_id"].clone();
    cp.pipeline.as_mut().unwrap()["status"] = json!({
        "environments": [{"name": "staging", "artifact_id": artifact,
                          "promoted_at": "2026-03-01T05:00:00Z", "approved_by": "alice",
                          "gate": "my-service-dev-to-staging"}],
        "current_environment": "staging",
        "artifact_id": artifact,
    });
    let opened = cp.reconcile().await;
    assert_eq!(opened.status()["issue"]["number"], 2.0);
    cp.fake
        .inject(None, Fault::TooManyRequests { retry_after: 45 }, Some(1));
    let limited = cp.reconcile().await;
    assert_eq!(
        limited.condition("ApprovalSynced").unwrap().reason,
        "RateLimited"
    );

    // The other gate's poll, and this gate's next reconcile, come before the time
    // GitHub asked for: neither sends a request.
    cp.fake.clear_seen();
    let second_gate = std::mem::replace(&mut cp.xr, first_gate);
    let other = cp.reconcile().await;
    cp.xr = second_gate;
    let again = cp.reconcile().await;

    assert_eq!(cp.fake.seen(), vec![], "no request before Retry-After");
    for reply in [&other, &again] {
        let synced = reply.condition("ApprovalSynced").unwrap();
        assert_eq!(
            (synced.status.as_str(), synced.reason.as_str()),
            ("False", "RateLimited")
        );
        assert!(reply.fatal().is_empty());
        let ttl = reply.ttl().as_secs();
        assert!((1..=45).contains(&ttl), "TTL {ttl} s");
        assert_eq!(reply.status()["gate_status"], "pending");
    }
}

#[tokio::test]
async fn issue_opened_behind_an_error_is_found_by_its_marker_not_opened_twice() {
    let mut cp = Crossplane::start().await;
    cp.fake
        .inject(Some(Route::CreateIssue), Fault::AfterEffect(502), Some(1));

    let failed = cp.reconcile().await;

    assert!(failed.fatal().is_empty(), "{:?}", failed.rsp.results);
    let synced = failed.condition("ApprovalSynced").unwrap();
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("False", "GitHubUnavailable")
    );
    assert!(failed.status().get("issue").is_none());
    assert_eq!(cp.fake.issues().len(), 1, "GitHub made it anyway");

    let found = cp.reconcile().await;

    assert_eq!(found.status()["issue"]["number"], 1.0);
    assert_eq!(found.condition("ApprovalSynced").unwrap().status, "True");
    assert_eq!(cp.fake.count(Route::CreateIssue), 1);
    assert_eq!(cp.fake.issues().len(), 1);
}

#[tokio::test]
async fn hung_github_is_reported_before_the_call_deadline_crossplane_set() {
    let mut cp = approved_since_last_poll().await;
    let recorded = without_conditions(&cp.xr["status"]);
    // Crossplane v1.17 and v1.18 give each call 10 s; a shorter one keeps this quick.
    cp.grpc_timeout = Some(Duration::from_secs(3));
    let delay = Duration::from_secs(6);
    cp.fake
        .inject(Some(Route::ListIssues), Fault::Delay(delay), Some(1));

    let faulty = cp.reconcile().await;

    assert_kept(&cp, &recorded, &faulty, "Timeout");
    assert!(
        faulty.elapsed < Duration::from_secs(3),
        "{:?}",
        faulty.elapsed
    );
    tokio::time::sleep(delay.saturating_sub(faulty.elapsed)).await;
    cp.fake.clear_faults();
    let recovered = cp.reconcile().await;
    assert_eq!(recovered.status()["gate_status"], "approved");
}

#[tokio::test]
async fn unreachable_github_keeps_the_status_and_says_so() {
    let mut cp = approved_since_last_poll().await;
    let recorded = without_conditions(&cp.xr["status"]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    cp.input["github"]["apiUrl"] = json!(url);

    let faulty = cp.reconcile().await;

    assert_kept(&cp, &recorded, &faulty, "GitHubUnreachable");
    assert_eq!(faulty.results(Severity::Warning).len(), 1);
}

#[tokio::test]
async fn fault_after_a_new_artifact_never_shows_the_old_approval() {
    let mut cp = approved_since_last_poll().await;
    let approved = cp.reconcile().await;
    assert_eq!(approved.status()["gate_status"], "approved");
    let old_key = approved.status()["gate_key"].clone();
    let old_start = approved.status()["created_timestamp"].clone();
    cp.xr["spec"]["artifact_id"] = json!("ghcr.io/org/my-service:main-def456");
    cp.fake.inject(None, Fault::Status(502), None);

    let faulty = cp.reconcile().await;

    let status = faulty.status();
    assert_eq!(status["gate_status"], "pending", "{status:#}");
    assert_ne!(status["gate_key"], old_key);
    for field in ["approver", "approval_timestamp", "issue"] {
        assert!(
            status.get(field).is_none(),
            "{field} of the old artifact: {status:#}"
        );
    }
    // The new artifact's request starts with this call, though GitHub cannot be read.
    let at = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    assert!(
        at(&status["created_timestamp"]) >= at(&old_start),
        "{status:#}"
    );
    assert_eq!(
        at(&status["timeout_at"]) - at(&status["created_timestamp"]),
        chrono::TimeDelta::hours(24)
    );
    assert_eq!(status["approvals"], json!([]));
    assert!(faulty.composed("promotion-job").is_none());
    assert_eq!(
        faulty.condition("ApprovalSynced").unwrap().reason,
        "GitHubUnavailable"
    );
    assert!(faulty.fatal().is_empty());

    // GitHub back: the new artifact gets its own issue; the old one is superseded.
    cp.fake.clear_faults();
    let renewed = cp.reconcile().await;
    assert_eq!(renewed.status()["gate_status"], "pending");
    assert_eq!(renewed.status()["issue"]["number"], 2.0);
    let deadline = renewed.status()["timeout_at"].as_str().unwrap().to_owned();
    assert!(cp.fake.issue(2).unwrap().body.contains(&deadline));
}

/// The first line of `cp`'s log that says `needle`, waiting up to a second for it.
async fn logged(cp: &Crossplane, needle: &str) -> String {
    for _ in 0..50 {
        let log = cp.log.as_ref().unwrap().text();
        if let Some(line) = log.lines().find(|l| l.contains(needle)) {
            return line.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the server never said {needle:?}");
}

#[tokio::test]
async fn the_views_are_sized_by_the_flag_or_the_container_s_limit() {
    let cp = Crossplane::start_logging(&["--view-budget-mib", "48"], &[]).await;
    let line = logged(&cp, "repository views sized").await;
    assert!(line.contains("\"view_budget_mib\":48"), "{line}");
    let cp = Crossplane::start_logging(&[], &[("VIEW_BUDGET_MIB", "12")]).await;
    let line = logged(&cp, "repository views sized").await;
    assert!(line.contains("\"view_budget_mib\":12"), "{line}");
}
