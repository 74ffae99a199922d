//! The JNI library behind the Java package `io.lightningdb` (Maven `io.lightningdb:lightning-db`).
//!
//! Built on the safe wrapper over Lightning DB's C ABI (`lightning::safe`), never on the engine
//! itself (DESIGN §1). The Java classes hold a `long` handle: a `Box::into_raw` pointer to one
//! of this crate's structs (see [`state`]). Every entry point runs inside [`errors::run`], which
//! turns errors into `io.lightningdb.LightningDbException` subclasses and panics into `INTERNAL`
//! ones, so neither an error nor a panic crosses into the JVM as undefined behaviour.
//!
//! Lifetimes, in short: `close()` on the Java side releases the engine's handle at once (through
//! a lock that waits for calls in flight); the small struct the `long` points to is freed only
//! by the Java object's `Cleaner`, once no Java code can reach the object, so a call racing a
//! `close()` never touches freed memory.

mod bulk_load;
mod bytes;
mod db;
mod errors;
mod iter;
mod snapshot;
mod state;
mod txn;
