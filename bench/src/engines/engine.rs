//! [`Engine`]: the trait every engine under test implements, the key and value shapes, and the
//! helpers the implementations share.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Errors of any engine, boxed.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The result type of the benchmark.
pub type Result<T, E = BoxError> = std::result::Result<T, E>;

/// Bytes in every key.
pub const KEY_LEN: usize = 16;

/// Bytes in every value unless `--value-size` says otherwise.
pub const DEFAULT_VALUE_SIZE: usize = 100;

/// The smallest value size: a read-modify-write keeps a counter in a value's first 8 bytes.
pub const MIN_VALUE_SIZE: usize = 8;

/// The value size of this run, set once at start-up (see [`set_value_size`]).
static VALUE_SIZE: AtomicUsize = AtomicUsize::new(DEFAULT_VALUE_SIZE);

/// Bytes in every value of this run.
pub fn value_size() -> usize {
    VALUE_SIZE.load(Ordering::Relaxed)
}

/// Sets the value size of this run; call it before generating any data.
pub fn set_value_size(bytes: usize) {
    VALUE_SIZE.store(bytes, Ordering::Relaxed);
}

/// A key.
pub type Key = [u8; KEY_LEN];

/// A value: [`value_size`] bytes.
pub type Value = Vec<u8>;

/// Cache given to every engine that has one of its own (LMDB uses the OS page cache). Large
/// enough to hold the whole data set of a default run, so reads are warm for everyone.
pub const CACHE_BYTES: u64 = 512 << 20;

/// LMDB's map size: the largest the database may grow to.
pub const LMDB_MAP_SIZE: usize = 16 << 30;

/// An open database of one engine.
pub trait Engine: Send + Sync {
    /// Writes `pairs` in a single batch / transaction and returns once they are durable
    /// (fsynced: every engine at the same durability) and in the engine's read-optimised
    /// structure. `pairs` are sorted by key and the database is empty, so an engine may use its
    /// bulk-load path for sorted input.
    fn bulk_load(&self, pairs: &[(Key, Value)]) -> Result<()>;

    /// Does the work the engine deferred from the writes so far (merging or flushing its
    /// memtable into its read-optimised structure), so that a write workload timed "until
    /// merged" has paid for it. Engines that do that work inside each commit (LMDB, redb)
    /// have nothing to do.
    fn finish_deferred_work(&self) -> Result<()>;

    /// Writes one pair; with `sync`, returns only once it is durable (fsynced).
    fn put(&self, key: &[u8], value: &[u8], sync: bool) -> Result<()>;

    /// Writes `pairs` atomically as one batch / transaction, buffered (no fsync).
    fn write_batch(&self, pairs: &[(Key, Value)]) -> Result<()>;

    /// A point reader for the calling thread. It may hold a read transaction or snapshot, so
    /// callers drop it and take a new one now and then.
    fn reader(&self) -> Result<Box<dyn Reader + '_>>;

    /// Scans every pair in key order, reading the key and value bytes; returns the count.
    fn scan(&self) -> Result<u64>;

    /// Closes the database, waiting for whatever the engine does on close.
    fn close(self: Box<Self>) -> Result<()>;

    /// One read-modify-write transaction with the engine's own (read-write) transactions,
    /// buffered like `put(.., sync = false)`: reads `key`, which must exist, adds one to the
    /// counter in its value (see [`bump_counter`]), writes the value back and commits. Returns
    /// the counter it read, or `None` if the commit failed with a conflict (nothing written).
    fn read_modify_write(&self, key: &[u8]) -> Result<Option<u64>>;

    /// One point read through a fresh reader.
    fn get(&self, key: &[u8]) -> Result<bool> {
        self.reader()?.get(key)
    }
}

/// Point reads, from one thread.
pub trait Reader {
    /// Looks `key` up; reads the value's bytes when found.
    fn get(&mut self, key: &[u8]) -> Result<bool>;
}

/// Reads every byte of `bytes` (so that lazily loaded or memory-mapped data is really read) and
/// returns a checksum that callers pass to [`std::hint::black_box`].
#[inline]
pub fn touch(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(bytes.len() as u64, |acc, &b| acc.wrapping_add(u64::from(b)))
}

/// The value to write back in a read-modify-write: `value` (which must be [`value_size`] bytes)
/// with the little-endian counter in its first 8 bytes plus one (wrapping); and that counter as
/// read.
pub fn bump_counter(value: &[u8]) -> Result<(Value, u64)> {
    if value.len() != value_size() {
        return Err(format!(
            "read-modify-write read a value of {} bytes, expected {}",
            value.len(),
            value_size()
        )
        .into());
    }
    let mut new: Value = value.to_vec();
    let (counter, _) = new
        .split_first_chunk_mut::<8>()
        .ok_or("a value shorter than its counter")?;
    let old = u64::from_le_bytes(*counter);
    *counter = old.wrapping_add(1).to_le_bytes();
    Ok((new, old))
}

/// The error of a read-modify-write whose key is absent (every key it picks was loaded).
pub fn rmw_key_not_found(key: &[u8]) -> BoxError {
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    format!("read-modify-write: key {hex} not found").into()
}
