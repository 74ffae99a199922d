//! The natives of `io.lightningdb.DbIterator`: entries handed to Java in chunks.
//!
//! Each `nNext` call reads a chunk of entries and copies them, packed, into the iterator's own
//! `byte[]` (reused from chunk to chunk: no allocation per chunk), so a scan crosses into native
//! code once per chunk, not once per entry. Chunks start small (taking the first entry of a big
//! range stays cheap) and grow for scans. The packing, per entry (lengths little-endian):
//! `key_len u32, value_len u32, key, value`.

use std::sync::Arc;

use jni::objects::{JByteArray, JClass, JObject};
use jni::sys::{jint, jlong};
use jni::JNIEnv;
use lightning::safe::locks::Mutex;
use lightning::safe::{Chunked, Iter};

use crate::errors::{argument, run, Result};
use crate::state::{self, Child, DbState};

/// A chunk stops growing past this many bytes (but holds at least one entry).
const MAX_CHUNK_BYTES: usize = 1 << 20;

/// An engine iterator and where it is.
pub struct Cursor {
    chunks: Chunked,
    data: Vec<u8>,
    /// `data` holds a chunk that did not fit in the Java array: hand it over next time.
    pending: bool,
}

impl Cursor {
    /// A new iterator child of `state`, as a handle for Java.
    pub fn into_handle(state: &Arc<DbState>, iter: Iter) -> jlong {
        let cursor = Cursor {
            chunks: Chunked::new(iter),
            data: Vec::new(),
            pending: false,
        };
        Child::into_handle(state, Mutex::new(cursor), "iterator")
    }

    /// Packs the next chunk into `self.data`; empty at the end.
    fn fill(&mut self) -> Result<()> {
        self.data.clear();
        let data = &mut self.data;
        self.chunks.read_chunk(|iter| {
            let key = iter.key().unwrap_or_default();
            let at = data.len();
            data.extend_from_slice(&(key.len() as u32).to_le_bytes());
            data.extend_from_slice(&[0; 4]);
            data.extend_from_slice(key);
            let value = iter.value()?.unwrap_or_default();
            data[at + 4..at + 8].copy_from_slice(&(value.len() as u32).to_le_bytes());
            data.extend_from_slice(value);
            Ok(data.len() < MAX_CHUNK_BYTES)
        })?;
        Ok(())
    }
}

fn child<'a>(handle: jlong) -> Result<&'a Child<Mutex<Cursor>>> {
    // SAFETY: the handle is the receiver's, made by `Cursor::into_handle`; the receiver is
    // alive during this call, so the `Cleaner` has not freed it.
    unsafe { state::child(handle) }
}

/// `int nNext(long handle, byte[] buffer)`: copies the next chunk of entries, packed, into
/// `buffer` and returns its length; 0 at the end. If the chunk is longer than `buffer`, nothing
/// is copied and the call returns minus the length needed: call again with a buffer that long.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_DbIterator_nNext<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    buffer: JByteArray<'l>,
) -> jint {
    run(&mut env, 0, |env| {
        if buffer.is_null() {
            return Err(argument("the buffer is null"));
        }
        let room = env.get_array_length(&buffer)? as usize;
        child(handle)?.with(|cursor| {
            // One thread at a time per iterator (documented); `lock` just makes misuse safe.
            let mut cursor = cursor.lock();
            if !cursor.pending {
                cursor.fill()?;
            }
            let len = cursor.data.len();
            if len > room {
                cursor.pending = true;
                return Ok(-jint::try_from(len).map_err(|_| argument("a chunk over 2 GiB"))?);
            }
            cursor.pending = false;
            // SAFETY: `u8` and `i8` have the same size and alignment; the slice borrows `data`.
            let bytes =
                unsafe { std::slice::from_raw_parts(cursor.data.as_ptr().cast::<i8>(), len) };
            env.set_byte_array_region(&buffer, 0, bytes)?;
            Ok(len as jint)
        })
    })
}

/// `void nClose(long handle)`: releases the engine's iterator; closing twice is fine.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_DbIterator_nClose<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        child(handle)?.close();
        Ok(())
    })
}

/// `static void nFree(long handle)`: the `Cleaner`'s last step.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_DbIterator_nFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        // SAFETY: called once per handle, by the `Cleaner` of the unreachable object, so no
        // call can be using it.
        unsafe { state::free_child::<Mutex<Cursor>>(handle) };
        Ok(())
    })
}
