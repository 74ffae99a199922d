//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and every crash turned regression
//! (`fuzz/regressions/<target>/`) through the entry points the fuzz targets call
//! (`lightning_db::fuzzing`), on stable, as an ordinary test:
//!
//! ```text
//! cargo test -p lightning-db --features fuzzing --test fuzz_corpus
//! ```
//!
//! A panic in an entry point is a failure, as a crash is under the fuzzer. The `c_abi` target's
//! corpus is replayed by `ffi/tests/fuzz_corpus.rs`.
//!
//! `write_seeds` (ignored) writes the seed corpus from real databases: run it with `-- --ignored
//! write_seeds`, then minimize and commit (see `fuzz/README.md`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lightning_db::fuzzing::{self, REPAIR};
use lightning_db::storage::FaultyStorage;
use lightning_db::{Database, Options, WriteBatch};

#[path = "../../fuzz/corpus_files.rs"]
mod corpus_files;
use corpus_files::{fuzz_dir, inputs};

fn replay(target: &str, run: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no corpus for {target}");
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: {} panics", path.display());
    }
}

#[test]
fn wal_segment_corpus() {
    replay("wal_segment", fuzzing::wal_segment);
}

#[test]
fn batch_payload_corpus() {
    replay("batch_payload", fuzzing::batch_payload);
}

#[test]
fn page_corpus() {
    replay("page", fuzzing::page);
}

#[test]
fn meta_page_corpus() {
    replay("meta_page", fuzzing::meta_page);
}

#[test]
fn open_page_file_corpus() {
    replay("open_page_file", fuzzing::open_page_file);
}

#[test]
fn options_corpus() {
    replay("options", fuzzing::options);
}

/// The entry points accept what they are meant to: a real segment, page file and payload go all
/// the way through (the seeds are not all rejected at the first check).
#[test]
fn real_files_decode_whole() {
    let (storage, dir) = small_database(4096, 40, 3000);
    let segment = wal_segments(&storage, &dir).remove(0);
    fuzzing::wal_segment(&[&[1u8][..], &segment].concat());
    fuzzing::wal_segment(&[&[1u8 | REPAIR][..], &segment].concat());
    for payload in payloads(&segment) {
        fuzzing::batch_payload(&payload);
    }
    let file = storage.read_file(dir.join("data.ldb")).unwrap();
    fuzzing::meta_page(&[&[0u8][..], &file].concat());
    fuzzing::page(&[&[0u8][..], &file[2 * 4096..]].concat());
    let mut open = vec![1u8];
    open.extend_from_slice(&(segment.len() as u32).to_le_bytes());
    open.extend_from_slice(&file);
    open.extend_from_slice(&segment);
    fuzzing::open_page_file(&open);
    fuzzing::options(b"cache_size=64MiB");
}

/// A database in a `FaultyStorage` with `keys` keys (every seventh value `big` bytes, so some
/// go to overflow pages), merged into the page file, then `keys / 4` more writes left in the WAL.
fn small_database(page_size: usize, keys: usize, big: usize) -> (Arc<FaultyStorage>, PathBuf) {
    let storage = Arc::new(FaultyStorage::new());
    let dir = PathBuf::from("/db");
    let mut options = Options::default();
    options.set("page_size", &page_size.to_string()).unwrap();
    let db = Database::open_with_storage(&dir, options, storage.clone()).unwrap();
    for i in 0..keys {
        let value = if i % 7 == 3 {
            vec![b'v'; big]
        } else {
            format!("value{i}").into_bytes()
        };
        db.put(format!("key{i:04}").as_bytes(), &value).unwrap();
    }
    let long_key = vec![b'L'; page_size / 8 + 10];
    db.put(&long_key, b"a key in overflow pages").unwrap();
    for i in (0..keys).step_by(5) {
        db.delete(format!("key{i:04}").as_bytes()).unwrap();
    }
    db.flush().unwrap();
    let mut batch = WriteBatch::new();
    for i in 0..keys / 4 {
        batch.put(format!("wal{i}").as_bytes(), b"in the log");
    }
    batch.delete(b"key0001");
    db.write(&batch).unwrap();
    db.put(b"k", b"").unwrap();
    db.delete(b"key0002").unwrap();
    // Leave the WAL as it is: no close (the storage keeps the files).
    std::mem::forget(db);
    (storage, dir)
}

fn wal_segments(storage: &FaultyStorage, dir: &Path) -> Vec<Vec<u8>> {
    let mut names: Vec<String> = storage
        .file_names(dir)
        .into_iter()
        .filter(|n| n.starts_with("wal-"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| storage.read_file(dir.join(n)).unwrap())
        .filter(|s| s.len() > 32)
        .collect()
}

/// The payloads of a segment's records (format.md 3.2).
fn payloads(segment: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut off = 32;
    while off + 32 <= segment.len() {
        let len = u64::from_le_bytes(segment[off + 8..off + 16].try_into().unwrap()) as usize;
        let Some(payload) = segment.get(off + 32..off + 32 + len) else {
            break;
        };
        if len > 0 {
            out.push(payload.to_vec());
        }
        off = (off + 32 + len + 7) & !7;
    }
    out
}

/// Writes the seed corpus into `fuzz/corpus/<target>/seed-*`.
#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_seeds() {
    let write = |target: &str, name: &str, data: &[u8]| {
        let d = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("seed-{name}")), data).unwrap();
    };
    for (page_size, keys, big) in [(4096usize, 40usize, 3000usize), (16384, 12, 20_000)] {
        let (storage, dir) = small_database(page_size, keys, big);
        let tag = page_size.to_string();
        let file = storage.read_file(dir.join("data.ldb")).unwrap();
        let segments = wal_segments(&storage, &dir);
        for (i, segment) in segments.iter().enumerate() {
            write(
                "wal_segment",
                &format!("{tag}-{i}-last"),
                &[&[1u8][..], segment].concat(),
            );
            write(
                "wal_segment",
                &format!("{tag}-{i}-sealed"),
                &[&[REPAIR][..], segment].concat(),
            );
            for (j, payload) in payloads(segment).iter().enumerate().take(3) {
                write("batch_payload", &format!("{tag}-{i}-{j}"), payload);
            }
        }
        let selector = (page_size / 4096).trailing_zeros() as u8;
        write(
            "meta_page",
            &tag,
            &[&[0u8][..], &file[..2 * page_size]].concat(),
        );
        write(
            "meta_page",
            &format!("{tag}-repair"),
            &[&[REPAIR][..], &file[..2 * page_size]].concat(),
        );
        for (id, p) in file.chunks(page_size).enumerate().skip(2) {
            let kind = p[4];
            if page_size == 4096 || kind != 4 {
                write(
                    "page",
                    &format!("{tag}-id{id}-type{kind}"),
                    &[&[selector][..], p].concat(),
                );
            }
        }
        if page_size == 4096 {
            // A run of consecutive pages, so references between them resolve.
            let run = &file[2 * page_size..(6 * page_size).min(file.len())];
            write("page", "4096-run", &[&[selector][..], run].concat());
        }
        let wal = segments.last().cloned().unwrap_or_default();
        let mut open = vec![1u8];
        open.extend_from_slice(&(wal.len() as u32).to_le_bytes());
        open.extend_from_slice(&file);
        open.extend_from_slice(&wal);
        write("open_page_file", &tag, &open);
        let mut no_wal = vec![0u8, 0, 0, 0, 0];
        no_wal.extend_from_slice(&file);
        write("open_page_file", &format!("{tag}-no-wal"), &no_wal);
    }
    for (i, text) in [
        "cache_size=64MiB",
        "page_size=16384",
        "memtable_size=1.5 MiB",
        "sync=false",
        "createIfMissing=true",
        "max-frozen-memtables=4",
        "mmap=off",
        "max_active_transactions=100",
        "cache_size=18446744073709551615",
        "memtable_size=500kb",
    ]
    .iter()
    .enumerate()
    {
        write("options", &i.to_string(), text.as_bytes());
    }
}
