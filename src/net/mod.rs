//! Everything that touches the network: DNS ([`dns`]), connecting ([`connect`]), TLS ([`tls`]) and
//! the async [`driver`] that pumps a transport through the sans-IO `smtp::client::Session`.

pub mod connect;
pub mod dns;
pub mod driver;
pub mod proxy;
#[doc(hidden)]
pub mod testutil;
pub mod tls;
pub(crate) mod trust;
