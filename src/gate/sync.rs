//! The gate's GitHub shell: open the approvals repository with the step's credentials,
//! read what the decision needs (the function's own issues for this gate, their comments,
//! the chosen issue's events, who is authorized), decide, and write what the decision
//! asks for. Which issue counts and what to retire are decided by the pure modules
//! ([`super::select`], [`super::decide`]); this module only fetches and executes. The
//! listing and the reads of an unchanged issue come from the repository's shared view
//! ([`crate::github::view`]); a decision that would change anything is taken again on
//! fresh reads.

use std::collections::{BTreeMap, BTreeSet};

use function_sdk_rust::request;

use crate::call::Call;
use crate::github::{
    Comment, Credentials, GitHubError, Identity, Issue, IssueEvent, Reads, Repo, Repos, Secret,
    Target,
};
use crate::xr::gate::{GateState, GateStatus};

use super::decide::{self, Action, Decision, Gate, Observed, Policy};
use super::{issue, select};

/// How this call reaches GitHub: the connector, and the local render's own token.
#[derive(Clone, Copy)]
pub(super) struct Reach<'a> {
    pub(super) repos: &'a Repos,
    pub(super) env_token: Option<&'a Secret>,
}

/// Why GitHub could not be synced.
#[derive(Debug, thiserror::Error)]
pub(super) enum SyncError {
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
    pub(super) fn reason(&self) -> &'static str {
        match self {
            SyncError::MissingRepository => "MissingRepository",
            SyncError::IdentityChanged { .. } => "IdentityChanged",
            SyncError::GitHub(e) => e.reason(),
        }
    }

    pub(super) fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            SyncError::MissingRepository | SyncError::IdentityChanged { .. } => None,
            SyncError::GitHub(e) => e.retry_after(),
        }
    }
}

/// The approvals repository with the step's credentials, and who the function is there.
async fn open_repository(call: &Call<'_>, reach: Reach<'_>) -> Result<(Repo, Identity), SyncError> {
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
    let env_token = match reach.env_token {
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
    let gh = reach.repos.open(&target, &credentials).await?;
    let identity = gh.identity().await?;
    Ok((gh, identity))
}

/// A gate approved by policy while an approval issue was recorded for it (approval
/// stopped being required, or a new artifact needs none): closes the open approval
/// issues of this XR, with a comment saying why, so nobody answers a request that no
/// longer exists. Returns the issues closed. The approval does not wait on this.
pub(super) async fn close_unneeded_issues(
    call: &Call<'_>,
    reach: Reach<'_>,
    gate: &Gate<'_>,
    recorded: &GateStatus,
) -> Result<Vec<u64>, SyncError> {
    let (gh, identity) = open_repository(call, reach).await?;
    let mut reads = gh
        .remembered(&identity, call.now, call.input.github.look_every())
        .await?;
    loop {
        let found = find_issues(&reads, gate, recorded, &identity, call.now).await?;
        // An issue that already carries a verdict for this key keeps it (the function wrote
        // it, then could not close the issue): a retirement marker after it would erase it.
        let decided = matches!(
            issue::written_verdict(&found.comments, &identity, gate.key),
            Some(issue::WrittenVerdict::Decided(..))
        );
        let (actions, closed) = decide::retire_unneeded(
            gate.key,
            found.issue.as_ref().filter(|_| !decided),
            &found.duplicates,
            &found.superseded,
            &found.retired,
        );
        if !actions.is_empty() && reads.remembered() {
            reads = gh.fresh(&identity, call.now).await?;
            continue;
        }
        execute(&gh, &actions).await?;
        return Ok(closed);
    }
}

/// Reads the approval issue, decides, and carries the decision's actions out.
pub(super) async fn sync(
    call: &Call<'_>,
    reach: Reach<'_>,
    gate: &Gate<'_>,
    recorded: &GateStatus,
    policy: &Policy,
) -> Result<Decision, SyncError> {
    // 2. Read GitHub.
    let (gh, identity) = open_repository(call, reach).await?;
    let github_input = &call.input.github;
    let labels = &github_input.labels;
    let mut reads = gh
        .remembered(&identity, call.now, call.input.github.look_every())
        .await?;
    let (found, (authorized, unresolved, memberships), decision) = loop {
        let found = find_issues(&reads, gate, recorded, &identity, call.now).await?;
        let candidates =
            super::answers::candidates(gate, policy, &identity, &found.comments, &found.events);
        let people = authorize(&gh, policy, candidates).await?;
        let observed = observed(&identity, &found, &people);
        // 3. Decide (pure).
        let decision = decide::decide(gate, recorded, policy, &observed, labels, call.now);
        // The view only keeps a gate waiting: a verdict, or a write (opening an issue
        // included), is taken again on what GitHub says now.
        if (found.adopt || consequential(&decision)) && reads.remembered() {
            reads = gh.fresh(&identity, call.now).await?;
            continue;
        }
        break (found, people, decision);
    };
    // An issue opened by a call that failed before binding it: bind it now.
    if let (Some(issue), Some(binding), true) = (&found.issue, &found.binding, found.adopt) {
        gh.add_comment(
            issue.number,
            &issue::binding_comment(gate, binding.start, binding.deadline),
        )
        .await?;
    }
    let people = (authorized, unresolved, memberships);
    let observed = observed(&identity, &found, &people);
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
    // 4. Write GitHub; an issue just opened is bound, then decided on again.
    let Some(opened) = execute(&gh, &decision.actions).await? else {
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
    execute(&gh, &decision.actions).await?;
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

/// What was read, as the decision takes it.
fn observed<'a>(
    identity: &'a Identity,
    found: &'a Found,
    (authorized, unresolved, memberships): &'a Authorized,
) -> Observed<'a> {
    Observed {
        identity,
        issue: found.issue.as_ref(),
        binding: found.binding.as_ref(),
        comments: &found.comments,
        events: &found.events,
        tampering: &found.tampering,
        blocked: found.blocked,
        duplicates: &found.duplicates,
        superseded: &found.superseded,
        retired: &found.retired,
        authorized,
        unresolved,
        memberships,
    }
}

/// Whether a decision changes anything: a verdict, or a write to GitHub.
fn consequential(decision: &Decision) -> bool {
    decision.state != GateState::Pending || !decision.actions.is_empty()
}

/// Reads what [`select::select`] chooses from: the function's own issues that may carry
/// this gate (from the repository's view, brought up to date first) plus the issue
/// recorded in status, each with its comments; then the chosen issue's events.
async fn find_issues(
    gh: &Reads<'_>,
    gate: &Gate<'_>,
    recorded: &GateStatus,
    identity: &Identity,
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
    let mut candidates: Vec<Issue> = Vec::new();
    let tags = select::wanted_tags(gate);
    for issue in gh.tagged(&tags).await? {
        if select::is_candidate(gate, &issue, identity, recorded_number)
            && !candidates.iter().any(|i| i.number == issue.number)
        {
            candidates.push(issue);
        }
    }
    // The recorded issue is read by number too: the view may not hold it (yet).
    if let Some(number) = recorded_number
        && !candidates.iter().any(|i| i.number == number)
        && let Some(issue) = gh
            .issue(number)
            .await?
            .filter(|i| select::is_own(i, identity))
    {
        candidates.push(issue);
    }
    candidates.sort_by_key(|i| i.number);
    let mut reads = Vec::with_capacity(candidates.len());
    for listed in candidates {
        // Read by number: a listing does not say who closed an issue, and an unchanged
        // issue is answered from the view.
        let Some(issue) = gh.issue(listed.number).await? else {
            continue;
        };
        let comments = gh.comments(issue.number).await?;
        reads.push(select::Read { issue, comments });
    }
    let mut selection = select::select(gate, identity, &reads, recorded_number, &adoption);
    let mut events = match selection.chosen {
        Some(index) => gh.events(reads[index].issue.number).await?,
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
    gh: &Repo,
    policy: &Policy,
    candidates: BTreeSet<String>,
) -> Result<Authorized, GitHubError> {
    let mut authorized = BTreeSet::new();
    let mut unresolved = BTreeMap::new();
    let mut memberships: Memberships = BTreeMap::new();
    // With named rules, every team is asked: an approver counts toward each rule whose
    // team they are in. Without, the first team that says yes is enough.
    let every_team = !policy.rules.is_empty();
    let everyone: Vec<String> = candidates.iter().cloned().collect();
    let mut settle = |login: &str, answer: Result<bool, GitHubError>| match answer {
        Ok(yes) => Ok(yes),
        Err(limited @ GitHubError::RateLimited { .. }) => Err(limited),
        Err(e) => {
            unresolved.insert(login.to_owned(), e.to_string());
            Ok(false)
        }
    };
    'login: for login in candidates {
        for team in policy.all_teams() {
            if let Some((org, slug)) = team.split_once('/')
                && settle(&login, gh.is_team_member(org, slug, &login).await)?
            {
                memberships
                    .entry(login.clone())
                    .or_default()
                    .insert(team.to_ascii_lowercase());
                authorized.insert(login.clone());
                if !every_team {
                    continue 'login;
                }
            }
        }
        if authorized.contains(&login) {
            continue 'login;
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
    // While a freeze window is open: who is in a team allowed to override it (that alone
    // does not make anyone an approver).
    let override_teams: Vec<&String> = match (&policy.frozen, &policy.freeze_override) {
        (Some(_), Some(allowed)) => allowed.teams.iter().collect(),
        _ => Vec::new(),
    };
    let approvers: Vec<String> = everyone
        .into_iter()
        .filter(|l| authorized.contains(l) || policy.lists(l))
        .collect();
    for login in approvers {
        for team in &override_teams {
            let known = memberships
                .get(&login)
                .is_some_and(|t| t.contains(&team.to_ascii_lowercase()));
            if !known
                && let Some((org, slug)) = team.split_once('/')
                && settle(&login, gh.is_team_member(org, slug, &login).await)?
            {
                memberships
                    .entry(login.clone())
                    .or_default()
                    .insert(team.to_ascii_lowercase());
            }
        }
    }
    authorized.iter().for_each(|login| {
        unresolved.remove(login);
    });
    Ok((authorized, unresolved, memberships))
}

/// Logins found authorized, logins whose lookup failed (with why), and the teams each
/// login was found in (lower-case).
type Authorized = (BTreeSet<String>, BTreeMap<String, String>, Memberships);

/// The approver teams (lower-case `org/slug`) each login (lower-case) was found in.
pub(super) type Memberships = BTreeMap<String, BTreeSet<String>>;

/// Carries the actions out in order; returns the issue opened, if one was.
async fn execute(gh: &Repo, actions: &[Action]) -> Result<Option<Issue>, GitHubError> {
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
