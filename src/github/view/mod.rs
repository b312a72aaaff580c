//! One look per repository. A replica keeps one view of each approvals repository it
//! serves ([`state::ViewState`]), shared by every gate on it:
//!
//! - The issues the function opened, from one full listing every [`FULL_LISTING_EVERY`]
//!   (which also drops deleted and transferred issues), and between listings two
//!   conditional requests at most once per look: the function's issues changed since the
//!   last look (sorted by `updated`), and the repository's comments written or edited
//!   since then. GitHub moves an issue's `updated_at` on comments, closes, reopens and
//!   edits of the issue, not always on edits of a comment; the comment feed sees those.
//!   While nothing changes both answer 304, whatever the number of gates.
//! - Each issue carries a stamp that moves whenever the view sees it or a comment on it
//!   change, or the function writes to it. A gate's reads of its issue (the issue, its
//!   comments, its events) are remembered with the stamp they were made at, and answered
//!   from memory while the stamp stands: a gate whose issue did not change sends nothing.
//! - Remembered reads never take a verdict: a gate that would decide, or write, on them
//!   reads again through [`Repo::fresh`](super::Repo::fresh), which looks again and reads
//!   its issues from GitHub. A request to open an issue that failed (GitHub may have
//!   opened it) makes the next look go to GitHub whatever its age, so that the issue is
//!   found rather than opened twice.
//!
//! A restarted replica begins with an empty view. A full listing is read a page at a
//! time, at most [`LISTING_PAGES_PER_LOOK`] pages per look and by one call at a time
//! (the others go on with the view as it is), each page kept as it comes: a history too
//! long for one call is listed over several, never started again by a call that ran out
//! of time. Until the first listing ends, a gate finds its issues among the pages listed
//! so far and by the numbers its status records, and approves nothing new (a request of
//! its key may be on a page not read yet, see [`crate::gate::decide`]). Then the open
//! issues' reads are seeded from the repository's comments and issue events ([`seed`]), so
//! that gates whose issue did not change send nothing. Every replica keeps its own view. A look that fails keeps what it read, and the gate fails its sync
//! as for any GitHub fault. All views of a replica share one byte budget.

pub mod abridge;
mod bytes;
pub mod seed;
pub mod state;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Comment, GitHub, Identity, Issue, IssueEvent, Result, Tagger, Target};
use state::ViewState;

/// How often a view lists every issue the function opened, rather than only the changed
/// ones: it notices issues deleted or transferred meanwhile.
pub const FULL_LISTING_EVERY: Duration = Duration::from_secs(6 * 3600);

/// At most this many issues a full listing no longer shows are read by number before they
/// leave the view (deleted or transferred issues are rare; a listing that skipped one
/// while pages shifted is caught this way).
const MAX_CHECKED_GONE: usize = 20;

/// At most this many repositories are viewed at once; the least recently used view goes.
pub const MAX_VIEWS: usize = 64;

/// One repository's view and when it was last brought up to date.
pub struct RepoView {
    state: tokio::sync::Mutex<Option<Looked>>,
    /// A call is reading the full listing on.
    listing: std::sync::atomic::AtomicBool,
    total: Arc<AtomicUsize>,
    max_bytes: usize,
    /// Asks the other views to give their bytes back.
    evict: state::Evict,
}

struct Looked {
    view: ViewState,
    /// When the last full listing that ended began.
    listed_at: DateTime<Utc>,
    looked_at: DateTime<Utc>,
    /// An issue may have been opened without the view knowing (the request failed after
    /// GitHub may have done it): the next look goes to GitHub whatever its age.
    stale: bool,
    /// A full listing ended once: the view holds every issue of the function (but those
    /// dropped for memory, [`ViewState::incomplete`]).
    complete: bool,
    /// The full listing under way, page by page across looks.
    listing: Option<Listing>,
    /// Seeding the open issues' reads, after the first listing.
    seed: Option<seed::Seed>,
}

/// A full listing under way. Its progress is kept after every page, so a look that ends
/// (its page budget spent, its call cancelled, GitHub failing) leaves it to the next.
struct Listing {
    /// Whose issues it lists (the login at its start).
    login: String,
    started: DateTime<Utc>,
    next_page: u32,
    listed: std::collections::HashSet<u64>,
    /// [`ViewState::dropped`] when it began.
    dropped: u64,
}

/// At most this many pages of a full listing are read in one look (2,000 issues): a long
/// history is listed over several looks, and no call waits for all of it.
pub const LISTING_PAGES_PER_LOOK: u32 = 20;

/// A replica's views, one per repository and identity, sharing one byte budget.
pub struct Views {
    shared: Arc<Shared>,
}

struct Shared {
    views: Mutex<HashMap<String, (Arc<RepoView>, u64)>>,
    tick: AtomicUsize,
    total: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<RepoView>, u64)>> {
        self.views.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// While there are too many views, the least recently used but `keep` goes; while all
    /// views hold more than their budget, the least recently used idle one (no call holds
    /// it, so dropping it gives its bytes back at once): one in use is never dropped for
    /// bytes it would keep holding.
    fn evict(&self, views: &mut HashMap<String, (Arc<RepoView>, u64)>, keep: &str) {
        loop {
            let too_many = views.len() > MAX_VIEWS;
            let over = self.total.load(Ordering::Relaxed) > self.max_bytes;
            if !too_many && !over {
                return;
            }
            let Some(oldest) = views
                .iter()
                .filter(|(k, (view, _))| {
                    k.as_str() != keep && (too_many || Arc::strong_count(view) == 1)
                })
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            else {
                return;
            };
            views.remove(&oldest);
        }
    }
}

impl Views {
    /// No views yet; all of them together will hold at most `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        Views {
            shared: Arc::new(Shared {
                views: Mutex::default(),
                tick: AtomicUsize::new(0),
                total: Arc::default(),
                max_bytes,
            }),
        }
    }

    /// The bytes all views hold now.
    pub fn bytes(&self) -> usize {
        self.shared.total.load(Ordering::Relaxed)
    }

    /// The view of `target` as `me` sees it. Views are the function's identity's, not a
    /// token's: a rotated token, or an App's next installation token, keeps the view.
    /// While all views together hold more than their budget, the least recently used
    /// others go whole, here and whenever a view grows, before a view drops what its own
    /// gates read.
    pub fn view(&self, target: &Target, me: &Identity) -> Arc<RepoView> {
        let key = key(target, me);
        let shared = &self.shared;
        let tick = shared.tick.fetch_add(1, Ordering::Relaxed) as u64;
        let mut views = shared.lock();
        let view = match views.get_mut(&key) {
            Some((view, used)) => {
                *used = tick;
                view.clone()
            }
            None => {
                let weak = Arc::downgrade(shared);
                let keep = key.clone();
                let view = Arc::new(RepoView {
                    state: tokio::sync::Mutex::new(None),
                    listing: Default::default(),
                    total: shared.total.clone(),
                    max_bytes: shared.max_bytes,
                    evict: state::Evict(Arc::new(move || {
                        if let Some(shared) = weak.upgrade() {
                            let mut views = shared.lock();
                            shared.evict(&mut views, &keep);
                        }
                    })),
                });
                views.insert(key.clone(), (view.clone(), tick));
                view
            }
        };
        shared.evict(&mut views, &key);
        view
    }

    /// How many views there are.
    pub fn len(&self) -> usize {
        self.shared.lock().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a view belongs to: the repository, at an API root, as one GitHub account (by id,
/// which a rename keeps) sees it.
fn key(target: &Target, me: &Identity) -> String {
    format!(
        "{}\0{}\0{}\0{}",
        target.api_url.trim_end_matches('/').to_ascii_lowercase(),
        target.owner.to_ascii_lowercase(),
        target.repo.to_ascii_lowercase(),
        me.id
    )
}

impl RepoView {
    /// Runs `f` on the view, if it looked once.
    async fn with<T>(&self, f: impl FnOnce(&mut ViewState) -> T) -> Option<T> {
        let mut state = self.state.lock().await;
        state.as_mut().map(|looked| f(&mut looked.view))
    }

    /// After a write to the issue: what was remembered of it is read again.
    pub async fn touch(&self, number: u64) {
        self.with(|view| view.touch(number)).await;
    }

    /// After a request to open an issue: the issue it opened, or, when it failed (GitHub
    /// may have opened it all the same), a next look that goes to GitHub.
    pub async fn opened(&self, issue: Option<&Issue>) {
        let mut state = self.state.lock().await;
        let Some(looked) = state.as_mut() else {
            return;
        };
        match issue {
            Some(issue) => looked.view.upsert(issue.clone()),
            None => looked.stale = true,
        }
    }

    /// The issues of `me` that `tagger` gives one of `tags`, from the view, and whether
    /// the view holds all of them (a full listing ended, and no issue may have been opened
    /// that its feed has not reached yet): `None` when it cannot say (it never looked, it
    /// is another login's, or, for a `fresh` read, it dropped issues for memory).
    pub async fn tagged(
        &self,
        me: &Identity,
        tags: &[String],
        tagger: Tagger,
        fresh: bool,
    ) -> Option<(Vec<Issue>, bool)> {
        let mut state = self.state.lock().await;
        let looked = state.as_mut()?;
        let view = &mut looked.view;
        (view.me.login.eq_ignore_ascii_case(&me.login) && !(fresh && view.incomplete))
            .then(|| (view.tagged(tags, tagger), looked.complete && !looked.stale))
    }

    /// Brings the view up to date through `client`, if it is older than `max_age` (or
    /// whatever its age, when `force`d): the full listing when one is due, as far as one
    /// look goes ([`LISTING_PAGES_PER_LOOK`]), then, once the view holds every issue, the
    /// two feeds. One call at a time lists; the others go on with the view as it is.
    /// What a look read stays read when it fails or its call is cancelled: the listing
    /// goes on from its last page, the feeds from their bounds.
    pub async fn look(
        &self,
        client: &dyn GitHub,
        me: &Identity,
        now: DateTime<Utc>,
        max_age: Duration,
        force: bool,
    ) -> Result<()> {
        // A clock that went back (a call that waited for the view behind a later one)
        // counts as no time passed; one set back further than a little looks again.
        let within = |since: DateTime<Utc>, age: Duration| match (now - since).to_std() {
            Ok(elapsed) => elapsed < age,
            Err(_) => since - now <= state::OVERLAP,
        };
        let due = |l: &Looked| force || l.stale || !within(l.looked_at, max_age);
        {
            let mut state = self.state.lock().await;
            if state.as_ref().is_some_and(|l| l.view.me.id != me.id) {
                *state = None;
            }
            if let Some(looked) = state.as_ref()
                && looked.complete
                && looked.listing.is_none()
                && looked.seed.is_none()
                && within(looked.listed_at, FULL_LISTING_EVERY)
                && !due(looked)
            {
                return Ok(());
            }
            let looked = state.get_or_insert_with(|| Looked {
                view: ViewState::new(me.clone(), self.total.clone(), self.max_bytes)
                    .evicting(self.evict.clone()),
                listed_at: now,
                looked_at: now,
                stale: false,
                complete: false,
                listing: None,
                seed: None,
            });
            // A view due for its full listing, and one whose login was renamed (its
            // listings by the old login found nothing), list every issue.
            let renamed = !looked.view.me.login.eq_ignore_ascii_case(&me.login);
            looked.view.me = me.clone();
            let relist = !looked.complete || !within(looked.listed_at, FULL_LISTING_EVERY);
            if renamed || (looked.listing.is_none() && relist) {
                looked.listing = Some(Listing {
                    login: me.login.clone(),
                    started: now,
                    next_page: 1,
                    listed: Default::default(),
                    dropped: looked.view.dropped,
                });
            }
        }
        // A listing that just ended is followed by the feeds at once: what changed while it
        // went on, page after page, is read from them.
        let ended = self.list(client).await?;
        self.seed(client).await?;
        let mut state = self.state.lock().await;
        let Some(looked) = state
            .as_mut()
            .filter(|l| l.complete && (ended.is_some() || due(l)))
        else {
            return Ok(());
        };
        let comments_since = looked
            .view
            .comments_since
            .unwrap_or(now - state::FIRST_LOOKBACK);
        // A listing read whole in this very look is as recent as the feed of changed
        // issues would be.
        // A feed cut at its page limit may not have reached an issue just opened: the view
        // stays stale (looked at again, and no issue taken as missing) until one is not.
        let mut truncated = false;
        if let Some(since) = looked.view.issues_since
            && ended != Some(now)
        {
            let issues = client.own_issues_changed_since(&me.login, since).await?;
            // Counted after repeats are dropped: a page's worth short of the limit may be cut.
            truncated = issues.len() + super::FEED_PAGE_ITEMS >= super::FEED_MAX_ITEMS;
            looked.view.take_changed_issues(issues, now);
        }
        let comments = client.comments_changed_since(comments_since).await?;
        looked.view.comments_since.get_or_insert(comments_since);
        looked.view.take_changed_comments(comments, now);
        looked.looked_at = looked.looked_at.max(now);
        looked.stale = truncated;
        Ok(())
    }

    /// Reads the full listing under way on, if no other call does: up to
    /// [`LISTING_PAGES_PER_LOOK`] pages, each taken into the view as it comes (the view
    /// is not held while a page is asked for). At its end, what the view held and the
    /// listing did not show is read by number, with the view held (up to a few: a listing
    /// read while issues were deleted can skip one at a page boundary), and the rest is
    /// gone. Says when the
    /// listing that ended in this call began, if one did.
    async fn list(&self, client: &dyn GitHub) -> Result<Option<DateTime<Utc>>> {
        if self.listing.swap(true, Ordering::AcqRel) {
            return Ok(None);
        }
        let _listing = Listing::busy(&self.listing);
        for _ in 0..LISTING_PAGES_PER_LOOK {
            let Some((page_number, started, login)) = self
                .state
                .lock()
                .await
                .as_ref()
                .and_then(|l| l.listing.as_ref())
                .map(|l| (l.next_page, l.started, l.login.clone()))
            else {
                return Ok(None);
            };
            let page = client.list_own_issues_page(&login, page_number).await?;
            let mut state = self.state.lock().await;
            let Some(looked) = state.as_mut() else {
                return Ok(None);
            };
            // A listing begun again meanwhile (a renamed login) is not this one.
            let Some(listing) = looked
                .listing
                .as_mut()
                .filter(|l| l.started == started && l.next_page == page_number && l.login == login)
            else {
                return Ok(None);
            };
            listing.listed.extend(page.issues.iter().map(|i| i.number));
            looked.view.take_listed(page.issues);
            listing.next_page += 1;
            if page.more {
                continue;
            }
            let unlisted = looked.view.unlisted(&listing.listed);
            for number in unlisted.into_iter().take(MAX_CHECKED_GONE) {
                if let Some(issue) = client.get_issue(number).await? {
                    listing.listed.insert(issue.number);
                    looked.view.upsert(issue);
                }
            }
            looked
                .view
                .finish_listing(&listing.listed, listing.started, listing.dropped);
            if !looked.complete {
                looked.seed = seed::Seed::begin(
                    &looked.view,
                    listing.started,
                    self.total.clone(),
                    self.max_bytes,
                );
            }
            looked.listed_at = listing.started;
            looked.complete = true;
            looked.listing = None;
            return Ok(Some(started));
        }
        Ok(None)
    }
}

impl RepoView {
    /// Reads the seeding under way on, if no other call pages: up to
    /// [`seed::SEED_PAGES_PER_LOOK`] pages of the repository's comments, then of its issue
    /// events, the view not held while one is asked for; at the last, the open issues'
    /// reads are remembered.
    async fn seed(&self, client: &dyn GitHub) -> Result<()> {
        if self.listing.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let _paging = Listing::busy(&self.listing);
        for _ in 0..seed::SEED_PAGES_PER_LOOK {
            let Some(next) = self
                .state
                .lock()
                .await
                .as_ref()
                .and_then(|l| l.seed.as_ref())
                .map(seed::Seed::next)
            else {
                return Ok(());
            };
            let page = match next {
                seed::Next::Comments(since, page) => client
                    .comments_page(since, page)
                    .await
                    .map(seed::Page::Comments),
                seed::Next::Events(page) => client.events_page(page).await.map(seed::Page::Events),
            };
            let mut state = self.state.lock().await;
            let Some(looked) = state.as_mut() else {
                return Ok(());
            };
            let Some(seeding) = looked.seed.as_mut().filter(|s| s.next() == next) else {
                return Ok(());
            };
            // Seeding only saves requests: when GitHub fails it, or it runs long, it is given
            // up and each gate reads its own, as without it.
            match seeding.take(page) {
                seed::Step::More => continue,
                seed::Step::GiveUp => looked.seed = None,
                seed::Step::Done => {
                    if let Some(seeding) = looked.seed.take() {
                        seeding.finish(&mut looked.view);
                    }
                }
            }
            return Ok(());
        }
        Ok(())
    }
}

impl Listing {
    /// Marks `flag` (a call lists) until the returned guard is dropped, also when the
    /// call is cancelled.
    fn busy(flag: &std::sync::atomic::AtomicBool) -> impl Drop + '_ {
        struct Busy<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Busy<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        Busy(flag)
    }
}

/// Reads issue `number` through `client`, or from the `view` when it may answer and the
/// issue did not change since it was last read; what is read goes into the view.
pub async fn read_issue(
    view: Option<(&RepoView, bool)>,
    client: &dyn GitHub,
    number: u64,
    now: DateTime<Utc>,
) -> Result<Option<Issue>> {
    if let Some((view, true)) = view
        && let Some(Some(issue)) = view.with(|v| v.remembered_issue(number, now)).await
    {
        return Ok(Some(issue));
    }
    let read = client.get_issue(number).await?;
    if let Some((view, _)) = view {
        match &read {
            Some(issue) => {
                let issue = issue.clone();
                view.with(|v| v.read_issue(issue, now)).await;
            }
            None => {
                // Only what was read of it is forgotten: the view is shared by every token of
                // the account, and one that may not see the issue must not take it from the
                // others (the next full listing drops an issue that is gone).
                view.with(|v| v.forget_reads(number)).await;
            }
        }
    }
    Ok(read)
}

/// Reads the comments of issue `number`, as [`read_issue`] reads the issue.
pub async fn read_comments(
    view: Option<(&RepoView, bool)>,
    client: &dyn GitHub,
    number: u64,
    now: DateTime<Utc>,
) -> Result<Vec<Comment>> {
    if let Some((view, true)) = view
        && let Some(Some(comments)) = view.with(|v| v.remembered_comments(number, now)).await
    {
        return Ok(comments.as_ref().clone());
    }
    let Some((view, _)) = view else {
        return client.list_comments(number).await;
    };
    let stamp = view.with(|v| v.stamp_of(number)).await.flatten();
    let comments = client.list_comments(number).await?;
    if let Some(stamp) = stamp {
        let copy = comments.clone();
        view.with(|v| v.read_comments(number, stamp, now, copy))
            .await;
    }
    Ok(comments)
}

/// Reads the events of issue `number`, as [`read_issue`] reads the issue.
pub async fn read_events(
    view: Option<(&RepoView, bool)>,
    client: &dyn GitHub,
    number: u64,
    now: DateTime<Utc>,
) -> Result<Vec<IssueEvent>> {
    if let Some((view, true)) = view
        && let Some(Some(events)) = view.with(|v| v.remembered_events(number, now)).await
    {
        return Ok(events.as_ref().clone());
    }
    let Some((view, _)) = view else {
        return client.list_events(number).await;
    };
    let stamp = view.with(|v| v.stamp_of(number)).await.flatten();
    let events = client.list_events(number).await?;
    if let Some(stamp) = stamp {
        let copy = events.clone();
        view.with(|v| v.read_events(number, stamp, now, copy)).await;
    }
    Ok(events)
}
