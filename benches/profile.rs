//! A fixed amount of in-process work for instruction-count profiling: RunFunction on
//! one workload, a given number of times, with nothing else in the process worth
//! counting (no statistics, no timing). Counts are repeatable, unlike timings:
//!
//! `valgrind --tool=callgrind target/release/deps/profile-* [workload] [iterations]`
//!
//! Workloads are those of `tests/common/workloads.rs` (`pipeline`, `decided_gate`).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::FakeConnector;

#[path = "../tests/common/workloads.rs"]
mod workloads;

fn main() {
    // `cargo bench` passes `--bench`; only plain arguments choose the work.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let name = args.first().map(String::as_str).unwrap_or("pipeline");
    let iterations: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let (_, workload) = workloads::all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("unknown workload {name:?}"));
    let req = workload.to_request("profile");
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut results = 0;
    for _ in 0..iterations {
        let rsp = runtime.block_on(function.run(std::hint::black_box(&req)));
        results += rsp.results.len();
    }
    println!("{name}: {iterations} RunFunction calls, {results} results");
}
