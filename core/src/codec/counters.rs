//! What was compressed how since the database opened, for `stats()`: blocks (a coded file's
//! pages, overflow values and free lists) and WAL records, by the codec each was stored with.

use std::sync::atomic::{AtomicU64, Ordering};

use super::compress::Codec;

/// Counters per codec (in [`Codec`] id order: none, LZ4, Zstandard, Snappy).
#[derive(Default)]
pub(crate) struct CodecCounters {
    blocks: [AtomicU64; 4],
    stored_bytes: [AtomicU64; 4],
    /// Bytes before compression less bytes stored, over everything counted.
    saved_bytes: AtomicU64,
}

/// A snapshot of [`CodecCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CodecTotals {
    pub blocks: [u64; 4],
    pub stored_bytes: [u64; 4],
    pub saved_bytes: u64,
}

impl CodecCounters {
    /// Counts one block or record of `raw_len` bytes stored as `stored_len` with `codec`.
    pub fn count(&self, codec: Codec, raw_len: usize, stored_len: usize) {
        let i = usize::from(codec.id());
        self.blocks[i].fetch_add(1, Ordering::Relaxed);
        self.stored_bytes[i].fetch_add(stored_len as u64, Ordering::Relaxed);
        self.saved_bytes
            .fetch_add(raw_len.saturating_sub(stored_len) as u64, Ordering::Relaxed);
    }

    pub fn totals(&self) -> CodecTotals {
        let load = |a: &[AtomicU64; 4]| a.each_ref().map(|c| c.load(Ordering::Relaxed));
        CodecTotals {
            blocks: load(&self.blocks),
            stored_bytes: load(&self.stored_bytes),
            saved_bytes: self.saved_bytes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_codec_and_what_was_saved() {
        let c = CodecCounters::default();
        c.count(Codec::Lz4, 4096, 1000);
        c.count(Codec::Lz4, 4096, 1096);
        c.count(Codec::Raw, 50, 51);
        let t = c.totals();
        assert_eq!(t.blocks, [1, 2, 0, 0]);
        assert_eq!(t.stored_bytes, [51, 2096, 0, 0]);
        assert_eq!(t.saved_bytes, 6096);
    }
}
