//! Seeding a restarted replica's view: once its first full listing has ended, the reads
//! of the function's open issues come from the repository's comments (whole, a page of 100
//! at a time, across calls like the listing), not from each gate reading its own issue
//! and comments. An issue that changed while seeding went on is left to its gate.
//! Remembered reads keep gates waiting and never decide, so a seeded read is no verdict.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::state::ViewState;
use crate::github::{Comment, CommentPage};

/// At most this many pages of comments are read in one look.
pub const SEED_PAGES_PER_LOOK: u32 = 20;

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
    max_bytes: usize,
}

impl Seed {
    /// What to seed once a first listing has ended: the open issues of `view`. `None`
    /// when none is open. Seeding gives up past `max_bytes` of comments.
    pub fn begin(view: &ViewState, max_bytes: usize) -> Option<Seed> {
        let open = view.open_issues();
        let since = open.iter().map(|(_, _, opened)| *opened).min()?;
        Some(Seed {
            since,
            next_page: 1,
            stamps: open.iter().map(|(n, stamp, _)| (*n, *stamp)).collect(),
            comments: HashMap::new(),
            bytes: 0,
            max_bytes,
        })
    }

    /// Takes in one page (the comments on open issues); false when they outgrew the
    /// budget, and seeding is given up (each gate reads its own).
    pub fn take(&mut self, page: CommentPage) -> bool {
        for (number, comment) in page.comments {
            if self.stamps.contains_key(&number) {
                self.bytes += 160 + comment.body.len() + comment.author.len();
                self.comments.entry(number).or_default().push(comment);
            }
        }
        self.next_page += 1;
        self.bytes <= self.max_bytes
    }

    /// Seeding has read its last page: each open issue that did not change meanwhile is
    /// remembered as listed, with its comments, as read at `now`. Returns how many.
    pub fn finish(mut self, view: &mut ViewState, now: DateTime<Utc>) -> usize {
        let mut seeded = 0;
        for (number, stamp) in self.stamps {
            if view.stamp_of(number) != Some(stamp) {
                continue;
            }
            let mut comments = self.comments.remove(&number).unwrap_or_default();
            comments.sort_by_key(|c| (c.created_at, c.id));
            // A page that shifted can repeat a comment.
            comments.dedup_by_key(|c| c.id);
            view.seed(number, stamp, now, comments);
            seeded += 1;
        }
        seeded
    }
}
