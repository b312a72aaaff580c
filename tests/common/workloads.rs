//! Realistic RunFunction inputs for benchmarks: the example XRs with their observed
//! resources, required resources and Composition input, read from `examples/` and `render-inputs/`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use function_release_pipeline::gate::key::{GateKey, KeyParts};
use function_release_pipeline::names::job_name;
use function_release_pipeline::names::requirement::PIPELINE as REQUIREMENT;
use function_release_pipeline::names::resource::PROMOTION_JOB as JOB_RESOURCE;
use function_sdk_rust::proto::v1::{RequestMeta, Resource, Resources, RunFunctionRequest, State};
use function_sdk_rust::resource::json_to_struct;
use serde_json::{Value, json};

/// One request's content, as JSON.
pub struct Request {
    /// The observed XR.
    pub composite: Value,
    /// Observed composed resources by composition resource name.
    pub observed: BTreeMap<String, Value>,
    /// Required resources by requirement name.
    pub required: BTreeMap<String, Vec<Value>>,
    /// The step's input.
    pub input: Option<Value>,
}

impl Request {
    /// The RunFunction request carrying this content, tagged `tag`.
    pub fn to_request(&self, tag: &str) -> RunFunctionRequest {
        RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: tag.into(),
                ..Default::default()
            }),
            observed: Some(State {
                composite: Some(resource(&self.composite)),
                resources: self
                    .observed
                    .iter()
                    .map(|(k, v)| (k.clone(), resource(v)))
                    .collect(),
            }),
            desired: Some(State::default()),
            input: self
                .input
                .as_ref()
                .and_then(Value::as_object)
                .map(json_to_struct),
            required_resources: self
                .required
                .iter()
                .map(|(k, items)| {
                    let items = items.iter().map(resource).collect();
                    (k.clone(), Resources { items })
                })
                .collect(),
            ..Default::default()
        }
    }
}

/// A JSON object as a protobuf resource.
pub fn resource(value: &Value) -> Resource {
    Resource {
        resource: value.as_object().map(json_to_struct),
        ..Default::default()
    }
}

fn read(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    function_release_pipeline::yaml::from_str_multi(&text).unwrap()
}

fn folder(folder: &str, dir: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(folder).join(dir)
}

/// The example in `examples/<dir>`: its XR and Composition input, with its observed
/// resources from `render-inputs/<dir>`.
pub fn example(dir: &str) -> Request {
    let root = folder("examples", dir);
    let composite = read(&root.join("xr.yaml")).remove(0);
    let composition = read(&root.join("composition.yaml")).remove(0);
    let input = composition["spec"]["pipeline"]
        .as_array()
        .and_then(|steps| {
            steps
                .iter()
                .find(|s| s["functionRef"]["name"] == "function-release-pipeline")
        })
        .map(|s| s["input"].clone());
    let observed_path = folder("render-inputs", dir).join("observed.yaml");
    let observed = if observed_path.exists() {
        read(&observed_path)
            .into_iter()
            .filter_map(|o| {
                let name = o["metadata"]["annotations"]["crossplane.io/composition-resource-name"]
                    .as_str()?
                    .to_owned();
                Some((name, o))
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    Request {
        composite,
        observed,
        required: BTreeMap::new(),
        input,
    }
}

/// The gate key of the promotion-gate example's XR, computed as the function does.
pub fn example_gate_key(composite: &Value) -> String {
    let text = |p: &str| composite.pointer(p).and_then(Value::as_str).unwrap();
    GateKey::of_parts(KeyParts {
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name"),
        uid: composite
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        tenant: text("/spec/tenant"),
        source: text("/spec/source_environment"),
        target: text("/spec/target_environment"),
        artifact_id: text("/spec/artifact_id"),
        change: composite.pointer("/spec/change").map(|_| {
            (
                text("/spec/change/repository"),
                text("/spec/change/revision"),
            )
        }),
    })
    .to_string()
}

/// The promotion-gate example once approved: its observed status records `approved` for
/// its own gate key (so the function makes no GitHub call), the pipeline ConfigMap is
/// answered in `required_resources`, and the gate ConfigMap and a succeeded promotion
/// Job are observed.
pub fn decided_gate() -> Request {
    let mut w = example("promotion-gate");
    let key = example_gate_key(&w.composite);
    w.composite["status"] = json!({
        "gate_status": "approved",
        "approver": "alice",
        "approval_timestamp": "2026-03-01T09:12:00Z",
        "created_timestamp": "2026-03-01T08:00:00Z",
        "gate_key": key,
        "issue": {"number": 42, "url": "https://github.com/acme/release-approvals/issues/42"},
        "timeout_at": "2026-03-02T08:00:00Z",
        "approvals": [{"login": "alice", "at": "2026-03-01T09:12:00Z", "via": "comment"}],
        "promotion": {"job": job_name(w.composite["spec"]["tenant"].as_str().unwrap(), &key[..12]),
                      "state": "succeeded", "completed_at": "2026-03-01T09:14:00Z",
                      "started_at": "2026-03-01T09:13:00Z"},
        "conditions": [
            {"type": "Approved", "status": "True", "reason": "Approved",
             "lastTransitionTime": "2026-03-01T09:12:00Z"},
            {"type": "ApprovalSynced", "status": "True", "reason": "Decided",
             "lastTransitionTime": "2026-03-01T09:12:00Z"},
            {"type": "Ready", "status": "True", "reason": "Available",
             "lastTransitionTime": "2026-03-01T09:13:00Z"},
        ],
    });
    let namespace = w.composite["metadata"]["namespace"].clone();
    let job = job_name(w.composite["spec"]["tenant"].as_str().unwrap(), &key[..12]);
    w.observed.insert(
        JOB_RESOURCE.to_owned(),
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": job,
                "namespace": namespace,
                "annotations": {"crossplane.io/composition-resource-name": JOB_RESOURCE,
                                "release.zerotouch.dev/gate-key": key},
                "creationTimestamp": "2026-03-01T09:13:00Z",
            },
            "status": {"succeeded": 1, "completionTime": "2026-03-01T09:14:00Z"},
        }),
    );
    w.required.insert(
        REQUIREMENT.to_owned(),
        read(&folder("render-inputs", "promotion-gate").join("required.yaml")),
    );
    w
}

/// Every workload the benchmarks drive, by name.
pub fn all() -> Vec<(&'static str, Request)> {
    vec![
        ("pipeline", example("release-pipeline")),
        ("decided_gate", decided_gate()),
    ]
}

/// The promotion-gate example as a pending gate named `name` (so with its own key): no
/// status, no Job, the Input pointed at `api_url`, `token` in the step's credentials.
pub fn pending_gate(api_url: &str, name: &str, token: &str) -> RunFunctionRequest {
    use function_sdk_rust::proto::v1::{CredentialData, Credentials, credentials};
    let mut w = decided_gate();
    w.composite["status"] = Value::Null;
    w.composite["metadata"]["name"] = json!(name);
    w.observed.remove(JOB_RESOURCE);
    let mut input = w.input.clone().unwrap();
    input["github"]["apiUrl"] = json!(api_url);
    // Hundreds of one tenant's gates at once: what GitHub costs is measured here, not the
    // per-tenant write budget (tests/gate/floods.rs).
    input["github"]["writesPerNamespacePerHour"] = json!(0);
    w.input = Some(input);
    let mut req = w.to_request(name);
    req.credentials = [(
        "github".to_owned(),
        Credentials {
            source: Some(credentials::Source::CredentialData(CredentialData {
                data: [("token".to_owned(), token.as_bytes().to_vec())].into(),
            })),
        },
    )]
    .into();
    req
}
