//! Helpers shared by the integration tests: each test file includes this module with
//! `mod common;` and uses the parts it needs.
//!
//! - [`bytes`]: short, readable forms of byte strings for failure messages;
//! - [`check`]: checks inside proptest cases that fail the case (so it shrinks) instead of
//!   panicking;
//! - [`env`]: numbers from environment variables, and the proptest settings built on them;
//! - [`format`]: pieces of the on-disk format, to craft files with;
//! - [`options`]: database options the tests open with;
//! - [`ranges`]: the kinds of `Range` a test picks, with the keys each one holds;
//! - [`rng`]: seeded randomness, so a run can be replayed from its seed;
//! - [`tempdir`]: a test directory kept when the test fails.

// Every integration test is a crate of its own and compiles this whole module, but uses only
// part of it: what one test leaves unused is used by another.
#![allow(dead_code)]

pub mod bytes;
pub mod check;
pub mod env;
pub mod format;
pub mod options;
pub mod ranges;
pub mod rng;
pub mod tempdir;
