//! The monitoring in `deploy/monitoring/` names only what exists: every
//! `release_function_*` series the alerts and the dashboard query is one the function
//! registers, every `release_gate_*` one the kube-state-metrics configuration defines, and
//! every field that configuration reads is in the example XRD's schema. (The alerts'
//! PrometheusRule is validated against its schema with the other manifests.)

use crate::common;

use std::collections::BTreeSet;

use serde_json::Value;

/// Every metric name in `text` that starts with `prefix`.
fn names(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        out.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

/// The queries of the alerts and the dashboard.
fn queries() -> String {
    let rules = common::read_yaml(common::repo_path("deploy/monitoring/prometheus-rules.yaml"));
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_path("deploy/monitoring/dashboard.json")).unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    for rule in rules[0]["spec"]["groups"][0]["rules"].as_array().unwrap() {
        out.push(rule["expr"].as_str().unwrap().to_owned());
    }
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            out.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    assert!(out.len() >= 10, "{out:?}");
    out.join("\n")
}

#[test]
fn the_alerts_and_dashboard_query_only_series_the_function_serves() {
    // A family is served once it has a child.
    function_release_pipeline::metrics::observe_decision("approved", 60.0);
    function_release_pipeline::metrics::record_github_response(Some(200));
    function_release_pipeline::metrics::record_run(
        function_release_pipeline::input::XrKind::XPromotionGate,
        true,
    );
    let mut served = String::new();
    prometheus_client::encoding::text::encode(
        &mut served,
        &function_release_pipeline::metrics::registry(),
    )
    .unwrap();
    let served = names(&served, "release_function_");
    let queried = names(&queries(), "release_function_");
    assert!(queried.len() >= 5, "{queried:?}");
    for name in &queried {
        assert!(served.contains(name), "{name} is not served: {served:?}");
    }
}

#[test]
fn the_gate_series_come_from_the_kube_state_metrics_config_over_the_xrd_s_fields() {
    let config_map = common::read_yaml(common::repo_path(
        "deploy/monitoring/kube-state-metrics.yaml",
    ));
    let config: Value = function_release_pipeline::yaml::from_str_multi(
        config_map[0]["data"]["config.yaml"].as_str().unwrap(),
    )
    .unwrap()
    .remove(0);
    assert_eq!(config["kind"], "CustomResourceStateMetrics");
    let resource = &config["spec"]["resources"][0];
    let xrd = common::read_yaml(common::repo_path("examples/promotion-gate/xrd.yaml")).remove(0);
    let gvk = &resource["groupVersionKind"];
    assert_eq!(gvk["group"], xrd["spec"]["group"]);
    assert_eq!(gvk["kind"], xrd["spec"]["names"]["kind"]);
    let version = xrd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == gvk["version"])
        .expect("the XRD serves the version");
    let schema = &version["schema"]["openAPIV3Schema"];
    // Crossplane adds `status.conditions` to every XR's schema.
    let has = |path: &Value| {
        if *path == serde_json::json!(["status", "conditions"]) {
            return true;
        }
        let mut at = schema;
        for step in path.as_array().unwrap() {
            let step = step.as_str().unwrap();
            if step == "metadata" {
                return true;
            }
            at = &at["properties"][step];
            if at.is_null() {
                return false;
            }
        }
        true
    };
    let prefix = resource["metricNamePrefix"].as_str().unwrap();
    let mut defined = BTreeSet::new();
    for path in resource["labelsFromPath"].as_object().unwrap().values() {
        assert!(has(path), "{path}");
    }
    for metric in resource["metrics"].as_array().unwrap() {
        defined.insert(format!("{prefix}_{}", metric["name"].as_str().unwrap()));
        let each = &metric["each"];
        let kind = each["type"].as_str().unwrap();
        let body = match kind {
            "StateSet" => &each["stateSet"],
            "Gauge" => &each["gauge"],
            other => panic!("{other}"),
        };
        assert!(has(&body["path"]), "{}", body["path"]);
        if kind == "StateSet" {
            let states: Vec<&Value> = body["list"].as_array().unwrap().iter().collect();
            let enumerated = schema["properties"]["status"]["properties"]["gate_status"]["enum"]
                .as_array()
                .map(|e| e.iter().collect::<Vec<_>>());
            if let Some(enumerated) = enumerated {
                assert_eq!(states, enumerated, "every state the XRD allows");
            }
        }
    }
    let queried = names(&queries(), "release_gate_");
    assert!(!queried.is_empty());
    for name in &queried {
        assert!(defined.contains(name), "{name} is not defined: {defined:?}");
    }
}
