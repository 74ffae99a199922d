//! Lightning DB: an embedded, transactional key-value database.
//!
//! Writes go to a write-ahead log (group commit, CRC32C records) and an in-memory ordered table;
//! a background merge writes them into a copy-on-write B+tree page file. Reads see the memtables
//! over the tree as of one sequence number, so snapshots and iterators never block writers.
//!
//! ```
//! use lightning_db::{Database, Options, Range, WriteBatch};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = Database::open(dir.path(), Options::default())?;
//! db.put(b"hello", b"world")?;
//! assert_eq!(db.get(b"hello")?, Some(b"world".to_vec()));
//!
//! let mut batch = WriteBatch::new();
//! batch.put(b"a", b"1").put(b"b", b"2").delete(b"hello");
//! db.write(&batch)?; // atomic
//!
//! let keys: Vec<Vec<u8>> = db
//!     .iter(Range::all())?
//!     .map(|entry| entry.map(|(k, _)| k))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(keys, vec![b"a".to_vec(), b"b".to_vec()]);
//! db.close()?;
//! # Ok::<(), lightning_db::Error>(())
//! ```

mod batch;
mod btree;
mod checksum;
mod codec;
mod db;
mod durability;
mod engine;
mod error;
mod fork;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod iterator;
mod key_order;
mod limits;
pub mod locks;
mod memtable;
mod options;
mod pinned;
mod range;
mod snapshot;
mod stats;
pub mod storage;
mod txn;
mod wal;

pub use batch::{WriteBatch, MAX_BATCH_BYTES, MAX_BATCH_OPS};
pub use codec::{Compression, Encryption, Kdf};
pub use db::Database;
pub use durability::Durability;
pub use engine::{BulkLoad, VerifyReport};
pub use error::{Error, ErrorCode, Result};
pub use iterator::{Cursor, Iter};
pub use limits::{check_key_len, check_value_len, MAX_KEY_SIZE, MAX_VALUE_SIZE};
pub use options::Options;
pub use options::Secret;
pub use pinned::PinnedValue;
pub use range::Range;
pub use snapshot::Snapshot;
pub use stats::Stats;
pub use txn::{Isolation, Transaction, TransactionOptions};

/// The version of this library.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
