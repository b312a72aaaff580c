//! The gate's notifications, after the decision: what the Input's `notifications` ask to
//! be told (the request, its latest reminder, the verdict), to the targets the credentials
//! name, once per event as far as the recorded status and the replica tell. Only what
//! GitHub holds is announced: a decision read from GitHub on this call, or a recorded
//! verdict the function's own record on the issue confirms (read again, never decided
//! again). It never changes the decision, and the call waits for it a few seconds at most.

use std::collections::BTreeMap;
use std::time::Duration;

use function_sdk_rust::request;

use crate::call::Call;
use crate::notify::deliver::{self, Facts, Notices};
use crate::notify::payload::GateRef;
use crate::notify::target::{self, Targets};
use crate::xr::gate::GateState;

use super::marker::{self, WrittenVerdict};
use super::model::{Decision, Gate, GitHubSync, Outcome, Recorded, Synced};
use super::policy::Policy;
use super::read::{self, Reach};

/// The most one call waits for its notifications.
const BUDGET: Duration = Duration::from_secs(10);

/// Delivers what the gate owes after `outcome`, and says what to record and warn about.
/// Without `notifications` in the Input, or with nothing GitHub backs: nothing sent, the
/// recorded deliveries kept.
pub async fn notify(
    call: &Call<'_>,
    reach: Reach<'_>,
    (gate, policy, recorded): (&Gate, &Policy, &Recorded),
    outcome: &Outcome,
) -> Notices {
    let recorded = recorded.status().and_then(|s| s.notifications.clone());
    let kept = Notices {
        status: recorded.clone(),
        ..Notices::default()
    };
    let Some(config) = &call.input.notifications else {
        return kept;
    };
    let (targets, warnings) = targets(call, &config.credentials_name);
    let salt = targets.salt();
    let decision = &outcome.decision;
    let facts = facts(gate, policy, decision);
    let owed = deliver::owed(&facts, &config.on, recorded.as_ref(), call.now, &salt);
    if owed.is_empty() {
        return kept;
    }
    let facts = match outcome.sync {
        GitHubSync::Synced(Synced::Read) => facts,
        GitHubSync::Synced(Synced::Decided) if decision.issue.is_some() => {
            match confirmed(call, reach, gate, decision, facts).await {
                Some(facts) => facts,
                None => return kept,
            }
        }
        _ => return kept,
    };
    let owed = deliver::owed(&facts, &config.on, recorded.as_ref(), call.now, &salt);
    let left = call
        .time_left
        .map(|l| l.saturating_sub(call.started.elapsed()));
    let budget = left.map_or(BUDGET, |left| left.min(BUDGET));
    let mut notices =
        deliver::deliver(reach.notifier, &targets, &facts, owed, recorded, budget).await;
    notices.warnings.splice(0..0, warnings);
    for warning in &notices.warnings {
        tracing::warn!(gate = %gate.name, namespace = %gate.namespace, "{warning}");
    }
    notices
}

/// Where the credentials entry `name` says notifications go, and warnings about it.
fn targets(call: &Call<'_>, name: &str) -> (Targets, Vec<String>) {
    let data: Option<BTreeMap<String, Vec<u8>>> = request::get_credential_data(call.request, name)
        .map(|d| d.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    target::targets(name, data.as_ref())
}

/// The facts of a verdict recorded in the status, as the function's own record on the
/// issue states it (its approvals and time), when that record says the same verdict; `None`
/// when it does not, or GitHub cannot be read (tried again on the next call).
async fn confirmed(
    call: &Call<'_>,
    reach: Reach<'_>,
    gate: &Gate,
    decision: &Decision,
    facts: Facts,
) -> Option<Facts> {
    let number = decision.issue.as_ref()?.number;
    let (repo, identity) = read::open(call, reach, &gate.namespace).await.ok()?;
    let max_age = call.input.github.look_every();
    let reads = repo.remembered(&identity, call.now, max_age).await.ok()?;
    let (issues, _) = read::issues(&reads, &identity, gate, &[number])
        .await
        .ok()?;
    let issue = issues.iter().find(|i| i.issue.number == number)?;
    let key = gate.key.as_str();
    let Some(WrittenVerdict::Decided(state, approvals, at)) =
        marker::written_verdict(&issue.comments, &identity, key)
    else {
        return None;
    };
    // Dated by the record itself (verdicts written before records carried a time are not
    // announced), linked to the issue as GitHub names it.
    let backed = state == decision.state && state != GateState::Pending;
    backed.then_some(())?;
    Some(Facts {
        approved_by: approvals.iter().map(|a| a.login.clone()).collect(),
        decided_at: Some(at?),
        issue: Some((number, issue.issue.html_url.clone())),
        ..facts
    })
}

/// What the notifications say of the gate, as `decision` leaves it.
fn facts(gate: &Gate, policy: &Policy, decision: &Decision) -> Facts {
    let mut approvers: Vec<String> = Vec::new();
    let users = policy
        .users
        .iter()
        .chain(policy.rules.iter().flat_map(|r| r.users.iter()))
        .map(|u| u.as_str().to_owned());
    for who in users.chain(policy.all_teams().iter().map(|t| t.to_string())) {
        if !approvers.iter().any(|a| a.eq_ignore_ascii_case(&who)) {
            approvers.push(who);
        }
    }
    let spec = &gate.spec;
    Facts {
        key: gate.key.to_string(),
        gate: GateRef {
            namespace: gate.namespace.clone(),
            name: gate.name.clone(),
        },
        tenant: spec.tenant.clone(),
        artifact_id: spec.artifact_id.clone(),
        source_environment: spec.source_environment.clone(),
        target_environment: spec.target_environment.clone(),
        state: decision.state.as_str(),
        decided_at: decision.decided_at.filter(|_| decision.state.is_terminal()),
        issue: decision.issue.as_ref().map(|i| (i.number, i.url.clone())),
        approvers,
        approved_by: decision
            .approvals
            .iter()
            .filter(|a| a.via != crate::xr::gate::Via::OverrideFreeze)
            .map(|a| a.login.clone())
            .collect(),
        reminder: decision
            .reminders
            .iter()
            .max_by_key(|r| crate::input::GoDuration::parse(r).map(|d| d.0).ok())
            .cloned(),
    }
}
