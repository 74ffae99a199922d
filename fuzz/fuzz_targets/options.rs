//! Fuzz target `options`: see `lightning_db::fuzzing::options` for the input's layout.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lightning_db::fuzzing::options(data));
