//! The conditional-request cache: the last `ETag`, body and `Link` header of each GET,
//! keyed by the credentials' identity and the request path, so a poll of an unchanged
//! issue costs only 304 answers (which do not count against GitHub's rate limit).
//!
//! In-memory and bounded: when full, the least recently used entry goes. No I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// What a conditional GET answers with on a 304.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The `ETag` to send back as `If-None-Match`.
    pub etag: String,
    /// The body of the last 200, shared with whoever reads it (never copied per hit).
    pub body: Arc<str>,
    /// The `Link` header of the last 200 (pagination).
    pub link: Option<String>,
}

impl Cached {
    /// The bytes an answer for `path` holds.
    fn size(&self, identity: &str, path: &str) -> usize {
        self.etag.len()
            + self.body.len()
            + self.link.as_ref().map_or(0, String::len)
            + identity.len()
            + path.len()
    }
}

type Key = (String, String);

#[derive(Debug, Default)]
struct Inner {
    /// Each answer, with when it was last used and its size.
    entries: HashMap<Key, (Cached, u64, usize)>,
    /// The answers by last use, oldest first: eviction is O(log n).
    order: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
}

impl Inner {
    fn evict_oldest(&mut self) {
        if let Some((_, key)) = self.order.pop_first()
            && let Some((_, _, size)) = self.entries.remove(&key)
        {
            self.bytes -= size;
        }
    }

    fn remove(&mut self, key: &Key) {
        if let Some((_, used, size)) = self.entries.remove(key) {
            self.order.remove(&used);
            self.bytes -= size;
        }
    }
}

/// A shared ETag cache bounded by answers and by bytes; when full, the least recently
/// used answers go.
#[derive(Debug)]
pub struct EtagCache {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Inner>,
}

impl EtagCache {
    /// A cache holding at most `capacity` answers and `max_bytes` bytes. An answer larger
    /// than an eighth of `max_bytes` is not kept (its next read is a full one).
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        EtagCache {
            capacity: capacity.max(1),
            max_bytes: max_bytes.max(1),
            inner: Mutex::default(),
        }
    }

    /// The cached answer for `path` as seen by `identity`.
    pub fn get(&self, identity: &str, path: &str) -> Option<Cached> {
        let mut inner = self.lock();
        let key = (identity.to_owned(), path.to_owned());
        inner.tick += 1;
        let tick = inner.tick;
        let (cached, used, _) = inner.entries.get_mut(&key)?;
        let old = std::mem::replace(used, tick);
        let cached = cached.clone();
        inner.order.remove(&old);
        inner.order.insert(tick, key);
        Some(cached)
    }

    /// Stores the answer for `path` as seen by `identity`.
    pub fn put(&self, identity: &str, path: &str, cached: Cached) {
        let size = cached.size(identity, path);
        let mut inner = self.lock();
        let key = (identity.to_owned(), path.to_owned());
        inner.remove(&key);
        if size > self.max_bytes / 8 {
            return;
        }
        while !inner.entries.is_empty()
            && (inner.entries.len() >= self.capacity || inner.bytes + size > self.max_bytes)
        {
            inner.evict_oldest();
        }
        inner.tick += 1;
        let tick = inner.tick;
        inner.order.insert(tick, key.clone());
        inner.entries.insert(key, (cached, tick, size));
        inner.bytes += size;
    }

    /// Forgets the answer for `path` (the resource is gone).
    pub fn remove(&self, identity: &str, path: &str) {
        self.lock().remove(&(identity.to_owned(), path.to_owned()));
    }

    /// How many answers are held.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// How many bytes the held answers take.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
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
            body: format!("body {etag}").into(),
            link: None,
        }
    }

    #[test]
    fn answers_are_kept_per_identity() {
        let cache = EtagCache::new(8, 1 << 20);
        cache.put("alice", "/r/issues/1", cached("a"));
        assert_eq!(cache.get("alice", "/r/issues/1"), Some(cached("a")));
        assert_eq!(cache.get("bob", "/r/issues/1"), None);
    }

    #[test]
    fn least_recently_used_answer_is_evicted_when_full() {
        let cache = EtagCache::new(2, 1 << 20);
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
    fn held_bytes_stay_within_the_bound_under_large_bodies() {
        // Comment pages of about 100 KB each: GitHub allows 65,536 characters a comment.
        let cache = EtagCache::new(4096, 1 << 20);
        let big = |n: usize| Cached {
            etag: format!("W/\"{n}\""),
            body: "x".repeat(100_000).into(),
            link: None,
        };
        for n in 0..200 {
            cache.put("i", &format!("/issues/{n}/comments"), big(n));
            assert!(cache.bytes() <= 1 << 20, "{} bytes", cache.bytes());
        }
        assert_eq!(cache.len(), 10, "as many as fit");
        assert!(cache.get("i", "/issues/199/comments").is_some());
        assert!(cache.get("i", "/issues/0/comments").is_none());
        // One answer over an eighth of the bound is not kept at all.
        let huge = Cached {
            body: "x".repeat(200_000).into(),
            ..big(0)
        };
        cache.put("i", "/huge", huge);
        assert!(cache.get("i", "/huge").is_none());
        assert!(cache.get("i", "/issues/199/comments").is_some());
    }

    #[test]
    fn forgetting_and_replacing_keep_the_byte_count() {
        let cache = EtagCache::new(8, 1 << 20);
        cache.put("i", "/1", cached("1"));
        cache.put("i", "/1", cached("1b"));
        cache.put("i", "/2", cached("2"));
        cache.remove("i", "/2");
        assert_eq!(cache.bytes(), cached("1b").size("i", "/1"));
    }

    #[test]
    fn replacing_an_answer_does_not_evict_another() {
        let cache = EtagCache::new(2, 1 << 20);
        cache.put("i", "/1", cached("1"));
        cache.put("i", "/2", cached("2"));
        cache.put("i", "/2", cached("2b"));
        assert_eq!(cache.get("i", "/1"), Some(cached("1")));
        assert_eq!(cache.get("i", "/2"), Some(cached("2b")));
    }
}
