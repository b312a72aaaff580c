//! Progression and soak: whether a gate's artifact is in its source environment (the
//! pipeline's `progression: enforced`, the default, promotes only that artifact out of an
//! environment after the first), and until when it soaks there (the pipeline's
//! `soakTime` for the source). Where each artifact is comes from the pipeline's status
//! (`status.environments`), which the function writes from the tenant's gates.
//!
//! Pure: reads the pipeline it is given.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::input::GoDuration;
use crate::pipeline_config::{PipelineConfig, Progression};
use crate::xr::Composite;
use crate::xr::gate::GateSpec;
use crate::xr::pipeline::Whereabouts;

/// Where each artifact is, as the pipeline's status says (none before it says anything).
pub fn whereabouts(pipeline: &Composite) -> Option<Whereabouts> {
    Whereabouts::deserialize(&pipeline.status).ok()
}

/// The artifact's soak in the source environment (the pipeline's `soakTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Soak {
    /// When the artifact arrived in the source, as the pipeline says (the first
    /// environment, or one the pipeline does not say: from the gate's start).
    pub arrived: Option<DateTime<Utc>>,
    /// How long it soaks; `None` when the soak time cannot be used (it soaks for ever: a
    /// fault never shortens a soak).
    pub lasts: Option<chrono::Duration>,
}

impl Soak {
    /// The soak's end for a gate that started at `start`.
    pub fn until(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        self.lasts
            .and_then(|d| self.arrived.unwrap_or(start).checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Whether the gate waits for its artifact to reach its source, and what the source
/// holds meanwhile: progression is enforced, its source is not the first environment,
/// and the source holds another artifact (`Some(Some(_))`) or none (`Some(None)`).
pub fn waiting_for_source(
    spec: &GateSpec,
    config: &PipelineConfig,
    whereabouts: Option<&Whereabouts>,
) -> Option<Option<String>> {
    let source = &spec.source_environment;
    if config.progression == Progression::Free || config.environments.first() == Some(source) {
        return None;
    }
    let held = whereabouts
        .and_then(|w| w.environments.iter().find(|e| e.name == *source))
        .map(|e| e.artifact_id.as_str());
    if held == Some(spec.artifact_id.as_str()) {
        return None;
    }
    Some(held.map(str::to_owned))
}

/// The artifact's soak in the gate's source, if the pipeline sets a soak time for the
/// source: from when the artifact arrived there (its promotion into it), or, in the first
/// environment or when the pipeline does not say, from the gate's start. A soak time that
/// cannot be read or added (validation bounds it) soaks for ever.
pub fn soak(
    spec: &GateSpec,
    config: &PipelineConfig,
    whereabouts: Option<&Whereabouts>,
) -> Option<Soak> {
    let source = &spec.source_environment;
    let soak = config.soak_time.get(source)?;
    let lasts = GoDuration::parse(soak)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d.0).ok());
    let arrived = whereabouts
        .and_then(|w| {
            w.environments
                .iter()
                .find(|e| e.name == *source && e.artifact_id == spec.artifact_id)
        })
        .and_then(|e| DateTime::parse_from_rfc3339(&e.promoted_at).ok())
        .map(|t| t.with_timezone(&Utc));
    Some(Soak { arrived, lasts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xr::pipeline::EnvironmentStatus;
    use serde_json::json;

    fn spec(source: &str, target: &str, artifact: &str) -> GateSpec {
        GateSpec::from_json(
            &json!({"tenant": "app", "artifact_id": artifact,
                    "source_environment": source, "target_environment": target}),
            false,
        )
        .unwrap()
    }

    fn config(progression: Progression, soak: &[(&str, &str)]) -> PipelineConfig {
        let spec = crate::xr::pipeline::PipelineSpec::from_json(&json!({
            "tenant": "app", "environments": ["dev", "staging", "production"],
        }))
        .unwrap();
        let mut config = crate::pipeline::validate::validate_config(&spec).unwrap();
        config.progression = progression;
        config.soak_time = soak
            .iter()
            .map(|(e, d)| (e.to_string(), d.to_string()))
            .collect();
        config
    }

    fn holding(env: &str, artifact: &str, at: &str) -> Whereabouts {
        Whereabouts {
            environments: vec![EnvironmentStatus {
                name: env.into(),
                artifact_id: artifact.into(),
                promoted_at: at.into(),
                approved_by: "alice".into(),
                gate: "g".into(),
                revision: None,
                repository: None,
            }],
            current_environment: env.into(),
            artifact_id: Some(artifact.into()),
        }
    }

    #[test]
    fn an_artifact_leaves_an_environment_after_the_first_only_once_it_is_there() {
        let enforced = config(Progression::Enforced, &[]);
        let to_production = spec("staging", "production", "ghcr.io/o/app:v2");
        let staging_v1 = holding("staging", "ghcr.io/o/app:v1", "2026-03-01T06:00:00Z");
        assert_eq!(
            waiting_for_source(&to_production, &enforced, Some(&staging_v1)),
            Some(Some("ghcr.io/o/app:v1".to_owned()))
        );
        assert_eq!(
            waiting_for_source(&to_production, &enforced, None),
            Some(None),
            "the source holds nothing yet"
        );
        let staging_v2 = holding("staging", "ghcr.io/o/app:v2", "2026-03-01T06:00:00Z");
        assert_eq!(
            waiting_for_source(&to_production, &enforced, Some(&staging_v2)),
            None
        );
        // The first environment receives artifacts from builds, not gates.
        assert_eq!(
            waiting_for_source(&spec("dev", "staging", "ghcr.io/o/app:v9"), &enforced, None),
            None
        );
        let free = config(Progression::Free, &[]);
        assert_eq!(
            waiting_for_source(&to_production, &free, Some(&staging_v1)),
            None
        );
    }

    #[test]
    fn the_soak_runs_from_the_arrival_in_the_source_or_from_the_gate_start() {
        let start: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let soaked = config(Progression::Enforced, &[("staging", "2h"), ("dev", "30m")]);
        let to_production = spec("staging", "production", "ghcr.io/o/app:v2");
        let staging_v2 = holding("staging", "ghcr.io/o/app:v2", "2026-03-01T06:00:00Z");
        let until = |spec: &GateSpec, config, whereabouts| {
            soak(spec, config, whereabouts).map(|s| s.until(start))
        };
        assert_eq!(
            until(&to_production, &soaked, Some(&staging_v2)),
            Some("2026-03-01T08:00:00Z".parse().unwrap())
        );
        assert_eq!(
            until(&spec("dev", "staging", "ghcr.io/o/app:v2"), &soaked, None),
            Some("2026-03-01T10:30:00Z".parse().unwrap())
        );
        let unsoaked = config(Progression::Enforced, &[]);
        assert_eq!(until(&to_production, &unsoaked, Some(&staging_v2)), None);
    }

    #[test]
    fn a_soak_time_that_cannot_be_used_soaks_for_ever() {
        let start: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let to_production = spec("staging", "production", "ghcr.io/o/app:v2");
        for bad in ["soon", "999999999999999999h"] {
            let soaked = config(Progression::Enforced, &[("staging", bad)]);
            assert_eq!(
                soak(&to_production, &soaked, None).map(|s| s.until(start)),
                Some(DateTime::<Utc>::MAX_UTC),
                "{bad}"
            );
        }
    }
}
