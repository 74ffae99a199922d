//! LMDB through `heed` (LMDB built from source by `lmdb-master-sys`).
//!
//! A map of [`LMDB_MAP_SIZE`] and otherwise default environment flags, so a commit fdatasyncs
//! the data and then the meta page. LMDB has no per-transaction durability, so buffered writes
//! switch the environment flag `NO_SYNC` on (as redb's comparison benchmark does), and durable
//! writes switch it off again. The flag is only changed while holding the write transaction,
//! which serialises the changes as LMDB requires. Bulk loads use `APPEND` (input is sorted) and commit durably, as every engine's do.
//! Reads go through the OS page cache via the memory map. A read-modify-write is one write
//! transaction (get, put, commit, with `NO_SYNC`); LMDB has one writer at a time, so it never
//! conflicts.

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use heed::types::Bytes;
use heed::{
    CommitOrAbort, Env, EnvFlags, EnvOpenOptions, FlagSetMode, PutFlags, RoTxn, RwTxn, WithTls,
};

use super::{
    bump_counter, rmw_key_not_found, touch, Engine, Key, Reader, Result, Value, LMDB_MAP_SIZE,
};

type Table = heed::Database<'static, Bytes, Bytes>;

/// An open LMDB environment with its one (unnamed) database.
pub struct LmdbEngine {
    env: Env,
    db: Table,
    /// Whether `NO_SYNC` is on; read and changed only while holding a write transaction.
    no_sync: AtomicBool,
}

impl LmdbEngine {
    /// Creates an environment in the (empty) directory `dir`.
    pub fn open(dir: &Path) -> Result<LmdbEngine> {
        // SAFETY: the directory is fresh and used by this process only, through this one
        // environment, so the memory map cannot be changed behind LMDB's back.
        let env = unsafe { EnvOpenOptions::new().map_size(LMDB_MAP_SIZE).open(dir)? };
        // The unnamed database, created and committed so that its handle outlives the txn.
        let txn = env.write_txn()?;
        let db: Table = env
            .create_databases_and_commit(txn, |opener, txn| {
                opener
                    .create_database(txn, None)
                    .map(CommitOrAbort::<_, ()>::Commit)
            })?
            .unwrap_commit();
        Ok(LmdbEngine {
            env,
            db,
            no_sync: AtomicBool::new(false),
        })
    }

    /// Begins a write transaction whose commit will fdatasync if and only if `sync`.
    fn write_txn(&self, sync: bool) -> Result<RwTxn<'_>> {
        let txn = self.env.write_txn()?;
        let no_sync = !sync;
        if self.no_sync.load(Ordering::Relaxed) != no_sync {
            let mode = if no_sync {
                FlagSetMode::Enable
            } else {
                FlagSetMode::Disable
            };
            // SAFETY: only the holder of LMDB's single write transaction changes the flags, so
            // no two threads call this at once; NO_SYNC only skips the fsync of later commits.
            unsafe { self.env.set_flags(EnvFlags::NO_SYNC, mode)? };
            self.no_sync.store(no_sync, Ordering::Relaxed);
        }
        Ok(txn)
    }
}

impl Engine for LmdbEngine {
    fn bulk_load(&self, pairs: &[(Key, Value)]) -> Result<()> {
        let mut txn = self.write_txn(true)?;
        for (key, value) in pairs {
            self.db
                .put_with_flags(&mut txn, PutFlags::APPEND, key, value)?;
        }
        txn.commit()?;
        Ok(())
    }

    fn put(&self, key: &[u8], value: &[u8], sync: bool) -> Result<()> {
        let mut txn = self.write_txn(sync)?;
        self.db.put(&mut txn, key, value)?;
        txn.commit()?;
        Ok(())
    }

    fn finish_deferred_work(&self) -> Result<()> {
        Ok(())
    }

    fn write_batch(&self, pairs: &[(Key, Value)]) -> Result<()> {
        let mut txn = self.write_txn(false)?;
        for (key, value) in pairs {
            self.db.put(&mut txn, key, value)?;
        }
        txn.commit()?;
        Ok(())
    }

    fn read_modify_write(&self, key: &[u8]) -> Result<Option<u64>> {
        let mut txn = self.write_txn(false)?;
        let current = self
            .db
            .get(&txn, key)?
            .ok_or_else(|| rmw_key_not_found(key))?;
        let (value, old) = bump_counter(current)?;
        self.db.put(&mut txn, key, &value)?;
        txn.commit()?;
        Ok(Some(old))
    }

    fn reader(&self) -> Result<Box<dyn Reader + '_>> {
        Ok(Box::new(LmdbReader {
            txn: self.env.read_txn()?,
            db: self.db,
        }))
    }

    fn scan(&self) -> Result<u64> {
        let txn = self.env.read_txn()?;
        let mut count = 0u64;
        for entry in self.db.iter(&txn)? {
            let (key, value) = entry?;
            black_box(touch(key).wrapping_add(touch(value)));
            count += 1;
        }
        Ok(count)
    }

    fn close(self: Box<Self>) -> Result<()> {
        let LmdbEngine { env, .. } = *self;
        env.prepare_for_closing().wait();
        Ok(())
    }
}

/// Point reads inside one read transaction.
struct LmdbReader<'e> {
    txn: RoTxn<'e, WithTls>,
    db: Table,
}

impl Reader for LmdbReader<'_> {
    fn get(&mut self, key: &[u8]) -> Result<bool> {
        Ok(match self.db.get(&self.txn, key)? {
            Some(value) => {
                black_box(touch(value));
                true
            }
            None => false,
        })
    }
}
