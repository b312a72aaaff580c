//! The gate key: a stable hash tying an approval to exactly one XR (by its uid), tenant,
//! environment pair and artifact. A new artifact, or a recreated XR, means a new key,
//! and so a new issue. Keys are compared in full (256 bits); only names that Kubernetes
//! limits to 63 characters carry a [`short`] prefix.
//!
//! Pure: hashing only.

use sha2::{Digest, Sha256};

/// The identity of one approval request.
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
}

/// How many hex characters of the key go into names (the promotion Job's).
pub const SHORT_LEN: usize = 12;

/// The 64 hex characters of sha256 over the parts.
pub fn gate_key(parts: KeyParts<'_>) -> String {
    // A newline cannot occur in any part: names and environments are DNS labels, a uid
    // is a UUID, and the artifact reference was validated to contain no whitespace.
    let joined = [
        "release-gate/v2",
        parts.namespace,
        parts.name,
        parts.uid,
        parts.tenant,
        parts.source,
        parts.target,
        parts.artifact_id,
    ]
    .join("\n");
    let digest = Sha256::digest(joined.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key's prefix used in names; never compared to recognise a gate.
pub fn short(key: &str) -> &str {
    key.get(..SHORT_LEN).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> KeyParts<'static> {
        KeyParts {
            namespace: "platform-system",
            name: "my-service-dev-to-staging",
            uid: "6f1c2a4e-0000-4000-8000-000000000001",
            tenant: "my-service",
            source: "dev",
            target: "staging",
            artifact_id: "ghcr.io/org/my-service:main-abc123",
        }
    }

    #[test]
    fn key_is_256_bits_of_hex_and_stable() {
        let key = gate_key(parts());
        assert_eq!(key.len(), 64);
        assert_eq!(short(&key), &key[..12]);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(key, gate_key(parts()));
    }

    #[test]
    fn every_part_changes_the_key() {
        let base = gate_key(parts());
        let variants = [
            KeyParts {
                namespace: "other",
                ..parts()
            },
            KeyParts {
                name: "other",
                ..parts()
            },
            KeyParts {
                uid: "6f1c2a4e-0000-4000-8000-000000000002",
                ..parts()
            },
            KeyParts {
                tenant: "other",
                ..parts()
            },
            KeyParts {
                source: "qa",
                ..parts()
            },
            KeyParts {
                target: "production",
                ..parts()
            },
            KeyParts {
                artifact_id: "ghcr.io/org/my-service:main-def456",
                ..parts()
            },
        ];
        for v in variants {
            assert_ne!(gate_key(v), base, "{v:?}");
        }
    }

    #[test]
    fn moving_text_between_parts_changes_the_key() {
        let a = KeyParts {
            namespace: "ab",
            name: "c",
            ..parts()
        };
        let b = KeyParts {
            namespace: "a",
            name: "bc",
            ..parts()
        };
        assert_ne!(gate_key(a), gate_key(b));
    }
}
