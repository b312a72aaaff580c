//! `examples/release-pipeline/`: the XRD and Composition validate against Crossplane's
//! CRD schemas, the XRD's schema agrees with the function's validation on the pipeline
//! fixtures, and the example XR renders through the function with every resource ready.

use crate::common;

use common::{read_one, schema_errors, shared_schema};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use function_release_pipeline::cli::RenderArgs;
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::FakeConnector;
use function_release_pipeline::render_cli;
use function_sdk_rust::proto::v1::Ready;

fn example(file: &str) -> PathBuf {
    common::example_file("release-pipeline", file)
}

/// The XRD's `openAPIV3Schema` as a JSON-schema validator (CEL rules are not checked).
fn xrd_schema() -> jsonschema::Validator {
    let xrd = read_one(&example("xrd.yaml"));
    jsonschema::validator_for(&xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]).unwrap()
}

#[test]
fn xrd_validates_against_the_crossplane_v2_xrd_schema() {
    let xrd = read_one(&example("xrd.yaml"));
    assert_eq!(xrd["apiVersion"], "apiextensions.crossplane.io/v2");
    assert_eq!(xrd["spec"]["scope"], "Namespaced");
    let e = schema_errors(
        &shared_schema("apiextensions.crossplane.io_compositeresourcedefinition_v2.json"),
        &xrd,
    );
    assert!(e.is_empty(), "{e:?}");
}

#[test]
fn composition_validates_against_the_crossplane_composition_schema() {
    let composition = read_one(&example("composition.yaml"));
    let steps = composition["spec"]["pipeline"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "the function alone, no auto-ready step");
    assert_eq!(steps[0]["functionRef"]["name"], "function-release-pipeline");
    let e = schema_errors(
        &shared_schema("apiextensions.crossplane.io_composition_v1.json"),
        &composition,
    );
    assert!(e.is_empty(), "{e:?}");
}

#[test]
fn example_xr_is_accepted_by_its_xrd() {
    let xr = read_one(&example("xr.yaml"));
    let e = schema_errors(&xrd_schema(), &xr);
    assert!(e.is_empty(), "{e:?}");
}

/// Where the function accepts a fixture the XRD must too, and where a rule is one an
/// OpenAPI schema can state (pattern, length, enum, bounds, type, required) the XRD
/// refuses it at admission as the function does. Rules only CEL can state (uniqueness,
/// adjacency, approvals naming someone) are not evaluated here.
#[test]
fn xrd_schema_agrees_with_the_function_on_the_fixtures() {
    let schema = xrd_schema();
    let cel_only = [
        "invalid-environments-duplicate",
        "invalid-promotion-rule-key",
        "invalid-promotion-rule-not-adjacent",
        "invalid-promotion-rule-reversed",
        "invalid-approvals-unknown-environment",
        "invalid-approvals-first-environment",
        "invalid-approvals-nobody",
        "invalid-approval-rule-nobody",
        "invalid-approval-rules-min-approvals-without-people",
        // A cron schedule, a time zone, times in order: the XRD's CEL, or only the function.
        "invalid-freeze-schedule",
        "invalid-freeze-time-zone",
        "invalid-freeze-until-before-from",
        "invalid-freeze-environment",
        // Whether a schedule opens, and closes again, from now on: only the function.
        "invalid-freeze-never-opens",
        "invalid-freeze-never-closes",
        "invalid-approval-rule-reserved-name",
        // A list keyed by name: the API server refuses duplicate keys.
        "invalid-approval-rule-duplicate",
        "invalid-soak-time-environment",
        // Not the XR's fault: the Input or the scope.
        "invalid-cluster-scoped-without-namespace",
        "invalid-input-secret-key",
        // The API server prunes (or, with strict field validation, refuses) unknown
        // fields; a JSON schema without additionalProperties accepts them.
        "invalid-unknown-field",
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pipeline");
    let mut refused = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let case_dir = entry.unwrap().path();
        let case = case_dir.file_name().unwrap().to_str().unwrap().to_owned();
        let xr = read_one(&case_dir.join("xr.yaml"));
        let e = schema_errors(&schema, &xr);
        if !case.starts_with("invalid-") || cel_only.contains(&case.as_str()) {
            assert!(e.is_empty(), "{case}: the XRD refuses it: {e:?}");
        } else {
            assert!(!e.is_empty(), "{case}: the XRD accepts it");
            refused += 1;
        }
    }
    assert!(refused >= 10, "only {refused} cases refused");
}

#[tokio::test]
async fn example_renders_every_resource_ready_without_a_fatal_result() {
    let args = RenderArgs {
        xr: example("xr.yaml"),
        composition: Some(example("composition.yaml")),
        observed_resources: Some(example("observed.yaml")),
        function_name: "function-release-pipeline".into(),
        ..RenderArgs::default()
    };
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now));
    let rendered = render_cli::render(&args, &function, now).await.unwrap();
    assert_eq!(rendered.fatal, None);
    let desired = rendered.response.desired.as_ref().unwrap();
    let mut names: Vec<&str> = desired.resources.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "pipeline-config",
            "promotion-credentials",
            "promotion-service-account",
            "role",
            "role-binding",
            "service-account"
        ]
    );
    for (name, resource) in &desired.resources {
        assert_eq!(resource.ready, Ready::True as i32, "{name}");
    }
    let xr = &rendered.documents[0];
    let conditions = xr["status"]["conditions"].as_array().unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True"),
        "{conditions:?}"
    );
    assert!(
        xr["status"]["pipeline_id"]
            .as_str()
            .unwrap()
            .starts_with("my-service-")
    );
    // The composed documents follow the XR, one per resource.
    assert_eq!(rendered.documents.len(), 1 + names.len());
}
