//! The selection table: which issue holds a gate, from the issues as read.

use super::*;
use crate::gate::issue;
use crate::gate::key::GateKey;
use crate::gate::test_support::{self, BOT, KEY, UID, at, issue, spec};
use crate::github::fake::user_id;
use crate::github::{CloseReason, Comment, EventKind, IssueEvent};
use crate::xr::gate::GateState;

const OTHER_KEY: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

fn gate_spec() -> crate::xr::gate::GateSpec {
    spec()
}

fn comment(id: u64, author: &str, body: String, when: DateTime<Utc>) -> Comment {
    Comment {
        id,
        author_id: user_id(author),
        author: author.into(),
        body,
        created_at: when,
        updated_at: when,
    }
}

/// The binding comment the function posts for `key` and `uid`.
fn bind(id: u64, key: &str, uid: &str) -> Comment {
    let spec = gate_spec();
    let gate = Gate {
        spec,
        key: GateKey::from_recorded(key),
        namespace: "platform-system".into(),
        name: "gate".into(),
        uid: uid.into(),
        requester: None,
    };
    comment(
        id,
        BOT,
        issue::binding_comment(
            &gate,
            &Binding::of(&gate, at(0, 0), at(0, 0) + TimeDelta::hours(24)),
        ),
        at(0, 0),
    )
}

fn read(issue: Issue, comments: Vec<Comment>) -> IssueRead {
    IssueRead {
        issue,
        comments,
        events: Vec::new(),
        deletions: Vec::new(),
        text_edit: None,
        more_deletions: false,
    }
}

fn choose(reads: &[IssueRead], recorded: Option<u64>, now: DateTime<Utc>) -> Selection {
    choose_under(reads, recorded, now, Seal::default())
}

/// Chooses with the gate asked under `seal` now.
fn choose_under(
    reads: &[IssueRead],
    recorded: Option<u64>,
    now: DateTime<Utc>,
    seal: Seal,
) -> Selection {
    let spec = gate_spec();
    let gate = test_support::gate(&spec, None);
    let adoption = Adoption {
        recorded_start: None,
        now,
        timeout: TimeDelta::hours(24),
        seal,
    };
    let identity = Identity {
        login: BOT.into(),
        id: user_id(BOT),
    };
    select(
        &gate,
        &identity,
        reads,
        &Vec::from_iter(recorded),
        &adoption,
    )
}

#[test]
fn the_binding_not_the_body_says_which_gate_an_issue_belongs_to() {
    // #1 is this gate's, though someone rewrote its body to name another key; #2 is an
    // old issue of another XR whose body someone rewrote to name this key.
    let mut rekeyed = issue(1, OTHER_KEY);
    rekeyed.body = format!("<!-- release-gate:key={OTHER_KEY} -->");
    let reads = [
        read(rekeyed, vec![bind(1, KEY, UID)]),
        read(
            issue(2, KEY),
            vec![
                bind(2, OTHER_KEY, "another-uid"),
                comment(3, "alice", "/approve".into(), at(0, 5)),
            ],
        ),
    ];
    let s = choose(&reads, Some(1), at(1, 0));
    assert_eq!(s.chosen, Some(0));
    assert!(!s.adopt && !s.blocked);
    assert!(s.duplicates.is_empty() && s.superseded.is_empty());
    assert_eq!(s.tampering.len(), 1, "{:?}", s.tampering);
    assert!(s.tampering[0].contains("#2"), "{:?}", s.tampering);
}

#[test]
fn an_issue_that_lost_its_binding_is_not_followed_and_blocks_the_key() {
    let reads = [read(
        issue(1, KEY),
        vec![comment(3, "alice", "/reject".into(), at(0, 5))],
    )];
    let s = choose(&reads, Some(1), at(1, 0));
    assert_eq!(s.chosen, None);
    assert!(s.blocked);
    assert!(s.tampering[0].contains("#1 lost"), "{:?}", s.tampering);

    // An edited binding is no binding.
    let mut edited = bind(1, KEY, UID);
    edited.updated_at = at(0, 3);
    let reads = [read(issue(1, KEY), vec![edited])];
    let s = choose(&reads, Some(1), at(1, 0));
    assert_eq!((s.chosen, s.blocked), (None, true));
}

#[test]
fn an_unbound_issue_never_answered_nor_recorded_is_adopted_from_its_creation() {
    let reads = [read(issue(1, KEY), vec![])];
    let young = choose(&reads, None, at(0, 5));
    assert_eq!((young.chosen, young.adopt), (Some(0), true));
    let binding = young.binding.unwrap();
    assert_eq!((binding.key.as_str(), binding.start), (KEY, at(0, 0)));
    assert_eq!(binding.deadline, at(0, 0) + TimeDelta::hours(24));
    // An older one, never answered and never recorded, too (its events decide whether it
    // has a history).
    let old = choose(&reads, None, at(5, 0));
    assert_eq!((old.chosen, old.adopt), (Some(0), true));
    // A closed one, or one the status recorded, lost its binding: it blocks the key.
    let mut closed = issue(1, KEY);
    closed.state = IssueState::Closed;
    let s = choose(&[read(closed, vec![])], None, at(0, 5));
    assert_eq!((s.chosen, s.blocked), (None, true));
    let s = choose(&reads, Some(1), at(0, 5));
    assert_eq!(
        (s.chosen, s.blocked),
        (None, true),
        "recorded, then unbound"
    );
    // A bound issue is preferred to a lower-numbered one waiting to be adopted.
    let reads = [
        read(issue(1, KEY), vec![]),
        read(issue(2, KEY), vec![bind(1, KEY, UID)]),
    ];
    let s = choose(&reads, None, at(0, 5));
    assert_eq!((s.chosen, s.adopt), (Some(1), false));
    assert_eq!(s.duplicates, vec![0]);
}

#[test]
fn only_this_xr_s_own_older_requests_are_superseded() {
    let reads = [
        read(issue(1, OTHER_KEY), vec![bind(1, OTHER_KEY, UID)]),
        read(
            issue(2, OTHER_KEY),
            vec![bind(2, OTHER_KEY, "other-cluster-uid")],
        ),
        read(issue(3, KEY), vec![bind(3, KEY, UID)]),
    ];
    let s = choose(&reads, None, at(1, 0));
    assert_eq!(s.chosen, Some(2));
    assert_eq!(s.superseded, vec![(0, OTHER_KEY.to_owned())]);
    assert!(s.tampering.is_empty(), "{:?}", s.tampering);
}

#[test]
fn a_written_verdict_wins_then_the_lowest_live_number_and_the_rest_are_duplicates() {
    let verdict = comment(
        9,
        BOT,
        issue::verdict_comment(KEY, GateState::Rejected, &[], None, at(23, 0), 1, None),
        at(2, 0),
    );
    let mut decided = issue(4, KEY);
    decided.state = IssueState::Closed;
    decided.state_reason = Some(CloseReason::NotPlanned);
    let retired = comment(8, BOT, issue::duplicate_comment(KEY, 4), at(2, 0));
    let reads = [
        read(issue(2, KEY), vec![bind(1, KEY, UID), retired]),
        read(issue(3, KEY), vec![bind(2, KEY, UID)]),
        read(decided, vec![bind(3, KEY, UID), verdict]),
    ];
    let s = choose(&reads, None, at(3, 0));
    assert_eq!(s.chosen, Some(2));
    assert_eq!(s.duplicates, vec![0, 1]);
    assert_eq!(s.retired, BTreeSet::from([2]));

    // Without the verdict, the lowest number not retired.
    let s = choose(&reads[..2], None, at(3, 0));
    assert_eq!(s.chosen, Some(1));
    assert_eq!(s.duplicates, vec![0]);
}

#[test]
fn issues_someone_else_opened_are_never_read() {
    let mut forged = issue(1, KEY);
    forged.author = "mallory".into();
    forged.author_id = user_id("mallory");
    let reads = [read(forged, vec![bind(1, KEY, UID)])];
    let s = choose(&reads, None, at(1, 0));
    assert_eq!(s, Selection::default());
}

#[test]
fn an_unbound_issue_with_a_history_is_not_adopted_and_blocks_the_key() {
    let with_events = |events: Vec<IssueEvent>| {
        [IssueRead {
            events,
            ..read(issue(1, KEY), vec![])
        }]
    };
    let s = choose(&with_events(vec![]), None, at(0, 5));
    assert!(s.adopt && s.chosen == Some(0), "no history: adopted");
    // GitHub records the labels and assignees an issue is opened with as events.
    let labeled = IssueEvent {
        id: 1,
        kind: EventKind::Other("labeled".into()),
        actor_id: Some(user_id(BOT)),
        actor: Some(BOT.into()),
        created_at: at(0, 0),
        state_reason: None,
        commit_id: None,
    };
    let s = choose(&with_events(vec![labeled]), None, at(0, 5));
    assert!(s.adopt, "labels and assignees are no history");
    let reopened = IssueEvent {
        id: 1,
        kind: EventKind::Reopened,
        actor_id: Some(user_id("mallory")),
        actor: Some("mallory".into()),
        created_at: at(0, 4),
        state_reason: None,
        commit_id: None,
    };
    let s = choose(&with_events(vec![reopened]), None, at(0, 5));
    assert_eq!((s.chosen, s.adopt, s.blocked), (None, false, true));
    assert!(s.tampering[0].contains("never bound"), "{:?}", s.tampering);
}

#[test]
fn an_issue_the_function_closed_without_its_verdict_blocks_the_key() {
    // Superseded or decided once, then someone deleted the function's comment saying so:
    // the old answers there must not count again.
    let mut closed = issue(1, KEY);
    closed.state = IssueState::Closed;
    let by_function = IssueEvent {
        id: 1,
        kind: EventKind::Closed,
        actor_id: Some(user_id(BOT)),
        actor: Some(BOT.into()),
        created_at: at(2, 0),
        state_reason: Some(CloseReason::NotPlanned),
        commit_id: None,
    };
    let reads = [IssueRead {
        events: vec![by_function],
        ..read(
            closed,
            vec![
                bind(1, KEY, UID),
                comment(2, "alice", "/approve".into(), at(1, 0)),
            ],
        )
    }];
    let s = choose(&reads, None, at(3, 0));
    assert_eq!((s.chosen, s.blocked), (None, true));
    assert!(s.tampering[0].contains("#1 lost"), "{:?}", s.tampering);
}

#[test]
fn a_request_asked_under_another_policy_is_retired_unless_it_needs_nothing_more() {
    let sealed = |id: u64, policy: &str| {
        let mut c = bind(id, KEY, UID);
        c.body = c.body.replace(" -->", &format!(" policy={policy} -->"));
        c
    };
    let now_sealed = Seal {
        digest: "aaaaaaaaaaaaaaaa".into(),
        runs_promotion: true,
    };
    // #1 asks under another policy, #2 under this one.
    let reads = [
        read(issue(1, KEY), vec![sealed(1, "bbbbbbbbbbbbbbbb")]),
        read(issue(2, KEY), vec![sealed(2, "aaaaaaaaaaaaaaaa")]),
    ];
    let s = choose_under(&reads, None, at(1, 0), now_sealed.clone());
    assert_eq!(s.chosen, Some(1));
    assert_eq!(
        s.superseded,
        vec![(0, KEY.to_owned())],
        "retired, then asked again"
    );
    assert!(s.duplicates.is_empty());
    // Alone, it holds nothing: the gate opens a new request.
    let s = choose_under(&reads[..1], None, at(1, 0), now_sealed.clone());
    assert_eq!(s.chosen, None);
    assert!(!s.blocked);
    // A rejection written on it stands.
    let verdict = issue::verdict_comment(
        KEY,
        GateState::Rejected,
        &[],
        None,
        at(1, 0),
        1,
        Some(at(0, 30)),
    );
    let mut rejected = read(
        issue(1, KEY),
        vec![
            sealed(1, "bbbbbbbbbbbbbbbb"),
            comment(2, BOT, verdict, at(0, 30)),
        ],
    );
    rejected.issue.state = IssueState::Closed;
    let s = choose_under(&[rejected], None, at(1, 0), now_sealed);
    assert_eq!(s.chosen, Some(0));
    assert!(matches!(
        s.verdict,
        Some(WrittenVerdict::Decided(GateState::Rejected, ..))
    ));
}
