//! A safe Rust wrapper over this crate's C ABI, shared by the Python, Node and Java bindings so
//! none of them repeats the unsafe glue (DESIGN §1). Handles free themselves on drop; statuses
//! become [`Error`]s carrying the status and the message. Everything goes through the same
//! `extern "C"` functions a C program calls.
//!
//! One file per handle, named as the C ABI's file for it (`db.rs` wraps `ldb_db`, `iter.rs`
//! wraps `ldb_iter` and `ldb_range`, …); `args.rs` holds what crosses the boundary (strings in,
//! copied values and texts out), as the C ABI's `args.rs` does from the other side.

mod args;
mod batch;
mod bulk_load;
mod children;
mod chunked;
mod db;
mod durability;
mod error;
mod iter;
mod options;
mod pinned;
mod snapshot;
mod txn;
mod version;

/// Fork-safe, poison-free locks for the bindings' own state (see the module's notes).
pub use lightning_db::locks;

pub use batch::Batch;
pub use bulk_load::BulkLoad;
pub use children::{Children, Slot};
pub use chunked::Chunked;
pub use db::{Db, ReadInto};
pub use durability::Durability;
pub use error::{Error, Result};
pub use iter::{Iter, KeyRange};
pub use pinned::Pinned;
pub use snapshot::Snapshot;
pub use txn::{Isolation, Txn};
pub use version::version;
