//! A block of a coded page file: a page (or an overflow value, or the free list) compressed, then
//! encrypted, behind a 32-byte header, checksummed and (when encrypted) authenticated together
//! with the database's id and the block's own address, so that a block read from anywhere else
//! than where it was written, or from another database, fails.
//!
//! ```text
//! 0   u32  masked CRC-32C of: database id (16) | address (u64) | block bytes 4..stored_len
//! 4   u8   codec: bits 0-3 compression (0 raw, 1 LZ4, 2 Zstandard, 3 Snappy),
//!               bits 4-7 cipher (0 none, 1 AES-256-GCM, 2 ChaCha20-Poly1305)
//! 5   [3]  zero
//! 8   u32  stored_len: bytes of the block, this header and the tag included (not the padding)
//! 12  u32  raw_len: bytes once decoded
//! 16  u32  key epoch (0 when not encrypted)
//! 20  [12] nonce (zero when not encrypted)
//! 32  ...  body: the compressed bytes, encrypted under the epoch's key with associated data
//!          "LDB block" | database id | address | header bytes 4..32
//! end [16] tag (encrypted blocks only)
//! ```
//!
//! The block's *check*, which its parent records, is the tag's first 8 bytes for an encrypted
//! block and the CRC for a plain one: a block written back where a newer one belongs has another.

use std::sync::Arc;

use super::cipher::{random_nonce, BlockCipher, Encryption, NONCE_LEN, TAG_LEN};
use super::compress::{compress, decompress, Codec, Compression};

/// Bytes of a block's header.
pub(crate) const BLOCK_HEADER_SIZE: usize = 32;

/// What the reader of a block must match: the database it belongs to and its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub database_id: [u8; 16],
    pub address: u64,
}

impl Identity {
    fn aad(&self, header: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(9 + 16 + 8 + 28);
        aad.extend_from_slice(b"LDB block");
        aad.extend_from_slice(&self.database_id);
        aad.extend_from_slice(&self.address.to_le_bytes());
        aad.extend_from_slice(&header[4..BLOCK_HEADER_SIZE]);
        aad
    }

    fn crc(&self, block: &[u8]) -> u32 {
        let crc = crc32c::crc32c(&self.database_id);
        let crc = crc32c::crc32c_append(crc, &self.address.to_le_bytes());
        crate::checksum::mask(crc32c::crc32c_append(crc, &block[4..]))
    }
}

/// An encryption key of one epoch, ready to seal blocks.
pub(crate) struct EpochCipher {
    pub kind: Encryption,
    pub epoch: u32,
    pub cipher: BlockCipher,
}

/// A block compressed but not yet placed: its length is known, so its address can be chosen.
pub(crate) struct Prepared {
    /// Header (its CRC, nonce and tag still to come), body.
    bytes: Vec<u8>,
    encrypted: bool,
    /// How the body was compressed, and from how many bytes.
    pub codec: Codec,
    pub raw_len: usize,
}

impl Prepared {
    /// `raw` compressed under `compression`, to be encrypted under `cipher` if given.
    pub fn new(
        compression: Compression,
        level: u32,
        raw: &[u8],
        cipher: Option<&EpochCipher>,
    ) -> Prepared {
        let mut coded = Vec::new();
        let codec = compress(compression, level, raw, &mut coded);
        let body: &[u8] = if codec == Codec::Raw { raw } else { &coded };
        let tag_len = if cipher.is_some() { TAG_LEN } else { 0 };
        let stored_len = BLOCK_HEADER_SIZE + body.len() + tag_len;
        let mut bytes = Vec::with_capacity(stored_len);
        bytes.extend_from_slice(&[0; 4]);
        bytes.push(codec.id() | cipher.map_or(0, |c| c.kind.id() << 4));
        bytes.extend_from_slice(&[0; 3]);
        bytes.extend_from_slice(&(stored_len as u32).to_le_bytes());
        bytes.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&cipher.map_or(0, |c| c.epoch).to_le_bytes());
        bytes.extend_from_slice(&[0; NONCE_LEN]);
        bytes.extend_from_slice(body);
        Prepared {
            bytes,
            encrypted: cipher.is_some(),
            codec,
            raw_len: raw.len(),
        }
    }

    /// Bytes a block of `raw_len` bytes stored uncompressed takes, header and tag included.
    pub fn uncompressed_len(raw_len: usize, encrypted: bool) -> usize {
        BLOCK_HEADER_SIZE + raw_len + if encrypted { TAG_LEN } else { 0 }
    }

    /// Bytes the block takes, header and tag included.
    pub fn stored_len(&self) -> usize {
        self.bytes.len() + if self.encrypted { TAG_LEN } else { 0 }
    }

    /// The block, sealed for `identity` (its address now chosen), and its check. `cipher` must
    /// be the one given to [`Prepared::new`].
    pub fn seal(
        mut self,
        identity: &Identity,
        cipher: Option<&EpochCipher>,
    ) -> std::io::Result<(Vec<u8>, u64)> {
        let check = match cipher {
            Some(c) => {
                let nonce = random_nonce()?;
                self.bytes[20..32].copy_from_slice(&nonce);
                let aad = identity.aad(&self.bytes[..BLOCK_HEADER_SIZE]);
                let tag = c
                    .cipher
                    .seal(&nonce, &aad, &mut self.bytes[BLOCK_HEADER_SIZE..]);
                self.bytes.extend_from_slice(&tag);
                u64::from_le_bytes(tag[..8].try_into().expect("8 bytes"))
            }
            None => 0,
        };
        let crc = identity.crc(&self.bytes);
        self.bytes[..4].copy_from_slice(&crc.to_le_bytes());
        let check = if cipher.is_some() {
            check
        } else {
            u64::from(crc)
        };
        Ok((self.bytes, check))
    }
}

/// Finds the key of a block's epoch, for reading.
pub(crate) trait EpochKeys {
    fn cipher(&self, kind: Encryption, epoch: u32) -> Option<Arc<BlockCipher>>;
    /// Whether the database is encrypted: then every block must be.
    fn encrypted(&self) -> bool;
}

/// No keys: a database that is not encrypted.
pub(crate) struct NoKeys;

impl EpochKeys for NoKeys {
    fn cipher(&self, _: Encryption, _: u32) -> Option<Arc<BlockCipher>> {
        None
    }

    fn encrypted(&self) -> bool {
        false
    }
}

/// The bytes of the block in `stored` (read from its extent, padding included) if it is the block
/// written at `identity` whose check is `check` (`None`: not known, as for a block read by
/// address alone); else what is wrong with it.
pub(crate) fn open_block(
    stored: &mut [u8],
    identity: &Identity,
    check: Option<u64>,
    keys: &dyn EpochKeys,
    max_raw_len: usize,
) -> Result<Vec<u8>, String> {
    if stored.len() < BLOCK_HEADER_SIZE {
        return Err("block shorter than its header".into());
    }
    let stored_len = u32::from_le_bytes(stored[8..12].try_into().unwrap()) as usize;
    if stored_len < BLOCK_HEADER_SIZE || stored_len > stored.len() {
        return Err(format!("block length {stored_len} does not fit its extent"));
    }
    let block = &mut stored[..stored_len];
    let crc = u32::from_le_bytes(block[..4].try_into().unwrap());
    if crc != identity.crc(block) {
        return Err("block checksum mismatch (damaged, or not the block written here)".into());
    }
    let codec_byte = block[4];
    let codec = super::compress::Codec::from_id(codec_byte & 0x0f)
        .ok_or_else(|| format!("unknown compression {}", codec_byte & 0x0f))?;
    let kind = Encryption::from_id(codec_byte >> 4)
        .ok_or_else(|| format!("unknown cipher {}", codec_byte >> 4))?;
    // First whether it is the block the parent names: a block valid in itself but written
    // for another tree (an older copy) says nothing else worth checking.
    let body_end = match kind {
        Encryption::None => stored_len,
        _ => stored_len
            .checked_sub(TAG_LEN)
            .filter(|&end| end >= BLOCK_HEADER_SIZE)
            .ok_or("encrypted block shorter than its tag")?,
    };
    let own_check = match kind {
        Encryption::None => u64::from(crc),
        _ => u64::from_le_bytes(block[body_end..body_end + 8].try_into().unwrap()),
    };
    if check.is_some_and(|c| c != own_check) {
        return Err("block is not the one its parent names (an older copy?)".into());
    }
    if block[5..8] != [0; 3] {
        return Err("reserved block header bytes are not zero".into());
    }
    if keys.encrypted() && kind == Encryption::None {
        // Else anyone could put a block of their own, in the clear, into an encrypted file.
        return Err("a block in the clear in an encrypted database".into());
    }
    let raw_len = u32::from_le_bytes(block[12..16].try_into().unwrap()) as usize;
    if raw_len > max_raw_len {
        return Err(format!("block claims {raw_len} bytes, over {max_raw_len}"));
    }
    let epoch = u32::from_le_bytes(block[16..20].try_into().unwrap());
    let body_end = match kind {
        Encryption::None => body_end,
        _ => {
            let tag: [u8; TAG_LEN] = block[body_end..].try_into().unwrap();
            let cipher = keys
                .cipher(kind, epoch)
                .ok_or_else(|| format!("no key for a block of {} epoch {epoch}", kind.name()))?;
            let nonce: [u8; NONCE_LEN] = block[20..32].try_into().unwrap();
            let aad = identity.aad(&block[..BLOCK_HEADER_SIZE]);
            cipher
                .open(&nonce, &aad, &mut block[BLOCK_HEADER_SIZE..body_end], &tag)
                .map_err(|_| {
                    "block does not authenticate (changed, moved or from another database)"
                        .to_string()
                })?;
            body_end
        }
    };
    let mut out = Vec::new();
    decompress(
        codec,
        &block[BLOCK_HEADER_SIZE..body_end],
        raw_len,
        &mut out,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::cipher::KEY_LEN;
    use super::*;

    struct OneKey(EpochCipher, Arc<BlockCipher>);

    impl EpochKeys for OneKey {
        fn cipher(&self, kind: Encryption, epoch: u32) -> Option<Arc<BlockCipher>> {
            (kind == self.0.kind && epoch == self.0.epoch).then(|| self.1.clone())
        }

        fn encrypted(&self) -> bool {
            true
        }
    }

    fn one_key(kind: Encryption, key: u8) -> OneKey {
        OneKey(
            epoch_cipher(kind, key),
            Arc::new(BlockCipher::new(kind, &[key; KEY_LEN]).unwrap()),
        )
    }

    fn epoch_cipher(kind: Encryption, key: u8) -> EpochCipher {
        EpochCipher {
            kind,
            epoch: 3,
            cipher: BlockCipher::new(kind, &[key; KEY_LEN]).unwrap(),
        }
    }

    fn page() -> Vec<u8> {
        let mut p = vec![0u8; 4096];
        for (i, b) in p.iter_mut().enumerate().take(2000) {
            *b = (i * 7 % 251) as u8;
        }
        p
    }

    const HERE: Identity = Identity {
        database_id: [5; 16],
        address: 0x1234_0000_0003,
    };

    fn write(
        compression: Compression,
        cipher: Option<&EpochCipher>,
        identity: &Identity,
    ) -> (Vec<u8>, u64) {
        let prepared = Prepared::new(compression, 3, &page(), cipher);
        let len = prepared.stored_len();
        let (mut block, check) = prepared.seal(identity, cipher).unwrap();
        assert_eq!(block.len(), len);
        block.resize(len.div_ceil(256) * 256, 0); // the sector padding
        (block, check)
    }

    #[test]
    fn blocks_round_trip_under_every_codec_and_cipher() {
        for compression in [
            Compression::None,
            Compression::Lz4,
            Compression::Zstd,
            Compression::Auto,
        ] {
            for kind in [
                Encryption::None,
                Encryption::Aes256Gcm,
                Encryption::ChaCha20Poly1305,
            ] {
                let cipher = (kind != Encryption::None).then(|| epoch_cipher(kind, 1));
                let (mut block, check) = write(compression, cipher.as_ref(), &HERE);
                if compression != Compression::None {
                    assert!(block.len() < 4096, "{compression:?}: {}", block.len());
                }
                let got = match &cipher {
                    Some(c) => {
                        let keys = one_key(c.kind, 1);
                        open_block(&mut block, &HERE, Some(check), &keys, 4096)
                    }
                    None => open_block(&mut block, &HERE, Some(check), &NoKeys, 4096),
                };
                assert_eq!(got.unwrap(), page(), "{compression:?} {kind:?}");
            }
        }
    }

    #[test]
    fn every_flipped_byte_of_an_encrypted_block_fails() {
        for kind in [Encryption::Aes256Gcm, Encryption::ChaCha20Poly1305] {
            let cipher = epoch_cipher(kind, 1);
            let keys = one_key(kind, 1);
            let (block, check) = write(Compression::Lz4, Some(&cipher), &HERE);
            let stored_len = u32::from_le_bytes(block[8..12].try_into().unwrap()) as usize;
            for i in 0..stored_len {
                let mut bad = block.clone();
                bad[i] ^= 0x01;
                assert!(
                    open_block(&mut bad, &HERE, Some(check), &keys, 4096).is_err(),
                    "{kind:?}: byte {i} flipped went unnoticed"
                );
            }
        }
    }

    #[test]
    fn a_block_moved_copied_or_replayed_fails() {
        let cipher = epoch_cipher(Encryption::Aes256Gcm, 1);
        let keys = one_key(Encryption::Aes256Gcm, 1);
        let (block, check) = write(Compression::Zstd, Some(&cipher), &HERE);
        // Moved: read at another address.
        let elsewhere = Identity {
            address: HERE.address + (1 << 24),
            ..HERE
        };
        assert!(open_block(&mut block.clone(), &elsewhere, None, &keys, 4096).is_err());
        // Another database's block, even under the same key: its id differs.
        let other_db = Identity {
            database_id: [6; 16],
            ..HERE
        };
        assert!(open_block(&mut block.clone(), &other_db, None, &keys, 4096).is_err());
        // An older block written at the same address: valid on its own, but not what the parent
        // names.
        let (older, _) = write(Compression::Zstd, Some(&cipher), &HERE);
        assert!(open_block(&mut older.clone(), &HERE, None, &keys, 4096).is_ok());
        let err = open_block(&mut older.clone(), &HERE, Some(check), &keys, 4096).unwrap_err();
        assert!(err.contains("not the one its parent names"), "{err}");
        // The same holds for plain blocks through their CRC.
        let (plain, plain_check) = write(Compression::Lz4, None, &HERE);
        assert!(open_block(&mut plain.clone(), &elsewhere, None, &NoKeys, 4096).is_err());
        assert!(open_block(
            &mut plain.clone(),
            &HERE,
            Some(plain_check ^ 1),
            &NoKeys,
            4096
        )
        .is_err());
        // A wrong key fails to authenticate.
        let wrong = one_key(Encryption::Aes256Gcm, 2);
        assert!(open_block(&mut block.clone(), &HERE, Some(check), &wrong, 4096).is_err());
    }

    #[test]
    fn nonces_differ_between_two_writes_of_the_same_page() {
        let cipher = epoch_cipher(Encryption::ChaCha20Poly1305, 1);
        let (a, check_a) = write(Compression::None, Some(&cipher), &HERE);
        let (b, check_b) = write(Compression::None, Some(&cipher), &HERE);
        assert_ne!(a[20..32], b[20..32]);
        assert_ne!(check_a, check_b);
    }

    #[test]
    fn bad_lengths_are_refused() {
        let (block, _) = write(Compression::Lz4, None, &HERE);
        assert!(open_block(&mut block[..16].to_vec(), &HERE, None, &NoKeys, 4096).is_err());
        assert!(open_block(&mut block.clone(), &HERE, None, &NoKeys, 100).is_err());
    }
}
