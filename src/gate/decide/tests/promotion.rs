//! The status is a cache: an approval recorded there counts only as GitHub backs it, and
//! a promotion runs once per key: its Job is rendered while it is needed, and never
//! again once it started and is gone, whatever the status says.

use super::*;
use crate::gate::marker;
use crate::gate::model::Promotion;

fn approved_status() -> GateStatus {
    GateStatus {
        gate_status: Some(GateState::Approved),
        gate_key: Some(KEY.into()),
        created_timestamp: Some(at(0, 0)),
        approval_timestamp: Some(at(1, 0)),
        ..GateStatus::default()
    }
}

/// The function's summary comment approving by alice at 01:00.
fn verdict() -> Comment {
    let alice = crate::xr::gate::Approval {
        login: "alice".into(),
        at: at(1, 0),
        via: Via::Comment,
        rules: Vec::new(),
    };
    let body = issue::verdict_comment(KEY, GateState::Approved, &[alice], None, day2(0), 1, None);
    comment(9, BOT, &body, at(1, 0))
}

/// The issue as the function left it when it approved: closed as completed.
fn concluded() -> Option<Issue> {
    Some(closed(issue(1, KEY), BOT, CloseReason::Completed, at(1, 0)))
}

fn started() -> Comment {
    comment(
        10,
        BOT,
        &issue::started_comment(KEY, "my-service-promote-0123456789ab", at(1, 30)),
        at(1, 30),
    )
}

#[test]
fn a_status_github_does_not_back_is_said_and_runs_nothing() {
    let d = run(&Row {
        recorded: approved_status(),
        job: JobSeen::Absent,
        ..row("forged")
    });
    assert_eq!(d.state, GateState::Pending);
    assert_eq!(d.promotion, Promotion::None);
    let said = d.unbacked.expect("said");
    assert!(said.contains("status.gate_status says approved"), "{said}");
}

#[test]
fn a_confirmed_approval_runs_its_job_once_and_a_started_one_never_again() {
    let confirmed = run(&Row {
        recorded: approved_status(),
        issue: concluded(),
        comments: vec![verdict()],
        job: JobSeen::Absent,
        state: GateState::Approved,
        ..row("confirmed")
    });
    assert_eq!(
        (confirmed.state, confirmed.promotion),
        (GateState::Approved, Promotion::Run)
    );
    assert_eq!(confirmed.unbacked, None);
    // The issue records that its Job started: with the status lost, it is spent.
    let spent = run(&Row {
        issue: concluded(),
        comments: vec![verdict(), started()],
        job: JobSeen::Absent,
        state: GateState::Approved,
        ..row("spent")
    });
    assert_eq!(
        (spent.state, spent.promotion),
        (GateState::Approved, Promotion::Spent)
    );
    assert!(spent.actions.is_empty(), "{:?}", spent.actions);
}

#[test]
fn the_first_call_that_sees_the_job_records_its_start_on_the_issue_once() {
    let first = run(&Row {
        recorded: approved_status(),
        issue: concluded(),
        comments: vec![verdict()],
        job: JobSeen::Observed,
        ..row("first seen")
    });
    assert_eq!(first.promotion, Promotion::Run);
    let bodies: Vec<&str> = first
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Comment { body, .. } => Some(body.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(bodies.len(), 1, "{:?}", first.actions);
    let comments = [comment(11, BOT, bodies[0], at(6, 0))];
    assert!(marker::started(&comments, &bot(), KEY));
    assert!(!marker::started(&comments, &bot(), OLD_KEY));
    // Recorded already: nothing more is written.
    let again = run(&Row {
        recorded: approved_status(),
        issue: concluded(),
        comments: vec![verdict(), started()],
        job: JobSeen::Observed,
        ..row("seen again")
    });
    assert_eq!(again.promotion, Promotion::Run, "kept while observed");
    assert!(again.actions.is_empty(), "{:?}", again.actions);
}

#[test]
fn a_start_record_someone_else_wrote_or_edited_counts_for_nothing() {
    let forged = comment(
        12,
        "mallory",
        &issue::started_comment(KEY, "j", at(1, 30)),
        at(1, 30),
    );
    let mut edited = started();
    edited.updated_at = at(2, 0);
    for fake in [forged, edited] {
        let d = run(&Row {
            issue: concluded(),
            comments: vec![verdict(), fake],
            job: JobSeen::Absent,
            ..row("forged start")
        });
        assert_eq!(
            d.promotion,
            Promotion::Run,
            "only the function's own record counts"
        );
    }
}

#[test]
fn without_a_promotion_configured_no_job_ever_runs() {
    let d = run(&Row {
        comments: vec![comment(1, "alice", "/approve", at(1, 0))],
        ..row("no promotion")
    });
    assert_eq!(
        (d.state, d.promotion),
        (GateState::Approved, Promotion::None)
    );
}
