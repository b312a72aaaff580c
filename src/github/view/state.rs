//! What a replica knows of one approvals repository: the issues the function opened (the
//! index), a change stamp per issue, and the reads of each issue made since it last
//! changed (the memos). Pure: no I/O, no clock; bounded by bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

use super::bytes::{comments_bytes, events_bytes, issue_bytes};
use crate::github::{Comment, CommentChange, Identity, Issue, IssueEvent, IssueState, Tagger};

/// How far back each feed looks again: a change GitHub lists a little late (its
/// timestamps have whole seconds, and a listing is not a snapshot) is still seen.
pub const OVERLAP: TimeDelta = TimeDelta::minutes(2);

/// Where a feed starts when it has seen nothing yet, before the caller's clock: against
/// clock skew between the replica and GitHub.
pub const FIRST_LOOKBACK: TimeDelta = TimeDelta::minutes(10);

/// The page size of the feeds' listings (GitHub's largest).
pub const FEED_PAGE: usize = 100;

/// How far a feed's bound may move on after a listing with these change times: to the
/// latest, unless the listing took more than one page. Then only to the end of the first
/// page: a change made while the pages were read moves its item to the last page and
/// shifts the others back, so an item at a page boundary can be skipped, and it is never
/// older than the first page's end.
fn watermark(mut times: Vec<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    times.sort_unstable();
    if times.len() >= FEED_PAGE {
        return Some(times[FEED_PAGE - 1]);
    }
    times.last().copied()
}

/// A feed's bound moves on only by this much at least: the same request, answered 304,
/// serves while nothing changes, and a change costs one counted answer, not a second one
/// for a request with a new bound. A feed lists at most this much of past changes again.
pub const ADVANCE_STEP: TimeDelta = TimeDelta::minutes(2);

/// The next bound of a feed at `since` whose listing ended at `latest` ([`watermark`]);
/// `paged` when the listing took more than one page (the bound then always moves on).
fn advance(
    since: Option<DateTime<Utc>>,
    latest: Option<DateTime<Utc>>,
    paged: bool,
) -> Option<DateTime<Utc>> {
    let Some(next) = latest.map(|t| t - OVERLAP) else {
        return since;
    };
    match since {
        Some(since) if next - since < ADVANCE_STEP && !paged => Some(since),
        // Many changes within the overlap (a flood of comments): move on by a second at
        // least, or every look would read the same pages again.
        Some(since) if paged && next <= since => {
            Some((next + OVERLAP - TimeDelta::seconds(1)).max(since + TimeDelta::seconds(1)))
        }
        Some(since) => Some(since.max(next)),
        None => Some(next),
    }
}

/// One of the function's own issues as last listed or read.
#[derive(Debug)]
struct Entry {
    issue: Issue,
    /// What [`ViewState::tagged`] finds it by.
    tags: Vec<String>,
    /// Moves whenever the issue, or a comment on it, is seen to change.
    stamp: u64,
    bytes: usize,
}

/// One kind of read of an issue: the stamp the issue had when it began, when it was made,
/// and what it read.
type Slot<T> = Option<(u64, DateTime<Utc>, Arc<Vec<T>>)>;

/// The reads of one issue, each with the stamp the issue had when the read began.
#[derive(Debug, Default)]
struct Memo {
    issue: Option<(u64, DateTime<Utc>)>,
    comments: Slot<Comment>,
    events: Slot<IssueEvent>,
    used: u64,
    bytes: usize,
}

/// How long a read is remembered at most, even while its issue shows no change: a deleted
/// comment moves nothing GitHub lists, so each pending gate reads its issue afresh at least
/// this often (memos are made at different times, so these reads spread out).
pub const MEMO_MAX_AGE: TimeDelta = TimeDelta::hours(6);

/// Whether a read made at `at` with `stamp` still serves at `now` for an issue at `current`.
fn serves(stamp: u64, at: DateTime<Utc>, current: u64, now: DateTime<Utc>) -> bool {
    stamp == current && now - at < MEMO_MAX_AGE && now >= at - OVERLAP
}

/// Asks the replica's other views to give their bytes back: the least recently used go
/// whole while all views hold more than their budget.
#[derive(Clone)]
pub struct Evict(pub Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Evict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Evict")
    }
}

/// One repository's view. Every change of size is also added to `total`, which all the
/// replica's views share, so that together they stay under one byte budget.
#[derive(Debug)]
pub struct ViewState {
    /// Whose issues these are.
    pub me: Identity,
    /// Lower bound of the next listing of changed issues.
    pub issues_since: Option<DateTime<Utc>>,
    /// Lower bound of the next listing of changed comments.
    pub comments_since: Option<DateTime<Utc>>,
    index: HashMap<u64, Entry>,
    /// The issues by tag, as `tagger` gives them.
    by_tag: HashMap<String, Vec<u64>>,
    tagger: Option<Tagger>,
    /// Issues were dropped from the index for memory since the last full listing: a
    /// listing from it may miss some.
    pub incomplete: bool,
    /// How many issues were ever dropped from the index for memory.
    pub dropped: u64,
    /// Comments seen in the feed's overlap, with the time each was last written.
    seen_comments: HashMap<u64, DateTime<Utc>>,
    memos: HashMap<u64, Memo>,
    memo_order: BTreeMap<u64, u64>,
    next_stamp: u64,
    tick: u64,
    bytes: usize,
    total: Arc<AtomicUsize>,
    max_bytes: usize,
    evict: Option<Evict>,
}

/// Whether two reads of an issue say the same; a listing does not carry `closed_by`.
fn same(listed: &Issue, known: &Issue) -> bool {
    let closed_by = listed.closed_by.clone().or_else(|| known.closed_by.clone());
    Issue {
        closed_by,
        ..listed.clone()
    } == *known
}

impl ViewState {
    /// An empty view of `me`'s issues, counting its bytes into `total`.
    pub fn new(me: Identity, total: Arc<AtomicUsize>, max_bytes: usize) -> Self {
        ViewState {
            me,
            issues_since: None,
            comments_since: None,
            index: HashMap::new(),
            by_tag: HashMap::new(),
            tagger: None,
            incomplete: false,
            dropped: 0,
            seen_comments: HashMap::new(),
            memos: HashMap::new(),
            memo_order: BTreeMap::new(),
            next_stamp: 1,
            tick: 0,
            bytes: 0,
            total,
            max_bytes,
            evict: None,
        }
    }

    /// The same view, asking the replica's other views to give their bytes back before it
    /// drops its own.
    pub fn evicting(mut self, evict: Evict) -> Self {
        self.evict = Some(evict);
        self
    }

    fn grow(&mut self, by: usize) {
        self.bytes += by;
        self.total.fetch_add(by, Ordering::Relaxed);
    }

    fn shrink(&mut self, by: usize) {
        self.bytes -= by;
        self.total.fetch_sub(by, Ordering::Relaxed);
    }

    fn stamp(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp
    }

    /// The bytes this view holds.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many issues the index holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Marks the issue changed: every read remembered of it is read again.
    pub fn touch(&mut self, number: u64) {
        let stamp = self.stamp();
        if let Some(entry) = self.index.get_mut(&number) {
            entry.stamp = stamp;
        }
    }

    /// Takes in an issue as a listing or a read shows it; marks it changed when it differs
    /// from what was known. Issues someone else opened are not kept.
    pub fn upsert(&mut self, issue: Issue) {
        if issue.author_id != self.me.id {
            return;
        }
        let number = issue.number;
        match self.index.get(&number) {
            Some(known) if same(&issue, &known.issue) => {}
            // A read that began before a change the view has already taken in.
            Some(known) if issue.updated_at < known.issue.updated_at => {}
            known => {
                let closed_by = known.and_then(|k| {
                    (k.issue.closed_at == issue.closed_at)
                        .then(|| k.issue.closed_by.clone())
                        .flatten()
                });
                let issue = Issue {
                    closed_by: issue.closed_by.or(closed_by),
                    ..issue
                };
                self.remove_entry(number);
                let stamp = self.stamp();
                let tags = self.tagger.map(|tagger| tagger(&issue)).unwrap_or_default();
                for tag in &tags {
                    self.by_tag.entry(tag.clone()).or_default().push(number);
                }
                let bytes = issue_bytes(&issue) + tags.iter().map(String::len).sum::<usize>();
                self.index.insert(
                    number,
                    Entry {
                        issue,
                        tags,
                        stamp,
                        bytes,
                    },
                );
                self.grow(bytes);
            }
        }
    }

    /// Forgets what was read of an issue, keeping it in the index.
    pub fn forget_reads(&mut self, number: u64) {
        self.remove_memo(number);
    }

    /// Forgets an issue that no longer exists (deleted, transferred), with its reads.
    pub fn remove(&mut self, number: u64) {
        self.remove_entry(number);
        self.remove_memo(number);
    }

    fn remove_entry(&mut self, number: u64) {
        if let Some(entry) = self.index.remove(&number) {
            for tag in &entry.tags {
                if let Some(numbers) = self.by_tag.get_mut(tag) {
                    numbers.retain(|n| *n != number);
                    if numbers.is_empty() {
                        self.by_tag.remove(tag);
                    }
                }
            }
            self.shrink(entry.bytes);
        }
    }

    fn remove_memo(&mut self, number: u64) {
        if let Some(memo) = self.memos.remove(&number) {
            self.memo_order.remove(&memo.used);
            self.shrink(memo.bytes);
        }
    }

    /// Takes in one page of a full listing.
    pub fn take_listed(&mut self, issues: Vec<Issue>) {
        for issue in issues {
            self.upsert(issue);
        }
        self.fit();
    }

    /// A full listing that began at `started` has ended, having shown `listed` (and the
    /// issues of [`Self::unlisted`] it read by number): the others are gone. What changed
    /// while it went on, page after page, is read from the feed, whose bound goes back to
    /// the listing's start less [`FIRST_LOOKBACK`] (the replica's clock may be ahead of
    /// GitHub's). `dropped` is [`Self::dropped`] when it began: issues dropped for memory
    /// since leave the view incomplete.
    pub fn finish_listing(
        &mut self,
        listed: &std::collections::HashSet<u64>,
        started: DateTime<Utc>,
        dropped: u64,
    ) {
        let gone: Vec<u64> = self
            .index
            .keys()
            .filter(|n| !listed.contains(n))
            .copied()
            .collect();
        for number in gone {
            self.remove(number);
        }
        self.incomplete = self.dropped != dropped;
        let bound = started - FIRST_LOOKBACK;
        self.issues_since = Some(self.issues_since.map_or(bound, |since| since.min(bound)));
        self.comments_since.get_or_insert(started - FIRST_LOOKBACK);
    }

    /// The issues the index holds that a listing did not show, lowest first.
    pub fn unlisted(&self, listed: &std::collections::HashSet<u64>) -> Vec<u64> {
        let mut missing: Vec<u64> = self
            .index
            .keys()
            .filter(|n| !listed.contains(n))
            .copied()
            .collect();
        missing.sort_unstable();
        missing
    }

    /// Takes in the issues changed since [`Self::issues_since`], and moves it on.
    pub fn take_changed_issues(&mut self, issues: Vec<Issue>, now: DateTime<Utc>) {
        let latest = watermark(issues.iter().map(|i| i.updated_at).collect());
        let paged = issues.len() >= FEED_PAGE;
        for issue in issues {
            self.upsert(issue);
        }
        // Bounds follow GitHub's own timestamps; the caller's clock only starts them.
        self.issues_since = advance(self.issues_since, latest, paged);
        self.issues_since.get_or_insert(now - FIRST_LOOKBACK);
        self.fit();
    }

    /// Takes in the comments changed since [`Self::comments_since`]: each new or newly
    /// edited one marks its issue changed. Moves the bound on.
    pub fn take_changed_comments(&mut self, changes: Vec<CommentChange>, now: DateTime<Utc>) {
        let latest = watermark(changes.iter().map(|c| c.updated_at).collect());
        let paged = changes.len() >= FEED_PAGE;
        for change in changes {
            if self.seen_comments.get(&change.id) != Some(&change.updated_at) {
                self.seen_comments.insert(change.id, change.updated_at);
                self.touch(change.issue);
            }
        }
        self.comments_since = advance(self.comments_since, latest, paged);
        let since = *self.comments_since.get_or_insert(now - FIRST_LOOKBACK);
        // Only the overlap needs remembering: older comments are not listed again.
        self.seen_comments.retain(|_, at| *at >= since);
    }

    /// The function's own issues, oldest first, as a listing shows them.
    pub fn issues(&self) -> Vec<Issue> {
        let mut issues: Vec<Issue> = self
            .index
            .values()
            .map(|e| Issue {
                closed_by: None,
                ..e.issue.clone()
            })
            .collect();
        issues.sort_by_key(|i| (i.created_at, i.number));
        issues
    }

    /// The function's own issues that `tagger` gives one of `tags`, oldest first, as a
    /// listing shows them. The index is built by the first tagger asked with (the product
    /// has one: the gate's).
    pub fn tagged(&mut self, tags: &[String], tagger: Tagger) -> Vec<Issue> {
        if self.tagger.is_none() {
            self.tagger = Some(tagger);
            self.by_tag.clear();
            let mut grown = 0;
            for (number, entry) in &mut self.index {
                let old: usize = entry.tags.iter().map(String::len).sum();
                entry.tags = tagger(&entry.issue);
                let new: usize = entry.tags.iter().map(String::len).sum();
                for tag in &entry.tags {
                    self.by_tag.entry(tag.clone()).or_default().push(*number);
                }
                entry.bytes = entry.bytes + new - old;
                grown += new;
                grown -= old;
            }
            self.grow(grown);
        }
        let mut numbers: Vec<u64> = tags
            .iter()
            .filter_map(|t| self.by_tag.get(t))
            .flatten()
            .copied()
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        let mut issues: Vec<Issue> = numbers
            .iter()
            .filter_map(|n| self.index.get(n))
            .map(|e| Issue {
                closed_by: None,
                ..e.issue.clone()
            })
            .collect();
        issues.sort_by_key(|i| (i.created_at, i.number));
        issues
    }

    /// The issue's change stamp, when it is in the index.
    pub fn stamp_of(&self, number: u64) -> Option<u64> {
        self.index.get(&number).map(|e| e.stamp)
    }

    fn memo(&mut self, number: u64) -> &mut Memo {
        self.tick += 1;
        let tick = self.tick;
        let memo = self.memos.entry(number).or_default();
        if memo.used != 0 {
            self.memo_order.remove(&memo.used);
        }
        memo.used = tick;
        self.memo_order.insert(tick, number);
        memo
    }

    /// The function's open issues: each one's number, stamp and opening.
    pub fn open_issues(&self) -> Vec<(u64, u64, DateTime<Utc>)> {
        self.index
            .iter()
            .filter(|(_, e)| e.issue.state == IssueState::Open)
            .map(|(n, e)| (*n, e.stamp, e.issue.created_at))
            .collect()
    }

    /// Remembers issue `number` as the index holds it, `comments` as its comments and
    /// `events`, if given, as its events, as read at `at` (when seeding began) while its
    /// stamp was `stamp` (seeding, [`super::seed`]), unless a read of the same stamp is
    /// remembered.
    pub fn seed(
        &mut self,
        number: u64,
        stamp: u64,
        at: DateTime<Utc>,
        comments: Vec<Comment>,
        events: Option<Vec<IssueEvent>>,
    ) {
        // A gate's own read made meanwhile under the same stamp is at least as recent.
        let memo = self.memo(number);
        let ours = |s: Option<u64>| s == Some(stamp);
        if !ours(memo.issue.map(|(s, _)| s)) {
            memo.issue = Some((stamp, at));
        }
        let (has_comments, has_events) = (
            ours(memo.comments.as_ref().map(|(s, _, _)| *s)),
            ours(memo.events.as_ref().map(|(s, _, _)| *s)),
        );
        if !has_comments {
            self.read_comments(number, stamp, at, comments);
        }
        if let Some(events) = events.filter(|_| !has_events) {
            self.read_events(number, stamp, at, events);
        }
    }

    /// The issue, when it was read since it last changed.
    pub fn remembered_issue(&mut self, number: u64, now: DateTime<Utc>) -> Option<Issue> {
        let current = self.stamp_of(number)?;
        let (stamp, at) = self.memos.get(&number)?.issue?;
        if !serves(stamp, at, current, now) {
            return None;
        }
        self.memo(number);
        self.index.get(&number).map(|e| e.issue.clone())
    }

    /// Takes in an issue read by number at `now`: the index holds it as read, and serves it
    /// until it changes, unless the view already holds a later change.
    pub fn read_issue(&mut self, issue: Issue, now: DateTime<Utc>) {
        let number = issue.number;
        let read = issue.clone();
        self.upsert(issue);
        if let Some(entry) = self.index.get(&number)
            && same(&read, &entry.issue)
        {
            let stamp = entry.stamp;
            self.memo(number).issue = Some((stamp, now));
        }
    }

    /// A read of one kind, when it was made since the issue last changed.
    fn remembered<T>(
        &mut self,
        number: u64,
        now: DateTime<Utc>,
        slot: fn(&Memo) -> &Slot<T>,
    ) -> Option<Arc<Vec<T>>> {
        let current = self.stamp_of(number)?;
        let (stamp, at, items) = slot(self.memos.get(&number)?).clone()?;
        serves(stamp, at, current, now).then(|| {
            self.memo(number);
            items
        })
    }

    /// Remembers a read of one kind made at `now`, begun when the issue's stamp was `stamp`.
    fn remember<T>(
        &mut self,
        number: u64,
        (stamp, now): (u64, DateTime<Utc>),
        items: Vec<T>,
        slot: fn(&mut Memo) -> &mut Slot<T>,
        size: fn(&[T]) -> usize,
    ) {
        let bytes = size(&items);
        let memo = self.memo(number);
        let old = slot(memo).as_ref().map_or(0, |(_, _, items)| size(items));
        *slot(memo) = Some((stamp, now, Arc::new(items)));
        memo.bytes = memo.bytes + bytes - old;
        self.grow(bytes);
        self.shrink(old);
        self.fit();
    }

    /// The comments, when they were read since the issue last changed.
    pub fn remembered_comments(
        &mut self,
        number: u64,
        now: DateTime<Utc>,
    ) -> Option<Arc<Vec<Comment>>> {
        self.remembered(number, now, |m| &m.comments)
    }

    /// Remembers comments read at `now`, begun when the issue's stamp was `stamp`; other
    /// people's long comments abridged to their answers ([`super::abridge`]).
    pub fn read_comments(
        &mut self,
        number: u64,
        stamp: u64,
        now: DateTime<Utc>,
        comments: Vec<Comment>,
    ) {
        let me = self.me.id;
        let comments = comments
            .into_iter()
            .map(|c| super::abridge::abridged(c, me))
            .collect();
        let slot: fn(&mut Memo) -> &mut Slot<Comment> = |m| &mut m.comments;
        self.remember(number, (stamp, now), comments, slot, comments_bytes);
    }

    /// The events, when they were read since the issue last changed.
    pub fn remembered_events(
        &mut self,
        number: u64,
        now: DateTime<Utc>,
    ) -> Option<Arc<Vec<IssueEvent>>> {
        self.remembered(number, now, |m| &m.events)
    }

    /// Remembers events read at `now`, begun when the issue's stamp was `stamp`.
    pub fn read_events(
        &mut self,
        number: u64,
        stamp: u64,
        now: DateTime<Utc>,
        events: Vec<IssueEvent>,
    ) {
        let slot: fn(&mut Memo) -> &mut Slot<IssueEvent> = |m| &mut m.events;
        self.remember(number, (stamp, now), events, slot, events_bytes);
    }

    /// Gives bytes back while the replica's views hold more than their budget: first the
    /// least recently used other views, whole, then this view's least recently used
    /// reads, then closed issues, then open ones, least recently changed first. Forgetting only costs reads: an issue missing from the index is read
    /// by number when a gate records it, and one that no gate records asks for nothing.
    pub fn fit(&mut self) {
        let over = |v: &Self| v.total.load(Ordering::Relaxed) > v.max_bytes && v.bytes > 0;
        if over(self)
            && let Some(evict) = &self.evict
        {
            (evict.0)();
        }
        while over(self) {
            let Some((_, number)) = self.memo_order.pop_first() else {
                break;
            };
            if let Some(memo) = self.memos.remove(&number) {
                self.shrink(memo.bytes);
            }
        }
        if !over(self) {
            return;
        }
        // Down to nine tenths of the budget at once, so that the sort is rare.
        let target = self.max_bytes / 10 * 9;
        let mut order: Vec<(bool, DateTime<Utc>, u64)> = self
            .index
            .values()
            .map(|e| {
                (
                    e.issue.state == IssueState::Open,
                    e.issue.updated_at,
                    e.issue.number,
                )
            })
            .collect();
        order.sort_unstable();
        for (_, _, number) in order {
            if self.total.load(Ordering::Relaxed) <= target || self.bytes == 0 {
                break;
            }
            self.remove(number);
            self.incomplete = true;
            self.dropped += 1;
        }
    }
}

impl Drop for ViewState {
    fn drop(&mut self) {
        self.total.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}
