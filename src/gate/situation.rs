//! What holds a gate at the time of this call, computed once from the pipeline and where
//! its artifacts are: whether the artifact has reached the source environment
//! (progression), until when it soaks there, and which freeze window is open for the
//! target. [`Policy`](super::policy::Policy) says who may approve; this says when.
//!
//! Pure: reads the pipeline it is given and the call's time.

use chrono::{DateTime, Utc};

use crate::freeze::{self, Frozen, Window};
use crate::pipeline_config::PipelineConfig;
use crate::xr::gate::GateSpec;
use crate::xr::pipeline::Whereabouts;

use super::lookup::Lookup;
use super::progression::{self, Soak};

/// The artifact has not reached the gate's source environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingForSource {
    /// The artifact the source holds, if any.
    pub holds: Option<String>,
}

/// The key's promotion Job as Crossplane sees it at this call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JobSeen {
    /// The Input configures no promotion: no Job ever runs.
    #[default]
    NotConfigured,
    /// Configured, and Crossplane observes no Job of this key.
    Absent,
    /// Crossplane observes this key's Job.
    Observed,
}

/// What holds a gate at this call.
#[derive(Debug, Clone, Default)]
pub struct Situation {
    /// The time of this call.
    pub now: DateTime<Utc>,
    /// Progression is enforced and the artifact is not in the source yet.
    pub waiting_for_source: Option<WaitingForSource>,
    /// The soak in the source, when the pipeline sets one.
    pub soak: Option<Soak>,
    /// The freeze window open for the target now.
    pub frozen: Option<Frozen>,
    /// The key's promotion Job.
    pub job: JobSeen,
    /// The source revision the target environment holds, as the pipeline records it: the
    /// base of the gate's change.
    pub target_revision: Option<String>,
    /// The pipeline's freeze windows, and the target they are asked about.
    pub(super) windows: Vec<Window>,
    pub(super) target: String,
}

impl Situation {
    /// Nothing holds the gate (no pipeline, or one without progression, soak or freezes).
    pub fn at(now: DateTime<Utc>) -> Self {
        Situation {
            now,
            ..Situation::default()
        }
    }

    /// The situation of a gate promoting `spec` under the pipeline the lookup found, if it
    /// found one.
    pub fn of(spec: &GateSpec, lookup: &Lookup, now: DateTime<Utc>) -> Self {
        match lookup {
            Lookup::Found(pipeline, whereabouts) => {
                Self::under(spec, pipeline, whereabouts.as_ref(), now)
            }
            _ => Self::at(now),
        }
    }

    /// The situation of a gate promoting `spec` under `pipeline`, whose artifacts are
    /// where `whereabouts` says.
    pub fn under(
        spec: &GateSpec,
        pipeline: &PipelineConfig,
        whereabouts: Option<&Whereabouts>,
        now: DateTime<Utc>,
    ) -> Self {
        let windows = if pipeline.freezes.is_empty() {
            Vec::new()
        } else {
            freeze::windows(pipeline, now)
        };
        let target = spec.target_environment.clone();
        Situation {
            now,
            waiting_for_source: progression::waiting_for_source(spec, pipeline, whereabouts)
                .map(|holds| WaitingForSource { holds }),
            soak: progression::soak(spec, pipeline, whereabouts),
            frozen: freeze::frozen(&windows, &target, now),
            job: JobSeen::NotConfigured,
            target_revision: target_revision(spec, whereabouts, &target),
            windows,
            target,
        }
    }

    /// The same, with the key's promotion Job as Crossplane sees it.
    pub fn with_job(self, job: JobSeen) -> Self {
        Situation { job, ..self }
    }

    /// The end of the soak for a gate that started at `start`, while it lasts.
    pub fn soaking(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.soak
            .map(|s| s.until(start))
            .filter(|until| self.now < *until)
    }

    /// The freeze window open now, while it is.
    pub fn frozen(&self) -> Option<&Frozen> {
        self.frozen.as_ref().filter(|f| self.now < f.until)
    }

    /// When an approval reached at `at` could take effect: at the end of the window that
    /// held it then, if one did and has closed by now (the pipeline dates arrivals by it);
    /// windows that follow each other are followed to the last.
    pub fn released_at(&self, mut at: DateTime<Utc>) -> DateTime<Utc> {
        // Each step moves to a later window's end; validation bounds the windows (at most
        // 20), so this ends quickly.
        for _ in 0..freeze::MAX_WINDOWS + 1 {
            match freeze::frozen(&self.windows, &self.target, at) {
                Some(f) if f.until <= self.now && f.until > at => at = f.until,
                _ => break,
            }
        }
        at
    }
}

/// The revision `target` holds, as its pipeline records it from the gate that brought it:
/// a full sha of the repository `spec` names (a revision of another repository, or none,
/// is no base: the change is then the gate's own commit).
fn target_revision(
    spec: &GateSpec,
    whereabouts: Option<&Whereabouts>,
    target: &str,
) -> Option<String> {
    let entry = whereabouts?
        .environments
        .iter()
        .find(|e| e.name == target)?;
    let named = spec.change.as_ref()?;
    let same = entry
        .repository
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case(&named.repository));
    entry
        .revision
        .clone()
        .filter(|r| same && r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()))
}
