//! Seeding a restarted replica's view: once its first full listing has ended, the reads
//! of the function's open issues come from the repository's comments (whole, a page of 100
//! at a time, across calls like the listing) and its issue events, not from each gate
//! reading its own issue, comments and events. An issue that changed while seeding went on
//! is left to its gate. Remembered reads keep gates waiting and never decide, so a seeded
//! read is no verdict.
//!
//! The repository's issue events come newest first, with no `since` and no order GitHub's
//! description promises: they are read down to the oldest open issue's opening (no event of
//! an open issue is older) and taken only while each is no newer than the one before
//! (repeats dropped: an event added meanwhile shifts the pages). An order other than that,
//! a failed page or too many pages leave every gate to read its own events. They do not say
//! why an issue was closed, so the events of an issue ever closed or reopened are not
//! seeded either.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use super::bytes;
use super::state::ViewState;
use crate::github::{Comment, CommentPage, EventKind, EventPage, IssueEvent};

/// At most this many pages of comments are read in one look.
pub const SEED_PAGES_PER_LOOK: u32 = 20;

/// Seeding reads at most this many pages in all (20,000 comments): a repository whose
/// open requests span a longer history is left to its gates.
pub const SEED_MAX_PAGES: u32 = 200;

/// What seeding reads next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Page `.1` of the repository's comments written or edited since `.0`.
    Comments(DateTime<Utc>, u32),
    /// Page `.0` of the repository's issue events.
    Events(u32),
}

/// A page seeding asked for.
pub enum Page {
    /// Of comments.
    Comments(CommentPage),
    /// Of issue events.
    Events(EventPage),
}

/// Where seeding is after a page.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// It reads on.
    More,
    /// It has read what it needs: [`Seed::finish`].
    Done,
    /// It is given up: each gate reads its own.
    GiveUp,
}

/// The events read so far.
#[derive(Default)]
struct Events {
    /// The open issues' events.
    of: HashMap<u64, Vec<IssueEvent>>,
    seen: HashSet<u64>,
    /// The time of the last event taken (each is no newer than the one before).
    last: Option<DateTime<Utc>>,
    /// The events could not be read as needed: none is seeded.
    given_up: bool,
}

/// Seeding reads at most one page of issue events per this many open issues (one fewer
/// read each, so a page past that would save less than it cost), and never more than
/// [`EVENT_MAX_PAGES`].
pub const OPEN_ISSUES_PER_EVENT_PAGE: usize = 4;

/// Seeding reads at most this many pages of issue events (250,000 events).
pub const EVENT_MAX_PAGES: u32 = 2_500;

/// How far before the oldest open issue's opening the issue events are read.
const STOP_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Seeding under way.
pub struct Seed {
    /// The comments read are those written or edited since the oldest open issue was
    /// opened: every comment of every open issue. The events read go back that far.
    pub since: DateTime<Utc>,
    /// The next page to read.
    pub next_page: u32,
    /// When seeding began (its listing's start): what it read is as old as that.
    began: DateTime<Utc>,
    /// The comments were all read: the events are.
    reading_events: bool,
    /// The open issues, with their stamps when seeding began.
    stamps: HashMap<u64, u64>,
    /// The function's account id: other people's comments are held abridged.
    me: u64,
    comments: HashMap<u64, Vec<Comment>>,
    events: Events,
    bytes: usize,
    /// The replica's views' bytes, which the comments held here count into.
    total: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl Drop for Seed {
    fn drop(&mut self) {
        self.total.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

impl Seed {
    /// What to seed once a first listing has ended: the open issues of `view`. `None`
    /// when none is open. The comments held count into `total`, the bytes of all the
    /// replica's views; seeding gives up when that passes `max_bytes`, their budget.
    pub fn begin(
        view: &ViewState,
        began: DateTime<Utc>,
        total: Arc<AtomicUsize>,
        max_bytes: usize,
    ) -> Option<Seed> {
        let open = view.open_issues();
        let since = open.iter().map(|(_, _, opened)| *opened).min()?;
        Some(Seed {
            since,
            next_page: 1,
            began,
            reading_events: false,
            events: Events::default(),
            me: view.me.id,
            stamps: open.iter().map(|(n, stamp, _)| (*n, *stamp)).collect(),
            comments: HashMap::new(),
            bytes: 0,
            total,
            max_bytes,
        })
    }

    /// What to read next.
    pub fn next(&self) -> Next {
        if self.reading_events {
            Next::Events(self.next_page)
        } else {
            Next::Comments(self.since, self.next_page)
        }
    }

    /// Takes in the page read for `next` (or its failure).
    pub fn take(&mut self, page: crate::github::Result<Page>) -> Step {
        match page {
            Ok(Page::Comments(page)) if !self.reading_events => self.take_comments(page),
            Ok(Page::Events(page)) if self.reading_events => self.take_events(page),
            Ok(_) => Step::GiveUp,
            Err(e) if self.reading_events => {
                tracing::debug!(error = %e, "seeding of events given up");
                self.events.given_up = true;
                Step::Done
            }
            Err(e) => {
                tracing::debug!(error = %e, "seeding given up");
                Step::GiveUp
            }
        }
    }

    /// Counts `bytes` more held here into the views' budget; false past it.
    fn hold(&mut self, bytes: usize) -> bool {
        self.bytes += bytes;
        self.total.fetch_add(bytes, Ordering::Relaxed) + bytes <= self.max_bytes
    }

    /// Takes in one page of comments (those on open issues); gives up when they outgrew
    /// the budget or seeding ran too long.
    fn take_comments(&mut self, page: CommentPage) -> Step {
        let mut within = true;
        for (number, comment) in page.comments {
            if self.stamps.contains_key(&number) {
                let comment = super::abridge::abridged(comment, self.me);
                within &= self.hold(bytes::comments_bytes(std::slice::from_ref(&comment)));
                self.comments.entry(number).or_default().push(comment);
            }
        }
        self.next_page += 1;
        if !within || self.next_page > SEED_MAX_PAGES {
            return Step::GiveUp;
        }
        if !page.more {
            self.reading_events = true;
            self.next_page = 1;
        }
        Step::More
    }

    /// Takes in one page of issue events (those on open issues), newest first; done once
    /// a page reached past the oldest open issue's opening, or was the last. An event
    /// newer than the one before, more pages than the open issues are worth or bytes past
    /// the budget: no event is seeded.
    fn take_events(&mut self, page: EventPage) -> Step {
        let mut reached = !page.more;
        for (number, event) in page.events {
            if !self.events.seen.insert(event.id) {
                continue;
            }
            if self.events.last.is_some_and(|last| event.created_at > last) {
                tracing::debug!("the repository's issue events are not newest first");
                self.events.given_up = true;
                return Step::Done;
            }
            self.events.last = Some(event.created_at);
            // GitHub may order by id within a second, and its servers' clocks differ a
            // little: an event is past the oldest open issue's opening a minute before it.
            reached |= event.created_at < self.since - STOP_MARGIN;
            if self.stamps.contains_key(&number) {
                if !self.hold(bytes::events_bytes(std::slice::from_ref(&event))) {
                    self.events.given_up = true;
                    return Step::Done;
                }
                self.events.of.entry(number).or_default().push(event);
            }
        }
        self.next_page += 1;
        if reached {
            return Step::Done;
        }
        if self.next_page > self.event_pages() {
            self.events.given_up = true;
            return Step::Done;
        }
        Step::More
    }

    /// How many pages of issue events seeding reads at most.
    fn event_pages(&self) -> u32 {
        let pages = self.stamps.len() / OPEN_ISSUES_PER_EVENT_PAGE;
        u32::try_from(pages)
            .unwrap_or(u32::MAX)
            .clamp(1, EVENT_MAX_PAGES)
    }

    /// Seeding has read its last page: each open issue that did not change meanwhile is
    /// remembered as listed, with its comments (and its events, unless they were given up
    /// or it was ever closed or reopened), as read when seeding began. Returns how many.
    pub fn finish(mut self, view: &mut ViewState) -> usize {
        let mut seeded = 0;
        // What is held moves from here into the view's reads, which count it again.
        self.total
            .fetch_sub(std::mem::take(&mut self.bytes), Ordering::Relaxed);
        for (number, stamp) in std::mem::take(&mut self.stamps) {
            if view.stamp_of(number) != Some(stamp) {
                continue;
            }
            let mut comments = self.comments.remove(&number).unwrap_or_default();
            comments.sort_by_key(|c| (c.created_at, c.id));
            // Pages shift only when a comment is deleted (which skips one, see SECURITY.md);
            // a repeat is dropped all the same.
            comments.dedup_by_key(|c| c.id);
            let events = self.events_of(number);
            view.seed(number, stamp, self.began, comments, events);
            seeded += 1;
        }
        seeded
    }

    /// The events of open issue `number`, oldest first, when they may be seeded.
    fn events_of(&mut self, number: u64) -> Option<Vec<IssueEvent>> {
        if self.events.given_up {
            return None;
        }
        let mut events = self.events.of.remove(&number).unwrap_or_default();
        let closes = |e: &IssueEvent| matches!(e.kind, EventKind::Closed | EventKind::Reopened);
        if events.iter().any(closes) {
            return None;
        }
        events.sort_by_key(|e| (e.created_at, e.id));
        Some(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::GitHubError;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    /// Seeding of open issues 1 and 2 (opened at 100 s and later), at its events.
    fn reading_events() -> Seed {
        Seed {
            since: at(100),
            next_page: 1,
            began: at(0),
            reading_events: true,
            stamps: HashMap::from([(1, 7), (2, 8)]),
            me: 99,
            comments: HashMap::new(),
            events: Events::default(),
            bytes: 0,
            total: Arc::new(AtomicUsize::new(0)),
            max_bytes: usize::MAX,
        }
    }

    fn event(id: u64, second: i64, kind: EventKind) -> IssueEvent {
        IssueEvent {
            id,
            kind,
            actor: Some("alice".into()),
            actor_id: Some(1),
            created_at: at(second),
            state_reason: None,
            commit_id: None,
        }
    }

    fn labeled(id: u64, second: i64) -> IssueEvent {
        event(id, second, EventKind::Other("labeled".into()))
    }

    fn page(events: Vec<(u64, IssueEvent)>, more: bool) -> crate::github::Result<Page> {
        Ok(Page::Events(EventPage { events, more }))
    }

    #[test]
    fn events_newest_first_are_read_down_to_the_oldest_open_issue_and_kept_oldest_first() {
        let mut seed = reading_events();
        // Eight open issues: seeding may read two pages of events.
        seed.stamps.extend((3..=8).map(|n| (n, n)));
        let first = vec![
            (2, labeled(14, 300)),
            (9, labeled(13, 250)),
            (1, labeled(12, 200)),
        ];
        assert_eq!(seed.take(page(first, true)), Step::More);
        // An event added meanwhile shifts the pages: the repeat of 12 is dropped, not
        // taken as out of order. Event 10 is a minute older than either open issue: the end.
        let second = vec![
            (1, labeled(12, 200)),
            (1, labeled(11, 100)),
            (5, labeled(10, 39)),
        ];
        assert_eq!(seed.take(page(second, true)), Step::Done);
        assert_eq!(seed.next_page, 3);
        let ids = |events: Option<Vec<IssueEvent>>| {
            events.map(|e| e.into_iter().map(|e| e.id).collect::<Vec<_>>())
        };
        assert_eq!(ids(seed.events_of(1)), Some(vec![11, 12]));
        assert_eq!(ids(seed.events_of(2)), Some(vec![14]));
    }

    #[test]
    fn the_events_of_an_issue_ever_closed_or_reopened_are_not_seeded() {
        // The repository's listing does not say why an issue was closed.
        for kind in [EventKind::Closed, EventKind::Reopened] {
            let mut seed = reading_events();
            let events = vec![(1, event(12, 200, kind)), (2, labeled(11, 150))];
            assert_eq!(seed.take(page(events, false)), Step::Done);
            assert_eq!(seed.events_of(1), None);
            assert!(seed.events_of(2).is_some());
        }
    }

    #[test]
    fn events_in_any_other_order_a_failed_page_or_too_many_pages_seed_no_event() {
        // Oldest first (or any order but newest first): no event of any issue is seeded.
        let mut seed = reading_events();
        let events = vec![(2, labeled(11, 150)), (1, labeled(12, 200))];
        assert_eq!(seed.take(page(events, true)), Step::Done);
        assert_eq!((seed.events_of(1), seed.events_of(2)), (None, None));
        // A failed page of events: the comments are still seeded.
        let mut seed = reading_events();
        let failed = Err(GitHubError::Malformed("timed out".into()));
        assert_eq!(seed.take(failed), Step::Done);
        assert_eq!(seed.events_of(2), None);
        // More pages than the open issues are worth: two open issues, one page.
        let mut seed = reading_events();
        assert_eq!(seed.event_pages(), 1);
        let events = vec![(1, labeled(12, 200))];
        assert_eq!(seed.take(page(events, true)), Step::Done);
        assert_eq!(seed.events_of(1), None);
        // Four hundred open issues: a hundred pages.
        let mut seed = reading_events();
        seed.stamps = (1..=400).map(|n| (n, n)).collect();
        let mut pages: u64 = 0;
        while seed.take(page(vec![(1, labeled(10_000 - pages, 1_000))], true)) == Step::More {
            pages += 1;
        }
        assert_eq!(pages + 1, 100);
        assert_eq!(seed.events_of(1), None);
    }

    #[test]
    fn a_failed_page_of_comments_gives_seeding_up() {
        let mut seed = reading_events();
        seed.reading_events = false;
        let failed = Err(GitHubError::Malformed("timed out".into()));
        assert_eq!(seed.take(failed), Step::GiveUp);
        // A page of comments ends them: the events are read next.
        let mut seed = reading_events();
        seed.reading_events = false;
        let last = Ok(Page::Comments(CommentPage::default()));
        assert_eq!(seed.take(last), Step::More);
        assert_eq!(seed.next(), Next::Events(1));
    }
}
