//! Authenticated encryption of blocks: AES-256-GCM or ChaCha20-Poly1305, each block under a
//! random 96-bit nonce, with associated data that names where the block belongs.
//!
//! Why a nonce never repeats under one key: nonces are drawn from the operating system's random
//! source for every block, never from a counter that a crash, a copied file or a restored backup
//! could rewind; and no key encrypts more than [`MAX_BLOCKS_PER_KEY`] blocks (far below the 2^32
//! that NIST SP 800-38D §8.3 allows for random nonces), after which the data key moves to a new
//! epoch (`keyring.rs`).

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes256Gcm;
use chacha20poly1305::ChaCha20Poly1305;

/// Bytes of a nonce.
pub(crate) const NONCE_LEN: usize = 12;
/// Bytes of an authentication tag.
pub(crate) const TAG_LEN: usize = 16;
/// Bytes of a key.
pub(crate) const KEY_LEN: usize = 32;
/// Blocks one key may encrypt before its epoch ends: 2^31, half of what random 96-bit nonces
/// allow, so the chance of any nonce repeating stays below 2^-33.
pub(crate) const MAX_BLOCKS_PER_KEY: u64 = 1 << 31;

/// How blocks are encrypted: the `encryption` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encryption {
    /// Blocks are stored in the clear.
    #[default]
    None,
    /// AES-256 in Galois/Counter Mode: fastest where the CPU has AES instructions.
    Aes256Gcm,
    /// ChaCha20-Poly1305: fast everywhere, constant-time without AES instructions.
    ChaCha20Poly1305,
}

impl Encryption {
    /// Every cipher, by its option value.
    pub(crate) const NAMES: [(&'static str, Encryption); 3] = [
        ("none", Encryption::None),
        ("aes-256-gcm", Encryption::Aes256Gcm),
        ("chacha20-poly1305", Encryption::ChaCha20Poly1305),
    ];

    /// The option value naming this cipher.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(name, _)| *name)
            .expect("every cipher has a name")
    }

    /// The id stored with each block (0 = not encrypted).
    pub(crate) fn id(self) -> u8 {
        match self {
            Encryption::None => 0,
            Encryption::Aes256Gcm => 1,
            Encryption::ChaCha20Poly1305 => 2,
        }
    }

    pub(crate) fn from_id(id: u8) -> Option<Encryption> {
        match id {
            0 => Some(Encryption::None),
            1 => Some(Encryption::Aes256Gcm),
            2 => Some(Encryption::ChaCha20Poly1305),
            _ => None,
        }
    }
}

/// A keyed cipher. Its key schedule lives as long as it does; the key bytes it was made from
/// are the caller's to zeroize.
pub(crate) enum BlockCipher {
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
}

/// Why a block did not decrypt: the tag did not match (wrong key, or the block, its associated
/// data or its nonce changed).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TagMismatch;

impl BlockCipher {
    /// A cipher of kind `kind` keyed with `key`; `None` for [`Encryption::None`].
    pub fn new(kind: Encryption, key: &[u8; KEY_LEN]) -> Option<BlockCipher> {
        match kind {
            Encryption::None => None,
            Encryption::Aes256Gcm => {
                Some(BlockCipher::Aes256Gcm(Box::new(Aes256Gcm::new(key.into()))))
            }
            Encryption::ChaCha20Poly1305 => Some(BlockCipher::ChaCha20Poly1305(Box::new(
                ChaCha20Poly1305::new(key.into()),
            ))),
        }
    }

    /// Encrypts `data` in place under `nonce`, binding `aad`; returns the tag.
    pub fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8]) -> [u8; TAG_LEN] {
        let tag = match self {
            BlockCipher::Aes256Gcm(c) => c.encrypt_in_place_detached(nonce.into(), aad, data),
            BlockCipher::ChaCha20Poly1305(c) => {
                c.encrypt_in_place_detached(nonce.into(), aad, data)
            }
        };
        // Both ciphers fail only for inputs over 64 GiB, far beyond any block.
        tag.expect("a block is within the cipher's length limit")
            .into()
    }

    /// Decrypts `data` in place if `tag` matches it, `nonce` and `aad`; on a mismatch `data` is
    /// left as it was (encrypted).
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), TagMismatch> {
        let result = match self {
            BlockCipher::Aes256Gcm(c) => {
                c.decrypt_in_place_detached(nonce.into(), aad, data, tag.into())
            }
            BlockCipher::ChaCha20Poly1305(c) => {
                c.decrypt_in_place_detached(nonce.into(), aad, data, tag.into())
            }
        };
        result.map_err(|_| TagMismatch)
    }
}

/// Random bytes from the operating system, fetched a few kilobytes at a time per thread: a
/// system call for every block or WAL record sealed would cost a writer more than the sealing.
struct NoncePool {
    bytes: [u8; NONCE_POOL_BYTES],
    used: usize,
    /// The fork generation the bytes were fetched in: a forked child must not hand out the
    /// nonces its parent will (`fork.rs`).
    fork_generation: u64,
}

const NONCE_POOL_BYTES: usize = 4096 - 4096 % NONCE_LEN;

thread_local! {
    static NONCE_POOL: std::cell::RefCell<NoncePool> = const {
        std::cell::RefCell::new(NoncePool {
            bytes: [0; NONCE_POOL_BYTES],
            used: NONCE_POOL_BYTES,
            fork_generation: 0,
        })
    };
}

/// A fresh nonce: 96 bits from the operating system's random source, never used before (each
/// pooled byte is handed out once, and the pool is dropped in a forked child).
pub(crate) fn random_nonce() -> std::io::Result<[u8; NONCE_LEN]> {
    NONCE_POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let generation = crate::fork::generation();
        if pool.used == NONCE_POOL_BYTES || pool.fork_generation != generation {
            getrandom::fill(&mut pool.bytes).map_err(std::io::Error::other)?;
            pool.used = 0;
            pool.fork_generation = generation;
        }
        let at = pool.used;
        pool.used += NONCE_LEN;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&pool.bytes[at..at + NONCE_LEN]);
        // Handed out once: not left behind for anything else to read.
        pool.bytes[at..at + NONCE_LEN].fill(0);
        Ok(nonce)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [Encryption; 2] = [Encryption::Aes256Gcm, Encryption::ChaCha20Poly1305];

    #[test]
    fn sealed_data_opens_only_with_its_key_nonce_data_and_tag() {
        for kind in KINDS {
            let cipher = BlockCipher::new(kind, &[7; KEY_LEN]).unwrap();
            let nonce = random_nonce().unwrap();
            let plain = b"the quick brown fox".to_vec();
            let mut data = plain.clone();
            let tag = cipher.seal(&nonce, b"page 9", &mut data);
            assert_ne!(data, plain);

            let mut copy = data.clone();
            cipher.open(&nonce, b"page 9", &mut copy, &tag).unwrap();
            assert_eq!(copy, plain, "{kind:?}");

            // Another key, nonce, associated data, ciphertext byte or tag: refused, untouched.
            let other = BlockCipher::new(kind, &[8; KEY_LEN]).unwrap();
            let mut copy = data.clone();
            assert_eq!(
                other.open(&nonce, b"page 9", &mut copy, &tag),
                Err(TagMismatch)
            );
            assert_eq!(copy, data);
            let mut other_nonce = nonce;
            other_nonce[0] ^= 1;
            assert!(cipher
                .open(&other_nonce, b"page 9", &mut data.clone(), &tag)
                .is_err());
            assert!(cipher
                .open(&nonce, b"page 8", &mut data.clone(), &tag)
                .is_err());
            for i in 0..data.len() {
                let mut bad = data.clone();
                bad[i] ^= 0x80;
                assert!(cipher.open(&nonce, b"page 9", &mut bad, &tag).is_err());
            }
            let mut bad_tag = tag;
            bad_tag[15] ^= 1;
            assert!(cipher
                .open(&nonce, b"page 9", &mut data.clone(), &bad_tag)
                .is_err());
        }
    }

    /// Known-answer tests, so the ciphers are the standard ones a reader of docs/format.md
    /// reimplements (the `cryptography` package's AESGCM and ChaCha20Poly1305).
    #[test]
    fn the_ciphers_are_the_standard_ones() {
        // AES-256-GCM, all-zero key and nonce, empty plaintext: the tag is
        // 530f8afbc74536b9a963b4f1c4cb738b (the GCM specification's test case 13).
        let cipher = BlockCipher::new(Encryption::Aes256Gcm, &[0; KEY_LEN]).unwrap();
        let tag = cipher.seal(&[0; NONCE_LEN], &[], &mut []);
        assert_eq!(hex(&tag), "530f8afbc74536b9a963b4f1c4cb738b");
        // Test case 14: 16 zero bytes encrypt to cea7403d4d606b6e074ec5d3baf39d18.
        let mut data = [0u8; 16];
        let tag = cipher.seal(&[0; NONCE_LEN], &[], &mut data);
        assert_eq!(hex(&data), "cea7403d4d606b6e074ec5d3baf39d18");
        assert_eq!(hex(&tag), "d0d1c8a799996bf0265b98b5d48ab919");

        // ChaCha20-Poly1305 (RFC 8439 §2.8.2).
        let key: Vec<u8> = (0x80..0xa0).collect();
        let cipher =
            BlockCipher::new(Encryption::ChaCha20Poly1305, &key.try_into().unwrap()).unwrap();
        let nonce = [
            0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
        ];
        let aad = [
            0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
        ];
        let mut data = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".to_vec();
        let tag = cipher.seal(&nonce, &aad, &mut data);
        assert_eq!(hex(&data[..16]), "d31a8d34648e60db7b86afbc53ef7ec2");
        assert_eq!(hex(&tag), "1ae10b594f09e26a7e902ecbd0600691");
    }

    #[test]
    fn nonces_are_random_and_never_repeat_across_pool_refills() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3 * NONCE_POOL_BYTES / NONCE_LEN {
            let nonce = random_nonce().unwrap();
            assert_ne!(nonce, [0; NONCE_LEN]);
            assert!(seen.insert(nonce), "a nonce repeated");
        }
    }

    #[test]
    fn cipher_ids_and_names_round_trip() {
        for (name, kind) in Encryption::NAMES {
            assert_eq!(kind.name(), name);
            assert_eq!(Encryption::from_id(kind.id()), Some(kind));
        }
        assert_eq!(Encryption::from_id(3), None);
        assert!(BlockCipher::new(Encryption::None, &[0; KEY_LEN]).is_none());
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
