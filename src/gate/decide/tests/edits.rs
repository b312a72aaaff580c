//! What someone who may not answer can change on GitHub (edits, forged markers,
//! reopens, lost bindings, failed lookups), and why none of it approves.

use super::*;

pub(super) fn rows() -> Vec<Row> {
    vec![
        // The text changed and put back before the function read it: GitHub records the
        // description's last edit, and every change of the title as a renamed event.
        Row {
            binding: Some(sealed(&issue::text_seal("Promote", &issue(1, KEY).body))),
            text_edit: Some(Edit {
                at: at(1, 30),
                editor: Some("mallory".into()),
                editor_id: Some(user_id("mallory")),
            }),
            comments: vec![comment(4, "alice", "/approve", at(1, 0))],
            tampered: 1,
            ..row("a description edited and put back: approvals before the edit count no more")
        },
        Row {
            binding: Some(sealed(&issue::text_seal("Promote", &issue(1, KEY).body))),
            events: vec![event(
                9,
                EventKind::Other("renamed".into()),
                "mallory",
                None,
                at(1, 30),
            )],
            comments: vec![
                comment(4, "alice", "/approve", at(1, 0)),
                comment(5, "bob", "/approve", at(2, 0)),
            ],
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            tampered: 1,
            ..row("a title renamed and put back: approvals after the rename count")
        },
        Row {
            binding: Some(sealed(&issue::text_seal("Promote", &issue(1, KEY).body))),
            text_edit: Some(Edit {
                at: at(1, 30),
                editor: Some(BOT.into()),
                editor_id: Some(user_id(BOT)),
            }),
            comments: vec![comment(4, "alice", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("the function's own edit of the description moves nothing")
        },
        // Comments deleted from the issue, as its timeline records them.
        Row {
            deletions: vec![deleted("alice", at(1, 30))],
            comments: vec![comment(4, "bob", "/approve", at(2, 0))],
            approvers: vec!["bob"],
            held: true,
            tampered: 1,
            ..row("a deleted comment of an approver holds approval: it may have been a veto")
        },
        Row {
            deletions: vec![deleted("alice", at(1, 30))],
            comments: vec![
                comment(4, "bob", "/approve", at(2, 0)),
                comment(5, "alice", "/approve", at(2, 30)),
            ],
            state: GateState::Approved,
            approvers: vec!["bob", "alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an approver who answered after their comment was deleted no longer holds it")
        },
        Row {
            deletions: vec![deleted("mallory", at(1, 30))],
            comments: vec![comment(4, "bob", "/approve", at(2, 0))],
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("a deleted comment of someone who may not answer holds nothing")
        },
        Row {
            deletions: vec![deleted(BOT, at(1, 30))],
            comments: vec![comment(4, "bob", "/approve", at(1, 0))],
            tampered: 1,
            ..row("a deleted comment of the function: approvals before it count no more")
        },
        Row {
            deletions: vec![deleted(BOT, at(1, 30))],
            comments: vec![comment(4, "bob", "/approve", at(2, 0))],
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            tampered: 1,
            ..row("a deleted comment of the function: approvals after it count")
        },
        // The issue's title and description: the binding seals them as opened.
        Row {
            binding: Some(sealed("0123456789abcdef")),
            comments: vec![comment(4, "alice", "/approve", at(1, 0))],
            held: true,
            tampered: 1,
            actions: vec!["comment #1", "restore #1"],
            ..row(
                "a title or description someone changed holds the gate and is restored, and approvals before count no more",
            )
        },
        Row {
            binding: Some(sealed(&issue::text_seal("Promote", &issue(1, KEY).body))),
            comments: vec![comment(4, "alice", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("the title and description as sealed are no change")
        },
        Row {
            binding: Some(sealed("0123456789abcdef")),
            issue: Some(as_written_now()),
            comments: vec![comment(4, "alice", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row(
                "the title and description the function writes now are no change (its approvers changed since)",
            )
        },
        Row {
            binding: Some(sealed("0123456789abcdef")),
            comments: vec![comment(4, "bob", "/reject", at(1, 0))],
            state: GateState::Rejected,
            actions: vec![
                "comment #1",
                "close #1 not_planned",
                "comment #1",
                "restore #1",
            ],
            tampered: 1,
            ..row("a rejection given while the text was changed still counts")
        },
        Row {
            binding: Some(sealed("0123456789abcdef")),
            issue: Some(as_written_now()),
            comments: vec![
                comment(4, "alice", "/approve", at(1, 0)),
                comment(
                    5,
                    BOT,
                    &issue::restored_comment(KEY, at(2, 0), "0"),
                    at(2, 0),
                ),
                comment(6, "bob", "/approve", at(2, 0)),
            ],
            ..row("approvals up to the second of the last restoration count no more")
        },
        Row {
            binding: Some(sealed("0123456789abcdef")),
            issue: Some(as_written_now()),
            comments: vec![
                comment(4, "alice", "/approve", at(1, 0)),
                comment(
                    5,
                    BOT,
                    &issue::restored_comment(KEY, at(2, 0), "0"),
                    at(2, 0),
                ),
                comment(6, "bob", "/approve", at(2, 1)),
            ],
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an approval after the last restoration counts")
        },
        Row {
            binding: Some(sealed("0123456789abcdef")),
            issue: Some(as_written_now()),
            comments: vec![
                comment(4, "alice", "/approve", at(1, 0)),
                comment(
                    5,
                    "mallory",
                    &issue::restored_comment(KEY, at(0, 30), "0"),
                    at(0, 30),
                ),
            ],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("a restoration marker someone else wrote moves nothing")
        },
        Row {
            comments: vec![edited(comment(4, "alice", "/approve", at(1, 0)), at(2, 0))],
            held: true,
            tampered: 1,
            ..row("an approver's comment edited into /approve is no answer and holds approval")
        },
        Row {
            comments: vec![
                comment(4, "bob", "/approve", at(1, 0)),
                edited(comment(5, "alice", "will look", at(1, 5)), at(2, 0)),
            ],
            approvers: vec!["bob"],
            held: true,
            tampered: 1,
            ..row("an approver's edited comment holds back another approver's approval")
        },
        Row {
            comments: vec![
                edited(comment(4, "alice", "/reject", at(1, 0)), at(2, 0)),
                comment(5, "alice", "/approve", at(3, 0)),
            ],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an approver who answers again in a new comment lifts the hold")
        },
        Row {
            comments: vec![
                edited(comment(4, "alice", "/approve", at(1, 0)), at(2, 0)),
                comment(5, "alice", "/approve", at(0, 30)),
            ],
            approvers: vec!["alice"],
            held: true,
            tampered: 1,
            ..row("an answer older than the edited comment does not lift the hold")
        },
        Row {
            comments: vec![
                edited(comment(4, "alice", "/reject", at(1, 0)), at(2, 0)),
                comment(5, "alice", "/approve", at(1, 30)),
            ],
            approvers: vec!["alice"],
            held: true,
            tampered: 1,
            ..row("an answer given before the edit does not lift the hold")
        },
        Row {
            comments: vec![
                edited(comment(4, "mallory", "/approve", at(1, 0)), at(2, 0)),
                comment(5, "bob", "/approve", at(3, 0)),
            ],
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an edited comment of someone who may not answer holds nothing")
        },
        Row {
            comments: vec![edited(
                comment(
                    7,
                    BOT,
                    &issue::verdict_comment(KEY, GateState::Approved, &[], None, day2(0), 1, None),
                    at(1, 0),
                ),
                at(2, 0),
            )],
            tampered: 1,
            ..row("a verdict forged into the function's own comment is not read")
        },
        Row {
            policy: policy(2),
            comments: vec![
                edited(
                    comment(
                        7,
                        BOT,
                        &issue::counted_comment(
                            KEY,
                            &Approval {
                                login: "alice".into(),
                                at: at(1, 0),
                                via: Via::Close,
                                rules: Vec::new(),
                            },
                            1,
                            2,
                        ),
                        at(1, 0),
                    ),
                    at(2, 0),
                ),
                comment(8, "bob", "/approve", at(3, 0)),
            ],
            approvers: vec!["bob"],
            tampered: 1,
            ..row("a counted close forged into the function's comment counts nothing")
        },
        Row {
            events: vec![
                close_event(1, "alice", CloseReason::NotPlanned, at(2, 0)),
                reopen_event(2, "mallory", at(2, 1)),
            ],
            comments: vec![comment(5, "bob", "/approve", at(3, 0))],
            state: GateState::Rejected,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("an approver's close as not planned vetoes though someone reopened the issue")
        },
        Row {
            events: vec![
                close_event(1, "mallory", CloseReason::Completed, at(2, 0)),
                close_event(2, "mallory", CloseReason::Completed, at(2, 5)),
            ],
            issue: Some(closed(
                issue(1, KEY),
                "mallory",
                CloseReason::Completed,
                at(2, 5),
            )),
            actions: vec!["comment #1", "reopen #1"],
            ..row("closes by someone who may not answer count nothing and are undone")
        },
        Row {
            events: vec![IssueEvent {
                commit_id: Some("0123abc".into()),
                ..close_event(1, "alice", CloseReason::Completed, at(2, 0))
            }],
            issue: Some(closed(
                issue(1, KEY),
                "alice",
                CloseReason::Completed,
                at(2, 0),
            )),
            actions: vec!["comment #1", "reopen #1"],
            ..row("a close by a commit or pull request is no answer, whoever GitHub names")
        },
        Row {
            issue: Some(closed(
                issue(1, KEY),
                "alice",
                CloseReason::Completed,
                at(2, 0),
            )),
            actions: vec!["comment #1", "reopen #1"],
            ..row("a close GitHub's events do not record is no answer")
        },
        Row {
            issue: None,
            binding: None,
            blocked: true,
            held: true,
            tampered: 1,
            tampering: vec!["issue #1 lost the function's binding comment".into()],
            ..row("no issue is opened while one of the key lost its binding")
        },
        Row {
            issue: None,
            binding: None,
            blocked: true,
            others: vec![(
                closed(issue(1, KEY), "alice", CloseReason::NotPlanned, at(1, 0)),
                vec![close_event(1, "alice", CloseReason::NotPlanned, at(1, 0))],
            )],
            state: GateState::Rejected,
            ..row("a veto by close on an issue of the key that lost its binding still rejects")
        },
        Row {
            duplicates: vec![issue(2, KEY)],
            others: vec![(
                issue(2, KEY),
                vec![close_event(1, "bob", CloseReason::NotPlanned, at(1, 0))],
            )],
            comments: vec![comment(1, "alice", "/approve", at(2, 0))],
            approvers: vec!["alice"],
            state: GateState::Rejected,
            actions: vec![
                "comment #2",
                "close #2 duplicate",
                "comment #1",
                "close #1 not_planned",
            ],
            ..row("a veto on a duplicate of the request counts")
        },
        Row {
            duplicates: vec![issue(2, KEY)],
            others: vec![(issue(2, KEY), Vec::new())],
            others_deleted: vec![deleted("bob", at(1, 30))],
            comments: vec![comment(1, "alice", "/approve", at(2, 0))],
            approvers: vec!["alice"],
            held: true,
            tampered: 0,
            actions: vec!["comment #2", "close #2 duplicate"],
            ..row(
                "a comment of an approver deleted on a duplicate holds approval: it may have been a veto",
            )
        },
        Row {
            more_deletions: true,
            comments: vec![comment(4, "bob", "/approve", at(2, 0))],
            approvers: vec!["bob"],
            held: true,
            tampered: 1,
            ..row("more deletions than GitHub's timeline was read for hold approval")
        },
        Row {
            more_deletions: true,
            comments: vec![comment(4, "bob", "/reject", at(2, 0))],
            state: GateState::Rejected,
            actions: vec!["comment #1", "close #1 not_planned"],
            tampered: 1,
            ..row("more deletions than were read hold no rejection")
        },
        Row {
            deletions: vec![deleted("carol", at(1, 30))],
            team_members: vec!["carol"],
            comments: vec![comment(4, "bob", "/approve", at(2, 0))],
            approvers: vec!["bob"],
            held: true,
            tampered: 1,
            ..row("a deleted comment of a team approver holds approval")
        },
        Row {
            deletions: vec![Deletion {
                at: at(1, 30),
                author: Some("release-bot-app".into()),
                author_id: Some(user_id(BOT)),
            }],
            comments: vec![comment(4, "bob", "/approve", at(1, 0))],
            tampered: 1,
            ..row(
                "a deleted comment of the function, named as GraphQL names its account, moves the bound",
            )
        },
        Row {
            issue: None,
            binding: None,
            blocked: true,
            others: vec![(
                closed(issue(1, KEY), "mallory", CloseReason::NotPlanned, at(1, 0)),
                vec![close_event(1, "mallory", CloseReason::NotPlanned, at(1, 0))],
            )],
            held: true,
            ..row("a close by someone who may not answer on such an issue vetoes nothing")
        },
        Row {
            comments: vec![
                comment(4, "bob", "/approve", at(1, 0)),
                comment(5, "carol", "/reject", at(1, 5)),
            ],
            unresolved: vec!["carol"],
            approvers: vec!["bob"],
            held: true,
            ..row("a lookup that failed holds approval: its answer may have been a veto")
        },
        Row {
            comments: vec![
                comment(4, "bob", "/reject", at(1, 0)),
                comment(5, "carol", "/approve", at(1, 5)),
            ],
            unresolved: vec!["carol"],
            state: GateState::Rejected,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("a listed approver's veto counts though another lookup failed")
        },
        Row {
            comments: vec![comment(4, "bob", "/approve", at(1, 0))],
            blocked: true,
            held: true,
            approvers: vec!["bob"],
            ..row("approval is held while an issue of the key lost its binding")
        },
    ]
}

#[test]
fn a_gate_whose_issue_lost_its_record_is_held_as_tampered() {
    let d = run(&Row {
        issue: None,
        binding: None,
        blocked: true,
        ..row("blocked")
    });
    assert_eq!(d.state, GateState::Pending);
    let hold = d.hold.expect("held");
    assert_eq!(hold.reason(), crate::names::Reason::Tampered);
    assert!(!hold.asks(), "it waits for nothing answers can change");
    assert!(d.actions.is_empty(), "no second issue: {:?}", d.actions);
    // With the status lost, the request is dated by its issue that lost its binding.
    let late = run(&Row {
        issue: None,
        binding: None,
        blocked: true,
        others: vec![(issue(1, KEY), Vec::new())],
        now: day2(1),
        ..row("blocked, past the deadline")
    });
    assert_eq!(late.state, GateState::Timeout);
}

#[test]
fn the_held_message_names_the_edited_comment_and_its_author() {
    let d = run(&Row {
        comments: vec![edited(comment(41, "alice", "/approve", at(1, 0)), at(2, 0))],
        ..row("held")
    });
    let Some(Hold::Pending(held)) = d.hold else {
        panic!("held: {:?}", d.hold)
    };
    assert!(held.contains("comment 41 by alice on issue #1"), "{held}");
    assert!(
        d.tampering[0].contains("comment 41 by alice"),
        "{:?}",
        d.tampering
    );
}

/// The row's binding, sealing the issue's text as `seal`.
fn sealed(seal: &str) -> Binding {
    Binding {
        text: Some(seal.to_owned()),
        ..binding()
    }
}

/// The row's issue with the title and description the function writes now.
fn as_written_now() -> Issue {
    let spec = spec();
    let gate = test_support::gate(&spec, Some("rita"));
    let new = issue::new_issue(
        &gate,
        &policy(1),
        day2(0),
        &["release-gate".to_string()],
        None,
    );
    Issue {
        title: new.title,
        body: new.body,
        ..issue(1, KEY)
    }
}

/// A comment of `author` deleted at `at`, as the issue's timeline says.
fn deleted(author: &str, at: DateTime<Utc>) -> Deletion {
    Deletion {
        at,
        author: Some(author.to_owned()),
        author_id: Some(user_id(author)),
    }
}
