//! Byte-wise key comparison with a fast path for the common case: keys that differ in their first
//! eight bytes are ordered by one integer compare instead of a `memcmp` call.

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

/// A key's first eight bytes (zero-padded) as a big-endian integer. Two keys whose prefixes
/// differ are ordered as their prefixes are: at the first byte where they differ either both
/// keys have a byte, or the shorter key has padding 0 against the longer key's nonzero byte.
#[inline]
pub(crate) fn key_prefix(key: &[u8]) -> u64 {
    match key.first_chunk::<8>() {
        Some(head) => u64::from_be_bytes(*head),
        None => {
            let mut head = [0u8; 8];
            head[..key.len()].copy_from_slice(key);
            u64::from_be_bytes(head)
        }
    }
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
                let (pa, pb) = (key_prefix(a), key_prefix(b));
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), a.cmp(b), "prefixes of {a:?} vs {b:?}");
                }
            }
        }
    }
}
