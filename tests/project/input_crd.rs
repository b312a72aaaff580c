//! The Input CRD in `package/input/` is generated from the Rust types; this test fails
//! when the checked-in file drifts from them. Regenerate with
//! `UPDATE_INPUT_CRD=1 cargo nextest run --test project input_crd`.

use crate::common;

use function_release_pipeline::{input, yaml};

const CRD_PATH: &str = "package/input/release.fn.zerotouch.dev_inputs.yaml";

#[test]
fn checked_in_input_crd_matches_the_rust_types() {
    let generated = yaml::to_yaml_stream(&[input::crd()]);
    let path = common::repo_path(CRD_PATH);
    if std::env::var_os("UPDATE_INPUT_CRD").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{CRD_PATH} is out of date; regenerate it with UPDATE_INPUT_CRD=1 cargo nextest run --test project input_crd"
    );
}

#[test]
fn input_crd_schema_is_structural() {
    // A structural schema: every object node has a type, and no $ref, nullable-only or
    // title nodes remain (the API server rejects them).
    fn check(node: &serde_json::Value, path: &str) {
        let Some(map) = node.as_object() else { return };
        for forbidden in ["$ref", "$schema", "definitions", "$defs", "anyOf", "oneOf"] {
            assert!(!map.contains_key(forbidden), "{path} has {forbidden}");
        }
        if map.contains_key("properties") || map.contains_key("items") {
            assert!(map.contains_key("type"), "{path} has no type");
        }
        for (k, v) in map {
            check(v, &format!("{path}.{k}"));
        }
    }
    let crd = input::crd();
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    assert_eq!(schema["type"], "object");
    assert!(schema["properties"]["github"]["properties"]["repository"].is_object());
    check(schema, "openAPIV3Schema");
}

#[test]
fn example_input_validates_against_the_generated_schema() {
    let crd = input::crd();
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let validator = jsonschema::validator_for(schema).unwrap();
    let good = serde_json::json!({
        "apiVersion": "release.fn.zerotouch.dev/v1beta1", "kind": "Input",
        "github": {"repository": "acme/release-approvals", "pollInterval": "30s"},
        "approvals": {"users": ["alice"], "minApprovals": 2, "minPermission": "maintain"},
    });
    assert!(
        validator.is_valid(&good),
        "{:?}",
        validator
            .iter_errors(&good)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let bad = serde_json::json!({"approvals": {"minPermission": "owner"}, "github": {"pollInterval": "soon"}});
    assert_eq!(validator.iter_errors(&bad).count(), 2);
}
