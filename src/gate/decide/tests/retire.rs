//! Verdicts written on GitHub, new artifacts, duplicates: what a call reads back and
//! what it retires.

use super::*;

/// The function's approval by alice at 02:00, written on the issue, closed as completed.
pub(super) fn written_approval(decided_at: Option<DateTime<Utc>>, extra: &[Approval]) -> Row {
    let mut approvals = vec![Approval {
        login: "alice".into(),
        at: at(2, 0),
        via: Via::Comment,
        rules: Vec::new(),
    }];
    approvals.extend_from_slice(extra);
    let body = issue::verdict_comment(
        KEY,
        GateState::Approved,
        &approvals,
        None,
        day2(0),
        1,
        decided_at,
    );
    Row {
        issue: Some(closed(issue(1, KEY), BOT, CloseReason::Completed, at(3, 0))),
        comments: vec![comment(1, BOT, &body, at(3, 0))],
        ..row("a written approval")
    }
}

/// A status recorded for another artifact of the XR: the gate switched back.
fn switched_back() -> GateStatus {
    GateStatus {
        gate_status: Some(GateState::Pending),
        gate_key: Some(OLD_KEY.into()),
        created_timestamp: Some(at(4, 0)),
        ..GateStatus::default()
    }
}

pub(super) fn rows() -> Vec<Row> {
    vec![
        Row {
            soak_until: Some(at(8, 0)),
            held: true,
            approvers: vec!["alice"],
            ..written_approval(None, &[])
        }
        .named("an approval read back waits for the artifact's soak like a fresh one"),
        Row {
            frozen: Some(at(8, 0)),
            held: true,
            approvers: vec!["alice"],
            ..written_approval(None, &[])
        }
        .named("an approval read back waits for a freeze window, unless overridden in it"),
        Row {
            frozen: Some(at(8, 0)),
            state: GateState::Approved,
            approvers: vec!["alice", "alice"],
            ..written_approval(
                None,
                &[Approval {
                    login: "alice".into(),
                    at: at(2, 30),
                    via: Via::OverrideFreeze,
                    rules: Vec::new(),
                }],
            )
        }
        .named("an approval read back with an override given in this window passes it"),
        Row {
            recorded: switched_back(),
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1"],
            ..written_approval(None, &[])
        }
        .named("an approval reused on a switch back is said once on the issue"),
        Row {
            recorded: switched_back(),
            soak_until: Some(at(8, 0)),
            held: true,
            approvers: vec!["alice"],
            actions: vec!["comment #1"],
            ..written_approval(None, &[])
        }
        .named("an approval reused on a switch back waits for the soak"),
        Row {
            issue: Some(closed(issue(1, KEY), BOT, CloseReason::Completed, at(3, 0))),
            comments: vec![comment(
                1,
                BOT,
                &issue::verdict_comment(
                    KEY,
                    GateState::Approved,
                    &[Approval {
                        login: "alice".into(),
                        at: at(2, 0),
                        via: Via::Comment,
                        rules: Vec::new(),
                    }],
                    None,
                    day2(0),
                    1,
                    None,
                ),
                at(3, 0),
            )],
            state: GateState::Approved,
            approvers: vec!["alice"],
            ..row("a verdict written on GitHub is read back when the status was lost")
        },
        Row {
            recorded: GateStatus {
                gate_status: Some(GateState::Pending),
                gate_key: Some("oldoldoldold".into()),
                created_timestamp: Some(at(0, 0)),
                issue: Some(IssueRef {
                    number: 1,
                    url: "u".into(),
                }),
                ..GateStatus::default()
            },
            issue: None,
            superseded: vec![(issue(1, OLD_KEY), OLD_KEY.into())],
            actions: vec!["open"],
            ..row("a new artifact opens a new issue first")
        },
        Row {
            recorded: GateStatus {
                gate_status: Some(GateState::Approved),
                gate_key: Some("oldoldoldold".into()),
                created_timestamp: Some(at(0, 0)),
                issue: Some(IssueRef {
                    number: 1,
                    url: "u".into(),
                }),
                ..GateStatus::default()
            },
            issue: Some(issue(2, KEY)),
            superseded: vec![(issue(1, OLD_KEY), OLD_KEY.into())],
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row(
                "a new artifact's issue supersedes the old open one; an old approval does not carry over",
            )
        },
        Row {
            recorded: GateStatus {
                gate_status: Some(GateState::Approved),
                gate_key: Some("oldoldoldold".into()),
                created_timestamp: Some(at(0, 0)),
                ..GateStatus::default()
            },
            issue: Some(issue(2, KEY)),
            superseded: vec![(issue(1, OLD_KEY), OLD_KEY.into())],
            retired: BTreeSet::from([1]),
            actions: vec!["close #1 not_planned"],
            ..row("a superseded issue already commented on is only closed, after a failed close")
        },
        Row {
            duplicates: vec![issue(3, KEY)],
            retired: BTreeSet::from([3]),
            actions: vec!["close #3 duplicate"],
            ..row("a duplicate already commented on is only closed, after a failed close")
        },
        Row {
            duplicates: vec![issue(3, KEY)],
            actions: vec!["comment #3", "close #3 duplicate"],
            ..row("a second issue for the key is closed as a duplicate")
        },
    ]
}

#[test]
fn unneeded_issues_are_closed_as_not_planned_each_with_its_own_key_once() {
    let old_key = "f".repeat(64);
    let chosen = issue(1, KEY);
    let duplicate = issue(2, KEY);
    let gone = closed(issue(3, KEY), BOT, CloseReason::Completed, at(7, 0));
    let superseded = vec![(issue(4, &old_key), old_key.clone())];
    // Issue 2 already carries the retirement comment: a retry only closes it.
    let retired = BTreeSet::from([2]);
    let (actions, closed_numbers) = actions::retire_unneeded(
        KEY,
        Some(&chosen),
        &[duplicate, gone],
        &superseded,
        &retired,
    );
    assert_eq!(closed_numbers, vec![1, 2, 4]);
    let described: Vec<String> = actions.iter().map(describe).collect();
    assert_eq!(
        described,
        vec![
            "comment #1",
            "close #1 not_planned",
            "close #2 not_planned",
            "comment #4",
            "close #4 not_planned",
        ],
        "{actions:?}"
    );
    let comment_on = |n: u64| {
        actions.iter().find_map(|a| match a {
            Action::Comment { number, body } if *number == n => Some(body.clone()),
            _ => None,
        })
    };
    assert_eq!(comment_on(1), Some(issue::not_required_comment(KEY)));
    assert_eq!(comment_on(4), Some(issue::not_required_comment(&old_key)));
    // Nothing chosen (its verdict stands): only the others are closed.
    let (_, only_others) = actions::retire_unneeded(KEY, None, &[], &superseded, &retired);
    assert_eq!(only_others, vec![4]);
}

#[test]
fn a_replacement_issue_keeps_the_original_deadline_when_the_status_is_lost() {
    // Issue #1 was deleted; #2 was opened the next day and bound to the original start.
    // With the status lost, the deadline must not move to #2's creation + 24 h.
    let mut replacement = issue(2, KEY);
    replacement.created_at = day2(0) - Duration::minutes(30);
    let late = comment(7, "alice", "/approve", day2(1));
    let decision = run(&Row {
        issue: Some(replacement),
        comments: vec![late],
        now: day2(2),
        state: GateState::Timeout,
        ..row("replacement keeps the deadline")
    });
    assert_eq!(decision.deadline, day2(0));
    assert_eq!(
        decision.state,
        GateState::Timeout,
        "an answer after the real deadline does not count"
    );
}

#[test]
fn a_written_verdict_is_dated_as_written_and_a_reused_one_is_marked_so() {
    let dated = run(&written_approval(Some(at(2, 45)), &[]));
    assert_eq!(
        dated.decided_at,
        Some(at(2, 45)),
        "not the quorum rule's 02:00"
    );
    let older = run(&written_approval(None, &[]));
    assert_eq!(
        older.decided_at,
        Some(at(2, 0)),
        "written before it was recorded"
    );
    let reused = run(&Row {
        recorded: switched_back(),
        ..written_approval(None, &[])
    });
    assert!(
        reused.approvals.iter().all(|a| a.via == Via::Reused),
        "{:?}",
        reused.approvals
    );
    // Said once: a reuse already recorded on the issue is not said again.
    let mut said = written_approval(None, &[]);
    said.comments.push(comment(
        2,
        BOT,
        &issue::reused_comment(KEY, at(4, 0)),
        at(4, 0),
    ));
    let again = run(&said);
    assert!(again.actions.is_empty(), "{:?}", again.actions);
    assert!(again.approvals.iter().all(|a| a.via == Via::Reused));
}

#[test]
fn the_deadline_stays_as_the_binding_sealed_it_when_timeout_hours_changes() {
    // Bound with a deadline at midnight on the 2nd (24 hours); the spec now says 168.
    let d = run(&Row {
        comments: vec![comment(7, "alice", "/approve", day2(1))],
        now: day2(2),
        ..row("extended")
    });
    assert_eq!(d.deadline, day2(0));
    assert_eq!(
        d.state,
        GateState::Timeout,
        "an answer after it does not count"
    );
}
