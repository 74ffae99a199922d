//! Compression of pages and WAL records: the codecs, and the `auto` policy that picks one per
//! block by what the data gives (docs/format.md §3.4 has the codec ids; the `compression` option
//! chooses the policy).

use std::cell::RefCell;

/// How blocks are compressed: the `compression` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// Blocks are stored as they are.
    #[default]
    None,
    /// LZ4 (block format): fast to write and to read, for data with repeats.
    Lz4,
    /// Zstandard at `compression_level`: the smallest, slower to read than LZ4.
    Zstd,
    /// Snappy (raw format).
    Snappy,
    /// Per block, the codec that pays: LZ4 for data with repeats, Zstandard where entropy coding
    /// saves much more, none for data that does not shrink (see [`compress`]).
    Auto,
}

impl Compression {
    /// Every policy, by its option value.
    pub(crate) const NAMES: [(&'static str, Compression); 5] = [
        ("none", Compression::None),
        ("lz4", Compression::Lz4),
        ("zstd", Compression::Zstd),
        ("snappy", Compression::Snappy),
        ("auto", Compression::Auto),
    ];

    /// The option value naming this policy.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(name, _)| *name)
            .expect("every policy has a name")
    }
}

/// The codec a block was written with; its id is stored with the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    Raw = 0,
    Lz4 = 1,
    Zstd = 2,
    Snappy = 3,
}

impl Codec {
    pub(crate) fn from_id(id: u8) -> Option<Codec> {
        match id {
            0 => Some(Codec::Raw),
            1 => Some(Codec::Lz4),
            2 => Some(Codec::Zstd),
            3 => Some(Codec::Snappy),
            _ => None,
        }
    }

    pub(crate) fn id(self) -> u8 {
        self as u8
    }
}

/// The default `compression_level`: Zstandard's own default.
pub(crate) const DEFAULT_ZSTD_LEVEL: u32 = 3;
/// The highest `compression_level` (Zstandard's levels 20 to 22 need far more memory).
pub(crate) const MAX_ZSTD_LEVEL: u32 = 19;

/// `auto` keeps a compressed block only if it is at least this fraction (1/8) smaller than the
/// data: below that, reading the data as it is costs less than the space saved is worth.
const AUTO_MIN_SAVING_SHIFT: u32 = 3;
/// `auto` tries Zstandard when the bytes' entropy is below this many bits per byte, in 1/16
/// bits (7.5 bits): random bytes sit just under 8 and gain nothing from entropy coding.
const AUTO_ZSTD_ENTROPY_BELOW: u32 = 120;
/// `auto` picks Zstandard over LZ4 only if it saves at least this fraction (1/8) more of the
/// data than LZ4 does: LZ4 reads several times faster.
const AUTO_ZSTD_GAIN_SHIFT: u32 = 3;

/// `auto` tries only LZ4 on blocks shorter than this: entropy estimates of few bytes say
/// little, and a WAL record of one small write is not worth a second compression.
const AUTO_ZSTD_MIN_LEN: usize = 1024;
/// After this many blocks in a row on which Zstandard did not win, `auto` tries it only on one
/// block in [`AUTO_ZSTD_RETRY_EVERY`] (until it wins again): data that LZ4 suits costs one
/// compression, not two.
const AUTO_ZSTD_LOSSES: u32 = 8;
const AUTO_ZSTD_RETRY_EVERY: u32 = 16;

thread_local! {
    /// `auto`'s record on this thread: Zstandard's losses in a row, and blocks since it was last
    /// tried.
    static ZSTD_RECORD: std::cell::Cell<(u32, u32)> = const { std::cell::Cell::new((0, 0)) };
    /// Zstandard contexts are costly to make; each thread keeps one, at the last level used.
    static ZSTD_COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
    static ZSTD_DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// Compresses `data` under `policy` into `out` (cleared first) and returns the codec used.
/// [`Codec::Raw`] means that compression did not pay: `out` is then empty and the block is
/// `data` itself. A codec's output is kept only if it is smaller than `data` (for `auto`, at
/// least 1/8 smaller).
pub(crate) fn compress(policy: Compression, level: u32, data: &[u8], out: &mut Vec<u8>) -> Codec {
    out.clear();
    let codec = match policy {
        Compression::None => return Codec::Raw,
        Compression::Lz4 => Codec::Lz4,
        Compression::Zstd => Codec::Zstd,
        Compression::Snappy => Codec::Snappy,
        Compression::Auto => return compress_auto(level, data, out),
    };
    encode(codec, level, data, out);
    if out.len() >= data.len() {
        out.clear();
        return Codec::Raw;
    }
    codec
}

/// The `auto` policy: LZ4 first; Zstandard too when the block is long enough, the bytes' entropy
/// says entropy coding can pay, and Zstandard has not lost on the blocks before (after 8 losses
/// in a row it is tried on one block in 16); the smaller wins (LZ4 unless Zstandard saves 1/8
/// of the data more), and neither if it saves less than 1/8.
fn compress_auto(level: u32, data: &[u8], out: &mut Vec<u8>) -> Codec {
    let worth = data.len() - (data.len() >> AUTO_MIN_SAVING_SHIFT);
    let mut best = Codec::Raw;
    let mut best_len = data.len();
    encode(Codec::Lz4, level, data, out);
    if out.len() < worth {
        best = Codec::Lz4;
        best_len = out.len();
    }
    if data.len() >= AUTO_ZSTD_MIN_LEN
        && zstd_due()
        && entropy_sixteenths(data) < AUTO_ZSTD_ENTROPY_BELOW
    {
        let mut zstd = Vec::new();
        encode(Codec::Zstd, level, data, &mut zstd);
        let gain = data.len() >> AUTO_ZSTD_GAIN_SHIFT;
        let won = zstd.len() < worth && zstd.len() + gain <= best_len;
        ZSTD_RECORD.with(|r| {
            let (losses, _) = r.get();
            r.set((if won { 0 } else { losses.saturating_add(1) }, 0));
        });
        if won {
            *out = zstd;
            return Codec::Zstd;
        }
    }
    if best == Codec::Raw {
        out.clear();
    }
    best
}

/// Whether `auto` tries Zstandard on this block (see [`AUTO_ZSTD_LOSSES`]).
fn zstd_due() -> bool {
    ZSTD_RECORD.with(|r| {
        let (losses, since) = r.get();
        if losses < AUTO_ZSTD_LOSSES {
            true
        } else if since + 1 >= AUTO_ZSTD_RETRY_EVERY {
            r.set((losses, 0));
            true
        } else {
            r.set((losses, since + 1));
            false
        }
    })
}

/// The Shannon entropy of `data`'s byte histogram, in 1/16 bits per byte (0 to 128).
fn entropy_sixteenths(data: &[u8]) -> u32 {
    if data.is_empty() {
        return 0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    let bits: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    (bits * 16.0) as u32
}

/// `data` encoded with `codec` into `out` (cleared first).
fn encode(codec: Codec, level: u32, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    match codec {
        Codec::Raw => out.extend_from_slice(data),
        Codec::Lz4 => {
            out.resize(lz4_flex::block::get_maximum_output_size(data.len()), 0);
            let n = lz4_flex::block::compress_into(data, out)
                .expect("the output has LZ4's worst-case size");
            out.truncate(n);
        }
        Codec::Snappy => {
            out.resize(snap::raw::max_compress_len(data.len()), 0);
            let n = snap::raw::Encoder::new()
                .compress(data, out)
                .expect("the output has Snappy's worst-case size");
            out.truncate(n);
        }
        Codec::Zstd => {
            let level = i32::try_from(level).unwrap_or(DEFAULT_ZSTD_LEVEL as i32);
            out.reserve(zstd::zstd_safe::compress_bound(data.len()));
            let done = ZSTD_COMPRESSOR.with(|cell| {
                let mut slot = cell.borrow_mut();
                if slot.as_ref().is_none_or(|(l, _)| *l != level) {
                    *slot = zstd::bulk::Compressor::new(level).ok().map(|c| (level, c));
                }
                slot.as_mut()
                    .map(|(_, c)| c.compress_to_buffer(data, &mut *out).is_ok())
            });
            if done != Some(true) {
                // No context (out of memory): store the data as it is rather than fail a write.
                out.clear();
                out.extend_from_slice(data);
            }
        }
    }
}

/// Decodes `coded`, written with `codec` from `raw_len` bytes, into `out` (cleared first).
/// Fails, with what is wrong, if the bytes do not decode to exactly `raw_len` bytes; no more than
/// `raw_len` bytes (nor more than the codec can produce from `coded`) are ever allocated.
pub(crate) fn decompress(
    codec: Codec,
    coded: &[u8],
    raw_len: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    let fail = |what: &str| {
        Err(format!(
            "{} data that does not decode: {what}",
            codec_name(codec)
        ))
    };
    match codec {
        Codec::Raw => {
            if coded.len() != raw_len {
                return fail("length mismatch");
            }
            out.extend_from_slice(coded);
        }
        Codec::Lz4 => {
            // An LZ4 sequence expands to at most 255 bytes per input byte, near enough.
            if raw_len > coded.len().saturating_mul(255) + 16 {
                return fail("claimed size beyond what the input can hold");
            }
            out.resize(raw_len, 0);
            match lz4_flex::block::decompress_into(coded, out) {
                Ok(n) if n == raw_len => {}
                Ok(_) => return fail("length mismatch"),
                Err(e) => return fail(&e.to_string()),
            }
        }
        Codec::Snappy => {
            match snap::raw::decompress_len(coded) {
                Ok(n) if n == raw_len => {}
                Ok(_) => return fail("length mismatch"),
                Err(e) => return fail(&e.to_string()),
            }
            out.resize(raw_len, 0);
            match snap::raw::Decoder::new().decompress(coded, out) {
                Ok(n) if n == raw_len => {}
                Ok(_) => return fail("length mismatch"),
                Err(e) => return fail(&e.to_string()),
            }
        }
        Codec::Zstd => {
            // A Zstandard block of at most 128 KiB takes at least 4 bytes (an RLE block).
            if raw_len > coded.len().saturating_mul(32 << 10) {
                return fail("claimed size beyond what the input can hold");
            }
            match zstd::zstd_safe::get_frame_content_size(coded) {
                Ok(Some(n)) if n == raw_len as u64 => {}
                Ok(_) => return fail("length mismatch"),
                Err(_) => return fail("not a Zstandard frame"),
            }
            out.reserve_exact(raw_len);
            let result = ZSTD_DECOMPRESSOR.with(|cell| {
                let mut slot = cell.borrow_mut();
                if slot.is_none() {
                    *slot = zstd::bulk::Decompressor::new().ok();
                }
                match slot.as_mut() {
                    Some(d) => d.decompress_to_buffer(coded, &mut *out),
                    None => Err(std::io::Error::other("no Zstandard context")),
                }
            });
            match result {
                Ok(n) if n == raw_len => {}
                Ok(_) => return fail("length mismatch"),
                Err(e) => return fail(&e.to_string()),
            }
        }
    }
    Ok(())
}

fn codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::Raw => "uncompressed",
        Codec::Lz4 => "LZ4",
        Codec::Zstd => "Zstandard",
        Codec::Snappy => "Snappy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Half random, half zero: the benchmark's compressible values.
    fn half_zero(n: usize) -> Vec<u8> {
        let mut v = random_bytes(n / 2, 7);
        v.resize(n, 0);
        v
    }

    fn json_like(n: usize) -> Vec<u8> {
        let mut s = String::new();
        let mut i = 0u64;
        while s.len() < n {
            s.push_str(&format!(
                "{{\"id\":{i},\"name\":\"user{}\",\"active\":{},\"score\":{}}},",
                i * 7919 % 10007,
                i.is_multiple_of(3),
                i * 31 % 1000
            ));
            i += 1;
        }
        s.truncate(n);
        s.into_bytes()
    }

    fn round_trip(codec: Codec, data: &[u8]) {
        let mut coded = Vec::new();
        encode(codec, 3, data, &mut coded);
        let mut back = Vec::new();
        decompress(codec, &coded, data.len(), &mut back).unwrap();
        assert_eq!(back, data, "{codec:?}");
    }

    #[test]
    fn every_codec_round_trips_every_kind_of_data() {
        for data in [
            vec![],
            vec![0u8; 4096],
            random_bytes(4096, 3),
            half_zero(4096),
            json_like(65536),
        ] {
            for codec in [Codec::Raw, Codec::Lz4, Codec::Zstd, Codec::Snappy] {
                round_trip(codec, &data);
            }
        }
    }

    #[test]
    fn a_codec_that_does_not_shrink_the_data_leaves_it_raw() {
        let data = random_bytes(4096, 11);
        let mut out = Vec::new();
        for policy in [Compression::Lz4, Compression::Zstd, Compression::Snappy] {
            assert_eq!(
                compress(policy, 3, &data, &mut out),
                Codec::Raw,
                "{policy:?}"
            );
            assert!(out.is_empty());
        }
        assert_eq!(
            compress(Compression::None, 3, &[0; 100], &mut out),
            Codec::Raw
        );
    }

    #[test]
    fn auto_stores_random_data_raw_repeats_as_lz4_and_text_as_zstd() {
        let mut out = Vec::new();
        assert_eq!(
            compress(Compression::Auto, 3, &random_bytes(4096, 5), &mut out),
            Codec::Raw
        );
        assert!(out.is_empty());
        // Random halves and zeros: LZ4 takes the zeros, and entropy coding cannot shrink the
        // random half.
        assert_eq!(
            compress(Compression::Auto, 3, &half_zero(4096), &mut out),
            Codec::Lz4
        );
        // JSON: few distinct bytes, which Zstandard's entropy coding shrinks well past LZ4.
        let json = json_like(4096);
        assert_eq!(compress(Compression::Auto, 3, &json, &mut out), Codec::Zstd);
        let mut back = Vec::new();
        decompress(Codec::Zstd, &out, json.len(), &mut back).unwrap();
        assert_eq!(back, json);
    }

    #[test]
    fn auto_tries_zstd_less_often_while_it_loses() {
        ZSTD_RECORD.with(|r| r.set((0, 0)));
        let mut out = Vec::new();
        // Repeats with few distinct bytes in long runs: LZ4 does as well as Zstandard.
        let runs: Vec<u8> = (0..4096).map(|i| (i / 512) as u8).collect();
        for _ in 0..AUTO_ZSTD_LOSSES {
            assert!(zstd_due());
            assert_eq!(compress(Compression::Auto, 3, &runs, &mut out), Codec::Lz4);
        }
        let tried: usize = (0..64).filter(|_| zstd_due()).count();
        assert_eq!(tried, 64 / AUTO_ZSTD_RETRY_EVERY as usize);
        // A win (text) resets the record.
        ZSTD_RECORD.with(|r| r.set((AUTO_ZSTD_LOSSES, AUTO_ZSTD_RETRY_EVERY)));
        assert_eq!(
            compress(Compression::Auto, 3, &json_like(4096), &mut out),
            Codec::Zstd
        );
        assert_eq!(ZSTD_RECORD.with(|r| r.get()).0, 0);
        // Small blocks: LZ4 only.
        assert_eq!(
            compress(Compression::Auto, 3, &json_like(600), &mut out),
            Codec::Lz4
        );
    }

    #[test]
    fn auto_leaves_data_raw_when_it_saves_under_an_eighth() {
        // 95% random: LZ4 saves about 5%, and random bytes are no use to entropy coding.
        let mut data = random_bytes(4096, 9);
        data[..200].fill(0);
        let mut out = Vec::new();
        assert_eq!(compress(Compression::Auto, 3, &data, &mut out), Codec::Raw);
        assert_eq!(compress(Compression::Lz4, 3, &data, &mut out), Codec::Lz4);
    }

    #[test]
    fn wrong_lengths_and_damaged_bytes_fail_without_huge_allocations() {
        let data = json_like(8192);
        for codec in [Codec::Lz4, Codec::Zstd, Codec::Snappy] {
            let mut coded = Vec::new();
            encode(codec, 3, &data, &mut coded);
            let mut out = Vec::new();
            assert!(
                decompress(codec, &coded, data.len() - 1, &mut out).is_err(),
                "{codec:?}"
            );
            assert!(
                decompress(codec, &coded, data.len() + 1, &mut out).is_err(),
                "{codec:?}"
            );
            // A claimed size of 4 GiB is refused before anything is allocated for it.
            assert!(
                decompress(codec, &coded, 4 << 30, &mut out).is_err(),
                "{codec:?}"
            );
            assert!(out.capacity() < 1 << 20, "{codec:?}");
            // Damage: every outcome is an error or the exact length (the block's checksum, not
            // the codec, is what tells damaged data from good).
            for at in (0..coded.len()).step_by(7) {
                let mut bad = coded.clone();
                bad[at] ^= 0x5a;
                match decompress(codec, &bad, data.len(), &mut out) {
                    Ok(()) => assert_eq!(out.len(), data.len()),
                    Err(message) => assert!(message.contains("does not decode")),
                }
            }
        }
        assert!(decompress(Codec::Raw, b"abc", 4, &mut Vec::new()).is_err());
    }

    #[test]
    fn codec_ids_round_trip_and_unknown_ids_are_refused() {
        for codec in [Codec::Raw, Codec::Lz4, Codec::Zstd, Codec::Snappy] {
            assert_eq!(Codec::from_id(codec.id()), Some(codec));
        }
        assert_eq!(Codec::from_id(4), None);
        for (name, policy) in Compression::NAMES {
            assert_eq!(policy.name(), name);
        }
    }

    #[test]
    fn entropy_of_uniform_bytes_is_eight_bits_and_of_one_byte_zero() {
        let all: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        assert_eq!(entropy_sixteenths(&all), 128);
        assert_eq!(entropy_sixteenths(&[7; 100]), 0);
    }
}
