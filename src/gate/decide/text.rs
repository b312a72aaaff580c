//! The issue's title and description as the function wrote them. They tell approvers
//! what they approve, and anyone with write access can change them: a change by anyone
//! else holds the gate (Warning `Tampered`), the function restores them, and approvals
//! given before the restoration no longer count (approvers may have read another
//! request). Rejections count throughout.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Utc};

use crate::github::{Identity, Issue, NewIssue};
use crate::xr::gate::GateState;

use crate::gate::issue;
use crate::gate::marker::{self, Binding};
use crate::gate::model::{Action, Decision, Gate, Hold, IssueRead};
use crate::gate::policy::Policy;

/// What the issue's text means for this call.
pub struct Text {
    /// The text to restore now (someone changed it).
    pub restore: Option<NewIssue>,
    /// Approvals count only after this: the last restoration as GitHub dated it; none
    /// counts in a call that restores (GitHub's clock and the function's may differ).
    pub approvals_after: Option<DateTime<Utc>>,
    /// The seal of the text the function writes now, for a binding posted now.
    pub seal: String,
}

/// Reads the chosen issue's text against the seal its binding carries (or, when the
/// binding is posted now, against the text the function writes). The text the function
/// would write now also stands: the approvers or rules listed may have changed since,
/// and a restoration writes it. A binding without a seal (an older one) checks nothing.
pub fn check(
    gate: &Gate,
    policy: &Policy,
    identity: &Identity,
    chosen: &IssueRead,
    (binding, adopt): (&Binding, bool),
    labels: &[String],
) -> Text {
    let written = issue::new_issue(gate, policy, binding.deadline, labels);
    let seal = issue::text_seal(&written.title, &written.body);
    let found = issue::text_seal(&chosen.issue.title, &chosen.issue.body);
    let expected = if adopt {
        Some(seal.as_str())
    } else {
        binding.text.as_deref()
    };
    let changed = expected.is_some_and(|e| e != found && seal != found);
    let restored = marker::restored_at(&chosen.comments, identity, gate.key.as_str());
    Text {
        approvals_after: if changed {
            Some(DateTime::<Utc>::MAX_UTC)
        } else {
            restored
        },
        restore: changed.then_some(written),
        seal,
    }
}

/// When a comment of the function was last deleted from the issue, as its timeline says.
pub fn own_deleted(chosen: &IssueRead, identity: &Identity) -> Option<DateTime<Utc>> {
    chosen
        .deletions
        .iter()
        .filter(|d| {
            d.author
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(&identity.login))
        })
        .map(|d| d.at)
        .max()
}

/// The restoration, once the answers are counted: the issue's text is set back and said
/// on the issue; a gate still pending is held until then.
pub fn restore(
    decision: &mut Decision,
    gate: &Gate,
    issue: &Issue,
    written: NewIssue,
    now: DateTime<Utc>,
) {
    let message = format!(
        "the title or description of issue #{} was changed by someone other than the function; it is restored, and approvals given before then no longer count",
        issue.number
    );
    // The record first: if the restoration then fails, the next call restores again
    // (the text still differs); the other way round, a lost record would let approvals
    // given meanwhile count.
    decision.actions.push(Action::Comment {
        number: issue.number,
        body: issue::restored_comment(gate.key.as_str(), now),
    });
    decision.actions.push(Action::Restore {
        number: issue.number,
        title: written.title,
        body: written.body,
    });
    if decision.state == GateState::Pending {
        decision.hold = Some(Hold::Tampered(message.clone()));
    }
    decision.tampering.push(message);
}
