//! Codecs for blocks on disk (DESIGN §3 "Codec"): compression, and encryption at rest. Each block
//! records how it was written, so the policy may change between opens.
//!
//! `kdf.rs` derives a key from a passphrase, `keys.rs` wraps the random data key under it and
//! derives the keys made from the data key, `keyring.rs` holds an open database's keys and its
//! meta pages' key section, and `block.rs` compresses and seals one block.

mod block;
mod cipher;
mod compress;
mod counters;
mod kdf;
mod keyring;
mod keys;

pub(crate) use block::{open_block, EpochCipher, EpochKeys, Identity, NoKeys, Prepared};
pub use cipher::Encryption;
pub(crate) use cipher::{random_nonce, BlockCipher, NONCE_LEN, TAG_LEN};
pub use compress::Compression;
pub(crate) use compress::{compress, decompress, Codec, DEFAULT_ZSTD_LEVEL, MAX_ZSTD_LEVEL};
pub(crate) use counters::CodecCounters;
pub use kdf::Kdf;
pub(crate) use kdf::{KdfParams, ARGON2_DEFAULT_MEMORY_KIB, ARGON2_MIN_MEMORY_KIB};
pub(crate) use keyring::{KeyHeader, KeyRing, UnlockError, UserKey};
pub(crate) use keys::parse_hex_key;
