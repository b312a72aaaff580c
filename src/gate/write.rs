//! The gate's writes: carry out the actions a decision asks for, in order. An issue just
//! opened is then bound to the gate and followed
//! ([`after_open`](super::decide::after_open), pure), which asks for a few more writes.
//!
//! Writes only what the decision says; decides nothing.

use crate::github::{GitHubError, Identity, Issue, Repo};

use super::model::{Action, Decision, SyncError};

/// Carries `decision` out on `repo` and returns it as it then stands: when it opened an
/// issue, as `after_open` (pure) says the gate follows it, with the writes that asks for.
pub async fn write(
    repo: &Repo,
    identity: &Identity,
    decision: Decision,
    after_open: impl FnOnce(Decision, &Issue) -> Decision,
) -> Result<Decision, SyncError> {
    // Before opening an issue: a listing by a stale login (the account or App was renamed
    // since it was read) finds none of the function's issues.
    if decision.opens_issue() {
        let fresh = repo.refresh_identity().await?;
        if fresh.login != identity.login {
            return Err(SyncError::IdentityChanged {
                was: identity.login.clone(),
                now: fresh.login,
            });
        }
    }
    let Some(opened) = execute(repo, &decision.actions).await? else {
        return Ok(decision);
    };
    let decision = after_open(decision, &opened);
    execute(repo, &decision.actions).await?;
    Ok(decision)
}

/// Carries the actions out in order; returns the issue opened, if one was. A reopen, a
/// restoration and a comment beside one on the same issue are provoked by someone else's
/// action: they leave the write budget's reserve to the writes that carry decisions.
pub async fn execute(repo: &Repo, actions: &[Action]) -> Result<Option<Issue>, GitHubError> {
    let mut opened = None;
    let undoes =
        |a: Option<&Action>| matches!(a, Some(Action::Reopen { .. } | Action::Restore { .. }));
    let issue_of = |a: Option<&Action>| match a {
        Some(
            Action::Comment { number, .. }
            | Action::Reopen { number }
            | Action::Restore { number, .. },
        ) => Some(*number),
        _ => None,
    };
    for (i, action) in actions.iter().enumerate() {
        let beside = |j: Option<usize>| {
            let other = j.and_then(|j| actions.get(j));
            undoes(other) && issue_of(other) == issue_of(Some(action))
        };
        let provoked = undoes(Some(action))
            || (matches!(action, Action::Comment { .. })
                && (beside(i.checked_sub(1)) || beside(Some(i + 1))));
        repo.provoked(provoked);
        match action {
            Action::Open(new) => {
                opened = Some(repo.open_issue(new).await?);
                crate::metrics::record_issue_opened();
            }
            Action::Comment { number, body } => repo.add_comment(*number, body).await?,
            Action::Close { number, reason } => repo.close_issue(*number, reason.clone()).await?,
            Action::Reopen { number } => repo.reopen_issue(*number).await?,
            Action::Restore {
                number,
                title,
                body,
            } => repo.restore_issue(*number, title, body).await?,
            // Assigning is a courtesy: the comment beside it asked them already, and it is
            // not tried again. Only a rate limit stops the writes (the gate waits for it).
            Action::Assign { number, assignees } => {
                match repo.add_assignees(*number, assignees).await {
                    Err(limited @ GitHubError::RateLimited { .. }) => return Err(limited),
                    Err(e) => {
                        tracing::warn!(issue = number, error = %e, "cannot assign the escalation approvers")
                    }
                    Ok(()) => {}
                }
            }
        }
    }
    repo.provoked(false);
    Ok(opened)
}
