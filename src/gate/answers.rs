//! Who answered: the logins whose team membership or repository permission must be
//! looked up before deciding.
//!
//! Pure: no I/O, no clock.

use std::collections::BTreeSet;

use crate::github::{EventKind, Identity, Login};

use super::issue;
use super::marker;
use super::model::IssueRead;
use super::policy::Policy;
use super::situation::Situation;

/// Logins whose team membership or permission must be looked up before deciding: on the
/// issues that may be this key's, the authors of commands, overrides and edited comments,
/// and whoever closed them; unless already listed (without named rules), never counted
/// (the function), or the policy has no team or
/// permission rule (nor escalation teams).
pub fn candidates<'i>(
    policy: &Policy,
    situation: &Situation,
    identity: &Identity,
    issues: impl Iterator<Item = &'i IssueRead>,
) -> BTreeSet<Login> {
    let override_teams = situation.frozen.is_some()
        && policy
            .freeze_override
            .as_ref()
            .is_some_and(|o| !o.teams.is_empty());
    let escalation_teams = policy
        .escalation
        .as_ref()
        .is_some_and(|e| !e.teams.is_empty());
    if policy.all_teams().is_empty()
        && policy.min_permission.is_none()
        && !override_teams
        && !escalation_teams
    {
        return BTreeSet::new();
    }
    // With named rules, a listed approver's teams matter too: they may count toward
    // another rule through one, or allow them to override a freeze window.
    let named = !policy.rules.is_empty() || override_teams;
    // The requester's answers are looked up too: an annotation changed after the request
    // sealed its requester is ignored, and then names someone who may approve.
    let never = |login: &str| login.eq_ignore_ascii_case(&identity.login);
    let mut logins = BTreeSet::new();
    for read in issues {
        let closers = read
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Closed)
            .filter_map(|e| e.actor.as_deref());
        let authors = read
            .comments
            .iter()
            .filter(|c| {
                marker::edited(c)
                    || issue::parse_command(&c.body).is_some()
                    || issue::parse_override(&c.body).is_some()
            })
            .map(|c| c.author.as_str());
        // A deleted comment may have been a veto: whether its author may answer decides
        // whether it holds approval.
        let deleted = read.deletions.iter().filter_map(|d| d.author.as_deref());
        logins.extend(
            authors
                .chain(closers)
                .chain(deleted)
                .filter(|login| (named || !policy.lists(login)) && !never(login))
                .map(Login::new),
        );
    }
    logins
}
