//! The WAL's bytes: segment file names, the segment header and the record header (the layout is in
//! `wal/mod.rs` and docs/format.md).

use std::path::{Path, PathBuf};

pub(crate) const SEGMENT_MAGIC: &[u8; 8] = b"LDBWAL\0\x01";
/// The version of a segment whose payloads are batches as they are.
pub(crate) const WAL_FORMAT_VERSION: u32 = 2;
/// The version of a segment whose payloads say how their batch is coded (`payload.rs`).
pub(crate) const CODED_WAL_FORMAT_VERSION: u32 = 3;
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

/// The checksum of a record header: the segment's salt, then header bytes 4..32. The salt is
/// random per segment, so bytes a user stores (which may spell out a whole record) never pass as a
/// record of the segment they end up in.
pub(crate) fn record_header_crc(salt: u32, header: &[u8]) -> u32 {
    let crc = crc32c::crc32c(&salt.to_le_bytes());
    crate::checksum::mask(crc32c::crc32c_append(crc, &header[4..RECORD_HEADER_SIZE]))
}

/// Appends a record (header, payload, padding) to `out`. A record with an empty payload and
/// `first_seq` 0 is a sync marker (see `encode_sync_marker`).
pub(crate) fn encode_record(
    out: &mut Vec<u8>,
    salt: u32,
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
    let header_crc = record_header_crc(salt, &out[start..start + RECORD_HEADER_SIZE]);
    out[start..start + 4].copy_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(payload);
    let padded = align8((out.len() - start) as u64) as usize;
    out.resize(start + padded, 0);
}

/// A sync marker, written at `offset` right after an fsync made the segment's first `offset`
/// bytes durable: it attests them, so recovery reports damage before it as corruption rather than
/// cutting it off as a torn tail.
pub(crate) fn encode_sync_marker(salt: u32, offset: u64) -> [u8; RECORD_HEADER_SIZE] {
    let mut out = Vec::with_capacity(RECORD_HEADER_SIZE);
    encode_record(
        &mut out,
        salt,
        0,
        &[],
        crate::checksum::masked_crc(&[]),
        offset,
    );
    out.try_into().expect("a marker is one record header")
}

pub(crate) fn encode_segment_header(
    segment: u64,
    salt: u32,
    version: u32,
) -> [u8; SEGMENT_HEADER_SIZE as usize] {
    let mut h = [0u8; SEGMENT_HEADER_SIZE as usize];
    h[..8].copy_from_slice(SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&version.to_le_bytes());
    h[12..16].copy_from_slice(&salt.to_le_bytes());
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
        encode_record(&mut out, 9, 7, b"abc", 0, 0);
        assert_eq!(out.len(), 40);
        encode_record(&mut out, 9, 8, &[1; 8], 0, 0);
        assert_eq!(out.len(), 80);
    }

    #[test]
    fn the_salt_is_part_of_the_header_checksum() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encode_record(&mut a, 1, 7, b"abc", 0, 32);
        encode_record(&mut b, 2, 7, b"abc", 0, 32);
        assert_eq!(a[4..], b[4..]);
        assert_ne!(a[..4], b[..4]);
        assert_eq!(encode_sync_marker(1, 64).len(), RECORD_HEADER_SIZE);
    }

    /// The example in docs/format.md §3.2, byte for byte.
    #[test]
    fn the_documented_example_is_what_the_encoder_writes() {
        let salt = 0x0bad_f00d;
        let header = encode_segment_header(1, salt, WAL_FORMAT_VERSION);
        assert_eq!(&header[24..28], &[0x55, 0xee, 0x3f, 0xcc]);
        let payload = [1, 0, 0, 0, 1, 0, 1, b'a', 1, b'1'];
        let mut out = Vec::new();
        let crc = crate::checksum::masked_crc(&payload);
        encode_record(&mut out, salt, 1, &payload, crc, 32);
        assert_eq!(&out[..8], &[0x86, 0xe2, 0x58, 0x8e, 0x41, 0x7c, 0xb5, 0x84]);
        let marker = encode_sync_marker(salt, 0x48);
        assert_eq!(
            &marker[..8],
            &[0x91, 0x76, 0x3b, 0x57, 0xd8, 0xea, 0x82, 0xa2]
        );
    }
}
