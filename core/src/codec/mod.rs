//! Codecs for blocks on disk (DESIGN §3 "Codec"): compression, and the pieces of encryption at
//! rest. Each block records how it was written, so the policy may change between opens.
//!
//! `block.rs` (a block of a coded page file), `cipher.rs`, `kdf.rs` and `keys.rs` (encryption,
//! tested against the standard test vectors) are what the coded page file is built from; until
//! the engine writes that file (issue 15's next step) they are compiled for tests only.

#[cfg(test)]
mod block;
#[cfg(test)]
mod cipher;
mod compress;
#[cfg(test)]
mod kdf;
#[cfg(test)]
mod keys;

pub use compress::Compression;
pub(crate) use compress::{compress, decompress, Codec, DEFAULT_ZSTD_LEVEL, MAX_ZSTD_LEVEL};
