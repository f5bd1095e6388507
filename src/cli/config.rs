//! `Cli` → [`Mode`]: validation and normalisation only (no DNS, no sockets), building the
//! `smtp::client::Plan` and the driver settings.
//!
//! TODO(cli helper): implement the conversion; the types are the contract.

use std::net::SocketAddr;
use std::time::Duration;

use crate::net::dns::{DnsOptions, Family};
use crate::net::tls::TlsParams;
use crate::render::Format;
use crate::serve::ServeOptions;
use crate::smtp::client::Plan;

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `--server host[:port]` (or an address literal from `user@[1.2.3.4]`).
    Host {
        /// Host name or IP literal (no brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// No `--server`: the MX hosts of this domain, in preference order with failover.
    Mx {
        /// Domain of the last recipient.
        domain: String,
        /// Port.
        port: u16,
    },
}

/// Everything a one-shot send needs.
#[derive(Debug, Clone)]
pub struct SendConfig {
    /// Where to connect.
    pub target: Target,
    /// `-4` / `-6`.
    pub family: Family,
    /// `--local-interface`.
    pub local: Option<SocketAddr>,
    /// Resolver settings.
    pub dns: DnsOptions,
    /// TLS settings.
    pub tls: TlsParams,
    /// Per-reply timeout (`--timeout`, default 30 s; zero = none).
    pub timeout: Duration,
    /// Per-attempt connect timeout (`--connect-timeout`, default = `timeout`).
    pub connect_timeout: Duration,
    /// The protocol plan.
    pub plan: Plan,
    /// Output.
    pub format: Format,
    /// `--dump-mail`: print the message and send nothing.
    pub dump_mail: bool,
}

/// What to run.
#[derive(Debug, Clone)]
pub enum Mode {
    /// One-shot send.
    Send(Box<SendConfig>),
    /// `ehlo serve`.
    Serve(Box<ServeOptions>),
    /// `ehlo demo`.
    Demo(Format),
}
