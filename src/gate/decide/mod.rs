//! The gate's decision, in two pure steps around the GitHub read:
//!
//! - [`plan`]: what the gate can be told without GitHub: a verdict recorded for its key,
//!   an automatic approval, a hold (waiting for its source, its soak or a freeze window,
//!   or for its requester), or that the answers on GitHub decide.
//! - [`decide`]: from what was read ([`Read`]), which issue holds the gate
//!   ([`select`]), what its answers say ([`judge`]), the gate's state, when
//!   it reached it, and the GitHub actions that make the issues agree ([`actions`]).
//!
//! Every rule lives here: holds and their timeouts, the dating of approvals, what a
//! written verdict still has to pass. Pure: no I/O, no clock.

pub mod actions;
mod escalate;
pub mod judge;
mod plan;
pub mod remind;
mod text;
mod verdict;
mod written;

pub use plan::{Plan, plan};

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};

use crate::github::{CloseReason, Identity, Issue};
use crate::xr::gate::{GateState, IssueRef};

use super::change::ChangeRead;
use super::issue;
use super::marker::{self, Binding, WrittenVerdict};
use super::model::{Action, Decision, Gate, Hold, IssueRead, People, Read, Recorded};
use super::policy::Policy;
use super::select::{self, Selection};
use super::situation::Situation;
use judge::{Elsewhere, Judge};

/// Which issue holds the gate, among what was read.
pub fn selection(
    gate: &Gate,
    recorded: &Recorded,
    policy: &Policy,
    read: &Read,
    now: DateTime<Utc>,
) -> Selection {
    let adoption = select::Adoption {
        recorded_start: recorded.start(),
        now,
        timeout: TimeDelta::hours(i64::from(gate.spec.timeout_hours)),
        seal: policy.seal.clone(),
    };
    select::select(
        gate,
        &read.identity,
        &read.issues,
        &read.recorded,
        &adoption,
    )
}

/// What the decision takes from what was read, once the issue that holds the gate is
/// chosen ([`select`]).
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Who the function is.
    pub identity: &'a Identity,
    /// The issue that holds the gate (the lowest-numbered live one), if any, as read.
    pub issue: Option<&'a IssueRead>,
    /// What binds it to this gate (its start and deadline), or the binding to post.
    pub binding: Option<&'a Binding>,
    /// Whether the issue is to be bound now (a call opened it, then failed).
    pub adopt: bool,
    /// The verdict the function wrote on it, as it wrote it.
    pub verdict: Option<&'a WrittenVerdict>,
    /// What someone changed that the function will not read, found while choosing.
    pub tampering: &'a [String],
    /// An issue of the function carries this key but lost its binding: no other issue is
    /// opened for the key (answers given there may have been a veto).
    pub blocked: bool,
    /// Other open issues for the same key.
    pub duplicates: &'a [&'a Issue],
    /// Open issues of this XR under an older key, with that key.
    pub superseded: &'a [(&'a Issue, &'a str)],
    /// Issues (duplicates or superseded) that already carry the function's retirement
    /// comment: a retry after a failed close only closes them.
    pub retired: &'a BTreeSet<u64>,
    /// Who may answer, as GitHub says.
    pub people: &'a People,
    /// The earliest binding of this key on a request asked under another policy seal.
    pub earlier: Option<&'a Binding>,
    /// The other issues of this key (bound to it or recorded for it): closes on them as
    /// not planned still veto.
    pub others: &'a [&'a IssueRead],
    /// Whether every issue of the function was listed to find these. Until then an issue
    /// of this key (with a veto on it) may be on a page not read yet: a verdict not
    /// written already is no approval, no issue is opened and none is retired.
    pub complete: bool,
    /// The change the gate names, as read.
    pub change: Option<&'a ChangeRead>,
}

/// Why approval is held while the repository is still being listed.
const LISTING: &str = "approval is held: the function is still listing its issues in the approvals repository (after a restart, a long history takes a few calls), and another request for this artifact may be on a page not read yet";

/// Decides the gate on what was read. `labels` go on a new issue.
pub fn decide(
    gate: &Gate,
    recorded: &Recorded,
    policy: &Policy,
    situation: &Situation,
    read: &Read,
    labels: &[String],
) -> Decision {
    let selection = selection(gate, recorded, policy, read, situation.now);
    let (duplicates, superseded) = retired_by(&selection, read);
    let chosen = selection.chosen.map(|i| read.issues[i].issue.number);
    let others: Vec<&IssueRead> = read
        .issues
        .iter()
        .filter(|r| Some(r.issue.number) != chosen)
        .filter(|r| {
            read.recorded.contains(&r.issue.number)
                || marker::binding(&r.comments, &read.identity).is_some_and(|b| gate.key.is(&b.key))
                || marker::body_key(&r.issue).is_some_and(|k| gate.key.is(&k))
        })
        .collect();
    let observed = Observed {
        identity: &read.identity,
        issue: selection.chosen.map(|i| &read.issues[i]),
        binding: selection.binding.as_ref(),
        adopt: selection.adopt,
        verdict: selection.verdict.as_ref(),
        tampering: &selection.tampering,
        blocked: selection.blocked,
        duplicates: &duplicates,
        superseded: &superseded,
        retired: &selection.retired,
        people: &read.people,
        others: &others,
        earlier: selection.earlier.as_ref(),
        complete: read.complete,
        change: read.change.as_ref(),
    };
    let mut decision = decide_observed(gate, recorded, policy, situation, &observed, labels);
    let base = situation.target_revision.as_deref();
    decision.change = (read.change.as_ref())
        .zip(gate.spec.change.as_ref())
        .map(|(read, named)| read.status(named, base));
    decision
}

/// The issues `selection` retires, as read: duplicates of the chosen one, and requests of
/// earlier artifacts (with their keys).
fn retired_by<'r>(
    selection: &'r Selection,
    read: &'r Read,
) -> (Vec<&'r Issue>, Vec<(&'r Issue, &'r str)>) {
    let duplicates = selection
        .duplicates
        .iter()
        .map(|i| &read.issues[*i].issue)
        .collect();
    let superseded = selection
        .superseded
        .iter()
        .map(|(i, key)| (&read.issues[*i].issue, key.as_str()))
        .collect();
    (duplicates, superseded)
}

/// Decides the gate on what was observed. A verdict recorded in status that GitHub does
/// not back is said, never followed.
pub fn decide_observed(
    gate: &Gate,
    recorded: &Recorded,
    policy: &Policy,
    situation: &Situation,
    observed: &Observed<'_>,
    labels: &[String],
) -> Decision {
    let gate = &as_sealed(gate, observed.people);
    let mut decision = on_github(gate, recorded, policy, situation, observed, labels);
    if let Some(state) = recorded.verdict().filter(|s| *s != decision.state)
        && state == GateState::Approved
    {
        decision.unbacked = Some(format!(
            "status.gate_status says {state} for this artifact, but no approval on GitHub backs it under the gate's current approval policy{}; nothing runs until GitHub does",
            decision
                .issue
                .as_ref()
                .map(|i| format!(" (issue #{})", i.number))
                .unwrap_or_default()
        ));
    }
    decision
}

/// The decision as GitHub says it.
fn on_github(
    gate: &Gate,
    recorded: &Recorded,
    policy: &Policy,
    situation: &Situation,
    observed: &Observed<'_>,
    labels: &[String],
) -> Decision {
    let now = situation.now;
    // The gate's start: recorded, else the one the function bound its issue to (it
    // survives a lost status write and a replaced issue), else when the key's first issue
    // was opened (one that lost its binding still dates the request), else now.
    let start = recorded
        .start()
        .or(observed.binding.map(|b| b.start))
        .or(observed.earlier.map(|b| b.start))
        .or(observed.others.iter().map(|r| r.issue.created_at).min())
        .unwrap_or(now);
    // The deadline is fixed when the gate starts: as the function's binding sealed it,
    // else as recorded; a later change of timeout_hours does not move it.
    let deadline = observed
        .binding
        .map(|b| b.deadline)
        .or(recorded.status().and_then(|s| s.timeout_at))
        .or(observed.earlier.map(|b| b.deadline))
        .unwrap_or(gate.deadline(start));
    let mut decision = Decision {
        tampering: observed.tampering.to_vec(),
        requester: observed.people.requester.clone(),
        policy_changed: observed.earlier.is_some(),
        requester_ignored: requester_ignored(observed.people),
        ..Decision::pending(start, deadline)
    };
    let mut numbers: Vec<u64> = observed
        .others
        .iter()
        .chain(observed.issue.iter())
        .map(|r| r.issue.number)
        .collect();
    numbers.sort_unstable();
    decision.issues = numbers;
    // A veto given on any issue of the key counts, whatever happened there since; an
    // edited or deleted comment there holds approval like one on the chosen issue.
    // Escalation approvers' vetoes there count from the chosen issue's escalation.
    let escalated_at = escalate::time(policy, observed.issue.map(|r| &r.issue), deadline);
    let elsewhere = observed
        .others
        .iter()
        .map(|r| {
            let times = (start, deadline, now);
            Judge::new(
                gate,
                policy,
                observed.identity,
                observed.people,
                times,
                &r.issue,
            )
            .escalated_from(escalated_at)
            .elsewhere(r)
        })
        .fold(Elsewhere::default(), |acc, e| Elsewhere {
            veto: [acc.veto, e.veto]
                .into_iter()
                .flatten()
                .min_by_key(|v| v.at),
            held: acc.held.or(e.held),
        });
    let elsewhere = Elsewhere {
        held: elsewhere
            .held
            .or((!observed.complete).then(|| LISTING.to_owned())),
        ..elsewhere
    };
    let Some(chosen) = observed.issue else {
        if let Some(veto) = elsewhere.veto {
            decision.state = GateState::Rejected;
            decision.decided_at = Some(veto.at);
            decision.rejection = Some(veto);
            return decision;
        }
        return without_issue(gate, policy, observed, decision, now, labels);
    };
    decision.issue = Some(IssueRef {
        number: chosen.issue.number,
        url: chosen.issue.html_url.clone(),
    });
    let text = observed.binding.map(|binding| {
        let bound = (binding, observed.adopt);
        text::check(gate, policy, observed, chosen, bound, labels)
    });
    adopt(gate, policy, observed, chosen, text.as_ref(), &mut decision);
    if observed.complete {
        retire_others(gate, observed, chosen.issue.number, &mut decision);
    }
    for c in marker::edited_records(&chosen.comments, observed.identity) {
        decision.tampering.push(format!(
            "the function's comment {} on issue #{} was edited; it is no longer read, and approvals given before the edit no longer count",
            c.id, chosen.issue.number
        ));
    }
    let mut decision = match observed.verdict {
        // A verdict the function already wrote is final: the status write may have been
        // lost, GitHub still holds it.
        Some(WrittenVerdict::Decided(state, approvals, decided_at)) => {
            let verdict = written::Written {
                state: *state,
                approvals,
                decided_at: *decided_at,
            };
            written::written(
                decision, gate, recorded, policy, situation, observed, chosen, verdict,
            )
        }
        _ => verdict::answered(
            gate, policy, situation, observed, chosen, text, elsewhere, decision, start,
        ),
    };
    if decision.state == GateState::Approved {
        plan::take_effect(&mut decision, gate, recorded, situation, observed, chosen);
    }
    decision
}

/// An issue opened by a call that failed before binding it is bound now, sealing the
/// requester's account and the text the function writes.
fn adopt(
    gate: &Gate,
    policy: &Policy,
    observed: &Observed<'_>,
    chosen: &IssueRead,
    text: Option<&text::Text>,
    decision: &mut Decision,
) {
    let (true, Some(binding), Some(text)) = (observed.adopt, observed.binding, text) else {
        return;
    };
    let binding = Binding {
        requester: observed.people.requester.clone(),
        text: Some(text.seal.clone()),
        policy: sealed(policy),
        ..binding.clone()
    };
    decision.actions.push(Action::Comment {
        number: chosen.issue.number,
        body: issue::binding_comment(gate, &binding),
    });
}

/// The policy seal a binding posted now carries (none when nothing is sealed).
fn sealed(policy: &Policy) -> Option<String> {
    Some(policy.seal.digest.clone()).filter(|d| !d.is_empty())
}

/// No issue holds the gate: past its deadline it timed out; else one is opened, unless
/// an issue of its key lost its binding (answers there may have been a veto).
fn without_issue(
    gate: &Gate,
    policy: &Policy,
    observed: &Observed<'_>,
    mut decision: Decision,
    now: DateTime<Utc>,
    labels: &[String],
) -> Decision {
    if now >= decision.deadline {
        decision.state = GateState::Timeout;
        decision.decided_at = Some(decision.deadline);
    } else if observed.blocked {
        decision.hold = Some(Hold::Tampered(BLOCKED.to_owned()));
    } else if let Some(login) = &observed.people.unknown_requester {
        decision.hold = Some(Hold::UnknownRequester(login.clone()));
    } else if !observed.complete {
        decision.hold = Some(Hold::Pending(
            LISTING.replace("approval is held", "no approval issue is opened yet"),
        ));
    } else {
        let section = observed
            .change
            .map(|c| super::change_text::change_section(c, policy.exclude_change_authors));
        decision.actions.push(Action::Open(issue::new_issue(
            gate,
            policy,
            decision.deadline,
            labels,
            section.as_deref(),
        )));
    }
    decision
}

/// Retires the gate's other open issues: those of an earlier artifact of this XR
/// (superseded by the chosen one) and duplicates of it.
fn retire_others(gate: &Gate, observed: &Observed<'_>, chosen: u64, decision: &mut Decision) {
    for (old, old_key) in observed.superseded {
        // Of this very key: asked under another policy seal.
        let resealed = gate.key.is(old_key);
        actions::retire(
            &mut decision.actions,
            old,
            observed.retired,
            || match resealed {
                true => issue::resealed_comment(old_key, chosen),
                false => issue::superseded_comment(old_key, chosen),
            },
            CloseReason::NotPlanned,
        );
    }
    for dup in observed.duplicates {
        actions::retire(
            &mut decision.actions,
            dup,
            observed.retired,
            || issue::duplicate_comment(gate.key.as_str(), chosen),
            CloseReason::Duplicate,
        );
    }
}

/// After the issue `opened` was opened for `decision`: the gate follows it. It is bound
/// with the start and deadline decided before it was opened, and supersedes the gate's
/// older requests.
pub fn after_open(
    gate: &Gate,
    recorded: &Recorded,
    policy: &Policy,
    read: &Read,
    decision: Decision,
    opened: &Issue,
    now: DateTime<Utc>,
) -> Decision {
    let gate = &as_sealed(gate, &read.people);
    let selection = selection(gate, recorded, policy, read, now);
    let mut after = Decision {
        issue: Some(IssueRef {
            number: opened.number,
            url: opened.html_url.clone(),
        }),
        actions: vec![Action::Comment {
            number: opened.number,
            body: issue::binding_comment(
                gate,
                &Binding {
                    requester: read.people.requester.clone(),
                    text: Some(issue::text_seal(&opened.title, &opened.body)),
                    policy: sealed(policy),
                    ..Binding::of(gate, decision.start, decision.deadline)
                },
            ),
        }],
        ..decision
    };
    let (duplicates, superseded) = retired_by(&selection, read);
    let observed = Observed {
        identity: &read.identity,
        issue: None,
        binding: None,
        adopt: false,
        verdict: None,
        tampering: &[],
        blocked: false,
        duplicates: &duplicates,
        superseded: &superseded,
        retired: &selection.retired,
        people: &read.people,
        others: &[],
        earlier: None,
        complete: read.complete,
        change: read.change.as_ref(),
    };
    if read.complete {
        retire_others(gate, &observed, opened.number, &mut after);
    }
    if !policy.rules.is_empty() {
        after.progress = super::rules::count(policy, &mut [], &read.people, |_| false);
    }
    after
}

/// What the Warning says when the `requested-by` annotation names another account than
/// the one the request sealed (or none).
fn requester_ignored(people: &People) -> Option<String> {
    let (ignored, sealed) = (
        people.ignored_requester.as_ref()?,
        people.requester.as_ref()?,
    );
    let names = match ignored.as_str() {
        "" => "no longer names anyone".to_owned(),
        login => format!("now names {login}"),
    };
    Some(format!(
        "the {} annotation {names}, but this request was sealed for {} (account {}); the change is ignored, and {} stays the requester",
        crate::names::REQUESTED_BY_ANNOTATION,
        sealed.login,
        sealed.id,
        sealed.login
    ))
}

/// The gate as its request sealed it: when the annotation changed afterwards (ignored),
/// the sealed requester is the one every text, mention and assignment leaves out.
fn as_sealed<'g>(gate: &'g Gate, people: &People) -> std::borrow::Cow<'g, Gate> {
    match (&people.ignored_requester, &people.requester) {
        (Some(_), Some(sealed)) => std::borrow::Cow::Owned(Gate {
            requester: Some(crate::github::Login::new(&sealed.login)),
            ..gate.clone()
        }),
        _ => std::borrow::Cow::Borrowed(gate),
    }
}

/// A gate approved by policy: its open approval issues (the chosen one unless it
/// already carries a verdict, duplicates, and those of earlier artifacts) are closed,
/// each with a comment saying why. Returns the actions and the issues they close.
pub fn retire_unneeded(
    gate: &Gate,
    recorded: &Recorded,
    policy: &Policy,
    read: &Read,
    now: DateTime<Utc>,
) -> (Vec<Action>, Vec<u64>) {
    let selection = selection(gate, recorded, policy, read, now);
    // An issue that already carries a verdict for this key keeps it (the function wrote
    // it, then could not close the issue): a retirement marker after it would erase it.
    let decided = matches!(selection.verdict, Some(WrittenVerdict::Decided(..)));
    let issue_of = |i: usize| &read.issues[i].issue;
    let duplicates: Vec<Issue> = selection
        .duplicates
        .iter()
        .map(|i| issue_of(*i).clone())
        .collect();
    let superseded: Vec<(Issue, String)> = selection
        .superseded
        .iter()
        .map(|(i, k)| (issue_of(*i).clone(), k.clone()))
        .collect();
    actions::retire_unneeded(
        gate.key.as_str(),
        selection.chosen.map(issue_of).filter(|_| !decided),
        &duplicates,
        &superseded,
        &selection.retired,
    )
}

/// Why a gate whose issue lost its binding does not approve.
const BLOCKED: &str = "an approval issue of this request lost the function's record on it, so answers there cannot be read and may have been a veto: the gate cannot be approved and times out at its deadline; recreate the XR or promote another artifact to ask again";

#[cfg(test)]
mod tests;
