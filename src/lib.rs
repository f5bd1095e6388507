//! ehlo: an SMTP debugging tool. `run` parses the command line, picks the mode and maps the result
//! to an exit code; everything else lives in the modules below.

pub mod check;
pub mod cli;
pub mod demo;
pub mod error;
pub mod net;
pub mod render;
pub mod repl;
pub mod serve;
pub mod smtp;

pub use error::Error;

/// Run ehlo with these arguments; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
    cli::run(args)
}
