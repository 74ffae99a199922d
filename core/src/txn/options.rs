//! [`TransactionOptions`] and [`Isolation`]: how a transaction begins.

use crate::durability::Durability;

/// How strictly a transaction is kept apart from concurrent ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Isolation {
    /// Reads see the snapshot taken when the transaction began; the commit fails if another
    /// commit since then wrote a key this one writes (no lost updates). Write skew is possible.
    #[default]
    Snapshot,
    /// As `Snapshot`, and the commit also fails if another commit since the transaction began
    /// wrote a key it read, or a key inside a range its iterators covered (phantoms included).
    /// Committed transactions are then equivalent to running one at a time, in commit order.
    Serializable,
}

/// How to begin a transaction: a builder with the defaults of [`TransactionOptions::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionOptions {
    pub(super) read_only: bool,
    pub(super) isolation: Isolation,
    pub(super) durability: Option<Durability>,
    max_retries: u32,
}

impl Default for TransactionOptions {
    fn default() -> TransactionOptions {
        TransactionOptions::new()
    }
}

impl TransactionOptions {
    /// Read-write, snapshot isolation, the database's default durability (option `sync`), and
    /// 16 retries in [`Database::transaction_with`](crate::Database::transaction_with).
    pub fn new() -> TransactionOptions {
        TransactionOptions {
            read_only: false,
            isolation: Isolation::Snapshot,
            durability: None,
            max_retries: 16,
        }
    }

    /// A read-only transaction never conflicts; writing in it fails with `READ_ONLY`.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// The isolation level (default [`Isolation::Snapshot`]).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// How durable the commit is when it returns (default: the database's option `sync`).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = Some(durability);
        self
    }

    /// How many times the retry helper runs the closure again after a conflict (default 16).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    pub(crate) fn retries(&self) -> u32 {
        self.max_retries
    }
}
