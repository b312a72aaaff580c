//! Every manifest in `examples/`, `render-inputs/` and `deploy/` validates against the Crossplane and External Secrets
//! schemas in `tests/schemas/` (and each example XR against its own XRD), and every
//! example XR renders through the function with its example input and no Fatal result.

use crate::common;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use function_release_pipeline::cli::RenderArgs;
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::FakeConnector;
use serde_json::Value;

fn schema_for(doc: &Value) -> Option<&'static str> {
    let api_version = doc["apiVersion"].as_str()?;
    match (api_version, doc["kind"].as_str()?) {
        ("apiextensions.crossplane.io/v2", "CompositeResourceDefinition") => {
            Some("apiextensions.crossplane.io_compositeresourcedefinition_v2.json")
        }
        ("apiextensions.crossplane.io/v1", "Composition") => {
            Some("apiextensions.crossplane.io_composition_v1.json")
        }
        ("pkg.crossplane.io/v1", "Function") => Some("pkg.crossplane.io_function_v1.json"),
        ("pkg.crossplane.io/v1", "Provider") => Some("pkg.crossplane.io_provider_v1.json"),
        ("monitoring.coreos.com/v1", "PrometheusRule") => {
            Some("monitoring.coreos.com_prometheusrule_v1.json")
        }
        ("pkg.crossplane.io/v1beta1", "DeploymentRuntimeConfig") => {
            Some("pkg.crossplane.io_deploymentruntimeconfig_v1beta1.json")
        }
        ("external-secrets.io/v1", "ExternalSecret") => {
            Some("external-secrets.io_externalsecret_v1.json")
        }
        ("kubernetes.m.crossplane.io/v1alpha1", "Object") => {
            Some("kubernetes.m.crossplane.io_object_v1alpha1.json")
        }
        ("kubernetes.m.crossplane.io/v1alpha1", "ClusterProviderConfig") => {
            Some("kubernetes.m.crossplane.io_clusterproviderconfig_v1alpha1.json")
        }
        _ => None,
    }
}

/// Every manifest the repository ships: the examples, their render inputs and the
/// install manifests.
fn manifest_files() -> Vec<PathBuf> {
    ["examples", "render-inputs", "deploy"]
        .into_iter()
        .flat_map(|dir| common::yaml_files(&common::repo_path(dir)))
        .collect()
}

/// Reads a core Kubernetes object through its k8s-openapi type and back: a field the
/// Kubernetes OpenAPI does not know, or a value of the wrong type, makes it differ.
fn core_round_trip(doc: &Value) -> Option<Result<Value, String>> {
    use k8s_openapi::api::{
        admissionregistration::v1 as admission, batch::v1 as batch, core::v1 as core,
        rbac::v1 as rbac,
    };
    fn through<T: serde::de::DeserializeOwned + serde::Serialize>(
        doc: &Value,
    ) -> Result<Value, String> {
        let typed: T = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
        serde_json::to_value(typed).map_err(|e| e.to_string())
    }
    let group_version = doc["apiVersion"].as_str()?;
    Some(match (group_version, doc["kind"].as_str()?) {
        ("v1", "ConfigMap") => through::<core::ConfigMap>(doc),
        ("v1", "Secret") => through::<core::Secret>(doc),
        ("v1", "ServiceAccount") => through::<core::ServiceAccount>(doc),
        ("v1", "Namespace") => through::<core::Namespace>(doc),
        ("batch/v1", "Job") => through::<batch::Job>(doc),
        ("rbac.authorization.k8s.io/v1", "Role") => through::<rbac::Role>(doc),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => through::<rbac::RoleBinding>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => through::<rbac::ClusterRole>(doc),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            through::<rbac::ClusterRoleBinding>(doc)
        }
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy") => {
            through::<admission::ValidatingAdmissionPolicy>(doc)
        }
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding") => {
            through::<admission::ValidatingAdmissionPolicyBinding>(doc)
        }
        _ => return None,
    })
}

#[test]
fn every_example_core_object_matches_the_kubernetes_openapi() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in manifest_files() {
        for doc in common::read_yaml(&file) {
            let Some(result) = core_round_trip(&doc) else {
                continue;
            };
            checked += 1;
            let mut original = doc.clone();
            if let Some(obj) = original.as_object_mut() {
                obj.retain(|_, v| !v.is_null());
            }
            match result {
                Ok(back) if back == original => {}
                Ok(back) => failures.push(format!(
                    "{}: {} {} changes through the typed object:\n{back}\nvs\n{original}",
                    file.display(),
                    doc["kind"],
                    doc["metadata"]["name"]
                )),
                Err(e) => failures.push(format!(
                    "{}: {} {}: {e}",
                    file.display(),
                    doc["kind"],
                    doc["metadata"]["name"]
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 3, "only {checked} core objects were checked");
}

#[test]
fn every_example_manifest_validates_against_its_schema() {
    let mut validated = 0;
    let mut failures = Vec::new();
    for file in manifest_files() {
        for doc in common::read_yaml(&file) {
            let Some(schema_file) = schema_for(&doc) else {
                continue;
            };
            let validator = common::shared_schema(schema_file);
            for e in common::schema_errors(&validator, &doc) {
                failures.push(format!(
                    "{}: {} {}: {e}",
                    file.display(),
                    doc["kind"],
                    doc["metadata"]["name"]
                ));
            }
            validated += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(validated >= 1, "no example manifest was validated");
}

/// The example folders that hold an XR and a Composition.
fn example_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::repo_path("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("xr.yaml").exists() && p.join("composition.yaml").exists())
        .collect();
    dirs.sort();
    assert!(
        !dirs.is_empty(),
        "no example folder holds xr.yaml and composition.yaml"
    );
    dirs
}

#[test]
fn every_example_xr_validates_against_its_xrd() {
    for dir in example_dirs() {
        let xrd = common::read_yaml(dir.join("xrd.yaml")).remove(0);
        let xr = common::read_yaml(dir.join("xr.yaml")).remove(0);
        let version = xrd["spec"]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| {
                format!(
                    "{}/{}",
                    xrd["spec"]["group"].as_str().unwrap(),
                    v["name"].as_str().unwrap()
                ) == xr["apiVersion"]
            })
            .unwrap_or_else(|| {
                panic!(
                    "{}: no XRD version serves the XR's apiVersion",
                    dir.display()
                )
            });
        let mut schema = version["schema"]["openAPIV3Schema"].clone();
        // The API server adds apiVersion, kind and metadata to every XR.
        let props = schema["properties"].as_object_mut().unwrap();
        for key in ["apiVersion", "kind"] {
            props
                .entry(key)
                .or_insert(serde_json::json!({"type": "string"}));
        }
        props
            .entry("metadata")
            .or_insert(serde_json::json!({"type": "object"}));
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errs = common::schema_errors(&validator, &xr);
        assert!(errs.is_empty(), "{}: {}", dir.display(), errs.join("\n"));
    }
}

#[tokio::test]
async fn every_example_xr_renders_without_a_fatal_result() {
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now));
    for dir in example_dirs() {
        let name = dir.file_name().unwrap().to_str().unwrap();
        let optional = |file: &str| Some(common::example_file(name, file)).filter(|p| p.exists());
        let args = RenderArgs {
            xr: dir.join("xr.yaml"),
            composition: Some(dir.join("composition.yaml")),
            observed_resources: optional("observed.yaml"),
            required_resources: optional("required.yaml"),
            include_function_results: true,
            function_name: "function-release-pipeline".into(),
            ..Default::default()
        };
        let rendered = function_release_pipeline::render_cli::render(&args, &function, now)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert_eq!(rendered.fatal, None, "{}", dir.display());
        assert!(
            rendered.documents.len() > 1,
            "{}: nothing was composed",
            dir.display()
        );
    }
}

#[test]
fn core_round_trip_catches_unknown_fields_and_wrong_types() {
    let typo = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                  "metadata": {"name": "x"}, "rulez": []});
    assert_ne!(core_round_trip(&typo).unwrap().unwrap(), typo);
    let wrong = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                                   "data": {"n": 1}});
    assert!(core_round_trip(&wrong).unwrap().is_err());
}

#[test]
fn every_example_xrd_enforces_the_composition_beside_it() {
    // A tenant who may create XRs picks no other Composition (with a weaker Input: other
    // approvers, another approvals repository) than the one the platform team wrote.
    for dir in example_dirs() {
        let xrd = common::read_yaml(dir.join("xrd.yaml")).remove(0);
        let composition = common::read_yaml(dir.join("composition.yaml")).remove(0);
        assert_eq!(
            xrd["spec"]["enforcedCompositionRef"]["name"],
            composition["metadata"]["name"],
            "{}",
            dir.display()
        );
        assert_eq!(
            composition["spec"]["compositeTypeRef"]["kind"],
            xrd["spec"]["names"]["kind"],
            "{}",
            dir.display()
        );
    }
}

#[test]
fn tenants_manage_gates_read_pipelines_and_never_write_status() {
    let docs = common::read_yaml(common::repo_path("deploy/tenant-rbac.yaml"));
    let role = docs
        .iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("the tenant ClusterRole");
    let rules = role["rules"].as_array().unwrap();
    let resources: Vec<&str> = rules
        .iter()
        .flat_map(|r| r["resources"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    for kind in ["xpromotiongates", "xreleasepipelines"] {
        assert!(resources.contains(&kind), "{kind}");
    }
    assert!(
        resources.iter().all(|r| !r.contains('/') && *r != "*"),
        "no subresource, status included: {resources:?}"
    );
    assert!(!resources.contains(&"secrets"), "no Secret: {resources:?}");
    // Pipelines choose approvers, freezes and progression: the platform team writes them.
    let writes_pipelines = rules.iter().any(|r| {
        r["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "xreleasepipelines")
            && r["verbs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v != "get" && v != "list" && v != "watch")
    });
    assert!(!writes_pipelines, "tenants only read their pipeline");
    let writes_composed = rules.iter().any(|r| {
        let res = r["resources"].as_array().unwrap();
        let verbs = r["verbs"].as_array().unwrap();
        res.iter().any(|x| x == "configmaps" || x == "jobs")
            && verbs
                .iter()
                .any(|v| v != "get" && v != "list" && v != "watch")
    });
    assert!(
        !writes_composed,
        "the composed ConfigMaps and Jobs are read-only"
    );
}

#[test]
fn the_status_guard_covers_both_status_subresources_and_denies() {
    let docs = common::read_yaml(common::repo_path("deploy/status-guard.yaml"));
    let policy = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicy")
        .unwrap();
    let binding = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicyBinding")
        .unwrap();
    assert_eq!(binding["spec"]["policyName"], policy["metadata"]["name"]);
    assert_eq!(
        binding["spec"]["validationActions"],
        serde_json::json!(["Deny"])
    );
    assert_eq!(policy["spec"]["failurePolicy"], "Fail");
    let rules = policy["spec"]["matchConstraints"]["resourceRules"]
        .as_array()
        .unwrap();
    let resources: Vec<&str> = rules
        .iter()
        .flat_map(|r| r["resources"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        resources,
        ["xpromotiongates/status", "xreleasepipelines/status"]
    );
    let operations = rules[0]["operations"].as_array().unwrap();
    assert!(operations.iter().any(|o| o == "UPDATE"));
    let expression = policy["spec"]["validations"][0]["expression"]
        .as_str()
        .unwrap();
    assert!(
        expression.contains("system:serviceaccount:crossplane-system:crossplane"),
        "{expression}"
    );
}

/// Under a node carrying `x-kubernetes-validations` (its subtree included), every list,
/// map and string has a bound: the API server estimates a CEL rule's cost from them, and
/// refuses a CRD whose rules' estimated cost is unbounded.
fn unbounded(node: &Value, path: String, under_rule: bool, out: &mut Vec<String>) {
    let under_rule = under_rule || node.get("x-kubernetes-validations").is_some();
    let has = |k: &str| node.get(k).is_some();
    if under_rule {
        match node["type"].as_str() {
            Some("array") if !has("maxItems") => out.push(format!("{path}: no maxItems")),
            Some("object") if has("additionalProperties") && !has("maxProperties") => {
                out.push(format!("{path}: no maxProperties"))
            }
            Some("string") if !has("maxLength") && !has("enum") && !has("format") => {
                out.push(format!("{path}: no maxLength"))
            }
            _ => {}
        }
    }
    if let Some(properties) = node["properties"].as_object() {
        for (name, child) in properties {
            unbounded(child, format!("{path}.{name}"), under_rule, out);
        }
    }
    if node["items"].is_object() {
        unbounded(&node["items"], format!("{path}[]"), under_rule, out);
    }
    if node["additionalProperties"].is_object() {
        unbounded(
            &node["additionalProperties"],
            format!("{path}{{}}"),
            under_rule,
            out,
        );
    }
}

#[test]
fn every_list_map_and_string_a_cel_rule_reads_has_a_bound() {
    let mut found = Vec::new();
    for dir in example_dirs() {
        let xrd = common::read_yaml(dir.join("xrd.yaml")).remove(0);
        for version in xrd["spec"]["versions"].as_array().unwrap() {
            let schema = &version["schema"]["openAPIV3Schema"];
            let mut out = Vec::new();
            unbounded(schema, String::new(), false, &mut out);
            found.extend(out.into_iter().map(|p| format!("{}: {p}", dir.display())));
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_shipped_memory_limit_leaves_the_views_their_budget() {
    use function_release_pipeline::memory::{FLOOR, RESERVED, view_budget};
    let docs = common::read_yaml(common::repo_path("deploy/deployment-runtime-config.yaml"));
    let limit = docs[0]["spec"]["deploymentTemplate"]["spec"]["template"]["spec"]["containers"][0]
        ["resources"]["limits"]["memory"]
        .as_str()
        .unwrap();
    let mib: u64 = limit.strip_suffix("Mi").unwrap().parse().unwrap();
    let bytes = mib << 20;
    let views = view_budget(Some(bytes), None) as u64;
    // The views, what the process needs besides, and as much again for the allocator's
    // overhead and what the views do not count.
    assert!(views >= FLOOR as u64);
    assert!(2 * views + RESERVED <= bytes, "{limit}: views {views}");
}
