//! The function's own Prometheus series, served by the SDK on the metrics endpoint beside
//! its `grpc_server_*` series: RunFunction calls by kind and outcome, gates by state (as
//! this replica last saw them), GitHub requests by outcome, the rate-limit budget left,
//! approval issues opened, how long gates took to a verdict, and the oldest pending gate.
//!
//! Process-wide on purpose, and the crate's only statics: the metrics endpoint serves
//! one registry per process, so every series, and the table of gate states behind the
//! by-state gauge, live here. Everything else a function keeps between calls (the Inputs
//! read, GitHub clients, caches and budgets) is its own state (`ReleaseFunction`).

use std::collections::HashMap;
use std::sync::atomic::AtomicI64;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::input::XrKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

static RUNS: LazyLock<Family<RunLabels, Counter>> = LazyLock::new(Family::default);
static GATES: LazyLock<Family<StateLabels, Gauge>> = LazyLock::new(Family::default);
static GITHUB_REQUESTS: LazyLock<Family<OutcomeLabels, Counter>> = LazyLock::new(Family::default);
static RATE_LIMIT_REMAINING: LazyLock<Gauge<i64, AtomicI64>> = LazyLock::new(|| {
    let gauge = Gauge::default();
    gauge.set(-1);
    gauge
});
static ISSUES_OPENED: LazyLock<Counter> = LazyLock::new(Counter::default);
static DECISIONS: LazyLock<Family<StateLabels, Histogram>> = LazyLock::new(|| {
    Family::new_with_constructor(|| Histogram::new(DECISION_BUCKETS.iter().copied()))
});
static OLDEST_PENDING: LazyLock<Gauge<i64, AtomicI64>> = LazyLock::new(Gauge::default);

/// From a gate's start to its verdict, in seconds: a minute to two weeks.
const DECISION_BUCKETS: [f64; 10] = [
    60.0,
    300.0,
    900.0,
    3600.0,
    14_400.0,
    43_200.0,
    86_400.0,
    259_200.0,
    604_800.0,
    1_209_600.0,
];

/// Gates not seen for this long drop out of the by-state gauge (deleted XRs).
const GATE_FORGET_AFTER: Duration = Duration::from_secs(6 * 3600);

static SEEN_GATES: LazyLock<Mutex<GateStates>> = LazyLock::new(Mutex::default);

/// Stale gates are looked for at most this often: between sweeps a call costs the same
/// however many gates the replica knows.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The gate states the by-state gauge reports.
const STATES: [&str; 4] = ["pending", "approved", "rejected", "timeout"];

/// The latest state of each gate this replica saw, with the number of gates in each
/// state kept up to date as gates change, forgetting gates not seen for
/// [`GATE_FORGET_AFTER`] (checked every [`SWEEP_EVERY`]).
#[derive(Debug, Default)]
struct GateStates {
    gates: HashMap<String, (usize, Instant)>,
    counts: [i64; STATES.len()],
    swept: Option<Instant>,
    /// When each pending gate started.
    pending: HashMap<String, DateTime<Utc>>,
}

impl GateStates {
    /// Records `gate`'s state and returns the number of gates in each state, in the
    /// order of [`STATES`]. A state not in [`STATES`] is not recorded.
    fn observe(&mut self, gate: &str, state: &str, now: Instant) -> [i64; STATES.len()] {
        if state != "pending" {
            self.pending.remove(gate);
        }
        if let Some(index) = STATES.iter().position(|s| *s == state) {
            match self.gates.get_mut(gate) {
                Some(seen) => {
                    self.counts[seen.0] -= 1;
                    *seen = (index, now);
                }
                None => {
                    self.gates.insert(gate.to_owned(), (index, now));
                }
            }
            self.counts[index] += 1;
        }
        if self
            .swept
            .is_none_or(|at| now.saturating_duration_since(at) >= SWEEP_EVERY)
        {
            self.swept = Some(now);
            let counts = &mut self.counts;
            self.gates.retain(|_, (index, at)| {
                let keep = now.saturating_duration_since(*at) < GATE_FORGET_AFTER;
                if !keep {
                    counts[*index] -= 1;
                }
                keep
            });
            let gates = &self.gates;
            self.pending.retain(|gate, _| gates.contains_key(gate));
        }
        self.counts
    }
}

/// Counts one RunFunction call by XR kind and whether it ended without a Fatal result.
pub fn record_run(kind: XrKind, ok: bool) {
    RUNS.get_or_create(&RunLabels {
        kind: kind.as_str(),
        outcome: if ok { "ok" } else { "fatal" },
    })
    .inc();
}

impl GateStates {
    /// When the oldest pending gate still known started.
    fn oldest_pending(&self) -> Option<DateTime<Utc>> {
        self.pending.values().min().copied()
    }
}

/// Records the state of the gate identified by `gate` (its namespace/name), started at
/// `start`, at `now`, and refreshes the gates-by-state gauge and the age of the oldest
/// pending gate.
pub fn observe_gate(gate: &str, state: &str, start: DateTime<Utc>, now: DateTime<Utc>) {
    let mut seen = SEEN_GATES.lock().unwrap_or_else(|e| e.into_inner());
    if state == "pending" {
        seen.pending.insert(gate.to_owned(), start);
    }
    let counts = seen.observe(gate, state, Instant::now());
    let oldest = seen.oldest_pending();
    drop(seen);
    OLDEST_PENDING.set(oldest.map_or(0, |s| (now - s).num_seconds().max(0)));
    for (state, count) in STATES.iter().zip(counts) {
        GATES
            .get_or_create(&StateLabels {
                state: (*state).to_owned(),
            })
            .set(count);
    }
}

/// Counts one GitHub HTTP response by status: `200` (any 2xx), `304`, `4xx`, `5xx`, or
/// `error` when no response arrived (timeout, connection failure).
pub fn record_github_response(status: Option<u16>) {
    let outcome = match status {
        Some(304) => "304",
        Some(200..=299) => "200",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
        None => "error",
    };
    GITHUB_REQUESTS
        .get_or_create(&OutcomeLabels { outcome })
        .inc();
}

/// Records GitHub's `x-ratelimit-remaining` from the latest response.
pub fn set_rate_limit_remaining(remaining: i64) {
    RATE_LIMIT_REMAINING.set(remaining);
}

/// Records how long a gate took from its start to the verdict `state`, on the call that
/// decided it.
pub fn observe_decision(state: &str, seconds: f64) {
    DECISIONS
        .get_or_create(&StateLabels {
            state: state.to_owned(),
        })
        .observe(seconds.max(0.0));
}

/// Counts one approval issue opened.
pub fn record_issue_opened() {
    ISSUES_OPENED.inc();
}

/// A registry holding the function's series, for `Server::metrics_registry`.
pub fn registry() -> Registry {
    let mut registry = Registry::with_prefix("release_function");
    registry.register(
        "runs",
        "RunFunction calls by XR kind and outcome",
        RUNS.clone(),
    );
    registry.register(
        "gates",
        "Promotion gates by state, as this replica last saw them",
        GATES.clone(),
    );
    registry.register(
        "github_requests",
        "GitHub API responses by status (200, 304, 4xx, 5xx, error)",
        GITHUB_REQUESTS.clone(),
    );
    registry.register(
        "github_rate_limit_remaining",
        "GitHub's x-ratelimit-remaining on the latest response (-1 before any)",
        RATE_LIMIT_REMAINING.clone(),
    );
    registry.register(
        "approval_issues_opened",
        "Approval issues opened on GitHub",
        ISSUES_OPENED.clone(),
    );
    registry.register(
        "gate_decision_seconds",
        "From a gate's start to its verdict, by verdict, observed on the call that decided it",
        DECISIONS.clone(),
    );
    registry.register(
        "oldest_pending_gate_seconds",
        "Age of the oldest pending gate this replica saw in the last 6 hours (0: none)",
        OLDEST_PENDING.clone(),
    );
    registry
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_oldest_pending_gate_is_one_still_pending_and_still_known() {
        let mut states = GateStates::default();
        let t = Instant::now();
        let day = |d: u32| Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0).unwrap();
        for (gate, start) in [("ns/a", day(1)), ("ns/b", day(2))] {
            states.pending.insert(gate.into(), start);
            states.observe(gate, "pending", t);
        }
        assert_eq!(states.oldest_pending(), Some(day(1)));
        states.observe("ns/a", "approved", t);
        assert_eq!(
            states.oldest_pending(),
            Some(day(2)),
            "decided: no longer pending"
        );
        states.observe("ns/c", "timeout", t + GATE_FORGET_AFTER + SWEEP_EVERY);
        assert_eq!(states.oldest_pending(), None, "forgotten with the gate");
    }

    #[test]
    fn gates_by_state_follow_each_gates_latest_state_and_forget_old_ones() {
        let mut states = GateStates::default();
        let start = Instant::now();
        states.observe("ns/a", "pending", start);
        assert_eq!(states.observe("ns/b", "pending", start), [2, 0, 0, 0]);
        assert_eq!(states.observe("ns/a", "approved", start), [1, 1, 0, 0]);
        assert_eq!(states.observe("ns/a", "approved", start), [1, 1, 0, 0]);
        let later = start + GATE_FORGET_AFTER + Duration::from_secs(1);
        assert_eq!(
            states.observe("ns/c", "rejected", later),
            [0, 0, 1, 0],
            "gates not seen for hours are forgotten"
        );
        assert_eq!(states.gates.len(), 1);
    }

    #[test]
    fn stale_gates_are_swept_once_a_minute_and_a_returning_gate_counts_once() {
        let mut states = GateStates::default();
        let start = Instant::now();
        states.observe("ns/old", "pending", start);
        let stale = start + GATE_FORGET_AFTER;
        // Swept at `stale`: "ns/old" was seen exactly GATE_FORGET_AFTER ago.
        assert_eq!(states.observe("ns/new", "timeout", stale), [0, 0, 0, 1]);
        // Seen again after being forgotten: counted once.
        assert_eq!(
            states.observe("ns/old", "pending", stale + Duration::from_secs(1)),
            [1, 0, 0, 1]
        );
        // Within a minute of the last sweep, nothing is swept even if stale.
        let much_later = stale + GATE_FORGET_AFTER;
        states.swept = Some(much_later);
        assert_eq!(states.observe("ns/x", "approved", much_later), [1, 1, 0, 1]);
        assert_eq!(
            states.observe("ns/x", "approved", much_later + SWEEP_EVERY),
            [0, 1, 0, 0]
        );
    }

    #[test]
    fn an_unknown_state_is_not_counted() {
        let mut states = GateStates::default();
        let now = Instant::now();
        assert_eq!(states.observe("ns/a", "unknown", now), [0, 0, 0, 0]);
        assert!(states.gates.is_empty());
    }

    #[test]
    fn github_responses_are_counted_by_status_class() {
        let count = |o: &'static str| {
            GITHUB_REQUESTS
                .get_or_create(&OutcomeLabels { outcome: o })
                .get()
        };
        let (ok, not_modified, server) = (count("200"), count("304"), count("5xx"));
        record_github_response(Some(201));
        record_github_response(Some(304));
        record_github_response(Some(502));
        // Other tests in this process may count responses too: at least ours were counted.
        assert!(count("200") > ok && count("304") > not_modified && count("5xx") > server);
    }
}
