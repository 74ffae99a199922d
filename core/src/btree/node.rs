//! The layout of leaf and branch pages, reading them without copying and building them.
//!
//! ```text
//! leaf:    header (16) | u16 offsets[count] | u64 heads[count] | entries
//! branch:  header (16) | u64 leftmost child | u16 offsets[count] | u64 heads[count] | entries
//! entry:   u8 flags | u16 key_len | u32 value_len | key | value
//! ```
//! `offsets[i]` is the byte offset of entry `i` from the start of the page; entries are in key order.
//! `heads[i]` is the first eight bytes of entry `i`'s key, zero-padded, as a big-endian integer: a
//! binary search compares heads, which sit together in a few cache lines, and reads an entry only
//! when the heads are equal.
//! In a leaf, an entry is a key and its value. In a branch, entry `i` is a separator key and the
//! child (an 8-byte page id in the value) holding keys ≥ that separator and < the next one; keys
//! below the first separator live under the leftmost child.
//!
//! Flag bit 0 marks a key stored in overflow pages, bit 1 a value: the entry then holds a
//! reference `u64 first overflow page | u64 total length` instead of the bytes, followed for a key
//! by the key's first eight bytes (so a page's heads can be rebuilt from its entries).
//!
//! A page whose header flags hold [`WIDE_REFS`] (a coded file's) follows each page id with the
//! `u64` check its page must have ([`PagePtr`]): a child is 16 bytes, an overflow reference
//! `u64 id | u64 check | u64 length`, and a key's overflow reference that and its head.

use std::cmp::Ordering;

use super::page::{count, get_u64, init_header, page_type, PageType, PAGE_HEADER_SIZE};
use crate::key_order::head_of;

pub(crate) const KEY_OVERFLOW: u8 = 1;
pub(crate) const VALUE_OVERFLOW: u8 = 2;
pub(crate) const ENTRY_HEADER_SIZE: usize = 7;
/// The page header flag of a node whose references carry checks.
pub(crate) const WIDE_REFS: u8 = 1;
/// The page header flag of a node stored without its offsets and heads (zeros in their place):
/// they follow from its entries, which lie back to back after them (see [`restore_slots`]).
pub(crate) const ELIDED_SLOTS: u8 = 2;

/// A reference to a page, as a node (or the meta page) holds it: the page's id, and in a coded
/// file the check the page must have, which its parent learned when it was written (0, and not
/// stored, in a plain file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct PagePtr {
    pub id: u64,
    pub check: u64,
}

impl PagePtr {
    /// A page of a plain file, which stores no checks.
    pub const fn plain(id: u64) -> PagePtr {
        PagePtr { id, check: 0 }
    }
}

/// How wide a node's page references are: a plain file's ids, or a coded file's ids and checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefWidth {
    Narrow,
    Wide,
}

impl RefWidth {
    #[inline]
    fn of_page(page: &[u8]) -> Option<RefWidth> {
        match page[5] {
            0 => Some(RefWidth::Narrow),
            WIDE_REFS => Some(RefWidth::Wide),
            _ => None,
        }
    }

    /// The page header flags of a node with these references.
    pub fn flags(self) -> u8 {
        match self {
            RefWidth::Narrow => 0,
            RefWidth::Wide => WIDE_REFS,
        }
    }

    /// Bytes of a page reference.
    #[inline]
    pub fn ptr_size(self) -> usize {
        match self {
            RefWidth::Narrow => 8,
            RefWidth::Wide => 16,
        }
    }

    /// Bytes of an overflowed value's reference.
    pub fn value_ref_size(self) -> usize {
        self.ptr_size() + 8
    }

    /// Bytes of an overflowed key's reference (with the key's head).
    pub fn key_ref_size(self) -> usize {
        self.ptr_size() + 16
    }

    /// `ptr` as this width stores it.
    pub fn encode_ptr(self, ptr: PagePtr) -> Vec<u8> {
        let mut out = ptr.id.to_le_bytes().to_vec();
        if self == RefWidth::Wide {
            out.extend_from_slice(&ptr.check.to_le_bytes());
        }
        out
    }

    #[inline]
    fn decode_ptr(self, bytes: &[u8]) -> PagePtr {
        PagePtr {
            id: get_u64(bytes, 0),
            check: match self {
                RefWidth::Narrow => 0,
                RefWidth::Wide => get_u64(bytes, 8),
            },
        }
    }
}
/// Bytes each entry costs in a page besides its encoding: its offset and its head.
pub(crate) const SLOT_SIZE: usize = 10;

/// Keys longer than this go to overflow pages.
pub(crate) fn max_inline_key(page_size: usize) -> usize {
    page_size / 8
}

/// Leaf entries larger than this move their value to overflow pages, so a leaf holds at least two
/// (as LMDB's nodes). A lower limit sends mid-sized values (1 KiB with 4 KiB pages) to overflow
/// pages of their own, each a whole page.
pub(crate) fn max_inline_entry(page_size: usize) -> usize {
    // Leaves have no child reference: the limit is the same at every reference width.
    capacity(page_size, PageType::Leaf, RefWidth::Narrow) / 2 - SLOT_SIZE
}

/// The head of an encoded entry's key.
pub(crate) fn encoded_head(entry: &[u8]) -> u64 {
    let key_len = u16::from_le_bytes([entry[1], entry[2]]) as usize;
    let key = &entry[ENTRY_HEADER_SIZE..ENTRY_HEADER_SIZE + key_len];
    if entry[0] & KEY_OVERFLOW != 0 {
        // The head ends the reference, at either width.
        u64::from_be_bytes(key[key.len() - 8..].try_into().unwrap())
    } else {
        head_of(key)
    }
}

/// A key or value as stored in an entry: the bytes, or where the overflow pages hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored<'a> {
    Inline(&'a [u8]),
    Overflow { first: PagePtr, len: u64 },
}

impl<'a> Stored<'a> {
    fn parse(
        bytes: &'a [u8],
        overflow: bool,
        ref_size: usize,
        width: RefWidth,
    ) -> Option<Stored<'a>> {
        if !overflow {
            return Some(Stored::Inline(bytes));
        }
        if bytes.len() != ref_size {
            return None;
        }
        Some(Stored::Overflow {
            first: width.decode_ptr(bytes),
            len: get_u64(bytes, width.ptr_size()),
        })
    }
}

/// One entry of a leaf or branch page, borrowed from the page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub key: Stored<'a>,
    /// The key's bytes as stored: the key, or its overflow reference.
    pub stored_key: &'a [u8],
    /// The value (leaf) or the child's reference (branch).
    pub value: Stored<'a>,
    /// The whole encoded entry, for copying it unchanged into a new page.
    pub raw: &'a [u8],
    width: RefWidth,
}

impl Entry<'_> {
    /// The child page of a branch entry.
    pub fn child(&self) -> Option<PagePtr> {
        match self.value {
            Stored::Inline(b) if b.len() == self.width.ptr_size() => Some(self.width.decode_ptr(b)),
            _ => None,
        }
    }
}

/// A read-only view of a leaf or branch page. Every accessor is bounds-checked: a page that passed
/// its checksum but is malformed gives `None`, never a panic.
#[derive(Clone, Copy)]
pub(crate) struct NodeView<'a> {
    page: &'a [u8],
    kind: PageType,
    count: usize,
    offsets_at: usize,
    width: RefWidth,
}

impl<'a> NodeView<'a> {
    #[inline]
    pub fn new(page: &'a [u8]) -> Option<NodeView<'a>> {
        let kind = page_type(page)?;
        let width = RefWidth::of_page(page)?;
        let offsets_at = match kind {
            PageType::Leaf => PAGE_HEADER_SIZE,
            PageType::Branch => PAGE_HEADER_SIZE + width.ptr_size(),
            _ => return None,
        };
        let count = count(page) as usize;
        if offsets_at + SLOT_SIZE * count > page.len() {
            return None;
        }
        Some(NodeView {
            page,
            kind,
            count,
            offsets_at,
            width,
        })
    }

    pub fn is_leaf(&self) -> bool {
        self.kind == PageType::Leaf
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// The leftmost child of a branch.
    pub fn leftmost_child(&self) -> PagePtr {
        self.width.decode_ptr(&self.page[PAGE_HEADER_SIZE..])
    }

    /// Where entry `i` starts and its header fields: (offset, flags, key length, value length).
    #[inline]
    fn header(&self, i: usize) -> Option<(usize, u8, usize, usize)> {
        if i >= self.count {
            return None;
        }
        let at = self.offsets_at + 2 * i;
        let off = u16::from_le_bytes(self.page.get(at..at + 2)?.try_into().ok()?) as usize;
        let head = self.page.get(off..off + ENTRY_HEADER_SIZE)?;
        let key_len = u16::from_le_bytes([head[1], head[2]]) as usize;
        let value_len = u32::from_le_bytes(head[3..7].try_into().ok()?) as usize;
        Some((off, head[0], key_len, value_len))
    }

    /// Where entry `i`'s stored key and value lie in the page, and its flags.
    #[inline]
    pub fn layout(&self, i: usize) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>, u8)> {
        let (off, flags, key_len, value_len) = self.header(i)?;
        let key_at = off + ENTRY_HEADER_SIZE;
        let value_at = key_at + key_len;
        if value_at + value_len > self.page.len() {
            return None;
        }
        Some((key_at..value_at, value_at..value_at + value_len, flags))
    }

    /// The key of entry `i` only (the search path needs nothing else).
    #[inline]
    pub fn key_at(&self, i: usize) -> Option<Stored<'a>> {
        let (off, flags, key_len, _) = self.header(i)?;
        let key_at = off + ENTRY_HEADER_SIZE;
        Stored::parse(
            self.page.get(key_at..key_at + key_len)?,
            flags & KEY_OVERFLOW != 0,
            self.width.key_ref_size(),
            self.width,
        )
    }

    /// The value of entry `i` only (a point read needs nothing else).
    #[inline]
    pub fn value_at(&self, i: usize) -> Option<Stored<'a>> {
        let (_, value, flags) = self.layout(i)?;
        Stored::parse(
            &self.page[value],
            flags & VALUE_OVERFLOW != 0,
            self.width.value_ref_size(),
            self.width,
        )
    }

    pub fn entry(&self, i: usize) -> Option<Entry<'a>> {
        let (off, flags, key_len, value_len) = self.header(i)?;
        let key_at = off + ENTRY_HEADER_SIZE;
        let value_at = key_at + key_len;
        let end = value_at + value_len;
        let stored_key = self.page.get(key_at..value_at)?;
        let width = self.width;
        let key = Stored::parse(
            stored_key,
            flags & KEY_OVERFLOW != 0,
            width.key_ref_size(),
            width,
        )?;
        let value = Stored::parse(
            self.page.get(value_at..end)?,
            flags & VALUE_OVERFLOW != 0,
            width.value_ref_size(),
            width,
        )?;
        Some(Entry {
            key,
            stored_key,
            value,
            raw: &self.page[off..end],
            width,
        })
    }

    /// The head of entry `i`'s key (see the module doc).
    #[inline]
    pub fn head(&self, i: usize) -> u64 {
        let at = self.offsets_at + 2 * self.count + 8 * i;
        u64::from_be_bytes(self.page[at..at + 8].try_into().unwrap())
    }

    /// The child of a branch at position `i` (0 = leftmost, i ≥ 1 = entry i-1's child).
    #[inline]
    pub fn child_at(&self, i: usize) -> Option<PagePtr> {
        if i == 0 {
            return Some(self.leftmost_child());
        }
        // Only the value is read: a descent needs no separator key.
        let (_, value, flags) = self.layout(i - 1)?;
        if flags & VALUE_OVERFLOW != 0 || value.len() != self.width.ptr_size() {
            return None;
        }
        Some(self.width.decode_ptr(&self.page[value]))
    }

    /// Binary search: the first entry index whose key is ≥ `key` and whether it is equal.
    /// `cmp_overflow` compares `key` with a key stored in overflow pages.
    pub fn lower_bound<E>(
        &self,
        key: &[u8],
        mut cmp_overflow: impl FnMut(PagePtr, u64) -> Result<Ordering, E>,
        corrupt: impl Fn() -> E,
    ) -> Result<(usize, bool), E> {
        let (mut lo, mut hi) = (0usize, self.count);
        let mut exact = false;
        let key_head = head_of(key);
        prefetch(self.page, self.offsets_at + 2 * self.count, 8 * self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            // Ordering of the entry's key relative to `key`: by heads when they differ, which
            // needs no read of the entry itself.
            let ord = match self.head(mid).cmp(&key_head) {
                Ordering::Equal => match self.key_at(mid).ok_or_else(&corrupt)? {
                    Stored::Inline(k) => k.cmp(key),
                    Stored::Overflow { first, len } => cmp_overflow(first, len)?.reverse(),
                },
                unequal => unequal,
            };
            match ord {
                Ordering::Less => lo = mid + 1,
                Ordering::Equal => {
                    exact = true;
                    hi = mid;
                }
                Ordering::Greater => hi = mid,
            }
        }
        Ok((lo, exact))
    }
}

/// Starts loading `page[at..at + len]` into the cache at once, by touching one byte per cache
/// line. The binary search that follows jumps across these bytes (the heads) one dependent load
/// after another; these loads are independent of each other, so their cache misses overlap
/// instead (a leaf's heads span a few cache lines).
#[inline]
fn prefetch(page: &[u8], at: usize, len: usize) {
    let end = at.saturating_add(len).min(page.len());
    let mut touched = 0u8;
    let mut line = at;
    while line < end {
        touched ^= page[line];
        line += 64;
    }
    std::hint::black_box(touched);
}

/// Encodes one entry.
pub(crate) fn encode_entry(out: &mut Vec<u8>, flags: u8, key: &[u8], value: &[u8]) {
    out.push(flags);
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
}

/// The bytes that stand for an overflowed value: where it is and its length.
pub(crate) fn overflow_ref(width: RefWidth, first: PagePtr, len: u64) -> Vec<u8> {
    let mut r = width.encode_ptr(first);
    r.extend_from_slice(&len.to_le_bytes());
    r
}

/// The bytes that stand for an overflowed key: its reference and its head.
pub(crate) fn overflow_key_ref(width: RefWidth, first: PagePtr, key: &[u8]) -> Vec<u8> {
    let mut r = overflow_ref(width, first, key.len() as u64);
    r.extend_from_slice(&head_of(key).to_be_bytes());
    r
}

/// Bytes available for offsets and entries in a page of `kind` whose references are `width`
/// wide.
pub(crate) fn capacity(page_size: usize, kind: PageType, width: RefWidth) -> usize {
    match kind {
        PageType::Branch => page_size - PAGE_HEADER_SIZE - width.ptr_size(),
        _ => page_size - PAGE_HEADER_SIZE,
    }
}

/// Where a node's offsets start and how many entries it has, if `page` is a leaf or a branch.
fn slots_of(page: &[u8]) -> Option<(usize, usize)> {
    let width = if page[5] & WIDE_REFS != 0 {
        RefWidth::Wide
    } else {
        RefWidth::Narrow
    };
    let offsets_at = match page_type(page)? {
        PageType::Leaf => PAGE_HEADER_SIZE,
        PageType::Branch => PAGE_HEADER_SIZE + width.ptr_size(),
        _ => return None,
    };
    Some((offsets_at, count(page) as usize))
}

/// Zeroes a node's offsets and heads and marks it [`ELIDED_SLOTS`], for storing it compressed:
/// a coded file's blocks need not hold what the entries say (10 bytes an entry, the heads
/// incompressible where the keys are). The entries must lie back to back after the slots, in
/// order, as [`build_page`] writes them. Pages that are not nodes are left as they are.
pub(crate) fn elide_slots(page: &mut [u8]) {
    if let Some((offsets_at, n)) = slots_of(page) {
        page[offsets_at..offsets_at + SLOT_SIZE * n].fill(0);
        page[5] |= ELIDED_SLOTS;
    }
}

/// Rebuilds the offsets and heads of a node stored [`ELIDED_SLOTS`] and clears the flag;
/// `Err` says what does not fit.
pub(crate) fn restore_slots(page: &mut [u8]) -> Result<(), String> {
    if page[5] & ELIDED_SLOTS == 0 {
        return Ok(());
    }
    let (offsets_at, n) = slots_of(page).ok_or("a page that is not a node has its slots elided")?;
    let heads_at = offsets_at + 2 * n;
    let mut at = heads_at + 8 * n;
    for i in 0..n {
        let header = page
            .get(at..at + ENTRY_HEADER_SIZE)
            .ok_or_else(|| format!("entry {i} runs past the page"))?;
        let key_len = u16::from_le_bytes([header[1], header[2]]) as usize;
        let value_len = u32::from_le_bytes(header[3..7].try_into().unwrap()) as usize;
        let end = at + ENTRY_HEADER_SIZE + key_len + value_len;
        let entry = page
            .get(at..end)
            .ok_or_else(|| format!("entry {i} runs past the page"))?;
        if entry[0] & KEY_OVERFLOW != 0 && key_len < 8 {
            return Err(format!("entry {i}'s key reference is too short"));
        }
        let head = encoded_head(entry);
        let offset = u16::try_from(at).map_err(|_| format!("entry {i} beyond 64 KiB"))?;
        page[offsets_at + 2 * i..offsets_at + 2 * i + 2].copy_from_slice(&offset.to_le_bytes());
        page[heads_at + 8 * i..heads_at + 8 * i + 8].copy_from_slice(&head.to_be_bytes());
        at = end;
    }
    page[5] &= !ELIDED_SLOTS;
    Ok(())
}

/// Splits encoded entries (by their sizes) into page-sized groups: greedy, then the last page
/// evened out with the one before it so no page ends up nearly empty. Returns group end indices.
pub(crate) fn pack(sizes: &[usize], capacity: usize) -> Vec<usize> {
    let mut ends = pack_greedy(sizes, capacity);
    if ends.len() >= 2 {
        let n = ends.len();
        let start_prev = if n >= 3 { ends[n - 3] } else { 0 };
        let mut split = ends[n - 2];
        let mut prev: usize = sizes[start_prev..split].iter().map(|s| s + SLOT_SIZE).sum();
        let mut last: usize = sizes[split..].iter().map(|s| s + SLOT_SIZE).sum();
        // Move entries from the previous page to the last while the last stays the smaller.
        while split - start_prev > 1 {
            let moved = sizes[split - 1] + SLOT_SIZE;
            if last + moved > prev - moved {
                break;
            }
            prev -= moved;
            last += moved;
            split -= 1;
        }
        ends[n - 2] = split;
    }
    ends
}

/// Splits encoded entries into page-sized groups, each page as full as it goes; returns group end
/// indices (one group, possibly empty, for no entries).
pub(crate) fn pack_greedy(sizes: &[usize], capacity: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut used = 0;
    for (i, &size) in sizes.iter().enumerate() {
        let cost = size + SLOT_SIZE;
        if used + cost > capacity && used > 0 {
            ends.push(i);
            used = 0;
        }
        used += cost;
    }
    ends.push(sizes.len());
    ends
}

/// Builds one leaf or branch page from encoded entries.
pub(crate) fn build_page(
    page_size: usize,
    kind: PageType,
    id: u64,
    width: RefWidth,
    leftmost_child: PagePtr,
    entries: &[&[u8]],
) -> Vec<u8> {
    let mut page = vec![0u8; page_size];
    init_header(&mut page, kind, entries.len() as u16, id);
    page[5] = width.flags();
    let offsets_at = if kind == PageType::Branch {
        let ptr = width.encode_ptr(leftmost_child);
        page[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + ptr.len()].copy_from_slice(&ptr);
        PAGE_HEADER_SIZE + ptr.len()
    } else {
        PAGE_HEADER_SIZE
    };
    let heads_at = offsets_at + 2 * entries.len();
    let mut at = heads_at + 8 * entries.len();
    for (i, e) in entries.iter().enumerate() {
        let o = offsets_at + 2 * i;
        page[o..o + 2].copy_from_slice(&(at as u16).to_le_bytes());
        let h = heads_at + 8 * i;
        page[h..h + 8].copy_from_slice(&encoded_head(e).to_be_bytes());
        page[at..at + e.len()].copy_from_slice(e);
        at += e.len();
    }
    debug_assert!(at <= page_size);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        let encoded: Vec<Vec<u8>> = entries
            .iter()
            .map(|(k, v)| {
                let mut e = Vec::new();
                encode_entry(&mut e, 0, k, v);
                e
            })
            .collect();
        let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        build_page(
            4096,
            PageType::Leaf,
            9,
            RefWidth::Narrow,
            PagePtr::default(),
            &refs,
        )
    }

    fn search(view: &NodeView, key: &[u8]) -> (usize, bool) {
        view.lower_bound::<()>(key, |_, _| Err(()), || ()).unwrap()
    }

    #[test]
    fn leaf_entries_read_back_and_search() {
        let page = leaf(&[(b"b", b"2"), (b"d", b""), (b"f", b"66")]);
        let view = NodeView::new(&page).unwrap();
        assert!(view.is_leaf());
        assert_eq!(view.len(), 3);
        assert_eq!(view.entry(2).unwrap().value, Stored::Inline(b"66"));
        assert_eq!(view.value_at(1), Some(Stored::Inline(b"")));
        assert_eq!(view.value_at(2), Some(Stored::Inline(b"66")));
        assert_eq!(search(&view, b"a"), (0, false));
        assert_eq!(search(&view, b"b"), (0, true));
        assert_eq!(search(&view, b"c"), (1, false));
        assert_eq!(search(&view, b"f"), (2, true));
        assert_eq!(search(&view, b"g"), (3, false));
        assert!(view.entry(3).is_none());
        assert!(view.value_at(3).is_none());
    }

    #[test]
    fn wide_references_carry_their_checks() {
        let wide = RefWidth::Wide;
        let child = |id: u64| PagePtr {
            id: id << 24 | 3,
            check: id.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        };
        // A branch: the leftmost child and two more, one behind an overflowed separator.
        let long_key = vec![b'k'; 600];
        let mut e1 = Vec::new();
        encode_entry(&mut e1, 0, b"m", &wide.encode_ptr(child(2)));
        let mut e2 = Vec::new();
        let key_ref = overflow_key_ref(wide, child(9), &long_key);
        assert_eq!(key_ref.len(), wide.key_ref_size());
        encode_entry(&mut e2, KEY_OVERFLOW, &key_ref, &wide.encode_ptr(child(3)));
        let page = build_page(4096, PageType::Branch, 0, wide, child(1), &[&e1, &e2]);
        let view = NodeView::new(&page).unwrap();
        assert_eq!(view.child_at(0), Some(child(1)));
        assert_eq!(view.child_at(1), Some(child(2)));
        assert_eq!(view.child_at(2), Some(child(3)));
        assert_eq!(
            view.key_at(1),
            Some(Stored::Overflow {
                first: child(9),
                len: 600
            })
        );
        assert_eq!(view.head(1), head_of(&long_key));
        assert_eq!(
            view.lower_bound::<()>(b"a", |_, _| Err(()), || ()),
            Ok((0, false))
        );

        // A leaf with an overflowed value.
        let mut e = Vec::new();
        encode_entry(
            &mut e,
            VALUE_OVERFLOW,
            b"key",
            &overflow_ref(wide, child(5), 70_000),
        );
        let page = build_page(4096, PageType::Leaf, 0, wide, PagePtr::default(), &[&e]);
        let entry = NodeView::new(&page).unwrap().entry(0).unwrap();
        assert_eq!(
            entry.value,
            Stored::Overflow {
                first: child(5),
                len: 70_000
            }
        );
        assert_eq!(NodeView::new(&page).unwrap().value_at(0), Some(entry.value));
        // A narrow reference's size in a wide page is malformed, not misread.
        let mut bad = Vec::new();
        encode_entry(
            &mut bad,
            VALUE_OVERFLOW,
            b"key",
            &overflow_ref(RefWidth::Narrow, child(5), 7),
        );
        let page = build_page(4096, PageType::Leaf, 0, wide, PagePtr::default(), &[&bad]);
        assert!(NodeView::new(&page).unwrap().entry(0).is_none());
        assert!(NodeView::new(&page).unwrap().value_at(0).is_none());
        // Unknown header flags: not a node.
        let mut page = page;
        page[5] = 2;
        assert!(NodeView::new(&page).is_none());
    }

    #[test]
    fn elided_slots_are_rebuilt_from_the_entries() {
        let long_key = vec![b'z'; 700];
        let mut entries = Vec::new();
        for (flag, key, value) in [
            (0, b"apple".to_vec(), b"1".to_vec()),
            (0, b"banana-bread".to_vec(), vec![7; 300]),
            (
                KEY_OVERFLOW,
                overflow_key_ref(
                    RefWidth::Wide,
                    PagePtr {
                        id: 99 << 24 | 1,
                        check: 5,
                    },
                    &long_key,
                ),
                b"x".to_vec(),
            ),
        ] {
            let mut e = Vec::new();
            encode_entry(&mut e, flag, &key, &value);
            entries.push(e);
        }
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        for kind in [PageType::Leaf, PageType::Branch] {
            let page = build_page(4096, kind, 0, RefWidth::Wide, PagePtr::default(), &refs);
            let mut stored = page.clone();
            elide_slots(&mut stored);
            assert_ne!(stored, page);
            assert_eq!(stored[5], WIDE_REFS | ELIDED_SLOTS);
            let (offsets_at, n) = slots_of(&stored).unwrap();
            assert!(stored[offsets_at..offsets_at + SLOT_SIZE * n]
                .iter()
                .all(|&b| b == 0));
            restore_slots(&mut stored).unwrap();
            assert_eq!(stored, page, "{kind:?}");
        }
        // An entry running past the page is an error, not a panic.
        let mut bad = build_page(
            4096,
            PageType::Leaf,
            0,
            RefWidth::Wide,
            PagePtr::default(),
            &refs,
        );
        elide_slots(&mut bad);
        let (offsets_at, n) = slots_of(&bad).unwrap();
        let first = offsets_at + SLOT_SIZE * n;
        bad[first + 3..first + 7].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(restore_slots(&mut bad).is_err());
    }

    #[test]
    fn malformed_offsets_give_none_not_a_panic() {
        let mut page = leaf(&[(b"b", b"2")]);
        page[16] = 0xff;
        page[17] = 0xff;
        let view = NodeView::new(&page).unwrap();
        assert!(view.entry(0).is_none());
        page[6] = 0xff;
        page[7] = 0xff;
        assert!(NodeView::new(&page).is_none());
    }

    #[test]
    fn pack_fills_pages_and_evens_the_last() {
        let sizes = vec![100; 100];
        let ends = pack(&sizes, 4080);
        assert_eq!(*ends.last().unwrap(), 100);
        let mut start = 0;
        for &end in &ends {
            let used: usize = sizes[start..end].iter().map(|s| s + SLOT_SIZE).sum();
            assert!(used <= 4080);
            assert!(end > start);
            start = end;
        }
        // 100 entries costing 110 bytes each: 37 per page → 37, 37, 26.
        assert!(ends.len() == 3);
        let ends = pack(&[100; 41], 4080);
        assert_eq!(ends.len(), 2);
        assert!(ends[0] <= 21 && ends[0] >= 20, "{ends:?}");
    }
}
