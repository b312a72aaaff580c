//! A verdict the function wrote on the issue, read back: after a lost status write, or
//! when the gate switched back to an artifact it approved before. It stands, dated as
//! written, and an approval passes the holds again at the moment its Job would start.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Utc};

use crate::freeze::Frozen;
use crate::gate::issue;
use crate::gate::marker;
use crate::gate::model::{Action, Decision, Gate, Hold, IssueRead, Recorded};
use crate::gate::policy::Policy;
use crate::gate::situation::Situation;
use crate::xr::gate::{Approval, GateState, Via};

use super::{Observed, actions};

/// A verdict the function wrote, as read back.
pub(super) struct Written<'v> {
    pub(super) state: GateState,
    pub(super) approvals: &'v [Approval],
    pub(super) decided_at: Option<DateTime<Utc>>,
}

/// The verdict the function wrote on the chosen issue, read back (the status write was
/// lost, or the gate switched back to this artifact): it stands, dated as written. An
/// approval passes the holds again at the moment its Job would start, like an automatic
/// promotion: the artifact's soak, and a freeze window (only an override given inside
/// that window counts). Reused for a gate that switched back, it says so in the status and,
/// once, on the issue.
#[allow(clippy::too_many_arguments)]
pub(super) fn written(
    mut decision: Decision,
    gate: &Gate,
    recorded: &Recorded,
    policy: &Policy,
    situation: &Situation,
    observed: &Observed<'_>,
    chosen: &IssueRead,
    verdict: Written<'_>,
) -> Decision {
    decision.state = verdict.state;
    decision.approvals = verdict.approvals.to_vec();
    decision.decided_at = match verdict.state {
        // Verdicts written before the time was recorded: when the quorum was reached.
        GateState::Approved => verdict
            .decided_at
            .or(quorum_time(verdict.approvals, policy.min_approvals)),
        GateState::Timeout => Some(decision.deadline),
        _ => verdict.decided_at.or(chosen.issue.closed_at),
    };
    actions::close_with(&mut decision, &chosen.issue);
    // As they were recorded before the verdict: the reminders posted, the escalation.
    decision.reminders = super::remind::posted(chosen, observed.identity, gate.key.as_str());
    let by = decision.decided_at.unwrap_or(situation.now);
    decision.escalated_at = super::escalate::time(policy, Some(&chosen.issue), decision.deadline)
        .filter(|at| *at <= by);
    if verdict.state != GateState::Approved {
        return decision;
    }
    let key = gate.key.as_str();
    let overridden = |f: &Frozen| {
        verdict
            .approvals
            .iter()
            .any(|a| a.via == Via::OverrideFreeze && a.at >= f.opened)
    };
    let hold = match (situation.soaking(decision.start), situation.frozen()) {
        (Some(until), _) => Some(Hold::Soaking { until }),
        (None, Some(f)) if !overridden(f) => Some(Hold::Frozen {
            window: f.clone(),
            overridable: false,
        }),
        _ => None,
    };
    if let Some(hold) = hold {
        decision.state = GateState::Pending;
        decision.decided_at = None;
        decision.hold = Some(hold);
    } else if let Some(at) = decision.decided_at {
        // It takes effect once its soak is over and the windows that held it closed.
        let soaked = situation.soak.map(|s| s.until(decision.start));
        decision.decided_at = Some(situation.released_at(soaked.map_or(at, |s| at.max(s))));
    }
    let reused_before = marker::reused(&chosen.comments, observed.identity, key);
    if recorded.other_key().is_some() || reused_before {
        for approval in &mut decision.approvals {
            if approval.via != Via::OverrideFreeze {
                approval.via = Via::Reused;
            }
        }
        if !reused_before {
            decision.actions.push(Action::Comment {
                number: chosen.issue.number,
                body: issue::reused_comment(key, situation.now),
            });
        }
    }
    decision
}

/// When the quorum was reached: the time of the approval that completed it.
fn quorum_time(approvals: &[Approval], needed: u32) -> Option<DateTime<Utc>> {
    let mut times: Vec<DateTime<Utc>> = approvals.iter().map(|a| a.at).collect();
    times.sort();
    times
        .get((needed.max(1) as usize).saturating_sub(1))
        .or(times.last())
        .copied()
}
