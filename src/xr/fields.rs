//! How status fields are read and written: leniently (a value someone wrote that cannot be
//! read counts as absent, never as a failure), and times as RFC 3339 with seconds.
//!
//! Pure.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// A value that cannot be read as `T` counts as absent.
pub(crate) fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

/// A text that is absent, unreadable or empty counts as absent.
pub(crate) fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(lenient::<D, String>(d)?.filter(|s| !s.is_empty()))
}

/// The items that can be read as `T`; the rest, or a value that is no list, is dropped.
pub(crate) fn readable_items<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|i| serde_json::from_value(i).ok())
            .collect(),
        _ => Vec::new(),
    })
}

pub(crate) fn time_text<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

pub(crate) fn some_time_text<S: Serializer>(
    t: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time_text(t, s),
        None => s.serialize_none(),
    }
}

/// RFC 3339 with seconds and `Z`, as status and ConfigMaps carry times.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Struct numbers arrive as floats; only whole ones from 1 below 2^53 are issue numbers
/// and account ids.
pub(crate) fn whole_from_one<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = f64::deserialize(d)?;
    if n >= 1.0 && n.fract() == 0.0 && n < 9.007_199_254_740_992e15 {
        Ok(n as u64)
    } else {
        Err(serde::de::Error::custom("must be a whole number from 1"))
    }
}
