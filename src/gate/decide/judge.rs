//! Who counts, and what the answers on one approval issue say: comments as their authors
//! posted them, closes by whoever GitHub's events name, overrides of a freeze window.
//!
//! The trust rules live here: only an authorized approver's comment as its author posted
//! it is an answer (an edited one holds approval back until they answer again); closes
//! count by the actor GitHub's events name, however the issue was reopened since; only
//! answers between the gate's start and its deadline count; the requester may withdraw
//! but not approve (unless self-approval is on); the function never counts.
//!
//! Pure: no I/O, no clock.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::freeze::Frozen;
use crate::github::{CloseReason, Comment, EventKind, Identity, Issue, IssueState, Login};
use crate::xr::gate::{Approval, Via, rfc3339};

use crate::gate::issue::{self, Command};
use crate::gate::marker;
use crate::gate::model::{Gate, IssueRead, People};
use crate::gate::policy::Policy;

/// Who may answer on one issue, and when.
pub struct Judge<'a> {
    gate: &'a Gate,
    policy: &'a Policy,
    identity: &'a Identity,
    people: &'a People,
    /// Answers count from here (the gate's start, or the issue's creation if GitHub's
    /// clock runs behind the one that set the start) ...
    opens: DateTime<Utc>,
    /// ... until the deadline.
    deadline: DateTime<Utc>,
    /// The time of this call.
    now: DateTime<Utc>,
    /// Approvals count only after this: when the function last restored the issue's
    /// title and description (approvers may have read another request before).
    approvals_after: Option<DateTime<Utc>>,
    /// The GitHub accounts (by id) of the change's authors and committers, when they may
    /// not approve: their rejections still count.
    change_authors: std::collections::BTreeSet<u64>,
    /// From when the pipeline's escalation approvers may answer too (their answers count
    /// only after it, by GitHub's clock): the chosen issue's creation plus the escalation's
    /// `after`, when that comes before the deadline.
    escalated_at: Option<DateTime<Utc>>,
}

/// A close of the issue that the gate must say something about when it reopens it: who,
/// when, and why it did not count (`None`: it counted).
pub struct Close {
    /// Who closed it.
    pub closer: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why it did not count, if it did not.
    pub why: Option<String>,
}

/// What the answers on the issue say.
#[derive(Default)]
pub struct Answers {
    /// Counted approvals, earliest first.
    pub approvals: Vec<Approval>,
    /// The earliest rejection.
    pub rejection: Option<Approval>,
    /// Why approval is held: an edited or deleted comment of someone whose answer would
    /// count (it may have been a veto), until they answer again.
    pub held: Option<String>,
    /// Edits found, each said once in a Warning.
    pub tampering: Vec<String>,
    /// The last close by a person since the function's own.
    pub last_close: Option<Close>,
}

/// What the key's other issues say.
#[derive(Default)]
pub struct Elsewhere {
    /// The earliest veto there.
    pub veto: Option<Approval>,
    /// Why approval is held there, if it is.
    pub held: Option<String>,
}

/// An override of the open window: the entry for status, and the Warning's text.
pub struct Override {
    /// `via: override-freeze`, by whom and when.
    pub entry: Approval,
    /// Who let the promotion through which window, and why.
    pub message: String,
}

/// Why an approval by close did not count: it came before the issue's text was restored,
/// or before a record of the function was deleted from it.
const RESTORED: &str = "it came before the function restored this issue's title and description, or before one of its comments here was deleted; close again, or comment /approve";

/// Whether `login` is a GitHub App's bot (`<slug>[bot]`): bots never approve, whatever
/// their team or permission (their rejections count where they may answer).
fn is_bot(login: &str) -> bool {
    login.to_ascii_lowercase().ends_with("[bot]")
}

/// The closer named when GitHub names none; it cannot be a GitHub login (logins have
/// no spaces), so no listed user can match it.
pub const UNKNOWN_CLOSER: &str = "an unknown user";

impl<'a> Judge<'a> {
    /// The judge of answers on `issue` for a gate that started at `start`, at `now`.
    pub fn new(
        gate: &'a Gate,
        policy: &'a Policy,
        identity: &'a Identity,
        people: &'a People,
        (start, deadline, now): (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>),
        issue: &Issue,
    ) -> Self {
        Judge {
            gate,
            policy,
            identity,
            people,
            opens: start.min(issue.created_at),
            deadline,
            now,
            approvals_after: None,
            change_authors: Default::default(),
            escalated_at: None,
        }
    }

    /// The same judge, not counting approvals by the accounts `ids` (the change's authors
    /// and committers).
    pub fn excluding_change_authors(self, ids: impl IntoIterator<Item = u64>) -> Self {
        Judge {
            change_authors: ids.into_iter().collect(),
            ..self
        }
    }

    /// The same judge, with the request escalated at `at` (the chosen issue's, for every
    /// issue of the key): escalation approvers' answers count after it.
    pub fn escalated_from(self, at: Option<DateTime<Utc>>) -> Self {
        Judge {
            escalated_at: at,
            ..self
        }
    }

    /// The same judge, counting approvals only after `at` (rejections count throughout).
    pub fn approvals_after(self, at: Option<DateTime<Utc>>) -> Self {
        Judge {
            approvals_after: at,
            ..self
        }
    }

    /// Whether `login` answering at `at` is an escalation approver of an escalated request:
    /// listed by the escalation, or in one of its teams, and answering after it.
    pub fn escalated(&self, login: &str, at: DateTime<Utc>) -> bool {
        self.escalated_at.is_some_and(|since| at > since)
            && self.policy.escalates_to(&Login::new(login), self.people)
    }

    /// Whether an approval at `at` came after the issue's text was last restored.
    fn after_restoration(&self, at: DateTime<Utc>) -> bool {
        self.approvals_after.is_none_or(|restored| at > restored)
    }

    /// Whether an answer at `at` counts by its time.
    pub fn in_window(&self, at: DateTime<Utc>) -> bool {
        self.opens <= at && at <= self.deadline
    }

    /// Whether the account `login` (id `id`, when GitHub names it) requested the
    /// promotion: by the annotation's login, or by the account id the gate's binding
    /// sealed (a renamed requester is still the requester).
    pub fn is_requester(&self, login: &str, id: Option<u64>) -> bool {
        let annotation = match &self.people.ignored_requester {
            // The annotation changed after the request sealed its requester: ignored.
            Some(_) => self
                .people
                .requester
                .as_ref()
                .is_some_and(|r| r.login.eq_ignore_ascii_case(login)),
            None => self.gate.is_requester(login),
        };
        annotation || id.is_some_and(|id| self.people.is_requester_id(id))
    }

    /// Never counted as an approval: the function itself, and the requester unless
    /// self-approval is on.
    pub fn excluded(&self, login: &str, id: Option<u64>) -> bool {
        login.eq_ignore_ascii_case(&self.identity.login)
            || id == Some(self.identity.id)
            || (!self.policy.allow_self_approval && self.is_requester(login, id))
    }

    /// Whether `login` may approve with an answer given at `at`.
    pub fn authorized(&self, login: &str, id: Option<u64>, at: DateTime<Utc>) -> bool {
        !is_bot(login)
            && !id.is_some_and(|id| self.change_authors.contains(&id))
            && self.approver(login, id, at)
    }

    /// Whether `login` is among who may answer at `at`, the change's authors included:
    /// listed, allowed through a team or permission, or escalated to by then.
    fn approver(&self, login: &str, id: Option<u64>, at: DateTime<Utc>) -> bool {
        !self.excluded(login, id)
            && (self.policy.lists(login)
                || self.people.authorized.contains(&Login::new(login))
                || self.escalated(login, at))
    }

    /// Whether `login` may reject at `at`: an approver (an author of the change too), or
    /// the requester withdrawing.
    pub fn may_reject(&self, login: &str, id: Option<u64>, at: DateTime<Utc>) -> bool {
        !login.eq_ignore_ascii_case(&self.identity.login)
            && (self.approver(login, id, at) || self.is_requester(login, id))
    }

    /// Counts the answers on `issue`: its comments, then its closes.
    pub fn count(&self, issue: &IssueRead) -> Answers {
        let mut answers = Answers::default();
        let mut approvals: BTreeMap<Login, Approval> = BTreeMap::new();
        self.count_comments(issue, &mut answers, &mut approvals);
        self.count_deletions(issue, &mut answers);
        self.count_closes(issue, &mut answers, &mut approvals);
        let mut approvals: Vec<Approval> = approvals.into_values().collect();
        approvals.sort_by(|a, b| (a.at, &a.login).cmp(&(b.at, &b.login)));
        answers.approvals = approvals;
        answers
    }

    /// What another issue of this key says (one that lost the function's record, a
    /// duplicate): its earliest veto (a `/reject` or a close as not planned counts on every
    /// issue ever bound to or recorded for the key, whatever happened to the function's
    /// comments there), and what holds approval there (an edited or deleted comment that
    /// may have been one).
    pub fn elsewhere(&self, issue: &IssueRead) -> Elsewhere {
        let mut answers = Answers::default();
        let mut ignored = BTreeMap::new();
        self.count_comments(issue, &mut answers, &mut ignored);
        self.count_deletions(issue, &mut answers);
        self.count_closes(issue, &mut answers, &mut ignored);
        Elsewhere {
            veto: answers.rejection,
            held: answers.held,
        }
    }

    fn count_comments(
        &self,
        read: &IssueRead,
        answers: &mut Answers,
        approvals: &mut BTreeMap<Login, Approval>,
    ) {
        let comments = &read.comments;
        for comment in comments {
            if !self.in_window(comment.created_at) || comment.author_id == self.identity.id {
                continue;
            }
            if marker::edited(comment) {
                // Someone may have turned a veto into something else. It holds approval
                // until its author answers again in a new comment, posted after the edit.
                let answered_again = comments.iter().any(|later| {
                    later.author_id == comment.author_id
                        && later.created_at > comment.updated_at
                        && self.in_window(later.created_at)
                        && !marker::edited(later)
                        && issue::parse_command(&later.body).is_some()
                });
                let at = comment.created_at;
                if self.may_reject(&comment.author, author_id(comment), at) && !answered_again {
                    let what = format!(
                        "comment {} by {} on issue #{} was edited after it was posted",
                        comment.id, comment.author, read.issue.number
                    );
                    hold(answers, &what, &comment.author);
                }
                continue;
            }
            let answer = approval(&comment.author, comment.created_at, Via::Comment);
            match issue::parse_command(&comment.body) {
                Some(Command::Approve)
                    if self.authorized(&comment.author, author_id(comment), comment.created_at)
                        && self.after_restoration(comment.created_at) =>
                {
                    self.add(approvals, answer)
                }
                Some(Command::Reject)
                    if self.may_reject(&comment.author, author_id(comment), comment.created_at) =>
                {
                    reject(&mut answers.rejection, answer)
                }
                _ => {}
            }
        }
    }

    /// A comment deleted by anyone, of someone who may reject (it may have been a veto),
    /// holds approval until its author answers again in a new comment, posted after the
    /// deletion. The function's own deleted comments are dated by the caller instead
    /// (approvals before them no longer count).
    fn count_deletions(&self, read: &IssueRead, answers: &mut Answers) {
        if read.more_deletions {
            let what = format!(
                "more than 100 comments were deleted from issue #{}, and the earliest deletions are not read",
                read.issue.number
            );
            answers.held.get_or_insert_with(|| {
                format!("approval is held: {what}; one of them may have been a veto")
            });
            answers.tampering.push(what);
        }
        for deletion in &read.deletions {
            let Some(author) = deletion.author.as_deref() else {
                continue;
            };
            // Deleted after the deadline, it may still have been a veto given before it.
            if deletion.at < self.opens
                || deletion.author_id == Some(self.identity.id)
                || super::text::is_function(author, self.identity)
            {
                continue;
            }
            let answered_again = read.comments.iter().any(|later| {
                later.author.eq_ignore_ascii_case(author)
                    && later.created_at > deletion.at
                    && self.in_window(later.created_at)
                    && !marker::edited(later)
                    && issue::parse_command(&later.body).is_some()
            });
            // Deleted before the escalation, it was posted before it too.
            if self.may_reject(author, deletion.author_id, deletion.at) && !answered_again {
                let what = format!(
                    "a comment by {author} on issue #{} was deleted at {}",
                    read.issue.number,
                    rfc3339(deletion.at)
                );
                hold(answers, &what, author);
            }
        }
    }

    /// Every close GitHub's events record, by whoever GitHub says did it, even if the
    /// issue was reopened since.
    fn count_closes(
        &self,
        read: &IssueRead,
        answers: &mut Answers,
        approvals: &mut BTreeMap<Login, Approval>,
    ) {
        let mut last_close: Option<Close> = None;
        let mut closed_by_function = false;
        for event in read.events.iter().filter(|e| e.kind == EventKind::Closed) {
            closed_by_function = event.actor_id == Some(self.identity.id);
            if closed_by_function {
                last_close = None;
                continue;
            }
            let at = event.created_at;
            let why = match event.actor.as_deref() {
                _ if !self.in_window(at) => {
                    Some("it came outside the time this request was open".to_owned())
                }
                None => Some("GitHub does not say who closed it".to_owned()),
                Some(_) if event.commit_id.is_some() => {
                    Some("a commit or pull request closed it, not a person".to_owned())
                }
                Some(login) => match event.state_reason {
                    Some(CloseReason::Completed)
                        if self.authorized(login, event.actor_id, at)
                            && !self.after_restoration(at) =>
                    {
                        Some(RESTORED.to_owned())
                    }
                    Some(CloseReason::Completed) if self.authorized(login, event.actor_id, at) => {
                        self.add(approvals, approval(login, at, Via::Close));
                        None
                    }
                    Some(CloseReason::NotPlanned) if self.may_reject(login, event.actor_id, at) => {
                        reject(&mut answers.rejection, approval(login, at, Via::Close));
                        None
                    }
                    _ => Some(self.close_does_not_count(login, event.actor_id, at)),
                },
            };
            last_close = Some(Close {
                closer: event.actor.clone().unwrap_or(UNKNOWN_CLOSER.to_owned()),
                at,
                why,
            });
        }
        let issue = &read.issue;
        // Closed, and GitHub's events name no close after the function's own: nobody known.
        if issue.state == IssueState::Closed
            && last_close.is_none()
            && !closed_by_function
            && !issue
                .closed_by
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(&self.identity.login))
        {
            last_close = Some(Close {
                closer: UNKNOWN_CLOSER.to_owned(),
                at: issue.closed_at.unwrap_or(self.now),
                why: Some("GitHub does not say who closed it".to_owned()),
            });
        }
        answers.last_close = last_close;
    }

    /// Counts an approval once per approver: their earliest after the escalation when
    /// they are escalated to (it counts toward every rule), else their earliest.
    fn add(&self, approvals: &mut BTreeMap<Login, Approval>, approval: Approval) {
        let rank = |a: &Approval| (!self.escalated(&a.login, a.at), a.at);
        let entry = approvals
            .entry(Login::new(&approval.login))
            .or_insert_with(|| approval.clone());
        if rank(&approval) < rank(entry) {
            *entry = approval;
        }
    }

    fn close_does_not_count(&self, login: &str, id: Option<u64>, at: DateTime<Utc>) -> String {
        if self.excluded(login, id) {
            "the requester cannot approve their own promotion".to_owned()
        } else if is_bot(login) {
            format!("{} is a bot, and bots never approve", issue::escape(login))
        } else if id.is_some_and(|id| self.change_authors.contains(&id)) {
            format!(
                "{} wrote or committed the change, and its authors cannot approve it",
                issue::escape(login)
            )
        } else if !self.authorized(login, id, at) {
            format!(
                "{} is not an approver for this promotion",
                issue::escape(login)
            )
        } else {
            "only a close as completed (approve) or as not planned (reject) is an answer".to_owned()
        }
    }

    /// Whether `login` is listed in the pipeline's `freezeOverride`, by login or through a
    /// team GitHub placed them in.
    fn may_override(&self, login: &str) -> bool {
        let Some(allowed) = &self.policy.freeze_override else {
            return false;
        };
        let login = Login::new(login);
        allowed.users.contains(&login)
            || allowed.teams.iter().any(|t| self.people.in_team(&login, t))
    }

    /// The first override of `frozen` on the issue: a comment, as its author posted it
    /// (never edited), within the gate's window, no earlier than `not_before` (the window's
    /// opening and the time the approvals were in: an override answers this window for
    /// these approvals), by an approver who may override and did not request the
    /// promotion.
    pub fn override_of(
        &self,
        frozen: &Frozen,
        not_before: DateTime<Utc>,
        comments: &[Comment],
    ) -> Option<Override> {
        comments.iter().find_map(|c| {
            let reason = issue::parse_override(&c.body)?;
            let eligible = !marker::edited(c)
                && c.author_id != self.identity.id
                && c.created_at >= not_before
                && self.after_restoration(c.created_at)
                && !self.is_requester(&c.author, author_id(c))
                && self.in_window(c.created_at)
                && self.authorized(&c.author, author_id(c), c.created_at)
                && self.may_override(&c.author);
            eligible.then(|| Override {
                entry: approval(&c.author, c.created_at, Via::OverrideFreeze),
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
}

fn approval(login: &str, at: DateTime<Utc>, via: Via) -> Approval {
    Approval {
        login: login.to_owned(),
        at,
        via,
        rules: Vec::new(),
    }
}

/// Holds approval for `what` (said once as tampering) until `author` answers again.
fn hold(answers: &mut Answers, what: &str, author: &str) {
    answers.held.get_or_insert_with(|| {
        format!(
            "approval is held: {what}, so it is no answer and may have been one; {author} must answer again in a new comment"
        )
    });
    answers.tampering.push(what.to_owned());
}

/// Keeps the earliest rejection.
fn reject(rejection: &mut Option<Approval>, r: Approval) {
    if rejection.as_ref().is_none_or(|old| r.at < old.at) {
        *rejection = Some(r);
    }
}

/// A comment author's account id (GitHub names nobody for a deleted account: 0).
fn author_id(comment: &Comment) -> Option<u64> {
    (comment.author_id != 0).then_some(comment.author_id)
}
