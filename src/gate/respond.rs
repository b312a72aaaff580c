//! The gate's response: the outcome, [rendered](super::render) once, written into the
//! RunFunction response as Crossplane reads it: the XR's status (what was decided, or what
//! was recorded when GitHub could not be read), the composed ConfigMap and Job with their
//! readiness, the `Approved` and `ApprovalSynced` conditions, results said once on the
//! call that changes something, and the TTL.
//!
//! No I/O: reads the observed objects of the request it is given; no GitHub, no clock.

use std::time::Duration;

use function_sdk_rust::proto::v1::{Ready, RunFunctionRequest, RunFunctionResponse};
use function_sdk_rust::{request, resource, response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::input::Input;
use crate::names::{Reason, condition, resource as composed};
use crate::xr::gate::{GateState, GateStatus, PromotionState};

use super::model::{Decision, Gate, GitHubSync, Outcome, Recorded, SyncError};
use super::policy::Policy;
use super::promotion;
use super::render::{Answer, Inputs, render};
use super::situation::Situation;

/// A decided gate re-runs after this long (Crossplane also re-runs on any change).
const TERMINAL_TTL: Duration = Duration::from_secs(3600);

/// What the outcome is rendered against.
#[derive(Debug, Clone, Copy)]
pub struct Scene<'a> {
    /// The request, for observed composed resources and the XR's conditions.
    pub req: &'a RunFunctionRequest,
    /// The Input.
    pub input: &'a Input,
    /// The gate.
    pub gate: &'a Gate,
    /// Its approval policy.
    pub policy: &'a Policy,
    /// What held it at this call.
    pub situation: &'a Situation,
    /// The observed XR's status, as recorded.
    pub observed_status: &'a Value,
    /// The status recorded for this key.
    pub recorded: &'a Recorded,
    /// What the notifications came to on this call.
    pub notices: &'a crate::notify::deliver::Notices,
}

/// Writes the outcome into the response.
pub fn respond(rsp: &mut RunFunctionResponse, scene: &Scene<'_>, outcome: &Outcome) {
    let jobs = Inputs {
        configured: scene.input.promotion.as_ref(),
        observed: promotion::observed_job(scene.req, &scene.gate.key),
        recorded: scene.recorded.promotion(),
        issues: scene.recorded.status().map_or(&[], |s| s.issues.as_slice()),
        repository: scene.input.github.repository.as_deref().unwrap_or_default(),
        now: scene.situation.now,
        xr_namespace: request::observed_composite(scene.req)
            .and_then(|r| r.resource.as_ref())
            .and_then(|r| crate::pb::pointer(r, "/metadata/namespace"))
            .and_then(crate::pb::as_str)
            .filter(|ns| !ns.is_empty()),
    };
    let rendered = render(scene.gate, scene.policy, jobs, outcome);
    let fields = status_fields(scene, outcome, rendered.status);
    crate::desired::merge_status(response::desired_composite(rsp), &fields)
        .expect("a JSON object is an object");
    let cm_ready = request::observed_composed(scene.req, composed::GATE_CONFIG).is_some();
    put(rsp, composed::GATE_CONFIG, &rendered.config_map, cm_ready);
    let mut promoting = false;
    if let Some((job, progress)) = &rendered.job {
        promoting = progress.state == PromotionState::Running;
        let succeeded = progress.state == PromotionState::Succeeded;
        put(rsp, composed::PROMOTION_JOB, job, succeeded);
    }
    let (reason, message) = rendered.approved;
    let text = reason.as_str();
    let approved = match rendered.answer {
        Answer::Yes => response::condition_true(rsp, condition::APPROVED, text),
        Answer::No => response::condition_false(rsp, condition::APPROVED, text),
        Answer::Asking => response::condition_unknown(rsp, condition::APPROVED, text),
    };
    approved.message = Some(message.clone());
    match (&outcome.sync, rendered.synced) {
        (GitHubSync::Failed(e), _) => failed(rsp, scene, e),
        (_, Some((sync_reason, sync_message))) => {
            response::condition_true(rsp, condition::APPROVAL_SYNCED, sync_reason.as_str())
                .message = Some(sync_message);
            said_once(rsp, scene, &outcome.decision, reason, message);
        }
        _ => {}
    }
    for warning in &scene.notices.warnings {
        response::warning(rsp, warning.clone()).reason =
            Some(Reason::NotificationFailed.as_str().to_owned());
    }
    let ttl = ttl(scene, outcome, promoting);
    let poll = scene.input.github.poll_interval.0;
    set_ttl(
        rsp,
        if scene.notices.retry {
            ttl.min(poll)
        } else {
            ttl
        },
    );
}

/// `ApprovalSynced` False, and a Warning on the call that turns it so (or changes its
/// reason).
fn failed(rsp: &mut RunFunctionResponse, scene: &Scene<'_>, e: &SyncError) {
    let why = e.to_string();
    response::condition_false(rsp, condition::APPROVAL_SYNCED, e.reason()).message =
        Some(why.clone());
    let observed = resource::get_condition(
        request::observed_composite(scene.req),
        condition::APPROVAL_SYNCED,
    );
    if observed.status != "False" || observed.reason.as_deref() != Some(e.reason()) {
        response::warning(rsp, format!("cannot sync the approval issue: {why}")).reason =
            Some(e.reason().to_owned());
    }
}

/// The status to write: what was decided, or, when nothing could be decided, what was
/// recorded.
fn status_fields(scene: &Scene<'_>, outcome: &Outcome, decided: GateStatus) -> Map<String, Value> {
    let decided = GateStatus {
        notifications: scene.notices.status.clone(),
        ..decided
    };
    let decided = match decided.to_json() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if matches!(outcome.sync, GitHubSync::Synced(_)) {
        return decided;
    }
    let mut kept = match scene.observed_status {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    kept.remove("conditions");
    // Nothing recorded for this artifact yet (a new gate, or another artifact's record,
    // never shown as this one's decision: a script waiting on gate_status must not read an
    // old approval): this gate is pending from this call on, and its start is recorded now.
    if scene.recorded.status().is_none() {
        for field in GateStatus::PER_KEY {
            kept.remove(*field);
        }
        kept.extend(decided);
    } else if let Some(promotion) = decided.get("promotion") {
        // The Job as Crossplane observes it now, even when GitHub could not be read.
        kept.insert("promotion".into(), promotion.clone());
    }
    kept
}

/// The results of a synced call, each said once, on the call that changes it: the
/// transition, a replaced issue, an override of a freeze window, tampering.
fn said_once(
    rsp: &mut RunFunctionResponse,
    scene: &Scene<'_>,
    d: &Decision,
    reason: Reason,
    message: String,
) {
    let recorded = scene.recorded.status();
    if scene.recorded.state() != Some(d.state) {
        let text = match (d.state, &d.issue) {
            (GateState::Pending, Some(issue)) => format!(
                "approval requested in issue #{}: {}",
                issue.number, issue.url
            ),
            _ => message,
        };
        response::normal(rsp, text).reason = Some(reason.as_str().to_owned());
    }
    // The recorded issue of this key is no longer the one the gate follows: it was
    // deleted, its marker was edited away, or it was a duplicate of a lower one. Answers
    // on the old issue no longer count.
    if let (Some(old), Some(new)) = (recorded.and_then(|r| r.issue.as_ref()), &d.issue)
        && old.number != new.number
        && d.policy_changed
    {
        response::warning(
            rsp,
            format!(
                "the policy approval issue #{} was asked under changed (approvers, rules, promotion, Composition or approvals repository); approvals given there no longer count, and the gate asks again in issue #{}: {}",
                old.number, new.number, new.url
            ),
        )
        .reason = Some(Reason::PolicyChanged.as_str().to_owned());
    } else if let (Some(old), Some(new)) = (recorded.and_then(|r| r.issue.as_ref()), &d.issue)
        && old.number != new.number
    {
        response::warning(
            rsp,
            format!(
                "approval issue #{} no longer holds this gate (deleted, edited or a duplicate); the gate now follows issue #{}: {}",
                old.number, new.number, new.url
            ),
        )
        .reason = Some(Reason::IssueReplaced.as_str().to_owned());
    }
    if let Some(message) = &d.requester_ignored {
        response::warning(rsp, message.clone()).reason =
            Some(Reason::RequesterChanged.as_str().to_owned());
    }
    if let Some(message) = &d.unbacked {
        response::warning(rsp, message.clone()).reason =
            Some(Reason::UnbackedStatus.as_str().to_owned());
    }
    if let Some(message) = &d.freeze_override
        && scene.recorded.state() != Some(GateState::Approved)
    {
        response::warning(rsp, message.clone()).reason =
            Some(Reason::FreezeOverridden.as_str().to_owned());
    }
    // Tampering is said once: while the observed condition already names it, the Warning
    // was given.
    let said = resource::get_condition(request::observed_composite(scene.req), condition::APPROVED)
        .message
        .unwrap_or_default();
    for note in d.tampering.iter().filter(|n| !said.contains(n.as_str())) {
        response::warning(rsp, format!("approval issue tampered with: {note}")).reason =
            Some(Reason::Tampered.as_str().to_owned());
    }
}

/// When to be called again: after a fault as GitHub said, else the poll interval; while
/// the Job runs, the poll interval; decided, an hour; pending, the next poll, the
/// deadline, or the end of the soak or the freeze window that holds it, whichever is
/// sooner.
fn ttl(scene: &Scene<'_>, outcome: &Outcome, promoting: bool) -> Duration {
    let poll = scene.input.github.poll_interval.0;
    let d = &outcome.decision;
    let now = scene.situation.now;
    match &outcome.sync {
        GitHubSync::Failed(e) => match e.retry_after() {
            Some(after) => after.max(Duration::from_secs(1)),
            // Past the deadline the time left is zero; a fault must not turn into a retry
            // every second.
            None => poll,
        },
        _ if promoting => poll,
        _ if d.state.is_terminal() => TERMINAL_TTL,
        _ => {
            let mut until = d.deadline;
            if let Some(soak) = scene.situation.soaking(d.start) {
                until = until.min(soak);
            }
            if let Some(f) = scene.situation.frozen() {
                until = until.min(f.until);
            }
            if let Some(next) = d.wake_at {
                until = until.min(next);
            }
            pending_ttl(poll, until - now)
        }
    }
}

/// The TTL while pending: the poll interval or the time to the deadline, whichever is
/// sooner, at least a second.
pub fn pending_ttl(poll: Duration, until_deadline: chrono::Duration) -> Duration {
    let left = until_deadline
        .to_std()
        .unwrap_or(Duration::ZERO)
        .max(Duration::from_secs(1));
    poll.min(left)
}

fn set_ttl(rsp: &mut RunFunctionResponse, ttl: Duration) {
    if let Some(meta) = rsp.meta.as_mut() {
        meta.ttl = Some(pbjson_types::Duration {
            seconds: ttl.as_secs() as i64,
            nanos: ttl.subsec_nanos() as i32,
        });
    }
}

fn put<T: Serialize>(rsp: &mut RunFunctionResponse, name: &str, object: &T, ready: bool) {
    let composed = response::desired_composed(rsp, name);
    crate::desired::update(composed, object).expect("a Kubernetes object is an object");
    resource::set_ready(composed, if ready { Ready::True } else { Ready::False });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_ttl_is_never_below_one_second() {
        let poll = Duration::from_secs(30);
        assert_eq!(
            pending_ttl(poll, chrono::Duration::seconds(10)),
            Duration::from_secs(10)
        );
        assert_eq!(pending_ttl(poll, chrono::Duration::hours(2)), poll);
        assert_eq!(
            pending_ttl(poll, chrono::Duration::seconds(-5)),
            Duration::from_secs(1)
        );
    }
}
