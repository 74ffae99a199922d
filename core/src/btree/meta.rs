//! The two meta pages (ids 0 and 1), written alternately, and choosing the newest valid one at
//! open.
//!
//! ```text
//! 0   page header (type 1 = meta, count 0, id 0 or 1)
//! 16  [8] magic "LIGHTNDB"
//! 24  u32 format version
//! 28  u32 page size
//! 32  u64 generation: +1 per merge; the valid meta page with the higher one wins
//! 40  u64 root page id (0 = empty tree)
//! 48  u64 live keys in the tree
//! 56  u64 page count: the file's length in pages
//! 64  u64 first freelist page (0 = none)
//! 72  u64 free pages listed in the freelist
//! 80  u64 last sequence number merged into the tree
//! 88  u64 first WAL segment recovery must replay
//! ```
//!
//! A coded file (format version 2, `extents.rs`) counts its length in 256-byte sectors instead of
//! pages, names blocks by address, and goes on:
//!
//! ```text
//! 96  u64 the root's check
//! 104 u64 the free list block's check
//! 112 [16] database id: random, chosen at creation; part of every block's checksum
//! ```

use std::path::Path;

use super::extents::{Extent, SECTOR_SIZE};
use super::node::PagePtr;
use super::page::{self, get_u64, init_header, put_u64, PageType};
use crate::error::{Error, ErrorCode, IoContext, Result};
use crate::limits::{is_valid_page_size, page_sizes};
use crate::storage::StorageFile;

pub(crate) const MAGIC: &[u8; 8] = b"LIGHTNDB";
/// The version of a plain page file: pages at fixed places, read through the map.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// The version of a coded page file: compressed (and encrypted) blocks on sectors.
pub(crate) const CODED_FORMAT_VERSION: u32 = 2;
/// The newest version this build reads.
pub(crate) const NEWEST_FORMAT_VERSION: u32 = CODED_FORMAT_VERSION;

/// The state one meta page names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Meta {
    /// [`FORMAT_VERSION`] or [`CODED_FORMAT_VERSION`].
    pub format: u32,
    pub generation: u64,
    pub root: PagePtr,
    pub entries: u64,
    /// The file's length in units: pages, or a coded file's sectors.
    pub file_units: u64,
    pub freelist_head: u64,
    /// Units on the free list.
    pub free_units: u64,
    pub last_seq: u64,
    pub wal_start_segment: u64,
    /// A coded file's: the free list block's check, and the database's id.
    pub freelist_check: u64,
    pub database_id: [u8; 16],
}

impl Meta {
    /// The slot (page id) this meta is written to: generations alternate between pages 0 and 1.
    pub fn slot(&self) -> u64 {
        self.generation % 2
    }

    pub fn encode(&self, page_size: usize) -> Vec<u8> {
        let mut page = vec![0u8; page_size];
        init_header(&mut page, PageType::Meta, 0, self.slot());
        page[16..24].copy_from_slice(MAGIC);
        page[24..28].copy_from_slice(&self.format.to_le_bytes());
        page[28..32].copy_from_slice(&(page_size as u32).to_le_bytes());
        for (i, v) in [
            self.generation,
            self.root.id,
            self.entries,
            self.file_units,
            self.freelist_head,
            self.free_units,
            self.last_seq,
            self.wal_start_segment,
        ]
        .into_iter()
        .enumerate()
        {
            put_u64(&mut page, 32 + 8 * i, v);
        }
        if self.is_coded() {
            put_u64(&mut page, 96, self.root.check);
            put_u64(&mut page, 104, self.freelist_check);
            page[112..128].copy_from_slice(&self.database_id);
        }
        page
    }

    /// Whether this names a coded file's tree (blocks on sectors).
    pub fn is_coded(&self) -> bool {
        self.format == CODED_FORMAT_VERSION
    }

    /// Checks that the fields fit a file of `file_len` bytes in pages of `page_size`, and that the
    /// engine's arithmetic on them cannot overflow: `Err` says what does not.
    pub fn check(&self, page_size: usize, file_len: u64) -> std::result::Result<(), String> {
        if self.is_coded() {
            return self.check_coded(page_size, file_len);
        }
        let file_pages = file_len / page_size as u64;
        if self.file_units < 2 || self.file_units > file_pages {
            return Err(format!(
                "names {} pages but the file holds {file_pages}",
                self.file_units
            ));
        }
        let in_file = |id: u64| id == 0 || (2..self.file_units).contains(&id);
        if !in_file(self.root.id) {
            return Err(format!(
                "root page {} is outside the tree's pages",
                self.root.id
            ));
        }
        if !in_file(self.freelist_head) {
            return Err(format!(
                "freelist page {} is outside the tree's pages",
                self.freelist_head
            ));
        }
        if self.free_units >= self.file_units {
            return Err(format!(
                "lists {} free pages of {}",
                self.free_units, self.file_units
            ));
        }
        self.check_counters()
    }

    /// The checks of the fields that mean the same in both formats: numbers the engine counts on
    /// from (the generation, the sequence number, the first WAL segment).
    fn check_counters(&self) -> std::result::Result<(), String> {
        if self.generation == u64::MAX || self.last_seq == u64::MAX {
            return Err("generation or sequence number at its limit".to_string());
        }
        if self.wal_start_segment == 0 || self.wal_start_segment == u64::MAX {
            return Err(format!(
                "names WAL segment {} (segments are numbered from 1)",
                self.wal_start_segment
            ));
        }
        Ok(())
    }

    /// [`Meta::check`] for a coded file, whose length and addresses count sectors.
    fn check_coded(&self, page_size: usize, file_len: u64) -> std::result::Result<(), String> {
        let first = first_sector(page_size);
        let file_sectors = file_len / SECTOR_SIZE;
        if self.file_units < first || self.file_units > file_sectors {
            return Err(format!(
                "names {} sectors but the file holds {file_sectors}",
                self.file_units
            ));
        }
        let in_file = |address: u64| {
            address == 0
                || Extent::from_address(address)
                    .is_some_and(|e| e.first >= first && e.end() <= self.file_units)
        };
        if !in_file(self.root.id) {
            return Err(format!(
                "root block {:#x} is outside the file",
                self.root.id
            ));
        }
        if !in_file(self.freelist_head) {
            return Err(format!(
                "free list block {:#x} is outside the file",
                self.freelist_head
            ));
        }
        if self.free_units >= self.file_units {
            return Err(format!(
                "lists {} free sectors of {}",
                self.free_units, self.file_units
            ));
        }
        self.check_counters()
    }

    /// Decodes the fields of a meta page whose header already checked out.
    pub fn decode(page: &[u8]) -> Meta {
        let f = |i: usize| get_u64(page, 32 + 8 * i);
        let format = format_version(page);
        let coded = format == CODED_FORMAT_VERSION;
        Meta {
            format,
            generation: f(0),
            root: PagePtr {
                id: f(1),
                check: if coded { get_u64(page, 96) } else { 0 },
            },
            entries: f(2),
            file_units: f(3),
            freelist_head: f(4),
            free_units: f(5),
            last_seq: f(6),
            wal_start_segment: f(7),
            freelist_check: if coded { get_u64(page, 104) } else { 0 },
            database_id: if coded {
                page[112..128].try_into().expect("16 bytes")
            } else {
                [0; 16]
            },
        }
    }
}

/// The first sector a coded file's blocks may use: the two meta pages come before.
pub(crate) fn first_sector(page_size: usize) -> u64 {
    2 * page_size as u64 / SECTOR_SIZE
}

pub(crate) fn magic_ok(page: &[u8]) -> bool {
    page.len() >= 32 && &page[16..24] == MAGIC
}

pub(crate) fn format_version(page: &[u8]) -> u32 {
    u32::from_le_bytes(page[24..28].try_into().unwrap())
}

pub(crate) fn page_size_of(page: &[u8]) -> u32 {
    u32::from_le_bytes(page[28..32].try_into().unwrap())
}

/// What [`read_newest_meta`] found.
pub(crate) struct NewestMeta {
    pub page_size: usize,
    pub meta: Meta,
    /// The page `meta` was read from (an encrypted file's keys are in it).
    pub page: Vec<u8>,
    /// The other meta page failed its checks: `meta` is the only witness of the tree.
    pub other_damaged: bool,
}

/// Finds an existing page file's page size and its newest valid meta page, checking that the file
/// holds every page that meta page names.
pub(crate) fn read_newest_meta(file: &dyn StorageFile, path: &Path) -> Result<NewestMeta> {
    let len = file.len().ctx("stat", path)?;
    let mut head = vec![0u8; 32.min(len as usize)];
    file.read_at(&mut head, 0).ctx("read", path)?;
    let head_size = if magic_ok(&head) {
        page_size_of(&head) as usize
    } else {
        0
    };
    // Page 0's header names the page size, but page 0 may be the damaged meta page: trust it
    // only if page 0 checks out, else use the page size at which meta page 1 checks out.
    let page_size = if is_meta_page(file, path, len, 0, head_size)? {
        head_size
    } else if let Some(size) = find_meta_page_1(file, path, len)? {
        size
    } else if !magic_ok(&head) {
        return Err(Error::new(
            ErrorCode::NotADatabase,
            format!(
                "{}: not a Lightning DB page file (bad magic)",
                path.display()
            ),
        ));
    } else if format_version(&head) > NEWEST_FORMAT_VERSION {
        return Err(Error::new(
                ErrorCode::UnsupportedVersion,
                format!(
                    "{}: format version {} is newer than this build's {NEWEST_FORMAT_VERSION}; upgrade Lightning DB",
                    path.display(),
                    format_version(&head)
                ),
            ));
    } else if !is_valid_page_size(head_size) {
        return Err(Error::corruption(
            path,
            format!("meta page names page size {head_size}"),
        ));
    } else {
        // Neither meta page checks out; the loop below says why.
        head_size
    };
    let mut best: Option<(Meta, Vec<u8>)> = None;
    let mut problems = Vec::new();
    for slot in 0..2u64 {
        let mut buf = vec![0u8; page_size];
        if (slot + 1) * page_size as u64 > len {
            problems.push(format!("meta page {slot} is missing"));
            continue;
        }
        file.read_at(&mut buf, slot * page_size as u64)
            .ctx("read", path)?;
        if let Err(m) = page::check(&buf, slot) {
            problems.push(m);
            continue;
        }
        if page::page_type(&buf) != Some(PageType::Meta) || !magic_ok(&buf) {
            problems.push(format!("page {slot} is not a meta page"));
            continue;
        }
        if format_version(&buf) > NEWEST_FORMAT_VERSION {
            return Err(Error::new(
                    ErrorCode::UnsupportedVersion,
                    format!("{}: format version {} is newer than this build's {NEWEST_FORMAT_VERSION}; upgrade Lightning DB", path.display(), format_version(&buf)),
                ));
        }
        let meta = Meta::decode(&buf);
        if meta.slot() != slot {
            problems.push(format!(
                "meta page {slot} holds generation {}",
                meta.generation
            ));
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|(b, _)| meta.generation > b.generation)
        {
            best = Some((meta, buf));
        }
    }
    let (meta, page) = best.ok_or_else(|| {
        Error::corruption(path, format!("no valid meta page: {}", problems.join("; ")))
    })?;
    // A checksum proves the page was written whole, not that its numbers make sense (a bug or a
    // crafted file): every later use of them must be safe, so check them all here, before open
    // acts on any of them.
    meta.check(page_size, len)
        .map_err(|m| Error::corruption(path, format!("meta page {}: {m}", meta.slot())))?;
    Ok(NewestMeta {
        page_size,
        meta,
        page,
        other_damaged: !problems.is_empty(),
    })
}

/// Whether the page at `slot` (0 or 1), for pages of `page_size` bytes, is an intact meta page that
/// names that page size.
fn is_meta_page(
    file: &dyn StorageFile,
    path: &Path,
    len: u64,
    slot: u64,
    page_size: usize,
) -> Result<bool> {
    if !is_valid_page_size(page_size) || (slot + 1) * page_size as u64 > len {
        return Ok(false);
    }
    let mut buf = vec![0u8; page_size];
    file.read_at(&mut buf, slot * page_size as u64)
        .ctx("read", path)?;
    Ok(page::check(&buf, slot).is_ok()
        && page::page_type(&buf) == Some(PageType::Meta)
        && magic_ok(&buf)
        && page_size_of(&buf) as usize == page_size)
}

/// The page size at which page 1 is an intact meta page, if any (for when page 0 is damaged).
fn find_meta_page_1(file: &dyn StorageFile, path: &Path, len: u64) -> Result<Option<usize>> {
    for size in page_sizes() {
        if is_meta_page(file, path, len, 1, size)? {
            return Ok(Some(size));
        }
    }
    Ok(None)
}
