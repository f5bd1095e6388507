//! Fuzz target `capabilities`: see `ehlo::fuzzing::capabilities` for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ehlo::fuzzing::capabilities(data));
