//! Pieces of the on-disk format (docs/format.md) that tests craft files with.

/// The masked CRC32C of core/src/checksum.rs.
pub fn masked_crc(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
        .rotate_right(15)
        .wrapping_add(0xa282_ead8)
}
