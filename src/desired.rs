//! Writing JSON objects into desired resources, field by field, as the SDK's
//! `resource::update` does, but from the JSON value itself: `update` serializes its
//! source into a new JSON value first, which for a JSON source is a deep copy that is
//! built, converted and dropped on every call.
//!
//! Pure: no I/O.

use function_sdk_rust::proto::v1::Resource;
use function_sdk_rust::resource::json_to_pb;
use serde_json::{Map, Value};

/// Sets each top-level field of `object` on `target`, keeping the fields it does not
/// name (desired state is server-side apply intent).
pub fn update(target: &mut Resource, object: &Map<String, Value>) {
    let fields = &mut target.resource.get_or_insert_default().fields;
    for (key, value) in object {
        fields.insert(key.clone(), json_to_pb(value));
    }
}

/// Sets `status` on `target`, keeping its other fields.
pub fn update_status(target: &mut Resource, status: &Value) {
    target
        .resource
        .get_or_insert_default()
        .fields
        .insert("status".to_owned(), json_to_pb(status));
}

#[cfg(test)]
mod tests {
    use super::*;
    use function_sdk_rust::resource::{self, struct_to_json};
    use serde_json::json;

    fn resource_with(value: Value) -> Resource {
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
        update(&mut ours, object.as_object().unwrap());
        resource::update(&mut sdk, &object).unwrap();
        assert_eq!(
            struct_to_json(ours.resource.as_ref().unwrap()),
            struct_to_json(sdk.resource.as_ref().unwrap())
        );
        assert_eq!(
            ours.resource.unwrap().fields["data"],
            sdk.resource.unwrap().fields["data"]
        );
    }

    #[test]
    fn update_status_writes_what_the_sdk_writes_on_an_empty_resource() {
        let status = json!({"pipeline_id": "p-1", "approvals": []});
        let mut ours = Resource::default();
        let mut sdk = Resource::default();
        update_status(&mut ours, &status);
        resource::update_status(&mut sdk, &status).unwrap();
        assert_eq!(ours, sdk);
    }
}
