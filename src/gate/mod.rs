//! XPromotionGate, as a pipeline of steps, each one call:
//!
//! ```text
//! validate -> plan -> read GitHub -> decide -> write GitHub -> notify -> render -> respond
//! (validate)  (decide::plan)  (read)  (decide::decide)  (write)  (notice)  (render, respond)
//! ```
//!
//! Only `read`, `write` and `notice` do I/O. [`decide::plan`] says what the gate can be told
//! without GitHub (a verdict recorded for its key, an approval by policy, a hold); when
//! the answers decide, they are read first from the repository's shared view, and a
//! decision that would change anything (a verdict, a write) is taken again on fresh reads.
//! Reading GitHub is idempotent and every write is guarded by what was read, because
//! Crossplane may call up to six times per reconcile and the status write may be lost.
//! A GitHub failure never approves and is never Fatal: the recorded status is kept and
//! `ApprovalSynced` turns False.

pub mod answers;
pub mod change;
pub mod change_text;
pub mod decide;
pub mod issue;
pub mod job;
pub mod key;
pub mod lookup;
pub mod marker;
pub mod model;
pub mod notice;
pub mod policy;
pub mod progression;
pub mod promotion;
pub mod read;
pub mod render;
pub mod respond;
pub mod rules;
pub mod seal;
pub mod select;
pub mod situation;
mod span;
#[cfg(test)]
mod test_support;
pub mod validate;
pub mod write;

use std::time::Duration;

use tracing::Instrument;

use function_sdk_rust::proto::v1::RunFunctionResponse;

use crate::call::{Call, Fatal};
use crate::github::{GitHubError, Identity, Reads, Repo};
use crate::xr::gate::GateStatus;

use decide::Plan;
use lookup::Lookup;
use model::{Decision, Gate, GitHubSync, Outcome, Recorded, SyncError, Synced};
use policy::Policy;
pub use read::{Reach, server_repos};
use situation::Situation;
use span::GateSpan;

/// The most one call spends on GitHub. Each request has its own timeouts; this bounds
/// their sum, well inside Crossplane's two-minute budget for a whole reconcile (which
/// syncs GitHub once: the first call of a reconcile only states the requirement).
const GITHUB_BUDGET: Duration = Duration::from_secs(40);

/// Composes an XPromotionGate.
pub async fn compose(
    call: &Call<'_>,
    reach: Reach<'_>,
    rsp: &mut RunFunctionResponse,
) -> Result<(), Fatal> {
    let gate = validate::gate(call)?;
    // The same requirement on every call, so Crossplane's requirement loop settles.
    let namespace = call.composite.namespace.as_deref();
    lookup::require_pipeline(rsp, call.request, &call.composite.api_version, namespace);
    let recorded = Recorded::for_key(GateStatus::from_json(&call.composite.status), &gate.key);
    // Dereference the pipeline (no GitHub).
    let lookup = lookup::find_pipeline(call.request, &gate.spec.tenant, namespace)?;
    let policy = Policy::for_gate(&gate.spec, lookup.pipeline(), &call.input.approvals)?
        .asked_under(call.input, &call.composite.spec);
    let configured = call.input.promotion.is_some();
    let situation = Situation::of(&gate.spec, &lookup, call.now).with_job(promotion::seen(
        call.request,
        &gate.key,
        configured,
    ));
    let span = GateSpan::new(&gate, call.now);
    let outcome = match lookup {
        // No GitHub work until Crossplane answers; this response is replaced by the next
        // call's, but keeps what was recorded meanwhile.
        Lookup::Unanswered => Outcome {
            decision: Decision::recorded(&gate, &recorded, call.now),
            sync: GitHubSync::Waiting,
        },
        _ => match decide::plan(&gate, &recorded, &policy, &situation) {
            Plan::Settled(decision) | Plan::Held(decision) => Outcome::without_github(decision),
            plan => {
                let step = Step {
                    call,
                    reach,
                    gate: &gate,
                    recorded: &recorded,
                    policy: &policy,
                    situation: &situation,
                };
                step.run(plan).instrument(span.get().clone()).await
            }
        },
    };
    let notices = notice::notify(call, reach, (&gate, &policy, &recorded), &outcome);
    let scene = respond::Scene {
        notices: &notices.await,
        req: call.request,
        input: call.input,
        gate: &gate,
        policy: &policy,
        situation: &situation,
        observed_status: &call.composite.status,
        recorded: &recorded,
    };
    respond::respond(rsp, &scene, &outcome);
    span.log(&recorded, &outcome);
    Ok(())
}

/// The GitHub part of one call: read, decide, write, within the call's budget.
struct Step<'a> {
    call: &'a Call<'a>,
    reach: Reach<'a>,
    gate: &'a Gate,
    recorded: &'a Recorded,
    policy: &'a Policy,
    situation: &'a Situation,
}

impl Step<'_> {
    /// The outcome of `plan` (the answers decide, or issues are to be retired) once GitHub
    /// was read and written; a failure keeps what was recorded.
    async fn run(&self, plan: Plan) -> Outcome {
        // The time this call may spend on GitHub: the budget, or less when the caller's
        // deadline is nearer (an answer after it is lost, and Crossplane fails the whole
        // reconcile).
        let budget = self
            .call
            .time_left
            .map_or(GITHUB_BUDGET, |left| left.min(GITHUB_BUDGET));
        let timed_out = || {
            SyncError::GitHub(GitHubError::Timeout(format!(
                "GitHub calls took longer than the {} ms this call allows",
                budget.as_millis()
            )))
        };
        match plan {
            Plan::Retire(decision) => {
                let issue = self.recorded.any_issue().map_or(0, |i| i.number);
                let closed = match tokio::time::timeout(budget, self.retire()).await {
                    Ok(closed) => closed.map_err(|e| e.to_string()),
                    Err(_) => Err("GitHub took too long".to_owned()),
                };
                if let Err(why) = &closed {
                    tracing::warn!(issue, error = %why, "cannot close the approval issue that is no longer needed");
                }
                Outcome {
                    decision,
                    sync: GitHubSync::Synced(Synced::not_required(closed, issue)),
                }
            }
            _ => {
                let synced = tokio::time::timeout(budget, self.sync()).await;
                match synced.unwrap_or_else(|_| Err(timed_out())) {
                    Ok(decision) => Outcome {
                        decision,
                        sync: GitHubSync::Synced(Synced::Read),
                    },
                    Err(e) => Outcome {
                        decision: Decision::recorded(self.gate, self.recorded, self.call.now),
                        sync: GitHubSync::Failed(e),
                    },
                }
            }
        }
    }

    /// Reads the approval issue (and the change the gate names), decides, and writes what
    /// the decision asks for. The decision is taken on remembered reads, and again on fresh
    /// ones before it changes anything.
    async fn sync(&self) -> Result<Decision, SyncError> {
        let (repo, identity) = read::open(self.call, self.reach, &self.gate.namespace).await?;
        let now = self.call.now;
        let max_age = self.call.input.github.look_every();
        let change = read::change(self.call, self.reach, self.gate, self.situation).await;
        let remembered = repo.remembered(&identity, now, max_age).await?;
        let (mut read, mut decision) = self.decide(&remembered, &repo, &identity, &change).await?;
        if decision.is_consequential() && remembered.remembered() {
            let fresh = repo.fresh(&identity, now).await?;
            (read, decision) = self.decide(&fresh, &repo, &identity, &change).await?;
        }
        let (gate, recorded, policy) = (self.gate, self.recorded, self.policy);
        write::write(&repo, &identity, decision, |decision, opened| {
            decide::after_open(gate, recorded, policy, &read, decision, opened, now)
        })
        .await
    }

    /// Reads through `reads` and decides on what was read.
    async fn decide(
        &self,
        reads: &Reads<'_>,
        repo: &Repo,
        identity: &Identity,
        change: &Option<change::ChangeRead>,
    ) -> Result<(model::Read, Decision), GitHubError> {
        let (gate, recorded, policy, situation) =
            (self.gate, self.recorded, self.policy, self.situation);
        let numbers = self.recorded_issues();
        let mut read = read::read(reads, repo, identity, gate, numbers, policy, situation).await?;
        read.change = change.clone();
        let labels = &self.call.input.github.labels;
        let decision = decide::decide(gate, recorded, policy, situation, &read, labels);
        Ok((read, decision))
    }

    /// The issues of the approvals repository the status records for this key.
    fn recorded_issues(&self) -> Vec<u64> {
        let repository = self.call.input.github.repository.as_deref();
        self.recorded.issues_in(repository.unwrap_or_default())
    }

    /// Closes the approval issues of a gate approved by policy, on fresh reads.
    async fn retire(&self) -> Result<Vec<u64>, SyncError> {
        let (repo, identity) = read::open(self.call, self.reach, &self.gate.namespace).await?;
        let now = self.call.now;
        let reads = repo.fresh(&identity, now).await?;
        let recorded = self.recorded_issues();
        let read = read::issues_only(&reads, &identity, self.gate, recorded).await?;
        let (actions, closed) =
            decide::retire_unneeded(self.gate, self.recorded, self.policy, &read, now);
        write::execute(&repo, &actions).await?;
        Ok(closed)
    }
}
