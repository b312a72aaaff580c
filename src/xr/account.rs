//! `status.requester`: the GitHub account that requested the promotion, as the function's
//! binding sealed it (its id survives a rename of the login).
//!
//! Pure.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// A GitHub account: its login when read, and its numeric id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Account {
    /// The login.
    #[schemars(length(max = 39))]
    pub login: String,
    /// The numeric id (a Struct number: whole, from 1).
    #[serde(deserialize_with = "id")]
    #[schemars(range(min = 1))]
    pub id: u64,
}

/// Struct numbers arrive as floats; only whole ones from 1 (below 2^53) are account ids.
fn id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = f64::deserialize(d)?;
    if n >= 1.0 && n.fract() == 0.0 && n < 9.007_199_254_740_992e15 {
        Ok(n as u64)
    } else {
        Err(serde::de::Error::custom(
            "an account id is a whole number from 1",
        ))
    }
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
