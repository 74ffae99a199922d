//! Entry points for coverage-guided fuzzing (cargo feature `fuzzing`; `fuzz/` at the repository
//! root drives them with libFuzzer, and `tests/fuzz_corpus.rs` replays the committed corpus on
//! stable). Not part of the public API.
//!
//! Each function takes arbitrary bytes, feeds them to one decoder and walks everything it
//! decodes. The rule they check is the public one: bad bytes give an error (`CORRUPTION`,
//! `NOT_A_DATABASE`, `UNSUPPORTED_VERSION`, …), never a panic, an abort or a huge allocation. A
//! panic inside them is a finding, and so is an `INTERNAL` error where a decoder reports one: that
//! code means a panic was caught at a boundary.
//!
//! Checksums stop random bytes at the first check, so most targets take a flags byte first: with
//! [`REPAIR`] set, the function recomputes every checksum the format has before decoding, and the
//! fuzzer reaches the structure behind them.

use std::path::Path;
use std::sync::Arc;

use crate::batch::{decode_payload, BatchOp};
use crate::btree::cursor::TreeCursor;
use crate::btree::freelist::read_freelist;
use crate::btree::meta::{self, read_newest_meta, Meta};
use crate::btree::node::{NodeView, PagePtr, Stored};
use crate::btree::page::{self, PageType, PAGE_HEADER_SIZE};
use crate::btree::pager::{PageSource, Pager};
use crate::btree::tree::Tree;
use crate::checksum::{mask, masked_crc};
use crate::error::{ErrorCode, IoContext, Result};
use crate::limits::{is_valid_page_size, page_sizes};
use crate::storage::{FaultyStorage, OpenMode, Storage};
use crate::wal::SEGMENT_HEADER_SIZE;
use crate::{Database, Options, Range, WriteBatch};

/// Flags-byte bit: recompute checksums before decoding.
pub const REPAIR: u8 = 0x80;

/// An error is fine; `INTERNAL` is not (it is a caught panic or a broken invariant).
fn no_internal<T>(r: Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) if e.code() == ErrorCode::Internal => panic!("INTERNAL error: {e}"),
        Err(_) => None,
    }
}

/// Keys the lookups try, besides those found in the input.
const PROBES: [&[u8]; 5] = [
    b"",
    b"a",
    b"key",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff",
    b"m",
];

// ---------------------------------------------------------------------------------------------
// WAL

const RECORD_HEADER_SIZE: usize = 32;

fn align8(n: u64) -> u64 {
    (n + 7) & !7
}

/// A record header's checksum (format.md 3.2): the salt, then header bytes 4..32.
fn record_header_crc(salt: u32, header: &[u8]) -> u32 {
    let crc = crc32c::crc32c(&salt.to_le_bytes());
    mask(crc32c::crc32c_append(crc, &header[4..RECORD_HEADER_SIZE]))
}

/// Recomputes the payload and header checksums of every record the segment seems to hold, the
/// segment header's checksum, and sets its number to `segment`.
fn repair_segment(data: &mut [u8], segment: u64) {
    if data.len() < SEGMENT_HEADER_SIZE as usize {
        return;
    }
    data[16..24].copy_from_slice(&segment.to_le_bytes());
    let crc = masked_crc(&data[..24]);
    data[24..28].copy_from_slice(&crc.to_le_bytes());
    let salt = u32::from_le_bytes(data[12..16].try_into().unwrap());
    let mut off = SEGMENT_HEADER_SIZE as usize;
    while off + RECORD_HEADER_SIZE <= data.len() {
        let len = u64::from_le_bytes(data[off + 8..off + 16].try_into().unwrap());
        let body = off + RECORD_HEADER_SIZE;
        let Some(end) = usize::try_from(len)
            .ok()
            .and_then(|l| body.checked_add(l))
            .filter(|&e| e <= data.len())
        else {
            break;
        };
        let pcrc = masked_crc(&data[body..end]);
        data[off + 4..off + 8].copy_from_slice(&pcrc.to_le_bytes());
        let hcrc = record_header_crc(salt, &data[off..body]);
        data[off..off + 4].copy_from_slice(&hcrc.to_le_bytes());
        off = align8(end as u64) as usize;
    }
}

/// One WAL segment: `flags | segment bytes`. Flags bit 0: the segment is the last one; [`REPAIR`]:
/// fix every checksum (and the segment number) first. Each record's payload is decoded as a batch.
pub fn wal_segment(input: &[u8]) {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let mut data = rest.to_vec();
    if flags & REPAIR != 0 {
        repair_segment(&mut data, 1);
    }
    let storage = FaultyStorage::new();
    let path = Path::new("/wal/wal-0000000000000001.log");
    storage.write_file(path, &data);
    let mut payloads = 0u64;
    let end = crate::wal::read_segment(&storage, path, 1, flags & 1 != 0, None, |_, payload| {
        payloads += 1;
        walk_payload(payload)
    });
    if let Some(end) = no_internal(end) {
        assert!(
            end.valid_len <= data.len() as u64,
            "valid length past the end"
        );
        assert_eq!(end.records, payloads, "records counted but not applied");
    }
}

/// Decodes every op of a payload; malformed is `INTERNAL` here (recovery turns it into
/// `CORRUPTION`), so this returns the error rather than judging it.
fn walk_payload(payload: &[u8]) -> Result<()> {
    for op in decode_payload(payload)? {
        let op = op?;
        std::hint::black_box((op.keyspace, op.key.len(), op.value.map(<[u8]>::len)));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Batch payloads

/// A batch payload as the WAL stores it. A payload that decodes whole is encoded again (when it
/// uses only keyspace 0, the one `WriteBatch` writes) and must decode to the same ops.
pub fn batch_payload(input: &[u8]) {
    let Ok(iter) = decode_payload(input) else {
        return;
    };
    // The count is the payload's claim, not an allocation size: collect as we go.
    let mut ops: Vec<BatchOp<'_>> = Vec::new();
    for op in iter {
        match op {
            Ok(op) => ops.push(op),
            Err(_) => return,
        }
    }
    if ops.iter().any(|op| op.keyspace != 0) {
        return;
    }
    let mut batch = WriteBatch::new();
    for op in &ops {
        match op.value {
            Some(v) => batch.put(op.key, v),
            None => batch.delete(op.key),
        };
    }
    let mut encoded = Vec::new();
    batch.encode_into(&mut encoded);
    assert_eq!(encoded.len(), batch.encoded_len(), "encoded_len disagrees");
    let again: Vec<BatchOp<'_>> = decode_payload(&encoded)
        .expect("re-encoded payload decodes")
        .collect::<Result<_>>()
        .expect("re-encoded ops decode");
    assert_eq!(again, ops, "a payload does not survive re-encoding");
}

// ---------------------------------------------------------------------------------------------
// Pages

/// The page size a selector byte names: 4096 << (b % 5).
fn page_size_of_selector(b: u8) -> usize {
    4096 << (b % 5)
}

/// Sets page `id`'s stored id and checksum (the page is `page`).
fn seal_page(page: &mut [u8], id: u64) {
    page[8..16].copy_from_slice(&id.to_le_bytes());
    page::seal(page);
}

/// A page file in memory: `[meta 0, meta 1, pages…]` where `pages` come from the input.
struct PageFile {
    storage: Arc<FaultyStorage>,
    pager: Arc<Pager>,
    meta: Meta,
}

fn page_file(
    page_size: usize,
    pages: &[Vec<u8>],
    root: u64,
    freelist_head: u64,
) -> Option<PageFile> {
    let page_count = 2 + pages.len() as u64;
    let meta = Meta {
        format: meta::FORMAT_VERSION,
        database_id: [0; 16],
        freelist_check: 0,
        generation: 1,
        root: PagePtr::plain(root),
        entries: 0,
        file_units: page_count,
        freelist_head,
        free_units: 0,
        last_seq: 0,
        wal_start_segment: 1,
    };
    let mut file = Vec::with_capacity(page_size * page_count as usize);
    for slot in 0..2 {
        let mut m = Meta {
            generation: slot,
            ..meta
        }
        .encode(page_size);
        page::seal(&mut m);
        file.extend_from_slice(&m);
    }
    for p in pages {
        file.extend_from_slice(p);
    }
    let storage = Arc::new(FaultyStorage::new());
    let path = Path::new("/db/data.ldb");
    storage.write_file(path, &file);
    let opened = no_internal(
        storage
            .open(path, OpenMode::Existing)
            .ctx("open", path)
            .and_then(|f| {
                let lock_path = Path::new("/db/LOCK");
                let lock = storage.lock(lock_path).ctx("lock", lock_path)?;
                let options = Options {
                    cache_size: 1 << 20,
                    mmap: false,
                    ..Default::default()
                };
                Pager::open(f, path.to_path_buf(), &options, lock)
            }),
    )?;
    Some(PageFile {
        storage,
        pager: Arc::new(opened.pager),
        meta: opened.meta,
    })
}

/// Walks every entry of a leaf or branch page through every accessor of [`NodeView`].
fn walk_node(page: &[u8]) {
    let Some(view) = NodeView::new(page) else {
        return;
    };
    let mut keys = Vec::new();
    for i in 0..view.len() {
        std::hint::black_box(view.head(i));
        std::hint::black_box(view.layout(i));
        std::hint::black_box(view.child_at(i));
        if let Some(Stored::Inline(k)) = view.key_at(i) {
            keys.push(k);
        }
        if let Some(e) = view.entry(i) {
            std::hint::black_box((e.key, e.value, e.raw.len(), e.child()));
            if e.key != Stored::Inline(e.stored_key) {
                assert!(
                    matches!(e.key, Stored::Overflow { .. }),
                    "an inline key that is not its stored bytes"
                );
            } else {
                assert_eq!(
                    crate::btree::node::encoded_head(e.raw),
                    crate::key_order::head_of(e.stored_key)
                );
            }
        }
    }
    if !view.is_leaf() {
        std::hint::black_box(view.leftmost_child());
    }
    for key in keys.iter().copied().take(4).chain(PROBES) {
        // Overflow keys compare as greater: the outcome does not matter, only that nothing breaks.
        let _ = view.lower_bound(key, |_, _| Ok::<_, ()>(std::cmp::Ordering::Less), || ());
    }
}

/// Reads the tree rooted at `root` of `pf` in every way the engine does: point lookups, a cursor
/// both ways, overflow chains, the freelist, and the structural check behind `verify()`.
fn walk_tree(pf: &PageFile) {
    let tree = Arc::new(Tree::new(
        pf.pager.clone(),
        pf.meta.root,
        pf.meta.generation,
        pf.meta.file_units,
        None,
    ));
    let _ = no_internal(crate::btree::check::check_tree(&tree, &pf.meta));
    let _ = no_internal(read_freelist(
        &pf.pager,
        PagePtr::plain(pf.meta.freelist_head),
        pf.meta.file_units,
    ));
    for id in 2..pf.meta.file_units {
        if let Some(p) = no_internal(pf.pager.read_page_uncached(PagePtr::plain(id))) {
            walk_node(&p);
            if page::page_type(&p) == Some(PageType::Overflow) {
                let len = (p.len() as u64) * 2 + u64::from(p[PAGE_HEADER_SIZE + 8]);
                let _ = no_internal(pf.pager.read_overflow(
                    PageSource::File,
                    PagePtr::plain(id),
                    len,
                    pf.meta.file_units,
                    |_| {},
                ));
            }
        }
    }
    let mut found = Vec::new();
    let mut cursor = TreeCursor::new(tree.clone());
    let mut steps = 0;
    if no_internal(cursor.seek_first()).is_some() {
        while cursor.valid() && steps < 10_000 {
            found.push(cursor.key().to_vec());
            let _ = no_internal(cursor.value().map(|v| v.len()));
            if no_internal(cursor.next()).is_none() {
                break;
            }
            steps += 1;
        }
    }
    steps = 0;
    if no_internal(cursor.seek_last()).is_some() {
        while cursor.valid() && steps < 10_000 {
            let _ = no_internal(cursor.value().map(|v| v.len()));
            if no_internal(cursor.prev()).is_none() {
                break;
            }
            steps += 1;
        }
    }
    for key in found.iter().map(Vec::as_slice).take(8).chain(PROBES) {
        let _ = no_internal(tree.get_with(key, |v| v.len()));
        let _ = no_internal(tree.get_in_page(key).map(|v| v.is_some()));
        let mut c = TreeCursor::new(tree.clone());
        let _ = no_internal(c.seek_ge(key));
        let _ = no_internal(c.seek_le(key));
    }
    drop(cursor);
    drop(tree);
    std::hint::black_box(&pf.storage);
}

/// Node, overflow and freelist pages: `selector | page bytes…`. The selector's low bits choose the
/// page size (4096 << (b % 5)); the input is cut into pages of that size (at most 8) that become
/// pages 2, 3, … of a page file with two valid meta pages. With [`REPAIR`] each page gets its own
/// id and a valid checksum. Page 2 is the root if it is a leaf or a branch, the head of the
/// freelist if it is a freelist page. Every page is then decoded and the tree walked.
pub fn page(input: &[u8]) {
    let Some((&selector, rest)) = input.split_first() else {
        return;
    };
    let page_size = page_size_of_selector(selector & 0x7f);
    let mut pages: Vec<Vec<u8>> = rest
        .chunks(page_size)
        .take(8)
        .map(|c| {
            let mut p = c.to_vec();
            p.resize(page_size, 0);
            p
        })
        .collect();
    if pages.is_empty() {
        pages.push(vec![0u8; page_size]);
    }
    if selector & REPAIR != 0 {
        for (i, p) in pages.iter_mut().enumerate() {
            seal_page(p, 2 + i as u64);
        }
    }
    for p in &pages {
        walk_node(p);
    }
    let (root, freelist) = match page::page_type(&pages[0]) {
        Some(PageType::Leaf | PageType::Branch) => (2, 0),
        Some(PageType::Freelist) => (0, 2),
        _ => (0, 0),
    };
    if let Some(pf) = page_file(page_size, &pages, root, freelist) {
        walk_tree(&pf);
    }
}

// ---------------------------------------------------------------------------------------------
// Meta pages

/// The start of a page file: `flags | bytes` where the bytes hold meta pages 0 and 1 (and maybe
/// more). [`REPAIR`] seals both meta pages at the page size the first one names (when that size
/// is valid). Then the meta pages are checked and chosen as open does; a chosen one must pass
/// its own field checks.
pub fn meta_page(input: &[u8]) {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let mut data = rest.to_vec();
    if flags & REPAIR != 0 && meta::magic_ok(&data) {
        let size = meta::page_size_of(&data) as usize;
        if is_valid_page_size(size) {
            for slot in 0..2u64 {
                let at = slot as usize * size;
                if let Some(p) = data.get_mut(at..at + size) {
                    seal_page(p, slot);
                }
            }
        }
    }
    // The field checks on every decodable page, whatever the checksums say.
    for size in page_sizes() {
        for slot in 0..2 {
            if let Some(p) = data.get(slot * size..(slot + 1) * size) {
                let m = Meta::decode(p);
                let _ = m.check(size, data.len() as u64);
            }
        }
    }
    let storage = FaultyStorage::new();
    let path = Path::new("/db/data.ldb");
    storage.write_file(path, &data);
    let Ok(file) = storage.open(path, OpenMode::Existing) else {
        return;
    };
    if let Some(newest) = no_internal(read_newest_meta(&*file, path)) {
        assert!(is_valid_page_size(newest.page_size));
        assert!(newest
            .meta
            .check(newest.page_size, data.len() as u64)
            .is_ok());
        assert!(newest.meta.file_units <= (data.len() / newest.page_size) as u64);
    }
}

// ---------------------------------------------------------------------------------------------
// Opening a whole database

/// Opens a database whose files are made of the input, and reads all of it:
/// `flags | u32 wal_len | page file | WAL segment (the last wal_len bytes, if flags bit 0)`.
/// [`REPAIR`] seals every page of the page file (at the page size its first meta page names) and
/// fixes the segment's checksums. The segment is named after the first WAL segment meta page 0
/// names. If the open succeeds, every key is read (both ways), `verify()` runs, a few keys are
/// looked up, one is written, and the database is closed.
pub fn open_page_file(input: &[u8]) {
    if input.len() < 5 {
        return;
    }
    let flags = input[0];
    let wal_len = u32::from_le_bytes(input[1..5].try_into().unwrap()) as usize;
    let body = &input[5..];
    let (mut file, mut wal) = if flags & 1 != 0 {
        let cut = body.len() - wal_len.min(body.len());
        (body[..cut].to_vec(), Some(body[cut..].to_vec()))
    } else {
        (body.to_vec(), None)
    };
    let mut segment = 1;
    if meta::magic_ok(&file) {
        let size = meta::page_size_of(&file) as usize;
        if file.len() >= 96 {
            let named = u64::from_le_bytes(file[88..96].try_into().unwrap());
            if (1..=1_000_000).contains(&named) {
                segment = named;
            }
        }
        if flags & REPAIR != 0 && is_valid_page_size(size) {
            for (id, p) in file.chunks_exact_mut(size).enumerate() {
                seal_page(p, id as u64);
            }
        }
    }
    let storage = Arc::new(FaultyStorage::new());
    let dir = Path::new("/db");
    storage.write_file(dir.join("data.ldb"), &file);
    if let Some(w) = wal.as_mut() {
        if flags & REPAIR != 0 {
            repair_segment(w, segment);
        }
        storage.write_file(crate::wal::segment_path(dir, segment), w);
    }
    let mut options = Options::default();
    options.set("create_if_missing", "false").unwrap();
    options.set("cache_size", "1MiB").unwrap();
    let Some(db) = no_internal(Database::open_with_storage(dir, options, storage.clone())) else {
        return;
    };
    let mut keys = Vec::new();
    if let Some(iter) = no_internal(db.iter(Range::all())) {
        for entry in iter.take(10_000) {
            match no_internal(entry) {
                Some((k, _)) => keys.push(k),
                None => break,
            }
        }
    }
    if let Some(mut c) = no_internal(db.cursor(Range::all())) {
        if no_internal(c.seek_to_last()).is_some() {
            for _ in 0..10_000 {
                if !c.valid() || no_internal(c.prev()).is_none() {
                    break;
                }
            }
        }
    }
    let _ = no_internal(db.verify());
    for key in keys.iter().map(Vec::as_slice).take(8).chain(PROBES) {
        let _ = no_internal(db.get(key));
    }
    let _ = no_internal(db.put(b"fuzz", b"value"));
    let _ = no_internal(db.close());
}

// ---------------------------------------------------------------------------------------------
// Options

/// Option strings: `name=value` (split at the first `=`; invalid UTF-8 replaced). Sets the option
/// on the defaults and parses the value as a size. An accepted value must read back in its
/// canonical form, and setting that form must give the same value (the promise of
/// [`Options::get`]); the whole set must validate or fail with `INVALID_OPTION`.
pub fn options(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let (name, value) = text.split_once('=').unwrap_or((&text, ""));
    std::hint::black_box(Options::parse_size(value));
    std::hint::black_box(Options::parse_size(&text));
    let mut options = Options::default();
    let before = options.to_pairs();
    match options.set(name, value) {
        Ok(()) => {
            let canonical = options.get(name).expect("a name that was set can be read");
            let mut again = Options::default();
            again
                .set(name, &canonical)
                .expect("the canonical form is accepted");
            assert_eq!(
                again.get(name).unwrap(),
                canonical,
                "the canonical form of {name}={value} does not round-trip"
            );
            assert_eq!(again.to_pairs(), options.to_pairs());
            if let Err(e) = options.validate() {
                assert_eq!(e.code(), ErrorCode::InvalidOption, "{e}");
            }
        }
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::InvalidOption, "{e}");
            assert_eq!(
                options.to_pairs(),
                before,
                "a failed set changed the options"
            );
        }
    }
}
