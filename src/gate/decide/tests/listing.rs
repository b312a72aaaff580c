//! While the repository's first full listing goes on (after a restart, on a long
//! history), a gate reads its recorded issue by number and goes on: answers are shown and
//! vetoes and deadlines decide, but nothing approves that is not written already (a veto
//! may sit on another request of the key, on a page not read yet), no issue is opened
//! (one may exist there) and none is retired.

use super::*;

fn listing(row: Row) -> Row {
    Row {
        listing: true,
        ..row
    }
}

pub(super) fn rows() -> Vec<Row> {
    vec![
        listing(Row {
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            approvers: vec!["alice"],
            held: true,
            ..row(
                "an approval on the recorded issue while the listing goes on is held, nothing written",
            )
        }),
        Row {
            comments: vec![comment(1, "alice", "/approve", at(1, 0))],
            state: GateState::Approved,
            approvers: vec!["alice"],
            actions: vec!["comment #1", "close #1 completed"],
            ..row("the same answers approve once the listing ended")
        },
        listing(Row {
            comments: vec![comment(1, "bob", "/reject", at(1, 0))],
            state: GateState::Rejected,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("a veto on the recorded issue while the listing goes on rejects")
        }),
        listing(Row {
            now: day2(1),
            state: GateState::Timeout,
            actions: vec!["comment #1", "close #1 not_planned"],
            ..row("the deadline passes while the listing goes on: timed out")
        }),
        listing(Row {
            state: GateState::Approved,
            approvers: vec!["alice"],
            ..super::retire::written_approval(None, &[]).named(
                "an approval the function wrote before the restart stands while the listing goes on",
            )
        }),
        listing(Row {
            issue: None,
            binding: None,
            held: true,
            ..row("a gate without an issue while the listing goes on opens none")
        }),
        listing(Row {
            duplicates: vec![issue(2, KEY)],
            others: vec![(issue(2, KEY), Vec::new())],
            comments: vec![comment(1, "alice", "/approve", at(2, 0))],
            approvers: vec!["alice"],
            held: true,
            ..row("a duplicate found while the listing goes on is not retired yet")
        }),
    ]
}
