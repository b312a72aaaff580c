//! Builders of an XReleasePipeline's composed objects. Each takes the validated
//! [`Pipeline`] (and the part of the Input it needs) and returns the object; none can
//! fail, and none decides anything the validation did not.
//!
//! Pure: no I/O, no gRPC types; writing into the response is [`super`]'s.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use crate::input::{ExternalSecretInput, ServiceAccountInput};
use crate::pipeline_config::{self, Rule};
use crate::xr::pipeline::Whereabouts;
use crate::yaml;

use super::validate::Pipeline;
use crate::names;

/// The resource (plural) of promotion gates, in the XR's API group.
pub const GATES_RESOURCE: &str = "xpromotiongates";

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn metadata(name: String, namespace: Option<&str>, tenant: &str, component: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: namespace.map(str::to_owned),
        labels: Some(names::labels(tenant, component)),
        ..ObjectMeta::default()
    }
}

/// The pipeline ConfigMap: every setting as its own key (one per adjacent pair, e.g.
/// `dev_to_staging: manual`) for shell scripts, and the whole normalised pipeline as
/// `pipeline.yaml` for scripts that read it whole.
pub fn render_config_map(p: &Pipeline, whereabouts: Option<&Whereabouts>) -> ConfigMap {
    let c = &p.config;
    let mut data = BTreeMap::from([
        ("tenant".to_owned(), c.tenant.clone()),
        ("environments".to_owned(), c.environments.join(",")),
        ("registry".to_owned(), c.registry.clone()),
        ("retention_days".to_owned(), c.retention_days.to_string()),
        (
            "validation_mode".to_owned(),
            c.testing.validation_mode.clone(),
        ),
        (
            "bootstrap_mode".to_owned(),
            c.testing.bootstrap_mode.clone(),
        ),
    ]);
    for promotion in &c.promotions {
        data.insert(
            format!("{}_to_{}", promotion.from, promotion.to),
            Rule::as_str(promotion.rule).to_owned(),
        );
    }
    // Where each artifact is, for scripts: `artifact.<environment>` for each environment
    // holding one, and the furthest of them.
    if let Some(w) = whereabouts {
        for held in &w.environments {
            data.insert(format!("artifact.{}", held.name), held.artifact_id.clone());
        }
        data.insert(
            "current_environment".to_owned(),
            w.current_environment.clone(),
        );
    }
    // PipelineConfig holds only strings, integers and enums, which always serialize.
    let config = serde_json::to_value(c).expect("the pipeline config serializes to JSON");
    data.insert(
        pipeline_config::PIPELINE_YAML_KEY.to_owned(),
        yaml::to_yaml(&config),
    );
    ConfigMap {
        metadata: metadata(
            names::config_map(&c.tenant),
            Some(&p.namespace),
            &c.tenant,
            names::component::PIPELINE_CONFIG,
        ),
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// The remote key of one credential: the Input's template with `{tenant}` and `{key}`
/// filled in, so no two tenants share a path.
pub fn remote_key(template: &str, tenant: &str, key: &str) -> String {
    template.replace("{tenant}", tenant).replace("{key}", key)
}

/// The ExternalSecret that fills the Secret `<tenant>-release-pipeline-credentials`
/// from the Input's store, one entry per Input key. A template without `{key}` names
/// one remote secret per tenant, and each key is read as a property of it.
pub fn render_external_secret(p: &Pipeline, es: &ExternalSecretInput) -> Value {
    external_secret(p, es, names::credentials(&p.config.tenant), &p.namespace)
}

/// The ExternalSecret of the credentials promotion Jobs use in `namespace` (the Input's
/// `promotion.namespace`), named for this pipeline's namespace and tenant.
pub fn render_promotion_credentials(
    p: &Pipeline,
    es: &ExternalSecretInput,
    namespace: &str,
) -> Value {
    external_secret(
        p,
        es,
        names::promotion_account(&p.namespace, &p.config.tenant),
        namespace,
    )
}

fn external_secret(p: &Pipeline, es: &ExternalSecretInput, name: String, namespace: &str) -> Value {
    let tenant = &p.config.tenant;
    let per_key = es.key_template.contains("{key}");
    let data: Vec<Value> = es
        .keys
        .iter()
        .map(|key| {
            let mut remote = json!({"key": remote_key(&es.key_template, tenant, key)});
            if !per_key {
                remote["property"] = json!(key);
            }
            json!({"secretKey": key, "remoteRef": remote})
        })
        .collect();
    json!({
        "apiVersion": es.api_version,
        "kind": "ExternalSecret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": names::labels(tenant, names::component::CREDENTIALS),
        },
        "spec": {
            "refreshInterval": es.refresh_interval.to_string(),
            "secretStoreRef": {"kind": es.store_ref.kind.as_str(), "name": es.store_ref.name},
            "target": {"name": name, "creationPolicy": "Owner"},
            "data": data,
        },
    })
}

/// The ServiceAccount pipeline scripts and promotion Jobs run as, with the Input's
/// annotations and `{tenant}` filled in.
pub fn render_service_account(p: &Pipeline, sa: &ServiceAccountInput) -> ServiceAccount {
    service_account(
        p,
        sa,
        names::service_account(&p.config.tenant),
        &p.namespace,
    )
}

/// The ServiceAccount promotion Jobs of this pipeline's namespace and tenant run as in
/// `namespace` (the Input's `promotion.namespace`), with the Input's annotations.
pub fn render_promotion_service_account(
    p: &Pipeline,
    sa: &ServiceAccountInput,
    namespace: &str,
) -> ServiceAccount {
    service_account(
        p,
        sa,
        names::promotion_account(&p.namespace, &p.config.tenant),
        namespace,
    )
}

fn service_account(
    p: &Pipeline,
    sa: &ServiceAccountInput,
    name: String,
    namespace: &str,
) -> ServiceAccount {
    let tenant = &p.config.tenant;
    let mut meta = metadata(
        name,
        Some(namespace),
        tenant,
        names::component::SERVICE_ACCOUNT,
    );
    if !sa.annotations.is_empty() {
        meta.annotations = Some(
            sa.annotations
                .iter()
                .map(|(k, v)| (k.clone(), v.replace("{tenant}", tenant)))
                .collect(),
        );
    }
    ServiceAccount {
        metadata: meta,
        ..ServiceAccount::default()
    }
}

/// Read of one object by name, in the core group.
fn get_one(resource: &str, name: String) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(vec![resource.to_owned()]),
        resource_names: Some(vec![name]),
        verbs: vec!["get".into()],
        ..PolicyRule::default()
    }
}

/// Requesting and watching promotion gates. No update and no `status` subresource: a
/// gate's verdict is the function's to write, never the pipeline's.
fn request_gates(group: &str) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(vec![GATES_RESOURCE.into()]),
        verbs: ["create", "get", "list", "watch"]
            .map(str::to_owned)
            .to_vec(),
        ..PolicyRule::default()
    }
}

fn subject(p: &Pipeline) -> Subject {
    Subject {
        kind: "ServiceAccount".into(),
        name: names::service_account(&p.config.tenant),
        namespace: Some(p.namespace.clone()),
        ..Subject::default()
    }
}

/// The Role in the pipeline's namespace. For a namespaced XR it holds every rule; for a
/// cluster-scoped XR only the reads of its ConfigMap and Secret, which so stay confined
/// to the Input's namespace.
pub fn render_role(p: &Pipeline, with_gates: bool, with_credentials: bool) -> Role {
    let tenant = &p.config.tenant;
    // The pipeline's own ConfigMap, and its credentials unless they live only in the
    // promotion namespace.
    let mut rules = vec![get_one("configmaps", names::config_map(tenant))];
    if with_credentials {
        rules.push(get_one("secrets", names::credentials(tenant)));
    }
    if with_gates {
        rules.push(request_gates(&p.gate_api_group));
    }
    Role {
        metadata: metadata(
            names::rbac(tenant),
            Some(&p.namespace),
            tenant,
            names::component::RBAC,
        ),
        rules: Some(rules),
    }
}

/// Binds [`render_role`] to the pipeline's ServiceAccount.
pub fn render_role_binding(p: &Pipeline) -> RoleBinding {
    let tenant = &p.config.tenant;
    RoleBinding {
        metadata: metadata(
            names::rbac(tenant),
            Some(&p.namespace),
            tenant,
            names::component::RBAC,
        ),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.into(),
            kind: "Role".into(),
            name: names::rbac(tenant),
        },
        subjects: Some(vec![subject(p)]),
    }
}

/// The ClusterRole of a cluster-scoped XR: gate requests only. The ConfigMap and
/// Secret reads stay in [`render_role`] on purpose: a ClusterRole rule with
/// `resourceNames` on secrets would still grant a Secret of that name in every
/// namespace.
pub fn render_cluster_role(p: &Pipeline) -> ClusterRole {
    let tenant = &p.config.tenant;
    ClusterRole {
        metadata: metadata(names::rbac(tenant), None, tenant, names::component::RBAC),
        rules: Some(vec![request_gates(&p.gate_api_group)]),
        ..ClusterRole::default()
    }
}

/// Binds [`render_cluster_role`] to the pipeline's ServiceAccount.
pub fn render_cluster_role_binding(p: &Pipeline) -> ClusterRoleBinding {
    let tenant = &p.config.tenant;
    ClusterRoleBinding {
        metadata: metadata(names::rbac(tenant), None, tenant, names::component::RBAC),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.into(),
            kind: "ClusterRole".into(),
            name: names::rbac(tenant),
        },
        subjects: Some(vec![subject(p)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Input;
    use crate::pipeline_config::PipelineConfig;
    use crate::xr::Composite;
    use crate::xr::pipeline::PipelineSpec;

    fn pipeline(namespace: Option<&str>, spec: Value) -> Pipeline {
        let mut xr = json!({
            "apiVersion": "platform.zerotouch.dev/v1alpha1",
            "kind": "XReleasePipeline",
            "metadata": {"name": "p"},
        });
        if let Some(ns) = namespace {
            xr["metadata"]["namespace"] = json!(ns);
        }
        let input = Input {
            namespace: Some("pipelines".into()),
            ..Input::default()
        };
        super::super::validate(
            &PipelineSpec::from_json(&spec).unwrap(),
            &Composite::from_json(&xr).unwrap(),
            &input,
        )
        .unwrap()
    }

    fn seed() -> Pipeline {
        pipeline(
            Some("team-a"),
            json!({"tenant": "svc", "environments": ["dev", "staging", "production"],
                   "promotionRules": {"staging_to_production": "automatic"},
                   "approvals": {"production": {"teams": ["acme/sre"]}}}),
        )
    }

    #[test]
    fn config_map_has_one_key_per_pair_and_pipeline_yaml_reads_back() {
        let p = seed();
        let cm = render_config_map(&p, None);
        let data = cm.data.unwrap();
        assert_eq!(data["dev_to_staging"], "manual");
        assert_eq!(data["staging_to_production"], "automatic");
        assert_eq!(data["environments"], "dev,staging,production");
        let docs = yaml::from_str_multi(&data[pipeline_config::PIPELINE_YAML_KEY]).unwrap();
        let back: PipelineConfig = serde_json::from_value(docs[0].clone()).unwrap();
        assert_eq!(back, p.config);
        assert_eq!(
            cm.metadata.labels.unwrap()[names::COMPONENT_LABEL],
            names::component::PIPELINE_CONFIG
        );
    }

    #[test]
    fn service_account_annotations_fill_in_the_tenant() {
        let sa = ServiceAccountInput {
            annotations: BTreeMap::from([(
                "eks.amazonaws.com/role-arn".to_owned(),
                "arn:aws:iam::1:role/{tenant}-release".to_owned(),
            )]),
        };
        let rendered = render_service_account(&seed(), &sa);
        let annotations = rendered.metadata.annotations.unwrap();
        assert_eq!(
            annotations["eks.amazonaws.com/role-arn"],
            "arn:aws:iam::1:role/svc-release"
        );
        assert!(!annotations.values().any(|v| v.contains("{tenant}")));
    }

    #[test]
    fn credentials_paths_are_per_tenant_and_per_key() {
        let es = ExternalSecretInput::default();
        let a = render_external_secret(&seed(), &es);
        let keys: Vec<&str> = a["spec"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["remoteRef"]["key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "/platform/svc/release-pipeline/github-token",
                "/platform/svc/release-pipeline/registry-token"
            ]
        );
        let other = pipeline(
            Some("team-a"),
            json!({"tenant": "other", "environments": ["dev"]}),
        );
        let b = render_external_secret(&other, &es);
        assert_ne!(a["spec"]["data"], b["spec"]["data"]);
    }

    #[test]
    fn key_template_without_key_reads_each_key_as_a_property() {
        let es = ExternalSecretInput {
            key_template: "/platform/{tenant}/release".into(),
            ..ExternalSecretInput::default()
        };
        let rendered = render_external_secret(&seed(), &es);
        assert_eq!(
            rendered["spec"]["data"][1]["remoteRef"],
            json!({"key": "/platform/svc/release", "property": "registry-token"})
        );
    }

    fn verbs_of(rules: &[PolicyRule]) -> Vec<&str> {
        rules
            .iter()
            .flat_map(|r| r.verbs.iter().map(String::as_str))
            .collect()
    }

    #[test]
    fn namespaced_role_reads_only_its_own_objects_and_requests_gates() {
        let role = render_role(&seed(), true, true);
        let rules = role.rules.unwrap();
        assert_eq!(rules.len(), 3);
        for rule in &rules[..2] {
            assert_eq!(rule.verbs, ["get"]);
            assert_eq!(rule.resource_names.as_ref().map(Vec::len), Some(1));
        }
        assert_eq!(
            rules[1].resource_names.as_deref(),
            Some(&["svc-release-pipeline-credentials".to_owned()][..])
        );
        assert_eq!(
            rules[2].api_groups.as_deref(),
            Some(&["platform.zerotouch.dev".to_owned()][..])
        );
        assert_eq!(
            rules[2].resources.as_deref(),
            Some(&[GATES_RESOURCE.to_owned()][..])
        );
        let verbs = verbs_of(&rules);
        for forbidden in ["update", "patch", "delete", "*"] {
            assert!(!verbs.contains(&forbidden), "{forbidden} granted");
        }
        assert_eq!(role.metadata.namespace.as_deref(), Some("team-a"));
    }

    #[test]
    fn cluster_role_grants_no_configmap_or_secret_access() {
        let p = pipeline(None, json!({"tenant": "svc", "environments": ["dev"]}));
        let cluster = render_cluster_role(&p).rules.unwrap();
        assert_eq!(cluster.len(), 1);
        assert_eq!(
            cluster[0].resources.as_deref(),
            Some(&[GATES_RESOURCE.to_owned()][..])
        );
        let role = render_role(&p, false, true);
        assert_eq!(role.metadata.namespace.as_deref(), Some("pipelines"));
        assert_eq!(role.rules.unwrap().len(), 2);
        let binding = render_cluster_role_binding(&p);
        assert_eq!(
            binding.subjects.unwrap()[0].namespace.as_deref(),
            Some("pipelines")
        );
    }
}
