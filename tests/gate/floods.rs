//! The function's own writes stay bounded whatever writers in the approvals repository do,
//! through the real server and the fake GitHub:
//! - a writer who closes a request again and again is reopened each time, answered once;
//! - a text changed again and again is restored three times, then no longer (and no
//!   approval counts on it);
//! - one namespace's flood spends that namespace's write budget, not another's, whatever
//!   tenant its gates name.

use crate::e2e;

use e2e::{Crossplane, approvers, example_gate, example_pipeline};
use serde_json::{Value, json};

async fn gate() -> Crossplane {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(&["alice", "bob"], 1))));
    cp
}

fn function_comments(cp: &Crossplane, issue: u64, marker: &str) -> usize {
    cp.fake
        .comments(issue)
        .iter()
        .filter(|c| c.body.contains(marker))
        .count()
}

#[tokio::test]
async fn a_writer_who_closes_again_and_again_is_answered_once_and_reopened_three_times() {
    let mut cp = gate().await;
    cp.reconcile().await;
    for round in 1..=5 {
        cp.fake.close_as(1, "mallory", "completed");
        let reply = cp.reconcile().await;
        assert_eq!(reply.status()["gate_status"], "pending");
        let state = cp.fake.issue(1).unwrap().state;
        if round <= 3 {
            assert_eq!(state, "open", "round {round}: reopened");
        } else {
            assert_eq!(state, "closed", "round {round}: left closed");
            assert!(
                reply.messages().iter().any(|m| m.contains("left closed")),
                "{:?}",
                reply.messages()
            );
        }
    }
    assert_eq!(
        function_comments(&cp, 1, "did not count"),
        1,
        "{:#?}",
        cp.fake.comments(1)
    );
    // Answers on the closed issue still count.
    cp.fake.comment_as(1, "alice", "/approve");
    let approved = cp.reconcile().await;
    assert_eq!(approved.status()["gate_status"], "approved");
}

#[tokio::test]
async fn a_flood_of_closes_leaves_the_writes_that_carry_a_verdict() {
    let mut cp = gate().await;
    // Eight writes: a quarter (two) is kept from reopens and what is said with them.
    cp.input["github"]["writesPerNamespacePerHour"] = json!(8);
    cp.reconcile().await; // the issue and its binding: 2
    let mut refused = false;
    for closer in ["m1", "m2", "m3", "m4"] {
        cp.fake.close_as(1, closer, "completed");
        let reply = cp.reconcile().await;
        if reply.condition("ApprovalSynced").unwrap().reason == "WriteBudget" {
            refused = true;
            break;
        }
    }
    assert!(refused, "the closes spend what they may");
    cp.fake.comment_as(1, "alice", "/approve");
    let approved = cp.reconcile().await;
    assert_eq!(
        approved.condition("ApprovalSynced").unwrap().reason,
        "Synced"
    );
    assert_eq!(approved.status()["gate_status"], "approved");
    assert!(
        function_comments(&cp, 1, "verdict=approved") == 1,
        "{:#?}",
        cp.fake.comments(1)
    );
}

#[tokio::test]
async fn a_text_changed_again_and_again_is_restored_three_times_then_left() {
    let mut cp = gate().await;
    cp.reconcile().await;
    let restored = |cp: &Crossplane| function_comments(cp, 1, "release-gate:restored");
    for round in 1..=5 {
        let title = format!("Promote ghcr.io/evil/app:v{round} to staging");
        cp.fake
            .edit_issue_as(1, "mallory", &title, "Approve this instead.");
        cp.reconcile().await;
        assert_eq!(restored(&cp), round.min(3), "round {round}");
    }
    assert!(
        cp.fake.issue(1).unwrap().title.contains("evil"),
        "no longer restored"
    );
    // The text is not what the function wrote: no approval counts on it.
    cp.fake.comment_as(1, "alice", "/approve");
    let reply = cp.reconcile().await;
    assert_eq!(reply.status()["gate_status"], "pending");
    assert!(reply.composed("promotion-job").is_none());
    assert!(
        reply
            .messages()
            .iter()
            .any(|m| m.contains("no longer restored")),
        "{:?}",
        reply.messages()
    );
}

/// Another tenant's gate, in its own namespace, on the same approvals repository and the
/// same function.
fn other_tenant_gate() -> Value {
    let mut xr = example_gate();
    xr["metadata"]["namespace"] = json!("billing");
    xr["metadata"]["name"] = json!("billing-dev-to-staging");
    xr["metadata"]["uid"] = json!("7c1d2e3f-0000-4000-8000-00000000b111");
    xr["spec"]["tenant"] = json!("billing");
    xr["spec"]["artifact_id"] = json!("ghcr.io/org/billing:main-def456");
    xr
}

#[tokio::test]
async fn one_namespace_s_flood_spends_its_own_write_budget_whatever_tenant_it_names() {
    let mut cp = gate().await;
    // Six writes an hour for each tenant (and so a burst of six).
    cp.input["github"]["writesPerNamespacePerHour"] = json!(6);
    cp.reconcile().await; // open and bind: 2
    let mut refused = None;
    for _ in 0..6 {
        cp.fake.close_as(1, "mallory", "completed");
        let reply = cp.reconcile().await;
        if let Some(c) = reply.condition("ApprovalSynced")
            && c.reason == "WriteBudget"
        {
            refused = Some(reply);
            break;
        }
    }
    let refused = refused.expect("the flood reaches the tenant's budget");
    assert_eq!(
        refused.status()["gate_status"],
        "pending",
        "nothing decided"
    );
    assert!(
        refused
            .messages()
            .iter()
            .any(|m| m.contains("\"platform-system\"") && m.contains("6 an hour")),
        "{:?}",
        refused.messages()
    );
    assert!(refused.ttl().as_secs() >= 1 && refused.ttl().as_secs() <= 600);

    // A gate in the flooded namespace that names a tenant never seen gets no fresh budget:
    // the budget is the namespace's, whatever `spec.tenant` says.
    let mut renamed = other_tenant_gate();
    renamed["metadata"]["namespace"] = json!("platform-system");
    renamed["spec"]["tenant"] = json!("fresh-name");
    cp.xr = renamed;
    cp.observed.clear();
    let still = cp.reconcile().await;
    assert_eq!(
        still.condition("ApprovalSynced").unwrap().reason,
        "WriteBudget"
    );

    // The other tenant's gate, in its own namespace, opens its request.
    cp.xr = other_tenant_gate();
    cp.observed.clear();
    let other = cp.reconcile().await;
    assert_eq!(other.condition("ApprovalSynced").unwrap().reason, "Synced");
    assert_eq!(other.status()["issue"]["number"], json!(2.0));
}

#[tokio::test]
async fn an_issue_is_opened_only_with_the_write_that_binds_it() {
    let mut cp = gate().await;
    // Three writes: the first gate's issue and binding take two.
    cp.input["github"]["writesPerNamespacePerHour"] = json!(3);
    let first = cp.reconcile().await;
    assert_eq!(first.status()["issue"]["number"], json!(1.0));
    // A second gate of the same tenant: one write left, two needed.
    let mut second = example_gate();
    second["metadata"]["name"] = json!("my-service-hotfix-to-staging");
    second["metadata"]["uid"] = json!("7c1d2e3f-0000-4000-8000-00000000c222");
    second["spec"]["artifact_id"] = json!("ghcr.io/org/my-service:hotfix-1");
    cp.xr = second;
    cp.observed.clear();
    let refused = cp.reconcile().await;
    assert_eq!(
        refused.condition("ApprovalSynced").unwrap().reason,
        "WriteBudget"
    );
    assert_eq!(
        cp.fake.issues().len(),
        1,
        "no issue opened that could not be bound"
    );
}
