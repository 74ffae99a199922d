//! The natives of `io.lightningdb.Snapshot`.

use jni::objects::{JByteArray, JClass, JObject};
use jni::sys::{jboolean, jbyteArray, jlong};
use jni::JNIEnv;
use lightning::safe::Snapshot;

use crate::bytes::Bytes;
use crate::db::{key_range, new_array_or_null};
use crate::errors::{run, Result};
use crate::iter::Cursor;
use crate::state::{self, Child};

fn child<'a>(handle: jlong) -> Result<&'a Child<Snapshot>> {
    // SAFETY: the handle is the receiver's, made for a `Snapshot`; the receiver is alive during
    // this call, so the `Cleaner` has not freed it.
    unsafe { state::child(handle) }
}

/// `byte[] nGet(long handle, byte[] key)`: the value, or `null` if absent.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Snapshot_nGet<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteArray<'l>,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| {
        let key = Bytes::read(env, &key, "key")?;
        let value = child(handle)?.with(|s| Ok(s.get_pinned(key.as_slice())?))?;
        new_array_or_null(env, value.as_deref())
    })
}

/// `long nIter(long handle, byte[] start, byte[] end, byte[] prefix, boolean reverse)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Snapshot_nIter<'l>(
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
        let child = child(handle)?;
        // Adopted under the database's lock, so a concurrent close releases it too.
        child.with(|s| Ok(Cursor::into_handle(child.state(), s.iter(&range)?)))
    })
}

/// `long nSequence(long handle)`: the sequence number of the last write the snapshot sees.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Snapshot_nSequence<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) -> jlong {
    run(&mut env, 0, |_| {
        child(handle)?.with(|s| Ok(s.sequence() as jlong))
    })
}

/// `void nClose(long handle)`: releases the snapshot; closing twice is fine.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Snapshot_nClose<'l>(
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
pub extern "system" fn Java_io_lightningdb_Snapshot_nFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        // SAFETY: called once per handle, by the `Cleaner` of the unreachable object, so no
        // call can be using it.
        unsafe { state::free_child::<Snapshot>(handle) };
        Ok(())
    })
}
