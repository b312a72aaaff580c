//! Fixtures the gate's tests share: one gate spec, its key and uid, and the gate made
//! of them. Compiled for tests only.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::key::GateKey;
use super::model::Gate;
use crate::github::fake::user_id;
use crate::github::{Identity, Issue, IssueState, Login};
use crate::xr::gate::GateSpec;

/// The function's login in the tests.
pub const BOT: &str = "release-bot";

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
pub fn gate(spec: &GateSpec, requester: Option<&str>) -> Gate {
    Gate {
        spec: spec.clone(),
        key: GateKey::from_recorded(KEY),
        namespace: "platform-system".into(),
        name: "gate".into(),
        uid: UID.into(),
        requester: requester.map(Login::new),
    }
}

/// The function's identity in the tests.
pub fn bot() -> Identity {
    Identity {
        login: BOT.into(),
        id: user_id(BOT),
    }
}

/// `hour:minute` on the tests' day, 2026-03-01, UTC.
pub fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    format!("2026-03-01T{hour:02}:{minute:02}:00Z")
        .parse()
        .unwrap()
}

/// An open approval issue the function opened at midnight, its body naming `key`.
pub fn issue(number: u64, key: &str) -> Issue {
    Issue {
        number,
        html_url: format!("https://github.com/acme/release-approvals/issues/{number}"),
        title: "Promote".into(),
        body: format!("<!-- release-gate:key={key} xr=platform-system/gate uid={UID} -->"),
        state: IssueState::Open,
        state_reason: None,
        closed_by: None,
        closed_at: None,
        created_at: at(0, 0),
        updated_at: at(0, 0),
        author: BOT.into(),
        author_id: user_id(BOT),
        labels: vec!["release-gate".into()],
    }
}
