//! [`Durability`]: how durable a write is when the call returns (`ldb_durability`).

use crate::{ldb_durability, LDB_DURABILITY_BUFFERED, LDB_DURABILITY_DEFAULT, LDB_DURABILITY_SYNC};

/// How durable a write is when the call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The database's option `sync`.
    #[default]
    Default,
    Sync,
    Buffered,
}

impl Durability {
    pub(super) fn raw(self) -> ldb_durability {
        match self {
            Durability::Default => LDB_DURABILITY_DEFAULT,
            Durability::Sync => LDB_DURABILITY_SYNC,
            Durability::Buffered => LDB_DURABILITY_BUFFERED,
        }
    }
}
