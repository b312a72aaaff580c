//! How much memory the repository views may hold: derived from the container's limit
//! (the cgroup's), so that a replica under its shipped limit is never OOM-killed by large
//! comments on approval issues (each kill is a cold start), unless a flag says otherwise.
//!
//! Reads the cgroup files once at start; the arithmetic is pure.

use std::path::Path;

/// What the process needs besides the views: the runtime, the requests in flight and the
/// ETag cache (16 MiB).
pub const RESERVED: u64 = 40 << 20;

/// The least the views get, whatever the limit: below it they would hold too little to
/// spare a poll its reads.
pub const FLOOR: usize = 8 << 20;

/// The most the views get, and what they get without a limit.
pub const CEILING: usize = 256 << 20;

/// The views' byte budget: `configured` (MiB) when given, else half of what `limit`
/// leaves after [`RESERVED`] (the views count their own bytes, not the allocator's
/// overhead), between [`FLOOR`] and [`CEILING`].
pub fn view_budget(limit: Option<u64>, configured: Option<usize>) -> usize {
    if let Some(mib) = configured {
        return mib.saturating_mul(1 << 20).max(1 << 20);
    }
    match limit {
        Some(limit) => {
            let half = limit.saturating_sub(RESERVED) / 2;
            usize::try_from(half)
                .unwrap_or(usize::MAX)
                .clamp(FLOOR, CEILING)
        }
        None => CEILING,
    }
}

/// The container's memory limit, from cgroup v2 (`memory.max`) or v1
/// (`memory.limit_in_bytes`) under `root` (`/sys/fs/cgroup`); none when unlimited or
/// unreadable.
pub fn container_limit(root: &Path) -> Option<u64> {
    let read = |file: &str| std::fs::read_to_string(root.join(file)).ok();
    let parsed = read("memory.max")
        .or_else(|| read("memory/memory.limit_in_bytes"))?
        .trim()
        .parse::<u64>()
        .ok()?;
    // v1 says "no limit" with a number near i64::MAX.
    (parsed < 1 << 60).then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_views_get_half_of_what_the_limit_leaves() {
        let mib = |n: u64| n << 20;
        assert_eq!(view_budget(Some(mib(128)), None), (44 << 20) as usize);
        assert_eq!(view_budget(Some(mib(512)), None), (236 << 20) as usize);
        assert_eq!(view_budget(Some(mib(4096)), None), CEILING, "capped");
        assert_eq!(view_budget(Some(mib(32)), None), FLOOR, "a floor");
        assert_eq!(view_budget(None, None), CEILING, "no limit");
        assert_eq!(
            view_budget(Some(mib(128)), Some(100)),
            100 << 20,
            "the flag wins"
        );
    }

    #[test]
    fn the_limit_is_read_from_cgroup_v2_or_v1() {
        let dir = std::env::temp_dir().join(format!("cgroup-test-{}", std::process::id()));
        let v2 = dir.join("v2");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("memory.max"), "134217728\n").unwrap();
        assert_eq!(container_limit(&v2), Some(128 << 20));
        std::fs::write(v2.join("memory.max"), "max\n").unwrap();
        assert_eq!(container_limit(&v2), None);
        let v1 = dir.join("v1");
        std::fs::create_dir_all(v1.join("memory")).unwrap();
        std::fs::write(v1.join("memory/memory.limit_in_bytes"), "268435456").unwrap();
        assert_eq!(container_limit(&v1), Some(256 << 20));
        std::fs::write(
            v1.join("memory/memory.limit_in_bytes"),
            "9223372036854771712",
        )
        .unwrap();
        assert_eq!(container_limit(&v1), None, "unlimited");
        assert_eq!(container_limit(&dir.join("none")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
