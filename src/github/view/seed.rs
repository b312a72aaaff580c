//! Seeding a restarted replica's view: once its first full listing has ended, the reads
//! of the function's open issues come from the repository's comments (whole, a page of 100
//! at a time, across calls like the listing), not from each gate reading its own issue
//! and comments. An issue that changed while seeding went on is left to its gate.
//! Remembered reads keep gates waiting and never decide, so a seeded read is no verdict.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};

use super::state::ViewState;
use crate::github::{Comment, CommentPage};

/// At most this many pages of comments are read in one look.
pub const SEED_PAGES_PER_LOOK: u32 = 20;

/// Seeding reads at most this many pages in all (20,000 comments): a repository whose
/// open requests span a longer history is left to its gates.
pub const SEED_MAX_PAGES: u32 = 200;

/// Seeding under way.
pub struct Seed {
    /// The comments read are those written or edited since the oldest open issue was
    /// opened: every comment of every open issue.
    pub since: DateTime<Utc>,
    /// The next page to read.
    pub next_page: u32,
    /// The open issues, with their stamps when seeding began.
    stamps: HashMap<u64, u64>,
    comments: HashMap<u64, Vec<Comment>>,
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
    pub fn begin(view: &ViewState, total: Arc<AtomicUsize>, max_bytes: usize) -> Option<Seed> {
        let open = view.open_issues();
        let since = open.iter().map(|(_, _, opened)| *opened).min()?;
        Some(Seed {
            since,
            next_page: 1,
            stamps: open.iter().map(|(n, stamp, _)| (*n, *stamp)).collect(),
            comments: HashMap::new(),
            bytes: 0,
            total,
            max_bytes,
        })
    }

    /// Takes in one page (the comments on open issues); false when they outgrew the
    /// budget or seeding ran too long, and it is given up (each gate reads its own).
    pub fn take(&mut self, page: CommentPage) -> bool {
        for (number, comment) in page.comments {
            if self.stamps.contains_key(&number) {
                let bytes = 160 + comment.body.len() + comment.author.len();
                self.bytes += bytes;
                self.total.fetch_add(bytes, Ordering::Relaxed);
                self.comments.entry(number).or_default().push(comment);
            }
        }
        self.next_page += 1;
        self.total.load(Ordering::Relaxed) <= self.max_bytes && self.next_page <= SEED_MAX_PAGES
    }

    /// Seeding has read its last page: each open issue that did not change meanwhile is
    /// remembered as listed, with its comments, as read at `now`. Returns how many.
    pub fn finish(mut self, view: &mut ViewState, now: DateTime<Utc>) -> usize {
        let mut seeded = 0;
        // The comments move from here into the view's reads, which count them again.
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
            view.seed(number, stamp, now, comments);
            seeded += 1;
        }
        seeded
    }
}
