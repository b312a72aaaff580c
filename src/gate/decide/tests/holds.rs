//! Holds: what keeps a gate from approving whatever its answers (soak, waiting for its
//! source, freeze, a missing requester), and every path to approval, at the plan and the
//! decision.

use super::*;
use crate::gate::model::Promotion;
use crate::gate::situation::{JobSeen, WaitingForSource};
use crate::names::Reason;

pub(super) fn rows() -> Vec<Row> {
    vec![
        Row {
            soak_until: Some(at(8, 0)),
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            approvers: vec!["alice"],
            held: true,
            ..row(
                "the approvals are in while the artifact soaks: pending, held, no verdict written",
            )
        },
        Row {
            soak_until: Some(at(5, 0)),
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("once the soak is over the same answers approve")
        },
        Row {
            soak_until: Some(at(8, 0)),
            comments: vec![comment(1, "bob", "/reject", at(1, 0))],
            state: GateState::Rejected,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("a rejection during the soak rejects at once")
        },
    ]
}

#[test]
fn the_soak_hold_is_its_own_reason_and_names_its_end() {
    let mut soaking = row("soaking");
    soaking.soak_until = Some(at(8, 0));
    soaking.comments = vec![comment(1, "alice", "/approve", at(1, 0))];
    let hold = run(&soaking).hold.expect("held while soaking");
    assert_eq!(hold.reason(), crate::names::Reason::Soaking);
    assert_eq!(
        hold,
        Hold::Soaking { until: at(8, 0) },
        "it names the soak's end"
    );
}

/// What the plan must say.
#[derive(Debug, PartialEq)]
enum Want {
    /// Settled without GitHub, in this state, held (when waiting) for this reason.
    Settled(GateState, Option<Reason>),
    /// Held without GitHub for this reason.
    Held(Reason),
    /// Approved by policy, its recorded issue to be retired.
    Retire,
    /// The answers on GitHub decide.
    ReadGitHub,
}

/// One situation before GitHub is read, and what the plan must say.
struct PlanRow {
    name: &'static str,
    recorded: GateStatus,
    /// The pipeline's rule is automatic and the gate does not ask for approval.
    automatic: bool,
    /// Progression: the artifact is not in the source, which holds this.
    waiting: Option<Option<&'static str>>,
    soak_until: Option<DateTime<Utc>>,
    frozen: Option<DateTime<Utc>>,
    requester: Option<&'static str>,
    require_requester: bool,
    /// The Input requires the tenant's pipeline, and the namespace has none.
    missing_pipeline: bool,
    /// The key's Job as Crossplane sees it.
    job: JobSeen,
    now: DateTime<Utc>,
    want: Want,
    /// What becomes of the Job, when settled.
    promotes: Promotion,
}

fn plan_row(name: &'static str, want: Want) -> PlanRow {
    PlanRow {
        name,
        recorded: GateStatus::default(),
        automatic: false,
        waiting: None,
        soak_until: None,
        frozen: None,
        requester: Some("rita"),
        require_requester: false,
        missing_pipeline: false,
        job: JobSeen::NotConfigured,
        now: at(6, 0),
        want,
        promotes: Promotion::None,
    }
}

/// A promotion recorded as started (its Job observed) and in `state`.
fn started(state: crate::xr::gate::PromotionState) -> crate::xr::gate::PromotionStatus {
    crate::xr::gate::PromotionStatus {
        job: "my-service-promote-0123456789ab".into(),
        state,
        completed_at: None,
        started_at: Some(at(1, 0)),
    }
}

fn recorded(state: GateState, key: &str) -> GateStatus {
    GateStatus {
        gate_status: Some(state),
        gate_key: Some(key.into()),
        created_timestamp: Some(at(0, 0)),
        approval_timestamp: Some(at(1, 0)),
        ..GateStatus::default()
    }
}

fn plan_table() -> Vec<PlanRow> {
    use GateState::*;
    vec![
        PlanRow {
            ..plan_row(
                "a manual gate with nothing holding it asks GitHub",
                Want::ReadGitHub,
            )
        },
        PlanRow {
            recorded: recorded(Approved, KEY),
            ..plan_row(
                "a verdict recorded for this key is settled without GitHub",
                Want::Settled(Approved, None),
            )
        },
        PlanRow {
            recorded: recorded(Approved, KEY),
            job: JobSeen::Absent,
            ..plan_row(
                "a recorded approval whose Job was never seen is confirmed on GitHub before it runs",
                Want::ReadGitHub,
            )
        },
        PlanRow {
            recorded: recorded(Approved, KEY),
            job: JobSeen::Observed,
            ..plan_row(
                "a recorded approval whose Job Crossplane sees, its start not yet recorded, asks GitHub",
                Want::ReadGitHub,
            )
        },
        PlanRow {
            recorded: GateStatus {
                promotion: Some(started(crate::xr::gate::PromotionState::Running)),
                ..recorded(Approved, KEY)
            },
            job: JobSeen::Observed,
            promotes: Promotion::Run,
            ..plan_row(
                "a recorded approval whose Job runs and was seen keeps it without GitHub",
                Want::Settled(Approved, None),
            )
        },
        PlanRow {
            recorded: GateStatus {
                promotion: Some(started(crate::xr::gate::PromotionState::Succeeded)),
                ..recorded(Approved, KEY)
            },
            job: JobSeen::Absent,
            promotes: Promotion::Spent,
            ..plan_row(
                "a promotion that finished and whose Job is gone is never started again",
                Want::Settled(Approved, None),
            )
        },
        PlanRow {
            recorded: GateStatus {
                promotion: Some(started(crate::xr::gate::PromotionState::Running)),
                ..recorded(Approved, KEY)
            },
            job: JobSeen::Absent,
            promotes: Promotion::Spent,
            ..plan_row(
                "a Job seen before and deleted while it ran is not created again",
                Want::Settled(Approved, None),
            )
        },
        PlanRow {
            automatic: true,
            job: JobSeen::Absent,
            promotes: Promotion::Run,
            ..plan_row(
                "an automatic promotion runs its Job",
                Want::Settled(Approved, None),
            )
        },
        PlanRow {
            missing_pipeline: true,
            ..plan_row(
                "a gate without its tenant's pipeline waits when the Input requires one",
                Want::Held(Reason::MissingPipeline),
            )
        },
        PlanRow {
            missing_pipeline: true,
            recorded: GateStatus {
                promotion: Some(started(crate::xr::gate::PromotionState::Running)),
                ..recorded(Approved, KEY)
            },
            job: JobSeen::Observed,
            promotes: Promotion::Run,
            ..plan_row(
                "a gate decided before its pipeline went away stays decided",
                Want::Settled(Approved, None),
            )
        },
        // An automatic approval has nothing on GitHub to back it: one written into the
        // status passes the holds again before its Job first runs.
        PlanRow {
            automatic: true,
            recorded: recorded(Approved, KEY),
            job: JobSeen::Absent,
            frozen: Some(at(12, 0)),
            ..plan_row(
                "an automatic approval in the status waits out a freeze before its Job first runs",
                Want::Held(Reason::Frozen),
            )
        },
        PlanRow {
            automatic: true,
            recorded: recorded(Approved, KEY),
            job: JobSeen::Absent,
            waiting: Some(Some("ghcr.io/org/my-service:other")),
            ..plan_row(
                "an automatic approval in the status waits for its source before its Job first runs",
                Want::Held(Reason::WaitingForSource),
            )
        },
        PlanRow {
            automatic: true,
            recorded: recorded(Approved, KEY),
            job: JobSeen::Absent,
            soak_until: Some(at(8, 0)),
            ..plan_row(
                "an automatic approval in the status waits out the soak before its Job first runs",
                Want::Held(Reason::Soaking),
            )
        },
        PlanRow {
            automatic: true,
            recorded: GateStatus {
                promotion: Some(started(crate::xr::gate::PromotionState::Running)),
                ..recorded(Approved, KEY)
            },
            job: JobSeen::Observed,
            frozen: Some(at(12, 0)),
            promotes: Promotion::Run,
            ..plan_row(
                "an automatic promotion whose Job runs is kept through a window that opened since",
                Want::Settled(Approved, None),
            )
        },
        PlanRow {
            recorded: recorded(Rejected, KEY),
            waiting: Some(Some("ghcr.io/org/my-service:old")),
            ..plan_row(
                "a recorded verdict stands whatever happened to the source since",
                Want::Settled(Rejected, None),
            )
        },
        PlanRow {
            recorded: recorded(Approved, OLD_KEY),
            ..plan_row(
                "an approval recorded for another artifact says nothing about this one",
                Want::ReadGitHub,
            )
        },
        PlanRow {
            waiting: Some(Some("ghcr.io/org/my-service:old")),
            ..plan_row(
                "a gate whose artifact is not in its source waits without GitHub",
                Want::Held(Reason::WaitingForSource),
            )
        },
        PlanRow {
            recorded: recorded(Pending, KEY),
            waiting: Some(None),
            now: day2(1),
            ..plan_row(
                "a gate still waiting for its source at its deadline has timed out",
                Want::Settled(Timeout, Some(Reason::WaitingForSource)),
            )
        },
        PlanRow {
            automatic: true,
            waiting: Some(None),
            ..plan_row(
                "an automatic promotion waits for its source too",
                Want::Held(Reason::WaitingForSource),
            )
        },
        PlanRow {
            automatic: true,
            ..plan_row(
                "an automatic promotion with nothing holding it is approved without GitHub",
                Want::Settled(Approved, None),
            )
        },
        PlanRow {
            automatic: true,
            recorded: GateStatus {
                issue: Some(crate::xr::gate::IssueRef {
                    number: 1,
                    url: "u".into(),
                }),
                ..recorded(Pending, KEY)
            },
            ..plan_row(
                "an automatic promotion whose gate had an issue approves and retires it",
                Want::Retire,
            )
        },
        PlanRow {
            automatic: true,
            soak_until: Some(at(8, 0)),
            ..plan_row(
                "an automatic promotion waits out the artifact's soak",
                Want::Held(Reason::Soaking),
            )
        },
        PlanRow {
            automatic: true,
            frozen: Some(at(8, 0)),
            ..plan_row(
                "an automatic promotion waits out a freeze window (nobody can override it)",
                Want::Held(Reason::Frozen),
            )
        },
        PlanRow {
            automatic: true,
            soak_until: Some(at(5, 0)),
            frozen: Some(at(5, 30)),
            ..plan_row(
                "an automatic promotion approves once its soak and the window are over",
                Want::Settled(Approved, None),
            )
        },
        PlanRow {
            requester: None,
            require_requester: true,
            ..plan_row(
                "a gate without its requester waits when the Input requires one",
                Want::Held(Reason::MissingRequester),
            )
        },
        PlanRow {
            require_requester: true,
            ..plan_row(
                "a gate naming its requester asks GitHub when the Input requires one",
                Want::ReadGitHub,
            )
        },
        PlanRow {
            soak_until: Some(at(8, 0)),
            frozen: Some(at(8, 0)),
            ..plan_row(
                "a manual gate asks GitHub while it soaks or is frozen: answers count meanwhile",
                Want::ReadGitHub,
            )
        },
    ]
}

fn plan_of(row: &PlanRow) -> Plan {
    let mut spec = spec();
    spec.approval_required = !row.automatic;
    let gate = test_support::gate(&spec, row.requester);
    let policy = Policy {
        rule: if row.automatic {
            Rule::Automatic
        } else {
            Rule::Manual
        },
        require_requester: row.require_requester,
        missing_pipeline: row.missing_pipeline,
        ..policy(1)
    };
    let as_row = Row {
        soak_until: row.soak_until,
        frozen: row.frozen,
        now: row.now,
        ..super::row(row.name)
    };
    let situation = Situation {
        waiting_for_source: row.waiting.map(|holds| WaitingForSource {
            holds: holds.map(str::to_owned),
        }),
        job: row.job,
        ..situation(&as_row)
    };
    plan(
        &gate,
        &Recorded::for_key(row.recorded.clone(), &gate.key),
        &policy,
        &situation,
    )
}

#[test]
fn plan_table_every_hold_and_every_path_to_approval_before_github() {
    let mut failures = Vec::new();
    for row in plan_table() {
        let got = match plan_of(&row) {
            Plan::Settled(d) if d.promotion != row.promotes => {
                failures.push(format!(
                    "{}: the Job {:?}, want {:?}",
                    row.name, d.promotion, row.promotes
                ));
                continue;
            }
            Plan::Settled(d) => Want::Settled(d.state, d.hold.map(|h| h.reason())),
            Plan::Held(d) => match (&d.state, &d.hold) {
                (GateState::Pending, Some(h)) => Want::Held(h.reason()),
                _ => Want::ReadGitHub,
            },
            Plan::Retire(d) if d.state == GateState::Approved && d.automatic => Want::Retire,
            Plan::Retire(_) => Want::ReadGitHub,
            Plan::ReadGitHub => Want::ReadGitHub,
        };
        if got != row.want {
            failures.push(format!("{}: got {got:?}, want {:?}", row.name, row.want));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn an_automatic_promotion_is_dated_when_it_takes_effect_and_a_frozen_one_cannot_be_overridden() {
    let row = PlanRow {
        automatic: true,
        ..plan_row("dated", Want::Settled(GateState::Approved, None))
    };
    let Plan::Settled(d) = plan_of(&row) else {
        panic!("settled")
    };
    assert_eq!((d.automatic, d.decided_at), (true, Some(at(6, 0))));
    let frozen = PlanRow {
        automatic: true,
        frozen: Some(at(8, 0)),
        ..plan_row("frozen", Want::Held(Reason::Frozen))
    };
    let Plan::Held(d) = plan_of(&frozen) else {
        panic!("held")
    };
    assert!(matches!(
        d.hold,
        Some(Hold::Frozen {
            overridable: false,
            ..
        })
    ));
}

#[test]
fn an_automatic_approval_in_the_status_is_dated_when_it_takes_effect() {
    use GateState::Approved;
    // Whoever wrote the status dated it early, to shorten the next environment's soak.
    let row = PlanRow {
        automatic: true,
        recorded: recorded(Approved, KEY),
        job: JobSeen::Absent,
        ..plan_row("forged", Want::Settled(Approved, None))
    };
    match plan_of(&row) {
        Plan::Settled(d) => {
            assert_eq!(d.state, Approved);
            assert_eq!(
                d.decided_at,
                Some(row.now),
                "not the status's {:?}",
                at(1, 0)
            );
        }
        other => panic!("{other:?}"),
    }
}
