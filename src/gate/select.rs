//! Which of the function's issues holds a gate: from the issues read (each with its
//! comments), choose the approval issue, its duplicates, the older requests of the same
//! XR to supersede, and say what someone tampered with.
//!
//! Pure: no I/O. The rules, and the attacks they stop:
//! - An issue belongs to a gate only through the binding comment the function posted on
//!   it (its own, never edited), compared with the full key. The issue body is only a
//!   hint for finding issues: editing a body's marker, title or labels never moves an
//!   issue to another gate, and replays no old answers.
//! - An issue of the function that names the key in its body but has no binding, while
//!   it has comments, lost its binding (deleted or edited): it is not followed, no
//!   other issue is opened for the key, and the gate does not approve, since answers
//!   there may have been a veto.
//!   A young open one without any comment or event is the function's own from a call
//!   that opened it and failed before binding it: it is bound now (adopted), and never
//!   preferred over a bound issue.
//! - An open request is superseded only when its binding names this XR's uid: another
//!   cluster's gate of the same name, or a recreated XR's old gate, is never touched.
//! - A verdict the function wrote on any bound issue is final; otherwise the lowest
//!   number not retired wins and the other open ones are duplicates.
//! - A request bound under another policy seal (another approvals repository,
//!   Composition or Input) holds the gate only if what it decided needs nothing more
//!   (a rejection, or an approval whose promotion started or runs none); else it is
//!   retired like an earlier artifact's request and the gate asks again.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};

use crate::github::{EventKind, Identity, Issue, IssueState};

use super::marker::{self, Binding, WrittenVerdict};
use super::model::{Gate, IssueRead};
use super::seal::Seal;

/// What [`select`] chose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The index (in the reads) of the approval issue, if any.
    pub chosen: Option<usize>,
    /// Its binding, or the one to post on it when it is adopted.
    pub binding: Option<Binding>,
    /// The verdict the function wrote on it, as it wrote it.
    pub verdict: Option<WrittenVerdict>,
    /// Whether the chosen issue has no binding yet: the caller posts `binding` first.
    pub adopt: bool,
    /// Indexes of other open issues bound to this key.
    pub duplicates: Vec<usize>,
    /// Indexes of open requests of this XR under another key, with that key.
    pub superseded: Vec<(usize, String)>,
    /// Numbers of issues (duplicates or superseded) the function already retired.
    pub retired: BTreeSet<u64>,
    /// What someone changed that is not read.
    pub tampering: Vec<String>,
    /// No issue may be opened for this key (an issue of it lost its binding).
    pub blocked: bool,
    /// The earliest binding of this key on a request asked under another policy seal:
    /// asking again keeps its start and deadline.
    pub earlier: Option<Binding>,
}

/// Whether an issue may carry this gate, going by the hints in its body (or by being
/// the recorded one): only these have their comments read.
pub fn is_candidate(gate: &Gate, issue: &Issue, identity: &Identity, recorded: &[u64]) -> bool {
    is_own(issue, identity)
        && (recorded.contains(&issue.number)
            || names_key(gate, issue)
            || (issue.state == IssueState::Open
                && !gate.uid.is_empty()
                && marker::body_uid(issue).as_deref() == Some(gate.uid.as_str())))
}

/// Whether the issue's description names this gate's key (a hint only).
fn names_key(gate: &Gate, issue: &Issue) -> bool {
    marker::body_key(issue).is_some_and(|k| gate.key.is(&k))
}

/// Whether an issue read may be this key's: bound to it, naming it, or recorded for it.
/// Its events are read (closes count by who closed, on every issue of the key).
pub fn may_be_this_key(
    gate: &Gate,
    identity: &Identity,
    read: &IssueRead,
    recorded: &[u64],
) -> bool {
    recorded.contains(&read.issue.number)
        || names_key(gate, &read.issue)
        || marker::binding(&read.comments, identity).is_some_and(|b| gate.key.is(&b.key))
}

/// What an issue of the function is found by: the key and the uid its description names
/// ([`is_candidate`] decides from the issue itself; these only narrow the search).
pub fn tags(issue: &Issue) -> Vec<String> {
    let mut tags = Vec::new();
    if let Some(key) = marker::body_key(issue) {
        tags.push(format!("key:{key}"));
    }
    if let Some(uid) = marker::body_uid(issue).filter(|u| !u.is_empty()) {
        tags.push(format!("uid:{uid}"));
    }
    tags
}

/// The tags [`tags`] gives the issues that may carry this gate.
pub fn wanted_tags(gate: &Gate) -> Vec<String> {
    let mut wanted = vec![format!("key:{}", gate.key)];
    if !gate.uid.is_empty() {
        wanted.push(format!("uid:{}", gate.uid));
    }
    wanted
}

/// Whether the function opened the issue: by user id, which a renamed account or App
/// keeps.
pub fn is_own(issue: &Issue, identity: &Identity) -> bool {
    issue.author_id == identity.id
}

/// What an adopted issue is bound to: the recorded start, else the issue's creation; the
/// deadline follows from the start.
pub struct Adoption {
    /// The start recorded in status for this key.
    pub recorded_start: Option<DateTime<Utc>>,
    /// The time of this call.
    pub now: DateTime<Utc>,
    /// From start to deadline.
    pub timeout: TimeDelta,
    /// The seal of the policy the gate is asked under now.
    pub seal: Seal,
}

/// Chooses among `reads` (the function's own issues that [`is_candidate`] kept).
/// `recorded` are the issue numbers recorded in status for this key.
pub fn select(
    gate: &Gate,
    identity: &Identity,
    reads: &[IssueRead],
    recorded: &[u64],
    adoption: &Adoption,
) -> Selection {
    let mut selection = Selection::default();
    // (index, binding or none to adopt, verdict)
    let mut bound: Vec<(usize, Option<Binding>, Option<WrittenVerdict>)> = Vec::new();
    for (index, read) in reads.iter().enumerate() {
        let number = read.issue.number;
        if !is_own(&read.issue, identity) {
            continue;
        }
        let was_recorded = recorded.contains(&number);
        let names_key = names_key(gate, &read.issue) || was_recorded;
        match marker::binding(&read.comments, identity) {
            Some(b) if gate.key.is(&b.key) => {
                let verdict = marker::written_verdict(&read.comments, identity, gate.key.as_str());
                // The function closes an issue only with a verdict or a retirement on it:
                // one it closed that carries neither lost its record.
                if verdict.is_none() && closed_by(read, identity) {
                    lost_record(&mut selection, number, "its verdict or retirement comment");
                    continue;
                }
                // Asked under another policy (approvals repository, Composition or
                // Input): unless what it decided needs nothing more, it is retired like an
                // earlier artifact's request (vetoes there still count) and asked again.
                let decided = match &verdict {
                    Some(WrittenVerdict::Decided(state, ..)) => Some(*state),
                    _ => None,
                };
                let started = marker::started(&read.comments, identity, gate.key.as_str());
                if verdict != Some(WrittenVerdict::Retired)
                    && !adoption.seal.carries(b.policy.as_deref(), decided, started)
                {
                    if selection.earlier.as_ref().is_none_or(|e| b.start < e.start) {
                        selection.earlier = Some(b.clone());
                    }
                    if read.issue.state == IssueState::Open {
                        selection.superseded.push((index, b.key));
                    }
                    continue;
                }
                bound.push((index, Some(b), verdict));
            }
            Some(b) => {
                if !gate.uid.is_empty() && b.uid == gate.uid && read.issue.state == IssueState::Open
                {
                    if marker::written_verdict(&read.comments, identity, &b.key)
                        == Some(WrittenVerdict::Retired)
                    {
                        selection.retired.insert(number);
                    }
                    selection.superseded.push((index, b.key));
                } else if names_key {
                    selection.tampering.push(format!(
                        "issue #{number} names this gate in its description but was opened for another; the description was edited"
                    ));
                }
            }
            None if !names_key => {}
            // Only an open issue never recorded, with no comment at all, can be one the
            // function has just opened (a call opened it, then failed before binding it);
            // the events decide below whether it has any history.
            None if read.comments.is_empty()
                && read.issue.state == IssueState::Open
                && !was_recorded =>
            {
                bound.push((index, None, None))
            }
            // Any other issue of the key without its binding lost it: answers there may have
            // been a veto, so it is neither followed nor replaced.
            None => lost_record(&mut selection, number, "the function's binding comment"),
        }
    }
    // A bound issue is always preferred over one still to be adopted.
    bound.sort_by_key(|(index, binding, _)| (binding.is_none(), reads[*index].issue.number));
    let chosen = bound
        .iter()
        .position(|(_, _, v)| matches!(v, Some(WrittenVerdict::Decided(..))))
        .or_else(|| {
            bound
                .iter()
                .position(|(_, _, v)| *v != Some(WrittenVerdict::Retired))
        });
    for (position, (index, binding, verdict)) in bound.into_iter().enumerate() {
        let read = &reads[index];
        if Some(position) == chosen {
            selection.chosen = Some(index);
            selection.adopt = binding.is_none();
            selection.verdict = verdict;
            selection.binding = Some(binding.unwrap_or_else(|| {
                let start = adoption.recorded_start.unwrap_or(read.issue.created_at);
                Binding {
                    key: gate.key.to_string(),
                    uid: gate.uid.clone(),
                    start,
                    deadline: start + adoption.timeout,
                    requester: None,
                    text: None,
                    policy: None,
                }
            }));
        } else if read.issue.state == IssueState::Open {
            if verdict == Some(WrittenVerdict::Retired) {
                selection.retired.insert(read.issue.number);
            }
            selection.duplicates.push(index);
        }
    }
    confirm_adoption(&mut selection, reads);
    selection
}

/// An issue of this key lost the function's record on it (deleted or edited): it is no
/// longer read, no other issue is opened for the key, and the gate does not approve.
fn lost_record(selection: &mut Selection, number: u64, what: &str) {
    selection.blocked = true;
    selection.tampering.push(format!(
        "issue #{number} lost {what} (deleted or edited); it is no longer read, and the gate cannot be approved"
    ));
}

/// Whether the function's own identity closed the issue last.
fn closed_by(read: &IssueRead, identity: &Identity) -> bool {
    read.issue.state == IssueState::Closed
        && read
            .events
            .iter()
            .rev()
            .find(|e| e.kind == EventKind::Closed)
            .is_some_and(|e| e.actor_id == Some(identity.id))
}

/// Confirms an adoption by the chosen issue's events: an unbound issue that was ever
/// closed or reopened is not one the function has just opened, but an older issue someone
/// pointed at this key. It is then not followed, and the key is blocked. (GitHub records
/// `labeled` and `assigned` events when an issue is opened with labels and assignees:
/// those are no history.)
fn confirm_adoption(selection: &mut Selection, reads: &[IssueRead]) {
    let Some(index) = selection.chosen else {
        return;
    };
    let history = reads[index]
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Closed | EventKind::Reopened));
    if !selection.adopt || !history {
        return;
    }
    selection.tampering.push(format!(
        "issue #{} names this gate in its description but was never bound to it; it is not read",
        reads[index].issue.number
    ));
    selection.chosen = None;
    selection.binding = None;
    selection.verdict = None;
    selection.adopt = false;
    selection.blocked = true;
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
