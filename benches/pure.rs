//! Criterion benchmarks of the in-process paths on realistic inputs (the examples' XRs
//! with their observed and required resources and Composition input): a whole pipeline
//! RunFunction, a decided gate's RunFunction (no GitHub call), the gate's pure decision
//! on an approval issue as read, the gate's render, protobuf Struct <-> JSON conversion,
//! and a typed Kubernetes object (the promotion Job) into a protobuf Struct, straight
//! (`pb::to_struct`) and through JSON.
//!
//! `cargo bench --bench pure`

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::gate::decide;
use function_release_pipeline::gate::key::GateKey;
use function_release_pipeline::gate::model::{
    Gate, GitHubSync, IssueRead, Outcome, Read, Recorded, Synced,
};
use function_release_pipeline::gate::policy::Policy;
use function_release_pipeline::gate::respond::{self, Scene};
use function_release_pipeline::gate::situation::Situation;
use function_release_pipeline::gate::{issue, lookup, marker};
use function_release_pipeline::github::fake::{FakeConnector, user_id};
use function_release_pipeline::github::{Comment, Identity, Issue, IssueState, Login};
use function_release_pipeline::input::Input;
use function_release_pipeline::xr::gate::{GateSpec, GateStatus};
use function_sdk_rust::proto::v1::RunFunctionRequest;
use function_sdk_rust::resource::{json_to_struct, struct_to_json};
use function_sdk_rust::response;
use serde_json::Value;

#[path = "../tests/common/workloads.rs"]
mod workloads;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn run_function_and_conversion(c: &mut Criterion) {
    let function = ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(now));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, workload) in workloads::all() {
        let req = workload.to_request("bench");
        let rsp = runtime.block_on(function.run(&req));
        assert!(
            rsp.results.iter().all(|r| r.severity != 1),
            "{name} must not be fatal: {:?}",
            rsp.results
        );
        c.bench_function(&format!("run_function/{name}"), |b| {
            b.iter(|| runtime.block_on(function.run(std::hint::black_box(&req))))
        });
        let composite = req
            .observed
            .as_ref()
            .unwrap()
            .composite
            .as_ref()
            .unwrap()
            .resource
            .clone()
            .unwrap();
        c.bench_function(&format!("struct_to_json/{name}"), |b| {
            b.iter(|| struct_to_json(std::hint::black_box(&composite)))
        });
        let json = struct_to_json(&composite);
        let map = json.as_object().unwrap().clone();
        c.bench_function(&format!("json_to_struct/{name}"), |b| {
            b.iter(|| json_to_struct(std::hint::black_box(&map)))
        });
    }
}

/// The promotion-gate example as the gate module sees it once GitHub has been read.
struct GateScene {
    req: RunFunctionRequest,
    input: Input,
    spec: GateSpec,
    key: String,
    policy: Policy,
    status: Value,
}

fn gate_scene(w: &workloads::Request) -> GateScene {
    let input = Input::from_json(w.input.as_ref()).unwrap();
    let spec = GateSpec::from_json(&w.composite["spec"], false).unwrap();
    let req = w.to_request("bench");
    let namespace = w.composite["metadata"]["namespace"].as_str();
    let pipeline = match lookup::find_pipeline(&req, &spec.tenant, namespace).unwrap() {
        lookup::Lookup::Found(p, _) => Some(p),
        _ => None,
    };
    let policy = Policy::for_gate(&spec, pipeline.as_deref(), &input.approvals).unwrap();
    GateScene {
        key: workloads::example_gate_key(&w.composite),
        status: w.composite["status"].clone(),
        req,
        input,
        spec,
        policy,
    }
}

fn gate_decision_and_render(c: &mut Criterion) {
    // A pending gate: the decided workload with its status taken away.
    let mut pending = workloads::decided_gate();
    pending.composite["status"] = Value::Null;
    pending.observed.remove("promotion-job");
    let scene = gate_scene(&pending);
    let gate = Gate {
        spec: scene.spec.clone(),
        key: GateKey::from_recorded(&scene.key),
        namespace: "platform-system".into(),
        name: "my-service-dev-to-staging".into(),
        uid: String::new(),
        requester: Some(Login::new("rita")),
    };
    let recorded = Recorded::for_key(GateStatus::from_json(&scene.status), &gate.key);
    let situation = Situation::at(now());
    let labels = scene.input.github.labels.clone();
    let opened = now() - Duration::hours(3);
    let new = issue::new_issue(
        &gate,
        &scene.policy,
        opened + Duration::hours(24),
        &labels,
        None,
    );
    let issue = Issue {
        number: 42,
        html_url: "https://github.com/acme/release-approvals/issues/42".into(),
        title: new.title,
        body: new.body,
        state: IssueState::Open,
        state_reason: None,
        closed_by: None,
        closed_at: None,
        created_at: opened,
        updated_at: opened,
        author: "release-bot".into(),
        author_id: user_id("release-bot"),
        labels,
    };
    let comment = |id: u64, author: &str, body: &str, minutes: i64| Comment {
        id,
        author: author.into(),
        author_id: user_id(author),
        body: body.into(),
        created_at: opened + Duration::minutes(minutes),
        updated_at: opened + Duration::minutes(minutes),
    };
    let binding = issue::binding_comment(
        &gate,
        &marker::Binding::of(&gate, opened, opened + Duration::hours(24)),
    );
    let chatter = vec![
        comment(1, "release-bot", &binding, 0),
        comment(2, "rita", "Release notes: https://example.com/notes", 5),
        comment(3, "carol", "Smoke tests on dev are green.", 30),
        comment(4, "rita", "/approve", 40),
        comment(5, "dave", "LGTM from the SRE side.", 60),
    ];
    let mut approving = chatter.clone();
    approving.push(comment(6, "alice", "Checked the changelog.\n/approve", 90));
    let identity = Identity {
        login: "release-bot".into(),
        id: user_id("release-bot"),
    };
    for (case, comments) in [("pending", &chatter), ("approve_comment", &approving)] {
        let read = Read {
            identity: identity.clone(),
            recorded: Vec::new(),
            issues: vec![IssueRead {
                issue: issue.clone(),
                comments: comments.clone(),
                events: Vec::new(),
                deletions: Vec::new(),
                text_edit: None,
                more_deletions: false,
            }],
            people: Default::default(),
            complete: true,
            change: None,
        };
        let decide = |read: &Read| {
            decide::decide(
                &gate,
                &recorded,
                &scene.policy,
                &situation,
                read,
                &scene.input.github.labels,
            )
        };
        let decision = decide(&read);
        assert_eq!(
            decision.state.as_str(),
            if case == "pending" {
                "pending"
            } else {
                "approved"
            }
        );
        c.bench_function(&format!("gate_decide/{case}"), |b| {
            b.iter(|| decide(std::hint::black_box(&read)))
        });
        let outcome = Outcome {
            decision,
            sync: GitHubSync::Synced(Synced::Read),
        };
        let render_scene = Scene {
            req: &scene.req,
            input: &scene.input,
            gate: &gate,
            policy: &scene.policy,
            situation: &situation,
            observed_status: &scene.status,
            recorded: &recorded,
            notices: &Default::default(),
        };
        c.bench_function(&format!("gate_render/{case}"), |b| {
            b.iter(|| {
                let mut rsp = response::to(&scene.req, response::DEFAULT_TTL);
                respond::respond(&mut rsp, std::hint::black_box(&render_scene), &outcome);
                rsp
            })
        });
    }
}

/// The promotion Job as the gate renders it, into a protobuf Struct: straight, and
/// through `serde_json::Value` as the SDK's `resource::update` does.
fn object_to_struct(c: &mut Criterion) {
    let observed = workloads::decided_gate().observed["promotion-job"].clone();
    let job: k8s_openapi::api::batch::v1::Job = serde_json::from_value(observed).unwrap();
    assert_eq!(
        function_release_pipeline::pb::to_struct(&job).unwrap(),
        json_to_struct(serde_json::to_value(&job).unwrap().as_object().unwrap())
    );
    c.bench_function("object_to_struct/job_straight", |b| {
        b.iter(|| function_release_pipeline::pb::to_struct(std::hint::black_box(&job)))
    });
    c.bench_function("object_to_struct/job_through_json", |b| {
        b.iter(|| {
            let json = serde_json::to_value(std::hint::black_box(&job)).unwrap();
            json_to_struct(json.as_object().unwrap())
        })
    });
}

/// A gate's freeze check under one window: the windows read back and whether one holds
/// the target now. An impossible date (30 February) is left out after a search bounded to
/// four years; croner's own search for it runs to the year 5000.
fn freeze_windows(c: &mut Criterion) {
    use function_release_pipeline::freeze;
    use function_release_pipeline::pipeline::validate::validate_config;
    use function_release_pipeline::xr::pipeline::PipelineSpec;
    let config = |schedule: &str| {
        let spec = serde_json::json!({
            "tenant": "my-service",
            "environments": ["dev", "staging", "production"],
            "artifactConfig": {"registry": "ghcr.io", "retention_days": 30},
            "testing": {"validation_mode": "preview", "bootstrap_mode": "preview"},
            "freezes": [{"name": "w", "environments": ["production"], "schedule": schedule,
                "duration": "24h", "timeZone": "Europe/Berlin"}],
        });
        validate_config(&PipelineSpec::from_json(&spec).unwrap()).unwrap()
    };
    for (name, schedule) in [("weekly", "0 18 * * 5"), ("impossible", "0 0 30 2 *")] {
        let config = config(schedule);
        c.bench_function(&format!("freeze/windows_and_frozen/{name}"), |b| {
            b.iter(|| {
                let windows = freeze::windows(std::hint::black_box(&config), now());
                freeze::frozen(&windows, "production", now())
            })
        });
    }
    let impossible = freeze::parse_schedule("0 0 30 2 *").unwrap();
    c.bench_function("freeze/croner_unbounded/impossible", |b| {
        b.iter(|| impossible.find_next_occurrence(std::hint::black_box(&now()), false))
    });
}

criterion_group!(
    benches,
    run_function_and_conversion,
    gate_decision_and_render,
    object_to_struct,
    freeze_windows
);
criterion_main!(benches);
