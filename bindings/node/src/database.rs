//! `NativeDb`: the native side of a JavaScript `Database`.

use std::sync::Arc;

use lightning::safe::Batch;
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::Env;
use napi_derive::napi;

use crate::bulk_load::NativeBulkLoad;
use crate::convert::{self, key_range};
use crate::errors::{invalid_argument, to_js, Result};
use crate::iter::NativeIter;
use crate::snapshot::NativeSnapshot;
use crate::state::Handle;
use crate::tasks::{DbTask, Get};
use crate::txn::NativeTxn;

/// The fast calls `{ get, has, put, delete }` on a handle's External (see `fast.rs`).
#[napi(catch_unwind, ts_return_type = "unknown")]
pub fn fast_functions(env: &Env) -> Result<Unknown<'_>> {
    crate::fast::functions(env)
}

/// Opens (or shares, in this process) the database in directory `path`; `options` are
/// name/value pairs back to back: `[name, value, name, value, ...]`.
#[napi(catch_unwind)]
pub fn open(path: String, options: Vec<String>) -> Result<NativeDb> {
    convert::check_pairs(&options)?;
    let handle = Handle::open(&path, &convert::pairs(&options)).map_err(to_js)?;
    Ok(NativeDb {
        handle: Arc::new(handle),
    })
}

/// An open database handle (one per JavaScript `Database`).
#[napi]
pub struct NativeDb {
    handle: Arc<Handle>,
}

#[napi]
impl NativeDb {
    // get, has, put and delete are the fast calls of `fast.rs`, on `external()`.

    /// Applies puts (`values[i]` a Uint8Array) and deletes (`values[i]` null) atomically.
    #[napi(catch_unwind)]
    pub fn write(
        &self,
        keys: Vec<&[u8]>,
        values: Vec<Option<&[u8]>>,
        durability: u32,
    ) -> Result<()> {
        let batch = make_batch(&keys, &values)?;
        let durability = convert::durability(durability);
        self.handle.with(|db| db.write(&batch, durability))
    }

    /// A lazy iterator over a range, seeing the database as of now.
    #[napi(catch_unwind)]
    pub fn range(
        &self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        prefix: Option<&[u8]>,
        reverse: bool,
    ) -> Result<NativeIter> {
        let range = key_range(start, end, prefix, reverse);
        let iter = self.handle.with(|db| db.iter(&range))?;
        Ok(NativeIter::new(&self.handle, iter))
    }

    /// A consistent read-only view as of now.
    #[napi(catch_unwind)]
    pub fn snapshot(&self) -> Result<NativeSnapshot> {
        let snapshot = self.handle.with(|db| db.snapshot())?;
        Ok(NativeSnapshot::new(&self.handle, snapshot))
    }

    /// Begins a transaction.
    #[napi(catch_unwind)]
    pub fn begin(&self, isolation: u32, read_only: bool, durability: u32) -> Result<NativeTxn> {
        let isolation = convert::isolation(isolation);
        let durability = convert::durability(durability);
        let txn = self
            .handle
            .with(|db| db.begin(isolation, read_only, durability))?;
        Ok(NativeTxn::new(&self.handle, txn))
    }

    /// Begins a bulk load (after merging what is in memory into the page file).
    #[napi(catch_unwind)]
    pub fn bulk_load(&self) -> Result<NativeBulkLoad> {
        let load = self.handle.with(|db| db.bulk_load())?;
        Ok(NativeBulkLoad::new(&self.handle, load))
    }

    /// Makes every write so far durable.
    #[napi(catch_unwind)]
    pub fn sync(&self) -> Result<()> {
        self.handle.with(|db| db.sync())
    }

    /// Merges everything in memory into the page file.
    #[napi(catch_unwind)]
    pub fn flush(&self) -> Result<()> {
        self.handle.with(|db| db.flush())
    }

    /// Gives the page file's free space back; the bytes it shrank by.
    #[napi(catch_unwind)]
    pub fn compact(&self) -> Result<f64> {
        self.handle
            .with(|db| db.compact())
            .map(|bytes| bytes as f64)
    }

    /// Changes an encrypted database's key or passphrase to the `encryption_key` or `passphrase`
    /// in `options` (name/value pairs back to back, as for `open`; with `kdf` and its costs for a
    /// passphrase).
    #[napi(catch_unwind)]
    pub fn rekey(&self, options: Vec<String>) -> Result<()> {
        convert::check_pairs(&options)?;
        self.handle.with(|db| db.rekey(&convert::pairs(&options)))
    }

    /// Counters and sizes, one `name=value` line each.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> Result<String> {
        self.handle.with(|db| db.stats())
    }

    /// Checks every page and WAL record; what was checked, one `name=value` line each.
    #[napi(catch_unwind)]
    pub fn verify(&self) -> Result<String> {
        self.handle.with(|db| db.verify())
    }

    /// Closes this handle (the engine when it is the last one); closing twice is fine.
    #[napi(catch_unwind)]
    pub fn close(&self) -> Result<()> {
        self.handle.close().map_err(to_js)
    }

    /// This handle as a tagged External for the fast calls (`fast.rs`).
    #[napi(catch_unwind, ts_return_type = "unknown")]
    pub fn external<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        crate::fast::external(env, &self.handle)
    }

    /// Whether `close()` was called.
    #[napi(getter, catch_unwind)]
    pub fn closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// `get` on the libuv pool; the key is copied first.
    #[napi(catch_unwind, ts_return_type = "Promise<Buffer | undefined>")]
    pub fn get_async(&self, key: &[u8]) -> AsyncTask<DbTask<Get>> {
        let key = key.to_vec();
        AsyncTask::new(DbTask::new(&self.handle, move |db| db.get(&key)))
    }

    /// `put` on the libuv pool; key and value are copied first.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn put_async(&self, key: &[u8], value: &[u8], durability: u32) -> AsyncTask<DbTask<()>> {
        let (key, value) = (key.to_vec(), value.to_vec());
        let durability = convert::durability(durability);
        AsyncTask::new(DbTask::new(&self.handle, move |db| {
            db.put(&key, &value, durability)
        }))
    }

    /// `write` on the libuv pool; the batch is built (copied) first.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn write_async(
        &self,
        keys: Vec<&[u8]>,
        values: Vec<Option<&[u8]>>,
        durability: u32,
    ) -> Result<AsyncTask<DbTask<()>>> {
        let batch = make_batch(&keys, &values)?;
        let durability = convert::durability(durability);
        Ok(AsyncTask::new(DbTask::new(&self.handle, move |db| {
            db.write(&batch, durability)
        })))
    }

    /// `sync` on the libuv pool.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn sync_async(&self) -> AsyncTask<DbTask<()>> {
        AsyncTask::new(DbTask::new(&self.handle, |db| db.sync()))
    }

    /// `compact` on the libuv pool.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    pub fn compact_async(&self) -> AsyncTask<DbTask<u64>> {
        AsyncTask::new(DbTask::new(&self.handle, |db| db.compact()))
    }

    /// `rekey` on the libuv pool: a passphrase's key derivation may take a second or more.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn rekey_async(&self, options: Vec<String>) -> Result<AsyncTask<DbTask<()>>> {
        convert::check_pairs(&options)?;
        Ok(AsyncTask::new(DbTask::new(&self.handle, move |db| {
            db.rekey(&convert::pairs(&options))
        })))
    }
}

impl Drop for NativeDb {
    /// A `Database` collected without `close()` is closed here.
    fn drop(&mut self) {
        let _ = self.handle.close();
    }
}

/// A batch of puts (`values[i]` set) and deletes (`values[i]` null), in order.
fn make_batch(keys: &[&[u8]], values: &[Option<&[u8]>]) -> Result<Batch> {
    if keys.len() != values.len() {
        return Err(invalid_argument(
            "a batch needs one value (or null) per key",
        ));
    }
    let mut batch = Batch::new().map_err(to_js)?;
    for (key, value) in keys.iter().zip(values) {
        match value {
            Some(value) => batch.put(key, value),
            None => batch.delete(key),
        }
        .map_err(to_js)?;
    }
    Ok(batch)
}
