//! The change under review: with `excludeChangeAuthors`, the authors and committers of the
//! gate's change (by GitHub account id, whatever their login is now) do not approve it,
//! and their rejections count; GitHub's web committer excludes nobody, nor does an author
//! GitHub links to no account. A change that cannot be read whole holds a gate that
//! excludes its authors (`ChangeUnreadable`) and never approves it; without exclusion the
//! gate goes on. Bots (GitHub Apps) never approve.

use super::*;
use crate::gate::change::{ChangeRead, ChangeView, WEB_FLOW};
use crate::github::change::{Account, ChangeCommit};
use crate::names::Reason;

fn account(login: &str) -> Account {
    Account {
        login: login.into(),
        id: user_id(login),
    }
}

fn commit(n: u64, author: Option<&str>, committer: Option<&str>) -> ChangeCommit {
    ChangeCommit {
        sha: format!("{n:040x}"),
        title: format!("change {n}"),
        html_url: format!("https://github.com/acme/app/commit/{n:040x}"),
        author_name: author.unwrap_or("Offline Person").into(),
        author: author.map(account),
        committer: committer.map(account),
    }
}

/// A change of `commits`, all of them read unless `total` says there are more.
fn change(commits: Vec<ChangeCommit>, total: u64) -> Option<ChangeRead> {
    Some(ChangeRead::Read(ChangeView {
        repository: "acme/app".into(),
        base: Some(format!("{:040x}", 0)),
        head: commits.last().map(|c| c.sha.clone()).unwrap_or_default(),
        commits,
        total,
        taken_out: false,
        dropped: 0,
        pulls: Default::default(),
    }))
}

fn excluding() -> Policy {
    Policy {
        exclude_change_authors: true,
        ..policy(1)
    }
}

fn approve(login: &str) -> Vec<Comment> {
    vec![comment(1, login, "/approve", at(1, 0))]
}

/// The issue as the function wrote it, listing `listed` (none: a change it could not read)
/// and bound with the seal of that text.
fn written(listed: Option<&ChangeRead>) -> (Issue, Binding) {
    let mut issue = issue(1, KEY);
    if let Some(ChangeRead::Read(view)) = listed {
        issue
            .body
            .push_str(&crate::gate::change_text::change_marker(view));
    }
    let binding = Binding {
        text: Some(crate::gate::issue::text_seal(&issue.title, &issue.body)),
        ..binding()
    };
    (issue, binding)
}

/// A change `login` wrote and committed, and the issue as the function wrote it listing
/// that change, with its binding.
pub(super) fn written_by(login: &str) -> (Option<ChangeRead>, Issue, Binding) {
    let read = change(vec![commit(9, Some(login), Some(login))], 1);
    let (issue, binding) = written(read.as_ref());
    (read, issue, binding)
}

pub(super) fn rows() -> Vec<Row> {
    let by_alice = || change(vec![commit(1, Some("alice"), Some("alice"))], 1);
    let by_carol = || change(vec![commit(2, Some("carol"), None)], 1);
    let listed = written(by_carol().as_ref());
    let unlisted = written(None);
    vec![
        Row {
            policy: excluding(),
            comments: approve("bob"),
            approvers: vec!["bob"],
            held: true,
            ..row("a gate that names no change holds where authors are excluded")
        },
        Row {
            change: by_carol(),
            issue: Some(listed.0.clone()),
            binding: Some(listed.1.clone()),
            comments: approve("bob"),
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("the issue lists the change read now: approvals count")
        },
        Row {
            change: by_carol(),
            issue: Some(unlisted.0.clone()),
            binding: Some(unlisted.1.clone()),
            comments: approve("bob"),
            actions: vec!["comment #1", "restore #1"],
            held: true,
            ..row(
                "the issue lists another change (it could not be read when opened): listed again, earlier approvals do not count",
            )
        },
        Row {
            change: by_carol(),
            issue: Some(unlisted.0.clone()),
            binding: Some(unlisted.1.clone()),
            comments: (2..6)
                .map(|id| {
                    let body = crate::gate::change_text::relisted_comment(KEY, at(1, 0), "0");
                    comment(id, BOT, &body, at(1, id as u32))
                })
                .collect(),
            actions: vec!["comment #1", "restore #1"],
            held: true,
            ..row(
                "a change listed again many times (the target moved each time) is still listed again: promotions are no edits",
            )
        },
        Row {
            policy: excluding(),
            change: by_alice(),
            comments: approve("alice"),
            ..row("the author of the change approves it: no approval")
        },
        Row {
            change: by_alice(),
            comments: approve("alice"),
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("without exclusion the author's approval counts")
        },
        Row {
            policy: excluding(),
            change: by_alice(),
            comments: approve("bob"),
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an approver who did not write the change approves it")
        },
        Row {
            policy: excluding(),
            change: by_alice(),
            comments: vec![comment(1, "alice", "/reject", at(1, 0))],
            state: GateState::Rejected,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("the author's rejection counts")
        },
        Row {
            policy: excluding(),
            change: change(vec![commit(1, Some("carol"), Some("dave"))], 1),
            comments: approve("dave"),
            ..row("the committer of a commit does not approve it either")
        },
        Row {
            policy: excluding(),
            change: change(vec![commit(1, Some("carol"), Some(WEB_FLOW.0))], 1),
            comments: approve("dave"),
            state: GateState::Approved,
            approvers: vec!["dave"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("GitHub's web committer excludes nobody")
        },
        Row {
            policy: excluding(),
            change: change(vec![commit(1, None, None)], 1),
            comments: approve("alice"),
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("an author GitHub links to no account cannot be told apart")
        },
        Row {
            policy: excluding(),
            change: change(vec![commit(1, Some("alice-old"), None)], 1).map(|c| {
                let ChangeRead::Read(mut view) = c else {
                    unreachable!()
                };
                view.commits[0].author = Some(Account {
                    login: "alice-old".into(),
                    id: user_id("alice"),
                });
                ChangeRead::Read(view)
            }),
            comments: approve("alice"),
            ..row("an author renamed since is known by the account's id")
        },
        Row {
            policy: excluding(),
            change: by_alice(),
            comments: vec![
                comment(1, "alice", "/approve", at(1, 0)),
                comment(2, "bob", "/approve", at(1, 5)),
            ],
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("the author's approval is left out, another approver's counts")
        },
        Row {
            policy: excluding(),
            change: Some(ChangeRead::Unreadable("GitHub knows no commit".into())),
            comments: approve("bob"),
            approvers: vec!["bob"],
            held: true,
            ..row("a change that cannot be read holds a gate that excludes its authors")
        },
        Row {
            policy: excluding(),
            change: change(vec![commit(1, Some("carol"), None)], 1_500),
            comments: approve("bob"),
            approvers: vec!["bob"],
            held: true,
            ..row("a change longer than the function reads holds a gate that excludes its authors")
        },
        Row {
            policy: excluding(),
            change: Some(ChangeRead::Unreadable("GitHub knows no commit".into())),
            comments: vec![comment(1, "bob", "/reject", at(1, 0))],
            state: GateState::Rejected,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("a veto counts while the change cannot be read")
        },
        Row {
            team_members: vec!["renovate[bot]"],
            comments: approve("renovate[bot]"),
            ..row("a bot in an approver team never approves")
        },
        Row {
            change: Some(ChangeRead::Unreadable("GitHub knows no commit".into())),
            comments: approve("bob"),
            state: GateState::Approved,
            approvers: vec!["bob"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("without exclusion an unreadable change holds nothing")
        },
    ]
}

#[test]
fn an_unreadable_change_says_so_in_the_approved_condition() {
    for row in rows()
        .into_iter()
        .filter(|r| r.held && r.name.contains("holds"))
    {
        let d = run(&row);
        let hold = d.hold.expect(row.name);
        assert_eq!(hold.reason(), Reason::ChangeUnreadable, "{}", row.name);
        assert!(!hold.asks(), "Approved=False, not Unknown: {}", row.name);
    }
}
