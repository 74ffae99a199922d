//! The write path: group commit into the WAL, then the active memtable.
//!
//! Writers queue up; the writer at the front becomes the leader, takes every queued batch, writes
//! them to the WAL in one `write`, fsyncs once if any of them asked for `Sync`, inserts them into
//! the memtable, publishes their sequence numbers, and wakes the others. A transaction's batch
//! carries a conflict check: the leader runs it just before handing out sequence numbers, and a
//! batch that fails it is left out of the group with a `CONFLICT` error.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conflicts::ConflictCheck;
use super::counters::Counters;
use super::state::Engine;
use super::version::Version;
use crate::batch::{decode_payload, BatchOp, WriteBatch};
use crate::btree::writer::Mutation;
use crate::checksum::masked_crc;
use crate::durability::Durability;
use crate::error::{Error, Result};
use crate::locks::Mutex;
use crate::memtable::Memtable;
use crate::wal::{encode_payload, EncodedPayload, PayloadCoding, WalWriter};

/// Batches at least this large are written straight into the tree (see `commit_direct`): half a
/// memtable, and at most 4 MiB, past which writing the data once beats the WAL + memtable path.
fn direct_batch_bytes(memtable_size: u64) -> u64 {
    (memtable_size / 2).min(4 << 20)
}

/// Upper bound of one group's WAL write, so one leader does not make others wait too long.
const MAX_GROUP_BYTES: usize = 4 << 20;

/// The longest a sync group's leader waits for the last group's writers to come back: the last
/// sync group's commit time (mostly its fsync), and at most this.
const MAX_GATHER: Duration = Duration::from_micros(400);

thread_local! {
    /// The engine and group this thread's last write was committed in (see `gather`).
    static LAST_GROUP: std::cell::Cell<(usize, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// A batch waiting to be committed.
pub(crate) struct Waiter {
    /// The batch as its WAL record stores it (empty for a direct batch).
    payload: EncodedPayload,
    payload_crc: u32,
    ops: u64,
    sync: bool,
    /// A large batch, written straight into the tree (see `direct_batch_bytes`).
    direct: bool,
    /// A transaction's commit: what must not have changed since it began.
    check: Option<ConflictCheck>,
    /// Whether its thread's last write was in the last group (see `gather`).
    returning: bool,
    /// The number of the group it was committed in.
    group: std::sync::atomic::AtomicU64,
    result: Mutex<Option<Result<()>>>,
}

#[derive(Default)]
pub(crate) struct CommitQueue {
    waiters: VecDeque<Arc<Waiter>>,
    leader_busy: bool,
    /// The number of the last group taken, and how many writers it had.
    last_group: u64,
    last_group_size: usize,
    /// How long the last sync group took to commit.
    last_sync: Duration,
}

/// What only the commit leader touches.
pub(crate) struct WriterState {
    pub wal: WalWriter,
    /// The sequence number the next op gets.
    pub next_seq: u64,
    /// Reused buffer for a group's records.
    buf: Vec<u8>,
}

impl WriterState {
    pub fn new(wal: WalWriter, next_seq: u64) -> WriterState {
        WriterState {
            wal,
            next_seq,
            buf: Vec::new(),
        }
    }
}

/// Commits `batch` with `durability`, as part of a group.
pub(crate) fn write(engine: &Engine, batch: &WriteBatch, durability: Durability) -> Result<()> {
    write_checked(engine, batch, durability, None)
}

/// Commits `batch` if `check` (a transaction's) finds no conflict; `CONFLICT` otherwise.
pub(crate) fn write_checked(
    engine: &Engine,
    batch: &WriteBatch,
    durability: Durability,
    check: Option<ConflictCheck>,
) -> Result<()> {
    engine.check_writable()?;
    if batch.is_empty() {
        return Ok(());
    }
    batch.validate()?;
    // A transaction goes through the WAL, where the leader checks it in sequence order.
    let direct = check.is_none()
        && batch.encoded_len() as u64 >= direct_batch_bytes(engine.options.memtable_size);
    // Encode and checksum outside any lock; the leader only stamps the header. A direct batch
    // needs no WAL payload: its own thread commits it from `batch`.
    let coding = if direct {
        PayloadCoding::Plain
    } else {
        engine.wal_coding
    };
    let len = if direct { 0 } else { batch.encoded_len() };
    let payload = encode_payload(coding, len, |out| {
        if !direct {
            batch.encode_into(out);
        }
    });
    if let Some(codec) = payload.codec {
        engine
            .pager
            .counters
            .codecs
            .count(codec, payload.batch().len(), payload.stored.len());
    }
    let engine_id = std::ptr::from_ref(engine) as usize;
    let (last_engine, last_group) = LAST_GROUP.get();
    let mut queue = engine.queue.lock();
    let waiter = Arc::new(Waiter {
        payload_crc: masked_crc(&payload.stored),
        payload,
        ops: batch.len() as u64,
        sync: durability == Durability::Sync,
        direct,
        check,
        returning: last_engine == engine_id && last_group == queue.last_group,
        group: std::sync::atomic::AtomicU64::new(0),
        result: Mutex::new(None),
    });
    queue.waiters.push_back(waiter.clone());
    engine.gather_cond.notify_all();
    loop {
        if let Some(result) = waiter.result.lock().take() {
            LAST_GROUP.set((engine_id, waiter.group.load(Ordering::Relaxed)));
            return result;
        }
        let at_front = queue
            .waiters
            .front()
            .is_some_and(|w| Arc::ptr_eq(w, &waiter));
        if at_front && !queue.leader_busy {
            break;
        }
        queue = engine.queue_cond.wait(queue);
    }

    // This writer leads: take a group from the front of the queue.
    queue.leader_busy = true;
    if waiter.sync && !direct {
        queue = gather(engine, queue);
    }
    queue.last_group += 1;
    let group_number = queue.last_group;
    LAST_GROUP.set((engine_id, group_number));
    let mut group: Vec<Arc<Waiter>> = Vec::new();
    let mut bytes = 0;
    while let Some(w) = queue.waiters.front() {
        if !group.is_empty()
            && (w.direct || group[0].direct || bytes + w.payload.stored.len() > MAX_GROUP_BYTES)
        {
            break;
        }
        bytes += w.payload.stored.len();
        w.group.store(group_number, Ordering::Relaxed);
        group.push(queue.waiters.pop_front().unwrap());
    }
    queue.last_group_size = group.len();
    drop(queue);

    // A direct waiter is never taken into another leader's group, so it is committed here, by
    // the thread that owns `batch`.
    // Whatever happens in there, the leader flag is cleared and every waiter of the group gets a
    // result below: a panic must not leave writers waiting forever.
    let started = Instant::now();
    let result = engine.catch_panic("the commit leader", || {
        if direct {
            commit_direct(engine, batch)
        } else {
            commit_group(engine, &group)
        }
    });

    let mut queue = engine.queue.lock();
    for w in &group {
        // A batch turned away for a conflict already has its result.
        w.result.lock().get_or_insert_with(|| result.clone());
    }
    if group.iter().any(|w| w.sync) {
        queue.last_sync = started.elapsed();
    }
    queue.leader_busy = false;
    drop(queue);
    engine.queue_cond.notify_all();
    let mine = waiter.result.lock().take();
    mine.unwrap_or(result)
}

/// Before a sync group is taken, waits briefly for the writers of the last group that are not
/// queued yet: they were woken when it committed and are likely about to write again. Without
/// the wait, writers settle into alternating groups that each wait for a whole fsync — half the
/// group size that one fsync could serve. A lone writer (whose last group was itself) never
/// waits, and a writer that does not come back costs at most one commit's time, once.
fn gather<'a>(
    engine: &Engine,
    mut queue: crate::locks::MutexGuard<'a, CommitQueue>,
) -> crate::locks::MutexGuard<'a, CommitQueue> {
    let deadline = Instant::now() + queue.last_sync.min(MAX_GATHER);
    loop {
        let back = queue.waiters.iter().filter(|w| w.returning).count();
        if back >= queue.last_group_size {
            return queue;
        }
        let now = Instant::now();
        if now >= deadline {
            return queue;
        }
        queue = engine.gather_cond.wait_timeout(queue, deadline - now);
    }
}

fn commit_group(engine: &Engine, group: &[Arc<Waiter>]) -> Result<()> {
    let mut writer = engine.writer.lock();
    engine.check_writable()?;
    engine.check_no_bulk_load()?;
    let version = maybe_freeze(engine, &mut writer)?;
    throttle(engine, &version);

    let state = &mut *writer;
    let first_seq = state.next_seq;
    let (accepted, mut ops) = assign_sequences(engine, group, first_seq)?;
    if accepted.is_empty() {
        return Ok(());
    }
    state.buf.clear();
    let mut seq = first_seq;
    for w in &accepted {
        let encoded =
            state
                .wal
                .encode_record(&mut state.buf, seq, &w.payload.stored, w.payload_crc);
        if let Err(e) = encoded {
            engine.fail(&e);
            return Err(e);
        }
        seq += w.ops;
    }
    if let Err(e) = state.wal.append(&state.buf) {
        engine.fail(&e);
        return Err(e);
    }
    Counters::add(&engine.counters.wal_bytes, state.buf.len() as u64);
    Counters::add(&engine.counters.commit_groups, 1);
    if accepted.iter().any(|w| w.sync) {
        if let Err(e) = state.wal.sync_and_attest() {
            // After a failed fsync the kernel may have dropped the dirty pages: nothing written
            // since the last good sync can be trusted, so stop taking writes.
            engine.fail(&e);
            return Err(e);
        }
        Counters::add(&engine.counters.wal_syncs, 1);
    }

    let active = version.active();
    let puts = ops.iter().filter(|(op, _)| op.value.is_some()).count() as u64;
    let deletes = ops.len() as u64 - puts;
    // Inserting in key order keeps the skiplist's search paths warm in the CPU cache; every op
    // carries its own sequence number, so the order of insertion does not matter otherwise.
    if ops.len() > 16 {
        ops.sort_unstable_by(|a, b| (a.0.keyspace, a.0.key).cmp(&(b.0.keyspace, b.0.key)));
    }
    for (op, seq) in ops {
        active.insert(op.keyspace, op.key, seq, op.value);
    }
    state.next_seq = seq;
    engine.visible_seq.store(seq - 1, Ordering::Release);
    Counters::add(&engine.counters.puts, puts);
    Counters::add(&engine.counters.deletes, deletes);
    Counters::add(&engine.counters.batches, accepted.len() as u64);
    Ok(())
}

/// The batches of a group that passed their conflict checks, and their ops with sequence numbers.
type Assigned<'g> = (Vec<&'g Waiter>, Vec<(BatchOp<'g>, u64)>);

/// Checks each transaction in `group` for conflicts, in queue order, and gives every op of the
/// batches that pass a sequence number from `first_seq` on. A batch that fails gets its
/// `CONFLICT` result here and is left out. The written keys are recorded for later checks.
fn assign_sequences<'g>(
    engine: &Engine,
    group: &'g [Arc<Waiter>],
    first_seq: u64,
) -> Result<Assigned<'g>> {
    let mut accepted = Vec::with_capacity(group.len());
    let mut ops = Vec::new();
    let mut conflicts = engine.conflicts.lock();
    let recording = conflicts.recording();
    let mut seq = first_seq;
    for w in group {
        let batch_start = ops.len();
        for op in decode_payload(w.payload.batch())? {
            ops.push((op?, seq));
            seq += 1;
        }
        if let Some(check) = &w.check {
            let keys = ops[batch_start..].iter().map(|(op, _)| op.key);
            if conflicts.conflicts(check, keys) {
                ops.truncate(batch_start);
                seq = first_seq + ops.len() as u64;
                *w.result.lock() = Some(Err(Error::conflict()));
                Counters::add(&engine.counters.transaction_conflicts, 1);
                continue;
            }
        }
        if recording {
            for (op, seq) in &ops[batch_start..] {
                conflicts.record(op.key, *seq);
            }
        }
        accepted.push(&**w);
    }
    if seq > first_seq {
        conflicts.assigned(seq - 1, recording);
    }
    Ok((accepted, ops))
}

/// Commits a large batch (see `direct_batch_bytes`) without the WAL or the memtable: it is sorted
/// and merged into the tree along with every frozen memtable, and the meta page flip makes it
/// durable and atomic (like LMDB's commit). This writes the data once instead of twice, and a
/// sorted run into an empty or append-only range is built bottom-up, page after page.
fn commit_direct(engine: &Engine, batch: &WriteBatch) -> Result<()> {
    let mut writer = engine.writer.lock();
    engine.check_writable()?;
    engine.check_no_bulk_load()?;
    // Everything committed before this batch goes into the tree with it, under it.
    if !engine.version.load().active().is_empty() {
        freeze(engine, &mut writer)?;
    }
    let mut ops: Vec<(usize, Mutation<'_>)> = Vec::with_capacity(batch.len());
    for (i, op) in batch.ops().enumerate() {
        let op = op?;
        debug_assert_eq!(op.keyspace, crate::batch::DEFAULT_KEYSPACE);
        ops.push((
            i,
            Mutation {
                key: op.key,
                value: op.value,
            },
        ));
    }
    let puts = ops.iter().filter(|(_, m)| m.value.is_some()).count() as u64;
    // Newest op of each key first, then keep only it (bulk loads often arrive sorted already).
    if !ops.windows(2).all(|w| w[0].1.key < w[1].1.key) {
        ops.sort_unstable_by(|a, b| a.1.key.cmp(b.1.key).then(b.0.cmp(&a.0)));
        ops.dedup_by(|later, kept| later.1.key == kept.1.key);
    }
    let run: Vec<Mutation<'_>> = ops.into_iter().map(|(_, m)| m).collect();
    let last_seq = writer.next_seq + batch.len() as u64 - 1;
    {
        // Recorded before the tree install makes the batch readable; see `assign_sequences`.
        let mut conflicts = engine.conflicts.lock();
        let recording = conflicts.recording();
        if recording {
            for m in &run {
                conflicts.record(m.key, last_seq);
            }
        }
        conflicts.assigned(last_seq, recording);
    }
    super::merge::merge_batch(engine, &run, last_seq)?;
    writer.next_seq = last_seq + 1;
    engine.visible_seq.store(last_seq, Ordering::Release);
    Counters::add(&engine.counters.puts, puts);
    Counters::add(&engine.counters.deletes, batch.len() as u64 - puts);
    Counters::add(&engine.counters.batches, 1);
    Ok(())
}

/// Freezes the active memtable if it is full; returns the version to insert into.
fn maybe_freeze(engine: &Engine, writer: &mut WriterState) -> Result<Arc<Version>> {
    let version = engine.version.load_full();
    if (version.active().approximate_bytes() as u64) < engine.options.memtable_size {
        return Ok(version);
    }
    freeze(engine, writer)
}

/// Starts a new WAL segment and a new active memtable; the old one waits for the merge.
pub(crate) fn freeze(engine: &Engine, writer: &mut WriterState) -> Result<Arc<Version>> {
    // A segment is sealed synced: recovery treats damage in a sealed segment as corruption.
    let next_segment = writer.wal.segment() + 1;
    let result = writer.wal.sync().and_then(|_| {
        WalWriter::create(
            &*engine.storage,
            &engine.wal_dir,
            next_segment,
            engine.wal_coding,
            engine.pager.keys().cloned(),
        )
    });
    let wal = match result {
        Ok(wal) => wal,
        Err(e) => {
            engine.fail(&e);
            return Err(e);
        }
    };
    writer.wal = wal;
    let _install = engine.version_install.lock();
    let current = engine.version.load_full();
    let mut memtables = Vec::with_capacity(current.memtables.len() + 1);
    memtables.push(Arc::new(Memtable::new(
        next_segment,
        engine.options.memtable_size,
    )));
    memtables.extend(current.memtables.iter().cloned());
    let version = Arc::new(Version {
        memtables,
        tree: current.tree.clone(),
        fork_generation: engine.fork_generation,
    });
    engine.version.store(version.clone());
    super::merge::wake(engine);
    Ok(version)
}

/// Freezes the active memtable now (if it holds anything), for `flush` and `close`.
pub(crate) fn freeze_active(engine: &Engine) -> Result<()> {
    engine.catch_panic("a freeze", || freeze_active_inner(engine))
}

fn freeze_active_inner(engine: &Engine) -> Result<()> {
    let mut writer = engine.writer.lock();
    engine.check_no_bulk_load()?;
    if engine.version.load().active().is_empty() {
        return Ok(());
    }
    freeze(engine, &mut writer).map(|_| ())
}

/// Slows the leader down, smoothly, while the merge is behind; never stops it.
fn throttle(engine: &Engine, version: &Version) {
    let limit = engine.options.max_frozen_memtables as usize;
    let frozen = version.frozen().len();
    if frozen < limit {
        return;
    }
    // 1 ms at the limit, growing with the backlog, capped so writers keep moving.
    let over = (frozen - limit + 1) as u64;
    let delay = Duration::from_micros((1000 * over * over).min(100_000));
    let start = Instant::now();
    std::thread::sleep(delay);
    Counters::add(&engine.counters.write_stalls, 1);
    Counters::add(
        &engine.counters.write_stall_micros,
        start.elapsed().as_micros() as u64,
    );
}

/// Makes every write so far durable.
pub(crate) fn sync(engine: &Engine) -> Result<()> {
    engine.catch_panic("a sync", || sync_inner(engine))
}

fn sync_inner(engine: &Engine) -> Result<()> {
    let mut writer = engine.writer.lock();
    if writer.wal.is_synced() {
        return Ok(());
    }
    if let Err(e) = writer.wal.sync_and_attest() {
        engine.fail(&e);
        return Err(e);
    }
    Counters::add(&engine.counters.wal_syncs, 1);
    Ok(())
}

/// Stops writes, syncs the WAL and merges everything into the tree.
pub(crate) fn close(engine: &Engine) -> Result<()> {
    engine.closed.store(true, Ordering::Release);
    if engine.failed.load(Ordering::Acquire) {
        let failure = engine
            .failure
            .lock()
            .clone()
            .unwrap_or_else(|| Error::internal("failed without an error"));
        // After a panic (INTERNAL) the close itself succeeds: writes already reported the
        // failure, and nothing is merged from a state the panic may have left half-done (the
        // WAL holds every acknowledged write for the next open). An I/O failure is reported
        // again, as it may say the disk is in trouble.
        if failure.code() == crate::error::ErrorCode::Internal {
            return Ok(());
        }
        return Err(failure);
    }
    engine.catch_panic("a close", || {
        let mut writer = engine.writer.lock();
        writer.wal.sync()?;
        if !engine.version.load().active().is_empty() {
            freeze(engine, &mut writer)?;
        }
        Ok(())
    })?;
    super::merge::merge_all(engine)?;
    super::compact::at_close(engine)
}
