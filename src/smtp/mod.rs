//! The sans-IO SMTP core: bytes in → bytes and events out. No tokio, no sockets, no clock and no
//! printing here (the boundary test in `tests/cli/boundary.rs` enforces it); the driver in
//! `crate::net::driver` pumps a transport through these types.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]
#![warn(missing_docs)]

pub(crate) mod auth;
pub(crate) mod capabilities;
pub(crate) mod client;
pub(crate) mod codes;
pub(crate) mod command;
pub(crate) mod data;
pub(crate) mod escape;
pub mod event;
pub mod explain;
pub(crate) mod ext;
pub(crate) mod manual;
mod outbox;
pub(crate) use outbox::Transmit;
#[cfg(test)]
mod pair;
pub(crate) mod quit;
pub(crate) mod reply;

/// Most bytes a session's `feed` adds to its input buffer at once (what the drivers read at a
/// time): the rest of a larger call waits until that much has been used. Every line or reply
/// taken from the buffer moves what follows it, so a caller handing over megabytes in one call
/// made the work grow with the square of the call's size; piece by piece it grows with the
/// bytes.
pub(crate) const FEED_PIECE: usize = 16 * 1024;
pub mod rng;
pub mod server;
