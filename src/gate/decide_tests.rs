//! The decision table: each row is a situation on GitHub and the verdict and actions
//! it must produce.

use super::*;
use crate::gate::answers::candidates;
use crate::gate::test_support::{self, BOT, KEY, UID, at, bot, issue, spec};
use crate::github::fake::user_id;
use crate::policy::{ApprovalRule, Rule};
use crate::xr::gate::IssueRef;

const OLD_KEY: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

fn day2(hour: u32) -> DateTime<Utc> {
    format!("2026-03-02T{hour:02}:00:00Z").parse().unwrap()
}

fn policy(min: u32) -> Policy {
    Policy {
        rule: Rule::Manual,
        users: vec!["alice".into(), "bob".into(), BOT.into(), "dave".into()],
        teams: vec!["acme/release-managers".into()],
        min_approvals: min,
        rules: Vec::new(),
        min_permission: None,
        allow_self_approval: false,
        soak_until: None,
        frozen: None,
        freeze_override: None,
    }
}

/// Named rules only: `release` (team acme/release-managers, or dave) needing
/// `release_min`, and `security` (sam, or dave) needing one.
fn ruled(release_min: u32) -> Policy {
    let rule = |name: &str, users: &[&str], teams: &[&str], min| ApprovalRule {
        name: name.into(),
        users: users.iter().map(|u| u.to_string()).collect(),
        teams: teams.iter().map(|t| t.to_string()).collect(),
        min_approvals: min,
    };
    Policy {
        users: Vec::new(),
        teams: Vec::new(),
        rules: vec![
            rule(
                "release",
                &["dave", "alice", "bob"],
                &["acme/release-managers"],
                release_min,
            ),
            rule("security", &["sam", "dave"], &[], 1),
        ],
        ..policy(1)
    }
}

/// A freeze window open until `until`, which `overriders` may override.
fn frozen_until(until: DateTime<Utc>, overriders: &[&str]) -> Policy {
    Policy {
        frozen: Some(crate::freeze::Frozen {
            name: "maintenance".into(),
            reason: String::new(),
            opened: at(0, 0),
            until,
        }),
        freeze_override: Some(crate::policy::FreezeOverride {
            users: overriders.iter().map(|u| u.to_string()).collect(),
            teams: Vec::new(),
        }),
        ..policy(1)
    }
}

/// Carol is in the release managers' team.
fn carol_in_release_managers() -> BTreeMap<String, BTreeSet<String>> {
    BTreeMap::from([(
        "carol".to_owned(),
        BTreeSet::from(["acme/release-managers".to_owned()]),
    )])
}

fn closed(mut issue: Issue, by: &str, reason: CloseReason, when: DateTime<Utc>) -> Issue {
    issue.state = IssueState::Closed;
    issue.state_reason = Some(reason);
    issue.closed_by = Some(by.into());
    issue.closed_at = Some(when);
    issue
}

fn event(
    id: u64,
    kind: EventKind,
    by: &str,
    reason: Option<CloseReason>,
    when: DateTime<Utc>,
) -> IssueEvent {
    IssueEvent {
        id,
        kind,
        actor_id: Some(user_id(by)),
        actor: Some(by.into()),
        created_at: when,
        state_reason: reason,
        commit_id: None,
    }
}

fn close_event(id: u64, by: &str, reason: CloseReason, when: DateTime<Utc>) -> IssueEvent {
    event(id, EventKind::Closed, by, Some(reason), when)
}

fn reopen_event(id: u64, by: &str, when: DateTime<Utc>) -> IssueEvent {
    event(id, EventKind::Reopened, by, None, when)
}

/// A row whose issue `by` closed with `reason` at `when`, as the issue and its events say.
fn closed_by(name: &'static str, by: &str, reason: CloseReason, when: DateTime<Utc>) -> Row {
    Row {
        issue: Some(closed(issue(1, KEY), by, reason.clone(), when)),
        events: vec![close_event(1, by, reason, when)],
        ..row(name)
    }
}

fn edited(mut c: Comment, when: DateTime<Utc>) -> Comment {
    c.updated_at = when;
    c
}

fn binding() -> Binding {
    Binding {
        key: KEY.into(),
        uid: UID.into(),
        start: at(0, 0),
        deadline: day2(0),
    }
}

fn comment(id: u64, author: &str, body: &str, when: DateTime<Utc>) -> Comment {
    Comment {
        id,
        author_id: user_id(author),
        author: author.into(),
        body: body.into(),
        created_at: when,
        updated_at: when,
    }
}

/// One row: the world, and what must come out.
struct Row {
    name: &'static str,
    policy: Policy,
    requester: Option<&'static str>,
    recorded: GateStatus,
    issue: Option<Issue>,
    binding: Option<Binding>,
    comments: Vec<Comment>,
    events: Vec<IssueEvent>,
    tampering: Vec<String>,
    blocked: bool,
    superseded: Vec<(Issue, String)>,
    duplicates: Vec<Issue>,
    retired: BTreeSet<u64>,
    team_members: Vec<&'static str>,
    unresolved: Vec<&'static str>,
    /// The approver teams each login was found in.
    memberships: BTreeMap<String, BTreeSet<String>>,
    now: DateTime<Utc>,
    state: GateState,
    approvers: Vec<&'static str>,
    actions: Vec<&'static str>,
    held: bool,
    tampered: usize,
}

fn row(name: &'static str) -> Row {
    Row {
        name,
        policy: policy(1),
        requester: Some("rita"),
        recorded: GateStatus::default(),
        issue: Some(issue(1, KEY)),
        binding: Some(binding()),
        comments: Vec::new(),
        events: Vec::new(),
        tampering: Vec::new(),
        blocked: false,
        superseded: Vec::new(),
        duplicates: Vec::new(),
        retired: BTreeSet::new(),
        team_members: Vec::new(),
        unresolved: Vec::new(),
        memberships: BTreeMap::new(),
        now: at(6, 0),
        state: GateState::Pending,
        approvers: Vec::new(),
        actions: Vec::new(),
        held: false,
        tampered: 0,
    }
}

fn describe(action: &Action) -> String {
    match action {
        Action::Open(_) => "open".into(),
        Action::Comment { number, .. } => format!("comment #{number}"),
        Action::Close { number, reason } => format!("close #{number} {}", reason.as_api_str()),
        Action::Reopen { number } => format!("reopen #{number}"),
    }
}

fn run(row: &Row) -> Decision {
    let spec = spec();
    let gate = test_support::gate(&spec, row.requester);
    let authorized: BTreeSet<String> = row.team_members.iter().map(|s| s.to_string()).collect();
    let unresolved: BTreeMap<String, String> = row
        .unresolved
        .iter()
        .map(|s| (s.to_string(), "GitHub denied access".to_string()))
        .collect();
    let identity = bot();
    let observed = Observed {
        identity: &identity,
        issue: row.issue.as_ref(),
        binding: row.binding.as_ref(),
        comments: &row.comments,
        events: &row.events,
        tampering: &row.tampering,
        blocked: row.blocked,
        duplicates: &row.duplicates,
        superseded: &row.superseded,
        retired: &row.retired,
        authorized: &authorized,
        unresolved: &unresolved,
        memberships: &row.memberships,
    };
    decide(
        &gate,
        &row.recorded,
        &row.policy,
        &observed,
        &["release-gate".to_string()],
        row.now,
    )
}

fn table() -> Vec<Row> {
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
        // ----- approval rules: every rule met; an approver counts toward each of theirs -----
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
        // ----- freeze windows: answers count, no approval inside, unless overridden -----
        Row {
            policy: frozen_until(at(12, 0), &["alice"]),
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            approvers: vec!["alice"],
            held: true,
            ..row("inside a freeze window the approvals are in, the gate waits")
        },
        Row {
            policy: frozen_until(at(5, 0), &["alice"]),
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("once the window has closed the same answers approve")
        },
        Row {
            policy: frozen_until(at(12, 0), &["alice"]),
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
            policy: frozen_until(at(12, 0), &["alice"]),
            comments: vec![
                comment(1, "bob", "/approve", at(1, 0)),
                comment(2, "bob", "/override-freeze please", at(2, 0)),
            ],
            approvers: vec!["bob"],
            held: true,
            ..row("an approver not listed in freezeOverride cannot override")
        },
        Row {
            policy: frozen_until(at(12, 0), &["eve"]),
            comments: vec![
                comment(1, "bob", "/approve", at(1, 0)),
                comment(2, "eve", "/override-freeze trust me", at(2, 0)),
            ],
            approvers: vec!["bob"],
            held: true,
            ..row("someone listed in freezeOverride who may not approve cannot override")
        },
        Row {
            policy: frozen_until(at(12, 0), &["alice"]),
            comments: vec![comment(1, "alice", "/override-freeze hotfix", at(2, 0))],
            ..row("an override without the approvals approves nothing")
        },
        Row {
            policy: frozen_until(at(12, 0), &["alice"]),
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
                users: vec!["rita".into()],
                ..frozen_until(at(12, 0), &["rita"])
            },
            comments: vec![
                comment(1, "rita", "/approve", at(1, 0)),
                comment(2, "rita", "/override-freeze mine", at(2, 0)),
            ],
            approvers: vec!["rita"],
            held: true,
            ..row("the requester never overrides a freeze of their own promotion")
        },
        // ----- soak: the artifact must stay in its source for the pipeline's soakTime -----
        Row {
            policy: Policy {
                soak_until: Some(at(8, 0)),
                ..policy(1)
            },
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            approvers: vec!["alice"],
            held: true,
            ..row(
                "the approvals are in while the artifact soaks: pending, held, no verdict written",
            )
        },
        Row {
            policy: Policy {
                soak_until: Some(at(5, 0)),
                ..policy(1)
            },
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("once the soak is over the same answers approve")
        },
        Row {
            policy: Policy {
                soak_until: Some(at(8, 0)),
                ..policy(1)
            },
            comments: vec![comment(1, "bob", "/reject", at(1, 0))],
            state: GateState::Rejected,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("a rejection during the soak rejects at once")
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
                users: vec!["rita".into()],
                ..policy(1)
            },
            comments: vec![comment(1, "rita", "/approve", at(1, 0))],
            ..row("the requester is never counted")
        },
        Row {
            policy: Policy {
                users: vec!["rita".into()],
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
            recorded: GateStatus {
                gate_status: Some(GateState::Approved),
                gate_key: Some(KEY.into()),
                created_timestamp: Some(at(0, 0)),
                issue: Some(IssueRef {
                    number: 1,
                    url: "u".into(),
                }),
                ..GateStatus::default()
            },
            issue: None,
            now: day2(5),
            state: GateState::Approved,
            ..row("a recorded terminal state for the same key is kept with no action")
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
        // ----- what someone with write or triage access, not an approver, can try -----
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
                    &issue::verdict_comment(KEY, GateState::Approved, &[], None, day2(0), 1),
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
fn decision_table() {
    let mut failures = Vec::new();
    for row in table() {
        let d = run(&row);
        let actions: Vec<String> = d.actions.iter().map(describe).collect();
        let approvers: Vec<&str> = d.approvals.iter().map(|a| a.login.as_str()).collect();
        if d.state != row.state
            || actions != row.actions
            || approvers != row.approvers
            || d.held.is_some() != row.held
            || d.tampering.len() != row.tampered
        {
            failures.push(format!(
                "{}: got {:?} {approvers:?} {actions:?} held {:?} tampering {:?}, want {:?} {:?} {:?} held {} tampering {}",
                row.name, d.state, d.held, d.tampering, row.state, row.approvers, row.actions, row.held, row.tampered
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn automatic_rule_without_approval_required_is_settled_without_github() {
    let mut spec = spec();
    spec.approval_required = false;
    let gate = test_support::gate(&spec, None);
    let automatic = Policy {
        rule: Rule::Automatic,
        ..policy(1)
    };
    let d = settled(&gate, &GateStatus::default(), &automatic, at(1, 0)).unwrap();
    assert_eq!((d.state, d.automatic), (GateState::Approved, true));
    assert!(settled(&gate, &GateStatus::default(), &policy(1), at(1, 0)).is_none());
}

#[test]
fn new_issue_escapes_the_requester_and_assigns_listed_approvers_but_not_the_requester() {
    let spec = spec();
    let gate = test_support::gate(&spec, Some("alice"));
    let mut p = policy(2);
    p.users = (0..12).map(|i| format!("user{i}")).collect();
    p.users.insert(0, "alice".into());
    let new = issue::new_issue(&gate, &p, day2(0), &["release-gate".to_string()]);
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

#[test]
fn candidates_are_unlisted_answerers_editors_and_closers_only() {
    let spec = spec();
    let gate = test_support::gate(&spec, Some("rita"));
    let events = vec![close_event(1, "erin", CloseReason::Completed, at(2, 0))];
    let comments = vec![
        comment(1, "carol", "/approve", at(1, 0)),
        comment(2, "alice", "/approve", at(1, 0)),
        comment(3, "frank", "nice", at(1, 0)),
        edited(comment(6, "gina", "nice", at(1, 0)), at(1, 5)),
        comment(4, "rita", "/approve", at(1, 0)),
        comment(5, BOT, "/approve", at(1, 0)),
    ];
    let got = candidates(&gate, &policy(1), &bot(), &comments, &events);
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        vec!["carol".to_string(), "erin".to_string(), "gina".to_string()]
    );
    let no_rules = Policy {
        teams: vec![],
        ..policy(1)
    };
    assert!(candidates(&gate, &no_rules, &bot(), &comments, &events).is_empty());
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
fn the_held_message_names_the_edited_comment_and_its_author() {
    let d = run(&Row {
        comments: vec![edited(comment(41, "alice", "/approve", at(1, 0)), at(2, 0))],
        ..row("held")
    });
    let held = d.held.expect("held").message;
    assert!(held.contains("comment 41 by alice on issue #1"), "{held}");
    assert!(
        d.tampering[0].contains("comment 41 by alice"),
        "{:?}",
        d.tampering
    );
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
    let (actions, closed_numbers) = retire_unneeded(
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
    let (_, only_others) = retire_unneeded(KEY, None, &[], &superseded, &retired);
    assert_eq!(only_others, vec![4]);
}

#[test]
fn the_soak_hold_is_its_own_reason_and_names_its_end() {
    let mut soaking = row("soaking");
    soaking.policy.soak_until = Some(at(8, 0));
    soaking.comments = vec![comment(1, "alice", "/approve", at(1, 0))];
    let held = run(&soaking).held.expect("held while soaking");
    assert_eq!(held.reason, "Soaking");
    assert!(
        held.message.contains("until 2026-03-01T08:00:00Z"),
        "{}",
        held.message
    );
    assert!(
        held.message.contains("soaks in dev until"),
        "{}",
        held.message
    );
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
