//! A soak: hundreds of XPromotionGates reconciled over and over through the real server
//! binary against the fake GitHub HTTP server, with seeded random faults (5xx, rate
//! limits, malformed answers, writes that happen but answer 5xx, slow answers and a
//! few past the adapter's timeout), lost status writes and repeated calls, while
//! simulated people approve, reject, close, and try what must not count.
//!
//! Checked on every response: never approved without a quorum of authorized approvers,
//! never rejected without an authorized rejection, never Fatal. Checked at the end,
//! after faults stop: exactly one issue per gate key, every verdict equal to what the
//! people did, one summary comment per verdict, and the server's RSS flat across rounds.
//!
//! The CI run is bounded (`SOAK_GATES`, `SOAK_ROUNDS` default to 150 and 5); the long
//! run: `SOAK_GATES=500 SOAK_ROUNDS=50 cargo test --release --test gate soak -- --nocapture`
//! (`SOAK_SEED` picks another seed, `SOAK_TIMEOUTS` how many answers outlast the
//! adapter's timeout, 1 by default).

use crate::common;
use crate::fake_github;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::wire::{
    self, CredentialData, Credentials, RequestMeta, Resources, RunFunctionRequest,
    RunFunctionResponse, Severity, State, Status,
};
use common::{
    FunctionRunnerServiceClient, connect_insecure, from_struct, resource, start_server, to_struct,
};
use fake_github::{FakeGitHub, Fault, LOGIN, Route, TOKEN};
use function_release_pipeline::gate::key::{GateKey, KeyParts};
use function_release_pipeline::gate::marker;
use serde_json::{Value, json};
use tonic::transport::Channel;

const NAMESPACE: &str = "platform-system";
const TENANT: &str = "my-service";
const LABEL: &str = "release-gate";
/// Listed approvers.
const APPROVERS: [&str; 4] = ["alice", "bob", "carol", "dave"];
/// Listed too, but the requester of every gate, who may not approve.
const REQUESTER: &str = "rita";
/// Not listed.
const STRANGER: &str = "mallory";
/// Parallel reconciles (different gates; one gate is never reconciled twice at once,
/// as Crossplane does not).
const WORKERS: usize = 8;
/// Longer than the adapter's read timeout (10 s), so the request times out.
const SLOW: Duration = Duration::from_secs(12);

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: small, seeded, good enough to pick faults and people's actions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// One gate as the test drives it: what Crossplane holds, and what its people did.
#[derive(Debug, Clone)]
struct Sim {
    name: String,
    artifact: String,
    key: String,
    min_approvals: u32,
    /// The XR status as last written back (a write may be lost).
    status: Option<Value>,
    /// Distinct approvers who gave an approval that counts.
    approvers: BTreeSet<String>,
    /// An authorized rejection was given.
    rejected: bool,
}

impl Sim {
    fn expected(&self) -> &'static str {
        if self.rejected {
            "rejected"
        } else if self.approvers.len() >= self.min_approvals as usize {
            "approved"
        } else {
            "pending"
        }
    }

    fn xr(&self) -> Value {
        let mut xr = json!({
            "apiVersion": "platform.zerotouch.dev/v1alpha1",
            "kind": "XPromotionGate",
            "metadata": {"name": self.name, "namespace": NAMESPACE,
                         "annotations": {"release.zerotouch.dev/requested-by": REQUESTER}},
            "spec": {"tenant": TENANT, "artifact_id": self.artifact,
                     "source_environment": "dev", "target_environment": "staging",
                     "approval_required": true, "timeout_hours": 24},
        });
        if let Some(status) = &self.status {
            xr["status"] = status.clone();
        }
        xr
    }

    fn request(&self, api_url: &str, answered: bool) -> RunFunctionRequest {
        let mut users: Vec<&str> = APPROVERS.to_vec();
        users.push(REQUESTER);
        let input = json!({
            "apiVersion": "release.fn.zerotouch.dev/v1beta1", "kind": "Input",
            // Every call looks at the repository: the rounds follow each other faster
            // than the default half poll interval.
            "github": {"repository": format!("{}/{}", fake_github::OWNER, fake_github::REPO),
                       "apiUrl": api_url, "labels": [LABEL], "lookInterval": "1ms",
                       // Hundreds of one tenant's gates: verdicts, not the write budget.
                       "writesPerNamespacePerHour": 0},
            "approvals": {"users": users, "minApprovals": self.min_approvals},
            "promotion": {"image": "ghcr.io/acme/promoter:v1"},
        });
        let mut req = RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: self.name.clone(),
                ..Default::default()
            }),
            observed: Some(State {
                composite: Some(resource(&self.xr())),
                ..Default::default()
            }),
            desired: Some(State::default()),
            input: Some(to_struct(&input)),
            ..Default::default()
        };
        // The step's credentials, as Crossplane sends them: the server never uses its own
        // environment's token.
        req.credentials.insert(
            "github".into(),
            Credentials {
                source: Some(wire::credentials::Source::CredentialData(CredentialData {
                    data: [("token".to_owned(), TOKEN.as_bytes().to_vec())].into(),
                })),
            },
        );
        if answered {
            req.required_resources.insert(
                "release-pipeline".into(),
                Resources {
                    items: vec![resource(&pipeline_xr())],
                },
            );
        }
        req
    }
}

/// The tenant's XReleasePipeline, which gates read as a required resource.
fn pipeline_xr() -> Value {
    json!({
        "apiVersion": "platform.zerotouch.dev/v1alpha1", "kind": "XReleasePipeline",
        "metadata": {"name": format!("{TENANT}-pipeline"), "namespace": NAMESPACE},
        "spec": {"tenant": TENANT, "environments": ["dev", "staging", "production"]},
    })
}

fn status_of(rsp: &RunFunctionResponse) -> Value {
    rsp.desired
        .as_ref()
        .and_then(|d| d.composite.as_ref())
        .and_then(|c| c.resource.as_ref())
        .map(from_struct)
        .and_then(|v| v.get("status").cloned())
        .unwrap_or(Value::Null)
}

fn has_job(rsp: &RunFunctionResponse) -> bool {
    rsp.desired
        .as_ref()
        .is_some_and(|d| d.resources.contains_key("promotion-job"))
}

/// What must hold of every response for a gate, whatever the faults.
fn check_response(sim: &Sim, rsp: &RunFunctionResponse) -> Result<(), String> {
    if let Some(fatal) = rsp
        .results
        .iter()
        .find(|r| r.severity == Severity::Fatal as i32)
    {
        return Err(format!("{}: a Fatal result: {}", sim.name, fatal.message));
    }
    let status = status_of(rsp);
    let state = status["gate_status"].as_str().unwrap_or("pending");
    let logins: BTreeSet<String> = status["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["login"].as_str())
        .map(str::to_ascii_lowercase)
        .collect();
    if let Some(stray) = logins.iter().find(|l| !sim.approvers.contains(*l)) {
        return Err(format!(
            "{}: counted {stray}, who gave no approval that counts ({:?})",
            sim.name, sim.approvers
        ));
    }
    match state {
        "approved" => {
            if sim.rejected || logins.len() < sim.min_approvals as usize {
                return Err(format!(
                    "{}: approved with {logins:?} of {} needed, rejected: {}",
                    sim.name, sim.min_approvals, sim.rejected
                ));
            }
        }
        "rejected" if !sim.rejected => {
            return Err(format!("{}: rejected without a rejection", sim.name));
        }
        "pending" | "rejected" => {}
        other => return Err(format!("{}: unexpected state {other}", sim.name)),
    }
    // A Job only once approved; an approval runs its Job unless GitHub could not confirm
    // it on this call (the status alone never starts one).
    let synced = rsp
        .conditions
        .iter()
        .any(|c| c.r#type == "ApprovalSynced" && c.status == Status::ConditionTrue as i32);
    if has_job(rsp) && state != "approved" {
        return Err(format!("{}: a Job in state {state}", sim.name));
    }
    if state == "approved" && !has_job(rsp) && synced {
        return Err(format!("{}: approved and synced, but no Job", sim.name));
    }
    Ok(())
}

/// Counters for the report.
#[derive(Debug, Default)]
struct Tally {
    calls: u64,
    lost_writes: u64,
    faults: BTreeMap<String, u64>,
    actions: BTreeMap<&'static str, u64>,
}

/// One reconcile as Crossplane runs it: a first call without the pipeline lookup
/// answered, then one to three calls with it, each from the same observed XR; the last
/// response's status is written back unless the write is lost.
async fn reconcile(
    client: &mut FunctionRunnerServiceClient<Channel>,
    sim: &mut Sim,
    api_url: &str,
    calls: usize,
    lose_write: bool,
) -> Result<(), String> {
    let mut last = None;
    for answered in std::iter::once(false).chain(std::iter::repeat_n(true, calls)) {
        let rsp = client
            .run_function(sim.request(api_url, answered))
            .await
            .map_err(|e| format!("{}: gRPC error {e}", sim.name))?
            .into_inner();
        check_response(sim, &rsp)?;
        last = Some(rsp);
    }
    if !lose_write && let Some(rsp) = last {
        sim.status = Some(status_of(&rsp));
    }
    Ok(())
}

/// Reconciles every gate once, `WORKERS` at a time.
async fn round(
    client: &FunctionRunnerServiceClient<Channel>,
    sims: Vec<Sim>,
    api_url: &str,
    plan: Vec<(usize, bool)>,
) -> Result<Vec<Sim>, String> {
    let queue = Arc::new(Mutex::new(
        sims.into_iter().zip(plan).enumerate().collect::<Vec<_>>(),
    ));
    let done = Arc::new(Mutex::new(Vec::new()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (queue, done, mut client, api_url) = (
            queue.clone(),
            done.clone(),
            client.clone(),
            api_url.to_owned(),
        );
        workers.spawn(async move {
            loop {
                let Some((i, (mut sim, (calls, lose)))) = queue.lock().unwrap().pop() else {
                    return Ok::<(), String>(());
                };
                reconcile(&mut client, &mut sim, &api_url, calls, lose).await?;
                done.lock().unwrap().push((i, sim));
            }
        });
    }
    while let Some(joined) = workers.join_next().await {
        joined.map_err(|e| e.to_string())??;
    }
    let mut done = std::mem::take(&mut *done.lock().unwrap());
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, sim)| sim).collect())
}

/// The function's issues by the gate key in their body.
fn issues_by_key(fake: &FakeGitHub) -> BTreeMap<String, Vec<fake_github::FakeIssue>> {
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for i in fake.issues() {
        let key = marker::markers(&i.body)
            .into_iter()
            .find(|m| !m.contains_key("verdict"))
            .and_then(|m| m.get("key").cloned());
        if let Some(key) = key {
            out.entry(key).or_default().push(i);
        }
    }
    out
}

/// `/approve` or `/reject` as a person might type it.
fn command(rng: &mut Rng, word: &str) -> String {
    let cased: String = word
        .chars()
        .map(|c| {
            if rng.chance(20) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    match rng.below(4) {
        0 => cased,
        1 => format!("  {cased}\t"),
        2 => format!("Checked the release notes.\n{cased}\nThanks"),
        _ => format!("{cased}\r\n"),
    }
}

/// People act on open approval issues: approvers approve (by comment or close) or
/// reject (likewise); the requester, a stranger and the function's own identity try to
/// approve; someone writes `/approve` inside a sentence. Only gates still undecided by
/// what people did are acted on, so the expected verdict is settled once reached.
fn people_act(fake: &FakeGitHub, sims: &mut [Sim], rng: &mut Rng, percent: u64, tally: &mut Tally) {
    let by_key = issues_by_key(fake);
    for sim in sims.iter_mut() {
        if sim.expected() != "pending" || !rng.chance(percent) {
            continue;
        }
        // People answer an issue once the function has bound it to the gate: Crossplane
        // calls a gate whose opening failed again within seconds, while this simulation
        // lets a whole round pass; an issue answered before it was bound is never adopted
        // (see `gate::select`), and the gate asks again on a new one.
        let bound = |i: &&fake_github::FakeIssue| {
            fake.comments(i.number).iter().any(|c| {
                c.user == LOGIN
                    && marker::markers(&c.body)
                        .iter()
                        .any(|m| m.contains_key("bind") && m.get("key") == Some(&sim.key))
            })
        };
        let Some(issue) = by_key.get(&sim.key).and_then(|issues| {
            issues
                .iter()
                .filter(|i| i.user == LOGIN)
                .filter(bound)
                .min_by_key(|i| i.number)
        }) else {
            continue;
        };
        let (number, open) = (issue.number, issue.state == "open");
        let approver = *rng.pick(&APPROVERS);
        let action = match rng.below(100) {
            0..=44 => {
                fake.comment_as(number, approver, &command(rng, "/approve"));
                sim.approvers.insert(approver.to_owned());
                "approve by comment"
            }
            45..=52 => {
                fake.comment_as(number, approver, &command(rng, "/reject"));
                sim.rejected = true;
                "reject by comment"
            }
            53..=62 if open => {
                fake.close_as(number, approver, "completed");
                sim.approvers.insert(approver.to_owned());
                "approve by close"
            }
            63..=66 if open => {
                fake.close_as(number, approver, "not_planned");
                sim.rejected = true;
                "reject by close"
            }
            67..=72 if open => {
                fake.close_as(number, STRANGER, "completed");
                "stranger closes"
            }
            73..=78 => {
                fake.comment_as(number, STRANGER, "/approve");
                "stranger approves"
            }
            79..=84 => {
                fake.comment_as(number, REQUESTER, &command(rng, "/approve"));
                "requester approves"
            }
            85..=88 => {
                fake.comment_as(number, LOGIN, "/approve");
                "the function's identity approves"
            }
            _ => {
                fake.comment_as(number, approver, "I /approve this once the tests pass");
                "approve inside a sentence"
            }
        };
        *tally.actions.entry(action).or_default() += 1;
    }
}

const READS: [Route; 3] = [Route::ListIssues, Route::GetIssue, Route::ListComments];
const WRITES: [Route; 3] = [Route::CreateIssue, Route::UpdateIssue, Route::CreateComment];

/// Replaces the injected faults with a new random set for the next round.
fn inject_faults(fake: &FakeGitHub, rng: &mut Rng, timeouts_left: &mut u64, tally: &mut Tally) {
    fake.clear_faults();
    let all: Vec<Route> = READS.iter().chain(&WRITES).copied().collect();
    for _ in 0..(3 + rng.below(6)) {
        let mut times = 1 + rng.below(8) as usize;
        let (route, fault) = match rng.below(10) {
            0 | 1 => (*rng.pick(&all), Fault::Status(*rng.pick(&[500, 502, 503]))),
            // Rate limits hold every gate on these credentials until they lift: keep
            // them short so rounds still exchange with GitHub.
            2 => (*rng.pick(&all), Fault::RateLimit403 { reset_in: 1 }),
            3 => (*rng.pick(&all), Fault::TooManyRequests { retry_after: 1 }),
            4 | 5 => (
                *rng.pick(&WRITES),
                Fault::AfterEffect(*rng.pick(&[500, 502])),
            ),
            6 => (*rng.pick(&READS), Fault::MalformedJson),
            7 | 8 => (
                *rng.pick(&all),
                Fault::Delay(Duration::from_millis(20 + rng.below(200))),
            ),
            _ if *timeouts_left > 0 => {
                *timeouts_left -= 1;
                times = 1;
                (*rng.pick(&READS), Fault::Delay(SLOW))
            }
            _ => (*rng.pick(&all), Fault::Status(500)),
        };
        let name = match &fault {
            Fault::Delay(d) if *d >= SLOW => "timeout".to_owned(),
            Fault::Delay(_) => "slow answer".to_owned(),
            Fault::Status(s) => format!("status {s}"),
            Fault::AfterEffect(s) => format!("write then {s}"),
            Fault::RateLimit403 { .. } => "rate limit 403".to_owned(),
            Fault::TooManyRequests { .. } => "rate limit 429".to_owned(),
            other => format!("{other:?}"),
        };
        *tally.faults.entry(name).or_default() += times as u64;
        fake.inject(Some(route), fault, Some(times));
    }
}

/// The server's resident set size, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_gates_under_random_faults_reach_exactly_the_verdicts_people_gave() {
    let gates = setting("SOAK_GATES", 150) as usize;
    let rounds = setting("SOAK_ROUNDS", 5);
    let mut timeouts_left = setting("SOAK_TIMEOUTS", 1);
    let mut rng = Rng(setting("SOAK_SEED", 0x5EED_2026).max(1));
    let started = Instant::now();

    let fake = FakeGitHub::start().await;
    // The server decides with the system clock; the fake stamps issues and comments
    // with its own, so start it at the real time.
    fake.advance(chrono::Utc::now() - fake.now());
    let api_url = fake.url();
    let server = start_server(&["--insecure"], &[]);
    let pid = server.child.id();
    let client = connect_insecure(server.port).await;

    let mut sims: Vec<Sim> = (0..gates)
        .map(|i| {
            let name = format!("gate-{i:04}");
            let artifact = format!("ghcr.io/org/my-service:v1.{i}");
            let key = GateKey::of_parts(KeyParts {
                namespace: NAMESPACE,
                name: &name,
                uid: "",
                tenant: TENANT,
                source: "dev",
                target: "staging",
                artifact_id: &artifact,
                change: None,
            })
            .to_string();
            Sim {
                name,
                artifact,
                key,
                min_approvals: 1 + (i % 3) as u32,
                status: None,
                approvers: BTreeSet::new(),
                rejected: false,
            }
        })
        .collect();

    let mut tally = Tally::default();
    let mut rss = Vec::new();
    let mut requests = 0usize;
    let mut fault_answers = 0usize;
    // People act less often in a longer run, so gates stay pending (and polled) to
    // the end instead of all being decided in the first rounds.
    let percent = (150 / rounds.max(1)).clamp(4, 30);
    for r in 0..rounds {
        people_act(&fake, &mut sims, &mut rng, percent, &mut tally);
        inject_faults(&fake, &mut rng, &mut timeouts_left, &mut tally);
        let plan: Vec<(usize, bool)> = (0..gates)
            .map(|_| {
                let calls = 1 + rng.below(3) as usize;
                let lose = rng.chance(20);
                tally.calls += 1 + calls as u64;
                tally.lost_writes += u64::from(lose);
                (calls, lose)
            })
            .collect();
        sims = round(&client, sims, &api_url, plan)
            .await
            .unwrap_or_else(|e| panic!("round {r}: {e}"));
        let seen = fake.seen();
        requests += seen.len();
        fault_answers += seen.iter().filter(|s| s.status >= 400).count();
        fake.clear_seen();
        rss.push(rss_kib(pid));
    }

    // Faults stop; once the last rate limit has lifted (the function waits it out for
    // every gate on these credentials), a few clean reconciles let every gate catch up.
    fake.clear_faults();
    tokio::time::sleep(Duration::from_secs(3)).await;
    for _ in 0..3 {
        let plan = vec![(1, false); gates];
        tally.calls += 2 * gates as u64;
        sims = round(&client, sims, &api_url, plan).await.unwrap();
    }
    requests += fake.seen().len();
    rss.push(rss_kib(pid));

    let by_key = issues_by_key(&fake);
    let mut verdicts: BTreeMap<&str, usize> = BTreeMap::new();
    for sim in &sims {
        let status = sim.status.as_ref().expect("a status was written");
        let state = status["gate_status"].as_str().unwrap_or_default();
        assert_eq!(
            state,
            sim.expected(),
            "{}: people gave {:?} of {} needed, rejected: {}; status {status}; issues {:#?}; comments {:#?}",
            sim.name,
            sim.approvers,
            sim.min_approvals,
            sim.rejected,
            by_key.get(&sim.key),
            by_key.get(&sim.key).map(|is| is
                .iter()
                .map(|i| fake.comments(i.number))
                .collect::<Vec<_>>())
        );
        *verdicts.entry(sim.expected()).or_default() += 1;
        let issues = by_key.get(&sim.key).cloned().unwrap_or_default();
        assert_eq!(
            issues.len(),
            1,
            "{}: one issue per gate key: {issues:#?}",
            sim.name
        );
        let issue = &issues[0];
        assert_eq!(issue.user, LOGIN);
        assert_eq!(status["issue"]["number"], json!(issue.number as f64));
        let summaries = fake
            .comments(issue.number)
            .iter()
            .filter(|c| c.user == LOGIN)
            .flat_map(|c| marker::markers(&c.body))
            .filter(|m| m.contains_key("verdict"))
            .count();
        match state {
            "pending" => {
                assert_eq!(issue.state, "open", "{}", sim.name);
                assert_eq!(summaries, 0, "{}", sim.name);
            }
            decided => {
                assert_eq!(summaries, 1, "{}: one summary comment", sim.name);
                assert_eq!(issue.state, "closed", "{}", sim.name);
                let reason = if decided == "approved" {
                    "completed"
                } else {
                    "not_planned"
                };
                assert_eq!(issue.state_reason.as_deref(), Some(reason), "{}", sim.name);
            }
        }
    }
    assert_eq!(fake.issues().len(), gates, "no issue beyond one per gate");

    // Memory: the server's RSS once every gate has its issue (after the first round)
    // against the end; caches grow with gates, not with rounds.
    let baseline = rss[0];
    let end = *rss.last().unwrap();
    println!(
        "soak: {gates} gates, {rounds} rounds, {} calls, {requests} GitHub requests \
         ({fault_answers} answered with an error), {} lost status writes, in {:.1} s",
        tally.calls,
        tally.lost_writes,
        started.elapsed().as_secs_f64()
    );
    println!("soak: verdicts {verdicts:?}");
    println!("soak: faults injected {:?}", tally.faults);
    println!("soak: people {:?}", tally.actions);
    println!("soak: server RSS KiB per round {rss:?}");
    assert!(
        end <= baseline + baseline / 4 + 8 * 1024,
        "server RSS grew from {baseline} KiB to {end} KiB: {rss:?}"
    );
}
