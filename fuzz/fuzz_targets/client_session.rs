//! Fuzz target `client_session`: see `ehlo::fuzzing::client_session` for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ehlo::fuzzing::client_session(data));
