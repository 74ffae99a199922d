//! [`Database`]: the public handle, a facade over the [`Engine`] in `engine/`.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::batch::WriteBatch;
use crate::durability::Durability;
use crate::engine::{self, commit, merge, BulkLoad, Engine, VerifyReport};
use crate::error::Result;
use crate::iterator::{Cursor, Iter};
use crate::limits::check_key;
use crate::locks::Mutex;
use crate::options::Options;
use crate::pinned::PinnedValue;
use crate::range::Range;
use crate::snapshot::Snapshot;
use crate::stats::Stats;
use crate::storage::{FsStorage, Storage};
use crate::txn::{Transaction, TransactionOptions};

/// An open Lightning DB database. Share it between threads by reference or in an `Arc`; every
/// method takes `&self`.
///
/// Dropping the handle closes the database like [`Database::close`], ignoring errors.
pub struct Database {
    engine: Arc<Engine>,
    merge_thread: Mutex<Option<JoinHandle<()>>>,
}

impl Database {
    /// Opens the database in directory `path` (created if missing and `create_if_missing` is set)
    /// with the real file system.
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<Database> {
        Database::open_with_storage(path, options, Arc::new(FsStorage::new()))
    }

    /// Opens the database through `storage`, e.g. a `FaultyStorage` in tests (cargo feature
    /// `fault-injection`).
    pub fn open_with_storage(
        path: impl AsRef<Path>,
        options: Options,
        storage: Arc<dyn Storage>,
    ) -> Result<Database> {
        options.validate()?;
        let engine = Arc::new(engine::open(path.as_ref(), options, storage)?);
        let merge_thread = merge::spawn(engine.clone())?;
        Ok(Database {
            engine,
            merge_thread: Mutex::new(Some(merge_thread)),
        })
    }

    /// The directory this database lives in.
    pub fn path(&self) -> &Path {
        &self.engine.path
    }

    /// Whether the database was closed (or, in a child forked after it was opened, belongs to
    /// the parent: every call fails with `CLOSED` there too).
    pub fn is_closed(&self) -> bool {
        self.engine.closed.load(Ordering::Acquire) || self.engine.inherited_by_fork()
    }

    /// The options it was opened with.
    pub fn options(&self) -> &Options {
        &self.engine.options
    }

    fn default_durability(&self) -> Durability {
        self.engine.default_durability()
    }

    /// Sets `key` to `value`, with the default durability (option `sync`).
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.put_with(key, value, self.default_durability())
    }

    /// Sets `key` to `value` with the given durability.
    pub fn put_with(&self, key: &[u8], value: &[u8], durability: Durability) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.put(key, value);
        self.write_with(&batch, durability)
    }

    /// Removes `key` (absent keys are fine), with the default durability.
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        self.delete_with(key, self.default_durability())
    }

    /// Removes `key` with the given durability.
    pub fn delete_with(&self, key: &[u8], durability: Durability) -> Result<()> {
        let mut batch = WriteBatch::new();
        batch.delete(key);
        self.write_with(&batch, durability)
    }

    /// Applies `batch` atomically, with the default durability.
    pub fn write(&self, batch: &WriteBatch) -> Result<()> {
        self.write_with(batch, self.default_durability())
    }

    /// Applies `batch` atomically with the given durability.
    pub fn write_with(&self, batch: &WriteBatch, durability: Durability) -> Result<()> {
        commit::write(&self.engine, batch, durability)
    }

    /// The value of `key`, or `None` if absent.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_with(key, <[u8]>::to_vec)
    }

    /// Calls `f` with the value of `key` without copying it, if present.
    pub fn get_with<R>(&self, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.engine.check_open()?;
        check_key(key)?;
        self.engine.counters.gets.add(1);
        let seq = self.engine.visible_seq.load(Ordering::Acquire);
        let version = self.engine.version.load();
        version.get_with(key, seq, f)
    }

    /// The value of `key`, or `None`, without copying it where it lies in one piece (see
    /// [`PinnedValue`]). Holding it keeps the memory it lies in alive, like a snapshot.
    pub fn get_pinned(&self, key: &[u8]) -> Result<Option<PinnedValue>> {
        self.engine.check_open()?;
        check_key(key)?;
        self.engine.counters.gets.add(1);
        let (version, seq) = self.engine.read_view();
        version.get_pinned(key, seq)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> Result<bool> {
        Ok(self.get_with(key, |_| ())?.is_some())
    }

    /// A consistent, read-only view of the database as of now. It never blocks writers; the
    /// memory and pages it pins are released when it drops.
    pub fn snapshot(&self) -> Result<Snapshot> {
        self.engine.check_open()?;
        let (version, seq) = self.engine.read_view();
        Ok(Snapshot::new(version, seq))
    }

    /// Begins a read-write transaction with snapshot isolation and the default durability.
    pub fn begin(&self) -> Result<Transaction> {
        self.begin_with(&TransactionOptions::new())
    }

    /// Begins a transaction as `options` say. Fails with `BUSY` when `max_active_transactions`
    /// are open already.
    pub fn begin_with(&self, options: &TransactionOptions) -> Result<Transaction> {
        Transaction::begin(&self.engine, options)
    }

    /// Runs `f` in a read-write transaction with snapshot isolation and commits it, running it
    /// again (up to 16 times, after a short random pause) when the commit conflicts. Returns what
    /// `f` returned, or its error (the transaction is then rolled back).
    ///
    /// `f` may run more than once: keep side effects other than the transaction's out of it.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = lightning_db::Database::open(dir.path(), Default::default())?;
    /// let visits = db.transaction(|txn| {
    ///     let n = txn.get(b"visits")?.map_or(0, |v| v[0]);
    ///     txn.put(b"visits", &[n + 1])?;
    ///     Ok(n + 1)
    /// })?;
    /// assert_eq!(visits, 1);
    /// # Ok::<(), lightning_db::Error>(())
    /// ```
    pub fn transaction<R>(&self, f: impl FnMut(&Transaction) -> Result<R>) -> Result<R> {
        self.transaction_with(&TransactionOptions::new(), f)
    }

    /// [`Database::transaction`] with the isolation, durability and retry count of `options`.
    pub fn transaction_with<R>(
        &self,
        options: &TransactionOptions,
        f: impl FnMut(&Transaction) -> Result<R>,
    ) -> Result<R> {
        crate::txn::run_with_retries(&self.engine, options, f)
    }

    /// Starts a bulk load: pairs in strictly ascending key order, written straight into the tree
    /// (not through the WAL and the memtable) with memory bounded by a chunk of a few MiB,
    /// however many pairs come. [`BulkLoad::commit`] makes them all durable and visible at once;
    /// dropping the load uncommitted abandons them. Keys may be anywhere relative to those the
    /// database holds (a loaded pair replaces the key's value), though a load into an empty
    /// database or past its last key is the fast case: leaves are packed full, page after page.
    ///
    /// The load is the only writer until it commits or drops: other writes, `flush` and
    /// `compact` fail with `BUSY` meanwhile, as does a second `bulk_load`. Readers go on. A
    /// transaction that began before the commit and touches a key between the load's first and
    /// last conflicts.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = lightning_db::Database::open(dir.path(), Default::default())?;
    /// let mut load = db.bulk_load()?;
    /// for i in 0..1000u32 {
    ///     load.put(&i.to_be_bytes(), b"value")?;
    /// }
    /// load.commit()?;
    /// assert_eq!(db.get(&7u32.to_be_bytes())?, Some(b"value".to_vec()));
    /// # Ok::<(), lightning_db::Error>(())
    /// ```
    pub fn bulk_load(&self) -> Result<BulkLoad> {
        BulkLoad::begin(&self.engine)
    }

    /// A cursor over `range` as of now.
    pub fn cursor(&self, range: Range) -> Result<Cursor> {
        Ok(self.snapshot()?.cursor(range))
    }

    /// An iterator over `range` (in its direction) as of now.
    pub fn iter(&self, range: Range) -> Result<Iter> {
        Ok(self.snapshot()?.iter(range))
    }

    /// Makes every write so far durable, including `Buffered` ones.
    pub fn sync(&self) -> Result<()> {
        self.engine.check_writable()?;
        commit::sync(&self.engine)
    }

    /// Moves everything in the memtables into the tree and waits until it is there; the WAL is
    /// then empty.
    pub fn flush(&self) -> Result<()> {
        self.engine.check_writable()?;
        commit::freeze_active(&self.engine)?;
        merge::merge_all(&self.engine)
    }

    /// Gives the page file's free space back to the file system: merges the memtables into the
    /// tree (as [`Database::flush`]), moves the tree's pages out of the file's tail into free
    /// pages nearer its start, and cuts the file. Online: readers and writers go on, and a crash
    /// at any point loses nothing. Pages an open snapshot, iterator or transaction still reads
    /// stay until it is gone (a later merge or compaction gives them back). Returns the bytes the
    /// page file shrank by. Runs by itself after a merge, and at close, when free pages pass a
    /// third of a page file of 64 MiB or more.
    pub fn compact(&self) -> Result<u64> {
        self.flush()?;
        engine::compact::compact(&self.engine)
    }

    /// Changes an encrypted database's key or passphrase to the `encryption_key` or `passphrase`
    /// in `options` (with `kdf` and its costs for a passphrase). Only the wrapped data key in the
    /// meta page is rewritten, atomically: if this fails or the process dies, the old key or the
    /// new one opens the database, never neither. Errors: `INVALID_ARGUMENT` for a database that
    /// is not encrypted, `INVALID_OPTION` when `options` hold no new key or a bad one.
    pub fn rekey(&self, options: &Options) -> Result<()> {
        self.engine.check_open()?;
        engine::rekey(&self.engine, options)
    }

    /// Whether the `encryption_key` or `passphrase` in `options` (or neither, for a database
    /// that is not encrypted) opens this database: `Ok`, or the error [`Database::open`] would
    /// give (`WRONG_KEY`, `INVALID_OPTION`). For code that hands an open database to a second
    /// opener, as the Node binding does, so that it is held to the same key.
    pub fn check_key(&self, options: &Options) -> Result<()> {
        self.engine.check_open()?;
        options.validate()?;
        self.engine.pager.check_key(options)
    }

    /// Counters and sizes.
    pub fn stats(&self) -> Stats {
        Stats::gather(&self.engine)
    }

    /// Reads every page of the page file and every WAL record, checking checksums and structure.
    /// Returns what it found, or a `CORRUPTION` error naming the file and the fault.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.engine.check_open()?;
        engine::verify(&self.engine)
    }

    /// Closes the database like [`Database::close`], through a shared reference: for handles that
    /// outlive their close, as the C ABI's do. Later calls fail with `CLOSED`; closing again is a
    /// no-op. In a child forked after the open, the handle is the parent's: every call fails with
    /// `CLOSED`, and closing it (or dropping it) changes nothing on disk. The directory's lock is released at once if no snapshot, iterator, transaction or
    /// pinned value is left, else when the last of them is dropped. Must not run while another
    /// thread is starting a read on this handle.
    pub fn close_in_place(&self) -> Result<()> {
        self.close_inner()
    }

    /// Closes the database: merges everything into the tree so nothing is left to recover, stops
    /// the merge thread and releases the directory's lock once no snapshot or cursor is left.
    /// Calls made afterwards (through other references) fail with `CLOSED`.
    pub fn close(self) -> Result<()> {
        self.close_inner()
    }

    fn close_inner(&self) -> Result<()> {
        if self.engine.inherited_by_fork() {
            // A forked child's copy of the parent's handle: the merge thread and the writer are
            // the parent's (they do not exist here) and so are the files. Touch nothing, wait for
            // nothing; the lock was already let go of in the child (`fork.rs`).
            if let Some(thread) = self.merge_thread.try_lock().and_then(|mut t| t.take()) {
                crate::fork::keep_parents_thread(thread);
            }
            return Ok(());
        }
        let Some(thread) = self.merge_thread.lock().take() else {
            return Ok(());
        };
        let result = commit::close(&self.engine);
        self.engine.closed.store(true, Ordering::Release);
        merge::stop(&self.engine);
        let _ = thread.join();
        // The handle itself may outlive the close (`close_in_place`): the lock should not, unless
        // a reader still needs the file.
        if self.nothing_reads_the_file() {
            self.engine.pager.release_lock();
        }
        result
    }

    /// Whether no snapshot, cursor, transaction or pinned value holds a tree: the only
    /// references left are the database's own (the current version, its tree, the pager).
    fn nothing_reads_the_file(&self) -> bool {
        let version = self.engine.version.load_full();
        Arc::strong_count(&version) == 2
            && Arc::strong_count(&version.tree) == 1
            && Arc::strong_count(&self.engine.pager) == 2
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.close_inner();
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.engine.path)
            .finish_non_exhaustive()
    }
}
