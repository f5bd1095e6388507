//! Fuzz target `reply`: see `ehlo::fuzzing::reply` for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ehlo::fuzzing::reply(data));
