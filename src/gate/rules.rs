//! Approval rules: every rule in force must be met, and an approver counts
//! toward each rule that lists them (by login, or through a team GitHub said they are in).
//! Without named rules, the approvers form one rule and every counted approval counts
//! toward it, as always.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Utc};

use crate::github::Login;
use crate::pipeline_config::IMPLICIT_RULE;
use crate::xr::gate::Approval;

use super::model::{Decision, People, RuleProgress};
use super::policy::{Policy, Quorum};

/// Whether the approval by `login` counts toward `rule`.
fn counts_toward(rule: &Quorum, login: &Login, people: &People) -> bool {
    rule.users.contains(login) || rule.teams.iter().any(|t| people.in_team(login, t))
}

/// Counts `approvals` (earliest first) toward each rule in force, writes on each approval
/// the named rules it counted toward, and says how far each rule got. An approval
/// `escalated` says was given by an escalation approver after the escalation counts toward
/// every rule.
pub fn count(
    policy: &Policy,
    approvals: &mut [Approval],
    people: &People,
    escalated: impl Fn(&Approval) -> bool,
) -> Vec<RuleProgress> {
    let rules = policy.rules_in_force();
    let named = !policy.rules.is_empty();
    let mut progress: Vec<RuleProgress> = Vec::with_capacity(rules.len());
    for rule in &rules {
        let implicit = rule.name == IMPLICIT_RULE;
        let mut counted = 0u32;
        let mut met_at = None;
        for approval in approvals.iter_mut() {
            let login = Login::new(&approval.login);
            // The approvers outside named rules also take those allowed by repository
            // permission; alone, they take every counted approval.
            let counts = if (implicit && !named) || escalated(approval) {
                true
            } else if implicit {
                counts_toward(rule, &login, people)
                    || (policy.min_permission.is_some()
                        && !policy
                            .rules
                            .iter()
                            .any(|r| counts_toward(r, &login, people))
                        && people.authorized.contains(&login))
            } else {
                counts_toward(rule, &login, people)
            };
            if !counts {
                continue;
            }
            counted += 1;
            if counted == rule.needed.max(1) {
                met_at = Some(approval.at);
            }
            if named {
                approval.rules.push(rule.name.clone());
            }
        }
        progress.push(RuleProgress {
            name: rule.name.clone(),
            counted,
            needed: rule.needed.max(1),
            met_at,
        });
    }
    progress
}

/// When every rule was met: the latest of their times; `None` while one is not.
pub fn met_at(progress: &[RuleProgress]) -> Option<DateTime<Utc>> {
    progress
        .iter()
        .map(|r| r.met_at)
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()
}

/// What the rules still need, for messages: `release-managers 1 of 1, security 0 of 1`.
pub fn summary(progress: &[RuleProgress]) -> String {
    progress
        .iter()
        .map(|r| format!("{} {} of {}", r.name, r.counted.min(r.needed), r.needed))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The issue body's lines for named rules (`None` without any): each rule, how many
/// approvals it takes and from whom; `code` quotes a name as the body does.
pub fn describe(policy: &Policy, code: fn(&str) -> String) -> Option<Vec<String>> {
    if policy.rules.is_empty() {
        return None;
    }
    fn list<T: ToString>(items: &[T], code: fn(&str) -> String) -> String {
        items
            .iter()
            .map(|i| code(&i.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    }
    let lines = policy
        .rules_in_force()
        .iter()
        .map(|r| {
            let mut people = Vec::new();
            if !r.users.is_empty() {
                people.push(format!("users {}", list(&r.users, code)));
            }
            if !r.teams.is_empty() {
                people.push(format!("members of the teams {}", list(&r.teams, code)));
            }
            if r.name == IMPLICIT_RULE
                && let Some(p) = policy.min_permission
            {
                people.push(format!(
                    "anyone with at least {} permission on this repository",
                    code(&format!("{p:?}").to_ascii_lowercase())
                ));
            }
            format!(
                "- **{}**: {} distinct approval{} from {}",
                r.name,
                r.needed,
                if r.needed == 1 { "" } else { "s" },
                people.join("; ")
            )
        })
        .collect();
    Some(lines)
}

/// The gate ConfigMap's entries for named rules (none without any): each rule
/// (`name:min:people`), how far each got, and which rules each approval counted toward
/// (`login:rule+rule`).
pub fn config_entries(policy: &Policy, decision: &Decision) -> Vec<(String, String)> {
    if policy.rules.is_empty() {
        return Vec::new();
    }
    let rules = policy
        .rules_in_force()
        .iter()
        .map(|r| {
            let people: Vec<String> = r
                .users
                .iter()
                .map(Login::to_string)
                .chain(r.teams.iter().map(|t| t.to_string()))
                .collect();
            format!("{}:{}:{}", r.name, r.needed, people.join("+"))
        })
        .collect::<Vec<_>>()
        .join(",");
    let counted = decision
        .approvals
        .iter()
        .map(|a| format!("{}:{}", a.login, a.rules.join("+")))
        .collect::<Vec<_>>()
        .join(",");
    vec![
        ("approval_rules".to_owned(), rules),
        ("approval_rules_met".to_owned(), summary(&decision.progress)),
        ("approvals_by_rule".to_owned(), counted),
    ]
}
