//! The normalised pipeline: what an XReleasePipeline writes into its ConfigMap as
//! `pipeline.yaml` (for scripts), and what an XPromotionGate derives from the
//! XReleasePipeline it asks for as a required resource, to learn its promotion rule and
//! approvers. One type on both sides keeps them in step.
//!
//! Pure: types, (de)serialisation and lookups only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The key of the pipeline ConfigMap holding [`PipelineConfig`] as YAML.
pub const PIPELINE_YAML_KEY: &str = "pipeline.yaml";

/// Whether a promotion needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// A person must approve.
    Manual,
    /// No approval needed (if the gate also says so).
    Automatic,
}

impl Rule {
    /// As the pipeline's ConfigMaps write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Manual => "manual",
            Rule::Automatic => "automatic",
        }
    }
}

/// Who may approve promotions into one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approvers {
    /// GitHub logins.
    #[serde(default)]
    pub users: Vec<String>,
    /// Teams as `org/slug`.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Distinct approvals needed.
    pub min_approvals: u32,
    /// Named rules that must all be met besides (or, without users and teams, instead of)
    /// the approvers above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<ApprovalRule>,
    /// Whether the change's authors are kept from approving; `None`: as the Input says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_change_authors: Option<bool>,
    /// When a pending gate reminds, as written (validated); `None`: as the Input says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<Vec<String>>,
    /// Who else may answer once a request stays unanswered (validated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
}

/// Who else may answer a pending gate's request, from a time after its issue opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Escalation {
    /// A Go duration after the approval issue opened (validated).
    pub after: String,
    /// GitHub logins.
    #[serde(default)]
    pub users: Vec<String>,
    /// Teams as `org/slug`.
    #[serde(default)]
    pub teams: Vec<String>,
}

/// The name of the rule the approvers outside `rules` form (reserved: no named rule may
/// take it).
pub const IMPLICIT_RULE: &str = "approvers";

/// One approval rule: at least `min_approvals` distinct approvals from its users and the
/// members of its teams. An approver counts toward every rule that lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRule {
    /// The rule's name, unique within the environment.
    pub name: String,
    /// GitHub logins.
    #[serde(default)]
    pub users: Vec<String>,
    /// Teams as `org/slug`.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Distinct approvals needed from them.
    pub min_approvals: u32,
}

/// One adjacent pair of environments and how promotion between them works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    /// The source environment.
    pub from: String,
    /// The target environment.
    pub to: String,
    /// The rule, defaults applied.
    pub rule: Rule,
    /// Approvers for the target, when the pipeline names them; else the Input's apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<Approvers>,
}

/// Test settings of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Testing {
    /// `preview`.
    pub validation_mode: String,
    /// `preview`.
    pub bootstrap_mode: String,
}

/// The normalised pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineConfig {
    /// The tenant.
    pub tenant: String,
    /// Environments in promotion order.
    pub environments: Vec<String>,
    /// Every adjacent pair, in order.
    pub promotions: Vec<Promotion>,
    /// The artifact registry.
    pub registry: String,
    /// Days artifacts are kept.
    pub retention_days: u32,
    /// Test settings.
    pub testing: Testing,
    /// Whether a gate promotes only the artifact its source environment holds.
    #[serde(default)]
    pub progression: Progression,
    /// Per environment: how long an artifact stays there before it is promoted out, as
    /// written (a Go duration, validated).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub soak_time: BTreeMap<String, String>,
    /// Freeze windows, as written (validated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub freezes: Vec<FreezeSpec>,
    /// Who may let an approved gate through a freeze window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_override: Option<FreezeOverride>,
}

/// `spec.freezeOverride`, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreezeOverride {
    /// GitHub logins.
    #[serde(default)]
    pub users: Vec<String>,
    /// Teams as `org/slug`.
    #[serde(default)]
    pub teams: Vec<String>,
}

/// One freeze window as the pipeline writes it (`spec.freezes[i]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(description = "A freeze window, absolute or recurring.")]
#[schemars(extend("required" = ["name", "environments"], "x-kubernetes-validations" = [
    {
        "rule": "(has(self.from) && has(self.until) && !has(self.schedule) && !has(self.duration) && !has(self.timeZone)) || (!has(self.from) && !has(self.until) && has(self.schedule) && has(self.duration) && has(self.timeZone))",
        "message": "a window is either absolute (from and until) or recurring (schedule, duration and timeZone)"
    },
    {
        "rule": "!has(self.from) || !has(self.until) || timestamp(self.until) > timestamp(self.from)",
        "message": "until must be after from"
    }
]))]
pub struct FreezeSpec {
    /// The window's name.
    #[serde(default)]
    #[schemars(length(max = 63), pattern(crate::openapi::pattern::DNS_LABEL))]
    pub name: String,
    /// The environments no promotion goes into while it is open.
    #[serde(default)]
    #[schemars(length(min = 1, max = 20), inner(length(max = 63)))]
    pub environments: Vec<String>,
    /// Why, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = 200))]
    pub reason: String,
    /// Absolute: when the window opens (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub from: Option<String>,
    /// Absolute: when it closes (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub until: Option<String>,
    /// Recurring: a five-field cron schedule of the window's openings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 100))]
    pub schedule: Option<String>,
    /// Recurring: how long each opening lasts (Go duration, at most 744h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32), pattern(crate::openapi::pattern::GO_DURATION))]
    pub duration: Option<String>,
    /// Recurring: the IANA time zone the schedule is read in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub time_zone: Option<String>,
}

/// `spec.progression` of a pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Progression {
    /// A gate whose source is not the first environment promotes only the artifact its
    /// source holds.
    #[default]
    Enforced,
    /// Any artifact may be promoted between adjacent environments.
    Free,
}

impl PipelineConfig {
    /// The promotion from `from` to `to`, when they are adjacent in that order.
    pub fn promotion(&self, from: &str, to: &str) -> Option<&Promotion> {
        self.promotions
            .iter()
            .find(|p| p.from == from && p.to == to)
    }
}
