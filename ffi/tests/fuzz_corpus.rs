//! Replays the `c_abi` fuzz target's committed corpus (`fuzz/corpus/c_abi/`) and regressions
//! (`fuzz/regressions/c_abi/`) through the same interpreter the fuzz target runs
//! (`c_abi_fuzz/interp.rs`), on stable. `write_seeds` (ignored) writes the seed call sequences.

mod interp {
    include!("c_abi_fuzz/interp.rs");
}

#[path = "../../fuzz/corpus_files.rs"]
mod corpus_files;
use corpus_files::{fuzz_dir, inputs};

#[test]
fn c_abi_corpus() {
    let files = inputs("c_abi");
    assert!(!files.is_empty(), "no corpus for c_abi");
    let tmp = tempfile::tempdir().unwrap();
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let dir = tmp.path().join("run");
        let outcome = std::panic::catch_unwind(|| interp::run(&data, &dir));
        assert!(outcome.is_ok(), "c_abi: {} panics", path.display());
    }
}

/// Call sequences, one op byte followed by its argument bytes (see `interp.rs`).
const SEEDS: &[(&str, &[u8])] = &[
    (
        "tour",
        &[
            4, 0, 0, // open with default options
            7, 0, 7, 1, 5, 3, 97, 98, 99, 3, // put k1 = "abc", buffered
            9, 0, 7, 1, 0, // get k1
            11, 0, 7, 1, 2, 0, 0, // get_into k1, 8-byte buffer
            10, 0, 7, 1, 0, // get_pinned k1
            35, 0, 1, // pinned data
            23, 0, 0, 0, 0, // iterator over everything
            24, 0, 2, // next
            25, 0, 0, // key, value
            27, 0, 0, // snapshot
            30, 0, 0, 1, 0, 0, // transaction, snapshot isolation
            31, 0, 7, 2, 2, 5, 1, 120, // txn put k2 = "x"
            31, 0, 7, 1, 0, 0, // txn get k1
            32, 0, // commit
            17, 0, // batch
            18, 0, 7, 3, 3, 9, // batch put k3 = 70000 bytes (overflow pages)
            19, 0, 7, 1, // batch delete k1
            22, 0, 0, 1, // write, sync
            13, 0, // flush
            16, 0, 1, // verify with a report
            14, 0, 0, // stats
            15, 0, 2, 0, // stats_value tree_keys
            23, 1, 0x30, 7, 1, 7, 5, 0, 0, // snapshot iterator, range k1..k5, reversed
            24, 1, 0, 25, 1, 0, 24, 1, 4, 7, 3, 25, 1, 0, // first, read, seek k3, read
            5, 0, // close
            9, 0, 7, 1, 0, // get after close: CLOSED
            28, 0, 7, 1, 0, 0, // the snapshot still reads
            32, 0, // commit a finished transaction: CLOSED
            1,
        ],
    ),
    (
        "options",
        &[
            0, 0, // options_new
            1, 0, 18, 22, // memtable_size = 64KiB
            1, 0, 14, 2, // page_size = 4096
            1, 0, 1, 1, 65, 1, 1, 66, // a made-up name and value
            2, 0, 18, 0, // options_get memtable_size
            38, 0, // apply_env
            4, 0, 0, // open with them
            7, 0, 7, 1, 3, 7, 2, 7, 0, 7, 2, 3, 7, 2, 7, 0, 7, 3, 3, 7, 2, // big values
            7, 0, 7, 4, 3, 7, 2, 7, 0, 7, 5, 3, 7, 2, 7, 0, 7, 6, 3, 7, 2, 13, 0, 16, 0,
            0, // flush, verify
            6, 0, // db_free without close
            4, 0xff, 0, // reopen with default options
            23, 0, 0, 0, 0, 24, 0, 2, 25, 0, 0, 24, 0, 1, 25, 0, 0, // iterate
            3, 0, // options_free
            0,
        ],
    ),
    (
        "bad-arguments",
        &[
            7, 0, 7, 1, 5, 1, 97, 0, // put on no database (NULL)
            4, 0, 0xff, // open with a NULL path
            4, 0, 0, // open
            4, 0, 0, // open again: LOCKED
            7, 0, 2, 0, 5, 1, 97, 0, // key one over the limit, short buffer
            7, 0, 7, 1, 2, 1, 0, // value of usize::MAX bytes
            7, 0, 1, 5, 5, 1, 97, 0, // NULL key with a length
            7, 0, 7, 1, 5, 1, 97, 6, // durability -1
            9, 0, 7, 1, 3, // get with NULL out-parameters
            30, 0, 2, 1, 0, 0, // isolation 2
            30, 0, 1, 0, 0, 0, // serializable, read-only
            31, 0, 7, 1, 2, 5, 1, 97, // put in a read-only transaction
            33, 0, 33, 0, // rollback twice
            24, 0xff, 0, 25, 0xff, 0, // iterator calls on NULL
            17, 0xff, 18, 0xff, 7, 1, 5, 1, 97, // batch_new(NULL), batch_put(NULL)
            37, 1, 0xff, 0xff, 0xff, 0x7f, 37, 2, // status names
            39, 0,
        ],
    ),
];

#[test]
#[ignore = "writes fuzz/corpus/c_abi; run by hand"]
fn write_seeds() {
    let d = fuzz_dir().join("corpus").join("c_abi");
    std::fs::create_dir_all(&d).unwrap();
    for (name, data) in SEEDS {
        std::fs::write(d.join(format!("seed-{name}")), data).unwrap();
    }
}

#[test]
fn seeds_run() {
    let tmp = tempfile::tempdir().unwrap();
    for (_, data) in SEEDS {
        interp::run(data, &tmp.path().join("run"));
    }
}
