//! [`Mapping`]: a read-only, live view of a file's first bytes, as [`StorageFile::map`] returns it.

use std::ops::Deref;

#[cfg(doc)]
use super::StorageFile;

/// The bytes of a mapped file, read-only. Readers index it directly, without a call into the
/// storage, so a read through the map costs what a memory access costs.
///
/// A mapping is live: bytes written to the file after it was made, within its length, show
/// through it (the pager maps once, with room to grow, and reads pages written later through the
/// same map). Bytes past the end of the file are never read.
pub struct Mapping {
    region: Region,
}

enum Region {
    /// A memory map of a file, made by [`FsStorage`](super::FsStorage).
    Mmap(memmap2::Mmap),
    /// A region that another storage provides.
    Other(Box<dyn MappedRegion>),
}

/// A live region of a file's bytes that a storage other than the file system maps in its own
/// way (e.g. a fault-injecting storage that keeps its files in memory).
pub trait MappedRegion: Send + Sync {
    /// The bytes of the region; the same address and length on every call.
    fn bytes(&self) -> &[u8];
}

impl Mapping {
    /// A memory map made by the real storage.
    pub(crate) fn mmap(map: memmap2::Mmap) -> Mapping {
        Mapping {
            region: Region::Mmap(map),
        }
    }

    /// A mapping that `region` provides, for storages that map files their own way.
    pub fn from_region(region: Box<dyn MappedRegion>) -> Mapping {
        Mapping {
            region: Region::Other(region),
        }
    }
}

impl Deref for Mapping {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match &self.region {
            Region::Mmap(map) => map,
            Region::Other(region) => region.bytes(),
        }
    }
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping").field("len", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct InMemory(Box<[u8]>);

    impl MappedRegion for InMemory {
        fn bytes(&self) -> &[u8] {
            &self.0
        }
    }

    #[test]
    fn a_region_of_another_storage_reads_as_its_bytes() {
        let mapping = Mapping::from_region(Box::new(InMemory(b"page bytes".to_vec().into())));
        assert_eq!(&mapping[..], b"page bytes");
        assert_eq!(mapping.len(), 10);
    }
}
