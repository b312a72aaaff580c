//! The function's writes per namespace: a token bucket per approvals repository and the
//! namespace of the gates it writes for (the boundary tenants are given: a gate's
//! `spec.tenant` is whatever its creator wrote), so that what writers in the repository
//! provoke on one namespace's requests (closes undone, text restored) cannot spend the
//! shared token's write limits (GitHub allows about 80 content-creating requests a minute
//! and 500 an hour) for every other namespace.
//!
//! Each write takes one token; a bucket holds at most [`BURST`] and refills at the rate
//! the Input gives (`github.writesPerNamespacePerHour`). Without a token the write is not sent:
//! the gate answers [`GitHubError::WriteBudget`] and tries again through its TTL. Buckets
//! live in one replica: N replicas allow N times the rate.
//!
//! No I/O; the clock is passed in.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::GitHubError;

/// The most writes one namespace's gates may send at once on one repository (at least
/// two: an issue is opened with its binding).
pub const BURST: f64 = 60.0;

/// The most buckets kept: the least recently used go first (a forgotten bucket starts
/// full again).
const MAX_BUCKETS: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Every (repository, namespace) bucket of one function instance.
#[derive(Debug, Default)]
pub struct WriteBudgets {
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl WriteBudgets {
    /// Takes `writes` writes for the gates of `namespace` on `repository` at `now`, refilling `per_hour`
    /// an hour (0: unlimited); without them, takes none and says how long until there
    /// are.
    ///
    /// A `provoked` write (a reopen or restoration someone else's action calls for, and
    /// the comment that goes with it) leaves a quarter of the burst untouched, for the
    /// writes that carry decisions (an issue and its binding, a verdict, a close).
    pub fn take(
        &self,
        repository: &str,
        namespace: &str,
        (writes, per_hour, provoked): (u32, u32, bool),
        now: Instant,
    ) -> Result<(), GitHubError> {
        if per_hour == 0 {
            return Ok(());
        }
        let rate = f64::from(per_hour) / 3600.0;
        let burst = BURST.min(f64::from(per_hour)).max(2.0);
        let reserve = if provoked { (burst / 4.0).floor() } else { 0.0 };
        let need = f64::from(writes) + reserve;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            // Full buckets only forget what they would refill to anyway.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets
            .entry((repository.to_owned(), namespace.to_owned()))
            .or_insert(Bucket {
                tokens: burst,
                at: now,
            });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= need {
            bucket.tokens -= f64::from(writes);
            return Ok(());
        }
        let wait = ((need.min(burst) - bucket.tokens) / rate).ceil();
        Err(GitHubError::WriteBudget {
            namespace: namespace.to_owned(),
            per_hour,
            retry_after: Duration::from_secs(wait as u64).max(Duration::from_secs(1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_spends_its_burst_then_its_rate_and_no_other_namespace_s() {
        let budgets = WriteBudgets::default();
        let t0 = Instant::now();
        for _ in 0..60 {
            budgets
                .take("acme/approvals", "flooded", (1, 120, false), t0)
                .unwrap();
        }
        let refused = budgets
            .take("acme/approvals", "flooded", (1, 120, false), t0)
            .unwrap_err();
        assert_eq!(refused.reason(), "WriteBudget");
        assert_eq!(refused.retry_after(), Some(Duration::from_secs(30)));
        assert!(refused.to_string().contains("flooded"), "{refused}");
        // Other tenants, and the same tenant elsewhere, write on.
        budgets
            .take("acme/approvals", "quiet", (1, 120, false), t0)
            .unwrap();
        budgets
            .take("acme/other", "flooded", (1, 120, false), t0)
            .unwrap();
        // 120 an hour: one more every 30 s.
        budgets
            .take(
                "acme/approvals",
                "flooded",
                (1, 120, false),
                t0 + Duration::from_secs(30),
            )
            .unwrap();
        assert!(
            budgets
                .take(
                    "acme/approvals",
                    "flooded",
                    (1, 120, false),
                    t0 + Duration::from_secs(31)
                )
                .is_err()
        );
        // 0: unlimited.
        for _ in 0..1000 {
            budgets
                .take("acme/approvals", "unlimited", (1, 0, false), t0)
                .unwrap();
        }
        // Two at once, or none.
        let budgets = WriteBudgets::default();
        for _ in 0..59 {
            budgets.take("r/r", "t", (1, 120, false), t0).unwrap();
        }
        assert!(
            budgets.take("r/r", "t", (2, 120, false), t0).is_err(),
            "one left"
        );
        budgets.take("r/r", "t", (1, 120, false), t0).unwrap();
        // Provoked writes leave a quarter of the burst to decisions.
        let budgets = WriteBudgets::default();
        let mut provoked = 0;
        while budgets.take("r/r", "t", (1, 120, true), t0).is_ok() {
            provoked += 1;
        }
        assert_eq!(provoked, 45, "60 less the 15 kept");
        for _ in 0..15 {
            budgets.take("r/r", "t", (1, 120, false), t0).unwrap();
        }
        assert!(budgets.take("r/r", "t", (1, 120, false), t0).is_err());
        // A small rate has a small burst, never below an issue and its binding.
        let budgets = WriteBudgets::default();
        budgets.take("r/r", "one", (2, 1, false), t0).unwrap();
        for _ in 0..5 {
            budgets.take("r/r", "t", (1, 5, false), t0).unwrap();
        }
        assert!(budgets.take("r/r", "t", (1, 5, false), t0).is_err());
    }
}
