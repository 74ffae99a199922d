//! `NativeBulkLoad`: a bulk load, the database's only writer until it is committed or aborted.

use std::sync::Arc;

use lightning::ldb_status;
use lightning::safe::{BulkLoad, Error as CallError};
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::errors::{invalid_argument, to_js, Result};
use crate::state::{Handle, Slot};
use crate::tasks::DbTask;

/// The native side of a JavaScript `BulkLoad`.
#[napi]
pub struct NativeBulkLoad {
    handle: Arc<Handle>,
    load: Arc<Slot<BulkLoad>>,
}

impl NativeBulkLoad {
    pub fn new(handle: &Arc<Handle>, load: BulkLoad) -> NativeBulkLoad {
        NativeBulkLoad {
            handle: Arc::clone(handle),
            load: handle.adopt(load),
        }
    }

    fn get_handle(&self) -> Result<Arc<BulkLoad>> {
        self.load
            .get()
            .ok_or_else(|| self.handle.closed_child("bulk load"))
    }
}

#[napi]
impl NativeBulkLoad {
    /// Adds a pair; `LDB_INVALID_ARGUMENT` if its key does not sort after the previous one's
    /// (the load goes on without it).
    #[napi(catch_unwind)]
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.get_handle()?.put(key, value).map_err(to_js)
    }

    /// Adds `keys[i]` = `values[i]` in order, stopping at the first failure, which it throws
    /// (the pairs before it are in the load).
    #[napi(catch_unwind)]
    pub fn put_many(&self, keys: Vec<&[u8]>, values: Vec<&[u8]>) -> Result<()> {
        if keys.len() != values.len() {
            return Err(invalid_argument("putMany needs one value per key"));
        }
        let load = self.get_handle()?;
        for (key, value) in keys.iter().zip(&values) {
            load.put(key, value).map_err(to_js)?;
        }
        Ok(())
    }

    /// Makes every pair durable and visible at once. Finished either way.
    #[napi(catch_unwind)]
    pub fn commit(&self) -> Result<()> {
        let load = self.get_handle()?;
        let result = load.commit().map_err(to_js);
        self.load.clear();
        result
    }

    /// Abandons the load: nothing it was given is written. Finished afterwards.
    #[napi(catch_unwind)]
    pub fn abort(&self) -> Result<()> {
        let load = self.get_handle()?;
        let result = load.abort().map_err(to_js);
        self.load.clear();
        result
    }

    /// `commit` on the libuv pool. The load is taken from its slot there, under the database's
    /// read lock, so a `close()` meanwhile either waits for the commit or releases the load
    /// first (and the commit rejects with `LDB_CLOSED`): it never outlives its database.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn commit_async(&self) -> Result<AsyncTask<DbTask<()>>> {
        self.get_handle()?;
        let slot = Arc::clone(&self.load);
        Ok(AsyncTask::new(DbTask::new(&self.handle, move |_db| {
            let load = slot.get().ok_or_else(|| CallError {
                status: ldb_status::LDB_CLOSED,
                message: "the bulk load is closed".to_string(),
            })?;
            let result = load.commit();
            drop(load);
            slot.clear();
            result
        })))
    }
}
