//! Freeze windows: answers count, the gate does not approve inside a window unless an
//! approver listed in freezeOverride overrides it.

use super::*;

pub(super) fn rows() -> Vec<Row> {
    vec![
        Row {
            policy: overridable_by(&["alice"]),
            frozen: Some(at(12, 0)),
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            approvers: vec!["alice"],
            held: true,
            ..row("inside a freeze window the approvals are in, the gate waits")
        },
        Row {
            policy: overridable_by(&["alice"]),
            frozen: Some(at(5, 0)),
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("once the window has closed the same answers approve")
        },
        Row {
            policy: overridable_by(&["alice"]),
            frozen: Some(at(12, 0)),
            comments: vec![
                comment(1, "bob", "/approve", at(1, 0)),
                comment(2, "alice", "/override-freeze hotfix", at(2, 0)),
            ],
            state: GateState::Approved,
            approvers: vec!["bob", "alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an approver listed in freezeOverride lets the approved gate through")
        },
        Row {
            policy: overridable_by(&["alice"]),
            frozen: Some(at(12, 0)),
            comments: vec![
                comment(1, "bob", "/approve", at(1, 0)),
                comment(2, "bob", "/override-freeze please", at(2, 0)),
            ],
            approvers: vec!["bob"],
            held: true,
            ..row("an approver not listed in freezeOverride cannot override")
        },
        Row {
            policy: overridable_by(&["eve"]),
            frozen: Some(at(12, 0)),
            comments: vec![
                comment(1, "bob", "/approve", at(1, 0)),
                comment(2, "eve", "/override-freeze trust me", at(2, 0)),
            ],
            approvers: vec!["bob"],
            held: true,
            ..row("someone listed in freezeOverride who may not approve cannot override")
        },
        Row {
            policy: overridable_by(&["alice"]),
            frozen: Some(at(12, 0)),
            comments: vec![comment(1, "alice", "/override-freeze hotfix", at(2, 0))],
            ..row("an override without the approvals approves nothing")
        },
        Row {
            policy: overridable_by(&["alice"]),
            frozen: Some(at(12, 0)),
            comments: vec![
                comment(1, "alice", "/override-freeze hotfix", at(1, 0)),
                comment(2, "bob", "/approve", at(2, 0)),
            ],
            approvers: vec!["bob"],
            held: true,
            ..row("an override given before the approvals were in does not count for them")
        },
        Row {
            policy: Policy {
                allow_self_approval: true,
                users: logins(&["rita"]),
                ..overridable_by(&["rita"])
            },
            frozen: Some(at(12, 0)),
            comments: vec![
                comment(1, "rita", "/approve", at(1, 0)),
                comment(2, "rita", "/override-freeze mine", at(2, 0)),
            ],
            approvers: vec!["rita"],
            held: true,
            ..row("the requester never overrides a freeze of their own promotion")
        },
        Row {
            policy: Policy {
                users: logins(&["alice", "rita-x"]),
                ..overridable_by(&["alice", "rita-x"])
            },
            requester_id: Some(user_id("rita")),
            frozen: Some(at(12, 0)),
            comments: vec![
                comment(1, "alice", "/approve", at(1, 0)),
                as_renamed(
                    comment(2, "rita", "/override-freeze mine", at(2, 0)),
                    "rita-x",
                ),
            ],
            approvers: vec!["alice"],
            held: true,
            ..row("a renamed requester never overrides a freeze of their own promotion")
        },
    ]
}
