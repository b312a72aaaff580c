//! XPromotionGate under Crossplane's calling pattern: up to six calls per reconcile,
//! the first without the pipeline lookup answered, and a status write that may be lost.
//! GitHub is the in-memory fake, whose recorded calls are asserted.

use crate::common::ResponseExt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::{Call, FakeConnector, FakeGitHub};
use function_release_pipeline::github::{CloseReason, GitHubError, IssueState};
use function_sdk_rust::proto::v1::{
    RequestMeta, Resource, Resources, RunFunctionRequest, RunFunctionResponse, Severity, State,
    Status,
};
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use serde_json::{Value, json};

const NAMESPACE: &str = "platform-system";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn xr(status: Option<Value>) -> Value {
    let mut xr = json!({
        "apiVersion": "platform.zerotouch.dev/v1alpha1",
        "kind": "XPromotionGate",
        "metadata": {"name": "my-service-dev-to-staging", "namespace": NAMESPACE,
                     "annotations": {"release.zerotouch.dev/requested-by": "rita"}},
        "spec": {"tenant": "my-service", "artifact_id": "ghcr.io/org/my-service:main-abc123",
                 "source_environment": "dev", "target_environment": "staging",
                 "approval_required": false, "timeout_hours": 24},
    });
    if let Some(status) = status {
        xr["status"] = status;
    }
    xr
}

fn input() -> Value {
    json!({
        "apiVersion": "release.fn.zerotouch.dev/v1beta1", "kind": "Input",
        "github": {"repository": "acme/release-approvals", "pollInterval": "30s"},
        "approvals": {"users": ["alice", "bob"], "minApprovals": 1},
        "promotion": {"image": "ghcr.io/acme/promoter:v1"},
    })
}

/// The tenant's XReleasePipeline with `rule` from dev to staging.
fn pipeline_xr(rule: &str) -> Value {
    json!({
        "apiVersion": "platform.zerotouch.dev/v1alpha1", "kind": "XReleasePipeline",
        "metadata": {"name": "my-service-pipeline", "namespace": NAMESPACE},
        "spec": {"tenant": "my-service", "environments": ["dev", "staging", "production"],
                 "promotionRules": {"dev_to_staging": rule, "staging_to_production": "manual"}},
    })
}

fn resource(value: &Value) -> Resource {
    Resource {
        resource: Some(json_to_struct(value.as_object().unwrap())),
        ..Default::default()
    }
}

/// Where the pipeline lookup is answered, if at all.
#[derive(Clone, Copy)]
enum Answer {
    None,
    Required,
    Extra,
}

fn request(xr: &Value, answer: Answer, pipeline: Option<&Value>) -> RunFunctionRequest {
    let resources = Resources {
        items: pipeline.into_iter().map(resource).collect(),
    };
    let mut req = RunFunctionRequest {
        meta: Some(RequestMeta {
            tag: "t".into(),
            ..Default::default()
        }),
        observed: Some(State {
            composite: Some(resource(xr)),
            ..Default::default()
        }),
        desired: Some(State::default()),
        input: Some(json_to_struct(input().as_object().unwrap())),
        ..Default::default()
    };
    match answer {
        Answer::None => {}
        Answer::Required => {
            req.required_resources
                .insert("release-pipeline".into(), resources);
        }
        Answer::Extra => {
            req.extra_resources
                .insert("release-pipeline".into(), resources);
        }
    }
    req
}

struct World {
    fake: FakeGitHub,
    connector: FakeConnector,
}

impl World {
    fn new() -> Self {
        let fake = FakeGitHub::new("release-bot");
        World {
            connector: FakeConnector::new(fake.clone()),
            fake,
        }
    }

    async fn run(&self, req: &RunFunctionRequest, now: DateTime<Utc>) -> RunFunctionResponse {
        self.fake.set_now(now);
        ReleaseFunction::new(Arc::new(self.connector.clone()), Arc::new(move || now))
            .with_env_token(Some("test-token".into()))
            .run(req)
            .await
    }

    /// One reconcile as Crossplane runs it: the first call without the lookup
    /// answered, then five more with it, each from the same observed XR.
    async fn reconcile(
        &self,
        xr: &Value,
        pipeline: &Value,
        now: DateTime<Utc>,
    ) -> RunFunctionResponse {
        let mut last = self
            .run(&request(xr, Answer::None, Some(pipeline)), now)
            .await;
        for _ in 0..5 {
            last = self
                .run(&request(xr, Answer::Required, Some(pipeline)), now)
                .await;
        }
        last
    }

    fn opened(&self) -> usize {
        self.fake
            .calls()
            .iter()
            .filter(|c| matches!(c, Call::OpenIssue(_)))
            .count()
    }
}

#[tokio::test]
async fn six_calls_per_reconcile_with_status_dropped_open_exactly_one_issue() {
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    for hour in 6..9 {
        let rsp = world
            .reconcile(
                &xr(None),
                &pipeline,
                at(&format!("2026-03-01T{hour:02}:00:00Z")),
            )
            .await;
        assert_eq!(rsp.status()["issue"]["number"], 1.0);
    }
    assert_eq!(world.opened(), 1, "{:#?}", world.fake.calls());
    assert_eq!(world.fake.issues().len(), 1);
    assert!(
        world.fake.calls().iter().all(|c| !c.is_write()
            || matches!(c, Call::OpenIssue(_))
            || matches!(c, Call::AddComment(1, body) if body.contains("release-gate:bind "))),
        "only the one open and its binding wrote: {:#?}",
        world.fake.calls()
    );
}

#[tokio::test]
async fn the_first_call_asks_for_the_pipeline_and_touches_no_github() {
    let world = World::new();
    let unanswered = world
        .run(
            &request(&xr(None), Answer::None, None),
            at("2026-03-01T06:00:00Z"),
        )
        .await;
    assert!(world.fake.calls().is_empty());
    assert!(
        world.connector.targets().is_empty(),
        "not even a connection"
    );
    let answered = world
        .run(
            &request(&xr(None), Answer::Required, Some(&pipeline_xr("manual"))),
            at("2026-03-01T06:00:00Z"),
        )
        .await;
    let requirements = unanswered.requirements.clone().unwrap();
    assert_eq!(
        Some(&requirements),
        answered.requirements.as_ref(),
        "the requirement is identical on every call, so Crossplane's loop settles"
    );
    let selector = &requirements.resources["release-pipeline"];
    assert_eq!(selector.namespace.as_deref(), Some(NAMESPACE));
    assert_eq!(
        requirements.extra_resources["release-pipeline"], *selector,
        "the deprecated map carries the same selector"
    );
}

#[tokio::test]
async fn a_pipeline_answered_through_extra_resources_is_read() {
    let world = World::new();
    let automatic = pipeline_xr("automatic");
    let rsp = world
        .run(
            &request(&xr(None), Answer::Extra, Some(&automatic)),
            at("2026-03-01T06:00:00Z"),
        )
        .await;
    assert_eq!(rsp.status()["gate_status"], "approved");
    assert!(rsp.has_job());
    assert!(world.fake.calls().is_empty());
}

#[tokio::test]
async fn a_decided_gate_makes_no_github_call_at_all_once_its_job_is_seen() {
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let now = at("2026-03-01T06:00:00Z");
    let first = world.reconcile(&xr(None), &pipeline, now).await;
    world.fake.user_comments(1, "alice", "/approve");
    let approved = world
        .reconcile(&xr(Some(first.status())), &pipeline, now)
        .await;
    assert_eq!(approved.status()["gate_status"], "approved");
    assert!(approved.has_job());
    // The Job as Crossplane observes it once created.
    let observing = |status: Value| {
        let mut req = request(&xr(Some(status)), Answer::Required, Some(&pipeline));
        let job = approved.desired.as_ref().unwrap().resources["promotion-job"].clone();
        req.observed
            .as_mut()
            .unwrap()
            .resources
            .insert("promotion-job".into(), job);
        req
    };
    // The first call that sees the Job records on the issue that it started, once.
    world.fake.clear_calls();
    let later = at("2026-03-01T06:05:00Z");
    let seen = world.run(&observing(approved.status()), later).await;
    let writes: Vec<_> = world
        .fake
        .calls()
        .into_iter()
        .filter(Call::is_write)
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(seen.status()["promotion"]["started_at"].is_string());
    // From then on: no GitHub request at all, the Job still desired.
    world.fake.clear_calls();
    let targets = world.connector.targets().len();
    let again = world
        .run(&observing(seen.status()), at("2026-03-05T00:00:00Z"))
        .await;
    assert!(world.fake.calls().is_empty(), "{:#?}", world.fake.calls());
    assert_eq!(
        world.connector.targets().len(),
        targets,
        "no new connection"
    );
    assert_eq!(again.status(), seen.status());
    assert!(again.has_job());
    assert!(
        again.results_of(Severity::Normal).is_empty(),
        "no transition, no event"
    );
}

#[tokio::test]
async fn a_lost_status_write_after_a_verdict_is_read_back_without_a_second_summary() {
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let now = at("2026-03-01T06:00:00Z");
    world.reconcile(&xr(None), &pipeline, now).await;
    world.fake.user_comments(1, "bob", "/approve");
    let approved = world.reconcile(&xr(None), &pipeline, now).await;
    assert_eq!(approved.status()["gate_status"], "approved");
    let summaries = |fake: &FakeGitHub| {
        fake.comments(1)
            .iter()
            .filter(|c| c.author == "release-bot" && c.body.contains("verdict="))
            .count()
    };
    assert_eq!(summaries(&world.fake), 1);
    // The approval's status write was lost: the next reconcile sees no status at all.
    let later = at("2026-03-01T07:00:00Z");
    let again = world.reconcile(&xr(None), &pipeline, later).await;
    assert_eq!(again.status()["gate_status"], "approved");
    assert_eq!(again.status()["approver"], "bob");
    assert_eq!(summaries(&world.fake), 1, "one summary comment per verdict");
    let issue = world.fake.issue(1).unwrap();
    assert_eq!(issue.state, IssueState::Closed);
    assert_eq!(issue.state_reason, Some(CloseReason::Completed));
    assert_eq!(world.fake.issues().len(), 1);
}

#[tokio::test]
async fn a_transient_github_error_keeps_the_recorded_state_and_never_approves() {
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let now = at("2026-03-01T06:00:00Z");
    let first = world.reconcile(&xr(None), &pipeline, now).await;
    let recorded = first.status();
    world.fake.user_comments(1, "alice", "/approve");
    world.fake.fail_with(Some(GitHubError::RateLimited {
        retry_after: Some(Duration::from_secs(600)),
    }));
    let rsp = world
        .run(
            &request(
                &xr(Some(recorded.clone())),
                Answer::Required,
                Some(&pipeline),
            ),
            now,
        )
        .await;
    assert!(rsp.results_of(Severity::Fatal).is_empty());
    assert_eq!(rsp.status(), recorded, "the recorded status is re-emitted");
    assert_eq!(
        rsp.condition("ApprovalSynced"),
        (Status::ConditionFalse as i32, "RateLimited".into())
    );
    assert_ne!(rsp.condition("Approved").0, Status::ConditionTrue as i32);
    assert!(!rsp.has_job());
    assert_eq!(
        rsp.meta.as_ref().unwrap().ttl.unwrap().seconds,
        600,
        "Retry-After is honoured"
    );
    assert_eq!(rsp.results_of(Severity::Warning).len(), 1);

    // The same fault on the next call: the condition stays, no second Warning.
    let mut observed = xr(Some(recorded.clone()));
    observed["status"]["conditions"] = json!([
        {"type": "ApprovalSynced", "status": "False", "reason": "RateLimited"}
    ]);
    let rsp = world
        .run(&request(&observed, Answer::Required, Some(&pipeline)), now)
        .await;
    assert!(rsp.results_of(Severity::Warning).is_empty());
    assert_eq!(rsp.status()["gate_status"], "pending");
}

#[tokio::test]
async fn pending_ttl_is_the_poll_interval_or_the_time_left_whichever_is_sooner() {
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let start = at("2026-03-01T06:00:00Z");
    let first = world.reconcile(&xr(None), &pipeline, start).await;
    assert_eq!(first.meta.as_ref().unwrap().ttl.unwrap().seconds, 30);
    let near = at("2026-03-02T05:59:50Z");
    let rsp = world
        .reconcile(&xr(Some(first.status())), &pipeline, near)
        .await;
    assert_eq!(rsp.status()["gate_status"], "pending");
    assert_eq!(rsp.meta.as_ref().unwrap().ttl.unwrap().seconds, 10);
}

#[tokio::test]
async fn a_normal_result_is_emitted_only_when_the_state_changes() {
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let now = at("2026-03-01T06:00:00Z");
    let first = world.reconcile(&xr(None), &pipeline, now).await;
    assert_eq!(
        first.results_of(Severity::Normal).len(),
        1,
        "approval requested"
    );
    let second = world
        .reconcile(&xr(Some(first.status())), &pipeline, now)
        .await;
    assert!(second.results_of(Severity::Normal).is_empty());
}

#[tokio::test]
async fn anyone_with_the_minimum_permission_counts_and_only_candidates_are_looked_up() {
    use function_release_pipeline::input::Permission;
    let world = World::new();
    world.fake.set_permission("mia", Permission::Admin);
    world.fake.set_permission("tom", Permission::Write);
    let pipeline = pipeline_xr("manual");
    let now = at("2026-03-01T06:00:00Z");
    let with_permission = |xr: &Value| {
        let mut req = request(xr, Answer::Required, Some(&pipeline));
        let mut input = input();
        input["approvals"]["minPermission"] = json!("maintain");
        req.input = Some(json_to_struct(input.as_object().unwrap()));
        req
    };
    let first = world.run(&with_permission(&xr(None)), now).await;
    world.fake.user_comments(1, "tom", "/approve");
    world.fake.user_comments(1, "alice", "looks fine");
    world.fake.clear_calls();
    let rsp = world
        .run(&with_permission(&xr(Some(first.status()))), now)
        .await;
    assert_eq!(
        rsp.status()["gate_status"],
        "pending",
        "write is below maintain"
    );
    let lookups: Vec<Call> = world
        .fake
        .calls()
        .into_iter()
        .filter(|c| matches!(c, Call::Permission(_) | Call::TeamMember(..)))
        .collect();
    assert_eq!(lookups, vec![Call::Permission("tom".into())]);
    world.fake.user_comments(1, "mia", "/approve");
    let rsp = world
        .run(&with_permission(&xr(Some(rsp.status()))), now)
        .await;
    assert_eq!(rsp.status()["gate_status"], "approved");
    assert_eq!(rsp.status()["approver"], "mia");
}

#[tokio::test]
async fn a_deleted_approval_issue_is_replaced_and_the_deadline_kept() {
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let first = world
        .reconcile(&xr(None), &pipeline, at("2026-03-01T06:00:00Z"))
        .await;
    world.fake.delete_issue(1);
    let rsp = world
        .reconcile(
            &xr(Some(first.status())),
            &pipeline,
            at("2026-03-01T09:00:00Z"),
        )
        .await;
    let status = rsp.status();
    assert_eq!(status["gate_status"], "pending");
    assert_eq!(status["issue"]["number"], 2.0);
    assert_eq!(status["created_timestamp"], "2026-03-01T06:00:00Z");
    assert_eq!(status["timeout_at"], "2026-03-02T06:00:00Z");
    assert_eq!(world.opened(), 2);
}

#[tokio::test]
async fn a_close_by_an_approver_counts_when_the_issue_is_found_by_listing() {
    // GitHub's issue listing does not say who closed an issue: with the status write
    // lost, the gate reads the issue's events to see that an approver closed it.
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let now = at("2026-03-01T06:00:00Z");
    world.reconcile(&xr(None), &pipeline, now).await;
    world.fake.user_closes(1, "alice", CloseReason::Completed);
    let rsp = world.reconcile(&xr(None), &pipeline, now).await;
    assert_eq!(
        rsp.status()["gate_status"],
        "approved",
        "{:#?}",
        world.fake.calls()
    );
    assert_eq!(rsp.status()["approver"], "alice");
    assert!(world.fake.calls().contains(&Call::ListEvents(1)));
    assert_eq!(
        world.fake.issue(1).unwrap().state,
        IssueState::Closed,
        "never reopened"
    );
}

#[tokio::test]
async fn a_running_promotion_job_survives_a_lost_status_write_and_a_github_fault() {
    // Dropping the Job from desired state would make Crossplane delete it, and a later
    // call would create it again: the promotion would run twice.
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let now = at("2026-03-01T06:00:00Z");
    world.reconcile(&xr(None), &pipeline, now).await;
    world.fake.user_comments(1, "alice", "/approve");
    let approved = world.reconcile(&xr(None), &pipeline, now).await;
    assert!(approved.has_job());
    let job = approved.desired.as_ref().unwrap().resources["promotion-job"].clone();

    // The status write was lost, the Job exists, and GitHub is rate limited.
    world
        .fake
        .fail_with(Some(GitHubError::RateLimited { retry_after: None }));
    let mut req = request(&xr(None), Answer::Required, Some(&pipeline));
    let mut observed_job = struct_to_json(job.resource.as_ref().unwrap());
    observed_job["status"] = json!({"active": 1});
    req.observed
        .as_mut()
        .unwrap()
        .resources
        .insert("promotion-job".into(), resource(&observed_job));
    let rsp = world.run(&req, at("2026-03-01T06:05:00Z")).await;
    assert_eq!(rsp.condition("ApprovalSynced").1, "RateLimited");
    let kept = &rsp.desired.as_ref().unwrap().resources["promotion-job"];
    assert_eq!(
        kept.resource, job.resource,
        "the Job is kept exactly as rendered"
    );
}

#[tokio::test]
async fn a_verdict_written_on_a_duplicate_issue_is_final_and_the_other_issue_is_closed() {
    use function_release_pipeline::github::NewIssue;
    let world = World::new();
    let pipeline = pipeline_xr("manual");
    let now = at("2026-03-01T06:00:00Z");
    world.reconcile(&xr(None), &pipeline, now).await;
    // A second issue for the same key (an earlier run's duplicate) already carries the
    // function's rejection; the status write that recorded it was lost.
    let first = world.fake.issue(1).unwrap();
    let second = world.fake.user_opens(
        "release-bot",
        &NewIssue {
            title: first.title.clone(),
            body: first.body.clone(),
            labels: first.labels.clone(),
            assignees: vec![],
        },
    );
    let status = {
        let rsp = world.reconcile(&xr(None), &pipeline, now).await;
        rsp.status()
    };
    assert_eq!(status["issue"]["number"], 1.0, "the lowest number wins");
    assert_eq!(
        world.fake.issue(second.number).unwrap().state,
        IssueState::Closed,
        "the other issue is closed as a duplicate"
    );
    assert_eq!(
        world.fake.issue(second.number).unwrap().state_reason,
        Some(CloseReason::Duplicate)
    );
    // Bob rejects on the winning issue; the verdict is written there. Status is lost
    // again and Alice approves on the duplicate: nothing flips.
    world.fake.user_comments(1, "bob", "/reject");
    let rsp = world.reconcile(&xr(None), &pipeline, now).await;
    assert_eq!(rsp.status()["gate_status"], "rejected");
    world.fake.user_comments(second.number, "alice", "/approve");
    let rsp = world
        .reconcile(&xr(None), &pipeline, at("2026-03-01T07:00:00Z"))
        .await;
    assert_eq!(
        rsp.status()["gate_status"],
        "rejected",
        "{:#?}",
        world.fake.calls()
    );
    let duplicate_notes = world
        .fake
        .comments(second.number)
        .iter()
        .filter(|c| c.author == "release-bot")
        .count();
    assert_eq!(duplicate_notes, 1, "one duplicate note, however many calls");
    assert_eq!(world.fake.issues().len(), 2, "no third issue");
}
