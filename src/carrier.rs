//! How a composed object reaches a namespace its composite cannot compose into.
//!
//! Crossplane v2 composes a namespaced XR's resources only into the XR's own namespace,
//! so an object for `promotion.namespace` (the promotion Job, its ServiceAccount and
//! credentials) is carried by a provider-kubernetes `Object` in the XR's namespace, whose
//! `spec.forProvider.manifest` is the object. A cluster-scoped XR composes it directly.
//! Reading back, an observed `Object` is seen through: what was rendered is its
//! `spec.forProvider.manifest`, what runs is its `status.atProvider.manifest`.
//!
//! Pure: builds and reads values.

use pbjson_types::Struct;
use serde_json::{Value, json};

use crate::input::ProviderConfigRef;
use crate::pb;

/// The API version of provider-kubernetes' namespaced `Object`.
pub const NAMESPACED_OBJECT: &str = "kubernetes.m.crossplane.io/v1alpha1";
/// The API version of provider-kubernetes' cluster-scoped `Object`.
pub const CLUSTER_OBJECT: &str = "kubernetes.crossplane.io/v1alpha2";

/// How one composed object is written into the desired state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier<'a> {
    /// As itself.
    Direct,
    /// Inside a namespaced provider-kubernetes `Object` in the XR's namespace.
    Object {
        /// The XR's namespace, where the `Object` lives.
        namespace: &'a str,
        /// The ProviderConfig the `Object` uses.
        provider_config: &'a ProviderConfigRef,
    },
}

impl<'a> Carrier<'a> {
    /// The carrier for an object in `target` composed by an XR in `xr_namespace` (none for
    /// a cluster-scoped XR, which composes into any namespace).
    pub fn to(
        xr_namespace: Option<&'a str>,
        target: &str,
        provider_config: &'a ProviderConfigRef,
    ) -> Self {
        match xr_namespace {
            Some(namespace) if namespace != target => Carrier::Object {
                namespace,
                provider_config,
            },
            _ => Carrier::Direct,
        }
    }

    /// `manifest`, as this carrier writes it. The `Object` takes the manifest's labels and
    /// no name: Crossplane names composed resources.
    pub fn carry(self, manifest: Value) -> Value {
        match self {
            Carrier::Direct => manifest,
            Carrier::Object {
                namespace,
                provider_config,
            } => {
                let labels = manifest
                    .pointer("/metadata/labels")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                json!({
                    "apiVersion": NAMESPACED_OBJECT,
                    "kind": "Object",
                    "metadata": {"namespace": namespace, "labels": labels},
                    "spec": {
                        "forProvider": {"manifest": manifest},
                        "providerConfigRef": {
                            "kind": provider_config.kind.as_str(),
                            "name": provider_config.name,
                        },
                    },
                })
            }
        }
    }
}

/// An observed composed object, seen through its carrier.
#[derive(Debug, Clone, Copy)]
pub struct Carried<'a> {
    /// The object as it was rendered.
    pub rendered: &'a Struct,
    /// The object as it is in the cluster, with its status: itself when composed directly,
    /// the `Object`'s `status.atProvider.manifest` once the provider has observed it.
    pub live: Option<&'a Struct>,
    /// What Crossplane observes: the object itself or its `Object`.
    pub carrier: &'a Struct,
}

/// Whether `observed` is a provider-kubernetes `Object`.
pub fn is_object(observed: &Struct) -> bool {
    let str_at = |p: &str| pb::pointer(observed, p).and_then(pb::as_str);
    str_at("/kind") == Some("Object")
        && matches!(
            str_at("/apiVersion"),
            Some(NAMESPACED_OBJECT | CLUSTER_OBJECT)
        )
}

/// `observed`, seen through its `Object` if it is carried by one; an `Object` without a
/// manifest carries nothing.
pub fn seen_through(observed: &Struct) -> Option<Carried<'_>> {
    if !is_object(observed) {
        return Some(Carried {
            rendered: observed,
            live: Some(observed),
            carrier: observed,
        });
    }
    let rendered = pb::pointer(observed, "/spec/forProvider/manifest").and_then(pb::as_struct)?;
    let live = pb::pointer(observed, "/status/atProvider/manifest")
        .and_then(pb::as_struct)
        .filter(|m| !m.fields.is_empty());
    Some(Carried {
        rendered,
        live,
        carrier: observed,
    })
}

/// The condition of type `kind` of `object`, if it has one.
pub fn condition<'a>(object: &'a Struct, kind: &str) -> Option<&'a Struct> {
    pb::pointer(object, "/status/conditions")
        .and_then(pb::as_list)
        .and_then(|conditions| {
            conditions
                .iter()
                .filter_map(pb::as_struct)
                .find(|c| c.fields.get("type").and_then(pb::as_str) == Some(kind))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ProviderConfigKind;
    use function_sdk_rust::resource::json_to_struct;

    fn pc() -> ProviderConfigRef {
        ProviderConfigRef {
            kind: ProviderConfigKind::ClusterProviderConfig,
            name: "in-cluster".into(),
        }
    }

    #[test]
    fn a_namespaced_xr_carries_another_namespace_in_an_object() {
        let pc = pc();
        let job = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "namespace": "promotions", "labels": {"a": "b"}}});
        assert_eq!(
            Carrier::to(Some("team-a"), "team-a", &pc),
            Carrier::Direct,
            "its own namespace"
        );
        assert_eq!(
            Carrier::to(None, "promotions", &pc),
            Carrier::Direct,
            "a cluster-scoped XR composes anywhere"
        );
        let carried = Carrier::to(Some("team-a"), "promotions", &pc).carry(job.clone());
        assert_eq!(carried["apiVersion"], NAMESPACED_OBJECT);
        assert_eq!(carried["kind"], "Object");
        assert_eq!(carried["metadata"]["namespace"], "team-a");
        assert!(carried["metadata"].get("name").is_none());
        assert_eq!(carried["metadata"]["labels"], json!({"a": "b"}));
        assert_eq!(carried["spec"]["forProvider"]["manifest"], job);
        assert_eq!(
            carried["spec"]["providerConfigRef"],
            json!({"kind": "ClusterProviderConfig", "name": "in-cluster"})
        );
    }

    #[test]
    fn an_observed_object_is_seen_through() {
        let s = |v: Value| json_to_struct(v.as_object().unwrap());
        let job = s(json!({"apiVersion": "batch/v1", "kind": "Job", "status": {"active": 1}}));
        let seen = seen_through(&job).unwrap();
        assert!(std::ptr::eq(seen.rendered, &job) && seen.live.is_some());

        let object = s(json!({"apiVersion": NAMESPACED_OBJECT, "kind": "Object",
            "spec": {"forProvider": {"manifest": {"kind": "Job", "metadata": {"name": "j"}}}}}));
        let seen = seen_through(&object).unwrap();
        assert_eq!(
            pb::pointer(seen.rendered, "/metadata/name").and_then(pb::as_str),
            Some("j")
        );
        assert!(seen.live.is_none(), "not yet created by the provider");

        let object = s(json!({"apiVersion": CLUSTER_OBJECT, "kind": "Object",
            "spec": {"forProvider": {"manifest": {"kind": "Job"}}},
            "status": {"atProvider": {"manifest": {"kind": "Job", "status": {"succeeded": 1}}}}}));
        let live = seen_through(&object).unwrap().live.unwrap();
        assert!(pb::pointer(live, "/status/succeeded").is_some());

        let empty = s(json!({"apiVersion": NAMESPACED_OBJECT, "kind": "Object", "spec": {}}));
        assert!(seen_through(&empty).is_none());
        let other = s(json!({"apiVersion": "example.org/v1", "kind": "Object"}));
        assert!(
            seen_through(&other).is_some_and(|c| c.live.is_some()),
            "not a carrier"
        );
    }
}
