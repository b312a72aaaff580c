//! Pipeline lookup: the required-resource request for the tenant's pipeline ConfigMap
//! (the v2 `resources` requirement and the deprecated `extra_resources` one, identical
//! on every call), reading whichever answered, and the approval policy it yields.
//!
//! Pure: reads the request it is given and writes requirements into the response. The
//! only state is a memo of parsed `pipeline.yaml` texts, which changes no answer.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use function_sdk_rust::proto::v1::{
    MatchLabels, ResourceSelector, RunFunctionRequest, RunFunctionResponse, resource_selector,
};
use function_sdk_rust::response::{self, ResourceMatch};
use pbjson_types::Struct;

use crate::function::Fatal;
use crate::input::ApprovalsInput;
use crate::pb;
use crate::policy::{
    COMPONENT_LABEL, PIPELINE_CONFIG_COMPONENT, PIPELINE_YAML_KEY, PipelineConfig, Rule,
    TENANT_LABEL,
};
use crate::xr::gate::GateSpec;
use crate::yaml;

use super::decide::Policy;

/// The requirement name under which the pipeline ConfigMap is asked for.
pub const REQUIREMENT: &str = "pipeline-config";

fn labels(tenant: &str) -> HashMap<String, String> {
    HashMap::from([
        (TENANT_LABEL.to_owned(), tenant.to_owned()),
        (
            COMPONENT_LABEL.to_owned(),
            PIPELINE_CONFIG_COMPONENT.to_owned(),
        ),
    ])
}

/// Asks Crossplane for the tenant's pipeline ConfigMap in `namespace`, in both
/// requirement maps so Crossplane before and after v2.0 answers.
pub fn require_pipeline(rsp: &mut RunFunctionResponse, tenant: &str, namespace: &str) {
    response::require_resources(
        rsp,
        REQUIREMENT,
        "v1",
        "ConfigMap",
        Some(ResourceMatch::Labels(labels(tenant))),
        Some(namespace.to_owned()),
    );
    rsp.requirements
        .get_or_insert_default()
        .extra_resources
        .insert(
            REQUIREMENT.to_owned(),
            ResourceSelector {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                r#match: Some(resource_selector::Match::MatchLabels(MatchLabels {
                    labels: labels(tenant),
                })),
                namespace: Some(namespace.to_owned()),
            },
        );
}

/// `pipeline.yaml` texts already parsed, with their pipeline. Every call for a gate
/// carries the same text, and parsing it was a quarter of a decided gate's call.
static PARSED: LazyLock<Mutex<HashMap<String, Arc<PipelineConfig>>>> =
    LazyLock::new(Mutex::default);
/// Texts remembered at most; the memo starts over when full (one text per tenant).
const PARSED_CAPACITY: usize = 256;

/// What the lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Crossplane has not answered the requirement yet.
    Unanswered,
    /// Answered: the tenant has no pipeline ConfigMap.
    Absent,
    /// The tenant's pipeline.
    Found(Arc<PipelineConfig>),
}

/// Reads the answer from `required_resources`, else `extra_resources`. A ConfigMap
/// whose `pipeline.yaml` cannot be read is Fatal: approvals must not silently fall back
/// to defaults when the pipeline says otherwise.
pub fn find_pipeline(req: &RunFunctionRequest, tenant: &str) -> Result<Lookup, Fatal> {
    let Some(answer) = req
        .required_resources
        .get(REQUIREMENT)
        .or_else(|| req.extra_resources.get(REQUIREMENT))
    else {
        return Ok(Lookup::Unanswered);
    };
    // Read in place: a ConfigMap's managed fields are never converted.
    fn name_of(o: &Struct) -> Option<&str> {
        pb::pointer(o, "/metadata/name").and_then(pb::as_str)
    }
    let mut items = answer.items.iter().filter_map(|r| r.resource.as_ref());
    let expected = crate::policy::pipeline_config_name(tenant);
    // Prefer the ConfigMap the pipeline names; the label alone could match a copy.
    let Some(config_map) = items
        .clone()
        .find(|o| name_of(o) == Some(expected.as_str()))
        .or_else(|| items.next())
    else {
        return Ok(Lookup::Absent);
    };
    let name = name_of(config_map).unwrap_or_default();
    let invalid = |why: String| {
        Fatal(format!(
            "required resource {REQUIREMENT}: ConfigMap {name:?} key {PIPELINE_YAML_KEY:?} {why}"
        ))
    };
    let text = config_map
        .fields
        .get("data")
        .and_then(pb::as_struct)
        .and_then(|data| data.fields.get(PIPELINE_YAML_KEY))
        .and_then(pb::as_str)
        .ok_or_else(|| invalid("is missing".into()))?;
    let parsed = || PARSED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pipeline) = parsed().get(text) {
        return Ok(Lookup::Found(pipeline.clone()));
    }
    let docs = yaml::from_str_multi(text).map_err(|e| invalid(format!("is not YAML: {e}")))?;
    let doc = docs
        .into_iter()
        .next()
        .ok_or_else(|| invalid("is empty".into()))?;
    let pipeline: Arc<PipelineConfig> = serde_json::from_value::<PipelineConfig>(doc)
        .map_err(|e| invalid(format!("is not a pipeline: {e}")))?
        .into();
    let mut memo = parsed();
    if memo.len() >= PARSED_CAPACITY {
        memo.clear();
    }
    memo.insert(text.to_owned(), pipeline.clone());
    Ok(Lookup::Found(pipeline))
}

/// The approval policy for the gate: the pipeline's rule and approvers for the pair
/// (the Input's approvers when the pipeline names none), or without a pipeline the
/// Input's approvers and a manual rule. Source and target must be adjacent, in order,
/// in the pipeline's environments.
pub fn policy(
    spec: &GateSpec,
    pipeline: Option<&PipelineConfig>,
    defaults: &ApprovalsInput,
) -> Result<Policy, Fatal> {
    let mut policy = Policy {
        rule: Rule::Manual,
        users: defaults.users.clone(),
        teams: defaults.teams.clone(),
        min_approvals: defaults.min_approvals,
        min_permission: defaults.min_permission,
        allow_self_approval: defaults.allow_self_approval,
    };
    let Some(pipeline) = pipeline else {
        return Ok(policy);
    };
    let (source, target) = (&spec.source_environment, &spec.target_environment);
    let envs = pipeline.environments.join(", ");
    let position = |env: &str| pipeline.environments.iter().position(|e| e == env);
    let Some(from) = position(source) else {
        return Err(Fatal(format!(
            "spec.source_environment: {source:?} is not an environment of the pipeline of tenant {:?} ({envs})",
            spec.tenant
        )));
    };
    if position(target).is_none() {
        return Err(Fatal(format!(
            "spec.target_environment: {target:?} is not an environment of the pipeline of tenant {:?} ({envs})",
            spec.tenant
        )));
    }
    let Some(promotion) = pipeline.promotion(source, target) else {
        let next = pipeline
            .environments
            .get(from + 1)
            .map(|n| format!("the environment after {source:?} is {n:?}"))
            .unwrap_or_else(|| format!("{source:?} is the last environment"));
        return Err(Fatal(format!(
            "spec.target_environment: {target:?} must directly follow spec.source_environment {source:?} in the pipeline of tenant {:?} ({envs}); {next}",
            spec.tenant
        )));
    };
    policy.rule = promotion.rule;
    if let Some(approvers) = &promotion.approvals {
        policy.users = approvers.users.clone();
        policy.teams = approvers.teams.clone();
        policy.min_approvals = approvers.min_approvals.max(1);
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Approvers, Promotion, Testing};
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
            testing: Testing {
                validation_mode: "preview".into(),
                bootstrap_mode: "preview".into(),
            },
        }
    }

    fn answered(config: &PipelineConfig) -> RunFunctionRequest {
        use function_sdk_rust::proto::v1::{Resource, Resources};
        let config_map = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "my-service-release-pipeline-config"},
            "data": {PIPELINE_YAML_KEY: yaml::to_yaml(&serde_json::to_value(config).unwrap())},
        });
        RunFunctionRequest {
            required_resources: [(
                REQUIREMENT.to_owned(),
                Resources {
                    items: vec![Resource {
                        resource: config_map
                            .as_object()
                            .map(function_sdk_rust::resource::json_to_struct),
                        ..Default::default()
                    }],
                },
            )]
            .into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_pipeline_read_again_is_the_same_and_a_changed_one_is_read_anew() {
        let manual = pipeline(Rule::Manual, None);
        let automatic = pipeline(Rule::Automatic, None);
        let found = |p: &PipelineConfig| find_pipeline(&answered(p), "my-service").unwrap();
        assert_eq!(found(&manual), Lookup::Found(Arc::new(manual.clone())));
        assert_eq!(found(&manual), Lookup::Found(Arc::new(manual.clone())));
        assert_eq!(
            found(&automatic),
            Lookup::Found(Arc::new(automatic.clone()))
        );
        assert_eq!(found(&manual), Lookup::Found(Arc::new(manual)));
    }

    #[test]
    fn without_a_pipeline_the_inputs_approvers_and_a_manual_rule_apply() {
        let defaults = ApprovalsInput {
            users: vec!["alice".into()],
            ..ApprovalsInput::default()
        };
        let p = policy(&spec("dev", "staging", false), None, &defaults).unwrap();
        assert_eq!(p.rule, Rule::Manual);
        assert_eq!(p.users, vec!["alice".to_string()]);
        assert!(p.needs_approval(&spec("dev", "staging", false)));
    }

    #[test]
    fn approval_required_false_cannot_skip_a_manual_rule() {
        let s = spec("dev", "staging", false);
        let manual = policy(
            &s,
            Some(&pipeline(Rule::Manual, None)),
            &ApprovalsInput::default(),
        )
        .unwrap();
        assert!(manual.needs_approval(&s));
        let automatic = policy(
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
        };
        let defaults = ApprovalsInput {
            users: vec!["alice".into()],
            ..ApprovalsInput::default()
        };
        let p = policy(
            &spec("staging", "production", true),
            Some(&pipeline(Rule::Manual, Some(approvers))),
            &defaults,
        )
        .unwrap();
        assert_eq!((p.users, p.min_approvals), (vec!["carol".to_string()], 2));
    }

    #[test]
    fn non_adjacent_or_unknown_environments_are_fatal_naming_the_field() {
        let p = pipeline(Rule::Manual, None);
        let d = ApprovalsInput::default();
        let err = policy(&spec("dev", "production", true), Some(&p), &d).unwrap_err();
        assert!(
            err.0
                .starts_with("spec.target_environment: \"production\" must directly follow"),
            "{err}"
        );
        let err = policy(&spec("staging", "dev", true), Some(&p), &d).unwrap_err();
        assert!(
            err.0
                .starts_with("spec.target_environment: \"dev\" must directly follow"),
            "{err}"
        );
        let err = policy(&spec("qa", "staging", true), Some(&p), &d).unwrap_err();
        assert!(
            err.0
                .starts_with("spec.source_environment: \"qa\" is not an environment"),
            "{err}"
        );
    }
}
