//! One home for what the function names: the tenant rule and its length limit, the
//! DNS-label rule, labels and annotations, the composition resource names Crossplane
//! matches observed objects by, the requirements a call asks Crossplane for, condition
//! types and every reason, and the names of composed objects (mostly derived from the
//! tenant). A gate's tenant obeys the same rule as a pipeline's, so a gate can only name
//! a pipeline that can exist.
//!
//! Pure: string building only.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// Label naming the tenant, on every composed resource.
pub const TENANT_LABEL: &str = "release.zerotouch.dev/tenant";
/// Label naming the component (`pipeline-config`, `credentials`, `gate`, ...).
pub const COMPONENT_LABEL: &str = "release.zerotouch.dev/component";
/// Label carrying the gate key's short prefix on the promotion Job (label values stop at
/// 63 characters); for selecting, never for recognising the gate.
pub const GATE_KEY_LABEL: &str = "release.zerotouch.dev/gate-key";
/// Annotation carrying the full gate key on the promotion Job.
pub const GATE_KEY_ANNOTATION: &str = "release.zerotouch.dev/gate-key";
/// Annotation naming the GitHub login that requested the promotion.
pub const REQUESTED_BY_ANNOTATION: &str = "release.zerotouch.dev/requested-by";

/// The component label values.
pub mod component {
    /// The pipeline ConfigMap.
    pub const PIPELINE_CONFIG: &str = "pipeline-config";
    /// The pipeline's ExternalSecret.
    pub const CREDENTIALS: &str = "credentials";
    /// The pipeline's ServiceAccount.
    pub const SERVICE_ACCOUNT: &str = "service-account";
    /// The pipeline's RBAC.
    pub const RBAC: &str = "rbac";
    /// The gate ConfigMap.
    pub const GATE: &str = "gate";
    /// The promotion Job.
    pub const PROMOTION: &str = "promotion";
}

/// Composition resource names, stable across calls (Crossplane matches observed
/// resources by them).
pub mod resource {
    /// The pipeline ConfigMap.
    pub const CONFIG_MAP: &str = "pipeline-config";
    /// The ExternalSecret.
    pub const CREDENTIALS: &str = "credentials";
    /// The ServiceAccount.
    pub const SERVICE_ACCOUNT: &str = "service-account";
    /// The Role.
    pub const ROLE: &str = "role";
    /// The RoleBinding.
    pub const ROLE_BINDING: &str = "role-binding";
    /// The ClusterRole (cluster-scoped XRs only).
    pub const CLUSTER_ROLE: &str = "cluster-role";
    /// The ClusterRoleBinding (cluster-scoped XRs only).
    pub const CLUSTER_ROLE_BINDING: &str = "cluster-role-binding";
    /// The gate ConfigMap.
    pub const GATE_CONFIG: &str = "gate-config";
    /// The promotion Job (or the provider-kubernetes `Object` that carries it).
    pub const PROMOTION_JOB: &str = "promotion-job";
    /// The ServiceAccount promotion Jobs run as in `promotion.namespace`.
    pub const PROMOTION_SERVICE_ACCOUNT: &str = "promotion-service-account";
    /// The ExternalSecret of the credentials in `promotion.namespace`.
    pub const PROMOTION_CREDENTIALS: &str = "promotion-credentials";
}

/// What a call asks Crossplane for (required resources), by requirement name and kind.
pub mod requirement {
    /// A gate asks for its tenant's XReleasePipeline under this name.
    pub const PIPELINE: &str = "release-pipeline";
    /// The pipeline's kind; its apiVersion is the gate's.
    pub const PIPELINE_KIND: &str = "XReleasePipeline";
    /// A pipeline asks for its tenant's XPromotionGates under this name.
    pub const GATES: &str = "promotion-gates";
    /// The gates' kind; their apiVersion is the pipeline's.
    pub const GATE_KIND: &str = "XPromotionGate";
}

/// Condition types.
pub mod condition {
    /// A gate's verdict.
    pub const APPROVED: &str = "Approved";
    /// Whether a gate could read GitHub.
    pub const APPROVAL_SYNCED: &str = "ApprovalSynced";
    /// A pipeline's validity and readiness.
    pub const PIPELINE_READY: &str = "PipelineReady";
}

/// The longest suffix appended to a tenant; it bounds the tenant's length.
pub const LONGEST_SUFFIX: &str = "-release-pipeline-credentials";

/// The longest name every composed object (and label value) may have: a DNS label.
pub const MAX_NAME_LEN: usize = 63;

/// The longest tenant for which every derived name stays within [`MAX_NAME_LEN`].
pub const MAX_TENANT_LEN: usize = MAX_NAME_LEN - LONGEST_SUFFIX.len();

/// The pipeline ConfigMap, for scripts: `<tenant>-release-pipeline-config`.
pub fn config_map(tenant: &str) -> String {
    format!("{tenant}-release-pipeline-config")
}

/// The gate ConfigMap, for scripts: `<xr name>-gate`.
pub fn gate_config_map(name: &str) -> String {
    format!("{name}-gate")
}

/// The promotion Job: `<tenant>-promote-<short key>`, the tenant shortened to stay a DNS
/// label.
pub fn job_name(tenant: &str, short_key: &str) -> String {
    let room = MAX_NAME_LEN - "-promote-".len() - short_key.len();
    let prefix: String = tenant.chars().take(room).collect();
    format!("{}-promote-{short_key}", prefix.trim_end_matches('-'))
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

/// The ServiceAccount, and the Secret of credentials, of the promotion Jobs of `tenant`'s
/// gates in `namespace` when they run in the shared `promotion.namespace`:
/// `<tenant>-<8 hex>-promotion`, the hex from the namespace and tenant, so a gate in
/// another namespace naming the same tenant never runs as this tenant's account.
pub fn promotion_account(namespace: &str, tenant: &str) -> String {
    let digest = Sha256::digest(format!("{namespace}/{tenant}").as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{tenant}-{hex}-promotion")
}

/// Where a promotion Job in `promotion.namespace` finds its credentials, one file per key.
pub const PROMOTION_CREDENTIALS_PATH: &str = "/var/run/secrets/release.zerotouch.dev/credentials";

/// The Role, RoleBinding, ClusterRole and ClusterRoleBinding: `<tenant>-release-pipeline`.
pub fn rbac(tenant: &str) -> String {
    service_account(tenant)
}

/// `^[a-z][a-z0-9-]*[a-z0-9]$`, as the XRDs state it (length aside).
pub fn is_tenant(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() >= 2
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Why `tenant` cannot be a tenant, if it cannot: the pattern, then the length that
/// keeps `<tenant>-release-pipeline-credentials` a DNS label.
pub fn tenant_error(tenant: &str) -> Option<String> {
    if !is_tenant(tenant) {
        Some(format!(
            "{tenant:?} must be a DNS label matching ^[a-z][a-z0-9-]*[a-z0-9]$ (lower-case letters, digits and '-', starting with a letter)"
        ))
    } else if tenant.len() > MAX_TENANT_LEN {
        Some(format!(
            "{tenant:?} is {} characters; at most {MAX_TENANT_LEN} are allowed so that \"<tenant>{LONGEST_SUFFIX}\" stays within {MAX_NAME_LEN} characters",
            tenant.len(),
        ))
    } else {
        None
    }
}

/// An RFC 1123 label: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters.
pub fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Why `environment` cannot name an environment, if it cannot.
pub fn environment_error(environment: &str) -> Option<String> {
    (!is_dns_label(environment)).then(|| {
        format!(
            "{environment:?} must be a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most {MAX_NAME_LEN} characters)"
        )
    })
}

/// The labels every composed object carries: its tenant and its component.
pub fn labels(tenant: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TENANT_LABEL.to_owned(), tenant.to_owned()),
        (COMPONENT_LABEL.to_owned(), component.to_owned()),
    ])
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

/// Every reason this function gives a condition or a result, PascalCase as Kubernetes
/// writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// `Approved` Unknown: waiting for answers.
    Pending,
    /// `Approved` True.
    Approved,
    /// `Approved` False: an approver rejected.
    Rejected,
    /// `Approved` False: no verdict before the deadline.
    TimedOut,
    /// `Approved` False: the artifact has not reached the source environment.
    WaitingForSource,
    /// `Approved` False: the artifact soaks in the source environment.
    Soaking,
    /// `Approved` False: a freeze window is open for the target environment.
    Frozen,
    /// `Approved` False: the gate names no requester, which the Input requires.
    MissingRequester,
    /// `Approved` False: the Input requires the tenant's pipeline, and the gate's
    /// namespace has none.
    MissingPipeline,
    /// `Approved` False: the change's authors may not approve, and the change cannot be
    /// read whole.
    ChangeUnreadable,
    /// `Approved` Unknown, and a Warning once: the policy the request was asked under
    /// changed, and the gate asks again.
    PolicyChanged,
    /// `ApprovalSynced` True: the approval issue was read.
    Synced,
    /// `ApprovalSynced` True: the gate is decided for its key.
    Decided,
    /// `ApprovalSynced` True: approved by policy.
    NotRequired,
    /// `ApprovalSynced` False: the Input names no approvals repository.
    MissingRepository,
    /// `ApprovalSynced` False: the function's GitHub login changed.
    IdentityChanged,
    /// Warning: the gate follows another approval issue than the one recorded.
    IssueReplaced,
    /// Warning: someone changed what the gate reads on GitHub.
    Tampered,
    /// Warning: an approver let the promotion through a freeze window.
    FreezeOverridden,
    /// Warning: the status records a verdict that GitHub does not back.
    UnbackedStatus,
    /// Warning: a notification could not be delivered, or has nowhere to go.
    NotificationFailed,
    /// Warning: the `requested-by` annotation changed after the request sealed its
    /// requester; the change is ignored.
    RequesterChanged,
}

impl Reason {
    /// As Kubernetes shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Pending => "Pending",
            Reason::Approved => "Approved",
            Reason::Rejected => "Rejected",
            Reason::TimedOut => "TimedOut",
            Reason::WaitingForSource => "WaitingForSource",
            Reason::Soaking => "Soaking",
            Reason::Frozen => "Frozen",
            Reason::MissingRequester => "MissingRequester",
            Reason::MissingPipeline => "MissingPipeline",
            Reason::ChangeUnreadable => "ChangeUnreadable",
            Reason::PolicyChanged => "PolicyChanged",
            Reason::Synced => "Synced",
            Reason::Decided => "Decided",
            Reason::NotRequired => "NotRequired",
            Reason::MissingRepository => "MissingRepository",
            Reason::IdentityChanged => "IdentityChanged",
            Reason::IssueReplaced => "IssueReplaced",
            Reason::Tampered => "Tampered",
            Reason::FreezeOverridden => "FreezeOverridden",
            Reason::UnbackedStatus => "UnbackedStatus",
            Reason::NotificationFailed => "NotificationFailed",
            Reason::RequesterChanged => "RequesterChanged",
        }
    }
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
    fn the_promotion_account_is_a_dns_label_of_one_namespace_and_tenant() {
        let tenant = "t".repeat(MAX_TENANT_LEN);
        let name = promotion_account("team-a", &tenant);
        assert!(is_dns_label(&name), "{name}");
        assert_ne!(
            promotion_account("team-a", "web"),
            promotion_account("team-b", "web")
        );
        assert_ne!(
            promotion_account("team-a", "web"),
            promotion_account("team-a", "api")
        );
        assert_eq!(
            promotion_account("team-a", "web"),
            promotion_account("team-a", "web")
        );
    }

    #[test]
    fn job_name_stays_a_dns_label_for_the_longest_tenant() {
        let name = job_name(&"a".repeat(MAX_TENANT_LEN), "0123456789ab");
        assert!(name.len() <= MAX_NAME_LEN, "{name}");
        assert!(name.ends_with("-promote-0123456789ab"));
        let name = job_name(
            &format!("{}-b", "a".repeat(MAX_TENANT_LEN - 2)),
            "0123456789ab",
        );
        assert!(is_dns_label(&name) && !name.contains("--"), "{name}");
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
