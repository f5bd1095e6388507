//! The server side of SMTP for `ehlo serve` and the tests: a sans-IO `Session` that reads command
//! lines and message content and writes replies, with deterministic fault injection.
//!
//! TODO(serve helper): implement.
