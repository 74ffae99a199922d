//! Model-based test of transactions: random interleavings of a few transactions, and plain writes
//! between them, run against Lightning DB and against a versioned model of the committed history.
//!
//! Each case generates 2 to 5 transactions, each with an isolation level (sometimes read-only), a
//! list of reads and writes over six keys (few, so that transactions collide often) and an ending
//! (commit, rollback, or left open until the end). The steps of all of them and a few plain writes
//! are shuffled into one schedule and run one at a time from one thread, so the outcome of every
//! step is determined by the documented rules and the test checks it exactly. Large values with a
//! small memtable make merges (and direct-to-tree batches) happen mid-schedule, and a rare batch
//! of 1100 keys makes the conflict tracker prune. The checks:
//!
//! - every read (`get`, and scans forward or reverse, over any kind of range, after a seek or not,
//!   read to the end or only the first few entries) returns the committed state as of the
//!   transaction's begin, overlaid with the transaction's own earlier writes. That includes
//!   iterators kept open across later steps: each move sees the writes made before it;
//! - every commit fails with `CONFLICT` exactly when the rule says so. Snapshot isolation: a commit
//!   since the transaction began wrote a key it writes (first committer wins). Serializable: also a
//!   key it read with `get` (before writing it), or a key inside the span one of its iterators
//!   covered. A conflict the rule does not call for is a bug too (it turns away work that could
//!   commit), so the test demands equivalence, not only safety;
//! - committed serializable transactions are serializable in commit order: each of their reads,
//!   evaluated again against the state just before their commit, returns what it returned;
//! - the database ends up holding the model's last state, which is the committed transactions and
//!   plain writes applied one after the other in commit order; also after a reopen. Its counters
//!   of committed, rolled back and conflicting transactions agree with the outcomes.
//!
//! A serializable iterator covers one span of keys: from the lowest to the highest position its
//! cursor reached — the keys it returned, its seek target (or the range start) and, once it ran off
//! the end, the range bound. The model computes that span from the scan and the model's entries,
//! independently of the engine (see `model_scan` and `Run::live_next`).
//!
//! Case counts are kept small so the file runs in a few seconds; set `LIGHTNING_PROPTEST_CASES` to
//! run more.

mod common;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;
use std::path::Path;

use common::bytes::{show, show_opt};
use common::check::{ensure, Ctx, Outcome};
use common::env::proptest_config;
use lightning_db::{
    Database, ErrorCode, Isolation, Iter, Options, Range, Transaction, TransactionOptions,
    WriteBatch,
};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

/// The committed content of the database at one point of the history.
type State = BTreeMap<Vec<u8>, Vec<u8>>;
/// A transaction's (or a plain write's) writes: key → value, `None` for a delete.
type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The key space: six keys, so that transactions touch the same keys often. `b`, `ba` and `bb`
/// share a prefix, so a prefix scan can return several keys.
const KEYS: [&[u8]; 6] = [b"a", b"b", b"ba", b"bb", b"c", b"d"];

/// Range bounds and seek targets: every key, and positions before, between and after them.
const BOUNDS: [&[u8]; 11] = [
    b"", b"a", b"a\x00", b"b", b"b\x00", b"ba", b"bb", b"bc", b"c", b"d", b"e",
];

/// Prefixes: the empty one (every key), the key groups, and 0xff (a prefix range with no end).
const PREFIXES: [&[u8]; 6] = [b"", b"a", b"b", b"ba", b"c", b"\xff"];

/// Keys of a `PlainWrite::Fill`: more than the 1024 recorded writes past which the conflict
/// tracker prunes.
const FILL_KEYS: usize = 1100;

/// A large value: more than half of a 64 KiB memtable, so a plain put of one goes straight into
/// the tree, and a few of them fill a memtable and start a background merge.
const LARGE_VALUE: usize = 40_000;

// ---------------------------------------------------------------------------------------------
// Generated schedules

/// A key or bound, shown as a string in a failing schedule.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key(&'static [u8]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&show(self.0))
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

fn key() -> impl Strategy<Value = Key> {
    prop::sample::select(KEYS.to_vec()).prop_map(Key)
}

fn bound() -> impl Strategy<Value = Key> {
    prop::sample::select(BOUNDS.to_vec()).prop_map(Key)
}

#[derive(Clone, Copy, Debug)]
enum ValueSize {
    Small,
    Large,
}

fn value_size() -> impl Strategy<Value = ValueSize> {
    prop_oneof![9 => Just(ValueSize::Small), 1 => Just(ValueSize::Large)]
}

/// A value that names the write that made it, so a read of a stale or foreign version shows.
fn make_value(tag: String, size: ValueSize) -> Vec<u8> {
    let mut value = tag.into_bytes();
    if let ValueSize::Large = size {
        value.resize(LARGE_VALUE, b'-');
    }
    value
}

type RangeSpec = common::ranges::RangeSpec<Key>;

fn range_spec() -> impl Strategy<Value = RangeSpec> {
    prop_oneof![
        1 => Just(RangeSpec::All),
        // Sometimes start ≥ end: an empty range.
        3 => (bound(), bound()).prop_map(|(start, end)| RangeSpec::Between(start, end)),
        1 => bound().prop_map(RangeSpec::From),
        1 => bound().prop_map(RangeSpec::To),
        2 => prop::sample::select(PREFIXES.to_vec()).prop_map(|p| RangeSpec::Prefix(Key(p))),
    ]
}

/// An iterator over `range` in a transaction: seeks first if `seek` is set, then reads `limit`
/// entries (`None`: to the end).
#[derive(Clone, Debug)]
struct Scan {
    range: RangeSpec,
    reverse: bool,
    seek: Option<Key>,
    limit: Option<usize>,
}

fn scan() -> impl Strategy<Value = Scan> {
    (
        range_spec(),
        any::<bool>(),
        prop::option::weighted(0.4, bound()),
        prop::option::weighted(0.6, 0usize..4),
    )
        .prop_map(|(range, reverse, seek, limit)| Scan {
            range,
            reverse,
            seek,
            limit,
        })
}

#[derive(Clone, Debug)]
enum TxnOp {
    Get(Key),
    Put(Key, ValueSize),
    Delete(Key),
    Scan(Scan),
    /// Opens an iterator that stays open across the transaction's later steps.
    IterOpen(RangeSpec, bool),
    /// Reads this many entries from the iterator opened last (if any); it sees the transaction's
    /// own writes made since it was opened.
    IterNext(usize),
}

fn txn_op() -> impl Strategy<Value = TxnOp> {
    prop_oneof![
        3 => key().prop_map(TxnOp::Get),
        3 => (key(), value_size()).prop_map(|(k, size)| TxnOp::Put(k, size)),
        1 => key().prop_map(TxnOp::Delete),
        4 => scan().prop_map(TxnOp::Scan),
        1 => (range_spec(), any::<bool>()).prop_map(|(range, reverse)| TxnOp::IterOpen(range, reverse)),
        2 => (1usize..=3).prop_map(TxnOp::IterNext),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Commit,
    Rollback,
    /// Still open when the schedule ends, then dropped: it keeps the conflict tracker recording
    /// for the whole schedule.
    LeftOpen,
}

/// One transaction: how it begins, what it does (a read-only one's writes must fail with
/// `READ_ONLY`), how it ends.
#[derive(Clone, Debug)]
struct TxnPlan {
    isolation: Isolation,
    read_only: bool,
    ops: Vec<TxnOp>,
    ending: Ending,
}

impl TxnPlan {
    /// Its steps in the schedule: the begin, each op, and the commit or rollback.
    fn steps(&self) -> usize {
        1 + self.ops.len() + usize::from(self.ending != Ending::LeftOpen)
    }
}

fn txn_plan() -> impl Strategy<Value = TxnPlan> {
    (
        prop_oneof![Just(Isolation::Snapshot), Just(Isolation::Serializable)],
        prop::bool::weighted(0.15),
        prop::collection::vec(txn_op(), 0..=6),
        prop_oneof![
            8 => Just(Ending::Commit),
            1 => Just(Ending::Rollback),
            1 => Just(Ending::LeftOpen),
        ],
    )
        .prop_map(|(isolation, read_only, ops, ending)| TxnPlan {
            isolation,
            read_only,
            ops,
            ending,
        })
}

/// A write outside any transaction: it commits at once, like a transaction of its own.
#[derive(Clone, Debug)]
enum PlainWrite {
    Put(Key, ValueSize),
    Delete(Key),
    /// `None` values are deletes.
    Batch(Vec<(Key, Option<ValueSize>)>),
    /// One batch of `FILL_KEYS` keys after the key space (`f0000`, `f0001`, ...): enough
    /// recorded writes for the conflict tracker to prune those no open transaction can conflict
    /// with.
    Fill,
}

fn plain_write() -> impl Strategy<Value = PlainWrite> {
    prop_oneof![
        15 => (key(), value_size()).prop_map(|(k, size)| PlainWrite::Put(k, size)),
        5 => key().prop_map(PlainWrite::Delete),
        5 => prop::collection::vec((key(), prop::option::weighted(0.7, value_size())), 1..=3)
            .prop_map(PlainWrite::Batch),
        // Rare: it makes every scan after it over the whole key space long.
        1 => Just(PlainWrite::Fill),
    ]
}

/// One step of the schedule: the next step of transaction `Txn(i)` (its begin, then its ops,
/// then its ending), or plain write `Plain(i)`.
#[derive(Clone, Copy)]
enum Slot {
    Txn(usize),
    Plain(usize),
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Slot::Txn(i) => write!(f, "T{i}"),
            Slot::Plain(i) => write!(f, "P{i}"),
        }
    }
}

#[derive(Clone, Debug)]
struct Schedule {
    /// A 64 KiB memtable (the smallest allowed), so large values start merges mid-schedule.
    small_memtable: bool,
    /// Close and reopen at the end, and check again.
    reopen: bool,
    txns: Vec<TxnPlan>,
    plain_writes: Vec<PlainWrite>,
    order: Vec<Slot>,
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        any::<bool>(),
        prop::bool::weighted(0.3),
        prop::collection::vec(txn_plan(), 2..=5),
        prop::collection::vec(plain_write(), 0..=6),
    )
        .prop_flat_map(|(small_memtable, reopen, txns, plain_writes)| {
            // Shuffling the slots keeps each transaction's steps in order: its k-th slot is its
            // k-th step, wherever it lands.
            let mut slots = Vec::new();
            for (i, txn) in txns.iter().enumerate() {
                slots.extend(std::iter::repeat_n(Slot::Txn(i), txn.steps()));
            }
            slots.extend((0..plain_writes.len()).map(Slot::Plain));
            Just(slots).prop_shuffle().prop_map(move |order| Schedule {
                small_memtable,
                reopen,
                txns: txns.clone(),
                plain_writes: plain_writes.clone(),
                order,
            })
        })
}

// ---------------------------------------------------------------------------------------------
// The model

/// The committed history: every state the database went through, in commit order.
struct History {
    /// `states[i]`: the content after the first `i` commits; `states[0]` is empty.
    states: Vec<State>,
    /// `written[i]`: the keys commit `i` wrote (the one that made `states[i + 1]`).
    written: Vec<BTreeSet<Vec<u8>>>,
}

impl History {
    fn new() -> History {
        History {
            states: vec![State::new()],
            written: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.written.len()
    }

    fn last(&self) -> &State {
        self.states.last().expect("states[0] always exists")
    }

    fn commit(&mut self, writes: &Writes) {
        let state = overlay(self.last(), writes);
        self.states.push(state);
        self.written.push(writes.keys().cloned().collect());
    }

    /// The keys written by the commits after the first `since`.
    fn written_since(&self, since: usize) -> BTreeSet<&[u8]> {
        self.written[since..]
            .iter()
            .flatten()
            .map(Vec::as_slice)
            .collect()
    }
}

/// What a transaction reads: `state` with its own `writes` over it.
fn overlay(state: &State, writes: &Writes) -> State {
    let mut view = state.clone();
    for (key, value) in writes {
        match value {
            Some(value) => view.insert(key.clone(), value.clone()),
            None => view.remove(key),
        };
    }
    view
}

/// An interval of keys a serializable iterator covered.
#[derive(Clone)]
struct Span {
    low: Bound<Vec<u8>>,
    high: Bound<Vec<u8>>,
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.low {
            Bound::Included(low) => write!(f, "[\"{}\"", low.escape_ascii())?,
            Bound::Excluded(low) => write!(f, "(\"{}\"", low.escape_ascii())?,
            Bound::Unbounded => write!(f, "(-inf")?,
        }
        match &self.high {
            Bound::Included(high) => write!(f, ", \"{}\"]", high.escape_ascii()),
            Bound::Excluded(high) => write!(f, ", \"{}\")", high.escape_ascii()),
            Bound::Unbounded => write!(f, ", +inf)"),
        }
    }
}

impl Span {
    /// The keys an iterator walked over from `origin` to `farthest`, in its direction.
    fn walked(origin: Bound<Vec<u8>>, farthest: Bound<Vec<u8>>, reverse: bool) -> Span {
        if reverse {
            Span {
                low: farthest,
                high: origin,
            }
        } else {
            Span {
                low: origin,
                high: farthest,
            }
        }
    }

    /// Whether `key` is inside; an interval whose low end is past its high end holds nothing.
    fn contains(&self, key: &[u8]) -> bool {
        let above_low = match &self.low {
            Bound::Included(low) => key >= &low[..],
            Bound::Excluded(low) => key > &low[..],
            Bound::Unbounded => true,
        };
        let below_high = match &self.high {
            Bound::Included(high) => key <= &high[..],
            Bound::Excluded(high) => key < &high[..],
            Bound::Unbounded => true,
        };
        above_low && below_high
    }
}

/// What `scan` returns when run over `view`, and the span of keys its iterator covers (`None`: the
/// cursor never moved).
fn model_scan(view: &State, scan: &Scan) -> (Entries, Option<Span>) {
    let seek = scan.seek.map(|k| k.0);
    let mut found: Vec<(&Vec<u8>, &Vec<u8>)> = view
        .iter()
        .filter(|(k, _)| scan.range.contains(k))
        // A seek goes to the first key ≥ it forward, the last key ≤ it in reverse.
        .filter(|(k, _)| match seek {
            None => true,
            Some(s) if scan.reverse => &k[..] <= s,
            Some(s) => &k[..] >= s,
        })
        .collect();
    if scan.reverse {
        found.reverse();
    }
    // Calls to `next`: up to the limit, and at most the one that finds the end.
    let calls = scan
        .limit
        .map_or(found.len() + 1, |limit| limit.min(found.len() + 1));
    let returned: Entries = found
        .iter()
        .take(calls)
        .map(|(k, v)| ((*k).clone(), (*v).clone()))
        .collect();
    // How many positions the cursor reached. Without a seek, each call moves it once (the first
    // to the start of the range). A seek is a move; the first call after it returns the entry the
    // seek found without moving, and each later call moves once.
    let reached = if seek.is_some() { calls.max(1) } else { calls };
    if reached == 0 {
        return (returned, None);
    }
    let farthest = match found.get(reached - 1) {
        Some((k, _)) => Bound::Included((*k).clone()),
        None => end_bound(&scan.range, scan.reverse),
    };
    let (start, end) = scan.range.bounds();
    let origin = match seek {
        // A forward seek before the start goes to the start.
        Some(s) if !scan.reverse => {
            Bound::Included(start.map_or(s.to_vec(), |start| start.max(s.to_vec())))
        }
        // A reverse seek at or past the end goes to the last key, as without a seek.
        Some(s) if end.as_deref().is_none_or(|e| s < e) => Bound::Included(s.to_vec()),
        _ => iter_origin(&scan.range, scan.reverse),
    };
    (returned, Some(Span::walked(origin, farthest, scan.reverse)))
}

/// Where an iterator over `range` is when it runs off the end, in its direction: the range bound.
fn end_bound(range: &RangeSpec, reverse: bool) -> Bound<Vec<u8>> {
    let (start, end) = range.bounds();
    if reverse {
        start.map_or(Bound::Unbounded, Bound::Included)
    } else {
        end.map_or(Bound::Unbounded, Bound::Excluded)
    }
}

/// Where an iterator without a seek starts, in its direction: the range start forward, the end
/// in reverse.
fn iter_origin(range: &RangeSpec, reverse: bool) -> Bound<Vec<u8>> {
    let (start, end) = range.bounds();
    if reverse {
        end.map_or(Bound::Unbounded, Bound::Excluded)
    } else {
        start.map_or(Bound::Unbounded, Bound::Included)
    }
}

/// The entry an iterator over `range` moves to in `view`: the first in its direction after the
/// key it is at (`None`: it has not started).
fn model_next(
    view: &State,
    range: &RangeSpec,
    reverse: bool,
    after: Option<&[u8]>,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut candidates = view.iter().filter(|(k, _)| {
        range.contains(k)
            && match after {
                None => true,
                Some(a) if reverse => &k[..] < a,
                Some(a) => &k[..] > a,
            }
    });
    let next = if reverse {
        candidates.next_back()
    } else {
        candidates.next()
    };
    next.map(|(k, v)| (k.clone(), v.clone()))
}

/// An iterator a transaction keeps open across its steps, with where the model has it.
struct LiveIter {
    iter: Iter,
    range: RangeSpec,
    reverse: bool,
    position: LivePosition,
    /// Its span's index in `Open::spans`, once it has moved.
    span: Option<usize>,
}

enum LivePosition {
    Unstarted,
    At(Vec<u8>),
    /// It ran off the end: it returns nothing more, and does not move again.
    Done,
}

/// A read and what it returned, kept to evaluate it again at the commit point.
enum Read {
    Get {
        key: Vec<u8>,
        own_writes: Writes,
        got: Option<Vec<u8>>,
    },
    Scan {
        scan: Scan,
        own_writes: Writes,
        got: Entries,
    },
    /// A step of a live iterator.
    Next {
        range: RangeSpec,
        reverse: bool,
        after: Option<Vec<u8>>,
        own_writes: Writes,
        got: Option<(Vec<u8>, Vec<u8>)>,
    },
}

impl Read {
    /// What the read returns over `state` with the transaction's writes made before it.
    fn evaluate(&self, state: &State) -> ReadResult {
        match self {
            Read::Get {
                key, own_writes, ..
            } => ReadResult::Value(overlay(state, own_writes).get(key).cloned()),
            Read::Scan {
                scan, own_writes, ..
            } => ReadResult::Entries(model_scan(&overlay(state, own_writes), scan).0),
            Read::Next {
                range,
                reverse,
                after,
                own_writes,
                ..
            } => ReadResult::Entries(
                model_next(
                    &overlay(state, own_writes),
                    range,
                    *reverse,
                    after.as_deref(),
                )
                .into_iter()
                .collect(),
            ),
        }
    }

    fn got(&self) -> ReadResult {
        match self {
            Read::Get { got, .. } => ReadResult::Value(got.clone()),
            Read::Scan { got, .. } => ReadResult::Entries(got.clone()),
            Read::Next { got, .. } => ReadResult::Entries(got.iter().cloned().collect()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Read::Get { key, .. } => format!("get {}", key.escape_ascii()),
            Read::Scan { scan, .. } => format!("{scan:?}"),
            Read::Next {
                range,
                reverse,
                after,
                ..
            } => format!(
                "next over {range:?} (reverse: {reverse}) after {}",
                show_opt(after.as_deref())
            ),
        }
    }
}

#[derive(PartialEq)]
enum ReadResult {
    Value(Option<Vec<u8>>),
    Entries(Entries),
}

impl fmt::Debug for ReadResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadResult::Value(v) => write!(f, "{}", show_opt(v.as_deref())),
            ReadResult::Entries(entries) => write!(f, "{}", show_entries(entries)),
        }
    }
}

/// The keys, the first 16 of them if there are more (after a fill).
fn show_keys<'k>(keys: impl IntoIterator<Item = &'k [u8]>) -> String {
    let keys: Vec<&[u8]> = keys.into_iter().collect();
    let shown: Vec<String> = keys
        .iter()
        .take(16)
        .map(|k| k.escape_ascii().to_string())
        .collect();
    let more = if keys.len() > 16 {
        format!(", … ({} keys)", keys.len())
    } else {
        String::new()
    };
    format!("[{}{more}]", shown.join(", "))
}

/// The entries, the first 16 of them if there are more (after a fill).
fn show_entries(entries: &[(Vec<u8>, Vec<u8>)]) -> String {
    let shown: Vec<String> = entries
        .iter()
        .take(16)
        .map(|(k, v)| format!("{}={}", k.escape_ascii(), show(v)))
        .collect();
    let more = if entries.len() > 16 {
        format!(", … ({} entries)", entries.len())
    } else {
        String::new()
    };
    format!("[{}{more}]", shown.join(", "))
}

/// Why the rule makes a commit fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    /// A commit since it began wrote a key it writes.
    Write,
    /// … a key it read with `get` (serializable).
    ReadKey,
    /// … a key inside a span one of its iterators covered (serializable).
    Span,
}

/// A transaction the schedule has begun and not ended, with what the model knows of it.
struct Open {
    txn: Transaction,
    /// Commits in the history when it began: it reads `states[begun_at]`.
    begun_at: usize,
    writes: Writes,
    /// Keys it read with `get` while it had not written them.
    read_keys: BTreeSet<Vec<u8>>,
    /// The spans its iterators covered (so far, for live ones).
    spans: Vec<Span>,
    /// Its live iterators, the last opened last.
    live: Vec<LiveIter>,
    /// The ranges it scanned, whole: to tell a span that stopped early from the whole range.
    scanned: Vec<RangeSpec>,
    reads: Vec<Read>,
}

impl Open {
    /// Whether the commit must fail, and why, by the rule for `isolation`: a commit after its
    /// begin wrote a key it writes (or, serializable, one it read or covered).
    fn conflict(&self, history: &History, isolation: Isolation) -> Option<Cause> {
        let cause = self.would_conflict(history);
        match (isolation, cause) {
            (Isolation::Snapshot, Some(Cause::Write)) | (Isolation::Serializable, Some(_)) => cause,
            _ => None,
        }
    }

    /// Why the commit would fail if it were serializable (which also covers snapshot isolation's
    /// rule, the first cause checked).
    fn would_conflict(&self, history: &History) -> Option<Cause> {
        if self.writes.is_empty() {
            // Only reads, all from one snapshot: consistent whatever committed since.
            return None;
        }
        let written = history.written_since(self.begun_at);
        if self.writes.keys().any(|k| written.contains(&k[..])) {
            Some(Cause::Write)
        } else if self.read_keys.iter().any(|k| written.contains(&k[..])) {
            Some(Cause::ReadKey)
        } else if self
            .spans
            .iter()
            .any(|span| written.iter().any(|k| span.contains(k)))
        {
            Some(Cause::Span)
        } else {
            None
        }
    }

    fn describe(&self, history: &History) -> String {
        format!(
            "began after commit {}, writes {}, read keys {}, spans {:?}; written since it began: {}",
            self.begun_at,
            show_keys(self.writes.keys().map(Vec::as_slice)),
            show_keys(self.read_keys.iter().map(Vec::as_slice)),
            self.spans,
            show_keys(history.written_since(self.begun_at)),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// How often the interesting outcomes came up over all cases, to check that the generator
/// reaches them (a test of the rules that never sees a conflict proves nothing).
#[derive(Default)]
struct Tally {
    committed_writers: Cell<u32>,
    write_conflicts: Cell<u32>,
    read_key_conflicts: Cell<u32>,
    /// Conflicts only a covered span explains.
    span_conflicts: Cell<u32>,
    /// Snapshot transactions that committed although a key they read or scanned changed since
    /// they began (write skew is allowed).
    write_skews: Cell<u32>,
    /// Serializable commits that went through although a commit since they began wrote a key in
    /// a range they scanned, outside the span the iterator reached.
    beyond_span_commits: Cell<u32>,
    cases_with_merges: Cell<u32>,
}

fn bump(counter: &Cell<u32>) {
    counter.set(counter.get() + 1);
}

fn open_db(path: &Path, small_memtable: bool) -> lightning_db::Result<Database> {
    let mut options = Options::default();
    // The test is about visibility and conflicts, not durability: skip the fsyncs.
    options.set("sync", "false")?;
    if small_memtable {
        options.set("memtable_size", "64KiB")?;
    }
    Database::open(path, options)
}

/// Compares the whole content of `db`, read both ways and key by key, with `want`.
fn check_content(db: &Database, want: &State, what: &str) -> Outcome {
    let want_entries: Entries = want.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for reverse in [false, true] {
        let range = if reverse {
            Range::all().reverse()
        } else {
            Range::all()
        };
        let mut got: Entries = db
            .iter(range)
            .ctx(|| format!("{what}: iter"))?
            .collect::<lightning_db::Result<_>>()
            .ctx(|| format!("{what}: iterating"))?;
        if reverse {
            got.reverse();
        }
        ensure!(
            got == want_entries,
            "{what}: the database holds {} (read reverse: {reverse}), the model {}",
            show_entries(&got),
            show_entries(&want_entries)
        );
    }
    for key in KEYS {
        let got = db.get(key).ctx(|| format!("{what}: get"))?;
        ensure!(
            got.as_deref() == want.get(key).map(Vec::as_slice),
            "{what}: get {} is {}, the model has {}",
            key.escape_ascii(),
            show_opt(got.as_deref()),
            show_opt(want.get(key).map(Vec::as_slice))
        );
    }
    Ok(())
}

/// Expected counter values, from the outcomes the test saw.
#[derive(Default)]
struct Counts {
    committed: u64,
    rolled_back: u64,
    conflicts: u64,
}

/// A committed serializable transaction that wrote.
struct Serialized {
    txn: usize,
    /// Its place in the history: it made `states[committed_at + 1]`.
    committed_at: usize,
    reads: Vec<Read>,
}

struct Run<'s> {
    schedule: &'s Schedule,
    db: Database,
    history: History,
    open: Vec<Option<Open>>,
    /// How many of its steps each transaction has taken.
    taken: Vec<usize>,
    /// The sequence number each begin saw, by the commits in the history at the time.
    sequences: BTreeMap<usize, u64>,
    serialized: Vec<Serialized>,
    counts: Counts,
    step: usize,
}

impl Run<'_> {
    fn what(&self, txn: usize, op: &str) -> String {
        format!("step {} (T{txn} {op})", self.step)
    }

    fn open_txn(&self, txn: usize) -> &Open {
        self.open[txn]
            .as_ref()
            .expect("a transaction's ops come after its begin")
    }

    fn take_step(&mut self, slot: Slot, tally: &Tally) -> Outcome {
        match slot {
            Slot::Plain(i) => self.plain_write(i),
            Slot::Txn(txn) => {
                let plan = &self.schedule.txns[txn];
                let k = self.taken[txn];
                self.taken[txn] += 1;
                if k == 0 {
                    self.begin(txn)
                } else if let Some(op) = plan.ops.get(k - 1) {
                    self.txn_op(txn, k, op)
                } else {
                    self.end(txn, tally)
                }
            }
        }
    }

    fn plain_write(&mut self, i: usize) -> Outcome {
        let mut writes = Writes::new();
        let what = format!("step {} (P{i})", self.step);
        match &self.schedule.plain_writes[i] {
            PlainWrite::Put(key, size) => {
                let value = make_value(format!("P{i}"), *size);
                self.db.put(key.0, &value).ctx(|| what.clone())?;
                writes.insert(key.0.to_vec(), Some(value));
            }
            PlainWrite::Delete(key) => {
                self.db.delete(key.0).ctx(|| what.clone())?;
                writes.insert(key.0.to_vec(), None);
            }
            PlainWrite::Batch(ops) => {
                let mut batch = WriteBatch::new();
                for (n, (key, size)) in ops.iter().enumerate() {
                    // The last write of a key in a batch wins, as in the map.
                    let value = size.map(|size| make_value(format!("P{i}.{n}"), size));
                    match &value {
                        Some(value) => batch.put(key.0, value),
                        None => batch.delete(key.0),
                    };
                    writes.insert(key.0.to_vec(), value);
                }
                self.db.write(&batch).ctx(|| what.clone())?;
            }
            PlainWrite::Fill => {
                let mut batch = WriteBatch::new();
                for n in 0..FILL_KEYS {
                    let key = format!("f{n:04}").into_bytes();
                    let value = make_value(format!("P{i}.{n}"), ValueSize::Small);
                    batch.put(&key, &value);
                    writes.insert(key, Some(value));
                }
                self.db.write(&batch).ctx(|| what.clone())?;
            }
        }
        self.history.commit(&writes);
        Ok(())
    }

    fn begin(&mut self, txn: usize) -> Outcome {
        let plan = &self.schedule.txns[txn];
        let options = TransactionOptions::new()
            .isolation(plan.isolation)
            .read_only(plan.read_only);
        let handle = self
            .db
            .begin_with(&options)
            .ctx(|| self.what(txn, "begin"))?;
        ensure!(
            handle.isolation() == plan.isolation && handle.is_read_only() == plan.read_only,
            "{}: began as {:?}, read-only {}",
            self.what(txn, "begin"),
            handle.isolation(),
            handle.is_read_only()
        );
        // Snapshots are ordered like the history: the same sequence number exactly when no commit
        // came between two begins.
        let begun_at = self.history.len();
        let sequence = handle.sequence();
        for (&at, &seen) in &self.sequences {
            ensure!(
                at.cmp(&begun_at) == seen.cmp(&sequence),
                "{}: sequence {sequence} after {begun_at} commits, but {seen} after {at}",
                self.what(txn, "begin")
            );
        }
        self.sequences.insert(begun_at, sequence);
        self.open[txn] = Some(Open {
            txn: handle,
            begun_at,
            writes: Writes::new(),
            read_keys: BTreeSet::new(),
            spans: Vec::new(),
            scanned: Vec::new(),
            live: Vec::new(),
            reads: Vec::new(),
        });
        Ok(())
    }

    fn txn_op(&mut self, txn: usize, k: usize, op: &TxnOp) -> Outcome {
        let what = self.what(txn, &format!("{op:?}"));
        let open = self.open_txn(txn);
        let snapshot = &self.history.states[open.begun_at];
        match op {
            TxnOp::Get(key) => {
                let got = open.txn.get(key.0).ctx(|| what.clone())?;
                let want = match open.writes.get(key.0) {
                    Some(own) => own.clone(),
                    None => snapshot.get(key.0).cloned(),
                };
                ensure!(
                    got == want,
                    "{what}: got {}, the model has {} ({})",
                    show_opt(got.as_deref()),
                    show_opt(want.as_deref()),
                    open.describe(&self.history)
                );
                let open = self.open[txn].as_mut().expect("open");
                // Reading its own write is not tracked: no other commit can change it.
                if !open.writes.contains_key(key.0) {
                    open.read_keys.insert(key.0.to_vec());
                }
                let own_writes = open.writes.clone();
                open.reads.push(Read::Get {
                    key: key.0.to_vec(),
                    own_writes,
                    got,
                });
            }
            TxnOp::Put(key, size) => {
                let value = make_value(format!("T{txn}.{k}"), *size);
                let result = open.txn.put(key.0, &value);
                self.record_write(txn, &what, result, *key, Some(value))?;
            }
            TxnOp::Delete(key) => {
                let result = open.txn.delete(key.0);
                self.record_write(txn, &what, result, *key, None)?;
            }
            TxnOp::Scan(scan) => {
                let view = overlay(snapshot, &open.writes);
                let (want, span) = model_scan(&view, scan);
                let mut iter = open.txn.iter(scan.range.range(scan.reverse));
                if let Some(seek) = scan.seek {
                    iter.seek(seek.0).ctx(|| format!("{what}: seek"))?;
                }
                let got: Entries = iter
                    .take(scan.limit.unwrap_or(usize::MAX))
                    .collect::<lightning_db::Result<_>>()
                    .ctx(|| what.clone())?;
                ensure!(
                    got == want,
                    "{what}: returned {}, the model has {} ({})",
                    show_entries(&got),
                    show_entries(&want),
                    open.describe(&self.history)
                );
                let open = self.open[txn].as_mut().expect("open");
                open.spans.extend(span);
                open.scanned.push(scan.range.clone());
                let own_writes = open.writes.clone();
                open.reads.push(Read::Scan {
                    scan: scan.clone(),
                    own_writes,
                    got,
                });
            }
            TxnOp::IterOpen(range, reverse) => {
                let iter = open.txn.iter(range.range(*reverse));
                let open = self.open[txn].as_mut().expect("open");
                open.scanned.push(range.clone());
                open.live.push(LiveIter {
                    iter,
                    range: range.clone(),
                    reverse: *reverse,
                    position: LivePosition::Unstarted,
                    span: None,
                });
            }
            TxnOp::IterNext(count) => {
                for _ in 0..*count {
                    self.live_next(txn, &what)?;
                }
            }
        }
        Ok(())
    }

    /// Checks the `result` of a write, and adds it to the transaction's writes if it succeeded.
    fn record_write(
        &mut self,
        txn: usize,
        what: &str,
        result: lightning_db::Result<()>,
        key: Key,
        value: Option<Vec<u8>>,
    ) -> Outcome {
        if self.schedule.txns[txn].read_only {
            let code = result.err().map(|e| e.code());
            ensure!(
                code == Some(ErrorCode::ReadOnly),
                "{what}: a write in a read-only transaction returned {code:?}, not READ_ONLY"
            );
        } else {
            result.ctx(|| what.to_string())?;
            let open = self.open[txn].as_mut().expect("open");
            open.writes.insert(key.0.to_vec(), value);
        }
        Ok(())
    }

    /// Moves the transaction's last opened iterator one entry on, in the model and for real.
    fn live_next(&mut self, txn: usize, what: &str) -> Outcome {
        let history = &self.history;
        let open = self.open[txn].as_mut().expect("open");
        let view = overlay(&history.states[open.begun_at], &open.writes);
        let Some(live) = open.live.last_mut() else {
            return Ok(());
        };
        let after = match &live.position {
            LivePosition::Done => {
                let got = live.iter.next().transpose().ctx(|| what.to_string())?;
                ensure!(
                    got.is_none(),
                    "{what}: an iterator returned {} after its end",
                    show_entries(&got.into_iter().collect::<Entries>())
                );
                return Ok(());
            }
            LivePosition::Unstarted => None,
            LivePosition::At(key) => Some(key.clone()),
        };
        let want = model_next(&view, &live.range, live.reverse, after.as_deref());
        let got = live.iter.next().transpose().ctx(|| what.to_string())?;
        ensure!(
            got == want,
            "{what}: a live iterator over {:?} (reverse: {}) after {} returned {}, the model has {} \
             (its view: {})",
            live.range,
            live.reverse,
            show_opt(after.as_deref()),
            show_entries(&got.iter().cloned().collect::<Entries>()),
            show_entries(&want.iter().cloned().collect::<Entries>()),
            show_entries(
                &view
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Entries>()
            )
        );
        // It covers everything from where it started to where it is now (or the range bound, once
        // it ran off the end).
        let farthest = match &got {
            Some((key, _)) => Bound::Included(key.clone()),
            None => end_bound(&live.range, live.reverse),
        };
        let span = Span::walked(
            iter_origin(&live.range, live.reverse),
            farthest,
            live.reverse,
        );
        match live.span {
            Some(i) => open.spans[i] = span,
            None => {
                live.span = Some(open.spans.len());
                open.spans.push(span);
            }
        }
        live.position = match &got {
            Some((key, _)) => LivePosition::At(key.clone()),
            None => LivePosition::Done,
        };
        let read = Read::Next {
            range: live.range.clone(),
            reverse: live.reverse,
            after,
            own_writes: open.writes.clone(),
            got,
        };
        open.reads.push(read);
        Ok(())
    }

    fn end(&mut self, txn: usize, tally: &Tally) -> Outcome {
        let plan = &self.schedule.txns[txn];
        let open = self.open[txn]
            .take()
            .expect("an ending comes after the begin");
        if plan.ending == Ending::Rollback {
            open.txn.rollback();
            self.counts.rolled_back += 1;
            return Ok(());
        }
        let what = self.what(txn, "commit");
        let expected = if plan.read_only {
            // Not tracked at all: it reads one snapshot and cannot write.
            None
        } else {
            open.conflict(&self.history, plan.isolation)
        };
        let described = open.describe(&self.history);
        let commit_shows_precision = self.commit_shows_precision(&open, plan.isolation);
        match (open.txn.commit(), expected) {
            (Ok(()), None) => {
                self.counts.committed += 1;
                if !open.writes.is_empty() {
                    bump(&tally.committed_writers);
                    match commit_shows_precision {
                        Some(Isolation::Snapshot) => bump(&tally.write_skews),
                        Some(Isolation::Serializable) => bump(&tally.beyond_span_commits),
                        None => {}
                    }
                    if plan.isolation == Isolation::Serializable {
                        // A transaction without writes serializes at its begin, not its commit.
                        self.serialized.push(Serialized {
                            txn,
                            committed_at: self.history.len(),
                            reads: open.reads,
                        });
                    }
                    self.history.commit(&open.writes);
                }
            }
            (Err(e), Some(cause)) if e.code() == ErrorCode::Conflict => {
                self.counts.conflicts += 1;
                self.counts.rolled_back += 1;
                bump(match cause {
                    Cause::Write => &tally.write_conflicts,
                    Cause::ReadKey => &tally.read_key_conflicts,
                    Cause::Span => &tally.span_conflicts,
                });
            }
            (Ok(()), Some(cause)) => {
                return Err(TestCaseError::fail(format!(
                    "{what}: committed, but the rule says it conflicts ({cause:?}; {described})"
                )))
            }
            (Err(e), None) => {
                return Err(TestCaseError::fail(format!(
                    "{what}: failed with {e}, but the rule says it commits ({:?}, {described})",
                    plan.isolation
                )))
            }
            (Err(e), Some(cause)) => {
                return Err(TestCaseError::fail(format!(
                    "{what}: failed with {e}, not CONFLICT ({cause:?}; {described})"
                )))
            }
        }
        Ok(())
    }

    /// If the commit goes through, whether it shows that the rule for `isolation` is not
    /// stricter than it says: under snapshot isolation, a key it read changed since it began
    /// (write skew is allowed); serializable, a key changed in a range it scanned, but beyond the
    /// span its iterator reached.
    fn commit_shows_precision(&self, open: &Open, isolation: Isolation) -> Option<Isolation> {
        let shows = match isolation {
            Isolation::Snapshot => open.would_conflict(&self.history).is_some(),
            Isolation::Serializable => {
                let written = self.history.written_since(open.begun_at);
                open.scanned
                    .iter()
                    .any(|range| written.iter().any(|k| range.contains(k)))
            }
        };
        shows.then_some(isolation)
    }

    /// Each committed serializable transaction's reads return the same at its commit point.
    fn check_serializable(&self) -> Outcome {
        for Serialized {
            txn,
            committed_at: at,
            reads,
        } in &self.serialized
        {
            let state = &self.history.states[*at];
            for read in reads {
                let again = read.evaluate(state);
                ensure!(
                    again == read.got(),
                    "T{txn} committed as commit {at} but its read {} returned {:?}, and {:?} just \
                     before its commit: not serializable in commit order",
                    read.describe(),
                    read.got(),
                    again
                );
            }
        }
        Ok(())
    }

    fn check_counters(&self) -> Outcome {
        let stats = self.db.stats();
        ensure!(
            stats.open_transactions == 0,
            "{} transactions open after the schedule",
            stats.open_transactions
        );
        let (got, want) = (
            (
                stats.transactions_committed,
                stats.transactions_rolled_back,
                stats.transaction_conflicts,
            ),
            (
                self.counts.committed,
                self.counts.rolled_back,
                self.counts.conflicts,
            ),
        );
        ensure!(
            got == want,
            "(committed, rolled back, conflicts) are {got:?} in stats, {want:?} by the outcomes"
        );
        Ok(())
    }
}

fn run_schedule(schedule: &Schedule, tally: &Tally) -> Outcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db");
    let db = open_db(&path, schedule.small_memtable).ctx(|| "open".to_string())?;
    let n = schedule.txns.len();
    let mut run = Run {
        schedule,
        db,
        history: History::new(),
        open: (0..n).map(|_| None).collect(),
        taken: vec![0; n],
        sequences: BTreeMap::new(),
        serialized: Vec::new(),
        counts: Counts::default(),
        step: 0,
    };
    for (step, &slot) in schedule.order.iter().enumerate() {
        run.step = step;
        run.take_step(slot, tally)?;
    }
    // The transactions left open roll back when dropped.
    for open in run.open.iter_mut() {
        if open.take().is_some() {
            run.counts.rolled_back += 1;
        }
    }
    run.check_counters()?;
    if run.db.stats().merges > 0 {
        bump(&tally.cases_with_merges);
    }
    run.check_serializable()?;
    check_content(&run.db, run.history.last(), "after the schedule")?;
    if schedule.reopen {
        run.db.close().ctx(|| "close".to_string())?;
        let db = open_db(&path, schedule.small_memtable).ctx(|| "reopen".to_string())?;
        check_content(&db, run.history.last(), "after reopening")?;
        // A transaction after the reopen reads the same, and can commit.
        let txn = db
            .begin_with(&TransactionOptions::new().isolation(Isolation::Serializable))
            .ctx(|| "begin after reopening".to_string())?;
        let got: Entries = txn
            .iter(Range::all())
            .collect::<lightning_db::Result<_>>()
            .ctx(|| "scan after reopening".to_string())?;
        let want: Entries = run
            .history
            .last()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ensure!(
            got == want,
            "a transaction after reopening reads {}, the model has {}",
            show_entries(&got),
            show_entries(&want)
        );
        txn.put(b"after-reopen", b"1")
            .ctx(|| "put after reopening".to_string())?;
        txn.commit().ctx(|| "commit after reopening".to_string())?;
        db.close().ctx(|| "close after reopening".to_string())?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The test

/// Random schedules of 2 to 5 transactions and plain writes, every step checked against the model.
#[test]
fn interleaved_transactions_follow_the_rules() {
    let config = proptest_config(500);
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let tally = Tally::default();
    if let Err(e) = runner.run(&schedule(), |schedule| run_schedule(&schedule, &tally)) {
        panic!("{e}");
    }
    // The generator must reach every kind of outcome, or the checks above prove little. The rarest
    // comes up about once in 30 cases: a few hundred make missing it practically impossible.
    if cases < 300 {
        return;
    }
    let reached = [
        ("commits with writes", &tally.committed_writers),
        ("write-write conflicts", &tally.write_conflicts),
        (
            "conflicts on a key read with get",
            &tally.read_key_conflicts,
        ),
        (
            "conflicts only inside an iterator's span",
            &tally.span_conflicts,
        ),
        (
            "snapshot commits despite a changed read",
            &tally.write_skews,
        ),
        (
            "serializable commits despite a write in a scanned range beyond the span",
            &tally.beyond_span_commits,
        ),
        ("cases with background merges", &tally.cases_with_merges),
    ];
    for (what, count) in reached {
        assert!(count.get() > 0, "no case had {what}");
    }
}
