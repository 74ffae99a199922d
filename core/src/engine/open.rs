//! Opening a database: telling a database directory from anything else, creating a new one,
//! locking it, reading the newest meta page (`btree/meta.rs`), and replaying the WAL from where
//! that page says (`recovery.rs`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::commit::{CommitQueue, WriterState};
use super::conflicts::ConflictTracker;
use super::counters::Counters;
use super::merge::{MergeSignal, MergeState};
use super::recovery::replay_wal;
use super::state::{panic_message, Engine};
use super::version::Version;
use crate::btree::alloc::Allocator;
use crate::btree::check::check_tree;
use crate::btree::freelist::read_freelist;
use crate::btree::meta::first_sector;
use crate::btree::node::PagePtr;
use crate::btree::pager::{random_database_id, NewCodedFile, Pager};
use crate::btree::tree::Tree;
use crate::codec::{Encryption, KeyRing};
use crate::error::{Error, ErrorCode, IoContext, Result};
use crate::locks::{Condvar, Mutex};
use crate::memtable::Memtable;
use crate::options::Options;
use crate::storage::{FileLock, OpenMode, Storage};
use crate::wal::{parse_segment_file_name, PayloadCoding, WalWriter};

pub(crate) const DATA_FILE: &str = "data.ldb";
const DATA_FILE_TMP: &str = "data.ldb.tmp";
const LOCK_FILE: &str = "LOCK";

/// Opens (or creates) the database at `path`. A panic while opening (a bug) is returned as
/// `INTERNAL`; what was taken (the lock, open files) is released as it unwinds.
pub(crate) fn open(path: &Path, options: Options, storage: Arc<dyn Storage>) -> Result<Engine> {
    catch_unwind(AssertUnwindSafe(|| open_engine(path, options, storage))).unwrap_or_else(
        |payload| {
            Err(Error::internal(format!(
                "a panic while opening: {}",
                panic_message(&*payload)
            )))
        },
    )
}

fn open_engine(path: &Path, options: Options, storage: Arc<dyn Storage>) -> Result<Engine> {
    let data_path = path.join(DATA_FILE);
    // Options that cannot make a new database are refused before a directory is made for it.
    let is_new = !storage.exists(path).ctx("stat", path)?
        || (storage.is_dir(path).ctx("stat", path)?
            && !storage.exists(&data_path).ctx("stat", &data_path)?);
    if is_new {
        check_new_encryption(&options)?;
    }
    let exists = prepare_directory(path, &options, &*storage)?;
    let lock = take_lock(path, &*storage)?;
    if !exists {
        create_page_file(path, &options, &*storage)?;
    }

    let file = storage
        .open(&data_path, OpenMode::Existing)
        .ctx("open", &data_path)?;
    let opened = Pager::open(file, data_path, &options, lock)?;
    let pager = Arc::new(opened.pager);
    let mut meta = opened.meta;
    let tree = Arc::new(Tree::new(
        pager.clone(),
        meta.root,
        meta.generation,
        meta.file_units,
        pager.mapping_for(meta.file_units)?,
    ));
    if opened.other_meta_damaged {
        // One meta page is damaged, so the other is the only witness of the tree: a checksum
        // cannot tell a torn write from damage, so trust its tree only once every page of it
        // checks out, before anything on disk changes.
        check_tree(&tree, &meta).map_err(|e| {
            Error::new(
                e.code(),
                format!(
                    "one meta page is damaged, and the tree the other names does not verify: {}",
                    e.message()
                ),
            )
        })?;
    }
    let freelist = PagePtr {
        id: meta.freelist_head,
        check: meta.freelist_check,
    };
    let (free, freelist_pages) = read_freelist(&pager, freelist, meta.file_units)?;
    let alloc = match meta.is_coded() {
        false => Allocator::new(meta.file_units, free),
        true => Allocator::sectors(first_sector(pager.page_size()), meta.file_units, free),
    };

    let recovered = Memtable::new(meta.wal_start_segment, options.memtable_size);
    let (last_segment, next_seq) = replay_wal(
        path,
        &*storage,
        &meta,
        &recovered,
        pager.keys().map(|k| &**k),
    )?;
    // A crash during a merge can leave pages past the end the meta page names: cut them only now
    // that the freelist and the WAL have been read without error, so a failed open leaves the page
    // file as it was. (Nothing reads them before: the allocator hands out pages from the meta
    // page's count on, overwriting them.)
    if pager.file_len()? > meta.file_units * pager.unit_bytes() {
        pager.truncate(meta.file_units)?;
    }
    if pager.keys().is_some() {
        // This open takes a key epoch of its own, on disk before anything is sealed under it,
        // so no epoch key is used by two opens (whose counts of what they sealed would add up).
        meta.generation += 1;
        pager.write_meta(&meta, true)?;
    }
    let new_segment = last_segment.map_or(meta.wal_start_segment, |s| s + 1);
    let wal_coding = PayloadCoding::for_options(
        options.compression,
        options.compression_level,
        pager.keys().is_some(),
    );
    let wal = WalWriter::create(
        &*storage,
        path,
        new_segment,
        wal_coding,
        pager.keys().cloned(),
    )?;

    let memtables = if recovered.is_empty() {
        vec![Arc::new(recovered)]
    } else {
        vec![
            Arc::new(Memtable::new(new_segment, options.memtable_size)),
            Arc::new(recovered),
        ]
    };
    let has_backlog = memtables.len() > 1;
    let merge = MergeState {
        alloc,
        meta,
        freelist_pages,
        trees: vec![Arc::downgrade(&tree)],
        retired_memtables: Vec::new(),
    };
    Ok(Engine {
        path: path.to_path_buf(),
        wal_dir: path.to_path_buf(),
        wal_coding,
        options,
        storage,
        pager,
        version: ArcSwap::from_pointee(Version {
            memtables,
            tree,
            fork_generation: crate::fork::generation(),
        }),
        version_install: Mutex::new(()),
        visible_seq: AtomicU64::new(next_seq - 1),
        queue: Mutex::new(CommitQueue::default()),
        queue_cond: Condvar::new(),
        gather_cond: Condvar::new(),
        writer: Mutex::new(WriterState::new(wal, next_seq)),
        merge: Mutex::new(merge),
        merge_signal: Mutex::new(MergeSignal {
            work: has_backlog,
            stop: false,
        }),
        merge_cond: Condvar::new(),
        failure: Mutex::new(None),
        failed: AtomicBool::new(false),
        closed: AtomicBool::new(false),
        counters: Counters::default(),
        conflicts: Mutex::new(ConflictTracker::new(next_seq - 1)),
        open_transactions: AtomicUsize::new(0),
        bulk_load_open: AtomicBool::new(false),
        fork_generation: crate::fork::generation(),
    })
}

/// Checks what is at `path`; creates the directory if allowed. Returns whether a database exists.
/// Anything that is not a Lightning DB directory is left untouched.
fn prepare_directory(path: &Path, options: &Options, storage: &dyn Storage) -> Result<bool> {
    if !storage.exists(path).ctx("stat", path)? {
        if !options.create_if_missing {
            return Err(Error::invalid_argument(format!(
                "{}: no database here and create_if_missing is false",
                path.display()
            )));
        }
        create_directory(path, storage)?;
        return Ok(false);
    }
    if !storage.is_dir(path).ctx("stat", path)? {
        return Err(Error::new(
            ErrorCode::NotADatabase,
            format!("{}: is a file, not a database directory", path.display()),
        ));
    }
    let names = storage.list(path).ctx("list", path)?;
    if names.iter().any(|n| n == DATA_FILE) {
        return Ok(true);
    }
    let foreign: Vec<&String> = names
        .iter()
        .filter(|n| *n != LOCK_FILE && *n != DATA_FILE_TMP && parse_segment_file_name(n).is_none())
        .collect();
    if !foreign.is_empty() {
        return Err(Error::new(
            ErrorCode::NotADatabase,
            format!(
                "{}: the directory holds other files (e.g. {:?}) and no Lightning DB database; it was left untouched",
                path.display(),
                foreign[0]
            ),
        ));
    }
    if !options.create_if_missing {
        return Err(Error::invalid_argument(format!(
            "{}: no database here and create_if_missing is false",
            path.display()
        )));
    }
    Ok(false)
}

/// Creates the database directory and any missing parent, and makes each new entry durable: a
/// directory's name lives in its parent, and without a sync of the parent a power loss can take
/// the new directory, and every write acknowledged in it, away.
fn create_directory(path: &Path, storage: &dyn Storage) -> Result<()> {
    let mut new = Vec::new();
    for dir in path.ancestors() {
        if dir.as_os_str().is_empty() || storage.exists(dir).ctx("stat", dir)? {
            break;
        }
        new.push(dir);
    }
    storage.create_dir_all(path).ctx("create directory", path)?;
    for dir in new.iter().rev() {
        let parent = dir.parent().unwrap_or(Path::new(""));
        storage.sync_dir(parent).ctx("sync directory", parent)?;
    }
    Ok(())
}

fn take_lock(path: &Path, storage: &dyn Storage) -> Result<Box<dyn FileLock>> {
    let lock_path = path.join(LOCK_FILE);
    storage.lock(&lock_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            Error::new(
                ErrorCode::Locked,
                format!(
                    "{}: the database is open elsewhere (its LOCK file is held by another process or handle)",
                    path.display()
                ),
            )
        } else {
            Error::io("lock", &lock_path, e)
        }
    })
}

/// Refuses options that cannot make a new database: a cipher without a key or passphrase, or a
/// key or passphrase without a cipher.
fn check_new_encryption(options: &Options) -> Result<()> {
    let has_key = options.encryption_key.is_set() || options.passphrase.is_set();
    match (options.encryption != Encryption::None, has_key) {
        (true, false) => Err(Error::new(
            ErrorCode::InvalidOption,
            format!(
                "option encryption is {}, but neither encryption_key nor passphrase is set",
                options.encryption.name()
            ),
        )),
        (false, true) => Err(Error::new(
            ErrorCode::InvalidOption,
            "option encryption_key or passphrase is set for a new database, but encryption is none (choose aes-256-gcm or chacha20-poly1305)",
        )),
        _ => Ok(()),
    }
}

/// Writes a new page file under a temporary name and renames it into place, so a crash never
/// leaves a half-made database.
fn create_page_file(path: &Path, options: &Options, storage: &dyn Storage) -> Result<()> {
    let tmp = path.join(DATA_FILE_TMP);
    let file = storage.open(&tmp, OpenMode::Create).ctx("create", &tmp)?;
    file.set_len(0).ctx("truncate", &tmp)?;
    // A database created with compression or encryption on is a coded file, whose blocks take
    // only the sectors they need; one created without keeps plain pages and the memory map.
    let coded = options.compression != crate::codec::Compression::None
        || options.encryption != Encryption::None;
    let new = if coded {
        let database_id = random_database_id(&tmp)?;
        let keys = match options.user_key() {
            Some(user) if options.encryption != Encryption::None => Some(
                KeyRing::create(options.encryption, &user, database_id)
                    .map_err(|e| Error::io("make the keys of", &tmp, e))?,
            ),
            _ => None,
        };
        Some((database_id, keys))
    } else {
        None
    };
    let coded = new.as_ref().map(|(database_id, keys)| NewCodedFile {
        database_id: *database_id,
        keys: keys.as_ref(),
    });
    Pager::initialize(&*file, &tmp, options.page_size as usize, coded)?;
    drop(file);
    let data = path.join(DATA_FILE);
    storage.rename(&tmp, &data).ctx("rename", &tmp)?;
    storage.sync_dir(path).ctx("sync directory", path)
}
