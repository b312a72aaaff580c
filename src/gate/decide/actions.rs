//! The GitHub actions that make the issues agree with a decision: the verdict's summary
//! comment and close, the reopen of an issue a person closed (saying once why the close
//! did or did not count), and the retirement of issues that no longer ask anything
//! (duplicates, issues of an earlier artifact, and issues a gate approved by policy no
//! longer needs), each closed with a comment saying why, which a retry after a failed
//! close never writes twice.
//!
//! Pure: it returns the actions; the write step carries them out.

use std::collections::BTreeSet;

use crate::github::{CloseReason, Identity, Issue, IssueState};
use crate::xr::gate::{Approval, GateState, Via};

use super::judge::Close;
use crate::gate::issue;
use crate::gate::marker;
use crate::gate::model::{Action, Decision};

/// How often the function reopens an issue closed by the same person whose closes do not
/// count.
pub const MAX_REOPENS: usize = 3;

/// The summary comment with the verdict's marker, and the close with its reason.
pub fn conclude(decision: &mut Decision, key: &str, issue: &Issue, needed: u32) {
    decision.actions.push(Action::Comment {
        number: issue.number,
        body: issue::verdict_comment(
            key,
            decision.state,
            &decision.approvals,
            decision.rejection.as_ref(),
            decision.deadline,
            needed,
            decision.decided_at,
        ),
    });
    close_with(decision, issue);
}

/// Closes the issue with the verdict's reason unless it already is.
pub fn close_with(decision: &mut Decision, issue: &Issue) {
    let reason = if decision.state == GateState::Approved {
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

/// A pending gate's issue still closed by a person: reopened, saying once (not again on a
/// retry) why the close did or did not count.
pub fn reopen(
    decision: &mut Decision,
    key: &str,
    (issue, comments, closes): (&Issue, &[crate::github::Comment], usize),
    identity: &Identity,
    close: Close,
    needed: u32,
) {
    if issue.state != IssueState::Closed || close.at > decision.deadline {
        return;
    }
    // Each reopen is a write on the shared credentials: someone whose closes do not count
    // and who keeps closing is left alone after a few. Answers there still count, and an
    // approver may reopen it.
    if close.why.is_some() && closes > MAX_REOPENS {
        decision.tampering.push(format!(
            "issue #{} was closed {closes} times by {}, whose closes do not count; it is left closed (answers there still count)",
            issue.number,
            issue::escape(&close.closer)
        ));
        return;
    }
    // One "did not count" comment per closer per issue: a writer who closes again and
    // again is reopened each time, answered once.
    let undone_before =
        close.why.is_some() && marker::close_undone(comments, identity, &close.closer);
    if !undone_before && !marker::close_answered(comments, identity, &close.closer, close.at) {
        let body = match &close.why {
            Some(why) => issue::undone_comment(key, &close.closer, close.at, why),
            None => issue::counted_comment(
                key,
                &Approval {
                    login: close.closer.clone(),
                    at: close.at,
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

/// The issues to close once approval is no longer required: the gate's chosen issue
/// (the caller leaves out one that already carries a verdict), its duplicates and the
/// issues of earlier artifacts, each still open, with a comment saying why (skipped
/// where the function already wrote it). Returns the actions and the issues they close.
pub fn retire_unneeded(
    key: &str,
    chosen: Option<&Issue>,
    duplicates: &[Issue],
    superseded: &[(Issue, String)],
    retired: &BTreeSet<u64>,
) -> (Vec<Action>, Vec<u64>) {
    let mut actions = Vec::new();
    let mut closed = Vec::new();
    let open = chosen
        .into_iter()
        .chain(duplicates)
        .map(|i| (i, key))
        .chain(superseded.iter().map(|(i, k)| (i, k.as_str())))
        .filter(|(i, _)| i.state == IssueState::Open);
    for (old, key) in open {
        retire(
            &mut actions,
            old,
            retired,
            || issue::not_required_comment(key),
            CloseReason::NotPlanned,
        );
        closed.push(old.number);
    }
    (actions, closed)
}
