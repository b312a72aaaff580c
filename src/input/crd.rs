//! The Input's CustomResourceDefinition, generated from the types.

use serde_json::Value;

use super::{GROUP, Input, KIND, VERSION};

/// The CustomResourceDefinition of the Input, generated from [`Input`]; checked in at
/// `package/input/release.fn.zerotouch.dev_inputs.yaml`.
pub fn crd() -> Value {
    let schema = crate::openapi::structural_schema::<Input>();
    serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": format!("inputs.{GROUP}"),
        },
        "spec": {
            "group": GROUP,
            "names": {
                "categories": ["crossplane"],
                "kind": KIND,
                "listKind": "InputList",
                "plural": "inputs",
                "singular": "input",
            },
            "scope": "Namespaced",
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    })
}
