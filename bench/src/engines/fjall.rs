//! fjall: an LSM-tree with a journal.
//!
//! The plain (non-transactional) `Database` with one keyspace, a block cache of
//! [`CACHE_BYTES`] and otherwise defaults. By default every write is flushed to the OS but not
//! fsynced (buffered); durable writes then call `Database::persist(PersistMode::SyncData)`,
//! the fdatasync that fjall's documentation suggests for ACID commits (Lightning DB and LMDB
//! fdatasync too). Bulk loads use the keyspace's ingestion, which fjall recommends for sorted
//! input: it writes tables directly, bypassing journal and memtable.

use std::hint::black_box;
use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::{touch, Engine, Key, Reader, Result, Value, CACHE_BYTES};

/// An open fjall database with its one keyspace.
pub struct FjallEngine {
    db: Database,
    keyspace: Keyspace,
}

impl FjallEngine {
    /// Creates a database in the (empty) directory `dir`.
    pub fn open(dir: &Path) -> Result<FjallEngine> {
        let db = Database::builder(dir).cache_size(CACHE_BYTES).open()?;
        let keyspace = db.keyspace("bench", KeyspaceCreateOptions::default)?;
        Ok(FjallEngine { db, keyspace })
    }
}

impl Engine for FjallEngine {
    fn bulk_load(&self, pairs: &[(Key, Value)]) -> Result<()> {
        let mut ingestion = self.keyspace.start_ingestion()?;
        for (key, value) in pairs {
            ingestion.write(key.as_slice(), value.as_slice())?;
        }
        ingestion.finish()?;
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
