//! The database's keys. Data is encrypted under a random 256-bit data key, never under what the
//! user gives: the `encryption_key` option or the key derived from the passphrase is a
//! key-encryption key that wraps the data key. Blocks are encrypted under epoch keys derived from
//! the data key (HKDF-SHA256), so that no key encrypts more than `MAX_BLOCKS_PER_KEY` blocks.

use hkdf::Hkdf;
use zeroize::Zeroizing;

use super::cipher::{
    random_nonce, BlockCipher, Encryption, TagMismatch, KEY_LEN, NONCE_LEN, TAG_LEN,
};

/// A key the database holds in memory, zeroized when dropped.
pub(crate) type Key = Zeroizing<[u8; KEY_LEN]>;

/// A data key as the file stores it: encrypted under the key-encryption key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WrappedKey {
    pub nonce: [u8; NONCE_LEN],
    pub ciphertext: [u8; KEY_LEN],
    pub tag: [u8; TAG_LEN],
}

/// Bytes of a wrapped key in the file: nonce, ciphertext, tag.
pub(crate) const WRAPPED_KEY_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

impl WrappedKey {
    pub fn to_bytes(self) -> [u8; WRAPPED_KEY_LEN] {
        let mut out = [0u8; WRAPPED_KEY_LEN];
        out[..NONCE_LEN].copy_from_slice(&self.nonce);
        out[NONCE_LEN..NONCE_LEN + KEY_LEN].copy_from_slice(&self.ciphertext);
        out[NONCE_LEN + KEY_LEN..].copy_from_slice(&self.tag);
        out
    }

    pub fn from_bytes(bytes: &[u8; WRAPPED_KEY_LEN]) -> WrappedKey {
        WrappedKey {
            nonce: bytes[..NONCE_LEN].try_into().expect("nonce"),
            ciphertext: bytes[NONCE_LEN..NONCE_LEN + KEY_LEN]
                .try_into()
                .expect("key"),
            tag: bytes[NONCE_LEN + KEY_LEN..].try_into().expect("tag"),
        }
    }
}

/// A fresh random key.
pub(crate) fn random_key() -> std::io::Result<Key> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    getrandom::fill(&mut *key).map_err(std::io::Error::other)?;
    Ok(key)
}

/// `data_key` wrapped under `kek` with `cipher`, bound to `aad` (the database's identity and the
/// key header's other fields, so a wrapped key moved to another file or header does not open).
pub(crate) fn wrap(
    cipher: Encryption,
    kek: &[u8; KEY_LEN],
    data_key: &[u8; KEY_LEN],
    aad: &[u8],
) -> std::io::Result<WrappedKey> {
    let sealer = BlockCipher::new(cipher, kek).ok_or_else(|| std::io::Error::other("no cipher"))?;
    let nonce = random_nonce()?;
    let mut ciphertext = *data_key;
    let tag = sealer.seal(&nonce, aad, &mut ciphertext);
    Ok(WrappedKey {
        nonce,
        ciphertext,
        tag,
    })
}

/// The data key in `wrapped`, if `kek` is the key it was wrapped under (and nothing changed).
pub(crate) fn unwrap(
    cipher: Encryption,
    kek: &[u8; KEY_LEN],
    wrapped: &WrappedKey,
    aad: &[u8],
) -> Result<Key, TagMismatch> {
    let opener = BlockCipher::new(cipher, kek).ok_or(TagMismatch)?;
    let mut key = Zeroizing::new(wrapped.ciphertext);
    opener.open(&wrapped.nonce, aad, &mut *key, &wrapped.tag)?;
    Ok(key)
}

/// A key derived from the data key for one use: HKDF-SHA256 with the database id as salt and
/// `info` naming the use (`"lightning-db epoch" || u32 epoch (little-endian)` for an epoch key,
/// `"lightning-db meta"` for the meta pages' key).
pub(crate) fn derive_key(data_key: &[u8; KEY_LEN], database_id: &[u8; 16], info: &[u8]) -> Key {
    let hkdf = Hkdf::<sha2::Sha256>::new(Some(database_id), data_key);
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    hkdf.expand(info, &mut *key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

/// The 64 hex digits of the `encryption_key` option as a key; `None` if they are not exactly
/// that.
pub(crate) fn parse_hex_key(text: &str) -> Option<Key> {
    let text = text.trim().as_bytes();
    if text.len() != 2 * KEY_LEN {
        return None;
    }
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    for (i, pair) in text.chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        key[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_only_under_its_kek_and_header() {
        for cipher in [Encryption::Aes256Gcm, Encryption::ChaCha20Poly1305] {
            let data_key = random_key().unwrap();
            let kek = random_key().unwrap();
            let wrapped = wrap(cipher, &kek, &data_key, b"db-1").unwrap();
            assert_ne!(wrapped.ciphertext, *data_key);
            let back = WrappedKey::from_bytes(&wrapped.to_bytes());
            assert_eq!(back, wrapped);
            assert_eq!(*unwrap(cipher, &kek, &back, b"db-1").unwrap(), *data_key);
            let other = random_key().unwrap();
            assert_eq!(
                unwrap(cipher, &other, &back, b"db-1").unwrap_err(),
                TagMismatch
            );
            assert!(unwrap(cipher, &kek, &back, b"db-2").is_err());
            assert!(unwrap(Encryption::None, &kek, &back, b"db-1").is_err());
            // Rewrapping under a new KEK (what a rekey does) keeps the data key.
            let rewrapped = wrap(cipher, &other, &data_key, b"db-1").unwrap();
            assert_eq!(
                *unwrap(cipher, &other, &rewrapped, b"db-1").unwrap(),
                *data_key
            );
        }
    }

    #[test]
    fn derived_keys_differ_by_use_database_and_data_key() {
        let k = [1; KEY_LEN];
        let a = derive_key(&k, &[0; 16], b"use 0");
        assert_eq!(*a, *derive_key(&k, &[0; 16], b"use 0"));
        assert_ne!(*a, *derive_key(&k, &[0; 16], b"use 1"));
        assert_ne!(*a, *derive_key(&k, &[1; 16], b"use 0"));
        assert_ne!(*a, *derive_key(&[2; KEY_LEN], &[0; 16], b"use 0"));
    }

    #[test]
    fn hex_keys_are_exactly_64_hex_digits() {
        let text = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let key = parse_hex_key(text).unwrap();
        assert_eq!(key[0], 0x00);
        assert_eq!(key[1], 0x11);
        assert_eq!(key[31], 0xff);
        assert!(parse_hex_key(&text[1..]).is_none());
        assert!(parse_hex_key(&format!("{text}0")).is_none());
        assert!(parse_hex_key(&text.replace('a', "g")).is_none());
        assert!(parse_hex_key("").is_none());
    }
}
