use super::super::record::encode_record;
use super::super::{segment_path, PayloadCoding, WalWriter};
use super::*;
use crate::storage::FaultyStorage;

/// When the writer syncs (each sync appends a sync marker).
#[derive(Clone, Copy, PartialEq)]
enum Syncs {
    Never,
    AfterEachRecord,
    AtTheEnd,
}

/// Writes five records (record `seq` holds `10 * seq` bytes of `seq`) to segment 1. Returns the
/// segment's path and the record offsets.
fn write_records(storage: &FaultyStorage, syncs: Syncs) -> (std::path::PathBuf, Vec<u64>) {
    let dir = Path::new("/db");
    storage.create_dir_all(dir).unwrap();
    let mut w = WalWriter::create(storage, dir, 1, PayloadCoding::Plain, None).unwrap();
    let mut starts = Vec::new();
    for seq in 1..=5u64 {
        let payload = vec![seq as u8; 10 * seq as usize];
        let mut rec = Vec::new();
        w.encode_record(&mut rec, seq, &payload, masked_crc(&payload))
            .unwrap();
        starts.push(w.len());
        w.append(&rec).unwrap();
        if syncs == Syncs::AfterEachRecord {
            w.sync_and_attest().unwrap();
        }
    }
    if syncs == Syncs::AtTheEnd {
        w.sync_and_attest().unwrap();
    }
    (segment_path(dir, 1), starts)
}

fn count(storage: &FaultyStorage, path: &Path, is_last: bool) -> Result<(SegmentEnd, Vec<u64>)> {
    let mut seqs = Vec::new();
    let end = read_segment(storage, path, 1, is_last, None, |seq, payload| {
        assert_eq!(payload.len(), 10 * seq as usize);
        seqs.push(seq);
        Ok(())
    })?;
    Ok((end, seqs))
}

fn salt_of(storage: &FaultyStorage, path: &Path) -> u32 {
    let data = storage.read_file(path).unwrap();
    u32::from_le_bytes(data[12..16].try_into().unwrap())
}

#[test]
fn reads_back_every_record() {
    let s = FaultyStorage::new();
    let (path, _) = write_records(&s, Syncs::AfterEachRecord);
    let (end, seqs) = count(&s, &path, true).unwrap();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    assert!(!end.torn);
    assert_eq!(end.records, 5, "sync markers are not records");
}

#[test]
fn torn_tail_is_tolerated() {
    let s = FaultyStorage::new();
    let (path, starts) = write_records(&s, Syncs::AfterEachRecord);
    let data = s.read_file(&path).unwrap();
    // Cut into the last record itself (and so its sync marker), not just its padding.
    s.write_file(&path, &data[..starts[4] as usize + 40]);
    let (end, seqs) = count(&s, &path, true).unwrap();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert!(end.torn);
    assert_eq!(end.valid_len, starts[4]);
}

#[test]
fn damage_before_a_synced_record_is_corruption() {
    let s = FaultyStorage::new();
    let (path, starts) = write_records(&s, Syncs::AfterEachRecord);
    s.flip_byte(&path, starts[1] + 40);
    let err = count(&s, &path, true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corruption);
    assert!(err.message().contains("wal-"), "{err}");
}

#[test]
fn damage_followed_only_by_unsynced_records_is_a_tail() {
    let s = FaultyStorage::new();
    let (path, starts) = write_records(&s, Syncs::Never);
    s.flip_byte(&path, starts[2] + 40);
    let (end, seqs) = count(&s, &path, true).unwrap();
    assert_eq!(seqs, vec![1, 2]);
    assert!(end.torn);
}

#[test]
fn a_sync_marker_attests_the_records_it_made_durable() {
    let s = FaultyStorage::new();
    let (path, starts) = write_records(&s, Syncs::AtTheEnd);
    let data = s.read_file(&path).unwrap();
    let marker = align8(starts[4] + 32 + 50) as usize;
    assert_eq!(data[marker + 8..marker + 16], [0; 8], "payload length 0");
    // Damage to any record the sync covered is corruption, the last one's included.
    for &start in &starts {
        s.write_file(&path, &data);
        s.flip_byte(&path, start + 40);
        let err = count(&s, &path, true).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Corruption, "{err}");
    }
    // Without the marker (lost in a power cut), the same damage reads as a torn tail.
    s.write_file(&path, &data[..marker]);
    s.flip_byte(&path, starts[1] + 40);
    let (end, seqs) = count(&s, &path, true).unwrap();
    assert_eq!(seqs, vec![1]);
    assert!(end.torn);
}

#[test]
fn only_a_sync_writes_a_sync_marker() {
    let s = FaultyStorage::new();
    let (path, starts) = write_records(&s, Syncs::Never);
    let data = s.read_file(&path).unwrap();
    assert_eq!(data.len() as u64, align8(starts[4] + 32 + 50));
}

/// A user value may hold bytes that spell out a record. Inside the segment they must not pass as
/// one: before the salt, such a "record" claiming the bytes before it were synced turned an
/// ordinary torn tail into CORRUPTION.
#[test]
fn a_record_inside_a_user_value_is_not_a_record() {
    let s = FaultyStorage::new();
    let (path, starts) = write_records(&s, Syncs::Never);
    let data = s.read_file(&path).unwrap();
    let salt = salt_of(&s, &path);
    let last = starts[4];
    // The last record's payload starts 32 bytes after it; overwrite its payload with a forged
    // marker that claims everything before it was synced: once with a guessed salt, once with
    // the right salt but claiming bytes after itself.
    let forged_at = last + RECORD_HEADER_SIZE as u64;
    for (forge_salt, synced_upto) in [(salt.wrapping_add(1), forged_at), (salt, forged_at + 8)] {
        let mut forged = Vec::new();
        encode_record(
            &mut forged,
            forge_salt,
            0,
            &[],
            masked_crc(&[]),
            synced_upto,
        );
        let mut bytes = data.clone();
        bytes[forged_at as usize..forged_at as usize + forged.len()].copy_from_slice(&forged);
        s.write_file(&path, &bytes);
        let (end, seqs) = count(&s, &path, true).unwrap();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        assert!(end.torn);
        assert_eq!(end.valid_len, last);
    }
    // The same bytes with the right salt and an honest claim would be a sync marker: the check
    // above is what tells them apart.
    let mut forged = Vec::new();
    encode_record(&mut forged, salt, 0, &[], masked_crc(&[]), forged_at);
    let mut bytes = data.clone();
    bytes[forged_at as usize..forged_at as usize + forged.len()].copy_from_slice(&forged);
    s.write_file(&path, &bytes);
    assert_eq!(
        count(&s, &path, true).unwrap_err().code(),
        ErrorCode::Corruption
    );
}

#[test]
fn damage_in_a_sealed_segment_is_corruption() {
    let s = FaultyStorage::new();
    let (path, starts) = write_records(&s, Syncs::Never);
    s.flip_byte(&path, starts[4] + 40);
    assert_eq!(
        count(&s, &path, false).unwrap_err().code(),
        ErrorCode::Corruption
    );
}

/// A sync write's fsync also makes durable zeros written past the records, so that later sync
/// writes land inside the file; the reader takes zeros to the end as the segment's end, in the
/// last segment and in a sealed one, and records written into them later read back.
#[test]
fn zeros_written_ahead_end_the_segment() {
    let s = FaultyStorage::new();
    let (path, starts) = write_records(&s, Syncs::AfterEachRecord);
    let data = s.read_file(&path).unwrap();
    // The last sync marker ends the records.
    let records_end = align8(starts[4] + 32 + 50) + RECORD_HEADER_SIZE as u64;
    assert!(data.len() >= 64 << 10, "zeros were written ahead");
    assert!(data[records_end as usize..].iter().all(|&b| b == 0));
    for is_last in [true, false] {
        let (end, seqs) = count(&s, &path, is_last).unwrap();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        assert!(!end.torn);
        assert_eq!(end.valid_len, records_end);
    }
    // A damaged record before the zeros is still a damaged record.
    s.flip_byte(&path, starts[4] + 40);
    let err = count(&s, &path, true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corruption, "{err}");
}

/// Writes records `seq` = 1..=5 of `10 * seq` bytes of `seq` to a coded segment 1, each through
/// `encode_payload` (the first two too short to compress); returns the path and the offsets.
fn write_coded_records(
    storage: &FaultyStorage,
    compression: crate::codec::Compression,
) -> (std::path::PathBuf, Vec<u64>) {
    let dir = Path::new("/db");
    storage.create_dir_all(dir).unwrap();
    let coding = PayloadCoding::Coded {
        compression,
        level: 3,
    };
    let mut w = WalWriter::create(storage, dir, 1, coding, None).unwrap();
    let mut starts = Vec::new();
    for seq in 1..=5u64 {
        let batch = vec![seq as u8; 10 * seq as usize];
        let payload =
            super::super::encode_payload(coding, batch.len(), |out| out.extend_from_slice(&batch));
        assert_eq!(payload.batch(), batch);
        let mut rec = Vec::new();
        w.encode_record(&mut rec, seq, &payload.stored, masked_crc(&payload.stored))
            .unwrap();
        starts.push(w.len());
        w.append(&rec).unwrap();
        w.sync_and_attest().unwrap();
    }
    (segment_path(dir, 1), starts)
}

#[test]
fn a_coded_segment_gives_back_every_batch_compressed_or_not() {
    use crate::codec::Compression;
    for compression in [
        Compression::Lz4,
        Compression::Zstd,
        Compression::Snappy,
        Compression::Auto,
    ] {
        let s = FaultyStorage::new();
        let (path, starts) = write_coded_records(&s, compression);
        let data = s.read_file(&path).unwrap();
        assert_eq!(&data[8..12], &[3, 0, 0, 0], "version 3");
        // Record 5 (50 equal bytes) is stored compressed: its payload is far below 50 bytes.
        let stored_len =
            u64::from_le_bytes(data[starts[4] as usize + 8..][..8].try_into().unwrap());
        assert!(stored_len < 20, "{compression:?}: {stored_len}");
        let (end, seqs) = count(&s, &path, true).unwrap();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5], "{compression:?}");
        assert!(!end.torn);

        // A torn tail in a coded segment is found as in a plain one.
        s.write_file(&path, &data[..starts[4] as usize + 36]);
        let (end, seqs) = count(&s, &path, true).unwrap();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        assert!(end.torn);
    }
}

#[test]
fn a_coded_payload_that_does_not_decode_is_corruption() {
    let s = FaultyStorage::new();
    let (path, starts) = write_coded_records(&s, crate::codec::Compression::Lz4);
    let mut data = s.read_file(&path).unwrap();
    // Give record 4 an unknown codec and a payload checksum to match: its checksums pass, its
    // payload does not decode.
    let at = starts[3] as usize;
    let len = u64::from_le_bytes(data[at + 8..at + 16].try_into().unwrap()) as usize;
    data[at + 32] = 9;
    let crc = masked_crc(&data[at + 32..at + 32 + len]);
    data[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
    let salt = salt_of(&s, &path);
    let header_crc = crate::wal::record::record_header_crc(salt, &data[at..at + 32]);
    data[at..at + 4].copy_from_slice(&header_crc.to_le_bytes());
    s.write_file(&path, &data);
    let err = count(&s, &path, true).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corruption);
    assert!(err.message().contains("unknown codec 9"), "{err}");
}
