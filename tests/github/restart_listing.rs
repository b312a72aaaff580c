//! A replica restarted on a long history: the function's issues in the approvals
//! repository listed page by page, each page taking as long as GitHub's list endpoint
//! does, each call cut at Crossplane's deadline. Measured: the calls, requests and time
//! until a new gate on that repository has its issue (which needs the whole listing), and
//! that no page is read twice beyond the one a cancelled call waited for. Recorded in
//! BENCHMARKS.md:
//!
//! ```text
//! cargo test --release --test github restart_listing -- --ignored --nocapture
//! ```

use crate::fake_github;
use crate::workloads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use fake_github::{FakeGitHub, Fault, LOGIN, Route, TOKEN};
use function_release_pipeline::function::ReleaseFunction;
use function_sdk_rust::resource::struct_to_json;

/// The function's issues: 200 pages of 100.
const ISSUES: usize = 20_000;
/// GitHub's time for one page of 100 issues (measured on api.github.com: 0.3-0.6 s).
const PAGE_LATENCY: Duration = Duration::from_millis(300);
/// Crossplane v1.17 and v1.18 give each call 10 s.
const CALL_DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
#[ignore = "benchmark: cargo test --release --test github restart_listing -- --ignored --nocapture"]
async fn a_restart_on_20000_issues_with_slow_pages_lists_across_calls() {
    let fake = FakeGitHub::start().await;
    for i in 0..ISSUES {
        let number = fake.open_issue_as(
            LOGIN,
            &format!("Promote an earlier artifact ({i})"),
            "An earlier request.",
            &["release-gate"],
        );
        fake.backdate(number, TimeDelta::days(30));
    }
    fake.inject(Some(Route::ListIssues), Fault::Delay(PAGE_LATENCY), None);
    fake.clear_seen();
    let repos =
        function_release_pipeline::gate::server_repos(function_release_pipeline::memory::CEILING);
    let function = ReleaseFunction::with_repos(repos, Arc::new(Utc::now));
    let gate = workloads::pending_gate(&fake.url(), "gate-new", TOKEN);
    let started = Instant::now();
    let mut calls = 0;
    let mut cut = 0;
    let number = loop {
        calls += 1;
        assert!(calls <= 20, "the listing never ends");
        let Ok(rsp) = tokio::time::timeout(CALL_DEADLINE, function.run(&gate)).await else {
            cut += 1;
            continue;
        };
        let composite = rsp.desired.as_ref().unwrap().composite.as_ref().unwrap();
        let status = struct_to_json(composite.resource.as_ref().unwrap())["status"].clone();
        if let Some(number) = status["issue"]["number"].as_f64() {
            break number as u64;
        }
    };
    let elapsed = started.elapsed();
    let pages = fake.count(Route::ListIssues);
    let requests = fake.seen().len();
    println!(
        "{ISSUES} issues, {} ms a page, {} s a call: the gate's issue #{number} after {calls} calls ({cut} cut at the deadline), {:.1} s; {pages} listing requests (the changed-issues feed included), {requests} requests in all",
        PAGE_LATENCY.as_millis(),
        CALL_DEADLINE.as_secs(),
        elapsed.as_secs_f64()
    );
    assert_eq!(number, ISSUES as u64 + 1);
    // 200 pages, the one each cut call waited for, and the feed of changed issues.
    assert!(pages <= 200 + cut + 2, "{pages} listing requests");
}
