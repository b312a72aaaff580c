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

#[cfg(test)]
mod tests {
    use crate::input::{Input, NotifyOn};

    #[test]
    fn defaults_and_a_bad_event_named_by_its_path() {
        let input = Input::from_json(Some(&serde_json::json!({"notifications": {}}))).unwrap();
        let notifications = input.notifications.unwrap();
        assert_eq!(notifications.credentials_name, "notifications");
        assert_eq!(
            notifications.on,
            [NotifyOn::Requested, NotifyOn::Reminded, NotifyOn::Decided]
        );
        let bad = Input::from_json(Some(&serde_json::json!({
            "notifications": {"on": ["decided", "approved"]}
        })));
        let err = bad.unwrap_err().to_string();
        assert!(err.contains("notifications.on[1]"), "{err}");
    }
}
