//! The fake repository's state: its issues, comments, events and Apps, and what changes them.

use super::*;

/// An issue (or pull request) in the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIssue {
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// `open` or `closed`.
    pub state: String,
    /// Raw `state_reason`.
    pub state_reason: Option<String>,
    /// Who closed it last.
    pub closed_by: Option<String>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who opened it.
    pub user: String,
    /// Deleted issues answer 410.
    pub deleted: bool,
    /// Whether it is a pull request.
    pub pull_request: bool,
    /// The last edit of the body, as GitHub records it (GraphQL `lastEditedAt`, `editor`).
    pub last_edited: Option<(DateTime<Utc>, String)>,
}

/// A comment in the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    /// Id.
    pub id: u64,
    /// The issue number.
    pub issue: u64,
    /// Author login.
    pub user: String,
    /// Body.
    pub body: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last edited.
    pub updated_at: DateTime<Utc>,
    /// When someone last edited it, as GitHub records it (GraphQL `lastEditedAt`),
    /// whatever the REST timestamps say.
    pub last_edited_at: Option<DateTime<Utc>>,
    /// Who last edited it.
    pub editor: Option<String>,
}

/// An issue event in the fake: who closed or reopened an issue, as GitHub records it
/// (nobody can edit or delete one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeEvent {
    /// Id.
    pub id: u64,
    /// The issue number.
    pub issue: u64,
    /// Who did it.
    pub actor: String,
    /// `closed` or `reopened`.
    pub event: String,
    /// The close's `state_reason`.
    pub state_reason: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The GitHub App the fake knows.
#[derive(Debug, Clone)]
pub struct FakeApp {
    /// App id (the JWT's `iss`).
    pub id: u64,
    /// Slug; the bot is `<slug>[bot]`.
    pub slug: String,
    /// The installation on the fake's repository.
    pub installation_id: u64,
    /// Lifetime of the installation tokens it issues.
    pub token_ttl: chrono::TimeDelta,
    /// The App's public key (PKCS#1 `RSAPublicKey` DER) that JWTs must verify with.
    pub public_key: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) now: DateTime<Utc>,
    pub(crate) users: BTreeMap<String, String>,
    pub(crate) app: Option<FakeApp>,
    pub(crate) installation_tokens: HashMap<String, DateTime<Utc>>,
    pub(crate) issues: BTreeMap<u64, FakeIssue>,
    pub(crate) comments: BTreeMap<u64, FakeComment>,
    pub(crate) events: Vec<FakeEvent>,
    pub(crate) next_number: u64,
    pub(crate) next_comment: u64,
    pub(crate) teams: BTreeMap<(String, String), BTreeMap<String, String>>,
    pub(crate) permissions: BTreeMap<String, String>,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) seen: Vec<Seen>,
    /// Requests GitHub's published API description would not accept, with why.
    pub(crate) violations: Vec<String>,
    /// Comments deleted, as each issue's timeline records them: (issue, when, author).
    pub(crate) deletions: Vec<(u64, DateTime<Utc>, String)>,
    /// Accounts renamed: the new login (lower-case) and the account's id.
    pub(crate) accounts: BTreeMap<String, u64>,
    /// Logins no account has any more (lower-case).
    pub(crate) gone: std::collections::BTreeSet<String>,
    /// Source repositories' histories (`owner/name`), oldest commit first.
    pub(crate) history: BTreeMap<String, Vec<super::history::FakeCommit>>,
}

impl State {
    /// The id of the account `login` names.
    pub(crate) fn id_of(&self, login: &str) -> u64 {
        self.accounts
            .get(&login.to_ascii_lowercase())
            .copied()
            .unwrap_or_else(|| function_release_pipeline::github::fake::user_id(login))
    }

    pub(crate) fn tick(&mut self) -> DateTime<Utc> {
        self.now += chrono::TimeDelta::seconds(1);
        self.now
    }

    pub(crate) fn create_issue(
        &mut self,
        login: &str,
        title: &str,
        body: &str,
        labels: Vec<String>,
        assignees: Vec<String>,
        pull_request: bool,
    ) -> u64 {
        let now = self.tick();
        let number = self.next_number;
        self.next_number += 1;
        self.issues.insert(
            number,
            FakeIssue {
                number,
                title: title.to_owned(),
                body: body.to_owned(),
                labels,
                assignees,
                state: "open".into(),
                state_reason: None,
                closed_by: None,
                closed_at: None,
                created_at: now,
                updated_at: now,
                user: login.to_owned(),
                deleted: false,
                pull_request,
                last_edited: None,
            },
        );
        // Like GitHub, an issue opened with labels and assignees has those as events.
        let issue = &self.issues[&number];
        let (labels, assignees) = (issue.labels.len(), issue.assignees.len());
        for _ in 0..labels {
            self.record(number, login, "labeled", None);
        }
        for _ in 0..assignees {
            self.record(number, login, "assigned", None);
        }
        number
    }

    pub(crate) fn add_comment(&mut self, number: u64, login: &str, body: &str) -> u64 {
        let now = self.tick();
        let id = self.next_comment;
        self.next_comment += 1;
        self.comments.insert(
            id,
            FakeComment {
                id,
                issue: number,
                user: login.to_owned(),
                body: body.to_owned(),
                created_at: now,
                updated_at: now,
                last_edited_at: None,
                editor: None,
            },
        );
        if let Some(issue) = self.issues.get_mut(&number) {
            issue.updated_at = now;
        }
        id
    }

    pub(crate) fn close(&mut self, number: u64, login: &str, reason: &str) {
        let now = self.tick();
        let issue = self.issues.get_mut(&number).expect("issue exists");
        issue.state = "closed".into();
        issue.state_reason = Some(reason.to_owned());
        issue.closed_by = Some(login.to_owned());
        issue.closed_at = Some(now);
        issue.updated_at = now;
        self.record(number, login, "closed", Some(reason));
    }

    pub(crate) fn reopen(&mut self, number: u64, login: &str) {
        let now = self.tick();
        let issue = self.issues.get_mut(&number).expect("issue exists");
        issue.state = "open".into();
        issue.state_reason = Some("reopened".into());
        issue.closed_at = None;
        issue.updated_at = now;
        self.record(number, login, "reopened", None);
    }

    /// Sets an issue's title and body, as `PATCH .../issues/{n}` does: a `renamed` event
    /// when the title changes, none for the body.
    pub(crate) fn retext(
        &mut self,
        number: u64,
        login: &str,
        title: Option<&str>,
        body: Option<&str>,
    ) {
        let now = self.tick();
        let issue = self.issues.get_mut(&number).expect("issue exists");
        let renamed = title.is_some_and(|t| t != issue.title);
        if let Some(title) = title {
            issue.title = title.to_owned();
        }
        if let Some(body) = body.filter(|b| *b != issue.body) {
            issue.body = body.to_owned();
            issue.last_edited = Some((now, login.to_owned()));
        }
        issue.updated_at = now;
        if renamed {
            self.record(number, login, "renamed", None);
        }
    }

    pub(crate) fn record(&mut self, number: u64, login: &str, event: &str, reason: Option<&str>) {
        let id = 5_000 + self.events.len() as u64;
        self.events.push(FakeEvent {
            id,
            issue: number,
            actor: login.to_owned(),
            event: event.to_owned(),
            state_reason: reason.map(str::to_owned),
            created_at: self.now,
        });
    }

    pub(crate) fn comment_count(&self, number: u64) -> usize {
        self.comments.values().filter(|c| c.issue == number).count()
    }

    pub(crate) fn take_fault(&mut self, route: Route) -> Option<Fault> {
        let index = self
            .faults
            .iter()
            .position(|f| f.route.is_none_or(|r| r == route) && f.remaining != Some(0))?;
        let rule = &mut self.faults[index];
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }
}
