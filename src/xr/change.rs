//! `spec.change` of an XPromotionGate: the source revision its artifact was built from,
//! `{repository: owner/name, revision: <40-hex commit sha>}`. Written by the tenant, so it
//! says what the tenant claims the artifact holds (see SECURITY.md); validated here with
//! field paths, and by the XRD.
//!
//! Pure: reads the JSON it is given.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The source revision a gate's artifact was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The source repository, `owner/name`.
    pub repository: String,
    /// The commit, 40 lowercase hex characters.
    pub revision: String,
}

/// A repository owner (user or organisation): letters, digits and single hyphens inside.
pub const OWNER: &str = "^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$";

/// `owner/name` as GitHub allows them.
pub const REPOSITORY: &str = "^[A-Za-z0-9]+(-[A-Za-z0-9]+)*/[A-Za-z0-9._-]+$";

/// A full commit sha.
pub const REVISION: &str = "^[0-9a-fA-F]{40}$";

impl Change {
    /// The owner of the repository.
    pub fn owner(&self) -> &str {
        self.repository.split_once('/').map_or("", |(o, _)| o)
    }

    /// The name of the repository.
    pub fn name(&self) -> &str {
        self.repository.split_once('/').map_or("", |(_, n)| n)
    }

    /// Reads `spec.change` (`None` when absent or null).
    pub fn from_json(value: Option<&Value>) -> Result<Option<Change>, ChangeError> {
        let value = match value {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let Some(fields) = value.as_object() else {
            return Err(error(
                "spec.change",
                format!("must be an object {{repository, revision}}, got {value}"),
            ));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !["repository", "revision"].contains(&k.as_str()))
        {
            return Err(error(
                &format!("spec.change.{unknown}"),
                "is not a field of spec.change (repository, revision)",
            ));
        }
        let text = |field: &str| -> Result<String, ChangeError> {
            let path = format!("spec.change.{field}");
            match fields.get(field) {
                None | Some(Value::Null) => Err(error(&path, "is required")),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(error(&path, format!("must be a string, got {other}"))),
            }
        };
        let repository = text("repository")?;
        if !is_repository(&repository) {
            return Err(error(
                "spec.change.repository",
                format!("{repository:?} must be owner/name (a GitHub repository)"),
            ));
        }
        let revision = text("revision")?;
        if revision.len() != 40 || !revision.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(error(
                "spec.change.revision",
                format!("{revision:?} must be a full commit sha: 40 hex characters"),
            ));
        }
        Ok(Some(Change {
            repository,
            revision: revision.to_ascii_lowercase(),
        }))
    }
}

/// A field of `spec.change` that breaks a rule: its path and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeError {
    /// The field path, e.g. `spec.change.revision`.
    pub path: String,
    /// The rule it breaks.
    pub rule: String,
}

/// What a gate's change brings into the target environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeStatus {
    /// The source repository, owner/name.
    pub repository: String,
    /// The revision the target held (absent when it held none from a gate that named one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The gate's revision.
    pub head: String,
    /// How many commits the promotion brings (or takes out, going back); absent when the
    /// change could not be read.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_count"
    )]
    pub commits: Option<u64>,
    /// The GitHub logins of their authors and committers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000))]
    pub authors: Vec<String>,
    /// Why the change could not be read, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// A count as a protobuf Struct carries it (a double), read back whole.
fn whole_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<f64>::deserialize(d)?
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 9.0e15)
        .map(|n| n as u64))
}

fn error(path: &str, rule: impl Into<String>) -> ChangeError {
    ChangeError {
        path: path.to_owned(),
        rule: rule.into(),
    }
}

/// Whether `s` is `owner/name` as GitHub allows them ([`REPOSITORY`]).
fn is_repository(s: &str) -> bool {
    let Some((owner, name)) = s.split_once('/') else {
        return false;
    };
    let owner_ok = !owner.is_empty()
        && owner.len() <= 39
        && owner
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
    let name_ok = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    owner_ok && name_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn read(v: Value) -> Result<Option<Change>, ChangeError> {
        Change::from_json(Some(&v))
    }

    #[test]
    fn a_change_names_a_repository_and_a_full_commit_sha() {
        let upper = SHA.to_ascii_uppercase();
        let change = read(json!({"repository": "acme/my-service", "revision": upper}))
            .unwrap()
            .unwrap();
        assert_eq!(change.revision, SHA, "kept lowercase");
        assert_eq!((change.owner(), change.name()), ("acme", "my-service"));
        assert_eq!(Change::from_json(None).unwrap(), None);
        assert_eq!(read(Value::Null).unwrap(), None);
    }

    #[test]
    fn bad_changes_are_refused_with_the_fields_path() {
        let cases = [
            (json!("acme/app"), "spec.change"),
            (json!({"repository": "acme/app"}), "spec.change.revision"),
            (json!({"revision": SHA}), "spec.change.repository"),
            (
                json!({"repository": "acme", "revision": SHA}),
                "spec.change.repository",
            ),
            (
                json!({"repository": "acme/app/x", "revision": SHA}),
                "spec.change.repository",
            ),
            (
                json!({"repository": "-acme/app", "revision": SHA}),
                "spec.change.repository",
            ),
            (
                json!({"repository": "acme/..", "revision": SHA}),
                "spec.change.repository",
            ),
            (
                json!({"repository": "acme/app", "revision": "main"}),
                "spec.change.revision",
            ),
            (
                json!({"repository": "acme/app", "revision": &SHA[..39]}),
                "spec.change.revision",
            ),
            (
                json!({"repository": "acme/app", "revision": format!("{}g", &SHA[..39])}),
                "spec.change.revision",
            ),
            (
                json!({"repository": "acme/app", "revision": 7}),
                "spec.change.revision",
            ),
            (
                json!({"repository": "acme/app", "revision": SHA, "ref": "main"}),
                "spec.change.ref",
            ),
        ];
        for (value, path) in cases {
            let err = read(value.clone()).unwrap_err();
            assert_eq!(err.path, path, "{value}: {}", err.rule);
        }
    }

    #[test]
    fn the_xrd_patterns_agree_with_the_reader() {
        let repository = regex_lite(REPOSITORY);
        for (s, ok) in [
            ("acme/app", true),
            ("a-b/app.v2_x", true),
            ("acme/app/x", false),
            ("acme-/app", false),
            ("acme", false),
        ] {
            assert_eq!(is_repository(s), ok, "{s}");
            assert_eq!(repository(s), ok, "{s}");
        }
    }

    /// The XRD's pattern, as a JSON Schema validator reads it.
    fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
        let schema = json!({"type": "string", "pattern": pattern});
        move |s| jsonschema::is_valid(&schema, &json!(s))
    }
}
