//! Comments and closes: who counts, quorum, vetoes, the request's time window, the
//! requester, and closes that are undone or counted.

use super::*;

pub(super) fn rows() -> Vec<Row> {
    vec![
        Row {
            issue: None,
            actions: vec!["open"],
            ..row("no issue yet: one is opened")
        },
        Row {
            state: GateState::Pending,
            ..row("open issue without answers stays pending with no action")
        },
        Row {
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1"],
            ..closed_by(
                "close as completed by an authorized user approves",
                "alice",
                CloseReason::Completed,
                at(2, 0),
            )
        },
        Row {
            actions: vec!["comment #1", "reopen #1"],
            ..closed_by(
                "close by an unauthorized user is undone and stays pending",
                "mallory",
                CloseReason::Completed,
                at(2, 0),
            )
        },
        Row {
            comments: vec![comment(
                9,
                BOT,
                &issue::undone_comment(KEY, "mallory", at(2, 0), "x"),
                at(2, 1),
            )],
            actions: vec!["reopen #1"],
            ..closed_by(
                "an undone close already explained is only reopened",
                "mallory",
                CloseReason::Completed,
                at(2, 0),
            )
        },
        Row {
            actions: vec!["comment #1", "reopen #1"],
            ..closed_by(
                "close by the requester is undone",
                "rita",
                CloseReason::Completed,
                at(2, 0),
            )
        },
        Row {
            state: GateState::Rejected,
            actions: vec!["comment #1"],
            ..closed_by(
                "close as not planned by an authorized user rejects",
                "alice",
                CloseReason::NotPlanned,
                at(2, 0),
            )
        },
        Row {
            policy: policy(2),
            comments: vec![
                comment(1, "alice", "/approve", at(1, 0)),
                comment(2, "bob", "Looks good\n/Approve", at(2, 0)),
            ],
            state: GateState::Approved,
            approvers: vec!["alice", "bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("two approve comments reach a quorum of two")
        },
        Row {
            policy: policy(2),
            comments: vec![
                comment(1, "alice", "/approve", at(1, 0)),
                comment(2, "alice", "/approve", at(2, 0)),
            ],
            approvers: vec!["alice"],
            ..row("the same approver twice is one approval")
        },
        Row {
            policy: policy(2),
            comments: vec![
                comment(1, "alice", "/approve", at(1, 0)),
                comment(2, "bob", "/reject", at(2, 0)),
                comment(3, "dave", "/approve", at(3, 0)),
            ],
            state: GateState::Rejected,
            approvers: vec!["alice", "dave"],
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("one reject vetoes a reached quorum")
        },
        Row {
            comments: vec![comment(1, BOT, "/approve", at(1, 0))],
            ..row("the function's own identity is never counted, even when listed")
        },
        Row {
            policy: Policy {
                users: logins(&["rita"]),
                ..policy(1)
            },
            comments: vec![comment(1, "rita", "/approve", at(1, 0))],
            ..row("the requester is never counted")
        },
        Row {
            policy: Policy {
                users: logins(&["rita"]),
                allow_self_approval: true,
                ..policy(1)
            },
            comments: vec![comment(1, "rita", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["rita"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("the requester counts when self-approval is allowed")
        },
        Row {
            comments: vec![comment(1, "carol", "/approve", at(1, 0))],
            ..row("an unlisted user outside the teams is not counted")
        },
        Row {
            comments: vec![comment(1, "carol", "/approve", at(1, 0))],
            team_members: vec!["carol"],
            state: GateState::Approved,
            approvers: vec!["carol"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("a team member is counted")
        },
        Row {
            now: day2(1),
            state: GateState::Timeout,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("no verdict by the deadline times out")
        },
        Row {
            comments: vec![Comment {
                updated_at: day2(0) + Duration::minutes(1),
                ..comment(1, "alice", "/approve", at(1, 0))
            }],
            now: day2(1),
            state: GateState::Timeout,
            actions: vec!["comment #1", "close #1 not_planned"],
            tampered: 1,
            ..row("a comment edited after the deadline does not count")
        },
        Row {
            now: day2(1),
            state: GateState::Timeout,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..closed_by(
                "a close after the deadline does not count",
                "alice",
                CloseReason::Completed,
                day2(0) + Duration::minutes(5),
            )
        },
        Row {
            policy: policy(2),
            approvers: vec!["alice"],
            actions: vec!["comment #1", "reopen #1"],
            ..closed_by(
                "a close by an approver below quorum counts once and reopens",
                "alice",
                CloseReason::Completed,
                at(2, 0),
            )
        },
        Row {
            policy: policy(2),
            events: vec![
                close_event(1, "alice", CloseReason::Completed, at(2, 0)),
                reopen_event(2, BOT, at(2, 1)),
            ],
            comments: vec![
                comment(
                    1,
                    BOT,
                    &issue::counted_comment(
                        KEY,
                        &Approval {
                            login: "alice".into(),
                            at: at(2, 0),
                            via: Via::Close,
                            rules: Vec::new(),
                        },
                        1,
                        2,
                    ),
                    at(2, 1),
                ),
                comment(2, "bob", "/approve", at(3, 0)),
            ],
            state: GateState::Approved,
            approvers: vec!["alice", "bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("a close the function reopened still counts with a later approve")
        },
        Row {
            comments: vec![comment(
                4,
                "alice",
                "/approve",
                at(0, 0) - Duration::minutes(1),
            )],
            ..row("a comment from before the gate's start is not counted")
        },
        Row {
            comments: vec![comment(
                4,
                "alice",
                "/reject",
                at(0, 0) + Duration::seconds(5),
            )],
            binding: Some(Binding {
                start: at(0, 0) + Duration::seconds(10),
                ..binding()
            }),
            state: GateState::Rejected,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("an answer on the issue counts from its creation when GitHub's clock is behind")
        },
        Row {
            events: vec![close_event(
                1,
                "alice",
                CloseReason::Completed,
                at(0, 0) - Duration::minutes(1),
            )],
            ..row("a close from before the gate's start is not counted")
        },
        Row {
            comments: vec![
                comment(4, "bob", "/approve", at(1, 0)),
                comment(5, "rita", "/reject", at(2, 0)),
            ],
            state: GateState::Rejected,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("the requester's /reject withdraws the request")
        },
        Row {
            state: GateState::Rejected,
            actions: vec!["comment #1"],
            ..closed_by(
                "the requester's close as not planned withdraws the request",
                "rita",
                CloseReason::NotPlanned,
                at(2, 0),
            )
        },
        // The requester renames their account (rita -> rita-x), GitHub keeps its id, and
        // a team makes the new login an approver.
        Row {
            requester_id: Some(user_id("rita")),
            team_members: vec!["rita-x"],
            comments: vec![as_renamed(
                comment(1, "rita", "/approve", at(1, 0)),
                "rita-x",
            )],
            ..row("a requester who renamed their account is still the requester")
        },
        Row {
            requester_id: Some(user_id("rita")),
            team_members: vec!["rita-x"],
            actions: vec!["comment #1", "reopen #1"],
            events: vec![IssueEvent {
                actor: Some("rita-x".into()),
                ..close_event(1, "rita", CloseReason::Completed, at(2, 0))
            }],
            ..closed_by(
                "a renamed requester's close as completed is undone",
                "rita-x",
                CloseReason::Completed,
                at(2, 0),
            )
        },
        Row {
            requester_id: Some(user_id("rita")),
            comments: vec![
                comment(4, "bob", "/approve", at(1, 0)),
                as_renamed(comment(5, "rita", "/reject", at(2, 0)), "rita-x"),
            ],
            state: GateState::Rejected,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("a renamed requester's /reject still withdraws the request")
        },
        Row {
            requester: Some("ralph"),
            sealed_for: Some(("rita", user_id("rita"))),
            sealed_requesters: vec![user_id("rita")],
            team_members: vec!["rita"],
            comments: vec![comment(1, "rita", "/approve", at(1, 0))],
            ..row(
                "the requester a binding of the key sealed never approves after the annotation changes",
            )
        },
        Row {
            requester: Some("alice"),
            sealed_for: Some(("rita", user_id("rita"))),
            sealed_requesters: vec![user_id("rita")],
            team_members: vec!["rita"],
            comments: vec![
                comment(1, "rita", "/approve", at(1, 0)),
                comment(2, "alice", "/approve", at(1, 30)),
            ],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row(
                "an annotation changed to an approver after the request sealed its requester is ignored: the approver may approve",
            )
        },
        Row {
            unknown_requester: true,
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            approvers: vec!["alice"],
            held: true,
            ..row("a requester login that names no GitHub account holds approval")
        },
        Row {
            unknown_requester: true,
            issue: None,
            binding: None,
            held: true,
            ..row("no issue is opened while the requester login names no GitHub account")
        },
    ]
}

#[test]
fn candidates_are_unlisted_answerers_editors_and_closers_only() {
    let events = vec![close_event(1, "erin", CloseReason::Completed, at(2, 0))];
    let comments = vec![
        comment(1, "carol", "/approve", at(1, 0)),
        comment(2, "alice", "/approve", at(1, 0)),
        comment(3, "frank", "nice", at(1, 0)),
        edited(comment(6, "gina", "nice", at(1, 0)), at(1, 5)),
        comment(4, "rita", "/approve", at(1, 0)),
        comment(5, BOT, "/approve", at(1, 0)),
    ];
    let deletions = vec![Deletion {
        at: at(2, 30),
        author: Some("hank".into()),
        author_id: None,
    }];
    let read = [IssueRead {
        issue: issue(1, KEY),
        comments,
        events,
        deletions,
        text_edit: None,
        more_deletions: false,
    }];
    let now = Situation::at(at(3, 0));
    let got = candidates(&policy(1), &now, &bot(), read.iter());
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        vec![
            Login::new("carol"),
            Login::new("erin"),
            Login::new("gina"),
            Login::new("hank"),
            Login::new("rita")
        ],
        "the author of a deleted comment is looked up: it may have been a team approver's veto"
    );
    let no_rules = Policy {
        teams: vec![],
        ..policy(1)
    };
    assert!(candidates(&no_rules, &now, &bot(), read.iter()).is_empty());
}

#[test]
fn new_issue_escapes_the_requester_and_assigns_listed_approvers_but_not_the_requester() {
    let spec = spec();
    let gate = test_support::gate(&spec, Some("alice"));
    let mut p = policy(2);
    p.users = (0..12).map(|i| Login::new(&format!("user{i}"))).collect();
    p.users.insert(0, Login::new("alice"));
    let new = issue::new_issue(&gate, &p, day2(0), &["release-gate".to_string()], None);
    assert!(!new.assignees.contains(&"alice".to_string()));
    assert_eq!(new.assignees.len(), 10);
    assert!(new.body.contains(&format!(
        "<!-- release-gate:key={KEY} xr=platform-system/gate uid={UID} -->"
    )));
    assert!(new.body.contains("2 distinct approvals are needed"));
    assert!(new.body.contains("2026-03-02T00:00:00Z"));
    assert!(!new.body.contains("@alice"));
    assert_eq!(
        new.title,
        "Promote my-service ghcr.io/org/my-service:main-abc123 from dev to staging"
    );
}
