//! The view against the in-memory fake: what a gate sends when its issue did not change,
//! when it did, and the rules that keep remembered reads from deciding anything.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::state::{FEED_PAGE, FIRST_LOOKBACK, MEMO_MAX_AGE, OVERLAP, ViewState};
use super::*;
use crate::github::fake::{Call, FakeConnector, FakeGitHub, user_id};
use crate::github::{
    CloseReason, CommentChange, Credentials, NewIssue, Repo, Repos, Secret, Writes,
};

/// What these tests find issues by: every issue carries the tag `all`.
fn all(_: &Issue) -> Vec<String> {
    vec!["all".into()]
}

const LOOK: Duration = Duration::from_secs(15);

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

fn target() -> Target {
    Target {
        api_url: "https://api.github.com".into(),
        owner: "acme".into(),
        repo: "release-approvals".into(),
    }
}

fn credentials() -> Credentials {
    Credentials::Token(Secret::new("ghp_view"))
}

fn me() -> Identity {
    Identity {
        login: "release-bot".into(),
        id: user_id("release-bot"),
    }
}

fn new_issue(title: &str) -> NewIssue {
    NewIssue {
        title: title.into(),
        body: format!("body of {title}"),
        labels: vec!["release-gate".into()],
        assignees: Vec::new(),
    }
}

async fn open(repos: &Repos) -> Repo {
    repos.open(&target(), &credentials()).await.unwrap()
}

/// One gate's poll as the gate reads: remembered reads of its candidates, issue `number`,
/// its comments and events. Returns the calls it sent to GitHub.
async fn poll(repos: &Repos, fake: &FakeGitHub, now: DateTime<Utc>, number: u64) -> Vec<Call> {
    fake.set_now(now);
    fake.clear_calls();
    let repo = open(repos).await;
    let reads = repo.remembered(&me(), now, LOOK).await.unwrap();
    reads.tagged(&["all".into()]).await.unwrap();
    reads.issue(number).await.unwrap();
    reads.comments(number).await.unwrap();
    reads.events(number).await.unwrap();
    fake.calls()
}

fn feeds() -> Vec<Call> {
    vec![
        Call::ListChangedIssues("release-bot".into()),
        Call::ListChangedComments,
    ]
}

fn setup() -> (Repos, FakeGitHub, u64) {
    let fake = FakeGitHub::default();
    fake.set_now(at(0));
    let number = fake.user_opens("release-bot", &new_issue("gate")).number;
    let repos = Repos::new(Arc::new(FakeConnector::new(fake.clone())), all).with_views(1 << 20);
    (repos, fake, number)
}

#[tokio::test]
async fn a_gate_whose_issue_did_not_change_sends_nothing_of_its_own() {
    let (connector, fake, n) = setup();
    // The first poll lists every issue of the function and seeds the reads of the open
    // ones from the repository's comments and issue events: the gate reads nothing.
    let first = poll(&connector, &fake, at(10), n).await;
    assert_eq!(
        first,
        vec![
            Call::ListIssues("release-bot".into()),
            Call::ListRepoComments(1),
            Call::ListRepoEvents(1),
            Call::ListChangedComments,
        ]
    );
    // Within the look interval: nothing at all.
    assert_eq!(poll(&connector, &fake, at(20), n).await, vec![]);
    // After it: the two feeds, and nothing of the gate's own.
    assert_eq!(poll(&connector, &fake, at(30), n).await, feeds());
    // A thousand gates polling the same unchanged repository share the look.
    let mut calls = Vec::new();
    for _ in 0..1000 {
        calls.extend(poll(&connector, &fake, at(40), n).await);
    }
    assert_eq!(calls, vec![], "the view looked at 30s, within 15s of 40s");
}

#[tokio::test]
async fn a_gate_reads_its_issue_again_once_the_view_sees_a_comment_an_edit_or_a_close() {
    let (connector, fake, n) = setup();
    poll(&connector, &fake, at(10), n).await;
    fake.set_now(at(12));
    fake.user_comments(n, "alice", "/approve");
    let seen = poll(&connector, &fake, at(30), n).await;
    assert!(seen.contains(&Call::ListComments(n)), "{seen:?}");
    assert!(seen.contains(&Call::GetIssue(n)), "{seen:?}");
    assert_eq!(poll(&connector, &fake, at(50), n).await, feeds());

    // An edit does not move the issue's `updated_at` here; the comment feed sees it.
    let id = fake.comments(n)[0].id;
    fake.set_now(at(55));
    fake.user_edits_comment(id, "/approve (edited)");
    let seen = poll(&connector, &fake, at(70), n).await;
    assert!(seen.contains(&Call::ListComments(n)), "{seen:?}");
    let repo = open(&connector).await;
    let reads = repo.remembered(&me(), at(71), LOOK).await.unwrap();
    let comments = reads.comments(n).await.unwrap();
    assert_eq!(comments[0].body, "/approve (edited)");

    // A close by someone moves it too.
    fake.set_now(at(75));
    fake.user_closes(n, "mallory", CloseReason::Completed);
    let seen = poll(&connector, &fake, at(90), n).await;
    assert!(seen.contains(&Call::ListEvents(n)), "{seen:?}");
}

#[tokio::test]
async fn the_function_s_own_write_makes_the_next_read_go_to_github() {
    let (connector, fake, n) = setup();
    poll(&connector, &fake, at(10), n).await;
    let repo = open(&connector).await;
    repo.remembered(&me(), at(12), LOOK).await.unwrap();
    repo.close_issue(n, CloseReason::NotPlanned).await.unwrap();
    // Before the view looks again, the issue is read from GitHub, closed.
    let seen = poll(&connector, &fake, at(13), n).await;
    assert!(seen.contains(&Call::GetIssue(n)), "{seen:?}");
    let repo = open(&connector).await;
    let reads = repo.remembered(&me(), at(14), LOOK).await.unwrap();
    assert_eq!(
        reads.issue(n).await.unwrap().unwrap().state,
        crate::github::IssueState::Closed
    );
}

#[tokio::test]
async fn fresh_reads_send_every_read_of_the_issue_and_a_look_to_github() {
    let (connector, fake, n) = setup();
    poll(&connector, &fake, at(10), n).await;
    fake.clear_calls();
    let repo = open(&connector).await;
    let remembered = repo.remembered(&me(), at(12), LOOK).await.unwrap();
    assert!(remembered.remembered());
    remembered.comments(n).await.unwrap();
    assert_eq!(fake.calls(), vec![], "remembered");
    let fresh = repo.fresh(&me(), at(12)).await.unwrap();
    assert!(!fresh.remembered());
    fresh.issue(n).await.unwrap();
    fresh.comments(n).await.unwrap();
    fresh.events(n).await.unwrap();
    let mut expected = feeds();
    expected.extend([
        Call::GetIssue(n),
        Call::ListComments(n),
        Call::ListEvents(n),
    ]);
    assert_eq!(fake.calls(), expected);
    // Without a view, every read is fresh.
    let direct = Repos::new(Arc::new(FakeConnector::new(fake.clone())), all);
    let repo = open(&direct).await;
    assert!(
        !repo
            .remembered(&me(), at(12), LOOK)
            .await
            .unwrap()
            .remembered()
    );
}

#[tokio::test]
async fn an_issue_opened_behind_a_failed_request_is_found_by_the_next_look() {
    let (connector, fake, n) = setup();
    poll(&connector, &fake, at(10), n).await;
    // The request fails, but GitHub opened the issue (as after a lost answer).
    let repo = open(&connector).await;
    repo.remembered(&me(), at(11), LOOK).await.unwrap();
    fake.fail_with(Some(crate::github::GitHubError::Timeout("lost".into())));
    assert!(repo.open_issue(&new_issue("second")).await.is_err());
    fake.fail_with(None);
    let opened = fake.user_opens("release-bot", &new_issue("second")).number;
    // Within the look interval, the next look still goes to GitHub and finds it.
    let repo = open(&connector).await;
    let reads = repo.remembered(&me(), at(12), LOOK).await.unwrap();
    let listed: Vec<u64> = reads
        .tagged(&["all".into()])
        .await
        .unwrap()
        .issues
        .iter()
        .map(|i| i.number)
        .collect();
    assert_eq!(listed, vec![n, opened]);
}

#[tokio::test]
async fn a_failed_look_leaves_the_view_and_fails_the_call() {
    let (connector, fake, n) = setup();
    poll(&connector, &fake, at(10), n).await;
    fake.fail_with(Some(crate::github::GitHubError::Server {
        status: 502,
        message: "bad gateway".into(),
    }));
    let repo = open(&connector).await;
    assert!(repo.remembered(&me(), at(30), LOOK).await.is_err());
    fake.fail_with(None);
    // The view is still there: the next look reads only the feeds.
    let seen = poll(&connector, &fake, at(31), n).await;
    assert_eq!(seen, feeds());
}

#[tokio::test]
async fn reads_are_remembered_for_at_most_six_hours() {
    let (connector, fake, n) = setup();
    poll(&connector, &fake, at(10), n).await;
    let later = at(10) + MEMO_MAX_AGE;
    let seen = poll(&connector, &fake, later, n).await;
    assert!(seen.contains(&Call::ListComments(n)), "{seen:?}");
}

#[tokio::test]
async fn the_view_belongs_to_the_identity_and_repository_not_to_a_token() {
    let (connector, fake, n) = setup();
    poll(&connector, &fake, at(10), n).await;
    fake.clear_calls();
    // A rotated token of the same account keeps the view: nothing to list again.
    let rotated = Credentials::Token(Secret::new("ghp_rotated"));
    let repo = connector.open(&target(), &rotated).await.unwrap();
    repo.remembered(&me(), at(11), LOOK).await.unwrap();
    assert_eq!(fake.calls(), Vec::new());
    // Another repository, or another account, has a view of its own.
    let other_repo = Target {
        repo: "other-approvals".into(),
        ..target()
    };
    let repo = connector.open(&other_repo, &rotated).await.unwrap();
    repo.remembered(&me(), at(11), LOOK).await.unwrap();
    assert!(
        fake.calls()
            .contains(&Call::ListIssues("release-bot".into()))
    );
    fake.clear_calls();
    let someone = Identity {
        login: "other-bot".into(),
        id: user_id("other-bot"),
    };
    let repo = connector.open(&target(), &rotated).await.unwrap();
    repo.remembered(&someone, at(11), LOOK).await.unwrap();
    assert!(fake.calls().contains(&Call::ListIssues("other-bot".into())));
}

/// Views share one budget: when all of them hold more, the least recently used others
/// go whole, rather than the view in use dropping what its gates need.
#[tokio::test]
async fn over_the_budget_the_least_recently_used_view_goes() {
    let fake = FakeGitHub::new("release-bot");
    fake.set_now(at(0));
    for i in 0..40 {
        fake.user_opens("release-bot", &new_issue(&format!("gate {i}")));
    }
    let views = Views::new(1 << 20);
    let repos = |name: &str| Target {
        repo: name.into(),
        ..target()
    };
    let (a, b, c) = (repos("a"), repos("b"), repos("c"));
    for t in [&a, &b] {
        let view = views.view(t, &me());
        view.look(&fake, &me(), at(1), LOOK, false).await.unwrap();
    }
    let two = views.bytes();
    assert!(two > 0);
    assert_eq!(views.len(), 2);
    // Under a budget a little over what one view holds, the view that grows keeps what
    // its gates read and the least recently used other goes whole.
    let small = Views::new(two / 2 + two / 8);
    for t in [&a, &b] {
        let view = small.view(t, &me());
        view.look(&fake, &me(), at(1), LOOK, false).await.unwrap();
    }
    assert_eq!(small.len(), 1, "a went");
    assert_eq!(small.bytes(), two / 2, "b holds all of its issues");
    // A view in use is never dropped for bytes it would keep holding: `c` grows while a
    // call still holds `b`, so `c` gives back its own least recently used instead.
    let held = small.view(&b, &me());
    let c_view = small.view(&c, &me());
    c_view.look(&fake, &me(), at(1), LOOK, false).await.unwrap();
    assert_eq!(small.len(), 2, "b is in use: it stays");
    assert!(
        small.bytes() <= two / 2 + two / 8,
        "{} bytes",
        small.bytes()
    );
    drop(held);
}

// ----- the state alone -----

fn issue(number: u64, updated: i64, open: bool) -> Issue {
    Issue {
        number,
        html_url: String::new(),
        title: format!("#{number}"),
        body: "x".repeat(200),
        state: if open {
            crate::github::IssueState::Open
        } else {
            crate::github::IssueState::Closed
        },
        state_reason: None,
        closed_by: None,
        closed_at: None,
        created_at: at(0),
        updated_at: at(updated),
        author: "release-bot".into(),
        author_id: me().id,
        labels: Vec::new(),
    }
}

fn state(max_bytes: usize) -> ViewState {
    ViewState::new(me(), Arc::default(), max_bytes)
}

/// A full listing of `issues`, begun and ended at `now`.
fn list_whole(view: &mut ViewState, issues: Vec<Issue>, now: DateTime<Utc>) {
    let dropped = view.dropped;
    let listed = issues.iter().map(|i| i.number).collect();
    view.take_listed(issues);
    view.finish_listing(&listed, now, dropped);
}

#[test]
fn an_older_read_never_replaces_a_newer_change() {
    let mut view = state(1 << 20);
    view.upsert(issue(1, 100, false));
    let stamp = view.stamp_of(1);
    view.read_issue(issue(1, 50, true), at(200));
    assert_eq!(view.stamp_of(1), stamp);
    assert_eq!(view.remembered_issue(1, at(201)), None, "not remembered");
    assert_eq!(view.issues()[0].state, crate::github::IssueState::Closed);
}

#[test]
fn issues_someone_else_opened_are_not_kept() {
    let mut view = state(1 << 20);
    view.upsert(Issue {
        author_id: 7,
        ..issue(1, 0, true)
    });
    assert!(view.is_empty());
}

#[test]
fn a_comment_seen_again_unchanged_does_not_mark_its_issue() {
    let mut view = state(1 << 20);
    view.upsert(issue(1, 0, true));
    let change = |at_secs| CommentChange {
        id: 9,
        issue: 1,
        updated_at: at(at_secs),
    };
    view.take_changed_comments(vec![change(10)], at(20));
    let stamp = view.stamp_of(1);
    view.take_changed_comments(vec![change(10)], at(30));
    assert_eq!(view.stamp_of(1), stamp);
    view.take_changed_comments(vec![change(25)], at(40));
    assert_ne!(view.stamp_of(1), stamp, "an edit");
}

#[test]
fn a_feed_bound_stays_while_changes_are_recent_and_moves_through_a_flood() {
    let mut view = state(1 << 20);
    list_whole(&mut view, vec![issue(1, 0, true)], at(0));
    assert_eq!(view.issues_since, Some(at(0) - FIRST_LOOKBACK));
    // A change a minute later moves it on from the listing's lookback, keeping the
    // overlap; one a minute after that: the same request serves (no new bound).
    view.take_changed_issues(vec![issue(1, 60, true)], at(70));
    let start = view.issues_since.unwrap();
    assert_eq!(start, at(60) - OVERLAP);
    view.take_changed_issues(vec![issue(1, 120, true)], at(130));
    assert_eq!(view.issues_since, Some(start));
    // Ten minutes later it moves on, keeping the overlap.
    view.take_changed_issues(vec![issue(1, 600, true)], at(610));
    assert_eq!(view.issues_since, Some(at(600) - OVERLAP));
    // A page's worth of changes within one second still moves it on.
    let since = view.issues_since.unwrap();
    let flood: Vec<Issue> = (0..FEED_PAGE as u64 + 5)
        .map(|n| issue(100 + n, 600, true))
        .collect();
    view.take_changed_issues(flood, at(620));
    assert!(view.issues_since.unwrap() > since);
    assert!(
        view.issues_since.unwrap() < at(600),
        "the flood's second is listed again"
    );
}

#[test]
fn memory_goes_back_reads_first_then_closed_issues_and_the_view_says_so() {
    let mut view = state(15_000);
    view.upsert(issue(0, 0, true));
    view.read_comments(0, view.stamp_of(0).unwrap(), at(0), Vec::new());
    for n in 1..60 {
        view.upsert(issue(n, n as i64, n % 2 == 0));
    }
    view.fit();
    assert!(view.bytes() <= 15_000, "{}", view.bytes());
    assert!(view.incomplete);
    // Reads went first, then closed issues, least recently changed first; every open
    // issue is kept.
    assert_eq!(view.remembered_comments(0, at(1)), None);
    let kept = view.issues();
    let open = |i: &&Issue| i.state == crate::github::IssueState::Open;
    assert_eq!(kept.iter().filter(open).count(), 30);
    let closed: Vec<u64> = kept.iter().filter(|i| !open(i)).map(|i| i.number).collect();
    assert!(closed.len() < 30, "{closed:?}");
    assert!(
        closed.iter().all(|n| *n > 60 - 2 * closed.len() as u64),
        "{closed:?}"
    );
    // A full listing makes it complete again when it fits.
    let mut small = state(1 << 20);
    small.incomplete = true;
    list_whole(&mut small, vec![issue(1, 0, true)], at(0));
    assert!(!small.incomplete);
}

#[test]
fn views_give_their_bytes_back_when_dropped() {
    let total: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
    {
        let mut view = ViewState::new(me(), total.clone(), 1 << 20);
        view.upsert(issue(1, 0, true));
        view.read_comments(1, view.stamp_of(1).unwrap(), at(0), Vec::new());
        assert!(total.load(std::sync::atomic::Ordering::Relaxed) > 0);
    }
    assert_eq!(total.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[test]
fn a_flood_within_one_second_does_not_stick_a_feed() {
    let mut view = state(1 << 20);
    list_whole(&mut view, vec![issue(1, 0, true)], at(0));
    let flood = || -> Vec<Issue> {
        (0..FEED_PAGE as u64 + 5)
            .map(|n| issue(100 + n, 10, true))
            .collect()
    };
    let mut bounds = Vec::new();
    for _ in 0..4 {
        view.take_changed_issues(flood(), at(20));
        bounds.push(view.issues_since.unwrap());
    }
    assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{bounds:?}");
    assert!(*bounds.last().unwrap() >= at(10), "{bounds:?}");
}

/// A listing read page after page over a while takes its issues as they were when each
/// page was read: the feed's bound goes back to the listing's start (less the lookback),
/// so what changed meanwhile is read again, and it never moves forward by a listing.
#[test]
fn a_full_listing_moves_the_feed_bound_back_to_its_start() {
    let mut view = state(1 << 20);
    list_whole(&mut view, vec![issue(1, 0, true)], at(0));
    view.take_changed_issues(vec![issue(1, 900, true)], at(910));
    assert_eq!(view.issues_since, Some(at(900) - OVERLAP));
    list_whole(&mut view, vec![issue(1, 330, true)], at(940));
    assert_eq!(view.issues_since, Some(at(940) - FIRST_LOOKBACK));
    list_whole(&mut view, vec![issue(1, 330, true)], at(2000));
    assert_eq!(
        view.issues_since,
        Some(at(940) - FIRST_LOOKBACK),
        "not forward"
    );
    // The newer change the view took in stays: a page read earlier does not undo it.
    assert_eq!(view.issues()[0].updated_at, at(900));
}

#[tokio::test]
async fn a_clock_set_back_looks_again() {
    let (connector, fake, n) = setup();
    poll(&connector, &fake, at(1000), n).await;
    // A call that waited behind a later one, a second behind: no look.
    assert_eq!(poll(&connector, &fake, at(999), n).await, vec![]);
    // A clock set back by an hour: the view lists again, and nothing remembered serves.
    let seen = poll(&connector, &fake, at(1000 - 3600), n).await;
    assert!(
        seen.contains(&Call::ListIssues("release-bot".into())),
        "{seen:?}"
    );
    assert!(seen.contains(&Call::ListComments(n)), "{seen:?}");
}

/// A history too long for one call: each look lists as far as its call lets it, keeps
/// every page it read, and the next goes on from there (a listing that began again with
/// every call would never end); the view holds every issue once the last page is in.
#[tokio::test(start_paused = true)]
async fn a_listing_longer_than_a_call_goes_on_across_calls() {
    let fake = FakeGitHub::new("release-bot");
    fake.set_now(at(0));
    for i in 0..10 {
        fake.open_issue(&new_issue(&format!("gate {i}")))
            .await
            .unwrap();
    }
    // Five pages of two, each taking a second; each call has 2.5 seconds.
    fake.set_listing_pages(2, Duration::from_secs(1));
    fake.clear_calls();
    let repos = Repos::new(Arc::new(FakeConnector::new(fake.clone())), all).with_views(1 << 20);
    let mut calls = 0;
    let tagged = loop {
        calls += 1;
        assert!(calls <= 5, "the listing never completes");
        let repo = open(&repos).await;
        let me = me();
        let look = repo.remembered(&me, at(calls), LOOK);
        let Ok(reads) = tokio::time::timeout(Duration::from_millis(2500), look).await else {
            continue;
        };
        let reads = reads.unwrap();
        break reads.tagged(&["all".into()]).await.unwrap();
    };
    assert!(tagged.complete);
    assert_eq!(tagged.issues.len(), 10);
    assert_eq!(
        calls, 3,
        "two pages per cancelled call, the last one in the third"
    );
    let pages = fake
        .calls()
        .iter()
        .filter(|c| matches!(c, Call::ListIssues(_)))
        .count();
    // Pages 1 and 2, then 3 (cancelled), 3 and 4, then 5 (cancelled), 5: a page taken is
    // never asked for again; only the one a cancelled call waited for is.
    assert_eq!(pages, 7, "{:?}", fake.calls());
}

/// While the first listing goes on, the view answers with the pages listed so far and
/// says it is not complete, and a gate's reads by number go to GitHub.
#[tokio::test]
async fn a_view_whose_listing_goes_on_says_so() {
    let fake = FakeGitHub::new("release-bot");
    fake.set_now(at(0));
    let pages = usize::try_from(LISTING_PAGES_PER_LOOK).unwrap();
    for i in 0..pages + 3 {
        fake.open_issue(&new_issue(&format!("gate {i}")))
            .await
            .unwrap();
    }
    fake.set_listing_pages(1, Duration::ZERO);
    let repos = Repos::new(Arc::new(FakeConnector::new(fake.clone())), all).with_views(1 << 20);
    let repo = open(&repos).await;
    let reads = repo.remembered(&me(), at(1), LOOK).await.unwrap();
    let tagged = reads.tagged(&["all".into()]).await.unwrap();
    assert!(!tagged.complete);
    assert_eq!(tagged.issues.len(), pages);
    fake.clear_calls();
    let last = u64::try_from(pages + 3).unwrap();
    assert!(reads.issue(last).await.unwrap().is_some());
    assert_eq!(fake.calls(), vec![Call::GetIssue(last)]);
    // The next look lists the rest, then follows the feeds.
    let reads = repo.remembered(&me(), at(2), LOOK).await.unwrap();
    let tagged = reads.tagged(&["all".into()]).await.unwrap();
    assert!(tagged.complete);
    assert_eq!(tagged.issues.len(), pages + 3);
}

/// A feed cut at its limit may stop short of an issue just opened: until a look's feed
/// comes back whole, the view does not say it holds every issue (so no gate takes its
/// issue for missing and opens another), and it looks again on every call.
#[tokio::test]
async fn a_feed_cut_at_its_limit_keeps_the_view_from_saying_it_holds_everything() {
    let fake = FakeGitHub::new("release-bot");
    fake.set_now(at(0));
    let repos = Repos::new(Arc::new(FakeConnector::new(fake.clone())), all).with_views(1 << 30);
    let tagged = |now| {
        let repos = repos.clone();
        async move {
            let repo = open(&repos).await;
            let reads = repo.remembered(&me(), now, LOOK).await.unwrap();
            reads.tagged(&["all".into()]).await.unwrap()
        }
    };
    assert!(tagged(at(1)).await.complete);
    fake.set_now(at(100));
    for i in 0..crate::github::FEED_MAX_ITEMS {
        fake.user_opens("release-bot", &new_issue(&format!("gate {i}")));
    }
    let after = at(100) + TimeDelta::from_std(LOOK).unwrap();
    assert!(
        !tagged(after).await.complete,
        "the feed came back at its limit"
    );
    // The same second: looked at again at once, and whole after a few looks.
    let mut looks = 1;
    while !tagged(after).await.complete {
        looks += 1;
        assert!(looks < 6, "the feed never comes back whole");
    }
    let whole = tagged(after).await;
    assert_eq!(whole.issues.len(), crate::github::FEED_MAX_ITEMS);
}

/// After a restart the open issues' reads come from the repository's comments and issue
/// events, a page at a time across looks, not from each gate: a gate whose issue did not
/// change reads nothing. An issue that changed while seeding went on is read by its gate;
/// so are the events of an issue once closed (the repository's events do not say why).
#[tokio::test]
async fn a_restarted_view_seeds_the_open_issues_reads_from_the_repositorys_comments() {
    let fake = FakeGitHub::new("release-bot");
    // Requests of an hour ago, answered since.
    fake.set_now(at(-3600));
    let numbers: Vec<u64> = (0..30)
        .map(|i| {
            fake.user_opens("release-bot", &new_issue(&format!("gate {i}")))
                .number
        })
        .collect();
    for n in &numbers {
        fake.user_comments(*n, "alice", "Looks fine.");
    }
    fake.user_comments(numbers[0], "bob", "/approve");
    fake.user_closes(numbers[1], "carol", CloseReason::NotPlanned);
    fake.user_reopens(numbers[1], "release-bot");
    // A page holds one issue, comment or event: the listing (30 pages) and the seeding
    // (31 + 2) each take more than one look.
    fake.set_listing_pages(1, Duration::ZERO);
    let repos = Repos::new(Arc::new(FakeConnector::new(fake.clone())), all).with_views(1 << 20);
    // Three calls within one look interval: the listing, the listing's end and most of
    // the seeding, the seeding's end. Bob comments on the sixth request meanwhile.
    for look in [at(1), at(2), at(3)] {
        if look == at(3) {
            fake.set_now(at(2));
            fake.user_comments(numbers[5], "bob", "/reject");
        }
        let repo = open(&repos).await;
        repo.remembered(&me(), look, LOOK).await.unwrap();
    }
    let repo = open(&repos).await;
    let reads = repo.remembered(&me(), at(4), LOOK).await.unwrap();
    fake.clear_calls();
    for n in &numbers {
        reads.comments(*n).await.unwrap();
        reads.issue(*n).await.unwrap();
        assert_eq!(reads.events(*n).await.unwrap(), fake.events(*n));
    }
    assert_eq!(
        fake.calls(),
        vec![Call::ListEvents(numbers[1])],
        "every open request was seeded, but the events of the one closed and reopened"
    );
    // The next look's feed sees bob's comment: only that request is read again.
    let repo = open(&repos).await;
    let reads = repo.remembered(&me(), at(20), LOOK).await.unwrap();
    fake.clear_calls();
    for n in &numbers {
        assert_eq!(reads.comments(*n).await.unwrap(), fake.comments(*n));
        assert!(reads.issue(*n).await.unwrap().is_some());
        reads.events(*n).await.unwrap();
    }
    assert_eq!(
        fake.calls(),
        vec![
            Call::ListComments(numbers[5]),
            Call::GetIssue(numbers[5]),
            Call::ListEvents(numbers[5])
        ],
        "only the request that changed is read"
    );
}

/// Other people's long comments are remembered by their answers only (a view holds what
/// gates decide by, not pasted logs); the function's own records stay whole, and a fresh
/// read, which decides, gets every comment whole.
#[tokio::test]
async fn a_view_remembers_other_peoples_long_comments_by_their_answers() {
    let (repos, fake, n) = setup();
    let log = "step 12 finished without error\n".repeat(2_000);
    fake.user_comments(n, "alice", &format!("{log}  /approve\n{log}"));
    let record = format!("<!-- a record -->{}", "x".repeat(10_000));
    fake.user_comments(n, "release-bot", &record);
    poll(&repos, &fake, at(10), n).await;
    let repo = open(&repos).await;
    let remembered = repo.remembered(&me(), at(12), LOOK).await.unwrap();
    fake.clear_calls();
    let kept = remembered.comments(n).await.unwrap();
    assert_eq!(fake.calls(), vec![], "remembered");
    assert_eq!(kept[0].body, "/approve\n");
    assert_eq!(kept[1].body, record);
    let held = repos.views().unwrap().bytes();
    assert!(held < 15_000, "{held} bytes held for 130 KB of comments");
    let fresh = repo.fresh(&me(), at(12)).await.unwrap();
    assert_eq!(fresh.comments(n).await.unwrap(), fake.comments(n));
}
