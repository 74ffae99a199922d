//! The native half of the npm package `lightning-db`: Lightning DB for Node.js, built with
//! napi-rs on the C ABI through its safe wrapper (`lightning::safe`), never on the engine.
//!
//! The JavaScript layer (`index.js`) is the public API: it checks argument types, turns strings
//! into UTF-8 bytes and option objects into option names, and builds iterators and the
//! transaction retry loop on the small classes exported here (`NativeDb`, `NativeSnapshot`,
//! `NativeTxn`, `NativeBulkLoad`, `NativeIter`). Every error thrown from here is an `Error`
//! whose `code` is `LDB_<NAME>` (`LDB_CONFLICT`, `LDB_CLOSED`, ...), with the engine's message.

// The tests are the Node suite (test/, `npm test`). In a Rust test build napi-rs leaves out the
// glue that registers the exports, so the functions only they reach look unused there.
#![cfg_attr(test, allow(dead_code))]

mod bulk_load;
mod convert;
mod database;
mod errors;
mod fast;
mod iter;
mod snapshot;
mod state;
mod tasks;
mod txn;

use napi_derive::napi;

/// The version of the Lightning DB library this module was built with.
#[napi(catch_unwind)]
pub fn version() -> String {
    lightning::safe::version().to_string()
}
