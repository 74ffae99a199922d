// The interpreter behind the `c_abi` fuzz target (fuzz/fuzz_targets/c_abi.rs) and its corpus
// replay test (ffi/tests/fuzz_corpus.rs): it reads its input as a sequence of C ABI calls with
// arguments drawn from the input, and runs them against a database in a directory it is given.
// Both `include!` this file, so it has no inner doc comments and names everything it uses.
//
// It lies about nothing the header forbids: buffers are as long as the lengths passed with them,
// except that a key or value length beyond its documented limit (which every call checks before
// reading a byte) may come with a short buffer; handles are used only while live, and after
// `ldb_close` only in the ways the header allows (later calls return LDB_CLOSED); every
// caller-owned result is released with `ldb_free`. What it checks: every call returns a known
// status, never INTERNAL; out-parameters are unchanged on failure; borrowed bytes are readable
// for as long as promised; nothing leaks (LeakSanitizer, under the fuzzer). A crash, an abort, a
// sanitizer report or a failed assertion is a finding.

#[allow(unused_imports)]
use lightning::*;

/// Bytes of the input, read front to back; zeros once it is used up.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.data.is_empty()
    }

    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }
}

/// A key or value argument: a pointer and a length, with the buffer that backs it (if any).
struct Arg {
    _buf: Vec<u8>,
    ptr: *const u8,
    len: usize,
}

const MAX_KEY: usize = 4096;
const MAX_VALUE: usize = 64 << 20;

fn arg_from(buf: Vec<u8>) -> Arg {
    let ptr = buf.as_ptr();
    let len = buf.len();
    Arg {
        _buf: buf,
        ptr,
        len,
    }
}

/// A byte string argument. `limit` is the documented limit of its length, if the call checks one
/// before reading (keys and values of puts, gets and deletes); `None` for seek keys and range
/// bounds, which must always be as long as their buffers.
fn arg(r: &mut Reader<'_>, limit: Option<usize>, big: usize) -> Arg {
    match r.u8() % 16 {
        // NULL with length 0: an empty key.
        0 => Arg {
            _buf: Vec::new(),
            ptr: std::ptr::null(),
            len: 0,
        },
        // NULL with a length: LDB_INVALID_ARGUMENT.
        1 => Arg {
            _buf: Vec::new(),
            ptr: std::ptr::null(),
            len: 1 + r.u8() as usize,
        },
        // Over the limit with a short buffer: rejected before any byte is read.
        2 if limit.is_some() => {
            let buf = vec![b'x'; 8];
            let ptr = buf.as_ptr();
            let len = match r.u8() % 3 {
                0 => limit.unwrap() + 1,
                1 => usize::MAX,
                _ => isize::MAX as usize + 1,
            };
            Arg {
                _buf: buf,
                ptr,
                len,
            }
        }
        // Large: as long as `big` bytes (keys at the limit, values in overflow pages).
        3 => arg_from(vec![r.u8(); big]),
        // A non-NULL pointer with length 0.
        4 => {
            let buf = vec![0u8; 1];
            let ptr = buf.as_ptr();
            Arg {
                _buf: buf,
                ptr,
                len: 0,
            }
        }
        // Raw bytes of the input.
        5 | 6 => {
            let n = (r.u8() % 24) as usize;
            arg_from(r.bytes(n).to_vec())
        }
        // One of a few short keys, so that reads hit writes.
        _ => arg_from(vec![b'k', b'0' + r.u8() % 8]),
    }
}

fn key(r: &mut Reader<'_>) -> Arg {
    arg(r, Some(MAX_KEY), MAX_KEY)
}

fn value(r: &mut Reader<'_>) -> Arg {
    arg(r, Some(MAX_VALUE), 70_000)
}

fn plain(r: &mut Reader<'_>) -> Arg {
    arg(r, None, MAX_KEY + 10)
}

/// A NUL-terminated string from the input (or NULL, or a known option name or value).
fn cstr(r: &mut Reader<'_>, known: &[&str]) -> Option<std::ffi::CString> {
    let pick = r.u8();
    let text: Vec<u8> = match pick % 4 {
        0 => return None,
        1 => {
            let n = (r.u8() % 24) as usize;
            r.bytes(n).iter().copied().filter(|&b| b != 0).collect()
        }
        _ => known[(pick / 4) as usize % known.len()].as_bytes().to_vec(),
    };
    Some(std::ffi::CString::new(text).expect("no NUL inside"))
}

fn cptr(s: &Option<std::ffi::CString>) -> *const std::ffi::c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Every option's canonical name, then two other spellings the parser accepts. (The order
/// decides which name an input byte picks: keep the list's prefix when options are added.)
fn option_names() -> Vec<&'static str> {
    lightning_db::Options::NAMES
        .iter()
        .copied()
        .chain(["memtableSize", "cache-size"])
        .collect()
}const OPTION_VALUES: &[&str] = &[
    "true",
    "false",
    "4096",
    "65536",
    "1MiB",
    "64KiB",
    "256KiB",
    "0",
    "1",
    "2",
    "8192",
    "1.5 MiB",
    "-1",
    "18446744073709551616",
];
const STAT_NAMES: &[&str] = &["tree_keys", "memtable_bytes", "nope", "", "merges"];

/// Checks a status: a known code, never INTERNAL (a caught panic).
fn st(status: ldb_status) -> bool {
    let code = status as i32;
    assert!((0..=13).contains(&code), "unknown status {code}");
    assert!(
        status != ldb_status::LDB_INTERNAL,
        "INTERNAL: {}",
        last_error()
    );
    status == ldb_status::LDB_OK
}

fn last_error() -> String {
    // SAFETY: the library returns a NUL-terminated string valid until the next call.
    unsafe { std::ffi::CStr::from_ptr(ldb_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// Reads every byte of a borrowed buffer (so a sanitizer sees a dangling one).
fn touch(ptr: *const u8, len: usize) -> u64 {
    if len == 0 {
        return 0;
    }
    assert!(!ptr.is_null(), "NULL data with length {len}");
    // SAFETY: the library promised `len` readable bytes at `ptr` (and this is what is checked).
    let s = unsafe { std::slice::from_raw_parts(ptr, len) };
    s.iter().map(|&b| u64::from(b)).sum()
}

/// Releases a caller-owned buffer after reading it.
fn take(ptr: *mut u8, len: usize) {
    touch(ptr, len);
    // SAFETY: `ptr` came from the library as caller-owned, and is freed once.
    unsafe { ldb_free(ptr.cast()) };
}

/// A sentinel for out-parameters: a call that fails must leave it as it was.
fn sentinel<T>() -> *mut T {
    std::ptr::NonNull::<T>::dangling().as_ptr()
}

#[derive(Default)]
struct Handles {
    dbs: Vec<*mut ldb_db>,
    options: Vec<*mut ldb_options>,
    batches: Vec<*mut ldb_batch>,
    snapshots: Vec<*mut ldb_snapshot>,
    iters: Vec<*mut ldb_iter>,
    txns: Vec<*mut ldb_txn>,
    pinned: Vec<*mut ldb_pinned>,
}

/// A handle of `list` chosen by the input, or NULL (when `allow_null`, one time in 16, or when
/// the list is empty).
fn pick<T>(r: &mut Reader<'_>, list: &[*mut T]) -> *mut T {
    let b = r.u8();
    if list.is_empty() || b == 0xff {
        std::ptr::null_mut()
    } else {
        list[b as usize % list.len()]
    }
}

/// Removes and returns a handle of `list` chosen by the input (None if empty).
fn remove<T>(r: &mut Reader<'_>, list: &mut Vec<*mut T>) -> Option<*mut T> {
    let b = r.u8() as usize;
    if list.is_empty() {
        None
    } else {
        Some(list.swap_remove(b % list.len()))
    }
}

fn durability(r: &mut Reader<'_>) -> ldb_durability {
    match r.u8() % 8 {
        0 | 1 => LDB_DURABILITY_DEFAULT,
        2 => LDB_DURABILITY_SYNC,
        3..=5 => LDB_DURABILITY_BUFFERED,
        6 => -1,
        _ => 3,
    }
}

fn range(r: &mut Reader<'_>, bufs: &mut Vec<Arg>) -> Option<ldb_range> {
    let kind = r.u8();
    if kind % 4 == 0 {
        return None;
    }
    let mut range = ldb_range {
        start: std::ptr::null(),
        start_len: 0,
        end: std::ptr::null(),
        end_len: 0,
        prefix: std::ptr::null(),
        prefix_len: 0,
        reverse: kind & 0x10 != 0,
    };
    if kind & 0x20 != 0 {
        let a = plain(r);
        (range.start, range.start_len) = (a.ptr, a.len);
        bufs.push(a);
    }
    if kind & 0x40 != 0 {
        let a = plain(r);
        (range.end, range.end_len) = (a.ptr, a.len);
        bufs.push(a);
    }
    if kind & 0x80 != 0 {
        let a = plain(r);
        (range.prefix, range.prefix_len) = (a.ptr, a.len);
        bufs.push(a);
    }
    Some(range)
}

/// Most handles of each kind alive at once.
const MAX_LIVE: usize = 4;

/// Runs the calls `input` spells against a database in `dir` (which is emptied first), then
/// releases every handle still live, in an order the input chooses.
#[allow(clippy::too_many_lines)]
pub fn run(input: &[u8], dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    let path = std::ffi::CString::new(dir.join("db").into_os_string().into_encoded_bytes())
        .expect("a path without NUL");
    let mut r = Reader { data: input };
    let mut h = Handles::default();
    let mut steps = 0;
    while !r.done() && steps < 256 {
        steps += 1;
        // SAFETY (for every call below): handles come from `h`, which holds only live ones (a
        // closed ldb_db stays live until ldb_db_free); NULL is passed on purpose; every buffer is
        // as long as its length, or the length is over a limit the call checks first; borrowed
        // results are read before anything could invalidate them; owned ones are freed once.
        unsafe {
            match r.u8() % 40 {
                0 => {
                    if h.options.len() < MAX_LIVE {
                        let mut o = sentinel();
                        let null = r.u8() == 0xff;
                        let out = if null {
                            std::ptr::null_mut()
                        } else {
                            &mut o as *mut _
                        };
                        if st(ldb_options_new(out)) {
                            h.options.push(o);
                        } else {
                            assert!(null || o == sentinel());
                        }
                    }
                }
                1 => {
                    let o = pick(&mut r, &h.options);
                    let name = cstr(&mut r, &option_names());
                    let value = cstr(&mut r, OPTION_VALUES);
                    st(ldb_options_set(o, cptr(&name), cptr(&value)));
                }
                2 => {
                    let o = pick(&mut r, &h.options);
                    let name = cstr(&mut r, &option_names());
                    let mut out: *mut std::ffi::c_char = sentinel();
                    let null = r.u8() == 0xff;
                    let p = if null {
                        std::ptr::null_mut()
                    } else {
                        &mut out as *mut _
                    };
                    if st(ldb_options_get(o, cptr(&name), p)) {
                        let s = std::ffi::CStr::from_ptr(out);
                        touch(s.as_ptr().cast(), s.to_bytes().len());
                        ldb_free(out.cast());
                    } else {
                        assert!(null || out == sentinel());
                    }
                }
                3 => {
                    if let Some(o) = remove(&mut r, &mut h.options) {
                        ldb_options_free(o);
                    } else {
                        ldb_options_free(std::ptr::null_mut());
                    }
                }
                4 => {
                    if h.dbs.len() < 2 {
                        let o = pick(&mut r, &h.options);
                        let mut db = sentinel();
                        let null_path = r.u8() == 0xff;
                        let p = if null_path {
                            std::ptr::null()
                        } else {
                            path.as_ptr()
                        };
                        if st(ldb_open(p, o, &mut db)) {
                            h.dbs.push(db);
                        } else {
                            assert!(db == sentinel(), "ldb_open failed but set db_out");
                        }
                    }
                }
                5 => {
                    let db = pick(&mut r, &h.dbs);
                    st(ldb_close(db));
                }
                6 => {
                    if let Some(db) = remove(&mut r, &mut h.dbs) {
                        ldb_db_free(db);
                    } else {
                        ldb_db_free(std::ptr::null_mut());
                    }
                }
                7 => {
                    let db = pick(&mut r, &h.dbs);
                    let (k, v) = (key(&mut r), value(&mut r));
                    st(ldb_put(db, k.ptr, k.len, v.ptr, v.len, durability(&mut r)));
                }
                8 => {
                    let db = pick(&mut r, &h.dbs);
                    let k = key(&mut r);
                    st(ldb_delete(db, k.ptr, k.len, durability(&mut r)));
                }
                9 => {
                    let db = pick(&mut r, &h.dbs);
                    let k = key(&mut r);
                    get_with(&mut r, |vo, lo| ldb_get(db, k.ptr, k.len, vo, lo));
                }
                10 => {
                    let db = pick(&mut r, &h.dbs);
                    let k = key(&mut r);
                    pinned_with(&mut r, &mut h, |po| ldb_get_pinned(db, k.ptr, k.len, po));
                }
                11 => {
                    let db = pick(&mut r, &h.dbs);
                    let k = key(&mut r);
                    let cap = [0usize, 1, 8, 100][(r.u8() % 4) as usize];
                    let mut buf = vec![0u8; cap];
                    let bp = if cap == 0 && r.u8() % 2 == 0 {
                        std::ptr::null_mut()
                    } else {
                        buf.as_mut_ptr()
                    };
                    let mut len = 7usize;
                    let mut found = true;
                    let nulls = r.u8();
                    let lp = if nulls & 1 != 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut len as *mut _
                    };
                    let fp = if nulls & 2 != 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut found as *mut _
                    };
                    if st(ldb_get_into(db, k.ptr, k.len, bp, cap, lp, fp)) {
                        assert!(found || len == 0, "absent but a length");
                    } else {
                        assert!(len == 7 && found, "ldb_get_into failed but set its outputs");
                    }
                }
                12 => {
                    st(ldb_sync(pick(&mut r, &h.dbs)));
                }
                13 => {
                    st(ldb_flush(pick(&mut r, &h.dbs)));
                }
                14 => {
                    let db = pick(&mut r, &h.dbs);
                    let mut text: *mut std::ffi::c_char = sentinel();
                    let mut len = 0usize;
                    let nulls = r.u8();
                    let tp = if nulls & 1 != 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut text as *mut _
                    };
                    let lp = if nulls & 2 != 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut len as *mut _
                    };
                    if st(ldb_stats(db, tp, lp)) {
                        let n = std::ffi::CStr::from_ptr(text).to_bytes().len();
                        assert!(lp.is_null() || n == len);
                        take(text.cast(), n);
                    } else {
                        assert!(tp.is_null() || text == sentinel());
                    }
                }
                15 => {
                    let db = pick(&mut r, &h.dbs);
                    let name = cstr(&mut r, STAT_NAMES);
                    let mut v = 0u64;
                    let p = if r.u8() == 0xff {
                        std::ptr::null_mut()
                    } else {
                        &mut v as *mut _
                    };
                    st(ldb_stats_value(db, cptr(&name), p));
                }
                16 => {
                    let db = pick(&mut r, &h.dbs);
                    let mut report: *mut std::ffi::c_char = std::ptr::null_mut();
                    let p = if r.u8() % 2 == 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut report as *mut _
                    };
                    let status = ldb_verify(db, p);
                    assert!(
                        status != ldb_status::LDB_CORRUPTION,
                        "a database written through the API fails verify: {}",
                        last_error()
                    );
                    st(status);
                    if !report.is_null() {
                        let n = std::ffi::CStr::from_ptr(report).to_bytes().len();
                        take(report.cast(), n);
                    }
                }
                17 => {
                    if h.batches.len() < MAX_LIVE {
                        let mut b = sentinel();
                        if r.u8() == 0xff {
                            st(ldb_batch_new(std::ptr::null_mut()));
                        } else if st(ldb_batch_new(&mut b)) {
                            h.batches.push(b);
                        }
                    }
                }
                18 => {
                    let b = pick(&mut r, &h.batches);
                    let (k, v) = (key(&mut r), value(&mut r));
                    let before = ldb_batch_count(b);
                    if st(ldb_batch_put(b, k.ptr, k.len, v.ptr, v.len)) {
                        assert_eq!(ldb_batch_count(b), before + 1);
                    } else {
                        assert_eq!(ldb_batch_count(b), before, "a failed put changed the batch");
                    }
                }
                19 => {
                    let b = pick(&mut r, &h.batches);
                    let k = key(&mut r);
                    st(ldb_batch_delete(b, k.ptr, k.len));
                }
                20 => {
                    let b = pick(&mut r, &h.batches);
                    if st(ldb_batch_clear(b)) {
                        assert_eq!(ldb_batch_count(b), 0);
                    }
                }
                21 => {
                    if let Some(b) = remove(&mut r, &mut h.batches) {
                        ldb_batch_free(b);
                    } else {
                        ldb_batch_free(std::ptr::null_mut());
                    }
                }
                22 => {
                    let db = pick(&mut r, &h.dbs);
                    let b = pick(&mut r, &h.batches);
                    st(ldb_write(db, b, durability(&mut r)));
                }
                23 => {
                    if h.iters.len() < MAX_LIVE {
                        let mut bufs = Vec::new();
                        let source = r.u8() % 3;
                        let mut it = sentinel();
                        let rg = range(&mut r, &mut bufs);
                        let rp = rg.as_ref().map_or(std::ptr::null(), |x| x as *const _);
                        let op = if r.u8() == 0xff {
                            std::ptr::null_mut()
                        } else {
                            &mut it as *mut _
                        };
                        let ok = match source {
                            0 => st(ldb_iter_new(pick(&mut r, &h.dbs), rp, op)),
                            1 => st(ldb_snapshot_iter_new(pick(&mut r, &h.snapshots), rp, op)),
                            _ => st(ldb_txn_iter_new(pick(&mut r, &h.txns), rp, op)),
                        };
                        if ok {
                            h.iters.push(it);
                        } else {
                            assert!(op.is_null() || it == sentinel());
                        }
                        drop(bufs);
                    }
                }
                24 => {
                    let it = pick(&mut r, &h.iters);
                    match r.u8() % 5 {
                        0 => st(ldb_iter_first(it)),
                        1 => st(ldb_iter_last(it)),
                        2 => st(ldb_iter_next(it)),
                        3 => st(ldb_iter_prev(it)),
                        _ => {
                            let k = plain(&mut r);
                            st(ldb_iter_seek(it, k.ptr, k.len))
                        }
                    };
                }
                25 => {
                    let it = pick(&mut r, &h.iters);
                    let valid = ldb_iter_valid(it);
                    let mut kp: *const u8 = std::ptr::null();
                    let mut kl = 0usize;
                    let nulls = r.u8();
                    let kpp = if nulls & 1 != 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut kp as *mut _
                    };
                    let klp = if nulls & 2 != 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut kl as *mut _
                    };
                    if st(ldb_iter_key(it, kpp, klp)) {
                        assert!(valid, "a key from an iterator that is not valid");
                        touch(kp, kl);
                    }
                    let mut vp: *const u8 = std::ptr::null();
                    let mut vl = 0usize;
                    let vpp = if nulls & 4 != 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut vp as *mut _
                    };
                    let vlp = if nulls & 8 != 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut vl as *mut _
                    };
                    if st(ldb_iter_value(it, vpp, vlp)) {
                        assert!(valid, "a value from an iterator that is not valid");
                        touch(vp, vl);
                        // The key stays valid until the iterator moves.
                        if nulls & 3 == 0 {
                            touch(kp, kl);
                        }
                    }
                }
                26 => {
                    if let Some(it) = remove(&mut r, &mut h.iters) {
                        ldb_iter_free(it);
                    } else {
                        ldb_iter_free(std::ptr::null_mut());
                    }
                }
                27 => {
                    if h.snapshots.len() < MAX_LIVE {
                        let db = pick(&mut r, &h.dbs);
                        let mut s = sentinel();
                        if r.u8() == 0xff {
                            st(ldb_snapshot_new(db, std::ptr::null_mut()));
                        } else if st(ldb_snapshot_new(db, &mut s)) {
                            h.snapshots.push(s);
                        } else {
                            assert!(s == sentinel());
                        }
                    }
                }
                28 => {
                    let s = pick(&mut r, &h.snapshots);
                    let k = key(&mut r);
                    match r.u8() % 3 {
                        0 => get_with(&mut r, |vo, lo| ldb_snapshot_get(s, k.ptr, k.len, vo, lo)),
                        1 => pinned_with(&mut r, &mut h, |po| {
                            ldb_snapshot_get_pinned(s, k.ptr, k.len, po)
                        }),
                        _ => {
                            std::hint::black_box(ldb_snapshot_sequence(s));
                        }
                    }
                }
                29 => {
                    if let Some(s) = remove(&mut r, &mut h.snapshots) {
                        ldb_snapshot_free(s);
                    } else {
                        ldb_snapshot_free(std::ptr::null_mut());
                    }
                }
                30 => {
                    if h.txns.len() < MAX_LIVE {
                        let db = pick(&mut r, &h.dbs);
                        let iso = [LDB_ISOLATION_SNAPSHOT, LDB_ISOLATION_SERIALIZABLE, 2, -1]
                            [(r.u8() % 4) as usize];
                        let ro = r.u8() % 4 == 0;
                        let d = durability(&mut r);
                        let mut t = sentinel();
                        if r.u8() == 0xff {
                            st(ldb_txn_begin(db, iso, ro, d, std::ptr::null_mut()));
                        } else if st(ldb_txn_begin(db, iso, ro, d, &mut t)) {
                            h.txns.push(t);
                        } else {
                            assert!(t == sentinel());
                        }
                    }
                }
                31 => {
                    let t = pick(&mut r, &h.txns);
                    let k = key(&mut r);
                    match r.u8() % 4 {
                        0 => get_with(&mut r, |vo, lo| ldb_txn_get(t, k.ptr, k.len, vo, lo)),
                        1 => pinned_with(&mut r, &mut h, |po| {
                            ldb_txn_get_pinned(t, k.ptr, k.len, po)
                        }),
                        2 => {
                            let v = value(&mut r);
                            st(ldb_txn_put(t, k.ptr, k.len, v.ptr, v.len));
                        }
                        _ => {
                            st(ldb_txn_delete(t, k.ptr, k.len));
                        }
                    }
                }
                32 => {
                    st(ldb_txn_commit(pick(&mut r, &h.txns)));
                }
                33 => {
                    st(ldb_txn_rollback(pick(&mut r, &h.txns)));
                }
                34 => {
                    if let Some(t) = remove(&mut r, &mut h.txns) {
                        ldb_txn_free(t);
                    } else {
                        ldb_txn_free(std::ptr::null_mut());
                    }
                }
                35 => {
                    let p = pick(&mut r, &h.pinned);
                    let mut len = 0usize;
                    let lp = if r.u8() % 2 == 0 {
                        std::ptr::null_mut()
                    } else {
                        &mut len as *mut _
                    };
                    let data = ldb_pinned_data(p, lp);
                    if p.is_null() {
                        assert!(data.is_null() && len == 0);
                    } else {
                        assert!(!data.is_null(), "a pinned value without data");
                        touch(data, len);
                    }
                }
                36 => {
                    if let Some(p) = remove(&mut r, &mut h.pinned) {
                        ldb_pinned_free(p);
                    } else {
                        ldb_pinned_free(std::ptr::null_mut());
                    }
                }
                37 => {
                    let code = match r.u8() % 3 {
                        0 => i32::from(r.u8() % 16),
                        1 => r.u32() as i32,
                        _ => -1,
                    };
                    let name = std::ffi::CStr::from_ptr(ldb_status_name(code));
                    assert!(!name.to_bytes().is_empty());
                    let _ = last_error();
                    assert_eq!(ldb_abi_version(), LDB_ABI_VERSION);
                    let v = std::ffi::CStr::from_ptr(ldb_version());
                    assert!(!v.to_bytes().is_empty());
                }
                38 => {
                    let o = pick(&mut r, &h.options);
                    // The environment holds no LIGHTNING_DB_* variable here: a no-op or an error.
                    st(ldb_options_apply_env(o));
                }
                _ => {
                    ldb_free(std::ptr::null_mut());
                    std::hint::black_box(ldb_batch_count(std::ptr::null()));
                    std::hint::black_box(ldb_iter_valid(std::ptr::null()));
                    std::hint::black_box(ldb_snapshot_sequence(std::ptr::null()));
                }
            }
        }
    }
    release(&mut h, r.u8());
    let _ = std::fs::remove_dir_all(dir);
}

/// A read that copies the value out (`ldb_get` and its kin): checks the out-parameters and frees
/// the copy.
fn get_with(r: &mut Reader<'_>, call: impl FnOnce(*mut *mut u8, *mut usize) -> ldb_status) {
    let mut vp: *mut u8 = sentinel();
    let mut vl = 7usize;
    let nulls = r.u8();
    let vpp = if nulls & 1 != 0 {
        std::ptr::null_mut()
    } else {
        &mut vp as *mut _
    };
    let vlp = if nulls & 2 != 0 {
        std::ptr::null_mut()
    } else {
        &mut vl as *mut _
    };
    if st(call(vpp, vlp)) {
        assert!(
            !vpp.is_null() && !vlp.is_null(),
            "OK with a NULL out-parameter"
        );
        if vp.is_null() {
            assert_eq!(vl, 0, "absent with a length");
        } else {
            take(vp, vl);
        }
    } else {
        assert!(vp == sentinel() && vl == 7, "a failed get set its outputs");
    }
}

/// A read that pins the value (`ldb_get_pinned` and its kin): keeps the handle.
fn pinned_with(
    r: &mut Reader<'_>,
    h: &mut Handles,
    call: impl FnOnce(*mut *mut ldb_pinned) -> ldb_status,
) {
    let mut p: *mut ldb_pinned = sentinel();
    let null = r.u8() == 0xff;
    let pp = if null {
        std::ptr::null_mut()
    } else {
        &mut p as *mut _
    };
    if st(call(pp)) {
        assert!(!null, "OK with a NULL out-parameter");
        if !p.is_null() {
            if h.pinned.len() < MAX_LIVE {
                h.pinned.push(p);
            } else {
                // SAFETY: a live handle from the call just made, freed once.
                unsafe { ldb_pinned_free(p) };
            }
        }
    } else {
        assert!(p == sentinel(), "a failed get_pinned set its output");
    }
}

/// Frees every live handle: databases first or last, as `order` says (any order is allowed).
fn release(h: &mut Handles, order: u8) {
    // SAFETY: every handle in `h` is live and is freed exactly once here.
    unsafe {
        if order % 2 == 0 {
            for db in h.dbs.drain(..) {
                if order % 4 == 0 {
                    st(ldb_close(db));
                }
                ldb_db_free(db);
            }
        }
        for p in h.pinned.drain(..) {
            ldb_pinned_free(p);
        }
        for it in h.iters.drain(..) {
            ldb_iter_free(it);
        }
        for t in h.txns.drain(..) {
            ldb_txn_free(t);
        }
        for s in h.snapshots.drain(..) {
            ldb_snapshot_free(s);
        }
        for b in h.batches.drain(..) {
            ldb_batch_free(b);
        }
        for o in h.options.drain(..) {
            ldb_options_free(o);
        }
        for db in h.dbs.drain(..) {
            ldb_db_free(db);
        }
    }
}
