//! Codecs for blocks on disk (DESIGN §3 "Codec"): compression, and encryption at rest. Each block
//! records how it was written, so the policy may change between opens.
//!
//! `kdf.rs` and `keys.rs` (passphrases, wrapped data keys, epoch keys; tested against the standard
//! vectors) are compiled for tests until the engine encrypts (issue 15's next step).

mod block;
mod cipher;
mod compress;
mod counters;
#[cfg(test)]
mod kdf;
#[cfg(test)]
mod keys;

pub(crate) use block::{open_block, Identity, NoKeys, Prepared};
pub use compress::Compression;
pub(crate) use compress::{compress, decompress, Codec, DEFAULT_ZSTD_LEVEL, MAX_ZSTD_LEVEL};
pub(crate) use counters::CodecCounters;
