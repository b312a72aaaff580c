//! `status.notifications`: which notification of each event was delivered for the
//! request, by its delivery id (the same id for the same event of the same request, so a
//! lost status or another replica sends the same one again, and receivers can drop it).
//!
//! Pure.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::fields::non_empty;

/// The delivery id of the last notification delivered for each event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Notified {
    /// The request was opened.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "non_empty"
    )]
    #[schemars(length(max = 64))]
    pub requested: Option<String>,
    /// The latest reminder was posted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "non_empty"
    )]
    #[schemars(length(max = 64))]
    pub reminded: Option<String>,
    /// The gate was decided.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "non_empty"
    )]
    #[schemars(length(max = 64))]
    pub decided: Option<String>,
}
