//! DNS with hickory-resolver: MX lookup in preference order, implicit MX (RFC 5321 §5.1), null MX
//! (RFC 7505), A/AAAA for a host, and `--dns-server IP[:port]`.
//!
//! TODO(net helper): implement; the types and signatures are the contract.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Which address families to use (`-4`, `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Both, IPv6 first as the resolver returns them.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

/// Resolver settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsOptions {
    /// Use this server instead of the system's (`--dns-server`).
    pub server: Option<SocketAddr>,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Retries after the first try.
    pub attempts: usize,
}

impl Default for DnsOptions {
    fn default() -> Self {
        DnsOptions {
            server: None,
            timeout: Duration::from_secs(5),
            attempts: 1,
        }
    }
}

/// One mail exchanger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mx {
    /// Preference (lower first).
    pub preference: u16,
    /// Exchange host name, without the trailing dot.
    pub host: String,
}

/// Where mail for a domain goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// MX records, sorted by preference (ties keep the server's order).
    Mx(Vec<Mx>),
    /// No MX records: the domain itself is the implicit MX (RFC 5321 §5.1).
    Implicit,
}

/// DNS failures.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DnsError {
    /// The domain publishes a null MX (`MX 0 .`, RFC 7505): it accepts no mail.
    #[error("{0} publishes a null MX (RFC 7505): it accepts no mail")]
    NullMx(String),
    /// The name does not exist.
    #[error("{0} does not exist (NXDOMAIN)")]
    NxDomain(String),
    /// The name has no address records of the wanted family.
    #[error("{name} has no {family} address")]
    NoAddress {
        /// Host.
        name: String,
        /// "A", "AAAA" or "A/AAAA".
        family: &'static str,
    },
    /// The resolver could not be built or a query failed.
    #[error("DNS lookup of {name} failed: {reason}")]
    Failed {
        /// Name asked for.
        name: String,
        /// Why.
        reason: String,
    },
}

/// A resolver built once per run.
pub struct Resolver {
    _private: (),
}

impl Resolver {
    /// Build from options (system configuration unless `server` is set).
    pub fn new(opts: &DnsOptions) -> Result<Resolver, DnsError> {
        let _ = opts;
        todo!("net helper")
    }
    /// MX records of `domain` (sorted), `Implicit` when there are none, `NullMx` for RFC 7505.
    pub async fn mx(&self, domain: &str) -> Result<MxAnswer, DnsError> {
        let _ = domain;
        todo!("net helper")
    }
    /// Addresses of `host` for `family` (literals returned as they are).
    pub async fn addresses(&self, host: &str, family: Family) -> Result<Vec<IpAddr>, DnsError> {
        let _ = (host, family);
        todo!("net helper")
    }
}
