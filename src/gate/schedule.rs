//! When a gate lists the issues the function opened, rather than reading its recorded
//! issue by number: listings cost one request per 100 issues and all go to one endpoint
//! that GitHub limits, so a gate lists only while a duplicate may still appear, when its
//! recorded issue no longer serves, and once an hour.
//!
//! Pure: no I/O, no clock.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::github::Issue;
use crate::xr::gate::GateStatus;

use super::model::Gate;

/// For how long after a gate starts every poll lists the gate label's issues: the time in
/// which a duplicate can appear (two calls opening the issue at once, a status write
/// lost right after opening it).
pub const LIST_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(10);
/// After [`LIST_WINDOW`], a gate still lists once in this period, at a phase taken from
/// its key so that gates do not list together.
pub const LIST_EVERY_SECS: i64 = 3600;

/// Whether this poll lists every issue carrying the gate label from the start, rather
/// than first reading the recorded issue by number. A listing costs one request per 100
/// approval issues in the repository (closed ones included), and every gate's listing
/// goes to the same endpoint, which GitHub limits to 900 requests a minute: a pending gate
/// lists when it has no issue recorded for its key, in its first [`LIST_WINDOW`], and once
/// an hour (and, decided by [`list_after_reading`], when its issue is younger than
/// [`LIST_WINDOW`], gone, re-keyed or retired).
pub fn must_list(
    gate: &Gate<'_>,
    recorded: &GateStatus,
    now: DateTime<Utc>,
    poll: Duration,
) -> bool {
    if recorded.gate_key.as_deref() != Some(gate.key) || recorded.issue.is_none() {
        return true;
    }
    // Young gate: its issue is young too, and find_issues would list after reading it.
    if recorded
        .created_timestamp
        .is_none_or(|start| now - start < LIST_WINDOW)
    {
        return true;
    }
    let phase = gate
        .key
        .bytes()
        .fold(0i64, |h, b| (h * 31 + i64::from(b)) % LIST_EVERY_SECS);
    let period = |t: i64| (t - phase).div_euclid(LIST_EVERY_SECS);
    let poll = i64::try_from(poll.as_secs()).unwrap_or(i64::MAX).max(1);
    period(now.timestamp()) != period(now.timestamp().saturating_sub(poll))
}

/// After reading the recorded issue without listing: whether to list after all, because
/// the recorded issue is gone, or young enough that a duplicate of it may exist.
pub fn list_after_reading(candidates: &[Issue], now: DateTime<Utc>) -> bool {
    candidates
        .first()
        .is_none_or(|i| now - i.created_at < LIST_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::test_support::{self, KEY, spec};
    use crate::xr::gate::IssueRef;
    use chrono::{TimeDelta, TimeZone, Utc};

    #[test]
    fn a_pending_gate_lists_without_an_issue_for_its_key_and_once_an_hour() {
        let spec = spec();
        let gate = test_support::gate(&spec, None);
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 0).unwrap();
        let poll = Duration::from_secs(30);
        let recorded = GateStatus {
            gate_key: Some(KEY.into()),
            created_timestamp: Some(start),
            issue: Some(IssueRef {
                number: 1,
                url: "https://github.com/acme/approvals/issues/1".into(),
            }),
            ..GateStatus::default()
        };
        assert!(must_list(&gate, &GateStatus::default(), start, poll));
        let other_key = GateStatus {
            gate_key: Some("ffffffffffff".into()),
            ..recorded.clone()
        };
        assert!(must_list(
            &gate,
            &other_key,
            start + TimeDelta::hours(5),
            poll
        ));
        let no_issue = GateStatus {
            issue: None,
            ..recorded.clone()
        };
        assert!(must_list(
            &gate,
            &no_issue,
            start + TimeDelta::hours(5),
            poll
        ));
        assert!(must_list(
            &gate,
            &recorded,
            start + TimeDelta::minutes(9),
            poll
        ));
        // After the first ten minutes: once in every hour of polls, whichever hour.
        for hour in [1, 7, 30] {
            let from = start + TimeDelta::hours(hour);
            let listings = (0..120)
                .filter(|i| must_list(&gate, &recorded, from + TimeDelta::seconds(30 * i), poll))
                .count();
            assert_eq!(listings, 1, "hour {hour}");
        }
        // A longer poll interval still lists once an hour.
        let slow = Duration::from_secs(300);
        let listings = (0..12)
            .filter(|i| {
                must_list(
                    &gate,
                    &recorded,
                    start + TimeDelta::hours(2) + TimeDelta::seconds(300 * i),
                    slow,
                )
            })
            .count();
        assert_eq!(listings, 1);
    }
}
