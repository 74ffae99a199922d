//! Transactions: [`Transaction`] (one snapshot, buffered writes, an optimistic conflict check at
//! commit), how they begin ([`TransactionOptions`], [`Isolation`]), and running a closure in one
//! again on conflict.

mod options;
mod retry;
mod transaction;

pub use options::{Isolation, TransactionOptions};
pub(crate) use retry::run_with_retries;
pub use transaction::Transaction;
