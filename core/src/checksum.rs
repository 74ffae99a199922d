//! CRC32C with LevelDB's masking, so a checksum stored inside checksummed data does not look like
//! a valid checksum of itself.

const MASK_DELTA: u32 = 0xa282_ead8;

/// The masked CRC32C of `data`.
pub(crate) fn masked_crc(data: &[u8]) -> u32 {
    mask(crc32c::crc32c(data))
}

pub(crate) fn mask(crc: u32) -> u32 {
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_changes_the_value_and_is_stable() {
        let raw = crc32c::crc32c(b"lightning");
        assert_ne!(masked_crc(b"lightning"), raw);
        assert_eq!(masked_crc(b"lightning"), mask(raw));
    }
}
