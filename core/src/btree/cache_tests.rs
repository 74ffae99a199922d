//! Tests of `cache.rs`, kept beside it so that file stays about the code.

use super::*;
use std::thread;

/// Small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn hit_miss_replace_remove_accounting() {
    let c: PageCache<u64> = PageCache::new(1 << 20);
    assert!(c.get(1).is_none());
    c.insert(1, Arc::new(10), 100);
    assert_eq!(*c.get(1).unwrap(), 10);
    assert!(c.get(2).is_none());
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.inserts), (1, 2, 1));
    assert_eq!(
        (s.used_bytes, s.entries, s.capacity_bytes),
        (100, 1, 1 << 20)
    );

    c.insert(1, Arc::new(11), 300);
    assert_eq!(*c.get(1).unwrap(), 11);
    let s = c.stats();
    assert_eq!((s.inserts, s.used_bytes, s.entries), (2, 300, 1));

    c.insert(2, Arc::new(20), 50);
    c.remove(1);
    assert!(c.get(1).is_none());
    assert_eq!(*c.get(2).unwrap(), 20);
    c.remove(12345); // absent: no-op
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.inserts), (3, 3, 3));
    assert_eq!((s.used_bytes, s.entries, s.evictions), (50, 1, 0));

    c.clear();
    assert!(c.get(2).is_none());
    let s = c.stats();
    assert_eq!((s.used_bytes, s.entries, s.hits, s.misses), (0, 0, 3, 4));
    c.check_invariants();
}

#[test]
fn zero_charge_counts_as_one_byte() {
    let c: PageCache<u64> = PageCache::with_shards(10, 1);
    for id in 0..100 {
        c.insert(id, Arc::new(id), 0);
    }
    let s = c.stats();
    assert_eq!(s.entries, 10);
    assert_eq!(s.used_bytes, 10);
    c.check_invariants();
}

#[test]
fn capacity_respected() {
    let cap = 1 << 20;
    let c: PageCache<u64> = PageCache::new(cap);
    let mut rng = Rng(7);
    for i in 0..20_000u64 {
        let id = rng.next() % 4096;
        let charge = 1 + (rng.next() % 16384) as usize;
        c.insert(id, Arc::new(id), charge);
        if i % 3 == 0 {
            let _ = c.get(rng.next() % 4096);
        }
        if i % 1000 == 0 {
            let s = c.stats();
            assert!(s.used_bytes <= cap, "{s:?}");
            c.check_invariants();
        }
    }
    let s = c.stats();
    assert!(s.used_bytes <= cap);
    assert!(s.evictions > 0);
    // Lots of small pages: the cache should also be reasonably full.
    assert!(s.used_bytes > cap / 2, "{s:?}");
    c.check_invariants();
}

#[test]
fn zero_capacity_disables() {
    let c: PageCache<u64> = PageCache::new(0);
    c.insert(1, Arc::new(1), 1);
    c.insert(2, Arc::new(2), 0);
    assert!(c.get(1).is_none());
    assert!(c.get(2).is_none());
    let s = c.stats();
    assert_eq!(
        (s.hits, s.misses, s.inserts, s.entries, s.used_bytes),
        (0, 2, 0, 0, 0)
    );
    assert_eq!(s.capacity_bytes, 0);
    c.remove(1);
    c.clear();
    c.check_invariants();
}

#[test]
fn oversized_entries_not_cached() {
    let c: PageCache<u64> = PageCache::with_shards(4000, 4); // 1000 per shard
    c.insert(1, Arc::new(1), 1000);
    assert!(c.get(1).is_some());
    c.insert(2, Arc::new(2), 1001);
    assert!(c.get(2).is_none());
    // Replacing with an oversized version must drop the stale one.
    c.insert(1, Arc::new(99), 5000);
    assert!(c.get(1).is_none());
    assert_eq!(c.stats().entries, 0);
    c.check_invariants();
}

/// Fills with a hot set, warms it, scans 10x capacity of one-time ids
/// and checks that the hot set survived.
fn scan_resistance(cache: PageCache<u64>, page: usize, hot_pages: u64) {
    let cap_pages = cache.stats().capacity_bytes / page as u64;
    for id in 0..hot_pages {
        cache.insert(id, Arc::new(id), page);
    }
    for _ in 0..3 {
        for id in 0..hot_pages {
            assert!(cache.get(id).is_some());
        }
    }
    let scan_start = 1_000_000;
    for id in scan_start..scan_start + 10 * cap_pages {
        if cache.get(id).is_none() {
            cache.insert(id, Arc::new(id), page);
        }
    }
    let cached = (0..hot_pages).filter(|&id| cache.get(id).is_some()).count() as u64;
    assert!(
        cached * 10 >= hot_pages * 9,
        "only {cached}/{hot_pages} hot pages survived the scan"
    );
    assert!(cache.stats().used_bytes <= cache.stats().capacity_bytes);
    cache.check_invariants();
}

#[test]
fn scan_resistance_single_shard() {
    // Hot set: 50% of the capacity.
    scan_resistance(PageCache::with_shards(256 * 4096, 1), 4096, 128);
}

#[test]
fn scan_resistance_sharded() {
    // 4 MiB: 16 shards of 256 KiB (64 pages); hot set 40% of capacity.
    let c = PageCache::new(4 << 20);
    assert_eq!(c.shards.len(), 16);
    scan_resistance(c, 4096, 400);
}

#[test]
fn hot_set_accessed_during_scan_stays() {
    let page = 4096;
    let c: PageCache<u64> = PageCache::with_shards(100 * page as u64, 1);
    for id in 0..80 {
        c.insert(id, Arc::new(id), page);
    }
    let mut next = 1_000_000u64;
    let mut hot_misses = 0;
    for round in 0..50 {
        for id in 0..80 {
            if c.get(id).is_none() {
                if round > 0 {
                    hot_misses += 1;
                }
                c.insert(id, Arc::new(id), page);
            }
        }
        for _ in 0..200 {
            c.insert(next, Arc::new(next), page);
            next += 1;
        }
    }
    assert_eq!(hot_misses, 0);
    c.check_invariants();
}

#[test]
fn one_time_entries_go_to_ghost_and_ghost_hits_go_to_main() {
    // 10 slots of 10 bytes; small target is one slot.
    let c: PageCache<u64> = PageCache::with_shards(100, 1);
    c.insert(0, Arc::new(0), 10);
    assert_eq!(c.queue_of(0), Some(Queue::Small));
    for id in 1..10 {
        c.insert(id, Arc::new(id), 10);
    }
    assert_eq!(c.stats().entries, 10);
    // Cache full: id 0 (never re-accessed) leaves small for the ghost.
    c.insert(10, Arc::new(10), 10);
    assert_eq!(c.queue_of(0), None);
    assert!(c.in_ghost(0));
    assert_eq!(c.queue_of(10), Some(Queue::Small));
    assert_eq!(c.stats().evictions, 1);

    // Coming back while remembered: straight into main.
    c.insert(0, Arc::new(0), 10);
    assert_eq!(c.queue_of(0), Some(Queue::Main));
    assert!(!c.in_ghost(0));
    c.check_invariants();
}

#[test]
fn accessed_small_entries_move_to_main() {
    let c: PageCache<u64> = PageCache::with_shards(100, 1);
    // Fill main through the cold-start path, then small.
    for id in 0..10 {
        c.insert(id, Arc::new(id), 10);
    }
    // Small holds [0, 9]; main holds 1..=8.
    assert_eq!(c.queue_of(9), Some(Queue::Small));
    c.insert(10, Arc::new(10), 10); // 0 -> ghost, 10 -> small: [9, 10]
    assert_eq!(c.queue_of(10), Some(Queue::Small));
    assert!(c.get(10).is_some());
    c.insert(11, Arc::new(11), 10); // 9 -> ghost: small [10, 11]
    assert!(c.in_ghost(9));
    c.insert(12, Arc::new(12), 10); // 10 was hit: promoted; 11 -> ghost
    assert_eq!(c.queue_of(10), Some(Queue::Main));
    assert!(c.in_ghost(11));
    assert_eq!(c.queue_of(12), Some(Queue::Small));
    c.check_invariants();
}

#[test]
fn main_uses_lazy_promotion() {
    let c: PageCache<u64> = PageCache::with_shards(100, 1);
    for id in 0..10 {
        c.insert(id, Arc::new(id), 10);
    }
    // Small holds [0, 9], main holds 1..=8 (frequency 0).
    for id in 1..5 {
        assert!(c.get(id).is_some());
    }
    assert!(c.get(0).is_some());
    assert!(c.get(9).is_some());
    // Eviction: 0 and 9 were hit, so both move to main and small empties;
    // then main's CLOCK reinserts 1..=4 (decrementing) and evicts 5.
    c.insert(100, Arc::new(100), 10);
    assert_eq!(c.queue_of(0), Some(Queue::Main));
    assert_eq!(c.queue_of(9), Some(Queue::Main));
    for id in 1..5 {
        assert_eq!(
            c.queue_of(id),
            Some(Queue::Main),
            "hit main entry {id} evicted"
        );
    }
    assert_eq!(c.queue_of(5), None);
    assert!(!c.in_ghost(5), "main evictions are not remembered");
    assert_eq!(c.queue_of(100), Some(Queue::Small));
    assert_eq!(c.stats().evictions, 1);
    c.check_invariants();
}

#[test]
fn repeated_insert_remove_keeps_queues_bounded() {
    let c: PageCache<u64> = PageCache::with_shards(1 << 20, 1);
    for i in 0..100_000u64 {
        c.insert(i % 7, Arc::new(i), 100);
        c.remove(i % 7);
    }
    // Ghost ids too.
    let inner = c.shards[0].inner.read();
    assert!(inner.small.len() <= 2 * inner.small_live + COMPACT_SLACK + 1);
    assert!(inner.main.len() <= 2 * inner.main_live + COMPACT_SLACK + 1);
    assert!(inner.ghost.len() <= 2 * inner.ghost_map.len() + COMPACT_SLACK + 1);
    drop(inner);
    c.check_invariants();
}

#[test]
fn hasher_spreads_ids() {
    // Ids that are multiples of a large power of two must not collide.
    let build = IdBuildHasher;
    let mut low = std::collections::HashSet::new();
    for i in 0..1024u64 {
        low.insert(build.hash_one(i << 20) & 1023);
    }
    assert!(low.len() > 500, "{}", low.len());
    // Shards are used evenly by sequential ids.
    let c: PageCache<u64> = PageCache::with_shards(1 << 20, 16);
    let mut counts = [0usize; 16];
    for id in 0..16_000u64 {
        let idx = (c.shard(id) as *const Shard<u64> as usize - c.shards.as_ptr() as usize)
            / std::mem::size_of::<Shard<u64>>();
        counts[idx] += 1;
    }
    assert!(
        counts.iter().all(|&n| (800..1200).contains(&n)),
        "{counts:?}"
    );
}

#[test]
fn cache_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PageCache<Vec<u8>>>();
    assert_send_sync::<CacheStats>();
}

#[test]
fn concurrent_smoke() {
    let cap = 256 * 1024;
    let cache: Arc<PageCache<u64>> = Arc::new(PageCache::new(cap));
    const THREADS: u64 = 4;
    const OPS: u64 = 50_000;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let cache = Arc::clone(&cache);
            thread::spawn(move || {
                let mut rng = Rng(t * 7919 + 1);
                let (mut gets, mut hits, mut inserts) = (0u64, 0u64, 0u64);
                for _ in 0..OPS {
                    let r = rng.next();
                    let id = (r >> 8) % 1024;
                    match r % 10 {
                        0..=5 => {
                            gets += 1;
                            if let Some(v) = cache.get(id) {
                                hits += 1;
                                assert_eq!(*v, id, "wrong value for id {id}");
                            }
                        }
                        6..=8 => {
                            inserts += 1;
                            let charge = 1 + ((r >> 20) % 4096) as usize;
                            cache.insert(id, Arc::new(id), charge);
                        }
                        _ => cache.remove(id),
                    }
                }
                (gets, hits, inserts)
            })
        })
        .collect();
    let (mut gets, mut hits, mut inserts) = (0, 0, 0);
    for h in handles {
        let (g, hi, i) = h.join().unwrap();
        gets += g;
        hits += hi;
        inserts += i;
    }
    let s = cache.stats();
    assert_eq!(s.hits + s.misses, gets);
    assert_eq!(s.hits, hits);
    assert_eq!(s.inserts, inserts); // no charge exceeds a shard
    assert!(s.used_bytes <= cap);
    assert!(s.hits > 0 && s.misses > 0 && s.evictions > 0, "{s:?}");
    cache.check_invariants();
}
