//! Locks for the engine and its bindings: std's futex-based primitives, without lock poisoning.
//!
//! Why not `parking_lot`: it keeps one process-wide table of parked threads, whose entries live
//! on the parked threads' stacks. After `fork()` the child inherits entries of parent threads
//! that do not exist there, and glibc hands their stacks to the child's new threads; the next
//! wake-up that walks such a bucket then follows garbage (a crash or a spin, seen about once in
//! a hundred forks from Python). std's locks keep their whole state in the lock word, so a
//! child that opens a database of its own never meets the parent's waiters.
//!
//! Poisoning is dropped on purpose: a panic is a bug that the FFI boundary reports as
//! `INTERNAL`, and every structure guarded here stays consistent across a panic (each critical
//! section either completes its update or leaves the previous value), as with `parking_lot`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::PoisonError;

pub use std::sync::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};

/// A mutual-exclusion lock whose `lock` never fails.
#[derive(Debug, Default)]
pub struct Mutex<T: ?Sized>(std::sync::Mutex<T>);

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`.
    pub const fn new(value: T) -> Self {
        Self(std::sync::Mutex::new(value))
    }

    /// The guarded value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Blocks until the lock is held.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The lock if it is free now, `None` if another thread holds it.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        match self.0.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The guarded value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A readers-writer lock whose `read` and `write` never fail.
#[derive(Debug, Default)]
pub struct RwLock<T: ?Sized>(std::sync::RwLock<T>);

impl<T> RwLock<T> {
    /// A new unlocked lock holding `value`.
    pub const fn new(value: T) -> Self {
        Self(std::sync::RwLock::new(value))
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Blocks until shared access is held.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shared access if it can be had now, `None` if a writer holds or waits for the lock.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        match self.0.try_read() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Blocks until exclusive access is held.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The guarded value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A condition variable paired with a [`Mutex`], whose notify costs no system call when no
/// thread waits (std's futex condvar always makes one; the commit path notifies on every write).
///
/// As with any condvar, a waiter re-checks its condition under the mutex, and the state it waits
/// for must be changed with that mutex held before `notify_all` is called (during or after).
#[derive(Debug, Default)]
pub struct Condvar {
    inner: std::sync::Condvar,
    /// Threads inside `wait`. Counted with the mutex held, so a notifier that changed the state
    /// under the mutex sees every waiter that could have missed the change (the mutex orders
    /// the two; no stronger ordering is needed).
    waiting: AtomicUsize,
}

impl Condvar {
    /// A new condition variable.
    pub const fn new() -> Self {
        Self {
            inner: std::sync::Condvar::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Releases `guard`, sleeps until notified (or spuriously woken), and locks again.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let guard = self
            .inner
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner);
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        guard
    }

    /// As `wait`, for at most `timeout`.
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: std::time::Duration,
    ) -> MutexGuard<'a, T> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let (guard, _) = self
            .inner
            .wait_timeout(guard, timeout)
            .unwrap_or_else(PoisonError::into_inner);
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        guard
    }

    /// Wakes every waiting thread.
    pub fn notify_all(&self) {
        if self.waiting.load(Ordering::Relaxed) > 0 {
            self.inner.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_panic_while_locked_does_not_poison() {
        let lock = Arc::new(Mutex::new(1));
        let inner = lock.clone();
        let result = std::thread::spawn(move || {
            let mut guard = inner.lock();
            *guard = 2;
            panic!("inside the lock");
        })
        .join();
        assert!(result.is_err());
        assert_eq!(*lock.lock(), 2);
        assert!(lock.try_lock().is_some());
    }

    #[test]
    fn condvar_wakes_every_waiter_without_losing_a_notification() {
        // Ping-pong between threads many times: a lost wake-up would hang this test.
        let state = Arc::new((Mutex::new(0u64), Condvar::new()));
        let rounds = 20_000;
        let threads: Vec<_> = (0..2)
            .map(|parity| {
                let state = state.clone();
                std::thread::spawn(move || {
                    let (lock, cond) = &*state;
                    let mut turn = lock.lock();
                    while *turn < rounds {
                        if *turn % 2 == parity {
                            *turn += 1;
                            cond.notify_all();
                        } else {
                            turn = cond.wait(turn);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*state.0.lock(), rounds);
        assert_eq!(state.1.waiting.load(Ordering::Relaxed), 0);
    }
}
