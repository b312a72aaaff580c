//! The log of a gate call: one span per gate (its XR, key and issue) on every line logged
//! about it, the adapter's included, and the gate's state counted for the metrics.
//!
//! No I/O beyond logging.

use std::sync::OnceLock;

use super::model::{Gate, GitHubSync, Outcome, Recorded};
use crate::xr::gate::GateState;

/// The span of every log line about a gate, created when something is logged or GitHub
/// is called: most calls for a decided gate do neither, and a span's fields are
/// formatted when it is created.
pub struct GateSpan<'a> {
    gate: &'a Gate,
    now: chrono::DateTime<chrono::Utc>,
    span: OnceLock<tracing::Span>,
}

impl<'a> GateSpan<'a> {
    /// The span of `gate`'s log lines, not yet created.
    pub fn new(gate: &'a Gate, now: chrono::DateTime<chrono::Utc>) -> Self {
        GateSpan {
            gate,
            now,
            span: OnceLock::new(),
        }
    }

    /// The span, created on first use.
    pub fn get(&self) -> &tracing::Span {
        self.span.get_or_init(|| {
            tracing::info_span!("gate", xr = %format!("{}/{}", self.gate.namespace, self.gate.name), gate_key = %self.gate.key, issue = tracing::field::Empty)
        })
    }

    /// Counts the gate's state, and logs a change of state or a failed sync.
    pub fn log(&self, recorded: &Recorded, outcome: &Outcome) {
        let d = &outcome.decision;
        let state = d.state;
        let xr = format!("{}/{}", self.gate.namespace, self.gate.name);
        crate::metrics::observe_gate(&xr, state.as_str(), d.start, self.now);
        let changed = recorded.state() != Some(state);
        if changed
            && state != GateState::Pending
            && let Some(at) = d.decided_at
        {
            crate::metrics::observe_decision(state.as_str(), (at - d.start).num_seconds() as f64);
        }
        let failed = matches!(outcome.sync, GitHubSync::Failed(_));
        if !(changed || failed || tracing::enabled!(tracing::Level::DEBUG)) {
            return;
        }
        let span = self.get();
        if let Some(issue) = &outcome.decision.issue {
            span.record("issue", issue.number);
        }
        span.in_scope(|| {
            if changed {
                tracing::info!(state = state.as_str(), "gate state changed");
            }
            match &outcome.sync {
                GitHubSync::Failed(e) => {
                    tracing::warn!(reason = e.reason(), error = %e, "cannot sync the approval issue")
                }
                _ => tracing::debug!(state = state.as_str(), "gate reconciled"),
            }
        });
    }
}
