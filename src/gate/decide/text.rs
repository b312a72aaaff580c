//! The issue's title and description as the function wrote them. They tell approvers
//! what they approve, and anyone with write access can change them: a change by anyone
//! else holds the gate (Warning `Tampered`), the function restores them, and approvals
//! given before the restoration no longer count (approvers may have read another
//! request). Rejections count throughout. An edit put back before the function read the
//! issue is still an edit: GitHub records the last edit of the description (GraphQL) and
//! every change of the title (a `renamed` event), and approvals given before it no longer
//! count. So are the function's own records that someone deleted or edited: any of them
//! may have been a restoration.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Utc};

use crate::github::{EventKind, Identity, Issue, NewIssue};
use crate::xr::gate::{GateState, rfc3339};

use crate::gate::change::ChangeRead;
use crate::gate::change_text;
use crate::gate::issue;
use crate::gate::marker::{self, Binding};
use crate::gate::model::{Action, Decision, Gate, Hold, IssueRead};
use crate::gate::policy::Policy;

/// How often the function sets an issue's text back before it stops (each restoration
/// costs two writes).
pub const MAX_RESTORATIONS: usize = 3;

/// What the issue's text means for this call.
pub struct Text {
    /// The text to restore now (someone changed it).
    pub restore: Option<NewIssue>,
    /// Restore without a word: the issue is being bound now (a call opened it and failed
    /// before binding it; nobody answered on it), and its text is the function's own
    /// with another deadline.
    pub quiet: bool,
    /// The text is the function's, but the change under review it lists is not the one
    /// read now: it is listed again, and approvals given before no longer count.
    pub relist: bool,
    /// Approvals count only after this: the last restoration as GitHub dated it, the last
    /// change of the text by someone else; none counts in a call that restores (GitHub's clock and the function's may
    /// differ).
    pub approvals_after: Option<DateTime<Utc>>,
    /// Changes found that move `approvals_after`, each said once as tampering.
    pub changes: Vec<String>,
    /// The seal of the text the function writes now, for a binding posted now.
    pub seal: String,
}

/// Reads the chosen issue's text against the seals the function wrote (its binding's, or,
/// when the binding is posted now, the text it writes; and those of its restorations).
/// The text the function would write now also stands: the approvers or rules listed may
/// have changed since, and a restoration writes it. A binding without a seal (an older
/// one) checks nothing.
pub fn check(
    gate: &Gate,
    policy: &Policy,
    observed: &super::Observed<'_>,
    chosen: &IssueRead,
    (binding, adopt): (&Binding, bool),
    labels: &[String],
) -> Text {
    let identity = observed.identity;
    let section = observed
        .change
        .map(|c| change_text::change_section(c, policy.exclude_change_authors));
    let written = issue::new_issue(gate, policy, binding.deadline, labels, section.as_deref());
    let seal = issue::text_seal(&written.title, &written.body);
    let found = issue::text_seal(&chosen.issue.title, &chosen.issue.body);
    let restorations = marker::restorations(&chosen.comments, identity, gate.key.as_str());
    let expected = if adopt {
        Some(seal.as_str())
    } else {
        binding.text.as_deref()
    };
    let accepted = |s: &str| {
        s == seal
            || expected == Some(s)
            || restorations.iter().any(|(_, r)| r.as_deref() == Some(s))
    };
    let changed = expected.is_some() && !accepted(&found);
    // The change the issue lists, by its hidden line: a change read whole now and not
    // listed there is listed again (not on a change GitHub fails to read now, which says
    // nothing of the list; nor while someone else's edit is restored anyway).
    let relist = !changed
        && !adopt
        && expected.is_some()
        && matches!(observed.change, Some(ChangeRead::Read(view))
            if !chosen.issue.body.contains(&change_text::change_marker(view)));
    let mut changes = Vec::new();
    let mut after = restorations.iter().map(|(at, _)| *at).max();
    let mut moved = |at: DateTime<Utc>, what: String| {
        if after.is_none_or(|a| a < at) {
            after = Some(at);
        }
        changes.push(what);
    };
    let number = chosen.issue.number;
    if expected.is_some() && !adopt {
        for (at, by) in edits_by_others(chosen, identity, binding.start) {
            moved(
                at,
                format!(
                    "the title or description of issue #{number} was changed by {by} at {}; approvals given before then no longer count",
                    rfc3339(at)
                ),
            );
        }
    }
    // The function's writes stay bounded whatever writers do: after a few restorations it
    // stops setting the text back. The text stays changed, and no approval counts on it.
    // Listing the change again is caused by a promotion into the target, not by a writer:
    // it does not count toward the cap.
    let relistings = marker::relistings(&chosen.comments, identity, gate.key.as_str());
    let spent = restorations.len().saturating_sub(relistings) >= MAX_RESTORATIONS;
    if changed && spent {
        changes.push(format!(
            "the title or description of issue #{number} was changed again after {MAX_RESTORATIONS} restorations; it is no longer restored and no approval counts on it until someone puts the text back"
        ));
    }
    Text {
        approvals_after: if changed || relist {
            Some(DateTime::<Utc>::MAX_UTC)
        } else {
            after
        },
        restore: ((changed && !spent) || relist).then_some(written),
        quiet: adopt,
        relist: relist && !changed,
        changes,
        seal,
    }
}

/// Changes of the issue's text by anyone but the function since `since`, as GitHub
/// records them: the last edit of the description, and every change of the title.
fn edits_by_others(
    chosen: &IssueRead,
    identity: &Identity,
    since: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, String)> {
    let by_others = |who: Option<&str>| !who.is_some_and(|w| is_function(w, identity));
    let renames = chosen
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Other("renamed".into()))
        .filter(|e| e.actor_id != Some(identity.id) && by_others(e.actor.as_deref()))
        .map(|e| (e.created_at, e.actor.clone()));
    let edit = chosen
        .text_edit
        .iter()
        .filter(|e| e.editor_id != Some(identity.id) && by_others(e.editor.as_deref()))
        .map(|e| (e.at, e.editor.clone()));
    renames
        .chain(edit)
        .filter(|(at, _)| *at >= since)
        .map(|(at, who)| (at, who.unwrap_or_else(|| "someone".to_owned())))
        .collect()
}

/// When a comment of the function was last deleted from the issue (as its timeline
/// says) or edited by someone: either may have been a restoration.
pub fn own_records_lost(chosen: &IssueRead, identity: &Identity) -> Option<DateTime<Utc>> {
    let edited = marker::edited_records(&chosen.comments, identity).map(|c| c.updated_at);
    own_deleted(chosen, identity)
        .into_iter()
        .chain(edited)
        .max()
}

/// When a comment of the function was last deleted from the issue, as its timeline says.
pub fn own_deleted(chosen: &IssueRead, identity: &Identity) -> Option<DateTime<Utc>> {
    chosen
        .deletions
        .iter()
        .filter(|d| {
            d.author_id == Some(identity.id)
                || d.author
                    .as_deref()
                    .is_some_and(|a| is_function(a, identity))
        })
        .map(|d| d.at)
        .max()
}

/// Whether `login`, as GitHub's GraphQL names an account, is the function's: GraphQL names
/// a bot (an App) without the `[bot]` its REST login carries.
pub fn is_function(login: &str, identity: &Identity) -> bool {
    let me = identity.login.as_str();
    login.eq_ignore_ascii_case(me)
        || me
            .strip_suffix("[bot]")
            .is_some_and(|slug| login.eq_ignore_ascii_case(slug))
}

/// The restoration, once the answers are counted: the issue's text is set back and said
/// on the issue; a gate still pending is held until then. An issue bound now is set back
/// without a word.
pub fn restore(
    decision: &mut Decision,
    gate: &Gate,
    issue: &Issue,
    (written, quiet, relist): (NewIssue, bool, bool),
    now: DateTime<Utc>,
) {
    let seal = issue::text_seal(&written.title, &written.body);
    let restore = Action::Restore {
        number: issue.number,
        title: written.title,
        body: written.body,
    };
    if quiet {
        decision.actions.push(restore);
        return;
    }
    if relist {
        decision.actions.push(Action::Comment {
            number: issue.number,
            body: change_text::relisted_comment(gate.key.as_str(), now, &seal),
        });
        decision.actions.push(restore);
        if decision.state == GateState::Pending {
            decision.hold = Some(Hold::Pending(format!(
                "approval is held: what this promotion changes is not what issue #{} listed; it is listed again, and approvals given before then no longer count",
                issue.number
            )));
        }
        return;
    }
    let message = format!(
        "the title or description of issue #{} was changed by someone other than the function; it is restored, and approvals given before then no longer count",
        issue.number
    );
    // The record first: if the restoration then fails, the next call restores again
    // (the text still differs); the other way round, a lost record would let approvals
    // given meanwhile count.
    decision.actions.push(Action::Comment {
        number: issue.number,
        body: issue::restored_comment(gate.key.as_str(), now, &seal),
    });
    decision.actions.push(restore);
    if decision.state == GateState::Pending {
        decision.hold = Some(Hold::Tampered(message.clone()));
    }
    decision.tampering.push(message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_names_an_app_s_bot_without_its_suffix() {
        let app = Identity {
            login: "release-gates[bot]".into(),
            id: 9,
        };
        assert!(is_function("release-gates", &app));
        assert!(is_function("Release-Gates[bot]", &app));
        assert!(!is_function("release-gates-x", &app));
        let user = Identity {
            login: "release-bot".into(),
            id: 8,
        };
        assert!(is_function("release-bot", &user));
        assert!(!is_function("release", &user));
    }
}
