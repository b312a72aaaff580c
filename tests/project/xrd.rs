//! The XRDs in `examples/` are generated from the Rust types (`src/xr/xrd.rs`); this test
//! fails when a checked-in file drifts from them. Regenerate with
//! `UPDATE_XRDS=1 cargo test --test project xrd`.

use crate::common;

use function_release_pipeline::{xr, yaml};

#[test]
fn checked_in_xrds_match_the_rust_types() {
    let update = std::env::var_os("UPDATE_XRDS").is_some();
    for (path, kind, xrd) in [
        (
            "examples/release-pipeline/xrd.yaml",
            "XReleasePipeline",
            xr::xrd::pipeline(),
        ),
        (
            "examples/promotion-gate/xrd.yaml",
            "XPromotionGate",
            xr::xrd::gate(),
        ),
    ] {
        let generated = format!("{}{}", xr::xrd::header(kind), yaml::to_yaml(&xrd));
        let file = common::repo_path(path);
        if update {
            std::fs::write(&file, &generated).unwrap();
        }
        let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            checked_in == generated,
            "{path} is out of date; regenerate it with UPDATE_XRDS=1 cargo test --test project xrd"
        );
    }
}

/// What the API server demands of a CRD schema: structural (every node with properties
/// or items has a type; no `$ref`, `anyOf`, `oneOf`), no `additionalProperties` beside
/// `properties`, and the keys of a map-type list required in its items.
#[test]
fn generated_xrd_schemas_are_structural() {
    fn check(node: &serde_json::Value, path: &str) {
        let Some(map) = node.as_object() else { return };
        for forbidden in [
            "$ref",
            "$schema",
            "definitions",
            "$defs",
            "anyOf",
            "oneOf",
            "title",
        ] {
            assert!(!map.contains_key(forbidden), "{path} has {forbidden}");
        }
        if map.contains_key("properties") || map.contains_key("items") {
            assert!(map.contains_key("type"), "{path} has no type");
        }
        assert!(
            !(map.contains_key("properties") && map.contains_key("additionalProperties")),
            "{path} has both properties and additionalProperties"
        );
        if let Some(keys) = map.get("x-kubernetes-list-map-keys") {
            let required = &map["items"]["required"];
            for key in keys.as_array().unwrap() {
                assert!(
                    required.as_array().is_some_and(|r| r.contains(key)),
                    "{path}: list-map key {key} is not required in its items"
                );
            }
        }
        for (k, v) in map {
            check(v, &format!("{path}.{k}"));
        }
    }
    for xrd in [xr::xrd::pipeline(), xr::xrd::gate()] {
        let schema = &xrd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        assert!(schema["properties"]["spec"]["required"].is_array());
        assert!(schema["properties"]["status"].get("required").is_none());
        check(schema, "openAPIV3Schema");
    }
}
