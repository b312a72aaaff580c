//! Where notifications go, read from the pipeline step's credentials entry: a signed webhook
//! (`webhook_url`, `webhook_secret`) and a Slack incoming webhook (`slack_url`). A target
//! that is missing or refused yields a warning naming the key and why, never its value.
//!
//! Pure: reads the credential map it is given.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use http::Uri;
use http::uri::Scheme;

use crate::github::Secret;

/// The credentials key holding the webhook URL.
pub const WEBHOOK_URL: &str = "webhook_url";
/// The credentials key holding the secret that signs webhook payloads.
pub const WEBHOOK_SECRET: &str = "webhook_secret";
/// The credentials key holding the Slack incoming-webhook URL.
pub const SLACK_URL: &str = "slack_url";

/// A webhook receiver and the secret its payloads are signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Where payloads are posted.
    pub url: Uri,
    /// The HMAC-SHA256 key for the signature header.
    pub secret: Secret,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Webhook { url: [redacted], secret: [redacted] }")
    }
}

/// The usable notification targets; either may be absent.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// The signed webhook, when configured and accepted.
    pub webhook: Option<Webhook>,
    /// The Slack incoming-webhook URL, when configured and accepted.
    pub slack: Option<Uri>,
}

impl Targets {
    /// A secret of these targets that keys delivery ids: the webhook's secret, else the
    /// Slack URL (itself a secret).
    pub fn salt(&self) -> Vec<u8> {
        match (&self.webhook, &self.slack) {
            (Some(w), _) => w.secret.expose().as_bytes().to_vec(),
            (None, Some(url)) => url.to_string().into_bytes(),
            (None, None) => Vec::new(),
        }
    }

    /// Whether no target is usable, so that nothing is sent.
    pub fn is_empty(&self) -> bool {
        self.webhook.is_none() && self.slack.is_none()
    }
}

impl fmt::Debug for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whether each target is set, never what it is.
        let shown = |set: bool| if set { "Some([redacted])" } else { "None" };
        let (webhook, slack) = (shown(self.webhook.is_some()), shown(self.slack.is_some()));
        write!(f, "Targets {{ webhook: {webhook}, slack: {slack} }}")
    }
}

/// The targets held by the credentials entry `name` (its Secret data), and a warning for
/// each one that is missing or refused.
pub fn targets(name: &str, data: Option<&BTreeMap<String, Vec<u8>>>) -> (Targets, Vec<String>) {
    let mut found = Targets::default();
    let mut warnings = Vec::new();
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        warnings.push(format!(
            "the pipeline step has no credentials named {name:?}; no notification is sent"
        ));
        return (found, warnings);
    };
    let present = |key: &str| data.get(key).is_some_and(|v| !v.trim_ascii().is_empty());
    if !present(WEBHOOK_URL) && !present(SLACK_URL) {
        warnings.push(format!(
            "credentials {name:?} hold neither {WEBHOOK_URL} nor {SLACK_URL}; \
             no notification is sent"
        ));
        return (found, warnings);
    }
    let mut text = |key: &str| match data.get(key).map(Vec::as_slice).map(std::str::from_utf8) {
        None => None,
        Some(Ok(value)) => Some(value.trim().to_owned()).filter(|v| !v.is_empty()),
        Some(Err(_)) => {
            warnings.push(format!("{name}.{key} is not UTF-8; it is not used"));
            None
        }
    };
    let webhook_url = text(WEBHOOK_URL);
    let webhook_secret = text(WEBHOOK_SECRET).map(Secret::new);
    let slack_url = text(SLACK_URL);
    let unused = |key: &str, why: &str| format!("{name}.{key} {why}; it is not used");
    if let Some(url) = webhook_url {
        match (webhook_secret, parse_url(&url)) {
            (None, _) => warnings.push(format!(
                "{name}.{WEBHOOK_URL} is not used without {name}.{WEBHOOK_SECRET} \
                 (payloads must be signed)"
            )),
            (Some(_), Err(why)) => warnings.push(unused(WEBHOOK_URL, why)),
            (Some(secret), Ok(url)) => found.webhook = Some(Webhook { url, secret }),
        }
    }
    if let Some(url) = slack_url {
        match parse_url(&url) {
            Ok(url) => found.slack = Some(url),
            Err(why) => warnings.push(unused(SLACK_URL, why)),
        }
    }
    (found, warnings)
}

/// Parses a target URL and checks it with [`refusal`]. The error is a fixed phrase that
/// never repeats the URL.
pub fn parse_url(text: &str) -> Result<Uri, &'static str> {
    let url: Uri = text.parse().map_err(|_| "is not a valid URL")?;
    refusal(&url).map_or(Ok(url), Err)
}

/// Why `url` may not receive notifications, or `None` when it may: it needs a scheme and
/// a host, no user information, and `https` unless the host is a loopback host.
pub fn refusal(url: &Uri) -> Option<&'static str> {
    let (Some(scheme), Some(host)) = (url.scheme(), url.host().filter(|h| !h.is_empty())) else {
        return Some("is not an absolute URL with a scheme and a host");
    };
    if url.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Some("carries user information (user@host), which is not accepted");
    }
    if *scheme == Scheme::HTTPS || (*scheme == Scheme::HTTP && is_loopback(host)) {
        None
    } else {
        Some("is not an https URL (plain http only for loopback hosts)")
    }
}

/// Whether `host` (as in a URL's authority) is a loopback host: `localhost`, an IPv4
/// address in 127.0.0.0/8, or the IPv6 loopback address in brackets (`[::1]`).
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The targets and warnings for Secret data from `(key, value)` pairs.
    fn read(pairs: &[(&str, &str)]) -> (Targets, Vec<String>) {
        let data = BTreeMap::from_iter(pairs.iter().map(|&(k, v)| (k.into(), v.into())));
        targets("notify", Some(&data))
    }

    #[test]
    fn missing_credentials_urls_and_secret_warn() {
        let none = "the pipeline step has no credentials named \"notify\"; no notification is sent";
        assert_eq!(targets("notify", None).1, [none]);
        assert_eq!(read(&[]).1, [none]);
        let (found, warnings) = read(&[(WEBHOOK_SECRET, "s")]);
        assert!(found.is_empty());
        let neither = "credentials \"notify\" hold neither webhook_url nor slack_url; \
                       no notification is sent";
        assert_eq!(warnings, [neither]);
        let (found, warnings) =
            read(&[(WEBHOOK_URL, "https://h.example/x"), (WEBHOOK_SECRET, " ")]);
        assert!(found.is_empty());
        let unsigned = "notify.webhook_url is not used without notify.webhook_secret \
                        (payloads must be signed)";
        assert_eq!(warnings, [unsigned]);
    }

    #[test]
    fn values_are_trimmed_accepted_and_redacted() {
        let (found, warnings) = read(&[
            (WEBHOOK_URL, " https://hooks.example.com/x\n"),
            (WEBHOOK_SECRET, " s3cr3t \n"),
            (SLACK_URL, "https://hooks.slack.com/services/T/B/C"),
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        let shown = "Targets { webhook: Some([redacted]), slack: Some([redacted]) }";
        assert_eq!(format!("{found:?}"), shown);
        let webhook = found.webhook.expect("webhook");
        assert_eq!(webhook.url, "https://hooks.example.com/x");
        assert_eq!(webhook.secret.expose(), "s3cr3t");
        let shown = "Webhook { url: [redacted], secret: [redacted] }";
        assert_eq!(format!("{webhook:?}"), shown);
    }

    #[test]
    fn url_rules() {
        let https_only = Err("is not an https URL (plain http only for loopback hosts)");
        let userinfo = Err("carries user information (user@host), which is not accepted");
        let relative = Err("is not an absolute URL with a scheme and a host");
        for (url, ok) in [
            ("http://localhost:8080/h", true),
            ("http://127.3.2.1/h", true),
            ("http://[::1]:9/h", true),
            ("http://[::2]/h", false),
            ("http://128.0.0.1/h", false),
            ("http://localhost.example.com/h", false),
            ("ftp://localhost/h", false),
        ] {
            let result = parse_url(url).map(|_| ());
            assert_eq!(result, if ok { Ok(()) } else { https_only }, "{url}");
        }
        assert_eq!(parse_url("not a url"), Err("is not a valid URL"));
        assert_eq!(parse_url("/relative/path"), relative);
        assert_eq!(parse_url("https://user:pw@example.com/h"), userinfo);
        assert_eq!(parse_url("http://user@localhost/h"), userinfo);
        assert!(!is_loopback("::1") && is_loopback("LocalHost") && is_loopback("[::1]"));
    }

    #[test]
    fn warnings_never_repeat_urls_or_secrets() {
        let webhook = "http://hooks.example.com/p4th-w1th-t0ken";
        let slack = "https://alice:hunter2@hooks.slack.com/services/T0/B0/XyZ";
        let secret = "the-webhook-secret";
        let pairs = [
            (WEBHOOK_URL, webhook),
            (WEBHOOK_SECRET, secret),
            (SLACK_URL, slack),
        ];
        let (found, warnings) = read(&pairs);
        assert!(found.is_empty() && warnings.len() == 2);
        for warning in &warnings {
            for needle in [webhook, slack, secret, "hooks.", "p4th", "hunter2", "XyZ"] {
                assert!(!warning.contains(needle), "{warning:?} contains {needle:?}");
            }
        }
        assert!(warnings[0].starts_with("notify.webhook_url is not an https URL"));
        assert!(warnings[1].starts_with("notify.slack_url carries user information"));
    }

    #[test]
    fn non_utf8_is_warned_without_value() {
        let mut data = BTreeMap::from([(SLACK_URL.to_owned(), b"https://h.example/x".to_vec())]);
        data.insert(WEBHOOK_URL.to_owned(), vec![0xff, 0xfe]);
        let (found, warnings) = targets("notify", Some(&data));
        assert!(found.slack.is_some() && found.webhook.is_none());
        let not_utf8 = "notify.webhook_url is not UTF-8; it is not used";
        assert_eq!(warnings, [not_utf8]);
    }
}
