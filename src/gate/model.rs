//! The gate's model: the gate being decided, the status recorded for its key, why a
//! pending gate is held, the decision's shape (its verdict and the GitHub actions it asks
//! for), and whether GitHub agrees with it. A leaf that every step of the gate reads.
//!
//! Pure: types and their constructors; no I/O, no clock, no text for Kubernetes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::freeze::Frozen;
use crate::github::{
    CloseReason, Comment, Deletion, Edit, GitHubError, Identity, Issue, IssueEvent, Login,
    NewIssue, Team,
};
use crate::names::Reason;
use crate::xr::gate::{Approval, GateSpec, GateState, GateStatus, IssueRef, PromotionStatus};

use super::key::GateKey;

/// The gate being decided, as validated.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The validated spec.
    pub spec: GateSpec,
    /// The gate key.
    pub key: GateKey,
    /// The namespace of the composed resources.
    pub namespace: String,
    /// The XR's name.
    pub name: String,
    /// The XR's uid (empty when the XR has none, as in a local render).
    pub uid: String,
    /// The requester, from the `requested-by` annotation.
    pub requester: Option<Login>,
}

impl Gate {
    /// Whether `login` requested this promotion.
    pub fn is_requester(&self, login: &str) -> bool {
        self.requester.as_ref().is_some_and(|r| r.is(login))
    }

    /// The deadline of a gate that started at `start`.
    pub fn deadline(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        start + Duration::hours(i64::from(self.spec.timeout_hours))
    }
}

/// The status recorded for this gate's key: the observed status, narrowed once. A status
/// recorded for another key (an earlier artifact) says nothing about this one, but is
/// kept apart: its issue may still be open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded(Option<GateStatus>, Option<GateStatus>);

impl Recorded {
    /// The observed `status`, narrowed to `key`.
    pub fn for_key(status: GateStatus, key: &GateKey) -> Self {
        if status.gate_key.as_deref().is_some_and(|k| key.is(k)) {
            Recorded(Some(status), None)
        } else {
            Recorded(None, Some(status).filter(|s| s.gate_key.is_some()))
        }
    }

    /// The recorded status, if it is this key's.
    pub fn status(&self) -> Option<&GateStatus> {
        self.0.as_ref()
    }

    /// The approval issue recorded for this key, else for an earlier artifact of the XR.
    pub fn any_issue(&self) -> Option<&IssueRef> {
        self.issue()
            .or(self.other_key().and_then(|s| s.issue.as_ref()))
    }

    /// The status recorded for another key of this XR (an earlier artifact), if any.
    pub fn other_key(&self) -> Option<&GateStatus> {
        self.1.as_ref()
    }

    /// The recorded state.
    pub fn state(&self) -> Option<GateState> {
        self.0.as_ref().and_then(|s| s.gate_status)
    }

    /// The recorded state when it is final.
    pub fn verdict(&self) -> Option<GateState> {
        self.state().filter(|s| s.is_terminal())
    }

    /// The recorded start.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        self.0.as_ref().and_then(|s| s.created_timestamp)
    }

    /// The recorded approval issue.
    pub fn issue(&self) -> Option<&IssueRef> {
        self.0.as_ref().and_then(|s| s.issue.as_ref())
    }

    /// The numbers of the issues in `repository` the status records for this key: the
    /// recorded issue, and every issue the key used.
    pub fn issues_in(&self, repository: &str) -> Vec<u64> {
        let Some(status) = self.status() else {
            return Vec::new();
        };
        let mut numbers: Vec<u64> = status.issue.iter().map(|i| i.number).collect();
        numbers.extend(
            status
                .issues
                .iter()
                .filter(|i| i.repository.eq_ignore_ascii_case(repository))
                .map(|i| i.number),
        );
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    /// The recorded promotion Job of this key.
    pub fn promotion(&self) -> Option<&PromotionStatus> {
        self.0.as_ref().and_then(|s| s.promotion.as_ref())
    }

    /// Whether the status records that this key's promotion started (its Job was
    /// observed, or finished).
    pub fn promotion_started(&self) -> bool {
        self.promotion().is_some_and(PromotionStatus::started)
    }
}

/// What becomes of the key's promotion Job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Promotion {
    /// No Job: the gate is not approved, its approval is not confirmed or still held, or
    /// the Input configures no promotion.
    #[default]
    None,
    /// The Job is rendered: the approval is confirmed and passed its holds, and the key's
    /// promotion has not started before (or its Job is observed now).
    Run,
    /// The key's promotion started before and its Job is gone: it is never rendered
    /// again.
    Spent,
}

/// One issue of the function as read.
#[derive(Debug, Clone)]
pub struct IssueRead {
    /// The issue.
    pub issue: Issue,
    /// Its comments, oldest first.
    pub comments: Vec<Comment>,
    /// Its events, oldest first (read for the issues that name or are bound to the key).
    pub events: Vec<IssueEvent>,
    /// The comments deleted from it, as its timeline records them (read with the events,
    /// on fresh reads only).
    pub deletions: Vec<Deletion>,
    /// The last edit of its description, as GitHub records it (likewise).
    pub text_edit: Option<Edit>,
    /// More comments were deleted from it than `deletions` lists.
    pub more_deletions: bool,
}

/// Everything the decision takes from GitHub.
#[derive(Debug, Clone)]
pub struct Read {
    /// Who the function is.
    pub identity: Identity,
    /// The issues of this repository the status records for this key.
    pub recorded: Vec<u64>,
    /// The function's issues that may carry this gate, lowest number first.
    pub issues: Vec<IssueRead>,
    /// Who may answer, as GitHub says.
    pub people: People,
    /// Whether every issue of the function was listed to find these: false while the
    /// repository's first full listing goes on (after a restart, on a long history),
    /// when an issue of this key may be on a page not listed yet.
    pub complete: bool,
    /// The change the gate names, as read from its source repository.
    pub change: Option<super::change::ChangeRead>,
}

/// Why a pending gate is held, as its `Approved` condition says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Answers would not approve it yet (an approver's answer was edited, the issue lost
    /// its binding, GitHub could not say who may answer): the message says which.
    Pending(String),
    /// Progression: the artifact has not reached the source environment, which holds
    /// another (or none).
    WaitingForSource {
        /// The artifact the source holds.
        holds: Option<String>,
    },
    /// The artifact soaks in the source environment until then.
    Soaking {
        /// The soak's end.
        until: DateTime<Utc>,
    },
    /// A freeze window is open for the target environment.
    Frozen {
        /// The window.
        window: Frozen,
        /// Whether an override on the issue may let it through (not for automatic
        /// promotions, which have no issue).
        overridable: bool,
    },
    /// The Input requires the `requested-by` annotation, which the gate lacks.
    MissingRequester,
    /// The Input requires the tenant's XReleasePipeline, and the gate's namespace has none
    /// for its tenant.
    MissingPipeline,
    /// The `requested-by` annotation names no GitHub account (a typo, or the requester
    /// renamed their account before the gate started): nobody can tell who must not
    /// approve, so no issue is opened and no approval counts.
    UnknownRequester(Login),
    /// An issue of the key lost the function's record on it (answers there may have been
    /// a veto): the gate stays pending until its deadline; a new XR or a new artifact asks
    /// again.
    Tampered(String),
    /// The change's authors may not approve, and the change cannot be read whole: why.
    ChangeUnreadable(String),
}

impl Hold {
    /// The `Approved` condition's reason.
    pub fn reason(&self) -> Reason {
        match self {
            Hold::Pending(_) => Reason::Pending,
            Hold::WaitingForSource { .. } => Reason::WaitingForSource,
            Hold::Soaking { .. } => Reason::Soaking,
            Hold::Frozen { .. } => Reason::Frozen,
            Hold::MissingRequester | Hold::UnknownRequester(_) => Reason::MissingRequester,
            Hold::MissingPipeline => Reason::MissingPipeline,
            Hold::Tampered(_) => Reason::Tampered,
            Hold::ChangeUnreadable(_) => Reason::ChangeUnreadable,
        }
    }

    /// Whether the gate is asking (its condition Unknown: answers may still decide it),
    /// rather than waiting for something else first (False).
    pub fn asks(&self) -> bool {
        matches!(self, Hold::Pending(_))
    }
}

/// A change to make on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open the approval issue.
    Open(NewIssue),
    /// Comment on an issue.
    Comment {
        /// The issue.
        number: u64,
        /// The comment.
        body: String,
    },
    /// Close an issue.
    Close {
        /// The issue.
        number: u64,
        /// Why.
        reason: CloseReason,
    },
    /// Reopen an issue.
    Reopen {
        /// The issue.
        number: u64,
    },
    /// Assign people to an issue (GitHub assigns those it can: people with access).
    Assign {
        /// The issue.
        number: u64,
        /// GitHub logins.
        assignees: Vec<String>,
    },
    /// Set an issue's title and description back to the function's.
    Restore {
        /// The issue.
        number: u64,
        /// The title.
        title: String,
        /// The description.
        body: String,
    },
}

/// The verdict and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The gate's state.
    pub state: GateState,
    /// Counted approvals, earliest first.
    pub approvals: Vec<Approval>,
    /// The rejection that vetoed, if rejected.
    pub rejection: Option<Approval>,
    /// When the gate reached its state (approved, rejected or timed out).
    pub decided_at: Option<DateTime<Utc>>,
    /// The gate's start.
    pub start: DateTime<Utc>,
    /// The deadline.
    pub deadline: DateTime<Utc>,
    /// The approval issue.
    pub issue: Option<IssueRef>,
    /// Approved without a person: automatic rule and `approval_required: false`.
    pub automatic: bool,
    /// Why a pending gate is held back (on a gate that timed out while waiting for its
    /// source: that wait).
    pub hold: Option<Hold>,
    /// What someone changed on GitHub that the function does not read, each said once
    /// in a Warning.
    pub tampering: Vec<String>,
    /// GitHub actions to take, in order.
    pub actions: Vec<Action>,
    /// How far each named approval rule got (empty when the pipeline names none).
    pub progress: Vec<RuleProgress>,
    /// Who let the approved gate through which freeze window, and why (said in a Warning).
    pub freeze_override: Option<String>,
    /// What becomes of the promotion Job.
    pub promotion: Promotion,
    /// A verdict recorded in status that GitHub does not back, said in a Warning.
    pub unbacked: Option<String>,
    /// Every issue of the approvals repository this key used, as far as known.
    pub issues: Vec<u64>,
    /// The change the gate names, as last read.
    pub change: Option<crate::xr::change::ChangeStatus>,
    /// The reminders posted on the issue (Go durations after it opened).
    pub reminders: Vec<String>,
    /// When the next reminder or the escalation is due, while the gate asks.
    pub wake_at: Option<DateTime<Utc>>,
    /// When the request escalated to the pipeline's escalation approvers.
    pub escalated_at: Option<DateTime<Utc>>,
    /// The requester's account, as the key's binding sealed it or GitHub named it.
    pub requester: Option<Identity>,
    /// The key was asked under another policy before (approvers, rules, promotion,
    /// Composition or approvals repository): this request asks again.
    pub policy_changed: bool,
    /// The `requested-by` annotation changed after the request sealed its requester: what
    /// the Warning says.
    pub requester_ignored: Option<String>,
}

impl Decision {
    /// A pending gate that started at `start`, with nothing counted yet.
    pub fn pending(start: DateTime<Utc>, deadline: DateTime<Utc>) -> Self {
        Decision {
            state: GateState::Pending,
            approvals: Vec::new(),
            rejection: None,
            decided_at: None,
            start,
            deadline,
            issue: None,
            automatic: false,
            hold: None,
            tampering: Vec::new(),
            actions: Vec::new(),
            progress: Vec::new(),
            freeze_override: None,
            promotion: Promotion::None,
            unbacked: None,
            issues: Vec::new(),
            change: None,
            reminders: Vec::new(),
            wake_at: None,
            escalated_at: None,
            requester: None,
            policy_changed: false,
            requester_ignored: None,
        }
    }

    /// The decision as recorded for this key, for a call that does not read GitHub: the
    /// recorded state, approvals and issue, else a gate starting `now`.
    pub fn recorded(gate: &Gate, recorded: &Recorded, now: DateTime<Utc>) -> Self {
        let start = recorded.start().unwrap_or(now);
        let Some(status) = recorded.status() else {
            return Decision::pending(start, gate.deadline(start));
        };
        Decision {
            state: status.gate_status.unwrap_or(GateState::Pending),
            approvals: status.approvals.clone(),
            decided_at: status.approval_timestamp,
            issue: status.issue.clone(),
            change: status.change.clone(),
            reminders: status.reminders.clone(),
            escalated_at: status.escalated_at,
            requester: status.requester.as_ref().map(|r| Identity {
                login: r.login.clone(),
                id: r.id,
            }),
            ..Decision::pending(start, status.timeout_at.unwrap_or(gate.deadline(start)))
        }
    }

    /// Whether it changes anything: a verdict, or a write to GitHub. Such a decision is
    /// never taken on remembered reads.
    pub fn is_consequential(&self) -> bool {
        self.state != GateState::Pending || !self.actions.is_empty()
    }

    /// Whether it asks to open an issue.
    pub fn opens_issue(&self) -> bool {
        self.actions.iter().any(|a| matches!(a, Action::Open(_)))
    }
}

/// How far one approval rule got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProgress {
    /// The rule's name.
    pub name: String,
    /// Approvals counted toward it.
    pub counted: u32,
    /// Approvals it needs.
    pub needed: u32,
    /// When it was met, if it is.
    pub met_at: Option<DateTime<Utc>>,
}

/// What GitHub said about who may answer: the candidates authorized through a team or
/// their permission, those whose lookup failed (with why: their answers are unknown, so
/// the gate does not approve this poll), and the teams each was found in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct People {
    /// Authorized through a team or their repository permission.
    pub authorized: BTreeSet<Login>,
    /// Whose lookup failed this poll, with why.
    pub unresolved: BTreeMap<Login, String>,
    /// The approver (and freeze-override) teams each login was found in.
    pub memberships: BTreeMap<Login, BTreeSet<Team>>,
    /// The requester's account: as a binding of this key sealed it, else as GitHub names
    /// the `requested-by` login now. Its id survives a rename.
    pub requester: Option<Identity>,
    /// Other requester accounts the key's bindings sealed (the annotation changed since).
    pub sealed_requesters: BTreeSet<u64>,
    /// The `requested-by` login names no GitHub account and no binding sealed it: nobody
    /// can tell who the requester is now.
    pub unknown_requester: Option<Login>,
    /// The `requested-by` login names another account than the key's bindings sealed (empty:
    /// the annotation was removed): the change is ignored, the sealed account stays the
    /// requester.
    pub ignored_requester: Option<Login>,
}

impl People {
    /// Whether the account `id` requested the promotion.
    pub fn is_requester_id(&self, id: u64) -> bool {
        self.requester.as_ref().is_some_and(|r| r.id == id) || self.sealed_requesters.contains(&id)
    }

    /// Whether GitHub placed `login` in `team`.
    pub fn in_team(&self, login: &Login, team: &Team) -> bool {
        self.memberships
            .get(login)
            .is_some_and(|teams| teams.contains(team))
    }
}

/// Why GitHub could not be synced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    // Not Fatal: a Fatal result stops the whole pipeline and applies nothing, while a
    // gate without a repository only has to stay pending (gates approved by policy
    // need no repository), and the fix is one Input field.
    /// The Input names no approvals repository.
    #[error("input.github.repository: is required for gates that need approval")]
    MissingRepository,
    /// The function's login changed since it was read.
    #[error(
        "the function's GitHub login changed from {was:?} to {now:?}; its issues are listed again on the next call"
    )]
    IdentityChanged {
        /// The login read before.
        was: String,
        /// The login now.
        now: String,
    },
    /// GitHub failed.
    #[error("{0}")]
    GitHub(#[from] GitHubError),
}

impl SyncError {
    /// The `ApprovalSynced=False` reason.
    pub fn reason(&self) -> &'static str {
        match self {
            SyncError::MissingRepository => Reason::MissingRepository.as_str(),
            SyncError::IdentityChanged { .. } => Reason::IdentityChanged.as_str(),
            SyncError::GitHub(e) => e.reason(),
        }
    }

    /// When to try again, when GitHub said.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            SyncError::GitHub(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// How the decision relates to GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitHubSync {
    /// GitHub agrees, or did not need to be read.
    Synced(Synced),
    /// GitHub could not be read or written; the recorded status is kept.
    Failed(SyncError),
    /// Crossplane has not answered the pipeline lookup yet; nothing was decided.
    Waiting,
}

/// What happened with GitHub on a synced call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// The approval issue was read (and written as the decision asked).
    Read,
    /// The gate is decided for this key; GitHub is no longer read.
    Decided,
    /// Approved by policy: GitHub not used (`None`), or the gate's open approval issues
    /// closed (their numbers).
    NotRequired {
        /// The issues closed, when an approval issue was recorded.
        closed: Option<Vec<u64>>,
    },
    /// Approved by policy; an approval issue that is no longer needed could not be
    /// closed.
    NotRequiredUnclosed {
        /// The issue.
        issue: u64,
        /// Why.
        why: String,
    },
    /// Held before asking (the decision's hold says why); GitHub is not read.
    Held,
}

impl Synced {
    /// Approved by policy, once the gate's open approval issues were closed (or, with why,
    /// could not be: `issue` says which to close by hand).
    pub fn not_required(closed: Result<Vec<u64>, String>, issue: u64) -> Self {
        match closed {
            Ok(closed) => Synced::NotRequired {
                closed: Some(closed),
            },
            Err(why) => Synced::NotRequiredUnclosed { issue, why },
        }
    }
}

/// The decision for the current key, and how it relates to GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// How it relates to GitHub.
    pub sync: GitHubSync,
}

impl Outcome {
    /// A decision that needed no GitHub read: held before asking, or settled (decided for
    /// this key, or approved by policy).
    pub fn without_github(decision: Decision) -> Self {
        let sync = if decision.hold.is_some() {
            Synced::Held
        } else if decision.automatic {
            Synced::NotRequired { closed: None }
        } else {
            Synced::Decided
        };
        Outcome {
            decision,
            sync: GitHubSync::Synced(sync),
        }
    }
}
