//! The metrics endpoint of a running server: the SDK's gRPC series and the function's own.

use crate::common;

use common::wire::{RunFunctionRequest, State};
use common::{connect_insecure, free_port, resource, start_server, wait_for_port};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn scrape(port: u16) -> String {
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    conn.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn metrics_endpoint_serves_run_counts_and_github_series() {
    let metrics_port = free_port();
    let address = format!("127.0.0.1:{metrics_port}");
    let server = start_server(&["--insecure", "--metrics-address", &address], &[]);
    let mut client = connect_insecure(server.port).await;
    let req = RunFunctionRequest {
        observed: Some(State {
            composite: Some(resource(&json!({
                "apiVersion": "platform.zerotouch.dev/v1alpha1", "kind": "XReleasePipeline",
                "metadata": {"name": "p", "namespace": "platform-system"},
                "spec": {"tenant": "my-service", "environments": ["dev", "staging"]}}))),
            ..Default::default()
        }),
        ..Default::default()
    };
    client.run_function(req.clone()).await.unwrap();
    client.run_function(req).await.unwrap();
    wait_for_port(metrics_port).await;
    let body = scrape(metrics_port).await;
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(
        body.contains("release_function_runs_total{kind=\"XReleasePipeline\",outcome=\"ok\"} 2"),
        "{body}"
    );
    assert!(
        body.contains("release_function_github_rate_limit_remaining -1"),
        "{body}"
    );
    assert!(
        body.contains("release_function_approval_issues_opened_total 0"),
        "{body}"
    );
    assert!(
        body.contains("release_function_oldest_pending_gate_seconds 0"),
        "no gate seen: {body}"
    );
    assert!(
        body.contains("grpc_server_handled_total"),
        "the SDK's gRPC series are served too: {body}"
    );
}
