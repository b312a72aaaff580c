//! The promotion Job as Crossplane observed it: which observed Job is this gate's (a
//! batch/v1 Job carrying the gate's full key; one of an earlier artifact is not, even
//! under the same name), what it was rendered with, and how far it got
//! (`status.promotion`).
//!
//! Pure: reads the observed objects it is given.

use chrono::{DateTime, Utc};
use function_sdk_rust::proto::v1::RunFunctionRequest;
use function_sdk_rust::request;
use pbjson_types::Struct;

use crate::carrier::{self, Carried};
use crate::names::{GATE_KEY_ANNOTATION, resource};
use crate::pb;
use crate::xr::gate::{PromotionState, PromotionStatus};

use super::key::GateKey;
use super::situation::JobSeen;

/// The observed promotion Job of the gate keyed `key`, if Crossplane observed one (the
/// Job itself, or the provider-kubernetes `Object` carrying it to `promotion.namespace`).
pub fn observed_job<'a>(req: &'a RunFunctionRequest, key: &GateKey) -> Option<Carried<'a>> {
    request::observed_composed(req, resource::PROMOTION_JOB)
        .and_then(|r| r.resource.as_ref())
        .and_then(carrier::seen_through)
        .filter(|c| {
            let j = c.rendered;
            pb::pointer(j, "/kind").and_then(pb::as_str) == Some("Job")
                && pb::pointer(j, "/apiVersion").and_then(pb::as_str) == Some("batch/v1")
        })
        .filter(|c| carries_key(c.rendered, key))
        // The provider reports what runs; it is this Job only if it is the one rendered
        // (an `Object` whose manifest was just replaced still reports the earlier Job).
        .map(|c| Carried {
            live: c.live.filter(|live| {
                let at = |s: &'a Struct, p: &str| pb::pointer(s, p).and_then(pb::as_str);
                carries_key(live, key)
                    && at(live, "/metadata/name") == at(c.rendered, "/metadata/name")
                    && at(live, "/metadata/namespace") == at(c.rendered, "/metadata/namespace")
            }),
            ..c
        })
}

/// Whether `job`'s annotation carries `key` in full.
fn carries_key(job: &Struct, key: &GateKey) -> bool {
    pb::pointer(job, "/metadata/annotations")
        .and_then(pb::as_struct)
        .and_then(|a| a.fields.get(GATE_KEY_ANNOTATION))
        .and_then(pb::as_str)
        == Some(key.as_str())
}

/// The key's promotion Job as Crossplane sees it at this call.
pub fn seen(req: &RunFunctionRequest, key: &GateKey, configured: bool) -> JobSeen {
    match (configured, observed_job(req, key)) {
        (false, _) => JobSeen::NotConfigured,
        (true, Some(_)) => JobSeen::Observed,
        (true, None) => JobSeen::Absent,
    }
}

/// The value of the environment variable `name` of the Job's first container, as it was
/// rendered (empty when absent).
pub fn env(job: &Struct, name: &str) -> String {
    pb::pointer(job, "/spec/template/spec/containers/0/env")
        .and_then(pb::as_list)
        .and_then(|vars| {
            vars.iter()
                .filter_map(pb::as_struct)
                .find(|v| v.fields.get("name").and_then(pb::as_str) == Some(name))
        })
        .and_then(|v| v.fields.get("value"))
        .and_then(pb::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// How far the Job named `job` got, from its observed status: succeeded once a pod
/// succeeded (or its `Complete` condition is True), failed once its `Failed` condition is
/// True, running otherwise (not yet observed included).
pub fn progress(
    job: &str,
    observed: Option<Carried<'_>>,
    started_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> PromotionStatus {
    let time = |s: &Struct, pointer: &str| {
        pb::pointer(s, pointer)
            .and_then(pb::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    /// A condition of `kind` whose status is True.
    fn condition<'a>(s: &'a Struct, kind: &str) -> Option<&'a Struct> {
        carrier::condition(s, kind)
            .filter(|c| c.fields.get("status").and_then(pb::as_str) == Some("True"))
    }
    let (state, completed_at) = match observed.and_then(|c| c.live) {
        Some(j)
            if pb::pointer(j, "/status/succeeded")
                .and_then(pb::as_f64)
                .is_some_and(|n| n >= 1.0)
                || condition(j, "Complete").is_some() =>
        {
            let at = time(j, "/status/completionTime")
                .or_else(|| condition(j, "Complete").and_then(|c| time(c, "/lastTransitionTime")));
            (PromotionState::Succeeded, at)
        }
        Some(j) => match condition(j, "Failed") {
            Some(failed) => (PromotionState::Failed, time(failed, "/lastTransitionTime")),
            None => (PromotionState::Running, None),
        },
        None => (PromotionState::Running, None),
    };
    // Started when first observed (the Job, or the `Object` handing it to the provider):
    // as the API server dated it, else as recorded, else now.
    let started_at = observed.map(|c| {
        c.live
            .and_then(|j| time(j, "/metadata/creationTimestamp"))
            .or_else(|| time(c.carrier, "/metadata/creationTimestamp"))
            .or(started_at)
            .unwrap_or(now)
    });
    PromotionStatus {
        job: job.to_owned(),
        state,
        completed_at,
        started_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use function_sdk_rust::resource::json_to_struct;
    use serde_json::{Value, json};

    fn job(status: Value) -> Struct {
        json_to_struct(
            json!({"apiVersion": "batch/v1", "kind": "Job", "status": status})
                .as_object()
                .unwrap(),
        )
    }

    fn at(t: &str) -> Option<DateTime<Utc>> {
        Some(t.parse().unwrap())
    }

    #[test]
    fn a_job_has_started_once_crossplane_observed_it() {
        let now = at("2026-03-01T09:00:00Z").unwrap();
        assert_eq!(progress("j", None, None, now).started_at, None);
        assert!(!progress("j", None, None, now).started());
        let mut observed = job(json!({"active": 1}));
        assert_eq!(
            progress("j", carrier::seen_through(&observed), None, now).started_at,
            Some(now),
            "no creation time: first seen now"
        );
        assert_eq!(
            progress(
                "j",
                carrier::seen_through(&observed),
                at("2026-03-01T08:00:00Z"),
                now
            )
            .started_at,
            at("2026-03-01T08:00:00Z"),
            "as recorded"
        );
        observed.fields.insert(
            "metadata".into(),
            pbjson_types::Value::from(json_to_struct(
                json!({"creationTimestamp": "2026-03-01T07:30:00Z"})
                    .as_object()
                    .unwrap(),
            )),
        );
        assert_eq!(
            progress("j", carrier::seen_through(&observed), None, now).started_at,
            at("2026-03-01T07:30:00Z"),
            "as the API server dated it"
        );
    }

    #[test]
    fn a_job_carried_by_an_object_has_started_once_the_object_is_observed() {
        let now = at("2026-03-01T09:00:00Z").unwrap();
        let object = |status: Value| {
            json_to_struct(
                json!({"apiVersion": carrier::NAMESPACED_OBJECT, "kind": "Object",
                    "metadata": {"creationTimestamp": "2026-03-01T07:00:00Z"},
                    "spec": {"forProvider": {"manifest": {"apiVersion": "batch/v1", "kind": "Job"}}},
                    "status": status})
                .as_object()
                .unwrap(),
            )
        };
        let handed_over = object(json!({}));
        let p = progress("j", carrier::seen_through(&handed_over), None, now);
        assert_eq!(p.state, PromotionState::Running);
        assert_eq!(
            p.started_at,
            at("2026-03-01T07:00:00Z"),
            "handed to the provider: it will create the Job, never again after it is gone"
        );
        let done = object(
            json!({"atProvider": {"manifest": {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"creationTimestamp": "2026-03-01T07:00:05Z"},
            "status": {"succeeded": 1, "completionTime": "2026-03-01T07:10:00Z"}}}}),
        );
        let p = progress("j", carrier::seen_through(&done), None, now);
        assert_eq!(p.state, PromotionState::Succeeded);
        assert_eq!(
            p.started_at,
            at("2026-03-01T07:00:05Z"),
            "as the Job was dated"
        );
        assert_eq!(p.completed_at, at("2026-03-01T07:10:00Z"));
    }

    #[test]
    fn a_job_is_running_until_it_succeeds_or_fails() {
        let p = |status: Option<Value>| {
            let observed = status.map(job);
            let p = progress(
                "j",
                observed.as_ref().and_then(carrier::seen_through),
                None,
                at("2026-03-01T09:00:00Z").unwrap(),
            );
            (p.state, p.completed_at)
        };
        assert_eq!(p(None), (PromotionState::Running, None));
        assert_eq!(
            p(Some(json!({"active": 1}))),
            (PromotionState::Running, None)
        );
        assert_eq!(
            p(Some(
                json!({"succeeded": 1.0, "completionTime": "2026-03-01T07:00:00Z"})
            )),
            (PromotionState::Succeeded, at("2026-03-01T07:00:00Z"))
        );
        assert_eq!(
            p(Some(json!({"conditions": [
                {"type": "Complete", "status": "True", "lastTransitionTime": "2026-03-01T07:05:00Z"}
            ]}))),
            (PromotionState::Succeeded, at("2026-03-01T07:05:00Z"))
        );
        assert_eq!(
            p(Some(json!({"failed": 3.0, "conditions": [
                {"type": "Failed", "status": "True", "lastTransitionTime": "2026-03-01T08:00:00Z"}
            ]}))),
            (PromotionState::Failed, at("2026-03-01T08:00:00Z"))
        );
        // A pod failed but the Job still retries: running.
        assert_eq!(
            p(Some(
                json!({"failed": 1.0, "conditions": [{"type": "Failed", "status": "False"}]})
            )),
            (PromotionState::Running, None)
        );
    }
}
