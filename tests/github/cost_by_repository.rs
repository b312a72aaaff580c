//! What many pending gates on one approvals repository cost on GitHub, counted against the
//! fake GitHub HTTP server through the server's own connector (rate-limit budget, the
//! repository's shared view, the octocrab adapter), with simulated time: Crossplane calls
//! every pending gate once per poll interval (30 s), spread evenly over the interval.
//!
//! Measured: requests per poll interval while nothing changes, requests in the interval
//! in which one gate is answered, the time from an answer to the gate's decision, and the
//! view's memory. Targets (SPEC §4): a few requests per repository per interval whatever
//! the number of gates, and an answer read within about one interval.
//!
//! The regular tests compare 50 and 200 gates. The 10,000-gate run is a benchmark, run in
//! release and recorded in BENCHMARKS.md:
//!
//! ```text
//! cargo test --release --test github cost_by_repository -- --ignored --nocapture
//! ```

use crate::fake_github;
use crate::workloads;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use fake_github::{FakeGitHub, Route, Seen, TOKEN};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::view::Views;
use function_sdk_rust::proto::v1::{RunFunctionRequest, RunFunctionResponse};
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use serde_json::Value;

/// The Input's default poll interval, in seconds.
const POLL_SECS: i64 = 30;

fn desired_status(rsp: &RunFunctionResponse) -> Value {
    let composite = rsp.desired.as_ref().unwrap().composite.as_ref().unwrap();
    struct_to_json(composite.resource.as_ref().unwrap())["status"].clone()
}

/// One replica serving `gates` pending gates on one repository.
pub(crate) struct Replica {
    pub(crate) fake: FakeGitHub,
    function: ReleaseFunction,
    pub(crate) view: Arc<Views>,
    clock: Arc<Mutex<DateTime<Utc>>>,
    gates: Vec<RunFunctionRequest>,
    /// Each gate's status as last written.
    pub(crate) statuses: Vec<Value>,
}

impl Replica {
    pub(crate) async fn start(gates: usize) -> Replica {
        let fake = FakeGitHub::start().await;
        let clock = Arc::new(Mutex::new(fake.now()));
        let read = clock.clone();
        let repos = function_release_pipeline::gate::server_repos(
            function_release_pipeline::memory::CEILING,
        );
        let view = repos.views().expect("the server keeps views").clone();
        let function = ReleaseFunction::with_repos(repos, Arc::new(move || *read.lock().unwrap()));
        let gates: Vec<RunFunctionRequest> = (0..gates)
            .map(|i| workloads::pending_gate(&fake.url(), &format!("gate-{i:05}"), TOKEN))
            .collect();
        let statuses = vec![Value::Null; gates.len()];
        Replica {
            fake,
            function,
            view,
            clock,
            gates,
            statuses,
        }
    }

    /// Every gate names `revision` of `repository` as its change.
    fn name_change(&mut self, repository: &str, revision: &str) {
        for gate in &mut self.gates {
            let composite = gate.observed.as_mut().unwrap().composite.as_mut().unwrap();
            let mut xr = struct_to_json(composite.resource.as_ref().unwrap());
            xr["spec"]["change"] =
                serde_json::json!({"repository": repository, "revision": revision});
            composite.resource = xr.as_object().map(json_to_struct);
        }
    }

    fn now(&self) -> DateTime<Utc> {
        *self.clock.lock().unwrap()
    }

    fn set_now(&self, at: DateTime<Utc>) {
        *self.clock.lock().unwrap() = at;
    }

    /// Calls gate `i`, writing back the status it desires.
    async fn call(&mut self, i: usize) -> Value {
        let rsp = self.function.run(&self.gates[i]).await;
        let status = desired_status(&rsp);
        let composite = self.gates[i]
            .observed
            .as_mut()
            .unwrap()
            .composite
            .as_mut()
            .unwrap();
        let mut xr = struct_to_json(composite.resource.as_ref().unwrap());
        xr["status"] = status.clone();
        composite.resource = xr.as_object().map(json_to_struct);
        self.statuses[i] = status.clone();
        status
    }

    /// One poll interval from `start`: every gate called once, evenly spread; with
    /// `answer: (i, n)`, alice answers `/approve` on issue `n` just before gate `i` is
    /// called. Returns the requests.
    pub(crate) async fn interval(
        &mut self,
        start: DateTime<Utc>,
        answer: Option<(usize, u64)>,
    ) -> Vec<Seen> {
        self.fake.clear_seen();
        let n = self.gates.len();
        for i in 0..n {
            let offset = TimeDelta::milliseconds(POLL_SECS * 1000 * i as i64 / n as i64);
            self.set_now(start + offset);
            if let Some((at, number)) = answer
                && at == i
            {
                self.fake.comment_as(number, "alice", "/approve");
            }
            self.call(i).await;
        }
        self.set_now(start + TimeDelta::seconds(POLL_SECS));
        let seen = self.fake.seen();
        self.fake.clear_seen();
        seen
    }

    /// The replica restarts: a new function with empty views serves the same gates.
    fn restart(&mut self) {
        self.restart_with(function_release_pipeline::memory::CEILING);
    }

    /// Restarts the replica with views of at most `budget` bytes.
    pub(crate) fn restart_with(&mut self, budget: usize) {
        let read = self.clock.clone();
        let repos = function_release_pipeline::gate::server_repos(budget);
        self.view = repos.views().expect("the server keeps views").clone();
        self.function = ReleaseFunction::with_repos(repos, Arc::new(move || *read.lock().unwrap()));
    }

    /// Opens every gate's issue, then polls until the feeds have settled.
    pub(crate) async fn warm_up(&mut self) -> DateTime<Utc> {
        let mut start = self.now();
        for _ in 0..4 {
            self.interval(start, None).await;
            start += TimeDelta::seconds(POLL_SECS);
        }
        assert_eq!(
            self.fake.issues().len(),
            self.gates.len(),
            "one issue per gate"
        );
        start
    }
}

/// What one run measured.
struct Costs {
    gates: usize,
    unchanged: Vec<usize>,
    /// Requests an answer costs, from the answer to its decision, beyond the looks.
    answered: usize,
    /// Of all requests from the answer to the decision, those counted by the rate limit.
    answered_counted: usize,
    latency_secs: Vec<f64>,
    view_bytes: usize,
}

/// Warms up, polls `quiet` unchanged intervals, then answers `answers` gates one at a time
/// at spread times and measures the time to each decision.
async fn measure(gates: usize, quiet: usize, answers: usize) -> Costs {
    let mut r = Replica::start(gates).await;
    let mut start = r.warm_up().await;
    let mut unchanged = Vec::new();
    for _ in 0..quiet {
        let seen = r.interval(start, None).await;
        assert!(
            r.statuses.iter().all(|s| s["gate_status"] == "pending"),
            "every gate stays pending"
        );
        unchanged.push(seen.len());
        start += TimeDelta::seconds(POLL_SECS);
    }
    let quiet_cost = unchanged.iter().copied().max().unwrap_or(0);
    let mut answered = 0;
    let mut answered_counted = 0;
    let mut latency_secs = Vec::new();
    for a in 0..answers {
        // The answered gate, and when in the interval the answer comes, vary.
        let gate = (a * 7919 + 13) % gates;
        let when = (a * 3571 + 101) % gates;
        let number = r.statuses[gate]["issue"]["number"].as_f64().unwrap() as u64;
        let mut answered_at = None;
        let mut first = true;
        loop {
            let act = if first {
                let offset = POLL_SECS * 1000 * when as i64 / gates as i64;
                answered_at = Some(start + TimeDelta::milliseconds(offset));
                Some((when, number))
            } else {
                None
            };
            let seen = r.interval(start, act).await;
            first = false;
            // Beyond the looks an unchanged interval sends.
            answered += seen.len().saturating_sub(quiet_cost);
            answered_counted += seen.iter().filter(|s| s.status != 304).count();
            let decided_in = start + TimeDelta::seconds(POLL_SECS);
            start += TimeDelta::seconds(POLL_SECS);
            if r.statuses[gate]["gate_status"] == "approved" {
                // The gate's call in that interval took the decision.
                let called = decided_in - TimeDelta::seconds(POLL_SECS)
                    + TimeDelta::milliseconds(POLL_SECS * 1000 * gate as i64 / gates as i64);
                let latency = called - answered_at.unwrap();
                latency_secs.push(latency.num_milliseconds() as f64 / 1000.0);
                break;
            }
            assert!(
                start - answered_at.unwrap() < TimeDelta::seconds(5 * POLL_SECS),
                "gate {gate} did not read its answer within five intervals"
            );
        }
    }
    Costs {
        gates,
        unchanged,
        answered: answered / answers.max(1),
        answered_counted: answered_counted / answers.max(1),
        latency_secs,
        view_bytes: r.view.bytes(),
    }
}

fn print(c: &Costs, wall: f64) {
    let mean = c.latency_secs.iter().sum::<f64>() / c.latency_secs.len().max(1) as f64;
    let max = c.latency_secs.iter().copied().fold(0.0, f64::max);
    println!(
        "{} pending gates on one repository, poll interval {POLL_SECS}s: \
         unchanged intervals {:?} requests; one answer: {} requests beyond the looks ({} counted), \
         answer to decision: mean {mean:.1}s, max {max:.1}s over {} answers; view {} KiB; \
         {wall:.1}s of wall time",
        c.gates,
        c.unchanged,
        c.answered,
        c.answered_counted,
        c.latency_secs.len(),
        c.view_bytes / 1024,
    );
}

#[tokio::test]
async fn the_cost_of_an_unchanged_repository_does_not_grow_with_its_gates() {
    let few = measure(50, 3, 2).await;
    let many = measure(200, 3, 2).await;
    print(&few, 0.0);
    print(&many, 0.0);
    // Two looks per interval (the view may be half an interval old), two conditional
    // requests each, whatever the number of gates.
    assert!(few.unchanged.iter().all(|n| *n <= 4), "{:?}", few.unchanged);
    assert_eq!(few.unchanged, many.unchanged);
    // One answer costs its gate's reads and the verdict's writes, not more with more gates.
    assert!(
        many.answered <= few.answered + 2,
        "{} vs {}",
        many.answered,
        few.answered
    );
    // An answer is read within one and a half intervals at most.
    for c in [&few, &many] {
        assert!(
            c.latency_secs.iter().all(|s| *s <= 1.5 * POLL_SECS as f64),
            "{:?}",
            c.latency_secs
        );
    }
}

/// Gates that name a change read it once for all of them (the replica remembers what it
/// read of a source repository, per credentials, for an hour): the commit and its pull
/// requests once, and an unchanged interval costs what it costs without changes.
#[tokio::test]
async fn gates_naming_a_change_read_it_once_for_all() {
    let gates = 50;
    let mut r = Replica::start(gates).await;
    let sha = r
        .fake
        .push_commit("org/my-service", "Release 2.0", Some("carol"), None);
    r.name_change("org/my-service", &sha);
    let mut start = r.now();
    let (mut commits, mut queries) = (0, 0);
    let mut unchanged = Vec::new();
    for i in 0..7 {
        let seen = r.interval(start, None).await;
        start += TimeDelta::seconds(POLL_SECS);
        let count = |route: Route| seen.iter().filter(|s| s.route == route).count();
        commits += count(Route::Commit);
        queries += count(Route::Graphql);
        if i >= 4 {
            unchanged.push(seen.len());
        }
    }
    println!(
        "{gates} pending gates naming one change: {commits} commit read and {queries} GraphQL queries (the edits of issues read fresh and the pull requests) in 7 intervals; the last three intervals {unchanged:?} requests"
    );
    assert_eq!(
        commits, 1,
        "the change is read once for all the gates, within the hour"
    );
    assert!(unchanged.iter().all(|n| *n <= 4), "{unchanged:?}");
}

/// After warming up and an hour of quiet, the replica restarts: the requests of each
/// interval until they are back to an unchanged interval's, and whether every gate stayed
/// pending (none decided by the restart).
async fn measure_restart(gates: usize) -> Vec<usize> {
    let mut r = Replica::start(gates).await;
    let mut start = r.warm_up().await;
    // The requests are an hour old when the replica restarts (the fake dates what it is
    // sent by a clock of its own, which its writes move on).
    start = start.max(r.fake.now()) + TimeDelta::hours(1);
    r.restart();
    let mut intervals = Vec::new();
    for _ in 0..4 {
        let seen = r.interval(start, None).await;
        assert!(
            r.statuses.iter().all(|s| s["gate_status"] == "pending"),
            "every gate stays pending"
        );
        intervals.push(seen.len());
        start += TimeDelta::seconds(POLL_SECS);
    }
    intervals
}

/// A restarted replica catches up from the repository's listing, comments and issue
/// events: the open requests' reads come from them, not from each gate (three requests
/// each before), about one request per ten gates, and the interval after is back to an
/// unchanged one's.
#[tokio::test]
async fn a_restart_catches_up_from_the_repository_s_listing_and_comments() {
    let gates = 200;
    let intervals = measure_restart(gates).await;
    println!("{gates} pending gates, restarted: requests per interval {intervals:?}");
    assert!(
        intervals[0] <= gates / 10 + 10,
        "{intervals:?}: the listings, not the gates' own reads"
    );
    assert!(intervals[1..].iter().all(|n| *n <= 4), "{intervals:?}");
}

#[tokio::test]
#[ignore = "a benchmark: run in release, see the module documentation"]
async fn ten_thousand_pending_gates_restart() {
    let gates = std::env::var("COST_GATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let started = Instant::now();
    let intervals = measure_restart(gates).await;
    println!(
        "{gates} pending gates, restarted: requests per interval {intervals:?}; {:.1}s of wall time",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
#[ignore = "a benchmark: run in release, see the module documentation"]
async fn ten_thousand_pending_gates_on_one_repository() {
    let gates = std::env::var("COST_GATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let started = Instant::now();
    let costs = measure(gates, 4, 5).await;
    print(&costs, started.elapsed().as_secs_f64());
    let rss = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(str::to_owned)
        .unwrap_or_default();
    println!("process peak memory (function and fake GitHub together): {rss}");
}
