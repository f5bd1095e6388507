//! The sans-IO SMTP core: bytes in → bytes and events out. No tokio, no sockets, no clock and no
//! printing here (the boundary test in `tests/cli/boundary.rs` enforces it); the driver in
//! `crate::net::driver` pumps a transport through these types.
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]
#![warn(missing_docs)]

pub mod auth;
pub mod capabilities;
pub mod client;
pub mod codes;
pub mod command;
pub mod data;
pub mod event;
pub mod explain;
pub mod ext;
pub mod manual;
#[cfg(test)]
mod pair;
pub mod reply;
pub(crate) mod rng;
mod sent;
pub mod server;
