//! A fixed amount of in-process work for instruction-count profiling: RunFunction on
//! one workload, a given number of times, with nothing else in the process worth
//! counting (no statistics, no timing). Counts are repeatable, unlike timings:
//!
//! `valgrind --tool=callgrind target/release/deps/profile-* [workload] [iterations] [mode]`
//!
//! Workloads are those of `tests/common/workloads.rs` (`pipeline`, `decided_gate`).
//! Modes: `call` (default) runs RunFunction on a decoded request; `wire` also does what
//! the server does around it — decode the request from its protobuf bytes, encode the
//! response, drop both; `baseline` does that wire work around a RunFunction that returns
//! the request's desired state untouched (the load generator's baseline server).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::FakeConnector;
use function_sdk_rust::proto::v1::RunFunctionRequest;
use prost::Message;

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
    let mode = args.get(2).map(String::as_str).unwrap_or("call");
    let (_, workload) = workloads::all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("unknown workload {name:?}"));
    let req = workload.to_request("profile");
    let bytes = req.encode_to_vec();
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut out = 0;
    for _ in 0..iterations {
        out += match mode {
            "call" => runtime
                .block_on(function.run(std::hint::black_box(&req)))
                .results
                .len(),
            "wire" => {
                let req = RunFunctionRequest::decode(std::hint::black_box(&bytes[..])).unwrap();
                runtime.block_on(function.run(&req)).encode_to_vec().len()
            }
            "baseline" => {
                let req = RunFunctionRequest::decode(std::hint::black_box(&bytes[..])).unwrap();
                function_sdk_rust::response::to(&req, function_sdk_rust::response::DEFAULT_TTL)
                    .encode_to_vec()
                    .len()
            }
            other => panic!("unknown mode {other:?}: call, wire or baseline"),
        };
    }
    println!("{name} ({mode}): {iterations} iterations, {out}");
}
