//! Lightning DB: WAL + memtable + copy-on-write B+tree.
//!
//! Default options except the page cache, which gets [`CACHE_BYTES`] like the other engines'
//! caches. Durability is chosen per write. `bulk_load` is `Database::bulk_load` (the sorted pairs
//! go straight into the B+tree in chunks; the commit fsyncs it and flips the meta page, so the data
//! is durable and read from its final structure); `finish_deferred_work` is `flush()`, which waits
//! until the memtables are merged into the B+tree.
//! Point reads use `get_with`, which reads the value in place. Read-modify-write transactions
//! are `begin_with` snapshot isolation and `Durability::Buffered`, `get_with`, `put`, `commit`;
//! a commit failing with `CONFLICT` is reported as a conflict (not retried).

use std::hint::black_box;
use std::path::Path;

use lightning_db::{
    Database, Durability, ErrorCode, Isolation, Options, Range, TransactionOptions, WriteBatch,
};

use super::{
    bump_counter, rmw_key_not_found, touch, Engine, Key, Reader, Result, Value, CACHE_BYTES,
};

/// An open Lightning DB database.
pub struct LightningEngine {
    db: Database,
}

impl LightningEngine {
    /// Creates a database in the (empty) directory `dir`.
    pub fn open(dir: &Path) -> Result<LightningEngine> {
        let mut opts = Options {
            cache_size: CACHE_BYTES,
            ..Options::default()
        };
        opts.set("compression", crate::compression::policy())?;
        if crate::compression::cipher() != "none" {
            opts.set("encryption", crate::compression::cipher())?;
            opts.set("encryption_key", crate::compression::BENCH_KEY)?;
        }
        let db = Database::open(dir, opts)?;
        Ok(LightningEngine { db })
    }
}

fn durability(sync: bool) -> Durability {
    if sync {
        Durability::Sync
    } else {
        Durability::Buffered
    }
}

fn batch_of(pairs: &[(Key, Value)]) -> WriteBatch {
    let mut batch = WriteBatch::new();
    for (key, value) in pairs {
        batch.put(key, value);
    }
    batch
}

impl Engine for LightningEngine {
    fn bulk_load(&self, pairs: &[(Key, Value)]) -> Result<()> {
        let mut load = self.db.bulk_load()?;
        for (key, value) in pairs {
            load.put(key, value)?;
        }
        // Fsyncs the tree it wrote before its meta page points to it.
        load.commit()?;
        Ok(())
    }

    fn finish_deferred_work(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    fn put(&self, key: &[u8], value: &[u8], sync: bool) -> Result<()> {
        self.db.put_with(key, value, durability(sync))?;
        Ok(())
    }

    fn write_batch(&self, pairs: &[(Key, Value)]) -> Result<()> {
        self.db.write_with(&batch_of(pairs), Durability::Buffered)?;
        Ok(())
    }

    fn read_modify_write(&self, key: &[u8]) -> Result<Option<u64>> {
        let options = TransactionOptions::new()
            .isolation(Isolation::Snapshot)
            .durability(Durability::Buffered);
        let txn = self.db.begin_with(&options)?;
        let (value, old) = txn
            .get_with(key, bump_counter)?
            .ok_or_else(|| rmw_key_not_found(key))??;
        txn.put(key, &value)?;
        match txn.commit() {
            Ok(()) => Ok(Some(old)),
            Err(e) if e.code() == ErrorCode::Conflict => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn reader(&self) -> Result<Box<dyn Reader + '_>> {
        Ok(Box::new(LightningReader { db: &self.db }))
    }

    fn scan(&self) -> Result<u64> {
        let mut cursor = self.db.cursor(Range::all())?;
        cursor.seek_to_first()?;
        let mut count = 0u64;
        while cursor.valid() {
            let key_sum = touch(cursor.key());
            black_box(key_sum.wrapping_add(touch(cursor.value()?)));
            count += 1;
            cursor.next()?;
        }
        Ok(count)
    }

    fn close(self: Box<Self>) -> Result<()> {
        let LightningEngine { db } = *self;
        db.close()?;
        Ok(())
    }
}

/// Point reads: every `get` reads the latest committed state; there is nothing to hold.
struct LightningReader<'a> {
    db: &'a Database,
}

impl Reader for LightningReader<'_> {
    fn get(&mut self, key: &[u8]) -> Result<bool> {
        // `get_with` reads the value in place, like the peers' borrowed values (`get` would
        // copy it into a new Vec).
        let sum = self.db.get_with(key, touch)?;
        Ok(black_box(sum).is_some())
    }
}
