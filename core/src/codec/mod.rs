//! Codecs for blocks on disk (DESIGN §3 "Codec"): compression, and the pieces of encryption at
//! rest. Each block records how it was written, so the policy may change between opens.
//!
//! `cipher.rs`, `kdf.rs` and `keys.rs` are the encryption primitives, tested here against the
//! standard test vectors; the page file's coded format (issue 15's next step) is what uses them,
//! so until then they are compiled for tests only.

#[cfg(test)]
mod cipher;
mod compress;
#[cfg(test)]
mod kdf;
#[cfg(test)]
mod keys;

pub use compress::Compression;
pub(crate) use compress::{compress, decompress, Codec, DEFAULT_ZSTD_LEVEL, MAX_ZSTD_LEVEL};
