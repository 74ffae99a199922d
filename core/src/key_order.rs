//! Key order, for the tree and the memtable alike: byte-wise comparison with a fast path, and a
//! key's head — its first eight bytes as an integer — which both keep beside a key so that most
//! comparisons need not read the key itself; and the key hash both use to find a key without
//! comparing (the memtable's Bloom filter and index, the tree's leaf hints).

use std::cmp::Ordering;

/// Orders two keys bytewise, exactly like `a.cmp(b)`.
#[inline]
pub(crate) fn compare_keys(a: &[u8], b: &[u8]) -> Ordering {
    if let (Some(x), Some(y)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        let (x, y) = (u64::from_be_bytes(*x), u64::from_be_bytes(*y));
        if x != y {
            return x.cmp(&y);
        }
    }
    a.cmp(b)
}

/// The head of `key`: its first eight bytes, zero-padded, as a big-endian integer. Two keys whose
/// heads differ are ordered as their heads are: at the first byte where they differ either both
/// keys have a byte, or the shorter key has padding 0 against the longer key's nonzero byte.
/// Different keys may share a head.
#[inline]
pub(crate) fn head_of(key: &[u8]) -> u64 {
    match key.first_chunk::<8>() {
        Some(first) => u64::from_be_bytes(*first),
        None => {
            let mut padded = [0u8; 8];
            padded[..key.len()].copy_from_slice(key);
            u64::from_be_bytes(padded)
        }
    }
}

/// A fast, well-mixed 64-bit hash of a keyspace and key (not for adversarial input; a bad spread
/// only costs speed).
pub(crate) fn key_hash(keyspace: u32, key: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (u64::from(keyspace) ^ key.len() as u64).wrapping_mul(K);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64::from_le_bytes(c.try_into().unwrap())).wrapping_mul(K);
        h ^= h >> 29;
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_slice_ordering() {
        let keys: [&[u8]; 12] = [
            b"",
            b"a",
            b"abcdefgh",
            b"abcdefgh\x00",
            b"abcdefgi",
            b"abcdefg",
            b"\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x00\x00\x00\x00\x00\x00\x00\x00\x01",
            b"zzzzzzzzzzzzzzzz",
            b"a\x00",
            b"a\x00\x01",
            b"\x00",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(compare_keys(a, b), a.cmp(b), "{a:?} vs {b:?}");
                let (ha, hb) = (head_of(a), head_of(b));
                if ha != hb {
                    assert_eq!(ha.cmp(&hb), a.cmp(b), "heads of {a:?} vs {b:?}");
                }
            }
        }
    }
}
