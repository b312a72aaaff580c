//! The promotion Job passes Pod Security "restricted": the checks of the Kubernetes Pod
//! Security Standards (baseline and restricted, latest version) written out over the pod
//! spec, run on every Job the goldens render and on the example's.

use serde_json::{Value, json};

/// The volume types the restricted level allows.
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// What Pod Security "restricted" refuses in `pod` (a PodSpec), one line per check.
pub fn restricted_violations(pod: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let pod_sc = &pod["securityContext"];
    let containers: Vec<&Value> = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| pod[k].as_array().into_iter().flatten())
        .collect();
    if containers.is_empty() {
        out.push("no containers".to_owned());
    }
    // Baseline.
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod[host] == json!(true) {
            out.push(format!("{host} is true"));
        }
    }
    for (name, v) in pod["volumes"].as_object().into_iter().flatten() {
        out.push(format!("unexpected volumes map {name}: {v}"));
    }
    for volume in pod["volumes"].as_array().into_iter().flatten() {
        let kinds: Vec<&String> = volume
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "name")
            .collect();
        for kind in kinds {
            if !RESTRICTED_VOLUMES.contains(&kind.as_str()) {
                out.push(format!("volume {} is of type {kind}", volume["name"]));
            }
        }
    }
    if pod_sc["seccompProfile"]["type"] == "Unconfined" {
        out.push("the pod's seccomp profile is Unconfined".to_owned());
    }
    for sysctl in pod_sc["sysctls"].as_array().into_iter().flatten() {
        out.push(format!("sysctl {}", sysctl["name"]));
    }
    let pod_non_root = pod_sc["runAsNonRoot"] == json!(true);
    let pod_seccomp = matches!(
        pod_sc["seccompProfile"]["type"].as_str(),
        Some("RuntimeDefault" | "Localhost")
    );
    if pod_sc["runAsUser"] == json!(0) {
        out.push("the pod runs as user 0".to_owned());
    }
    for c in containers {
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        if sc["privileged"] == json!(true) {
            out.push(format!("{name}: privileged"));
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if port["hostPort"].as_i64().is_some_and(|p| p != 0) {
                out.push(format!("{name}: hostPort"));
            }
        }
        if sc["procMount"].as_str().is_some_and(|m| m != "Default") {
            out.push(format!("{name}: procMount"));
        }
        let added: Vec<&str> = sc["capabilities"]["add"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        // Restricted lets a container add only NET_BIND_SERVICE (baseline, a few more).
        for cap in &added {
            if *cap != "NET_BIND_SERVICE" {
                out.push(format!("{name}: adds capability {cap}"));
            }
        }
        if sc["allowPrivilegeEscalation"] != json!(false) {
            out.push(format!("{name}: allowPrivilegeEscalation is not false"));
        }
        let drops_all = sc["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|c| c == "ALL"));
        if !drops_all {
            out.push(format!("{name}: does not drop ALL capabilities"));
        }
        if sc["runAsNonRoot"] == json!(false)
            || !(pod_non_root || sc["runAsNonRoot"] == json!(true))
        {
            out.push(format!("{name}: runAsNonRoot is not true"));
        }
        if sc["runAsUser"] == json!(0) {
            out.push(format!("{name}: runs as user 0"));
        }
        let seccomp = sc["seccompProfile"]["type"].as_str();
        if seccomp == Some("Unconfined")
            || !(pod_seccomp || matches!(seccomp, Some("RuntimeDefault" | "Localhost")))
        {
            out.push(format!(
                "{name}: no RuntimeDefault or Localhost seccomp profile"
            ));
        }
    }
    out
}

/// The pod spec of a composed promotion Job, seen through the `Object` that may carry it.
pub fn job_pod(composed: &Value) -> &Value {
    let job = if composed["kind"] == "Object" {
        &composed["spec"]["forProvider"]["manifest"]
    } else {
        composed
    };
    &job["spec"]["template"]["spec"]
}

/// A change to a pod spec.
type Change = fn(&mut Value);

#[test]
fn the_check_refuses_what_restricted_refuses() {
    let good = json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "c", "securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
        "volumes": [{"name": "s", "secret": {"secretName": "x"}}],
    });
    assert_eq!(restricted_violations(&good), Vec::<String>::new());
    let refused = |change: &dyn Fn(&mut Value)| {
        let mut pod = good.clone();
        change(&mut pod);
        restricted_violations(&pod)
    };
    let cases: [(&str, Change); 9] = [
        ("no security context", |p| {
            p["securityContext"] = json!(null)
        }),
        ("escalation", |p| {
            p["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = json!(true)
        }),
        ("capabilities", |p| {
            p["containers"][0]["securityContext"]["capabilities"] =
                json!({"add": ["NET_ADMIN"], "drop": ["ALL"]})
        }),
        ("root", |p| p["securityContext"]["runAsUser"] = json!(0)),
        ("a container as root", |p| {
            p["containers"][0]["securityContext"]["runAsNonRoot"] = json!(false)
        }),
        ("unconfined", |p| {
            p["securityContext"]["seccompProfile"]["type"] = json!("Unconfined")
        }),
        ("hostPath", |p| {
            p["volumes"] = json!([{"name": "h", "hostPath": {"path": "/"}}])
        }),
        ("hostNetwork", |p| p["hostNetwork"] = json!(true)),
        ("privileged", |p| {
            p["containers"][0]["securityContext"]["privileged"] = json!(true)
        }),
    ];
    for (what, change) in cases {
        assert!(!refused(&change).is_empty(), "{what}");
    }
}
