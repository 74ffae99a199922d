//! The header every page starts with, and page checksums.
//!
//! ```text
//! 0  u32  masked crc32c of bytes 4..page_size
//! 4  u8   page type (PageType)
//! 5  u8   codec flags (0 = stored as is; reserved for compression/encryption)
//! 6  u16  count: entries in a leaf or branch, ids in a freelist page, 0 otherwise
//! 8  u64  this page's own id, so a page written to the wrong place is caught
//! ```

use crate::checksum::masked_crc;

pub(crate) const PAGE_HEADER_SIZE: usize = 16;

#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageType {
    Meta = 1,
    Leaf = 2,
    Branch = 3,
    Overflow = 4,
    Freelist = 5,
}

impl PageType {
    pub fn from_u8(b: u8) -> Option<PageType> {
        Some(match b {
            1 => PageType::Meta,
            2 => PageType::Leaf,
            3 => PageType::Branch,
            4 => PageType::Overflow,
            5 => PageType::Freelist,
            _ => return None,
        })
    }
}

/// Writes the header fields (not the checksum) into `page`.
pub(crate) fn init_header(page: &mut [u8], kind: PageType, count: u16, id: u64) {
    page[4] = kind as u8;
    page[5] = 0;
    page[6..8].copy_from_slice(&count.to_le_bytes());
    page[8..16].copy_from_slice(&id.to_le_bytes());
}

/// Computes and stores the checksum; call last, after every other byte is final.
pub(crate) fn seal(page: &mut [u8]) {
    let crc = masked_crc(&page[4..]);
    page[0..4].copy_from_slice(&crc.to_le_bytes());
}

pub(crate) fn page_type(page: &[u8]) -> Option<PageType> {
    PageType::from_u8(page[4])
}

pub(crate) fn count(page: &[u8]) -> u16 {
    u16::from_le_bytes([page[6], page[7]])
}

pub(crate) fn stored_id(page: &[u8]) -> u64 {
    u64::from_le_bytes(page[8..16].try_into().unwrap())
}

/// Why a page failed its check, for the corruption message.
pub(crate) fn check(page: &[u8], id: u64) -> Result<(), String> {
    let stored = u32::from_le_bytes(page[0..4].try_into().unwrap());
    if stored != masked_crc(&page[4..]) {
        return Err(format!("page {id}: checksum mismatch"));
    }
    if stored_id(page) != id {
        return Err(format!(
            "page {id}: header names page {} (misdirected write)",
            stored_id(page)
        ));
    }
    if page_type(page).is_none() {
        return Err(format!("page {id}: unknown page type {}", page[4]));
    }
    if page[5] != 0 {
        return Err(format!("page {id}: unknown codec flags {:#x}", page[5]));
    }
    Ok(())
}

pub(crate) fn get_u64(page: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(page[at..at + 8].try_into().unwrap())
}

pub(crate) fn put_u64(page: &mut [u8], at: usize, v: u64) {
    page[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_page_checks_and_flipped_page_does_not() {
        let mut page = vec![0u8; 4096];
        init_header(&mut page, PageType::Leaf, 3, 7);
        page[100] = 42;
        seal(&mut page);
        assert!(check(&page, 7).is_ok());
        assert!(check(&page, 8).unwrap_err().contains("misdirected"));
        page[100] ^= 1;
        assert!(check(&page, 7).unwrap_err().contains("checksum"));
    }
}
