//! After `fork()`: the child gives up what it inherited of the parent's open databases.
//!
//! A forked child inherits every descriptor, the `LOCK` file's included, and an `flock` lasts as
//! long as any descriptor of its open file description does. So a child that never touched the
//! database kept it locked: the parent could not reopen it after closing, and nobody could open it
//! until every child had exited. And the child's copies of the parent's handles must not write to
//! the parent's files, nor wait for the parent's threads, which do not exist in the child.
//!
//! The first lock taken registers a child handler with `pthread_atfork`. In the child it
//! - points each registered `LOCK` descriptor at `/dev/null` (`dup3`), which drops the child's
//!   reference to the locked file: the parent keeps its lock, and once the parent closes, the lock
//!   is free whatever the children do. (`flock(LOCK_UN)` would be wrong: it unlocks the open file
//!   description the parent shares.) The descriptor number stays taken, so the later close of the
//!   inherited handle closes `/dev/null`, never a file the child opened since;
//! - bumps the fork generation: every handle opened before answers `CLOSED`, and closing it
//!   touches nothing (see `Database::close_in_place`).
//!
//! The handler runs in the child as `fork()` returns there, so the parent can count on the lock
//! being free of the child once the child has run any code of its own (not at the instant its own
//! `fork()` returns: the child may not have been scheduled yet).
//!
//! The handler only does async-signal-safe things: atomics, `open`, `dup3`, `close`.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::Once;
use std::thread::JoinHandle;

use crate::error::{Error, ErrorCode, Result};
use crate::locks::Mutex;

/// Bumped in the child after every `fork()`.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// How many `LOCK` descriptors can be registered at once: open databases in one process. A lock
/// taken when every slot is in use is not registered (a child would then hold it, as before).
const SLOTS: usize = 256;

/// Registered `LOCK` descriptors, -1 in a free slot. Lock-free, so the child handler can read it
/// whatever another thread was doing at the fork.
static LOCK_FDS: [AtomicI32; SLOTS] = [const { AtomicI32::new(-1) }; SLOTS];

static HANDLER: Once = Once::new();

/// The number of forks this process descends from (0 in a process that was not forked since the
/// library was loaded). A handle opened at another generation belongs to an ancestor.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// `Err(CLOSED)` if this process is a child forked after generation `opened_at`: a handle the
/// parent opened, which the child must leave alone.
#[inline]
pub(crate) fn check_not_inherited(opened_at: u64) -> Result<()> {
    if opened_at == generation() {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::Closed,
        "this handle was opened before fork(), by the parent process; open the database again \
         in this process once the parent has closed it",
    ))
}

/// Keeps the handle of a thread of the parent, which does not exist in this child: joining it
/// would wait forever and detaching it would touch the parent's bookkeeping, so it is kept,
/// reachable, until the process exits.
pub(crate) fn keep_parents_thread(thread: JoinHandle<()>) {
    static KEPT: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());
    KEPT.lock().push(thread);
}

/// A registered `LOCK` descriptor: unregistered when dropped, which must happen before the
/// descriptor is closed.
#[derive(Debug)]
pub(crate) struct LockRegistration {
    slot: Option<usize>,
}

/// Registers `fd`, the descriptor holding a database's `flock`, for release in forked children.
pub(crate) fn register_lock(fd: i32) -> LockRegistration {
    HANDLER.call_once(|| {
        // SAFETY: registers a child handler that only touches atomics and calls the
        // async-signal-safe `open`, `dup3` and `close`.
        unsafe {
            libc::pthread_atfork(None, None, Some(release_in_child));
        }
    });
    let slot = LOCK_FDS.iter().position(|slot| {
        slot.compare_exchange(-1, fd, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    });
    LockRegistration { slot }
}

impl Drop for LockRegistration {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            LOCK_FDS[slot].store(-1, Ordering::Release);
        }
    }
}

extern "C" fn release_in_child() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
    // SAFETY: a NUL-terminated path; `open` is async-signal-safe.
    let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if null < 0 {
        return;
    }
    for slot in &LOCK_FDS {
        let fd = slot.load(Ordering::Acquire);
        if fd >= 0 {
            // SAFETY: `fd` is a descriptor this process holds (registered while open); `dup3`
            // atomically makes it refer to `/dev/null` instead, dropping the child's reference
            // to the locked file.
            unsafe { libc::dup3(null, fd, libc::O_CLOEXEC) };
        }
    }
    // SAFETY: `null` was opened above and is not used after this.
    unsafe { libc::close(null) };
}
