//! The engines under test, behind one small trait.
//!
//! Every engine is opened fresh in its own directory, is shared by reference between the
//! threads of a workload (`Engine: Send + Sync`), and is configured as its own documentation
//! recommends for speed. Durability is chosen per write (`sync`), and every engine maps it to
//! its own knob:
//!
//! | engine      | buffered write (`sync = false`)          | durable write (`sync = true`)         |
//! |-------------|------------------------------------------|---------------------------------------|
//! | lightning   | `Durability::Buffered`                   | `Durability::Sync` (group commit)     |
//! | lightning-c | `LDB_DURABILITY_BUFFERED` (the C ABI)    | `LDB_DURABILITY_SYNC` (group commit)  |
//! | lmdb        | env flag `NO_SYNC` on                    | default flags (fdatasync on commit)   |
//! | redb        | `Durability::None`                       | `Durability::Immediate`               |
//! | fjall       | journal default (flushed to the OS only) | then `persist(PersistMode::SyncData)` |
//!
//! Read-modify-write transactions ([`Engine::read_modify_write`]) are always buffered, as above.

mod engine;
pub mod fjall;
mod kind;
pub mod lightning;
pub mod lightning_c;
pub mod lmdb;
pub mod redb;

pub use engine::{
    bump_counter, rmw_key_not_found, set_value_size, touch, value_size, BoxError, Engine, Key,
    Reader, Result, Value, CACHE_BYTES, DEFAULT_VALUE_SIZE, KEY_LEN, LMDB_MAP_SIZE, MIN_VALUE_SIZE,
};
pub use kind::EngineKind;
