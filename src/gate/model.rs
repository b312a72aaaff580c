//! The gate's model: the gate being decided, who may approve it, and the decision's
//! shape (its verdict, why it is held, the GitHub actions it asks for). A leaf that the
//! decision, the issue text, the selection, the rendering and the shell all read.

use chrono::{DateTime, Utc};

use crate::freeze::Frozen;
use crate::github::{CloseReason, NewIssue};
use crate::input::Permission;
use crate::policy::{ApprovalRule, FreezeOverride, Rule};
use crate::xr::gate::{Approval, GateSpec, GateState, IssueRef, rfc3339};

/// The gate being decided.
#[derive(Debug, Clone, Copy)]
pub struct Gate<'a> {
    /// The validated spec.
    pub spec: &'a GateSpec,
    /// The gate key.
    pub key: &'a str,
    /// The namespace of the composed resources.
    pub namespace: &'a str,
    /// The XR's name.
    pub name: &'a str,
    /// The XR's uid (empty when the XR has none, as in a local render).
    pub uid: &'a str,
    /// The requester's login, from the `requested-by` annotation.
    pub requester: Option<&'a str>,
}

/// Who may approve this promotion and whether a person must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The pipeline's rule for the pair (manual without a pipeline).
    pub rule: Rule,
    /// Listed approvers.
    pub users: Vec<String>,
    /// Teams (`org/slug`) whose members may approve.
    pub teams: Vec<String>,
    /// Distinct approvals needed.
    pub min_approvals: u32,
    /// The pipeline's named rules for the target environment, all of which must be met
    /// besides the approvers above (when it names any).
    pub rules: Vec<ApprovalRule>,
    /// Anyone with this repository permission or higher may approve.
    pub min_permission: Option<Permission>,
    /// Whether the requester may approve.
    pub allow_self_approval: bool,
    /// The end of the artifact's soak in the source environment (the pipeline's
    /// `soakTime`): before it, approvals count but the gate does not approve.
    pub soak_until: Option<DateTime<Utc>>,
    /// The freeze window open for the target environment at this call, if any.
    pub frozen: Option<Frozen>,
    /// Who, besides being an approver, may let an approved gate through a window.
    pub freeze_override: Option<FreezeOverride>,
}

impl Policy {
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
            .any(|u| u.eq_ignore_ascii_case(login))
    }

    /// Every team whose members may approve, of any rule, each once.
    pub fn all_teams(&self) -> Vec<&str> {
        let mut teams: Vec<&str> = Vec::new();
        for team in self
            .teams
            .iter()
            .chain(self.rules.iter().flat_map(|r| &r.teams))
        {
            if !teams.iter().any(|t| t.eq_ignore_ascii_case(team)) {
                teams.push(team);
            }
        }
        teams
    }

    /// The rules that must all be met: the named rules, and the approvers above as one
    /// more rule when there are no named rules or they name someone.
    pub fn rules_in_force(&self) -> Vec<ApprovalRule> {
        let mut rules = Vec::new();
        if self.rules.is_empty() || !self.users.is_empty() || !self.teams.is_empty() {
            rules.push(ApprovalRule {
                name: IMPLICIT_RULE.to_owned(),
                users: self.users.clone(),
                teams: self.teams.clone(),
                min_approvals: self.min_approvals.max(1),
            });
        }
        rules.extend(self.rules.iter().cloned());
        rules
    }
}

pub use crate::policy::IMPLICIT_RULE;

/// A change to make on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open the approval issue.
    Open(NewIssue),
    /// Comment on an issue.
    Comment {
        /// The issue.
        number: u64,
        /// The comment.
        body: String,
    },
    /// Close an issue.
    Close {
        /// The issue.
        number: u64,
        /// Why.
        reason: CloseReason,
    },
    /// Reopen an issue.
    Reopen {
        /// The issue.
        number: u64,
    },
}

/// The verdict and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The gate's state.
    pub state: GateState,
    /// Counted approvals, earliest first.
    pub approvals: Vec<Approval>,
    /// The rejection that vetoed, if rejected.
    pub rejection: Option<Approval>,
    /// When the gate reached its state (approved, rejected or timed out).
    pub decided_at: Option<DateTime<Utc>>,
    /// The gate's start.
    pub start: DateTime<Utc>,
    /// The deadline.
    pub deadline: DateTime<Utc>,
    /// The approval issue.
    pub issue: Option<IssueRef>,
    /// Approved without a person: automatic rule and `approval_required: false`.
    pub automatic: bool,
    /// Why a pending gate is held back: answers would not approve it yet (an approver's
    /// answer was edited, the issue lost its binding), or it waits for something else
    /// (its requester).
    pub held: Option<Held>,
    /// What someone changed on GitHub that the function does not read, each said once
    /// in a Warning.
    pub tampering: Vec<String>,
    /// GitHub actions to take, in order.
    pub actions: Vec<Action>,
    /// How far each named approval rule got (empty when the pipeline names none).
    pub progress: Vec<RuleProgress>,
    /// Who let the approved gate through which freeze window, and why (said in a Warning).
    pub freeze_override: Option<String>,
}

/// How far one approval rule got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProgress {
    /// The rule's name.
    pub name: String,
    /// Approvals counted toward it.
    pub counted: u32,
    /// Approvals it needs.
    pub needed: u32,
    /// When it was met, if it is.
    pub met_at: Option<DateTime<Utc>>,
}

/// The reason of a gate whose approvals are in while a freeze window is open.
pub const FROZEN: &str = "Frozen";

/// The reason of a gate whose approvals are in while its artifact soaks in the source.
pub const SOAKING: &str = "Soaking";
/// The reason of a gate waiting for its artifact to reach the source environment.
pub const WAITING_FOR_SOURCE: &str = "WaitingForSource";

/// Why a pending gate is held, as its `Approved` condition says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The condition's reason: `Pending` (Unknown: answers may still come), or a reason
    /// the gate waits for before it asks at all (False).
    pub reason: &'static str,
    /// What holds it, for the condition's message.
    pub message: String,
}

impl Held {
    /// Held because the artifact soaks in the source environment until `until`.
    pub fn soaking(spec: &GateSpec, until: DateTime<Utc>) -> Self {
        Held {
            reason: SOAKING,
            message: format!(
                "{} soaks in {} until {} (the pipeline's soakTime): the promotion waits until then, and answers given meanwhile count",
                spec.artifact_id,
                spec.source_environment,
                rfc3339(until)
            ),
        }
    }

    /// Held because a freeze window is open for the target environment.
    pub fn frozen(spec: &GateSpec, frozen: &Frozen, overridable: bool) -> Self {
        let why = if frozen.reason.is_empty() {
            String::new()
        } else {
            format!(" ({})", frozen.reason)
        };
        Held {
            reason: FROZEN,
            message: format!(
                "promotions into {} are frozen by window {}{why} until {}: the promotion waits until then{}",
                spec.target_environment,
                frozen.name,
                rfc3339(frozen.until),
                if overridable {
                    " unless an approver allowed to override comments /override-freeze <reason>, and answers given meanwhile count"
                } else {
                    ""
                }
            ),
        }
    }

    /// Held while pending: answers may still decide it.
    pub fn pending(message: impl Into<String>) -> Self {
        Held {
            reason: "Pending",
            message: message.into(),
        }
    }
}
