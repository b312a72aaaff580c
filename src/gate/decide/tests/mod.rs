//! The decision table: each row is a situation on GitHub and the verdict and actions
//! it must produce, grouped by theme, one file each.

mod answers;
mod change;
mod edits;
mod escalate;
mod freeze;
mod holds;
mod listing;
mod promotion;
mod remind;
mod retire;
mod rules;

use std::collections::BTreeMap;

use chrono::Duration;

use super::*;
use crate::gate::answers::candidates;
use crate::gate::policy::{Overriders, Quorum};
use crate::gate::progression::Soak;
use crate::gate::seal::Seal;
use crate::gate::situation::JobSeen;
use crate::gate::test_support::{self, BOT, KEY, UID, at, bot, issue, spec};
use crate::github::fake::user_id;
use crate::github::{Comment, Deletion, Edit, EventKind, IssueEvent, IssueState, Login, Team};
use crate::pipeline_config::Rule;
use crate::xr::gate::{Approval, GateStatus, Via};

const OLD_KEY: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

fn day2(hour: u32) -> DateTime<Utc> {
    format!("2026-03-02T{hour:02}:00:00Z").parse().unwrap()
}

fn logins(users: &[&str]) -> Vec<Login> {
    users.iter().map(|u| Login::new(u)).collect()
}

fn team(text: &str) -> Team {
    Team::parse(text).unwrap()
}

fn policy(min: u32) -> Policy {
    Policy {
        rule: Rule::Manual,
        users: logins(&["alice", "bob", BOT, "dave"]),
        teams: vec![team("acme/release-managers")],
        min_approvals: min,
        rules: Vec::new(),
        min_permission: None,
        allow_self_approval: false,
        require_requester: false,
        missing_pipeline: false,
        freeze_override: None,
        seal: Seal::default(),
        mention_teams: false,
        exclude_change_authors: false,
        reminders: Vec::new(),
        escalation: None,
    }
}

/// Named rules only: `release` (team acme/release-managers, or dave) needing
/// `release_min`, and `security` (sam, or dave) needing one.
fn ruled(release_min: u32) -> Policy {
    let rule = |name: &str, users: &[&str], teams: &[&str], min| Quorum {
        name: name.into(),
        users: logins(users),
        teams: teams.iter().map(|t| team(t)).collect(),
        needed: min,
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

/// The policy under which `overriders` may let an approved gate through a window.
fn overridable_by(overriders: &[&str]) -> Policy {
    Policy {
        freeze_override: Some(Overriders {
            users: logins(overriders),
            teams: Vec::new(),
        }),
        ..policy(1)
    }
}

/// Carol is in the release managers' team.
fn carol_in_release_managers() -> BTreeMap<Login, BTreeSet<Team>> {
    BTreeMap::from([(
        Login::new("carol"),
        BTreeSet::from([team("acme/release-managers")]),
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

/// The comment as GitHub shows it after its author renamed their account to `login`:
/// the new login, the same account id.
fn as_renamed(c: Comment, login: &str) -> Comment {
    Comment {
        author: login.into(),
        ..c
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
        requester: None,
        text: None,
        policy: None,
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
    /// The artifact soaks in the source until then.
    soak_until: Option<DateTime<Utc>>,
    /// A freeze window is open for the target since midnight until then.
    frozen: Option<DateTime<Utc>>,
    /// The key's promotion Job as Crossplane sees it.
    job: JobSeen,
    /// Other issues of the key (one that lost its binding, a duplicate), with their events.
    others: Vec<(Issue, Vec<IssueEvent>)>,
    /// Comments deleted from the other issues, as their timelines say.
    others_deleted: Vec<Deletion>,
    requester: Option<&'static str>,
    /// The requester's account id, as a binding sealed it or GitHub resolved it.
    requester_id: Option<u64>,
    /// Requester accounts sealed by the key's bindings besides the annotation's.
    sealed_requesters: Vec<u64>,
    /// The annotation's login names no GitHub account.
    unknown_requester: bool,
    /// The key's binding sealed this account as the requester, and the annotation (then
    /// another login) is ignored.
    sealed_for: Option<(&'static str, u64)>,
    recorded: GateStatus,
    issue: Option<Issue>,
    binding: Option<Binding>,
    comments: Vec<Comment>,
    events: Vec<IssueEvent>,
    /// Comments deleted from the issue, as its timeline says.
    deletions: Vec<Deletion>,
    /// The last edit of the issue's description, as GitHub records it.
    text_edit: Option<Edit>,
    /// More comments were deleted than the timeline read lists.
    more_deletions: bool,
    tampering: Vec<String>,
    blocked: bool,
    superseded: Vec<(Issue, String)>,
    duplicates: Vec<Issue>,
    retired: BTreeSet<u64>,
    team_members: Vec<&'static str>,
    unresolved: Vec<&'static str>,
    /// The approver teams each login was found in.
    memberships: BTreeMap<Login, BTreeSet<Team>>,
    now: DateTime<Utc>,
    state: GateState,
    approvers: Vec<&'static str>,
    actions: Vec<&'static str>,
    held: bool,
    tampered: usize,
    /// The repository's first full listing is still going on.
    listing: bool,
    /// The change the gate names, as read.
    change: Option<ChangeRead>,
}

fn row(name: &'static str) -> Row {
    Row {
        name,
        policy: policy(1),
        soak_until: None,
        frozen: None,
        job: JobSeen::NotConfigured,
        others: Vec::new(),
        others_deleted: Vec::new(),
        requester: Some("rita"),
        requester_id: None,
        sealed_requesters: Vec::new(),
        unknown_requester: false,
        sealed_for: None,
        recorded: GateStatus::default(),
        issue: Some(issue(1, KEY)),
        binding: Some(binding()),
        comments: Vec::new(),
        events: Vec::new(),
        deletions: Vec::new(),
        text_edit: None,
        more_deletions: false,
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
        listing: false,
        change: None,
    }
}

impl Row {
    /// The same row under another name.
    fn named(self, name: &'static str) -> Row {
        Row { name, ..self }
    }
}

fn describe(action: &Action) -> String {
    match action {
        Action::Open(_) => "open".into(),
        Action::Comment { number, .. } => format!("comment #{number}"),
        Action::Close { number, reason } => format!("close #{number} {}", reason.as_api_str()),
        Action::Reopen { number } => format!("reopen #{number}"),
        Action::Restore { number, .. } => format!("restore #{number}"),
        Action::Assign { number, assignees } => {
            format!("assign #{number} {}", assignees.join(","))
        }
    }
}

/// What holds the gate in the row.
fn situation(row: &Row) -> Situation {
    Situation {
        soak: row.soak_until.map(|until| Soak {
            arrived: Some(until),
            lasts: Some(Duration::zero()),
        }),
        frozen: row.frozen.map(|until| crate::freeze::Frozen {
            name: "maintenance".into(),
            reason: String::new(),
            opened: at(0, 0),
            until,
        }),
        job: row.job,
        ..Situation::at(row.now)
    }
}

fn run(row: &Row) -> Decision {
    let spec = spec();
    let gate = test_support::gate(&spec, row.requester);
    let unknown_requester = row
        .requester
        .filter(|_| row.unknown_requester)
        .map(Login::new);
    let mut unresolved: BTreeMap<Login, String> = row
        .unresolved
        .iter()
        .map(|s| (Login::new(s), "GitHub denied access".to_string()))
        .collect();
    if let Some(login) = &unknown_requester {
        unresolved.insert(login.clone(), "names no GitHub account".into());
    }
    let people = People {
        authorized: row.team_members.iter().map(|s| Login::new(s)).collect(),
        unresolved,
        memberships: row.memberships.clone(),
        requester: match row.sealed_for {
            Some((login, id)) => Some(Identity {
                login: login.into(),
                id,
            }),
            None => row
                .requester
                .zip(row.requester_id)
                .map(|(login, id)| Identity {
                    login: login.into(),
                    id,
                }),
        },
        sealed_requesters: row.sealed_requesters.iter().copied().collect(),
        unknown_requester,
        ignored_requester: row.sealed_for.and(row.requester).map(Login::new),
    };
    let identity = bot();
    let read = row.issue.clone().map(|issue| IssueRead {
        issue,
        comments: row.comments.clone(),
        events: row.events.clone(),
        deletions: row.deletions.clone(),
        text_edit: row.text_edit.clone(),
        more_deletions: row.more_deletions,
    });
    let verdict = marker::written_verdict(&row.comments, &identity, KEY);
    let duplicates: Vec<&Issue> = row.duplicates.iter().collect();
    let superseded: Vec<(&Issue, &str)> = row
        .superseded
        .iter()
        .map(|(i, k)| (i, k.as_str()))
        .collect();
    let other_reads: Vec<IssueRead> = row
        .others
        .iter()
        .map(|(issue, events)| IssueRead {
            issue: issue.clone(),
            comments: Vec::new(),
            events: events.clone(),
            deletions: row.others_deleted.clone(),
            text_edit: None,
            more_deletions: false,
        })
        .collect();
    let others: Vec<&IssueRead> = other_reads.iter().collect();
    let observed = Observed {
        identity: &identity,
        issue: read.as_ref(),
        binding: row.binding.as_ref(),
        adopt: false,
        verdict: verdict.as_ref(),
        tampering: &row.tampering,
        blocked: row.blocked,
        duplicates: &duplicates,
        superseded: &superseded,
        retired: &row.retired,
        people: &people,
        others: &others,
        earlier: None,
        complete: !row.listing,
        change: row.change.as_ref(),
    };
    decide_observed(
        &gate,
        &Recorded::for_key(row.recorded.clone(), &gate.key),
        &row.policy,
        &situation(row),
        &observed,
        &["release-gate".to_string()],
    )
}

fn table() -> Vec<Row> {
    [
        answers::rows(),
        change::rows(),
        edits::rows(),
        escalate::rows(),
        freeze::rows(),
        holds::rows(),
        listing::rows(),
        remind::rows(),
        retire::rows(),
        rules::rows(),
    ]
    .into_iter()
    .flatten()
    .collect()
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
            || d.hold.is_some() != row.held
            || d.tampering.len() != row.tampered
        {
            failures.push(format!(
                "{}: got {:?} {approvers:?} {actions:?} held {:?} tampering {:?}, want {:?} {:?} {:?} held {} tampering {}",
                row.name, d.state, d.hold, d.tampering, row.state, row.approvers, row.actions, row.held, row.tampered
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
