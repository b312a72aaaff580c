//! What a gate decision looks like to Kubernetes: the XR status, the `Approved` and
//! `ApprovalSynced` conditions, results on transitions, the TTL, the gate ConfigMap and,
//! once approved, the promotion Job.
//!
//! No I/O: builds typed objects and writes them into the response it is given; no GitHub,
//! no clock.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use function_sdk_rust::proto::v1::{Ready, RunFunctionRequest, RunFunctionResponse};
use function_sdk_rust::{request, resource, response};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Container, EnvVar, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::input::{Input, PromotionInput};
use crate::names;
use crate::policy::Rule;
use crate::xr::gate::{GateState, GateStatus, PromotionState, rfc3339};

use super::decide::{Decision, Gate, Policy};
use super::promotion;

/// The composition resource name of the gate ConfigMap.
pub const CONFIG_MAP_RESOURCE: &str = "gate-config";
pub use super::promotion::{GATE_KEY_ANNOTATION, JOB_RESOURCE};
/// The component label value of the gate ConfigMap.
pub const GATE_COMPONENT: &str = "gate";
/// The component label value of the promotion Job.
pub const PROMOTION_COMPONENT: &str = "promotion";
/// Label carrying the gate key's short prefix on the Job (label values stop at 63
/// characters); for selecting, never for recognising the gate.
pub const GATE_KEY_LABEL: &str = "release.zerotouch.dev/gate-key";

/// The `Approved` condition type.
pub const APPROVED: &str = "Approved";
/// The `ApprovalSynced` condition type.
pub const APPROVAL_SYNCED: &str = "ApprovalSynced";

/// A decided gate re-runs after this long (Crossplane also re-runs on any change).
const TERMINAL_TTL: Duration = Duration::from_secs(3600);

/// Whether GitHub agrees with the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sync {
    /// GitHub was read (or did not need to be).
    Synced {
        /// PascalCase reason.
        reason: &'static str,
        /// What happened.
        message: String,
    },
    /// GitHub could not be read; the recorded status is kept.
    Failed {
        /// PascalCase reason.
        reason: &'static str,
        /// Why.
        message: String,
        /// When to try again, when GitHub said.
        retry_after: Option<Duration>,
    },
    /// Crossplane has not answered the pipeline lookup yet; nothing was decided.
    Waiting,
}

/// Everything rendered for one call.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The decision for the current key.
    pub decision: Decision,
    /// Whether it came from GitHub.
    pub sync: Sync,
}

/// The status this decision records.
pub fn status(gate: &Gate<'_>, decision: &Decision) -> GateStatus {
    let approved = decision.state == GateState::Approved;
    let approver = approved.then(|| logins(decision)).filter(|s| !s.is_empty());
    GateStatus {
        gate_status: Some(decision.state),
        approver,
        approval_timestamp: decision.decided_at.filter(|_| approved),
        created_timestamp: Some(decision.start),
        gate_key: Some(gate.key.to_owned()),
        issue: decision.issue.clone(),
        timeout_at: Some(decision.deadline),
        approvals: decision.approvals.clone(),
    }
}

fn logins(decision: &Decision) -> String {
    decision
        .approvals
        .iter()
        .filter(|a| a.via != crate::xr::gate::Via::OverrideFreeze)
        .map(|a| a.login.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The gate ConfigMap `<xr name>-gate`: what scripts need without calling GitHub.
pub fn config_map(gate: &Gate<'_>, policy: &Policy, decision: &Decision) -> ConfigMap {
    let spec = gate.spec;
    let issue = decision.issue.as_ref();
    let data = BTreeMap::from([
        ("state".to_owned(), decision.state.as_str().to_owned()),
        ("gate_key".to_owned(), gate.key.to_owned()),
        ("tenant".to_owned(), spec.tenant.clone()),
        ("artifact_id".to_owned(), spec.artifact_id.clone()),
        (
            "source_environment".to_owned(),
            spec.source_environment.clone(),
        ),
        (
            "target_environment".to_owned(),
            spec.target_environment.clone(),
        ),
        (
            "rule".to_owned(),
            match policy.rule {
                Rule::Manual => "manual",
                Rule::Automatic => "automatic",
            }
            .to_owned(),
        ),
        (
            "issue_url".to_owned(),
            issue.map(|i| i.url.clone()).unwrap_or_default(),
        ),
        (
            "issue_number".to_owned(),
            issue.map(|i| i.number.to_string()).unwrap_or_default(),
        ),
        ("approvers".to_owned(), policy.users.join(",")),
        ("approver_teams".to_owned(), policy.teams.join(",")),
        ("min_approvals".to_owned(), policy.min_approvals.to_string()),
        ("created".to_owned(), rfc3339(decision.start)),
        ("deadline".to_owned(), rfc3339(decision.deadline)),
        (
            "approved_by".to_owned(),
            if decision.state == GateState::Approved {
                logins(decision)
            } else {
                String::new()
            },
        ),
        (
            "decided_at".to_owned(),
            decision.decided_at.map(rfc3339).unwrap_or_default(),
        ),
    ]);
    let mut data = data;
    data.extend(super::rules::config_entries(policy, decision));
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(format!("{}-gate", gate.name)),
            namespace: Some(gate.namespace.to_owned()),
            labels: Some(names::labels(&spec.tenant, GATE_COMPONENT)),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// The Job's name: `<tenant>-promote-<short key>`, the tenant shortened to stay within 63.
pub fn job_name(tenant: &str, key: &str) -> String {
    let key = super::key::short(key);
    let room = 63 - "-promote-".len() - key.len();
    let prefix: String = tenant.chars().take(room).collect();
    format!("{}-promote-{key}", prefix.trim_end_matches('-'))
}

/// The promotion Job, named with the key so each approval runs exactly once. No
/// `ttlSecondsAfterFinished`: Crossplane would recreate a collected Job and promote
/// twice.
pub fn job(gate: &Gate<'_>, promotion: &PromotionInput, decision: &Decision) -> Job {
    let issue_url = decision
        .issue
        .as_ref()
        .map(|i| i.url.clone())
        .unwrap_or_default();
    job_for(gate, promotion, logins(decision), issue_url)
}

/// The promotion Job with the approvers and issue it names.
fn job_for(
    gate: &Gate<'_>,
    promotion: &PromotionInput,
    approved_by: String,
    issue_url: String,
) -> Job {
    let spec = gate.spec;
    let mut job_labels = names::labels(&spec.tenant, PROMOTION_COMPONENT);
    job_labels.insert(
        GATE_KEY_LABEL.to_owned(),
        super::key::short(gate.key).to_owned(),
    );
    let var = |name: &str, value: String| EnvVar {
        name: name.to_owned(),
        value: Some(value),
        ..EnvVar::default()
    };
    let mut env = vec![
        var("TENANT", spec.tenant.clone()),
        var("ARTIFACT_ID", spec.artifact_id.clone()),
        var("SOURCE_ENVIRONMENT", spec.source_environment.clone()),
        var("TARGET_ENVIRONMENT", spec.target_environment.clone()),
        var("APPROVED_BY", approved_by),
        var("ISSUE_URL", issue_url),
    ];
    env.extend(
        promotion
            .env
            .iter()
            .filter(|e| !env_is_reserved(&e.name))
            .map(|e| var(&e.name, e.value.clone())),
    );
    let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&spec.tenant, gate.key)),
            namespace: Some(gate.namespace.to_owned()),
            labels: Some(job_labels.clone()),
            annotations: Some(BTreeMap::from([(
                GATE_KEY_ANNOTATION.to_owned(),
                gate.key.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(promotion.backoff_limit as i32),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(job_labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(names::service_account(&spec.tenant)),
                    restart_policy: Some("Never".into()),
                    containers: vec![Container {
                        name: "promote".into(),
                        image: Some(promotion.image.clone()),
                        command: non_empty(&promotion.command),
                        args: non_empty(&promotion.args),
                        env: Some(env),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    }
}

/// The gate's own variables win over the Input's, so a promotion cannot be pointed
/// at another artifact or environment by configuration.
fn env_is_reserved(name: &str) -> bool {
    matches!(
        name,
        "TENANT"
            | "ARTIFACT_ID"
            | "SOURCE_ENVIRONMENT"
            | "TARGET_ENVIRONMENT"
            | "APPROVED_BY"
            | "ISSUE_URL"
    )
}

fn approved_condition(gate: &Gate<'_>, policy: &Policy, d: &Decision) -> (&'static str, String) {
    let on_issue = d
        .issue
        .as_ref()
        .map(|i| format!(" on issue #{}", i.number))
        .unwrap_or_default();
    let pair = format!(
        "{} -> {}",
        gate.spec.source_environment, gate.spec.target_environment
    );
    match d.state {
        GateState::Pending if let Some(held) = &d.held => (
            held.reason,
            format!("{}; deadline {}", held.message, rfc3339(d.deadline)),
        ),
        GateState::Pending => (
            "Pending",
            format!(
                "waiting for {}{on_issue} ({} counted{}); deadline {}",
                match d.progress.as_slice() {
                    [] => format!("{} approval(s)", policy.min_approvals),
                    rules => format!("every approval rule: {}", super::rules::summary(rules)),
                },
                d.approvals.len(),
                if d.approvals.is_empty() {
                    String::new()
                } else {
                    format!(": {}", logins(d))
                },
                rfc3339(d.deadline)
            ),
        ),
        GateState::Approved if d.automatic => (
            "Approved",
            format!(
                "approved automatically: the pipeline rule for {pair} is automatic and approval_required is false"
            ),
        ),
        GateState::Approved => ("Approved", format!("approved by {}{on_issue}", logins(d))),
        GateState::Rejected => (
            "Rejected",
            match &d.rejection {
                Some(r) => format!("rejected by {}{on_issue}", r.login),
                None => format!("rejected{on_issue}"),
            },
        ),
        GateState::Timeout => (
            "TimedOut",
            format!(
                "no verdict before the deadline {}{on_issue}",
                rfc3339(d.deadline)
            ),
        ),
    }
}

/// The reason of the Warning result when a gate's recorded issue is replaced.
pub const ISSUE_REPLACED: &str = "IssueReplaced";

/// The reason of the Warning result when someone changed what the gate reads.
pub const TAMPERED: &str = "Tampered";

/// What the outcome is rendered against.
#[derive(Debug, Clone, Copy)]
pub struct Scene<'a> {
    /// The request, for observed composed resources and the XR's conditions.
    pub req: &'a RunFunctionRequest,
    /// The Input.
    pub input: &'a Input,
    /// The gate.
    pub gate: &'a Gate<'a>,
    /// Its approval policy.
    pub policy: &'a Policy,
    /// The observed XR's status, as recorded.
    pub observed_status: &'a Value,
    /// The same, read (`GateStatus::from_json`).
    pub recorded: &'a GateStatus,
    /// The time of this call.
    pub now: DateTime<Utc>,
}

/// Writes the outcome into the response: XR status, composed resources with their
/// readiness, conditions, results on transitions, and the TTL.
pub fn write(rsp: &mut RunFunctionResponse, scene: &Scene<'_>, outcome: &Outcome) {
    let Scene {
        req,
        input,
        gate,
        policy,
        observed_status,
        recorded,
        now,
    } = *scene;
    let d = &outcome.decision;
    let synced = matches!(outcome.sync, Sync::Synced { .. });

    // Status: what was decided, or, when nothing could be decided, what was recorded.
    let fields = match synced {
        true => status(gate, d).to_json(),
        false => {
            let mut kept = match observed_status {
                Value::Object(_) => observed_status.clone(),
                _ => Value::Object(Map::new()),
            };
            if let Some(map) = kept.as_object_mut() {
                map.remove("conditions");
                // Nothing recorded for this artifact yet (a new gate, or another artifact's
                // record, never shown as this one's decision: a script waiting on
                // gate_status must not read an old approval): this gate is pending from
                // this call on, and its start is recorded now.
                if recorded.gate_key.as_deref() != Some(gate.key) {
                    for field in [
                        "approver",
                        "approval_timestamp",
                        "approvals",
                        "created_timestamp",
                        "issue",
                        "promotion",
                        "timeout_at",
                    ] {
                        map.remove(field);
                    }
                    if let Value::Object(fields) = status(gate, d).to_json() {
                        map.extend(fields);
                    }
                }
            }
            kept
        }
    };
    let fields = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    crate::desired::merge_status(response::desired_composite(rsp), &fields)
        .expect("a JSON object is an object");

    let cm_ready = request::observed_composed(req, CONFIG_MAP_RESOURCE).is_some();
    put(
        rsp,
        CONFIG_MAP_RESOURCE,
        &config_map(gate, policy, d),
        cm_ready,
    );
    let observed_job = promotion::observed_job(req, gate.key);
    let mut promoting = false;
    if let Some(promotion) = &input.promotion {
        let job = if d.state == GateState::Approved {
            Some(job(gate, promotion, d))
        } else {
            // A Job exists only once this key was approved, and an approval is final. If
            // this call could not re-derive it (the status write was lost and GitHub
            // failed), keep the Job exactly as it was rendered: dropping it would make
            // Crossplane delete it, and a later call would create it again and promote
            // twice.
            observed_job.map(|observed| {
                job_for(
                    gate,
                    promotion,
                    promotion::env(observed, "APPROVED_BY"),
                    promotion::env(observed, "ISSUE_URL"),
                )
            })
        };
        if let Some(job) = job {
            let name = job.metadata.name.clone().unwrap_or_default();
            let progress = promotion::progress(&name, observed_job);
            promoting = progress.state == PromotionState::Running;
            put(
                rsp,
                JOB_RESOURCE,
                &job,
                progress.state == PromotionState::Succeeded,
            );
            crate::desired::merge_status(
                response::desired_composite(rsp),
                &serde_json::json!({ "promotion": progress }),
            )
            .expect("a JSON object is an object");
        }
    }

    let (reason, mut message) = approved_condition(gate, policy, d);
    if !d.tampering.is_empty() {
        message.push_str(&format!("; tampered with: {}", d.tampering.join("; ")));
    }
    let condition = match d.state {
        GateState::Approved => response::condition_true(rsp, APPROVED, reason),
        // Waiting for something before asking at all (its requester, say): False.
        GateState::Pending if reason != "Pending" => {
            response::condition_false(rsp, APPROVED, reason)
        }
        GateState::Pending => response::condition_unknown(rsp, APPROVED, reason),
        _ => response::condition_false(rsp, APPROVED, reason),
    };
    condition.message = Some(message.clone());

    let observed_synced =
        resource::get_condition(request::observed_composite(req), APPROVAL_SYNCED);
    match &outcome.sync {
        Sync::Synced {
            reason: sync_reason,
            message: sync_message,
        } => {
            response::condition_true(rsp, APPROVAL_SYNCED, *sync_reason).message =
                Some(sync_message.clone());
            let transition = recorded.gate_status != Some(d.state)
                || recorded.gate_key.as_deref() != Some(gate.key);
            if transition {
                let text = match (d.state, &d.issue) {
                    (GateState::Pending, Some(issue)) => format!(
                        "approval requested in issue #{}: {}",
                        issue.number, issue.url
                    ),
                    _ => message,
                };
                response::normal(rsp, text).reason = Some(reason.to_owned());
            }
            // The recorded issue of this key is no longer the one the gate follows: it was
            // deleted, its marker was edited away, or it was a duplicate of a lower one.
            // Said once, on the call that changes it; answers on the old issue no longer
            // count.
            if let (Some(old), Some(new)) = (&recorded.issue, &d.issue)
                && recorded.gate_key.as_deref() == Some(gate.key)
                && old.number != new.number
            {
                response::warning(
                    rsp,
                    format!(
                        "approval issue #{} no longer holds this gate (deleted, edited or a duplicate); the gate now follows issue #{}: {}",
                        old.number, new.number, new.url
                    ),
                )
                .reason = Some(ISSUE_REPLACED.to_owned());
            }
            // A freeze window overridden: said on the call that approves.
            if let Some(message) = &d.freeze_override
                && recorded.gate_status != Some(GateState::Approved)
            {
                response::warning(rsp, message.clone()).reason =
                    Some("FreezeOverridden".to_owned());
            }
            // Tampering is said once: while the observed condition already names it, the
            // Warning was given.
            let said = resource::get_condition(request::observed_composite(req), APPROVED)
                .message
                .unwrap_or_default();
            for note in d.tampering.iter().filter(|n| !said.contains(n.as_str())) {
                response::warning(rsp, format!("approval issue tampered with: {note}")).reason =
                    Some(TAMPERED.to_owned());
            }
        }
        Sync::Failed {
            reason,
            message: why,
            ..
        } => {
            response::condition_false(rsp, APPROVAL_SYNCED, *reason).message = Some(why.clone());
            if observed_synced.status != "False"
                || observed_synced.reason.as_deref() != Some(*reason)
            {
                response::warning(rsp, format!("cannot sync the approval issue: {why}")).reason =
                    Some((*reason).to_owned());
            }
        }
        Sync::Waiting => {}
    }

    let ttl = match &outcome.sync {
        Sync::Failed {
            retry_after: Some(after),
            ..
        } => (*after).max(Duration::from_secs(1)),
        // Past the deadline the time left is zero; a fault must not turn into a retry
        // every second.
        Sync::Failed { .. } => input.github.poll_interval.0,
        // The Job's progress is the gate's status too: follow it at the poll interval.
        _ if promoting => input.github.poll_interval.0,
        _ if d.state.is_terminal() => TERMINAL_TTL,
        // Pending: the next poll, the deadline, or the end of the artifact's soak.
        _ => {
            let mut until = match policy.soak_until {
                Some(soak) if soak > now => (soak - now).min(d.deadline - now),
                _ => d.deadline - now,
            };
            // And the end of a freeze window.
            if let Some(f) = policy.frozen.as_ref().filter(|f| f.until > now) {
                until = until.min(f.until - now);
            }
            pending_ttl(input.github.poll_interval.0, until)
        }
    };
    set_ttl(rsp, ttl);
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
    use crate::input::EnvVar as InputEnvVar;
    use crate::xr::gate::GateSpec;
    use serde_json::json;

    fn spec(tenant: &str) -> GateSpec {
        GateSpec::from_json(
            &json!({"tenant": tenant, "artifact_id": "ghcr.io/org/app:v1",
                    "source_environment": "dev", "target_environment": "staging"}),
            false,
        )
        .unwrap()
    }

    fn decision() -> Decision {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        Decision {
            state: GateState::Approved,
            approvals: vec![
                crate::xr::gate::Approval {
                    login: "alice".into(),
                    at: t("2026-03-01T07:00:00Z"),
                    via: crate::xr::gate::Via::Comment,
                    rules: Vec::new(),
                },
                crate::xr::gate::Approval {
                    login: "bob".into(),
                    at: t("2026-03-01T08:00:00Z"),
                    via: crate::xr::gate::Via::Close,
                    rules: Vec::new(),
                },
            ],
            rejection: None,
            decided_at: Some(t("2026-03-01T08:00:00Z")),
            start: t("2026-03-01T06:00:00Z"),
            deadline: t("2026-03-02T06:00:00Z"),
            issue: Some(crate::xr::gate::IssueRef {
                number: 4,
                url: "https://github.com/acme/approvals/issues/4".into(),
            }),
            automatic: false,
            held: None,
            tampering: Vec::new(),
            actions: Vec::new(),
            progress: Vec::new(),
            freeze_override: None,
        }
    }

    fn promotion() -> PromotionInput {
        PromotionInput {
            image: "ghcr.io/acme/promoter:v1".into(),
            command: vec!["promote".into()],
            args: vec![],
            env: vec![
                InputEnvVar {
                    name: "GITOPS_REPO".into(),
                    value: "acme/gitops".into(),
                },
                InputEnvVar {
                    name: "ARTIFACT_ID".into(),
                    value: "ghcr.io/evil/app:v6".into(),
                },
            ],
            backoff_limit: 3,
        }
    }

    #[test]
    fn approved_gate_renders_job_under_tenant_service_account_without_ttl() {
        let spec = spec("my-service");
        let gate = Gate {
            spec: &spec,
            key: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            namespace: "team-a",
            name: "g",
            uid: "uid",
            requester: None,
        };
        let job = serde_json::to_value(job(&gate, &promotion(), &decision())).unwrap();
        assert_eq!(job["metadata"]["name"], "my-service-promote-0123456789ab");
        assert_eq!(
            job["metadata"]["labels"][GATE_KEY_LABEL], "0123456789ab",
            "a label value holds at most 63 characters"
        );
        assert_eq!(
            job["metadata"]["annotations"][GATE_KEY_ANNOTATION], gate.key,
            "the full key recognises the Job"
        );
        assert_eq!(job["metadata"]["namespace"], "team-a");
        assert!(job["spec"].get("ttlSecondsAfterFinished").is_none());
        assert_eq!(job["spec"]["backoffLimit"], 3);
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "my-service-release-pipeline");
        assert_eq!(pod["restartPolicy"], "Never");
        let env: Vec<(String, String)> = pod["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().into(),
                    e["value"].as_str().unwrap().into(),
                )
            })
            .collect();
        let get = |k: &str| {
            env.iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("APPROVED_BY"), vec!["alice,bob"]);
        assert_eq!(
            get("ISSUE_URL"),
            vec!["https://github.com/acme/approvals/issues/4"]
        );
        assert_eq!(
            get("ARTIFACT_ID"),
            vec!["ghcr.io/org/app:v1"],
            "the Input cannot override it"
        );
        assert_eq!(get("GITOPS_REPO"), vec!["acme/gitops"]);
    }

    #[test]
    fn job_name_stays_a_dns_label_for_the_longest_tenant() {
        let name = job_name(&"a".repeat(46), "0123456789ab");
        assert!(name.len() <= 63, "{name}");
        assert!(name.ends_with("-promote-0123456789ab"));
        let name = job_name(&format!("{}-b", "a".repeat(41)), "0123456789ab");
        assert!(!name.contains("--"), "{name}");
    }

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
