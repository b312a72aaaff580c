//! Fixtures the gate's tests share: one gate spec, its key and uid, and the gate made
//! of them. Compiled for tests only.

use serde_json::json;

use super::model::Gate;
use crate::xr::gate::GateSpec;

/// The gate key the tests use.
pub const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// The XR uid the tests use.
pub const UID: &str = "6f1c2a4e-0000-4000-8000-000000000001";

/// The gate spec the tests decide on: my-service from dev to staging, 24 hours.
pub fn spec() -> GateSpec {
    GateSpec::from_json(
        &json!({"tenant": "my-service", "artifact_id": "ghcr.io/org/my-service:main-abc123",
                "source_environment": "dev", "target_environment": "staging",
                "timeout_hours": 24}),
        false,
    )
    .unwrap()
}

/// The gate `platform-system/gate` with [`KEY`] and [`UID`].
pub fn gate<'a>(spec: &'a GateSpec, requester: Option<&'a str>) -> Gate<'a> {
    Gate {
        spec,
        key: KEY,
        namespace: "platform-system",
        name: "gate",
        uid: UID,
        requester,
    }
}
