//! The conditional-request cache: the last `ETag`, body and `Link` header of each GET,
//! keyed by the credentials' identity and the request path, so a poll of an unchanged
//! issue costs only 304 answers (which do not count against GitHub's rate limit).
//!
//! In-memory and bounded: when full, the least recently used entry goes. No I/O.

use std::collections::HashMap;
use std::sync::Mutex;

/// What a conditional GET answers with on a 304.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The `ETag` to send back as `If-None-Match`.
    pub etag: String,
    /// The body of the last 200.
    pub body: String,
    /// The `Link` header of the last 200 (pagination).
    pub link: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<(String, String), (Cached, u64)>,
    tick: u64,
}

/// A bounded, shared ETag cache.
#[derive(Debug)]
pub struct EtagCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl EtagCache {
    /// A cache holding at most `capacity` answers.
    pub fn new(capacity: usize) -> Self {
        EtagCache {
            capacity: capacity.max(1),
            inner: Mutex::default(),
        }
    }

    /// The cached answer for `path` as seen by `identity`.
    pub fn get(&self, identity: &str, path: &str) -> Option<Cached> {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let (cached, used) = inner
            .entries
            .get_mut(&(identity.to_owned(), path.to_owned()))?;
        *used = tick;
        Some(cached.clone())
    }

    /// Stores the answer for `path` as seen by `identity`.
    pub fn put(&self, identity: &str, path: &str, cached: Cached) {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let key = (identity.to_owned(), path.to_owned());
        if !inner.entries.contains_key(&key) && inner.entries.len() >= self.capacity {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                inner.entries.remove(&oldest);
            }
        }
        inner.entries.insert(key, (cached, tick));
    }

    /// Forgets the answer for `path` (the resource is gone).
    pub fn remove(&self, identity: &str, path: &str) {
        self.lock()
            .entries
            .remove(&(identity.to_owned(), path.to_owned()));
    }

    /// How many answers are held.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only a cache behind: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(etag: &str) -> Cached {
        Cached {
            etag: etag.into(),
            body: format!("body {etag}"),
            link: None,
        }
    }

    #[test]
    fn answers_are_kept_per_identity() {
        let cache = EtagCache::new(8);
        cache.put("alice", "/r/issues/1", cached("a"));
        assert_eq!(cache.get("alice", "/r/issues/1"), Some(cached("a")));
        assert_eq!(cache.get("bob", "/r/issues/1"), None);
    }

    #[test]
    fn least_recently_used_answer_is_evicted_when_full() {
        let cache = EtagCache::new(2);
        cache.put("i", "/1", cached("1"));
        cache.put("i", "/2", cached("2"));
        cache.get("i", "/1");
        cache.put("i", "/3", cached("3"));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("i", "/1").is_some());
        assert!(cache.get("i", "/2").is_none());
        assert!(cache.get("i", "/3").is_some());
    }

    #[test]
    fn replacing_an_answer_does_not_evict_another() {
        let cache = EtagCache::new(2);
        cache.put("i", "/1", cached("1"));
        cache.put("i", "/2", cached("2"));
        cache.put("i", "/2", cached("2b"));
        assert_eq!(cache.get("i", "/1"), Some(cached("1")));
        assert_eq!(cache.get("i", "/2"), Some(cached("2b")));
    }
}
