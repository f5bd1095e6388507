//! Fuzz target `command`: see `ehlo::fuzzing::command` for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ehlo::fuzzing::command(data));
