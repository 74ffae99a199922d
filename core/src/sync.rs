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

    /// Blocks until exclusive access is held.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The guarded value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A condition variable paired with a [`Mutex`].
#[derive(Debug, Default)]
pub struct Condvar(std::sync::Condvar);

impl Condvar {
    /// A new condition variable.
    pub const fn new() -> Self {
        Self(std::sync::Condvar::new())
    }

    /// Releases `guard`, sleeps until notified (or spuriously woken), and locks again.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes every waiting thread.
    pub fn notify_all(&self) {
        self.0.notify_all();
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
    fn condvar_wakes_a_waiter() {
        let state = Arc::new((Mutex::new(false), Condvar::new()));
        let other = state.clone();
        let waiter = std::thread::spawn(move || {
            let mut ready = other.0.lock();
            while !*ready {
                ready = other.1.wait(ready);
            }
        });
        *state.0.lock() = true;
        state.1.notify_all();
        waiter.join().unwrap();
    }
}
