//! ehlo: an SMTP debugging tool. [`run`] hands the command line to the dispatcher (`app`), which
//! gets a typed mode from `cli`, runs it and returns its exit code; everything else lives in the
//! modules below.

mod app;
pub(crate) mod check;
pub mod cli;
pub(crate) mod demo;
pub(crate) mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod net;
pub(crate) mod probe;
pub mod render;
pub(crate) mod repl;
pub mod serve;
pub mod smtp;

pub(crate) use error::Error;

/// Run ehlo with these arguments; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
    app::run(args)
}
