//! What the render prints: the XR with its desired status (merged into the whole input
//! XR with `-x`), the composed resources, and with `-r` the results as the events
//! Crossplane records, as `crossplane composition render` prints them.

use chrono::{DateTime, SecondsFormat, Utc};
use function_sdk_rust::proto::v1::{Ready, RunFunctionResponse, Severity, State, Status};
use function_sdk_rust::resource::struct_to_json;
use serde_json::{Map, Value, json};

use super::inputs::Step;
use super::{RESOURCE_NAME_ANNOTATION, Rendered};
use crate::cli::RenderArgs;

pub(super) fn condition_status(status: i32) -> &'static str {
    match Status::try_from(status) {
        Ok(Status::ConditionTrue) => "True",
        Ok(Status::ConditionFalse) => "False",
        _ => "Unknown",
    }
}

/// Builds the printed documents from the final response, like `crossplane render`.
pub(super) fn assemble(
    args: &RenderArgs,
    xr: &Value,
    step: Option<&Step>,
    response: RunFunctionResponse,
    now: DateTime<Utc>,
) -> Rendered {
    let at = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let desired = response.desired.clone().unwrap_or_default();
    let step_name = step.map(|s| s.name.as_str()).unwrap_or(&args.function_name);
    let fatal = response
        .results
        .iter()
        .find(|r| r.severity == Severity::Fatal as i32)
        .map(|r| {
            format!(
                "pipeline step {step_name:?} returned a fatal result: {}",
                r.message
            )
        });

    // The XR: its identity with the desired status and conditions (with `-x`, merged into
    // the whole input XR below).
    let mut out_xr = {
        let mut metadata = Map::new();
        for key in ["name", "namespace"] {
            if let Some(v) = xr.pointer(&format!("/metadata/{key}")) {
                metadata.insert(key.into(), v.clone());
            }
        }
        json!({"apiVersion": xr["apiVersion"], "kind": xr["kind"], "metadata": metadata})
    };
    let mut status = desired
        .composite
        .as_ref()
        .and_then(|c| c.resource.as_ref())
        .map(struct_to_json)
        .and_then(|v| v.get("status").cloned())
        .unwrap_or_else(|| json!({}));
    let conditions = xr_conditions(&response, &desired, fatal.as_deref(), &at);
    status["conditions"] = Value::Array(conditions);
    out_xr["status"] = status;
    if args.include_full_xr {
        // As `crossplane render -x` (v2.3+): the output merged into the full input XR, the
        // output's values winning, the input's kept where the output has none.
        let mut full = xr.clone();
        merge_override(&mut full, out_xr);
        out_xr = full;
    }

    let mut documents = vec![out_xr];
    if fatal.is_none() {
        let xr_name = xr
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut names: Vec<&String> = desired.resources.keys().collect();
        names.sort();
        for name in names {
            let Some(object) = desired.resources[name]
                .resource
                .as_ref()
                .map(struct_to_json)
            else {
                continue;
            };
            documents.push(decorate(object, name, xr, xr_name));
        }
    }
    if args.include_function_results {
        documents.extend(result_documents(&response));
    }
    if args.include_context {
        documents.push(json!({
            "apiVersion": "render.crossplane.io/v1beta1",
            "kind": "Context",
            "fields": response.context.as_ref().map(struct_to_json).unwrap_or_else(|| json!({})),
        }));
    }
    Rendered {
        documents,
        fatal,
        response,
    }
}

/// The XR's conditions as Crossplane sets them: the function's, then `Synced` False on a
/// fatal result, else `Ready` from the composed resources' readiness.
fn xr_conditions(
    response: &RunFunctionResponse,
    desired: &State,
    fatal: Option<&str>,
    at: &str,
) -> Vec<Value> {
    let mut conditions: Vec<Value> = response
        .conditions
        .iter()
        .map(|c| {
            let mut cond = json!({
                "type": c.r#type,
                "status": condition_status(c.status),
                "reason": c.reason,
                "lastTransitionTime": at,
            });
            if let Some(m) = &c.message {
                cond["message"] = json!(m);
            }
            cond
        })
        .collect();
    let unready: Vec<&String> = {
        let mut names: Vec<&String> = desired
            .resources
            .iter()
            .filter(|(_, r)| r.ready != Ready::True as i32)
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names
    };
    conditions.push(if fatal.is_some() {
        json!({"type": "Synced", "status": "False", "reason": "ReconcileError", "lastTransitionTime": at,
               "message": fatal.unwrap_or_default()})
    } else if unready.is_empty() {
        json!({"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": at})
    } else {
        json!({"type": "Ready", "status": "False", "reason": "Creating", "lastTransitionTime": at,
               "message": format!("Unready resources: {}", unready.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))})
    });
    conditions
}

/// As `crossplane render` (v2.3+) prints them: the events Crossplane records for the
/// results, with the event type as severity.
fn result_documents(response: &RunFunctionResponse) -> Vec<Value> {
    let mut documents = Vec::new();
    for result in &response.results {
        let severity = match Severity::try_from(result.severity) {
            Ok(Severity::Warning) => "Warning",
            Ok(Severity::Normal) => "Normal",
            _ => continue,
        };
        documents.push(json!({
            "apiVersion": "render.crossplane.io/v1beta1",
            "kind": "Result",
            "severity": severity,
            "reason": result.reason.as_deref().unwrap_or(DEFAULT_EVENT_REASON),
            "message": result.message,
        }));
    }
    documents
}

/// The event reason Crossplane gives a function result that names none.
pub(super) const DEFAULT_EVENT_REASON: &str = "ComposeResources";

/// Merges `src` into `dst` as Go's `mergo.Merge(dst, src, WithOverride)` does on JSON:
/// objects merge key by key; any other value of `src` replaces `dst`'s unless it is
/// empty (null, false, 0, "", [] or {}).
pub(super) fn merge_override(dst: &mut Value, src: Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(&k) {
                    Some(existing) => merge_override(existing, v),
                    None => {
                        d.insert(k, v);
                    }
                }
            }
        }
        (d, s) => {
            let empty = match &s {
                Value::Null => true,
                Value::Bool(b) => !b,
                Value::Number(n) => n.as_f64() == Some(0.0),
                Value::String(t) => t.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
            };
            if !empty {
                *d = s;
            }
        }
    }
}

/// Adds what Crossplane adds to a composed resource: the resource-name annotation, the
/// composite label, a generateName and the controller reference.
pub(super) fn decorate(mut object: Value, name: &str, xr: &Value, xr_name: &str) -> Value {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    let metadata = &mut object["metadata"];
    if !metadata.get("annotations").is_some_and(Value::is_object) {
        metadata["annotations"] = json!({});
    }
    metadata["annotations"][RESOURCE_NAME_ANNOTATION] = json!(name);
    if metadata.get("name").is_none() {
        metadata["generateName"] = json!(format!("{xr_name}-"));
    }
    if !metadata.get("labels").is_some_and(Value::is_object) {
        metadata["labels"] = json!({});
    }
    metadata["labels"]["crossplane.io/composite"] = json!(xr_name);
    let mut owner = json!({
        "apiVersion": xr["apiVersion"],
        "kind": xr["kind"],
        "name": xr_name,
        "controller": true,
        "blockOwnerDeletion": true,
    });
    owner["uid"] = xr
        .pointer("/metadata/uid")
        .cloned()
        .unwrap_or_else(|| json!(""));
    metadata["ownerReferences"] = json!([owner]);
    object
}
