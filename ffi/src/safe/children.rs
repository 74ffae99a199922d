//! The children of an open database (snapshots, transactions, iterators), released when it
//! closes.
//!
//! Why: a binding's objects live as long as the host language keeps them, but closing the
//! database must free the directory's lock at once, and that needs every child's C handle gone
//! first. So each child keeps its handle in a [`Slot`] registered with the database's
//! [`Children`]; the binding's `close` takes the database out of its lock (waiting for calls in
//! flight, which later calls see gone), calls [`Children::release_all`], then closes the
//! [`Db`](crate::safe::Db). A child used afterwards finds its slot empty and reports "closed".
//!
//! The slot holds any clonable handle `H`: `Arc<T>` for most bindings, so a call in flight keeps
//! its own reference while `close` empties the slot; Python wraps it so a forked child leaks the
//! parent's handles instead of freeing them.

use std::sync::{Arc, Weak};

use lightning_db::locks::Mutex;

/// Where a child keeps its handle: emptied when the child, or its database, closes.
pub struct Slot<H> {
    handle: Mutex<Option<H>>,
}

impl<H: Clone> Slot<H> {
    /// A copy of the handle (for `Arc`, a new reference), unless the child or its database was
    /// closed.
    pub fn get(&self) -> Option<H> {
        self.handle.lock().clone()
    }
}

impl<H> Slot<H> {
    /// Drops the slot's handle; clearing twice is fine. Copies taken by [`Slot::get`] (calls in
    /// flight) stay valid until they are dropped.
    pub fn clear(&self) {
        let handle = self.handle.lock().take();
        // Dropped outside the slot's lock: releasing a C handle may take a while.
        drop(handle);
    }
}

/// A slot seen without its handle type, so one list holds every kind of child.
trait Release: Send + Sync {
    fn release(&self);
}

impl<H: Send> Release for Slot<H> {
    fn release(&self) {
        self.clear();
    }
}

/// The slots of one database's children, released together when it closes.
///
/// Only weak references are kept, so a child dropped by its host language frees its handle
/// without waiting for the database to close; the dead entries are swept out as children are
/// added, each time the list has doubled since the last sweep, which keeps adding cheap.
#[derive(Default)]
pub struct Children {
    inner: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    slots: Vec<Weak<dyn Release>>,
    /// Live children after the last cleanup: cleaning again once this doubles keeps it cheap.
    after_cleanup: usize,
}

impl Children {
    /// No children yet.
    pub fn new() -> Children {
        Children::default()
    }

    /// Makes a slot holding `handle` and registers it, to be released by [`Children::release_all`].
    pub fn adopt<H: Send + 'static>(&self, handle: H) -> Arc<Slot<H>> {
        let slot = Arc::new(Slot {
            handle: Mutex::new(Some(handle)),
        });
        let mut registry = self.inner.lock();
        if registry.slots.len() > 2 * registry.after_cleanup + 64 {
            registry.slots.retain(|c| c.strong_count() > 0);
            registry.after_cleanup = registry.slots.len();
        }
        let weak: Weak<dyn Release> = Arc::downgrade(&slot) as Weak<dyn Release>;
        registry.slots.push(weak);
        slot
    }

    /// Empties every live child's slot and forgets them all. Call it when the database is closed
    /// to further calls but not yet closed itself: no call uses a child's handle any more, and
    /// the [`Db`](crate::safe::Db) must outlive its children's handles.
    pub fn release_all(&self) {
        let slots = std::mem::take(&mut self.inner.lock().slots);
        // Released outside the registry's lock: releasing C handles may take a while.
        for child in slots.iter().filter_map(Weak::upgrade) {
            child.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A handle counting how many of its kind were dropped.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn release_all_empties_live_slots_and_spares_references_in_use() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let children = Children::new();
        let a = children.adopt(Arc::new(Counted(dropped.clone())));
        let b = children.adopt(Arc::new(Counted(dropped.clone())));
        let in_use = b.get().expect("b is open");
        // A child closed by itself before the database.
        a.clear();
        assert!(a.get().is_none());
        assert_eq!(dropped.load(Ordering::SeqCst), 1);

        children.release_all();
        assert!(b.get().is_none());
        // A call in flight keeps its own reference until it is done.
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
        drop(in_use);
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
        assert!(children.inner.lock().slots.is_empty());

        // Releasing again, or clearing a released child, is fine.
        children.release_all();
        b.clear();
        assert_eq!(dropped.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn dropped_children_are_swept_out_as_others_are_added() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let children = Children::new();
        let kept: Vec<_> = (0..10)
            .map(|_| children.adopt(Counted(dropped.clone())))
            .collect();
        for _ in 0..10_000 {
            // Dropped by its host at once: its handle goes with it.
            drop(children.adopt(Counted(dropped.clone())));
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 10_000);
        let len = children.inner.lock().slots.len();
        assert!(
            len <= 2 * kept.len() + 64 + 1,
            "{len} entries for 10 live children"
        );

        children.release_all();
        assert_eq!(dropped.load(Ordering::SeqCst), 10_010);
        assert!(kept.iter().all(|slot| slot.handle.lock().is_none()));
    }
}
