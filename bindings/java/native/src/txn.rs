//! The natives of `io.lightningdb.Transaction`.

use jni::objects::{JByteArray, JClass, JObject};
use jni::sys::{jboolean, jbyteArray, jlong};
use jni::JNIEnv;
use lightning::safe::Txn;

use crate::bytes::Bytes;
use crate::db::{key_range, new_array_or_null};
use crate::errors::{run, Result};
use crate::iter::Cursor;
use crate::state::{self, Child};

fn child<'a>(handle: jlong) -> Result<&'a Child<Txn>> {
    // SAFETY: the handle is the receiver's, made for a `Txn`; the receiver is alive during this
    // call, so the `Cleaner` has not freed it.
    unsafe { state::child(handle) }
}

/// `byte[] nGet(long handle, byte[] key)`: the value as the transaction sees it, or `null`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Transaction_nGet<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteArray<'l>,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| {
        let key = Bytes::read(env, &key, "key")?;
        let value = child(handle)?.with(|t| Ok(t.get_pinned(key.as_slice())?))?;
        new_array_or_null(env, value.as_deref())
    })
}

/// `void nPut(long handle, byte[] key, byte[] value)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Transaction_nPut<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteArray<'l>,
    value: JByteArray<'l>,
) {
    run(&mut env, (), |env| {
        let key = Bytes::read(env, &key, "key")?;
        let value = Bytes::read(env, &value, "value")?;
        child(handle)?.with(|t| Ok(t.put(key.as_slice(), value.as_slice())?))
    })
}

/// `void nDelete(long handle, byte[] key)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Transaction_nDelete<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
    key: JByteArray<'l>,
) {
    run(&mut env, (), |env| {
        let key = Bytes::read(env, &key, "key")?;
        child(handle)?.with(|t| Ok(t.delete(key.as_slice())?))
    })
}

/// `long nIter(long handle, byte[] start, byte[] end, byte[] prefix, boolean reverse)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Transaction_nIter<'l>(
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
        child.with(|t| Ok(Cursor::into_handle(child.state(), t.iter(&range)?)))
    })
}

/// `void nCommit(long handle)`: `CONFLICT` if a concurrent commit got in the way; the
/// transaction is finished either way.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Transaction_nCommit<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| child(handle)?.with(|t| Ok(t.commit()?)))
}

/// `void nRollback(long handle)`.
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Transaction_nRollback<'l>(
    mut env: JNIEnv<'l>,
    _this: JObject<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| child(handle)?.with(|t| Ok(t.rollback()?)))
}

/// `void nClose(long handle)`: releases the transaction (rolled back unless committed).
#[no_mangle]
pub extern "system" fn Java_io_lightningdb_Transaction_nClose<'l>(
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
pub extern "system" fn Java_io_lightningdb_Transaction_nFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        // SAFETY: called once per handle, by the `Cleaner` of the unreachable object, so no
        // call can be using it.
        unsafe { state::free_child::<Txn>(handle) };
        Ok(())
    })
}
