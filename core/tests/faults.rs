//! Fault injection through the public API (DESIGN §2 "Storage trait", §3, §6):
//!
//! - power loss at every storage operation of a write–merge–reopen scenario, with every way
//!   [`PowerLoss`] can treat unsynced writes (also with 16 KiB pages, and with pages read through
//!   a memory map), and a second power loss at every operation of the recovery that follows;
//! - an I/O error (EIO, ENOSPC, a panic; once, or sticky with pages read through a memory map) at
//!   every storage operation of the same scenario;
//! - flipped bytes in WAL records (open and sealed segments) and in page-file pages (leaf, branch,
//!   overflow, freelist, meta), through [`FaultyStorage`] and through the real file system with
//!   mmap.
//!
//! After every fault the database must reopen (once the fault is gone) to a prefix of the committed
//! history that holds every acknowledged durable batch, with no partial batch, and `verify()` clean;
//! corruption must come back as `CORRUPTION` naming the file, never as wrong data or a panic.
//!
//! One batch of the scenario is written through a bulk load, so every fault also lands inside
//! one.
//!
//! `LIGHTNING_FAULT_SEEDS=n` runs the power-loss sweeps with `n` random seeds (default 8).

mod common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex, Once};

use common::bytes::{show, show_opt};
use common::format::masked_crc;
use lightning_db::storage::{FaultKind, FaultyStorage, PowerLoss};
use lightning_db::{
    Compression, Database, Durability, Encryption, Error, ErrorCode, Options, Range, Secret,
    WriteBatch,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

const DIR: &str = "/db";
const PAGE: usize = 4096;

// ---------------------------------------------------------------------------------------------
// Panics on the merge thread: `Database::close` ignores a failed join, so record them here.

static BACKGROUND_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn watch_background_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic the fault-injecting storage raised on purpose: the engine catches it and
            // records an INTERNAL failure, which the sweep checks. Not worth a backtrace.
            if info.to_string().contains("injected panic") {
                return;
            }
            if std::thread::current().name() == Some("lightning-merge") {
                BACKGROUND_PANICS.lock().unwrap().push(info.to_string());
            }
            previous(info);
        }));
    });
}

fn assert_no_background_panics() {
    let panics = BACKGROUND_PANICS.lock().unwrap();
    assert!(
        panics.is_empty(),
        "the merge thread panicked: {:?}",
        &panics[..]
    );
}

// ---------------------------------------------------------------------------------------------
// The scenario: batches (sync and buffered, puts and deletes, overflow values, a long key),
// flushes, an explicit sync, a reopen, reads, a verify, writes that fill the memtable and so
// start a background merge, and a final close.

#[derive(Clone)]
struct Batch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    durability: Durability,
}

impl Batch {
    fn to_write_batch(&self) -> WriteBatch {
        let mut b = WriteBatch::new();
        for (k, v) in &self.ops {
            match v {
                Some(v) => b.put(k, v),
                None => b.delete(k),
            };
        }
        b
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Write(usize),
    Flush,
    Sync,
    /// `close()` then open again.
    Reopen,
    Get(usize),
    Scan,
    Verify,
    /// Takes a snapshot, kept until `DropSnapshot`: merges must not reuse the pages it reads.
    Snapshot,
    /// Reads the whole snapshot: it must still show the state it was taken at.
    CheckSnapshot,
    DropSnapshot,
    /// `compact()`: merges, moves the tree out of the file's tail, cuts the file.
    Compact,
    /// Writes batch `i` (sorted puts) through a bulk load.
    Load(usize),
    Close,
}

struct Scenario {
    steps: Vec<Step>,
    batches: Vec<Batch>,
    /// `states[i]`: the content after `batches[..i]`.
    states: Vec<State>,
    /// Every key the scenario touches.
    keys: Vec<Vec<u8>>,
}

fn key(i: usize) -> Vec<u8> {
    format!("key{i:03}").into_bytes()
}

fn value(batch: usize, op: usize, len: usize) -> Vec<u8> {
    let mut v = format!("b{batch}.{op}:").into_bytes();
    let mut x = (batch * 31 + op * 7) as u8;
    while v.len() < len {
        v.push(x);
        x = x.wrapping_mul(13).wrapping_add(7);
    }
    v
}

/// Batch `i`: 1–4 ops on distinct keys out of 40, some deletes, now and then an overflow value;
/// `big` batches carry a 12000-byte value so a few of them fill a 64 KiB memtable.
fn make_batch(i: usize, big: bool) -> Batch {
    if i == DELETE_BIG {
        // Deletes the keys the big batches wrote: their overflow pages become free.
        return Batch {
            ops: BIG.map(|b| (key(b * 7 % 40), None)).collect(),
            durability: Durability::Buffered,
        };
    }
    let mut ops = Vec::new();
    for j in 0..1 + i % 4 {
        let k = key((i * 7 + j * 13) % 40);
        if (i + j) % 5 == 4 {
            ops.push((k, None));
            continue;
        }
        let len = if big && j == 0 {
            12_000
        } else if i % 7 == 3 && j == 0 {
            3000
        } else {
            20 + (i * 5 + j * 11) % 50
        };
        ops.push((k, Some(value(i, j, len))));
    }
    if i == 10 || i == 27 {
        // A key long enough to go to overflow pages.
        let mut long = vec![b'L'; 600];
        long.extend_from_slice(format!("{i}").as_bytes());
        ops.push((long, Some(value(i, 9, 30))));
    }
    Batch {
        ops,
        durability: if i % 3 == 1 {
            Durability::Buffered
        } else {
            Durability::Sync
        },
    }
}

/// Batch `i` for a bulk load: puts of every third key in order, one with an overflow value.
fn make_load(i: usize) -> Batch {
    let ops = (i % 3..40)
        .step_by(3)
        .enumerate()
        .map(|(j, k)| {
            let len = if j == 4 { 5000 } else { 40 + j };
            (key(k), Some(value(i, j, len)))
        })
        .collect();
    Batch {
        ops,
        durability: Durability::Sync,
    }
}

/// The batch written through a bulk load.
const LOAD: usize = 33;

/// The batches with 12000-byte values, and the batch that deletes them again.
const BIG: std::ops::Range<usize> = 22..30;
const DELETE_BIG: usize = 36;

fn scenario() -> Scenario {
    use Step::*;
    let mut steps = Vec::new();
    let mut batches = Vec::new();
    let mut writes = |steps: &mut Vec<Step>, range: std::ops::Range<usize>, big: bool| {
        for i in range {
            assert_eq!(batches.len(), i);
            if i == LOAD {
                batches.push(make_load(i));
                steps.push(Load(i));
            } else {
                batches.push(make_batch(i, big));
                steps.push(Write(i));
            }
        }
    };
    writes(&mut steps, 0..6, false);
    steps.extend([Get(3), Scan, Flush]);
    writes(&mut steps, 6..12, false);
    steps.push(Sync);
    writes(&mut steps, 12..16, false);
    steps.push(Reopen);
    writes(&mut steps, 16..22, false);
    steps.extend([Get(7), Verify, Snapshot]);
    writes(&mut steps, BIG, true);
    steps.extend([Flush, CheckSnapshot]);
    writes(&mut steps, 30..DELETE_BIG + 1, false);
    steps.extend([Flush, Compact, CheckSnapshot, DropSnapshot, Compact]);
    writes(&mut steps, DELETE_BIG + 1..40, false);
    steps.extend([Scan, Close]);

    let mut states = vec![State::new()];
    let mut keys: Vec<Vec<u8>> = (0..40).map(key).collect();
    for b in &batches {
        let mut s = states.last().unwrap().clone();
        for (k, v) in &b.ops {
            match v {
                Some(v) => s.insert(k.clone(), v.clone()),
                None => s.remove(k),
            };
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        states.push(s);
    }
    Scenario {
        steps,
        batches,
        states,
        keys,
    }
}

/// Small memtable (the minimum) and a small cache, so reads reach the storage.
fn fault_options(mmap: bool) -> Options {
    Options {
        memtable_size: 64 << 10,
        cache_size: 16 << 10,
        mmap,
        ..Options::default()
    }
}

fn open(storage: &FaultyStorage, options: &Options) -> lightning_db::Result<Database> {
    Database::open_with_storage(DIR, options.clone(), Arc::new(storage.clone()))
}

fn read_state(db: &Database) -> lightning_db::Result<State> {
    db.iter(Range::all())?.collect()
}

/// What a run of the scenario did before it stopped.
#[derive(Default, Debug)]
struct Run {
    /// Batches acknowledged (`batches[..n_ok]`).
    n_ok: usize,
    /// A batch whose write failed: it may or may not be there.
    pending: Option<usize>,
    /// Batches known durable: covered by a `Sync` write, `sync()`, `flush()` or `close()` that
    /// succeeded.
    durable: usize,
    /// Every error an API call returned, with the step.
    errors: Vec<(String, Error)>,
    /// Reads that returned wrong data.
    wrong: Vec<String>,
}

/// Runs the scenario until it ends or a write, flush, sync, close or open fails (reads that fail
/// are recorded and the run goes on). Returns the handle if it is still open, so the caller can
/// cut the power before the handle's drop closes it.
fn run(storage: &FaultyStorage, sc: &Scenario, options: &Options) -> (Run, Option<Database>) {
    let mut r = Run::default();
    let mut snapshot: Option<(lightning_db::Snapshot, usize)> = None;
    let mut db = match open(storage, options) {
        Ok(db) => db,
        Err(e) => {
            r.errors.push(("open".into(), e));
            return (r, None);
        }
    };
    for (s, &step) in sc.steps.iter().enumerate() {
        let what = format!("step {s} ({step:?})");
        match step {
            Step::Write(i) => {
                assert_eq!(i, r.n_ok);
                let b = &sc.batches[i];
                match db.write_with(&b.to_write_batch(), b.durability) {
                    Ok(()) => {
                        r.n_ok += 1;
                        if b.durability == Durability::Sync {
                            r.durable = r.n_ok;
                        }
                    }
                    Err(e) => {
                        r.pending = Some(i);
                        r.errors.push((what, e));
                        return (r, Some(db));
                    }
                }
            }
            Step::Load(i) => {
                assert_eq!(i, r.n_ok);
                let result = db.bulk_load().and_then(|mut load| {
                    for (k, v) in &sc.batches[i].ops {
                        load.put(k, v.as_deref().expect("a load only puts"))?;
                    }
                    load.commit()
                });
                match result {
                    Ok(()) => {
                        r.n_ok += 1;
                        r.durable = r.n_ok;
                    }
                    Err(e) => {
                        r.pending = Some(i);
                        r.errors.push((what, e));
                        return (r, Some(db));
                    }
                }
            }
            Step::Flush | Step::Sync | Step::Compact => {
                let result = match step {
                    Step::Flush => db.flush(),
                    Step::Compact => db.compact().map(|_| ()),
                    _ => db.sync(),
                };
                match result {
                    Ok(()) => r.durable = r.n_ok,
                    Err(e) => {
                        r.errors.push((what, e));
                        return (r, Some(db));
                    }
                }
            }
            Step::Reopen | Step::Close => {
                assert!(snapshot.is_none(), "a snapshot would keep the LOCK");
                if let Err(e) = db.close() {
                    r.errors.push((format!("{what}: close"), e));
                    return (r, None);
                }
                r.durable = r.n_ok;
                if let Step::Close = step {
                    return (r, None);
                }
                db = match open(storage, options) {
                    Ok(db) => db,
                    Err(e) => {
                        r.errors.push((format!("{what}: open"), e));
                        return (r, None);
                    }
                };
            }
            Step::Get(k) => {
                let k = &sc.keys[k];
                match db.get(k) {
                    Ok(v) => {
                        if v.as_ref() != sc.states[r.n_ok].get(k) {
                            r.wrong.push(format!(
                                "{what}: get {} returned {}",
                                show(k),
                                show_opt(v.as_deref())
                            ));
                        }
                    }
                    Err(e) => r.errors.push((what, e)),
                }
            }
            Step::Scan => match read_state(&db) {
                Ok(state) => {
                    if state != sc.states[r.n_ok] {
                        r.wrong.push(format!(
                            "{what}: scan differs from the model: {}",
                            diff(&sc.states[r.n_ok], &state)
                        ));
                    }
                }
                Err(e) => r.errors.push((what, e)),
            },
            Step::Verify => {
                if let Err(e) = db.verify() {
                    r.errors.push((what, e));
                }
            }
            Step::Snapshot => match db.snapshot() {
                Ok(snap) => snapshot = Some((snap, r.n_ok)),
                Err(e) => r.errors.push((what, e)),
            },
            Step::CheckSnapshot => {
                if let Some((snap, at)) = &snapshot {
                    match snap
                        .iter(Range::all())
                        .collect::<lightning_db::Result<State>>()
                    {
                        Ok(state) => {
                            if state != sc.states[*at] {
                                r.wrong.push(format!(
                                    "{what}: snapshot after {at} batches changed: {}",
                                    diff(&sc.states[*at], &state)
                                ));
                            }
                        }
                        Err(e) => r.errors.push((what, e)),
                    }
                }
            }
            Step::DropSnapshot => snapshot = None,
        }
    }
    (r, Some(db))
}

/// The keys on which `got` differs from `want`.
fn diff(want: &State, got: &State) -> String {
    let mut out = Vec::new();
    for (k, v) in want {
        match got.get(k) {
            None => out.push(format!("{} missing", show(k))),
            Some(g) if g != v => out.push(format!("{} = {} (want {})", show(k), show(g), show(v))),
            _ => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        out.push(format!("{} unexpected", show(k)));
    }
    out.truncate(8);
    out.join(", ")
}

/// Every error a run saw must have `code`.
fn check_codes(r: &Run, code: ErrorCode) -> Result<(), String> {
    if let Some((what, e)) = r.errors.iter().find(|(_, e)| e.code() != code) {
        return Err(format!("{what}: expected {code}, got {e}"));
    }
    if let Some(w) = r.wrong.first() {
        return Err(format!("wrong data: {w}"));
    }
    Ok(())
}

/// Reopens with faults cleared and checks what survived: a prefix of the history holding every
/// batch known durable (every acknowledged batch if the power stayed on), the failed batch whole
/// or absent, the same through `get`, `verify()` clean; then that the database takes a write and
/// closes and reopens cleanly.
fn check_recovered(
    storage: &FaultyStorage,
    sc: &Scenario,
    options: &Options,
    r: &Run,
    lost_power: bool,
) -> Result<(), String> {
    storage.clear_faults();
    let db = open(storage, options).map_err(|e| format!("reopen failed: {e}"))?;
    let got = read_state(&db).map_err(|e| format!("scan after reopen failed: {e}"))?;
    let floor = if lost_power { r.durable } else { r.n_ok };
    let prefix_ok = (floor..=r.n_ok).any(|p| sc.states[p] == got);
    let pending_ok = r.pending.is_some_and(|i| sc.states[i + 1] == got);
    if !prefix_ok && !pending_ok {
        let matching = (0..sc.states.len()).rev().find(|&p| sc.states[p] == got);
        return Err(match matching {
            Some(p) => format!(
                "recovered the state after {p} batches, but {floor} were durable \
                 ({} acknowledged, pending {:?})",
                r.n_ok, r.pending
            ),
            None => format!(
                "recovered state is no prefix of the history (durable {floor}, acknowledged {}, \
                 pending {:?}); against the acknowledged state: {}",
                r.n_ok,
                r.pending,
                diff(&sc.states[r.n_ok], &got)
            ),
        });
    }
    for k in &sc.keys {
        let v = db
            .get(k)
            .map_err(|e| format!("get {} after reopen: {e}", show(k)))?;
        if v.as_ref() != got.get(k) {
            return Err(format!(
                "get {} after reopen disagrees with the scan",
                show(k)
            ));
        }
    }
    db.verify()
        .map_err(|e| format!("verify after reopen: {e}"))?;
    db.put(b"zz-after", b"recovered")
        .map_err(|e| format!("write after reopen: {e}"))?;
    db.close().map_err(|e| format!("close after reopen: {e}"))?;

    let db = open(storage, options).map_err(|e| format!("second reopen failed: {e}"))?;
    let mut want = got;
    want.insert(b"zz-after".to_vec(), b"recovered".to_vec());
    let again = read_state(&db).map_err(|e| format!("scan after second reopen: {e}"))?;
    if again != want {
        return Err(format!("second reopen differs: {}", diff(&want, &again)));
    }
    db.verify()
        .map_err(|e| format!("verify after second reopen: {e}"))?;
    db.close()
        .map_err(|e| format!("close after second reopen: {e}"))?;
    Ok(())
}

/// Runs `case` for each item, catching panics; fails with a summary of every failing case.
fn sweep<T: std::fmt::Debug>(
    name: &str,
    cases: impl IntoIterator<Item = T>,
    mut case: impl FnMut(&T) -> Result<(), String>,
) {
    watch_background_panics();
    let start = std::time::Instant::now();
    let mut count = 0;
    let mut failures = Vec::new();
    for c in cases {
        count += 1;
        let result = catch_unwind(AssertUnwindSafe(|| case(&c))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        });
        if let Err(e) = result {
            failures.push(format!("{c:?}: {e}"));
        }
    }
    eprintln!(
        "{name}: {count} cases in {:.1?}, {} failed",
        start.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{name}: {} of {count} cases failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_no_background_panics();
}

/// Runs the scenario without faults: it must succeed. Returns its number of storage operations.
fn count_ops(sc: &Scenario, options: &Options) -> u64 {
    let storage = FaultyStorage::new();
    let (r, db) = run(&storage, sc, options);
    assert!(db.is_none());
    assert!(r.errors.is_empty(), "clean run failed: {:?}", r.errors);
    assert!(
        r.wrong.is_empty(),
        "clean run read wrong data: {:?}",
        r.wrong
    );
    assert_eq!(r.n_ok, sc.batches.len());
    let ops = storage.op_count();
    check_recovered(&storage, sc, options, &r, false).unwrap();
    ops
}

// ---------------------------------------------------------------------------------------------
// Power loss at every operation.

fn random_seeds() -> u64 {
    std::env::var("LIGHTNING_FAULT_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8)
}

/// Cuts the power at every operation `k` of the scenario: operations from `k` on fail (sticky
/// EIO), then `power_loss(mode)` decides what of the unsynced writes survived; only then is the
/// handle dropped (its close runs on stale handles and achieves nothing).
fn power_loss_sweep(name: &str, modes: &[PowerLoss]) {
    power_loss_sweep_with(name, modes, &fault_options(false));
}

fn power_loss_sweep_with(name: &str, modes: &[PowerLoss], options: &Options) {
    let sc = scenario();
    let options = options.clone();
    let total = count_ops(&sc, &options);
    let cases = (0..=total).flat_map(|k| modes.iter().map(move |&m| (k, m)));
    sweep(name, cases, |&(k, mode)| {
        let storage = FaultyStorage::new();
        storage.fail_op(k, FaultKind::Eio, true);
        let (r, db) = run(&storage, &sc, &options);
        storage.power_loss(mode);
        drop(db);
        check_codes(&r, ErrorCode::Io)?;
        check_recovered(&storage, &sc, &options, &r, true)
            .map_err(|e| format!("{e} [errors: {:?}]", first_error(&r)))
    });
}

fn first_error(r: &Run) -> Option<String> {
    r.errors.first().map(|(w, e)| format!("{w}: {e}"))
}

#[test]
fn power_loss_drop_all_at_every_operation() {
    power_loss_sweep("power loss DropAll", &[PowerLoss::DropAll]);
}

#[test]
fn power_loss_keep_all_at_every_operation() {
    // Pages read through a memory map of the file (FaultyStorage's maps are live).
    power_loss_sweep_with(
        "power loss KeepAll, mmap",
        &[PowerLoss::KeepAll],
        &fault_options(true),
    );
}

#[test]
fn power_loss_random_at_every_operation() {
    // Half the seeds with pages read through a memory map, half through `pread`.
    for mmap in [false, true] {
        let modes: Vec<PowerLoss> = (0..random_seeds())
            .filter(|seed| (seed % 2 == 1) == mmap)
            .map(|seed| PowerLoss::Random { seed })
            .collect();
        let name = format!("power loss Random, mmap {mmap}");
        power_loss_sweep_with(&name, &modes, &fault_options(mmap));
    }
}

#[test]
fn power_loss_with_16k_pages_at_every_operation() {
    let options = Options {
        page_size: 16384,
        ..fault_options(false)
    };
    let modes = [
        PowerLoss::DropAll,
        PowerLoss::Random { seed: 100 },
        PowerLoss::Random { seed: 101 },
    ];
    power_loss_sweep_with("power loss, 16 KiB pages", &modes, &options);
}

#[test]
fn power_loss_with_compression_at_every_operation() {
    for (compression, encryption) in [
        (Compression::Lz4, Encryption::None),
        (Compression::Zstd, Encryption::None),
        (Compression::Auto, Encryption::None),
        (Compression::Zstd, Encryption::Aes256Gcm),
        (Compression::None, Encryption::ChaCha20Poly1305),
    ] {
        let options = Options {
            compression,
            encryption,
            encryption_key: Secret::new(if encryption == Encryption::None {
                ""
            } else {
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            }),
            ..fault_options(false)
        };
        let modes = [PowerLoss::DropAll, PowerLoss::Random { seed: 200 }];
        let name = format!(
            "power loss, compression {}, encryption {}",
            compression.name(),
            encryption.name()
        );
        power_loss_sweep_with(&name, &modes, &options);
    }
}

/// What a recovery (open, one sync write, close) did before a fault stopped it.
struct Recovery {
    /// The write was acknowledged, or it failed (so it may or may not be there).
    extra_acked: bool,
    extra_failed: bool,
}

const EXTRA: &[u8] = b"zz-extra";

fn recover(storage: &FaultyStorage, options: &Options) -> (Recovery, Option<Database>) {
    let mut r = Recovery {
        extra_acked: false,
        extra_failed: false,
    };
    let Ok(db) = open(storage, options) else {
        return (r, None);
    };
    match db.put_with(EXTRA, b"1", Durability::Sync) {
        Ok(()) => r.extra_acked = true,
        Err(_) => {
            r.extra_failed = true;
            return (r, Some(db));
        }
    }
    let _ = db.close();
    (r, None)
}

/// A power loss during recovery: after a first power loss at every 5th operation of the scenario,
/// the recovery itself (open, a sync write, close) is cut at each of its operations. Recovering
/// again must give what an undisturbed recovery gives, plus the write if it was acknowledged.
#[test]
fn power_loss_during_recovery() {
    let sc = scenario();
    let options = fault_options(false);
    let total = count_ops(&sc, &options);
    let seeds = random_seeds();
    let cases = (0..=total)
        .step_by(5)
        .flat_map(|k| [PowerLoss::KeepAll, PowerLoss::Random { seed: k }].map(|m| (k, m)));
    sweep("power loss during recovery", cases, |&(k, first)| {
        let crashed = FaultyStorage::new();
        crashed.fail_op(k, FaultKind::Eio, true);
        let (_, db) = run(&crashed, &sc, &options);
        crashed.power_loss(first);
        drop(db);
        crashed.clear_faults();

        // What an undisturbed recovery sees, and how many operations it takes.
        let clean = copy_storage(&crashed);
        let start = clean.op_count();
        let db = open(&clean, &options).map_err(|e| format!("recovery failed: {e}"))?;
        let recovered = read_state(&db).map_err(|e| format!("scan: {e}"))?;
        drop(db);
        let (r, db) = recover(&copy_storage(&crashed), &options);
        assert!(r.extra_acked && db.is_none());
        let recovery_ops = clean.op_count() - start + 40;

        for j in 0..recovery_ops {
            for second in [PowerLoss::DropAll, PowerLoss::Random { seed: j % seeds }] {
                let storage = copy_storage(&crashed);
                storage.fail_op(j, FaultKind::Eio, true);
                let (r, db) = recover(&storage, &options);
                storage.power_loss(second);
                drop(db);
                storage.clear_faults();
                let what = format!("second power loss ({second:?}) at recovery operation {j}");
                let db =
                    open(&storage, &options).map_err(|e| format!("{what}: reopen failed: {e}"))?;
                let mut got = read_state(&db).map_err(|e| format!("{what}: scan: {e}"))?;
                let extra = got.remove(EXTRA);
                if extra.is_none() && r.extra_acked {
                    return Err(format!("{what}: the acknowledged write is lost"));
                }
                if extra.is_some() && !r.extra_acked && !r.extra_failed {
                    return Err(format!("{what}: a write that was never made is there"));
                }
                if got != recovered {
                    return Err(format!(
                        "{what}: recovered differently: {}",
                        diff(&recovered, &got)
                    ));
                }
                db.verify().map_err(|e| format!("{what}: verify: {e}"))?;
                db.close().map_err(|e| format!("{what}: close: {e}"))?;
            }
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// I/O errors at every operation.

/// Fails operation `n` (for every `n`) with `kind`, once or from then on. Every error must carry
/// the fault's code; after the handle is dropped and the fault cleared, the database must reopen
/// to every acknowledged batch (the power stayed on), or, with `then_power_loss`, to at least
/// every durable one after a `DropAll` power loss.
fn io_error_sweep(name: &str, kind: FaultKind, sticky: bool, then_power_loss: bool) {
    let sc = scenario();
    // Sticky faults read pages through a memory map (FaultyStorage's maps are live), faults that
    // strike once through `pread` and the cache, with what they write compressed and encrypted.
    let options = if sticky {
        fault_options(sticky)
    } else {
        Options {
            compression: Compression::Lz4,
            encryption: Encryption::Aes256Gcm,
            encryption_key: Secret::new(
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            ..fault_options(sticky)
        }
    };
    let total = count_ops(&sc, &options);
    let code = match kind {
        FaultKind::Eio => ErrorCode::Io,
        FaultKind::Enospc => ErrorCode::NoSpace,
        FaultKind::Panic => ErrorCode::Internal,
    };
    sweep(name, 0..total, |&n| {
        let storage = FaultyStorage::new();
        storage.fail_op(n, kind, sticky);
        let (r, db) = run(&storage, &sc, &options);
        if then_power_loss {
            storage.power_loss(PowerLoss::DropAll);
        }
        drop(db);
        check_codes(&r, code)?;
        check_recovered(&storage, &sc, &options, &r, then_power_loss)
            .map_err(|e| format!("{e} [errors: {:?}]", first_error(&r)))
    });
}

#[test]
fn eio_once_at_every_operation() {
    io_error_sweep("EIO once", FaultKind::Eio, false, false);
}

#[test]
fn eio_sticky_at_every_operation() {
    io_error_sweep("EIO sticky", FaultKind::Eio, true, false);
}

#[test]
fn enospc_once_at_every_operation() {
    io_error_sweep("ENOSPC once", FaultKind::Enospc, false, false);
}

#[test]
fn enospc_sticky_at_every_operation() {
    io_error_sweep("ENOSPC sticky", FaultKind::Enospc, true, false);
}

/// A panic (a bug) in the commit leader, a freeze, a merge on the merge thread or in `flush`, or
/// in `open`: no writer waits forever, the failure is `INTERNAL` in every later write, and the
/// database reopens to every acknowledged batch. Before, a panicking leader left every writer
/// waiting, and a panicking merge thread died without a word.
#[test]
fn panic_once_at_every_operation() {
    io_error_sweep("panic once", FaultKind::Panic, false, false);
}

#[test]
fn panic_sticky_at_every_operation() {
    io_error_sweep("panic sticky", FaultKind::Panic, true, false);
}

/// Writers on four threads while the commit leader panics: every writer returns (none waits for
/// a leader that will never finish), later writes fail with `INTERNAL`, reads keep working and
/// `stats()` names the panic. Before, the leader flag stayed set and the other writers waited
/// forever.
#[test]
fn a_panicking_commit_leader_wedges_no_writer() {
    watch_background_panics();
    let storage = FaultyStorage::new();
    let db = Arc::new(open(&storage, &fault_options(false)).unwrap());
    db.put(b"before", b"1").unwrap();
    storage.fail_op(20, FaultKind::Panic, false);
    let (done, finished) = std::sync::mpsc::channel();
    let mut writers = Vec::new();
    for t in 0..4u8 {
        let db = db.clone();
        let done = done.clone();
        writers.push(std::thread::spawn(move || {
            let results: Vec<lightning_db::Result<()>> = (0..200u32)
                .map(|i| db.put_with(&[t, (i >> 8) as u8, i as u8], b"v", Durability::Buffered))
                .collect();
            done.send(results).unwrap();
        }));
    }
    let mut codes = Vec::new();
    for _ in 0..4 {
        let results = finished
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a writer is still waiting 30 s after the panic");
        codes.extend(
            results
                .into_iter()
                .filter_map(|r| r.err().map(|e| e.code())),
        );
    }
    assert!(!codes.is_empty(), "the injected panic was never reached");
    assert!(codes.iter().all(|&c| c == ErrorCode::Internal), "{codes:?}");
    let e = db.put(b"after", b"2").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Internal, "{e}");
    assert_eq!(db.get(b"before").unwrap(), Some(b"1".to_vec()));
    let background = db.stats().background_error.expect("the panic is recorded");
    assert!(background.contains("panic"), "{background}");
    // Every writer has answered; wait for their threads to let go of their handles too.
    for writer in writers {
        writer.join().unwrap();
    }
    let db = Arc::try_unwrap(db).expect("the writers let go of the database");
    db.close().expect("close succeeds after a panic");
    storage.clear_faults();
    let db = open(&storage, &fault_options(false)).unwrap();
    assert_eq!(db.get(b"before").unwrap(), Some(b"1".to_vec()));
    db.put(b"after", b"2").unwrap();
    assert_no_background_panics();
}

/// A failed fsync, a reopen without a power cut, more acknowledged writes, then a power cut: no
/// acknowledged write is lost and the history has no hole. The failed fsync lost what it covered
/// (as on Linux, though reads still saw it), so recovery must write the replayed records again
/// before it seals their segment; a sync alone succeeded without them, and the later power cut
/// left a WAL with records missing (CORRUPTION).
#[test]
fn a_failed_fsync_then_reopen_loses_nothing_after_a_power_cut() {
    watch_background_panics();
    let options = fault_options(false);
    let mut failures = Vec::new();
    // The first sync write's operations: the WAL append, then the sync (the one made to fail).
    for fail_at in 0..4u64 {
        let storage = FaultyStorage::new();
        let db = open(&storage, &options).unwrap();
        db.put_with(b"a", b"1", Durability::Sync).unwrap();
        storage.fail_op(fail_at, FaultKind::Eio, false);
        let failed = db.put_with(b"b", b"2", Durability::Sync);
        drop(db);
        storage.clear_faults();
        let db = open(&storage, &options).unwrap();
        let b_visible = db.get(b"b").unwrap().is_some();
        db.put_with(b"c", b"3", Durability::Sync).unwrap();
        // The power goes while the database is open: nothing is merged or closed first.
        storage.power_loss(PowerLoss::DropAll);
        drop(db);
        let what = format!("EIO at operation {fail_at} of the put of b ({failed:?})");
        match open(&storage, &options) {
            Ok(db) => {
                let got = read_state(&db).unwrap();
                let mut want = State::new();
                want.insert(b"a".to_vec(), b"1".to_vec());
                if b_visible {
                    want.insert(b"b".to_vec(), b"2".to_vec());
                }
                want.insert(b"c".to_vec(), b"3".to_vec());
                if got != want {
                    failures.push(format!("{what}: {}", diff(&want, &got)));
                }
            }
            Err(e) => failures.push(format!("{what}: reopen after the power cut: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_no_background_panics();
}

#[test]
fn eio_once_then_power_loss_at_every_operation() {
    io_error_sweep("EIO once + DropAll", FaultKind::Eio, false, true);
}

// ---------------------------------------------------------------------------------------------
// Corruption.

/// Every file of `DIR`: its name and its current bytes.
fn files_of(storage: &FaultyStorage) -> Vec<(String, Vec<u8>)> {
    storage
        .file_names(DIR)
        .into_iter()
        .map(|name| {
            let bytes = storage.read_file(Path::new(DIR).join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// A copy of every file of `DIR` in a new storage, all durable.
fn copy_storage(src: &FaultyStorage) -> FaultyStorage {
    let dst = FaultyStorage::new();
    for (name, bytes) in files_of(src) {
        dst.write_file(Path::new(DIR).join(name), &bytes);
    }
    dst
}

/// Cuts the power (keeping every write) while `db` is open, as a crash of the process would.
/// Every operation fails from then on until the handle is dropped: storage-level operations (a new
/// WAL segment, say) would otherwise still succeed for its close-on-drop.
fn crash(storage: &FaultyStorage, db: Database) {
    storage.fail_op(0, FaultKind::Eio, true);
    storage.power_loss(PowerLoss::KeepAll);
    drop(db);
    storage.clear_faults();
}

fn expect_corruption(result: lightning_db::Result<impl std::fmt::Debug>, file: &str, what: &str) {
    match result {
        Err(e) if e.code() == ErrorCode::Corruption && e.message().contains(file) => {}
        other => panic!("{what}: expected CORRUPTION naming {file}, got {other:?}"),
    }
}

const WAL_1: &str = "wal-0000000000000001.log";

/// A database whose WAL (segment 1) holds `n` synced records of two puts each, cut off by a power
/// loss (so nothing was merged). Returns the storage, the record offsets and the content.
fn wal_database(n: usize) -> (FaultyStorage, Vec<(u64, u64)>, State) {
    let storage = FaultyStorage::new();
    let db = open(&storage, &fault_options(false)).unwrap();
    let mut state = State::new();
    for i in 0..n {
        let mut b = WriteBatch::new();
        for k in [format!("w{i:02}a"), format!("w{i:02}b")] {
            let v = value(i, k.len(), 30 + i);
            b.put(k.as_bytes(), &v);
            state.insert(k.into_bytes(), v);
        }
        db.write_with(&b, Durability::Sync).unwrap();
    }
    crash(&storage, db);
    let wal = storage.read_file(Path::new(DIR).join(WAL_1)).unwrap();
    let mut records = Vec::new();
    let mut off = 32u64;
    while off < wal.len() as u64 {
        let at = off as usize;
        let len = u64::from_le_bytes(wal[at + 8..at + 16].try_into().unwrap());
        // A record with no payload is the sync marker written after each sync.
        if len > 0 {
            records.push((off, len));
        }
        off = (off + 32 + len + 7) & !7;
    }
    assert_eq!(records.len(), n, "one record per batch");
    (storage, records, state)
}

/// A copy of `base` opened just far enough to start a new WAL segment (so the old one is sealed),
/// then crashed before the merge could retire the old one.
fn sealed_copy(base: &FaultyStorage) -> FaultyStorage {
    for n in 0..1000 {
        let storage = copy_storage(base);
        storage.fail_op(n, FaultKind::Eio, true);
        if let Ok(db) = open(&storage, &fault_options(false)) {
            crash(&storage, db);
            return storage;
        }
    }
    panic!("open never succeeded");
}

#[test]
fn flipped_wal_record_before_synced_records_is_corruption() {
    watch_background_panics();
    let (base, records, state) = wal_database(6);
    let wal = Path::new(DIR).join(WAL_1);
    // The undamaged database recovers everything.
    let db = open(&copy_storage(&base), &fault_options(false)).unwrap();
    assert_eq!(read_state(&db).unwrap(), state);
    db.verify().unwrap();
    drop(db);

    // Every record has a synced record or a sync marker after it: damage there is corruption.
    for (j, &(off, len)) in records.iter().enumerate() {
        let fields = [0, 3, 5, 9, 17, 25, 31, 32, 32 + len / 2, 32 + len - 1];
        for field in fields {
            let storage = copy_storage(&base);
            storage.flip_byte(&wal, off + field);
            let what = format!("record {j}, byte {field}");
            expect_corruption(open(&storage, &fault_options(false)), WAL_1, &what);
        }
    }
    // Once a later segment exists, segment 1 is sealed: damage even in its last record is
    // corruption, not a torn tail.
    let sealed = sealed_copy(&base);
    assert!(sealed
        .file_names(DIR)
        .contains(&"wal-0000000000000002.log".to_string()));
    for (j, &(off, len)) in records.iter().enumerate() {
        for field in [0, 9, 32 + len / 2] {
            let storage = copy_storage(&sealed);
            storage.flip_byte(&wal, off + field);
            let what = format!("sealed segment, record {j}, byte {field}");
            expect_corruption(open(&storage, &fault_options(false)), WAL_1, &what);
        }
    }
    // The segment header.
    for at in [0, 9, 13, 17, 25] {
        let storage = copy_storage(&base);
        storage.flip_byte(&wal, at);
        expect_corruption(
            open(&storage, &fault_options(false)),
            WAL_1,
            &format!("segment header byte {at}"),
        );
    }
    assert_no_background_panics();
}

/// Buffered records made durable by a later sync write: damage in one of them, with intact
/// records after it, is corruption too (the sync write was acknowledged). Every record after the
/// damage says only the segment header was synced when it was written; the sync marker written
/// after the fsync is what attests them. Before the markers, recovery dropped the damaged record
/// and everything after it, the acknowledged sync write included, without an error.
#[test]
fn flipped_buffered_wal_record_before_a_sync_record_is_corruption() {
    let storage = FaultyStorage::new();
    let db = open(&storage, &fault_options(false)).unwrap();
    for i in 0..5u8 {
        db.put_with(&[b'b', i], &[i; 50], Durability::Buffered)
            .unwrap();
    }
    db.put_with(b"synced", b"yes", Durability::Sync).unwrap();
    crash(&storage, db);
    // Record 1 starts after the header and record 0; flip a payload byte of it.
    let wal = Path::new(DIR).join(WAL_1);
    let data = storage.read_file(&wal).unwrap();
    let len0 = u64::from_le_bytes(data[40..48].try_into().unwrap());
    let second = (32 + 32 + len0 + 7) & !7;
    storage.flip_byte(&wal, second + 36);
    match open(&storage, &fault_options(false)) {
        Err(e) => expect_corruption(Err::<(), _>(e), WAL_1, "reopen"),
        Ok(db) => panic!(
            "opened without an error; the acknowledged sync write is {:?}",
            db.get(b"synced").unwrap()
        ),
    }
}

/// A user value that spells out a WAL record (here one with a good checksum, claiming the
/// segment's first 40 bytes were synced, past the start of the first record at 32) must not count
/// as one when the record holding it is torn: the tail is cut, and nothing else happens. Before the per-segment salt in the
/// record checksum, recovery believed the forged record and refused to open with CORRUPTION.
#[test]
fn a_value_spelling_a_wal_record_does_not_make_a_torn_tail_corruption() {
    let storage = FaultyStorage::new();
    let db = open(&storage, &fault_options(false)).unwrap();
    let mut forged = vec![0u8; 32];
    forged[4..8].copy_from_slice(&masked_crc(&[]).to_le_bytes()); // payload checksum
    forged[16..24].copy_from_slice(&2u64.to_le_bytes()); // first sequence number
    forged[24..32].copy_from_slice(&40u64.to_le_bytes()); // synced_upto
    let crc = masked_crc(&forged[4..32]);
    forged[0..4].copy_from_slice(&crc.to_le_bytes());
    // Eight copies at every alignment, so one starts at a multiple of 8 in the file.
    let mut value = Vec::new();
    for shift in 0..8 {
        value.extend_from_slice(&[0xaa; 8][..shift]);
        value.extend_from_slice(&forged);
        value.extend_from_slice(&[0xaa; 8][shift..]);
    }
    value.extend_from_slice(&[0xee; 16]);
    db.put_with(b"torn", &value, Durability::Buffered).unwrap();
    crash(&storage, db);
    // The power cut tore the unsynced record's last 16 bytes.
    let wal = Path::new(DIR).join(WAL_1);
    let data = storage.read_file(&wal).unwrap();
    storage.write_file(&wal, &data[..data.len() - 16]);
    let db = open(&storage, &fault_options(false)).unwrap();
    assert_eq!(db.get(b"torn").unwrap(), None);
    db.put(b"after", b"reopen").unwrap();
    db.verify().unwrap();
}

#[test]
fn verify_finds_a_flipped_wal_record_of_an_open_database() {
    watch_background_panics();
    let storage = FaultyStorage::new();
    let db = open(&storage, &fault_options(false)).unwrap();
    for i in 0..5u32 {
        db.put(format!("k{i}").as_bytes(), &[i as u8; 100]).unwrap();
    }
    db.verify().unwrap();
    // Record 1 starts after the header and record 0 (32 + 32-byte header + payload, padded).
    let wal = Path::new(DIR).join(WAL_1);
    let data = storage.read_file(&wal).unwrap();
    let len0 = u64::from_le_bytes(data[40..48].try_into().unwrap());
    let second = (32 + 32 + len0 + 7) & !7;
    storage.flip_byte(&wal, second + 40);
    expect_corruption(db.verify(), WAL_1, "verify");
    // Reads are served from the memtable and stay right.
    for i in 0..5u32 {
        assert_eq!(
            db.get(format!("k{i}").as_bytes()).unwrap(),
            Some(vec![i as u8; 100])
        );
    }
    crash(&storage, db);
    expect_corruption(open(&storage, &fault_options(false)), WAL_1, "reopen");
    assert_no_background_panics();
}

/// The content of the page-file test database: a two-level tree with overflow values.
fn page_test_state() -> State {
    (0..1500usize)
        .map(|i| {
            let len = if i % 100 == 7 { 6000 } else { 40 };
            (format!("pk{i:05}").into_bytes(), value(i, 0, len))
        })
        .collect()
}

/// Writes `state` in buffered batches and closes: one merge into an empty tree, so every page but
/// the meta pages is reachable from the root (no stale free pages).
fn fill(db: &Database, state: &State) {
    for chunk in state.iter().collect::<Vec<_>>().chunks(100) {
        let mut b = WriteBatch::new();
        for (k, v) in chunk {
            b.put(k, v);
        }
        db.write_with(&b, Durability::Buffered).unwrap();
    }
}

fn page_options(mmap: bool) -> Options {
    Options {
        memtable_size: 16 << 20,
        cache_size: 16 << 10,
        mmap,
        ..Options::default()
    }
}

/// With the `mmap` option, FaultyStorage's pages are read through its memory map, not the cache:
/// the sweeps that turn `mmap` on do test the mmap read path.
#[test]
fn with_mmap_pages_of_a_faulty_storage_are_read_through_the_map() {
    let state = page_test_state();
    let storage = FaultyStorage::new();
    let db = open(&storage, &page_options(false)).unwrap();
    fill(&db, &state);
    db.close().unwrap();
    for mmap in [false, true] {
        let db = open(&storage, &page_options(mmap)).unwrap();
        assert_eq!(read_state(&db).unwrap(), state);
        let misses = db.stats().cache_misses;
        assert_eq!(misses == 0, mmap, "cache misses with mmap {mmap}: {misses}");
        db.close().unwrap();
    }
}

/// Pages by type (byte 4 of the header): 1 meta, 2 leaf, 3 branch, 4 overflow, 5 freelist.
fn pages_of_type(file: &[u8], kind: u8) -> Vec<u64> {
    (0..file.len() / PAGE)
        .filter(|&p| file[p * PAGE + 4] == kind)
        .map(|p| p as u64)
        .collect()
}

/// Reads everything through a database whose page file was damaged: every answer is right or
/// CORRUPTION naming `file`; returns how many reads failed. `verify()` must fail.
fn read_damaged(db: &Database, state: &State, file: &str, what: &str) -> usize {
    let mut failed = 0;
    for (k, v) in state {
        match db.get(k) {
            Ok(got) => assert_eq!(got.as_ref(), Some(v), "{what}: wrong value for {}", show(k)),
            Err(e) => {
                expect_corruption(Err::<(), _>(e), file, what);
                failed += 1;
            }
        }
    }
    for range in [Range::all(), Range::all().reverse()] {
        let reverse = range.is_reverse();
        let mut want: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<u8>)>> = if reverse {
            Box::new(state.iter().rev())
        } else {
            Box::new(state.iter())
        };
        let mut saw_error = false;
        for item in db.iter(range).unwrap() {
            match item {
                Ok((k, v)) => {
                    let (wk, wv) = want.next().unwrap_or_else(|| panic!("{what}: extra key"));
                    assert_eq!((&k, &v), (wk, wv), "{what}: scan (reverse {reverse})");
                }
                Err(e) => {
                    expect_corruption(Err::<(), _>(e), file, what);
                    saw_error = true;
                }
            }
        }
        if failed > 0 {
            assert!(
                saw_error,
                "{what}: a scan (reverse {reverse}) missed the damage"
            );
        }
    }
    expect_corruption(db.verify(), file, &format!("{what}: verify"));
    failed
}

#[test]
fn flipped_tree_pages_give_corruption_not_wrong_data() {
    watch_background_panics();
    let state = page_test_state();
    let base = FaultyStorage::new();
    let db = open(&base, &page_options(false)).unwrap();
    fill(&db, &state);
    db.close().unwrap();
    let db = open(&base, &page_options(false)).unwrap();
    let report = db.verify().unwrap();
    assert_eq!(report.free_pages, 0);
    assert!(
        report.branch_pages >= 1 && report.overflow_pages >= 1,
        "{report:?}"
    );
    assert_eq!(read_state(&db).unwrap(), state);
    drop(db);

    let data_path = Path::new(DIR).join("data.ldb");
    let file = base.read_file(&data_path).unwrap();
    let leaves = pages_of_type(&file, 2);
    let branches = pages_of_type(&file, 3);
    let overflow = pages_of_type(&file, 4);
    let targets = [
        ("first leaf", leaves[0]),
        ("middle leaf", leaves[leaves.len() / 2]),
        ("last leaf", *leaves.last().unwrap()),
        ("branch", branches[0]),
        ("overflow", overflow[overflow.len() / 2]),
    ];
    for (i, (kind, page)) in targets.into_iter().enumerate() {
        for at in [0, 4, 5, 9, 17, 300, PAGE - 1] {
            let mmap = (i + at) % 2 == 0;
            let what = format!("{kind} page {page}, byte {at}, mmap {mmap}");
            let storage = copy_storage(&base);
            storage.flip_byte(&data_path, page * PAGE as u64 + at as u64);
            let db = match open(&storage, &page_options(mmap)) {
                Ok(db) => db,
                Err(e) => {
                    expect_corruption(Err::<(), _>(e), "data.ldb", &what);
                    continue;
                }
            };
            let failed = read_damaged(&db, &state, "data.ldb", &what);
            assert!(failed > 0, "{what}: no read noticed the damage");
            // A merge that must rewrite the damaged page fails too, and leaves the file as it was.
            let mut b = WriteBatch::new();
            for k in state.keys() {
                b.put(k, b"new");
            }
            db.write(&b).unwrap();
            expect_corruption(db.flush(), "data.ldb", &format!("{what}: flush"));
            drop(db);
            let db = open(&storage, &page_options(mmap))
                .unwrap_or_else(|e| panic!("{what}: reopen after the failed merge: {e}"));
            for k in state.keys().step_by(7) {
                assert_eq!(db.get(k).unwrap().as_deref(), Some(&b"new"[..]), "{what}");
            }
            expect_corruption(db.verify(), "data.ldb", &format!("{what}: verify again"));
        }
    }
    assert_no_background_panics();
}

/// Two merges, so meta page 1 holds the newest generation and meta page 0 the one before.
fn two_generation_database(page_size: u32) -> (FaultyStorage, State) {
    let mut state = page_test_state();
    let base = FaultyStorage::new();
    let options = Options {
        page_size,
        ..page_options(false)
    };
    let db = open(&base, &options).unwrap();
    fill(&db, &state);
    db.flush().unwrap();
    let mut b = WriteBatch::new();
    for (i, (k, v)) in state.iter_mut().enumerate().filter(|(i, _)| i % 3 == 0) {
        *v = value(i, 1, 50);
        b.put(k, v);
    }
    db.write(&b).unwrap();
    db.close().unwrap();
    let file = base.read_file(Path::new(DIR).join("data.ldb")).unwrap();
    let ps = page_size as usize;
    let generation =
        |p: usize| u64::from_le_bytes(file[p * ps + 32..p * ps + 40].try_into().unwrap());
    assert!(
        generation(1) > generation(0),
        "page 1 holds the newest meta"
    );
    (base, state)
}

#[test]
fn one_flipped_meta_page_opens_from_the_other() {
    watch_background_panics();
    let mut failures = Vec::new();
    for page_size in [4096, 16384] {
        flip_one_meta_page(page_size, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_no_background_panics();
}

fn flip_one_meta_page(page_size: u32, failures: &mut Vec<String>) {
    let (base, state) = two_generation_database(page_size);
    let ps = page_size as usize;
    let data_path = Path::new(DIR).join("data.ldb");
    // Every field of the header and the meta fields: magic (16), version (24), page size (28),
    // generation (32), root (40), ..., wal start (88), and the zero tail.
    let offsets = [0, 4, 9, 17, 20, 25, 29, 33, 41, 57, 81, 89, 2000, ps - 1];
    for at in offsets {
        // The older meta page: open must use the newest one and lose nothing.
        let storage = copy_storage(&base);
        storage.flip_byte(&data_path, at as u64);
        let what = format!("page size {ps}: older meta page 0, byte {at}");
        match open(&storage, &page_options(false)) {
            Ok(db) => {
                assert_eq!(read_state(&db).unwrap(), state, "{what}");
                db.verify()
                    .unwrap_or_else(|e| panic!("{what}: verify: {e}"));
                // The next merge rewrites page 0.
                db.put(b"pk-new", b"1").unwrap();
                db.close().unwrap();
                let db = open(&storage, &page_options(false)).unwrap();
                assert_eq!(db.get(b"pk-new").unwrap().as_deref(), Some(&b"1"[..]));
                db.verify().unwrap();
            }
            Err(e) => failures.push(format!("{what}: open failed: {e}")),
        }

        // The newest meta page: open may fall back to the older one only if nothing is lost;
        // otherwise CORRUPTION naming the file.
        let storage = copy_storage(&base);
        storage.flip_byte(&data_path, (ps + at) as u64);
        let what = format!("page size {ps}: newest meta page 1, byte {at}");
        match open(&storage, &page_options(false)) {
            Ok(db) => match read_state(&db) {
                Ok(got) if got == state => {
                    if let Err(e) = db.verify() {
                        failures.push(format!("{what}: verify: {e}"));
                    }
                }
                Ok(got) => failures.push(format!(
                    "{what}: opened with wrong data: {}",
                    diff(&state, &got)
                )),
                Err(e) => {
                    if !(e.code() == ErrorCode::Corruption && e.message().contains("data.ldb")) {
                        failures.push(format!("{what}: scan: {e}"));
                    }
                }
            },
            Err(e)
                if e.code() == ErrorCode::Corruption
                    && (e.message().contains("data.ldb") || e.message().contains("wal-")) => {}
            Err(e) => failures.push(format!("{what}: expected CORRUPTION naming a file: {e}")),
        }
    }
}

#[test]
fn flipped_freelist_page_is_corruption() {
    watch_background_panics();
    let (base, state) = two_generation_database(PAGE as u32);
    let data_path = Path::new(DIR).join("data.ldb");
    let file = base.read_file(&data_path).unwrap();
    // The newest meta page (page 1) names the head of the freelist chain at byte 64.
    let head = u64::from_le_bytes(file[PAGE + 64..PAGE + 72].try_into().unwrap());
    assert!(head >= 2, "the second merge freed pages");
    for at in [0, 6, 17, 30, PAGE - 1] {
        let storage = copy_storage(&base);
        storage.flip_byte(&data_path, head * PAGE as u64 + at as u64);
        let what = format!("freelist page {head}, byte {at}");
        match open(&storage, &page_options(false)) {
            Err(e) => expect_corruption(Err::<(), _>(e), "data.ldb", &what),
            Ok(db) => {
                // Opened anyway: then it must read right and verify must find the damage.
                assert_eq!(read_state(&db).unwrap(), state, "{what}");
                expect_corruption(db.verify(), "data.ldb", &what);
            }
        }
    }
    assert_no_background_panics();
}

/// `verify()` reads every page from the file, overflow pages too: a value read (and so cached)
/// before one of its overflow pages was damaged on disk is still reported. Before, verify read
/// overflow chains through the page cache and found the cached, intact copy.
#[test]
fn verify_reads_overflow_pages_from_the_file_not_the_cache() {
    watch_background_panics();
    let storage = FaultyStorage::new();
    let options = Options {
        cache_size: 1 << 20,
        ..fault_options(false)
    };
    let db = open(&storage, &options).unwrap();
    let big = value(7, 10, 20_000);
    db.put(b"big", &big).unwrap();
    db.flush().unwrap();
    assert_eq!(db.get(b"big").unwrap(), Some(big.clone()), "cached now");
    let data_path = Path::new(DIR).join("data.ldb");
    let file = storage.read_file(&data_path).unwrap();
    let page_size = u32::from_le_bytes(file[28..32].try_into().unwrap()) as usize;
    // Page type 4 is an overflow page (docs/format.md 4.1).
    let overflow: Vec<usize> = (2..file.len() / page_size)
        .filter(|&id| file[id * page_size + 4] == 4)
        .collect();
    assert!(!overflow.is_empty(), "the value lives in overflow pages");
    storage.flip_byte(&data_path, (overflow[0] * page_size + 100) as u64);
    expect_corruption(
        db.verify(),
        "data.ldb",
        "verify with a flipped overflow page",
    );
    drop(db);
    assert_no_background_panics();
}

/// With one meta page damaged, open relies on the other alone, so it first checks that tree
/// whole: a damaged page in it is CORRUPTION at open, and nothing on disk changes. Before, open
/// succeeded and the damage surfaced only when a read reached the page.
#[test]
fn with_one_meta_page_damaged_open_verifies_the_other_tree() {
    watch_background_panics();
    let (base, _) = two_generation_database(PAGE as u32);
    let data_path = Path::new(DIR).join("data.ldb");
    let file = base.read_file(&data_path).unwrap();
    // Page 1 holds the newest meta page; its root page id is the u64 at byte 40.
    let root = u64::from_le_bytes(file[PAGE + 40..PAGE + 48].try_into().unwrap());
    assert!(root >= 2, "the tree has a root page");
    let storage = copy_storage(&base);
    storage.flip_byte(&data_path, 100); // the older meta page (page 0)
    storage.flip_byte(&data_path, root * PAGE as u64 + 200); // a page of the newest tree
    let before = files_of(&storage);
    expect_corruption(
        open(&storage, &page_options(false)).map(|_| ()),
        "data.ldb",
        "open with meta page 0 and the root page damaged",
    );
    let after = files_of(&storage);
    assert!(before == after, "a failed open changed the files");
    assert_no_background_panics();
}

#[test]
fn both_meta_pages_flipped_is_corruption() {
    watch_background_panics();
    let (base, _) = two_generation_database(PAGE as u32);
    let data_path = Path::new(DIR).join("data.ldb");
    for at in [0, 33, 41, 89, 3000] {
        let storage = copy_storage(&base);
        storage.flip_byte(&data_path, at as u64);
        storage.flip_byte(&data_path, (PAGE + at) as u64);
        expect_corruption(
            open(&storage, &page_options(false)),
            "data.ldb",
            &format!("both meta pages, byte {at}"),
        );
    }
    assert_no_background_panics();
}

#[test]
fn flipped_leaf_on_the_real_file_system_with_mmap() {
    use std::io::{Read, Seek, SeekFrom, Write};
    watch_background_panics();
    let dir = tempfile::tempdir().unwrap();
    let state = page_test_state();
    let db = Database::open(dir.path(), page_options(true)).unwrap();
    fill(&db, &state);
    db.close().unwrap();
    let db = Database::open(dir.path(), page_options(true)).unwrap();
    assert_eq!(db.verify().unwrap().free_pages, 0);
    drop(db);

    let path = dir.path().join("data.ldb");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    let leaves = pages_of_type(&bytes, 2);
    let at = (leaves[leaves.len() / 2] as usize * PAGE + 200) as u64;
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(&[bytes[at as usize] ^ 0xFF]).unwrap();
    file.sync_all().unwrap();
    drop(file);

    let db = Database::open(dir.path(), page_options(true)).unwrap();
    let failed = read_damaged(&db, &state, "data.ldb", "real fs leaf");
    assert!(failed > 0, "no read noticed the damage");
    drop(db);
    assert_no_background_panics();
}
