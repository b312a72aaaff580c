//! The CEL rules the API server runs before the function sees anything: each
//! `x-kubernetes-validations` rule of the example XRDs, and the expression of the status
//! guard in `deploy/`, compiled and run on objects it must accept and refuse, with the
//! Kubernetes extension functions they use (`split` from the strings library, `indexOf`
//! on lists from the lists library). Every rule in the files must have cases here.

use std::collections::BTreeMap;
use std::sync::Arc;

use cel_interpreter::extractors::This;
use cel_interpreter::{Context, ExecutionError, Program, Value};
use serde_json::{Value as Json, json};

use crate::common;

/// Runs `rule` with `self` bound to `this` (and `request` for admission policies).
fn eval(rule: &str, variables: &[(&str, Json)]) -> Result<bool, String> {
    let program = Program::compile(rule).map_err(|e| format!("{rule}: {e}"))?;
    let mut ctx = Context::default();
    ctx.add_function("split", split);
    ctx.add_function("indexOf", index_of);
    for (name, value) in variables {
        ctx.add_variable(*name, cel_interpreter::to_value(value).unwrap())
            .map_err(|e| e.to_string())?;
    }
    match program.execute(&ctx) {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("{rule}: not a bool: {other:?}")),
        Err(e) => Err(format!("{rule}: {e}")),
    }
}

/// `<string>.split(<separator>)`, from Kubernetes' CEL strings library.
fn split(This(s): This<Arc<String>>, separator: Arc<String>) -> Result<Value, ExecutionError> {
    Ok(Value::List(Arc::new(
        s.split(separator.as_str())
            .map(|p| Value::String(Arc::new(p.to_owned())))
            .collect(),
    )))
}

/// `<list>.indexOf(<item>)`, from Kubernetes' CEL lists library: -1 when absent.
fn index_of(This(list): This<Arc<Vec<Value>>>, item: Value) -> Result<Value, ExecutionError> {
    let at = list.iter().position(|v| *v == item);
    Ok(Value::Int(at.map_or(-1, |i| i as i64)))
}

/// Every rule of an XRD's schema, by its message.
fn rules(xrd: &str) -> BTreeMap<String, String> {
    fn walk(node: &Json, out: &mut BTreeMap<String, String>) {
        for v in node["x-kubernetes-validations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.insert(
                v["message"].as_str().unwrap().to_owned(),
                v["rule"].as_str().unwrap().to_owned(),
            );
        }
        for child in node["properties"]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            walk(child, out);
        }
        for key in ["items", "additionalProperties"] {
            if node[key].is_object() {
                walk(&node[key], out);
            }
        }
    }
    let doc = common::read_yaml(common::repo_path(xrd)).remove(0);
    let mut out = BTreeMap::new();
    for version in doc["spec"]["versions"].as_array().unwrap() {
        walk(&version["schema"]["openAPIV3Schema"], &mut out);
    }
    out
}

/// `self` values a rule (named by its message) must accept, and must refuse.
fn cases() -> Vec<(&'static str, Vec<Json>, Vec<Json>)> {
    let envs = json!(["dev", "staging", "production"]);
    vec![
        (
            "every promotionRules key must be <from>_to_<to> naming two adjacent environments in order",
            vec![
                json!({"environments": envs}),
                json!({"environments": envs, "promotionRules": {"dev_to_staging": "automatic", "staging_to_production": "manual"}}),
            ],
            vec![
                json!({"environments": envs, "promotionRules": {"dev_to_production": "manual"}}),
                json!({"environments": envs, "promotionRules": {"staging_to_dev": "manual"}}),
                json!({"environments": envs, "promotionRules": {"dev-staging": "manual"}}),
                json!({"environments": envs, "promotionRules": {"qa_to_staging": "manual"}}),
            ],
        ),
        (
            "approvals may only name environments after the first",
            vec![json!({"environments": envs, "approvals": {"staging": {}, "production": {}}})],
            vec![
                json!({"environments": envs, "approvals": {"dev": {}}}),
                json!({"environments": envs, "approvals": {"qa": {}}}),
            ],
        ),
        (
            "soakTime may only name environments of the pipeline",
            vec![json!({"environments": envs, "soakTime": {"dev": "1h", "staging": "24h"}})],
            vec![json!({"environments": envs, "soakTime": {"qa": "1h"}})],
        ),
        (
            "freezes may only name environments of the pipeline",
            vec![json!({"environments": envs, "freezes": [{"environments": ["production"]}]})],
            vec![
                json!({"environments": envs, "freezes": [{"environments": ["production", "qa"]}]}),
            ],
        ),
        (
            "environments must be unique",
            vec![envs.clone()],
            vec![json!(["dev", "staging", "dev"])],
        ),
        (
            "approvals must name at least one user, team or rule",
            vec![
                json!({"users": ["alice"]}),
                json!({"teams": ["acme/release-managers"]}),
                json!({"rules": [{"name": "security", "users": ["sam"]}]}),
            ],
            vec![json!({}), json!({"users": [], "teams": []})],
        ),
        (
            "escalation must name at least one user or team",
            vec![
                json!({"after": "4h", "users": ["erin"]}),
                json!({"after": "4h", "teams": ["acme/sre"]}),
            ],
            vec![json!({"after": "4h"}), json!({"after": "4h", "users": []})],
        ),
        (
            "a rule must name at least one user or team",
            vec![json!({"name": "security", "teams": ["acme/security"]})],
            vec![json!({"name": "security"})],
        ),
        (
            "the rule name approvers is reserved for the users and teams outside rules",
            vec![json!({"name": "security"})],
            vec![json!({"name": "approvers"})],
        ),
        (
            "a window is either absolute (from and until) or recurring (schedule, duration and timeZone)",
            vec![
                json!({"from": "2026-12-24T00:00:00Z", "until": "2026-12-27T00:00:00Z"}),
                json!({"schedule": "0 18 * * 5", "duration": "62h", "timeZone": "Europe/Berlin"}),
            ],
            vec![
                json!({"from": "2026-12-24T00:00:00Z"}),
                json!({"from": "2026-12-24T00:00:00Z", "until": "2026-12-27T00:00:00Z", "schedule": "0 18 * * 5"}),
                json!({"schedule": "0 18 * * 5", "duration": "62h"}),
            ],
        ),
        (
            "until must be after from",
            vec![
                json!({"from": "2026-12-24T00:00:00Z", "until": "2026-12-27T00:00:00Z"}),
                json!({"schedule": "0 18 * * 5"}),
            ],
            vec![json!({"from": "2026-12-27T00:00:00Z", "until": "2026-12-24T00:00:00Z"})],
        ),
        (
            "target_environment must differ from source_environment",
            vec![json!({"source_environment": "dev", "target_environment": "staging"})],
            vec![json!({"source_environment": "dev", "target_environment": "dev"})],
        ),
        (
            "artifact_id must end with a tag or an @sha256 digest",
            vec![
                json!("ghcr.io/org/my-service:main-abc123"),
                json!("localhost:5000/org/my-service:v1"),
                json!(format!("ghcr.io/org/my-service@sha256:{}", "a".repeat(64))),
            ],
            vec![
                json!("ghcr.io/org/my-service"),
                json!("localhost:5000/org/my-service"),
            ],
        ),
    ]
}

#[test]
fn every_xrd_rule_compiles_and_accepts_and_refuses_what_it_should() {
    let mut all = rules("examples/release-pipeline/xrd.yaml");
    all.extend(rules("examples/promotion-gate/xrd.yaml"));
    let cases = cases();
    let untested: Vec<&String> = all
        .keys()
        .filter(|m| !cases.iter().any(|(c, ..)| c == m))
        .collect();
    assert!(untested.is_empty(), "rules without cases: {untested:#?}");
    let mut wrong = Vec::new();
    for (message, accepted, refused) in cases {
        let rule = all
            .get(message)
            .unwrap_or_else(|| panic!("no rule says {message:?}"));
        for (selves, want) in [(accepted, true), (refused, false)] {
            for this in selves {
                match eval(rule, &[("self", this.clone())]) {
                    Ok(got) if got == want => {}
                    got => wrong.push(format!("{message}: {this} -> {got:?}, want {want}")),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_status_guard_lets_only_crossplane_write_status() {
    let docs = common::read_yaml(common::repo_path("deploy/status-guard.yaml"));
    let policy = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicy")
        .unwrap();
    let expression = policy["spec"]["validations"][0]["expression"]
        .as_str()
        .unwrap();
    let as_user = |username: &str| {
        eval(
            expression,
            &[(
                "request",
                json!({"userInfo": {"username": username, "groups": []}}),
            )],
        )
    };
    assert_eq!(
        as_user("system:serviceaccount:crossplane-system:crossplane"),
        Ok(true)
    );
    for tenant in [
        "alice@example.com",
        "system:serviceaccount:my-service:my-service-release-pipeline",
        "system:serviceaccount:crossplane-system:crossplane-rbac-manager",
    ] {
        assert_eq!(as_user(tenant), Ok(false), "{tenant}");
    }
}

/// The expression of the ValidatingAdmissionPolicy `name` in the deploy file `file`.
fn policy_expression(file: &str, name: &str) -> String {
    common::read_yaml(common::repo_path(file))
        .into_iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicy" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{file}: no policy {name}"))["spec"]["validations"][0]
        ["expression"]
        .as_str()
        .unwrap()
        .to_owned()
}

const CROSSPLANE: &str = "system:serviceaccount:crossplane-system:crossplane";

#[test]
fn only_crossplane_chooses_what_composes_a_gate() {
    let expression = policy_expression(
        "deploy/status-guard.yaml",
        "release-pipeline-composition-writers",
    );
    let gate =
        |crossplane: Json| json!({"spec": {"tenant": "my-service", "crossplane": crossplane}});
    let bare = json!({"spec": {"tenant": "my-service"}});
    let refs = gate(
        json!({"resourceRefs": [{"apiVersion": "batch/v1", "kind": "Job", "name": "innocent"}]}),
    );
    let composed = gate(
        json!({"compositionRef": {"name": "xpromotiongates.platform.zerotouch.dev"},
        "resourceRefs": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "g-gate"}]}),
    );
    let check = |user: &str, operation: &str, object: &Json, old: &Json| {
        eval(
            &expression,
            &[
                (
                    "request",
                    json!({"userInfo": {"username": user}, "operation": operation}),
                ),
                ("object", object.clone()),
                ("oldObject", old.clone()),
            ],
        )
    };
    let tenant = "alice@example.com";
    // Creating: a plain gate, or one with Crossplane's defaults, is fine.
    assert_eq!(check(tenant, "CREATE", &bare, &Json::Null), Ok(true));
    let defaulted = gate(json!({"compositionUpdatePolicy": "Automatic"}));
    assert_eq!(check(tenant, "CREATE", &defaulted, &Json::Null), Ok(true));
    for refused in [
        refs.clone(),
        gate(json!({"compositionRef": {"name": "weaker"}})),
        gate(json!({"compositionSelector": {"matchLabels": {"policy": "weak"}}})),
        gate(json!({"compositionRevisionRef": {"name": "xpromotiongates-1a2b3c"}})),
        gate(json!({"compositionRevisionSelector": {"matchLabels": {"rev": "old"}}})),
        gate(json!({"compositionUpdatePolicy": "Manual"})),
    ] {
        assert_eq!(
            check(tenant, "CREATE", &refused, &Json::Null),
            Ok(false),
            "{refused}"
        );
    }
    // Updating: spec.crossplane as Crossplane left it, or nothing changes.
    let mut relabelled = composed.clone();
    relabelled["spec"]["artifact_id"] = json!("ghcr.io/org/my-service:v2");
    assert_eq!(check(tenant, "UPDATE", &relabelled, &composed), Ok(true));
    assert_eq!(
        check(tenant, "UPDATE", &refs, &composed),
        Ok(false),
        "pointed at a Job"
    );
    assert_eq!(
        check(tenant, "UPDATE", &bare, &composed),
        Ok(false),
        "dropped"
    );
    assert_eq!(check(tenant, "UPDATE", &refs, &bare), Ok(false), "added");
    // Crossplane writes it.
    assert_eq!(check(CROSSPLANE, "UPDATE", &composed, &bare), Ok(true));
    assert_eq!(
        check(CROSSPLANE, "CREATE", &composed, &Json::Null),
        Ok(true)
    );
}

#[test]
fn only_crossplane_and_the_provider_write_objects_that_reach_the_promotion_namespace() {
    let expression = policy_expression(
        "deploy/promotion-namespace.yaml",
        "release-promotions-objects",
    );
    let object = |pc: Json| json!({"spec": {"forProvider": {"manifest": {"kind": "Job"}}, "providerConfigRef": pc}});
    let ours = object(json!({"kind": "ClusterProviderConfig", "name": "release-promotions"}));
    let other = object(json!({"kind": "ClusterProviderConfig", "name": "default"}));
    // On create the old object is null, on delete the new one.
    let write = |user: &str, o: &Json, old: &Json| {
        eval(
            &expression,
            &[
                ("request", json!({"userInfo": {"username": user}})),
                ("object", o.clone()),
                ("oldObject", old.clone()),
            ],
        )
    };
    let check = |user: &str, o: &Json| write(user, o, &Json::Null);
    let tenant = "alice@example.com";
    assert_eq!(
        write(tenant, &other, &ours),
        Ok(false),
        "pointed away from it"
    );
    assert_eq!(write(tenant, &Json::Null, &ours), Ok(false), "deleted");
    assert_eq!(write(tenant, &Json::Null, &other), Ok(true));
    assert_eq!(write(CROSSPLANE, &Json::Null, &ours), Ok(true));
    assert_eq!(check(CROSSPLANE, &ours), Ok(true));
    assert_eq!(
        check(
            "system:serviceaccount:crossplane-system:provider-kubernetes",
            &ours
        ),
        Ok(true)
    );
    assert_eq!(check("alice@example.com", &ours), Ok(false));
    assert_eq!(
        check("system:serviceaccount:team-a:default", &ours),
        Ok(false)
    );
    assert_eq!(
        check("alice@example.com", &other),
        Ok(true),
        "not this policy's business"
    );
    let unset = json!({"spec": {"forProvider": {"manifest": {}}}});
    assert_eq!(check("alice@example.com", &unset), Ok(true));
}
