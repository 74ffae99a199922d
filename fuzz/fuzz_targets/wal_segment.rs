//! Fuzz target `wal_segment`: see `lightning_db::fuzzing::wal_segment` for the input's layout.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lightning_db::fuzzing::wal_segment(data));
