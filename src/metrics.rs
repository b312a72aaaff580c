//! The function's own Prometheus series, served by the SDK beside its gRPC series.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::input::XrKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    kind: &'static str,
    outcome: &'static str,
}

static RUNS: LazyLock<Family<RunLabels, Counter>> = LazyLock::new(Family::default);

/// Counts one RunFunction call by XR kind and whether it ended without a Fatal result.
pub fn record_run(kind: XrKind, ok: bool) {
    RUNS.get_or_create(&RunLabels {
        kind: kind.as_str(),
        outcome: if ok { "ok" } else { "fatal" },
    })
    .inc();
}

/// A registry holding the function's series, for `Server::metrics_registry`.
pub fn registry() -> Registry {
    let mut registry = Registry::with_prefix("release_function");
    registry.register(
        "runs",
        "RunFunction calls by XR kind and outcome",
        RUNS.clone(),
    );
    registry
}
