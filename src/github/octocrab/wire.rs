//! One request through an octocrab client under the exchange deadline, and what a
//! failure says: status and GitHub's message, with every secret masked.

use chrono::Utc;
use http::{HeaderMap, Method, StatusCode, header};
use octocrab::Octocrab;

use super::super::rest;
use super::super::{GitHubError, Result, Secret};
use super::Timeouts;

/// One answer from GitHub.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

impl Reply {
    pub(super) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// Sends requests with one octocrab client, under the exchange deadline.
#[derive(Clone)]
pub(super) struct Wire {
    pub(super) crab: Octocrab,
    pub(super) timeouts: Timeouts,
    /// What must never appear in an error message.
    pub(super) secrets: Vec<Secret>,
}

impl Wire {
    /// One request, never retried. `path` is relative to the API root (octocrab adds the
    /// `Authorization` header only to requests for the API root).
    pub(super) async fn send(
        &self,
        what: &str,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        if_none_match: Option<&str>,
    ) -> Result<Reply> {
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(etag) = if_none_match {
            builder = builder.header(header::IF_NONE_MATCH, etag);
        }
        let request = self.crab.build_request(builder, body).map_err(|e| {
            self.redact(GitHubError::Transport(format!(
                "{what}: {}",
                chain_message(&e)
            )))
        })?;
        let exchange = async {
            let response = self
                .crab
                .execute(request)
                .await
                .map_err(|e| transport_error(what, &e))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = self
                .crab
                .body_to_string(response)
                .await
                .map_err(|e| match e {
                    octocrab::Error::InvalidUtf8 { .. } => {
                        GitHubError::Malformed(format!("{what}: the answer is not UTF-8"))
                    }
                    other => transport_error(what, &other),
                })?;
            Ok(Reply {
                status,
                headers,
                body,
            })
        };
        let deadline = self.timeouts.exchange();
        let reply = match tokio::time::timeout(deadline, exchange).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => {
                crate::metrics::record_github_response(None);
                let err = self.redact(e);
                tracing::info!(reason = err.reason(), error = %err, "github request failed");
                return Err(err);
            }
            Err(_) => {
                crate::metrics::record_github_response(None);
                let err = GitHubError::Timeout(format!(
                    "{what}: no answer within {} ms",
                    deadline.as_millis()
                ));
                tracing::info!(reason = err.reason(), error = %err, "github request failed");
                return Err(err);
            }
        };
        crate::metrics::record_github_response(Some(reply.status.as_u16()));
        if let Some(remaining) = reply
            .header("x-ratelimit-remaining")
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            crate::metrics::set_rate_limit_remaining(remaining);
        }
        tracing::debug!(
            method = %method,
            path,
            status = reply.status.as_u16(),
            conditional = if_none_match.is_some(),
            "github request"
        );
        Ok(reply)
    }

    /// The error for a failed answer.
    pub(super) fn fail(&self, what: &str, reply: &Reply) -> GitHubError {
        let err = self.redact(rest::classify(
            what,
            reply.status,
            &reply.headers,
            &reply.body,
            Utc::now(),
        ));
        tracing::info!(
            status = reply.status.as_u16(),
            reason = err.reason(),
            error = %err,
            "github answered with an error"
        );
        err
    }

    /// Removes every secret from the error's message.
    pub(super) fn redact(&self, err: GitHubError) -> GitHubError {
        let scrub = |s: String| {
            let s = self
                .secrets
                .iter()
                .filter(|secret| !secret.expose().is_empty())
                .fold(s, |s, secret| s.replace(secret.expose(), "[redacted]"));
            // An App's JWT is not among the secrets (it is made per request).
            mask_bearer(&s)
        };
        match err {
            GitHubError::MissingCredentials(m) => GitHubError::MissingCredentials(scrub(m)),
            GitHubError::BadCredentials(m) => GitHubError::BadCredentials(scrub(m)),
            GitHubError::Forbidden(m) => GitHubError::Forbidden(scrub(m)),
            GitHubError::NotFound(m) => GitHubError::NotFound(scrub(m)),
            GitHubError::Timeout(m) => GitHubError::Timeout(scrub(m)),
            GitHubError::Server { status, message } => GitHubError::Server {
                status,
                message: scrub(message),
            },
            GitHubError::Malformed(m) => GitHubError::Malformed(scrub(m)),
            GitHubError::Transport(m) => GitHubError::Transport(scrub(m)),
            GitHubError::ReadOnly(m) => GitHubError::ReadOnly(scrub(m)),
            limited @ (GitHubError::RateLimited { .. } | GitHubError::WriteBudget { .. }) => {
                limited
            }
        }
    }
}

/// The text with whatever follows `Bearer ` or `token ` (an `Authorization` value a
/// server repeated) replaced by `[redacted]`.
pub(super) fn mask_bearer(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let found = ["Bearer ", "bearer ", "token "]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
            .min();
        let Some((at, len)) = found else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at + len]);
        let after = &rest[at + len..];
        let end = after
            .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
            .unwrap_or(after.len());
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &after[end..];
    }
}

/// Every message in an error's source chain, joined, without octocrab's backtraces.
pub(super) fn chain_message(err: &(dyn std::error::Error + 'static)) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut current = err.source();
    while let Some(e) = current {
        let text = e.to_string();
        if !messages.iter().any(|m| m.contains(&text)) {
            messages.push(text);
        }
        current = e.source();
    }
    if messages.is_empty() {
        messages.push(err.to_string());
    }
    rest::shorten(&messages.join(": "))
}

/// A failed exchange: a timeout when any cause timed out, else a transport error.
pub(super) fn transport_error(what: &str, err: &octocrab::Error) -> GitHubError {
    let mut timed_out = false;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || e.to_string().to_ascii_lowercase().contains("timed out")
        {
            timed_out = true;
        }
        current = e.source();
    }
    let message = format!("{what}: {}", chain_message(err));
    if timed_out {
        GitHubError::Timeout(message)
    } else {
        GitHubError::Transport(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_authorization_values_are_masked() {
        assert_eq!(
            mask_bearer("refused Authorization: Bearer eyJ.a.b, try a token abc123"),
            "refused Authorization: Bearer [redacted], try a token [redacted]"
        );
        assert_eq!(mask_bearer("no secrets here"), "no secrets here");
        assert_eq!(mask_bearer("ends with token "), "ends with token ");
    }
}
