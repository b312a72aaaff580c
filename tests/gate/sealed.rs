//! An approval is bound to the policy it was given under, through the real server and
//! the fake GitHub: the approvals repository, the Composition, and the Input's approvers
//! and promotion. A request asked under another one carries nothing that is still to run:
//! - approved under a Composition that runs no Job, then switched to one that does: no
//!   Job, the gate asks again;
//! - a pending request whose Input changed is closed and asked again; approvals given there
//!   no longer count, a rejection given there still does;
//! - what needs nothing more stands: a rejection, and a promotion that ran.

use crate::e2e;

use e2e::{Crossplane, approvers, example_pipeline};
use serde_json::{Value, json};

const EXAMPLE: &str = "xpromotiongates.platform.zerotouch.dev";

/// The example gate with alice and bob as approvers, `min` approvals needed, composed by
/// the Composition `composition`.
async fn gate(min: u32, composition: &str) -> Crossplane {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(&["alice", "bob"], min))));
    compose_with(&mut cp, composition);
    cp
}

fn compose_with(cp: &mut Crossplane, composition: &str) {
    cp.xr["spec"]["crossplane"] = json!({"compositionRef": {"name": composition}});
}

fn without_promotion(input: &Value) -> Value {
    let mut weaker = input.clone();
    weaker.as_object_mut().unwrap().remove("promotion");
    weaker
}

fn bodies(cp: &Crossplane, issue: u64) -> Vec<String> {
    cp.fake
        .comments(issue)
        .into_iter()
        .map(|c| c.body)
        .collect()
}

#[tokio::test]
async fn an_approval_given_where_no_job_runs_does_not_run_one_after_a_switch_of_composition() {
    for lost in [false, true] {
        let mut cp = gate(1, "gates-without-promotion").await;
        let example_input = cp.input.clone();
        cp.input = without_promotion(&example_input);
        cp.reconcile().await;
        cp.fake.comment_as(1, "alice", "/approve");
        let approved = cp.reconcile().await;
        assert_eq!(approved.status()["gate_status"], "approved");
        assert!(approved.composed("promotion-job").is_none(), "no Job there");

        // The XR moves to the example Composition, whose Input runs a promotion Job.
        compose_with(&mut cp, EXAMPLE);
        cp.input = example_input;
        let switched = cp.poll(lost).await;

        assert!(
            switched.composed("promotion-job").is_none(),
            "lost={lost}: the approval does not carry across"
        );
        assert_eq!(switched.status()["gate_status"], "pending", "lost={lost}");
        let asked = cp.fake.issue(2).expect("asked again in a new issue");
        assert_eq!(asked.state, "open", "lost={lost}");
        assert_eq!(
            switched.status()["issue"]["number"],
            json!(2.0),
            "lost={lost}"
        );
        // The approval counts again once given under this policy.
        cp.fake.comment_as(2, "alice", "/approve");
        let again = cp.reconcile().await;
        assert_eq!(again.status()["gate_status"], "approved", "lost={lost}");
        assert!(again.composed("promotion-job").is_some(), "lost={lost}");
    }
}

#[tokio::test]
async fn a_pending_request_whose_input_changed_is_asked_again_and_its_veto_still_counts() {
    let mut cp = gate(2, EXAMPLE).await;
    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    let half = cp.reconcile().await;
    assert_eq!(half.status()["gate_status"], "pending");

    // The platform changes the promotion image in the Composition's Input.
    cp.input["promotion"]["image"] = json!("ghcr.io/acme/promoter:v2");
    let asked = cp.reconcile().await;
    let old = cp.fake.issue(1).unwrap();
    assert_eq!(old.state, "closed", "the old request is closed");
    let retirement = bodies(&cp, 1).pop().unwrap();
    assert!(retirement.starts_with("Asked again in #2"), "{retirement}");
    assert_eq!(asked.status()["issue"]["number"], json!(2.0));
    let approved = asked.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("Unknown", "PolicyChanged")
    );
    let warnings = asked.results(crate::common::wire::Severity::Warning);
    assert!(
        warnings
            .iter()
            .any(|(reason, m)| reason == "PolicyChanged" && m.contains("asks again in issue #2")),
        "{warnings:?}"
    );
    assert_eq!(
        asked.status()["approvals"],
        json!([]),
        "alice's approval was given for another promotion image"
    );
    // bob approves the new request, alice has not yet: still one short.
    cp.fake.comment_as(2, "bob", "/approve");
    let one = cp.reconcile().await;
    assert_eq!(one.status()["gate_status"], "pending");
    assert!(one.composed("promotion-job").is_none());

    // A rejection on the old request, posted before the function closed it, or after,
    // still counts: vetoes are read on every issue of the key.
    cp.fake.comment_as(1, "bob", "/reject");
    let rejected = cp.reconcile().await;
    assert_eq!(rejected.status()["gate_status"], "rejected");
    assert!(rejected.composed("promotion-job").is_none());
}

#[tokio::test]
async fn what_needs_nothing_more_stands_when_the_input_changes() {
    // A rejection.
    let mut cp = gate(1, EXAMPLE).await;
    cp.reconcile().await;
    cp.fake.comment_as(1, "bob", "/reject");
    assert_eq!(cp.reconcile().await.status()["gate_status"], "rejected");
    cp.input["approvals"]["users"] = json!(["mallory"]);
    for lost in [false, true] {
        let after = cp.poll(lost).await;
        assert_eq!(after.status()["gate_status"], "rejected", "lost={lost}");
        assert!(
            cp.fake.issue(2).is_none(),
            "lost={lost}: nothing asked again"
        );
    }

    // A promotion that ran.
    let mut cp = gate(1, EXAMPLE).await;
    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    assert!(cp.reconcile().await.composed("promotion-job").is_some());
    let started = cp.reconcile().await;
    assert!(started.status()["promotion"]["started_at"].is_string());
    cp.job_mut().unwrap()["status"] =
        json!({"succeeded": 1, "completionTime": "2026-03-01T07:00:00Z"});
    cp.reconcile().await;
    cp.input["approvals"]["users"] = json!(["mallory"]);
    for lost in [false, true] {
        let after = cp.poll(lost).await;
        assert_eq!(after.status()["gate_status"], "approved", "lost={lost}");
        assert!(
            cp.fake.issue(2).is_none(),
            "lost={lost}: nothing asked again"
        );
    }
}

#[tokio::test]
async fn asking_again_keeps_the_deadline_the_first_request_sealed() {
    let mut cp = gate(2, EXAMPLE).await;
    let opened = cp.reconcile().await;
    let deadline = opened.status()["timeout_at"].as_str().unwrap().to_owned();
    // The Input changes, the timeout is raised, and the status is lost.
    cp.input["approvals"]["users"] = json!(["alice", "bob", "carol"]);
    cp.xr["spec"]["timeout_hours"] = json!(72);
    let asked = cp.poll(true).await;
    assert_eq!(asked.status()["issue"]["number"], json!(2.0));
    let approved = asked.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("Unknown", "PolicyChanged")
    );
    assert_eq!(asked.status()["timeout_at"], deadline.as_str());
    let binding = bodies(&cp, 2)
        .into_iter()
        .find(|b| b.contains("release-gate:bind"))
        .unwrap();
    assert!(
        binding.contains(&format!("deadline={deadline}")),
        "{binding}"
    );
}

#[tokio::test]
async fn a_job_created_before_the_input_changed_is_not_deleted_while_it_runs() {
    let mut cp = gate(1, EXAMPLE).await;
    cp.reconcile().await;
    cp.fake.comment_as(1, "alice", "/approve");
    let approved = cp.reconcile().await;
    assert!(
        approved.composed("promotion-job").is_some(),
        "Crossplane creates it"
    );
    // The platform edits the Input before the function has seen the Job run.
    cp.input["promotion"]["image"] = json!("ghcr.io/acme/promoter:v2");
    let after = cp.reconcile().await;
    let job = after
        .job()
        .expect("the running Job is kept, not deleted half done");
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["image"], "ghcr.io/acme/promoter:v1",
        "as it was created"
    );
}
