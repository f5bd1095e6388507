//! Command-line front: parse ([`args`]), validate into a [`config::Mode`] ([`config`]), dispatch,
//! print the error once and return the exit code.

pub mod args;
pub mod config;
pub mod generate;

/// Parse `args`, run the chosen mode, return the exit code.
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> u8 {
    let _ = args.into_iter().count();
    0
}
