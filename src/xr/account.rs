//! `status.requester`: the GitHub account that requested the promotion, as the function's
//! binding sealed it (its id survives a rename of the login).
//!
//! Pure.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::fields::whole_from_one;

/// A GitHub account: its login when read, and its numeric id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Account {
    /// The login.
    #[schemars(length(max = 39))]
    pub login: String,
    /// The numeric id (a Struct number: whole, from 1).
    #[serde(deserialize_with = "whole_from_one")]
    #[schemars(range(min = 1))]
    pub id: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_survive_struct_numbers_and_others_are_refused() {
        let read: Account =
            serde_json::from_value(serde_json::json!({"login": "rita", "id": 527271335.0}))
                .unwrap();
        assert_eq!(read.id, 527_271_335);
        for bad in [0.0, 1.5, -3.0, 1e16] {
            let value = serde_json::json!({"login": "rita", "id": bad});
            assert!(serde_json::from_value::<Account>(value).is_err(), "{bad}");
        }
    }
}
