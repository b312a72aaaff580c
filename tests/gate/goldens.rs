//! XPromotionGate, end to end through `ReleaseFunction::run` against the in-memory
//! GitHub: one fixture folder per behaviour under `tests/fixtures/gate/<case>/`, each
//! compared as a whole RunFunction response (and the GitHub calls of that run) with a
//! reviewed snapshot.
//!
//! A case folder holds `xr.yaml`, and optionally `input.yaml` and `required.yaml`
//! (else the shared ones beside the folders; an empty `required.yaml` means the tenant
//! has no pipeline), `observed.yaml` (observed composed resources) and `github.yaml`:
//!
//! ```yaml
//! now: 2026-03-01T06:00:00Z        # the time of the snapshotted call
//! token: false                     # no GITHUB_TOKEN fallback (default: a test token)
//! teams: {acme/release-managers: [carol]}
//! commits:                         # the source repository's history, oldest first; the
//! - {title: Add login, author: carol, committer: web-flow, pull: 7}   # n-th commit's sha is
//! - {title: Fix, author: null, repeat: 3}                    # fake_sha(n)
//! history:                         # what happened before, in order
//! - {at: ..., run: {record: true, artifact_id: ...}}   # the function ran
//! - {at: ..., comment: {by: alice, body: /approve, issue: 1}}
//! - {at: ..., close: {by: bob, reason: completed, issue: 1}}
//! - {at: ..., open_copy: {by: release-bot, of: 1}}   # a second call's issue, bound
//! fail: {server: 503}              # every GitHub call fails during the snapshotted call
//! ```
//!
//! The snapshotted XR carries `xr.yaml`'s status when it has one, else the status the
//! last recording run wrote.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::{FakeConnector, FakeGitHub};
use function_release_pipeline::github::{CloseReason, GitHubError, NewIssue};
use function_release_pipeline::yaml;
use function_sdk_rust::proto::v1::{
    RequestMeta, Resource, Resources, RunFunctionRequest, RunFunctionResponse, Severity, State,
};
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gate");

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .unwrap()
        .with_timezone(&Utc)
}

fn read_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    yaml::from_str_multi(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The case's file, else the shared one.
fn file(dir: &Path, name: &str) -> PathBuf {
    let own = dir.join(name);
    if own.exists() {
        own
    } else {
        Path::new(FIXTURES).join(name)
    }
}

fn resource(value: &Value) -> Resource {
    Resource {
        resource: Some(json_to_struct(value.as_object().expect("an object"))),
        ..Default::default()
    }
}

/// A case: its files, read.
struct Case {
    xr: Value,
    input: Value,
    required: Vec<Value>,
    observed: Vec<Value>,
    github: Value,
}

impl Case {
    fn read(dir: &Path) -> Self {
        let observed = dir.join("observed.yaml");
        let github = dir.join("github.yaml");
        Case {
            xr: read_docs(&dir.join("xr.yaml")).remove(0),
            input: read_docs(&file(dir, "input.yaml")).remove(0),
            required: read_docs(&file(dir, "required.yaml")),
            observed: if observed.exists() {
                read_docs(&observed)
            } else {
                Vec::new()
            },
            github: if github.exists() {
                read_docs(&github).remove(0)
            } else {
                json!({})
            },
        }
    }

    /// The request of Crossplane's second call: the pipeline requirement answered in
    /// both maps, as Crossplane v2 and earlier would.
    fn request(&self, xr: &Value) -> RunFunctionRequest {
        let answer = Resources {
            items: self.required.iter().map(resource).collect(),
        };
        RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: "golden".into(),
                ..Default::default()
            }),
            observed: Some(State {
                composite: Some(resource(xr)),
                resources: self
                    .observed
                    .iter()
                    .map(|o| {
                        let name =
                            o["metadata"]["annotations"]["crossplane.io/composition-resource-name"]
                                .as_str()
                                .expect("observed resources carry their resource name")
                                .to_owned();
                        (name, resource(o))
                    })
                    .collect(),
            }),
            desired: Some(State::default()),
            input: Some(json_to_struct(self.input.as_object().unwrap())),
            required_resources: [(
                function_release_pipeline::names::requirement::PIPELINE.to_string(),
                answer,
            )]
            .into(),
            ..Default::default()
        }
    }
}

fn function(fake: &FakeGitHub, now: DateTime<Utc>, token: bool) -> ReleaseFunction {
    ReleaseFunction::new(
        Arc::new(FakeConnector::new(fake.clone())),
        Arc::new(move || now),
    )
    .with_env_token(token.then(|| "test-token".to_string()))
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn desired_status(rsp: &RunFunctionResponse) -> Value {
    rsp.desired
        .as_ref()
        .and_then(|d| d.composite.as_ref())
        .and_then(|c| c.resource.as_ref())
        .map(struct_to_json)
        .and_then(|v| v.get("status").cloned())
        .unwrap_or(Value::Null)
}

fn reason(text: &str) -> CloseReason {
    CloseReason::from_api_str(text)
}

/// Plays the case's history on a fake, then runs the snapshotted call.
fn play(case: &Case) -> (RunFunctionResponse, FakeGitHub) {
    let g = &case.github;
    let fake = FakeGitHub::new("release-bot");
    for (team, members) in g["teams"].as_object().cloned().unwrap_or_default() {
        for member in members.as_array().unwrap() {
            fake.add_team_member(&team, member.as_str().unwrap());
        }
    }
    for commit in g["commits"].as_array().cloned().unwrap_or_default() {
        for _ in 0..commit["repeat"].as_u64().unwrap_or(1) {
            let sha = fake.push_commit(
                commit["title"].as_str().unwrap_or("A change"),
                commit["author"].as_str(),
                commit["committer"].as_str(),
            );
            if let Some(number) = commit["pull"].as_u64() {
                fake.merge_pull_request(&sha, number, "A pull request");
            }
        }
    }
    let token = g["token"].as_bool().unwrap_or(true);
    let mut carried = Value::Null;
    for step in g["history"].as_array().cloned().unwrap_or_default() {
        let at = time(&step["at"]);
        fake.set_now(at);
        let issue = |v: &Value| v["issue"].as_u64().unwrap_or(1);
        if let Some(run) = step.get("run") {
            let mut xr = case.xr.clone();
            xr.as_object_mut().unwrap().remove("status");
            if let Some(artifact) = run.get("artifact_id") {
                xr["spec"]["artifact_id"] = artifact.clone();
            }
            for (field, value) in run["spec"].as_object().cloned().unwrap_or_default() {
                xr["spec"][field] = value;
            }
            if !carried.is_null() {
                xr["status"] = carried.clone();
            }
            let rsp = block_on(function(&fake, at, token).run(&case.request(&xr)));
            if run["record"].as_bool().unwrap_or(false) {
                carried = desired_status(&rsp);
            }
        } else if let Some(c) = step.get("comment") {
            fake.user_comments(
                issue(c),
                c["by"].as_str().unwrap(),
                c["body"].as_str().unwrap(),
            );
        } else if let Some(c) = step.get("close") {
            fake.user_closes(
                issue(c),
                c["by"].as_str().unwrap(),
                reason(c["reason"].as_str().unwrap()),
            );
        } else if let Some(c) = step.get("delete") {
            fake.delete_issue(issue(c));
        } else if let Some(c) = step.get("open_copy") {
            let number = c["of"].as_u64().unwrap();
            let of = fake.issue(number).unwrap();
            let by = c["by"].as_str().unwrap();
            let copy = fake.user_opens(
                by,
                &NewIssue {
                    title: of.title,
                    body: of.body,
                    labels: of.labels,
                    assignees: Vec::new(),
                },
            );
            // The call that opened the copy bound it too, as the function does.
            if let Some(binding) = fake
                .comments(number)
                .into_iter()
                .find(|c| c.author == by && c.body.contains("release-gate:bind "))
            {
                fake.user_comments(copy.number, by, &binding.body);
            }
        } else {
            panic!("unknown history step {step}");
        }
    }
    let now = time(&g["now"]);
    fake.set_now(now);
    fake.clear_calls();
    fake.clear_opened();
    if let Some(status) = g["fail"]["server"].as_u64() {
        fake.fail_with(Some(GitHubError::Server {
            status: status as u16,
            message: "service unavailable".into(),
        }));
    }
    let mut xr = case.xr.clone();
    if xr.get("status").is_none() && !carried.is_null() {
        xr["status"] = carried;
    }
    let rsp = block_on(function(&fake, now, token).run(&case.request(&xr)));
    (rsp, fake)
}

/// What the snapshotted call did on GitHub, and the issues it left.
fn github_view(fake: &FakeGitHub) -> Value {
    let issues: Vec<Value> = fake
        .issues()
        .into_iter()
        .map(|i| {
            json!({
                "number": i.number,
                "title": i.title,
                "author": i.author,
                "state": format!("{:?}", i.state),
                "state_reason": i.state_reason.map(|r| r.as_api_str().to_owned()),
                "closed_by": i.closed_by,
                "labels": i.labels,
                "body": i.body,
                "comments": fake.comments(i.number).into_iter()
                    .map(|c| json!({"author": c.author, "body": c.body}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let opened: Vec<Value> = fake
        .opened()
        .into_iter()
        .map(|n| json!({"title": n.title, "labels": n.labels, "assignees": n.assignees}))
        .collect();
    json!({
        "calls": fake.calls().iter().map(|c| format!("{c:?}")).collect::<Vec<_>>(),
        "opened": opened,
        "issues": issues,
    })
}

/// The desired composed resource `name`, as JSON.
fn composed_object(rsp: &RunFunctionResponse, name: &str) -> Option<Value> {
    rsp.desired
        .as_ref()?
        .resources
        .get(name)?
        .resource
        .as_ref()
        .map(struct_to_json)
}

fn fatal_messages(rsp: &RunFunctionResponse) -> Vec<&str> {
    rsp.results
        .iter()
        .filter(|r| r.severity == Severity::Fatal as i32)
        .map(|r| r.message.as_str())
        .collect()
}

#[test]
fn golden_responses() {
    let status_schema = common::xrd_status_validator("examples/promotion-gate/xrd.yaml");
    let object_schema = common::shared_schema("kubernetes.m.crossplane.io_object_v1alpha1.json");
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.bind(|| {
        insta::glob!(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gate"),
            "*/xr.yaml",
            |path| {
                let dir = path.parent().unwrap();
                let case_name = dir.file_name().unwrap().to_str().unwrap();
                let case = Case::read(dir);
                let (rsp, fake) = play(&case);
                let fatal = fatal_messages(&rsp);
                if case_name.starts_with("invalid-") {
                    assert_eq!(fatal.len(), 1, "{case_name}: one Fatal result: {fatal:?}");
                    // A bad Input names its field after saying it is the Input's.
                    let message = fatal[0]
                        .strip_prefix("invalid function input: ")
                        .map(|m| format!("input.{m}"))
                        .unwrap_or_else(|| fatal[0].to_owned());
                    assert!(
                        ["spec.", "input.", "required resource "]
                            .iter()
                            .any(|p| message.starts_with(p)),
                        "{case_name}: the message starts with the field path: {}",
                        fatal[0]
                    );
                    assert!(fake.calls().is_empty(), "{case_name}: no GitHub call");
                } else {
                    assert!(fatal.is_empty(), "{case_name}: {fatal:?}");
                }
                insta::assert_yaml_snapshot!(serde_json::to_value(&rsp).unwrap());
                if !case_name.starts_with("invalid-") {
                    let errors = common::schema_errors(&status_schema, &desired_status(&rsp));
                    assert!(errors.is_empty(), "{case_name}: {errors:?}");
                    // A Job carried to the promotion namespace: an Object as provider-kubernetes
                    // defines it.
                    if let Some(job) = composed_object(&rsp, "promotion-job") {
                        let refused = crate::pod_security::restricted_violations(
                            crate::pod_security::job_pod(&job),
                        );
                        assert!(refused.is_empty(), "{case_name}: {refused:?}");
                    }
                    if let Some(job) = composed_object(&rsp, "promotion-job")
                        && job["kind"] == "Object"
                    {
                        let errors = common::schema_errors(&object_schema, &job);
                        assert!(errors.is_empty(), "{case_name}: {errors:?}");
                        assert_eq!(job["spec"]["forProvider"]["manifest"]["kind"], "Job");
                    }
                    insta::assert_yaml_snapshot!("github", github_view(&fake));
                }
            }
        );
    });
}
