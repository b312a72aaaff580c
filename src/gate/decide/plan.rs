//! What a gate can be told before GitHub is read ([`plan`]), and what an approval does
//! once it takes effect: its Job, and the record on the issue that the Job started.
//!
//! Pure: no I/O, no clock.

use crate::gate::issue;
use crate::gate::marker;
use crate::gate::model::{Action, Decision, Gate, Hold, IssueRead, Promotion, Recorded};
use crate::gate::policy::Policy;
use crate::gate::situation::{JobSeen, Situation};
use crate::xr::gate::GateState;

use super::Observed;

/// What the gate needs before it can be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Decided without GitHub: a verdict recorded for this key, an automatic approval, or a
    /// gate that timed out waiting for its source.
    Settled(Decision),
    /// Pending, held by something answers cannot change; GitHub is not read.
    Held(Decision),
    /// Approved by policy while an approval issue was recorded for it: its open issues are
    /// closed (the approval does not wait on that).
    Retire(Decision),
    /// The answers on GitHub decide.
    ReadGitHub,
}

/// What the gate can be told without GitHub.
pub fn plan(gate: &Gate, recorded: &Recorded, policy: &Policy, situation: &Situation) -> Plan {
    let now = situation.now;
    // A verdict recorded for this key stands, whatever happened to the source since; but
    // the status is a cache: an approval whose Job has not been seen yet is confirmed on
    // GitHub before its Job is first rendered.
    if let Some(state) = recorded.verdict() {
        let mut decision = Decision::recorded(gate, recorded, now);
        decision.automatic = state == GateState::Approved
            && decision.issue.is_none()
            && !policy.needs_approval(&gate.spec);
        if state == GateState::Approved {
            match (situation.job, recorded.promotion_started()) {
                (JobSeen::NotConfigured, _) => {}
                (JobSeen::Observed, true) => decision.promotion = Promotion::Run,
                (JobSeen::Absent, true) => decision.promotion = Promotion::Spent,
                // An automatic approval has nothing on GitHub to back it: before its Job
                // first runs, it passes its holds again (the status may have been written
                // by anyone who can write it), and is dated when it takes effect, not by
                // the time the status says (the next environment's soak counts from it).
                (_, false) if decision.automatic => {
                    let pending = Decision::pending(decision.start, decision.deadline);
                    if let Some(waiting) = &situation.waiting_for_source {
                        let hold = Some(Hold::WaitingForSource {
                            holds: waiting.holds.clone(),
                        });
                        return Plan::Held(Decision { hold, ..pending });
                    }
                    return automatic(gate, recorded, situation, pending);
                }
                (_, false) => return Plan::ReadGitHub,
            }
        }
        return Plan::Settled(decision);
    }
    let pending = Decision::recorded(gate, recorded, now);
    // Waiting for its artifact to reach the source, without GitHub; its deadline runs
    // meanwhile, and past it the gate has timed out.
    if let Some(waiting) = &situation.waiting_for_source {
        let hold = Some(Hold::WaitingForSource {
            holds: waiting.holds.clone(),
        });
        if now >= pending.deadline {
            return Plan::Settled(Decision {
                state: GateState::Timeout,
                decided_at: Some(pending.deadline),
                hold,
                ..pending
            });
        }
        return Plan::Held(Decision { hold, ..pending });
    }
    // Without the tenant's pipeline, the Input's defaults would apply: no progression,
    // soak or freeze window. The Input can make such a gate wait instead.
    if policy.missing_pipeline {
        return Plan::Held(Decision {
            hold: Some(Hold::MissingPipeline),
            ..pending
        });
    }
    if !policy.needs_approval(&gate.spec) {
        return automatic(gate, recorded, situation, pending);
    }
    // Without a known requester, anyone who may approve could be approving their own
    // request: the Input can make such a gate wait, without asking on GitHub.
    if policy.require_requester && gate.requester.is_none() {
        return Plan::Held(Decision {
            hold: Some(Hold::MissingRequester),
            ..pending
        });
    }
    Plan::ReadGitHub
}

/// An automatic promotion: it waits out the artifact's soak and any freeze window
/// (nobody can override one: it has no issue to answer in), then is approved now.
fn automatic(gate: &Gate, recorded: &Recorded, situation: &Situation, pending: Decision) -> Plan {
    if let Some(until) = situation.soaking(pending.start) {
        return Plan::Held(Decision {
            hold: Some(Hold::Soaking { until }),
            ..pending
        });
    }
    if let Some(window) = situation.frozen() {
        return Plan::Held(Decision {
            hold: Some(Hold::Frozen {
                window: window.clone(),
                overridable: false,
            }),
            ..pending
        });
    }
    let start = pending.start;
    let decision = Decision {
        state: GateState::Approved,
        // Approved now (it may have waited for its source or its soak since it started),
        // so that the pipeline dates the artifact's arrival right.
        decided_at: Some(situation.now),
        automatic: true,
        promotion: promotion(situation, recorded.promotion_started()),
        ..Decision::pending(start, gate.deadline(start))
    };
    // An approval issue recorded for this key, or for an earlier artifact of the XR, may
    // still be open: closed, so nobody answers a request that no longer exists.
    match recorded.any_issue() {
        Some(_) => Plan::Retire(decision),
        None => Plan::Settled(decision),
    }
}

/// What becomes of the Job of an approval that passed its holds: none without a
/// promotion configured; kept while Crossplane observes it; never rendered again once the
/// key's promotion started (`started`) and its Job is gone; else rendered.
pub(super) fn promotion(situation: &Situation, started: bool) -> Promotion {
    match situation.job {
        JobSeen::NotConfigured => Promotion::None,
        JobSeen::Observed => Promotion::Run,
        JobSeen::Absent if started => Promotion::Spent,
        JobSeen::Absent => Promotion::Run,
    }
}

/// An approval as it takes effect: its Job, and on the issue the record that the key's
/// Job started (once, when Crossplane first observes it), so that a lost status never
/// starts it twice.
pub(super) fn take_effect(
    decision: &mut Decision,
    gate: &Gate,
    recorded: &Recorded,
    situation: &Situation,
    observed: &Observed<'_>,
    chosen: &IssueRead,
) {
    let on_issue = marker::started(&chosen.comments, observed.identity, gate.key.as_str());
    decision.promotion = promotion(situation, on_issue || recorded.promotion_started());
    if situation.job == JobSeen::Observed && !on_issue {
        let job = crate::names::job_name(&gate.spec.tenant, gate.key.short());
        let at = recorded
            .promotion()
            .and_then(|p| p.started_at)
            .unwrap_or(situation.now);
        decision.actions.push(Action::Comment {
            number: chosen.issue.number,
            body: issue::started_comment(gate.key.as_str(), &job, at),
        });
    }
}
