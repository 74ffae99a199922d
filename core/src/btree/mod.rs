//! The copy-on-write B+tree page file: page layouts, the pager and its cache, point reads (with
//! hints for hot keys, `hints.rs`), writing sorted changes into a new tree copy-on-write
//! (`writer.rs`), moving it out of the file's tail (`relocate.rs`), cursors, and the structural
//! check.

pub(crate) mod alloc;
pub(crate) mod cache;
pub(crate) mod check;
pub(crate) mod cursor;
pub(crate) mod extents;
pub(crate) mod freelist;
pub(crate) mod hints;
pub(crate) mod meta;
pub(crate) mod node;
pub(crate) mod page;
pub(crate) mod pager;
mod relocate;
pub(crate) mod tree;
pub(crate) mod writer;
