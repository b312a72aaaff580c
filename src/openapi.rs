//! OpenAPI v3 schemas for Kubernetes from the Rust types: the Input CRD and the XRDs are
//! generated with schemars and rewritten into structural schemas the API server accepts.

use schemars::JsonSchema;
use serde_json::Value;

/// The structural OpenAPI v3 schema of `T`: subschemas inlined, then rewritten as
/// [`strip_schema_noise`] says.
pub fn structural_schema<T: JsonSchema>() -> Value {
    let settings = schemars::generate::SchemaSettings::openapi3().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = None;
    });
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    strip_schema_noise(&mut schema);
    schema
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
            // Doc comments arrive with their line breaks; a paragraph reads as one line.
            if let Some(Value::String(text)) = map.get_mut("description") {
                *text = text
                    .split("\n\n")
                    .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>()
                    .join("\n\n");
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

/// Patterns the XRDs share with the function's own checks.
pub mod pattern {
    /// A tenant: a DNS label starting with a letter.
    pub const TENANT: &str = "^[a-z][a-z0-9-]*[a-z0-9]$";
    /// An environment of a pipeline, a freeze window's or a rule's name: a DNS label.
    pub const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    /// A GitHub login.
    pub const LOGIN: &str = "^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$";
    /// A GitHub team, `org/team-slug`.
    pub const TEAM: &str = "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$";
    /// A Go duration as the function reads it: whole numbers of h, m, s and ms.
    pub const GO_DURATION: &str = "^([0-9]+(h|m|s|ms))+$";
}
