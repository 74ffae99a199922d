//! The page file: reading pages (through a memory map or the page cache), writing them, and the
//! meta pages. A coded file (format version 2) holds its pages as blocks (`codec/block.rs`) on
//! sectors (`extents.rs`): they are read through the cache of decoded pages, never the map.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::locks::Mutex;

use super::cache::{CacheStats, PageCache};
use super::extents::{sectors_for, Extent, SECTOR_SIZE};
use super::meta::{
    first_sector, read_newest_meta, Meta, NewestMeta, CODED_FORMAT_VERSION, FORMAT_VERSION,
};
use super::node::{elide_slots, restore_slots, PagePtr, RefWidth};
use super::page::{self, get_u64, init_header, put_u64, PageType, PAGE_HEADER_SIZE};
use crate::codec::{
    open_block, CodecCounters, Compression, EpochCipher, EpochKeys, Identity, KeyHeader, KeyRing,
    NoKeys, Prepared, UnlockError,
};
use crate::error::{Error, ErrorCode, IoContext, Result};
use crate::storage::{FileLock, Mapping, StorageFile};

/// Bytes of value data per overflow page: the header, then the next page's id.
pub(crate) fn overflow_capacity(page_size: usize) -> usize {
    page_size - PAGE_HEADER_SIZE - 8
}

/// A read-only map of the page file, and which of its pages passed their checksum check. A page
/// is checked the first time it is read through the map; pages the merge writes are marked checked.
pub(crate) struct MappedFile {
    map: Mapping,
    checked: Box<[AtomicU64]>,
    page_size: usize,
}

impl MappedFile {
    fn pages(&self) -> u64 {
        (self.map.len() / self.page_size) as u64
    }

    fn is_checked(&self, id: u64) -> bool {
        self.checked[(id / 64) as usize].load(Ordering::Acquire) & (1 << (id % 64)) != 0
    }

    fn mark_checked(&self, id: u64) {
        if id < self.pages() {
            self.checked[(id / 64) as usize].fetch_or(1 << (id % 64), Ordering::Release);
        }
    }

    fn page(&self, id: u64, path: &Path) -> Result<&[u8]> {
        let start = id as usize * self.page_size;
        let bytes = &self.map[start..start + self.page_size];
        if !self.is_checked(id) {
            page::check(bytes, id).map_err(|m| Error::corruption(path, m))?;
            self.mark_checked(id);
        }
        Ok(bytes)
    }
}

/// A page for a reader: borrowed from the map, shared from the cache, or read from the file for
/// this reader alone.
pub(crate) enum PageRef<'a> {
    Mapped(&'a [u8]),
    Cached(Arc<[u8]>),
    Read(Box<[u8]>),
}

impl std::ops::Deref for PageRef<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            PageRef::Mapped(b) => b,
            PageRef::Cached(b) => b,
            PageRef::Read(b) => b,
        }
    }
}

/// Where a read takes its pages from.
#[derive(Clone, Copy)]
pub(crate) enum PageSource<'a> {
    /// A reader's way: through the map when there is one and it covers the page, else through
    /// the cache.
    MapOrCache(Option<&'a MappedFile>),
    /// Straight from the file, past the cache: for `verify()`, which must see what is on disk.
    File,
}

/// A page a cursor can keep: it holds what keeps the bytes alive.
#[derive(Clone)]
pub(crate) enum OwnedPage {
    Mapped(Arc<MappedFile>, u64),
    Cached(Arc<[u8]>),
}

impl std::ops::Deref for OwnedPage {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            OwnedPage::Mapped(m, id) => {
                let start = *id as usize * m.page_size;
                &m.map[start..start + m.page_size]
            }
            OwnedPage::Cached(b) => b,
        }
    }
}

/// Counters of page traffic, for `stats()`.
#[derive(Default)]
pub(crate) struct PagerCounters {
    pub pages_read: AtomicU64,
    pub pages_written: AtomicU64,
    /// Blocks and WAL records written, by codec.
    pub codecs: CodecCounters,
}

/// The page file and the ways to read and write its pages.
pub(crate) struct Pager {
    file: Arc<dyn StorageFile>,
    path: PathBuf,
    page_size: usize,
    cache: PageCache<[u8]>,
    /// The `cache_size` option: the page cache's budget, which the trees' leaf hints share.
    cache_size: u64,
    use_mmap: bool,
    mapping: Mutex<Option<Arc<MappedFile>>>,
    pub counters: PagerCounters,
    /// The database directory's LOCK, held for as long as anything (a snapshot, a cursor) can still
    /// read this file, so another opener cannot reuse pages under a live reader. `None` once
    /// released early (see `release_lock`).
    lock: Mutex<Option<Box<dyn FileLock>>>,
    /// A coded file's way of writing blocks; `None` for a plain file.
    coding: Option<BlockCoding>,
    /// An encrypted file's keys.
    keys: Option<Arc<KeyRing>>,
}

/// A block sealed for its extent and ready to write (padded to its sectors).
pub(crate) struct SealedBlock {
    pub extent: Extent,
    pub bytes: Vec<u8>,
    pub ptr: PagePtr,
}

/// How a coded file's blocks are written: the file's identity and the `compression` option of
/// this open (each block says how it was written).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockCoding {
    pub database_id: [u8; 16],
    pub compression: Compression,
    pub level: u32,
}

/// What opening the page file found.
pub(crate) struct Opened {
    pub pager: Pager,
    pub meta: Meta,
    /// The other meta page failed its checks (see `NewestMeta`).
    pub other_meta_damaged: bool,
}

/// What a new coded file is made with: its random id, and its keys if it is encrypted.
pub(crate) struct NewCodedFile<'a> {
    pub database_id: [u8; 16],
    pub keys: Option<&'a KeyRing>,
}

/// A new database's random id.
pub(crate) fn random_database_id(path: &Path) -> Result<[u8; 16]> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| {
        Error::new(
            ErrorCode::Io,
            format!("{}: no random database id: {e}", path.display()),
        )
    })?;
    Ok(id)
}

impl Pager {
    /// Writes a new, empty page file's two meta pages into `file` (which must be empty): a coded
    /// file if `coded` says how, else a plain one.
    pub fn initialize(
        file: &dyn StorageFile,
        path: &Path,
        page_size: usize,
        coded: Option<NewCodedFile<'_>>,
    ) -> Result<()> {
        let mut first = Meta {
            format: FORMAT_VERSION,
            generation: 0,
            file_units: 2,
            wal_start_segment: 1,
            ..Meta::default()
        };
        if let Some(new) = &coded {
            first.format = CODED_FORMAT_VERSION;
            first.file_units = first_sector(page_size);
            first.database_id = new.database_id;
        }
        let second = Meta {
            generation: 1,
            ..first
        };
        for meta in [first, second] {
            let mut page = meta.encode(page_size);
            if let Some(keys) = coded.as_ref().and_then(|c| c.keys) {
                keys.stamp_meta(&mut page, 0)
                    .map_err(|e| Error::io("seal the meta page of", path, e))?;
            }
            page::seal(&mut page);
            file.write_at(&page, meta.slot() * page_size as u64)
                .ctx("write", path)?;
        }
        file.sync().ctx("sync", path)
    }

    /// Opens an existing page file: finds its page size and its newest valid meta page.
    pub fn open(
        file: Arc<dyn StorageFile>,
        path: PathBuf,
        options: &crate::options::Options,
        lock: Box<dyn FileLock>,
    ) -> Result<Opened> {
        let NewestMeta {
            page_size,
            meta,
            page,
            other_damaged,
        } = read_newest_meta(&*file, &path)?;
        let keys = unlock(&page, &meta, options, &path)?.map(Arc::new);
        let coding = meta.is_coded().then_some(BlockCoding {
            database_id: meta.database_id,
            compression: options.compression,
            level: options.compression_level,
        });
        let pager = Pager {
            file,
            path,
            page_size,
            cache: PageCache::new(options.cache_size),
            cache_size: options.cache_size,
            // A coded file's pages must be decoded: they are read through the cache.
            use_mmap: options.mmap && coding.is_none(),
            mapping: Mutex::new(None),
            counters: PagerCounters::default(),
            lock: Mutex::new(Some(lock)),
            coding,
            keys,
        };
        Ok(Opened {
            pager,
            meta,
            other_meta_damaged: other_damaged,
        })
    }

    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// A coded file's way of writing blocks; `None` for a plain file.
    pub fn coding(&self) -> Option<&BlockCoding> {
        self.coding.as_ref()
    }

    /// An encrypted file's keys.
    pub fn keys(&self) -> Option<&Arc<KeyRing>> {
        self.keys.as_ref()
    }

    /// The keys blocks are read with.
    fn epoch_keys(&self) -> &dyn EpochKeys {
        match &self.keys {
            Some(keys) => &**keys,
            None => &NoKeys,
        }
    }

    /// The epoch key to seal one more block under, in an encrypted file.
    fn sealer(&self) -> Result<Option<Arc<EpochCipher>>> {
        self.keys
            .as_ref()
            .map(|k| {
                k.sealer()
                    .map_err(|e| Error::io("seal a block of", &self.path, e))
            })
            .transpose()
    }

    /// How wide the references of the nodes of this file are.
    pub fn ref_width(&self) -> RefWidth {
        match self.coding {
            Some(_) => RefWidth::Wide,
            None => RefWidth::Narrow,
        }
    }

    /// Bytes of the unit the file's length and free space are counted in: a page, or a coded
    /// file's sector.
    pub fn unit_bytes(&self) -> u64 {
        match self.coding {
            Some(_) => SECTOR_SIZE,
            None => self.page_size as u64,
        }
    }

    /// The `cache_size` option the file was opened with.
    pub fn cache_size(&self) -> u64 {
        self.cache_size
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// A map covering at least `page_count` pages, or `None` when pages are read through the cache.
    pub fn mapping_for(&self, page_count: u64) -> Result<Option<Arc<MappedFile>>> {
        if !self.use_mmap {
            return Ok(None);
        }
        let mut current = self.mapping.lock();
        if let Some(m) = current.as_ref() {
            if m.pages() >= page_count {
                return Ok(Some(m.clone()));
            }
        }
        // Reserve room to grow so the file is not remapped on every merge.
        let pages = (page_count * 2).max(256);
        let len = pages * self.page_size as u64;
        let Some(map) = self.file.map(len).ctx("map", &self.path)? else {
            return Ok(None);
        };
        let words = pages.div_ceil(64) as usize;
        let checked: Box<[AtomicU64]> = (0..words)
            .map(|i| {
                let old = current
                    .as_ref()
                    .and_then(|m| m.checked.get(i))
                    .map_or(0, |w| w.load(Ordering::Acquire));
                AtomicU64::new(old)
            })
            .collect();
        let mapped = Arc::new(MappedFile {
            map,
            checked,
            page_size: self.page_size,
        });
        *current = Some(mapped.clone());
        Ok(Some(mapped))
    }

    /// Reads page `ptr` through `map` if given, else through the cache.
    pub fn page<'a>(&self, map: Option<&'a MappedFile>, ptr: PagePtr) -> Result<PageRef<'a>> {
        match map {
            Some(m) if ptr.id < m.pages() => Ok(PageRef::Mapped(m.page(ptr.id, &self.path)?)),
            _ => Ok(PageRef::Cached(self.cached_page(ptr)?)),
        }
    }

    /// Reads page `ptr` from `source`.
    pub fn page_from<'a>(&self, source: PageSource<'a>, ptr: PagePtr) -> Result<PageRef<'a>> {
        match source {
            PageSource::MapOrCache(map) => self.page(map, ptr),
            PageSource::File => Ok(PageRef::Read(self.read_page_uncached(ptr)?)),
        }
    }

    /// Like [`Pager::page`], for a reader that keeps the page.
    pub fn owned_page(&self, map: Option<&Arc<MappedFile>>, ptr: PagePtr) -> Result<OwnedPage> {
        match map {
            Some(m) if ptr.id < m.pages() => {
                m.page(ptr.id, &self.path)?;
                Ok(OwnedPage::Mapped(m.clone(), ptr.id))
            }
            _ => Ok(OwnedPage::Cached(self.cached_page(ptr)?)),
        }
    }

    /// Releases the directory's lock before the pager goes, once its database is closed and
    /// nothing can read the file any more.
    pub fn release_lock(&self) {
        drop(self.lock.lock().take());
    }

    /// Page `id` if the cache holds it (read and checked before, or written since).
    pub fn cached(&self, id: u64) -> Option<Arc<[u8]>> {
        self.cache.get(id)
    }

    fn cached_page(&self, ptr: PagePtr) -> Result<Arc<[u8]>> {
        if let Some(p) = self.cache.get(ptr.id) {
            return Ok(p);
        }
        let page: Arc<[u8]> = Arc::from(self.read_page_uncached(ptr)?);
        self.cache.insert(ptr.id, page.clone(), self.page_size);
        Ok(page)
    }

    /// Reads and checks page `ptr` from the file, bypassing map and cache: a page of a plain file,
    /// or a coded file's block decoded into its page.
    pub fn read_page_uncached(&self, ptr: PagePtr) -> Result<Box<[u8]>> {
        if self.coding.is_some() {
            let mut page = self.read_block(ptr, self.page_size)?;
            if page.len() != self.page_size {
                return Err(self.corrupt(format!(
                    "block {:#x} holds {} bytes, not a page",
                    ptr.id,
                    page.len()
                )));
            }
            restore_slots(&mut page)
                .map_err(|m| self.corrupt(format!("block {:#x}: {m}", ptr.id)))?;
            return Ok(page.into_boxed_slice());
        }
        self.read_plain_page(ptr.id)
    }

    /// The bytes of a coded file's block at `ptr` (checked against `ptr.check` unless it is 0),
    /// at most `max_len` of them.
    pub fn read_block(&self, ptr: PagePtr, max_len: usize) -> Result<Vec<u8>> {
        let coding = self.coding.as_ref().expect("a coded file");
        let extent = Extent::from_address(ptr.id)
            .ok_or_else(|| self.corrupt(format!("reference to block {:#x}", ptr.id)))?;
        let mut stored = vec![0u8; extent.byte_len() as usize];
        self.file
            .read_at(&mut stored, extent.byte_offset())
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    self.corrupt(format!("block {:#x} is past the end of the file", ptr.id))
                } else {
                    Error::io("read", &self.path, e)
                }
            })?;
        self.counters.pages_read.fetch_add(1, Ordering::Relaxed);
        let identity = Identity {
            database_id: coding.database_id,
            address: ptr.id,
        };
        let check = (ptr.check != 0).then_some(ptr.check);
        open_block(&mut stored, &identity, check, self.epoch_keys(), max_len)
            .map_err(|m| self.corrupt(format!("block {:#x}: {m}", ptr.id)))
    }

    /// Node `page` as a block of a coded file on `alloc`'s sectors, compressed and without the
    /// slots its entries imply (`node::elide_slots`), for the caller to write at the extent (see
    /// [`Pager::write_blocks`]). The page goes to the cache now, so reading it back needs no
    /// decoding (nobody reads the extent before the block is written and published).
    pub fn seal_node(
        &self,
        page: Vec<u8>,
        alloc: &mut super::alloc::Allocator,
    ) -> Result<SealedBlock> {
        let coding = self.coding.as_ref().expect("a coded file");
        let mut stored = page.clone();
        elide_slots(&mut stored);
        let sealer = self.sealer()?;
        let prepared = Prepared::new(coding.compression, coding.level, &stored, sealer.as_deref());
        let extent = alloc.alloc_sectors(sectors_for(prepared.stored_len()));
        self.seal(prepared, extent, Some(page), sealer.as_deref())
    }

    /// `data` (an overflowed key or value) as a compressed block of a coded file, to write.
    pub fn seal_value(
        &self,
        data: &[u8],
        alloc: &mut super::alloc::Allocator,
    ) -> Result<SealedBlock> {
        let coding = self.coding.as_ref().expect("a coded file");
        let sealer = self.sealer()?;
        let prepared = Prepared::new(coding.compression, coding.level, data, sealer.as_deref());
        let extent = alloc.alloc_sectors(sectors_for(prepared.stored_len()));
        self.seal(prepared, extent, None, sealer.as_deref())
    }

    /// Writes `count` sealed blocks that lie back to back from sector `first`, in one write.
    pub fn write_blocks(&self, first: u64, blocks: &[u8], count: u64) -> Result<()> {
        self.file
            .write_at(blocks, first * SECTOR_SIZE)
            .ctx("write", &self.path)?;
        self.counters
            .pages_written
            .fetch_add(count, Ordering::Relaxed);
        Ok(())
    }

    /// Writes a block of at most `max_raw_len` bytes, not compressed, whose content `make` builds
    /// once its sectors are taken from `alloc` (the free list, which lists them).
    pub fn write_block_with(
        &self,
        alloc: &mut super::alloc::Allocator,
        max_raw_len: usize,
        make: impl FnOnce(&mut super::alloc::Allocator) -> Vec<u8>,
    ) -> Result<PagePtr> {
        let coding = self.coding.as_ref().expect("a coded file");
        let sealer = self.sealer()?;
        let most = Prepared::uncompressed_len(max_raw_len, sealer.is_some());
        let extent = alloc.alloc_sectors(sectors_for(most));
        let raw = make(alloc);
        debug_assert!(raw.len() <= max_raw_len);
        let prepared = Prepared::new(Compression::None, coding.level, &raw, sealer.as_deref());
        let sealed = self.seal(prepared, extent, None, sealer.as_deref())?;
        self.write_blocks(sealed.extent.first, &sealed.bytes, 1)?;
        Ok(sealed.ptr)
    }

    /// Seals `prepared` for `extent` (padded to its sectors), counts it by codec, and puts
    /// `cache` in the cache as the page at the block's address (or forgets what was there).
    fn seal(
        &self,
        prepared: Prepared,
        extent: Extent,
        cache: Option<Vec<u8>>,
        sealer: Option<&EpochCipher>,
    ) -> Result<SealedBlock> {
        let coding = self.coding.as_ref().expect("a coded file");
        let identity = Identity {
            database_id: coding.database_id,
            address: extent.address(),
        };
        let (codec, raw_len) = (prepared.codec, prepared.raw_len);
        let (mut block, check) = prepared
            .seal(&identity, sealer)
            .map_err(|e| Error::io("seal a block for", &self.path, e))?;
        debug_assert!(block.len() as u64 <= extent.byte_len());
        self.counters.codecs.count(codec, raw_len, block.len());
        match cache {
            Some(raw) => self
                .cache
                .insert(extent.address(), Arc::from(raw), self.page_size),
            None => self.cache.remove(extent.address()),
        }
        block.resize(extent.byte_len() as usize, 0);
        Ok(SealedBlock {
            extent,
            bytes: block,
            ptr: PagePtr {
                id: extent.address(),
                check,
            },
        })
    }

    /// Reads and checks page `id` of a plain file.
    fn read_plain_page(&self, id: u64) -> Result<Box<[u8]>> {
        let mut buf = vec![0u8; self.page_size].into_boxed_slice();
        self.file
            .read_at(&mut buf, id * self.page_size as u64)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    Error::corruption(&self.path, format!("page {id} is past the end of the file"))
                } else {
                    Error::io("read", &self.path, e)
                }
            })?;
        self.counters.pages_read.fetch_add(1, Ordering::Relaxed);
        page::check(&buf, id).map_err(|m| Error::corruption(&self.path, m))?;
        Ok(buf)
    }

    /// Seals and writes page `id`. Nobody may be able to read `id` yet (it is new or reusable).
    pub fn write_page(&self, id: u64, mut page: Vec<u8>) -> Result<()> {
        page::seal(&mut page);
        self.file
            .write_at(&page, id * self.page_size as u64)
            .ctx("write", &self.path)?;
        self.counters.pages_written.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = self.mapping.lock().as_ref() {
            m.mark_checked(id);
        }
        if self.use_mmap {
            self.cache.remove(id);
        } else {
            self.cache.insert(id, Arc::from(page), self.page_size);
        }
        Ok(())
    }

    /// Seals and writes `count` consecutive pages starting at `first` in one write. Nobody may be
    /// able to read them yet.
    pub fn write_run(&self, first: u64, pages: &mut [u8]) -> Result<()> {
        for page in pages.chunks_exact_mut(self.page_size) {
            page::seal(page);
        }
        self.file
            .write_at(pages, first * self.page_size as u64)
            .ctx("write", &self.path)?;
        let count = (pages.len() / self.page_size) as u64;
        self.counters
            .pages_written
            .fetch_add(count, Ordering::Relaxed);
        let mapping = self.mapping.lock();
        for (i, page) in pages.chunks_exact(self.page_size).enumerate() {
            let id = first + i as u64;
            if let Some(m) = mapping.as_ref() {
                m.mark_checked(id);
            }
            if self.use_mmap {
                self.cache.remove(id);
            } else {
                self.cache.insert(id, Arc::from(page), self.page_size);
            }
        }
        Ok(())
    }

    /// Makes every page written so far durable.
    pub fn sync(&self) -> Result<()> {
        self.file.sync().ctx("sync", &self.path)
    }

    /// Writes and syncs the meta page for `meta` (into slot `meta.slot()`). In an encrypted file
    /// the page carries the key header and a key epoch: a new one if `new_epoch` (an open takes
    /// one before it seals anything) or the current one is half spent.
    pub fn write_meta(&self, meta: &Meta, new_epoch: bool) -> Result<()> {
        let mut page = meta.encode(self.page_size);
        let epoch = match &self.keys {
            Some(keys) => {
                let epoch = keys.epoch_for_meta(new_epoch);
                keys.stamp_meta(&mut page, epoch)
                    .map_err(|e| Error::io("seal the meta page of", &self.path, e))?;
                Some(epoch)
            }
            None => None,
        };
        self.write_page(meta.slot(), page)?;
        self.sync()?;
        if let (Some(keys), Some(epoch)) = (&self.keys, epoch) {
            keys.epoch_persisted(epoch);
        }
        Ok(())
    }

    /// Reads both meta pages as they are on disk and checks their tags (an encrypted file's):
    /// the current one (in slot `current`) must be intact, the other may be torn (a crash while
    /// it was written) but not changed.
    pub fn check_meta_pages(&self, current: u64) -> Result<()> {
        let Some(keys) = &self.keys else {
            return Ok(());
        };
        for slot in 0..2 {
            let page = match self.read_plain_page(slot) {
                Ok(page) => page,
                Err(e) if slot == current || e.code() != ErrorCode::Corruption => return Err(e),
                Err(_) => continue,
            };
            keys.check_meta(&page)
                .map_err(|m| self.corrupt(format!("meta page {slot}: {m}")))?;
        }
        Ok(())
    }

    /// Cuts the file to `units` pages (sectors in a coded file).
    pub fn truncate(&self, units: u64) -> Result<()> {
        self.file
            .set_len(units * self.unit_bytes())
            .ctx("truncate", &self.path)
    }

    pub fn file_len(&self) -> Result<u64> {
        self.file.len().ctx("stat", &self.path)
    }

    /// Encodes one overflow page: header, next page id, data.
    pub fn overflow_page(&self, id: u64, next: u64, data: &[u8]) -> Vec<u8> {
        let mut page = vec![0u8; self.page_size];
        init_header(&mut page, PageType::Overflow, 0, id);
        put_u64(&mut page, PAGE_HEADER_SIZE, next);
        page[PAGE_HEADER_SIZE + 8..PAGE_HEADER_SIZE + 8 + data.len()].copy_from_slice(data);
        page
    }

    /// Reads the `len` bytes stored in the overflow chain starting at `first` from `source`,
    /// calling `visit` with each page id of the chain. (A coded file holds them in one block.)
    pub fn read_overflow(
        &self,
        source: PageSource<'_>,
        first: PagePtr,
        len: u64,
        page_count: u64,
        mut visit: impl FnMut(u64),
    ) -> Result<Vec<u8>> {
        let ptr = first;
        let first = ptr.id;
        let cap = overflow_capacity(self.page_size);
        let len = usize::try_from(len).map_err(|_| self.bad_chain(first, "length too large"))?;
        if len > crate::limits::MAX_VALUE_SIZE.max(crate::limits::MAX_KEY_SIZE) {
            return Err(self.bad_chain(first, "length beyond the value limit"));
        }
        if self.coding.is_some() {
            visit(first);
            let data = self.read_block(ptr, len)?;
            if data.len() != len {
                return Err(self.bad_chain(first, "holds another length than its reference"));
            }
            return Ok(data);
        }
        // Every page but the two meta pages could be in the chain, no more: a longer claim is
        // corruption, found before reserving memory for it.
        let most = (cap as u64).saturating_mul(page_count.saturating_sub(2));
        if len as u64 > most {
            return Err(self.bad_chain(first, "is longer than the whole file could hold"));
        }
        let mut out = Vec::with_capacity(len);
        let mut id = first;
        while out.len() < len {
            if id < 2 || id >= page_count {
                return Err(self.bad_chain(first, "points outside the file"));
            }
            visit(id);
            let page = self.page_from(source, PagePtr::plain(id))?;
            if page::page_type(&page) != Some(PageType::Overflow) {
                return Err(self.bad_chain(first, "reaches a page that is not an overflow page"));
            }
            let take = cap.min(len - out.len());
            out.extend_from_slice(&page[PAGE_HEADER_SIZE + 8..PAGE_HEADER_SIZE + 8 + take]);
            id = get_u64(&page, PAGE_HEADER_SIZE);
        }
        Ok(out)
    }

    /// Whether the key or passphrase in `options` (or neither) opens this file, with the error an
    /// open with them would get: for a second opener of a database open in this process.
    pub fn check_key(&self, options: &crate::options::Options) -> Result<()> {
        match (&self.keys, options.user_key()) {
            (Some(keys), Some(user)) => {
                keys.accepts(&user).map_err(|e| unlock_error(&self.path, e))
            }
            (keys, user) => check_key_presence(&self.path, keys.is_some(), user.is_some()),
        }
    }

    /// Wraps the data key for the key or passphrase in `options`: the meta pages written from
    /// now on name the new wrapping. Returns the key header it replaces, to put back with
    /// [`Pager::restore_key_header`] if the meta page naming the new one is not written.
    pub fn rewrap(&self, options: &crate::options::Options) -> Result<KeyHeader> {
        let keys = self.keys.as_ref().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "rekey: the database is not encrypted",
            )
        })?;
        let user = options.user_key().ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidOption,
                "rekey needs the new encryption_key or passphrase",
            )
        })?;
        keys.rewrap(&user).map_err(|e| {
            // The key derivation or the random salt failed: nothing was written, and the
            // database goes on under its old key.
            Error::new(ErrorCode::Io, format!("rekey: no new key header: {e}"))
        })
    }

    /// Puts back a key header [`Pager::rewrap`] replaced.
    pub fn restore_key_header(&self, header: KeyHeader) {
        if let Some(keys) = &self.keys {
            keys.restore_header(header);
        }
    }

    fn bad_chain(&self, first: u64, what: &str) -> Error {
        Error::corruption(&self.path, format!("overflow chain at page {first} {what}"))
    }

    pub fn corrupt(&self, message: impl std::fmt::Display) -> Error {
        Error::corruption(&self.path, message)
    }
}

/// The keys of the file whose newest meta page is `page`, unlocked with the key or passphrase in
/// `options`; `None` for a file that is not encrypted (then `options` must hold neither).
fn unlock(
    page: &[u8],
    meta: &Meta,
    options: &crate::options::Options,
    path: &Path,
) -> Result<Option<KeyRing>> {
    let header = if meta.is_coded() {
        KeyHeader::parse(page).map_err(|m| Error::corruption(path, format!("meta page: {m}")))?
    } else {
        None
    };
    match (header, options.user_key()) {
        (Some(header), Some(user)) => KeyRing::unlock(page, header, meta.database_id, &user)
            .map(Some)
            .map_err(|e| unlock_error(path, e)),
        (header, user) => check_key_presence(path, header.is_some(), user.is_some()).map(|()| None),
    }
}

/// `INVALID_OPTION` for a key or passphrase given to a database that is not encrypted,
/// `WRONG_KEY` for none given to one that is; `Ok` when both or neither are there.
fn check_key_presence(path: &Path, encrypted: bool, given: bool) -> Result<()> {
    match (encrypted, given) {
        (false, true) => Err(Error::new(
            ErrorCode::InvalidOption,
            format!(
                "{}: the database is not encrypted, so options encryption_key and passphrase do not apply",
                path.display()
            ),
        )),
        (true, false) => Err(Error::new(
            ErrorCode::WrongKey,
            format!(
                "{}: the database is encrypted: give its encryption_key or passphrase",
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}

fn unlock_error(path: &Path, e: UnlockError) -> Error {
    match e {
        UnlockError::WrongKey(m) => {
            Error::new(ErrorCode::WrongKey, format!("{}: {m}", path.display()))
        }
        UnlockError::Malformed(m) => Error::corruption(path, format!("meta page: {m}")),
    }
}

#[cfg(test)]
#[path = "pager_tests.rs"]
mod tests;
