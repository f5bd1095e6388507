//! Fuzz target `data_reader`: see `ehlo::fuzzing::data_reader` for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ehlo::fuzzing::data_reader(data));
