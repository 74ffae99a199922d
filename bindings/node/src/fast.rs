//! The hot calls — `get`, `has`, `put`, `delete` — as plain Node-API callbacks.
//!
//! napi-rs's generated glue for a class method (borrow tracking, class identity checks) costs
//! several times what the engine's own lookup does, so these four skip it: each is an
//! `extern "C"` callback that takes the database as a tagged `External` (made once per
//! `Database` by [`external`]) and the key/value as Uint8Arrays, and talks to Node-API directly.
//! The JavaScript layer checks argument types first; these check them again, cheaply, and throw
//! instead of misbehaving on anything else. The JavaScript layer also copies any view on a
//! `SharedArrayBuffer` before the call: another thread may change shared bytes at any moment,
//! while the `&[u8]` made here promises they do not change until the call returns. A panic never leaves a callback: it becomes
//! `LDB_INTERNAL`.

use std::ffi::{c_char, c_void};
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use lightning::safe::ReadInto;
use napi::bindgen_prelude::Unknown;
use napi::sys;
use napi::Env;

use crate::convert::durability;
use crate::errors::{internal, invalid_argument, JsErr};
use crate::state::Handle;

/// Marks the externals this module made, so no other external is ever taken for one.
static HANDLE_TAG: sys::napi_type_tag = sys::napi_type_tag {
    lower: 0x6c69_6768_746e_696e,
    upper: 0x672d_6462_2d68_616e,
};

type Ret = Result<sys::napi_value, JsErr>;

fn check(status: sys::napi_status, what: &str) -> Result<(), JsErr> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(internal(&format!("Node-API call {what} failed ({status})")))
    }
}

/// A tagged `External` holding a reference to `handle`, released when it is collected.
pub fn external<'e>(env: &'e Env, handle: &Arc<Handle>) -> Result<Unknown<'e>, JsErr> {
    let raw_env = env.raw();
    let data = Box::into_raw(Box::new(Arc::clone(handle)));
    let mut value = ptr::null_mut();
    // SAFETY: `raw_env` is the live env of this call; `data` is a valid pointer whose ownership
    // passes to the external (freed once by `release_handle`); `value` is writable.
    let status = unsafe {
        sys::napi_create_external(
            raw_env,
            data.cast(),
            Some(release_handle),
            ptr::null_mut(),
            &mut value,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: the external was not made, so `data` is still ours, and freed once here.
        drop(unsafe { Box::from_raw(data) });
        return Err(internal("Node-API call napi_create_external failed"));
    }
    // SAFETY: live env; `value` is the external just made; the tag is a static.
    check(
        unsafe { sys::napi_type_tag_object(raw_env, value, &HANDLE_TAG) },
        "napi_type_tag_object",
    )?;
    // SAFETY: `value` is a live value of this env, made above.
    Ok(unsafe { Unknown::from_raw_unchecked(raw_env, value) })
}

/// The finalizer of an external made by [`external`]: drops its reference to the handle.
///
/// # Safety
/// Called only by Node-API, once per external, after the external was collected: `data` is the
/// `Box<Arc<Handle>>` given to `napi_create_external`, which nothing else uses any more.
unsafe extern "C" fn release_handle(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the `Box<Arc<Handle>>` given to `napi_create_external`, freed only here.
    let handle = unsafe { Box::from_raw(data.cast::<Arc<Handle>>()) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(handle)));
}

/// The functions, as an object `{ get, has, put, delete }`.
pub fn functions<'e>(env: &'e Env) -> Result<Unknown<'e>, JsErr> {
    let raw_env = env.raw();
    let mut object = ptr::null_mut();
    // SAFETY: live env; writable out-pointer.
    check(
        unsafe { sys::napi_create_object(raw_env, &mut object) },
        "napi_create_object",
    )?;
    let table: [(&std::ffi::CStr, Callback); 4] = [
        (c"get", fast_get),
        (c"has", fast_has),
        (c"put", fast_put),
        (c"delete", fast_delete),
    ];
    for (name, callback) in table {
        let mut function = ptr::null_mut();
        // SAFETY: live env; `name` is NUL-terminated (length -1 means so); `callback` has the
        // Node-API callback signature; writable out-pointer.
        check(
            unsafe {
                sys::napi_create_function(
                    raw_env,
                    name.as_ptr(),
                    -1,
                    Some(callback),
                    ptr::null_mut(),
                    &mut function,
                )
            },
            "napi_create_function",
        )?;
        // SAFETY: live env; `object` and `function` are live values; `name` is NUL-terminated.
        check(
            unsafe { sys::napi_set_named_property(raw_env, object, name.as_ptr(), function) },
            "napi_set_named_property",
        )?;
    }
    // SAFETY: `object` is a live value of this env, made above.
    Ok(unsafe { Unknown::from_raw_unchecked(raw_env, object) })
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The arguments of a call, up to `N`; missing ones are `undefined`.
///
/// # Safety
/// `env` and `info` must be the ones Node-API passed to the running callback.
unsafe fn arguments<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<[sys::napi_value; N], JsErr> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    // SAFETY: per this function's contract; `argv` has room for `argc` values.
    check(
        unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        },
        "napi_get_cb_info",
    )?;
    if argc < N {
        return Err(invalid_argument("too few arguments"));
    }
    Ok(argv)
}

/// The handle in an external made by [`external`]. It lives as long as the external, which
/// the call's arguments keep alive until the callback returns.
///
/// # Safety
/// `env` must be the running callback's env and `value` one of its arguments.
unsafe fn handle<'a>(env: sys::napi_env, value: sys::napi_value) -> Result<&'a Handle, JsErr> {
    let mut tagged = false;
    // SAFETY: live env and value; the tag is a static; writable out-pointer. A value that is not
    // an object fails the check (an error status or `false`).
    let status = unsafe { sys::napi_check_object_type_tag(env, value, &HANDLE_TAG, &mut tagged) };
    if status != sys::Status::napi_ok || !tagged {
        return Err(invalid_argument("not a Lightning DB database handle"));
    }
    let mut data = ptr::null_mut();
    // SAFETY: live env; `value` is an external (only externals made by `external` carry the tag).
    check(
        unsafe { sys::napi_get_value_external(env, value, &mut data) },
        "napi_get_value_external",
    )?;
    // SAFETY: the data of a tagged external is a live `Box<Arc<Handle>>` until the external is
    // collected, which cannot happen while it is an argument of the running call.
    Ok(unsafe { &**data.cast::<Arc<Handle>>() })
}

/// Where the bytes of a Uint8Array (or Buffer) argument are: pointer and length.
///
/// # Safety
/// `env` must be the running callback's env and `value` one of its arguments.
unsafe fn uint8_array(
    env: sys::napi_env,
    value: sys::napi_value,
) -> Result<(*mut u8, usize), JsErr> {
    let mut kind = -1;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut offset = 0usize;
    // SAFETY: live env and value; writable out-pointers. A value that is not a typed array gets
    // an error status.
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut len,
            &mut data,
            &mut buffer,
            &mut offset,
        )
    };
    if status != sys::Status::napi_ok || kind != sys::TypedarrayType::uint8_array {
        return Err(invalid_argument("expected a Uint8Array"));
    }
    if len == 0 || data.is_null() {
        return Ok((ptr::NonNull::dangling().as_ptr(), 0));
    }
    Ok((data.cast(), len))
}

/// The bytes of a Uint8Array (or Buffer) argument, borrowed for the call.
///
/// # Safety
/// `env` must be the running callback's env and `value` one of its arguments. No JavaScript may
/// run while the slice is used (nothing in these callbacks calls back into JavaScript).
unsafe fn bytes<'a>(env: sys::napi_env, value: sys::napi_value) -> Result<&'a [u8], JsErr> {
    // SAFETY: per this function's contract.
    let (data, len) = unsafe { uint8_array(env, value)? };
    // SAFETY: a Uint8Array's `len` bytes at `data` (or an empty slice at a dangling, aligned
    // pointer), alive while the argument is (the call), and not changed by JavaScript during the
    // call (none runs).
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// The bytes of a Uint8Array argument, writable, for the call.
///
/// # Safety
/// As [`bytes`]; besides, nothing else may reference these bytes during the call (they are
/// JavaScript memory that JavaScript reads only after the call).
unsafe fn bytes_mut<'a>(
    env: sys::napi_env,
    value: sys::napi_value,
) -> Result<&'a mut [MaybeUninit<u8>], JsErr> {
    // SAFETY: per this function's contract.
    let (data, len) = unsafe { uint8_array(env, value)? };
    // SAFETY: as in `bytes`, and the memory is writable (an ArrayBuffer's) and not referenced
    // elsewhere during the call; MaybeUninit<u8> has the layout of u8.
    Ok(unsafe { std::slice::from_raw_parts_mut(data.cast::<MaybeUninit<u8>>(), len) })
}

/// A u32 argument (the durability code); anything else is 0.
///
/// # Safety
/// `env` must be the running callback's env and `value` one of its arguments.
unsafe fn small_number(env: sys::napi_env, value: sys::napi_value) -> u32 {
    let mut number = 0u32;
    // SAFETY: live env and value; writable out-pointer. A non-number gets an error status.
    let status = unsafe { sys::napi_get_value_uint32(env, value, &mut number) };
    if status == sys::Status::napi_ok {
        number
    } else {
        0
    }
}

/// `undefined`.
///
/// # Safety
/// `env` must be the running callback's env.
unsafe fn undefined(env: sys::napi_env) -> Ret {
    let mut value = ptr::null_mut();
    // SAFETY: live env; writable out-pointer.
    check(
        unsafe { sys::napi_get_undefined(env, &mut value) },
        "napi_get_undefined",
    )?;
    Ok(value)
}

/// Runs a callback's body: its error (or panic) becomes a thrown `Error` with `code`.
///
/// # Safety
/// `env` must be the running callback's env.
unsafe fn run(env: sys::napi_env, body: impl FnOnce() -> Ret) -> sys::napi_value {
    let result = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(internal("a panic in Lightning DB's Node module")));
    match result {
        Ok(value) => value,
        Err(error) => {
            // SAFETY: per this function's contract.
            unsafe { throw(env, &error) };
            ptr::null_mut()
        }
    }
}

/// Throws an `Error` with `code` and message from `error`.
///
/// # Safety
/// `env` must be the running callback's env.
unsafe fn throw(env: sys::napi_env, error: &JsErr) {
    let code = error.status.as_str();
    let message = error.reason.as_str();
    let (mut code_value, mut message_value, mut error_value) =
        (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: live env; pointer + length of UTF-8 strings valid during the calls; writable
    // out-pointers. A failure leaves nothing thrown, and Node-API then returns `undefined`.
    unsafe {
        if sys::napi_create_string_utf8(
            env,
            code.as_ptr().cast::<c_char>(),
            code.len() as isize,
            &mut code_value,
        ) == sys::Status::napi_ok
            && sys::napi_create_string_utf8(
                env,
                message.as_ptr().cast::<c_char>(),
                message.len() as isize,
                &mut message_value,
            ) == sys::Status::napi_ok
            && sys::napi_create_error(env, code_value, message_value, &mut error_value)
                == sys::Status::napi_ok
        {
            sys::napi_throw(env, error_value);
        }
    }
}

/// `get(handle, key, pool, offset)`: looks `key` up and
/// - returns `undefined` if it is absent;
/// - copies the value into `pool` at `offset` and returns its length (a number) if it fits there;
/// - returns -1 if it is at most [`POOLED`] bytes but does not fit (the caller takes a new pool
///   and asks again);
/// - returns the value as a new Buffer if it is longer.
///
/// A Buffer of its own costs far more to make than the lookup (a new backing store per value);
/// a view into a pool, made by the caller, does not: that is how `Buffer.allocUnsafe` works too.
///
/// # Safety
/// Called only by Node-API, on the JavaScript thread, as a function made by [`functions`]: `env`
/// is the env of the running call and `info` its callback info, both valid until the callback
/// returns; the call's arguments stay alive until then.
unsafe extern "C" fn fast_get(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: `env` and `info` are this callback's; every helper is called with them.
    unsafe {
        run(env, || {
            let [db, key, pool, offset] = arguments::<4>(env, info)?;
            let (handle, key) = (handle(env, db)?, bytes(env, key)?);
            let (pool_data, pool_len) = uint8_array(env, pool)?;
            let (key_start, pool_start) = (key.as_ptr() as usize, pool_data as usize);
            if key_start < pool_start + pool_len && pool_start < key_start + key.len() {
                return Err(invalid_argument("the key lies in the pool"));
            }
            let pool = bytes_mut(env, pool)?;
            let offset = small_number(env, offset) as usize;
            let region = pool.get_mut(offset..).unwrap_or_default();
            match handle.with(|db| db.get_into(key, region))? {
                ReadInto::Absent => undefined(env),
                ReadInto::Copied(value) => number(env, value.len() as i64),
                ReadInto::TooLong(len) if len <= POOLED => number(env, -1),
                ReadInto::TooLong(_) => match handle.with(|db| db.get_pinned(key))? {
                    Some(value) => buffer_copy(env, &value),
                    None => undefined(env),
                },
            }
        })
    }
}

/// Values up to this long go into the caller's pool.
const POOLED: usize = 2048;

/// A JavaScript number.
///
/// # Safety
/// `env` must be the running callback's env.
unsafe fn number(env: sys::napi_env, n: i64) -> Ret {
    let mut value = ptr::null_mut();
    // SAFETY: live env; writable out-pointer.
    check(
        unsafe { sys::napi_create_int64(env, n, &mut value) },
        "napi_create_int64",
    )?;
    Ok(value)
}

/// A new Buffer holding a copy of `bytes`.
///
/// # Safety
/// `env` must be the running callback's env.
unsafe fn buffer_copy(env: sys::napi_env, bytes: &[u8]) -> Ret {
    let mut value = ptr::null_mut();
    // SAFETY: live env; `bytes` valid for its length during the call; the data out-pointer may
    // be NULL; writable result pointer.
    check(
        unsafe {
            sys::napi_create_buffer_copy(
                env,
                bytes.len(),
                bytes.as_ptr().cast(),
                ptr::null_mut(),
                &mut value,
            )
        },
        "napi_create_buffer_copy",
    )?;
    Ok(value)
}

/// `has(handle, key)`: whether `key` is present.
///
/// # Safety
/// Called only by Node-API, on the JavaScript thread, as a function made by [`functions`]: `env`
/// is the env of the running call and `info` its callback info, both valid until the callback
/// returns; the call's arguments stay alive until then.
unsafe extern "C" fn fast_has(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: `env` and `info` are this callback's; every helper is called with them.
    unsafe {
        run(env, || {
            let [db, key] = arguments::<2>(env, info)?;
            let (handle, key) = (handle(env, db)?, bytes(env, key)?);
            let found = handle.with(|db| db.get_into(key, &mut []))? != ReadInto::Absent;
            let mut value = ptr::null_mut();
            check(
                sys::napi_get_boolean(env, found, &mut value),
                "napi_get_boolean",
            )?;
            Ok(value)
        })
    }
}

/// `put(handle, key, value, durability)`.
///
/// # Safety
/// Called only by Node-API, on the JavaScript thread, as a function made by [`functions`]: `env`
/// is the env of the running call and `info` its callback info, both valid until the callback
/// returns; the call's arguments stay alive until then.
unsafe extern "C" fn fast_put(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: `env` and `info` are this callback's; every helper is called with them.
    unsafe {
        run(env, || {
            let [db, key, value, sync] = arguments::<4>(env, info)?;
            let (handle, key, value) = (handle(env, db)?, bytes(env, key)?, bytes(env, value)?);
            let durability = durability(small_number(env, sync));
            handle.with(|db| db.put(key, value, durability))?;
            undefined(env)
        })
    }
}

/// `delete(handle, key, durability)`.
///
/// # Safety
/// Called only by Node-API, on the JavaScript thread, as a function made by [`functions`]: `env`
/// is the env of the running call and `info` its callback info, both valid until the callback
/// returns; the call's arguments stay alive until then.
unsafe extern "C" fn fast_delete(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: `env` and `info` are this callback's; every helper is called with them.
    unsafe {
        run(env, || {
            let [db, key, sync] = arguments::<3>(env, info)?;
            let (handle, key) = (handle(env, db)?, bytes(env, key)?);
            let durability = durability(small_number(env, sync));
            handle.with(|db| db.delete(key, durability))?;
            undefined(env)
        })
    }
}
