//! Fuzz target `c_abi`: the input is a sequence of C ABI calls (see
//! `ffi/tests/c_abi_fuzz/interp.rs`), run against a database in a directory under /dev/shm
//! (or the temporary directory) that this process reuses, emptied before each input.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

mod interp {
    include!("../../ffi/tests/c_abi_fuzz/interp.rs");
}

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        base.join(format!("lightning-fuzz-c_abi-{}", std::process::id()))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| interp::run(data, dir()));
