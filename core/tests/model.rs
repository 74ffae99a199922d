//! Model-based tests: random sequences of operations run against Lightning DB and against a
//! `BTreeMap` model, comparing every read (DESIGN §6).
//!
//! The operations cover puts, deletes and batches (small keys from a small alphabet, so keys are
//! overwritten and deleted often; occasionally long keys and large values that go to overflow
//! pages), point reads, iteration over every kind of range in both directions with seeks, cursor
//! walks that switch direction, snapshots (which must keep showing the state they were taken at),
//! long-lived iterators, flushes, verification and reopening. The memtable is as small as allowed,
//! so background merges run during the sequence.
//!
//! Case counts are kept small so the file runs quickly; set `LIGHTNING_PROPTEST_CASES` to run more
//! cases (per test) and `LIGHTNING_PROPTEST_MAX_OPS` for longer sequences.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use common::bytes::{show, show_opt};
use common::check::{ensure, Ctx, Outcome};
use common::env::{env_number, proptest_config};
use common::options::small_options;
use lightning_db::storage::FaultyStorage;
use lightning_db::{
    Compression, Cursor, Database, Durability, Encryption, ErrorCode, Iter, Options, Secret,
    Snapshot, WriteBatch,
};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{TestCaseError, TestRunner};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// The bytes keys are made of: few enough that random keys collide, with 0x00 and 0xff to test
/// the edges of prefix ranges.
const ALPHABET: [u8; 5] = [0x00, b'a', b'b', b'c', 0xff];

/// Snapshots and live iterators kept at most at the same time.
const MAX_SNAPSHOTS: usize = 4;
const MAX_LIVE_ITERS: usize = 3;

// ---------------------------------------------------------------------------------------------
// Generated data

/// A byte string with a short `Debug` form, so a failing sequence with 200 KB values stays
/// readable.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Bytes(Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&show(&self.0))
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn small_key(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 0..=max_len)
}

/// Mostly short keys from the alphabet; sometimes a long key (600 to 4096 bytes, the limit) that
/// lives in overflow pages, or one near the inline limit (page_size / 8: 512 bytes for 4 KiB
/// pages, 1024 for 8 KiB). Long keys come from few shapes so they are overwritten too.
fn key() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        40 => small_key(3).prop_map(Bytes),
        1 => (
            small_key(2),
            prop::sample::select(ALPHABET.to_vec()),
            prop::sample::select(vec![511usize, 512, 513, 1023, 1024, 1025]),
        )
            .prop_map(|(mut k, fill, len)| {
                k.resize(len, fill);
                Bytes(k)
            }),
        2 => (
            small_key(2),
            prop::sample::select(ALPHABET.to_vec()),
            prop::sample::select(vec![600usize, 1500, 4095, 4096]),
        )
            .prop_map(|(mut k, fill, len)| {
                k.resize(len, fill);
                Bytes(k)
            }),
    ]
}

/// A value of `len` bytes that depends on `seed`.
fn make_value(len: usize, seed: u32) -> Vec<u8> {
    let mut x = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Values of 0..300 bytes, sometimes 5 KB to 200 KB (overflow pages), or between, around the
/// size where a leaf entry moves its value to overflow pages (page_size / 4 - 2: 1022 bytes for
/// 4 KiB pages, 2046 for 8 KiB).
fn value() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        40 => (0usize..300, any::<u32>()),
        1 => (300usize..5_000, any::<u32>()),
        1 => (990usize..1030, any::<u32>()),
        1 => (2020usize..2060, any::<u32>()),
        2 => (5_000usize..200_000, any::<u32>()),
    ]
    .prop_map(|(len, seed)| Bytes(make_value(len, seed)))
}

type RangeSpec = common::ranges::RangeSpec<Bytes>;

fn range_spec() -> impl Strategy<Value = RangeSpec> {
    prop_oneof![
        2 => Just(RangeSpec::All),
        // Often start < end, sometimes not (an empty range).
        3 => (key(), key()).prop_map(|(a, b)| RangeSpec::Between(a, b)),
        1 => key().prop_map(RangeSpec::From),
        1 => key().prop_map(RangeSpec::To),
        3 => small_key(2).prop_map(|p| RangeSpec::Prefix(Bytes(p))),
    ]
}

#[derive(Clone, Debug)]
enum Move {
    First,
    Last,
    Seek(Bytes),
    SeekForPrev(Bytes),
    Next,
    Prev,
}

fn seek_move() -> impl Strategy<Value = Move> {
    prop_oneof![
        Just(Move::First),
        Just(Move::Last),
        key().prop_map(Move::Seek),
        key().prop_map(Move::SeekForPrev),
    ]
}

fn any_move() -> impl Strategy<Value = Move> {
    prop_oneof![
        8 => Just(Move::Next),
        8 => Just(Move::Prev),
        1 => seek_move(),
    ]
}

/// Which view a read goes to: `None` = the database now, `Some(i)` = snapshot `i % count` (the
/// database if there is no snapshot).
type Target = Option<usize>;

fn target() -> impl Strategy<Value = Target> {
    prop::option::weighted(0.4, 0usize..MAX_SNAPSHOTS)
}

/// How `Op::Fill` writes.
#[derive(Clone, Copy, Debug)]
enum FillWith {
    Puts,
    Batch,
    BulkLoad,
}

#[derive(Clone, Debug)]
enum Op {
    Put(Bytes, Bytes, bool),
    Delete(Bytes, bool),
    /// `None` values are deletes.
    Batch(Vec<(Bytes, Option<Bytes>)>, bool),
    /// Puts `count` keys `prefix` + `pad` bytes 'p' + u16 BE (`first`, `first + step`, ...) with
    /// small values, one by one, in one batch or in one bulk load: grows the tree to several
    /// levels.
    Fill {
        prefix: Bytes,
        pad: usize,
        first: u16,
        step: u16,
        count: u16,
        value_len: usize,
        seed: u32,
        with: FillWith,
    },
    /// Deletes every key the model has in the range, in one batch or one by one: empties pages.
    DeleteRange(RangeSpec, bool),
    Get(Target, Bytes),
    /// Reads `first` entries, then seeks (if given) and reads the rest.
    Iterate {
        target: Target,
        range: RangeSpec,
        reverse: bool,
        first: usize,
        seek: Option<Bytes>,
    },
    CursorWalk {
        target: Target,
        range: RangeSpec,
        reverse: bool,
        moves: Vec<Move>,
    },
    TakeSnapshot,
    DropSnapshot(usize),
    /// Starts an iterator that later `IterContinue`s read, across writes and merges.
    IterStart(RangeSpec, bool),
    IterContinue(usize, usize),
    Flush,
    /// `compact()`: merges, moves the tree out of the file's tail and cuts the file, while
    /// snapshots and iterators of the sequence may still read the old pages.
    Compact,
    /// Closes (`true`) or drops (`false`) the database, then opens it again.
    Reopen(bool),
    Verify,
}

fn durable() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.3)
}

fn op() -> impl Strategy<Value = Op> {
    let batch_op = (key(), prop::option::weighted(0.7, value()));
    let weighted: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (
            30,
            (key(), value(), durable())
                .prop_map(|(k, v, s)| Op::Put(k, v, s))
                .boxed(),
        ),
        (
            10,
            (key(), durable())
                .prop_map(|(k, s)| Op::Delete(k, s))
                .boxed(),
        ),
        (
            6,
            (prop::collection::vec(batch_op, 0..10), durable())
                .prop_map(|(ops, s)| Op::Batch(ops, s))
                .boxed(),
        ),
        (
            2,
            (
                (
                    small_key(2),
                    prop::sample::select(vec![0usize, 0, 100, 700]),
                ),
                any::<u16>(),
                1u16..8,
                1u16..600,
                0usize..120,
                any::<u32>(),
                prop::sample::select(vec![FillWith::Puts, FillWith::Batch, FillWith::BulkLoad]),
            )
                .prop_map(
                    |((prefix, pad), first, step, count, value_len, seed, with)| Op::Fill {
                        prefix: Bytes(prefix),
                        pad,
                        first,
                        step,
                        count,
                        value_len,
                        seed,
                        with,
                    },
                )
                .boxed(),
        ),
        (
            1,
            (range_spec(), any::<bool>())
                .prop_map(|(r, b)| Op::DeleteRange(r, b))
                .boxed(),
        ),
        (
            14,
            (target(), key()).prop_map(|(t, k)| Op::Get(t, k)).boxed(),
        ),
        (
            7,
            (
                target(),
                range_spec(),
                any::<bool>(),
                0usize..4,
                prop::option::weighted(0.5, key()),
            )
                .prop_map(|(target, range, reverse, first, seek)| Op::Iterate {
                    target,
                    range,
                    reverse,
                    first,
                    seek,
                })
                .boxed(),
        ),
        (
            6,
            (
                target(),
                range_spec(),
                any::<bool>(),
                seek_move(),
                prop::collection::vec(any_move(), 0..24),
            )
                .prop_map(|(target, range, reverse, start, mut moves)| {
                    moves.insert(0, start);
                    Op::CursorWalk {
                        target,
                        range,
                        reverse,
                        moves,
                    }
                })
                .boxed(),
        ),
        (3, Just(Op::TakeSnapshot).boxed()),
        (
            1,
            (0usize..MAX_SNAPSHOTS).prop_map(Op::DropSnapshot).boxed(),
        ),
        (
            2,
            (range_spec(), any::<bool>())
                .prop_map(|(r, rev)| Op::IterStart(r, rev))
                .boxed(),
        ),
        (
            3,
            (0usize..MAX_LIVE_ITERS, 1usize..8)
                .prop_map(|(i, n)| Op::IterContinue(i, n))
                .boxed(),
        ),
        (2, Just(Op::Flush).boxed()),
        (1, Just(Op::Compact).boxed()),
        (2, any::<bool>().prop_map(Op::Reopen).boxed()),
        (1, Just(Op::Verify).boxed()),
    ];
    Union::new_weighted(weighted)
}

/// The compressions a case starts with; each reopen takes the next one, so every database also
/// reads what it wrote under another.
const COMPRESSIONS: [Compression; 5] = [
    Compression::None,
    Compression::Lz4,
    Compression::Zstd,
    Compression::Snappy,
    Compression::Auto,
];

/// Options for one case: always the smallest memtable, so merges run during the sequence.
fn options() -> impl Strategy<Value = Options> {
    (
        prop::sample::select(vec![4096u32, 8192, 65536]),
        prop::sample::select(vec![0u64, 256 << 10, 64 << 20]),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![1u32, 2, 4]),
        prop::sample::select(COMPRESSIONS.to_vec()),
        prop::sample::select(vec![
            Encryption::None,
            Encryption::None,
            Encryption::Aes256Gcm,
            Encryption::ChaCha20Poly1305,
        ]),
    )
        .prop_map(
            |(page_size, cache_size, mmap, sync, max_frozen_memtables, compression, encryption)| {
                Options {
                    page_size,
                    cache_size,
                    mmap,
                    sync,
                    max_frozen_memtables,
                    compression,
                    encryption,
                    // The key stays with the options through every reopen.
                    encryption_key: Secret::new(if encryption == Encryption::None {
                        ""
                    } else {
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                    }),
                    memtable_size: 64 << 10,
                    ..Options::default()
                }
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Checks

fn show_entry(e: Option<(&[u8], &[u8])>) -> String {
    match e {
        Some((k, v)) => format!("({}, {})", show(k), show(v)),
        None => "end".to_string(),
    }
}

/// The model's entries in `range`, in its direction; after a seek to `seek`, only those at or
/// past it (≥ forward, ≤ reverse).
fn expected<'m>(
    model: &'m Model,
    range: &RangeSpec,
    reverse: bool,
    seek: Option<&[u8]>,
) -> Vec<(&'m [u8], &'m [u8])> {
    let mut out: Vec<(&[u8], &[u8])> = model
        .iter()
        .filter(|(k, _)| range.contains(k))
        .filter(|(k, _)| match seek {
            None => true,
            Some(s) if reverse => &k[..] <= s,
            Some(s) => &k[..] >= s,
        })
        .map(|(k, v)| (&k[..], &v[..]))
        .collect();
    if reverse {
        out.reverse();
    }
    out
}

/// Compares what an iterator returned with the model's entries.
fn compare_entries(what: &str, got: &[(Vec<u8>, Vec<u8>)], want: &[(&[u8], &[u8])]) -> Outcome {
    let n = got.len().max(want.len());
    for i in 0..n {
        let g = got.get(i).map(|(k, v)| (&k[..], &v[..]));
        let w = want.get(i).copied();
        ensure!(
            g == w,
            "{what}: entry {i} is {}, the model has {} ({} entries returned, {} expected)",
            show_entry(g),
            show_entry(w),
            got.len(),
            want.len()
        );
    }
    Ok(())
}

/// Reads `first` entries one by one, then seeks if asked, then reads the rest.
fn check_iter(
    what: &str,
    mut it: Iter,
    model: &Model,
    range: &RangeSpec,
    reverse: bool,
    first: usize,
    seek: Option<&[u8]>,
) -> Outcome {
    let all = expected(model, range, reverse, None);
    for i in 0..first {
        let got = it.next().transpose().ctx(|| format!("{what}: next"))?;
        let g = got.as_ref().map(|(k, v)| (&k[..], &v[..]));
        let w = all.get(i).copied();
        ensure!(
            g == w,
            "{what}: entry {i} is {}, the model has {}",
            show_entry(g),
            show_entry(w)
        );
    }
    let rest: Vec<(&[u8], &[u8])> = match seek {
        Some(s) => {
            it.seek(s).ctx(|| format!("{what}: seek {}", show(s)))?;
            expected(model, range, reverse, Some(s))
        }
        None => all.iter().skip(first).copied().collect(),
    };
    let got: Vec<(Vec<u8>, Vec<u8>)> = it
        .by_ref()
        .collect::<lightning_db::Result<_>>()
        .ctx(|| format!("{what}: iterating"))?;
    compare_entries(&format!("{what} (after the first {first})"), &got, &rest)?;
    ensure!(
        it.next().is_none(),
        "{what}: the iterator resumed after its end"
    );
    Ok(())
}

/// Applies `moves` to `cursor` and to a model position, comparing after every move.
fn check_cursor(
    what: &str,
    mut cursor: Cursor,
    model: &Model,
    range: &RangeSpec,
    moves: &[Move],
) -> Outcome {
    let entries = expected(model, range, false, None);
    let mut pos: Option<usize> = None;
    for (step, m) in moves.iter().enumerate() {
        let r = match m {
            Move::First => {
                pos = (!entries.is_empty()).then_some(0);
                cursor.seek_to_first()
            }
            Move::Last => {
                pos = entries.len().checked_sub(1);
                cursor.seek_to_last()
            }
            Move::Seek(k) => {
                let i = entries.partition_point(|(e, _)| *e < &k.0[..]);
                pos = (i < entries.len()).then_some(i);
                cursor.seek(&k.0)
            }
            Move::SeekForPrev(k) => {
                let i = entries.partition_point(|(e, _)| *e <= &k.0[..]);
                pos = i.checked_sub(1);
                cursor.seek_for_prev(&k.0)
            }
            Move::Next => {
                pos = pos.and_then(|i| (i + 1 < entries.len()).then_some(i + 1));
                cursor.next()
            }
            Move::Prev => {
                pos = pos.and_then(|i| i.checked_sub(1));
                cursor.prev()
            }
        };
        r.ctx(|| format!("{what}: move {step} {m:?}"))?;
        let want = pos.map(|i| entries[i]);
        let got = if cursor.valid() {
            let k = cursor.key().to_vec();
            let v = cursor
                .value()
                .ctx(|| format!("{what}: value after move {step}"))?
                .to_vec();
            Some((k, v))
        } else {
            ensure!(
                cursor.key().is_empty(),
                "{what}: an invalid cursor has a key"
            );
            None
        };
        let g = got.as_ref().map(|(k, v)| (&k[..], &v[..]));
        ensure!(
            g == want,
            "{what}: after move {step} ({m:?}) the cursor is at {}, the model at {} (moves {:?})",
            show_entry(g),
            show_entry(want),
            &moves[..=step]
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The harness

enum Backend {
    Faulty(FaultyStorage),
    Fs(tempfile::TempDir),
}

impl Backend {
    fn open(&self, options: &Options) -> lightning_db::Result<Database> {
        match self {
            Backend::Faulty(s) => {
                Database::open_with_storage("/db", options.clone(), Arc::new(s.clone()))
            }
            Backend::Fs(dir) => Database::open(dir.path().join("db"), options.clone()),
        }
    }
}

struct LiveIter {
    iter: Iter,
    /// Everything the iterator must return, from when it was made.
    expected: Vec<(Vec<u8>, Vec<u8>)>,
    /// How many entries it returned so far.
    pos: usize,
    what: String,
}

impl LiveIter {
    /// Reads up to `n` entries (all if `None`) and compares them.
    fn advance(&mut self, n: Option<usize>) -> Outcome {
        let mut left = n.unwrap_or(usize::MAX);
        while left > 0 {
            left -= 1;
            let got = self
                .iter
                .next()
                .transpose()
                .ctx(|| format!("{}: next", self.what))?;
            let g = got.as_ref().map(|(k, v)| (&k[..], &v[..]));
            let w = self.expected.get(self.pos).map(|(k, v)| (&k[..], &v[..]));
            ensure!(
                g == w,
                "{}: entry {} is {}, expected {}",
                self.what,
                self.pos,
                show_entry(g),
                show_entry(w)
            );
            if g.is_none() {
                break;
            }
            self.pos += 1;
        }
        Ok(())
    }
}

struct Harness {
    backend: Backend,
    options: Options,
    db: Option<Database>,
    model: Rc<Model>,
    snapshots: Vec<(Snapshot, Rc<Model>)>,
    live: Vec<LiveIter>,
    /// Whether every write is in the tree (after a flush or a reopen, before the next write).
    merged: bool,
    step: usize,
    /// Merges done by the handles closed so far, before they were closed.
    merges: u64,
    /// Before each close, let the background merge finish what is frozen (up to 10 s), so that
    /// `merges` counts its work however slowly the machine runs it. Off by default: closing with
    /// frozen memtables pending is a path worth testing too.
    settle_before_close: bool,
}

impl Harness {
    fn new(backend: Backend, options: Options) -> Result<Harness, TestCaseError> {
        let db = backend.open(&options).ctx(|| "open".to_string())?;
        Ok(Harness {
            backend,
            options,
            db: Some(db),
            model: Rc::new(Model::new()),
            snapshots: Vec::new(),
            live: Vec::new(),
            merged: true,
            step: 0,
            merges: 0,
            settle_before_close: false,
        })
    }

    fn db(&self) -> &Database {
        self.db.as_ref().expect("the database is open")
    }

    fn what(&self, op: &str) -> String {
        format!("step {} ({op})", self.step)
    }

    fn durability(sync: bool) -> Durability {
        if sync {
            Durability::Sync
        } else {
            Durability::Buffered
        }
    }

    /// The snapshot a read with `target` goes to, with its index.
    fn snapshot(&self, target: Target) -> Option<(usize, &Snapshot, &Model)> {
        let i = target? % self.snapshots.len().max(1);
        self.snapshots.get(i).map(|(s, m)| (i, s, &**m))
    }

    fn run(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Put(k, v, sync) => {
                self.db()
                    .put_with(&k.0, &v.0, Self::durability(*sync))
                    .ctx(|| self.what("put"))?;
                Rc::make_mut(&mut self.model).insert(k.0.clone(), v.0.clone());
                self.merged = false;
            }
            Op::Delete(k, sync) => {
                self.db()
                    .delete_with(&k.0, Self::durability(*sync))
                    .ctx(|| self.what("delete"))?;
                Rc::make_mut(&mut self.model).remove(&k.0);
                self.merged = false;
            }
            Op::Batch(ops, sync) => {
                let mut batch = WriteBatch::new();
                for (k, v) in ops {
                    match v {
                        Some(v) => batch.put(&k.0, &v.0),
                        None => batch.delete(&k.0),
                    };
                }
                self.db()
                    .write_with(&batch, Self::durability(*sync))
                    .ctx(|| self.what("batch"))?;
                let model = Rc::make_mut(&mut self.model);
                for (k, v) in ops {
                    match v {
                        Some(v) => model.insert(k.0.clone(), v.0.clone()),
                        None => model.remove(&k.0),
                    };
                }
                self.merged = false;
            }
            Op::Fill {
                prefix,
                pad,
                first,
                step,
                count,
                value_len,
                seed,
                with,
            } => {
                let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..*count)
                    .map(|i| {
                        let n = first.wrapping_add(i.wrapping_mul(*step));
                        let mut k = prefix.0.clone();
                        k.resize(k.len() + pad, b'p');
                        k.extend_from_slice(&n.to_be_bytes());
                        let v = make_value(*value_len, seed.wrapping_add(u32::from(i)));
                        (k, v)
                    })
                    .collect();
                match with {
                    FillWith::Batch => {
                        let mut b = WriteBatch::new();
                        for (k, v) in &entries {
                            b.put(k, v);
                        }
                        self.db().write(&b).ctx(|| self.what("fill (batch)"))?;
                    }
                    FillWith::Puts => {
                        for (k, v) in &entries {
                            self.db()
                                .put_with(k, v, Durability::Buffered)
                                .ctx(|| self.what("fill"))?;
                        }
                    }
                    FillWith::BulkLoad => {
                        // A load takes its keys in order (`first + i * step` may wrap).
                        let mut sorted: Vec<&(Vec<u8>, Vec<u8>)> = entries.iter().collect();
                        sorted.sort();
                        let mut load = self
                            .db()
                            .bulk_load()
                            .ctx(|| self.what("fill (bulk load)"))?;
                        for (k, v) in sorted {
                            load.put(k, v).ctx(|| self.what("fill (bulk load)"))?;
                        }
                        load.commit().ctx(|| self.what("fill (bulk load commit)"))?;
                    }
                }
                Rc::make_mut(&mut self.model).extend(entries);
                self.merged = false;
            }
            Op::DeleteRange(range, batch) => {
                let keys: Vec<Vec<u8>> = self
                    .model
                    .keys()
                    .filter(|k| range.contains(k))
                    .cloned()
                    .collect();
                if *batch {
                    let mut b = WriteBatch::new();
                    for k in &keys {
                        b.delete(k);
                    }
                    self.db()
                        .write(&b)
                        .ctx(|| self.what("delete range (batch)"))?;
                } else {
                    for k in &keys {
                        self.db()
                            .delete_with(k, Durability::Buffered)
                            .ctx(|| self.what("delete range"))?;
                    }
                }
                let model = Rc::make_mut(&mut self.model);
                for k in &keys {
                    model.remove(k);
                }
                self.merged = false;
            }
            Op::Get(target, k) => {
                let (what, got, want) = match self.snapshot(*target) {
                    Some((i, snap, model)) => (
                        self.what(&format!("get {} in snapshot {i}", show(&k.0))),
                        // Alternate the copying and the pinned read.
                        if k.0.len() % 2 == 0 {
                            snap.get(&k.0)
                        } else {
                            snap.get_pinned(&k.0).map(|v| v.map(|v| v.to_vec()))
                        },
                        model.get(&k.0),
                    ),
                    None => {
                        let db = self.db();
                        let got = if k.0.len() % 2 == 0 {
                            db.get(&k.0)
                        } else {
                            db.get_pinned(&k.0).map(|v| v.map(|v| v.to_vec()))
                        };
                        let contains = db.contains_key(&k.0).ctx(|| self.what("contains_key"))?;
                        ensure!(
                            contains == self.model.contains_key(&k.0),
                            "{}: contains_key({}) is {contains}",
                            self.what("contains_key"),
                            show(&k.0)
                        );
                        (
                            self.what(&format!("get {}", show(&k.0))),
                            got,
                            self.model.get(&k.0),
                        )
                    }
                };
                let got = got.ctx(|| what.clone())?;
                ensure!(
                    got.as_deref() == want.map(|v| &v[..]),
                    "{what}: got {}, the model has {}",
                    show_opt(got.as_deref()),
                    show_opt(want.map(Vec::as_slice))
                );
            }
            Op::Iterate {
                target,
                range,
                reverse,
                first,
                seek,
            } => {
                let seek = seek.as_ref().map(|s| &s.0[..]);
                let r = range.range(*reverse);
                match self.snapshot(*target) {
                    Some((i, snap, model)) => {
                        let what = self.what(&format!("iterate {r:?} in snapshot {i}"));
                        check_iter(&what, snap.iter(r), model, range, *reverse, *first, seek)?;
                    }
                    None => {
                        let what = self.what(&format!("iterate {r:?}"));
                        let it = self.db().iter(r).ctx(|| what.clone())?;
                        check_iter(&what, it, &self.model, range, *reverse, *first, seek)?;
                    }
                }
            }
            Op::CursorWalk {
                target,
                range,
                reverse,
                moves,
            } => {
                let r = range.range(*reverse);
                match self.snapshot(*target) {
                    Some((i, snap, model)) => {
                        let what = self.what(&format!("cursor {r:?} in snapshot {i}"));
                        check_cursor(&what, snap.cursor(r), model, range, moves)?;
                    }
                    None => {
                        let what = self.what(&format!("cursor {r:?}"));
                        let c = self.db().cursor(r).ctx(|| what.clone())?;
                        check_cursor(&what, c, &self.model, range, moves)?;
                    }
                }
            }
            Op::TakeSnapshot => {
                let snap = self.db().snapshot().ctx(|| self.what("snapshot"))?;
                if self.snapshots.len() == MAX_SNAPSHOTS {
                    self.snapshots.remove(0);
                }
                self.snapshots.push((snap, self.model.clone()));
            }
            Op::DropSnapshot(i) => {
                if !self.snapshots.is_empty() {
                    let i = i % self.snapshots.len();
                    self.snapshots.remove(i);
                }
            }
            Op::IterStart(range, reverse) => {
                let r = range.range(*reverse);
                let what = self.what(&format!("live iterator {r:?}"));
                let iter = self.db().iter(r).ctx(|| what.clone())?;
                let expected = expected(&self.model, range, *reverse, None)
                    .into_iter()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect();
                if self.live.len() == MAX_LIVE_ITERS {
                    self.live.remove(0);
                }
                self.live.push(LiveIter {
                    iter,
                    expected,
                    pos: 0,
                    what,
                });
            }
            Op::IterContinue(i, n) => {
                if !self.live.is_empty() {
                    let i = i % self.live.len();
                    self.live[i].advance(Some(*n))?;
                }
            }
            Op::Flush => {
                self.db().flush().ctx(|| self.what("flush"))?;
                self.merged = true;
                self.check_stats("flush")?;
            }
            Op::Compact => {
                self.db().compact().ctx(|| self.what("compact"))?;
                self.merged = true;
                self.check_stats("compact")?;
            }
            Op::Reopen(clean) => self.reopen(*clean)?,
            Op::Verify => self.verify("verify")?,
        }
        Ok(())
    }

    fn check_stats(&self, op: &str) -> Outcome {
        let stats = self.db().stats();
        ensure!(
            stats.background_error.is_none(),
            "{}: background error {:?}",
            self.what(op),
            stats.background_error
        );
        if self.merged {
            ensure!(
                stats.tree_keys == self.model.len() as u64,
                "{}: stats say {} keys in the tree after a merge of everything, the model has {}",
                self.what(op),
                stats.tree_keys,
                self.model.len()
            );
        }
        Ok(())
    }

    fn verify(&self, op: &str) -> Outcome {
        let report = self.db().verify().ctx(|| self.what(op))?;
        if self.merged {
            ensure!(
                report.tree_keys == self.model.len() as u64,
                "{}: verify found {} keys in the tree after a merge of everything, the model has {} ({report:?})",
                self.what(op),
                report.tree_keys,
                self.model.len()
            );
        }
        self.check_stats(op)
    }

    /// Reads everything forward and backward from the database and from every snapshot.
    fn check_all(&self, op: &str) -> Outcome {
        if let Some(db) = &self.db {
            for reverse in [false, true] {
                let what = self.what(&format!("{op}: full scan, reverse {reverse}"));
                let it = db
                    .iter(RangeSpec::All.range(reverse))
                    .ctx(|| what.clone())?;
                check_iter(&what, it, &self.model, &RangeSpec::All, reverse, 0, None)?;
            }
        }
        for (i, (snap, model)) in self.snapshots.iter().enumerate() {
            for reverse in [false, true] {
                let what = self.what(&format!("{op}: snapshot {i} full scan, reverse {reverse}"));
                let it = snap.iter(RangeSpec::All.range(reverse));
                check_iter(&what, it, model, &RangeSpec::All, reverse, 0, None)?;
            }
            for (k, v) in model.iter().take(20) {
                let got = snap.get(k).ctx(|| self.what("snapshot get"))?;
                ensure!(
                    got.as_deref() == Some(&v[..]),
                    "{}: snapshot {i} get {} is {}",
                    self.what(op),
                    show(k),
                    show_opt(got.as_deref())
                );
            }
        }
        Ok(())
    }

    /// Closes or drops the database. Snapshots and iterators taken before must keep working, and
    /// hold the lock: opening again fails with `LOCKED` until they are gone.
    fn reopen(&mut self, clean: bool) -> Outcome {
        let db = self.db.take().expect("open");
        if self.settle_before_close {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while db.stats().frozen_memtables > 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        self.merges += db.stats().merges;
        if clean {
            db.close().ctx(|| self.what("close"))?;
        } else {
            drop(db);
        }
        self.check_all("after close")?;
        for live in &mut self.live {
            live.advance(None)?;
        }
        if !self.snapshots.is_empty() || !self.live.is_empty() {
            match self.backend.open(&self.options) {
                Ok(_) => {
                    return Err(TestCaseError::fail(format!(
                        "{}: opened while a snapshot or iterator of the closed database is alive",
                        self.what("reopen")
                    )))
                }
                Err(e) => ensure!(
                    e.code() == ErrorCode::Locked,
                    "{}: expected LOCKED, got {e}",
                    self.what("reopen")
                ),
            }
        }
        self.snapshots.clear();
        self.live.clear();
        let now = COMPRESSIONS
            .iter()
            .position(|c| *c == self.options.compression);
        self.options.compression = COMPRESSIONS[now.map_or(0, |i| (i + 1) % COMPRESSIONS.len())];
        self.db = Some(
            self.backend
                .open(&self.options)
                .ctx(|| self.what("reopen"))?,
        );
        self.merged = true;
        self.check_stats("reopen")
    }

    /// The end of a sequence: everything matches, survives a reopen, and verifies.
    fn finish(&mut self) -> Outcome {
        self.step += 1;
        self.check_all("final")?;
        for live in &mut self.live {
            live.advance(None)?;
        }
        self.reopen(true)?;
        self.check_all("final, reopened")?;
        self.verify("final verify")
    }
}

/// Runs `ops` and the final checks; returns the number of merges done before a close (background
/// merges and flushes), so a test can check that merges happened.
fn run_sequence(backend: Backend, options: Options, ops: &[Op]) -> Result<u64, TestCaseError> {
    run_sequence_with(backend, options, ops, false)
}

/// [`run_sequence`], letting the background merge settle before each close if `settle`.
fn run_sequence_with(
    backend: Backend,
    options: Options,
    ops: &[Op],
    settle: bool,
) -> Result<u64, TestCaseError> {
    let mut h = Harness::new(backend, options)?;
    h.settle_before_close = settle;
    for op in ops {
        h.step += 1;
        h.run(op)?;
    }
    h.finish()?;
    Ok(h.merges)
}

// ---------------------------------------------------------------------------------------------
// The tests

fn ops(default_max: usize) -> impl Strategy<Value = Vec<Op>> {
    let max = env_number("LIGHTNING_PROPTEST_MAX_OPS").unwrap_or(default_max);
    prop::collection::vec(op(), 1..=max.max(1))
}

fn run(cases: u32, max_ops: usize, fs: bool) {
    let mut runner = TestRunner::new(proptest_config(cases));
    let result = runner.run(&(options(), ops(max_ops)), |(options, ops)| {
        let backend = if fs {
            Backend::Fs(tempfile::tempdir().expect("tempdir"))
        } else {
            Backend::Faulty(FaultyStorage::new())
        };
        run_sequence(backend, options, &ops).map(|_| ())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The in-memory file system: many short sequences.
#[test]
fn model_in_memory_storage() {
    run(64, 300, false);
}

/// The real file system (mmap reads, file locks): fewer sequences.
#[test]
fn model_file_system() {
    run(16, 300, true);
}

/// A fixed sequence with many overwrites of few keys in a merge-heavy run, checked at every step;
/// it does not depend on the random generator finding a long enough sequence.
#[test]
fn model_deterministic_churn() {
    let mut ops = Vec::new();
    let mut x: u32 = 12345;
    let mut rnd = |n: u32| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (x >> 8) % n
    };
    for i in 0..2000u32 {
        let k = Bytes(vec![ALPHABET[rnd(5) as usize], ALPHABET[rnd(5) as usize]]);
        let op = match rnd(20) {
            0..=9 => {
                let len = if rnd(40) == 0 {
                    20_000
                } else {
                    rnd(300) as usize
                };
                Op::Put(k, Bytes(make_value(len, i)), false)
            }
            10..=13 => Op::Delete(k, false),
            14..=16 => Op::Get(None, k),
            17 => Op::TakeSnapshot,
            18 => Op::Iterate {
                target: Some(rnd(4) as usize),
                range: RangeSpec::Prefix(Bytes(vec![ALPHABET[rnd(5) as usize]])),
                reverse: rnd(2) == 0,
                first: 1,
                seek: Some(k),
            },
            _ => Op::CursorWalk {
                target: None,
                range: RangeSpec::All,
                reverse: false,
                moves: vec![
                    Move::Seek(k),
                    Move::Next,
                    Move::Prev,
                    Move::Prev,
                    Move::Next,
                    Move::Next,
                ],
            },
        };
        ops.push(op);
        if i % 500 == 499 {
            ops.push(Op::Reopen(i % 1000 == 499));
        }
    }
    let options = small_options();
    let backend = Backend::Faulty(FaultyStorage::new());
    // Settled before each close: on a loaded machine the merge thread may not have finished any
    // merge by the time the sequence reopens, which says nothing about the engine.
    match run_sequence_with(backend, options, &ops, true) {
        Ok(merges) => assert!(merges > 0, "no merge ran in the background"),
        Err(e) => panic!("{e}"),
    }
}
