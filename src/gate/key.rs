//! The gate key: a short stable hash tying an approval to exactly one XR, tenant,
//! environment pair and artifact. A new artifact means a new key, and so a new issue.
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
    /// The tenant.
    pub tenant: &'a str,
    /// The source environment.
    pub source: &'a str,
    /// The target environment.
    pub target: &'a str,
    /// The artifact reference.
    pub artifact_id: &'a str,
}

/// The first 12 hex characters of sha256 over the parts.
pub fn gate_key(parts: KeyParts<'_>) -> String {
    // A newline cannot occur in any part: names and environments are DNS labels and
    // the artifact reference was validated to contain no whitespace.
    let joined = [
        parts.namespace,
        parts.name,
        parts.tenant,
        parts.source,
        parts.target,
        parts.artifact_id,
    ]
    .join("\n");
    let digest = Sha256::digest(joined.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> KeyParts<'static> {
        KeyParts {
            namespace: "platform-system",
            name: "my-service-dev-to-staging",
            tenant: "my-service",
            source: "dev",
            target: "staging",
            artifact_id: "ghcr.io/org/my-service:main-abc123",
        }
    }

    #[test]
    fn key_is_twelve_hex_characters_and_stable() {
        let key = gate_key(parts());
        assert_eq!(key.len(), 12);
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
