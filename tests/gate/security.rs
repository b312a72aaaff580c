//! Who can approve a promotion, and what a tenant's pipeline may do in the cluster.
//!
//! Gates run through `ReleaseFunction::run` against the in-memory GitHub, one reconcile
//! at a time with the status written back as Crossplane would: an approval never comes
//! from an unlisted user, the function's own identity, the requester (unless allowed),
//! a comment that merely contains `/approve`, a forged marker, an issue someone else
//! opened, or an edit after the deadline. Pipelines render RBAC that reads only the
//! tenant's own Secret and never writes gate status.

use crate::common::ResponseExt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::gate::key::{GateKey, KeyParts};
use function_release_pipeline::github::fake::{FakeConnector, FakeGitHub};
use function_release_pipeline::github::{CloseReason, IssueState, NewIssue};
use function_release_pipeline::yaml;
use function_sdk_rust::proto::v1::{
    RequestMeta, Resource, Resources, RunFunctionRequest, RunFunctionResponse, Severity, State,
};
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use serde_json::{Value, json};

const NAMESPACE: &str = "platform-system";
const NAME: &str = "my-service-dev-to-staging";
const ARTIFACT: &str = "ghcr.io/org/my-service:main-abc123";
const BOT: &str = "release-bot";
const REQUESTER: &str = "rita";
const UID: &str = "6f1c2a4e-0000-4000-8000-000000000001";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn start() -> DateTime<Utc> {
    at("2026-03-01T06:00:00Z")
}

fn resource(value: &Value) -> Resource {
    Resource {
        resource: Some(json_to_struct(value.as_object().unwrap())),
        ..Default::default()
    }
}

/// The tenant's XReleasePipeline, which gates read as a required resource.
fn pipeline_xr() -> Value {
    json!({
        "apiVersion": "platform.zerotouch.dev/v1alpha1", "kind": "XReleasePipeline",
        "metadata": {"name": "my-service-pipeline", "namespace": NAMESPACE},
        "spec": {"tenant": "my-service", "environments": ["dev", "staging", "production"],
                 "promotionRules": {"dev_to_staging": "manual", "staging_to_production": "manual"}},
    })
}

/// The approval policy a test gives the Input.
struct Rules {
    users: Vec<&'static str>,
    min_approvals: u32,
    allow_self_approval: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            // The function's own login and the requester are listed on purpose: listing
            // must not be enough for them.
            users: vec!["alice", "bob", BOT, REQUESTER],
            min_approvals: 1,
            allow_self_approval: false,
        }
    }
}

/// One gate, reconciled like Crossplane does, its status written back each time.
struct World {
    fake: FakeGitHub,
    connector: FakeConnector,
    rules: Rules,
    status: Option<Value>,
}

impl World {
    fn new(rules: Rules) -> Self {
        let fake = FakeGitHub::new(BOT);
        World {
            connector: FakeConnector::new(fake.clone()),
            fake,
            rules,
            status: None,
        }
    }

    fn xr(&self) -> Value {
        let mut xr = json!({
            "apiVersion": "platform.zerotouch.dev/v1alpha1",
            "kind": "XPromotionGate",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "uid": UID,
                         "annotations": {"release.zerotouch.dev/requested-by": REQUESTER}},
            "spec": {"tenant": "my-service", "artifact_id": ARTIFACT,
                     "source_environment": "dev", "target_environment": "staging",
                     "approval_required": true, "timeout_hours": 24},
        });
        if let Some(status) = &self.status {
            xr["status"] = status.clone();
        }
        xr
    }

    fn request(&self) -> RunFunctionRequest {
        let input = json!({
            "apiVersion": "release.fn.zerotouch.dev/v1beta1", "kind": "Input",
            "github": {"repository": "acme/release-approvals"},
            "approvals": {"users": self.rules.users, "minApprovals": self.rules.min_approvals,
                          "allowSelfApproval": self.rules.allow_self_approval},
            "promotion": {"image": "ghcr.io/acme/promoter:v1"},
        });
        let mut req = RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: "t".into(),
                ..Default::default()
            }),
            observed: Some(State {
                composite: Some(resource(&self.xr())),
                ..Default::default()
            }),
            desired: Some(State::default()),
            input: Some(json_to_struct(input.as_object().unwrap())),
            ..Default::default()
        };
        req.required_resources.insert(
            "release-pipeline".into(),
            Resources {
                items: vec![resource(&pipeline_xr())],
            },
        );
        req
    }

    /// One call at `now`; its status is written back.
    async fn reconcile(&mut self, now: DateTime<Utc>) -> RunFunctionResponse {
        self.fake.set_now(now);
        let rsp = ReleaseFunction::new(Arc::new(self.connector.clone()), Arc::new(move || now))
            .with_env_token(Some("test-token".into()))
            .run(&self.request())
            .await;
        assert!(
            !rsp.results
                .iter()
                .any(|r| r.severity == Severity::Fatal as i32),
            "{:?}",
            rsp.results
        );
        // Crossplane writes the conditions into the XR's status too.
        let mut status = rsp.status();
        status["conditions"] = rsp
            .conditions
            .iter()
            .map(|c| {
                let state = match function_sdk_rust::proto::v1::Status::try_from(c.status) {
                    Ok(function_sdk_rust::proto::v1::Status::ConditionTrue) => "True",
                    Ok(function_sdk_rust::proto::v1::Status::ConditionFalse) => "False",
                    _ => "Unknown",
                };
                json!({"type": c.r#type, "status": state, "reason": c.reason,
                       "message": c.message.clone().unwrap_or_default()})
            })
            .collect();
        self.status = Some(status);
        rsp
    }

    /// The gate's state after one more reconcile at `now`.
    async fn state_at(&mut self, now: DateTime<Utc>) -> String {
        let rsp = self.reconcile(now).await;
        rsp.status()["gate_status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Opens the approval issue (the first reconcile) and returns its number.
    async fn open(&mut self) -> u64 {
        let rsp = self.reconcile(start()).await;
        assert_eq!(rsp.status()["gate_status"], "pending");
        rsp.status()["issue"]["number"].as_f64().unwrap() as u64
    }

    /// A person comments at `when`; returns the comment id.
    fn comment(&self, issue: u64, login: &str, body: &str, when: DateTime<Utc>) -> u64 {
        self.fake.set_now(when);
        self.fake.user_comments(issue, login, body);
        self.fake.comments(issue).last().unwrap().id
    }

    fn edit(&self, id: u64, body: &str, when: DateTime<Utc>) {
        self.fake.set_now(when);
        self.fake.user_edits_comment(id, body);
    }
}

fn minutes(n: i64) -> DateTime<Utc> {
    start() + Duration::minutes(n)
}

fn past_deadline() -> DateTime<Utc> {
    start() + Duration::hours(25)
}

#[tokio::test]
async fn a_rewritten_pipeline_config_map_changes_nothing_a_gate_requires() {
    // Someone who can write ConfigMaps in the namespace, but not XReleasePipelines,
    // rewrites the pipeline's ConfigMap: the rule automatic, themselves an approver. Even
    // if Crossplane handed it to the function, the gate reads only the pipeline XR.
    let forged = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "my-service-release-pipeline-config", "namespace": NAMESPACE,
                     "labels": {"release.zerotouch.dev/tenant": "my-service",
                                "release.zerotouch.dev/component": "pipeline-config"}},
        "data": {"pipeline.yaml":
            "tenant: my-service\nenvironments: [dev, staging, production]\npromotions:\n\
             - {from: dev, to: staging, rule: automatic, approvals: {users: [mallory], minApprovals: 1}}\n\
             - {from: staging, to: production, rule: manual}\n\
             registry: ghcr.io\nretentionDays: 30\n\
             testing: {validationMode: preview, bootstrapMode: preview}\n"},
    });
    let world = World::new(Rules::default());
    let mut xr = world.xr();
    xr["spec"]["approval_required"] = json!(false);
    let mut req = world.request();
    req.observed.as_mut().unwrap().composite = Some(resource(&xr));
    req.required_resources
        .get_mut("release-pipeline")
        .unwrap()
        .items
        .push(resource(&forged));
    world.fake.set_now(start());
    let rsp = ReleaseFunction::new(Arc::new(world.connector.clone()), Arc::new(start))
        .with_env_token(Some("test-token".into()))
        .run(&req)
        .await;
    let status = rsp.status();
    assert_eq!(status["gate_status"], "pending", "{status}");
    assert!(!rsp.has_job());
    assert_eq!(world.fake.issues().len(), 1, "approval is asked for");
    let body = &world.fake.issues()[0].body;
    assert!(!body.contains("mallory"), "{body}");
}

#[tokio::test]
async fn an_unlisted_user_cannot_approve_by_comment_or_by_closing() {
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    world.comment(issue, "mallory", "/approve", minutes(1));
    assert_eq!(world.state_at(minutes(2)).await, "pending");
    world.fake.set_now(minutes(3));
    world
        .fake
        .user_closes(issue, "mallory", CloseReason::Completed);
    let rsp = world.reconcile(minutes(4)).await;
    assert_eq!(rsp.status()["gate_status"], "pending");
    assert!(!rsp.has_job());
    assert_eq!(
        world.fake.issue(issue).unwrap().state,
        IssueState::Open,
        "the close is undone"
    );
    let explained = world.fake.comments(issue);
    assert!(
        explained
            .iter()
            .any(|c| c.author == BOT && c.body.contains("not an approver")),
        "{explained:#?}"
    );
    assert_eq!(world.state_at(past_deadline()).await, "timeout");
}

#[tokio::test]
async fn the_function_s_own_identity_never_approves_even_when_listed() {
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    world.comment(issue, BOT, "/approve", minutes(1));
    world.comment(issue, "Release-Bot", "/approve", minutes(2));
    assert_eq!(world.state_at(minutes(3)).await, "pending");
    // A close by the function's own identity without its verdict marker is no verdict.
    world.fake.set_now(minutes(4));
    world.fake.user_closes(issue, BOT, CloseReason::Completed);
    let rsp = world.reconcile(minutes(5)).await;
    assert_ne!(rsp.status()["gate_status"], "approved");
    assert!(!rsp.has_job());
    assert_eq!(rsp.status()["approvals"], json!([]));
}

#[tokio::test]
async fn the_requester_cannot_approve_their_own_promotion_even_when_listed() {
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    world.comment(issue, REQUESTER, "/approve", minutes(1));
    world.comment(issue, "RITA", "/approve", minutes(2));
    assert_eq!(world.state_at(minutes(3)).await, "pending");
    world.fake.set_now(minutes(4));
    world
        .fake
        .user_closes(issue, REQUESTER, CloseReason::Completed);
    let rsp = world.reconcile(minutes(5)).await;
    assert_eq!(rsp.status()["gate_status"], "pending");
    assert_eq!(world.fake.issue(issue).unwrap().state, IssueState::Open);
    assert!(
        world
            .fake
            .comments(issue)
            .iter()
            .any(|c| c.author == BOT && c.body.contains("cannot approve their own promotion"))
    );
}

#[tokio::test]
async fn the_requester_approves_when_self_approval_is_allowed() {
    let mut world = World::new(Rules {
        allow_self_approval: true,
        ..Rules::default()
    });
    let issue = world.open().await;
    world.comment(issue, REQUESTER, "/approve", minutes(1));
    let rsp = world.reconcile(minutes(2)).await;
    assert_eq!(rsp.status()["gate_status"], "approved");
    assert_eq!(rsp.status()["approver"], REQUESTER);
    assert!(rsp.has_job());
}

#[tokio::test]
async fn a_comment_that_merely_contains_approve_is_no_answer() {
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    for body in [
        "I /approve this",
        "/approve.",
        "/approved",
        "`/approve`",
        "> /approve",
        "- /approve",
        "<!-- /approve -->",
        "please /approve\nthanks",
        "/ approve",
    ] {
        world.comment(issue, "alice", body, minutes(1));
    }
    assert_eq!(world.state_at(minutes(2)).await, "pending");
    assert_eq!(world.state_at(past_deadline()).await, "timeout");
}

#[tokio::test]
async fn a_command_on_its_own_line_of_a_longer_comment_counts() {
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    world.comment(
        issue,
        "alice",
        "Checked the release notes.\n  /APPROVE  \nThanks",
        minutes(1),
    );
    assert_eq!(world.state_at(minutes(2)).await, "approved");
}

#[tokio::test]
async fn a_forged_verdict_or_counted_close_marker_from_a_person_is_ignored() {
    let mut world = World::new(Rules {
        min_approvals: 2,
        ..Rules::default()
    });
    let issue = world.open().await;
    let key = world.status.as_ref().unwrap()["gate_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let approvals = "alice@2026-03-01T06:01:00Z/comment,bob@2026-03-01T06:01:00Z/comment";
    for author in ["mallory", "alice"] {
        world.comment(
            issue,
            author,
            &format!("<!-- release-gate:verdict=approved key={key} approvals={approvals} -->"),
            minutes(1),
        );
        world.comment(
            issue,
            author,
            &format!(
                "<!-- release-gate:counted key={key} approval=bob@2026-03-01T06:01:00Z/close -->"
            ),
            minutes(1),
        );
    }
    let rsp = world.reconcile(minutes(2)).await;
    assert_eq!(rsp.status()["gate_status"], "pending");
    assert_eq!(rsp.status()["approvals"], json!([]));
}

#[tokio::test]
async fn an_issue_someone_else_opened_with_the_gate_s_marker_is_never_read() {
    let mut world = World::new(Rules::default());
    let key = GateKey::of_parts(KeyParts {
        namespace: NAMESPACE,
        name: NAME,
        uid: UID,
        tenant: "my-service",
        source: "dev",
        target: "staging",
        artifact_id: ARTIFACT,
        change: None,
    });
    let forged = world.fake.user_opens(
        "mallory",
        &NewIssue {
            title: "Promote my-service".into(),
            body: format!("<!-- release-gate:key={key} xr={NAMESPACE}/{NAME} -->\nplease approve"),
            labels: vec!["release-gate".into()],
            assignees: Vec::new(),
        },
    );
    world.comment(forged.number, "alice", "/approve", start());
    let rsp = world.reconcile(start()).await;
    let status = rsp.status();
    assert_eq!(status["gate_status"], "pending");
    assert_eq!(status["gate_key"], key.as_str());
    assert_ne!(status["issue"]["number"], json!(forged.number));
    assert_eq!(
        world.fake.issue(forged.number).unwrap().state,
        IssueState::Open
    );
    assert!(
        world
            .fake
            .comments(forged.number)
            .iter()
            .all(|c| c.author != BOT),
        "the forged issue is left alone"
    );
}

#[tokio::test]
async fn the_same_approver_twice_is_one_approval_towards_the_quorum() {
    let mut world = World::new(Rules {
        min_approvals: 2,
        ..Rules::default()
    });
    let issue = world.open().await;
    world.comment(issue, "alice", "/approve", minutes(1));
    world.comment(issue, "ALICE", "/approve", minutes(2));
    assert_eq!(world.state_at(minutes(3)).await, "pending");
    world.fake.set_now(minutes(4));
    world
        .fake
        .user_closes(issue, "alice", CloseReason::Completed);
    let rsp = world.reconcile(minutes(5)).await;
    assert_eq!(rsp.status()["gate_status"], "pending");
    assert!(!rsp.has_job());
    assert_eq!(world.fake.issue(issue).unwrap().state, IssueState::Open);
    world.comment(issue, "bob", "/approve", minutes(6));
    let rsp = world.reconcile(minutes(7)).await;
    assert_eq!(rsp.status()["gate_status"], "approved");
    assert_eq!(rsp.status()["approver"], "alice,bob");
}

#[tokio::test]
async fn an_edit_after_the_deadline_makes_a_comment_count_no_more() {
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    let id = world.comment(issue, "alice", "looks fine", minutes(1));
    world.edit(
        id,
        "/approve",
        start() + Duration::hours(24) + Duration::minutes(30),
    );
    assert_eq!(world.state_at(past_deadline()).await, "timeout");

    // An approval given in time but edited after the deadline (even to the same text)
    // is re-dated by GitHub, so it no longer counts either.
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    let id = world.comment(issue, "alice", "/approve", minutes(1));
    world.edit(
        id,
        "/approve ",
        start() + Duration::hours(24) + Duration::seconds(1),
    );
    let rsp = world.reconcile(past_deadline()).await;
    assert_eq!(rsp.status()["gate_status"], "timeout");
    assert!(!rsp.has_job());
}

#[tokio::test]
async fn an_approval_edited_into_a_rejection_before_it_was_read_holds_the_gate() {
    // Nobody can tell who edited it: it is no answer either way, and the gate waits for
    // alice to answer again.
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    let id = world.comment(issue, "alice", "/approve", minutes(1));
    world.edit(id, "/reject", minutes(2));
    let rsp = world.reconcile(minutes(3)).await;
    assert_eq!(rsp.status()["gate_status"], "pending");
    assert!(!rsp.has_job());
    world.comment(issue, "alice", "/reject", minutes(4));
    assert_eq!(world.state_at(minutes(5)).await, "rejected");
}

#[tokio::test]
async fn an_approval_edited_into_a_rejection_after_the_verdict_changes_nothing() {
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    let id = world.comment(issue, "alice", "/approve", minutes(1));
    assert_eq!(world.state_at(minutes(2)).await, "approved");
    world.edit(id, "/reject", minutes(3));
    assert_eq!(world.state_at(minutes(4)).await, "approved");
    // Even with the status write lost, the verdict comes back from the summary comment.
    world.status = None;
    let rsp = world.reconcile(minutes(5)).await;
    assert_eq!(rsp.status()["gate_status"], "approved");
    assert_eq!(rsp.status()["approver"], "alice");
    assert!(rsp.has_job());
}

#[tokio::test]
async fn a_rejection_edited_into_an_approval_before_it_was_read_approves_nothing() {
    let mut world = World::new(Rules::default());
    let issue = world.open().await;
    let id = world.comment(issue, "bob", "/reject", minutes(1));
    world.edit(id, "/approve", minutes(2));
    let rsp = world.reconcile(minutes(3)).await;
    assert_eq!(rsp.status()["gate_status"], "pending");
    assert!(!rsp.has_job());
    let approved = rsp
        .conditions
        .iter()
        .find(|c| c.r#type == "Approved")
        .unwrap();
    assert_eq!(approved.reason, "Pending");
    let message = approved.message.clone().unwrap_or_default();
    assert!(
        message.contains(&format!("comment {id} by bob")),
        "the condition names the edited comment: {message}"
    );
    let warnings: Vec<&str> = rsp
        .results
        .iter()
        .filter(|r| r.severity == Severity::Warning as i32)
        .map(|r| r.message.as_str())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&format!("comment {id} by bob")),
        "{warnings:?}"
    );
    // Said once: the next poll, with the condition recorded, warns no more.
    let again = world.reconcile(minutes(4)).await;
    assert!(
        !again
            .results
            .iter()
            .any(|r| r.severity == Severity::Warning as i32),
        "{:?}",
        again.results
    );
    // bob answers again, in a new comment: his answer counts as he posted it.
    world.comment(issue, "bob", "/approve", minutes(5));
    assert_eq!(world.state_at(minutes(6)).await, "approved");
}

// ----- RBAC -----

fn pipeline_request(xr: &Value, input: &Value) -> RunFunctionRequest {
    RunFunctionRequest {
        meta: Some(RequestMeta {
            tag: "t".into(),
            ..Default::default()
        }),
        observed: Some(State {
            composite: Some(resource(xr)),
            ..Default::default()
        }),
        desired: Some(State::default()),
        input: Some(json_to_struct(input.as_object().unwrap())),
        ..Default::default()
    }
}

fn fixture(case: &str, file: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pipeline/").to_owned()
        + case
        + "/"
        + file;
    let text = std::fs::read_to_string(&path).unwrap();
    yaml::from_str_multi(&text).unwrap().remove(0)
}

/// The desired objects of a pipeline rendered for `tenant`.
async fn render_pipeline(case: &str, tenant: &str) -> Vec<Value> {
    let mut xr = fixture(case, "xr.yaml");
    xr["spec"]["tenant"] = json!(tenant);
    let input = fixture(case, "input.yaml");
    let now = start();
    let rsp = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now))
        .run(&pipeline_request(&xr, &input))
        .await;
    assert!(
        !rsp.results
            .iter()
            .any(|r| r.severity == Severity::Fatal as i32),
        "{:?}",
        rsp.results
    );
    rsp.desired
        .unwrap()
        .resources
        .values()
        .map(|r| struct_to_json(r.resource.as_ref().unwrap()))
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

const TENANTS: [&str; 3] = ["my-service", "a1", "payments-api-long-tenant-name-x34"];

async fn check_rbac(case: &str, cluster_scoped: bool) {
    for tenant in TENANTS {
        let objects = render_pipeline(case, tenant).await;
        let kind_of = |o: &&Value| o["kind"].as_str().unwrap_or_default().to_owned();
        let secret = objects
            .iter()
            .find(|o| kind_of(o) == "ExternalSecret")
            .map(|o| {
                o["spec"]["target"]["name"]
                    .as_str()
                    .or(o["metadata"]["name"].as_str())
                    .unwrap()
                    .to_owned()
            })
            .expect("an ExternalSecret");
        assert_eq!(secret, format!("{tenant}-release-pipeline-credentials"));
        let account = format!("{tenant}-release-pipeline");
        let roles: Vec<&Value> = objects
            .iter()
            .filter(|o| matches!(kind_of(o).as_str(), "Role" | "ClusterRole"))
            .collect();
        assert_eq!(
            roles
                .iter()
                .map(kind_of)
                .collect::<Vec<_>>()
                .contains(&"ClusterRole".to_owned()),
            cluster_scoped,
            "{tenant}: {roles:#?}"
        );
        let mut reads_own_secret = false;
        for role in &roles {
            let cluster_wide = kind_of(role) == "ClusterRole";
            for rule in role["rules"].as_array().unwrap() {
                let (groups, resources, verbs, names) = (
                    strings(&rule["apiGroups"]),
                    strings(&rule["resources"]),
                    strings(&rule["verbs"]),
                    strings(&rule["resourceNames"]),
                );
                let all = [&groups, &resources, &verbs];
                assert!(
                    all.iter().all(|list| !list.contains(&"*")),
                    "{tenant}: no wildcard in {rule}"
                );
                assert!(
                    rule.get("nonResourceURLs").is_none(),
                    "{tenant}: no URL grants in {rule}"
                );
                if resources.contains(&"secrets") {
                    assert!(
                        !cluster_wide,
                        "{tenant}: a ClusterRole never names secrets: {rule}"
                    );
                    assert_eq!(groups, [""], "{tenant}: {rule}");
                    assert_eq!(
                        names,
                        [secret.as_str()],
                        "{tenant}: only its own Secret: {rule}"
                    );
                    assert_eq!(verbs, ["get"], "{tenant}: read only: {rule}");
                    reads_own_secret = true;
                }
                for resource in &resources {
                    if resource.starts_with("xpromotiongates") {
                        assert_ne!(*resource, "xpromotiongates/status", "{tenant}: {rule}");
                        for verb in &verbs {
                            assert!(
                                ["create", "get", "list", "watch"].contains(verb),
                                "{tenant}: {verb} on gates: {rule}"
                            );
                        }
                    }
                    assert!(
                        !resource.ends_with("/status") || verbs.iter().all(|v| *v == "get"),
                        "{tenant}: no status write: {rule}"
                    );
                }
                for verb in ["escalate", "bind", "impersonate"] {
                    assert!(!verbs.contains(&verb), "{tenant}: {verb}: {rule}");
                }
            }
        }
        assert!(
            reads_own_secret,
            "{tenant}: the pipeline reads its own Secret"
        );
        for binding in objects
            .iter()
            .filter(|o| matches!(kind_of(o).as_str(), "RoleBinding" | "ClusterRoleBinding"))
        {
            let subjects = binding["subjects"].as_array().unwrap();
            assert_eq!(subjects.len(), 1, "{tenant}: {binding}");
            assert_eq!(subjects[0]["kind"], "ServiceAccount");
            assert_eq!(subjects[0]["name"], account.as_str());
            assert_eq!(binding["roleRef"]["name"], account.as_str());
        }
    }
}

#[tokio::test]
async fn a_namespaced_pipeline_s_role_reads_only_its_own_secret_and_never_writes_gate_status() {
    check_rbac("namespaced", false).await;
}

#[tokio::test]
async fn a_cluster_scoped_pipeline_grants_no_cluster_wide_secret_read_and_no_gate_status_write() {
    check_rbac("cluster-scoped", true).await;
}

#[tokio::test]
async fn a_renamed_app_or_account_is_still_itself_and_opens_no_second_issue() {
    for lost in [false, true] {
        let mut world = World::new(Rules::default());
        let issue = world.open().await;
        world.comment(issue, "alice", "/approve", minutes(1));
        // An admin renames the App (or the machine user): GitHub shows the new login on
        // everything it wrote, and keeps its id; the function still remembers the old login.
        world.fake.rename_identity("release-bot-2[bot]");
        if lost {
            world.status = None;
        }
        let first = world.reconcile(minutes(2)).await;
        let second = world.reconcile(minutes(3)).await;
        let status = second.status();
        assert_eq!(status["gate_status"], "approved", "lost={lost}: {status}");
        assert_eq!(status["issue"]["number"], json!(issue), "lost={lost}");
        assert_eq!(world.fake.issues().len(), 1, "lost={lost}: no second issue");
        if lost {
            // The listing by the old login found nothing: the function refreshed who it
            // is instead of opening another issue.
            let synced = first
                .conditions
                .iter()
                .find(|c| c.r#type == "ApprovalSynced")
                .unwrap();
            assert_eq!(synced.reason, "IdentityChanged");
        } else {
            // The recorded issue is read by number and recognised by id.
            assert_eq!(first.status()["gate_status"], "approved");
        }
    }
}

#[tokio::test]
async fn the_render_s_environment_token_never_goes_to_a_host_a_composition_names() {
    // Someone renders a Composition they did not write, with their own GITHUB_TOKEN set:
    // its input points apiUrl at a collector.
    let world = World::new(Rules::default());
    let mut req = world.request();
    let mut input = struct_to_json(req.input.as_ref().unwrap());
    input["github"]["apiUrl"] = json!("https://collector.example");
    req.input = Some(json_to_struct(input.as_object().unwrap()));
    let rsp = ReleaseFunction::new(Arc::new(world.connector.clone()), Arc::new(start))
        .with_env_token(Some("the-user-s-own-token".into()))
        .run(&req)
        .await;
    let synced = rsp
        .conditions
        .iter()
        .find(|c| c.r#type == "ApprovalSynced")
        .unwrap();
    assert_eq!(synced.reason, "MissingCredentials");
    assert!(
        synced
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("--function-credentials")
    );
    assert!(
        world.connector.targets().is_empty(),
        "nothing was connected to"
    );
    assert!(world.fake.calls().is_empty());
}
