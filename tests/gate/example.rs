//! `examples/promotion-gate/`: the XRD and Composition validate against Crossplane's
//! CRD schemas, the XRD's schema agrees with the function's validation on the gate
//! fixtures, and the example renders through the function's `render` without a Fatal
//! result — without credentials as a gate waiting for them, with them as a gate whose
//! approval issue is open.

use crate::common;

use common::{read_one, schema_errors, shared_schema};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use function_release_pipeline::cli::RenderArgs;
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::{FakeConnector, FakeGitHub};
use function_release_pipeline::render_cli;
use function_sdk_rust::proto::v1::{Ready, Status};

fn example(file: &str) -> PathBuf {
    common::example_file("promotion-gate", file)
}

/// The XRD's `openAPIV3Schema` as a JSON-schema validator (CEL rules are not checked).
fn xrd_schema() -> jsonschema::Validator {
    let xrd = read_one(&example("xrd.yaml"));
    jsonschema::validator_for(&xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T06:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn args() -> RenderArgs {
    RenderArgs {
        xr: example("xr.yaml"),
        composition: Some(example("composition.yaml")),
        observed_resources: Some(example("observed.yaml")),
        required_resources: Some(example("required.yaml")),
        function_name: "function-release-pipeline".into(),
        ..RenderArgs::default()
    }
}

fn condition(rendered: &render_cli::Rendered, kind: &str) -> (i32, String) {
    let c = rendered
        .response
        .conditions
        .iter()
        .find(|c| c.r#type == kind)
        .unwrap_or_else(|| panic!("no {kind} condition"));
    (c.status, c.reason.clone())
}

#[test]
fn xrd_validates_against_the_crossplane_v2_xrd_schema() {
    let xrd = read_one(&example("xrd.yaml"));
    assert_eq!(xrd["apiVersion"], "apiextensions.crossplane.io/v2");
    assert_eq!(xrd["spec"]["scope"], "Namespaced");
    assert_eq!(xrd["spec"]["names"]["kind"], "XPromotionGate");
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
    assert_eq!(steps[0]["functionRef"]["name"], "function-release-pipeline");
    assert_eq!(
        steps[0]["input"]["github"]["repository"],
        "acme/release-approvals"
    );
    let e = schema_errors(
        &shared_schema("apiextensions.crossplane.io_composition_v1.json"),
        &composition,
    );
    assert!(e.is_empty(), "{e:?}");
}

#[test]
fn credentials_secret_is_the_one_the_composition_names() {
    let secret = read_one(&example("credentials.yaml"));
    let composition = read_one(&example("composition.yaml"));
    let reference = &composition["spec"]["pipeline"][0]["credentials"][0]["secretRef"];
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["metadata"]["name"], reference["name"]);
    assert_eq!(secret["metadata"]["namespace"], reference["namespace"]);
    // Only data: crossplane render --function-credentials sends nothing else.
    assert!(secret["data"]["token"].is_string());
    assert!(secret.get("stringData").is_none());
}

#[test]
fn xrd_schema_agrees_with_the_function_on_the_gate_fixtures() {
    let schema = xrd_schema();
    assert!(schema_errors(&schema, &read_one(&example("xr.yaml"))).is_empty());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gate");
    // Rules the schema can express without CEL; the rest need the pipeline or CEL.
    for case in [
        "invalid-artifact-without-registry",
        "invalid-artifact-bad-digest",
        "invalid-tenant-missing",
        "invalid-tenant-pattern",
        "invalid-timeout-too-long",
        "invalid-timeout-zero",
    ] {
        let xr = read_one(&fixtures.join(case).join("xr.yaml"));
        assert!(
            !schema_errors(&schema, &xr).is_empty(),
            "{case}: the XRD schema should refuse it too"
        );
    }
    for case in ["needs-approval", "auto-approved-by-policy", "superseded"] {
        let xr = read_one(&fixtures.join(case).join("xr.yaml"));
        let mut xr = xr;
        if let Some(map) = xr.as_object_mut() {
            map.remove("status");
        }
        let e = schema_errors(&schema, &xr);
        assert!(e.is_empty(), "{case}: {e:?}");
    }
}

#[tokio::test]
async fn example_renders_without_credentials_as_a_gate_waiting_for_them() {
    let fake = FakeGitHub::new("release-bot");
    let function = ReleaseFunction::new(Arc::new(FakeConnector::new(fake.clone())), Arc::new(now));
    let rendered = render_cli::render(&args(), &function, now()).await.unwrap();
    assert_eq!(rendered.fatal, None);
    assert_eq!(
        condition(&rendered, "ApprovalSynced"),
        (
            Status::ConditionFalse as i32,
            "MissingCredentials".to_string()
        )
    );
    assert_eq!(
        condition(&rendered, "Approved"),
        (Status::ConditionUnknown as i32, "Pending".to_string())
    );
    assert!(fake.calls().is_empty());
    let desired = rendered.response.desired.unwrap();
    assert_eq!(desired.resources["gate-config"].ready, Ready::True as i32);
    assert!(!desired.resources.contains_key("promotion-job"));
}

#[tokio::test]
async fn example_renders_with_credentials_as_a_gate_with_its_issue_open() {
    let fake = FakeGitHub::new("release-bot");
    fake.set_now(now());
    let function = ReleaseFunction::new(Arc::new(FakeConnector::new(fake.clone())), Arc::new(now));
    let args = RenderArgs {
        function_credentials: Some(example("credentials.yaml")),
        ..args()
    };
    let rendered = render_cli::render(&args, &function, now()).await.unwrap();
    assert_eq!(rendered.fatal, None);
    assert_eq!(
        condition(&rendered, "ApprovalSynced"),
        (Status::ConditionTrue as i32, "Synced".to_string())
    );
    assert_eq!(fake.issues().len(), 1);
    let xr = &rendered.documents[0];
    assert_eq!(xr["status"]["gate_status"], "pending");
    assert_eq!(
        xr["status"]["issue"]["url"],
        "https://github.com/acme/release-approvals/issues/1"
    );
}
