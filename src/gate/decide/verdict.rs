//! The verdict from the answers on the chosen issue, when the function has written none
//! there yet: counted from the issue's last restoration, held by what may have been a
//! veto, dated by the decision.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Utc};

use crate::xr::gate::{GateState, rfc3339};

use crate::gate::change::ChangeRead;
use crate::gate::model::{Decision, Gate, Hold, IssueRead};
use crate::gate::policy::Policy;
use crate::gate::situation::Situation;

use super::judge::{Answers, Elsewhere, Judge};
use super::{BLOCKED, Observed, actions, text};

/// No verdict of the function on the chosen issue: the answers there decide, counted
/// from the issue's last restoration (or the last deletion of a record of the function),
/// and a text someone changed is restored.
#[allow(clippy::too_many_arguments)]
pub(super) fn answered(
    gate: &Gate,
    policy: &Policy,
    situation: &Situation,
    observed: &Observed<'_>,
    chosen: &IssueRead,
    text: Option<text::Text>,
    elsewhere: Elsewhere,
    mut decision: Decision,
    start: DateTime<Utc>,
) -> Decision {
    let now = situation.now;
    let (restore, restored) = match text {
        Some(t) => {
            decision.tampering.extend(t.changes);
            (t.restore.map(|r| (r, t.quiet, t.relist)), t.approvals_after)
        }
        None => (None, None),
    };
    // A record of the function deleted from the issue, or edited, may have been a
    // restoration (or anything else it wrote): approvals before count no more.
    let lost = text::own_records_lost(chosen, observed.identity);
    // (An edited one is said where it is found.)
    if let Some(at) = text::own_deleted(chosen, observed.identity) {
        decision.tampering.push(format!(
            "a comment of the function on issue #{} was deleted at {}; approvals given before then no longer count",
            chosen.issue.number,
            rfc3339(at)
        ));
    }
    let approvals_after = restored.max(lost);
    let judge = Judge::new(
        gate,
        policy,
        observed.identity,
        observed.people,
        (start, decision.deadline, now),
        &chosen.issue,
    )
    .approvals_after(approvals_after)
    .excluding_change_authors(change_authors(policy, observed))
    .escalated_from(super::escalate::time(
        policy,
        Some(&chosen.issue),
        decision.deadline,
    ));
    let mut answers = judge.count(chosen);
    if let Some(veto) = elsewhere.veto
        && answers.rejection.as_ref().is_none_or(|r| veto.at < r.at)
    {
        answers.rejection = Some(veto);
    }
    answers.held = answers.held.or(elsewhere.held);
    let mut decision = verdict(
        gate, policy, situation, observed, chosen, &judge, answers, decision,
    );
    if let Some(written) = restore {
        text::restore(&mut decision, gate, &chosen.issue, written, now);
    }
    let asked = (policy, situation);
    super::remind::remind(gate, asked, observed.identity, chosen, &mut decision);
    super::escalate::escalate(gate, asked, observed.identity, chosen, &mut decision);
    decision
}

/// The gate's state from the answers: one rejection vetoes; approved once every rule is
/// met, nothing holds it (an edited answer, a lost binding, an unresolved lookup, the
/// artifact's soak, a freeze window nobody allowed overrode); timed out past the deadline.
#[allow(clippy::too_many_arguments)]
fn verdict(
    gate: &Gate,
    policy: &Policy,
    situation: &Situation,
    observed: &Observed<'_>,
    chosen: &IssueRead,
    judge: &Judge<'_>,
    answers: Answers,
    mut decision: Decision,
) -> Decision {
    let blocked = observed.blocked;
    let now = situation.now;
    let Answers {
        mut approvals,
        rejection,
        held,
        tampering,
        last_close,
    } = answers;
    decision.tampering.extend(tampering);
    let escalated = |a: &crate::xr::gate::Approval| judge.escalated(&a.login, a.at);
    let rules = crate::gate::rules::count(policy, &mut approvals, observed.people, escalated);
    let met_at = crate::gate::rules::met_at(&rules);
    // The artifact's soak in its source: approvals count, the gate does not approve yet.
    let soaking = situation.soaking(decision.start);
    // A freeze window for the target: likewise, unless someone allowed overrides it.
    let frozen = situation.frozen();
    let overridden = frozen.zip(met_at).and_then(|(f, approved_at)| {
        judge.override_of(f, approved_at.max(f.opened), &chosen.comments)
    });
    let unresolved = observed.people.unresolved.iter().next();
    let unreadable = change_unreadable(policy, observed);
    decision.state = if rejection.is_some() {
        GateState::Rejected
    } else if met_at.is_some()
        && held.is_none()
        && unreadable.is_none()
        && !blocked
        && unresolved.is_none()
        && soaking.is_none()
        && (frozen.is_none() || overridden.is_some())
    {
        GateState::Approved
    } else if now >= decision.deadline {
        GateState::Timeout
    } else {
        GateState::Pending
    };
    if decision.state == GateState::Pending {
        decision.hold = match held {
            Some(why) => Some(Hold::Pending(why)),
            None if blocked => Some(Hold::Tampered(BLOCKED.to_owned())),
            None if unreadable.is_some() => unreadable.map(Hold::ChangeUnreadable),
            None if met_at.is_some() => unresolved
                .map(|(login, why)| {
                    Hold::Pending(format!(
                        "approval is held: GitHub could not say whether {login} may answer ({why}); asked again next poll"
                    ))
                })
                .or_else(|| soaking.map(|until| Hold::Soaking { until }))
                .or_else(|| {
                    frozen.map(|f| Hold::Frozen {
                        window: f.clone(),
                        overridable: true,
                    })
                }),
            None => None,
        };
    }
    decision.decided_at = match decision.state {
        // Approved when the rules were met, or when the soak that held it ended, or when
        // it was let through a window; one a window held is dated at the window's end.
        GateState::Approved => met_at.map(|quorum| {
            let soaked = situation.soak.map(|s| s.until(decision.start));
            let at = soaked.map_or(quorum, |s| quorum.max(s));
            match &overridden {
                Some(o) => at.max(o.entry.at),
                None => situation.released_at(at),
            }
        }),
        GateState::Rejected => rejection.as_ref().map(|r| r.at),
        GateState::Timeout => Some(decision.deadline),
        GateState::Pending => None,
    };
    decision.approvals = approvals;
    decision.rejection = rejection;
    if let (GateState::Approved, Some(o)) = (decision.state, overridden) {
        decision.approvals.push(o.entry);
        decision.freeze_override = Some(o.message);
    }
    if !policy.rules.is_empty() {
        decision.progress = rules;
    }
    let needed = policy.min_approvals.max(1);
    let key = gate.key.as_str();
    if decision.state.is_terminal() {
        actions::conclude(&mut decision, key, &chosen.issue, needed);
    } else if let Some(close) = last_close {
        // Still closed by a person: reopen it, saying once why the close did or did not
        // count; a closer whose closes keep not counting is reopened a few times only.
        let closes = chosen
            .events
            .iter()
            .filter(|e| e.kind == crate::github::EventKind::Closed)
            .filter(|e| {
                e.actor
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&close.closer))
            })
            .count();
        actions::reopen(
            &mut decision,
            key,
            (&chosen.issue, &chosen.comments, closes),
            observed.identity,
            close,
            needed,
        );
    }
    decision
}

/// The accounts that may not approve because they wrote or committed the change, when the
/// pipeline keeps them from it.
fn change_authors(policy: &Policy, observed: &Observed<'_>) -> Vec<u64> {
    match observed.change {
        Some(ChangeRead::Read(view)) if policy.exclude_change_authors => {
            view.people().into_keys().collect()
        }
        _ => Vec::new(),
    }
}

/// Why the gate cannot be approved for its change: its authors may not approve, and
/// nobody can tell them all (the change unread, or longer than the function reads).
fn change_unreadable(policy: &Policy, observed: &Observed<'_>) -> Option<String> {
    if !policy.exclude_change_authors {
        return None;
    }
    match observed.change {
        Some(change) => change.whole().err(),
        None => Some(
            "the gate names no change (spec.change), so nobody can tell who wrote what it promotes"
                .to_owned(),
        ),
    }
}
