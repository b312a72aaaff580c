//! The wire, checked with a client generated from `proto/` (not the SDK's): the real
//! server binary over loopback gRPC, insecure and with mTLS.

use crate::common;

use common::wire::{RequestMeta, RunFunctionRequest, Severity, State};
use common::{connect_insecure, from_struct, resource, start_server, to_struct};
use serde_json::json;

fn pipeline_xr() -> serde_json::Value {
    json!({
        "apiVersion": "platform.zerotouch.dev/v1alpha1",
        "kind": "XReleasePipeline",
        "metadata": {"name": "my-service-pipeline", "namespace": "platform-system"},
        "spec": {"tenant": "my-service", "environments": ["dev", "staging", "production"]},
    })
}

fn request(xr: serde_json::Value) -> RunFunctionRequest {
    RunFunctionRequest {
        meta: Some(RequestMeta {
            tag: "tag-123".into(),
            ..Default::default()
        }),
        observed: Some(State {
            composite: Some(resource(&xr)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn fatal_messages(rsp: &common::wire::RunFunctionResponse) -> Vec<String> {
    rsp.results
        .iter()
        .filter(|r| r.severity == Severity::Fatal as i32)
        .map(|r| r.message.clone())
        .collect()
}

#[tokio::test]
async fn insecure_server_echoes_the_tag_and_sets_a_ttl() {
    let server = start_server(&["--insecure"], &[]);
    let mut client = connect_insecure(server.port).await;
    let rsp = client
        .run_function(request(pipeline_xr()))
        .await
        .unwrap()
        .into_inner();
    let meta = rsp.meta.clone().expect("response meta");
    assert_eq!(meta.tag, "tag-123");
    assert!(meta.ttl.is_some_and(|t| t.seconds > 0), "a TTL is set");
    assert!(fatal_messages(&rsp).is_empty(), "{:?}", rsp.results);
}

#[tokio::test]
async fn desired_resources_and_context_of_other_steps_pass_through() {
    let server = start_server(&["--insecure"], &[]);
    let mut client = connect_insecure(server.port).await;
    let mut req = request(pipeline_xr());
    let bucket = json!({"apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
                        "spec": {"forProvider": {"region": "eu-west-1"}, "replicas": 3}});
    let mut desired = State::default();
    desired.resources.insert("bucket".into(), resource(&bucket));
    desired.resources.get_mut("bucket").unwrap().ready = common::wire::Ready::True as i32;
    req.desired = Some(desired);
    req.context = Some(to_struct(
        &json!({"apiextensions.crossplane.io/environment": {"region": "eu"},
                                         "count": 7}),
    ));
    let rsp = client.run_function(req).await.unwrap().into_inner();
    let desired = rsp.desired.expect("desired state");
    let kept = &desired.resources["bucket"];
    assert_eq!(
        from_struct(kept.resource.as_ref().unwrap()),
        json!({
        "apiVersion": "s3.aws.upbound.io/v1beta1", "kind": "Bucket",
        "spec": {"forProvider": {"region": "eu-west-1"}, "replicas": 3.0}})
    );
    assert_eq!(kept.ready, common::wire::Ready::True as i32);
    let context = from_struct(rsp.context.as_ref().expect("context"));
    assert_eq!(
        context["apiextensions.crossplane.io/environment"]["region"],
        "eu"
    );
    assert_eq!(context["count"], 7.0);
}

#[tokio::test]
async fn unknown_kind_is_a_fatal_result_not_a_grpc_error() {
    let server = start_server(&["--insecure"], &[]);
    let mut client = connect_insecure(server.port).await;
    let mut xr = pipeline_xr();
    xr["kind"] = json!("XDatabase");
    let rsp = client
        .run_function(request(xr))
        .await
        .expect("a response, not a gRPC error")
        .into_inner();
    let fatal = fatal_messages(&rsp);
    assert_eq!(fatal.len(), 1, "{:?}", rsp.results);
    assert!(
        fatal[0].contains("unsupported composite resource kind \"XDatabase\""),
        "{}",
        fatal[0]
    );
    assert_eq!(rsp.meta.unwrap().tag, "tag-123");
}

#[tokio::test]
async fn missing_observed_composite_is_a_fatal_result() {
    let server = start_server(&["--insecure"], &[]);
    let mut client = connect_insecure(server.port).await;
    let rsp = client
        .run_function(RunFunctionRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        fatal_messages(&rsp),
        vec!["the request has no observed composite resource".to_string()]
    );
}

#[tokio::test]
async fn input_with_an_unknown_field_is_a_fatal_result_naming_it() {
    let server = start_server(&["--insecure"], &[]);
    let mut client = connect_insecure(server.port).await;
    let mut req = request(pipeline_xr());
    req.input = Some(to_struct(&json!({
        "apiVersion": "release.fn.zerotouch.dev/v1beta1", "kind": "Input",
        "github": {"repository": "acme/approvals", "pollIntervl": "30s"}})));
    let rsp = client.run_function(req).await.unwrap().into_inner();
    let fatal = fatal_messages(&rsp);
    assert_eq!(fatal.len(), 1);
    assert!(
        fatal[0].contains("github.pollIntervl: unknown field `pollIntervl`"),
        "{}",
        fatal[0]
    );
}

#[tokio::test]
async fn input_with_a_wrong_type_is_a_fatal_result_naming_the_field() {
    let server = start_server(&["--insecure"], &[]);
    let mut client = connect_insecure(server.port).await;
    let mut req = request(pipeline_xr());
    req.input = Some(to_struct(&json!({"approvals": {"minApprovals": "many"}})));
    let rsp = client.run_function(req).await.unwrap().into_inner();
    let fatal = fatal_messages(&rsp);
    assert!(
        fatal.len() == 1 && fatal[0].contains("approvals.minApprovals"),
        "{fatal:?}"
    );
}

#[tokio::test]
async fn input_xr_kind_overrides_the_observed_kind() {
    let server = start_server(&["--insecure"], &[]);
    let mut client = connect_insecure(server.port).await;
    let mut xr = pipeline_xr();
    xr["kind"] = json!("TenantPipeline");
    let mut req = request(xr);
    req.input = Some(to_struct(&json!({"xrKind": "XReleasePipeline"})));
    let rsp = client.run_function(req).await.unwrap().into_inner();
    assert!(fatal_messages(&rsp).is_empty(), "{:?}", rsp.results);
}

#[test]
fn server_without_tls_or_insecure_refuses_to_start() {
    let mut server = common::spawn_server(&[], &[]);
    let status = server.child.wait().expect("the server exits");
    assert!(!status.success());
}
