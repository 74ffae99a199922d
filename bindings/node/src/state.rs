//! What the objects of one JavaScript `Database` share, and the process-wide registry that lets
//! every `open` of one directory in this process (the main thread and worker threads alike) share
//! one engine.
//!
//! - One engine per directory: the registry maps the directory's canonical path to the open
//!   [`Db`] and the number of handles on it. The first `open` opens the engine with its options;
//!   later ones get the same engine (their options are not applied). The engine is closed when the
//!   last handle closes, so the directory's lock is free once that `close()` returns.
//! - The key or passphrase is checked by every `open`, as the engine checks it for the first: a
//!   later `open` asks the open engine whether its options hold the key (`Db::check_key`, after a
//!   rekey the new one), and with another one, or none, for an encrypted database gets
//!   `LDB_WRONG_KEY` instead of the engine.
//! - One [`Handle`] per JavaScript `Database`: closing it makes its calls fail with `LDB_CLOSED`
//!   and releases the C handles of its snapshots, transactions and iterators (its children), so a
//!   child left referenced by JavaScript never keeps the engine open.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lightning::safe::locks::{Mutex, RwLock};
use lightning::safe::{Children, Db, Error as CallError};

use crate::errors::{closed, to_js, Result};

/// An engine shared by every handle on its directory in this process.
struct Entry {
    db: Arc<Db>,
    handles: usize,
}

/// Open engines by canonical directory path.
static REGISTRY: Mutex<BTreeMap<PathBuf, Entry>> = Mutex::new(BTreeMap::new());

/// The registry's key for `path`: its canonical form where it exists, else the absolute path.
fn registry_key(path: &str) -> PathBuf {
    let path = Path::new(path);
    std::fs::canonicalize(path).unwrap_or_else(|_| std::path::absolute(path).unwrap_or(path.into()))
}

/// One JavaScript `Database`'s reference to a shared engine, and its children.
///
/// Calls take `db` for reading (async calls from the libuv pool too); `close` takes it for
/// writing, so it waits for calls in flight and later calls see `None`.
pub struct Handle {
    db: RwLock<Option<Arc<Db>>>,
    key: PathBuf,
    children: Children,
}

/// Where a child (snapshot, transaction, iterator) keeps its C handle: emptied when the child
/// or its database is closed.
pub type Slot<T> = lightning::safe::Slot<Arc<T>>;

impl Handle {
    /// Opens the database in `path`, or shares the engine already open on it in this process if
    /// `options` hold its key or passphrase (or neither, for a database that is not encrypted).
    pub fn open(path: &str, options: &[(&str, &str)]) -> Result<Handle, CallError> {
        let mut registry = REGISTRY.lock();
        let key = registry_key(path);
        if let Some(entry) = registry.get_mut(&key) {
            entry.db.check_key(options)?;
            entry.handles += 1;
            return Ok(Handle::new(Arc::clone(&entry.db), key));
        }
        let db = Arc::new(Db::open(path, options)?);
        // The directory exists now: its canonical path is the key.
        let key = registry_key(path);
        registry.insert(
            key.clone(),
            Entry {
                db: Arc::clone(&db),
                handles: 1,
            },
        );
        Ok(Handle::new(db, key))
    }

    fn new(db: Arc<Db>, key: PathBuf) -> Handle {
        Handle {
            db: RwLock::new(Some(db)),
            key,
            children: Children::new(),
        }
    }

    /// Runs `f` with the engine; `LDB_CLOSED` if this handle was closed.
    #[inline]
    pub fn with<T>(&self, f: impl FnOnce(&Db) -> Result<T, CallError>) -> Result<T> {
        let guard = self.db.read();
        match guard.as_deref() {
            Some(db) => f(db).map_err(to_js),
            None => Err(closed("database")),
        }
    }

    /// Whether `close()` was called on this handle.
    pub fn is_closed(&self) -> bool {
        self.db.read().is_none()
    }

    /// `LDB_CLOSED` for a child whose C handle is gone: because the database was closed, or
    /// because the child itself (`what`) was.
    pub fn closed_child(&self, what: &str) -> crate::errors::JsErr {
        if self.is_closed() {
            closed("database")
        } else {
            closed(what)
        }
    }

    /// Makes a slot for a child's C handle, released when this handle closes.
    pub fn adopt<T: Send + Sync + 'static>(&self, handle: T) -> Arc<Slot<T>> {
        self.children.adopt(Arc::new(handle))
    }

    /// Closes this handle; closing twice is fine. Waits for its calls in flight, releases its
    /// children, and closes the engine if this was the last handle on it.
    pub fn close(&self) -> Result<(), CallError> {
        let Some(db) = self.db.write().take() else {
            return Ok(());
        };
        self.children.release_all();
        // The registry stays locked until the engine is closed, so an `open` of the same
        // directory meanwhile waits and then opens it anew instead of finding it locked.
        let mut registry = REGISTRY.lock();
        let last = match registry.get_mut(&self.key) {
            Some(entry) if Arc::ptr_eq(&entry.db, &db) => {
                entry.handles -= 1;
                entry.handles == 0
            }
            _ => false,
        };
        if !last {
            return Ok(());
        }
        registry.remove(&self.key);
        match Arc::try_unwrap(db) {
            Ok(mut db) => db.close(),
            // Not expected (every other reference was a handle's); it closes when dropped.
            Err(_) => Ok(()),
        }
    }
}
