//! Lengths beyond the limits at the C ABI: each call fails with `LDB_INVALID_ARGUMENT` before it
//! reads a byte of the caller's memory. The buffers passed are one byte long whatever length is
//! claimed, so a call that read or copied before checking would read past them (or, for 2^40
//! bytes, abort in the allocator), and one that panicked would return `LDB_INTERNAL`.

use std::ffi::{CStr, CString};
use std::ptr;

use lightning::*;

const HUGE_LENGTHS: [usize; 4] = [usize::MAX, isize::MAX as usize + 1, 1 << 40, 64 << 20 | 1];

fn last_message() -> String {
    // SAFETY: a NUL-terminated string owned by the library, valid until the next call.
    unsafe { CStr::from_ptr(ldb_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

#[track_caller]
fn assert_invalid(status: ldb_status, what: &str) {
    assert_eq!(
        status,
        ldb_status::LDB_INVALID_ARGUMENT,
        "{what}: {}",
        last_message()
    );
}

struct Handles {
    _dir: tempfile::TempDir,
    db: *mut ldb_db,
}

impl Drop for Handles {
    fn drop(&mut self) {
        // SAFETY: a handle from `ldb_open`, freed once.
        unsafe { ldb_db_free(self.db) };
    }
}

fn open() -> Handles {
    let dir = tempfile::tempdir().unwrap();
    let path = CString::new(dir.path().to_str().unwrap()).unwrap();
    let mut db = ptr::null_mut();
    // SAFETY: a NUL-terminated path, NULL options, a writable out-pointer.
    let status = unsafe { ldb_open(path.as_ptr(), ptr::null(), &mut db) };
    assert_eq!(status, ldb_status::LDB_OK, "{}", last_message());
    Handles { _dir: dir, db }
}

#[test]
fn keys_and_values_longer_than_the_limits_are_refused_before_they_are_read() {
    let h = open();
    let one = [7u8];
    let p = one.as_ptr();
    let mut value_out = ptr::null_mut();
    let mut len_out = 0usize;
    let mut pinned = ptr::null_mut();
    let mut batch = ptr::null_mut();
    let mut snapshot = ptr::null_mut();
    let mut txn = ptr::null_mut();
    // SAFETY: live handles and writable out-pointers; the claimed lengths are the point of the
    // test (the library must not read them).
    unsafe {
        assert_eq!(ldb_batch_new(&mut batch), ldb_status::LDB_OK);
        assert_eq!(ldb_snapshot_new(h.db, &mut snapshot), ldb_status::LDB_OK);
        assert_eq!(
            ldb_txn_begin(
                h.db,
                LDB_ISOLATION_SNAPSHOT,
                false,
                LDB_DURABILITY_DEFAULT,
                &mut txn
            ),
            ldb_status::LDB_OK
        );
        for len in HUGE_LENGTHS.into_iter().chain([MAX_KEY_SIZE_PLUS_ONE]) {
            let case = format!("key of {len} bytes");
            assert_invalid(ldb_put(h.db, p, len, p, 1, LDB_DURABILITY_BUFFERED), &case);
            assert_invalid(ldb_delete(h.db, p, len, LDB_DURABILITY_BUFFERED), &case);
            assert_invalid(ldb_get(h.db, p, len, &mut value_out, &mut len_out), &case);
            assert_invalid(ldb_get_pinned(h.db, p, len, &mut pinned), &case);
            assert_invalid(ldb_batch_put(batch, p, len, p, 1), &case);
            assert_invalid(ldb_batch_delete(batch, p, len), &case);
            assert_invalid(
                ldb_snapshot_get(snapshot, p, len, &mut value_out, &mut len_out),
                &case,
            );
            assert_invalid(
                ldb_txn_get(txn, p, len, &mut value_out, &mut len_out),
                &case,
            );
            assert_invalid(ldb_txn_put(txn, p, len, p, 1), &case);
            assert_invalid(ldb_txn_delete(txn, p, len), &case);
            assert!(last_message().contains("key"), "{case}: {}", last_message());
        }
        for len in HUGE_LENGTHS {
            let case = format!("value of {len} bytes");
            assert_invalid(ldb_put(h.db, p, 1, p, len, LDB_DURABILITY_BUFFERED), &case);
            assert_invalid(ldb_batch_put(batch, p, 1, p, len), &case);
            assert_invalid(ldb_txn_put(txn, p, 1, p, len), &case);
            assert!(
                last_message().contains("value"),
                "{case}: {}",
                last_message()
            );
        }
        // Lengths no object can have, where no limit applies: a seek key and range bounds.
        let mut iter = ptr::null_mut();
        let whole = ldb_range {
            start: ptr::null(),
            start_len: 0,
            end: ptr::null(),
            end_len: 0,
            prefix: ptr::null(),
            prefix_len: 0,
            reverse: false,
        };
        assert_eq!(ldb_iter_new(h.db, &whole, &mut iter), ldb_status::LDB_OK);
        for len in [usize::MAX, isize::MAX as usize + 1] {
            assert_invalid(ldb_iter_seek(iter, p, len), "seek");
            let mut other = ptr::null_mut();
            for range in [
                ldb_range {
                    start: p,
                    start_len: len,
                    ..whole
                },
                ldb_range {
                    end: p,
                    end_len: len,
                    ..whole
                },
                ldb_range {
                    prefix: p,
                    prefix_len: len,
                    ..whole
                },
            ] {
                assert_invalid(ldb_iter_new(h.db, &range, &mut other), "range bound");
            }
        }
        ldb_iter_free(iter);

        // Nothing was written, and the handles still work.
        assert_eq!(
            ldb_write(h.db, batch, LDB_DURABILITY_DEFAULT),
            ldb_status::LDB_OK
        );
        assert_eq!(ldb_txn_commit(txn), ldb_status::LDB_OK);
        let mut found = true;
        let mut buf = [0u8; 1];
        assert_eq!(
            ldb_get_into(h.db, p, 1, buf.as_mut_ptr(), 1, &mut len_out, &mut found),
            ldb_status::LDB_OK
        );
        assert!(!found, "a refused write wrote something");
        assert_eq!(
            ldb_put(h.db, p, 1, p, 1, LDB_DURABILITY_BUFFERED),
            ldb_status::LDB_OK
        );
        ldb_txn_free(txn);
        ldb_snapshot_free(snapshot);
        ldb_batch_free(batch);
    }
}

/// One byte over the key limit (`MAX_KEY_SIZE` is 4096 bytes).
const MAX_KEY_SIZE_PLUS_ONE: usize = 4097;

/// A batch holds at most 4 GiB of encoded operations: the put that would pass it fails with
/// `LDB_INVALID_ARGUMENT` and leaves the batch as it was, so it can still be written.
#[test]
fn a_batch_refuses_the_operation_that_would_pass_its_byte_limit() {
    let h = open();
    let big = vec![3u8; 64 << 20];
    // SAFETY: live handles; every buffer is valid for the length passed.
    unsafe {
        let mut batch = ptr::null_mut();
        assert_eq!(ldb_batch_new(&mut batch), ldb_status::LDB_OK);
        // Each op is 64 MiB of value plus 8 bytes (kind, keyspace, key and its length, the
        // value's 4-byte length): 63 fit, a 64th would pass 4 GiB.
        for i in 0..63u8 {
            let key = [i];
            assert_eq!(
                ldb_batch_put(batch, key.as_ptr(), 1, big.as_ptr(), big.len()),
                ldb_status::LDB_OK,
                "{}",
                last_message()
            );
        }
        let key = [63u8];
        assert_invalid(
            ldb_batch_put(batch, key.as_ptr(), 1, big.as_ptr(), big.len()),
            "the 64th 64 MiB value",
        );
        assert!(last_message().contains("4 GiB"), "{}", last_message());
        assert_eq!(ldb_batch_count(batch), 63);
        // Smaller operations still fit.
        assert_eq!(ldb_batch_delete(batch, key.as_ptr(), 1), ldb_status::LDB_OK);
        assert_eq!(ldb_batch_count(batch), 64);
        ldb_batch_free(batch);
    }
    drop(h);
}
