//! The observed composite resource, read into what every handler needs (identity,
//! scope, spec and recorded status), plus the typed spec and status per XR kind.
//!
//! Pure: no I/O, no gRPC types beyond reading the observed Struct.

pub mod account;
pub mod change;
mod fields;
pub mod gate;
pub mod notified;
pub mod pipeline;
pub mod xrd;

use std::collections::BTreeMap;

use function_sdk_rust::resource;
use pbjson_types::Struct;
use serde_json::Value;

use crate::pb;

/// The observed composite resource (XR), as this function reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite {
    /// `apiVersion`, e.g. `platform.zerotouch.dev/v1alpha1`.
    pub api_version: String,
    /// `kind`, e.g. `XPromotionGate`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`; `None` for a cluster-scoped XR.
    pub namespace: Option<String>,
    /// `metadata.uid`, when Crossplane has one.
    pub uid: Option<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `spec`, untyped; each kind's module reads it.
    pub spec: Value,
    /// `status` as last written; `Null` when none.
    pub status: Value,
}

/// An observed XR that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CompositeError {
    /// The request has no observed composite at all.
    #[error("the request has no observed composite resource")]
    Missing,
    /// A required identity field is absent or not a string.
    #[error("observed composite resource: {0} is missing or not a string")]
    Field(&'static str),
}

impl Composite {
    /// Reads the XR from its JSON form.
    pub fn from_json(value: &Value) -> Result<Self, CompositeError> {
        match value {
            Value::Object(map) => Composite::from_struct(&resource::json_to_struct(map)),
            _ => Err(CompositeError::Field("apiVersion")),
        }
    }

    /// Reads the XR from the protobuf Struct Crossplane sends. Only `spec` and `status`
    /// are converted to JSON; the rest of the object (managed fields among it) is read
    /// in place.
    pub fn from_struct(object: &Struct) -> Result<Self, CompositeError> {
        let text = |v: Option<&pbjson_types::Value>| v.and_then(pb::as_str).map(str::to_owned);
        let metadata = object.fields.get("metadata").and_then(pb::as_struct);
        let field = |key: &str| metadata.and_then(|m| m.fields.get(key));
        // Sorted, as every map read from the XR is.
        let map = |key: &str| -> BTreeMap<String, String> {
            field(key)
                .and_then(pb::as_struct)
                .map(|o| {
                    o.fields
                        .iter()
                        .filter_map(|(k, v)| pb::as_str(v).map(|s| (k.clone(), s.to_owned())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let json = |key: &str| {
            object
                .fields
                .get(key)
                .map(resource::pb_to_json)
                .unwrap_or(Value::Null)
        };
        Ok(Composite {
            api_version: text(object.fields.get("apiVersion"))
                .ok_or(CompositeError::Field("apiVersion"))?,
            kind: text(object.fields.get("kind")).ok_or(CompositeError::Field("kind"))?,
            name: text(field("name")).ok_or(CompositeError::Field("metadata.name"))?,
            namespace: text(field("namespace")).filter(|n| !n.is_empty()),
            uid: text(field("uid")),
            labels: map("labels"),
            annotations: map("annotations"),
            spec: json("spec"),
            status: json("status"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespaced_composite_reads_identity_spec_and_status() {
        let xr = Composite::from_json(&json!({
            "apiVersion": "platform.zerotouch.dev/v1alpha1",
            "kind": "XPromotionGate",
            "metadata": {"name": "g", "namespace": "team-a", "annotations": {"a": "b"}},
            "spec": {"tenant": "t"},
            "status": {"gate_status": "pending"},
        }))
        .unwrap();
        assert_eq!(xr.namespace.as_deref(), Some("team-a"));
        assert_eq!(xr.annotations["a"], "b");
        assert_eq!(xr.spec["tenant"], "t");
        assert_eq!(xr.status["gate_status"], "pending");
    }

    #[test]
    fn composite_without_kind_is_refused() {
        let err = Composite::from_json(&json!({"apiVersion": "v1", "metadata": {"name": "x"}}));
        assert_eq!(err, Err(CompositeError::Field("kind")));
    }
}
