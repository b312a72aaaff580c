//! The gate key: a stable hash tying an approval to exactly one XR (by its uid), tenant,
//! environment pair and artifact. A new artifact, or a recreated XR, means a new key,
//! and so a new issue. Keys are compared in full (256 bits); only names that Kubernetes
//! limits to 63 characters carry a [`GateKey::short`] prefix.
//!
//! Pure: hashing only.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::xr::gate::GateSpec;

/// How many hex characters of the key go into names (the promotion Job's).
pub const SHORT_LEN: usize = 12;

/// What a key is made of, as written on any gate (a pipeline reads other gates' specs
/// without validating them as a gate would).
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'a> {
    /// The namespace of the composed resources.
    pub namespace: &'a str,
    /// The XR's name.
    pub name: &'a str,
    /// The XR's `metadata.uid`: a recreated XR is another gate.
    pub uid: &'a str,
    /// The tenant.
    pub tenant: &'a str,
    /// The source environment.
    pub source: &'a str,
    /// The target environment.
    pub target: &'a str,
    /// The artifact reference.
    pub artifact_id: &'a str,
    /// The source revision it was built from, `(repository, revision)`, when the gate
    /// names one (`spec.change`): another revision is another request.
    pub change: Option<(&'a str, &'a str)>,
}

/// The identity of one approval request: 64 hex characters of sha256.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GateKey(String);

impl GateKey {
    /// The key of the gate `namespace/name` with XR uid `uid` (empty when the XR has
    /// none, as in a local render) promoting what `spec` says.
    pub fn of(namespace: &str, name: &str, uid: &str, spec: &GateSpec) -> Self {
        Self::of_parts(KeyParts {
            namespace,
            name,
            uid,
            tenant: &spec.tenant,
            source: &spec.source_environment,
            target: &spec.target_environment,
            artifact_id: &spec.artifact_id,
            change: spec
                .change
                .as_ref()
                .map(|c| (c.repository.as_str(), c.revision.as_str())),
        })
    }

    /// The key of a gate made of `parts`.
    pub fn of_parts(parts: KeyParts<'_>) -> Self {
        let KeyParts {
            namespace,
            name,
            uid,
            tenant,
            source,
            target,
            artifact_id,
            change,
        } = parts;
        let parts = [namespace, name, uid, tenant, source, target, artifact_id];
        // A newline cannot occur in any part: names and environments are DNS labels, a uid
        // is a UUID, and the artifact reference was validated to contain no whitespace.
        let mut joined = String::from("release-gate/v2");
        for part in parts {
            joined.push('\n');
            joined.push_str(part);
        }
        // A gate without a change keeps the key it had before changes were named. The
        // revision is compared lowercase, as the gate's validation keeps it.
        if let Some((repository, revision)) = change {
            joined.push_str("\nchange\n");
            joined.push_str(&repository.to_ascii_lowercase());
            joined.push('\n');
            joined.push_str(&revision.to_ascii_lowercase());
        }
        let digest = Sha256::digest(joined.as_bytes());
        GateKey(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A key as recorded somewhere (a status, a marker), to compare with.
    pub fn from_recorded(text: &str) -> Self {
        GateKey(text.to_owned())
    }

    /// The key's 64 hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` is this key, compared in full.
    pub fn is(&self, text: &str) -> bool {
        self.0 == text
    }

    /// The key's prefix used in names; never compared to recognise a gate.
    pub fn short(&self) -> &str {
        self.0.get(..SHORT_LEN).unwrap_or(&self.0)
    }
}

impl fmt::Display for GateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTS: [&str; 7] = [
        "platform-system",
        "my-service-dev-to-staging",
        "6f1c2a4e-0000-4000-8000-000000000001",
        "my-service",
        "dev",
        "staging",
        "ghcr.io/org/my-service:main-abc123",
    ];

    fn key_of(parts: [&str; 7]) -> GateKey {
        let spec = GateSpec::from_json(
            &serde_json::json!({"tenant": parts[3], "artifact_id": parts[6],
                    "source_environment": parts[4], "target_environment": parts[5]}),
            false,
        )
        .unwrap();
        GateKey::of(parts[0], parts[1], parts[2], &spec)
    }

    #[test]
    fn key_is_256_bits_of_hex_and_stable() {
        let key = key_of(PARTS);
        assert_eq!(key.as_str().len(), 64);
        assert_eq!(key.short(), &key.as_str()[..12]);
        assert!(key.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(key, key_of(PARTS));
        assert_eq!(
            key.as_str(),
            "0b18fe3412be07e8e543552700fe5040d01ad41141719c8b354887179bf83b1b",
            "the key of a gate never changes between releases: its issues would be lost"
        );
    }

    #[test]
    fn every_part_changes_the_key() {
        let base = key_of(PARTS);
        let others = [
            "other",
            "other",
            "6f1c2a4e-0000-4000-8000-000000000002",
            "other",
            "qa",
            "production",
            "ghcr.io/org/my-service:main-def456",
        ];
        for (i, other) in others.iter().enumerate() {
            let mut parts = PARTS;
            parts[i] = other;
            assert_ne!(key_of(parts), base, "part {i}");
        }
    }

    #[test]
    fn moving_text_between_parts_changes_the_key() {
        let mut a = PARTS;
        a[0] = "ab";
        a[1] = "c";
        let mut b = PARTS;
        b[0] = "a";
        b[1] = "bc";
        assert_ne!(key_of(a), key_of(b));
    }

    #[test]
    fn a_named_change_is_part_of_the_key_and_none_keeps_the_old_one() {
        let spec = |change: serde_json::Value| {
            GateSpec::from_json(
                &serde_json::json!({"tenant": PARTS[3], "artifact_id": PARTS[6],
                    "source_environment": PARTS[4], "target_environment": PARTS[5],
                    "change": change}),
                false,
            )
            .unwrap()
        };
        let key = |change| GateKey::of(PARTS[0], PARTS[1], PARTS[2], &spec(change));
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let named = key(serde_json::json!({"repository": "org/my-service", "revision": sha}));
        assert_eq!(
            key(serde_json::Value::Null),
            key_of(PARTS),
            "no change, same key"
        );
        assert_ne!(named, key_of(PARTS));
        let upper = sha.to_ascii_uppercase();
        assert_eq!(
            key(serde_json::json!({"repository": "org/my-service", "revision": upper})),
            named
        );
        let other = "1123456789abcdef0123456789abcdef01234567";
        for change in [
            serde_json::json!({"repository": "org/my-service", "revision": other}),
            serde_json::json!({"repository": "org/other", "revision": sha}),
        ] {
            assert_ne!(key(change), named);
        }
        // A pipeline computes the key from the spec as written: the same one.
        let parts = KeyParts {
            namespace: PARTS[0],
            name: PARTS[1],
            uid: PARTS[2],
            tenant: PARTS[3],
            source: PARTS[4],
            target: PARTS[5],
            artifact_id: PARTS[6],
            change: Some(("org/my-service", &upper)),
        };
        assert_eq!(GateKey::of_parts(parts), named);
    }
}
