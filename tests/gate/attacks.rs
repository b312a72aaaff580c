//! The gate against someone with write or triage access to the approvals repository who
//! is not an approver (mallory), through the real server binary over gRPC and the fake
//! GitHub HTTP server. GitHub lets such a person edit anyone's comment and any issue body
//! (the REST API keeps naming the original author) and close and reopen issues.
//!
//! Each attack is tried twice: once with the gate's status recorded as Crossplane writes
//! it, and once with the status write lost (the XR carries no status at all, so the
//! gate must re-derive everything from GitHub). Neither may approve or render a Job.

use crate::common;
use crate::e2e;
use crate::fake_github;

use common::wire::Severity;
use e2e::{Crossplane, Reply, approvers, example_pipeline};
use fake_github::LOGIN;
use serde_json::{Value, json};

const MALLORY: &str = "mallory";

/// The example gate with alice, bob and carol as approvers and a quorum of `quorum`.
async fn gate(quorum: u32) -> Crossplane {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(
        &["alice", "bob", "carol"],
        quorum,
    ))));
    cp
}

/// Neither approved nor promoting.
fn assert_not_approved(reply: &Reply, lost: bool) {
    let status = reply.status();
    assert_ne!(status["gate_status"], "approved", "lost={lost}: {status}");
    assert!(
        reply.composed("promotion-job").is_none(),
        "lost={lost}: no Job"
    );
    let approved = reply.condition("Approved").unwrap();
    assert_ne!(approved.status, "True", "lost={lost}: {}", approved.message);
}

fn warnings(reply: &Reply) -> Vec<String> {
    reply
        .results(Severity::Warning)
        .into_iter()
        .map(|(reason, message)| format!("{reason}: {message}"))
        .collect()
}

#[tokio::test]
async fn an_approver_s_comment_edited_into_an_approval_approves_nothing() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        cp.reconcile().await;
        let id = cp.fake.comment_as(1, "alice", "Looking at it after lunch.");
        cp.fake.edit_comment(id, "/approve");

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert_eq!(reply.status()["gate_status"], "pending");
        let approved = reply.condition("Approved").unwrap();
        assert_eq!(approved.reason, "Pending");
        assert!(
            approved.message.contains(&format!("comment {id} by alice")),
            "lost={lost}: the condition names the comment: {}",
            approved.message
        );
        let warned = warnings(&reply);
        assert!(
            warned
                .iter()
                .any(|w| w.starts_with("Tampered:") && w.contains(&format!("comment {id}"))),
            "lost={lost}: {warned:?}"
        );
        // alice answers herself, in a new comment: that counts.
        cp.fake.comment_as(1, "alice", "/approve");
        let answered = cp.reconcile().await;
        assert_eq!(answered.status()["gate_status"], "approved", "lost={lost}");
    }
}

#[tokio::test]
async fn a_rejection_edited_away_before_it_was_read_still_holds_the_gate() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        cp.reconcile().await;
        let veto = cp.fake.comment_as(1, "alice", "/reject");
        cp.fake.edit_comment(veto, "never mind");
        cp.fake.comment_as(1, "bob", "/approve");

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert!(
            reply
                .condition("Approved")
                .unwrap()
                .message
                .contains("approval is held"),
            "lost={lost}"
        );
    }
}

#[tokio::test]
async fn a_verdict_forged_into_the_function_s_own_comment_is_not_read() {
    for lost in [false, true] {
        let mut cp = gate(2).await;
        let opened = cp.reconcile().await;
        let key = opened.status()["gate_key"].as_str().unwrap().to_owned();
        // mallory closes the issue; the function reopens it and explains in a comment.
        cp.fake.close_as(1, MALLORY, "completed");
        cp.reconcile().await;
        let own = cp
            .fake
            .comments(1)
            .into_iter()
            .rfind(|c| c.user == LOGIN && c.body.contains("did not count"))
            .expect("the function's comment");
        // mallory edits that comment into an approval verdict with forged approvers.
        cp.fake.edit_comment(
            own.id,
            &format!(
                "{}\n<!-- release-gate:verdict=approved key={key} approvals=alice@2026-03-01T07:00:00Z/comment,bob@2026-03-01T07:00:00Z/comment -->\n<!-- release-gate:counted key={key} approval=carol@2026-03-01T07:00:00Z/close -->",
                own.body
            ),
        );

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert_eq!(reply.status()["approvals"], json!([]), "lost={lost}");
        assert!(
            warnings(&reply)
                .iter()
                .any(|w| w.contains(&format!("comment {} on issue #1 was edited", own.id))),
            "lost={lost}: {:?}",
            warnings(&reply)
        );
    }
}

#[tokio::test]
async fn a_rejection_stays_a_rejection_when_its_verdict_comment_is_edited() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        cp.reconcile().await;
        cp.fake.comment_as(1, "alice", "/reject");
        let rejected = cp.reconcile().await;
        assert_eq!(rejected.status()["gate_status"], "rejected");
        let verdict = cp
            .fake
            .comments(1)
            .into_iter()
            .rfind(|c| c.user == LOGIN && c.body.contains("verdict=rejected"))
            .unwrap();
        cp.fake
            .edit_comment(verdict.id, &verdict.body.replace("rejected", "approved"));

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert_eq!(reply.status()["gate_status"], "rejected", "lost={lost}");
    }
}

#[tokio::test]
async fn an_old_approved_issue_re_keyed_and_reopened_does_not_approve_a_new_artifact() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        cp.reconcile().await;
        cp.fake.comment_as(1, "alice", "/approve");
        let approved = cp.reconcile().await;
        assert_eq!(approved.status()["gate_status"], "approved");

        // A new artifact: a new key and issue #2.
        cp.xr["spec"]["artifact_id"] = json!("ghcr.io/org/my-service:main-def456");
        let renewed = cp.reconcile().await;
        let new_key = renewed.status()["gate_key"].as_str().unwrap().to_owned();
        assert_eq!(renewed.status()["issue"]["number"], 2.0);

        // mallory rewrites the old, approved issue's marker to the new key and reopens it,
        // and re-keys the live issue away so the gate lists again.
        let old = cp.fake.issue(1).unwrap();
        let marker_end = old.body.find("-->").unwrap();
        cp.fake.edit_issue_body(
            1,
            &format!(
                "<!-- release-gate:key={new_key} xr=platform-system/my-service-dev-to-staging -->{}",
                &old.body[marker_end + 3..]
            ),
        );
        cp.fake.reopen_as(1, MALLORY);
        let live = cp.fake.issue(2).unwrap();
        cp.fake
            .edit_issue_body(2, &live.body.replace(&new_key, "0000"));

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert_eq!(reply.status()["issue"]["number"], 2.0, "lost={lost}");
        assert_eq!(cp.fake.issue(2).unwrap().state, "open", "lost={lost}");
        assert_eq!(cp.fake.issues().len(), 2, "lost={lost}: no new issue");
    }
}

#[tokio::test]
async fn reopening_an_issue_an_approver_closed_as_not_planned_keeps_the_veto() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        cp.reconcile().await;
        cp.fake.close_as(1, "alice", "not_planned");
        cp.fake.reopen_as(1, MALLORY);
        cp.fake.comment_as(1, "bob", "/approve");

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        let status = reply.status();
        assert_eq!(status["gate_status"], "rejected", "lost={lost}: {status}");
        assert!(
            reply
                .condition("Approved")
                .unwrap()
                .message
                .contains("rejected by alice"),
            "lost={lost}"
        );
        assert_eq!(cp.fake.issue(1).unwrap().state, "closed");
    }
}

#[tokio::test]
async fn a_recreated_xr_asks_again_and_leaves_the_old_issue_alone() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        cp.reconcile().await;
        cp.fake.comment_as(1, "alice", "/approve");
        let approved = cp.reconcile().await;
        assert_eq!(approved.status()["gate_status"], "approved");
        let old_key = approved.status()["gate_key"].clone();

        // Deleted and created again with the same name and spec: a new uid, no status.
        cp.xr["metadata"]["uid"] = json!("1c0ffee0-0000-4000-8000-00000000beef");
        cp.xr["status"] = Value::Null;
        cp.observed.clear();

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        let status = reply.status();
        assert_eq!(status["gate_status"], "pending", "lost={lost}");
        assert_ne!(status["gate_key"], old_key);
        assert_eq!(status["issue"]["number"], 2.0, "a new request");
        let old = cp.fake.issue(1).unwrap();
        assert_eq!(
            (old.state.as_str(), old.state_reason.as_deref()),
            ("closed", Some("completed")),
            "the old gate's issue is untouched"
        );
    }
}

#[tokio::test]
async fn switching_back_to_a_superseded_artifact_asks_again_and_an_approved_one_is_reused() {
    for lost in [false, true] {
        let mut cp = gate(2).await;
        let a = json!("ghcr.io/org/my-service:main-abc123");
        let b = json!("ghcr.io/org/my-service:main-def456");
        cp.reconcile().await;
        // One approval of two on A's request (#1), then B supersedes it.
        cp.fake.comment_as(1, "alice", "/approve");
        cp.reconcile().await;
        cp.xr["spec"]["artifact_id"] = b.clone();
        cp.reconcile().await;
        assert_eq!(cp.fake.issue(1).unwrap().state, "closed");

        // Back to A: a new request, and alice's answer on the superseded one is gone.
        cp.xr["spec"]["artifact_id"] = a.clone();
        let back = cp.poll(lost).await;
        assert_not_approved(&back, lost);
        assert_eq!(back.status()["issue"]["number"], 3.0, "lost={lost}");
        assert_eq!(back.status()["approvals"], json!([]), "lost={lost}");
        cp.fake.comment_as(1, "bob", "/approve");
        let still = cp.poll(lost).await;
        assert_not_approved(&still, lost);
        if lost {
            continue;
        }
        // Approved on #3, then B, then A again: a rollback to an approved artifact
        // reuses its approval.
        cp.fake.comment_as(3, "alice", "/approve");
        cp.fake.comment_as(3, "bob", "/approve");
        assert_eq!(cp.reconcile().await.status()["gate_status"], "approved");
        cp.xr["spec"]["artifact_id"] = b.clone();
        cp.reconcile().await;
        cp.xr["spec"]["artifact_id"] = a.clone();
        let rollback = cp.reconcile().await;
        assert_eq!(rollback.status()["gate_status"], "approved");
        assert!(rollback.composed("promotion-job").is_some());
    }
}

#[tokio::test]
async fn a_deleted_binding_comment_stops_the_gate_instead_of_following_another_issue() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        cp.reconcile().await;
        cp.fake.comment_as(1, "bob", "/approve");
        let binding = cp
            .fake
            .comments(1)
            .into_iter()
            .find(|c| c.body.contains("release-gate:bind "))
            .unwrap();
        cp.fake.delete_comment(binding.id);

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert_eq!(cp.fake.issues().len(), 1, "lost={lost}: no other issue");
        assert!(
            warnings(&reply)
                .iter()
                .any(|w| w.contains("lost the function's binding comment")),
            "lost={lost}: {:?}",
            warnings(&reply)
        );
    }
}

#[tokio::test]
async fn an_approver_s_close_on_another_issue_pointed_at_the_gate_does_not_count() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        let opened = cp.reconcile().await;
        let key = opened.status()["gate_key"].as_str().unwrap().to_owned();
        // An issue of the function for another gate, which alice approved by closing it;
        // mallory strips its comments, points its description at this gate, reopens it.
        let other = cp.fake.open_issue_as(
            LOGIN,
            "Promote something else",
            &format!("<!-- release-gate:key={key} xr=platform-system/other -->"),
            &["release-gate"],
        );
        cp.fake.close_as(other, "alice", "completed");
        cp.fake.reopen_as(other, MALLORY);

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert_eq!(reply.status()["issue"]["number"], 1.0, "lost={lost}");
        assert_eq!(reply.status()["approvals"], json!([]), "lost={lost}");
    }
}

/// A tenant who may edit their gate renames its requester to an approver after the
/// request sealed rita: the change is ignored (said in a Warning), alice's approval counts,
/// and rita's own still does not.
#[tokio::test]
async fn a_requester_changed_after_the_request_cannot_exclude_an_approver() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        cp.reconcile().await;
        cp.xr["metadata"]["annotations"]["release.zerotouch.dev/requested-by"] = json!("alice");
        cp.fake.comment_as(1, "rita", "/approve");
        let ignored = cp.poll(lost).await;
        assert_not_approved(&ignored, lost);
        let warnings = ignored.results(Severity::Warning);
        assert!(
            warnings
                .iter()
                .any(|(reason, m)| reason == "RequesterChanged"
                    && m.contains("now names alice")
                    && m.contains("rita stays the requester")),
            "lost={lost}: {warnings:?}"
        );
        assert_eq!(
            ignored.status()["requester"]["login"],
            "rita",
            "lost={lost}"
        );
        cp.fake.comment_as(1, "alice", "/approve");
        let approved = cp.poll(lost).await;
        assert_eq!(approved.status()["gate_status"], "approved", "lost={lost}");
        assert_eq!(approved.status()["approver"], "alice", "lost={lost}");
    }
}

/// The annotation removed after the request sealed rita: ignored too, rita still cannot
/// approve her own promotion.
#[tokio::test]
async fn a_requester_removed_after_the_request_still_cannot_approve() {
    for lost in [false, true] {
        let mut cp = gate(1).await;
        // rita is a listed approver too: only being the requester keeps her from approving.
        cp.pipeline = Some(example_pipeline(Some(approvers(
            &["alice", "bob", "carol", "rita"],
            1,
        ))));
        cp.reconcile().await;
        cp.xr["metadata"]["annotations"]
            .as_object_mut()
            .unwrap()
            .remove("release.zerotouch.dev/requested-by");
        cp.fake.comment_as(1, "rita", "/approve");
        let reply = cp.poll(lost).await;
        assert_not_approved(&reply, lost);
        let warnings = reply.results(Severity::Warning);
        assert!(
            warnings
                .iter()
                .any(|(reason, m)| reason == "RequesterChanged"
                    && m.contains("no longer names anyone")),
            "lost={lost}: {warnings:?}"
        );
        assert_eq!(reply.status()["requester"]["login"], "rita", "lost={lost}");
    }
}
