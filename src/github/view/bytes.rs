//! What a view counts each remembered item as: its strings and a fixed overhead, so
//! that the replica's views stay under one byte budget.

use crate::github::{Comment, Issue, IssueEvent};

/// Fixed bytes counted per remembered item besides its strings.
pub const ITEM_OVERHEAD: usize = 160;

/// An issue as listed or read.
pub fn issue_bytes(issue: &Issue) -> usize {
    ITEM_OVERHEAD
        + issue.title.len()
        + issue.body.len()
        + issue.html_url.len()
        + issue.author.len()
        + issue.closed_by.as_ref().map_or(0, String::len)
        + issue.labels.iter().map(String::len).sum::<usize>()
}

/// Comments as remembered.
pub fn comments_bytes(comments: &[Comment]) -> usize {
    comments
        .iter()
        .map(|c| ITEM_OVERHEAD + c.body.len() + c.author.len())
        .sum()
}

/// Events as remembered.
pub fn events_bytes(events: &[IssueEvent]) -> usize {
    events
        .iter()
        .map(|e| ITEM_OVERHEAD + e.actor.as_ref().map_or(0, String::len))
        .sum()
}
