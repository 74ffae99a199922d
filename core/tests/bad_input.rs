//! Bad input gets a specific error, never a crash and never damage (DESIGN §3): oversized keys
//! and values, things at the path that are not a database, newer formats, a database that is
//! already open, bad options, and handles that outlive the database.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::format::masked_crc;
use common::options::small_options;
use lightning_db::storage::FaultyStorage;
use lightning_db::{
    Database, Durability, Error, ErrorCode, Options, Range, WriteBatch, MAX_KEY_SIZE,
    MAX_VALUE_SIZE,
};

/// The error of a call that must fail.
#[track_caller]
fn err<T>(r: lightning_db::Result<T>) -> Error {
    match r {
        Ok(_) => panic!("expected an error, the call succeeded"),
        Err(e) => e,
    }
}

/// Asserts `r` failed with `code`, and returns the error.
#[track_caller]
fn expect_code<T>(r: lightning_db::Result<T>, code: ErrorCode) -> Error {
    let e = err(r);
    assert_eq!(e.code(), code, "wrong code: {e}");
    e
}

fn in_memory() -> (FaultyStorage, Database) {
    let storage = FaultyStorage::new();
    let db =
        Database::open_with_storage("/db", small_options(), Arc::new(storage.clone())).unwrap();
    (storage, db)
}

fn all_entries(db: &Database) -> Vec<(Vec<u8>, Vec<u8>)> {
    db.iter(Range::all())
        .unwrap()
        .collect::<lightning_db::Result<_>>()
        .unwrap()
}

/// Every entry under `dir`, recursively: relative path → file bytes (`None` for a directory).
fn tree_of(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Keys and values

#[test]
fn key_longer_than_the_limit_is_invalid_argument() {
    let (_storage, db) = in_memory();
    db.put(b"existing", b"old").unwrap();
    let long = vec![b'k'; MAX_KEY_SIZE + 1];

    let e = expect_code(db.put(&long, b"v"), ErrorCode::InvalidArgument);
    assert!(
        e.message().contains(&format!("{}", MAX_KEY_SIZE + 1)),
        "{e}"
    );
    expect_code(
        db.put_with(&long, b"v", Durability::Buffered),
        ErrorCode::InvalidArgument,
    );
    expect_code(db.delete(&long), ErrorCode::InvalidArgument);
    expect_code(db.get(&long), ErrorCode::InvalidArgument);
    expect_code(db.contains_key(&long), ErrorCode::InvalidArgument);
    expect_code(
        db.snapshot().unwrap().get(&long),
        ErrorCode::InvalidArgument,
    );

    // A batch with one bad key is rejected whole: its good operations are not applied.
    let mut batch = WriteBatch::new();
    batch
        .put(b"good", b"1")
        .delete(b"existing")
        .put(&long, b"v")
        .put(b"good2", b"2");
    expect_code(db.write(&batch), ErrorCode::InvalidArgument);
    let mut batch = WriteBatch::new();
    batch.put(b"good", b"1").delete(&long);
    expect_code(
        db.write_with(&batch, Durability::Sync),
        ErrorCode::InvalidArgument,
    );
    assert_eq!(
        all_entries(&db),
        vec![(b"existing".to_vec(), b"old".to_vec())]
    );

    // Far longer keys too.
    let huge = vec![0u8; 1 << 20];
    expect_code(db.put(&huge, b""), ErrorCode::InvalidArgument);
    expect_code(db.get(&huge), ErrorCode::InvalidArgument);

    // A key of exactly the limit works.
    let max = vec![b'm'; MAX_KEY_SIZE];
    db.put(&max, b"max").unwrap();
    assert_eq!(db.get(&max).unwrap(), Some(b"max".to_vec()));
    db.flush().unwrap();
    assert_eq!(db.get(&max).unwrap(), Some(b"max".to_vec()));
    db.delete(&max).unwrap();
    assert_eq!(db.get(&max).unwrap(), None);

    // Nothing was damaged.
    db.flush().unwrap();
    let report = db.verify().unwrap();
    assert_eq!(report.tree_keys, 1);
    assert_eq!(db.stats().background_error, None);
    db.close().unwrap();
}

#[test]
fn value_longer_than_the_limit_is_invalid_argument() {
    let (storage, db) = in_memory();
    db.put(b"k", b"old").unwrap();
    let long = vec![7u8; MAX_VALUE_SIZE + 1];

    let e = expect_code(db.put(b"k", &long), ErrorCode::InvalidArgument);
    assert!(
        e.message().contains(&format!("{}", MAX_VALUE_SIZE + 1)),
        "{e}"
    );
    expect_code(
        db.put_with(b"new", &long, Durability::Buffered),
        ErrorCode::InvalidArgument,
    );
    let mut batch = WriteBatch::new();
    batch.put(b"a", b"1").delete(b"k").put(b"b", &long);
    expect_code(db.write(&batch), ErrorCode::InvalidArgument);

    // Both at once: still INVALID_ARGUMENT.
    expect_code(
        db.put(&vec![1u8; MAX_KEY_SIZE + 1], &long),
        ErrorCode::InvalidArgument,
    );

    assert_eq!(db.get(b"k").unwrap(), Some(b"old".to_vec()));
    assert_eq!(all_entries(&db), vec![(b"k".to_vec(), b"old".to_vec())]);
    drop(long);
    db.close().unwrap();

    // Nothing of the rejected writes reached the WAL either.
    let db = Database::open_with_storage("/db", small_options(), Arc::new(storage)).unwrap();
    assert_eq!(all_entries(&db), vec![(b"k".to_vec(), b"old".to_vec())]);
    db.verify().unwrap();
}

#[test]
fn value_of_exactly_the_limit_works() {
    let dir = tempfile::tempdir().unwrap();
    let value: Vec<u8> = (0..MAX_VALUE_SIZE).map(|i| (i % 251) as u8).collect();
    {
        let db = Database::open(dir.path(), small_options()).unwrap();
        db.put_with(b"big", &value, Durability::Buffered).unwrap();
        assert!(db.get(b"big").unwrap().unwrap() == value);
        db.close().unwrap();
    }
    let db = Database::open(dir.path(), small_options()).unwrap();
    assert!(db.get(b"big").unwrap().unwrap() == value);
    db.verify().unwrap();
    db.delete(b"big").unwrap();
    db.flush().unwrap();
    assert_eq!(db.get(b"big").unwrap(), None);
    db.verify().unwrap();
}

#[test]
fn empty_key_and_empty_value_work() {
    let (storage, db) = in_memory();
    db.put(b"", b"empty key").unwrap();
    db.put(b"a", b"").unwrap();
    assert_eq!(db.get(b"").unwrap(), Some(b"empty key".to_vec()));
    // An empty value is present, not absent.
    assert_eq!(db.get(b"a").unwrap(), Some(Vec::new()));
    assert!(db.contains_key(b"a").unwrap());
    assert_eq!(db.get(b"b").unwrap(), None);

    let expected = vec![
        (b"".to_vec(), b"empty key".to_vec()),
        (b"a".to_vec(), b"".to_vec()),
    ];
    let check = |db: &Database| {
        assert_eq!(all_entries(db), expected);
        let rev: Vec<_> = db
            .iter(Range::all().reverse())
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rev, expected.iter().rev().cloned().collect::<Vec<_>>());
        // The empty key is the smallest key: in `..a`, at the front of `prefix("")`.
        let to_a: Vec<_> = db
            .iter(Range::to(b"a"))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(to_a, expected[..1].to_vec());
        assert_eq!(db.iter(Range::prefix(b"")).unwrap().count(), 2);
        assert_eq!(db.iter(Range::from(b"")).unwrap().count(), 2);
        let mut c = db.cursor(Range::all()).unwrap();
        c.seek(b"").unwrap();
        assert!(c.valid());
        assert_eq!(c.key(), b"");
        assert_eq!(c.value().unwrap(), b"empty key");
        c.next().unwrap();
        assert_eq!(c.key(), b"a");
        assert_eq!(c.value().unwrap(), b"");
        c.prev().unwrap();
        assert!(c.valid());
        assert_eq!(c.key(), b"");
        c.prev().unwrap();
        assert!(!c.valid());
        c.seek_for_prev(b"").unwrap();
        assert!(c.valid());
        assert_eq!(c.key(), b"");
    };
    check(&db);
    db.flush().unwrap();
    check(&db);
    db.close().unwrap();
    let db =
        Database::open_with_storage("/db", small_options(), Arc::new(storage.clone())).unwrap();
    check(&db);

    // Deleting the empty key, and an empty key and value in a batch.
    db.delete(b"").unwrap();
    assert_eq!(db.get(b"").unwrap(), None);
    let mut batch = WriteBatch::new();
    batch.put(b"", b"").delete(b"a");
    db.write(&batch).unwrap();
    assert_eq!(db.get(b"").unwrap(), Some(Vec::new()));
    assert_eq!(all_entries(&db), vec![(Vec::new(), Vec::new())]);
    db.close().unwrap();
    let db = Database::open_with_storage("/db", small_options(), Arc::new(storage)).unwrap();
    assert_eq!(all_entries(&db), vec![(Vec::new(), Vec::new())]);
    db.flush().unwrap();
    assert_eq!(db.verify().unwrap().tree_keys, 1);
}

#[test]
fn empty_and_backward_ranges_yield_nothing() {
    let (_storage, db) = in_memory();
    for k in [&b"a"[..], b"b", b"c"] {
        db.put(k, k).unwrap();
    }
    for range in [Range::new(b"c", b"a"), Range::new(b"b", b"b")] {
        assert_eq!(db.iter(range.clone()).unwrap().count(), 0, "{range:?}");
        assert_eq!(db.iter(range.clone().reverse()).unwrap().count(), 0);
        let mut c = db.cursor(range.clone()).unwrap();
        for seek in [&b""[..], b"a", b"b", b"c", b"z"] {
            c.seek(seek).unwrap();
            assert!(!c.valid(), "{range:?} seek {seek:?}");
            c.seek_for_prev(seek).unwrap();
            assert!(!c.valid(), "{range:?} seek_for_prev {seek:?}");
        }
        c.seek_to_first().unwrap();
        assert!(!c.valid());
        c.seek_to_last().unwrap();
        assert!(!c.valid());
    }
}

// ---------------------------------------------------------------------------------------------
// Things at the path that are not a database

#[test]
fn a_regular_file_is_not_a_database_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 3] = [
        ("notes.txt", b"just some text\n"),
        ("empty", b""),
        // Even a file that starts like a page file is not a database directory.
        (
            "looks_like_one",
            b"\0\0\0\0\x01\0\0\0\0\0\0\0\0\0\0\0LIGHTNDB\x01\0\0\0",
        ),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
    }
    let before = tree_of(dir.path());
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        for create_if_missing in [true, false] {
            let options = Options {
                create_if_missing,
                ..Options::default()
            };
            let e = expect_code(Database::open(&path, options), ErrorCode::NotADatabase);
            assert!(e.message().contains(name), "{e}");
            assert_eq!(fs::read(&path).unwrap(), bytes);
        }
    }
    assert_eq!(
        tree_of(dir.path()),
        before,
        "something next to the files changed"
    );

    // The same through the in-memory file system.
    let storage = FaultyStorage::new();
    storage.write_file("/x/file", b"data");
    expect_code(
        Database::open_with_storage("/x/file", Options::default(), Arc::new(storage.clone())),
        ErrorCode::NotADatabase,
    );
    assert_eq!(storage.read_file("/x/file").unwrap(), b"data");
    assert_eq!(storage.file_names("/x"), vec!["file".to_string()]);
}

#[test]
fn a_directory_with_other_files_is_not_a_database_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("project");
    fs::create_dir_all(path.join("sub")).unwrap();
    fs::write(path.join("README.md"), b"# my project\n").unwrap();
    fs::write(path.join("sub/inner.bin"), [0u8, 1, 2, 3]).unwrap();
    fs::write(path.join("empty"), b"").unwrap();
    let before = tree_of(dir.path());
    for create_if_missing in [true, false] {
        let options = Options {
            create_if_missing,
            ..Options::default()
        };
        let e = expect_code(Database::open(&path, options), ErrorCode::NotADatabase);
        assert!(e.message().contains("project"), "{e}");
        assert_eq!(tree_of(dir.path()), before, "the directory changed");
        assert!(!path.join("LOCK").exists());
    }

    // A directory holding only a subdirectory is not empty either.
    let only_sub = dir.path().join("only_sub");
    fs::create_dir_all(only_sub.join("nested")).unwrap();
    let before = tree_of(dir.path());
    expect_code(
        Database::open(&only_sub, Options::default()),
        ErrorCode::NotADatabase,
    );
    assert_eq!(tree_of(dir.path()), before);

    // The same through the in-memory file system.
    let storage = FaultyStorage::new();
    storage.write_file("/p/photo.jpg", b"\xff\xd8\xff");
    expect_code(
        Database::open_with_storage("/p", Options::default(), Arc::new(storage.clone())),
        ErrorCode::NotADatabase,
    );
    assert_eq!(storage.file_names("/p"), vec!["photo.jpg".to_string()]);
    assert_eq!(storage.read_file("/p/photo.jpg").unwrap(), b"\xff\xd8\xff");
}

#[test]
fn a_page_file_that_is_not_ours_is_not_a_database_and_is_left_alone() {
    let cases: [&[u8]; 3] = [b"", b"short", &[0x5a; 8192]];
    for bytes in cases {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.ldb");
        fs::write(&data, bytes).unwrap();
        let e = expect_code(
            Database::open(dir.path(), Options::default()),
            ErrorCode::NotADatabase,
        );
        assert!(e.message().contains("data.ldb"), "{e}");
        assert_eq!(fs::read(&data).unwrap(), bytes, "the file was changed");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != "LOCK")
            .collect();
        assert_eq!(names, vec!["data.ldb".to_string()]);
    }
}

// ---------------------------------------------------------------------------------------------
// A newer format

/// Sets the format version of both meta pages (at offsets 0 and page_size; the version is the u32
/// at byte 24, the page size the u32 at byte 28) and reseals each page's checksum (bytes 0..4, the
/// masked CRC32C of bytes 4..page_size).
fn set_format_version(data_file: &Path, version: u32) {
    let mut bytes = fs::read(data_file).unwrap();
    let page_size = u32::from_le_bytes(bytes[28..32].try_into().unwrap()) as usize;
    assert!(page_size.is_power_of_two() && page_size >= 4096);
    for slot in 0..2 {
        let page = &mut bytes[slot * page_size..(slot + 1) * page_size];
        assert_eq!(&page[16..24], b"LIGHTNDB");
        let stored = u32::from_le_bytes(page[0..4].try_into().unwrap());
        assert_eq!(stored, masked_crc(&page[4..]), "meta page {slot} checksum");
        page[24..28].copy_from_slice(&version.to_le_bytes());
        let crc = masked_crc(&page[4..]);
        page[0..4].copy_from_slice(&crc.to_le_bytes());
    }
    fs::write(data_file, &bytes).unwrap();
}

#[test]
fn a_newer_format_version_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let data_file = dir.path().join("data.ldb");
    {
        let db = Database::open(dir.path(), small_options()).unwrap();
        db.put(b"key", b"value").unwrap();
        db.close().unwrap();
    }
    // Resealing with the current version is harmless: the test's checksum is the engine's.
    set_format_version(&data_file, 1);
    {
        let db = Database::open(dir.path(), small_options()).unwrap();
        assert_eq!(db.get(b"key").unwrap(), Some(b"value".to_vec()));
        db.close().unwrap();
    }
    for version in [3, u32::MAX] {
        set_format_version(&data_file, version);
        let before = fs::read(&data_file).unwrap();
        let e = expect_code(
            Database::open(dir.path(), small_options()),
            ErrorCode::UnsupportedVersion,
        );
        assert!(e.message().contains(&version.to_string()), "{e}");
        assert_eq!(
            fs::read(&data_file).unwrap(),
            before,
            "the file was changed"
        );
    }
    // Back to version 1: everything is still there.
    set_format_version(&data_file, 1);
    let db = Database::open(dir.path(), small_options()).unwrap();
    assert_eq!(db.get(b"key").unwrap(), Some(b"value".to_vec()));
    db.verify().unwrap();
}

/// WAL format version 2 added the segment salt (header bytes 12..16) and sync markers; a segment
/// of version 1 is refused, and nothing is changed.
#[test]
fn a_wal_segment_of_format_version_1_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path(), small_options()).unwrap();
        db.put(b"key", b"value").unwrap();
        db.close().unwrap();
    }
    let segments: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    assert!(
        !segments.is_empty(),
        "a closed database keeps its WAL segment"
    );
    for segment in &segments {
        let mut bytes = fs::read(segment).unwrap();
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        bytes[12..16].fill(0);
        let crc = masked_crc(&bytes[..24]);
        bytes[24..28].copy_from_slice(&crc.to_le_bytes());
        fs::write(segment, &bytes).unwrap();
    }
    let before = tree_of(dir.path());
    let e = expect_code(
        Database::open(dir.path(), small_options()),
        ErrorCode::UnsupportedVersion,
    );
    assert!(e.message().contains("WAL format version 1"), "{e}");
    assert_eq!(tree_of(dir.path()), before, "files were changed");
}

/// The byte offsets of a meta page's u64 fields (docs/format.md §4.2), with their names.
const META_FIELDS: [(&str, usize); 8] = [
    ("generation", 32),
    ("root", 40),
    ("entries", 48),
    ("page_count", 56),
    ("freelist_head", 64),
    ("free_pages", 72),
    ("last_seq", 80),
    ("wal_start_segment", 88),
];

/// Sets the u64 at `offset` of the newest meta page of `bytes` (the one with the higher
/// generation) to `value`, and reseals the page's checksum. Returns the page's old value there.
fn craft_newest_meta(bytes: &mut [u8], offset: usize, value: u64) -> u64 {
    let page_size = u32::from_le_bytes(bytes[28..32].try_into().unwrap()) as usize;
    let generation = |slot: usize| {
        let at = slot * page_size + 32;
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    };
    let slot = if generation(1) > generation(0) { 1 } else { 0 };
    let page = &mut bytes[slot * page_size..(slot + 1) * page_size];
    let old = u64::from_le_bytes(page[offset..offset + 8].try_into().unwrap());
    page[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
    let crc = masked_crc(&page[4..]);
    page[0..4].copy_from_slice(&crc.to_le_bytes());
    old
}

/// A meta page with a valid checksum but any value in any field (a crafted or miscomputed page)
/// never panics, aborts or wipes the file: open fails with `CORRUPTION` and leaves every file as it
/// was, or it opens and every read returns the data or an error. Among the values: a page count
/// whose product with the page size wraps around 2^64, which once passed the length check,
/// truncated the file to two pages and aborted in the allocator.
#[test]
fn a_meta_page_with_any_value_in_any_field_never_panics_nor_destroys_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_file = dir.path().join("data.ldb");
    let mut model = BTreeMap::new();
    let ever = {
        let db = Database::open(dir.path(), small_options()).unwrap();
        for i in 0..3000u32 {
            let key = format!("key{i:05}").into_bytes();
            let value = vec![(i % 251) as u8; 1 + (i as usize % 300)];
            db.put_with(&key, &value, Durability::Buffered).unwrap();
            model.insert(key, value);
        }
        // Every key only ever had one value, so a stale page a crafted root points at can show a
        // deleted key, but never a wrong value.
        let ever = model.clone();
        db.flush().unwrap();
        for i in (0..3000u32).step_by(7) {
            let key = format!("key{i:05}").into_bytes();
            db.delete_with(&key, Durability::Buffered).unwrap();
            model.remove(&key);
        }
        db.close().unwrap();
        ever
    };
    let original = fs::read(&data_file).unwrap();
    let page_size = u32::from_le_bytes(original[28..32].try_into().unwrap()) as u64;
    let file_pages = original.len() as u64 / page_size;
    let wrapping_count = (u64::MAX / page_size).wrapping_add(2);
    let before = tree_of(dir.path());
    for (name, offset) in META_FIELDS {
        for value in [
            0,
            1,
            2,
            file_pages - 1,
            file_pages,
            file_pages + 1,
            wrapping_count,
            1 << 63,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut bytes = original.clone();
            let old = craft_newest_meta(&mut bytes, offset, value);
            if old == value {
                continue;
            }
            // Two pages past the end, as a merge that crashed leaves them: open cuts them, but
            // only once it has succeeded.
            bytes.resize(bytes.len() + 2 * page_size as usize, 0xab);
            fs::write(&data_file, &bytes).unwrap();
            let case = format!("{name} = {value} (was {old})");
            match Database::open(dir.path(), small_options()) {
                Err(e) => {
                    assert_eq!(e.code(), ErrorCode::Corruption, "{case}: {e}");
                    let mut expected = before.clone();
                    expected.insert(PathBuf::from("data.ldb"), Some(bytes.clone()));
                    assert!(
                        tree_of(dir.path()) == expected,
                        "{case}: open failed but changed the directory"
                    );
                }
                Ok(db) => {
                    // Whatever it reads is the data or an error; nothing panics.
                    for (key, value) in ever.iter().step_by(97) {
                        if let Ok(Some(got)) = db.get(key) {
                            assert_eq!(&got, value, "{case}");
                        }
                    }
                    if let Ok(iter) = db.iter(Range::all()) {
                        for (key, value) in iter.take(10_000).flatten() {
                            assert_eq!(ever.get(&key), Some(&value), "{case}");
                        }
                    }
                    let _ = db.verify();
                    drop(db);
                }
            }
            // The next case starts from the intact database.
            for (path, content) in &before {
                if let Some(content) = content {
                    fs::write(dir.path().join(path), content).unwrap();
                }
            }
            fs::write(&data_file, &original).unwrap();
            let now: Vec<PathBuf> = tree_of(dir.path()).into_keys().collect();
            for path in now {
                if !before.contains_key(&path) {
                    let _ = fs::remove_file(dir.path().join(&path));
                }
            }
        }
    }
    let db = Database::open(dir.path(), small_options()).unwrap();
    assert_eq!(all_entries(&db), model.into_iter().collect::<Vec<_>>());
    db.verify().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Locking

#[test]
fn a_second_open_in_the_same_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let first = Database::open(&path, small_options()).unwrap();
    first.put(b"a", b"1").unwrap();

    let e = expect_code(Database::open(&path, small_options()), ErrorCode::Locked);
    assert!(e.message().contains("db"), "{e}");
    // Another spelling of the same directory is the same database.
    expect_code(
        Database::open(path.join("."), small_options()),
        ErrorCode::Locked,
    );
    expect_code(
        Database::open(dir.path().join("./db/"), small_options()),
        ErrorCode::Locked,
    );

    // The failed opens disturbed nothing: the first handle works and still holds the lock.
    first.put(b"b", b"2").unwrap();
    first.flush().unwrap();
    assert_eq!(first.get(b"a").unwrap(), Some(b"1".to_vec()));
    expect_code(Database::open(&path, small_options()), ErrorCode::Locked);

    first.close().unwrap();
    let second = Database::open(&path, small_options()).unwrap();
    assert_eq!(
        all_entries(&second),
        vec![
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec())
        ]
    );
    // Dropping releases the lock too.
    drop(second);
    let third = Database::open(&path, small_options()).unwrap();
    third.verify().unwrap();
}

#[test]
fn a_second_open_through_the_same_storage_is_locked() {
    let storage = FaultyStorage::new();
    let open = || Database::open_with_storage("/db", small_options(), Arc::new(storage.clone()));
    let first = open().unwrap();
    first.put(b"a", b"1").unwrap();
    expect_code(open(), ErrorCode::Locked);
    assert_eq!(first.get(b"a").unwrap(), Some(b"1".to_vec()));
    first.close().unwrap();
    let second = open().unwrap();
    assert_eq!(second.get(b"a").unwrap(), Some(b"1".to_vec()));
}

// ---------------------------------------------------------------------------------------------
// Options

#[test]
fn bad_options_are_invalid_option_naming_the_option() {
    let mut options = Options::default();
    let e = expect_code(options.set("cache_size", "lots"), ErrorCode::InvalidOption);
    assert!(e.message().contains("cache_size"), "{e}");
    assert!(e.message().contains("lots"), "{e}");
    let e = expect_code(options.set("cache_sise", "1MiB"), ErrorCode::InvalidOption);
    assert!(e.message().contains("cache_sise"), "{e}");
    let e = expect_code(options.set("no_such_option", "1"), ErrorCode::InvalidOption);
    assert!(e.message().contains("no_such_option"), "{e}");
    let e = expect_code(options.set("page_size", "1000"), ErrorCode::InvalidOption);
    assert!(e.message().contains("page_size"), "{e}");
    assert!(e.message().contains("1000"), "{e}");
    for (name, value) in [
        ("page_size", "2048"),
        ("page_size", "131072"),
        ("memtable_size", "1KiB"),
        ("max_frozen_memtables", "0"),
        ("max_active_transactions", "-1"),
        ("sync", "maybe"),
        ("mmap", ""),
    ] {
        let e = expect_code(options.set(name, value), ErrorCode::InvalidOption);
        assert!(e.message().contains(name), "{name}={value:?}: {e}");
    }
    assert_eq!(
        options,
        Options::default(),
        "failed sets changed the options"
    );
}

#[test]
fn invalid_fields_set_directly_are_rejected_by_open_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let cases = [
        (
            Options {
                page_size: 1000,
                ..Options::default()
            },
            "page_size",
        ),
        (
            Options {
                page_size: 1 << 20,
                ..Options::default()
            },
            "page_size",
        ),
        (
            Options {
                memtable_size: 1024,
                ..Options::default()
            },
            "memtable_size",
        ),
        (
            Options {
                cache_size: 2 << 40,
                ..Options::default()
            },
            "cache_size",
        ),
        (
            Options {
                max_frozen_memtables: 0,
                ..Options::default()
            },
            "max_frozen_memtables",
        ),
        (
            Options {
                max_active_transactions: 0,
                ..Options::default()
            },
            "max_active_transactions",
        ),
    ];
    for (options, name) in cases {
        let e = expect_code(
            Database::open(&path, options.clone()),
            ErrorCode::InvalidOption,
        );
        assert!(e.message().contains(name), "{name}: {e}");
        assert!(!path.exists(), "{name}: open created the directory");

        let storage = FaultyStorage::new();
        let e = expect_code(
            Database::open_with_storage("/db", options, Arc::new(storage.clone())),
            ErrorCode::InvalidOption,
        );
        assert!(e.message().contains(name), "{name}: {e}");
        assert!(storage.file_names("/db").is_empty());
        assert!(storage.file_names("/").is_empty());
    }
    assert!(tree_of(dir.path()).is_empty());
}

#[test]
fn create_if_missing_false_on_a_missing_path_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        create_if_missing: false,
        ..Options::default()
    };
    for rel in ["missing", "a/b/c"] {
        let path = dir.path().join(rel);
        let e = err(Database::open(&path, options.clone()));
        assert!(e.message().contains("create_if_missing"), "{e}");
        assert!(!path.exists());
    }
    assert!(tree_of(dir.path()).is_empty(), "something was created");

    // An empty directory holds no database either; it stays empty.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    err(Database::open(&empty, options.clone()));
    assert!(tree_of(&empty).is_empty(), "the empty directory changed");

    // In memory too.
    let storage = FaultyStorage::new();
    err(Database::open_with_storage(
        "/missing",
        options.clone(),
        Arc::new(storage.clone()),
    ));
    assert!(storage.file_names("/missing").is_empty());
    assert!(storage.file_names("/").is_empty());

    // An existing database opens with create_if_missing = false.
    let path = dir.path().join("db");
    Database::open(&path, Options::default())
        .unwrap()
        .close()
        .unwrap();
    Database::open(&path, options).unwrap().close().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Handles that outlive the database

#[test]
fn snapshots_iterators_and_cursors_outlive_the_database_and_hold_its_lock() {
    for clean_close in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let db = Database::open(&path, small_options()).unwrap();
        let key = |i: u32| format!("key{i:05}").into_bytes();
        let old_value = |i: u32| format!("old{i}").repeat(1 + (i as usize % 40)).into_bytes();
        // Some in the tree, some only in the memtable, one large value.
        for i in 0..3000 {
            db.put_with(&key(i), &old_value(i), Durability::Buffered)
                .unwrap();
        }
        db.flush().unwrap();
        for i in (0..3000).step_by(7) {
            db.delete(&key(i)).unwrap();
        }
        let big = vec![0xab; 100_000];
        db.put(b"big", &big).unwrap();
        let mut expected: Vec<(Vec<u8>, Vec<u8>)> = (0..3000)
            .filter(|i| i % 7 != 0)
            .map(|i| (key(i), old_value(i)))
            .collect();
        expected.insert(0, (b"big".to_vec(), big.clone()));

        let snapshot = db.snapshot().unwrap();
        let mut iter = db.iter(Range::prefix(b"key")).unwrap();
        let first: Vec<_> = iter.by_ref().take(10).map(|r| r.unwrap()).collect();
        assert_eq!(first, expected[1..11].to_vec());
        let mut cursor = db.cursor(Range::all().reverse()).unwrap();
        cursor.seek(b"key01000").unwrap();
        assert_eq!(cursor.key(), b"key01000");

        // Change everything, merge it into the tree (freeing the old pages), and close.
        for i in 0..3000 {
            if i % 3 == 0 {
                db.delete_with(&key(i), Durability::Buffered).unwrap();
            } else {
                db.put_with(&key(i), b"new", Durability::Buffered).unwrap();
            }
        }
        db.delete(b"big").unwrap();
        db.flush().unwrap();
        for i in 0..1000 {
            db.put_with(&key(i), b"newer", Durability::Buffered)
                .unwrap();
        }
        if clean_close {
            db.close().unwrap();
        } else {
            drop(db);
        }

        // The snapshot, the iterator and the cursor still see the old state.
        let all: Vec<_> = snapshot.iter(Range::all()).map(|r| r.unwrap()).collect();
        assert!(all == expected, "the snapshot changed after close");
        for (k, v) in expected.iter().step_by(97) {
            assert_eq!(snapshot.get(k).unwrap().as_ref(), Some(v));
        }
        assert_eq!(snapshot.get(&key(0)).unwrap(), None);
        let rest: Vec<_> = iter.map(|r| r.unwrap()).collect();
        assert!(rest == expected[11..], "the iterator changed after close");
        let mut c = snapshot.cursor(Range::all());
        c.seek_to_first().unwrap();
        assert_eq!(c.key(), b"big");
        assert_eq!(c.value().unwrap(), &big[..]);

        // Each of them holds the lock.
        expect_code(Database::open(&path, small_options()), ErrorCode::Locked);
        drop(snapshot);
        drop(c);
        expect_code(Database::open(&path, small_options()), ErrorCode::Locked);
        cursor.next().unwrap();
        assert_eq!(cursor.key(), b"key01002", "key01001 was deleted");
        cursor.prev().unwrap();
        assert_eq!(cursor.key(), b"key01000");
        cursor.prev().unwrap();
        assert_eq!(cursor.key(), b"key00999");
        assert_eq!(cursor.value().unwrap(), &old_value(999)[..]);
        expect_code(Database::open(&path, small_options()), ErrorCode::Locked);
        drop(cursor);

        // Once they are gone, the database opens, with the last state.
        let db = Database::open(&path, small_options()).unwrap();
        assert_eq!(db.get(b"big").unwrap(), None);
        assert_eq!(db.get(&key(0)).unwrap(), Some(b"newer".to_vec()));
        assert_eq!(db.get(&key(1001)).unwrap(), Some(b"new".to_vec()));
        assert_eq!(db.get(&key(1500)).unwrap(), None);
        assert_eq!(
            db.iter(Range::all()).unwrap().count(),
            1000 + (1000..3000).filter(|i| i % 3 != 0).count()
        );
        db.verify().unwrap();
    }
}
