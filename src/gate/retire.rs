//! Retiring approval issues that no longer ask anything: duplicates, issues of an earlier
//! artifact, and issues a gate approved by policy no longer needs. Each is closed with a
//! comment saying why, and a retry after a failed close never comments twice.
//!
//! Pure: it returns the GitHub actions; the shell carries them out.

use std::collections::BTreeSet;

use crate::github::{CloseReason, Issue, IssueState};

use super::issue;
use super::model::Action;

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
