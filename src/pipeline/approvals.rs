//! `spec.approvals`: who may approve promotions into each environment, as users, teams
//! and named rules, validated with field paths.

use std::collections::{BTreeMap, BTreeSet};

use super::violations::Collector;
use crate::names;
use crate::pipeline_config::{ApprovalRule, Approvers, Escalation, IMPLICIT_RULE};
use crate::xr::pipeline::{ApprovalRuleSpec, ApprovalsSpec};

/// The most rules one environment may have.
const MAX_RULES: usize = 10;

/// Bounds of `spec.approvals.<env>.minApprovals`.
pub const MIN_APPROVALS: std::ops::RangeInclusive<i64> = 1..=10;

pub(super) fn check_approvals(
    approvals: &BTreeMap<String, ApprovalsSpec>,
    environments: &[String],
    errors: &mut Collector,
) -> BTreeMap<String, Approvers> {
    let mut out = BTreeMap::new();
    for (env, spec) in approvals {
        let path = format!("spec.approvals.{env}");
        match environments.iter().position(|e| e == env) {
            None => {
                errors.add(
                    path,
                    format!(
                        "{env:?} is not one of spec.environments [{}]",
                        environments.join(", ")
                    ),
                );
                continue;
            }
            Some(0) => {
                errors.add(
                    path,
                    format!(
                        "{env:?} is the first environment; nothing is promoted into it, so it has no approvers"
                    ),
                );
                continue;
            }
            Some(_) => {}
        }
        let before = errors.0.len();
        let has_rules = spec.rules.as_ref().is_some_and(|r| !r.is_empty());
        if spec.users.is_empty() && spec.teams.is_empty() && !has_rules {
            errors.add(
                path.clone(),
                "must name at least one of users, teams or rules (omit the environment to use the function's default approvers)",
            );
        }
        if has_rules
            && spec.users.is_empty()
            && spec.teams.is_empty()
            && spec.min_approvals.is_some()
        {
            errors.add(
                format!("{path}.minApprovals"),
                "counts approvals from the users and teams outside rules, and there are none: set minApprovals on each rule",
            );
        }
        check_people(&path, &spec.users, &spec.teams, errors);
        let min_approvals = check_min_approvals(&path, spec.min_approvals, errors);
        let rules = check_rules(&path, spec.rules.as_deref(), errors);
        if let Err((i, why)) =
            crate::input::reminders(spec.reminders.as_deref().unwrap_or_default())
        {
            errors.add(format!("{path}.reminders[{i}]"), why);
        }
        let escalation = spec
            .escalation
            .as_ref()
            .map(|e| check_escalation(&format!("{path}.escalation"), e, errors));
        if errors.0.len() == before {
            out.insert(
                env.clone(),
                Approvers {
                    users: spec.users.clone(),
                    teams: spec.teams.clone(),
                    min_approvals,
                    rules,
                    exclude_change_authors: spec.exclude_change_authors,
                    reminders: spec.reminders.clone(),
                    escalation,
                },
            );
        }
    }
    out
}

/// `escalation` at `path`: a duration like a reminder's, someone to escalate to.
fn check_escalation(
    path: &str,
    spec: &crate::xr::pipeline::EscalationSpec,
    errors: &mut Collector,
) -> Escalation {
    if let Err((_, why)) = crate::input::reminders(std::slice::from_ref(&spec.after)) {
        errors.add(format!("{path}.after"), why);
    }
    if spec.users.is_empty() && spec.teams.is_empty() {
        errors.add(path.to_owned(), "must name at least one user or team");
    }
    check_people(path, &spec.users, &spec.teams, errors);
    Escalation {
        after: spec.after.clone(),
        users: spec.users.clone(),
        teams: spec.teams.clone(),
    }
}

/// `users` and `teams` at `path`.
pub(super) fn check_people(path: &str, users: &[String], teams: &[String], errors: &mut Collector) {
    for (i, user) in users.iter().enumerate() {
        if !is_github_login(user) {
            errors.add(
                format!("{path}.users[{i}]"),
                format!("{user:?} is not a GitHub login"),
            );
        }
    }
    for (i, team) in teams.iter().enumerate() {
        if !is_team(team) {
            errors.add(
                format!("{path}.teams[{i}]"),
                format!("{team:?} must be org/team-slug"),
            );
        }
    }
}

/// `minApprovals` at `path`, default 1.
fn check_min_approvals(path: &str, min: Option<i64>, errors: &mut Collector) -> u32 {
    let min = min.unwrap_or(1);
    if !MIN_APPROVALS.contains(&min) {
        errors.add(
            format!("{path}.minApprovals"),
            format!(
                "{min} must be between {} and {}",
                MIN_APPROVALS.start(),
                MIN_APPROVALS.end()
            ),
        );
    }
    min.clamp(*MIN_APPROVALS.start(), *MIN_APPROVALS.end()) as u32
}

/// `rules` at `path`: each named (a DNS label, unique), with users or teams.
fn check_rules(
    path: &str,
    rules: Option<&[ApprovalRuleSpec]>,
    errors: &mut Collector,
) -> Vec<ApprovalRule> {
    let Some(rules) = rules else {
        return Vec::new();
    };
    if rules.is_empty() {
        errors.add(
            format!("{path}.rules"),
            "must name at least one rule (omit rules to use users and teams alone)",
        );
    }
    if rules.len() > MAX_RULES {
        errors.add(
            format!("{path}.rules"),
            format!("at most {MAX_RULES} rules, got {}", rules.len()),
        );
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("{path}.rules[{i}]");
        if !names::is_dns_label(&rule.name) {
            errors.add(
                format!("{at}.name"),
                format!(
                    "{:?} must be a lowercase name of letters, digits and '-' (at most 63)",
                    rule.name
                ),
            );
        } else if rule.name == IMPLICIT_RULE {
            errors.add(
                format!("{at}.name"),
                format!(
                    "{IMPLICIT_RULE:?} is the name of the users and teams outside rules; choose another"
                ),
            );
        } else if !names.insert(rule.name.clone()) {
            errors.add(
                format!("{at}.name"),
                format!("{:?} names another rule too", rule.name),
            );
        }
        if rule.users.is_empty() && rule.teams.is_empty() {
            errors.add(at.clone(), "must name at least one of users, teams");
        }
        check_people(&at, &rule.users, &rule.teams, errors);
        let min_approvals = check_min_approvals(&at, rule.min_approvals, errors);
        out.push(ApprovalRule {
            name: rule.name.clone(),
            users: rule.users.clone(),
            teams: rule.teams.clone(),
            min_approvals,
        });
    }
    out
}

/// A GitHub login: letters, digits and single hyphens, not at either end, at most 39.
fn is_github_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `org/team-slug`.
fn is_team(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    matches!(s.split_once('/'), Some((org, slug)) if part(org) && part(slug))
}
