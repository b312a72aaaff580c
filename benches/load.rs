//! Load generator: drives the release server and a baseline server (same SDK, RunFunction
//! returns the request's desired state untouched) over loopback gRPC with N concurrent
//! callers, using the client generated from `proto/`. A third server on the same SDK,
//! "canned", answers with a copy of the release server's response to the workload: what
//! carrying a response of that size costs without computing it. Reports requests per second,
//! p50/p90/p99 latency, the ratio to the baseline, the server's CPU time per request,
//! resident memory idle / steady / peak,
//! and time from start to serving.
//!
//! `cargo bench --bench load -- [--concurrency 16] [--seconds 10] [--warmup 2] [--decode summary|full]`
//!
//! The callers share the machine's cores with the server under test. With `--decode
//! summary` (the default) each caller reads every response off the wire but decodes only
//! its results and the names of its desired resources, which it checks against a fully
//! decoded response taken before the run: what the callers spend then is the same for
//! both servers, and the latency measures the server. `--decode full` decodes every
//! response completely, as Crossplane does on its own cores; on a machine whose cores the
//! callers share, that charges the callers' decoding of the composed objects to the
//! server under test.
//!
//! Run against a release build: `cargo bench` builds the binary with the bench profile.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

#[allow(clippy::all, clippy::pedantic)]
mod wire {
    include!(concat!(env!("OUT_DIR"), "/apiextensions.r#fn.proto.v1.rs"));
}

#[path = "../tests/common/workloads.rs"]
mod workloads;

use wire::function_runner_service_client::FunctionRunnerServiceClient;

/// The baseline: a function on the same SDK that returns desired state untouched.
struct Baseline;

#[tonic::async_trait]
impl function_sdk_rust::proto::v1::function_runner_service_server::FunctionRunnerService
    for Baseline
{
    async fn run_function(
        &self,
        request: tonic::Request<function_sdk_rust::proto::v1::RunFunctionRequest>,
    ) -> Result<tonic::Response<function_sdk_rust::proto::v1::RunFunctionResponse>, tonic::Status>
    {
        let req = request.into_inner();
        Ok(tonic::Response::new(function_sdk_rust::response::to(
            &req,
            function_sdk_rust::response::DEFAULT_TTL,
        )))
    }
}

/// A server that answers every call with one prepared response (the release server's
/// response to the workload), copied: the cost of carrying a response of that size and
/// shape through the SDK, gRPC and protobuf, without computing it.
struct Canned(function_sdk_rust::proto::v1::RunFunctionResponse);

#[tonic::async_trait]
impl function_sdk_rust::proto::v1::function_runner_service_server::FunctionRunnerService
    for Canned
{
    async fn run_function(
        &self,
        request: tonic::Request<function_sdk_rust::proto::v1::RunFunctionRequest>,
    ) -> Result<tonic::Response<function_sdk_rust::proto::v1::RunFunctionResponse>, tonic::Status>
    {
        let mut rsp = self.0.clone();
        if let (Some(meta), Some(req)) = (rsp.meta.as_mut(), request.get_ref().meta.as_ref()) {
            meta.tag = req.tag.clone();
        }
        Ok(tonic::Response::new(rsp))
    }
}

/// Serves `function` with the SDK on the server flags in `args` (this binary's own
/// `--serve-*` flags removed).
fn serve_with_sdk<F>(function: F, args: &[String])
where
    F: function_sdk_rust::proto::v1::function_runner_service_server::FunctionRunnerService,
{
    let server_args = <function_sdk_rust::Args as clap::Parser>::parse_from(args);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(function_sdk_rust::serve(function, &server_args))
        .unwrap();
}

struct Options {
    concurrency: usize,
    seconds: u64,
    warmup: u64,
    full_decode: bool,
}

/// What a caller decodes of a response in `--decode summary` mode: its results and the
/// names of its desired composed resources; the rest (the composed objects, status,
/// conditions, requirements) is skipped as unknown fields.
#[derive(Clone, PartialEq, prost::Message)]
struct ResponseSummary {
    #[prost(message, optional, tag = "2")]
    desired: Option<DesiredSummary>,
    #[prost(message, repeated, tag = "3")]
    results: Vec<wire::Result>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DesiredSummary {
    /// The `resources` map's entries, keys only.
    #[prost(message, repeated, tag = "2")]
    resources: Vec<EntryKey>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct EntryKey {
    #[prost(string, tag = "1")]
    key: String,
}

/// What every response of a run must show: no Fatal result, these desired resources.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    resources: Vec<String>,
}

fn check(results: &[wire::Result], mut resources: Vec<String>, expected: &Expected) {
    assert!(
        results
            .iter()
            .all(|r| r.severity != wire::Severity::Fatal as i32),
        "the workload must not be fatal: {results:?}"
    );
    resources.sort();
    assert_eq!(resources, expected.resources, "desired resources");
}

fn options() -> Options {
    let mut o = Options {
        concurrency: 16,
        seconds: 10,
        warmup: 2,
        full_decode: false,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = || args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match args[i].as_str() {
            "--concurrency" => o.concurrency = value().expect("--concurrency N") as usize,
            "--seconds" => o.seconds = value().expect("--seconds N"),
            "--warmup" => o.warmup = value().expect("--warmup N"),
            "--decode" => {
                o.full_decode = match args.get(i + 1).map(String::as_str) {
                    Some("full") => true,
                    Some("summary") => false,
                    _ => panic!("--decode summary|full"),
                }
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

struct Server {
    child: Child,
    port: u16,
    started: Instant,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(program: &Path, extra: &[&str]) -> Server {
    let port = free_port();
    let started = Instant::now();
    let child = Command::new(program)
        .args(extra)
        .args(["--insecure", "--metrics-address", "", "--address"])
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("GITHUB_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    Server {
        child,
        port,
        started,
    }
}

/// CPU time the process has used (user + system), from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
    Duration::from_millis((ticks(14) + ticks(15)) * 10)
}

/// Resident set size now and at its peak, in KiB, from /proc.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn connect(
    server: &Server,
) -> (
    FunctionRunnerServiceClient<tonic::transport::Channel>,
    Duration,
) {
    loop {
        if let Ok(c) =
            FunctionRunnerServiceClient::connect(format!("http://127.0.0.1:{}", server.port)).await
        {
            return (c, server.started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

struct Measured {
    requests: usize,
    rps: f64,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    /// The server's CPU time (user + system) per request.
    cpu_per_request: Duration,
    /// The callers' CPU time (this process) per request.
    callers_cpu_per_request: Duration,
}

/// One caller's connection, decoding responses as the options say.
enum Caller {
    Full(FunctionRunnerServiceClient<tonic::transport::Channel>),
    Summary(tonic::client::Grpc<tonic::transport::Channel>),
}

impl Caller {
    async fn connect(port: u16, full: bool) -> Caller {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        if full {
            Caller::Full(FunctionRunnerServiceClient::new(channel))
        } else {
            Caller::Summary(tonic::client::Grpc::new(channel))
        }
    }

    /// Calls RunFunction; the response's results and desired resource names.
    async fn call(
        &mut self,
        request: wire::RunFunctionRequest,
    ) -> (Vec<wire::Result>, Vec<String>) {
        match self {
            Caller::Full(client) => {
                let rsp = client
                    .run_function(request)
                    .await
                    .expect("RunFunction")
                    .into_inner();
                let names = rsp
                    .desired
                    .iter()
                    .flat_map(|d| d.resources.keys().cloned())
                    .collect();
                (rsp.results, names)
            }
            Caller::Summary(grpc) => {
                grpc.ready().await.expect("ready");
                let codec =
                    tonic_prost::ProstCodec::<wire::RunFunctionRequest, ResponseSummary>::default();
                let path = http::uri::PathAndQuery::from_static(
                    "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction",
                );
                let rsp = grpc
                    .unary(tonic::Request::new(request), path, codec)
                    .await
                    .expect("RunFunction")
                    .into_inner();
                let names = rsp
                    .desired
                    .into_iter()
                    .flat_map(|d| d.resources.into_iter().map(|e| e.key))
                    .collect();
                (rsp.results, names)
            }
        }
    }
}

/// The protobuf bytes of `server`'s response to `request`.
async fn response_bytes(server: &Server, request: &wire::RunFunctionRequest) -> Vec<u8> {
    let (mut client, _) = connect(server).await;
    let rsp = client
        .run_function(request.clone())
        .await
        .expect("RunFunction")
        .into_inner();
    prost::Message::encode_to_vec(&rsp)
}

/// The desired resources of one fully decoded response.
async fn expected(server: &Server, request: &wire::RunFunctionRequest) -> Expected {
    let (mut client, _) = connect(server).await;
    let rsp = client
        .run_function(request.clone())
        .await
        .expect("RunFunction")
        .into_inner();
    let mut resources: Vec<String> = rsp
        .desired
        .iter()
        .flat_map(|d| d.resources.keys().cloned())
        .collect();
    resources.sort();
    let expected = Expected { resources };
    check(&rsp.results, expected.resources.clone(), &expected);
    expected
}

async fn drive(server: &Server, request: &wire::RunFunctionRequest, o: &Options) -> Measured {
    let request = Arc::new(request.clone());
    let expected = Arc::new(expected(server, &request).await);
    let run = |seconds: u64| {
        let request = request.clone();
        let expected = expected.clone();
        let port = server.port;
        let concurrency = o.concurrency;
        let full = o.full_decode;
        async move {
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut tasks = Vec::new();
            for _ in 0..concurrency {
                let request = request.clone();
                let expected = expected.clone();
                tasks.push(tokio::spawn(async move {
                    let mut caller = Caller::connect(port, full).await;
                    let mut latencies = Vec::new();
                    while Instant::now() < deadline {
                        let request = (*request).clone();
                        let start = Instant::now();
                        let (results, names) = caller.call(request).await;
                        latencies.push(start.elapsed());
                        check(&results, names, &expected);
                    }
                    latencies
                }));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            all
        }
    };
    run(o.warmup).await;
    let cpu_before = cpu_time(server.child.id());
    let callers_before = cpu_time(std::process::id());
    let started = Instant::now();
    let mut latencies = run(o.seconds).await;
    let elapsed = started.elapsed();
    let cpu = cpu_time(server.child.id()) - cpu_before;
    let callers_cpu = cpu_time(std::process::id()) - callers_before;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    Measured {
        requests: latencies.len(),
        rps: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
        cpu_per_request: cpu / latencies.len().max(1) as u32,
        callers_cpu_per_request: callers_cpu / latencies.len().max(1) as u32,
    }
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    // `cargo bench` passes --bench; further invocations of this binary serve the
    // baseline (`--serve-baseline`) or a prepared response (`--serve-canned FILE`).
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve-baseline") {
        args.remove(i);
        serve_with_sdk(Baseline, &args);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--serve-canned") {
        let path = args.remove(i + 1);
        args.remove(i);
        let bytes = std::fs::read(&path).expect("read the prepared response");
        let rsp = <function_sdk_rust::proto::v1::RunFunctionResponse as prost::Message>::decode(
            &bytes[..],
        )
        .expect("decode the prepared response");
        serve_with_sdk(Canned(rsp), &args);
        return;
    }
    let o = options();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let release_bin = Path::new(env!("CARGO_BIN_EXE_function-release-pipeline"));
        let self_bin = std::env::current_exe().unwrap();
        let workloads: Vec<(&str, wire::RunFunctionRequest)> = workloads::all()
            .into_iter()
            .map(|(name, req)| (name, to_wire(&req)))
            .collect();
        println!(
            "concurrency {}, {} s per run after {} s warm-up, callers decode {}, {} cores",
            o.concurrency,
            o.seconds,
            o.warmup,
            if o.full_decode {
                "every response in full"
            } else {
                "a summary of each response"
            },
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );
        println!(
            "| workload | server | requests | req/s | p50 | p90 | p99 | p50 ratio | p99 ratio | server CPU/request | callers CPU/request |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        let mut memory = Vec::new();
        for (name, request) in &workloads {
            let baseline = spawn(&self_bin, &["--serve-baseline"]);
            connect(&baseline).await;
            let base = drive(&baseline, request, &o).await;
            drop(baseline);
            let release = spawn(release_bin, &[]);
            let (_, ready_after) = connect(&release).await;
            let idle = memory_kib(release.child.id());
            let ours = drive(&release, request, &o).await;
            let (steady, peak) = memory_kib(release.child.id());
            memory.push((name.to_string(), ready_after, idle.0, steady, peak));
            let prepared = std::env::temp_dir().join(format!(
                "load-{}-{name}-response.pb",
                std::process::id()
            ));
            std::fs::write(&prepared, response_bytes(&release, request).await).unwrap();
            drop(release);
            let canned = spawn(
                &self_bin,
                &["--serve-canned", prepared.to_str().expect("a UTF-8 temporary path")],
            );
            connect(&canned).await;
            let copied = drive(&canned, request, &o).await;
            drop(canned);
            let _ = std::fs::remove_file(&prepared);
            for (server, m) in [
                ("baseline", &base),
                ("canned", &copied),
                ("release", &ours),
            ] {
                let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
                println!(
                    "| {name} | {server} | {} | {:.0} | {} | {} | {} | {:.2} | {:.2} | {} | {} |",
                    m.requests,
                    m.rps,
                    micros(m.p50),
                    micros(m.p90),
                    micros(m.p99),
                    ratio(m.p50, base.p50),
                    ratio(m.p99, base.p99),
                    micros(m.cpu_per_request),
                    micros(m.callers_cpu_per_request)
                );
            }
        }
        println!();
        println!("| workload | start to serving | RSS idle | RSS after load | peak RSS |");
        println!("|---|---|---|---|---|");
        for (name, ready, idle, steady, peak) in memory {
            println!(
                "| {name} | {:.1} ms | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
                ready.as_secs_f64() * 1e3,
                idle as f64 / 1024.0,
                steady as f64 / 1024.0,
                peak as f64 / 1024.0
            );
        }
        let size = std::fs::metadata(release_bin).map(|m| m.len()).unwrap_or(0);
        println!();
        println!(
            "binary size: {:.1} MiB ({})",
            size as f64 / 1048576.0,
            release_bin.display()
        );
    });
}

fn to_wire(value: &workloads::Request) -> wire::RunFunctionRequest {
    wire::RunFunctionRequest {
        meta: Some(wire::RequestMeta {
            tag: "load".into(),
            ..Default::default()
        }),
        observed: Some(wire::State {
            composite: Some(resource(&value.composite)),
            resources: value
                .observed
                .iter()
                .map(|(k, v)| (k.clone(), resource(v)))
                .collect(),
        }),
        desired: Some(wire::State::default()),
        input: value.input.as_ref().map(to_struct),
        required_resources: value
            .required
            .iter()
            .map(|(k, items)| {
                let items = items.iter().map(resource).collect();
                (k.clone(), wire::Resources { items })
            })
            .collect(),
        ..Default::default()
    }
}

fn resource(value: &Value) -> wire::Resource {
    wire::Resource {
        resource: Some(to_struct(value)),
        ..Default::default()
    }
}

fn to_struct(value: &Value) -> prost_types::Struct {
    let Value::Object(map) = value else {
        panic!("object expected")
    };
    prost_types::Struct {
        fields: map.iter().map(|(k, v)| (k.clone(), to_pb(v))).collect(),
    }
}

fn to_pb(value: &Value) -> prost_types::Value {
    use prost_types::value::Kind;
    prost_types::Value {
        kind: Some(match value {
            Value::Null => Kind::NullValue(0),
            Value::Bool(b) => Kind::BoolValue(*b),
            Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap()),
            Value::String(s) => Kind::StringValue(s.clone()),
            Value::Array(a) => Kind::ListValue(prost_types::ListValue {
                values: a.iter().map(to_pb).collect(),
            }),
            Value::Object(_) => Kind::StructValue(to_struct(value)),
        }),
    }
}
