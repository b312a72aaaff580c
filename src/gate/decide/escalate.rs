//! Escalation: `after` the approval issue opened, while the gate is still pending for
//! answers, the pipeline's escalation users and teams may answer too. Whether their answers
//! count is the [judge](super::judge)'s (only those posted after the escalation, vetoes
//! included, under the same exclusions); here the request says so once: a comment that
//! mentions them (teams with `github.mentionTeams`), recognised on the issue by its marker
//! also after a lost status write, and the escalation users assigned where GitHub lets them
//! be. None once decided, while waiting for something else, or after the deadline.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Utc};

use crate::github::{Identity, Issue};
use crate::xr::gate::rfc3339;

use crate::gate::issue;
use crate::gate::marker::{self, marker};
use crate::gate::model::{Action, Decision, Gate, IssueRead};
use crate::gate::policy::{Escalation, Policy};
use crate::gate::situation::Situation;

use super::remind::{asking, go};

/// At most this many people are assigned to an issue (GitHub keeps ten).
const MAX_ASSIGNEES: usize = 10;

/// When the request on `issue` escalates, by GitHub's clock: its creation plus the
/// escalation's `after`, when that comes before the deadline (else never).
pub(super) fn time(
    policy: &Policy,
    issue: Option<&Issue>,
    deadline: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let at = issue?.created_at + policy.escalation.as_ref()?.after;
    (at < deadline).then_some(at)
}

/// Whether the function already said on `chosen` that this key's request escalated (edited
/// or not: it was posted all the same).
fn said(chosen: &IssueRead, identity: &Identity, key: &str) -> bool {
    marker::own_records(&chosen.comments, identity)
        .chain(marker::edited_records(&chosen.comments, identity))
        .flat_map(|c| marker::markers(&c.body))
        .any(|m| m.contains_key("escalation") && m.get("key").map(String::as_str) == Some(key))
}

/// Records on `decision` that the request on `chosen` escalated (by now), says so once on
/// the issue while the gate asks, and wakes the gate for an escalation still to come.
pub(super) fn escalate(
    gate: &Gate,
    (policy, situation): (&Policy, &Situation),
    identity: &Identity,
    chosen: &IssueRead,
    decision: &mut Decision,
) {
    let (Some(escalation), Some(at)) = (
        &policy.escalation,
        time(policy, Some(&chosen.issue), decision.deadline),
    ) else {
        return;
    };
    let asking = asking(situation, decision);
    if at > situation.now {
        if asking {
            decision.wake_at = Some(decision.wake_at.map_or(at, |w| w.min(at)));
        }
        return;
    }
    decision.escalated_at = Some(at);
    if !asking || said(chosen, identity, gate.key.as_str()) {
        return;
    }
    let number = chosen.issue.number;
    let people = escalated_users(gate, escalation, identity);
    decision.actions.push(Action::Comment {
        number,
        body: comment(gate, (policy, escalation), &people, decision, at),
    });
    let mut assignees = people;
    assignees.truncate(MAX_ASSIGNEES);
    if !assignees.is_empty() {
        decision.actions.push(Action::Assign { number, assignees });
    }
}

/// The escalation's users who may answer: not the requester, not the function.
fn escalated_users(gate: &Gate, escalation: &Escalation, identity: &Identity) -> Vec<String> {
    let mut people: Vec<String> = escalation
        .users
        .iter()
        .map(|u| u.as_str().to_owned())
        .filter(|u| !gate.is_requester(u) && !u.eq_ignore_ascii_case(&identity.login))
        .collect();
    people.sort_by_key(|u| u.to_ascii_lowercase());
    people.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    people
}

/// The comment that says the request escalated: to whom, from when their answers count,
/// and when it times out.
fn comment(
    gate: &Gate,
    (policy, escalation): (&Policy, &Escalation),
    users: &[String],
    decision: &Decision,
    at: DateTime<Utc>,
) -> String {
    let mut mentions: Vec<String> = users.iter().map(|u| format!("@{u}")).collect();
    let mut teams: Vec<String> = escalation.teams.iter().map(|t| t.to_string()).collect();
    teams.sort();
    teams.dedup();
    if policy.mention_teams {
        mentions.extend(teams.iter().map(|t| format!("@{t}")));
    } else {
        mentions.extend(teams.iter().map(|t| format!("the members of `{t}`")));
    }
    format!(
        "Escalated: this request for promoting {} from {} to {} has waited {} for answers ({}). {} may now answer it too: comment `/approve` or `/reject`. Their answers posted after {} count toward every approval rule; who may not approve this promotion still may not. It times out at {}.\n\n{}",
        issue::escape(&gate.spec.artifact_id),
        gate.spec.source_environment,
        gate.spec.target_environment,
        go(escalation.after),
        super::remind::so_far(policy, decision),
        if mentions.is_empty() {
            "The escalation approvers".to_owned()
        } else {
            mentions.join(", ")
        },
        rfc3339(at),
        rfc3339(decision.deadline),
        marker(&[("escalation", ""), ("key", gate.key.as_str())])
    )
}
