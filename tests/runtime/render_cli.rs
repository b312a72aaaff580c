//! The `render` subcommand as a newcomer runs it: the real binary on YAML files, its
//! output read back by a YAML 1.1 reader (like Kubernetes tooling's) unchanged.

use crate::common;

use std::process::Command;

use serde_json::{Value, json};

fn render(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_function-release-pipeline"))
        .arg("render")
        .args(args)
        .env_remove("GITHUB_TOKEN")
        .output()
        .expect("run the binary")
}

const XR: &str = r#"apiVersion: platform.zerotouch.dev/v1alpha1
kind: XReleasePipeline
metadata:
  name: my-service-pipeline
  namespace: platform-system
  labels:
    enabled: "yes"
    switch: "on"
    mode: "0777"
    time: "1:20"
    plain: hello
spec:
  tenant: my-service
  environments: [dev, staging, production]
"#;

#[test]
fn render_prints_the_xr_first_with_its_desired_status() {
    let dir = tempfile::tempdir().unwrap();
    let xr = dir.path().join("xr.yaml");
    std::fs::write(&xr, XR).unwrap();
    let out = render(&[
        xr.to_str().unwrap(),
        "--include-function-results",
        "--now",
        "2026-01-02T03:04:05Z",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let docs = function_release_pipeline::yaml::from_str_multi(&text).unwrap();
    assert_eq!(docs[0]["kind"], "XReleasePipeline");
    assert_eq!(
        docs[0]["metadata"],
        json!({"name": "my-service-pipeline", "namespace": "platform-system"})
    );
    let conditions = docs[0]["status"]["conditions"]
        .as_array()
        .expect("conditions");
    assert!(
        conditions
            .iter()
            .all(|c| c["lastTransitionTime"] == "2026-01-02T03:04:05Z"),
        "{conditions:?}"
    );
    for doc in &docs[1..] {
        let kind = doc["kind"].as_str().unwrap();
        if kind == "Result" {
            // As crossplane render (v2.3+) prints the events it recorded for results.
            assert_eq!(doc["apiVersion"], "render.crossplane.io/v1beta1");
            assert!(
                doc["severity"] == "Normal" || doc["severity"] == "Warning",
                "{doc}"
            );
            assert!(doc["reason"].is_string(), "{doc}");
            assert!(doc.get("step").is_none(), "{doc}");
        } else {
            let annotations = &doc["metadata"]["annotations"];
            assert!(
                annotations["crossplane.io/composition-resource-name"].is_string(),
                "{doc}"
            );
            assert_eq!(
                doc["metadata"]["labels"]["crossplane.io/composite"],
                "my-service-pipeline"
            );
            assert_eq!(
                doc["metadata"]["ownerReferences"][0]["kind"],
                "XReleasePipeline"
            );
        }
    }
}

#[test]
fn render_output_reads_back_identically_through_a_yaml_11_reader() {
    let dir = tempfile::tempdir().unwrap();
    let xr = dir.path().join("xr.yaml");
    std::fs::write(&xr, XR).unwrap();
    let out = render(&[
        xr.to_str().unwrap(),
        "--include-full-xr",
        "--include-function-results",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let ours: Vec<Value> = function_release_pipeline::yaml::from_str_multi(&text).unwrap();
    assert_eq!(ours[0]["metadata"]["labels"]["enabled"], "yes");

    // In YAML 1.1 plain yes/on/0777/1:20 are not strings.
    let theirs = common::yaml11::read(&text);
    assert_eq!(theirs, ours);
}

#[test]
fn render_of_a_missing_file_names_it_and_fails() {
    let out = render(&["/nonexistent/xr.yaml"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/xr.yaml"), "{stderr}");
}

#[test]
fn render_of_an_unknown_kind_fails_with_the_fatal_result_on_stderr_only() {
    let dir = tempfile::tempdir().unwrap();
    let xr = dir.path().join("xr.yaml");
    std::fs::write(&xr, XR.replace("kind: XReleasePipeline", "kind: XQueue")).unwrap();
    let out = render(&[xr.to_str().unwrap(), "-r"]);
    // As crossplane render (v2.3+): an error, exit status 1, nothing on stdout.
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pipeline step \"function-release-pipeline\" returned a fatal result")
            && stderr.contains("unsupported composite resource kind \"XQueue\""),
        "{stderr}"
    );
}

#[test]
fn include_full_xr_merges_the_output_into_the_whole_input_xr() {
    let dir = tempfile::tempdir().unwrap();
    let xr = dir.path().join("xr.yaml");
    let with_status = format!("{XR}status:\n  pipeline_id: old\n  observedOnly: kept\n");
    std::fs::write(&xr, with_status).unwrap();
    let out = render(&[xr.to_str().unwrap(), "-x", "--now", "2026-01-02T03:04:05Z"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs =
        function_release_pipeline::yaml::from_str_multi(&String::from_utf8_lossy(&out.stdout))
            .unwrap();
    let full = &docs[0];
    assert_eq!(
        full["spec"]["tenant"], "my-service",
        "the input spec is kept"
    );
    assert_eq!(full["metadata"]["labels"]["plain"], "hello");
    assert_eq!(
        full["status"]["observedOnly"], "kept",
        "observed status is kept"
    );
    assert_ne!(
        full["status"]["pipeline_id"], "old",
        "the output's status wins"
    );
    assert!(full["status"]["conditions"].is_array());
}
