//! Who may approve a gate, as configured: the pipeline's rule and approvers for the pair
//! (the Input's approvers when the pipeline names none), or without a pipeline the
//! Input's approvers and a manual rule; who may let an approved gate through a freeze
//! window. Built once per call, before anything is read; what varies with time is the
//! [`Situation`](super::situation::Situation)'s.
//!
//! A gate's policy comes only from the XReleasePipeline: someone who can write
//! ConfigMaps in the namespace, but not XReleasePipelines, cannot turn a manual rule
//! automatic or add approvers.
//!
//! Pure: no I/O, no clock.

use crate::call::Fatal;
use crate::github::{Login, Team};
use crate::input::{ApprovalsInput, Permission};
use crate::pipeline_config::{IMPLICIT_RULE, PipelineConfig, Rule};
use crate::xr::gate::GateSpec;

use super::seal::Seal;

/// Who counts toward one approval rule, and how many of them must approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    /// The rule's name ([`IMPLICIT_RULE`] for the approvers outside named rules).
    pub name: String,
    /// Listed approvers.
    pub users: Vec<Login>,
    /// Teams whose members count.
    pub teams: Vec<Team>,
    /// Distinct approvals needed.
    pub needed: u32,
}

/// Who may let an approved gate through a freeze window (being an approver too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overriders {
    /// By login.
    pub users: Vec<Login>,
    /// By team.
    pub teams: Vec<Team>,
}

/// Who may approve this promotion and whether a person must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The pipeline's rule for the pair (manual without a pipeline).
    pub rule: Rule,
    /// Listed approvers.
    pub users: Vec<Login>,
    /// Teams whose members may approve.
    pub teams: Vec<Team>,
    /// Distinct approvals needed.
    pub min_approvals: u32,
    /// The pipeline's named rules for the target environment, all of which must be met
    /// besides the approvers above (when it names any).
    pub rules: Vec<Quorum>,
    /// Anyone with this repository permission or higher may approve.
    pub min_permission: Option<Permission>,
    /// Whether the requester may approve.
    pub allow_self_approval: bool,
    /// Whether a gate without a requester waits instead of asking.
    pub require_requester: bool,
    /// The Input requires the tenant's pipeline, and the gate's namespace has none.
    pub missing_pipeline: bool,
    /// Who may let an approved gate through a freeze window.
    pub freeze_override: Option<Overriders>,
    /// What a request is asked under besides its key (set from the Input and the
    /// Composition once built).
    pub seal: Seal,
    /// Mention the approver teams in the request, so that their members are notified
    /// (the Input's `github.mentionTeams`).
    pub mention_teams: bool,
    /// The authors and committers of the gate's change may not approve it.
    pub exclude_change_authors: bool,
    /// When a pending gate reminds, after its issue opened, increasing.
    pub reminders: Vec<chrono::Duration>,
    /// Who else may answer once the request stays unanswered (the pipeline's).
    pub escalation: Option<Escalation>,
}

/// Who else may answer a pending gate's request, `after` its approval issue opened: when
/// that is is a matter of the issue read, so the judge works it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// How long after the issue opened.
    pub after: chrono::Duration,
    /// By login.
    pub users: Vec<Login>,
    /// By team.
    pub teams: Vec<Team>,
}

/// Reminders as written (validated where they are read).
fn durations(written: &[String]) -> Vec<chrono::Duration> {
    crate::input::reminders(written)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| chrono::Duration::from_std(d).ok())
        .collect()
}

fn logins(users: &[String]) -> Vec<Login> {
    users.iter().map(|u| Login::new(u)).collect()
}

fn teams(teams: &[String]) -> Vec<Team> {
    // Validation refuses anything but `org/slug`, in the Input and in the pipeline.
    teams.iter().filter_map(|t| Team::parse(t)).collect()
}

impl Policy {
    /// The policy for a gate promoting `spec`: source and target must be adjacent, in
    /// order, in the pipeline's environments.
    pub fn for_gate(
        spec: &GateSpec,
        pipeline: Option<&PipelineConfig>,
        defaults: &ApprovalsInput,
    ) -> Result<Policy, Fatal> {
        let mut policy = Policy {
            rule: Rule::Manual,
            users: logins(&defaults.users),
            teams: teams(&defaults.teams),
            min_approvals: defaults.min_approvals,
            rules: Vec::new(),
            min_permission: defaults.min_permission,
            allow_self_approval: defaults.allow_self_approval,
            require_requester: defaults.require_requester,
            missing_pipeline: defaults.require_pipeline && pipeline.is_none(),
            freeze_override: None,
            seal: Seal::default(),
            mention_teams: false,
            exclude_change_authors: defaults.exclude_change_authors,
            reminders: durations(&defaults.reminders),
            escalation: None,
        };
        let Some(pipeline) = pipeline else {
            return Ok(policy);
        };
        let promotion = adjacent(spec, pipeline)?;
        policy.rule = promotion.rule;
        if let Some(approvers) = &promotion.approvals {
            if let Some(exclude) = approvers.exclude_change_authors {
                policy.exclude_change_authors = exclude;
            }
            if let Some(reminders) = &approvers.reminders {
                policy.reminders = durations(reminders);
            }
            policy.escalation = approvers.escalation.as_ref().and_then(|e| {
                Some(Escalation {
                    after: durations(std::slice::from_ref(&e.after)).pop()?,
                    users: logins(&e.users),
                    teams: teams(&e.teams),
                })
            });
            policy.users = logins(&approvers.users);
            policy.teams = teams(&approvers.teams);
            policy.min_approvals = approvers.min_approvals.max(1);
            policy.rules = approvers
                .rules
                .iter()
                .map(|r| Quorum {
                    name: r.name.clone(),
                    users: logins(&r.users),
                    teams: teams(&r.teams),
                    needed: r.min_approvals,
                })
                .collect();
        }
        policy.freeze_override = pipeline.freeze_override.as_ref().map(|o| Overriders {
            users: logins(&o.users),
            teams: teams(&o.teams),
        });
        Ok(policy)
    }

    /// The same policy as asked under `input` in the Composition named in `xr_spec`: its
    /// [`Seal`], and whether requests mention the approver teams.
    pub fn asked_under(mut self, input: &crate::input::Input, xr_spec: &serde_json::Value) -> Self {
        self.seal = Seal::of(input, super::seal::composition_name(xr_spec));
        self.mention_teams = input.github.mention_teams;
        self
    }

    /// Whether a person must approve: strictest wins, so only an automatic rule AND
    /// `approval_required: false` skip approval.
    pub fn needs_approval(&self, spec: &GateSpec) -> bool {
        self.rule != Rule::Automatic || spec.approval_required
    }

    /// Whether `login` is a listed approver, of any rule.
    pub fn lists(&self, login: &str) -> bool {
        self.users
            .iter()
            .chain(self.rules.iter().flat_map(|r| &r.users))
            .any(|u| u.is(login))
    }

    /// Whether the escalation names `login`, by login or through a team GitHub placed
    /// them in (whether their answers count is a matter of time: the judge's).
    pub fn escalates_to(&self, login: &Login, people: &super::model::People) -> bool {
        self.escalation.as_ref().is_some_and(|e| {
            e.users.contains(login) || e.teams.iter().any(|t| people.in_team(login, t))
        })
    }

    /// Every team whose members may approve, of any rule, each once.
    pub fn all_teams(&self) -> Vec<&Team> {
        let mut all: Vec<&Team> = Vec::new();
        for team in self
            .teams
            .iter()
            .chain(self.rules.iter().flat_map(|r| &r.teams))
        {
            if !all.contains(&team) {
                all.push(team);
            }
        }
        all
    }

    /// The rules that must all be met: the named rules, and the approvers above as one
    /// more rule when there are no named rules or they name someone.
    pub fn rules_in_force(&self) -> Vec<Quorum> {
        let mut rules = Vec::new();
        if self.rules.is_empty() || !self.users.is_empty() || !self.teams.is_empty() {
            rules.push(Quorum {
                name: IMPLICIT_RULE.to_owned(),
                users: self.users.clone(),
                teams: self.teams.clone(),
                needed: self.min_approvals.max(1),
            });
        }
        rules.extend(self.rules.iter().cloned());
        rules
    }
}

/// The pipeline's promotion from the gate's source to its target, which must follow it
/// directly.
fn adjacent<'p>(
    spec: &GateSpec,
    pipeline: &'p PipelineConfig,
) -> Result<&'p crate::pipeline_config::Promotion, Fatal> {
    let (source, target) = (&spec.source_environment, &spec.target_environment);
    let envs = pipeline.environments.join(", ");
    let position = |env: &str| pipeline.environments.iter().position(|e| e == env);
    let Some(from) = position(source) else {
        return Err(Fatal::invalid_spec(format!(
            "spec.source_environment: {source:?} is not an environment of the pipeline of tenant {:?} ({envs})",
            spec.tenant
        )));
    };
    if position(target).is_none() {
        return Err(Fatal::invalid_spec(format!(
            "spec.target_environment: {target:?} is not an environment of the pipeline of tenant {:?} ({envs})",
            spec.tenant
        )));
    }
    pipeline.promotion(source, target).ok_or_else(|| {
        let next = pipeline
            .environments
            .get(from + 1)
            .map(|n| format!("the environment after {source:?} is {n:?}"))
            .unwrap_or_else(|| format!("{source:?} is the last environment"));
        Fatal::invalid_spec(format!(
            "spec.target_environment: {target:?} must directly follow spec.source_environment {source:?} in the pipeline of tenant {:?} ({envs}); {next}",
            spec.tenant
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline_config::{Approvers, Promotion, Testing};
    use serde_json::json;

    fn spec(source: &str, target: &str, approval_required: bool) -> GateSpec {
        GateSpec::from_json(
            &json!({"tenant": "my-service", "artifact_id": "ghcr.io/org/app:v1",
                    "source_environment": source, "target_environment": target,
                    "approval_required": approval_required}),
            false,
        )
        .unwrap()
    }

    fn pipeline(rule: Rule, approvals: Option<Approvers>) -> PipelineConfig {
        let envs = ["dev", "staging", "production"];
        PipelineConfig {
            tenant: "my-service".into(),
            environments: envs.iter().map(|e| e.to_string()).collect(),
            promotions: envs
                .windows(2)
                .map(|w| Promotion {
                    from: w[0].into(),
                    to: w[1].into(),
                    rule,
                    approvals: approvals.clone(),
                })
                .collect(),
            registry: "ghcr.io".into(),
            retention_days: 30,
            progression: Default::default(),
            soak_time: Default::default(),
            freezes: Vec::new(),
            freeze_override: None,
            testing: Testing {
                validation_mode: "preview".into(),
                bootstrap_mode: "preview".into(),
            },
        }
    }

    #[test]
    fn without_a_pipeline_the_inputs_approvers_and_a_manual_rule_apply() {
        let defaults = ApprovalsInput {
            users: vec!["alice".into()],
            ..ApprovalsInput::default()
        };
        let p = Policy::for_gate(&spec("dev", "staging", false), None, &defaults).unwrap();
        assert_eq!(p.rule, Rule::Manual);
        assert_eq!(p.users, vec![Login::new("alice")]);
        assert!(p.needs_approval(&spec("dev", "staging", false)));
    }

    #[test]
    fn approval_required_false_cannot_skip_a_manual_rule() {
        let s = spec("dev", "staging", false);
        let manual = Policy::for_gate(
            &s,
            Some(&pipeline(Rule::Manual, None)),
            &ApprovalsInput::default(),
        )
        .unwrap();
        assert!(manual.needs_approval(&s));
        let automatic = Policy::for_gate(
            &s,
            Some(&pipeline(Rule::Automatic, None)),
            &ApprovalsInput::default(),
        )
        .unwrap();
        assert!(!automatic.needs_approval(&s));
        assert!(automatic.needs_approval(&spec("dev", "staging", true)));
    }

    #[test]
    fn pipeline_approvers_override_the_inputs() {
        let approvers = Approvers {
            users: vec!["carol".into()],
            teams: vec![],
            min_approvals: 2,
            rules: Vec::new(),
            exclude_change_authors: None,
            reminders: None,
            escalation: None,
        };
        let defaults = ApprovalsInput {
            users: vec!["alice".into()],
            ..ApprovalsInput::default()
        };
        let p = Policy::for_gate(
            &spec("staging", "production", true),
            Some(&pipeline(Rule::Manual, Some(approvers))),
            &defaults,
        )
        .unwrap();
        assert_eq!((p.users, p.min_approvals), (vec![Login::new("carol")], 2));
    }

    #[test]
    fn non_adjacent_or_unknown_environments_are_fatal_naming_the_field() {
        let p = pipeline(Rule::Manual, None);
        let d = ApprovalsInput::default();
        let err = Policy::for_gate(&spec("dev", "production", true), Some(&p), &d).unwrap_err();
        assert!(
            err.message
                .starts_with("spec.target_environment: \"production\" must directly follow"),
            "{err}"
        );
        let err = Policy::for_gate(&spec("staging", "dev", true), Some(&p), &d).unwrap_err();
        assert!(
            err.message
                .starts_with("spec.target_environment: \"dev\" must directly follow"),
            "{err}"
        );
        let err = Policy::for_gate(&spec("qa", "staging", true), Some(&p), &d).unwrap_err();
        assert!(
            err.message
                .starts_with("spec.source_environment: \"qa\" is not an environment"),
            "{err}"
        );
    }
}
