//! What every handler shares, and nothing else: one call's view ([`Call`]), the time
//! source ([`Clock`]) and the failure that stops the pipeline ([`Fatal`], with the reason
//! its result carries). A leaf: it names only the Input and the observed XR's types.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use function_sdk_rust::proto::v1::RunFunctionRequest;

use crate::input::Input;
use crate::xr::Composite;

/// The time source; injected so tests and renders are reproducible.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What a handler sees of one RunFunction call.
pub struct Call<'a> {
    /// The whole request, for required resources, credentials and desired state.
    pub request: &'a RunFunctionRequest,
    /// The validated Input.
    pub input: &'a Input,
    /// The observed XR.
    pub composite: &'a Composite,
    /// The time of this call.
    pub now: DateTime<Utc>,
    /// How long this call may still take, when the caller set a deadline (Crossplane
    /// v1.17 and v1.18 give each call 10 s; later versions pass what is left of the
    /// reconcile's two minutes). A margin to send the response is already taken off.
    pub time_left: Option<Duration>,
    /// When the call began (`time_left` counts from it).
    pub started: std::time::Instant,
}

/// A failure that stops the pipeline: a Fatal result with this reason and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Fatal {
    /// The result's reason (PascalCase): what kind of input was wrong.
    pub reason: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
}

impl Fatal {
    /// The XR's own spec is invalid.
    pub fn invalid_spec(message: impl Into<String>) -> Self {
        Fatal {
            reason: "InvalidSpec",
            message: message.into(),
        }
    }

    /// The tenant's XReleasePipeline, which a gate follows, is invalid or ambiguous.
    pub fn invalid_pipeline(message: impl Into<String>) -> Self {
        Fatal {
            reason: "InvalidPipeline",
            message: message.into(),
        }
    }

    /// The Input is invalid.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Fatal {
            reason: "InvalidInput",
            message: message.into(),
        }
    }

    /// The observed composite cannot be read.
    pub fn invalid_composite(message: impl Into<String>) -> Self {
        Fatal {
            reason: "InvalidComposite",
            message: message.into(),
        }
    }

    /// The composite is of a kind this function does not compose.
    pub fn unsupported_kind(kind: &str) -> Self {
        Fatal {
            reason: "UnsupportedKind",
            message: format!(
                "unsupported composite resource kind {kind:?}: expected XReleasePipeline or XPromotionGate (or set the input's xrKind)"
            ),
        }
    }

    /// Something the function composed could not be encoded: a defect, not bad input.
    pub fn internal(message: impl Into<String>) -> Self {
        Fatal {
            reason: "InternalError",
            message: message.into(),
        }
    }
}
