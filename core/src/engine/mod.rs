//! The engine below the public handle (LevelDB's `DBImpl` to our `db.rs`): the shared state
//! ([`Engine`]), opening and recovery, the commit leader, the background merge, the conflict
//! tracker of transactions, and `verify`. Arrows run from the facade (`db.rs`, `snapshot.rs`,
//! `txn/`, `iterator/`, `stats.rs`) down into this folder, never back up.

mod bulk_load;
pub(crate) mod commit;
pub(crate) mod compact;
mod conflicts;
mod counters;
mod generation;
pub(crate) mod merge;
mod open;
mod recovery;
mod state;
mod transactions;
mod verify;
mod version;

pub use bulk_load::BulkLoad;
pub(crate) use conflicts::ConflictCheck;
pub(crate) use generation::rekey;
pub(crate) use open::open;
pub(crate) use state::Engine;
pub(crate) use verify::verify;
pub use verify::VerifyReport;
pub(crate) use version::Version;
