//! The function Input (`release.fn.zerotouch.dev/v1beta1`, kind `Input`): the typed
//! configuration a platform engineer writes into the Composition's pipeline step, its
//! defaults, and the CRD generated from these types for `package/input/`.
//!
//! Its parts: `duration` (Go-style durations), `crd` (the generated CRD) and
//! `memo` (the Inputs a function has read, kept with their result).
//!
//! Pure: parsing and schema generation only; the memo is the function's own state.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod crd;
mod duration;
mod memo;
mod notifications;
mod promotion;

pub use crd::crd;
pub use duration::{GoDuration, reminders};
pub use memo::InputMemo;
pub use notifications::{NotificationsInput, NotifyOn};
pub use promotion::{
    EnvFromSource, EnvVar, NameRef, PromotionInput, ProviderConfigKind, ProviderConfigRef,
    ResourcesInput, SecurityContextInput,
};

/// The Input's API group.
pub const GROUP: &str = "release.fn.zerotouch.dev";
/// The Input's API version.
pub const VERSION: &str = "v1beta1";
/// The Input's kind.
pub const KIND: &str = "Input";

/// The function's configuration, from the Composition step's `input`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    /// `release.fn.zerotouch.dev/v1beta1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `Input`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Object metadata; ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<BTreeMap<String, Value>>")]
    pub metadata: Option<Value>,
    /// The composite kind this step handles; when absent the observed XR's kind decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xr_kind: Option<XrKind>,
    /// The namespace for namespaced resources composed for cluster-scoped XRs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub namespace: Option<String>,
    /// Where and how approval issues are opened.
    #[serde(default)]
    pub github: GitHubInput,
    /// Default approvers; a pipeline's `spec.approvals.<environment>` overrides them.
    #[serde(default)]
    pub approvals: ApprovalsInput,
    /// The ExternalSecret composed for each pipeline.
    #[serde(default)]
    pub external_secret: ExternalSecretInput,
    /// The ServiceAccount composed for each pipeline.
    #[serde(default)]
    pub service_account: ServiceAccountInput,
    /// The Job run once a gate is approved; no Job without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<PromotionInput>,
    /// Accept artifact tags such as `latest` that may move.
    #[serde(default)]
    pub allow_mutable_tags: bool,
    /// What a gate's artifact must be.
    #[serde(default)]
    pub artifacts: ArtifactsInput,
    /// How the source repository a gate's `spec.change` names is read.
    #[serde(default)]
    pub change: ChangeInput,
    /// Notifications about gates (a signed webhook, Slack); none without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationsInput>,
}

/// How a gate's change is read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeInput {
    /// The pipeline step's credentials that read the source repositories (a token, or a
    /// GitHub App installed on them, as for `github.credentialsName`); default the
    /// approvals repository's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_name: Option<String>,
}

/// What a gate's artifact must be.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArtifactsInput {
    /// Refuse an `artifact_id` without an `@sha256:` digest: a tag can be pushed again
    /// after approval or soak, a digest names the content that was approved.
    #[serde(default)]
    pub require_digest: bool,
}

/// The two composite kinds this function composes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum XrKind {
    /// A tenant's release pipeline.
    XReleasePipeline,
    /// A promotion gate between two environments.
    XPromotionGate,
}

impl XrKind {
    /// The kind's name as it appears in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            XrKind::XReleasePipeline => "XReleasePipeline",
            XrKind::XPromotionGate => "XPromotionGate",
        }
    }

    /// Parses a `kind:` value.
    pub fn from_kind(kind: &str) -> Option<Self> {
        match kind {
            "XReleasePipeline" => Some(XrKind::XReleasePipeline),
            "XPromotionGate" => Some(XrKind::XPromotionGate),
            _ => None,
        }
    }
}

/// GitHub settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitHubInput {
    /// `owner/name` of the repository that holds approval issues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$"))]
    pub repository: Option<String>,
    /// The GitHub REST API root; GitHub Enterprise Server uses `https://HOST/api/v3`.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The name of the pipeline step's `credentials` entry.
    #[serde(default = "default_credentials_name")]
    pub credentials_name: String,
    /// Labels put on new approval issues (issues are found by who opened them and the gate
    /// key they name, never by label: anyone with triage access can remove one).
    #[serde(default = "default_labels")]
    #[schemars(length(min = 1))]
    pub labels: Vec<String>,
    /// How often a pending gate is polled, as a duration such as `30s` or `2m`.
    #[serde(default = "default_poll_interval")]
    pub poll_interval: GoDuration,
    /// How old the replica's shared view of the approvals repository may be when a gate
    /// reads it (default: half of `pollInterval`). Each look costs two conditional
    /// requests per repository, whatever the number of gates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look_interval: Option<GoDuration>,
    /// The most issue writes (opens, comments, closes, reopens, restorations) the function
    /// sends an hour for the gates of one namespace on the approvals repository, in bursts
    /// of at most 60 (at least 2), per replica; 0: no budget. Whatever writers in the
    /// repository provoke on one namespace's requests then leaves the token's write limits
    /// to the others.
    #[serde(default = "default_writes_per_namespace_per_hour")]
    pub writes_per_namespace_per_hour: u32,
    /// Mention the approver teams (`@org/team`) in each request, so that GitHub notifies
    /// their members; users are assigned (up to ten) either way.
    #[serde(default)]
    pub mention_teams: bool,
}

impl GitHubInput {
    /// How old the repository's view may be: [`Self::look_interval`], else half the poll
    /// interval, so that an answer reaches a gate polled every interval within about one
    /// interval (at most one and a half).
    pub fn look_every(&self) -> Duration {
        self.look_interval
            .map_or(self.poll_interval.0 / 2, |GoDuration(d)| d)
    }
}

impl Default for GitHubInput {
    fn default() -> Self {
        Self {
            repository: None,
            api_url: default_api_url(),
            credentials_name: default_credentials_name(),
            labels: default_labels(),
            poll_interval: default_poll_interval(),
            writes_per_namespace_per_hour: default_writes_per_namespace_per_hour(),
            mention_teams: false,
            look_interval: None,
        }
    }
}

fn default_writes_per_namespace_per_hour() -> u32 {
    240
}

fn default_api_url() -> String {
    "https://api.github.com".into()
}
fn default_credentials_name() -> String {
    "github".into()
}
fn default_labels() -> Vec<String> {
    vec!["release-gate".into()]
}
fn default_poll_interval() -> GoDuration {
    GoDuration(Duration::from_secs(30))
}

/// Who may approve, and how many approvals a promotion needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalsInput {
    /// GitHub logins allowed to approve.
    #[serde(default)]
    pub users: Vec<String>,
    /// Teams whose members may approve, as `org/team-slug`.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Distinct authorized approvals needed.
    #[serde(default = "default_min_approvals")]
    #[schemars(range(min = 1, max = 10))]
    pub min_approvals: u32,
    /// Anyone with at least this repository permission may approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_permission: Option<Permission>,
    /// Whether the requester may approve their own promotion.
    #[serde(default)]
    pub allow_self_approval: bool,
    /// Whether a gate without the `release.zerotouch.dev/requested-by` annotation waits
    /// (reason `MissingRequester`, no issue opened) instead of letting any approver,
    /// its unknown requester included, approve it.
    #[serde(default)]
    pub require_requester: bool,
    /// Whether a gate whose namespace has no XReleasePipeline for its tenant waits (reason
    /// `MissingPipeline`, no issue opened) instead of falling back to these defaults,
    /// without progression, soak or freeze windows.
    #[serde(default)]
    pub require_pipeline: bool,
    /// Whether the authors and committers of the change a gate names (`spec.change`) are
    /// kept from approving it, where the pipeline does not say (its
    /// `approvals.<environment>.excludeChangeAuthors`). A gate that requires it and whose
    /// change cannot be read holds (reason `ChangeUnreadable`).
    #[serde(default)]
    pub exclude_change_authors: bool,
    /// Go durations after the approval issue opened at which a pending gate reminds those
    /// who have not answered (one comment each, mentioning them), where the pipeline does
    /// not say: increasing, each at most 168h. Those past a gate's deadline are skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10), inner(pattern(crate::openapi::pattern::GO_DURATION)))]
    pub reminders: Vec<String>,
}

impl Default for ApprovalsInput {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            teams: Vec::new(),
            min_approvals: default_min_approvals(),
            min_permission: None,
            allow_self_approval: false,
            require_requester: false,
            require_pipeline: false,
            exclude_change_authors: false,
            reminders: Vec::new(),
        }
    }
}

fn default_min_approvals() -> u32 {
    1
}

/// A GitHub repository permission, weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Read.
    Read,
    /// Triage.
    Triage,
    /// Write.
    Write,
    /// Maintain.
    Maintain,
    /// Admin.
    Admin,
}

/// The ExternalSecret composed for each pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecretInput {
    /// The ExternalSecret API version.
    #[serde(default = "default_es_api_version")]
    pub api_version: String,
    /// The secret store to read from.
    #[serde(default)]
    pub store_ref: StoreRef,
    /// The remote key of each secret key; `{tenant}` and `{key}` are filled in and
    /// `{tenant}` is required, so no two tenants share a path.
    #[serde(default = "default_key_template")]
    pub key_template: String,
    /// The keys of the composed Secret.
    #[serde(default = "default_keys")]
    pub keys: Vec<String>,
    /// How often External Secrets refreshes the Secret.
    #[serde(default = "default_refresh_interval")]
    pub refresh_interval: GoDuration,
}

impl Default for ExternalSecretInput {
    fn default() -> Self {
        Self {
            api_version: default_es_api_version(),
            store_ref: StoreRef::default(),
            key_template: default_key_template(),
            keys: default_keys(),
            refresh_interval: default_refresh_interval(),
        }
    }
}

fn default_es_api_version() -> String {
    "external-secrets.io/v1".into()
}
fn default_key_template() -> String {
    "/platform/{tenant}/release-pipeline/{key}".into()
}
fn default_keys() -> Vec<String> {
    vec!["github-token".into(), "registry-token".into()]
}
fn default_refresh_interval() -> GoDuration {
    GoDuration(Duration::from_secs(3600))
}

/// A reference to an External Secrets store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoreRef {
    /// `SecretStore` or `ClusterSecretStore`.
    #[serde(default = "default_store_kind")]
    pub kind: StoreKind,
    /// The store's name.
    #[serde(default = "default_store_name")]
    pub name: String,
}

impl Default for StoreRef {
    fn default() -> Self {
        Self {
            kind: default_store_kind(),
            name: default_store_name(),
        }
    }
}

fn default_store_kind() -> StoreKind {
    StoreKind::ClusterSecretStore
}
fn default_store_name() -> String {
    "aws-parameter-store".into()
}

/// The kind of an External Secrets store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StoreKind {
    /// A namespaced store.
    SecretStore,
    /// A cluster-wide store.
    ClusterSecretStore,
}

impl StoreKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretStore => "SecretStore",
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }
}

/// The ServiceAccount composed for each pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountInput {
    /// Annotations; `{tenant}` in a value is filled in.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A function input that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid function input: {0}")]
pub struct InputError(pub String);

/// Only `https` API URLs carry the credentials; plain `http` only to a loopback host
/// (tests, a local fake), where nothing crosses the network.
fn check_api_url(url: &str) -> Result<(), InputError> {
    let refuse = |why: &str| Err(InputError(format!("github.apiUrl: {url:?} {why}")));
    let Ok(uri) = url.parse::<http::Uri>() else {
        return refuse("is not a URL");
    };
    let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
        return refuse("names no host");
    };
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => refuse(
            "must be https: the GitHub credentials would cross the network in clear text (plain http is accepted only for a loopback host)",
        ),
        _ => refuse("must be an https URL"),
    }
}

/// Whether the local render may send `GITHUB_TOKEN` (the user's own token) to `url`:
/// only to GitHub.com's API or to a loopback host, never to a host a Composition someone
/// else wrote names.
pub fn env_token_may_go_to(url: &str) -> bool {
    url.parse::<http::Uri>().is_ok_and(|uri| {
        uri.host().is_some_and(|host| {
            (uri.scheme_str() == Some("https") && host.eq_ignore_ascii_case("api.github.com"))
                || is_loopback(host)
        })
    })
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Input {
    /// Reads the Input from the step's `input` JSON; an absent input means all defaults.
    /// Unknown fields and bad values are errors naming the field path.
    pub fn from_json(value: Option<&Value>) -> Result<Self, InputError> {
        let Some(value) = value else {
            return Ok(Input::default());
        };
        let input: Input = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            if path == "." || path.is_empty() {
                InputError(inner)
            } else {
                InputError(format!("{path}: {inner}"))
            }
        })?;
        input.check()?;
        Ok(input)
    }

    /// Rules the types alone cannot express.
    fn check(&self) -> Result<(), InputError> {
        let expected_api_version = format!("{GROUP}/{VERSION}");
        if let Some(v) = &self.api_version
            && *v != expected_api_version
        {
            return Err(InputError(format!(
                "apiVersion: unsupported {v:?}, expected {expected_api_version:?}"
            )));
        }
        if let Some(k) = &self.kind
            && k != KIND
        {
            return Err(InputError(format!(
                "kind: unsupported {k:?}, expected {KIND:?}"
            )));
        }
        if let Some(repo) = &self.github.repository {
            let mut parts = repo.split('/');
            let ok = matches!((parts.next(), parts.next(), parts.next()), (Some(o), Some(n), None) if !o.is_empty() && !n.is_empty());
            if !ok {
                return Err(InputError(format!(
                    "github.repository: {repo:?} must be owner/name"
                )));
            }
        }
        check_api_url(&self.github.api_url)?;
        if self.github.labels.is_empty() || self.github.labels.iter().any(|l| l.trim().is_empty()) {
            return Err(InputError(
                "github.labels: at least one non-empty label is required (approval issues carry them)".into(),
            ));
        }
        if let Err((i, why)) = reminders(&self.approvals.reminders) {
            return Err(InputError(format!("approvals.reminders[{i}]: {why}")));
        }
        if !(1..=10).contains(&self.approvals.min_approvals) {
            return Err(InputError(format!(
                "approvals.minApprovals: {} must be between 1 and 10",
                self.approvals.min_approvals
            )));
        }
        for (i, team) in self.approvals.teams.iter().enumerate() {
            if team.split('/').filter(|p| !p.is_empty()).count() != 2
                || team.matches('/').count() != 1
            {
                return Err(InputError(format!(
                    "approvals.teams[{i}]: {team:?} must be org/team-slug"
                )));
            }
        }
        if !self.external_secret.key_template.contains("{tenant}") {
            return Err(InputError(format!(
                "externalSecret.keyTemplate: {:?} must contain {{tenant}} so tenants never share a path",
                self.external_secret.key_template
            )));
        }
        if let Some(p) = &self.promotion
            && p.image.trim().is_empty()
        {
            return Err(InputError("promotion.image: must not be empty".into()));
        }
        if let Some(p) = &self.promotion {
            if let Some(ns) = &p.namespace
                && !crate::names::is_dns_label(ns)
            {
                return Err(InputError(format!(
                    "promotion.namespace: {ns:?} must be a DNS label (lowercase letters, digits and '-', at most 63)"
                )));
            }
            p.check().map_err(InputError)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_input_is_all_defaults() {
        let input = Input::from_json(None).unwrap();
        assert_eq!(input.github.credentials_name, "github");
        assert_eq!(input.github.poll_interval.0, Duration::from_secs(30));
        assert_eq!(input.approvals.min_approvals, 1);
    }

    #[test]
    fn api_url_must_be_https_except_to_a_loopback_host() {
        let with = |url: &str| Input::from_json(Some(&json!({"github": {"apiUrl": url}})));
        for ok in [
            "https://api.github.com",
            "https://ghe.example.com/api/v3",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:9000/api/v3",
            "http://[::1]:8080",
        ] {
            assert!(with(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.github.com",
            "http://10.0.0.1",
            "http://localhost.attacker.example",
            "ftp://api.github.com",
            "api.github.com",
            "https://",
        ] {
            let err = with(bad).unwrap_err().to_string();
            assert!(err.contains("github.apiUrl"), "{bad}: {err}");
        }
        let err = with("http://collector.example").unwrap_err().to_string();
        assert!(err.contains("must be https"), "{err}");
    }

    #[test]
    fn the_environment_token_goes_only_to_github_com_or_loopback() {
        assert!(env_token_may_go_to("https://api.github.com"));
        assert!(env_token_may_go_to("http://127.0.0.1:8080"));
        assert!(env_token_may_go_to("http://localhost:9000/api/v3"));
        assert!(!env_token_may_go_to("https://collector.example"));
        assert!(!env_token_may_go_to("https://api.github.com.example"));
        assert!(!env_token_may_go_to("https://ghe.example.com/api/v3"));
    }

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let err = Input::from_json(Some(&json!({"github": {"repo": "a/b"}}))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid function input: github.repo: unknown field `repo`"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_is_named_with_its_path() {
        let err =
            Input::from_json(Some(&json!({"approvals": {"minApprovals": "two"}}))).unwrap_err();
        assert!(err.to_string().contains("approvals.minApprovals"), "{err}");
    }

    #[test]
    fn bad_duration_is_named() {
        let err = Input::from_json(Some(&json!({"github": {"pollInterval": "soon"}}))).unwrap_err();
        assert!(
            err.to_string()
                .contains("github.pollInterval: invalid duration \"soon\""),
            "{err}"
        );
    }

    #[test]
    fn key_template_must_be_per_tenant() {
        let err = Input::from_json(Some(
            &json!({"externalSecret": {"keyTemplate": "/common/{key}"}}),
        ))
        .unwrap_err();
        assert!(
            err.to_string().contains("externalSecret.keyTemplate"),
            "{err}"
        );
    }

    #[test]
    fn full_example_input_parses() {
        let input = Input::from_json(Some(&json!({
            "apiVersion": "release.fn.zerotouch.dev/v1beta1",
            "kind": "Input",
            "xrKind": "XPromotionGate",
            "namespace": "platform-system",
            "github": {"repository": "acme/release-approvals", "apiUrl": "https://api.github.com",
                       "credentialsName": "github", "labels": ["release-gate"], "pollInterval": "30s"},
            "approvals": {"users": ["alice", "bob"], "teams": ["acme/release-managers"],
                          "minApprovals": 1, "minPermission": "maintain", "allowSelfApproval": false},
            "externalSecret": {"apiVersion": "external-secrets.io/v1",
                               "storeRef": {"kind": "ClusterSecretStore", "name": "aws-parameter-store"},
                               "keyTemplate": "/platform/{tenant}/release-pipeline/{key}",
                               "keys": ["github-token", "registry-token"], "refreshInterval": "1h"},
            "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/{tenant}-release"}},
            "promotion": {"image": "ghcr.io/acme/promoter:v1", "command": ["promote"], "args": [],
                          "env": [{"name": "GITOPS_REPO", "value": "acme/gitops"}], "backoffLimit": 2},
            "allowMutableTags": false,
        })))
        .unwrap();
        assert_eq!(input.xr_kind, Some(XrKind::XPromotionGate));
        assert_eq!(input.approvals.min_permission, Some(Permission::Maintain));
        assert_eq!(input.promotion.unwrap().backoff_limit, 2);
    }
}
