//! `crossplane render` with the Development runtime sends each request to a running
//! `function-release-pipeline --insecure` over gRPC; the built-in `render` runs the same
//! code in-process. For every example this test renders both ways — once through the real
//! server binary, with each request re-encoded into the independently generated `proto/`
//! types on the way — and requires the same documents (times aside: the server runs on
//! the real clock).

use crate::common;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use function_release_pipeline::cli::RenderArgs;
use function_release_pipeline::function::ReleaseFunction;
use function_release_pipeline::github::fake::FakeConnector;
use function_release_pipeline::render_cli::{self, RenderError, Runner};
use function_sdk_rust::proto::v1::{RunFunctionRequest, RunFunctionResponse};
use prost::Message;
use serde_json::Value;
use tokio::sync::Mutex;

/// Runs the function through the server binary over gRPC.
struct OverGrpc {
    client: Mutex<common::FunctionRunnerServiceClient<tonic::transport::Channel>>,
}

#[async_trait::async_trait]
impl Runner for OverGrpc {
    async fn run_function(
        &self,
        req: &RunFunctionRequest,
    ) -> Result<RunFunctionResponse, RenderError> {
        let wire = common::wire::RunFunctionRequest::decode(req.encode_to_vec().as_slice())
            .map_err(|e| RenderError::Call(e.to_string()))?;
        let rsp = self
            .client
            .lock()
            .await
            .run_function(wire)
            .await
            .map_err(|e| RenderError::Call(e.to_string()))?
            .into_inner();
        RunFunctionResponse::decode(rsp.encode_to_vec().as_slice())
            .map_err(|e| RenderError::Call(e.to_string()))
    }
}

/// Replaces every RFC 3339 time, alone or as a word of a message, with a placeholder.
fn without_times(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(
            s.split(' ')
                .map(|word| {
                    let bare = word.trim_end_matches([',', ';', ')', '.']);
                    if chrono::DateTime::parse_from_rfc3339(bare).is_ok() {
                        word.replacen(bare, "<time>", 1)
                    } else {
                        word.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_times).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), without_times(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn example_args(dir: &str) -> RenderArgs {
    let optional =
        |name: &str| Some(common::example_file(dir, name)).filter(|p: &PathBuf| p.exists());
    RenderArgs {
        xr: common::example_file(dir, "xr.yaml"),
        composition: Some(common::example_file(dir, "composition.yaml")),
        observed_resources: optional("observed.yaml"),
        required_resources: optional("required.yaml"),
        include_function_results: true,
        include_context: true,
        function_name: "function-release-pipeline".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn built_in_render_and_grpc_render_print_the_same_objects_for_every_example() {
    let server = common::start_server(&["--insecure"], &[]);
    let grpc = OverGrpc {
        client: Mutex::new(common::connect_insecure(server.port).await),
    };
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    // No credentials in either: the gate example renders waiting for them, in both.
    let in_process =
        ReleaseFunction::new(Arc::new(FakeConnector::default()), Arc::new(move || now));
    let mut compared = 0;
    for dir in ["release-pipeline", "promotion-gate"] {
        let args = example_args(dir);
        let ours = render_cli::render(&args, &in_process, now).await.unwrap();
        let theirs = render_cli::render_with(&args, &grpc, now).await.unwrap();
        assert_eq!(ours.fatal, None, "{dir}");
        let ours: Vec<Value> = ours.documents.iter().map(without_times).collect();
        let theirs: Vec<Value> = theirs.documents.iter().map(without_times).collect();
        assert_eq!(ours, theirs, "{dir}");
        assert!(ours.len() > 2, "{dir} rendered composed resources");
        compared += 1;
    }
    assert_eq!(compared, 2);
}
