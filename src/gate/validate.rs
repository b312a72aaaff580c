//! The gate as validated from the observed XR: its spec (with the artifact reference's
//! grammar), where its composed resources go, its key, and its requester.
//!
//! Pure: reads the call it is given.

use crate::call::{Call, Fatal};
use crate::github::Login;
use crate::names::REQUESTED_BY_ANNOTATION;
use crate::xr::gate::GateSpec;

use super::key::GateKey;
use super::model::Gate;

/// The gate of this call, or the Fatal result naming what is wrong.
pub fn gate(call: &Call<'_>) -> Result<Gate, Fatal> {
    let spec = GateSpec::from_json(&call.composite.spec, call.input.allow_mutable_tags)
        .map_err(|e| Fatal::invalid_spec(e.to_string()))?;
    if call.input.artifacts.require_digest && spec.artifact.digest.is_none() {
        return Err(Fatal::invalid_spec(format!(
            "spec.artifact_id: {:?} has no @sha256: digest, which the input's artifacts.requireDigest requires (a tag can be pushed again after approval; a digest names what was approved)",
            spec.artifact_id
        )));
    }
    let namespace = match (&call.composite.namespace, &call.input.namespace) {
        (Some(ns), _) | (None, Some(ns)) => ns.clone(),
        (None, None) => {
            return Err(Fatal::invalid_spec(
                "input.namespace: is required for a cluster-scoped XPromotionGate (where its ConfigMap and Job go)",
            ));
        }
    };
    let requester = call
        .composite
        .annotations
        .get(REQUESTED_BY_ANNOTATION)
        .map(|r| Login::new(r.trim().trim_start_matches('@')))
        .filter(|r| !r.as_str().is_empty());
    let name = call.composite.name.clone();
    let uid = call.composite.uid.clone().unwrap_or_default();
    Ok(Gate {
        key: GateKey::of(&namespace, &name, &uid, &spec),
        spec,
        namespace,
        name,
        uid,
        requester,
    })
}
