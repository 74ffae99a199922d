//! Appends records to the current WAL segment.

use std::path::PathBuf;
use std::sync::Arc;

use super::record::{encode_segment_header, segment_path, SEGMENT_HEADER_SIZE};
use crate::error::{IoContext, Result};
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
}

impl WalWriter {
    /// Creates segment `segment` in `dir`, writes and syncs its header, and syncs the directory.
    pub fn create(storage: &dyn Storage, dir: &std::path::Path, segment: u64) -> Result<WalWriter> {
        let path = segment_path(dir, segment);
        let file = storage.open(&path, OpenMode::Create).ctx("create", &path)?;
        file.set_len(0).ctx("truncate", &path)?;
        file.write_at(&encode_segment_header(segment), 0)
            .ctx("write", &path)?;
        file.sync().ctx("sync", &path)?;
        storage.sync_dir(dir).ctx("sync directory", dir)?;
        Ok(WalWriter {
            file,
            path,
            segment,
            offset: SEGMENT_HEADER_SIZE,
            synced: SEGMENT_HEADER_SIZE,
        })
    }

    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// Bytes written to this segment, header included.
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.offset
    }

    /// Bytes of this segment known durable; stamped into each record as `synced_upto`.
    pub fn synced_upto(&self) -> u64 {
        self.synced
    }

    /// Appends encoded records. On error nothing is considered written: the next append overwrites.
    pub fn append(&mut self, records: &[u8]) -> Result<()> {
        self.file
            .write_at(records, self.offset)
            .ctx("write", &self.path)?;
        self.offset += records.len() as u64;
        Ok(())
    }

    /// Makes everything appended so far durable.
    pub fn sync(&mut self) -> Result<()> {
        if self.synced < self.offset {
            self.file.sync().ctx("sync", &self.path)?;
            self.synced = self.offset;
        }
        Ok(())
    }

    pub fn is_synced(&self) -> bool {
        self.synced == self.offset
    }
}
