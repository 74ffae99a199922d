//! Reads a WAL segment back, telling a torn tail from corruption.

use std::path::Path;

use super::payload::{decode_payload, open_payload, RecordPlace};
use super::record::{
    align8, record_header_crc, CODED_WAL_FORMAT_VERSION, RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE,
    SEGMENT_MAGIC, WAL_FORMAT_VERSION,
};
use crate::batch::MAX_BATCH_BYTES;
use crate::checksum::masked_crc;
use crate::codec::KeyRing;
use crate::error::{Error, ErrorCode, IoContext, Result};
use crate::storage::{OpenMode, Storage};

/// How a segment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentEnd {
    /// The end of the last valid record: the length the segment should be truncated to.
    pub valid_len: u64,
    /// Whether bytes after `valid_len` were discarded as a torn (never synced) tail.
    pub torn: bool,
    /// Number of valid records.
    pub records: u64,
}

struct Record<'a> {
    first_seq: u64,
    synced_upto: u64,
    payload: &'a [u8],
    end: u64,
}

impl Record<'_> {
    /// A sync marker: no payload, `first_seq` 0 (batches start at sequence 1).
    fn is_sync_marker(&self) -> bool {
        self.payload.is_empty()
    }
}

/// Parses the record starting at `off`, if it is intact: its header checksum (salted with the
/// segment's salt) and payload checksum match, and it claims no more of the segment durable than
/// lies before it (a sync marker claims exactly that).
fn parse_record(data: &[u8], off: u64, salt: u32) -> Option<Record<'_>> {
    let start = usize::try_from(off).ok()?;
    let header = data.get(start..start.checked_add(RECORD_HEADER_SIZE)?)?;
    let stored = u32::from_le_bytes(header[0..4].try_into().unwrap());
    if stored != record_header_crc(salt, header) {
        return None;
    }
    let payload_crc = u32::from_le_bytes(header[4..8].try_into().unwrap());
    let len = usize::try_from(u64::from_le_bytes(header[8..16].try_into().unwrap())).ok()?;
    let first_seq = u64::from_le_bytes(header[16..24].try_into().unwrap());
    let synced_upto = u64::from_le_bytes(header[24..32].try_into().unwrap());
    // A sync marker (no payload) starts no batch and sits exactly where the bytes it attests
    // end; a batch starts at sequence 1 or later and claims nothing past its own start.
    let plausible = if len == 0 {
        first_seq == 0 && synced_upto == off
    } else {
        first_seq != 0 && synced_upto <= off
    };
    if !plausible {
        return None;
    }
    let body = start + RECORD_HEADER_SIZE;
    let payload = data.get(body..body.checked_add(len)?)?;
    if masked_crc(payload) != payload_crc {
        return None;
    }
    Some(Record {
        first_seq,
        synced_upto,
        payload,
        end: align8(body.checked_add(len)? as u64),
    })
}

/// Reads segment `segment` at `path`, calling `apply(first_seq, batch)` for each intact record in
/// order (sync markers are not passed on), with the record's batch decoded in a coded segment. Zeros from a record's place to the end of the file end
/// the segment: the writer prepares space so. A damaged record in a segment that is not the last one is
/// corruption (rotation syncs a segment before the next one starts). In the last segment, a damaged
/// record is a torn tail unless a later intact record or sync marker says the damaged bytes had
/// been synced.
pub(crate) fn read_segment(
    storage: &dyn Storage,
    path: &Path,
    segment: u64,
    is_last: bool,
    keys: Option<&KeyRing>,
    mut apply: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<SegmentEnd> {
    let file = storage.open(path, OpenMode::Existing).ctx("open", path)?;
    let len = file.len().ctx("stat", path)?;
    let mut data = vec![0u8; usize::try_from(len).map_err(|_| Error::internal("huge segment"))?];
    file.read_at(&mut data, 0).ctx("read", path)?;

    let (salt, coded) = match check_segment_header(&data, segment, path) {
        Ok(header) => header,
        Err(e) => {
            // A header that never made it (wholly) to disk can only be the last segment's,
            // created just before a crash: the header is synced before any record is appended,
            // so a segment holding no more than a damaged header holds no record either. Any
            // other damage is corruption.
            let unwritten = len <= SEGMENT_HEADER_SIZE || data.iter().all(|&b| b == 0);
            if is_last && e.code() == ErrorCode::Corruption && unwritten {
                return Ok(SegmentEnd {
                    valid_len: 0,
                    torn: true,
                    records: 0,
                });
            }
            return Err(e);
        }
    };

    if keys.is_some() && !coded {
        // An encrypted database writes only coded segments, whose records are sealed.
        return Err(Error::corruption(
            path,
            "a WAL segment in the clear in an encrypted database",
        ));
    }
    let mut off = SEGMENT_HEADER_SIZE;
    let mut records = 0;
    let mut scratch = Vec::new();
    while off < len {
        match parse_record(&data, off, salt) {
            Some(rec) if rec.is_sync_marker() => off = rec.end,
            Some(rec) => {
                let corrupt =
                    |m: String| Error::corruption(path, format!("record at offset {off}: {m}"));
                let opened;
                let batch = if coded {
                    let place = RecordPlace {
                        segment,
                        offset: off,
                        first_seq: rec.first_seq,
                    };
                    opened = open_payload(keys, place, rec.payload).map_err(corrupt)?;
                    let stored = opened.as_deref().unwrap_or(rec.payload);
                    decode_payload(stored, MAX_BATCH_BYTES, &mut scratch).map_err(corrupt)?
                } else {
                    rec.payload
                };
                apply(rec.first_seq, batch).map_err(|e| match e.code() {
                    ErrorCode::Internal => {
                        Error::corruption(path, format!("record at offset {off}: {}", e.message()))
                    }
                    _ => e,
                })?;
                records += 1;
                off = rec.end;
            }
            None if data[off as usize..].iter().all(|&b| b == 0) => {
                // Zeros to the end: space the writer prepared ahead of its records
                // (`WalWriter::sync_and_attest`), not a damaged record.
                return Ok(SegmentEnd {
                    valid_len: off,
                    torn: false,
                    records,
                });
            }
            None => {
                if !is_last {
                    return Err(Error::corruption(
                        path,
                        format!("damaged WAL record at offset {off} in a sealed segment"),
                    ));
                }
                if let Some(later) = synced_record_after(&data, off, salt) {
                    return Err(Error::corruption(
                        path,
                        format!(
                            "damaged WAL record at offset {off}, before a record at offset {later} that was written after it was synced"
                        ),
                    ));
                }
                return Ok(SegmentEnd {
                    valid_len: off,
                    torn: true,
                    records,
                });
            }
        }
    }
    Ok(SegmentEnd {
        valid_len: off.min(len),
        torn: false,
        records,
    })
}

/// The offset of an intact record after `bad` whose `synced_upto` covers `bad`, if any.
fn synced_record_after(data: &[u8], bad: u64, salt: u32) -> Option<u64> {
    let mut off = bad + 8;
    while off + RECORD_HEADER_SIZE as u64 <= data.len() as u64 {
        let at = off as usize;
        // Fast skip over zero-filled space: an intact header is never all zeros.
        if data[at..at + 8] != [0; 8] {
            if let Some(rec) = parse_record(data, off, salt) {
                if rec.synced_upto > bad {
                    return Some(off);
                }
            }
        }
        off += 8;
    }
    None
}

/// Checks a segment's header; returns the segment's salt and whether its payloads are coded.
fn check_segment_header(data: &[u8], segment: u64, path: &Path) -> Result<(u32, bool)> {
    let h = data
        .get(..SEGMENT_HEADER_SIZE as usize)
        .ok_or_else(|| Error::corruption(path, "WAL segment shorter than its header"))?;
    if &h[..8] != SEGMENT_MAGIC {
        return Err(Error::corruption(path, "not a WAL segment (bad magic)"));
    }
    if u32::from_le_bytes(h[24..28].try_into().unwrap()) != masked_crc(&h[..24]) {
        return Err(Error::corruption(
            path,
            "WAL segment header checksum mismatch",
        ));
    }
    let version = u32::from_le_bytes(h[8..12].try_into().unwrap());
    if version != WAL_FORMAT_VERSION && version != CODED_WAL_FORMAT_VERSION {
        return Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "{}: WAL format version {version}; this build reads versions {WAL_FORMAT_VERSION} and {CODED_WAL_FORMAT_VERSION}",
                path.display()
            ),
        ));
    }
    let number = u64::from_le_bytes(h[16..24].try_into().unwrap());
    if number != segment {
        return Err(Error::corruption(
            path,
            format!("WAL segment header says segment {number}"),
        ));
    }
    let salt = u32::from_le_bytes(h[12..16].try_into().unwrap());
    Ok((salt, version == CODED_WAL_FORMAT_VERSION))
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
