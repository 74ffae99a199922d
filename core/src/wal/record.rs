//! The WAL's bytes: segment file names, the segment header and the record header (the layout is in
//! `wal/mod.rs` and docs/format.md).

use std::path::{Path, PathBuf};

pub(crate) const SEGMENT_MAGIC: &[u8; 8] = b"LDBWAL\0\x01";
pub(crate) const WAL_FORMAT_VERSION: u32 = 1;
pub(crate) const SEGMENT_HEADER_SIZE: u64 = 32;
pub(crate) const RECORD_HEADER_SIZE: usize = 32;

/// The file name of segment `n`.
pub(crate) fn segment_file_name(n: u64) -> String {
    format!("wal-{n:016}.log")
}

pub(crate) fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(segment_file_name(n))
}

/// The segment number in a WAL file name, if it is one.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Rounds a record's end up to the next multiple of 8.
pub(crate) fn align8(n: u64) -> u64 {
    (n + 7) & !7
}

/// Appends a record (header, payload, padding) to `out`.
pub(crate) fn encode_record(
    out: &mut Vec<u8>,
    first_seq: u64,
    payload: &[u8],
    payload_crc: u32,
    synced_upto: u64,
) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&payload_crc.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&first_seq.to_le_bytes());
    out.extend_from_slice(&synced_upto.to_le_bytes());
    let header_crc = crate::checksum::masked_crc(&out[start + 4..start + RECORD_HEADER_SIZE]);
    out[start..start + 4].copy_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(payload);
    let padded = align8((out.len() - start) as u64) as usize;
    out.resize(start + padded, 0);
}

pub(crate) fn encode_segment_header(segment: u64) -> [u8; SEGMENT_HEADER_SIZE as usize] {
    let mut h = [0u8; SEGMENT_HEADER_SIZE as usize];
    h[..8].copy_from_slice(SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&WAL_FORMAT_VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&segment.to_le_bytes());
    let crc = crate::checksum::masked_crc(&h[..24]);
    h[24..28].copy_from_slice(&crc.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_round_trip() {
        assert_eq!(parse_segment_file_name(&segment_file_name(42)), Some(42));
        assert_eq!(parse_segment_file_name("wal-1.log"), None);
        assert_eq!(parse_segment_file_name("data.ldb"), None);
    }

    #[test]
    fn records_are_padded_to_eight_bytes() {
        let mut out = Vec::new();
        encode_record(&mut out, 7, b"abc", 0, 0);
        assert_eq!(out.len(), 40);
        encode_record(&mut out, 8, &[1; 8], 0, 0);
        assert_eq!(out.len(), 80);
    }
}
