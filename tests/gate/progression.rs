//! An artifact goes dev → staging → production through gates, end to end: the real
//! server binary over gRPC reconciling the gates (as Crossplane does, against the fake
//! GitHub) and their pipeline, whose status follows each promotion and which the gates
//! read back as their required resource. A gate for an artifact that skipped staging
//! waits without opening an issue.

use crate::common;
use crate::e2e;

use common::wire::{RequestMeta, Resources, RunFunctionRequest, State};
use e2e::{Crossplane, approvers, example_pipeline};
use serde_json::{Value, json};

const V1: &str = "ghcr.io/org/my-service:v1";
const V2: &str = "ghcr.io/org/my-service:v2";

/// Points the harness at a new gate of the tenant: its name, uid, artifact and pair,
/// nothing observed yet.
fn new_gate(cp: &mut Crossplane, name: &str, uid: &str, artifact: &str, from: &str, to: &str) {
    let mut xr = e2e::example_gate();
    xr["metadata"]["name"] = json!(name);
    xr["metadata"]["uid"] = json!(uid);
    xr["spec"]["artifact_id"] = json!(artifact);
    xr["spec"]["source_environment"] = json!(from);
    xr["spec"]["target_environment"] = json!(to);
    cp.xr = xr;
    cp.observed.clear();
}

/// Approves the gate's issue and lets its promotion Job succeed, reconciling after each.
async fn approve_and_promote(cp: &mut Crossplane, issue: u64, completed_at: &str) -> Value {
    cp.fake.comment_as(issue, "alice", "/approve");
    let approved = cp.reconcile().await;
    assert_eq!(approved.status()["gate_status"], "approved");
    assert_eq!(approved.status()["promotion"]["state"], "running");
    let job = cp.job_mut().expect("the promotion Job");
    job["status"] = json!({"succeeded": 1, "completionTime": completed_at});
    let promoted = cp.reconcile().await;
    assert_eq!(promoted.status()["promotion"]["state"], "succeeded");
    assert_eq!(promoted.status()["promotion"]["completed_at"], completed_at);
    cp.xr.clone()
}

/// One pipeline call with the tenant's gates answered; the pipeline's status becomes what
/// it desired (the gates read it from there).
async fn reconcile_pipeline(cp: &mut Crossplane, gates: &[Value]) -> Value {
    let pipeline = cp.pipeline.clone().expect("the pipeline");
    let mut req = RunFunctionRequest {
        meta: Some(RequestMeta {
            tag: "pipeline".into(),
            ..Default::default()
        }),
        observed: Some(State {
            composite: Some(common::resource(&pipeline)),
            ..Default::default()
        }),
        desired: Some(State::default()),
        input: Some(common::to_struct(
            &json!({"apiVersion": "release.fn.zerotouch.dev/v1beta1", "kind": "Input"}),
        )),
        ..Default::default()
    };
    req.required_resources.insert(
        "promotion-gates".into(),
        Resources {
            items: gates.iter().map(common::resource).collect(),
        },
    );
    let reply = cp.call(req).await;
    assert!(reply.fatal().is_empty(), "{:?}", reply.rsp.results);
    let status = reply.status();
    cp.pipeline.as_mut().unwrap()["status"] = status.clone();
    status
}

#[tokio::test]
async fn an_artifact_goes_dev_to_staging_to_production_and_one_that_skipped_staging_waits() {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(&["alice"], 1))));
    let before = reconcile_pipeline(&mut cp, &[]).await;
    assert_eq!(before["current_environment"], "dev");
    assert_eq!(before["environments"], json!([]));

    // dev → staging: v1 is approved and its Job succeeds.
    new_gate(&mut cp, "v1-to-staging", "uid-1", V1, "dev", "staging");
    let opened = cp.reconcile().await;
    assert_eq!(opened.status()["issue"]["number"], 1.0);
    let to_staging = approve_and_promote(&mut cp, 1, "2026-03-01T07:00:00Z").await;
    let status = reconcile_pipeline(&mut cp, std::slice::from_ref(&to_staging)).await;
    assert_eq!(status["current_environment"], "staging");
    assert_eq!(status["artifact_id"], V1);
    assert_eq!(
        status["environments"],
        json!([{"name": "staging", "artifact_id": V1, "promoted_at": "2026-03-01T07:00:00Z",
                "approved_by": "alice", "gate": "v1-to-staging"}])
    );

    // staging → production for v2, which never reached staging: it waits, asking nobody.
    new_gate(
        &mut cp,
        "v2-to-production",
        "uid-2",
        V2,
        "staging",
        "production",
    );
    let issues_before = cp.fake.issue(2).is_none();
    let waiting = cp.reconcile().await;
    assert!(
        issues_before && cp.fake.issue(2).is_none(),
        "no issue opened"
    );
    assert_eq!(waiting.status()["gate_status"], "pending");
    let approved = waiting.condition("Approved").unwrap();
    assert_eq!(
        (approved.status.as_str(), approved.reason.as_str()),
        ("False", "WaitingForSource")
    );
    assert!(
        approved.message.contains(&format!("staging holds {V1}")),
        "{}",
        approved.message
    );
    let skipped = cp.xr.clone();

    // staging → production for v1, which is in staging: it proceeds.
    new_gate(
        &mut cp,
        "v1-to-production",
        "uid-3",
        V1,
        "staging",
        "production",
    );
    let opened = cp.reconcile().await;
    assert_eq!(opened.status()["issue"]["number"], 2.0);
    let to_production = approve_and_promote(&mut cp, 2, "2026-03-01T08:00:00Z").await;

    // The pipeline follows: v1 is in production; the waiting gate keeps it following.
    let gates = [to_staging, skipped, to_production];
    let status = reconcile_pipeline(&mut cp, &gates).await;
    assert_eq!(status["current_environment"], "production");
    assert_eq!(status["artifact_id"], V1);
    let held: Vec<(&str, &str)> = status["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["gate"].as_str().unwrap()))
        .collect();
    assert_eq!(
        held,
        vec![
            ("staging", "v1-to-staging"),
            ("production", "v1-to-production")
        ]
    );
}
