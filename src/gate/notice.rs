//! The gate's notifications, after the decision: what the Input's `notifications` ask to
//! be told (the request, its latest reminder, the verdict), to the targets the credentials
//! name, once per event as far as the recorded status tells. Called on every call that
//! reached a decision, so a delivery that failed is tried again on the next one; it never
//! changes the decision, and the call waits for it a few seconds at most.

use std::collections::BTreeMap;
use std::time::Duration;

use function_sdk_rust::request;

use crate::call::Call;
use crate::notify::deliver::{self, Facts, Notices, Notifier};
use crate::notify::payload::GateRef;
use crate::notify::target;

use super::decide::Plan;
use super::model::{Decision, Gate, GitHubSync, Outcome, Recorded, Synced};
use super::policy::Policy;
use super::situation::Situation;

/// The most one call waits for its notifications.
const BUDGET: Duration = Duration::from_secs(10);

/// The gate's [plan](super::decide::plan), except that a verdict recorded for this key,
/// which settles the gate without GitHub, is read from GitHub again while its notification
/// is owed: what is announced is what GitHub holds, never what someone wrote into the
/// status.
pub fn plan(
    call: &Call<'_>,
    (gate, policy, recorded): (&Gate, &Policy, &Recorded),
    situation: &Situation,
) -> Plan {
    match super::decide::plan(gate, recorded, policy, situation) {
        Plan::Settled(d) if d.issue.is_some() && owes(call, (gate, policy), recorded, &d) => {
            Plan::ReadGitHub
        }
        plan => plan,
    }
}

/// Whether `decision` owes a notification somewhere it can be delivered.
fn owes(
    call: &Call<'_>,
    (gate, policy): (&Gate, &Policy),
    recorded: &Recorded,
    decision: &Decision,
) -> bool {
    let Some(config) = &call.input.notifications else {
        return false;
    };
    let recorded = recorded.status().and_then(|s| s.notifications.as_ref());
    let owed = deliver::owed(
        &facts(gate, policy, decision),
        &config.on,
        recorded,
        call.now,
    );
    !owed.is_empty() && !targets(call, &config.credentials_name).0.is_empty()
}

/// Where the credentials entry `name` says notifications go, and warnings about it.
fn targets(call: &Call<'_>, name: &str) -> (target::Targets, Vec<String>) {
    let data: Option<BTreeMap<String, Vec<u8>>> = request::get_credential_data(call.request, name)
        .map(|d| d.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    target::targets(name, data.as_ref())
}

/// Delivers what the gate owes after `outcome`, when the decision was read from GitHub on
/// this call, and says what to record and warn about. Without `notifications` in the
/// Input, or on any other outcome: nothing sent, the recorded deliveries kept.
pub async fn notify(
    call: &Call<'_>,
    notifier: &Notifier,
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
    if !matches!(outcome.sync, GitHubSync::Synced(Synced::Read)) {
        return kept;
    }
    let facts = facts(gate, policy, &outcome.decision);
    let owed = deliver::owed(&facts, &config.on, recorded.as_ref(), call.now);
    if owed.is_empty() {
        return kept;
    }
    let (targets, warnings) = targets(call, &config.credentials_name);
    let budget = call.time_left.map_or(BUDGET, |left| left.min(BUDGET));
    let mut notices = deliver::deliver(notifier, &targets, &facts, owed, recorded, budget).await;
    notices.warnings.splice(0..0, warnings);
    for warning in &notices.warnings {
        tracing::warn!(gate = %gate.name, namespace = %gate.namespace, "{warning}");
    }
    notices
}

/// What the notifications say of the gate, as `decision` leaves it.
fn facts(gate: &Gate, policy: &Policy, decision: &Decision) -> Facts {
    let spec = &gate.spec;
    let mut approvers: Vec<String> = policy
        .users
        .iter()
        .chain(policy.rules.iter().flat_map(|r| r.users.iter()))
        .map(|u| u.as_str().to_owned())
        .chain(policy.all_teams().iter().map(|t| t.to_string()))
        .collect();
    approvers.dedup();
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
        approved_by: decision.approvals.iter().map(|a| a.login.clone()).collect(),
        reminder: decision
            .reminders
            .iter()
            .max_by_key(|r| crate::input::GoDuration::parse(r).map(|d| d.0).ok())
            .cloned(),
    }
}
