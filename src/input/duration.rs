//! Durations written as Go writes them (`30s`, `1m30s`, `2h`), as the Input's
//! `pollInterval` and `refreshInterval` are.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A duration written like Go's `time.Duration` (`30s`, `1m30s`, `2h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub Duration);

/// The longest a reminder may come after the issue opened.
pub const MAX_REMINDER: std::time::Duration = std::time::Duration::from_secs(168 * 3600);

/// Reminders as written: each a Go duration of at most 168h, increasing. The first that is
/// not, with its index and why.
pub fn reminders(written: &[String]) -> Result<Vec<std::time::Duration>, (usize, String)> {
    let mut out: Vec<std::time::Duration> = Vec::new();
    for (i, text) in written.iter().enumerate() {
        let d = GoDuration::parse(text).map_err(|why| (i, why))?.0;
        if d > MAX_REMINDER {
            return Err((i, format!("{text:?} is longer than 168h")));
        }
        if out.last().is_some_and(|last| d <= *last) {
            return Err((
                i,
                format!("{text:?} must come after the reminder before it"),
            ));
        }
        out.push(d);
    }
    Ok(out)
}

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

    #[test]
    fn reminders_are_increasing_go_durations_of_at_most_a_week() {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ok = reminders(&texts(&["30m", "4h", "168h"])).unwrap();
        assert_eq!(ok[1], Duration::from_secs(4 * 3600));
        for (bad, index, why) in [
            (texts(&["4h", "4h"]), 1, "after the reminder before it"),
            (texts(&["4h", "1h"]), 1, "after the reminder before it"),
            (texts(&["169h"]), 0, "longer than 168h"),
            (texts(&["1h", "tomorrow"]), 1, "invalid duration"),
        ] {
            let (i, message) = reminders(&bad).unwrap_err();
            assert_eq!(i, index, "{bad:?}");
            assert!(message.contains(why), "{bad:?}: {message}");
        }
        let input = crate::input::Input::from_json(Some(&serde_json::json!({
            "approvals": {"reminders": ["2h", "1h"]}
        })));
        let err = input.unwrap_err().to_string();
        assert!(err.contains("approvals.reminders[1]"), "{err}");
    }

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
