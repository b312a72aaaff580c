//! The gate's reads: open the approvals repository with the step's credentials, and read
//! what the decision takes, once, into one owned [`Read`]: the function's own issues that
//! may carry this gate (each with its comments, and the events of those that name or are
//! bound to its key), and what GitHub says about who may answer.
//!
//! Reads only; chooses nothing (which issue counts is [`super::select`]'s, at the decide
//! step). Remembered or fresh is the caller's choice, through the [`Reads`] it passes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeDelta;
use function_sdk_rust::request;

use crate::call::Call;
use crate::github::change::{MAX_CHANGE_COMMITS, Source};
use crate::xr::change::Change;

use super::change::{ChangeRead, ChangeView};
use crate::github::{
    Comment, Credentials, Edits, GitHubError, Identity, Login, Reads, Repo, Repos, Secret, Target,
};

use crate::names;

use super::marker;
use super::model::{Gate, IssueRead, People, Read, SyncError};
use super::policy::Policy;
use super::select;
use super::situation::Situation;

/// How this call reaches GitHub: the repositories, and the local render's own token.
#[derive(Clone, Copy)]
pub struct Reach<'a> {
    /// The repositories the function reaches.
    pub repos: &'a Repos,
    /// `GITHUB_TOKEN`, for the local render only.
    pub env_token: Option<&'a Secret>,
    /// Where notifications leave from.
    pub notifier: &'a crate::notify::deliver::Notifier,
}

/// How the server reaches approvals repositories: GitHub's REST API sparing the rate
/// limit, one shared view per repository holding at most `view_bytes` in all, gates
/// finding their issues by [`select::tags`].
pub fn server_repos(view_bytes: usize) -> Repos {
    Repos::new(crate::github::default_connector(), select::tags).with_views(view_bytes)
}

/// The approvals repository with the step's credentials, its writes charged to the
/// budget of the gates of `namespace`, and who the function is there.
pub async fn open(
    call: &Call<'_>,
    reach: Reach<'_>,
    namespace: &str,
) -> Result<(Repo, Identity), SyncError> {
    let github_input = &call.input.github;
    let (owner, repo) = github_input
        .repository
        .as_deref()
        .and_then(|r| r.split_once('/'))
        .ok_or(SyncError::MissingRepository)?;
    let credentials = credentials(call, reach, &github_input.credentials_name)?;
    let target = Target {
        api_url: github_input.api_url.clone(),
        owner: owner.to_owned(),
        repo: repo.to_owned(),
    };
    let gh = reach
        .repos
        .open(&target, &credentials)
        .await?
        .charging(namespace, github_input.writes_per_namespace_per_hour);
    let identity = gh.identity().await?;
    Ok((gh, identity))
}

/// The pipeline step's credentials named `name` (or, in a local render, `GITHUB_TOKEN`).
fn credentials(call: &Call<'_>, reach: Reach<'_>, name: &str) -> Result<Credentials, SyncError> {
    let github_input = &call.input.github;
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
    Ok(Credentials::from_data(
        name,
        data.as_ref(),
        env_token.map(|t| t.expose().to_owned()),
    )?)
}

/// The change the gate names (`spec.change`), from its source repository with the
/// Input's `change.credentialsName` (default the approvals repository's): the commits
/// between the revision the target holds and the gate's, or the gate's own commit when the
/// target holds none. `None` when the gate names no change. Never fails: what GitHub cannot
/// say (an unknown revision, a failed or slow request) is [`ChangeRead::Unreadable`].
pub async fn change(
    call: &Call<'_>,
    reach: Reach<'_>,
    gate: &Gate,
    situation: &Situation,
) -> Option<ChangeRead> {
    let change = gate.spec.change.as_ref()?;
    let base = situation.target_revision.as_deref();
    Some(match read_change(call, reach, change, base).await {
        Ok(read) => read,
        Err(e) => ChangeRead::Unreadable(format!(
            "GitHub could not say what {} holds ({e})",
            change.repository
        )),
    })
}

async fn read_change(
    call: &Call<'_>,
    reach: Reach<'_>,
    change: &Change,
    base: Option<&str>,
) -> Result<ChangeRead, SyncError> {
    let name = call.input.change.credentials_name.as_deref();
    let credentials = credentials(
        call,
        reach,
        name.unwrap_or(&call.input.github.credentials_name),
    )?;
    let target = Target {
        api_url: call.input.github.api_url.clone(),
        owner: change.owner().to_owned(),
        repo: change.name().to_owned(),
    };
    let repo = reach.repos.source(&target, &credentials).await?;
    let head = change.revision.as_str();
    let Some(base) = base else {
        return Ok(match repo.commit(head).await? {
            Some(commit) => {
                let mut view = ChangeView::single(change, commit);
                with_pulls(&repo, &mut view).await;
                ChangeRead::Read(view)
            }
            None => ChangeRead::Unreadable(format!(
                "GitHub knows no commit {head} in {}",
                change.repository
            )),
        });
    };
    let unknown = || {
        ChangeRead::Unreadable(format!(
            "GitHub cannot compare {base} with {head} in {} (one of them is unknown to it)",
            change.repository
        ))
    };
    let Some(comparison) = repo.compare(base, head, MAX_CHANGE_COMMITS).await? else {
        return Ok(unknown());
    };
    // A head behind its base goes back: the commits it takes out are base's ahead of it.
    let back = if comparison.status == "behind" {
        match repo.compare(head, base, MAX_CHANGE_COMMITS).await? {
            Some(back) => Some(back),
            None => return Ok(unknown()),
        }
    } else {
        None
    };
    let mut view = ChangeView::compared(change, base, comparison, back);
    with_pulls(&repo, &mut view).await;
    Ok(ChangeRead::Read(view))
}

/// Adds the pull requests the listed commits came from; GitHub failing to say leaves them
/// out (they tell approvers more, they decide nothing).
async fn with_pulls(repo: &Source, view: &mut ChangeView) {
    let listed: Vec<String> = view
        .commits
        .iter()
        .take(super::change::LISTED)
        .map(|c| c.sha.clone())
        .collect();
    match repo.pull_requests(&listed).await {
        Ok(pulls) => view.pulls = pulls,
        Err(e) => tracing::info!(error = %e, "cannot read the change's pull requests"),
    }
}

/// Reads what the decision takes: the candidates (from the repository's view when `reads`
/// may remember, else from GitHub) plus the issue recorded for this key, each with its
/// comments; the events of those that may be this key's; and who among the people who
/// answered may approve.
pub async fn read(
    reads: &Reads<'_>,
    repo: &Repo,
    identity: &Identity,
    gate: &Gate,
    recorded: Vec<u64>,
    policy: &Policy,
    situation: &Situation,
) -> Result<Read, GitHubError> {
    let (issues, complete) = issues(reads, identity, gate, &recorded).await?;
    let keyed = issues
        .iter()
        .filter(|i| select::may_be_this_key(gate, identity, i, &recorded));
    let candidates = super::answers::candidates(policy, situation, identity, keyed);
    let mut people = authorize(repo, policy, situation, candidates).await?;
    requester(repo, identity, gate, &issues, &mut people).await?;
    Ok(Read {
        identity: identity.clone(),
        recorded,
        issues,
        people,
        complete,
        change: None,
    })
}

/// The function's issues that may carry this gate, as [`read`] reads them, without asking
/// who may answer.
pub async fn issues_only(
    reads: &Reads<'_>,
    identity: &Identity,
    gate: &Gate,
    recorded: Vec<u64>,
) -> Result<Read, GitHubError> {
    let (issues, complete) = issues(reads, identity, gate, &recorded).await?;
    Ok(Read {
        identity: identity.clone(),
        recorded,
        issues,
        people: People::default(),
        complete,
        change: None,
    })
}

/// The function's own issues that may carry this gate, read by number (a listing does
/// not say who closed an issue, and an unchanged issue is answered from the view), and
/// whether every issue of the function was listed to find them.
pub async fn issues(
    reads: &Reads<'_>,
    identity: &Identity,
    gate: &Gate,
    recorded: &[u64],
) -> Result<(Vec<IssueRead>, bool), GitHubError> {
    let mut numbers: BTreeSet<u64> = BTreeSet::new();
    let tagged = reads.tagged(&select::wanted_tags(gate)).await?;
    for issue in tagged.issues {
        if select::is_candidate(gate, &issue, identity, recorded) {
            numbers.insert(issue.number);
        }
    }
    // The recorded issues are read by number too: the view may not hold them (yet), and
    // an issue once recorded for the key never silently leaves it.
    numbers.extend(recorded.iter().copied());
    let mut read = Vec::with_capacity(numbers.len());
    for number in numbers {
        let Some(issue) = reads
            .issue(number)
            .await?
            .filter(|i| select::is_own(i, identity))
        else {
            continue;
        };
        let comments = reads.comments(number).await?;
        read.push(IssueRead {
            issue,
            comments,
            events: Vec::new(),
            deletions: Vec::new(),
            text_edit: None,
            more_deletions: false,
        });
    }
    for issue in &mut read {
        if select::may_be_this_key(gate, identity, issue, recorded) {
            issue.events = reads.events(issue.issue.number).await?;
            let edits = reads.edits(issue.issue.number).await?;
            as_recorded(&mut issue.comments, &edits);
            issue.deletions = edits.deletions;
            issue.text_edit = edits.text;
            issue.more_deletions = edits.more_deletions;
        }
    }
    Ok((read, tagged.complete))
}

/// Dates each comment GitHub records as edited by its last edit, at least a nanosecond
/// after its creation: an edit within the second a comment was posted leaves the REST
/// timestamps equal, and an edited comment is no answer and no record of the function,
/// whatever its timestamps say.
fn as_recorded(comments: &mut [Comment], edits: &Edits) {
    for comment in comments {
        if let Some(at) = edits.comments.get(&comment.id) {
            let after_creation = comment.created_at + TimeDelta::nanoseconds(1);
            comment.updated_at = comment.updated_at.max(*at).max(after_creation);
        }
    }
}

/// The requester's account: as the key's bindings sealed it (no request), else as
/// GitHub names the `requested-by` login now. A login that names no account holds the
/// gate's approval (nobody can tell who the requester is), unless a binding sealed it. An
/// annotation that names another account than the one sealed (not a rename: another id)
/// is ignored, and the sealed account stays the requester.
async fn requester(
    repo: &Repo,
    identity: &Identity,
    gate: &Gate,
    issues: &[IssueRead],
    people: &mut People,
) -> Result<(), GitHubError> {
    let sealed: Vec<Identity> = issues
        .iter()
        .filter_map(|i| marker::binding(&i.comments, identity))
        .filter(|b| gate.key.is(&b.key))
        .filter_map(|b| b.requester)
        .collect();
    people.sealed_requesters = sealed.iter().map(|r| r.id).collect();
    let Some(login) = &gate.requester else {
        // Removed after the request sealed its requester: ignored as well.
        if let Some(account) = sealed.first() {
            people.requester = Some(account.clone());
            people.ignored_requester = Some(Login::new(""));
        }
        return Ok(());
    };
    if let Some(account) = sealed.iter().find(|r| login.is(&r.login)) {
        people.requester = Some(account.clone());
        return Ok(());
    }
    match repo.user(login.as_str()).await? {
        Some(account) if sealed.is_empty() || sealed.iter().any(|s| s.id == account.id) => {
            people.requester = Some(account)
        }
        _ if !sealed.is_empty() => {
            people.requester = sealed.first().cloned();
            people.ignored_requester = Some(login.clone());
        }
        Some(account) => people.requester = Some(account),
        None => {
            people.unresolved.insert(
                login.clone(),
                format!(
                    "the {} annotation names no GitHub account, so nobody can tell who requested the promotion",
                    names::REQUESTED_BY_ANNOTATION
                ),
            );
            people.unknown_requester = Some(login.clone());
        }
    }
    Ok(())
}

/// Resolves team membership and repository permission for the candidate logins: those
/// found authorized, and those whose lookup failed (with why). A failed lookup leaves
/// that login unresolved for this poll rather than failing the sync, so the others'
/// answers (a listed approver's veto) are still read; a rate limit still stops the sync,
/// so that the gate waits for it.
async fn authorize(
    gh: &Repo,
    policy: &Policy,
    situation: &Situation,
    candidates: BTreeSet<Login>,
) -> Result<People, GitHubError> {
    let mut people = People::default();
    // With named rules, every team is asked: an approver counts toward each rule whose
    // team they are in. Without, the first team that says yes is enough.
    let every_team = !policy.rules.is_empty();
    let teams = policy.all_teams();
    'login: for login in &candidates {
        for team in &teams {
            let answer = gh
                .is_team_member(&team.org, &team.slug, login.as_str())
                .await;
            if settle(&mut people, login, answer)? {
                people
                    .memberships
                    .entry(login.clone())
                    .or_default()
                    .insert((*team).clone());
                people.authorized.insert(login.clone());
                if !every_team {
                    continue 'login;
                }
            }
        }
        if people.authorized.contains(login) {
            continue;
        }
        if let Some(min) = policy.min_permission {
            let answer = gh
                .permission(login.as_str())
                .await
                .map(|p| p.is_some_and(|p| p >= min));
            if settle(&mut people, login, answer)? {
                people.authorized.insert(login.clone());
            }
        }
    }
    escalation_teams(gh, policy, &candidates, &mut people).await?;
    // While a freeze window is open: who is in a team allowed to override it (that alone
    // does not make anyone an approver).
    if let (Some(_), Some(allowed)) = (situation.frozen(), &policy.freeze_override) {
        let approvers: Vec<&Login> = candidates
            .iter()
            .filter(|l| {
                people.authorized.contains(*l)
                    || policy.lists(l.as_str())
                    || policy.escalates_to(l, &people)
            })
            .collect();
        for login in approvers {
            let unknown: Vec<_> = allowed
                .teams
                .iter()
                .filter(|t| !people.in_team(login, t))
                .collect();
            for team in unknown {
                let answer = gh
                    .is_team_member(&team.org, &team.slug, login.as_str())
                    .await;
                if settle(&mut people, login, answer)? {
                    people
                        .memberships
                        .entry(login.clone())
                        .or_default()
                        .insert(team.clone());
                }
            }
        }
    }
    let authorized = people.authorized.clone();
    people
        .unresolved
        .retain(|login, _| !authorized.contains(login));
    Ok(people)
}

/// Which of the candidates are in the escalation's teams (that alone makes nobody an
/// approver: the judge counts their answers only after the request escalated).
async fn escalation_teams(
    gh: &Repo,
    policy: &Policy,
    candidates: &BTreeSet<Login>,
    people: &mut People,
) -> Result<(), GitHubError> {
    let Some(escalation) = &policy.escalation else {
        return Ok(());
    };
    // Approvers too: an escalation approver counts toward every rule.
    for login in candidates {
        for team in &escalation.teams {
            if people.in_team(login, team) {
                break;
            }
            let answer = gh
                .is_team_member(&team.org, &team.slug, login.as_str())
                .await;
            if settle(people, login, answer)? {
                let teams = people.memberships.entry(login.clone()).or_default();
                teams.insert(team.clone());
                break;
            }
        }
    }
    Ok(())
}

/// A lookup's answer: yes or no, or, when it failed for a reason other than a rate limit,
/// no with the login left unresolved.
fn settle(
    people: &mut People,
    login: &Login,
    answer: Result<bool, GitHubError>,
) -> Result<bool, GitHubError> {
    match answer {
        Ok(yes) => Ok(yes),
        Err(limited @ GitHubError::RateLimited { .. }) => Err(limited),
        Err(e) => {
            people.unresolved.insert(login.clone(), e.to_string());
            Ok(false)
        }
    }
}
