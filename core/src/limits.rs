//! The documented size limits on keys, values and pages, and their checks.

use crate::error::{Error, Result};

/// The longest key, in bytes: 4 KiB. Longer keys get `INVALID_ARGUMENT`.
pub const MAX_KEY_SIZE: usize = 4096;

/// The longest value, in bytes: 64 MiB. Longer values get `INVALID_ARGUMENT`.
pub const MAX_VALUE_SIZE: usize = 64 << 20;

/// The smallest page size a database may be created with (option `page_size`).
pub(crate) const MIN_PAGE_SIZE: usize = 4096;

/// The largest page size; page sizes are the powers of two from [`MIN_PAGE_SIZE`] to this.
pub(crate) const MAX_PAGE_SIZE: usize = 65536;

/// Whether a page file may have pages of `page_size` bytes.
pub(crate) fn is_valid_page_size(page_size: usize) -> bool {
    (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size) && page_size.is_power_of_two()
}

/// Every valid page size, smallest first.
pub(crate) fn page_sizes() -> impl Iterator<Item = usize> {
    (MIN_PAGE_SIZE.trailing_zeros()..=MAX_PAGE_SIZE.trailing_zeros()).map(|shift| 1 << shift)
}

pub(crate) fn check_key(key: &[u8]) -> Result<()> {
    check_key_len(key.len())
}

/// `Err(INVALID_ARGUMENT)` naming the limit if a key of `len` bytes is longer than
/// [`MAX_KEY_SIZE`]: for callers that know a length before they have the bytes (the C ABI).
pub fn check_key_len(len: usize) -> Result<()> {
    if len > MAX_KEY_SIZE {
        return Err(Error::invalid_argument(format!(
            "key of {len} bytes is longer than the limit of {MAX_KEY_SIZE} bytes"
        )));
    }
    Ok(())
}

/// `Err(INVALID_ARGUMENT)` naming the limit if a value of `len` bytes is longer than
/// [`MAX_VALUE_SIZE`].
pub fn check_value_len(len: usize) -> Result<()> {
    if len > MAX_VALUE_SIZE {
        return Err(Error::invalid_argument(format!(
            "value of {len} bytes is longer than the limit of {MAX_VALUE_SIZE} bytes (64 MiB)"
        )));
    }
    Ok(())
}
