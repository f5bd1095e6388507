//! Everything that touches the network: the connection plan ([`route`]), the one connection
//! layer that carries it out ([`conn`]: DNS via [`dns`], TCP/socket/pipe,
//! TLS via [`tls`], DANE TLSA matching via [`dane`]), and the send's [`driver`] that pumps a
//! connection through the sans-IO `smtp::client::Session`; [`proxy`] encodes the PROXY headers the
//! session sends.

pub mod conn;
pub mod dane;
pub mod dns;
mod dns_ad;
pub mod driver;
pub mod proxy;
pub mod route;
#[doc(hidden)]
pub mod testutil;
pub mod tls;
pub(crate) mod trust;
