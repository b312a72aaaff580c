//! The promotion Job a gate renders once approved: named with the key so each approval
//! runs exactly once, in the gate's namespace or the Input's `promotion.namespace`, with
//! the gate's variables, the Input's environment, resources and security context, and
//! defaults that pass Pod Security "restricted".
//!
//! Pure: builds the object.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapEnvSource, Container, EnvFromSource, EnvVar, PodSecurityContext,
    PodSpec, PodTemplateSpec, ResourceRequirements, SeccompProfile, SecretEnvSource,
    SecretVolumeSource, SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::input::{
    EnvFromSource as InputEnvFrom, PromotionInput, ResourcesInput, SecurityContextInput,
};
use crate::names::{self, GATE_KEY_ANNOTATION, GATE_KEY_LABEL, component};

use crate::xr::gate::Via;

use super::model::{Decision, Gate};
use crate::carrier::{self, Carried, Carrier};
use function_sdk_rust::resource::struct_to_json;
use serde_json::{Value, json};

/// The approvers' logins, comma-separated (an override of a freeze window is no
/// approval).
pub fn logins(decision: &Decision) -> String {
    decision
        .approvals
        .iter()
        .filter(|a| a.via != Via::OverrideFreeze)
        .map(|a| a.login.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The promotion Job, named with the key so each approval runs exactly once. No
/// `ttlSecondsAfterFinished`: Crossplane would recreate a collected Job and promote
/// twice.
pub fn render_job(gate: &Gate, promotion: &PromotionInput, decision: &Decision) -> Job {
    let issue_url = decision
        .issue
        .as_ref()
        .map(|i| i.url.clone())
        .unwrap_or_default();
    job_for(gate, promotion, logins(decision), issue_url)
}

/// The promotion Job with the approvers and issue it names.
pub fn job_for(
    gate: &Gate,
    promotion: &PromotionInput,
    approved_by: String,
    issue_url: String,
) -> Job {
    let spec = &gate.spec;
    let mut job_labels = names::labels(&spec.tenant, component::PROMOTION);
    job_labels.insert(GATE_KEY_LABEL.to_owned(), gate.key.short().to_owned());
    let var = |name: &str, value: String| EnvVar {
        name: name.to_owned(),
        value: Some(value),
        ..EnvVar::default()
    };
    let mut env = vec![
        var("TENANT", spec.tenant.clone()),
        var("ARTIFACT_ID", spec.artifact_id.clone()),
        var("SOURCE_ENVIRONMENT", spec.source_environment.clone()),
        var("TARGET_ENVIRONMENT", spec.target_environment.clone()),
        var("APPROVED_BY", approved_by),
        var("ISSUE_URL", issue_url),
    ];
    env.extend(
        promotion
            .env
            .iter()
            .filter(|e| !env_is_reserved(&e.name))
            .map(|e| var(&e.name, e.value.clone())),
    );
    let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    // In the platform's promotion namespace the Job runs as the account the gate's own
    // namespace's pipeline composed there for its tenant, never as another namespace's.
    // There its credentials are mounted: that account holds no role to read them.
    let (namespace, service_account, credentials) = match &promotion.namespace {
        Some(ns) => {
            let account = names::promotion_account(&gate.namespace, &spec.tenant);
            (ns.clone(), account.clone(), Some(account))
        }
        None => (
            gate.namespace.clone(),
            names::service_account(&spec.tenant),
            None,
        ),
    };
    let volume = credentials.map(|secret| Volume {
        name: "credentials".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    });
    let mount = volume.as_ref().map(|v| VolumeMount {
        name: v.name.clone(),
        mount_path: names::PROMOTION_CREDENTIALS_PATH.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    });
    Job {
        metadata: ObjectMeta {
            name: Some(names::job_name(&spec.tenant, gate.key.short())),
            namespace: Some(namespace),
            labels: Some(job_labels.clone()),
            annotations: Some(BTreeMap::from([(
                GATE_KEY_ANNOTATION.to_owned(),
                gate.key.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(promotion.backoff_limit as i32),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(job_labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(service_account),
                    restart_policy: Some("Never".into()),
                    containers: vec![Container {
                        name: "promote".into(),
                        image: Some(promotion.image.clone()),
                        command: non_empty(&promotion.command),
                        args: non_empty(&promotion.args),
                        env: Some(env),
                        env_from: env_from(&promotion.env_from),
                        resources: resources(&promotion.resources),
                        security_context: Some(container_security(&promotion.security_context)),
                        volume_mounts: mount.map(|m| vec![m]),
                        ..Container::default()
                    }],
                    security_context: Some(pod_security(&promotion.security_context)),
                    volumes: volume.map(|v| vec![v]),
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

/// The pod's security context: non-root, the runtime's default seccomp profile, and the
/// Input's user, group and volume group.
fn pod_security(input: &SecurityContextInput) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: input.run_as_user,
        run_as_group: input.run_as_group,
        fs_group: input.fs_group,
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..SeccompProfile::default()
        }),
        ..PodSecurityContext::default()
    }
}

/// The container's security context: what Pod Security "restricted" requires of every
/// container (no privilege escalation, every capability dropped, non-root), whatever the
/// Input says, and its read-only root filesystem.
fn container_security(input: &SecurityContextInput) -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Capabilities::default()
        }),
        run_as_non_root: Some(true),
        read_only_root_filesystem: input.read_only_root_filesystem,
        ..SecurityContext::default()
    }
}

fn resources(input: &ResourcesInput) -> Option<ResourceRequirements> {
    let quantities = |m: &BTreeMap<String, String>| {
        (!m.is_empty()).then(|| {
            m.iter()
                .map(|(k, v)| (k.clone(), Quantity(v.clone())))
                .collect()
        })
    };
    (!input.requests.is_empty() || !input.limits.is_empty()).then(|| ResourceRequirements {
        requests: quantities(&input.requests),
        limits: quantities(&input.limits),
        ..ResourceRequirements::default()
    })
}

fn env_from(input: &[InputEnvFrom]) -> Option<Vec<EnvFromSource>> {
    (!input.is_empty()).then(|| {
        input
            .iter()
            .map(|e| EnvFromSource {
                secret_ref: e.secret_ref.as_ref().map(|r| SecretEnvSource {
                    name: r.name.clone(),
                    optional: None,
                }),
                config_map_ref: e.config_map_ref.as_ref().map(|r| ConfigMapEnvSource {
                    name: r.name.clone(),
                    optional: None,
                }),
                prefix: e.prefix.clone(),
            })
            .collect()
    })
}

/// The gate's own variables win over the Input's, so a promotion cannot be pointed
/// at another artifact or environment by configuration.
fn env_is_reserved(name: &str) -> bool {
    matches!(
        name,
        "TENANT"
            | "ARTIFACT_ID"
            | "SOURCE_ENVIRONMENT"
            | "TARGET_ENVIRONMENT"
            | "APPROVED_BY"
            | "ISSUE_URL"
    )
}

/// `job` as it is composed: itself, or carried by a provider-kubernetes `Object` when a
/// namespaced gate (in `xr_namespace`) runs it in `promotion.namespace`.
pub fn composed(job: Job, promotion: &PromotionInput, xr_namespace: Option<&str>) -> Value {
    let target = job.metadata.namespace.clone().unwrap_or_default();
    let value = serde_json::to_value(job).expect("a Job serializes");
    match &promotion.provider_config_ref {
        Some(provider_config) => Carrier::to(xr_namespace, &target, provider_config).carry(value),
        None => value,
    }
}

/// The observed Job kept exactly as Crossplane observes it, in its shape and place: an
/// `Object` re-emitted with the very manifest and ProviderConfig it carries, a Job with its
/// own spec (a Job's template cannot change, and a later Input, a new default included,
/// must not try), without what the API server keeps (status, uid, versions, owners).
/// Never moved by a later change of `promotion.namespace`, which would run the promotion a
/// second time. Returns the composed object and the Job's name.
pub fn kept(observed: Carried<'_>) -> (Value, String) {
    let rendered = struct_to_json(observed.rendered);
    let name = rendered["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if carrier::is_object(observed.carrier) {
        let object = struct_to_json(observed.carrier);
        let composed = json!({
            "apiVersion": object["apiVersion"],
            "kind": "Object",
            "metadata": {
                "namespace": object["metadata"]["namespace"],
                "labels": rendered["metadata"]["labels"],
            },
            "spec": {
                "forProvider": {"manifest": rendered},
                "providerConfigRef": object["spec"]["providerConfigRef"],
            },
        });
        return (composed, name);
    }
    let meta = &rendered["metadata"];
    let mut metadata = serde_json::Map::new();
    for field in ["name", "namespace", "labels", "annotations"] {
        if !meta[field].is_null() {
            metadata.insert(field.to_owned(), meta[field].clone());
        }
    }
    let composed = json!({
        "apiVersion": rendered["apiVersion"],
        "kind": rendered["kind"],
        "metadata": metadata,
        "spec": rendered["spec"],
    });
    (composed, name)
}
