//! XPromotionGate, orchestrated in labelled steps: (1) validate the spec and look the
//! tenant's pipeline up as a required resource; (2) unless the gate is settled (decided
//! for this artifact, or approved by policy), read GitHub, (3) decide
//! ([`decide::decide`], pure) and (4) write what the decision asks for, all in `sync`;
//! (5) render status, conditions, the gate ConfigMap and the promotion Job
//! ([`render::write`], pure).
//!
//! This module and `sync` are the only async part of the gate; they fetch and execute,
//! and every choice (which issue counts, when to list, what to retire) is made by the
//! pure modules. Reading GitHub is idempotent and every write is
//! guarded by what was read, because Crossplane may call up to six times per reconcile
//! and the status write may be lost. A GitHub failure never approves and is never
//! Fatal: the recorded status is kept and `ApprovalSynced` turns False.

pub mod answers;
pub mod decide;
pub mod frozen;
pub mod issue;
pub mod key;
pub mod lookup;
pub mod model;
pub mod progression;
pub mod promotion;
pub mod render;
pub mod retire;
pub mod rules;
pub mod select;
mod sync;
#[cfg(test)]
mod test_support;

use std::sync::OnceLock;
use std::time::Duration;

use tracing::Instrument;

use function_sdk_rust::proto::v1::RunFunctionResponse;

use crate::call::{Call, Fatal};
use crate::github::{GitHubError, Repos, Secret};
use crate::xr::gate::{GateSpec, GateState, GateStatus, REQUESTED_BY_ANNOTATION};

use decide::{Decision, Gate, Policy};
use lookup::Lookup;
use model::WAITING_FOR_SOURCE;
use render::{Outcome, Sync};
use sync::{Reach, SyncError, close_unneeded_issues, sync};

/// The most one call spends on GitHub. Each request has its own timeouts; this bounds
/// their sum, well inside Crossplane's two-minute budget for a whole reconcile (which
/// syncs GitHub once: the first call of a reconcile only states the requirement).
const GITHUB_BUDGET: Duration = Duration::from_secs(40);

/// The time this call may spend on GitHub: [`GITHUB_BUDGET`], or less when the
/// caller's deadline is nearer (an answer after it is lost, and Crossplane fails the
/// whole reconcile).
fn budget(call: &Call<'_>) -> Duration {
    call.time_left
        .map_or(GITHUB_BUDGET, |left| left.min(GITHUB_BUDGET))
}

/// How the server reaches approvals repositories: GitHub's REST API sparing the rate
/// limit, one shared view per repository, gates finding their issues by [`select::tags`].
pub fn server_repos() -> Repos {
    Repos::new(crate::github::default_connector(), select::tags)
        .with_views(crate::github::view::DEFAULT_MAX_BYTES)
}

/// Composes an XPromotionGate.
pub async fn compose(
    call: &Call<'_>,
    github: &Repos,
    env_token: Option<&Secret>,
    rsp: &mut RunFunctionResponse,
) -> Result<(), Fatal> {
    // 1. Validate.
    let spec = GateSpec::from_json(&call.composite.spec, call.input.allow_mutable_tags)
        .map_err(|e| Fatal::invalid_spec(e.to_string()))?;
    let namespace = match (&call.composite.namespace, &call.input.namespace) {
        (Some(ns), _) | (None, Some(ns)) => ns.clone(),
        (None, None) => {
            return Err(Fatal::invalid_spec(
                "input.namespace: is required for a cluster-scoped XPromotionGate (where its ConfigMap and Job go)",
            ));
        }
    };
    // The same requirement on every call, so Crossplane's requirement loop settles.
    lookup::require_pipeline(
        rsp,
        call.request,
        &call.composite.api_version,
        call.composite.namespace.as_deref(),
    );

    let requester = call
        .composite
        .annotations
        .get(REQUESTED_BY_ANNOTATION)
        .map(|r| r.trim().trim_start_matches('@'))
        .filter(|r| !r.is_empty());
    let uid = call.composite.uid.as_deref().unwrap_or_default();
    let key = key::gate_key(key::KeyParts {
        namespace: &namespace,
        name: &call.composite.name,
        uid,
        tenant: &spec.tenant,
        source: &spec.source_environment,
        target: &spec.target_environment,
        artifact_id: &spec.artifact_id,
    });
    let gate = Gate {
        spec: &spec,
        key: &key,
        namespace: &namespace,
        name: &call.composite.name,
        uid,
        requester,
    };
    let recorded = GateStatus::from_json(&call.composite.status);
    // Every log line about this gate, the adapter's included, carries these fields.
    let xr = format!("{namespace}/{}", call.composite.name);
    let span = GateSpan {
        xr: &xr,
        key: &key,
        span: OnceLock::new(),
    };

    // 1. (cont.) The pipeline's policy; 2-4. read GitHub, decide, write GitHub.
    let (policy, outcome) = match lookup::find_pipeline(
        call.request,
        &spec.tenant,
        call.composite.namespace.as_deref(),
    )? {
        // No GitHub work until Crossplane answers; this response is replaced by the next
        // call's, but keeps what was recorded meanwhile.
        Lookup::Unanswered => (
            lookup::policy(&spec, None, &call.input.approvals)?,
            Outcome {
                decision: decide::from_recorded(&gate, &recorded, call.now),
                sync: Sync::Waiting,
            },
        ),
        found => {
            let (pipeline, whereabouts) = match found {
                Lookup::Found(pipeline, whereabouts) => (Some(pipeline), whereabouts),
                _ => (None, None),
            };
            let mut policy = lookup::policy(&spec, pipeline.as_deref(), &call.input.approvals)?;
            // Progression and soak, from the pipeline and where its artifacts are.
            let waiting = pipeline.as_deref().and_then(|config| {
                progression::waiting_for_source(&spec, config, whereabouts.as_ref())
            });
            policy.soak_until = pipeline.as_deref().and_then(|config| {
                let start = decide::from_recorded(&gate, &recorded, call.now).start;
                progression::soak_until(&spec, config, whereabouts.as_ref(), start)
            });
            // Freeze windows open for the target now, and who may override them.
            let windows = pipeline
                .as_deref()
                .map(crate::freeze::windows)
                .unwrap_or_default();
            policy.frozen = crate::freeze::frozen(&windows, &spec.target_environment, call.now);
            policy.freeze_override = pipeline
                .as_deref()
                .and_then(|config| config.freeze_override.clone());
            let mut outcome = decide_with_github(
                call,
                waiting,
                Reach {
                    repos: github,
                    env_token,
                },
                &gate,
                &recorded,
                &policy,
                &span,
            )
            .await;
            // Approved once a window that held it closed: it arrived then, not when its
            // approvals were in (the pipeline dates arrivals by it).
            let d = &mut outcome.decision;
            if d.state == GateState::Approved
                && d.freeze_override.is_none()
                && let Some(mut at) = d.decided_at
            {
                for _ in 0..16 {
                    match crate::freeze::frozen(&windows, &spec.target_environment, at) {
                        Some(f) if f.until <= call.now && f.until > at => at = f.until,
                        _ => break,
                    }
                }
                d.decided_at = Some(at);
            }
            (policy, outcome)
        }
    };
    // 5. Render.
    let scene = render::Scene {
        req: call.request,
        input: call.input,
        gate: &gate,
        policy: &policy,
        observed_status: &call.composite.status,
        recorded: &recorded,
        now: call.now,
    };
    render::write(rsp, &scene, &outcome);
    let state = outcome.decision.state;
    crate::metrics::observe_gate(&xr, state.as_str());
    let changed = recorded.gate_status != Some(state);
    let failed = matches!(outcome.sync, Sync::Failed { .. });
    if !(changed || failed || tracing::enabled!(tracing::Level::DEBUG)) {
        return Ok(());
    }
    let span = span.get();
    if let Some(issue) = &outcome.decision.issue {
        span.record("issue", issue.number);
    }
    span.in_scope(|| {
        if changed {
            tracing::info!(state = state.as_str(), "gate state changed");
        }
        match &outcome.sync {
            Sync::Failed {
                reason, message, ..
            } => {
                tracing::warn!(reason = *reason, error = %message, "cannot sync the approval issue")
            }
            _ => tracing::debug!(state = state.as_str(), "gate reconciled"),
        }
    });
    Ok(())
}

/// The span of every log line about a gate, created when something is logged or GitHub
/// is called: most calls for a decided gate do neither, and a span's fields are
/// formatted when it is created.
struct GateSpan<'a> {
    xr: &'a str,
    key: &'a str,
    span: OnceLock<tracing::Span>,
}

impl GateSpan<'_> {
    fn get(&self) -> &tracing::Span {
        self.span.get_or_init(|| {
            tracing::info_span!("gate", xr = %self.xr, gate_key = %self.key, issue = tracing::field::Empty)
        })
    }
}

/// The decision for a gate whose pipeline lookup was answered: settled without GitHub
/// when decided or approved by policy, else read from GitHub within [`budget`].
#[allow(clippy::too_many_arguments)]
async fn decide_with_github(
    call: &Call<'_>,
    waiting: Option<String>,
    reach: Reach<'_>,
    gate: &Gate<'_>,
    recorded: &GateStatus,
    policy: &Policy,
    span: &GateSpan<'_>,
) -> Outcome {
    let settled = decide::settled(gate, recorded, policy, call.now);
    // A recorded verdict stands whatever happened to the source since; otherwise the gate
    // waits, without GitHub, for its artifact to reach its source (its deadline running
    // meanwhile: past it, it has timed out), and an automatic gate waits for the
    // artifact's soak.
    let recorded_verdict = recorded.gate_key.as_deref() == Some(gate.key)
        && recorded.gate_status.is_some_and(|s| s.is_terminal());
    if !recorded_verdict {
        let recorded_decision = decide::from_recorded(gate, recorded, call.now);
        if let Some(why) = &waiting
            && call.now >= recorded_decision.deadline
        {
            return Outcome {
                decision: Decision {
                    state: GateState::Timeout,
                    decided_at: Some(recorded_decision.deadline),
                    ..recorded_decision
                },
                sync: Sync::Synced {
                    reason: WAITING_FOR_SOURCE,
                    message: format!("timed out {why}"),
                },
            };
        }
        if let Some(why) = waiting {
            return held_without_github(
                recorded_decision,
                decide::Held {
                    reason: WAITING_FOR_SOURCE,
                    message: why,
                },
                "GitHub is not read until the artifact reaches its source environment",
            );
        }
        if let Some(until) = policy.soak_until.filter(|until| call.now < *until)
            && settled.is_some()
        {
            return held_without_github(
                recorded_decision,
                decide::Held::soaking(gate.spec, until),
                "approval is not required for this promotion; it waits for the artifact's soak",
            );
        }
        // An automatic promotion waits out a freeze window too (nobody can override it:
        // it has no issue to answer in).
        if let Some(frozen) = policy.frozen.as_ref().filter(|f| call.now < f.until)
            && settled.is_some()
        {
            return held_without_github(
                recorded_decision,
                decide::Held::frozen(gate.spec, frozen, false),
                "approval is not required for this promotion; it waits for the freeze window to close",
            );
        }
    }
    match settled {
        Some(decision) if decision.automatic => {
            let mut message =
                "approval is not required for this promotion; GitHub is not used".to_owned();
            // On the call that approves by policy a gate that had an approval issue.
            if let Some(old) = &recorded.issue {
                let closing = close_unneeded_issues(call, reach, gate, recorded)
                    .instrument(span.get().clone());
                message = match tokio::time::timeout(budget(call), closing).await {
                    Ok(Ok(closed)) if closed.is_empty() => {
                        "approval is not required for this promotion".to_owned()
                    }
                    Ok(Ok(closed)) => format!(
                        "approval is not required for this promotion; closed approval issue(s) {}",
                        closed
                            .iter()
                            .map(|n| format!("#{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    failed => {
                        let why = match failed {
                            Ok(Err(e)) => e.to_string(),
                            _ => "GitHub took too long".to_owned(),
                        };
                        span.get().in_scope(|| {
                            tracing::warn!(issue = old.number, error = %why, "cannot close the approval issue that is no longer needed")
                        });
                        format!(
                            "approval is not required for this promotion; approval issue #{} could not be closed ({why}): close it by hand",
                            old.number
                        )
                    }
                };
            }
            Outcome {
                sync: Sync::Synced {
                    reason: "NotRequired",
                    message,
                },
                decision,
            }
        }
        Some(decision) => Outcome {
            sync: Sync::Synced {
                reason: "Decided",
                message: "the gate is decided for this artifact; GitHub is no longer read".into(),
            },
            decision,
        },
        // Without a known requester, anyone who may approve could be approving their own
        // request: the Input can make such a gate wait, without asking on GitHub.
        None if call.input.approvals.require_requester && gate.requester.is_none() => {
            held_without_github(
                decide::from_recorded(gate, recorded, call.now),
                decide::Held {
                    reason: MISSING_REQUESTER,
                    message: format!(
                        "the gate has no {REQUESTED_BY_ANNOTATION} annotation, which the input's approvals.requireRequester requires; no approval issue is opened until it names the requester"
                    ),
                },
                "GitHub is not read until the gate names its requester",
            )
        }
        None => match tokio::time::timeout(
            budget(call),
            sync(call, reach, gate, recorded, policy).instrument(span.get().clone()),
        )
        .await
        .unwrap_or_else(|_| {
            Err(SyncError::GitHub(GitHubError::Timeout(format!(
                "GitHub calls took longer than the {} ms this call allows",
                budget(call).as_millis()
            ))))
        }) {
            Ok(decision) => Outcome {
                sync: Sync::Synced {
                    reason: "Synced",
                    message: match &decision.issue {
                        Some(i) => format!("read approval issue #{}", i.number),
                        None => "no approval issue could be opened before the deadline".into(),
                    },
                },
                decision,
            },
            Err(e) => Outcome {
                decision: decide::from_recorded(gate, recorded, call.now),
                sync: Sync::Failed {
                    reason: e.reason(),
                    message: e.to_string(),
                    retry_after: e.retry_after(),
                },
            },
        },
    }
}

/// A pending gate held back by `held` without reading GitHub: its recorded decision, the
/// hold as its `Approved` condition's reason, and the same reason for `ApprovalSynced`.
fn held_without_github(recorded: Decision, held: decide::Held, sync_message: &str) -> Outcome {
    Outcome {
        sync: Sync::Synced {
            reason: held.reason,
            message: sync_message.to_owned(),
        },
        decision: Decision {
            held: Some(held),
            ..recorded
        },
    }
}

/// The reason of a gate that waits for its `requested-by` annotation.
const MISSING_REQUESTER: &str = "MissingRequester";
