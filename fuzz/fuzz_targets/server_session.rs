//! Fuzz target `server_session`: see `ehlo::fuzzing::server_session` for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ehlo::fuzzing::server_session(data));
