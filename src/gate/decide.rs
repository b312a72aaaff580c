//! The gate's state machine: from the validated gate, the recorded status, the approval
//! policy, the approval issue and its comments as read, and `now`, decide the gate's
//! state and the GitHub actions that make the issue agree with it.
//!
//! Pure: no I/O, no clock; team and permission answers come in resolved.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::github::{CloseReason, Comment, EventKind, Identity, Issue, IssueEvent, IssueState};
use crate::xr::gate::{Approval, GateSpec, GateState, GateStatus, IssueRef, Via};

use super::answers::{excluded, is_requester};
use super::issue::{self, Binding, Command, WrittenVerdict};
pub use super::model::{Action, Decision, Gate, Held, Policy};
pub use super::retire::{retire, retire_unneeded};

/// What was read from GitHub for this gate.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Who the function is.
    pub identity: &'a Identity,
    /// The approval issue for this key (the lowest-numbered live one), if any.
    pub issue: Option<&'a Issue>,
    /// What binds it to this gate (its start and deadline).
    pub binding: Option<&'a Binding>,
    /// Its comments, oldest first.
    pub comments: &'a [Comment],
    /// Its events (closes and reopens with their actor), oldest first.
    pub events: &'a [IssueEvent],
    /// What someone changed that the function will not read, found while choosing the
    /// issue ([`super::select`]).
    pub tampering: &'a [String],
    /// An issue of the function carries this key but lost its binding: no other issue is
    /// opened for the key (answers given there may have been a veto).
    pub blocked: bool,
    /// Other open issues for the same key.
    pub duplicates: &'a [Issue],
    /// Open issues of this XR under an older key (an earlier artifact), with that key
    /// as their binding says.
    pub superseded: &'a [(Issue, String)],
    /// Issues (duplicates or superseded) that already carry the function's retirement
    /// comment: a retry after a failed close only closes them.
    pub retired: &'a BTreeSet<u64>,
    /// Logins (lower-case) found authorized through a team or their permission.
    pub authorized: &'a BTreeSet<String>,
    /// Logins (lower-case) whose team or permission lookup failed this poll, with why:
    /// their answers are unknown, so the gate does not approve this poll.
    pub unresolved: &'a BTreeMap<String, String>,
    /// The approver teams (lower-case) each login (lower-case) was found in.
    pub memberships: &'a BTreeMap<String, BTreeSet<String>>,
}

fn deadline(spec: &GateSpec, start: DateTime<Utc>) -> DateTime<Utc> {
    start + Duration::hours(i64::from(spec.timeout_hours))
}

/// The decision that needs no GitHub call: a terminal state recorded for this key, or
/// an automatic approval. `None` when GitHub must be read.
pub fn settled(
    gate: &Gate<'_>,
    recorded: &GateStatus,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Option<Decision> {
    let same_key = recorded.gate_key.as_deref() == Some(gate.key);
    let start = recorded
        .created_timestamp
        .filter(|_| same_key)
        .unwrap_or(now);
    if same_key && let Some(state) = recorded.gate_status.filter(|s| s.is_terminal()) {
        return Some(Decision {
            state,
            approvals: recorded.approvals.clone(),
            rejection: None,
            decided_at: recorded.approval_timestamp,
            start,
            deadline: recorded
                .timeout_at
                .unwrap_or_else(|| deadline(gate.spec, start)),
            issue: recorded.issue.clone(),
            automatic: state == GateState::Approved
                && recorded.issue.is_none()
                && !policy.needs_approval(gate.spec),
            held: None,
            tampering: Vec::new(),
            progress: Vec::new(),
            freeze_override: None,
            actions: Vec::new(),
        });
    }
    if !policy.needs_approval(gate.spec) {
        return Some(Decision {
            state: GateState::Approved,
            approvals: Vec::new(),
            rejection: None,
            // When it is approved: now (a gate may have waited for its source or its soak
            // since it started), so that the pipeline dates the artifact's arrival right.
            decided_at: Some(now),
            start,
            deadline: deadline(gate.spec, start),
            issue: None,
            automatic: true,
            held: None,
            tampering: Vec::new(),
            progress: Vec::new(),
            freeze_override: None,
            actions: Vec::new(),
        });
    }
    None
}

/// The decision as recorded, for a call that cannot read GitHub: the recorded state
/// when it belongs to this key, else a fresh pending gate starting now.
pub fn from_recorded(gate: &Gate<'_>, recorded: &GateStatus, now: DateTime<Utc>) -> Decision {
    let same_key = recorded.gate_key.as_deref() == Some(gate.key);
    let start = recorded
        .created_timestamp
        .filter(|_| same_key)
        .unwrap_or(now);
    if !same_key {
        return Decision {
            state: GateState::Pending,
            approvals: Vec::new(),
            rejection: None,
            decided_at: None,
            start,
            deadline: deadline(gate.spec, start),
            issue: None,
            automatic: false,
            held: None,
            tampering: Vec::new(),
            progress: Vec::new(),
            freeze_override: None,
            actions: Vec::new(),
        };
    }
    let state = recorded.gate_status.unwrap_or(GateState::Pending);
    Decision {
        state,
        approvals: recorded.approvals.clone(),
        rejection: None,
        decided_at: recorded.approval_timestamp,
        start,
        deadline: recorded
            .timeout_at
            .unwrap_or_else(|| deadline(gate.spec, start)),
        issue: recorded.issue.clone(),
        automatic: false,
        held: None,
        tampering: Vec::new(),
        progress: Vec::new(),
        freeze_override: None,
        actions: Vec::new(),
    }
}

/// Decides the gate. `recorded` is the observed XR's status; `labels` go on a new issue.
///
/// The trust rules live here: only an authorized approver's comment as its author posted
/// it is an answer (an edited one holds approval back until they answer again); closes
/// count by the actor GitHub's events name, however the issue was reopened since; only
/// answers between the gate's start and its deadline count; the function's own records
/// count only as it wrote them.
///
/// Total: a gate that is [`settled`] comes back as recorded. The shell asks `settled`
/// first, only to leave GitHub alone for such a gate.
pub fn decide(
    gate: &Gate<'_>,
    recorded: &GateStatus,
    policy: &Policy,
    observed: &Observed<'_>,
    labels: &[String],
    now: DateTime<Utc>,
) -> Decision {
    if let Some(decision) = settled(gate, recorded, policy, now) {
        return decision;
    }
    let same_key = recorded.gate_key.as_deref() == Some(gate.key);
    // The gate's start: recorded, else the one the function bound its issue to (it
    // survives a lost status write and a replaced issue), else now.
    let start = recorded
        .created_timestamp
        .filter(|_| same_key)
        .or(observed.binding.map(|b| b.start))
        .unwrap_or(now);
    let deadline = deadline(gate.spec, start);
    let mut decision = Decision {
        state: GateState::Pending,
        approvals: Vec::new(),
        rejection: None,
        decided_at: None,
        start,
        deadline,
        issue: observed.issue.map(|i| IssueRef {
            number: i.number,
            url: i.html_url.clone(),
        }),
        automatic: false,
        held: None,
        tampering: observed.tampering.to_vec(),
        progress: Vec::new(),
        freeze_override: None,
        actions: Vec::new(),
    };
    let Some(issue) = observed.issue else {
        if now >= deadline {
            decision.state = GateState::Timeout;
            decision.decided_at = Some(deadline);
        } else if observed.blocked {
            decision.held = Some(Held::pending(BLOCKED));
        } else {
            decision.actions.push(Action::Open(issue::new_issue(
                gate, policy, deadline, labels,
            )));
        }
        return decision;
    };
    for (old, old_key) in observed.superseded {
        retire(
            &mut decision.actions,
            old,
            observed.retired,
            || issue::superseded_comment(old_key, issue.number),
            CloseReason::NotPlanned,
        );
    }
    for dup in observed.duplicates {
        retire(
            &mut decision.actions,
            dup,
            observed.retired,
            || issue::duplicate_comment(gate.key, issue.number),
            CloseReason::Duplicate,
        );
    }

    let identity = observed.identity;
    for c in issue::edited_records(observed.comments, identity) {
        decision.tampering.push(format!(
            "the function's comment {} on issue #{} was edited; it is no longer read",
            c.id, issue.number
        ));
    }
    // A verdict the function already wrote is final: the status write may have been
    // lost, GitHub still holds it.
    if let Some(WrittenVerdict::Decided(state, approvals)) =
        issue::written_verdict(observed.comments, identity, gate.key)
    {
        decision.state = state;
        decision.decided_at = match state {
            GateState::Approved => quorum_time(&approvals, policy.min_approvals),
            GateState::Timeout => Some(deadline),
            _ => issue.closed_at,
        };
        decision.approvals = approvals;
        close_with(&mut decision, issue, state);
        return decision;
    }

    let authorized = |login: &str| {
        !excluded(gate, policy, identity, login)
            && (policy.lists(login) || observed.authorized.contains(&login.to_ascii_lowercase()))
    };
    // The requester may not approve (unless allowed) but may always withdraw.
    let may_reject = |login: &str| {
        !login.eq_ignore_ascii_case(&identity.login)
            && (authorized(login) || is_requester(gate, login))
    };
    // An answer on this gate's own issue is never older than the issue: the window opens
    // at the issue's creation if GitHub's clock runs behind the one that set the start.
    let opens = start.min(issue.created_at);
    let in_window = |at: DateTime<Utc>| opens <= at && at <= deadline;
    let mut approvals: BTreeMap<String, Approval> = BTreeMap::new();
    let mut add = |approval: Approval| {
        let entry = approvals
            .entry(approval.login.to_ascii_lowercase())
            .or_insert_with(|| approval.clone());
        if approval.at < entry.at {
            *entry = approval;
        }
    };
    let mut rejection: Option<Approval> = None;
    let mut reject = |r: Approval| {
        if rejection.as_ref().is_none_or(|old| r.at < old.at) {
            rejection = Some(r);
        }
    };

    // Comments: only as their authors posted them.
    let mut held: Option<&Comment> = None;
    for comment in observed.comments {
        if !in_window(comment.created_at) || comment.author_id == identity.id {
            continue;
        }
        if issue::edited(comment) {
            // Someone may have turned a veto into something else. It holds approval
            // until its author answers again in a new comment, posted after the edit.
            let answered_again = observed.comments.iter().any(|later| {
                later.author_id == comment.author_id
                    && later.created_at > comment.updated_at
                    && in_window(later.created_at)
                    && !issue::edited(later)
                    && issue::parse_command(&later.body).is_some()
            });
            if may_reject(&comment.author) && !answered_again {
                held = held.or(Some(comment));
                decision.tampering.push(format!(
                    "comment {} by {} on issue #{} was edited after it was posted",
                    comment.id, comment.author, issue.number
                ));
            }
            continue;
        }
        let answer = Approval {
            login: comment.author.clone(),
            at: comment.created_at,
            via: Via::Comment,
            rules: Vec::new(),
        };
        match issue::parse_command(&comment.body) {
            Some(Command::Approve) if authorized(&comment.author) => add(answer),
            Some(Command::Reject) if may_reject(&comment.author) => reject(answer),
            _ => {}
        }
    }

    // Closes: every close GitHub's events record, by whoever GitHub says did it, even
    // if the issue was reopened since.
    let mut last_close: Option<(&str, DateTime<Utc>, Option<String>)> = None;
    let mut closed_by_function = false;
    for event in observed.events {
        if event.kind != EventKind::Closed {
            continue;
        }
        let closer = event.actor.as_deref();
        closed_by_function = event.actor_id == Some(identity.id);
        if closed_by_function {
            last_close = None;
            continue;
        }
        let at = event.created_at;
        let answer = |login: &str| Approval {
            login: login.to_owned(),
            at,
            via: Via::Close,
            rules: Vec::new(),
        };
        let why = match closer {
            _ if !in_window(at) => {
                Some("it came outside the time this request was open".to_owned())
            }
            None => Some("GitHub does not say who closed it".to_owned()),
            Some(_) if event.commit_id.is_some() => {
                Some("a commit or pull request closed it, not a person".to_owned())
            }
            Some(login) => match event.state_reason {
                Some(CloseReason::Completed) if authorized(login) => {
                    add(answer(login));
                    None
                }
                Some(CloseReason::NotPlanned) if may_reject(login) => {
                    reject(answer(login));
                    None
                }
                _ if excluded(gate, policy, identity, login) => {
                    Some("the requester cannot approve their own promotion".to_owned())
                }
                _ if !authorized(login) => Some(format!(
                    "{} is not an approver for this promotion",
                    issue::escape(login)
                )),
                _ => Some(
                    "only a close as completed (approve) or as not planned (reject) is an answer"
                        .to_owned(),
                ),
            },
        };
        last_close = Some((closer.unwrap_or(UNKNOWN_CLOSER), at, why));
    }
    // Closed, and GitHub's events name no close after the function's own: nobody known.
    if issue.state == IssueState::Closed
        && last_close.is_none()
        && !closed_by_function
        && !issue
            .closed_by
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(&identity.login))
    {
        let at = issue.closed_at.unwrap_or(now);
        last_close = Some((
            UNKNOWN_CLOSER,
            at,
            Some("GitHub does not say who closed it".to_owned()),
        ));
    }

    let mut approvals: Vec<Approval> = approvals.into_values().collect();
    approvals.sort_by(|a, b| (a.at, &a.login).cmp(&(b.at, &b.login)));
    let needed = policy.min_approvals.max(1);
    let found = super::rules::Found {
        authorized: observed.authorized,
        memberships: observed.memberships,
    };
    let rules = super::rules::count(policy, &mut approvals, &found);
    let quorum = rules.iter().all(|r| r.met_at.is_some());
    // The artifact's soak in its source: approvals count, the gate does not approve yet.
    let soaking = policy.soak_until.filter(|until| now < *until);
    // A freeze window for the target: likewise, unless someone allowed overrides it.
    let frozen = policy.frozen.as_ref().filter(|f| now < f.until);
    let overridden = frozen.and_then(|f| {
        let approved_at = super::rules::met_at(&rules)?;
        super::frozen::override_of(
            f,
            approved_at.max(f.opened),
            gate.requester,
            policy,
            identity,
            observed.comments,
            &in_window,
            &authorized,
            observed.memberships,
        )
    });
    decision.state = if rejection.is_some() {
        GateState::Rejected
    } else if quorum
        && held.is_none()
        && !observed.blocked
        && observed.unresolved.is_empty()
        && soaking.is_none()
        && (frozen.is_none() || overridden.is_some())
    {
        GateState::Approved
    } else if now >= deadline {
        GateState::Timeout
    } else {
        GateState::Pending
    };
    if decision.state == GateState::Pending {
        decision.held = match held {
            Some(c) => Some(Held::pending(format!(
                "approval is held: comment {} by {} on issue #{} was edited after it was posted, so it is no answer and may have been one; {} must answer again in a new comment",
                c.id, c.author, issue.number, c.author
            ))),
            None if observed.blocked => Some(Held::pending(BLOCKED)),
            None if quorum => observed
                .unresolved
                .iter()
                .next()
                .map(|(login, why)| {
                    Held::pending(format!(
                        "approval is held: GitHub could not say whether {login} may answer ({why}); asked again next poll"
                    ))
                })
                .or_else(|| soaking.map(|until| Held::soaking(gate.spec, until)))
                .or_else(|| frozen.map(|f| Held::frozen(gate.spec, f, true))),
            None => None,
        };
    }
    decision.decided_at = match decision.state {
        // Approved when the quorum was reached, or when the soak that held it ended.
        GateState::Approved => super::rules::met_at(&rules)
            .map(|quorum| policy.soak_until.map_or(quorum, |soak| quorum.max(soak)))
            .map(|at| overridden.as_ref().map_or(at, |o| at.max(o.entry.at))),
        GateState::Rejected => rejection.as_ref().map(|r| r.at),
        GateState::Timeout => Some(deadline),
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

    if decision.state.is_terminal() {
        decision.actions.push(Action::Comment {
            number: issue.number,
            body: issue::verdict_comment(
                gate.key,
                decision.state,
                &decision.approvals,
                decision.rejection.as_ref(),
                deadline,
                needed,
            ),
        });
        let state = decision.state;
        close_with(&mut decision, issue, state);
        return decision;
    }
    // Still closed by a person: reopen it, saying once why the close did or did not count.
    if issue.state == IssueState::Closed
        && let Some((closer, at, why)) = last_close
        && at <= deadline
    {
        let answered = issue::close_answered(observed.comments, identity, closer, at);
        if !answered {
            let body = match &why {
                Some(why) => issue::undone_comment(gate.key, closer, at, why),
                None => issue::counted_comment(
                    gate.key,
                    &Approval {
                        login: closer.to_owned(),
                        at,
                        via: Via::Close,
                        rules: Vec::new(),
                    },
                    decision.approvals.len(),
                    needed,
                ),
            };
            decision.actions.push(Action::Comment {
                number: issue.number,
                body,
            });
        }
        decision.actions.push(Action::Reopen {
            number: issue.number,
        });
    }
    decision
}

/// Why a gate whose issue lost its binding does not approve.
const BLOCKED: &str = "approval is held: an approval issue of this gate lost the function's binding comment, so answers on it cannot be read; recreate the XR to ask again";

/// The closer named when GitHub names none; it cannot be a GitHub login (logins have
/// no spaces), so no listed user can match it.
const UNKNOWN_CLOSER: &str = "an unknown user";

/// When the quorum was reached: the time of the approval that completed it.
fn quorum_time(approvals: &[Approval], needed: u32) -> Option<DateTime<Utc>> {
    let mut times: Vec<DateTime<Utc>> = approvals.iter().map(|a| a.at).collect();
    times.sort();
    times
        .get((needed.max(1) as usize).saturating_sub(1))
        .or(times.last())
        .copied()
}

/// Closes the issue with the verdict's reason unless it already is.
fn close_with(decision: &mut Decision, issue: &Issue, state: GateState) {
    let reason = if state == GateState::Approved {
        CloseReason::Completed
    } else {
        CloseReason::NotPlanned
    };
    if issue.state == IssueState::Open || issue.state_reason.as_ref() != Some(&reason) {
        decision.actions.push(Action::Close {
            number: issue.number,
            reason,
        });
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
pub(crate) mod tests;
