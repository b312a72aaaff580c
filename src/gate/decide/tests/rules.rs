//! Approval rules: every rule must be met; an approver counts toward each rule that
//! lists them.

use super::*;

pub(super) fn rows() -> Vec<Row> {
    vec![
        Row {
            policy: ruled(1),
            comments: vec![comment(1, "carol", "/approve", at(1, 0))],
            team_members: vec!["carol"],
            memberships: carol_in_release_managers(),
            approvers: vec!["carol"],
            ..row("rules partly met: the release rule by a team member, security still needed")
        },
        Row {
            policy: ruled(1),
            comments: vec![
                comment(1, "carol", "/approve", at(1, 0)),
                comment(2, "sam", "/approve", at(2, 0)),
            ],
            team_members: vec!["carol"],
            memberships: carol_in_release_managers(),
            state: GateState::Approved,
            approvers: vec!["carol", "sam"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("rules fully met: one release manager and one security engineer approve")
        },
        Row {
            policy: ruled(1),
            comments: vec![comment(1, "dave", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["dave"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an approver listed in two rules counts toward both")
        },
        Row {
            policy: ruled(2),
            comments: vec![
                comment(1, "alice", "/approve", at(1, 0)),
                comment(2, "sam", "/approve", at(2, 0)),
            ],
            approvers: vec!["alice", "sam"],
            ..row("a rule needing two stays unmet with one of its approvers, whatever the others")
        },
        Row {
            policy: ruled(1),
            comments: vec![comment(1, "carol", "/approve", at(1, 0))],
            team_members: vec!["carol"],
            approvers: vec!["carol"],
            ..row("a team member GitHub did not place in a rule's team counts toward no rule")
        },
    ]
}

#[test]
fn each_approval_says_which_rules_it_counted_toward_and_the_gate_how_far_each_got() {
    let ruled_row = Row {
        policy: ruled(1),
        comments: vec![
            comment(1, "carol", "/approve", at(1, 0)),
            comment(2, "dave", "/approve", at(2, 0)),
        ],
        team_members: vec!["carol"],
        memberships: carol_in_release_managers(),
        ..row("rules")
    };
    let d = run(&ruled_row);
    assert_eq!(d.state, GateState::Approved);
    let counted: Vec<(&str, Vec<&str>)> = d
        .approvals
        .iter()
        .map(|a| {
            (
                a.login.as_str(),
                a.rules.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        counted,
        vec![
            ("carol", vec!["release"]),
            ("dave", vec!["release", "security"])
        ]
    );
    let progress: Vec<(&str, u32, u32)> = d
        .progress
        .iter()
        .map(|r| (r.name.as_str(), r.counted, r.needed))
        .collect();
    assert_eq!(progress, vec![("release", 2, 1), ("security", 1, 1)]);
    // Approved when the last rule was met: dave's approval met security.
    assert_eq!(d.decided_at, Some(at(2, 0)));
    // Without named rules nothing is attributed.
    let plain = run(&Row {
        comments: vec![comment(1, "alice", "/approve", at(1, 0))],
        ..row("plain")
    });
    assert!(plain.progress.is_empty());
    assert!(plain.approvals.iter().all(|a| a.rules.is_empty()));
}
