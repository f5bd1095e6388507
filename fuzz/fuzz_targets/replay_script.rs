//! Fuzz target `replay_script`: see `ehlo::fuzzing::replay_script` for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ehlo::fuzzing::replay_script(data));
