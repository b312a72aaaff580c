//! Posts notification bodies over HTTPS (or plain HTTP to loopback receivers) and tells
//! whether the receiver accepted them. Redirects are not followed. Failure messages say
//! what happened in fixed phrases and never contain the URL; nothing here logs.
//!
//! Not pure: network I/O.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::target;

/// The most of a response body that is read (and then dropped) after the status.
const DRAIN_LIMIT: usize = 64 * 1024;

/// How long an idle pooled connection is kept for the next notification.
const IDLE: Duration = Duration::from_secs(30);

/// The deadline used when a requested timeout is too large to add to the current time.
const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// The `user-agent` sent with every notification.
const AGENT: &str = "function-release-pipeline";

/// An HTTP client for notifications; cheap to clone (clones share one connection pool).
#[derive(Clone)]
pub struct Sender {
    /// The pooled HTTP/1 client over rustls.
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl Default for Sender {
    fn default() -> Self {
        Self::new()
    }
}

impl Sender {
    /// A sender that trusts the Mozilla root certificates (webpki-roots) and speaks HTTP/1.
    ///
    /// `with_webpki_roots()` builds the TLS configuration with rustls' process-default
    /// crypto provider, installing the one named by rustls' crate features (aws-lc-rs
    /// here) when none is installed yet. `with_provider_and_webpki_roots` would need the
    /// provider value from `rustls`, which is not a direct dependency of this crate. Like
    /// rustls itself, this panics only if no provider is installed and the crate features
    /// name none or several; a process that enables both `ring` and `aws-lc-rs` must
    /// install a default provider before building a sender.
    ///
    /// `https_or_http()` lets plain HTTP reach loopback receivers; [`Sender::post`] refuses
    /// any other plain-HTTP URL before connecting ([`target::refusal`]).
    pub fn new() -> Self {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(IDLE)
            .build(connector);
        Sender { client }
    }

    /// Posts `body` as JSON to `url` with `headers` added. Connecting, sending and
    /// reading the status take at most `timeout` together. Any 2xx status is success;
    /// anything else, including a redirect, is a failure described without the URL.
    pub async fn post(
        &self,
        url: &Uri,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(), String> {
        if let Some(why) = target::refusal(url) {
            return Err(format!("the URL {why}"));
        }
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, AGENT);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| "the request could not be built (a header name or value is not valid)")?;

        let now = tokio::time::Instant::now();
        // `timeout` is at most a few seconds in practice; a huge one cannot overflow here.
        let deadline = now.checked_add(timeout).unwrap_or(now + LONGEST);
        let response = match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Err(_) => return Err(format!("timed out after {timeout:?}")),
            Ok(Err(error)) => return Err(failure(&error)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        // Read what is left of a small answer so that the connection can be reused; the
        // outcome is decided by the status alone, so a slow or large body is abandoned.
        let drain = Limited::new(response.into_body(), DRAIN_LIMIT).collect();
        let _ = tokio::time::timeout_at(deadline, drain).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", status.as_u16()))
        }
    }
}

/// A description of a failed request in fixed phrases: no error's `Display`, which may
/// carry the URL or host, is included.
fn failure(error: &hyper_util::client::legacy::Error) -> String {
    let phase = if error.is_connect() {
        "the connection failed"
    } else {
        "the request failed"
    };
    match cause(error) {
        Some(cause) => format!("{phase}: {cause}"),
        None => phase.to_owned(),
    }
}

/// The most telling cause among `error`'s sources, as a fixed phrase.
fn cause(error: &(dyn StdError + 'static)) -> Option<&'static str> {
    let mut next = error.source();
    let mut found = None;
    // Bounded: source chains are short, and the bound guards against a cyclic chain.
    for _ in 0..16 {
        let Some(current) = next else { break };
        if let Some(hyper) = current.downcast_ref::<hyper::Error>() {
            found = found.or_else(|| hyper_phrase(hyper));
        }
        if let Some(io) = current.downcast_ref::<io::Error>() {
            if let Some(phrase) = io_phrase(io.kind()) {
                // The innermost I/O cause is the most specific one.
                found = Some(phrase);
            }
            // An `io::Error` that wraps another error does not report it as its source.
            if let Some(inner) = io.get_ref() {
                next = Some(inner as &(dyn StdError + 'static));
                continue;
            }
        }
        next = current.source();
    }
    found
}

/// A phrase for the hyper errors worth telling apart.
fn hyper_phrase(error: &hyper::Error) -> Option<&'static str> {
    if error.is_timeout() {
        Some("timed out")
    } else if error.is_incomplete_message() || error.is_closed() {
        Some("the receiver closed the connection before answering")
    } else if error.is_parse() {
        Some("the receiver's answer is not valid HTTP")
    } else if error.is_canceled() {
        Some("the request was canceled")
    } else {
        None
    }
}

/// A phrase for an I/O error kind, or `None` when the kind says nothing useful.
fn io_phrase(kind: io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    Some(match kind {
        K::ConnectionRefused => "connection refused",
        K::ConnectionReset => "connection reset",
        K::ConnectionAborted => "connection aborted",
        K::NotConnected | K::BrokenPipe => "the connection was closed",
        K::TimedOut => "timed out",
        K::AddrNotAvailable | K::HostUnreachable | K::NetworkUnreachable => {
            "the host is unreachable"
        }
        K::InvalidData => "the TLS handshake or the answer was rejected",
        K::UnexpectedEof => "the connection ended early",
        K::PermissionDenied => "permission denied",
        _ => return None,
    })
}
