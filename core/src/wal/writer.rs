//! Appends records to the current WAL segment.

use std::path::PathBuf;
use std::sync::Arc;

use super::payload::{seal_payload, PayloadCoding, RecordPlace};
use super::record::{
    encode_record, encode_segment_header, encode_sync_marker, segment_path,
    CODED_WAL_FORMAT_VERSION, RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, WAL_FORMAT_VERSION,
};
use crate::codec::KeyRing;
use crate::error::{Error, ErrorCode, IoContext, Result};
use crate::storage::{OpenMode, Storage, StorageFile};

/// The open tail segment. Only the group-commit leader touches it.
pub(crate) struct WalWriter {
    file: Arc<dyn StorageFile>,
    path: PathBuf,
    segment: u64,
    /// Where the next record goes.
    offset: u64,
    /// Bytes known durable.
    synced: u64,
    /// The end of the sync marker written after the last sync, if nothing was appended since.
    attested: Option<u64>,
    /// This segment's random salt, part of every record header's checksum.
    salt: u32,
    /// The file's length once zeros were written ahead of the records (see `prepare`).
    prepared: u64,
    /// An encrypted database's keys: every payload is sealed for its place.
    keys: Option<Arc<KeyRing>>,
}

/// Zeros a sync write's fsync writes ahead of the records (see [`WalWriter::sync_and_attest`]).
const PREPARE_BYTES: u64 = 64 << 10;

impl WalWriter {
    /// Creates segment `segment` in `dir` for payloads encoded with `coding`, writes and syncs its
    /// header, and syncs the directory.
    pub fn create(
        storage: &dyn Storage,
        dir: &std::path::Path,
        segment: u64,
        coding: PayloadCoding,
        keys: Option<Arc<KeyRing>>,
    ) -> Result<WalWriter> {
        let path = segment_path(dir, segment);
        let file = storage.open(&path, OpenMode::Create).ctx("create", &path)?;
        let salt = getrandom::u32().map_err(|e| {
            Error::new(
                ErrorCode::Io,
                format!("{}: no random salt for the segment: {e}", path.display()),
            )
        })?;
        file.set_len(0).ctx("truncate", &path)?;
        let version = match coding {
            PayloadCoding::Plain => WAL_FORMAT_VERSION,
            PayloadCoding::Coded { .. } => CODED_WAL_FORMAT_VERSION,
        };
        file.write_at(&encode_segment_header(segment, salt, version), 0)
            .ctx("write", &path)?;
        file.sync().ctx("sync", &path)?;
        storage.sync_dir(dir).ctx("sync directory", dir)?;
        Ok(WalWriter {
            file,
            path,
            segment,
            offset: SEGMENT_HEADER_SIZE,
            synced: SEGMENT_HEADER_SIZE,
            attested: None,
            salt,
            prepared: SEGMENT_HEADER_SIZE,
            keys,
        })
    }

    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// Bytes of records written to this segment, header included (the file may be longer:
    /// zeros written ahead).
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.offset
    }

    /// Appends a record for a batch to `out` (which is appended next, from the segment's end),
    /// stamped with this segment's salt and how much of the segment is known durable
    /// (`synced_upto`). In an encrypted database the payload is sealed for its place first.
    pub fn encode_record(
        &self,
        out: &mut Vec<u8>,
        first_seq: u64,
        payload: &[u8],
        payload_crc: u32,
    ) -> Result<()> {
        let Some(keys) = &self.keys else {
            encode_record(out, self.salt, first_seq, payload, payload_crc, self.synced);
            return Ok(());
        };
        let place = RecordPlace {
            segment: self.segment,
            offset: self.offset + out.len() as u64,
            first_seq,
        };
        let sealed =
            seal_payload(keys, place, payload).map_err(|e| Error::io("seal", &self.path, e))?;
        let crc = crate::checksum::masked_crc(&sealed);
        encode_record(out, self.salt, first_seq, &sealed, crc, self.synced);
        Ok(())
    }

    /// Appends encoded records. On error nothing is considered written: the next append overwrites.
    pub fn append(&mut self, records: &[u8]) -> Result<()> {
        self.file
            .write_at(records, self.offset)
            .ctx("write", &self.path)?;
        self.offset += records.len() as u64;
        self.attested = None;
        Ok(())
    }

    /// Makes everything appended so far durable (and the last sync marker with it). Sealing a
    /// segment uses this one: a sealed segment ends synced, with nothing after its last sync.
    pub fn sync(&mut self) -> Result<()> {
        if self.synced < self.offset {
            self.file.sync().ctx("sync", &self.path)?;
            self.synced = self.offset;
        }
        Ok(())
    }

    /// Syncs, then appends a sync marker that attests the synced bytes (not synced itself: it
    /// becomes durable with the next sync, the close, or the kernel's writeback). Acknowledged
    /// sync writes use this one, so that damage to a record they made durable is corruption.
    ///
    /// Its fsync also makes durable a run of zeros past the records (once per `PREPARE_BYTES`):
    /// the sync writes after it then write into the file, not past its end, and their fsyncs
    /// have no new file size to make durable, only data (on ext4, one device flush instead of a
    /// journal commit as well). A reader takes zeros to the end of a segment as its end.
    pub fn sync_and_attest(&mut self) -> Result<()> {
        if self.is_synced() {
            return Ok(());
        }
        let marker_end = self.offset + RECORD_HEADER_SIZE as u64;
        if marker_end > self.prepared {
            let zeros = vec![0u8; PREPARE_BYTES as usize];
            self.file
                .write_at(&zeros, self.offset)
                .ctx("write", &self.path)?;
            self.prepared = self.offset + PREPARE_BYTES;
        }
        self.sync()?;
        let marker = encode_sync_marker(self.salt, self.offset);
        self.append(&marker)?;
        self.attested = Some(self.offset);
        Ok(())
    }

    /// Whether every record appended is durable (a sync marker after the last sync may not be).
    pub fn is_synced(&self) -> bool {
        self.synced == self.offset || self.attested == Some(self.offset)
    }
}
