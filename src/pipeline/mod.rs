//! XReleasePipeline, composed as a pipeline of steps: read the spec ([`PipelineSpec`]),
//! [`validate`](mod@validate) it into a [`Pipeline`], build each object ([`render`]), write them into
//! the desired state with their readiness, then write the XR's status and condition.
//!
//! Only this file touches the response; validation and builders are pure. No I/O.

mod approvals;
pub mod progress;
pub mod render;
pub mod validate;
mod violations;

use function_sdk_rust::proto::v1::{Ready, RunFunctionResponse};
use function_sdk_rust::{request, resource, response};
use pbjson_types::Struct;
use serde::Serialize;

use crate::call::{Call, Fatal};
use crate::carrier::{self, Carrier};
use crate::names::{condition, requirement};
use crate::required;
use crate::xr::pipeline::{PipelineSpec, PipelineStatus, Whereabouts};

pub use validate::{Pipeline, Scope, Violation, Violations, validate};

/// When a composed object counts as ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    /// As soon as Crossplane observes it.
    Observed,
    /// When it is observed with a `Ready` condition of `True` (ExternalSecret).
    ReadyCondition,
}

/// One object to compose.
struct Composed {
    name: &'static str,
    kind: &'static str,
    object: Result<Struct, crate::pb::Error>,
    readiness: Readiness,
}

impl Composed {
    fn new<T: Serialize>(
        name: &'static str,
        kind: &'static str,
        object: &T,
        readiness: Readiness,
    ) -> Self {
        Composed {
            name,
            kind,
            object: crate::pb::to_struct(object),
            readiness,
        }
    }

    /// An object for another namespace, as `carrier` writes it.
    fn carried<T: Serialize>(
        name: &'static str,
        kind: &'static str,
        object: &T,
        carrier: Carrier<'_>,
        readiness: Readiness,
    ) -> Self {
        let object = serde_json::to_value(object)
            .map_err(<crate::pb::Error as serde::ser::Error>::custom)
            .and_then(|v| crate::pb::to_struct(&carrier.carry(v)));
        Composed {
            name,
            kind,
            object,
            readiness,
        }
    }
}

/// Composes an XReleasePipeline: a Fatal result naming every broken rule, or the
/// pipeline's ConfigMap, ExternalSecret, ServiceAccount and RBAC with readiness, plus
/// `status.pipeline_id` and the `PipelineReady` condition.
pub fn compose(call: &Call<'_>, rsp: &mut RunFunctionResponse) -> Result<(), Fatal> {
    let checked = PipelineSpec::from_json(&call.composite.spec)
        .map_err(|e| e.to_string())
        .and_then(|spec| validate(&spec, call.composite, call.input).map_err(|v| v.to_string()));
    // Freeze windows that never open, or never close, from now on.
    let checked = checked.and_then(|p| {
        let refused = crate::freeze::refused_at(&p.config, call.now);
        match refused.is_empty() {
            true => Ok(p),
            false => Err(refused
                .into_iter()
                .map(|(path, message)| format!("{path}: {message}"))
                .collect::<Vec<_>>()
                .join("; ")),
        }
    });
    let pipeline = match checked {
        Ok(p) => p,
        Err(message) => {
            response::condition_false(rsp, condition::PIPELINE_READY, "InvalidSpec").message =
                Some(message.clone());
            return Err(Fatal::invalid_spec(message));
        }
    };

    // Where each artifact is, from the tenant's gates (once Crossplane answers): those of
    // the pipeline's own scope, the gates whose pipeline lookup finds this pipeline (a
    // namespaced gate looks in its namespace, a cluster-scoped one among cluster-scoped
    // pipelines), so a gate never counts here that another policy, or none, decided.
    let scope = call.composite.namespace.as_deref();
    required::require_all(
        rsp,
        call.request,
        requirement::GATES,
        &call.composite.api_version,
        requirement::GATE_KIND,
        scope,
    );
    let gates = required::answered(
        call.request,
        requirement::GATES,
        requirement::GATE_KIND,
        scope,
    );
    let (whereabouts, in_flight) = match gates {
        Some(gates) => {
            let records =
                progress::records(&gates, &pipeline.config.tenant, Some(&pipeline.namespace));
            let (w, in_flight) = progress::whereabouts(&pipeline.config.environments, &records);
            (Some(w), in_flight)
        }
        None => (None, false),
    };

    let mut unready = Vec::new();
    for composed in objects(&pipeline, whereabouts.as_ref(), call) {
        let object = composed
            .object
            .map_err(|e| Fatal::internal(format!("cannot serialize the {}: {e}", composed.kind)))?;
        let observed = request::observed_composed(call.request, composed.name);
        // An object carried by a provider-kubernetes `Object` is seen through it.
        let live = observed
            .and_then(|r| r.resource.as_ref())
            .and_then(carrier::seen_through)
            .and_then(|c| c.live);
        let ready = match composed.readiness {
            Readiness::Observed => observed.is_some(),
            Readiness::ReadyCondition => {
                let condition = live.and_then(|l| carrier::condition(l, "Ready"));
                let field = |name: &str| {
                    condition
                        .and_then(|c| c.fields.get(name))
                        .and_then(crate::pb::as_str)
                };
                let status = field("status").unwrap_or("Unknown");
                if observed.is_some() && status != "True" {
                    unready.push(format!(
                        "{} ({} Ready is {status}{})",
                        composed.name,
                        composed.kind,
                        field("reason")
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ));
                }
                status == "True"
            }
        };
        if !ready && observed.is_none() {
            unready.push(format!("{} (not yet observed)", composed.name));
        }
        let target = response::desired_composed(rsp, composed.name);
        crate::desired::update_from(target, object);
        resource::set_ready(target, if ready { Ready::True } else { Ready::False });
    }

    write_status(
        rsp,
        &PipelineStatus {
            pipeline_id: pipeline.pipeline_id.clone(),
            whereabouts,
        },
    )?;
    // A gate pending or promoting: follow it within one poll interval.
    if in_flight && let Some(meta) = rsp.meta.as_mut() {
        let poll = call.input.github.poll_interval.0;
        meta.ttl = Some(pbjson_types::Duration {
            seconds: i64::try_from(poll.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(poll.subsec_nanos()).unwrap_or(0),
        });
    }
    if unready.is_empty() {
        response::condition_true(rsp, condition::PIPELINE_READY, "Available");
    } else {
        response::condition_false(rsp, condition::PIPELINE_READY, "Creating").message =
            Some(format!("waiting for {}", unready.join(", ")));
    }
    Ok(())
}

/// Every object of the pipeline, in a fixed order.
fn objects(p: &Pipeline, whereabouts: Option<&Whereabouts>, call: &Call<'_>) -> Vec<Composed> {
    use crate::names::resource::*;
    // With a promotion namespace, the credentials live there only, beside the account
    // promotion Jobs run as: nothing in the tenant's namespace can promote.
    let promotion = call.input.promotion.as_ref();
    let promotion_namespace = promotion.and_then(|p| p.namespace.as_deref());
    let mut out = vec![Composed::new(
        CONFIG_MAP,
        "ConfigMap",
        &render::render_config_map(p, whereabouts),
        Readiness::Observed,
    )];
    if promotion_namespace.is_none() {
        out.push(Composed::new(
            CREDENTIALS,
            "ExternalSecret",
            &render::render_external_secret(p, &call.input.external_secret),
            Readiness::ReadyCondition,
        ));
    }
    out.extend([
        Composed::new(
            SERVICE_ACCOUNT,
            "ServiceAccount",
            &render::render_service_account(p, &call.input.service_account),
            Readiness::Observed,
        ),
        Composed::new(
            ROLE,
            "Role",
            &render::render_role(
                p,
                p.scope == Scope::Namespaced,
                promotion_namespace.is_none(),
            ),
            Readiness::Observed,
        ),
        Composed::new(
            ROLE_BINDING,
            "RoleBinding",
            &render::render_role_binding(p),
            Readiness::Observed,
        ),
    ]);
    if let (Some(provider_config), Some(namespace)) = (
        promotion.and_then(|p| p.provider_config_ref.as_ref()),
        promotion_namespace,
    ) {
        let carrier = Carrier::to(
            call.composite.namespace.as_deref(),
            namespace,
            provider_config,
        );
        out.push(Composed::carried(
            PROMOTION_CREDENTIALS,
            "ExternalSecret",
            &render::render_promotion_credentials(p, &call.input.external_secret, namespace),
            carrier,
            Readiness::ReadyCondition,
        ));
        out.push(Composed::carried(
            PROMOTION_SERVICE_ACCOUNT,
            "ServiceAccount",
            &render::render_promotion_service_account(p, &call.input.service_account, namespace),
            carrier,
            Readiness::Observed,
        ));
    }
    // Crossplane v2 refuses cluster-scoped objects from a namespaced XR, so only a
    // cluster-scoped XR gets the ClusterRole that lets it request gates anywhere.
    if p.scope == Scope::Cluster {
        out.push(Composed::new(
            CLUSTER_ROLE,
            "ClusterRole",
            &render::render_cluster_role(p),
            Readiness::Observed,
        ));
        out.push(Composed::new(
            CLUSTER_ROLE_BINDING,
            "ClusterRoleBinding",
            &render::render_cluster_role_binding(p),
            Readiness::Observed,
        ));
    }
    out
}

/// Merges `status` into the desired composite's status, keeping what earlier steps
/// desired there (Crossplane removes desired status fields no step returns).
fn write_status(rsp: &mut RunFunctionResponse, status: &PipelineStatus) -> Result<(), Fatal> {
    crate::desired::merge_status(response::desired_composite(rsp), status)
        .map_err(|e| Fatal::internal(format!("cannot write the pipeline status: {e}")))
}
