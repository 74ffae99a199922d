//! `--compression`: what the engines that can compress do. Lightning DB takes the policy as its
//! `compression` option (a database created compressed keeps its pages in compressed blocks);
//! fjall, given any policy but `none`, compresses its data blocks with LZ4 at every level (its
//! default compresses only from level 2 on). LMDB and redb cannot compress.

use std::sync::atomic::{AtomicU8, Ordering};

/// The `compression` option values, in order.
pub const NAMES: [&str; 5] = ["none", "lz4", "zstd", "snappy", "auto"];

static POLICY: AtomicU8 = AtomicU8::new(0);

/// This run's policy, by its option value.
pub fn policy() -> &'static str {
    NAMES[usize::from(POLICY.load(Ordering::Relaxed))]
}

/// Whether anything is compressed in this run.
pub fn enabled() -> bool {
    policy() != "none"
}

/// Sets this run's policy, once at start-up; `false` if `name` is not one.
pub fn set(name: &str) -> bool {
    match NAMES.iter().position(|&n| n == name) {
        Some(i) => {
            POLICY.store(i as u8, Ordering::Relaxed);
            true
        }
        None => false,
    }
}
