//! XPromotionGate, orchestrated: validate the spec, look the tenant's pipeline up as a
//! required resource, then — unless the gate is already decided for this artifact or
//! approved by policy — read the approval issue from GitHub, [`decide::decide`], carry
//! out the decision's GitHub actions, and [`render::write`] status, conditions, the gate
//! ConfigMap and the promotion Job.
//!
//! The only async part of the gate. Reading GitHub is idempotent and every write is
//! guarded by what was read, because Crossplane may call up to six times per reconcile
//! and the status write may be lost. A GitHub failure never approves and is never
//! Fatal: the recorded status is kept and `ApprovalSynced` turns False.

pub mod decide;
pub mod issue;
pub mod key;
pub mod lookup;
pub mod model;
pub mod render;
pub mod select;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::Duration;

use tracing::Instrument;

use function_sdk_rust::proto::v1::RunFunctionResponse;
use function_sdk_rust::request;

use crate::call::{Call, Fatal};
use crate::github::{
    Comment, Connector, Credentials, GitHub, GitHubError, Identity, Issue, IssueEvent, IssueState,
    Secret, Target,
};
use crate::xr::gate::{GateSpec, GateStatus, REQUESTED_BY_ANNOTATION};

use decide::{Action, Decision, Gate, Observed, Policy};
use lookup::Lookup;
use render::{Outcome, Sync};

/// The most one call spends on GitHub. Each request has its own timeouts; this bounds
/// their sum, well inside Crossplane's two-minute budget for a whole reconcile (which
/// syncs GitHub once: the first call of a reconcile only states the requirement).
const GITHUB_BUDGET: Duration = Duration::from_secs(40);

/// The time this call may spend on GitHub: [`GITHUB_BUDGET`], or less when the
/// caller's deadline is nearer (an answer after it is lost, and Crossplane fails the
/// whole reconcile).
fn budget(call: &Call<'_>) -> Duration {
    call.time_left
        .map_or(GITHUB_BUDGET, |left| left.min(GITHUB_BUDGET))
}

/// Composes an XPromotionGate.
pub async fn compose(
    call: &Call<'_>,
    github: &dyn Connector,
    env_token: Option<&Secret>,
    rsp: &mut RunFunctionResponse,
) -> Result<(), Fatal> {
    let spec = GateSpec::from_json(&call.composite.spec, call.input.allow_mutable_tags)
        .map_err(|e| Fatal::invalid_spec(e.to_string()))?;
    let namespace = match (&call.composite.namespace, &call.input.namespace) {
        (Some(ns), _) | (None, Some(ns)) => ns.clone(),
        (None, None) => {
            return Err(Fatal::invalid_spec(
                "input.namespace: is required for a cluster-scoped XPromotionGate (where its ConfigMap and Job go)",
            ));
        }
    };
    // The same requirement on every call, so Crossplane's requirement loop settles.
    lookup::require_pipeline(
        rsp,
        call.request,
        &call.composite.api_version,
        call.composite.namespace.as_deref(),
    );

    let requester = call
        .composite
        .annotations
        .get(REQUESTED_BY_ANNOTATION)
        .map(|r| r.trim().trim_start_matches('@'))
        .filter(|r| !r.is_empty());
    let uid = call.composite.uid.as_deref().unwrap_or_default();
    let key = key::gate_key(key::KeyParts {
        namespace: &namespace,
        name: &call.composite.name,
        uid,
        tenant: &spec.tenant,
        source: &spec.source_environment,
        target: &spec.target_environment,
        artifact_id: &spec.artifact_id,
    });
    let gate = Gate {
        spec: &spec,
        key: &key,
        namespace: &namespace,
        name: &call.composite.name,
        uid,
        requester,
    };
    let recorded = GateStatus::from_json(&call.composite.status);
    // Every log line about this gate, the adapter's included, carries these fields.
    let xr = format!("{namespace}/{}", call.composite.name);
    let span = GateSpan {
        xr: &xr,
        key: &key,
        span: OnceLock::new(),
    };

    let (policy, outcome) = match lookup::find_pipeline(
        call.request,
        &spec.tenant,
        call.composite.namespace.as_deref(),
    )? {
        // No GitHub work until Crossplane answers; this response is replaced by the next
        // call's, but keeps what was recorded meanwhile.
        Lookup::Unanswered => (
            lookup::policy(&spec, None, &call.input.approvals)?,
            Outcome {
                decision: decide::from_recorded(&gate, &recorded, call.now),
                sync: Sync::Waiting,
            },
        ),
        found => {
            let pipeline = match found {
                Lookup::Found(pipeline) => Some(pipeline),
                _ => None,
            };
            let policy = lookup::policy(&spec, pipeline.as_deref(), &call.input.approvals)?;
            let outcome =
                decide_with_github(call, github, env_token, &gate, &recorded, &policy, &span).await;
            (policy, outcome)
        }
    };
    let scene = render::Scene {
        req: call.request,
        input: call.input,
        gate: &gate,
        policy: &policy,
        observed_status: &call.composite.status,
        recorded: &recorded,
        now: call.now,
    };
    render::write(rsp, &scene, &outcome);
    let state = outcome.decision.state;
    crate::metrics::observe_gate(&xr, state.as_str());
    let changed = recorded.gate_status != Some(state);
    let failed = matches!(outcome.sync, Sync::Failed { .. });
    if !(changed || failed || tracing::enabled!(tracing::Level::DEBUG)) {
        return Ok(());
    }
    let span = span.get();
    if let Some(issue) = &outcome.decision.issue {
        span.record("issue", issue.number);
    }
    span.in_scope(|| {
        if changed {
            tracing::info!(state = state.as_str(), "gate state changed");
        }
        match &outcome.sync {
            Sync::Failed {
                reason, message, ..
            } => {
                tracing::warn!(reason = *reason, error = %message, "cannot sync the approval issue")
            }
            _ => tracing::debug!(state = state.as_str(), "gate reconciled"),
        }
    });
    Ok(())
}

/// The span of every log line about a gate, created when something is logged or GitHub
/// is called: most calls for a decided gate do neither, and a span's fields are
/// formatted when it is created.
struct GateSpan<'a> {
    xr: &'a str,
    key: &'a str,
    span: OnceLock<tracing::Span>,
}

impl GateSpan<'_> {
    fn get(&self) -> &tracing::Span {
        self.span.get_or_init(|| {
            tracing::info_span!("gate", xr = %self.xr, gate_key = %self.key, issue = tracing::field::Empty)
        })
    }
}

/// The decision for a gate whose pipeline lookup was answered: settled without GitHub
/// when decided or approved by policy, else read from GitHub within [`budget`].
async fn decide_with_github(
    call: &Call<'_>,
    github: &dyn Connector,
    env_token: Option<&Secret>,
    gate: &Gate<'_>,
    recorded: &GateStatus,
    policy: &Policy,
    span: &GateSpan<'_>,
) -> Outcome {
    match decide::settled(gate, recorded, policy, call.now) {
        Some(decision) if decision.automatic => {
            let mut message =
                "approval is not required for this promotion; GitHub is not used".to_owned();
            // On the call that approves by policy a gate that had an approval issue.
            if let Some(old) = &recorded.issue {
                let closing = close_unneeded_issues(call, github, env_token, gate, recorded)
                    .instrument(span.get().clone());
                message = match tokio::time::timeout(budget(call), closing).await {
                    Ok(Ok(closed)) if closed.is_empty() => {
                        "approval is not required for this promotion".to_owned()
                    }
                    Ok(Ok(closed)) => format!(
                        "approval is not required for this promotion; closed approval issue(s) {}",
                        closed
                            .iter()
                            .map(|n| format!("#{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    failed => {
                        let why = match failed {
                            Ok(Err(e)) => e.to_string(),
                            _ => "GitHub took too long".to_owned(),
                        };
                        span.get().in_scope(|| {
                            tracing::warn!(issue = old.number, error = %why, "cannot close the approval issue that is no longer needed")
                        });
                        format!(
                            "approval is not required for this promotion; approval issue #{} could not be closed ({why}): close it by hand",
                            old.number
                        )
                    }
                };
            }
            Outcome {
                sync: Sync::Synced {
                    reason: "NotRequired",
                    message,
                },
                decision,
            }
        }
        Some(decision) => Outcome {
            sync: Sync::Synced {
                reason: "Decided",
                message: "the gate is decided for this artifact; GitHub is no longer read".into(),
            },
            decision,
        },
        // Without a known requester, anyone who may approve could be approving their own
        // request: the Input can make such a gate wait, without asking on GitHub.
        None if call.input.approvals.require_requester && gate.requester.is_none() => Outcome {
            decision: Decision {
                held: Some(decide::Held {
                    reason: MISSING_REQUESTER,
                    message: format!(
                        "the gate has no {REQUESTED_BY_ANNOTATION} annotation, which the input's approvals.requireRequester requires; no approval issue is opened until it names the requester"
                    ),
                }),
                ..decide::from_recorded(gate, recorded, call.now)
            },
            sync: Sync::Synced {
                reason: MISSING_REQUESTER,
                message: "GitHub is not read until the gate names its requester".into(),
            },
        },
        None => match tokio::time::timeout(
            budget(call),
            sync(call, github, env_token, gate, recorded, policy).instrument(span.get().clone()),
        )
        .await
        .unwrap_or_else(|_| {
            Err(SyncError::GitHub(GitHubError::Timeout(format!(
                "GitHub calls took longer than the {} ms this call allows",
                budget(call).as_millis()
            ))))
        }) {
            Ok(decision) => Outcome {
                sync: Sync::Synced {
                    reason: "Synced",
                    message: match &decision.issue {
                        Some(i) => format!("read approval issue #{}", i.number),
                        None => "no approval issue could be opened before the deadline".into(),
                    },
                },
                decision,
            },
            Err(e) => Outcome {
                decision: decide::from_recorded(gate, recorded, call.now),
                sync: Sync::Failed {
                    reason: e.reason(),
                    message: e.to_string(),
                    retry_after: e.retry_after(),
                },
            },
        },
    }
}

/// The reason of a gate that waits for its `requested-by` annotation.
const MISSING_REQUESTER: &str = "MissingRequester";

/// Why GitHub could not be synced.
#[derive(Debug, thiserror::Error)]
enum SyncError {
    // Not Fatal: a Fatal result stops the whole pipeline and applies nothing, while a
    // gate without a repository only has to stay pending (gates approved by policy
    // need no repository), and the fix is one Input field.
    #[error("input.github.repository: is required for gates that need approval")]
    MissingRepository,
    #[error(
        "the function's GitHub login changed from {was:?} to {now:?}; its issues are listed again on the next call"
    )]
    IdentityChanged { was: String, now: String },
    #[error("{0}")]
    GitHub(#[from] GitHubError),
}

impl SyncError {
    fn reason(&self) -> &'static str {
        match self {
            SyncError::MissingRepository => "MissingRepository",
            SyncError::IdentityChanged { .. } => "IdentityChanged",
            SyncError::GitHub(e) => e.reason(),
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            SyncError::MissingRepository | SyncError::IdentityChanged { .. } => None,
            SyncError::GitHub(e) => e.retry_after(),
        }
    }
}

/// The approvals repository with the step's credentials, and who the function is there.
async fn open_repository(
    call: &Call<'_>,
    connector: &dyn Connector,
    env_token: Option<&Secret>,
) -> Result<(std::sync::Arc<dyn GitHub>, Identity), SyncError> {
    let github_input = &call.input.github;
    let repository = github_input
        .repository
        .as_deref()
        .ok_or(SyncError::MissingRepository)?;
    let (owner, repo) = repository
        .split_once('/')
        .ok_or(SyncError::MissingRepository)?;
    let name = &github_input.credentials_name;
    let data: Option<BTreeMap<String, Vec<u8>>> = request::get_credential_data(call.request, name)
        .map(|d| d.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    // The local render's `GITHUB_TOKEN` is the user's own: it goes only to GitHub.com or
    // a loopback host, never to a host a Composition names.
    let env_token = match env_token {
        Some(_) if !crate::input::env_token_may_go_to(&github_input.api_url) => {
            if data.as_ref().is_none_or(BTreeMap::is_empty) {
                return Err(GitHubError::MissingCredentials(format!(
                    "the pipeline step has no credentials named {name:?}, and GITHUB_TOKEN is sent only to https://api.github.com or a loopback host, not to {}: pass the credentials with --function-credentials",
                    github_input.api_url
                ))
                .into());
            }
            None
        }
        token => token,
    };
    let credentials = Credentials::from_data(
        name,
        data.as_ref(),
        env_token.map(|t| t.expose().to_owned()),
    )?;
    let target = Target {
        api_url: github_input.api_url.clone(),
        owner: owner.to_owned(),
        repo: repo.to_owned(),
    };
    let gh = connector.connect(&target, &credentials).await?;
    let identity = gh.identity().await?;
    Ok((gh, identity))
}

/// A gate approved by policy while an approval issue was recorded for it (approval
/// stopped being required, or a new artifact needs none): closes the open approval
/// issues of this XR, with a comment saying why, so nobody answers a request that no
/// longer exists. Returns the issues closed. The approval does not wait on this.
async fn close_unneeded_issues(
    call: &Call<'_>,
    connector: &dyn Connector,
    env_token: Option<&Secret>,
    gate: &Gate<'_>,
    recorded: &GateStatus,
) -> Result<Vec<u64>, SyncError> {
    let (gh, identity) = open_repository(call, connector, env_token).await?;
    let found = find_issues(gh.as_ref(), gate, recorded, &identity, true, call.now).await?;
    // An issue that already carries a verdict for this key keeps it (the function wrote it,
    // then could not close the issue): a retirement marker after it would erase it.
    let decided = matches!(
        issue::written_verdict(&found.comments, &identity, gate.key),
        Some(issue::WrittenVerdict::Decided(..))
    );
    let mut actions = Vec::new();
    let mut closed = Vec::new();
    let open = found
        .issue
        .iter()
        .filter(|_| !decided)
        .chain(&found.duplicates)
        .map(|i| (i, gate.key))
        .chain(found.superseded.iter().map(|(i, k)| (i, k.as_str())))
        .filter(|(i, _)| i.state == IssueState::Open);
    for (old, key) in open {
        decide::retire(
            &mut actions,
            old,
            &found.retired,
            || issue::not_required_comment(key),
            crate::github::CloseReason::NotPlanned,
        );
        closed.push(old.number);
    }
    execute(gh.as_ref(), &actions).await?;
    Ok(closed)
}

/// Reads the approval issue, decides, and carries the decision's actions out.
async fn sync(
    call: &Call<'_>,
    connector: &dyn Connector,
    env_token: Option<&Secret>,
    gate: &Gate<'_>,
    recorded: &GateStatus,
    policy: &Policy,
) -> Result<Decision, SyncError> {
    let (gh, identity) = open_repository(call, connector, env_token).await?;
    let github_input = &call.input.github;
    let list = must_list(gate, recorded, call.now, github_input.poll_interval.0);
    let found = find_issues(gh.as_ref(), gate, recorded, &identity, list, call.now).await?;
    // An issue opened by a call that failed before binding it: bind it now.
    if let (Some(issue), Some(binding), true) = (&found.issue, &found.binding, found.adopt) {
        gh.add_comment(
            issue.number,
            &issue::binding_comment(gate, binding.start, binding.deadline),
        )
        .await?;
    }
    let candidates = decide::candidates(gate, policy, &identity, &found.comments, &found.events);
    let (authorized, unresolved) = authorize(gh.as_ref(), policy, candidates).await?;
    let observed = Observed {
        identity: &identity,
        issue: found.issue.as_ref(),
        binding: found.binding.as_ref(),
        comments: &found.comments,
        events: &found.events,
        tampering: &found.tampering,
        blocked: found.blocked,
        duplicates: &found.duplicates,
        superseded: &found.superseded,
        retired: &found.retired,
        authorized: &authorized,
        unresolved: &unresolved,
    };
    let labels = &github_input.labels;
    let decision = decide::decide(gate, recorded, policy, &observed, labels, call.now);
    // Before opening an issue: a listing by a stale login (the account or App was renamed
    // since it was read) finds none of the function's issues.
    if decision
        .actions
        .iter()
        .any(|a| matches!(a, decide::Action::Open(_)))
    {
        let fresh = gh.refresh_identity().await?;
        if fresh.login != identity.login {
            return Err(SyncError::IdentityChanged {
                was: identity.login.clone(),
                now: fresh.login,
            });
        }
    }
    let Some(opened) = execute(gh.as_ref(), &decision.actions).await? else {
        return Ok(decision);
    };
    // The issue exists now: bind it to this gate with the start and deadline decided
    // before it was opened, then decide again on it, which supersedes older issues.
    gh.add_comment(
        opened.number,
        &issue::binding_comment(gate, decision.start, decision.deadline),
    )
    .await?;
    let binding = issue::Binding {
        key: gate.key.to_owned(),
        uid: gate.uid.to_owned(),
        start: decision.start,
        deadline: decision.deadline,
    };
    let observed = Observed {
        issue: Some(&opened),
        binding: Some(&binding),
        comments: &[],
        events: &[],
        ..observed
    };
    let started = GateStatus {
        created_timestamp: Some(decision.start),
        gate_key: Some(gate.key.to_owned()),
        ..if recorded.gate_key.as_deref() == Some(gate.key) {
            recorded.clone()
        } else {
            GateStatus::default()
        }
    };
    let decision = decide::decide(gate, &started, policy, &observed, labels, call.now);
    execute(gh.as_ref(), &decision.actions).await?;
    Ok(decision)
}

/// The issues read for a gate.
struct Found {
    issue: Option<Issue>,
    binding: Option<issue::Binding>,
    adopt: bool,
    comments: Vec<Comment>,
    events: Vec<IssueEvent>,
    duplicates: Vec<Issue>,
    superseded: Vec<(Issue, String)>,
    retired: BTreeSet<u64>,
    tampering: Vec<String>,
    blocked: bool,
}

/// For how long after a gate starts every poll lists the gate label's issues: the time in
/// which a duplicate can appear (two calls opening the issue at once, a status write
/// lost right after opening it).
const LIST_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// After [`LIST_WINDOW`], a gate still lists once in this period, at a phase taken from
/// its key so that gates do not list together.
const LIST_EVERY_SECS: i64 = 3600;

/// Whether this poll lists every issue carrying the gate label from the start, rather
/// than first reading the recorded issue by number. A listing costs one request per 100
/// approval issues in the repository (closed ones included), and every gate's listing
/// goes to the same endpoint, which GitHub limits to 900 requests a minute: a pending gate
/// lists when it has no issue recorded for its key, in its first [`LIST_WINDOW`], and once
/// an hour (and, decided in [`find_issues`], when its issue is younger than
/// [`LIST_WINDOW`], gone, re-keyed or retired).
fn must_list(
    gate: &Gate<'_>,
    recorded: &GateStatus,
    now: chrono::DateTime<chrono::Utc>,
    poll: Duration,
) -> bool {
    if recorded.gate_key.as_deref() != Some(gate.key) || recorded.issue.is_none() {
        return true;
    }
    // Young gate: its issue is young too, and find_issues would list after reading it.
    if recorded
        .created_timestamp
        .is_none_or(|start| now - start < LIST_WINDOW)
    {
        return true;
    }
    let phase = gate
        .key
        .bytes()
        .fold(0i64, |h, b| (h * 31 + i64::from(b)) % LIST_EVERY_SECS);
    let period = |t: i64| (t - phase).div_euclid(LIST_EVERY_SECS);
    let poll = i64::try_from(poll.as_secs()).unwrap_or(i64::MAX).max(1);
    period(now.timestamp()) != period(now.timestamp().saturating_sub(poll))
}

/// Reads what [`select::select`] chooses from: the function's own issues that may carry
/// this gate (from the listing of the issues it opened when `list`, else only if the recorded issue
/// is gone, no longer bound to the key, younger than [`LIST_WINDOW`] or retired) plus
/// the issue recorded in status, each with its comments; then the chosen issue's events.
async fn find_issues(
    gh: &dyn GitHub,
    gate: &Gate<'_>,
    recorded: &GateStatus,
    identity: &Identity,
    list: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Found, GitHubError> {
    let same_key = recorded.gate_key.as_deref() == Some(gate.key);
    let recorded_number = recorded
        .issue
        .as_ref()
        .map(|i| i.number)
        .filter(|_| same_key);
    let adoption = select::Adoption {
        recorded_start: recorded.created_timestamp.filter(|_| same_key),
        now,
        timeout: chrono::TimeDelta::hours(i64::from(gate.spec.timeout_hours)),
    };
    let mut list = list;
    let mut by_number: Option<Option<Issue>> = None;
    let (reads, selection) = loop {
        let mut candidates: Vec<Issue> = Vec::new();
        if list {
            for issue in gh.list_own_issues(&identity.login).await? {
                if select::is_candidate(gate, &issue, identity, recorded_number)
                    && !candidates.iter().any(|i| i.number == issue.number)
                {
                    candidates.push(issue);
                }
            }
        }
        // The recorded issue may have lost the label; read it by number too (once).
        if let Some(number) = recorded_number
            && !candidates.iter().any(|i| i.number == number)
        {
            let issue = match &by_number {
                Some(known) => known.clone(),
                None => by_number.insert(gh.get_issue(number).await?).clone(),
            };
            if let Some(issue) = issue.filter(|i| select::is_own(i, identity)) {
                candidates.push(issue);
            }
        }
        // Unlisted, the recorded issue alone is enough only once it is old enough that
        // no duplicate of it is expected.
        if !list
            && candidates
                .first()
                .is_none_or(|i| now - i.created_at < LIST_WINDOW)
        {
            list = true;
            continue;
        }
        candidates.sort_by_key(|i| i.number);
        let mut reads = Vec::with_capacity(candidates.len());
        for issue in candidates {
            let comments = gh.list_comments(issue.number).await?;
            reads.push(select::Read { issue, comments });
        }
        let selection = select::select(gate, identity, &reads, recorded_number, &adoption);
        // The recorded issue is no longer this key's, or was retired: the issue to
        // follow, and any verdict on it, is among the others.
        if selection.chosen.is_none() && !list {
            list = true;
            continue;
        }
        break (reads, selection);
    };
    let mut selection = selection;
    let mut events = match selection.chosen {
        Some(index) => gh.list_events(reads[index].issue.number).await?,
        None => Vec::new(),
    };
    if !select::confirm_adoption(&mut selection, &reads, &events) {
        events.clear();
    }
    let mut found = Found {
        issue: None,
        binding: selection.binding,
        adopt: selection.adopt,
        comments: Vec::new(),
        events,
        duplicates: Vec::new(),
        superseded: Vec::new(),
        retired: selection.retired,
        tampering: selection.tampering,
        blocked: selection.blocked,
    };
    for (index, read) in reads.into_iter().enumerate() {
        if Some(index) == selection.chosen {
            found.issue = Some(read.issue);
            found.comments = read.comments;
        } else if selection.duplicates.contains(&index) {
            found.duplicates.push(read.issue);
        } else if let Some((_, key)) = selection.superseded.iter().find(|(i, _)| *i == index) {
            found.superseded.push((read.issue, key.clone()));
        }
    }
    Ok(found)
}

/// Resolves team membership and repository permission for the candidate logins: those
/// found authorized, and those whose lookup failed (with why). A failed lookup leaves
/// that login unresolved for this poll rather than failing the sync, so the others'
/// answers (a listed approver's veto) are still read; a rate limit still stops the sync,
/// so that the gate waits for it.
async fn authorize(
    gh: &dyn GitHub,
    policy: &Policy,
    candidates: BTreeSet<String>,
) -> Result<(BTreeSet<String>, BTreeMap<String, String>), GitHubError> {
    let mut authorized = BTreeSet::new();
    let mut unresolved = BTreeMap::new();
    let mut settle = |login: &str, answer: Result<bool, GitHubError>| match answer {
        Ok(yes) => Ok(yes),
        Err(limited @ GitHubError::RateLimited { .. }) => Err(limited),
        Err(e) => {
            unresolved.insert(login.to_owned(), e.to_string());
            Ok(false)
        }
    };
    'login: for login in candidates {
        for team in &policy.teams {
            if let Some((org, slug)) = team.split_once('/')
                && settle(&login, gh.is_team_member(org, slug, &login).await)?
            {
                authorized.insert(login);
                continue 'login;
            }
        }
        if let Some(min) = policy.min_permission {
            let answer = gh
                .permission(&login)
                .await
                .map(|p| p.is_some_and(|p| p >= min));
            if settle(&login, answer)? {
                authorized.insert(login);
                continue 'login;
            }
        }
    }
    authorized.iter().for_each(|login| {
        unresolved.remove(login);
    });
    Ok((authorized, unresolved))
}

/// Carries the actions out in order; returns the issue opened, if one was.
async fn execute(gh: &dyn GitHub, actions: &[Action]) -> Result<Option<Issue>, GitHubError> {
    let mut opened = None;
    for action in actions {
        match action {
            Action::Open(new) => {
                opened = Some(gh.open_issue(new).await?);
                crate::metrics::record_issue_opened();
            }
            Action::Comment { number, body } => gh.add_comment(*number, body).await?,
            Action::Close { number, reason } => gh.close_issue(*number, reason.clone()).await?,
            Action::Reopen { number } => gh.reopen_issue(*number).await?,
        }
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::decide::tests::{KEY, spec};
    use super::*;
    use crate::xr::gate::IssueRef;
    use chrono::{TimeDelta, TimeZone, Utc};

    #[test]
    fn a_pending_gate_lists_without_an_issue_for_its_key_and_once_an_hour() {
        let spec = spec();
        let gate = Gate {
            spec: &spec,
            key: KEY,
            namespace: "platform-system",
            name: "gate",
            uid: "uid",
            requester: None,
        };
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 0).unwrap();
        let poll = Duration::from_secs(30);
        let recorded = GateStatus {
            gate_key: Some(KEY.into()),
            created_timestamp: Some(start),
            issue: Some(IssueRef {
                number: 1,
                url: "https://github.com/acme/approvals/issues/1".into(),
            }),
            ..GateStatus::default()
        };
        assert!(must_list(&gate, &GateStatus::default(), start, poll));
        let other_key = GateStatus {
            gate_key: Some("ffffffffffff".into()),
            ..recorded.clone()
        };
        assert!(must_list(
            &gate,
            &other_key,
            start + TimeDelta::hours(5),
            poll
        ));
        let no_issue = GateStatus {
            issue: None,
            ..recorded.clone()
        };
        assert!(must_list(
            &gate,
            &no_issue,
            start + TimeDelta::hours(5),
            poll
        ));
        assert!(must_list(
            &gate,
            &recorded,
            start + TimeDelta::minutes(9),
            poll
        ));
        // After the first ten minutes: once in every hour of polls, whichever hour.
        for hour in [1, 7, 30] {
            let from = start + TimeDelta::hours(hour);
            let listings = (0..120)
                .filter(|i| must_list(&gate, &recorded, from + TimeDelta::seconds(30 * i), poll))
                .count();
            assert_eq!(listings, 1, "hour {hour}");
        }
        // A longer poll interval still lists once an hour.
        let slow = Duration::from_secs(300);
        let listings = (0..12)
            .filter(|i| {
                must_list(
                    &gate,
                    &recorded,
                    start + TimeDelta::hours(2) + TimeDelta::seconds(300 * i),
                    slow,
                )
            })
            .count();
        assert_eq!(listings, 1);
    }
}
