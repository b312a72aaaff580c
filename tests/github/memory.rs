//! A restarted replica's memory under padded comments, against the shipped limit: every
//! pending gate's issue carries comments of the largest size GitHub takes (65,536
//! characters) by someone who is not the function, pasted logs with no answer in them.
//! The replica restarts with the views' budget the shipped limit gives (128 MiB: 44 MiB)
//! and catches up; measured by a counting allocator: the heap the replica holds after two
//! poll intervals (views, ETag cache, clients), the peak (the fake GitHub's answers
//! included) and the bytes the views count. A benchmark, run in release and recorded in
//! BENCHMARKS.md:
//!
//! ```text
//! cargo test --release --test github padded_comments -- --ignored --nocapture
//! ```

use std::time::Instant;

use chrono::TimeDelta;
use peak_alloc::PeakAlloc;

use crate::cost_by_repository::Replica;

/// The allocator, counting the bytes held and their peak.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

const MIB: f64 = (1 << 20) as f64;

#[tokio::test]
#[ignore = "a benchmark: run in release, see the module documentation"]
async fn padded_comments_under_the_shipped_limit() {
    let gates: usize = std::env::var("MEMORY_GATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let per_issue = 2;
    let limit = 128u64 << 20;
    let budget = function_release_pipeline::memory::view_budget(Some(limit), None);
    let mut r = Replica::start(gates).await;
    let mut start = r.warm_up().await;
    let log = "2026-12-07T01:00:00Z INFO step 12 finished: artifact digest sha256:0123\n";
    let padded: String = log.repeat(65_536 / log.len());
    for issue in r.fake.issues() {
        for _ in 0..per_issue {
            r.fake.comment_as(issue.number, "alice", &padded);
        }
    }
    start = start.max(r.fake.now()) + TimeDelta::hours(1);
    r.restart_with(budget);
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let started = Instant::now();
    let mut requests = Vec::new();
    for _ in 0..2 {
        requests.push(r.interval(start, None).await.len());
        start += TimeDelta::seconds(30);
    }
    let held = ALLOCATOR.current_usage().saturating_sub(before);
    let peak = ALLOCATOR.peak_usage().saturating_sub(before);
    assert!(r.statuses.iter().all(|s| s["gate_status"] == "pending"));
    println!(
        "{gates} pending gates, {per_issue} comments of {} KiB each by others ({:.0} MiB of \
         comments), views' budget {:.0} MiB (shipped limit {:.0} MiB): requests per interval \
         {requests:?}; views count {:.1} MiB; heap held after catching up {:.1} MiB, peak \
         {:.1} MiB above the start (the fake's answers included); {:.1}s of wall time",
        padded.len() / 1024,
        (gates * per_issue * padded.len()) as f64 / MIB,
        budget as f64 / MIB,
        limit as f64 / MIB,
        r.view.bytes() as f64 / MIB,
        held as f64 / MIB,
        peak as f64 / MIB,
        started.elapsed().as_secs_f64(),
    );
}
