//! Everything that touches the network: the connection plan ([`route`]), the one connection
//! layer that carries it out ([`conn`]: DNS via [`dns`], TCP/socket/pipe,
//! TLS via [`tls`], DANE TLSA matching via [`dane`]), and the send's [`driver`] that pumps a
//! connection through the sans-IO `smtp::client::Session`; [`proxy`] encodes the PROXY headers the
//! session sends; [`http`] is the one HTTP/1.1 GET `ehlo check` makes (the MTA-STS policy).

pub(crate) mod conn;
pub(crate) mod dane;
pub mod dns;
mod dns_ad;
#[cfg(test)]
mod dnssec_pins;
pub(crate) mod driver;
pub(crate) mod http;
pub(crate) mod proxy;
pub(crate) mod route;
#[doc(hidden)]
pub mod testutil;
pub(crate) mod tls;
pub(crate) mod trust;
