//! Bytes in and out of the JVM.

use std::mem::MaybeUninit;

use jni::objects::{JByteArray, JByteBuffer};
use jni::sys::{jint, jlong};
use jni::JNIEnv;

use crate::errors::{argument, Result};

/// Arrays up to this long are copied onto the stack; longer ones into a `Vec`.
pub const STACK: usize = 512;

/// A Java `byte[]` copied out of the JVM: on the stack when short.
pub struct Bytes {
    stack: [MaybeUninit<u8>; STACK],
    heap: Vec<u8>,
    len: usize,
}

impl Bytes {
    /// Copies `array`; `what` names it in the error for `null`.
    pub fn read(env: &JNIEnv<'_>, array: &JByteArray<'_>, what: &str) -> Result<Bytes> {
        if array.is_null() {
            return Err(argument(format!("{what} is null")));
        }
        let len = env.get_array_length(array)? as usize;
        let mut bytes = Bytes {
            stack: [MaybeUninit::uninit(); STACK],
            heap: Vec::new(),
            len,
        };
        let target: &mut [MaybeUninit<u8>] = if len <= STACK {
            &mut bytes.stack[..len]
        } else {
            bytes.heap.reserve_exact(len);
            &mut bytes.heap.spare_capacity_mut()[..len]
        };
        // SAFETY: `i8` and `MaybeUninit<u8>` have the same size and alignment; the JVM only
        // writes the `len` elements (the whole array), making them initialised.
        let target =
            unsafe { std::slice::from_raw_parts_mut(target.as_mut_ptr().cast::<i8>(), len) };
        env.get_byte_array_region(array, 0, target)?;
        if len > STACK {
            // SAFETY: the first `len` bytes were written just above.
            unsafe { bytes.heap.set_len(len) };
        }
        Ok(bytes)
    }

    /// Copies `array` if it is not `null`.
    pub fn read_optional(env: &JNIEnv<'_>, array: &JByteArray<'_>) -> Result<Option<Vec<u8>>> {
        if array.is_null() {
            return Ok(None);
        }
        Ok(Some(env.convert_byte_array(array)?))
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.len <= STACK {
            // SAFETY: `read` initialised the first `len` bytes of the stack buffer.
            unsafe { std::slice::from_raw_parts(self.stack.as_ptr().cast::<u8>(), self.len) }
        } else {
            &self.heap
        }
    }
}

/// The key and value a `put` left back to back in its thread's `Scratch` buffer at `address`.
///
/// # Safety
/// `address` must be the calling thread's `Scratch` buffer (kept alive by a thread-local), holding
/// `key_len + value_len` initialised bytes; no other thread uses it, and the slices must not
/// outlive the native call.
pub unsafe fn scratch_pair<'a>(
    address: jlong,
    key_len: jint,
    value_len: jint,
) -> (&'a [u8], &'a [u8]) {
    let (key_len, value_len) = (key_len as usize, value_len as usize);
    let key_at = address as *const u8;
    // SAFETY: per this function's contract, both ranges lie in the initialised buffer.
    unsafe {
        (
            std::slice::from_raw_parts(key_at, key_len),
            std::slice::from_raw_parts(key_at.add(key_len), value_len),
        )
    }
}

/// Where the bytes of a direct buffer from `position`, `len` long, lie: checked against the
/// buffer's capacity. The memory stays allocated while the buffer (a live local reference during
/// the native call) is alive, and a direct buffer's memory is always initialised.
pub fn direct(
    env: &JNIEnv<'_>,
    buffer: &JByteBuffer<'_>,
    position: jint,
    len: jint,
    what: &str,
) -> Result<(*mut u8, usize)> {
    if buffer.is_null() {
        return Err(argument(format!("{what} is null")));
    }
    let address = env
        .get_direct_buffer_address(buffer)
        .map_err(|_| argument(format!("{what} is not a direct buffer")))?;
    let capacity = env.get_direct_buffer_capacity(buffer)?;
    let (position, len) = (position as usize, len as usize);
    match position.checked_add(len) {
        Some(end) if end <= capacity => {}
        _ => {
            return Err(argument(format!(
                "{what}: {len} bytes at {position} exceed the capacity {capacity}"
            )))
        }
    }
    // `wrapping_add` stays inside the buffer (checked above); for an empty range it may be
    // one past the end, which is never dereferenced.
    Ok((address.wrapping_add(position), len))
}

/// Whether two byte ranges share memory.
pub fn overlap(a: (*mut u8, usize), b: (*mut u8, usize)) -> bool {
    let (a0, b0) = (a.0 as usize, b.0 as usize);
    a.1 > 0 && b.1 > 0 && a0 < b0 + b.1 && b0 < a0 + a.1
}

/// A slice over `(ptr, len)`; dangling but aligned when empty.
///
/// # Safety
/// `ptr` must be valid for reads of `len` initialised bytes for `'a`, and nothing may write them
/// during `'a`.
pub unsafe fn slice<'a>((ptr, len): (*mut u8, usize)) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: per this function's contract.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// A writable slice over `(ptr, len)`; dangling but aligned when empty.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes for `'a`, and no other reference may reach
/// them during `'a`.
pub unsafe fn slice_mut<'a>((ptr, len): (*mut u8, usize)) -> &'a mut [MaybeUninit<u8>] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: per this function's contract.
    unsafe { std::slice::from_raw_parts_mut(ptr.cast(), len) }
}
