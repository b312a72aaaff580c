//! Required resources, as both XR kinds ask for them: every XR of a kind in one
//! namespace (the v2 `resources` requirement, and the deprecated `extra_resources` one
//! only for Crossplane releases that do not advertise capabilities: before v2.2, of which
//! only v2.0 and v2.1 read the `resources` one), and the answer, read from whichever
//! carried it. A selector cannot match a spec field, so callers pick from the answer.
//!
//! No I/O: reads the request it is given and writes requirements into the response.

use std::collections::HashMap;

use function_sdk_rust::proto::v1::{
    Capability, MatchLabels, ResourceSelector, RunFunctionRequest, RunFunctionResponse,
    resource_selector,
};
use function_sdk_rust::response::{self, ResourceMatch};

use crate::xr::Composite;

/// Asks Crossplane, under `name`, for every `kind` of `api_version` in `namespace`
/// (`None`: cluster-scoped ones). The same requirement on every call, so Crossplane's
/// requirement loop settles.
pub fn require_all(
    rsp: &mut RunFunctionResponse,
    req: &RunFunctionRequest,
    name: &str,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
) {
    response::require_resources(
        rsp,
        name,
        api_version,
        kind,
        Some(ResourceMatch::Labels(HashMap::new())),
        namespace.map(str::to_owned),
    );
    let advertises = req
        .meta
        .as_ref()
        .is_some_and(|m| m.capabilities.contains(&(Capability::Capabilities as i32)));
    if advertises {
        return;
    }
    rsp.requirements
        .get_or_insert_default()
        .extra_resources
        .insert(
            name.to_owned(),
            ResourceSelector {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
                r#match: Some(resource_selector::Match::MatchLabels(MatchLabels {
                    labels: HashMap::new(),
                })),
                namespace: namespace.map(str::to_owned),
            },
        );
}

/// The XRs Crossplane answered under `name` (from `required_resources`, else
/// `extra_resources`) that are `kind` in `namespace`, whatever else a selector returned;
/// `None` while the requirement is unanswered. Objects that are no XR are left out.
pub fn answered(
    req: &RunFunctionRequest,
    name: &str,
    kind: &str,
    namespace: Option<&str>,
) -> Option<Vec<Composite>> {
    let answer = req
        .required_resources
        .get(name)
        .or_else(|| req.extra_resources.get(name))?;
    Some(
        answer
            .items
            .iter()
            .filter_map(|r| r.resource.as_ref())
            .filter_map(|o| Composite::from_struct(o).ok())
            .filter(|xr| xr.kind == kind && xr.namespace.as_deref() == namespace)
            .collect(),
    )
}
