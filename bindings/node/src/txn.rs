//! `NativeTxn`: a transaction. The retry loop of `db.transaction(fn)` is in the JavaScript layer.

use std::sync::Arc;

use lightning::safe::Txn;
use napi::bindgen_prelude::{BufferSlice, Either};
use napi::Env;
use napi_derive::napi;

use crate::convert::{found, key_range};
use crate::errors::{to_js, Result};
use crate::iter::NativeIter;
use crate::state::{Handle, Slot};

/// The native side of a JavaScript `Transaction`.
#[napi]
pub struct NativeTxn {
    handle: Arc<Handle>,
    txn: Arc<Slot<Txn>>,
}

impl NativeTxn {
    pub fn new(handle: &Arc<Handle>, txn: Txn) -> NativeTxn {
        NativeTxn {
            handle: Arc::clone(handle),
            txn: handle.adopt(txn),
        }
    }

    fn get_handle(&self) -> Result<Arc<Txn>> {
        self.txn
            .get()
            .ok_or_else(|| self.handle.closed_child("transaction"))
    }
}

#[napi]
impl NativeTxn {
    /// The value of `key` as this transaction sees it, as a new Buffer, or `undefined`.
    #[napi(catch_unwind)]
    pub fn get<'e>(&self, env: &'e Env, key: &[u8]) -> Result<Either<BufferSlice<'e>, ()>> {
        let txn = self.get_handle()?;
        let pinned = txn.get_pinned(key).map_err(to_js)?;
        found(env, pinned.as_deref())
    }

    /// Sets `key` to `value` when the transaction commits.
    #[napi(catch_unwind)]
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.get_handle()?.put(key, value).map_err(to_js)
    }

    /// Removes `key` when the transaction commits.
    #[napi(catch_unwind)]
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        self.get_handle()?.delete(key).map_err(to_js)
    }

    /// A lazy iterator over a range as this transaction sees it.
    #[napi(catch_unwind)]
    pub fn range(
        &self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        prefix: Option<&[u8]>,
        reverse: bool,
    ) -> Result<NativeIter> {
        let txn = self.get_handle()?;
        let range = key_range(start, end, prefix, reverse);
        let iter = txn.iter(&range).map_err(to_js)?;
        Ok(NativeIter::new(&self.handle, iter))
    }

    /// Commits; `LDB_CONFLICT` if a concurrent commit got in the way. Finished either way.
    #[napi(catch_unwind)]
    pub fn commit(&self) -> Result<()> {
        let txn = self.get_handle()?;
        let result = txn.commit().map_err(to_js);
        self.txn.clear();
        result
    }

    /// Discards the writes; finished afterwards.
    #[napi(catch_unwind)]
    pub fn rollback(&self) -> Result<()> {
        let txn = self.get_handle()?;
        let result = txn.rollback().map_err(to_js);
        self.txn.clear();
        result
    }
}
