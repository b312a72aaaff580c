//! What an approval is bound to besides its gate key: the approvals repository, the
//! Composition that composed the gate, and the Input's trust-relevant settings (its
//! approvers and their rules, the promotion Job's image, command, environment, retries,
//! namespace and the ProviderConfig that carries it there). The
//! binding comment seals them (`policy=`); a request asked under another seal does not
//! carry its approval across, so switching Compositions, or changing the Input, asks
//! again before anything runs (see [`Seal::carries`]).
//!
//! Pure: hashes what it is given.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::input::Input;
use crate::xr::gate::GateState;

/// The seal of the policy a request is asked under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seal {
    /// 16 hex characters of the sha256 of what it covers (empty: seals nothing).
    pub digest: String,
    /// Whether the Input runs a promotion Job once a gate is approved.
    pub runs_promotion: bool,
}

impl Seal {
    /// The seal of `input` in the Composition named `composition` (empty when the XR
    /// names none, as in a local render).
    pub fn of(input: &Input, composition: &str) -> Seal {
        let sorted = |items: &[String]| {
            let mut items: Vec<String> = items.iter().map(|s| s.to_ascii_lowercase()).collect();
            items.sort();
            items.dedup();
            items
        };
        let a = &input.approvals;
        let promotion = input.promotion.as_ref().map(|p| {
            json!({
                "image": p.image,
                "command": p.command,
                "args": p.args,
                "env": p.env,
                "envFrom": p.env_from,
                "namespace": p.namespace,
                "providerConfigRef": p.provider_config_ref,
                "backoffLimit": p.backoff_limit,
            })
        });
        // serde_json's maps are sorted by key: the same settings give the same text.
        let covered = json!({
            "repository": input.github.repository.as_deref().map(str::to_ascii_lowercase),
            "apiUrl": input.github.api_url.trim_end_matches('/'),
            "composition": composition,
            "approvals": {
                "users": sorted(&a.users),
                "teams": sorted(&a.teams),
                "minApprovals": a.min_approvals,
                "minPermission": a.min_permission,
                "allowSelfApproval": a.allow_self_approval,
                "requireRequester": a.require_requester,
                "requirePipeline": a.require_pipeline,
            },
            "promotion": promotion,
        });
        // Covered when set, so that the seals of Inputs that set neither stay as they were.
        let mut covered = covered;
        if a.exclude_change_authors {
            covered["approvals"]["excludeChangeAuthors"] = json!(true);
        }
        if let Some(name) = &input.change.credentials_name {
            covered["change"] = json!({"credentialsName": name});
        }
        let digest = Sha256::digest(covered.to_string().as_bytes());
        Seal {
            digest: digest[..8].iter().map(|b| format!("{b:02x}")).collect(),
            runs_promotion: input.promotion.is_some(),
        }
    }

    /// Whether a request sealed `sealed` (none: an older binding, which sealed nothing)
    /// still holds the gate under this seal, given the verdict written on it and whether
    /// its promotion started. Under another seal only what needs nothing more stands: a
    /// rejection or a timeout (a veto is never erased by a change of policy), and an
    /// approval whose promotion started, or that runs none. An approval still to run,
    /// or a request still asking, is asked again.
    pub fn carries(&self, sealed: Option<&str>, verdict: Option<GateState>, started: bool) -> bool {
        if self.digest.is_empty() || sealed.is_none_or(|s| s == self.digest) {
            return true;
        }
        match verdict {
            Some(GateState::Rejected | GateState::Timeout) => true,
            Some(GateState::Approved) => started || !self.runs_promotion,
            Some(GateState::Pending) | None => false,
        }
    }
}

/// The name of the Composition that composed the XR, from its spec: Crossplane v2's
/// `spec.crossplane.compositionRef`, else the legacy `spec.compositionRef`.
pub fn composition_name(spec: &serde_json::Value) -> &str {
    spec.pointer("/crossplane/compositionRef/name")
        .or_else(|| spec.pointer("/compositionRef/name"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn input(v: Value) -> Input {
        Input::from_json(Some(&v)).unwrap()
    }

    fn base() -> Value {
        json!({
            "github": {"repository": "acme/release-approvals"},
            "approvals": {"users": ["alice", "bob"], "teams": ["acme/release"]},
            "promotion": {"image": "ghcr.io/acme/promoter:v1", "command": ["promote"],
                "providerConfigRef": {"name": "release-promotions"}},
        })
    }

    #[test]
    fn what_the_seal_covers() {
        let seal = |v: Value, composition: &str| Seal::of(&input(v), composition).digest;
        let here = seal(base(), "gates");
        assert_eq!(here.len(), 16);
        assert_eq!(here, seal(base(), "gates"), "stable");
        let mut reordered = base();
        reordered["approvals"]["users"] = json!(["Bob", "alice"]);
        assert_eq!(here, seal(reordered, "gates"), "order and case of logins");
        assert_ne!(here, seal(base(), "weaker-gates"), "the Composition");
        for (pointer, value) in [
            ("/github/repository", json!("acme/other-approvals")),
            ("/github/apiUrl", json!("https://ghe.example.com/api/v3")),
            ("/approvals/users", json!(["alice"])),
            ("/approvals/teams", json!([])),
            ("/approvals/minApprovals", json!(2)),
            ("/approvals/minPermission", json!("write")),
            ("/approvals/allowSelfApproval", json!(true)),
            ("/approvals/requireRequester", json!(true)),
            ("/approvals/requirePipeline", json!(true)),
            ("/promotion/image", json!("ghcr.io/evil/promoter:v1")),
            ("/promotion/command", json!(["sh", "-c", "promote"])),
            ("/promotion/args", json!(["--force"])),
            (
                "/promotion/env",
                json!([{"name": "GITOPS_REPO", "value": "evil/gitops"}]),
            ),
            (
                "/promotion/envFrom",
                json!([{"secretRef": {"name": "other"}}]),
            ),
            ("/promotion/namespace", json!("release-promotions")),
            ("/promotion/providerConfigRef", json!({"name": "elsewhere"})),
            ("/promotion/backoffLimit", json!(9)),
        ] {
            let mut changed = base();
            let (parent, field) = pointer.rsplit_once('/').unwrap();
            changed.pointer_mut(parent).unwrap()[field] = value;
            assert_ne!(here, seal(changed, "gates"), "{pointer}");
        }
        let mut labels = base();
        labels["github"]["labels"] = json!(["other"]);
        assert_eq!(here, seal(labels, "gates"), "labels decide nothing");
    }

    #[test]
    fn under_another_seal_only_what_needs_nothing_more_stands() {
        let seal = Seal::of(&input(base()), "gates");
        let other = Some("0123456789abcdef");
        assert!(
            seal.carries(None, None, false),
            "an older binding sealed nothing"
        );
        assert!(seal.carries(Some(&seal.digest), None, false));
        assert!(
            !seal.carries(other, None, false),
            "still asking: asked again"
        );
        assert!(!seal.carries(other, Some(GateState::Pending), false));
        assert!(
            !seal.carries(other, Some(GateState::Approved), false),
            "an approval still to run is asked again"
        );
        assert!(
            seal.carries(other, Some(GateState::Approved), true),
            "it ran"
        );
        assert!(
            seal.carries(other, Some(GateState::Rejected), false),
            "a veto stands"
        );
        assert!(seal.carries(other, Some(GateState::Timeout), false));
        let mut without_job = base();
        without_job.as_object_mut().unwrap().remove("promotion");
        let seal = Seal::of(&input(without_job), "gates");
        assert!(
            seal.carries(other, Some(GateState::Approved), false),
            "nothing to run"
        );
    }

    #[test]
    fn the_composition_is_read_from_the_spec() {
        assert_eq!(
            composition_name(&json!({"crossplane": {"compositionRef": {"name": "a"}}})),
            "a"
        );
        assert_eq!(
            composition_name(&json!({"compositionRef": {"name": "b"}})),
            "b"
        );
        assert_eq!(composition_name(&json!({})), "");
    }
}
