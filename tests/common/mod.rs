//! Shared test support: the gRPC client generated from `proto/` (independent of the
//! SDK), JSON <-> protobuf Struct conversion for it, and starting the real server binary.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Map, Value};

/// The client side of `apiextensions.fn.proto.v1`, generated from the pinned proto.
pub mod wire {
    #![allow(clippy::all, clippy::pedantic)]
    include!(concat!(env!("OUT_DIR"), "/apiextensions.r#fn.proto.v1.rs"));
}

pub use wire::function_runner_service_client::FunctionRunnerServiceClient;

pub mod yaml11;

/// JSON object -> protobuf Struct.
pub fn to_struct(value: &Value) -> prost_types::Struct {
    let Value::Object(map) = value else {
        panic!("expected a JSON object, got {value}");
    };
    prost_types::Struct {
        fields: map.iter().map(|(k, v)| (k.clone(), to_pb(v))).collect(),
    }
}

fn to_pb(value: &Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().expect("finite number")),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_pb).collect(),
        }),
        Value::Object(_) => Kind::StructValue(to_struct(value)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// protobuf Struct -> JSON object. Numbers stay f64 as on the wire.
pub fn from_struct(s: &prost_types::Struct) -> Value {
    Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), from_pb(v)))
            .collect::<Map<_, _>>(),
    )
}

fn from_pb(value: &prost_types::Value) -> Value {
    use prost_types::value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => {
            serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number)
        }
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(l)) => Value::Array(l.values.iter().map(from_pb).collect()),
        Some(Kind::StructValue(s)) => from_struct(s),
    }
}

/// A resource message holding `value`.
pub fn resource(value: &Value) -> wire::Resource {
    wire::Resource {
        resource: Some(to_struct(value)),
        ..Default::default()
    }
}

/// A port that was free a moment ago, for a server binary to bind. It is taken below the
/// kernel's ephemeral range (read from `/proc`, 32768 by default), so that a socket bound
/// to port 0 or connecting out meanwhile is not handed the same port; the process id and
/// a counter spread the choices of tests running at once. [`start_server`] still starts
/// again on another port when the bind is lost.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    // Up to 12,000 ports just below the ephemeral range; a kernel whose range starts very
    // low leaves only 20000..32000, and the retry in [`start_server`].
    let (low, span) = if ephemeral_start > 2_048 {
        let low = ephemeral_start.saturating_sub(12_000).max(1_024);
        (low, ephemeral_start - low)
    } else {
        (20_000, 12_000)
    };
    let base = std::process::id().wrapping_mul(97);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (low + base.wrapping_add(n.wrapping_mul(13)) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The server binary, running; killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// Where the server's stderr (its log) goes.
    pub log: PathBuf,
}

impl Server {
    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.log.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// Starts the real binary with `args` plus `--address 127.0.0.1:<port>` and metrics off
/// (unless `args` sets `--metrics-address`), and returns once it accepts connections on
/// that port. A server that exits before it listens (another process took the port
/// between the check and the bind) is started again on another port; one that keeps
/// exiting fails the test with its log.
pub fn start_server(args: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut last_log = String::new();
    for _ in 0..5 {
        let mut server = spawn_server(args, envs);
        if wait_until_listening(&mut server) {
            return server;
        }
        last_log = server.log();
    }
    panic!("the server binary did not start listening; its last log:\n{last_log}");
}

/// Starts the real binary like [`start_server`] without waiting for it to listen: for
/// servers that are expected to refuse to start.
pub fn spawn_server(args: &[&str], envs: &[(&str, &str)]) -> Server {
    let port = free_port();
    let log = std::env::temp_dir().join(format!(
        "function-release-pipeline-test-{}-{port}.log",
        std::process::id()
    ));
    let stderr = std::fs::File::create(&log).expect("create the server's log file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_function-release-pipeline"));
    cmd.args(args)
        .arg("--address")
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("TLS_SERVER_CERTS_DIR")
        .env_remove("GITHUB_TOKEN")
        .stdout(Stdio::null())
        .stderr(stderr);
    if !args.contains(&"--metrics-address") {
        cmd.arg("--metrics-address").arg("");
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start the server binary");
    Server { child, port, log }
}

/// Waits up to 10 s for `server` to accept a connection; false if it exited first.
pub fn wait_until_listening(server: &mut Server) -> bool {
    for _ in 0..200 {
        if let Ok(Some(_)) = server.child.try_wait() {
            return false;
        }
        if accepts_connections(server.port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "the server binary does not listen on port {} after 10 s; its log:\n{}",
        server.port,
        server.log()
    );
}

/// Whether a listener answers on the loopback port. A connection to itself (possible when
/// the port lies in the kernel's ephemeral range and nothing listens) does not count.
fn accepts_connections(port: u16) -> bool {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    match std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500)) {
        Ok(stream) => stream.local_addr().ok() != stream.peer_addr().ok(),
        Err(_) => false,
    }
}

/// Connects in plaintext, retrying while the server starts.
pub async fn connect_insecure(port: u16) -> FunctionRunnerServiceClient<tonic::transport::Channel> {
    for _ in 0..100 {
        if let Ok(client) =
            FunctionRunnerServiceClient::connect(format!("http://127.0.0.1:{port}")).await
        {
            return client;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot connect to the server on port {port}");
}

/// Waits until a listener accepts TCP connections on the port.
pub async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::task::spawn_blocking(move || accepts_connections(port))
            .await
            .unwrap_or(false)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on port {port}");
}

/// Reads every YAML document of a file as JSON.
pub fn read_yaml(path: impl AsRef<Path>) -> Vec<Value> {
    let path = path.as_ref();
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    function_release_pipeline::yaml::from_str_multi(&text)
        .unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// The YAML files under `dir`, recursively, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(yaml_files(&path));
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The path of a file in the repository.
pub fn repo_path(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A file of the example `dir`: its XRD, Composition and XR live in `examples/<dir>/`
/// (what a package embeds), the rest of a local render's inputs (observed and required
/// resources, credentials) in `render-inputs/<dir>/`.
pub fn example_file(dir: &str, file: &str) -> std::path::PathBuf {
    let packaged = repo_path("examples").join(dir).join(file);
    if packaged.exists() {
        packaged
    } else {
        repo_path("render-inputs").join(dir).join(file)
    }
}

/// The single YAML document of a file.
pub fn read_one(path: &Path) -> Value {
    let mut docs = read_yaml(path);
    assert_eq!(docs.len(), 1, "{path:?} holds one document");
    docs.remove(0)
}

/// A validator for one of the schemas in `tests/schemas/` (their sources are in its
/// README).
pub fn shared_schema(file: &str) -> jsonschema::Validator {
    let path = repo_path("tests/schemas").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the schema {}: {e}", path.display()));
    jsonschema::validator_for(&serde_json::from_str::<Value>(&text).unwrap()).unwrap()
}

/// A validator for what the function writes into an XR's `status`: the `status` schema
/// of the example XRD at `xrd` (relative to the repository), closed, so that a field the
/// XRD does not declare (which the API server would prune) fails too.
pub fn xrd_status_validator(xrd: &str) -> jsonschema::Validator {
    fn close(schema: &mut Value) {
        if let Value::Object(map) = schema {
            if map.contains_key("properties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for value in map.values_mut() {
                close(value);
            }
        }
    }
    let doc = read_yaml(repo_path(xrd)).remove(0);
    let mut schema =
        doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"].clone();
    assert!(schema.is_object(), "{xrd} declares no status");
    close(&mut schema);
    // Conditions are Crossplane's, not part of the XRD.
    schema["properties"]["conditions"] = serde_json::json!({"type": "array"});
    jsonschema::validator_for(&schema).unwrap()
}

/// Every way `value` breaks the schema, with where.
pub fn schema_errors(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// What tests read from a response of `ReleaseFunction::run` (the SDK's types).
pub trait ResponseExt {
    /// The desired composite's status (null when none).
    fn status(&self) -> Value;
    /// Whether a promotion Job is desired.
    fn has_job(&self) -> bool;
    /// The status and reason of the condition of type `kind` (panics when absent).
    fn condition(&self, kind: &str) -> (i32, String);
    /// The messages of the results of `severity`.
    fn results_of(&self, severity: function_sdk_rust::proto::v1::Severity) -> Vec<String>;
}

impl ResponseExt for function_sdk_rust::proto::v1::RunFunctionResponse {
    fn status(&self) -> Value {
        self.desired
            .as_ref()
            .and_then(|d| d.composite.as_ref())
            .and_then(|c| c.resource.as_ref())
            .map(function_sdk_rust::resource::struct_to_json)
            .and_then(|v| v.get("status").cloned())
            .unwrap_or(Value::Null)
    }

    fn has_job(&self) -> bool {
        self.desired
            .as_ref()
            .is_some_and(|d| d.resources.contains_key("promotion-job"))
    }

    fn condition(&self, kind: &str) -> (i32, String) {
        let c = self
            .conditions
            .iter()
            .find(|c| c.r#type == kind)
            .unwrap_or_else(|| panic!("no {kind} condition"));
        (c.status, c.reason.clone())
    }

    fn results_of(&self, severity: function_sdk_rust::proto::v1::Severity) -> Vec<String> {
        self.results
            .iter()
            .filter(|r| r.severity == severity as i32)
            .map(|r| r.message.clone())
            .collect()
    }
}
