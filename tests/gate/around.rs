//! No path around the decision, through the real server and the fake GitHub:
//! - the XR's status is a cache, not an authority: someone whose role lets them write
//!   `xpromotiongates/status` (Crossplane's generated edit roles do) cannot make a gate
//!   promote;
//! - a promotion that ran is never started again, whoever deletes its Job, whatever
//!   happens to the status, and when the gate switches away and back;
//! - an approval reused on a switch back passes the freeze windows again;
//! - the deadline does not follow a later change of `timeout_hours`.

use crate::common;
use crate::e2e;
use crate::fake_github;

use common::wire::Severity;
use e2e::{Crossplane, Reply, approvers, example_pipeline};
use fake_github::Fault;
use serde_json::{Value, json};

/// The example gate with alice and bob as approvers, one approval needed.
async fn gate() -> Crossplane {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(&["alice", "bob"], 1))));
    cp
}

fn warnings(reply: &Reply, reason: &str) -> Vec<String> {
    reply
        .results(Severity::Warning)
        .into_iter()
        .filter(|(r, _)| r == reason)
        .map(|(_, message)| message)
        .collect()
}

#[tokio::test]
async fn a_status_someone_wrote_as_approved_runs_nothing_and_says_so() {
    let mut cp = gate().await;
    let opened = cp.reconcile().await;
    assert_eq!(opened.status()["gate_status"], "pending");
    // A tenant patches the status subresource: approved, by alice, for this very key.
    let mut forged = cp.xr["status"].clone();
    forged["gate_status"] = json!("approved");
    forged["approver"] = json!("alice");
    forged["approval_timestamp"] = json!("2026-01-01T00:00:00Z");
    forged["approvals"] =
        json!([{"login": "alice", "at": "2026-01-01T00:00:00Z", "via": "comment"}]);
    cp.xr["status"] = forged;

    let reply = cp.reconcile().await;

    assert!(reply.composed("promotion-job").is_none(), "no Job runs");
    assert_eq!(reply.status()["gate_status"], "pending", "GitHub decides");
    assert_eq!(reply.status()["approvals"], json!([]));
    let said = warnings(&reply, "UnbackedStatus");
    assert_eq!(said.len(), 1, "{:?}", reply.results(Severity::Warning));
    assert!(said[0].contains("status.gate_status"), "{}", said[0]);
    assert!(
        cp.fake
            .comments(1)
            .iter()
            .all(|c| !c.body.contains("verdict=")),
        "no verdict was written for it"
    );
    // The next call is quiet: the status no longer says approved.
    let again = cp.reconcile().await;
    assert!(warnings(&again, "UnbackedStatus").is_empty());
    assert!(again.composed("promotion-job").is_none());
}

/// A gate approved by alice whose Job Crossplane created, ran to success, and saw.
async fn promoted() -> Crossplane {
    let mut cp = gate().await;
    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    let approved = cp.reconcile().await;
    assert!(approved.composed("promotion-job").is_some());
    // Crossplane observes the Job: its start is recorded on the issue.
    let started = cp.reconcile().await;
    assert!(started.status()["promotion"]["started_at"].is_string());
    assert_eq!(
        cp.fake
            .comments(1)
            .iter()
            .filter(|c| c.body.contains("release-gate:started"))
            .count(),
        1
    );
    let job = cp.job_mut().expect("observed Job");
    job["status"] = json!({"succeeded": 1, "completionTime": "2026-03-01T07:00:00Z"});
    let done = cp.reconcile().await;
    assert_eq!(done.status()["promotion"]["state"], "succeeded");
    assert!(
        done.composed("promotion-job").is_some(),
        "kept while observed"
    );
    cp
}

#[tokio::test]
async fn a_finished_promotion_whose_job_is_deleted_is_never_started_again() {
    for lost in [false, true] {
        let mut cp = promoted().await;
        // Someone (or a clean-up of finished Jobs) deletes the Job.
        cp.observed.remove("promotion-job");
        let reply = if lost {
            cp.xr["status"] = Value::Null;
            cp.reconcile_lost_write().await
        } else {
            cp.reconcile().await
        };
        assert_eq!(reply.status()["gate_status"], "approved", "lost={lost}");
        assert!(
            reply.composed("promotion-job").is_none(),
            "lost={lost}: the Job is not created again"
        );
        // And it stays gone on later calls.
        let later = cp.reconcile().await;
        assert!(later.composed("promotion-job").is_none(), "lost={lost}");
    }
}

#[tokio::test]
async fn a_running_job_is_kept_while_crossplane_observes_it_even_when_github_fails() {
    let mut cp = gate().await;
    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    cp.reconcile().await;
    cp.xr["status"] = Value::Null;
    cp.fake.inject(None, Fault::Status(503), None);
    let reply = cp.reconcile_lost_write().await;
    assert!(
        reply.composed("promotion-job").is_some(),
        "deleting a running Job would stop a promotion half done"
    );
}

/// A freeze window over staging, open from an hour ago for two hours.
fn frozen_staging(cp: &mut Crossplane) {
    let now = chrono::Utc::now();
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let pipeline = cp.pipeline.as_mut().unwrap();
    pipeline["spec"]["freezes"] = json!([{
        "name": "year-end", "environments": ["staging"], "reason": "year end",
        "from": time(now - chrono::Duration::hours(1)),
        "until": time(now + chrono::Duration::hours(1)),
    }]);
}

#[tokio::test]
async fn an_approval_reused_on_a_switch_back_waits_out_a_freeze_window() {
    for lost in [false, true] {
        let mut cp = gate().await;
        let a = cp.xr["spec"]["artifact_id"].clone();
        cp.reconcile().await;
        cp.fake.comment_as(1, "alice", "/approve");
        assert_eq!(cp.reconcile().await.status()["gate_status"], "approved");
        cp.xr["spec"]["artifact_id"] = json!("ghcr.io/org/my-service:main-def456");
        cp.reconcile().await;
        // Back to A while promotions into staging are frozen.
        frozen_staging(&mut cp);
        cp.observed.clear();
        cp.xr["spec"]["artifact_id"] = a;
        let back = cp.poll(lost).await;
        assert_ne!(back.status()["gate_status"], "approved", "lost={lost}");
        assert!(back.composed("promotion-job").is_none(), "lost={lost}");
        let approved = back.condition("Approved").unwrap();
        assert_eq!(
            (approved.status.as_str(), approved.reason.as_str()),
            ("False", "Frozen"),
            "lost={lost}: {}",
            approved.message
        );
    }
}

#[tokio::test]
async fn switching_back_to_an_artifact_whose_promotion_ran_never_runs_it_again() {
    for lost in [false, true] {
        let mut cp = promoted().await;
        let a = cp.xr["spec"]["artifact_id"].clone();
        cp.xr["spec"]["artifact_id"] = json!("ghcr.io/org/my-service:main-def456");
        cp.reconcile().await;
        cp.observed.clear();
        cp.xr["spec"]["artifact_id"] = a;
        let back = cp.poll(lost).await;
        assert_eq!(back.status()["gate_status"], "approved", "lost={lost}");
        assert!(
            back.composed("promotion-job").is_none(),
            "lost={lost}: the promotion of this artifact ran already"
        );
    }
}

#[tokio::test]
async fn a_later_change_of_timeout_hours_does_not_move_the_deadline() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.xr["spec"]["timeout_hours"] = json!(1);
        cp.reconcile().await;
        // Two hours later (the server reads the wall clock): past the one-hour deadline.
        cp.fake.backdate(1, chrono::Duration::hours(2));
        if let Some(start) = cp.xr["status"]["created_timestamp"].as_str() {
            let moved =
                chrono::DateTime::parse_from_rfc3339(start).unwrap() - chrono::Duration::hours(2);
            cp.xr["status"]["created_timestamp"] = json!(moved.to_rfc3339());
        }
        cp.xr["status"]["timeout_at"] = Value::Null;
        // The requester extends the request, and an approver answers now.
        cp.xr["spec"]["timeout_hours"] = json!(168);
        cp.fake.comment_as(1, "alice", "/approve");
        let reply = cp.poll(lost).await;
        assert_eq!(reply.status()["gate_status"], "timeout", "lost={lost}");
        assert!(reply.composed("promotion-job").is_none());
    }
}

/// The id of the function's comment on issue `number` that holds `marker`.
fn own_comment(cp: &Crossplane, number: u64, marker: &str) -> u64 {
    cp.fake
        .comments(number)
        .into_iter()
        .find(|c| c.user == crate::fake_github::LOGIN && c.body.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} on #{number}"))
        .id
}

#[tokio::test]
async fn a_veto_by_close_survives_the_deletion_of_the_function_s_binding() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        // alice vetoes by closing as not planned; mallory deletes the binding before the
        // function looks.
        cp.fake.close_as(1, "alice", "not_planned");
        let binding = own_comment(&cp, 1, "release-gate:bind");
        cp.fake.delete_comment(binding);
        let reply = cp.poll(lost).await;
        assert_eq!(reply.status()["gate_status"], "rejected", "lost={lost}");
        assert!(cp.fake.issue(2).is_none(), "lost={lost}: no second request");
        assert!(reply.composed("promotion-job").is_none());
    }
}

#[tokio::test]
async fn an_issue_that_lost_its_binding_blocks_the_gate_instead_of_being_replaced() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        cp.fake.comment_as(1, "carol", "nice");
        let binding = own_comment(&cp, 1, "release-gate:bind");
        cp.fake.delete_comment(binding);
        let reply = cp.poll(lost).await;
        assert_eq!(reply.status()["gate_status"], "pending", "lost={lost}");
        let approved = reply.condition("Approved").unwrap();
        assert_eq!(
            (approved.status.as_str(), approved.reason.as_str()),
            ("False", "Tampered"),
            "lost={lost}: {}",
            approved.message
        );
        assert!(cp.fake.issue(2).is_none(), "lost={lost}: no second request");
        assert!(!warnings(&reply, "Tampered").is_empty(), "lost={lost}");
    }
}

#[tokio::test]
async fn deleting_the_superseded_comment_does_not_revive_an_old_request_s_answers() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.pipeline = Some(example_pipeline(Some(approvers(&["alice", "bob"], 2))));
        let a = cp.xr["spec"]["artifact_id"].clone();
        cp.reconcile().await;
        cp.fake.comment_as(1, "alice", "/approve");
        cp.reconcile().await;
        // B supersedes A's request; mallory deletes the function's "superseded" comment.
        cp.xr["spec"]["artifact_id"] = json!("ghcr.io/org/my-service:main-def456");
        cp.reconcile().await;
        assert_eq!(cp.fake.issue(1).unwrap().state, "closed");
        let superseded = own_comment(&cp, 1, "verdict=superseded");
        cp.fake.delete_comment(superseded);
        // Back to A, and bob approves on the old request.
        cp.xr["spec"]["artifact_id"] = a;
        cp.observed.clear();
        cp.fake.comment_as(1, "bob", "/approve");
        let back = cp.poll(lost).await;
        assert_ne!(back.status()["gate_status"], "approved", "lost={lost}");
        assert!(back.composed("promotion-job").is_none(), "lost={lost}");
    }
}

/// The example gate (requested by rita) with the team acme/release-managers, rita in it,
/// as approvers.
async fn team_gate() -> Crossplane {
    let mut cp = Crossplane::start().await;
    let mut who = approvers(&["alice"], 1);
    who.teams = vec!["acme/release-managers".into()];
    cp.pipeline = Some(example_pipeline(Some(who)));
    cp.fake
        .add_team_member("acme", "release-managers", "rita", "active");
    cp
}

#[tokio::test]
async fn a_requester_who_renames_their_account_still_cannot_approve_their_promotion() {
    for lost in [false, true] {
        let mut cp = team_gate().await;
        cp.reconcile().await;
        let binding = cp.fake.comments(1)[0].body.clone();
        assert!(binding.contains("requester=rita"), "{binding}");
        // rita renames her account; GitHub keeps its id, and the team follows it.
        cp.fake.rename_user("rita", "rita-x");
        cp.fake.comment_as(1, "rita-x", "/approve");
        cp.fake.close_as(1, "rita-x", "completed");
        let reply = cp.poll(lost).await;
        assert_eq!(reply.status()["gate_status"], "pending", "lost={lost}");
        assert!(reply.composed("promotion-job").is_none(), "lost={lost}");
        assert_eq!(cp.fake.issue(1).unwrap().state, "open", "lost={lost}");
        // Her withdrawal still counts under the new login.
        cp.fake.comment_as(1, "rita-x", "/reject");
        let withdrawn = cp.poll(lost).await;
        assert_eq!(withdrawn.status()["gate_status"], "rejected", "lost={lost}");
    }
}

#[tokio::test]
async fn a_requester_login_that_names_no_account_opens_no_request() {
    let mut cp = team_gate().await;
    // rita renamed her account before the gate was created with her old login.
    cp.fake.rename_user("rita", "rita-x");
    let reply = cp.reconcile().await;
    assert_eq!(reply.status()["gate_status"], "pending");
    let approved = reply.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("False", "MissingRequester"),
        "{}",
        approved.message
    );
    assert!(
        approved.message.contains("no GitHub account"),
        "{}",
        approved.message
    );
    assert!(cp.fake.issues().is_empty(), "no request is opened");
    // Named by the current login, the request opens.
    cp.xr["metadata"]["annotations"]["release.zerotouch.dev/requested-by"] = json!("rita-x");
    cp.reconcile().await;
    assert_eq!(cp.fake.issues().len(), 1);
}

#[tokio::test]
async fn a_request_edited_to_show_another_artifact_holds_the_gate_until_restored() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        let original = cp.fake.issue(1).unwrap();
        // mallory, a writer, makes the request show another artifact; alice approves
        // what she reads.
        let shown = |text: &str| text.replace("main-abc123", "v1.2.3");
        cp.fake.edit_issue_as(
            1,
            "mallory",
            &shown(&original.title),
            &shown(&original.body),
        );
        cp.fake.comment_as(1, "alice", "/approve");
        let held = cp.poll(lost).await;
        assert_eq!(held.status()["gate_status"], "pending", "lost={lost}");
        assert!(held.composed("promotion-job").is_none(), "lost={lost}");
        let approved = held.condition("Approved").unwrap();
        assert_eq!(approved.reason, "Tampered", "lost={lost}");
        assert!(!warnings(&held, "Tampered").is_empty(), "lost={lost}");
        let restored = cp.fake.issue(1).unwrap();
        assert_eq!(
            (&restored.title, &restored.body),
            (&original.title, &original.body),
            "lost={lost}"
        );
        // alice's approval of what she read counts no more, on any later call.
        let later = cp.poll(lost).await;
        assert_eq!(later.status()["gate_status"], "pending", "lost={lost}");
        assert_eq!(
            cp.fake
                .comments(1)
                .iter()
                .filter(|c| c.body.contains("release-gate:restored"))
                .count(),
            1,
            "lost={lost}: restored once"
        );
        // She answers again, having read the request as it is.
        cp.fake.comment_as(1, "alice", "/approve");
        let answered = cp.poll(lost).await;
        assert_eq!(answered.status()["gate_status"], "approved", "lost={lost}");
    }
}

#[tokio::test]
async fn a_request_edited_and_put_back_between_two_polls_is_still_seen() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        let original = cp.fake.issue(1).unwrap();
        // mallory shows another artifact, alice approves what she reads, and mallory puts
        // the request back before the function looks.
        let shown = |text: &str| text.replace("main-abc123", "v1.2.3");
        cp.fake.edit_issue_as(
            1,
            "mallory",
            &shown(&original.title),
            &shown(&original.body),
        );
        cp.fake.comment_as(1, "alice", "/approve");
        cp.fake
            .edit_issue_as(1, "mallory", &original.title, &original.body);
        let reply = cp.poll(lost).await;
        assert_eq!(reply.status()["gate_status"], "pending", "lost={lost}");
        assert!(reply.composed("promotion-job").is_none(), "lost={lost}");
        assert!(
            warnings(&reply, "Tampered")
                .iter()
                .any(|w| w.contains("was changed by mallory")),
            "lost={lost}: {:?}",
            reply.results(Severity::Warning)
        );
        // Nothing to restore; alice answers again, having read the request as it is.
        assert!(
            cp.fake
                .comments(1)
                .iter()
                .all(|c| !c.body.contains("release-gate:restored"))
        );
        cp.fake.comment_as(1, "alice", "/approve");
        let again = cp.poll(lost).await;
        assert_eq!(again.status()["gate_status"], "approved", "lost={lost}");
    }
}

/// A Job the tenant made in their own namespace, with the gate's key, that the gate is
/// pointed at (Crossplane observes any object an XR's `spec.crossplane.resourceRefs`
/// names).
fn forged_job(cp: &Crossplane) -> Value {
    let key = cp.xr["status"]["gate_key"].as_str().unwrap().to_owned();
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "innocent",
            "namespace": "platform-system",
            "annotations": {"release.zerotouch.dev/gate-key": key},
        },
        "spec": {"suspend": true, "template": {"spec": {"containers": [{"name": "promote",
            "image": "ghcr.io/acme/promoter:v1",
            "env": [{"name": "APPROVED_BY", "value": "alice"}]}]}}},
    })
}

#[tokio::test]
async fn a_job_someone_pointed_a_pending_gate_at_stays_theirs_and_runs_nothing_elsewhere() {
    let mut cp = gate().await;
    let opened = cp.reconcile().await;
    assert_eq!(opened.status()["gate_status"], "pending");
    let forged = forged_job(&cp);
    cp.observed.insert("promotion-job".into(), forged.clone());
    let reply = cp.reconcile().await;
    assert_eq!(reply.status()["gate_status"], "pending");
    let kept = reply.composed("promotion-job").expect("kept as observed");
    assert_eq!(
        kept["kind"], "Job",
        "not carried to the promotion namespace"
    );
    assert_eq!(kept["metadata"]["namespace"], "platform-system");
    assert_eq!(
        kept["spec"], forged["spec"],
        "their own Job, nothing the function added"
    );
}

#[tokio::test]
async fn a_running_job_stays_where_it_runs_when_the_promotion_namespace_changes() {
    let mut cp = gate().await;
    // The Input runs Jobs in the gate's namespace at first.
    let example = cp.input["promotion"].clone();
    let promotion = cp.input["promotion"].as_object_mut().unwrap();
    promotion.remove("namespace");
    promotion.remove("providerConfigRef");
    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    let approved = cp.reconcile().await;
    assert_eq!(approved.composed("promotion-job").unwrap()["kind"], "Job");
    cp.reconcile().await;
    // The platform moves promotions to their own namespace while the Job runs.
    cp.input["promotion"] = example;
    for _ in 0..2 {
        let reply = cp.reconcile().await;
        let job = reply.composed("promotion-job").expect("kept while it runs");
        assert_eq!(job["kind"], "Job", "not carried elsewhere: a second run");
        assert_eq!(job["metadata"]["namespace"], "platform-system");
        assert_eq!(
            job["spec"]["template"]["spec"]["serviceAccountName"],
            "my-service-release-pipeline"
        );
    }
}
