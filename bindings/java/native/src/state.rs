//! What the Java objects' `long` handles point to, and how closing works.
//!
//! A `LightningDb` holds a pointer to a `Box<Arc<DbState>>`; a snapshot, transaction, iterator
//! or bulk load holds a pointer to a `Box<Child<T>>`. `close()` (native `close`) releases the
//! engine's handle but leaves the box, which the Java object's `Cleaner` frees ([`free_db`],
//! [`free_child`]) once the object is unreachable: a thread still inside a call made through the
//! object keeps the object reachable (it is the native method's receiver), so the box outlives
//! every call.

use std::sync::Arc;

use jni::sys::jlong;
use lightning::safe::locks::RwLock;
use lightning::safe::{Children, Db};

use crate::errors::{self, Result};

/// The database handle and the children to release when it closes.
///
/// Calls run under the read lock; `close` takes the write lock, so it waits for calls in flight,
/// and releases every child's handle before closing the database: once `close()` returns, the
/// directory's lock is free and every child's later use fails with `CLOSED`.
pub struct DbState {
    db: RwLock<Option<Db>>,
    children: Children,
}

/// Where a child keeps its engine handle: emptied when the database (or the child) closes.
pub type Slot<T> = lightning::safe::Slot<Arc<T>>;

impl DbState {
    pub fn new(db: Db) -> DbState {
        DbState {
            db: RwLock::new(Some(db)),
            children: Children::new(),
        }
    }

    /// Runs `f` with the open database; `CLOSED` once it was closed.
    pub fn with<T>(&self, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        let guard = self.db.read();
        match guard.as_ref() {
            Some(db) => f(db),
            None => Err(errors::closed("database")),
        }
    }

    /// Closes the database; closing twice is fine. Waits for calls in flight.
    pub fn close(&self) -> Result<()> {
        let Some(mut db) = self.db.write().take() else {
            return Ok(());
        };
        // No call is using a child's handle now (calls hold the lock just released, and see the
        // database gone): release them all, then close.
        self.children.release_all();
        db.close()?;
        Ok(())
    }

    /// Registers a child's handle, to be released when the database closes. Called with the
    /// read lock held (inside [`DbState::with`]), so a `close` cannot slip in between the
    /// child's creation and its registration (lock order: `db`, then `children`).
    fn adopt<T: Send + Sync + 'static>(&self, handle: T) -> Arc<Slot<T>> {
        self.children.adopt(Arc::new(handle))
    }
}

/// A snapshot's, transaction's, iterator's or bulk load's state: its database and its own
/// handle.
pub struct Child<T> {
    state: Arc<DbState>,
    slot: Arc<Slot<T>>,
    /// What the child is, for `CLOSED` messages: "snapshot", "transaction", "iterator",
    /// "bulk load".
    what: &'static str,
}

impl<T: Send + Sync + 'static> Child<T> {
    /// A new child of `state`, as a handle for Java; call it inside `state.with` (see
    /// [`DbState::adopt`]).
    pub fn into_handle(state: &Arc<DbState>, handle: T, what: &'static str) -> jlong {
        let child = Child {
            state: Arc::clone(state),
            slot: state.adopt(handle),
            what,
        };
        Box::into_raw(Box::new(child)) as jlong
    }

    /// Runs `f` with the child's handle while the database is open; `CLOSED` if the child or
    /// the database was closed.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> Result<R>) -> Result<R> {
        self.state.with(|_| {
            let handle = self.slot.get().ok_or_else(|| errors::closed(self.what))?;
            f(&handle)
        })
    }

    /// The database the child belongs to.
    pub fn state(&self) -> &Arc<DbState> {
        &self.state
    }

    /// Releases the child's handle; closing twice is fine.
    pub fn close(&self) {
        self.slot.clear();
    }
}

/// A database handle for Java.
pub fn db_into_handle(db: Db) -> jlong {
    Box::into_raw(Box::new(Arc::new(DbState::new(db)))) as jlong
}

/// The state behind a database handle.
///
/// # Safety
/// `handle` must come from [`db_into_handle`] and not be freed yet ([`free_db`]).
pub unsafe fn db<'a>(handle: jlong) -> Result<&'a Arc<DbState>> {
    // SAFETY: per this function's contract, a live `Box<Arc<DbState>>`.
    unsafe { (handle as *const Arc<DbState>).as_ref() }.ok_or_else(|| errors::closed("database"))
}

/// The child behind a handle.
///
/// # Safety
/// `handle` must come from [`Child::into_handle`] with this `T` and not be freed yet.
pub unsafe fn child<'a, T>(handle: jlong) -> Result<&'a Child<T>> {
    // SAFETY: per this function's contract, a live `Box<Child<T>>`.
    unsafe { (handle as *const Child<T>).as_ref() }.ok_or_else(|| errors::closed("object"))
}

/// Frees a database handle (the `Cleaner`'s last step); 0 is fine.
///
/// # Safety
/// `handle` must come from [`db_into_handle`], be freed once, and no call may use it any more.
pub unsafe fn free_db(handle: jlong) {
    if handle != 0 {
        // SAFETY: per this function's contract.
        drop(unsafe { Box::from_raw(handle as *mut Arc<DbState>) });
    }
}

/// Frees a child handle (the `Cleaner`'s last step); 0 is fine.
///
/// # Safety
/// `handle` must come from [`Child::into_handle`] with this `T`, be freed once, and no call may
/// use it any more.
pub unsafe fn free_child<T>(handle: jlong) {
    if handle != 0 {
        // SAFETY: per this function's contract.
        drop(unsafe { Box::from_raw(handle as *mut Child<T>) });
    }
}
