//! [`Mapping`]: a read-only, live view of a file's first bytes, as [`StorageFile::map`] returns it.

use std::ops::Deref;

#[cfg(doc)]
use super::StorageFile;

/// The bytes of a mapped file, read-only: a memory map, indexed directly by readers, so a read
/// through it costs what a memory access costs.
///
/// A mapping is live: bytes written to the file after it was made, within its length, show
/// through it (the pager maps once, with room to grow, and reads pages written later through the
/// same map). Bytes past the end of the file are never read.
///
/// Storages inside this crate make one from a `memmap2` map of their choice: a file's map (as
/// [`FsStorage`](super::FsStorage) does), or an anonymous one a storage keeps in memory. The
/// type keeps `memmap2` out of the [`Storage`](super::Storage) trait.
pub struct Mapping {
    map: memmap2::Mmap,
}

impl Mapping {
    /// Wraps a read-only memory map.
    pub(crate) fn new(map: memmap2::Mmap) -> Mapping {
        Mapping { map }
    }
}

impl Deref for Mapping {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping").field("len", &self.len()).finish()
    }
}
