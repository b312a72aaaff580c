//! Reminders: at each of the pipeline's `reminders` after the approval issue opened, while
//! the gate is pending for answers (not while it waits for its source, soaks or is frozen),
//! one comment that mentions the approvers (and, with `github.mentionTeams`, the teams)
//! who have not answered and says how long is left. Each is posted once: the comment
//! carries a marker the function recognises on the issue, also after a lost status write;
//! after downtime only the latest missed one is posted, and none after the deadline.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Duration, Utc};

use crate::github::Identity;
use crate::xr::gate::{GateState, rfc3339};

use crate::gate::issue;
use crate::gate::marker::{self, marker};
use crate::gate::model::{Action, Decision, Gate, IssueRead};
use crate::gate::policy::Policy;
use crate::gate::situation::Situation;

/// `d` as Go writes a duration: `1h30m`, `45m`, `10s`.
pub fn go(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// The reminders the function posted on `chosen` for this key, as their markers say
/// (edited or not: an edited reminder was posted all the same).
pub(super) fn posted(chosen: &IssueRead, identity: &Identity, key: &str) -> Vec<String> {
    let own = marker::own_records(&chosen.comments, identity)
        .chain(marker::edited_records(&chosen.comments, identity));
    let mut after: Vec<String> = own
        .flat_map(|c| marker::markers(&c.body))
        .filter(|m| m.contains_key("reminder") && m.get("key").map(String::as_str) == Some(key))
        .filter_map(|m| m.get("after").cloned())
        .collect();
    by_duration(&mut after);
    after
}

/// Sorts reminders as durations (`4h` before `20h`), each once, at most as many as a
/// pipeline may name (an edited comment of the function may hold any number of markers).
fn by_duration(after: &mut Vec<String>) {
    after.retain(|a| crate::input::GoDuration::parse(a).is_ok());
    after.sort_by_key(|a| crate::input::GoDuration::parse(a).map(|d| d.0).ok());
    after.dedup();
    after.truncate(MAX_LISTED);
}

/// The most reminders `status.reminders` lists (a pipeline names at most 10).
const MAX_LISTED: usize = 10;

/// Whether the gate is pending for answers: not decided, not waiting for anything else
/// first (its source, its soak, a freeze window).
pub(super) fn asking(situation: &Situation, decision: &Decision) -> bool {
    decision.state == GateState::Pending
        && decision.hold.as_ref().is_none_or(|h| h.asks())
        && situation.soaking(decision.start).is_none()
        && situation.frozen().is_none()
}

/// Adds the reminder due now to a pending `decision` on `chosen`, records the reminders
/// posted, and says when the next one is due.
pub(super) fn remind(
    gate: &Gate,
    (policy, situation): (&Policy, &Situation),
    identity: &Identity,
    chosen: &IssueRead,
    decision: &mut Decision,
) {
    let key = gate.key.as_str();
    let now = situation.now;
    let mut posted = posted(chosen, identity, key);
    let asking = asking(situation, decision);
    let opened = chosen.issue.created_at;
    let at = |d: &Duration| opened + *d;
    let within = |d: &&Duration| at(d) < decision.deadline;
    let due = policy
        .reminders
        .iter()
        .filter(within)
        .rfind(|d| at(d) <= now);
    decision.wake_at = asking
        .then(|| policy.reminders.iter().filter(within).find(|d| at(d) > now))
        .flatten()
        .map(at);
    if let Some(d) = due.filter(|_| asking)
        && !posted.contains(&go(*d))
    {
        decision.actions.push(Action::Comment {
            number: chosen.issue.number,
            body: reminder(gate, (policy, identity), decision, *d, now),
        });
        posted.push(go(*d));
    }
    by_duration(&mut posted);
    decision.reminders = posted;
}

/// How far the approvals got: `1 of 2 approvals counted so far`, or with named rules,
/// `approval rules so far: release 1 of 1, security 0 of 1`.
pub(super) fn so_far(policy: &Policy, decision: &Decision) -> String {
    if decision.progress.is_empty() {
        let counted = decision.approvals.len();
        let needed = policy.min_approvals.max(1);
        format!("{counted} of {needed} approvals counted so far")
    } else {
        let rules = crate::gate::rules::summary(&decision.progress);
        format!("approval rules so far: {rules}")
    }
}

/// The reminder posted `after` the issue opened: who has not answered, how long is left.
fn reminder(
    gate: &Gate,
    (policy, identity): (&Policy, &Identity),
    decision: &Decision,
    after: Duration,
    now: DateTime<Utc>,
) -> String {
    let answered = |login: &str| {
        decision
            .approvals
            .iter()
            .chain(decision.rejection.iter())
            .any(|a| a.login.eq_ignore_ascii_case(login))
    };
    let mut people: Vec<String> = policy
        .users
        .iter()
        .chain(policy.rules.iter().flat_map(|r| r.users.iter()))
        .map(|u| u.as_str().to_owned())
        .filter(|u| !answered(u) && !gate.is_requester(u))
        .filter(|u| !u.eq_ignore_ascii_case(&identity.login))
        .collect();
    people.sort_by_key(|u| u.to_ascii_lowercase());
    people.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let mut mentions: Vec<String> = people.iter().map(|u| format!("@{u}")).collect();
    if policy.mention_teams {
        let mut teams: Vec<String> = policy
            .teams
            .iter()
            .chain(policy.rules.iter().flat_map(|r| r.teams.iter()))
            .map(|t| format!("@{t}"))
            .collect();
        teams.sort();
        teams.dedup();
        mentions.extend(teams);
    }
    let left = decision.deadline - now;
    format!(
        "Reminder: this request for promoting {} from {} to {} is still waiting for answers ({}). It times out at {} ({} left).{}\n\n{}",
        issue::escape(&gate.spec.artifact_id),
        gate.spec.source_environment,
        gate.spec.target_environment,
        so_far(policy, decision),
        rfc3339(decision.deadline),
        go(left),
        if mentions.is_empty() {
            String::new()
        } else {
            format!(" {}", mentions.join(" "))
        },
        marker(&[
            ("reminder", ""),
            ("key", gate.key.as_str()),
            ("after", &go(after))
        ])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_writes_them() {
        assert_eq!(go(Duration::minutes(90)), "1h30m");
        assert_eq!(go(Duration::hours(24)), "24h");
        assert_eq!(go(Duration::seconds(45)), "45s");
        assert_eq!(go(Duration::zero()), "0s");
        assert_eq!(go(Duration::seconds(3661)), "1h1m1s");
    }
}
