//! Crossplane, simulated around the real server binary: an XPromotionGate reconciled
//! over gRPC (the client generated from `proto/`) against the fake GitHub HTTP server.
//!
//! Each reconcile calls RunFunction as Crossplane does: first without the pipeline
//! requirement answered, then with `required_resources["pipeline-config"]` holding the
//! tenant's pipeline ConfigMap; credentials go in `credentials["github"]` as a
//! Secret's data. Crossplane's writes are simulated: the desired XR status, with the
//! response's conditions, becomes the next observed status (or is dropped, as a lost
//! write), and the desired composed resources become the observed ones.
//!
//! Use it from a test file that also declares `mod common;` and
//! `#[path = "fake_github/mod.rs"] mod fake_github;`, with
//! `#[path = "fake_github/e2e.rs"] mod e2e;`.

// Each test binary uses only part of the harness.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};
use tonic::transport::Channel;

use crate::common::wire::{
    self, CredentialData, Credentials, RequestMeta, Resources, RunFunctionRequest,
    RunFunctionResponse, Severity, State, credentials,
};
use crate::common::{
    FunctionRunnerServiceClient, Server, connect_insecure, example_file, free_port, from_struct,
    read_yaml, resource, start_server, to_struct, wait_until_listening,
};
use crate::fake_github::{FakeGitHub, TOKEN};

use function_release_pipeline::pipeline_config::Approvers;

/// The requirement name the gate asks the pipeline ConfigMap under.
pub const REQUIREMENT: &str = "release-pipeline";
/// The most one call spends on GitHub (the gate's budget, `GITHUB_BUDGET`).
pub const GITHUB_BUDGET: Duration = Duration::from_secs(40);

/// The uid Crossplane gives the example gate (the example file has none).
pub const GATE_UID: &str = "0b9d2c1e-5f7a-4c3b-9e8d-7a6b5c4d3e2f";

/// The example gate, `examples/promotion-gate/xr.yaml` (requested by `rita`), with the
/// uid the API server gives it.
pub fn example_gate() -> Value {
    let mut xr = read_yaml(example_file("promotion-gate", "xr.yaml")).remove(0);
    xr["metadata"]["uid"] = Value::String(GATE_UID.into());
    xr
}

/// The example Composition step's Input, pointed at `api_url`.
pub fn example_input(api_url: &str) -> Value {
    let composition = read_yaml(example_file("promotion-gate", "composition.yaml")).remove(0);
    let mut input = composition["spec"]["pipeline"][0]["input"].clone();
    input["github"]["apiUrl"] = json!(api_url);
    // Every call looks at the repository, so that an answer is read at the next reconcile
    // (the server's clock is the wall clock; the default waits half a poll interval).
    input["github"]["lookInterval"] = json!("1ms");
    input
}

/// The example tenant's XReleasePipeline (`render-inputs/promotion-gate/required.yaml`),
/// with `approvers` for promotions into staging when given.
pub fn example_pipeline(approvers: Option<Approvers>) -> Value {
    let mut pipeline = read_yaml(example_file("promotion-gate", "required.yaml")).remove(0);
    if let Some(approvers) = approvers {
        pipeline["spec"]["approvals"] = json!({"staging": {
            "users": approvers.users,
            "teams": approvers.teams,
            "minApprovals": approvers.min_approvals,
        }});
    }
    pipeline
}

/// Approvers `users` with a quorum of `min_approvals`.
pub fn approvers(users: &[&str], min_approvals: u32) -> Approvers {
    Approvers {
        users: users.iter().map(|u| u.to_string()).collect(),
        teams: Vec::new(),
        min_approvals,
        rules: Vec::new(),
        exclude_change_authors: None,
        reminders: None,
        escalation: None,
    }
}

/// What the server wrote on stderr, read as it comes.
#[derive(Clone, Default)]
pub struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
    closed: Arc<AtomicBool>,
}

impl Captured {
    /// Everything captured so far, without terminal colour sequences.
    pub fn text(&self) -> String {
        let raw = String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // CSI: ESC [ parameters, ended by a letter.
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Waits until the server closed its stderr (it exited), at most ten seconds.
    pub async fn wait_closed(&self) {
        for _ in 0..200 {
            if self.closed.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server's stderr stays open");
    }
}

/// Starts the real binary like [`start_server`], but keeps its stderr (the log) in memory,
/// and waits like it until the server listens.
pub fn start_server_capturing_stderr(args: &[&str], envs: &[(&str, &str)]) -> (Server, Captured) {
    for _ in 0..5 {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_function-release-pipeline"))
            .args(args)
            .envs(envs.iter().copied())
            .arg("--address")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--metrics-address")
            .arg("")
            .env_remove("TLS_SERVER_CERTS_DIR")
            .env_remove("GITHUB_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server binary");
        let captured = Captured::default();
        let mut stderr = child.stderr.take().expect("piped stderr");
        let sink = captured.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.bytes.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            sink.closed.store(true, Ordering::SeqCst);
        });
        let mut server = Server {
            child,
            port,
            log: PathBuf::new(),
        };
        if wait_until_listening(&mut server) {
            return (server, captured);
        }
    }
    panic!("the server binary did not start listening");
}

/// A condition as the response set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// The reason.
    pub reason: String,
    /// The message.
    pub message: String,
}

/// One RunFunction answer and how long it took.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The response.
    pub rsp: RunFunctionResponse,
    /// The time the call took.
    pub elapsed: Duration,
}

fn condition_status(status: i32) -> &'static str {
    match wire::Status::try_from(status).map(|s| s.as_str_name()) {
        Ok("STATUS_CONDITION_TRUE") => "True",
        Ok("STATUS_CONDITION_FALSE") => "False",
        _ => "Unknown",
    }
}

/// What provider-kubernetes does with a desired `Object`: creates its manifest and
/// reports it in `status.atProvider.manifest`, as it last saw it (the status a test gave
/// the running Job stays). Anything else is observed as desired.
fn provider_kubernetes(mut desired: Value, previous: Option<&Value>) -> Value {
    if desired["kind"] != "Object" {
        return desired;
    }
    let manifest = desired["spec"]["forProvider"]["manifest"].clone();
    let live = previous
        .and_then(|p| p.pointer("/status/atProvider/manifest"))
        .filter(|live| live["metadata"]["name"] == manifest["metadata"]["name"])
        .cloned()
        .unwrap_or(manifest);
    desired["status"] = json!({"atProvider": {"manifest": live}});
    desired
}

impl Reply {
    /// The desired XR status.
    pub fn status(&self) -> Value {
        self.rsp
            .desired
            .as_ref()
            .and_then(|d| d.composite.as_ref())
            .and_then(|c| c.resource.as_ref())
            .map(from_struct)
            .and_then(|xr| xr.get("status").cloned())
            .unwrap_or(Value::Null)
    }

    /// The condition of this type.
    pub fn condition(&self, kind: &str) -> Option<Cond> {
        self.rsp
            .conditions
            .iter()
            .find(|c| c.r#type == kind)
            .map(|c| Cond {
                status: condition_status(c.status).into(),
                reason: c.reason.clone(),
                message: c.message.clone().unwrap_or_default(),
            })
    }

    /// Results of a severity, as (reason, message).
    pub fn results(&self, severity: Severity) -> Vec<(String, String)> {
        self.rsp
            .results
            .iter()
            .filter(|r| r.severity == severity as i32)
            .map(|r| (r.reason.clone().unwrap_or_default(), r.message.clone()))
            .collect()
    }

    /// Fatal result messages.
    pub fn fatal(&self) -> Vec<String> {
        self.results(Severity::Fatal)
            .into_iter()
            .map(|(_, m)| m)
            .collect()
    }

    /// The TTL.
    pub fn ttl(&self) -> Duration {
        let ttl = self.rsp.meta.as_ref().and_then(|m| m.ttl).expect("a TTL");
        Duration::new(ttl.seconds as u64, ttl.nanos as u32)
    }

    /// A desired composed resource.
    /// The promotion Job as rendered, seen through the `Object` that carries it to
    /// `promotion.namespace`.
    pub fn job(&self) -> Option<Value> {
        let composed = self.composed("promotion-job")?;
        if composed["kind"] == "Object" {
            Some(composed["spec"]["forProvider"]["manifest"].clone())
        } else {
            Some(composed)
        }
    }

    pub fn composed(&self, name: &str) -> Option<Value> {
        self.rsp
            .desired
            .as_ref()
            .and_then(|d| d.resources.get(name))
            .and_then(|r| r.resource.as_ref())
            .map(from_struct)
    }

    /// Every message the response carries (results and conditions).
    pub fn messages(&self) -> Vec<String> {
        let results = self.rsp.results.iter().map(|r| r.message.clone());
        let conditions = self
            .rsp
            .conditions
            .iter()
            .map(|c| c.message.clone().unwrap_or_default());
        results.chain(conditions).collect()
    }
}

/// Crossplane, the server binary and the fake GitHub, reconciling one gate.
pub struct Crossplane {
    /// The fake GitHub.
    pub fake: FakeGitHub,
    /// The server binary.
    pub server: Server,
    /// What the server logs, when started with [`Crossplane::start_logging`].
    pub log: Option<Captured>,
    client: FunctionRunnerServiceClient<Channel>,
    /// The XR as Crossplane observes it.
    pub xr: Value,
    /// The step's Input.
    pub input: Value,
    /// The tenant's pipeline ConfigMap, answering the requirement (none: absent).
    pub pipeline: Option<Value>,
    /// The step's credentials data (none: the step has no credentials).
    pub credentials: Option<BTreeMap<String, Vec<u8>>>,
    /// The step's other credentials entries, by name.
    pub other_credentials: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// Composed resources as Crossplane observes them.
    pub observed: BTreeMap<String, Value>,
    /// Answer the requirement as Crossplane before v2 does: in `extra_resources`.
    pub legacy_requirements: bool,
    /// The deadline each call carries (`grpc-timeout`), as Crossplane v1.17 and v1.18
    /// set 10 s per call and later versions the time left of a reconcile.
    pub grpc_timeout: Option<Duration>,
    calls: u64,
}

impl Crossplane {
    /// The example gate, Input and pipeline against a fresh fake whose clock is the
    /// wall clock (the server reads the wall clock), the fake's token as credentials.
    pub async fn start() -> Crossplane {
        let server = start_server(&["--insecure"], &[]);
        Self::with_server(server, None).await
    }

    /// Like [`Crossplane::start`], the server started with `args` (after `--insecure`)
    /// and `envs`, its log captured into [`Self::log`].
    pub async fn start_logging(args: &[&str], envs: &[(&str, &str)]) -> Crossplane {
        let args: Vec<&str> = ["--insecure"].iter().chain(args).copied().collect();
        let (server, log) = start_server_capturing_stderr(&args, envs);
        Self::with_server(server, Some(log)).await
    }

    async fn with_server(server: Server, log: Option<Captured>) -> Crossplane {
        let fake = FakeGitHub::start().await;
        fake.set_now(Utc::now());
        let client = connect_insecure(server.port).await;
        let input = example_input(&fake.url());
        Crossplane {
            fake,
            server,
            log,
            client,
            xr: example_gate(),
            input,
            pipeline: Some(example_pipeline(None)),
            credentials: Some(BTreeMap::from([(
                "token".to_owned(),
                TOKEN.as_bytes().to_vec(),
            )])),
            other_credentials: BTreeMap::new(),
            observed: BTreeMap::new(),
            legacy_requirements: false,
            grpc_timeout: None,
            calls: 0,
        }
    }

    /// The function's replica restarts (a rollout, an OOM kill, a node drain): a new
    /// server process, with nothing remembered, serves the next calls.
    pub async fn restart(&mut self) {
        self.server = start_server(&["--insecure"], &[]);
        self.client = connect_insecure(self.server.port).await;
    }

    /// The request Crossplane sends, with or without the requirement answered.
    pub fn request(&self, answered: bool) -> RunFunctionRequest {
        let mut observed = State {
            composite: Some(resource(&self.xr)),
            ..Default::default()
        };
        for (name, object) in &self.observed {
            observed.resources.insert(name.clone(), resource(object));
        }
        let mut req = RunFunctionRequest {
            meta: Some(RequestMeta {
                tag: format!("call-{}", self.calls),
                ..Default::default()
            }),
            observed: Some(observed),
            desired: Some(State::default()),
            input: Some(to_struct(&self.input)),
            ..Default::default()
        };
        if let Some(data) = &self.credentials {
            req.credentials.insert(
                "github".into(),
                Credentials {
                    source: Some(credentials::Source::CredentialData(CredentialData {
                        data: data.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    })),
                },
            );
        }
        for (name, data) in &self.other_credentials {
            req.credentials.insert(
                name.clone(),
                Credentials {
                    source: Some(credentials::Source::CredentialData(CredentialData {
                        data: data.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    })),
                },
            );
        }
        if answered {
            let answer = Resources {
                items: self.pipeline.iter().map(resource).collect(),
            };
            if self.legacy_requirements {
                req.extra_resources.insert(REQUIREMENT.into(), answer);
            } else {
                req.required_resources.insert(REQUIREMENT.into(), answer);
            }
        }
        req
    }

    /// One RunFunction call, timed.
    pub async fn call(&mut self, req: RunFunctionRequest) -> Reply {
        self.calls += 1;
        let mut req = tonic::Request::new(req);
        if let Some(timeout) = self.grpc_timeout {
            req.set_timeout(timeout);
        }
        let started = Instant::now();
        let rsp = self
            .client
            .run_function(req)
            .await
            .expect("a response, not a gRPC error")
            .into_inner();
        Reply {
            rsp,
            elapsed: started.elapsed(),
        }
    }

    /// One reconcile whose status write lands: the desired status and conditions
    /// become the observed XR's, the desired composed resources the observed ones.
    pub async fn reconcile(&mut self) -> Reply {
        let reply = self.reconcile_lost_write().await;
        let mut status = reply.status();
        let conditions: Vec<Value> = reply
            .rsp
            .conditions
            .iter()
            .map(|c| {
                json!({"type": c.r#type, "status": condition_status(c.status),
                       "reason": c.reason, "message": c.message.clone().unwrap_or_default()})
            })
            .collect();
        status["conditions"] = Value::Array(conditions);
        self.xr["status"] = status;
        let previous = std::mem::take(&mut self.observed);
        self.observed = reply
            .rsp
            .desired
            .iter()
            .flat_map(|d| d.resources.iter())
            .filter_map(|(name, r)| r.resource.as_ref().map(|s| (name.clone(), from_struct(s))))
            .map(|(name, object)| {
                let observed = provider_kubernetes(object, previous.get(&name));
                (name, observed)
            })
            .collect();
        reply
    }

    /// The promotion Job as it runs: the observed Job, or the one provider-kubernetes
    /// reports in the `Object` that carries it.
    pub fn job_mut(&mut self) -> Option<&mut Value> {
        let observed = self.observed.get_mut("promotion-job")?;
        if observed["kind"] == "Object" {
            observed.pointer_mut("/status/atProvider/manifest")
        } else {
            Some(observed)
        }
    }

    /// One reconcile whose status write is lost: the observed XR stays as it was.
    /// One reconcile after an attack: its status write landing (`lost` false), or with
    /// the XR's status lost and the write lost too, so the gate re-derives everything
    /// from GitHub.
    pub async fn poll(&mut self, lost: bool) -> Reply {
        if lost {
            self.xr["status"] = Value::Null;
            self.reconcile_lost_write().await
        } else {
            self.reconcile().await
        }
    }

    /// The first call, without the requirement answered, must ask for the pipeline
    /// and touch no GitHub.
    pub async fn reconcile_lost_write(&mut self) -> Reply {
        let before = self.fake.seen().len();
        let first = self.call(self.request(false)).await;
        let requirement = first.rsp.requirements.as_ref().and_then(|r| {
            if self.legacy_requirements {
                r.extra_resources.get(REQUIREMENT)
            } else {
                r.resources.get(REQUIREMENT)
            }
        });
        assert!(
            requirement.is_some(),
            "the first call asks for the pipeline: {:?}",
            first.rsp.requirements
        );
        assert_eq!(
            self.fake.seen().len(),
            before,
            "no GitHub request before the requirement is answered"
        );
        self.call(self.request(true)).await
    }
}
