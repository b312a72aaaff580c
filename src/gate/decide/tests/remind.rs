//! Reminders: the latest one due is posted once, while the gate asks, mentioning only the
//! approvers who have not answered; none once decided, while soaking, or past the
//! deadline; one already on the issue (also with the status lost) is not posted again.

use super::*;
use crate::gate::decide::remind::go;

fn reminding(min: u32) -> Policy {
    Policy {
        reminders: vec![Duration::hours(1), Duration::hours(4)],
        ..policy(min)
    }
}

/// The function's reminder of `after` for this key, as it posts it.
fn posted(id: u64, after: &str, when: DateTime<Utc>) -> Comment {
    let body = format!(
        "Reminder.\n\n{}",
        crate::gate::marker::marker(&[("reminder", ""), ("key", KEY), ("after", after)])
    );
    comment(id, BOT, &body, when)
}

pub(super) fn rows() -> Vec<Row> {
    vec![
        Row {
            policy: reminding(2),
            comments: vec![comment(1, "alice", "/approve", at(0, 30))],
            now: at(5, 0),
            approvers: vec!["alice"],
            actions: vec!["comment #1"],
            ..row("five hours after the issue opened: the four-hour reminder only")
        },
        Row {
            policy: reminding(2),
            comments: vec![
                comment(1, "alice", "/approve", at(0, 30)),
                posted(2, "4h", at(4, 0)),
            ],
            now: at(5, 0),
            approvers: vec!["alice"],
            ..row("a reminder on the issue is not posted again, whatever the status says")
        },
        Row {
            policy: reminding(2),
            now: at(0, 30),
            ..row("before the first reminder: nothing")
        },
        Row {
            policy: reminding(1),
            comments: vec![comment(1, "alice", "/approve", at(0, 30))],
            now: at(5, 0),
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("a gate decided before its reminders: none")
        },
        Row {
            policy: reminding(2),
            soak_until: Some(at(12, 0)),
            comments: vec![comment(1, "alice", "/approve", at(0, 30))],
            now: at(5, 0),
            approvers: vec!["alice"],
            ..row("a soaking gate waits for its soak, not for answers: no reminder")
        },
        Row {
            policy: Policy {
                reminders: vec![Duration::hours(30)],
                ..policy(2)
            },
            now: day2(1),
            state: GateState::Timeout,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("a reminder past the deadline is never posted")
        },
    ]
}

#[test]
fn a_reminder_mentions_only_who_has_not_answered_and_how_long_is_left() {
    let row = rows().remove(0);
    let d = run(&row);
    let Some(Action::Comment { body, .. }) = d.actions.first() else {
        panic!("{:?}", d.actions)
    };
    assert!(body.contains("@bob") && body.contains("@dave"), "{body}");
    assert!(!body.contains("@alice"), "alice answered: {body}");
    assert!(
        !body.contains("@rita"),
        "the requester is not asked: {body}"
    );
    assert!(!body.contains(&format!("@{BOT}")), "{body}");
    assert!(
        body.contains(&format!("({} left)", go(day2(0) - at(5, 0)))),
        "{body}"
    );
    assert!(body.contains("after=4h"), "{body}");
    assert_eq!(d.reminders, vec!["4h".to_string()]);
    assert_eq!(d.wake_at, None, "no reminder after the four-hour one");
    let early = run(&rows().remove(2));
    assert_eq!(
        early.wake_at,
        Some(at(1, 0)),
        "the TTL wakes the gate for it"
    );
}

#[test]
fn a_decided_gate_still_shows_the_reminders_its_issue_holds_in_order() {
    let body = crate::gate::issue::verdict_comment(
        KEY,
        GateState::Rejected,
        &[],
        None,
        day2(0),
        1,
        Some(at(21, 0)),
    );
    let row = Row {
        policy: Policy {
            reminders: vec![Duration::hours(4), Duration::hours(20)],
            ..policy(1)
        },
        issue: Some(closed(
            issue(1, KEY),
            BOT,
            CloseReason::NotPlanned,
            at(21, 0),
        )),
        comments: vec![
            posted(1, "4h", at(4, 0)),
            posted(2, "20h", at(20, 0)),
            comment(3, "bob", "/reject", at(21, 0)),
            comment(4, BOT, &body, at(21, 0)),
        ],
        now: at(22, 0),
        ..row("a rejected gate whose status was lost")
    };
    let d = run(&row);
    assert_eq!(d.state, GateState::Rejected);
    assert_eq!(d.reminders, vec!["4h".to_string(), "20h".to_string()]);
}

#[test]
fn a_requester_annotation_changed_after_sealing_leaves_the_new_login_asked() {
    let row = Row {
        policy: reminding(2),
        requester: Some("alice"),
        sealed_for: Some(("rita", user_id("rita"))),
        sealed_requesters: vec![user_id("rita")],
        now: at(5, 0),
        actions: vec!["comment #1"],
        ..row("the annotation now names alice; rita was sealed")
    };
    let d = run(&row);
    let Some(Action::Comment { body, .. }) = d.actions.first() else {
        panic!("{:?}", d.actions)
    };
    assert!(
        body.contains("@alice"),
        "alice is an approver like any other: {body}"
    );
    assert!(
        d.requester_ignored
            .as_deref()
            .is_some_and(|w| w.contains("now names alice"))
    );
}
