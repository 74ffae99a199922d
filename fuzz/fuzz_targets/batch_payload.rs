//! Fuzz target `batch_payload`: see `lightning_db::fuzzing::batch_payload` for the input's layout.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lightning_db::fuzzing::batch_payload(data));
