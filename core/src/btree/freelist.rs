//! The persisted list of free pages: a chain of freelist pages written by every merge.
//!
//! ```text
//! freelist page: header (type 5, count = ids on this page) | u64 next freelist page (0 = end)
//!                | u64 free page ids[count]
//! ```

use super::alloc::Allocator;
use super::page::{count, get_u64, init_header, page_type, put_u64, PageType, PAGE_HEADER_SIZE};
use super::pager::Pager;
use crate::error::Result;

fn ids_per_page(page_size: usize) -> usize {
    (page_size - PAGE_HEADER_SIZE - 8) / 8
}

/// Reads the chain at `head`: (free page ids, the chain's own pages).
pub(crate) fn read_freelist(
    pager: &Pager,
    head: u64,
    page_count: u64,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let mut free = Vec::new();
    let mut chain = Vec::new();
    let mut id = head;
    while id != 0 {
        if id < 2 || id >= page_count || chain.len() as u64 > page_count {
            return Err(pager.corrupt(format!(
                "freelist reaches page {id}, outside the file or in a cycle"
            )));
        }
        let page = pager.read_page_uncached(id)?;
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
            if free_id < 2 || free_id >= page_count {
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

/// Writes every free page the allocator knows into a new chain (on pages taken from the allocator)
/// and returns (head, number of ids listed, the chain's pages).
pub(crate) fn write_freelist(pager: &Pager, alloc: &mut Allocator) -> Result<(u64, u64, Vec<u64>)> {
    let per_page = ids_per_page(pager.page_size());
    let needed = alloc.all_free().len().div_ceil(per_page);
    if needed == 0 {
        return Ok((0, 0, Vec::new()));
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
    Ok((chain[0], free.len() as u64, chain))
}
