//! Notifications through the real server: a loopback receiver stands for the platform's
//! webhook and for Slack. Each event is delivered once over repeated calls, signed with
//! the credentials' secret (checked here from the secret and the bytes received), retried after
//! a failed delivery with the same delivery id, and no URL or secret shows in results,
//! conditions or the server's log.

use crate::common;
use crate::e2e;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::wire::Severity;
use e2e::{Crossplane, approvers, example_pipeline};
use serde_json::{Value, json};

const SECRET: &str = "s3cret-only-the-receiver-knows";

/// What the receiver got: path, headers, body.
type Received = Arc<Mutex<Vec<(String, HeaderMap, Vec<u8>)>>>;

/// A loopback receiver answering `status` (shared, so a test can make it fail).
struct Receiver {
    url: String,
    received: Received,
    status: Arc<Mutex<StatusCode>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let received: Received = Arc::default();
        let status = Arc::new(Mutex::new(StatusCode::NO_CONTENT));
        let state = (received.clone(), status.clone());
        let answer = |path: &'static str| {
            move |State((received, status)): State<(Received, Arc<Mutex<StatusCode>>)>,
                  headers: HeaderMap,
                  body: axum::body::Bytes| async move {
                received
                    .lock()
                    .unwrap()
                    .push((path.to_owned(), headers, body.to_vec()));
                *status.lock().unwrap()
            }
        };
        let app = Router::new()
            .route("/hooks/release", post(answer("webhook")))
            .route("/services/T000/B000/XXXX", post(answer("slack")))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url,
            received,
            status,
        }
    }

    fn webhook_url(&self) -> String {
        format!("{}/hooks/release", self.url)
    }

    fn slack_url(&self) -> String {
        format!("{}/services/T000/B000/XXXX", self.url)
    }

    fn got(&self, path: &str) -> Vec<(HeaderMap, Value)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, ..)| p == path)
            .map(|(_, h, b)| (h.clone(), serde_json::from_slice(b).unwrap()))
            .collect()
    }

    fn raw(&self, path: &str) -> Vec<(HeaderMap, Vec<u8>)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, ..)| p == path)
            .map(|(_, h, b)| (h.clone(), b.clone()))
            .collect()
    }

    fn answer(&self, status: StatusCode) {
        *self.status.lock().unwrap() = status;
    }
}

/// The gate with a quorum of two, notifying `receiver`, its log captured.
async fn notifying(receiver: &Receiver) -> Crossplane {
    let mut cp = Crossplane::start_logging(&["--debug"], &[]).await;
    cp.pipeline = Some(example_pipeline(Some(approvers(
        &["alice", "bob", "carol"],
        2,
    ))));
    cp.input["notifications"] = json!({"credentialsName": "notifications"});
    cp.other_credentials.insert(
        "notifications".into(),
        BTreeMap::from([
            ("webhook_url".into(), receiver.webhook_url().into_bytes()),
            ("webhook_secret".into(), SECRET.as_bytes().to_vec()),
            ("slack_url".into(), receiver.slack_url().into_bytes()),
        ]),
    );
    cp
}

/// `sha256=<hex>` of the body received, under the secret the receiver holds.
fn expected_signature(body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn each_event_is_delivered_once_signed_and_retried_after_a_failure() {
    let receiver = Receiver::start().await;
    let mut cp = notifying(&receiver).await;

    // The request: one signed webhook delivery and one Slack message.
    let opened = cp.reconcile().await;
    assert_eq!(opened.status()["gate_status"], "pending");
    let webhook = receiver.raw("webhook");
    assert_eq!(webhook.len(), 1);
    let (headers, body) = &webhook[0];
    assert_eq!(
        header(headers, "x-release-signature-256"),
        expected_signature(body)
    );
    assert_eq!(header(headers, "content-type"), "application/json");
    let payload: Value = serde_json::from_slice(body).unwrap();
    let mut keys: Vec<&str> = payload
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    let mut expected = vec![
        "event",
        "delivery_id",
        "gate",
        "tenant",
        "artifact_id",
        "source_environment",
        "target_environment",
        "state",
        "issue_url",
        "approvers",
        "approved_by",
        "decided_at",
    ];
    expected.sort();
    assert_eq!(keys, expected, "the keys status and SPEC name, snake_case");
    assert_eq!(payload["event"], "requested");
    assert_eq!(payload["state"], "pending");
    assert_eq!(payload["gate"]["name"], "my-service-dev-to-staging");
    assert_eq!(payload["approvers"], json!(["alice", "bob", "carol"]));
    assert_eq!(payload["decided_at"], Value::Null);
    assert!(
        payload["issue_url"]
            .as_str()
            .unwrap()
            .ends_with("/issues/1"),
        "{payload}"
    );
    let delivery = payload["delivery_id"].as_str().unwrap().to_owned();
    assert_eq!(header(headers, "x-release-delivery"), delivery);
    assert_eq!(opened.status()["notifications"]["requested"], delivery);
    let slack = receiver.got("slack");
    assert_eq!(slack.len(), 1);
    let text = slack[0].1["text"].as_str().unwrap();
    assert!(text.contains("was requested"), "{text}");

    // Calls again, one with its status write lost: still one delivery.
    cp.reconcile().await;
    cp.reconcile().await;
    assert_eq!(receiver.got("webhook").len(), 1);
    assert_eq!(receiver.got("slack").len(), 1);

    // The receiver fails when the gate is decided: a Warning, nothing recorded, the
    // decision unchanged, the gate called again soon.
    receiver.answer(StatusCode::INTERNAL_SERVER_ERROR);
    cp.fake.comment_as(1, "alice", "/approve");
    cp.fake.comment_as(1, "bob", "/approve");
    let failed = cp.reconcile().await;
    assert_eq!(failed.status()["gate_status"], "approved");
    assert_eq!(
        failed.status()["notifications"]["decided"],
        Value::Null,
        "{}",
        failed.status()
    );
    let warnings = failed.results(Severity::Warning);
    assert!(
        warnings
            .iter()
            .any(|(reason, m)| reason == "NotificationFailed" && m.contains("answered 500")),
        "{warnings:?}"
    );
    assert!(
        failed.ttl() <= Duration::from_secs(30),
        "{:?}",
        failed.ttl()
    );
    let attempts = receiver.got("webhook");
    assert_eq!(attempts.len(), 2);
    let tried = attempts[1].1["delivery_id"].as_str().unwrap().to_owned();

    // Delivered on the next call, with the same id; then never again.
    receiver.answer(StatusCode::OK);
    let retried = cp.reconcile().await;
    let webhook = receiver.got("webhook");
    assert_eq!(webhook.len(), 3);
    let decided = &webhook[2].1;
    assert_eq!(decided["event"], "decided");
    assert_eq!(decided["delivery_id"], tried.as_str());
    assert_eq!(decided["state"], "approved");
    assert_eq!(decided["approved_by"], json!(["alice", "bob"]));
    assert_eq!(
        decided["decided_at"],
        retried.status()["approval_timestamp"]
    );
    assert_eq!(retried.status()["notifications"]["decided"], tried.as_str());
    assert_eq!(
        retried.status()["notifications"]["requested"],
        delivery.as_str(),
        "what was delivered before stays recorded"
    );
    cp.reconcile().await;
    cp.reconcile().await;
    assert_eq!(receiver.got("webhook").len(), 3);
    let slack = receiver.got("slack");
    assert!(
        slack.last().unwrap().1["text"]
            .as_str()
            .unwrap()
            .contains("was approved by alice, bob"),
        "{slack:?}"
    );

    // Nothing leaked: neither URL nor the secret in any result, condition or log line.
    let mut said: Vec<String> = [&opened, &failed, &retried]
        .iter()
        .flat_map(|r| r.messages())
        .collect();
    said.push(cp.log.as_ref().unwrap().text());
    for text in said {
        for secret in [
            SECRET,
            &receiver.webhook_url(),
            &receiver.slack_url(),
            "/hooks/release",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}

#[tokio::test]
async fn a_url_that_is_not_https_is_a_warning_and_nothing_is_sent() {
    let receiver = Receiver::start().await;
    let mut cp = notifying(&receiver).await;
    let remote = receiver.webhook_url().replace("127.0.0.1", "example.com");
    cp.other_credentials.insert(
        "notifications".into(),
        BTreeMap::from([
            ("webhook_url".into(), remote.clone().into_bytes()),
            ("webhook_secret".into(), SECRET.as_bytes().to_vec()),
        ]),
    );
    let reply = cp.reconcile().await;
    assert_eq!(reply.status()["gate_status"], "pending");
    assert!(reply.fatal().is_empty(), "never Fatal");
    let warnings = reply.results(Severity::Warning);
    assert!(
        warnings
            .iter()
            .any(|(reason, m)| reason == "NotificationFailed"
                && m.contains("notifications.webhook_url")),
        "{warnings:?}"
    );
    for (_, message) in &warnings {
        assert!(!message.contains("example.com"), "{message}");
    }
    assert!(receiver.got("webhook").is_empty());
    assert_eq!(reply.status()["notifications"], Value::Null);
}

#[tokio::test]
async fn a_reminder_is_notified_once_and_only_the_events_asked_for() {
    let receiver = Receiver::start().await;
    let mut cp = notifying(&receiver).await;
    cp.input["notifications"]["on"] = json!(["reminded"]);
    let mut pipeline = example_pipeline(Some(approvers(&["alice", "bob", "carol"], 2)));
    pipeline["spec"]["approvals"]["staging"]["reminders"] = json!(["1h"]);
    cp.pipeline = Some(pipeline);
    // GitHub's clock says the issue opened two hours ago: its first reminder is due.
    cp.fake
        .set_now(chrono::Utc::now() - chrono::Duration::hours(2));
    cp.reconcile().await;
    assert!(
        receiver.got("webhook").is_empty(),
        "requested is not asked for"
    );
    let reminded = cp.reconcile().await;
    assert_eq!(reminded.status()["reminders"], json!(["1h"]));
    cp.reconcile().await;
    let webhook = receiver.got("webhook");
    assert_eq!(webhook.len(), 1, "{webhook:?}");
    assert_eq!(webhook[0].1["event"], "reminded");
    assert_eq!(
        reminded.status()["notifications"]["reminded"],
        webhook[0].1["delivery_id"]
    );
    let slack = receiver.got("slack");
    assert!(
        slack[0].1["text"]
            .as_str()
            .unwrap()
            .contains("still waits for answers")
    );
}

#[tokio::test]
async fn a_verdict_written_into_the_status_is_not_announced() {
    let receiver = Receiver::start().await;
    let mut cp = notifying(&receiver).await;
    cp.reconcile().await;
    assert_eq!(receiver.got("webhook").len(), 1);
    // A tenant who may write the XR's status writes verdicts GitHub does not hold: an
    // approval (the gate reads GitHub before its Job and stays pending), then a rejection
    // (a recorded rejection stands for the XR, but GitHub holds none to announce).
    for (forged, stays) in [("approved", "pending"), ("rejected", "rejected")] {
        cp.xr["status"]["gate_status"] = json!(forged);
        cp.xr["status"]["approval_timestamp"] = cp.xr["status"]["created_timestamp"].clone();
        cp.xr["status"]["approver"] = json!("alice");
        let reply = cp.reconcile().await;
        assert_eq!(reply.status()["gate_status"], stays, "{forged}");
        cp.reconcile().await;
    }
    let webhook = receiver.got("webhook");
    assert_eq!(webhook.len(), 1, "only the request: {webhook:?}");
    assert_eq!(webhook[0].1["event"], "requested");
}

#[tokio::test]
async fn a_recorded_verdict_is_announced_as_its_record_on_the_issue_states_it() {
    let receiver = Receiver::start().await;
    let mut cp = notifying(&receiver).await;
    cp.reconcile().await;
    // Rejected while the receiver is down: the verdict is recorded, its notification not.
    receiver.answer(StatusCode::BAD_GATEWAY);
    cp.fake.comment_as(1, "bob", "/reject");
    let rejected = cp.reconcile().await;
    assert_eq!(rejected.status()["gate_status"], "rejected");
    assert_eq!(rejected.status()["notifications"]["decided"], Value::Null);
    // The next calls settle the gate from its status; the verdict is announced once the
    // function's record on the issue confirms it, with what that record says.
    receiver.answer(StatusCode::OK);
    let settled = cp.reconcile().await;
    cp.reconcile().await;
    let webhook = receiver.got("webhook");
    let decided: Vec<&Value> = webhook
        .iter()
        .map(|(_, p)| p)
        .filter(|p| p["event"] == "decided")
        .collect();
    assert_eq!(
        decided.len(),
        2,
        "the failed attempt, then one delivery: {webhook:?}"
    );
    assert_eq!(decided[0]["delivery_id"], decided[1]["delivery_id"]);
    assert_eq!(decided[1]["state"], "rejected");
    assert_eq!(
        settled.status()["notifications"]["decided"],
        decided[1]["delivery_id"]
    );
}
