//! A replica restarted on a long history: more of the function's issues than one call
//! lists. The listing goes on across calls and never starts again, so the gates sync
//! again; meanwhile a gate reads its recorded issue by number and shows its answers, but
//! approves nothing new and opens no issue (a request of its key may be on a page not
//! listed yet).

use crate::e2e;
use crate::fake_github;

use e2e::{Crossplane, approvers, example_pipeline};
use fake_github::{LOGIN, Route};

/// Earlier requests of other gates: 22 pages of 100, more than one call lists.
const HISTORY: usize = 2_150;

/// The function's requests of a month ago, for other gates, long decided.
fn history(cp: &Crossplane) {
    for i in 0..HISTORY {
        let number = cp.fake.open_issue_as(
            LOGIN,
            &format!("Promote an earlier artifact ({i})"),
            "An earlier request.",
            &["release-gate"],
        );
        cp.fake.backdate(number, chrono::TimeDelta::days(30));
    }
}

#[tokio::test]
async fn a_restart_on_a_long_history_lists_across_calls_and_the_gate_goes_on() {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(&["alice", "bob"], 1))));
    history(&cp);
    // A new gate while the first listing goes on: no issue yet, none opened twice.
    let mut calls = 0;
    let opened = loop {
        let reply = cp.reconcile().await;
        assert_eq!(reply.status()["gate_status"], "pending");
        calls += 1;
        if cp.fake.count(Route::CreateIssue) == 1 {
            break reply;
        }
        assert!(
            reply.messages().iter().any(|m| m.contains("still listing")),
            "{:?}",
            reply.messages()
        );
        assert!(calls < 5, "the listing never ends");
    };
    assert!(calls >= 2, "one call lists at most 2,000 issues");
    let number = opened.status()["issue"]["number"].as_f64().unwrap() as u64;
    assert_eq!(number, HISTORY as u64 + 1);

    // Restarted: the view is gone. Alice approves.
    cp.restart().await;
    cp.fake.comment_as(number, "alice", "/approve");
    let held = cp.reconcile().await;
    assert_eq!(held.status()["gate_status"], "pending");
    assert_eq!(held.status()["issue"]["number"], number as f64);
    assert_eq!(held.condition("ApprovalSynced").unwrap().status, "True");
    assert!(
        held.messages().iter().any(|m| m.contains("still listing")),
        "{:?}",
        held.messages()
    );
    let approved = cp.reconcile().await;
    assert_eq!(approved.status()["gate_status"], "approved");
    assert_eq!(approved.status()["approver"], "alice");
    assert_eq!(cp.fake.count(Route::CreateIssue), 1);
}

#[tokio::test]
async fn a_veto_on_the_recorded_issue_rejects_while_the_listing_goes_on() {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(&["alice", "bob"], 1))));
    let first = cp.reconcile().await;
    let number = first.status()["issue"]["number"].as_f64().unwrap() as u64;
    // Older than the request: it is on the listing's last page.
    history(&cp);
    cp.restart().await;
    cp.fake.comment_as(number, "bob", "/reject");
    let rejected = cp.reconcile().await;
    assert_eq!(rejected.status()["gate_status"], "rejected");
}

/// On a slow GitHub, listing the history takes longer than a call may: each call lists
/// as far as its deadline lets it and the next goes on from there, so the gate gets its
/// issue after a few calls (a listing begun again by every call would never end).
#[tokio::test]
async fn a_listing_longer_than_a_call_ends_across_calls() {
    let mut cp = Crossplane::start().await;
    cp.pipeline = Some(example_pipeline(Some(approvers(&["alice", "bob"], 1))));
    history(&cp);
    // 22 pages of 200 ms: 4.4 s, and each call has 3 s (2 s for GitHub).
    cp.grpc_timeout = Some(std::time::Duration::from_secs(3));
    cp.fake.inject(
        Some(Route::ListIssues),
        fake_github::Fault::Delay(std::time::Duration::from_millis(200)),
        None,
    );
    let mut calls = 0;
    while cp.fake.count(Route::CreateIssue) == 0 {
        calls += 1;
        assert!(calls <= 8, "the listing never ends");
        let reply = cp.reconcile().await;
        assert_eq!(reply.status()["gate_status"], "pending");
    }
    assert!(
        calls >= 3,
        "{calls} calls for 4.4 s of listing at 2 s a call"
    );
    // Each call asks again only for the page it was cancelled waiting for.
    assert!(
        cp.fake.count(Route::ListIssues) < 40,
        "pages are not listed again"
    );
}
