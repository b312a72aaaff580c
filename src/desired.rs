//! Writing objects into desired resources, field by field, as the SDK's
//! `resource::update` does, but serialized straight into protobuf (see [`crate::pb`]):
//! `update` serializes its source into a JSON value first and converts that, which
//! builds every composed object twice and drops one copy on every call.
//!
//! Pure: no I/O.

use function_sdk_rust::proto::v1::Resource;
use pbjson_types::value::Kind;
use pbjson_types::{Struct, Value};
use serde::Serialize;

use crate::pb;

/// Sets each top-level field of `object` (which must serialize to an object) on
/// `target`, keeping the fields it does not name (desired state is server-side apply
/// intent).
pub fn update<T: Serialize + ?Sized>(target: &mut Resource, object: &T) -> Result<(), pb::Error> {
    update_from(target, pb::to_struct(object)?);
    Ok(())
}

/// Sets each top-level field of `object` on `target`, keeping the fields it does not
/// name.
pub fn update_from(target: &mut Resource, object: Struct) {
    target
        .resource
        .get_or_insert_default()
        .fields
        .extend(object.fields);
}

/// Merges `status` (which must serialize to an object) into `target`'s status: its
/// fields replace those of the same name, and the fields it does not name (desired by
/// an earlier step) are kept.
pub fn merge_status<T: Serialize + ?Sized>(
    target: &mut Resource,
    status: &T,
) -> Result<(), pb::Error> {
    let status = pb::to_struct(status)?;
    let fields = &mut target.resource.get_or_insert_default().fields;
    match fields.get_mut("status").and_then(|v| v.kind.as_mut()) {
        Some(Kind::StructValue(existing)) => existing.fields.extend(status.fields),
        _ => {
            fields.insert(
                "status".to_owned(),
                Value {
                    kind: Some(Kind::StructValue(status)),
                },
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use function_sdk_rust::resource::{self, struct_to_json};
    use serde_json::json;

    fn resource_with(value: serde_json::Value) -> Resource {
        Resource {
            resource: value.as_object().map(resource::json_to_struct),
            ..Default::default()
        }
    }

    #[test]
    fn update_writes_what_the_sdk_writes() {
        let before = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}});
        let object = json!({"metadata": {"name": "x", "labels": {"l": "v"}}, "data": {"b": [1, 2.5, null, true]}});
        let mut ours = resource_with(before.clone());
        let mut sdk = resource_with(before);
        update(&mut ours, &object).unwrap();
        resource::update(&mut sdk, &object).unwrap();
        assert_eq!(ours, sdk);
        assert_eq!(
            struct_to_json(ours.resource.as_ref().unwrap()),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"l": "v"}}, "data": {"b": [1, 2.5, null, true]}})
        );
    }

    #[test]
    fn update_refuses_what_is_not_an_object_and_writes_nothing() {
        let mut target = resource_with(json!({"kind": "ConfigMap"}));
        let before = target.clone();
        assert!(update(&mut target, &json!(["a"])).is_err());
        assert_eq!(target, before);
    }

    #[test]
    fn merge_status_on_an_empty_resource_writes_what_the_sdk_writes() {
        let status = json!({"pipeline_id": "p-1", "approvals": []});
        let mut ours = Resource::default();
        let mut sdk = Resource::default();
        merge_status(&mut ours, &status).unwrap();
        resource::update_status(&mut sdk, &status).unwrap();
        assert_eq!(ours, sdk);
    }

    #[test]
    fn merge_status_keeps_what_an_earlier_step_desired() {
        let mut target = resource_with(json!({
            "spec": {"x": 1},
            "status": {"earlier": "kept", "gate_status": "pending"},
        }));
        merge_status(
            &mut target,
            &json!({"gate_status": "approved", "approver": "alice"}),
        )
        .unwrap();
        assert_eq!(
            struct_to_json(target.resource.as_ref().unwrap()),
            json!({
                "spec": {"x": 1},
                "status": {"earlier": "kept", "gate_status": "approved", "approver": "alice"},
            })
        );
        let mut not_an_object = resource_with(json!({"status": "odd"}));
        merge_status(&mut not_an_object, &json!({"a": 1})).unwrap();
        assert_eq!(
            struct_to_json(not_an_object.resource.as_ref().unwrap()),
            json!({"status": {"a": 1}})
        );
    }
}
