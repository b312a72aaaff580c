//! The XReleasePipeline's spec and status as typed values, read from the observed XR's
//! JSON exactly as the seed API spells them (`tenant`, `environments`, `promotionRules`,
//! `artifactConfig.retention_days`, `testing.validation_mode`, `approvals.<env>`).
//!
//! Pure: reading only. Required fields, enums and bounds are checked by
//! the pipeline handler (`pipeline::validate`) so every violation can be reported with its path; this module
//! refuses only what is not the API at all (unknown fields, wrong types).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::openapi::pattern;

/// `spec` of an XReleasePipeline, as written. Its JSON schema (with the CEL rules beside
/// the fields) is the XRD's `spec`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("required" = ["tenant", "environments"], "x-kubernetes-validations" = [
    {
        "rule": "!has(self.promotionRules) || self.promotionRules.all(k, k.split('_to_').size() == 2 && self.environments.indexOf(k.split('_to_')[0]) >= 0 && self.environments.indexOf(k.split('_to_')[1]) == self.environments.indexOf(k.split('_to_')[0]) + 1)",
        "message": "every promotionRules key must be <from>_to_<to> naming two adjacent environments in order"
    },
    {
        "rule": "!has(self.approvals) || self.approvals.all(k, self.environments.indexOf(k) > 0)",
        "message": "approvals may only name environments after the first"
    },
    {
        "rule": "!has(self.soakTime) || self.soakTime.all(k, self.environments.indexOf(k) >= 0)",
        "message": "soakTime may only name environments of the pipeline"
    },
    {
        "rule": "!has(self.freezes) || self.freezes.all(f, f.environments.all(e, self.environments.indexOf(e) >= 0))",
        "message": "freezes may only name environments of the pipeline"
    }
]))]
pub struct PipelineSpec {
    /// The tenant (service) released by this pipeline. A DNS label of at most 34
    /// characters, so that every derived name stays within 63.
    #[serde(default)]
    #[schemars(length(min = 2, max = crate::names::MAX_TENANT_LEN), pattern(pattern::TENANT))]
    pub tenant: Option<String>,
    /// Environments in promotion order, e.g. dev, staging, production.
    #[serde(default)]
    #[schemars(
        length(min = 1, max = 20),
        inner(length(max = crate::names::MAX_NAME_LEN), pattern(pattern::DNS_LABEL)),
        extend("x-kubernetes-validations" = [
            {"rule": "self.all(e, self.exists_one(f, f == e))", "message": "environments must be unique"}
        ])
    )]
    pub environments: Option<Vec<String>>,
    /// How promotion between two adjacent environments works, keyed <from>_to_<to>;
    /// unlisted pairs are manual.
    #[serde(default)]
    #[schemars(extend(
        "maxProperties" = 19,
        "additionalProperties" = {"type": "string", "enum": ["manual", "automatic"]}
    ))]
    pub promotion_rules: BTreeMap<String, String>,
    /// Where artifacts live and how long they are kept.
    #[serde(default)]
    pub artifact_config: ArtifactConfig,
    /// How previews are tested.
    #[serde(default)]
    pub testing: TestingSpec,
    /// Per target environment, who may approve a promotion into it; else the function's
    /// default approvers apply.
    #[serde(default)]
    #[schemars(extend("maxProperties" = 19))]
    pub approvals: BTreeMap<String, ApprovalsSpec>,
    /// enforced (default): a gate whose source is not the first environment promotes only
    /// the artifact its source holds; free: any artifact.
    #[serde(default)]
    #[schemars(extend("enum" = ["enforced", "free"]))]
    pub progression: Option<String>,
    /// Per environment, how long an artifact stays there before a gate promotes it out
    /// (a Go duration such as 30m or 2h).
    #[serde(default)]
    #[schemars(extend(
        "maxProperties" = 20,
        "additionalProperties" = {"type": "string", "maxLength": 32, "pattern": pattern::GO_DURATION}
    ))]
    pub soak_time: BTreeMap<String, String>,
    /// Freeze windows: no promotion into their environments starts while one is open.
    /// Either absolute (from, until) or recurring (schedule, duration, timeZone).
    #[serde(default)]
    #[schemars(
        length(max = crate::freeze::MAX_WINDOWS),
        extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"])
    )]
    pub freezes: Vec<crate::pipeline_config::FreezeSpec>,
    /// Who may let an approved gate through a freeze window with /override-freeze
    /// <reason> (they must also approve its target).
    #[serde(default)]
    pub freeze_override: Option<FreezeOverrideSpec>,
    /// Crossplane's own fields of a modern (v2) XR.
    #[serde(default)]
    #[schemars(skip)]
    pub crossplane: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub composition_ref: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub composition_selector: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub composition_revision_ref: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub composition_revision_selector: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub composition_update_policy: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub composite_delete_policy: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub claim_ref: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub resource_refs: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub write_connection_secret_to_ref: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub publish_connection_details_to: Option<IgnoredAny>,
    /// Crossplane's own fields of a legacy XR.
    #[serde(default)]
    #[schemars(skip)]
    pub environment_config_refs: Option<IgnoredAny>,
}

/// `spec.artifactConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactConfig {
    /// The artifact registry host, optionally with port and path (default ghcr.io).
    #[serde(default)]
    #[schemars(
        length(max = 253),
        pattern("^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*$")
    )]
    pub registry: Option<String>,
    /// Days artifacts are kept (default 30).
    // Signed so a negative value is reported as out of bounds rather than as a type error.
    #[serde(default)]
    #[schemars(range(min = 1, max = 365))]
    pub retention_days: Option<i64>,
}

/// `spec.testing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestingSpec {
    /// How pull requests are validated (default preview).
    #[serde(default)]
    #[schemars(extend("enum" = ["preview"]))]
    pub validation_mode: Option<String>,
    /// How the main branch is bootstrapped (default preview).
    #[serde(default)]
    #[schemars(extend("enum" = ["preview"]))]
    pub bootstrap_mode: Option<String>,
}

/// `spec.approvals.<environment>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(description = "Who may approve a promotion into this environment.")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "(has(self.users) ? size(self.users) : 0) + (has(self.teams) ? size(self.teams) : 0) + (has(self.rules) ? size(self.rules) : 0) > 0",
    "message": "approvals must name at least one user, team or rule"
}]))]
pub struct ApprovalsSpec {
    /// GitHub logins.
    #[serde(default)]
    #[schemars(length(max = 50), inner(length(max = 39), pattern(pattern::LOGIN)))]
    pub users: Vec<String>,
    /// GitHub teams as org/team-slug.
    #[serde(default)]
    #[schemars(length(max = 20), inner(length(max = 100), pattern(pattern::TEAM)))]
    pub teams: Vec<String>,
    /// Distinct approvals needed (default 1).
    #[serde(default)]
    #[schemars(range(min = 1, max = 10))]
    pub min_approvals: Option<i64>,
    /// Named rules that must all be met besides the users and teams above (or instead of
    /// them); an approver counts toward each rule that lists them.
    #[serde(default)]
    #[schemars(
        length(min = 1, max = 10),
        extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"])
    )]
    pub rules: Option<Vec<ApprovalRuleSpec>>,
    /// Keep the authors and committers of a gate's change (`spec.change`) from approving
    /// promotions into this environment (default: the function's Input,
    /// `approvals.excludeChangeAuthors`).
    #[serde(default)]
    pub exclude_change_authors: Option<bool>,
    /// Go durations after the approval issue opened at which a pending gate reminds those
    /// who have not answered, increasing, each at most 168h (default: the function's
    /// Input, `approvals.reminders`).
    #[serde(default)]
    #[schemars(
        length(max = 10),
        inner(length(max = 32), pattern(pattern::GO_DURATION))
    )]
    pub reminders: Option<Vec<String>>,
    /// Who else may answer when a pending gate's request stays unanswered this long after
    /// its approval issue opened.
    #[serde(default)]
    pub escalation: Option<EscalationSpec>,
}

/// `spec.approvals.<environment>.escalation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "(has(self.users) ? size(self.users) : 0) + (has(self.teams) ? size(self.teams) : 0) > 0",
    "message": "escalation must name at least one user or team"
}]))]
pub struct EscalationSpec {
    /// A Go duration after the approval issue opened, at most 168h: from then on, while
    /// the gate is pending, the users and teams below may answer too (answers they post
    /// after that time count toward every rule).
    #[schemars(length(max = 32), pattern(pattern::GO_DURATION))]
    pub after: String,
    /// GitHub logins.
    #[serde(default)]
    #[schemars(length(max = 50), inner(length(max = 39), pattern(pattern::LOGIN)))]
    pub users: Vec<String>,
    /// GitHub teams as org/team-slug.
    #[serde(default)]
    #[schemars(length(max = 20), inner(length(max = 100), pattern(pattern::TEAM)))]
    pub teams: Vec<String>,
}

/// `spec.freezeOverride`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FreezeOverrideSpec {
    /// GitHub logins.
    #[serde(default)]
    #[schemars(length(max = 50), inner(length(max = 39), pattern(pattern::LOGIN)))]
    pub users: Vec<String>,
    /// GitHub teams as org/team-slug.
    #[serde(default)]
    #[schemars(length(max = 20), inner(length(max = 100), pattern(pattern::TEAM)))]
    pub teams: Vec<String>,
}

/// `spec.approvals.<environment>.rules[i]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(description = "A named approval rule: distinct approvals from its users and teams.")]
#[schemars(extend("required" = ["name"], "x-kubernetes-validations" = [
    {
        "rule": "(has(self.users) ? size(self.users) : 0) + (has(self.teams) ? size(self.teams) : 0) > 0",
        "message": "a rule must name at least one user or team"
    },
    {
        "rule": "self.name != 'approvers'",
        "message": "the rule name approvers is reserved for the users and teams outside rules"
    }
]))]
pub struct ApprovalRuleSpec {
    /// The rule's name (not "approvers", which names the users and teams above).
    #[serde(default)]
    #[schemars(length(max = 63), pattern(pattern::DNS_LABEL))]
    pub name: String,
    /// GitHub logins.
    #[serde(default)]
    #[schemars(length(max = 50), inner(length(max = 39), pattern(pattern::LOGIN)))]
    pub users: Vec<String>,
    /// GitHub teams as org/team-slug.
    #[serde(default)]
    #[schemars(length(max = 20), inner(length(max = 100), pattern(pattern::TEAM)))]
    pub teams: Vec<String>,
    /// Distinct approvals needed from them (default 1).
    #[serde(default)]
    #[schemars(range(min = 1, max = 10))]
    pub min_approvals: Option<i64>,
}

/// A spec that is not the XReleasePipeline API (unknown field, wrong type).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SpecError {
    /// The field path, starting with `spec`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl PipelineSpec {
    /// Reads `spec` from the observed XR; an absent spec reads as empty, so the
    /// required-field rules report what is missing.
    pub fn from_json(spec: &Value) -> Result<Self, SpecError> {
        if spec.is_null() {
            return Ok(PipelineSpec::default());
        }
        serde_path_to_error::deserialize(spec).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." || path.is_empty() {
                "spec".to_owned()
            } else {
                format!("spec.{path}")
            };
            SpecError {
                path,
                message: e.into_inner().to_string(),
            }
        })
    }
}

/// What this function writes into an XReleasePipeline's `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PipelineStatus {
    /// A stable id of this pipeline: `<tenant>-<8 hex>` from namespace, name and tenant.
    pub pipeline_id: String,
    /// Where each artifact is: where its tenant's gates are known (see
    /// [`Whereabouts`]); absent until Crossplane answers the gates' requirement.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub whereabouts: Option<Whereabouts>,
}

/// Where the tenant's artifacts are, from its gates: `environments`,
/// `current_environment` and `artifact_id` of the pipeline's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Whereabouts {
    /// One entry per environment that received an artifact through a gate, in pipeline
    /// order.
    pub environments: Vec<EnvironmentStatus>,
    /// The furthest environment with an entry; the first environment when none has.
    pub current_environment: String,
    /// The artifact in `current_environment`, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub artifact_id: Option<String>,
}

/// The artifact an environment holds, and the promotion that put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnvironmentStatus {
    /// The environment.
    pub name: String,
    /// The artifact it holds.
    pub artifact_id: String,
    /// When it arrived: the promotion Job's completion, else the approval.
    pub promoted_at: String,
    /// Who approved it (the gate's `approver`).
    #[serde(default)]
    pub approved_by: String,
    /// The XPromotionGate that promoted it.
    pub gate: String,
    /// The source revision the artifact was built from, when that gate named one
    /// (`spec.change.revision`): the base of the next promotion's change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 40), pattern("^[0-9a-f]{40}$"))]
    pub revision: Option<String>,
    /// The source repository of that revision (`spec.change.repository`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 140))]
    pub repository: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_spec_reads_into_typed_fields() {
        let spec = PipelineSpec::from_json(&json!({
            "tenant": "my-service",
            "environments": ["dev", "staging", "production"],
            "promotionRules": {"dev_to_staging": "manual", "staging_to_production": "manual"},
            "artifactConfig": {"registry": "ghcr.io", "retention_days": 30},
            "testing": {"validation_mode": "preview", "bootstrap_mode": "preview"},
            "approvals": {"production": {"users": ["alice"], "teams": ["acme/sre"], "minApprovals": 2}},
        }))
        .unwrap();
        assert_eq!(spec.tenant.as_deref(), Some("my-service"));
        assert_eq!(spec.environments.as_ref().map(Vec::len), Some(3));
        assert_eq!(spec.promotion_rules["staging_to_production"], "manual");
        assert_eq!(spec.artifact_config.retention_days, Some(30));
        assert_eq!(spec.testing.bootstrap_mode.as_deref(), Some("preview"));
        assert_eq!(spec.approvals["production"].min_approvals, Some(2));
    }

    #[test]
    fn crossplane_managed_fields_are_accepted() {
        let spec = PipelineSpec::from_json(&json!({
            "tenant": "t1",
            "environments": ["dev"],
            "crossplane": {"compositionRef": {"name": "c"}, "resourceRefs": []},
            "compositionRef": {"name": "c"},
            "resourceRefs": [],
        }));
        assert!(spec.is_ok(), "{spec:?}");
    }

    #[test]
    fn unknown_nested_field_is_named_with_its_spec_path() {
        let err =
            PipelineSpec::from_json(&json!({"artifactConfig": {"retentionDays": 3}})).unwrap_err();
        assert_eq!(err.path, "spec.artifactConfig.retentionDays");
        assert!(
            err.message.contains("unknown field `retentionDays`"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_is_named_with_its_spec_path() {
        let err = PipelineSpec::from_json(&json!({"environments": "dev"})).unwrap_err();
        assert_eq!(err.path, "spec.environments");
    }

    #[test]
    fn absent_spec_reads_as_empty() {
        assert_eq!(
            PipelineSpec::from_json(&Value::Null),
            Ok(PipelineSpec::default())
        );
    }
}
