//! `notifications`: where the function tells people about a gate besides GitHub (a signed
//! webhook, Slack), and about which events.
//!
//! Pure.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An event a notification is sent for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum NotifyOn {
    /// The approval issue was opened.
    Requested,
    /// A reminder was posted on it.
    Reminded,
    /// The gate was approved, rejected or timed out.
    Decided,
}

/// Notifications about gates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationsInput {
    /// The pipeline step's credentials entry holding `webhook_url` and `webhook_secret`,
    /// and/or `slack_url`.
    #[serde(default = "default_credentials")]
    #[schemars(length(min = 1, max = 253))]
    pub credentials_name: String,
    /// The events notified (default all three).
    #[serde(default = "every_event")]
    #[schemars(length(max = 3))]
    pub on: Vec<NotifyOn>,
}

fn default_credentials() -> String {
    "notifications".to_owned()
}

fn every_event() -> Vec<NotifyOn> {
    vec![NotifyOn::Requested, NotifyOn::Reminded, NotifyOn::Decided]
}
