//! The XPromotionGate API: its spec read and validated from the observed XR (including
//! the OCI artifact reference grammar), and its status as recorded and as written.
//!
//! Pure: reads JSON values it is given; no GitHub, no gRPC, no clock.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::names;

pub use super::fields::rfc3339;
use super::fields::{
    lenient, non_empty, readable_items, some_time_text, time_text, whole_from_one,
};

/// Bounds of `spec.timeout_hours`.
pub const TIMEOUT_HOURS: std::ops::RangeInclusive<u32> = 1..=168;
const DEFAULT_TIMEOUT_HOURS: u32 = 24;

/// A spec field that breaks a rule; shown as `<path>: <rule>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {rule}")]
pub struct SpecError {
    /// The field path, e.g. `spec.artifact_id`.
    pub path: String,
    /// The rule it breaks.
    pub rule: String,
}

fn error(path: &str, rule: impl Into<String>) -> SpecError {
    SpecError {
        path: path.to_owned(),
        rule: rule.into(),
    }
}

/// A validated XPromotionGate spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateSpec {
    /// The tenant whose pipeline this gate belongs to.
    pub tenant: String,
    /// The artifact being promoted, as written.
    pub artifact_id: String,
    /// The artifact reference, parsed.
    pub artifact: Artifact,
    /// The environment the artifact comes from.
    pub source_environment: String,
    /// The environment it goes to.
    pub target_environment: String,
    /// Whether the gate asks for approval (the pipeline's rule may still require it).
    pub approval_required: bool,
    /// Hours from the gate's start until it times out.
    pub timeout_hours: u32,
    /// The source revision the artifact was built from (`spec.change`), when named.
    pub change: Option<super::change::Change>,
}

/// An OCI artifact reference: `registry[:port]/path[:tag][@sha256:<hex>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The registry host, e.g. `ghcr.io` or `registry.local`.
    pub registry: String,
    /// The registry port, when given.
    pub port: Option<u16>,
    /// The repository path, e.g. `org/my-service`.
    pub repository: String,
    /// The tag, when given.
    pub tag: Option<String>,
    /// The digest (`sha256:<64 hex>`), when given.
    pub digest: Option<String>,
}

impl GateSpec {
    /// Reads and validates `spec`. `allow_mutable_tags` is the Input's permission to
    /// promote a `latest` tag.
    pub fn from_json(spec: &Value, allow_mutable_tags: bool) -> Result<Self, SpecError> {
        let Some(spec) = spec.as_object() else {
            return Err(error("spec", "is required"));
        };
        let tenant = required_string(spec, "tenant")?;
        if let Some(why) = names::tenant_error(&tenant) {
            return Err(error("spec.tenant", why));
        }
        let artifact_id = required_string(spec, "artifact_id")?;
        let artifact = Artifact::parse(&artifact_id)
            .map_err(|rule| error("spec.artifact_id", format!("{artifact_id:?} {rule}")))?;
        if artifact.tag.as_deref() == Some("latest")
            && artifact.digest.is_none()
            && !allow_mutable_tags
        {
            return Err(error(
                "spec.artifact_id",
                format!(
                    "{artifact_id:?} uses the mutable tag \"latest\"; pin a tag or digest (or set the input's allowMutableTags)"
                ),
            ));
        }
        let source_environment = required_string(spec, "source_environment")?;
        if let Some(why) = names::environment_error(&source_environment) {
            return Err(error("spec.source_environment", why));
        }
        let target_environment = required_string(spec, "target_environment")?;
        if let Some(why) = names::environment_error(&target_environment) {
            return Err(error("spec.target_environment", why));
        }
        if source_environment == target_environment {
            return Err(error(
                "spec.target_environment",
                format!(
                    "must differ from spec.source_environment (both are {source_environment:?})"
                ),
            ));
        }
        let approval_required = match spec.get("approval_required") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(error(
                    "spec.approval_required",
                    format!("must be true or false, got {other}"),
                ));
            }
        };
        let timeout_hours = match spec.get("timeout_hours") {
            None | Some(Value::Null) => DEFAULT_TIMEOUT_HOURS,
            Some(v) => whole_number(v)
                .filter(|n| TIMEOUT_HOURS.contains(n))
                .ok_or_else(|| {
                    error(
                        "spec.timeout_hours",
                        format!(
                            "must be a whole number from {} to {}, got {v}",
                            TIMEOUT_HOURS.start(),
                            TIMEOUT_HOURS.end()
                        ),
                    )
                })?,
        };
        let change = super::change::Change::from_json(spec.get("change"))
            .map_err(|e| error(&e.path, e.rule))?;
        Ok(GateSpec {
            tenant,
            artifact_id,
            artifact,
            source_environment,
            target_environment,
            approval_required,
            timeout_hours,
            change,
        })
    }
}

fn required_string(spec: &Map<String, Value>, field: &str) -> Result<String, SpecError> {
    let path = format!("spec.{field}");
    match spec.get(field) {
        None | Some(Value::Null) => Err(error(&path, "is required")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(error(&path, "must not be empty")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(error(&path, format!("must be a string, got {other}"))),
    }
}

/// Structs carry numbers as doubles; accept only whole ones.
fn whole_number(v: &Value) -> Option<u32> {
    let n = v.as_f64()?;
    (n.fract() == 0.0 && n >= 0.0 && n <= f64::from(u32::MAX)).then_some(n as u32)
}

impl Artifact {
    /// Parses an OCI reference. The registry is required (a host with a dot, a port,
    /// or `localhost`), then a repository path, then a tag and/or a sha256 digest.
    pub fn parse(reference: &str) -> Result<Self, String> {
        if reference
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("must not contain whitespace".into());
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => {
                let hex = digest
                    .strip_prefix("sha256:")
                    .ok_or("has a digest that is not sha256:<64 hex characters>".to_string())?;
                if hex.len() != 64
                    || !hex
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
                {
                    return Err("has a digest that is not sha256:<64 hex characters>".into());
                }
                (rest, Some(digest.to_owned()))
            }
            None => (reference, None),
        };
        let (host, path) = rest.split_once('/').ok_or(
            "must name a registry, a repository and a tag or digest, e.g. ghcr.io/org/app:v1"
                .to_string(),
        )?;
        let (registry, port) = match host.split_once(':') {
            Some((name, port)) => {
                // u16's parser takes a leading `+`; the reference grammar is digits only.
                let port = Some(port)
                    .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
                    .and_then(|p| p.parse::<u16>().ok())
                    .filter(|p| *p > 0)
                    .ok_or(format!("has an invalid registry port {port:?}"))?;
                (name, Some(port))
            }
            None => (host, None),
        };
        let host_ok = !registry.is_empty()
            && registry.split('.').all(|label| {
                !label.is_empty()
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !host_ok || !(registry.contains('.') || port.is_some() || registry == "localhost") {
            return Err(format!(
                "must start with a registry host (e.g. ghcr.io or registry.local:5000), got {host:?}"
            ));
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) => (repository, Some(tag)),
            None => (path, None),
        };
        if repository.is_empty() || !repository.split('/').all(valid_path_component) {
            return Err(format!(
                "has an invalid repository path {repository:?}: lower-case components separated by /"
            ));
        }
        if let Some(tag) = tag {
            let ok = tag.len() <= 128
                && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && tag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !ok {
                return Err(format!("has an invalid tag {tag:?}"));
            }
        }
        if tag.is_none() && digest.is_none() {
            return Err("must end with a tag or an @sha256: digest".into());
        }
        Ok(Artifact {
            registry: registry.to_owned(),
            port,
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, the OCI distribution path component.
fn valid_path_component(component: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !component.starts_with(alnum) || !component.ends_with(alnum) {
        return false;
    }
    let mut separator = String::new();
    for c in component.chars() {
        if alnum(c) {
            let ok = separator.is_empty()
                || separator == "."
                || separator == "_"
                || separator == "__"
                || separator.chars().all(|s| s == '-');
            if !ok {
                return false;
            }
            separator.clear();
        } else if matches!(c, '.' | '_' | '-') {
            separator.push(c);
        } else {
            return false;
        }
    }
    true
}

/// The gate's state (`status.gate_status`), the seed's enum.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum GateState {
    /// Waiting for a verdict.
    Pending,
    /// Approved: the promotion may run.
    Approved,
    /// Rejected by an authorized approver.
    Rejected,
    /// No verdict before the deadline.
    Timeout,
}

impl GateState {
    /// The status value.
    pub fn as_str(self) -> &'static str {
        match self {
            GateState::Pending => "pending",
            GateState::Approved => "approved",
            GateState::Rejected => "rejected",
            GateState::Timeout => "timeout",
        }
    }

    /// Reads a status value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(GateState::Pending),
            "approved" => Some(GateState::Approved),
            "rejected" => Some(GateState::Rejected),
            "timeout" => Some(GateState::Timeout),
            _ => None,
        }
    }

    /// Whether the state is final.
    pub fn is_terminal(self) -> bool {
        self != GateState::Pending
    }
}

impl fmt::Display for GateState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an approval was given.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// An `/approve` comment.
    Comment,
    /// Closing the issue as completed.
    Close,
    /// `/override-freeze <reason>`: let an approved gate through a freeze window (not an
    /// approval).
    #[serde(rename = "override-freeze")]
    OverrideFreeze,
    /// An approval given for this artifact before the gate switched away and back,
    /// applied again.
    Reused,
}

impl Via {
    /// The status value.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Comment => "comment",
            Via::Close => "close",
            Via::OverrideFreeze => "override-freeze",
            Via::Reused => "reused",
        }
    }

    /// Reads a status value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "comment" => Some(Via::Comment),
            "close" => Some(Via::Close),
            "override-freeze" => Some(Via::OverrideFreeze),
            "reused" => Some(Via::Reused),
            _ => None,
        }
    }
}

/// One counted approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Approval {
    /// The approver's GitHub login.
    pub login: String,
    /// When the approval was given.
    #[serde(serialize_with = "time_text")]
    #[schemars(with = "String")]
    pub at: DateTime<Utc>,
    /// How it was given.
    pub via: Via,
    /// The named approval rules it counted toward (none when the pipeline names no
    /// rules for the environment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

/// The approval issue, as recorded in status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RecordedIssue")]
pub struct IssueRef {
    /// The issue number.
    pub number: u64,
    /// Its web URL.
    pub url: String,
}

/// An approval issue a key used (`status.issues[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KeyIssue {
    /// The approvals repository, `owner/name`.
    pub repository: String,
    /// The issue number.
    #[serde(deserialize_with = "whole_from_one")]
    #[schemars(range(min = 1))]
    pub number: u64,
}

/// How far the promotion Job got (`status.promotion.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PromotionState {
    /// Rendered, and not yet succeeded or failed (also before Crossplane observes it).
    Running,
    /// The Job succeeded: the artifact is in the target environment.
    Succeeded,
    /// The Job failed (its `Failed` condition is True).
    Failed,
}

/// The promotion Job of an approved gate (`status.promotion`), read from the observed
/// Job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PromotionStatus {
    /// The Job's name.
    pub job: String,
    /// How far it got.
    pub state: PromotionState,
    /// When it succeeded or failed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "some_time_text",
        deserialize_with = "lenient"
    )]
    #[schemars(with = "Option<String>")]
    pub completed_at: Option<DateTime<Utc>>,
    /// When Crossplane first observed it: from then on the key's promotion has started,
    /// and a Job that is gone is never rendered again.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "some_time_text",
        deserialize_with = "lenient"
    )]
    #[schemars(with = "Option<String>")]
    pub started_at: Option<DateTime<Utc>>,
}

impl PromotionStatus {
    /// Whether the Job was observed once (it started), or finished.
    pub fn started(&self) -> bool {
        self.started_at.is_some() || self.state != PromotionState::Running
    }
}

/// An issue reference as status holds it: Struct numbers arrive as floats.
#[derive(Deserialize, schemars::JsonSchema)]
struct RecordedIssue {
    /// The issue number.
    #[schemars(with = "u64", range(min = 1))]
    number: f64,
    /// Its web URL.
    #[serde(default)]
    url: String,
}

impl TryFrom<RecordedIssue> for IssueRef {
    type Error = &'static str;

    fn try_from(r: RecordedIssue) -> Result<Self, Self::Error> {
        if r.number >= 1.0 && r.number.fract() == 0.0 && r.number < 9.007_199_254_740_992e15 {
            Ok(IssueRef {
                number: r.number as u64,
                url: r.url,
            })
        } else {
            Err("an issue number is a whole number from 1")
        }
    }
}

/// The gate's status, as this function records it. Read leniently: a field that cannot
/// be read counts as not recorded (it was written by someone else, or by an older
/// version), and so does an approval that cannot be read. Written with absent fields
/// left out and times as RFC 3339 seconds with `Z`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct GateStatus {
    /// pending, approved, rejected or timeout.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub gate_status: Option<GateState>,
    /// The counted approvers' logins, comma-separated.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "non_empty"
    )]
    pub approver: Option<String>,
    /// When the approval quorum was reached.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "some_time_text",
        deserialize_with = "lenient"
    )]
    #[schemars(with = "Option<String>")]
    pub approval_timestamp: Option<DateTime<Utc>>,
    /// The gate's start, from which the timeout runs.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "some_time_text",
        deserialize_with = "lenient"
    )]
    #[schemars(with = "Option<String>")]
    pub created_timestamp: Option<DateTime<Utc>>,
    /// Hash of namespace, name, tenant, environments and artifact.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "non_empty"
    )]
    pub gate_key: Option<String>,
    /// The approval issue.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub issue: Option<IssueRef>,
    /// The deadline.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "some_time_text",
        deserialize_with = "lenient"
    )]
    #[schemars(with = "Option<String>")]
    pub timeout_at: Option<DateTime<Utc>>,
    /// Counted approvals.
    #[serde(deserialize_with = "readable_items")]
    pub approvals: Vec<Approval>,
    /// The promotion Job of an approved gate, as Crossplane observed it.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub promotion: Option<PromotionStatus>,
    /// Every approval issue this artifact's request used; none silently leaves the gate.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "readable_items"
    )]
    #[schemars(length(max = 100))]
    pub issues: Vec<KeyIssue>,
    /// The change the gate names, as read from its source repository.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub change: Option<super::change::ChangeStatus>,
    /// The reminders posted on the approval issue, as Go durations after it opened.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "readable_items"
    )]
    #[schemars(length(max = 10))]
    pub reminders: Vec<String>,
    /// The account that requested the promotion, as the function's binding sealed it.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub requester: Option<super::account::Account>,
    /// When the request escalated to the pipeline's escalation approvers.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "some_time_text",
        deserialize_with = "lenient"
    )]
    #[schemars(with = "Option<String>")]
    pub escalated_at: Option<DateTime<Utc>>,
    /// The notifications delivered for this request, by event.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub notifications: Option<super::notified::Notified>,
}

impl GateStatus {
    /// The fields that belong to one key's request (its start, deadline, issue, approvals
    /// and promotion), which a status recorded for another key must not show as this
    /// one's.
    pub const PER_KEY: &[&str] = &[
        "approver",
        "approval_timestamp",
        "approvals",
        "created_timestamp",
        "issue",
        "issues",
        "promotion",
        "timeout_at",
        "change",
        "reminders",
        "escalated_at",
        "notifications",
        "requester",
    ];

    /// Reads the recorded status (see [`GateStatus`]); anything but an object is no
    /// status at all.
    pub fn from_json(status: &Value) -> Self {
        GateStatus::deserialize(status).unwrap_or_default()
    }

    /// The status as written to the XR.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a status always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "tenant": "my-service",
            "artifact_id": "ghcr.io/org/my-service:main-abc123",
            "source_environment": "dev",
            "target_environment": "staging",
            "approval_required": true,
            "timeout_hours": 24,
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut s = spec();
        s[field] = value;
        s
    }

    fn rule_of(spec: Value) -> String {
        GateSpec::from_json(&spec, false).unwrap_err().to_string()
    }

    #[test]
    fn seed_gate_is_valid_with_defaults_applied() {
        let mut s = spec();
        s.as_object_mut().unwrap().remove("timeout_hours");
        s.as_object_mut().unwrap().remove("approval_required");
        let gate = GateSpec::from_json(&s, false).unwrap();
        assert_eq!(gate.timeout_hours, 24);
        assert!(gate.approval_required);
        assert_eq!(gate.artifact.registry, "ghcr.io");
        assert_eq!(gate.artifact.repository, "org/my-service");
        assert_eq!(gate.artifact.tag.as_deref(), Some("main-abc123"));
    }

    #[test]
    fn artifact_with_registry_port_tag_and_digest_parses() {
        let digest = format!("sha256:{}", "a1".repeat(32));
        let a = Artifact::parse(&format!("registry.local:5000/team/app:v1.2@{digest}")).unwrap();
        assert_eq!(a.registry, "registry.local");
        assert_eq!(a.port, Some(5000));
        assert_eq!(a.repository, "team/app");
        assert_eq!(a.tag.as_deref(), Some("v1.2"));
        assert_eq!(a.digest, Some(digest.clone()));
        let a = Artifact::parse(&format!("localhost:5000/app@{digest}")).unwrap();
        assert_eq!(a.tag, None);
    }

    #[test]
    fn malformed_artifacts_are_refused_naming_the_field() {
        for bad in [
            "my-service:v1",
            "ghcr.io/org/my-service",
            "ghcr.io/Org/app:v1",
            "ghcr.io:0/org/app:v1",
            "ghcr.io:http/org/app:v1",
            "ghcr.io:+5000/org/app:v1",
            "ghcr.io/org/app:-v1",
            "ghcr.io/org/app@sha256:abc",
            "ghcr.io/org/app@md5:00",
            "ghcr.io/org//app:v1",
            "ghcr.io/org/app:v 1",
        ] {
            let message = rule_of(with("artifact_id", json!(bad)));
            assert!(
                message.starts_with("spec.artifact_id: "),
                "{bad}: {message}"
            );
        }
    }

    #[test]
    fn latest_is_refused_unless_mutable_tags_are_allowed() {
        let s = with("artifact_id", json!("ghcr.io/org/app:latest"));
        assert!(rule_of(s.clone()).contains("mutable tag \"latest\""));
        assert!(GateSpec::from_json(&s, true).is_ok());
        let pinned = format!("ghcr.io/org/app:latest@sha256:{}", "0".repeat(64));
        assert!(GateSpec::from_json(&with("artifact_id", json!(pinned)), false).is_ok());
    }

    #[test]
    fn source_and_target_must_differ() {
        let message = rule_of(with("target_environment", json!("dev")));
        assert_eq!(
            message,
            "spec.target_environment: must differ from spec.source_environment (both are \"dev\")"
        );
    }

    #[test]
    fn timeout_hours_outside_bounds_is_refused() {
        for bad in [json!(0), json!(169), json!(1.5), json!("24")] {
            let message = rule_of(with("timeout_hours", bad.clone()));
            assert!(
                message.starts_with("spec.timeout_hours: must be a whole number from 1 to 168"),
                "{bad}: {message}"
            );
        }
        assert!(GateSpec::from_json(&with("timeout_hours", json!(168.0)), false).is_ok());
    }

    #[test]
    fn a_gate_accepts_exactly_the_tenants_a_pipeline_accepts() {
        let mut tenants: Vec<String> = (1..=70).map(|n| "t".repeat(n)).collect();
        tenants
            .extend(["a-", "-a", "1a", "a1", "a--b", "A", "ab_c", "my-service"].map(String::from));
        for tenant in tenants {
            let gate = GateSpec::from_json(&with("tenant", json!(tenant)), false);
            let pipeline = crate::pipeline::validate::validate_config(
                &crate::xr::pipeline::PipelineSpec::from_json(&json!({
                    "tenant": tenant, "environments": ["dev", "staging"],
                }))
                .unwrap(),
            );
            assert_eq!(
                gate.is_ok(),
                pipeline.is_ok(),
                "{tenant:?}: {gate:?} vs {pipeline:?}"
            );
            assert_eq!(
                gate.is_ok(),
                names::tenant_error(&tenant).is_none(),
                "{tenant:?}"
            );
        }
    }

    #[test]
    fn required_fields_and_tenant_shape_are_checked() {
        let mut s = spec();
        s.as_object_mut().unwrap().remove("tenant");
        assert_eq!(rule_of(s), "spec.tenant: is required");
        assert!(rule_of(with("tenant", json!("My_Service"))).starts_with("spec.tenant: "));
        assert!(rule_of(with("tenant", json!("a".repeat(35)))).contains("at most 34"));
        assert!(GateSpec::from_json(&with("tenant", json!("a".repeat(34))), false).is_ok());
        assert!(
            rule_of(with("approval_required", json!("yes"))).starts_with("spec.approval_required")
        );
    }

    #[test]
    fn status_round_trips_through_struct_numbers() {
        let status = GateStatus {
            gate_status: Some(GateState::Approved),
            approver: Some("alice".into()),
            approval_timestamp: Some("2026-01-01T01:00:00Z".parse().unwrap()),
            created_timestamp: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            gate_key: Some("0123456789ab".into()),
            issue: Some(IssueRef {
                number: 7,
                url: "https://github.com/a/b/issues/7".into(),
            }),
            timeout_at: Some("2026-01-02T00:00:00Z".parse().unwrap()),
            approvals: vec![Approval {
                login: "alice".into(),
                at: "2026-01-01T01:00:00Z".parse().unwrap(),
                via: Via::Comment,
                rules: Vec::new(),
            }],
            promotion: Some(PromotionStatus {
                job: "my-service-promote-0123456789ab".into(),
                state: PromotionState::Succeeded,
                completed_at: Some("2026-01-01T02:00:00Z".parse().unwrap()),
                started_at: Some("2026-01-01T01:30:00Z".parse().unwrap()),
            }),
            issues: vec![KeyIssue {
                repository: "acme/release-approvals".into(),
                number: 7,
            }],
            change: Some(super::super::change::ChangeStatus {
                repository: "acme/app".into(),
                base: Some("0".repeat(40)),
                head: "1".repeat(40),
                commits: Some(300),
                authors: vec!["alice".into()],
                unreadable: None,
            }),
            reminders: vec!["1h".into(), "4h".into()],
            requester: Some(super::super::account::Account {
                login: "rita".into(),
                id: 527_271_335,
            }),
            escalated_at: Some("2026-01-01T00:30:00Z".parse().unwrap()),
            notifications: Some(super::super::notified::Notified {
                requested: Some("0f".repeat(16)),
                reminded: None,
                decided: Some("a1".repeat(16)),
            }),
        };
        let mut value = status.to_json();
        value["change"]["commits"] = json!(300.0);
        value["issue"]["number"] = json!(7.0);
        value["issues"][0]["number"] = json!(7.0);
        assert_eq!(GateStatus::from_json(&value), status);
    }

    #[test]
    fn status_is_written_with_times_in_seconds_and_absent_fields_left_out() {
        let status = GateStatus {
            gate_status: Some(GateState::Pending),
            created_timestamp: Some("2026-01-01T00:00:00.750Z".parse().unwrap()),
            ..GateStatus::default()
        };
        assert_eq!(
            status.to_json(),
            json!({"gate_status": "pending", "created_timestamp": "2026-01-01T00:00:00Z", "approvals": []})
        );
    }

    #[test]
    fn an_unreadable_status_field_counts_as_not_recorded() {
        let status = GateStatus::from_json(&json!({
            "gate_status": "Approved",
            "approver": "",
            "approval_timestamp": "yesterday",
            "created_timestamp": "2026-01-01T00:00:00Z",
            "gate_key": 12,
            "issue": {"number": 2.5, "url": "u"},
            "timeout_at": null,
            "approvals": [
                {"login": "alice", "at": "2026-01-01T01:00:00Z", "via": "comment"},
                {"login": "bob", "at": "2026-01-01T01:00:00Z", "via": "telepathy"},
                {"login": "carol"},
            ],
            "conditions": [{"type": "Ready"}],
        }));
        assert_eq!(
            status,
            GateStatus {
                created_timestamp: Some("2026-01-01T00:00:00Z".parse().unwrap()),
                approvals: vec![Approval {
                    login: "alice".into(),
                    at: "2026-01-01T01:00:00Z".parse().unwrap(),
                    via: Via::Comment,
                    rules: Vec::new(),
                }],
                ..GateStatus::default()
            }
        );
        assert_eq!(
            GateStatus::from_json(&json!("status")),
            GateStatus::default()
        );
        assert_eq!(
            GateStatus::from_json(&json!({"approvals": "none", "issue": {"number": 0}})),
            GateStatus::default()
        );
    }
}
