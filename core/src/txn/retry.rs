//! Running a closure in a transaction, again on conflict.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use super::{Transaction, TransactionOptions};
use crate::engine::Engine;
use crate::error::{ErrorCode, Result};

/// Begins a transaction, runs `f` in it and commits. On `CONFLICT` (from `f` or the commit) it
/// starts over, up to `options.max_retries` more times, after a short random pause that grows
/// with each attempt so that colliding transactions drift apart. Any other error rolls back and
/// is returned as is.
pub(crate) fn run_with_retries<R>(
    engine: &Arc<Engine>,
    options: &TransactionOptions,
    mut f: impl FnMut(&Transaction) -> Result<R>,
) -> Result<R> {
    let mut attempt = 0;
    loop {
        let txn = Transaction::begin(engine, options)?;
        let result = f(&txn).and_then(|value| txn.commit().map(|()| value));
        match result {
            Err(e) if e.code() == ErrorCode::Conflict && attempt < options.retries() => {
                attempt += 1;
                std::thread::sleep(backoff(attempt));
            }
            other => return other,
        }
    }
}

/// A random pause of up to 10 µs × 2^attempt, capped at about 10 ms.
fn backoff(attempt: u32) -> Duration {
    let ceiling_micros = 10u64 << attempt.min(10);
    // A fresh `RandomState` is seeded randomly: enough jitter without a random-number crate.
    let jitter = RandomState::new().hash_one(attempt);
    Duration::from_micros(jitter % ceiling_micros + 1)
}
