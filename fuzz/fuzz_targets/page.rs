//! Fuzz target `page`: see `lightning_db::fuzzing::page` for the input's layout.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lightning_db::fuzzing::page(data));
