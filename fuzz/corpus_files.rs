//! The committed inputs of a fuzz target, for the tests that replay them on stable
//! (`core/tests/fuzz_corpus.rs` and `ffi/tests/fuzz_corpus.rs` include this file by path).

use std::path::{Path, PathBuf};

/// This directory, `fuzz/`, seen from the including crate (`core/` or `ffi/`, its siblings).
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Every file of `corpus/<target>` and `regressions/<target>`, sorted.
pub fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) {
            for e in entries {
                let path = e.unwrap().path();
                if path.is_file() {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files
}
