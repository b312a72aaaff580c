//! The gate's state machine: from the validated gate, the recorded status, the approval
//! policy, the approval issue and its comments as read, and `now`, decide the gate's
//! state and the GitHub actions that make the issue agree with it.
//!
//! Pure: no I/O, no clock; team and permission answers come in resolved.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::github::{CloseReason, Comment, Issue, IssueState, NewIssue};
use crate::input::Permission;
use crate::policy::Rule;
use crate::xr::gate::{Approval, GateSpec, GateState, GateStatus, IssueRef, Via};

use super::issue::{self, Command, WrittenVerdict};

/// The gate being decided.
#[derive(Debug, Clone, Copy)]
pub struct Gate<'a> {
    /// The validated spec.
    pub spec: &'a GateSpec,
    /// The gate key.
    pub key: &'a str,
    /// The namespace of the composed resources.
    pub namespace: &'a str,
    /// The XR's name.
    pub name: &'a str,
    /// The requester's login, from the `requested-by` annotation.
    pub requester: Option<&'a str>,
}

/// Who may approve this promotion and whether a person must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The pipeline's rule for the pair (manual without a pipeline).
    pub rule: Rule,
    /// Listed approvers.
    pub users: Vec<String>,
    /// Teams (`org/slug`) whose members may approve.
    pub teams: Vec<String>,
    /// Distinct approvals needed.
    pub min_approvals: u32,
    /// Anyone with this repository permission or higher may approve.
    pub min_permission: Option<Permission>,
    /// Whether the requester may approve.
    pub allow_self_approval: bool,
}

impl Policy {
    /// Whether a person must approve: strictest wins, so only an automatic rule AND
    /// `approval_required: false` skip approval.
    pub fn needs_approval(&self, spec: &GateSpec) -> bool {
        self.rule != Rule::Automatic || spec.approval_required
    }

    fn lists(&self, login: &str) -> bool {
        self.users.iter().any(|u| u.eq_ignore_ascii_case(login))
    }
}

/// What was read from GitHub for this gate.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// The function's own login.
    pub identity: &'a str,
    /// The approval issue for this key (the lowest-numbered live one), if any.
    pub issue: Option<&'a Issue>,
    /// Its comments, oldest first.
    pub comments: &'a [Comment],
    /// Other open issues for the same key.
    pub duplicates: &'a [Issue],
    /// Open issues of this XR under an older key (an earlier artifact).
    pub superseded: &'a [Issue],
    /// Issues (duplicates or superseded) that already carry the function's retirement
    /// comment: a retry after a failed close only closes them.
    pub retired: &'a BTreeSet<u64>,
    /// Logins (lower-case) found authorized through a team or their permission.
    pub authorized: &'a BTreeSet<String>,
}

/// A change to make on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open the approval issue.
    Open(NewIssue),
    /// Comment on an issue.
    Comment {
        /// The issue.
        number: u64,
        /// The comment.
        body: String,
    },
    /// Close an issue.
    Close {
        /// The issue.
        number: u64,
        /// Why.
        reason: CloseReason,
    },
    /// Reopen an issue.
    Reopen {
        /// The issue.
        number: u64,
    },
}

/// The verdict and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The gate's state.
    pub state: GateState,
    /// Counted approvals, earliest first.
    pub approvals: Vec<Approval>,
    /// The rejection that vetoed, if rejected.
    pub rejection: Option<Approval>,
    /// When the gate reached its state (approved, rejected or timed out).
    pub decided_at: Option<DateTime<Utc>>,
    /// The gate's start.
    pub start: DateTime<Utc>,
    /// The deadline.
    pub deadline: DateTime<Utc>,
    /// The approval issue.
    pub issue: Option<IssueRef>,
    /// Approved without a person: automatic rule and `approval_required: false`.
    pub automatic: bool,
    /// GitHub actions to take, in order.
    pub actions: Vec<Action>,
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
            actions: Vec::new(),
        });
    }
    if !policy.needs_approval(gate.spec) {
        return Some(Decision {
            state: GateState::Approved,
            approvals: Vec::new(),
            rejection: None,
            decided_at: Some(start),
            start,
            deadline: deadline(gate.spec, start),
            issue: None,
            automatic: true,
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
        actions: Vec::new(),
    }
}

/// Logins whose team membership or permission must be looked up before deciding: the
/// authors of `/approve` and `/reject` comments and the closer, unless already listed,
/// never counted, or the policy has no team or permission rule.
pub fn candidates(
    gate: &Gate<'_>,
    policy: &Policy,
    identity: &str,
    issue: Option<&Issue>,
    comments: &[Comment],
) -> BTreeSet<String> {
    if policy.teams.is_empty() && policy.min_permission.is_none() {
        return BTreeSet::new();
    }
    let closer = issue
        .filter(|i| i.state == IssueState::Closed)
        .and_then(|i| i.closed_by.as_deref());
    comments
        .iter()
        .filter(|c| issue::parse_command(&c.body).is_some())
        .map(|c| c.author.as_str())
        .chain(closer)
        .filter(|login| !policy.lists(login) && !excluded(gate, policy, identity, login))
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Never counted: the function itself, and the requester unless self-approval is on.
fn excluded(gate: &Gate<'_>, policy: &Policy, identity: &str, login: &str) -> bool {
    login.eq_ignore_ascii_case(identity)
        || (!policy.allow_self_approval
            && gate
                .requester
                .is_some_and(|r| r.eq_ignore_ascii_case(login)))
}

/// Closes `issue` if it is open, with `comment` first unless the function already wrote
/// its retirement marker there (`retired`): a retry after a failed close never comments
/// twice.
pub fn retire(
    actions: &mut Vec<Action>,
    issue: &Issue,
    retired: &BTreeSet<u64>,
    comment: impl FnOnce() -> String,
    reason: CloseReason,
) {
    if issue.state != IssueState::Open {
        return;
    }
    if !retired.contains(&issue.number) {
        actions.push(Action::Comment {
            number: issue.number,
            body: comment(),
        });
    }
    actions.push(Action::Close {
        number: issue.number,
        reason,
    });
}

/// Decides the gate. `recorded` is the observed XR's status; `labels` go on a new issue.
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
    // The gate's start: recorded, else the one its issue was opened with (a replacement
    // issue carries the original deadline), else the issue's creation, else now.
    let timeout = Duration::hours(i64::from(gate.spec.timeout_hours));
    let start = recorded
        .created_timestamp
        .filter(|_| same_key)
        .or_else(|| {
            observed
                .issue
                .and_then(issue::body_deadline)
                .map(|d| d - timeout)
        })
        .or(observed.issue.map(|i| i.created_at))
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
        actions: Vec::new(),
    };
    let Some(issue) = observed.issue else {
        if now >= deadline {
            decision.state = GateState::Timeout;
            decision.decided_at = Some(deadline);
        } else {
            decision.actions.push(Action::Open(issue::new_issue(
                gate, policy, deadline, labels,
            )));
        }
        return decision;
    };
    for old in observed.superseded {
        if let Some(old_key) = issue::body_key(old) {
            retire(
                &mut decision.actions,
                old,
                observed.retired,
                || issue::superseded_comment(&old_key, issue.number),
                CloseReason::NotPlanned,
            );
        }
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
    let mut approvals: BTreeMap<String, Approval> = BTreeMap::new();
    let mut add = |approval: Approval| {
        let entry = approvals
            .entry(approval.login.to_ascii_lowercase())
            .or_insert_with(|| approval.clone());
        if approval.at < entry.at {
            *entry = approval;
        }
    };
    for counted in issue::counted_closes(observed.comments, identity, gate.key) {
        add(counted);
    }
    let mut rejection: Option<Approval> = None;
    let mut reject = |r: Approval| {
        if rejection.as_ref().is_none_or(|old| r.at < old.at) {
            rejection = Some(r);
        }
    };
    for comment in observed.comments {
        // An edit re-dates a comment: the body as it is now must predate the deadline.
        if comment.updated_at > deadline || !authorized(&comment.author) {
            continue;
        }
        let answer = Approval {
            login: comment.author.clone(),
            at: comment.updated_at,
            via: Via::Comment,
        };
        match issue::parse_command(&comment.body) {
            Some(Command::Approve) => add(answer),
            Some(Command::Reject) => reject(answer),
            None => {}
        }
    }

    // A close by a person: an answer when authorized and in time, else undone.
    let mut undo: Option<(String, DateTime<Utc>, String)> = None;
    let mut close_approval: Option<Approval> = None;
    // An unknown closer is never authorized; the placeholder cannot be a GitHub login
    // (logins have no spaces), so no listed user can match it.
    const UNKNOWN_CLOSER: &str = "an unknown user";
    let human_close = (issue.state == IssueState::Closed)
        .then(|| issue.closed_by.as_deref().unwrap_or(UNKNOWN_CLOSER))
        .filter(|closer| !closer.eq_ignore_ascii_case(identity));
    if let Some(closer) = human_close {
        let at = issue.closed_at.unwrap_or(now);
        if at <= deadline {
            let why = if closer == UNKNOWN_CLOSER {
                Some("GitHub does not say who closed it".to_owned())
            } else if excluded(gate, policy, identity, closer) {
                Some("the requester cannot approve their own promotion".to_owned())
            } else if !authorized(closer) {
                Some(format!(
                    "{} is not an approver for this promotion",
                    issue::escape(closer)
                ))
            } else {
                match issue.state_reason {
                    Some(CloseReason::Completed) => {
                        let a = Approval {
                            login: closer.to_owned(),
                            at,
                            via: Via::Close,
                        };
                        close_approval = Some(a.clone());
                        add(a);
                        None
                    }
                    Some(CloseReason::NotPlanned) => {
                        reject(Approval {
                            login: closer.to_owned(),
                            at,
                            via: Via::Close,
                        });
                        None
                    }
                    _ => Some(
                        "only a close as completed (approve) or as not planned (reject) is an answer"
                            .to_owned(),
                    ),
                }
            };
            if let Some(why) = why {
                undo = Some((closer.to_owned(), at, why));
            }
        }
    }

    let mut approvals: Vec<Approval> = approvals.into_values().collect();
    approvals.sort_by(|a, b| (a.at, &a.login).cmp(&(b.at, &b.login)));
    let needed = policy.min_approvals.max(1);
    decision.state = if rejection.is_some() {
        GateState::Rejected
    } else if approvals.len() >= needed as usize {
        GateState::Approved
    } else if now >= deadline {
        GateState::Timeout
    } else {
        GateState::Pending
    };
    decision.decided_at = match decision.state {
        GateState::Approved => quorum_time(&approvals, needed),
        GateState::Rejected => rejection.as_ref().map(|r| r.at),
        GateState::Timeout => Some(deadline),
        GateState::Pending => None,
    };
    decision.approvals = approvals;
    decision.rejection = rejection;

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
    if let Some((closer, at, why)) = undo {
        if !issue::close_answered(observed.comments, identity, &closer, at) {
            decision.actions.push(Action::Comment {
                number: issue.number,
                body: issue::undone_comment(gate.key, &closer, at, &why),
            });
        }
        decision.actions.push(Action::Reopen {
            number: issue.number,
        });
    } else if let Some(approval) = close_approval {
        if !issue::close_answered(observed.comments, identity, &approval.login, approval.at) {
            decision.actions.push(Action::Comment {
                number: issue.number,
                body: issue::counted_comment(gate.key, &approval, decision.approvals.len(), needed),
            });
        }
        decision.actions.push(Action::Reopen {
            number: issue.number,
        });
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
