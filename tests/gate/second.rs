//! Records that hold within the same second, through the real server and the fake GitHub.
//! GitHub's REST timestamps have one-second resolution: an edit that lands within the
//! second a comment was posted leaves `updated_at == created_at`. Someone with write
//! access whose script watches the comment feed can make such edits; GitHub still records
//! them (GraphQL `lastEditedAt`), and so does the fake. Comment deletions leave nothing in
//! the REST API; the issue's timeline records them. Each attack runs with the gate's
//! status kept and with it lost, and none may approve.

use crate::e2e;
use crate::fake_github;

use e2e::{Crossplane, Reply, approvers, example_pipeline};
use fake_github::LOGIN;
use serde_json::json;

const MALLORY: &str = "mallory";

/// The example gate with alice, bob and carol as approvers, one approval needed.
async fn gate() -> Crossplane {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(
        &["alice", "bob", "carol"],
        1,
    ))));
    cp
}

fn assert_not_approved(reply: &Reply, lost: bool) {
    let status = reply.status();
    assert_ne!(status["gate_status"], "approved", "lost={lost}: {status}");
    assert!(
        reply.composed("promotion-job").is_none(),
        "lost={lost}: no Job"
    );
}

fn own_comment(cp: &Crossplane, marker: &str) -> fake_github::FakeComment {
    cp.fake
        .comments(1)
        .into_iter()
        .rfind(|c| c.user == LOGIN && c.body.contains(marker))
        .unwrap_or_else(|| panic!("no {marker}"))
}

#[tokio::test]
async fn an_approver_s_comment_edited_into_approve_within_its_second_approves_nothing() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        let id = cp.fake.comment_as(1, "alice", "looking at it after lunch");
        cp.fake
            .edit_comment_within_its_second(id, MALLORY, "/approve");
        let comment = cp
            .fake
            .comments(1)
            .into_iter()
            .find(|c| c.id == id)
            .unwrap();
        assert_eq!(comment.created_at, comment.updated_at, "REST cannot tell");

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert_eq!(reply.status()["approvals"], json!([]), "lost={lost}");
        let approved = reply.condition("Approved").unwrap();
        assert!(
            approved.message.contains("was edited after it was posted"),
            "lost={lost}: {}",
            approved.message
        );
    }
}

#[tokio::test]
async fn a_verdict_rewritten_within_its_second_is_not_read_back() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        cp.fake.comment_as(1, "alice", "/reject");
        assert_eq!(cp.reconcile().await.status()["gate_status"], "rejected");
        let verdict = own_comment(&cp, "verdict=rejected");
        cp.fake.edit_comment_within_its_second(
            verdict.id,
            MALLORY,
            &verdict.body.replace("verdict=rejected", "verdict=approved"),
        );

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        assert_eq!(reply.status()["gate_status"], "rejected", "lost={lost}");
    }
}

#[tokio::test]
async fn a_binding_rewritten_within_its_second_moves_no_deadline() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        let binding = own_comment(&cp, "release-gate:bind");
        let deadline = binding
            .body
            .split_whitespace()
            .find_map(|f| f.strip_prefix("deadline="))
            .unwrap()
            .to_owned();
        cp.fake.edit_comment_within_its_second(
            binding.id,
            MALLORY,
            &binding.body.replace(
                &format!("deadline={deadline}"),
                "deadline=2099-01-01T00:00:00Z",
            ),
        );
        // A day and an hour later, past the deadline the gate started with, alice approves.
        cp.fake.backdate(1, chrono::Duration::hours(25));
        if let Some(start) = cp.xr["status"]["created_timestamp"].as_str() {
            let moved =
                chrono::DateTime::parse_from_rfc3339(start).unwrap() - chrono::Duration::hours(25);
            cp.xr["status"]["created_timestamp"] = json!(moved.to_rfc3339());
            let timeout = chrono::DateTime::parse_from_rfc3339(
                cp.xr["status"]["timeout_at"].as_str().unwrap(),
            )
            .unwrap()
                - chrono::Duration::hours(25);
            cp.xr["status"]["timeout_at"] = json!(timeout.to_rfc3339());
        }
        cp.fake.comment_as(1, "alice", "/approve");

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
    }
}

#[tokio::test]
async fn a_veto_deleted_before_it_was_read_holds_the_gate() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        let veto = cp.fake.comment_as(1, "alice", "/reject");
        // mallory deletes alice's veto before the next poll; bob approves.
        cp.fake.delete_comment(veto);
        cp.fake.comment_as(1, "bob", "/approve");

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        let approved = reply.condition("Approved").unwrap();
        assert!(
            approved
                .message
                .contains("a comment by alice on issue #1 was deleted"),
            "lost={lost}: {}",
            approved.message
        );
        // alice answers again: her answer decides.
        cp.fake.comment_as(1, "alice", "/approve");
        let again = cp.poll(lost).await;
        assert_eq!(again.status()["gate_status"], "approved", "lost={lost}");
    }
}

#[tokio::test]
async fn deleting_the_restoration_record_revives_no_approval() {
    for lost in [false, true] {
        let mut cp = gate().await;
        cp.reconcile().await;
        let original = cp.fake.issue(1).unwrap();
        let shown = |text: &str| text.replace("main-abc123", "v1.2.3");
        cp.fake
            .edit_issue_as(1, MALLORY, &shown(&original.title), &shown(&original.body));
        cp.fake.comment_as(1, "alice", "/approve");
        let held = cp.poll(lost).await;
        assert_eq!(held.status()["gate_status"], "pending", "lost={lost}");
        // mallory deletes the function's record of the restoration.
        let restored = own_comment(&cp, "release-gate:restored");
        cp.fake.delete_comment(restored.id);

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
    }
}

#[tokio::test]
async fn a_team_approver_s_veto_deleted_before_it_was_read_holds_the_gate() {
    for lost in [false, true] {
        let mut cp = Crossplane::start().await;
        let mut who = approvers(&["alice"], 1);
        who.teams = vec!["acme/release-managers".into()];
        cp.pipeline = Some(example_pipeline(Some(who)));
        cp.fake
            .add_team_member("acme", "release-managers", "carol", "active");
        cp.reconcile().await;
        let veto = cp.fake.comment_as(1, "carol", "/reject");
        cp.fake.delete_comment(veto);
        cp.fake.comment_as(1, "alice", "/approve");

        let reply = cp.poll(lost).await;

        assert_not_approved(&reply, lost);
        let approved = reply.condition("Approved").unwrap();
        assert!(
            approved
                .message
                .contains("a comment by carol on issue #1 was deleted"),
            "lost={lost}: {}",
            approved.message
        );
    }
}
