//! Durations written as Go writes them (`30s`, `1m30s`, `2h`), as the Input's
//! `pollInterval` and `refreshInterval` are.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A duration written like Go's `time.Duration` (`30s`, `1m30s`, `2h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub Duration);

impl GoDuration {
    /// Parses `1h2m3s`, `500ms`, `45s`; units h, m, s, ms. Must be positive.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid =
            || format!("invalid duration {text:?}: use a number and a unit such as 30s, 5m or 1h");
        let mut total = Duration::ZERO;
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(invalid());
        }
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .ok_or_else(invalid)?;
            if digits == 0 {
                return Err(invalid());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| invalid())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "h" => Duration::from_secs(3600),
                "m" => Duration::from_secs(60),
                "s" => Duration::from_secs(1),
                "ms" => Duration::from_millis(1),
                _ => return Err(invalid()),
            };
            total += unit
                .checked_mul(u32::try_from(n).map_err(|_| invalid())?)
                .ok_or_else(invalid)?;
            rest = &rest[unit_len..];
        }
        if total.is_zero() {
            return Err(format!(
                "invalid duration {text:?}: must be greater than zero"
            ));
        }
        Ok(GoDuration(total))
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut secs = self.0.as_secs();
        let millis = self.0.subsec_millis();
        if secs == 0 {
            return write!(f, "{millis}ms");
        }
        let h = secs / 3600;
        secs %= 3600;
        let m = secs / 60;
        secs %= 60;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if secs > 0 || (h == 0 && m == 0) {
            write!(f, "{secs}s")?;
        }
        Ok(())
    }
}

impl Serialize for GoDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        GoDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for GoDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9]+(h|m|s|ms))+$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_like_go() {
        for (text, secs) in [("30s", 30), ("1h", 3600), ("1m30s", 90), ("2h5m", 7500)] {
            let d = GoDuration::parse(text).unwrap();
            assert_eq!(d.0.as_secs(), secs);
            assert_eq!(d.to_string(), text);
        }
        for bad in ["", "s", "10", "10d", "0s", "-1s"] {
            assert!(GoDuration::parse(bad).is_err(), "{bad}");
        }
    }
}
