//! The promotion Job's part of the Input: what it runs, where, with what environment,
//! resources and security context.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The promotion Job run once a gate is approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromotionInput {
    /// The container image.
    #[schemars(length(min = 1))]
    pub image: String,
    /// The container command.
    #[serde(default)]
    pub command: Vec<String>,
    /// The container arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: Vec<EnvVar>,
    /// Retries before the Job is marked failed.
    #[serde(default = "default_backoff_limit")]
    #[schemars(range(min = 0, max = 10))]
    pub backoff_limit: u32,
    /// The namespace the Job runs in, with the ServiceAccount and credentials it uses: a
    /// platform namespace tenants cannot write, so that creating Pods or reading Secrets
    /// in a tenant's namespace does not carry the ability to promote. Namespaced gates
    /// and pipelines reach it through provider-kubernetes `Object`s. Default: the gate's
    /// own namespace, and the credentials beside the pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub namespace: Option<String>,
    /// The provider-kubernetes ClusterProviderConfig the `Object`s of namespaced XRs use
    /// to reach `namespace`; required with it. A namespaced ProviderConfig is refused: its
    /// credentials would sit in the tenant's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_config_ref: Option<ProviderConfigRef>,
    /// Variables from whole Secrets or ConfigMaps in the Job's namespace. The gate's own
    /// variables and `env` win over them.
    #[serde(default)]
    pub env_from: Vec<EnvFromSource>,
    /// The container's resource requests and limits.
    #[serde(default)]
    pub resources: ResourcesInput,
    /// What the container runs as, over the defaults that pass Pod Security "restricted".
    #[serde(default)]
    pub security_context: SecurityContextInput,
}

/// Variables from a whole Secret or ConfigMap: exactly one of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvFromSource {
    /// A Secret's keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<NameRef>,
    /// A ConfigMap's keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<NameRef>,
    /// Put before each key's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// An object in the Job's namespace, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NameRef {
    /// Its name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// Resource requests and limits, as Kubernetes quantities (`100m`, `128Mi`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourcesInput {
    /// What the container is guaranteed, by resource name (`cpu`, `memory`, ...).
    #[serde(default)]
    pub requests: BTreeMap<String, String>,
    /// What it may use at most.
    #[serde(default)]
    pub limits: BTreeMap<String, String>,
}

/// What the promotion container runs as. Unset fields keep the defaults: non-root, no
/// privilege escalation, every capability dropped, the runtime's default seccomp
/// profile; an image whose user is root needs `runAsUser`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityContextInput {
    /// The user id (not 0: the Job runs as non-root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub run_as_user: Option<i64>,
    /// The primary group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub run_as_group: Option<i64>,
    /// The group that owns mounted volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub fs_group: Option<i64>,
    /// Mount the container's root filesystem read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_root_filesystem: Option<bool>,
}

impl PromotionInput {
    /// The first field that Kubernetes would refuse, with its path.
    pub fn check(&self) -> Result<(), String> {
        for (i, e) in self.env_from.iter().enumerate() {
            if e.secret_ref.is_some() == e.config_map_ref.is_some() {
                return Err(format!(
                    "promotion.envFrom[{i}]: set exactly one of secretRef and configMapRef"
                ));
            }
        }
        for (which, map) in [
            ("requests", &self.resources.requests),
            ("limits", &self.resources.limits),
        ] {
            for (name, quantity) in map {
                if !is_quantity(quantity) {
                    return Err(format!(
                        "promotion.resources.{which}.{name}: {quantity:?} is not a Kubernetes quantity (like 100m, 0.5 or 128Mi)"
                    ));
                }
            }
        }
        if self.namespace.is_some()
            && self
                .provider_config_ref
                .as_ref()
                .is_none_or(|p| p.name.trim().is_empty())
        {
            return Err(
                "promotion.providerConfigRef: the provider-kubernetes ClusterProviderConfig that carries the Job to promotion.namespace is required with it".into(),
            );
        }
        if self.security_context.run_as_user == Some(0) {
            return Err(
                "promotion.securityContext.runAsUser: 0 is root; the promotion Job runs as non-root".into(),
            );
        }
        Ok(())
    }
}

/// A Kubernetes quantity: a decimal number with an optional binary, decimal or
/// exponent suffix.
fn is_quantity(q: &str) -> bool {
    let number_end = q
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(q.len(), |(i, _)| i);
    let (number, suffix) = q.split_at(number_end);
    let number_ok = !number.is_empty()
        && number.matches('.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    let suffix_ok = matches!(
        suffix,
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
    ) || suffix
        .strip_prefix(['e', 'E'])
        .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
    number_ok && suffix_ok
}

/// A provider-kubernetes ClusterProviderConfig.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderConfigRef {
    /// `ClusterProviderConfig` (the only kind accepted).
    #[serde(default)]
    pub kind: ProviderConfigKind,
    /// Its name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// The kind of a provider-kubernetes ProviderConfig.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ProviderConfigKind {
    /// A cluster-wide ProviderConfig, out of tenants' reach.
    #[default]
    ClusterProviderConfig,
}

impl ProviderConfigKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderConfigKind::ClusterProviderConfig => "ClusterProviderConfig",
        }
    }
}

fn default_backoff_limit() -> u32 {
    2
}

/// An environment variable with a literal value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvVar {
    /// The variable's name.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub name: String,
    /// Its value.
    #[serde(default)]
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_as_kubernetes_reads_them() {
        for ok in [
            "1", "100m", "0.5", "128Mi", "1Gi", "2k", "1e3", "1E-2", ".5",
        ] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "Mi", "1.2.3", "12MB", "-1", "1 Gi", "1e", "ten"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
