//! ehlo: an SMTP debugging tool. [`run`] hands the command line to the dispatcher (`app`), which
//! gets a typed mode from `cli`, runs it and returns its exit code; everything else lives in the
//! modules below.

mod app;
pub mod check;
pub mod cli;
pub mod demo;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod net;
pub mod probe;
pub mod render;
pub mod repl;
pub mod serve;
pub mod smtp;

pub use error::Error;

/// Run ehlo with these arguments; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
    app::run(args)
}
