//! `--compression` and `--encryption`: what the engines that can compress or encrypt do. Lightning DB takes the policy as its
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

/// The `encryption` option values, in order. Only Lightning DB encrypts; the peers run in the
/// clear (none of them encrypts at rest).
pub const CIPHERS: [&str; 3] = ["none", "aes-256-gcm", "chacha20-poly1305"];

/// The key Lightning DB's databases are encrypted under in an encrypting run.
pub const BENCH_KEY: &str = "6c696768746e696e672d62656e63682d6b65792d6f662d33322d62797465732e";

static CIPHER: AtomicU8 = AtomicU8::new(0);

/// This run's cipher, by its option value.
pub fn cipher() -> &'static str {
    CIPHERS[usize::from(CIPHER.load(Ordering::Relaxed))]
}

/// Sets this run's cipher, once at start-up; `false` if `name` is not one.
pub fn set_cipher(name: &str) -> bool {
    match CIPHERS.iter().position(|&n| n == name) {
        Some(i) => {
            CIPHER.store(i as u8, Ordering::Relaxed);
            true
        }
        None => false,
    }
}
