//! The natives of `io.lightningdb.LightningDb`.

use std::mem::MaybeUninit;
use std::sync::Arc;

use jni::objects::{JByteArray, JByteBuffer, JClass, JObject};
use jni::sys::{jboolean, jbyteArray, jint, jlong, jstring, JNI_TRUE};
use jni::JNIEnv;
use lightning::safe::{Batch, Db, Durability, Isolation, KeyRange, ReadInto};

use crate::bytes::{self, Bytes};
use crate::errors::{argument, run, Result};
use crate::iter::Cursor;
use crate::state::{self, Child, DbState};

/// Values up to this size are read by copying into a buffer on the stack, with no allocation
/// on the engine's side; longer ones through a pinned handle.
const READ_BUFFER: usize = 2048;

/// Durability as the Java enum's ordinal: DEFAULT, SYNC, BUFFERED.
pub fn durability(ordinal: jint) -> Result<Durability> {
    match ordinal {
        0 => Ok(Durability::Default),
        1 => Ok(Durability::Sync),
        2 => Ok(Durability::Buffered),
        _ => Err(argument(format!("unknown durability {ordinal}"))),
    }
}

/// A key range from the Java `Range`'s parts (`null`: no bound).
pub fn key_range(
    env: &JNIEnv<'_>,
    start: &JByteArray<'_>,
    end: &JByteArray<'_>,
    prefix: &JByteArray<'_>,
    reverse: jboolean,
) -> Result<KeyRange> {
    Ok(KeyRange {
        start: Bytes::read_optional(env, start)?,
        end: Bytes::read_optional(env, end)?,
        prefix: Bytes::read_optional(env, prefix)?,
        reverse: reverse == JNI_TRUE,
    })
}

/// A Java `byte[]` with `value`, as a raw local reference.
pub fn new_array(env: &JNIEnv<'_>, value: &[u8]) -> Result<jbyteArray> {
    Ok(env.byte_array_from_slice(value)?.into_raw())
}

/// A new Java array holding `value`, or `null` for an absent value.
pub fn new_array_or_null(env: &JNIEnv<'_>, value: Option<&[u8]>) -> Result<jbyteArray> {
    match value {
        Some(value) => new_array(env, value),
        None => Ok(std::ptr::null_mut()),
    }
}

fn with_db<R>(handle: jlong, f: impl FnOnce(&Db) -> Result<R>) -> Result<R> {
    // SAFETY: the handle is the receiver's, which is alive during this call, so the `Cleaner`
    // has not freed it.
    let state = unsafe { state::db(handle) }?;
    state.with(f)
}

fn db_state<'a>(handle: jlong) -> Result<&'a Arc<DbState>> {
    // SAFETY: as in `with_db`.
    unsafe { state::db(handle) }
}

/// `static long nOpen(byte[] path, byte[] options)`: options are UTF-8 `name NUL value NUL` pairs.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nOpen<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JByteArray<'l>,
    options: JByteArray<'l>,
) -> jlong {
    run(&mut env, 0, |env| {
        let path = String::from_utf8(env.convert_byte_array(&path)?)
            .map_err(|_| argument("the path is not valid UTF-8"))?;
        let options = Secret(read_options(env, &options)?);
        let db = Db::open(&path, &option_pairs(&options.0))?;
        Ok(state::db_into_handle(db))
    })
}

/// Text that may hold a secret option (`encryption_key`, `passphrase`): overwritten with zeros
/// when dropped, so the secret does not linger in freed memory.
struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        // SAFETY: every byte written is 0, so the contents stay valid UTF-8.
        unsafe { self.0.as_bytes_mut() }.fill(0);
    }
}

/// The Java `Options.encode()` bytes: UTF-8 `name NUL value NUL` pairs.
fn read_options(env: &JNIEnv<'_>, options: &JByteArray<'_>) -> Result<String> {
    if options.is_null() {
        return Err(argument("the options are null"));
    }
    String::from_utf8(env.convert_byte_array(options)?).map_err(|e| {
        e.into_bytes().fill(0);
        // Never echo the text: it may hold a secret.
        argument("an option is not valid UTF-8")
    })
}

/// The (name, value) pairs of [`read_options`]' text. Java's `Options` refuses NUL in names and
/// values, so the pairs line up.
fn option_pairs(options: &str) -> Vec<(&str, &str)> {
    let parts: Vec<&str> = options.split('\0').collect();
    parts
        .chunks_exact(2)
        .map(|pair| (pair[0], pair[1]))
        .collect()
}

/// `byte[] nGet(long handle, byte[] key)`: the value, or `null` if absent.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nGet<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteArray<'l>,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| {
        let key = Bytes::read(env, &key, "key")?;
        let key = key.as_slice();
        let mut buf = [MaybeUninit::<u8>::uninit(); READ_BUFFER];
        let long = match with_db(handle, |db| Ok(db.get_into(key, &mut buf)?))? {
            ReadInto::Absent => return Ok(std::ptr::null_mut()),
            ReadInto::Copied(value) => return new_array(env, value),
            ReadInto::TooLong(_) => with_db(handle, |db| Ok(db.get_pinned(key)?))?,
        };
        new_array_or_null(env, long.as_deref())
    })
}

/// `static long nAddress(ByteBuffer buffer)`: a direct buffer's address (for `Scratch`).
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nAddress<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    buffer: JByteBuffer<'l>,
) -> jlong {
    run(&mut env, 0, |env| {
        if buffer.is_null() {
            return Err(argument("the buffer is null"));
        }
        Ok(env.get_direct_buffer_address(&buffer)? as jlong)
    })
}

/// `int nGetAt(long handle, long keyAddress, int keyLen, long valueAddress, int valueCap)`:
/// the fast path of `get` through the calling thread's `Scratch` buffer. Copies the value to
/// `valueAddress` if it fits in `valueCap` bytes; returns its length, or -1 if absent. No JNI
/// call is made, so nothing here can reenter Java.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nGetAt<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key_address: jlong,
    key_len: jint,
    value_address: jlong,
    value_cap: jint,
) -> jint {
    run(&mut env, -1, |_| {
        // SAFETY: `LightningDb.get` passes its thread's `Scratch` buffer (kept alive by a
        // thread-local): `key_len` bytes of key at `key_address` and `value_cap` writable bytes
        // at `value_address`, not overlapping; no other thread uses that buffer, and the
        // slices live only during this call.
        let (key, out) = unsafe {
            (
                std::slice::from_raw_parts(key_address as *const u8, key_len as usize),
                std::slice::from_raw_parts_mut(
                    value_address as *mut MaybeUninit<u8>,
                    value_cap as usize,
                ),
            )
        };
        Ok(match with_db(handle, |db| Ok(db.get_into(key, out)?))? {
            ReadInto::Absent => -1,
            ReadInto::Copied(v) => v.len() as jint,
            ReadInto::TooLong(len) => jint::try_from(len).unwrap_or(jint::MAX),
        })
    })
}

/// `void nPutAt(long handle, long address, int keyLen, int valueLen, int durability)`: the fast
/// path of `put` through the calling thread's `Scratch` buffer: the key at `address`, the value
/// right after it. No JNI call is made on success.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nPutAt<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    address: jlong,
    key_len: jint,
    value_len: jint,
    durability: jint,
) {
    run(&mut env, (), |_| {
        let durability = self::durability(durability)?;
        // SAFETY: `LightningDb.put` passes its thread's `Scratch` buffer, filled with the pair;
        // the slices live only during this call.
        let (key, value) = unsafe { bytes::scratch_pair(address, key_len, value_len) };
        with_db(handle, |db| Ok(db.put(key, value, durability)?))
    })
}

/// `int nGetDirect(long handle, ByteBuffer key, int keyPos, int keyLen, ByteBuffer value,
/// int valuePos, int valueCap)`: copies the value into the direct buffer `value` at `valuePos`
/// if it fits in `valueCap` bytes; returns its length, or -1 if absent.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_lightningdb_LightningDb_nGetDirect<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteBuffer<'l>,
    key_pos: jint,
    key_len: jint,
    value: JByteBuffer<'l>,
    value_pos: jint,
    value_cap: jint,
) -> jint {
    run(&mut env, -1, |env| {
        let key = bytes::direct(env, &key, key_pos, key_len, "key")?;
        let out = bytes::direct(env, &value, value_pos, value_cap, "value")?;
        // The key and the value's room may overlap (the same buffer twice): read from a copy of
        // the key then, so the engine never reads memory it is writing.
        let copy;
        let key = if bytes::overlap(key, out) {
            // SAFETY: the buffer's initialised memory, read here only, before any write.
            copy = unsafe { bytes::slice(key) }.to_vec();
            copy.as_slice()
        } else {
            // SAFETY: the buffer's initialised memory, only read during this call, not
            // overlapping `out`; the buffer keeps it allocated.
            unsafe { bytes::slice(key) }
        };
        // SAFETY: the buffer's memory, written only by the engine during this call; `key` does
        // not reach it (checked just above).
        let out = unsafe { bytes::slice_mut(out) };
        Ok(match with_db(handle, |db| Ok(db.get_into(key, out)?))? {
            ReadInto::Absent => -1,
            ReadInto::Copied(v) => v.len() as jint,
            ReadInto::TooLong(len) => jint::try_from(len).unwrap_or(jint::MAX),
        })
    })
}

/// `void nPut(long handle, byte[] key, byte[] value, int durability)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nPut<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteArray<'l>,
    value: JByteArray<'l>,
    durability: jint,
) {
    run(&mut env, (), |env| {
        let durability = self::durability(durability)?;
        let key = Bytes::read(env, &key, "key")?;
        let value = Bytes::read(env, &value, "value")?;
        with_db(handle, |db| {
            Ok(db.put(key.as_slice(), value.as_slice(), durability)?)
        })
    })
}

/// `void nPutDirect(long handle, ByteBuffer key, int keyPos, int keyLen, ByteBuffer value,
/// int valuePos, int valueLen, int durability)`: reads both direct buffers in place.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_io_lightningdb_LightningDb_nPutDirect<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteBuffer<'l>,
    key_pos: jint,
    key_len: jint,
    value: JByteBuffer<'l>,
    value_pos: jint,
    value_len: jint,
    durability: jint,
) {
    run(&mut env, (), |env| {
        let durability = self::durability(durability)?;
        let key = bytes::direct(env, &key, key_pos, key_len, "key")?;
        let value = bytes::direct(env, &value, value_pos, value_len, "value")?;
        // SAFETY: both are the buffers' initialised memory, only read, during this call only;
        // the buffers (live local references) keep it allocated.
        let (key, value) = unsafe { (bytes::slice(key), bytes::slice(value)) };
        with_db(handle, |db| Ok(db.put(key, value, durability)?))
    })
}

/// `void nDelete(long handle, byte[] key, int durability)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nDelete<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteArray<'l>,
    durability: jint,
) {
    run(&mut env, (), |env| {
        let durability = self::durability(durability)?;
        let key = Bytes::read(env, &key, "key")?;
        with_db(handle, |db| Ok(db.delete(key.as_slice(), durability)?))
    })
}

/// `void nWrite(long handle, byte[] ops, int length, int durability)`: applies a `WriteBatch`'s
/// operations atomically. Each operation, back to back (lengths little-endian):
///
/// ```text
/// put:    0u8, key_len u32, key, value_len u32, value
/// delete: 1u8, key_len u32, key
/// ```
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nWrite<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    ops: JByteArray<'l>,
    length: jint,
    durability: jint,
) {
    run(&mut env, (), |env| {
        let durability = self::durability(durability)?;
        if ops.is_null() || length < 0 || length > env.get_array_length(&ops)? {
            return Err(argument("bad batch buffer"));
        }
        let mut data = vec![0i8; length as usize];
        env.get_byte_array_region(&ops, 0, &mut data)?;
        // SAFETY: `i8` and `u8` have the same size and alignment; the slice borrows `data`.
        let data = unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), data.len()) };
        let batch = parse_batch(data)?;
        with_db(handle, |db| Ok(db.write(&batch, durability)?))
    })
}

fn parse_batch(mut data: &[u8]) -> Result<Batch> {
    fn take<'a>(data: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
        if data.len() < n {
            return Err(argument("a malformed write batch"));
        }
        let (head, rest) = data.split_at(n);
        *data = rest;
        Ok(head)
    }
    fn bytes<'a>(data: &mut &'a [u8]) -> Result<&'a [u8]> {
        let len = take(data, 4)?;
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        take(data, len)
    }
    let mut batch = Batch::new()?;
    while !data.is_empty() {
        match take(&mut data, 1)?[0] {
            0 => {
                let key = bytes(&mut data)?;
                let value = bytes(&mut data)?;
                batch.put(key, value)?;
            }
            1 => {
                let key = bytes(&mut data)?;
                batch.delete(key)?;
            }
            _ => return Err(argument("a malformed write batch")),
        }
    }
    Ok(batch)
}

/// `long nSnapshot(long handle)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nSnapshot<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jlong {
    run(&mut env, 0, |_| {
        let state = db_state(handle)?;
        // Adopted under the database's lock, so a concurrent close releases it too.
        state.with(|db| Ok(Child::into_handle(state, db.snapshot()?, "snapshot")))
    })
}

/// `long nIter(long handle, byte[] start, byte[] end, byte[] prefix, boolean reverse)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nIter<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    start: JByteArray<'l>,
    end: JByteArray<'l>,
    prefix: JByteArray<'l>,
    reverse: jboolean,
) -> jlong {
    run(&mut env, 0, |env| {
        let range = key_range(env, &start, &end, &prefix, reverse)?;
        let state = db_state(handle)?;
        state.with(|db| Ok(Cursor::into_handle(state, db.iter(&range)?)))
    })
}

/// `long nBegin(long handle, int isolation, boolean readOnly, int durability)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nBegin<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    isolation: jint,
    read_only: jboolean,
    durability: jint,
) -> jlong {
    run(&mut env, 0, |_| {
        let isolation = match isolation {
            0 => Isolation::Snapshot,
            1 => Isolation::Serializable,
            _ => return Err(argument(format!("unknown isolation {isolation}"))),
        };
        let durability = self::durability(durability)?;
        let state = db_state(handle)?;
        state.with(|db| {
            let txn = db.begin(isolation, read_only == JNI_TRUE, durability)?;
            Ok(Child::into_handle(state, txn, "transaction"))
        })
    })
}

/// `long nBulkLoad(long handle)`: `BUSY` while another bulk load is open.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nBulkLoad<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jlong {
    run(&mut env, 0, |_| {
        let state = db_state(handle)?;
        // Adopted under the database's lock, so a concurrent close abandons it too.
        state.with(|db| Ok(Child::into_handle(state, db.bulk_load()?, "bulk load")))
    })
}

/// `void nSync(long handle)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nSync<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| with_db(handle, |db| Ok(db.sync()?)))
}

/// `void nFlush(long handle)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nFlush<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| with_db(handle, |db| Ok(db.flush()?)))
}

/// `long nCompact(long handle)`: the bytes the page file shrank by.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nCompact<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jlong {
    run(&mut env, 0, |_| {
        with_db(handle, |db| {
            let bytes = db.compact()?;
            Ok(jlong::try_from(bytes).unwrap_or(jlong::MAX))
        })
    })
}

/// `void nRekey(long handle, byte[] options)`: changes an encrypted database's key or passphrase
/// to the `encryption_key` or `passphrase` in `options` (UTF-8 `name NUL value NUL` pairs).
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nRekey<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    options: JByteArray<'l>,
) {
    run(&mut env, (), |env| {
        let options = Secret(read_options(env, &options)?);
        let pairs = option_pairs(&options.0);
        with_db(handle, |db| Ok(db.rekey(&pairs)?))
    })
}

/// `String nStats(long handle)`: one `name=value` line per counter.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nStats<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| {
        let text = with_db(handle, |db| Ok(db.stats()?))?;
        Ok(env.new_string(text)?.into_raw())
    })
}

/// `String nVerify(long handle)`: what was checked, one `name=value` line each.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nVerify<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| {
        let text = with_db(handle, |db| Ok(db.verify()?))?;
        Ok(env.new_string(text)?.into_raw())
    })
}

/// `void nClose(long handle)`: closes the database and releases its children's handles; waits
/// for calls in flight. Closing twice is fine.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nClose<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| db_state(handle)?.close())
}

/// `static void nFree(long handle)`: the `Cleaner`'s last step, once the object is unreachable.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_LightningDb_nFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        // SAFETY: called once per handle, by the `Cleaner` of the unreachable object, so no
        // call can be using it.
        unsafe { state::free_db(handle) };
        Ok(())
    })
}
