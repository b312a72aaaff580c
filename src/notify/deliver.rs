//! Which notifications a gate owes after a call, and their delivery: each event of a
//! request once, as far as the status and the replica tell (`status.notifications` holds
//! the delivery id last delivered for each event; the replica also remembers which target
//! took which id, so a status someone cleared, or a target that took it while another
//! failed, is not sent it again). The id is the same for every attempt at the same event,
//! so a lost status or another replica sends the same id again and receivers can drop it.
//! A failed delivery stays owed and is tried again on the next call; it never touches the
//! decision. A verdict older than a day is not announced (a gate found decided long ago,
//! after notifications were turned on or a status was lost).
//!
//! [`owed`] is pure; [`deliver`] posts.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::github::Skipped;
use crate::input::NotifyOn;
use crate::xr::notified::Notified;

use super::payload::{self, Event, GateRef, Payload};
use super::send::Sender;
use super::sign;
use super::target::Targets;

/// How long one post may take.
const POST_TIMEOUT: Duration = Duration::from_secs(5);

/// Verdicts older than this are not announced.
const RECENT: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The most (delivery id, target) pairs a replica remembers; past it, it starts afresh.
const REMEMBERED: usize = 100_000;

/// Where the function's notifications leave from: one HTTP client shared by every call,
/// or, in a local render that writes nothing, a list of what it would have sent.
#[derive(Clone, Debug, Default)]
pub struct Notifier {
    sender: Arc<std::sync::OnceLock<Sender>>,
    skipped: Option<Skipped>,
    /// The (delivery id, target) pairs delivered by this replica.
    delivered: Arc<Mutex<HashSet<(String, &'static str)>>>,
}

impl Notifier {
    /// A notifier that sends, its client built on first use.
    pub fn new() -> Self {
        Notifier::default()
    }

    /// A notifier that sends nothing and lists in `skipped` what it would have sent.
    pub fn read_only(skipped: Skipped) -> Self {
        Notifier {
            skipped: Some(skipped),
            ..Notifier::default()
        }
    }

    fn delivered(&self, id: &str, target: &'static str) -> bool {
        let delivered = self.delivered.lock().unwrap_or_else(|e| e.into_inner());
        delivered.contains(&(id.to_owned(), target))
    }

    fn remember(&self, id: &str, target: &'static str) {
        let mut delivered = self.delivered.lock().unwrap_or_else(|e| e.into_inner());
        if delivered.len() >= REMEMBERED {
            delivered.clear();
        }
        delivered.insert((id.to_owned(), target));
    }
}

/// What a gate's notifications say, as its decision stands after the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The gate key (delivery ids are per key).
    pub key: String,
    /// The gate.
    pub gate: GateRef,
    /// The tenant.
    pub tenant: String,
    /// The artifact.
    pub artifact_id: String,
    /// From.
    pub source_environment: String,
    /// To.
    pub target_environment: String,
    /// `pending`, `approved`, `rejected` or `timeout`.
    pub state: &'static str,
    /// When it was decided, once it is (and known).
    pub decided_at: Option<DateTime<Utc>>,
    /// The approval issue: its number and URL.
    pub issue: Option<(u64, String)>,
    /// Who may approve: logins and `org/team` names.
    pub approvers: Vec<String>,
    /// Who approved.
    pub approved_by: Vec<String>,
    /// The latest reminder posted on the issue (a Go duration after it opened).
    pub reminder: Option<String>,
}

/// What the notifications of a call came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notices {
    /// `status.notifications` to record: what was recorded, with what this call delivered.
    pub status: Option<Notified>,
    /// Warnings: a target refused, a delivery failed (never a URL or a secret).
    pub warnings: Vec<String>,
    /// A delivery failed: the gate is called again at its poll interval to retry.
    pub retry: bool,
}

/// The events `facts` owe at `now`, each with its delivery id (keyed with `salt`), in
/// the order they happened: those `on` names, not delivered as `recorded` says, no verdict
/// older than a day. A verdict's id is the key's and the state's: a key is decided once.
pub fn owed(
    facts: &Facts,
    on: &[NotifyOn],
    recorded: Option<&Notified>,
    now: DateTime<Utc>,
    salt: &[u8],
) -> Vec<(Event, String)> {
    // A verdict recorded without its time (a rejection's status has none) is owed until
    // its record on the issue dates it.
    let decided = facts.state != "pending";
    if facts.decided_at.is_some_and(|at| now - at > RECENT) {
        return Vec::new();
    }
    let done = |field: fn(&Notified) -> &Option<String>, id: &str| {
        recorded.and_then(|r| field(r).as_deref()) == Some(id)
    };
    let mut owed = Vec::new();
    if let Some((number, _)) = &facts.issue
        && on.contains(&NotifyOn::Requested)
    {
        let id = payload::delivery_id(salt, &facts.key, Event::Requested, &number.to_string());
        if !done(|r| &r.requested, &id) {
            owed.push((Event::Requested, id));
        }
    }
    if let Some(after) = facts.reminder.as_deref().filter(|_| !decided)
        && on.contains(&NotifyOn::Reminded)
    {
        let id = payload::delivery_id(salt, &facts.key, Event::Reminded, after);
        if !done(|r| &r.reminded, &id) {
            owed.push((Event::Reminded, id));
        }
    }
    if decided && on.contains(&NotifyOn::Decided) {
        let id = payload::delivery_id(salt, &facts.key, Event::Decided, facts.state);
        if !done(|r| &r.decided, &id) {
            owed.push((Event::Decided, id));
        }
    }
    owed
}

/// The payload of `event` for `facts`.
fn payload(facts: &Facts, event: Event, delivery_id: String) -> Payload {
    Payload {
        event: event.as_str(),
        delivery_id,
        gate: facts.gate.clone(),
        tenant: facts.tenant.clone(),
        artifact_id: facts.artifact_id.clone(),
        source_environment: facts.source_environment.clone(),
        target_environment: facts.target_environment.clone(),
        state: facts.state.to_owned(),
        issue_url: facts.issue.as_ref().map(|(_, url)| url.clone()),
        approvers: facts.approvers.clone(),
        approved_by: facts.approved_by.clone(),
        decided_at: facts.decided_at.map(crate::xr::gate::rfc3339),
    }
}

/// Delivers what `facts` owe to `targets`, within `budget` in all; says what to record.
pub async fn deliver(
    notifier: &Notifier,
    targets: &Targets,
    facts: &Facts,
    owed: Vec<(Event, String)>,
    recorded: Option<Notified>,
    budget: Duration,
) -> Notices {
    let mut notices = Notices {
        status: recorded,
        ..Notices::default()
    };
    if owed.is_empty() || targets.is_empty() {
        return notices;
    }
    if let Some(skipped) = &notifier.skipped {
        let mut skipped = skipped.lock().unwrap_or_else(|e| e.into_inner());
        for (event, _) in &owed {
            skipped.push(format!(
                "notify {} of gate {}/{}",
                event.as_str(),
                facts.gate.namespace,
                facts.gate.name
            ));
        }
        return notices;
    }
    let sender = notifier.sender.get_or_init(Sender::new);
    let all = async {
        for (event, id) in owed {
            let p = payload(facts, event, id.clone());
            let failed = post((notifier, sender), targets, &p).await;
            if failed.is_empty() {
                let status = notices.status.get_or_insert_with(Notified::default);
                *match event {
                    Event::Requested => &mut status.requested,
                    Event::Reminded => &mut status.reminded,
                    Event::Decided => &mut status.decided,
                } = Some(id);
                continue;
            }
            notices.retry = true;
            for (target, why) in failed {
                notices.warnings.push(format!(
                    "the {} notification could not be delivered to the {target}: {why}; it is tried again on the next call",
                    event.as_str()
                ));
            }
        }
    };
    if tokio::time::timeout(budget, all).await.is_err() {
        notices.retry = true;
        notices.warnings.push(format!(
            "notifications took longer than the {} s this call allows; those not delivered are tried again on the next call",
            budget.as_secs()
        ));
    }
    notices
}

/// Posts `p` to each target that has not taken it from this replica; returns those that
/// failed, with why.
async fn post(
    (notifier, sender): (&Notifier, &Sender),
    targets: &Targets,
    p: &Payload,
) -> Vec<(&'static str, String)> {
    let mut failed = Vec::new();
    let id = p.delivery_id.as_str();
    let owed = |target| !notifier.delivered(id, target);
    if let Some(webhook) = targets.webhook.as_ref().filter(|_| owed(WEBHOOK)) {
        let body = payload::body(p);
        let headers = [
            (
                "x-release-signature-256",
                sign::signature(webhook.secret.expose(), &body),
            ),
            ("x-release-delivery", p.delivery_id.clone()),
            ("x-release-event", p.event.to_owned()),
        ];
        match sender
            .post(&webhook.url, &headers, body, POST_TIMEOUT)
            .await
        {
            Ok(()) => notifier.remember(id, WEBHOOK),
            Err(why) => failed.push((WEBHOOK, why)),
        }
    }
    if let Some(url) = targets.slack.as_ref().filter(|_| owed(SLACK)) {
        match sender.post(url, &[], payload::slack(p), POST_TIMEOUT).await {
            Ok(()) => notifier.remember(id, SLACK),
            Err(why) => failed.push((SLACK, why)),
        }
    }
    failed
}

/// The webhook, as messages name it.
const WEBHOOK: &str = "webhook";

/// The Slack webhook, as messages name it.
const SLACK: &str = "Slack webhook";

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            key: "k".repeat(64),
            gate: GateRef {
                namespace: "team-a".into(),
                name: "my-service-dev-to-staging".into(),
            },
            tenant: "my-service".into(),
            artifact_id: "ghcr.io/acme/app:v1".into(),
            source_environment: "dev".into(),
            target_environment: "staging".into(),
            state: "pending",
            decided_at: None,
            issue: Some((4, "https://github.com/acme/approvals/issues/4".into())),
            approvers: vec!["alice".into()],
            approved_by: Vec::new(),
            reminder: None,
        }
    }

    fn at(hour: u32) -> DateTime<Utc> {
        format!("2026-03-01T{hour:02}:00:00Z").parse().unwrap()
    }

    const ALL: [NotifyOn; 3] = [NotifyOn::Requested, NotifyOn::Reminded, NotifyOn::Decided];

    #[test]
    fn each_event_is_owed_until_recorded_as_delivered() {
        let pending = facts();
        let owed_now = owed(&pending, &ALL, None, at(1), b"s");
        assert_eq!(owed_now.len(), 1);
        assert_eq!(owed_now[0].0, Event::Requested);
        let delivered = Notified {
            requested: Some(owed_now[0].1.clone()),
            ..Notified::default()
        };
        assert!(owed(&pending, &ALL, Some(&delivered), at(1), b"s").is_empty());
        let reminded = Facts {
            reminder: Some("4h".into()),
            ..facts()
        };
        let owed_now = owed(&reminded, &ALL, Some(&delivered), at(5), b"s");
        assert_eq!(
            owed_now.iter().map(|o| o.0).collect::<Vec<_>>(),
            [Event::Reminded]
        );
        let later = Facts {
            reminder: Some("20h".into()),
            ..facts()
        };
        let first = owed_now[0].1.clone();
        let again = owed(
            &later,
            &ALL,
            Some(&Notified {
                reminded: Some(first.clone()),
                ..delivered.clone()
            }),
            at(21),
            b"s",
        );
        assert_eq!(again.len(), 1, "a later reminder is another event");
        assert_ne!(again[0].1, first);
    }

    #[test]
    fn a_decision_is_owed_once_and_not_once_a_day_old() {
        let decided = Facts {
            state: "approved",
            decided_at: Some(at(3)),
            approved_by: vec!["alice".into()],
            reminder: Some("1h".into()),
            ..facts()
        };
        let events: Vec<Event> = owed(&decided, &ALL, None, at(4), b"s")
            .into_iter()
            .map(|o| o.0)
            .collect();
        assert_eq!(
            events,
            [Event::Requested, Event::Decided],
            "no reminder once decided"
        );
        let only = owed(&decided, &[NotifyOn::Decided], None, at(4), b"s");
        assert_eq!(only.len(), 1);
        assert!(
            owed(
                &decided,
                &ALL,
                None,
                at(3) + chrono::TimeDelta::hours(25),
                b"s"
            )
            .is_empty()
        );
        let other = Facts {
            state: "rejected",
            ..decided.clone()
        };
        assert_ne!(
            owed(&other, &[NotifyOn::Decided], None, at(4), b"s")[0].1,
            only[0].1,
            "another verdict is another delivery"
        );
    }
}
