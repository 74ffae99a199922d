//! The two meta pages (ids 0 and 1), written alternately; open picks the newest valid one.
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

use super::page::{get_u64, init_header, put_u64, PageType};

pub(crate) const MAGIC: &[u8; 8] = b"LIGHTNDB";
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The state one meta page names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Meta {
    pub generation: u64,
    pub root: u64,
    pub entries: u64,
    pub page_count: u64,
    pub freelist_head: u64,
    pub free_pages: u64,
    pub last_seq: u64,
    pub wal_start_segment: u64,
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
        page[24..28].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        page[28..32].copy_from_slice(&(page_size as u32).to_le_bytes());
        for (i, v) in [
            self.generation,
            self.root,
            self.entries,
            self.page_count,
            self.freelist_head,
            self.free_pages,
            self.last_seq,
            self.wal_start_segment,
        ]
        .into_iter()
        .enumerate()
        {
            put_u64(&mut page, 32 + 8 * i, v);
        }
        page
    }

    /// Decodes the fields of a meta page whose header already checked out.
    pub fn decode(page: &[u8]) -> Meta {
        let f = |i: usize| get_u64(page, 32 + 8 * i);
        Meta {
            generation: f(0),
            root: f(1),
            entries: f(2),
            page_count: f(3),
            freelist_head: f(4),
            free_pages: f(5),
            last_seq: f(6),
            wal_start_segment: f(7),
        }
    }
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
