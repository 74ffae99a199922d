//! Encryption at rest: what an encrypted database writes is unreadable without its key, opens
//! only with its key (a wrong or missing one is WRONG_KEY), fails as CORRUPTION when a byte of it
//! is changed, moved or taken from another database, and survives a rekey cut at any point.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::format::masked_crc;
use common::tempdir::KeepOnFailure;
use lightning_db::storage::{FaultKind, FaultyStorage, PowerLoss};
use lightning_db::{Compression, Database, Encryption, ErrorCode, Kdf, Options, Secret};

const KEY_A: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const KEY_B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
/// Bytes that would show in the file if values were stored in the clear.
const MARKER: &[u8] = b"PLAINTEXT-MARKER-";

fn keyed(encryption: Encryption, compression: Compression, key: &str) -> Options {
    Options {
        encryption,
        compression,
        encryption_key: Secret::new(key),
        sync: false,
        ..Options::default()
    }
}

/// A passphrase at cheap KDF costs (the floors), as tests may use.
fn with_passphrase(kdf: Kdf, passphrase: &str) -> Options {
    Options {
        encryption: Encryption::Aes256Gcm,
        passphrase: Secret::new(passphrase),
        kdf,
        kdf_memory: 1 << 20,
        kdf_iterations: if kdf == Kdf::Argon2id { 1 } else { 10_000 },
        sync: false,
        ..Options::default()
    }
}

fn value(i: u32) -> Vec<u8> {
    let mut v = MARKER.to_vec();
    v.extend_from_slice(format!("{i:06}").as_bytes());
    v.resize(150, b'x');
    v
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i:06}").into_bytes()
}

fn fill(db: &Database, n: u32) {
    for i in 0..n {
        db.put(&key(i), &value(i)).unwrap();
    }
}

fn check(db: &Database, n: u32) {
    for i in 0..n {
        assert_eq!(db.get(&key(i)).unwrap(), Some(value(i)), "key {i}");
    }
}

fn files_contain(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let data = std::fs::read(e.unwrap().path()).unwrap_or_default();
        data.windows(needle.len()).any(|w| w == needle)
    })
}

fn code_of(result: lightning_db::Result<Database>) -> ErrorCode {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            assert!(!e.message().contains(KEY_A) && !e.message().contains(KEY_B));
            e.code()
        }
    }
}

#[test]
fn encrypted_databases_round_trip_under_every_cipher_and_codec() {
    for (encryption, compression) in [
        (Encryption::Aes256Gcm, Compression::Zstd),
        (Encryption::Aes256Gcm, Compression::Lz4),
        (Encryption::ChaCha20Poly1305, Compression::None),
        (Encryption::ChaCha20Poly1305, Compression::Auto),
    ] {
        let dir = KeepOnFailure::new("encryption test");
        let options = keyed(encryption, compression, KEY_A);
        let db = Database::open(dir.path(), options.clone()).unwrap();
        fill(&db, 2000);
        // Half in the tree, half only in the WAL.
        db.flush().unwrap();
        for i in 2000..2500 {
            db.put(&key(i), &value(i)).unwrap();
        }
        check(&db, 2500);
        db.close().unwrap();
        assert!(
            !files_contain(dir.path(), MARKER),
            "{encryption:?} {compression:?}: a value is in the clear on disk"
        );

        // Reopened under another compression: each block says how it was written.
        let reopened = Options {
            compression: Compression::Snappy,
            encryption: Encryption::None,
            ..options.clone()
        };
        let db = Database::open(dir.path(), reopened).unwrap();
        check(&db, 2500);
        let report = db.verify().unwrap();
        assert!(report.pages > 0);
        db.close().unwrap();
    }
}

#[test]
fn passphrases_through_either_kdf_open_only_their_database() {
    for kdf in [Kdf::Argon2id, Kdf::Pbkdf2Sha256] {
        let dir = KeepOnFailure::new("encryption test");
        let db = Database::open(dir.path(), with_passphrase(kdf, "correct horse")).unwrap();
        fill(&db, 100);
        db.close().unwrap();
        // The KDF and its costs come from the file, whatever the options say now.
        let other_kdf = match kdf {
            Kdf::Argon2id => Kdf::Pbkdf2Sha256,
            Kdf::Pbkdf2Sha256 => Kdf::Argon2id,
        };
        let db = Database::open(dir.path(), with_passphrase(other_kdf, "correct horse")).unwrap();
        check(&db, 100);
        db.close().unwrap();
        let wrong = code_of(Database::open(
            dir.path(),
            with_passphrase(kdf, "correct horse "),
        ));
        assert_eq!(wrong, ErrorCode::WrongKey, "{kdf:?}");
    }
}

#[test]
fn a_wrong_missing_or_misplaced_key_gets_a_clear_error() {
    let dir = KeepOnFailure::new("encryption test");
    let db = Database::open(
        dir.path(),
        keyed(Encryption::Aes256Gcm, Compression::Lz4, KEY_A),
    )
    .unwrap();
    fill(&db, 10);
    db.close().unwrap();

    let wrong = keyed(Encryption::Aes256Gcm, Compression::Lz4, KEY_B);
    assert_eq!(
        code_of(Database::open(dir.path(), wrong)),
        ErrorCode::WrongKey
    );
    let none = Options::default();
    assert_eq!(
        code_of(Database::open(dir.path(), none)),
        ErrorCode::WrongKey
    );
    let passphrase = with_passphrase(Kdf::Argon2id, "pw");
    assert_eq!(
        code_of(Database::open(dir.path(), passphrase)),
        ErrorCode::WrongKey
    );

    // A key for a plain database, coded or not.
    for compression in [Compression::None, Compression::Lz4] {
        let plain = KeepOnFailure::new("encryption test");
        let options = Options {
            compression,
            ..Options::default()
        };
        Database::open(plain.path(), options)
            .unwrap()
            .close()
            .unwrap();
        let with_key = Options {
            encryption: Encryption::None,
            ..keyed(Encryption::None, compression, KEY_A)
        };
        assert_eq!(
            code_of(Database::open(plain.path(), with_key)),
            ErrorCode::InvalidOption
        );
    }

    // New databases: a cipher needs a key, a key needs a cipher, and one key at a time.
    let fresh = KeepOnFailure::new("encryption test");
    let no_key = Options {
        encryption: Encryption::Aes256Gcm,
        ..Options::default()
    };
    assert_eq!(
        code_of(Database::open(fresh.path().join("a"), no_key)),
        ErrorCode::InvalidOption
    );
    let no_cipher = keyed(Encryption::None, Compression::None, KEY_A);
    assert_eq!(
        code_of(Database::open(fresh.path().join("b"), no_cipher)),
        ErrorCode::InvalidOption
    );
    // Refused before a directory was made for them.
    assert!(!fresh.path().join("a").exists() && !fresh.path().join("b").exists());
    let both = Options {
        passphrase: Secret::new("pw"),
        ..keyed(Encryption::Aes256Gcm, Compression::None, KEY_A)
    };
    assert_eq!(
        code_of(Database::open(fresh.path().join("c"), both)),
        ErrorCode::InvalidOption
    );
    let cheap = Options {
        kdf_iterations: 9_999,
        ..with_passphrase(Kdf::Pbkdf2Sha256, "pw")
    };
    assert_eq!(
        code_of(Database::open(fresh.path().join("d"), cheap)),
        ErrorCode::InvalidOption
    );
}

#[test]
fn rekey_changes_the_key_and_keeps_the_data() {
    let dir = KeepOnFailure::new("encryption test");
    let a = keyed(Encryption::ChaCha20Poly1305, Compression::Zstd, KEY_A);
    let db = Database::open(dir.path(), a.clone()).unwrap();
    fill(&db, 500);
    db.flush().unwrap();
    // From a key to a passphrase, and on.
    db.rekey(&with_passphrase(Kdf::Pbkdf2Sha256, "new pw"))
        .unwrap();
    fill(&db, 600);
    db.close().unwrap();
    assert_eq!(
        code_of(Database::open(dir.path(), a.clone())),
        ErrorCode::WrongKey
    );
    let db = Database::open(dir.path(), with_passphrase(Kdf::Argon2id, "new pw")).unwrap();
    check(&db, 600);
    db.rekey(&keyed(Encryption::None, Compression::None, KEY_B))
        .unwrap();
    // Rekey needs a new key, and an encrypted database.
    let err = db.rekey(&Options::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidOption);
    db.close().unwrap();
    let b = keyed(Encryption::None, Compression::Zstd, KEY_B);
    let db = Database::open(dir.path(), b).unwrap();
    check(&db, 600);
    db.verify().unwrap();
    db.close().unwrap();

    let plain = KeepOnFailure::new("encryption test");
    let db = Database::open(plain.path(), Options::default()).unwrap();
    let err = db.rekey(&a).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert_eq!(
        db.check_key(&a).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    db.check_key(&Options::default()).unwrap();
}

#[test]
fn check_key_gives_what_an_open_with_those_options_would() {
    let dir = KeepOnFailure::new("encryption test");
    let a = keyed(Encryption::Aes256Gcm, Compression::Lz4, KEY_A);
    let db = Database::open(dir.path(), a.clone()).unwrap();
    db.check_key(&a).unwrap();
    let b = keyed(Encryption::Aes256Gcm, Compression::Lz4, KEY_B);
    let code = |o: &Options| db.check_key(o).unwrap_err().code();
    assert_eq!(code(&b), ErrorCode::WrongKey);
    assert_eq!(code(&Options::default()), ErrorCode::WrongKey);
    assert_eq!(
        code(&with_passphrase(Kdf::Argon2id, "pw")),
        ErrorCode::WrongKey
    );
    // After a rekey, the new key only.
    let passphrase = with_passphrase(Kdf::Pbkdf2Sha256, "pw");
    db.rekey(&passphrase).unwrap();
    db.check_key(&passphrase).unwrap();
    assert_eq!(code(&a), ErrorCode::WrongKey);
}

/// The extent (offset, stored length) of the first block after the meta pages of `data`.
fn first_block(data: &[u8]) -> (usize, usize) {
    let at = 2 * 4096;
    let stored_len = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
    (at, stored_len)
}

/// Opens the database at `dir` and reads everything back through a verify: the outcome's code.
fn open_and_verify(dir: &Path, options: &Options) -> Result<(), ErrorCode> {
    let db = Database::open(dir, options.clone()).map_err(|e| e.code())?;
    let result = db.verify().map(|_| ()).map_err(|e| e.code());
    db.close().map_err(|e| e.code())?;
    result
}

#[test]
fn every_changed_byte_of_an_encrypted_block_is_corruption() {
    let dir = KeepOnFailure::new("encryption test");
    let options = keyed(Encryption::Aes256Gcm, Compression::Lz4, KEY_A);
    let db = Database::open(dir.path(), options.clone()).unwrap();
    fill(&db, 20);
    db.flush().unwrap();
    db.close().unwrap();
    let data_path = dir.path().join("data.ldb");
    let original = std::fs::read(&data_path).unwrap();
    let (at, len) = first_block(&original);
    assert!(len > 32 && len < 4096, "{len}");
    for i in at..at + len {
        let mut bad = original.clone();
        bad[i] ^= 0x20;
        std::fs::write(&data_path, &bad).unwrap();
        assert_eq!(
            open_and_verify(dir.path(), &options),
            Err(ErrorCode::Corruption),
            "byte {} of the block changed went unnoticed",
            i - at
        );
    }
    std::fs::write(&data_path, &original).unwrap();
    open_and_verify(dir.path(), &options).unwrap();
}

#[test]
fn blocks_swapped_or_copied_from_another_database_are_corruption() {
    let dirs = [
        KeepOnFailure::new("encryption test"),
        KeepOnFailure::new("encryption test"),
    ];
    let options = keyed(Encryption::Aes256Gcm, Compression::None, KEY_A);
    for dir in &dirs {
        let db = Database::open(dir.path(), options.clone()).unwrap();
        // Enough for a few leaves and a branch, the same in both databases.
        fill(&db, 300);
        db.flush().unwrap();
        db.close().unwrap();
    }
    let path = |i: usize| dirs[i].path().join("data.ldb");
    let first = std::fs::read(path(0)).unwrap();
    let second = std::fs::read(path(1)).unwrap();
    let blocks = 2 * 4096..first.len().min(second.len());

    // The other database's blocks, under the same key, at the same places.
    let mut copied = first.clone();
    copied[blocks.clone()].copy_from_slice(&second[blocks.clone()]);
    std::fs::write(path(0), &copied).unwrap();
    assert_eq!(
        open_and_verify(dirs[0].path(), &options),
        Err(ErrorCode::Corruption)
    );

    // Two blocks of this database swapped: each is authentic, but not where it is read.
    let (at, len) = first_block(&first);
    let extent = len.div_ceil(256) * 256;
    let next = at + extent;
    let next_len = u32::from_le_bytes(first[next + 8..next + 12].try_into().unwrap()) as usize;
    let next_extent = next_len.div_ceil(256) * 256;
    assert_eq!(extent, next_extent, "two blocks of one size to swap");
    let mut swapped = first.clone();
    swapped[at..at + extent].copy_from_slice(&first[next..next + extent]);
    swapped[next..next + extent].copy_from_slice(&first[at..at + extent]);
    std::fs::write(path(0), &swapped).unwrap();
    assert_eq!(
        open_and_verify(dirs[0].path(), &options),
        Err(ErrorCode::Corruption)
    );

    std::fs::write(path(0), &first).unwrap();
    open_and_verify(dirs[0].path(), &options).unwrap();
}

/// The offsets of the records (not sync markers) of a WAL segment.
fn records(segment: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut off = 32;
    while off + 32 <= segment.len() {
        let len = u64::from_le_bytes(segment[off + 8..off + 16].try_into().unwrap()) as usize;
        if segment[off..off + 32] == [0; 32] {
            break;
        }
        if len > 0 {
            out.push(off);
        }
        off += (32 + len).div_ceil(8) * 8;
    }
    out
}

/// Rewrites a record's checksums after its payload was changed, as someone who knows the format
/// (but not the key) can.
fn reseal_checksums(segment: &mut [u8], off: usize) {
    let salt = segment[12..16].to_vec();
    let len = u64::from_le_bytes(segment[off + 8..off + 16].try_into().unwrap()) as usize;
    let payload_crc = masked_crc(&segment[off + 32..off + 32 + len]);
    segment[off + 4..off + 8].copy_from_slice(&payload_crc.to_le_bytes());
    let mut salted = salt;
    salted.extend_from_slice(&segment[off + 4..off + 32]);
    let header_crc = masked_crc(&salted);
    segment[off..off + 4].copy_from_slice(&header_crc.to_le_bytes());
}

#[test]
fn a_changed_or_moved_wal_record_is_corruption_even_with_its_checksums_redone() {
    const DIR: &str = "/db";
    let options = Options {
        sync: true,
        ..keyed(Encryption::ChaCha20Poly1305, Compression::None, KEY_A)
    };
    let storage = FaultyStorage::new();
    let open = || Database::open_with_storage(DIR, options.clone(), Arc::new(storage.clone()));
    let db = open().unwrap();
    fill(&db, 5);
    // A crash: the records stay in the WAL, unmerged.
    std::mem::forget(db);
    storage.power_loss(PowerLoss::KeepAll);
    let segment_path = storage
        .file_names(DIR)
        .into_iter()
        .filter(|n| n.ends_with(".log"))
        .map(|n| format!("{DIR}/{n}"))
        .find(|p| !records(&storage.read_file(p).unwrap()).is_empty())
        .expect("a segment with records");
    let original = storage.read_file(&segment_path).unwrap();
    let offsets = records(&original);
    assert!(offsets.len() >= 2, "{offsets:?}");
    let (first, second) = (offsets[0], offsets[1]);
    let first_len = u64::from_le_bytes(original[first + 8..first + 16].try_into().unwrap());
    let reopen = |bytes: &[u8]| {
        storage.write_file(&segment_path, bytes);
        open().map(|db| db.close())
    };
    // Every byte of the first record's payload (the records after it attest it was synced).
    for i in 0..first_len as usize {
        let mut bad = original.clone();
        bad[first + 32 + i] ^= 0x01;
        reseal_checksums(&mut bad, first);
        let code = reopen(&bad).err().map(|e| e.code());
        assert_eq!(code, Some(ErrorCode::Corruption), "payload byte {i}");
    }
    // The second record given the first one's place (its sequence number): bound to its own.
    let mut bad = original.clone();
    let seq = u64::from_le_bytes(bad[first + 16..first + 24].try_into().unwrap());
    bad[second + 16..second + 24].copy_from_slice(&seq.to_le_bytes());
    reseal_checksums(&mut bad, second);
    assert_eq!(
        reopen(&bad).err().map(|e| e.code()),
        Some(ErrorCode::Corruption)
    );
    storage.write_file(&segment_path, &original);
    let db = open().unwrap();
    check(&db, 5);
}

/// A rekey cut by a power loss at each of its operations: afterwards the old key or the new one
/// opens the database, never neither, and the data is whole.
#[test]
fn rekey_cut_at_every_operation_leaves_the_old_or_the_new_key() {
    const DIR: &str = "/db";
    let a = Options {
        memtable_size: 64 << 10,
        ..keyed(Encryption::Aes256Gcm, Compression::Lz4, KEY_A)
    };
    let b = keyed(Encryption::Aes256Gcm, Compression::Lz4, KEY_B);
    let open = |storage: &FaultyStorage, options: &Options| {
        Database::open_with_storage(DIR, options.clone(), Arc::new(storage.clone()))
    };
    let prepare = || {
        let storage = FaultyStorage::new();
        let db = open(&storage, &a).unwrap();
        fill(&db, 300);
        db.flush().unwrap();
        db.close().unwrap();
        storage
    };
    // How many operations an open and an undisturbed rekey take.
    let probe = prepare();
    let before = probe.op_count();
    let db = open(&probe, &a).unwrap();
    db.rekey(&b).unwrap();
    let total = probe.op_count() - before;
    drop(db);
    let (mut old_key, mut new_key) = (0, 0);
    for k in 0..=total + 1 {
        for mode in [
            PowerLoss::DropAll,
            PowerLoss::KeepAll,
            PowerLoss::Random { seed: k },
        ] {
            let storage = prepare();
            storage.fail_op(k, FaultKind::Eio, true);
            if let Ok(db) = open(&storage, &a) {
                let _ = db.rekey(&b);
                std::mem::forget(db);
            }
            storage.power_loss(mode);
            storage.clear_faults();
            let db = match open(&storage, &a) {
                Ok(db) => {
                    old_key += 1;
                    db
                }
                Err(e) => {
                    assert_eq!(e.code(), ErrorCode::WrongKey, "cut at {k} ({mode:?}): {e}");
                    new_key += 1;
                    open(&storage, &b)
                        .unwrap_or_else(|e| panic!("cut at {k} ({mode:?}): neither key opens: {e}"))
                }
            };
            check(&db, 300);
            db.verify().unwrap();
        }
    }
    assert!(old_key > 0 && new_key > 0, "old {old_key}, new {new_key}");
}

/// A storage that notes the (epoch, nonce) of every encrypted block, WAL record and meta page
/// written through it, by the open it was written in.
struct Recording {
    inner: FaultyStorage,
    seen: Arc<std::sync::Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    /// Every nonce written, with what wrote it.
    nonces: std::collections::HashMap<[u8; 12], &'static str>,
    repeats: u64,
    blocks: u64,
    records: u64,
    /// The key epochs each open sealed blocks and records under.
    epochs_by_open: Vec<std::collections::BTreeSet<u32>>,
}

impl Seen {
    fn note(&mut self, what: &'static str, epoch: Option<u32>, nonce: &[u8]) {
        let nonce: [u8; 12] = nonce.try_into().unwrap();
        if self.nonces.insert(nonce, what).is_some() {
            self.repeats += 1;
        }
        if let (Some(epoch), Some(open)) = (epoch, self.epochs_by_open.last_mut()) {
            open.insert(epoch);
        }
    }
}

struct RecordingFile {
    inner: Arc<dyn lightning_db::storage::StorageFile>,
    kind: FileKind,
    seen: Arc<std::sync::Mutex<Seen>>,
}

#[derive(Clone, Copy, PartialEq)]
enum FileKind {
    Pages,
    Wal,
    Other,
}

impl lightning_db::storage::StorageFile for RecordingFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.inner.read_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> std::io::Result<()> {
        self.inner.write_at(buf, offset)?;
        let mut seen = self.seen.lock().unwrap();
        let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        match self.kind {
            FileKind::Pages if offset < 2 * 4096 => {
                // A meta page: its nonce.
                seen.note("meta page", None, &buf[224..236]);
            }
            FileKind::Pages => {
                // Blocks written back to back, each padded to its sectors (the free list's
                // block to more: its extent is taken before its length is known).
                let mut at = 0;
                while at + 32 <= buf.len() && buf[at..at + 32] != [0; 32] {
                    let stored_len = u32_at(buf, at + 8) as usize;
                    assert!(buf[at + 4] >> 4 != 0, "a block in the clear");
                    seen.blocks += 1;
                    seen.note("block", Some(u32_at(buf, at + 16)), &buf[at + 20..at + 32]);
                    at += stored_len.div_ceil(256) * 256;
                }
            }
            FileKind::Wal if offset > 0 => {
                let mut at = 0;
                while at + 32 <= buf.len() && buf[at..at + 32] != [0; 32] {
                    let len = u64::from_le_bytes(buf[at + 8..at + 16].try_into().unwrap()) as usize;
                    if len > 0 {
                        let payload = &buf[at + 32..at + 32 + len];
                        seen.records += 1;
                        seen.note("record", Some(u32_at(payload, 1)), &payload[5..17]);
                    }
                    at += (32 + len).div_ceil(8) * 8;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn sync(&self) -> std::io::Result<()> {
        self.inner.sync()
    }

    fn len(&self) -> std::io::Result<u64> {
        self.inner.len()
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.inner.set_len(len)
    }

    fn map(&self, len: u64) -> std::io::Result<Option<lightning_db::storage::Mapping>> {
        self.inner.map(len)
    }
}

impl lightning_db::storage::Storage for Recording {
    fn create_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        self.inner.create_dir_all(dir)
    }

    fn open(
        &self,
        path: &Path,
        mode: lightning_db::storage::OpenMode,
    ) -> std::io::Result<Arc<dyn lightning_db::storage::StorageFile>> {
        let name = path.file_name().unwrap().to_string_lossy();
        let kind = if name.starts_with("data.ldb") {
            FileKind::Pages
        } else if name.ends_with(".log") {
            FileKind::Wal
        } else {
            FileKind::Other
        };
        Ok(Arc::new(RecordingFile {
            inner: self.inner.open(path, mode)?,
            kind,
            seen: self.seen.clone(),
        }))
    }

    fn exists(&self, path: &Path) -> std::io::Result<bool> {
        self.inner.exists(path)
    }

    fn is_dir(&self, path: &Path) -> std::io::Result<bool> {
        self.inner.is_dir(path)
    }

    fn list(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        self.inner.list(dir)
    }

    fn remove(&self, path: &Path) -> std::io::Result<()> {
        self.inner.remove(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.inner.rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.inner.sync_dir(dir)
    }

    fn lock(&self, path: &Path) -> std::io::Result<Box<dyn lightning_db::storage::FileLock>> {
        self.inner.lock(path)
    }
}

/// Every nonce written, over at least 1M block writes (in a release build; 50K in a debug
/// one, or `LIGHTNING_NONCE_BLOCKS`) with clean reopens and crashes in between, is new; and
/// each open seals under key epochs no earlier open used.
#[test]
fn nonces_never_repeat_over_a_million_block_writes_across_reopens_and_crashes() {
    let target: u64 =
        common::env::env_number("LIGHTNING_NONCE_BLOCKS").unwrap_or(if cfg!(debug_assertions) {
            50_000
        } else {
            1_000_000
        });
    const DIR: &str = "/db";
    let storage = FaultyStorage::new();
    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let recording = Arc::new(Recording {
        inner: storage.clone(),
        seen: seen.clone(),
    });
    let options = Options {
        memtable_size: 64 << 10,
        cache_size: 1 << 20,
        ..keyed(Encryption::ChaCha20Poly1305, Compression::Lz4, KEY_A)
    };
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut opens = 0u64;
    while seen.lock().unwrap().blocks < target {
        seen.lock().unwrap().epochs_by_open.push(Default::default());
        opens += 1;
        let db = Database::open_with_storage(DIR, options.clone(), recording.clone()).unwrap();
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            // Keys spread over the whole tree, so each merge rewrites many leaves.
            db.put(
                format!("{:08}", rng % 200_000).as_bytes(),
                &rng.to_le_bytes(),
            )
            .unwrap();
        }
        if opens.is_multiple_of(3) {
            // A crash: what was not synced may be lost, torn or kept.
            std::mem::forget(db);
            storage.power_loss(PowerLoss::Random { seed: opens });
        } else {
            db.close().unwrap();
        }
    }
    let seen = seen.lock().unwrap();
    println!(
        "{} blocks, {} WAL records and {} nonces over {opens} opens",
        seen.blocks,
        seen.records,
        seen.nonces.len()
    );
    assert_eq!(seen.repeats, 0, "a nonce was written twice");
    let mut used = std::collections::BTreeSet::new();
    for (i, epochs) in seen.epochs_by_open.iter().enumerate() {
        assert!(
            epochs.is_disjoint(&used),
            "open {i} sealed under an epoch an earlier open used: {epochs:?}"
        );
        used.extend(epochs);
    }
}
