//! An encrypted database's keys while it is open: the data key, the key header the meta pages
//! carry (the data key wrapped under the user's key, and how that key is derived), the cipher
//! that authenticates the meta pages, and the epoch keys blocks and WAL records are sealed under.
//!
//! The key section of a coded file's meta page (docs/format.md §4.9), bytes 128..256:
//!
//! ```text
//! 128 u8   cipher (1 AES-256-GCM, 2 ChaCha20-Poly1305); 0: not encrypted, and 128..256 is zero
//! 129 u8   key source: 0 the encryption_key option, 1 Argon2id, 2 PBKDF2-HMAC-SHA256
//! 130 [2]  zero
//! 132 u32  KDF memory in KiB (Argon2id; else 0)
//! 136 u32  KDF iterations (0 for a key)
//! 140 u32  KDF parallelism (0 for a key)
//! 144 [16] KDF salt (zero for a key)
//! 160 [60] the data key wrapped: nonce (12) | encrypted key (32) | tag (16), under the user's key
//!          with associated data "LDB key" | database id | bytes 128..160
//! 220 u32  key epoch: the newest epoch any open of the file may have sealed under
//! 224 [12] meta nonce
//! 236 [16] meta tag: the cipher's tag over no plaintext, under the meta key (HKDF-SHA256 of the
//!          data key, salt the database id, info "lightning-db meta"), with associated data
//!          "LDB meta" | bytes 16..224 of the page | bytes 252..page end
//! ```
//!
//! Epochs: each open takes a new epoch and persists it (in a meta page) before it seals anything,
//! and counts what it seals; long before `MAX_BLOCKS_PER_KEY` the next meta page written takes
//! the next epoch. No epoch key seals more than that many blocks and records, whatever crashes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use super::block::{EpochCipher, EpochKeys};
use super::cipher::{random_nonce, BlockCipher, Encryption, KEY_LEN, NONCE_LEN, TAG_LEN};
use super::kdf::{KdfParams, SALT_LEN};
use super::keys::{derive_key, random_key, unwrap, wrap, Key, WrappedKey, WRAPPED_KEY_LEN};

/// Where the key section starts in a meta page, and its length.
pub(crate) const KEY_SECTION_AT: usize = 128;
pub(crate) const KEY_SECTION_LEN: usize = 128;
const WRAPPED_AT: usize = 160;
const EPOCH_AT: usize = 220;
const META_NONCE_AT: usize = 224;
const META_TAG_AT: usize = 236;

/// The most a key header may ask of a key derivation: the `kdf_memory` and `kdf_iterations`
/// options' ceilings.
const MAX_KDF_MEMORY_KIB: u32 = 4 << 20;
const MAX_KDF_ITERATIONS: u32 = 100_000_000;

/// What the user gives to unlock (or create) an encrypted database: a key or a passphrase.
pub(crate) enum UserKey {
    /// The `encryption_key` option: the key-encryption key itself.
    Key(Key),
    /// The `passphrase` option, with the KDF costs to use when a new key header is made.
    Passphrase(Zeroizing<String>, KdfParams),
}

/// How the key-encryption key is made, as the key header records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeySource {
    Key,
    Passphrase(KdfParams),
}

/// The key header: everything needed to unwrap the data key but the user's secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyHeader {
    pub cipher: Encryption,
    pub source: KeySource,
    pub salt: [u8; SALT_LEN],
    pub wrapped: WrappedKey,
}

/// Why a database did not unlock.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UnlockError {
    /// The key or passphrase is not the database's (or the header was changed).
    WrongKey(String),
    /// The key section is malformed.
    Malformed(String),
}

impl KeyHeader {
    /// The key section's first 32 bytes (128..160), which the wrapped key is bound to.
    fn head_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[0] = self.cipher.id();
        let (source, params) = match self.source {
            KeySource::Key => (0, None),
            KeySource::Passphrase(p) => (p.kdf.id(), Some(p)),
        };
        out[1] = source;
        if let Some(p) = params {
            out[4..8].copy_from_slice(&p.memory_kib.to_le_bytes());
            out[8..12].copy_from_slice(&p.iterations.to_le_bytes());
            out[12..16].copy_from_slice(&p.parallelism.to_le_bytes());
            out[16..32].copy_from_slice(&self.salt);
        }
        out
    }

    fn wrap_aad(head: &[u8], database_id: &[u8; 16]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(7 + 16 + 32);
        aad.extend_from_slice(b"LDB key");
        aad.extend_from_slice(database_id);
        aad.extend_from_slice(head);
        aad
    }

    /// The key header in a meta page, if the page's file is encrypted.
    pub fn parse(page: &[u8]) -> Result<Option<KeyHeader>, String> {
        let section = &page[KEY_SECTION_AT..KEY_SECTION_AT + KEY_SECTION_LEN];
        if section[0] == 0 {
            return if section.iter().all(|&b| b == 0) {
                Ok(None)
            } else {
                Err("key section of a plain file is not zero".into())
            };
        }
        let cipher = Encryption::from_id(section[0])
            .filter(|c| *c != Encryption::None)
            .ok_or_else(|| format!("unknown cipher {}", section[0]))?;
        let u32_at = |at: usize| u32::from_le_bytes(page[at..at + 4].try_into().unwrap());
        let source = match page[129] {
            0 => KeySource::Key,
            id => {
                let kdf = super::kdf::Kdf::from_id(id)
                    .ok_or_else(|| format!("unknown key derivation {id}"))?;
                let params = KdfParams {
                    kdf,
                    memory_kib: u32_at(132),
                    iterations: u32_at(136),
                    parallelism: u32_at(140),
                };
                // The floors and ceilings bound what a crafted header can make an open skip
                // or spend (the options' own limits: 4 GiB of memory, 10^8 iterations).
                params.check_floors()?;
                if params.memory_kib > MAX_KDF_MEMORY_KIB || params.iterations > MAX_KDF_ITERATIONS
                {
                    return Err(format!(
                        "key derivation costs over the limits: {} KiB, {} iterations",
                        params.memory_kib, params.iterations
                    ));
                }
                KeySource::Passphrase(params)
            }
        };
        let header = KeyHeader {
            cipher,
            source,
            salt: page[144..160].try_into().unwrap(),
            wrapped: WrappedKey::from_bytes(
                page[WRAPPED_AT..WRAPPED_AT + WRAPPED_KEY_LEN]
                    .try_into()
                    .unwrap(),
            ),
        };
        if header.head_bytes()[..] != page[KEY_SECTION_AT..WRAPPED_AT] {
            return Err("key section's reserved bytes are not zero".into());
        }
        Ok(Some(header))
    }

    /// The key-encryption key `user` makes under this header.
    fn kek(&self, user: &UserKey) -> Result<Key, UnlockError> {
        match (&self.source, user) {
            (KeySource::Key, UserKey::Key(key)) => Ok(key.clone()),
            (KeySource::Passphrase(params), UserKey::Passphrase(passphrase, _)) => params
                .derive(passphrase.as_bytes(), &self.salt)
                .map_err(UnlockError::Malformed),
            (KeySource::Key, UserKey::Passphrase(..)) => Err(UnlockError::WrongKey(
                "the database is encrypted under a key (encryption_key), not a passphrase".into(),
            )),
            (KeySource::Passphrase(_), UserKey::Key(_)) => Err(UnlockError::WrongKey(
                "the database is encrypted under a passphrase, not a key (encryption_key)".into(),
            )),
        }
    }

    /// A new header wrapping `data_key` for `user`, with a fresh salt.
    fn new(
        cipher: Encryption,
        user: &UserKey,
        data_key: &Key,
        database_id: &[u8; 16],
    ) -> std::io::Result<KeyHeader> {
        let mut salt = [0u8; SALT_LEN];
        let source = match user {
            UserKey::Key(_) => KeySource::Key,
            UserKey::Passphrase(_, params) => {
                getrandom::fill(&mut salt).map_err(std::io::Error::other)?;
                KeySource::Passphrase(*params)
            }
        };
        let mut header = KeyHeader {
            cipher,
            source,
            salt,
            wrapped: WrappedKey {
                nonce: [0; NONCE_LEN],
                ciphertext: [0; KEY_LEN],
                tag: [0; TAG_LEN],
            },
        };
        let kek = header.kek(user).map_err(|e| match e {
            UnlockError::WrongKey(m) | UnlockError::Malformed(m) => std::io::Error::other(m),
        })?;
        let aad = Self::wrap_aad(&header.head_bytes(), database_id);
        header.wrapped = wrap(cipher, &kek, data_key, &aad)?;
        Ok(header)
    }
}

/// The keys of an open encrypted database.
pub(crate) struct KeyRing {
    pub kind: Encryption,
    database_id: [u8; 16],
    data_key: Key,
    meta_cipher: BlockCipher,
    header: crate::locks::Mutex<KeyHeader>,
    /// Epoch keys for reading, derived as blocks of each epoch are met.
    readers: RwLock<HashMap<u32, Arc<BlockCipher>>>,
    /// The epoch key sealing now, and how much it has sealed.
    sealing: RwLock<Arc<EpochCipher>>,
    sealed: AtomicU64,
    /// The newest epoch a meta page on disk names.
    persisted_epoch: AtomicU64,
}

/// After this many seals under one epoch key the next meta page takes the next epoch; at
/// `MAX_BLOCKS_PER_KEY` sealing stops until it has.
const ROTATE_AFTER: u64 = super::cipher::MAX_BLOCKS_PER_KEY / 2;

impl KeyRing {
    /// The keys of a new database: a random data key wrapped for `user`.
    pub fn create(
        cipher: Encryption,
        user: &UserKey,
        database_id: [u8; 16],
    ) -> std::io::Result<KeyRing> {
        let data_key = random_key()?;
        let header = KeyHeader::new(cipher, user, &data_key, &database_id)?;
        Ok(KeyRing::with(header, data_key, database_id, 0))
    }

    /// The keys of the database whose newest meta page is `page`, unlocked with `user`; the
    /// page's own tag is checked too.
    pub fn unlock(
        page: &[u8],
        header: KeyHeader,
        database_id: [u8; 16],
        user: &UserKey,
    ) -> Result<KeyRing, UnlockError> {
        let kek = header.kek(user)?;
        let aad = KeyHeader::wrap_aad(&header.head_bytes(), &database_id);
        let data_key = unwrap(header.cipher, &kek, &header.wrapped, &aad)
            .map_err(|_| wrong_key(header.source))?;
        let epoch = u32::from_le_bytes(page[EPOCH_AT..EPOCH_AT + 4].try_into().unwrap());
        let ring = KeyRing::with(header, data_key, database_id, epoch);
        ring.check_meta(page).map_err(UnlockError::Malformed)?;
        Ok(ring)
    }

    /// Whether `user` unwraps this database's data key under the current key header.
    pub fn accepts(&self, user: &UserKey) -> Result<(), UnlockError> {
        let header = *self.header.lock();
        let kek = header.kek(user)?;
        let aad = KeyHeader::wrap_aad(&header.head_bytes(), &self.database_id);
        unwrap(header.cipher, &kek, &header.wrapped, &aad)
            .map(drop)
            .map_err(|_| wrong_key(header.source))
    }

    fn with(header: KeyHeader, data_key: Key, database_id: [u8; 16], epoch: u32) -> KeyRing {
        let kind = header.cipher;
        let meta_key = derive_key(&data_key, &database_id, b"lightning-db meta");
        let meta_cipher = BlockCipher::new(kind, &meta_key).expect("an encrypted header");
        let sealing = EpochCipher {
            kind,
            epoch,
            cipher: epoch_cipher(kind, &data_key, &database_id, epoch),
        };
        KeyRing {
            kind,
            database_id,
            data_key,
            meta_cipher,
            header: crate::locks::Mutex::new(header),
            readers: RwLock::new(HashMap::new()),
            sealing: RwLock::new(Arc::new(sealing)),
            sealed: AtomicU64::new(0),
            persisted_epoch: AtomicU64::new(epoch.into()),
        }
    }

    /// The epoch key to seal one more block or record under; an error once the epoch is spent
    /// and no meta page has taken the next one yet (a merge writes one long before).
    pub fn sealer(&self) -> std::io::Result<Arc<EpochCipher>> {
        let sealer = self
            .sealing
            .read()
            .expect("no panic holds the lock")
            .clone();
        if self.sealed.fetch_add(1, Ordering::Relaxed) >= super::cipher::MAX_BLOCKS_PER_KEY {
            return Err(std::io::Error::other(format!(
                "key epoch {} is spent and no merge has taken the next one yet",
                sealer.epoch
            )));
        }
        Ok(sealer)
    }

    /// The key epoch the next meta page names: the next one when this open has not yet taken
    /// an epoch of its own (`fresh`) or the current one is half spent.
    pub fn epoch_for_meta(&self, fresh: bool) -> u32 {
        let persisted = self.persisted_epoch.load(Ordering::Acquire) as u32;
        let current = self.sealing.read().expect("no panic holds the lock").epoch;
        if fresh || self.sealed.load(Ordering::Relaxed) >= ROTATE_AFTER {
            persisted.max(current) + 1
        } else {
            persisted
        }
    }

    /// A meta page naming `epoch` is durable: seal under it from now on if it is new.
    pub fn epoch_persisted(&self, epoch: u32) {
        let previous = self
            .persisted_epoch
            .fetch_max(epoch.into(), Ordering::AcqRel);
        let mut sealing = self.sealing.write().expect("no panic holds the lock");
        if u64::from(epoch) > previous || epoch > sealing.epoch {
            *sealing = Arc::new(EpochCipher {
                kind: self.kind,
                epoch,
                cipher: epoch_cipher(self.kind, &self.data_key, &self.database_id, epoch),
            });
            self.sealed.store(0, Ordering::Relaxed);
        }
    }

    /// Writes the key section, naming `epoch`, into `page` (a meta page whose other fields are
    /// final), and its tag.
    pub fn stamp_meta(&self, page: &mut [u8], epoch: u32) -> std::io::Result<()> {
        let header = *self.header.lock();
        page[KEY_SECTION_AT..WRAPPED_AT].copy_from_slice(&header.head_bytes());
        page[WRAPPED_AT..WRAPPED_AT + WRAPPED_KEY_LEN].copy_from_slice(&header.wrapped.to_bytes());
        page[EPOCH_AT..EPOCH_AT + 4].copy_from_slice(&epoch.to_le_bytes());
        let nonce = random_nonce()?;
        page[META_NONCE_AT..META_TAG_AT].copy_from_slice(&nonce);
        let tag = self.meta_cipher.seal(&nonce, &meta_aad(page), &mut []);
        page[META_TAG_AT..META_TAG_AT + TAG_LEN].copy_from_slice(&tag);
        Ok(())
    }

    /// Checks a meta page's tag (and that its key header is this ring's).
    pub fn check_meta(&self, page: &[u8]) -> Result<(), String> {
        let nonce: [u8; NONCE_LEN] = page[META_NONCE_AT..META_TAG_AT].try_into().unwrap();
        let tag: [u8; TAG_LEN] = page[META_TAG_AT..META_TAG_AT + TAG_LEN].try_into().unwrap();
        self.meta_cipher
            .open(&nonce, &meta_aad(page), &mut [], &tag)
            .map_err(|_| "meta page does not authenticate (changed after it was written)".into())
    }

    /// Wraps the data key for `user` under a new header, returning the one it replaces (to put
    /// back if the meta page naming the new one is not written).
    pub fn rewrap(&self, user: &UserKey) -> std::io::Result<KeyHeader> {
        let new = KeyHeader::new(self.kind, user, &self.data_key, &self.database_id)?;
        Ok(std::mem::replace(&mut *self.header.lock(), new))
    }

    /// Puts back a header [`KeyRing::rewrap`] replaced.
    pub fn restore_header(&self, header: KeyHeader) {
        *self.header.lock() = header;
    }

    /// The id of the database these keys are for.
    pub fn database_id(&self) -> &[u8; 16] {
        &self.database_id
    }
}

impl EpochKeys for KeyRing {
    fn cipher(&self, kind: Encryption, epoch: u32) -> Option<Arc<BlockCipher>> {
        if kind != self.kind {
            return None;
        }
        if let Some(c) = self
            .readers
            .read()
            .expect("no panic holds the lock")
            .get(&epoch)
        {
            return Some(c.clone());
        }
        let cipher = Arc::new(epoch_cipher(kind, &self.data_key, &self.database_id, epoch));
        self.readers
            .write()
            .expect("no panic holds the lock")
            .insert(epoch, cipher.clone());
        Some(cipher)
    }

    fn encrypted(&self) -> bool {
        true
    }
}

/// The error for a key or passphrase that does not unwrap the data key.
fn wrong_key(source: KeySource) -> UnlockError {
    UnlockError::WrongKey(match source {
        KeySource::Key => "the encryption_key is not this database's".into(),
        KeySource::Passphrase(_) => "the passphrase is not this database's".into(),
    })
}

fn epoch_cipher(
    kind: Encryption,
    data_key: &Key,
    database_id: &[u8; 16],
    epoch: u32,
) -> BlockCipher {
    let mut info = Vec::with_capacity(22);
    info.extend_from_slice(b"lightning-db epoch");
    info.extend_from_slice(&epoch.to_le_bytes());
    let key = derive_key(data_key, database_id, &info);
    BlockCipher::new(kind, &key).expect("an encrypted database's cipher")
}

/// What a meta page's tag covers: every byte of the page but its header (whose checksum covers
/// the page) and the nonce and tag themselves.
fn meta_aad(page: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(8 + page.len());
    aad.extend_from_slice(b"LDB meta");
    aad.extend_from_slice(&page[16..META_NONCE_AT]);
    aad.extend_from_slice(&page[META_TAG_AT + TAG_LEN..]);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: [u8; 16] = [7; 16];

    fn key_user(byte: u8) -> UserKey {
        UserKey::Key(Zeroizing::new([byte; KEY_LEN]))
    }

    fn passphrase_user(passphrase: &str, params: KdfParams) -> UserKey {
        UserKey::Passphrase(Zeroizing::new(passphrase.into()), params)
    }

    fn meta_page(ring: &KeyRing, epoch: u32) -> Vec<u8> {
        let mut page = vec![0u8; 4096];
        page[16..24].copy_from_slice(b"LIGHTNDB");
        page[40..48].copy_from_slice(&77u64.to_le_bytes());
        ring.stamp_meta(&mut page, epoch).unwrap();
        page
    }

    fn unlock(page: &[u8], user: &UserKey) -> Result<KeyRing, UnlockError> {
        let header = KeyHeader::parse(page)
            .unwrap()
            .expect("an encrypted header");
        KeyRing::unlock(page, header, DB, user)
    }

    #[test]
    fn a_meta_page_unlocks_with_its_key_only_and_any_change_fails() {
        for cipher in [Encryption::Aes256Gcm, Encryption::ChaCha20Poly1305] {
            let ring = KeyRing::create(cipher, &key_user(1), DB).unwrap();
            let page = meta_page(&ring, 5);
            let opened = unlock(&page, &key_user(1)).unwrap();
            assert_eq!(opened.sealer().unwrap().epoch, 5);
            assert!(matches!(
                unlock(&page, &key_user(2)),
                Err(UnlockError::WrongKey(_))
            ));
            // Every byte past the page header: the key section, the tree's fields, the rest.
            for i in (16..4096).step_by(7).chain(128..256) {
                let mut bad = page.clone();
                bad[i] ^= 0x04;
                let outcome = KeyHeader::parse(&bad)
                    .map_err(UnlockError::Malformed)
                    .and_then(|h| match h {
                        Some(h) => KeyRing::unlock(&bad, h, DB, &key_user(1)).map(|_| ()),
                        None => Err(UnlockError::Malformed("no header".into())),
                    });
                assert!(
                    outcome.is_err(),
                    "{cipher:?}: byte {i} changed went unnoticed"
                );
            }
            // The same header in another database's file does not unwrap.
            let header = KeyHeader::parse(&page).unwrap().unwrap();
            assert!(KeyRing::unlock(&page, header, [8; 16], &key_user(1)).is_err());
        }
    }

    #[test]
    fn a_passphrase_header_records_its_kdf_and_salt() {
        let params = KdfParams {
            kdf: super::super::kdf::Kdf::Pbkdf2Sha256,
            memory_kib: 0,
            iterations: 10_000,
            parallelism: 1,
        };
        let user = passphrase_user("pw", params);
        let ring = KeyRing::create(Encryption::Aes256Gcm, &user, DB).unwrap();
        let page = meta_page(&ring, 1);
        let header = KeyHeader::parse(&page).unwrap().unwrap();
        assert_eq!(header.source, KeySource::Passphrase(params));
        assert_ne!(header.salt, [0; SALT_LEN]);
        // Opening with other costs in the options changes nothing: the header's are used.
        let other = KdfParams {
            iterations: 20_000,
            ..params
        };
        unlock(&page, &passphrase_user("pw", other)).unwrap();
        assert!(unlock(&page, &passphrase_user("pW", params)).is_err());
        assert!(matches!(
            unlock(&page, &key_user(1)),
            Err(UnlockError::WrongKey(_))
        ));
        // Rewrapped for a key: the old passphrase no longer opens it; the data key is the same.
        ring.rewrap(&key_user(3)).unwrap();
        let page = meta_page(&ring, 2);
        let reopened = unlock(&page, &key_user(3)).unwrap();
        assert!(matches!(
            unlock(&page, &passphrase_user("pw", params)),
            Err(UnlockError::WrongKey(_))
        ));
        assert_eq!(*reopened.data_key, *ring.data_key);
    }

    #[test]
    fn epochs_move_on_at_each_open_and_when_half_spent() {
        let ring = KeyRing::create(Encryption::Aes256Gcm, &key_user(1), DB).unwrap();
        assert_eq!(ring.epoch_for_meta(false), 0);
        // An open takes the next epoch, and seals under it once a meta page names it.
        assert_eq!(ring.epoch_for_meta(true), 1);
        assert_eq!(ring.sealer().unwrap().epoch, 0);
        ring.epoch_persisted(1);
        assert_eq!(ring.sealer().unwrap().epoch, 1);
        assert_eq!(ring.epoch_for_meta(false), 1);
        // Half spent: the next meta page takes the next epoch; spent: sealing stops until then.
        ring.sealed.store(ROTATE_AFTER, Ordering::Relaxed);
        assert_eq!(ring.epoch_for_meta(false), 2);
        ring.sealed
            .store(super::super::cipher::MAX_BLOCKS_PER_KEY, Ordering::Relaxed);
        assert!(ring.sealer().is_err());
        ring.epoch_persisted(2);
        assert_eq!(ring.sealer().unwrap().epoch, 2);
        // Blocks of every epoch stay readable.
        for epoch in 0..3 {
            assert!(ring.cipher(Encryption::Aes256Gcm, epoch).is_some());
        }
        assert!(ring.cipher(Encryption::ChaCha20Poly1305, 0).is_none());
    }

    #[test]
    fn a_header_asking_too_much_or_too_little_of_the_kdf_is_refused() {
        let params = KdfParams {
            kdf: super::super::kdf::Kdf::Argon2id,
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let user = passphrase_user("pw", params);
        let ring = KeyRing::create(Encryption::Aes256Gcm, &user, DB).unwrap();
        let page = meta_page(&ring, 1);
        assert!(KeyHeader::parse(&page).unwrap().is_some());
        for (at, value) in [
            (132, u32::MAX),
            (132, 512),
            (136, 0),
            (136, 200_000_000),
            (140, 17),
        ] {
            let mut bad = page.clone();
            bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
            assert!(KeyHeader::parse(&bad).is_err(), "{at}: {value}");
        }
    }
}
