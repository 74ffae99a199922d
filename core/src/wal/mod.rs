//! The write-ahead log: numbered segment files of checksummed records, one record per write batch.
//!
//! Segment layout (see docs/format.md §3):
//! ```text
//! segment header (32 bytes):
//!   0  [8]  magic "LDBWAL\0\x01"
//!   8  u32  format version: 2, or 3 when each payload starts with a codec byte (`payload.rs`)
//!   12 u32  salt: random per segment, mixed into every record header's checksum
//!   16 u64  segment number
//!   24 u32  masked crc32c of bytes 0..24
//!   28 u32  zero
//! records, each starting at a multiple of 8:
//!   0  u32  masked crc32c of the salt, then header bytes 4..32
//!   4  u32  masked crc32c of the payload
//!   8  u64  payload length (0: a sync marker)
//!   16 u64  sequence number of the batch's first op (0 in a sync marker)
//!   24 u64  synced_upto: bytes of this segment known durable when this record was written
//!   32 ...  payload (a write batch), then zero padding to a multiple of 8
//! ```
//! All integers are little-endian.
//!
//! `synced_upto` lets recovery tell a torn tail from corruption: a bad record followed by a valid
//! record that claims the bad one's bytes were already synced is corruption (the bytes were durable,
//! so something damaged them); otherwise the bad bytes were never acknowledged as durable and
//! recovery stops there. A sync marker, appended after each fsync a sync write waits for, makes
//! that claim for the last group before a crash, which no later record may follow. The salt keeps
//! a record spelled out inside a user's value from making such a claim.

mod payload;
mod reader;
mod record;
mod writer;

pub(crate) use payload::{encode_payload, EncodedPayload, PayloadCoding};
pub(crate) use reader::read_segment;
pub(crate) use record::{parse_segment_file_name, segment_path, SEGMENT_HEADER_SIZE};
pub(crate) use writer::WalWriter;
