//! The persisted list of free pages: a chain of freelist pages written by every merge.
//!
//! ```text
//! freelist page: header (type 5, count = ids on this page) | u64 next freelist page (0 = end)
//!                | u64 free page ids[count]
//! ```
//!
//! A coded file's free list is one block (never compressed, so its size is known before it is
//! placed): `u64 count | u64 free extent addresses[count]`, ascending.

use super::alloc::Allocator;
use super::extents::Extent;
use super::meta::first_sector;
use super::node::PagePtr;
use super::page::{count, get_u64, init_header, page_type, put_u64, PageType, PAGE_HEADER_SIZE};
use super::pager::Pager;
use crate::error::Result;

fn ids_per_page(page_size: usize) -> usize {
    (page_size - PAGE_HEADER_SIZE - 8) / 8
}

/// Reads the free list at `head`: (free page ids or extent addresses, the list's own pages).
pub(crate) fn read_freelist(
    pager: &Pager,
    head: PagePtr,
    file_units: u64,
) -> Result<(Vec<u64>, Vec<u64>)> {
    if pager.coding().is_some() {
        return read_coded_freelist(pager, head, file_units);
    }
    let head = head.id;
    let mut free = Vec::new();
    let mut chain = Vec::new();
    let mut id = head;
    while id != 0 {
        if id < 2 || id >= file_units || chain.len() as u64 > file_units {
            return Err(pager.corrupt(format!(
                "freelist reaches page {id}, outside the file or in a cycle"
            )));
        }
        let page = pager.read_page_uncached(PagePtr::plain(id))?;
        if page_type(&page) != Some(PageType::Freelist) {
            return Err(pager.corrupt(format!(
                "page {id} in the freelist chain is not a freelist page"
            )));
        }
        let n = count(&page) as usize;
        if n > ids_per_page(pager.page_size()) {
            return Err(pager.corrupt(format!("freelist page {id} claims {n} ids")));
        }
        chain.push(id);
        for i in 0..n {
            let free_id = get_u64(&page, PAGE_HEADER_SIZE + 8 + 8 * i);
            if free_id < 2 || free_id >= file_units {
                return Err(pager.corrupt(format!(
                    "freelist page {id} lists page {free_id}, outside the file"
                )));
            }
            free.push(free_id);
        }
        id = get_u64(&page, PAGE_HEADER_SIZE);
    }
    Ok((free, chain))
}

fn read_coded_freelist(pager: &Pager, head: PagePtr, end: u64) -> Result<(Vec<u64>, Vec<u64>)> {
    if head.id == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let max = (end as usize).saturating_mul(8).saturating_add(8);
    let raw = pager.read_block(head, max)?;
    let bad = |what: &str| pager.corrupt(format!("free list block {:#x}: {what}", head.id));
    if raw.len() < 8 {
        return Err(bad("shorter than its count"));
    }
    let count = u64::from_le_bytes(raw[..8].try_into().unwrap());
    if count.checked_mul(8).and_then(|n| n.checked_add(8)) != Some(raw.len() as u64) {
        return Err(bad("count does not match its length"));
    }
    let first = first_sector(pager.page_size());
    let mut free = Vec::with_capacity(count as usize);
    let mut after = first;
    for chunk in raw[8..].chunks_exact(8) {
        let address = u64::from_le_bytes(chunk.try_into().unwrap());
        match Extent::from_address(address) {
            Some(e) if e.first >= after && e.end() <= end => after = e.end(),
            _ => return Err(bad("lists an extent out of order or outside the file")),
        }
        free.push(address);
    }
    Ok((free, vec![head.id]))
}

/// Writes every free page the allocator knows into a new chain (on pages taken from the allocator)
/// and returns (head, number of ids listed, the chain's pages). A coded file's list is one block
/// (its count is then of free sectors).
pub(crate) fn write_freelist(
    pager: &Pager,
    alloc: &mut Allocator,
) -> Result<(PagePtr, u64, Vec<u64>)> {
    if pager.coding().is_some() {
        return write_coded_freelist(pager, alloc);
    }
    let per_page = ids_per_page(pager.page_size());
    let needed = alloc.all_free().len().div_ceil(per_page);
    if needed == 0 {
        return Ok((PagePtr::default(), 0, Vec::new()));
    }
    let chain: Vec<u64> = (0..needed).map(|_| alloc.alloc()).collect();
    // Taking pages for the chain only shrank the set, so it still fits.
    let free = alloc.all_free();
    for (k, &id) in chain.iter().enumerate() {
        let ids = free.chunks(per_page).nth(k).unwrap_or(&[]);
        let mut page = vec![0u8; pager.page_size()];
        init_header(&mut page, PageType::Freelist, ids.len() as u16, id);
        put_u64(
            &mut page,
            PAGE_HEADER_SIZE,
            chain.get(k + 1).copied().unwrap_or(0),
        );
        for (i, &free_id) in ids.iter().enumerate() {
            put_u64(&mut page, PAGE_HEADER_SIZE + 8 + 8 * i, free_id);
        }
        pager.write_page(id, page)?;
    }
    Ok((PagePtr::plain(chain[0]), free.len() as u64, chain))
}

fn write_coded_freelist(pager: &Pager, alloc: &mut Allocator) -> Result<(PagePtr, u64, Vec<u64>)> {
    let listed = alloc.all_free().len();
    if listed == 0 {
        return Ok((PagePtr::default(), 0, Vec::new()));
    }
    // Taking the block's sectors lengthens the list by one at most: the extent they come from
    // may have been listed merged with a pending one after it, which is now listed apart.
    let most = 8 + 8 * (listed + 1);
    let mut free_sectors = 0;
    let block = pager.write_block_with(alloc, most, |alloc| {
        let free = alloc.all_free();
        let mut raw = Vec::with_capacity(8 + 8 * free.len());
        raw.extend_from_slice(&(free.len() as u64).to_le_bytes());
        for &address in &free {
            raw.extend_from_slice(&address.to_le_bytes());
            free_sectors += Extent::from_address(address).map_or(0, |e| e.sectors);
        }
        raw
    })?;
    Ok((block, free_sectors, vec![block.id]))
}
