//! The workloads, their data and their budgets.
//!
//! Keys are 16 pseudo-random bytes and values `--value-size` (default 100) bytes of the kind
//! `--values` picks (default pseudo-random bytes), both from splitmix64, so every run writes the
//! same data. Each write workload runs on a fresh database; the read and scan workloads run on the database built by a bulk load of `n` keys, whose keys they
//! know, so every read hits. Data is generated before the clock starts; only the loop of
//! database operations is timed, and every loop stops at its count or at its time budget,
//! whichever comes first. The transaction workloads also run on the bulk-loaded database,
//! after the read workloads (they change values, never the set of keys).

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::engines::{value_size, Engine, EngineKind, Key, Result, Value, KEY_LEN};
use crate::resources::{disk_bytes, RssSampler};
use crate::zipf::{Zipfian, THETA};

/// The workloads, in the order of the table's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    BulkLoad,
    WriteBuffered,
    WriteBufferedMerged,
    WriteSync,
    WriteSync4Threads,
    WriteBatch1000,
    WriteBatch1000Merged,
    ReadRandom,
    ReadRandom2Threads,
    ReadHot1000,
    Scan,
    ScanWithMemtable,
    ReadWhileWriting,
    ZipfUpdateMix,
    ZipfReadAfter,
    ZipfScanAfter,
    TxnRmw,
    TxnRmw2Threads,
}

impl Workload {
    /// Every workload.
    pub const ALL: [Workload; 18] = [
        Workload::BulkLoad,
        Workload::WriteBuffered,
        Workload::WriteBufferedMerged,
        Workload::WriteSync,
        Workload::WriteSync4Threads,
        Workload::WriteBatch1000,
        Workload::WriteBatch1000Merged,
        Workload::ReadRandom,
        Workload::ReadRandom2Threads,
        Workload::ReadHot1000,
        Workload::Scan,
        Workload::ScanWithMemtable,
        Workload::ReadWhileWriting,
        Workload::ZipfUpdateMix,
        Workload::ZipfReadAfter,
        Workload::ZipfScanAfter,
        Workload::TxnRmw,
        Workload::TxnRmw2Threads,
    ];

    /// The workload's name on the command line and in the JSON lines.
    pub fn name(self) -> &'static str {
        match self {
            Workload::BulkLoad => "bulk_load",
            Workload::WriteBuffered => "write_buffered",
            Workload::WriteBufferedMerged => "write_buffered_merged",
            Workload::WriteSync => "write_sync",
            Workload::WriteSync4Threads => "write_sync_4threads",
            Workload::WriteBatch1000 => "write_batch_1000",
            Workload::WriteBatch1000Merged => "write_batch_1000_merged",
            Workload::ReadRandom => "read_random",
            Workload::ReadRandom2Threads => "read_random_2threads",
            Workload::ReadHot1000 => "read_hot_1000",
            Workload::Scan => "scan",
            Workload::ScanWithMemtable => "scan_with_memtable",
            Workload::ReadWhileWriting => "read_while_writing",
            Workload::ZipfUpdateMix => "zipf_update_mix",
            Workload::ZipfReadAfter => "zipf_read_after",
            Workload::ZipfScanAfter => "zipf_scan_after",
            Workload::TxnRmw => "txn_rmw",
            Workload::TxnRmw2Threads => "txn_rmw_2threads",
        }
    }

    /// The workload named `name`.
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// The "until merged" view of a buffered write workload: the same loop, with the clock
    /// stopped only after the engine finished the work it deferred (see
    /// [`Engine::finish_deferred_work`]).
    fn merged_view(self) -> Option<Workload> {
        match self {
            Workload::WriteBuffered => Some(Workload::WriteBufferedMerged),
            Workload::WriteBatch1000 => Some(Workload::WriteBatch1000Merged),
            _ => None,
        }
    }

    /// Whether the workload runs on the bulk-loaded database (else on a fresh one of its own).
    fn uses_loaded_db(self) -> bool {
        matches!(
            self,
            Workload::ReadRandom
                | Workload::ReadRandom2Threads
                | Workload::ReadHot1000
                | Workload::Scan
                | Workload::ReadWhileWriting
                | Workload::TxnRmw
                | Workload::TxnRmw2Threads
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Budgets: a count and a time, so that a run with n = 1,000,000 takes a few minutes per engine.

/// `write_buffered`: at most `n` puts or this long.
const WRITE_BUFFERED_TIME: Duration = Duration::from_secs(10);
/// `write_sync`: at most this many puts or this long.
const WRITE_SYNC_OPS: u64 = 5_000;
const WRITE_SYNC_TIME: Duration = Duration::from_secs(5);
/// `write_sync_4threads`: threads, puts per thread at most, and time.
const SYNC_THREADS: usize = 4;
const WRITE_SYNC_OPS_PER_THREAD: u64 = 2_000;
/// `write_batch_1000`: puts per batch; at most `n` puts in all or this long.
const BATCH_SIZE: usize = 1_000;
const WRITE_BATCH_TIME: Duration = Duration::from_secs(10);
/// `read_random` and `read_random_2threads`: at most `n` reads in all or this long.
const READ_TIME: Duration = Duration::from_secs(10);
const READ_THREADS: usize = 2;
/// `scan`: full scans, at least one, at most this many, while under the time.
const SCAN_PASSES: u32 = 5;
const SCAN_TIME: Duration = Duration::from_secs(2);
/// `read_while_writing`: at most `n` reads or this long.
const READ_WHILE_WRITING_TIME: Duration = Duration::from_secs(5);
/// `read_hot_1000`: the hot keys, and at most `HOT_READS_PER_KEY × n` reads or this long.
const HOT_KEYS: u64 = 1_000;
const HOT_READS_PER_N: u64 = 5;
const HOT_READ_TIME: Duration = Duration::from_secs(5);
/// `scan_with_memtable`: one new key per this many loaded ones, written singly just before.
const FRESH_KEY_EVERY: u64 = 10;
/// The Zipfian workloads: at most `n` operations each or this long.
const ZIPF_TIME: Duration = Duration::from_secs(10);
/// `txn_rmw` and `txn_rmw_2threads`: threads, and at most `n` transactions (attempted, in
/// all) or this long.
const TXN_THREADS: usize = 2;
const TXN_TIME: Duration = Duration::from_secs(5);
/// Point reads share a reader (read transaction) for this many lookups, then take a new one.
const READS_PER_READER: usize = 1_000;
/// Buffered write loops look at the clock once every this many operations.
const CLOCK_EVERY: usize = 16;
/// Random reads done (untimed) to warm caches after the bulk load, besides one full scan.
const WARMUP_READS: usize = 10_000;

// ---------------------------------------------------------------------------------------------
// Data.

/// The seed of every key and value.
const SEED: u64 = 0x4c69_6768_746e_696e;
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The splitmix64 output function.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// splitmix64: a small, fast, seeded generator.
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// A random number in `0..n` (`n > 0`).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Fills `out` with random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Key streams: every workload writes keys of its own stream, thread `t` of a multi-threaded
/// one stream `base + t`. Keys of different (stream, index) never collide (see [`key`]).
const LOADED_STREAM: u64 = 0;
const WRITE_BUFFERED_STREAM: u64 = 1;
const WRITE_SYNC_STREAM: u64 = 2;
const WRITE_SYNC_THREADS_STREAM: u64 = 3; // ..3 + SYNC_THREADS
const WRITE_BATCH_STREAM: u64 = 8;
const READ_WHILE_WRITING_STREAM: u64 = 9;
const FRESH_KEYS_STREAM: u64 = 10;
const ZIPF_VALUES_STREAM: u64 = 11;

/// Key number `i` of stream `stream`: two splitmix64 outputs of a counter that is distinct for
/// every (stream, i) below 2^39 keys per stream; the output function is a bijection, so no two
/// keys share their first 8 bytes.
pub fn key(stream: u64, i: u64) -> Key {
    let counter = (stream << 40) + 2 * i;
    let hi = mix64(SEED.wrapping_add(counter.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA)));
    let lo = mix64(SEED.wrapping_add(counter.wrapping_add(2).wrapping_mul(GOLDEN_GAMMA)));
    let mut key = [0u8; KEY_LEN];
    key[..8].copy_from_slice(&hi.to_be_bytes());
    key[8..].copy_from_slice(&lo.to_be_bytes());
    key
}

/// The value of key number `i` of stream `stream`: [`value_size`] bytes of the run's kind
/// (`values.rs`; incompressible random bytes by default).
pub fn value(stream: u64, i: u64) -> Value {
    let mut value = vec![0u8; value_size()];
    let mut rng = SplitMix64::new(!SEED ^ mix64((stream << 40) + i));
    crate::values::fill(crate::values::kind(), &mut rng, &mut value);
    value
}

/// Pairs `0..count` of `stream`, in generation (random) order.
fn pairs(stream: u64, count: u64) -> Vec<(Key, Value)> {
    (0..count)
        .map(|i| (key(stream, i), value(stream, i)))
        .collect()
}

/// `count` keys picked at random (seeded by `seed`) among the `loaded` bulk-loaded ones.
fn random_loaded_keys(seed: u64, loaded: u64, count: u64) -> Vec<Key> {
    let mut rng = SplitMix64::new(seed);
    (0..count)
        .map(|_| key(LOADED_STREAM, rng.below(loaded)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Measurement.

/// The outcome of one timed loop.
pub struct Measurement {
    /// Operations done in the timed loop.
    pub ops: u64,
    /// Time of the timed loop.
    pub elapsed: Duration,
    /// More to say, for the log.
    pub note: Option<String>,
    /// Transaction workloads: the attempts whose commit failed with a conflict (`ops` counts
    /// the commits).
    pub conflicts: Option<u64>,
    /// The process's peak anonymous memory during the workload, in bytes.
    pub peak_rss: Option<u64>,
    /// Bytes the database took on disk after it was closed: for a write workload its own fresh
    /// database; for the bulk load, the loaded database after every workload that used it.
    pub disk_bytes: Option<u64>,
    /// The keys that database held, for bytes per key.
    pub keys: Option<u64>,
}

/// A copy of an error, for a second report of one failure.
fn copy_error(e: &crate::engines::BoxError) -> crate::engines::BoxError {
    e.to_string().into()
}

impl Measurement {
    /// A copy, for a second report of one measurement.
    fn copy(&self) -> Measurement {
        Measurement {
            note: self.note.clone(),
            ..*self
        }
    }

    fn new(ops: u64, elapsed: Duration) -> Measurement {
        Measurement {
            ops,
            elapsed,
            note: None,
            conflicts: None,
            peak_rss: None,
            disk_bytes: None,
            keys: None,
        }
    }

    /// Operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Bytes on disk per key, if measured.
    pub fn disk_bytes_per_key(&self) -> Option<f64> {
        Some(self.disk_bytes? as f64 / self.keys?.max(1) as f64)
    }
}

/// Runs `body(thread, deadline)` on `threads` threads started together, each stopping by its
/// deadline `budget` after its start; returns the sum of their counts over the time from the
/// first thread's start to the last one's end (taken by the threads themselves, so a late
/// wake-up of the coordinating thread cannot shorten it).
fn timed_threads<F>(threads: usize, budget: Duration, body: F) -> Result<Measurement>
where
    F: Fn(usize, Instant) -> Result<u64> + Sync,
{
    let start_line = Barrier::new(threads);
    let outcomes: Vec<Result<(u64, Instant, Instant)>> = thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (start_line, body) = (&start_line, &body);
                s.spawn(move || {
                    start_line.wait();
                    let start = Instant::now();
                    let ops = body(t, start + budget)?;
                    Ok((ops, start, Instant::now()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread panicked"))
            .collect()
    });
    let mut ops = 0;
    let mut first_start: Option<Instant> = None;
    let mut last_end: Option<Instant> = None;
    for outcome in outcomes {
        let (n, start, end) = outcome?;
        ops += n;
        first_start = Some(first_start.map_or(start, |s| s.min(start)));
        last_end = Some(last_end.map_or(end, |e| e.max(end)));
    }
    let elapsed = match (first_start, last_end) {
        (Some(start), Some(end)) => end - start,
        _ => Duration::ZERO,
    };
    Ok(Measurement::new(ops, elapsed))
}

/// Puts `pairs` one by one until done or past `deadline`; returns the puts done.
fn put_until(
    engine: &dyn Engine,
    pairs: &[(Key, Value)],
    sync: bool,
    deadline: Instant,
) -> Result<u64> {
    let clock_every = if sync { 1 } else { CLOCK_EVERY };
    let mut done = 0u64;
    for chunk in pairs.chunks(clock_every) {
        for (key, value) in chunk {
            engine.put(key, value, sync)?;
        }
        done += chunk.len() as u64;
        if Instant::now() >= deadline {
            break;
        }
    }
    Ok(done)
}

/// Looks `keys` up, which must all be found, until done or past `deadline`; returns the reads.
fn read_until(engine: &dyn Engine, keys: &[Key], deadline: Instant) -> Result<u64> {
    let mut done = 0u64;
    for chunk in keys.chunks(READS_PER_READER) {
        let mut reader = engine.reader()?;
        for key in chunk {
            if !reader.get(key)? {
                return Err(format!("key {} not found", hex(key)).into());
            }
        }
        drop(reader);
        done += chunk.len() as u64;
        if Instant::now() >= deadline {
            break;
        }
    }
    Ok(done)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// The workloads.

fn write_buffered(engine: &dyn Engine, n: u64) -> Result<Measurement> {
    let pairs = pairs(WRITE_BUFFERED_STREAM, n);
    timed_threads(1, WRITE_BUFFERED_TIME, |_, deadline| {
        put_until(engine, &pairs, false, deadline)
    })
}

fn write_sync(engine: &dyn Engine) -> Result<Measurement> {
    let pairs = pairs(WRITE_SYNC_STREAM, WRITE_SYNC_OPS);
    timed_threads(1, WRITE_SYNC_TIME, |_, deadline| {
        put_until(engine, &pairs, true, deadline)
    })
}

fn write_sync_threads(engine: &dyn Engine) -> Result<Measurement> {
    let per_thread: Vec<_> = (0..SYNC_THREADS as u64)
        .map(|t| pairs(WRITE_SYNC_THREADS_STREAM + t, WRITE_SYNC_OPS_PER_THREAD))
        .collect();
    timed_threads(SYNC_THREADS, WRITE_SYNC_TIME, |t, deadline| {
        put_until(engine, &per_thread[t], true, deadline)
    })
}

fn write_batches(engine: &dyn Engine, n: u64) -> Result<Measurement> {
    let pairs = pairs(WRITE_BATCH_STREAM, n);
    timed_threads(1, WRITE_BATCH_TIME, |_, deadline| {
        let mut done = 0u64;
        for batch in pairs.chunks(BATCH_SIZE) {
            engine.write_batch(batch)?;
            done += batch.len() as u64;
            if Instant::now() >= deadline {
                break;
            }
        }
        Ok(done)
    })
}

fn read_random(engine: &dyn Engine, loaded: u64, threads: usize) -> Result<Measurement> {
    let per_thread = (loaded / threads as u64).max(1);
    let keys: Vec<_> = (0..threads as u64)
        .map(|t| random_loaded_keys(0x5eed_0000 + t, loaded, per_thread))
        .collect();
    timed_threads(threads, READ_TIME, |t, deadline| {
        read_until(engine, &keys[t], deadline)
    })
}

fn scan(engine: &dyn Engine, loaded: u64) -> Result<Measurement> {
    let start = Instant::now();
    let mut ops = 0u64;
    for _ in 0..SCAN_PASSES {
        let count = engine.scan()?;
        if count != loaded {
            return Err(format!("scan found {count} keys, expected {loaded}").into());
        }
        ops += count;
        if start.elapsed() >= SCAN_TIME {
            break;
        }
    }
    Ok(Measurement::new(ops, start.elapsed()))
}

/// Random reads on one thread, timed, while another thread does buffered puts of new keys
/// from before the reads start until after they end.
fn read_while_writing(engine: &dyn Engine, loaded: u64) -> Result<Measurement> {
    let keys = random_loaded_keys(0x5eed_1000, loaded, loaded);
    let stop = AtomicBool::new(false);
    let writing = Barrier::new(2);
    thread::scope(|s| {
        let writer = s.spawn(|| -> Result<(u64, Duration)> {
            writing.wait();
            let start = Instant::now();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let (k, v) = (
                    key(READ_WHILE_WRITING_STREAM, i),
                    value(READ_WHILE_WRITING_STREAM, i),
                );
                engine.put(&k, &v, false)?;
                i += 1;
            }
            Ok((i, start.elapsed()))
        });
        writing.wait();
        let start = Instant::now();
        let reads = read_until(engine, &keys, start + READ_WHILE_WRITING_TIME);
        let elapsed = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        let (writes, write_time) = writer.join().expect("the writer thread panicked")?;
        let mut m = Measurement::new(reads?, elapsed);
        m.note = Some(format!(
            "meanwhile {} buffered writes/s",
            format_rate(writes as f64 / write_time.as_secs_f64())
        ));
        Ok(m)
    })
}

/// Point reads of the same [`HOT_KEYS`] loaded keys over and over, in random order, 1 thread:
/// what a cache of hot rows serves.
fn read_hot(engine: &dyn Engine, loaded: u64) -> Result<Measurement> {
    let hot = random_loaded_keys(0x5eed_3000, loaded, HOT_KEYS.min(loaded));
    let mut rng = SplitMix64::new(0x5eed_3001);
    let keys: Vec<Key> = (0..HOT_READS_PER_N * loaded)
        .map(|_| hot[rng.below(hot.len() as u64) as usize])
        .collect();
    timed_threads(1, HOT_READ_TIME, |_, deadline| {
        read_until(engine, &keys, deadline)
    })
}

/// A full scan right after `loaded / FRESH_KEY_EVERY` new keys were written singly (buffered,
/// untimed), so an engine with a memtable still holds them there and merges two sources.
fn scan_with_memtable(engine: &dyn Engine, loaded: u64) -> Result<Measurement> {
    let fresh = pairs(FRESH_KEYS_STREAM, loaded / FRESH_KEY_EVERY);
    for (key, value) in &fresh {
        engine.put(key, value, false)?;
    }
    scan(engine, loaded + fresh.len() as u64)
}

/// The Zipfian workloads on one loaded database, in order: a 50/50 mix of reads and buffered
/// updates of Zipfian-chosen loaded keys, then reads of Zipfian-chosen keys right after it,
/// then a full scan right after that. Hot keys are updated many times; an engine that keeps
/// every version until a merge pays for it in the reads and the scan.
fn zipf_workloads(
    engine: &dyn Engine,
    loaded: u64,
    report: &mut dyn FnMut(Workload, Result<Measurement>),
    memory: &RssSampler,
    wants: &dyn Fn(Workload) -> bool,
) {
    let zipf = Zipfian::new(loaded, THETA);
    let mut rng = SplitMix64::new(0x5eed_4000);
    // (key, Some(new value) for an update, None for a read), drawn before the clock starts.
    let ops: Vec<(Key, Option<Value>)> = (0..loaded)
        .map(|i| {
            let k = key(LOADED_STREAM, zipf.next(&mut rng));
            let update = rng.next_u64() & 1 == 1;
            (k, update.then(|| value(ZIPF_VALUES_STREAM, i)))
        })
        .collect();
    memory.start_window();
    let mix = timed_threads(1, ZIPF_TIME, |_, deadline| {
        let mut done = 0u64;
        for chunk in ops.chunks(CLOCK_EVERY) {
            for (key, update) in chunk {
                match update {
                    Some(value) => engine.put(key, value, false)?,
                    None => {
                        if !engine.get(key)? {
                            return Err(format!("key {} not found", hex(key)).into());
                        }
                    }
                }
            }
            done += chunk.len() as u64;
            if Instant::now() >= deadline {
                break;
            }
        }
        Ok(done)
    });
    let mix_ok = mix.is_ok();
    if wants(Workload::ZipfUpdateMix) {
        report(Workload::ZipfUpdateMix, with_peak(mix, memory));
    }
    if !mix_ok {
        return;
    }
    if wants(Workload::ZipfReadAfter) {
        let keys: Vec<Key> = (0..loaded)
            .map(|_| key(LOADED_STREAM, zipf.next(&mut rng)))
            .collect();
        memory.start_window();
        let reads = timed_threads(1, ZIPF_TIME, |_, deadline| {
            read_until(engine, &keys, deadline)
        });
        report(Workload::ZipfReadAfter, with_peak(reads, memory));
    }
    if wants(Workload::ZipfScanAfter) {
        memory.start_window();
        report(
            Workload::ZipfScanAfter,
            with_peak(scan(engine, loaded), memory),
        );
    }
}

/// `outcome` with the window's peak memory.
fn with_peak(outcome: Result<Measurement>, memory: &RssSampler) -> Result<Measurement> {
    outcome.map(|mut m| {
        m.peak_rss = Some(memory.peak());
        m
    })
}

/// What one thread of a transaction workload did: the (key, counter read) of every commit,
/// and how many commits conflicted.
struct RmwLog {
    committed: Vec<(Key, u64)>,
    conflicts: u64,
}

/// Read-modify-write transactions on random loaded keys, on `threads` threads: each begins a
/// read-write transaction, reads a key, adds one to the counter in its value, writes it back
/// and commits, buffered (no fsync). A commit that conflicts is counted and not retried: the
/// thread goes on with its next key. Reports the commits; `conflicts` and the note say how many
/// attempts conflicted. Afterwards (untimed) checks that no update was lost: the commits of
/// each key read consecutive counters.
fn txn_rmw(engine: &dyn Engine, loaded: u64, threads: usize) -> Result<Measurement> {
    let per_thread = (loaded / threads as u64).max(1);
    let keys: Vec<_> = (0..threads as u64)
        .map(|t| {
            random_loaded_keys(
                0x5eed_2000 + (threads as u64) * 0x100 + t,
                loaded,
                per_thread,
            )
        })
        .collect();
    let logs: Vec<Mutex<RmwLog>> = keys
        .iter()
        .map(|k| {
            Mutex::new(RmwLog {
                committed: Vec::with_capacity(k.len()),
                conflicts: 0,
            })
        })
        .collect();
    let mut m = timed_threads(threads, TXN_TIME, |t, deadline| {
        let mut log = logs[t].lock().map_err(|_| "a log lock is poisoned")?;
        for chunk in keys[t].chunks(CLOCK_EVERY) {
            for key in chunk {
                match engine.read_modify_write(key)? {
                    Some(counter) => log.committed.push((*key, counter)),
                    None => log.conflicts += 1,
                }
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        Ok(log.committed.len() as u64)
    })?;

    let mut conflicts = 0u64;
    let mut committed = Vec::new();
    for log in logs {
        let log = log.into_inner().map_err(|_| "a log lock is poisoned")?;
        conflicts += log.conflicts;
        committed.extend(log.committed);
    }
    check_no_lost_update(committed)?;
    let attempts = m.ops + conflicts;
    m.conflicts = Some(conflicts);
    m.note = Some(format!(
        "{conflicts} of {attempts} commits conflicted = {:.4}%",
        100.0 * conflicts as f64 / attempts.max(1) as f64
    ));
    Ok(m)
}

/// Fails unless the commits of every key read consecutive counters, i.e. every commit saw the
/// write of the one before it on that key. (A counter wrapping past `u64::MAX` would make a
/// false alarm; counters start random, so that is a 1 in 2^64 / commits chance.)
fn check_no_lost_update(mut committed: Vec<(Key, u64)>) -> Result<()> {
    committed.sort_unstable();
    for pair in committed.windows(2) {
        let ((key, a), (next_key, b)) = (pair[0], pair[1]);
        if key == next_key && b != a.wrapping_add(1) {
            return Err(format!(
                "lost update: commits of key {} read counters {a} then {b}, expected {}",
                hex(&key),
                a.wrapping_add(1)
            )
            .into());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Running all workloads of one engine.

/// Runs `workloads` on `engine`, in databases under `dir` (removed afterwards), and hands each
/// outcome to `report` as it comes.
pub fn run_engine(
    engine: EngineKind,
    workloads: &[Workload],
    n: u64,
    dir: &Path,
    report: &mut dyn FnMut(Workload, Result<Measurement>),
) {
    let wants = |w: Workload| workloads.contains(&w);
    let memory = RssSampler::start();

    // Write workloads, each on a fresh database. A buffered one is also timed until merged.
    for w in [
        Workload::WriteBuffered,
        Workload::WriteSync,
        Workload::WriteSync4Threads,
        Workload::WriteBatch1000,
    ] {
        let merged = w.merged_view();
        if !wants(w) && !merged.is_some_and(wants) {
            continue;
        }
        let db_dir = dir.join(w.name());
        let mut merged_outcome = None;
        memory.start_window();
        let outcome = on_fresh_db(engine, &db_dir, |db| {
            let m = match w {
                Workload::WriteBuffered => write_buffered(db, n),
                Workload::WriteSync => write_sync(db),
                Workload::WriteSync4Threads => write_sync_threads(db),
                _ => write_batches(db, n),
            }?;
            if merged.is_some() {
                let start = Instant::now();
                let finished = db.finish_deferred_work();
                merged_outcome =
                    Some(finished.map(|()| Measurement::new(m.ops, m.elapsed + start.elapsed())));
            }
            Ok(m)
        })
        .map(|mut m| {
            m.peak_rss = Some(memory.peak());
            m.disk_bytes = disk_bytes(&db_dir).ok();
            m.keys = Some(m.ops);
            m
        });
        if let (Ok(m), Some(Ok(merged))) = (&outcome, &mut merged_outcome) {
            (merged.peak_rss, merged.disk_bytes, merged.keys) = (m.peak_rss, m.disk_bytes, m.keys);
        }
        if wants(w) {
            report(
                w,
                outcome.as_ref().map(Measurement::copy).map_err(copy_error),
            );
        }
        if let Some(merged) = merged.filter(|&m| wants(m)) {
            let merged_outcome = match (&outcome, merged_outcome) {
                (Err(e), _) => Err(copy_error(e)),
                (Ok(_), Some(m)) => m,
                (Ok(_), None) => Err("the write loop ran, the merge did not".into()),
            };
            report(merged, merged_outcome);
        }
        remove_dir(&db_dir);
    }

    // Workloads on a loaded database of their own, which they change.
    if wants(Workload::ScanWithMemtable) {
        let db_dir = dir.join(Workload::ScanWithMemtable.name());
        let outcome = load(engine, &db_dir, n).and_then(|(db, _)| {
            memory.start_window();
            let m = with_peak(scan_with_memtable(&*db, n), &memory);
            let closed = db.close();
            let m = m?;
            closed?;
            Ok(m)
        });
        report(Workload::ScanWithMemtable, outcome);
        remove_dir(&db_dir);
    }
    let zipf = [
        Workload::ZipfUpdateMix,
        Workload::ZipfReadAfter,
        Workload::ZipfScanAfter,
    ];
    if zipf.into_iter().any(wants) {
        let db_dir = dir.join("zipf");
        match load(engine, &db_dir, n) {
            Ok((db, _)) => {
                settle();
                zipf_workloads(&*db, n, report, &memory, &wants);
                if let Err(e) = db.close() {
                    eprintln!("[{engine}] closing the Zipfian database failed: {e}");
                }
            }
            Err(e) => {
                for w in zipf.into_iter().filter(|&w| wants(w)) {
                    report(w, Err(format!("bulk load failed: {e}").into()));
                }
            }
        }
        remove_dir(&db_dir);
    }

    // The bulk load, and the workloads that read what it loaded.
    let readers: Vec<Workload> = workloads
        .iter()
        .copied()
        .filter(|w| w.uses_loaded_db())
        .collect();
    if !wants(Workload::BulkLoad) && readers.is_empty() {
        return;
    }
    let db_dir = dir.join("loaded");
    memory.start_window();
    match load(engine, &db_dir, n) {
        Err(e) => {
            let message = e.to_string();
            if wants(Workload::BulkLoad) {
                report(Workload::BulkLoad, Err(message.clone().into()));
            }
            for w in readers {
                report(w, Err(format!("bulk load failed: {message}").into()));
            }
        }
        Ok((db, mut loaded)) => {
            loaded.peak_rss = Some(memory.peak());
            for w in Workload::ALL.into_iter().filter(|w| readers.contains(w)) {
                settle();
                memory.start_window();
                let outcome = match w {
                    Workload::ReadRandom => read_random(&*db, n, 1),
                    Workload::ReadRandom2Threads => read_random(&*db, n, READ_THREADS),
                    Workload::ReadHot1000 => read_hot(&*db, n),
                    Workload::Scan => scan(&*db, n),
                    Workload::ReadWhileWriting => read_while_writing(&*db, n),
                    Workload::TxnRmw => txn_rmw(&*db, n, 1),
                    Workload::TxnRmw2Threads => txn_rmw(&*db, n, TXN_THREADS),
                    other => {
                        Err(format!("{} does not use the loaded database", other.name()).into())
                    }
                };
                report(
                    w,
                    outcome.map(|mut m| {
                        m.peak_rss = Some(memory.peak());
                        m
                    }),
                );
            }
            let closed = db.close();
            if wants(Workload::BulkLoad) {
                report(
                    Workload::BulkLoad,
                    closed.map(|()| {
                        loaded.disk_bytes = disk_bytes(&db_dir).ok();
                        loaded.keys = Some(n);
                        loaded
                    }),
                );
            } else if let Err(e) = closed {
                eprintln!("[{engine}] closing the loaded database failed: {e}");
            }
        }
    }
    remove_dir(&db_dir);
}

/// Opens a fresh database in `dir`, runs `body` on it, and closes it.
fn on_fresh_db(
    engine: EngineKind,
    dir: &Path,
    body: impl FnOnce(&dyn Engine) -> Result<Measurement>,
) -> Result<Measurement> {
    let db = engine.open(dir)?;
    settle();
    let outcome = body(&*db);
    let closed = db.close();
    let m = outcome?;
    closed?;
    Ok(m)
}

/// Bulk-loads `n` pairs into a fresh database (timed), checks and warms it (untimed).
fn load(engine: EngineKind, dir: &Path, n: u64) -> Result<(Box<dyn Engine>, Measurement)> {
    let mut data = pairs(LOADED_STREAM, n);
    data.sort_unstable_by_key(|pair| pair.0);
    let db = engine.open(dir)?;
    settle();
    let start = Instant::now();
    db.bulk_load(&data)?;
    let m = Measurement::new(n, start.elapsed());
    drop(data);

    // Warm up: one full scan (which also checks the count) and some random reads.
    let count = db.scan()?;
    if count != n {
        return Err(format!("after the bulk load a scan found {count} keys, expected {n}").into());
    }
    let keys = random_loaded_keys(0x5eed_ffff, n, WARMUP_READS as u64);
    black_box(read_until(&*db, &keys, Instant::now() + READ_TIME)?);
    if db.get(&key(WRITE_BUFFERED_STREAM, 0))? {
        return Err("a key that was never written was found".into());
    }
    Ok((db, m))
}

/// Flushes dirty pages of earlier workloads so they are not written back during the next one.
fn settle() {
    // SAFETY: sync(2) has no preconditions.
    unsafe { libc::sync() };
}

fn remove_dir(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            eprintln!("could not remove {}: {e}", dir.display());
        }
    }
}

/// `1234567.8` as `1.23M`, `12345.6` as `12.3K`, `123.4` as `123`.
pub fn format_rate(rate: f64) -> String {
    let (scaled, suffix) = if rate >= 1e6 {
        (rate / 1e6, "M")
    } else if rate >= 1e3 {
        (rate / 1e3, "K")
    } else {
        (rate, "")
    };
    if suffix.is_empty() || scaled >= 100.0 {
        format!("{scaled:.0}{suffix}")
    } else if scaled >= 10.0 {
        format!("{scaled:.1}{suffix}")
    } else {
        format!("{scaled:.2}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_deterministic() {
        let mut seen = std::collections::HashSet::new();
        for stream in [
            LOADED_STREAM,
            WRITE_BUFFERED_STREAM,
            READ_WHILE_WRITING_STREAM,
        ] {
            for i in 0..10_000 {
                assert!(seen.insert(key(stream, i)));
            }
        }
        assert_eq!(key(3, 7), key(3, 7));
        assert_eq!(value(3, 7), value(3, 7));
        assert_ne!(value(3, 7), value(3, 8));
    }

    #[test]
    fn splitmix64_matches_reference() {
        // First outputs of splitmix64 seeded with 1234567 (reference implementation).
        let mut rng = SplitMix64::new(1234567);
        assert_eq!(rng.next_u64(), 6457827717110365317);
        assert_eq!(rng.next_u64(), 3203168211198807973);
    }

    #[test]
    fn counters_are_bumped_and_lost_updates_caught() {
        let mut v = value(LOADED_STREAM, 1);
        v[..8].copy_from_slice(&41u64.to_le_bytes());
        let (new, old) = crate::engines::bump_counter(&v).unwrap();
        assert_eq!(old, 41);
        assert_eq!(new[..8], 42u64.to_le_bytes());
        assert_eq!(new[8..], v[8..]);
        assert!(crate::engines::bump_counter(&v[..99]).is_err());

        let (a, b) = (key(LOADED_STREAM, 1), key(LOADED_STREAM, 2));
        assert!(check_no_lost_update(vec![(a, 7), (b, 3), (a, 8), (a, 6)]).is_ok());
        // Two commits that read the same counter: one overwrote the other's update.
        assert!(check_no_lost_update(vec![(a, 7), (b, 3), (a, 7)]).is_err());
        // A commit missing in between.
        assert!(check_no_lost_update(vec![(a, 7), (a, 9)]).is_err());
    }

    #[test]
    fn rates_are_formatted_with_suffixes() {
        assert_eq!(format_rate(1_234_567.8), "1.23M");
        assert_eq!(format_rate(12_345.6), "12.3K");
        assert_eq!(format_rate(123_456.0), "123K");
        assert_eq!(format_rate(123.4), "123");
    }
}
