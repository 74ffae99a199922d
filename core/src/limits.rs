//! The documented size limits on keys and values, and their checks.

use crate::error::{Error, Result};

/// The longest key, in bytes: 4 KiB. Longer keys get `INVALID_ARGUMENT`.
pub const MAX_KEY_SIZE: usize = 4096;

/// The longest value, in bytes: 64 MiB. Longer values get `INVALID_ARGUMENT`.
pub const MAX_VALUE_SIZE: usize = 64 << 20;

pub(crate) fn check_key(key: &[u8]) -> Result<()> {
    check_key_len(key.len())
}

pub(crate) fn check_key_len(len: usize) -> Result<()> {
    if len > MAX_KEY_SIZE {
        return Err(Error::invalid_argument(format!(
            "key of {len} bytes is longer than the limit of {MAX_KEY_SIZE} bytes"
        )));
    }
    Ok(())
}

pub(crate) fn check_value_len(len: usize) -> Result<()> {
    if len > MAX_VALUE_SIZE {
        return Err(Error::invalid_argument(format!(
            "value of {len} bytes is longer than the limit of {MAX_VALUE_SIZE} bytes (64 MiB)"
        )));
    }
    Ok(())
}
