//! redb: copy-on-write B-trees in one file.
//!
//! A cache of [`CACHE_BYTES`] (redb's default is 1 GiB; every engine gets the same) and
//! otherwise defaults. Every write is its own write transaction with `Durability::None`
//! (buffered; redb keeps such commits in memory until a durable one) or
//! `Durability::Immediate` (fsync on commit). A read-modify-write is one `Durability::None`
//! write transaction (get, insert, commit); redb has one writer at a time, so it never
//! conflicts. The bulk load commits with `Durability::Immediate`, as every engine's is durable.

use std::hint::black_box;
use std::path::Path;

use redb::{
    Database, Durability, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, WriteTransaction,
};

use super::{
    bump_counter, rmw_key_not_found, touch, Engine, Key, Reader, Result, Value, CACHE_BYTES,
};

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("bench");

/// An open redb database with its one table.
pub struct RedbEngine {
    db: Database,
}

impl RedbEngine {
    /// Creates a database file in the (empty) directory `dir`.
    pub fn open(dir: &Path) -> Result<RedbEngine> {
        let db = Database::builder()
            .set_cache_size(usize::try_from(CACHE_BYTES)?)
            .create(dir.join("bench.redb"))?;
        // Create the table, so that readers find it even before the first write.
        let txn = db.begin_write()?;
        txn.open_table(TABLE)?;
        txn.commit()?;
        Ok(RedbEngine { db })
    }

    fn write_txn(&self, sync: bool) -> Result<WriteTransaction> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(if sync {
            Durability::Immediate
        } else {
            Durability::None
        })?;
        Ok(txn)
    }

    fn write_pairs(&self, pairs: &[(Key, Value)], sync: bool) -> Result<()> {
        let txn = self.write_txn(sync)?;
        {
            let mut table = txn.open_table(TABLE)?;
            for (key, value) in pairs {
                table.insert(key.as_slice(), value.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

impl Engine for RedbEngine {
    fn bulk_load(&self, pairs: &[(Key, Value)]) -> Result<()> {
        self.write_pairs(pairs, true)
    }

    fn finish_deferred_work(&self) -> Result<()> {
        Ok(())
    }

    fn put(&self, key: &[u8], value: &[u8], sync: bool) -> Result<()> {
        let txn = self.write_txn(sync)?;
        {
            let mut table = txn.open_table(TABLE)?;
            table.insert(key, value)?;
        }
        txn.commit()?;
        Ok(())
    }

    fn write_batch(&self, pairs: &[(Key, Value)]) -> Result<()> {
        self.write_pairs(pairs, false)
    }

    fn read_modify_write(&self, key: &[u8]) -> Result<Option<u64>> {
        let txn = self.write_txn(false)?;
        let old = {
            let mut table = txn.open_table(TABLE)?;
            let (value, old) = {
                let current = table.get(key)?.ok_or_else(|| rmw_key_not_found(key))?;
                bump_counter(current.value())?
            };
            table.insert(key, value.as_slice())?;
            old
        };
        txn.commit()?;
        Ok(Some(old))
    }

    fn reader(&self) -> Result<Box<dyn Reader + '_>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TABLE)?;
        Ok(Box::new(RedbReader { table, _txn: txn }))
    }

    fn scan(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(TABLE)?;
        let mut count = 0u64;
        for entry in table.iter()? {
            let (key, value) = entry?;
            black_box(touch(key.value()).wrapping_add(touch(value.value())));
            count += 1;
        }
        Ok(count)
    }

    fn close(self: Box<Self>) -> Result<()> {
        self.db.close()?;
        Ok(())
    }
}

/// Point reads inside one read transaction.
struct RedbReader {
    table: ReadOnlyTable<&'static [u8], &'static [u8]>,
    _txn: ReadTransaction,
}

impl Reader for RedbReader {
    fn get(&mut self, key: &[u8]) -> Result<bool> {
        Ok(match self.table.get(key)? {
            Some(value) => {
                black_box(touch(value.value()));
                true
            }
            None => false,
        })
    }
}
