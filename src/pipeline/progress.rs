//! Where each artifact is: from the tenant's XPromotionGates as their statuses record
//! them, which artifact each environment holds (`status.environments`), the furthest
//! environment that holds one (`current_environment`) and its artifact (`artifact_id`).
//!
//! An artifact is promoted into a gate's target when the gate is approved and, if it
//! runs a promotion Job, that Job succeeded; it arrived when the Job completed (else when
//! the gate was approved). The latest promotion into an environment wins.
//!
//! Pure: reads the gates it is given.

use serde::Deserialize;

use crate::gate::key::{GateKey, KeyParts};
use crate::xr::Composite;
use crate::xr::gate::{GateState, GateStatus, PromotionState, PromotionStatus, rfc3339};
use crate::xr::pipeline::{EnvironmentStatus, Whereabouts};

/// One of the tenant's gates, as its spec and status say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRecord {
    /// The XPromotionGate's name.
    pub name: String,
    /// `spec.source_environment`.
    pub source: String,
    /// `spec.target_environment`.
    pub target: String,
    /// `spec.artifact_id`.
    pub artifact_id: String,
    /// `spec.change.revision` (lowercase), when it names one.
    pub revision: Option<String>,
    /// `spec.change.repository`, when it names one.
    pub repository: Option<String>,
    /// Its recorded status.
    pub status: GateStatus,
    /// Its promotion Job's progress, if it runs one.
    pub promotion: Option<PromotionStatus>,
}

/// A gate's `spec.change` as written, `(repository, revision)`, when it names both.
fn change_of(spec: &serde_json::Value) -> Option<(&str, &str)> {
    let text = |p: &str| spec.pointer(p).and_then(serde_json::Value::as_str);
    Some((text("/change/repository")?, text("/change/revision")?))
}

/// The gates among `gates` whose `spec.tenant` is `tenant`, read leniently: a gate
/// without a target or artifact is left out, and so is one whose status was recorded
/// for another key than its spec's (its artifact or environments were changed since it
/// was decided, and it has not been reconciled again): that status says nothing about
/// the artifact its spec names now.
/// `namespace` is where a cluster-scoped gate's composed resources go (the Input's), which
/// its key covers.
pub fn records(gates: &[Composite], tenant: &str, namespace: Option<&str>) -> Vec<GateRecord> {
    let text = |gate: &Composite, field: &str| {
        gate.spec
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    gates
        .iter()
        .filter(|g| text(g, "tenant").as_deref() == Some(tenant))
        .filter_map(|g| {
            let source = text(g, "source_environment")?;
            let target = text(g, "target_environment")?;
            let artifact_id = text(g, "artifact_id")?;
            let status = GateStatus::from_json(&g.status);
            let key = GateKey::of_parts(KeyParts {
                namespace: g.namespace.as_deref().or(namespace)?,
                name: &g.name,
                uid: g.uid.as_deref().unwrap_or_default(),
                tenant,
                source: &source,
                target: &target,
                artifact_id: &artifact_id,
                change: change_of(&g.spec),
            });
            if !status.gate_key.as_deref().is_some_and(|k| key.is(k)) {
                return None;
            }
            // A promotion recorded but unreadable is not a finished one: leave the gate out.
            let promotion = match g.status.get("promotion") {
                None | Some(serde_json::Value::Null) => None,
                Some(p) => Some(PromotionStatus::deserialize(p).ok()?),
            };
            let revision = change_of(&g.spec).map(|(_, r)| r.to_ascii_lowercase());
            let repository = change_of(&g.spec).map(|(r, _)| r.to_owned());
            Some(GateRecord {
                name: g.name.clone(),
                source,
                target,
                artifact_id,
                revision,
                repository,
                status,
                promotion,
            })
        })
        .collect()
}

/// Where the artifacts are among `environments` (in pipeline order), and whether any
/// gate is still pending or promoting (the pipeline then follows it at the poll
/// interval).
pub fn whereabouts(environments: &[String], gates: &[GateRecord]) -> (Whereabouts, bool) {
    let mut latest: Vec<Option<EnvironmentStatus>> = vec![None; environments.len()];
    let mut in_flight = false;
    for gate in gates {
        let state = gate.status.gate_status.unwrap_or(GateState::Pending);
        let job = gate.promotion.as_ref().map(|p| p.state);
        if state == GateState::Pending || job == Some(PromotionState::Running) {
            in_flight = true;
        }
        if state != GateState::Approved || !matches!(job, None | Some(PromotionState::Succeeded)) {
            continue;
        }
        let Some(arrived) = gate
            .promotion
            .as_ref()
            .and_then(|p| p.completed_at)
            .or(gate.status.approval_timestamp)
        else {
            continue;
        };
        // Only a promotion between adjacent environments, in order, moves an artifact (a
        // gate's own lookup refuses any other pair).
        let position = |env: &str| environments.iter().position(|e| e == env);
        let (Some(from), Some(at)) = (position(&gate.source), position(&gate.target)) else {
            continue;
        };
        if from + 1 != at {
            continue;
        }
        let entry = EnvironmentStatus {
            name: gate.target.clone(),
            artifact_id: gate.artifact_id.clone(),
            promoted_at: rfc3339(arrived),
            approved_by: gate.status.approver.clone().unwrap_or_default(),
            gate: gate.name.clone(),
            revision: gate.revision.clone(),
            repository: gate.repository.clone(),
        };
        // RFC 3339 in seconds with `Z` sorts as time; the gate's name breaks a tie.
        let newer = latest[at]
            .as_ref()
            .is_none_or(|e| (&entry.promoted_at, &entry.gate) > (&e.promoted_at, &e.gate));
        if newer {
            latest[at] = Some(entry);
        }
    }
    let current = latest.iter().rposition(Option::is_some);
    let whereabouts = Whereabouts {
        current_environment: current
            .map(|i| environments[i].clone())
            .or_else(|| environments.first().cloned())
            .unwrap_or_default(),
        artifact_id: current.and_then(|i| latest[i].as_ref().map(|e| e.artifact_id.clone())),
        environments: latest.into_iter().flatten().collect(),
    };
    (whereabouts, in_flight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xr::Composite;
    use function_sdk_rust::resource::json_to_struct;
    use serde_json::{Value, json};

    /// A gate whose status was recorded for its own key (as the function records it).
    fn gate(name: &str, tenant: &str, target: &str, artifact: &str, status: Value) -> Composite {
        // The environment before the target: gates promote between adjacent ones.
        let source = match target {
            "production" => "staging",
            _ => "dev",
        };
        let mut status = status;
        if let Some(fields) = status.as_object_mut() {
            let key = GateKey::of_parts(KeyParts {
                namespace: "platform-system",
                name,
                uid: "",
                tenant,
                source,
                target,
                artifact_id: artifact,
                change: None,
            });
            fields.insert("gate_key".into(), json!(key.as_str()));
        }
        Composite::from_struct(&json_to_struct(
            json!({
                "apiVersion": "platform.zerotouch.dev/v1alpha1",
                "kind": "XPromotionGate",
                "metadata": {"name": name, "namespace": "platform-system"},
                "spec": {"tenant": tenant, "artifact_id": artifact,
                         "source_environment": source, "target_environment": target},
                "status": status,
            })
            .as_object()
            .unwrap(),
        ))
        .unwrap()
    }

    fn envs() -> Vec<String> {
        ["dev", "staging", "production"].map(String::from).to_vec()
    }

    fn approved(at: &str) -> Value {
        json!({"gate_status": "approved", "approver": "alice", "approval_timestamp": at})
    }

    #[test]
    fn the_latest_promotion_into_each_environment_wins_in_pipeline_order() {
        let gates = vec![
            gate(
                "s1",
                "app",
                "staging",
                "r/app:v1",
                approved("2026-03-01T06:00:00Z"),
            ),
            gate(
                "s2",
                "app",
                "staging",
                "r/app:v2",
                approved("2026-03-01T08:00:00Z"),
            ),
            gate(
                "p1",
                "app",
                "production",
                "r/app:v1",
                approved("2026-03-01T07:00:00Z"),
            ),
            // Another tenant's gate is not this pipeline's.
            gate(
                "x",
                "other",
                "production",
                "r/other:v9",
                approved("2026-03-01T09:00:00Z"),
            ),
        ];
        let (w, in_flight) = whereabouts(&envs(), &records(&gates, "app", None));
        assert!(!in_flight);
        let held: Vec<(&str, &str, &str)> = w
            .environments
            .iter()
            .map(|e| (e.name.as_str(), e.artifact_id.as_str(), e.gate.as_str()))
            .collect();
        assert_eq!(
            held,
            vec![
                ("staging", "r/app:v2", "s2"),
                ("production", "r/app:v1", "p1")
            ]
        );
        assert_eq!(w.current_environment, "production");
        assert_eq!(w.artifact_id.as_deref(), Some("r/app:v1"));
        assert_eq!(w.environments[0].promoted_at, "2026-03-01T08:00:00Z");
        assert_eq!(w.environments[0].approved_by, "alice");
    }

    #[test]
    fn an_artifact_arrives_only_when_its_job_succeeded() {
        let with_job = |state: &str, completed: Option<&str>| {
            let mut status = approved("2026-03-01T06:00:00Z");
            status["promotion"] = json!({"job": "j", "state": state});
            if let Some(at) = completed {
                status["promotion"]["completed_at"] = json!(at);
            }
            gate("s1", "app", "staging", "r/app:v1", status)
        };
        let (w, in_flight) =
            whereabouts(&envs(), &records(&[with_job("running", None)], "app", None));
        assert!(in_flight);
        assert!(w.environments.is_empty());
        assert_eq!(
            (w.current_environment.as_str(), w.artifact_id),
            ("dev", None)
        );
        let (w, _) = whereabouts(
            &envs(),
            &records(
                &[with_job("failed", Some("2026-03-01T07:00:00Z"))],
                "app",
                None,
            ),
        );
        assert!(w.environments.is_empty());
        let (w, in_flight) = whereabouts(
            &envs(),
            &records(
                &[with_job("succeeded", Some("2026-03-01T07:00:00Z"))],
                "app",
                None,
            ),
        );
        assert!(!in_flight);
        assert_eq!(w.environments[0].promoted_at, "2026-03-01T07:00:00Z");
    }

    #[test]
    fn pending_gates_keep_the_pipeline_following_and_others_promote_nothing() {
        let gates = vec![
            gate(
                "p",
                "app",
                "staging",
                "r/app:v1",
                json!({"gate_status": "pending"}),
            ),
            gate("n", "app", "staging", "r/app:v2", json!({})),
            gate(
                "r",
                "app",
                "production",
                "r/app:v1",
                json!({"gate_status": "rejected"}),
            ),
            gate(
                "t",
                "app",
                "production",
                "r/app:v1",
                json!({"gate_status": "timeout"}),
            ),
        ];
        let (w, in_flight) = whereabouts(&envs(), &records(&gates, "app", None));
        assert!(in_flight);
        assert!(w.environments.is_empty());
        assert_eq!(w.current_environment, "dev");
        let (_, in_flight) = whereabouts(&envs(), &records(&gates[2..], "app", None));
        assert!(!in_flight, "rejected and timed-out gates are done");
    }

    #[test]
    fn a_status_recorded_for_another_artifact_says_nothing_about_this_one() {
        // Approved for v1, then its spec switched to v2 before the gate ran again.
        let mut switched = gate(
            "s",
            "app",
            "staging",
            "r/app:v1",
            approved("2026-03-01T06:00:00Z"),
        );
        switched.spec["artifact_id"] = json!("r/app:v2");
        assert!(records(&[switched], "app", None).is_empty());
        // A status without a key (never recorded by the function) counts for nothing.
        let mut unkeyed = gate(
            "u",
            "app",
            "staging",
            "r/app:v1",
            approved("2026-03-01T06:00:00Z"),
        );
        unkeyed.status.as_object_mut().unwrap().remove("gate_key");
        assert!(records(&[unkeyed], "app", None).is_empty());
    }

    #[test]
    fn only_adjacent_promotions_in_order_move_an_artifact() {
        let mut skipping = gate(
            "skip",
            "app",
            "production",
            "r/app:v1",
            approved("2026-03-01T06:00:00Z"),
        );
        skipping.spec["source_environment"] = json!("dev");
        let key = GateKey::of_parts(KeyParts {
            namespace: "platform-system",
            name: "skip",
            uid: "",
            tenant: "app",
            source: "dev",
            target: "production",
            artifact_id: "r/app:v1",
            change: None,
        });
        skipping.status["gate_key"] = json!(key.as_str());
        let (w, _) = whereabouts(&envs(), &records(&[skipping], "app", None));
        assert!(w.environments.is_empty(), "{w:?}");
    }

    #[test]
    fn an_unreadable_promotion_is_not_a_finished_one() {
        let mut status = approved("2026-03-01T06:00:00Z");
        status["promotion"] = json!({"job": "j", "state": "done"});
        let g = gate("s", "app", "staging", "r/app:v1", status);
        assert!(records(&[g], "app", None).is_empty());
    }

    #[test]
    fn an_environment_records_the_revision_its_artifact_was_built_from() {
        let sha = "0123456789ABCDEF0123456789abcdef01234567";
        let mut g = gate(
            "s1",
            "app",
            "staging",
            "r/app:v1",
            approved("2026-03-01T06:00:00Z"),
        );
        g.spec["change"] = json!({"repository": "org/app", "revision": sha});
        // The key the status was recorded for names the change.
        let key = GateKey::of_parts(KeyParts {
            namespace: "platform-system",
            name: "s1",
            uid: "",
            tenant: "app",
            source: "dev",
            target: "staging",
            artifact_id: "r/app:v1",
            change: Some(("org/app", sha)),
        });
        g.status["gate_key"] = json!(key.as_str());
        let (w, _) = whereabouts(&envs(), &records(&[g.clone()], "app", None));
        assert_eq!(
            w.environments[0].revision.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        // A status recorded before the change was named is another key's: left out.
        g.spec["change"]["revision"] = json!("1123456789abcdef0123456789abcdef01234567");
        let (w, _) = whereabouts(&envs(), &records(&[g], "app", None));
        assert!(w.environments.is_empty());
    }
}
