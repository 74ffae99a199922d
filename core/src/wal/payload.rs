//! A record's payload in a coded segment (WAL format version 3): one codec byte, then for a
//! compressed batch its length as a varint and the compressed bytes, else the batch itself
//! (docs/format.md §3.4). In an encrypted database the codec byte's high nibble names the
//! cipher, and what follows it is sealed (§3.5):
//!
//! ```text
//! 0   u8   codec: bits 0-3 compression, bits 4-7 cipher (1 AES-256-GCM, 2 ChaCha20-Poly1305)
//! 1   u32  key epoch
//! 5   [12] nonce
//! 17  ...  the rest of the plain payload (varint length and compressed batch, or the batch),
//!          encrypted with associated data "LDB wal" | database id | u64 segment |
//!          u64 record offset | u64 first sequence number | bytes 0..5
//! end [16] tag
//! ```

use crate::codec::{
    compress, decompress, BlockCipher, Codec, Compression, EpochKeys, KeyRing, NONCE_LEN, TAG_LEN,
};

/// Bytes an encrypted payload adds before its sealed part.
const SEALED_HEADER: usize = 1 + 4 + NONCE_LEN;

/// Where a record is: what an encrypted payload is bound to, so that a record moved, replayed
/// or taken from another database does not open.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordPlace {
    pub segment: u64,
    pub offset: u64,
    pub first_seq: u64,
}

impl RecordPlace {
    fn aad(&self, database_id: &[u8; 16], head: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(7 + 16 + 24 + 5);
        aad.extend_from_slice(b"LDB wal");
        aad.extend_from_slice(database_id);
        aad.extend_from_slice(&self.segment.to_le_bytes());
        aad.extend_from_slice(&self.offset.to_le_bytes());
        aad.extend_from_slice(&self.first_seq.to_le_bytes());
        aad.extend_from_slice(&head[..5]);
        aad
    }
}

/// A coded payload (`stored`, as [`encode_payload`] made it) sealed for `place` under the current
/// epoch key of `keys`.
pub(crate) fn seal_payload(
    keys: &KeyRing,
    place: RecordPlace,
    stored: &[u8],
) -> std::io::Result<Vec<u8>> {
    let sealer = keys.sealer()?;
    let nonce = crate::codec::random_nonce()?;
    let mut out = Vec::with_capacity(SEALED_HEADER + stored.len() + TAG_LEN);
    out.push(stored[0] | sealer.kind.id() << 4);
    out.extend_from_slice(&sealer.epoch.to_le_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&stored[1..]);
    let aad = place.aad(keys.database_id(), &out);
    let tag = sealer.cipher.seal(&nonce, &aad, &mut out[SEALED_HEADER..]);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// The plain coded payload of a record, opened if it is sealed: `None` when it is not (then it
/// must not be, in a database without keys).
pub(crate) fn open_payload(
    keys: Option<&KeyRing>,
    place: RecordPlace,
    stored: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    let (&codec, _) = stored
        .split_first()
        .ok_or("empty payload in a coded segment")?;
    let cipher_id = codec >> 4;
    let Some(keys) = keys else {
        if cipher_id != 0 {
            return Err("an encrypted record in a database without keys".into());
        }
        return Ok(None);
    };
    if cipher_id == 0 {
        return Err("a record in the clear in an encrypted database".into());
    }
    if stored.len() < SEALED_HEADER + TAG_LEN {
        return Err("encrypted record shorter than its header and tag".into());
    }
    let kind = crate::codec::Encryption::from_id(cipher_id)
        .ok_or_else(|| format!("unknown cipher {cipher_id}"))?;
    let epoch = u32::from_le_bytes(stored[1..5].try_into().unwrap());
    let cipher: std::sync::Arc<BlockCipher> = keys
        .cipher(kind, epoch)
        .ok_or_else(|| format!("a record of {}, not this database's cipher", kind.name()))?;
    let nonce: [u8; NONCE_LEN] = stored[5..SEALED_HEADER].try_into().unwrap();
    let body_end = stored.len() - TAG_LEN;
    let tag: [u8; TAG_LEN] = stored[body_end..].try_into().unwrap();
    let mut out = Vec::with_capacity(body_end - SEALED_HEADER + 1);
    out.push(codec & 0x0f);
    out.extend_from_slice(&stored[SEALED_HEADER..body_end]);
    let aad = place.aad(keys.database_id(), stored);
    cipher
        .open(&nonce, &aad, &mut out[1..], &tag)
        .map_err(|_| "record does not authenticate (changed, moved or from another database)")?;
    Ok(Some(out))
}

/// How the records of a segment are written: plain (version 2) or coded (version 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayloadCoding {
    /// Version 2: the payload is the batch.
    Plain,
    /// Version 3: the payload says how the batch was compressed.
    Coded {
        compression: Compression,
        level: u32,
    },
}

impl PayloadCoding {
    /// The coding the `compression` option asks for: plain unless something is compressed (or
    /// the database is `encrypted`: sealed payloads say so in their codec byte), so a database at
    /// the defaults writes what older versions read. Under `auto` records are compressed with
    /// LZ4: a writer waits for its record, which lives only until the next merge, so the time a
    /// second codec would take is not worth the space.
    pub fn for_options(compression: Compression, level: u32, encrypted: bool) -> PayloadCoding {
        match compression {
            Compression::None if !encrypted => PayloadCoding::Plain,
            Compression::Auto => PayloadCoding::Coded {
                compression: Compression::Lz4,
                level,
            },
            compression => PayloadCoding::Coded { compression, level },
        }
    }
}

/// A batch ready for the WAL: what the record stores, and the batch itself when that differs.
pub(crate) struct EncodedPayload {
    /// The record's payload.
    pub stored: Vec<u8>,
    /// The batch, if `stored` holds it compressed.
    batch: Option<Vec<u8>>,
    /// Where the batch starts in `stored` otherwise (after the codec byte, in a coded segment).
    batch_at: usize,
    /// How the batch was stored in a coded segment (`None` in a plain one).
    pub codec: Option<Codec>,
}

impl EncodedPayload {
    /// The encoded write batch (`batch.rs`), as the memtable takes it.
    pub fn batch(&self) -> &[u8] {
        self.batch
            .as_deref()
            .unwrap_or(&self.stored[self.batch_at..])
    }
}

/// Encodes a batch for a segment written with `coding`; `encode_batch` appends the batch's bytes
/// to the vector it is given.
pub(crate) fn encode_payload(
    coding: PayloadCoding,
    encoded_len: usize,
    encode_batch: impl FnOnce(&mut Vec<u8>),
) -> EncodedPayload {
    let PayloadCoding::Coded { compression, level } = coding else {
        let mut stored = Vec::with_capacity(encoded_len);
        encode_batch(&mut stored);
        return EncodedPayload {
            stored,
            batch: None,
            batch_at: 0,
            codec: None,
        };
    };
    let mut plain = Vec::with_capacity(encoded_len + 1);
    plain.push(Codec::Raw.id());
    encode_batch(&mut plain);
    let mut coded = Vec::new();
    let codec = compress(compression, level, &plain[1..], &mut coded);
    if codec == Codec::Raw {
        return EncodedPayload {
            stored: plain,
            batch: None,
            batch_at: 1,
            codec: Some(Codec::Raw),
        };
    }
    let mut stored = Vec::with_capacity(coded.len() + 11);
    stored.push(codec.id());
    put_varint(&mut stored, (plain.len() - 1) as u64);
    stored.extend_from_slice(&coded);
    plain.remove(0);
    EncodedPayload {
        stored,
        batch: Some(plain),
        batch_at: 0,
        codec: Some(codec),
    }
}

/// The batch in a coded segment's record payload: borrowed when stored plain, else decompressed
/// into `scratch`. `max_batch` bounds the length a payload may claim.
pub(crate) fn decode_payload<'a>(
    stored: &'a [u8],
    max_batch: u64,
    scratch: &'a mut Vec<u8>,
) -> Result<&'a [u8], String> {
    let (&id, rest) = stored
        .split_first()
        .ok_or("empty payload in a coded segment")?;
    let codec = Codec::from_id(id).ok_or_else(|| format!("unknown codec {id}"))?;
    if codec == Codec::Raw {
        return Ok(rest);
    }
    let (raw_len, used) = get_varint(rest).ok_or("malformed batch length")?;
    if raw_len > max_batch {
        return Err(format!("batch length {raw_len} over the limit"));
    }
    decompress(codec, &rest[used..], raw_len as usize, scratch)?;
    Ok(scratch)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A LEB128 varint and the bytes it took, written the shortest way (as format.md §2 asks).
fn get_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        let bits = u64::from(b & 0x7f);
        if i == 9 && b > 1 {
            return None;
        }
        v |= bits << (7 * i);
        if b & 0x80 == 0 {
            if i > 0 && b == 0 {
                return None;
            }
            return Some((v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coded(compression: Compression) -> PayloadCoding {
        PayloadCoding::Coded {
            compression,
            level: 3,
        }
    }

    #[test]
    fn auto_writes_wal_records_with_lz4() {
        assert_eq!(
            PayloadCoding::for_options(Compression::Auto, 3, false),
            coded(Compression::Lz4)
        );
        assert_eq!(
            PayloadCoding::for_options(Compression::None, 3, false),
            PayloadCoding::Plain
        );
        assert_eq!(
            PayloadCoding::for_options(Compression::None, 3, true),
            coded(Compression::None)
        );
        assert_eq!(
            PayloadCoding::for_options(Compression::Zstd, 3, false),
            coded(Compression::Zstd)
        );
    }

    #[test]
    fn plain_payloads_are_the_batch() {
        let p = encode_payload(PayloadCoding::Plain, 3, |v| v.extend_from_slice(b"abc"));
        assert_eq!(p.stored, b"abc");
        assert_eq!(p.batch(), b"abc");
    }

    #[test]
    fn coded_payloads_round_trip_compressed_or_not() {
        let batch = [vec![7u8; 300], b"tail".to_vec()].concat();
        for compression in [
            Compression::Lz4,
            Compression::Zstd,
            Compression::Snappy,
            Compression::Auto,
        ] {
            let p = encode_payload(coded(compression), batch.len(), |v| {
                v.extend_from_slice(&batch)
            });
            assert_ne!(p.stored[0], 0, "{compression:?}");
            assert!(p.stored.len() < 60, "{compression:?}: {}", p.stored.len());
            assert_eq!(p.batch(), batch);
            let mut scratch = Vec::new();
            assert_eq!(
                decode_payload(&p.stored, 1 << 20, &mut scratch).unwrap(),
                batch
            );
        }
        // Too short to shrink: stored behind a codec byte of 0.
        let p = encode_payload(coded(Compression::Lz4), 2, |v| v.extend_from_slice(b"hi"));
        assert_eq!(p.stored, b"\0hi");
        assert_eq!(p.batch(), b"hi");
        assert_eq!(
            decode_payload(&p.stored, 10, &mut Vec::new()).unwrap(),
            b"hi"
        );
    }

    #[test]
    fn malformed_coded_payloads_are_refused() {
        let batch = vec![1u8; 1000];
        let p = encode_payload(coded(Compression::Lz4), 1000, |v| {
            v.extend_from_slice(&batch)
        });
        let mut scratch = Vec::new();
        assert!(decode_payload(&[], 10, &mut scratch).is_err());
        assert!(decode_payload(&[9, 1, 2], 10, &mut scratch).is_err());
        assert!(decode_payload(&p.stored, 999, &mut scratch).is_err());
        let mut bad = p.stored.clone();
        bad[1] = 0x80; // the length's varint runs into the data
        assert!(decode_payload(&bad, 1 << 20, &mut scratch).is_err());
        assert!(get_varint(&[0x80, 0x00]).is_none());
        assert_eq!(get_varint(&[0xac, 0x02]), Some((300, 2)));
    }

    #[test]
    fn sealed_payloads_open_only_at_their_place_under_their_database_key() {
        use crate::codec::{Encryption, UserKey};
        let user = UserKey::Key(zeroize::Zeroizing::new([1; 32]));
        let keys = KeyRing::create(Encryption::Aes256Gcm, &user, [3; 16]).unwrap();
        let batch = [vec![7u8; 300], b"tail".to_vec()].concat();
        let p = encode_payload(coded(Compression::Lz4), batch.len(), |v| {
            v.extend_from_slice(&batch)
        });
        let place = RecordPlace {
            segment: 4,
            offset: 96,
            first_seq: 10,
        };
        let sealed = seal_payload(&keys, place, &p.stored).unwrap();
        assert_eq!(sealed[0] >> 4, Encryption::Aes256Gcm.id());
        let opened = open_payload(Some(&keys), place, &sealed).unwrap().unwrap();
        assert_eq!(opened, p.stored);
        for other in [
            RecordPlace {
                segment: 5,
                ..place
            },
            RecordPlace {
                offset: 104,
                ..place
            },
            RecordPlace {
                first_seq: 11,
                ..place
            },
        ] {
            assert!(
                open_payload(Some(&keys), other, &sealed).is_err(),
                "{other:?}"
            );
        }
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x10;
            assert!(open_payload(Some(&keys), place, &bad).is_err(), "byte {i}");
        }
        let other_db = KeyRing::create(Encryption::Aes256Gcm, &user, [4; 16]).unwrap();
        assert!(open_payload(Some(&other_db), place, &sealed).is_err());
        // A record in the clear where every record is sealed, and the other way round.
        assert!(open_payload(Some(&keys), place, &p.stored).is_err());
        assert!(open_payload(None, place, &sealed).is_err());
        assert_eq!(open_payload(None, place, &p.stored).unwrap(), None);
    }
}
