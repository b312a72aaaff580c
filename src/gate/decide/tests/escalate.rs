//! Escalation: two hours after the issue opened, erin and the members of `acme/sre` may
//! answer too. Only their answers posted after the escalation count (vetoes included),
//! toward every rule; who may not approve still may not; the request says so once, and
//! assigns them.

use super::*;
use crate::gate::policy::Escalation;

fn escalating(policy: Policy) -> Policy {
    Policy {
        escalation: Some(Escalation {
            after: Duration::hours(2),
            users: logins(&["erin", "rita"]),
            teams: vec![team("acme/sre")],
        }),
        ..policy
    }
}

/// Issue `number` of the key, opened the evening before the chosen one (a request that
/// lost its record, say).
fn earlier(number: u64) -> Issue {
    Issue {
        created_at: "2026-02-28T20:00:00Z".parse().unwrap(),
        ..issue(number, KEY)
    }
}

/// Frank is in the escalation team.
fn frank_in_sre() -> BTreeMap<Login, BTreeSet<Team>> {
    BTreeMap::from([(Login::new("frank"), BTreeSet::from([team("acme/sre")]))])
}

/// The function's escalation comment for this key, as it posts it.
fn said(id: u64, when: DateTime<Utc>) -> Comment {
    let body = format!(
        "Escalated.\n\n{}",
        crate::gate::marker::marker(&[("escalation", ""), ("key", KEY)])
    );
    comment(id, BOT, &body, when)
}

/// While pending after the escalation: the comment that says so, and erin assigned (rita
/// requested the promotion: never asked to approve it).
const SAYS_SO: [&str; 2] = ["comment #1", "assign #1 erin"];

pub(super) fn rows() -> Vec<Row> {
    let by_erin = super::change::written_by("erin");
    vec![
        Row {
            policy: escalating(policy(1)),
            comments: vec![comment(1, "erin", "/approve", at(2, 30))],
            now: at(3, 0),
            state: GateState::Approved,
            approvers: vec!["erin"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an escalation approver's approval after the escalation counts")
        },
        Row {
            policy: escalating(policy(1)),
            comments: vec![comment(1, "erin", "/approve", at(1, 30))],
            now: at(3, 0),
            actions: SAYS_SO.to_vec(),
            ..row("an escalation approver's approval before the escalation does not count")
        },
        Row {
            policy: escalating(policy(1)),
            comments: vec![comment(1, "erin", "/approve", at(2, 0))],
            now: at(3, 0),
            actions: SAYS_SO.to_vec(),
            ..row("an approval in the second the request escalated came before it")
        },
        Row {
            policy: escalating(policy(1)),
            comments: vec![
                comment(1, "alice", "/approve", at(2, 40)),
                comment(2, "erin", "/reject", at(2, 30)),
            ],
            now: at(3, 0),
            state: GateState::Rejected,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("an escalation approver's veto after the escalation counts")
        },
        Row {
            policy: escalating(policy(1)),
            comments: vec![
                comment(1, "erin", "/reject", at(1, 0)),
                comment(2, "alice", "/approve", at(2, 40)),
            ],
            now: at(3, 0),
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("a rejection by an escalation approver before the escalation is no veto")
        },
        Row {
            policy: escalating(policy(1)),
            comments: vec![comment(1, "frank", "/approve", at(2, 30))],
            memberships: frank_in_sre(),
            now: at(3, 0),
            state: GateState::Approved,
            approvers: vec!["frank"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("a member of an escalation team counts after the escalation")
        },
        Row {
            policy: escalating(policy(1)),
            comments: vec![comment(1, "frank", "/approve", at(2, 30))],
            now: at(3, 0),
            actions: SAYS_SO.to_vec(),
            ..row("someone GitHub did not place in the escalation team does not count")
        },
        Row {
            policy: escalating(ruled(1)),
            comments: vec![comment(1, "erin", "/approve", at(2, 30))],
            now: at(3, 0),
            state: GateState::Approved,
            approvers: vec!["erin"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an escalation approver counts toward every rule")
        },
        Row {
            policy: Policy {
                escalation: Some(Escalation {
                    after: Duration::hours(2),
                    users: logins(&["alice"]),
                    teams: Vec::new(),
                }),
                ..ruled(1)
            },
            comments: vec![
                comment(1, "alice", "/approve", at(1, 0)),
                comment(2, "alice", "/approve", at(2, 30)),
            ],
            now: at(3, 0),
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row(
                "a rule's approver escalated to counts toward every rule once they answer after it",
            )
        },
        Row {
            policy: escalating(policy(1)),
            comments: vec![comment(1, "rita", "/approve", at(2, 30))],
            now: at(3, 0),
            actions: SAYS_SO.to_vec(),
            ..row("the requester named by the escalation still cannot approve")
        },
        Row {
            policy: escalating(Policy {
                exclude_change_authors: true,
                ..policy(1)
            }),
            comments: vec![comment(1, "erin", "/approve", at(2, 30))],
            change: by_erin.0,
            issue: Some(by_erin.1),
            binding: Some(by_erin.2),
            now: at(3, 0),
            actions: SAYS_SO.to_vec(),
            ..row("an escalation approver who wrote the change cannot approve it")
        },
        Row {
            policy: escalating(policy(2)),
            comments: vec![
                comment(1, "alice", "/approve", at(0, 30)),
                said(2, at(2, 0)),
            ],
            now: at(3, 0),
            approvers: vec!["alice"],
            ..row("an escalation said on the issue is not said again, whatever the status says")
        },
        Row {
            policy: escalating(policy(1)),
            now: at(1, 0),
            ..row("before the escalation: nothing said")
        },
        Row {
            policy: escalating(overridable_by(&["alice"])),
            comments: vec![
                comment(1, "erin", "/approve", at(2, 30)),
                comment(2, "erin", "/override-freeze hotfix", at(2, 40)),
            ],
            frozen: Some(at(8, 0)),
            now: at(3, 0),
            approvers: vec!["erin"],
            held: true,
            ..row("an escalation approver freezeOverride does not list cannot override a freeze")
        },
        Row {
            policy: escalating(overridable_by(&["erin"])),
            comments: vec![
                comment(1, "erin", "/approve", at(2, 30)),
                comment(2, "erin", "/override-freeze hotfix", at(2, 40)),
            ],
            frozen: Some(at(8, 0)),
            now: at(3, 0),
            state: GateState::Approved,
            approvers: vec!["erin", "erin"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an escalation approver freezeOverride lists overrides a freeze")
        },
        Row {
            policy: escalating(policy(1)),
            others: vec![(
                earlier(2),
                vec![close_event(1, "erin", CloseReason::NotPlanned, at(1, 0))],
            )],
            comments: vec![comment(1, "alice", "/approve", at(2, 30))],
            now: at(3, 0),
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row(
                "on an older issue of the key, the escalation is the chosen issue's: no early veto",
            )
        },
        Row {
            policy: escalating(policy(1)),
            others: vec![(
                earlier(2),
                vec![close_event(1, "erin", CloseReason::NotPlanned, at(2, 10))],
            )],
            comments: vec![comment(1, "alice", "/approve", at(2, 30))],
            now: at(3, 0),
            state: GateState::Rejected,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("a veto by an escalation approver on another issue of the key after it counts")
        },
        Row {
            policy: escalating(policy(1)),
            events: vec![close_event(1, "erin", CloseReason::Completed, at(2, 30))],
            issue: Some(closed(
                issue(1, KEY),
                "erin",
                CloseReason::Completed,
                at(2, 30),
            )),
            now: at(3, 0),
            state: GateState::Approved,
            approvers: vec!["erin"],
            actions: vec!["comment #1"],
            ..row("a close as completed by an escalation approver after it approves")
        },
        Row {
            policy: Policy {
                escalation: Some(Escalation {
                    after: Duration::hours(30),
                    users: logins(&["erin"]),
                    teams: Vec::new(),
                }),
                ..policy(1)
            },
            comments: vec![comment(1, "erin", "/approve", at(23, 0))],
            now: day2(1),
            state: GateState::Timeout,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("an escalation past the deadline never happens")
        },
    ]
}

#[test]
fn the_escalation_is_said_once_recorded_and_woken_for() {
    let pending = rows().remove(1);
    let d = run(&pending);
    let Some(Action::Comment { body, .. }) = d.actions.first() else {
        panic!("{:?}", d.actions)
    };
    assert!(body.contains("@erin"), "{body}");
    assert!(
        !body.contains("@rita"),
        "the requester is not asked: {body}"
    );
    assert!(
        body.contains("the members of `acme/sre`") && !body.contains("@acme/sre"),
        "teams are mentioned only with github.mentionTeams: {body}"
    );
    assert!(body.contains("after 2026-03-01T02:00:00Z"), "{body}");
    assert_eq!(d.escalated_at, Some(at(2, 0)));
    let early = run(&rows()
        .into_iter()
        .find(|r| r.name == "before the escalation: nothing said")
        .unwrap());
    assert_eq!(early.escalated_at, None);
    assert_eq!(
        early.wake_at,
        Some(at(2, 0)),
        "the TTL wakes the gate for it"
    );
    let mentioning = Row {
        policy: Policy {
            mention_teams: true,
            ..pending.policy.clone()
        },
        ..rows().remove(1)
    };
    let d = run(&mentioning);
    let Some(Action::Comment { body, .. }) = d.actions.first() else {
        panic!("{:?}", d.actions)
    };
    assert!(body.contains("@acme/sre"), "{body}");
}

#[test]
fn escalation_teams_are_looked_up_for_those_who_answered() {
    let row = rows().remove(5);
    let read = IssueRead {
        issue: row.issue.clone().unwrap(),
        comments: row.comments.clone(),
        events: Vec::new(),
        deletions: Vec::new(),
        text_edit: None,
        more_deletions: false,
    };
    let found = candidates(
        &Policy {
            teams: Vec::new(),
            ..row.policy.clone()
        },
        &situation(&row),
        &bot(),
        std::iter::once(&read),
    );
    assert!(found.contains(&Login::new("frank")), "{found:?}");
}
