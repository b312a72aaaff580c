//! What a gate costs on GitHub, counted against the fake GitHub HTTP server through the
//! server's own connector (the octocrab adapter behind the repository's shared view): an hour of polling at the default 30 s poll interval (120 calls
//! of RunFunction), by request and status. Only answers other than 304 count against
//! GitHub's rate limit. Targets: at most 2 counted requests per pending gate per hour once
//! its issue is open and unchanged, and none for a decided gate.
//!
//! The counts are deterministic; `--nocapture` prints them.

use crate::fake_github;
use crate::workloads;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use fake_github::{FakeGitHub, LOGIN, Route, Seen, TOKEN};
use function_release_pipeline::function::ReleaseFunction;
use function_sdk_rust::proto::v1::{RunFunctionRequest, RunFunctionResponse};
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use serde_json::Value;

/// The Input's default poll interval.
const POLL: TimeDelta = TimeDelta::seconds(30);
/// Polls in one hour at the default interval.
const POLLS_PER_HOUR: usize = 120;
/// Requests one token may make per hour.
const HOURLY_QUOTA: usize = 5000;

/// The XR status a response desires.
fn desired_status(rsp: &RunFunctionResponse) -> Value {
    let composite = rsp.desired.as_ref().unwrap().composite.as_ref().unwrap();
    struct_to_json(composite.resource.as_ref().unwrap())["status"].clone()
}

/// Crossplane's side: the function, and the XR whose status it writes back each call.
struct Poller {
    fake: FakeGitHub,
    function: ReleaseFunction,
    clock: Arc<Mutex<DateTime<Utc>>>,
    req: RunFunctionRequest,
}

impl Poller {
    async fn start() -> Poller {
        let fake = FakeGitHub::start().await;
        let clock = Arc::new(Mutex::new(fake.now()));
        let read = clock.clone();
        // The server's own connector: rate-limit budget, the repository's shared view,
        // the octocrab adapter.
        let function = ReleaseFunction::with_repos(
            function_release_pipeline::gate::server_repos(
                function_release_pipeline::memory::CEILING,
            ),
            Arc::new(move || *read.lock().unwrap()),
        );
        let req = workloads::pending_gate(&fake.url(), "cost", TOKEN);
        Poller {
            fake,
            function,
            clock,
            req,
        }
    }

    /// One call, after which the XR's status is what the call desired and Crossplane
    /// observes the composed resources it desired.
    async fn poll(&mut self) -> Value {
        let rsp = self.function.run(&self.req).await;
        assert!(
            rsp.results.iter().all(|r| r.severity == 3),
            "only Normal results expected: {:?}",
            rsp.results
        );
        let status = desired_status(&rsp);
        let composite = self
            .req
            .observed
            .as_mut()
            .unwrap()
            .composite
            .as_mut()
            .unwrap();
        let mut xr = struct_to_json(composite.resource.as_ref().unwrap());
        xr["status"] = status.clone();
        composite.resource = xr.as_object().map(json_to_struct);
        let observed = self.req.observed.as_mut().unwrap();
        for (name, resource) in rsp.desired.iter().flat_map(|d| &d.resources) {
            observed.resources.insert(name.clone(), resource.clone());
        }
        status
    }

    /// Moves both clocks on by one poll interval.
    fn wait(&self) {
        *self.clock.lock().unwrap() += POLL;
        self.fake.advance(POLL);
    }

    /// The requests since the last call, forgetting them.
    fn take(&self) -> Vec<Seen> {
        let seen = self.fake.seen();
        self.fake.clear_seen();
        seen
    }
}

/// Requests by `METHOD route status`, and how many count against the rate limit.
fn tally(seen: &[Seen]) -> (BTreeMap<String, usize>, usize) {
    let mut by = BTreeMap::new();
    for s in seen {
        *by.entry(format!("{} {:?} {}", s.method, s.route, s.status))
            .or_default() += 1;
    }
    (by, seen.iter().filter(|s| s.status != 304).count())
}

fn report(phase: &str, seen: &[Seen]) -> usize {
    let (by, counted) = tally(seen);
    println!(
        "{phase}: {} requests, {counted} counted against the rate limit",
        seen.len()
    );
    for (what, n) in by {
        println!("    {n:>4}  {what}");
    }
    counted
}

#[tokio::test]
async fn an_open_unchanged_pending_gate_costs_at_most_two_counted_requests_per_hour() {
    let mut p = Poller::start().await;

    let status = p.poll().await;
    assert_eq!(status["gate_status"], "pending");
    assert_eq!(p.fake.issues().len(), 1, "the first poll opens the issue");
    let opening = report("first poll (opens the issue)", &p.take());

    p.wait();
    p.poll().await;
    let first_after = report("first poll after opening", &p.take());

    let mut hour = Vec::new();
    for _ in 0..POLLS_PER_HOUR {
        p.wait();
        let status = p.poll().await;
        assert_eq!(status["gate_status"], "pending");
        hour.extend(p.take());
    }
    let counted = report(
        &format!("next hour ({POLLS_PER_HOUR} polls, issue open and unchanged)"),
        &hour,
    );
    assert_eq!(p.fake.issues().len(), 1, "no other issue was opened");
    assert!(
        counted <= 2,
        "an open, unchanged pending gate made {counted} counted requests in an hour: {:?}",
        tally(&hour).0
    );

    // With nothing counted once the issue is open, the quota goes on new gates.
    let first_hour = opening + first_after + counted;
    println!(
        "one token's {HOURLY_QUOTA} requests/hour: {counted} per open unchanged pending gate per hour; \
         a new gate costs {first_hour} in its first hour, so {} new gates per hour",
        HOURLY_QUOTA / first_hour
    );
}

#[tokio::test]
async fn a_decided_gate_makes_no_github_request() {
    let mut p = Poller::start().await;
    p.poll().await;
    let number = p.fake.issues()[0].number;
    p.wait();
    p.poll().await;
    p.fake.comment_as(number, "alice", "/approve");
    p.take();

    p.wait();
    let status = p.poll().await;
    assert_eq!(status["gate_status"], "approved");
    assert_eq!(status["approver"], "alice");
    report("the poll that reads the approval", &p.take());

    // Crossplane observes the Job: the function records on the issue that it started.
    p.wait();
    let status = p.poll().await;
    assert!(status["promotion"]["started_at"].is_string(), "{status}");
    let started = p.take();
    report("the poll that sees the Job start", &started);
    assert_eq!(
        started
            .iter()
            .filter(|s| s.route == Route::CreateComment)
            .count(),
        1,
        "one comment records the start: {started:?}"
    );
    assert_eq!(
        started.iter().filter(|s| s.route == Route::Graphql).count(),
        1,
        "one GraphQL query reads the recorded edits of the issue's comments: {started:?}"
    );

    let mut hour = Vec::new();
    for _ in 0..POLLS_PER_HOUR {
        p.wait();
        let status = p.poll().await;
        assert_eq!(status["gate_status"], "approved");
        hour.extend(p.take());
    }
    report(
        &format!("next hour ({POLLS_PER_HOUR} polls, decided)"),
        &hour,
    );
    assert!(hour.is_empty(), "a decided gate called GitHub: {hour:?}");
    assert!(
        p.fake.comments(number).iter().any(|c| c.user == LOGIN),
        "the verdict was written on the issue"
    );
}
