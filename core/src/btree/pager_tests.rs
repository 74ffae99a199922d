//! Tests of `pager.rs`.

use std::path::Path;

use super::*;
use crate::error::ErrorCode;
use crate::storage::{FaultyStorage, OpenMode, Storage};

/// A new, empty page file of 4 KiB pages (its two meta pages only), opened.
fn empty_page_file() -> Pager {
    let storage = FaultyStorage::new();
    storage.create_dir_all(Path::new("/db")).unwrap();
    let path = Path::new("/db/data.ldb");
    let file = storage.open(path, OpenMode::Create).unwrap();
    Pager::initialize(&*file, path, 4096, None).unwrap();
    let lock = storage.lock(Path::new("/db/LOCK")).unwrap();
    let options = crate::options::Options {
        cache_size: 1 << 20,
        mmap: false,
        ..Default::default()
    };
    Pager::open(file, path.to_path_buf(), &options, lock)
        .unwrap()
        .pager
}

/// An overflow reference claiming more bytes than the file's pages could hold is corruption at
/// once, before anything is allocated for it (a crafted 64 MiB claim in a small file made every
/// read of the entry reserve 64 MiB).
#[test]
fn an_overflow_chain_longer_than_the_file_is_corruption_before_any_allocation() {
    let pager = empty_page_file();
    let cap = overflow_capacity(4096) as u64;
    for (page_count, len) in [(2, 1), (3, cap + 1), (1000, 64 << 20)] {
        let e = pager
            .read_overflow(PageSource::File, PagePtr::plain(2), len, page_count, |_| {})
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Corruption, "{e}");
        assert!(e.message().contains("longer than the whole file"), "{e}");
    }
    // A claim that fits is followed, and fails where the chain does.
    let e = pager
        .read_overflow(PageSource::File, PagePtr::plain(2), cap, 3, |_| {})
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Corruption, "{e}");
    assert!(!e.message().contains("longer than the whole file"), "{e}");
}
