//! Fuzz target `meta_page`: see `lightning_db::fuzzing::meta_page` for the input's layout.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lightning_db::fuzzing::meta_page(data));
