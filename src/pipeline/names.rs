//! The stable names of an XReleasePipeline's composed objects, all derived from the
//! tenant, and the tenant length that keeps every one of them a valid name.
//!
//! Pure: string building only.

use sha2::{Digest, Sha256};

/// The longest suffix appended to a tenant; it bounds the tenant's length.
pub const LONGEST_SUFFIX: &str = "-release-pipeline-credentials";

/// The longest name every composed object (and label value) may have: a DNS label.
pub const MAX_NAME_LEN: usize = 63;

/// The longest tenant for which every derived name stays within [`MAX_NAME_LEN`].
pub const MAX_TENANT_LEN: usize = MAX_NAME_LEN - LONGEST_SUFFIX.len();

/// The pipeline ConfigMap, which gates look up: `<tenant>-release-pipeline-config`.
pub fn config_map(tenant: &str) -> String {
    crate::policy::pipeline_config_name(tenant)
}

/// The ExternalSecret and the Secret it creates: `<tenant>-release-pipeline-credentials`.
pub fn credentials(tenant: &str) -> String {
    format!("{tenant}{LONGEST_SUFFIX}")
}

/// The ServiceAccount pipeline scripts and promotion Jobs run as:
/// `<tenant>-release-pipeline`.
pub fn service_account(tenant: &str) -> String {
    format!("{tenant}-release-pipeline")
}

/// The Role, RoleBinding, ClusterRole and ClusterRoleBinding: `<tenant>-release-pipeline`.
pub fn rbac(tenant: &str) -> String {
    service_account(tenant)
}

/// Every name derived from `tenant`.
pub fn all(tenant: &str) -> [String; 4] {
    [
        config_map(tenant),
        credentials(tenant),
        service_account(tenant),
        rbac(tenant),
    ]
}

/// A stable id for one pipeline: `<tenant>-<8 hex>` of namespace, name and tenant, so
/// two XRs naming the same tenant still get different ids.
pub fn pipeline_id(namespace: Option<&str>, name: &str, tenant: &str) -> String {
    let digest = Sha256::digest(format!("{}/{name}/{tenant}", namespace.unwrap_or_default()));
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{tenant}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credentials_name_is_the_longest_derived_name() {
        let tenant = "t".repeat(MAX_TENANT_LEN);
        let longest = all(&tenant).into_iter().map(|n| n.len()).max().unwrap();
        assert_eq!(longest, credentials(&tenant).len());
        assert_eq!(longest, MAX_NAME_LEN);
        assert_eq!(MAX_TENANT_LEN, 34);
    }

    #[test]
    fn pipeline_id_depends_on_namespace_name_and_tenant() {
        let id = pipeline_id(Some("team-a"), "p", "svc");
        assert!(
            id.starts_with("svc-") && id.len() == "svc-".len() + 8,
            "{id}"
        );
        assert_eq!(id, pipeline_id(Some("team-a"), "p", "svc"));
        assert_ne!(id, pipeline_id(Some("team-b"), "p", "svc"));
        assert_ne!(id, pipeline_id(Some("team-a"), "q", "svc"));
        assert_ne!(id, pipeline_id(None, "p", "svc"));
    }
}
