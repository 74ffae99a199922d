//! What every object of one open database shares: the handle, whether it is still open, and in
//! which process it was opened.

use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use lightning::safe::locks::RwLock;
use lightning::safe::{Children, Db};
use pyo3::prelude::*;

use crate::errors;

/// Bumped in the child after every `fork()`: handles opened before it belong to the parent.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Registers the fork hook; called once when the module loads.
pub fn install_fork_hook() {
    // SAFETY: registers a handler that only bumps an atomic, which is async-signal-safe.
    unsafe {
        libc::pthread_atfork(None, None, Some(after_fork_in_child));
    }
}

/// The database handle and its guards. The handle sits behind a lock that calls take *with the
/// GIL released*: `close` takes it for writing, so it waits for calls in flight, and nobody waits
/// for the lock while holding the GIL (which would deadlock with a call waiting for the GIL).
///
/// Snapshots, iterators and transactions are registered as children: closing the database
/// releases their C handles too, so the directory's lock is free once `close()` returns and any
/// later use of them raises `ClosedError`.
pub struct DbState {
    db: RwLock<Option<Db>>,
    generation: u64,
    children: Children,
}

/// Where a child keeps its C handle: emptied when the database (or the child) closes. The handle
/// is [`ForkSafe`], so a forked child dropping its copy of the object leaks it.
pub type Slot<T> = lightning::safe::Slot<ForkSafe<Arc<T>>>;

impl DbState {
    pub fn new(db: Db) -> DbState {
        DbState {
            db: RwLock::new(Some(db)),
            generation: FORK_GENERATION.load(Ordering::SeqCst),
            children: Children::new(),
        }
    }

    /// Makes a slot for a child's handle, released when the database closes.
    pub fn adopt<T: Send + Sync + 'static>(&self, handle: T) -> Arc<Slot<T>> {
        self.children.adopt(ForkSafe::new(Arc::new(handle)))
    }

    /// `ClosedError` if the database was closed, or opened in the parent of a fork.
    pub fn check(&self) -> PyResult<()> {
        if self.forked() {
            return Err(errors::closed(
                "this database was opened before fork(); open it again in this process",
            ));
        }
        Ok(())
    }

    fn forked(&self) -> bool {
        current_generation() != self.generation
    }

    /// Runs `f` with the open database, with the GIL released.
    pub fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Db) -> Result<T, lightning::safe::Error> + Send,
    ) -> PyResult<T> {
        self.check()?;
        let result = py.detach(|| {
            let guard = self.db.read();
            guard.as_ref().map(f)
        });
        match result {
            None => Err(errors::closed("the database is closed")),
            Some(r) => r.map_err(errors::to_py),
        }
    }

    /// Runs `f`, a point read, with the open database and the GIL held, if the database's lock
    /// can be had without waiting (only `close` ever holds it exclusively); else as [`with`].
    ///
    /// Why keep the GIL: releasing and retaking it costs about as much as a read from the tree,
    /// and an engine read never waits for a writer or a lock a writer holds for long (it reads
    /// one version, lock-free). It may wait for the disk when its page is not in memory, as
    /// py-lmdb's reads do, which also keep the GIL.
    ///
    /// [`with`]: DbState::with
    pub fn read_holding_gil<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Db) -> Result<T, lightning::safe::Error> + Send,
    ) -> PyResult<T> {
        self.check()?;
        let Some(guard) = self.db.try_read() else {
            return self.with(py, f);
        };
        match guard.as_ref() {
            None => Err(errors::closed("the database is closed")),
            Some(db) => f(db).map_err(errors::to_py),
        }
    }

    /// Runs `f` with a child's handle while the database is open, with the GIL released;
    /// `ClosedError` saying `what` is closed if the child was closed.
    pub fn with_child<H: Send + Sync + 'static, T: Send>(
        &self,
        py: Python<'_>,
        slot: &Slot<H>,
        what: &str,
        f: impl FnOnce(&H) -> Result<T, lightning::safe::Error> + Send,
    ) -> PyResult<T> {
        let handle = slot
            .get()
            .ok_or_else(|| errors::closed(&format!("the {what} is closed")))?;
        self.with(py, |_| f(&handle))
    }

    /// `ClosedError` unless the database is still open here.
    pub fn check_open(&self, py: Python<'_>) -> PyResult<()> {
        self.check()?;
        if self.is_open(py) {
            Ok(())
        } else {
            Err(errors::closed("the database is closed"))
        }
    }

    /// Whether the database is still open here.
    pub fn is_open(&self, py: Python<'_>) -> bool {
        !self.forked() && py.detach(|| self.db.read().is_some())
    }

    /// Closes the database; closing twice is fine. Waits for calls in flight.
    pub fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.check()?;
        let db = py.detach(|| self.db.write().take());
        let Some(mut db) = db else {
            return Ok(());
        };
        // No call is using a child's handle now (calls hold the lock just released, and see the
        // database gone): release them all, then close.
        py.detach(|| {
            self.children.release_all();
            db.close()
        })
        .map_err(errors::to_py)
    }
}

impl Drop for DbState {
    fn drop(&mut self) {
        if self.forked() {
            // The parent owns the files and the background thread is not here: closing from the
            // child would write to the parent's database. Leave the handle alone.
            if let Some(db) = self.db.get_mut().take() {
                std::mem::forget(db);
            }
        }
    }
}

fn current_generation() -> u64 {
    FORK_GENERATION.load(Ordering::Relaxed)
}

/// A C ABI handle that is released on drop only in the process that made it. In the child of a
/// `fork()`, releasing could wait forever on a lock some parent thread held at the fork, or write
/// to the parent's files; the handle is leaked instead.
pub struct ForkSafe<T> {
    value: Option<T>,
    generation: u64,
}

impl<T> ForkSafe<T> {
    pub fn new(value: T) -> ForkSafe<T> {
        ForkSafe {
            value: Some(value),
            generation: current_generation(),
        }
    }
}

/// A copy belongs to the process that made the original: dropped after a fork, it leaks too.
impl<T: Clone> Clone for ForkSafe<T> {
    fn clone(&self) -> ForkSafe<T> {
        ForkSafe {
            value: self.value.clone(),
            generation: self.generation,
        }
    }
}

impl<T> std::ops::Deref for ForkSafe<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value
            .as_ref()
            .expect("a ForkSafe holds its value until dropped")
    }
}

impl<T> std::ops::DerefMut for ForkSafe<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value
            .as_mut()
            .expect("a ForkSafe holds its value until dropped")
    }
}

impl<T> Drop for ForkSafe<T> {
    fn drop(&mut self) {
        if self.generation != current_generation() {
            if let Some(value) = self.value.take() {
                std::mem::forget(value);
            }
        }
    }
}
