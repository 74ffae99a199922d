//! The natives of `io.lightningdb.BulkLoad`.

use jni::objects::{JByteArray, JClass, JObject};
use jni::sys::{jint, jlong};
use jni::JNIEnv;
use lightning::safe::BulkLoad;

use crate::bytes::{scratch_pair, Bytes};
use crate::errors::{run, Result};
use crate::state::{self, Child};

fn child<'a>(handle: jlong) -> Result<&'a Child<BulkLoad>> {
    // SAFETY: the handle is the receiver's, made for a `BulkLoad`; the receiver is alive during
    // this call, so the `Cleaner` has not freed it.
    unsafe { state::child(handle) }
}

/// `void nPut(long handle, byte[] key, byte[] value)`: `INVALID_ARGUMENT` for a key that does
/// not sort after the previous one (the load goes on without the pair).
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_BulkLoad_nPut<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteArray<'l>,
    value: JByteArray<'l>,
) {
    run(&mut env, (), |env| {
        let key = Bytes::read(env, &key, "key")?;
        let value = Bytes::read(env, &value, "value")?;
        child(handle)?.with(|l| Ok(l.put(key.as_slice(), value.as_slice())?))
    })
}

/// `void nPutAt(long handle, long address, int keyLen, int valueLen)`: the fast path of `put`
/// through the calling thread's `Scratch` buffer (the key at `address`, the value right after
/// it), as `LightningDb.nPutAt`. No JNI call is made on success.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_BulkLoad_nPutAt<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    address: jlong,
    key_len: jint,
    value_len: jint,
) {
    run(&mut env, (), |_| {
        // SAFETY: `BulkLoad.put` passes its thread's `Scratch` buffer, filled with the pair; the
        // slices live only during this call.
        let (key, value) = unsafe { scratch_pair(address, key_len, value_len) };
        child(handle)?.with(|l| Ok(l.put(key, value)?))
    })
}

/// `void nCommit(long handle)`: every pair durable and visible at once; the load is finished
/// either way.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_BulkLoad_nCommit<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| child(handle)?.with(|l| Ok(l.commit()?)))
}

/// `void nAbort(long handle)`: nothing the load was given is written.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_BulkLoad_nAbort<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| child(handle)?.with(|l| Ok(l.abort()?)))
}

/// `void nClose(long handle)`: releases the load (abandoned unless committed).
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_BulkLoad_nClose<'l>(
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
pub extern "system" fn Java_io_lightningdb_BulkLoad_nFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        // SAFETY: called once per handle, by the `Cleaner` of the unreachable object, so no
        // call can be using it.
        unsafe { state::free_child::<BulkLoad>(handle) };
        Ok(())
    })
}
