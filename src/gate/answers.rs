//! Who answered, and who may: the logins whose team or permission must be looked up
//! before deciding, and who never counts (the function, and the requester unless
//! self-approval is on).
//!
//! Pure: no I/O, no clock.

use std::collections::BTreeSet;

use crate::github::{Comment, EventKind, Identity, IssueEvent};

use super::issue;
use super::model::{Gate, Policy};

/// Logins whose team membership or permission must be looked up before deciding: the
/// authors of commands and of edited comments, and whoever closed the issue, unless
/// already listed (without named rules), never counted, or the policy has no team or
/// permission rule.
pub fn candidates(
    gate: &Gate<'_>,
    policy: &Policy,
    identity: &Identity,
    comments: &[Comment],
    events: &[IssueEvent],
) -> BTreeSet<String> {
    let override_teams = policy.frozen.is_some()
        && policy
            .freeze_override
            .as_ref()
            .is_some_and(|o| !o.teams.is_empty());
    if policy.all_teams().is_empty() && policy.min_permission.is_none() && !override_teams {
        return BTreeSet::new();
    }
    // With named rules, a listed approver's teams matter too: they may count toward
    // another rule through one, or allow them to override a freeze window.
    let named = !policy.rules.is_empty() || override_teams;
    let closers = events
        .iter()
        .filter(|e| e.kind == EventKind::Closed)
        .filter_map(|e| e.actor.as_deref());
    comments
        .iter()
        .filter(|c| {
            issue::edited(c)
                || issue::parse_command(&c.body).is_some()
                || issue::parse_override(&c.body).is_some()
        })
        .map(|c| c.author.as_str())
        .chain(closers)
        .filter(|login| (named || !policy.lists(login)) && !excluded(gate, policy, identity, login))
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Never counted as an approval: the function itself, and the requester unless
/// self-approval is on.
pub fn excluded(gate: &Gate<'_>, policy: &Policy, identity: &Identity, login: &str) -> bool {
    login.eq_ignore_ascii_case(&identity.login)
        || (!policy.allow_self_approval && is_requester(gate, login))
}

/// Whether `login` requested this promotion: they may always withdraw it.
pub fn is_requester(gate: &Gate<'_>, login: &str) -> bool {
    gate.requester
        .is_some_and(|r| r.eq_ignore_ascii_case(login))
}
