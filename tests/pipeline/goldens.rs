//! XReleasePipeline, end to end through `ReleaseFunction::run`: one fixture folder per
//! behaviour under `tests/fixtures/pipeline/<case>/` (`xr.yaml`, optional `input.yaml`
//! and `observed.yaml`), each compared as a whole RunFunction response with a reviewed
//! snapshot, plus the properties every rendered pipeline must have.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::FakeConnector;
use function_release_pipeline::yaml;
use function_sdk_rust::proto::v1::{
    Ready, RequestMeta, Resource, Resources, RunFunctionRequest, RunFunctionResponse, Severity,
    State,
};
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use serde_json::Value;

const TENANT_LABEL: &str = "release.zerotouch.dev/tenant";
const COMPONENT_LABEL: &str = "release.zerotouch.dev/component";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn read_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    yaml::from_str_multi(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn resource(value: &Value) -> Resource {
    Resource {
        resource: Some(json_to_struct(value.as_object().expect("an object"))),
        ..Default::default()
    }
}

/// The request Crossplane would send for the fixture folder `dir` as the first step.
fn request(dir: &Path) -> RunFunctionRequest {
    let xr = read_docs(&dir.join("xr.yaml")).remove(0);
    let input = dir.join("input.yaml");
    let observed = dir.join("observed.yaml");
    let observed_resources = if observed.exists() {
        read_docs(&observed)
            .iter()
            .map(|o| {
                let name = o["metadata"]["annotations"]["crossplane.io/composition-resource-name"]
                    .as_str()
                    .expect("observed resources carry their composition resource name")
                    .to_owned();
                (name, resource(o))
            })
            .collect()
    } else {
        Default::default()
    };
    // The tenant's gates, as Crossplane answers the pipeline's requirement for them.
    let gates = dir.join("required.yaml");
    let required_resources = if gates.exists() {
        [(
            "promotion-gates".to_owned(),
            Resources {
                items: read_docs(&gates).iter().map(resource).collect(),
            },
        )]
        .into()
    } else {
        Default::default()
    };
    RunFunctionRequest {
        meta: Some(RequestMeta {
            tag: "golden".into(),
            ..Default::default()
        }),
        required_resources,
        observed: Some(State {
            composite: Some(resource(&xr)),
            resources: observed_resources,
        }),
        desired: Some(State::default()),
        input: input
            .exists()
            .then(|| json_to_struct(read_docs(&input)[0].as_object().unwrap())),
        ..Default::default()
    }
}

fn run(dir: &Path) -> RunFunctionResponse {
    let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(now));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(function.run(&request(dir)))
}

fn fixture(case: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pipeline")
        .join(case)
}

fn fatal_messages(rsp: &RunFunctionResponse) -> Vec<&str> {
    rsp.results
        .iter()
        .filter(|r| r.severity == Severity::Fatal as i32)
        .map(|r| r.message.as_str())
        .collect()
}

/// The desired composed objects, by composition resource name.
fn composed(rsp: &RunFunctionResponse) -> Vec<(String, Value, i32)> {
    let mut out: Vec<(String, Value, i32)> = rsp
        .desired
        .as_ref()
        .map(|d| {
            d.resources
                .iter()
                .map(|(name, r)| {
                    (
                        name.clone(),
                        struct_to_json(r.resource.as_ref().unwrap()),
                        r.ready,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn external_secret_schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemas/external-secrets.io_externalsecret_v1.json"
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn golden_responses() {
    let status_schema = common::xrd_status_validator("examples/release-pipeline/xrd.yaml");
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.bind(|| {
        insta::glob!(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pipeline"),
            "*/xr.yaml",
            |path| {
                let dir = path.parent().unwrap();
                let rsp = run(dir);
                let case = dir.file_name().unwrap().to_str().unwrap();
                let fatal = fatal_messages(&rsp);
                if case.starts_with("invalid-") {
                    assert_eq!(fatal.len(), 1, "{case}: one Fatal result: {fatal:?}");
                    assert!(
                        fatal[0].starts_with("spec.") || fatal[0].starts_with("input."),
                        "{case}: the message starts with the field path: {}",
                        fatal[0]
                    );
                    assert!(composed(&rsp).is_empty(), "{case}: nothing composed");
                } else {
                    assert!(fatal.is_empty(), "{case}: {fatal:?}");
                    let status = rsp
                        .desired
                        .as_ref()
                        .and_then(|d| d.composite.as_ref())
                        .and_then(|c| c.resource.as_ref())
                        .map(|r| struct_to_json(r)["status"].clone())
                        .unwrap_or_default();
                    let errors = common::schema_errors(&status_schema, &status);
                    assert!(errors.is_empty(), "{case}: {errors:?}");
                }
                insta::assert_yaml_snapshot!(serde_json::to_value(&rsp).unwrap());
            }
        );
    });
}

/// Every case that passes validation: names are valid DNS labels, both labels are on
/// every object, no `{tenant}` placeholder is left, and the ExternalSecret validates
/// against the External Secrets v1 schema.
#[test]
fn every_valid_pipeline_renders_labelled_valid_objects() {
    let schema = external_secret_schema();
    let object_schema = common::shared_schema("kubernetes.m.crossplane.io_object_v1alpha1.json");
    let dir = fixture("");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let case = entry.unwrap().path();
        if case
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("invalid-")
        {
            continue;
        }
        let rsp = run(&case);
        assert!(fatal_messages(&rsp).is_empty(), "{case:?}");
        let objects = composed(&rsp);
        assert!(objects.len() >= 5, "{case:?}: {objects:?}");
        for (name, carried, _) in &objects {
            // An object for the promotion namespace is checked inside the provider-kubernetes
            // Object that carries it, which keeps its labels.
            let object = if carried["kind"] == "Object" {
                let errors = common::schema_errors(&object_schema, carried);
                assert!(errors.is_empty(), "{case:?} {name}: {errors:?}");
                assert_eq!(
                    carried["metadata"]["labels"],
                    carried["spec"]["forProvider"]["manifest"]["metadata"]["labels"],
                    "{case:?} {name}"
                );
                &carried["spec"]["forProvider"]["manifest"]
            } else {
                carried
            };
            let object_name = object["metadata"]["name"].as_str().unwrap();
            assert!(is_dns_label(object_name), "{case:?} {name}: {object_name}");
            let labels = &object["metadata"]["labels"];
            assert!(labels[TENANT_LABEL].is_string(), "{case:?} {name}");
            assert!(labels[COMPONENT_LABEL].is_string(), "{case:?} {name}");
            assert!(
                !object.to_string().contains("{tenant}"),
                "{case:?} {name}: a placeholder is left"
            );
            if object["kind"] == "ExternalSecret" {
                let errors: Vec<String> =
                    schema.iter_errors(object).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{case:?}: {errors:?}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} valid cases found");
}

#[test]
fn longest_allowed_tenant_renders_names_within_63_characters() {
    let rsp = run(&fixture("longest-tenant"));
    assert!(fatal_messages(&rsp).is_empty());
    let longest = composed(&rsp)
        .iter()
        .map(|(_, o, _)| o["metadata"]["name"].as_str().unwrap().len())
        .max()
        .unwrap();
    assert_eq!(longest, 63);
}

#[test]
fn resources_are_ready_once_observed_and_the_external_secret_once_synced() {
    let ready = |case: &str| -> Vec<(String, bool)> {
        composed(&run(&fixture(case)))
            .into_iter()
            .map(|(name, _, r)| (name, r == Ready::True as i32))
            .collect()
    };
    assert!(ready("namespaced").iter().all(|(_, r)| *r));
    assert!(ready("first-reconcile").iter().all(|(_, r)| !*r));
    let not_synced = ready("external-secret-not-ready");
    for (name, r) in not_synced {
        assert_eq!(r, name != "credentials", "{name}");
    }
    // Seen through the Object that carries it to the promotion namespace.
    let carried = ready("promotion-namespace");
    assert!(
        carried
            .iter()
            .any(|(n, _)| n == "promotion-service-account")
    );
    for (name, r) in carried {
        assert_eq!(r, name != "promotion-credentials", "{name}");
    }
}

#[test]
fn status_carries_a_stable_pipeline_id_and_the_pipeline_condition() {
    let rsp = run(&fixture("namespaced"));
    let status = struct_to_json(
        rsp.desired
            .as_ref()
            .unwrap()
            .composite
            .as_ref()
            .unwrap()
            .resource
            .as_ref()
            .unwrap(),
    );
    assert_eq!(
        status.as_object().unwrap().len(),
        1,
        "only status is written"
    );
    let id = status["status"]["pipeline_id"].as_str().unwrap();
    assert!(id.starts_with("my-service-"), "{id}");
    let again = run(&fixture("external-secret-not-ready"));
    assert_eq!(
        struct_to_json(
            again
                .desired
                .unwrap()
                .composite
                .unwrap()
                .resource
                .as_ref()
                .unwrap()
        )["status"]["pipeline_id"],
        id
    );
    let condition = rsp
        .conditions
        .iter()
        .find(|c| c.r#type == "PipelineReady")
        .unwrap();
    assert_eq!(condition.reason, "Available");
}

#[test]
fn cluster_scoped_pipeline_gets_cluster_rbac_without_secret_access() {
    let rsp = run(&fixture("cluster-scoped"));
    let objects = composed(&rsp);
    let kinds: Vec<(&str, &str)> = objects
        .iter()
        .map(|(n, o, _)| (n.as_str(), o["kind"].as_str().unwrap()))
        .collect();
    assert!(
        kinds.contains(&("cluster-role", "ClusterRole")),
        "{kinds:?}"
    );
    assert!(kinds.contains(&("cluster-role-binding", "ClusterRoleBinding")));
    for (name, object, _) in &objects {
        match object["kind"].as_str().unwrap() {
            "ClusterRole" => {
                for rule in object["rules"].as_array().unwrap() {
                    let resources = rule["resources"].to_string();
                    assert!(!resources.contains("secrets"), "{rule}");
                    assert!(!resources.contains("configmaps"), "{rule}");
                }
            }
            "ClusterRoleBinding" => {
                assert_eq!(object["subjects"][0]["namespace"], "pipelines");
            }
            _ => assert_eq!(object["metadata"]["namespace"], "pipelines", "{name}"),
        }
    }
}

#[test]
fn namespaced_pipeline_composes_nothing_cluster_scoped() {
    let rsp = run(&fixture("namespaced"));
    for (name, object, _) in composed(&rsp) {
        assert_eq!(
            object["metadata"]["namespace"], "platform-system",
            "{name} is namespaced in the XR's namespace"
        );
        assert!(!object["kind"].as_str().unwrap().starts_with("Cluster"));
    }
}

#[test]
fn status_fields_desired_by_earlier_steps_are_kept() {
    let mut req = request(&fixture("namespaced"));
    let earlier = serde_json::json!({"status": {"owner": "an earlier step"}});
    req.desired = Some(State {
        composite: Some(resource(&earlier)),
        ..Default::default()
    });
    let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(now));
    let rsp = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(function.run(&req));
    let status = &struct_to_json(
        rsp.desired
            .as_ref()
            .unwrap()
            .composite
            .as_ref()
            .unwrap()
            .resource
            .as_ref()
            .unwrap(),
    )["status"];
    assert_eq!(status["owner"], "an earlier step");
    assert!(status["pipeline_id"].is_string());
}
