//! The XR's status is a cache, not an authority: someone whose role lets them write
//! `xpromotiongates/status` (Crossplane's generated edit roles do) cannot make a gate
//! promote, and a promotion that ran is never started again, whoever deletes its Job and
//! whatever happens to the status. Through the real server and the fake GitHub.

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
    let job = cp.observed.get_mut("promotion-job").expect("observed Job");
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
