//! What a notification says: the webhook payload (JSON, stable field names and order),
//! its delivery id, and the one-line Slack message made from the same payload.
//!
//! Pure: builds bytes from the values it is given.

use serde::Serialize;

use super::sign::hex;

/// Why a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// A promotion gate asked for approval.
    Requested,
    /// A promotion gate still waits for answers.
    Reminded,
    /// A promotion gate was decided: approved, rejected or timed out.
    Decided,
}

impl Event {
    /// Every event, in the order a gate goes through them.
    pub const ALL: [Event; 3] = [Event::Requested, Event::Reminded, Event::Decided];

    /// The event's name in payloads and delivery ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Requested => "requested",
            Event::Reminded => "reminded",
            Event::Decided => "decided",
        }
    }

    /// The event named `name`, as written by [`Event::as_str`].
    pub fn parse(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// The promotion gate a notification is about.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct GateRef {
    /// The gate's namespace.
    pub namespace: String,
    /// The gate's name.
    pub name: String,
}

/// The JSON body posted to the webhook. Field order is the order in the JSON.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Payload {
    /// [`Event::as_str`] of the event.
    pub event: &'static str,
    /// The same for every attempt at one delivery ([`delivery_id`]).
    pub delivery_id: String,
    /// The gate.
    pub gate: GateRef,
    /// The tenant the pipeline belongs to.
    pub tenant: String,
    /// The artifact being promoted.
    pub artifact_id: String,
    /// The environment the artifact comes from.
    pub source_environment: String,
    /// The environment the artifact goes to.
    pub target_environment: String,
    /// `pending`, `approved`, `rejected` or `timeout`.
    pub state: String,
    /// The approval issue, once there is one.
    pub issue_url: Option<String>,
    /// Who may approve: logins and `org/team` names.
    pub approvers: Vec<String>,
    /// Who approved.
    pub approved_by: Vec<String>,
    /// When the gate was decided (RFC 3339); `null` while undecided.
    pub decided_at: Option<String>,
}

/// The delivery id for `event` on the gate with `key`: lowercase hex of the first 16
/// bytes of HMAC-SHA256 with `salt` (a secret of the credentials) over `key`, 0, the
/// event's name, 0, `detail`. Deterministic, so that replicas attempting one delivery send
/// one id and a receiver can drop duplicates; keyed, so that someone who can write a gate's
/// status cannot predict it (and record a delivery that never happened).
pub fn delivery_id(salt: &[u8], key: &str, event: Event, detail: &str) -> String {
    let message = [
        key.as_bytes(),
        &[0],
        event.as_str().as_bytes(),
        &[0],
        detail.as_bytes(),
    ]
    .concat();
    hex(&super::sign::hmac_sha256(salt, &message)[..16])
}

/// The webhook body: `p` as compact JSON.
pub fn body(p: &Payload) -> Vec<u8> {
    // Cannot fail: only strings, lists and options of strings, written to a Vec (no I/O).
    serde_json::to_vec(p).expect("a Payload always serializes to JSON")
}

/// The Slack incoming-webhook body for `p`: `{"text": "..."}` with a one-line message.
/// Every interpolated value is escaped for Slack's mrkdwn; the issue is linked only when
/// its URL is an https URL.
pub fn slack(p: &Payload) -> Vec<u8> {
    let message = serde_json::json!({ "text": slack_text(p) });
    // A JSON value with string keys always serializes, and writing to a Vec cannot fail.
    serde_json::to_vec(&message).expect("a JSON value always serializes")
}

/// The one-line Slack message for `p`.
fn slack_text(p: &Payload) -> String {
    let subject = format!(
        "Promotion of {} from {} to {} ({}/{})",
        code(&p.artifact_id),
        escape(&p.source_environment),
        escape(&p.target_environment),
        escape(&p.gate.namespace),
        escape(&p.gate.name),
    );
    let what = match Event::parse(p.event) {
        Some(Event::Requested) => "was requested".to_owned(),
        Some(Event::Reminded) => "still waits for answers".to_owned(),
        Some(Event::Decided) | None => match p.state.as_str() {
            "approved" if p.approved_by.is_empty() => "was approved".to_owned(),
            // Escaping the joined list escapes each name: ", " has nothing to escape.
            "approved" => format!("was approved by {}", escape(&p.approved_by.join(", "))),
            "rejected" => "was rejected".to_owned(),
            "timeout" => "timed out".to_owned(),
            other => format!("is {}", escape(other)),
        },
    };
    match p.issue_url.as_deref().and_then(link) {
        Some(issue) => format!("{subject} {what}: {issue}"),
        None => format!("{subject} {what}"),
    }
}

/// A Slack link to the approval issue at `url`, when `url` is an https URL that cannot
/// break out of the link syntax.
fn link(url: &str) -> Option<String> {
    let breaks = |c: char| "|<>".contains(c) || c.is_whitespace() || c.is_control();
    let safe = url.starts_with("https://") && !url.contains(breaks);
    safe.then(|| format!("<{}|the approval issue>", escape(url)))
}

/// `text` with Slack's mrkdwn control characters escaped: `&`, `<` and `>`.
/// `text` as inline code, escaped: Slack links nothing inside it (an artifact id is the
/// tenant's to choose), and a backtick cannot close it early.
fn code(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| *c != '`' && !c.is_control())
        .collect();
    format!("`{}`", escape(&clean))
}

fn escape(text: &str) -> String {
    // `&` first, so that the entities written for `<` and `>` are not escaped again.
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payload for `event` in `state`, with the approval issue at `issue_url`.
    fn payload(event: Event, state: &str, issue_url: Option<&str>) -> Payload {
        let gate = GateRef {
            namespace: "team-a".into(),
            name: "app-prod".into(),
        };
        Payload {
            event: event.as_str(),
            delivery_id: "d1".into(),
            gate,
            tenant: "team-a".into(),
            artifact_id: "app:1.2.3".into(),
            source_environment: "staging".into(),
            target_environment: "prod".into(),
            state: state.into(),
            issue_url: issue_url.map(Into::into),
            approvers: vec!["alice".into(), "o/release".into()],
            approved_by: vec!["alice".into(), "bob".into()],
            decided_at: Some("2025-01-02T03:04:05Z".into()),
        }
    }

    /// The approval issue in these tests.
    const ISSUE: &str = "https://github.com/o/r/issues/7";

    /// The Slack message text of `p`.
    fn slack_of(p: &Payload) -> String {
        let value: serde_json::Value = serde_json::from_slice(&slack(p)).expect("json");
        value["text"].as_str().expect("text").to_owned()
    }

    #[test]
    fn body_has_fields_in_order_and_nulls() {
        let mut p = payload(Event::Decided, "approved", Some(ISSUE));
        let json = String::from_utf8(body(&p)).expect("utf-8");
        let expected = concat!(
            r#"{"event":"decided","delivery_id":"d1","gate":{"namespace":"team-a","#,
            r#""name":"app-prod"},"tenant":"team-a","artifact_id":"app:1.2.3","#,
            r#""source_environment":"staging","target_environment":"prod","#,
            r#""state":"approved","issue_url":"https://github.com/o/r/issues/7","#,
            r#""approvers":["alice","o/release"],"approved_by":["alice","bob"],"#,
            r#""decided_at":"2025-01-02T03:04:05Z"}"#,
        );
        assert_eq!(json, expected);
        (p.issue_url, p.decided_at) = (None, None);
        let json = String::from_utf8(body(&p)).expect("utf-8");
        assert!(json.contains(r#""issue_url":null,"#), "{json}");
        assert!(json.ends_with(r#""decided_at":null}"#), "{json}");
    }

    #[test]
    fn events_and_delivery_ids() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(event));
        }
        assert_eq!(Event::parse("other"), None);
        let a = delivery_id(b"salt", "gate-key", Event::Requested, "");
        assert_eq!(a, delivery_id(b"salt", "gate-key", Event::Requested, ""));
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_ne!(a, delivery_id(b"salt", "gate-key", Event::Reminded, ""));
        assert_ne!(a, delivery_id(b"salt", "gate-key", Event::Requested, "2"));
        assert_ne!(
            a,
            delivery_id(b"other", "gate-key", Event::Requested, ""),
            "without the credentials' secret nobody predicts it"
        );
    }

    #[test]
    fn slack_messages() {
        use super::Event::{Decided, Reminded, Requested};
        let subject = "Promotion of `app:1.2.3` from staging to prod (team-a/app-prod)";
        let link = format!("<{ISSUE}|the approval issue>");
        for (event, state, want) in [
            (Requested, "pending", "was requested: LINK"),
            (Reminded, "pending", "still waits for answers"),
            (Decided, "approved", "was approved by alice, bob: LINK"),
            (Decided, "rejected", "was rejected: LINK"),
            (Decided, "timeout", "timed out"),
        ] {
            // Only an https issue URL is linked.
            let plain = ISSUE.replace("https:", "http:");
            let issue: &str = if want.contains("LINK") { ISSUE } else { &plain };
            let p = payload(event, state, Some(issue));
            let want = format!("{subject} {}", want.replace("LINK", &link));
            assert_eq!(slack_of(&p), want);
        }
    }

    #[test]
    fn slack_escapes_values() {
        let mut p = payload(Event::Decided, "approved", None);
        p.artifact_id = "<@U123> & <!channel>".into();
        p.approved_by = vec!["<b>".into(), "c&d".into()];
        let text = slack_of(&p);
        assert!(
            text.starts_with("Promotion of `&lt;@U123&gt; &amp; &lt;!channel&gt;` from"),
            "{text}"
        );
        p.artifact_id = "https://evil.example/`x`".into();
        assert!(slack_of(&p).starts_with("Promotion of `https://evil.example/x` from"));
        assert!(text.ends_with("approved by &lt;b&gt;, c&amp;d"));
    }
}
