//! The CompositeResourceDefinitions of XReleasePipeline and XPromotionGate, generated
//! from the Rust types: the pipeline's spec and both statuses are the types the function
//! reads and writes; the gate's spec, which `GateSpec::from_json` reads by hand for its
//! messages, is described by [`GateSpecFields`] with the same bounds. The CEL rules are
//! written beside the fields they check. Checked in at `examples/*/xrd.yaml`.

use schemars::JsonSchema;
use serde_json::{Value, json};

use super::change::{REPOSITORY, REVISION};
use super::gate::{GateStatus, TIMEOUT_HOURS};
use super::pipeline::{PipelineSpec, PipelineStatus};
use crate::names::{MAX_NAME_LEN, MAX_TENANT_LEN};
use crate::openapi::{pattern, structural_schema};

/// The XRDs' API group.
pub const GROUP: &str = "platform.zerotouch.dev";
/// The XRDs' version.
pub const VERSION: &str = "v1alpha1";

/// An OCI reference with a registry, a path, and a tag and/or a sha256 digest.
const ARTIFACT: &str = "^[A-Za-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$";

/// `spec` of an XPromotionGate, as the XRD declares it.
#[derive(JsonSchema)]
#[allow(dead_code)]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "self.source_environment != self.target_environment",
    "message": "target_environment must differ from source_environment"
}]))]
struct GateSpecFields {
    /// The tenant whose release pipeline this gate belongs to.
    #[schemars(length(min = 2, max = MAX_TENANT_LEN), pattern(pattern::TENANT))]
    tenant: String,
    /// The OCI reference promoted: registry (with optional port), path, and a tag and/or
    /// an @sha256 digest, e.g. ghcr.io/org/app:main-abc123.
    #[schemars(
        length(max = 512),
        pattern(ARTIFACT),
        extend("x-kubernetes-validations" = [{
            "rule": "self.contains('@sha256:') || self.split('/')[size(self.split('/')) - 1].contains(':')",
            "message": "artifact_id must end with a tag or an @sha256 digest"
        }])
    )]
    artifact_id: String,
    /// The environment the artifact comes from.
    #[schemars(length(max = MAX_NAME_LEN), pattern(pattern::TENANT))]
    source_environment: String,
    /// The environment it goes to; the next one in the tenant's pipeline.
    #[schemars(length(max = MAX_NAME_LEN), pattern(pattern::TENANT))]
    target_environment: String,
    /// Ask for approval (default true). False skips approval only when the pipeline's
    /// rule for the pair is automatic: the strictest wins.
    approval_required: Option<bool>,
    /// Hours to wait for a verdict before the gate times out (default 24).
    #[schemars(range(min = *TIMEOUT_HOURS.start(), max = *TIMEOUT_HOURS.end()))]
    timeout_hours: Option<u32>,
    /// The source revision the artifact was built from. The approval issue lists the
    /// commits this promotion brings into the target environment, and the pipeline may
    /// keep their authors from approving it. Another revision is another request.
    change: Option<ChangeFields>,
}

/// `spec.change` of an XPromotionGate.
#[derive(JsonSchema)]
#[allow(dead_code)]
#[schemars(extend("required" = ["repository", "revision"]))]
struct ChangeFields {
    /// The source repository on the approvals repository's GitHub, owner/name.
    #[schemars(length(max = 140), pattern(REPOSITORY))]
    repository: String,
    /// The commit the artifact was built from: a full sha, 40 hex characters.
    #[schemars(length(min = 40, max = 40), pattern(REVISION))]
    revision: String,
}

/// A printer column.
fn column(name: &str, path: &str) -> Value {
    json!({"name": name, "type": "string", "jsonPath": path})
}

/// An XRD of a namespaced XR whose every instance uses the Composition of the XRD's name.
fn xrd(
    kind: &str,
    plural: &str,
    description: &str,
    columns: Vec<Value>,
    mut spec: Value,
    mut status: Value,
) -> Value {
    let name = format!("{plural}.{GROUP}");
    // The types' own documentation speaks of the code; the fields' speaks of the API.
    spec.as_object_mut().unwrap().remove("description");
    // Crossplane writes conditions into status whether or not the function wrote its
    // fields (an invalid spec, a fault): nothing at the top of status may be required.
    status.as_object_mut().unwrap().remove("required");
    status["description"] = json!(
        "Written by function-release-pipeline through Crossplane (deploy/status-guard.yaml lets no one else write it); the function treats it as a cache of what GitHub records."
    );
    json!({
        "apiVersion": "apiextensions.crossplane.io/v2",
        "kind": "CompositeResourceDefinition",
        "metadata": {"name": name},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            // A tenant cannot pick another Composition (with a weaker Input), whatever
            // its spec says.
            "enforcedCompositionRef": {"name": name},
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.to_lowercase(),
                "categories": ["release"],
            },
            "versions": [{
                "name": VERSION,
                "served": true,
                "referenceable": true,
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": description,
                    "properties": {"spec": spec, "status": status},
                }},
            }],
        },
    })
}

/// The XReleasePipeline XRD.
pub fn pipeline() -> Value {
    xrd(
        "XReleasePipeline",
        "xreleasepipelines",
        "A tenant's release pipeline.",
        vec![
            column("TENANT", ".spec.tenant"),
            column("CURRENT", ".status.current_environment"),
            column("ARTIFACT", ".status.artifact_id"),
            column("PIPELINE-ID", ".status.pipeline_id"),
        ],
        structural_schema::<PipelineSpec>(),
        structural_schema::<PipelineStatus>(),
    )
}

/// The XPromotionGate XRD.
pub fn gate() -> Value {
    xrd(
        "XPromotionGate",
        "xpromotiongates",
        "A request to promote one artifact from one environment to the next, approved through a GitHub issue. Annotate it with release.zerotouch.dev/requested-by (a GitHub login) so the requester cannot approve their own promotion.",
        vec![
            column("TENANT", ".spec.tenant"),
            column("FROM", ".spec.source_environment"),
            column("TO", ".spec.target_environment"),
            column("STATE", ".status.gate_status"),
            column("ISSUE", ".status.issue.url"),
        ],
        structural_schema::<GateSpecFields>(),
        structural_schema::<GateStatus>(),
    )
}

/// The comment at the head of a checked-in XRD.
pub fn header(kind: &str) -> String {
    format!(
        "# Crossplane: >=v2.0.0 (an apiextensions.crossplane.io/v2 XRD with namespaced XRs).\n\
         # The {kind} API, generated from the function's Rust types (src/xr/); do not edit.\n\
         # Regenerate with UPDATE_XRDS=1 cargo test --test project xrd. Its schema and CEL\n\
         # rules reject at admission what function-release-pipeline also checks.\n"
    )
}
