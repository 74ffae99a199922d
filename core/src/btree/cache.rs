//! A scan-resistant, concurrent page cache built on S3-FIFO.
//!
//! # Algorithm
//!
//! S3-FIFO ("FIFO queues are all you need for cache eviction", Yang et al.,
//! SOSP'23) keeps three FIFO queues per cache:
//!
//! * **small** (about 10% of the capacity): every new page is admitted here.
//! * **main** (the remaining ~90%): pages that proved themselves.
//! * **ghost**: the ids (no values) of pages recently evicted from *small*,
//!   bounded to roughly the byte size of *main*.
//!
//! Each cached page carries a 2-bit frequency counter (0..=3) that a hit
//! bumps. When space is needed:
//!
//! * if *small* holds at least its 10% share (or *main* is empty), the page at
//!   the head of *small* is examined: if it was hit at least once since it was
//!   admitted it moves to the tail of *main* (keeping its counter, as in the
//!   paper's Algorithm 1), otherwise it is evicted and its id is remembered
//!   in *ghost*;
//! * otherwise the head of *main* is examined: a page whose counter is non-zero
//!   is reinserted at the tail with its counter decremented ("lazy
//!   promotion", i.e. a 2-bit CLOCK); a page with a zero counter is evicted.
//!
//! A miss whose id is still in *ghost* was evicted too early (it came back
//! within one "main-queue lifetime"), so it is inserted straight into *main*.
//! Following libCacheSim's improved variant, a new page is also put into
//! *main* while the cache is not yet full but *small* already holds its share,
//! so that a cold cache fills its main queue instead of churning *small*.
//!
//! # Why: scan resistance
//!
//! A B+tree page cache sees two very different kinds of traffic: a small,
//! very hot working set (inner nodes, hot leaves) and long one-pass scans
//! (range scans, compaction, checksumming) that touch each page exactly once.
//! Under LRU a scan larger than the cache flushes the whole working set. Under
//! S3-FIFO a one-time page only ever lives in the 10% *small* queue and is
//! quickly demoted to *ghost* ("quick demotion"), so a scan of any length can
//! displace at most that 10%, while the hot pages sit in *main* where only
//! pages that were re-accessed compete for space. FIFO queues also need no
//! list reordering on a hit — a hit only bumps an atomic counter — which is
//! what lets lookups run under a shared lock.
//!
//! # Concurrency
//!
//! The cache is split into up to 16 shards (a power of two) chosen by a
//! multiplicative hash of the page id, each with its own
//! [`RwLock`]. [`PageCache::get`] takes only the shared lock and
//! bumps the entry's frequency with a relaxed atomic (skipped once saturated,
//! so the hottest pages are read-only), so concurrent hits never serialize.
//! Hit/miss counters live next to each shard's lock word, in a shard padded to
//! its own cache lines, and are summed by [`PageCache::stats`]. Insertions,
//! removals and eviction take the shard's write lock. Each shard owns
//! `capacity / shards` bytes and runs S3-FIFO independently; small caches get
//! fewer shards so each shard stays large enough for the 10%/90% split to be
//! meaningful.
//!
//! Queues are `VecDeque`s of `(id, seq)` slots with lazy deletion: removing
//! an entry leaves a stale slot behind that is skipped (its `seq` no longer
//! matches the entry) when it reaches the head, and a queue is compacted when
//! stale slots outnumber live ones.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use crate::locks::RwLock;

/// Largest number of shards [`PageCache::new`] creates.
const MAX_SHARDS: usize = 16;
/// Largest number of shards [`PageCache::with_shards`] accepts.
const MAX_SHARDS_EXPLICIT: usize = 1024;
/// [`PageCache::new`] halves the shard count until each shard has at least
/// this many bytes (or only one shard is left).
const MIN_SHARD_CAPACITY: u64 = 128 * 1024;
/// Saturation value of the 2-bit frequency counter.
const MAX_FREQ: u8 = 3;
/// Share of a shard's capacity given to the small queue, in percent.
const SMALL_PERCENT: u64 = 10;
/// Slack before a queue with stale slots is compacted.
const COMPACT_SLACK: usize = 32;

/// Multiplier used to pick a shard (2^64 / golden ratio, odd).
const SHARD_MUL: u64 = 0x9E37_79B9_7F4A_7C15;
/// Multiplier of the hash-map hasher (a different odd constant, so that ids
/// that share a shard are still well spread inside it).
const MAP_MUL: u64 = 0xA076_1D64_78BD_642F;
/// Seed xor-ed into map keys so that id 0 does not hash to 0.
const MAP_SEED: u64 = 0xE703_7ED1_A0B4_28DB;

/// Multiplies two 64-bit values and folds the 128-bit product into 64 bits.
///
/// Every output bit depends on every input bit, so both the low bits
/// (bucket index) and the high bits (control byte) hashbrown uses are good.
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// A tiny, fast hasher for `u64` page ids (one folded multiplication).
///
/// Page ids are not attacker-controlled keys, so no DoS-resistant hashing is
/// needed; SipHash would cost more than the rest of a cache hit.
#[derive(Clone, Copy, Default)]
struct IdHasher {
    /// Running hash state.
    state: u64,
}

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Generic fallback; `u64` keys take the `write_u64` fast path.
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }

    #[inline(always)]
    fn write_u64(&mut self, x: u64) {
        self.state = folded_multiply(self.state ^ x ^ MAP_SEED, MAP_MUL);
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        self.state
    }
}

/// [`BuildHasher`] producing [`IdHasher`]s.
#[derive(Clone, Copy, Default)]
struct IdBuildHasher;

impl BuildHasher for IdBuildHasher {
    type Hasher = IdHasher;

    #[inline(always)]
    fn build_hasher(&self) -> IdHasher {
        IdHasher::default()
    }
}

/// Which FIFO queue a cached entry currently belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Queue {
    /// The probationary queue new pages are admitted to.
    Small,
    /// The protected queue of pages that were re-accessed.
    Main,
}

/// A cached page.
struct Entry<V: ?Sized> {
    /// The cached value.
    value: Arc<V>,
    /// Bytes this entry costs (at least 1).
    charge: u64,
    /// 2-bit access frequency, bumped by readers under the shared lock.
    freq: AtomicU8,
    /// Queue the entry is in.
    queue: Queue,
    /// Sequence number of the entry's live slot in its queue.
    seq: u64,
}

impl<V: ?Sized> Entry<V> {
    /// Records a hit: saturating increment, skipped once saturated so hot
    /// entries are not written to at all.
    #[inline(always)]
    fn touch(&self) {
        let f = self.freq.load(Ordering::Relaxed);
        if f < MAX_FREQ {
            // A racing reader may overwrite this with the same value; losing
            // an increment is harmless for an eviction hint.
            self.freq.store(f + 1, Ordering::Relaxed);
        }
    }
}

/// A queue slot: the id plus the sequence number it was enqueued with.
#[derive(Clone, Copy)]
struct Slot {
    /// Page id.
    id: u64,
    /// Sequence number; a slot is live iff it matches its entry's `seq`.
    seq: u64,
}

/// A remembered eviction from the small queue.
#[derive(Clone, Copy)]
struct Ghost {
    /// Sequence number of the live ghost slot.
    seq: u64,
    /// Charge of the evicted entry (ghost is bounded in bytes).
    charge: u64,
}

/// The state of one shard, guarded by the shard's lock.
struct Inner<V: ?Sized> {
    /// Cached entries.
    map: HashMap<u64, Entry<V>, IdBuildHasher>,
    /// Small FIFO (head = oldest).
    small: VecDeque<Slot>,
    /// Main FIFO (head = next CLOCK candidate).
    main: VecDeque<Slot>,
    /// Ghost FIFO of ids evicted from small.
    ghost: VecDeque<Slot>,
    /// Live ghost ids.
    ghost_map: HashMap<u64, Ghost, IdBuildHasher>,
    /// Byte capacity of this shard.
    capacity: u64,
    /// Target size of the small queue in bytes.
    small_target: u64,
    /// Byte bound of the ghost queue.
    ghost_capacity: u64,
    /// Bytes of live entries in small.
    small_bytes: u64,
    /// Bytes of live entries in main.
    main_bytes: u64,
    /// Charges of live ghost ids.
    ghost_bytes: u64,
    /// Live entries in small.
    small_live: usize,
    /// Live entries in main.
    main_live: usize,
    /// Next sequence number for a queue slot.
    next_seq: u64,
    /// Values stored (new entries and replacements).
    inserts: u64,
    /// Entries evicted to make room.
    evictions: u64,
}

impl<V: ?Sized> Inner<V> {
    /// Creates an empty shard of `capacity` bytes.
    fn new(capacity: u64) -> Self {
        let small_target = capacity * SMALL_PERCENT / 100;
        Inner {
            map: HashMap::with_hasher(IdBuildHasher),
            small: VecDeque::new(),
            main: VecDeque::new(),
            ghost: VecDeque::new(),
            ghost_map: HashMap::with_hasher(IdBuildHasher),
            capacity,
            small_target,
            ghost_capacity: capacity - small_target,
            small_bytes: 0,
            main_bytes: 0,
            ghost_bytes: 0,
            small_live: 0,
            main_live: 0,
            next_seq: 0,
            inserts: 0,
            evictions: 0,
        }
    }

    /// Bytes used by cached entries.
    #[inline]
    fn used(&self) -> u64 {
        self.small_bytes + self.main_bytes
    }

    /// Returns a fresh slot sequence number.
    #[inline]
    fn seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// Inserts or replaces `id`; `charge` is already at least 1.
    fn insert(&mut self, id: u64, value: Arc<V>, charge: u64) {
        if charge > self.capacity {
            // Cannot be cached; make sure an older version is not served.
            self.remove(id);
            return;
        }
        if let Some(e) = self.map.get_mut(&id) {
            // Replacement: keep the queue position and frequency.
            let old = e.charge;
            e.value = value;
            e.charge = charge;
            match e.queue {
                Queue::Small => self.small_bytes = self.small_bytes - old + charge,
                Queue::Main => self.main_bytes = self.main_bytes - old + charge,
            }
            self.inserts += 1;
            while self.used() > self.capacity && self.evict_one() {}
            return;
        }

        // Consult (and consume) the ghost before evicting, which may trim it.
        let ghost_hit = self.ghost_remove(id);
        while self.used() + charge > self.capacity && self.evict_one() {}
        let cache_full = self.used() + charge >= self.capacity;
        let queue = if ghost_hit || (!cache_full && self.small_bytes >= self.small_target) {
            Queue::Main
        } else {
            Queue::Small
        };
        let seq = self.seq();
        let slot = Slot { id, seq };
        match queue {
            Queue::Small => {
                self.small.push_back(slot);
                self.small_bytes += charge;
                self.small_live += 1;
            }
            Queue::Main => {
                self.main.push_back(slot);
                self.main_bytes += charge;
                self.main_live += 1;
            }
        }
        self.map.insert(
            id,
            Entry {
                value,
                charge,
                freq: AtomicU8::new(0),
                queue,
                seq,
            },
        );
        self.inserts += 1;
    }

    /// Removes `id` from the cache and from the ghost.
    fn remove(&mut self, id: u64) {
        if let Some(e) = self.map.remove(&id) {
            match e.queue {
                Queue::Small => {
                    self.small_bytes -= e.charge;
                    self.small_live -= 1;
                    if self.small.len() > 2 * self.small_live + COMPACT_SLACK {
                        compact(&mut self.small, |s| live_slot(&self.map, s));
                    }
                }
                Queue::Main => {
                    self.main_bytes -= e.charge;
                    self.main_live -= 1;
                    if self.main.len() > 2 * self.main_live + COMPACT_SLACK {
                        compact(&mut self.main, |s| live_slot(&self.map, s));
                    }
                }
            }
        } else {
            self.ghost_remove(id);
        }
    }

    /// Forgets `id` from the ghost; returns whether it was there.
    fn ghost_remove(&mut self, id: u64) -> bool {
        let Some(g) = self.ghost_map.remove(&id) else {
            return false;
        };
        self.ghost_bytes -= g.charge;
        if self.ghost.len() > 2 * self.ghost_map.len() + COMPACT_SLACK {
            let ghost_map = &self.ghost_map;
            compact(&mut self.ghost, |s| {
                ghost_map.get(&s.id).is_some_and(|g| g.seq == s.seq)
            });
        }
        true
    }

    /// Remembers `id` (evicted from small) in the ghost, trimming the ghost
    /// to its byte bound.
    fn ghost_push(&mut self, id: u64, charge: u64) {
        let seq = self.seq();
        if let Some(old) = self.ghost_map.insert(id, Ghost { seq, charge }) {
            self.ghost_bytes -= old.charge;
        }
        self.ghost_bytes += charge;
        self.ghost.push_back(Slot { id, seq });
        while self.ghost_bytes > self.ghost_capacity {
            let Some(s) = self.ghost.pop_front() else {
                break;
            };
            if let MapEntry::Occupied(o) = self.ghost_map.entry(s.id) {
                if o.get().seq == s.seq {
                    self.ghost_bytes -= o.remove().charge;
                }
            }
        }
    }

    /// Evicts one entry; returns false if nothing could be evicted.
    fn evict_one(&mut self) -> bool {
        if self.small_live > 0
            && (self.small_bytes >= self.small_target || self.main_live == 0)
            && self.evict_small()
        {
            return true;
        }
        self.evict_main() || self.evict_small()
    }

    /// S3-FIFO `evictS`: pops small until one entry is actually evicted,
    /// moving re-accessed entries to main on the way.
    fn evict_small(&mut self) -> bool {
        while let Some(slot) = self.small.pop_front() {
            let MapEntry::Occupied(mut o) = self.map.entry(slot.id) else {
                continue; // stale slot of a removed entry
            };
            let e = o.get_mut();
            if e.seq != slot.seq {
                continue; // stale slot of an older incarnation
            }
            let charge = e.charge;
            self.small_bytes -= charge;
            self.small_live -= 1;
            if *e.freq.get_mut() > 0 {
                // Accessed while on probation: promote to main.
                let seq = self.next_seq;
                self.next_seq += 1;
                e.seq = seq;
                e.queue = Queue::Main;
                self.main.push_back(Slot { id: slot.id, seq });
                self.main_bytes += charge;
                self.main_live += 1;
            } else {
                // One-hit wonder: evict, remember the id.
                o.remove();
                self.evictions += 1;
                self.ghost_push(slot.id, charge);
                return true;
            }
        }
        false
    }

    /// S3-FIFO `evictM`: 2-bit CLOCK over main; evicts one entry.
    fn evict_main(&mut self) -> bool {
        while let Some(slot) = self.main.pop_front() {
            let MapEntry::Occupied(mut o) = self.map.entry(slot.id) else {
                continue;
            };
            let e = o.get_mut();
            if e.seq != slot.seq {
                continue;
            }
            let f = e.freq.get_mut();
            if *f > 0 {
                // Lazy promotion: reinsert with one less credit.
                *f -= 1;
                self.main.push_back(slot);
            } else {
                let charge = e.charge;
                o.remove();
                self.main_bytes -= charge;
                self.main_live -= 1;
                self.evictions += 1;
                return true;
            }
        }
        false
    }

    /// Drops every entry and ghost, keeping the counters.
    #[cfg(test)]
    fn clear(&mut self) {
        self.map.clear();
        self.small.clear();
        self.main.clear();
        self.ghost.clear();
        self.ghost_map.clear();
        self.small_bytes = 0;
        self.main_bytes = 0;
        self.ghost_bytes = 0;
        self.small_live = 0;
        self.main_live = 0;
    }
}

/// Whether `slot` is the live slot of its entry.
#[inline]
fn live_slot<V: ?Sized>(map: &HashMap<u64, Entry<V>, IdBuildHasher>, slot: &Slot) -> bool {
    map.get(&slot.id).is_some_and(|e| e.seq == slot.seq)
}

/// Drops stale slots from `queue`, keeping order, and gives back memory.
fn compact(queue: &mut VecDeque<Slot>, mut live: impl FnMut(&Slot) -> bool) {
    queue.retain(|s| live(s));
    if queue.capacity() > 4 * queue.len() + COMPACT_SLACK {
        queue.shrink_to(2 * queue.len() + COMPACT_SLACK);
    }
}

/// One shard: its counters sit in front of the lock word so a hit touches a
/// single contended cache line; the alignment keeps shards off each other's
/// lines (128 bytes covers adjacent-line prefetching).
#[repr(C, align(128))]
struct Shard<V: ?Sized> {
    /// Hits served by this shard.
    hits: AtomicU64,
    /// Misses seen by this shard.
    misses: AtomicU64,
    /// The shard's S3-FIFO state.
    inner: RwLock<Inner<V>>,
}

/// Counters and occupancy of a [`PageCache`], summed over its shards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found their page.
    pub hits: u64,
    /// Lookups that did not find their page.
    pub misses: u64,
    /// Values stored, counting new entries and replacements of an existing
    /// id (entries too large to cache are not counted).
    pub inserts: u64,
    /// Entries evicted to make room (explicit removals and `clear` are not
    /// counted).
    pub evictions: u64,
    /// Sum of the charges of the cached entries.
    pub used_bytes: u64,
    /// Configured capacity in bytes.
    pub capacity_bytes: u64,
    /// Number of cached entries.
    pub entries: u64,
}

/// A sharded, scan-resistant S3-FIFO cache from page id to `Arc<V>`.
///
/// See the [module documentation](self) for the algorithm. All methods take
/// `&self`; the cache is meant to be shared between threads (it is `Send` and
/// `Sync` when `V: Send + Sync`).
pub struct PageCache<V: ?Sized> {
    /// The shards; the length is a power of two.
    shards: Box<[Shard<V>]>,
    /// `shards.len() - 1`.
    shard_mask: u64,
    /// log2 of the shard count.
    shard_bits: u32,
    /// Configured capacity in bytes.
    capacity: u64,
}

impl<V: Send + Sync + ?Sized> PageCache<V> {
    /// Creates a cache holding at most `capacity_bytes` bytes of charges.
    ///
    /// The cache has up to 16 shards (fewer for small capacities, so that each
    /// shard keeps at least 128 KiB when possible). A capacity of 0 disables
    /// the cache: [`get`](Self::get) always misses and
    /// [`insert`](Self::insert) stores nothing.
    pub fn new(capacity_bytes: u64) -> Self {
        let mut shards = MAX_SHARDS;
        while shards > 1 && capacity_bytes / (shards as u64) < MIN_SHARD_CAPACITY {
            shards /= 2;
        }
        Self::with_shards(capacity_bytes, shards)
    }

    /// Creates a cache of `capacity_bytes` split into `shards` shards
    /// (rounded up to a power of two, between 1 and 1024). Each shard gets
    /// an equal share of the capacity and evicts independently, so an entry
    /// larger than `capacity_bytes / shards` is never cached.
    pub fn with_shards(capacity_bytes: u64, shards: usize) -> Self {
        let n = shards.clamp(1, MAX_SHARDS_EXPLICIT).next_power_of_two();
        let base = capacity_bytes / n as u64;
        let extra = capacity_bytes % n as u64;
        let shards: Box<[Shard<V>]> = (0..n as u64)
            .map(|i| Shard {
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                inner: RwLock::new(Inner::new(base + u64::from(i < extra))),
            })
            .collect();
        PageCache {
            shards,
            shard_mask: n as u64 - 1,
            shard_bits: n.trailing_zeros(),
            capacity: capacity_bytes,
        }
    }

    /// The shard responsible for `id`.
    #[inline(always)]
    fn shard(&self, id: u64) -> &Shard<V> {
        // The high bits of a multiplicative hash are the well-mixed ones;
        // rotate them down (a rotation by 0 with mask 0 handles one shard).
        let h = id.wrapping_mul(SHARD_MUL).rotate_left(self.shard_bits);
        &self.shards[(h & self.shard_mask) as usize]
    }

    /// Looks up page `id`, counting a hit or a miss.
    ///
    /// Takes only the shard's shared lock; a hit bumps the entry's frequency
    /// with a relaxed atomic store.
    #[inline]
    pub fn get(&self, id: u64) -> Option<Arc<V>> {
        let shard = self.shard(id);
        let found = {
            let inner = shard.inner.read();
            inner.map.get(&id).map(|e| {
                e.touch();
                Arc::clone(&e.value)
            })
        };
        let counter = if found.is_some() {
            &shard.hits
        } else {
            &shard.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Caches `value` as page `id`, costing `charge` bytes (a charge of 0 is
    /// counted as 1 so the cache stays bounded in entries too).
    ///
    /// An existing entry with the same id is replaced in place (keeping its
    /// queue position and frequency). Evicts as needed to stay within the
    /// shard's capacity. A value larger than a shard's capacity is not cached,
    /// and an older cached version of `id` is dropped instead.
    pub fn insert(&self, id: u64, value: Arc<V>, charge: usize) {
        let charge = (charge as u64).max(1);
        let shard = self.shard(id);
        let mut inner = shard.inner.write();
        inner.insert(id, value, charge);
    }

    /// Invalidates page `id` (it was freed or rewritten), also forgetting it
    /// from the ghost queue. Not counted as an eviction.
    pub fn remove(&self, id: u64) {
        self.shard(id).inner.write().remove(id);
    }

    /// Drops every cached entry (and the ghost history). The hit, miss,
    /// insert and eviction counters are kept.
    #[cfg(test)]
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            shard.inner.write().clear();
        }
    }

    /// Returns counters and occupancy, summed over all shards. Shards are
    /// read one after another, so under concurrent use the result is not an
    /// atomic snapshot.
    pub fn stats(&self) -> CacheStats {
        let mut s = CacheStats {
            capacity_bytes: self.capacity,
            ..CacheStats::default()
        };
        for shard in self.shards.iter() {
            s.hits += shard.hits.load(Ordering::Relaxed);
            s.misses += shard.misses.load(Ordering::Relaxed);
            let inner = shard.inner.read();
            s.inserts += inner.inserts;
            s.evictions += inner.evictions;
            s.used_bytes += inner.used();
            s.entries += inner.map.len() as u64;
        }
        s
    }
}

#[cfg(test)]
impl<V: Send + Sync + ?Sized> PageCache<V> {
    /// The queue `id` is cached in, if any.
    fn queue_of(&self, id: u64) -> Option<Queue> {
        self.shard(id).inner.read().map.get(&id).map(|e| e.queue)
    }

    /// Whether `id` is remembered in its shard's ghost.
    fn in_ghost(&self, id: u64) -> bool {
        self.shard(id).inner.read().ghost_map.contains_key(&id)
    }

    /// Panics unless every shard's bookkeeping is consistent.
    fn check_invariants(&self) {
        for shard in self.shards.iter() {
            let inner = shard.inner.read();
            let (mut sb, mut mb, mut sl, mut ml) = (0, 0, 0, 0);
            for e in inner.map.values() {
                match e.queue {
                    Queue::Small => {
                        sb += e.charge;
                        sl += 1;
                    }
                    Queue::Main => {
                        mb += e.charge;
                        ml += 1;
                    }
                }
                assert!(e.freq.load(Ordering::Relaxed) <= MAX_FREQ);
            }
            assert_eq!(
                (sb, mb, sl, ml),
                (
                    inner.small_bytes,
                    inner.main_bytes,
                    inner.small_live,
                    inner.main_live
                )
            );
            assert!(inner.used() <= inner.capacity);
            let live_small = inner
                .small
                .iter()
                .filter(|s| live_slot(&inner.map, s))
                .count();
            let live_main = inner
                .main
                .iter()
                .filter(|s| live_slot(&inner.map, s))
                .count();
            assert_eq!(live_small, sl);
            assert_eq!(live_main, ml);
            let gb: u64 = inner.ghost_map.values().map(|g| g.charge).sum();
            assert_eq!(gb, inner.ghost_bytes);
            assert!(inner.ghost_bytes <= inner.ghost_capacity);
            let live_ghost = inner
                .ghost
                .iter()
                .filter(|s| inner.ghost_map.get(&s.id).is_some_and(|g| g.seq == s.seq))
                .count();
            assert_eq!(live_ghost, inner.ghost_map.len());
            for id in inner.ghost_map.keys() {
                assert!(!inner.map.contains_key(id), "id {id} both cached and ghost");
            }
        }
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
