//! The engine's side of a transaction's life: counting it against `max_active_transactions`,
//! registering it with the conflict tracker at a snapshot, and the reverse when it ends.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::counters::Counters;
use super::state::Engine;
use super::version::Version;
use crate::error::{Error, ErrorCode, Result};

impl Engine {
    /// Counts a transaction in and picks the view it reads: the version and the sequence number
    /// of its snapshot. A read-write one (`registered`) is also registered with the conflict
    /// tracker. Fails with `BUSY` when `max_active_transactions` are open already. Every
    /// successful call must be matched by one [`Engine::end_transaction`].
    pub fn begin_transaction(&self, registered: bool) -> Result<(Arc<Version>, u64)> {
        self.check_open()?;
        let limit = self.options.max_active_transactions as usize;
        if self.open_transactions.fetch_add(1, Ordering::AcqRel) >= limit {
            self.open_transactions.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::new(
                ErrorCode::Busy,
                format!(
                    "{limit} transactions are open, the limit set by option \
                     max_active_transactions; commit or roll back one first"
                ),
            ));
        }
        let view = if registered {
            self.registered_view()
        } else {
            Ok(self.read_view())
        };
        if view.is_err() {
            self.open_transactions.fetch_sub(1, Ordering::AcqRel);
        }
        view
    }

    /// Counts out a transaction that began at sequence `start`.
    pub fn end_transaction(&self, start: u64, registered: bool, committed: bool) {
        if self.inherited_by_fork() {
            return; // the parent's bookkeeping, behind locks a parent thread may have held
        }
        if registered {
            self.conflicts.lock().end(start);
        }
        self.open_transactions.fetch_sub(1, Ordering::AcqRel);
        let counter = if committed {
            &self.counters.transactions_committed
        } else {
            &self.counters.transactions_rolled_back
        };
        Counters::add(counter, 1);
    }

    /// The view a read-write transaction reads, registered with the conflict tracker at a
    /// snapshot no unrecorded write is newer than.
    fn registered_view(&self) -> Result<(Arc<Version>, u64)> {
        let mut waited = 0u32;
        loop {
            self.check_writable()?;
            {
                let mut conflicts = self.conflicts.lock();
                let (version, start) = self.read_view();
                if conflicts.begin(start) {
                    return Ok((version, start));
                }
            }
            // A write made while no transaction was open is still on its way into the memtable
            // (at most one group commit): wait for it to become visible.
            waited += 1;
            if waited < 64 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
        }
    }
}
