//! The page file: reading pages (through a memory map or the page cache), writing them, and the
//! meta pages.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::locks::Mutex;

use super::cache::{CacheStats, PageCache};
use super::meta::{read_newest_meta, Meta, NewestMeta};
use super::page::{self, get_u64, init_header, put_u64, PageType, PAGE_HEADER_SIZE};
use crate::error::{Error, IoContext, Result};
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
    Cached(Arc<Box<[u8]>>),
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
    Cached(Arc<Box<[u8]>>),
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
}

/// The page file and the ways to read and write its pages.
pub(crate) struct Pager {
    file: Arc<dyn StorageFile>,
    path: PathBuf,
    page_size: usize,
    cache: PageCache<Box<[u8]>>,
    /// The `cache_size` option: the page cache's budget, which the trees' leaf hints share.
    cache_size: u64,
    use_mmap: bool,
    mapping: Mutex<Option<Arc<MappedFile>>>,
    pub counters: PagerCounters,
    /// The database directory's LOCK, held for as long as anything (a snapshot, a cursor) can still
    /// read this file, so another opener cannot reuse pages under a live reader. `None` once
    /// released early (see `release_lock`).
    lock: Mutex<Option<Box<dyn FileLock>>>,
}

/// What opening the page file found.
pub(crate) struct Opened {
    pub pager: Pager,
    pub meta: Meta,
    /// The other meta page failed its checks (see `NewestMeta`).
    pub other_meta_damaged: bool,
}

impl Pager {
    /// Writes a new, empty page file's two meta pages into `file` (which must be empty).
    pub fn initialize(file: &dyn StorageFile, path: &Path, page_size: usize) -> Result<()> {
        let first = Meta {
            generation: 0,
            page_count: 2,
            wal_start_segment: 1,
            ..Meta::default()
        };
        let second = Meta {
            generation: 1,
            ..first
        };
        for meta in [first, second] {
            let mut page = meta.encode(page_size);
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
        cache_size: u64,
        use_mmap: bool,
        lock: Box<dyn FileLock>,
    ) -> Result<Opened> {
        let NewestMeta {
            page_size,
            meta,
            other_damaged,
        } = read_newest_meta(&*file, &path)?;
        let pager = Pager {
            file,
            path,
            page_size,
            cache: PageCache::new(cache_size),
            cache_size,
            use_mmap,
            mapping: Mutex::new(None),
            counters: PagerCounters::default(),
            lock: Mutex::new(Some(lock)),
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

    /// Reads page `id` through `map` if given, else through the cache.
    pub fn page<'a>(&self, map: Option<&'a MappedFile>, id: u64) -> Result<PageRef<'a>> {
        match map {
            Some(m) if id < m.pages() => Ok(PageRef::Mapped(m.page(id, &self.path)?)),
            _ => Ok(PageRef::Cached(self.cached_page(id)?)),
        }
    }

    /// Reads page `id` from `source`.
    pub fn page_from<'a>(&self, source: PageSource<'a>, id: u64) -> Result<PageRef<'a>> {
        match source {
            PageSource::MapOrCache(map) => self.page(map, id),
            PageSource::File => Ok(PageRef::Read(self.read_page_uncached(id)?)),
        }
    }

    /// Like [`Pager::page`], for a reader that keeps the page.
    pub fn owned_page(&self, map: Option<&Arc<MappedFile>>, id: u64) -> Result<OwnedPage> {
        match map {
            Some(m) if id < m.pages() => {
                m.page(id, &self.path)?;
                Ok(OwnedPage::Mapped(m.clone(), id))
            }
            _ => Ok(OwnedPage::Cached(self.cached_page(id)?)),
        }
    }

    /// Releases the directory's lock before the pager goes, once its database is closed and
    /// nothing can read the file any more.
    pub fn release_lock(&self) {
        drop(self.lock.lock().take());
    }

    fn cached_page(&self, id: u64) -> Result<Arc<Box<[u8]>>> {
        if let Some(p) = self.cache.get(id) {
            return Ok(p);
        }
        let page = Arc::new(self.read_page_uncached(id)?);
        self.cache.insert(id, page.clone(), self.page_size);
        Ok(page)
    }

    /// Reads and checks page `id` from the file, bypassing map and cache.
    pub fn read_page_uncached(&self, id: u64) -> Result<Box<[u8]>> {
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
            self.cache
                .insert(id, Arc::new(page.into_boxed_slice()), self.page_size);
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
                self.cache.insert(
                    id,
                    Arc::new(page.to_vec().into_boxed_slice()),
                    self.page_size,
                );
            }
        }
        Ok(())
    }

    /// Makes every page written so far durable.
    pub fn sync(&self) -> Result<()> {
        self.file.sync().ctx("sync", &self.path)
    }

    /// Writes and syncs the meta page for `meta` (into slot `meta.slot()`).
    pub fn write_meta(&self, meta: &Meta) -> Result<()> {
        let page = meta.encode(self.page_size);
        self.write_page(meta.slot(), page)?;
        self.sync()
    }

    /// Cuts the file to `page_count` pages.
    pub fn truncate(&self, page_count: u64) -> Result<()> {
        self.file
            .set_len(page_count * self.page_size as u64)
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
    /// calling `visit` with each page id of the chain.
    pub fn read_overflow(
        &self,
        source: PageSource<'_>,
        first: u64,
        len: u64,
        page_count: u64,
        mut visit: impl FnMut(u64),
    ) -> Result<Vec<u8>> {
        let cap = overflow_capacity(self.page_size);
        let len = usize::try_from(len).map_err(|_| self.bad_chain(first, "length too large"))?;
        if len > crate::limits::MAX_VALUE_SIZE.max(crate::limits::MAX_KEY_SIZE) {
            return Err(self.bad_chain(first, "length beyond the value limit"));
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
            let page = self.page_from(source, id)?;
            if page::page_type(&page) != Some(PageType::Overflow) {
                return Err(self.bad_chain(first, "reaches a page that is not an overflow page"));
            }
            let take = cap.min(len - out.len());
            out.extend_from_slice(&page[PAGE_HEADER_SIZE + 8..PAGE_HEADER_SIZE + 8 + take]);
            id = get_u64(&page, PAGE_HEADER_SIZE);
        }
        Ok(out)
    }

    fn bad_chain(&self, first: u64, what: &str) -> Error {
        Error::corruption(&self.path, format!("overflow chain at page {first} {what}"))
    }

    pub fn corrupt(&self, message: impl std::fmt::Display) -> Error {
        Error::corruption(&self.path, message)
    }
}

#[cfg(test)]
#[path = "pager_tests.rs"]
mod tests;
