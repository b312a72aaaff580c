//! Pipeline lookup: the required-resource request for the tenant's XReleasePipeline
//! XR (the v2 `resources` requirement, and the deprecated `extra_resources` one only for
//! Crossplane releases that do not advertise capabilities), reading whichever answered,
//! and validating the pipeline's spec with the same rules as the pipeline itself. The
//! pipeline's ConfigMap is for scripts; gates never read it.
//!
//! No I/O: reads the request it is given and writes requirements into the response.

use std::sync::Arc;

use function_sdk_rust::proto::v1::{RunFunctionRequest, RunFunctionResponse};

use crate::call::Fatal;
use crate::names::requirement::{PIPELINE as REQUIREMENT, PIPELINE_KIND};
use crate::pipeline::validate::validate_config;
use crate::pipeline_config::PipelineConfig;
use crate::required;
use crate::xr::Composite;
use crate::xr::pipeline::{PipelineSpec, Whereabouts};

/// Asks Crossplane for the XReleasePipelines of the gate's apiVersion in `namespace`
/// (`None` for a cluster-scoped gate: cluster-scoped pipelines), every one of them (a
/// selector cannot match `spec.tenant`; [`find_pipeline`] picks the tenant's).
pub fn require_pipeline(
    rsp: &mut RunFunctionResponse,
    req: &RunFunctionRequest,
    api_version: &str,
    namespace: Option<&str>,
) {
    required::require_all(rsp, req, REQUIREMENT, api_version, PIPELINE_KIND, namespace);
}

/// What the lookup found.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Crossplane has not answered the requirement yet.
    Unanswered,
    /// Answered: the tenant has no pipeline.
    Absent,
    /// The tenant's pipeline, validated and normalised, with where each artifact is as
    /// its status says.
    Found(Arc<PipelineConfig>, Option<Whereabouts>),
}

impl Lookup {
    /// The pipeline found, if one was.
    pub fn pipeline(&self) -> Option<&PipelineConfig> {
        match self {
            Lookup::Found(pipeline, _) => Some(pipeline),
            _ => None,
        }
    }
}

/// Reads the answer from `required_resources`, else `extra_resources`: the one
/// XReleasePipeline in the gate's `namespace` (none for a cluster-scoped gate: a
/// cluster-scoped pipeline) whose `spec.tenant` is the gate's. One in another namespace
/// never counts, whatever a selector without a namespace returned. A pipeline that breaks
/// a rule, or two for one tenant, is Fatal: approvals must not silently fall back to
/// defaults when the pipeline says otherwise.
pub fn find_pipeline(
    req: &RunFunctionRequest,
    tenant: &str,
    namespace: Option<&str>,
) -> Result<Lookup, Fatal> {
    let Some(answered) = required::answered(req, REQUIREMENT, PIPELINE_KIND, namespace) else {
        return Ok(Lookup::Unanswered);
    };
    let mut found: Vec<Composite> = answered
        .into_iter()
        .filter(|xr| xr.spec.get("tenant").and_then(|t| t.as_str()) == Some(tenant))
        .collect();
    let name = |xr: &Composite| match &xr.namespace {
        Some(ns) => format!("{ns}/{}", xr.name),
        None => xr.name.clone(),
    };
    let pipeline = match found.len() {
        0 => return Ok(Lookup::Absent),
        1 => found.remove(0),
        _ => {
            let names: Vec<String> = found.iter().map(name).collect();
            return Err(Fatal::invalid_pipeline(format!(
                "required resource {REQUIREMENT}: more than one {PIPELINE_KIND} has spec.tenant {tenant:?} ({}); a gate follows exactly one",
                names.join(", ")
            )));
        }
    };
    let invalid = |why: String| {
        Fatal::invalid_pipeline(format!(
            "required resource {REQUIREMENT}: {PIPELINE_KIND} {}: {why}",
            name(&pipeline)
        ))
    };
    let spec = PipelineSpec::from_json(&pipeline.spec).map_err(|e| invalid(e.to_string()))?;
    let config = validate_config(&spec).map_err(|v| invalid(v.to_string()))?;
    Ok(Lookup::Found(
        Arc::new(config),
        super::progression::whereabouts(&pipeline),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use function_sdk_rust::proto::v1::Capability;
    use serde_json::json;

    fn answered(pipelines: &[serde_json::Value]) -> RunFunctionRequest {
        use function_sdk_rust::proto::v1::{Resource, Resources};
        RunFunctionRequest {
            required_resources: [(
                REQUIREMENT.to_owned(),
                Resources {
                    items: pipelines
                        .iter()
                        .map(|p| Resource {
                            resource: p
                                .as_object()
                                .map(function_sdk_rust::resource::json_to_struct),
                            ..Default::default()
                        })
                        .collect(),
                },
            )]
            .into(),
            ..Default::default()
        }
    }

    fn xr(name: &str, spec: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "platform.zerotouch.dev/v1alpha1", "kind": PIPELINE_KIND,
               "metadata": {"name": name, "namespace": "team-a"}, "spec": spec})
    }

    #[test]
    fn the_tenant_s_pipeline_xr_is_found_validated_and_normalised() {
        let mine = xr(
            "mine",
            json!({"tenant": "my-service", "environments": ["dev", "staging", "production"],
                   "promotionRules": {"dev_to_staging": "automatic"}}),
        );
        let other = xr(
            "other",
            json!({"tenant": "other-service", "environments": ["dev", "production"]}),
        );
        let Lookup::Found(found, _) = find_pipeline(
            &answered(&[other.clone(), mine.clone()]),
            "my-service",
            Some("team-a"),
        )
        .unwrap() else {
            panic!("found");
        };
        assert_eq!(found.environments, ["dev", "staging", "production"]);
        assert_eq!(
            found.promotion("dev", "staging").unwrap().rule,
            crate::pipeline_config::Rule::Automatic
        );
        assert_eq!(
            found.promotion("staging", "production").unwrap().rule,
            crate::pipeline_config::Rule::Manual
        );
        assert_eq!(
            find_pipeline(&answered(&[other]), "my-service", Some("team-a")).unwrap(),
            Lookup::Absent
        );
        assert_eq!(
            find_pipeline(&RunFunctionRequest::default(), "my-service", Some("team-a")).unwrap(),
            Lookup::Unanswered
        );
        // One in another namespace, or a cluster-scoped one for a namespaced gate, is not
        // the gate's.
        let elsewhere = json!({"apiVersion": "platform.zerotouch.dev/v1alpha1",
            "kind": PIPELINE_KIND, "metadata": {"name": "mine", "namespace": "team-b"},
            "spec": {"tenant": "my-service", "environments": ["dev", "staging"]}});
        assert_eq!(
            find_pipeline(
                &answered(std::slice::from_ref(&elsewhere)),
                "my-service",
                Some("team-a")
            )
            .unwrap(),
            Lookup::Absent
        );
        assert_eq!(
            find_pipeline(&answered(&[elsewhere]), "my-service", None).unwrap(),
            Lookup::Absent
        );
        // A ConfigMap claiming to be the pipeline is not one.
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "my-service-release-pipeline-config"},
            "spec": {"tenant": "my-service", "environments": ["dev", "staging"]}});
        assert_eq!(
            find_pipeline(&answered(&[config_map]), "my-service", Some("team-a")).unwrap(),
            Lookup::Absent
        );
    }

    #[test]
    fn a_broken_or_ambiguous_pipeline_is_fatal_naming_it_and_the_field() {
        let broken = xr(
            "mine",
            json!({"tenant": "my-service", "environments": ["dev", "dev"]}),
        );
        let err = find_pipeline(&answered(&[broken]), "my-service", Some("team-a")).unwrap_err();
        assert!(
            err.message.starts_with("required resource release-pipeline: XReleasePipeline team-a/mine: spec.environments[1]"),
            "{err}"
        );
        let a = xr(
            "a",
            json!({"tenant": "my-service", "environments": ["dev", "staging"]}),
        );
        let b = xr(
            "b",
            json!({"tenant": "my-service", "environments": ["dev", "staging"]}),
        );
        let err = find_pipeline(&answered(&[a, b]), "my-service", Some("team-a")).unwrap_err();
        assert!(err.message.contains("team-a/a, team-a/b"), "{err}");
    }

    #[test]
    fn the_deprecated_requirement_is_asked_only_without_capabilities() {
        use function_sdk_rust::proto::v1::RequestMeta;
        let mut old = RunFunctionResponse::default();
        require_pipeline(
            &mut old,
            &RunFunctionRequest::default(),
            "g/v1",
            Some("team-a"),
        );
        let requirements = old.requirements.unwrap();
        assert!(requirements.resources.contains_key(REQUIREMENT));
        assert!(requirements.extra_resources.contains_key(REQUIREMENT));
        let req = RunFunctionRequest {
            meta: Some(RequestMeta {
                capabilities: vec![Capability::Capabilities as i32],
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut new = RunFunctionResponse::default();
        require_pipeline(&mut new, &req, "g/v1", Some("team-a"));
        let requirements = new.requirements.unwrap();
        assert_eq!(requirements.resources[REQUIREMENT].kind, PIPELINE_KIND);
        assert_eq!(
            requirements.resources[REQUIREMENT].namespace.as_deref(),
            Some("team-a")
        );
        assert!(requirements.extra_resources.is_empty());
    }
}
