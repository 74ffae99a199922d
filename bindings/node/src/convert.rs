//! Conversions between what the JavaScript layer passes or receives and the safe wrapper's
//! types: option pairs, option codes to [`Durability`] and [`Isolation`], range bounds to a
//! [`KeyRange`], and bytes to new Buffers. Every class module takes them from here.

use lightning::safe::{Durability, Isolation, KeyRange};
use napi::bindgen_prelude::{BufferSlice, Either};
use napi::Env;

use crate::errors::{internal, invalid_argument, Result};

/// Checks options as the JavaScript layer passes them: names and values back to back,
/// `[name, value, name, value, ...]`.
pub fn check_pairs(flat: &[String]) -> Result<()> {
    if flat.len().is_multiple_of(2) {
        Ok(())
    } else {
        Err(invalid_argument("options must be name/value pairs"))
    }
}

/// Options checked by [`check_pairs`] as the (name, value) pairs the safe wrapper takes.
pub fn pairs(flat: &[String]) -> Vec<(&str, &str)> {
    flat.chunks_exact(2)
        .map(|pair| (pair[0].as_str(), pair[1].as_str()))
        .collect()
}

/// `durability` as the JavaScript layer passes it: 0 = the database's option `sync`, 1 = sync,
/// 2 = buffered.
pub fn durability(code: u32) -> Durability {
    match code {
        1 => Durability::Sync,
        2 => Durability::Buffered,
        _ => Durability::Default,
    }
}

/// `isolation` as the JavaScript layer passes it: 0 = snapshot, 1 = serializable.
pub fn isolation(code: u32) -> Isolation {
    match code {
        1 => Isolation::Serializable,
        _ => Isolation::Snapshot,
    }
}

/// The range of a `range()` call.
pub fn key_range(
    start: Option<&[u8]>,
    end: Option<&[u8]>,
    prefix: Option<&[u8]>,
    reverse: bool,
) -> KeyRange {
    KeyRange {
        start: start.map(<[u8]>::to_vec),
        end: end.map(<[u8]>::to_vec),
        prefix: prefix.map(<[u8]>::to_vec),
        reverse,
    }
}

/// A copy of `bytes` as a new JavaScript `Buffer`.
pub fn buffer<'e>(env: &'e Env, bytes: &[u8]) -> Result<BufferSlice<'e>> {
    BufferSlice::copy_from(env, bytes).map_err(|e| internal(&e.reason))
}

/// A value found (a new Buffer) or not (`undefined`).
pub fn found<'e>(env: &'e Env, value: Option<&[u8]>) -> Result<Either<BufferSlice<'e>, ()>> {
    match value {
        Some(value) => buffer(env, value).map(Either::A),
        None => Ok(Either::B(())),
    }
}
