//! The Input's CustomResourceDefinition, generated from the types.

use serde_json::Value;

use super::{GROUP, Input, KIND, VERSION};

/// The CustomResourceDefinition of the Input, generated from [`Input`]; checked in at
/// `package/input/release.fn.zerotouch.dev_inputs.yaml`.
pub fn crd() -> Value {
    let settings = schemars::generate::SchemaSettings::openapi3().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = None;
    });
    let schema = settings.into_generator().into_root_schema_for::<Input>();
    let mut schema = schema.to_value();
    strip_schema_noise(&mut schema);
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

/// Rewrites the generated JSON schema into a structural CRD schema: no `$schema`,
/// `title` or `definitions`; an optional enum becomes the plain enum; documented enum
/// variants (`oneOf` of one-value enums) become one enum; `additionalProperties: false`
/// (mutually exclusive with `properties` in a CRD) is dropped, and free-form objects are
/// marked `x-kubernetes-preserve-unknown-fields`.
fn strip_schema_noise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in [
                "$schema",
                "title",
                "definitions",
                "$defs",
                "nullable",
                "default",
            ] {
                map.remove(key);
            }
            if map.get("type").and_then(Value::as_str) == Some("integer") {
                map.remove("format");
            }
            match map.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    map.remove("additionalProperties");
                }
                Some(Value::Bool(true)) => {
                    map.remove("additionalProperties");
                    map.insert(
                        "x-kubernetes-preserve-unknown-fields".into(),
                        Value::Bool(true),
                    );
                }
                _ => {}
            }
            if let Some(Value::Array(any_of)) = map.get("anyOf").cloned() {
                let is_null = |v: &Value| {
                    v.get("type").and_then(Value::as_str) == Some("null")
                        || v.get("enum") == Some(&serde_json::json!([null]))
                };
                if any_of.len() == 2 && any_of.iter().any(is_null) {
                    map.remove("anyOf");
                    if let Some(Value::Object(inner)) = any_of.into_iter().find(|v| !is_null(v)) {
                        for (k, v) in inner {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            if let Some(Value::Array(one_of)) = map.get("oneOf").cloned() {
                let values: Option<Vec<Value>> = one_of
                    .iter()
                    .map(|v| match v.get("enum").and_then(Value::as_array) {
                        Some(e)
                            if e.len() == 1
                                && v.get("type").and_then(Value::as_str) == Some("string") =>
                        {
                            Some(e[0].clone())
                        }
                        _ => None,
                    })
                    .collect();
                if let Some(values) = values {
                    map.remove("oneOf");
                    map.insert("type".into(), Value::String("string".into()));
                    map.insert("enum".into(), Value::Array(values));
                }
            }
            for v in map.values_mut() {
                strip_schema_noise(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_schema_noise),
        _ => {}
    }
}
