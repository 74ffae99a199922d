//! Fuzz target `open_page_file`: see `lightning_db::fuzzing::open_page_file` for the input's layout.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lightning_db::fuzzing::open_page_file(data));
