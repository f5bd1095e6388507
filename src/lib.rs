//! ehlo: an SMTP debugging tool. [`run`] hands the command line to the dispatcher (`app`), which
//! gets a typed mode from `cli`, runs it and returns its exit code; everything else lives in the
//! modules below.

mod app;
pub(crate) mod check;
pub mod cli;
pub(crate) mod coredump;
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
pub(crate) mod suggest;

pub(crate) use error::Error;

/// The `ehlo` binary's first call, before [`run`]: when these arguments make it the launcher of
/// a `--pipe` command, or of a program started with the user's core-dump limit (ehlo runs
/// itself for those), it becomes that command and never returns.
pub fn pipe_launcher(args: &[std::ffi::OsString]) {
    coredump::exec_launcher(args);
    net::conn::pipe_launcher(args)
}

/// Run ehlo with these arguments; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
    app::run(args)
}
