//! `NativeSnapshot`: a read-only view as of one moment.

use std::sync::Arc;

use lightning::safe::Snapshot;
use napi::bindgen_prelude::{BufferSlice, Either};
use napi::Env;
use napi_derive::napi;

use crate::convert::{found, key_range};
use crate::errors::{to_js, Result};
use crate::iter::NativeIter;
use crate::state::{Handle, Slot};

/// The native side of a JavaScript `Snapshot`.
#[napi]
pub struct NativeSnapshot {
    handle: Arc<Handle>,
    snapshot: Arc<Slot<Snapshot>>,
}

impl NativeSnapshot {
    pub fn new(handle: &Arc<Handle>, snapshot: Snapshot) -> NativeSnapshot {
        NativeSnapshot {
            handle: Arc::clone(handle),
            snapshot: handle.adopt(snapshot),
        }
    }

    fn get_handle(&self) -> Result<Arc<Snapshot>> {
        self.snapshot
            .get()
            .ok_or_else(|| self.handle.closed_child("snapshot"))
    }
}

#[napi]
impl NativeSnapshot {
    /// The value of `key` in the snapshot as a new Buffer, or `undefined`.
    #[napi(catch_unwind)]
    pub fn get<'e>(&self, env: &'e Env, key: &[u8]) -> Result<Either<BufferSlice<'e>, ()>> {
        let snapshot = self.get_handle()?;
        let pinned = snapshot.get_pinned(key).map_err(to_js)?;
        found(env, pinned.as_deref())
    }

    /// A lazy iterator over a range of the snapshot.
    #[napi(catch_unwind)]
    pub fn range(
        &self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        prefix: Option<&[u8]>,
        reverse: bool,
    ) -> Result<NativeIter> {
        let snapshot = self.get_handle()?;
        let range = key_range(start, end, prefix, reverse);
        let iter = snapshot.iter(&range).map_err(to_js)?;
        Ok(NativeIter::new(&self.handle, iter))
    }

    /// The sequence number of the last write the snapshot sees.
    #[napi(catch_unwind)]
    pub fn sequence(&self) -> Result<f64> {
        Ok(self.get_handle()?.sequence() as f64)
    }

    /// Releases the snapshot; closing twice is fine.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.snapshot.clear();
    }
}
