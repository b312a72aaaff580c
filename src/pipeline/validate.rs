//! Validation of an XReleasePipeline: turns the spec as written ([`PipelineSpec`]) into a
//! [`Pipeline`] with every default applied, or into every rule it breaks, each naming
//! its field path (`spec.environments[2]: duplicate environment "dev"`).
//!
//! Pure: no I/O, no gRPC types; rendering is the render module's.

use std::collections::{BTreeMap, BTreeSet};

use crate::freeze::{MAX_WINDOWS, Window};
use crate::input::{GoDuration, Input};
use crate::pipeline_config::{
    FreezeOverride, FreezeSpec, PipelineConfig, Progression, Promotion, Rule, Testing,
};
use crate::xr::Composite;
use crate::xr::pipeline::PipelineSpec;

use crate::names;

/// The registry used when `spec.artifactConfig.registry` is absent.
pub const DEFAULT_REGISTRY: &str = "ghcr.io";
/// The retention used when `spec.artifactConfig.retention_days` is absent.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// Bounds of `spec.artifactConfig.retention_days`.
pub const RETENTION_DAYS: std::ops::RangeInclusive<i64> = 1..=365;
pub use super::approvals::MIN_APPROVALS;
use super::approvals::{check_approvals, check_people};
/// The only testing mode (`validation_mode`, `bootstrap_mode`), also the default.
pub const PREVIEW: &str = "preview";

/// Where a pipeline's objects go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A namespaced XR: everything in its namespace, RBAC as Role + RoleBinding.
    Namespaced,
    /// A cluster-scoped XR: namespaced objects in the Input's namespace, and gate access
    /// as ClusterRole + ClusterRoleBinding.
    Cluster,
}

/// A valid pipeline, defaults applied: what the builders take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    /// The normalised pipeline, as the ConfigMap carries it.
    pub config: PipelineConfig,
    /// The XR's scope.
    pub scope: Scope,
    /// The namespace of every namespaced object composed.
    pub namespace: String,
    /// The API group of the XR's kind, which XPromotionGates share.
    pub gate_api_group: String,
    /// The stable id written to `status.pipeline_id`.
    pub pipeline_id: String,
}

use super::violations::Collector;
pub use super::violations::{Violation, Violations};

/// Checks `spec` of `composite` (and what the pipeline needs of `input`) and returns the
/// pipeline with defaults applied, or every rule broken.
pub fn validate(
    spec: &PipelineSpec,
    composite: &Composite,
    input: &Input,
) -> Result<Pipeline, Violations> {
    let mut errors = Collector::default();
    let config = check_spec(spec, &mut errors);

    let (scope, namespace) = match &composite.namespace {
        Some(ns) => (Scope::Namespaced, ns.clone()),
        None => match &input.namespace {
            Some(ns) => (Scope::Cluster, ns.clone()),
            None => {
                errors.add(
                    "input.namespace",
                    "required for a cluster-scoped XReleasePipeline: its ConfigMap, ExternalSecret and ServiceAccount are namespaced",
                );
                (Scope::Cluster, String::new())
            }
        },
    };

    check_external_secret_keys(&input.external_secret.keys, &mut errors);

    if !errors.0.is_empty() {
        return Err(Violations(errors.0));
    }
    let gate_api_group = composite
        .api_version
        .rsplit_once('/')
        .map(|(group, _)| group.to_owned())
        .unwrap_or_default();
    Ok(Pipeline {
        pipeline_id: names::pipeline_id(
            composite.namespace.as_deref(),
            &composite.name,
            &config.tenant,
        ),
        config,
        scope,
        namespace,
        gate_api_group,
    })
}

/// Checks a pipeline's spec alone (the §2 rules a gate relies on) and returns it
/// normalised, or every rule broken.
pub fn validate_config(spec: &PipelineSpec) -> Result<PipelineConfig, Violations> {
    let mut errors = Collector::default();
    let config = check_spec(spec, &mut errors);
    match errors.0.is_empty() {
        true => Ok(config),
        false => Err(Violations(errors.0)),
    }
}

/// The spec's rules, each broken one added to `errors`; the normalised pipeline (only
/// meaningful when nothing was added).
/// The longest soak time: a year.
const MAX_SOAK: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

fn check_spec(spec: &PipelineSpec, errors: &mut Collector) -> PipelineConfig {
    let tenant = spec.tenant.clone().unwrap_or_default();
    match &spec.tenant {
        None => errors.add("spec.tenant", "required"),
        Some(t) => check_tenant(t, errors),
    }

    let environments = spec.environments.clone().unwrap_or_default();
    match &spec.environments {
        None => errors.add("spec.environments", "required"),
        Some(envs) => check_environments(envs, errors),
    }

    let rules = check_promotion_rules(&spec.promotion_rules, &environments, errors);

    let registry = spec
        .artifact_config
        .registry
        .clone()
        .unwrap_or_else(|| DEFAULT_REGISTRY.to_owned());
    if !is_registry(&registry) {
        errors.add(
            "spec.artifactConfig.registry",
            format!(
                "{registry:?} must be a registry host such as ghcr.io or registry.example.com:5000, optionally with a lower-case path, without a scheme"
            ),
        );
    }
    let retention_days = match spec.artifact_config.retention_days {
        None => DEFAULT_RETENTION_DAYS,
        Some(days) if RETENTION_DAYS.contains(&days) => days as u32,
        Some(days) => {
            errors.add(
                "spec.artifactConfig.retention_days",
                format!(
                    "{days} must be between {} and {}",
                    RETENTION_DAYS.start(),
                    RETENTION_DAYS.end()
                ),
            );
            DEFAULT_RETENTION_DAYS
        }
    };
    let validation_mode = check_mode(
        "spec.testing.validation_mode",
        spec.testing.validation_mode.as_deref(),
        errors,
    );
    let bootstrap_mode = check_mode(
        "spec.testing.bootstrap_mode",
        spec.testing.bootstrap_mode.as_deref(),
        errors,
    );

    let approvals = check_approvals(&spec.approvals, &environments, errors);
    let progression = match spec.progression.as_deref() {
        None | Some("enforced") => Progression::Enforced,
        Some("free") => Progression::Free,
        Some(other) => {
            errors.add(
                "spec.progression",
                format!("{other:?} must be enforced or free"),
            );
            Progression::Enforced
        }
    };
    for (env, duration) in &spec.soak_time {
        let path = format!("spec.soakTime.{env}");
        if !environments.contains(env) {
            errors.add(
                path,
                format!("{env:?} is not an environment of this pipeline"),
            );
        } else {
            match GoDuration::parse(duration) {
                Err(why) => errors.add(path, why),
                Ok(d) if d.0 > MAX_SOAK => errors.add(
                    path,
                    format!("{duration:?} is longer than the longest soak, 8760h (a year)"),
                ),
                Ok(_) => {}
            }
        }
    }

    let promotions = environments
        .windows(2)
        .map(|pair| {
            let (from, to) = (&pair[0], &pair[1]);
            Promotion {
                from: from.clone(),
                to: to.clone(),
                rule: rules
                    .get(&(from.clone(), to.clone()))
                    .copied()
                    .unwrap_or(Rule::Manual),
                approvals: approvals.get(to).cloned(),
            }
        })
        .collect();
    let freezes = check_freezes(spec, &environments, errors);
    PipelineConfig {
        tenant,
        environments,
        promotions,
        registry,
        retention_days,
        progression,
        soak_time: spec.soak_time.clone(),
        freezes,
        freeze_override: spec.freeze_override.as_ref().map(|o| {
            check_people("spec.freezeOverride", &o.users, &o.teams, errors);
            FreezeOverride {
                users: o.users.clone(),
                teams: o.teams.clone(),
            }
        }),
        testing: Testing {
            validation_mode,
            bootstrap_mode,
        },
    }
}

fn check_tenant(tenant: &str, errors: &mut Collector) {
    if let Some(why) = names::tenant_error(tenant) {
        errors.add("spec.tenant", why);
    }
}

fn check_environments(environments: &[String], errors: &mut Collector) {
    if environments.is_empty() {
        errors.add("spec.environments", "must list at least one environment");
    }
    let mut seen = BTreeSet::new();
    for (i, env) in environments.iter().enumerate() {
        let path = format!("spec.environments[{i}]");
        if let Some(why) = names::environment_error(env) {
            errors.add(path, why);
        } else if !seen.insert(env.as_str()) {
            errors.add(path, format!("duplicate environment {env:?}"));
        }
    }
}

fn check_promotion_rules(
    rules: &BTreeMap<String, String>,
    environments: &[String],
    errors: &mut Collector,
) -> BTreeMap<(String, String), Rule> {
    let adjacent: BTreeSet<(&str, &str)> = environments
        .windows(2)
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .collect();
    let mut out = BTreeMap::new();
    for (key, value) in rules {
        let path = format!("spec.promotionRules.{key}");
        let rule = match value.as_str() {
            "manual" => Some(Rule::Manual),
            "automatic" => Some(Rule::Automatic),
            other => {
                errors.add(
                    path.clone(),
                    format!("{other:?} must be one of manual, automatic"),
                );
                None
            }
        };
        let Some((from, to)) = key.split_once("_to_") else {
            errors.add(
                path,
                "key must be <from>_to_<to> naming two adjacent environments",
            );
            continue;
        };
        if !adjacent.contains(&(from, to)) {
            errors.add(
                path,
                format!(
                    "{from:?} -> {to:?} is not an adjacent pair of spec.environments [{}] in order",
                    environments.join(", ")
                ),
            );
            continue;
        }
        if let Some(rule) = rule {
            out.insert((from.to_owned(), to.to_owned()), rule);
        }
    }
    out
}

fn check_mode(path: &str, mode: Option<&str>, errors: &mut Collector) -> String {
    match mode {
        None | Some(PREVIEW) => PREVIEW.to_owned(),
        Some(other) => {
            errors.add(path, format!("{other:?} must be one of {PREVIEW}"));
            PREVIEW.to_owned()
        }
    }
}

/// `spec.freezes`: each window valid, names unique.
fn check_freezes(
    spec: &PipelineSpec,
    environments: &[String],
    errors: &mut Collector,
) -> Vec<FreezeSpec> {
    if spec.freezes.len() > MAX_WINDOWS {
        errors.add(
            "spec.freezes",
            format!("at most {MAX_WINDOWS} windows, got {}", spec.freezes.len()),
        );
    }
    let mut names = BTreeSet::new();
    let mut found = Vec::new();
    for (i, window) in spec.freezes.iter().enumerate() {
        let path = format!("spec.freezes[{i}]");
        Window::parse(window, &path, environments, &mut found);
        if !window.name.is_empty() && !names.insert(window.name.clone()) {
            found.push((
                format!("{path}.name"),
                format!("{:?} names another window too", window.name),
            ));
        }
    }
    for (path, message) in found {
        errors.add(path, message);
    }
    spec.freezes.clone()
}

fn check_external_secret_keys(keys: &[String], errors: &mut Collector) {
    if keys.is_empty() {
        errors.add(
            "input.externalSecret.keys",
            "must list at least one key for the pipeline's credentials",
        );
    }
    for (i, key) in keys.iter().enumerate() {
        let valid = !key.is_empty()
            && key.len() <= 253
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !valid {
            errors.add(
                format!("input.externalSecret.keys[{i}]"),
                format!("{key:?} must be a Secret key (letters, digits, '-', '.', '_')"),
            );
        }
    }
}

/// `host[:port][/path]`: a host of letters, digits, '.' and '-', an optional numeric
/// port, and lower-case path segments; no scheme.
fn is_registry(s: &str) -> bool {
    let (host_port, path) = match s.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let (host, port) = match host_port.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (host_port, None),
    };
    let host_ok = !host.is_empty()
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-'])
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let path_ok = path.is_none_or(|p| {
        p.split('/').all(|seg| {
            !seg.is_empty()
                && seg.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        })
    });
    host_ok && port_ok && path_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline_config::Approvers;
    use serde_json::{Value, json};

    fn composite(namespace: Option<&str>) -> Composite {
        let mut xr = json!({
            "apiVersion": "platform.zerotouch.dev/v1alpha1",
            "kind": "XReleasePipeline",
            "metadata": {"name": "my-service-pipeline"},
        });
        if let Some(ns) = namespace {
            xr["metadata"]["namespace"] = json!(ns);
        }
        Composite::from_json(&xr).unwrap()
    }

    fn seed_spec() -> Value {
        json!({
            "tenant": "my-service",
            "environments": ["dev", "staging", "production"],
            "promotionRules": {"dev_to_staging": "manual", "staging_to_production": "manual"},
            "artifactConfig": {"registry": "ghcr.io", "retention_days": 30},
            "testing": {"validation_mode": "preview", "bootstrap_mode": "preview"},
        })
    }

    fn run(spec: &Value) -> Result<Pipeline, Violations> {
        validate(
            &PipelineSpec::from_json(spec).unwrap(),
            &composite(Some("platform-system")),
            &Input::default(),
        )
    }

    /// Applies `patch` (a JSON merge patch; null removes) to the seed spec.
    fn seed_with(patch: Value) -> Value {
        fn merge(target: &mut Value, patch: &Value) {
            match (target, patch) {
                (Value::Object(t), Value::Object(p)) => {
                    for (k, v) in p {
                        if v.is_null() {
                            t.remove(k);
                        } else {
                            merge(t.entry(k.clone()).or_insert(Value::Null), v);
                        }
                    }
                }
                (t, p) => *t = p.clone(),
            }
        }
        let mut spec = seed_spec();
        merge(&mut spec, &patch);
        spec
    }

    #[test]
    fn seed_pipeline_is_valid_and_normalised() {
        let p = run(&seed_spec()).unwrap();
        assert_eq!(p.scope, Scope::Namespaced);
        assert_eq!(p.namespace, "platform-system");
        assert_eq!(p.gate_api_group, "platform.zerotouch.dev");
        assert_eq!(p.config.promotions.len(), 2);
        assert_eq!(p.config.promotions[1].from, "staging");
        assert_eq!(p.config.promotions[1].to, "production");
        assert_eq!(p.config.promotions[1].rule, Rule::Manual);
    }

    #[test]
    fn minimal_spec_gets_every_default() {
        let p = run(&json!({"tenant": "svc", "environments": ["dev", "prod"]})).unwrap();
        assert_eq!(p.config.registry, "ghcr.io");
        assert_eq!(p.config.retention_days, 30);
        assert_eq!(p.config.testing.validation_mode, "preview");
        assert_eq!(p.config.testing.bootstrap_mode, "preview");
        assert_eq!(p.config.promotions[0].rule, Rule::Manual);
        assert_eq!(p.config.promotions[0].approvals, None);
    }

    #[test]
    fn automatic_rule_and_target_approvers_land_on_their_promotion() {
        let p = run(&seed_with(json!({
            "promotionRules": {"dev_to_staging": "automatic"},
            "approvals": {"production": {"users": ["alice"], "teams": ["acme/sre"], "minApprovals": 2}},
        })))
        .unwrap();
        assert_eq!(p.config.promotions[0].rule, Rule::Automatic);
        assert_eq!(p.config.promotions[0].approvals, None);
        assert_eq!(
            p.config.promotions[1].approvals,
            Some(Approvers {
                users: vec!["alice".into()],
                teams: vec!["acme/sre".into()],
                min_approvals: 2,
                rules: Vec::new(),
                exclude_change_authors: None,
                reminders: None,
                escalation: None,
            })
        );
    }

    #[test]
    fn cluster_scoped_pipeline_goes_to_the_input_namespace() {
        let input = Input {
            namespace: Some("pipelines".into()),
            ..Input::default()
        };
        let p = validate(
            &PipelineSpec::from_json(&seed_spec()).unwrap(),
            &composite(None),
            &input,
        )
        .unwrap();
        assert_eq!(p.scope, Scope::Cluster);
        assert_eq!(p.namespace, "pipelines");
    }

    #[test]
    fn cluster_scoped_pipeline_without_input_namespace_is_refused() {
        let err = validate(
            &PipelineSpec::from_json(&seed_spec()).unwrap(),
            &composite(None),
            &Input::default(),
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert!(
            err.to_string()
                .starts_with("input.namespace: required for a cluster-scoped XReleasePipeline"),
            "{err}"
        );
    }

    #[test]
    fn longest_allowed_tenant_is_valid_and_one_more_is_not() {
        let longest = format!("a{}", "b".repeat(names::MAX_TENANT_LEN - 1));
        assert!(run(&seed_with(json!({"tenant": longest}))).is_ok());
        let too_long = format!("{longest}c");
        let err = run(&seed_with(json!({"tenant": too_long}))).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "spec.tenant: {too_long:?} is 35 characters; at most 34 are allowed so that \"<tenant>-release-pipeline-credentials\" stays within 63 characters"
            )
        );
    }

    /// One case per rule: each breaks only that rule, and the message names the path
    /// and the rule.
    #[test]
    fn each_rule_is_reported_with_its_path() {
        let cases: Vec<(&str, Value, &str)> = vec![
            (
                "tenant required",
                seed_with(json!({"tenant": null})),
                "spec.tenant: required",
            ),
            (
                "tenant pattern",
                seed_with(json!({"tenant": "My_Service"})),
                "spec.tenant: \"My_Service\" must be a DNS label matching ^[a-z][a-z0-9-]*[a-z0-9]$ (lower-case letters, digits and '-', starting with a letter)",
            ),
            (
                "tenant starts with a digit",
                seed_with(json!({"tenant": "1svc"})),
                "spec.tenant: \"1svc\" must be a DNS label matching ^[a-z][a-z0-9-]*[a-z0-9]$ (lower-case letters, digits and '-', starting with a letter)",
            ),
            (
                "environments required",
                seed_with(json!({"environments": null, "promotionRules": null})),
                "spec.environments: required",
            ),
            (
                "environments non-empty",
                seed_with(json!({"environments": [], "promotionRules": null})),
                "spec.environments: must list at least one environment",
            ),
            (
                "environments unique",
                seed_with(
                    json!({"environments": ["dev", "staging", "dev"], "promotionRules": {"staging_to_production": null}}),
                ),
                "spec.environments[2]: duplicate environment \"dev\"",
            ),
            (
                "environments are DNS labels",
                seed_with(json!({"environments": ["dev", "Staging"], "promotionRules": null})),
                "spec.environments[1]: \"Staging\" must be a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
            ),
            (
                "promotion rule key shape",
                seed_with(json!({"promotionRules": {"dev-staging": "manual"}})),
                "spec.promotionRules.dev-staging: key must be <from>_to_<to> naming two adjacent environments",
            ),
            (
                "promotion rule pair adjacent",
                seed_with(json!({"promotionRules": {"dev_to_production": "manual"}})),
                "spec.promotionRules.dev_to_production: \"dev\" -> \"production\" is not an adjacent pair of spec.environments [dev, staging, production] in order",
            ),
            (
                "promotion rule pair in order",
                seed_with(json!({"promotionRules": {"staging_to_dev": "manual"}})),
                "spec.promotionRules.staging_to_dev: \"staging\" -> \"dev\" is not an adjacent pair of spec.environments [dev, staging, production] in order",
            ),
            (
                "promotion rule enum",
                seed_with(json!({"promotionRules": {"dev_to_staging": "auto"}})),
                "spec.promotionRules.dev_to_staging: \"auto\" must be one of manual, automatic",
            ),
            (
                "registry shape",
                seed_with(json!({"artifactConfig": {"registry": "https://ghcr.io"}})),
                "spec.artifactConfig.registry: \"https://ghcr.io\" must be a registry host such as ghcr.io or registry.example.com:5000, optionally with a lower-case path, without a scheme",
            ),
            (
                "retention lower bound",
                seed_with(json!({"artifactConfig": {"retention_days": 0}})),
                "spec.artifactConfig.retention_days: 0 must be between 1 and 365",
            ),
            (
                "retention upper bound",
                seed_with(json!({"artifactConfig": {"retention_days": 366}})),
                "spec.artifactConfig.retention_days: 366 must be between 1 and 365",
            ),
            (
                "validation mode enum",
                seed_with(json!({"testing": {"validation_mode": "full"}})),
                "spec.testing.validation_mode: \"full\" must be one of preview",
            ),
            (
                "bootstrap mode enum",
                seed_with(json!({"testing": {"bootstrap_mode": "full"}})),
                "spec.testing.bootstrap_mode: \"full\" must be one of preview",
            ),
            (
                "approvals environment exists",
                seed_with(json!({"approvals": {"qa": {"users": ["alice"]}}})),
                "spec.approvals.qa: \"qa\" is not one of spec.environments [dev, staging, production]",
            ),
            (
                "approvals not for the first environment",
                seed_with(json!({"approvals": {"dev": {"users": ["alice"]}}})),
                "spec.approvals.dev: \"dev\" is the first environment; nothing is promoted into it, so it has no approvers",
            ),
            (
                "approvals name someone",
                seed_with(json!({"approvals": {"production": {"minApprovals": 2}}})),
                "spec.approvals.production: must name at least one of users, teams or rules (omit the environment to use the function's default approvers)",
            ),
            (
                "approvals users are logins",
                seed_with(json!({"approvals": {"production": {"users": ["@alice"]}}})),
                "spec.approvals.production.users[0]: \"@alice\" is not a GitHub login",
            ),
            (
                "approvals teams are org/slug",
                seed_with(json!({"approvals": {"production": {"teams": ["release-managers"]}}})),
                "spec.approvals.production.teams[0]: \"release-managers\" must be org/team-slug",
            ),
            (
                "min approvals lower bound",
                seed_with(
                    json!({"approvals": {"production": {"users": ["alice"], "minApprovals": 0}}}),
                ),
                "spec.approvals.production.minApprovals: 0 must be between 1 and 10",
            ),
            (
                "min approvals upper bound",
                seed_with(
                    json!({"approvals": {"production": {"users": ["alice"], "minApprovals": 11}}}),
                ),
                "spec.approvals.production.minApprovals: 11 must be between 1 and 10",
            ),
            (
                "escalation after is a Go duration",
                seed_with(json!({"approvals": {"production": {"users": ["alice"],
                    "escalation": {"after": "2d", "users": ["erin"]}}}})),
                "spec.approvals.production.escalation.after: invalid duration \"2d\": use a number and a unit such as 30s, 5m or 1h",
            ),
            (
                "escalation after at most a week",
                seed_with(json!({"approvals": {"production": {"users": ["alice"],
                    "escalation": {"after": "169h", "teams": ["acme/sre"]}}}})),
                "spec.approvals.production.escalation.after: \"169h\" is longer than 168h",
            ),
            (
                "escalation names someone",
                seed_with(json!({"approvals": {"production": {"users": ["alice"],
                    "escalation": {"after": "4h"}}}})),
                "spec.approvals.production.escalation: must name at least one user or team",
            ),
            (
                "escalation users are logins",
                seed_with(json!({"approvals": {"production": {"users": ["alice"],
                    "escalation": {"after": "4h", "users": ["-erin"]}}}})),
                "spec.approvals.production.escalation.users[0]: \"-erin\" is not a GitHub login",
            ),
        ];
        for (name, spec, expected) in cases {
            let err = run(&spec).expect_err(name);
            assert_eq!(err.0.len(), 1, "{name}: only one rule broken: {err}");
            assert_eq!(err.to_string(), expected, "{name}");
        }
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        let err =
            run(&json!({"environments": ["dev", "dev"], "artifactConfig": {"retention_days": 0}}))
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "spec.tenant: required; spec.environments[1]: duplicate environment \"dev\"; spec.artifactConfig.retention_days: 0 must be between 1 and 365"
        );
    }

    #[test]
    fn external_secret_keys_must_be_secret_keys() {
        let mut input = Input::default();
        input.external_secret.keys = vec!["github token".into()];
        let err = validate(
            &PipelineSpec::from_json(&seed_spec()).unwrap(),
            &composite(Some("ns")),
            &input,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "input.externalSecret.keys[0]: \"github token\" must be a Secret key (letters, digits, '-', '.', '_')"
        );
        input.external_secret.keys.clear();
        let err = validate(
            &PipelineSpec::from_json(&seed_spec()).unwrap(),
            &composite(Some("ns")),
            &input,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("input.externalSecret.keys: must list")
        );
    }

    #[test]
    fn registries_with_port_and_path_are_accepted() {
        for ok in [
            "ghcr.io",
            "registry.example.com:5000",
            "ghcr.io/acme",
            "localhost:5000/a/b",
        ] {
            assert!(is_registry(ok), "{ok}");
        }
        for bad in [
            "",
            "https://ghcr.io",
            "ghcr.io/",
            "ghcr.io:x",
            "ghcr.io/Acme",
            "-x.io",
            "a b",
        ] {
            assert!(!is_registry(bad), "{bad}");
        }
    }
}
