//! fjall: an LSM-tree with a journal.
//!
//! One keyspace, a block cache of [`CACHE_BYTES`] and otherwise defaults. The database is opened
//! as an `OptimisticTxDatabase` (fjall's transactional database: optimistic concurrency,
//! serializable snapshot isolation) for the read-modify-write transactions only; every other
//! operation goes through the plain `Database` and `Keyspace` inside it, which it opens the
//! same way as `Database::open` does, so those run exactly as on a plain database. By default
//! every write is flushed to the OS but not fsynced (buffered); durable writes then call
//! `Database::persist(PersistMode::SyncData)`, the fdatasync that fjall's documentation suggests
//! for ACID commits (Lightning DB and LMDB fdatasync too). Bulk loads use the keyspace's
//! ingestion, which fjall recommends for sorted input: it writes tables directly, bypassing
//! journal and memtable. A read-modify-write is one `write_tx` (journal persist mode `Buffer`,
//! as for plain writes): get, insert, commit; a commit that returns `Conflict` is reported as a
//! conflict (not retried).

use std::hint::black_box;
use std::path::Path;

use fjall::config::CompressionPolicy;
use fjall::{
    CompressionType, Conflict, Database, Keyspace, KeyspaceCreateOptions, OptimisticTxDatabase,
    PersistMode, Readable,
};

use super::{
    bump_counter, rmw_key_not_found, touch, Engine, Key, Reader, Result, Value, CACHE_BYTES,
};

/// An open fjall database with its one keyspace.
pub struct FjallEngine {
    /// The transactional database, for read-modify-write transactions.
    tx_db: OptimisticTxDatabase,
    /// The plain database inside `tx_db`, for everything else.
    db: Database,
    /// The keyspace's plain handle: non-transactional operations take it, and transactions
    /// name the keyspace with it.
    keyspace: Keyspace,
}

impl FjallEngine {
    /// Creates a database in the (empty) directory `dir`.
    pub fn open(dir: &Path) -> Result<FjallEngine> {
        let tx_db = OptimisticTxDatabase::builder(dir)
            .cache_size(CACHE_BYTES)
            .open()?;
        let keyspace = tx_db
            .keyspace("bench", || {
                let options = KeyspaceCreateOptions::default();
                if crate::compression::enabled() {
                    options
                        .data_block_compression_policy(CompressionPolicy::all(CompressionType::Lz4))
                } else {
                    options
                }
            })?
            .inner()
            .clone();
        // `inner()` is fjall's (doc-hidden) way out of the transactional wrapper, the one its own
        // transaction tests use; the plain database has `batch()`, the transactional one has not.
        let db = tx_db.inner().clone();
        Ok(FjallEngine {
            tx_db,
            db,
            keyspace,
        })
    }
}

impl Engine for FjallEngine {
    fn bulk_load(&self, pairs: &[(Key, Value)]) -> Result<()> {
        let mut ingestion = self.keyspace.start_ingestion()?;
        for (key, value) in pairs {
            ingestion.write(key.as_slice(), value.as_slice())?;
        }
        ingestion.finish()?;
        // Durable like every engine's bulk load.
        self.db.persist(PersistMode::SyncAll)?;
        Ok(())
    }

    fn finish_deferred_work(&self) -> Result<()> {
        // Flush the memtable into a table and wait for it (the call fjall's own tests use);
        // compactions of the tables may still follow.
        self.keyspace.rotate_memtable_and_wait()?;
        Ok(())
    }

    fn put(&self, key: &[u8], value: &[u8], sync: bool) -> Result<()> {
        self.keyspace.insert(key, value)?;
        if sync {
            self.db.persist(PersistMode::SyncData)?;
        }
        Ok(())
    }

    fn write_batch(&self, pairs: &[(Key, Value)]) -> Result<()> {
        let mut batch = self.db.batch();
        for (key, value) in pairs {
            batch.insert(&self.keyspace, key.as_slice(), value.as_slice());
        }
        batch.commit()?;
        Ok(())
    }

    fn read_modify_write(&self, key: &[u8]) -> Result<Option<u64>> {
        let mut tx = self.tx_db.write_tx()?;
        let current = tx
            .get(&self.keyspace, key)?
            .ok_or_else(|| rmw_key_not_found(key))?;
        let (value, old) = bump_counter(&current)?;
        tx.insert(&self.keyspace, key, value.as_slice());
        match tx.commit()? {
            Ok(()) => Ok(Some(old)),
            Err(Conflict) => Ok(None),
        }
    }

    fn reader(&self) -> Result<Box<dyn Reader + '_>> {
        Ok(Box::new(FjallReader {
            keyspace: &self.keyspace,
        }))
    }

    fn scan(&self) -> Result<u64> {
        let mut count = 0u64;
        for entry in self.keyspace.iter() {
            let (key, value) = entry.into_inner()?;
            black_box(touch(&key).wrapping_add(touch(&value)));
            count += 1;
        }
        Ok(count)
    }

    fn close(self: Box<Self>) -> Result<()> {
        // Dropping the database persists the journal and stops its background workers.
        drop(self);
        Ok(())
    }
}

/// Point reads of the latest state; there is nothing to hold.
struct FjallReader<'a> {
    keyspace: &'a Keyspace,
}

impl Reader for FjallReader<'_> {
    fn get(&mut self, key: &[u8]) -> Result<bool> {
        Ok(match self.keyspace.get(key)? {
            Some(value) => {
                black_box(touch(&value));
                true
            }
            None => false,
        })
    }
}
