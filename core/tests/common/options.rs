//! Database options the tests open with.

use lightning_db::Options;

/// The defaults with the smallest memtable allowed (64 KiB), so that a few writes fill it and
/// start a background merge.
pub fn small_options() -> Options {
    Options {
        memtable_size: 64 << 10,
        ..Options::default()
    }
}
