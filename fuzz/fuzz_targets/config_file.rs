//! Fuzz target `config_file`: see `ehlo::fuzzing::config_file` for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ehlo::fuzzing::config_file(data));
