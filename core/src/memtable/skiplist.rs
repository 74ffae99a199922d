//! [`SkipList`]: the memtable's ordered index — insert-only, its nodes in an [`Arena`], one writer
//! at a time and readers without locks.
//!
//! Nodes are never removed or moved while the list lives, so an [`Entry`] borrowed from the list
//! stays valid as long as the borrow. The writer fills a node completely, then links it into
//! each level, bottom up, with release stores; readers follow links with acquire loads, so a node
//! they reach is whole. A node keeps its key's head, sequence number, lengths and lower links
//! together in its first bytes: a search step reads one cache line of the node it passes.
//!
//! Entries sort by keyspace, key, then sequence number descending (see the module above).

use std::cmp::Ordering as KeyOrdering;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::arena::Arena;
use super::index::{KeyIndex, Lookup};
use crate::key_order::{compare_keys, head_of};
use crate::locks::Mutex;

/// Enough levels for 4^16 entries.
const MAX_HEIGHT: usize = 16;
/// A node reaches each next level with probability 1 / `BRANCHING`: as LevelDB, fewer links per
/// node than 1/2 for about the same number of comparisons per search.
const BRANCHING: u64 = 4;
/// `value_len` of a tombstone.
const TOMBSTONE: u32 = u32::MAX;

/// The fixed head of a node, followed in the arena by `height` links, the key, then the value.
#[repr(C)]
struct Node {
    key_head: u64,
    seq: u64,
    keyspace: u32,
    key_len: u32,
    value_len: u32,
    height: u32,
}

const HEADER: usize = std::mem::size_of::<Node>();
const LINK: usize = std::mem::size_of::<AtomicPtr<Node>>();

/// A node's address. Only a list hands these out, each pointing at a complete node of its own.
type NodeRef = NonNull<Node>;

/// `node`'s link at `level`.
///
/// # Safety
/// `node` must be a node of a live list and `level < node.height`.
#[inline]
unsafe fn link<'a>(node: NodeRef, level: usize) -> &'a AtomicPtr<Node> {
    // SAFETY: the caller promises a complete node with more than `level` links, which lie right
    // after its header, 8-aligned (the header is 32 bytes, the node 8-aligned).
    unsafe { &*node.as_ptr().cast::<u8>().add(HEADER + level * LINK).cast() }
}

/// A versioned key to search for.
#[derive(Clone, Copy)]
pub(crate) struct Probe<'a> {
    keyspace: u32,
    key_head: u64,
    key: &'a [u8],
    seq: u64,
}

impl<'a> Probe<'a> {
    #[inline]
    pub fn new(keyspace: u32, key: &'a [u8], seq: u64) -> Probe<'a> {
        Probe {
            keyspace,
            key_head: head_of(key),
            key,
            seq,
        }
    }
}

/// An entry of a list, borrowed from it.
#[derive(Clone, Copy)]
pub(crate) struct Entry<'a> {
    node: NodeRef,
    _list: PhantomData<&'a SkipList>,
}

impl<'a> Entry<'a> {
    /// # Safety
    /// `node` must be a complete node of a list that outlives `'a`.
    #[inline]
    unsafe fn new(node: NodeRef) -> Entry<'a> {
        Entry {
            node,
            _list: PhantomData,
        }
    }

    #[inline]
    fn header(&self) -> &'a Node {
        // SAFETY: an entry's node is complete and lives as long as its list (`Entry::new`).
        unsafe { self.node.as_ref() }
    }

    #[inline]
    pub fn keyspace(&self) -> u32 {
        self.header().keyspace
    }

    #[inline]
    pub fn seq(&self) -> u64 {
        self.header().seq
    }

    #[inline]
    pub fn key(&self) -> &'a [u8] {
        let node = self.header();
        let offset = HEADER + node.height as usize * LINK;
        // SAFETY: the node's key lies after its links, `key_len` bytes, written before the node
        // was linked (`SkipList::insert`).
        unsafe {
            std::slice::from_raw_parts(
                self.node.as_ptr().cast::<u8>().add(offset),
                node.key_len as usize,
            )
        }
    }

    /// The value of a put; `None` for a tombstone.
    #[inline]
    pub fn value(&self) -> Option<&'a [u8]> {
        let node = self.header();
        if node.value_len == TOMBSTONE {
            return None;
        }
        let offset = HEADER + node.height as usize * LINK + node.key_len as usize;
        // SAFETY: the value follows the key, `value_len` bytes, written before the node was
        // linked.
        Some(unsafe {
            std::slice::from_raw_parts(
                self.node.as_ptr().cast::<u8>().add(offset),
                node.value_len as usize,
            )
        })
    }

    /// The next entry in order.
    #[inline]
    pub fn next(&self) -> Option<Entry<'a>> {
        // SAFETY: every node has at least one link; a linked node is complete (release store in
        // `insert`, acquire load here) and belongs to the same list.
        unsafe { NonNull::new(link(self.node, 0).load(Ordering::Acquire)).map(|n| Entry::new(n)) }
    }

    /// Whether `self` and `other` are versions of the same key.
    #[inline]
    pub fn same_key(&self, other: &Entry<'_>) -> bool {
        let (a, b) = (self.header(), other.header());
        a.keyspace == b.keyspace && a.key_head == b.key_head && self.key() == other.key()
    }

    /// Whether this is a version of `probe`'s key.
    #[inline]
    fn is_version_of(&self, probe: &Probe<'_>) -> bool {
        let node = self.header();
        node.keyspace == probe.keyspace
            && node.key_head == probe.key_head
            && self.key() == probe.key
    }

    #[inline]
    fn cmp_probe(&self, probe: &Probe<'_>) -> KeyOrdering {
        let node = self.header();
        node.keyspace
            .cmp(&probe.keyspace)
            .then_with(|| node.key_head.cmp(&probe.key_head))
            .then_with(|| compare_keys(self.key(), probe.key))
            .then_with(|| probe.seq.cmp(&node.seq))
    }

    #[inline]
    fn cmp_entry(&self, other: &Entry<'_>) -> KeyOrdering {
        let probe = Probe {
            keyspace: other.keyspace(),
            key_head: other.header().key_head,
            key: other.key(),
            seq: other.seq(),
        };
        self.cmp_probe(&probe)
    }
}

/// Where an entry is, without a borrow of its list: for a holder that keeps the list alive by
/// other means (an `Arc` of its memtable beside the position).
#[derive(Clone, Copy)]
pub(crate) struct Position(NodeRef);

impl<'a> Entry<'a> {
    #[inline]
    pub fn position(&self) -> Position {
        Position(self.node)
    }
}

impl Position {
    /// The node's address as a number.
    pub(super) fn to_bits(self) -> Option<u64> {
        u64::try_from(self.0.as_ptr().expose_provenance()).ok()
    }

    /// The position whose `to_bits` gave `bits` (using it still needs `SkipList::entry`'s
    /// promise: that it is a node of that list).
    pub(super) fn from_bits(bits: u64) -> Position {
        let node = std::ptr::with_exposed_provenance_mut::<Node>(bits as usize);
        Position(NonNull::new(node).expect("a node's address is not zero"))
    }
}

/// The writer's side: the arena, the height generator and the last insert's path.
struct Writer {
    arena: Arena,
    random: u64,
    /// After an insert, the node before the insert point at each level (the new node itself at
    /// the levels it reached, so `path[0]` is the last node inserted; all the head before the
    /// first insert): an insert after the previous one starts each level there.
    path: [NodeRef; MAX_HEIGHT],
}

pub(crate) struct SkipList {
    /// The newest version of each key, for point reads.
    index: KeyIndex,
    head: NodeRef,
    height: AtomicUsize,
    len: AtomicUsize,
    bytes: AtomicUsize,
    writer: Mutex<Writer>,
}

// SAFETY: nodes are immutable once linked except for their atomic links; the arena (and so every
// node) is owned by the list and freed only when it drops, and inserts are serialised by the
// writer's mutex. Sharing and sending the list is therefore as safe as for any `Sync` map.
unsafe impl Send for SkipList {}
// SAFETY: see `Send`.
unsafe impl Sync for SkipList {}

impl SkipList {
    /// An empty list whose arena takes memory `block_size` bytes at a time, with an index of
    /// `index_slots` keys' newest versions.
    pub fn new(block_size: usize, index_slots: usize) -> SkipList {
        let mut arena = Arena::new(block_size);
        let head = arena.allocate(HEADER + MAX_HEIGHT * LINK).cast::<Node>();
        // SAFETY: the piece is large enough for a header and MAX_HEIGHT links, and aligned.
        unsafe {
            head.as_ptr().write(Node {
                key_head: 0,
                seq: 0,
                keyspace: 0,
                key_len: 0,
                value_len: 0,
                height: MAX_HEIGHT as u32,
            });
            for level in 0..MAX_HEIGHT {
                ptr::write(
                    head.as_ptr()
                        .cast::<u8>()
                        .add(HEADER + level * LINK)
                        .cast::<AtomicPtr<Node>>(),
                    AtomicPtr::new(ptr::null_mut()),
                );
            }
        }
        SkipList {
            index: KeyIndex::new(index_slots),
            head,
            height: AtomicUsize::new(1),
            len: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            writer: Mutex::new(Writer {
                arena,
                random: 0x9e37_79b9_7f4a_7c15,
                path: [head; MAX_HEIGHT],
            }),
        }
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Bytes the list takes: its nodes (headers and links included) and its index.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed) + self.index.bytes()
    }

    #[inline]
    fn next_at(&self, node: NodeRef, level: usize) -> Option<Entry<'_>> {
        // SAFETY: `node` is the head or a node reached at a level ≥ `level`, so it has that
        // link; what it points to is a complete node of this list.
        unsafe { NonNull::new(link(node, level).load(Ordering::Acquire)).map(|n| Entry::new(n)) }
    }

    /// The last node before `probe` (`inclusive`: at or before it) at each level from the top
    /// down to level 0; the head if there is none.
    #[inline]
    fn last_before(&self, probe: &Probe<'_>, inclusive: bool) -> NodeRef {
        let mut node = self.head;
        let mut level = self.height.load(Ordering::Acquire) - 1;
        loop {
            match self.next_at(node, level) {
                Some(next) if before(next.cmp_probe(probe), inclusive) => node = next.node,
                _ if level == 0 => return node,
                _ => level -= 1,
            }
        }
    }

    /// The newest version of `keyspace`/`key` (whose `key_hash` is `hash`) with a sequence
    /// number ≤ `snapshot`: from the index, or a search where the index cannot tell (it is
    /// full, or off) or the newest version is newer than the snapshot.
    pub fn newest_visible(
        &self,
        keyspace: u32,
        key: &[u8],
        hash: u64,
        snapshot: u64,
    ) -> Option<Entry<'_>> {
        let probe = Probe::new(keyspace, key, snapshot);
        // SAFETY: positions in the index are nodes of this list.
        let is_key = |at: Position| unsafe { self.entry(at) }.is_version_of(&probe);
        match self.index.find(hash, is_key) {
            Lookup::Absent => return None,
            Lookup::Found(at) => {
                // SAFETY: as above.
                let newest = unsafe { self.entry(at) };
                if newest.seq() <= snapshot {
                    return Some(newest);
                }
            }
            Lookup::Unknown => {}
        }
        // The newest version visible, if any, is the first entry at (key, snapshot).
        self.seek(&probe, false).filter(|e| e.is_version_of(&probe))
    }

    #[cfg(test)]
    pub(super) fn turn_index_off(&self) {
        let _writer = self.writer.lock();
        self.index.turn_off();
    }

    /// The first entry at or after `probe` (`strictly_after`: after it).
    pub fn seek(&self, probe: &Probe<'_>, strictly_after: bool) -> Option<Entry<'_>> {
        let mut node = self.last_before(probe, strictly_after);
        // A writer may have linked entries after `node` since the search passed it; those that
        // still lie before `probe` (a newer version of the probe's key, say) are not the answer.
        loop {
            match self.next_at(node, 0) {
                Some(next) if before(next.cmp_probe(probe), strictly_after) => node = next.node,
                found => return found,
            }
        }
    }

    /// The last entry before `probe` (`inclusive`: at or before it).
    pub fn seek_back(&self, probe: &Probe<'_>, inclusive: bool) -> Option<Entry<'_>> {
        let node = self.last_before(probe, inclusive);
        // SAFETY: a node other than the head is a complete node of this list.
        (node != self.head).then(|| unsafe { Entry::new(node) })
    }

    /// The entry at `position`.
    ///
    /// # Safety
    /// `position` must come from an entry of this list.
    #[inline]
    pub unsafe fn entry(&self, position: Position) -> Entry<'_> {
        // SAFETY: the caller promises a node of this list, which lives as long as `self`.
        unsafe { Entry::new(position.0) }
    }

    pub fn first(&self) -> Option<Entry<'_>> {
        self.next_at(self.head, 0)
    }

    pub fn last(&self) -> Option<Entry<'_>> {
        let mut node = self.head;
        let mut level = self.height.load(Ordering::Acquire) - 1;
        loop {
            match self.next_at(node, level) {
                Some(next) => node = next.node,
                None if level == 0 => break,
                None => level -= 1,
            }
        }
        // SAFETY: a node other than the head is a complete node of this list.
        (node != self.head).then(|| unsafe { Entry::new(node) })
    }

    /// Inserts a version, placed before any equal one (so it is the one found). `hash` is the
    /// key's (`key_hash`). Readers may run meanwhile; writers take turns.
    pub fn insert(&self, keyspace: u32, key: &[u8], seq: u64, value: Option<&[u8]>, hash: u64) {
        let probe = Probe::new(keyspace, key, seq);
        let mut writer = self.writer.lock();
        let height = writer.random_height();
        let value_len = match value {
            Some(v) => u32::try_from(v.len()).expect("value size is limited"),
            None => TOMBSTONE,
        };
        let size = HEADER + height * LINK + key.len() + value.map_or(0, <[u8]>::len);
        let node = writer.arena.allocate(size).cast::<Node>();
        if !KeyIndex::can_hold(Position(node)) {
            self.index.turn_off();
        }
        // SAFETY: the piece is `size` bytes, 8-aligned, and not yet reachable by any reader:
        // write the header, empty links, the key and the value.
        unsafe {
            node.as_ptr().write(Node {
                key_head: probe.key_head,
                seq,
                keyspace,
                key_len: u32::try_from(key.len()).expect("key size is limited"),
                value_len,
                height: height as u32,
            });
            let base = node.as_ptr().cast::<u8>();
            for level in 0..height {
                ptr::write(
                    base.add(HEADER + level * LINK).cast::<AtomicPtr<Node>>(),
                    AtomicPtr::new(ptr::null_mut()),
                );
            }
            let key_at = base.add(HEADER + height * LINK);
            ptr::copy_nonoverlapping(key.as_ptr(), key_at, key.len());
            if let Some(v) = value {
                ptr::copy_nonoverlapping(v.as_ptr(), key_at.add(key.len()), v.len());
            }
        }

        let list_height = self.height.load(Ordering::Relaxed);
        if height > list_height {
            // Readers that see the new height before the node find the head's empty links up
            // there and go down: harmless.
            self.height.store(height, Ordering::Release);
        }
        // Where the node goes at each level: after the last node before it. When this key
        // follows the previous insert's (a sorted batch), each level's search starts from the
        // previous insert's path instead of the head, if that is further on.
        let last = writer.path[0];
        // SAFETY: `last`, other than the head, is a node of this list.
        let after_last =
            last != self.head && unsafe { Entry::new(last) }.cmp_probe(&probe) == KeyOrdering::Less;
        let mut path = [self.head; MAX_HEIGHT];
        let mut at = self.head;
        for level in (0..list_height.max(height)).rev() {
            if after_last {
                let hint = writer.path[level];
                // SAFETY: path nodes are nodes of this list (or its head) that reach `level`.
                if hint != at
                    && (at == self.head
                        || (hint != self.head
                            && unsafe { Entry::new(at).cmp_entry(&Entry::new(hint)) }
                                == KeyOrdering::Less))
                {
                    at = hint;
                }
            }
            while let Some(next) = self.next_at(at, level) {
                if next.cmp_probe(&probe) == KeyOrdering::Less {
                    at = next.node;
                } else {
                    break;
                }
            }
            path[level] = at;
        }
        for (level, before) in path.iter().enumerate().take(height) {
            // SAFETY: `before` reaches `level` (it was found there, or is the head), and the
            // new node has `height` links.
            unsafe {
                let successor = link(*before, level).load(Ordering::Relaxed);
                link(node, level).store(successor, Ordering::Relaxed);
                link(*before, level).store(node.as_ptr(), Ordering::Release);
            }
        }
        // SAFETY (both closures): positions in the index are nodes of this list.
        let is_key = |at: Position| unsafe { self.entry(at) }.is_version_of(&probe);
        let is_newer = |at: Position| unsafe { self.entry(at) }.seq() < seq;
        // SAFETY: `node` is now a complete, linked node of this list.
        let position = unsafe { Entry::new(node) }.position();
        self.index.insert(hash, position, is_key, is_newer);
        for slot in path.iter_mut().take(height) {
            *slot = node;
        }
        writer.path = path;
        self.bytes
            .fetch_add(size.next_multiple_of(8), Ordering::Relaxed);
        self.len.fetch_add(1, Ordering::Release);
    }
}

/// Whether an entry that compares `ordering` to a probe lies before it (`inclusive`: or at it).
#[inline]
fn before(ordering: KeyOrdering, inclusive: bool) -> bool {
    ordering == KeyOrdering::Less || (inclusive && ordering == KeyOrdering::Equal)
}

impl Writer {
    /// 1 plus one more with probability 1/BRANCHING each, up to MAX_HEIGHT (xorshift64*).
    fn random_height(&mut self) -> usize {
        let mut height = 1;
        while height < MAX_HEIGHT {
            self.random ^= self.random >> 12;
            self.random ^= self.random << 25;
            self.random ^= self.random >> 27;
            let draw = self.random.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32;
            if !draw.is_multiple_of(BRANCHING) {
                break;
            }
            height += 1;
        }
        height
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_order::key_hash;
    use std::collections::BTreeMap;

    fn model_key(e: &Entry<'_>) -> (u32, Vec<u8>, std::cmp::Reverse<u64>) {
        (e.keyspace(), e.key().to_vec(), std::cmp::Reverse(e.seq()))
    }

    /// Random inserts (runs of sorted keys among them, to exercise the path hint) agree with a
    /// sorted model in full order, in `seek` and in `seek_back`, at both bounds.
    #[test]
    fn agrees_with_a_sorted_model() {
        // An index that fills up early, so both of its answers are exercised.
        let list = SkipList::new(4096, 1024);
        let mut model = BTreeMap::new();
        let mut x: u64 = 11;
        let mut seq = 0;
        for round in 0..4000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let keyspace = (x >> 60) as u32 % 2;
            // Short keys, keys sharing an 8-byte head, and some runs in order.
            let key: Vec<u8> = match x % 3 {
                0 => (x >> 40).to_be_bytes()[..(x as usize >> 8) % 9].to_vec(),
                1 => [b"prefix00".as_slice(), &(x >> 50).to_be_bytes()].concat(),
                _ => round.to_be_bytes().to_vec(),
            };
            seq += 1;
            let value = (!x.is_multiple_of(7)).then(|| round.to_le_bytes().to_vec());
            list.insert(
                keyspace,
                &key,
                seq,
                value.as_deref(),
                key_hash(keyspace, &key),
            );
            model.insert((keyspace, key, std::cmp::Reverse(seq)), value);
        }
        assert_eq!(list.len(), model.len());
        let mut all = Vec::new();
        let mut at = list.first();
        while let Some(e) = at {
            all.push((model_key(&e), e.value().map(<[u8]>::to_vec)));
            at = e.next();
        }
        let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        assert_eq!(all, want);
        assert_eq!(
            list.last().map(|e| model_key(&e)),
            model.keys().last().cloned()
        );

        // Point reads through the index (or, where it is incomplete, a search) at every snapshot
        // around each version.
        assert!(!list.index.answers_every_key(), "the small index filled up");
        for ((keyspace, key, seq), _) in want.iter().step_by(3) {
            for snapshot in [seq.0 - 1, seq.0, seq.0 + 1, u64::MAX] {
                let k = (*keyspace, key.clone(), std::cmp::Reverse(snapshot));
                let newest = model
                    .range(k..)
                    .next()
                    .filter(|((ks, kk, _), _)| ks == keyspace && kk == key)
                    .map(|(k, _)| k.clone());
                let hash = key_hash(*keyspace, key);
                let got = list.newest_visible(*keyspace, key, hash, snapshot);
                assert_eq!(got.map(|e| model_key(&e)), newest);
            }
        }

        for (i, ((keyspace, key, seq), _)) in want.iter().enumerate().step_by(7) {
            for delta in [0u64, 1] {
                let seq = seq.0.saturating_sub(delta);
                let probe = Probe::new(*keyspace, key, seq);
                let k = (*keyspace, key.clone(), std::cmp::Reverse(seq));
                let ge = model.range(k.clone()..).next().map(|(k, _)| k.clone());
                let gt = model
                    .range((
                        std::ops::Bound::Excluded(k.clone()),
                        std::ops::Bound::Unbounded,
                    ))
                    .next()
                    .map(|(k, _)| k.clone());
                let le = model
                    .range(..=k.clone())
                    .next_back()
                    .map(|(k, _)| k.clone());
                let lt = model.range(..k.clone()).next_back().map(|(k, _)| k.clone());
                assert_eq!(list.seek(&probe, false).map(|e| model_key(&e)), ge, "{i}");
                assert_eq!(list.seek(&probe, true).map(|e| model_key(&e)), gt, "{i}");
                assert_eq!(
                    list.seek_back(&probe, true).map(|e| model_key(&e)),
                    le,
                    "{i}"
                );
                assert_eq!(
                    list.seek_back(&probe, false).map(|e| model_key(&e)),
                    lt,
                    "{i}"
                );
            }
        }
    }

    /// Readers walking the list or reading keys while one thread inserts always see it sorted
    /// and whole.
    #[test]
    fn readers_see_a_sorted_list_while_a_writer_inserts() {
        let list = SkipList::new(1 << 16, 1 << 16);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for i in 0..20_000u64 {
                    let key = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16).to_be_bytes();
                    list.insert(0, &key, i + 1, Some(&key), key_hash(0, &key));
                }
            });
            for _ in 0..2 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        let mut count = 0;
                        let mut at = list.first();
                        let mut previous: Option<Entry<'_>> = None;
                        while let Some(e) = at {
                            assert_eq!(e.value(), Some(e.key()));
                            if let Some(p) = previous {
                                assert_eq!(p.cmp_entry(&e), KeyOrdering::Less);
                            }
                            previous = Some(e);
                            count += 1;
                            at = e.next();
                        }
                        assert!(count <= 20_000);
                    }
                });
            }
            // Point reads through the index meanwhile: a key found is whole, and once found it
            // stays found (the index never loses a key it took).
            scope.spawn(|| {
                let mut found = vec![false; 20_000];
                for _ in 0..20 {
                    for (i, was_found) in found.iter_mut().enumerate() {
                        let key =
                            ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16).to_be_bytes();
                        let hash = key_hash(0, &key);
                        match list.newest_visible(0, &key, hash, u64::MAX) {
                            Some(e) => {
                                assert_eq!(
                                    (e.key(), e.value(), e.seq()),
                                    (&key[..], Some(&key[..]), i as u64 + 1)
                                );
                                *was_found = true;
                            }
                            None => assert!(!*was_found, "key {i} was found before"),
                        }
                    }
                }
            });
        });
        assert_eq!(list.len(), 20_000);
        // The reads above were the index's answers, not searches behind a full index.
        assert!(list.index.answers_every_key());
    }
}
