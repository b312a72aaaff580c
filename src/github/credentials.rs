//! GitHub credentials from the pipeline step's `credentials` entry (the Secret's data),
//! with `GITHUB_TOKEN` from the environment as a fallback for local runs. Secrets are
//! wrapped so that no `Debug` or `Display` can print them.
//!
//! Pure: reads the credential map it is given and an optional environment value.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

use super::GitHubError;

/// A secret string whose `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it to GitHub.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How the function authenticates to GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A personal access token or fine-grained token.
    Token(Secret),
    /// A GitHub App.
    App {
        /// The App's id.
        app_id: u64,
        /// The App's private key, PEM (PKCS#1 or PKCS#8).
        private_key: Secret,
        /// The installation to act as; discovered for the repository when absent.
        installation_id: Option<u64>,
    },
}

impl Credentials {
    /// A short, stable name for these credentials at `api_url` ([`fingerprint`]).
    pub fn fingerprint(&self, api_url: &str) -> String {
        match self {
            Credentials::Token(token) => fingerprint(api_url, &["token", token.expose()]),
            Credentials::App {
                app_id,
                installation_id,
                ..
            } => fingerprint(
                api_url,
                &[
                    "app",
                    &app_id.to_string(),
                    &installation_id.map(|i| i.to_string()).unwrap_or_default(),
                ],
            ),
        }
    }
}

/// A short, stable name for credentials at an API root: 24 hex characters of a sha256
/// over the root and `parts`, each part separated so that no two lists collide. Never
/// logged; only a cache key, so that answers seen by one identity (or counted against
/// one rate limit) are never served to or charged to another.
pub fn fingerprint(api_url: &str, parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    hash.update(api_url.trim_end_matches('/').as_bytes());
    for part in parts {
        hash.update([0]);
        hash.update(part.len().to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Credentials {
    /// Reads credentials from the Secret data of the step's credentials entry, falling
    /// back to `env_token` (the `GITHUB_TOKEN` environment variable) when there is none.
    /// `name` is the entry's name, used in messages.
    pub fn from_data(
        name: &str,
        data: Option<&BTreeMap<String, Vec<u8>>>,
        env_token: Option<String>,
    ) -> Result<Self, GitHubError> {
        let Some(data) = data.filter(|d| !d.is_empty()) else {
            return match env_token.filter(|t| !t.trim().is_empty()) {
                Some(token) => Ok(Credentials::Token(Secret::new(token.trim()))),
                None => Err(GitHubError::MissingCredentials(format!(
                    "the pipeline step has no credentials named {name:?} (GITHUB_TOKEN serves only the local render)"
                ))),
            };
        };
        let text = |key: &str| -> Result<Option<String>, GitHubError> {
            match data.get(key) {
                None => Ok(None),
                Some(bytes) => String::from_utf8(bytes.clone())
                    .map(|s| Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
                    .map_err(|_| {
                        GitHubError::BadCredentials(format!(
                            "credentials {name:?}: key {key:?} is not UTF-8"
                        ))
                    }),
            }
        };
        if let Some(token) = text("token")? {
            return Ok(Credentials::Token(Secret::new(token)));
        }
        let number = |key: &str| -> Result<Option<u64>, GitHubError> {
            text(key)?
                .map(|s| {
                    s.parse::<u64>().map_err(|_| {
                        GitHubError::BadCredentials(format!(
                            "credentials {name:?}: key {key:?} must be a number"
                        ))
                    })
                })
                .transpose()
        };
        match (number("app_id")?, text("private_key")?) {
            (Some(app_id), Some(key)) => {
                if !key.contains("-----BEGIN") {
                    return Err(GitHubError::BadCredentials(format!(
                        "credentials {name:?}: key \"private_key\" is not a PEM private key"
                    )));
                }
                Ok(Credentials::App {
                    app_id,
                    private_key: Secret::new(key),
                    installation_id: number("installation_id")?,
                })
            }
            (Some(_), None) => Err(GitHubError::BadCredentials(format!(
                "credentials {name:?}: \"app_id\" is set but \"private_key\" is missing"
            ))),
            (None, Some(_)) => Err(GitHubError::BadCredentials(format!(
                "credentials {name:?}: \"private_key\" is set but \"app_id\" is missing"
            ))),
            (None, None) => Err(GitHubError::BadCredentials(format!(
                "credentials {name:?}: expected key \"token\", or \"app_id\" and \"private_key\""
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_parts_and_roots() {
        let api = "https://api.github.com";
        assert_ne!(
            fingerprint(api, &["ab", "c"]),
            fingerprint(api, &["a", "bc"])
        );
        assert_ne!(
            fingerprint(api, &["a\0", "b"]),
            fingerprint(api, &["a", "\0b"])
        );
        assert_ne!(
            fingerprint(api, &["token", "t"]),
            fingerprint("https://ghe.example.com/api/v3", &["token", "t"])
        );
        assert_eq!(
            fingerprint(api, &["x"]),
            fingerprint("https://api.github.com/", &["x"])
        );
        assert_eq!(fingerprint(api, &["x"]).len(), 24);
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn token_is_read_and_never_printed() {
        let c = Credentials::from_data("github", Some(&data(&[("token", "ghp_secret\n")])), None)
            .unwrap();
        assert_eq!(c, Credentials::Token(Secret::new("ghp_secret")));
        assert!(!format!("{c:?}").contains("ghp_secret"));
    }

    #[test]
    fn app_credentials_are_read() {
        let c = Credentials::from_data(
            "github",
            Some(&data(&[
                ("app_id", "42"),
                ("private_key", "-----BEGIN RSA PRIVATE KEY-----\nx\n"),
            ])),
            None,
        )
        .unwrap();
        assert!(matches!(
            c,
            Credentials::App {
                app_id: 42,
                installation_id: None,
                ..
            }
        ));
        assert!(!format!("{c:?}").contains("BEGIN"));
    }

    #[test]
    fn environment_token_is_the_fallback() {
        let c = Credentials::from_data("github", None, Some("envtoken".into())).unwrap();
        assert_eq!(c, Credentials::Token(Secret::new("envtoken")));
    }

    #[test]
    fn missing_credentials_name_the_entry() {
        let err = Credentials::from_data("gh", None, None).unwrap_err();
        assert_eq!(err.reason(), "MissingCredentials");
        assert!(err.to_string().contains("\"gh\""));
    }

    #[test]
    fn half_an_app_is_bad_credentials() {
        let err =
            Credentials::from_data("github", Some(&data(&[("app_id", "1")])), None).unwrap_err();
        assert_eq!(err.reason(), "BadCredentials");
        let err = Credentials::from_data(
            "github",
            Some(&data(&[("app_id", "x"), ("private_key", "k")])),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("must be a number"));
    }
}
