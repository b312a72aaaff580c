//! Freeze windows at the gate (SPEC §8): while a window is open for the target
//! environment, answers count but the gate does not approve, unless an approver of the
//! target who is also listed in the pipeline's `freezeOverride` comments
//! `/override-freeze <reason>`.
//!
//! Pure: no I/O, no clock.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::freeze::Frozen;
use crate::github::{Comment, Identity};
use crate::xr::gate::{Approval, Via, rfc3339};

use super::issue;
use super::model::Policy;

/// An override of the open window: the entry for status, and the Warning's text.
pub struct Override {
    /// `via: override-freeze`, by whom and when.
    pub entry: Approval,
    /// Who let the promotion through which window, and why.
    pub message: String,
}

/// Whether `login` is listed in the pipeline's `freezeOverride`, by login or through a
/// team GitHub placed them in.
fn may_override(
    policy: &Policy,
    login: &str,
    memberships: &BTreeMap<String, BTreeSet<String>>,
) -> bool {
    let Some(allowed) = &policy.freeze_override else {
        return false;
    };
    allowed.users.iter().any(|u| u.eq_ignore_ascii_case(login))
        || memberships
            .get(&login.to_ascii_lowercase())
            .is_some_and(|teams| {
                allowed
                    .teams
                    .iter()
                    .any(|t| teams.contains(&t.to_ascii_lowercase()))
            })
}

/// The first override of `frozen` on the issue: a comment, as its author posted it
/// (never edited), within the gate's window, no earlier than `not_before` (the window's
/// opening and the time the approvals were in: an override answers this window for
/// these approvals), by an approver (`authorized`) who may override and did not request
/// the promotion.
#[allow(clippy::too_many_arguments)]
pub fn override_of(
    frozen: &Frozen,
    not_before: DateTime<Utc>,
    requester: Option<&str>,
    policy: &Policy,
    identity: &Identity,
    comments: &[Comment],
    in_window: &dyn Fn(DateTime<Utc>) -> bool,
    authorized: &dyn Fn(&str) -> bool,
    memberships: &BTreeMap<String, BTreeSet<String>>,
) -> Option<Override> {
    comments.iter().find_map(|c| {
        let reason = issue::parse_override(&c.body)?;
        let eligible = !issue::edited(c)
            && c.author_id != identity.id
            && c.created_at >= not_before
            && !requester.is_some_and(|r| r.eq_ignore_ascii_case(&c.author))
            && in_window(c.created_at)
            && authorized(&c.author)
            && may_override(policy, &c.author, memberships);
        eligible.then(|| Override {
            entry: Approval {
                login: c.author.clone(),
                at: c.created_at,
                via: Via::OverrideFreeze,
                rules: Vec::new(),
            },
            message: format!(
                "{} let the promotion through freeze window {} (open until {}): {}",
                c.author,
                frozen.name,
                rfc3339(frozen.until),
                issue::escape(&reason)
            ),
        })
    })
}
