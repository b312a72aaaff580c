//! The gate's model: the gate being decided and who may approve it. A leaf that the
//! decision, the issue text, the selection and the rendering all read.

use crate::input::Permission;
use crate::policy::Rule;
use crate::xr::gate::GateSpec;

/// The gate being decided.
#[derive(Debug, Clone, Copy)]
pub struct Gate<'a> {
    /// The validated spec.
    pub spec: &'a GateSpec,
    /// The gate key.
    pub key: &'a str,
    /// The namespace of the composed resources.
    pub namespace: &'a str,
    /// The XR's name.
    pub name: &'a str,
    /// The XR's uid (empty when the XR has none, as in a local render).
    pub uid: &'a str,
    /// The requester's login, from the `requested-by` annotation.
    pub requester: Option<&'a str>,
}

/// Who may approve this promotion and whether a person must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The pipeline's rule for the pair (manual without a pipeline).
    pub rule: Rule,
    /// Listed approvers.
    pub users: Vec<String>,
    /// Teams (`org/slug`) whose members may approve.
    pub teams: Vec<String>,
    /// Distinct approvals needed.
    pub min_approvals: u32,
    /// Anyone with this repository permission or higher may approve.
    pub min_permission: Option<Permission>,
    /// Whether the requester may approve.
    pub allow_self_approval: bool,
}

impl Policy {
    /// Whether a person must approve: strictest wins, so only an automatic rule AND
    /// `approval_required: false` skip approval.
    pub fn needs_approval(&self, spec: &GateSpec) -> bool {
        self.rule != Rule::Automatic || spec.approval_required
    }

    /// Whether `login` is a listed approver.
    pub fn lists(&self, login: &str) -> bool {
        self.users.iter().any(|u| u.eq_ignore_ascii_case(login))
    }
}
