//! What a gate's outcome looks like to Kubernetes, as typed values ([`render`]): the XR's
//! status, the gate ConfigMap, the promotion Job with its progress, and the reasons and
//! texts of the `Approved` and `ApprovalSynced` conditions.
//!
//! Pure: builders that cannot fail; no request, no response, no GitHub, no clock.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use chrono::{DateTime, Utc};

use crate::carrier::Carried;
use crate::input::PromotionInput;
use crate::names::{self, Reason, component};

pub use super::job::{job_for, logins, render_job};
use crate::xr::gate::{GateState, GateStatus, KeyIssue, PromotionStatus, rfc3339};

use super::model::{Decision, Gate, GitHubSync, Hold, Outcome, Promotion, Synced};
use super::policy::Policy;

/// How the `Approved` condition answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// True: approved.
    Yes,
    /// False: decided otherwise, or waiting for something before asking at all.
    No,
    /// Unknown: asking; answers may still decide it.
    Asking,
}

/// Everything a gate's outcome looks like to Kubernetes.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The status the decision records.
    pub status: GateStatus,
    /// The gate ConfigMap.
    pub config_map: ConfigMap,
    /// The promotion Job as composed (itself, or the `Object` carrying it) and how far it
    /// got, when there is one to render.
    pub job: Option<(serde_json::Value, PromotionStatus)>,
    /// The `Approved` condition's reason and message, and how it answers.
    pub approved: (Reason, String),
    /// How the `Approved` condition answers.
    pub answer: Answer,
    /// The `ApprovalSynced` reason and message, when GitHub is in sync.
    pub synced: Option<(Reason, String)>,
}

/// What the outcome is rendered with besides the decision: the key's promotion Job as
/// configured, observed and recorded, and the issues the status recorded.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The Input's promotion Job, if it configures one.
    pub configured: Option<&'a PromotionInput>,
    /// This key's Job as Crossplane observes it.
    pub observed: Option<Carried<'a>>,
    /// This key's promotion as the status recorded it.
    pub recorded: Option<&'a PromotionStatus>,
    /// The issues the status recorded for this key.
    pub issues: &'a [KeyIssue],
    /// The approvals repository, `owner/name`.
    pub repository: &'a str,
    /// The time of this call.
    pub now: DateTime<Utc>,
    /// The XR's namespace (none: cluster-scoped).
    pub xr_namespace: Option<&'a str>,
}

/// Renders the outcome.
pub fn render(gate: &Gate, policy: &Policy, jobs: Inputs<'_>, outcome: &Outcome) -> Rendered {
    let d = &outcome.decision;
    let (reason, mut message) = approved_condition(gate, policy, d);
    if !d.tampering.is_empty() {
        message.push_str(&format!("; tampered with: {}", d.tampering.join("; ")));
    }
    let answer = match (&d.state, &d.hold) {
        (GateState::Approved, _) => Answer::Yes,
        (GateState::Pending, Some(hold)) if !hold.asks() => Answer::No,
        (GateState::Pending, _) => Answer::Asking,
        _ => Answer::No,
    };
    let started = jobs.recorded.and_then(|p| p.started_at);
    let job = jobs.configured.and_then(|promotion| {
        let (job, name) = match (d.promotion, jobs.observed) {
            // A Job Crossplane observes is kept exactly as it was observed, where it runs
            // (never carried elsewhere by a later Input), whatever this call decides:
            // dropping it would make Crossplane delete it while it runs (a hold can come
            // back after the Job was created), and its logs and status are still to read.
            // A Job someone else pointed the gate at stays where they made it, in their own
            // namespace: nothing they could not run themselves.
            (_, Some(observed)) => super::job::kept(observed),
            (Promotion::Run, _) if d.state == GateState::Approved => {
                let job = render_job(gate, promotion, d);
                let name = job.metadata.name.clone().unwrap_or_default();
                (
                    super::job::composed(job, promotion, jobs.xr_namespace),
                    name,
                )
            }
            // Not approved, not confirmed, held, or spent: no Job.
            _ => return None,
        };
        let progress = super::promotion::progress(&name, jobs.observed, started, jobs.now);
        Some((job, progress))
    });
    let mut status = render_status(gate, d);
    status.issues = key_issues(jobs.issues, jobs.repository, d);
    // The key's promotion as last known: once its Job is gone, the record stays.
    status.promotion = match &job {
        Some((_, progress)) => Some(progress.clone()),
        None => jobs.recorded.cloned(),
    };
    Rendered {
        status,
        config_map: render_config_map(gate, policy, d),
        job,
        approved: (reason, message),
        answer,
        synced: match &outcome.sync {
            GitHubSync::Synced(synced) => Some(synced_condition(gate, d, synced)),
            _ => None,
        },
    }
}

/// The status this decision records.
pub fn render_status(gate: &Gate, decision: &Decision) -> GateStatus {
    let approved = decision.state == GateState::Approved;
    let approver = approved.then(|| logins(decision)).filter(|s| !s.is_empty());
    GateStatus {
        gate_status: Some(decision.state),
        approver,
        approval_timestamp: decision.decided_at.filter(|_| approved),
        created_timestamp: Some(decision.start),
        gate_key: Some(gate.key.to_string()),
        issue: decision.issue.clone(),
        timeout_at: Some(decision.deadline),
        approvals: decision.approvals.clone(),
        promotion: None,
        issues: Vec::new(),
        change: decision.change.clone(),
        reminders: decision.reminders.clone(),
        escalated_at: decision.escalated_at,
        notifications: None,
        requester: decision
            .requester
            .as_ref()
            .map(|r| crate::xr::account::Account {
                login: r.login.clone(),
                id: r.id,
            }),
    }
}

/// Every issue the key used: as recorded (those of another repository kept), and those of
/// this repository the decision knows, the issue it follows included.
fn key_issues(recorded: &[KeyIssue], repository: &str, d: &Decision) -> Vec<KeyIssue> {
    let mut issues: Vec<KeyIssue> = recorded.to_vec();
    let ours = d
        .issues
        .iter()
        .copied()
        .chain(d.issue.as_ref().map(|i| i.number));
    for number in ours {
        if !issues
            .iter()
            .any(|i| i.number == number && i.repository.eq_ignore_ascii_case(repository))
        {
            issues.push(KeyIssue {
                repository: repository.to_owned(),
                number,
            });
        }
    }
    issues.sort_by(|a, b| (&a.repository, a.number).cmp(&(&b.repository, b.number)));
    issues
}

/// The gate ConfigMap `<xr name>-gate`: what scripts need without calling GitHub.
pub fn render_config_map(gate: &Gate, policy: &Policy, decision: &Decision) -> ConfigMap {
    let spec = &gate.spec;
    let issue = decision.issue.as_ref();
    let data = BTreeMap::from([
        ("state".to_owned(), decision.state.as_str().to_owned()),
        ("gate_key".to_owned(), gate.key.to_string()),
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
        ("rule".to_owned(), policy.rule.as_str().to_owned()),
        (
            "issue_url".to_owned(),
            issue.map(|i| i.url.clone()).unwrap_or_default(),
        ),
        (
            "issue_number".to_owned(),
            issue.map(|i| i.number.to_string()).unwrap_or_default(),
        ),
        ("approvers".to_owned(), joined(&policy.users)),
        ("approver_teams".to_owned(), joined(&policy.teams)),
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
    // The change under review: the revision the target held, and the gate's.
    if let Some(change) = &spec.change {
        let base = decision.change.as_ref().and_then(|c| c.base.clone());
        data.insert("change_repository".into(), change.repository.clone());
        data.insert("change_base".into(), base.unwrap_or_default());
        data.insert("change_head".into(), change.revision.clone());
    }
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(names::gate_config_map(&gate.name)),
            namespace: Some(gate.namespace.clone()),
            labels: Some(names::labels(&spec.tenant, component::GATE)),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    }
}

fn joined<T: ToString>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

/// What a hold says in the `Approved` condition.
pub fn hold_message(gate: &Gate, hold: &Hold) -> String {
    let spec = &gate.spec;
    match hold {
        Hold::Pending(message) | Hold::Tampered(message) => message.clone(),
        Hold::ChangeUnreadable(why) => format!(
            "approval is held: the authors of the change may not approve it, and {why}; no approval counts until it can be read"
        ),
        Hold::WaitingForSource { holds } => format!(
            "waiting for {} to reach {source} (the pipeline's progression is enforced): {source} holds {}; no approval issue is opened until it arrives",
            spec.artifact_id,
            holds.as_deref().unwrap_or("no artifact yet"),
            source = spec.source_environment,
        ),
        Hold::Soaking { until } => format!(
            "{} soaks in {} until {} (the pipeline's soakTime): the promotion waits until then, and answers given meanwhile count",
            spec.artifact_id,
            spec.source_environment,
            rfc3339(*until)
        ),
        Hold::Frozen {
            window,
            overridable,
        } => format!(
            "promotions into {} are frozen by window {}{} until {}: the promotion waits until then{}",
            spec.target_environment,
            window.name,
            if window.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", window.reason)
            },
            rfc3339(window.until),
            if *overridable {
                " unless an approver allowed to override comments /override-freeze <reason>, and answers given meanwhile count"
            } else {
                ""
            }
        ),
        Hold::MissingRequester => format!(
            "the gate has no {} annotation, which the input's approvals.requireRequester requires; no approval issue is opened until it names the requester",
            names::REQUESTED_BY_ANNOTATION
        ),
        Hold::MissingPipeline => format!(
            "the gate's namespace has no XReleasePipeline for tenant {}, which the input's approvals.requirePipeline requires; no approval issue is opened until there is one",
            gate.spec.tenant
        ),
        Hold::UnknownRequester(login) => format!(
            "the gate's {} annotation names {}, which is no GitHub account; no approval issue is opened and no approval counts until it names the requester's current login",
            names::REQUESTED_BY_ANNOTATION,
            login.as_str()
        ),
    }
}

/// The `Approved` condition's reason and message.
pub fn approved_condition(gate: &Gate, policy: &Policy, d: &Decision) -> (Reason, String) {
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
        GateState::Pending if let Some(hold) = &d.hold => (
            hold.reason(),
            format!(
                "{}; deadline {}",
                hold_message(gate, hold),
                rfc3339(d.deadline)
            ),
        ),
        GateState::Pending => (
            if d.policy_changed {
                Reason::PolicyChanged
            } else {
                Reason::Pending
            },
            format!(
                "{}waiting for {}{on_issue} ({} counted{}); deadline {}",
                if d.policy_changed {
                    "asked again under the policy now in force (approvals given under the earlier one no longer count): "
                } else {
                    ""
                },
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
            Reason::Approved,
            format!(
                "approved automatically: the pipeline rule for {pair} is automatic and approval_required is false"
            ),
        ),
        GateState::Approved => (
            Reason::Approved,
            format!("approved by {}{on_issue}", logins(d)),
        ),
        GateState::Rejected => (
            Reason::Rejected,
            match &d.rejection {
                Some(r) => format!("rejected by {}{on_issue}", r.login),
                None => format!("rejected{on_issue}"),
            },
        ),
        GateState::Timeout => (
            Reason::TimedOut,
            format!(
                "no verdict before the deadline {}{on_issue}",
                rfc3339(d.deadline)
            ),
        ),
    }
}

/// The `ApprovalSynced` reason and message of a synced call.
pub fn synced_condition(gate: &Gate, d: &Decision, synced: &Synced) -> (Reason, String) {
    const NOT_REQUIRED: &str = "approval is not required for this promotion";
    match synced {
        Synced::Read => (
            Reason::Synced,
            match &d.issue {
                Some(i) => format!("read approval issue #{}", i.number),
                None => "no approval issue could be opened before the deadline".into(),
            },
        ),
        Synced::Decided => (
            Reason::Decided,
            "the gate is decided for this artifact; GitHub is no longer read".into(),
        ),
        Synced::NotRequired { closed: None } => (
            Reason::NotRequired,
            format!("{NOT_REQUIRED}; GitHub is not used"),
        ),
        Synced::NotRequired { closed: Some(c) } if c.is_empty() => {
            (Reason::NotRequired, NOT_REQUIRED.to_owned())
        }
        Synced::NotRequired { closed: Some(c) } => (
            Reason::NotRequired,
            format!(
                "{NOT_REQUIRED}; closed approval issue(s) {}",
                c.iter()
                    .map(|n| format!("#{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Synced::NotRequiredUnclosed { issue, why } => (
            Reason::NotRequired,
            format!(
                "{NOT_REQUIRED}; approval issue #{issue} could not be closed ({why}): close it by hand"
            ),
        ),
        Synced::Held => {
            let hold = d.hold.as_ref().unwrap_or(&Hold::MissingRequester);
            let message = match hold {
                Hold::WaitingForSource { .. } if d.state == GateState::Timeout => {
                    format!("timed out {}", hold_message(gate, hold))
                }
                Hold::WaitingForSource { .. } => {
                    "GitHub is not read until the artifact reaches its source environment".into()
                }
                Hold::Soaking { .. } => format!("{NOT_REQUIRED}; it waits for the artifact's soak"),
                Hold::Frozen { .. } => {
                    format!("{NOT_REQUIRED}; it waits for the freeze window to close")
                }
                Hold::MissingRequester | Hold::UnknownRequester(_) => {
                    "GitHub is not read until the gate names its requester".into()
                }
                Hold::MissingPipeline => {
                    "GitHub is not read until the tenant's pipeline exists".into()
                }
                Hold::Pending(message) | Hold::Tampered(message) => message.clone(),
                Hold::ChangeUnreadable(_) => hold_message(gate, hold),
            };
            (hold.reason(), message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::key::GateKey;
    use crate::input::EnvVar as InputEnvVar;
    use crate::names::{GATE_KEY_ANNOTATION, GATE_KEY_LABEL};
    use crate::xr::gate::GateSpec;
    use chrono::{DateTime, Utc};
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
            decided_at: Some(t("2026-03-01T08:00:00Z")),
            issue: Some(crate::xr::gate::IssueRef {
                number: 4,
                url: "https://github.com/acme/approvals/issues/4".into(),
            }),
            promotion: Promotion::Run,
            ..Decision::pending(t("2026-03-01T06:00:00Z"), t("2026-03-02T06:00:00Z"))
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
            namespace: None,
            provider_config_ref: Default::default(),
            env_from: Vec::new(),
            resources: Default::default(),
            security_context: Default::default(),
        }
    }

    #[test]
    fn in_the_promotion_namespace_a_job_runs_as_its_own_namespace_s_tenant_account() {
        let gate_in = |namespace: &str| Gate {
            spec: spec("my-service"),
            key: GateKey::from_recorded(
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            namespace: namespace.into(),
            name: "g".into(),
            uid: "uid".into(),
            requester: None,
        };
        let promotion = PromotionInput {
            namespace: Some("release-promotions".into()),
            ..promotion()
        };
        let job = |namespace: &str| {
            serde_json::to_value(render_job(&gate_in(namespace), &promotion, &decision())).unwrap()
        };
        let (a, b) = (job("team-a"), job("team-b"));
        assert_eq!(a["metadata"]["namespace"], "release-promotions");
        let account = |j: &serde_json::Value| {
            j["spec"]["template"]["spec"]["serviceAccountName"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            account(&a),
            names::promotion_account("team-a", "my-service"),
            "the account team-a's pipeline composes there"
        );
        assert_ne!(
            account(&a),
            account(&b),
            "a gate in team-b naming team-a's tenant never runs as team-a's account"
        );
        let pod = &a["spec"]["template"]["spec"];
        assert_eq!(
            pod["volumes"][0]["secret"]["secretName"],
            account(&a).as_str()
        );
        assert_eq!(
            pod["containers"][0]["volumeMounts"][0]["mountPath"],
            names::PROMOTION_CREDENTIALS_PATH
        );
        assert_eq!(pod["containers"][0]["volumeMounts"][0]["readOnly"], true);
    }

    #[test]
    fn approved_gate_renders_job_under_tenant_service_account_without_ttl() {
        let spec = spec("my-service");
        let gate = Gate {
            spec,
            key: GateKey::from_recorded(
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            namespace: "team-a".into(),
            name: "g".into(),
            uid: "uid".into(),
            requester: None,
        };
        let job = serde_json::to_value(render_job(&gate, &promotion(), &decision())).unwrap();
        assert_eq!(job["metadata"]["name"], "my-service-promote-0123456789ab");
        assert_eq!(
            job["metadata"]["labels"][GATE_KEY_LABEL], "0123456789ab",
            "a label value holds at most 63 characters"
        );
        assert_eq!(
            job["metadata"]["annotations"][GATE_KEY_ANNOTATION],
            gate.key.as_str(),
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
}
