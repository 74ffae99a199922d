//! [`WriteBatch`]: puts and deletes applied atomically, and its encoding as a WAL record payload.
//!
//! Payload layout (see docs/format.md):
//! ```text
//! u32 LE  op count
//! op*:    u8 kind (1 = put, 2 = delete) | varint keyspace | varint key_len | key
//!         | (put only) varint value_len | value
//! ```

use crate::error::{Error, Result};
use crate::limits::{check_key_len, check_value_len};

pub(crate) const OP_PUT: u8 = 1;
pub(crate) const OP_DELETE: u8 = 2;

/// The default keyspace. Named keyspaces get other ids; the format carries the id from day one.
pub(crate) const DEFAULT_KEYSPACE: u32 = 0;

/// The most operations one batch may hold: its WAL payload counts them in a `u32`.
pub const MAX_BATCH_OPS: u64 = u32::MAX as u64;

/// The most bytes one batch may hold, encoded ([`WriteBatch::encoded_len`]): 4 GiB. A batch is
/// held in memory whole, by the writer and (unless it is large enough to go straight into the
/// tree) by recovery reading its WAL record; bigger loads are several batches.
pub const MAX_BATCH_BYTES: u64 = 4 << 30;

/// A group of puts and deletes that [`Database::write`](crate::Database::write) applies atomically:
/// after any crash it is wholly present or wholly absent. Later operations on the same key win.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    /// Encoded ops, without the leading count.
    ops: Vec<u8>,
    /// Counted in 64 bits so it cannot wrap; a batch of more than [`MAX_BATCH_OPS`] fails when it
    /// is written (a `u32` count once wrapped to 0, and the batch silently became empty).
    count: u64,
    /// The longest key and value added, so checking the limits costs nothing at write time.
    longest_key: usize,
    longest_value: usize,
}

/// One operation decoded from a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchOp<'a> {
    pub keyspace: u32,
    pub key: &'a [u8],
    /// `None` for a delete.
    pub value: Option<&'a [u8]>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Adds a put of `key` → `value`. Sizes are checked when the batch is written.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> &mut Self {
        self.ops.push(OP_PUT);
        put_varint(&mut self.ops, DEFAULT_KEYSPACE as u64);
        put_bytes(&mut self.ops, key);
        put_bytes(&mut self.ops, value);
        self.count += 1;
        self.longest_key = self.longest_key.max(key.len());
        self.longest_value = self.longest_value.max(value.len());
        self
    }

    /// Adds a put of `key` → `value`, or refuses it with `INVALID_ARGUMENT` (leaving the batch as
    /// it was) if the key or value is over its size limit, or the batch would pass
    /// [`MAX_BATCH_OPS`] or [`MAX_BATCH_BYTES`]. The C ABI and every binding add through this.
    pub fn try_put(&mut self, key: &[u8], value: &[u8]) -> Result<&mut Self> {
        check_key_len(key.len())?;
        check_value_len(value.len())?;
        self.check_room(op_len(key.len(), Some(value.len())))?;
        Ok(self.put(key, value))
    }

    /// Adds a delete of `key`, or refuses it as [`try_put`](Self::try_put) does.
    pub fn try_delete(&mut self, key: &[u8]) -> Result<&mut Self> {
        check_key_len(key.len())?;
        self.check_room(op_len(key.len(), None))?;
        Ok(self.delete(key))
    }

    /// `INVALID_ARGUMENT` if one more operation of `op_bytes` encoded bytes would pass a limit.
    fn check_room(&self, op_bytes: u64) -> Result<()> {
        if self.count >= MAX_BATCH_OPS {
            return Err(Error::invalid_argument(format!(
                "the batch already holds {MAX_BATCH_OPS} operations, the most a batch may"
            )));
        }
        let total = self.encoded_len() as u64 + op_bytes;
        if total > MAX_BATCH_BYTES {
            return Err(Error::invalid_argument(format!(
                "the batch would hold {total} bytes, over the limit of {MAX_BATCH_BYTES} (4 GiB)"
            )));
        }
        Ok(())
    }

    /// Adds a delete of `key` (deleting an absent key is not an error).
    pub fn delete(&mut self, key: &[u8]) -> &mut Self {
        self.ops.push(OP_DELETE);
        put_varint(&mut self.ops, DEFAULT_KEYSPACE as u64);
        put_bytes(&mut self.ops, key);
        self.count += 1;
        self.longest_key = self.longest_key.max(key.len());
        self
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Removes every operation.
    pub fn clear(&mut self) {
        *self = WriteBatch {
            ops: std::mem::take(&mut self.ops),
            ..WriteBatch::default()
        };
        self.ops.clear();
    }

    /// Bytes of encoded operations, a measure of the batch's size.
    pub fn encoded_len(&self) -> usize {
        self.ops.len() + 4
    }

    /// Checks the operation count, the size and every key and value against the documented
    /// limits.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.count > MAX_BATCH_OPS {
            return Err(Error::invalid_argument(format!(
                "a batch of {} operations is over the limit of {MAX_BATCH_OPS}",
                self.count
            )));
        }
        if self.encoded_len() as u64 > MAX_BATCH_BYTES {
            return Err(Error::invalid_argument(format!(
                "a batch of {} bytes is over the limit of {MAX_BATCH_BYTES} (4 GiB)",
                self.encoded_len()
            )));
        }
        check_key_len(self.longest_key)?;
        check_value_len(self.longest_value)
    }

    /// The operations, in order.
    pub(crate) fn ops(&self) -> PayloadIter<'_> {
        PayloadIter {
            rest: &self.ops,
            left: self.count as u32,
        }
    }

    /// Appends the WAL payload (count + ops) to `out`.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        // `validate` keeps the count within a `u32`.
        out.extend_from_slice(&(self.count as u32).to_le_bytes());
        out.extend_from_slice(&self.ops);
    }
}

/// Decodes a WAL payload written by [`WriteBatch::encode_into`].
pub(crate) fn decode_payload(payload: &[u8]) -> Result<PayloadIter<'_>> {
    if payload.len() < 4 {
        return Err(Error::internal("batch payload shorter than its count"));
    }
    let count = u32::from_le_bytes(payload[..4].try_into().unwrap());
    Ok(PayloadIter {
        rest: &payload[4..],
        left: count,
    })
}

/// Iterates the operations of an encoded batch. A malformed payload yields one `Internal` error
/// (callers that read from disk turn it into a corruption error naming the file).
pub(crate) struct PayloadIter<'a> {
    rest: &'a [u8],
    left: u32,
}

impl PayloadIter<'_> {
    /// The number of operations not yet returned.
    pub fn remaining(&self) -> u32 {
        self.left
    }
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<BatchOp<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return if self.rest.is_empty() {
                None
            } else {
                self.rest = &[];
                Some(Err(Error::internal(
                    "trailing bytes after the last batch op",
                )))
            };
        }
        self.left -= 1;
        let op = decode_op(&mut self.rest);
        if op.is_err() {
            self.left = 0;
            self.rest = &[];
        }
        Some(op)
    }
}

fn decode_op<'a>(rest: &mut &'a [u8]) -> Result<BatchOp<'a>> {
    let bad = || Error::internal("malformed batch op");
    let (&kind, tail) = rest.split_first().ok_or_else(bad)?;
    *rest = tail;
    let keyspace = u32::try_from(get_varint(rest).ok_or_else(bad)?).map_err(|_| bad())?;
    let key = get_bytes(rest).ok_or_else(bad)?;
    let value = match kind {
        OP_PUT => Some(get_bytes(rest).ok_or_else(bad)?),
        OP_DELETE => None,
        _ => return Err(bad()),
    };
    Ok(BatchOp {
        keyspace,
        key,
        value,
    })
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn get_varint(input: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, tail) = input.split_first()?;
        *input = tail;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The encoded size of one operation (a delete when `value_len` is `None`).
fn op_len(key_len: usize, value_len: Option<usize>) -> u64 {
    let field = |len: usize| varint_len(len as u64) + len as u64;
    1 + varint_len(u64::from(DEFAULT_KEYSPACE)) + field(key_len) + value_len.map_or(0, field)
}

fn varint_len(v: u64) -> u64 {
    u64::from((64 - v.leading_zeros()).max(1).div_ceil(7))
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn get_bytes<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(get_varint(input)?).ok()?;
    if input.len() < len {
        return None;
    }
    let (bytes, tail) = input.split_at(len);
    *input = tail;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch past `MAX_BATCH_OPS` operations is refused when written, not wrapped into an empty
    /// one. (Filling 2^32 operations takes tens of GiB, so the count is set directly.)
    #[test]
    fn a_batch_over_the_operation_limit_is_refused_not_wrapped() {
        let mut batch = WriteBatch::new();
        batch.count = MAX_BATCH_OPS - 1;
        batch.put(b"k", b"v");
        assert_eq!(batch.len() as u64, MAX_BATCH_OPS);
        batch.validate().unwrap();
        batch.delete(b"k");
        assert!(!batch.is_empty(), "the count wrapped");
        let e = batch.validate().unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument, "{e}");
        assert!(e.message().contains("4294967295"), "{e}");
    }

    /// The adding calls refuse an operation past either limit and leave the batch as it was.
    #[test]
    fn try_put_and_try_delete_refuse_past_the_limits() {
        let mut batch = WriteBatch::new();
        batch.count = MAX_BATCH_OPS - 1;
        batch.try_put(b"k", b"v").unwrap();
        let before = batch.clone();
        for e in [
            batch.try_put(b"k", b"v").map(|_| ()).unwrap_err(),
            batch.try_delete(b"k").map(|_| ()).unwrap_err(),
        ] {
            assert_eq!(e.code(), crate::ErrorCode::InvalidArgument, "{e}");
            assert!(e.message().contains("4294967295 operations"), "{e}");
        }
        assert_eq!(batch, before);

        // 4 GiB of values: 63 of 64 MiB and a last one that just fits.
        let mut batch = WriteBatch::new();
        let big = vec![7u8; crate::MAX_VALUE_SIZE];
        for i in 0..63u8 {
            batch.try_put(&[i], &big).unwrap();
        }
        let room = MAX_BATCH_BYTES - batch.encoded_len() as u64;
        let last = room as usize - op_len(1, Some(0)) as usize - 3; // minus 3 more varint bytes
        batch.try_put(b"x", &big[..last]).unwrap();
        assert_eq!(batch.encoded_len() as u64, MAX_BATCH_BYTES);
        batch.validate().unwrap();
        let before = batch.len();
        let e = batch.try_delete(b"").map(|_| ()).unwrap_err();
        assert!(e.message().contains("4 GiB"), "{e}");
        assert_eq!(batch.len(), before);
        // Rust's infallible `put` adds anyway; writing the batch then fails.
        batch.delete(b"");
        assert_eq!(
            batch.validate().unwrap_err().code(),
            crate::ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn op_len_is_the_encoded_size() {
        for (key, value) in [
            (0, Some(0)),
            (1, Some(127)),
            (128, Some(16384)),
            (4096, None),
        ] {
            let mut b = WriteBatch::new();
            let k = vec![1u8; key];
            match value {
                Some(v) => b.put(&k, &vec![2u8; v]),
                None => b.delete(&k),
            };
            assert_eq!(op_len(key, value), b.encoded_len() as u64 - 4);
        }
    }

    #[test]
    fn batch_round_trips_through_payload() {
        let mut b = WriteBatch::new();
        b.put(b"a", b"1").delete(b"b").put(b"", b"");
        assert_eq!(b.len(), 3);
        let mut payload = Vec::new();
        b.encode_into(&mut payload);
        let ops: Vec<_> = decode_payload(&payload)
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0].key, b"a");
        assert_eq!(ops[0].value, Some(&b"1"[..]));
        assert_eq!(ops[1].value, None);
        assert_eq!(ops[2].key, b"");
        assert_eq!(ops[2].value, Some(&b""[..]));
    }

    #[test]
    fn truncated_payload_is_an_error_not_a_panic() {
        let mut b = WriteBatch::new();
        b.put(b"key", b"value");
        let mut payload = Vec::new();
        b.encode_into(&mut payload);
        for cut in 0..payload.len() {
            let result: Result<Vec<_>> = match decode_payload(&payload[..cut]) {
                Ok(it) => it.collect(),
                Err(e) => Err(e),
            };
            assert!(result.is_err(), "cut at {cut} decoded");
        }
    }

    #[test]
    fn varint_round_trips() {
        for v in [0, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            let mut s = &out[..];
            assert_eq!(get_varint(&mut s), Some(v));
            assert!(s.is_empty());
        }
    }
}
